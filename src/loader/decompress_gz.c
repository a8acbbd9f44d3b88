/* SPDX-License-Identifier: MIT */
/* gzip payloads through zlib. */
#include "loader/decompress.h"

#ifdef HVLIB_HAVE_ZLIB
#include <errno.h>
#include <limits.h>
#define ZLIB_CONST /* const next_in: the image stays const */
#include <zlib.h>

#include "util/error.h"

#define GZ_WINDOW_BITS (16 + MAX_WBITS) /* 16: gzip wrapper, not zlib */

static int gz_error(int r, const z_stream *z)
{
	if (r == Z_MEM_ERROR)
		return hv_err(-ENOMEM, "zlib ran out of memory");
	if (r == Z_BUF_ERROR)
		return hv_err(-EINVAL, "the gzip stream is truncated");
	return hv_err(-EINVAL, "the gzip stream is corrupt: %s", z->msg ? z->msg : "zlib error");
}

int hv_loader_gunzip(const uint8_t *in, size_t in_size, struct hv_loader_outbuf *out)
{
	z_stream z = { 0 };
	int r, ret = 0;

	if (in_size > UINT_MAX)
		return hv_err(-E2BIG, "a %zu-byte gzip payload", in_size);
	r = inflateInit2(&z, GZ_WINDOW_BITS);
	if (r != Z_OK)
		return gz_error(r, &z);
	z.next_in = in;
	z.avail_in = (uInt)in_size;
	for (;;) {
		size_t room;

		if (out->len == out->cap) {
			ret = hv_loader_outbuf_grow(out);
			if (ret)
				break;
		}
		room = out->cap - out->len < UINT_MAX ? out->cap - out->len : UINT_MAX;
		z.next_out = out->data + out->len;
		z.avail_out = (uInt)room;
		r = inflate(&z, Z_NO_FLUSH);
		out->len += room - z.avail_out;
		if (r == Z_STREAM_END)
			break;
		/* Z_BUF_ERROR with output room left: the input ran out. */
		if (r != Z_OK && !(r == Z_BUF_ERROR && z.avail_out == 0)) {
			ret = gz_error(r, &z);
			break;
		}
	}
	inflateEnd(&z);
	return ret;
}
#endif /* HVLIB_HAVE_ZLIB */
