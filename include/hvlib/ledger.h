/* SPDX-License-Identifier: MIT */
/*
 * hvlib/ledger.h - admission control: a host resource ledger shared by VMs.
 *
 * A ledger holds the host's capacity in memory (bytes) and CPUs, and an
 * overcommit ratio for each, in percent: 100 admits exactly the capacity,
 * 150 admits 1.5 times it, 400 four times.  Limit = capacity x ratio / 100.
 * Reservations take memory and CPUs against the limits and give them back;
 * a reservation that does not fit is refused whole (-ENOSPC) with a message
 * saying what is short.  Nothing is enforced on the host: the ledger is the
 * embedder's policy, consulted before a VM is made.
 *
 * VMs reserve through it when their config names one.  A plain VM
 * (hv_vm_config.ledger): each guest memory region (hv_mem_add_region(), RAM,
 * ROM and caller-owned alike) reserves its bytes when added and returns them
 * when removed; each vCPU reserves one CPU at hv_vcpu_create() and returns
 * it at hv_vcpu_destroy(); hv_vm_destroy() returns what is left.  A micro-VM
 * (hv_microvm_config.ledger) reserves its mem_bytes (rounded up to 2 MiB)
 * and nr_vcpus once, at hv_microvm_create(), before KVM is touched, and
 * returns them at hv_microvm_destroy(); memory added later through
 * hv_microvm_vm() is not counted.
 * An embedder's own VMM may call hv_ledger_reserve()/_release() directly.
 *
 * Threads: every call is thread-safe; one ledger may be shared by any
 * number of VMs on any threads.  The ledger must outlive every VM and every
 * reservation that uses it (hv_ledger_destroy() refuses while any remain).
 */
#ifndef HVLIB_LEDGER_H
#define HVLIB_LEDGER_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_ledger;

#define HV_LEDGER_F_ALL 0x0u /* no flags yet */

struct hv_ledger_config {
	uint32_t size;               /* sizeof(struct hv_ledger_config) */
	uint32_t flags;              /* none yet; any bit: -EINVAL */
	uint64_t mem_bytes;          /* memory capacity; 0: the host's (see below) */
	uint32_t cpus;               /* CPU capacity; 0: the host's (see below) */
	uint32_t mem_overcommit_pct; /* memory limit in percent of capacity; 0: 100 */
	uint32_t cpu_overcommit_pct; /* CPU limit in percent of capacity; 0: 100 */
	uint32_t reserved;           /* must be 0 */
};

/* Fill *cfg with its size and defaults (host capacity, no overcommit). */
HV_EXPORT void hv_ledger_config_init(struct hv_ledger_config *cfg);

/*
 * Create a ledger.  Host capacity (fields left 0): memory is MemTotal from
 * /proc/meminfo, lowered to the calling process's cgroup v2 memory.max if
 * that is smaller; CPUs are those in the calling thread's affinity mask
 * (sched_getaffinity), lowered to the cgroup's cpu.max quota (rounded up)
 * if that is smaller.  Read once, at create.  cfg NULL: all defaults.
 * Caller owns *out until hv_ledger_destroy(); *out is NULL on failure.
 * -EINVAL: NULL out, bad size, flags, reserved field, or a ratio above
 * 100000 (1000x); -EOVERFLOW: capacity x ratio does not fit 64 bits;
 * -ENOMEM; -errno reading /proc (the message names the file).
 */
HV_EXPORT int hv_ledger_create(const struct hv_ledger_config *cfg, struct hv_ledger **out);

/* Destroy the ledger: 0, or -EBUSY (and nothing happens) while any memory
 * or CPU is reserved.  NULL: 0. */
HV_EXPORT int hv_ledger_destroy(struct hv_ledger *ledger);

/*
 * Reserve mem_bytes of memory and cpus CPUs, both or neither.
 * -ENOSPC: it does not fit; the message says what is short, e.g.
 * "admission: 512 MiB of guest memory asked, 300 MiB left of 4096 MiB x1.50
 * overcommit".  -EINVAL: NULL ledger.
 */
HV_EXPORT int hv_ledger_reserve(struct hv_ledger *ledger, uint64_t mem_bytes, uint32_t cpus);

/* Give back memory and CPUs that hv_ledger_reserve() took (in the same or in
 * other portions).  -EINVAL: NULL ledger, or more than is reserved (then
 * nothing is released). */
HV_EXPORT int hv_ledger_release(struct hv_ledger *ledger, uint64_t mem_bytes, uint32_t cpus);

struct hv_ledger_usage {
	uint32_t size;               /* set by the caller: sizeof(struct hv_ledger_usage) */
	uint32_t cpu_capacity;       /* as configured or read from the host */
	uint64_t mem_capacity;       /* bytes, as configured or read from the host */
	uint64_t mem_limit;          /* mem_capacity x mem_overcommit_pct / 100 */
	uint64_t mem_used;           /* bytes reserved */
	uint32_t cpu_limit;          /* cpu_capacity x cpu_overcommit_pct / 100, rounded down */
	uint32_t cpu_used;           /* CPUs reserved */
	uint32_t mem_overcommit_pct;
	uint32_t cpu_overcommit_pct;
};

/* A consistent snapshot of the ledger.  The caller sets out->size; hvlib
 * fills that many bytes (older, shorter structs get the fields they know).
 * -EINVAL: NULL ledger or out, or out->size below 8. */
HV_EXPORT int hv_ledger_usage(struct hv_ledger *ledger, struct hv_ledger_usage *out);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_LEDGER_H */
