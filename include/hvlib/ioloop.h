/* SPDX-License-Identifier: MIT */
/*
 * hvlib/ioloop.h - an I/O thread: one thread waiting (epoll) on registered
 * descriptors and calling a callback for each one that is ready.  Virtio
 * devices given an ioloop (hv_virtio_dev_config.ioloop) serve their queue
 * notifications here, from eventfds KVM signals, instead of on the vCPU
 * that wrote the notify register.
 *
 * Threading: hv_ioloop_add() and hv_ioloop_remove() may be called from any
 * thread, including from inside a callback.  Callbacks run one at a time, on
 * the loop's thread, with every signal blocked and no hvlib lock held.  Once
 * hv_ioloop_remove() returns, that fd's callback is not running and never
 * runs again (called from the callback itself, it returns at once and the
 * callback is simply not called again).  Readiness is level-triggered: a
 * callback that leaves its fd readable is called again.
 *
 * Fairness: each round calls every ready fd once (32 at a time; epoll puts
 * those just reported behind the others still waiting).  A callback with
 * more work than one turn's worth returns and leaves its fd readable (or
 * signals it again) instead of looping, and never blocks: one busy fd then
 * costs the others a turn, not the thread.  Virtio queues work that way
 * (64 chains a turn); virtio-blk's disk I/O runs on a thread of its own.
 *
 * Ownership: registered descriptors are borrowed: the loop never closes
 * them; remove one before closing it.  The loop owns its thread and its own
 * descriptors, all released by hv_ioloop_destroy(), which must not be called
 * from a callback.
 *
 * Teardown order: remove every registration, then destroy the loop.  A loop
 * destroyed first (a device still on it) stops its thread and closes its own
 * descriptors at once; its memory stays until each remaining registration is
 * removed with hv_ioloop_remove(), so a later removal is never a
 * use-after-free (hv_ioloop_add() then fails with -ESHUTDOWN).
 */
#ifndef HVLIB_IOLOOP_H
#define HVLIB_IOLOOP_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_ioloop;

/* Readiness bits, for hv_ioloop_add() and the callback. */
#define HV_IOLOOP_IN  (1u << 0) /* readable (or EOF) */
#define HV_IOLOOP_OUT (1u << 1) /* writable */
#define HV_IOLOOP_ERR (1u << 2) /* error or hang-up: reported whatever was asked */
#define HV_IOLOOP_ALL 0x3u      /* bits hv_ioloop_add() accepts */

/* fd is ready for `events` (HV_IOLOOP_*). */
typedef void (*hv_ioloop_fn)(void *opaque, int fd, uint32_t events);

/* Start a loop and its thread.  Caller owns *out until hv_ioloop_destroy().
 * -ENOMEM, -EMFILE, or the error starting the thread. */
HV_EXPORT int hv_ioloop_create(struct hv_ioloop **out);

/* Stop the thread (waiting for a callback in progress), close the loop's
 * descriptors and free; with registrations left, the memory is freed by the
 * removal of the last one (see above).  NULL: no-op.  Not from a callback. */
HV_EXPORT void hv_ioloop_destroy(struct hv_ioloop *loop);

/* Call fn(opaque, fd, ready) whenever fd is ready for some of `events`.
 * -EINVAL: bad fd or events (0 or unknown bits); -EEXIST: fd is already
 * registered; -EPERM: fd does not support polling (a regular file);
 * -ESHUTDOWN: the loop was destroyed; -ENOMEM. */
HV_EXPORT int hv_ioloop_add(struct hv_ioloop *loop, int fd, uint32_t events, hv_ioloop_fn fn,
			    void *opaque);

/* Stop watching fd; see the guarantee above.  -ENOENT: not registered. */
HV_EXPORT int hv_ioloop_remove(struct hv_ioloop *loop, int fd);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_IOLOOP_H */
