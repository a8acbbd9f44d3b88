/* SPDX-License-Identifier: MIT */
/*
 * The ACPI power-management ports (sleep control, sleep status, reset) as
 * the micro-VM wires them: guest writes decoded by hv_x86_acpi_pm_write().
 * Records as in fuzz_util.h, window 0 the three ports from
 * HV_X86_ACPI_SLEEP_CONTROL_PORT.  Oracle, from the ACPI spec rather than
 * the code: power off only for SLP_EN with SLP_TYP 5 at the control port,
 * reset only for the reset value at the reset port.
 */
#include "arch/x86_64/acpi/acpi_x86.h"
#include "fuzz_util.h"
#include "hvlib/acpi.h"
#include "hvlib/bus.h"

static int pm_io(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value)
{
	enum hv_x86_acpi_pm_request want = HV_X86_ACPI_PM_NONE;
	uint64_t v = *value;

	(void)opaque;
	if (!is_write) {
		*value = 0;
		return 0;
	}
	if (offset == 0 && (v & 0x20) && ((v >> 2) & 7) == 5)
		want = HV_X86_ACPI_PM_POWEROFF;
	else if (offset == 2 && v == 1)
		want = HV_X86_ACPI_PM_RESET;
	if (width > 8 || hv_x86_acpi_pm_write(offset, v) != want)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_rig r;

	if (fz_rig_init(&r) ||
	    hv_bus_register(r.pio, HV_X86_ACPI_SLEEP_CONTROL_PORT, 3, pm_io, NULL, "acpi-pm", NULL))
		abort();
	fz_rig_window(&r, r.pio, HV_X86_ACPI_SLEEP_CONTROL_PORT, 3);
	fz_rig_run(&r, data, size);
	fz_rig_fini(&r);
	return 0;
}
