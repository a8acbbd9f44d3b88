#!/bin/sh
# /init of the virtio-net/console test initramfs (tests/kvm/kvm_virtio_netcon.c
# is the host side).  Plain output goes to the serial console (ttyS0); what
# proves the virtio console goes to /dev/hvc0 only.  The host's tap is
# 10.0.2.1/24; this guest is 10.0.2.15/24.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /lib/hvtest.sh
for m in virtio_mmio virtio_net virtio_console; do
	modprobe "$m" || echo "HVLIB-MODPROBE-FAILED $m"
done
i=0
while { [ ! -e /sys/class/net/eth0 ] || [ ! -c /dev/hvc0 ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "HVLIB-ETH0-MAC $(cat /sys/class/net/eth0/address 2>/dev/null)"
# Negotiated features, bit 0 first (checksum, TSO and mergeable buffers
# make the TCP transfers below use offloads and multi-buffer frames).
echo "HVLIB-NET-FEATURES $(cat /sys/class/net/eth0/device/features 2>/dev/null)"
# Guest -> host on hvc0.
echo "HVLIB-HVC-OUT hello-from-hvc0" > /dev/hvc0
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
echo "HVLIB-ETH0-CARRIER $(cat /sys/class/net/eth0/carrier 2>/dev/null)"
ping_host 10.0.2.1
echo "HVLIB-GUEST-PING $?"
# TCP, host -> guest: the host sends a file once we are ready.
nc -l -p 5000 -e sh -c 'cat > /tmp/in' &
# Host -> guest on hvc0: hold it open first, so no byte arrives unread.
exec 3< /dev/hvc0
echo "HVLIB-READY"
read -r line <&3
echo "HVLIB-HVC-IN $line" > /dev/hvc0
wait
echo "HVLIB-TCP-IN $(wc -c < /tmp/in) $(sha256sum < /tmp/in | cut -d' ' -f1)"
# TCP, guest -> host: the same bytes back to the host's listener.
timeout 60 nc 10.0.2.1 5001 < /tmp/in
echo "HVLIB-TCP-OUT $?"
echo "HVLIB-RX-PACKETS $(cat /sys/class/net/eth0/statistics/rx_packets)"
echo "HVLIB-DONE"
poweroff -f
echo "HVLIB-POWEROFF-FAILED"
sleep 1000
