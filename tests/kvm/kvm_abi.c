/* SPDX-License-Identifier: MIT */
/*
 * An "old" caller on a real VM: hv_vm_config and hv_mem_region_config as an
 * older header declared them (truncated at the end), with their sizes.  The
 * VM is created, gets RAM and runs a guest; the fields the caller lacks
 * take their defaults (see tests/unit/test_abi_growth.c for the rest).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/guest_util.h"

/* hv_vm_config without kick_signal and reserved. */
struct old_vm_config {
	uint32_t size;
	uint32_t flags;
	const char *kvm_path;
	hv_log_fn log_fn;
	void *log_opaque;
	uint32_t log_level;
	uint32_t unclaimed_io;
};
_Static_assert(offsetof(struct old_vm_config, unclaimed_io) ==
	       offsetof(struct hv_vm_config, unclaimed_io), "old VM config drifted");
_Static_assert(sizeof(struct old_vm_config) < sizeof(struct hv_vm_config), "not shorter");

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

static void test_old_caller_runs_a_guest(void **state)
{
	static const uint8_t hlt[] = { 0xf4 };
	struct old_vm_config vc = { .size = sizeof(vc) };
	struct old_region_config rc = {
		.size = sizeof(rc), .backing = HV_MEM_ANON, .fd = -1, .bytes = GUEST_RAM,
	};
	struct hv_vcpu *vcpu;
	struct hv_exit exit;
	struct hv_vm *vm;
	uint32_t id;
	int ret;

	(void)state;
	ret = hv_vm_create((const void *)&vc, &vm);
	if (ret == -ENOENT || ret == -EACCES)
		skip();
	assert_int_equal(ret, 0);
	assert_int_equal(hv_mem_add_region(hv_vm_mem(vm), (const void *)&rc, &id), 0);
	assert_int_equal(hv_mem_write(hv_vm_mem(vm), GUEST_CODE, hlt, sizeof(hlt)), 0);
	assert_int_equal(hv_vcpu_create(vm, 0, &vcpu), 0);
	assert_int_equal(hv_x86_setup_real_mode(vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_run(vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_HLT);
	/* kick_signal took its default: a kick reaches the vCPU. */
	assert_int_equal(hv_vcpu_kick(vcpu), 0);
	hv_vcpu_destroy(vcpu);
	hv_vm_destroy(vm);
}

/* A newer caller's config with a field this hvlib does not know, set. */
static void test_new_caller_nonzero_tail_refused(void **state)
{
	struct {
		struct hv_vm_config cfg;
		uint32_t future;
		uint32_t pad;
	} nc;
	struct hv_vm *vm = (struct hv_vm *)&vm;

	(void)state;
	memset(&nc, 0, sizeof(nc));
	hv_vm_config_init(&nc.cfg);
	nc.cfg.size = sizeof(nc);
	nc.future = 1;
	assert_int_equal(hv_vm_create(&nc.cfg, &vm), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "is not 0"));
	assert_null(vm);
	nc.future = 0;
	if (hv_vm_create(&nc.cfg, &vm) == -ENOENT)
		skip();
	assert_non_null(vm);
	hv_vm_destroy(vm);
}

/* A VM without RAM cannot run; KVM's errno alone ("No space left on device"
 * on some hosts) does not say why. */
static void test_run_without_ram_says_so(void **state)
{
	struct hv_vcpu *vcpu;
	struct hv_exit exit;
	struct hv_vm *vm;

	(void)state;
	if (hv_vm_create(NULL, &vm) == -ENOENT)
		skip();
	assert_non_null(vm);
	assert_int_equal(hv_vcpu_create(vm, 0, &vcpu), 0);
	assert_int_equal(hv_x86_setup_real_mode(vcpu, 0, GUEST_CODE), 0);
	if (hv_vcpu_run(vcpu, &exit) < 0) /* some KVMs report an MMIO exit instead */
		assert_non_null(strstr(hv_last_error(), "the VM has no guest RAM"));
	hv_vcpu_destroy(vcpu);
	hv_vm_destroy(vm);
}

/* A port the guest writes to power off: the callback stops its own vCPU. */
static int poweroff_port(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			 uint64_t *value)
{
	(void)offset;
	(void)width;
	(void)value;
	return is_write ? hv_vcpu_stop(opaque) : 0;
}

/* What bus.h documents: hv_vcpu_stop() from a device callback ends a managed
 * vCPU with HV_EXIT_STOP, though the guest would spin on. */
static void test_device_stops_its_vcpu(void **state)
{
	static const uint8_t code[] = { 0xb0, 0x41, 0xe6, 0x10, 0xeb, 0xfe }; /* out; jmp $ */
	struct hv_mem_region_config rc;
	struct hv_vcpu *vcpu;
	struct hv_exit exit;
	struct hv_vm *vm;

	(void)state;
	if (hv_vm_create(NULL, &vm) == -ENOENT)
		skip();
	assert_non_null(vm);
	hv_mem_region_config_init(&rc);
	rc.bytes = GUEST_RAM;
	assert_int_equal(hv_mem_add_region(hv_vm_mem(vm), &rc, NULL), 0);
	assert_int_equal(hv_mem_write(hv_vm_mem(vm), GUEST_CODE, code, sizeof(code)), 0);
	assert_int_equal(hv_vcpu_create(vm, 0, &vcpu), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(vm, HV_BUS_PIO), 0x10, 1, poweroff_port, vcpu,
					 "poweroff", NULL), 0);
	assert_int_equal(hv_x86_setup_real_mode(vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_start(vcpu, NULL, NULL), 0);
	assert_int_equal(hv_vcpu_join(vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_STOP);
	hv_vcpu_destroy(vcpu);
	hv_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_without_ram_says_so),
		cmocka_unit_test(test_device_stops_its_vcpu),
		cmocka_unit_test(test_old_caller_runs_a_guest),
		cmocka_unit_test(test_new_caller_nonzero_tail_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
