/* SPDX-License-Identifier: MIT */
/* The PCI host bridge in ACPI: an SSDT with its root device. */
#ifndef HV_ACPI_PCI_H
#define HV_ACPI_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "hvlib/pci.h"

/*
 * An SSDT describing the host of cfg, header and checksum included, in a
 * new buffer (*out, free()):
 *	Scope (\_SB) { Device (PCI0) {
 *		_HID PNP0A08 (PCI Express root), _CID PNP0A03, _SEG 0, _BBN 0, _UID 0,
 *		_CRS: bus 0, the configuration ports, the BAR aperture,
 *		_PRT: INTA-INTD of every slot to their GSIs (hv_pci_host_intx_gsi())
 *	} }
 * -ENOMEM, or the AML writer's error.
 */
int hv_acpi_pci_ssdt(const struct hv_pci_host_config *cfg, uint8_t **out, size_t *len);

#endif /* HV_ACPI_PCI_H */
