/* SPDX-License-Identifier: MIT */
/*
 * Write the ACPI tables hvlib builds for a sample micro-VM into files, one
 * per table (rsdp.dat, xsdt.dat, facp.dat, apic.dat, dsdt.dat, ssdt.dat), for
 * ACPICA's tools to check (check_iasl.sh).  The sample has two virtio-mmio
 * devices, one above 4 GiB, a level-triggered shared device, and an extra
 * SSDT built with the AML writer that uses every kind of object and
 * resource descriptor the writer offers.
 *
 *	dump_tables OUTDIR [NR_CPUS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi_table.h"
#include "acpi/aml.h"
#include "hvlib/acpi.h"

#define BIOS_AREA 0xe0000ull
#define BIOS_BYTES 0x20000ull

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "dump_tables: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

/* An SSDT exercising the AML writer beyond what the DSDT needs. */
static int build_ssdt(uint8_t **out, size_t *len)
{
	static const uint8_t header[HV_ACPI_HEADER_BYTES];
	struct hv_aml_addr_space mem64 = {
		.type = HV_AML_SPACE_MEMORY,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.type_flags = HV_AML_MEM_RW | HV_AML_MEM_PREFETCHABLE,
		.min = 0x8000000000ull, .max = 0x8fffffffffull, .length = 0x1000000000ull,
	};
	struct hv_aml_addr_space mem32 = {
		.type = HV_AML_SPACE_MEMORY,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.type_flags = HV_AML_MEM_RW,
		.min = 0xc0000000, .max = 0xdfffffff, .length = 0x20000000,
	};
	struct hv_aml_addr_space bus = {
		.type = HV_AML_SPACE_BUS,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.min = 0, .max = 0xff, .length = 0x100,
	};
	static const uint32_t irqs[] = { 16, 17 };
	struct hv_aml a;
	int ret;

	hv_aml_init(&a);
	hv_aml_raw(&a, header, sizeof(header));
	hv_aml_scope_begin(&a, "\\_SB_");
	hv_aml_device_begin(&a, "TST0");
	hv_aml_name_string(&a, "_HID", "HVLB0001");
	hv_aml_name_eisaid(&a, "_CID", "PNP0C02");
	hv_aml_name_int(&a, "_UID", 0x123456789ull);
	hv_aml_method_begin(&a, "_STA", 0, false);
	hv_aml_return(&a);
	hv_aml_int(&a, 0x0f);
	hv_aml_end(&a);
	hv_aml_name(&a, "PKG0");
	hv_aml_package_begin(&a, 3);
	hv_aml_string(&a, "hvlib");
	hv_aml_int(&a, 0xffff);
	hv_aml_int(&a, UINT64_MAX);
	hv_aml_end(&a);
	hv_aml_name(&a, "_CRS");
	hv_aml_restemplate_begin(&a);
	hv_aml_res_word_space(&a, &bus);
	hv_aml_res_dword_space(&a, &mem32);
	hv_aml_res_qword_space(&a, &mem64);
	hv_aml_res_fixed_io(&a, 0x60, 1);
	hv_aml_res_irq(&a, 7, HV_AML_IRQ_ACTIVE_LOW | HV_AML_IRQ_SHARED);
	hv_aml_res_ext_irq(&a, HV_AML_IRQ_CONSUMER | HV_AML_IRQ_ACTIVE_LOW | HV_AML_IRQ_SHARED,
			   irqs, 2);
	hv_aml_end(&a);
	hv_aml_end(&a);
	hv_aml_end(&a);
	ret = hv_aml_take(&a, out, len);
	if (ret)
		return ret;
	hv_acpi_header(*out, "SSDT", (uint32_t)*len, 2);
	return 0; /* the builder sets the checksum of extra tables */
}

int main(int argc, char **argv)
{
	struct hv_acpi_device dev[3];
	struct hv_x86_acpi_config cfg;
	struct hv_x86_acpi_result res;
	struct hv_acpi_table extra;
	uint8_t *ssdt, *mem;
	uint64_t ssdt_addr;
	size_t ssdt_len;
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTDIR [NR_CPUS]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < 3; i++)
		hv_acpi_device_init(&dev[i]);
	dev[0].name = "VR00";
	dev[0].hid = "LNRO0005";
	dev[0].mmio_base = 0xd0000000;
	dev[0].mmio_len = 0x200;
	dev[0].irq = 5;
	dev[1].name = "VR01";
	dev[1].hid = "LNRO0005";
	dev[1].uid = 1;
	dev[1].mmio_base = 0x100000000ull;
	dev[1].mmio_len = 0x1000;
	dev[1].irq = 6;
	dev[2].hid = "HVLB0002";
	dev[2].irq = 20;
	dev[2].irq_flags = HV_ACPI_IRQ_LEVEL | HV_ACPI_IRQ_ACTIVE_LOW | HV_ACPI_IRQ_SHARED;
	dev[2].io_base = 0x500;
	dev[2].io_len = 16;

	if (build_ssdt(&ssdt, &ssdt_len)) {
		fprintf(stderr, "dump_tables: SSDT: %s\n", hv_last_error());
		return 1;
	}
	extra = (struct hv_acpi_table){ ssdt, (uint32_t)ssdt_len, 0 };
	hv_x86_acpi_config_init(&cfg);
	cfg.nr_cpus = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 4;
	cfg.devices = dev;
	cfg.nr_devices = 3;
	cfg.tables = &extra;
	cfg.nr_tables = 1;
	mem = calloc(1, BIOS_BYTES);
	if (!mem)
		return 1;
	ret = hv_x86_acpi_build_buffer(&cfg, mem, BIOS_BYTES, BIOS_AREA, &res);
	if (ret) {
		fprintf(stderr, "dump_tables: %s\n", hv_last_error());
		return 1;
	}
#define TABLE(addr) (mem + ((addr) - BIOS_AREA))
#define LEN(addr) hv_acpi_get32(TABLE(addr) + 4)
	ret = write_file(argv[1], "rsdp.dat", TABLE(res.rsdp_addr), HV_ACPI_RSDP_BYTES);
	ret |= write_file(argv[1], "xsdt.dat", TABLE(res.xsdt_addr), LEN(res.xsdt_addr));
	ret |= write_file(argv[1], "facp.dat", TABLE(res.fadt_addr), LEN(res.fadt_addr));
	ret |= write_file(argv[1], "apic.dat", TABLE(res.madt_addr), LEN(res.madt_addr));
	ret |= write_file(argv[1], "dsdt.dat", TABLE(res.dsdt_addr), LEN(res.dsdt_addr));
	/* The SSDT is the XSDT's third entry (after FACP and APIC). */
	ssdt_addr = hv_acpi_get32(TABLE(res.xsdt_addr) + 36 + 16) |
		    (uint64_t)hv_acpi_get32(TABLE(res.xsdt_addr) + 36 + 20) << 32;
	ret |= write_file(argv[1], "ssdt.dat", TABLE(ssdt_addr), LEN(ssdt_addr));
	free(mem);
	free(ssdt);
	return ret ? 1 : 0;
}
