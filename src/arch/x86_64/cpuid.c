/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/cpuid.h"
#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

/* Layout identity with KVM lets tables pass straight through the ioctls. */
_Static_assert(sizeof(struct hv_x86_cpuid_entry) == sizeof(struct kvm_cpuid_entry2),
	       "hv_x86_cpuid_entry must match kvm_cpuid_entry2");
_Static_assert(offsetof(struct hv_x86_cpuid_entry, edx) ==
		       offsetof(struct kvm_cpuid_entry2, edx),
	       "hv_x86_cpuid_entry must match kvm_cpuid_entry2");

#define HV_CPUID_MAX_ENTRIES 256u

/* struct kvm_cpuid2 ends in a flexible array of entries. */
static struct kvm_cpuid2 *cpuid_alloc(uint32_t nent)
{
	struct kvm_cpuid2 *buf = calloc(1, sizeof(*buf) + nent * sizeof(buf->entries[0]));

	if (buf)
		buf->nent = nent;
	return buf;
}

int hv_x86_cpuid_load_supported(struct hv_vm *vm)
{
	struct kvm_cpuid2 *buf = cpuid_alloc(HV_CPUID_MAX_ENTRIES);
	int ret;

	if (!buf)
		return hv_err(-ENOMEM, "allocating the CPUID table");
	ret = hv_kvm_ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, buf);
	if (ret) {
		free(buf);
		return hv_err_sys(ret, "KVM_GET_SUPPORTED_CPUID");
	}
	vm->arch.supported_cpuid = malloc(buf->nent * sizeof(struct hv_x86_cpuid_entry));
	if (!vm->arch.supported_cpuid) {
		free(buf);
		return hv_err(-ENOMEM, "allocating the CPUID table");
	}
	memcpy(vm->arch.supported_cpuid, buf->entries,
	       buf->nent * sizeof(struct hv_x86_cpuid_entry));
	vm->arch.supported_cpuid_count = buf->nent;
	free(buf);
	return 0;
}

HV_EXPORT int hv_vm_get_supported_cpuid(struct hv_vm *vm, struct hv_x86_cpuid_entry *entries,
					uint32_t *n)
{
	HV_CHECK_ARG(vm);
	HV_CHECK_ARG(n);
	uint32_t have = vm->arch.supported_cpuid_count;

	if (*n < have) {
		*n = have;
		return hv_err(-E2BIG, "supported CPUID has %u entries", have);
	}
	memcpy(entries, vm->arch.supported_cpuid, have * sizeof(*entries));
	*n = have;
	return 0;
}

HV_EXPORT struct hv_x86_cpuid_entry *hv_x86_cpuid_find(struct hv_x86_cpuid_entry *entries,
						       uint32_t n, uint32_t function,
						       uint32_t index)
{
	for (uint32_t i = 0; i < n; i++) {
		struct hv_x86_cpuid_entry *e = &entries[i];

		if (e->function != function)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)
			return e;
	}
	return NULL;
}

void hv_x86_cpuid_set_apic_id(struct hv_x86_cpuid_entry *entries, uint32_t n, uint32_t apic_id)
{
	for (uint32_t i = 0; i < n; i++) {
		struct hv_x86_cpuid_entry *e = &entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (apic_id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = apic_id; /* x2APIC id of this logical processor */
	}
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t bits_for(uint32_t count)
{
	uint32_t bits = 0;

	while ((1u << bits) < count)
		bits++;
	return bits;
}

void hv_x86_cpuid_set_topology(struct hv_x86_cpuid_entry *entries, uint32_t n, uint32_t apic_id,
			       uint32_t nr_vcpus)
{
	uint32_t core_bits = bits_for(nr_vcpus);

	hv_x86_cpuid_set_apic_id(entries, n, apic_id);
	for (uint32_t i = 0; i < n; i++) {
		struct hv_x86_cpuid_entry *e = &entries[i];

		switch (e->function) {
		case 0x1:
			/* The hypervisor bit makes Linux look at KVM's leaves
			 * (0x40000000: kvmclock, PV EOI, ...); KVM leaves it to us. */
			e->ecx |= 1u << 31;
			/* An 8-bit field: saturate rather than wrap (256 -> 0). */
			e->ebx = (e->ebx & 0xff00ffffu) | (min_u32(nr_vcpus, 255) << 16);
			if (nr_vcpus > 1)
				e->edx |= 1u << 28; /* HTT: the logical count is valid */
			break;
		case 0x4:
			/* EAX[31:26]: cores per package - 1; EAX[25:14]: logical
			 * processors sharing the cache - 1, 0 as each vCPU is one
			 * single-threaded core of its own. */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x00003fffu) | ((min_u32(nr_vcpus, 64) - 1) << 26);
			break;
		case 0xb:
		case 0x1f: /* V2 topology: guests prefer it to 0xb when present */
			if (e->index == 0) { /* SMT level: one thread per core */
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | e->index;
			} else if (e->index == 1) { /* core level */
				e->eax = core_bits;
				e->ebx = nr_vcpus;
				e->ecx = (2u << 8) | e->index;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			e->ecx = (e->ecx & ~0xf0ffu) | (core_bits << 12) |
				 (min_u32(nr_vcpus, 256) - 1);
			break;
		default:
			break;
		}
	}
}

HV_EXPORT int hv_vcpu_set_cpuid(struct hv_vcpu *vcpu, const struct hv_x86_cpuid_entry *entries,
				uint32_t n)
{
	struct kvm_cpuid2 *buf;
	int ret;

	HV_CHECK_ARG(vcpu);

	if (n > HV_CPUID_MAX_ENTRIES)
		return hv_err(-E2BIG, "vCPU %u: %u CPUID entries, at most %u", vcpu->index, n,
			      HV_CPUID_MAX_ENTRIES);
	buf = cpuid_alloc(n);
	if (!buf)
		return hv_err(-ENOMEM, "allocating the CPUID table");
	memcpy(buf->entries, entries, n * sizeof(*entries));
	ret = hv_kvm_ioctl(vcpu->fd, KVM_SET_CPUID2, buf);
	free(buf);
	if (ret)
		return hv_err_sys(ret, "KVM_SET_CPUID2 on vCPU %u", vcpu->index);
	return 0;
}

int hv_x86_cpuid_apply_default(struct hv_vcpu *vcpu)
{
	struct hv_vm *vm = vcpu->vm;
	uint32_t n = vm->arch.supported_cpuid_count;
	struct hv_x86_cpuid_entry *table = malloc(n * sizeof(*table));
	int ret;

	if (!table)
		return hv_err(-ENOMEM, "allocating the CPUID table");
	memcpy(table, vm->arch.supported_cpuid, n * sizeof(*table));
	hv_x86_cpuid_set_apic_id(table, n, vcpu->index);
	ret = hv_vcpu_set_cpuid(vcpu, table, n);
	free(table);
	return ret;
}
