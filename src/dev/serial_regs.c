/* SPDX-License-Identifier: MIT */
/*
 * 16550A register model.  Behaviour follows the PC16550D datasheet; where a
 * guest depends on more than the datasheet says (Linux's 8250 driver), the
 * comment says so.  Transmission is instantaneous, so the transmitter has no
 * state beyond the THRE interrupt.
 */
#include "dev/serial_internal.h"

/* Register offsets.  LCR.DLAB turns 0 and 1 into the divisor latch. */
enum {
	REG_DATA = 0, /* read RBR, write THR; DLL with DLAB */
	REG_IER = 1,  /* DLM with DLAB */
	REG_IIR = 2,  /* read IIR, write FCR (DLAB does not matter) */
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI  0x01 /* received data available, character timeout */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI  0x08 /* modem status */
#define IER_MASK 0x0f /* bits 4-7 do not exist on a 16550A and read 0 */

#define IIR_MSI     0x00
#define IIR_NO_INT  0x01
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO    0xc0 /* both set while FCR0 enables the FIFOs: "16550A" */

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_DMA      0x08
#define FCR_TRIGGER  0xc0

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f /* bits 5-7 are always 0 */

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
/* OE, PE, FE, BI: the line status interrupt sources, cleared by reading LSR. */
#define LSR_ERRORS 0x1e

#define MSR_DCTS   0x01
#define MSR_DDSR   0x02
#define MSR_TERI   0x04
#define MSR_DDCD   0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS    0x10
#define MSR_DSR    0x20
#define MSR_RI     0x40
#define MSR_DCD    0x80

/* Modem inputs outside loopback: a peer that is always present and ready
 * (CTS, DSR and DCD asserted, not ringing), so guests using hardware flow
 * control or carrier detect can talk. */
#define MSR_LINES_IDLE (MSR_CTS | MSR_DSR | MSR_DCD)

static bool fifo_enabled(const struct hv_serial *s)
{
	return s->fcr & FCR_ENABLE;
}

static uint32_t rx_capacity(const struct hv_serial *s)
{
	return fifo_enabled(s) ? HV_SERIAL_RX_FIFO : 1; /* 16450 mode: RBR alone */
}

/* The highest trigger level must be reachable, or RDI would never show. */
_Static_assert(HV_SERIAL_RX_FIFO >= 14, "receive FIFO shallower than trigger level 14");

static uint32_t rx_trigger(const struct hv_serial *s)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return level[s->fcr >> 6];
}

static void rx_push(struct hv_serial *s, uint8_t byte)
{
	s->rx_fifo[(s->rx_head + s->rx_count) % HV_SERIAL_RX_FIFO] = byte;
	s->rx_count++;
}

static uint8_t rx_pop(struct hv_serial *s)
{
	if (s->rx_count) {
		s->rbr = s->rx_fifo[s->rx_head];
		s->rx_head = (s->rx_head + 1) % HV_SERIAL_RX_FIFO;
		s->rx_count--;
	}
	return s->rbr;
}

static void rx_clear(struct hv_serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* The modem inputs: in loopback the outputs fed back (RTS->CTS, DTR->DSR,
 * OUT1->RI, OUT2->DCD), otherwise the idle peer. */
static uint8_t modem_lines(const struct hv_serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_LINES_IDLE;
	return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

/* Latch the deltas of a change of modem inputs; RI reports only its
 * trailing edge (TERI). */
static void update_msr(struct hv_serial *s)
{
	uint8_t now = modem_lines(s), old = s->msr, deltas = old & MSR_DELTAS;

	if ((old ^ now) & MSR_CTS)
		deltas |= MSR_DCTS;
	if ((old ^ now) & MSR_DSR)
		deltas |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		deltas |= MSR_TERI;
	if ((old ^ now) & MSR_DCD)
		deltas |= MSR_DDCD;
	s->msr = now | deltas;
}

/* The highest-priority pending and enabled interrupt, as IIR bits 0-3. */
static uint8_t interrupt_id(const struct hv_serial *s)
{
	if ((s->ier & IER_RLSI) && s->lsr_errors)
		return IIR_RLSI;
	/* The character timeout fires four character times after the last
	 * byte moved while the FIFO is below its trigger level.  Host input
	 * arrives in bursts that are over when hv_serial_input() returns, so
	 * the timeout is taken as already expired: data never waits. */
	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo_enabled(s) && s->rx_count < rx_trigger(s) ? IIR_TIMEOUT : IIR_RDI;
	if ((s->ier & IER_THRI) && s->thre_pending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* INTR changes are reported, not levels, so the embedder sees each edge
 * once.  rx_ready is owed until the guest has drained the FIFO and is out
 * of loopback (which disconnects the line). */
void hv_serial_settle(struct hv_serial *s)
{
	int level = interrupt_id(s) != IIR_NO_INT;

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->cfg.set_irq)
			s->cfg.set_irq(s->cfg.opaque, level);
	}
	if (s->rx_refused && s->rx_count == 0 && !(s->mcr & MCR_LOOP)) {
		s->rx_refused = false;
		if (s->cfg.rx_ready)
			s->cfg.rx_ready(s->cfg.opaque);
	}
}

uint8_t hv_serial_read_reg(struct hv_serial *s, uint32_t reg)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t val, id;

	switch (reg) {
	case REG_DATA:
		return dlab ? s->dll : rx_pop(s);
	case REG_IER:
		return dlab ? s->dlm : s->ier;
	case REG_IIR:
		/* Reading IIR acknowledges THRE when that is what it shows. */
		id = interrupt_id(s);
		if (id == IIR_THRI)
			s->thre_pending = false;
		return id | (fifo_enabled(s) ? IIR_FIFO : 0);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		val = s->lsr_errors | (s->rx_count ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
		s->lsr_errors = 0;
		return val;
	case REG_MSR:
		val = s->msr;
		s->msr &= (uint8_t)~MSR_DELTAS;
		return val;
	default:
		return s->scr;
	}
}

static void write_fcr(struct hv_serial *s, uint8_t val)
{
	/* Switching between 16450 and FIFO mode empties the FIFOs; the other
	 * bits are only programmed by a write that keeps FCR0 set. */
	if ((val ^ s->fcr) & FCR_ENABLE)
		rx_clear(s);
	if (!(val & FCR_ENABLE)) {
		s->fcr = 0;
		return;
	}
	if (val & FCR_CLEAR_RX)
		rx_clear(s);
	/* FCR2 (clear the transmit FIFO) has nothing to do: it is always empty. */
	s->fcr = val & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
}

bool hv_serial_write_reg(struct hv_serial *s, uint32_t reg, uint8_t val)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab) {
			s->dll = val;
			return false;
		}
		/* Sent at once: THR is empty again and THRE interrupts anew. */
		s->thre_pending = true;
		if (!(s->mcr & MCR_LOOP))
			return true;
		if (s->rx_count < rx_capacity(s)) {
			rx_push(s, val);
		} else {
			/* Overrun: a FIFO keeps its contents, a lone RBR is
			 * overwritten. */
			if (!fifo_enabled(s))
				s->rx_fifo[s->rx_head] = val;
			s->lsr_errors |= LSR_OE;
		}
		return false;
	case REG_IER:
		if (dlab) {
			s->dlm = val;
			return false;
		}
		/* Enabling THRI while THR is empty raises THRE even if an
		 * earlier one was acknowledged: Linux's 8250 driver starts
		 * every transmission, and tests the UART at startup, this way. */
		if ((val & IER_THRI) && !(s->ier & IER_THRI))
			s->thre_pending = true;
		s->ier = val & IER_MASK;
		return false;
	case REG_IIR:
		write_fcr(s, val);
		return false;
	case REG_LCR:
		s->lcr = val;
		return false;
	case REG_MCR:
		s->mcr = val & MCR_MASK;
		update_msr(s);
		return false;
	case REG_SCR:
		s->scr = val;
		return false;
	default:
		return false; /* LSR and MSR writes are for factory tests only */
	}
}

void hv_serial_reset_regs(struct hv_serial *s)
{
	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->fcr = 0;
	s->lsr_errors = 0;
	s->thre_pending = false;
	rx_clear(s);
	s->msr = modem_lines(s);
}

size_t hv_serial_receive(struct hv_serial *s, const uint8_t *data, size_t len)
{
	size_t n = 0;

	/* Loopback disconnects the receiver from the line. */
	if (!(s->mcr & MCR_LOOP))
		for (; n < len && s->rx_count < rx_capacity(s); n++)
			rx_push(s, data[n]);
	if (n < len)
		s->rx_refused = true;
	return n;
}
