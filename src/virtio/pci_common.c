/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci common configuration (virtio 1.2, 4.1.4.3): the registers the
 * driver negotiates features and sets queues up with, forwarded to the
 * device core.  The driver must use each field's natural width, and 64-bit
 * fields may be split in two 32-bit halves (4.1.3.1); any other offset or
 * width reads 0 and is dropped.
 */
#include <string.h>

#include "virtio/pci_internal.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Natural width of the field at off, 0 if none starts there.  64-bit
 * fields report 8; their halves are handled by the callers. */
static uint32_t field_width(uint32_t off)
{
	switch (off) {
	case VPCI_DFSELECT: case VPCI_DF: case VPCI_GFSELECT: case VPCI_GF: return 4;
	case VPCI_MSIX_CONFIG: case VPCI_NUM_QUEUES: case VPCI_Q_SELECT: case VPCI_Q_SIZE:
	case VPCI_Q_MSIX: case VPCI_Q_ENABLE: case VPCI_Q_NOFF: case VPCI_Q_NDATA:
	case VPCI_Q_RESET: return 2;
	case VPCI_STATUS: case VPCI_CFG_GENERATION: return 1;
	case VPCI_Q_DESC: case VPCI_Q_AVAIL: case VPCI_Q_USED: return 8;
	default: return 0;
	}
}

static int addr_which(uint32_t field)
{
	return field == VPCI_Q_DESC ? HV_VIRTQ_ADDR_DESC
	       : field == VPCI_Q_AVAIL ? HV_VIRTQ_ADDR_AVAIL : HV_VIRTQ_ADDR_USED;
}

static uint64_t read_field(struct hv_virtio_pci *vp, uint32_t off)
{
	struct hv_virtio_dev *dev = vp->dev;
	uint32_t q = LOAD(vp->queue_sel);
	struct hv_virtq *vq = hv_virtio_dev_queue(dev, q);
	uint64_t v;

	switch (off) {
	case VPCI_DFSELECT: return LOAD(vp->dev_features_sel);
	case VPCI_DF: return hv_virtio_dev_features_word(dev, LOAD(vp->dev_features_sel));
	case VPCI_GFSELECT: return LOAD(vp->drv_features_sel);
	case VPCI_GF:
		v = LOAD(vp->drv_features_sel);
		return v < 2 ? (uint32_t)(hv_virtio_dev_features(dev) >> (32 * v)) : 0;
	case VPCI_MSIX_CONFIG: return LOAD(vp->config_vector);
	case VPCI_NUM_QUEUES: return dev->nr_queues;
	case VPCI_STATUS: return hv_virtio_dev_status(dev);
	case VPCI_CFG_GENERATION:
		return __atomic_load_n(&dev->config_generation, __ATOMIC_ACQUIRE) & 0xff;
	case VPCI_Q_SELECT: return q;
	case VPCI_Q_SIZE:
		if (!vq)
			return 0; /* a queue that does not exist has size 0 */
		pthread_mutex_lock(&vq->lock);
		v = vq->size;
		pthread_mutex_unlock(&vq->lock);
		return v;
	case VPCI_Q_MSIX: return vq ? LOAD(vp->queue_vector[q]) : VPCI_NO_VECTOR;
	case VPCI_Q_ENABLE: return vq && vq->ready;
	case VPCI_Q_NOFF: return vq ? q : 0;
	case VPCI_Q_DESC: case VPCI_Q_AVAIL: case VPCI_Q_USED:
		return hv_virtio_dev_queue_addr(dev, q, addr_which(off));
	default: return 0; /* queue_notify_data, queue_reset: not offered */
	}
}

/* A vector the MSI-X table has, else NO_VECTOR: the driver reads back
 * what it wrote to learn whether the device took it (4.1.5.1.2). */
static uint16_t valid_vector(struct hv_virtio_pci *vp, uint64_t v)
{
	return v < vp->msix.nr ? (uint16_t)v : VPCI_NO_VECTOR;
}

static void write_field(struct hv_virtio_pci *vp, uint32_t off, uint64_t val)
{
	struct hv_virtio_dev *dev = vp->dev;
	uint32_t q = LOAD(vp->queue_sel);

	switch (off) {
	case VPCI_DFSELECT: STORE(vp->dev_features_sel, (uint32_t)val); break;
	case VPCI_GFSELECT: STORE(vp->drv_features_sel, (uint32_t)val); break;
	case VPCI_GF:
		hv_virtio_dev_set_driver_features(dev, LOAD(vp->drv_features_sel), (uint32_t)val);
		break;
	case VPCI_MSIX_CONFIG: STORE(vp->config_vector, valid_vector(vp, val)); break;
	case VPCI_STATUS:
		hv_virtio_dev_write_status(dev, (uint32_t)val);
		if (!val)
			hv_virtio_pci_reset(vp);
		break;
	case VPCI_Q_SELECT: STORE(vp->queue_sel, (uint32_t)val); break;
	case VPCI_Q_SIZE: hv_virtio_dev_queue_set_size(dev, q, (uint32_t)val); break;
	case VPCI_Q_MSIX:
		if (q < dev->nr_queues)
			STORE(vp->queue_vector[q], valid_vector(vp, val));
		break;
	case VPCI_Q_ENABLE:
		/* Only 1 is defined: a driver stops a queue by resetting. */
		if (val == 1)
			hv_virtio_dev_queue_set_ready(dev, q, true);
		break;
	case VPCI_Q_DESC: case VPCI_Q_AVAIL: case VPCI_Q_USED:
		hv_virtio_dev_queue_set_addr(dev, q, addr_which(off), val);
		break;
	default: break; /* read-only or reserved */
	}
}

void hv_virtio_pci_common_io(struct hv_virtio_pci *vp, uint32_t offset, uint32_t width,
			     bool is_write, uint64_t *value)
{
	uint32_t fw = field_width(offset), field = offset;
	bool high = false;

	/* The upper half of a 64-bit field. */
	if (!fw && offset >= 4 && field_width(offset - 4) == 8) {
		field = offset - 4;
		fw = 8;
		high = true;
	}
	if (!fw || (width != fw && !(fw == 8 && width == 4)) || (high && width != 4)) {
		if (!is_write)
			*value = 0;
		return;
	}
	if (!is_write) {
		uint64_t v = read_field(vp, field);

		*value = width == 4 && fw == 8 ? (uint32_t)(v >> (high ? 32 : 0)) : v;
		return;
	}
	if (fw == 8 && width == 4)
		hv_virtio_dev_queue_set_addr_half(vp->dev, LOAD(vp->queue_sel), addr_which(field),
						  high, (uint32_t)*value);
	else
		write_field(vp, field, *value);
}
