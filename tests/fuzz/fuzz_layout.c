/* SPDX-License-Identifier: MIT */
/*
 * Placement of the loader's pieces in the guest memory map: a guest memory
 * of 1-4 regions [gpa in pages le24][pages - 1][read-only: bit 0], 0-8
 * caller ranges [addr le40][size le32][E820 type], then requests [op]
 * [addr le40][size le32]: op even claims [addr, addr + size), odd places
 * size bytes as high as possible below addr (what = op >> 1).  Oracle: the
 * map stays sorted and disjoint, and every claim lies in one RAM entry,
 * clear of the others.
 */
#include "fuzz_util.h"
#include "loader/loader_internal.h"

static bool inside_ram(const struct hv_loader_layout *l, uint64_t addr, uint64_t size)
{
	for (uint32_t i = 0; i < l->nr_map; i++)
		if (l->map[i].type == HV_E820_RAM && addr >= l->map[i].addr &&
		    size <= l->map[i].size && addr - l->map[i].addr <= l->map[i].size - size)
			return true;
	return false;
}

static void check(const struct hv_loader_layout *l)
{
	for (uint32_t i = 1; i < l->nr_map; i++)
		if (l->map[i - 1].addr + l->map[i - 1].size > l->map[i].addr)
			abort();
	for (uint32_t i = 0; i < l->nr_used; i++) {
		const struct hv_loader_used *u = &l->used[i];

		if (!u->size || !inside_ram(l, u->addr, u->size))
			abort();
		for (uint32_t j = 0; j < i; j++)
			if (u->addr < l->used[j].addr + l->used[j].size &&
			    l->used[j].addr < u->addr + u->size)
				abort();
	}
}

static struct hv_mem *make_mem(struct fz_in *in)
{
	uint32_t nr = (uint32_t)fz_take(in, 1) % 4 + 1;
	struct hv_mem *mem;

	if (hv_mem_create(&mem))
		abort();
	for (uint32_t i = 0; i < nr; i++) {
		struct hv_mem_region_config rc;

		hv_mem_region_config_init(&rc);
		rc.gpa = fz_take(in, 3) * 4096;
		rc.bytes = (fz_take(in, 1) + 1) * 4096;
		rc.flags = fz_take(in, 1) & 1 ? HV_MEM_F_READONLY : 0;
		hv_mem_add_region(mem, &rc, NULL); /* overlaps are refused */
	}
	return mem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct hv_e820_range ranges[8];
	struct hv_linux_boot_result res;
	struct hv_loader_layout l;
	struct hv_mem *mem = make_mem(&in);
	uint32_t nr_ranges = (uint32_t)fz_take(&in, 1) % 9;

	for (uint32_t i = 0; i < nr_ranges; i++) {
		ranges[i].addr = fz_take(&in, 5);
		ranges[i].size = fz_take(&in, 4);
		ranges[i].type = (uint32_t)fz_take(&in, 1) % 8;
		ranges[i].reserved = 0;
	}
	if (hv_loader_layout_init(&l, mem, ranges, nr_ranges) == 0) {
		check(&l);
		while (in.left >= 10) {
			uint32_t op = (uint32_t)fz_take(&in, 1);
			uint64_t addr = fz_take(&in, 5), bytes = fz_take(&in, 4), got;

			if (op & 1)
				hv_loader_place_high(&l, bytes, addr, (op >> 1) % 6, &got);
			else
				hv_loader_claim(&l, addr, bytes, (op >> 1) % 6);
			check(&l);
		}
		hv_loader_result(&l, 0, 0, 0, &res);
		for (uint32_t i = 1; i < res.nr_used; i++)
			if (res.used[i - 1].addr > res.used[i].addr)
				abort();
	}
	hv_mem_destroy(mem);
	return 0;
}
