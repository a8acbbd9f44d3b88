/* SPDX-License-Identifier: MIT */
/* The I/O bus on its own: registration rules, dispatch, and concurrency. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/bus.h"
#include "unit/unit_util.h"
#include "util/error.h"

/* What a device saw, and what it answers. */
struct dev {
	int calls;
	uint64_t offset;
	uint32_t width;
	bool is_write;
	uint64_t value;      /* last value written */
	uint64_t read_value; /* returned by reads (before hvlib truncates) */
	int result;          /* returned by the callback */
	bool leave_value;    /* a read that does not store anything */
};

static int dev_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value)
{
	struct dev *d = opaque;

	d->calls++;
	d->offset = offset;
	d->width = width;
	d->is_write = is_write;
	if (is_write)
		d->value = *value;
	else if (!d->leave_value)
		*value = d->read_value;
	return d->result;
}

static uint64_t mask(uint32_t width)
{
	return width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
}

static int setup_pio(void **state)
{
	struct hv_bus *bus = NULL;

	if (hv_bus_create(HV_BUS_PIO, &bus))
		return -1;
	*state = bus;
	return 0;
}

static int setup_mmio(void **state)
{
	struct hv_bus *bus = NULL;

	if (hv_bus_create(HV_BUS_MMIO, &bus))
		return -1;
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	hv_bus_destroy(*state);
	return 0;
}

static void test_create(void **state)
{
	struct hv_bus *bus = (struct hv_bus *)&bus;

	(void)state;
	expect_err(hv_bus_create((enum hv_bus_space)2, &bus), -EINVAL, "unknown bus space 2");
	assert_null(bus); /* every create sets *out = NULL on failure */
	hv_bus_destroy(NULL);
}

static void test_pio_dispatch(void **state)
{
	struct hv_bus *bus = *state;
	struct dev serial = { .read_value = 0x1122334455667788ull };
	uint32_t handle = 0;
	uint64_t v;

	expect_ret(hv_bus_register(bus, 0x3f8, 8, dev_fn, &serial, "serial", &handle), 0);
	assert_int_not_equal(handle, 0);

	v = 0xabcd;
	expect_ret(hv_bus_dispatch(bus, 0x3f9, 1, true, &v), 0);
	assert_int_equal(serial.calls, 1);
	assert_int_equal(serial.offset, 1);
	assert_int_equal(serial.width, 1);
	assert_true(serial.is_write);
	assert_int_equal(serial.value, 0xcd); /* masked to the width */

	for (uint32_t w = 1; w <= 8; w *= 2) {
		v = 0;
		expect_ret(hv_bus_dispatch(bus, 0x3f8, w, false, &v), 0);
		assert_false(serial.is_write);
		assert_int_equal(serial.width, w);
		assert_int_equal(serial.offset, 0);
		assert_int_equal(v, serial.read_value & mask(w)); /* truncated */
	}
	/* The last bytes of the range, exactly. */
	expect_ret(hv_bus_dispatch(bus, 0x3fc, 4, false, &v), 0);
	assert_int_equal(serial.offset, 4);
	expect_ret(hv_bus_dispatch(bus, 0x3ff, 1, true, &v), 0);
	assert_int_equal(serial.offset, 7);

	/* Straddling the end (or the start) is not this device's access. */
	serial.calls = 0;
	v = 0;
	expect_ret(hv_bus_dispatch(bus, 0x3fe, 4, false, &v), -ENOENT);
	assert_int_equal(v, 0xffffffff);
	expect_ret(hv_bus_dispatch(bus, 0x3f7, 2, false, &v), -ENOENT);
	assert_int_equal(v, 0xffff);
	expect_ret(hv_bus_dispatch(bus, 0x3f9, 8, true, &v), -ENOENT);
	expect_ret(hv_bus_dispatch(bus, 0x400, 1, true, &v), -ENOENT);
	expect_ret(hv_bus_dispatch(bus, 0x3f7, 1, true, &v), -ENOENT);
	assert_int_equal(serial.calls, 0);

	expect_ret(hv_bus_unregister(bus, handle), 0);
	expect_ret(hv_bus_dispatch(bus, 0x3f8, 1, false, &v), -ENOENT);
	assert_int_equal(serial.calls, 0);
	assert_int_equal(v, 0xff);
	expect_err(hv_bus_unregister(bus, handle), -ENOENT, "no range with handle");
}

static void test_pio_limits(void **state)
{
	struct hv_bus *bus = *state;
	struct dev d = { 0 };
	uint64_t v = 0;

	expect_ret(hv_bus_register(bus, 0xffff, 1, dev_fn, &d, "last", NULL), 0);
	expect_err(hv_bus_register(bus, 0xfff0, 0x11, dev_fn, &d, "over", NULL), -EINVAL,
		   "beyond port 0xffff");
	expect_ret(hv_bus_register(bus, 0x10000, 1, dev_fn, &d, "above", NULL), -EINVAL);
	expect_ret(hv_bus_register(bus, 0, 0x10001, dev_fn, &d, "huge", NULL), -EINVAL);
	expect_ret(hv_bus_register(bus, 0xfff0, 0xf, dev_fn, &d, "below-last", NULL), 0);
	expect_ret(hv_bus_register(bus, UINT64_MAX, 2, dev_fn, &d, "wrap", NULL), -EOVERFLOW);
	expect_err(hv_bus_register(bus, 0x10, 0, dev_fn, &d, "empty", NULL), -EINVAL, "length");
	expect_err(hv_bus_register(bus, 0x10, 1, NULL, &d, "nofn", NULL), -EINVAL, "callback");

	expect_ret(hv_bus_dispatch(bus, 0xffff, 1, true, &v), 0);
	assert_int_equal(d.offset, 0);
	expect_ret(hv_bus_dispatch(bus, 0xffff, 2, false, &v), -ENOENT);
	assert_int_equal(v, 0xffff);
}

static void test_mmio_limits(void **state)
{
	struct hv_bus *bus = *state;
	struct dev d = { .read_value = 0x5a };
	uint64_t v = 0;

	/* MMIO has no 16-bit limit, but may not wrap. */
	expect_ret(hv_bus_register(bus, 0x10000, 0x10000, dev_fn, &d, NULL, NULL), 0);
	expect_ret(hv_bus_register(bus, UINT64_MAX - 0x1fff, 0x1000, dev_fn, &d, "top", NULL), 0);
	expect_err(hv_bus_register(bus, UINT64_MAX - 0xff, 0x200, dev_fn, &d, "wrap", NULL),
		   -EOVERFLOW, "wraps around");
	expect_ret(hv_bus_register(bus, 1, UINT64_MAX, dev_fn, &d, "wrap", NULL), -EOVERFLOW);
	/* An unnamed range still has a name in messages. */
	expect_err(hv_bus_register(bus, 0x1ffff, 1, dev_fn, &d, "x", NULL), -EEXIST, "'unnamed'");

	expect_ret(hv_bus_dispatch(bus, UINT64_MAX - 0x1000, 1, false, &v), 0);
	assert_int_equal(d.offset, 0xfff);
	assert_int_equal(v, 0x5a);
	expect_ret(hv_bus_dispatch(bus, UINT64_MAX - 0x1000, 2, false, &v), -ENOENT);
	/* Accesses that wrap the address space, or have no width, are refused. */
	v = 0;
	expect_ret(hv_bus_dispatch(bus, UINT64_MAX - 3, 8, false, &v), -EINVAL);
	assert_int_equal(v, UINT64_MAX);
	v = 0;
	expect_ret(hv_bus_dispatch(bus, 0x10000, 0, false, &v), -EINVAL);
	assert_int_equal(v, UINT64_MAX);
	expect_ret(hv_bus_dispatch(bus, 0x10000, 9, true, &v), -EINVAL);
	expect_ret(hv_bus_dispatch(bus, 0x10000, 16, false, &v), -EINVAL);
}

static void test_overlap(void **state)
{
	struct hv_bus *bus = *state;
	static const struct {
		uint64_t base, len;
	} bad[] = {
		{ 0x1000, 0x1000 }, { 0xfff, 2 },      { 0x1fff, 1 },
		{ 0x1800, 1 },      { 0x0, 0x10000 },  { 0x1fff, 0x100 },
	};
	struct dev a = { 0 }, b = { 0 }, c = { 0 };
	uint64_t v;

	expect_ret(hv_bus_register(bus, 0x1000, 0x1000, dev_fn, &a, "dev-a", NULL), 0);
	for (size_t i = 0; i < HV_ARRAY_SIZE(bad); i++)
		expect_err(hv_bus_register(bus, bad[i].base, bad[i].len, dev_fn, &b, "b", NULL),
			   -EEXIST, "'dev-a' at 0x1000-0x1fff");
	/* Adjacent on both sides. */
	expect_ret(hv_bus_register(bus, 0x2000, 0x10, dev_fn, &b, "dev-b", NULL), 0);
	expect_ret(hv_bus_register(bus, 0x0, 0x1000, dev_fn, &c, "dev-c", NULL), 0);
	/* Spanning a gap between two ranges names one of them. */
	expect_err(hv_bus_register(bus, 0x1ff0, 0x20, dev_fn, &b, "b", NULL), -EEXIST, "dev-");

	v = 1;
	expect_ret(hv_bus_dispatch(bus, 0xfff, 1, true, &v), 0);
	expect_ret(hv_bus_dispatch(bus, 0x1000, 1, true, &v), 0);
	expect_ret(hv_bus_dispatch(bus, 0x1fff, 1, true, &v), 0);
	expect_ret(hv_bus_dispatch(bus, 0x2000, 1, true, &v), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 1);
	assert_int_equal(a.offset, 0xfff);
	assert_int_equal(b.offset, 0);
	/* Two ranges side by side do not make one access. */
	expect_ret(hv_bus_dispatch(bus, 0xffe, 4, true, &v), -ENOENT);
}

static void test_widths(void **state)
{
	struct hv_bus *bus = *state;
	struct dev d = { .read_value = UINT64_MAX };
	uint64_t v;

	expect_ret(hv_bus_register(bus, 0x100, 0x100, dev_fn, &d, "w", NULL), 0);
	/* Every width 1..8 is masked on the way in and truncated on the way out
	 * (KVM splits page-crossing MMIO into odd-sized pieces). */
	for (uint32_t w = 1; w <= 8; w++) {
		v = 0xf0e1d2c3b4a59687ull;
		expect_ret(hv_bus_dispatch(bus, 0x100, w, true, &v), 0);
		assert_int_equal(d.value, 0xf0e1d2c3b4a59687ull & mask(w));
		v = 0;
		expect_ret(hv_bus_dispatch(bus, 0x100, w, false, &v), 0);
		assert_int_equal(v, mask(w));
	}
	/* Unclaimed reads are all-ones of the width. */
	for (uint32_t w = 1; w <= 8; w++) {
		v = 0x1234;
		expect_ret(hv_bus_dispatch(bus, 0x1000, w, false, &v), -ENOENT);
		assert_int_equal(v, mask(w));
	}
	/* A read the device leaves alone yields 0, not the caller's stale value. */
	d.leave_value = true;
	v = 0x5555;
	expect_ret(hv_bus_dispatch(bus, 0x104, 4, false, &v), 0);
	assert_int_equal(v, 0);
}

static void test_callback_error(void **state)
{
	struct hv_bus *bus = *state;
	struct dev d = { .read_value = 0x12, .result = -EIO };
	uint64_t v = 0;

	expect_ret(hv_bus_register(bus, 0x60, 1, dev_fn, &d, "kbd", NULL), 0);
	/* The message names the device; the callback left none of its own. */
	expect_err(hv_bus_dispatch(bus, 0x60, 1, false, &v), -EIO, "kbd at 0x60: Input/output error");
	assert_int_equal(d.calls, 1);
	assert_int_equal(v, 0xff); /* the device's 0x12 is discarded */
	v = 0x77;
	expect_ret(hv_bus_dispatch(bus, 0x60, 1, true, &v), -EIO);
	assert_int_equal(d.value, 0x77);
	d.result = -ETIMEDOUT;
	expect_ret(hv_bus_dispatch(bus, 0x60, 1, false, &v), -ETIMEDOUT);
	assert_int_equal(v, 0xff);
	d.result = 0;
	expect_ret(hv_bus_dispatch(bus, 0x60, 1, false, &v), 0);
	assert_int_equal(v, 0x12);
}

static void test_handles(void **state)
{
	struct hv_bus *bus = *state;
	struct dev d = { 0 };
	uint32_t h1, h2, h3;
	char long_name[100];

	memset(long_name, 'L', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	expect_ret(hv_bus_register(bus, 0x10, 1, dev_fn, &d, long_name, &h1), 0);
	expect_ret(hv_bus_register(bus, 0x11, 1, dev_fn, &d, "b", &h2), 0);
	expect_ret(hv_bus_unregister(bus, h1), 0);
	expect_ret(hv_bus_register(bus, 0x10, 1, dev_fn, &d, "c", &h3), 0);
	/* Handles are not recycled: a stale one cannot remove a newer range. */
	assert_int_not_equal(h1, h2);
	assert_int_not_equal(h3, h1);
	assert_int_not_equal(h3, h2);
	expect_ret(hv_bus_unregister(bus, h1), -ENOENT);
	expect_ret(hv_bus_unregister(bus, 0), -ENOENT);
	expect_ret(hv_bus_unregister(bus, UINT32_MAX), -ENOENT);
	/* A long name is truncated, not overflowed. */
	expect_ret(hv_bus_register(bus, 0x20, 1, dev_fn, &d, long_name, NULL), 0);
	expect_err(hv_bus_register(bus, 0x20, 1, dev_fn, &d, "x", NULL), -EEXIST, "'LLLL");
	assert_true(strlen(hv_last_error()) < 200);
}

/* 1000 random ranges, checked against a brute-force model. */
#define NR_RANGES 1000

struct model_range {
	uint64_t base, len;
	uint32_t handle;
	bool live;
	int calls;
	uint64_t last_offset;
};

static int model_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write,
		    uint64_t *value)
{
	struct model_range *m = opaque;

	(void)width;
	m->calls++;
	m->last_offset = offset;
	if (!is_write)
		*value = m->base ^ offset;
	return 0;
}

static struct model_range *model_lookup(struct model_range *model, uint64_t addr, uint32_t width)
{
	for (int i = 0; i < NR_RANGES; i++) {
		struct model_range *m = &model[i];

		if (m->live && addr >= m->base && addr - m->base < m->len &&
		    width <= m->len - (addr - m->base))
			return m;
	}
	return NULL;
}

static void check_model(struct hv_bus *bus, struct model_range *model, uint64_t *rng, int probes)
{
	for (int k = 0; k < probes; k++) {
		const struct model_range *near = &model[test_rand(rng) % NR_RANGES];
		uint32_t width = 1u << (test_rand(rng) % 4);
		uint64_t addr, v = 0;
		struct model_range *want;
		int ret;

		/* Mostly around range edges, where off-by-ones live. */
		if (k % 4 == 0)
			addr = test_rand(rng) % (1ull << 32);
		else if (k % 4 == 1)
			addr = near->base - 4 + test_rand(rng) % 8;
		else
			addr = near->base + near->len - 4 + test_rand(rng) % 8;
		want = model_lookup(model, addr, width);
		if (want)
			want->calls = 0;
		ret = hv_bus_dispatch(bus, addr, width, false, &v);
		if (!want) {
			if (ret != -ENOENT)
				fail_msg("0x%llx/%u: dispatched (%d) but the model has no range",
					 (unsigned long long)addr, width, ret);
			assert_int_equal(v, mask(width));
			continue;
		}
		if (ret != 0 || want->calls != 1)
			fail_msg("0x%llx/%u: want range 0x%llx+0x%llx, got %d, %d calls",
				 (unsigned long long)addr, width, (unsigned long long)want->base,
				 (unsigned long long)want->len, ret, want->calls);
		assert_int_equal(want->last_offset, addr - want->base);
		assert_int_equal(v, (want->base ^ (addr - want->base)) & mask(width));
	}
}

static void test_many_ranges(void **state)
{
	struct hv_bus *bus = *state;
	struct model_range *model = calloc(NR_RANGES, sizeof(*model));
	uint64_t rng = 42;
	int n = 0, rejected = 0;

	assert_non_null(model);
	while (n < NR_RANGES) {
		uint64_t base = test_rand(&rng) % (1ull << 32);
		uint64_t len = 1 + test_rand(&rng) % (test_rand(&rng) & 1 ? 16 : 0x100000);
		bool overlaps = false;
		int ret;

		for (int i = 0; i < n; i++)
			if (base < model[i].base + model[i].len && model[i].base < base + len)
				overlaps = true;
		ret = hv_bus_register(bus, base, len, model_fn, &model[n], NULL, &model[n].handle);
		if (overlaps) {
			expect_ret(ret, -EEXIST);
			rejected++;
			continue;
		}
		expect_ret(ret, 0);
		model[n].base = base;
		model[n].len = len;
		model[n].live = true;
		n++;
	}
	assert_true(rejected > 0); /* the overlap path was exercised */
	check_model(bus, model, &rng, 50000);

	/* Drop every other range; lookups must follow. */
	for (int i = 0; i < NR_RANGES; i += 2) {
		expect_ret(hv_bus_unregister(bus, model[i].handle), 0);
		model[i].live = false;
	}
	check_model(bus, model, &rng, 50000);
	free(model);
}

/*
 * Two threads dispatch while a third registers and unregisters.  Each round
 * of the third thread uses its own device generation; once unregister()
 * returns, that generation's callback must not be running and must never
 * run again.
 */
#define GENERATIONS 4
#define ROUNDS 300
#ifndef YIELDS
#define YIELDS 50
#endif
#define CHURN_BASE 0x10000

struct generation {
	atomic_int in_call;
	atomic_int dead;
	atomic_int late_calls; /* calls that began after unregister() returned */
};

struct race {
	struct hv_bus *bus;
	struct generation gen[GENERATIONS];
	atomic_int stop;
	atomic_int violations;
	atomic_int steady_calls;
	atomic_int bad_values;
	atomic_int rounds;
};

static int steady_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write,
		     uint64_t *value)
{
	struct race *r = opaque;

	(void)width;
	atomic_fetch_add(&r->steady_calls, 1);
	if (!is_write)
		*value = 0xa0 + offset;
	return 0;
}

static int churn_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write,
		    uint64_t *value)
{
	struct generation *g = opaque;

	(void)offset;
	(void)width;
	atomic_fetch_add(&g->in_call, 1);
	if (atomic_load(&g->dead))
		atomic_fetch_add(&g->late_calls, 1);
	for (int i = 0; i < YIELDS; i++) /* widen the window a little */
		sched_yield();
	if (!is_write)
		*value = 0x55;
	atomic_fetch_sub(&g->in_call, 1);
	return 0;
}

static void *dispatcher(void *arg)
{
	struct race *r = arg;
	uint64_t rng = (uint64_t)(uintptr_t)&rng;

	while (!atomic_load(&r->stop)) {
		uint64_t off = test_rand(&rng) % 16, v = 0;
		int ret;

		ret = hv_bus_dispatch(r->bus, off, 1, false, &v);
		if (ret != 0 || v != 0xa0 + off)
			atomic_fetch_add(&r->bad_values, 1);
		ret = hv_bus_dispatch(r->bus, CHURN_BASE + off, 1, false, &v);
		if (!((ret == 0 && v == 0x55) || (ret == -ENOENT && v == 0xff)))
			atomic_fetch_add(&r->bad_values, 1);
		/* Ranges the churner adds and removes in bulk, forcing reallocation. */
		off = 0x100000 + (test_rand(&rng) % 256) * 0x10;
		ret = hv_bus_dispatch(r->bus, off, 4, false, &v);
		if (ret != -ENOENT && ret != 0)
			atomic_fetch_add(&r->bad_values, 1);
	}
	return NULL;
}

static void *churner(void *arg)
{
	struct race *r = arg;
	uint32_t bulk[64];

	/* Keeps going after a starvation timeout, with the dispatchers stopped. */
	for (int round = 0; round < ROUNDS; round++) {
		struct generation *g = &r->gen[round % GENERATIONS];
		uint32_t h;

		atomic_store(&g->dead, 0);
		if (hv_bus_register(r->bus, CHURN_BASE, 16, churn_fn, g, "churn", &h)) {
			atomic_fetch_add(&r->violations, 1);
			break;
		}
		for (uint32_t i = 0; i < HV_ARRAY_SIZE(bulk); i++)
			if (hv_bus_register(r->bus, 0x100000 + i * 0x40, 0x10, steady_fn, r, "bulk",
					    &bulk[i]))
				atomic_fetch_add(&r->violations, 1);
		/* Unregister while a call is most likely in flight. */
		for (int spin = 0; spin < 10000 && !atomic_load(&g->in_call); spin++)
			sched_yield();
		if (hv_bus_unregister(r->bus, h))
			atomic_fetch_add(&r->violations, 1);
		/* Unregister returned: no call may be in progress. */
		if (atomic_load(&g->in_call))
			atomic_fetch_add(&r->violations, 1);
		atomic_store(&g->dead, 1);
		for (uint32_t i = 0; i < HV_ARRAY_SIZE(bulk); i++)
			if (hv_bus_unregister(r->bus, bulk[i]))
				atomic_fetch_add(&r->violations, 1);
		atomic_fetch_add(&r->rounds, 1);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct race *r = calloc(1, sizeof(*r));
	pthread_t d1, d2, churn;
	int done;

	assert_non_null(r);
	r->bus = *state;
	expect_ret(hv_bus_register(r->bus, 0, 16, steady_fn, r, "steady", NULL), 0);
	assert_int_equal(pthread_create(&d1, NULL, dispatcher, r), 0);
	assert_int_equal(pthread_create(&d2, NULL, dispatcher, r), 0);
	assert_int_equal(pthread_create(&churn, NULL, churner, r), 0);
	/* Registration must make progress while dispatch is busy: a lock that
	 * lets readers starve the writer fails here rather than hanging. */
	for (int ms = 0; ms < 30000 && atomic_load(&r->rounds) < ROUNDS; ms += 10)
		usleep(10000);
	done = atomic_load(&r->rounds);
	atomic_store(&r->stop, 1);
	pthread_join(d1, NULL);
	pthread_join(d2, NULL);
	pthread_join(churn, NULL);

	if (done < ROUNDS)
		fail_msg("register/unregister starved by dispatch: %d of %d rounds in 30 s", done,
			 ROUNDS);
	assert_int_equal(atomic_load(&r->rounds), ROUNDS);
	assert_int_equal(atomic_load(&r->violations), 0);
	assert_int_equal(atomic_load(&r->bad_values), 0);
	assert_true(atomic_load(&r->steady_calls) > 0);
	for (int i = 0; i < GENERATIONS; i++) {
		if (atomic_load(&r->gen[i].late_calls))
			fail_msg("generation %d was called after its unregister() returned", i);
		assert_int_equal(atomic_load(&r->gen[i].in_call), 0);
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test_setup_teardown(test_pio_dispatch, setup_pio, teardown),
		cmocka_unit_test_setup_teardown(test_pio_limits, setup_pio, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_limits, setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_overlap, setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_widths, setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error, setup_pio, teardown),
		cmocka_unit_test_setup_teardown(test_handles, setup_pio, teardown),
		cmocka_unit_test_setup_teardown(test_many_ranges, setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup_mmio, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
