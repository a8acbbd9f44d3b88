/* SPDX-License-Identifier: MIT */
/*
 * irqfd and ioeventfd: KVM signals an eventfd on a guest write, or raises an
 * interrupt when an eventfd is signalled, with no exit to user space.  Pure
 * argument checks come first so every refusal names its reason before KVM
 * is asked anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "util/config.h"
#include "util/error.h"
#include "vm/vm_internal.h"

#define SPACE_NAME(s) ((s) == HV_BUS_PIO ? "port" : "MMIO")

static int check_fd(int fd, const char *what)
{
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return hv_err(fd < 0 ? -EINVAL : -EBADF, "%s: fd %d is not an open descriptor",
			      what, fd);
	return 0;
}

static int need_cap(struct hv_vm *vm, uint32_t cap, const char *name, const char *what)
{
	if (hv_vm_check_extension(vm, cap) <= 0)
		return hv_err(-ENOTSUP, "%s: KVM lacks %s", what, name);
	return 0;
}

HV_EXPORT int hv_vm_irqfd(struct hv_vm *vm, int fd, uint32_t gsi, int resample_fd,
			  uint32_t flags)
{
	struct kvm_irqfd req = { .fd = (uint32_t)fd, .gsi = gsi };
	bool deassign = flags & HV_IRQFD_F_DEASSIGN;
	char what[64];
	int ret;

	HV_CHECK_ARG(vm);

	snprintf(what, sizeof(what), "irqfd for GSI %u", gsi);
	if (flags & ~HV_IRQFD_F_ALL)
		return hv_err(-EINVAL, "%s: unknown flags 0x%x", what, flags & ~HV_IRQFD_F_ALL);
	ret = check_fd(fd, what);
	if (ret)
		return ret;
	if (resample_fd != -1 && !deassign) {
		ret = check_fd(resample_fd, what);
		if (ret)
			return hv_err_context(ret, "resample fd");
		if (resample_fd == fd)
			return hv_err(-EINVAL, "%s: the resample fd must differ from the trigger fd",
				      what);
	}
	if (!vm->has_irqchip)
		return hv_err(-ENXIO, "%s: the VM has no in-kernel irqchip (HV_VM_F_IRQCHIP)", what);
	ret = need_cap(vm, KVM_CAP_IRQFD, "KVM_CAP_IRQFD", what);
	if (!ret && resample_fd != -1 && !deassign)
		ret = need_cap(vm, KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE (level-triggered "
			       "irqfd)", what);
	if (ret)
		return ret;
	if (deassign) {
		req.flags = KVM_IRQFD_FLAG_DEASSIGN;
	} else if (resample_fd != -1) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = (uint32_t)resample_fd;
	}
	ret = hv_kvm_ioctl(vm->vm_fd, KVM_IRQFD, &req);
	if (ret == -EBUSY)
		return hv_err(ret, "%s: eventfd %d already raises an interrupt in this VM", what, fd);
	if (ret)
		return hv_err_sys(ret, "KVM_IRQFD %s fd %d, GSI %u", deassign ? "deassign" : "assign",
				  fd, gsi);
	return 0;
}

static int check_ioeventfd(struct hv_vm *vm, int fd, enum hv_bus_space space, uint64_t addr,
			   uint32_t width, uint32_t flags, const char *what)
{
	int ret;

	if (flags & ~HV_IOEVENTFD_F_ALL)
		return hv_err(-EINVAL, "%s: unknown flags 0x%x", what, flags & ~HV_IOEVENTFD_F_ALL);
	if (space != HV_BUS_PIO && space != HV_BUS_MMIO)
		return hv_err(-EINVAL, "ioeventfd: unknown address space %d", (int)space);
	if (width != 0 && width != 1 && width != 2 && width != 4 && width != 8)
		return hv_err(-EINVAL, "%s: width %u (1, 2, 4 or 8; 0: any, MMIO only)", what,
			      width);
	if (width == 0 && (space != HV_BUS_MMIO || (flags & HV_IOEVENTFD_F_DATAMATCH)))
		return hv_err(-EINVAL, "%s: width 0 (any) needs MMIO and no datamatch", what);
	if (addr + (width ? width : 1) - 1 < addr ||
	    (space == HV_BUS_PIO && addr + width > 0x10000))
		return hv_err(-EINVAL, "%s: the range runs past the end of the %s space", what,
			      SPACE_NAME(space));
	ret = check_fd(fd, what);
	if (ret)
		return ret;
	ret = need_cap(vm, KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", what);
	if (!ret && width == 0)
		ret = need_cap(vm, KVM_CAP_IOEVENTFD_ANY_LENGTH, "KVM_CAP_IOEVENTFD_ANY_LENGTH", what);
	return ret;
}

HV_EXPORT int hv_vm_ioeventfd(struct hv_vm *vm, int fd, enum hv_bus_space space, uint64_t addr,
			      uint32_t width, uint64_t datamatch, uint32_t flags)
{
	struct kvm_ioeventfd req = { .addr = addr, .len = width, .fd = fd };
	bool match = flags & HV_IOEVENTFD_F_DATAMATCH;
	char what[96], dm[40] = "";
	int ret;

	HV_CHECK_ARG(vm);

	if (match)
		snprintf(dm, sizeof(dm), ", datamatch 0x%llx", (unsigned long long)datamatch);
	snprintf(what, sizeof(what), "ioeventfd at %s 0x%llx (%u bytes%s)", SPACE_NAME(space),
		 (unsigned long long)addr, width, dm);
	ret = check_ioeventfd(vm, fd, space, addr, width, flags, what);
	if (ret)
		return ret;
	if (space == HV_BUS_PIO)
		req.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (match) {
		req.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		req.datamatch = datamatch;
	}
	if (flags & HV_IOEVENTFD_F_DEASSIGN)
		req.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	ret = hv_kvm_ioctl(vm->vm_fd, KVM_IOEVENTFD, &req);
	if (ret == -EEXIST)
		return hv_err(ret, "%s: that address is already taken by another ioeventfd", what);
	if (ret == -ENOENT)
		return hv_err(ret, "%s: no such ioeventfd to deassign (fd %d)", what, fd);
	if (ret)
		return hv_err_sys(ret, "%s: KVM_IOEVENTFD %s", what,
				  (flags & HV_IOEVENTFD_F_DEASSIGN) ? "deassign" : "assign");
	return 0;
}
