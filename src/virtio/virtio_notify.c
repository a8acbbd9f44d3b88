/* SPDX-License-Identifier: MIT */
/*
 * Notification plumbing for devices served off the vCPU threads: queue
 * notify eventfds (wired by the transport, e.g. a KVM ioeventfd), the
 * status callback, and unconditional queue interrupts from device threads.
 */
#include <errno.h>
#include <stddef.h>

#include "util/config.h"
#include "util/error.h"
#include "virtio/virtio_internal.h"

#define OPS_HAS(ops, field) \
	((ops)->size >= offsetof(struct hv_virtio_dev_ops, field) + sizeof((ops)->field))

void hv_virtio_dev_wire_notify_fds(struct hv_virtio_dev *dev,
				   const struct hv_virtio_transport *t, bool wire)
{
	if (!t->set_notify_fd)
		return;
	for (uint32_t q = 0; q < dev->nr_queues; q++) {
		int fd = hv_virtio_dev_queue_fd(dev, q);

		if (fd < 0)
			continue;
		if (t->set_notify_fd(t->opaque, q, wire ? fd : -1) && wire)
			/* Not fatal: ops->notify keeps getting the notifications. */
			hv_virtio_dev_logf(dev, HV_LOG_WARN, "queue %u notifications stay on the "
					   "vCPU exit path: %s", q, hv_last_error());
		else if (wire)
			hv_virtio_dev_logf(dev, HV_LOG_DEBUG, "queue %u notifications go to "
					   "eventfd %d", q, fd);
	}
}

int hv_virtio_dev_call_status(struct hv_virtio_dev *dev, uint32_t status)
{
	const struct hv_virtio_dev_ops *ops = dev->ops;

	if (!OPS_HAS(ops, status) || !ops->status)
		return 0;
	return ops->status(dev->opaque, dev, status);
}

HV_EXPORT int hv_virtio_dev_set_queue_notify_fd(struct hv_virtio_dev *dev, uint32_t queue,
						int fd)
{
	HV_CHECK_ARG(dev);
	struct hv_virtio_transport *t = &dev->transport;
	int ret = 0;

	if (queue >= dev->nr_queues)
		return hv_err(-EINVAL, "%s: no queue %u (it has %u)", dev->name, queue,
			      dev->nr_queues);
	if (fd < -1)
		return hv_err(-EINVAL, "%s: queue %u: bad notify fd %d", dev->name, queue, fd);
	pthread_mutex_lock(&dev->lock);
	if (t->interrupt && !t->set_notify_fd && fd >= 0)
		ret = hv_err(-ENOTSUP, "%s: its transport cannot route queue notifications to an "
				       "eventfd", dev->name);
	else if (t->set_notify_fd) {
		/* fd -1 hands the queue back to the ioloop's eventfd, if any. */
		dev->queues[queue].notify_fd = fd;
		ret = t->set_notify_fd(t->opaque, queue, hv_virtio_dev_queue_fd(dev, queue));
	}
	dev->queues[queue].notify_fd = ret ? -1 : fd;
	pthread_mutex_unlock(&dev->lock);
	return ret ? hv_err_context(ret, "%s: queue %u notify eventfd", dev->name, queue) : 0;
}

HV_EXPORT void hv_virtio_dev_queue_interrupt(struct hv_virtio_dev *dev, uint32_t queue)
{
	HV_CHECK_ARG_RET(dev, );
	if (queue >= dev->nr_queues)
		return;
	/* Under the lock: a transport being detached waits for us, and a
	 * reset in progress leaves no DRIVER_OK to see.  Transports take only
	 * their own leaf locks in these calls. */
	pthread_mutex_lock(&dev->lock);
	if ((dev->status & HV_VIRTIO_STATUS_DRIVER_OK) &&
	    !(dev->status & HV_VIRTIO_STATUS_NEEDS_RESET)) {
		if (dev->transport.queue_interrupt) /* a vector per queue (MSI-X) */
			dev->transport.queue_interrupt(dev->transport.opaque, queue);
		else if (dev->transport.interrupt)
			dev->transport.interrupt(dev->transport.opaque, HV_VIRTIO_ISR_QUEUE);
	}
	pthread_mutex_unlock(&dev->lock);
}
