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

/*
 * The register-level rig (fuzz_util.c) for targets that act as a guest on
 * buses: the input is a sequence of 8-byte records [op][offset le24][value
 * le32]:
 *   op & 3 == 0: a guest access in window (op >> 5) % nr_win at offset %
 *                its length (bit 2: write; bits 3-4: width 1, 2, 4 or 8);
 *   op & 3 == 1: the guest stores value at RAM offset (offset * 4);
 *   op & 3 >= 2: a host action, the target's host_op(op >> 2, offset, value).
 */
#define FZ_MAX_WINDOWS 8

struct fz_rig {
	struct fz_guest guest;
	struct hv_bus *pio, *mmio;
	struct {
		struct hv_bus *bus;
		uint64_t base, len;
	} win[FZ_MAX_WINDOWS];
	uint32_t nr_win;
	void (*host_op)(void *opaque, uint32_t op, uint32_t offset, uint32_t value);
	void *opaque;
};

/* Guest RAM (once per process) and fresh buses; windows and host_op reset. */
int fz_rig_init(struct fz_rig *r);
void fz_rig_fini(struct fz_rig *r);
void fz_rig_window(struct fz_rig *r, struct hv_bus *bus, uint64_t base, uint64_t len);
void fz_rig_run(struct fz_rig *r, const uint8_t *data, size_t size);

/* Driver initialisation as fz_driver_start(), but as a guest does it:
 * register writes to a virtio-mmio transport (reset first). */
struct hv_virtio_mmio;
void fz_mmio_driver_start(struct hv_virtio_mmio *mmio, uint64_t features, uint32_t nr,
			  uint32_t size);
/* A virtio-mmio transport for dev at FZ_MMIO on the rig's bus, as its next window. */
#define FZ_MMIO 0xd0000000ull
struct hv_virtio_mmio *fz_rig_mmio(struct fz_rig *r, struct hv_virtio_dev *dev);

/* Interrupt callbacks that only count, for configs that need one. */
extern unsigned long fz_irqs;
void fz_irq_level(void *opaque, int level);
void fz_irq_line(void *opaque, uint32_t irq, int level);
int fz_msi(void *opaque, uint64_t address, uint32_t data);
void fz_output(void *opaque, const uint8_t *buf, size_t len);

/* RAM-image targets: the input is RAM from 0 (rings at the fixed addresses
 * above); what lies past FZ_SCRIPT is the target's own script of host
 * actions. */
#define FZ_SCRIPT 0x7000u
static inline struct fz_in fz_script(const uint8_t *data, size_t size)
{
	struct fz_in in = { data + FZ_SCRIPT, size > FZ_SCRIPT ? size - FZ_SCRIPT : 0 };

	return in;
}

/* Virtio feature bits from one script byte: bit 6 EVENT_IDX, bit 7
 * INDIRECT_DESC, bits 0-5 the device's own, as the target maps them. */
static inline uint64_t fz_features(uint32_t byte, const uint64_t own[6])
{
	uint64_t f = 0;

	for (int i = 0; i < 6; i++)
		if (byte & (1u << i))
			f |= own[i];
	if (byte & 0x40)
		f |= HV_VIRTIO_F_EVENT_IDX;
	if (byte & 0x80)
		f |= HV_VIRTIO_F_INDIRECT_DESC;
	return f;
}

/* The next script command [op][len: len_bytes, le][len bytes], its length
 * cut to what is left; false once the script is over. */
static inline bool fz_next_cmd(struct fz_in *in, unsigned len_bytes, uint32_t *op,
			       const uint8_t **p, uint32_t *len)
{
	if (in->left < 1 + len_bytes)
		return false;
	*op = (uint32_t)fz_take(in, 1);
	*len = (uint32_t)fz_take(in, len_bytes);
	if (*len > in->left)
		*len = (uint32_t)in->left;
	*p = in->p;
	in->p += *len;
	in->left -= *len;
	return true;
}

/* A driver reset, then fz_driver_start() again. */
static inline void fz_driver_restart(struct hv_virtio_dev *dev, uint64_t features, uint32_t nr,
				     uint32_t size)
{
	hv_virtio_dev_write_status(dev, 0);
	fz_driver_start(dev, features, nr, size);
}

/* A virtio-console (80x24, output counted) with input_bytes of buffer. */
struct hv_virtio_console *fz_console(struct hv_mem *mem, uint32_t input_bytes);
/* Host input of the first n % 5 bytes of value (little-endian). */
void fz_console_input(struct hv_virtio_console *con, uint32_t n, uint32_t value);

#endif /* HV_TESTS_FUZZ_UTIL_H */
