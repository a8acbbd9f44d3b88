/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2, 2.7): ring set-up, taking available chains,
 * publishing used ones and deciding when to interrupt.  Chain walking is in
 * virtq_chain.c.
 *
 * Memory ordering: the guest runs concurrently on other CPUs and follows the
 * spec's barriers; each one on this side names the guest access it pairs
 * with.  Guest ring fields are read once (atomic loads) into host copies
 * before they are checked, so a guest that rewrites them mid-check gains
 * nothing.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mem/mem_internal.h"
#include "util/config.h"
#include "util/error.h"
#include "virtio/virtio_internal.h"
#include "virtio/virtq_chain.h"

int hv_virtq_init(struct hv_virtq *q, struct hv_virtio_dev *dev, uint32_t index,
		  uint32_t max_size)
{
	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->index = index;
	q->max_size = max_size;
	q->size = max_size;
	if (pthread_mutex_init(&q->lock, NULL))
		return -ENOMEM;
	return 0;
}

void hv_virtq_fini(struct hv_virtq *q)
{
	hv_mem_unpin_all(&q->ring_pins);
	hv_virtq_release_bufs(q);
	pthread_mutex_destroy(&q->lock);
}

void hv_virtq_release_bufs(struct hv_virtq *q)
{
	hv_mem_unpin_all(&q->buf_pins);
	q->inflight = 0;
}

static int ring_part(struct hv_virtq *q, uint64_t gpa, uint64_t bytes, uint32_t align,
		     bool writable, const char *what, void **hva)
{
	if (gpa % align)
		return hv_err(-EINVAL, "queue %u: %s at 0x%llx is not %u-byte aligned", q->index,
			      what, (unsigned long long)gpa, align);
	/* Pinned: the region cannot be removed while the queue runs. */
	if (hv_mem_pin_range(q->dev->mem, gpa, bytes, writable, &q->ring_pins, hva))
		return hv_err(-EFAULT, "queue %u: %s [0x%llx, +0x%llx) is not in guest RAM (or "
				       "is ROM, or is being removed)", q->index, what,
			      (unsigned long long)gpa, (unsigned long long)bytes);
	return 0;
}

int hv_virtq_start(struct hv_virtq *q, uint64_t features)
{
	void *desc, *avail, *used;
	int ret;

	hv_mem_unpin_all(&q->ring_pins);
	/* Split rings index modulo the size, which must be a power of two
	 * (virtio 1.2, 2.7): any other value would break free-running indices. */
	if (!q->size || q->size > q->max_size || (q->size & (q->size - 1)))
		return hv_err(-EINVAL, "queue %u: size %u (a power of two, 1..%u)", q->index,
			      q->size, q->max_size);
	ret = ring_part(q, q->desc_gpa, vring_desc_bytes(q->size), VRING_DESC_ALIGN, false,
			"descriptor table", &desc);
	if (!ret)
		ret = ring_part(q, q->avail_gpa, vring_avail_bytes(q->size), VRING_AVAIL_ALIGN,
				true, "available ring", &avail);
	if (!ret)
		ret = ring_part(q, q->used_gpa, vring_used_bytes(q->size), VRING_USED_ALIGN, true,
				"used ring", &used);
	if (ret) {
		hv_mem_unpin_all(&q->ring_pins);
		return ret;
	}
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->event_idx = features & HV_VIRTIO_F_EVENT_IDX;
	q->indirect = features & HV_VIRTIO_F_INDIRECT_DESC;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->broken = false;
	q->generation++;
	/* A fresh ring: we never ask the driver to hold back notifications. */
	__atomic_store_n(&q->used->flags, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&q->used->idx, 0, __ATOMIC_RELEASE);
	q->running = true;
	return 0;
}

void hv_virtq_stop(struct hv_virtq *q)
{
	q->running = false;
	q->generation++;
	hv_mem_unpin_all(&q->ring_pins);
}

void hv_virtq_reset(struct hv_virtq *q)
{
	hv_mem_unpin_all(&q->ring_pins);
	q->running = false;
	q->broken = false;
	q->ready = false;
	q->generation++;
	q->size = q->max_size;
	q->desc_gpa = q->avail_gpa = q->used_gpa = 0;
	q->desc = NULL;
	q->avail = NULL;
	q->used = NULL;
}

HV_EXPORT uint32_t hv_virtq_max_bufs(const struct hv_virtq *q)
{
	HV_CHECK_ARG_RET(q, 0);
	return q->max_size;
}

static uint16_t *avail_event(struct hv_virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

static const uint16_t *used_event(struct hv_virtq *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t load_avail_idx(struct hv_virtq *q)
{
	/* Acquire pairs with the driver's write barrier between filling
	 * avail->ring[] (and the descriptors) and publishing avail->idx. */
	return le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
}

/* Whether a chain is waiting; with EVENT_IDX, on finding the ring empty,
 * ask for a notification when the next one comes. */
static bool avail_pending(struct hv_virtq *q, uint16_t *avail_idx)
{
	*avail_idx = load_avail_idx(q);
	if (*avail_idx != q->last_avail || !q->event_idx)
		return *avail_idx != q->last_avail;
	__atomic_store_n(avail_event(q), htole16(q->last_avail), __ATOMIC_RELAXED);
	/* Full barrier: our avail_event store against our re-read of
	 * avail->idx.  Pairs with the driver's full barrier between publishing
	 * avail->idx and reading avail_event (virtio 2.7.13): either it sees
	 * the new avail_event and notifies, or we see its new index here. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*avail_idx = load_avail_idx(q);
	return *avail_idx != q->last_avail;
}

static int pop_locked(struct hv_virtq *q, struct hv_virtq_buf *bufs, uint32_t max_bufs,
		      struct hv_virtq_req *req, char *why, size_t why_len)
{
	uint16_t avail_idx, head;
	int ret;

	if (!avail_pending(q, &avail_idx))
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
		snprintf(why, why_len, "queue %u: available index %u is more than the queue size "
			 "%u ahead of %u", q->index, avail_idx, q->size, q->last_avail);
		return -EIO;
	}
	head = le16toh(__atomic_load_n(&q->avail->ring[q->last_avail % q->size],
				       __ATOMIC_RELAXED));
	ret = hv_virtq_walk_chain(q, head, bufs, max_bufs, req, why, why_len);
	if (ret) {
		if (!q->inflight)
			hv_virtq_release_bufs(q);
		return ret;
	}
	req->generation = q->generation;
	q->last_avail++;
	q->inflight++;
	return 1;
}

HV_EXPORT int hv_virtq_pop(struct hv_virtq *q, struct hv_virtq_buf *bufs, uint32_t max_bufs,
			   struct hv_virtq_req *req)
{
	char why[160];
	int ret = 0;

	HV_CHECK_ARG(q);
	HV_CHECK_ARG(req);

	pthread_mutex_lock(&q->lock);
	if (q->broken)
		ret = -EIO;
	else if (q->running && !hv_virtq_over_budget(q))
		ret = pop_locked(q, bufs, max_bufs, req, why, sizeof(why));
	if (ret == -EIO && !q->broken) {
		q->broken = true;
		pthread_mutex_unlock(&q->lock);
		/* Outside q->lock: the device lock comes first. */
		hv_virtio_dev_needs_reset(q->dev, why);
		return ret;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

HV_EXPORT void hv_virtq_push(struct hv_virtq *q, const struct hv_virtq_req *req,
			     uint32_t written)
{
	struct vring_used_elem *elem;

	HV_CHECK_ARG_RET(q, );
	HV_CHECK_ARG_RET(req, );

	if (written > req->writable_bytes)
		written = (uint32_t)req->writable_bytes;
	pthread_mutex_lock(&q->lock);
	if (q->running && !q->broken && req->generation == q->generation) {
		elem = &q->used->ring[q->used_idx % q->size];
		__atomic_store_n(&elem->id, htole32(req->head), __ATOMIC_RELAXED);
		__atomic_store_n(&elem->len, htole32(written), __ATOMIC_RELAXED);
		q->used_idx++;
		/* Release: the element (and the data written into the
		 * buffers) is visible before the new index.  Pairs with the
		 * driver's read barrier after it reads used->idx. */
		__atomic_store_n(&q->used->idx, htole16(q->used_idx), __ATOMIC_RELEASE);
		if (q->inflight && !--q->inflight)
			hv_virtq_release_bufs(q);
	}
	pthread_mutex_unlock(&q->lock);
}

static bool should_interrupt(struct hv_virtq *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx;
	bool valid = q->signalled_valid;

	/* Full barrier: our used->idx store against our read of the driver's
	 * used_event / avail->flags.  Pairs with the driver's full barrier
	 * between writing used_event (or clearing NO_INTERRUPT) and re-reading
	 * used->idx: either it sees our new index, or we see its request. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = now;
	q->signalled_valid = true;
	if (valid && old == now)
		return false;
	if (!q->event_idx)
		return !(le16toh(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED)) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	return vring_need_event(le16toh(__atomic_load_n(used_event(q), __ATOMIC_RELAXED)), now,
				old);
}

HV_EXPORT void hv_virtq_notify(struct hv_virtq *q)
{
	bool fire = false;

	HV_CHECK_ARG_RET(q, );

	pthread_mutex_lock(&q->lock);
	if (q->running && !q->broken)
		fire = should_interrupt(q);
	pthread_mutex_unlock(&q->lock);
	if (fire)
		hv_virtio_dev_queue_interrupt(q->dev, q->index);
}
