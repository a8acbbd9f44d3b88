/* SPDX-License-Identifier: MIT */
/*
 * The balloon's requests, all guest-controlled: inflate/deflate page lists
 * (le32 page numbers of 4 KiB pages) and statistics buffers (le16 tag,
 * le64 value).  Page numbers are copied out before use; each one is
 * checked against the memory map, and runs of adjacent pages in one region
 * are released with a single hv_mem_discard().
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mem/mem_internal.h"
#include "virtio/balloon_internal.h"
#include "virtio/virtio_internal.h"

#define PAGE HV_VIRTIO_BALLOON_PAGE_SIZE
#define CHUNK 256u /* page numbers copied at a time */

uint64_t hv_balloon_ram_pages(const struct hv_virtio_balloon *bal)
{
	uint32_t ids[64];
	uint64_t bytes = 0;
	int n = hv_mem_regions(bal->mem, ids, 64);

	/* Guest RAM is a handful of regions; a map with more is counted in
	 * part, which only makes the sanity checks stricter. */
	for (int i = 0; i < n && i < 64; i++) {
		struct hv_mem_region_info ri;

		if (!hv_mem_region_info(bal->mem, ids[i], &ri) && !(ri.flags & HV_MEM_F_READONLY))
			bytes += ri.bytes;
	}
	return bytes / PAGE;
}

/* A run of adjacent pages [start, start + pages * PAGE) in one region. */
struct run {
	uint64_t start;
	uint64_t pages;
	uint32_t region; /* id */
};

static void flush_run(struct hv_virtio_balloon *bal, struct run *run, uint64_t *done)
{
	if (!run->pages)
		return;
	if (hv_mem_discard(bal->mem, run->start, run->pages * PAGE)) {
		/* Hugepage regions, or a failing madvise: the pages stay, which
		 * costs memory but never correctness. */
		bool log;

		pthread_mutex_lock(&bal->lock);
		log = !bal->discard_logged;
		bal->discard_logged = true;
		pthread_mutex_unlock(&bal->lock);
		if (log) /* outside the lock: the log callback may call into the balloon */
			hv_virtio_dev_logf(bal->dev, HV_LOG_WARN, "inflate: cannot release "
					   "0x%llx+0x%llx: %s (logged once)",
					   (unsigned long long)run->start,
					   (unsigned long long)(run->pages * PAGE), hv_last_error());
	} else {
		*done += run->pages;
	}
	run->pages = 0;
}

/* A page number the driver must not give: count it and log the first. */
static void skip_page(struct hv_virtio_balloon *bal, uint32_t pfn, const char *what,
		      uint64_t *skipped)
{
	bool log;

	(*skipped)++;
	pthread_mutex_lock(&bal->lock);
	log = !bal->skip_logged;
	bal->skip_logged = true;
	pthread_mutex_unlock(&bal->lock);
	if (log)
		hv_virtio_dev_logf(bal->dev, HV_LOG_WARN, "page 0x%x (address 0x%llx) %s: skipped "
				   "(logged once)", pfn, (unsigned long long)pfn * PAGE, what);
}

static void one_page(struct hv_virtio_balloon *bal, uint32_t pfn, bool inflate, struct run *run,
		     uint64_t *done, uint64_t *skipped)
{
	uint64_t gpa = (uint64_t)pfn * PAGE; /* < 2^44: no overflow */
	struct hv_mem_region r;

	if (!hv_mem_find(bal->mem, gpa, &r)) {
		skip_page(bal, pfn, "is not in guest RAM", skipped);
		return;
	}
	if (r.flags & HV_MEM_F_READONLY) {
		skip_page(bal, pfn, "is read-only memory", skipped);
		return;
	}
	if (!inflate) {
		(*done)++;
		return;
	}
	if (run->pages && run->region == r.id && gpa == run->start + run->pages * PAGE) {
		run->pages++;
		return;
	}
	flush_run(bal, run, done);
	*run = (struct run){ gpa, 1, r.id };
}

int hv_balloon_pages(struct hv_virtio_balloon *bal, const struct hv_virtq_req *req,
		     bool inflate, char *why, size_t why_len)
{
	uint64_t n, done = 0, skipped = 0;
	struct run run = { 0 };
	uint32_t pfns[CHUNK];

	if (req->nr_readable != req->nr_bufs) {
		snprintf(why, why_len, "%s request with device-writable buffers",
			 inflate ? "inflate" : "deflate");
		return -EIO;
	}
	if (req->readable_bytes % sizeof(uint32_t)) {
		snprintf(why, why_len, "%s request of %llu bytes (not whole page numbers)",
			 inflate ? "inflate" : "deflate", (unsigned long long)req->readable_bytes);
		return -EIO;
	}
	n = req->readable_bytes / sizeof(uint32_t);
	if (n > HV_VIRTIO_BALLOON_MAX_PFNS) {
		/* Refused, not a broken device: the spec sets no limit, so a
		 * driver other than Linux's may mean well; none of the pages is
		 * released, so the guest loses nothing by it. */
		hv_virtio_dev_logf(bal->dev, HV_LOG_WARN, "%s request of %llu page numbers "
				   "refused (at most %u)", inflate ? "inflate" : "deflate",
				   (unsigned long long)n, HV_VIRTIO_BALLOON_MAX_PFNS);
		pthread_mutex_lock(&bal->lock);
		bal->skipped += n;
		pthread_mutex_unlock(&bal->lock);
		return 0;
	}
	for (uint64_t i = 0; i < n; i += CHUNK) {
		uint64_t count = n - i < CHUNK ? n - i : CHUNK;

		/* A copy: the guest may rewrite the list while we walk it. */
		hv_virtq_req_read(req, i * sizeof(uint32_t), pfns, count * sizeof(uint32_t));
		for (uint64_t j = 0; j < count; j++)
			one_page(bal, le32toh(pfns[j]), inflate, &run, &done, &skipped);
	}
	flush_run(bal, &run, &done);
	pthread_mutex_lock(&bal->lock);
	if (inflate)
		bal->inflated += done;
	else
		bal->deflated += done;
	bal->skipped += skipped;
	pthread_mutex_unlock(&bal->lock);
	return 0;
}

void hv_balloon_parse_stats(struct hv_virtio_balloon *bal, const struct hv_virtq_req *req)
{
	uint64_t n = req->readable_bytes / BAL_STAT_BYTES;
	uint8_t e[BAL_STAT_BYTES];
	struct timespec ts;

	/* Unknown tags are ignored (virtio 1.2, 5.5.6.3.1); a torn tail too. */
	if (n > BAL_STATS_MAX)
		n = BAL_STATS_MAX;
	for (uint64_t i = 0; i < n; i++) {
		uint16_t tag;
		uint64_t val;

		if (hv_virtq_req_read(req, i * BAL_STAT_BYTES, e, sizeof(e)) != sizeof(e))
			break;
		memcpy(&tag, e, sizeof(tag));
		memcpy(&val, e + 2, sizeof(val));
		tag = le16toh(tag);
		if (tag >= HV_VIRTIO_BALLOON_S_NR)
			continue;
		bal->stats[tag] = le64toh(val);
		bal->stats_valid |= 1u << tag;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	bal->stats_time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	bal->stats_updates++;
}
