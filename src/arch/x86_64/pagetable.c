/* SPDX-License-Identifier: MIT */
/*
 * Identity-mapping page tables for 64-bit long mode, built into a buffer
 * that will live at a known guest-physical address.  Layout:
 *   page 0             PML4 (one entry per 512 GiB)
 *   pages 1..P         PDPTs
 *   pages P+1..P+D     page directories of 2 MiB pages
 */
#include <errno.h>
#include <string.h>

#include "hvlib/x86.h"
#include "util/config.h"
#include "util/error.h"

#define PAGE 4096ull
#define HUGE_2M (2ull << 20)
#define GIB (1ull << 30)
#define ENTRIES 512ull
#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_PS (1ull << 7)
/* Physical-address bits of an x86-64 paging entry. */
#define MAX_IDENTITY (1ull << 46)

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

HV_EXPORT uint64_t hv_x86_identity_map_bytes(uint64_t identity_bytes)
{
	uint64_t dirs, pdpts;

	if (identity_bytes == 0)
		identity_bytes = 4 * GIB;
	if (identity_bytes > MAX_IDENTITY)
		return 0;
	dirs = div_round_up(identity_bytes, GIB);
	pdpts = div_round_up(dirs, ENTRIES);
	return (1 + pdpts + dirs) * PAGE;
}

HV_EXPORT int hv_x86_build_identity_map(void *buf, uint64_t buf_bytes, uint64_t buf_gpa,
					uint64_t identity_bytes, uint64_t *cr3)
{
	uint64_t *table = buf;
	uint64_t need, dirs, pdpts, pages_2m;

	HV_CHECK_ARG(cr3);

	if (identity_bytes == 0)
		identity_bytes = 4 * GIB;
	/* The entries are stored as uint64_t: a misaligned host buffer is UB. */
	if (!buf || (uintptr_t)buf % sizeof(uint64_t) || buf_gpa % PAGE ||
	    identity_bytes > MAX_IDENTITY)
		return hv_err(-EINVAL, "identity map: buffer must be page aligned and the mapping "
				       "at most 64 TiB");
	need = hv_x86_identity_map_bytes(identity_bytes);
	if (buf_bytes < need)
		return hv_err(-ENOSPC, "identity map of 0x%llx bytes needs %llu bytes of page "
				       "tables, got %llu",
			      (unsigned long long)identity_bytes, (unsigned long long)need,
			      (unsigned long long)buf_bytes);
	if (buf_gpa + need < buf_gpa)
		return hv_err(-EINVAL, "identity map: page tables wrap the address space");

	pages_2m = div_round_up(identity_bytes, HUGE_2M);
	dirs = div_round_up(pages_2m, ENTRIES);
	pdpts = div_round_up(dirs, ENTRIES);
	memset(buf, 0, need);

	for (uint64_t i = 0; i < pdpts; i++)
		table[i] = (buf_gpa + (1 + i) * PAGE) | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < dirs; i++)
		table[ENTRIES + i] = (buf_gpa + (1 + pdpts + i) * PAGE) | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < pages_2m; i++)
		table[(1 + pdpts) * ENTRIES + i] = (i * HUGE_2M) | PTE_PRESENT | PTE_WRITE | PTE_PS;
	*cr3 = buf_gpa;
	return 0;
}
