/* SPDX-License-Identifier: MIT */
/*
 * Config structs that grow (src/util/config.h): an "old" caller built against
 * a header whose struct was shorter still works, the fields it lacks take
 * their *_init() defaults; a "new" caller's longer struct is accepted only
 * while the bytes this hvlib does not know are 0.  The old structs here are
 * truncated copies of today's, as an older header would have declared them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "unit/unit_util.h"
#include "util/config.h"

/* hv_serial_config as if it had ended after `output`: output_fd and
 * output_timeout_ms must come out as -1 and 1000, not 0 (stdin, never wait). */
struct old_serial_config {
	uint32_t size;
	uint32_t flags;
	hv_serial_output_fn output;
};

/* hv_mem_region_config without host_addr and name. */
struct old_region_config {
	uint32_t size;
	uint32_t flags;
	uint32_t backing;
	int32_t fd;
	uint64_t gpa;
	uint64_t bytes;
	uint64_t fd_offset;
};

/* hv_microvm_disk without serial, and hv_microvm_config up to reserved. */
struct old_disk {
	uint32_t size;
	uint32_t flags;
	const char *path;
};

struct old_microvm_config {
	uint32_t size;
	uint32_t flags;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t mem_bytes;
	uint32_t nr_vcpus;
	int32_t console_out_fd;
	hv_microvm_console_fn console_fn;
	void *console_opaque;
	const uint32_t *pin_cpus;
	uint32_t nr_pin_cpus;
	uint32_t log_level;
	hv_log_fn log_fn;
	void *log_opaque;
	const struct old_disk *disks;
	uint32_t nr_disks;
	uint32_t reserved;
};

/* The same fields at the same offsets as today's: what "truncated" means. */
_Static_assert(offsetof(struct old_microvm_config, reserved) ==
	       offsetof(struct hv_microvm_config, reserved), "old micro-VM config drifted");
_Static_assert(offsetof(struct old_region_config, fd_offset) ==
	       offsetof(struct hv_mem_region_config, fd_offset), "old region config drifted");
_Static_assert(sizeof(struct old_disk) < sizeof(struct hv_microvm_disk), "old disk not shorter");

/* A caller built against a newer header: one more field behind today's. */
struct new_region_config {
	struct hv_mem_region_config cfg;
	uint64_t future;
};

static void test_older_size_takes_defaults(void **state)
{
	struct old_serial_config old = { .size = sizeof(old) };
	struct hv_serial_config c;
	struct hv_serial *s;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	expect_ret(HV_CFG_LOAD(&c, &old, hv_serial_config_init, "UART config"), 0);
	assert_int_equal(c.size, sizeof(c));
	assert_int_equal(c.output_fd, -1);
	assert_int_equal(c.output_timeout_ms, 1000);
	assert_null(c.set_irq);
	/* And through the public call, reinterpreted as the old header's type. */
	expect_ret(hv_serial_create((const struct hv_serial_config *)(const void *)&old, &s), 0);
	hv_serial_destroy(s);
}

static void test_older_region_config_works(void **state)
{
	struct old_region_config old = {
		.size = sizeof(old), .backing = HV_MEM_ANON, .fd = -1, .gpa = 0x10000,
		.bytes = 0x2000,
	};
	struct hv_mem_region_info info;
	struct hv_mem *mem;
	uint32_t id;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	expect_ret(hv_mem_add_region(mem, (const void *)&old, &id), 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_int_equal(info.gpa, 0x10000);
	assert_int_equal(info.bytes, 0x2000);
	assert_int_equal(info.backing, HV_MEM_ANON);
	hv_mem_destroy(mem);
}

static void test_newer_size_needs_zero_tail(void **state)
{
	struct new_region_config nc;
	struct hv_mem *mem;
	char want[128];
	uint32_t id;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	memset(&nc, 0, sizeof(nc));
	hv_mem_region_config_init(&nc.cfg);
	nc.cfg.size = sizeof(nc);
	nc.cfg.bytes = 0x1000;
	expect_ret(hv_mem_add_region(mem, &nc.cfg, &id), 0); /* unknown but zero */
	nc.cfg.gpa = 0x1000;
	nc.future = 0x100; /* byte 1 of the field this hvlib does not know */
	snprintf(want, sizeof(want), "size %zu is larger than this hvlib's %zu and byte %zu is "
		 "not 0", sizeof(nc), sizeof(nc.cfg), offsetof(struct new_region_config, future) + 1);
	expect_err(hv_mem_add_region(mem, &nc.cfg, &id), -EINVAL, want);
	hv_mem_destroy(mem);
}

static void test_bad_sizes(void **state)
{
	struct hv_vm_config c;
	struct hv_vm *vm = (struct hv_vm *)&vm;

	(void)state;
	hv_vm_config_init(&c);
	c.size = 0;
	expect_err(hv_vm_create(&c, &vm), -EINVAL, "size 0 is smaller than 8");
	assert_null(vm); /* every create sets *out = NULL on failure */
	c.size = 6;
	expect_err(hv_vm_create(&c, &vm), -EINVAL, "size 6 is smaller than 8");
	c.size = 42;
	expect_err(hv_vm_create(&c, &vm), -EINVAL, "size 42 is not a multiple of 4");
	c.size = 0xdeadbeef;
	expect_err(hv_vm_create(&c, &vm), -EINVAL, "larger than any hvlib struct");
	hv_vm_config_init(&c);
	c.reserved = 1;
	expect_err(hv_vm_create(&c, &vm), -EINVAL, "VM config: reserved is 0x1, must be 0");
	expect_err(hv_vm_create(&c, NULL), -EINVAL, "hv_vm_create: out is NULL");
	expect_err(hv_microvm_create(NULL, (struct hv_microvm **)(void *)&vm), -EINVAL,
		   "micro-VM config is NULL");
	assert_null(vm);
}

/* The disks are indexed by the caller's (older, shorter) element size: disk 1
 * is found where the caller put it, and its own fields are read. */
static void test_array_stride_is_callers(void **state)
{
	struct old_disk disks[2] = {
		{ .size = sizeof(struct old_disk), .path = "/nonexistent/a.img" },
		{ .size = sizeof(struct old_disk), .flags = 0x80, .path = "/nonexistent/b.img" },
	};
	struct old_microvm_config old = {
		.size = sizeof(old), .kernel = "/nonexistent/vmlinuz", .console_out_fd = -1,
		.disks = disks, .nr_disks = 2,
	};
	struct hv_microvm *m;

	(void)state;
	expect_err(hv_microvm_create((const void *)&old, &m), -EINVAL,
		   "disk 1: unknown flags 0x80");
	assert_null(m);
	disks[1].flags = 0;
	disks[1].path = NULL;
	expect_err(hv_microvm_create((const void *)&old, &m), -EINVAL, "disk 1: no path");
	disks[1].size = sizeof(struct hv_microvm_disk);
	expect_err(hv_microvm_create((const void *)&old, &m), -EINVAL,
		   "disks[1]: size 24 differs from");
	disks[0].size = 0;
	expect_err(hv_microvm_create((const void *)&old, &m), -EINVAL,
		   "size 0 is smaller than 8 (call hv_microvm_disk_init())");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_older_size_takes_defaults),
		cmocka_unit_test(test_older_region_config_works),
		cmocka_unit_test(test_newer_size_needs_zero_tail),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_array_stride_is_callers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
