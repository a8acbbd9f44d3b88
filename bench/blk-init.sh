#!/bin/sh
# /init of the virtio-blk benchmark's initramfs (bench/blk.py is the host
# side): load the stock virtio_mmio and virtio_blk modules, wait for
# /dev/vda, run blkio (bench/blkio.c) on it phase by phase, print marker
# lines, power off.  The host sets the parameters on the kernel command line
# (unknown NAME=VALUE words there become init's environment).
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk; do
	modprobe "$m" || echo "BENCH-MODPROBE-FAILED $m"
done
# The modules return before the disk is probed.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -b /dev/vda ]; then
	q=/sys/block/vda/queue
	# VERSION_1 (feature bit 32): the modern virtio interface.
	echo "BENCH-VDA sectors=$(cat /sys/block/vda/size) cache=$(tr ' ' - < $q/write_cache)" \
		"virtio1=$(cut -c33 /sys/block/vda/device/features)" \
		"max_sectors_kb=$(cat $q/max_sectors_kb) max_segments=$(cat $q/max_segments)" \
		"scheduler=$(cat $q/scheduler | tr ' ' ,)"
	s=${BENCH_SECONDS:-5}
	blkio /dev/vda read "${BENCH_SEQ_BLOCK:-1048576}" "$s"
	blkio /dev/vda randread 4096 "$s"
	[ "${BENCH_JOBS:-0}" -gt 1 ] && blkio /dev/vda randread 4096 "$s" "$BENCH_JOBS"
	blkio /dev/vda write "${BENCH_SEQ_BLOCK:-1048576}" "$s"
	blkio /dev/vda randwrite 4096 "$s"
else
	echo "BENCH-NO-VDA"
fi
echo "BENCH-DONE"
poweroff -f
