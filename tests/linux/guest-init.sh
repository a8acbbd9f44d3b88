#!/bin/sh
# /init of the test initramfs.  What to do comes from hvtest= on the kernel
# command line; results are marker lines on the serial console that the host
# side of the test parses.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mode=check
for arg in $(cat /proc/cmdline); do
	case $arg in hvtest=*) mode=${arg#hvtest=} ;; esac
done
case $mode in
check)
	echo "HVLIB-CHECK cpus=$(nproc) mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
	poweroff -f
	;;
reboot)
	echo "HVLIB-REBOOTING"
	reboot -f
	;;
echo)
	# Console input: the host types a line once it sees READY.
	stty -F /dev/ttyS0 -echo
	echo "HVLIB-READY"
	read -r line < /dev/ttyS0
	echo "HVLIB-GOT:$line"
	poweroff -f
	;;
panic)
	echo c > /proc/sysrq-trigger
	;;
*)
	echo "HVLIB-UNKNOWN-MODE $mode"
	poweroff -f
	;;
esac
# Not reached unless power-off failed.
echo "HVLIB-POWEROFF-FAILED"
sleep 1000
