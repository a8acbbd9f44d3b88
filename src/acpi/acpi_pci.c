/* SPDX-License-Identifier: MIT */
/*
 * The PCI root bridge as ACPI describes it (ACPI 6.x, 6.1-6.2 and 6.2.13
 * _PRT), in an SSDT so that the DSDT stays the same with or without PCI.
 * An OS with ACPI enumerates PCI from this root device; without it Linux
 * does not scan the bus at all on an ACPI machine.
 */
#include "acpi/acpi_pci.h"
#include "acpi/acpi_table.h"
#include "acpi/aml.h"
#include "util/error.h"

#define SSDT_REVISION 2 /* 64-bit integers */
#define PCI_PINS 4u

static void emit_crs(struct hv_aml *a, const struct hv_pci_host_config *c)
{
	const struct hv_aml_addr_space bus = {
		.type = HV_AML_SPACE_BUS,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.min = 0, .max = 0, .length = 1,
	};
	const struct hv_aml_addr_space mem = {
		.type = HV_AML_SPACE_MEMORY,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.type_flags = HV_AML_MEM_RW | HV_AML_MEM_NONCACHEABLE,
		.min = c->mmio_base, .max = c->mmio_base + c->mmio_len - 1, .length = c->mmio_len,
	};

	hv_aml_name(a, "_CRS");
	hv_aml_restemplate_begin(a);
	hv_aml_res_word_space(a, &bus);
	if (c->conf1_port)
		hv_aml_res_io(a, c->conf1_port, c->conf1_port, 1, 8);
	if (mem.max <= UINT32_MAX)
		hv_aml_res_dword_space(a, &mem);
	else
		hv_aml_res_qword_space(a, &mem);
	hv_aml_end(a);
}

/* Package { Package { slot << 16 | 0xffff, pin, 0, GSI }, ... }: the source
 * 0 means the last element is a GSI, not a link device's index. */
static void emit_prt(struct hv_aml *a, const struct hv_pci_host_config *c)
{
	hv_aml_name(a, "_PRT");
	hv_aml_package_begin(a, HV_PCI_MAX_SLOTS * PCI_PINS);
	for (uint32_t slot = 0; slot < HV_PCI_MAX_SLOTS; slot++) {
		for (uint32_t pin = 0; pin < PCI_PINS; pin++) {
			hv_aml_package_begin(a, 4);
			hv_aml_int(a, (uint64_t)slot << 16 | 0xffff);
			hv_aml_int(a, pin);
			hv_aml_int(a, 0);
			hv_aml_int(a, c->intx_gsi_base + (slot + pin) % PCI_PINS);
			hv_aml_end(a);
		}
	}
	hv_aml_end(a);
}

int hv_acpi_pci_ssdt(const struct hv_pci_host_config *c, uint8_t **out, size_t *len)
{
	static const uint8_t header[HV_ACPI_HEADER_BYTES];
	struct hv_aml a;
	uint8_t *buf;
	size_t n;
	int ret;

	hv_aml_init(&a);
	hv_aml_raw(&a, header, sizeof(header)); /* filled in below */
	hv_aml_scope_begin(&a, "\\_SB_");
	hv_aml_device_begin(&a, "PCI0");
	hv_aml_name_eisaid(&a, "_HID", "PNP0A08");
	hv_aml_name_eisaid(&a, "_CID", "PNP0A03");
	hv_aml_name_int(&a, "_SEG", 0);
	hv_aml_name_int(&a, "_BBN", 0);
	hv_aml_name_int(&a, "_UID", 0);
	emit_crs(&a, c);
	emit_prt(&a, c);
	hv_aml_end(&a); /* device */
	hv_aml_end(&a); /* scope */
	ret = hv_aml_take(&a, &buf, &n);
	if (ret)
		return hv_err_context(ret, "building the PCI SSDT");
	hv_acpi_header(buf, "SSDT", (uint32_t)n, SSDT_REVISION);
	hv_acpi_finish(buf);
	*out = buf;
	*len = n;
	return 0;
}
