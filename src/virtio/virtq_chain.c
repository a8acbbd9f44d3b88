/* SPDX-License-Identifier: MIT */
/*
 * Descriptor chains (virtio 1.2, 2.7.5): direct descriptors, then at most
 * one indirect table (2.7.5.3).  Everything comes from the guest, so each
 * descriptor is copied out once and then checked: index inside its table,
 * buffer inside guest RAM, readable buffers before writable ones, no
 * indirect table inside an indirect table, and no more descriptors than the
 * table holds (which is how loops are caught: a chain that visits more
 * descriptors than exist must revisit one).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/config.h"
#include "virtio/virtq_chain.h"

struct walk {
	const struct vring_desc *table;
	uint32_t table_size;
	uint32_t visited;         /* descriptors taken from this table */
	bool in_indirect;
};

#define FAIL(...) (snprintf(why, why_len, __VA_ARGS__), -EIO)

static void read_desc(const struct walk *w, uint32_t i, struct vring_desc *d)
{
	/* One copy: the guest may change the descriptor while we look. */
	memcpy(d, &w->table[i], sizeof(*d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* keep the compiler from re-reading it */
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/* Host address of a buffer, its region pinned until the request is done
 * (and, writable, not ROM: the device must not write where the guest may not). */
static int pin_buf(struct hv_virtq *q, uint64_t gpa, uint32_t len, bool writable, void **hva)
{
	return hv_mem_pin_range(q->dev->mem, gpa, len, writable, &q->buf_pins, hva);
}

/* Why pin_buf() failed, for the log (the failure is rare: look again). */
static const char *pin_failure(struct hv_virtq *q, uint64_t gpa, uint32_t len)
{
	struct hv_mem_region r;

	if (!hv_mem_find(q->dev->mem, gpa, &r) || len > r.bytes - (gpa - r.gpa))
		return "is not in guest RAM";
	if (q->buf_pins.n == HV_MEM_PINS_MAX)
		return "would spread the queue's buffers in flight over too many memory regions";
	return "is ROM (device-writable) or in a region being removed";
}

/* Switch to the indirect table d describes. */
static int enter_indirect(struct hv_virtq *q, struct walk *w, const struct vring_desc *d,
			  char *why, size_t why_len)
{
	void *table;

	if (!q->indirect)
		return FAIL("queue %u: indirect descriptor, but VIRTIO_F_INDIRECT_DESC was not "
			    "negotiated", q->index);
	if (w->in_indirect)
		return FAIL("queue %u: indirect descriptor inside an indirect table", q->index);
	if (d->flags & VRING_DESC_F_NEXT)
		return FAIL("queue %u: indirect descriptor with NEXT set", q->index);
	if (!d->len || d->len % sizeof(struct vring_desc))
		return FAIL("queue %u: indirect table of %u bytes (a multiple of 16, not 0)",
			    q->index, d->len);
	if (d->len / sizeof(struct vring_desc) > q->max_size)
		return FAIL("queue %u: indirect table of %zu descriptors, more than %u", q->index,
			    d->len / sizeof(struct vring_desc), q->max_size);
	if (pin_buf(q, d->addr, d->len, false, &table))
		return FAIL("queue %u: indirect table [0x%llx, +0x%x) %s", q->index,
			    (unsigned long long)d->addr, d->len, pin_failure(q, d->addr, d->len));
	w->table = table;
	w->table_size = d->len / sizeof(struct vring_desc);
	w->visited = 0;
	w->in_indirect = true;
	return 0;
}

static int add_buf(struct hv_virtq *q, const struct vring_desc *d, struct hv_virtq_buf *bufs,
		   uint32_t max_bufs, struct hv_virtq_req *req, char *why, size_t why_len)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	void *hva;

	if (!writable && req->nr_readable != req->nr_bufs)
		return FAIL("queue %u: readable descriptor after a writable one", q->index);
	if (!d->len)
		return 0; /* nothing to transfer; order rules still apply */
	if (req->nr_bufs == max_bufs)
		return FAIL("queue %u: chain of more than %u buffers", q->index, max_bufs);
	if (pin_buf(q, d->addr, d->len, writable, &hva))
		return FAIL("queue %u: %s buffer [0x%llx, +0x%x) %s", q->index,
			    writable ? "writable" : "readable", (unsigned long long)d->addr,
			    d->len, pin_failure(q, d->addr, d->len));
	bufs[req->nr_bufs++] = (struct hv_virtq_buf){ hva, d->len, writable };
	if (writable) {
		req->writable_bytes += d->len;
	} else {
		req->nr_readable++;
		req->readable_bytes += d->len;
	}
	return 0;
}

int hv_virtq_walk_chain(struct hv_virtq *q, uint16_t head, struct hv_virtq_buf *bufs,
			uint32_t max_bufs, struct hv_virtq_req *req, char *why, size_t why_len)
{
	struct walk w = { q->desc, q->size, 0, false };
	uint32_t i = head;
	int ret;

	memset(req, 0, sizeof(*req));
	req->head = head;
	req->bufs = bufs;
	for (;;) {
		struct vring_desc d;

		if (i >= w.table_size)
			return FAIL("queue %u: descriptor index %u outside a table of %u", q->index,
				    i, w.table_size);
		if (++w.visited > w.table_size)
			return FAIL("queue %u: chain from head %u is longer than its table (%u): a "
				    "loop", q->index, head, w.table_size);
		read_desc(&w, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			ret = enter_indirect(q, &w, &d, why, why_len);
			if (ret)
				return ret;
			i = 0;
			continue;
		}
		ret = add_buf(q, &d, bufs, max_bufs, req, why, why_len);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

/* Copy between host memory and bufs[first, end) of a request, starting
 * `skip` bytes into them; the count copied. */
static size_t copy_bufs(const struct hv_virtq_req *req, uint32_t first, uint32_t end,
			uint64_t skip, uint8_t *host, size_t len, bool to_guest)
{
	size_t done = 0;

	for (uint32_t i = first; i < end && done < len; i++) {
		const struct hv_virtq_buf *b = &req->bufs[i];
		uint8_t *guest;
		size_t n;

		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		n = b->len - skip;
		if (n > len - done)
			n = len - done;
		guest = (uint8_t *)b->addr + skip;
		if (to_guest)
			memcpy(guest, host + done, n);
		else
			memcpy(host + done, guest, n);
		done += n;
		skip = 0;
	}
	return done;
}

HV_EXPORT size_t hv_virtq_req_read(const struct hv_virtq_req *req, uint64_t skip, void *buf,
				   size_t len)
{
	HV_CHECK_ARG_RET(req, 0);
	return copy_bufs(req, 0, req->nr_readable, skip, buf, len, false);
}

HV_EXPORT size_t hv_virtq_req_write(const struct hv_virtq_req *req, uint64_t skip,
				    const void *buf, size_t len)
{
	HV_CHECK_ARG_RET(req, 0);
	/* The buffer is only read: copy_bufs() writes to guest memory here. */
	return copy_bufs(req, req->nr_readable, req->nr_bufs, skip, (uint8_t *)(uintptr_t)buf,
			 len, true);
}
