/* SPDX-License-Identifier: MIT */
/* The I/O loop as the library's own devices start it. */
#ifndef HV_UTIL_IOLOOP_INTERNAL_H
#define HV_UTIL_IOLOOP_INTERNAL_H

#include <stdint.h>

#include "hvlib/ioloop.h"

/* hv_ioloop_create() with HV_THREAD_F_* (util/thread.h) for its thread:
 * HV_THREAD_F_SECCOMP confines it with the I/O role's filter. */
int hv_ioloop_create_thread(struct hv_ioloop **out, uint32_t thread_flags);

#endif /* HV_UTIL_IOLOOP_INTERNAL_H */
