#!/bin/sh
# /init of the demo micro-VM: say hello, show the machine, power off.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo
echo "Hello from a Linux micro-VM on hvlib!"
echo "  kernel: $(uname -r)"
echo "  vCPUs:  $(nproc)"
echo "  memory: $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
echo "  uptime: $(cut -d' ' -f1 /proc/uptime) s"
echo
poweroff -f
