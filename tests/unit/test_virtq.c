/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues against a hostile driver: well-formed chains first, then
 * every way a guest can lie in a ring (addresses outside memory, loops,
 * lengths that wrap, indices that jump or wrap, chains longer than the
 * queue, bad indirect tables, writes into ROM).  A lie must mark the device
 * DEVICE_NEEDS_RESET with a configuration interrupt and nothing worse; a
 * reset must bring the queue back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/test_virtq_driver.h"

#define QSIZE 8u
#define W VRING_DESC_F_WRITE
#define N VRING_DESC_F_NEXT
#define I VRING_DESC_F_INDIRECT

static int setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));

	drv_create(d, NULL, NULL, QSIZE);
	drv_start(d, HV_VIRTIO_F_INDIRECT_DESC);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	drv_destroy(*state);
	free(*state);
	return 0;
}

static int pop(struct drv *d, struct hv_virtq_buf *bufs, struct hv_virtq_req *req)
{
	return hv_virtq_pop(d->q, bufs, QSIZE, req);
}

/* The chain at head must be refused, and the device must say so. */
static void expect_broken(struct drv *d, uint16_t head)
{
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;
	int irqs = d->config_irqs;

	drv_kick(d, head);
	expect_ret(pop(d, bufs, &req), -EIO);
	assert_true(drv_needs_reset(d));
	assert_int_equal(d->config_irqs, irqs + 1);
	/* And it stays broken, quietly, until the driver resets it. */
	expect_ret(pop(d, bufs, &req), -EIO);
	assert_int_equal(d->config_irqs, irqs + 1);
}

static void test_simple_chain(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;
	uint32_t id, len;

	memcpy(d->ram + DATA_GPA, "hello", 5);
	drv_desc(d, 3, DATA_GPA, 5, N, 5);
	drv_desc(d, 5, DATA_GPA + 0x100, 16, W, 0);
	expect_ret(pop(d, bufs, &req), 0); /* nothing yet */
	drv_kick(d, 3);
	expect_ret(pop(d, bufs, &req), 1);
	assert_int_equal(req.head, 3);
	assert_int_equal(req.nr_bufs, 2);
	assert_int_equal(req.nr_readable, 1);
	assert_int_equal(req.readable_bytes, 5);
	assert_int_equal(req.writable_bytes, 16);
	assert_memory_equal(bufs[0].addr, "hello", 5);
	assert_ptr_equal(bufs[1].addr, d->ram + DATA_GPA + 0x100);
	expect_ret(pop(d, bufs, &req), 0);
	assert_int_equal(hv_virtq_req_write(&req, 0, "world!", 6), 6);
	hv_virtq_push(d->q, &req, 6);
	assert_int_equal(drv_used_idx(d), 1);
	drv_used_elem(d, 0, &id, &len);
	assert_int_equal(id, 3);
	assert_int_equal(len, 6);
	assert_memory_equal(d->ram + DATA_GPA + 0x100, "world!", 6);
	hv_virtq_notify(d->q);
	assert_int_equal(d->queue_irqs, 1);
	hv_virtq_notify(d->q); /* nothing new used: no interrupt */
	assert_int_equal(d->queue_irqs, 1);
	assert_false(drv_needs_reset(d));
}

static void test_push_clamps_length(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;
	uint32_t id, len;

	drv_desc(d, 0, DATA_GPA, 8, W, 0);
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &req), 1);
	hv_virtq_push(d->q, &req, 1000);
	drv_used_elem(d, 0, &id, &len);
	assert_int_equal(len, 8);
}

static void test_indirect(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;
	uint64_t table = DATA_GPA + 0x1000;

	drv_idesc(d, table, 0, DATA_GPA, 16, N, 2);
	drv_idesc(d, table, 2, DATA_GPA + 0x200, 4096, N | W, 1);
	drv_idesc(d, table, 1, DATA_GPA + 0x2000, 1, W, 0);
	drv_desc(d, 0, table, 3 * 16, I, 0);
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &req), 1);
	assert_int_equal(req.nr_bufs, 3);
	assert_int_equal(req.readable_bytes, 16);
	assert_int_equal(req.writable_bytes, 4097);
	assert_ptr_equal(bufs[2].addr, d->ram + DATA_GPA + 0x2000);
}

static void test_address_outside_memory(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, 0x80000000ull, 16, 0, 0);
	expect_broken(d, 0);
}

static void test_buffer_straddles_end_of_ram(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, RAM_BYTES - 8, 16, W, 0);
	expect_broken(d, 0);
}

static void test_length_wraps(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, 0xfffffffffffff000ull, 0xffffffffu, 0, 0);
	expect_broken(d, 0);
}

static void test_write_into_rom(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	/* Reading ROM is fine; writing it is not. */
	drv_desc(d, 0, ROM_GPA, 16, 0, 0);
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &req), 1);
	drv_desc(d, 1, ROM_GPA, 16, W, 0);
	expect_broken(d, 1);
}

static void test_loop(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, DATA_GPA, 1, N, 1);
	drv_desc(d, 1, DATA_GPA, 1, N, 2);
	drv_desc(d, 2, DATA_GPA, 1, N, 0);
	expect_broken(d, 0);
}

static void test_self_loop(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 4, DATA_GPA, 1, N | W, 4);
	expect_broken(d, 4);
}

static void test_next_out_of_range(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, DATA_GPA, 1, N, QSIZE);
	expect_broken(d, 0);
}

static void test_head_out_of_range(void **state)
{
	expect_broken(*state, 0xffff);
}

static void test_readable_after_writable(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, DATA_GPA, 1, W | N, 1);
	drv_desc(d, 1, DATA_GPA, 1, 0, 0);
	expect_broken(d, 0);
}

static void test_chain_longer_than_bufs(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[2];
	struct hv_virtq_req req;

	drv_desc(d, 0, DATA_GPA, 1, N, 1);
	drv_desc(d, 1, DATA_GPA, 1, N, 2);
	drv_desc(d, 2, DATA_GPA, 1, 0, 0);
	drv_kick(d, 0);
	expect_ret(hv_virtq_pop(d->q, bufs, 2, &req), -EIO);
	assert_true(drv_needs_reset(d));
}

static void test_full_length_chain_is_fine(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	for (uint16_t i = 0; i < QSIZE; i++)
		drv_desc(d, i, DATA_GPA + i, 1, i + 1u < QSIZE ? N : 0, (uint16_t)(i + 1));
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &req), 1);
	assert_int_equal(req.nr_bufs, QSIZE);
}

static void test_avail_index_jumps(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	drv_desc(d, 0, DATA_GPA, 1, 0, 0);
	drv_set_avail_idx(d, QSIZE + 1);
	expect_ret(pop(d, bufs, &req), -EIO);
	assert_true(drv_needs_reset(d));
}

static void test_avail_index_backwards(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	drv_desc(d, 0, DATA_GPA, 1, 0, 0);
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &req), 1);
	drv_set_avail_idx(d, 0); /* 0 - 1 = 65535 chains "pending" */
	expect_ret(pop(d, bufs, &req), -EIO);
}

/* 70000 requests: both indices wrap past 65535 and the ring keeps working. */
static void test_indices_wrap(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;
	uint32_t id, len;

	drv_desc(d, 1, DATA_GPA, 4, W, 0);
	drv_desc(d, 2, DATA_GPA, 4, W, 0);
	for (uint32_t i = 0; i < 70000; i++) {
		uint16_t head = (uint16_t)(1 + (i & 1));

		drv_kick(d, head);
		expect_ret(pop(d, bufs, &req), 1);
		assert_int_equal(req.head, head);
		hv_virtq_push(d->q, &req, i & 3);
		assert_int_equal(drv_used_idx(d), (uint16_t)(i + 1));
		drv_used_elem(d, (uint16_t)i, &id, &len);
		assert_int_equal(id, head);
		assert_int_equal(len, i & 3);
	}
	assert_false(drv_needs_reset(d));
}

static void test_indirect_not_negotiated(void **state)
{
	struct drv *d = *state;

	hv_virtio_dev_write_status(d->dev, 0);
	drv_start(d, 0);
	drv_idesc(d, DATA_GPA, 0, DATA_GPA, 1, 0, 0);
	drv_desc(d, 0, DATA_GPA, 16, I, 0);
	expect_broken(d, 0);
}

static void test_indirect_bad_length(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, DATA_GPA, 24, I, 0);
	expect_broken(d, 0);
}

static void test_indirect_zero_length(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, DATA_GPA, 0, I, 0);
	expect_broken(d, 0);
}

static void test_indirect_too_big(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, DATA_GPA, 16 * (QSIZE + 1), I, 0);
	expect_broken(d, 0);
}

static void test_indirect_outside_memory(void **state)
{
	struct drv *d = *state;

	drv_desc(d, 0, RAM_BYTES - 16, 32, I, 0);
	expect_broken(d, 0);
}

static void test_indirect_nested(void **state)
{
	struct drv *d = *state;

	drv_idesc(d, DATA_GPA, 0, DATA_GPA + 0x100, 16, I, 0);
	drv_desc(d, 0, DATA_GPA, 16, I, 0);
	expect_broken(d, 0);
}

static void test_indirect_with_next(void **state)
{
	struct drv *d = *state;

	drv_idesc(d, DATA_GPA, 0, DATA_GPA + 0x100, 1, 0, 0);
	drv_desc(d, 0, DATA_GPA, 16, I | N, 1);
	drv_desc(d, 1, DATA_GPA, 1, 0, 0);
	expect_broken(d, 0);
}

static void test_indirect_loop(void **state)
{
	struct drv *d = *state;

	drv_idesc(d, DATA_GPA, 0, DATA_GPA + 0x100, 1, N, 1);
	drv_idesc(d, DATA_GPA, 1, DATA_GPA + 0x100, 1, N, 0);
	drv_desc(d, 0, DATA_GPA, 32, I, 0);
	expect_broken(d, 0);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct drv *d = *state;

	drv_idesc(d, DATA_GPA, 0, DATA_GPA + 0x100, 1, N, 2);
	drv_desc(d, 0, DATA_GPA, 32, I, 0);
	expect_broken(d, 0);
}

/* After a broken chain, a reset and a fresh start serve again. */
static void test_reset_recovers(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req, stale;

	drv_desc(d, 0, DATA_GPA, 1, W, 0);
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &stale), 1);
	drv_desc(d, 1, 0x90000000ull, 1, 0, 0);
	expect_broken(d, 1);
	hv_virtio_dev_write_status(d->dev, 0);
	assert_int_equal(hv_virtio_dev_status(d->dev), 0);
	expect_ret(pop(d, bufs, &req), 0); /* stopped */
	drv_start(d, 0);
	assert_false(drv_needs_reset(d));
	hv_virtq_push(d->q, &stale, 1); /* from before the reset: dropped */
	assert_int_equal(drv_used_idx(d), 0);
	drv_desc(d, 0, DATA_GPA, 1, W, 0);
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &req), 1);
	hv_virtq_push(d->q, &req, 1);
	assert_int_equal(drv_used_idx(d), 1);
}

static void test_zero_length_buffers_skipped(void **state)
{
	struct drv *d = *state;
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	/* A zero-length buffer at a bogus address moves no data: harmless. */
	drv_desc(d, 0, 0xdead0000ull, 0, N, 1);
	drv_desc(d, 1, DATA_GPA, 4, W, 0);
	drv_kick(d, 0);
	expect_ret(pop(d, bufs, &req), 1);
	assert_int_equal(req.nr_bufs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_simple_chain),
		T(test_push_clamps_length),
		T(test_indirect),
		T(test_address_outside_memory),
		T(test_buffer_straddles_end_of_ram),
		T(test_length_wraps),
		T(test_write_into_rom),
		T(test_loop),
		T(test_self_loop),
		T(test_next_out_of_range),
		T(test_head_out_of_range),
		T(test_readable_after_writable),
		T(test_chain_longer_than_bufs),
		T(test_full_length_chain_is_fine),
		T(test_avail_index_jumps),
		T(test_avail_index_backwards),
		T(test_indices_wrap),
		T(test_indirect_not_negotiated),
		T(test_indirect_bad_length),
		T(test_indirect_zero_length),
		T(test_indirect_too_big),
		T(test_indirect_outside_memory),
		T(test_indirect_nested),
		T(test_indirect_with_next),
		T(test_indirect_loop),
		T(test_indirect_next_out_of_table),
		T(test_reset_recovers),
		T(test_zero_length_buffers_skipped),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
