/* SPDX-License-Identifier: MIT */
/*
 * hvlib/common.h - version, error reporting and logging shared by every module.
 *
 * Errors: every function that can fail returns 0 (or a non-negative count) on
 * success and a negative errno value on failure.  The human-readable detail of
 * the most recent failure *on the calling thread* is kept in a thread-local
 * buffer and read with hv_last_error(); it names the object and the reason,
 * e.g. "/dev/kvm: permission denied; is the user in group kvm?".  Only
 * failures write it: a later successful call leaves it as it was, so read it
 * right after the call that failed.  hv_strerror() never changes it.
 *
 * Arguments: a NULL handle or out-pointer given to any function but a
 * destroy (where NULL is a no-op) and an *_init() (where it is ignored) is
 * -EINVAL, "<function>: <argument> is NULL"; nothing crashes.  Every create
 * sets *out = NULL when it fails.
 *
 * Growing structs (the ABI): every config struct begins with uint32_t size,
 * which its *_init() sets to the sizeof the caller was compiled with; members
 * are only ever appended.  hvlib accepts a size from 8 (size and flags) up to
 * its own sizeof: an older caller's struct lacks the newer members, which
 * take their *_init() defaults.  A larger size (a caller built against a
 * newer header) is accepted only when every byte past hvlib's struct is 0;
 * otherwise -EINVAL names the first non-zero byte.  Sizes not a multiple of
 * 4 or above 4096 are -EINVAL.  Arrays of such structs (micro-VM disks and
 * nets, ACPI devices) are indexed by their elements' size, the same in each.
 * Fields named reserved* must be 0 (-EINVAL otherwise).  Result structs the
 * library fills end in reserved_tail room that later members take; their
 * size does not change.  Initialise configs with their *_init() (or zero
 * them): a sized struct never has tail padding, so an older caller's size
 * always ends on a member.
 *
 * Logging: the library never prints.  Each VM carries an optional log callback
 * (struct hv_vm_config.log_fn) that receives diagnostics from that VM's
 * devices and vCPUs; without one, messages are dropped.
 *
 * Callbacks and locks: some embedder callbacks run while hvlib holds locks
 * of the object that called them; each header says which.  The log callback
 * may run on any hvlib thread with device, queue or transport locks held: it
 * must only record or print the message, calling no hvlib function but
 * hv_strerror() and hv_last_error().  No callback may destroy the object
 * that called it, nor that object's VM, host, transport or I/O loop.
 *
 * Threading: everything in this header is safe to call from any thread.
 */
#ifndef HVLIB_COMMON_H
#define HVLIB_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(HVLIB_BUILDING) && defined(__GNUC__)
#define HV_EXPORT __attribute__((visibility("default")))
#else
#define HV_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define HV_VERSION_MAJOR 0
#define HV_VERSION_MINOR 1
#define HV_VERSION_PATCH 0

/* Version of the library actually loaded, as (major << 16 | minor << 8 | patch). */
HV_EXPORT uint32_t hv_version(void);

/* Description of a negative errno returned by an hvlib call; never NULL.
 * Unlike strerror(), also explains hvlib's use of the code where it differs.
 * It does not touch hv_last_error(). */
HV_EXPORT const char *hv_strerror(int err);

/* Detail of the last failed hvlib call on this thread, or "" if none.  A
 * successful call does not clear it.  The pointer stays valid until the next
 * hvlib call on the same thread. */
HV_EXPORT const char *hv_last_error(void);

enum hv_log_level {
	HV_LOG_ERROR = 0,
	HV_LOG_WARN = 1,
	HV_LOG_INFO = 2,
	HV_LOG_DEBUG = 3,
};

/* Log sink installed by the embedder.  May be called from any vCPU or device
 * thread, concurrently; msg has no trailing newline and is only valid during
 * the call. */
typedef void (*hv_log_fn)(void *opaque, enum hv_log_level level, const char *msg);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_COMMON_H */
