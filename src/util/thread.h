/* SPDX-License-Identifier: MIT */
/*
 * Starting the library's own threads: the one place a thread gets its signal
 * mask and, when the VM asked for it (HV_VM_F_SECCOMP), its seccomp filter
 * (util/seccomp.h), chosen by what the thread is for.
 */
#ifndef HV_UTIL_THREAD_H
#define HV_UTIL_THREAD_H

#include <pthread.h>
#include <stdint.h>

/* What a library thread does; each has its own filter (util/seccomp.c). */
enum hv_thread_role {
	HV_THREAD_VCPU = 0,   /* a managed vCPU thread (hv_vcpu_start) */
	HV_THREAD_IO = 1,     /* the virtio I/O thread (hvlib/ioloop.h) */
	HV_THREAD_NET_RX = 2, /* a virtio-net receive thread */
	HV_THREAD_VSOCK = 3,  /* the vsock thread relaying vhost's call eventfds */
	HV_THREAD_BLK = 4,    /* a virtio-blk worker doing the image's blocking I/O */
	HV_THREAD_NR_ROLES
};

#define HV_THREAD_F_SECCOMP (1u << 0) /* install the role's filter before fn runs */
#define HV_THREAD_F_SIGMASK (1u << 1) /* keep the creator's signal mask (else all blocked) */

/*
 * Start fn(arg) on a new thread named name (<= 15 bytes, or NULL).  Without
 * HV_THREAD_F_SIGMASK every signal is blocked there: signals belong to the
 * embedder's threads.  With HV_THREAD_F_SECCOMP the thread installs its
 * role's filter first and fn never runs unconfined: if that fails the thread
 * ends, is joined, and the error comes back here.  0 or -errno (message set):
 * -EAGAIN and others from pthread_create(), or the filter's error.
 */
int hv_thread_start(pthread_t *thread, enum hv_thread_role role, uint32_t flags,
		    const char *name, void *(*fn)(void *), void *arg);

/* "vCPU", "I/O", ... for messages. */
const char *hv_thread_role_name(enum hv_thread_role role);

#endif /* HV_UTIL_THREAD_H */
