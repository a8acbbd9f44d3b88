#!/bin/sh
# SPDX-License-Identifier: MIT
#
# update-baseline.sh [BUILD_DIR]
#     Deliberately re-pin hvlib's ABI after a change the ABI rules allow (or
#     a new soname): regenerate the layout asserts (src/util/abi_layout.c)
#     with the compiler, rebuild, and write the abidw baseline of
#     BUILD_DIR/libhvlib.so.0 (default: build) to tests/abi/libhvlib.so.0.abi.
#     Shows what changed against the old baseline first.  Commit both files.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
baseline=$top/tests/abi/libhvlib.so.0.abi

python3 "$top/tests/abi/gen_layout.py" "${cc:-cc}" "$top/include" "$top/src/util/abi_layout.c"
cmake --build "$build" --target hvlib -j2 >/dev/null
lib=$build/libhvlib.so.0
if [ -f "$baseline" ]; then
	echo "Changes against the old baseline:"
	python3 "$top/tests/abi/check_abidiff.py" "$baseline" "$lib" "$top/include/hvlib" || true
fi
# The options check_abidiff.py uses for the fresh side.  --short-locs: file
# names without the checkout's path, so the baseline compares the same from
# any directory.  --exported-interfaces-only: without it abidw 2.2 ties only
# some exported functions to their DWARF, and the others' signatures would
# go unchecked.
abidw --headers-dir "$top/include/hvlib" --exported-interfaces-only --drop-private-types --no-corpus-path \
	--no-comp-dir-path --short-locs --out-file "$baseline" "$lib"
echo "wrote $baseline and src/util/abi_layout.c"
