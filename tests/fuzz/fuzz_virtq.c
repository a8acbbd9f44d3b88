/* SPDX-License-Identifier: MIT */
/*
 * The split-virtqueue walker over guest memory the fuzzer writes: rings,
 * descriptor chains, indirect tables and indices are all its bytes.
 * Input: [queue size - 1][features: bit0 EVENT_IDX, bit1 INDIRECT][push
 * lengths...]; the whole input is also guest RAM from 0 (descriptors at 0,
 * avail at 0x1000, used at 0x2000).  Every popped chain is read, written
 * and pushed back; a broken queue must only mark its device.
 */
#include "fuzz_util.h"

static struct fz_guest guest;

static const struct hv_virtio_dev_ops ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = 0x42,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct hv_virtq_buf bufs[HV_VIRTQ_MAX_SIZE];
	struct hv_virtio_dev_config dc;
	struct hv_virtio_dev *dev;
	struct hv_virtq_req req;
	struct hv_virtq *q;
	uint8_t scratch[512];
	uint32_t qsize;
	uint64_t features = 0, flags;

	if (!guest.mem && fz_guest_create(&guest))
		abort();
	qsize = (uint32_t)fz_take(&in, 1) + 1;
	flags = fz_take(&in, 1);
	if (flags & 1)
		features |= HV_VIRTIO_F_EVENT_IDX;
	if (flags & 2)
		features |= HV_VIRTIO_F_INDIRECT_DESC;
	fz_guest_load(&guest, data, size);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &ops;
	dc.mem = guest.mem;
	dc.queue_max_size = 256;
	if (hv_virtio_dev_create(&dc, &dev))
		abort();
	fz_driver_start(dev, features, 1, qsize);
	q = hv_virtio_dev_queue(dev, 0);
	for (int i = 0; i < 300 && hv_virtq_pop(q, bufs, hv_virtq_max_bufs(q), &req) == 1; i++) {
		uint32_t written = (uint32_t)fz_take(&in, 4);

		hv_virtq_req_read(&req, fz_take(&in, 1), scratch, sizeof(scratch));
		hv_virtq_req_write(&req, fz_take(&in, 1), scratch, sizeof(scratch));
		hv_virtq_push(q, &req, written);
		if (i % 8 == 7)
			hv_virtq_notify(q);
	}
	hv_virtq_notify(q);
	hv_virtio_dev_write_status(dev, 0);
	hv_virtio_dev_destroy(dev);
	return 0;
}
