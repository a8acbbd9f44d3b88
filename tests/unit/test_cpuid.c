/* SPDX-License-Identifier: MIT */
/* CPUID table helpers on crafted tables: lookup, APIC ids, topology. */
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/cpuid.h"
#include "hvlib/x86.h"
#include "unit/unit_util.h"
#include "util/error.h"

#define SIG KVM_CPUID_FLAG_SIGNIFCANT_INDEX

/* A small table shaped like KVM_GET_SUPPORTED_CPUID output. */
static const struct hv_x86_cpuid_entry template[] = {
	{ .function = 0x0, .eax = 0x1f, .ebx = 0x756e6547 },
	{ .function = 0x1, .eax = 0x906ea, .ebx = 0xaa08cc11, .ecx = 0xf7fa3203,
	  .edx = 0x0f8bfbff },
	{ .function = 0x4, .index = 0, .flags = SIG, .eax = 0x1c004121 }, /* L1d */
	{ .function = 0x4, .index = 1, .flags = SIG, .eax = 0x1c004122 }, /* L1i */
	{ .function = 0x4, .index = 2, .flags = SIG, .eax = 0x1c004143 }, /* L2 */
	{ .function = 0x4, .index = 3, .flags = SIG, .eax = 0x1c03c163 }, /* L3, 16 sharing */
	{ .function = 0x4, .index = 4, .flags = SIG, .eax = 0 },          /* no more caches */
	{ .function = 0x7, .index = 0, .flags = SIG, .ebx = 0x029c6fbf },
	{ .function = 0xb, .index = 0, .flags = SIG, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 9 },
	{ .function = 0xb, .index = 1, .flags = SIG, .eax = 5, .ebx = 16, .ecx = 0x201, .edx = 9 },
	{ .function = 0xb, .index = 2, .flags = SIG, .ecx = 2, .edx = 9 },
	{ .function = 0x1f, .index = 0, .flags = SIG, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 9 },
	{ .function = 0x1f, .index = 1, .flags = SIG, .eax = 6, .ebx = 32, .ecx = 0x201, .edx = 9 },
	{ .function = 0x1f, .index = 2, .flags = SIG, .eax = 7, .ebx = 64, .ecx = 0x502, .edx = 9 },
	{ .function = 0x80000000, .eax = 0x80000008 },
	{ .function = 0x80000001, .ecx = 0x121, .edx = 0x2c100800 },
	{ .function = 0x80000008, .eax = 0x3027, .ecx = 0x0000b00f },
};
#define N ((uint32_t)HV_ARRAY_SIZE(template))

static struct hv_x86_cpuid_entry table[N];

static int reset(void **state)
{
	(void)state;
	memcpy(table, template, sizeof(table));
	return 0;
}

static const struct hv_x86_cpuid_entry *orig(const struct hv_x86_cpuid_entry *e)
{
	return &template[e - table];
}

static void test_find(void **state)
{
	struct hv_x86_cpuid_entry *e;

	(void)state;
	/* Leaves without sub-leaves match any index. */
	e = hv_x86_cpuid_find(table, N, 0x1, 0);
	assert_ptr_equal(e, &table[1]);
	assert_ptr_equal(hv_x86_cpuid_find(table, N, 0x1, 5), &table[1]);
	assert_ptr_equal(hv_x86_cpuid_find(table, N, 0x80000001, UINT32_MAX), &table[15]);
	/* Leaves with KVM_CPUID_FLAG_SIGNIFCANT_INDEX match their index only. */
	for (uint32_t i = 0; i <= 4; i++)
		assert_ptr_equal(hv_x86_cpuid_find(table, N, 0x4, i), &table[2 + i]);
	assert_null(hv_x86_cpuid_find(table, N, 0x4, 5));
	assert_ptr_equal(hv_x86_cpuid_find(table, N, 0xb, 1), &table[9]);
	assert_ptr_equal(hv_x86_cpuid_find(table, N, 0x1f, 2), &table[13]);
	assert_null(hv_x86_cpuid_find(table, N, 0x7, 1));
	/* Absent leaves, and the table length is honoured. */
	assert_null(hv_x86_cpuid_find(table, N, 0x2, 0));
	assert_null(hv_x86_cpuid_find(table, N, 0x40000000, 0));
	assert_null(hv_x86_cpuid_find(table, 1, 0x1, 0));
	assert_ptr_equal(hv_x86_cpuid_find(table, 2, 0x1, 0), &table[1]);
	assert_null(hv_x86_cpuid_find(table, 0, 0x0, 0));
	assert_null(hv_x86_cpuid_find(NULL, 0, 0x0, 0));
	assert_null(hv_x86_cpuid_find(table + N - 1, 1, 0x1, 0));
	/* The result is writable in place. */
	e->ecx |= 1u << 31;
	assert_int_equal(table[1].ecx >> 31, 1);
}

static void test_find_first_match(void **state)
{
	struct hv_x86_cpuid_entry t[3] = {
		{ .function = 0xd, .index = 1, .flags = SIG },
		{ .function = 0xd, .index = 0, .flags = SIG },
		{ .function = 0xd, .index = 0, .flags = SIG, .eax = 1 },
	};

	(void)state;
	assert_ptr_equal(hv_x86_cpuid_find(t, 3, 0xd, 0), &t[1]); /* first of the duplicates */
	assert_ptr_equal(hv_x86_cpuid_find(t, 3, 0xd, 1), &t[0]);
	/* Without the flag the index is ignored: the first entry wins. */
	t[0].flags = 0;
	assert_ptr_equal(hv_x86_cpuid_find(t, 3, 0xd, 0), &t[0]);
}

static void test_set_apic_id(void **state)
{
	(void)state;
	hv_x86_cpuid_set_apic_id(table, N, 5);
	for (uint32_t i = 0; i < N; i++) {
		const struct hv_x86_cpuid_entry *e = &table[i], *o = orig(e);
		struct hv_x86_cpuid_entry want = *o;

		if (e->function == 0x1)
			want.ebx = (o->ebx & 0x00ffffff) | 5u << 24; /* initial APIC id */
		else if (e->function == 0xb || e->function == 0x1f)
			want.edx = 5; /* x2APIC id, every sub-leaf */
		if (memcmp(e, &want, sizeof(want)))
			fail_msg("leaf 0x%x.%u: eax %08x ebx %08x ecx %08x edx %08x, "
				 "want %08x %08x %08x %08x", e->function, e->index, e->eax, e->ebx, e->ecx, e->edx,
				 want.eax, want.ebx, want.ecx, want.edx);
	}
	assert_int_equal(table[1].ebx, 0x0508cc11);

	/* x2APIC ids beyond 255: the 8-bit field keeps the low byte only. */
	hv_x86_cpuid_set_apic_id(table, N, 0x1234);
	assert_int_equal(table[1].ebx, 0x3408cc11);
	assert_int_equal(table[8].edx, 0x1234);
	assert_int_equal(table[13].edx, 0x1234);
	hv_x86_cpuid_set_apic_id(table, N, 0);
	assert_int_equal(table[1].ebx, 0x0008cc11);
	assert_int_equal(table[9].edx, 0);

	/* Only the first n entries are touched. */
	memcpy(table, template, sizeof(table));
	hv_x86_cpuid_set_apic_id(table, 1, 7);
	assert_memory_equal(table, template, sizeof(table));
	hv_x86_cpuid_set_apic_id(NULL, 0, 7);
}

static void check_x2apic_leaf(uint32_t function, uint32_t apic_id, uint32_t nr_vcpus,
			      uint32_t core_bits)
{
	const struct hv_x86_cpuid_entry *smt = hv_x86_cpuid_find(table, N, function, 0);
	const struct hv_x86_cpuid_entry *core = hv_x86_cpuid_find(table, N, function, 1);
	const struct hv_x86_cpuid_entry *end = hv_x86_cpuid_find(table, N, function, 2);

	assert_non_null(smt);
	assert_non_null(core);
	assert_non_null(end);
	/* SMT level: one thread per core, shift 0. */
	assert_int_equal(smt->eax, 0);
	assert_int_equal(smt->ebx, 1);
	assert_int_equal(smt->ecx, 0x100);
	assert_int_equal(smt->edx, apic_id);
	/* Core level: all vCPUs, shift enough bits for their ids. */
	assert_int_equal(core->eax, core_bits);
	assert_int_equal(core->ebx, nr_vcpus);
	assert_int_equal(core->ecx, 0x201);
	assert_int_equal(core->edx, apic_id);
	/* Then the invalid level that ends the list. */
	assert_int_equal(end->eax, 0);
	assert_int_equal(end->ebx, 0);
	assert_int_equal(end->ecx, 2);
	assert_int_equal(end->edx, apic_id);
}

static void test_topology(void **state)
{
	static const struct {
		uint32_t nr, bits;
	} cases[] = { { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 }, { 64, 6 }, { 65, 7 } };

	(void)state;
	for (size_t c = 0; c < HV_ARRAY_SIZE(cases); c++) {
		uint32_t nr = cases[c].nr, id = nr - 1;

		memcpy(table, template, sizeof(table));
		hv_x86_cpuid_set_topology(table, N, id, nr);

		assert_int_equal(table[1].ebx, (id << 24) | (nr << 16) | 0xcc11);
		assert_int_equal(table[1].edx & (1u << 28), nr > 1 ? 1u << 28 : 0);
		check_x2apic_leaf(0xb, id, nr, cases[c].bits);
		/* Leaf 0x1f, when the host has it, must tell the same story. */
		check_x2apic_leaf(0x1f, id, nr, cases[c].bits);
		for (uint32_t i = 2; i <= 5; i++) {
			uint32_t cores = nr > 64 ? 64 : nr;

			/* Cores per package - 1 in EAX[31:26]; cache type/level kept. */
			assert_int_equal(table[i].eax >> 26, cores - 1);
			assert_int_equal(table[i].eax & 0x3ff, template[i].eax & 0x3ff);
		}
		assert_int_equal(table[6].eax, 0); /* the null cache entry stays null */
		assert_int_equal(table[16].ecx & 0xff, nr - 1);
		assert_int_equal((table[16].ecx >> 12) & 0xf, cases[c].bits);
		assert_int_equal(table[16].ecx & 0xffff0f00, template[16].ecx & 0xffff0f00);
		/* Leaves topology does not own are untouched. */
		assert_memory_equal(&table[0], &template[0], sizeof(table[0]));
		assert_memory_equal(&table[7], &template[7], sizeof(table[7]));
		assert_memory_equal(&table[15], &template[15], sizeof(table[15]));
	}
}

static void test_topology_many_vcpus(void **state)
{
	(void)state;
	/* 8-bit and 6-bit fields saturate instead of wrapping to small counts. */
	hv_x86_cpuid_set_topology(table, N, 300, 300);
	assert_int_equal((table[1].ebx >> 16) & 0xff, 255);
	assert_int_equal(table[1].ebx >> 24, 300 & 0xff);
	assert_int_equal(table[2].eax >> 26, 63);
	assert_int_equal(table[16].ecx & 0xff, 255);
	assert_int_equal((table[16].ecx >> 12) & 0xf, 9);
	assert_int_equal(hv_x86_cpuid_find(table, N, 0xb, 1)->ebx, 300);
	assert_int_equal(hv_x86_cpuid_find(table, N, 0xb, 1)->eax, 9);
	assert_int_equal(hv_x86_cpuid_find(table, N, 0xb, 0)->edx, 300);

	memcpy(table, template, sizeof(table));
	hv_x86_cpuid_set_topology(table, N, 0, 256);
	assert_int_equal((table[1].ebx >> 16) & 0xff, 255);
	assert_int_equal(table[16].ecx & 0xff, 255);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_find, reset),
		cmocka_unit_test(test_find_first_match),
		cmocka_unit_test_setup(test_set_apic_id, reset),
		cmocka_unit_test_setup(test_topology, reset),
		cmocka_unit_test_setup(test_topology_many_vcpus, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
