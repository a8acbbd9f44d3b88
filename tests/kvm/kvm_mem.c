/* SPDX-License-Identifier: MIT */
/* Guest memory for real: every backing seen by the guest, ROM, dirty log. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm/guest_util.h"


static void run_prot_reading(struct fixture *f, uint64_t expect)
{
	struct io_log port = { 0 };
	struct hv_exit exit;
	uint32_t handle;

	assert_int_equal(hv_bus_register(hv_vm_bus(f->vm, HV_BUS_PIO), 0x10, 8, io_log_fn, &port,
					 "out", &handle), 0);
	assert_int_equal(hv_x86_setup_protected_mode(f->vcpu, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_run(f->vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_HLT);
	assert_int_equal(port.last_value, expect);
	assert_int_equal(hv_bus_unregister(hv_vm_bus(f->vm, HV_BUS_PIO), handle), 0);
}

/* The protected-mode guest reads the dword at 0x2000; back that page with
 * each kind of memory in turn and check the guest sees what the host wrote. */
static void test_backings_visible_to_guest(void **state)
{
	struct hv_mem_region_config rc;
	struct hv_mem_region_info info;
	char path[] = "/tmp/hvlib-kvm-mem-XXXXXX";
	uint32_t value = 0x600df11e, ids[8];
	struct fixture f;
	uint32_t id;
	void *host;
	int fd;

	(void)state;
	fixture_setup(&f, NULL, &guest_prot);
	/* Replace the fixture's 2 MiB RAM by: code page, then a separate page
	 * at 0x2000 with various backings. */
	assert_int_equal(hv_mem_regions(f.mem, ids, 8), 1);
	uint8_t code[4096];
	memcpy(code, f.ram + GUEST_CODE, sizeof(code));
	assert_int_equal(hv_mem_remove_region(f.mem, ids[0]), 0);
	hv_mem_region_config_init(&rc);
	rc.gpa = 0;
	rc.bytes = 0x2000;
	assert_int_equal(hv_mem_add_region(f.mem, &rc, &id), 0);
	assert_int_equal(hv_mem_write(f.mem, GUEST_CODE, code, sizeof(code)), 0);

	/* memfd */
	rc.gpa = 0x2000;
	rc.bytes = 0x1000;
	rc.backing = HV_MEM_MEMFD;
	assert_int_equal(hv_mem_add_region(f.mem, &rc, &id), 0);
	assert_int_equal(hv_mem_region_info(f.mem, id, &info), 0);
	assert_true(info.fd >= 0);
	assert_int_equal(pwrite(info.fd, &value, 4, 0), 4); /* through the fd, not the map */
	run_prot_reading(&f, value);
	assert_int_equal(hv_mem_remove_region(f.mem, id), 0);

	/* file, shared */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	value = 0xf11ef11e;
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(pwrite(fd, &value, 4, 0), 4);
	rc.backing = HV_MEM_FILE;
	rc.fd = fd;
	assert_int_equal(hv_mem_add_region(f.mem, &rc, &id), 0);
	run_prot_reading(&f, value);
	assert_int_equal(hv_mem_remove_region(f.mem, id), 0);
	close(fd);

	/* caller's own mapping */
	host = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(host != MAP_FAILED);
	value = 0x0c0ffee0;
	memcpy(host, &value, 4);
	rc.backing = HV_MEM_HOST;
	rc.fd = -1;
	rc.host_addr = host;
	assert_int_equal(hv_mem_add_region(f.mem, &rc, &id), 0);
	run_prot_reading(&f, value);
	assert_int_equal(hv_mem_remove_region(f.mem, id), 0);
	munmap(host, 4096);
	fixture_teardown(&f);
}

/* A guest write into a read-only region exits as MMIO instead of landing. */
static void test_rom_write_exits(void **state)
{
	struct hv_mem_region_config rc;
	struct io_log rom_writes = { 0 };
	uint8_t before[16], after[16];
	struct hv_exit exit;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_real); /* writes 0x5a to 0xd0000 */
	hv_mem_region_config_init(&rc);
	rc.gpa = GUEST_MMIO;
	rc.bytes = 0x1000;
	rc.flags = HV_MEM_F_READONLY;
	rc.name = "rom";
	assert_int_equal(hv_mem_add_region(f.mem, &rc, NULL), 0);
	assert_int_equal(hv_mem_write(f.mem, GUEST_MMIO, "ROMROMROMROMROM", 16), 0);
	assert_int_equal(hv_mem_read(f.mem, GUEST_MMIO, before, 16), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_MMIO), GUEST_MMIO, 0x1000,
					 io_log_fn, &rom_writes, "rom-writes", NULL), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_run(f.vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_HLT);
	assert_int_equal(rom_writes.writes, 1);
	assert_int_equal(rom_writes.last_value, 0x5a);
	assert_int_equal(rom_writes.reads, 0); /* reads came from the ROM itself */
	assert_int_equal(hv_mem_read(f.mem, GUEST_MMIO, after, 16), 0);
	assert_memory_equal(before, after, 16);
	fixture_teardown(&f);
}

static void test_dirty_log(void **state)
{
	struct hv_mem_region_config rc;
	uint64_t bitmap[1] = { 0 };
	uint16_t mask = 0x0085; /* pages 0, 2, 7 of the logged region */
	struct hv_exit exit;
	struct fixture f;
	uint32_t id;

	(void)state;
	fixture_setup(&f, NULL, &guest_dirty);
	/* The logged region: 8 pages at 0x200000 would be outside real-mode
	 * reach, so the guest writes 0x3000.. inside a separate region. */
	uint32_t ids[4];
	assert_int_equal(hv_mem_regions(f.mem, ids, 4), 1);
	uint8_t code[4096];
	memcpy(code, f.ram + GUEST_CODE, sizeof(code));
	assert_int_equal(hv_mem_remove_region(f.mem, ids[0]), 0);
	hv_mem_region_config_init(&rc);
	rc.bytes = 0x3000;
	assert_int_equal(hv_mem_add_region(f.mem, &rc, NULL), 0);
	assert_int_equal(hv_mem_write(f.mem, GUEST_CODE, code, sizeof(code)), 0);
	assert_int_equal(hv_mem_write(f.mem, 0x2000, &mask, sizeof(mask)), 0);
	rc.gpa = 0x3000;
	rc.bytes = 0x8000;
	rc.name = "logged";
	assert_int_equal(hv_mem_add_region(f.mem, &rc, &id), 0);

	assert_int_equal(hv_mem_get_dirty_log(f.mem, id, bitmap, sizeof(bitmap)), -EINVAL);
	assert_int_equal(hv_mem_set_dirty_log(f.mem, id, true), 0);
	assert_int_equal(hv_mem_get_dirty_log(f.mem, id, bitmap, 0), -EINVAL);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_run(f.vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_HLT);
	assert_int_equal(hv_mem_get_dirty_log(f.mem, id, bitmap, sizeof(bitmap)), 0);
	assert_int_equal(bitmap[0], 0x85);
	/* Fetching clears: nothing new since. */
	assert_int_equal(hv_mem_get_dirty_log(f.mem, id, bitmap, sizeof(bitmap)), 0);
	assert_int_equal(bitmap[0], 0);
	/* The guest wrote byte values 1, 3, 8 to the first byte of each page. */
	uint8_t b;
	assert_int_equal(hv_mem_read(f.mem, 0x3000 + 7 * 0x1000, &b, 1), 0);
	assert_int_equal(b, 8);
	assert_int_equal(hv_mem_set_dirty_log(f.mem, id, false), 0);
	fixture_teardown(&f);
}

/* A region the guest used can go away; its accesses then exit as MMIO. */
static void test_removed_region_becomes_mmio(void **state)
{
	struct io_log hole = { .read_value = 0x99 };
	struct hv_mem_region_config rc;
	struct hv_exit exit;
	struct fixture f;
	uint32_t id;

	(void)state;
	fixture_setup(&f, NULL, &guest_real);
	hv_mem_region_config_init(&rc);
	rc.gpa = GUEST_MMIO;
	rc.bytes = 0x1000;
	assert_int_equal(hv_mem_add_region(f.mem, &rc, &id), 0);
	assert_int_equal(hv_mem_remove_region(f.mem, id), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_MMIO), GUEST_MMIO, 0x1000,
					 io_log_fn, &hole, "hole", NULL), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_run(f.vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_HLT);
	assert_int_equal(hole.writes, 1);
	assert_int_equal(hole.reads, 1);
	fixture_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backings_visible_to_guest),
		cmocka_unit_test(test_rom_write_exits),
		cmocka_unit_test(test_dirty_log),
		cmocka_unit_test(test_removed_region_becomes_mmio),
	};
	return cmocka_run_group_tests_name("kvm_mem", tests, keep_one_vm_open, close_kept_vm);
}
