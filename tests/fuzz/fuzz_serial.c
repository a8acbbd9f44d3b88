/* SPDX-License-Identifier: MIT */
/*
 * The 16550A UART model as a guest programs it: records as in fuzz_util.h,
 * window 0 the eight ports at COM1 (divisor latch, FIFO control, loopback,
 * scratch, line and modem status, every width); host actions 0: input of
 * offset % 5 bytes of value (it may be refused while the FIFO is full),
 * 1: a reset.  Output and the interrupt line only count.
 */
#include "fuzz_util.h"
#include "hvlib/serial.h"

static void rx_ready(void *opaque)
{
	(void)opaque;
}

static void host_op(void *opaque, uint32_t op, uint32_t offset, uint32_t value)
{
	uint8_t bytes[4];

	memcpy(bytes, &value, sizeof(bytes));
	if (op % 2 == 0)
		hv_serial_input(opaque, bytes, offset % 5);
	else
		hv_serial_reset(opaque);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_serial_config sc;
	struct hv_serial *s;
	struct fz_rig r;

	if (fz_rig_init(&r))
		abort();
	hv_serial_config_init(&sc);
	sc.output = fz_output;
	sc.set_irq = fz_irq_level;
	sc.rx_ready = rx_ready;
	if (hv_serial_create(&sc, &s) || hv_serial_attach(s, r.pio, HV_SERIAL_COM1_BASE))
		abort();
	fz_rig_window(&r, r.pio, HV_SERIAL_COM1_BASE, HV_SERIAL_NR_PORTS);
	r.host_op = host_op;
	r.opaque = s;
	fz_rig_run(&r, data, size);
	hv_serial_destroy(s);
	fz_rig_fini(&r);
	return 0;
}
