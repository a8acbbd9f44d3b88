/* SPDX-License-Identifier: MIT */
/*
 * hvlib/bus.h - port-I/O and MMIO dispatch to embedder callbacks.
 *
 * A struct hv_bus maps non-overlapping address ranges to callbacks.  A VM owns
 * two (hv_vm_bus(vm, HV_BUS_PIO) and HV_BUS_MMIO); its vCPUs dispatch guest
 * accesses through them.  A bus also works standalone, for device tests.
 *
 * Threading: dispatch may run concurrently on every vCPU thread, so callbacks
 * must be thread-safe for their own state.  Registration and removal may run
 * from any thread at any time; once hv_bus_unregister() returns, the callback
 * is not running and will not be called again.  A callback must not register,
 * unregister or dispatch on its own bus (it would deadlock: registration is
 * writer-preferring so that busy vCPUs cannot starve it).
 */
#ifndef HVLIB_BUS_H
#define HVLIB_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_bus;
struct hv_vcpu;

enum hv_bus_space {
	HV_BUS_PIO = 0,  /* x86 port I/O: 16-bit addresses */
	HV_BUS_MMIO = 1, /* guest-physical addresses not backed by RAM */
};

/*
 * An access of `width` bytes (1, 2, 4 or 8) at `offset` from the start of the
 * registered range.  Writes: *value holds the data, zero-extended.  Reads:
 * store the result in *value (hvlib truncates to width).  Values are in
 * guest byte order (little-endian on x86/arm64) as integers.  Return 0, or a
 * negative errno to report a device error: the access is then treated as
 * unclaimed (reads see all-ones) and logged, the message prefixed with the
 * range's name and base ("kbd at 0x60: ...").
 *
 * To stop the vCPU that made the access (a device saw a power-off or reset
 * request): keep its struct hv_vcpu in opaque, or reach it through
 * hv_microvm_stop() for a micro-VM, and call hv_vcpu_stop() from the
 * callback.  The access completes; a managed thread (hv_vcpu_start()) then
 * ends with HV_EXIT_STOP, and hv_vcpu_run() returns HV_EXIT_KICKED.
 */
typedef int (*hv_io_fn)(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value);

/* A standalone bus.  -ENOMEM. */
HV_EXPORT int hv_bus_create(enum hv_bus_space space, struct hv_bus **out);
/* NULL: no-op.  Only for buses from hv_bus_create(). */
HV_EXPORT void hv_bus_destroy(struct hv_bus *bus);

/* Claim [base, base + len) for fn.  Handle for hv_bus_unregister() in *handle_out.
 * -EINVAL: len 0, NULL fn, or beyond 0xffff on a PIO bus; -EOVERFLOW: wraps;
 * -EEXIST: overlaps a registered range, or (a VM's MMIO bus) guest memory
 * that is not read-only, whose accesses never exit to the bus (the message
 * names both ranges).  A range over a read-only region (HV_MEM_F_READONLY)
 * is allowed: reads see the memory, writes reach fn. */
HV_EXPORT int hv_bus_register(struct hv_bus *bus, uint64_t base, uint64_t len, hv_io_fn fn,
			      void *opaque, const char *name, uint32_t *handle_out);

/* -ENOENT: unknown handle. */
HV_EXPORT int hv_bus_unregister(struct hv_bus *bus, uint32_t handle);

/* Deliver one access.  The whole access must fall inside one range.
 * -ENOENT: no range claims it (reads then yield all-ones in *value);
 * otherwise the callback's result. */
HV_EXPORT int hv_bus_dispatch(struct hv_bus *bus, uint64_t addr, uint32_t width, bool is_write,
			      uint64_t *value);

/*
 * The vCPU whose guest access the calling thread is dispatching: valid
 * inside an hv_io_fn called by a vCPU's run loop (hv_vcpu_run() or a
 * managed vCPU thread), for that callback's duration; NULL anywhere else,
 * e.g. in a callback reached through hv_bus_dispatch() by the embedder.
 * hv_vcpu_index() on it tells which vCPU made the access.  Borrowed: the
 * vCPU cannot be destroyed while one of its accesses is being dispatched.
 */
HV_EXPORT struct hv_vcpu *hv_bus_current_vcpu(void);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_BUS_H */
