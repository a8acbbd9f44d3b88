/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue layout in guest memory (virtio 1.2, 2.7).  All fields are
 * little-endian; the guest may rewrite any of them at any time, so hvlib
 * reads each one once into a host copy before checking it.
 */
#ifndef HV_VIRTIO_VRING_H
#define HV_VIRTIO_VRING_H

#include <stddef.h>
#include <stdint.h>

#define VRING_DESC_F_NEXT     1u
#define VRING_DESC_F_WRITE    2u
#define VRING_DESC_F_INDIRECT 4u

#define VRING_AVAIL_F_NO_INTERRUPT 1u
#define VRING_USED_F_NO_NOTIFY     1u

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Followed by ring[size] and, with VIRTIO_F_EVENT_IDX, used_event. */
struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Followed by ring[size] and, with VIRTIO_F_EVENT_IDX, avail_event. */
struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

_Static_assert(sizeof(struct vring_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(offsetof(struct vring_desc, len) == 8 && offsetof(struct vring_desc, flags) == 12 &&
		       offsetof(struct vring_desc, next) == 14, "virtq_desc layout");
_Static_assert(sizeof(struct vring_avail) == 4 && offsetof(struct vring_avail, ring) == 4,
	       "virtq_avail layout");
_Static_assert(sizeof(struct vring_used_elem) == 8, "virtq_used_elem is 8 bytes");
_Static_assert(sizeof(struct vring_used) == 4 && offsetof(struct vring_used, ring) == 4,
	       "virtq_used layout");

/* Bytes of each part for a queue of n entries, event fields included. */
static inline uint64_t vring_desc_bytes(uint32_t n)
{
	return 16ull * n;
}

static inline uint64_t vring_avail_bytes(uint32_t n)
{
	return 4ull + 2ull * n + 2;
}

static inline uint64_t vring_used_bytes(uint32_t n)
{
	return 4ull + 8ull * n + 2;
}

/* Alignment the spec requires of each part (2.7, table "Virtqueue Part Alignment"). */
#define VRING_DESC_ALIGN  16u
#define VRING_AVAIL_ALIGN 2u
#define VRING_USED_ALIGN  4u

/* The driver wants an event when the index moves from old past event
 * (virtio 1.2, 2.7.7.2 and 2.7.10.2): true if event is in [old, new). */
static inline int vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif /* HV_VIRTIO_VRING_H */
