/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical memory map: a sorted array of non-overlapping regions with
 * binary-search lookup.  Backing memory is created in mem_backing.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem_backing.h"
#include "mem/mem_internal.h"
#include "util/config.h"
#include "util/error.h"

#define HV_PAGE_SIZE 4096ull
#define HV_HUGE_PAGE_SIZE (2ull << 20)
#define HV_MEM_DEFAULT_MAX_REGIONS 512u

struct hv_mem {
	struct hv_mem_region *regions; /* sorted by gpa */
	uint32_t count;
	uint32_t capacity;
	uint32_t max_regions;
	const struct hv_mem_listener *listener;
	void *listener_opaque;
};

HV_EXPORT void hv_mem_region_config_init(struct hv_mem_region_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->backing = HV_MEM_ANON;
	cfg->fd = -1;
}

HV_EXPORT int hv_mem_create(struct hv_mem **out)
{
	HV_CHECK_ARG(out);
	*out = NULL;
	struct hv_mem *mem = calloc(1, sizeof(*mem));

	if (!mem)
		return hv_err(-ENOMEM, "allocating a guest memory map");
	mem->max_regions = HV_MEM_DEFAULT_MAX_REGIONS;
	*out = mem;
	return 0;
}

static void region_release(struct hv_mem_region *r)
{
	hv_mem_backing_release(r);
	free(r->name);
}

HV_EXPORT void hv_mem_destroy(struct hv_mem *mem)
{
	if (!mem)
		return;
	for (uint32_t i = 0; i < mem->count; i++) {
		if (mem->listener)
			mem->listener->region_remove(mem->listener_opaque, &mem->regions[i]);
		region_release(&mem->regions[i]);
	}
	free(mem->regions);
	free(mem);
}

void hv_mem_attach(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque,
		   uint32_t max_regions)
{
	mem->listener = l;
	mem->listener_opaque = opaque;
	if (max_regions)
		mem->max_regions = max_regions;
}

/* Index of the last region with gpa <= addr, or -1. */
static int64_t find_floor(const struct hv_mem *mem, uint64_t addr)
{
	int64_t lo = 0, hi = (int64_t)mem->count - 1, best = -1;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (mem->regions[mid].gpa <= addr) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best;
}

const struct hv_mem_region *hv_mem_find(const struct hv_mem *mem, uint64_t gpa)
{
	int64_t i = find_floor(mem, gpa);

	if (i < 0 || gpa - mem->regions[i].gpa >= mem->regions[i].bytes)
		return NULL;
	return &mem->regions[i];
}

static struct hv_mem_region *find_id(const struct hv_mem *mem, uint32_t id)
{
	for (uint32_t i = 0; i < mem->count; i++)
		if (mem->regions[i].id == id)
			return &mem->regions[i];
	return NULL;
}

static int lowest_free_id(const struct hv_mem *mem, uint32_t *id)
{
	for (uint32_t candidate = 0; candidate < mem->max_regions; candidate++) {
		if (!find_id(mem, candidate)) {
			*id = candidate;
			return 0;
		}
	}
	return hv_err(-ENOSPC, "guest memory: all %u memory slots are in use", mem->max_regions);
}

static int validate_config(const struct hv_mem_region_config *cfg)
{
	uint64_t align;

	align = (cfg->flags & HV_MEM_F_HUGEPAGES) ? HV_HUGE_PAGE_SIZE : HV_PAGE_SIZE;
	if (cfg->flags & ~HV_MEM_F_ALL)
		return hv_err(-EINVAL, "guest memory region: unknown flags 0x%x",
			      cfg->flags & ~HV_MEM_F_ALL);
	if (cfg->backing > HV_MEM_HOST)
		return hv_err(-EINVAL, "guest memory region: unknown backing %u", cfg->backing);
	if (cfg->bytes == 0)
		return hv_err(-EINVAL, "guest memory region: length is 0");
	if (cfg->gpa % align || cfg->bytes % align)
		return hv_err(-EINVAL,
			      "guest memory region at 0x%llx+0x%llx: not aligned to %llu bytes",
			      (unsigned long long)cfg->gpa, (unsigned long long)cfg->bytes,
			      (unsigned long long)align);
	if (cfg->gpa + cfg->bytes < cfg->gpa)
		return hv_err(-EOVERFLOW, "guest memory region at 0x%llx+0x%llx wraps around",
			      (unsigned long long)cfg->gpa, (unsigned long long)cfg->bytes);
	if ((cfg->flags & HV_MEM_F_PRIVATE) && cfg->backing != HV_MEM_FILE)
		return hv_err(-EINVAL, "guest memory region: HV_MEM_F_PRIVATE needs file backing");
	if ((cfg->flags & HV_MEM_F_HUGEPAGES) && cfg->backing != HV_MEM_ANON &&
	    cfg->backing != HV_MEM_MEMFD)
		return hv_err(-EINVAL, "guest memory region: hugepages need anon or memfd backing");
	if (cfg->backing == HV_MEM_FILE && (cfg->fd < 0 || cfg->fd_offset % HV_PAGE_SIZE))
		return hv_err(-EINVAL, "guest memory region: file backing needs an fd and a "
				       "page-aligned offset");
	if (cfg->backing == HV_MEM_HOST && (!cfg->host_addr ||
					    (uintptr_t)cfg->host_addr % HV_PAGE_SIZE))
		return hv_err(-EINVAL, "guest memory region: host backing needs a page-aligned "
				       "address");
	return 0;
}

static int check_overlap(const struct hv_mem *mem, uint64_t gpa, uint64_t bytes)
{
	for (uint32_t i = 0; i < mem->count; i++) {
		const struct hv_mem_region *r = &mem->regions[i];

		if (gpa < r->gpa + r->bytes && r->gpa < gpa + bytes)
			return hv_err(-EEXIST,
				      "guest memory region 0x%llx-0x%llx overlaps region %u "
				      "'%s' at 0x%llx-0x%llx",
				      (unsigned long long)gpa, (unsigned long long)(gpa + bytes - 1),
				      r->id, r->name ? r->name : "", (unsigned long long)r->gpa,
				      (unsigned long long)(r->gpa + r->bytes - 1));
	}
	return 0;
}

static int reserve_slot(struct hv_mem *mem)
{
	struct hv_mem_region *grown;
	uint32_t capacity;

	if (mem->count < mem->capacity)
		return 0;
	capacity = mem->capacity ? mem->capacity * 2 : 8;
	grown = realloc(mem->regions, capacity * sizeof(*grown));
	if (!grown)
		return hv_err(-ENOMEM, "growing the guest memory map");
	mem->regions = grown;
	mem->capacity = capacity;
	return 0;
}

HV_EXPORT int hv_mem_add_region(struct hv_mem *mem, const struct hv_mem_region_config *ucfg,
				uint32_t *id_out)
{
	struct hv_mem_region_config c;
	const struct hv_mem_region_config *cfg = &c;
	struct hv_mem_region r = { .fd = -1 };
	int64_t pos;
	int ret;

	HV_CHECK_ARG(mem);
	ret = HV_CFG_LOAD(&c, ucfg, hv_mem_region_config_init, "guest memory region config");
	if (!ret)
		ret = validate_config(cfg);
	if (ret)
		return ret;
	ret = check_overlap(mem, cfg->gpa, cfg->bytes);
	if (ret)
		return ret;
	ret = reserve_slot(mem);
	if (ret)
		return ret;
	ret = lowest_free_id(mem, &r.id);
	if (ret)
		return ret;

	r.flags = cfg->flags;
	r.backing = cfg->backing;
	r.gpa = cfg->gpa;
	r.bytes = cfg->bytes;
	if (cfg->name) {
		r.name = strdup(cfg->name);
		if (!r.name)
			return hv_err(-ENOMEM, "copying a region name");
	}
	ret = hv_mem_backing_map(&r, cfg);
	if (ret)
		goto err_name;
	if (mem->listener) {
		ret = mem->listener->region_add(mem->listener_opaque, &r);
		if (ret)
			goto err_backing;
	}

	pos = find_floor(mem, r.gpa) + 1;
	memmove(&mem->regions[pos + 1], &mem->regions[pos],
		(mem->count - (uint64_t)pos) * sizeof(r));
	mem->regions[pos] = r;
	mem->count++;
	if (id_out)
		*id_out = r.id;
	return 0;

err_backing:
	hv_mem_backing_release(&r);
err_name:
	free(r.name);
	return ret;
}

HV_EXPORT int hv_mem_remove_region(struct hv_mem *mem, uint32_t id)
{
	HV_CHECK_ARG(mem);
	struct hv_mem_region *r = find_id(mem, id);
	uint64_t pos;

	if (!r)
		return hv_err(-ENOENT, "guest memory: no region with id %u", id);
	if (mem->listener)
		mem->listener->region_remove(mem->listener_opaque, r);
	region_release(r);
	pos = (uint64_t)(r - mem->regions);
	memmove(r, r + 1, (mem->count - pos - 1) * sizeof(*r));
	mem->count--;
	return 0;
}

HV_EXPORT int hv_mem_region_info(const struct hv_mem *mem, uint32_t id,
				 struct hv_mem_region_info *info)
{
	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(info);
	const struct hv_mem_region *r = find_id(mem, id);

	if (!r)
		return hv_err(-ENOENT, "guest memory: no region with id %u", id);
	memset(info, 0, sizeof(*info));
	info->id = r->id;
	info->flags = r->flags;
	info->backing = r->backing;
	info->fd = r->fd;
	info->gpa = r->gpa;
	info->bytes = r->bytes;
	info->host_addr = r->host;
	info->name = r->name ? r->name : "";
	return 0;
}

HV_EXPORT int hv_mem_regions(const struct hv_mem *mem, uint32_t *ids, uint32_t max)
{
	HV_CHECK_ARG(mem);
	for (uint32_t i = 0; i < mem->count && i < max; i++)
		ids[i] = mem->regions[i].id;
	return (int)mem->count;
}

HV_EXPORT int hv_mem_translate(const struct hv_mem *mem, uint64_t gpa, uint64_t len, void **hva)
{
	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(hva);
	const struct hv_mem_region *r = hv_mem_find(mem, gpa);
	uint64_t offset;

	if (len == 0)
		len = 1;
	if (!r)
		return hv_err(-EFAULT, "guest address 0x%llx is not in guest RAM",
			      (unsigned long long)gpa);
	offset = gpa - r->gpa;
	/* offset < bytes holds, so bytes - offset cannot underflow. */
	if (len > r->bytes - offset)
		return hv_err(-EFAULT, "guest range 0x%llx+0x%llx runs past the end of region '%s'",
			      (unsigned long long)gpa, (unsigned long long)len,
			      r->name ? r->name : "");
	*hva = r->host + offset;
	return 0;
}

/* Check that [gpa, gpa + len) is entirely backed by adjacent regions. */
static int check_span(const struct hv_mem *mem, uint64_t gpa, size_t len)
{
	uint64_t addr = gpa, left = len;

	if (gpa + len < gpa)
		return hv_err(-EFAULT, "guest range 0x%llx+0x%zx wraps around",
			      (unsigned long long)gpa, len);
	while (left) {
		const struct hv_mem_region *r = hv_mem_find(mem, addr);
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

/* Copy into the guest from `in`, or out of it into `out` (the other NULL). */
static int copy_span(const struct hv_mem *mem, uint64_t gpa, void *out, const void *in,
		     size_t len)
{
	uint8_t *dst = out;
	const uint8_t *src = in;
	int ret = check_span(mem, gpa, len);

	if (ret)
		return ret;
	while (len) {
		const struct hv_mem_region *r = hv_mem_find(mem, gpa);
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
	return 0;
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

HV_EXPORT int hv_mem_set_dirty_log(struct hv_mem *mem, uint32_t id, bool enable)
{
	HV_CHECK_ARG(mem);
	struct hv_mem_region *r = find_id(mem, id);
	uint32_t flags;
	int ret;

	if (!r)
		return hv_err(-ENOENT, "guest memory: no region with id %u", id);
	flags = enable ? r->flags | HV_MEM_F_DIRTY_LOG : r->flags & ~HV_MEM_F_DIRTY_LOG;
	if (flags == r->flags)
		return 0;
	if (mem->listener) {
		ret = mem->listener->region_set_flags(mem->listener_opaque, r, flags);
		if (ret)
			return ret;
	}
	r->flags = flags;
	return 0;
}

HV_EXPORT size_t hv_mem_dirty_bitmap_bytes(uint64_t region_bytes)
{
	/* Rounded up without adding first: no wrap for lengths near 2^64. */
	uint64_t pages = region_bytes / HV_PAGE_SIZE + (region_bytes % HV_PAGE_SIZE != 0);

	return (size_t)((pages + 63) / 64 * 8);
}

HV_EXPORT int hv_mem_get_dirty_log(struct hv_mem *mem, uint32_t id, uint64_t *bitmap,
				   size_t bitmap_bytes)
{
	HV_CHECK_ARG(mem);
	struct hv_mem_region *r = find_id(mem, id);

	if (!r)
		return hv_err(-ENOENT, "guest memory: no region with id %u", id);
	if (!(r->flags & HV_MEM_F_DIRTY_LOG))
		return hv_err(-EINVAL, "guest memory region %u: dirty logging is off", id);
	if (bitmap_bytes < hv_mem_dirty_bitmap_bytes(r->bytes))
		return hv_err(-EINVAL, "guest memory region %u: dirty bitmap needs %zu bytes, got %zu",
			      id, hv_mem_dirty_bitmap_bytes(r->bytes), bitmap_bytes);
	if (!mem->listener)
		return hv_err(-EOPNOTSUPP, "dirty logging needs a memory map attached to a VM");
	return mem->listener->region_dirty_log(mem->listener_opaque, r, bitmap);
}
