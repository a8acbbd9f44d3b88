#!/bin/sh
# /init of the sandbox initramfs (examples/python/sandbox.py).  The command
# comes base64-encoded on the kernel command line (hvsandbox=...); its stdout
# and stderr go back base64-encoded between marker lines on the serial
# console, so neither the tty's \n -> \r\n nor stray kernel messages can
# corrupt them, then its exit status, then the machine powers off.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
hostname sandbox
cmd=
for arg in $(cat /proc/cmdline); do
	case $arg in hvsandbox=*) cmd=${arg#hvsandbox=} ;; esac
done
echo "$cmd" | base64 -d > /tmp/cmd
cd /root
HOME=/root PATH=/bin:/sbin sh /tmp/cmd </dev/null >/tmp/stdout 2>/tmp/stderr
status=$?
echo "HVSANDBOX-STDOUT-BEGIN"
base64 </tmp/stdout
echo "HVSANDBOX-STDOUT-END"
echo "HVSANDBOX-STDERR-BEGIN"
base64 </tmp/stderr
echo "HVSANDBOX-STDERR-END"
echo "HVSANDBOX-STATUS $status"
poweroff -f
