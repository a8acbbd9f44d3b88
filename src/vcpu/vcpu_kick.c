/* SPDX-License-Identifier: MIT */
/*
 * Kicking a vCPU out of KVM_RUN from another thread.
 *
 * The kicker sets kick_pending, then signals the thread if it is in_run.
 * The runner sets in_run, then checks kick_pending and sets immediate_exit.
 * in_run is read and written under kick_lock, after (kicker) or before
 * (runner) the seq_cst kick_pending access, so a kick is seen by at least
 * one side; and since the runner clears in_run under the same lock before
 * it leaves hv_vcpu_run(), the kicker never signals a thread that is gone.
 * Kicks coalesce: one signal per pending kick.  The gap
 * between the runner's check and its KVM_RUN is closed by the signal handler,
 * which sets immediate_exit in the run area of the vCPU on its own thread:
 * KVM_RUN then returns -EINTR at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

static _Thread_local struct kvm_run *volatile current_run;

static void kick_handler(int signo)
{
	struct kvm_run *run = current_run;

	(void)signo;
	if (run)
		run->immediate_exit = 1;
}

int hv_kick_signal_install(int signo)
{
	struct sigaction old, sa;

	if (signo < SIGRTMIN || signo > SIGRTMAX)
		return hv_err(-EINVAL, "kick signal %d is not a real-time signal (%d..%d)", signo,
			      SIGRTMIN, SIGRTMAX);
	if (sigaction(signo, NULL, &old) < 0)
		return hv_err_sys(-errno, "reading the action of kick signal %d", signo);
	if (old.sa_handler == kick_handler || old.sa_handler != SIG_DFL)
		return 0; /* ours already, or the embedder's (documented in vcpu.h) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) < 0)
		return hv_err_sys(-errno, "installing the kick signal handler for %d", signo);
	return 0;
}

void hv_kick_enter_run(struct hv_vcpu *vcpu)
{
	static _Thread_local int unblocked_signo;
	int signo = vcpu->vm->cfg.kick_signal;

	if (unblocked_signo != signo) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, signo);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		unblocked_signo = signo;
	}
	current_run = vcpu->run;
	pthread_mutex_lock(&vcpu->kick_lock);
	vcpu->run_thread = pthread_self();
	vcpu->in_run = 1;
	pthread_mutex_unlock(&vcpu->kick_lock);
	if (atomic_load(&vcpu->kick_pending))
		vcpu->run->immediate_exit = 1;
}

bool hv_kick_leave_run(struct hv_vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->kick_lock);
	vcpu->in_run = 0;
	pthread_mutex_unlock(&vcpu->kick_lock);
	current_run = NULL;
	vcpu->run->immediate_exit = 0;
	return atomic_exchange(&vcpu->kick_pending, 0) != 0;
}

HV_EXPORT int hv_vcpu_kick(struct hv_vcpu *vcpu)
{
	int ret = 0;

	HV_CHECK_ARG(vcpu);
	/* Already pending: whoever set it signalled (or the runner will see
	 * it on entry), so kicks coalesce and a kick storm cannot fill the
	 * thread's queue of real-time signals (pthread_kill: EAGAIN). */
	if (atomic_exchange(&vcpu->kick_pending, 1))
		return 0;
	pthread_mutex_lock(&vcpu->kick_lock);
	if (vcpu->in_run)
		ret = pthread_kill(vcpu->run_thread, vcpu->vm->cfg.kick_signal);
	pthread_mutex_unlock(&vcpu->kick_lock);
	if (ret)
		return hv_err(-ret, "kicking vCPU %u", vcpu->index);
	return 0;
}
