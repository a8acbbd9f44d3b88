/* SPDX-License-Identifier: MIT */
/*
 * VM creation failing cleanly before (or instead of) talking to KVM: bad
 * configs, missing or unusable device nodes.  Needs no /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "unit/unit_util.h"

/* hv_vm_create() must fail with want, set *out = NULL, and leak no fd. */
static void expect_create_fails(const struct hv_vm_config *cfg, int want, const char *needle)
{
	struct hv_vm *vm = (struct hv_vm *)&vm;
	int fds = count_open_fds();

	expect_err(hv_vm_create(cfg, &vm), want, needle);
	assert_null(vm);
	assert_int_equal(count_open_fds(), fds);
}

static void test_vm_config_init(void **state)
{
	struct hv_vm_config cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	hv_vm_config_init(&cfg);
	assert_int_equal(cfg.size, sizeof(cfg));
	assert_int_equal(cfg.flags, 0);
	assert_null(cfg.kvm_path);
	assert_null(cfg.log_fn);
	assert_null(cfg.log_opaque);
	assert_int_equal(cfg.log_level, HV_LOG_INFO);
	assert_int_equal(cfg.unclaimed_io, HV_UNCLAIMED_IGNORE);
	assert_int_equal(cfg.kick_signal, 0);
	assert_int_equal(cfg.reserved, 0);
	hv_vm_destroy(NULL); /* no-op */
}

static void test_mem_config_init(void **state)
{
	struct hv_mem_region_config cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	hv_mem_region_config_init(&cfg);
	assert_int_equal(cfg.size, sizeof(cfg));
	assert_int_equal(cfg.flags, 0);
	assert_int_equal(cfg.backing, HV_MEM_ANON);
	assert_int_equal(cfg.fd, -1);
	assert_int_equal(cfg.gpa, 0);
	assert_int_equal(cfg.bytes, 0);
	assert_int_equal(cfg.fd_offset, 0);
	assert_null(cfg.host_addr);
	assert_null(cfg.name);
}

static void test_bad_config(void **state)
{
	struct hv_vm_config cfg;
	char path[80];

	(void)state;
	hv_vm_config_init(&cfg);
	cfg.size = sizeof(cfg) - 1;
	expect_create_fails(&cfg, -EINVAL, "hv_vm_config_init");
	cfg.size = 0;
	expect_create_fails(&cfg, -EINVAL, "size 0");
	cfg.size = sizeof(cfg);

	cfg.flags = 1u << 2; /* the first bit past HV_VM_F_ALL */
	expect_create_fails(&cfg, -EINVAL, "unknown flags 0x4");
	cfg.flags = HV_VM_F_IRQCHIP | 1u << 31;
	expect_create_fails(&cfg, -EINVAL, "unknown flags 0x80000000");
	cfg.flags = 0;

	cfg.unclaimed_io = HV_UNCLAIMED_FAIL + 1;
	expect_create_fails(&cfg, -EINVAL, "unclaimed-I/O policy 3");
	cfg.unclaimed_io = UINT32_MAX;
	expect_create_fails(&cfg, -EINVAL, "policy");
	cfg.unclaimed_io = HV_UNCLAIMED_IGNORE;

	/* kvm_path: 63 bytes is the limit, 64 is refused before any open(). */
	memset(path, 'k', sizeof(path));
	path[0] = '/';
	path[64] = '\0';
	cfg.kvm_path = path;
	expect_create_fails(&cfg, -EINVAL, "kvm_path longer than 63");
	path[63] = '\0';
	expect_create_fails(&cfg, -ENOENT, path); /* long but legal: now it is looked up */
}

static void test_missing_device(void **state)
{
	struct hv_vm_config cfg;

	(void)state;
	hv_vm_config_init(&cfg);
	cfg.kvm_path = "/nonexistent/hvlib-test/kvm";
	expect_create_fails(&cfg, -ENOENT, "/nonexistent/hvlib-test/kvm");
	assert_non_null(strstr(hv_last_error(), "with-kvm")); /* says what to do */
}

static void test_default_path(void **state)
{
	struct hv_vm *vm = NULL;
	int ret;

	(void)state;
	/* cfg NULL means defaults and /dev/kvm; usable or not, no crash. */
	ret = hv_vm_create(NULL, &vm);
	if (ret == 0) {
		hv_vm_destroy(vm);
		return;
	}
	assert_true(ret < 0);
	assert_non_null(strstr(hv_last_error(), "/dev/kvm"));
	if (access("/dev/kvm", F_OK) != 0)
		expect_ret(ret, -ENOENT);
}

/* What an unreadable device node yields, run as the current user. */
static int create_with_path(const char *path)
{
	struct hv_vm_config cfg;
	struct hv_vm *vm = NULL;

	hv_vm_config_init(&cfg);
	cfg.kvm_path = path;
	return hv_vm_create(&cfg, &vm);
}

static void test_permission_denied(void **state)
{
	char path[] = "/tmp/hvlib-unit-kvm-XXXXXX";
	int fd = mkstemp(path), status;
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		expect_err(create_with_path(path), -EACCES, "group kvm");
		assert_non_null(strstr(hv_last_error(), path));
		unlink(path);
		return;
	}
	/* Root ignores file modes.  Try as "nobody" in a child; skip if even
	 * that is impossible (no CAP_SETUID in this container). */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(77);
		if (create_with_path(path) != -EACCES)
			_exit(1);
		if (!strstr(hv_last_error(), "group kvm") || !strstr(hv_last_error(), path))
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("running as root and cannot drop privileges: skipping\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_not_kvm(void **state)
{
	struct hv_vm_config cfg;
	char path[] = "/tmp/hvlib-unit-notkvm-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	hv_vm_config_init(&cfg);

	/* Devices and files that open fine but answer no KVM ioctl. */
	cfg.kvm_path = "/dev/null";
	expect_create_fails(&cfg, -ENOTSUP, "/dev/null");
	cfg.kvm_path = path;
	expect_create_fails(&cfg, -ENOTSUP, path);
	unlink(path);
	/* A directory cannot be opened read-write at all. */
	cfg.kvm_path = "/tmp";
	expect_create_fails(&cfg, -EISDIR, "/tmp");
	cfg.kvm_path = "";
	expect_create_fails(&cfg, -ENOENT, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_config_init),
		cmocka_unit_test(test_mem_config_init),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_missing_device),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_not_kvm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
