/* SPDX-License-Identifier: MIT */
/*
 * Hostile guests against real devices: a kernel-less guest (guest_script.h)
 * plays a malicious virtio driver against hvlib's virtio-blk, virtio-rng
 * and virtio-balloon on virtio-mmio, served by an I/O thread as in a
 * micro-VM.  The host lays the malicious rings out in guest RAM; every
 * register access and notification comes from the guest through KVM.
 * For each case: the attacked device is contained (it ends in
 * DEVICE_NEEDS_RESET or refuses the chain, and after a reset serves a good
 * request again), the process lives, the VM's other device (rng, or blk
 * for the balloon case) serves a request, a second VM in the same process
 * serves one, and the VM's log got at most LOG_BOUND lines a 5 s.  A table is
 * printed at the end.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm/hostile_vm.h"
/* ---- the attacks: each sets up its rings, runs its script, returns the
 * device it attacked and whether that must end in DEVICE_NEEDS_RESET ---- */

struct attack {
	const char *name;
	uint16_t (*run)(struct vmx *x, struct script *s, struct ring *r);
	bool needs_reset;
};

static uint16_t blk_chain_attack(struct vmx *x, struct script *s, uint64_t features)
{
	blk_start(s, x, features);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BLK;
}

static uint16_t a_desc_loop(struct vmx *x, struct script *s, struct ring *r)
{
	ring_desc(r, 0, BLK_HDR, 16, VRING_DESC_F_NEXT, 1);
	ring_desc(r, 1, BLK_DATA, 512, VRING_DESC_F_NEXT, 0);
	ring_post(r, 0);
	return blk_chain_attack(x, s, 0);
}

static uint16_t a_huge_len(struct vmx *x, struct script *s, struct ring *r)
{
	blk_read_chain(r, 0, BLK_DATA, 0xffffffffu);
	ring_post(r, 0);
	return blk_chain_attack(x, s, 0);
}

static uint16_t a_wrap_len(struct vmx *x, struct script *s, struct ring *r)
{
	blk_read_chain(r, 0, 0xfffffffffffff000ull, 0x2000);
	ring_post(r, 0);
	return blk_chain_attack(x, s, 0);
}

static uint16_t a_ring_outside(struct vmx *x, struct script *s, struct ring *r)
{
	(void)r;
	sc_begin(s, x->f.ram);
	vd_init(s, DEV_BLK, 0);
	vd_queue(s, DEV_BLK, 0, QNUM, 0xfffff000u, 0x7fff0000u, 0x100000000000ull);
	vd_driver_ok(s, DEV_BLK);
	vd_notify(s, DEV_BLK, 0);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BLK;
}

/* The used ring on top of the rng's registers: the device must not write
 * there (it is not RAM), and the rng must not notice. */
static uint16_t a_used_in_mmio(struct vmx *x, struct script *s, struct ring *r)
{
	blk_read_chain(r, 0, BLK_DATA, 512);
	ring_post(r, 0);
	sc_begin(s, x->f.ram);
	vd_init(s, DEV_BLK, 0);
	vd_queue(s, DEV_BLK, 0, QNUM, BLK_DESC, BLK_AVAIL, SCRIPT_MMIO_BASE + DEV_RNG);
	vd_driver_ok(s, DEV_BLK);
	vd_notify(s, DEV_BLK, 0);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BLK;
}

static uint16_t a_avail_jump(struct vmx *x, struct script *s, struct ring *r)
{
	blk_read_chain(r, 0, BLK_DATA, 512);
	ring_set_avail_idx(r, 0x8000);
	return blk_chain_attack(x, s, 0);
}

/* Break the queue, reset, set it up again and break it again: 1000 times. */
static uint16_t a_break_loop(struct vmx *x, struct script *s, struct ring *r)
{
	blk_read_chain(r, 0, BLK_DATA, 512);
	ring_set_avail_idx(r, 0x8000);
	blk_start(s, x, 0);
	sc_repeat(s, 1000);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BLK;
}

static uint16_t a_head_range(struct vmx *x, struct script *s, struct ring *r)
{
	ring_post(r, 999);
	return blk_chain_attack(x, s, 0);
}

static uint16_t a_indirect_huge(struct vmx *x, struct script *s, struct ring *r)
{
	ring_desc(r, 0, BLK_INDIRECT, 0x10000, VRING_DESC_F_INDIRECT, 0);
	ring_post(r, 0);
	return blk_chain_attack(x, s, HV_VIRTIO_F_INDIRECT_DESC);
}

static uint16_t a_indirect_nested(struct vmx *x, struct script *s, struct ring *r)
{
	struct ring t = *r;

	t.desc = BLK_INDIRECT; /* the table's entry 0 points at the table again */
	ring_desc(&t, 0, BLK_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	ring_desc(&t, 1, BLK_DATA, 512, VRING_DESC_F_WRITE, 0);
	ring_desc(r, 0, BLK_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	ring_post(r, 0);
	return blk_chain_attack(x, s, HV_VIRTIO_F_INDIRECT_DESC);
}

/* Every register and config byte, written with garbage and read, 200
 * times over (about 80000 accesses), the device's status included. */
static uint16_t a_mmio_storm(struct vmx *x, struct script *s, struct ring *r)
{
	(void)r;
	sc_begin(s, x->f.ram);
	for (uint16_t off = 0; off < 0x100; off += 4) {
		sc_w32(s, DEV_BLK + off, off == 0x70 ? 0x7fu : 0xffffffffu - off);
		sc_r32(s, DEV_BLK + off);
	}
	for (uint16_t off = 0x100; off < 0x200; off++)
		sc_w8(s, DEV_BLK + off, 0xa5);
	sc_w32(s, DEV_BLK + 0x1fe, 0xdeadbeef); /* straddles the config end */
	sc_w32(s, DEV_BLK + 0xffc, 0xdeadbeef);
	sc_r32(s, DEV_BLK + 0x3);               /* unaligned */
	sc_repeat(s, 200);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BLK;
}

/* A running queue notified 5000 times with nothing in it. */
static uint16_t a_notify_storm(struct vmx *x, struct script *s, struct ring *r)
{
	(void)r;
	blk_start(s, x, 0);
	sc_mark(s);
	vd_notify(s, DEV_BLK, 0);
	sc_repeat(s, 5000);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BLK;
}

/* Reset while reads of 64 KiB are in flight, 500 times. */
static uint16_t a_reset_mid(struct vmx *x, struct script *s, struct ring *r)
{
	for (uint16_t i = 0; i < 4; i++) {
		blk_read_chain(r, i, BIG_DATA + 0x10000u * i, 0x10000);
		ring_post(r, 3 * i);
	}
	blk_start(s, x, 0);
	vd_reset(s, DEV_BLK);
	sc_repeat(s, 500);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BLK;
}

/* The inflate queue: 16 chains of 1024 page numbers (in RAM, beyond it, in
 * the MMIO hole, ~0), resubmitted 3000 times by the guest itself: it waits
 * for the device to catch up (used index = avail index), bumps the avail
 * index and notifies, as fast as the device goes. */
static uint16_t a_balloon_flood(struct vmx *x, struct script *s, struct ring *r)
{
	struct ring b;

	(void)r;
	ring_init(&b, x->f.ram, BAL_DESC, BAL_AVAIL, BAL_USED, QNUM);
	for (uint32_t i = 0; i < QNUM; i++) {
		uint32_t *pfn = (uint32_t *)(x->f.ram + BAL_PFNS + 0x1000u * i);

		for (uint32_t j = 0; j < 1024; j++)
			pfn[j] = j % 4 == 0 ? 0x40 + j % 0x40 : j % 4 == 1 ? 0xffffffffu
				 : j % 4 == 2 ? 0x80 + j % 0x80 : 0xd0 + j % 0x10;
		ring_desc(&b, (uint16_t)i, BAL_PFNS + 0x1000u * i, 4096, 0, 0);
		memcpy(x->f.ram + BAL_AVAIL + 4 + 2 * i, &i, 2);
	}
	sc_begin(s, x->f.ram);
	vd_init(s, DEV_BAL, 0);
	vd_queue(s, DEV_BAL, 0, QNUM, BAL_DESC, BAL_AVAIL, BAL_USED);
	vd_queue(s, DEV_BAL, 1, QNUM, BAL_DESC + 0x100, BAL_AVAIL + 0x100, BAL_USED + 0x100);
	vd_driver_ok(s, DEV_BAL);
	sc_mark(s);
	sc_wait16(s, BAL_USED + 2, BAL_AVAIL + 2);
	sc_inc16(s, BAL_AVAIL + 2);
	vd_notify(s, DEV_BAL, 0);
	sc_repeat(s, 3000);
	assert_int_equal(sc_run(s, x->f.vcpu), 0);
	return DEV_BAL;
}

static const struct attack attacks[] = {
	{ "descriptor loop", a_desc_loop, true },
	{ "length 4 GiB - 1", a_huge_len, true },
	{ "address+length wraps", a_wrap_len, true },
	{ "rings outside RAM", a_ring_outside, true },
	{ "used ring on MMIO", a_used_in_mmio, true },
	{ "avail index jump", a_avail_jump, true },
	{ "head out of range", a_head_range, true },
	{ "break, reset, repeat x1000", a_break_loop, true },
	{ "indirect 64 KiB table", a_indirect_huge, true },
	{ "nested indirect", a_indirect_nested, true },
	{ "MMIO+config storm", a_mmio_storm, false },
	{ "notify storm", a_notify_storm, false },
	{ "reset mid-request", a_reset_mid, false },
	{ "balloon flood", a_balloon_flood, false },
};
#define NR_ATTACKS (sizeof(attacks) / sizeof(attacks[0]))

struct result {
	bool needs_reset, recovered, other_dev, other_vm;
	int log_lines;
	double ms;
	int log_bound;
	char first_log[160];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The log is limited in rate, not in total (10 lines a device per 5 s, then
 * one "suppressed" line): a case that takes longer, as on a slow emulated
 * machine, may log another LOG_BOUND for each 5 s it ran. */
static int log_bound(double ms)
{
	return LOG_BOUND * (1 + (int)(ms / 5000.0));
}

static void run_case(const struct attack *a, struct vmx *other, struct result *res)
{
	static struct vmx x;
	struct script s;
	struct ring r;
	uint16_t dev;
	double t0;

	vmx_create(&x, false);
	x.log_lines = 0;
	ring_init(&r, x.f.ram, BLK_DESC, BLK_AVAIL, BLK_USED, QNUM);
	t0 = now_ms();
	dev = a->run(&x, &s, &r);
	res->ms = now_ms() - t0;
	res->needs_reset = wait_needs_reset(&x, dev, a->needs_reset ? 2000 : 100);
	/* the attacked device still broken: its neighbour must work */
	res->other_dev = dev == DEV_BAL ? blk_ok(&x) && rng_ok(&x) : rng_ok(&x);
	res->recovered = dev == DEV_BAL ? balloon_ok(&x) : blk_ok(&x);
	res->other_vm = rng_ok(other);
	res->log_lines = __atomic_load_n(&x.log_lines, __ATOMIC_RELAXED);
	res->log_bound = log_bound(now_ms() - t0);
	snprintf(res->first_log, sizeof(res->first_log), "%s", x.first_log);
	if (dev == DEV_BAL) {
		struct hv_virtio_balloon_info info = { .size = sizeof(info) };

		hv_virtio_balloon_get(x.bal, &info);
		printf("balloon flood: %llu pages inflated, %llu page numbers skipped\n",
		       (unsigned long long)info.inflated_pages,
		       (unsigned long long)info.skipped_pages);
	}
	vmx_destroy(&x);
}

static void test_hostile(void **state)
{
	static struct vmx other;
	struct result res[NR_ATTACKS];
	int bad = 0;

	(void)state;
	make_disk();
	vmx_create(&other, true);
	assert_true(rng_ok(&other));
	printf("| case | contained? | other device ok? | other VM ok? | log lines | ms |\n"
	       "| --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < NR_ATTACKS; i++) {
		const struct attack *a = &attacks[i];
		struct result *r = &res[i];
		bool contained;

		memset(r, 0, sizeof(*r));
		run_case(a, &other, r);
		contained = r->recovered && (r->needs_reset || !a->needs_reset);
		printf("| %s | %s%s | %s | %s | %d%s | %.0f |\n", a->name, contained ? "yes" : "NO",
		       r->needs_reset ? " (needs-reset)" : r->recovered ? " (refused/ignored)" : "",
		       r->other_dev ? "yes" : "NO", r->other_vm ? "yes" : "NO", r->log_lines,
		       r->log_lines > r->log_bound ? " (over bound)" : "", r->ms);
		if (r->log_lines)
			printf("|   first log line: %s | | | | | |\n", r->first_log);
		fflush(stdout);
		bad += !contained || !r->other_dev || !r->other_vm || r->log_lines > r->log_bound;
	}
	vmx_destroy(&other);
	unlink(disk_path);
	if (bad)
		fail_msg("%d of %zu hostile-guest cases failed: not contained, a neighbour broken, "
			 "or more than %d log lines a 5 s (table above)", bad, NR_ATTACKS, LOG_BOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests_name("kvm_hostile", tests, keep_one_vm_open, close_kept_vm);
}
