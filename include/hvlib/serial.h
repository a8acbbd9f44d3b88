/* SPDX-License-Identifier: MIT */
/*
 * hvlib/serial.h - a 16550A UART (PC COM port) for guest consoles.
 *
 * The model is what Linux's 8250 driver and PC firmware expect of a 16550A:
 * FIFOs (Linux reports "16550A"), scratch register, divisor latch, modem
 * control with a faithful loopback mode, line and modem status, and the 16550
 * interrupt priorities and clearing rules.  Transmission is instantaneous: THR is always
 * empty again by the time the guest looks, so LSR reads THRE|TEMT and the
 * baud rate only exists as register contents.
 *
 * Output: every byte the guest transmits (outside loopback) goes to
 * config.output or, if that is NULL, to config.output_fd.  Without
 * config.ioloop each byte goes out on its own, as it is written.  With one,
 * bytes are batched: a run of them goes out at a newline, when 256 have
 * gathered, when the guest has sent nothing for 2 ms, or at the latest
 * 20 ms after the run's first byte (a timer on the ioloop, whose thread
 * then makes the call); hv_serial_destroy() hands on what is left.
 * Input: hv_serial_input() from any host thread; the receive FIFO holds 16
 * bytes, as on a real 16550A (1 while the guest keeps FIFOs disabled).  It
 * cannot be deeper: Linux counts the FIFO through loopback and takes a
 * 64-byte one for a different chip (PORT_U6_16550A).  Nothing is ever dropped on
 * input: a full FIFO makes hv_serial_input() accept fewer bytes, and
 * config.rx_ready says when to offer the rest.
 *
 * Interrupt: the device computes its INTR output after every register access
 * and every input and calls config.set_irq only when the level changes
 * (starting from 0 at creation).  On a PC the platform routes it to IRQ 4
 * (COM1, 0x3f8) or IRQ 3 (COM2, 0x2f8), e.g. with hv_vm_irq_line().  The
 * output is not gated by MCR OUT2 the way PC boards wire it; guests that
 * rely on OUT2 to mask the port (Linux does not) see it unmasked.
 *
 * Call order: hv_serial_config_init() -> hv_serial_create() ->
 * hv_serial_attach() -> run the guest -> stop the vCPUs ->
 * hv_serial_destroy() -> destroy the bus (the VM).
 *
 * Threading: hv_serial_io(), hv_serial_input() and hv_serial_reset() may run
 * concurrently from any threads (a mutex inside the device serialises them).
 * create, attach and destroy are not thread-safe against other calls on the
 * same device.  The callbacks run on the thread whose call caused them (a
 * vCPU thread, or the thread calling hv_serial_input(); batched output also
 * on the ioloop's thread, or in hv_serial_destroy()):
 *  - set_irq and rx_ready run with the device's lock held;
 *  - output runs with a transmit lock held, so bytes arrive in guest order.
 * None of them may call back into the same device (it would deadlock).
 */
#ifndef HVLIB_SERIAL_H
#define HVLIB_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "common.h"
#include "ioloop.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_serial;

/* Bytes the guest transmitted; buf is only valid during the call. */
typedef void (*hv_serial_output_fn)(void *opaque, const uint8_t *buf, size_t len);
/* New level of the UART's interrupt output: 1 asserted, 0 deasserted. */
typedef void (*hv_serial_irq_fn)(void *opaque, int level);
/* The receive FIFO drained after hv_serial_input() had accepted less than it
 * was offered: offer the rest now.  Called once per refusal; wake a thread
 * with something that counts (eventfd, semaphore, pipe), never block here. */
typedef void (*hv_serial_rx_ready_fn)(void *opaque);

#define HV_SERIAL_NR_PORTS    8u  /* I/O ports a UART occupies from its base */
#define HV_SERIAL_RX_FIFO     16u /* receive FIFO depth with FIFOs enabled */
#define HV_SERIAL_COM1_BASE   0x3f8u
#define HV_SERIAL_COM1_IRQ    4u
#define HV_SERIAL_COM2_BASE   0x2f8u
#define HV_SERIAL_COM2_IRQ    3u

struct hv_serial_config {
	uint32_t size;                 /* sizeof(struct hv_serial_config) */
	uint32_t flags;                /* none defined yet: must be 0 */
	hv_serial_output_fn output;    /* NULL: use output_fd */
	int32_t output_fd;             /* -1 (default): none; output must be NULL */
	/* How long one byte may wait for a full output_fd (a stopped terminal,
	 * an unread pipe) before output is dropped: -1 forever, 0 never wait;
	 * default 1000.  After a timeout, output is dropped without waiting
	 * until the fd is writable again, so a stuck reader costs the guest at
	 * most one wait.  The fd is borrowed: it must stay open until destroy. */
	int32_t output_timeout_ms;
	hv_serial_irq_fn set_irq;      /* NULL: interrupt output unconnected */
	hv_serial_rx_ready_fn rx_ready; /* NULL: the embedder polls instead */
	void *opaque;                  /* passed to every callback */
	/* Appended: batch output on this I/O thread's timer (see "Output"
	 * above); borrowed, it must outlive the UART.  NULL: unbatched. */
	struct hv_ioloop *ioloop;
};

/* Fill *cfg with its size and defaults (no output, no interrupt). */
HV_EXPORT void hv_serial_config_init(struct hv_serial_config *cfg);

/*
 * A UART in its power-on state.  Caller owns *out until hv_serial_destroy().
 * -EINVAL: cfg NULL, a bad size (docs/abi.md; call hv_serial_config_init()), unknown
 * flags, both output and output_fd set, output_fd < -1, or
 * output_timeout_ms < -1; -EBADF: output_fd is not open; -ENOMEM; with an
 * ioloop, the errors of timerfd_create() and hv_ioloop_add().
 */
HV_EXPORT int hv_serial_create(const struct hv_serial_config *cfg, struct hv_serial **out);

/* Detaches from the bus (waiting for accesses in flight) and frees.  The bus
 * must still exist.  NULL: no-op. */
HV_EXPORT void hv_serial_destroy(struct hv_serial *serial);

/*
 * Claim ports [base, base + 8) on a port-I/O bus (e.g. hv_vm_bus(vm,
 * HV_BUS_PIO)), so guest accesses reach hv_serial_io().  The device stays
 * attached until hv_serial_destroy().
 * -EBUSY: already attached; -EINVAL: NULL bus, or base + 8 beyond 0x10000;
 * -EEXIST: the ports overlap another device (see hv_bus_register()).
 */
HV_EXPORT int hv_serial_attach(struct hv_serial *serial, struct hv_bus *pio_bus, uint16_t base);

/*
 * One guest access of `width` bytes at register `offset` (0-7), with the
 * semantics of hv_io_fn.  Wider accesses are split into byte accesses of
 * consecutive registers, as an ISA bus does; reads assemble little-endian.
 * -EINVAL: width not 1, 2, 4 or 8, or the access reaches beyond register 7.
 */
HV_EXPORT int hv_serial_io(struct hv_serial *serial, uint64_t offset, uint32_t width,
			   bool is_write, uint64_t *value);

/*
 * Bytes arriving on the serial line.  Returns how many were taken into the
 * receive FIFO (0..len; fewer when it fills, and 0 while the guest holds the
 * UART in loopback, when the line is disconnected), and raises the
 * received-data interrupt as the guest enabled it.  If fewer than len were
 * taken, rx_ready fires once the guest has drained the FIFO.
 */
HV_EXPORT size_t hv_serial_input(struct hv_serial *serial, const uint8_t *data, size_t len);

/* Master reset: registers to their power-on values (the scratch register and
 * divisor latch keep theirs), FIFOs emptied, interrupt deasserted. */
HV_EXPORT void hv_serial_reset(struct hv_serial *serial);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_SERIAL_H */
