/* SPDX-License-Identifier: MIT */
/*
 * hvlib/virtio_balloon.h - virtio memory balloon (virtio 1.2, 5.5), written
 * against the public device interface of hvlib/virtio.h.
 *
 * The host sets a target (hv_virtio_balloon_set_target()); the driver
 * inflates the balloon by handing guest pages over on the inflate queue,
 * which hvlib releases to the host (madvise(MADV_DONTNEED) for private
 * memory, hole punching for memfd/shared file memory), or deflates it on
 * the deflate queue to take pages back (they refault as zeros, or as the
 * file's content for file-backed memory).  The driver reports how many pages
 * it holds in `actual`.  VIRTIO_BALLOON_F_STATS_VQ and
 * VIRTIO_BALLOON_F_DEFLATE_ON_OOM are offered: the driver's statistics
 * (free memory, total memory, ...) are refreshed on request
 * (hv_virtio_balloon_request_stats()) and read with hv_virtio_balloon_get().
 *
 * The guest is hostile: page numbers outside guest RAM or in read-only
 * memory are skipped (and logged once); a request with more than
 * HV_VIRTIO_BALLOON_MAX_PFNS entries is refused whole (used with length 0,
 * no page released, its entries counted as skipped, logged rate-limited);
 * a malformed request (a length that is not a whole number of 32-bit
 * entries, device-writable buffers) marks the device DEVICE_NEEDS_RESET.  Nothing the guest writes reaches the host beyond the
 * pages it gives up.  `actual` is the driver's claim, not a measurement.
 *
 * Ownership: the config is copied; create() gives the caller the balloon
 * until destroy(); hv_virtio_balloon_dev() is owned by the balloon.
 * Threading: queues are served on vCPU or ioloop threads (hvlib/virtio.h);
 * set_target, request_stats and get may be called from any thread at any
 * time while the balloon exists (they take the balloon's own lock and never
 * wait for the guest).
 */
#ifndef HVLIB_VIRTIO_BALLOON_H
#define HVLIB_VIRTIO_BALLOON_H

#include <stdint.h>

#include "common.h"
#include "mem.h"
#include "virtio.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HV_VIRTIO_ID_BALLOON 5u

/* Feature bits offered (virtio 1.2, 5.5.3). */
#define HV_VIRTIO_BALLOON_F_STATS_VQ       (1ull << 1)
#define HV_VIRTIO_BALLOON_F_DEFLATE_ON_OOM (1ull << 2)

/* The balloon's page: page numbers are guest-physical address >> 12. */
#define HV_VIRTIO_BALLOON_PAGE_SIZE 4096u
/* Most page numbers one inflate/deflate request may carry: what Linux
 * sends at most (VIRTIO_BALLOON_ARRAY_PFNS_MAX), so one request costs the
 * serving thread a bounded amount of work. */
#define HV_VIRTIO_BALLOON_MAX_PFNS 256u

/* Statistics tags (virtio 1.2, 5.5.6.3; later tags as Linux defines them).
 * Values are bytes for the memory ones, counts for the others. */
#define HV_VIRTIO_BALLOON_S_SWAP_IN        0u
#define HV_VIRTIO_BALLOON_S_SWAP_OUT       1u
#define HV_VIRTIO_BALLOON_S_MAJFLT         2u
#define HV_VIRTIO_BALLOON_S_MINFLT         3u
#define HV_VIRTIO_BALLOON_S_MEMFREE        4u
#define HV_VIRTIO_BALLOON_S_MEMTOT         5u
#define HV_VIRTIO_BALLOON_S_AVAIL          6u
#define HV_VIRTIO_BALLOON_S_CACHES         7u
#define HV_VIRTIO_BALLOON_S_HTLB_PGALLOC   8u
#define HV_VIRTIO_BALLOON_S_HTLB_PGFAIL    9u
#define HV_VIRTIO_BALLOON_S_NR             16u /* tags kept; higher ones are ignored */

struct hv_virtio_balloon;

struct hv_virtio_balloon_config {
	uint32_t size;          /* sizeof(struct hv_virtio_balloon_config) */
	uint32_t flags;         /* none yet: must be 0 */
	struct hv_vm *vm;       /* as struct hv_virtio_dev_config */
	struct hv_mem *mem;
	const char *name;       /* for logs; NULL: "virtio-balloon" */
	struct hv_ioloop *ioloop; /* as struct hv_virtio_dev_config; borrowed */
};

/* What the balloon knows (hv_virtio_balloon_get()). */
struct hv_virtio_balloon_info {
	uint32_t size;           /* set by the caller: sizeof(struct hv_virtio_balloon_info) */
	uint32_t stats_valid;    /* bit t: stats[t] was reported by the driver */
	uint64_t target_bytes;   /* what the host asked for */
	uint64_t actual_bytes;   /* what the driver says it holds */
	uint64_t inflated_pages; /* pages released to the host so far (counter) */
	uint64_t deflated_pages; /* pages the driver took back so far (counter) */
	uint64_t skipped_pages;  /* page numbers refused (outside RAM, read-only, too many) */
	uint64_t stats_updates;  /* how many stats buffers arrived; 0: none yet */
	uint64_t stats_time_ns;  /* CLOCK_MONOTONIC of the latest, 0: none */
	uint64_t stats[HV_VIRTIO_BALLOON_S_NR]; /* by tag, valid where stats_valid says */
};

HV_EXPORT void hv_virtio_balloon_config_init(struct hv_virtio_balloon_config *cfg);
/* Caller owns *out until hv_virtio_balloon_destroy().  -EINVAL (bad config),
 * -ENOMEM. */
HV_EXPORT int hv_virtio_balloon_create(const struct hv_virtio_balloon_config *cfg,
				       struct hv_virtio_balloon **out);
/* The transport must be destroyed first.  NULL: no-op. */
HV_EXPORT void hv_virtio_balloon_destroy(struct hv_virtio_balloon *bal);
/* The virtio device, for a transport; owned by bal. */
HV_EXPORT struct hv_virtio_dev *hv_virtio_balloon_dev(struct hv_virtio_balloon *bal);

/* Ask the driver to hold `bytes` of guest memory (rounded down to pages;
 * 0 deflates completely) and tell it with a configuration change interrupt.
 * Returns at once: watch actual_bytes (hv_virtio_balloon_get()).
 * -EINVAL: more than the guest's RAM, or more than 2^32 - 1 pages. */
HV_EXPORT int hv_virtio_balloon_set_target(struct hv_virtio_balloon *bal, uint64_t bytes);

/* Fill *info (info->size set by the caller; a smaller, older struct gets
 * its leading part).  -EINVAL: size too small for the first fields. */
HV_EXPORT int hv_virtio_balloon_get(struct hv_virtio_balloon *bal,
				    struct hv_virtio_balloon_info *info);

/* Ask the driver for fresh statistics: the buffer it left with the device
 * is handed back, and the driver returns it refilled (stats_updates grows).
 * -EAGAIN: the driver has not given a stats buffer (yet: it did not
 * negotiate VIRTIO_BALLOON_F_STATS_VQ, or is still answering the last
 * request). */
HV_EXPORT int hv_virtio_balloon_request_stats(struct hv_virtio_balloon *bal);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VIRTIO_BALLOON_H */
