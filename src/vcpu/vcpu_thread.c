/* SPDX-License-Identifier: MIT */
/*
 * Managed vCPU threads: run hv_vcpu_run() in a loop, hand exits to the
 * embedder's callback, and park for pause or end for stop on request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "util/config.h"
#include "util/error.h"
#include "util/thread.h"
#include "vcpu/vcpu_internal.h"

/* Wait while paused; true when the thread should end.  Called with lock held. */
static bool park_if_asked(struct hv_vcpu *vcpu)
{
	while (vcpu->pause_requested && !vcpu->stop_requested) {
		vcpu->paused = true;
		pthread_cond_broadcast(&vcpu->cond);
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	}
	vcpu->paused = false;
	return vcpu->stop_requested;
}

static bool internal_kick(struct hv_vcpu *vcpu)
{
	bool internal;

	pthread_mutex_lock(&vcpu->lock);
	internal = vcpu->stop_requested || vcpu->pause_requested;
	pthread_mutex_unlock(&vcpu->lock);
	return internal;
}

static void *thread_main(void *arg)
{
	struct hv_vcpu *vcpu = arg;
	struct hv_exit exit;
	int result = 0;

	memset(&exit, 0, sizeof(exit));
	pthread_mutex_lock(&vcpu->lock);
	if (vcpu->pinned)
		result = -pthread_setaffinity_np(pthread_self(), sizeof(vcpu->affinity),
						 &vcpu->affinity);
	pthread_mutex_unlock(&vcpu->lock);
	if (result) {
		hv_vm_logf(vcpu->vm, HV_LOG_ERROR, "vCPU %u: pinning its thread failed: %s",
			   vcpu->index, hv_strerror(result));
		exit.reason = HV_EXIT_STOP;
		goto out;
	}
	for (;;) {
		bool stop;

		pthread_mutex_lock(&vcpu->lock);
		stop = park_if_asked(vcpu);
		pthread_mutex_unlock(&vcpu->lock);
		if (stop) {
			memset(&exit, 0, sizeof(exit));
			exit.reason = HV_EXIT_STOP;
			break;
		}
		result = hv_vcpu_run(vcpu, &exit);
		if (result) {
			hv_vm_logf(vcpu->vm, HV_LOG_ERROR, "vCPU %u: %s", vcpu->index,
				   hv_last_error());
			/* Tell the embedder, who may be waiting on this vCPU. */
			memset(&exit, 0, sizeof(exit));
			exit.reason = HV_EXIT_INTERNAL_ERROR;
			exit.u.internal.ndata = 1;
			exit.u.internal.data[0] = (uint64_t)(int64_t)result;
			if (vcpu->fn)
				vcpu->fn(vcpu->fn_opaque, vcpu, &exit);
			break;
		}
		if (exit.reason == HV_EXIT_KICKED && internal_kick(vcpu))
			continue;
		if (!vcpu->fn || vcpu->fn(vcpu->fn_opaque, vcpu, &exit))
			break;
	}
out:
	pthread_mutex_lock(&vcpu->lock);
	vcpu->ended = true;
	vcpu->thread_result = result;
	vcpu->last_exit = exit;
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
	return NULL;
}

HV_EXPORT int hv_vcpu_start(struct hv_vcpu *vcpu, hv_vcpu_exit_fn fn, void *opaque)
{
	int ret;

	HV_CHECK_ARG(vcpu);

	pthread_mutex_lock(&vcpu->lock);
	if (vcpu->managed) {
		pthread_mutex_unlock(&vcpu->lock);
		return hv_err(-EBUSY, "vCPU %u: already started", vcpu->index);
	}
	vcpu->fn = fn;
	vcpu->fn_opaque = opaque;
	vcpu->stop_requested = vcpu->pause_requested = vcpu->paused = vcpu->ended = false;
	vcpu->joined = false;
	/* The caller's signal mask stays: vcpu.h lets its signals end a run. */
	ret = hv_thread_start(&vcpu->thread, HV_THREAD_VCPU,
			      HV_THREAD_F_SIGMASK |
				      (hv_vm_seccomp(vcpu->vm) ? HV_THREAD_F_SECCOMP : 0),
			      NULL, thread_main, vcpu);
	if (!ret)
		vcpu->managed = true;
	pthread_mutex_unlock(&vcpu->lock);
	if (ret)
		return hv_err_context(ret, "vCPU %u", vcpu->index);
	return 0;
}

HV_EXPORT int hv_vcpu_stop(struct hv_vcpu *vcpu)
{
	HV_CHECK_ARG(vcpu);
	pthread_mutex_lock(&vcpu->lock);
	vcpu->stop_requested = true;
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
	return hv_vcpu_kick(vcpu);
}

HV_EXPORT int hv_vcpu_join(struct hv_vcpu *vcpu, struct hv_exit *last_exit)
{
	int ret;

	HV_CHECK_ARG(vcpu);

	pthread_mutex_lock(&vcpu->lock);
	if (!vcpu->managed || vcpu->joined) {
		pthread_mutex_unlock(&vcpu->lock);
		return hv_err(-EINVAL, "vCPU %u: no managed thread to join", vcpu->index);
	}
	vcpu->joined = true;
	pthread_mutex_unlock(&vcpu->lock);

	pthread_join(vcpu->thread, NULL);

	pthread_mutex_lock(&vcpu->lock);
	vcpu->managed = false;
	ret = vcpu->thread_result;
	if (last_exit)
		*last_exit = vcpu->last_exit;
	pthread_mutex_unlock(&vcpu->lock);
	return ret;
}

HV_EXPORT int hv_vcpu_pause(struct hv_vcpu *vcpu)
{
	int ret = 0;

	HV_CHECK_ARG(vcpu);

	pthread_mutex_lock(&vcpu->lock);
	if (!vcpu->managed) {
		pthread_mutex_unlock(&vcpu->lock);
		return hv_err(-EINVAL, "vCPU %u: pause needs a managed thread", vcpu->index);
	}
	vcpu->pause_requested = true;
	pthread_mutex_unlock(&vcpu->lock);
	hv_vcpu_kick(vcpu);
	pthread_mutex_lock(&vcpu->lock);
	while (!vcpu->paused && !vcpu->ended)
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	if (vcpu->ended)
		ret = -ESRCH;
	pthread_mutex_unlock(&vcpu->lock);
	if (ret)
		return hv_err(ret, "vCPU %u: its thread has ended", vcpu->index);
	return 0;
}

HV_EXPORT int hv_vcpu_resume(struct hv_vcpu *vcpu)
{
	HV_CHECK_ARG(vcpu);
	pthread_mutex_lock(&vcpu->lock);
	vcpu->pause_requested = false;
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
	return 0;
}

HV_EXPORT int hv_vcpu_set_affinity(struct hv_vcpu *vcpu, const uint32_t *cpus, uint32_t n)
{
	HV_CHECK_ARG(vcpu);
	cpu_set_t set;
	int ret = 0;

	CPU_ZERO(&set);
	for (uint32_t i = 0; i < n; i++) {
		if (cpus[i] >= CPU_SETSIZE)
			return hv_err(-EINVAL, "vCPU %u: host CPU %u is beyond %d", vcpu->index,
				      cpus[i], CPU_SETSIZE - 1);
		CPU_SET(cpus[i], &set);
	}
	pthread_mutex_lock(&vcpu->lock);
	vcpu->affinity = set;
	vcpu->pinned = n > 0;
	if (vcpu->managed && !vcpu->ended) {
		if (!n)
			for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
				CPU_SET(cpu, &set);
		ret = -pthread_setaffinity_np(vcpu->thread, sizeof(set), &set);
	}
	pthread_mutex_unlock(&vcpu->lock);
	if (ret)
		return hv_err_sys(ret, "vCPU %u: pinning to the given host CPUs", vcpu->index);
	return 0;
}

void hv_vcpu_thread_shutdown(struct hv_vcpu *vcpu)
{
	bool running;

	pthread_mutex_lock(&vcpu->lock);
	running = vcpu->managed && !vcpu->joined;
	pthread_mutex_unlock(&vcpu->lock);
	if (running) {
		hv_vcpu_stop(vcpu);
		hv_vcpu_join(vcpu, NULL);
	}
}
