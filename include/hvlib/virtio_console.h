/* SPDX-License-Identifier: MIT */
/*
 * hvlib/virtio_console.h - virtio-console (virtio 1.2, 5.3): one console
 * port (Linux's /dev/hvc0), written against the device interface of
 * hvlib/virtio.h like any embedder's device.
 *
 * Queues: receiveq (0) and transmitq (1) of port 0.  VIRTIO_CONSOLE_F_SIZE
 * is offered when the config gives a size, VIRTIO_CONSOLE_F_EMERG_WRITE
 * always; VIRTIO_CONSOLE_F_MULTIPORT is not (a driver that asks for it
 * simply does not get it, and uses port 0 alone).
 *
 * Output (guest -> host): the bytes of each transmit chain, in order, go to
 * config.output or, if that is NULL, to config.output_fd (bounded waits, no
 * SIGPIPE: a stuck reader costs the guest at most output_timeout_ms).
 * Input (host -> guest): hv_virtio_console_input() copies bytes into a
 * bounded host-side buffer (input_bytes) and hands them to the guest's
 * receive buffers as soon as it has posted some; bytes that do not fit the
 * host-side buffer are refused (the return value says how many were taken),
 * never dropped.  Input that arrives while the driver has no buffers (or is
 * not loaded yet) waits there until the driver posts buffers and notifies.
 *
 * Call order: hv_virtio_console_config_init() -> hv_virtio_console_create()
 * -> hv_virtio_mmio_create(hv_virtio_console_dev(c), ...) -> run the guest
 * -> stop the vCPUs -> hv_virtio_mmio_destroy() ->
 * hv_virtio_console_destroy().
 *
 * Threading: hv_virtio_console_input() and hv_virtio_console_set_size() may
 * be called from any thread, concurrently with the guest, until destroy
 * begins.  The output callback runs on the thread serving the transmit
 * queue's notifications (the vCPU that notified it, or the device's ioloop
 * thread when it has one; emergency writes: the vCPU), one call at a
 * time per device (a lock keeps the bytes in guest order); it must not call
 * back into this device.  Interrupts are raised from whichever thread
 * delivered input (a vCPU or ioloop thread, or the caller of
 * hv_virtio_console_input()).
 *
 * Ownership: the config is copied; output_fd is borrowed and must stay open
 * until destroy; the device returned by hv_virtio_console_dev() is owned by
 * the console.
 */
#ifndef HVLIB_VIRTIO_CONSOLE_H
#define HVLIB_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "mem.h"
#include "virtio.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_virtio_console;

/* Bytes the guest wrote to the console; buf is only valid during the call. */
typedef void (*hv_virtio_console_output_fn)(void *opaque, const uint8_t *buf, size_t len);

#define HV_VIRTIO_CONSOLE_DEFAULT_INPUT 4096u   /* default input_bytes */
#define HV_VIRTIO_CONSOLE_MAX_INPUT     (1u << 20)

struct hv_virtio_console_config {
	uint32_t size;          /* sizeof(struct hv_virtio_console_config) */
	uint32_t flags;         /* none yet: must be 0 */
	hv_virtio_console_output_fn output; /* NULL: use output_fd */
	void *opaque;           /* passed to output */
	int32_t output_fd;      /* -1 (default): output discarded; output must be NULL */
	int32_t output_timeout_ms; /* per write to output_fd: -1 forever; default 1000 */
	uint16_t cols, rows;    /* console size for the guest; 0, 0: not offered */
	uint32_t input_bytes;   /* host-side input buffer; 0: default; at most MAX_INPUT */
	struct hv_vm *vm;       /* as struct hv_virtio_dev_config */
	struct hv_mem *mem;
	const char *name;       /* for logs; NULL: "virtio-console" */
	struct hv_ioloop *ioloop; /* as struct hv_virtio_dev_config; borrowed */
};

/* Fill *cfg with its size and defaults (output_fd -1, timeout 1000 ms). */
HV_EXPORT void hv_virtio_console_config_init(struct hv_virtio_console_config *cfg);

/* Caller owns *out until hv_virtio_console_destroy().  -EINVAL: bad config
 * (the message names the field); -EBADF: output_fd is not open; -ENOMEM. */
HV_EXPORT int hv_virtio_console_create(const struct hv_virtio_console_config *cfg,
				       struct hv_virtio_console **out);

/* Frees the console; its transport must be destroyed first.  NULL: no-op. */
HV_EXPORT void hv_virtio_console_destroy(struct hv_virtio_console *con);

/* The virtio device, for a transport; owned by con. */
HV_EXPORT struct hv_virtio_dev *hv_virtio_console_dev(struct hv_virtio_console *con);

/* Bytes typed into the console (host -> guest).  Returns how many were
 * accepted (0..len): fewer once the host-side buffer is full; offer the
 * rest again later.  len 0 just retries delivering what is buffered. */
HV_EXPORT size_t hv_virtio_console_input(struct hv_virtio_console *con, const uint8_t *data,
					 size_t len);

/* Tell the guest a new console size (with VIRTIO_CONSOLE_F_SIZE: a config
 * change interrupt).  -EINVAL if the console was created without a size. */
HV_EXPORT int hv_virtio_console_set_size(struct hv_virtio_console *con, uint16_t cols,
					 uint16_t rows);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VIRTIO_CONSOLE_H */
