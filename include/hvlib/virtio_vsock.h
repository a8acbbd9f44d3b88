/* SPDX-License-Identifier: MIT */
/*
 * hvlib/virtio_vsock.h - virtio-vsock (device id 19) backed by the kernel's
 * vhost-vsock, so host processes reach the guest with AF_VSOCK sockets
 * (connect to the guest's CID) and the guest reaches the host (CID 2).
 *
 * The data path never enters hvlib: the guest's notifications of the rx
 * and tx queues go to eventfds through the transport (virtio-mmio: KVM
 * ioeventfds), vhost moves the packets, and vhost's "call" eventfds are
 * turned into the transport's interrupt (with the ISR queue bit, which
 * virtio-mmio's guest handler checks first) by one small I/O thread the
 * device owns.  The event queue (queue 2) is served by hvlib and stays
 * empty (there is no migration to announce).
 *
 * Life cycle: hv_virtio_vsock_create() opens /dev/vhost-vsock and claims
 * the CID at once, so a missing module or a taken CID fails there, not at
 * guest boot.  When the driver sets DRIVER_OK, vhost gets the negotiated
 * features, the guest memory map (RAM regions as they are then; ROM regions
 * are left out, so vhost never writes them) and the rings (translated and
 * bounds-checked in guest memory); a guest that set up its rings wrongly
 * breaks only this device (DEVICE_NEEDS_RESET).  A reset stops vhost;
 * destroy stops vhost, joins the I/O thread and closes every descriptor.
 *
 * Call order: as any device (hvlib/virtio.h): create -> a transport ->
 * run -> destroy the transport -> hv_virtio_vsock_destroy() -> destroy the
 * VM.  Guest memory regions must not be removed while the device runs.
 *
 * Threading: create/destroy from one thread.  The device's callbacks run on
 * vCPU threads; its I/O thread only raises interrupts.  Needs read-write
 * access to /dev/vhost-vsock (usually root, or a udev rule).
 *
 * Ownership: the config is copied; the device borrows the VM.
 */
#ifndef HVLIB_VIRTIO_VSOCK_H
#define HVLIB_VIRTIO_VSOCK_H

#include <stdint.h>

#include "common.h"
#include "virtio.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HV_VIRTIO_ID_VSOCK 19u

/* Device feature: SOCK_SEQPACKET (offered when vhost supports it). */
#define HV_VIRTIO_VSOCK_F_SEQPACKET (1ull << 1)

/* Reserved CIDs: a guest needs 3 .. 0xfffffffe. */
#define HV_VSOCK_CID_HOST 2u
#define HV_VSOCK_CID_MIN  3u
#define HV_VSOCK_CID_MAX  0xfffffffeu

struct hv_virtio_vsock;

struct hv_virtio_vsock_config {
	uint32_t size;          /* sizeof(struct hv_virtio_vsock_config) */
	uint32_t flags;         /* none yet: must be 0 */
	uint64_t guest_cid;     /* HV_VSOCK_CID_MIN .. HV_VSOCK_CID_MAX, unique on the host */
	struct hv_vm *vm;       /* required: guest memory and logs */
	const char *vhost_path; /* NULL: "/dev/vhost-vsock" */
	const char *name;       /* for logs; NULL: "virtio-vsock" */
};

HV_EXPORT void hv_virtio_vsock_config_init(struct hv_virtio_vsock_config *cfg);

/*
 * Create the device and claim guest_cid.  Caller owns *out until
 * hv_virtio_vsock_destroy().  -EINVAL: bad config or CID (the message says
 * which); -ENOENT: no /dev/vhost-vsock (load it: modprobe vhost_vsock);
 * -EACCES: no permission on it; -EADDRINUSE: another VM on this host has
 * that CID; -ENOTSUP: not a vhost-vsock device, or it lacks a feature hvlib
 * needs; -ENOMEM; other errors with context.
 */
HV_EXPORT int hv_virtio_vsock_create(const struct hv_virtio_vsock_config *cfg,
				     struct hv_virtio_vsock **out);

/* Stop vhost, join the I/O thread, close every fd, free.  Its transport must
 * be destroyed first.  NULL: no-op. */
HV_EXPORT void hv_virtio_vsock_destroy(struct hv_virtio_vsock *vsock);

/* The virtio device, for a transport; owned by vsock. */
HV_EXPORT struct hv_virtio_dev *hv_virtio_vsock_dev(struct hv_virtio_vsock *vsock);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VIRTIO_VSOCK_H */
