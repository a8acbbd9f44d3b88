/* SPDX-License-Identifier: MIT */
/* Helpers shared by the cmocka unit tests (include after <cmocka.h>). */
#ifndef HV_TESTS_UNIT_UTIL_H
#define HV_TESTS_UNIT_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hvlib/common.h"

/* mlock() len bytes at p and check that the kernel really locked them:
 * sanitizer runtimes turn mlock() into a no-op that still returns 0.  False:
 * nothing is locked (the caller skips). */
static inline bool lock_pages(void *p, size_t len)
{
	char line[128];
	long kib = 0;
	FILE *f;

	if (mlock(p, len))
		return false;
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib > 0;
}

/* expr must return exactly want; on mismatch show the call and hvlib's message. */
#define expect_ret(expr, want)                                                              \
	do {                                                                                \
		int got_ = (expr);                                                          \
		int want_ = (want);                                                         \
		if (got_ != want_)                                                          \
			fail_msg("%s returned %d (%s), expected %d (%s); last error: '%s'", \
				 #expr, got_, hv_strerror(got_), want_, hv_strerror(want_), \
				 hv_last_error());                                          \
	} while (0)

/* As expect_ret, and hv_last_error() must contain needle. */
#define expect_err(expr, want, needle)                                                     \
	do {                                                                               \
		expect_ret(expr, want);                                                    \
		if (!strstr(hv_last_error(), (needle)))                                    \
			fail_msg("%s: message '%s' does not mention '%s'", #expr,          \
				 hv_last_error(), (needle));                               \
	} while (0)

/* Open descriptors of this process, to catch leaks across a test. */
static inline int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own descriptor */
}

/* Byte i of the test pattern with this seed; differs page to page. */
static inline uint8_t pattern_byte(uint8_t seed, size_t i)
{
	return (uint8_t)(seed + i * 7 + (i >> 12));
}

/* A temporary file holding len bytes of pattern_byte(seed, i), unlinked at
 * once: the descriptor is all that is left.  Returns the fd (O_RDWR) or -1. */
static inline int temp_file(size_t len, uint8_t seed)
{
	char path[] = "/tmp/hvlib-unit-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *data;

	if (fd < 0)
		return -1;
	unlink(path);
	data = malloc(len ? len : 1);
	if (!data)
		goto err;
	for (size_t i = 0; i < len; i++)
		data[i] = pattern_byte(seed, i);
	if (len && pwrite(fd, data, len, 0) != (ssize_t)len) {
		free(data);
		goto err;
	}
	free(data);
	return fd;
err:
	close(fd);
	return -1;
}

/* A small deterministic PRNG (xorshift64*), so failures reproduce. */
static inline uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline void test_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Wait (up to 5 s) for a counter another thread bumps to reach want. */
static inline bool wait_at_least(int *p, int want)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(p, __ATOMIC_SEQ_CST) >= want)
			return true;
		test_sleep_us(1000);
	}
	return false;
}

#endif /* HV_TESTS_UNIT_UTIL_H */
