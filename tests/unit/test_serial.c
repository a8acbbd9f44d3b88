/* SPDX-License-Identifier: MIT */
/*
 * The 16550A UART without a VM: the register sequences Linux's 8250 driver
 * uses to detect and drive it, interrupts as seen through set_irq, output to
 * a callback and to a pipe, and input racing guest reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/serial.h"
#include "unit/unit_util.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

/* What the embedder's callbacks saw. */
struct rec {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t out[8192];
	size_t out_len;
	int level;           /* last level given to set_irq */
	int irq_calls;
	int repeats;         /* set_irq calls that did not change the level */
	int rx_ready;
};

struct fix {
	struct rec rec;
	struct hv_serial *s;
};

static void on_output(void *opaque, const uint8_t *buf, size_t len)
{
	struct rec *r = opaque;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < len; i++)
		if (r->out_len < sizeof(r->out))
			r->out[r->out_len++] = buf[i];
	pthread_mutex_unlock(&r->lock);
}

static void on_irq(void *opaque, int level)
{
	struct rec *r = opaque;

	pthread_mutex_lock(&r->lock);
	if (level == r->level)
		r->repeats++;
	r->level = level;
	r->irq_calls++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void on_rx_ready(void *opaque)
{
	struct rec *r = opaque;

	pthread_mutex_lock(&r->lock);
	r->rx_ready++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static int setup(void **state)
{
	struct hv_serial_config cfg;
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	pthread_mutex_init(&f->rec.lock, NULL);
	pthread_cond_init(&f->rec.cond, NULL);
	hv_serial_config_init(&cfg);
	cfg.output = on_output;
	cfg.set_irq = on_irq;
	cfg.rx_ready = on_rx_ready;
	cfg.opaque = &f->rec;
	if (hv_serial_create(&cfg, &f->s))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	hv_serial_destroy(f->s);
	assert_int_equal(f->rec.repeats, 0); /* set_irq only on a change */
	pthread_cond_destroy(&f->rec.cond);
	pthread_mutex_destroy(&f->rec.lock);
	free(f);
	return 0;
}

static uint8_t rd(struct hv_serial *s, unsigned reg)
{
	uint64_t v = 0xdeadbeef;

	expect_ret(hv_serial_io(s, reg, 1, false, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void wr(struct hv_serial *s, unsigned reg, uint8_t val)
{
	uint64_t v = val;

	expect_ret(hv_serial_io(s, reg, 1, true, &v), 0);
}

static int level(struct fix *f)
{
	int l;

	pthread_mutex_lock(&f->rec.lock);
	l = f->rec.level;
	pthread_mutex_unlock(&f->rec.lock);
	return l;
}

/* drivers/tty/serial/8250/8250_port.c autoconfig(), step by step. */
static void test_linux_autoconfig(void **state)
{
	struct hv_serial *s = ((struct fix *)*state)->s;
	uint8_t save_ier = rd(s, IER);

	/* IER as a scratch register: bits 0-3 hold what is written. */
	wr(s, IER, 0);
	assert_int_equal(rd(s, IER) & 0x0f, 0);
	wr(s, IER, 0x0f);
	assert_int_equal(rd(s, IER) & 0x0f, 0x0f);
	wr(s, IER, save_ier);

	/* Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	wr(s, MCR, 0x10 | 0x0a);
	assert_int_equal(rd(s, MSR) & 0xf0, 0x90);
	wr(s, MCR, 0x10 | 0x01);
	assert_int_equal(rd(s, MSR) & 0xf0, 0x20);
	wr(s, MCR, 0x10 | 0x04);
	assert_int_equal(rd(s, MSR) & 0xf0, 0x40);
	wr(s, MCR, 0x1f);
	assert_int_equal(rd(s, MSR) & 0xf0, 0xf0);
	wr(s, MCR, 0);

	/* No EFR behind LCR 0xbf; then FIFO enable shows IIR bits 7:6 = 11. */
	wr(s, LCR, 0xbf);
	wr(s, 2, 0);
	wr(s, LCR, 0);
	wr(s, FCR, 0x01);
	assert_int_equal(rd(s, IIR) >> 6, 3);

	/* autoconfig_16550a(): EFR probes under DLAB read IIR, not 0. */
	wr(s, LCR, 0x80);
	assert_int_not_equal(rd(s, 2), 0);
	wr(s, LCR, 0xbf);
	assert_int_not_equal(rd(s, 2), 0);
	/* Not a 16750: IIR bit 5 stays 0 with FCR 0x20, DLAB or not. */
	wr(s, LCR, 0);
	wr(s, FCR, 0x21);
	assert_int_equal(rd(s, IIR) >> 5, 6);
	wr(s, FCR, 0x01);
	wr(s, LCR, 0x80);
	wr(s, FCR, 0x21);
	assert_int_equal(rd(s, IIR) >> 5, 6);
	wr(s, FCR, 0x01);
	wr(s, LCR, 0);
	/* Not an XScale: IER bit 6 (UUE) does not stick. */
	wr(s, IER, 0x40);
	assert_int_equal(rd(s, IER), 0);

	/* The classic probe: FCR 0xe7 then IIR bits 7:6. */
	wr(s, FCR, 0xe7);
	assert_int_equal(rd(s, IIR) & 0xc0, 0xc0);
	wr(s, FCR, 0);
	assert_int_equal(rd(s, IIR), 0x01);

	/* Scratch register (the 8250/16450 test). */
	wr(s, SCR, 0xa5);
	assert_int_equal(rd(s, SCR), 0xa5);
	wr(s, SCR, 0x5a);
	assert_int_equal(rd(s, SCR), 0x5a);

	/* Divisor latch behind DLAB; IER and RBR/THR come back without it. */
	wr(s, IER, 0x05);
	wr(s, LCR, 0x83);
	wr(s, DLL, 0x01);
	wr(s, DLM, 0x00);
	assert_int_equal(rd(s, DLL), 0x01);
	assert_int_equal(rd(s, DLM), 0x00);
	assert_int_equal(rd(s, LCR), 0x83);
	wr(s, LCR, 0x03);
	assert_int_equal(rd(s, IER), 0x05);
	assert_int_equal(((struct fix *)*state)->rec.out_len, 0); /* DLL was no THR */
	/* serial8250_startup() bails out on LSR 0xff. */
	assert_int_equal(rd(s, LSR), 0x60);
}

/* size_fifo(), which autoconfig_16550a() runs last: loop 256 bytes back
 * and count what the receiver kept.  64 would make Linux take the port for
 * a U6_16550A; a 16550A keeps 16. */
static void test_linux_size_fifo(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;
	int count = 0;

	wr(s, LCR, 0);
	wr(s, FCR, 0x07);
	wr(s, MCR, 0x10);
	wr(s, LCR, 0x80);
	wr(s, DLL, 0x01);
	wr(s, DLM, 0x00);
	wr(s, LCR, 0x03);
	for (int i = 0; i < 256; i++)
		wr(s, THR, (uint8_t)i);
	while ((rd(s, LSR) & 0x01) && count < 256) {
		assert_int_equal(rd(s, RBR), count);
		count++;
	}
	assert_int_equal(count, 16);
	wr(s, MCR, 0);
	assert_int_equal(f->rec.out_len, 0); /* loopback sent nothing out */
}

/* The boot console: poll LSR for THRE/TEMT, write THR. */
static void test_polled_tx(void **state)
{
	struct fix *f = *state;
	static const char msg[] = "Linux version 6.1.0\r\n";

	for (size_t i = 0; i < sizeof(msg) - 1; i++) {
		while (!(rd(f->s, LSR) & 0x20))
			;
		wr(f->s, THR, (uint8_t)msg[i]);
		assert_int_equal(rd(f->s, LSR) & 0x60, 0x60);
	}
	assert_int_equal(f->rec.out_len, sizeof(msg) - 1);
	assert_memory_equal(f->rec.out, msg, sizeof(msg) - 1);
	/* In loopback the byte goes to the receiver, not the line. */
	wr(f->s, MCR, 0x10);
	wr(f->s, THR, 'L');
	assert_int_equal(f->rec.out_len, sizeof(msg) - 1);
	assert_int_equal(rd(f->s, LSR) & 0x01, 1);
	assert_int_equal(rd(f->s, RBR), 'L');
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK), 0);
}

/* Output to a pipe: bytes arrive; a full pipe costs one bounded wait, then
 * output is dropped until it drains; a vanished reader raises no SIGPIPE. */
static void test_tx_fd(void **state)
{
	struct hv_serial_config cfg;
	struct hv_serial *s = NULL;
	char buf[70000];
	sigset_t pending;
	int p[2], fds = count_open_fds();
	int64_t t0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	hv_serial_config_init(&cfg);
	cfg.output_fd = p[1];
	cfg.output_timeout_ms = 50;
	expect_ret(hv_serial_create(&cfg, &s), 0);
	wr(s, THR, 'o');
	wr(s, THR, 'k');
	assert_int_equal(read(p[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ok", 2);

	/* Fill the pipe; the fd itself stays blocking. */
	set_nonblock(p[1], true);
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	set_nonblock(p[1], false);
	t0 = ms_now();
	wr(s, THR, 'x');
	assert_true(ms_now() - t0 >= 45);
	t0 = ms_now();
	for (int i = 0; i < 100; i++)
		wr(s, THR, 'y');
	assert_true(ms_now() - t0 < 45); /* stalled: no more waiting */
	set_nonblock(p[0], true);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	wr(s, THR, 'z');
	assert_int_equal(read(p[0], buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'z');

	close(p[0]);
	wr(s, THR, '!'); /* EPIPE: must neither kill us nor leave SIGPIPE pending */
	sigpending(&pending);
	assert_false(sigismember(&pending, SIGPIPE));
	hv_serial_destroy(s);
	close(p[1]);
	assert_int_equal(count_open_fds(), fds);
}

/* THRE interrupt: raised on enabling THRI with THR empty (every time THRI
 * goes 0 -> 1), acknowledged by reading IIR, re-raised by each THR write. */
static void test_thre_irq(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;

	assert_int_equal(f->rec.irq_calls, 0);
	wr(s, IER, 0x02);
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(s, IIR), 0x02);
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(s, IIR), 0x01);
	wr(s, IER, 0x02); /* THRI already on: no new edge */
	assert_int_equal(level(f), 0);

	/* serial8250_startup()'s THRE test: both reads must see THRE. */
	wr(s, IER, 0);
	wr(s, IER, 0x02);
	assert_int_equal(rd(s, IIR) & 0x0f, 0x02);
	wr(s, IER, 0);
	wr(s, IER, 0x02);
	assert_int_equal(rd(s, IIR) & 0x0f, 0x02);
	wr(s, IER, 0);
	/* ... and its TXEN test: LSR.TEMT with an interrupt pending. */
	wr(s, IER, 0x02);
	assert_int_equal(rd(s, LSR) & 0x40, 0x40);
	assert_int_equal(rd(s, IIR) & 0x01, 0);

	/* Interrupt-driven TX: each THR write re-arms THRE. */
	wr(s, THR, 'a');
	assert_int_equal(level(f), 1);
	wr(s, THR, 'b'); /* still pending: set_irq is not called again */
	assert_int_equal(rd(s, IIR), 0x02);
	assert_int_equal(level(f), 0);
	wr(s, THR, 'c');
	assert_int_equal(level(f), 1);
	wr(s, IER, 0); /* __stop_tx() */
	assert_int_equal(level(f), 0);
	assert_int_equal(f->rec.out_len, 3);
	assert_int_equal(f->rec.irq_calls, 12);
}

static void test_rx_fifo(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;
	uint8_t data[100];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = pattern_byte(1, i);
	/* 16450 mode: RBR holds one byte. */
	assert_int_equal(hv_serial_input(s, data, 3), 1);
	assert_int_equal(rd(s, LSR), 0x61);
	assert_int_equal(rd(s, RBR), data[0]);
	assert_int_equal(rd(s, LSR), 0x60);
	assert_int_equal(f->rec.rx_ready, 1);

	/* FIFO mode: 16 bytes, then the caller is told to wait. */
	wr(s, FCR, 0x01);
	assert_int_equal(hv_serial_input(s, data, sizeof(data)), HV_SERIAL_RX_FIFO);
	assert_int_equal(hv_serial_input(s, data + HV_SERIAL_RX_FIFO, 36), 0);
	for (size_t i = 0; i < HV_SERIAL_RX_FIFO; i++) {
		assert_int_equal(rd(s, LSR) & 0x01, 1);
		assert_int_equal(f->rec.rx_ready, 1); /* owed only once empty */
		assert_int_equal(rd(s, RBR), data[i]);
	}
	assert_int_equal(rd(s, LSR), 0x60);
	assert_int_equal(f->rec.rx_ready, 2);
	assert_int_equal(rd(s, RBR), data[HV_SERIAL_RX_FIFO - 1]); /* empty: the last again */
	assert_int_equal(f->rec.rx_ready, 2);
	assert_int_equal(hv_serial_input(s, data + HV_SERIAL_RX_FIFO, 12), 12);
	assert_int_equal(rd(s, RBR), data[HV_SERIAL_RX_FIFO]);

	/* FCR1 empties the receive FIFO, as does leaving FIFO mode. */
	wr(s, FCR, 0x03);
	assert_int_equal(rd(s, LSR) & 0x01, 0);
	assert_int_equal(hv_serial_input(s, data, 10), 10);
	wr(s, FCR, 0x00);
	assert_int_equal(rd(s, LSR) & 0x01, 0);
	assert_int_equal(f->rec.rx_ready, 2);
	assert_int_equal(hv_serial_input(s, data, 0), 0);
}

static void test_rx_irq(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;
	uint8_t data[16] = "0123456789abcdef";

	/* 16450 mode: data available, cleared by reading RBR. */
	wr(s, IER, 0x01);
	assert_int_equal(level(f), 0);
	assert_int_equal(hv_serial_input(s, data, 1), 1);
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(s, IIR), 0x04);
	assert_int_equal(level(f), 1); /* reading IIR does not clear it */
	assert_int_equal(rd(s, RBR), '0');
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(s, IIR), 0x01);

	/* FIFO with trigger 14: timeout indication below it, data above. */
	wr(s, FCR, 0xc1);
	assert_int_equal(hv_serial_input(s, data, 3), 3);
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(s, IIR), 0xcc);
	assert_int_equal(hv_serial_input(s, data + 3, 11), 11);
	assert_int_equal(rd(s, IIR), 0xc4);
	assert_int_equal(rd(s, RBR), '0');
	assert_int_equal(rd(s, IIR), 0xcc);
	while (rd(s, LSR) & 0x01)
		rd(s, RBR);
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(s, IIR), 0xc1);
	/* Data waiting when RDI is enabled interrupts at once. */
	wr(s, IER, 0);
	assert_int_equal(hv_serial_input(s, data, 2), 2);
	assert_int_equal(level(f), 0);
	wr(s, IER, 0x01);
	assert_int_equal(level(f), 1);
}

static void test_lsr(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;

	assert_int_equal(rd(s, LSR), 0x60);
	/* Overrun in loopback, 16450 mode: the new byte replaces the old. */
	wr(s, MCR, 0x10);
	wr(s, THR, 'a');
	assert_int_equal(rd(s, LSR), 0x61);
	wr(s, THR, 'b');
	wr(s, IER, 0x04);
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(s, IIR), 0x06);
	assert_int_equal(rd(s, LSR), 0x63);
	assert_int_equal(level(f), 0); /* reading LSR clears OE */
	assert_int_equal(rd(s, LSR), 0x61);
	assert_int_equal(rd(s, RBR), 'b');

	/* FIFO mode: the FIFO keeps its 16 bytes and drops the 17th. */
	wr(s, FCR, 0x01);
	for (int i = 0; i <= (int)HV_SERIAL_RX_FIFO; i++)
		wr(s, THR, (uint8_t)i);
	assert_int_equal(rd(s, LSR), 0x63);
	for (int i = 0; i < (int)HV_SERIAL_RX_FIFO; i++)
		assert_int_equal(rd(s, RBR), i);
	assert_int_equal(rd(s, LSR), 0x60);
	/* LSR writes are ignored. */
	wr(s, LSR, 0xff);
	assert_int_equal(rd(s, LSR), 0x60);
}

/* Line status > received data > THRE > modem status. */
static void test_iir_priority(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;

	wr(s, FCR, 0x01);
	wr(s, MCR, 0x10);   /* loopback: CTS, DSR and DCD drop: modem deltas */
	for (int i = 0; i <= (int)HV_SERIAL_RX_FIFO; i++)
		wr(s, THR, 'x'); /* received data, then an overrun */
	wr(s, IER, 0x0f);   /* THRI 0 -> 1: THRE too */
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(s, IIR), 0xc6);
	assert_int_equal(rd(s, IIR), 0xc6);
	rd(s, LSR);
	assert_int_equal(rd(s, IIR), 0xc4);
	while (rd(s, LSR) & 0x01)
		rd(s, RBR);
	assert_int_equal(rd(s, IIR), 0xc2); /* this read acknowledges THRE */
	assert_int_equal(rd(s, IIR), 0xc0);
	assert_int_equal(rd(s, MSR), 0x0b);
	assert_int_equal(rd(s, IIR), 0xc1);
	assert_int_equal(level(f), 0);
}

static void test_modem_status(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;

	assert_int_equal(rd(s, MSR), 0xb0); /* idle peer: DCD, DSR, CTS */
	wr(s, IER, 0x08);
	wr(s, MCR, 0x10);
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(s, IIR), 0x00);
	assert_int_equal(rd(s, MSR), 0x0b);
	assert_int_equal(level(f), 0);
	wr(s, MCR, 0x14); /* RI rises: no TERI yet */
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(s, MSR), 0x40);
	wr(s, MCR, 0x10); /* RI falls: trailing edge */
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(s, MSR), 0x04);
	wr(s, MCR, 0x03); /* out of loopback: back to the idle peer */
	assert_int_equal(rd(s, MSR), 0xbb);
	assert_int_equal(rd(s, MCR), 0x03);
	wr(s, MCR, 0xff);
	assert_int_equal(rd(s, MCR), 0x1f); /* bits 5-7 do not exist */
}

/* Loopback disconnects the line: input is refused, then owed. */
static void test_loopback_input(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;

	wr(s, MCR, 0x10);
	assert_int_equal(hv_serial_input(s, (const uint8_t *)"hi", 2), 0);
	wr(s, MCR, 0x11);
	assert_int_equal(f->rec.rx_ready, 0);
	wr(s, MCR, 0x00);
	assert_int_equal(f->rec.rx_ready, 1);
	assert_int_equal(hv_serial_input(s, (const uint8_t *)"hi", 1), 1);
	assert_int_equal(rd(s, RBR), 'h');
}

static void test_wide_access(void **state)
{
	struct hv_serial *s = ((struct fix *)*state)->s;
	uint64_t v = 0x0b03;

	expect_ret(hv_serial_io(s, LCR, 2, true, &v), 0);
	assert_int_equal(rd(s, LCR), 0x03);
	assert_int_equal(rd(s, MCR), 0x0b);
	expect_ret(hv_serial_io(s, LSR, 2, false, &v), 0);
	assert_int_equal(v, 0xb060);
	expect_ret(hv_serial_io(s, 0, 8, false, &v), 0);
	expect_err(hv_serial_io(s, SCR, 2, false, &v), -EINVAL, "UART");
	expect_ret(hv_serial_io(s, 8, 1, false, &v), -EINVAL);
	expect_ret(hv_serial_io(s, 0, 3, false, &v), -EINVAL);
	expect_ret(hv_serial_io(s, UINT64_MAX, 1, true, &v), -EINVAL);
}

static void test_reset(void **state)
{
	struct fix *f = *state;
	struct hv_serial *s = f->s;

	wr(s, LCR, 0x80);
	wr(s, DLL, 0x30);
	wr(s, LCR, 0x03);
	wr(s, SCR, 0x77);
	wr(s, FCR, 0x01);
	wr(s, MCR, 0x0b);
	wr(s, IER, 0x03);
	assert_int_equal(hv_serial_input(s, (const uint8_t *)"abc", 3), 3);
	assert_int_equal(level(f), 1);
	hv_serial_reset(s);
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(s, IER), 0);
	assert_int_equal(rd(s, IIR), 0x01);
	assert_int_equal(rd(s, LCR), 0);
	assert_int_equal(rd(s, MCR), 0);
	assert_int_equal(rd(s, LSR), 0x60);
	assert_int_equal(rd(s, MSR), 0xb0);
	assert_int_equal(rd(s, SCR), 0x77);
	wr(s, LCR, 0x80);
	assert_int_equal(rd(s, DLL), 0x30);
}

static void test_config(void **state)
{
	struct hv_serial_config cfg;
	struct hv_serial *s = NULL;
	int p[2];

	(void)state;
	hv_serial_destroy(NULL);
	hv_serial_config_init(&cfg);
	assert_int_equal(cfg.size, sizeof(cfg));
	assert_int_equal(cfg.output_fd, -1);
	expect_ret(hv_serial_create(&cfg, &s), 0); /* nowhere to send output */
	wr(s, THR, 'x');
	hv_serial_destroy(s);
	expect_err(hv_serial_create(NULL, &s), -EINVAL, "config");
	cfg.size = 4;
	expect_err(hv_serial_create(&cfg, &s), -EINVAL, "size");
	hv_serial_config_init(&cfg);
	cfg.flags = 1;
	expect_err(hv_serial_create(&cfg, &s), -EINVAL, "flags");
	hv_serial_config_init(&cfg);
	cfg.output = on_output;
	cfg.output_fd = 1;
	expect_err(hv_serial_create(&cfg, &s), -EINVAL, "both");
	hv_serial_config_init(&cfg);
	cfg.output_fd = -2;
	expect_ret(hv_serial_create(&cfg, &s), -EINVAL);
	hv_serial_config_init(&cfg);
	cfg.output_timeout_ms = -2;
	expect_ret(hv_serial_create(&cfg, &s), -EINVAL);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	hv_serial_config_init(&cfg);
	cfg.output_fd = p[1];
	expect_err(hv_serial_create(&cfg, &s), -EBADF, "output fd");
}

static void test_attach(void **state)
{
	struct hv_serial_config cfg;
	struct hv_serial *s = NULL, *s2 = NULL;
	struct hv_bus *bus = NULL;
	uint64_t v = 0x42;

	(void)state;
	expect_ret(hv_bus_create(HV_BUS_PIO, &bus), 0);
	hv_serial_config_init(&cfg);
	expect_ret(hv_serial_create(&cfg, &s), 0);
	expect_ret(hv_serial_create(&cfg, &s2), 0);
	expect_ret(hv_serial_attach(s, NULL, HV_SERIAL_COM1_BASE), -EINVAL);
	expect_ret(hv_serial_attach(s, bus, 0xfffc), -EINVAL);
	expect_ret(hv_serial_attach(s, bus, HV_SERIAL_COM1_BASE), 0);
	expect_err(hv_serial_attach(s, bus, HV_SERIAL_COM2_BASE), -EBUSY, "attached");
	expect_err(hv_serial_attach(s2, bus, HV_SERIAL_COM1_BASE + 4), -EEXIST, "serial");
	expect_ret(hv_serial_attach(s2, bus, HV_SERIAL_COM2_BASE), 0);
	expect_ret(hv_bus_dispatch(bus, HV_SERIAL_COM1_BASE + SCR, 1, true, &v), 0);
	v = 0;
	expect_ret(hv_bus_dispatch(bus, HV_SERIAL_COM1_BASE + SCR, 1, false, &v), 0);
	assert_int_equal(v, 0x42);
	expect_ret(hv_bus_dispatch(bus, HV_SERIAL_COM1_BASE + LSR, 1, false, &v), 0);
	assert_int_equal(v, 0x60);
	hv_serial_destroy(s);
	expect_ret(hv_bus_dispatch(bus, HV_SERIAL_COM1_BASE + LSR, 1, false, &v), -ENOENT);
	expect_ret(hv_bus_dispatch(bus, HV_SERIAL_COM2_BASE + LSR, 1, false, &v), 0);
	hv_serial_destroy(s2);
	hv_bus_destroy(bus);
}

/* Random guest accesses and input: the level set_irq reported always
 * matches IIR, and (teardown) is never reported twice in a row. */
static void test_irq_fuzz(void **state)
{
	struct fix *f = *state;
	uint64_t seed = 0x5eed;
	uint8_t data[80];

	memset(data, 'd', sizeof(data));
	for (int i = 0; i < 20000; i++) {
		uint64_t r = test_rand(&seed);
		unsigned reg = r % 8;

		if (r & 0x100)
			rd(f->s, reg);
		else if (r & 0x200)
			hv_serial_input(f->s, data, (r >> 16) % sizeof(data));
		else
			wr(f->s, reg, (uint8_t)(r >> 24));
		if (r & 0x400) {
			int l = level(f);

			assert_int_equal(l, !(rd(f->s, IIR) & 1));
		}
	}
	assert_true(f->rec.irq_calls > 100);
}

#define STREAM_BYTES 100000
#define TX_BYTES 8192

static void *feeder(void *arg)
{
	struct fix *f = arg;
	struct timespec deadline;
	uint8_t chunk[200];
	size_t sent = 0;

	while (sent < STREAM_BYTES) {
		size_t len = STREAM_BYTES - sent < sizeof(chunk) ? STREAM_BYTES - sent : sizeof(chunk);
		size_t n;
		int owed;

		for (size_t i = 0; i < len; i++)
			chunk[i] = pattern_byte(9, sent + i);
		pthread_mutex_lock(&f->rec.lock);
		owed = f->rec.rx_ready;
		pthread_mutex_unlock(&f->rec.lock);
		n = hv_serial_input(f->s, chunk, len);
		sent += n;
		if (n == len)
			continue;
		/* Refused: rx_ready comes once the guest drained the FIFO.
		 * (No cmocka asserts off the main thread: a stuck feeder
		 * shows as the main thread's missing interrupt.) */
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 10;
		pthread_mutex_lock(&f->rec.lock);
		while (f->rec.rx_ready == owed)
			if (pthread_cond_timedwait(&f->rec.cond, &f->rec.lock, &deadline))
				break;
		pthread_mutex_unlock(&f->rec.lock);
	}
	return NULL;
}

static void *transmitter(void *arg)
{
	struct fix *f = arg;

	for (size_t i = 0; i < TX_BYTES; i++) {
		uint64_t v = pattern_byte(3, i);

		if (hv_serial_io(f->s, THR, 1, true, &v))
			break; /* seen as missing output */
	}
	return NULL;
}

/* A host thread streams input while the "guest" takes it interrupt-driven
 * and another vCPU transmits: nothing lost, duplicated or reordered. */
static void test_concurrent(void **state)
{
	struct fix *f = *state;
	pthread_t feed, tx;
	size_t got = 0;

	wr(f->s, FCR, 0xc1);
	wr(f->s, IER, 0x01);
	assert_int_equal(pthread_create(&feed, NULL, feeder, f), 0);
	assert_int_equal(pthread_create(&tx, NULL, transmitter, f), 0);
	while (got < STREAM_BYTES) {
		struct timespec deadline;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 10;
		pthread_mutex_lock(&f->rec.lock);
		while (f->rec.level == 0)
			if (pthread_cond_timedwait(&f->rec.cond, &f->rec.lock, &deadline)) {
				pthread_mutex_unlock(&f->rec.lock);
				fail_msg("no receive interrupt after %zu bytes", got);
			}
		pthread_mutex_unlock(&f->rec.lock);
		/* The 8250 interrupt handler: IIR, then RBR while LSR.DR. */
		assert_int_equal(rd(f->s, IIR) & 0x07, 0x04); /* data or timeout */
		while (rd(f->s, LSR) & 0x01) {
			uint8_t b = rd(f->s, RBR);

			if (b != pattern_byte(9, got))
				fail_msg("byte %zu is 0x%02x, expected 0x%02x", got, b,
					 pattern_byte(9, got));
			got++;
		}
	}
	pthread_join(feed, NULL);
	pthread_join(tx, NULL);
	assert_int_equal(rd(f->s, LSR) & 0x01, 0);
	assert_int_equal(f->rec.out_len, TX_BYTES);
	for (size_t i = 0; i < TX_BYTES; i++)
		assert_int_equal(f->rec.out[i], pattern_byte(3, i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linux_autoconfig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_size_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_polled_tx, setup, teardown),
		cmocka_unit_test(test_tx_fd),
		cmocka_unit_test_setup_teardown(test_thre_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iir_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modem_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_attach),
		cmocka_unit_test_setup_teardown(test_irq_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
