/* SPDX-License-Identifier: MIT */
/*
 * Devices announced in the DSDT (struct hv_acpi_device), architecture-
 * neutral: importing the embedder's array, validating, and emitting AML.
 */
#ifndef HV_ACPI_DEVICE_H
#define HV_ACPI_DEVICE_H

#include <stdint.h>

#include "acpi/aml.h"
#include "hvlib/acpi.h"

/* struct hv_acpi_dev.index of a device hvlib adds itself (COM1). */
#define HV_ACPI_DEV_BUILTIN UINT32_MAX

/* A device as the builders use it: a copy of the embedder's struct at this
 * version's size, with its name resolved and padded to 4 characters. */
struct hv_acpi_dev {
	struct hv_acpi_device d;
	char name[5];
	uint32_t index; /* in the embedder's array, for messages; or HV_ACPI_DEV_BUILTIN */
};

/*
 * Copy n devices from the embedder's array into out[0 .. n - 1] and check
 * each (hv_acpi_dev_check()).  The array's stride is devs[0].size: every
 * element must have that size, at least this version's, and any fields
 * beyond this version's must be zero.  -EINVAL.
 */
int hv_acpi_devices_import(const struct hv_acpi_device *devs, uint32_t n, uint32_t nr_gsis,
			   struct hv_acpi_dev *out);

/* Check one device on its own and resolve its name (e->d and e->index set).
 * Interrupts must be below nr_gsis.  -EINVAL. */
int hv_acpi_dev_check(struct hv_acpi_dev *e, uint32_t nr_gsis);

/* No two devices may share a name, a _HID/_UID pair, or overlapping memory
 * or I/O ranges.  -EEXIST. */
int hv_acpi_devices_check_unique(const struct hv_acpi_dev *devs, uint32_t n);

/* Device (name) { _HID, _UID, _CRS } into the current scope. */
void hv_acpi_aml_device(struct hv_aml *a, const struct hv_acpi_dev *e);

#endif /* HV_ACPI_DEVICE_H */
