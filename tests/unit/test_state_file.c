/* SPDX-License-Identifier: MIT */
/*
 * The snapshot state file (snapshot/state_file.h): what is written reads
 * back field for field; every damaged file (each truncation, each flipped
 * bit, another version or architecture, duplicate or missing names, a field
 * of the wrong size) is refused with an error naming the problem.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hvlib/common.h"
#include "snapshot/state_file.h"

static const uint8_t regs[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

/* Two sections, the second with an empty blob. */
static void make_file(uint8_t **buf, size_t *len, enum hv_state_arch arch)
{
	struct hv_state_writer w;

	hv_state_writer_init(&w);
	hv_state_begin_section(&w, "vcpu0", 3);
	hv_state_put_u64(&w, "rip", 0xffffffff81000000ull);
	hv_state_put_bytes(&w, "regs", regs, sizeof(regs));
	hv_state_end_section(&w);
	hv_state_begin_section(&w, "virtio-blk0", 1);
	hv_state_put_u64(&w, "features", 1ull << 32);
	hv_state_put_bytes(&w, "empty", NULL, 0);
	hv_state_end_section(&w);
	assert_int_equal(hv_state_finish(&w, arch, buf, len), 0);
}

/* Put a valid checksum back after an edit, to reach the checks behind it. */
static void reseal(uint8_t *buf, size_t len)
{
	uint32_t crc = hv_state_crc32c(0, buf, len - 4);

	for (int i = 0; i < 4; i++)
		buf[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
}

static void test_round_trip(void **state)
{
	struct hv_state_section s;
	struct hv_state_reader r;
	uint8_t got[40], *buf;
	const uint8_t *blob;
	uint64_t v;
	size_t len, n;

	(void)state;
	make_file(&buf, &len, HV_STATE_ARCH_X86_64);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r), 0);
	assert_int_equal(r.nr_sections, 2);
	assert_int_equal(hv_state_find_section(&r, "vcpu0", &s), 0);
	assert_int_equal(s.version, 3);
	assert_int_equal(hv_state_get_u64(&s, "rip", &v), 0);
	assert_true(v == 0xffffffff81000000ull);
	assert_int_equal(hv_state_get_bytes(&s, "regs", got, sizeof(got)), 0);
	assert_memory_equal(got, regs, sizeof(regs));
	assert_int_equal(hv_state_section_at(&r, 1, &s), 0);
	assert_int_equal(s.name_len, strlen("virtio-blk0"));
	assert_memory_equal(s.name_ptr, "virtio-blk0", s.name_len);
	assert_int_equal(hv_state_get_u64(&s, "features", &v), 0);
	assert_true(v == 1ull << 32);
	assert_int_equal(hv_state_get_blob(&s, "empty", &blob, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hv_state_section_at(&r, 2, &s), -EINVAL);
	free(buf);
}

static void test_lookups_name_what_is_wrong(void **state)
{
	struct hv_state_section s;
	struct hv_state_reader r;
	uint8_t small[8], *buf;
	uint64_t v;
	size_t len;

	(void)state;
	make_file(&buf, &len, HV_STATE_ARCH_X86_64);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r), 0);
	assert_int_equal(hv_state_find_section(&r, "virtio-net0", &s), -ENOENT);
	assert_non_null(strstr(hv_last_error(), "virtio-net0"));
	assert_int_equal(hv_state_find_section(&r, "vcpu0", &s), 0);
	assert_int_equal(hv_state_get_u64(&s, "rsp", &v), -ENOENT);
	assert_non_null(strstr(hv_last_error(), "'rsp'"));
	assert_int_equal(hv_state_get_bytes(&s, "regs", small, sizeof(small)), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "40 bytes, expected 8"));
	assert_int_equal(hv_state_get_u64(&s, "regs", &v), -EINVAL);
	assert_int_equal(hv_state_get_bytes(&s, "rip", small, sizeof(small)), -EINVAL);
	free(buf);
}

static void test_every_truncation_refused(void **state)
{
	struct hv_state_reader r;
	uint8_t *buf;
	size_t len;

	(void)state;
	make_file(&buf, &len, HV_STATE_ARCH_X86_64);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, buf, n);
		assert_int_equal(hv_state_parse(copy, n, HV_STATE_ARCH_X86_64, &r), -EINVAL);
		assert_non_null(strstr(hv_last_error(), n < 28 ? "truncated (" : "truncated or padded"));
		free(copy);
	}
	free(buf);
}

static void test_every_bit_flip_refused(void **state)
{
	struct hv_state_reader r;
	uint8_t *buf;
	size_t len;

	(void)state;
	make_file(&buf, &len, HV_STATE_ARCH_X86_64);
	for (size_t i = 0; i < len * 8; i++) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_true(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r) < 0);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* Past the header's checks, a body flip is the checksum's to catch. */
	buf[40] ^= 1;
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r), -EBADMSG);
	assert_non_null(strstr(hv_last_error(), "corrupted"));
	free(buf);
}

static void test_version_and_arch(void **state)
{
	struct hv_state_reader r;
	uint8_t *buf;
	size_t len;

	(void)state;
	make_file(&buf, &len, HV_STATE_ARCH_ARM64);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r), -ENOEXEC);
	assert_non_null(strstr(hv_last_error(), "taken on arm64, this is x86_64"));
	buf[8] = 2;
	reseal(buf, len);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_ARM64, &r), -ENOTSUP);
	assert_non_null(strstr(hv_last_error(), "format version 2"));
	memcpy(buf, "QEVM", 4);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_ARM64, &r), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "bad magic"));
	free(buf);
}

static void test_duplicates_and_bad_names(void **state)
{
	struct hv_state_writer w;
	struct hv_state_reader r;
	uint8_t *buf;
	size_t len;

	(void)state;
	hv_state_writer_init(&w);
	hv_state_begin_section(&w, "uart", 1);
	hv_state_put_u64(&w, "lcr", 3);
	hv_state_put_u64(&w, "lcr", 4);
	hv_state_end_section(&w);
	assert_int_equal(hv_state_finish(&w, HV_STATE_ARCH_X86_64, &buf, &len), 0);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "field 'lcr' appears twice"));
	free(buf);

	hv_state_writer_init(&w);
	for (int i = 0; i < 2; i++) {
		hv_state_begin_section(&w, "uart", 1);
		hv_state_end_section(&w);
	}
	assert_int_equal(hv_state_finish(&w, HV_STATE_ARCH_X86_64, &buf, &len), 0);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "section 'uart' appears twice"));
	free(buf);

	/* The writer refuses what the reader would: names, nesting, balance. */
	const char *bad[] = {"", "has space", "new\nline",
			     "a-name-of-sixty-four-characters-is-one-more-than-the-limit-01234"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hv_state_writer_init(&w);
		hv_state_begin_section(&w, bad[i], 1);
		hv_state_end_section(&w);
		assert_int_equal(hv_state_finish(&w, HV_STATE_ARCH_X86_64, &buf, &len), -EINVAL);
		assert_null(buf);
	}
	hv_state_writer_init(&w);
	hv_state_begin_section(&w, "a", 1);
	assert_int_equal(hv_state_finish(&w, HV_STATE_ARCH_X86_64, &buf, &len), -EINVAL);
	hv_state_writer_init(&w);
	hv_state_put_u64(&w, "outside", 1);
	assert_int_equal(hv_state_finish(&w, HV_STATE_ARCH_X86_64, &buf, &len), -EINVAL);
}

static void test_empty_file_and_crc(void **state)
{
	struct hv_state_writer w;
	struct hv_state_reader r;
	struct hv_state_section s;
	uint8_t *buf;
	size_t len;

	(void)state;
	/* The standard CRC-32C check value. */
	assert_true(hv_state_crc32c(0, "123456789", 9) == 0xe3069283u);
	hv_state_writer_init(&w);
	assert_int_equal(hv_state_finish(&w, HV_STATE_ARCH_X86_64, &buf, &len), 0);
	assert_int_equal(len, 28);
	assert_int_equal(hv_state_parse(buf, len, HV_STATE_ARCH_X86_64, &r), 0);
	assert_int_equal(r.nr_sections, 0);
	assert_int_equal(hv_state_find_section(&r, "vcpu0", &s), -ENOENT);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_lookups_name_what_is_wrong),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_version_and_arch),
		cmocka_unit_test(test_duplicates_and_bad_names),
		cmocka_unit_test(test_empty_file_and_crc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
