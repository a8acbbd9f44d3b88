/* SPDX-License-Identifier: MIT */
/*
 * x86 ACPI tables (hvlib/acpi.h): the pieces behind hv_x86_acpi_build().
 * config.c validates a config into a plan, fadt.c/madt.c/dsdt.c build one
 * table each, build.c lays them out and writes them.
 */
#ifndef HV_ARCH_X86_64_ACPI_X86_H
#define HV_ARCH_X86_64_ACPI_X86_H

#include <stddef.h>
#include <stdint.h>

#include "acpi/acpi_device.h"
#include "acpi/acpi_table.h"
#include "hvlib/acpi.h"

#define HV_X86_FADT_BYTES  276u /* FADT revision 6 (ACPI 6.x) */
#define HV_X86_TABLE_ALIGN 16u  /* each table starts on this boundary */

/* A config that passed validation, with defaults resolved and the DSDT's
 * devices gathered (COM1 first, unless left out, then the embedder's). */
struct hv_x86_acpi_plan {
	const struct hv_x86_acpi_config *cfg; /* &copy */
	struct hv_x86_acpi_config copy;       /* the caller's, full size (util/config.h) */
	uint64_t rsdp_addr;
	uint64_t tables_addr;
	struct hv_acpi_dev *devs;
	uint32_t nr_devs;
};

/* Validate cfg into *plan (hv_x86_acpi_plan_release() afterwards, even on
 * failure).  Checks everything but where the tables end up.  -EINVAL,
 * -EEXIST, -ENOMEM. */
int hv_x86_acpi_plan(const struct hv_x86_acpi_config *cfg, struct hv_x86_acpi_plan *plan);
void hv_x86_acpi_plan_release(struct hv_x86_acpi_plan *plan);

/* FADT (HV_X86_FADT_BYTES at t), checksum set. */
void hv_x86_fadt(uint8_t *t, const struct hv_x86_acpi_config *cfg, uint64_t dsdt_addr);

/* MADT: its length, and the table (checksum set). */
uint32_t hv_x86_madt_bytes(const struct hv_x86_acpi_config *cfg);
void hv_x86_madt(uint8_t *t, const struct hv_x86_acpi_config *cfg);

/* DSDT, header and checksum included, in a new buffer (*out, free()). */
int hv_x86_dsdt(const struct hv_x86_acpi_plan *plan, uint8_t **out, size_t *len);

/* Everything to write: the RSDP and the tables, with what goes where. */
struct hv_x86_acpi_image {
	uint8_t rsdp[HV_ACPI_RSDP_BYTES];
	uint8_t *tables;
	size_t tables_bytes;
	struct hv_x86_acpi_result result;
};

/* Build the image for cfg.  -EINVAL, -EEXIST, -ENOSPC, -ENOMEM. */
int hv_x86_acpi_image(const struct hv_x86_acpi_config *cfg, struct hv_x86_acpi_image *img);
void hv_x86_acpi_image_release(struct hv_x86_acpi_image *img);

/* What a guest write of value to the power-management ports asks for;
 * offset counts from HV_X86_ACPI_SLEEP_CONTROL_PORT (pm.c). */
enum hv_x86_acpi_pm_request { HV_X86_ACPI_PM_NONE, HV_X86_ACPI_PM_POWEROFF, HV_X86_ACPI_PM_RESET };
enum hv_x86_acpi_pm_request hv_x86_acpi_pm_write(uint64_t offset, uint64_t value);

#endif /* HV_ARCH_X86_64_ACPI_X86_H */
