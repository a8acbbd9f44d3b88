/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical memory map: changing it (regions, flags, listeners).  The
 * read side and the table are in mem_table.c; backing memory is created in
 * mem_backing.c.  Every change runs under write_lock; listeners are called
 * with it held (see struct hv_mem_listener).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem_backing.h"
#include "mem/mem_map.h"
#include "util/config.h"
#include "util/error.h"

#define HV_PAGE_SIZE 4096ull
#define HV_HUGE_PAGE_SIZE (2ull << 20)
#define HV_MEM_DEFAULT_MAX_REGIONS 512u

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
	/* Aligned: the reader counts sit on cache lines of their own. */
	struct hv_mem *mem = aligned_alloc(_Alignof(struct hv_mem), sizeof(*mem));

	if (!mem)
		return hv_err(-ENOMEM, "allocating a guest memory map");
	memset(mem, 0, sizeof(*mem));
	if (pthread_mutex_init(&mem->write_lock, NULL)) {
		free(mem);
		return hv_err(-ENOMEM, "allocating a guest memory map");
	}
	mem->max_regions = HV_MEM_DEFAULT_MAX_REGIONS;
	*out = mem;
	return 0;
}

static void region_free(struct hv_mem_region *r)
{
	hv_mem_backing_release(r);
	free(r->name);
	free(r);
}

/* Every listener's region_remove, or those before `end` (an add undone). */
static void tell_remove(struct hv_mem *mem, const struct hv_mem_region *r, uint32_t end)
{
	for (uint32_t i = 0; i < end; i++) {
		const struct hv_mem_listener_entry *e = &mem->listeners[i];

		if (e->l->region_remove)
			e->l->region_remove(e->opaque, r);
	}
}

static void tell_changed(struct hv_mem *mem)
{
	for (uint32_t i = 0; i < mem->nr_listeners; i++) {
		const struct hv_mem_listener_entry *e = &mem->listeners[i];

		if (e->l->map_changed)
			e->l->map_changed(e->opaque, mem);
	}
}

HV_EXPORT void hv_mem_destroy(struct hv_mem *mem)
{
	const struct hv_mem_table *t;

	if (!mem)
		return;
	t = hv_mem_table_now(mem);
	for (uint32_t i = 0; i < t->count; i++) {
		tell_remove(mem, t->regions[i], mem->nr_listeners);
		region_free(t->regions[i]);
	}
	hv_mem_table_free(mem);
	free(mem->listeners);
	pthread_mutex_destroy(&mem->write_lock);
	free(mem);
}

int hv_mem_listener_add(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque)
{
	struct hv_mem_listener_entry *grown;
	int ret = 0;

	pthread_mutex_lock(&mem->write_lock);
	grown = realloc(mem->listeners, (mem->nr_listeners + 1) * sizeof(*grown));
	if (grown) {
		mem->listeners = grown;
		grown[mem->nr_listeners++] = (struct hv_mem_listener_entry){ l, opaque };
	} else {
		ret = hv_err(-ENOMEM, "registering a guest memory listener");
	}
	pthread_mutex_unlock(&mem->write_lock);
	return ret;
}

void hv_mem_listener_remove(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque)
{
	pthread_mutex_lock(&mem->write_lock);
	for (uint32_t i = 0; i < mem->nr_listeners; i++) {
		if (mem->listeners[i].l == l && mem->listeners[i].opaque == opaque) {
			memmove(&mem->listeners[i], &mem->listeners[i + 1],
				(mem->nr_listeners - i - 1) * sizeof(mem->listeners[0]));
			mem->nr_listeners--;
			break;
		}
	}
	pthread_mutex_unlock(&mem->write_lock);
}

int hv_mem_attach(struct hv_mem *mem, const struct hv_mem_listener *l, void *opaque,
		  uint32_t max_regions)
{
	if (max_regions)
		mem->max_regions = max_regions;
	return hv_mem_listener_add(mem, l, opaque);
}

/* The region with this id (write_lock held), or NULL. */
static struct hv_mem_region *find_id(const struct hv_mem *mem, uint32_t id)
{
	const struct hv_mem_table *t = hv_mem_table_now(mem);

	for (uint32_t i = 0; i < t->count; i++)
		if (t->regions[i]->id == id)
			return t->regions[i];
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
	const struct hv_mem_table *t = hv_mem_table_now(mem);

	for (uint32_t i = 0; i < t->count; i++) {
		const struct hv_mem_region *r = t->regions[i];

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

/* A new region as cfg asks, mapped, not yet in the map (write_lock held). */
static int region_new(struct hv_mem *mem, const struct hv_mem_region_config *cfg,
		      struct hv_mem_region **out)
{
	struct hv_mem_region *r;
	int ret;

	ret = check_overlap(mem, cfg->gpa, cfg->bytes);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r)
		return hv_err(-ENOMEM, "allocating a guest memory region");
	r->fd = -1;
	ret = lowest_free_id(mem, &r->id);
	if (ret)
		goto err;
	r->flags = cfg->flags;
	r->backing = cfg->backing;
	r->gpa = cfg->gpa;
	r->bytes = cfg->bytes;
	if (cfg->name && !(r->name = strdup(cfg->name))) {
		ret = hv_err(-ENOMEM, "copying a region name");
		goto err;
	}
	ret = hv_mem_backing_map(r, cfg);
	if (ret)
		goto err;
	*out = r;
	return 0;
err:
	free(r->name);
	free(r);
	return ret;
}

/* Tell the listeners before r becomes visible; undo on a refusal. */
static int tell_add(struct hv_mem *mem, const struct hv_mem_region *r)
{
	for (uint32_t i = 0; i < mem->nr_listeners; i++) {
		const struct hv_mem_listener_entry *e = &mem->listeners[i];
		int ret = e->l->region_add ? e->l->region_add(e->opaque, r) : 0;

		if (ret) {
			tell_remove(mem, r, i);
			return ret;
		}
	}
	return 0;
}

HV_EXPORT int hv_mem_add_region(struct hv_mem *mem, const struct hv_mem_region_config *ucfg,
				uint32_t *id_out)
{
	struct hv_mem_region_config c;
	const struct hv_mem_region_config *cfg = &c;
	struct hv_mem_region *r = NULL;
	int ret;

	HV_CHECK_ARG(mem);
	ret = HV_CFG_LOAD(&c, ucfg, hv_mem_region_config_init, "guest memory region config");
	if (!ret)
		ret = validate_config(cfg);
	if (ret)
		return ret;
	pthread_mutex_lock(&mem->write_lock);
	ret = region_new(mem, cfg, &r);
	if (ret)
		goto out;
	ret = tell_add(mem, r);
	if (!ret) {
		ret = hv_mem_table_replace(mem, r, NULL);
		if (ret)
			tell_remove(mem, r, mem->nr_listeners);
	}
	if (ret) {
		region_free(r);
		goto out;
	}
	tell_changed(mem);
	if (id_out)
		*id_out = r->id;
out:
	pthread_mutex_unlock(&mem->write_lock);
	return ret;
}

static int remove_locked(struct hv_mem *mem, uint32_t id)
{
	struct hv_mem_region *r = find_id(mem, id);
	int idle = 0, ret;

	if (!r)
		return hv_err(-ENOENT, "guest memory: no region with id %u", id);
	/* From here on no new pin succeeds; a held one refuses the removal. */
	if (!__atomic_compare_exchange_n(&r->pins, &idle, -1, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return hv_err(-EBUSY, "guest memory region %u '%s' at 0x%llx is in use by %d "
				      "device queue(s) (rings or buffers in flight); stop or reset "
				      "them first", id, r->name ? r->name : "",
			      (unsigned long long)r->gpa, idle);
	/* Once it returns no reader can still see r. */
	ret = hv_mem_table_replace(mem, NULL, r);
	if (ret) {
		__atomic_store_n(&r->pins, 0, __ATOMIC_SEQ_CST);
		return ret;
	}
	tell_remove(mem, r, mem->nr_listeners);
	tell_changed(mem);
	region_free(r);
	return 0;
}

HV_EXPORT int hv_mem_remove_region(struct hv_mem *mem, uint32_t id)
{
	int ret;

	HV_CHECK_ARG(mem);
	pthread_mutex_lock(&mem->write_lock);
	ret = remove_locked(mem, id);
	pthread_mutex_unlock(&mem->write_lock);
	return ret;
}

HV_EXPORT int hv_mem_region_info(const struct hv_mem *mem, uint32_t id,
				 struct hv_mem_region_info *info)
{
	unsigned int slot;
	const struct hv_mem_table *t;
	const struct hv_mem_region *r = NULL;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(info);
	t = hv_mem_read_begin(mem, &slot);

	for (uint32_t i = 0; i < t->count && !r; i++)
		if (t->regions[i]->id == id)
			r = t->regions[i];
	if (r) {
		memset(info, 0, sizeof(*info));
		info->id = r->id;
		info->flags = __atomic_load_n(&r->flags, __ATOMIC_RELAXED);
		info->backing = r->backing;
		info->fd = r->fd;
		info->gpa = r->gpa;
		info->bytes = r->bytes;
		info->host_addr = r->host;
		info->name = r->name ? r->name : "";
	}
	hv_mem_read_end(mem, slot);
	if (!r)
		return hv_err(-ENOENT, "guest memory: no region with id %u", id);
	return 0;
}

HV_EXPORT int hv_mem_regions(const struct hv_mem *mem, uint32_t *ids, uint32_t max)
{
	unsigned int slot;
	const struct hv_mem_table *t;
	int count;

	HV_CHECK_ARG(mem);
	t = hv_mem_read_begin(mem, &slot);
	count = (int)t->count;
	for (uint32_t i = 0; i < t->count && i < max; i++)
		ids[i] = t->regions[i]->id;
	hv_mem_read_end(mem, slot);
	return count;
}

/* Every listener's region_set_flags; undone for the earlier ones on a refusal. */
static int tell_set_flags(struct hv_mem *mem, const struct hv_mem_region *r, uint32_t flags)
{
	for (uint32_t i = 0; i < mem->nr_listeners; i++) {
		const struct hv_mem_listener_entry *e = &mem->listeners[i];
		int ret = e->l->region_set_flags ? e->l->region_set_flags(e->opaque, r, flags) : 0;

		while (ret && i--) {
			e = &mem->listeners[i];
			if (e->l->region_set_flags)
				(void)e->l->region_set_flags(e->opaque, r, r->flags);
		}
		if (ret)
			return ret;
	}
	return 0;
}

HV_EXPORT int hv_mem_set_dirty_log(struct hv_mem *mem, uint32_t id, bool enable)
{
	struct hv_mem_region *r;
	uint32_t flags;
	int ret = 0;

	HV_CHECK_ARG(mem);
	pthread_mutex_lock(&mem->write_lock);
	r = find_id(mem, id);
	if (!r) {
		ret = hv_err(-ENOENT, "guest memory: no region with id %u", id);
		goto out;
	}
	flags = enable ? r->flags | HV_MEM_F_DIRTY_LOG : r->flags & ~HV_MEM_F_DIRTY_LOG;
	if (flags != r->flags) {
		ret = tell_set_flags(mem, r, flags);
		if (!ret)
			__atomic_store_n(&r->flags, flags, __ATOMIC_RELAXED);
	}
out:
	pthread_mutex_unlock(&mem->write_lock);
	return ret;
}

HV_EXPORT size_t hv_mem_dirty_bitmap_bytes(uint64_t region_bytes)
{
	/* Rounded up without adding first: no wrap for lengths near 2^64. */
	uint64_t pages = region_bytes / HV_PAGE_SIZE + (region_bytes % HV_PAGE_SIZE != 0);

	return (size_t)((pages + 63) / 64 * 8);
}

static int dirty_log_locked(struct hv_mem *mem, uint32_t id, uint64_t *bitmap,
			    size_t bitmap_bytes)
{
	struct hv_mem_region *r = find_id(mem, id);

	if (!r)
		return hv_err(-ENOENT, "guest memory: no region with id %u", id);
	if (!(r->flags & HV_MEM_F_DIRTY_LOG))
		return hv_err(-EINVAL, "guest memory region %u: dirty logging is off", id);
	if (bitmap_bytes < hv_mem_dirty_bitmap_bytes(r->bytes))
		return hv_err(-EINVAL, "guest memory region %u: dirty bitmap needs %zu bytes, got %zu",
			      id, hv_mem_dirty_bitmap_bytes(r->bytes), bitmap_bytes);
	for (uint32_t i = 0; i < mem->nr_listeners; i++) {
		const struct hv_mem_listener_entry *e = &mem->listeners[i];

		if (e->l->region_dirty_log)
			return e->l->region_dirty_log(e->opaque, r, bitmap);
	}
	return hv_err(-EOPNOTSUPP, "dirty logging needs a memory map attached to a VM");
}

HV_EXPORT int hv_mem_get_dirty_log(struct hv_mem *mem, uint32_t id, uint64_t *bitmap,
				   size_t bitmap_bytes)
{
	int ret;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(bitmap);
	pthread_mutex_lock(&mem->write_lock);
	ret = dirty_log_locked(mem, id, bitmap, bitmap_bytes);
	pthread_mutex_unlock(&mem->write_lock);
	return ret;
}
