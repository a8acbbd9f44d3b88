/* SPDX-License-Identifier: MIT */
/*
 * Per-role seccomp filters for the library's threads (libseccomp).  Each
 * allows what its role's code needs, nothing else; the README lists them.
 */
#ifndef HV_UTIL_SECCOMP_H
#define HV_UTIL_SECCOMP_H

#include <seccomp.h>
#include <stdint.h>

#include "util/thread.h"

/* What a thread's filter does to a syscall it does not allow: end the whole
 * process, as if by SIGSYS.  Returning an error instead would let a
 * compromised thread probe, and a half-working VMM run on. */
#define HV_SECCOMP_DEFAULT_ACTION SCMP_ACT_KILL_PROCESS

/*
 * The filter of role with default_action for everything it does not allow.
 * 0 and *out (the caller's, seccomp_release() it), or -errno (message set):
 * -ENOMEM, -EINVAL for an unknown role, or libseccomp's error.
 */
int hv_seccomp_build(enum hv_thread_role role, uint32_t default_action, scmp_filter_ctx *out);

/* Build role's filter with HV_SECCOMP_DEFAULT_ACTION and load it on the
 * calling thread (and threads it starts later); no_new_privs is set for it.
 * 0 or -errno (no message: it runs on the new thread, whose creator sets
 * it).  Irreversible for this thread. */
int hv_seccomp_install(enum hv_thread_role role);

#endif /* HV_UTIL_SECCOMP_H */
