/* SPDX-License-Identifier: MIT */
/* Error codes and messages, the version, and exit reason names. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "unit/unit_util.h"
#include "util/error.h"

static void test_strerror(void **state)
{
	static const int plain[] = { EINVAL, ENOENT, EACCES, ENOMEM, EBADF, ENOSPC, EOVERFLOW,
				     EBUSY, ENXIO, ESRCH, EIO };

	(void)state;
	assert_string_equal(hv_strerror(0), "success");
	/* Codes hvlib gives its own meaning. */
	assert_non_null(strstr(hv_strerror(-EFAULT), "guest"));
	assert_non_null(strstr(hv_strerror(-EEXIST), "overlaps"));
	assert_non_null(strstr(hv_strerror(-E2BIG), "too small"));
	assert_non_null(strstr(hv_strerror(-ENOTSUP), "not supported"));
	assert_string_equal(hv_strerror(-EOPNOTSUPP), hv_strerror(-ENOTSUP)); /* same on Linux */
	/* The others read like strerror(). */
	for (size_t i = 0; i < HV_ARRAY_SIZE(plain); i++)
		assert_string_equal(hv_strerror(-plain[i]), strerror(plain[i]));
	/* Positive values are not error codes; odd negatives still get text. */
	assert_string_equal(hv_strerror(1), "not an error code");
	assert_string_equal(hv_strerror(EINVAL), "not an error code");
	assert_string_equal(hv_strerror(INT_MAX), "not an error code");
	assert_non_null(hv_strerror(-100000));
	assert_true(hv_strerror(-100000)[0] != '\0');
	assert_non_null(hv_strerror(INT_MIN)); /* -INT_MIN must not be computed */
	assert_true(hv_strerror(INT_MIN)[0] != '\0');
	assert_non_null(hv_strerror(INT_MIN + 1));
}

static void test_version(void **state)
{
	uint32_t v = hv_version();

	(void)state;
	assert_int_equal(v >> 16, HV_VERSION_MAJOR);
	assert_int_equal((v >> 8) & 0xff, HV_VERSION_MINOR);
	assert_int_equal(v & 0xff, HV_VERSION_PATCH);
	assert_int_equal(v, (HV_VERSION_MAJOR << 16) | (HV_VERSION_MINOR << 8) | HV_VERSION_PATCH);
}

static void test_exit_reason_names(void **state)
{
	static const char *const names[] = {
		[HV_EXIT_NONE] = "NONE",
		[HV_EXIT_IO] = "IO",
		[HV_EXIT_MMIO] = "MMIO",
		[HV_EXIT_HLT] = "HLT",
		[HV_EXIT_SHUTDOWN] = "SHUTDOWN",
		[HV_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
		[HV_EXIT_KICKED] = "KICKED",
		[HV_EXIT_DEBUG] = "DEBUG",
		[HV_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[HV_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[HV_EXIT_STOP] = "STOP",
		[HV_EXIT_UNKNOWN] = "UNKNOWN",
	};

	(void)state;
	/* A new exit reason must get a name here as well as in the library. */
	assert_int_equal(HV_ARRAY_SIZE(names), HV_EXIT_REASON_COUNT);
	for (uint32_t r = 0; r < HV_EXIT_REASON_COUNT; r++) {
		assert_non_null(names[r]);
		assert_string_equal(hv_exit_reason_name(r), names[r]);
	}
	assert_string_equal(hv_exit_reason_name(HV_EXIT_REASON_COUNT), "INVALID");
	assert_string_equal(hv_exit_reason_name(1000), "INVALID");
	assert_string_equal(hv_exit_reason_name(UINT32_MAX), "INVALID");
}

static void test_internal_messages(void **state)
{
	char big[700];
	const char *msg;

	(void)state;
	hv_err_clear();
	assert_string_equal(hv_last_error(), "");
	assert_int_equal(hv_err(-EINVAL, "bad %s %d", "thing", 7), -EINVAL);
	assert_string_equal(hv_last_error(), "bad thing 7");
	assert_int_equal(hv_err_sys(-ENOENT, "opening %s", "/x"), -ENOENT);
	assert_string_equal(hv_last_error(), "opening /x: No such file or directory");
	assert_int_equal(hv_err_context(-ENOENT, "loading %s", "kernel"), -ENOENT);
	assert_string_equal(hv_last_error(),
			    "loading kernel: opening /x: No such file or directory");
	hv_err_clear();
	assert_int_equal(hv_err_context(-EIO, "reading"), -EIO);
	assert_string_equal(hv_last_error(), "reading: Input/output error");

	/* Over-long messages are truncated, never overflowed. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hv_err(-EINVAL, "%s", big);
	msg = hv_last_error();
	assert_in_range(strlen(msg), 256, sizeof(big) - 2);
	hv_err_sys(-EINVAL, "%s", big);
	assert_int_equal(strlen(hv_last_error()), strlen(msg));
	hv_err_context(-EINVAL, "%s", big);
	assert_int_equal(strlen(hv_last_error()), strlen(msg));
	hv_err(-EINVAL, "short");
	hv_err_context(-EINVAL, "%s", big);
	assert_int_equal(strlen(hv_last_error()), strlen(msg));
}

/* hv_last_error() is per thread: each thread sees only its own failures. */
struct thread_check {
	pthread_barrier_t barrier;
	int initially_empty;
	int own_message;
	int still_own;
};

static void *other_thread(void *arg)
{
	struct thread_check *c = arg;
	struct hv_bus *bus = NULL;

	/* Main has failed already; this thread has not. */
	pthread_barrier_wait(&c->barrier);
	c->initially_empty = hv_last_error()[0] == '\0';
	if (hv_bus_create(HV_BUS_PIO, &bus) == 0) {
		hv_bus_unregister(bus, 4242);
		c->own_message = strstr(hv_last_error(), "handle 4242") != NULL;
		hv_bus_destroy(bus);
	}
	pthread_barrier_wait(&c->barrier);
	/* Main fails again; this thread's message must survive that. */
	pthread_barrier_wait(&c->barrier);
	c->still_own = strstr(hv_last_error(), "handle 4242") != NULL;
	return NULL;
}

static void test_last_error_per_thread(void **state)
{
	struct thread_check c = { 0 };
	struct hv_mem_region_info info;
	struct hv_mem *mem = NULL;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_barrier_init(&c.barrier, NULL, 2), 0);
	expect_ret(hv_mem_create(&mem), 0);
	expect_err(hv_mem_remove_region(mem, 77), -ENOENT, "no region with id 77");
	assert_int_equal(pthread_create(&t, NULL, other_thread, &c), 0);
	pthread_barrier_wait(&c.barrier);
	pthread_barrier_wait(&c.barrier); /* the other thread has failed */
	assert_non_null(strstr(hv_last_error(), "no region with id 77"));
	expect_err(hv_mem_region_info(mem, 88, &info), -ENOENT, "no region with id 88");
	pthread_barrier_wait(&c.barrier);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&c.barrier);
	hv_mem_destroy(mem);

	assert_true(c.initially_empty);
	assert_true(c.own_message);
	assert_true(c.still_own);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_exit_reason_names),
		cmocka_unit_test(test_internal_messages),
		cmocka_unit_test(test_last_error_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
