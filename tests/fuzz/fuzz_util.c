/* SPDX-License-Identifier: MIT */
/* The register-level rig and counting callbacks shared by the targets
 * (see fuzz_util.h); linked into every one of them. */
#include "fuzz_util.h"
#include "hvlib/bus.h"
#include "hvlib/virtio_console.h"

static struct fz_guest guest;
unsigned long fz_irqs;

int fz_rig_init(struct fz_rig *r)
{
	memset(r, 0, sizeof(*r));
	if (!guest.mem && fz_guest_create(&guest))
		return -1;
	memset(guest.ram, 0, FZ_RAM_BYTES);
	r->guest = guest;
	if (hv_bus_create(HV_BUS_PIO, &r->pio) || hv_bus_create(HV_BUS_MMIO, &r->mmio))
		return -1;
	return 0;
}

void fz_rig_fini(struct fz_rig *r)
{
	hv_bus_destroy(r->pio);
	hv_bus_destroy(r->mmio);
	r->pio = r->mmio = NULL;
}

void fz_rig_window(struct fz_rig *r, struct hv_bus *bus, uint64_t base, uint64_t len)
{
	if (r->nr_win < FZ_MAX_WINDOWS) {
		r->win[r->nr_win].bus = bus;
		r->win[r->nr_win].base = base;
		r->win[r->nr_win].len = len;
		r->nr_win++;
	}
}

void fz_rig_run(struct fz_rig *r, const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	while (in.left >= 8) {
		uint32_t op = (uint32_t)fz_take(&in, 1);
		uint32_t offset = (uint32_t)fz_take(&in, 3);
		uint32_t value = (uint32_t)fz_take(&in, 4);

		if ((op & 3) == 0 && r->nr_win) {
			uint32_t w = (op >> 5) % r->nr_win;
			uint64_t v = value;

			hv_bus_dispatch(r->win[w].bus, r->win[w].base + offset % r->win[w].len,
					1u << ((op >> 3) & 3), op & 4, &v);
		} else if ((op & 3) == 1) {
			memcpy(r->guest.ram + (offset * 4u) % (FZ_RAM_BYTES - 3), &value, 4);
		} else if ((op & 3) >= 2 && r->host_op) {
			r->host_op(r->opaque, op >> 2, offset, value);
		}
	}
}

void fz_irq_level(void *opaque, int level)
{
	(void)opaque;
	fz_irqs += level > 0;
}

void fz_irq_line(void *opaque, uint32_t irq, int level)
{
	(void)irq;
	fz_irq_level(opaque, level);
}

int fz_msi(void *opaque, uint64_t address, uint32_t data)
{
	(void)address;
	(void)data;
	fz_irq_level(opaque, 1);
	return 0;
}

void fz_output(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	(void)len;
}

static void mmio_write(struct hv_virtio_mmio *mmio, uint32_t reg, uint64_t value)
{
	hv_virtio_mmio_io(mmio, reg, 4, true, &value);
}

void fz_mmio_driver_start(struct hv_virtio_mmio *mmio, uint64_t features, uint32_t nr,
			  uint32_t size)
{
	uint64_t f = HV_VIRTIO_F_VERSION_1 | features;

	mmio_write(mmio, 0x70, 0);
	mmio_write(mmio, 0x70, 3);
	for (uint32_t sel = 0; sel < 2; sel++) {
		mmio_write(mmio, 0x24, sel);
		mmio_write(mmio, 0x20, (uint32_t)(f >> (32 * sel)));
	}
	mmio_write(mmio, 0x70, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	for (uint32_t q = 0; q < nr; q++) {
		mmio_write(mmio, 0x30, q);
		mmio_write(mmio, 0x38, size);
		mmio_write(mmio, 0x80, FZ_DESC(q));
		mmio_write(mmio, 0x90, FZ_AVAIL(q));
		mmio_write(mmio, 0xa0, FZ_USED(q));
		mmio_write(mmio, 0x44, 1);
	}
	mmio_write(mmio, 0x70, 7 | HV_VIRTIO_STATUS_FEATURES_OK);
}

struct hv_virtio_mmio *fz_rig_mmio(struct fz_rig *r, struct hv_virtio_dev *dev)
{
	struct hv_virtio_mmio_config mc;
	struct hv_virtio_mmio *mmio;

	hv_virtio_mmio_config_init(&mc);
	mc.base = FZ_MMIO;
	mc.irq = 5;
	mc.bus = r->mmio;
	mc.set_irq = fz_irq_line;
	if (hv_virtio_mmio_create(dev, &mc, &mmio))
		return NULL;
	fz_rig_window(r, r->mmio, FZ_MMIO, HV_VIRTIO_MMIO_SIZE);
	return mmio;
}

struct hv_virtio_console *fz_console(struct hv_mem *mem, uint32_t input_bytes)
{
	struct hv_virtio_console_config cc;
	struct hv_virtio_console *con;

	hv_virtio_console_config_init(&cc);
	cc.mem = mem;
	cc.output = fz_output;
	cc.cols = 80;
	cc.rows = 24;
	cc.input_bytes = input_bytes;
	return hv_virtio_console_create(&cc, &con) ? NULL : con;
}

void fz_console_input(struct hv_virtio_console *con, uint32_t n, uint32_t value)
{
	uint8_t bytes[4];

	memcpy(bytes, &value, sizeof(bytes));
	hv_virtio_console_input(con, bytes, n % 5);
}
