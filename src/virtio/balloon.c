/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon (virtio 1.2, 5.5), written against the public device
 * interface like virtio-blk: three queues (inflate, deflate, stats), an
 * 8-byte config space (num_pages: the host's target; actual: the driver's
 * count), VIRTIO_BALLOON_F_STATS_VQ and VIRTIO_BALLOON_F_DEFLATE_ON_OOM.
 * The page lists and stats buffers are parsed in balloon_pages.c.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/config.h"
#include "util/error.h"
#include "virtio/balloon_internal.h"
#include "virtio/virtio_internal.h"

#define PAGE HV_VIRTIO_BALLOON_PAGE_SIZE

HV_EXPORT void hv_virtio_balloon_config_init(struct hv_virtio_balloon_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

static void bal_config_read(void *opaque, uint32_t offset, void *buf, uint32_t len)
{
	struct hv_virtio_balloon *bal = opaque;
	uint32_t cfg[2];

	pthread_mutex_lock(&bal->lock);
	cfg[0] = htole32(bal->num_pages);
	cfg[1] = htole32(bal->actual);
	pthread_mutex_unlock(&bal->lock);
	memcpy(buf, (const uint8_t *)cfg + offset, len);
}

/* The driver writes `actual` (num_pages is the device's): any width, byte
 * by byte into our copy; a value beyond guest RAM is kept (it is only the
 * driver's claim) but logged once. */
static void bal_config_write(void *opaque, uint32_t offset, const void *buf, uint32_t len)
{
	struct hv_virtio_balloon *bal = opaque;
	const uint8_t *src = buf;
	uint64_t ram = hv_balloon_ram_pages(bal);
	uint32_t actual;
	bool log = false;

	pthread_mutex_lock(&bal->lock);
	actual = bal->actual;
	for (uint32_t i = 0; i < len; i++) {
		uint32_t at = offset + i;

		if (at < BAL_CONFIG_ACTUAL)
			continue;
		at = 8 * (at - BAL_CONFIG_ACTUAL);
		actual = (actual & ~(0xffu << at)) | ((uint32_t)src[i] << at);
	}
	bal->actual = actual;
	if (actual > ram && !bal->actual_logged)
		log = bal->actual_logged = true;
	pthread_mutex_unlock(&bal->lock);
	if (log)
		hv_virtio_dev_logf(bal->dev, HV_LOG_WARN, "driver claims %u pages, guest RAM has "
				   "%llu (logged once)", actual, (unsigned long long)ram);
}

static void serve_pages(struct hv_virtio_balloon *bal, struct hv_virtio_dev *dev,
			struct hv_virtq *q, bool inflate)
{
	struct hv_virtq_buf bufs[BAL_QUEUE_SIZE];
	struct hv_virtq_req req;
	char why[160];

	while (hv_virtq_pop(q, bufs, BAL_QUEUE_SIZE, &req) == 1) {
		if (hv_balloon_pages(bal, &req, inflate, why, sizeof(why))) {
			hv_virtio_dev_needs_reset(dev, why);
			return;
		}
		hv_virtq_push(q, &req, 0);
	}
	hv_virtq_notify(q);
}

/* The driver's stats buffer: read it and keep it until the host asks again.
 * A second one while we hold one (not what a driver does) sends the older
 * back. */
static void serve_stats(struct hv_virtio_balloon *bal, struct hv_virtq *q)
{
	/* The kept request points at nothing of ours once parsed: push uses
	 * only its head and generation. */
	struct hv_virtq_buf bufs[BAL_QUEUE_SIZE];
	struct hv_virtq_req req, old;
	bool had;

	while (hv_virtq_pop(q, bufs, BAL_QUEUE_SIZE, &req) == 1) {
		pthread_mutex_lock(&bal->lock);
		hv_balloon_parse_stats(bal, &req);
		had = bal->stats_held;
		old = bal->stats_req;
		bal->stats_req = req;
		bal->stats_req.bufs = NULL;
		bal->stats_held = true;
		pthread_mutex_unlock(&bal->lock);
		if (had)
			hv_virtq_push(q, &old, 0);
	}
	hv_virtq_notify(q);
}

static void bal_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct hv_virtio_balloon *bal = opaque;
	struct hv_virtq *q = hv_virtio_dev_queue(dev, queue);

	if (queue == BAL_Q_STATS)
		serve_stats(bal, q);
	else
		serve_pages(bal, dev, q, queue == BAL_Q_INFLATE);
}

static void bal_reset(void *opaque, struct hv_virtio_dev *dev)
{
	struct hv_virtio_balloon *bal = opaque;

	(void)dev;
	/* The driver is gone: its stats buffer and its count with it. */
	pthread_mutex_lock(&bal->lock);
	bal->stats_held = false;
	bal->actual = 0;
	pthread_mutex_unlock(&bal->lock);
}

static const struct hv_virtio_dev_ops bal_ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = HV_VIRTIO_ID_BALLOON,
	.features = HV_VIRTIO_BALLOON_F_STATS_VQ | HV_VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
	.config_bytes = BAL_CONFIG_BYTES,
	.config_read = bal_config_read,
	.config_write = bal_config_write,
	.notify = bal_notify,
	.reset = bal_reset,
};

HV_EXPORT int hv_virtio_balloon_create(const struct hv_virtio_balloon_config *ucfg,
				       struct hv_virtio_balloon **out)
{
	struct hv_virtio_balloon_config c;
	const struct hv_virtio_balloon_config *cfg = &c;
	struct hv_virtio_dev_config dc;
	struct hv_virtio_balloon *bal;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_balloon_config_init, "virtio-balloon config");
	if (ret)
		return ret;
	if (cfg->flags)
		return hv_err(-EINVAL, "virtio-balloon config: unknown flags 0x%x", cfg->flags);
	if (!cfg->mem && !cfg->vm)
		return hv_err(-EINVAL, "virtio-balloon config: needs a VM or a memory map");
	bal = calloc(1, sizeof(*bal));
	if (!bal)
		return hv_err(-ENOMEM, "allocating a virtio-balloon device");
	bal->vm = cfg->vm;
	bal->mem = cfg->mem ? cfg->mem : hv_vm_mem(cfg->vm);
	pthread_mutex_init(&bal->lock, NULL);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &bal_ops;
	dc.opaque = bal;
	dc.vm = cfg->vm;
	dc.ioloop = cfg->ioloop;
	dc.mem = bal->mem;
	dc.nr_queues = BAL_NR_QUEUES;
	dc.queue_max_size = BAL_QUEUE_SIZE;
	dc.name = cfg->name ? cfg->name : "virtio-balloon";
	ret = hv_virtio_dev_create(&dc, &bal->dev);
	if (ret) {
		pthread_mutex_destroy(&bal->lock);
		free(bal);
		return ret;
	}
	*out = bal;
	return 0;
}

HV_EXPORT void hv_virtio_balloon_destroy(struct hv_virtio_balloon *bal)
{
	if (!bal)
		return;
	hv_virtio_dev_destroy(bal->dev);
	pthread_mutex_destroy(&bal->lock);
	free(bal);
}

HV_EXPORT struct hv_virtio_dev *hv_virtio_balloon_dev(struct hv_virtio_balloon *bal)
{
	HV_CHECK_ARG_RET(bal, NULL);
	return bal->dev;
}

HV_EXPORT int hv_virtio_balloon_set_target(struct hv_virtio_balloon *bal, uint64_t bytes)
{
	HV_CHECK_ARG(bal);
	uint64_t pages = bytes / PAGE, ram = hv_balloon_ram_pages(bal);

	if (pages > ram || pages > UINT32_MAX)
		return hv_err(-EINVAL, "virtio-balloon: target of %llu bytes is more than the "
				       "guest's %llu bytes of RAM",
			      (unsigned long long)bytes, (unsigned long long)(ram * PAGE));
	pthread_mutex_lock(&bal->lock);
	bal->num_pages = (uint32_t)pages;
	pthread_mutex_unlock(&bal->lock);
	hv_virtio_dev_config_changed(bal->dev);
	return 0;
}

HV_EXPORT int hv_virtio_balloon_get(struct hv_virtio_balloon *bal,
				    struct hv_virtio_balloon_info *info)
{
	struct hv_virtio_balloon_info i;
	uint32_t size;
	int ret;

	HV_CHECK_ARG(bal);
	HV_CHECK_ARG(info);

	ret = hv_out_size(info->size, sizeof(i), offsetof(struct hv_virtio_balloon_info, stats),
			  "virtio-balloon info", &size);
	if (ret)
		return ret;
	memset(&i, 0, sizeof(i));
	i.size = size;
	pthread_mutex_lock(&bal->lock);
	i.target_bytes = (uint64_t)bal->num_pages * PAGE;
	i.actual_bytes = (uint64_t)bal->actual * PAGE;
	i.inflated_pages = bal->inflated;
	i.deflated_pages = bal->deflated;
	i.skipped_pages = bal->skipped;
	i.stats_valid = bal->stats_valid;
	i.stats_updates = bal->stats_updates;
	i.stats_time_ns = bal->stats_time_ns;
	memcpy(i.stats, bal->stats, sizeof(i.stats));
	pthread_mutex_unlock(&bal->lock);
	memcpy(info, &i, size);
	return 0;
}

HV_EXPORT int hv_virtio_balloon_request_stats(struct hv_virtio_balloon *bal)
{
	HV_CHECK_ARG(bal);
	struct hv_virtq *q = hv_virtio_dev_queue(bal->dev, BAL_Q_STATS);
	struct hv_virtq_req req;
	bool held;

	pthread_mutex_lock(&bal->lock);
	held = bal->stats_held;
	req = bal->stats_req;
	bal->stats_held = false;
	pthread_mutex_unlock(&bal->lock);
	if (!held)
		return hv_err(-EAGAIN, "virtio-balloon: the driver holds no stats buffer here "
				       "(no VIRTIO_BALLOON_F_STATS_VQ, or a request is pending)");
	/* Used with nothing written: the driver refills it and sends it again. */
	hv_virtq_push(q, &req, 0);
	hv_virtq_notify(q);
	return 0;
}
