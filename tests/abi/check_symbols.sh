#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check_symbols.sh symbols LIB NM READELF
#     Fails if LIB exports a symbol outside the hv_ prefix (the version node
#     HVLIB_0, an absolute symbol, is allowed and required) or if its SONAME
#     is not libhvlib.so.<major>.
# check_symbols.sh headers LIB NM HEADER_DIR
#     Fails unless the hv_ symbols LIB exports are exactly the HV_EXPORT
#     functions declared in HEADER_DIR/*.h: nothing internal leaks and
#     nothing public is missing.
set -u

mode=$1 lib=$2 nm=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# "addr T hv_x@@HVLIB_0" -> "hv_x"; newer nm appends the symbol version.
if ! "$nm" -D --defined-only "$lib" >"$tmp/nm.out"; then
	echo "FAIL: $nm -D --defined-only $lib failed" >&2
	exit 1
fi
awk 'NF >= 3 { print $3 }' "$tmp/nm.out" | sed 's/@.*//' | sort -u >"$tmp/exported"

case $mode in
symbols)
	readelf=$4
	status=0
	if ! grep -qx 'hv_version' "$tmp/exported"; then
		echo "FAIL: hv_version is not exported; is this libhvlib.so?" >&2
		status=1
	fi
	if ! grep -qx 'HVLIB_0' "$tmp/exported"; then
		echo "FAIL: no HVLIB_0 version node: was src/hvlib.map applied?" >&2
		status=1
	fi
	grep -v -e '^hv_' -e '^HVLIB_0$' "$tmp/exported" >"$tmp/leaked"
	if [ -s "$tmp/leaked" ]; then
		echo "FAIL: symbols exported outside the hv_ prefix:" >&2
		sed 's/^/  /' "$tmp/leaked" >&2
		status=1
	fi
	soname=$("$readelf" -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
	if [ "$soname" != "libhvlib.so.0" ]; then
		echo "FAIL: SONAME is '$soname', expected libhvlib.so.0" >&2
		status=1
	fi
	count=$(grep -c '^hv_' "$tmp/exported")
	[ $status -eq 0 ] && echo "OK: $count hv_ symbols exported, SONAME $soname"
	exit $status
	;;
headers)
	hdrdir=$4
	# Declarations may span lines; the name is what precedes the first '('.
	cat "$hdrdir"/*.h | tr '\n' ' ' | grep -oE 'HV_EXPORT[^;{}(]*\(' |
		grep -oE 'hv_[A-Za-z0-9_]+[[:space:]]*\($' | tr -d ' (\t' | sort -u >"$tmp/declared"
	grep '^hv_' "$tmp/exported" >"$tmp/exported_hv"
	if [ ! -s "$tmp/declared" ]; then
		echo "FAIL: found no HV_EXPORT declarations in $hdrdir" >&2
		exit 1
	fi
	status=0
	comm -23 "$tmp/exported_hv" "$tmp/declared" >"$tmp/undeclared"
	comm -13 "$tmp/exported_hv" "$tmp/declared" >"$tmp/missing"
	if [ -s "$tmp/undeclared" ]; then
		echo "FAIL: exported but not declared HV_EXPORT in a public header:" >&2
		sed 's/^/  /' "$tmp/undeclared" >&2
		status=1
	fi
	if [ -s "$tmp/missing" ]; then
		echo "FAIL: declared HV_EXPORT but not exported (undefined or hidden):" >&2
		sed 's/^/  /' "$tmp/missing" >&2
		status=1
	fi
	[ $status -eq 0 ] && echo "OK: $(wc -l <"$tmp/declared") public functions, all exported"
	exit $status
	;;
*)
	echo "usage: $0 symbols|headers LIB NM READELF|HEADER_DIR" >&2
	exit 2
	;;
esac
