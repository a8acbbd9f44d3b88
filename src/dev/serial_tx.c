/* SPDX-License-Identifier: MIT */
/*
 * UART output batching.  Each THR write is a vCPU exit carrying one byte;
 * handing every byte to the embedder on its own costs a callback (or a
 * write()) per byte.  With an ioloop, bytes gather in a small buffer that
 * goes out at a newline, when it is full, once the guest has written
 * nothing for TX_IDLE_NS, or at the latest TX_HOLD_NS after the run's first
 * byte (a timerfd on the ioloop checks both).  So a log arrives in lines,
 * an interactive echo or a prompt without a newline waits 2 ms, and a
 * stream without newlines at most 20 ms: below what a person at a terminal
 * notices.  Idleness, not a fixed deadline, ends a run, so a slow guest
 * (a loaded host, nested or emulated KVM: tens of microseconds a byte)
 * still gets its lines out whole.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dev/serial_internal.h"
#include "util/error.h"

#define TX_IDLE_NS 2000000ull  /* quiet this long: hand the run on */
#define TX_HOLD_NS 20000000ull /* never hold a byte longer */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Fire after ns (tx_lock held); false if the timer cannot be set. */
static bool tx_arm(struct hv_serial *s, uint64_t ns)
{
	struct itimerspec t = { .it_value = { .tv_sec = (time_t)(ns / 1000000000ull),
					      .tv_nsec = (long)(ns % 1000000000ull) } };

	if (!ns)
		t.it_value.tv_nsec = 1; /* 0 would disarm */
	s->tx_timer_armed = !timerfd_settime(s->tx_timer_fd, 0, &t, NULL);
	return s->tx_timer_armed;
}

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

/* The timer fired (ioloop thread): hand the run on if the guest went
 * quiet or the run is old enough, else look again when it might be. */
static void tx_timer(void *opaque, int fd, uint32_t events)
{
	struct hv_serial *s = opaque;
	uint64_t expirations, now, idle_at, hold_at;

	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return; /* EAGAIN: a re-arm raced the expiry; it fires again */
	pthread_mutex_lock(&s->tx_lock);
	s->tx_timer_armed = false;
	if (s->tx_len) {
		now = now_ns();
		idle_at = s->tx_last_ns + TX_IDLE_NS;
		hold_at = s->tx_first_ns + TX_HOLD_NS;
		if (idle_at > hold_at)
			idle_at = hold_at;
		if (now >= idle_at || !tx_arm(s, idle_at - now))
			tx_flush(s);
	}
	pthread_mutex_unlock(&s->tx_lock);
}

void hv_serial_tx_byte(struct hv_serial *s, uint8_t byte)
{
	if (s->tx_timer_fd < 0) {
		tx_emit(s, &byte, 1);
		return;
	}
	s->tx_last_ns = now_ns();
	if (!s->tx_len)
		s->tx_first_ns = s->tx_last_ns;
	s->tx_buf[s->tx_len++] = byte;
	if (byte == '\n' || s->tx_len == sizeof(s->tx_buf)) {
		tx_flush(s); /* an armed timer finds nothing and is harmless */
		return;
	}
	if (!s->tx_timer_armed && !tx_arm(s, TX_IDLE_NS))
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
