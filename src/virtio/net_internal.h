/* SPDX-License-Identifier: MIT */
/* virtio-net (virtio 1.2, 5.1): wire format, device state, and the pieces
 * net.c (device, transmit), net_rx.c (receive thread) and net_tap.c share. */
#ifndef HV_VIRTIO_NET_INTERNAL_H
#define HV_VIRTIO_NET_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlib/virtio_net.h"
#include "virtio/chain_epoch.h"

#define VIRTIO_NET_F_CSUM       (1ull << 0)
#define VIRTIO_NET_F_GUEST_CSUM (1ull << 1)
#define VIRTIO_NET_F_MAC        (1ull << 5)
#define VIRTIO_NET_F_GUEST_TSO4 (1ull << 7)
#define VIRTIO_NET_F_GUEST_TSO6 (1ull << 8)
#define VIRTIO_NET_F_GUEST_ECN  (1ull << 9)
#define VIRTIO_NET_F_HOST_TSO4  (1ull << 11)
#define VIRTIO_NET_F_HOST_TSO6  (1ull << 12)
#define VIRTIO_NET_F_HOST_ECN   (1ull << 13)
#define VIRTIO_NET_F_MRG_RXBUF  (1ull << 15)
#define VIRTIO_NET_F_STATUS     (1ull << 16)

#define VIRTIO_NET_S_LINK_UP 1u

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u
#define VIRTIO_NET_HDR_GSO_NONE  0u
#define VIRTIO_NET_HDR_GSO_TCPV4 1u
#define VIRTIO_NET_HDR_GSO_TCPV6 4u
#define VIRTIO_NET_HDR_GSO_ECN   0x80u

/* The header in front of every frame, both ways (5.1.6); with VERSION_1 it
 * always has num_buffers, and the tap is told this size too. */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define NET_HDR_BYTES 12u
_Static_assert(sizeof(struct virtio_net_hdr_v1) == NET_HDR_BYTES, "virtio_net_hdr_v1 layout");
#define NET_NUM_BUFFERS_OFFSET 10u

/* Device config (5.1.4), little-endian. */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
};
_Static_assert(sizeof(struct virtio_net_config) == 12, "virtio_net_config layout");

#define NET_QUEUE_SIZE 256u
#define NET_RX 0u
#define NET_TX 1u
#define NET_ETH_HLEN 14u
/* The largest frame a tap hands over (a 64 KiB GSO super-frame, its
 * Ethernet and VLAN headers) plus our header: reads go here first. */
#define NET_FRAME_BYTES (NET_HDR_BYTES + 65536u + 256u)
/* Most receive chains one frame may take with MRG_RXBUF (Linux posts at
 * least 1.5 KiB each, so 64 KiB takes ~44). */
#define NET_MAX_MERGE 64u

/* A receive chain popped and held for the next frame. */
struct net_chain {
	struct hv_virtq_req req;
	struct hv_virtq_buf *bufs; /* hv_virtq_max_bufs() entries, allocated on first use */
};

struct hv_virtio_net {
	struct hv_virtio_dev *dev;
	int tap_fd;                /* owned */
	bool is_tap;               /* false: a test backend, no tun ioctls */
	int wake_fd;               /* eventfd: receiveq kick, reset, stop */
	struct virtio_net_config config; /* constant after create */
	char name[32];

	pthread_t thread;
	bool thread_started;
	bool stop;                 /* atomic */

	/* Receive side: the thread's own, except rx (chain_epoch.h). */
	struct hv_chain_epoch rx;  /* writes into held chains vs ops->reset */
	uint32_t kick_epoch;       /* rx.value at the last receiveq kick (atomic) */
	uint32_t held_epoch;       /* rx.value when chains[] were popped */
	struct net_chain chains[NET_MAX_MERGE];
	uint32_t nr_chains;
	uint8_t *frame;            /* NET_FRAME_BYTES */
	size_t frame_len;          /* a frame read but not delivered yet; 0: none */
	uint32_t offload;          /* TUN_F_* the tap has */
	bool read_error_logged;
};

/* Tap (net_tap.c).  Opens and configures name; *fd is O_NONBLOCK. */
int hv_virtio_net_tap_open(const char *name, int *fd);
/* TUN_F_* for the features the driver accepted. */
uint32_t hv_virtio_net_tap_offload(uint64_t features);
int hv_virtio_net_tap_set_offload(int fd, uint32_t offload);

/* Receive thread (net_rx.c). */
int hv_virtio_net_rx_start(struct hv_virtio_net *net);
void hv_virtio_net_rx_stop(struct hv_virtio_net *net);
/* Wake the thread (a kick or a reset); any thread, no locks needed. */
void hv_virtio_net_rx_wake(struct hv_virtio_net *net);

/* A device on fd instead of a tap (packet boundaries kept, e.g. a
 * SOCK_SEQPACKET socket): for tests.  fd is owned on success. */
int hv_virtio_net_create_fd(const struct hv_virtio_net_config *cfg, int fd,
			    struct hv_virtio_net **out);

#endif /* HV_VIRTIO_NET_INTERNAL_H */
