/* SPDX-License-Identifier: MIT */
/* The virtio-pci transport's state, shared by pci.c and pci_common.c. */
#ifndef HV_VIRTIO_PCI_INTERNAL_H
#define HV_VIRTIO_PCI_INTERNAL_H

#include "hvlib/virtio_pci.h"
#include "pci/pci_internal.h"
#include "virtio/virtio_internal.h"

/* Where each structure sits in BAR 0 (hvlib/virtio_pci.h). */
#define VPCI_COMMON_OFF 0x0000u
#define VPCI_COMMON_BYTES 0x40u
#define VPCI_ISR_OFF 0x1000u
#define VPCI_DEVICE_OFF 0x2000u
#define VPCI_NOTIFY_OFF 0x3000u
#define VPCI_NOTIFY_MULT 4u
#define VPCI_MSIX_TABLE_OFF 0x4000u
#define VPCI_MSIX_PBA_OFF 0x5000u
#define VPCI_REGION 0x1000u
#define VPCI_NO_VECTOR 0xffffu

/* virtio_pci_cap cfg_type (virtio 1.2, 4.1.4). */
enum { VPCI_CAP_COMMON = 1, VPCI_CAP_NOTIFY = 2, VPCI_CAP_ISR = 3, VPCI_CAP_DEVICE = 4,
       VPCI_CAP_PCI_CFG = 5 };

/* Common configuration registers (4.1.4.3). */
enum {
	VPCI_DFSELECT = 0x00, VPCI_DF = 0x04, VPCI_GFSELECT = 0x08, VPCI_GF = 0x0c,
	VPCI_MSIX_CONFIG = 0x10, VPCI_NUM_QUEUES = 0x12, VPCI_STATUS = 0x14,
	VPCI_CFG_GENERATION = 0x15, VPCI_Q_SELECT = 0x16, VPCI_Q_SIZE = 0x18,
	VPCI_Q_MSIX = 0x1a, VPCI_Q_ENABLE = 0x1c, VPCI_Q_NOFF = 0x1e, VPCI_Q_DESC = 0x20,
	VPCI_Q_AVAIL = 0x28, VPCI_Q_USED = 0x30, VPCI_Q_NDATA = 0x38, VPCI_Q_RESET = 0x3a,
};

struct hv_virtio_pci {
	struct hv_virtio_dev *dev;
	struct hv_pci_host *host;
	struct hv_pci_func func;
	struct hv_pci_msix msix;
	uint32_t cfg_cap;            /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	/* Driver-side selectors and vectors; any vCPU may write them (atomics). */
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint16_t config_vector;
	uint16_t queue_vector[HV_VIRTIO_MAX_QUEUES];
	/* INTx: the ISR and the line it drives. */
	pthread_mutex_t intx_lock;
	uint32_t isr;
	bool intx_level;             /* what the line is driven to */
	bool intx_disabled;          /* command register INTx Disable */
	/* Queue notify eventfds (pci_notify.c): KVM ioeventfds at the notify
	 * address of each queue, following BAR 0.  vm NULL: not possible. */
	struct hv_vm *vm;
	pthread_mutex_t notify_lock; /* leaf: the fields below */
	uint64_t notify_base;        /* guest address of the notify region; 0: not decoded */
	int notify_fds[HV_VIRTIO_MAX_QUEUES]; /* the device's choice, -1: none */
	bool notify_on[HV_VIRTIO_MAX_QUEUES]; /* assigned at notify_base */
};

/* Common configuration access (pci_common.c): offset and width unchecked. */
void hv_virtio_pci_common_io(struct hv_virtio_pci *vp, uint32_t offset, uint32_t width,
			     bool is_write, uint64_t *value);
/* Forget the driver's transport state (vectors, ISR, selectors) after a
 * device reset. */
void hv_virtio_pci_reset(struct hv_virtio_pci *vp);
/* Read-and-clear the ISR, lowering INTx. */
uint32_t hv_virtio_pci_isr_read(struct hv_virtio_pci *vp);
/* Notify eventfds (pci_notify.c).  Lock order: f->lock (config writes) and
 * dev->lock (the core's set_notify_fd) each come before notify_lock, which
 * is a leaf: only KVM ioctls and logging run under it. */
int hv_virtio_pci_notify_init(struct hv_virtio_pci *vp);
void hv_virtio_pci_notify_fini(struct hv_virtio_pci *vp);
/* The transport's set_notify_fd (dev->lock held). */
int hv_virtio_pci_set_notify_fd(void *opaque, uint32_t queue, int fd);
/* Config space changed (f->lock held): move the ioeventfds if the notify
 * region's decoded address did (BAR moved, Memory Space Enable toggled). */
void hv_virtio_pci_notify_follow_bar(struct hv_virtio_pci *vp);
/* A BAR 0 access (offset checked by the host). */
void hv_virtio_pci_bar_io(void *opaque, uint32_t bar, uint64_t offset, uint32_t width,
			  bool is_write, uint64_t *value);

#endif /* HV_VIRTIO_PCI_INTERNAL_H */
