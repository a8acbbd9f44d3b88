/* SPDX-License-Identifier: MIT */
/*
 * hvlib/virtio.h - virtio 1.2 devices: split virtqueues, a device interface
 * for embedders, the virtio-mmio transport (version 2), and the built-in
 * block and entropy devices (console and network devices have their own
 * headers: hvlib/virtio_console.h, hvlib/virtio_net.h).
 *
 * Three layers, each usable on its own:
 *
 *  1. A device (struct hv_virtio_dev) is a const ops table plus an opaque
 *     pointer: device id, feature bits, config space, a per-queue notify
 *     callback and reset.  hvlib keeps the device status, the feature
 *     negotiation and the queues; the device only pops requests from its
 *     queues and pushes the answers back.  The built-in devices
 *     (hv_virtio_blk_create(), hv_virtio_rng_create()) are written against
 *     exactly this interface.
 *  2. Queues (struct hv_virtq): split rings with indirect descriptors and
 *     VIRTIO_F_EVENT_IDX.  The guest is hostile: every index, address and
 *     length it wrote is checked against the queue size and guest memory
 *     (hv_mem_translate()); loops and chains longer than the queue are
 *     caught.  While a queue runs, the memory regions of its rings and of
 *     the buffers popped but not yet pushed cannot be removed
 *     (hv_mem_remove_region(): -EBUSY; see hvlib/mem.h).
 *     A broken queue sets DEVICE_NEEDS_RESET in the device status,
 *     tells the driver with a configuration interrupt, logs once, and
 *     serves nothing more until the driver resets the device.
 *  3. A transport puts a device on a bus: hv_virtio_mmio_create() claims an
 *     MMIO window (virtio-mmio version 2) and raises an edge-triggered
 *     interrupt line.  The guest learns of the window from the platform
 *     (on x86, an ACPI "LNRO0005" device: see hvlib/acpi.h).  The other
 *     transport, virtio-pci (hvlib/virtio_pci.h), makes the same device a
 *     PCI function with MSI-X.
 *
 * Call order: hv_virtio_*_create() (device) -> hv_virtio_mmio_create()
 * (transport) -> run the guest -> stop the vCPUs -> hv_virtio_mmio_destroy()
 * -> destroy the device -> destroy the VM.
 *
 * Threading: transports run on vCPU threads, concurrently.  Without an
 * ioloop, ops->notify runs on the vCPU thread that wrote the queue's notify
 * register; with one (hv_virtio_dev_config.ioloop), on the ioloop's thread:
 * the notification reaches a per-queue eventfd (a KVM ioeventfd where the
 * transport supports it, so the vCPU never leaves the kernel; otherwise the
 * transport's register write signals it), and the loop calls ops->notify.
 * Either way without hvlib locks held.  Without an ioloop two vCPUs may
 * notify the same queue at once; pop/push are safe against that (each queue
 * has its own lock), as against device threads pushing meanwhile.
 * Transports raise interrupts through a KVM irqfd where they can
 * (virtio-mmio), else hv_vm_irq_line().  ops->reset runs on the
 * vCPU thread that reset the device, after every queue has been stopped,
 * with the device's lock held: it may wait for a device thread only while
 * that thread holds nothing but its own locks (interrupts,
 * hv_virtio_dev_needs_reset() and a pop that finds a broken chain take the
 * device lock; pushes do not).  ops->status (DRIVER_OK and other status
 * changes) runs likewise.  Devices with their own threads (virtio-net's
 * receive side) may call the queue functions and raise interrupts from
 * there; devices served off the vCPU threads (vhost) send their queue
 * notifications to eventfds (hv_virtio_dev_set_queue_notify_fd()) and raise
 * interrupts from their own threads (hv_virtio_dev_queue_interrupt()).
 * ops->config_read/config_write run on vCPU threads.  Callbacks must not
 * call hv_virtio_mmio_destroy() or destroy their own device.  The
 * transports' set_irq callbacks (hv_virtio_irq_fn) run with the device's
 * lock held (and virtio-pci's interrupt locks, hvlib/pci.h): they may call
 * hv_vm_irq_line() and the like, but nothing on this device or transport.
 *
 * Ownership: configs are copied; strings (paths, serials) are copied;
 * ops tables and opaque pointers are borrowed and must outlive the device.
 */
#ifndef HVLIB_VIRTIO_H
#define HVLIB_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "common.h"
#include "ioloop.h"
#include "mem.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_virtio_dev;
struct hv_virtq;

/* Device ids (virtio 1.2, 5). */
#define HV_VIRTIO_ID_NET     1u
#define HV_VIRTIO_ID_BLOCK   2u
#define HV_VIRTIO_ID_CONSOLE 3u
#define HV_VIRTIO_ID_RNG     4u

/* Device-independent feature bits that hvlib negotiates itself (offered
 * by every device, whatever its ops say). */
#define HV_VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define HV_VIRTIO_F_EVENT_IDX     (1ull << 29)
#define HV_VIRTIO_F_VERSION_1     (1ull << 32)

/* Device status bits (virtio 1.2, 2.1). */
#define HV_VIRTIO_STATUS_ACKNOWLEDGE  1u
#define HV_VIRTIO_STATUS_DRIVER       2u
#define HV_VIRTIO_STATUS_DRIVER_OK    4u
#define HV_VIRTIO_STATUS_FEATURES_OK  8u
#define HV_VIRTIO_STATUS_NEEDS_RESET  0x40u
#define HV_VIRTIO_STATUS_FAILED       0x80u

/* Largest queue hvlib serves (the spec allows 32768).  Also the longest
 * chain: a driver must not build one longer than its queue. */
#define HV_VIRTQ_MAX_SIZE 1024u
#define HV_VIRTIO_MAX_QUEUES 64u
#define HV_VIRTIO_MAX_CONFIG 256u /* bytes of device-specific config space */

/*
 * What a device is.  All callbacks get the opaque of struct
 * hv_virtio_dev_config.  Any callback may be NULL.
 */
struct hv_virtio_dev_ops {
	uint32_t size;          /* sizeof(struct hv_virtio_dev_ops) */
	uint32_t device_id;     /* HV_VIRTIO_ID_* or any other virtio device id */
	uint64_t features;      /* device-specific features offered (bits 0-23); the
				 * instance may add some (hv_virtio_dev_config.features) */
	uint32_t config_bytes;  /* size of the device-specific config space, at most
				 * HV_VIRTIO_MAX_CONFIG */
	uint32_t reserved;      /* must be 0 */
	/* Guest access to config space: len bytes at offset, already checked to
	 * lie inside config_bytes.  NULL read: zeros; NULL write: ignored. */
	void (*config_read)(void *opaque, uint32_t offset, void *buf, uint32_t len);
	void (*config_write)(void *opaque, uint32_t offset, const void *buf, uint32_t len);
	/* The driver notified queue `queue`: pop its requests (hv_virtq_pop()),
	 * serve them, push them back (hv_virtq_push()) and hv_virtq_notify().
	 * Inside this call hv_virtq_pop() on `queue` answers 0 after 64 chains
	 * (a budget) even if more wait; the core then calls notify again, on
	 * an ioloop after its other ready devices had their turn, so a guest
	 * keeping one queue full cannot keep the loop to itself.  Work that can
	 * block (disk I/O) belongs on the device's own thread, not here. */
	void (*notify)(void *opaque, struct hv_virtio_dev *dev, uint32_t queue);
	/* The driver reset the device (status 0): drop any
	 * request in flight; the queues are already stopped. */
	void (*reset)(void *opaque, struct hv_virtio_dev *dev);
	/*
	 * Appended later: tables built against older headers are shorter, and
	 * hvlib reads this only when size covers it.  The driver changed the device status to
	 * `status` (never 0: a reset calls reset instead), e.g. it set
	 * HV_VIRTIO_STATUS_DRIVER_OK, when a device with its own backend
	 * (vhost) starts it.  Runs on the vCPU thread with the device lock held,
	 * like reset: do not call hv_virtio_dev_*() functions that take it
	 * (needs_reset, config_changed, set_queue_notify_fd, queue_interrupt,
	 * hv_virtq_notify).  Return 0, or -errno to refuse: hvlib then sets
	 * DEVICE_NEEDS_RESET with hv_last_error() as the logged reason.
	 */
	int (*status)(void *opaque, struct hv_virtio_dev *dev, uint32_t status);
};

struct hv_virtio_dev_config {
	uint32_t size;          /* sizeof(struct hv_virtio_dev_config) */
	uint32_t flags;         /* none yet: must be 0 */
	const struct hv_virtio_dev_ops *ops; /* required; borrowed */
	void *opaque;           /* passed to every op */
	struct hv_vm *vm;       /* for logs and memory; may be NULL if mem is set */
	struct hv_mem *mem;     /* guest memory; NULL: hv_vm_mem(vm) */
	uint64_t features;      /* instance features, ORed to ops->features */
	uint32_t nr_queues;     /* 1 .. HV_VIRTIO_MAX_QUEUES */
	uint32_t queue_max_size; /* 1 .. HV_VIRTQ_MAX_SIZE; 0: 256 */
	const char *name;       /* for log messages ("virtio-blk0"); copied; NULL: "virtio" */
	/* Appended: serve queue notifications on this I/O thread (borrowed:
	 * it must outlive the device).  hvlib gives each queue an eventfd, which
	 * the transport has KVM signal directly (ioeventfd) where it can, and
	 * calls ops->notify from the loop when it fires.  NULL: ops->notify runs
	 * on the vCPU thread that wrote the notify register. */
	struct hv_ioloop *ioloop;
};

/* Fill *cfg with its size and defaults. */
HV_EXPORT void hv_virtio_dev_config_init(struct hv_virtio_dev_config *cfg);

/* A device in reset state.  Caller owns *out until hv_virtio_dev_destroy().
 * -EINVAL: bad config (the message names the field); -ENOMEM. */
HV_EXPORT int hv_virtio_dev_create(const struct hv_virtio_dev_config *cfg,
				   struct hv_virtio_dev **out);

/* Frees the device.  Destroy its transport first; a device destroyed with
 * its transport still attached logs a warning and detaches it (the
 * transport leaves the bus, waiting for accesses in flight, and its own
 * destroy later only frees it).  NULL: no-op. */
HV_EXPORT void hv_virtio_dev_destroy(struct hv_virtio_dev *dev);

/* Queue index of the device, borrowed; NULL if out of range. */
HV_EXPORT struct hv_virtq *hv_virtio_dev_queue(struct hv_virtio_dev *dev, uint32_t index);

/* Features the driver accepted (valid once it set FEATURES_OK). */
HV_EXPORT uint64_t hv_virtio_dev_features(const struct hv_virtio_dev *dev);

/* Current device status (HV_VIRTIO_STATUS_*). */
HV_EXPORT uint32_t hv_virtio_dev_status(const struct hv_virtio_dev *dev);

/* The device changed its config space: bump the generation and send a
 * configuration change interrupt. */
HV_EXPORT void hv_virtio_dev_config_changed(struct hv_virtio_dev *dev);

/* The device cannot go on: set DEVICE_NEEDS_RESET, interrupt the driver,
 * log why (once).  reason is copied into the log message. */
HV_EXPORT void hv_virtio_dev_needs_reset(struct hv_virtio_dev *dev, const char *reason);

/* Log through the device's VM (no-op without one), prefixed with its name. */
HV_EXPORT void hv_virtio_dev_log(struct hv_virtio_dev *dev, enum hv_log_level level,
				 const char *msg);

/*
 * Queue notifications straight to an eventfd (for devices served outside
 * the vCPU threads, e.g. by vhost): the driver's notifications of `queue`
 * signal fd (an eventfd, borrowed: keep it open while set) instead of
 * reaching ops->notify; fd -1 goes back to ops->notify.  May be called
 * before a transport is attached: the transport wires the fd when it
 * attaches (virtio-mmio: a KVM ioeventfd on QueueNotify; virtio-pci: one
 * on the queue's notify address, wherever the guest puts BAR 0), and unwires it
 * when it goes.  A transport that cannot (no VM, no KVM_CAP_IOEVENTFD)
 * leaves notifications on ops->notify, so a device should also accept them
 * there.  Not from ops callbacks.  -EINVAL: bad queue or fd; -ENOTSUP: the
 * attached transport cannot route notifications to an eventfd; KVM errors.
 */
HV_EXPORT int hv_virtio_dev_set_queue_notify_fd(struct hv_virtio_dev *dev, uint32_t queue,
						int fd);

/*
 * Raise the used-buffer interrupt for `queue` unconditionally (the queue's
 * MSI-X vector on virtio-pci, else the ISR queue bit), for backends that
 * already decided the driver wants one (vhost's call eventfd: it honours
 * VIRTIO_F_EVENT_IDX itself; hv_virtq_notify() decides for the others).  Dropped unless the driver
 * set DRIVER_OK.  Meant for device threads: the transport runs under the
 * device lock, so once hv_virtio_mmio_destroy() returns no call is inside it.
 * Not from ops callbacks.
 */
HV_EXPORT void hv_virtio_dev_queue_interrupt(struct hv_virtio_dev *dev, uint32_t queue);

/*
 * Requests.  A request is one descriptor chain: its buffers, in order,
 * readable (driver -> device) ones first, then writable ones.  Buffer
 * addresses are host pointers into guest memory, already checked; the guest
 * may still change their contents at any time, so copy what you validate.
 */
struct hv_virtq_buf {
	void *addr;
	uint32_t len;
	uint32_t writable;      /* 1: device-writable */
};

struct hv_virtq_req {
	uint32_t head;          /* chain head, for hv_virtq_push() */
	uint32_t nr_bufs;       /* entries of bufs[] filled */
	uint32_t nr_readable;   /* bufs[0 .. nr_readable) are readable, the rest writable */
	uint32_t generation;    /* queue incarnation, so a reset drops stale pushes */
	uint64_t readable_bytes;
	uint64_t writable_bytes;
	struct hv_virtq_buf *bufs; /* the caller's array */
};

/* Entries a bufs array needs to hold any chain of this queue. */
HV_EXPORT uint32_t hv_virtq_max_bufs(const struct hv_virtq *q);

/*
 * Take the next available chain.  bufs must hold max_bufs entries (use
 * hv_virtq_max_bufs(): a chain that does not fit is treated as broken).
 * Returns 1 with *req filled, 0 if the queue is empty (or not running),
 * -EIO if the chain (or the queue) is broken: the device is then marked
 * DEVICE_NEEDS_RESET and this queue serves nothing until a reset.  The
 * buffers' memory regions stay pinned (not removable) until every popped
 * request is pushed or the device is reset; a chain that would spread the
 * queue's unfinished buffers over more than 8 regions counts as broken.
 */
HV_EXPORT int hv_virtq_pop(struct hv_virtq *q, struct hv_virtq_buf *bufs, uint32_t max_bufs,
			   struct hv_virtq_req *req);

/* Hand a chain back as used, with `written` bytes written to its writable
 * buffers.  Stale requests (from before a reset) are dropped.  Does not
 * interrupt: call hv_virtq_notify() after a batch. */
HV_EXPORT void hv_virtq_push(struct hv_virtq *q, const struct hv_virtq_req *req,
			     uint32_t written);

/* Interrupt the driver if it asked to hear about the buffers used since the
 * last interrupt (VIRTIO_F_EVENT_IDX, or VIRTQ_AVAIL_F_NO_INTERRUPT). */
HV_EXPORT void hv_virtq_notify(struct hv_virtq *q);

/* Copy up to len bytes from the request's readable buffers, starting skip
 * bytes in; returns how many were copied. */
HV_EXPORT size_t hv_virtq_req_read(const struct hv_virtq_req *req, uint64_t skip, void *buf,
				   size_t len);
/* Copy up to len bytes into its writable buffers, skip bytes in; returns how
 * many were copied. */
HV_EXPORT size_t hv_virtq_req_write(const struct hv_virtq_req *req, uint64_t skip,
				    const void *buf, size_t len);

/*
 * virtio-mmio transport, version 2 (virtio 1.2, 4.2.2).  Its window is
 * HV_VIRTIO_MMIO_SIZE bytes: registers, then the config space at 0x100.
 */
struct hv_virtio_mmio;

#define HV_VIRTIO_MMIO_SIZE 0x1000u

/* Drive the interrupt line (1 asserted, 0 deasserted).  Runs on the thread
 * that raised the interrupt (a vCPU or a device's I/O thread) with the
 * device's lock held: it must not call back into the device. */
typedef void (*hv_virtio_irq_fn)(void *opaque, uint32_t irq, int level);

struct hv_virtio_mmio_config {
	uint32_t size;          /* sizeof(struct hv_virtio_mmio_config) */
	uint32_t flags;         /* none yet: must be 0 */
	uint64_t base;          /* guest-physical base, 4 KiB aligned */
	uint32_t irq;           /* interrupt line (GSI) */
	uint32_t reserved;      /* must be 0 */
	struct hv_vm *vm;       /* bus and interrupts of this VM, unless set below */
	struct hv_bus *bus;     /* NULL: hv_vm_bus(vm, HV_BUS_MMIO) */
	hv_virtio_irq_fn set_irq; /* NULL: hv_vm_irq_line(vm, ...) */
	void *irq_opaque;
};

HV_EXPORT void hv_virtio_mmio_config_init(struct hv_virtio_mmio_config *cfg);

/* Put dev on the bus at cfg->base.  Caller owns *out until
 * hv_virtio_mmio_destroy(); dev must outlive it.  -EINVAL (bad config),
 * -EBUSY (dev already has a transport), -EEXIST (window taken), -ENOMEM. */
HV_EXPORT int hv_virtio_mmio_create(struct hv_virtio_dev *dev,
				    const struct hv_virtio_mmio_config *cfg,
				    struct hv_virtio_mmio **out);

/* Leaves the bus (waiting for accesses in flight) and frees.  NULL: no-op. */
HV_EXPORT void hv_virtio_mmio_destroy(struct hv_virtio_mmio *mmio);

/* One guest access, as hv_io_fn (exposed for tests and other buses). */
HV_EXPORT int hv_virtio_mmio_io(struct hv_virtio_mmio *mmio, uint64_t offset, uint32_t width,
				bool is_write, uint64_t *value);

/*
 * virtio-blk over a raw image file.  Requests: read, write, flush
 * (fdatasync: acknowledged flushes survive a host crash), get id (the
 * serial), discard (hole punching) and write zeroes.  A read-only disk
 * offers VIRTIO_BLK_F_RO and fails writes with VIRTIO_BLK_S_IOERR.
 * Capacity is the file size rounded down to 512 bytes.
 */
struct hv_virtio_blk;

#define HV_VIRTIO_BLK_F_READONLY (1u << 0)
#define HV_VIRTIO_BLK_F_ALL      0x1u
#define HV_VIRTIO_BLK_ID_BYTES   20u

struct hv_virtio_blk_config {
	uint32_t size;          /* sizeof(struct hv_virtio_blk_config) */
	uint32_t flags;         /* HV_VIRTIO_BLK_F_*; unknown bits: -EINVAL */
	const char *path;       /* image file (opened O_RDWR, or O_RDONLY when read-only) */
	const char *serial;     /* GET_ID answer, up to 20 bytes; NULL: none */
	struct hv_vm *vm;       /* as struct hv_virtio_dev_config */
	struct hv_mem *mem;
	const char *name;       /* for logs; NULL: "virtio-blk" */
	/* As struct hv_virtio_dev_config; borrowed.  Given one, the disk gets
	 * its own worker thread for the I/O (the loop only wakes it): a slow
	 * disk then holds up this disk alone, never the loop's other devices. */
	struct hv_ioloop *ioloop;
};

HV_EXPORT void hv_virtio_blk_config_init(struct hv_virtio_blk_config *cfg);
/* -EINVAL, -ENOENT/-EACCES/... (opening the file, named in the message),
 * -ENOMEM, -EAGAIN (starting the worker thread). */
HV_EXPORT int hv_virtio_blk_create(const struct hv_virtio_blk_config *cfg,
				   struct hv_virtio_blk **out);
HV_EXPORT void hv_virtio_blk_destroy(struct hv_virtio_blk *blk); /* NULL: no-op */
/* The virtio device, for a transport; owned by blk. */
HV_EXPORT struct hv_virtio_dev *hv_virtio_blk_dev(struct hv_virtio_blk *blk);

/* virtio-rng: entropy from getrandom(). */
struct hv_virtio_rng;

struct hv_virtio_rng_config {
	uint32_t size;          /* sizeof(struct hv_virtio_rng_config) */
	uint32_t flags;         /* none yet: must be 0 */
	struct hv_vm *vm;
	struct hv_mem *mem;
	const char *name;       /* NULL: "virtio-rng" */
	struct hv_ioloop *ioloop; /* as struct hv_virtio_dev_config; borrowed */
};

HV_EXPORT void hv_virtio_rng_config_init(struct hv_virtio_rng_config *cfg);
HV_EXPORT int hv_virtio_rng_create(const struct hv_virtio_rng_config *cfg,
				   struct hv_virtio_rng **out);
HV_EXPORT void hv_virtio_rng_destroy(struct hv_virtio_rng *rng); /* NULL: no-op */
HV_EXPORT struct hv_virtio_dev *hv_virtio_rng_dev(struct hv_virtio_rng *rng);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VIRTIO_H */
