/* SPDX-License-Identifier: MIT */
/*
 * The PCI layer inside hvlib: functions (configuration space with write
 * masks, memory BARs, a capability list), the host that routes guest
 * accesses to them, and MSI-X.  Devices (the virtio-pci transport) embed a
 * struct hv_pci_func and fill it before adding it to a host.
 *
 * Locking: func->lock guards the configuration bytes; it is held while
 * ops->config_written runs, which may take the device's own locks (never
 * the other way round).  BAR addresses are published as atomics, so BAR
 * dispatch takes no function lock.  The host's rwlock guards its slots.
 */
#ifndef HV_PCI_INTERNAL_H
#define HV_PCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvlib/pci.h"

#define HV_PCI_CFG_BYTES 256u   /* conventional configuration space */
#define HV_PCI_ECAM_FUNC_BYTES 4096u
#define HV_PCI_NR_BARS 6u

/* Configuration header (type 0) registers and bits. */
enum {
	PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
	PCI_REVISION = 0x08, PCI_CLASS_PROG = 0x09, PCI_HEADER_TYPE = 0x0e, PCI_BAR0 = 0x10,
	PCI_SUBSYS_VENDOR = 0x2c, PCI_SUBSYS_ID = 0x2e, PCI_CAP_PTR = 0x34,
	PCI_INTERRUPT_LINE = 0x3c, PCI_INTERRUPT_PIN = 0x3d, PCI_CAP_START = 0x40,
};
#define PCI_COMMAND_IO         0x0001u
#define PCI_COMMAND_MEMORY     0x0002u
#define PCI_COMMAND_MASTER     0x0004u
#define PCI_COMMAND_INTX_DISABLE 0x0400u
#define PCI_STATUS_INTERRUPT   0x0008u
#define PCI_STATUS_CAP_LIST    0x0010u
#define PCI_BAR_MEM_64         0x4u
#define PCI_BAR_MEM_PREFETCH   0x8u
#define PCI_CAP_ID_MSIX        0x11u
#define PCI_CAP_ID_VNDR        0x09u

struct hv_pci_host;

struct hv_pci_func_ops {
	/* A guest access inside BAR `bar`, offset already checked against its
	 * size; reads fill *value.  Runs on vCPU threads, concurrently. */
	void (*bar_io)(void *opaque, uint32_t bar, uint64_t offset, uint32_t width,
		       bool is_write, uint64_t *value);
	/* The guest wrote [offset, offset + width) of config space; the new
	 * bytes are in f->cfg (f->lock held).  NULL: nothing to do. */
	void (*config_written)(void *opaque, uint32_t offset, uint32_t width);
	/* Optional override of a config read (f->lock held): return true with
	 * *value set to answer it (e.g. a window register). */
	bool (*config_read)(void *opaque, uint32_t offset, uint32_t width, uint32_t *value);
};

struct hv_pci_func {
	pthread_mutex_t lock;
	uint8_t cfg[HV_PCI_CFG_BYTES];
	uint8_t wmask[HV_PCI_CFG_BYTES];   /* bits the guest may change */
	uint64_t bar_size[HV_PCI_NR_BARS]; /* 0: no BAR (or the upper half of a 64-bit one) */
	uint64_t bar_addr[HV_PCI_NR_BARS]; /* atomic: decoded address, 0 while not decoding */
	uint32_t next_cap;                 /* where the next capability goes */
	uint32_t last_cap;                 /* offset of the last capability, 0: none */
	const struct hv_pci_func_ops *ops;
	void *opaque;
	struct hv_pci_host *host;          /* set while on a host (atomic; written
	                                    * under the host's locks) */
	uint32_t slot;
};

/* A function with these ids (class: base << 16 | sub << 8 | prog-if) and no
 * BARs or capabilities; INTA if intx.  -ENOMEM. */
int hv_pci_func_init(struct hv_pci_func *f, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, bool intx, const struct hv_pci_func_ops *ops, void *opaque);
void hv_pci_func_fini(struct hv_pci_func *f);
void hv_pci_func_set_subsystem(struct hv_pci_func *f, uint16_t vendor, uint16_t id);
/* A memory BAR of size bytes (a power of two, at least 16; 64-bit BARs take
 * bar and bar + 1).  Before the function is added.  -EINVAL. */
int hv_pci_func_add_bar(struct hv_pci_func *f, uint32_t bar, uint64_t size, bool is64);
/* Append a capability of len bytes (id in byte 0, the next pointer in byte
 * 1 is managed here) and return its offset, or -ENOSPC.  The caller fills
 * bytes 2.. and their write masks. */
int hv_pci_func_add_cap(struct hv_pci_func *f, uint8_t id, uint32_t len);
/* Little-endian helpers on a function's config bytes (caller owns them). */
void hv_pci_put(uint8_t *p, uint32_t off, uint32_t width, uint32_t value);
uint32_t hv_pci_get(const uint8_t *p, uint32_t off, uint32_t width);

/* A guest configuration access at offset (ECAM: 0 .. 4095) of f.  Width 1,
 * 2 or 4, not crossing a dword; anything else reads all-ones and is dropped.
 * Offsets 256 .. 4095 read 0. */
uint32_t hv_pci_func_config_read(struct hv_pci_func *f, uint32_t offset, uint32_t width);
void hv_pci_func_config_write(struct hv_pci_func *f, uint32_t offset, uint32_t width,
			      uint32_t value);
/* Program BAR `bar` to addr, as firmware would (the host, when adding f). */
void hv_pci_func_place_bar(struct hv_pci_func *f, uint32_t bar, uint64_t addr);
/* Whether BAR `bar` decodes [addr, addr + width): sets *offset. */
bool hv_pci_func_bar_hit(struct hv_pci_func *f, uint32_t bar, uint64_t addr, uint32_t width,
			 uint64_t *offset);

/* The host: add a function at slot (1-31; 0: the first free one), giving its
 * BARs addresses in the aperture.  -EBUSY (slot taken), -ENOSPC (no slot or
 * aperture left), -EINVAL. */
int hv_pci_host_add(struct hv_pci_host *host, struct hv_pci_func *f, uint32_t slot);
/* Once it returns, no vCPU is inside f any more. */
void hv_pci_host_remove(struct hv_pci_host *host, struct hv_pci_func *f);
/* INTx and MSI for the host's functions. */
void hv_pci_host_set_intx(struct hv_pci_host *host, struct hv_pci_func *f, int level);
int hv_pci_host_signal_msi(struct hv_pci_host *host, uint64_t address, uint32_t data);
uint32_t hv_pci_host_intx_gsi(const struct hv_pci_host *host, uint32_t slot);
const struct hv_pci_host_config *hv_pci_host_get_config(const struct hv_pci_host *host);
/* Guest accesses, as hv_io_fn (also for tests). */
int hv_pci_host_conf1_io(void *host, uint64_t offset, uint32_t width, bool is_write,
			 uint64_t *value);
int hv_pci_host_ecam_io(void *host, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value);
int hv_pci_host_mmio_io(void *host, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value);

/*
 * MSI-X (PCI 3.0, 6.8.2): the capability, the table and the pending bits.
 * Vectors are masked at reset (and while the function mask is set or MSI-X
 * is off); a message for a masked vector sets its pending bit and goes out
 * when the vector is unmasked.
 */
#define HV_PCI_MSIX_ENTRY_BYTES 16u
#define HV_PCI_MSIX_MAX 2048u
#define HV_PCI_MSIX_CTRL_ENABLE 0x8000u
#define HV_PCI_MSIX_CTRL_MASKALL 0x4000u
#define HV_PCI_MSIX_VECTOR_MASKED 1u

/* A table entry: message address low/high, data, vector control. */
enum { HV_MSIX_ADDR_LO, HV_MSIX_ADDR_HI, HV_MSIX_DATA, HV_MSIX_CTRL, HV_MSIX_WORDS };
struct hv_pci_msix_entry {
	uint32_t w[HV_MSIX_WORDS];
};

struct hv_pci_msix {
	struct hv_pci_func *func;
	pthread_mutex_t lock;      /* entries, pending, enabled, masked */
	uint32_t nr;
	uint32_t cap;              /* capability offset */
	struct hv_pci_msix_entry *entries;
	uint64_t *pending;         /* nr bits */
	bool enabled, masked;      /* message control, as the guest last wrote it */
};

/* Add the capability to f, table at table_off and PBA at pba_off of BAR
 * bar (8-byte aligned, inside the BAR).  -EINVAL, -ENOMEM, -ENOSPC. */
int hv_pci_msix_init(struct hv_pci_msix *x, struct hv_pci_func *f, uint32_t nr, uint32_t bar,
		     uint32_t table_off, uint32_t pba_off);
void hv_pci_msix_fini(struct hv_pci_msix *x);
/* Table and PBA bytes of the BAR; offset relative to their start. */
uint64_t hv_pci_msix_table_bytes(const struct hv_pci_msix *x);
uint64_t hv_pci_msix_pba_bytes(const struct hv_pci_msix *x);
void hv_pci_msix_table_io(struct hv_pci_msix *x, uint64_t offset, uint32_t width,
			  bool is_write, uint64_t *value);
void hv_pci_msix_pba_io(struct hv_pci_msix *x, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value);
/* The guest wrote config space (f->lock held): pick up message control. */
void hv_pci_msix_config_written(struct hv_pci_msix *x, uint32_t offset, uint32_t width);
bool hv_pci_msix_enabled(struct hv_pci_msix *x);
/* Send vector v (out of range: nothing), or leave it pending if masked. */
void hv_pci_msix_notify(struct hv_pci_msix *x, uint32_t v);

#endif /* HV_PCI_INTERNAL_H */
