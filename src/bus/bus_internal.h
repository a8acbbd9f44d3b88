/* SPDX-License-Identifier: MIT */
/* What the VM and the vCPU run loop need from a bus beyond hvlib/bus.h. */
#ifndef HV_BUS_INTERNAL_H
#define HV_BUS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlib/bus.h"

struct hv_vcpu;

/* A second authority over the address space (the VM's RAM map): guard()
 * runs before each registration with the bus's write lock and *lock held;
 * non-zero refuses it (guard sets the message).  Every change to the range
 * table also holds *lock, so a holder of *lock may read the table with
 * hv_bus_overlap_locked().  Lock order: bus lock, then *lock. */
typedef int (*hv_bus_guard_fn)(void *opaque, uint64_t base, uint64_t len, const char *name);
void hv_bus_set_guard(struct hv_bus *bus, pthread_mutex_t *lock, hv_bus_guard_fn guard,
		      void *opaque);

/* A range overlapping [base, base + len) (len > 0, no wrap): true, with its
 * base, length and name copied out.  Caller holds the guard lock. */
bool hv_bus_overlap_locked(const struct hv_bus *bus, uint64_t base, uint64_t len,
			   uint64_t *rbase, uint64_t *rlen, char *name, size_t name_len);

/* The vCPU whose access this thread is dispatching (hv_bus_current_vcpu());
 * returns the previous value, to restore after the dispatch. */
struct hv_vcpu *hv_bus_enter_vcpu(struct hv_vcpu *vcpu);

#endif /* HV_BUS_INTERNAL_H */
