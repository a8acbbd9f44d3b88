/* SPDX-License-Identifier: MIT */
/*
 * MADT (ACPI 6.x, 5.2.12): one Processor Local APIC per vCPU, the I/O APIC,
 * optionally the PC's IRQ 0 -> GSI 2 override, and LINT1 as NMI on every
 * processor.
 */
#include <string.h>

#include "arch/x86_64/acpi/acpi_x86.h"

#define MADT_REVISION     5 /* ACPI 6.3 */
#define MADT_PCAT_COMPAT  (1u << 0) /* 8259 PICs present: the OS masks them */

/* Interrupt controller structure types and lengths. */
#define MADT_LAPIC        0
#define MADT_LAPIC_LEN    8
#define MADT_IOAPIC       1
#define MADT_IOAPIC_LEN   12
#define MADT_ISO          2
#define MADT_ISO_LEN      10
#define MADT_LAPIC_NMI    4
#define MADT_LAPIC_NMI_LEN 6

#define LAPIC_ENABLED     (1u << 0)
/* MPS INTI flags: polarity in bits 1-0, trigger mode in bits 3-2. */
#define MPS_ACTIVE_HIGH   0x1u
#define MPS_EDGE          (0x1u << 2)
#define ALL_PROCESSORS    0xff /* ACPI processor UID meaning "every processor" */

uint32_t hv_x86_madt_bytes(const struct hv_x86_acpi_config *cfg)
{
	uint32_t n = HV_ACPI_HEADER_BYTES + 8 + cfg->nr_cpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN +
		     MADT_LAPIC_NMI_LEN;

	if (cfg->flags & HV_X86_ACPI_F_IRQ0_OVERRIDE)
		n += MADT_ISO_LEN;
	return n;
}

void hv_x86_madt(uint8_t *t, const struct hv_x86_acpi_config *cfg)
{
	uint32_t len = hv_x86_madt_bytes(cfg);
	uint8_t *p = t + HV_ACPI_HEADER_BYTES + 8;

	memset(t, 0, len);
	hv_acpi_header(t, "APIC", len, MADT_REVISION);
	hv_acpi_put32(t + HV_ACPI_HEADER_BYTES, (uint32_t)cfg->lapic_addr);
	hv_acpi_put32(t + HV_ACPI_HEADER_BYTES + 4, MADT_PCAT_COMPAT);
	/* Processor UID = APIC id = vCPU index: 0-254, so ALL_PROCESSORS below
	 * never names one processor. */
	for (uint32_t i = 0; i < cfg->nr_cpus; i++, p += MADT_LAPIC_LEN) {
		p[0] = MADT_LAPIC;
		p[1] = MADT_LAPIC_LEN;
		p[2] = (uint8_t)i;
		p[3] = (uint8_t)i;
		hv_acpi_put32(p + 4, LAPIC_ENABLED);
	}
	p[0] = MADT_IOAPIC;
	p[1] = MADT_IOAPIC_LEN;
	p[2] = (uint8_t)cfg->ioapic_id;
	hv_acpi_put32(p + 4, (uint32_t)cfg->ioapic_addr);
	hv_acpi_put32(p + 8, 0); /* GSI base: pin n is GSI n */
	p += MADT_IOAPIC_LEN;
	if (cfg->flags & HV_X86_ACPI_F_IRQ0_OVERRIDE) {
		p[0] = MADT_ISO;
		p[1] = MADT_ISO_LEN;
		p[2] = 0; /* bus: ISA */
		p[3] = 0; /* source: IRQ 0, the PIT */
		hv_acpi_put32(p + 4, 2);
		hv_acpi_put16(p + 8, MPS_ACTIVE_HIGH | MPS_EDGE);
		p += MADT_ISO_LEN;
	}
	p[0] = MADT_LAPIC_NMI;
	p[1] = MADT_LAPIC_NMI_LEN;
	p[2] = ALL_PROCESSORS;
	hv_acpi_put16(p + 3, MPS_ACTIVE_HIGH | MPS_EDGE);
	p[5] = 1; /* LINT1, as hv_x86_setup_platform_vcpu() programs it */
	hv_acpi_finish(t);
}
