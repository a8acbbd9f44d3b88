/* SPDX-License-Identifier: MIT */
/*
 * vCPU state a stock Linux kernel expects at entry: the CPU mode of its boot
 * protocol, boot-time MSRs, the LAPIC's legacy interrupt pins, and a CPUID
 * topology that matches the VM's vCPU count.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/cpuid.h"
#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MISC_ENABLE_FAST_STRING 1ull
/* MTRRs enabled, default memory type write-back: without it a guest may
 * treat all of RAM as uncached. */
#define MTRR_DEF_TYPE_WB_ENABLED ((1ull << 11) | 6)

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

HV_EXPORT int hv_x86_setup_linux64(struct hv_vcpu *vcpu, uint64_t entry, uint64_t zero_page,
				   uint64_t scratch_gpa)
{
	HV_CHECK_ARG(vcpu);
	struct hv_x86_long_mode lm = {
		.size = sizeof(lm), .entry = entry, .scratch_gpa = scratch_gpa,
	};
	struct hv_x86_regs regs;
	int ret = hv_x86_setup_long_mode(vcpu, &lm);

	if (ret)
		return hv_err_context(ret, "64-bit Linux boot");
	ret = hv_vcpu_get_regs(vcpu, &regs);
	if (ret)
		return ret;
	/* Boot protocol: RSI holds the zero page; interrupts stay off (IF=0). */
	regs.rsi = zero_page;
	return hv_vcpu_set_regs(vcpu, &regs);
}

HV_EXPORT int hv_x86_setup_pvh(struct hv_vcpu *vcpu, uint32_t entry, uint32_t start_info)
{
	HV_CHECK_ARG(vcpu);
	struct hv_x86_regs regs;
	int ret = hv_x86_setup_protected_mode(vcpu, entry);

	if (ret)
		return hv_err_context(ret, "PVH boot");
	ret = hv_vcpu_get_regs(vcpu, &regs);
	if (ret)
		return ret;
	/* PVH entry ABI: EBX holds the physical address of hvm_start_info. */
	regs.rbx = start_info;
	return hv_vcpu_set_regs(vcpu, &regs);
}

static int set_boot_msrs(struct hv_vcpu *vcpu)
{
	static const struct hv_x86_msr msrs[] = {
		{ .index = MSR_IA32_SYSENTER_CS },  { .index = MSR_IA32_SYSENTER_ESP },
		{ .index = MSR_IA32_SYSENTER_EIP }, { .index = MSR_STAR },
		{ .index = MSR_LSTAR },             { .index = MSR_CSTAR },
		{ .index = MSR_SYSCALL_MASK },      { .index = MSR_KERNEL_GS_BASE },
		{ .index = MSR_IA32_TSC },
		{ .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING },
		{ .index = MSR_MTRR_DEF_TYPE, .data = MTRR_DEF_TYPE_WB_ENABLED },
	};
	int n = hv_vcpu_set_msrs(vcpu, msrs, HV_ARRAY_SIZE(msrs));

	if (n < 0)
		return n;
	if ((size_t)n != HV_ARRAY_SIZE(msrs))
		return hv_err(-EINVAL, "vCPU %u: KVM refused boot MSR 0x%x", vcpu->index,
			      msrs[n].index);
	return 0;
}

static void set_lvt_mode(struct kvm_lapic_state *lapic, uint32_t reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&lapic->regs[reg], &v, sizeof(v));
}

/* LINT0 carries the 8259 PIC's ExtINT, LINT1 the NMI: what a PC wires up. */
static int set_lapic_lint(struct hv_vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	int ret = hv_kvm_ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic);

	if (ret)
		return hv_err_sys(ret, "KVM_GET_LAPIC on vCPU %u", vcpu->index);
	set_lvt_mode(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	set_lvt_mode(&lapic, APIC_LVT1, APIC_MODE_NMI);
	ret = hv_kvm_ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic);
	if (ret)
		return hv_err_sys(ret, "KVM_SET_LAPIC on vCPU %u", vcpu->index);
	return 0;
}

HV_EXPORT int hv_x86_setup_platform_vcpu(struct hv_vcpu *vcpu, uint32_t nr_vcpus)
{
	HV_CHECK_ARG(vcpu);
	struct hv_vm *vm = vcpu->vm;
	uint32_t n = vm->arch.supported_cpuid_count;
	struct hv_x86_cpuid_entry *table;
	int ret;

	if (nr_vcpus == 0 || vcpu->index >= nr_vcpus)
		return hv_err(-EINVAL, "vCPU %u of %u: bad vCPU count", vcpu->index, nr_vcpus);
	table = malloc(n * sizeof(*table));
	if (!table)
		return hv_err(-ENOMEM, "allocating the CPUID table");
	memcpy(table, vm->arch.supported_cpuid, n * sizeof(*table));
	hv_x86_cpuid_set_topology(table, n, vcpu->index, nr_vcpus);
	ret = hv_vcpu_set_cpuid(vcpu, table, n);
	free(table);
	if (!ret)
		ret = set_boot_msrs(vcpu);
	if (!ret && vm->has_irqchip)
		ret = set_lapic_lint(vcpu);
	return ret;
}
