/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock (virtio 1.2, 5.10) over vhost-vsock: config space (the guest
 * CID), the virtio life cycle, and the I/O thread that turns vhost's call
 * eventfds into transport interrupts.  Why a thread rather than an irqfd:
 * virtio-mmio's guest handler reads InterruptStatus first and ignores the
 * interrupt unless the queue bit is set, and only the transport can set it.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mem/mem_internal.h"
#include "util/config.h"
#include "util/error.h"
#include "util/thread.h"
#include "virtio/virtio_internal.h"
#include "virtio/vsock_internal.h"
#include "vm/vm_internal.h"

#define VSOCK_QUEUE_SIZE 128u
#define VSOCK_CONFIG_BYTES 8u /* le64 guest_cid */

static void vsock_config_read(void *opaque, uint32_t offset, void *buf, uint32_t len)
{
	struct hv_virtio_vsock *v = opaque;
	uint64_t cid = htole64(v->cid);

	/* The core checked offset + len <= VSOCK_CONFIG_BYTES. */
	memcpy(buf, (const uint8_t *)&cid + offset, len);
}

/* A notification that took the vCPU exit (no ioeventfd: the transport
 * cannot, or it came before the wiring): pass it on to vhost. */
static void vsock_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct hv_virtio_vsock *v = opaque;
	uint64_t one = 1;

	(void)dev;
	if (queue >= HV_VSOCK_VHOST_QUEUES)
		return; /* the event queue: nothing to announce */
	if (!__atomic_exchange_n(&v->exit_notified, true, __ATOMIC_RELAXED))
		hv_virtio_dev_logf(v->dev, HV_LOG_DEBUG, "queue %u notified through a vCPU exit; "
				   "kicking vhost from the vCPU thread", queue);
	if (write(v->kick_fds[queue], &one, sizeof(one)) < 0) {
		/* Only fails if the counter would overflow: vhost is kicked anyway. */
	}
}

void hv_vsock_queue_ring(struct hv_virtio_vsock *v, uint32_t q, struct hv_vsock_ring *r)
{
	struct hv_virtq *vq = hv_virtio_dev_queue(v->dev, q);

	/* A copy: the guest may disable the queue from another vCPU. */
	pthread_mutex_lock(&vq->lock);
	r->ok = vq->ready && vq->running && !vq->broken;
	r->event_idx = vq->event_idx;
	r->size = vq->size;
	r->last_avail = vq->last_avail;
	r->desc = vq->desc_gpa;
	r->avail = vq->avail_gpa;
	r->used = vq->used_gpa;
	pthread_mutex_unlock(&vq->lock);
}

static void stop_vhost(struct hv_virtio_vsock *v)
{
	if (hv_vsock_vhost_stop(v))
		hv_virtio_dev_logf(v->dev, HV_LOG_WARN, "%s", hv_last_error());
}

static int vsock_status(void *opaque, struct hv_virtio_dev *dev, uint32_t status)
{
	struct hv_virtio_vsock *v = opaque;

	(void)dev;
	if ((status & HV_VIRTIO_STATUS_FAILED) && v->running)
		stop_vhost(v);
	else if ((status & HV_VIRTIO_STATUS_DRIVER_OK) && !v->running) {
		if (!(status & HV_VIRTIO_STATUS_FEATURES_OK))
			return hv_err(-EIO, "DRIVER_OK without FEATURES_OK: no features to give vhost");
		return hv_vsock_vhost_start(v);
	}
	return 0;
}

static void vsock_reset(void *opaque, struct hv_virtio_dev *dev)
{
	(void)dev;
	stop_vhost(opaque);
}

static const struct hv_virtio_dev_ops vsock_ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = HV_VIRTIO_ID_VSOCK,
	.features = 0, /* SEQPACKET is added per instance when vhost has it */
	.config_bytes = VSOCK_CONFIG_BYTES,
	.config_read = vsock_config_read,
	.notify = vsock_notify,
	.reset = vsock_reset,
	.status = vsock_status,
};

/* The guest memory map changed: vhost must see it before a removed
 * region's memory is unmapped, and must see added RAM. */
static void vsock_map_changed(void *opaque, struct hv_mem *mem)
{
	struct hv_virtio_vsock *v = opaque;
	int ret = 0;

	(void)mem;
	/* The device lock orders this against vhost starting and stopping. */
	pthread_mutex_lock(&v->dev->lock);
	if (v->running)
		ret = hv_vsock_vhost_set_mem_table(v);
	pthread_mutex_unlock(&v->dev->lock);
	if (ret)
		hv_virtio_dev_needs_reset(v->dev, hv_last_error());
}

static const struct hv_mem_listener vsock_mem_listener = {
	.map_changed = vsock_map_changed,
};

/* vhost signalled a call eventfd: the driver wants an interrupt. */
static void *io_thread(void *arg)
{
	struct hv_virtio_vsock *v = arg;
	struct pollfd pfd[1 + HV_VSOCK_VHOST_QUEUES];

	pfd[0] = (struct pollfd){ .fd = v->stop_fd, .events = POLLIN };
	for (uint32_t q = 0; q < HV_VSOCK_VHOST_QUEUES; q++)
		pfd[1 + q] = (struct pollfd){ .fd = v->call_fds[q], .events = POLLIN };
	for (;;) {
		if (poll(pfd, HV_ARRAY_SIZE(pfd), -1) < 0) {
			if (errno == EINTR)
				continue;
			hv_virtio_dev_logf(v->dev, HV_LOG_ERROR, "I/O thread: poll failed (%s)",
					   strerror(errno));
			return NULL;
		}
		if (pfd[0].revents)
			return NULL;
		for (uint32_t q = 0; q < HV_VSOCK_VHOST_QUEUES; q++) {
			uint64_t count;

			if ((pfd[1 + q].revents & POLLIN) &&
			    read(v->call_fds[q], &count, sizeof(count)) == sizeof(count))
				hv_virtio_dev_queue_interrupt(v->dev, q);
		}
	}
}

static int start_thread(struct hv_virtio_vsock *v)
{
	int ret = hv_thread_start(&v->thread, HV_THREAD_VSOCK,
				  hv_vm_seccomp(v->vm) ? HV_THREAD_F_SECCOMP : 0, "hv-vsock",
				  io_thread, v);

	if (ret)
		return ret;
	v->thread_started = true;
	return 0;
}

static int make_eventfds(struct hv_virtio_vsock *v)
{
	v->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->stop_fd < 0)
		return hv_err_sys(-errno, "creating an eventfd");
	for (uint32_t q = 0; q < HV_VSOCK_VHOST_QUEUES; q++) {
		v->kick_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		v->call_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->kick_fds[q] < 0 || v->call_fds[q] < 0)
			return hv_err_sys(-errno, "creating an eventfd");
	}
	return 0;
}

static int check_config(const struct hv_virtio_vsock_config *cfg)
{
	if (cfg->flags)
		return hv_err(-EINVAL, "virtio-vsock config: unknown flags 0x%x", cfg->flags);
	if (!cfg->vm)
		return hv_err(-EINVAL, "virtio-vsock config: no VM");
	if (cfg->guest_cid < HV_VSOCK_CID_MIN || cfg->guest_cid > HV_VSOCK_CID_MAX)
		return hv_err(-EINVAL, "virtio-vsock config: guest CID %llu is reserved or out of "
				       "range (%u..%u; 0-2 are the hypervisor, local and host)",
			      (unsigned long long)cfg->guest_cid, HV_VSOCK_CID_MIN,
			      HV_VSOCK_CID_MAX);
	if (cfg->vhost_path && strlen(cfg->vhost_path) >= 64)
		return hv_err(-EINVAL, "virtio-vsock config: vhost_path longer than 63 bytes");
	return 0;
}

HV_EXPORT void hv_virtio_vsock_config_init(struct hv_virtio_vsock_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

static int create_dev(struct hv_virtio_vsock *v, const struct hv_virtio_vsock_config *cfg,
		      uint64_t vhost_features)
{
	struct hv_virtio_dev_config dc;
	int ret;

	hv_virtio_dev_config_init(&dc);
	dc.ops = &vsock_ops;
	dc.opaque = v;
	dc.vm = cfg->vm;
	dc.features = vhost_features & HV_VIRTIO_VSOCK_F_SEQPACKET;
	dc.nr_queues = HV_VSOCK_QUEUES;
	dc.queue_max_size = VSOCK_QUEUE_SIZE;
	dc.name = cfg->name ? cfg->name : "virtio-vsock";
	ret = hv_virtio_dev_create(&dc, &v->dev);
	/* No transport yet: these only record the fds, wired when one attaches. */
	for (uint32_t q = 0; !ret && q < HV_VSOCK_VHOST_QUEUES; q++)
		ret = hv_virtio_dev_set_queue_notify_fd(v->dev, q, v->kick_fds[q]);
	if (!ret)
		ret = hv_mem_listener_add(hv_vm_mem(v->vm), &vsock_mem_listener, v);
	if (!ret)
		v->listening = true;
	return ret;
}

HV_EXPORT int hv_virtio_vsock_create(const struct hv_virtio_vsock_config *ucfg,
				     struct hv_virtio_vsock **out)
{
	struct hv_virtio_vsock_config c;
	const struct hv_virtio_vsock_config *cfg = &c;
	struct hv_virtio_vsock *v;
	uint64_t features = 0;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_vsock_config_init, "virtio-vsock config");
	if (!ret)
		ret = check_config(cfg);

	if (ret)
		return ret;
	v = calloc(1, sizeof(*v));
	if (!v)
		return hv_err(-ENOMEM, "allocating a virtio-vsock device");
	v->vm = cfg->vm;
	v->cid = cfg->guest_cid;
	v->vhost_fd = v->stop_fd = -1;
	for (uint32_t q = 0; q < HV_VSOCK_VHOST_QUEUES; q++)
		v->kick_fds[q] = v->call_fds[q] = -1;
	snprintf(v->path, sizeof(v->path), "%s", cfg->vhost_path ? cfg->vhost_path
								 : "/dev/vhost-vsock");
	ret = make_eventfds(v);
	if (!ret)
		ret = hv_vsock_vhost_open(v, v->path, &features);
	if (!ret)
		ret = create_dev(v, cfg, features);
	if (!ret)
		ret = start_thread(v);
	if (ret) {
		hv_virtio_vsock_destroy(v);
		return ret;
	}
	*out = v;
	return 0;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

HV_EXPORT void hv_virtio_vsock_destroy(struct hv_virtio_vsock *v)
{
	uint64_t one = 1;

	if (!v)
		return;
	if (v->thread_started) {
		if (write(v->stop_fd, &one, sizeof(one)) < 0) {
			/* Cannot fail on a fresh counter. */
		}
		pthread_join(v->thread, NULL);
	}
	if (v->listening)
		hv_mem_listener_remove(hv_vm_mem(v->vm), &vsock_mem_listener, v);
	if (v->dev)
		stop_vhost(v);
	/* Closing the vhost fd releases the CID and vhost's hold on our memory. */
	close_fd(v->vhost_fd);
	hv_virtio_dev_destroy(v->dev);
	close_fd(v->stop_fd);
	for (uint32_t q = 0; q < HV_VSOCK_VHOST_QUEUES; q++) {
		close_fd(v->kick_fds[q]);
		close_fd(v->call_fds[q]);
	}
	free(v);
}

HV_EXPORT struct hv_virtio_dev *hv_virtio_vsock_dev(struct hv_virtio_vsock *v)
{
	HV_CHECK_ARG_RET(v, NULL);
	return v->dev;
}
