/* SPDX-License-Identifier: MIT */
/*
 * Notification suppression both ways (VIRTIO_F_EVENT_IDX, NO_INTERRUPT),
 * queue set-up the guest gets wrong (misaligned or missing rings, sizes),
 * and feature negotiation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/test_virtq_driver.h"

#define QSIZE 16u

static struct drv *new_drv(uint64_t features)
{
	struct drv *d = calloc(1, sizeof(*d));

	drv_create(d, NULL, NULL, QSIZE);
	drv_start(d, features);
	return d;
}

static void free_drv(struct drv *d)
{
	drv_destroy(d);
	free(d);
}

static void serve_one(struct drv *d)
{
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	drv_desc(d, 0, DATA_GPA, 4, VRING_DESC_F_WRITE, 0);
	drv_kick(d, 0);
	expect_ret(hv_virtq_pop(d->q, bufs, QSIZE, &req), 1);
	hv_virtq_push(d->q, &req, 4);
	hv_virtq_notify(d->q);
}

static void test_event_idx_used_event(void **state)
{
	struct drv *d = new_drv(HV_VIRTIO_F_EVENT_IDX);
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	(void)state;
	serve_one(d); /* the first one always interrupts */
	assert_int_equal(d->queue_irqs, 1);
	/* The driver wants to hear only once used->idx passes 3. */
	drv_set_used_event(d, 3);
	serve_one(d); /* used 2 */
	serve_one(d); /* used 3 */
	assert_int_equal(d->queue_irqs, 1);
	serve_one(d); /* used 4: crosses used_event 3 */
	assert_int_equal(d->queue_irqs, 2);
	serve_one(d);
	assert_int_equal(d->queue_irqs, 2);
	/* Finding the ring empty publishes avail_event = where we stand. */
	expect_ret(hv_virtq_pop(d->q, bufs, QSIZE, &req), 0);
	assert_int_equal(drv_avail_event(d), 5);
	free_drv(d);
}

static void test_event_idx_wraps(void **state)
{
	struct drv *d = new_drv(HV_VIRTIO_F_EVENT_IDX);

	(void)state;
	/* used_event just behind the used index each time: every push interrupts,
	 * across the 16-bit wrap. */
	for (uint32_t i = 0; i < 66000; i++) {
		drv_set_used_event(d, (uint16_t)i);
		serve_one(d);
	}
	assert_int_equal(d->queue_irqs, 66000);
	free_drv(d);
}

static void test_no_interrupt_flag(void **state)
{
	struct drv *d = new_drv(0);

	(void)state;
	*drv_avail_field(d, 0) = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	serve_one(d);
	serve_one(d);
	assert_int_equal(d->queue_irqs, 0);
	*drv_avail_field(d, 0) = 0;
	serve_one(d);
	assert_int_equal(d->queue_irqs, 1);
	free_drv(d);
}

/* Enable queue 0 with these rings; the device must refuse without crashing. */
static void expect_bad_setup(uint32_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct drv *d = calloc(1, sizeof(*d));
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	drv_create(d, NULL, NULL, QSIZE);
	hv_virtio_dev_write_status(d->dev, 3);
	hv_virtio_dev_set_driver_features(d->dev, 1, 1); /* VERSION_1 */
	hv_virtio_dev_write_status(d->dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	hv_virtio_dev_queue_set_size(d->dev, 0, size);
	hv_virtio_dev_queue_set_addr(d->dev, 0, HV_VIRTQ_ADDR_DESC, desc);
	hv_virtio_dev_queue_set_addr(d->dev, 0, HV_VIRTQ_ADDR_AVAIL, avail);
	hv_virtio_dev_queue_set_addr(d->dev, 0, HV_VIRTQ_ADDR_USED, used);
	hv_virtio_dev_queue_set_ready(d->dev, 0, true);
	assert_true(drv_needs_reset(d));
	assert_int_equal(d->config_irqs, 1);
	expect_ret(hv_virtq_pop(d->q, bufs, QSIZE, &req), -EIO);
	free_drv(d);
}

static void test_bad_queue_setup(void **state)
{
	(void)state;
	expect_bad_setup(0, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_bad_setup(QSIZE + 1, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_bad_setup(QSIZE - 4, DESC_GPA, AVAIL_GPA, USED_GPA);    /* not a power of two */
	expect_bad_setup(3, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_bad_setup(QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA);     /* misaligned */
	expect_bad_setup(QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA);
	expect_bad_setup(QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2);
	expect_bad_setup(QSIZE, 0x40000000ull, AVAIL_GPA, USED_GPA);   /* not RAM */
	expect_bad_setup(QSIZE, DESC_GPA, RAM_BYTES - 4, USED_GPA);    /* straddles the end */
	expect_bad_setup(QSIZE, DESC_GPA, AVAIL_GPA, ROM_GPA);         /* used ring in ROM */
	expect_bad_setup(QSIZE, DESC_GPA, AVAIL_GPA, 0xfffffffffffffffcull);
}

static void test_setup_locked_while_ready(void **state)
{
	struct drv *d = new_drv(0);

	(void)state;
	/* Changing an enabled queue's rings is ignored. */
	hv_virtio_dev_queue_set_addr(d->dev, 0, HV_VIRTQ_ADDR_DESC, 0x40000000ull);
	hv_virtio_dev_queue_set_size(d->dev, 0, 3);
	serve_one(d);
	assert_false(drv_needs_reset(d));
	/* Queues that do not exist are ignored too. */
	hv_virtio_dev_queue_set_ready(d->dev, 7, true);
	hv_virtio_dev_queue_set_addr(d->dev, 0xffffffffu, HV_VIRTQ_ADDR_USED, 1);
	hv_virtio_dev_notify(d->dev, 12345);
	assert_false(drv_needs_reset(d));
	free_drv(d);
}

static void test_features(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));

	(void)state;
	drv_create(d, NULL, NULL, QSIZE);
	assert_int_equal(hv_virtio_dev_features_word(d->dev, 1), 1); /* VERSION_1 */
	assert_true(hv_virtio_dev_features_word(d->dev, 0) & (3u << 28));
	assert_int_equal(hv_virtio_dev_features_word(d->dev, 2), 0);
	/* Without VERSION_1 (a legacy driver): FEATURES_OK does not stick. */
	hv_virtio_dev_write_status(d->dev, 3);
	hv_virtio_dev_set_driver_features(d->dev, 0, 1u << 29);
	hv_virtio_dev_write_status(d->dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	assert_false(hv_virtio_dev_status(d->dev) & HV_VIRTIO_STATUS_FEATURES_OK);
	/* A feature we never offered: refused too. */
	hv_virtio_dev_set_driver_features(d->dev, 1, 1 | (1u << 10));
	hv_virtio_dev_write_status(d->dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	assert_false(hv_virtio_dev_status(d->dev) & HV_VIRTIO_STATUS_FEATURES_OK);
	hv_virtio_dev_set_driver_features(d->dev, 1, 1);
	hv_virtio_dev_write_status(d->dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	assert_true(hv_virtio_dev_status(d->dev) & HV_VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(hv_virtio_dev_features(d->dev), HV_VIRTIO_F_VERSION_1 | (1u << 29));
	/* Frozen after FEATURES_OK. */
	hv_virtio_dev_set_driver_features(d->dev, 0, 0);
	assert_int_equal(hv_virtio_dev_features(d->dev), HV_VIRTIO_F_VERSION_1 | (1u << 29));
	free_drv(d);
}

static void test_bad_device_configs(void **state)
{
	static const struct hv_virtio_dev_ops ops = {
		.size = sizeof(struct hv_virtio_dev_ops), .device_id = 1,
	};
	static const struct hv_virtio_dev_ops big_features = {
		.size = sizeof(struct hv_virtio_dev_ops), .device_id = 1, .features = 1ull << 30,
	};
	struct hv_virtio_dev_config dc;
	struct hv_virtio_dev *dev = NULL;
	struct hv_mem *mem;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	hv_virtio_dev_config_init(&dc);
	expect_err(hv_virtio_dev_create(&dc, &dev), -EINVAL, "ops");
	dc.ops = &ops;
	expect_err(hv_virtio_dev_create(&dc, &dev), -EINVAL, "neither");
	dc.mem = mem;
	dc.nr_queues = 0;
	expect_err(hv_virtio_dev_create(&dc, &dev), -EINVAL, "queues");
	dc.nr_queues = 1;
	dc.queue_max_size = HV_VIRTQ_MAX_SIZE + 1;
	expect_err(hv_virtio_dev_create(&dc, &dev), -EINVAL, "queue size");
	dc.queue_max_size = 96; /* not a power of two */
	expect_err(hv_virtio_dev_create(&dc, &dev), -EINVAL, "power of two");
	dc.queue_max_size = 0;
	dc.ops = &big_features;
	expect_err(hv_virtio_dev_create(&dc, &dev), -EINVAL, "features");
	dc.ops = &ops;
	dc.flags = 1;
	expect_err(hv_virtio_dev_create(&dc, &dev), -EINVAL, "flags");
	dc.flags = 0;
	expect_ret(hv_virtio_dev_create(&dc, &dev), 0);
	assert_int_equal(hv_virtq_max_bufs(hv_virtio_dev_queue(dev, 0)), 256);
	assert_null(hv_virtio_dev_queue(dev, 1));
	hv_virtio_dev_destroy(dev);
	hv_virtio_dev_destroy(NULL);
	hv_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_idx_used_event),
		cmocka_unit_test(test_event_idx_wraps),
		cmocka_unit_test(test_no_interrupt_flag),
		cmocka_unit_test(test_bad_queue_setup),
		cmocka_unit_test(test_setup_locked_while_ready),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_bad_device_configs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
