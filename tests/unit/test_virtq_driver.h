/* SPDX-License-Identifier: MIT */
/*
 * A tiny virtio "driver" for the virtqueue unit tests: guest RAM in a
 * standalone hv_mem, rings placed by hand, and every field writable at will,
 * so the tests can play a hostile guest.  Include after <cmocka.h>.
 */
#ifndef HV_TESTS_VIRTQ_DRIVER_H
#define HV_TESTS_VIRTQ_DRIVER_H

#include <endian.h>
#include <string.h>

#include "hvlib/virtio.h"
#include "unit/unit_util.h"
#include "virtio/virtio_internal.h"

#define RAM_BYTES (1u << 20)
#define DESC_GPA  0x1000u
#define AVAIL_GPA 0x5000u
#define USED_GPA  0x6000u
#define DATA_GPA  0x10000u
#define ROM_GPA   0x200000u /* a read-only region after RAM */

struct drv {
	struct hv_mem *mem;
	uint8_t *ram;
	uint8_t *rom;
	struct hv_virtio_dev *dev;
	struct hv_virtq *q;
	uint32_t size;
	uint16_t avail_idx;
	int queue_irqs, config_irqs;
	int notifies;
};

static inline void drv_interrupt(void *opaque, uint32_t isr)
{
	struct drv *d = opaque;

	if (isr & HV_VIRTIO_ISR_QUEUE)
		d->queue_irqs++;
	if (isr & HV_VIRTIO_ISR_CONFIG)
		d->config_irqs++;
}

static inline void drv_add_region(struct drv *d, uint64_t gpa, uint32_t flags, uint8_t **host)
{
	struct hv_mem_region_config rc;
	void *p;

	hv_mem_region_config_init(&rc);
	rc.gpa = gpa;
	rc.bytes = RAM_BYTES;
	rc.flags = flags;
	expect_ret(hv_mem_add_region(d->mem, &rc, NULL), 0);
	expect_ret(hv_mem_translate(d->mem, gpa, RAM_BYTES, &p), 0);
	*host = p;
}

static inline void drv_desc(struct drv *d, uint32_t i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	struct vring_desc desc = { htole64(addr), htole32(len), htole16(flags), htole16(next) };

	memcpy(d->ram + DESC_GPA + 16 * i, &desc, sizeof(desc));
}

/* An indirect table entry at gpa (inside RAM). */
static inline void drv_idesc(struct drv *d, uint64_t table, uint32_t i, uint64_t addr,
			     uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc desc = { htole64(addr), htole32(len), htole16(flags), htole16(next) };

	memcpy(d->ram + table + 16 * i, &desc, sizeof(desc));
}

static inline uint16_t *drv_avail_field(struct drv *d, uint32_t index) /* 0 flags, 1 idx */
{
	return (uint16_t *)(d->ram + AVAIL_GPA) + index;
}

/* The device may run on another thread (an I/O loop, a receive thread):
 * the driver's side of the ring indices is atomic, as a guest's would be,
 * with release/acquire where the spec puts the barriers. */
static inline void drv_set_avail_idx(struct drv *d, uint16_t idx)
{
	__atomic_store_n(drv_avail_field(d, 1), htole16(idx), __ATOMIC_RELEASE);
}

static inline void drv_kick(struct drv *d, uint16_t head)
{
	__atomic_store_n(drv_avail_field(d, 2 + d->avail_idx % d->size), htole16(head),
			 __ATOMIC_RELAXED);
	d->avail_idx++;
	drv_set_avail_idx(d, d->avail_idx);
}

static inline void drv_set_used_event(struct drv *d, uint16_t v)
{
	__atomic_store_n(drv_avail_field(d, 2 + d->size), htole16(v), __ATOMIC_RELAXED);
}

static inline uint16_t drv_used_idx(struct drv *d)
{
	return le16toh(__atomic_load_n((uint16_t *)(d->ram + USED_GPA) + 1, __ATOMIC_ACQUIRE));
}

static inline uint16_t drv_avail_event(struct drv *d)
{
	return le16toh(__atomic_load_n((uint16_t *)(d->ram + USED_GPA + 4 + 8 * d->size),
				       __ATOMIC_RELAXED));
}

static inline void drv_used_elem(struct drv *d, uint16_t slot, uint32_t *id, uint32_t *len)
{
	uint32_t *e = (uint32_t *)(d->ram + USED_GPA + 4 + 8 * (slot % d->size));

	*id = le32toh(__atomic_load_n(&e[0], __ATOMIC_RELAXED));
	*len = le32toh(__atomic_load_n(&e[1], __ATOMIC_RELAXED));
}

/* Driver initialisation (virtio 1.2, 3.1.1) with these extra features. */
static inline void drv_start(struct drv *d, uint64_t features)
{
	uint64_t f = HV_VIRTIO_F_VERSION_1 | features;

	hv_virtio_dev_write_status(d->dev, HV_VIRTIO_STATUS_ACKNOWLEDGE);
	hv_virtio_dev_write_status(d->dev, HV_VIRTIO_STATUS_ACKNOWLEDGE | HV_VIRTIO_STATUS_DRIVER);
	hv_virtio_dev_set_driver_features(d->dev, 0, (uint32_t)f);
	hv_virtio_dev_set_driver_features(d->dev, 1, (uint32_t)(f >> 32));
	hv_virtio_dev_write_status(d->dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	assert_true(hv_virtio_dev_status(d->dev) & HV_VIRTIO_STATUS_FEATURES_OK);
	memset(d->ram + DESC_GPA, 0, USED_GPA + 0x2000 - DESC_GPA);
	d->avail_idx = 0;
	hv_virtio_dev_queue_set_size(d->dev, 0, d->size);
	hv_virtio_dev_queue_set_addr(d->dev, 0, HV_VIRTQ_ADDR_DESC, DESC_GPA);
	hv_virtio_dev_queue_set_addr(d->dev, 0, HV_VIRTQ_ADDR_AVAIL, AVAIL_GPA);
	hv_virtio_dev_queue_set_addr(d->dev, 0, HV_VIRTQ_ADDR_USED, USED_GPA);
	hv_virtio_dev_queue_set_ready(d->dev, 0, true);
	hv_virtio_dev_write_status(d->dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK |
						   HV_VIRTIO_STATUS_DRIVER_OK);
}

/* Guest memory only: RAM at 0, ROM at ROM_GPA. */
static inline void drv_create_mem(struct drv *d)
{
	memset(d, 0, sizeof(*d));
	expect_ret(hv_mem_create(&d->mem), 0);
	drv_add_region(d, 0, 0, &d->ram);
	drv_add_region(d, ROM_GPA, HV_MEM_F_READONLY, &d->rom);
}

/* Drive dev (whose queue 0 has this size) with this driver, interrupts
 * counted in d. */
static inline void drv_attach(struct drv *d, struct hv_virtio_dev *dev, uint32_t size)
{
	struct hv_virtio_transport t = { .interrupt = drv_interrupt, .opaque = d };

	d->dev = dev;
	hv_virtio_dev_set_transport(d->dev, &t);
	d->q = hv_virtio_dev_queue(d->dev, 0);
	d->size = size;
}

/* A device with these ops (NULL: none) and queue size, not yet started. */
static inline void drv_create(struct drv *d, const struct hv_virtio_dev_ops *ops, void *opaque,
			      uint32_t size)
{
	static const struct hv_virtio_dev_ops no_ops = {
		.size = sizeof(struct hv_virtio_dev_ops), .device_id = 0x42,
	};
	struct hv_virtio_dev_config dc;
	struct hv_virtio_dev *dev;

	drv_create_mem(d);
	hv_virtio_dev_config_init(&dc);
	dc.ops = ops ? ops : &no_ops;
	dc.opaque = opaque;
	dc.mem = d->mem;
	dc.queue_max_size = size;
	expect_ret(hv_virtio_dev_create(&dc, &dev), 0);
	drv_attach(d, dev, size);
}

static inline void drv_destroy(struct drv *d)
{
	hv_virtio_dev_destroy(d->dev);
	hv_mem_destroy(d->mem);
}

static inline bool drv_needs_reset(struct drv *d)
{
	return hv_virtio_dev_status(d->dev) & HV_VIRTIO_STATUS_NEEDS_RESET;
}

#endif /* HV_TESTS_VIRTQ_DRIVER_H */
