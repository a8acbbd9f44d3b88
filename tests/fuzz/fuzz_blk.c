/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk's request parser: the fuzzer's bytes are guest RAM (queue 0 of
 * 128 entries at the fixed addresses, see fuzz_util.h) and the driver kicks
 * once.  The disk is a 64 KiB memfd, so writes never touch a real file.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"

static struct fz_guest guest;
static char image_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_virtio_blk_config bc;
	struct hv_virtio_blk *blk;

	if (!guest.mem) {
		int fd = memfd_create("hvlib-fuzz-disk", 0);

		if (fz_guest_create(&guest) || fd < 0 || ftruncate(fd, 64 << 10))
			abort();
		snprintf(image_path, sizeof(image_path), "/proc/self/fd/%d", fd);
	}
	fz_guest_load(&guest, data, size);
	hv_virtio_blk_config_init(&bc);
	bc.path = image_path;
	bc.serial = "fuzz";
	bc.flags = size && (data[size - 1] & 1) ? HV_VIRTIO_BLK_F_READONLY : 0;
	bc.mem = guest.mem;
	if (hv_virtio_blk_create(&bc, &blk))
		abort();
	fz_driver_start(hv_virtio_blk_dev(blk), HV_VIRTIO_F_INDIRECT_DESC, 1, 128);
	hv_virtio_dev_notify(hv_virtio_blk_dev(blk), 0);
	hv_virtio_blk_destroy(blk);
	return 0;
}
