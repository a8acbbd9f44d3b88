/* SPDX-License-Identifier: MIT */
/*
 * virtio-console: host input into the guest's receive chains, transmit,
 * the emergency write register and console resizes.  The input is guest
 * RAM (receiveq rings at 0, transmitq rings at 0x4000, fuzz_util.h); from
 * FZ_SCRIPT on: [features: bit 0 SIZE, 1 EMERG_WRITE, 6 EVENT_IDX,
 * 7 INDIRECT][queue size - 1][input buffer KiB - 1, 2 bits] then commands
 * [op][len][len bytes]:
 *   op % 6 == 0: host input (hv_virtio_console_input()), 1: notify the
 *   receiveq, 2: notify the transmitq, 3: a guest config access (offset,
 *   width and direction from the bytes), 4: a resize, 5: reset and start
 *   the driver again.
 */
#include "fuzz_util.h"
#include "hvlib/virtio_console.h"

static struct fz_guest guest;
static const uint64_t own[6] = { 1ull << 0, 1ull << 2 };

static void config_access(struct hv_virtio_dev *dev, const uint8_t *p, uint32_t len)
{
	uint64_t value = 0;

	if (len < 2)
		return;
	if (len > 2)
		memcpy(&value, p + 2, len - 2 < 8 ? len - 2 : 8);
	hv_virtio_dev_config_access(dev, p[0], 1u << (p[1] & 3), p[1] & 4, &value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = fz_script(data, size);
	struct hv_virtio_console *con;
	struct hv_virtio_dev *dev;
	uint32_t qsize, op, len;
	const uint8_t *p;
	uint64_t features;

	if (!guest.mem && fz_guest_create(&guest))
		abort();
	fz_guest_load(&guest, data, size);
	features = fz_features((uint32_t)fz_take(&in, 1), own);
	qsize = (uint32_t)fz_take(&in, 1) + 1;
	con = fz_console(guest.mem, ((uint32_t)fz_take(&in, 1) % 4 + 1) * 1024);
	if (!con)
		abort();
	dev = hv_virtio_console_dev(con);
	fz_driver_start(dev, features, 2, qsize);
	while (fz_next_cmd(&in, 1, &op, &p, &len)) {
		switch (op % 6) {
		case 0:
			hv_virtio_console_input(con, p, len);
			break;
		case 1:
		case 2:
			hv_virtio_dev_notify(dev, op % 6 - 1);
			break;
		case 3:
			config_access(dev, p, len);
			break;
		case 4:
			hv_virtio_console_set_size(con, (uint16_t)len, (uint16_t)op);
			break;
		default:
			fz_driver_restart(dev, features, 2, qsize);
			break;
		}
	}
	hv_virtio_console_destroy(con);
	return 0;
}
