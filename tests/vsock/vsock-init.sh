#!/bin/sh
# /init of the vsock test initramfs (tests/kvm/kvm_vsock.c is the host
# side): load the guest's vsock transport, echo one host connection on port
# 1234, send 300000 pattern bytes to the host's port 1235, power off.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio vmw_vsock_virtio_transport; do
	modprobe "$m" || echo "HVLIB-MODPROBE-FAILED $m"
done
i=0
while [ ! -e /dev/vsock ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "HVLIB-VIRTIO-DEVICES $(ls /sys/bus/virtio/devices | wc -l)"
/bin/vsock-echo 1234 1235 300000 || echo "HVLIB-VSOCK-FAILED $?"
echo "HVLIB-DONE"
poweroff -f
echo "HVLIB-POWEROFF-FAILED"
sleep 1000
