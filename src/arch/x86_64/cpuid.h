/* SPDX-License-Identifier: MIT */
/* CPUID: what KVM supports, and the default model each vCPU gets. */
#ifndef HV_ARCH_X86_64_CPUID_H
#define HV_ARCH_X86_64_CPUID_H

#include "hvlib/x86.h"

struct hv_vm;
struct hv_vcpu;

/* Cache KVM_GET_SUPPORTED_CPUID in vm->arch. */
int hv_x86_cpuid_load_supported(struct hv_vm *vm);

/* Give a new vCPU the supported set with its own APIC id filled in. */
int hv_x86_cpuid_apply_default(struct hv_vcpu *vcpu);

/* Set the APIC id fields (leaves 0x1 and 0xb) of a CPUID table for vCPU
 * apic_id.  Pure. */
void hv_x86_cpuid_set_apic_id(struct hv_x86_cpuid_entry *entries, uint32_t n, uint32_t apic_id);

/* Describe nr_vcpus single-threaded cores in one package, this vCPU being
 * apic_id: leaves 0x1 (logical count, HTT), 0x4 (cores), 0xb (x2APIC
 * topology) and 0x80000008 (AMD core count).  Pure. */
void hv_x86_cpuid_set_topology(struct hv_x86_cpuid_entry *entries, uint32_t n, uint32_t apic_id,
			       uint32_t nr_vcpus);

#endif
