/* SPDX-License-Identifier: MIT */
/*
 * UART output batching.  Each THR write is a vCPU exit carrying one byte;
 * handing every byte to the embedder on its own costs a callback (or a
 * write()) per byte.  With an ioloop, bytes gather in a small buffer that
 * goes out at a newline, when it is full, or TX_FLUSH_NS after the first
 * byte that found it empty (a timerfd on the ioloop): a log arrives in
 * lines, and an interactive echo or a prompt without a newline waits at
 * most 2 ms, well below what a person at a terminal notices.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "dev/serial_internal.h"
#include "util/error.h"

#define TX_FLUSH_NS 2000000L

static void tx_emit(struct hv_serial *s, const uint8_t *buf, size_t len)
{
	if (s->cfg.output)
		s->cfg.output(s->cfg.opaque, buf, len);
	else
		hv_fd_out_write(&s->fd_out, buf, len);
}

static void tx_flush(struct hv_serial *s)
{
	if (s->tx_len)
		tx_emit(s, s->tx_buf, s->tx_len);
	s->tx_len = 0;
}

/* The deadline passed (ioloop thread). */
static void tx_timer(void *opaque, int fd, uint32_t events)
{
	struct hv_serial *s = opaque;
	uint64_t expirations;

	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return; /* EAGAIN: a re-arm raced the expiry; it fires again */
	pthread_mutex_lock(&s->tx_lock);
	s->tx_timer_armed = false;
	tx_flush(s);
	pthread_mutex_unlock(&s->tx_lock);
}

void hv_serial_tx_byte(struct hv_serial *s, uint8_t byte)
{
	struct itimerspec deadline = { .it_value = { .tv_nsec = TX_FLUSH_NS } };

	if (s->tx_timer_fd < 0) {
		tx_emit(s, &byte, 1);
		return;
	}
	s->tx_buf[s->tx_len++] = byte;
	if (byte == '\n' || s->tx_len == sizeof(s->tx_buf)) {
		tx_flush(s); /* an armed timer finds nothing and is harmless */
		return;
	}
	if (!s->tx_timer_armed && !timerfd_settime(s->tx_timer_fd, 0, &deadline, NULL))
		s->tx_timer_armed = true;
	if (!s->tx_timer_armed)
		tx_flush(s); /* no timer: never hold bytes back */
}

int hv_serial_tx_init(struct hv_serial *s)
{
	int ret;

	s->tx_timer_fd = -1;
	if (!s->cfg.ioloop)
		return 0;
	s->tx_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->tx_timer_fd < 0)
		return hv_err_sys(-errno, "UART: creating the output timer");
	ret = hv_ioloop_add(s->cfg.ioloop, s->tx_timer_fd, HV_IOLOOP_IN, tx_timer, s);
	if (ret) {
		close(s->tx_timer_fd);
		s->tx_timer_fd = -1;
		return hv_err_context(ret, "UART: output timer");
	}
	return 0;
}

void hv_serial_tx_fini(struct hv_serial *s)
{
	if (s->tx_timer_fd < 0)
		return;
	/* After this the timer callback never runs again: flush what is left. */
	hv_ioloop_remove(s->cfg.ioloop, s->tx_timer_fd);
	close(s->tx_timer_fd);
	s->tx_timer_fd = -1;
	pthread_mutex_lock(&s->tx_lock);
	tx_flush(s);
	pthread_mutex_unlock(&s->tx_lock);
}
