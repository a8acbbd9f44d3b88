/* SPDX-License-Identifier: MIT */
/* x86_64 implementation of the arch seam (src/arch/arch.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>

#include "arch/arch.h"
#include "arch/x86_64/cpuid.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

/* Just below the 4 GiB boundary, where PC firmware lives and guests expect no
 * RAM: one page for the EPT identity map, three for the real-mode TSS. */
#define X86_IDENTITY_MAP_ADDR 0xfffbc000ull
#define X86_TSS_ADDR 0xfffbd000ull

const struct hv_arch_cap hv_arch_required_caps[] = {
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ 0, NULL },
};

static int create_irqchip(struct hv_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret;

	ret = hv_kvm_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, NULL);
	if (ret)
		return hv_err_sys(ret, "KVM_CREATE_IRQCHIP");
	ret = hv_kvm_ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit);
	if (ret)
		return hv_err_sys(ret, "KVM_CREATE_PIT2");
	vm->has_irqchip = true;
	return 0;
}

int hv_arch_vm_init(struct hv_vm *vm)
{
	uint64_t identity = X86_IDENTITY_MAP_ADDR;
	int ret;

	/* Both must precede the first vCPU: KVM needs them for real mode on
	 * Intel, and harmlessly records them on AMD. */
	ret = hv_kvm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity);
	if (ret)
		return hv_err_sys(ret, "KVM_SET_IDENTITY_MAP_ADDR");
	ret = hv_kvm_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)X86_TSS_ADDR);
	if (ret)
		return hv_err_sys(ret, "KVM_SET_TSS_ADDR");
	ret = hv_x86_cpuid_load_supported(vm);
	if (ret)
		return ret;
	if (vm->cfg.flags & HV_VM_F_IRQCHIP)
		return create_irqchip(vm);
	return 0;
}

void hv_arch_vm_fini(struct hv_vm *vm)
{
	free(vm->arch.supported_cpuid);
	vm->arch.supported_cpuid = NULL;
}

int hv_arch_vcpu_init(struct hv_vcpu *vcpu)
{
	return hv_x86_cpuid_apply_default(vcpu);
}

void hv_arch_vcpu_fini(struct hv_vcpu *vcpu)
{
	(void)vcpu;
}
