/* SPDX-License-Identifier: MIT */
/*
 * The read side of the guest memory map: the two-slot region table (see
 * mem_map.h), lookups, translation, copies and pins.  Everything here may
 * run on any thread while another changes the map.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem/mem_map.h"
#include "util/config.h"
#include "util/error.h"

#define SC __ATOMIC_SEQ_CST

/* A reader counter for this thread: stacks of different threads lie far
 * apart, and one thread's calls stay within 64 KiB of each other. */
static unsigned int shard_here(void)
{
	char here;
	uint64_t x = (uint64_t)(uintptr_t)&here >> 16;

	return (unsigned int)((x * 0x9e3779b97f4a7c15ull) >> 61) % HV_MEM_READER_SHARDS;
}

const struct hv_mem_table *hv_mem_read_begin(const struct hv_mem *cmem, unsigned int *token)
{
	/* The counts are bookkeeping, not the map: a const map is read only. */
	struct hv_mem *mem = (struct hv_mem *)(uintptr_t)cmem;
	unsigned int shard = shard_here(), s;
	unsigned long *n = mem->readers[shard].n;

	for (;;) {
		s = __atomic_load_n(&mem->cur, SC);
		__atomic_add_fetch(&n[s], 1, SC);
		/* Still current after we counted ourselves in: any writer that
		 * wants this slot now sees us and waits. */
		if (__atomic_load_n(&mem->cur, SC) == s)
			break;
		__atomic_sub_fetch(&n[s], 1, SC);
	}
	*token = shard * 2 + s;
	return &mem->slot[s];
}

void hv_mem_read_end(const struct hv_mem *cmem, unsigned int token)
{
	struct hv_mem *mem = (struct hv_mem *)(uintptr_t)cmem;

	__atomic_sub_fetch(&mem->readers[token / 2].n[token % 2], 1, SC);
}

const struct hv_mem_table *hv_mem_table_now(const struct hv_mem *mem)
{
	return &mem->slot[__atomic_load_n(&mem->cur, __ATOMIC_RELAXED)];
}

static void wait_readers_gone(struct hv_mem *mem, unsigned int slot)
{
	/* Read sections are a lookup and a copy: short, and never blocked;
	 * but a reader may have been preempted inside one, so after a few
	 * yields sleep and let it run. */
	for (unsigned int i = 0, spins = 0; i < HV_MEM_READER_SHARDS; i++) {
		while (__atomic_load_n(&mem->readers[i].n[slot], SC)) {
			if (spins++ < 16)
				sched_yield();
			else
				nanosleep(&(struct timespec){ 0, 20000 }, NULL);
		}
	}
}

int hv_mem_table_replace(struct hv_mem *mem, struct hv_mem_region *add,
			 const struct hv_mem_region *drop)
{
	unsigned int old = __atomic_load_n(&mem->cur, __ATOMIC_RELAXED), next = !old;
	const struct hv_mem_table *from = &mem->slot[old];
	struct hv_mem_table *to = &mem->slot[next];
	uint32_t n = 0;

	/* Readers that counted into the spare slot since the last change
	 * found it not current and are leaving; then it is ours. */
	wait_readers_gone(mem, next);
	if (to->capacity < from->count + 1) {
		uint32_t cap = from->count + 8;
		struct hv_mem_region **grown = realloc(to->regions, cap * sizeof(*grown));

		if (!grown)
			return hv_err(-ENOMEM, "growing the guest memory map");
		to->regions = grown;
		to->capacity = cap;
	}
	for (uint32_t i = 0; i < from->count; i++) {
		struct hv_mem_region *r = from->regions[i];

		if (add && add->gpa < r->gpa) {
			to->regions[n++] = add;
			add = NULL;
		}
		if (r != drop)
			to->regions[n++] = r;
	}
	if (add)
		to->regions[n++] = add;
	to->count = n;
	__atomic_store_n(&mem->cur, next, SC);
	wait_readers_gone(mem, old);
	return 0;
}

void hv_mem_table_free(struct hv_mem *mem)
{
	free(mem->slot[0].regions);
	free(mem->slot[1].regions);
}

struct hv_mem_region *hv_mem_table_find(const struct hv_mem_table *t, uint64_t gpa)
{
	int64_t lo = 0, hi = (int64_t)t->count - 1, best = -1;

	/* The last region with gpa <= addr. */
	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (t->regions[mid]->gpa <= gpa) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	if (best < 0 || gpa - t->regions[best]->gpa >= t->regions[best]->bytes)
		return NULL;
	return t->regions[best];
}

struct hv_mem_region *hv_mem_table_range(const struct hv_mem_table *t, uint64_t gpa,
					 uint64_t len)
{
	struct hv_mem_region *r = hv_mem_table_find(t, gpa);

	if (len == 0)
		len = 1;
	/* gpa - r->gpa < bytes, so bytes - offset cannot underflow. */
	if (!r || len > r->bytes - (gpa - r->gpa))
		return NULL;
	return r;
}

static uint32_t flags_of(const struct hv_mem_region *r)
{
	return __atomic_load_n(&r->flags, __ATOMIC_RELAXED);
}

bool hv_mem_find(const struct hv_mem *mem, uint64_t gpa, struct hv_mem_region *out)
{
	unsigned int slot;
	const struct hv_mem_region *r = hv_mem_table_find(hv_mem_read_begin(mem, &slot), gpa);

	if (r) /* field by field: pins and flags change under us (atomically) */
		*out = (struct hv_mem_region){
			.id = r->id, .flags = flags_of(r), .backing = r->backing, .fd = r->fd,
			.gpa = r->gpa, .bytes = r->bytes, .host = r->host, .unmap = r->unmap,
		};
	hv_mem_read_end(mem, slot);
	return r != NULL;
}

HV_EXPORT int hv_mem_translate(const struct hv_mem *mem, uint64_t gpa, uint64_t len, void **hva)
{
	unsigned int slot;
	const struct hv_mem_table *t;
	const struct hv_mem_region *r;
	int ret = 0;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(hva);
	t = hv_mem_read_begin(mem, &slot);
	r = hv_mem_table_range(t, gpa, len);

	if (r)
		*hva = r->host + (gpa - r->gpa);
	else if (!hv_mem_table_find(t, gpa))
		ret = hv_err(-EFAULT, "guest address 0x%llx is not in guest RAM",
			     (unsigned long long)gpa);
	else
		ret = hv_err(-EFAULT, "guest range 0x%llx+0x%llx runs past the end of its region",
			     (unsigned long long)gpa, (unsigned long long)len);
	hv_mem_read_end(mem, slot);
	return ret;
}

/* Check that [gpa, gpa + len) is entirely backed by adjacent regions. */
static int check_span(const struct hv_mem_table *t, uint64_t gpa, size_t len)
{
	uint64_t addr = gpa, left = len;

	if (gpa + len < gpa)
		return hv_err(-EFAULT, "guest range 0x%llx+0x%zx wraps around",
			      (unsigned long long)gpa, len);
	while (left) {
		const struct hv_mem_region *r = hv_mem_table_find(t, addr);
		uint64_t chunk;

		if (!r)
			return hv_err(-EFAULT, "guest range 0x%llx+0x%zx: 0x%llx is not in guest RAM",
				      (unsigned long long)gpa, len, (unsigned long long)addr);
		chunk = r->bytes - (addr - r->gpa);
		if (chunk > left)
			chunk = left;
		addr += chunk;
		left -= chunk;
	}
	return 0;
}

/* Copy into the guest from `in`, or out of it into `out` (the other NULL),
 * all inside one read section: the memory cannot be unmapped meanwhile. */
static int copy_span(const struct hv_mem *mem, uint64_t gpa, void *out, const void *in,
		     size_t len)
{
	unsigned int slot;
	const struct hv_mem_table *t = hv_mem_read_begin(mem, &slot);
	uint8_t *dst = out;
	const uint8_t *src = in;
	int ret = check_span(t, gpa, len);

	while (!ret && len) {
		const struct hv_mem_region *r = hv_mem_table_find(t, gpa);
		uint64_t offset = gpa - r->gpa;
		size_t chunk = r->bytes - offset < len ? (size_t)(r->bytes - offset) : len;

		if (src) {
			memcpy(r->host + offset, src, chunk);
			src += chunk;
		} else {
			memcpy(dst, r->host + offset, chunk);
			dst += chunk;
		}
		gpa += chunk;
		len -= chunk;
	}
	hv_mem_read_end(mem, slot);
	return ret;
}

HV_EXPORT int hv_mem_read(const struct hv_mem *mem, uint64_t gpa, void *buf, size_t len)
{
	HV_CHECK_ARG(mem);
	return copy_span(mem, gpa, buf, NULL, len);
}

HV_EXPORT int hv_mem_write(struct hv_mem *mem, uint64_t gpa, const void *buf, size_t len)
{
	HV_CHECK_ARG(mem);
	return copy_span(mem, gpa, NULL, buf, len);
}

/* One more pin, unless the region's removal has begun. */
static bool pin_get(struct hv_mem_region *r)
{
	int v = __atomic_load_n(&r->pins, SC);

	while (v >= 0)
		if (__atomic_compare_exchange_n(&r->pins, &v, v + 1, false, SC, SC))
			return true;
	return false;
}

int hv_mem_pin_range(struct hv_mem *mem, uint64_t gpa, uint64_t len, bool writable,
		     struct hv_mem_pins *set, void **hva)
{
	unsigned int slot;
	struct hv_mem_region *r = hv_mem_table_range(hv_mem_read_begin(mem, &slot), gpa, len);
	int ret = 0;
	uint32_t i;

	if (!r || (writable && (flags_of(r) & HV_MEM_F_READONLY))) {
		ret = -EFAULT;
		goto out;
	}
	for (i = 0; i < set->n && set->r[i] != r; i++)
		;
	if (i == set->n) {
		if (set->n == HV_MEM_PINS_MAX) {
			ret = -ENOSPC;
			goto out;
		}
		if (!pin_get(r)) {
			ret = -EBUSY;
			goto out;
		}
		set->r[set->n++] = r;
	}
	*hva = r->host + (gpa - r->gpa);
out:
	hv_mem_read_end(mem, slot);
	return ret;
}

void hv_mem_unpin_all(struct hv_mem_pins *set)
{
	/* Pinned regions cannot be removed, so each is still there. */
	for (uint32_t i = 0; i < set->n; i++)
		__atomic_sub_fetch(&set->r[i]->pins, 1, SC);
	set->n = 0;
}
