/* SPDX-License-Identifier: MIT */
/*
 * Internal view of the guest memory map: for the VM that mirrors it into
 * KVM, the devices that keep pointers into it, and vhost.
 */
#ifndef HV_MEM_INTERNAL_H
#define HV_MEM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlib/mem.h"

struct hv_mem_region {
	uint32_t id;       /* also the KVM slot */
	uint32_t flags;    /* HV_MEM_F_*; atomic: hv_mem_set_dirty_log() may change it */
	uint32_t backing;
	int fd;            /* owned by hvlib (memfd, or dup of the caller's file); -1 if none */
	uint64_t gpa;
	uint64_t bytes;
	uint8_t *host;
	bool unmap;        /* hvlib mapped host and unmaps it on removal */
	char *name;
	/* Atomic: how many pin sets hold the region (removal: -EBUSY), or -1
	 * once its removal has begun (new pins fail). */
	int pins;
};

/*
 * Someone who follows the map: the VM (KVM memory slots), each virtio
 * device (its queues' cached ring pointers), vhost (its memory table).
 * Every op is optional.  Ops run on the thread that changes the map, with
 * the map's writer lock held and no other hvlib lock: they may call the
 * read side (translate, read, write, find, regions, region_info) but must
 * not add or remove regions, toggle dirty logging, or (un)register
 * listeners of this map; locks they take must never be held by a thread
 * while it changes the map.
 */
struct hv_mem_listener {
	/* Before r becomes visible; an error cancels the add. */
	int (*region_add)(void *opaque, const struct hv_mem_region *r);
	/* After r stopped being visible, before its memory is unmapped. */
	void (*region_remove)(void *opaque, const struct hv_mem_region *r);
	/* Before r's flags change to new_flags; an error cancels the change. */
	int (*region_set_flags)(void *opaque, const struct hv_mem_region *r, uint32_t new_flags);
	/* Fetch and clear r's dirty bitmap; the first listener that has it. */
	int (*region_dirty_log)(void *opaque, const struct hv_mem_region *r, uint64_t *bitmap);
	/* After any add or remove is visible (for a removal: before the
	 * memory is unmapped): the map as readers see it now. */
	void (*map_changed)(void *opaque, struct hv_mem *mem);
};

/* Register a listener (l and opaque are borrowed until removed); it is told
 * of changes from now on, not of regions already there.  -ENOMEM. */
int hv_mem_listener_add(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque);
/* Unregister (l, opaque); once it returns no op of it runs.  Unknown: no-op. */
void hv_mem_listener_remove(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque);

/* The VM: register its listener; max_regions bounds region ids (KVM's slot
 * count).  -ENOMEM. */
int hv_mem_attach(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque,
		  uint32_t max_regions);

/* A copy of the region containing gpa into *out (name NULL: a copy cannot
 * keep it alive), or false.  Pure lookup. */
bool hv_mem_find(const struct hv_mem *mem, uint64_t gpa, struct hv_mem_region *out);

/*
 * Pins: a device that keeps host pointers into guest memory past one call
 * (a running queue's rings, buffers taken but not yet used) pins their
 * regions, and hv_mem_remove_region() refuses a pinned region with -EBUSY.
 * A set holds each region once.
 */
#define HV_MEM_PINS_MAX 8u
struct hv_mem_pins {
	struct hv_mem_region *r[HV_MEM_PINS_MAX];
	uint32_t n;
};

/* hv_mem_translate() of [gpa, gpa + len), refusing read-only regions when
 * writable, and the region added to set (pinned) if it is not in it yet.
 * -EFAULT: not inside one region (or ROM for writable); -EBUSY: the region
 * is being removed; -ENOSPC: the set is full.  No message (hot path). */
int hv_mem_pin_range(struct hv_mem *mem, uint64_t gpa, uint64_t len, bool writable,
		     struct hv_mem_pins *set, void **hva);
/* Drop every pin of the set and empty it. */
void hv_mem_unpin_all(struct hv_mem_pins *set);

/* Give the pages of [gpa, gpa + len) (inside one region, page aligned)
 * back to the host as the backing allows (mem_discard.c); their content is
 * lost.  -EFAULT: not inside one region; -EPERM: read-only region; -EINVAL:
 * not page aligned; -EOPNOTSUPP: not whole hugepages of a hugepage region;
 * -errno from madvise(). */
int hv_mem_discard(struct hv_mem *mem, uint64_t gpa, uint64_t len);

#endif /* HV_MEM_INTERNAL_H */
