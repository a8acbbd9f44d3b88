# Shell functions for the device tests' guest /init scripts; every
# initramfs of hvlib_guest_initramfs() (tests/CMakeLists.txt) has this file
# as /lib/hvtest.sh.

# ping_host ADDR: whether ADDR answers ping, trying five times (the host
# configures its side of the tap as the VM starts, and ARP takes a moment);
# prints the last attempt's output.
ping_host() {
	rc=1
	for try in 1 2 3 4 5; do
		if ping -c 2 -W 3 "$1" > /tmp/ping.out 2>&1; then
			rc=0
			break
		fi
	done
	cat /tmp/ping.out
	return $rc
}

# irqs_fired: how many of the /proc/interrupts lines on stdin counted at
# least one interrupt on some CPU.
irqs_fired() {
	awk '{
		s = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
		if (s > 0) n++
	} END { print n + 0 }'
}
