/* SPDX-License-Identifier: MIT */
/*
 * hvlib/pci.h - a PCI host bridge and its bus 0, for PCI devices such as the
 * virtio-pci transport (hvlib/virtio_pci.h).
 *
 * The host answers configuration requests the two ways x86 guests make them:
 *  - configuration mechanism #1: the address register at conf1_port (0xcf8,
 *    32-bit accesses only) and the data window at conf1_port + 4 .. + 7
 *    (byte, word or dword accesses at any offset that stays inside it);
 *  - ECAM (PCI Express enhanced configuration): 4 KiB per function at
 *    ecam_base + (device << 15 | function << 12), bus 0 only (1 MiB).  An
 *    ACPI MCFG table announces it (hv_pci_host_mcfg()).
 * Function 00:00.0 is the host bridge itself (class 0x0600); devices take
 * slots 1-31, function 0.  Configuration space is the conventional 256
 * bytes (ECAM offsets 0x100-0xfff read 0: no extended capabilities); each
 * register has a mask of the bits the guest may write.
 *
 * Memory BARs live in the aperture [mmio_base, mmio_base + mmio_len): hvlib
 * assigns every BAR an address there when the device is added, as firmware
 * would, and the guest may move it anywhere inside.  A BAR decodes while its
 * function's command register has Memory Space Enable set.  The aperture is
 * registered on the MMIO bus once and dispatched to BARs by the host, so a
 * BAR moved through ECAM (itself on the MMIO bus) needs no bus change.
 *
 * INTx: pin p (0 = INTA) of slot s raises GSI intx_gsi_base + (s + p) % 4,
 * level-triggered.  The guest learns all this from the firmware: the
 * micro-VM (hvlib/microvm.h, HV_MICROVM_TRANSPORT_PCI) adds an ACPI SSDT
 * with the root bridge (PNP0A08: bus, ports, aperture, a _PRT for INTx)
 * and the MCFG; embedders of the lower layers pass hv_pci_host_ssdt() and
 * hv_pci_host_mcfg() in hv_x86_acpi_config.tables.
 *
 * INTx lines are shared: slots s and s + 4 (4, 8, ...) drive the same GSI,
 * which the host keeps asserted while any of its functions asserts it (one
 * device's deassertion never drops another's interrupt); a removed
 * function's level is dropped with it.
 *
 * Call order: hv_pci_host_config_init() -> hv_pci_host_create() -> add
 * devices (hv_virtio_pci_create()) -> run the guest -> stop the vCPUs ->
 * destroy the devices -> hv_pci_host_destroy() -> hv_vm_destroy().  A host
 * destroyed before its devices leaves the buses at once (logging a warning
 * to the VM, if any) and is freed when the last device is destroyed.
 *
 * Callbacks and locks: set_irq runs with the host's INTx lock held (it
 * orders one line's changes), and with the calling device's interrupt and
 * device locks; signal_msi with the device's MSI-X lock.  They must not call
 * back into the host or its devices (create, destroy, guest accesses):
 * hv_vm_irq_line() and hv_vm_signal_msi() are what they are for.
 *
 * Threading: guest accesses arrive on vCPU threads, concurrently; adding and
 * removing devices may run at any time from any thread.  Ownership: the
 * config is copied; buses and the VM are borrowed and must outlive the host.
 */
#ifndef HVLIB_PCI_H
#define HVLIB_PCI_H

#include <stdint.h>

#include "bus.h"
#include "common.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_pci_host;

#define HV_PCI_CONF1_PORT   0xcf8u
#define HV_PCI_ECAM_BUS0_SIZE 0x100000ull /* 32 devices x 8 functions x 4 KiB */
#define HV_PCI_MAX_SLOTS    32u
#define HV_PCI_VENDOR_REDHAT_QUMRANET 0x1af4u

/* Drive an interrupt line (GSI) to a level (1 asserted). */
typedef void (*hv_pci_irq_fn)(void *opaque, uint32_t gsi, int level);
/* Deliver a message-signalled interrupt; returns hv_vm_signal_msi()'s result. */
typedef int (*hv_pci_msi_fn)(void *opaque, uint64_t address, uint32_t data);

struct hv_pci_host_config {
	uint32_t size;          /* sizeof(struct hv_pci_host_config) */
	uint32_t flags;         /* none yet: must be 0 */
	struct hv_vm *vm;       /* buses and interrupts of this VM, unless given below */
	struct hv_bus *pio_bus;  /* NULL: hv_vm_bus(vm, HV_BUS_PIO) */
	struct hv_bus *mmio_bus; /* NULL: hv_vm_bus(vm, HV_BUS_MMIO) */
	uint16_t conf1_port;    /* default HV_PCI_CONF1_PORT; 0: no mechanism #1 */
	uint16_t reserved0;     /* must be 0 */
	uint32_t intx_gsi_base; /* GSI of INTA for slot 0 (see above); default 16 */
	uint64_t ecam_base;     /* 1 MiB aligned; 0 (default): no ECAM */
	uint64_t mmio_base;     /* BAR aperture, 4 KiB aligned (required) */
	uint64_t mmio_len;      /* bytes, a multiple of 4 KiB (required) */
	hv_pci_irq_fn set_irq;  /* NULL: hv_vm_irq_line(vm, ...) */
	hv_pci_msi_fn signal_msi; /* NULL: hv_vm_signal_msi(vm, ...) */
	void *irq_opaque;       /* for set_irq and signal_msi */
};

HV_EXPORT void hv_pci_host_config_init(struct hv_pci_host_config *cfg);

/* Claim the configuration ports, the ECAM window and the BAR aperture.
 * Caller owns *out until hv_pci_host_destroy().  -EINVAL (bad config, the
 * message names the field), -EEXIST (a window is taken), -ENOMEM. */
HV_EXPORT int hv_pci_host_create(const struct hv_pci_host_config *cfg,
				 struct hv_pci_host **out);

/* Leaves the buses (waiting for accesses in flight) and frees.  Destroy its
 * devices first; with some left, it is freed by the last one's destroy (see
 * above).  NULL: no-op. */
HV_EXPORT void hv_pci_host_destroy(struct hv_pci_host *host);

/*
 * The ACPI MCFG table for the ECAM window (segment 0, bus 0), header and
 * checksum included, for hv_x86_acpi_config.tables: writes up to len bytes
 * to buf and returns the table's size (60), or -EINVAL without ECAM.
 */
HV_EXPORT int hv_pci_host_mcfg(const struct hv_pci_host *host, void *buf, uint32_t len);

/*
 * An ACPI SSDT describing the host (see above), header and checksum
 * included: writes up to len bytes to buf (NULL with len 0: just the size)
 * and returns the table's size, or -ENOMEM.
 */
HV_EXPORT int hv_pci_host_ssdt(const struct hv_pci_host *host, void *buf, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_PCI_H */
