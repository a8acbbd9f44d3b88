/* SPDX-License-Identifier: MIT */
/*
 * The i8042 keyboard controller as a guest drives it: records as in
 * fuzz_util.h, window 0 port 0x60 (data), window 1 port 0x64 (command and
 * status), any width; host action 0: a reset.  The reset callback (pulse
 * of the CPU reset line) only counts.
 */
#include "fuzz_util.h"
#include "hvlib/i8042.h"

static unsigned long resets;

static void reset_cb(void *opaque)
{
	(void)opaque;
	resets++;
}

static void host_op(void *opaque, uint32_t op, uint32_t offset, uint32_t value)
{
	(void)op;
	(void)offset;
	(void)value;
	hv_i8042_reset(opaque);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_i8042_config kc;
	struct hv_i8042 *kbc;
	struct fz_rig r;

	if (fz_rig_init(&r))
		abort();
	hv_i8042_config_init(&kc);
	kc.reset = reset_cb;
	if (hv_i8042_create(&kc, &kbc) || hv_i8042_attach(kbc, r.pio))
		abort();
	fz_rig_window(&r, r.pio, HV_I8042_DATA_PORT, 1);
	fz_rig_window(&r, r.pio, HV_I8042_COMMAND_PORT, 1);
	r.host_op = host_op;
	r.opaque = kbc;
	fz_rig_run(&r, data, size);
	hv_i8042_destroy(kbc);
	fz_rig_fini(&r);
	return 0;
}
