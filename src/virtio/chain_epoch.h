/* SPDX-License-Identifier: MIT */
/*
 * Chains written after the pop, on another thread or later: the stale-chain
 * protocol shared by the devices that do (console and net receive, blk's
 * worker).  A reset (ops->reset, with the device lock held) bumps the epoch
 * under the lock; a writer reads the epoch before it pops, and writes into
 * the chain and pushes it only inside enter/leave, which holds the lock and
 * checks that no reset came between.  So once ops->reset returns, no chain
 * of the old driver is written to.  Inside enter/leave only the chain and
 * hv_virtq_push() (the queue lock): never the device lock, which the reset
 * holds while it waits here, so pops and interrupts stay outside.
 */
#ifndef HV_VIRTIO_CHAIN_EPOCH_H
#define HV_VIRTIO_CHAIN_EPOCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct hv_chain_epoch {
	pthread_mutex_t lock;
	uint32_t value;           /* bumped by every reset; atomic, written under lock */
};

static inline void hv_chain_epoch_init(struct hv_chain_epoch *e)
{
	pthread_mutex_init(&e->lock, NULL);
	e->value = 0;
}

static inline void hv_chain_epoch_fini(struct hv_chain_epoch *e)
{
	pthread_mutex_destroy(&e->lock);
}

/* The epoch now: read it before popping the chain it will guard. */
static inline uint32_t hv_chain_epoch_read(struct hv_chain_epoch *e)
{
	return __atomic_load_n(&e->value, __ATOMIC_ACQUIRE);
}

/* Take the lock if no reset came since `popped` was read: true, and the
 * chain may be written and pushed until hv_chain_epoch_leave(); false (the
 * lock not held): the chain is stale, drop it. */
static inline bool hv_chain_epoch_enter(struct hv_chain_epoch *e, uint32_t popped)
{
	pthread_mutex_lock(&e->lock);
	if (e->value == popped)
		return true;
	pthread_mutex_unlock(&e->lock);
	return false;
}

static inline void hv_chain_epoch_leave(struct hv_chain_epoch *e)
{
	pthread_mutex_unlock(&e->lock);
}

/* From ops->reset: waits for a writer inside enter/leave, then makes every
 * chain popped before it stale. */
static inline void hv_chain_epoch_bump(struct hv_chain_epoch *e)
{
	pthread_mutex_lock(&e->lock);
	__atomic_add_fetch(&e->value, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&e->lock);
}

#endif /* HV_VIRTIO_CHAIN_EPOCH_H */
