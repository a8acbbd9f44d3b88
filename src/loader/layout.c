/* SPDX-License-Identifier: MIT */
/*
 * The guest memory map handed to Linux (E820 or PVH memmap) and placement of
 * the loader's pieces in it.  RAM comes from the writable regions of the
 * struct hv_mem; the caller's non-RAM ranges are carved out of it, so the map
 * the kernel sees never has overlapping entries.
 */
#include <errno.h>
#include <stdlib.h>

#include "loader/loader_internal.h"
#include "util/error.h"

typedef unsigned long long ull;

const char *hv_loader_use_name(uint32_t what)
{
	switch (what) {
	case HV_LOADER_USE_KERNEL:
		return "kernel";
	case HV_LOADER_USE_BOOT_PARAMS:
		return "boot parameters";
	case HV_LOADER_USE_CMDLINE:
		return "command line";
	case HV_LOADER_USE_INITRD:
		return "initrd";
	default:
		return "loader data";
	}
}

static int map_push(struct hv_loader_layout *l, uint64_t addr, uint64_t size, uint32_t type)
{
	if (l->nr_map == LOADER_MAX_MAP)
		return hv_err(-E2BIG, "the guest memory map needs more than %u entries",
			      LOADER_MAX_MAP);
	l->map[l->nr_map++] = (struct hv_e820_range){ .addr = addr, .size = size, .type = type };
	return 0;
}

/* One entry per writable region (merged when adjacent), read-only ones reserved. */
static int map_add_regions(struct hv_loader_layout *l, const struct hv_mem *mem)
{
	int n = hv_mem_regions(mem, NULL, 0), ret = 0;
	uint32_t *ids;

	if (n <= 0)
		return hv_err(-ENOMEM, "guest memory has no regions");
	ids = calloc((size_t)n, sizeof(*ids));
	if (!ids)
		return hv_err(-ENOMEM, "listing guest memory regions");
	n = hv_mem_regions(mem, ids, (uint32_t)n);
	for (int i = 0; i < n && !ret; i++) {
		struct hv_mem_region_info info;
		struct hv_e820_range *last = l->nr_map ? &l->map[l->nr_map - 1] : NULL;
		uint32_t type;

		ret = hv_mem_region_info(mem, ids[i], &info);
		if (ret)
			break;
		type = (info.flags & HV_MEM_F_READONLY) ? HV_E820_RESERVED : HV_E820_RAM;
		if (last && last->type == type && last->addr + last->size == info.gpa)
			last->size += info.bytes;
		else
			ret = map_push(l, info.gpa, info.bytes, type);
	}
	free(ids);
	return ret;
}

/* Cut [r->addr, end) out of every entry and add r itself. */
static int map_carve(struct hv_loader_layout *l, const struct hv_e820_range *r)
{
	uint64_t r_end = r->addr + r->size;
	uint32_t n = l->nr_map, kept = 0;
	int ret;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t e_addr = l->map[i].addr, e_end = e_addr + l->map[i].size;

		if (e_end <= r->addr || r_end <= e_addr)
			continue;
		if (e_end > r_end) {
			ret = map_push(l, r_end, e_end - r_end, l->map[i].type);
			if (ret)
				return ret;
		}
		/* Left part, or nothing (size 0 entries are dropped below). */
		l->map[i].size = e_addr < r->addr ? r->addr - e_addr : 0;
	}
	for (uint32_t i = 0; i < l->nr_map; i++)
		if (l->map[i].size)
			l->map[kept++] = l->map[i];
	l->nr_map = kept;
	return map_push(l, r->addr, r->size, r->type);
}

static void map_sort(struct hv_loader_layout *l)
{
	for (uint32_t i = 1; i < l->nr_map; i++) {
		struct hv_e820_range e = l->map[i];
		uint32_t j = i;

		for (; j > 0 && l->map[j - 1].addr > e.addr; j--)
			l->map[j] = l->map[j - 1];
		l->map[j] = e;
	}
}

static bool known_type(uint32_t type)
{
	return type >= HV_E820_RESERVED && type <= HV_E820_PMEM && type != 6;
}

static int check_ranges(const struct hv_e820_range *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!known_type(r[i].type))
			return hv_err(-EINVAL, "memory range %u: type %u is not a non-RAM E820 "
					       "type (RAM comes from guest memory regions)", i,
				      r[i].type);
		if (r[i].size == 0 || r[i].reserved)
			return hv_err(-EINVAL, "memory range %u: size is 0 or reserved is set", i);
		if (!hv_loader_fits(r[i].addr, r[i].size, UINT64_MAX))
			return hv_err(-EINVAL, "memory range %u at 0x%llx+0x%llx wraps around", i,
				      (ull)r[i].addr, (ull)r[i].size);
		for (uint32_t j = 0; j < i; j++)
			if (r[i].addr < r[j].addr + r[j].size && r[j].addr < r[i].addr + r[i].size)
				return hv_err(-EINVAL, "memory ranges %u and %u overlap", j, i);
	}
	return 0;
}

int hv_loader_layout_init(struct hv_loader_layout *l, const struct hv_mem *mem,
			  const struct hv_e820_range *ranges, uint32_t nr_ranges)
{
	int ret;

	l->nr_map = 0;
	l->nr_used = 0;
	if (nr_ranges > LOADER_MAX_MEM_RANGES)
		return hv_err(-E2BIG, "%u memory ranges, at most %u", nr_ranges,
			      LOADER_MAX_MEM_RANGES);
	if (nr_ranges && !ranges)
		return hv_err(-EINVAL, "%u memory ranges but no array", nr_ranges);
	ret = check_ranges(ranges, nr_ranges);
	if (ret)
		return ret;
	ret = map_add_regions(l, mem);
	for (uint32_t i = 0; i < nr_ranges && !ret; i++)
		ret = map_carve(l, &ranges[i]);
	map_sort(l);
	return ret;
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* -ENOMEM for a claim outside RAM, with the figures the reader needs. */
static int no_ram(const struct hv_loader_layout *l, const char *name, uint64_t addr,
		  uint64_t size)
{
	uint64_t total = 0, end = 0;

	for (uint32_t i = 0; i < l->nr_map; i++)
		if (l->map[i].type == HV_E820_RAM) {
			total += l->map[i].size;
			if (l->map[i].addr + l->map[i].size > end)
				end = l->map[i].addr + l->map[i].size;
		}
	return hv_err(-ENOMEM, "%s at 0x%llx-0x%llx needs guest RAM that is not there: %llu KiB "
			       "reaching %llu MiB, but the guest has %llu MiB of RAM, ending at "
			       "%llu MiB (0x%llx)", name, (ull)addr, (ull)(addr + size - 1),
		      (ull)((size + 1023) >> 10), (ull)((addr + size + (1u << 20) - 1) >> 20),
		      (ull)(total >> 20), (ull)(end >> 20), (ull)end);
}

/* 0 if [addr, addr + size) lies in one RAM entry and clear of every claim. */
static int check_free(const struct hv_loader_layout *l, uint64_t addr, uint64_t size,
		      uint32_t what, bool quiet)
{
	const char *name = hv_loader_use_name(what);

	for (uint32_t i = 0; i < l->nr_used; i++) {
		const struct hv_loader_used *u = &l->used[i];

		if (overlaps(addr, size, u->addr, u->size))
			return quiet ? -EINVAL : hv_err(-EINVAL,
				"%s at 0x%llx-0x%llx overlaps the %s at 0x%llx-0x%llx", name,
				(ull)addr, (ull)(addr + size - 1), hv_loader_use_name(u->what),
				(ull)u->addr, (ull)(u->addr + u->size - 1));
	}
	for (uint32_t i = 0; i < l->nr_map; i++) {
		const struct hv_e820_range *e = &l->map[i];

		if (e->type == HV_E820_RAM && addr >= e->addr && addr + size <= e->addr + e->size)
			return 0;
		if (e->type != HV_E820_RAM && overlaps(addr, size, e->addr, e->size))
			return quiet ? -EINVAL : hv_err(-EINVAL,
				"%s at 0x%llx-0x%llx overlaps the reserved range 0x%llx-0x%llx "
				"(E820 type %u)", name, (ull)addr, (ull)(addr + size - 1),
				(ull)e->addr, (ull)(e->addr + e->size - 1), e->type);
	}
	return quiet ? -ENOMEM : no_ram(l, name, addr, size);
}

int hv_loader_claim(struct hv_loader_layout *l, uint64_t addr, uint64_t size, uint32_t what)
{
	int ret;

	if (size == 0 || !hv_loader_fits(addr, size, UINT64_MAX))
		return hv_err(-EINVAL, "%s at 0x%llx+0x%llx is empty or wraps around",
			      hv_loader_use_name(what), (ull)addr, (ull)size);
	ret = check_free(l, addr, size, what, false);
	if (ret)
		return ret;
	if (l->nr_used == HV_LOADER_MAX_USED)
		return hv_err(-E2BIG, "more than %u loader ranges", HV_LOADER_MAX_USED);
	l->used[l->nr_used++] = (struct hv_loader_used){ .addr = addr, .size = size, .what = what };
	return 0;
}

/*
 * Highest page-aligned spot for size bytes ending at or below limit_end.  The
 * best spot ends just under some obstacle: the limit, the end of a RAM entry
 * or the start of a claim, so only those need trying.
 */
int hv_loader_place_high(struct hv_loader_layout *l, uint64_t size, uint64_t limit_end,
			 uint32_t what, uint64_t *addr)
{
	uint64_t best = 0;
	bool found = false;

	for (uint32_t i = 0; i < l->nr_map + l->nr_used; i++) {
		uint64_t top = i < l->nr_map ? l->map[i].addr + l->map[i].size
					     : l->used[i - l->nr_map].addr;
		uint64_t start;

		if (top > limit_end)
			top = limit_end;
		if (top < size)
			continue;
		start = (top - size) & ~(LOADER_PAGE - 1);
		if ((!found || start > best) && check_free(l, start, size, what, true) == 0) {
			best = start;
			found = true;
		}
	}
	if (!found)
		return hv_err(-ENOMEM, "no room for the %s (%llu bytes) in guest RAM below 0x%llx",
			      hv_loader_use_name(what), (ull)size, (ull)limit_end);
	*addr = best;
	return hv_loader_claim(l, best, size, what);
}

void hv_loader_result(const struct hv_loader_layout *l, uint32_t mode, uint64_t entry,
		      uint64_t boot_params, struct hv_linux_boot_result *out)
{
	*out = (struct hv_linux_boot_result){
		.mode = mode, .entry = entry, .boot_params = boot_params, .nr_used = l->nr_used,
	};
	for (uint32_t i = 0; i < l->nr_used; i++) {
		uint32_t j = i;

		for (; j > 0 && out->used[j - 1].addr > l->used[i].addr; j--)
			out->used[j] = out->used[j - 1];
		out->used[j] = l->used[i];
	}
}
