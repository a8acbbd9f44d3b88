/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon's page-list and stats parsers on requests the fuzzer
 * shapes: [kind: 0 inflate, 1 deflate, 2 stats][number of buffers 1-4]
 * [their lengths, le16 each, the top bit marking a device-writable one]
 * then the bytes they hold (a heap copy, so reads past them are caught).
 * Page numbers land in 64 KiB of RAM, a ROM page, or nowhere.
 */
#include "fuzz_util.h"
#include "virtio/balloon_internal.h"

static struct fz_guest guest;
static struct hv_virtio_balloon *bal;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct hv_virtq_buf bufs[4];
	struct hv_virtq_req req = { .bufs = bufs };
	uint32_t kind, nr, lens[4];
	uint8_t *copy;
	size_t off = 0;
	char why[160];

	if (!guest.mem) {
		struct hv_virtio_balloon_config bc;

		if (fz_guest_create(&guest))
			abort();
		hv_virtio_balloon_config_init(&bc);
		bc.mem = guest.mem;
		if (hv_virtio_balloon_create(&bc, &bal))
			abort();
	}
	kind = (uint32_t)fz_take(&in, 1) % 3;
	nr = (uint32_t)fz_take(&in, 1) % 4 + 1;
	for (uint32_t i = 0; i < nr; i++)
		lens[i] = (uint32_t)fz_take(&in, 2);
	copy = malloc(in.left ? in.left : 1);
	memcpy(copy, in.p, in.left);
	/* Readable buffers first, as hv_virtq_pop() guarantees. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < nr; i++) {
			uint32_t writable = lens[i] >> 15, len = lens[i] & 0x7fff;

			if ((int)writable != pass)
				continue;
			if (len > in.left - off)
				len = (uint32_t)(in.left - off);
			bufs[req.nr_bufs++] = (struct hv_virtq_buf){ copy + off, len, writable };
			if (writable)
				req.writable_bytes += len;
			else
				req.readable_bytes += len, req.nr_readable++;
			off += len;
		}
	}
	if (kind == 2) {
		pthread_mutex_lock(&bal->lock);
		hv_balloon_parse_stats(bal, &req);
		pthread_mutex_unlock(&bal->lock);
	} else {
		hv_balloon_pages(bal, &req, kind == 0, why, sizeof(why));
	}
	free(copy);
	return 0;
}
