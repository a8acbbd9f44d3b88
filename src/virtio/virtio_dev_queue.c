/* SPDX-License-Identifier: MIT */
/*
 * The driver's side of queue set-up, notifications and config space, as the
 * transports forward them.  Every value is guest-controlled: queue numbers,
 * sizes and config offsets are checked here, ring addresses when the queue
 * is enabled (hv_virtq_start()).
 */
#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "virtio/virtio_internal.h"

/* The queue if it exists and its set-up may still change (dev->lock held):
 * the spec forbids changes while the queue is enabled. */
static struct hv_virtq *setup_queue(struct hv_virtio_dev *dev, uint32_t q)
{
	if (q >= dev->nr_queues || dev->queues[q].ready)
		return NULL;
	return &dev->queues[q];
}

void hv_virtio_dev_queue_set_size(struct hv_virtio_dev *dev, uint32_t q, uint32_t size)
{
	struct hv_virtq *vq;

	pthread_mutex_lock(&dev->lock);
	vq = setup_queue(dev, q);
	if (vq) {
		pthread_mutex_lock(&vq->lock);
		vq->size = size; /* checked when enabled */
		pthread_mutex_unlock(&vq->lock);
	}
	pthread_mutex_unlock(&dev->lock);
}

static uint64_t *addr_field(struct hv_virtq *vq, int which)
{
	return which == HV_VIRTQ_ADDR_DESC ? &vq->desc_gpa
	       : which == HV_VIRTQ_ADDR_AVAIL ? &vq->avail_gpa : &vq->used_gpa;
}

/* Replace the bits of `mask` in a queue address with those of gpa, in one
 * step under the locks (two vCPUs writing the halves cannot tear it). */
static void set_addr_bits(struct hv_virtio_dev *dev, uint32_t q, int which, uint64_t gpa,
			  uint64_t mask)
{
	struct hv_virtq *vq;

	pthread_mutex_lock(&dev->lock);
	vq = setup_queue(dev, q);
	if (vq) {
		uint64_t *p;

		pthread_mutex_lock(&vq->lock);
		p = addr_field(vq, which);
		*p = (*p & ~mask) | (gpa & mask);
		pthread_mutex_unlock(&vq->lock);
	}
	pthread_mutex_unlock(&dev->lock);
}

void hv_virtio_dev_queue_set_addr(struct hv_virtio_dev *dev, uint32_t q, int which, uint64_t gpa)
{
	set_addr_bits(dev, q, which, gpa, ~0ull);
}

void hv_virtio_dev_queue_set_addr_half(struct hv_virtio_dev *dev, uint32_t q, int which,
				       bool high, uint32_t val)
{
	if (high)
		set_addr_bits(dev, q, which, (uint64_t)val << 32, ~0ull << 32);
	else
		set_addr_bits(dev, q, which, val, 0xffffffffull);
}

uint64_t hv_virtio_dev_queue_addr(struct hv_virtio_dev *dev, uint32_t q, int which)
{
	struct hv_virtq *vq = hv_virtio_dev_queue(dev, q);
	uint64_t gpa;

	if (!vq)
		return 0;
	pthread_mutex_lock(&vq->lock);
	gpa = *addr_field(vq, which);
	pthread_mutex_unlock(&vq->lock);
	return gpa;
}

void hv_virtio_dev_queue_set_ready(struct hv_virtio_dev *dev, uint32_t q, bool ready)
{
	struct hv_virtq *vq;
	int ret = 0;

	if (q >= dev->nr_queues)
		return;
	vq = &dev->queues[q];
	pthread_mutex_lock(&dev->lock);
	pthread_mutex_lock(&vq->lock);
	if (ready && !vq->ready) {
		vq->ready = true;
		ret = hv_virtq_start(vq, dev->driver_features);
		if (ret)
			vq->broken = true;
	} else if (!ready && vq->ready) {
		/* Disabling one queue: stop it, keep the driver's set-up. */
		vq->ready = false;
		hv_virtq_stop(vq);
	}
	pthread_mutex_unlock(&vq->lock);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		hv_virtio_dev_needs_reset(dev, hv_last_error());
}

void hv_virtio_dev_notify(struct hv_virtio_dev *dev, uint32_t q)
{
	if (q >= dev->nr_queues)
		return;
	__atomic_add_fetch(&dev->exit_notifies, 1, __ATOMIC_RELAXED);
	hv_virtio_dev_kick(dev, q);
}

void hv_virtio_dev_config_access(struct hv_virtio_dev *dev, uint32_t offset, uint32_t width,
				 bool is_write, uint64_t *value)
{
	uint8_t buf[8] = { 0 };
	uint32_t limit = dev->ops->config_bytes;

	/* Out of range or odd widths: reads see 0, writes vanish. */
	if ((width != 1 && width != 2 && width != 4 && width != 8) || offset > limit ||
	    width > limit - offset) {
		if (!is_write)
			*value = 0;
		return;
	}
	if (is_write) {
		for (uint32_t i = 0; i < width; i++)
			buf[i] = (uint8_t)(*value >> (8 * i));
		if (dev->ops->config_write)
			dev->ops->config_write(dev->opaque, offset, buf, width);
		return;
	}
	if (dev->ops->config_read)
		dev->ops->config_read(dev->opaque, offset, buf, width);
	*value = 0;
	for (uint32_t i = 0; i < width; i++)
		*value |= (uint64_t)buf[i] << (8 * i);
}
