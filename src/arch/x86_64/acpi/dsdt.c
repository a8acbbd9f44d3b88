/* SPDX-License-Identifier: MIT */
/*
 * DSDT (ACPI 6.x, 5.2.11.1):
 *	Scope (\_SB) { Device (COM1) {...} <the embedder's devices> }
 *	Name (\_S5, Package (4) { 5, 5, 0, 0 })
 * Revision 2: integers are 64 bits wide.
 */
#include <stdlib.h>

#include "arch/x86_64/acpi/acpi_x86.h"
#include "util/error.h"

#define DSDT_REVISION 2

int hv_x86_dsdt(const struct hv_x86_acpi_plan *plan, uint8_t **out, size_t *len)
{
	static const uint8_t header[HV_ACPI_HEADER_BYTES];
	struct hv_aml a;
	uint8_t *buf;
	size_t n;
	int ret;

	hv_aml_init(&a);
	hv_aml_raw(&a, header, sizeof(header)); /* filled in below */
	if (plan->nr_devs) {
		hv_aml_scope_begin(&a, "\\_SB_");
		for (uint32_t i = 0; i < plan->nr_devs; i++)
			hv_acpi_aml_device(&a, &plan->devs[i]);
		hv_aml_end(&a);
	}
	/* Without it an OS cannot power off through the sleep registers.  The
	 * package is SLP_TYPa, SLP_TYPb, then two reserved entries. */
	if (plan->cfg->sleep_control_port) {
		hv_aml_name(&a, "\\_S5_");
		hv_aml_package_begin(&a, 4);
		hv_aml_int(&a, HV_X86_ACPI_S5_SLP_TYP);
		hv_aml_int(&a, HV_X86_ACPI_S5_SLP_TYP);
		hv_aml_int(&a, 0);
		hv_aml_int(&a, 0);
		hv_aml_end(&a);
	}
	ret = hv_aml_take(&a, &buf, &n);
	if (ret)
		return hv_err_context(ret, "building the DSDT");
	/* n <= HV_AML_DEFAULT_LIMIT, so it fits the 32-bit length. */
	hv_acpi_header(buf, "DSDT", (uint32_t)n, DSDT_REVISION);
	hv_acpi_finish(buf);
	*out = buf;
	*len = n;
	return 0;
}
