/* SPDX-License-Identifier: MIT */
/*
 * Reliability: 1000 create/destroy cycles of a whole micro-VM with devices
 * (2 vCPUs, a virtio-blk disk on a temp image, rng, balloon, the UART and
 * in every other cycle a virtio-console, the I/O thread) in one process.
 * Every tenth cycle also runs the kernel-less PVH guest to its end (it
 * prints through the UART and resets through the i8042).  Afterwards the
 * process has exactly the descriptors and threads it started with, and its
 * RSS grew by less than RSS_BOUND_KIB: a leak of 8 KiB a cycle (a page-sized
 * buffer, a thread stack's guard, a guest RAM page left mapped) fails it,
 * while allocator and glibc stack-cache warm-up (done before measuring)
 * cannot.  HVLIB_CYCLES overrides the count (the emulated run uses fewer).
 */
#include <errno.h>
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

#include "hvlib/microvm.h"
#include "kvm/guest_util.h"
#include "kvm/pvh_guest.h"

#define DEFAULT_CYCLES 1000
#define WARMUP_CYCLES 20
#define RUN_EVERY 10
#define RSS_BOUND_KIB (8 * 1024)
#define HELLO "cycle ok\n"

#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_CHECKED 0
#endif
#endif
#ifndef RSS_CHECKED
#define RSS_CHECKED 1
#endif

struct paths {
	char dir[64];
	char kernel[96];
	char disk[96];
};

static void make_paths(struct paths *p)
{
	int fd;

	snprintf(p->dir, sizeof(p->dir), "/tmp/hvlib-cycles-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->kernel, sizeof(p->kernel), "%s/guest.elf", p->dir);
	snprintf(p->disk, sizeof(p->disk), "%s/disk.img", p->dir);
	assert_int_equal(pvh_guest_write_uart(p->kernel, HELLO, strlen(HELLO)), 0);
	fd = open(p->disk, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
}

static void one_cycle(const struct paths *p, int i, struct console *con)
{
	struct hv_microvm_config cfg;
	struct hv_microvm_disk disk;
	struct hv_microvm_status st;
	struct hv_microvm *vm = NULL;

	hv_microvm_disk_init(&disk);
	disk.path = p->disk;
	hv_microvm_config_init(&cfg);
	cfg.kernel = p->kernel;
	cfg.mem_bytes = 32 << 20;
	cfg.nr_vcpus = 2;
	/* Confined, as hvrun and Python run it: every thread the cycle makes
	 * starts under its seccomp filter. */
	cfg.flags = HV_MICROVM_F_RNG | HV_MICROVM_F_BALLOON | HV_MICROVM_F_SECCOMP;
	cfg.disks = &disk;
	cfg.nr_disks = 1;
	cfg.console = (i & 1) ? HV_MICROVM_CONSOLE_VIRTIO : HV_MICROVM_CONSOLE_SERIAL;
	cfg.console_fn = guest_console_fn;
	cfg.console_opaque = con;
	if (hv_microvm_create(&cfg, &vm))
		fail_msg("cycle %d: hv_microvm_create: %s", i, hv_last_error());
	if (i % RUN_EVERY == 0) {
		con->len = 0;
		con->buf[0] = '\0';
		assert_int_equal(hv_microvm_start(vm), 0);
		if (hv_microvm_wait(vm, 10000, &st))
			fail_msg("cycle %d: the guest did not stop: %s", i, hv_last_error());
		if (st.reason != HV_STOP_REBOOT)
			fail_msg("cycle %d: stopped with %s: %s", i, hv_stop_reason_name(st.reason),
				 st.message);
		hv_microvm_destroy(vm);
		/* destroy flushes the console: every byte is in by now */
		if (!guest_console_has(con, HELLO))
			fail_msg("cycle %d: console has \"%s\"", i, con->buf);
		return;
	}
	hv_microvm_destroy(vm);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_cycles(void **state)
{
	static struct console con;
	const char *env = getenv("HVLIB_CYCLES");
	int cycles = env ? atoi(env) : DEFAULT_CYCLES;
	int fds0, threads0;
	long rss0, rss1;
	struct paths p;
	double t0, t1;

	(void)state;
	guest_console_init(&con);
	make_paths(&p);
	for (int i = 0; i < WARMUP_CYCLES; i++)
		one_cycle(&p, i, &con);
	fds0 = count_open_fds();
	threads0 = count_threads();
	rss0 = rss_kib();
	t0 = now_s();
	for (int i = 0; i < cycles; i++)
		one_cycle(&p, i, &con);
	t1 = now_s();
	rss1 = rss_kib();
	printf("cycles: %d micro-VMs (2 vCPUs, blk, rng, balloon, console; %d run) in %.2f s "
	       "(%.2f ms each); fds %d -> %d, threads %d -> %d, RSS %ld -> %ld KiB (%+ld)\n",
	       cycles, (cycles + RUN_EVERY - 1) / RUN_EVERY, t1 - t0, (t1 - t0) * 1e3 / cycles,
	       fds0, count_open_fds(), threads0, count_threads(), rss0, rss1, rss1 - rss0);
	assert_int_equal(count_open_fds(), fds0);
	assert_int_equal(count_threads(), threads0);
#if RSS_CHECKED
	assert_true(rss1 - rss0 < RSS_BOUND_KIB);
#else
	printf("cycles: RSS bound not checked under AddressSanitizer (its quarantine keeps "
	       "freed memory); LeakSanitizer checks for leaks at exit\n");
#endif
	unlink(p.kernel);
	unlink(p.disk);
	rmdir(p.dir);
}

/* Console runs: the guest writes 300 bytes (5 lines) byte by byte to the
 * UART; the micro-VM's console_fn gets them byte-exact in a few calls. */
struct counted {
	struct console con;
	int calls;
};

static void counted_fn(void *opaque, const uint8_t *buf, size_t len)
{
	struct counted *c = opaque;

	__atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
	guest_console_fn(&c->con, buf, len);
}

static void test_console_runs(void **state)
{
	static struct counted c;
	struct hv_microvm_config cfg;
	struct hv_microvm_status st;
	struct hv_microvm *vm;
	char msg[301];
	struct paths p;

	(void)state;
	for (int i = 0; i < 300; i++)
		msg[i] = (i % 60 == 59) ? '\n' : (char)('a' + i % 26);
	msg[300] = '\0';
	guest_console_init(&c.con);
	make_paths(&p);
	assert_int_equal(pvh_guest_write_uart(p.kernel, msg, 300), 0);
	hv_microvm_config_init(&cfg);
	cfg.kernel = p.kernel;
	cfg.mem_bytes = 32 << 20;
	cfg.console_fn = counted_fn;
	cfg.console_opaque = &c;
	cfg.flags = HV_MICROVM_F_SECCOMP; /* the UART's timer on filtered threads */
	if (hv_microvm_create(&cfg, &vm))
		fail_msg("hv_microvm_create: %s", hv_last_error());
	assert_int_equal(hv_microvm_start(vm), 0);
	assert_int_equal(hv_microvm_wait(vm, 10000, &st), 0);
	assert_int_equal(st.reason, HV_STOP_REBOOT);
	hv_microvm_destroy(vm);
	printf("console: 300 bytes in %d callback calls\n", c.calls);
	assert_int_equal(c.con.len, 300);
	assert_memory_equal(c.con.buf, msg, 300);
	assert_true(c.calls <= 30); /* 5 lines; idle or hold flushes on a slow host */
	unlink(p.kernel);
	unlink(p.disk);
	rmdir(p.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_runs),
		cmocka_unit_test(test_cycles),
	};

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("SKIP: /dev/kvm unavailable\n");
		return 77;
	}
	return cmocka_run_group_tests_name("kvm_cycles", tests, keep_one_vm_open, close_kept_vm);
}
