/* SPDX-License-Identifier: MIT */
#ifndef HV_UTIL_RWLOCK_H
#define HV_UTIL_RWLOCK_H

#include <pthread.h>

/* A writer-preferring rwlock.  glibc's default prefers readers: vCPUs
 * dispatching back to back would starve a register/unregister (the writer)
 * indefinitely.  Holders must never take it recursively for reading: a
 * second read behind a waiting writer deadlocks.  0 or -1. */
int hv_rwlock_init_writer_pref(pthread_rwlock_t *lock);

#endif
