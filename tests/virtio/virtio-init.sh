#!/bin/sh
# /init of the virtio test initramfs (tests/kvm/kvm_virtio.c is the host
# side).  The host gives it two disks and an rng:
#   vda  read-write: the first MiB holds a host pattern, the second MiB is
#        where the guest writes its own pattern;
#   vdb  read-only;
# and reads the marker lines below off the serial console.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /lib/hvtest.sh
for m in virtio_mmio virtio_pci virtio_blk virtio-rng; do
	modprobe "$m" || echo "HVLIB-MODPROBE-FAILED $m"
done
# hvlib.intx (kvm_virtio.c, test_shared_intx_pci): five disks on PCI with
# pci=nomsi, so they interrupt through INTx and vda (slot 1) shares its line
# with vde (slot 5).  Both read their whole disk eight times at once, each
# pass from the device (caches dropped), and print the last hash; a lost
# interrupt on the shared line stalls one of them and the host times out.
if grep -q hvlib.intx /proc/cmdline; then
	i=0
	while [ ! -b /dev/vde ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	for d in vda vde; do
		(
			for pass in 1 2 3 4 5 6 7 8; do
				echo 1 > /proc/sys/vm/drop_caches
				sha=$(sha256sum < /dev/$d | cut -d' ' -f1)
			done
			echo "HVLIB-INTX-SHA-$d $sha"
		) &
	done
	wait
	grep virtio /proc/interrupts
	echo "HVLIB-INTX-MSI $(grep virtio /proc/interrupts | grep -c 'PCI-MSI')"
	echo "HVLIB-INTX-LINES $(grep virtio /proc/interrupts | grep -v 'PCI-MSI' | irqs_fired)"
	echo "HVLIB-DONE"
	poweroff -f
	sleep 1000
fi
# Wait for the disks to be probed (the modules return before that).
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "HVLIB-VIRTIO-DEVICES $(ls /sys/bus/virtio/devices | wc -l)"
# Which transport the devices came through: PCI devices live under the
# root bridge (pci0000:00), virtio-mmio ones under their ACPI device.
case "$(readlink -f /sys/bus/virtio/devices/virtio0)" in
*/pci0000:00/*) echo "HVLIB-VIRTIO-BUS pci" ;;
*) echo "HVLIB-VIRTIO-BUS mmio" ;;
esac
echo "HVLIB-VDA-SERIAL $(cat /sys/block/vda/serial 2>/dev/null)"
echo "HVLIB-VDA-SIZE $(cat /sys/block/vda/size 2>/dev/null)"
echo "HVLIB-VDA-SHA $(head -c 1048576 /dev/vda | sha256sum | cut -d' ' -f1)"
# The guest's pattern into the second MiB, then sync (a FLUSH to the device).
yes HVLIB-GUEST-PATTERN-0123456789 | head -c 1048576 |
	dd of=/dev/vda bs=4096 seek=256 2>/dev/null
sync
echo "HVLIB-VDA-WRITTEN $?"
echo "HVLIB-VDB-RO $(cat /sys/block/vdb/ro 2>/dev/null)"
if dd if=/dev/zero of=/dev/vdb bs=512 count=1 2>/dev/null; then
	echo "HVLIB-VDB-WRITE accepted"
else
	echo "HVLIB-VDB-WRITE refused"
fi
echo "HVLIB-VDB-SHA $(sha256sum < /dev/vdb | cut -d' ' -f1)"
echo "HVLIB-RNG-CURRENT $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
echo "HVLIB-RNG-BYTES $(head -c 64 /dev/hwrng | wc -c)"
# Interrupts: with MSI-X each virtio device has a config vector and one per
# queue ("PCI-MSI"/"PCI-MSIX" in /proc/interrupts); count them, and those
# that fired.
grep virtio /proc/interrupts
echo "HVLIB-MSI-VECTORS $(grep virtio /proc/interrupts | grep -c 'PCI-MSI')"
echo "HVLIB-MSI-FIRED $(grep virtio /proc/interrupts | grep 'PCI-MSI' | irqs_fired)"
echo "HVLIB-DONE"
poweroff -f
echo "HVLIB-POWEROFF-FAILED"
sleep 1000
