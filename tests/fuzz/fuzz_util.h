/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the libFuzzer targets: a fake guest (RAM and a ROM page in
 * a standalone hv_mem), a driver that brings a device to DRIVER_OK with its
 * queues at fixed addresses, and a cursor over the fuzzer's bytes.  The
 * fixed layout lets small seeds reach deep: the input is copied into RAM at
 * 0, so its first bytes are the descriptor table.
 */
#ifndef HV_TESTS_FUZZ_UTIL_H
#define HV_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hvlib/mem.h"
#include "hvlib/virtio.h"
#include "virtio/virtio_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_RAM_BYTES (64u << 10)
#define FZ_ROM_GPA   0x100000u
/* Queue i's rings: descriptors, avail, used (sizes up to 256 fit). */
#define FZ_DESC(i)   (0x0000u + 0x4000u * (i))
#define FZ_AVAIL(i)  (0x1000u + 0x4000u * (i))
#define FZ_USED(i)   (0x2000u + 0x4000u * (i))

struct fz_guest {
	struct hv_mem *mem;
	uint8_t *ram;
};

/* A reader over the input that yields zeros once it runs out. */
struct fz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint64_t fz_take(struct fz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static inline int fz_guest_create(struct fz_guest *g)
{
	struct hv_mem_region_config rc;
	void *p;

	if (hv_mem_create(&g->mem))
		return -1;
	hv_mem_region_config_init(&rc);
	rc.bytes = FZ_RAM_BYTES;
	if (hv_mem_add_region(g->mem, &rc, NULL) ||
	    hv_mem_translate(g->mem, 0, FZ_RAM_BYTES, &p))
		return -1;
	g->ram = p;
	rc.gpa = FZ_ROM_GPA;
	rc.bytes = 4096;
	rc.flags = HV_MEM_F_READONLY;
	return hv_mem_add_region(g->mem, &rc, NULL) ? -1 : 0;
}

static inline void fz_guest_load(struct fz_guest *g, const uint8_t *data, size_t size)
{
	memset(g->ram, 0, FZ_RAM_BYTES);
	memcpy(g->ram, data, size < FZ_RAM_BYTES ? size : FZ_RAM_BYTES);
}

static inline void fz_interrupt(void *opaque, uint32_t isr)
{
	(void)opaque;
	(void)isr;
}

/* Driver initialisation with these features and queues 0..nr-1 of `size`
 * entries at the fixed addresses. */
static inline void fz_driver_start(struct hv_virtio_dev *dev, uint64_t features, uint32_t nr,
				   uint32_t size)
{
	struct hv_virtio_transport t = { .interrupt = fz_interrupt };
	uint64_t f = HV_VIRTIO_F_VERSION_1 | features;

	hv_virtio_dev_set_transport(dev, &t);
	hv_virtio_dev_write_status(dev, 3);
	hv_virtio_dev_set_driver_features(dev, 0, (uint32_t)f);
	hv_virtio_dev_set_driver_features(dev, 1, (uint32_t)(f >> 32));
	hv_virtio_dev_write_status(dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	for (uint32_t i = 0; i < nr; i++) {
		hv_virtio_dev_queue_set_size(dev, i, size);
		hv_virtio_dev_queue_set_addr(dev, i, HV_VIRTQ_ADDR_DESC, FZ_DESC(i));
		hv_virtio_dev_queue_set_addr(dev, i, HV_VIRTQ_ADDR_AVAIL, FZ_AVAIL(i));
		hv_virtio_dev_queue_set_addr(dev, i, HV_VIRTQ_ADDR_USED, FZ_USED(i));
		hv_virtio_dev_queue_set_ready(dev, i, true);
	}
	hv_virtio_dev_write_status(dev, 7 | HV_VIRTIO_STATUS_FEATURES_OK);
}

#endif /* HV_TESTS_FUZZ_UTIL_H */
