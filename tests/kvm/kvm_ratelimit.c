/* SPDX-License-Identifier: MIT */
/*
 * A guest cannot flood the embedder's log: a driver offering features the
 * device refused, a thousand times over through the virtio-mmio registers
 * (each access exactly as a vCPU's MMIO exit delivers it), yields the
 * device's burst of lines and then silence; the next line after the
 * interval says how many were suppressed; a second device's lines are its
 * own.  Needs a real VM (the log callback hangs off it), no Linux guest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hvlib/virtio.h"
#include "kvm/guest_util.h"
#include "virtio/virtio_internal.h"

#define FLOOD 1000

struct lines {
	int noisy_refused, quiet_refused, suppressed, other;
	unsigned long long suppressed_count;
};

static void on_log(void *opaque, enum hv_log_level level, const char *msg)
{
	struct lines *l = opaque;

	(void)level;
	if (strstr(msg, "noisy: ") == msg && strstr(msg, "refused"))
		l->noisy_refused++;
	else if (strstr(msg, "quiet: ") == msg && strstr(msg, "refused"))
		l->quiet_refused++;
	else if (strstr(msg, "noisy: ") == msg && strstr(msg, "messages suppressed")) {
		l->suppressed++;
		l->suppressed_count = strtoull(msg + strlen("noisy: "), NULL, 10);
	} else
		l->other++;
}

static void no_irq(void *opaque, uint32_t irq, int level)
{
	(void)opaque;
	(void)irq;
	(void)level;
}

static void mmio_wr(struct hv_virtio_mmio *m, uint64_t off, uint32_t val)
{
	uint64_t v = val;

	assert_int_equal(hv_virtio_mmio_io(m, off, 4, true, &v), 0);
}

/* Reset, ACKNOWLEDGE | DRIVER, accept a feature never offered, FEATURES_OK. */
static void bad_driver(struct hv_virtio_mmio *m)
{
	mmio_wr(m, 0x070, 0);
	mmio_wr(m, 0x070, 3);
	mmio_wr(m, 0x024, 1);
	mmio_wr(m, 0x020, 1u | (1u << 20)); /* VERSION_1 and a bit nobody offers */
	mmio_wr(m, 0x070, 0xb);
}

struct rng_dev {
	struct hv_virtio_rng *rng;
	struct hv_virtio_mmio *mmio;
};

static void make(struct rng_dev *r, struct hv_vm *vm, const char *name, uint64_t base)
{
	struct hv_virtio_rng_config rc;
	struct hv_virtio_mmio_config mc;

	hv_virtio_rng_config_init(&rc);
	rc.vm = vm;
	rc.name = name;
	assert_int_equal(hv_virtio_rng_create(&rc, &r->rng), 0);
	hv_virtio_mmio_config_init(&mc);
	mc.vm = vm;
	mc.base = base;
	mc.irq = 5;
	mc.set_irq = no_irq;
	assert_int_equal(hv_virtio_mmio_create(hv_virtio_rng_dev(r->rng), &mc, &r->mmio), 0);
}

static void unmake(struct rng_dev *r)
{
	hv_virtio_mmio_destroy(r->mmio);
	hv_virtio_rng_destroy(r->rng);
}

static void test_refused_features_flood(void **state)
{
	struct lines l = { 0 };
	struct hv_vm_config cfg;
	struct fixture f;
	struct rng_dev noisy, quiet;
	struct hv_virtio_dev *dev;

	(void)state;
	hv_vm_config_init(&cfg);
	cfg.log_fn = on_log;
	cfg.log_opaque = &l;
	cfg.log_level = HV_LOG_DEBUG;
	fixture_setup(&f, &cfg, NULL);
	make(&noisy, f.vm, "noisy", GUEST_MMIO);
	make(&quiet, f.vm, "quiet", GUEST_MMIO + 0x1000);
	dev = hv_virtio_rng_dev(noisy.rng);
	/* A short interval, so the test need not wait five seconds. */
	dev->log_rl.interval_ns = 200 * 1000000ull;
	l.other = 0;
	for (int i = 0; i < FLOOD; i++)
		bad_driver(noisy.mmio);
	print_message("%d refusals: %d lines\n", FLOOD, l.noisy_refused);
	assert_int_equal(l.noisy_refused, HV_RATELIMIT_BURST);
	assert_int_equal(l.suppressed, 0);
	/* Another device is not silenced by this one's flood. */
	bad_driver(quiet.mmio);
	assert_int_equal(l.quiet_refused, 1);
	/* After the interval: one count of what was dropped, then the line. */
	{
		struct timespec ts = { 0, 250 * 1000000L };

		nanosleep(&ts, NULL);
	}
	bad_driver(noisy.mmio);
	assert_int_equal(l.suppressed, 1);
	assert_int_equal(l.suppressed_count, FLOOD - HV_RATELIMIT_BURST);
	assert_int_equal(l.noisy_refused, HV_RATELIMIT_BURST + 1);
	assert_int_equal(l.other, 0);
	unmake(&quiet);
	unmake(&noisy);
	fixture_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_features_flood),
	};
	return cmocka_run_group_tests_name("kvm_ratelimit", tests, keep_one_vm_open, close_kept_vm);
}
