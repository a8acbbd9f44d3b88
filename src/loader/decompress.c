/* SPDX-License-Identifier: MIT */
/*
 * bzImage payloads: which compression (by magic), and turning the payload
 * back into the ELF vmlinux it was made from.  The back ends live in
 * decompress_*.c; this file only dispatches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/decompress.h"
#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

struct magic {
	uint32_t compression;
	uint8_t len;
	uint8_t bytes[6];
};

/* The formats Linux's arch/x86/boot/compressed can carry. */
static const struct magic magics[] = {
	{ HV_LOADER_COMP_NONE, 4, { 0x7f, 'E', 'L', 'F' } },
	{ HV_LOADER_COMP_GZIP, 2, { 0x1f, 0x8b } },
	{ HV_LOADER_COMP_BZIP2, 3, { 'B', 'Z', 'h' } },
	{ HV_LOADER_COMP_LZMA, 3, { 0x5d, 0x00, 0x00 } },
	{ HV_LOADER_COMP_XZ, 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
	{ HV_LOADER_COMP_LZO, 4, { 0x89, 'L', 'Z', 'O' } },
	{ HV_LOADER_COMP_LZ4, 4, { 0x02, 0x21, 0x4c, 0x18 } },
	{ HV_LOADER_COMP_ZSTD, 4, { 0x28, 0xb5, 0x2f, 0xfd } },
};

static const char *const names[] = {
	[HV_LOADER_COMP_NONE] = "uncompressed",
	[HV_LOADER_COMP_GZIP] = "gzip",
	[HV_LOADER_COMP_BZIP2] = "bzip2",
	[HV_LOADER_COMP_LZMA] = "lzma",
	[HV_LOADER_COMP_XZ] = "xz",
	[HV_LOADER_COMP_LZO] = "lzo",
	[HV_LOADER_COMP_LZ4] = "lz4",
	[HV_LOADER_COMP_ZSTD] = "zstd",
	[HV_LOADER_COMP_UNKNOWN] = "unknown",
};
_Static_assert(HV_ARRAY_SIZE(names) == HV_LOADER_COMP_UNKNOWN + 1, "a name for each compression");

uint32_t hv_loader_detect_compression(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < HV_ARRAY_SIZE(magics); i++)
		if (size >= magics[i].len && memcmp(data, magics[i].bytes, magics[i].len) == 0)
			return magics[i].compression;
	return HV_LOADER_COMP_UNKNOWN;
}

HV_EXPORT const char *hv_loader_compression_name(uint32_t compression)
{
	return compression < HV_ARRAY_SIZE(names) ? names[compression] : "unknown";
}

HV_EXPORT int hv_loader_compression_supported(uint32_t compression)
{
	switch (compression) {
	case HV_LOADER_COMP_NONE:
		return 1;
#ifdef HVLIB_HAVE_LZMA
	case HV_LOADER_COMP_XZ:
	case HV_LOADER_COMP_LZMA:
		return 1;
#endif
#ifdef HVLIB_HAVE_ZLIB
	case HV_LOADER_COMP_GZIP:
		return 1;
#endif
#ifdef HVLIB_HAVE_ZSTD
	case HV_LOADER_COMP_ZSTD:
		return 1;
#endif
	default:
		return 0;
	}
}

int hv_loader_outbuf_grow(struct hv_loader_outbuf *b)
{
	size_t cap = b->cap ? b->cap * 2 : (1u << 20);
	uint8_t *p;

	if (b->cap >= HV_LOADER_VMLINUX_MAX)
		return hv_err(-E2BIG, "the payload decompresses to more than %llu MiB",
			      HV_LOADER_VMLINUX_MAX >> 20);
	if (cap > HV_LOADER_VMLINUX_MAX)
		cap = HV_LOADER_VMLINUX_MAX;
	p = realloc(b->data, cap);
	if (!p)
		return hv_err(-ENOMEM, "allocating %zu bytes for the decompressed kernel", cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

static int run_backend(uint32_t compression, const uint8_t *in, size_t n,
		       struct hv_loader_outbuf *b)
{
	switch (compression) {
	case HV_LOADER_COMP_NONE:
		while (b->cap < n) {
			int ret = hv_loader_outbuf_grow(b);

			if (ret)
				return ret;
		}
		memcpy(b->data, in, n);
		b->len = n;
		return 0;
#ifdef HVLIB_HAVE_LZMA
	case HV_LOADER_COMP_XZ:
	case HV_LOADER_COMP_LZMA:
		return hv_loader_unxz(in, n, compression == HV_LOADER_COMP_LZMA, b);
#endif
#ifdef HVLIB_HAVE_ZLIB
	case HV_LOADER_COMP_GZIP:
		return hv_loader_gunzip(in, n, b);
#endif
#ifdef HVLIB_HAVE_ZSTD
	case HV_LOADER_COMP_ZSTD:
		return hv_loader_unzstd(in, n, b);
#endif
	case HV_LOADER_COMP_UNKNOWN:
		return hv_err(-ENOEXEC, "the payload starts with %02x %02x %02x %02x, the magic of "
					"no known compression", in[0], in[1], in[2], in[3]);
	default:
		return hv_err(-ENOTSUP, "the payload is %s-compressed and this hvlib was built "
					"without %s support; use the 64-bit bzImage boot instead",
			      hv_loader_compression_name(compression),
			      hv_loader_compression_name(compression));
	}
}

/*
 * Start with the size Linux appends to the payload (little-endian, last 4
 * bytes; gzip's ISIZE is the same) so one allocation usually suffices.  It
 * is only a hint: the buffer grows if the stream is longer, up to the limit.
 * The spare page lets the decoder see the end of the stream without a full
 * buffer, which would otherwise cost a pointless doubling.
 */
int hv_loader_decompress(uint32_t compression, const uint8_t *in, size_t in_size,
			 uint8_t **out, size_t *out_size)
{
	struct hv_loader_outbuf b = { 0 };
	uint64_t hint = in_size >= 4 ? hv_loader_le32(in + in_size - 4) : 0;
	int ret = 0;

	if (in_size < 4)
		return hv_err(-EINVAL, "the payload is only %zu bytes", in_size);
	if (hint > (1u << 20) && hint <= HV_LOADER_VMLINUX_MAX - LOADER_PAGE) {
		b.data = malloc((size_t)hint + LOADER_PAGE);
		b.cap = b.data ? (size_t)hint + LOADER_PAGE : 0;
	}
	ret = run_backend(compression, in, in_size, &b);
	if (ret) {
		free(b.data);
		return ret;
	}
	*out = b.data;
	*out_size = b.len;
	return 0;
}

static int extract(const uint8_t *image, size_t size, void **vmlinux, size_t *vmlinux_size)
{
	struct hv_bzimage_info bz;
	const uint8_t *payload;
	uint8_t *elf;
	size_t elf_size;
	int ret = hv_loader_bzimage_validate(image, size, &bz);

	if (ret)
		return ret;
	payload = image + bz.kernel_offset + bz.payload_offset;
	ret = hv_loader_decompress(bz.compression, payload, bz.payload_length, &elf, &elf_size);
	if (ret)
		return ret;
	if (elf_size < 4 || memcmp(elf, "\177ELF", 4) != 0) {
		free(elf);
		return hv_err(-EINVAL, "the decompressed %s payload is not an ELF vmlinux",
			      hv_loader_compression_name(bz.compression));
	}
	*vmlinux = elf;
	*vmlinux_size = elf_size;
	return 0;
}

HV_EXPORT int hv_loader_bzimage_extract_vmlinux(const void *image, size_t size, void **vmlinux,
						size_t *vmlinux_size)
{
	HV_CHECK_ARG(vmlinux);
	HV_CHECK_ARG(vmlinux_size);
	*vmlinux = NULL;
	int ret;

	if (!image || !vmlinux || !vmlinux_size)
		return hv_err(-EINVAL, "extracting vmlinux: NULL argument");
	ret = extract(image, size, vmlinux, vmlinux_size);
	return ret ? hv_err_context(ret, "extracting vmlinux from bzImage") : 0;
}

HV_EXPORT void hv_loader_free(void *buf)
{
	free(buf);
}
