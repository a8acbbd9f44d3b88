/* SPDX-License-Identifier: MIT */
/* x86_64 per-VM and per-vCPU state for the arch seam (see src/arch/arch.h). */
#ifndef HV_ARCH_X86_64_ARCH_VM_H
#define HV_ARCH_X86_64_ARCH_VM_H

#include <stdint.h>

struct hv_x86_cpuid_entry;

struct hv_arch_vm {
	struct hv_x86_cpuid_entry *supported_cpuid; /* KVM_GET_SUPPORTED_CPUID, cached */
	uint32_t supported_cpuid_count;
};

struct hv_arch_vcpu {
	int unused;
};

#endif
