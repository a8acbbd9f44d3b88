#!/usr/bin/env bash
# tests/stress/inner.sh WORKLOAD BUILD_DIR: one run of a stress workload, run
# inside scripts/with-kvm's machine by tests/stress/stress.py.  Exit 0 when
# every guest did what it should; 1 (with the failing guest's console tail)
# when one did not.
#
#   three-procs  three hvrun guests at once (2 vCPUs/192M, 1/128M, 1/128M)
#   three-qemu   the same three as QEMU -M microvm guests with KVM, -cpu host
#                (HVLIB_STRESS_QEMU_MACHINE, _ACCEL, _CPU change them;
#                HVLIB_STRESS_QEMU names the binary)
#   mixed        ROUNDS (default 3) rounds of three-procs, then three-qemu
#   three-inproc tests/python's test_three_at_once: three guests in one
#                process, one stopped and destroyed while the others boot
#   churn        the tiny-guest KVM programs without their kept-open VM
#                (many VM creations and destructions in a row)
set -uo pipefail
workload=$1 build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
guest=$build/guest
qemu=${HVLIB_STRESS_QEMU:-qemu-system-x86_64}
cmdline="console=ttyS0 quiet panic=-1 hvtest=check"
# The guests' consoles: in the build tree (shared with the host), so that
# they outlive a machine that dies under them; removed when all went well.
mkdir -p "$build/stress"
out=$(mktemp -d "$build/stress/guests.XXXXXX")
trap 'status=$?; [ $status != 0 ] || rm -rf "$out"' EXIT

# guest_ok LOG CPUS: the guest printed its check line with that many CPUs.
guest_ok() { grep -q "HVLIB-CHECK cpus=$2 " "$1"; }
# Three guests of one kind at once; VMM is hvrun or qemu.
three() {
	local vmm=$1 i rc pids=() cpus=(2 1 1) mem=(192 128 128) bad=0
	for i in 0 1 2; do
		if [ "$vmm" = hvrun ]; then
			"$build/examples/hvrun/hvrun" --kernel "$guest/vmlinuz" --initrd "$guest/test-initrd.cpio.gz" \
				--cpus "${cpus[$i]}" --memory "${mem[$i]}M" --timeout 150 --cmdline "$cmdline" \
				>"$out/$vmm-$i.log" 2>&1 &
		else
			timeout 150 "$qemu" -M "${HVLIB_STRESS_QEMU_MACHINE:-microvm}" \
				-accel "${HVLIB_STRESS_QEMU_ACCEL:-kvm}" -cpu "${HVLIB_STRESS_QEMU_CPU:-host}" -smp "${cpus[$i]}" -m "${mem[$i]}M" \
				-nodefaults -no-user-config -display none -serial stdio -no-reboot \
				-kernel "$guest/vmlinuz" -initrd "$guest/test-initrd.cpio.gz" -append "$cmdline" \
				>"$out/$vmm-$i.log" 2>&1 </dev/null &
		fi
		pids+=($!)
	done
	for i in 0 1 2; do
		wait "${pids[$i]}"
		rc=$?
		if [ $rc != 0 ] || ! guest_ok "$out/$vmm-$i.log" "${cpus[$i]}"; then
			echo "stress: $vmm guest $i failed (exit status $rc):"
			tail -n 15 "$out/$vmm-$i.log" | sed 's/^/  | /'
			echo "  (whole console: $out/$vmm-$i.log)"
			bad=1
		fi
	done
	return $bad
}

case $workload in
three-procs) three hvrun ;;
three-qemu) three qemu ;;
mixed)
	for r in $(seq "${ROUNDS:-3}"); do
		three hvrun || exit 1
		three qemu || exit 1
		echo "stress: round $r done"
	done
	;;
three-inproc)
	cd "$src/tests/python" &&
		HVLIB_LIBRARY=$build/libhvlib.so HVLIB_GUEST_DIR=$guest PYTHONDONTWRITEBYTECODE=1 \
			python3 -m unittest -v test_kvm_linux.MicroVMs.test_three_at_once
	;;
churn)
	for t in kvm_vm kvm_run kvm_thread kvm_mem kvm_eventfd; do
		HVLIB_TEST_NO_KEEPER=1 "$build/tests/$t" || { echo "stress: $t failed"; exit 1; }
	done
	;;
*)
	echo "stress: unknown workload $workload" >&2
	exit 2
	;;
esac
