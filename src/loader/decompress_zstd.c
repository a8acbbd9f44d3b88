/* SPDX-License-Identifier: MIT */
/* zstd payloads through libzstd. */
#include "loader/decompress.h"

#ifdef HVLIB_HAVE_ZSTD
#include <errno.h>
#include <zstd.h>

#include "util/error.h"

int hv_loader_unzstd(const uint8_t *in, size_t in_size, struct hv_loader_outbuf *out)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer src = { in, in_size, 0 };
	int ret = 0;

	if (!d)
		return hv_err(-ENOMEM, "allocating a zstd decoder");
	/* The default window limit (128 MiB) covers Linux's zstd -22 --ultra. */
	for (;;) {
		ZSTD_outBuffer dst;
		size_t r;

		if (out->len == out->cap) {
			ret = hv_loader_outbuf_grow(out);
			if (ret)
				break;
		}
		dst = (ZSTD_outBuffer){ out->data, out->cap, out->len };
		r = ZSTD_decompressStream(d, &dst, &src);
		out->len = dst.pos;
		if (ZSTD_isError(r)) {
			ret = hv_err(-EINVAL, "the zstd stream is corrupt: %s",
				     ZSTD_getErrorName(r));
			break;
		}
		if (r == 0) /* frame complete; the appended size is not a frame */
			break;
		if (src.pos == src.size && dst.pos < dst.size) {
			ret = hv_err(-EINVAL, "the zstd stream is truncated");
			break;
		}
	}
	ZSTD_freeDStream(d);
	return ret;
}
#endif /* HVLIB_HAVE_ZSTD */
