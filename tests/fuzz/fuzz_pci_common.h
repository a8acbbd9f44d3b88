/* SPDX-License-Identifier: MIT */
/*
 * A PCI host on the rig's buses for the PCI targets: conf1 at 0xcf8, ECAM
 * at FZ_ECAM, the BAR aperture at FZ_APERTURE (the first BAR placed lands
 * at its start), interrupts counted.
 */
#ifndef HV_TESTS_FUZZ_PCI_COMMON_H
#define HV_TESTS_FUZZ_PCI_COMMON_H

#include "fuzz_util.h"
#include "pci/pci_internal.h"

#define FZ_ECAM 0xb0000000ull
#define FZ_APERTURE 0xc0000000ull
#define FZ_APERTURE_LEN 0x100000ull

static inline struct hv_pci_host *fz_pci_host(struct fz_rig *r)
{
	struct hv_pci_host_config hc;
	struct hv_pci_host *host;

	hv_pci_host_config_init(&hc);
	hc.pio_bus = r->pio;
	hc.mmio_bus = r->mmio;
	hc.ecam_base = FZ_ECAM;
	hc.mmio_base = FZ_APERTURE;
	hc.mmio_len = FZ_APERTURE_LEN;
	hc.set_irq = fz_irq_line;
	hc.signal_msi = fz_msi;
	return hv_pci_host_create(&hc, &host) ? NULL : host;
}

#endif /* HV_TESTS_FUZZ_PCI_COMMON_H */
