#!/bin/sh
# /init of the kill -9 durability initramfs (tests/durability/test_kill9.py
# is the host side).  Round N (hvlib.round=N on the command line) writes
# 1 MiB of its pattern to the start of /dev/vda, makes it durable the way
# round N says (1: write + fsync, 2: O_DIRECT + fsync, 3: write + sync;
# 9: not at all, a control),
# prints HVLIB-KILL9-SYNCED N once that returned, and then keeps the disk
# busy with unsynced writes past 2 MiB until the host kills the VMM.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk; do
	modprobe "$m" || echo "HVLIB-MODPROBE-FAILED $m"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
round=$(sed -n 's/.*hvlib\.round=\([0-9]\).*/\1/p' /proc/cmdline)
# 65536 lines of 16 bytes: "r<round>-<12-digit line number>\n"
awk -v r="$round" 'BEGIN { for (i = 0; i < 65536; i++) printf "r%d-%012d\n", r, i }' > /tmp/p
case "$round" in
1) dd if=/tmp/p of=/dev/vda bs=65536 conv=notrunc,fsync 2>/dev/null ;;
2) dd if=/tmp/p of=/dev/vda bs=65536 oflag=direct conv=notrunc,fsync 2>/dev/null ;;
3) dd if=/tmp/p of=/dev/vda bs=65536 conv=notrunc 2>/dev/null && sync ;;
# the control (HVLIB_KILL9_CONTROL=1): no sync, and the device kept open
# (the last close of a block device writes it back), so the data is still
# in the guest's page cache when the VMM dies
*) exec 3<>/dev/vda && cat /tmp/p >&3 ;;
esac
echo "HVLIB-KILL9-SYNCED $round rc=$?"
n=0
while :; do
	dd if=/dev/urandom of=/dev/vda bs=65536 seek=$((32 + n % 16)) count=1 conv=notrunc 2>/dev/null
	n=$((n + 1))
done
