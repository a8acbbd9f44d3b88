#!/usr/bin/env bash
# Tests of scripts/with-kvm: /dev/kvm really works through it (kvm_smoke.c,
# compiled into a temp dir shared with HVLIB_WITH_KVM_SHARE), and it keeps
# the command's exit status, argv, environment, cwd, stdout/stderr, files.
# Where /dev/kvm is missing (or HVLIB_WITH_KVM_FORCE_VM=1) it also checks
# the emulated machine's failure paths: timeout (124), no KVM inside (125)
# and no QEMU (77).  Ends with a line "N passed, M failed"; exit 0 only if
# none failed, 77 if with-kvm skipped (no KVM and no QEMU here).
#   tests/with-kvm/run-smoke.sh        (WITH_KVM=path overrides the script)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wk=${WITH_KVM:-$here/../../scripts/with-kvm}
wk=$(cd "$(dirname "$wk")" && pwd)/$(basename "$wk")
cc=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/with-kvm-smoke.XXXXXX")
out=$(mktemp -d "$here/.out.XXXXXX")	# in the working tree: shared rw
trap 'rm -rf "$tmp" "$out"' EXIT
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check NAME WANT GOT
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want [$2], got [$3]"; fi; }
emulated() { [ "$("$wk" --mode)" = emulated ]; }

cd "$here" || exit 1

# 1. /dev/kvm works: open, API 12, a VM runs real-mode code to an OUT and HLT.
"$cc" -O2 -Wall -Wextra -o "$tmp/kvm_smoke" "$here/kvm_smoke.c" || { echo "cannot compile kvm_smoke.c"; exit 1; }
s=$(date +%s%N)
HVLIB_WITH_KVM_SHARE=$tmp "$wk" "$tmp/kvm_smoke" >"$tmp/o" 2>"$tmp/e"
rc=$?
echo "    (with-kvm kvm_smoke took $((($(date +%s%N) - s) / 1000000)) ms)"
if [ $rc = 77 ]; then
	cat "$tmp/e"
	echo "SKIP: with-kvm has no way to provide /dev/kvm here"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
if [ $rc = 0 ] && grep -q '^kvm_smoke: OK' "$tmp/o"; then
	ok "kvm_smoke: $(cat "$tmp/o")"
else
	bad "kvm_smoke exited $rc: $(cat "$tmp/o" "$tmp/e")"
fi

if [ -c /dev/kvm ] && { : <>/dev/kvm; } 2>/dev/null && [ -z "${HVLIB_WITH_KVM_FORCE_VM:-}" ]; then
	check "--tiny: a /dev/kvm that opens (kvm_pvm too) is used natively" native "$("$wk" --tiny --mode)"
	got=$("$wk" --tiny uname -r)
	check "--tiny runs the command here, not in an emulated machine" "0 $(uname -r)" "$? $got"
fi

# 2. Exit statuses.
# (Exit status 0 is kvm_smoke's above.  Each call boots a machine where
# with-kvm emulates, about 10 s: checks share calls where they can.)
"$wk" false
check "false exits 1" 1 $?
"$wk" sh -c 'exit 42'
check "sh -c 'exit 42' exits 42" 42 $?
"$wk" sh -c 'kill -TERM $$' 2>"$tmp/e"
check "a command killed by SIGTERM: 143, as from a shell" 143 $?
check "... and nothing on stderr" "" "$(cat "$tmp/e")"
"$wk" /nonexistent/command 2>/dev/null
check "a missing command exits 127" 127 $?

# 3. Arguments survive: spaces, quotes, $, globs, empty, newline, backslash.
got=$("$wk" printf '%s|' "a b" "c'd" '$HOME' 'e"f' '*' '' $'g\nh' 'i\j' '-n')
check "argv survives" "a b|c'd|\$HOME|e\"f|*||g"$'\n'"h|i\\j|-n|" "$got"

# 4. Environment: exported variables (odd values too), PATH, HOME, no extras.
weird=$' x \' " $y \\ \n z '
got=$(FOO=bar WEIRD=$weird "$wk" sh -c 'printf "%s|%s" "$FOO" "$WEIRD"')
check "FOO=bar and a value with quotes, newline and spaces pass" "bar|$weird" "$got"
# (bash, as with-kvm is, adds PWD, SHLVL and _ to what it runs, natively too)
envlist() { grep -vE '^(PWD|OLDPWD|SHLVL|_)=' | LC_ALL=C sort | tr '\n' ' '; }
cache=${HVLIB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hvlib}	# the kernel is there
got=$(env -i PATH=/usr/bin:/bin HOME=/nowhere HVLIB_CACHE="$cache" ONLY=1 HVLIB_WITH_KVM_LINEBUF=0 "$wk" env | envlist)
want=$(env -i PATH=/usr/bin:/bin HOME=/nowhere HVLIB_CACHE="$cache" ONLY=1 HVLIB_WITH_KVM_LINEBUF=0 env | envlist)
check "the environment is exactly the caller's (HVLIB_WITH_KVM_LINEBUF=0)" "$want" "$got"
if emulated; then
	# Line-buffered stdio adds stdbuf's variables and ASan's link-order knob.
	got=$(env -i PATH=/usr/bin:/bin HOME=/nowhere HVLIB_CACHE="$cache" ONLY=1 "$wk" env | envlist)
	want=$(env -i PATH=/usr/bin:/bin HOME=/nowhere HVLIB_CACHE="$cache" ONLY=1 \
		ASAN_OPTIONS=verify_asan_link_order=0 _STDBUF_O=L _STDBUF_E=L env | envlist)
	check "line-buffered: the caller's environment and stdbuf's, nothing else" \
		"$want" "$(echo "$got" | sed 's|LD_PRELOAD=[^ ]*/libstdbuf.so ||')"
fi

# 5. Same cwd; files written inside the working tree are there afterwards.
got=$("$wk" sh -c 'pwd -P; echo written inside > "$1/file"; echo shared > "$2/f"' sh "$out" "$tmp" 2>/dev/null)
check "cwd is the same" "$(pwd -P)" "$got"
check "a file written in the working tree is visible outside" "written inside" "$(cat "$out/file" 2>&1)"
ro=$(mktemp -d "$HOME/.with-kvm-smoke.XXXXXX")	# outside the tree and /tmp
"$wk" sh -c 'echo shared > "$1/f"' sh "$ro" 2>/dev/null
check "HVLIB_WITH_KVM_SHARE is needed to write outside the tree and /tmp" "" "$(cat "$ro/f" 2>/dev/null)"
HVLIB_WITH_KVM_SHARE=$ro "$wk" sh -c 'echo shared > "$1/f"' sh "$ro"
check "a file written in a HVLIB_WITH_KVM_SHARE dir is visible outside" shared "$(cat "$ro/f" 2>&1)"
rm -rf "$ro"
# A directory under /tmp that the command names (argument, cwd, variable) is
# the caller's, not the machine's fresh /tmp.
tdir=$(mktemp -d /tmp/with-kvm-smoke-tmp.XXXXXX)
echo built > "$tdir/lib"
got=$(cd "$tdir" && MYLIB=$tdir/lib "$wk" sh -c 'cat "$MYLIB"; pwd; echo back > "$1"' sh "$tdir/out" 2>&1)
check "a /tmp directory named in an argument, cwd and a variable is shared" "built $tdir back" \
	"$(echo $got) $(cat "$tdir/out" 2>&1)"
rm -rf "$tdir"

# 6. stdout to stdout, stderr to stderr, nothing else (no boot messages);
#    large output complete; stdin is /dev/null; /tmp, /dev inside.
echo from-stdin | "$wk" sh -c 'echo out; echo err >&2; cat; echo x > /tmp/x && cat /tmp/x &&
	test -c /dev/null && test -c /dev/kvm && echo dev' >"$tmp/o" 2>"$tmp/e"
check "stdout; stdin is /dev/null; a writable /tmp, /dev/null and /dev/kvm inside" \
	"out x dev" "$(echo $(cat "$tmp/o"))"
check "stderr" err "$(cat "$tmp/e")"
"$wk" sh -c 'seq 1 300000; head -c 1000000 /dev/urandom | od -An -tx1 -v | tail -n 3 >&2' >"$tmp/o" 2>/dev/null
check "300000 lines of output arrive complete" "$(seq 1 300000 | md5sum)" "$(md5sum <"$tmp/o")"
# 7. Two at once.
"$wk" sh -c 'sleep 1; echo one' >"$tmp/c1" &
p1=$!
"$wk" sh -c 'sleep 1; echo two' >"$tmp/c2" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "two concurrent runs" "0 0 one two" "$r1 $r2 $(cat "$tmp/c1" "$tmp/c2" | tr '\n' ' ' | sed 's/ $//')"

# 8. The emulated machine's failure paths.
if emulated; then
	s=$(date +%s)
	HVLIB_WITH_KVM_TIMEOUT=20 "$wk" sleep 300 2>"$tmp/e"
	rc=$?
	check "timeout: exit 124 in about 20 s ($(($(date +%s) - s)) s)" "124 yes" \
		"$rc $( [ $(($(date +%s) - s)) -lt 60 ] && echo yes)"
	grep -q TIMEOUT "$tmp/e" && ok "timeout says so" || bad "timeout message: $(cat "$tmp/e")"
	HVLIB_WITH_KVM_CPU=max,-svm "$wk" true 2>"$tmp/e"
	check "no /dev/kvm inside (a CPU without SVM): exit 125" 125 $?
	grep -q 'no /dev/kvm inside' "$tmp/e" && ok "no /dev/kvm inside says so" ||
		bad "no-kvm message: $(cat "$tmp/e")"
	HVLIB_WITH_KVM_BOOT_TIMEOUT=2 "$wk" true 2>"$tmp/e"
	check "a machine that never reaches the command: 3 boots, then exit 125" "125 3" \
		"$? $(grep -c 'hung in its boot' "$tmp/e")"
	# A machine that wedges under the command (here: RCU stall reports,
	# faked through /dev/kmsg) is stopped and the command run once more.
	s=$(date +%s)
	"$wk" sh -c 'if [ -f "$1/wedged" ]; then echo second run; exit 0; fi
		touch "$1/wedged"
		for i in 1 2; do echo "<3>rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:" >/dev/kmsg; done
		sleep 300' sh "$out" >"$tmp/o" 2>"$tmp/e"
	check "a wedged machine: the command runs again and its status counts" "0 second run" "$? $(cat "$tmp/o")"
	grep -q 'wedged while the command ran: RCU stalls' "$tmp/e" && ok "a wedged machine is reported" ||
		bad "wedge message: $(cat "$tmp/e")"
	[ $(($(date +%s) - s)) -lt 120 ] && ok "a wedged machine is stopped early" ||
		bad "the wedged machine took $(($(date +%s) - s)) s"
	# Without the retry: exit 125, said to be the machine's failure; what the
	# command printed before the wedge is there (its stdio is line-buffered).
	printf '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("before the wedge\\n");sleep(300);return 0;}\n' >"$tmp/p.c"
	"$cc" -o "$tmp/printer" "$tmp/p.c" || bad "cannot compile the printer"
	HVLIB_WITH_KVM_RETRIES=0 "$wk" sh -c '"$1" & sleep 2
		for i in 1 2; do echo "<3>rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:" >/dev/kmsg; done
		wait' sh "$tmp/printer" >"$tmp/o" 2>"$tmp/e"
	check "a wedge without retry: exit 125, the output before it kept" "125 before the wedge" "$? $(cat "$tmp/o")"
	grep -q 'ENVIRONMENT FAILURE' "$tmp/e" && ok "... reported as an environment failure" ||
		bad "no ENVIRONMENT FAILURE: $(cat "$tmp/e")"
	# The machine's own kernel panicking under the command is one too.
	HVLIB_WITH_KVM_RETRIES=0 "$wk" sh -c 'echo c > /proc/sysrq-trigger; sleep 60' 2>"$tmp/e"
	check "the machine's kernel panics: exit 125" 125 $?
	grep -q 'ENVIRONMENT FAILURE.*kernel panicked' "$tmp/e" && ok "... reported as such" ||
		bad "panic message: $(cat "$tmp/e")"
	HVLIB_WITH_KVM_QEMU=false "$wk" true 2>"$tmp/e"
	check "a machine that stops at once (QEMU is false): exit 125" 125 $?
	grep -q 'boot log' "$tmp/e" && ok "a failed boot shows the boot log" ||
		bad "boot failure message: $(cat "$tmp/e")"
	HVLIB_WITH_KVM_QEMU=/nonexistent/qemu "$wk" true 2>"$tmp/e"
	check "no QEMU: exit 77 (skip)" 77 $?
	grep -q 'SKIP' "$tmp/e" && ok "no QEMU says SKIP" || bad "skip message: $(cat "$tmp/e")"
	left=$(ls -d "${TMPDIR:-/tmp}"/with-kvm.* 2>/dev/null | wc -l)
	echo "    ($left with-kvm control directories left in ${TMPDIR:-/tmp}, others' included)"
fi

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
