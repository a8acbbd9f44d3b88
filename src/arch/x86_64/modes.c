/* SPDX-License-Identifier: MIT */
/* Putting a vCPU into real, flat protected or 64-bit long mode. */
#include <errno.h>
#include <string.h>

#include "hvlib/x86.h"
#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

#define PAGE 4096ull

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define SEG_TYPE_DATA_RW 0x3
#define SEG_TYPE_CODE_RX 0xb
#define GDT_CODE64 0x8
#define GDT_DATA 0x10

static const uint64_t long_mode_gdt[] = {
	0,                     /* null */
	0x00af9b000000ffffull, /* 0x08: 64-bit code, present, DPL 0 */
	0x00cf93000000ffffull, /* 0x10: flat data */
};

static struct hv_x86_segment segment(uint16_t selector, uint64_t base, uint32_t limit,
				     uint8_t type, uint8_t db, uint8_t l, uint8_t g)
{
	struct hv_x86_segment s = {
		.base = base, .limit = limit, .selector = selector, .type = type,
		.present = 1, .s = 1, .db = db, .l = l, .g = g,
	};
	return s;
}

static void set_data_segments(struct hv_x86_sregs *sregs, struct hv_x86_segment data)
{
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
}

static int load_mode(struct hv_vcpu *vcpu, struct hv_x86_sregs *sregs, uint64_t rip,
		     uint64_t rsp)
{
	struct hv_x86_regs regs = { .rip = rip, .rsp = rsp, .rflags = 0x2 };
	int ret = hv_vcpu_set_sregs(vcpu, sregs);

	if (ret)
		return ret;
	return hv_vcpu_set_regs(vcpu, &regs);
}

HV_EXPORT int hv_x86_setup_real_mode(struct hv_vcpu *vcpu, uint16_t cs, uint16_t ip)
{
	HV_CHECK_ARG(vcpu);
	struct hv_x86_sregs sregs;
	int ret = hv_vcpu_get_sregs(vcpu, &sregs);

	if (ret)
		return ret;
	sregs.cs = segment(cs, (uint64_t)cs << 4, 0xffff, SEG_TYPE_CODE_RX, 0, 0, 0);
	set_data_segments(&sregs, segment(0, 0, 0xffff, SEG_TYPE_DATA_RW, 0, 0, 0));
	sregs.cr0 &= ~(CR0_PE | CR0_PG);
	sregs.cr4 = 0;
	sregs.efer = 0;
	return load_mode(vcpu, &sregs, ip, 0);
}

HV_EXPORT int hv_x86_setup_protected_mode(struct hv_vcpu *vcpu, uint32_t entry)
{
	HV_CHECK_ARG(vcpu);
	struct hv_x86_sregs sregs;
	int ret = hv_vcpu_get_sregs(vcpu, &sregs);

	if (ret)
		return ret;
	/* Only the hidden descriptor caches are loaded; a guest that reloads
	 * segment registers must bring its own GDT. */
	sregs.cs = segment(0x8, 0, 0xffffffff, SEG_TYPE_CODE_RX, 1, 0, 1);
	set_data_segments(&sregs, segment(0x10, 0, 0xffffffff, SEG_TYPE_DATA_RW, 1, 0, 1));
	sregs.cr0 = (sregs.cr0 | CR0_PE) & ~CR0_PG;
	sregs.cr4 = 0;
	sregs.efer = 0;
	return load_mode(vcpu, &sregs, entry, 0);
}

HV_EXPORT uint64_t hv_x86_long_mode_scratch_bytes(uint64_t identity_bytes)
{
	uint64_t tables = hv_x86_identity_map_bytes(identity_bytes);

	return tables ? PAGE + tables : 0;
}

static int write_long_mode_tables(struct hv_vcpu *vcpu, const struct hv_x86_long_mode *lm,
				  uint64_t *cr3)
{
	uint64_t bytes = hv_x86_long_mode_scratch_bytes(lm->identity_bytes);
	uint8_t *scratch;
	void *hva;
	int ret;

	if (!bytes)
		return hv_err(-EINVAL, "long mode: identity map of 0x%llx bytes is too large",
			      (unsigned long long)lm->identity_bytes);
	if (lm->scratch_gpa % PAGE)
		return hv_err(-EINVAL, "long mode: scratch address 0x%llx is not page aligned",
			      (unsigned long long)lm->scratch_gpa);
	ret = hv_mem_translate(vcpu->vm->mem, lm->scratch_gpa, bytes, &hva);
	if (ret)
		return hv_err_context(ret, "long mode: %llu bytes of page tables at 0x%llx",
				      (unsigned long long)bytes,
				      (unsigned long long)lm->scratch_gpa);
	scratch = hva;
	memset(scratch, 0, PAGE);
	memcpy(scratch, long_mode_gdt, sizeof(long_mode_gdt));
	return hv_x86_build_identity_map(scratch + PAGE, bytes - PAGE, lm->scratch_gpa + PAGE,
					 lm->identity_bytes, cr3);
}

HV_EXPORT void hv_x86_long_mode_init(struct hv_x86_long_mode *lm)
{
	HV_CHECK_ARG_RET(lm, );
	memset(lm, 0, sizeof(*lm));
	lm->size = sizeof(*lm);
}

HV_EXPORT int hv_x86_setup_long_mode(struct hv_vcpu *vcpu, const struct hv_x86_long_mode *ulm)
{
	struct hv_x86_long_mode c;
	const struct hv_x86_long_mode *lm = &c;
	struct hv_x86_sregs sregs;
	uint64_t cr3;
	int ret;

	HV_CHECK_ARG(vcpu);
	ret = HV_CFG_LOAD(&c, ulm, hv_x86_long_mode_init, "long-mode config");
	if (ret)
		return ret;
	if (lm->flags)
		return hv_err(-EINVAL, "long-mode config: unknown flags 0x%x", lm->flags);
	ret = write_long_mode_tables(vcpu, lm, &cr3);
	if (ret)
		return ret;
	ret = hv_vcpu_get_sregs(vcpu, &sregs);
	if (ret)
		return ret;
	sregs.gdt.base = lm->scratch_gpa;
	sregs.gdt.limit = sizeof(long_mode_gdt) - 1;
	sregs.cs = segment(GDT_CODE64, 0, 0xffffffff, SEG_TYPE_CODE_RX, 0, 1, 1);
	set_data_segments(&sregs, segment(GDT_DATA, 0, 0xffffffff, SEG_TYPE_DATA_RW, 1, 0, 1));
	sregs.cr3 = cr3;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	return load_mode(vcpu, &sregs, lm->entry, lm->stack);
}
