/* SPDX-License-Identifier: MIT */
/*
 * Kicking a vCPU out of KVM_RUN from another thread.
 *
 * The kicker sets kick_pending, then signals the thread if it is in_run.
 * The runner sets in_run, then checks kick_pending and sets immediate_exit.
 * Both orders are seq_cst, so a kick is seen by at least one side.  The gap
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
	vcpu->run_thread = pthread_self();
	current_run = vcpu->run;
	atomic_store(&vcpu->in_run, 1);
	if (atomic_load(&vcpu->kick_pending))
		vcpu->run->immediate_exit = 1;
}

bool hv_kick_leave_run(struct hv_vcpu *vcpu)
{
	atomic_store(&vcpu->in_run, 0);
	current_run = NULL;
	vcpu->run->immediate_exit = 0;
	return atomic_exchange(&vcpu->kick_pending, 0) != 0;
}

HV_EXPORT int hv_vcpu_kick(struct hv_vcpu *vcpu)
{
	HV_CHECK_ARG(vcpu);
	atomic_store(&vcpu->kick_pending, 1);
	if (atomic_load(&vcpu->in_run)) {
		int ret = pthread_kill(vcpu->run_thread, vcpu->vm->cfg.kick_signal);

		if (ret && ret != ESRCH)
			return hv_err(-ret, "kicking vCPU %u", vcpu->index);
	}
	return 0;
}
