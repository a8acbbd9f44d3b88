/* SPDX-License-Identifier: MIT */
/*
 * I/O bus: non-overlapping ranges sorted by base, found by binary search.
 * A read-write lock lets every vCPU dispatch at once while registration
 * waits for in-flight callbacks, so unregister() means "never called again".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus_internal.h"
#include "util/config.h"
#include "util/error.h"
#include "util/rwlock.h"

#define HV_PIO_LIMIT 0x10000ull

struct hv_bus_range {
	uint64_t base;
	uint64_t len;
	hv_io_fn fn;
	void *opaque;
	uint32_t handle;
	char name[32];
};

struct hv_bus {
	enum hv_bus_space space;
	pthread_rwlock_t lock; /* writer-preferring: callbacks never dispatch on their own bus */
	struct hv_bus_range *ranges; /* sorted by base */
	uint32_t count;
	uint32_t capacity;
	uint32_t next_handle;
	pthread_mutex_t *guard_lock; /* see bus_internal.h; NULL: standalone bus */
	hv_bus_guard_fn guard;
	void *guard_opaque;
};

/* Set by the vCPU run loop around each dispatch (hv_bus_current_vcpu()). */
static _Thread_local struct hv_vcpu *current_vcpu;

HV_EXPORT struct hv_vcpu *hv_bus_current_vcpu(void)
{
	return current_vcpu;
}

struct hv_vcpu *hv_bus_enter_vcpu(struct hv_vcpu *vcpu)
{
	struct hv_vcpu *prev = current_vcpu;

	current_vcpu = vcpu;
	return prev;
}

void hv_bus_set_guard(struct hv_bus *bus, pthread_mutex_t *lock, hv_bus_guard_fn guard,
		      void *opaque)
{
	pthread_rwlock_wrlock(&bus->lock);
	bus->guard_lock = lock;
	bus->guard = guard;
	bus->guard_opaque = opaque;
	pthread_rwlock_unlock(&bus->lock);
}

/* Around every change of the range table (bus write lock held). */
static void guard_lock(struct hv_bus *bus)
{
	if (bus->guard_lock)
		pthread_mutex_lock(bus->guard_lock);
}

static void guard_unlock(struct hv_bus *bus)
{
	if (bus->guard_lock)
		pthread_mutex_unlock(bus->guard_lock);
}

HV_EXPORT int hv_bus_create(enum hv_bus_space space, struct hv_bus **out)
{
	HV_CHECK_ARG(out);
	*out = NULL;
	struct hv_bus *bus;

	if (space != HV_BUS_PIO && space != HV_BUS_MMIO)
		return hv_err(-EINVAL, "unknown bus space %d", (int)space);
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return hv_err(-ENOMEM, "allocating an I/O bus");
	if (hv_rwlock_init_writer_pref(&bus->lock)) {
		free(bus);
		return hv_err(-ENOMEM, "initialising an I/O bus lock");
	}
	bus->space = space;
	bus->next_handle = 1;
	*out = bus;
	return 0;
}

HV_EXPORT void hv_bus_destroy(struct hv_bus *bus)
{
	if (!bus)
		return;
	pthread_rwlock_destroy(&bus->lock);
	free(bus->ranges);
	free(bus);
}

static const char *space_name(const struct hv_bus *bus)
{
	return bus->space == HV_BUS_PIO ? "port I/O" : "MMIO";
}

/* Index of the last range with base <= addr, or -1.  Caller holds the lock. */
static int64_t find_floor(const struct hv_bus *bus, uint64_t addr)
{
	int64_t lo = 0, hi = (int64_t)bus->count - 1, best = -1;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best;
}

/* The range overlapping [base, base + len), or NULL: the floor of the end,
 * if it reaches past base, is the only candidate.  Caller holds a lock. */
static const struct hv_bus_range *find_overlap(const struct hv_bus *bus, uint64_t base,
					       uint64_t len)
{
	int64_t i = find_floor(bus, base + len - 1);

	return i >= 0 && bus->ranges[i].base + bus->ranges[i].len > base ? &bus->ranges[i] : NULL;
}

bool hv_bus_overlap_locked(const struct hv_bus *bus, uint64_t base, uint64_t len,
			   uint64_t *rbase, uint64_t *rlen, char *name, size_t name_len)
{
	const struct hv_bus_range *r = find_overlap(bus, base, len);

	if (!r)
		return false;
	*rbase = r->base;
	*rlen = r->len;
	snprintf(name, name_len, "%s", r->name);
	return true;
}

static int check_new_range(const struct hv_bus *bus, uint64_t base, uint64_t len, hv_io_fn fn,
			   const char *name)
{
	const struct hv_bus_range *r;

	if (!fn || len == 0)
		return hv_err(-EINVAL, "%s range at 0x%llx: needs a callback and a length",
			      space_name(bus), (unsigned long long)base);
	if (base + len < base)
		return hv_err(-EOVERFLOW, "%s range 0x%llx+0x%llx wraps around", space_name(bus),
			      (unsigned long long)base, (unsigned long long)len);
	if (bus->space == HV_BUS_PIO && base + len > HV_PIO_LIMIT)
		return hv_err(-EINVAL, "port range 0x%llx+0x%llx goes beyond port 0xffff",
			      (unsigned long long)base, (unsigned long long)len);
	r = find_overlap(bus, base, len);
	if (r)
		return hv_err(-EEXIST, "%s range 0x%llx-0x%llx overlaps '%s' at 0x%llx-0x%llx",
			      space_name(bus), (unsigned long long)base,
			      (unsigned long long)(base + len - 1), r->name,
			      (unsigned long long)r->base,
			      (unsigned long long)(r->base + r->len - 1));
	return bus->guard ? bus->guard(bus->guard_opaque, base, len, name ? name : "unnamed") : 0;
}

static int grow(struct hv_bus *bus)
{
	struct hv_bus_range *ranges;
	uint32_t capacity;

	if (bus->count < bus->capacity)
		return 0;
	capacity = bus->capacity ? bus->capacity * 2 : 16;
	ranges = realloc(bus->ranges, capacity * sizeof(*ranges));
	if (!ranges)
		return hv_err(-ENOMEM, "growing the %s bus", space_name(bus));
	bus->ranges = ranges;
	bus->capacity = capacity;
	return 0;
}

HV_EXPORT int hv_bus_register(struct hv_bus *bus, uint64_t base, uint64_t len, hv_io_fn fn,
			      void *opaque, const char *name, uint32_t *handle_out)
{
	struct hv_bus_range *r;
	int64_t pos;
	int ret;

	HV_CHECK_ARG(bus);

	pthread_rwlock_wrlock(&bus->lock);
	guard_lock(bus);
	ret = check_new_range(bus, base, len, fn, name);
	if (!ret)
		ret = grow(bus);
	if (ret)
		goto out;
	pos = find_floor(bus, base) + 1;
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
		(bus->count - (uint64_t)pos) * sizeof(*r));
	r = &bus->ranges[pos];
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->len = len;
	r->fn = fn;
	r->opaque = opaque;
	r->handle = bus->next_handle++;
	strncpy(r->name, name ? name : "unnamed", sizeof(r->name) - 1);
	bus->count++;
	if (handle_out)
		*handle_out = r->handle;
out:
	guard_unlock(bus);
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

HV_EXPORT int hv_bus_unregister(struct hv_bus *bus, uint32_t handle)
{
	int ret = -ENOENT;

	HV_CHECK_ARG(bus);

	pthread_rwlock_wrlock(&bus->lock);
	guard_lock(bus);
	for (uint32_t i = 0; i < bus->count; i++) {
		if (bus->ranges[i].handle != handle)
			continue;
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->count - i - 1) * sizeof(bus->ranges[0]));
		bus->count--;
		ret = 0;
		break;
	}
	guard_unlock(bus);
	pthread_rwlock_unlock(&bus->lock);
	if (ret)
		return hv_err(ret, "%s bus: no range with handle %u", space_name(bus), handle);
	return 0;
}

static uint64_t width_mask(uint32_t width)
{
	return width >= 8 ? ~0ull : (1ull << (width * 8)) - 1;
}

HV_EXPORT int hv_bus_dispatch(struct hv_bus *bus, uint64_t addr, uint32_t width, bool is_write,
			      uint64_t *value)
{
	const struct hv_bus_range *r;
	unsigned seq = hv_err_seq();
	int64_t i;
	int ret;

	HV_CHECK_ARG(bus);
	HV_CHECK_ARG(value);

	if (width == 0 || width > 8 || addr + width < addr) {
		if (!is_write)
			*value = ~0ull;
		return -EINVAL;
	}
	if (is_write)
		*value &= width_mask(width);
	pthread_rwlock_rdlock(&bus->lock);
	i = find_floor(bus, addr);
	r = i >= 0 ? &bus->ranges[i] : NULL;
	/* addr - base < len, and the access must end inside the range too. */
	if (!r || addr - r->base >= r->len || width > r->len - (addr - r->base)) {
		ret = -ENOENT;
	} else {
		if (!is_write)
			*value = 0;
		ret = r->fn(r->opaque, addr - r->base, width, is_write, value);
		/* Name the device: its message if it left one, else its errno. */
		if (ret && hv_err_seq() != seq)
			ret = hv_err_context(ret, "%s at 0x%llx", r->name,
					     (unsigned long long)r->base);
		else if (ret)
			ret = hv_err_sys(ret, "%s at 0x%llx", r->name, (unsigned long long)r->base);
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!is_write)
		*value = ret ? width_mask(width) : *value & width_mask(width);
	return ret;
}
