/* SPDX-License-Identifier: MIT */
/* x86 vCPU state ioctls a vCPU thread may make (see src/util/seccomp.c). */
#include <linux/kvm.h>
#include <stdint.h>

#include "arch/arch.h"

const uint32_t hv_arch_vcpu_ioctls[] = {
	KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_FPU, KVM_SET_FPU,
	KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_LAPIC, KVM_SET_LAPIC,
	0
};
