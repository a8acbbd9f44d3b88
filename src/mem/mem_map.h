/* SPDX-License-Identifier: MIT */
/*
 * The map's region table and how it is read and replaced (mem_table.c),
 * for the files of src/mem only.
 *
 * Readers never block: the table lives in two slots, readers use the
 * current one, and a writer (one at a time, under write_lock) fills the
 * other, makes it current, and waits for the readers still inside the old
 * one to leave before it frees or unmaps what it removed.  A reader counts
 * itself into a slot and then checks the slot is still current (else it
 * retries), so a writer that saw a slot empty of readers owns it: the
 * counts and the index are sequentially consistent atomics, which
 * ThreadSanitizer understands.  A read section costs two atomic additions,
 * on a counter picked by the reader's stack address, so that threads (vCPUs,
 * I/O threads) mostly count on cache lines of their own; a writer checks
 * them all.
 */
#ifndef HV_MEM_MAP_H
#define HV_MEM_MAP_H

#include <pthread.h>

#include "mem/mem_internal.h"

struct hv_mem_table {
	struct hv_mem_region **regions; /* sorted by gpa; the regions are shared */
	uint32_t count;
	uint32_t capacity;
};

#define HV_MEM_READER_SHARDS 8u
struct hv_mem_readers {
	unsigned long n[2];            /* atomic: readers inside each slot */
} __attribute__((aligned(64)));

struct hv_mem_listener_entry {
	const struct hv_mem_listener *l;
	void *opaque;
};

struct hv_mem {
	pthread_mutex_t write_lock;    /* changes, listeners; readers never take it */
	struct hv_mem_table slot[2];
	unsigned int cur;              /* atomic: the slot readers use */
	struct hv_mem_readers readers[HV_MEM_READER_SHARDS];
	uint32_t max_regions;
	struct hv_mem_listener_entry *listeners; /* under write_lock */
	uint32_t nr_listeners;
};

/* Enter / leave a read section; the table stays valid in between.  *token
 * is for hv_mem_read_end(). */
const struct hv_mem_table *hv_mem_read_begin(const struct hv_mem *mem, unsigned int *token);
void hv_mem_read_end(const struct hv_mem *mem, unsigned int token);

/* The current table, for writers (write_lock held). */
const struct hv_mem_table *hv_mem_table_now(const struct hv_mem *mem);
/* Make the current table plus `add` (if any) minus `drop` (if any)
 * current, and wait until no reader is left in the old one (write_lock
 * held).  -ENOMEM (nothing changed). */
int hv_mem_table_replace(struct hv_mem *mem, struct hv_mem_region *add,
			 const struct hv_mem_region *drop);
void hv_mem_table_free(struct hv_mem *mem);

/* The region of t containing gpa, or NULL. */
struct hv_mem_region *hv_mem_table_find(const struct hv_mem_table *t, uint64_t gpa);
/* Region containing all of [gpa, gpa + len) (len 0 counts as 1), or NULL. */
struct hv_mem_region *hv_mem_table_range(const struct hv_mem_table *t, uint64_t gpa,
					 uint64_t len);

#endif /* HV_MEM_MAP_H */
