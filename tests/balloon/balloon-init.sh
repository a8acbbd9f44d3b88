#!/bin/sh
# /init of the balloon test initramfs (tests/kvm/kvm_balloon.c is the host
# side).  Loads the balloon driver, touches most of its free memory once (so
# the host has it resident and can see it leave when the balloon inflates),
# then reports MemTotal and MemFree (KiB) every second until stopped.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_balloon; do
	modprobe "$m" || echo "HVLIB-MODPROBE-FAILED $m"
done
echo "HVLIB-VIRTIO-DEVICES $(ls /sys/bus/virtio/devices | wc -l)"
free_mib=$(awk '/MemFree/ { print int($2 / 1024) }' /proc/meminfo)
fill=$((free_mib - 40))
mount -t tmpfs -o size=${fill}m tmpfs /mnt
dd if=/dev/zero of=/mnt/fill bs=1M count=$fill 2>/dev/null
rm /mnt/fill
umount /mnt
echo "HVLIB-FILLED $fill"
echo "HVLIB-BALLOON-READY"
while true; do
	awk '/MemTotal/ { t = $2 } /MemFree/ { f = $2 } END { print "HVLIB-MEM " t " " f }' \
		/proc/meminfo
	sleep 1
done
