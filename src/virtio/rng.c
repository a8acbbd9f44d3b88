/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (virtio 1.2, 5.4): one request queue; each chain's writable
 * buffers are filled from getrandom().  No config space, no features.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/config.h"
#include "util/error.h"
#include "virtio/virtio_internal.h"

#define RNG_QUEUE_SIZE 64u
/* Most bytes per request: the guest asks for small amounts, and a huge
 * buffer must not hold a vCPU for long. */
#define RNG_MAX_BYTES 4096u

struct hv_virtio_rng {
	struct hv_virtio_dev *dev;
};

static uint32_t fill(const struct hv_virtq_req *req)
{
	uint32_t total = 0;

	for (uint32_t i = req->nr_readable; i < req->nr_bufs && total < RNG_MAX_BYTES; i++) {
		uint32_t want = req->bufs[i].len;
		ssize_t got;

		if (want > RNG_MAX_BYTES - total)
			want = RNG_MAX_BYTES - total;
		got = getrandom(req->bufs[i].addr, want, GRND_NONBLOCK);
		if (got <= 0)
			break;
		total += (uint32_t)got;
		if ((uint32_t)got < want)
			break;
	}
	return total;
}

static void rng_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct hv_virtq *q = hv_virtio_dev_queue(dev, queue);
	struct hv_virtq_buf bufs[RNG_QUEUE_SIZE];
	struct hv_virtq_req req;

	(void)opaque;
	while (hv_virtq_pop(q, bufs, RNG_QUEUE_SIZE, &req) == 1)
		hv_virtq_push(q, &req, fill(&req));
	hv_virtq_notify(q);
}

static const struct hv_virtio_dev_ops rng_ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = HV_VIRTIO_ID_RNG,
	.notify = rng_notify,
};

HV_EXPORT void hv_virtio_rng_config_init(struct hv_virtio_rng_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

HV_EXPORT int hv_virtio_rng_create(const struct hv_virtio_rng_config *ucfg,
				   struct hv_virtio_rng **out)
{
	struct hv_virtio_rng_config c;
	const struct hv_virtio_rng_config *cfg = &c;
	struct hv_virtio_dev_config dc;
	struct hv_virtio_rng *rng;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_rng_config_init, "virtio-rng config");
	if (ret)
		return ret;
	if (cfg->flags)
		return hv_err(-EINVAL, "virtio-rng config: unknown flags 0x%x", cfg->flags);
	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return hv_err(-ENOMEM, "allocating a virtio-rng device");
	hv_virtio_dev_config_init(&dc);
	dc.ops = &rng_ops;
	dc.opaque = rng;
	dc.vm = cfg->vm;
	dc.ioloop = cfg->ioloop;
	dc.mem = cfg->mem;
	dc.queue_max_size = RNG_QUEUE_SIZE;
	dc.name = cfg->name ? cfg->name : "virtio-rng";
	ret = hv_virtio_dev_create(&dc, &rng->dev);
	if (ret) {
		free(rng);
		return ret;
	}
	*out = rng;
	return 0;
}

HV_EXPORT void hv_virtio_rng_destroy(struct hv_virtio_rng *rng)
{
	if (!rng)
		return;
	hv_virtio_dev_destroy(rng->dev);
	free(rng);
}

HV_EXPORT struct hv_virtio_dev *hv_virtio_rng_dev(struct hv_virtio_rng *rng)
{
	HV_CHECK_ARG_RET(rng, NULL);
	return rng->dev;
}
