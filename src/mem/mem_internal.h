/* SPDX-License-Identifier: MIT */
/* Internal view of the guest memory map, for the VM that mirrors it into KVM. */
#ifndef HV_MEM_INTERNAL_H
#define HV_MEM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlib/mem.h"

struct hv_mem_region {
	uint32_t id;       /* also the KVM slot */
	uint32_t flags;    /* HV_MEM_F_* */
	uint32_t backing;
	int fd;            /* owned by hvlib (memfd, or dup of the caller's file); -1 if none */
	uint64_t gpa;
	uint64_t bytes;
	uint8_t *host;
	bool unmap;        /* hvlib mapped host and unmaps it on removal */
	char *name;
};

/* Whoever mirrors the map (the VM) is told of every change before it becomes
 * visible; a failure from it cancels the change. */
struct hv_mem_listener {
	int (*region_add)(void *opaque, const struct hv_mem_region *r);
	void (*region_remove)(void *opaque, const struct hv_mem_region *r);
	int (*region_set_flags)(void *opaque, const struct hv_mem_region *r, uint32_t new_flags);
	int (*region_dirty_log)(void *opaque, const struct hv_mem_region *r, uint64_t *bitmap);
};

/* Attach the listener; max_regions bounds region ids (KVM's slot count). */
void hv_mem_attach(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque,
		   uint32_t max_regions);

/* The region containing gpa, or NULL.  Pure lookup. */
const struct hv_mem_region *hv_mem_find(const struct hv_mem *mem, uint64_t gpa);

/* Give the pages of [gpa, gpa + len) (inside one region, page aligned)
 * back to the host as the backing allows (mem_discard.c); their content is
 * lost.  -EFAULT: not inside one region; -EPERM: read-only region; -EINVAL:
 * not page aligned; -EOPNOTSUPP: not whole hugepages of a hugepage region;
 * -errno from madvise(). */
int hv_mem_discard(struct hv_mem *mem, uint64_t gpa, uint64_t len);

#endif /* HV_MEM_INTERNAL_H */
