/* SPDX-License-Identifier: MIT */
/*
 * The per-role seccomp filters and the thread-start helper, for real (no
 * KVM needed: the filters are loaded on threads of this process, or of a
 * forked child when the action kills).  Filters built with an errno action
 * show what each role allows; the helper's production action (kill the
 * process) is seen from a child that a forbidden call ended by SIGSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/ioloop.h"
#include "util/ioloop_internal.h"
#include "util/seccomp.h"
#include "util/thread.h"

#define DENIED 4000 /* an errno no real call here returns */

struct probe {
	enum hv_thread_role role;
	int load;      /* seccomp_load()'s result */
	int socket;    /* errno of socket() (0: it worked) */
	int kvm_run;   /* errno of ioctl(-1, KVM_RUN | garbage high bits) */
	int tcgets;    /* errno of ioctl(-1, TCGETS) */
	int tunoff;    /* errno of ioctl(-1, TUNSETOFFLOAD) */
	int eventfd;   /* errno of write() to an eventfd */
	int mmap_exec; /* errno of mmap(PROT_EXEC) */
	int mmap_rw;   /* errno of mmap(PROT_READ | PROT_WRITE) */
	int epoll;     /* errno of epoll_wait(-1) */
};

static int err_of(long ret)
{
	return ret < 0 ? errno : 0;
}

/* On its own thread: load the role's filter with an errno action, try. */
static void *probe_thread(void *arg)
{
	struct probe *p = arg;
	scmp_filter_ctx ctx;
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;
	void *m;

	p->load = hv_seccomp_build(p->role, SCMP_ACT_ERRNO(DENIED), &ctx);
	if (p->load)
		return NULL;
	p->load = seccomp_load(ctx);
	seccomp_release(ctx);
	if (p->load)
		return NULL;
	p->socket = err_of(socket(AF_UNIX, SOCK_STREAM, 0));
	p->kvm_run = err_of(ioctl(-1, (unsigned long)KVM_RUN | (0xabcdull << 32), 0));
	p->tcgets = err_of(ioctl(-1, TCGETS, NULL));
	p->tunoff = err_of(ioctl(-1, 0x400454d0 /* TUNSETOFFLOAD */, 0));
	p->eventfd = err_of(write(efd, &one, sizeof(one)));
	m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->mmap_exec = m == MAP_FAILED ? errno : 0;
	if (m != MAP_FAILED)
		munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->mmap_rw = m == MAP_FAILED ? errno : 0;
	if (m != MAP_FAILED)
		munmap(m, 4096);
	p->epoll = err_of(syscall(SYS_epoll_wait, -1, NULL, 1, 0));
	close(efd); /* may be denied: the fd leaks in that thread's test only */
	return NULL;
}

static struct probe run_probe(enum hv_thread_role role)
{
	struct probe p = { .role = role };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, probe_thread, &p), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.load, 0);
	return p;
}

/* What every role shares: eventfds and no-exec memory in, sockets and
 * unlisted ioctls out; ioctl numbers compared on their low 32 bits. */
static void test_every_role(void **state)
{
	(void)state;
	for (int r = 0; r < HV_THREAD_NR_ROLES; r++) {
		struct probe p = run_probe((enum hv_thread_role)r);

		assert_int_equal(p.socket, DENIED);
		assert_int_equal(p.tcgets, DENIED);
		assert_int_equal(p.eventfd, 0);
		assert_int_equal(p.mmap_rw, 0);
		assert_int_equal(p.mmap_exec, DENIED);
	}
}

static void test_role_differences(void **state)
{
	struct probe vcpu = run_probe(HV_THREAD_VCPU), io = run_probe(HV_THREAD_IO);
	struct probe rx = run_probe(HV_THREAD_NET_RX), vs = run_probe(HV_THREAD_VSOCK);

	(void)state;
	/* KVM_RUN passes the filter on a vCPU only (then fails on fd -1). */
	assert_int_equal(vcpu.kvm_run, EBADF);
	assert_int_equal(io.kvm_run, DENIED);
	assert_int_equal(rx.kvm_run, DENIED);
	assert_int_equal(vs.kvm_run, DENIED);
	/* The tap's offloads: the receive thread only. */
	assert_int_equal(rx.tunoff, EBADF);
	assert_int_equal(io.tunoff, DENIED);
	assert_int_equal(vcpu.tunoff, DENIED);
	/* epoll_wait: the I/O loop only. */
	assert_int_equal(io.epoll, EBADF);
	assert_int_equal(vcpu.epoll, DENIED);
	assert_int_equal(vs.epoll, DENIED);
}

static void test_bad_role(void **state)
{
	scmp_filter_ctx ctx = (scmp_filter_ctx)1;
	pthread_t t;

	(void)state;
	assert_int_equal(hv_seccomp_build(HV_THREAD_NR_ROLES, SCMP_ACT_KILL_PROCESS, &ctx),
			 -EINVAL);
	assert_null(ctx);
	assert_int_equal(hv_thread_start(&t, HV_THREAD_NR_ROLES, 0, NULL, probe_thread, NULL),
			 -EINVAL);
}

struct mask_seen {
	bool usr1_blocked;
};

static void *read_mask(void *arg)
{
	struct mask_seen *m = arg;
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	m->usr1_blocked = sigismember(&cur, SIGUSR1) == 1;
	return NULL;
}

/* Device threads block every signal; vCPU threads keep the creator's mask. */
static void test_signal_mask(void **state)
{
	struct mask_seen a = { false }, b = { true };
	pthread_t t;

	(void)state;
	assert_int_equal(hv_thread_start(&t, HV_THREAD_IO, 0, "hv-test", read_mask, &a), 0);
	pthread_join(t, NULL);
	assert_true(a.usr1_blocked);
	assert_int_equal(hv_thread_start(&t, HV_THREAD_VCPU, HV_THREAD_F_SIGMASK, NULL,
					 read_mask, &b), 0);
	pthread_join(t, NULL);
	assert_false(b.usr1_blocked);
}

/* I/O-thread callbacks for the child below: the first does the loop's own
 * kind of work, the second something no device does. */
static void drain(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) == sizeof(v))
		__atomic_store_n((int *)opaque, 1, __ATOMIC_SEQ_CST);
}

static void forbidden(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) == sizeof(v) && socket(AF_INET, SOCK_DGRAM, 0) >= 0)
		__atomic_store_n((int *)opaque, 2, __ATOMIC_SEQ_CST);
}

/* In a child: a confined I/O loop runs cb for one eventfd signal.  Exit 0
 * if the callback reported, 3 if it did not within a second. */
static int child_ioloop(hv_ioloop_fn cb, uint32_t thread_flags)
{
	struct rlimit no_core = { 0, 0 };
	struct hv_ioloop *l;
	int efd, done = 0;
	uint64_t one = 1;

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0); /* no core for the SIGSYS to come */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || hv_ioloop_create_thread(&l, thread_flags) ||
	    hv_ioloop_add(l, efd, HV_IOLOOP_IN, cb, &done) || write(efd, &one, 8) != 8)
		return 4;
	for (int i = 0; i < 1000 && !__atomic_load_n(&done, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	hv_ioloop_remove(l, efd);
	hv_ioloop_destroy(l);
	return __atomic_load_n(&done, __ATOMIC_SEQ_CST) ? 0 : 3;
}

static int run_child(hv_ioloop_fn cb, uint32_t thread_flags)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_ioloop(cb, thread_flags));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* The production action: a device callback's socket() ends the process
 * with SIGSYS; allowed work passes; without the flag nothing is stopped. */
static void test_device_thread_forbidden_call_kills(void **state)
{
	int status;

	(void)state;
	status = run_child(drain, HV_THREAD_F_SECCOMP);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	status = run_child(forbidden, HV_THREAD_F_SECCOMP);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	status = run_child(forbidden, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_role),
		cmocka_unit_test(test_role_differences),
		cmocka_unit_test(test_bad_role),
		cmocka_unit_test(test_signal_mask),
		cmocka_unit_test(test_device_thread_forbidden_call_kills),
	};
	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
