/* SPDX-License-Identifier: MIT */
/*
 * hvlib/virtio_pci.h - the virtio-pci transport, modern interface only
 * (virtio 1.2, 4.1): any struct hv_virtio_dev (hvlib/virtio.h) as a PCI
 * function on a host bridge (hvlib/pci.h).
 *
 * The function: vendor 0x1af4, device 0x1040 + virtio device id, revision
 * 1, a class code per device type (block: mass storage, net: network,
 * console: communication, others: unclassified), subsystem 0x1af4:0x1100,
 * INTA.  One 32-bit memory BAR (BAR 0, HV_VIRTIO_PCI_BAR_SIZE bytes) holds
 * every structure the capabilities point at:
 *	0x0000  common configuration          (VIRTIO_PCI_CAP_COMMON_CFG)
 *	0x1000  ISR status                    (VIRTIO_PCI_CAP_ISR_CFG)
 *	0x2000  device-specific configuration (VIRTIO_PCI_CAP_DEVICE_CFG)
 *	0x3000  notifications, 4 bytes per queue (notify_off_multiplier 4,
 *	        queue_notify_off = queue index)  (VIRTIO_PCI_CAP_NOTIFY_CFG)
 *	0x4000  MSI-X table, 0x5000 its pending bits: one vector per queue and
 *	        one for configuration changes
 * and VIRTIO_PCI_CAP_PCI_CFG gives access to all of it through config
 * space.  With MSI-X enabled each queue and the configuration interrupt use
 * the vector the driver assigned (NO_VECTOR: none); otherwise the function
 * raises INTA, level-triggered, until the driver reads the ISR.
 *
 * The device core is the same as on virtio-mmio: a device works on either
 * transport unchanged (never both at once).
 *
 * Call order and threading as hvlib/virtio.h, with hv_virtio_pci_create()
 * and hv_virtio_pci_destroy() in place of the virtio-mmio ones; the host
 * must outlive its devices.  Configs are copied.
 */
#ifndef HVLIB_VIRTIO_PCI_H
#define HVLIB_VIRTIO_PCI_H

#include <stdint.h>

#include "common.h"
#include "pci.h"
#include "virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_virtio_pci;

#define HV_VIRTIO_PCI_DEVICE_BASE 0x1040u
#define HV_VIRTIO_PCI_BAR_SIZE 0x8000u

struct hv_virtio_pci_config {
	uint32_t size;          /* sizeof(struct hv_virtio_pci_config) */
	uint32_t flags;         /* none yet: must be 0 */
	struct hv_pci_host *host; /* required; borrowed */
	uint32_t slot;          /* device number 1-31; 0: the first free one */
	uint32_t reserved;      /* must be 0 */
};

HV_EXPORT void hv_virtio_pci_config_init(struct hv_virtio_pci_config *cfg);

/* Put dev on the host's bus.  Caller owns *out until hv_virtio_pci_destroy();
 * dev must outlive it.  -EINVAL (bad config), -EBUSY (dev already has a
 * transport, or the slot is taken), -ENOSPC (no slot or BAR space left),
 * -ENOMEM. */
HV_EXPORT int hv_virtio_pci_create(struct hv_virtio_dev *dev,
				   const struct hv_virtio_pci_config *cfg,
				   struct hv_virtio_pci **out);

/* Leaves the bus (waiting for accesses in flight) and frees.  NULL: no-op. */
HV_EXPORT void hv_virtio_pci_destroy(struct hv_virtio_pci *vp);

/* The device number it got (1-31). */
HV_EXPORT uint32_t hv_virtio_pci_slot(const struct hv_virtio_pci *vp);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VIRTIO_PCI_H */
