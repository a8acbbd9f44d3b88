/* SPDX-License-Identifier: MIT */
/*
 * Device resets interleaved with queue traffic: a virtio-console on
 * virtio-mmio whose driver resets, renegotiates and restarts between (and
 * while host input is) being delivered into its receive chains, with its
 * transmit chains in flight.  Records as in fuzz_util.h, window 0 the
 * transport (status 0 there is a reset too); host actions:
 *   0: host input, offset % 5 bytes of value;
 *   1: the driver set-up of fuzz_util.c (it resets first) with features
 *      value (bit 0 SIZE, 1 EMERG_WRITE, 6 EVENT_IDX, 7 INDIRECT) and queue
 *      size (value >> 8) % 128 + 1;
 *   2: a reset, then input of offset % 5 bytes and notifies of both queues,
 *      which must leave guest memory untouched (no driver, no buffers);
 *   3: notify queue value % 2 then input offset % 5 bytes.
 */
#include "fuzz_util.h"
#include "hvlib/virtio_console.h"

static const uint64_t own[6] = { 1ull << 0, 1ull << 2 };

struct state {
	struct hv_virtio_console *con;
	struct hv_virtio_mmio *mmio;
	uint8_t *ram;
};

static uint8_t before[FZ_RAM_BYTES];

static void reset_then_traffic(struct state *s, uint32_t n, uint32_t value)
{
	struct hv_virtio_dev *dev = hv_virtio_console_dev(s->con);
	uint64_t zero = 0;

	hv_virtio_mmio_io(s->mmio, 0x70, 4, true, &zero);
	memcpy(before, s->ram, FZ_RAM_BYTES);
	fz_console_input(s->con, n, value);
	hv_virtio_dev_notify(dev, 0);
	hv_virtio_dev_notify(dev, 1);
	if (memcmp(before, s->ram, FZ_RAM_BYTES))
		abort();
}

static void host_op(void *opaque, uint32_t op, uint32_t offset, uint32_t value)
{
	struct state *s = opaque;

	switch (op % 4) {
	case 0:
		fz_console_input(s->con, offset, value);
		break;
	case 1:
		fz_mmio_driver_start(s->mmio, fz_features(value & 0xff, own), 2,
				     (value >> 8) % 128 + 1);
		break;
	case 2:
		reset_then_traffic(s, offset, value);
		break;
	default:
		hv_virtio_dev_notify(hv_virtio_console_dev(s->con), value % 2);
		fz_console_input(s->con, offset, value);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s;
	struct fz_rig r;

	if (fz_rig_init(&r))
		abort();
	if (!(s.con = fz_console(r.guest.mem, 64)) ||
	    !(s.mmio = fz_rig_mmio(&r, hv_virtio_console_dev(s.con))))
		abort();
	s.ram = r.guest.ram;
	r.host_op = host_op;
	r.opaque = &s;
	fz_rig_run(&r, data, size);
	hv_virtio_mmio_destroy(s.mmio);
	hv_virtio_console_destroy(s.con);
	fz_rig_fini(&r);
	return 0;
}
