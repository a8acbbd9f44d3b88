/* SPDX-License-Identifier: MIT */
/*
 * Resource descriptors for resource templates (ACPI 6.x, 6.4): the small
 * items IRQ, I/O and Fixed I/O, and the large items 32-bit Fixed Memory,
 * Word/DWord/QWord Address Space and Extended Interrupt.  All multi-byte
 * fields are little-endian.
 */
#include <errno.h>

#include "acpi/aml.h"

/* Small item tags: type in bits 6-3, length in bits 2-0 (6.4.2). */
#define RES_IRQ_NOFLAGS 0x22 /* type 0x4, length 2 */
#define RES_IRQ         0x23 /* type 0x4, length 3 */
#define RES_IO          0x47 /* type 0x8, length 7 */
#define RES_FIXED_IO    0x4b /* type 0x9, length 3 */
/* Large item tags: bit 7 set, type in bits 6-0, then a 16-bit length (6.4.3). */
#define RES_MEMORY32_FIXED 0x86
#define RES_DWORD_SPACE    0x87
#define RES_WORD_SPACE     0x88
#define RES_EXT_IRQ        0x89
#define RES_QWORD_SPACE    0x8a

void hv_aml_res_memory32_fixed(struct hv_aml *a, bool rw, uint32_t base, uint32_t len)
{
	if (hv_aml_not_in_restemplate(a, "Memory32Fixed outside a resource template"))
		return;
	hv_aml_byte(a, RES_MEMORY32_FIXED);
	hv_aml_le(a, 9, 2);
	hv_aml_byte(a, rw ? 1 : 0); /* bit 0: _RW */
	hv_aml_le(a, base, 4);
	hv_aml_le(a, len, 4);
}

void hv_aml_res_io(struct hv_aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	if (hv_aml_not_in_restemplate(a, "IO outside a resource template"))
		return;
	hv_aml_byte(a, RES_IO);
	hv_aml_byte(a, 1); /* bit 0: _DEC, decodes 16 address bits */
	hv_aml_le(a, min, 2);
	hv_aml_le(a, max, 2);
	hv_aml_byte(a, align);
	hv_aml_byte(a, len);
}

void hv_aml_res_fixed_io(struct hv_aml *a, uint16_t base, uint8_t len)
{
	if (hv_aml_not_in_restemplate(a, "FixedIO outside a resource template"))
		return;
	if (base > 0x3ff) {
		hv_aml_fail(a, -EINVAL, "FixedIO decodes 10 address bits: base above 0x3ff");
		return;
	}
	hv_aml_byte(a, RES_FIXED_IO);
	hv_aml_le(a, base, 2);
	hv_aml_byte(a, len);
}

void hv_aml_res_irq(struct hv_aml *a, unsigned int irq, uint32_t flags)
{
	uint32_t f = flags & ~HV_AML_IRQ_CONSUMER;
	uint8_t info;

	if (hv_aml_not_in_restemplate(a, "IRQ outside a resource template"))
		return;
	if (irq > 15 || (flags & ~HV_AML_IRQ_ALL)) {
		hv_aml_fail(a, -EINVAL, "IRQ descriptor: IRQ above 15 or unknown flags");
		return;
	}
	hv_aml_byte(a, f == HV_AML_IRQ_EDGE ? RES_IRQ_NOFLAGS : RES_IRQ);
	hv_aml_le(a, 1u << irq, 2);
	/* Without the information byte the IRQ is edge, active-high, exclusive
	 * (IRQNoFlags).  Otherwise: bit 0 _HE, bit 3 _LL, bit 4 _SHR, bit 5 wake. */
	if (f == HV_AML_IRQ_EDGE)
		return;
	info = (f & HV_AML_IRQ_EDGE) ? 0x01 : 0;
	info |= (f & HV_AML_IRQ_ACTIVE_LOW) ? 0x08 : 0;
	info |= (f & HV_AML_IRQ_SHARED) ? 0x10 : 0;
	info |= (f & HV_AML_IRQ_WAKE) ? 0x20 : 0;
	hv_aml_byte(a, info);
}

void hv_aml_res_ext_irq(struct hv_aml *a, uint32_t flags, const uint32_t *irqs, unsigned int n)
{
	if (hv_aml_not_in_restemplate(a, "Interrupt outside a resource template"))
		return;
	if (!irqs || n == 0 || n > 255 || (flags & ~HV_AML_IRQ_ALL)) {
		hv_aml_fail(a, -EINVAL, "Interrupt descriptor: 1-255 interrupts, known flags");
		return;
	}
	hv_aml_byte(a, RES_EXT_IRQ);
	hv_aml_le(a, 2 + 4 * n, 2);
	hv_aml_byte(a, (uint8_t)flags); /* the HV_AML_IRQ_* bits are the spec's */
	hv_aml_byte(a, (uint8_t)n);
	for (unsigned int i = 0; i < n; i++)
		hv_aml_le(a, irqs[i], 4);
}

/* The checks every address space descriptor shares; width in bytes. */
static bool bad_space(struct hv_aml *a, const struct hv_aml_addr_space *s, unsigned int width,
		      const char *what)
{
	uint64_t top = width == 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
	bool fixed = (s->general_flags & (HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED)) ==
		     (HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED);

	if (hv_aml_not_in_restemplate(a, what))
		return true;
	if (s->type > HV_AML_SPACE_BUS || (s->general_flags & ~0x0fu) || s->granularity > top ||
	    s->min > top || s->max > top || s->translation > top || s->length > top ||
	    s->min > s->max) {
		hv_aml_fail(a, -EINVAL, "address space descriptor: bad type, flags or range");
		return true;
	}
	/* A fixed-size, fixed-location window must say the same thing twice
	 * (6.4.3.5, "Valid Combination of Address Space Descriptor Fields"). */
	if (fixed && s->length && s->max - s->min != s->length - 1) {
		hv_aml_fail(a, -EINVAL, "address space descriptor: fixed window whose length "
					"is not max - min + 1");
		return true;
	}
	return false;
}

static void space(struct hv_aml *a, const struct hv_aml_addr_space *s, uint8_t tag,
		  unsigned int width)
{
	hv_aml_byte(a, tag);
	hv_aml_le(a, 3 + 5 * width, 2);
	hv_aml_byte(a, s->type);
	hv_aml_byte(a, s->general_flags);
	hv_aml_byte(a, s->type_flags);
	hv_aml_le(a, s->granularity, width);
	hv_aml_le(a, s->min, width);
	hv_aml_le(a, s->max, width);
	hv_aml_le(a, s->translation, width);
	hv_aml_le(a, s->length, width);
}

void hv_aml_res_word_space(struct hv_aml *a, const struct hv_aml_addr_space *s)
{
	if (!bad_space(a, s, 2, "WordSpace outside a resource template"))
		space(a, s, RES_WORD_SPACE, 2);
}

void hv_aml_res_dword_space(struct hv_aml *a, const struct hv_aml_addr_space *s)
{
	if (!bad_space(a, s, 4, "DWordSpace outside a resource template"))
		space(a, s, RES_DWORD_SPACE, 4);
}

void hv_aml_res_qword_space(struct hv_aml *a, const struct hv_aml_addr_space *s)
{
	if (!bad_space(a, s, 8, "QWordSpace outside a resource template"))
		space(a, s, RES_QWORD_SPACE, 8);
}
