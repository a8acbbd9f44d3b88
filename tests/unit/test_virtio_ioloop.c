/* SPDX-License-Identifier: MIT */
/*
 * A device served by an ioloop (hv_virtio_dev_config.ioloop): each queue's
 * eventfd is wired to a transport that can route notifications, and
 * ops->notify runs on the loop's thread when it fires (no register exit);
 * a transport that cannot route still gets it there; a device's own notify
 * fd (vhost) takes precedence and -1 hands the queue back; detach unwires,
 * waits for a notify in progress, and nothing is served after; destroy
 * leaks no descriptor.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>

#include <cmocka.h>

#include "hvlib/ioloop.h"
#include "unit/test_virtq_driver.h"

#define NQ 2u
#define QSIZE 16u
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

struct fix {
	struct drv d;
	struct hv_ioloop *loop;
	pthread_t main;
	int wired[NQ];       /* what the transport was told */
	int served;          /* requests pushed back by notify */
	int notifies;        /* notify calls */
	int off_thread;      /* notify calls that ran on the test's thread */
	int in_notify;
	int sleep_ms;        /* stay in notify this long */
};

static void on_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct fix *f = opaque;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq *q = hv_virtio_dev_queue(dev, queue);
	struct hv_virtq_req req;

	STORE(f->in_notify, 1);
	if (pthread_equal(pthread_self(), f->main))
		__atomic_add_fetch(&f->off_thread, 1, __ATOMIC_SEQ_CST);
	if (f->sleep_ms)
		test_sleep_us(f->sleep_ms * 1000L);
	while (hv_virtq_pop(q, bufs, QSIZE, &req) == 1) {
		hv_virtq_push(q, &req, 0);
		__atomic_add_fetch(&f->served, 1, __ATOMIC_SEQ_CST);
	}
	hv_virtq_notify(q);
	STORE(f->in_notify, 0);
	__atomic_add_fetch(&f->notifies, 1, __ATOMIC_SEQ_CST);
}

static const struct hv_virtio_dev_ops ops = {
	.size = sizeof(struct hv_virtio_dev_ops), .device_id = 0x42, .notify = on_notify,
};

static void fix_interrupt(void *opaque, uint32_t isr)
{
	drv_interrupt(&((struct fix *)opaque)->d, isr);
}

static int fix_set_notify_fd(void *opaque, uint32_t queue, int fd)
{
	struct fix *f = opaque;

	f->wired[queue] = fd;
	return 0;
}

static void attach(struct fix *f, bool can_route)
{
	struct hv_virtio_transport t = { .interrupt = fix_interrupt, .opaque = f };

	if (can_route)
		t.set_notify_fd = fix_set_notify_fd;
	hv_virtio_dev_set_transport(f->d.dev, &t);
	f->d.q = hv_virtio_dev_queue(f->d.dev, 0);
	f->d.size = QSIZE;
}

static struct fix *make(bool can_route)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_dev_config dc;

	assert_non_null(f);
	f->main = pthread_self();
	for (uint32_t q = 0; q < NQ; q++)
		f->wired[q] = -1;
	expect_ret(hv_ioloop_create(&f->loop), 0);
	drv_create_mem(&f->d);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &ops;
	dc.opaque = f;
	dc.mem = f->d.mem;
	dc.nr_queues = NQ;
	dc.queue_max_size = QSIZE;
	dc.ioloop = f->loop;
	expect_ret(hv_virtio_dev_create(&dc, &f->d.dev), 0);
	attach(f, can_route);
	drv_start(&f->d, 0);
	return f;
}

static void destroy(struct fix *f)
{
	hv_virtio_dev_set_transport(f->d.dev, NULL);
	drv_destroy(&f->d);
	hv_ioloop_destroy(f->loop);
	free(f);
}

/* The guest posts one request (the caller notifies). */
static void post(struct fix *f, uint16_t head)
{
	drv_desc(&f->d, head, DATA_GPA, 4, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, head);
}

static void test_ioeventfd_path(void **state)
{
	struct fix *f = make(true);
	struct hv_virtio_dev *dev = f->d.dev;

	(void)state;
	for (uint32_t q = 0; q < NQ; q++)
		assert_int_equal(f->wired[q], dev->queues[q].loop_fd);
	/* What KVM does on the guest's QueueNotify write. */
	post(f, 0);
	assert_int_equal(eventfd_write(f->wired[0], 1), 0);
	assert_true(wait_at_least(&f->served, 1));
	post(f, 1);
	assert_int_equal(eventfd_write(f->wired[0], 1), 0);
	assert_true(wait_at_least(&f->served, 2));
	assert_true(wait_at_least(&f->notifies, 2)); /* the interrupt comes after the push */
	assert_int_equal(LOAD(f->off_thread), 0);
	assert_int_equal(LOAD(dev->exit_notifies), 0);
	assert_true(LOAD(dev->loop_notifies) >= 2);
	assert_int_equal(drv_used_idx(&f->d), 2);
	assert_true(f->d.queue_irqs >= 1);
	/* A device's own fd (vhost) wins; -1 hands the queue back to the loop. */
	expect_ret(hv_virtio_dev_set_queue_notify_fd(dev, 1, 99), 0);
	assert_int_equal(f->wired[1], 99);
	expect_ret(hv_virtio_dev_set_queue_notify_fd(dev, 1, -1), 0);
	assert_int_equal(f->wired[1], dev->queues[1].loop_fd);
	destroy(f);
}

/* A transport that cannot route: the register write still lands on the
 * loop's thread. */
static void test_register_path_goes_to_loop(void **state)
{
	struct fix *f = make(false);

	(void)state;
	assert_int_equal(f->wired[0], -1);
	post(f, 0);
	hv_virtio_dev_notify(f->d.dev, 0);
	assert_true(wait_at_least(&f->served, 1));
	assert_int_equal(LOAD(f->off_thread), 0);
	assert_int_equal(LOAD(f->d.dev->exit_notifies), 1);
	hv_virtio_dev_notify(f->d.dev, 7); /* no such queue: ignored */
	assert_int_equal(LOAD(f->d.dev->exit_notifies), 1);
	destroy(f);
}

/* Detach while a notify is in progress: it waits, the fds are unwired,
 * and a late signal serves nothing. */
static void test_detach_waits_and_stops(void **state)
{
	struct fix *f = make(true);
	int fd = f->d.dev->queues[0].loop_fd;

	(void)state;
	f->sleep_ms = 100;
	post(f, 0);
	assert_int_equal(eventfd_write(fd, 1), 0);
	assert_true(wait_at_least(&f->in_notify, 1));
	hv_virtio_dev_set_transport(f->d.dev, NULL);
	assert_int_equal(LOAD(f->in_notify), 0);
	assert_int_equal(LOAD(f->notifies), 1);
	assert_int_equal(f->wired[0], -1);
	assert_int_equal(f->wired[1], -1);
	post(f, 1);
	assert_int_equal(eventfd_write(fd, 1), 0);
	test_sleep_us(30 * 1000);
	assert_int_equal(LOAD(f->notifies), 1);
	/* Reattached: served again, and the pending signal is not lost. */
	f->sleep_ms = 0;
	attach(f, true);
	assert_true(wait_at_least(&f->served, 2));
	destroy(f);
}

/* Resets while the loop keeps serving: nothing served from a stopped
 * queue, nothing crashes, and the device works after. */
static void test_reset_while_served(void **state)
{
	struct fix *f = make(true);
	int fd = f->d.dev->queues[0].loop_fd;

	(void)state;
	for (int i = 0; i < 200; i++) {
		post(f, (uint16_t)(i % QSIZE));
		assert_int_equal(eventfd_write(fd, 1), 0);
		if (i % 10 == 9) {
			hv_virtio_dev_write_status(f->d.dev, 0);
			drv_start(&f->d, 0);
		}
	}
	post(f, 0);
	assert_int_equal(eventfd_write(fd, 1), 0);
	assert_true(wait_at_least(&f->served, 1));
	test_sleep_us(20 * 1000);
	assert_int_equal(LOAD(f->off_thread), 0);
	destroy(f);
}

static void test_no_fd_leaks(void **state)
{
	int before = count_open_fds();

	(void)state;
	destroy(make(true));
	destroy(make(false));
	assert_int_equal(count_open_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioeventfd_path),
		cmocka_unit_test(test_register_path_goes_to_loop),
		cmocka_unit_test(test_detach_waits_and_stops),
		cmocka_unit_test(test_reset_while_served),
		cmocka_unit_test(test_no_fd_leaks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
