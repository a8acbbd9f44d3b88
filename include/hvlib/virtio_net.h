/* SPDX-License-Identifier: MIT */
/*
 * hvlib/virtio_net.h - virtio-net (virtio 1.2, 5.1) over a Linux tap
 * interface, written against the device interface of hvlib/virtio.h.
 *
 * The tap is opened through /dev/net/tun with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR: a new interface of that name is created, or an existing
 * (persistent) one is attached.  Either needs CAP_NET_ADMIN, unless the
 * persistent tap belongs to the caller (`ip tuntap add NAME mode tap user
 * USER`).  hvlib neither configures addresses nor brings the link up: that
 * is the host's business.  A tap hvlib created disappears with the device.
 *
 * Features offered: MAC (the config's, or a random locally administered
 * one), STATUS (link always up), CSUM and GUEST_CSUM, HOST_/GUEST_ TSO4,
 * TSO6 and ECN, MRG_RXBUF.  The tap's offloads (TUNSETOFFLOAD) follow what
 * the driver accepted, so the guest never receives a segment it did not ask
 * for.  Queues: receiveq (0) and transmitq (1); no control queue, no
 * multiqueue.
 *
 * Transmit: on a transmitq notify, each chain (virtio-net header + frame) is
 * written to the tap with one writev(), on the thread serving notifications
 * (the notifying vCPU, or the ioloop thread: hvlib/virtio.h).
 * Receive: the device owns an I/O thread ("hv-net-rx") that polls the tap
 * and an eventfd.  It reads each frame and copies it into the guest's
 * receive chains (several with MRG_RXBUF), then interrupts.  While the guest
 * has posted no buffers it stops reading the tap (frames queue in the host
 * kernel, which drops them once its queue is full, as a NIC would) until the
 * driver notifies the receiveq.  A frame larger than the buffers the driver
 * offers for it is dropped, never truncated or overflowed.
 *
 * Call order: hv_virtio_net_config_init() -> hv_virtio_net_create() (opens
 * the tap, starts the thread) -> hv_virtio_mmio_create(hv_virtio_net_dev(n),
 * ...) -> run the guest -> stop the vCPUs -> hv_virtio_mmio_destroy() ->
 * hv_virtio_net_destroy() (stops and joins the thread, closes the tap).
 *
 * Threading: the device's ops run on vCPU or ioloop threads (virtio.h); its receive
 * side on its own thread, which takes only the queue locks of the core and
 * raises interrupts from there.  No callback reaches the embedder.  A driver
 * reset waits for a receive copy in progress, so no buffer of the old driver
 * is written afterwards.  hv_virtio_net_mac() may be called from any thread.
 *
 * Ownership: the config and its strings are copied; the device returned by
 * hv_virtio_net_dev() is owned by the net device; the tap fd is owned and
 * closed by hv_virtio_net_destroy().
 */
#ifndef HVLIB_VIRTIO_NET_H
#define HVLIB_VIRTIO_NET_H

#include <stdint.h>

#include "common.h"
#include "mem.h"
#include "virtio.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_virtio_net;

#define HV_VIRTIO_NET_F_MAC  (1u << 0) /* use config.mac (else a random one) */
#define HV_VIRTIO_NET_F_ALL  0x1u

struct hv_virtio_net_config {
	uint32_t size;          /* sizeof(struct hv_virtio_net_config) */
	uint32_t flags;         /* HV_VIRTIO_NET_F_*; unknown bits: -EINVAL */
	const char *tap;        /* tap interface name (required, < 16 bytes) */
	uint8_t mac[6];         /* with HV_VIRTIO_NET_F_MAC: the guest's MAC (unicast) */
	uint8_t reserved[2];    /* must be 0 */
	struct hv_vm *vm;       /* as struct hv_virtio_dev_config */
	struct hv_mem *mem;
	const char *name;       /* for logs and the thread; NULL: "virtio-net" */
	struct hv_ioloop *ioloop; /* as struct hv_virtio_dev_config; borrowed */
};

/* Fill *cfg with its size and defaults (random MAC). */
HV_EXPORT void hv_virtio_net_config_init(struct hv_virtio_net_config *cfg);

/*
 * Open the tap and start the receive thread.  Caller owns *out until
 * hv_virtio_net_destroy().  -EINVAL: bad config (the message names the
 * field), or the interface exists but is not a tap with these flags;
 * -EPERM: no CAP_NET_ADMIN for this tap; -EBUSY: another process is attached;
 * -ENOENT: no /dev/net/tun (module tun not loaded); -ENOMEM; others from
 * the kernel, with the tap's name in the message.
 */
HV_EXPORT int hv_virtio_net_create(const struct hv_virtio_net_config *cfg,
				   struct hv_virtio_net **out);

/* Stops and joins the receive thread, closes the tap, frees.  The transport
 * must be destroyed first.  NULL: no-op. */
HV_EXPORT void hv_virtio_net_destroy(struct hv_virtio_net *net);

/* The virtio device, for a transport; owned by net. */
HV_EXPORT struct hv_virtio_dev *hv_virtio_net_dev(struct hv_virtio_net *net);

/* The guest's MAC address (given or generated). */
HV_EXPORT void hv_virtio_net_mac(const struct hv_virtio_net *net, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VIRTIO_NET_H */
