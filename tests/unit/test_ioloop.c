/* SPDX-License-Identifier: MIT */
/*
 * The I/O thread: callbacks run for ready fds; removal from another thread
 * waits out a callback in progress and nothing runs after it; removal (and
 * registration) from inside a callback; destroy with fds still registered
 * leaks no descriptor and leaves the borrowed ones open.  Callbacks never
 * assert (they run on the loop's thread): they record, the test checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/ioloop.h"
#include "unit/unit_util.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
#define ALIVE 0x600dull

struct watch {
	int fd;
	uint64_t magic;      /* ALIVE while registered (and until remove returns) */
	int calls;
	int bad;             /* called while not ALIVE */
	int in_cb;
	int sleep_us;        /* stay in the callback this long */
	struct hv_ioloop *loop;
	struct watch *victim; /* removed from inside the callback */
	struct watch *child;  /* registered from inside the callback */
	int cb_ret;          /* result of that remove/add */
};

static void on_ready(void *opaque, int fd, uint32_t events)
{
	struct watch *w = opaque;
	eventfd_t v;

	STORE(w->in_cb, 1);
	if (LOAD(w->magic) != ALIVE || fd != w->fd || !(events & HV_IOLOOP_IN))
		__atomic_add_fetch(&w->bad, 1, __ATOMIC_SEQ_CST);
	eventfd_read(fd, &v);
	if (w->sleep_us)
		test_sleep_us(w->sleep_us);
	if (w->victim) {
		w->cb_ret = hv_ioloop_remove(w->loop, w->victim->fd);
		STORE(w->victim->magic, 0);
		w->victim = NULL;
	}
	if (w->child) {
		STORE(w->child->magic, ALIVE);
		w->cb_ret = hv_ioloop_add(w->loop, w->child->fd, HV_IOLOOP_IN, on_ready, w->child);
		w->child = NULL;
	}
	__atomic_add_fetch(&w->calls, 1, __ATOMIC_SEQ_CST);
	STORE(w->in_cb, 0);
}

static void watch_init(struct watch *w, struct hv_ioloop *loop)
{
	memset(w, 0, sizeof(*w));
	w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(w->fd >= 0);
	w->loop = loop;
}

static void watch_add(struct watch *w)
{
	STORE(w->magic, ALIVE);
	assert_int_equal(hv_ioloop_add(w->loop, w->fd, HV_IOLOOP_IN, on_ready, w), 0);
}

static void watch_remove(struct watch *w)
{
	assert_int_equal(hv_ioloop_remove(w->loop, w->fd), 0);
	STORE(w->magic, 0);
}

static void test_calls_and_errors(void **state)
{
	struct hv_ioloop *loop;
	struct watch w;
	int file;

	(void)state;
	assert_int_equal(hv_ioloop_create(&loop), 0);
	watch_init(&w, loop);
	watch_add(&w);
	assert_int_equal(eventfd_write(w.fd, 1), 0);
	assert_true(wait_at_least(&w.calls, 1));
	test_sleep_us(20000);
	assert_int_equal(LOAD(w.calls), 1); /* read in the callback: not ready any more */
	assert_int_equal(hv_ioloop_add(loop, w.fd, HV_IOLOOP_IN, on_ready, &w), -EEXIST);
	assert_int_equal(hv_ioloop_add(loop, -1, HV_IOLOOP_IN, on_ready, &w), -EINVAL);
	assert_int_equal(hv_ioloop_add(loop, w.fd, 0, on_ready, &w), -EINVAL);
	assert_int_equal(hv_ioloop_add(loop, w.fd, 0x80, on_ready, &w), -EINVAL);
	assert_int_equal(hv_ioloop_add(loop, w.fd, HV_IOLOOP_IN, NULL, &w), -EINVAL);
	file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	assert_true(file >= 0);
	assert_int_equal(hv_ioloop_add(loop, file, HV_IOLOOP_IN, on_ready, &w), -EPERM);
	close(file);
	watch_remove(&w);
	assert_int_equal(hv_ioloop_remove(loop, w.fd), -ENOENT);
	assert_int_equal(eventfd_write(w.fd, 1), 0);
	test_sleep_us(20000);
	assert_int_equal(LOAD(w.calls), 1);
	assert_int_equal(w.bad, 0);
	hv_ioloop_destroy(loop);
	hv_ioloop_destroy(NULL);
	close(w.fd);
}

/* remove() from another thread waits for the callback in progress. */
static void test_remove_waits_for_callback(void **state)
{
	struct hv_ioloop *loop;
	struct watch w;

	(void)state;
	assert_int_equal(hv_ioloop_create(&loop), 0);
	watch_init(&w, loop);
	w.sleep_us = 100000;
	watch_add(&w);
	assert_int_equal(eventfd_write(w.fd, 1), 0);
	assert_true(wait_at_least(&w.in_cb, 1));
	watch_remove(&w);
	assert_int_equal(LOAD(w.in_cb), 0);
	assert_int_equal(LOAD(w.calls), 1);
	assert_int_equal(eventfd_write(w.fd, 1), 0);
	test_sleep_us(20000);
	assert_int_equal(LOAD(w.calls), 1);
	assert_int_equal(w.bad, 0);
	hv_ioloop_destroy(loop);
	close(w.fd);
}

/* Inside a callback: remove another fd that is ready too (its pending event
 * must be dropped), then register a new one that works. */
static void test_remove_and_add_inside_callback(void **state)
{
	struct hv_ioloop *loop;
	struct watch a, b, c;

	(void)state;
	assert_int_equal(hv_ioloop_create(&loop), 0);
	watch_init(&a, loop);
	watch_init(&b, loop);
	watch_init(&c, loop);
	a.victim = &b;
	a.sleep_us = 20000; /* b's event is collected with a's, or while a runs */
	watch_add(&b);
	watch_add(&a);
	assert_int_equal(eventfd_write(b.fd, 1), 0);
	assert_int_equal(eventfd_write(a.fd, 1), 0);
	assert_true(wait_at_least(&a.calls, 1));
	assert_int_equal(a.cb_ret, 0);
	/* b may have run before a removed it, but never after. */
	assert_int_equal(b.bad, 0);
	/* a removes itself and adds c. */
	a.victim = &a;
	a.child = &c;
	assert_int_equal(eventfd_write(a.fd, 1), 0);
	assert_true(wait_at_least(&a.calls, 2));
	assert_int_equal(a.cb_ret, 0);
	assert_int_equal(hv_ioloop_remove(loop, a.fd), -ENOENT);
	assert_int_equal(eventfd_write(c.fd, 1), 0);
	assert_true(wait_at_least(&c.calls, 1));
	assert_int_equal(eventfd_write(a.fd, 1), 0);
	test_sleep_us(20000);
	assert_int_equal(LOAD(a.calls), 2);
	assert_int_equal(a.bad + b.bad + c.bad, 0);
	watch_remove(&c);
	hv_ioloop_destroy(loop);
	close(a.fd);
	close(b.fd);
	close(c.fd);
}

#define RACE_WATCHES 8
#define RACE_ROUNDS 400

struct racer {
	struct hv_ioloop *loop;
	struct watch *w;
	int stop;
};

static void *signaller(void *arg)
{
	struct racer *r = arg;

	while (!LOAD(r->stop))
		for (int i = 0; i < RACE_WATCHES; i++)
			eventfd_write(r->w[i].fd, 1);
	return NULL;
}

/* Many add/remove cycles from two threads while every fd keeps firing:
 * no callback ever sees its watch after its removal returned. */
static void *churn(void *arg)
{
	struct racer *r = arg;

	for (int round = 0; round < RACE_ROUNDS; round++)
		for (int i = 0; i < RACE_WATCHES / 2; i++) {
			struct watch *w = &r->w[i];

			STORE(w->magic, ALIVE);
			if (hv_ioloop_add(r->loop, w->fd, HV_IOLOOP_IN, on_ready, w) ||
			    hv_ioloop_remove(r->loop, w->fd))
				__atomic_add_fetch(&w->bad, 1000, __ATOMIC_SEQ_CST);
			STORE(w->magic, 0);
		}
	return NULL;
}

static void test_add_remove_races(void **state)
{
	struct watch w[RACE_WATCHES];
	struct racer sig, c1, c2;
	pthread_t ts, t1, t2;
	struct hv_ioloop *loop;
	int bad = 0, calls = 0;

	(void)state;
	assert_int_equal(hv_ioloop_create(&loop), 0);
	for (int i = 0; i < RACE_WATCHES; i++)
		watch_init(&w[i], loop);
	sig = (struct racer){ .loop = loop, .w = w };
	c1 = (struct racer){ .loop = loop, .w = w };
	c2 = (struct racer){ .loop = loop, .w = w + RACE_WATCHES / 2 };
	assert_int_equal(pthread_create(&ts, NULL, signaller, &sig), 0);
	assert_int_equal(pthread_create(&t1, NULL, churn, &c1), 0);
	assert_int_equal(pthread_create(&t2, NULL, churn, &c2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	STORE(sig.stop, 1);
	pthread_join(ts, NULL);
	for (int i = 0; i < RACE_WATCHES; i++) {
		bad += w[i].bad;
		calls += w[i].calls;
		close(w[i].fd);
	}
	assert_int_equal(bad, 0);
	printf("race: %d callbacks over %d add/remove cycles\n", calls,
	       RACE_ROUNDS * RACE_WATCHES);
	hv_ioloop_destroy(loop);
}

/* Destroy with registrations left, one of them busy: the thread is joined,
 * the loop's own descriptors closed, the borrowed ones left open; what is
 * left of the loop goes with the last registration's removal. */
static void test_destroy_with_fds(void **state)
{
	int before = count_open_fds();
	struct hv_ioloop *loop;
	struct watch a, b;

	(void)state;
	assert_int_equal(hv_ioloop_create(&loop), 0);
	watch_init(&a, loop);
	watch_init(&b, loop);
	a.sleep_us = 50000;
	watch_add(&a);
	watch_add(&b);
	assert_int_equal(eventfd_write(a.fd, 1), 0);
	assert_true(wait_at_least(&a.in_cb, 1));
	hv_ioloop_destroy(loop);
	assert_int_equal(LOAD(a.in_cb), 0);
	assert_true(fcntl(a.fd, F_GETFD) >= 0 && fcntl(b.fd, F_GETFD) >= 0);
	assert_int_equal(count_open_fds(), before + 2); /* only the borrowed ones */
	assert_int_equal(hv_ioloop_remove(loop, a.fd), 0);
	assert_int_equal(hv_ioloop_remove(loop, b.fd), 0); /* frees the loop */
	close(a.fd);
	close(b.fd);
	assert_int_equal(count_open_fds(), before);
	assert_int_equal(a.bad + b.bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_and_errors),
		cmocka_unit_test(test_remove_waits_for_callback),
		cmocka_unit_test(test_remove_and_add_inside_callback),
		cmocka_unit_test(test_add_remove_races),
		cmocka_unit_test(test_destroy_with_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
