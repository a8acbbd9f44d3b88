/* SPDX-License-Identifier: MIT */
/*
 * hvlib/vcpu.h - virtual CPUs and their run loop.
 *
 * Two ways to run a vCPU:
 *  - your own loop: call hv_vcpu_run() (or hv_vcpu_run_once()) on a thread of
 *    yours; it returns each exit that needs you;
 *  - a managed thread: hv_vcpu_start() runs that loop on a thread hvlib
 *    creates, hands every returned exit to your callback, and ends when the
 *    callback says so or hv_vcpu_stop() is called; hv_vcpu_join() reaps it.
 *
 * Kicking: hv_vcpu_kick() makes a running (or about-to-run) vCPU return
 * HV_EXIT_KICKED promptly.  It interrupts KVM_RUN with a signal (the VM's
 * kick_signal, default SIGRTMIN + 2).  hvlib installs a no-op handler for it
 * with SA_RESTART when the signal still has its default disposition; if the
 * embedder already handles that signal, its handler is kept and must return.
 *
 * Threading: a vCPU runs on one thread at a time.  hv_vcpu_kick(),
 * hv_vcpu_pause(), hv_vcpu_resume() and hv_vcpu_stop() may be called from any
 * thread.  Register accessors (arch headers) must not run while the vCPU is
 * inside hv_vcpu_run(): pause it first.  A vCPU callback must not pause, stop
 * or destroy its own vCPU.
 */
#ifndef HVLIB_VCPU_H
#define HVLIB_VCPU_H

#include <stdint.h>

#include "common.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_vcpu;

enum hv_exit_reason {
	HV_EXIT_NONE = 0,
	HV_EXIT_IO = 1,             /* port I/O; u.io */
	HV_EXIT_MMIO = 2,           /* access outside RAM; u.io */
	HV_EXIT_HLT = 3,            /* HLT without an in-kernel LAPIC */
	HV_EXIT_SHUTDOWN = 4,       /* x86 triple fault or reset through the shutdown path */
	HV_EXIT_SYSTEM_EVENT = 5,   /* KVM system event (power-off, reset, crash); u.system_event */
	HV_EXIT_KICKED = 6,         /* hv_vcpu_kick() (or another signal) interrupted the run */
	HV_EXIT_DEBUG = 7,          /* debug exception with guest debugging enabled */
	HV_EXIT_INTERNAL_ERROR = 8, /* KVM could not emulate; u.internal */
	HV_EXIT_FAIL_ENTRY = 9,     /* hardware refused to enter the guest; u.fail_entry */
	HV_EXIT_STOP = 10,          /* hv_vcpu_stop() on a managed vCPU: from another thread,
				     * or from a device callback (hvlib/bus.h) */
	HV_EXIT_UNKNOWN = 11,       /* any other KVM exit; kvm_reason says which */
	HV_EXIT_REASON_COUNT
};

/* System event types (u.system_event.type), as KVM reports them. */
#define HV_SYSTEM_EVENT_SHUTDOWN 1
#define HV_SYSTEM_EVENT_RESET    2
#define HV_SYSTEM_EVENT_CRASH    3

struct hv_exit {
	uint32_t reason;     /* enum hv_exit_reason */
	uint32_t kvm_reason; /* raw KVM_EXIT_* code */
	uint32_t handled;    /* IO/MMIO: 1 if a bus callback served it */
	uint32_t reserved;
	union {
		struct {
			uint64_t addr;     /* port or guest-physical address */
			uint64_t value;    /* data written, or data returned to the guest */
			uint32_t width;    /* bytes: 1, 2, 4 or 8 */
			uint32_t is_write;
			uint32_t count;    /* repetitions (x86 string I/O), else 1 */
			uint32_t reserved;
		} io;
		struct {
			uint32_t type;     /* HV_SYSTEM_EVENT_* */
			uint32_t ndata;
			uint64_t data[4];
		} system_event;
		struct {
			uint32_t suberror;
			uint32_t ndata;
			uint64_t data[4];
		} internal;
		struct {
			uint64_t hardware_reason;
		} fail_entry;
		uint64_t raw[8];
	} u;
};

/* Name of an exit reason, e.g. "HLT"; never NULL. */
HV_EXPORT const char *hv_exit_reason_name(uint32_t reason);

/*
 * Create vCPU number index (0-based, below the VM's maximum) with the
 * architecture's defaults (x86: CPUID = everything KVM supports, with this
 * vCPU's APIC id).  Caller owns *out until hv_vcpu_destroy().
 * -EEXIST: index already used (KVM keeps a destroyed vCPU until the VM
 * dies, so an index can be created once per VM); -EINVAL: index too large;
 * -ENOSPC: the VM's ledger has no CPU left (hv_vm_config.ledger).
 */
HV_EXPORT int hv_vcpu_create(struct hv_vm *vm, uint32_t index, struct hv_vcpu **out);

/* Stops and joins a managed thread if one runs, then frees.  NULL: no-op.
 * Must not be called while another thread is inside hv_vcpu_run().  Also
 * valid after hv_vm_destroy() of its VM (see there). */
HV_EXPORT void hv_vcpu_destroy(struct hv_vcpu *vcpu);

HV_EXPORT uint32_t hv_vcpu_index(const struct hv_vcpu *vcpu);
HV_EXPORT struct hv_vm *hv_vcpu_vm(const struct hv_vcpu *vcpu);
/* The raw KVM vCPU descriptor; owned by the vCPU. */
HV_EXPORT int hv_vcpu_fd(const struct hv_vcpu *vcpu);

/*
 * Enter the guest once (one KVM_RUN) and describe the exit in *exit.
 * Port I/O and MMIO are dispatched to the VM's buses before returning
 * (exit->handled says whether a callback took it).  Returns 0, or -errno if
 * KVM_RUN itself failed.
 */
HV_EXPORT int hv_vcpu_run_once(struct hv_vcpu *vcpu, struct hv_exit *exit);

/*
 * Run until an exit that needs the caller: everything but I/O served by a bus
 * callback (and unclaimed I/O under HV_UNCLAIMED_IGNORE/LOG).  Returns 0 with
 * *exit filled, or -errno.
 */
HV_EXPORT int hv_vcpu_run(struct hv_vcpu *vcpu, struct hv_exit *exit);

/* For unclaimed I/O reads returned to the caller: the value the guest reads
 * when the vCPU next runs (default all-ones). */
HV_EXPORT int hv_vcpu_set_io_result(struct hv_vcpu *vcpu, uint64_t value);

/* Make the vCPU return HV_EXIT_KICKED soon.  Safe from any thread and from
 * signal-free contexts; a kick while not running applies to the next run
 * (KVM's immediate_exit).  Kicks coalesce until the vCPU sees one, and the
 * signal only goes to a thread inside hv_vcpu_run() (never to one that has
 * left it or exited).  Returns 0, or pthread_kill()'s error as -errno. */
HV_EXPORT int hv_vcpu_kick(struct hv_vcpu *vcpu);

/*
 * Managed thread.  fn (on the vCPU thread) sees every exit hv_vcpu_run()
 * returns except kicks used internally for pause/stop; it returns 0 to keep
 * running or non-zero to end the thread.  fn NULL: stop on the first exit.
 * If KVM_RUN itself fails, fn is called once more with HV_EXIT_INTERNAL_ERROR,
 * kvm_reason 0 and u.internal.data[0] = the -errno, and the thread ends.
 * The thread keeps the caller's signal mask.  With HV_VM_F_SECCOMP it runs
 * under the vCPU seccomp filter, and so does fn (README "Seccomp"): a call
 * outside it kills the process.
 * -EBUSY: already started; -EAGAIN (no thread); the filter's error (e.g.
 * -EINVAL, -ENOMEM) if it could not be installed: the thread never ran.
 */
typedef int (*hv_vcpu_exit_fn)(void *opaque, struct hv_vcpu *vcpu, const struct hv_exit *exit);
HV_EXPORT int hv_vcpu_start(struct hv_vcpu *vcpu, hv_vcpu_exit_fn fn, void *opaque);

/* Ask the managed thread to end (it returns HV_EXIT_STOP).  Does not wait. */
HV_EXPORT int hv_vcpu_stop(struct hv_vcpu *vcpu);

/* Wait for the managed thread to end; the exit that ended it goes to
 * *last_exit (may be NULL).  Returns the thread's result: 0, or the -errno
 * that stopped it.  -EINVAL: never started. */
HV_EXPORT int hv_vcpu_join(struct hv_vcpu *vcpu, struct hv_exit *last_exit);

/* Park a managed vCPU outside the guest and wait until it is parked, so its
 * registers can be read or changed.  -EINVAL: not managed; -ESRCH: its
 * thread has ended. */
HV_EXPORT int hv_vcpu_pause(struct hv_vcpu *vcpu);
HV_EXPORT int hv_vcpu_resume(struct hv_vcpu *vcpu);

/*
 * Pin the vCPU's managed thread to host CPUs cpus[0..n-1] (n 0: no pinning).
 * Applies when the thread starts, or at once if it runs.  Embedders running
 * their own loop pin their own thread.  -EINVAL: a CPU number beyond what
 * the host supports; errors from sched_setaffinity (e.g. a CPU outside the
 * process's cpuset) come from the running thread at once, or from
 * hv_vcpu_join() if it could not be applied at start.
 */
HV_EXPORT int hv_vcpu_set_affinity(struct hv_vcpu *vcpu, const uint32_t *cpus, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VCPU_H */
