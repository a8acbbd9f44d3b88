/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon for real: Debian's stock kernel boots with the balloon on
 * virtio-mmio and its own virtio_balloon driver (tests/balloon/
 * balloon-init.sh), touches most of its memory once, then reports its
 * MemTotal/MemFree every second.  One boot checks:
 *  - inflating by 64 MiB: `actual` reaches the target, the guest's free
 *    memory drops by about that much, and the host's resident guest RAM
 *    (mincore() over the RAM regions) drops too;
 *  - statistics arrive at probe and again on request, and agree with the
 *    guest's /proc/meminfo;
 *  - deflating: `actual` goes back to 0 and the guest gets its memory back;
 *  - nothing was skipped and the device never needed a reset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "kvm/guest_util.h"

#define MIB (1ull << 20)
#define GUEST_RAM_BYTES (256 * MIB)
#define INFLATE_BYTES (64 * MIB)
#define BOOT_TIMEOUT_S 300 /* nested KVM under TCG is slow */
#define STEP_TIMEOUT_S 180

static char kernel[512], initrd[512];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void dump_console(struct console *con)
{
	pthread_mutex_lock(&con->lock);
	fprintf(stderr, "---- guest console ----\n%s\n-----------------------\n", con->buf);
	pthread_mutex_unlock(&con->lock);
}

static void wait_console(struct console *con, const char *needle)
{
	double end = now_s() + BOOT_TIMEOUT_S;

	while (!guest_console_has(con, needle)) {
		if (now_s() > end) {
			dump_console(con);
			fail_msg("no '%s' from the guest in %d s", needle, BOOT_TIMEOUT_S);
		}
		usleep(100 * 1000);
	}
}

/* The first complete "HVLIB-MEM total free" line starting at or after byte
 * `from` of the console; waits for one. */
static void guest_mem(struct console *con, size_t from, long *total_kib, long *free_kib)
{
	double end = now_s() + STEP_TIMEOUT_S;

	for (;;) {
		const char *p;
		bool ok = false;

		pthread_mutex_lock(&con->lock);
		p = from < con->len ? strstr(con->buf + from, "HVLIB-MEM ") : NULL;
		if (p && strchr(p, '\n'))
			ok = sscanf(p, "HVLIB-MEM %ld %ld", total_kib, free_kib) == 2;
		pthread_mutex_unlock(&con->lock);
		if (ok)
			return;
		if (now_s() > end) {
			dump_console(con);
			fail_msg("no meminfo line from the guest");
		}
		usleep(100 * 1000);
	}
}

static size_t console_len(struct console *con)
{
	size_t n;

	pthread_mutex_lock(&con->lock);
	n = con->len;
	pthread_mutex_unlock(&con->lock);
	return n;
}

/* Resident bytes of the guest's writable memory, by mincore(). */
static uint64_t resident_ram(struct hv_microvm *vm)
{
	struct hv_mem *mem = hv_vm_mem(hv_microvm_vm(vm));
	uint32_t ids[16];
	uint64_t pages = 0;
	int n = hv_mem_regions(mem, ids, 16);

	for (int i = 0; i < n && i < 16; i++) {
		struct hv_mem_region_info ri;
		unsigned char *vec;

		assert_int_equal(hv_mem_region_info(mem, ids[i], &ri), 0);
		if (ri.flags & HV_MEM_F_READONLY)
			continue;
		vec = malloc(ri.bytes / 4096);
		assert_non_null(vec);
		assert_int_equal(mincore(ri.host_addr, ri.bytes, vec), 0);
		for (uint64_t p = 0; p < ri.bytes / 4096; p++)
			pages += vec[p] & 1;
		free(vec);
	}
	return pages * 4096;
}

static void get(struct hv_virtio_balloon *bal, struct hv_virtio_balloon_info *info)
{
	info->size = sizeof(*info);
	assert_int_equal(hv_virtio_balloon_get(bal, info), 0);
}

static void wait_actual(struct hv_microvm *vm, struct console *con, uint64_t want)
{
	struct hv_virtio_balloon *bal = hv_microvm_balloon(vm);
	struct hv_virtio_balloon_info info;
	double start = now_s();

	for (;;) {
		get(bal, &info);
		if (info.actual_bytes == want)
			break;
		if (now_s() - start > STEP_TIMEOUT_S) {
			dump_console(con);
			fail_msg("balloon actual %llu bytes after %d s, target %llu",
				 (unsigned long long)info.actual_bytes, STEP_TIMEOUT_S,
				 (unsigned long long)want);
		}
		usleep(50 * 1000);
	}
	fprintf(stderr, "balloon: actual %llu MiB after %.1f s (inflated %llu, deflated %llu "
			"pages)\n", (unsigned long long)(want / MIB), now_s() - start,
		(unsigned long long)info.inflated_pages, (unsigned long long)info.deflated_pages);
}

static void check_stats(struct hv_microvm *vm, struct console *con)
{
	struct hv_virtio_balloon *bal = hv_microvm_balloon(vm);
	struct hv_virtio_balloon_info info;
	uint64_t before;
	long total_kib, free_kib;
	double end = now_s() + STEP_TIMEOUT_S;

	get(bal, &info);
	assert_true(info.stats_updates >= 1); /* the driver's first buffer, at probe */
	before = info.stats_updates;
	assert_int_equal(hv_virtio_balloon_request_stats(bal), 0);
	do {
		if (now_s() > end)
			fail_msg("no fresh stats from the guest in %d s", STEP_TIMEOUT_S);
		usleep(50 * 1000);
		get(bal, &info);
	} while (info.stats_updates == before);
	guest_mem(con, console_len(con), &total_kib, &free_kib);
	fprintf(stderr, "balloon stats: memtot %llu MiB, memfree %llu MiB, avail %llu MiB "
			"(guest meminfo %ld / %ld MiB)\n",
		(unsigned long long)(info.stats[HV_VIRTIO_BALLOON_S_MEMTOT] / MIB),
		(unsigned long long)(info.stats[HV_VIRTIO_BALLOON_S_MEMFREE] / MIB),
		(unsigned long long)(info.stats[HV_VIRTIO_BALLOON_S_AVAIL] / MIB),
		total_kib / 1024, free_kib / 1024);
	assert_true(info.stats_valid & (1u << HV_VIRTIO_BALLOON_S_MEMTOT));
	assert_true(info.stats_valid & (1u << HV_VIRTIO_BALLOON_S_MEMFREE));
	assert_true(info.stats_time_ns > 0);
	/* Same numbers as /proc/meminfo (MemTotal exactly; free within noise). */
	assert_int_equal(info.stats[HV_VIRTIO_BALLOON_S_MEMTOT], (uint64_t)total_kib * 1024);
	assert_true(info.stats[HV_VIRTIO_BALLOON_S_MEMFREE] < GUEST_RAM_BYTES);
}

static void test_inflate_deflate(void **state)
{
	struct console *con = calloc(1, sizeof(*con));
	struct hv_microvm_config cfg;
	struct hv_microvm_status st;
	struct hv_virtio_balloon_info info;
	struct hv_microvm *vm = NULL;
	long total0, free0, total1, free1, total2, free2;
	uint64_t res0, res1;

	(void)state;
	guest_console_init(con);
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.initrd = initrd;
	cfg.cmdline = "console=ttyS0 quiet panic=-1";
	cfg.mem_bytes = GUEST_RAM_BYTES;
	cfg.console_fn = guest_console_fn;
	cfg.console_opaque = con;
	cfg.flags = HV_MICROVM_F_BALLOON | HV_MICROVM_F_SECCOMP;
	if (hv_microvm_create(&cfg, &vm) || hv_microvm_start(vm))
		fail_msg("micro-VM: %s", hv_last_error());
	assert_non_null(hv_microvm_balloon(vm));
	wait_console(con, "HVLIB-BALLOON-READY");
	assert_false(guest_console_has(con, "HVLIB-MODPROBE-FAILED"));
	assert_true(guest_console_has(con, "HVLIB-VIRTIO-DEVICES 1"));

	guest_mem(con, console_len(con), &total0, &free0);
	res0 = resident_ram(vm);
	fprintf(stderr, "before: guest MemTotal %ld MiB MemFree %ld MiB, host resident %llu MiB\n",
		total0 / 1024, free0 / 1024, (unsigned long long)(res0 / MIB));
	check_stats(vm, con);

	assert_int_equal(hv_virtio_balloon_set_target(hv_microvm_balloon(vm), INFLATE_BYTES), 0);
	wait_actual(vm, con, INFLATE_BYTES);
	guest_mem(con, console_len(con), &total1, &free1);
	res1 = resident_ram(vm);
	fprintf(stderr, "inflated: guest MemTotal %ld MiB MemFree %ld MiB, host resident %llu "
			"MiB\n", total1 / 1024, free1 / 1024, (unsigned long long)(res1 / MIB));
	/* The driver takes 64 MiB of free memory (MemTotal stays with
	 * DEFLATE_ON_OOM negotiated, as Linux only lowers it without). */
	assert_true(total1 <= total0);
	if (free0 - free1 < 48 * 1024)
		fail_msg("guest MemFree fell by %ld KiB only", free0 - free1);
	if (res0 < res1 || res0 - res1 < 48 * MIB)
		fail_msg("host resident guest RAM fell from %llu to %llu bytes only",
			 (unsigned long long)res0, (unsigned long long)res1);
	check_stats(vm, con);

	assert_int_equal(hv_virtio_balloon_set_target(hv_microvm_balloon(vm), 0), 0);
	wait_actual(vm, con, 0);
	guest_mem(con, console_len(con), &total2, &free2);
	fprintf(stderr, "deflated: guest MemTotal %ld MiB MemFree %ld MiB\n", total2 / 1024,
		free2 / 1024);
	if (free2 - free1 < 48 * 1024)
		fail_msg("guest MemFree rose by %ld KiB only after deflating", free2 - free1);
	get(hv_microvm_balloon(vm), &info);
	assert_int_equal(info.inflated_pages, INFLATE_BYTES / 4096);
	assert_int_equal(info.deflated_pages, INFLATE_BYTES / 4096);
	assert_int_equal(info.skipped_pages, 0);
	assert_int_equal(hv_virtio_dev_status(hv_virtio_balloon_dev(hv_microvm_balloon(vm))) &
				 HV_VIRTIO_STATUS_NEEDS_RESET, 0);
	/* Beyond the guest's RAM: refused. */
	assert_int_equal(hv_virtio_balloon_set_target(hv_microvm_balloon(vm), 2 * GUEST_RAM_BYTES),
			 -EINVAL);

	hv_microvm_stop(vm);
	assert_int_equal(hv_microvm_wait(vm, 30 * 1000, &st), 0);
	hv_microvm_destroy(vm);
	free(con);
}

/* Without the flag there is no balloon; the flag counts as a virtio slot. */
static void test_no_balloon(void **state)
{
	struct hv_microvm_config cfg;
	struct hv_microvm_disk disks[HV_MICROVM_MAX_VIRTIO];
	struct hv_microvm *vm = NULL;

	(void)state;
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.flags = HV_MICROVM_F_BALLOON;
	for (uint32_t i = 0; i < HV_MICROVM_MAX_VIRTIO; i++) {
		hv_microvm_disk_init(&disks[i]);
		disks[i].path = "/dev/null";
	}
	cfg.disks = disks;
	cfg.nr_disks = HV_MICROVM_MAX_VIRTIO;
	assert_int_equal(hv_microvm_create(&cfg, &vm), -EINVAL);
	cfg.nr_disks = 0;
	cfg.flags = 0;
	assert_int_equal(hv_microvm_create(&cfg, &vm), 0);
	assert_null(hv_microvm_balloon(vm));
	hv_microvm_destroy(vm);
}

static int find_material(void)
{
	return guest_find_material("balloon-initrd.cpio.gz", "balloon", kernel, sizeof(kernel), initrd, sizeof(initrd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_balloon),
		cmocka_unit_test(test_inflate_deflate),
	};
	int ret = find_material();

	if (ret)
		return ret;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
