/* SPDX-License-Identifier: MIT */
/* xz and legacy lzma payloads through liblzma (Debian's kernels are xz). */
#include "loader/decompress.h"

#ifdef HVLIB_HAVE_LZMA
#include <errno.h>
#include <lzma.h>

#include "util/error.h"

/* Linux compresses with a 32 MiB dictionary; a header asking for far more is
 * hostile, and this cap keeps it from making liblzma allocate gigabytes. */
#define XZ_MEMLIMIT (256ull << 20)

static int xz_error(lzma_ret r, const char *fmt)
{
	switch (r) {
	case LZMA_MEM_ERROR:
		return hv_err(-ENOMEM, "liblzma ran out of memory");
	case LZMA_MEMLIMIT_ERROR:
		return hv_err(-E2BIG, "the %s stream needs more than %llu MiB to decompress", fmt,
			      XZ_MEMLIMIT >> 20);
	case LZMA_BUF_ERROR:
		return hv_err(-EINVAL, "the %s stream is truncated", fmt);
	default:
		return hv_err(-EINVAL, "the %s stream is corrupt (liblzma error %d)", fmt, (int)r);
	}
}

int hv_loader_unxz(const uint8_t *in, size_t in_size, bool lzma_alone, struct hv_loader_outbuf *out)
{
	const char *fmt = lzma_alone ? "lzma" : "xz";
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;
	int ret = 0;

	/* No LZMA_CONCATENATED: Linux appends the output size after the stream. */
	r = lzma_alone ? lzma_alone_decoder(&s, XZ_MEMLIMIT)
		       : lzma_stream_decoder(&s, XZ_MEMLIMIT, 0);
	if (r != LZMA_OK)
		return xz_error(r, fmt);
	s.next_in = in;
	s.avail_in = in_size;
	for (;;) {
		if (out->len == out->cap) {
			ret = hv_loader_outbuf_grow(out);
			if (ret)
				break;
		}
		s.next_out = out->data + out->len;
		s.avail_out = out->cap - out->len;
		r = lzma_code(&s, LZMA_FINISH);
		out->len = out->cap - s.avail_out;
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK) {
			ret = xz_error(r, fmt);
			break;
		}
	}
	lzma_end(&s);
	return ret;
}
#endif /* HVLIB_HAVE_LZMA */
