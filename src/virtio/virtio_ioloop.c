/* SPDX-License-Identifier: MIT */
/*
 * Queue notifications served by an I/O thread (hv_virtio_dev_config.ioloop).
 * Each queue gets an eventfd.  While a transport is attached the loop
 * watches it and the transport has KVM signal it on the driver's notify
 * write (ioeventfd), so the vCPU never exits; a transport that cannot (or a
 * notify that still took the exit) signals it from hv_virtio_dev_notify().
 * Either way ops->notify runs on the loop's thread.
 *
 * Lifetime: the loop watches the fds only between transport attach and
 * detach.  Detach unwires them from the transport first, then removes them
 * from the loop, which waits for a notify in progress: once the transport
 * is gone no notify runs, and the device can be freed after.
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hvlib/ioloop.h"
#include "util/error.h"
#include "virtio/virtio_internal.h"

#define LOOP_ON(q) __atomic_load_n(&(q)->loop_on, __ATOMIC_ACQUIRE)

int hv_virtio_dev_loop_init(struct hv_virtio_dev *dev, struct hv_ioloop *loop)
{
	dev->ioloop = loop;
	for (uint32_t i = 0; i < dev->nr_queues; i++)
		dev->queues[i].loop_fd = -1;
	if (!loop)
		return 0;
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		/* Non-blocking: the loop reads it only to clear it. */
		dev->queues[i].loop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dev->queues[i].loop_fd < 0) {
			int ret = hv_err_sys(-errno, "%s: queue %u notify eventfd", dev->name, i);

			hv_virtio_dev_loop_fini(dev);
			return ret;
		}
	}
	return 0;
}

void hv_virtio_dev_loop_fini(struct hv_virtio_dev *dev)
{
	hv_virtio_dev_loop_stop(dev);
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		if (dev->queues[i].loop_fd >= 0)
			close(dev->queues[i].loop_fd);
		dev->queues[i].loop_fd = -1;
	}
}

static void on_queue(void *opaque, int fd, uint32_t events)
{
	struct hv_virtq *q = opaque;
	eventfd_t n;

	(void)events;
	/* Cleared before serving: a kick that lands while we serve signals it
	 * again and we come back, so none is lost. */
	if (eventfd_read(fd, &n))
		return;
	__atomic_add_fetch(&q->dev->loop_notifies, 1, __ATOMIC_RELAXED);
	hv_virtio_dev_serve(q->dev, q->index, true);
}

void hv_virtio_dev_loop_start(struct hv_virtio_dev *dev)
{
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		struct hv_virtq *q = &dev->queues[i];

		if (q->loop_fd < 0 || LOOP_ON(q))
			continue;
		if (hv_ioloop_add(dev->ioloop, q->loop_fd, HV_IOLOOP_IN, on_queue, q))
			/* Not fatal: this queue is served where it is notified. */
			hv_virtio_dev_logf(dev, HV_LOG_WARN, "queue %u stays on the vCPU threads: "
					   "%s", i, hv_last_error());
		else
			__atomic_store_n(&q->loop_on, true, __ATOMIC_RELEASE);
	}
}

void hv_virtio_dev_loop_stop(struct hv_virtio_dev *dev)
{
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		struct hv_virtq *q = &dev->queues[i];

		if (!LOOP_ON(q))
			continue;
		__atomic_store_n(&q->loop_on, false, __ATOMIC_RELEASE);
		/* Waits for on_queue() if it is running for this queue. */
		hv_ioloop_remove(dev->ioloop, q->loop_fd);
	}
}

int hv_virtio_dev_queue_fd(const struct hv_virtio_dev *dev, uint32_t q)
{
	const struct hv_virtq *vq = &dev->queues[q];

	if (vq->notify_fd >= 0)
		return vq->notify_fd;
	return LOOP_ON(vq) ? vq->loop_fd : -1;
}

void hv_virtio_dev_kick(struct hv_virtio_dev *dev, uint32_t q)
{
	if (q >= dev->nr_queues)
		return;
	if (LOOP_ON(&dev->queues[q]) && eventfd_write(dev->queues[q].loop_fd, 1) == 0)
		return;
	hv_virtio_dev_serve(dev, q, false);
}

bool hv_virtq_over_budget(struct hv_virtq *q)
{
	if (!q->budget_on || !pthread_equal(q->budget_thread, pthread_self()))
		return false;
	if (!q->budget_left) {
		q->budget_hit = true;
		return true;
	}
	q->budget_left--;
	return false;
}

/* One ops->notify call within the budget; whether it ran out. */
static bool serve_once(struct hv_virtio_dev *dev, struct hv_virtq *q)
{
	bool hit;

	pthread_mutex_lock(&q->lock);
	q->budget_on = true;
	q->budget_hit = false;
	q->budget_left = HV_VIRTQ_BUDGET;
	q->budget_thread = pthread_self();
	pthread_mutex_unlock(&q->lock);
	dev->ops->notify(dev->opaque, dev, q->index);
	pthread_mutex_lock(&q->lock);
	q->budget_on = false;
	hit = q->budget_hit;
	pthread_mutex_unlock(&q->lock);
	return hit;
}

static bool live(const struct hv_virtio_dev *dev)
{
	uint32_t status = hv_virtio_dev_status(dev);

	return (status & HV_VIRTIO_STATUS_DRIVER_OK) && !(status & HV_VIRTIO_STATUS_NEEDS_RESET);
}

void hv_virtio_dev_serve(struct hv_virtio_dev *dev, uint32_t q, bool on_loop)
{
	/* Notifications before DRIVER_OK, for absent queues, or after the
	 * device broke are dropped: the driver will reset us (kicks before
	 * DRIVER_OK are replayed when it comes). */
	if (q >= dev->nr_queues || !dev->ops->notify)
		return;
	while (live(dev) && serve_once(dev, &dev->queues[q])) {
		/* Work left: the loop comes back to it after the other ready
		 * fds.  On a vCPU thread (no loop) only that vCPU waits: go on. */
		if (on_loop && LOOP_ON(&dev->queues[q]) &&
		    eventfd_write(dev->queues[q].loop_fd, 1) == 0)
			return;
	}
}
