/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport on a standalone bus: identification registers,
 * the initialisation sequence a Linux driver performs, queue notify and
 * interrupt status/acknowledge (with virtio-rng behind it), and hostile
 * register accesses (odd widths, misaligned, reserved and out-of-window
 * offsets).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/test_virtq_driver.h"

#define BASE 0xd0000000ull
#define QSIZE 64u

struct fix {
	struct drv d;
	struct hv_bus *bus;
	struct hv_virtio_rng *rng;
	struct hv_virtio_mmio *mmio;
	int edges;   /* 0 -> 1 transitions seen */
	int level;
};

static void on_irq(void *opaque, uint32_t irq, int level)
{
	struct fix *f = opaque;

	assert_int_equal(irq, 5);
	if (level && !f->level)
		f->edges++;
	f->level = level;
}

static uint32_t rd(struct fix *f, uint64_t off)
{
	uint64_t v = 0;

	expect_ret(hv_bus_dispatch(f->bus, BASE + off, 4, false, &v), 0);
	return (uint32_t)v;
}

static void wr(struct fix *f, uint64_t off, uint32_t val)
{
	uint64_t v = val;

	expect_ret(hv_bus_dispatch(f->bus, BASE + off, 4, true, &v), 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_rng_config rc;
	struct hv_virtio_mmio_config mc;

	drv_create_mem(&f->d);
	expect_ret(hv_bus_create(HV_BUS_MMIO, &f->bus), 0);
	hv_virtio_rng_config_init(&rc);
	rc.mem = f->d.mem;
	expect_ret(hv_virtio_rng_create(&rc, &f->rng), 0);
	hv_virtio_mmio_config_init(&mc);
	mc.base = BASE;
	mc.irq = 5;
	mc.bus = f->bus;
	mc.set_irq = on_irq;
	mc.irq_opaque = f;
	expect_ret(hv_virtio_mmio_create(hv_virtio_rng_dev(f->rng), &mc, &f->mmio), 0);
	f->d.dev = hv_virtio_rng_dev(f->rng);
	f->d.q = hv_virtio_dev_queue(f->d.dev, 0);
	f->d.size = QSIZE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	hv_virtio_mmio_destroy(f->mmio);
	hv_virtio_rng_destroy(f->rng);
	hv_bus_destroy(f->bus);
	hv_mem_destroy(f->d.mem);
	free(f);
	return 0;
}

/* What drivers/virtio/virtio_mmio.c does, in order. */
static void linux_init(struct fix *f)
{
	memset(f->d.ram + DESC_GPA, 0, USED_GPA + 0x2000 - DESC_GPA);
	f->d.avail_idx = 0;
	wr(f, 0x070, 0);
	wr(f, 0x070, 1);
	wr(f, 0x070, 3);
	wr(f, 0x014, 1);
	assert_int_equal(rd(f, 0x010), 1); /* VERSION_1 */
	wr(f, 0x014, 0);
	assert_true(rd(f, 0x010) & (1u << 28));
	wr(f, 0x024, 1);
	wr(f, 0x020, 1);
	wr(f, 0x024, 0);
	wr(f, 0x020, 1u << 29); /* EVENT_IDX */
	wr(f, 0x070, 0xb);
	assert_int_equal(rd(f, 0x070), 0xb);
	wr(f, 0x030, 0);
	assert_int_equal(rd(f, 0x044), 0);
	assert_int_equal(rd(f, 0x034), QSIZE);
	wr(f, 0x038, QSIZE);
	wr(f, 0x080, DESC_GPA);
	wr(f, 0x084, 0);
	wr(f, 0x090, AVAIL_GPA);
	wr(f, 0x094, 0);
	wr(f, 0x0a0, USED_GPA);
	wr(f, 0x0a4, 0);
	wr(f, 0x044, 1);
	assert_int_equal(rd(f, 0x044), 1);
	wr(f, 0x070, 0xf);
}

static void test_identification(void **state)
{
	struct fix *f = *state;

	assert_int_equal(rd(f, 0x000), 0x74726976);
	assert_int_equal(rd(f, 0x004), 2);
	assert_int_equal(rd(f, 0x008), HV_VIRTIO_ID_RNG);
	assert_int_equal(rd(f, 0x0b0), 0xffffffffu); /* no shared memory regions */
	assert_int_equal(rd(f, 0x030 + 0x200), 0);   /* config space of 0 bytes */
}

static void test_rng_through_mmio(void **state)
{
	struct fix *f = *state;
	uint32_t id, len;
	uint8_t zero[32] = { 0 };

	linux_init(f);
	assert_false(drv_needs_reset(&f->d));
	drv_desc(&f->d, 0, DATA_GPA, 32, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	wr(f, 0x050, 0);
	assert_int_equal(drv_used_idx(&f->d), 1);
	drv_used_elem(&f->d, 0, &id, &len);
	assert_int_equal(len, 32);
	assert_memory_not_equal(f->d.ram + DATA_GPA, zero, 32);
	assert_int_equal(f->edges, 1);
	assert_int_equal(f->level, 0); /* edge: pulsed */
	assert_int_equal(rd(f, 0x060), 1);
	wr(f, 0x064, 1);
	assert_int_equal(rd(f, 0x060), 0);
	/* Notifying a queue that does not exist does nothing. */
	wr(f, 0x050, 9);
	/* Reset: status 0, queue not ready, interrupt status clear. */
	wr(f, 0x070, 0);
	assert_int_equal(rd(f, 0x070), 0);
	assert_int_equal(rd(f, 0x044), 0);
}

static void test_broken_ring_sets_needs_reset(void **state)
{
	struct fix *f = *state;

	linux_init(f);
	drv_desc(&f->d, 0, 0x80000000ull, 32, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	wr(f, 0x050, 0);
	assert_true(rd(f, 0x070) & HV_VIRTIO_STATUS_NEEDS_RESET);
	assert_true(rd(f, 0x060) & 2); /* configuration change */
	assert_int_equal(f->edges, 1);
	/* The driver cannot clear the bit by writing status; only a reset does. */
	wr(f, 0x070, 0xf);
	assert_true(rd(f, 0x070) & HV_VIRTIO_STATUS_NEEDS_RESET);
	wr(f, 0x070, 0);
	assert_int_equal(rd(f, 0x070), 0);
	linux_init(f);
	drv_desc(&f->d, 0, DATA_GPA, 8, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	wr(f, 0x050, 0);
	assert_int_equal(drv_used_idx(&f->d), 1);
}

static void test_hostile_accesses(void **state)
{
	struct fix *f = *state;
	uint64_t v;

	/* Byte, word and misaligned accesses to registers: read 0, ignored. */
	v = 0xff;
	expect_ret(hv_bus_dispatch(f->bus, BASE + 0x070, 1, true, &v), 0);
	assert_int_equal(rd(f, 0x070), 0);
	expect_ret(hv_bus_dispatch(f->bus, BASE + 0x000, 2, false, &v), 0);
	assert_int_equal(v, 0);
	expect_ret(hv_bus_dispatch(f->bus, BASE + 0x002, 4, false, &v), 0);
	assert_int_equal(v, 0);
	expect_ret(hv_bus_dispatch(f->bus, BASE + 0x000, 8, false, &v), 0);
	assert_int_equal(v, 0);
	/* Reserved and write-only registers read 0. */
	assert_int_equal(rd(f, 0x0c4), 0);
	assert_int_equal(rd(f, 0x050), 0);
	/* Config space, any offset up to the window's end. */
	assert_int_equal(rd(f, 0xffc), 0);
	wr(f, 0xffc, 0x12345678);
	/* Direct calls beyond the window (other buses): harmless. */
	expect_ret(hv_virtio_mmio_io(f->mmio, 0x1000, 4, false, &v), 0);
	assert_int_equal(v, 0);
	expect_ret(hv_virtio_mmio_io(f->mmio, UINT64_MAX, 4, true, &v), 0);
	/* Queue selector far out of range: reads say "no queue", writes vanish. */
	wr(f, 0x030, 0xffffffffu);
	assert_int_equal(rd(f, 0x034), 0);
	wr(f, 0x038, 8);
	wr(f, 0x080, 0x1000);
	wr(f, 0x044, 1);
	assert_int_equal(rd(f, 0x044), 0);
	/* Feature selectors beyond the 64 bits read 0. */
	wr(f, 0x014, 7);
	assert_int_equal(rd(f, 0x010), 0);
}

static void test_bad_configs(void **state)
{
	struct fix *f = *state;
	struct hv_virtio_mmio_config mc;
	struct hv_virtio_mmio *m;

	hv_virtio_mmio_config_init(&mc);
	mc.bus = f->bus;
	mc.set_irq = on_irq;
	expect_err(hv_virtio_mmio_create(f->d.dev, &mc, &m), -EBUSY, "transport");
	mc.base = 0x123;
	expect_err(hv_virtio_mmio_create(f->d.dev, &mc, &m), -EINVAL, "aligned");
	mc.base = 0;
	mc.bus = NULL;
	expect_err(hv_virtio_mmio_create(f->d.dev, &mc, &m), -EINVAL, "bus");
	hv_virtio_mmio_destroy(NULL);
}

/* Each 32-bit half lands in its own address and keeps the other half. */
static void test_queue_address_halves(void **state)
{
	struct fix *f = *state;
	struct hv_virtio_dev *dev = f->d.dev;

	wr(f, 0x030, 0);
	wr(f, 0x084, 0x12);
	wr(f, 0x080, 0x3000);
	wr(f, 0x0a0, 0x5000);
	wr(f, 0x0a4, 0xab);
	wr(f, 0x094, 0x7);
	assert_int_equal(hv_virtio_dev_queue_addr(dev, 0, HV_VIRTQ_ADDR_DESC), 0x1200003000ull);
	assert_int_equal(hv_virtio_dev_queue_addr(dev, 0, HV_VIRTQ_ADDR_AVAIL), 0x700000000ull);
	assert_int_equal(hv_virtio_dev_queue_addr(dev, 0, HV_VIRTQ_ADDR_USED), 0xab00005000ull);
	wr(f, 0x080, 0x4000); /* the low half again: the high one stays */
	assert_int_equal(hv_virtio_dev_queue_addr(dev, 0, HV_VIRTQ_ADDR_DESC), 0x1200004000ull);
	assert_int_equal(hv_virtio_dev_queue_addr(dev, 7, HV_VIRTQ_ADDR_DESC), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_identification),
		T(test_rng_through_mmio),
		T(test_broken_ring_sets_needs_reset),
		T(test_hostile_accesses),
		T(test_bad_configs),
		T(test_queue_address_halves),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
