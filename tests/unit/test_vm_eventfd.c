/* SPDX-License-Identifier: MIT */
/*
 * hv_vm_irqfd() and hv_vm_ioeventfd() argument checks, on a VM handle that
 * has no KVM behind it: every refusal must come with its reason before KVM
 * is asked (and, with valid arguments, a missing capability is named).
 * tests/kvm/kvm_eventfd.c does the real thing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit/unit_util.h"
#include "vm/vm_internal.h"

struct fix {
	struct hv_vm vm; /* no KVM: every capability reads as absent */
	int fd, fd2;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->vm.kvm_fd = f->vm.vm_fd = -1;
	f->fd = eventfd(0, EFD_CLOEXEC);
	f->fd2 = eventfd(0, EFD_CLOEXEC);
	assert_true(f->fd >= 0 && f->fd2 >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	close(f->fd);
	close(f->fd2);
	free(f);
	return 0;
}

static void test_ioeventfd_args(void **state)
{
	struct fix *f = *state;
	struct hv_vm *vm = &f->vm;

	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_MMIO, 0x1000, 4, 0, 0x80), -EINVAL,
		   "unknown flags 0x80");
	expect_err(hv_vm_ioeventfd(vm, f->fd, (enum hv_bus_space)7, 0x1000, 4, 0, 0), -EINVAL,
		   "address space 7");
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_MMIO, 0x1000, 3, 0, 0), -EINVAL,
		   "width 3");
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_PIO, 0x10, 0, 0, 0), -EINVAL,
		   "needs MMIO");
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_MMIO, 0x1000, 0, 5,
				   HV_IOEVENTFD_F_DATAMATCH), -EINVAL, "no datamatch");
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_MMIO, UINT64_MAX - 1, 4, 0, 0), -EINVAL,
		   "runs past the end of the MMIO space");
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_PIO, 0xffff, 2, 0, 0), -EINVAL,
		   "runs past the end of the port space");
	expect_err(hv_vm_ioeventfd(vm, -1, HV_BUS_PIO, 0x10, 1, 0, 0), -EINVAL, "fd -1");
	expect_err(hv_vm_ioeventfd(vm, 999, HV_BUS_PIO, 0x10, 1, 0, 0), -EBADF, "fd 999");
	/* Good arguments: the message says where and what KVM lacks. */
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_MMIO, 0xd0000050, 4, 2,
				   HV_IOEVENTFD_F_DATAMATCH), -ENOTSUP, "KVM_CAP_IOEVENTFD");
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_MMIO, 0xd0000050, 4, 2,
				   HV_IOEVENTFD_F_DATAMATCH), -ENOTSUP,
		   "MMIO 0xd0000050 (4 bytes, datamatch 0x2)");
	expect_err(hv_vm_ioeventfd(vm, f->fd, HV_BUS_PIO, 0xfffc, 4, 0, 0), -ENOTSUP,
		   "port 0xfffc");
}

static void test_irqfd_args(void **state)
{
	struct fix *f = *state;
	struct hv_vm *vm = &f->vm;

	expect_err(hv_vm_irqfd(vm, f->fd, 5, -1, 0x10), -EINVAL, "unknown flags");
	expect_err(hv_vm_irqfd(vm, -1, 5, -1, 0), -EINVAL, "fd -1");
	expect_err(hv_vm_irqfd(vm, 999, 5, -1, 0), -EBADF, "irqfd for GSI 5");
	expect_err(hv_vm_irqfd(vm, f->fd, 5, f->fd, 0), -EINVAL, "must differ");
	expect_err(hv_vm_irqfd(vm, f->fd, 5, 998, 0), -EBADF, "resample fd");
	expect_err(hv_vm_irqfd(vm, f->fd, 5, -1, 0), -ENXIO, "HV_VM_F_IRQCHIP");
	vm->has_irqchip = true;
	expect_err(hv_vm_irqfd(vm, f->fd, 5, -1, 0), -ENOTSUP, "KVM_CAP_IRQFD");
	/* Deassigning ignores the resample fd. */
	expect_err(hv_vm_irqfd(vm, f->fd, 5, 998, HV_IRQFD_F_DEASSIGN), -ENOTSUP,
		   "KVM_CAP_IRQFD");
	vm->has_irqchip = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioeventfd_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqfd_args, setup, teardown),
	};
	return cmocka_run_group_tests_name("vm_eventfd", tests, NULL, NULL);
}
