/* SPDX-License-Identifier: MIT */
/* virtio-balloon's state, shared by the device (balloon.c) and the request
 * parsers (balloon_pages.c), and reachable by the unit and fuzz tests. */
#ifndef HV_BALLOON_INTERNAL_H
#define HV_BALLOON_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvlib/virtio_balloon.h"

#define BAL_QUEUE_SIZE 128u
enum { BAL_Q_INFLATE = 0, BAL_Q_DEFLATE = 1, BAL_Q_STATS = 2, BAL_NR_QUEUES = 3 };

/* Config space (virtio 1.2, 5.5.4): the fields this device has. */
#define BAL_CONFIG_BYTES 8u
#define BAL_CONFIG_ACTUAL 4u

/* One statistics entry as the driver writes it: le16 tag, le64 value. */
#define BAL_STAT_BYTES 10u
/* Most entries read from one stats buffer (the spec has 10, Linux 16). */
#define BAL_STATS_MAX 64u

struct hv_virtio_balloon {
	struct hv_virtio_dev *dev;
	struct hv_mem *mem;
	struct hv_vm *vm;

	/* Everything below.  Never held while calling into the device core
	 * (push, notify, config_changed take the device's locks, and the core
	 * calls ops->reset with its lock held). */
	pthread_mutex_t lock;
	uint32_t num_pages;           /* the host's target */
	uint32_t actual;              /* as the driver last wrote it */
	bool actual_logged, skip_logged, discard_logged;
	uint64_t inflated, deflated, skipped;

	/* The driver's stats buffer, kept until the host wants fresh stats. */
	bool stats_held;
	struct hv_virtq_req stats_req;
	uint32_t stats_valid;
	uint64_t stats[HV_VIRTIO_BALLOON_S_NR];
	uint64_t stats_updates, stats_time_ns;
};

/* Serve one inflate (inflate true) or deflate request: 0 (also for one
 * refused for carrying more than HV_VIRTIO_BALLOON_MAX_PFNS entries: the
 * caller pushes it back all the same), or -EIO if it is malformed (why
 * says how; the caller marks the device broken). */
int hv_balloon_pages(struct hv_virtio_balloon *bal, const struct hv_virtq_req *req,
		     bool inflate, char *why, size_t why_len);
/* Read the stats entries of a stats buffer into bal (bal->lock held). */
void hv_balloon_parse_stats(struct hv_virtio_balloon *bal, const struct hv_virtq_req *req);
/* Guest RAM pages (writable regions) of bal->mem. */
uint64_t hv_balloon_ram_pages(const struct hv_virtio_balloon *bal);

#endif /* HV_BALLOON_INTERNAL_H */
