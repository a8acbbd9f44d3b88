#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_abidiff.py BASELINE LIB HEADER_DIR

Compare LIB (a fresh libhvlib.so.0 with debug info) against the ABI baseline
kept in the tree (tests/abi/update-baseline.sh writes it), looking only at
types of HEADER_DIR.  Allowed: new functions, members appended at the end of
a struct, new enumerators (and the *_COUNT sentinel that follows them).
Anything else abidiff reports fails: a removed or changed function, a member
inserted, moved, removed or retyped, any other type change.

abidiff's own suppression for appended members (has_data_member_inserted_at
= end) is not used: libabigail 2.2 crashes with it on an XML-to-ELF
comparison, and it also hides retyped members.  Instead the leaf report is
read against a whitelist; a line it does not know fails the test.
Exit 77 (skipped) without abidw/abidiff (Debian: abigail-tools) or debug info.
"""
import re
import shutil
import subprocess
import sys
import tempfile

ABIDW_OPTS = ["--exported-interfaces-only", "--drop-private-types", "--no-corpus-path",
              "--no-comp-dir-path", "--short-locs"]

SUMMARY = re.compile(r"^(Leaf changes summary|Changed leaf types summary|"
                     r"Removed/Changed/Added (functions|variables) summary): ")
TYPE_HEAD = re.compile(r"^'(struct|enum) (\w+) at [^']*' changed:$")
SIZE = re.compile(r"^type size changed from (\d+) to (\d+) \(in bits\)$")
INSERTIONS = re.compile(r"^\d+ data member insertions?:$")
INSERTED = re.compile(r"^'[^']*', at offset (\d+) \(in bits\)( at .*)?$")
ENUM_INS = re.compile(r"^\d+ enumerator insertions?:$")
ENUM_VAL = re.compile(r"^'\w+::\w+' value '-?\d+'$")
ENUM_CHG = re.compile(r"^\d+ enumerator changes?:$")
COUNT_CHG = re.compile(r"^'\w+::\w+_COUNT' from value '\d+' to '\d+'( at .*)?$")


def judge(report):
    """The lines of abidiff's leaf report that break the ABI rules."""
    bad, old_bits, kind = [], None, None
    for raw in report.splitlines():
        line = raw.strip()
        if not line or SUMMARY.match(line):
            continue
        m = TYPE_HEAD.match(line)
        if m:
            kind, old_bits = m.group(1), None
            continue
        m = SIZE.match(line)
        if m and kind == "struct" and int(m.group(2)) > int(m.group(1)):
            old_bits = int(m.group(1))
            continue
        if kind == "struct" and INSERTIONS.match(line):
            continue
        m = INSERTED.match(line)
        if m and kind == "struct" and old_bits is not None and int(m.group(1)) >= old_bits:
            continue  # appended behind every published member
        if kind == "enum" and (line == "type size hasn't changed" or ENUM_INS.match(line)
                               or ENUM_VAL.match(line) or ENUM_CHG.match(line)
                               or COUNT_CHG.match(line)):
            continue
        bad.append(line)
    return bad


def main():
    baseline, lib, headers = sys.argv[1:4]
    if not shutil.which("abidw") or not shutil.which("abidiff"):
        print("SKIP: abidw/abidiff not found (apt-get install abigail-tools)")
        return 77
    sections = subprocess.run(["readelf", "-S", lib], capture_output=True, text=True).stdout
    if ".debug_info" not in sections:
        print(f"SKIP: {lib} has no debug info (build RelWithDebInfo or Debug)")
        return 77
    with tempfile.NamedTemporaryFile(suffix=".abi") as fresh:
        subprocess.run(["abidw", "--headers-dir", headers, *ABIDW_OPTS, "--out-file",
                        fresh.name, lib], check=True)
        diff = subprocess.run(["abidiff", "--leaf-changes-only", "--no-added-syms", baseline,
                               fresh.name], capture_output=True, text=True)
    # abidiff's status is a bit field: 1 error, 2 usage, 4 change, 8 incompatible.
    if diff.returncode & 3:
        print(diff.stdout + diff.stderr)
        print(f"FAIL: abidiff could not compare (status {diff.returncode})")
        return 1
    bad = judge(diff.stdout) if diff.returncode == 4 else []
    if diff.returncode & 8 or bad:
        print(diff.stdout)
        for line in bad:
            print(f"not allowed: {line}")
        print("FAIL: libhvlib's ABI changed incompatibly.  If that is deliberate (a new\n"
              "soname), run tests/abi/update-baseline.sh and commit the new baseline.")
        return 1
    print(f"PASS: {lib} keeps the ABI of {baseline}"
          + (" (with additions)" if diff.returncode else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
