/* SPDX-License-Identifier: MIT */
/*
 * Resource templates from the AML writer against bytes worked out by hand
 * from the ACPI 6.x specification (6.4 Resource Data Types), not from
 * aml_resource.c, and the misuses the writer refuses.
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

/* COM1's _CRS: IO (Decode16, 0x3F8, 0x3F8, 1, 8), IRQNoFlags () {4}.  The
 * descriptors sum to 0x2f2 with the end tag's 0x79, so the checksum is
 * 0x100 - 0xf2 = 0x0e; BufferSize 13, PkgLength 1 + 2 + 13 = 16. */
static void test_restemplate_com1(void **state)
{
	struct hv_aml a;

	(void)state;
	hv_aml_init(&a);
	hv_aml_restemplate_begin(&a);
	hv_aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	hv_aml_res_irq(&a, 4, HV_AML_IRQ_EDGE | HV_AML_IRQ_CONSUMER);
	hv_aml_end(&a);
	EXPECT_AML(&a, 0x11, 0x10, 0x0a, 0x0d,
		   0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		   0x22, 0x10, 0x00,
		   0x79, 0x0e);
}

/* virtio-mmio: Memory32Fixed (ReadWrite, 0xD0000000, 0x200) and
 * Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {5}.  Sum
 * 0x162 + 0x98 + 0x79 = 0x273: checksum 0x8d. */
static void test_restemplate_virtio(void **state)
{
	static const uint32_t irq = 5;
	struct hv_aml a;

	(void)state;
	hv_aml_init(&a);
	hv_aml_restemplate_begin(&a);
	hv_aml_res_memory32_fixed(&a, true, 0xd0000000, 0x200);
	hv_aml_res_ext_irq(&a, HV_AML_IRQ_CONSUMER | HV_AML_IRQ_EDGE, &irq, 1);
	hv_aml_end(&a);
	EXPECT_AML(&a, 0x11, 0x1a, 0x0a, 0x17,
		   0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00,
		   0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,
		   0x79, 0x8d);
}

/* The descriptors a PCI host bridge will need, one by one (end tag checksum
 * recomputed from the bytes above it, which the other tests pin by hand). */
static void test_restemplate_windows(void **state)
{
	static const uint32_t irqs[] = { 16, 17 };
	struct hv_aml_addr_space bus = {
		.type = HV_AML_SPACE_BUS,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.max = 0xff, .length = 0x100,
	};
	struct hv_aml_addr_space m32 = {
		.type = HV_AML_SPACE_MEMORY,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.type_flags = HV_AML_MEM_RW,
		.min = 0xc0000000, .max = 0xdfffffff, .length = 0x20000000,
	};
	struct hv_aml_addr_space m64 = {
		.type = HV_AML_SPACE_MEMORY,
		.general_flags = HV_AML_ADDR_MIN_FIXED | HV_AML_ADDR_MAX_FIXED,
		.type_flags = HV_AML_MEM_RW | HV_AML_MEM_PREFETCHABLE,
		.min = 0x8000000000ull, .max = 0x8fffffffffull, .length = 0x1000000000ull,
	};
	struct hv_aml a;
	uint8_t *got;
	size_t len;
	uint8_t sum = 0;

	(void)state;
	hv_aml_init(&a);
	hv_aml_restemplate_begin(&a);
	hv_aml_res_word_space(&a, &bus);
	hv_aml_res_dword_space(&a, &m32);
	hv_aml_res_qword_space(&a, &m64);
	hv_aml_res_fixed_io(&a, 0x60, 1);
	hv_aml_res_irq(&a, 7, HV_AML_IRQ_ACTIVE_LOW | HV_AML_IRQ_SHARED);
	hv_aml_res_ext_irq(&a, HV_AML_IRQ_CONSUMER | HV_AML_IRQ_ACTIVE_LOW | HV_AML_IRQ_SHARED,
			   irqs, 2);
	hv_aml_end(&a);
	expect_ret(hv_aml_take(&a, &got, &len), 0);
	{
		static const uint8_t want[] = {
			/* 111 bytes of descriptors: PkgLength 1 + 2 + 111 = 114 needs
			 * two bytes, so it says 115 (0x43 0x07). */
			0x11, 0x43, 0x07, 0x0a, 0x6f,
			/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode) */
			0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
			0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
			/* DWordMemory (..., NonCacheable, ReadWrite) */
			0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
			/* QWordMemory (..., Prefetchable, ReadWrite) */
			0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x07,
			0, 0, 0, 0, 0, 0, 0, 0,
			0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
			0xff, 0xff, 0xff, 0xff, 0x8f, 0x00, 0x00, 0x00,
			0, 0, 0, 0, 0, 0, 0, 0,
			0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
			/* FixedIO (0x60, 1) */
			0x4b, 0x60, 0x00, 0x01,
			/* IRQ (Level, ActiveLow, Shared) {7}: _LL bit 3, _SHR bit 4 */
			0x23, 0x80, 0x00, 0x18,
			/* Interrupt (ResourceConsumer, Level, ActiveLow, Shared) {16, 17} */
			0x89, 0x0a, 0x00, 0x0d, 0x02, 0x10, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00,
			0x79,
		};

		assert_int_equal(len, sizeof(want) + 1);
		assert_memory_equal(got, want, sizeof(want));
		for (size_t i = 5; i < len; i++)
			sum = (uint8_t)(sum + got[i]);
		assert_int_equal(sum, 0);
	}
	free(got);
}

/* Each misuse fails with -EINVAL and the writer stays failed. */
static void test_resource_misuse(void **state)
{
	static const uint32_t irq = 3;
	/* A fixed window whose length is not max - min + 1. */
	struct hv_aml_addr_space liar = { .type = HV_AML_SPACE_MEMORY,
					  .general_flags = HV_AML_ADDR_MIN_FIXED |
							   HV_AML_ADDR_MAX_FIXED,
					  .min = 0x1000, .max = 0x1fff, .length = 0x2000 };
	/* Too wide for a Word descriptor. */
	struct hv_aml_addr_space wide = { .type = HV_AML_SPACE_BUS, .min = 0xffff,
					  .max = 0x10000, .length = 2 };
	struct hv_aml a;

	(void)state;
	for (int i = 0; i < 7; i++) {
		hv_aml_init(&a);
		if (i > 0)
			hv_aml_restemplate_begin(&a);
		switch (i) {
		case 0: hv_aml_res_io(&a, 0, 0, 1, 1); break;   /* outside a template */
		case 1: hv_aml_res_irq(&a, 16, HV_AML_IRQ_EDGE); break;
		case 2: hv_aml_res_fixed_io(&a, 0x400, 1); break;
		case 3: hv_aml_res_dword_space(&a, &liar); break;
		case 4: hv_aml_res_word_space(&a, &wide); break;
		case 5: hv_aml_res_ext_irq(&a, HV_AML_IRQ_ALL + 1, &irq, 1); break;
		case 6: hv_aml_res_ext_irq(&a, 0, &irq, 0); break;
		}
		if (hv_aml_error(&a) != -EINVAL)
			fail_msg("misuse %d was accepted", i);
		hv_aml_release(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restemplate_com1),
		cmocka_unit_test(test_restemplate_virtio),
		cmocka_unit_test(test_restemplate_windows),
		cmocka_unit_test(test_resource_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
