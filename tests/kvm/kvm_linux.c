/* SPDX-License-Identifier: MIT */
/*
 * Debian's stock kernel booted for real through the micro-VM layer: bzImage
 * and PVH entry, vCPU count and memory seen by the guest, power-off, reboot,
 * console input, two VMs at once, and a bad kernel file.
 * Guest material comes from tests/linux (HVLIB_GUEST_DIR).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "kvm/guest_util.h"

#define BOOT_TIMEOUT_MS (300 * 1000) /* nested KVM under TCG is slow */

struct boot {
	const char *mode;
	uint32_t flags;
	uint32_t cpus;
	uint64_t mem;
	struct console con;
	struct hv_microvm_status status;
	int ret;
};

static char kernel[512], initrd[512];

static int create(struct boot *b, struct hv_microvm **vm)
{
	struct hv_microvm_config cfg;
	char cmdline[256];

	/* No reboot=: a reboot takes the kernel's default path, as a user's
	 * guest would (on this hardware-reduced ACPI platform: reboot=efi,
	 * then bios, which lands on the platform's reset vector stub). */
	const char *extra = getenv("HVLIB_TEST_CMDLINE"); /* e.g. to drop quiet */

	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 %s panic=-1 hvtest=%s",
		 extra ? extra : "quiet", b->mode);
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.initrd = initrd;
	cfg.cmdline = cmdline;
	cfg.flags = b->flags | HV_MICROVM_F_SECCOMP; /* boots run confined */
	cfg.nr_vcpus = b->cpus;
	cfg.mem_bytes = b->mem;
	cfg.console_fn = guest_console_fn;
	cfg.console_opaque = &b->con;
	guest_console_init(&b->con);
	return hv_microvm_create(&cfg, vm);
}

static void *boot_thread(void *arg)
{
	struct boot *b = arg;
	struct hv_microvm *vm = NULL;

	b->ret = create(b, &vm);
	if (!b->ret)
		b->ret = hv_microvm_start(vm);
	if (!b->ret)
		b->ret = hv_microvm_wait(vm, BOOT_TIMEOUT_MS, &b->status);
	if (b->ret)
		fprintf(stderr, "boot %s: %s\n", b->mode, hv_last_error());
	if (b->ret == -ETIMEDOUT)
		guest_dump_stuck(vm, b->cpus, &b->con, b->mode);
	hv_microvm_destroy(vm);
	return NULL;
}

static void boot_and_check(struct boot *b, uint32_t reason)
{
	boot_thread(b);
	if (b->ret || b->status.reason != reason) {
		fprintf(stderr, "---- guest console ----\n%s\n-----------------------\n", b->con.buf);
		fail_msg("boot %s: ret %d, stopped by %s (%s), expected %s", b->mode, b->ret,
			 hv_stop_reason_name(b->status.reason), b->status.message,
			 hv_stop_reason_name(reason));
	}
}

static void check_cpus_and_memory(struct boot *b)
{
	const char *line = strstr(b->con.buf, "HVLIB-CHECK");
	unsigned cpus = 0;
	unsigned long mem_kb = 0;

	assert_non_null(line);
	assert_int_equal(sscanf(line, "HVLIB-CHECK cpus=%u mem_kb=%lu", &cpus, &mem_kb), 2);
	assert_int_equal(cpus, b->cpus);
	/* MemTotal is RAM minus what the kernel keeps for itself (its image,
	 * page structures, the initramfs while unpacked): a few tens of MiB
	 * whatever the RAM size, so allow 64 MiB below, never more than RAM. */
	if (mem_kb > b->mem / 1024 || mem_kb < b->mem / 1024 - 64 * 1024)
		fail_msg("the guest sees %lu KiB of RAM, configured %llu KiB", mem_kb,
			 (unsigned long long)(b->mem / 1024));
}

static void test_boot_bzimage_smp(void **state)
{
	struct boot *b = calloc(1, sizeof(*b));

	(void)state;
	*b = (struct boot){ .mode = "check", .cpus = 2, .mem = 256ull << 20 };
	boot_and_check(b, HV_STOP_POWEROFF);
	check_cpus_and_memory(b);
	free(b);
}

static void test_boot_pvh(void **state)
{
	struct boot *b = calloc(1, sizeof(*b));

	(void)state;
	*b = (struct boot){ .mode = "check", .flags = HV_MICROVM_F_PVH, .cpus = 1,
			    .mem = 192ull << 20 };
	boot_and_check(b, HV_STOP_POWEROFF);
	check_cpus_and_memory(b);
	free(b);
}

static void test_boot_reboot(void **state)
{
	struct boot *b = calloc(1, sizeof(*b));

	(void)state;
	*b = (struct boot){ .mode = "reboot", .cpus = 1, .mem = 128ull << 20 };
	boot_and_check(b, HV_STOP_REBOOT);
	assert_true(guest_console_has(&b->con, "HVLIB-REBOOTING"));
	free(b);
}

static void test_live_console_input(void **state)
{
	static const char line[] = "hello-from-the-host\n";
	struct boot *b = calloc(1, sizeof(*b));
	struct hv_microvm *vm = NULL;
	size_t sent = 0;

	(void)state;
	*b = (struct boot){ .mode = "echo", .cpus = 1, .mem = 128ull << 20 };
	assert_int_equal(create(b, &vm), 0);
	assert_int_equal(hv_microvm_start(vm), 0);
	for (int i = 0; i < BOOT_TIMEOUT_MS / 10 && !guest_console_has(&b->con, "HVLIB-READY"); i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (!guest_console_has(&b->con, "HVLIB-READY"))
		guest_dump_stuck(vm, b->cpus, &b->con, b->mode);
	assert_true(guest_console_has(&b->con, "HVLIB-READY"));
	while (sent < sizeof(line) - 1) {
		struct timespec ts = { 0, 1000000L };

		sent += hv_microvm_console_input(vm, (const uint8_t *)line + sent,
						 sizeof(line) - 1 - sent);
		nanosleep(&ts, NULL);
	}
	b->ret = hv_microvm_wait(vm, BOOT_TIMEOUT_MS, &b->status);
	if (b->ret)
		guest_dump_stuck(vm, b->cpus, &b->con, b->mode);
	assert_int_equal(b->ret, 0);
	assert_int_equal(b->status.reason, HV_STOP_POWEROFF);
	assert_true(guest_console_has(&b->con, "HVLIB-GOT:hello-from-the-host"));
	hv_microvm_destroy(vm);
	free(b);
}

static void test_live_two_vms_at_once(void **state)
{
	struct boot *b = calloc(2, sizeof(*b));
	pthread_t t[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		b[i] = (struct boot){ .mode = "check", .cpus = 1, .mem = (128ull + 64 * i) << 20 };
		assert_int_equal(pthread_create(&t[i], NULL, boot_thread, &b[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		if (b[i].ret || b[i].status.reason != HV_STOP_POWEROFF)
			fprintf(stderr, "---- VM %d: ret %d, %s ----\n%s\n", i, b[i].ret,
				b[i].status.message, b[i].con.buf);
		assert_int_equal(b[i].ret, 0);
		assert_int_equal(b[i].status.reason, HV_STOP_POWEROFF);
		check_cpus_and_memory(&b[i]);
	}
	free(b);
}

static void test_boot_bad_kernel(void **state)
{
	struct hv_microvm_config cfg;
	struct hv_microvm *vm = NULL;

	(void)state;
	hv_microvm_config_init(&cfg);
	cfg.kernel = initrd; /* a cpio archive is not a kernel */
	assert_int_equal(hv_microvm_create(&cfg, &vm), -ENOEXEC);
	assert_non_null(strstr(hv_last_error(), initrd));
	assert_null(vm);
	cfg.kernel = "/nonexistent/vmlinuz";
	assert_int_equal(hv_microvm_create(&cfg, &vm), -ENOENT);
	assert_non_null(strstr(hv_last_error(), "/nonexistent/vmlinuz"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_bzimage_smp),
		cmocka_unit_test(test_boot_pvh),
		cmocka_unit_test(test_boot_reboot),
		cmocka_unit_test(test_live_console_input),
		cmocka_unit_test(test_live_two_vms_at_once),
		cmocka_unit_test(test_boot_bad_kernel),
	};
	const char *dir = getenv("HVLIB_GUEST_DIR");

	if (!dir) {
		fprintf(stderr, "kvm_linux: HVLIB_GUEST_DIR is not set (run through ctest)\n");
		return 1;
	}
	/* ctest runs the boots in groups (HVLIB_TEST_FILTER), each in its own
	 * emulated machine where with-kvm emulates: fewer guest boots per
	 * machine, and a hang costs one group. */
	if (getenv("HVLIB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("HVLIB_TEST_FILTER"));
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	snprintf(initrd, sizeof(initrd), "%s/test-initrd.cpio.gz", dir);
	return cmocka_run_group_tests_name("kvm_linux", tests, NULL, NULL);
}
