/* SPDX-License-Identifier: MIT */
/*
 * Device output to a borrowed file descriptor (a terminal, pipe, socket or
 * file) on a vCPU thread, which must never hang there: every write is
 * preceded by a bounded wait for the fd to become writable, a reader that
 * went away costs neither a SIGPIPE nor an error to the guest, and once a
 * wait has timed out further output is dropped without waiting until the fd
 * is writable again.
 */
#ifndef HV_DEV_FD_OUT_H
#define HV_DEV_FD_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hv_fd_kind {
	HV_FD_PLAIN = 0, /* terminal, file, character device: plain write() */
	HV_FD_PIPE = 1,  /* write() with SIGPIPE blocked and swallowed */
	HV_FD_SOCKET = 2, /* send(MSG_NOSIGNAL) */
};

struct hv_fd_out {
	int fd;             /* -1: output discarded */
	int timeout_ms;     /* per call; -1: wait forever */
	enum hv_fd_kind kind;
	bool stalled;       /* the last call timed out */
};

/* Bind to fd (or -1).  -EBADF: fd is not open (the message says so). */
int hv_fd_out_init(struct hv_fd_out *out, int fd, int timeout_ms);

/* Write buf to the fd unless it fails or stays full for timeout_ms.
 * Returns how many bytes were written; the rest is dropped.  Not thread-safe
 * for one struct hv_fd_out. */
size_t hv_fd_out_write(struct hv_fd_out *out, const uint8_t *buf, size_t len);

#endif /* HV_DEV_FD_OUT_H */
