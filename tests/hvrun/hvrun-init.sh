#!/bin/sh
# /init of the hvrun end-to-end initramfs (tests/hvrun/test_hvrun_devices.py
# is the host side, which runs
#   hvrun --disk d.img --net tap=hvt0 --vsock 3 --rng --balloon=64M --console virtio
# over one transport).  Every check prints one HVLIB-<DEVICE>-... marker on
# the serial console; what proves hvc0 goes to /dev/hvc0 only.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /lib/hvtest.sh
free_kib() { awk '/MemFree/ { print $2 }' /proc/meminfo; }
# The balloon's driver last, with MemFree measured before it inflates.
for m in virtio_mmio virtio_pci virtio_blk virtio_net virtio_console virtio-rng \
	vmw_vsock_virtio_transport; do
	modprobe "$m" || echo "HVLIB-MODPROBE-FAILED $m"
done
i=0
while { [ ! -b /dev/vda ] || [ ! -e /sys/class/net/eth0 ] || [ ! -c /dev/hvc0 ] ||
	[ ! -e /dev/vsock ] || [ ! -c /dev/hwrng ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
free_before=$(free_kib)
modprobe virtio_balloon || echo "HVLIB-MODPROBE-FAILED virtio_balloon"
sleep 0.5

# Which driver took each virtio device, and through which transport: PCI
# devices live under the root bridge (pci0000:00), virtio-mmio ones under
# their platform device.
for d in /sys/bus/virtio/devices/*; do
	drv=$(basename "$(readlink -f "$d/driver")")
	case "$(readlink -f "$d")" in
	*/pci0000:00/*) bus=pci ;;
	*) bus=mmio ;;
	esac
	echo "HVLIB-VIRTIO-DEVICE $drv $bus"
done

# Disk: the host's pattern in the first MiB; the guest copies its first
# 64 KiB to offset 2 MiB and writes a line at 3 MiB, flushed to the device.
echo "HVLIB-DISK-SHA $(head -c 1048576 /dev/vda | sha256sum | cut -d' ' -f1)"
dd if=/dev/vda of=/dev/vda bs=4096 count=16 seek=512 conv=notrunc,fsync 2>/dev/null &&
	echo "HVLIB-DISK-GUEST-WROTE-THIS" | dd of=/dev/vda bs=4096 seek=768 conv=sync,notrunc,fsync 2>/dev/null
echo "HVLIB-DISK-WRITE $?"
sync

# Rng.
echo "HVLIB-RNG-CURRENT $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
echo "HVLIB-RNG-BYTES $(head -c 64 /dev/hwrng | wc -c)"

# Balloon: the host asked for 64 MiB; MemFree drops as the driver inflates
# (waits for most of it; the host wants at least 48).
i=0
drop=0
while [ $i -lt 40 ]; do
	drop=$(( (free_before - $(free_kib)) / 1024 ))
	[ $drop -ge 60 ] && break
	sleep 0.5
	i=$((i + 1))
done
echo "HVLIB-BALLOON-DROP-MIB $drop"

# Network: the host's end of the tap is 10.0.2.1/24.
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ping_host 10.0.2.1
echo "HVLIB-NET-PING $?"

# Console: out on hvc0, then a line in from the host's stdin.
echo "HVLIB-HVC0-OUT written-to-hvc0" > /dev/hvc0
exec 3< /dev/hvc0
echo "HVLIB-HVC0-READY"
line=
read -t 60 -r line <&3
echo "HVLIB-HVC0-IN $line"
exec 3<&-

# Vsock: echo the host's connection, then send it 300000 pattern bytes.
/bin/vsock-echo 1234 1235 300000 || echo "HVLIB-VSOCK-FAILED $?"

# Interrupts: with MSI-X every virtio PCI function has a config vector and
# one per queue (msi_irqs/N says "msix"); count them per function, and the
# virtio vectors that fired.
for f in /sys/bus/pci/devices/*; do
	[ "$(cat "$f/vendor")" = 0x1af4 ] || continue
	n=0
	for v in "$f"/msi_irqs/*; do
		[ "$(cat "$v" 2>/dev/null)" = msix ] && n=$((n + 1))
	done
	echo "HVLIB-MSIX $(basename "$f") $n"
done
grep virtio /proc/interrupts
echo "HVLIB-IRQ-FIRED $(grep virtio /proc/interrupts | irqs_fired)"
echo "HVLIB-DONE"
poweroff -f
echo "HVLIB-POWEROFF-FAILED"
sleep 1000
