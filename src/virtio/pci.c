/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci, modern interface (virtio 1.2, 4.1; hvlib/virtio_pci.h): the
 * PCI function, its capabilities, BAR 0 and the interrupts.  The register
 * semantics of the common configuration are in pci_common.c; everything
 * else goes to the same device core as virtio-mmio.
 *
 * Interrupts: with MSI-X on, each queue (and configuration changes) sends
 * the vector the driver chose; with it off, the ISR collects the reasons
 * and INTA stays asserted until the driver reads the ISR (level-triggered,
 * 4.1.4.5), unless the command register disables INTx.  Queue notify
 * eventfds (KVM ioeventfds that follow BAR 0) are in pci_notify.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/config.h"
#include "util/error.h"
#include "virtio/pci_internal.h"

#define SUBSYS_ID 0x1100u
#define VCAP_BYTES 16u       /* struct virtio_pci_cap */
#define VCAP_BAR 4u
#define VCAP_OFFSET 8u
#define VCAP_LENGTH 12u
#define VCAP_EXTRA 16u       /* notify_off_multiplier, or pci_cfg_data */

HV_EXPORT void hv_virtio_pci_config_init(struct hv_virtio_pci_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

/* PCI class codes by device type (virtio 1.2, 4.1.2.1 leaves them free). */
static uint32_t class_code(uint32_t device_id)
{
	switch (device_id) {
	case HV_VIRTIO_ID_NET: return 0x020000;     /* network controller, Ethernet */
	case HV_VIRTIO_ID_BLOCK: return 0x018000;   /* mass storage, other */
	case HV_VIRTIO_ID_CONSOLE: return 0x078000; /* communication, other */
	default: return 0x00ff00;                   /* unclassified */
	}
}

/* INTA follows the ISR (intx_lock held). */
static void update_intx(struct hv_virtio_pci *vp)
{
	bool want = vp->isr && !vp->intx_disabled && !hv_pci_msix_enabled(&vp->msix);

	if (want != vp->intx_level) {
		vp->intx_level = want;
		hv_pci_host_set_intx(vp->host, &vp->func, want);
	}
}

uint32_t hv_virtio_pci_isr_read(struct hv_virtio_pci *vp)
{
	uint32_t v;

	pthread_mutex_lock(&vp->intx_lock);
	v = vp->isr;
	vp->isr = 0;
	update_intx(vp);
	pthread_mutex_unlock(&vp->intx_lock);
	return v;
}

static void send_vector(struct hv_virtio_pci *vp, uint16_t v)
{
	if (v != VPCI_NO_VECTOR)
		hv_pci_msix_notify(&vp->msix, v);
}

static void pci_interrupt(void *opaque, uint32_t isr_bits)
{
	struct hv_virtio_pci *vp = opaque;

	if (hv_pci_msix_enabled(&vp->msix)) {
		if (isr_bits & HV_VIRTIO_ISR_CONFIG)
			send_vector(vp, __atomic_load_n(&vp->config_vector, __ATOMIC_RELAXED));
		/* Only if the core did not say which queue: all of them. */
		for (uint32_t q = 0; (isr_bits & HV_VIRTIO_ISR_QUEUE) && q < vp->dev->nr_queues; q++)
			send_vector(vp, __atomic_load_n(&vp->queue_vector[q], __ATOMIC_RELAXED));
		return;
	}
	pthread_mutex_lock(&vp->intx_lock);
	vp->isr |= isr_bits;
	update_intx(vp);
	pthread_mutex_unlock(&vp->intx_lock);
}

static void pci_queue_interrupt(void *opaque, uint32_t q)
{
	struct hv_virtio_pci *vp = opaque;

	if (hv_pci_msix_enabled(&vp->msix))
		send_vector(vp, __atomic_load_n(&vp->queue_vector[q], __ATOMIC_RELAXED));
	else
		pci_interrupt(vp, HV_VIRTIO_ISR_QUEUE);
}

void hv_virtio_pci_reset(struct hv_virtio_pci *vp)
{
	__atomic_store_n(&vp->config_vector, VPCI_NO_VECTOR, __ATOMIC_RELAXED);
	for (uint32_t q = 0; q < HV_VIRTIO_MAX_QUEUES; q++)
		__atomic_store_n(&vp->queue_vector[q], VPCI_NO_VECTOR, __ATOMIC_RELAXED);
	__atomic_store_n(&vp->queue_sel, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vp->dev_features_sel, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vp->drv_features_sel, 0, __ATOMIC_RELAXED);
	pthread_mutex_lock(&vp->intx_lock);
	vp->isr = 0;
	update_intx(vp);
	pthread_mutex_unlock(&vp->intx_lock);
}

void hv_virtio_pci_bar_io(void *opaque, uint32_t bar, uint64_t offset, uint32_t width,
			  bool is_write, uint64_t *value)
{
	struct hv_virtio_pci *vp = opaque;
	uint64_t region = offset / VPCI_REGION * VPCI_REGION, off = offset - region;

	if (!is_write)
		*value = 0;
	if (bar != 0)
		return;
	switch (region) {
	case VPCI_COMMON_OFF:
		if (off < VPCI_COMMON_BYTES)
			hv_virtio_pci_common_io(vp, (uint32_t)off, width, is_write, value);
		break;
	case VPCI_ISR_OFF:
		if (!off && !is_write)
			*value = hv_virtio_pci_isr_read(vp);
		break;
	case VPCI_DEVICE_OFF:
		hv_virtio_dev_config_access(vp->dev, (uint32_t)off, width, is_write, value);
		break;
	case VPCI_NOTIFY_OFF:
		/* The queue is where the driver wrote, whatever it wrote: as an
		 * ioeventfd on that address would see it. */
		if (is_write && off % VPCI_NOTIFY_MULT == 0)
			hv_virtio_dev_notify(vp->dev, (uint32_t)(off / VPCI_NOTIFY_MULT));
		break;
	case VPCI_MSIX_TABLE_OFF:
		hv_pci_msix_table_io(&vp->msix, off, width, is_write, value);
		break;
	case VPCI_MSIX_PBA_OFF:
		hv_pci_msix_pba_io(&vp->msix, off, width, is_write, value);
		break;
	default:
		break;
	}
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: the BAR access it describes, if the
 * driver set a sane one (4.1.4.9: length 1, 2 or 4, aligned, in BAR 0). */
static bool cfg_window(struct hv_virtio_pci *vp, uint64_t *off, uint32_t *len)
{
	const uint8_t *c = vp->func.cfg + vp->cfg_cap;

	*off = hv_pci_get(c, VCAP_OFFSET, 4);
	*len = hv_pci_get(c, VCAP_LENGTH, 4);
	return c[VCAP_BAR] == 0 && (*len == 1 || *len == 2 || *len == 4) && *off % *len == 0 &&
	       *off + *len <= HV_VIRTIO_PCI_BAR_SIZE;
}

static bool touches_window_data(struct hv_virtio_pci *vp, uint32_t offset, uint32_t width)
{
	uint32_t data = vp->cfg_cap + VCAP_EXTRA;

	return offset < data + 4 && offset + width > data;
}

static void func_config_written(void *opaque, uint32_t offset, uint32_t width)
{
	struct hv_virtio_pci *vp = opaque;
	uint64_t off, v;
	uint32_t len;

	hv_pci_msix_config_written(&vp->msix, offset, width);
	hv_virtio_pci_notify_follow_bar(vp);
	pthread_mutex_lock(&vp->intx_lock);
	vp->intx_disabled = hv_pci_get(vp->func.cfg, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	update_intx(vp);
	pthread_mutex_unlock(&vp->intx_lock);
	if (touches_window_data(vp, offset, width) && cfg_window(vp, &off, &len)) {
		v = hv_pci_get(vp->func.cfg, vp->cfg_cap + VCAP_EXTRA, len);
		hv_virtio_pci_bar_io(vp, 0, off, len, true, &v);
	}
}

static bool func_config_read(void *opaque, uint32_t offset, uint32_t width, uint32_t *value)
{
	struct hv_virtio_pci *vp = opaque;
	uint64_t off, v = 0;
	uint32_t len;

	(void)value;
	/* Refresh the data bytes from the BAR; the plain read returns them. */
	if (touches_window_data(vp, offset, width) && cfg_window(vp, &off, &len)) {
		hv_virtio_pci_bar_io(vp, 0, off, len, false, &v);
		hv_pci_put(vp->func.cfg, vp->cfg_cap + VCAP_EXTRA, 4, (uint32_t)v);
	}
	return false;
}

static const struct hv_pci_func_ops func_ops = {
	.bar_io = hv_virtio_pci_bar_io,
	.config_written = func_config_written,
	.config_read = func_config_read,
};

/* A virtio vendor capability for a structure in BAR 0. */
static int add_vcap(struct hv_pci_func *f, uint8_t type, uint32_t offset, uint32_t length,
		    uint32_t extra)
{
	int cap = hv_pci_func_add_cap(f, PCI_CAP_ID_VNDR, VCAP_BYTES + extra);

	if (cap < 0)
		return cap;
	f->cfg[cap + 2] = (uint8_t)(VCAP_BYTES + extra); /* cap_len */
	f->cfg[cap + 3] = type;
	f->cfg[cap + VCAP_BAR] = 0;
	hv_pci_put(f->cfg, (uint32_t)cap + VCAP_OFFSET, 4, offset);
	hv_pci_put(f->cfg, (uint32_t)cap + VCAP_LENGTH, 4, length);
	return cap;
}

static int add_caps(struct hv_virtio_pci *vp)
{
	struct hv_virtio_dev *dev = vp->dev;
	struct hv_pci_func *f = &vp->func;
	int ret, cap;

	ret = hv_pci_func_add_bar(f, 0, HV_VIRTIO_PCI_BAR_SIZE, false);
	if (!ret)
		ret = hv_pci_msix_init(&vp->msix, f, dev->nr_queues + 1, 0, VPCI_MSIX_TABLE_OFF,
				       VPCI_MSIX_PBA_OFF);
	if (ret)
		return ret;
	if ((ret = add_vcap(f, VPCI_CAP_COMMON, VPCI_COMMON_OFF, VPCI_COMMON_BYTES, 0)) < 0 ||
	    (ret = add_vcap(f, VPCI_CAP_ISR, VPCI_ISR_OFF, 1, 0)) < 0 ||
	    (dev->ops->config_bytes &&
	     (ret = add_vcap(f, VPCI_CAP_DEVICE, VPCI_DEVICE_OFF, dev->ops->config_bytes, 0)) < 0))
		return ret;
	cap = add_vcap(f, VPCI_CAP_NOTIFY, VPCI_NOTIFY_OFF, dev->nr_queues * VPCI_NOTIFY_MULT, 4);
	if (cap < 0)
		return cap;
	hv_pci_put(f->cfg, (uint32_t)cap + VCAP_EXTRA, 4, VPCI_NOTIFY_MULT);
	cap = add_vcap(f, VPCI_CAP_PCI_CFG, 0, 0, 4);
	if (cap < 0)
		return cap;
	/* The driver chooses the window: bar, offset, length and data. */
	vp->cfg_cap = (uint32_t)cap;
	f->wmask[cap + VCAP_BAR] = 0xff;
	hv_pci_put(f->wmask, (uint32_t)cap + VCAP_OFFSET, 4, 0xffffffffu);
	hv_pci_put(f->wmask, (uint32_t)cap + VCAP_LENGTH, 4, 0xffffffffu);
	hv_pci_put(f->wmask, (uint32_t)cap + VCAP_EXTRA, 4, 0xffffffffu);
	return 0;
}

static int check_config(const struct hv_virtio_dev *dev, const struct hv_virtio_pci_config *cfg)
{
	if (cfg->flags)
		return hv_err(-EINVAL, "virtio-pci config: unknown flags 0x%x", cfg->flags);
	if (cfg->reserved)
		return hv_err(-EINVAL, "virtio-pci config: reserved is 0x%x, must be 0",
			      cfg->reserved);
	if (!cfg->host || cfg->slot >= HV_PCI_MAX_SLOTS)
		return hv_err(-EINVAL, "virtio-pci config: no host, or slot %u beyond %u",
			      cfg->slot, HV_PCI_MAX_SLOTS - 1);
	if (dev->ops->device_id > 0xffff - HV_VIRTIO_PCI_DEVICE_BASE)
		return hv_err(-EINVAL, "%s: device id %u has no PCI device id", dev->name,
			      dev->ops->device_id);
	return 0;
}

static void free_vp(struct hv_virtio_pci *vp)
{
	hv_pci_msix_fini(&vp->msix);
	hv_pci_func_fini(&vp->func);
	hv_virtio_pci_notify_fini(vp);
	pthread_mutex_destroy(&vp->intx_lock);
	free(vp);
}

/* Leave the host and the device, once: from hv_virtio_pci_destroy(), or
 * first from hv_virtio_dev_destroy() if the device goes before us. */
static void pci_leave(struct hv_virtio_pci *vp)
{
	if (!vp->dev)
		return;
	/* Unwire the notify eventfds while the host (whose aperture they
	 * follow) surely exists: vCPUs still reaching the function until the
	 * removal find the device without a transport, which is harmless. */
	hv_virtio_dev_set_transport(vp->dev, NULL);
	/* Once removed, no vCPU is inside the function any more, and its
	 * share of the INTx line is dropped; a host destroyed before its
	 * devices is freed here with the last of them. */
	hv_pci_host_remove(vp->host, &vp->func);
	vp->host = NULL;
	vp->dev = NULL;
}

static void pci_detach(void *opaque)
{
	pci_leave(opaque);
}

HV_EXPORT int hv_virtio_pci_create(struct hv_virtio_dev *dev,
				   const struct hv_virtio_pci_config *ucfg,
				   struct hv_virtio_pci **out)
{
	struct hv_virtio_pci_config c;
	const struct hv_virtio_pci_config *cfg = &c;
	struct hv_virtio_transport t;
	struct hv_virtio_pci *vp;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	HV_CHECK_ARG(dev);
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_pci_config_init, "virtio-pci config");
	if (!ret)
		ret = check_config(dev, cfg);

	if (ret)
		return ret;
	if (dev->transport.interrupt)
		return hv_err(-EBUSY, "%s: already has a transport", dev->name);
	vp = calloc(1, sizeof(*vp));
	if (!vp || pthread_mutex_init(&vp->intx_lock, NULL)) {
		free(vp);
		return hv_err(-ENOMEM, "allocating a virtio-pci transport");
	}
	vp->dev = dev;
	vp->host = cfg->host;
	ret = hv_virtio_pci_notify_init(vp);
	if (ret) {
		pthread_mutex_destroy(&vp->intx_lock);
		free(vp);
		return ret;
	}
	ret = hv_pci_func_init(&vp->func, HV_PCI_VENDOR_REDHAT_QUMRANET,
			       (uint16_t)(HV_VIRTIO_PCI_DEVICE_BASE + dev->ops->device_id),
			       class_code(dev->ops->device_id), 1, true, &func_ops, vp);
	if (ret) {
		hv_virtio_pci_notify_fini(vp);
		pthread_mutex_destroy(&vp->intx_lock);
		free(vp);
		return ret;
	}
	hv_pci_func_set_subsystem(&vp->func, HV_PCI_VENDOR_REDHAT_QUMRANET, SUBSYS_ID);
	ret = add_caps(vp);
	if (ret)
		goto fail;
	hv_virtio_pci_reset(vp);
	memset(&t, 0, sizeof(t));
	t.interrupt = pci_interrupt;
	t.queue_interrupt = pci_queue_interrupt;
	t.detach = pci_detach;
	if (vp->vm)
		t.set_notify_fd = hv_virtio_pci_set_notify_fd;
	t.opaque = vp;
	hv_virtio_dev_set_transport(dev, &t);
	ret = hv_pci_host_add(cfg->host, &vp->func, cfg->slot);
	if (ret) {
		hv_virtio_dev_set_transport(dev, NULL);
		goto fail;
	}
	*out = vp;
	return 0;

fail:
	free_vp(vp);
	return hv_err_context(ret, "%s on PCI", dev->name);
}

HV_EXPORT void hv_virtio_pci_destroy(struct hv_virtio_pci *vp)
{
	if (!vp)
		return;
	pci_leave(vp);
	free_vp(vp);
}

HV_EXPORT uint32_t hv_virtio_pci_slot(const struct hv_virtio_pci *vp)
{
	HV_CHECK_ARG_RET(vp, 0);
	return vp->func.slot;
}
