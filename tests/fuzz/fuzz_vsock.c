/* SPDX-License-Identifier: MIT */
/*
 * The vsock hand-off to vhost: the rings a driver set up, as
 * hv_vsock_queue_ring() copies them out of the queues and
 * hv_vsock_ring_hva() checks and translates them for VHOST_SET_VRING_ADDR.
 * vhost itself cannot run here (it needs /dev/vhost-vsock and a KVM VM,
 * and it would fuzz the host kernel), so a device of vsock's shape (three
 * queues of up to 128, an 8-byte config) stands in for it on virtio-mmio,
 * and its status callback does the hand-off at DRIVER_OK as vsock's does.
 * Records as in fuzz_util.h (window 0: the transport), host action 0: the
 * driver set-up of fuzz_util.c with queue size value % 256 + 1.  Oracle:
 * every ring handed over lies whole in guest RAM (the used ring, which
 * vhost writes, never in ROM) at the address its gpa maps to.
 */
#include "fuzz_util.h"
#include "virtio/vsock_internal.h"

static struct fz_rig rig;
static struct hv_virtio_vsock vsock;

static void check_ring(uint64_t gpa, uint64_t bytes, uint64_t hva, bool writable)
{
	const uint8_t *ram = rig.guest.ram;
	bool in_ram = gpa < FZ_RAM_BYTES && bytes <= FZ_RAM_BYTES - gpa;
	bool in_rom = gpa >= FZ_ROM_GPA && gpa - FZ_ROM_GPA < 4096 &&
		      bytes <= 4096 - (gpa - FZ_ROM_GPA);

	if (!(in_ram || (in_rom && !writable)) || (in_ram && hva != (uintptr_t)(ram + gpa)))
		abort();
}

static int handoff(void *opaque, struct hv_virtio_dev *dev, uint32_t status)
{
	(void)opaque;
	(void)dev;
	if (!(status & HV_VIRTIO_STATUS_DRIVER_OK))
		return 0;
	for (uint32_t q = 0; q < HV_VSOCK_VHOST_QUEUES; q++) {
		struct hv_vsock_ring r;
		uint64_t hva[3], extra;

		hv_vsock_queue_ring(&vsock, q, &r);
		if (!r.ok)
			return -1;
		if (hv_vsock_ring_hva(rig.guest.mem, q, &r, hva))
			return -1;
		extra = r.event_idx ? 2 : 0;
		check_ring(r.desc, 16ull * r.size, hva[0], false);
		check_ring(r.avail, 4 + 2ull * r.size + extra, hva[1], false);
		check_ring(r.used, 4 + 8ull * r.size + extra, hva[2], true);
	}
	return 0;
}

static const struct hv_virtio_dev_ops ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = HV_VIRTIO_ID_VSOCK,
	.config_bytes = 8,
	.status = handoff,
};

static void host_op(void *opaque, uint32_t op, uint32_t offset, uint32_t value)
{
	(void)op;
	(void)offset;
	fz_mmio_driver_start(opaque, HV_VIRTIO_F_EVENT_IDX, HV_VSOCK_QUEUES, value % 256 + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_virtio_dev_config dc;
	struct hv_virtio_mmio *mmio;

	if (fz_rig_init(&rig))
		abort();
	hv_virtio_dev_config_init(&dc);
	dc.ops = &ops;
	dc.mem = rig.guest.mem;
	dc.nr_queues = HV_VSOCK_QUEUES;
	dc.queue_max_size = 128;
	if (hv_virtio_dev_create(&dc, &vsock.dev) || !(mmio = fz_rig_mmio(&rig, vsock.dev)))
		abort();
	rig.host_op = host_op;
	rig.opaque = mmio;
	fz_rig_run(&rig, data, size);
	hv_virtio_mmio_destroy(mmio);
	hv_virtio_dev_destroy(vsock.dev);
	fz_rig_fini(&rig);
	return 0;
}
