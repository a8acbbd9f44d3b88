/* SPDX-License-Identifier: MIT */
/* The UART's state, shared by its register model and its public face. */
#ifndef HV_DEV_SERIAL_INTERNAL_H
#define HV_DEV_SERIAL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/fd_out.h"
#include "hvlib/serial.h"

struct hv_serial {
	pthread_mutex_t lock;    /* everything below; vCPU and input threads */
	pthread_mutex_t tx_lock; /* output; taken before `lock` is dropped */
	struct hv_serial_config cfg;
	struct hv_fd_out fd_out; /* under tx_lock */
	struct hv_bus *bus;      /* attached to, or NULL */
	uint32_t bus_handle;

	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
	uint8_t lsr_errors;      /* sticky LSR error bits */
	uint8_t msr;             /* deltas in 0-3, lines in 4-7 */
	uint8_t rbr;             /* last byte read, for reads of an empty FIFO */
	bool thre_pending;       /* THRE interrupt not yet acknowledged */
	bool rx_refused;         /* input was turned away: rx_ready is owed */
	int irq_level;
	uint32_t rx_head, rx_count;
	uint8_t rx_fifo[HV_SERIAL_RX_FIFO];

	/* Output batching (serial_tx.c), under tx_lock. */
	int tx_timer_fd;         /* -1: no ioloop, every byte goes out at once */
	bool tx_timer_armed;
	uint64_t tx_first_ns, tx_last_ns; /* CLOCK_MONOTONIC of the run's first, last byte */
	uint32_t tx_len;
	uint8_t tx_buf[256];
};

/* The register model (serial_regs.c).  Callers hold s->lock and call
 * hv_serial_settle() after each change of state. */

/* A guest read of register reg (0-7), with its side effects. */
uint8_t hv_serial_read_reg(struct hv_serial *s, uint32_t reg);
/* A guest write; true when val must be transmitted (outside loopback). */
bool hv_serial_write_reg(struct hv_serial *s, uint32_t reg, uint8_t val);
/* Bytes from the line into the receive FIFO; returns how many fit. */
size_t hv_serial_receive(struct hv_serial *s, const uint8_t *data, size_t len);
/* Power-on values (PC16550D master reset): SCR and divisor latch excepted. */
void hv_serial_reset_regs(struct hv_serial *s);
/* Drive INTR if its level changed; pay an owed rx_ready. */
void hv_serial_settle(struct hv_serial *s);

/* Output (serial_tx.c).  hv_serial_tx_byte() runs with tx_lock held;
 * init after the locks exist, fini (flushing) before they go. */
void hv_serial_tx_byte(struct hv_serial *s, uint8_t byte);
int hv_serial_tx_init(struct hv_serial *s);
void hv_serial_tx_fini(struct hv_serial *s);

#endif /* HV_DEV_SERIAL_INTERNAL_H */
