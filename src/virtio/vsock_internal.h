/* SPDX-License-Identifier: MIT */
/* virtio-vsock: the device (vsock.c) and its vhost-vsock backend (vsock_vhost.c). */
#ifndef HV_VSOCK_INTERNAL_H
#define HV_VSOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvlib/virtio_vsock.h"

/* Queues 0 (rx) and 1 (tx) are vhost's; queue 2 (event) is hvlib's. */
#define HV_VSOCK_VHOST_QUEUES 2u
#define HV_VSOCK_QUEUES 3u

struct hv_virtio_vsock {
	struct hv_virtio_dev *dev;
	struct hv_vm *vm;
	uint64_t cid;
	char path[64];
	int vhost_fd;
	int kick_fds[HV_VSOCK_VHOST_QUEUES];  /* guest -> vhost (ioeventfd) */
	int call_fds[HV_VSOCK_VHOST_QUEUES];  /* vhost -> I/O thread -> interrupt */
	int stop_fd;                          /* ends the I/O thread */
	pthread_t thread;
	bool thread_started;
	bool running;        /* vhost started; changed under the device lock */
	bool exit_notified;  /* a notification came the slow way (logged once) */
	bool listening;      /* registered as a guest memory listener */
};

/* One queue's ring set-up as the driver left it (vsock.c copies it out of
 * the queue, which vhost's own headers cannot see). */
struct hv_vsock_ring {
	bool ok;             /* enabled, running, not broken */
	bool event_idx;
	uint32_t size;
	uint16_t last_avail;
	uint64_t desc, avail, used; /* guest-physical */
};
void hv_vsock_queue_ring(struct hv_virtio_vsock *v, uint32_t q, struct hv_vsock_ring *r);
/* Host addresses of its descriptor, available and used rings, each checked
 * to lie whole in one region of mem (vsock_vhost.c; fuzz_vsock drives it).
 * -EFAULT and others from hv_mem_translate(), with the ring named. */
struct hv_mem;
int hv_vsock_ring_hva(const struct hv_mem *mem, uint32_t q, const struct hv_vsock_ring *r,
		      uint64_t hva[3]);

/* Open the vhost device, become its owner, read its features, claim the
 * CID.  Fills vhost_fd and *features. */
int hv_vsock_vhost_open(struct hv_virtio_vsock *v, const char *path, uint64_t *features);
/* DRIVER_OK: features, memory table, rings, eventfds, running (device lock held). */
int hv_vsock_vhost_start(struct hv_virtio_vsock *v);
/* (Again) give vhost the guest RAM map as it is now (device lock held):
 * at start and after every change of the map. */
int hv_vsock_vhost_set_mem_table(struct hv_virtio_vsock *v);
/* Stop vhost touching guest memory (device lock held, or at destroy). */
int hv_vsock_vhost_stop(struct hv_virtio_vsock *v);

#endif /* HV_VSOCK_INTERNAL_H */
