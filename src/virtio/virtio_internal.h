/* SPDX-License-Identifier: MIT */
/* Virtio device core, queues and transports: the shared internal state. */
#ifndef HV_VIRTIO_INTERNAL_H
#define HV_VIRTIO_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvlib/virtio.h"
#include "mem/mem_internal.h"
#include "util/ratelimit.h"
#include "virtio/core_features.h"
#include "virtio/vring.h"

#define HV_VIRTQ_DEFAULT_SIZE 256u

/*
 * Chains one ops->notify call may pop from the queue it serves before pop
 * answers "empty" (and the core serves the queue again later: on an I/O
 * loop, after every other ready fd had its turn).  64 as Linux's NAPI
 * weight, for the same reason: large enough that the loop's round trip
 * (an eventfd write and an epoll_wait, about a microsecond) is spread over
 * many chains, small enough that a guest keeping one queue full delays the
 * other devices on the loop by a quarter ring of work at most.
 */
#define HV_VIRTQ_BUDGET 64u

/* ISR bits (virtio-mmio InterruptStatus, virtio-pci ISR). */
#define HV_VIRTIO_ISR_QUEUE  1u
#define HV_VIRTIO_ISR_CONFIG 2u

struct hv_virtq {
	struct hv_virtio_dev *dev;
	uint32_t index;
	pthread_mutex_t lock;     /* everything below */

	/* Set up by the driver through the transport (under dev->lock). */
	uint32_t max_size;
	uint32_t size;            /* QueueNum */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;               /* QueueReady as the driver sees it */

	/* Running state, valid while `running`. */
	bool running;             /* rings translated and checked */
	bool broken;              /* the guest broke it: serve nothing until reset */
	bool event_idx;           /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;            /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint32_t generation;      /* bumped on every start and stop */
	const struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;      /* next avail->ring slot to take */
	uint16_t used_idx;        /* our copy of used->idx: the guest may scribble on it */
	uint16_t signalled_used;  /* used_idx at the last interrupt */
	bool signalled_valid;     /* signalled_used means something yet */
	/* Guest memory the queue holds pointers into, which therefore cannot
	 * be removed: the rings while running, and the regions of buffers
	 * popped and not yet pushed (inflight of them) until all are pushed
	 * or the device was reset (a stale request may still be in use). */
	struct hv_mem_pins ring_pins;
	struct hv_mem_pins buf_pins;
	uint32_t inflight;

	/* Device-chosen eventfd for this queue's notifications (-1: none),
	 * under dev->lock; borrowed from the device. */
	int notify_fd;
	/* With an ioloop: the core's own eventfd for this queue (-1: none),
	 * owned, and whether the loop watches it (set while a transport is
	 * attached; atomic: read by the register path without locks). */
	int loop_fd;
	bool loop_on;

	/* The serve budget (HV_VIRTQ_BUDGET), under lock: counted only for
	 * pops from budget_thread while budget_on, i.e. inside ops->notify
	 * from hv_virtio_dev_serve(); budget_hit: a pop was refused for it. */
	bool budget_on, budget_hit;
	uint32_t budget_left;
	pthread_t budget_thread;
};

/* In hv_virtq_pop() (q->lock held): whether this pop is over the budget
 * (then it returns 0, as for an empty queue). */
bool hv_virtq_over_budget(struct hv_virtq *q);

/* What the core needs from its transport.  Ops are called with dev->lock
 * held (except interrupt from hv_virtio_dev_interrupt()). */
struct hv_virtio_transport {
	/* Raise the device's interrupt with these ISR bits. */
	void (*interrupt)(void *opaque, uint32_t isr_bits);
	void *opaque;
	/*
	 * Optional: the driver's notifications of `queue` signal eventfd fd
	 * instead of reaching the transport's register (-1: stop that and go
	 * back to the register).  The transport remembers what it assigned and
	 * replaces it; the core calls it when a transport attaches (for every
	 * queue with an fd), when the device changes an fd, and with -1 for
	 * each of them when the transport detaches.  Returns 0 or -errno (with
	 * hv_err); on failure the register path stays.  virtio-mmio: an
	 * ioeventfd on QueueNotify, 4 bytes, datamatch = queue index;
	 * virtio-pci: one on each queue's notify address, 2 bytes, that
	 * follows BAR 0 as the guest moves or disables it (pci_notify.c).
	 * NULL: the transport cannot (hv_virtio_dev_set_queue_notify_fd()
	 * then fails with -ENOTSUP and ops->notify keeps being called).
	 */
	int (*set_notify_fd)(void *opaque, uint32_t queue, int fd);
	/* Optional: a used-buffer interrupt for one queue, for transports with
	 * a vector per queue (virtio-pci MSI-X).  NULL: interrupt(ISR_QUEUE). */
	void (*queue_interrupt)(void *opaque, uint32_t queue);
	/* Optional: the device is being destroyed while still attached: leave
	 * the guest's bus (waiting for accesses in flight), detach with
	 * hv_virtio_dev_set_transport(dev, NULL) and never touch the device
	 * again; the transport's own destroy then only frees it.  NULL: the
	 * core just detaches it. */
	void (*detach)(void *opaque);
};

struct hv_virtio_dev {
	const struct hv_virtio_dev_ops *ops;
	void *opaque;
	struct hv_vm *vm;
	struct hv_mem *mem;
	char name[32];
	uint64_t device_features;
	uint32_t nr_queues;

	pthread_mutex_t lock;     /* status, features, selectors; taken before q->lock */
	uint32_t status;
	uint64_t driver_features;
	uint32_t config_generation;
	bool needs_reset_logged;
	struct hv_ratelimit log_rl; /* every line the device logs (hv_virtio_dev_logf) */
	struct hv_virtio_transport transport; /* interrupt NULL: none attached */
	struct hv_virtq *queues;  /* nr_queues */
	struct hv_ioloop *ioloop; /* borrowed; NULL: notifications served on vCPUs */
	/* Statistics (atomic), for tests: notifications that reached a
	 * transport's register (a vCPU exit), and those served by the ioloop. */
	uint64_t exit_notifies;
	uint64_t loop_notifies;
};

/* The core, for transports (virtio_dev.c).  Callers hold no locks. */
void hv_virtio_dev_set_transport(struct hv_virtio_dev *dev, const struct hv_virtio_transport *t);
/* A status write from the driver (0: reset). */
void hv_virtio_dev_write_status(struct hv_virtio_dev *dev, uint32_t status);
/* Device features, 32 bits at a time (sel 0: bits 0-31, 1: 32-63, else 0). */
uint32_t hv_virtio_dev_features_word(const struct hv_virtio_dev *dev, uint32_t sel);
/* The driver's accepted features, 32 bits at a time; ignored after FEATURES_OK. */
void hv_virtio_dev_set_driver_features(struct hv_virtio_dev *dev, uint32_t sel, uint32_t val);
/* Queue set-up registers; ignored while the queue is ready or out of range. */
void hv_virtio_dev_queue_set_size(struct hv_virtio_dev *dev, uint32_t q, uint32_t size);
void hv_virtio_dev_queue_set_addr(struct hv_virtio_dev *dev, uint32_t q, int which, uint64_t gpa);
/* One 32-bit half of a queue address (transports with 32-bit registers),
 * the other half kept; and the address as set (0: no such queue). */
void hv_virtio_dev_queue_set_addr_half(struct hv_virtio_dev *dev, uint32_t q, int which,
				       bool high, uint32_t val);
uint64_t hv_virtio_dev_queue_addr(struct hv_virtio_dev *dev, uint32_t q, int which);
void hv_virtio_dev_queue_set_ready(struct hv_virtio_dev *dev, uint32_t q, bool ready);
/* The driver notified queue q through the transport's register (a vCPU
 * exit): counted, then hv_virtio_dev_kick(). */
void hv_virtio_dev_notify(struct hv_virtio_dev *dev, uint32_t q);
/* Guest config space access (bounds-checked here): reads outside are 0. */
void hv_virtio_dev_config_access(struct hv_virtio_dev *dev, uint32_t offset, uint32_t width,
				 bool is_write, uint64_t *value);
/* printf-style log through the VM, prefixed with the device name. */
void hv_virtio_dev_logf(struct hv_virtio_dev *dev, enum hv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Queue eventfd wiring (virtio_notify.c), dev->lock held: through t, for
 * every queue that has a notify fd; fd -1 on each when unwiring. */
void hv_virtio_dev_wire_notify_fds(struct hv_virtio_dev *dev,
				   const struct hv_virtio_transport *t, bool wire);
/* The eventfd a transport should wire for queue q (dev->lock held): the
 * device's own, else the ioloop's, else -1. */
int hv_virtio_dev_queue_fd(const struct hv_virtio_dev *dev, uint32_t q);
/* ioloop plumbing (virtio_ioloop.c).  Create/close the queues' eventfds;
 * start/stop the loop watching them (no device lock held: stopping waits
 * for a notify in progress, which may take it). */
int hv_virtio_dev_loop_init(struct hv_virtio_dev *dev, struct hv_ioloop *loop);
void hv_virtio_dev_loop_fini(struct hv_virtio_dev *dev);
void hv_virtio_dev_loop_start(struct hv_virtio_dev *dev);
void hv_virtio_dev_loop_stop(struct hv_virtio_dev *dev);
/* A notification for queue q: to the loop if it watches q, else served
 * here through ops->notify. */
void hv_virtio_dev_kick(struct hv_virtio_dev *dev, uint32_t q);
/* ops->notify for q, unless the device is not live (no DRIVER_OK, or
 * DEVICE_NEEDS_RESET): those notifications are dropped.  Each call pops at
 * most HV_VIRTQ_BUDGET chains; if it stopped there, on_loop (the caller is
 * the loop's callback for q) signals q's eventfd again so the loop comes
 * back after the others, else ops->notify is called again here. */
void hv_virtio_dev_serve(struct hv_virtio_dev *dev, uint32_t q, bool on_loop);
/* ops->status if the device's ops table is recent enough to have one. */
int hv_virtio_dev_call_status(struct hv_virtio_dev *dev, uint32_t status);
/* Send an interrupt with these ISR bits, if a transport is attached. */
void hv_virtio_dev_interrupt(struct hv_virtio_dev *dev, uint32_t isr_bits);
/* (The used-buffer interrupt for one queue is the public
 * hv_virtio_dev_queue_interrupt(): queue_interrupt, or ISR_QUEUE.) */

/* Whether virtio-mmio raises its line through a KVM irqfd (for tests). */
bool hv_virtio_mmio_uses_irqfd(const struct hv_virtio_mmio *m);

enum { HV_VIRTQ_ADDR_DESC = 0, HV_VIRTQ_ADDR_AVAIL = 1, HV_VIRTQ_ADDR_USED = 2 };

/* Queue mechanics (virtq.c). */
int hv_virtq_init(struct hv_virtq *q, struct hv_virtio_dev *dev, uint32_t index,
		  uint32_t max_size);
void hv_virtq_fini(struct hv_virtq *q);
/* Translate and check the rings the driver gave (q->lock held); on failure
 * the queue stays stopped and the caller marks the device broken. */
int hv_virtq_start(struct hv_virtq *q, uint64_t features);
/* Stop serving and forget the driver's set-up (q->lock held). */
void hv_virtq_reset(struct hv_virtq *q);
/* Stop serving, keep the set-up: the driver disabled the queue (q->lock held). */
void hv_virtq_stop(struct hv_virtq *q);
/* The device was reset (its ops->reset returned) or is destroyed: it holds
 * no request any more, so the buffers' memory is let go (q->lock held). */
void hv_virtq_release_bufs(struct hv_virtq *q);
/* Follow the guest memory map (virtio_dev_mem.c): a running queue whose
 * rings no longer translate to where they did breaks the device. */
int hv_virtio_dev_mem_listen(struct hv_virtio_dev *dev);
void hv_virtio_dev_mem_unlisten(struct hv_virtio_dev *dev);

#endif /* HV_VIRTIO_INTERNAL_H */
