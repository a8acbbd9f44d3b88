/* SPDX-License-Identifier: MIT */
/* x86 register accessors: thin ioctl wrappers over layout-identical structs. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "hvlib/x86.h"
#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

#define SAME_LAYOUT(ours, theirs, last)                                                    \
	_Static_assert(sizeof(struct ours) == sizeof(struct theirs) &&                     \
			       offsetof(struct ours, last) == offsetof(struct theirs, last), \
		       #ours " must match " #theirs)

SAME_LAYOUT(hv_x86_regs, kvm_regs, rflags);
SAME_LAYOUT(hv_x86_segment, kvm_segment, padding);
SAME_LAYOUT(hv_x86_dtable, kvm_dtable, padding);
SAME_LAYOUT(hv_x86_sregs, kvm_sregs, interrupt_bitmap);
SAME_LAYOUT(hv_x86_fpu, kvm_fpu, pad2);
SAME_LAYOUT(hv_x86_msr, kvm_msr_entry, data);

static int vcpu_ioctl(struct hv_vcpu *vcpu, unsigned long request, const char *name, void *arg)
{
	int ret = hv_kvm_ioctl(vcpu->fd, request, arg);

	if (ret < 0)
		return hv_err_sys(ret, "%s on vCPU %u", name, vcpu->index);
	return ret;
}

HV_EXPORT int hv_vcpu_get_regs(struct hv_vcpu *vcpu, struct hv_x86_regs *regs)
{
	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(regs);
	return vcpu_ioctl(vcpu, KVM_GET_REGS, "KVM_GET_REGS", regs);
}

/* KVM's SET ioctls take non-const pointers; pass them a copy. */
HV_EXPORT int hv_vcpu_set_regs(struct hv_vcpu *vcpu, const struct hv_x86_regs *regs)
{
	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(regs);
	struct hv_x86_regs copy = *regs;

	return vcpu_ioctl(vcpu, KVM_SET_REGS, "KVM_SET_REGS", &copy);
}

HV_EXPORT int hv_vcpu_get_sregs(struct hv_vcpu *vcpu, struct hv_x86_sregs *sregs)
{
	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(sregs);
	return vcpu_ioctl(vcpu, KVM_GET_SREGS, "KVM_GET_SREGS", sregs);
}

HV_EXPORT int hv_vcpu_set_sregs(struct hv_vcpu *vcpu, const struct hv_x86_sregs *sregs)
{
	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(sregs);
	struct hv_x86_sregs copy = *sregs;

	return vcpu_ioctl(vcpu, KVM_SET_SREGS, "KVM_SET_SREGS", &copy);
}

HV_EXPORT int hv_vcpu_get_fpu(struct hv_vcpu *vcpu, struct hv_x86_fpu *fpu)
{
	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(fpu);
	return vcpu_ioctl(vcpu, KVM_GET_FPU, "KVM_GET_FPU", fpu);
}

HV_EXPORT int hv_vcpu_set_fpu(struct hv_vcpu *vcpu, const struct hv_x86_fpu *fpu)
{
	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(fpu);
	struct hv_x86_fpu copy = *fpu;

	return vcpu_ioctl(vcpu, KVM_SET_FPU, "KVM_SET_FPU", &copy);
}

/* struct kvm_msrs is a header followed by a flexible array of entries. */
static int msr_ioctl(struct hv_vcpu *vcpu, unsigned long request, const char *name,
		     const struct hv_x86_msr *in, struct hv_x86_msr *out, uint32_t n)
{
	struct kvm_msrs *buf;
	int ret;

	if (n > 4096)
		return hv_err(-E2BIG, "%s: %u MSRs at once is too many", name, n);
	buf = calloc(1, sizeof(*buf) + n * sizeof(struct kvm_msr_entry));
	if (!buf)
		return hv_err(-ENOMEM, "%s: allocating %u entries", name, n);
	buf->nmsrs = n;
	memcpy(buf->entries, in, n * sizeof(*in));
	ret = vcpu_ioctl(vcpu, request, name, buf);
	if (ret > 0 && out)
		memcpy(out, buf->entries, (size_t)ret * sizeof(*out));
	free(buf);
	return ret;
}

HV_EXPORT int hv_vcpu_get_msrs(struct hv_vcpu *vcpu, struct hv_x86_msr *msrs, uint32_t n)
{
	HV_CHECK_ARG(vcpu);
	return msr_ioctl(vcpu, KVM_GET_MSRS, "KVM_GET_MSRS", msrs, msrs, n);
}

HV_EXPORT int hv_vcpu_set_msrs(struct hv_vcpu *vcpu, const struct hv_x86_msr *msrs, uint32_t n)
{
	HV_CHECK_ARG(vcpu);
	return msr_ioctl(vcpu, KVM_SET_MSRS, "KVM_SET_MSRS", msrs, NULL, n);
}
