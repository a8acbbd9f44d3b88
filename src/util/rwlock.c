/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "util/rwlock.h"

int hv_rwlock_init_writer_pref(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;
	int ret;

	if (pthread_rwlockattr_init(&attr))
		return -1;
#ifdef __GLIBC__
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	ret = pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	return ret ? -1 : 0;
}
