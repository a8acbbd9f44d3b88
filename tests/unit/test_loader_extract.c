/* SPDX-License-Identifier: MIT */
/*
 * Extracting the vmlinux from a bzImage payload, per compression.  Payloads
 * are compressed here with the same libraries hvlib was built with; formats
 * it was built without must fail with -ENOTSUP.
 */
#include <errno.h>
#include <stdio.h>

#include "test_loader_util.h"

#ifdef HVLIB_HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HVLIB_HAVE_ZLIB
#define ZLIB_CONST
#include <zlib.h>
#endif
#ifdef HVLIB_HAVE_ZSTD
#include <zstd.h>
#endif

#define RAM (64 * MiB)

#if defined(HVLIB_HAVE_ZLIB) || defined(HVLIB_HAVE_LZMA) || defined(HVLIB_HAVE_ZSTD)
#define HAVE_ENCODER 1
/* Payload as Linux builds it: the compressed stream, then the plain size. */
static uint8_t *with_size(uint8_t *stream, size_t len, size_t plain, size_t *out_len)
{
	stream = realloc(stream, len + 4);
	assert_non_null(stream);
	put32(stream, len, (uint32_t)plain);
	*out_len = len + 4;
	return stream;
}

#endif

#ifdef HVLIB_HAVE_ZLIB
static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = len + 1024;
	uint8_t *out = malloc(cap);

	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return with_size(out, *out_len, len, out_len);
}
#endif

#ifdef HVLIB_HAVE_LZMA
static uint8_t *xz(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = len + 1024, pos = 0;
	uint8_t *out = malloc(cap);

	/* Linux uses --check=crc32, as the kernel's own decompressor wants. */
	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &pos,
						 cap), LZMA_OK);
	return with_size(out, pos, len, out_len);
}
#endif

#ifdef HVLIB_HAVE_ZSTD
static uint8_t *zstd(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len), n;
	uint8_t *out = malloc(cap);
	ZSTD_CCtx *c = ZSTD_createCCtx();

	/* With a checksum, as the zstd tool Linux builds with writes by default. */
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
	n = ZSTD_compress2(c, out, cap, in, len);
	assert_false(ZSTD_isError(n));
	ZSTD_freeCCtx(c);
	return with_size(out, n, len, out_len);
}
#endif

/* A bzImage carrying `payload`, then the extraction result. */
static int extract(const uint8_t *payload, size_t len, uint8_t **vmlinux, size_t *vmlinux_len)
{
	size_t size;
	uint8_t *img = bz_build(&size, payload, len, (BZ_PAYLOAD_OFF + len + 15) & ~(size_t)15);
	void *out = NULL;
	int ret = hv_loader_bzimage_extract_vmlinux(img, size, &out, vmlinux_len);

	*vmlinux = out;
	free(img);
	return ret;
}

#ifdef HAVE_ENCODER
/* Compress the crafted ELF, extract it back, and boot the bzImage as PVH. */
static void round_trip(uint32_t comp, uint8_t *(*compress)(const uint8_t *, size_t, size_t *))
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_bzimage_info bz;
	struct hv_mem *mem = mem_new(RAM);
	size_t elf_len, payload_len, got_len, size;
	uint8_t *elf = elf_build(&elf_len), *payload = compress(elf, elf_len, &payload_len), *got;
	uint8_t *img;

	assert_int_equal(extract(payload, payload_len, &got, &got_len), 0);
	assert_int_equal(got_len, elf_len);
	assert_memory_equal(got, elf, elf_len);
	hv_loader_free(got);

	img = bz_build(&size, payload, payload_len, (BZ_PAYLOAD_OFF + payload_len + 15) & ~15ul);
	assert_int_equal(hv_loader_bzimage_parse(img, size, &bz), 0);
	assert_int_equal(bz.compression, comp);
	hv_linux_boot_config_init(&cfg);
	cfg.flags = HV_LINUX_F_PVH;
	assert_int_equal(hv_loader_load_linux(mem, img, size, &cfg, &out), 0);
	assert_int_equal(out.mode, HV_LINUX_BOOT_PVH);
	assert_int_equal(out.entry, ELF_PVH_ENTRY);
	cfg.flags = 0;
	assert_int_equal(hv_loader_load_linux(mem, img, size, &cfg, &out), 0);
	assert_int_equal(out.mode, HV_LINUX_BOOT_64);

	/* Corrupt the middle of the stream, then cut it short. */
	payload[payload_len / 2] ^= 0x55;
	assert_int_equal(extract(payload, payload_len, &got, &got_len), -EINVAL);
	assert_true(error_mentions("extracting vmlinux from bzImage: the "));
	payload[payload_len / 2] ^= 0x55;
	assert_int_equal(extract(payload, payload_len / 2, &got, &got_len), -EINVAL);
	assert_true(error_mentions("truncated"));
	free(img);
	free(payload);
	free(elf);
	hv_mem_destroy(mem);
}
#endif

static void test_uncompressed(void **state)
{
	uint8_t *got;
	size_t elf_len, got_len;
	uint8_t *elf = elf_build(&elf_len);

	(void)state;
	assert_int_equal(extract(elf, elf_len, &got, &got_len), 0);
	assert_int_equal(got_len, elf_len);
	assert_memory_equal(got, elf, elf_len);
	hv_loader_free(got);
	free(elf);
}

static void test_gzip(void **state)
{
	(void)state;
#ifdef HVLIB_HAVE_ZLIB
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_GZIP), 1);
	round_trip(HV_LOADER_COMP_GZIP, gzip);
#else
	fprintf(stderr, "hvlib built without zlib: only checking the -ENOTSUP path\n");
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_GZIP), 0);
	skip();
#endif
}

static void test_xz(void **state)
{
	(void)state;
#ifdef HVLIB_HAVE_LZMA
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_XZ), 1);
	round_trip(HV_LOADER_COMP_XZ, xz);
#else
	fprintf(stderr, "hvlib built without liblzma: only checking the -ENOTSUP path\n");
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_XZ), 0);
	skip();
#endif
}

static void test_zstd(void **state)
{
	(void)state;
#ifdef HVLIB_HAVE_ZSTD
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_ZSTD), 1);
	round_trip(HV_LOADER_COMP_ZSTD, zstd);
#else
	fprintf(stderr, "hvlib built without libzstd: only checking the -ENOTSUP path\n");
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_ZSTD), 0);
	skip();
#endif
}

/* Formats not built in fail with -ENOTSUP, naming the format. */
static void test_unsupported(void **state)
{
	static const struct {
		uint32_t comp;
		uint8_t magic[8];
	} formats[] = {
		{ HV_LOADER_COMP_BZIP2, { 'B', 'Z', 'h', '9' } },
		{ HV_LOADER_COMP_LZO, { 0x89, 'L', 'Z', 'O' } },
		{ HV_LOADER_COMP_LZ4, { 0x02, 0x21, 0x4c, 0x18 } },
		{ HV_LOADER_COMP_ZSTD, { 0x28, 0xb5, 0x2f, 0xfd } },
		{ HV_LOADER_COMP_GZIP, { 0x1f, 0x8b, 8 } },
		{ HV_LOADER_COMP_XZ, { 0xfd, '7', 'z', 'X', 'Z', 0 } },
		{ HV_LOADER_COMP_LZMA, { 0x5d, 0, 0 } },
	};
	uint8_t *got;
	size_t got_len;
	char msg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const char *name = hv_loader_compression_name(formats[i].comp);

		if (hv_loader_compression_supported(formats[i].comp))
			continue;
		assert_int_equal(extract(formats[i].magic, 8, &got, &got_len), -ENOTSUP);
		snprintf(msg, sizeof(msg), "payload is %s-compressed", name);
		assert_true(error_mentions(msg));
	}
	assert_int_equal(extract((const uint8_t *)"\x01\x02\x03\x04\x05", 5, &got, &got_len),
			 -ENOEXEC);
	assert_true(error_mentions("01 02 03 04, the magic of no known compression"));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(hv_loader_compression_name(HV_LOADER_COMP_XZ), "xz");
	assert_string_equal(hv_loader_compression_name(HV_LOADER_COMP_ZSTD), "zstd");
	assert_string_equal(hv_loader_compression_name(999), "unknown");
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_NONE), 1);
	assert_int_equal(hv_loader_compression_supported(HV_LOADER_COMP_UNKNOWN), 0);
}

/* A payload that decompresses fine but is no ELF. */
static void test_not_elf(void **state)
{
	(void)state;
#ifdef HVLIB_HAVE_ZLIB
	static const uint8_t text[] = "just some text, not a kernel";
	uint8_t *got;
	size_t len, got_len;
	uint8_t *payload = gzip(text, sizeof(text), &len);

	assert_int_equal(extract(payload, len, &got, &got_len), -EINVAL);
	assert_true(error_mentions("the decompressed gzip payload is not an ELF vmlinux"));
	free(payload);
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uncompressed),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_xz),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_not_elf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
