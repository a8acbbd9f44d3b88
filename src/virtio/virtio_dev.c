/* SPDX-License-Identifier: MIT */
/*
 * The transport-independent half of a virtio device (virtio 1.2, 2 and 3):
 * device status, feature negotiation, queue set-up, reset, config space
 * bounds, and "needs reset" when the guest breaks something.  Device models
 * plug in through struct hv_virtio_dev_ops; transports call the functions
 * of virtio_internal.h.
 *
 * Locking: dev->lock guards status, features and queue set-up; each queue's
 * own lock guards its rings.  dev->lock is taken first.  No lock is held
 * while a device op runs, except that reset runs with dev->lock held so no
 * status write can race it.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/config.h"
#include "util/error.h"
#include "util/ratelimit.h"
#include "virtio/virtio_internal.h"
#include "vm/vm_internal.h"

/* Device-specific feature bits (virtio 1.2, 6: bits 0-23, and 50-127). */
#define DEVICE_FEATURES_MASK ((1ull << 24) - 1)
/* The ops table as first published, before status was appended. */
#define HV_VIRTIO_OPS_V1_SIZE offsetof(struct hv_virtio_dev_ops, status)

HV_EXPORT void hv_virtio_dev_config_init(struct hv_virtio_dev_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->nr_queues = 1;
	cfg->queue_max_size = HV_VIRTQ_DEFAULT_SIZE;
}

static int check_config(const struct hv_virtio_dev_config *cfg)
{
	const struct hv_virtio_dev_ops *ops = cfg->ops;

	if (cfg->flags)
		return hv_err(-EINVAL, "virtio device config: unknown flags 0x%x", cfg->flags);
	if (!ops || ops->size < HV_VIRTIO_OPS_V1_SIZE)
		return hv_err(-EINVAL, "virtio device config: no ops, or ops.size too small");
	if (!ops->device_id || ops->reserved)
		return hv_err(-EINVAL, "virtio device config: device id 0 or reserved field set");
	if ((ops->features | cfg->features) & ~DEVICE_FEATURES_MASK)
		return hv_err(-EINVAL, "virtio device config: features 0x%llx outside the "
				       "device-specific bits 0-23", (unsigned long long)
				       ((ops->features | cfg->features) & ~DEVICE_FEATURES_MASK));
	if (ops->config_bytes > HV_VIRTIO_MAX_CONFIG)
		return hv_err(-EINVAL, "virtio device config: %u bytes of config space, at most %u",
			      ops->config_bytes, HV_VIRTIO_MAX_CONFIG);
	if (!cfg->nr_queues || cfg->nr_queues > HV_VIRTIO_MAX_QUEUES)
		return hv_err(-EINVAL, "virtio device config: %u queues (1..%u)", cfg->nr_queues,
			      HV_VIRTIO_MAX_QUEUES);
	if (cfg->queue_max_size > HV_VIRTQ_MAX_SIZE ||
	    (cfg->queue_max_size & (cfg->queue_max_size - 1)))
		return hv_err(-EINVAL, "virtio device config: queue size %u, a power of two up "
				       "to %u", cfg->queue_max_size, HV_VIRTQ_MAX_SIZE);
	if (!cfg->mem && !cfg->vm)
		return hv_err(-EINVAL, "virtio device config: neither a VM nor guest memory");
	return 0;
}

HV_EXPORT int hv_virtio_dev_create(const struct hv_virtio_dev_config *ucfg,
				   struct hv_virtio_dev **out)
{
	struct hv_virtio_dev_config c;
	const struct hv_virtio_dev_config *cfg = &c;
	struct hv_virtio_dev *dev;
	uint32_t qsize, i = 0;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_dev_config_init, "virtio device config");
	if (!ret)
		ret = check_config(cfg);

	if (ret)
		return ret;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return hv_err(-ENOMEM, "allocating a virtio device");
	dev->queues = calloc(cfg->nr_queues, sizeof(*dev->queues));
	if (!dev->queues || pthread_mutex_init(&dev->lock, NULL))
		goto fail_alloc;
	dev->ops = cfg->ops;
	dev->opaque = cfg->opaque;
	dev->vm = cfg->vm;
	dev->mem = cfg->mem ? cfg->mem : hv_vm_mem(cfg->vm);
	dev->nr_queues = cfg->nr_queues;
	dev->device_features = cfg->ops->features | cfg->features | HV_VIRTIO_CORE_FEATURES;
	snprintf(dev->name, sizeof(dev->name), "%s", cfg->name ? cfg->name : "virtio");
	hv_ratelimit_init(&dev->log_rl, HV_RATELIMIT_BURST, HV_RATELIMIT_INTERVAL_NS);
	qsize = cfg->queue_max_size ? cfg->queue_max_size : HV_VIRTQ_DEFAULT_SIZE;
	for (i = 0; i < cfg->nr_queues; i++)
		if (hv_virtq_init(&dev->queues[i], dev, i, qsize))
			goto fail_queues;
		else
			dev->queues[i].notify_fd = -1;
	ret = hv_virtio_dev_loop_init(dev, cfg->ioloop);
	if (ret)
		goto fail_loop;
	ret = hv_virtio_dev_mem_listen(dev);
	if (ret) {
		hv_virtio_dev_loop_fini(dev);
		goto fail_loop;
	}
	*out = dev;
	return 0;

fail_queues:
	ret = hv_err(-ENOMEM, "allocating a virtio device");
fail_loop:
	while (i--)
		hv_virtq_fini(&dev->queues[i]);
	hv_ratelimit_fini(&dev->log_rl);
	pthread_mutex_destroy(&dev->lock);
	free(dev->queues);
	free(dev);
	return ret;
fail_alloc:
	free(dev->queues);
	free(dev);
	return hv_err(-ENOMEM, "allocating a virtio device");
}

HV_EXPORT void hv_virtio_dev_destroy(struct hv_virtio_dev *dev)
{
	struct hv_virtio_transport t;

	if (!dev)
		return;
	pthread_mutex_lock(&dev->lock);
	t = dev->transport;
	pthread_mutex_unlock(&dev->lock);
	if (t.interrupt) {
		/* Destroyed before its transport: detach it now, the way its
		 * own destroy would, so nothing reaches the device later. */
		hv_virtio_dev_logf(dev, HV_LOG_WARN, "destroyed before its transport: "
				   "detaching it first");
		if (t.detach)
			t.detach(t.opaque);
		else
			hv_virtio_dev_set_transport(dev, NULL);
	}
	hv_virtio_dev_loop_fini(dev); /* the transport is gone: no notify runs */
	hv_virtio_dev_mem_unlisten(dev);
	for (uint32_t i = 0; i < dev->nr_queues; i++)
		hv_virtq_fini(&dev->queues[i]);
	hv_ratelimit_fini(&dev->log_rl);
	pthread_mutex_destroy(&dev->lock);
	free(dev->queues);
	free(dev);
}

void hv_virtio_dev_set_transport(struct hv_virtio_dev *dev, const struct hv_virtio_transport *t)
{
	/* The loop watches the queue eventfds before the transport wires them,
	 * and stops only once they are unwired (see virtio_ioloop.c). */
	if (t)
		hv_virtio_dev_loop_start(dev);
	pthread_mutex_lock(&dev->lock);
	hv_virtio_dev_wire_notify_fds(dev, &dev->transport, false);
	if (t)
		dev->transport = *t;
	else
		memset(&dev->transport, 0, sizeof(dev->transport));
	hv_virtio_dev_wire_notify_fds(dev, &dev->transport, true);
	pthread_mutex_unlock(&dev->lock);
	if (!t)
		hv_virtio_dev_loop_stop(dev);
}

HV_EXPORT struct hv_virtq *hv_virtio_dev_queue(struct hv_virtio_dev *dev, uint32_t index)
{
	HV_CHECK_ARG_RET(dev, NULL);
	return index < dev->nr_queues ? &dev->queues[index] : NULL;
}

HV_EXPORT uint64_t hv_virtio_dev_features(const struct hv_virtio_dev *dev)
{
	HV_CHECK_ARG_RET(dev, 0);
	return __atomic_load_n(&dev->driver_features, __ATOMIC_RELAXED);
}

HV_EXPORT uint32_t hv_virtio_dev_status(const struct hv_virtio_dev *dev)
{
	HV_CHECK_ARG_RET(dev, 0);
	return __atomic_load_n(&dev->status, __ATOMIC_RELAXED);
}

/* Every line a device logs may be the guest's doing (a refused feature, a
 * broken queue, a bad request): all of them share the device's rate limit. */
void hv_virtio_dev_logf(struct hv_virtio_dev *dev, enum hv_log_level level, const char *fmt, ...)
{
	char msg[384];
	uint64_t dropped;
	va_list ap;

	if (!dev->vm || !hv_vm_log_enabled(dev->vm, level))
		return;
	if (!hv_ratelimit_allow(&dev->log_rl, hv_ratelimit_now(), &dropped))
		return;
	if (dropped)
		hv_vm_logf(dev->vm, HV_LOG_WARN, "%s: %llu messages suppressed", dev->name,
			   (unsigned long long)dropped);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hv_vm_logf(dev->vm, level, "%s: %s", dev->name, msg);
}

HV_EXPORT void hv_virtio_dev_log(struct hv_virtio_dev *dev, enum hv_log_level level,
				 const char *msg)
{
	HV_CHECK_ARG_RET(dev, );
	hv_virtio_dev_logf(dev, level, "%s", msg);
}

void hv_virtio_dev_interrupt(struct hv_virtio_dev *dev, uint32_t isr_bits)
{
	/* Under the lock: a device thread (virtio-net's receive side) may
	 * interrupt while the transport is being destroyed, and
	 * hv_virtio_dev_set_transport(NULL) must not return while the old
	 * transport is still being called. */
	pthread_mutex_lock(&dev->lock);
	if (dev->transport.interrupt)
		dev->transport.interrupt(dev->transport.opaque, isr_bits);
	pthread_mutex_unlock(&dev->lock);
}

HV_EXPORT void hv_virtio_dev_config_changed(struct hv_virtio_dev *dev)
{
	HV_CHECK_ARG_RET(dev, );
	__atomic_add_fetch(&dev->config_generation, 1, __ATOMIC_RELEASE);
	if (hv_virtio_dev_status(dev) & HV_VIRTIO_STATUS_DRIVER_OK)
		hv_virtio_dev_interrupt(dev, HV_VIRTIO_ISR_CONFIG);
}

HV_EXPORT void hv_virtio_dev_needs_reset(struct hv_virtio_dev *dev, const char *reason)
{
	bool log;

	HV_CHECK_ARG_RET(dev, );

	pthread_mutex_lock(&dev->lock);
	log = !dev->needs_reset_logged;
	dev->needs_reset_logged = true;
	__atomic_or_fetch(&dev->status, HV_VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dev->lock);
	if (log)
		hv_virtio_dev_logf(dev, HV_LOG_WARN, "device needs reset: %s", reason);
	/* The spec asks for a configuration change notification (2.1.2). */
	hv_virtio_dev_interrupt(dev, HV_VIRTIO_ISR_CONFIG);
}

/* Stop every queue and return to the reset state (dev->lock held). */
static void reset_locked(struct hv_virtio_dev *dev)
{
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		pthread_mutex_lock(&dev->queues[i].lock);
		hv_virtq_reset(&dev->queues[i]);
		pthread_mutex_unlock(&dev->queues[i].lock);
	}
	if (dev->ops->reset)
		dev->ops->reset(dev->opaque, dev);
	/* The device is done with every request: their memory may go. */
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		pthread_mutex_lock(&dev->queues[i].lock);
		hv_virtq_release_bufs(&dev->queues[i]);
		pthread_mutex_unlock(&dev->queues[i].lock);
	}
	__atomic_store_n(&dev->status, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->driver_features, 0, __ATOMIC_RELAXED);
	dev->needs_reset_logged = false;
}

/* FEATURES_OK only sticks for a subset of what we offer, with VERSION_1:
 * hvlib implements no legacy interface (virtio 1.2, 2.2.1). */
static bool features_acceptable(const struct hv_virtio_dev *dev)
{
	return !(dev->driver_features & ~dev->device_features) &&
	       (dev->driver_features & HV_VIRTIO_F_VERSION_1);
}

/* Drivers may make buffers available and kick before DRIVER_OK (Linux's
 * balloon does with its stats buffer); those kicks were dropped, so each
 * queue with buffers waiting is notified once the device is live. */
static void replay_early_kicks(struct hv_virtio_dev *dev)
{
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		struct hv_virtq *q = &dev->queues[i];
		bool pending;

		pthread_mutex_lock(&q->lock);
		pending = q->running && !q->broken &&
			  le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE)) != q->last_avail;
		pthread_mutex_unlock(&q->lock);
		if (pending)
			hv_virtio_dev_kick(dev, i);
	}
}

void hv_virtio_dev_write_status(struct hv_virtio_dev *dev, uint32_t status)
{
	bool refused = false;
	uint32_t old;

	pthread_mutex_lock(&dev->lock);
	if (!status) {
		reset_locked(dev);
		pthread_mutex_unlock(&dev->lock);
		return;
	}
	old = dev->status;
	status &= 0xff & ~HV_VIRTIO_STATUS_NEEDS_RESET; /* that bit is the device's */
	if ((status & HV_VIRTIO_STATUS_FEATURES_OK) && !(old & HV_VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(dev)) {
		hv_virtio_dev_logf(dev, HV_LOG_WARN, "driver features 0x%llx refused (offered "
				   "0x%llx)", (unsigned long long)dev->driver_features,
				   (unsigned long long)dev->device_features);
		status &= ~HV_VIRTIO_STATUS_FEATURES_OK;
	}
	__atomic_store_n(&dev->status, status | (old & HV_VIRTIO_STATUS_NEEDS_RESET),
			 __ATOMIC_RELAXED);
	if (status != (old & ~HV_VIRTIO_STATUS_NEEDS_RESET) &&
	    hv_virtio_dev_call_status(dev, status)) {
		/* As hv_virtio_dev_needs_reset(), whose lock we hold. */
		refused = true;
		__atomic_or_fetch(&dev->status, HV_VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_RELAXED);
		if (!dev->needs_reset_logged)
			hv_virtio_dev_logf(dev, HV_LOG_WARN, "device needs reset: %s",
					   hv_last_error());
		dev->needs_reset_logged = true;
	}
	pthread_mutex_unlock(&dev->lock);
	if (refused)
		hv_virtio_dev_interrupt(dev, HV_VIRTIO_ISR_CONFIG);
	else if ((status & HV_VIRTIO_STATUS_DRIVER_OK) && !(old & HV_VIRTIO_STATUS_DRIVER_OK))
		replay_early_kicks(dev);
}

uint32_t hv_virtio_dev_features_word(const struct hv_virtio_dev *dev, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(dev->device_features >> (32 * sel)) : 0;
}

void hv_virtio_dev_set_driver_features(struct hv_virtio_dev *dev, uint32_t sel, uint32_t val)
{
	uint64_t mask, f;

	if (sel >= 2)
		return;
	mask = 0xffffffffull << (32 * sel);
	pthread_mutex_lock(&dev->lock);
	if (!(dev->status & HV_VIRTIO_STATUS_FEATURES_OK)) {
		f = (dev->driver_features & ~mask) | ((uint64_t)val << (32 * sel));
		__atomic_store_n(&dev->driver_features, f, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&dev->lock);
}
