/* SPDX-License-Identifier: MIT */
/*
 * The architecture seam: generic VM and vCPU code calls only these hooks,
 * implemented once per architecture under src/arch/<arch>/.  Arch-private
 * state lives in struct hv_arch_vm / hv_arch_vcpu from that folder's
 * arch_vm.h, so generic code needs no #ifdef.
 */
#ifndef HV_ARCH_H
#define HV_ARCH_H

#include <stdint.h>

struct hv_vm;
struct hv_vcpu;

/* KVM capabilities this architecture cannot work without, 0-terminated,
 * with a name for each (for the error message). */
struct hv_arch_cap {
	uint32_t cap;
	const char *name;
};
extern const struct hv_arch_cap hv_arch_required_caps[];

/* The ioctls a vCPU thread makes on its own vCPU fd beyond KVM_RUN (its
 * registers and other state, through hvlib/vcpu.h and hvlib/x86.h), for
 * that thread's seccomp filter; 0-terminated. */
extern const uint32_t hv_arch_vcpu_ioctls[];

/* After the VM fd exists, before any vCPU: e.g. x86 TSS and identity-map
 * addresses, and the in-kernel irqchip when asked for. */
int hv_arch_vm_init(struct hv_vm *vm);
void hv_arch_vm_fini(struct hv_vm *vm);

/* After KVM_CREATE_VCPU: default CPU model and registers. */
int hv_arch_vcpu_init(struct hv_vcpu *vcpu);
void hv_arch_vcpu_fini(struct hv_vcpu *vcpu);

#endif /* HV_ARCH_H */
