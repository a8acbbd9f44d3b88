/* SPDX-License-Identifier: MIT */
/*
 * A tiny guest that drives devices by script, for hostile-guest tests: the
 * host writes a list of operations into guest RAM; the guest (real mode, a
 * few dozen bytes of code) performs them one by one as its own MMIO and
 * RAM accesses, so each one reaches the device through a real KVM exit (or
 * a KVM ioeventfd), then halts.  MMIO offsets are relative to
 * SCRIPT_MMIO_BASE (the guest's DS), RAM offsets to 0 (the guest's ES).
 * Plus a minimal virtio-mmio driver built from such operations and host
 * helpers for the split rings the host lays out in guest RAM.
 */
#ifndef HV_TEST_GUEST_SCRIPT_H
#define HV_TEST_GUEST_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlib/hvlib.h"

#define SCRIPT_MMIO_BASE 0xd0000u /* DS = 0xd000 */
#define SCRIPT_COUNTER 0x1ff0u    /* repeat counter (RAM) */
#define SCRIPT_BASE 0x2000u       /* operations (RAM), up to SCRIPT_END */
#define SCRIPT_END 0x8000u

struct script {
	uint8_t *ram;
	uint32_t n;
	uint32_t mark;
};

void sc_begin(struct script *s, uint8_t *ram);
void sc_w32(struct script *s, uint16_t mmio_off, uint32_t val);  /* MMIO dword write */
void sc_w8(struct script *s, uint16_t mmio_off, uint8_t val);    /* MMIO byte write */
void sc_r32(struct script *s, uint16_t mmio_off);                /* MMIO dword read */
void sc_inc16(struct script *s, uint16_t ram_off);               /* RAM word += 1 */
/* Spin (a bounded while, ~10^6 rounds) until the RAM words at ram_off and
 * ram_off2 are equal, e.g. a used index and its avail index. */
void sc_wait16(struct script *s, uint16_t ram_off, uint16_t ram_off2);
/* Where sc_repeat() goes back to (default: the start). */
void sc_mark(struct script *s);
/* Run the operations from the mark to here `times` times in all (one
 * repeat per script: the counter is shared). */
void sc_repeat(struct script *s, uint32_t times);
/* Halt, copy the code in, run the vCPU (no irqchip) until it halts.
 * Returns 0, or -1 with a message on stderr. */
int sc_run(struct script *s, struct hv_vcpu *vcpu);

/* virtio-mmio driver steps, dev = the device's offset from SCRIPT_MMIO_BASE. */
void vd_reset(struct script *s, uint16_t dev);
/* reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 always), FEATURES_OK */
void vd_init(struct script *s, uint16_t dev, uint64_t features);
void vd_queue(struct script *s, uint16_t dev, uint32_t q, uint32_t num, uint64_t desc,
	      uint64_t avail, uint64_t used);
void vd_driver_ok(struct script *s, uint16_t dev);
void vd_notify(struct script *s, uint16_t dev, uint32_t q);

/* A split ring laid out by the host in guest RAM. */
struct ring {
	uint8_t *ram;
	uint64_t desc, avail, used;
	uint16_t num;
	uint16_t avail_idx;
	uint16_t used_seen;
};

void ring_init(struct ring *r, uint8_t *ram, uint64_t desc, uint64_t avail, uint64_t used,
	       uint16_t num);
void ring_desc(struct ring *r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	       uint16_t next);
void ring_post(struct ring *r, uint16_t head);       /* avail[idx++] = head */
void ring_set_avail_idx(struct ring *r, uint16_t idx);
uint16_t ring_used_idx(const struct ring *r);
uint32_t ring_used_len(const struct ring *r, uint16_t slot);
/* Wait up to ms for the used index to reach want; true if it did. */
bool ring_wait_used(const struct ring *r, uint16_t want, int ms);

#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
#define VRING_DESC_F_INDIRECT 4u

#endif
