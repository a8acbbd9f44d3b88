/* SPDX-License-Identifier: MIT */
/*
 * virtio-net transmit and (merged) receive without a tap: the backend is a
 * SOCK_SEQPACKET socketpair (hv_virtio_net_create_fd(), as the unit tests
 * use), so frames keep their boundaries both ways.  The input is guest RAM
 * (receiveq rings at 0, transmitq rings at 0x4000, fuzz_util.h); from
 * FZ_SCRIPT on: [features: bit 0 MRG_RXBUF, 1 GUEST_CSUM, 2 GUEST_TSO4,
 * 3 GUEST_TSO6, 4 GUEST_ECN, 5 HOST_TSO4, 6 EVENT_IDX, 7 INDIRECT]
 * [queue size - 1] then commands [op][len le16][len bytes]:
 *   op % 4 == 0: a frame from the host side (header + Ethernet frame),
 *   1: notify the receiveq, 2: notify the transmitq, 3: reset and start
 * the driver again.  The receive thread delivers on its own; the target
 * waits (2 ms at most) for the socket to drain.  Oracle: after a final
 * reset, more frames and a wait must leave guest memory untouched, even if
 * the thread held chains of the old driver.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "virtio/net_internal.h"

static struct fz_guest guest;
static uint8_t sink[NET_FRAME_BYTES];
static uint8_t before[FZ_RAM_BYTES];

static const uint64_t own[6] = {
	VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
	VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_HOST_TSO4,
};

/* Until the receive thread took every frame, or tries * 50 us. */
static void settle(struct hv_virtio_net *net, int fd, int tries)
{
	for (int i = 0; i < tries; i++) {
		int pending = 0;
		struct timespec ts = { 0, 50000 };

		if (ioctl(fd, FIONREAD, &pending) == 0 && !pending &&
		    !__atomic_load_n(&net->frame_len, __ATOMIC_RELAXED))
			return;
		nanosleep(&ts, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = fz_script(data, size);
	struct hv_virtio_net_config nc;
	struct hv_virtio_net *net;
	struct hv_virtio_dev *dev;
	uint32_t qsize, op, len;
	const uint8_t *p;
	uint64_t features;
	int sv[2];

	if (!guest.mem && fz_guest_create(&guest))
		abort();
	fz_guest_load(&guest, data, size);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	hv_virtio_net_config_init(&nc);
	nc.mem = guest.mem;
	if (hv_virtio_net_create_fd(&nc, sv[0], &net))
		abort();
	dev = hv_virtio_net_dev(net);
	features = fz_features((uint32_t)fz_take(&in, 1), own);
	qsize = (uint32_t)fz_take(&in, 1) + 1;
	fz_driver_start(dev, features, 2, qsize);
	while (fz_next_cmd(&in, 2, &op, &p, &len)) {
		switch (op % 4) {
		case 0:
			if (send(sv[1], p, len, MSG_DONTWAIT) < 0) {
				/* A full socket: the frame is lost, as on a wire. */
			}
			break;
		case 1:
			hv_virtio_dev_notify(dev, NET_RX);
			break;
		case 2:
			hv_virtio_dev_notify(dev, NET_TX);
			while (recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
			break;
		default:
			fz_driver_restart(dev, features, 2, qsize);
			break;
		}
	}
	settle(net, sv[0], 40);
	hv_virtio_dev_write_status(dev, 0);
	memcpy(before, guest.ram, FZ_RAM_BYTES);
	memset(sink, 0, NET_HDR_BYTES + 64);
	if (send(sv[1], sink, NET_HDR_BYTES + 64, MSG_DONTWAIT) < 0) {
		/* A full socket: the thread has frames enough. */
	}
	hv_virtio_dev_notify(dev, NET_RX);
	settle(net, sv[0], 10);
	if (memcmp(before, guest.ram, FZ_RAM_BYTES))
		abort();
	hv_virtio_net_destroy(net);
	close(sv[1]);
	return 0;
}
