/* SPDX-License-Identifier: MIT */
/*
 * Giving guest pages back to the host (the balloon, and later free page
 * reporting): what "discard" means depends on what backs the region.
 *  - private memory (anonymous, copy-on-write file, embedder's): the pages
 *    are dropped with MADV_DONTNEED and refault as zeros (or the file);
 *  - shared memory (memfd, shared file): MADV_DONTNEED would only unmap
 *    them while the page cache keeps them, so the hole is punched
 *    (MADV_REMOVE), which frees the memory for every mapping.
 * Hugepage regions only give back whole huge pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "mem/mem_map.h"
#include "util/error.h"

#define PAGE 4096ull
#define HUGE_PAGE (2ull << 20)

static const char *name_of(const struct hv_mem_region *r)
{
	return r->name ? r->name : "";
}

static bool is_shared(const struct hv_mem_region *r)
{
	if (r->backing == HV_MEM_MEMFD)
		return true;
	return r->backing == HV_MEM_FILE &&
	       !(r->flags & (HV_MEM_F_PRIVATE | HV_MEM_F_READONLY));
}

static int discard(const struct hv_mem_region *r, uint64_t gpa, uint64_t len)
{
	uint64_t align = PAGE;
	uint8_t *host;

	if (!r)
		return hv_err(-EFAULT, "discarding 0x%llx: not in guest RAM",
			      (unsigned long long)gpa);
	if (len > r->bytes - (gpa - r->gpa))
		return hv_err(-EFAULT, "discarding 0x%llx+0x%llx: runs past the end of region '%s'",
			      (unsigned long long)gpa, (unsigned long long)len, name_of(r));
	if (__atomic_load_n(&r->flags, __ATOMIC_RELAXED) & HV_MEM_F_READONLY)
		return hv_err(-EPERM, "discarding 0x%llx: region '%s' is read-only",
			      (unsigned long long)gpa, name_of(r));
	if (r->flags & HV_MEM_F_HUGEPAGES)
		align = HUGE_PAGE;
	if ((gpa - r->gpa) % align || len % align) {
		if (align == HUGE_PAGE)
			return hv_err(-EOPNOTSUPP, "discarding 0x%llx+0x%llx: region '%s' is on "
						   "2 MiB hugepages",
				      (unsigned long long)gpa, (unsigned long long)len, name_of(r));
		return hv_err(-EINVAL, "discarding 0x%llx+0x%llx: not page aligned",
			      (unsigned long long)gpa, (unsigned long long)len);
	}
	if (!len)
		return 0;
	host = r->host + (gpa - r->gpa);
	if (is_shared(r)) {
		if (!madvise(host, len, MADV_REMOVE))
			return 0;
		/* A file system without hole punching: at least unmap them. */
		if (errno != EOPNOTSUPP)
			return hv_err_sys(-errno, "discarding 0x%llx+0x%llx of '%s'",
					  (unsigned long long)gpa, (unsigned long long)len,
					  name_of(r));
	}
	if (madvise(host, len, MADV_DONTNEED))
		return hv_err_sys(-errno, "discarding 0x%llx+0x%llx of '%s'",
				  (unsigned long long)gpa, (unsigned long long)len, name_of(r));
	return 0;
}

int hv_mem_discard(struct hv_mem *mem, uint64_t gpa, uint64_t len)
{
	unsigned int slot;
	/* In a read section: the region cannot be unmapped under madvise(). */
	int ret = discard(hv_mem_table_find(hv_mem_read_begin(mem, &slot), gpa), gpa, len);

	hv_mem_read_end(mem, slot);
	return ret;
}
