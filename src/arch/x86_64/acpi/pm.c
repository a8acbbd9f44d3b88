/* SPDX-License-Identifier: MIT */
/*
 * Hardware-reduced ACPI power management as the FADT announces it: the
 * sleep control register (SLP_EN with the \_S5_ SLP_TYP powers off) and
 * the reset register (HV_X86_ACPI_RESET_VALUE resets).  Everything else
 * written there, and every read, asks for nothing.
 */
#include "arch/x86_64/acpi/acpi_x86.h"

enum hv_x86_acpi_pm_request hv_x86_acpi_pm_write(uint64_t offset, uint64_t value)
{
	const uint64_t control = 0, reset = HV_X86_ACPI_RESET_PORT - HV_X86_ACPI_SLEEP_CONTROL_PORT;

	if (offset == control && (value & HV_X86_ACPI_SLP_EN) &&
	    (value & HV_X86_ACPI_SLP_TYP_MASK) >> HV_X86_ACPI_SLP_TYP_SHIFT ==
		    HV_X86_ACPI_S5_SLP_TYP)
		return HV_X86_ACPI_PM_POWEROFF;
	if (offset == reset && value == HV_X86_ACPI_RESET_VALUE)
		return HV_X86_ACPI_PM_RESET;
	return HV_X86_ACPI_PM_NONE;
}
