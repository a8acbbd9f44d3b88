/* SPDX-License-Identifier: MIT */
/*
 * The device core's eventfd plumbing with a recording transport: queue
 * notify fds remembered before a transport and wired when it attaches,
 * unwired when it goes; a transport that cannot; the status callback (and
 * an ops table from before it existed); unconditional queue interrupts only
 * while the driver is up.  Plus virtio-mmio on a bare bus, which has no
 * guest-physical notify address to hand KVM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/test_virtq_driver.h"
#include "util/error.h"

#define NQ 3u

struct rec {
	int calls;
	uint32_t last_queue;
	int last_fd;
	int wired[NQ];
	int fail;           /* next set_notify_fd fails with this */
	int status_calls;
	uint32_t last_status;
	int refuse_status;  /* status op returns this for DRIVER_OK */
	struct drv *d;      /* interrupts are counted there */
};

static void rec_interrupt(void *opaque, uint32_t isr)
{
	struct rec *r = opaque;

	drv_interrupt(r->d, isr);
}

static void no_irq(void *opaque, uint32_t irq, int level)
{
	(void)opaque;
	(void)irq;
	(void)level;
	fail_msg("no interrupt expected");
}

static int rec_set_notify_fd(void *opaque, uint32_t queue, int fd)
{
	struct rec *r = opaque;
	int fail = r->fail;

	r->calls++;
	r->last_queue = queue;
	r->last_fd = fd;
	r->fail = 0;
	if (fail)
		return hv_err(fail, "recorder refuses");
	r->wired[queue] = fd;
	return 0;
}

static int rec_status(void *opaque, struct hv_virtio_dev *dev, uint32_t status)
{
	struct rec *r = opaque;

	(void)dev;
	r->status_calls++;
	r->last_status = status;
	if ((status & HV_VIRTIO_STATUS_DRIVER_OK) && r->refuse_status)
		return hv_err(r->refuse_status, "backend refused");
	return 0;
}

static const struct hv_virtio_dev_ops status_ops = {
	.size = sizeof(struct hv_virtio_dev_ops), .device_id = 0x42, .status = rec_status,
};

/* The ops table as first published: status lies beyond its size. */
static const struct hv_virtio_dev_ops old_ops = {
	.size = offsetof(struct hv_virtio_dev_ops, status), .device_id = 0x42,
	.status = rec_status,
};

struct fix {
	struct drv d;
	struct rec r;
	struct hv_virtio_dev *dev;
};

static struct fix *make(const struct hv_virtio_dev_ops *ops)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_dev_config dc;

	assert_non_null(f);
	for (uint32_t q = 0; q < NQ; q++)
		f->r.wired[q] = -1;
	f->r.d = &f->d;
	drv_create_mem(&f->d);
	hv_virtio_dev_config_init(&dc);
	dc.ops = ops;
	dc.opaque = &f->r;
	dc.mem = f->d.mem;
	dc.nr_queues = NQ;
	dc.queue_max_size = 16;
	expect_ret(hv_virtio_dev_create(&dc, &f->dev), 0);
	f->d.dev = f->dev;
	return f;
}

static void attach(struct fix *f, bool can_route)
{
	struct hv_virtio_transport t = { .interrupt = rec_interrupt, .opaque = &f->r };

	if (can_route)
		t.set_notify_fd = rec_set_notify_fd;
	hv_virtio_dev_set_transport(f->dev, &t);
}

static void destroy(struct fix *f)
{
	hv_virtio_dev_destroy(f->dev);
	hv_mem_destroy(f->d.mem);
	free(f);
}

static void test_notify_fds_follow_the_transport(void **state)
{
	struct fix *f = make(&status_ops);

	(void)state;
	expect_err(hv_virtio_dev_set_queue_notify_fd(f->dev, NQ, 7), -EINVAL, "no queue 3");
	expect_err(hv_virtio_dev_set_queue_notify_fd(f->dev, 0, -2), -EINVAL, "bad notify fd");
	/* No transport yet: remembered only. */
	expect_ret(hv_virtio_dev_set_queue_notify_fd(f->dev, 1, 7), 0);
	assert_int_equal(f->r.calls, 0);
	attach(f, true);
	assert_int_equal(f->r.calls, 1);
	assert_int_equal(f->r.wired[1], 7);
	assert_int_equal(f->r.wired[0], -1);
	/* With a transport: straight through; a refusal is reported and forgotten. */
	expect_ret(hv_virtio_dev_set_queue_notify_fd(f->dev, 2, 9), 0);
	assert_int_equal(f->r.wired[2], 9);
	f->r.fail = -EIO;
	expect_err(hv_virtio_dev_set_queue_notify_fd(f->dev, 0, 5), -EIO, "recorder refuses");
	assert_int_equal(f->r.wired[0], -1);
	/* Detach: every wired fd is dropped, nothing else is touched. */
	f->r.calls = 0;
	hv_virtio_dev_set_transport(f->dev, NULL);
	assert_int_equal(f->r.calls, 2);
	assert_int_equal(f->r.wired[1], -1);
	assert_int_equal(f->r.wired[2], -1);
	/* Re-attach: wired again (a failure there is only logged). */
	f->r.fail = -EIO;
	attach(f, true);
	assert_int_equal(f->r.wired[1], -1);
	assert_int_equal(f->r.wired[2], 9);
	hv_virtio_dev_set_transport(f->dev, NULL);
	destroy(f);
}

static void test_transport_that_cannot(void **state)
{
	struct fix *f = make(&status_ops);

	(void)state;
	attach(f, false);
	expect_err(hv_virtio_dev_set_queue_notify_fd(f->dev, 0, 5), -ENOTSUP,
		   "cannot route queue notifications");
	expect_ret(hv_virtio_dev_set_queue_notify_fd(f->dev, 0, -1), 0);
	destroy(f);
}

static void test_status_callback(void **state)
{
	struct fix *f = make(&status_ops);
	uint32_t up = HV_VIRTIO_STATUS_ACKNOWLEDGE | HV_VIRTIO_STATUS_DRIVER;

	(void)state;
	attach(f, false);
	hv_virtio_dev_write_status(f->dev, up);
	assert_int_equal(f->r.status_calls, 1);
	assert_int_equal(f->r.last_status, up);
	hv_virtio_dev_write_status(f->dev, up); /* unchanged: not called again */
	assert_int_equal(f->r.status_calls, 1);
	hv_virtio_dev_write_status(f->dev, 0);  /* a reset goes to ops->reset */
	assert_int_equal(f->r.status_calls, 1);
	/* A refused DRIVER_OK: the device needs a reset and says so. */
	f->r.refuse_status = -EIO;
	hv_virtio_dev_set_driver_features(f->dev, 1, 1); /* VERSION_1 */
	hv_virtio_dev_write_status(f->dev, up | HV_VIRTIO_STATUS_FEATURES_OK);
	assert_false(drv_needs_reset(&f->d));
	hv_virtio_dev_write_status(f->dev, up | HV_VIRTIO_STATUS_FEATURES_OK |
				   HV_VIRTIO_STATUS_DRIVER_OK);
	assert_true(drv_needs_reset(&f->d));
	assert_int_equal(f->d.config_irqs, 1);
	/* No queue interrupt while the device needs a reset. */
	hv_virtio_dev_queue_interrupt(f->dev, 0);
	assert_int_equal(f->d.queue_irqs, 0);
	destroy(f);
}

static void test_queue_interrupt(void **state)
{
	struct fix *f = make(&status_ops);

	(void)state;
	attach(f, false);
	hv_virtio_dev_queue_interrupt(f->dev, 0); /* before DRIVER_OK: dropped */
	assert_int_equal(f->d.queue_irqs, 0);
	hv_virtio_dev_set_driver_features(f->dev, 1, 1);
	hv_virtio_dev_write_status(f->dev, 0xf);
	hv_virtio_dev_queue_interrupt(f->dev, 1);
	hv_virtio_dev_queue_interrupt(f->dev, NQ); /* no such queue: ignored */
	assert_int_equal(f->d.queue_irqs, 1);
	assert_int_equal(f->d.config_irqs, 0);
	hv_virtio_dev_write_status(f->dev, 0);
	hv_virtio_dev_queue_interrupt(f->dev, 1);
	assert_int_equal(f->d.queue_irqs, 1);
	hv_virtio_dev_set_transport(f->dev, NULL);
	hv_virtio_dev_queue_interrupt(f->dev, 1); /* no transport: nothing */
	destroy(f);
}

static void test_old_ops_table(void **state)
{
	struct fix *f = make(&old_ops);

	(void)state;
	attach(f, false);
	hv_virtio_dev_write_status(f->dev, 3);
	assert_int_equal(f->r.status_calls, 0);
	destroy(f);
}

/* virtio-mmio on a bus of its own: no VM, so no ioeventfd. */
static void test_mmio_without_vm(void **state)
{
	struct fix *f = make(&status_ops);
	struct hv_virtio_mmio_config mc;
	struct hv_virtio_mmio *m;
	struct hv_bus *bus;

	(void)state;
	expect_ret(hv_bus_create(HV_BUS_MMIO, &bus), 0);
	expect_ret(hv_virtio_dev_set_queue_notify_fd(f->dev, 0, 5), 0); /* remembered */
	hv_virtio_mmio_config_init(&mc);
	mc.base = 0xd0000000;
	mc.bus = bus;
	mc.set_irq = no_irq;
	expect_ret(hv_virtio_mmio_create(f->dev, &mc, &m), 0);
	expect_err(hv_virtio_dev_set_queue_notify_fd(f->dev, 1, 6), -ENOTSUP, "cannot route");
	hv_virtio_mmio_destroy(m);
	hv_bus_destroy(bus);
	destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_fds_follow_the_transport),
		cmocka_unit_test(test_transport_that_cannot),
		cmocka_unit_test(test_status_callback),
		cmocka_unit_test(test_queue_interrupt),
		cmocka_unit_test(test_old_ops_table),
		cmocka_unit_test(test_mmio_without_vm),
	};
	return cmocka_run_group_tests_name("virtio_eventfd", tests, NULL, NULL);
}
