/* SPDX-License-Identifier: MIT */
/* Common ACPI table pieces: header, checksum, GAS, RSDP, XSDT. */
#include <errno.h>
#include <string.h>

#include "acpi/acpi_table.h"
#include "util/error.h"

/* Signatures of the tables hvlib writes or that must not sit in the XSDT. */
static const char *const own_signatures[] = { "RSD ", "XSDT", "RSDT", "FACP", "FACS",
					      "APIC", "DSDT" };

uint8_t hv_acpi_checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)(0x100 - sum);
}

void hv_acpi_header(uint8_t *t, const char *signature, uint32_t length, uint8_t revision)
{
	memcpy(t, signature, 4);
	hv_acpi_put32(t + 4, length);
	t[8] = revision;
	t[9] = 0; /* checksum, set by hv_acpi_finish() */
	memcpy(t + 10, HV_ACPI_OEM_ID, 6);
	memcpy(t + 16, HV_ACPI_OEM_TABLE_ID, 8);
	hv_acpi_put32(t + 24, HV_ACPI_OEM_REVISION);
	memcpy(t + 28, HV_ACPI_CREATOR_ID, 4);
	hv_acpi_put32(t + 32, hv_version());
}

void hv_acpi_finish(uint8_t *t)
{
	t[9] = 0;
	t[9] = hv_acpi_checksum(t, hv_acpi_get32(t + 4));
}

void hv_acpi_gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access_size,
		 uint64_t address)
{
	p[0] = space;
	p[1] = bit_width;
	p[2] = 0; /* bit offset */
	p[3] = access_size;
	hv_acpi_put64(p + 4, address);
}

void hv_acpi_rsdp(uint8_t p[HV_ACPI_RSDP_BYTES], uint64_t xsdt_addr)
{
	memset(p, 0, HV_ACPI_RSDP_BYTES);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, HV_ACPI_OEM_ID, 6);
	p[15] = 2; /* revision: ACPI 2.0+ layout with the XSDT */
	/* RsdtAddress (offset 16) stays 0: an OS that reads revision 2 uses
	 * the XSDT, and the XSDT can point anywhere in 64 bits. */
	hv_acpi_put32(p + 20, HV_ACPI_RSDP_BYTES);
	hv_acpi_put64(p + 24, xsdt_addr);
	p[8] = hv_acpi_checksum(p, HV_ACPI_RSDP_V1_BYTES);
	p[32] = hv_acpi_checksum(p, HV_ACPI_RSDP_BYTES);
}

void hv_acpi_xsdt(uint8_t *p, const uint64_t *addrs, uint32_t n)
{
	hv_acpi_header(p, "XSDT", hv_acpi_xsdt_bytes(n), 1);
	for (uint32_t i = 0; i < n; i++)
		hv_acpi_put64(p + HV_ACPI_HEADER_BYTES + 8 * i, addrs[i]);
	hv_acpi_finish(p);
}

int hv_acpi_check_extra_table(const struct hv_acpi_table *t, uint32_t index)
{
	const uint8_t *d = t->data;

	if (!d || t->bytes < HV_ACPI_HEADER_BYTES || t->reserved)
		return hv_err(-EINVAL, "extra ACPI table %u: no data, shorter than its 36-byte "
				       "header, or reserved field set", index);
	if (hv_acpi_get32(d + 4) != t->bytes)
		return hv_err(-EINVAL, "extra ACPI table %u: header length %u but %u bytes given",
			      index, hv_acpi_get32(d + 4), t->bytes);
	for (int i = 0; i < 4; i++)
		if (d[i] < 0x20 || d[i] > 0x7e)
			return hv_err(-EINVAL, "extra ACPI table %u: signature is not printable",
				      index);
	for (size_t i = 0; i < HV_ARRAY_SIZE(own_signatures); i++)
		if (!memcmp(d, own_signatures[i], 4))
			return hv_err(-EINVAL, "extra ACPI table %u: hvlib writes the %.4s table "
					       "itself", index, own_signatures[i]);
	return 0;
}
