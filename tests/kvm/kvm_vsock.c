/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock for real: Debian's stock kernel boots with a vhost-vsock
 * device on virtio-mmio and runs tests/vsock/vsock_echo.c.  One boot checks
 * both directions, byte for byte:
 *  - host -> guest -> host: this process connects with AF_VSOCK to the
 *    guest's CID, port 1234, sends a pattern and reads it echoed back;
 *  - guest -> host: the guest connects to CID 2, port 1235, and sends a
 *    pattern this process accepts and checks;
 * and that the guest saw its CID in config space, and that queue
 * notifications never took a vCPU exit (the ioeventfds carried them).
 * Without booting: a CID already taken fails create with -EADDRINUSE, and
 * create/destroy leaks no descriptor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "kvm/guest_util.h"

#define BOOT_TIMEOUT_MS (300 * 1000)
#define ECHO_PORT 1234u
#define HOST_PORT 1235u
#define ECHO_BYTES (256u * 1024)
#define GUEST_BYTES 300000u /* what tests/vsock/vsock-init.sh asks the guest to send */

static char kernel[512], initrd[512];
static uint64_t cid;

struct log {
	pthread_mutex_t lock;
	char buf[64 * 1024];
	size_t len;
};

static void log_fn(void *opaque, enum hv_log_level level, const char *msg)
{
	struct log *l = opaque;
	int n;

	(void)level;
	pthread_mutex_lock(&l->lock);
	n = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s\n", msg);
	if (n > 0 && (size_t)n < sizeof(l->buf) - l->len)
		l->len += (size_t)n;
	pthread_mutex_unlock(&l->lock);
}

static uint8_t echo_byte(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 11) + 1);
}

static uint8_t guest_byte(size_t i) /* as vsock_echo.c's pattern() */
{
	return (uint8_t)(i * 31 + (i >> 9) + 7);
}

static struct sockaddr_vm vaddr(uint32_t to, uint32_t port)
{
	struct sockaddr_vm a;

	memset(&a, 0, sizeof(a));
	a.svm_family = AF_VSOCK;
	a.svm_cid = to;
	a.svm_port = port;
	return a;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Read until EOF into buf (at most len bytes; more fails). */
static size_t read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	for (;;) {
		ssize_t n;

		if (!wait_readable(fd, 60000))
			fail_msg("vsock: no data for 60 s after %zu bytes", got);
		n = read(fd, buf + got, len - got + 1 > 65536 ? 65536 : len - got + 1);
		if (n == 0)
			return got;
		if (n < 0)
			fail_msg("vsock read: %s", strerror(errno));
		got += (size_t)n;
		if (got > len)
			fail_msg("vsock: more than the %zu bytes expected", len);
	}
}

struct writer {
	int fd;
	uint8_t *data;
	size_t len;
	int err;
};

static void *write_thread(void *arg)
{
	struct writer *w = arg;
	size_t done = 0;

	while (done < w->len) {
		ssize_t n = write(w->fd, w->data + done, w->len - done);

		if (n <= 0) {
			w->err = errno ? errno : EIO;
			return NULL;
		}
		done += (size_t)n;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

static void wait_console(struct console *con, struct hv_microvm *vm, const char *needle)
{
	for (int i = 0; i < BOOT_TIMEOUT_MS / 100; i++) {
		if (guest_console_has(con, needle))
			return;
		if (wait_readable(hv_microvm_poll_fd(vm), 100))
			break;
	}
	fprintf(stderr, "---- guest console ----\n%s\n-----------------------\n", con->buf);
	fail_msg("the guest never printed '%s'", needle);
}

/* Host -> guest -> host through the guest's echo server. */
static void check_echo(void)
{
	struct sockaddr_vm a = vaddr((uint32_t)cid, ECHO_PORT);
	struct writer w = { .len = ECHO_BYTES };
	uint8_t *back = malloc(ECHO_BYTES + 1);
	pthread_t t;
	size_t got;
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		fail_msg("connect to CID %llu port %u: %s", (unsigned long long)cid, ECHO_PORT,
			 strerror(errno));
	w.fd = s;
	w.data = malloc(ECHO_BYTES);
	assert_non_null(w.data);
	assert_non_null(back);
	for (size_t i = 0; i < ECHO_BYTES; i++)
		w.data[i] = echo_byte(i);
	assert_int_equal(pthread_create(&t, NULL, write_thread, &w), 0);
	got = read_all(s, back, ECHO_BYTES);
	pthread_join(t, NULL);
	assert_int_equal(w.err, 0);
	assert_int_equal(got, ECHO_BYTES);
	for (size_t i = 0; i < ECHO_BYTES; i++)
		if (back[i] != echo_byte(i))
			fail_msg("echoed byte %zu: 0x%02x, sent 0x%02x", i, back[i], echo_byte(i));
	close(s);
	free(w.data);
	free(back);
}

/* Guest -> host: accept the guest's connection on HOST_PORT. */
static void check_from_guest(int listener)
{
	uint8_t *buf = malloc(GUEST_BYTES + 1);
	size_t got;
	int c;

	assert_non_null(buf);
	if (!wait_readable(listener, 120000))
		fail_msg("the guest never connected to the host's port %u", HOST_PORT);
	c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	got = read_all(c, buf, GUEST_BYTES);
	assert_int_equal(got, GUEST_BYTES);
	for (size_t i = 0; i < GUEST_BYTES; i++)
		if (buf[i] != guest_byte(i))
			fail_msg("byte %zu from the guest: 0x%02x, expected 0x%02x", i, buf[i],
				 guest_byte(i));
	close(c);
	free(buf);
}

static int host_listener(void)
{
	struct sockaddr_vm a = vaddr(VMADDR_CID_ANY, HOST_PORT);
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		fail_msg("AF_VSOCK socket on the host: %s (is vhost_vsock loaded?)", strerror(errno));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		fail_msg("listening on vsock port %u: %s", HOST_PORT, strerror(errno));
	return s;
}

/* Adds and removes a region of guest memory, unrelated to the rings and
 * buffers, for as long as the echo runs: vhost gets a new memory table
 * every time (VHOST_SET_MEM_TABLE) while it moves the data. */
struct churn {
	struct hv_mem *mem;
	pthread_t thread;
	volatile bool stop; /* written before the join only */
	unsigned int cycles;
	char err[256];
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	uint8_t in[64], out[64];

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		struct hv_mem_region_config rc;
		uint32_t id;

		hv_mem_region_config_init(&rc);
		rc.gpa = 64ull << 30; /* far above the guest's RAM */
		rc.bytes = 2u << 20;
		rc.backing = c->cycles & 1 ? HV_MEM_MEMFD : HV_MEM_ANON;
		memset(in, (int)c->cycles, sizeof(in));
		if (hv_mem_add_region(c->mem, &rc, &id) ||
		    hv_mem_write(c->mem, rc.gpa, in, sizeof(in)) ||
		    hv_mem_read(c->mem, rc.gpa, out, sizeof(out)) || memcmp(in, out, sizeof(in)) ||
		    hv_mem_remove_region(c->mem, id)) {
			snprintf(c->err, sizeof(c->err), "cycle %u: %s", c->cycles, hv_last_error());
			break;
		}
		c->cycles++;
		usleep(2000);
	}
	return NULL;
}

static void test_echo_both_ways(void **state)
{
	struct console *con = calloc(1, sizeof(*con));
	struct log *log = calloc(1, sizeof(*log));
	struct hv_microvm_config cfg;
	struct hv_microvm_status st;
	struct hv_microvm *vm = NULL;
	struct churn churn = { 0 };
	char want[64];
	int listener, ret;

	(void)state;
	assert_non_null(con);
	assert_non_null(log);
	guest_console_init(con);
	pthread_mutex_init(&log->lock, NULL);
	listener = host_listener();
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.initrd = initrd;
	cfg.cmdline = "console=ttyS0 quiet panic=-1";
	cfg.mem_bytes = 256ull << 20;
	cfg.console_fn = guest_console_fn;
	cfg.console_opaque = con;
	cfg.vsock_cid = cid;
	cfg.flags = HV_MICROVM_F_SECCOMP; /* the device suite runs confined */
	cfg.log_fn = log_fn;
	cfg.log_opaque = log;
	cfg.log_level = HV_LOG_DEBUG;
	ret = hv_microvm_create(&cfg, &vm);
	if (ret)
		fail_msg("create: %s", hv_last_error());
	assert_int_equal(hv_microvm_start(vm), 0);
	wait_console(con, vm, "HVLIB-VSOCK-LISTENING");
	churn.mem = hv_vm_mem(hv_microvm_vm(vm));
	assert_int_equal(pthread_create(&churn.thread, NULL, churn_thread, &churn), 0);
	check_echo();
	__atomic_store_n(&churn.stop, true, __ATOMIC_RELAXED);
	pthread_join(churn.thread, NULL);
	if (churn.err[0])
		fail_msg("changing the memory map under vhost: %s", churn.err);
	fprintf(stderr, "echo with %u memory map changes under vhost\n", churn.cycles);
	assert_true(churn.cycles > 0);
	check_from_guest(listener);
	ret = hv_microvm_wait(vm, BOOT_TIMEOUT_MS, &st);
	if (ret || st.reason != HV_STOP_POWEROFF || !guest_console_has(con, "HVLIB-DONE")) {
		fprintf(stderr, "---- guest console ----\n%s\n---- log ----\n%s\n", con->buf,
			log->buf);
		fail_msg("stopped by %s (%s)", hv_stop_reason_name(st.reason), st.message);
	}
	hv_microvm_destroy(vm);
	close(listener);
	assert_null(strstr(con->buf, "HVLIB-MODPROBE-FAILED"));
	assert_null(strstr(con->buf, "HVLIB-VSOCK-FAILED"));
	snprintf(want, sizeof(want), "HVLIB-VSOCK-CID %llu", (unsigned long long)cid);
	assert_non_null(strstr(con->buf, want));
	snprintf(want, sizeof(want), "HVLIB-VSOCK-ECHOED %u", ECHO_BYTES);
	assert_non_null(strstr(con->buf, want));
	/* Both data queues went to ioeventfds, and no notification exited. */
	assert_non_null(strstr(log->buf, "queue 0 notifications go to eventfd"));
	assert_non_null(strstr(log->buf, "queue 1 notifications go to eventfd"));
	assert_null(strstr(log->buf, "needs reset"));
	if (strstr(log->buf, "through a vCPU exit"))
		fail_msg("a vsock notification took the vCPU exit path:\n%s", log->buf);
	free(con);
	free(log);
}

static int create_vm(uint64_t with_cid, struct hv_microvm **vm)
{
	struct hv_microvm_config cfg;

	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.vsock_cid = with_cid;
	return hv_microvm_create(&cfg, vm);
}

/* No boot: a second VM cannot take a CID in use; nothing leaks. */
static void test_cid_in_use(void **state)
{
	struct hv_microvm *a = NULL, *b = NULL;
	int fds = count_open_fds();

	(void)state;
	if (create_vm(cid + 1, &a))
		fail_msg("create: %s", hv_last_error());
	assert_int_equal(create_vm(cid + 1, &b), -EADDRINUSE);
	assert_non_null(strstr(hv_last_error(), "already in use"));
	assert_null(b);
	hv_microvm_destroy(a);
	/* Released with the first VM: the CID can be taken again. */
	if (create_vm(cid + 1, &b))
		fail_msg("create after destroy: %s", hv_last_error());
	hv_microvm_destroy(b);
	assert_int_equal(count_open_fds(), fds);
	assert_int_equal(create_vm(2, &b), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "CID 2"));
}

static int find_material(void)
{
	return guest_find_material("vsock-initrd.cpio.gz", "vsock", kernel, sizeof(kernel), initrd, sizeof(initrd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_both_ways),
		cmocka_unit_test(test_cid_in_use),
	};
	int ret = find_material();

	if (ret)
		return ret;
	/* A CID of our own, so tests on one host do not collide. */
	cid = 1000 + (uint64_t)getpid() % 1000000 * 2;
	return cmocka_run_group_tests_name("kvm_vsock", tests, NULL, NULL);
}
