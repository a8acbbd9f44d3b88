/* SPDX-License-Identifier: MIT */
/*
 * hv_thread_start(): the new thread installs its filter itself (seccomp
 * applies to the calling thread only) and reports the result through a
 * semaphore before running fn, so no instruction of fn runs unconfined and
 * the creator can return the error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>

#include "util/error.h"
#include "util/seccomp.h"
#include "util/thread.h"

struct start {
	void *(*fn)(void *);
	void *arg;
	enum hv_thread_role role;
	bool confine;
	int result; /* the filter's, read after ready */
	sem_t ready;
};

static const char *const role_names[HV_THREAD_NR_ROLES] = {
	[HV_THREAD_VCPU] = "vCPU",
	[HV_THREAD_IO] = "I/O",
	[HV_THREAD_NET_RX] = "net receive",
	[HV_THREAD_VSOCK] = "vsock",
	[HV_THREAD_BLK] = "virtio-blk worker",
};

const char *hv_thread_role_name(enum hv_thread_role role)
{
	return (unsigned)role < HV_THREAD_NR_ROLES ? role_names[role] : "unknown";
}

static void *trampoline(void *p)
{
	struct start *s = p; /* on the creator's stack: gone after sem_post */
	void *(*fn)(void *) = s->fn;
	void *arg = s->arg;
	int ret = s->confine ? hv_seccomp_install(s->role) : 0;

	s->result = ret;
	sem_post(&s->ready);
	return ret ? NULL : fn(arg);
}

int hv_thread_start(pthread_t *thread, enum hv_thread_role role, uint32_t flags,
		    const char *name, void *(*fn)(void *), void *arg)
{
	struct start s = { .fn = fn, .arg = arg, .role = role,
			   .confine = flags & HV_THREAD_F_SECCOMP };
	sigset_t all, old;
	int ret;

	if ((unsigned)role >= HV_THREAD_NR_ROLES)
		return hv_err(-EINVAL, "thread role %d is unknown", (int)role);
	sem_init(&s.ready, 0, 0);
	if (!(flags & HV_THREAD_F_SIGMASK)) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
	}
	ret = -pthread_create(thread, NULL, trampoline, &s);
	if (!(flags & HV_THREAD_F_SIGMASK))
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		sem_destroy(&s.ready);
		return hv_err_sys(ret, "starting the %s thread", role_names[role]);
	}
	while (sem_wait(&s.ready) && errno == EINTR)
		;
	sem_destroy(&s.ready);
	if (s.result) {
		pthread_join(*thread, NULL);
		return hv_err_sys(s.result, "%s thread: installing its seccomp filter",
				  role_names[role]);
	}
	if (name)
		pthread_setname_np(*thread, name);
	return 0;
}
