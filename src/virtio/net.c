/* SPDX-License-Identifier: MIT */
/*
 * virtio-net over a tap (virtio 1.2, 5.1) on the public device interface:
 * config space, feature set, transmit, and the device's life cycle.  The
 * receive thread is in net_rx.c, the tap itself in net_tap.c.
 *
 * Transmit runs on the notifying vCPU thread: each chain's readable buffers
 * (the virtio-net header, then the frame) go to the tap in one writev()
 * straight from guest memory.  The tap takes the same 12-byte header, so it
 * passes through unchanged; the host kernel checks its GSO and checksum
 * fields like any packet socket's.  Nothing here keeps state between
 * chains, so vCPUs may transmit concurrently.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/config.h"
#include "util/error.h"
#include "virtio/net_internal.h"

#define NET_FEATURES                                                                          \
	(VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_MAC |                      \
	 VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 | VIRTIO_NET_F_GUEST_ECN |          \
	 VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6 | VIRTIO_NET_F_HOST_ECN |             \
	 VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_STATUS)

HV_EXPORT void hv_virtio_net_config_init(struct hv_virtio_net_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

static void net_config_read(void *opaque, uint32_t offset, void *buf, uint32_t len)
{
	struct hv_virtio_net *net = opaque;

	memcpy(buf, (const uint8_t *)&net->config + offset, len);
}

static void transmit(struct hv_virtio_net *net, struct hv_virtq *q)
{
	struct hv_virtq_buf bufs[NET_QUEUE_SIZE];
	struct iovec iov[NET_QUEUE_SIZE];
	struct hv_virtq_req req;

	while (hv_virtq_pop(q, bufs, NET_QUEUE_SIZE, &req) == 1) {
		ssize_t n;

		/* A chain without a whole header is no frame, and one beyond
		 * the largest GSO frame is none the tap would take: returned
		 * unsent. */
		if (req.readable_bytes < NET_HDR_BYTES + NET_ETH_HLEN ||
		    req.readable_bytes > NET_FRAME_BYTES) {
			hv_virtio_dev_log(net->dev, HV_LOG_DEBUG, "transmit chain of a bad size");
			hv_virtq_push(q, &req, 0);
			continue;
		}
		for (uint32_t i = 0; i < req.nr_readable; i++)
			iov[i] = (struct iovec){ req.bufs[i].addr, req.bufs[i].len };
		do
			n = writev(net->tap_fd, iov, (int)req.nr_readable);
		while (n < 0 && errno == EINTR);
		/* A full or refusing tap drops the frame, as a wire would. */
		hv_virtq_push(q, &req, 0);
	}
	hv_virtq_notify(q);
}

static void net_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct hv_virtio_net *net = opaque;

	if (queue == NET_TX)
		transmit(net, hv_virtio_dev_queue(dev, queue));
	else if (queue == NET_RX) {
		/* New receive buffers, from a driver whose features are final. */
		__atomic_store_n(&net->kick_epoch, hv_chain_epoch_read(&net->rx),
				 __ATOMIC_RELEASE);
		hv_virtio_net_rx_wake(net);
	}
}

/* Runs with the device lock held (virtio_dev.c): takes the rx epoch's lock only, which
 * the receive thread never holds while waiting for anything else. */
static void net_reset(void *opaque, struct hv_virtio_dev *dev)
{
	struct hv_virtio_net *net = opaque;

	(void)dev;
	hv_chain_epoch_bump(&net->rx);
	hv_virtio_net_rx_wake(net); /* to drop the tap's offloads (apply_offload()) */
}

static const struct hv_virtio_dev_ops net_ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = HV_VIRTIO_ID_NET,
	.features = NET_FEATURES,
	.config_bytes = sizeof(struct virtio_net_config),
	.config_read = net_config_read,
	.notify = net_notify,
	.reset = net_reset,
};

static int check_config(const struct hv_virtio_net_config *cfg, bool need_tap)
{
	static const uint8_t zero[6];

	if (cfg->flags & ~HV_VIRTIO_NET_F_ALL)
		return hv_err(-EINVAL, "virtio-net config: unknown flags 0x%x",
			      cfg->flags & ~HV_VIRTIO_NET_F_ALL);
	if (cfg->reserved[0] || cfg->reserved[1])
		return hv_err(-EINVAL, "virtio-net config: reserved[] is %02x %02x, must be 0",
			      cfg->reserved[0], cfg->reserved[1]);
	if (need_tap && (!cfg->tap || !cfg->tap[0]))
		return hv_err(-EINVAL, "virtio-net config: no tap interface name");
	if ((cfg->flags & HV_VIRTIO_NET_F_MAC) &&
	    ((cfg->mac[0] & 1) || !memcmp(cfg->mac, zero, sizeof(zero))))
		return hv_err(-EINVAL, "virtio-net config: MAC %02x:%02x:%02x:%02x:%02x:%02x is not "
				       "a unicast address", cfg->mac[0], cfg->mac[1], cfg->mac[2],
			      cfg->mac[3], cfg->mac[4], cfg->mac[5]);
	return 0;
}

static int fill_config(struct hv_virtio_net *net, const struct hv_virtio_net_config *cfg)
{
	struct virtio_net_config *c = &net->config;

	if (cfg->flags & HV_VIRTIO_NET_F_MAC) {
		memcpy(c->mac, cfg->mac, sizeof(c->mac));
	} else {
		if (getrandom(c->mac, sizeof(c->mac), 0) != sizeof(c->mac))
			return hv_err_sys(-errno, "virtio-net: random MAC address");
		c->mac[0] = (uint8_t)((c->mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
	}
	c->status = htole16(VIRTIO_NET_S_LINK_UP);
	c->max_virtqueue_pairs = htole16(1);
	return 0;
}

static void free_net(struct hv_virtio_net *net)
{
	for (uint32_t i = 0; i < NET_MAX_MERGE; i++)
		free(net->chains[i].bufs);
	free(net->frame);
	hv_chain_epoch_fini(&net->rx);
	free(net);
}

/* Everything but the backend fd, which the caller has opened. */
static int create(const struct hv_virtio_net_config *cfg, int fd, bool is_tap,
		  struct hv_virtio_net **out)
{
	struct hv_virtio_dev_config dc;
	struct hv_virtio_net *net = calloc(1, sizeof(*net));
	int ret;

	if (!net)
		return hv_err(-ENOMEM, "allocating a virtio-net device");
	hv_chain_epoch_init(&net->rx);
	net->tap_fd = fd;
	net->is_tap = is_tap;
	net->wake_fd = -1;
	snprintf(net->name, sizeof(net->name), "%s", cfg->name ? cfg->name : "virtio-net");
	net->frame = malloc(NET_FRAME_BYTES);
	ret = net->frame ? fill_config(net, cfg)
			 : hv_err(-ENOMEM, "allocating a virtio-net frame buffer");
	if (ret)
		goto fail;
	hv_virtio_dev_config_init(&dc);
	dc.ops = &net_ops;
	dc.opaque = net;
	dc.vm = cfg->vm;
	dc.ioloop = cfg->ioloop;
	dc.mem = cfg->mem;
	dc.nr_queues = 2;
	dc.queue_max_size = NET_QUEUE_SIZE;
	dc.name = net->name;
	ret = hv_virtio_dev_create(&dc, &net->dev);
	if (ret)
		goto fail;
	ret = hv_virtio_net_rx_start(net);
	if (ret) {
		hv_virtio_dev_destroy(net->dev);
		goto fail;
	}
	*out = net;
	return 0;

fail:
	free_net(net);
	return ret;
}

int hv_virtio_net_create_fd(const struct hv_virtio_net_config *ucfg, int fd,
			    struct hv_virtio_net **out)
{
	struct hv_virtio_net_config c;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_net_config_init, "virtio-net config");
	if (!ret)
		ret = check_config(&c, false);
	return ret ? ret : create(&c, fd, false, out);
}

HV_EXPORT int hv_virtio_net_create(const struct hv_virtio_net_config *ucfg,
				   struct hv_virtio_net **out)
{
	struct hv_virtio_net_config c;
	const struct hv_virtio_net_config *cfg = &c;
	int fd, ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_net_config_init, "virtio-net config");
	if (!ret)
		ret = check_config(cfg, true);
	if (ret)
		return ret;
	ret = hv_virtio_net_tap_open(cfg->tap, &fd);
	if (ret)
		return ret;
	ret = create(cfg, fd, true, out);
	if (ret)
		close(fd);
	return ret;
}

HV_EXPORT void hv_virtio_net_destroy(struct hv_virtio_net *net)
{
	if (!net)
		return;
	hv_virtio_net_rx_stop(net);
	hv_virtio_dev_destroy(net->dev);
	close(net->tap_fd);
	free_net(net);
}

HV_EXPORT struct hv_virtio_dev *hv_virtio_net_dev(struct hv_virtio_net *net)
{
	HV_CHECK_ARG_RET(net, NULL);
	return net->dev;
}

HV_EXPORT void hv_virtio_net_mac(const struct hv_virtio_net *net, uint8_t mac[6])
{
	HV_CHECK_ARG_RET(net, );
	HV_CHECK_ARG_RET(mac, );
	memcpy(mac, net->config.mac, sizeof(net->config.mac));
}
