/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk's worker thread, used when the device has an I/O loop.  The
 * loop's callback for the request queue only wakes it, so pread, pwrite
 * and fdatasync (which can take seconds on a busy disk) run here and the
 * shared loop goes on serving the other devices.
 *
 * Why a thread per device rather than io_uring: one request at a time, in
 * ring order, is what keeps flush exact without tracking (a flush starts
 * only after every write before it returned), and a blocked fdatasync then
 * blocks this disk alone.  io_uring would pay off with many requests in
 * flight per disk; that needs out-of-order completion and flush draining,
 * and is left for when a benchmark asks for it.
 */
#include <errno.h>

#include "util/error.h"
#include "util/thread.h"
#include "virtio/blk_internal.h"
#include "virtio/virtio_internal.h"
#include "vm/vm_internal.h"

static void *worker(void *arg)
{
	struct hv_virtio_blk *blk = arg;

	pthread_mutex_lock(&blk->wlock);
	for (;;) {
		while (!blk->kicked && !blk->stop)
			pthread_cond_wait(&blk->wcond, &blk->wlock);
		if (blk->stop)
			break;
		/* Cleared before serving: a kick while we serve brings us back. */
		blk->kicked = false;
		pthread_mutex_unlock(&blk->wlock);
		hv_virtio_blk_serve(blk);
		pthread_mutex_lock(&blk->wlock);
	}
	pthread_mutex_unlock(&blk->wlock);
	return NULL;
}

int hv_virtio_blk_worker_start(struct hv_virtio_blk *blk)
{
	int ret;

	pthread_mutex_init(&blk->wlock, NULL);
	pthread_cond_init(&blk->wcond, NULL);
	ret = hv_thread_start(&blk->worker, HV_THREAD_BLK,
			      hv_vm_seccomp(blk->dev->vm) ? HV_THREAD_F_SECCOMP : 0, "hv-blk",
			      worker, blk);
	if (ret) {
		pthread_cond_destroy(&blk->wcond);
		pthread_mutex_destroy(&blk->wlock);
		return hv_err_context(ret, "virtio-blk: starting its worker thread");
	}
	blk->worker_on = true;
	return 0;
}

void hv_virtio_blk_worker_kick(struct hv_virtio_blk *blk)
{
	pthread_mutex_lock(&blk->wlock);
	blk->kicked = true;
	pthread_cond_signal(&blk->wcond);
	pthread_mutex_unlock(&blk->wlock);
}

void hv_virtio_blk_worker_stop(struct hv_virtio_blk *blk)
{
	if (!blk->worker_on)
		return;
	pthread_mutex_lock(&blk->wlock);
	blk->stop = true;
	pthread_cond_signal(&blk->wcond);
	pthread_mutex_unlock(&blk->wlock);
	/* A request in progress completes first: no write is cut short. */
	pthread_join(blk->worker, NULL);
	blk->worker_on = false;
	pthread_cond_destroy(&blk->wcond);
	pthread_mutex_destroy(&blk->wlock);
}
