/* SPDX-License-Identifier: MIT */
/* The bus hooks the VM builds on: a guard that may refuse a registration
 * (MMIO over guest RAM), the overlap query under the guard lock, and the
 * vCPU recorded for the duration of a dispatch. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bus/bus_internal.h"
#include "hvlib/hvlib.h"
#include "util/error.h"

struct guard {
	pthread_mutex_t lock;
	uint64_t ram_base, ram_len;
	int calls;
	bool held; /* the guard lock was held when the guard ran */
};

static int guard_fn(void *opaque, uint64_t base, uint64_t len, const char *name)
{
	struct guard *g = opaque;

	g->calls++;
	g->held = pthread_mutex_trylock(&g->lock) == EBUSY;
	if (!g->held)
		pthread_mutex_unlock(&g->lock);
	if (base < g->ram_base + g->ram_len && g->ram_base < base + len)
		return hv_err(-EEXIST, "'%s' over RAM", name);
	return 0;
}

static struct hv_vcpu *seen;

static int dev_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value)
{
	(void)opaque;
	(void)offset;
	(void)width;
	(void)is_write;
	seen = hv_bus_current_vcpu();
	*value = 0;
	return 0;
}

static void test_guard(void **state)
{
	struct guard g = { .lock = PTHREAD_MUTEX_INITIALIZER, .ram_base = 0x1000,
			   .ram_len = 0x1000 };
	struct hv_bus *bus;
	uint64_t base, len;
	char name[32];
	uint32_t h;

	(void)state;
	assert_int_equal(hv_bus_create(HV_BUS_MMIO, &bus), 0);
	hv_bus_set_guard(bus, &g.lock, guard_fn, &g);
	assert_int_equal(hv_bus_register(bus, 0x1800, 0x1000, dev_fn, NULL, "dev", NULL), -EEXIST);
	assert_string_equal(hv_last_error(), "'dev' over RAM");
	assert_true(g.held);
	assert_int_equal(hv_bus_register(bus, 0x2000, 0x1000, dev_fn, NULL, NULL, &h), 0);
	assert_int_equal(g.calls, 2);
	/* An overlap with a range is refused by the bus itself, before the guard. */
	assert_int_equal(hv_bus_register(bus, 0x2800, 0x10, dev_fn, NULL, "x", NULL), -EEXIST);
	assert_int_equal(g.calls, 2);
	pthread_mutex_lock(&g.lock);
	assert_true(hv_bus_overlap_locked(bus, 0x2ff0, 0x100, &base, &len, name, sizeof(name)));
	assert_int_equal(base, 0x2000);
	assert_int_equal(len, 0x1000);
	assert_string_equal(name, "unnamed");
	assert_false(hv_bus_overlap_locked(bus, 0x3000, 0x100, &base, &len, name, sizeof(name)));
	assert_false(hv_bus_overlap_locked(bus, 0x1000, 0x1000, &base, &len, name, sizeof(name)));
	pthread_mutex_unlock(&g.lock);
	assert_int_equal(hv_bus_unregister(bus, h), 0);
	hv_bus_destroy(bus);
}

static void test_current_vcpu(void **state)
{
	struct hv_vcpu *fake = (struct hv_vcpu *)&seen, *prev;
	struct hv_bus *bus;
	uint64_t v;

	(void)state;
	assert_int_equal(hv_bus_create(HV_BUS_PIO, &bus), 0);
	assert_int_equal(hv_bus_register(bus, 0x10, 1, dev_fn, NULL, "dev", NULL), 0);
	assert_int_equal(hv_bus_dispatch(bus, 0x10, 1, false, &v), 0);
	assert_null(seen);
	prev = hv_bus_enter_vcpu(fake);
	assert_null(prev);
	assert_int_equal(hv_bus_dispatch(bus, 0x10, 1, false, &v), 0);
	assert_ptr_equal(seen, fake);
	assert_ptr_equal(hv_bus_enter_vcpu(prev), fake);
	assert_null(hv_bus_current_vcpu());
	hv_bus_destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_current_vcpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
