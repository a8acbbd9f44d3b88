/* SPDX-License-Identifier: MIT */
/* VM lifecycle for real: no leaks across many create/destroy, independent VMs. */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/guest_util.h"

static void test_create_destroy_no_leak(void **state)
{
	struct fixture f;
	int fds_before, fds_after;
	long rss_before, rss_after;

	(void)state;
	/* Warm up allocator and lazily loaded pieces before measuring. */
	fixture_setup(&f, NULL, &guest_real);
	fixture_teardown(&f);
	fds_before = count_open_fds();
	rss_before = rss_kib();
	for (int i = 0; i < 100; i++) {
		struct io_log port = { 0 };

		fixture_setup(&f, NULL, &guest_real);
		assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x10, 2, io_log_fn,
						 &port, "out", NULL), 0);
		assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
		struct hv_exit exit;
		assert_int_equal(hv_vcpu_run(f.vcpu, &exit), 0);
		assert_int_equal(exit.reason, HV_EXIT_HLT);
		assert_int_equal(port.writes, 2);
		fixture_teardown(&f);
	}
	fds_after = count_open_fds();
	rss_after = rss_kib();
	assert_int_equal(fds_before, fds_after);
	/* 100 VMs x 2 MiB of touched guest RAM would be 200 MiB if leaked. */
	if (rss_after - rss_before > 16 * 1024)
		fail_msg("RSS grew from %ld to %ld KiB over 100 VMs", rss_before, rss_after);
}

static void test_caps_and_irqchip(void **state)
{
	struct hv_vm_config cfg;
	struct fixture f;

	(void)state;
	hv_vm_config_init(&cfg);
	cfg.flags = HV_VM_F_IRQCHIP;
	fixture_setup(&f, &cfg, NULL);
	assert_true(hv_vm_check_extension(f.vm, KVM_CAP_USER_MEMORY) > 0);
	assert_true(hv_vm_fd(f.vm) >= 0);
	assert_true(hv_vcpu_fd(f.vcpu) >= 0);
	assert_int_equal(hv_vcpu_index(f.vcpu), 0);
	assert_ptr_equal(hv_vcpu_vm(f.vcpu), f.vm);
	assert_int_equal(hv_vm_irq_line(f.vm, 4, 1), 0);
	assert_int_equal(hv_vm_irq_line(f.vm, 4, 0), 0);
	fixture_teardown(&f);

	fixture_setup(&f, NULL, NULL);
	assert_int_equal(hv_vm_irq_line(f.vm, 4, 1), -ENXIO);
	assert_non_null(strstr(hv_last_error(), "irqchip"));
	fixture_teardown(&f);
}

static void test_vcpu_index_rules(void **state)
{
	struct hv_vcpu *dup = NULL, *second = NULL;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, NULL);
	assert_int_equal(hv_vcpu_create(f.vm, 0, &dup), -EEXIST);
	assert_int_equal(hv_vcpu_create(f.vm, 100000, &dup), -EINVAL);
	assert_int_equal(hv_vcpu_create(f.vm, 1, &second), 0);
	hv_vcpu_destroy(second);
	/* KVM keeps a destroyed vCPU until the VM dies: the index stays taken. */
	assert_int_equal(hv_vcpu_create(f.vm, 1, &second), -EEXIST);
	assert_non_null(strstr(hv_last_error(), "cannot re-create"));
	assert_int_equal(hv_vcpu_create(f.vm, 2, &second), 0);
	hv_vcpu_destroy(second);
	fixture_teardown(&f);
}

struct vm_thread {
	uint32_t magic;
	uint64_t seen;
	int ret;
};

/* Each thread runs its own VM whose guest reports a value from its own RAM. */
static void *run_own_vm(void *arg)
{
	struct vm_thread *t = arg;
	struct io_log port = { 0 };
	struct hv_exit exit;
	struct fixture f;

	fixture_setup(&f, NULL, &guest_prot);
	memcpy(f.ram + 0x2000, &t->magic, sizeof(t->magic));
	hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x10, 8, io_log_fn, &port, "out", NULL);
	hv_x86_setup_protected_mode(f.vcpu, GUEST_CODE);
	for (int i = 0; i < 20 && (t->ret = hv_vcpu_run(f.vcpu, &exit)) == 0; i++) {
		if (exit.reason != HV_EXIT_HLT)
			break;
		t->seen = port.last_value;
		hv_x86_setup_protected_mode(f.vcpu, GUEST_CODE);
	}
	fixture_teardown(&f);
	return NULL;
}

static void test_two_vms_at_once(void **state)
{
	struct vm_thread a = { .magic = 0xaaaa5555 }, b = { .magic = 0x1234abcd };
	pthread_t ta, tb;

	(void)state;
	assert_int_equal(pthread_create(&ta, NULL, run_own_vm, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, run_own_vm, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.ret, 0);
	assert_int_equal(b.ret, 0);
	assert_int_equal(a.seen, 0xaaaa5555);
	assert_int_equal(b.seen, 0x1234abcd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy_no_leak),
		cmocka_unit_test(test_caps_and_irqchip),
		cmocka_unit_test(test_vcpu_index_rules),
		cmocka_unit_test(test_two_vms_at_once),
	};
	return cmocka_run_group_tests_name("kvm_vm", tests, keep_one_vm_open, close_kept_vm);
}
