/* SPDX-License-Identifier: MIT */
/*
 * The long-mode identity map, checked by walking the built tables the way the
 * MMU does (PML4 -> PDPT -> PD with 2 MiB pages), from the architecture's
 * entry format rather than from pagetable.c's layout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hvlib/x86.h"
#include "unit/unit_util.h"

#define PAGE 4096ull
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define TIB (1ull << 40)

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull    /* table or 4 KiB frame address */
#define PDE_2M_ADDR 0x000fffffffe00000ull /* 2 MiB frame address */
#define PDE_2M_RSVD 0x00000000001fe000ull /* bits 20:13 must be 0 in a 2 MiB PDE */
#define PTE_HIGH 0x7ff0000000000000ull    /* bits 62:52: ignored/protection keys; expect 0 */

/* Where the tables were built: host copy and guest-physical address. */
struct tables {
	const uint8_t *buf;
	uint64_t bytes;
	uint64_t gpa;
};

static uint64_t entry(const struct tables *t, uint64_t table_gpa, uint64_t index)
{
	uint64_t e;

	if (table_gpa < t->gpa || table_gpa - t->gpa > t->bytes - PAGE)
		fail_msg("table at 0x%llx is outside the buffer 0x%llx+0x%llx",
			 (unsigned long long)table_gpa, (unsigned long long)t->gpa,
			 (unsigned long long)t->bytes);
	memcpy(&e, t->buf + (table_gpa - t->gpa) + index * 8, sizeof(e));
	return e;
}

/* The supervisor-writable, executable, non-leaf entry every level above the PD uses. */
static void check_table_entry(uint64_t e, const char *level, uint64_t va)
{
	if ((e & (PTE_RW | PTE_PS | PTE_NX | PTE_HIGH)) != PTE_RW)
		fail_msg("%s entry 0x%llx for 0x%llx: want RW, no PS/NX/high bits", level,
			 (unsigned long long)e, (unsigned long long)va);
}

/* Translate va like the MMU; false if not present at some level. */
static bool walk(const struct tables *t, uint64_t cr3, uint64_t va, uint64_t *pa)
{
	uint64_t e;

	assert_int_equal(cr3 & 0xfff, 0);
	e = entry(t, cr3 & PTE_ADDR, (va >> 39) & 511);
	if (!(e & PTE_P))
		return false;
	check_table_entry(e, "PML4", va);
	e = entry(t, e & PTE_ADDR, (va >> 30) & 511);
	if (!(e & PTE_P))
		return false;
	check_table_entry(e, "PDPT", va); /* PS here would be a 1 GiB page */
	e = entry(t, e & PTE_ADDR, (va >> 21) & 511);
	if (!(e & PTE_P))
		return false;
	if (!(e & PTE_PS) || !(e & PTE_RW) || (e & (PTE_NX | PTE_HIGH | PDE_2M_RSVD)))
		fail_msg("PD entry 0x%llx for 0x%llx: want a writable 2 MiB page",
			 (unsigned long long)e, (unsigned long long)va);
	*pa = (e & PDE_2M_ADDR) | (va & (2 * MIB - 1));
	return true;
}

static void expect_identity(const struct tables *t, uint64_t cr3, uint64_t va)
{
	uint64_t pa = ~0ull;

	if (!walk(t, cr3, va, &pa))
		fail_msg("0x%llx is not mapped", (unsigned long long)va);
	if (pa != va)
		fail_msg("0x%llx maps to 0x%llx", (unsigned long long)va, (unsigned long long)pa);
}

static void expect_unmapped(const struct tables *t, uint64_t cr3, uint64_t va)
{
	uint64_t pa;

	if (walk(t, cr3, va, &pa))
		fail_msg("0x%llx should not be mapped (maps to 0x%llx)", (unsigned long long)va,
			 (unsigned long long)pa);
}

/*
 * Build a map of identity_bytes at buf_gpa and check every 2 MiB page (its
 * first, last and a random byte), that the mapping ends at mapped_bytes, and
 * that nothing past the reported size was written.
 */
static void check_map(uint64_t identity_bytes, uint64_t mapped_bytes, uint64_t buf_gpa,
		      uint64_t expect_table_bytes)
{
	uint64_t need = hv_x86_identity_map_bytes(identity_bytes);
	uint64_t cr3 = 0, rng = (identity_bytes ^ buf_gpa) | 1;
	struct tables t;
	uint8_t *buf;

	assert_int_equal(need, expect_table_bytes);
	buf = aligned_alloc(PAGE, need + PAGE);
	assert_non_null(buf);
	memset(buf, 0xab, need + PAGE);
	expect_ret(hv_x86_build_identity_map(buf, need, buf_gpa, identity_bytes, &cr3), 0);
	assert_int_equal(cr3, buf_gpa); /* the PML4 comes first */
	for (uint64_t i = 0; i < PAGE; i++)
		if (buf[need + i] != 0xab)
			fail_msg("byte %llu past the tables was written", (unsigned long long)i);

	t.buf = buf;
	t.bytes = need;
	t.gpa = buf_gpa;
	for (uint64_t va = 0; va < mapped_bytes; va += 2 * MIB) {
		expect_identity(&t, cr3, va);
		expect_identity(&t, cr3, va + 2 * MIB - 1);
		expect_identity(&t, cr3, va + test_rand(&rng) % (2 * MIB));
	}
	expect_unmapped(&t, cr3, mapped_bytes);
	expect_unmapped(&t, cr3, mapped_bytes + 2 * MIB - 1);
	expect_unmapped(&t, cr3, mapped_bytes + GIB);
	expect_unmapped(&t, cr3, mapped_bytes + 512 * GIB);
	for (int i = 0; i < 1000; i++) {
		uint64_t va = mapped_bytes + test_rand(&rng) % ((1ull << 47) - mapped_bytes);

		expect_unmapped(&t, cr3, va);
	}
	free(buf);
}

static void test_2mib(void **state)
{
	(void)state;
	check_map(2 * MIB, 2 * MIB, 0x9000, 3 * PAGE);
}

static void test_1gib(void **state)
{
	(void)state;
	check_map(GIB, GIB, 0x100000, 3 * PAGE);
}

static void test_4gib_default(void **state)
{
	(void)state;
	/* 0 means 4 GiB: one PML4, one PDPT, four page directories. */
	check_map(0, 4 * GIB, 0x1000, 6 * PAGE);
	check_map(4 * GIB, 4 * GIB, 0x1000, 6 * PAGE);
}

static void test_513gib(void **state)
{
	(void)state;
	/* Past 512 GiB a second PML4 entry and PDPT are needed. */
	check_map(513 * GIB, 513 * GIB, 0x200000, (1 + 2 + 513) * PAGE);
	check_map(512 * GIB, 512 * GIB, 0, (1 + 1 + 512) * PAGE);
}

static void test_rounding(void **state)
{
	(void)state;
	/* Sizes round up to whole 2 MiB pages (and table pages). */
	check_map(1, 2 * MIB, 0x5000, 3 * PAGE);
	check_map(3 * MIB, 4 * MIB, 0x5000, 3 * PAGE);
	check_map(2 * MIB + 1, 4 * MIB, 0x5000, 3 * PAGE);
	check_map(GIB + 1, GIB + 2 * MIB, 0x5000, 4 * PAGE);
	check_map(GIB - 1, GIB, 0x5000, 3 * PAGE);
	/* Tables above 4 GiB hold 64-bit addresses. */
	check_map(8 * GIB + PAGE, 8 * GIB + 2 * MIB, 0x123456000ull, (1 + 1 + 9) * PAGE);
}

static void test_table_sizes(void **state)
{
	(void)state;
	assert_int_equal(hv_x86_identity_map_bytes(0), 6 * PAGE);
	assert_int_equal(hv_x86_identity_map_bytes(1), 3 * PAGE);
	assert_int_equal(hv_x86_identity_map_bytes(GIB), 3 * PAGE);
	assert_int_equal(hv_x86_identity_map_bytes(GIB + 1), 4 * PAGE);
	assert_int_equal(hv_x86_identity_map_bytes(512 * GIB), 514 * PAGE);
	assert_int_equal(hv_x86_identity_map_bytes(512 * GIB + 1), 516 * PAGE);
	/* The largest map (64 TiB): 128 PDPTs, 65536 directories. */
	assert_int_equal(hv_x86_identity_map_bytes(64 * TIB), (1 + 128 + 65536) * PAGE);
	assert_int_equal(hv_x86_identity_map_bytes(64 * TIB + 1), 0);
	assert_int_equal(hv_x86_identity_map_bytes(UINT64_MAX), 0);

	/* Long mode adds one page for the GDT. */
	assert_int_equal(hv_x86_long_mode_scratch_bytes(0), 7 * PAGE);
	assert_int_equal(hv_x86_long_mode_scratch_bytes(2 * MIB), 4 * PAGE);
	assert_int_equal(hv_x86_long_mode_scratch_bytes(513 * GIB), 517 * PAGE);
	assert_int_equal(hv_x86_long_mode_scratch_bytes(64 * TIB + 1), 0);
	assert_int_equal(hv_x86_long_mode_scratch_bytes(UINT64_MAX), 0);
}

static void test_errors(void **state)
{
	uint64_t need = hv_x86_identity_map_bytes(0), cr3 = 0x1234;
	uint8_t *buf = aligned_alloc(PAGE, need + PAGE);

	(void)state;
	assert_non_null(buf);
	memset(buf, 0xab, need + PAGE);

	/* Too short by a byte or a page: -ENOSPC, and nothing written. */
	expect_err(hv_x86_build_identity_map(buf, need - 1, 0, 0, &cr3), -ENOSPC, "needs 24576");
	expect_ret(hv_x86_build_identity_map(buf, need - PAGE, 0, 0, &cr3), -ENOSPC);
	expect_ret(hv_x86_build_identity_map(buf, 0, 0, 2 * MIB, &cr3), -ENOSPC);
	for (uint64_t i = 0; i < need; i++)
		assert_int_equal(buf[i], 0xab);
	assert_int_equal(cr3, 0x1234);

	/* Unaligned guest address, NULL or misaligned buffer, too large a map,
	 * tables that would wrap the guest address space. */
	expect_err(hv_x86_build_identity_map(buf, need, 0x800, 0, &cr3), -EINVAL, "page aligned");
	expect_ret(hv_x86_build_identity_map(buf, need, 0x1001, 0, &cr3), -EINVAL);
	expect_ret(hv_x86_build_identity_map(NULL, need, 0, 0, &cr3), -EINVAL);
	expect_ret(hv_x86_build_identity_map(buf + 4, need, 0, 0, &cr3), -EINVAL);
	expect_err(hv_x86_build_identity_map(buf, need, 0, 64 * TIB + 1, &cr3), -EINVAL, "64 TiB");
	expect_err(hv_x86_build_identity_map(buf, need, UINT64_MAX - PAGE + 1, 0, &cr3), -EINVAL,
		   "wrap");
	for (uint64_t i = 0; i < need; i++)
		assert_int_equal(buf[i], 0xab);
	assert_int_equal(cr3, 0x1234);

	/* A bigger buffer than needed is fine and only the tables are written. */
	expect_ret(hv_x86_build_identity_map(buf, need + PAGE, 0x2000, 0, &cr3), 0);
	assert_int_equal(cr3, 0x2000);
	assert_int_equal(buf[need], 0xab);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_2mib),
		cmocka_unit_test(test_1gib),
		cmocka_unit_test(test_4gib_default),
		cmocka_unit_test(test_513gib),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_table_sizes),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
