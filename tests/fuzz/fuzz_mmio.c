/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio register interface, with a balloon behind it: the input
 * is a sequence of 8-byte records, [op][offset le16][value le32][spare]:
 *   op & 3 == 0: a guest register access (bit 2: write; bits 3-4: width
 *                1, 2, 4 or 8) at offset % 0x200;
 *   op & 3 == 1: the guest stores value at RAM offset (offset * 4), to
 *                build rings and page lists for the notifies;
 *   op & 3 == 2: the host sets the balloon target (value pages);
 *   op & 3 == 3: the host asks for stats.
 * Any order of status, feature, queue set-up, notify, config and reset
 * accesses must leave the VMM standing.
 */
#include "fuzz_util.h"
#include "hvlib/bus.h"
#include "hvlib/virtio_balloon.h"

static struct fz_guest guest;
static struct hv_bus *bus;

static void set_irq(void *opaque, uint32_t irq, int level)
{
	(void)opaque;
	(void)irq;
	(void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct hv_virtio_balloon_config bc;
	struct hv_virtio_mmio_config mc;
	struct hv_virtio_balloon *bal;
	struct hv_virtio_mmio *mmio;

	if (!guest.mem && (fz_guest_create(&guest) || hv_bus_create(HV_BUS_MMIO, &bus)))
		abort();
	memset(guest.ram, 0, FZ_RAM_BYTES);
	hv_virtio_balloon_config_init(&bc);
	bc.mem = guest.mem;
	if (hv_virtio_balloon_create(&bc, &bal))
		abort();
	hv_virtio_mmio_config_init(&mc);
	mc.base = 0xd0000000;
	mc.irq = 5;
	mc.bus = bus;
	mc.set_irq = set_irq;
	if (hv_virtio_mmio_create(hv_virtio_balloon_dev(bal), &mc, &mmio))
		abort();
	while (in.left >= 8) {
		uint32_t op = (uint32_t)fz_take(&in, 1);
		uint32_t offset = (uint32_t)fz_take(&in, 2);
		uint64_t value = fz_take(&in, 4);

		fz_take(&in, 1);
		switch (op & 3) {
		case 0:
			hv_virtio_mmio_io(mmio, offset % 0x200, 1u << ((op >> 3) & 3), op & 4,
					  &value);
			break;
		case 1: {
			uint32_t v = (uint32_t)value;

			memcpy(guest.ram + (offset * 4u) % (FZ_RAM_BYTES - 3), &v, 4);
			break;
		}
		case 2:
			hv_virtio_balloon_set_target(bal, value * 4096);
			break;
		default:
			hv_virtio_balloon_request_stats(bal);
			break;
		}
	}
	hv_virtio_mmio_destroy(mmio);
	hv_virtio_balloon_destroy(bal);
	return 0;
}
