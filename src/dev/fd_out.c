/* SPDX-License-Identifier: MIT */
/* Bounded, signal-safe output to a borrowed file descriptor (see fd_out.h). */
#include "dev/fd_out.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

/* Small enough that a write after POLLOUT never blocks: a pipe that polls
 * writable has a free page, a terminal at least its wakeup threshold. */
#define HV_FD_CHUNK 256

int hv_fd_out_init(struct hv_fd_out *out, int fd, int timeout_ms)
{
	struct stat st;

	out->fd = fd;
	out->timeout_ms = timeout_ms;
	out->kind = HV_FD_PLAIN;
	out->stalled = false;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st))
		return hv_err_sys(-errno, "output fd %d", fd);
	if (S_ISSOCK(st.st_mode))
		out->kind = HV_FD_SOCKET;
	else if (S_ISFIFO(st.st_mode))
		out->kind = HV_FD_PIPE;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is writable or has an error for write() to report; false
 * once the deadline (-1: none) has passed. */
static bool wait_writable(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int n;

		if (deadline >= 0 && left < 0)
			left = 0;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return true;
		if (n == 0 && deadline >= 0 && now_ms() >= deadline)
			return false;
		if (n < 0 && errno != EINTR)
			return true; /* let write() report what is wrong */
	}
}

/* write() to a pipe whose reader has gone raises SIGPIPE, which would kill
 * the embedder.  Block it for this thread around the write and consume the
 * one the write raised (it is directed at this thread), unless one was
 * already pending before. */
static ssize_t write_pipe(int fd, const uint8_t *buf, size_t len)
{
	static const struct timespec no_wait = { 0, 0 };
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int err;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	n = write(fd, buf, len);
	err = errno;
	if (n < 0 && err == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &no_wait) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

static ssize_t write_chunk(const struct hv_fd_out *out, const uint8_t *buf, size_t len)
{
	switch (out->kind) {
	case HV_FD_SOCKET:
		return send(out->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	case HV_FD_PIPE:
		return write_pipe(out->fd, buf, len);
	default:
		return write(out->fd, buf, len);
	}
}

size_t hv_fd_out_write(struct hv_fd_out *out, const uint8_t *buf, size_t len)
{
	int64_t deadline;
	size_t done = 0;

	if (out->fd < 0 || len == 0)
		return 0;
	/* A reader that let us time out is not waited for again until it
	 * drains: one lost second per stall, not one per byte. */
	if (out->stalled) {
		if (!wait_writable(out->fd, now_ms()))
			return 0;
		out->stalled = false;
	}
	deadline = out->timeout_ms < 0 ? -1 : now_ms() + out->timeout_ms;
	while (done < len) {
		size_t chunk = len - done < HV_FD_CHUNK ? len - done : HV_FD_CHUNK;
		ssize_t n;

		if (!wait_writable(out->fd, deadline)) {
			out->stalled = true;
			break;
		}
		n = write_chunk(out, buf + done, chunk);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		break; /* EPIPE, EIO (hung-up terminal), EBADF...: nobody to tell */
	}
	return done;
}
