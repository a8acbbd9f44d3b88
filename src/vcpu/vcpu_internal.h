/* SPDX-License-Identifier: MIT */
/* The vCPU handle, shared by the run loop, the managed thread and arch code. */
#ifndef HV_VCPU_INTERNAL_H
#define HV_VCPU_INTERNAL_H

#include <linux/kvm.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "hvlib/vcpu.h"
#include "util/ratelimit.h"
#include "vm/vm_internal.h"

/* An I/O read the caller may still answer with hv_vcpu_set_io_result(). */
struct hv_pending_read {
	uint8_t *data;   /* inside the kvm_run page, read by KVM on the next run */
	uint32_t width;
	uint32_t count;
};

struct hv_vcpu {
	struct hv_vm *vm;
	uint32_t index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	struct hv_pending_read pending_read;
	struct hv_ratelimit log_rl; /* lines about the guest's accesses (vcpu_run.c) */
	bool charged;             /* holds one CPU of the VM's ledger */

	/* Kick protocol (vcpu_kick.c): kick_pending is set before in_run is
	 * read, in_run before kick_pending is read.  in_run and run_thread
	 * change under kick_lock, which the kicker holds while it signals, so
	 * it never signals a thread that has left hv_vcpu_run() (or exited). */
	atomic_int kick_pending;
	pthread_mutex_t kick_lock;
	int in_run;
	pthread_t run_thread;

	/* Managed thread (vcpu_thread.c), all under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool managed;
	bool joined;
	bool stop_requested;
	bool pause_requested;
	bool paused;
	bool ended;
	int thread_result;
	struct hv_exit last_exit;
	hv_vcpu_exit_fn fn;
	void *fn_opaque;
	cpu_set_t affinity;
	bool pinned;

	struct hv_arch_vcpu arch;
};

/* Kick signal handling (vcpu_kick.c). */
int hv_kick_signal_install(int signo);
void hv_kick_enter_run(struct hv_vcpu *vcpu);
/* Returns true if a kick was pending (and consumes it). */
bool hv_kick_leave_run(struct hv_vcpu *vcpu);

/* Turn the KVM exit in vcpu->run into *exit, dispatching I/O (vcpu_run.c). */
void hv_vcpu_decode_exit(struct hv_vcpu *vcpu, struct hv_exit *exit);

/* Stop and join the managed thread, then close the vCPU's descriptor and
 * run area (vcpu.c); once only: hv_vm_destroy() may do it first. */
void hv_vcpu_release(struct hv_vcpu *vcpu);

/* Stop and join the managed thread, if any (vcpu_thread.c). */
void hv_vcpu_thread_shutdown(struct hv_vcpu *vcpu);

#endif /* HV_VCPU_INTERNAL_H */
