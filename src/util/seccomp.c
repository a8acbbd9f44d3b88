/* SPDX-License-Identifier: MIT */
/*
 * The allow lists behind hv_seccomp_build().  Every thread gets the base:
 * what glibc needs to run code at all (malloc, locks, clocks, signal masks
 * for fd_out's SIGPIPE dance, thread exit) and the eventfd/poll traffic all
 * the roles share.  Each role adds its own calls and ioctl numbers.  ioctl
 * numbers are compared on their low 32 bits (SCMP_CMP_MASKED_EQ): the kernel
 * takes the request as an unsigned int, so the upper half of the register
 * means nothing to it and must not turn an allowed request into a kill.
 * mmap and mprotect never get PROT_EXEC: no library thread makes code.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "util/error.h"
#include "util/seccomp.h"

#define END (-1)

/* Argument n, an int or unsigned int to the kernel, equals v: the upper
 * half of the register is not looked at, as the kernel does not. */
#define ARG32_EQ(n, v) SCMP_CMP((n), SCMP_CMP_MASKED_EQ, 0xffffffffu, (v))

static const int base_calls[] = {
	/* memory (malloc, thread stacks freed by glibc); mmap/mprotect below */
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk),
	/* locks, sleeping, clocks (vDSO fallbacks) */
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(restart_syscall),
	/* signals: masks and SIGPIPE consumption (dev/fd_out.c), handler return,
	 * pthread_kill() of a vCPU (tgkill, own process only: below) */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigpending),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sigaltstack), SCMP_SYS(getpid), SCMP_SYS(gettid),
	/* thread end (exit_group: an embedder callback's exit(), not ours);
	 * close: the library's own clean-up paths, and finalizers that an
	 * embedder's runtime (Python's GC) may run on whichever thread */
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(close),
	/* eventfds and fds waited on: kicks, stops, irqfds, console output */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	END
};

/* Device work a vCPU does itself on a notification or status write that
 * took the exit path: virtio-blk, rng, console and net transmit, wiring
 * ioeventfds and the I/O thread on DRIVER_OK, pinning itself. */
static const int vcpu_calls[] = {
	SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(fdatasync), SCMP_SYS(fallocate), SCMP_SYS(getrandom), SCMP_SYS(sendto),
	SCMP_SYS(epoll_ctl), SCMP_SYS(eventfd2), SCMP_SYS(sched_setaffinity),
	/* the UART's output timer, armed by the byte that starts a run */
	SCMP_SYS(timerfd_settime),
	END
};

/* The I/O loop and the devices it serves (blk, rng, console, net transmit,
 * balloon: madvise and fallocate to give pages back). */
static const int io_calls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(fdatasync),
	SCMP_SYS(fallocate), SCMP_SYS(getrandom), SCMP_SYS(sendto),
	/* the UART's output timer, re-armed while a run is held (serial_tx.c) */
	SCMP_SYS(timerfd_settime),
	END
};

static const int net_rx_calls[] = { END };
static const int vsock_calls[] = { END };
/* virtio-blk's worker: the image's reads, writes, flushes and discards. */
static const int blk_calls[] = {
	SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
	END
};

/* Interrupts from any device thread: INTx lines and MSI(-X) messages. */
#define IRQ_IOCTLS KVM_IRQ_LINE, KVM_SIGNAL_MSI

/* The vCPU's own state is the architecture's (hv_arch_vcpu_ioctls). */
static const uint32_t vcpu_ioctls[] = {
	KVM_RUN, KVM_CHECK_EXTENSION, IRQ_IOCTLS, KVM_IRQFD, KVM_IOEVENTFD,
	/* vhost-vsock starts on the driver's DRIVER_OK, a vCPU's MMIO write */
	VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE, VHOST_SET_VRING_ADDR,
	VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_SET_FEATURES, VHOST_VSOCK_SET_RUNNING,
	0
};
static const uint32_t io_ioctls[] = { IRQ_IOCTLS, 0 };
/* Receive offloads follow the driver's features, set from the rx thread. */
static const uint32_t net_rx_ioctls[] = { IRQ_IOCTLS, TUNSETOFFLOAD, 0 };
static const uint32_t vsock_ioctls[] = { IRQ_IOCTLS, 0 };
static const uint32_t blk_ioctls[] = { IRQ_IOCTLS, 0 };

struct role_rules {
	const int *calls;
	const uint32_t *ioctls;
	const uint32_t *arch_ioctls; /* or NULL */
};

static const struct role_rules roles[HV_THREAD_NR_ROLES] = {
	[HV_THREAD_VCPU] = { vcpu_calls, vcpu_ioctls, hv_arch_vcpu_ioctls },
	[HV_THREAD_IO] = { io_calls, io_ioctls, NULL },
	[HV_THREAD_NET_RX] = { net_rx_calls, net_rx_ioctls, NULL },
	[HV_THREAD_VSOCK] = { vsock_calls, vsock_ioctls, NULL },
	[HV_THREAD_BLK] = { blk_calls, blk_ioctls, NULL },
};

static int allow_calls(scmp_filter_ctx ctx, const int *calls)
{
	for (; *calls != END; calls++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, *calls, 0);

		if (ret)
			return ret;
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const uint32_t *nr)
{
	for (; nr && *nr; nr++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					   ARG32_EQ(1, *nr));

		if (ret)
			return ret;
	}
	return 0;
}

/* mmap/mprotect without PROT_EXEC; tgkill to this process only; a vCPU's
 * fcntl only as F_GETFD (hv_vm_ioeventfd() checking its fd, when a
 * virtio-pci driver's DRIVER_OK wires the notifications). */
static int allow_guarded(scmp_filter_ctx ctx, enum hv_thread_role role)
{
	int ret = 0;

	if (role == HV_THREAD_VCPU)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				       ARG32_EQ(1, F_GETFD));
	if (ret)
		return ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       ARG32_EQ(0, (uint32_t)getpid()));
	return ret;
}

int hv_seccomp_build(enum hv_thread_role role, uint32_t default_action, scmp_filter_ctx *out)
{
	const struct role_rules *r;
	scmp_filter_ctx ctx;
	int ret;

	*out = NULL;
	if ((unsigned)role >= HV_THREAD_NR_ROLES)
		return hv_err(-EINVAL, "seccomp: thread role %d is unknown", (int)role);
	r = &roles[role];
	ctx = seccomp_init(default_action);
	if (!ctx)
		return hv_err(-ENOMEM, "seccomp: creating the %s thread's filter",
			      hv_thread_role_name(role));
	ret = allow_calls(ctx, base_calls);
	if (!ret)
		ret = allow_calls(ctx, r->calls);
	if (!ret)
		ret = allow_guarded(ctx, role);
	if (!ret)
		ret = allow_ioctls(ctx, r->ioctls);
	if (!ret)
		ret = allow_ioctls(ctx, r->arch_ioctls);
	if (ret) {
		seccomp_release(ctx);
		return hv_err(ret < 0 ? ret : -EINVAL, "seccomp: building the %s thread's filter",
			      hv_thread_role_name(role));
	}
	*out = ctx;
	return 0;
}

#ifdef HVLIB_SECCOMP_AUDIT
/* Audit builds only (a debugging aid, never shipped): name the denied call
 * on stderr and let it fail with ENOSYS, so one run lists all a filter
 * lacks.  Async-signal-safe: write() of a number formatted by hand. */
static void audit_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[64] = "hvlib seccomp audit: denied syscall ";
	size_t n = strlen(msg);
	char digits[12];
	int d = 0, nr = si->si_syscall;

	(void)sig;
	(void)uc;
	do
		digits[d++] = (char)('0' + nr % 10);
	while ((nr /= 10) && d < (int)sizeof(digits));
	while (d)
		msg[n++] = digits[--d];
	msg[n++] = '\n';
	if (write(2, msg, n) < 0) {
		/* nothing to do */
	}
}

static uint32_t install_action(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = audit_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	return SCMP_ACT_TRAP;
}
#else
static uint32_t install_action(void)
{
	return HV_SECCOMP_DEFAULT_ACTION;
}
#endif

int hv_seccomp_install(enum hv_thread_role role)
{
	scmp_filter_ctx ctx;
	int ret = hv_seccomp_build(role, install_action(), &ctx);

	if (ret)
		return ret;
	ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret < 0 ? ret : (ret ? -EINVAL : 0);
}
