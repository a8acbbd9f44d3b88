/* SPDX-License-Identifier: MIT */
/*
 * hv_mem_discard(): pages given back to the host really leave (mincore()
 * says they are no longer resident) and read back as zeros, for anonymous
 * and memfd memory; copy-on-write file memory falls back to the file;
 * read-only regions, holes, unaligned ranges and ranges running past a
 * region are refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "mem/mem_internal.h"
#include "unit/unit_util.h"

#define PAGE 4096u
#define REGION (64u * PAGE)

/* Resident pages among [host, host + len). */
static unsigned resident(uint8_t *host, size_t len)
{
	unsigned char vec[REGION / PAGE];
	unsigned n = 0;

	assert_int_equal(mincore(host, len, vec), 0);
	for (size_t i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

static uint8_t *add(struct hv_mem *mem, uint64_t gpa, uint32_t backing, uint32_t flags, int fd)
{
	struct hv_mem_region_config rc;
	void *p;

	hv_mem_region_config_init(&rc);
	rc.gpa = gpa;
	rc.bytes = REGION;
	rc.backing = backing;
	rc.flags = flags;
	rc.fd = fd;
	expect_ret(hv_mem_add_region(mem, &rc, NULL), 0);
	expect_ret(hv_mem_translate(mem, gpa, REGION, &p), 0);
	return p;
}

static void check_discard(uint32_t backing)
{
	struct hv_mem *mem;
	uint8_t *host;

	expect_ret(hv_mem_create(&mem), 0);
	host = add(mem, 0x100000, backing, 0, -1);
	memset(host, 0xab, REGION);
	assert_int_equal(resident(host, REGION), REGION / PAGE);
	/* Pages 8..23 go; their neighbours stay. */
	expect_ret(hv_mem_discard(mem, 0x100000 + 8 * PAGE, 16 * PAGE), 0);
	assert_int_equal(resident(host, REGION), REGION / PAGE - 16);
	assert_int_equal(host[8 * PAGE - 1], 0xab);
	assert_int_equal(host[24 * PAGE], 0xab);
	for (size_t i = 8 * PAGE; i < 24 * PAGE; i++)
		if (host[i])
			fail_msg("byte %zu reads 0x%02x after discard", i, host[i]);
	hv_mem_destroy(mem);
}

static void test_anon(void **state)
{
	(void)state;
	check_discard(HV_MEM_ANON);
}

static void test_memfd(void **state)
{
	(void)state;
	check_discard(HV_MEM_MEMFD);
}

/* Copy-on-write file memory: the guest's copies go, the file shows again. */
static void test_private_file(void **state)
{
	int fd = temp_file(REGION, 3);
	struct hv_mem *mem;
	uint8_t *host;

	(void)state;
	assert_true(fd >= 0);
	expect_ret(hv_mem_create(&mem), 0);
	host = add(mem, 0, HV_MEM_FILE, HV_MEM_F_PRIVATE, fd);
	memset(host, 0, 2 * PAGE);
	expect_ret(hv_mem_discard(mem, 0, PAGE), 0);
	assert_int_equal(host[5], pattern_byte(3, 5));
	assert_int_equal(host[PAGE + 5], 0);
	hv_mem_destroy(mem);
	close(fd);
}

static void test_refused(void **state)
{
	struct hv_mem *mem;
	uint8_t *rom;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	add(mem, 0, HV_MEM_ANON, 0, -1);
	rom = add(mem, 0x200000, HV_MEM_ANON, HV_MEM_F_READONLY, -1);
	rom[0] = 0x5a;
	expect_err(hv_mem_discard(mem, 0x200000, PAGE), -EPERM, "read-only");
	assert_int_equal(rom[0], 0x5a);
	expect_err(hv_mem_discard(mem, 0x100000, PAGE), -EFAULT, "not in guest RAM");
	expect_err(hv_mem_discard(mem, REGION - PAGE, 2 * PAGE), -EFAULT, "past the end");
	expect_err(hv_mem_discard(mem, 0x10, PAGE), -EINVAL, "aligned");
	expect_err(hv_mem_discard(mem, 0, 100), -EINVAL, "aligned");
	expect_ret(hv_mem_discard(mem, PAGE, UINT64_MAX - PAGE + 1), -EFAULT);
	expect_ret(hv_mem_discard(mem, UINT64_MAX & ~0xfffull, PAGE), -EFAULT);
	expect_ret(hv_mem_discard(mem, 0, 0), 0);
	hv_mem_destroy(mem);
}

/* Memory the kernel will not drop (locked): the error comes back with the
 * range, and the pages stay. */
static void test_locked(void **state)
{
	struct hv_mem_region_config rc;
	struct hv_mem *mem;
	uint8_t *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	assert_true(p != MAP_FAILED);
	memset(p, 0x11, REGION);
	if (!lock_pages(p, PAGE)) {
		munmap(p, REGION);
		skip();
	}
	expect_ret(hv_mem_create(&mem), 0);
	hv_mem_region_config_init(&rc);
	rc.bytes = REGION;
	rc.backing = HV_MEM_HOST;
	rc.host_addr = p;
	expect_ret(hv_mem_add_region(mem, &rc, NULL), 0);
	expect_err(hv_mem_discard(mem, 0, PAGE), -EINVAL, "discarding 0x0+0x1000");
	assert_int_equal(p[0], 0x11);
	expect_ret(hv_mem_discard(mem, PAGE, PAGE), 0);
	assert_int_equal(p[PAGE], 0);
	hv_mem_destroy(mem);
	munmap(p, REGION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anon),
		cmocka_unit_test(test_memfd),
		cmocka_unit_test(test_private_file),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_locked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
