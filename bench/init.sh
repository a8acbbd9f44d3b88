#!/bin/sh
# /init of the boot benchmark's initramfs: announce that init runs, let the
# host sample the VMM's memory, then power off at once.
mount -t proc proc /proc
mount -t devtmpfs dev /dev
stty -F /dev/ttyS0 -echo
echo "BENCH-INIT"
# The host answers once it has read the VMM's memory use.
read -r _ < /dev/ttyS0
echo "BENCH-POWEROFF"
poweroff -f
