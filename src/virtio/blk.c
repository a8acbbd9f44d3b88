/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk over a raw image (virtio 1.2, 5.2), written against the public
 * device interface like any embedder's device.  One request queue, served
 * in order with preadv/pwritev straight into guest memory: on the notifying
 * vCPU thread, or with an I/O loop on the device's own worker thread
 * (blk_worker.c), so a slow disk never holds up the loop's other devices.
 *
 * A request: a 16-byte header (type, reserved, sector), data buffers, and
 * a final writable status byte.  Everything in it is the guest's: the header
 * is copied out before use, sector ranges are checked against the capacity
 * without overflow, and a malformed request is answered with IOERR/UNSUPP
 * (it is the driver's own request that fails, not the device).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/config.h"
#include "util/error.h"
#include "virtio/blk_internal.h"

HV_EXPORT void hv_virtio_blk_config_init(struct hv_virtio_blk_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

static void blk_config_read(void *opaque, uint32_t offset, void *buf, uint32_t len)
{
	struct hv_virtio_blk *blk = opaque;

	memcpy(buf, (const uint8_t *)&blk->config + offset, len);
}

/* Gather the data buffers of a request (all but the header bytes at the
 * front and the status byte at the back) into an iovec array. */
static uint32_t data_iov(const struct hv_virtq_req *req, bool writable, struct iovec *iov,
			 uint64_t *bytes)
{
	uint32_t first = writable ? req->nr_readable : 0;
	uint32_t end = writable ? req->nr_bufs : req->nr_readable;
	uint64_t skip = writable ? 0 : BLK_HDR_BYTES;
	uint64_t tail = writable ? 1 : 0; /* the status byte */
	uint64_t left = (writable ? req->writable_bytes : req->readable_bytes);
	uint32_t n = 0;

	left = left >= skip + tail ? left - skip - tail : 0;
	*bytes = left;
	for (uint32_t i = first; i < end && left; i++) {
		uint64_t len = req->bufs[i].len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		len -= skip;
		if (len > left)
			len = left;
		iov[n++] = (struct iovec){ (uint8_t *)req->bufs[i].addr + skip, len };
		left -= len;
		skip = 0;
	}
	return n;
}

/* Sectors [sector, sector + bytes / 512) inside the disk, bytes a multiple of 512. */
static bool range_ok(const struct hv_virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t capacity = blk->bytes / BLK_SECTOR;

	return !(bytes % BLK_SECTOR) && sector <= capacity && bytes / BLK_SECTOR <= capacity - sector;
}

/* Full transfer or an error: short reads/writes of a regular file mean
 * something went wrong (the image shrank, the disk filled). */
static int transfer(struct hv_virtio_blk *blk, bool write, struct iovec *iov, uint32_t n,
		    uint64_t off, uint64_t bytes)
{
	while (bytes) {
		ssize_t done = write ? pwritev(blk->fd, iov, (int)n, (off_t)off)
				     : preadv(blk->fd, iov, (int)n, (off_t)off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return -1;
		off += (uint64_t)done;
		bytes -= (uint64_t)done;
		while (n && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

static uint8_t do_rw(struct hv_virtio_blk *blk, const struct hv_virtq_req *req, bool write,
		     uint64_t sector, uint32_t *written)
{
	struct iovec iov[BLK_QUEUE_SIZE];
	uint64_t bytes;
	uint32_t n = data_iov(req, !write, iov, &bytes);

	if (write && blk->read_only)
		return VIRTIO_BLK_S_IOERR;
	/* The used length (bytes + the status byte) is 32 bits: a larger read
	 * could not be reported, so refuse it before doing it. */
	if (!write && bytes > UINT32_MAX - 1)
		return VIRTIO_BLK_S_IOERR;
	if (!range_ok(blk, sector, bytes))
		return VIRTIO_BLK_S_IOERR;
	if (transfer(blk, write, iov, n, sector * BLK_SECTOR, bytes))
		return VIRTIO_BLK_S_IOERR;
	if (!write)
		*written = (uint32_t)bytes;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(struct hv_virtio_blk *blk, const struct hv_virtq_req *req,
			 uint32_t *written)
{
	if (req->writable_bytes < 1 + 1)
		return VIRTIO_BLK_S_IOERR;
	*written = (uint32_t)hv_virtq_req_write(req, 0, blk->serial,
						req->writable_bytes - 1 < HV_VIRTIO_BLK_ID_BYTES
							? req->writable_bytes - 1
							: HV_VIRTIO_BLK_ID_BYTES);
	return VIRTIO_BLK_S_OK;
}

static int flush(struct hv_virtio_blk *blk)
{
	if (blk->before_flush) /* tests: a slow disk */
		blk->before_flush(blk->before_flush_opaque);
	return fdatasync(blk->fd);
}

static uint8_t handle(struct hv_virtio_blk *blk, const struct hv_virtq_req *req,
		      uint32_t *written)
{
	struct blk_req_hdr hdr;

	if (hv_virtq_req_read(req, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	switch (le32toh(hdr.type)) {
	case VIRTIO_BLK_T_IN:
		return do_rw(blk, req, false, le64toh(hdr.sector), written);
	case VIRTIO_BLK_T_OUT:
		return do_rw(blk, req, true, le64toh(hdr.sector), written);
	case VIRTIO_BLK_T_FLUSH:
		return flush(blk) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return do_get_id(blk, req, written);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return hv_virtio_blk_discard(blk, req, le32toh(hdr.type));
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* One request, inside the epoch (chain_epoch.h): the I/O writes straight
 * into the chain's buffers. */
static void serve_one(struct hv_virtio_blk *blk, struct hv_virtq *q, struct hv_virtq_req *req)
{
	uint32_t written = 0;
	uint8_t status;

	/* The status byte is the last writable byte: without one the driver
	 * cannot be answered, and the request is just returned. */
	if (!req->writable_bytes) {
		hv_virtio_dev_log(blk->dev, HV_LOG_DEBUG, "request without a status byte");
		hv_virtq_push(q, req, 0);
		return;
	}
	status = handle(blk, req, &written);
	hv_virtq_req_write(req, req->writable_bytes - 1, &status, 1);
	hv_virtq_push(q, req, written + 1);
}

/* Requests in ring order, each completed before the next starts: a flush
 * is only taken once every write before it has returned, so fdatasync()
 * covers them all (virtio 1.2, 5.2.6.2). */
void hv_virtio_blk_serve(struct hv_virtio_blk *blk)
{
	struct hv_virtq *q = hv_virtio_dev_queue(blk->dev, 0);
	struct hv_virtq_buf bufs[BLK_QUEUE_SIZE];
	struct hv_virtq_req req;

	for (;;) {
		uint32_t epoch = hv_chain_epoch_read(&blk->epoch);

		if (hv_virtq_pop(q, bufs, BLK_QUEUE_SIZE, &req) != 1)
			break;
		/* A reset since the pop: the chain is the old driver's. */
		if (!hv_chain_epoch_enter(&blk->epoch, epoch))
			continue;
		serve_one(blk, q, &req);
		hv_chain_epoch_leave(&blk->epoch);
	}
	hv_virtq_notify(q);
}

static void blk_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct hv_virtio_blk *blk = opaque;

	(void)dev;
	(void)queue;
	if (blk->worker_on)
		hv_virtio_blk_worker_kick(blk); /* never block the shared I/O thread */
	else
		hv_virtio_blk_serve(blk);
}

/* Device lock held: waits for a request in progress (a device reset
 * drains in-flight I/O), after which no chain of the old driver is used. */
static void blk_reset(void *opaque, struct hv_virtio_dev *dev)
{
	struct hv_virtio_blk *blk = opaque;

	(void)dev;
	hv_chain_epoch_bump(&blk->epoch);
}

static const struct hv_virtio_dev_ops blk_ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = HV_VIRTIO_ID_BLOCK,
	.features = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH |
		    VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES,
	.config_bytes = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.notify = blk_notify,
	.reset = blk_reset,
};

static int open_image(struct hv_virtio_blk *blk, const struct hv_virtio_blk_config *cfg)
{
	struct stat st;

	blk->fd = open(cfg->path, (blk->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0)
		return hv_err_sys(-errno, "virtio-blk: opening %s", cfg->path);
	if (fstat(blk->fd, &st))
		return hv_err_sys(-errno, "virtio-blk: %s", cfg->path);
	if (!S_ISREG(st.st_mode))
		return hv_err(-EINVAL, "virtio-blk: %s is not a regular file", cfg->path);
	blk->bytes = (uint64_t)st.st_size / BLK_SECTOR * BLK_SECTOR;
	return 0;
}

static void fill_config(struct hv_virtio_blk *blk)
{
	struct virtio_blk_config *c = &blk->config;

	c->capacity = htole64(blk->bytes / BLK_SECTOR);
	c->seg_max = htole32(BLK_QUEUE_SIZE - 2); /* header and status take two */
	c->blk_size = htole32(BLK_SECTOR);
	c->max_discard_sectors = htole32(BLK_MAX_DISCARD_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment = htole32(1);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_DISCARD_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
	c->write_zeroes_may_unmap = 1;
}

HV_EXPORT int hv_virtio_blk_create(const struct hv_virtio_blk_config *ucfg,
				   struct hv_virtio_blk **out)
{
	struct hv_virtio_blk_config c;
	const struct hv_virtio_blk_config *cfg = &c;
	struct hv_virtio_dev_config dc;
	struct hv_virtio_blk *blk;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_blk_config_init, "virtio-blk config");
	if (ret)
		return ret;
	if (cfg->flags & ~HV_VIRTIO_BLK_F_ALL)
		return hv_err(-EINVAL, "virtio-blk config: unknown flags 0x%x",
			      cfg->flags & ~HV_VIRTIO_BLK_F_ALL);
	if (!cfg->path)
		return hv_err(-EINVAL, "virtio-blk config: path is NULL (the disk image is required)");
	if (cfg->serial && strlen(cfg->serial) > HV_VIRTIO_BLK_ID_BYTES)
		return hv_err(-EINVAL, "virtio-blk config: serial '%s' is longer than %u bytes",
			      cfg->serial, HV_VIRTIO_BLK_ID_BYTES);
	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return hv_err(-ENOMEM, "allocating a virtio-blk device");
	blk->fd = -1;
	hv_chain_epoch_init(&blk->epoch);
	blk->read_only = cfg->flags & HV_VIRTIO_BLK_F_READONLY;
	if (cfg->serial)
		memcpy(blk->serial, cfg->serial, strlen(cfg->serial));
	ret = open_image(blk, cfg);
	if (ret)
		goto fail;
	fill_config(blk);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &blk_ops;
	dc.opaque = blk;
	dc.vm = cfg->vm;
	dc.ioloop = cfg->ioloop;
	dc.mem = cfg->mem;
	dc.features = blk->read_only ? VIRTIO_BLK_F_RO : 0;
	dc.queue_max_size = BLK_QUEUE_SIZE;
	dc.name = cfg->name ? cfg->name : "virtio-blk";
	ret = hv_virtio_dev_create(&dc, &blk->dev);
	if (ret)
		goto fail;
	if (cfg->ioloop) {
		ret = hv_virtio_blk_worker_start(blk);
		if (ret)
			goto fail_dev;
	}
	*out = blk;
	return 0;

fail_dev:
	hv_virtio_dev_destroy(blk->dev);
fail:
	if (blk->fd >= 0)
		close(blk->fd);
	hv_chain_epoch_fini(&blk->epoch);
	free(blk);
	return ret;
}

HV_EXPORT void hv_virtio_blk_destroy(struct hv_virtio_blk *blk)
{
	if (!blk)
		return;
	hv_virtio_blk_worker_stop(blk); /* before the queues it serves go */
	hv_virtio_dev_destroy(blk->dev);
	close(blk->fd);
	hv_chain_epoch_fini(&blk->epoch);
	free(blk);
}

HV_EXPORT struct hv_virtio_dev *hv_virtio_blk_dev(struct hv_virtio_blk *blk)
{
	HV_CHECK_ARG_RET(blk, NULL);
	return blk->dev;
}
