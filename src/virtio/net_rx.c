/* SPDX-License-Identifier: MIT */
/*
 * virtio-net receive: the device's I/O thread.  It polls an eventfd (kicks
 * of the receiveq, resets, stop) and, while the guest has buffers, the tap.
 * Each frame is read whole into a host buffer first, so its length is known
 * before a byte reaches the guest: a frame that does not fit the chains the
 * driver offers is dropped, never cut.  Chains are popped only when a frame
 * is waiting, and held across frames (a dropped frame leaves them for the
 * next); when the ring runs dry mid-frame, the frame waits for the kick.
 *
 * Reset: the stale-chain protocol of chain_epoch.h, with chains held
 * across frames: every write into held chains happens under net->rx.lock
 * after checking the epoch they were popped in (held_epoch), so after a
 * reset no buffer of the old driver is touched.  Pops and interrupts
 * happen outside that lock.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/error.h"
#include "util/thread.h"
#include "virtio/net_internal.h"
#include "virtio/virtio_internal.h"
#include "vm/vm_internal.h"

#define RX_BATCH 64 /* frames per wake-up before polling again (stop, resets) */

void hv_virtio_net_rx_wake(struct hv_virtio_net *net)
{
	uint64_t one = 1;

	if (write(net->wake_fd, &one, sizeof(one)) < 0) {
		/* Only fails if the counter is near overflow: a wake-up is pending anyway. */
	}
}

/* Offloads follow the driver's features: those of a driver that has
 * kicked the receiveq since the last reset (its features are final by
 * then: notifications only pass after DRIVER_OK), none otherwise.  The
 * status alone would not do: a reset clears it only after ops->reset. */
static void apply_offload(struct hv_virtio_net *net)
{
	bool live = __atomic_load_n(&net->kick_epoch, __ATOMIC_ACQUIRE) ==
		    hv_chain_epoch_read(&net->rx);
	uint64_t f = live && (hv_virtio_dev_status(net->dev) & HV_VIRTIO_STATUS_DRIVER_OK)
			     ? hv_virtio_dev_features(net->dev) : 0;
	uint32_t want = hv_virtio_net_tap_offload(f);

	if (!net->is_tap || want == net->offload)
		return;
	if (hv_virtio_net_tap_set_offload(net->tap_fd, want))
		hv_virtio_dev_log(net->dev, HV_LOG_WARN, hv_last_error());
	else
		__atomic_store_n(&net->offload, want, __ATOMIC_RELAXED); /* read by tests */
}

/* Whether the driver asked for what the tap put in the header.  The tap
 * follows the features, but a frame queued before a renegotiation may not. */
static bool header_ok(struct virtio_net_hdr_v1 *h, uint64_t f)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (!(f & VIRTIO_NET_F_GUEST_CSUM)) {
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return false;
		h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(f & VIRTIO_NET_F_GUEST_ECN))
		return false;
	return gso == VIRTIO_NET_HDR_GSO_NONE ||
	       (gso == VIRTIO_NET_HDR_GSO_TCPV4 && (f & VIRTIO_NET_F_GUEST_TSO4)) ||
	       (gso == VIRTIO_NET_HDR_GSO_TCPV6 && (f & VIRTIO_NET_F_GUEST_TSO6));
}

/* Forget held chains popped before a reset (net->rx.lock held). */
static void drop_stale(struct hv_virtio_net *net)
{
	if (net->held_epoch != net->rx.value) {
		net->nr_chains = 0;
		net->held_epoch = net->rx.value;
	}
}

/* Pop one more chain into chains[nr_chains].  1: got one; 0: ring empty
 * (or the queue stopped or broke: a kick or reset wakes us). */
static int hold_chain(struct hv_virtio_net *net, struct hv_virtq *q)
{
	uint32_t max = hv_virtq_max_bufs(q), epoch;
	struct net_chain *c;

	/* Only this thread changes nr_chains: the slot stays put while the
	 * pop runs unlocked. */
	pthread_mutex_lock(&net->rx.lock);
	drop_stale(net);
	epoch = net->rx.value;
	pthread_mutex_unlock(&net->rx.lock);
	c = &net->chains[net->nr_chains];
	if (!c->bufs) {
		c->bufs = calloc(max, sizeof(*c->bufs));
		if (!c->bufs)
			return 0;
	}
	if (hv_virtq_pop(q, c->bufs, max, &c->req) != 1)
		return 0;
	pthread_mutex_lock(&net->rx.lock);
	if (epoch == net->rx.value)
		net->nr_chains++;
	else
		drop_stale(net); /* a reset during the pop: this chain is stale too */
	pthread_mutex_unlock(&net->rx.lock);
	return 1;
}

/* Move chains[used ..) to the front, keeping every slot's allocation. */
static void consume_chains(struct hv_virtio_net *net, uint32_t used)
{
	struct net_chain tmp[NET_MAX_MERGE];

	memcpy(tmp, net->chains, used * sizeof(tmp[0]));
	memmove(net->chains, net->chains + used, (NET_MAX_MERGE - used) * sizeof(tmp[0]));
	memcpy(net->chains + NET_MAX_MERGE - used, tmp, used * sizeof(tmp[0]));
	net->nr_chains -= used;
}

/* Copy the frame into the first chains and publish them (net->rx.lock held). */
static void copy_out(struct hv_virtio_net *net, struct hv_virtq *q, uint32_t used)
{
	uint64_t off = 0;
	uint16_t nb = htole16((uint16_t)used);

	memcpy(net->frame + NET_NUM_BUFFERS_OFFSET, &nb, sizeof(nb));
	for (uint32_t i = 0; i < used; i++) {
		const struct hv_virtq_req *req = &net->chains[i].req;
		size_t n = hv_virtq_req_write(req, 0, net->frame + off, net->frame_len - off);

		hv_virtq_push(q, req, (uint32_t)n);
		off += n;
	}
	consume_chains(net, used);
}

/* Deliver the pending frame.  1: delivered or dropped; 0: no buffers yet. */
static int deliver(struct hv_virtio_net *net, struct hv_virtq *q, uint64_t features)
{
	uint32_t limit = (features & VIRTIO_NET_F_MRG_RXBUF) ? NET_MAX_MERGE : 1;
	char msg[64];

	if (!header_ok((struct virtio_net_hdr_v1 *)net->frame, features))
		goto drop;
	for (;;) {
		uint32_t used = 0;
		uint64_t bytes = 0;

		/* How many held chains the frame needs, if they suffice. */
		while (used < net->nr_chains && used < limit && bytes < net->frame_len)
			bytes += net->chains[used++].req.writable_bytes;
		if (bytes < net->frame_len) {
			if (used == limit)
				goto drop; /* larger than the chains the driver gives it */
			if (!hold_chain(net, q))
				return 0;
			continue;
		}
		pthread_mutex_lock(&net->rx.lock);
		drop_stale(net);
		if (net->nr_chains >= used) {
			copy_out(net, q, used);
			pthread_mutex_unlock(&net->rx.lock);
			net->frame_len = 0;
			return 1;
		}
		pthread_mutex_unlock(&net->rx.lock); /* a reset took the chains: again */
	}

drop:
	snprintf(msg, sizeof(msg), "dropping a %zu-byte frame", net->frame_len);
	hv_virtio_dev_log(net->dev, HV_LOG_DEBUG, msg);
	net->frame_len = 0;
	return 1;
}

/* Read the next frame into net->frame.  1: got one; 0: none waiting;
 * -1: the tap failed (or hung up): stop polling it until the next kick. */
static int read_frame(struct hv_virtio_net *net)
{
	for (;;) {
		ssize_t n = read(net->tap_fd, net->frame, NET_FRAME_BYTES);
		char msg[96];

		if (n >= (ssize_t)(NET_HDR_BYTES + NET_ETH_HLEN)) {
			net->frame_len = (size_t)n;
			return 1;
		}
		if (n > 0 || (n < 0 && errno == EINTR))
			continue; /* a runt: nothing to deliver */
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (!net->read_error_logged) {
			net->read_error_logged = true;
			snprintf(msg, sizeof(msg), "reading the tap: %s",
				 n ? strerror(errno) : "end of file");
			hv_virtio_dev_log(net->dev, HV_LOG_WARN, msg);
		}
		return -1;
	}
}

/* Move frames from the tap to the guest.  Returns whether to keep polling
 * the tap (false: the guest has no buffers, wait for its kick). */
static bool pump(struct hv_virtio_net *net)
{
	struct hv_virtq *q = hv_virtio_dev_queue(net->dev, NET_RX);
	uint64_t f = hv_virtio_dev_features(net->dev);
	bool more = true;
	int delivered = 0;

	apply_offload(net);
	for (int i = 0; i < RX_BATCH; i++) {
		int got = net->frame_len ? 1 : read_frame(net);

		if (got <= 0) {
			more = got == 0;
			break;
		}
		if (!deliver(net, q, f)) {
			more = false;
			break;
		}
		delivered++;
	}
	if (delivered)
		hv_virtq_notify(q);
	return more;
}

static void *rx_thread(void *arg)
{
	struct hv_virtio_net *net = arg;
	bool want_tap = false; /* until the first kick: no buffers before */

	while (!__atomic_load_n(&net->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p[2] = {
			{ .fd = net->wake_fd, .events = POLLIN },
			{ .fd = want_tap ? net->tap_fd : -1, .events = POLLIN },
		};
		uint64_t v;

		if (poll(p, 2, -1) < 0)
			continue; /* EINTR; nothing else can fail with these fds */
		if (p[0].revents && read(net->wake_fd, &v, sizeof(v)) > 0)
			want_tap = true; /* a kick or reset: look again */
		if (__atomic_load_n(&net->stop, __ATOMIC_ACQUIRE))
			break;
		if (want_tap)
			want_tap = pump(net);
	}
	return NULL;
}

int hv_virtio_net_rx_start(struct hv_virtio_net *net)
{
	int ret;

	net->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (net->wake_fd < 0)
		return hv_err_sys(-errno, "%s: eventfd", net->name);
	ret = hv_thread_start(&net->thread, HV_THREAD_NET_RX,
			      hv_vm_seccomp(net->dev->vm) ? HV_THREAD_F_SECCOMP : 0, "hv-net-rx",
			      rx_thread, net);
	if (ret) {
		close(net->wake_fd);
		net->wake_fd = -1;
		return hv_err_context(ret, "%s", net->name);
	}
	net->thread_started = true;
	return 0;
}

void hv_virtio_net_rx_stop(struct hv_virtio_net *net)
{
	if (net->thread_started) {
		__atomic_store_n(&net->stop, true, __ATOMIC_RELEASE);
		hv_virtio_net_rx_wake(net);
		pthread_join(net->thread, NULL);
		net->thread_started = false;
	}
	if (net->wake_fd >= 0)
		close(net->wake_fd);
	net->wake_fd = -1;
}
