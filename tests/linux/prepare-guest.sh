#!/bin/sh
# prepare-guest.sh GUEST_DIR INIT BUILD_DIR: the guest material every Linux
# boot test needs, made before any of them runs (ctest fixture linux_guest):
# Debian's stock kernel fetched into the cache and linked as GUEST_DIR/vmlinuz,
# the boot tests' initramfs (INIT as /init), and the device tests' initramfs
# images (target hvlib_guest_material, which the build made already unless the
# kernel could not be fetched then).  Fails loudly when the kernel cannot be had.
set -eu
guest=$1 init=$2 build=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$("$top/scripts/fetch-kernel")
mkdir -p "$guest"
ln -sfn "$kernel/vmlinuz" "$guest/vmlinuz"
"$top/scripts/make-initramfs" "$guest/test-initrd.cpio.gz" "$init"
cmake --build "$build" --target hvlib_guest_material
