/* SPDX-License-Identifier: MIT */
/*
 * virtio-net and virtio-console for real: Debian's stock kernel boots with
 * its console on hvc0 (HV_MICROVM_CONSOLE_VIRTIO) and a virtio-net interface
 * on a tap, in a network namespace of this test's own (so the addresses
 * below never meet the host's).  One boot checks:
 *  - console, guest -> host: a marker the guest writes to /dev/hvc0 only;
 *  - console, host -> guest: a line sent with hv_microvm_console_input(),
 *    read by the guest from /dev/hvc0 and written back;
 *  - network: the guest (10.0.2.15) pings the tap (10.0.2.1) and the host
 *    pings the guest, both must succeed; then 2 MiB over TCP each way (with
 *    checksum offload, TSO and mergeable receive buffers negotiated, so
 *    64 KiB frames cross in both directions), compared by SHA-256 and byte
 *    for byte; the MAC and link state are the config's.
 * The guest side is tests/netcon/netcon-init.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "kvm/guest_util.h"

#define BOOT_TIMEOUT_MS (300 * 1000) /* nested KVM under TCG is slow */
#define TAP "hvt0"
#define HOST_LINE "host-line-0042"
#define TCP_BYTES (2u << 20)

static char kernel[512], initrd[512], tcp_src[512], tcp_dst[512];

/* The value after "name " on the console, or "" if absent. */
static void marker(struct console *c, const char *name, char *out, size_t len)
{
	char key[64];
	const char *p;
	size_t n = 0;

	snprintf(key, sizeof(key), "%s ", name);
	pthread_mutex_lock(&c->lock);
	p = strstr(c->buf, key);
	out[0] = '\0';
	if (p) {
		p += strlen(key);
		while (p[n] && p[n] != '\r' && p[n] != '\n' && n + 1 < len)
			n++;
		memcpy(out, p, n);
		out[n] = '\0';
	}
	pthread_mutex_unlock(&c->lock);
}

static void expect_marker(struct console *c, const char *name, const char *want)
{
	char got[256];

	marker(c, name, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("%s: guest said '%s', expected '%s'", name, got, want);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until needle shows on the console; false if the guest stopped first or
 * time ran out. */
static bool wait_console(struct hv_microvm *vm, struct console *c, const char *needle)
{
	long deadline = now_ms() + BOOT_TIMEOUT_MS;

	while (!guest_console_has(c, needle)) {
		struct pollfd p = { .fd = hv_microvm_poll_fd(vm), .events = POLLIN };

		if (poll(&p, 1, 100) == 1 || now_ms() > deadline)
			return guest_console_has(c, needle);
	}
	return true;
}

/* A shell command's exit status, its output on stderr for the log. */
static int run(const char *cmd)
{
	int status = system(cmd);

	fprintf(stderr, "host: %s -> %d\n", cmd, status);
	return status;
}

static void send_line(struct hv_microvm *vm, const char *line)
{
	size_t len = strlen(line), done = 0;
	long deadline = now_ms() + 10000;

	while (done < len && now_ms() < deadline) {
		done += hv_microvm_console_input(vm, (const uint8_t *)line + done, len - done);
		if (done < len)
			usleep(1000);
	}
	assert_int_equal(done, len);
}

static void write_pattern(const char *path)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (uint32_t i = 0; i < TCP_BYTES; i++)
		fputc((int)((i * 2654435761u) >> 24), f);
	assert_int_equal(fclose(f), 0);
}

/* "BYTES SHA256" of path, as the guest prints it. */
static void size_and_sha(const char *path, char *out, size_t len)
{
	char cmd[1200], sha[65] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum < '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", sha), 1);
	pclose(p);
	snprintf(out, len, "%u %s", TCP_BYTES, sha);
}

/* The host's listener writes tcp_dst; it may still be at it after the
 * guest powered off. */
static void expect_tcp_back(void)
{
	long deadline = now_ms() + 20000;
	uint8_t *a = malloc(TCP_BYTES), *b = malloc(TCP_BYTES + 1);
	FILE *f;
	size_t n = 0;

	while (now_ms() < deadline) {
		f = fopen(tcp_dst, "rb");
		n = f ? fread(b, 1, TCP_BYTES + 1, f) : 0;
		if (f)
			fclose(f);
		if (n >= TCP_BYTES)
			break;
		usleep(100 * 1000);
	}
	f = fopen(tcp_src, "rb");
	assert_non_null(f);
	assert_int_equal(fread(a, 1, TCP_BYTES, f), TCP_BYTES);
	fclose(f);
	if (n != TCP_BYTES || memcmp(a, b, TCP_BYTES))
		fail_msg("guest -> host TCP: %zu bytes back, expected the %u sent", n, TCP_BYTES);
	free(a);
	free(b);
}

static void dump(struct console *c)
{
	fprintf(stderr, "---- guest console ----\n%s\n-----------------------\n", c->buf);
}

static void test_net_and_console(void **state)
{
	struct console *con = calloc(1, sizeof(*con));
	struct hv_microvm_config cfg;
	struct hv_microvm_status st;
	struct hv_microvm_net net;
	struct hv_microvm *vm = NULL;
	char cmd[1400], want[128];
	int host_ping, host_send, listen;

	(void)state;
	memset(&st, 0, sizeof(st));
	guest_console_init(con);
	write_pattern(tcp_src);
	unlink(tcp_dst);
	hv_microvm_net_init(&net);
	net.tap = TAP;
	net.flags = HV_MICROVM_NET_F_MAC;
	memcpy(net.mac, "\x52\x54\x00\x12\x34\x56", 6);
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.initrd = initrd;
	cfg.cmdline = "console=ttyS0 quiet panic=-1";
	cfg.mem_bytes = 256ull << 20;
	cfg.console = HV_MICROVM_CONSOLE_VIRTIO;
	cfg.console_fn = guest_console_fn;
	cfg.console_opaque = con;
	cfg.nets = &net;
	cfg.nr_nets = 1;
	cfg.flags = HV_MICROVM_F_SECCOMP; /* the device suite runs confined */
	if (hv_microvm_create(&cfg, &vm))
		fail_msg("create: %s", hv_last_error());
	/* hvlib created the tap; its address and link are the host's business. */
	assert_int_equal(run("ip addr add 10.0.2.1/24 dev " TAP " && ip link set " TAP " up"), 0);
	if (hv_microvm_start(vm))
		fail_msg("start: %s", hv_last_error());
	if (!wait_console(vm, con, "HVLIB-READY")) {
		dump(con);
		hv_microvm_destroy(vm);
		fail_msg("the guest never got ready");
	}
	host_ping = run("/bin/busybox ping -c 3 -W 5 10.0.2.15 >&2");
	snprintf(cmd, sizeof(cmd), "timeout 120 /bin/busybox nc 10.0.2.15 5000 < '%s'", tcp_src);
	host_send = run(cmd);
	snprintf(cmd, sizeof(cmd), "/bin/busybox timeout 120 /bin/busybox nc -l -p 5001 -e "
		 "/bin/busybox sh -c \"cat > '%s'\" &", tcp_dst);
	listen = run(cmd);
	send_line(vm, HOST_LINE "\n");
	if (hv_microvm_wait(vm, BOOT_TIMEOUT_MS, &st) || st.reason != HV_STOP_POWEROFF ||
	    !guest_console_has(con, "HVLIB-DONE")) {
		dump(con);
		hv_microvm_destroy(vm);
		fail_msg("stopped by %s (%s)", hv_stop_reason_name(st.reason), st.message);
	}
	hv_microvm_destroy(vm);
	if (guest_console_has(con, "HVLIB-MODPROBE-FAILED") ||
	    !guest_console_has(con, "HVLIB-GUEST-PING 0") || host_ping ||
	    getenv("HVLIB_TEST_VERBOSE"))
		dump(con);
	assert_null(strstr(con->buf, "HVLIB-MODPROBE-FAILED"));
	expect_marker(con, "HVLIB-HVC-OUT", "hello-from-hvc0");
	expect_marker(con, "HVLIB-HVC-IN", HOST_LINE);
	expect_marker(con, "HVLIB-ETH0-MAC", "52:54:00:12:34:56");
	expect_marker(con, "HVLIB-ETH0-CARRIER", "1");
	expect_marker(con, "HVLIB-GUEST-PING", "0");
	assert_int_equal(host_ping, 0);
	/* CSUM, GUEST_CSUM, MAC, GUEST_TSO4/6, MRG_RXBUF, STATUS negotiated. */
	marker(con, "HVLIB-NET-FEATURES", want, sizeof(want));
	if (strlen(want) < 17 || want[0] != '1' || want[1] != '1' || want[5] != '1' ||
	    want[7] != '1' || want[8] != '1' || want[15] != '1' || want[16] != '1')
		fail_msg("guest features %s", want);
	assert_int_equal(host_send, 0);
	assert_int_equal(listen, 0);
	size_and_sha(tcp_src, want, sizeof(want));
	expect_marker(con, "HVLIB-TCP-IN", want);
	expect_marker(con, "HVLIB-TCP-OUT", "0");
	expect_tcp_back();
	free(con);
}

/* Bad network configs fail create with the problem named, leaking nothing. */
static void test_bad_nets(void **state)
{
	struct hv_microvm_config cfg;
	struct hv_microvm_net net;
	struct hv_microvm *vm = NULL;
	int fds = count_open_fds();

	(void)state;
	hv_microvm_net_init(&net);
	net.tap = "a-name-longer-than-ifnamsiz";
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.nets = &net;
	cfg.nr_nets = 1;
	assert_int_equal(hv_microvm_create(&cfg, &vm), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "a-name-longer-than-ifnamsiz"));
	net.tap = "hvt1";
	net.flags = HV_MICROVM_NET_F_MAC;
	memcpy(net.mac, "\x01\x02\x03\x04\x05\x06", 6); /* multicast */
	assert_int_equal(hv_microvm_create(&cfg, &vm), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "unicast"));
	cfg.console = 7;
	assert_int_equal(hv_microvm_create(&cfg, &vm), -EINVAL);
	assert_int_equal(count_open_fds(), fds);
}

static int find_material(void)
{
	snprintf(tcp_src, sizeof(tcp_src), "%s/netcon-src-%d", guest_dir(), (int)getpid());
	snprintf(tcp_dst, sizeof(tcp_dst), "%s/netcon-dst-%d", guest_dir(), (int)getpid());
	return guest_find_material("netcon-initrd.cpio.gz", "netcon", kernel, sizeof(kernel), initrd, sizeof(initrd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_and_console),
		cmocka_unit_test(test_bad_nets),
	};
	int ret = find_material();

	if (ret)
		return ret;
	/* A network namespace of our own, before any thread exists (vCPUs and
	 * the receive thread inherit it): the tap and its addresses live and
	 * die with this process.  Unprivileged, a user namespace grants it. */
	if (unshare(CLONE_NEWNET) && unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		fprintf(stderr, "SKIP: cannot create a network namespace: %s\n", strerror(errno));
		return 77;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(tcp_src);
	unlink(tcp_dst);
	return ret;
}
