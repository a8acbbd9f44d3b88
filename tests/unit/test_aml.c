/* SPDX-License-Identifier: MIT */
/*
 * The AML writer against bytes worked out by hand from the ACPI 6.x
 * specification (20.2 AML grammar), not from aml.c: PkgLength at every
 * width boundary, integers, strings, names, objects, and the latching of
 * errors.  Resource templates are in test_aml_resource.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi/aml.h"
#include "unit/unit_util.h"
#include "util/error.h"

/* Finish the writer and compare with the expected bytes. */
#define EXPECT_AML(a, ...)                                                        \
	do {                                                                      \
		static const uint8_t want_[] = { __VA_ARGS__ };                   \
		expect_bytes((a), want_, sizeof(want_));                          \
	} while (0)

static void expect_bytes(struct hv_aml *a, const uint8_t *want, size_t n)
{
	uint8_t *got;
	size_t len;

	expect_ret(hv_aml_take(a, &got, &len), 0);
	if (len != n) {
		free(got);
		fail_msg("AML is %zu bytes, expected %zu", len, n);
	}
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			uint8_t g = got[i];

			free(got);
			fail_msg("AML byte %zu is 0x%02x, expected 0x%02x", i, g, want[i]);
		}
	}
	free(got);
}

/* Decode a PkgLength the way the spec describes it (20.2.4); returns its
 * byte count and stores the value. */
static unsigned int pkglen_decode(const uint8_t *p, uint32_t *value)
{
	unsigned int follow = p[0] >> 6;

	if (!follow) {
		*value = p[0] & 0x3f;
		return 1;
	}
	assert_int_equal(p[0] & 0x30, 0); /* bits 5-4 reserved */
	*value = p[0] & 0x0f;
	for (unsigned int i = 1; i <= follow; i++)
		*value |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return follow + 1;
}

static void test_pkglen_encoding(void **state)
{
	static const struct {
		uint32_t value;
		unsigned int n;
		uint8_t bytes[4];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 63, 1, { 0x3f } },
		{ 64, 2, { 0x40, 0x04 } },
		{ 0x123, 2, { 0x43, 0x12 } },
		{ 4095, 2, { 0x4f, 0xff } },
		{ 4096, 3, { 0x80, 0x00, 0x01 } },
		{ 0xfffff, 3, { 0x8f, 0xff, 0xff } },
		{ 0x100000, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ 0x0fffffff, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];

	(void)state;
	for (size_t i = 0; i < HV_ARRAY_SIZE(cases); i++) {
		uint32_t back;

		memset(out, 0xee, sizeof(out));
		assert_int_equal(hv_aml_pkglen_encode(cases[i].value, out), cases[i].n);
		assert_memory_equal(out, cases[i].bytes, cases[i].n);
		assert_int_equal(pkglen_decode(out, &back), cases[i].n);
		assert_int_equal(back, cases[i].value);
	}
	assert_int_equal(hv_aml_pkglen_encode(0x10000000, out), 0);
}

/*
 * An object's PkgLength counts itself: a body of b bytes needs the smallest
 * n with b + n <= the n-byte maximum.  Check each side of each boundary
 * through Scope (\) { <filler> }, whose body is the NameString "\" NullName
 * (2 bytes) plus the filler.
 */
static void test_pkglen_in_objects(void **state)
{
	static const struct {
		size_t body;
		unsigned int n;
	} cases[] = {
		{ 2, 1 }, { 62, 1 }, { 63, 2 }, { 4093, 2 }, { 4094, 3 },
		{ 0xffffc, 3 }, { 0xffffd, 4 },
	};

	(void)state;
	for (size_t i = 0; i < HV_ARRAY_SIZE(cases); i++) {
		size_t filler = cases[i].body - 2;
		uint8_t *zeros = calloc(1, filler + 1), *got;
		struct hv_aml a;
		uint32_t value;
		size_t len;

		assert_non_null(zeros);
		hv_aml_init(&a);
		hv_aml_scope_begin(&a, "\\");
		hv_aml_raw(&a, zeros, filler);
		hv_aml_end(&a);
		free(zeros);
		expect_ret(hv_aml_take(&a, &got, &len), 0);
		assert_int_equal(got[0], 0x10); /* ScopeOp */
		assert_int_equal(pkglen_decode(got + 1, &value), cases[i].n);
		assert_int_equal(value, cases[i].body + cases[i].n);
		assert_int_equal(len, 1 + value);
		assert_int_equal(got[1 + cases[i].n], 0x5c); /* the name follows at once */
		assert_int_equal(got[2 + cases[i].n], 0x00);
		free(got);
	}
}

static void test_integers(void **state)
{
	struct hv_aml a;

	(void)state;
	hv_aml_init(&a);
	hv_aml_int(&a, 0);
	hv_aml_int(&a, 1);
	hv_aml_int(&a, UINT64_MAX);
	hv_aml_int(&a, 2);
	hv_aml_int(&a, 0xff);
	hv_aml_int(&a, 0x100);
	hv_aml_int(&a, 0xffff);
	hv_aml_int(&a, 0x10000);
	hv_aml_int(&a, 0xffffffff);
	hv_aml_int(&a, 0x100000000ull);
	hv_aml_int(&a, UINT64_MAX - 1);
	EXPECT_AML(&a, 0x00, 0x01, 0xff,
		   0x0a, 0x02,
		   0x0a, 0xff,
		   0x0b, 0x00, 0x01,
		   0x0b, 0xff, 0xff,
		   0x0c, 0x00, 0x00, 0x01, 0x00,
		   0x0c, 0xff, 0xff, 0xff, 0xff,
		   0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		   0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
}

static void test_strings_and_eisaid(void **state)
{
	struct hv_aml a;
	uint32_t v;

	(void)state;
	hv_aml_init(&a);
	hv_aml_string(&a, "abc");
	hv_aml_string(&a, "");
	hv_aml_eisaid(&a, "PNP0501");
	hv_aml_eisaid(&a, "PNP0A03");
	/* P=0x10 N=0x0e P=0x10: 0100 0001 | 1101 0000, then the digits. */
	EXPECT_AML(&a, 0x0d, 'a', 'b', 'c', 0x00, 0x0d, 0x00,
		   0x0c, 0x41, 0xd0, 0x05, 0x01,
		   0x0c, 0x41, 0xd0, 0x0a, 0x03);
	expect_ret(hv_aml_eisaid_value("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105d041);
	expect_ret(hv_aml_eisaid_value("pnp0501", &v), -EINVAL);
	expect_ret(hv_aml_eisaid_value("PNP050", &v), -EINVAL);
	expect_ret(hv_aml_eisaid_value("PNP05G1", &v), -EINVAL);
	expect_ret(hv_aml_eisaid_value("LNRO0005", &v), -EINVAL);

	hv_aml_init(&a);
	hv_aml_string(&a, "caf\xc3\xa9");
	expect_err(hv_aml_take(&a, &(uint8_t *){ NULL }, &(size_t){ 0 }), -EINVAL, "ASCII");
}

static void test_namestrings(void **state)
{
	static const char *const bad[] = { "1ABC", "ABCDE", "a", "A..B", "A.", ".A",
					   "\\^A", "^\\A", "A B", "\\_SB.", "_SB_.COM1X" };
	struct hv_aml a;

	(void)state;
	hv_aml_init(&a);
	hv_aml_namestring(&a, "_SB_");
	hv_aml_namestring(&a, "_SB");		/* padded with '_' */
	hv_aml_namestring(&a, "\\_SB");
	hv_aml_namestring(&a, "\\");		/* the root: NullName after '\' */
	hv_aml_namestring(&a, "");		/* NullName */
	hv_aml_namestring(&a, "^FOO");
	hv_aml_namestring(&a, "^^A");
	hv_aml_namestring(&a, "\\_SB.COM1");	/* DualNamePrefix */
	hv_aml_namestring(&a, "A.B.C");		/* MultiNamePrefix, SegCount 3 */
	EXPECT_AML(&a, '_', 'S', 'B', '_',
		   '_', 'S', 'B', '_',
		   0x5c, '_', 'S', 'B', '_',
		   0x5c, 0x00,
		   0x00,
		   0x5e, 'F', 'O', 'O', '_',
		   0x5e, 0x5e, 'A', '_', '_', '_',
		   0x5c, 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1',
		   0x2f, 0x03, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_');

	for (size_t i = 0; i < HV_ARRAY_SIZE(bad); i++) {
		hv_aml_init(&a);
		hv_aml_namestring(&a, bad[i]);
		if (hv_aml_error(&a) != -EINVAL)
			fail_msg("name '%s' was accepted", bad[i]);
		hv_aml_release(&a);
	}
	assert_true(hv_aml_nameseg_valid("COM1"));
	assert_true(hv_aml_nameseg_valid("_S5"));
	assert_false(hv_aml_nameseg_valid("_SB.COM1"));
	assert_false(hv_aml_nameseg_valid(""));
	assert_false(hv_aml_nameseg_valid(NULL));
}

static void test_named_objects(void **state)
{
	struct hv_aml a;

	(void)state;
	hv_aml_init(&a);
	/* Scope (\_SB) { Device (COM1) { Name (_UID, Zero) } } */
	hv_aml_scope_begin(&a, "\\_SB_");
	hv_aml_device_begin(&a, "COM1");
	hv_aml_name_int(&a, "_UID", 0);
	hv_aml_end(&a);
	hv_aml_end(&a);
	/* Method (_STA, 0, NotSerialized) { Return (0x0F) } */
	hv_aml_method_begin(&a, "_STA", 0, false);
	hv_aml_return(&a);
	hv_aml_int(&a, 0x0f);
	hv_aml_end(&a);
	/* Method (M2, 2, Serialized) {} */
	hv_aml_method_begin(&a, "M2", 2, true);
	hv_aml_end(&a);
	/* Name (\_S5, Package (4) { 5, 5, Zero, Zero }) */
	hv_aml_name(&a, "\\_S5_");
	hv_aml_package_begin(&a, 4);
	hv_aml_int(&a, 5);
	hv_aml_int(&a, 5);
	hv_aml_int(&a, 0);
	hv_aml_int(&a, 0);
	hv_aml_end(&a);
	/* Name (_HID, "LNRO0005"), Buffer () { 1, 2, 3 }, Buffer (Zero) {} */
	hv_aml_name_string(&a, "_HID", "LNRO0005");
	hv_aml_buffer_begin(&a);
	hv_aml_raw(&a, (const uint8_t[]){ 1, 2, 3 }, 3);
	hv_aml_end(&a);
	hv_aml_buffer_begin(&a);
	hv_aml_end(&a);
	EXPECT_AML(&a,
		   0x10, 0x13, 0x5c, '_', 'S', 'B', '_',
		   0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1',
		   0x08, '_', 'U', 'I', 'D', 0x00,
		   0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f,
		   0x14, 0x06, 'M', '2', '_', '_', 0x0a,
		   0x08, 0x5c, '_', 'S', '5', '_',
		   0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
		   0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		   0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03,
		   0x11, 0x02, 0x00);
}

static void test_error_latching(void **state)
{
	struct hv_aml a;
	uint8_t *out = (uint8_t *)&a;
	size_t len = 99;

	(void)state;
	/* Past the size limit: -E2BIG latched, later calls do nothing. */
	hv_aml_init(&a);
	a.limit = 8;
	hv_aml_scope_begin(&a, "\\_SB_");
	hv_aml_name_int(&a, "_UID", 0x12345678);
	assert_int_equal(hv_aml_error(&a), -E2BIG);
	hv_aml_end(&a);
	hv_aml_string(&a, "more");
	expect_err(hv_aml_take(&a, &out, &len), -E2BIG, "AML");
	assert_null(out);
	assert_int_equal(len, 0);

	/* The first error is the one reported. */
	hv_aml_init(&a);
	hv_aml_namestring(&a, "bad");
	a.limit = 0;
	hv_aml_int(&a, 5);
	assert_int_equal(hv_aml_error(&a), -EINVAL);
	hv_aml_release(&a);

	/* Unbalanced objects. */
	hv_aml_init(&a);
	hv_aml_end(&a);
	expect_err(hv_aml_take(&a, &out, &len), -EINVAL, "without an open object");
	hv_aml_init(&a);
	hv_aml_device_begin(&a, "DEV0");
	expect_err(hv_aml_take(&a, &out, &len), -EINVAL, "still open");
	hv_aml_init(&a);
	for (int i = 0; i <= HV_AML_MAX_DEPTH; i++)
		hv_aml_scope_begin(&a, "S");
	expect_err(hv_aml_take(&a, &out, &len), -EINVAL, "nested too deeply");

	/* Argument limits. */
	hv_aml_init(&a);
	hv_aml_method_begin(&a, "M", 8, false);
	assert_int_equal(hv_aml_error(&a), -EINVAL);
	hv_aml_release(&a);
	hv_aml_init(&a);
	hv_aml_package_begin(&a, 256);
	assert_int_equal(hv_aml_error(&a), -EINVAL);
	hv_aml_release(&a);

	/* An empty writer hands out nothing, successfully. */
	hv_aml_init(&a);
	expect_ret(hv_aml_take(&a, &out, &len), 0);
	assert_null(out);
	assert_int_equal(len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglen_encoding),
		cmocka_unit_test(test_pkglen_in_objects),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings_and_eisaid),
		cmocka_unit_test(test_namestrings),
		cmocka_unit_test(test_named_objects),
		cmocka_unit_test(test_error_latching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
