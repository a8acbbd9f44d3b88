/* SPDX-License-Identifier: MIT */
/*
 * FADT (ACPI 6.x, 5.2.9) for hardware-reduced ACPI: no FACS, SCI, PM1/GPE
 * blocks or PM timer; sleep control/status and reset are Generic Address
 * Structures in system I/O space, one byte each.
 */
#include <string.h>

#include "arch/x86_64/acpi/acpi_x86.h"

/* Field offsets (Table 5.9). */
#define FADT_DSDT            40
#define FADT_IAPC_BOOT_ARCH  109
#define FADT_FLAGS           112
#define FADT_RESET_REG       116
#define FADT_RESET_VALUE     128
#define FADT_MINOR_VERSION   131
#define FADT_X_DSDT          140
#define FADT_SLEEP_CONTROL   244
#define FADT_SLEEP_STATUS    256
#define FADT_HYPERVISOR_ID   268

/* Fixed feature flags (Table 5.10). */
#define FADT_F_WBINVD          (1u << 0)
#define FADT_F_PWR_BUTTON      (1u << 4)  /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON      (1u << 5)  /* no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP   (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

#define FADT_REVISION      6
#define FADT_MINOR         3 /* ACPI 6.3; errata 0 in bits 7-4 */

_Static_assert(FADT_HYPERVISOR_ID + 8 == HV_X86_FADT_BYTES, "FADT layout");

void hv_x86_fadt(uint8_t *t, const struct hv_x86_acpi_config *cfg, uint64_t dsdt_addr)
{
	uint32_t flags = FADT_F_WBINVD | FADT_F_HW_REDUCED_ACPI;

	memset(t, 0, HV_X86_FADT_BYTES);
	hv_acpi_header(t, "FACP", HV_X86_FADT_BYTES, FADT_REVISION);
	/* Both DSDT fields when the address fits 32 bits: the OS then finds
	 * them equal, and one that reads only the old field works too. */
	if (dsdt_addr <= UINT32_MAX)
		hv_acpi_put32(t + FADT_DSDT, (uint32_t)dsdt_addr);
	hv_acpi_put64(t + FADT_X_DSDT, dsdt_addr);
	hv_acpi_put16(t + FADT_IAPC_BOOT_ARCH, cfg->boot_arch);
	/* Buttons, if any, are devices in the namespace; declaring the fixed
	 * ones absent keeps the OS from creating them. */
	flags |= FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON;
	if (cfg->reset_port) {
		flags |= FADT_F_RESET_REG_SUP;
		hv_acpi_gas(t + FADT_RESET_REG, HV_ACPI_GAS_IO, 8, HV_ACPI_GAS_ACCESS_BYTE,
			    cfg->reset_port);
		t[FADT_RESET_VALUE] = cfg->reset_value;
	}
	hv_acpi_put32(t + FADT_FLAGS, flags);
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	if (cfg->sleep_control_port) {
		hv_acpi_gas(t + FADT_SLEEP_CONTROL, HV_ACPI_GAS_IO, 8, HV_ACPI_GAS_ACCESS_BYTE,
			    cfg->sleep_control_port);
		hv_acpi_gas(t + FADT_SLEEP_STATUS, HV_ACPI_GAS_IO, 8, HV_ACPI_GAS_ACCESS_BYTE,
			    cfg->sleep_status_port);
	}
	memcpy(t + FADT_HYPERVISOR_ID, "HVLIB", 5);
	hv_acpi_finish(t);
}
