/* SPDX-License-Identifier: MIT */
/* Guests in real, protected and long mode doing port and MMIO I/O, for real. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/guest_util.h"

static void run_to_hlt(struct hv_vcpu *vcpu)
{
	struct hv_exit exit;

	assert_int_equal(hv_vcpu_run(vcpu, &exit), 0);
	if (exit.reason != HV_EXIT_HLT)
		fail_msg("expected HLT, got %s (kvm %u)", hv_exit_reason_name(exit.reason),
			 exit.kvm_reason);
}

static void register_logs(struct fixture *f, struct io_log *port, struct io_log *result,
			  struct io_log *mmio, uint64_t mmio_base)
{
	assert_int_equal(hv_bus_register(hv_vm_bus(f->vm, HV_BUS_PIO), 0x10, 1, io_log_fn, port,
					 "out", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f->vm, HV_BUS_PIO), 0x11, 4, io_log_fn,
					 result, "result", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f->vm, HV_BUS_MMIO), mmio_base, 0x1000,
					 io_log_fn, mmio, "mmio", NULL), 0);
}

static void test_real_mode(void **state)
{
	struct io_log port = { 0 }, result = { 0 }, mmio = { .read_value = 0x77 };
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_real);
	register_logs(&f, &port, &result, &mmio, GUEST_MMIO);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	run_to_hlt(f.vcpu);
	assert_int_equal(port.last_value, 'H');
	assert_int_equal(mmio.writes, 1);
	assert_int_equal(mmio.last_value, 0x5a);
	assert_int_equal(mmio.reads, 1);
	assert_int_equal(mmio.last_offset, 4);
	assert_int_equal(result.last_value, 0x77); /* what the MMIO read returned */
	fixture_teardown(&f);
}

static void test_protected_mode(void **state)
{
	struct io_log port = { 0 };
	uint32_t magic = 0xcafef00d;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_prot);
	memcpy(f.ram + 0x2000, &magic, sizeof(magic));
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x10, 8, io_log_fn, &port,
					 "out", NULL), 0);
	assert_int_equal(hv_x86_setup_protected_mode(f.vcpu, GUEST_CODE), 0);
	run_to_hlt(f.vcpu);
	assert_int_equal(port.writes, 2);
	assert_int_equal(port.last_offset, 1);
	assert_int_equal(port.last_width, 4);
	assert_int_equal(port.last_value, magic);
	fixture_teardown(&f);
}

static void test_long_mode(void **state)
{
	struct io_log port = { 0 }, result = { 0 }, mmio = { .read_value = 0x12345678 };
	struct hv_x86_long_mode lm = { .size = sizeof(lm), .entry = GUEST_CODE,
				       .stack = 0x8000, .scratch_gpa = 0x10000 };
	struct hv_x86_sregs sregs;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_long);
	register_logs(&f, &port, &result, &mmio, GUEST_MMIO64);
	assert_int_equal(hv_x86_setup_long_mode(f.vcpu, &lm), 0);
	assert_int_equal(hv_vcpu_get_sregs(f.vcpu, &sregs), 0);
	assert_true(sregs.efer & (1u << 10)); /* LMA */
	assert_int_equal(sregs.cs.l, 1);
	run_to_hlt(f.vcpu);
	assert_int_equal(port.last_value, 'L');
	assert_int_equal(mmio.last_value, 0xdeadbeef);
	assert_int_equal(mmio.writes, 1);
	assert_int_equal(mmio.reads, 1);
	assert_int_equal(mmio.last_offset, 8);
	assert_int_equal(result.last_value, 0x12345678);
	assert_int_equal(result.last_width, 4);
	fixture_teardown(&f);
}

static void test_long_mode_scratch_outside_ram(void **state)
{
	struct hv_x86_long_mode lm = { .size = sizeof(lm), .entry = GUEST_CODE,
				       .scratch_gpa = GUEST_RAM - 0x1000 };
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_long);
	assert_int_equal(hv_x86_setup_long_mode(f.vcpu, &lm), -EFAULT);
	assert_non_null(strstr(hv_last_error(), "long mode"));
	fixture_teardown(&f);
}

/* With HV_UNCLAIMED_FAIL the caller sees the unclaimed read and answers it. */
static void test_unclaimed_fail_policy(void **state)
{
	struct io_log out = { 0 };
	struct hv_vm_config cfg;
	struct hv_exit exit;
	struct fixture f;

	(void)state;
	hv_vm_config_init(&cfg);
	cfg.unclaimed_io = HV_UNCLAIMED_FAIL;
	fixture_setup(&f, &cfg, &guest_in_out);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x21, 1, io_log_fn, &out,
					 "out", NULL), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_run(f.vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_IO);
	assert_int_equal(exit.handled, 0);
	assert_int_equal(exit.u.io.addr, 0x20);
	assert_int_equal(exit.u.io.is_write, 0);
	assert_int_equal(exit.u.io.value, 0xff);
	assert_int_equal(hv_vcpu_set_io_result(f.vcpu, 0x42), 0);
	run_to_hlt(f.vcpu);
	assert_int_equal(out.last_value, 0x42);
	fixture_teardown(&f);
}

/* Default policy: unclaimed reads see all-ones and the run goes on. */
static void test_unclaimed_ignore_policy(void **state)
{
	struct io_log out = { 0 };
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_in_out);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x21, 1, io_log_fn, &out,
					 "out", NULL), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	run_to_hlt(f.vcpu);
	assert_int_equal(out.last_value, 0xff);
	assert_int_equal(hv_vcpu_set_io_result(f.vcpu, 1), -EINVAL);
	fixture_teardown(&f);
}

static void test_run_once_reports_every_exit(void **state)
{
	struct io_log port = { 0 }, result = { 0 }, mmio = { 0 };
	struct hv_exit exit;
	struct fixture f;
	int ios = 0;

	(void)state;
	fixture_setup(&f, NULL, &guest_real);
	register_logs(&f, &port, &result, &mmio, GUEST_MMIO);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	for (;;) {
		assert_int_equal(hv_vcpu_run_once(f.vcpu, &exit), 0);
		if (exit.reason == HV_EXIT_HLT)
			break;
		assert_true(exit.reason == HV_EXIT_IO || exit.reason == HV_EXIT_MMIO);
		assert_int_equal(exit.handled, 1);
		ios++;
	}
	assert_int_equal(ios, 4); /* out, MMIO write, MMIO read, out */
	fixture_teardown(&f);
}

static void test_register_state(void **state)
{
	struct hv_x86_msr msr = { .index = 0xc0000102 /* KERNEL_GS_BASE */, .data = 0x1234000 };
	struct hv_x86_regs regs = { 0 }, back;
	struct hv_x86_cpuid_entry cpuid[256];
	struct hv_x86_fpu fpu;
	uint32_t n = 1;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, NULL);
	regs.rax = 0x1111;
	regs.r15 = 0xf0f0;
	regs.rip = 0x1000;
	regs.rflags = 2;
	assert_int_equal(hv_vcpu_set_regs(f.vcpu, &regs), 0);
	assert_int_equal(hv_vcpu_get_regs(f.vcpu, &back), 0);
	assert_memory_equal(&regs, &back, sizeof(regs));

	assert_int_equal(hv_vcpu_set_msrs(f.vcpu, &msr, 1), 1);
	msr.data = 0;
	assert_int_equal(hv_vcpu_get_msrs(f.vcpu, &msr, 1), 1);
	assert_int_equal(msr.data, 0x1234000);

	assert_int_equal(hv_vcpu_get_fpu(f.vcpu, &fpu), 0);
	fpu.mxcsr = 0x1f80;
	fpu.xmm[3][0] = 0xab;
	assert_int_equal(hv_vcpu_set_fpu(f.vcpu, &fpu), 0);
	memset(&fpu, 0, sizeof(fpu));
	assert_int_equal(hv_vcpu_get_fpu(f.vcpu, &fpu), 0);
	assert_int_equal(fpu.xmm[3][0], 0xab);

	assert_int_equal(hv_vm_get_supported_cpuid(f.vm, cpuid, &n), -E2BIG);
	assert_true(n > 1 && n <= 256);
	assert_int_equal(hv_vm_get_supported_cpuid(f.vm, cpuid, &n), 0);
	assert_non_null(hv_x86_cpuid_find(cpuid, n, 0, 0));
	/* Filter: hide a feature (leaf 1 ECX bit 31 "hypervisor" stays), apply. */
	assert_int_equal(hv_vcpu_set_cpuid(f.vcpu, cpuid, n), 0);
	fixture_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_mode),
		cmocka_unit_test(test_protected_mode),
		cmocka_unit_test(test_long_mode),
		cmocka_unit_test(test_long_mode_scratch_outside_ram),
		cmocka_unit_test(test_unclaimed_fail_policy),
		cmocka_unit_test(test_unclaimed_ignore_policy),
		cmocka_unit_test(test_run_once_reports_every_exit),
		cmocka_unit_test(test_register_state),
	};
	return cmocka_run_group_tests_name("kvm_run", tests, keep_one_vm_open, close_kept_vm);
}
