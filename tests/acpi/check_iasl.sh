#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check_iasl.sh DUMPER WORK_DIR
#     Check the ACPI tables hvlib builds with ACPICA's tools (Debian package
#     acpica-tools), for a 4-vCPU and a 255-vCPU machine:
#      1. iasl -d disassembles XSDT, FACP, APIC, DSDT and an SSDT without a
#         warning, error or bad checksum (iasl exits 0 even then, so its
#         output is searched), and the disassembly says what it should;
#      2. iasl compiles each disassembly back (warnings as errors, no
#         optimisations) into the same bytes, except the compiler id and
#         revision, the header checksum, and resource end-tag checksums,
#         which iasl leaves 0 where hvlib computes them;
#      3. acpiexec loads the tables and evaluates \_S5_ and every device's
#         _HID, _UID and _CRS without a warning.
#     The RSDP is not checked here: this iasl cannot read one from a binary
#     (the unit tests check it).  Exits 77 (skipped) without iasl.
set -u

dumper=$1 work=$2
status=0

if ! command -v iasl >/dev/null 2>&1; then
	echo "SKIP: iasl not found (apt-get install acpica-tools): ACPI tables not checked" \
		"with ACPICA" >&2
	exit 77
fi

fail() {
	echo "FAIL: $*" >&2
	status=1
}

# Messages with which iasl and acpiexec report trouble they survived.
trouble() {
	grep -n -i -E 'warning|error|incorrect|invalid|unknown|\*\*\*\*|AE_[A-Z]' "$@" |
		grep -v -E 'AE_OK|0 Errors, 0 Warnings'
}

# Compare our table with iasl's recompilation of its disassembly.
compare() {
	ours=$1 theirs=$2 aml=$3
	if [ "$(wc -c <"$ours")" -ne "$(wc -c <"$theirs")" ]; then
		fail "$theirs: $(wc -c <"$theirs") bytes, ours $(wc -c <"$ours")"
		return
	fi
	# cmp -l: 1-based offset, then both bytes in octal.
	cmp -l "$ours" "$theirs" | while read -r off a b; do
		case $off in
		10 | 29 | 30 | 31 | 32 | 33 | 34 | 35 | 36) continue ;;
		esac
		if [ "$aml" = aml ] && [ "$b" = 0 ]; then
			prev=$(od -An -tx1 -j $((off - 2)) -N1 "$ours" | tr -d ' \n')
			[ "$prev" = 79 ] && continue
		fi
		echo "byte $off: hvlib $a, iasl $b (octal)"
	done >"$theirs.diff"
	if [ -s "$theirs.diff" ]; then
		fail "$theirs differs from $ours:"
		head -20 "$theirs.diff" >&2
	fi
}

expect() {
	file=$1 pattern=$2
	grep -q -E "$pattern" "$file" || fail "$file does not contain /$pattern/"
}

check_machine() {
	cpus=$1 dir=$work/cpus$cpus
	mkdir -p "$dir" || exit 1
	if ! "$dumper" "$dir" "$cpus"; then
		fail "$dumper $dir $cpus"
		return
	fi
	cd "$dir" || exit 1
	for t in xsdt facp apic dsdt ssdt; do
		iasl -d "$t.dat" >"$t.disasm.log" 2>&1 || fail "iasl -d $t.dat (cpus $cpus)"
		if trouble "$t.disasm.log" "$t.dsl" >"$t.trouble"; then
			fail "iasl -d $t.dat reports trouble (cpus $cpus):"
			cat "$t.trouble" >&2
		fi
		mkdir -p re
		cp "$t.dsl" "re/$t.dsl"
		if ! (cd re && iasl -we -oa -p "$t" "$t.dsl" >"$t.compile.log" 2>&1); then
			fail "iasl cannot compile its disassembly of $t.dat back (cpus $cpus):"
			cat "re/$t.compile.log" >&2
			continue
		fi
		case $t in
		dsdt | ssdt) compare "$t.dat" "re/$t.aml" aml ;;
		*) compare "$t.dat" "re/$t.aml" data ;;
		esac
	done

	expect dsdt.dsl 'Device \(COM1\)'
	expect dsdt.dsl 'Name \(_HID, EisaId \("PNP0501"\)'
	expect dsdt.dsl 'Name \(_HID, "LNRO0005"\)'
	expect dsdt.dsl 'Interrupt \(ResourceConsumer, Edge, ActiveHigh, Exclusive'
	expect dsdt.dsl 'Interrupt \(ResourceConsumer, Level, ActiveLow, Shared'
	expect dsdt.dsl 'QWordMemory \(ResourceConsumer'
	expect dsdt.dsl 'Name \(\\_S5, Package \(0x04\)'
	expect facp.dsl 'Hardware Reduced \(V5\) : 1'
	expect facp.dsl 'Reset Register Supported \(V2\) : 1'
	expect facp.dsl 'Revision : 06'
	expect facp.dsl 'Address : 00000000000003C0'
	expect facp.dsl 'Address : 00000000000003C1'
	expect facp.dsl 'Address : 00000000000003C2'
	n=$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' apic.dsl)
	[ "$n" -eq "$cpus" ] || fail "apic.dsl: $n local APICs, expected $cpus"
	expect apic.dsl 'Subtable Type : 01 \[I/O APIC\]'
	expect apic.dsl 'Interrupt Input LINT : 01'
	n=$(grep -c 'ACPI Table Address' xsdt.dsl)
	[ "$n" -eq 3 ] || fail "xsdt.dsl: $n entries, expected 3 (FACP, APIC, SSDT)"

	if command -v acpiexec >/dev/null 2>&1; then
		cmds='evaluate \_S5_'
		for d in COM1 VR00 VR01 D002 TST0; do
			cmds="$cmds; evaluate \\_SB.$d._HID; evaluate \\_SB.$d._UID"
			cmds="$cmds; evaluate \\_SB.$d._CRS"
		done
		timeout 120 acpiexec -b "$cmds" dsdt.dat ssdt.dat facp.dat apic.dat \
			>acpiexec.log 2>&1 || fail "acpiexec failed (cpus $cpus)"
		if trouble acpiexec.log >acpiexec.trouble; then
			fail "acpiexec reports trouble (cpus $cpus):"
			cat acpiexec.trouble >&2
		fi
		expect acpiexec.log '\[Package\] Contains 4 Elements'
		n=$(grep -c 'Evaluation of .* returned object' acpiexec.log)
		[ "$n" -eq 16 ] || fail "acpiexec: $n of 16 evaluations returned an object"
	else
		echo "NOTE: acpiexec not found: namespace evaluation not checked" >&2
	fi
	cd "$work" || exit 1
}

rm -rf "$work"
mkdir -p "$work" || exit 1
check_machine 4
check_machine 255

# The checks must be able to fail: a table with a bad checksum is caught.
cd "$work" || exit 1
cp cpus4/apic.dat broken.dat
printf '\001' | dd of=broken.dat bs=1 seek=9 conv=notrunc 2>/dev/null
iasl -d broken.dat >broken.log 2>&1
trouble broken.log broken.dsl >/dev/null || fail "a corrupted MADT went unnoticed by the check"

[ $status -eq 0 ] && echo "OK: iasl (and acpiexec) accept hvlib's ACPI tables for 4 and 255 vCPUs"
exit $status
