/* SPDX-License-Identifier: MIT */
/*
 * UART output batching (hvlib/serial.h, config.ioloop): bytes written one
 * THR access at a time reach the output callback in runs, byte-exact and in
 * order; a run without a newline still arrives promptly (the timer), and
 * destroy hands on what is left.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/ioloop.h"
#include "hvlib/serial.h"
#include "unit/unit_util.h"

struct sink {
	pthread_mutex_t lock;
	uint8_t out[4096];
	size_t len;
	int calls;
};

static void on_output(void *opaque, const uint8_t *buf, size_t len)
{
	struct sink *k = opaque;

	pthread_mutex_lock(&k->lock);
	assert_true(len > 0);
	assert_true(len <= sizeof(k->out) - k->len);
	memcpy(k->out + k->len, buf, len);
	k->len += len;
	k->calls++;
	pthread_mutex_unlock(&k->lock);
}

static size_t sink_len(struct sink *k)
{
	size_t n;

	pthread_mutex_lock(&k->lock);
	n = k->len;
	pthread_mutex_unlock(&k->lock);
	return n;
}

/* The 8250 console's way: LSR until THRE, then THR. */
static void send(struct hv_serial *s, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t v = 0;

		do
			expect_ret(hv_serial_io(s, 5, 1, false, &v), 0);
		while (!(v & 0x20));
		v = p[i];
		expect_ret(hv_serial_io(s, 0, 1, true, &v), 0);
	}
}

/* Wait up to 1 s for want bytes; returns the milliseconds it took. */
static long wait_for(struct sink *k, size_t want)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000 && sink_len(k) < want; i++)
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

static void test_batched(void **state)
{
	struct sink k = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct hv_serial_config cfg;
	struct hv_ioloop *loop;
	struct hv_serial *s;
	uint8_t msg[300];
	long ms;

	(void)state;
	/* 300 bytes: lines of 60 (59 + '\n'); then a prompt with no newline. */
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (i % 60 == 59) ? '\n' : (uint8_t)('!' + i % 90);
	expect_ret(hv_ioloop_create(&loop), 0);
	hv_serial_config_init(&cfg);
	cfg.output = on_output;
	cfg.opaque = &k;
	cfg.ioloop = loop;
	expect_ret(hv_serial_create(&cfg, &s), 0);
	send(s, msg, sizeof(msg));
	assert_int_equal(sink_len(&k), sizeof(msg)); /* each line went at its newline */
	assert_int_equal(k.calls, 5);
	assert_memory_equal(k.out, msg, sizeof(msg));

	send(s, (const uint8_t *)"# ", 2);
	ms = wait_for(&k, sizeof(msg) + 2);
	assert_int_equal(sink_len(&k), sizeof(msg) + 2);
	assert_true(ms < 500); /* the 2 ms timer, with room for a loaded host */
	assert_int_equal(k.calls, 6);

	/* 300 bytes without a newline: 256 at once, the rest on the timer. */
	memset(msg, 'x', sizeof(msg));
	send(s, msg, sizeof(msg));
	wait_for(&k, 2 * sizeof(msg) + 2);
	assert_int_equal(k.calls, 8);
	assert_memory_equal(k.out + sizeof(msg) + 2, msg, sizeof(msg));

	/* destroy flushes a run its timer has not sent yet */
	send(s, (const uint8_t *)"bye", 3);
	hv_serial_destroy(s);
	assert_int_equal(k.len, 2 * sizeof(msg) + 5);
	assert_memory_equal(k.out + k.len - 3, "bye", 3);
	hv_ioloop_destroy(loop);
}

/* Without an ioloop every byte still goes out at once (and alone). */
static void test_unbatched(void **state)
{
	struct sink k = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct hv_serial_config cfg;
	struct hv_serial *s;

	(void)state;
	hv_serial_config_init(&cfg);
	cfg.output = on_output;
	cfg.opaque = &k;
	expect_ret(hv_serial_create(&cfg, &s), 0);
	send(s, (const uint8_t *)"ab", 2);
	assert_int_equal(k.calls, 2);
	hv_serial_destroy(s);
	assert_memory_equal(k.out, "ab", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batched),
		cmocka_unit_test(test_unbatched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
