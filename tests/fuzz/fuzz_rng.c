/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng: the request queue filled from getrandom().  The input is
 * guest RAM (queue 0's rings at 0, fuzz_util.h); from FZ_SCRIPT on:
 * [features: bit 6 EVENT_IDX, 7 INDIRECT][queue size - 1][notifies - 1,
 * up to 4].  A request's writable buffers may point anywhere, ROM and
 * holes included: only RAM may be written, at most 4 KiB per request.
 */
#include "fuzz_util.h"

static struct fz_guest guest;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t own[6];
	struct fz_in in = fz_script(data, size);
	struct hv_virtio_rng_config rc;
	struct hv_virtio_rng *rng;
	uint64_t features;
	uint32_t qsize, kicks;

	if (!guest.mem && fz_guest_create(&guest))
		abort();
	fz_guest_load(&guest, data, size);
	features = fz_features((uint32_t)fz_take(&in, 1), own);
	qsize = (uint32_t)fz_take(&in, 1) + 1;
	kicks = (uint32_t)fz_take(&in, 1) % 4 + 1;
	hv_virtio_rng_config_init(&rc);
	rc.mem = guest.mem;
	if (hv_virtio_rng_create(&rc, &rng))
		abort();
	fz_driver_start(hv_virtio_rng_dev(rng), features, 1, qsize);
	for (uint32_t i = 0; i < kicks; i++)
		hv_virtio_dev_notify(hv_virtio_rng_dev(rng), 0);
	hv_virtio_rng_destroy(rng);
	return 0;
}
