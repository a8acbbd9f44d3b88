/* SPDX-License-Identifier: MIT */
/*
 * hvlib/x86.h - x86_64 vCPU state and CPU mode set-up.
 *
 * The structures have exactly the layout of the corresponding KVM structures
 * (struct kvm_regs, kvm_sregs, kvm_fpu, kvm_msr_entry, kvm_cpuid_entry2),
 * checked at compile time, so they can be passed without conversion but need
 * no kernel headers.  Accessors require the vCPU not to be running (see
 * vcpu.h); all return 0 or -errno.
 */
#ifndef HVLIB_X86_H
#define HVLIB_X86_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "vcpu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_x86_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

struct hv_x86_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g, avl;
	uint8_t unusable, padding;
};

struct hv_x86_dtable {
	uint64_t base;
	uint16_t limit;
	uint16_t padding[3];
};

struct hv_x86_sregs {
	struct hv_x86_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct hv_x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
	uint64_t interrupt_bitmap[4];
};

struct hv_x86_fpu {
	uint8_t fpr[8][16];
	uint16_t fcw, fsw;
	uint8_t ftwx, pad1;
	uint16_t last_opcode;
	uint64_t last_ip, last_dp;
	uint8_t xmm[16][16];
	uint32_t mxcsr, pad2;
};

struct hv_x86_msr {
	uint32_t index;
	uint32_t reserved;
	uint64_t data;
};

struct hv_x86_cpuid_entry {
	uint32_t function, index, flags;
	uint32_t eax, ebx, ecx, edx;
	uint32_t padding[3];
};

HV_EXPORT int hv_vcpu_get_regs(struct hv_vcpu *vcpu, struct hv_x86_regs *regs);
HV_EXPORT int hv_vcpu_set_regs(struct hv_vcpu *vcpu, const struct hv_x86_regs *regs);
HV_EXPORT int hv_vcpu_get_sregs(struct hv_vcpu *vcpu, struct hv_x86_sregs *sregs);
HV_EXPORT int hv_vcpu_set_sregs(struct hv_vcpu *vcpu, const struct hv_x86_sregs *sregs);
HV_EXPORT int hv_vcpu_get_fpu(struct hv_vcpu *vcpu, struct hv_x86_fpu *fpu);
HV_EXPORT int hv_vcpu_set_fpu(struct hv_vcpu *vcpu, const struct hv_x86_fpu *fpu);

/* Read or write n MSRs (index filled in by the caller).  Returns how many
 * were processed (KVM stops at the first it rejects), or -errno. */
HV_EXPORT int hv_vcpu_get_msrs(struct hv_vcpu *vcpu, struct hv_x86_msr *msrs, uint32_t n);
HV_EXPORT int hv_vcpu_set_msrs(struct hv_vcpu *vcpu, const struct hv_x86_msr *msrs, uint32_t n);

/* The CPUID leaves KVM supports on this host: writes up to *n entries and
 * sets *n to the number written.  -E2BIG: *n too small (*n set to what is
 * needed).  Edit the copy (hv_x86_cpuid_find) and apply it per vCPU. */
HV_EXPORT int hv_vm_get_supported_cpuid(struct hv_vm *vm, struct hv_x86_cpuid_entry *entries,
					uint32_t *n);
HV_EXPORT int hv_vcpu_set_cpuid(struct hv_vcpu *vcpu, const struct hv_x86_cpuid_entry *entries,
				uint32_t n);
/* The entry for (function, index) or NULL (index ignored for leaves without
 * sub-leaves).  Pure. */
HV_EXPORT struct hv_x86_cpuid_entry *hv_x86_cpuid_find(struct hv_x86_cpuid_entry *entries,
						       uint32_t n, uint32_t function,
						       uint32_t index);

/* Real mode at cs:ip with CS base = cs << 4, all data segments 0, SP 0. */
HV_EXPORT int hv_x86_setup_real_mode(struct hv_vcpu *vcpu, uint16_t cs, uint16_t ip);

/* Flat 32-bit protected mode (4 GiB code/data segments, no paging) at entry. */
HV_EXPORT int hv_x86_setup_protected_mode(struct hv_vcpu *vcpu, uint32_t entry);

struct hv_x86_long_mode {
	uint32_t size;           /* sizeof(struct hv_x86_long_mode) */
	uint32_t flags;          /* must be 0 */
	uint64_t entry;          /* RIP */
	uint64_t stack;          /* RSP */
	uint64_t scratch_gpa;    /* 4 KiB-aligned guest RAM for the GDT and page tables */
	uint64_t identity_bytes; /* identity-mapped from 0, rounded up to 2 MiB; 0: 4 GiB */
};

/* Fill *lm with its size and defaults (all 0: identity map of 4 GiB). */
HV_EXPORT void hv_x86_long_mode_init(struct hv_x86_long_mode *lm);

/* Bytes of scratch the long-mode set-up writes for identity_bytes (0: 4 GiB). */
HV_EXPORT uint64_t hv_x86_long_mode_scratch_bytes(uint64_t identity_bytes);

/* 64-bit long mode: writes a GDT and identity-mapping page tables (2 MiB
 * pages) into guest memory at scratch_gpa and loads CR0/CR3/CR4/EFER and flat
 * 64-bit segments.  -EFAULT: scratch not in guest RAM; -EINVAL. */
HV_EXPORT int hv_x86_setup_long_mode(struct hv_vcpu *vcpu, const struct hv_x86_long_mode *lm);

/*
 * Pure page-table builder behind hv_x86_setup_long_mode(): identity-map
 * [0, identity_bytes) with 2 MiB pages into buf, a 4 KiB-aligned buffer that
 * will live at guest-physical buf_gpa.  Layout: PML4, then PDPTs, then page
 * directories.  Returns the guest-physical address of the PML4 (for CR3) in
 * *cr3.  -ENOSPC: buf_bytes < hv_x86_identity_map_bytes(); -EINVAL.
 */
HV_EXPORT uint64_t hv_x86_identity_map_bytes(uint64_t identity_bytes);
HV_EXPORT int hv_x86_build_identity_map(void *buf, uint64_t buf_bytes, uint64_t buf_gpa,
					uint64_t identity_bytes, uint64_t *cr3);

/*
 * Linux boot.  hv_x86_setup_linux64(): the 64-bit boot protocol of a bzImage
 * (long mode, identity map of 4 GiB built at scratch_gpa, which needs
 * hv_x86_long_mode_scratch_bytes(0) bytes of RAM; RSI = zero page).
 * hv_x86_setup_pvh(): the PVH entry of an ELF vmlinux (flat 32-bit protected
 * mode, paging off, EBX = hvm_start_info).
 */
HV_EXPORT int hv_x86_setup_linux64(struct hv_vcpu *vcpu, uint64_t entry, uint64_t zero_page,
				   uint64_t scratch_gpa);
HV_EXPORT int hv_x86_setup_pvh(struct hv_vcpu *vcpu, uint32_t entry, uint32_t start_info);

/*
 * What a PC-like platform gives every vCPU before the guest starts: CPUID
 * with this vCPU's APIC id and a topology of nr_vcpus cores, boot-time MSRs
 * (MTRRs write-back, fast strings, syscall MSRs cleared), and with an
 * in-kernel irqchip the LAPIC's LINT0 = ExtINT and LINT1 = NMI.
 * Call on every vCPU, application processors included.
 */
HV_EXPORT int hv_x86_setup_platform_vcpu(struct hv_vcpu *vcpu, uint32_t nr_vcpus);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_X86_H */
