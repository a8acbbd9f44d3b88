/* SPDX-License-Identifier: MIT */
/*
 * Decompressor back ends for bzImage payloads, one file per library, each
 * built only when its library is (HVLIB_HAVE_LZMA, _ZLIB, _ZSTD).
 */
#ifndef HV_LOADER_DECOMPRESS_H
#define HV_LOADER_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing output buffer, never larger than HV_LOADER_VMLINUX_MAX. */
struct hv_loader_outbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Double the capacity.  -E2BIG at the limit, -ENOMEM. */
int hv_loader_outbuf_grow(struct hv_loader_outbuf *b);

/* Each decompresses one whole stream, appending to *out (whose capacity
 * it grows as needed).  -EINVAL: corrupt or truncated; -E2BIG; -ENOMEM. */
int hv_loader_unxz(const uint8_t *in, size_t in_size, bool lzma_alone,
		   struct hv_loader_outbuf *out);
int hv_loader_gunzip(const uint8_t *in, size_t in_size, struct hv_loader_outbuf *out);
int hv_loader_unzstd(const uint8_t *in, size_t in_size, struct hv_loader_outbuf *out);

#endif /* HV_LOADER_DECOMPRESS_H */
