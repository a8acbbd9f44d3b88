/* SPDX-License-Identifier: MIT */
/*
 * The guest memory map changing while a device runs, for real: a tiny
 * guest drives a virtio-rng queue through virtio-mmio (a vCPU exit per
 * notification, the device serving it on the vCPU thread) while this
 * thread adds and removes an unrelated region, reads and writes it, and
 * tries to remove the region holding the queue's rings (-EBUSY).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm/guest_util.h"

#define DESC_GPA 0x8000u  /* the guest program's ring layout */
#define AVAIL_GPA 0x9000u
#define USED_GPA 0xa000u
#define DATA_GPA 0xb000u
#define QSIZE 8u
#define SPARE_GPA 0x100000u /* beyond RAM and the virtio window */
#define SPARE_BYTES 0x10000u

enum { /* virtio-mmio registers (virtio 1.2, 4.2.2) */
	DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024, QUEUE_SEL = 0x030,
	QUEUE_NUM = 0x038, QUEUE_READY = 0x044, STATUS = 0x070, QUEUE_DESC = 0x080,
	QUEUE_DRIVER = 0x090, QUEUE_DEVICE = 0x0a0,
};

struct live {
	struct fixture f;
	struct hv_virtio_rng *rng;
	struct hv_virtio_mmio *mmio;
	atomic_uint rounds; /* guest loop iterations seen on port 0x10 */
	uint32_t ram_id;
};

static int progress_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write,
		       uint64_t *value)
{
	struct live *l = opaque;

	(void)offset;
	(void)width;
	(void)value;
	if (is_write)
		atomic_fetch_add(&l->rounds, 1);
	return 0;
}

static void no_irq(void *opaque, uint32_t irq, int level)
{
	(void)opaque;
	(void)irq;
	(void)level;
}

static void reg(struct live *l, uint32_t offset, uint32_t val)
{
	uint64_t v = val;

	assert_int_equal(hv_virtio_mmio_io(l->mmio, offset, 4, true, &v), 0);
}

static uint32_t status(struct live *l)
{
	return hv_virtio_dev_status(hv_virtio_rng_dev(l->rng));
}

/* The driver's set-up (virtio 1.2, 3.1.1) with queue 0's rings at these
 * addresses; ready: enable the queue and set DRIVER_OK. */
static void driver_setup(struct live *l, uint64_t desc, uint64_t avail, uint64_t used,
			 bool ready)
{
	reg(l, STATUS, 0);
	reg(l, STATUS, HV_VIRTIO_STATUS_ACKNOWLEDGE | HV_VIRTIO_STATUS_DRIVER);
	reg(l, DRIVER_FEATURES_SEL, 1);
	reg(l, DRIVER_FEATURES, 1); /* VIRTIO_F_VERSION_1 */
	reg(l, STATUS, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	reg(l, QUEUE_SEL, 0);
	reg(l, QUEUE_NUM, QSIZE);
	reg(l, QUEUE_DESC, (uint32_t)desc);
	reg(l, QUEUE_DRIVER, (uint32_t)avail);
	reg(l, QUEUE_DEVICE, (uint32_t)used);
	if (!ready)
		return;
	reg(l, QUEUE_READY, 1);
	reg(l, STATUS, 3 | HV_VIRTIO_STATUS_FEATURES_OK | HV_VIRTIO_STATUS_DRIVER_OK);
}

static void live_setup(struct live *l)
{
	struct hv_virtio_rng_config rc;
	struct hv_virtio_mmio_config mc;
	/* One device-writable descriptor, head 0, reused every round. */
	const uint8_t desc[16] = { DATA_GPA & 0xff, DATA_GPA >> 8, 0, 0, 0, 0, 0, 0,
				   64, 0, 0, 0, 2 /* WRITE */, 0, 0, 0 };
	uint32_t ids[4];
	uint32_t handle;

	memset(l, 0, sizeof(*l));
	fixture_setup(&l->f, NULL, &guest_virtq);
	assert_int_equal(hv_mem_regions(l->f.mem, ids, 4), 1);
	l->ram_id = ids[0];
	hv_virtio_rng_config_init(&rc);
	rc.vm = l->f.vm;
	assert_int_equal(hv_virtio_rng_create(&rc, &l->rng), 0);
	hv_virtio_mmio_config_init(&mc);
	mc.base = GUEST_MMIO;
	mc.irq = 5;
	mc.vm = l->f.vm;
	mc.set_irq = no_irq;
	assert_int_equal(hv_virtio_mmio_create(hv_virtio_rng_dev(l->rng), &mc, &l->mmio), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(l->f.vm, HV_BUS_PIO), 0x10, 2, progress_fn, l,
					 "progress", &handle), 0);
	assert_int_equal(hv_mem_write(l->f.mem, DESC_GPA, desc, sizeof(desc)), 0);
	driver_setup(l, DESC_GPA, AVAIL_GPA, USED_GPA, true);
	assert_int_equal(status(l) & HV_VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void live_teardown(struct live *l)
{
	hv_virtio_mmio_destroy(l->mmio);
	hv_virtio_rng_destroy(l->rng);
	fixture_teardown(&l->f);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One add/use/remove cycle of the spare region, and a refused removal of
 * the RAM that holds the running queue's rings. */
static void churn_once(struct live *l, uint32_t round)
{
	struct hv_mem_region_config rc;
	struct hv_mem_region_info info;
	uint8_t in[256], out[256];
	uint32_t id;

	hv_mem_region_config_init(&rc);
	rc.gpa = SPARE_GPA;
	rc.bytes = SPARE_BYTES;
	rc.backing = round & 1 ? HV_MEM_MEMFD : HV_MEM_ANON;
	rc.name = "spare";
	assert_int_equal(hv_mem_add_region(l->f.mem, &rc, &id), 0);
	if (rc.backing == HV_MEM_MEMFD) {
		assert_int_equal(hv_mem_region_info(l->f.mem, id, &info), 0);
		assert_int_equal(fcntl(info.fd, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW),
				 F_SEAL_SHRINK | F_SEAL_GROW);
	}
	memset(in, (int)round, sizeof(in));
	assert_int_equal(hv_mem_write(l->f.mem, SPARE_GPA + SPARE_BYTES - 128, in, sizeof(in)),
			 -EFAULT); /* runs past the end: nothing copied */
	assert_int_equal(hv_mem_write(l->f.mem, SPARE_GPA + round % 64, in, sizeof(in)), 0);
	assert_int_equal(hv_mem_read(l->f.mem, SPARE_GPA + round % 64, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(hv_mem_remove_region(l->f.mem, l->ram_id), -EBUSY);
	assert_non_null(strstr(hv_last_error(), "in use"));
	assert_int_equal(hv_mem_remove_region(l->f.mem, id), 0);
}

static void test_map_changes_under_traffic(void **state)
{
	struct live l;
	unsigned int before, after;
	uint32_t round = 0;
	double end;

	(void)state;
	live_setup(&l);
	assert_int_equal(hv_x86_setup_real_mode(l.f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_start(l.f.vcpu, NULL, NULL), 0);
	for (end = now_s() + 5; atomic_load(&l.rounds) < 50 && now_s() < end;)
		usleep(1000);
	before = atomic_load(&l.rounds);
	assert_true(before >= 50);
	for (end = now_s() + 1.0; now_s() < end || round < 200; round++)
		churn_once(&l, round);
	after = atomic_load(&l.rounds);
	assert_int_equal(hv_vcpu_stop(l.f.vcpu), 0);
	assert_int_equal(hv_vcpu_join(l.f.vcpu, NULL), 0);
	fprintf(stderr, "map changes under traffic: %u add/remove cycles, %u guest rounds "
			"meanwhile\n", round, after - before);
	/* The device served the guest all along and never broke. */
	assert_true(after - before >= 100);
	assert_int_equal(status(&l) & HV_VIRTIO_STATUS_NEEDS_RESET, 0);

	/* Reset: the rings are let go, so their RAM could now be removed.
	 * A queue set up in the spare region, which vanishes before the
	 * driver enables it, breaks the device instead of being used. */
	reg(&l, STATUS, 0);
	{
		struct hv_mem_region_config rc;
		uint32_t id;

		hv_mem_region_config_init(&rc);
		rc.gpa = SPARE_GPA;
		rc.bytes = SPARE_BYTES;
		assert_int_equal(hv_mem_add_region(l.f.mem, &rc, &id), 0);
		driver_setup(&l, SPARE_GPA, SPARE_GPA + 0x1000, SPARE_GPA + 0x2000, false);
		assert_int_equal(hv_mem_remove_region(l.f.mem, id), 0);
	}
	reg(&l, QUEUE_READY, 1);
	assert_true(status(&l) & HV_VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(hv_mem_remove_region(l.f.mem, l.ram_id), 0);
	live_teardown(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_changes_under_traffic),
	};

	return cmocka_run_group_tests(tests, keep_one_vm_open, close_kept_vm);
}
