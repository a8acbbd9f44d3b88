/* SPDX-License-Identifier: MIT */
/*
 * Architecture-neutral pieces of ACPI tables (ACPI 6.x, 5.2): the common
 * table header, checksums, Generic Address Structures, RSDP and XSDT, and
 * checks of tables the embedder supplies.  Tables are built in host byte
 * arrays with explicit little-endian stores, never through packed structs.
 */
#ifndef HV_ACPI_TABLE_H
#define HV_ACPI_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "hvlib/acpi.h"

#define HV_ACPI_HEADER_BYTES 36u
#define HV_ACPI_RSDP_BYTES   36u
#define HV_ACPI_RSDP_V1_BYTES 20u /* what the first checksum covers */
#define HV_ACPI_GAS_BYTES    12u

#define HV_ACPI_OEM_ID       "HVLIB "   /* 6 characters */
#define HV_ACPI_OEM_TABLE_ID "HVLIBVM " /* 8 characters */
#define HV_ACPI_OEM_REVISION 1u
#define HV_ACPI_CREATOR_ID   "HVLB"     /* 4 characters */

/* Generic Address Structure (5.2.3.2): address space ids and access sizes. */
#define HV_ACPI_GAS_MEMORY 0u
#define HV_ACPI_GAS_IO     1u
#define HV_ACPI_GAS_ACCESS_BYTE 1u

static inline void hv_acpi_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void hv_acpi_put32(uint8_t *p, uint32_t v)
{
	hv_acpi_put16(p, (uint16_t)v);
	hv_acpi_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void hv_acpi_put64(uint8_t *p, uint64_t v)
{
	hv_acpi_put32(p, (uint32_t)v);
	hv_acpi_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t hv_acpi_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The byte that makes n bytes at p sum to zero (mod 256) if added. */
uint8_t hv_acpi_checksum(const void *p, size_t n);

/* The 36-byte header (5.2.6) with hvlib's OEM fields; checksum 0 for now. */
void hv_acpi_header(uint8_t *t, const char *signature, uint32_t length, uint8_t revision);

/* Set the header checksum over the table's length field's worth of bytes. */
void hv_acpi_finish(uint8_t *t);

/* A Generic Address Structure at p. */
void hv_acpi_gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access_size,
		 uint64_t address);

/* RSDP revision 2 (5.2.5.3), both checksums set, no RSDT. */
void hv_acpi_rsdp(uint8_t p[HV_ACPI_RSDP_BYTES], uint64_t xsdt_addr);

/* Bytes of an XSDT with n entries. */
static inline uint32_t hv_acpi_xsdt_bytes(uint32_t n)
{
	return HV_ACPI_HEADER_BYTES + 8 * n;
}

/* The XSDT (5.2.8) pointing at addrs[0 .. n - 1], checksum set. */
void hv_acpi_xsdt(uint8_t *p, const uint64_t *addrs, uint32_t n);

/* Check an embedder's table (struct hv_acpi_table): length, header,
 * signature not one hvlib writes.  index names it in messages.  -EINVAL. */
int hv_acpi_check_extra_table(const struct hv_acpi_table *t, uint32_t index);

#endif /* HV_ACPI_TABLE_H */
