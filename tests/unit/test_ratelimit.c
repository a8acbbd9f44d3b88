/* SPDX-License-Identifier: MIT */
/*
 * The log rate limiter (util/ratelimit.h): burst lines per interval, then
 * silence counted and announced with the next line let through; intervals
 * restart on time, a clock going backwards starts a new one, and threads
 * hammering one limiter lose no count.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/ratelimit.h"

#define SEC 1000000000ull

static void test_burst_then_silence(void **state)
{
	struct hv_ratelimit rl;
	uint64_t dropped = 99;

	(void)state;
	hv_ratelimit_init(&rl, 3, 5 * SEC);
	for (int i = 0; i < 3; i++) {
		assert_true(hv_ratelimit_allow(&rl, 100 + (uint64_t)i, &dropped));
		assert_int_equal(dropped, 0);
	}
	/* Thousands more inside the interval: all dropped. */
	for (int i = 0; i < 5000; i++)
		assert_false(hv_ratelimit_allow(&rl, 1000 + (uint64_t)i, &dropped));
	assert_false(hv_ratelimit_allow(&rl, 100 + 5 * SEC - 1, &dropped));
	/* The next interval: the first line carries the count. */
	assert_true(hv_ratelimit_allow(&rl, 100 + 5 * SEC, &dropped));
	assert_int_equal(dropped, 5001);
	assert_true(hv_ratelimit_allow(&rl, 100 + 5 * SEC + 1, &dropped));
	assert_int_equal(dropped, 0);
	hv_ratelimit_fini(&rl);
}

static void test_quiet_source_never_limited(void **state)
{
	struct hv_ratelimit rl;
	uint64_t dropped;

	(void)state;
	hv_ratelimit_init(&rl, 2, SEC);
	/* Two a second, for a minute: every one goes out. */
	for (uint64_t t = 0; t < 60; t++) {
		assert_true(hv_ratelimit_allow(&rl, t * SEC, &dropped));
		assert_true(hv_ratelimit_allow(&rl, t * SEC + SEC / 2, &dropped));
		assert_int_equal(dropped, 0);
	}
	hv_ratelimit_fini(&rl);
}

static void test_clock_backwards(void **state)
{
	struct hv_ratelimit rl;
	uint64_t dropped;

	(void)state;
	hv_ratelimit_init(&rl, 1, 10 * SEC);
	assert_true(hv_ratelimit_allow(&rl, 50 * SEC, &dropped));
	assert_false(hv_ratelimit_allow(&rl, 50 * SEC, &dropped));
	/* Earlier than the interval's start: a new interval, not a stuck one. */
	assert_true(hv_ratelimit_allow(&rl, 1 * SEC, &dropped));
	assert_int_equal(dropped, 1);
	assert_false(hv_ratelimit_allow(&rl, 2 * SEC, &dropped));
	hv_ratelimit_fini(&rl);
}

static void test_zero_burst_drops_all(void **state)
{
	struct hv_ratelimit rl;
	uint64_t dropped;

	(void)state;
	hv_ratelimit_init(&rl, 0, SEC);
	for (uint64_t t = 0; t < 10; t++)
		assert_false(hv_ratelimit_allow(&rl, t * SEC, &dropped));
	hv_ratelimit_fini(&rl);
}

#define THREADS 4
#define CALLS 20000

struct hammer {
	struct hv_ratelimit *rl;
	uint64_t passed, dropped_seen;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	uint64_t dropped;

	for (int i = 0; i < CALLS; i++)
		if (hv_ratelimit_allow(h->rl, (uint64_t)i, &dropped)) {
			h->passed++;
			h->dropped_seen += dropped;
		}
	return NULL;
}

static void test_threads_count_exactly(void **state)
{
	struct hv_ratelimit rl;
	struct hammer h[THREADS];
	pthread_t t[THREADS];
	uint64_t passed = 0, seen = 0, dropped;

	(void)state;
	/* One interval covers every call: exactly `burst` pass in all. */
	hv_ratelimit_init(&rl, 7, 10 * SEC);
	for (int i = 0; i < THREADS; i++) {
		h[i] = (struct hammer){ .rl = &rl };
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		passed += h[i].passed;
		seen += h[i].dropped_seen;
	}
	assert_int_equal(passed, 7);
	assert_int_equal(seen, 0);
	assert_true(hv_ratelimit_allow(&rl, 20 * SEC, &dropped));
	assert_int_equal(dropped, (uint64_t)THREADS * CALLS - 7);
	hv_ratelimit_fini(&rl);
}

static void test_now_is_monotonic(void **state)
{
	uint64_t a = hv_ratelimit_now(), b = hv_ratelimit_now();

	(void)state;
	assert_true(a > 0 && b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_silence),
		cmocka_unit_test(test_quiet_source_never_limited),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_zero_burst_drops_all),
		cmocka_unit_test(test_threads_count_exactly),
		cmocka_unit_test(test_now_is_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
