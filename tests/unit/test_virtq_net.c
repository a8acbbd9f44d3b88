/* SPDX-License-Identifier: MIT */
/*
 * virtio-net without a VM, on a SOCK_SEQPACKET socket instead of a tap
 * (the test holds the other end: one packet per frame, as a tap gives):
 * transmit; receive into one chain and, with MRG_RXBUF, across several;
 * frames too large for the driver's chains dropped (and the chain kept for
 * the next); frames waiting for buffers; header fields the driver did not
 * ask for; config space; resets while frames keep coming (no write into an
 * old driver's buffers afterwards); hostile rings; bad configs.  And, where
 * this process may create one in a network namespace of its own, a real tap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit/test_virtq_driver.h"
#include "unit/test_virtq_q1.h"
#include "virtio/net_internal.h"

#define NET_QSIZE 256u
#define RX_GPA    (DATA_GPA + 0x10000) /* receive buffers, 0x1000 apart */
#define TX_GPA    (DATA_GPA + 0x80000)
#define F_BASE    (HV_VIRTIO_F_EVENT_IDX | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS)

struct fix {
	struct drv d;
	struct q1 tx;
	struct hv_virtio_net *net;
	int peer;               /* the "wire": what the tap would be */
};

static struct fix *new_fix(uint64_t features)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_net_config nc;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	drv_create_mem(&f->d);
	hv_virtio_net_config_init(&nc);
	nc.mem = f->d.mem;
	nc.flags = HV_VIRTIO_NET_F_MAC;
	memcpy(nc.mac, "\x52\x54\x00\xab\xcd\xef", 6);
	expect_ret(hv_virtio_net_create_fd(&nc, sv[0], &f->net), 0);
	f->peer = sv[1];
	drv_attach(&f->d, hv_virtio_net_dev(f->net), NET_QSIZE);
	if (features) {
		drv_start(&f->d, features);
		q1_start(&f->tx, &f->d);
	}
	return f;
}

static void free_fix(struct fix *f)
{
	hv_virtio_net_destroy(f->net);
	hv_mem_destroy(f->d.mem);
	close(f->peer);
	free(f);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The receive thread is asynchronous: wait (bounded) for used->idx. */
static void wait_used(struct fix *f, uint16_t want)
{
	long deadline = now_ms() + 5000;

	while (drv_used_idx(&f->d) != want && now_ms() < deadline)
		usleep(1000);
	assert_int_equal(drv_used_idx(&f->d), want);
}

/* Nothing more arrives (the thread had time to act). */
static void settle(struct fix *f, uint16_t want)
{
	usleep(50 * 1000);
	assert_int_equal(drv_used_idx(&f->d), want);
}

/* A frame with this header on the wire; payload bytes are pattern_byte. */
static void send_frame(struct fix *f, uint8_t flags, uint8_t gso, size_t payload)
{
	uint8_t *buf = calloc(1, NET_HDR_BYTES + payload);
	struct virtio_net_hdr_v1 h = { .flags = flags, .gso_type = gso };

	memcpy(buf, &h, sizeof(h));
	for (size_t i = 0; i < payload; i++)
		buf[NET_HDR_BYTES + i] = pattern_byte(3, i);
	assert_int_equal(send(f->peer, buf, NET_HDR_BYTES + payload, 0),
			 (ssize_t)(NET_HDR_BYTES + payload));
	free(buf);
}

/* Post receive chain `slot`: one writable buffer of len bytes. */
static void post_rx(struct fix *f, uint16_t slot, uint32_t len)
{
	drv_desc(&f->d, slot, RX_GPA + 0x1000u * slot, len, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, slot);
	hv_virtio_dev_notify(f->d.dev, 0);
}

static uint32_t used_len(struct fix *f, uint16_t n, uint32_t *id)
{
	uint32_t len, dummy;

	drv_used_elem(&f->d, n, id ? id : &dummy, &len);
	return len;
}

static void check_payload(const uint8_t *p, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern_byte(3, from + i))
			fail_msg("payload byte %zu: 0x%02x", from + i, p[i]);
}

static void test_transmit(void **state)
{
	struct fix *f = new_fix(F_BASE);
	uint8_t got[256];
	uint32_t id, len;

	(void)state;
	for (int i = 0; i < 100; i++)
		f->d.ram[TX_GPA + 0x100 + i] = pattern_byte(3, (size_t)i);
	memset(f->d.ram + TX_GPA, 0, NET_HDR_BYTES);
	q1_desc(&f->tx, 0, TX_GPA, NET_HDR_BYTES, VRING_DESC_F_NEXT, 1);
	q1_desc(&f->tx, 1, TX_GPA + 0x100, 100, 0, 0);
	q1_kick(&f->tx, 0);
	assert_int_equal(recv(f->peer, got, sizeof(got), MSG_DONTWAIT), NET_HDR_BYTES + 100);
	check_payload(got + NET_HDR_BYTES, 0, 100);
	assert_int_equal(q1_used_idx(&f->tx), 1);
	q1_used_elem(&f->tx, 0, &id, &len);
	assert_int_equal(len, 0);
	/* Shorter than a header and an Ethernet header: returned, not sent. */
	q1_desc(&f->tx, 0, TX_GPA, 20, 0, 0);
	q1_kick(&f->tx, 0);
	assert_int_equal(q1_used_idx(&f->tx), 2);
	/* Longer than any frame (a guest pointing at all its RAM): not sent. */
	q1_desc(&f->tx, 0, TX_GPA, NET_FRAME_BYTES + 1, 0, 0);
	q1_kick(&f->tx, 0);
	assert_int_equal(q1_used_idx(&f->tx), 3);
	assert_int_equal(recv(f->peer, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	free_fix(f);
}

static void test_receive_one_chain(void **state)
{
	struct fix *f = new_fix(F_BASE);
	struct virtio_net_hdr_v1 h;
	uint32_t id;

	(void)state;
	post_rx(f, 0, 1526);
	send_frame(f, 0, 0, 100);
	wait_used(f, 1);
	assert_int_equal(used_len(f, 0, &id), NET_HDR_BYTES + 100);
	assert_int_equal(id, 0);
	memcpy(&h, f->d.ram + RX_GPA, sizeof(h));
	assert_int_equal(le16toh(h.num_buffers), 1);
	check_payload(f->d.ram + RX_GPA + NET_HDR_BYTES, 0, 100);
	/* Too large for the next chain: dropped, and the chain serves the next. */
	post_rx(f, 1, 100);
	send_frame(f, 0, 0, 200);
	settle(f, 1);
	send_frame(f, 0, 0, 50);
	wait_used(f, 2);
	assert_int_equal(used_len(f, 1, &id), NET_HDR_BYTES + 50);
	assert_int_equal(id, 1);
	assert_false(drv_needs_reset(&f->d));
	free_fix(f);
}

static void test_receive_merged(void **state)
{
	struct fix *f = new_fix(F_BASE | VIRTIO_NET_F_MRG_RXBUF);
	struct virtio_net_hdr_v1 h;

	(void)state;
	for (uint16_t i = 0; i < 4; i++)
		post_rx(f, i, 64);
	send_frame(f, 0, 0, 200); /* 212 bytes: 64 + 64 + 64 + 20 */
	wait_used(f, 4);
	for (uint16_t i = 0; i < 3; i++)
		assert_int_equal(used_len(f, i, NULL), 64);
	assert_int_equal(used_len(f, 3, NULL), 20);
	memcpy(&h, f->d.ram + RX_GPA, sizeof(h));
	assert_int_equal(le16toh(h.num_buffers), 4);
	check_payload(f->d.ram + RX_GPA + NET_HDR_BYTES, 0, 52);
	check_payload(f->d.ram + RX_GPA + 0x1000, 52, 64);
	check_payload(f->d.ram + RX_GPA + 0x3000, 180, 20);
	/* Half a frame's worth of buffers: it waits for the rest. */
	post_rx(f, 4, 64);
	send_frame(f, 0, 0, 100);
	settle(f, 4);
	post_rx(f, 5, 64);
	wait_used(f, 6);
	assert_int_equal(used_len(f, 5, NULL), NET_HDR_BYTES + 100 - 64);
	free_fix(f);
}

static void test_frame_waits_for_buffers(void **state)
{
	struct fix *f = new_fix(F_BASE);

	(void)state;
	send_frame(f, 0, 0, 60);
	send_frame(f, 0, 0, 70);
	settle(f, 0);
	post_rx(f, 0, 1526);
	wait_used(f, 1);
	assert_int_equal(used_len(f, 0, NULL), NET_HDR_BYTES + 60);
	post_rx(f, 1, 1526);
	wait_used(f, 2);
	assert_int_equal(used_len(f, 1, NULL), NET_HDR_BYTES + 70);
	free_fix(f);
}

static void test_header_the_driver_did_not_ask_for(void **state)
{
	struct fix *f = new_fix(F_BASE); /* no GUEST_CSUM, no GUEST_TSO */
	struct virtio_net_hdr_v1 h;

	(void)state;
	post_rx(f, 0, 1526);
	send_frame(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 60);        /* dropped */
	send_frame(f, 0, VIRTIO_NET_HDR_GSO_TCPV4, 60);           /* dropped */
	send_frame(f, VIRTIO_NET_HDR_F_DATA_VALID, 0, 61);        /* flag cleared */
	wait_used(f, 1);
	assert_int_equal(used_len(f, 0, NULL), NET_HDR_BYTES + 61);
	memcpy(&h, f->d.ram + RX_GPA, sizeof(h));
	assert_int_equal(h.flags, 0);
	free_fix(f);
	f = new_fix(F_BASE | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4);
	post_rx(f, 0, 1526);
	send_frame(f, 0, VIRTIO_NET_HDR_GSO_TCPV6, 60);           /* not TSO6 */
	send_frame(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 62);
	wait_used(f, 1);
	assert_int_equal(used_len(f, 0, NULL), NET_HDR_BYTES + 62);
	memcpy(&h, f->d.ram + RX_GPA, sizeof(h));
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	free_fix(f);
}

static void test_config(void **state)
{
	struct fix *f = new_fix(0);
	uint64_t v = 0;
	uint8_t mac[6];

	(void)state;
	hv_virtio_dev_config_access(f->d.dev, 0, 4, false, &v);
	assert_int_equal(v, 0xab005452u); /* 52:54:00:ab, little-endian */
	hv_virtio_dev_config_access(f->d.dev, 4, 2, false, &v);
	assert_int_equal(v, 0xefcd);
	hv_virtio_dev_config_access(f->d.dev, 6, 2, false, &v);
	assert_int_equal(v, VIRTIO_NET_S_LINK_UP);
	hv_virtio_dev_config_access(f->d.dev, 12, 2, false, &v);
	assert_int_equal(v, 0);
	hv_virtio_net_mac(f->net, mac);
	assert_memory_equal(mac, "\x52\x54\x00\xab\xcd\xef", 6);
	v = hv_virtio_dev_features_word(f->d.dev, 0);
	assert_true((v & VIRTIO_NET_F_MRG_RXBUF) && (v & VIRTIO_NET_F_CSUM) &&
		    (v & VIRTIO_NET_F_GUEST_TSO4) && (v & VIRTIO_NET_F_STATUS));
	free_fix(f);
}

static void test_random_mac(void **state)
{
	struct hv_virtio_net_config nc;
	struct hv_virtio_net *net;
	struct hv_mem *mem;
	uint8_t mac[6];
	int sv[2];

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	hv_virtio_net_config_init(&nc);
	nc.mem = mem;
	expect_ret(hv_virtio_net_create_fd(&nc, sv[0], &net), 0);
	hv_virtio_net_mac(net, mac);
	assert_int_equal(mac[0] & 3, 2); /* unicast, locally administered */
	hv_virtio_net_destroy(net);
	close(sv[1]);
	hv_mem_destroy(mem);
}

/* Frames keep coming while the driver resets again and again: after each
 * reset, the old driver's buffers must stay untouched. */
struct flood {
	struct fix *f;
	bool stop;
};

static void *flood_thread(void *arg)
{
	struct flood *fl = arg;

	uint8_t frame[NET_HDR_BYTES + 100] = { 0 };

	/* Never blocks: the device stops reading while it has no buffers. */
	while (!__atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE)) {
		if (send(fl->f->peer, frame, sizeof(frame), MSG_DONTWAIT) < 0)
			usleep(200);
	}
	return NULL;
}

static void test_reset_under_traffic(void **state)
{
	struct fix *f = new_fix(F_BASE | VIRTIO_NET_F_MRG_RXBUF);
	struct flood fl = { f, false };
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, flood_thread, &fl), 0);
	/* Each driver incarnation uses its own half of the buffer area; the
	 * previous one's half must stay as the reset left it. */
	for (int round = 0; round < 30; round++) {
		uint64_t mine = RX_GPA + (round % 2) * 0x10000, old = RX_GPA + (round % 2 ? 0 : 0x10000);

		/* 7 chains for 2-chain frames: one is held when the reset comes. */
		for (uint16_t i = 0; i < 7; i++) {
			drv_desc(&f->d, i, mine + 0x1000u * i, 64, VRING_DESC_F_WRITE, 0);
			drv_kick(&f->d, i);
			hv_virtio_dev_notify(f->d.dev, 0);
		}
		usleep(2000);
		for (size_t i = 0; round && i < 0x10000; i++)
			if (f->d.ram[old + i] != 0xa5)
				fail_msg("round %d: byte %zu of a reset driver's buffers written", round,
					 i);
		hv_virtio_dev_write_status(f->d.dev, 0);
		memset(f->d.ram + mine, 0xa5, 0x10000);
		drv_start(&f->d, F_BASE | VIRTIO_NET_F_MRG_RXBUF);
		q1_start(&f->tx, &f->d);
	}
	__atomic_store_n(&fl.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	/* Still serving afterwards (the wire may be full of flood frames). */
	send(f->peer, (uint8_t[NET_HDR_BYTES + 80]){ 0 }, NET_HDR_BYTES + 80, MSG_DONTWAIT);
	post_rx(f, 0, 1526);
	wait_used(f, 1);
	assert_false(drv_needs_reset(&f->d));
	free_fix(f);
}

static void test_hostile_rings(void **state)
{
	struct fix *f = new_fix(F_BASE);

	(void)state;
	/* A receive buffer outside RAM: the device breaks, the host lives on. */
	drv_desc(&f->d, 0, 0x7fff0000, 1526, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	hv_virtio_dev_notify(f->d.dev, 0);
	send_frame(f, 0, 0, 60);
	long deadline = now_ms() + 5000;
	while (!drv_needs_reset(&f->d) && now_ms() < deadline)
		usleep(1000);
	assert_true(drv_needs_reset(&f->d));
	/* The driver resets and everything works again. */
	hv_virtio_dev_write_status(f->d.dev, 0);
	drv_start(&f->d, F_BASE);
	q1_start(&f->tx, &f->d);
	post_rx(f, 0, 1526);
	send_frame(f, 0, 0, 70);
	wait_used(f, 1);
	/* A transmit chain that is all writable, and one that loops. */
	q1_desc(&f->tx, 0, TX_GPA, 100, VRING_DESC_F_WRITE, 0);
	q1_kick(&f->tx, 0);
	assert_int_equal(q1_used_idx(&f->tx), 1);
	q1_desc(&f->tx, 0, TX_GPA, 100, VRING_DESC_F_NEXT, 0);
	q1_kick(&f->tx, 0);
	assert_true(drv_needs_reset(&f->d));
	free_fix(f);
}

static void test_bad_configs(void **state)
{
	struct hv_virtio_net_config nc;
	struct hv_virtio_net *net = NULL;
	struct hv_mem *mem;
	int fds = count_open_fds();

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	hv_virtio_net_config_init(&nc);
	nc.mem = mem;
	expect_err(hv_virtio_net_create(&nc, &net), -EINVAL, "tap");
	nc.tap = "name-longer-than-ifnamsiz";
	expect_err(hv_virtio_net_create(&nc, &net), -EINVAL, "name-longer-than-ifnamsiz");
	nc.tap = "hvt0";
	nc.flags = HV_VIRTIO_NET_F_MAC;
	memcpy(nc.mac, "\x01\x00\x5e\x00\x00\x01", 6);
	expect_err(hv_virtio_net_create(&nc, &net), -EINVAL, "unicast");
	memset(nc.mac, 0, 6);
	expect_err(hv_virtio_net_create(&nc, &net), -EINVAL, "unicast");
	nc.flags = 0x10;
	expect_err(hv_virtio_net_create(&nc, &net), -EINVAL, "flags");
	nc.flags = 0;
	nc.reserved[1] = 1;
	expect_err(hv_virtio_net_create(&nc, &net), -EINVAL, "reserved");
	assert_int_equal(count_open_fds(), fds);
	hv_virtio_net_destroy(NULL);
	hv_mem_destroy(mem);
}

/* A real tap, in a network namespace of this process's own, when allowed:
 * created, offloads following the driver, gone with the device. */
static void test_real_tap(void **state)
{
	struct hv_virtio_net_config nc;
	struct hv_virtio_net *net;
	struct drv d;
	int fds;

	(void)state;
	if (access("/dev/net/tun", R_OK | W_OK) || unshare(CLONE_NEWNET)) {
		/* skip(): cmocka reports it as skipped, not passed. */
		print_message("no /dev/net/tun or no network namespace: %s\n", strerror(errno));
		skip();
	}
	fds = count_open_fds();
	drv_create_mem(&d);
	hv_virtio_net_config_init(&nc);
	nc.mem = d.mem;
	nc.tap = "hvunit0";
	expect_ret(hv_virtio_net_create(&nc, &net), 0);
	drv_attach(&d, hv_virtio_net_dev(net), NET_QSIZE);
	drv_start(&d, F_BASE | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4 |
			      VIRTIO_NET_F_GUEST_ECN);
	hv_virtio_dev_notify(d.dev, 0); /* the receive thread applies offloads on a kick */
	long deadline = now_ms() + 5000;
	while (__atomic_load_n(&net->offload, __ATOMIC_RELAXED) !=
		       (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN) && now_ms() < deadline)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&net->offload, __ATOMIC_RELAXED),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN);
	/* Reset: none; the next driver's kick: its own. */
	hv_virtio_dev_write_status(d.dev, 0);
	deadline = now_ms() + 5000;
	while (__atomic_load_n(&net->offload, __ATOMIC_RELAXED) && now_ms() < deadline)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&net->offload, __ATOMIC_RELAXED), 0);
	drv_start(&d, F_BASE | VIRTIO_NET_F_GUEST_CSUM);
	hv_virtio_dev_notify(d.dev, 0);
	deadline = now_ms() + 5000;
	while (__atomic_load_n(&net->offload, __ATOMIC_RELAXED) != TUN_F_CSUM &&
	       now_ms() < deadline)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&net->offload, __ATOMIC_RELAXED), TUN_F_CSUM);
	hv_virtio_net_destroy(net);
	hv_mem_destroy(d.mem);
	assert_int_equal(count_open_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transmit),
		cmocka_unit_test(test_receive_one_chain),
		cmocka_unit_test(test_receive_merged),
		cmocka_unit_test(test_frame_waits_for_buffers),
		cmocka_unit_test(test_header_the_driver_did_not_ask_for),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_random_mac),
		cmocka_unit_test(test_reset_under_traffic),
		cmocka_unit_test(test_hostile_rings),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_real_tap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
