/* SPDX-License-Identifier: MIT */
/* The guest memory map on its own: backings, validation, translation, copies. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/mem.h"
#include "mem/mem_internal.h"
#include "unit/unit_util.h"
#include "util/error.h"

#define PAGE 4096ull
#define MIB (1ull << 20)

static struct hv_mem_region_config region(uint32_t backing, uint64_t gpa, uint64_t bytes,
					  uint32_t flags)
{
	struct hv_mem_region_config cfg;

	hv_mem_region_config_init(&cfg);
	cfg.backing = backing;
	cfg.gpa = gpa;
	cfg.bytes = bytes;
	cfg.flags = flags;
	return cfg;
}

/* Add an anonymous region and return its id (the test fails otherwise). */
static uint32_t add_anon(struct hv_mem *mem, uint64_t gpa, uint64_t bytes, const char *name)
{
	struct hv_mem_region_config cfg = region(HV_MEM_ANON, gpa, bytes, 0);
	uint32_t id = UINT32_MAX;

	cfg.name = name;
	expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
	assert_int_not_equal(id, UINT32_MAX);
	return id;
}

static int region_count(const struct hv_mem *mem)
{
	return hv_mem_regions(mem, NULL, 0);
}

static int setup(void **state)
{
	struct hv_mem *mem = NULL;

	if (hv_mem_create(&mem))
		return -1;
	*state = mem;
	return 0;
}

static int teardown(void **state)
{
	hv_mem_destroy(*state);
	return 0;
}

static void test_config_init(void **state)
{
	struct hv_mem_region_config cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	hv_mem_region_config_init(&cfg);
	assert_int_equal(cfg.size, sizeof(cfg));
	assert_int_equal(cfg.flags, 0);
	assert_int_equal(cfg.backing, HV_MEM_ANON);
	assert_int_equal(cfg.fd, -1);
	assert_int_equal(cfg.gpa, 0);
	assert_int_equal(cfg.bytes, 0);
	assert_int_equal(cfg.fd_offset, 0);
	assert_null(cfg.host_addr);
	assert_null(cfg.name);
	hv_mem_destroy(NULL); /* no-op */
}

static void test_anon(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_info info;
	uint8_t buf[64], zero[64] = { 0 };
	uint32_t id;
	void *hva;

	id = add_anon(mem, 0x100000, 16 * PAGE, "ram");
	assert_int_equal(id, 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_int_equal(info.id, id);
	assert_int_equal(info.backing, HV_MEM_ANON);
	assert_int_equal(info.gpa, 0x100000);
	assert_int_equal(info.bytes, 16 * PAGE);
	assert_int_equal(info.fd, -1);
	assert_string_equal(info.name, "ram");
	assert_non_null(info.host_addr);

	/* Anonymous memory starts zeroed, and the host pointer is the memory. */
	expect_ret(hv_mem_read(mem, 0x100000 + 16 * PAGE - sizeof(buf), buf, sizeof(buf)), 0);
	assert_memory_equal(buf, zero, sizeof(buf));
	expect_ret(hv_mem_translate(mem, 0x100000 + PAGE, 8, &hva), 0);
	assert_ptr_equal(hva, (uint8_t *)info.host_addr + PAGE);
	memcpy(hva, "hostside", 8);
	expect_ret(hv_mem_read(mem, 0x100000 + PAGE, buf, 8), 0);
	assert_memory_equal(buf, "hostside", 8);

	expect_ret(hv_mem_remove_region(mem, id), 0);
	assert_int_equal(region_count(mem), 0);
	expect_ret(hv_mem_translate(mem, 0x100000, 1, &hva), -EFAULT);
	expect_err(hv_mem_remove_region(mem, id), -ENOENT, "no region with id 0");
	expect_ret(hv_mem_region_info(mem, id, &info), -ENOENT);
}

static void test_memfd(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_MEMFD, 0, 4 * PAGE, 0);
	struct hv_mem_region_info info;
	char back[8];
	uint32_t id;
	int fd;

	cfg.name = "shared-ram";
	expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_int_equal(info.backing, HV_MEM_MEMFD);
	assert_true(info.fd >= 0);
	fd = info.fd;
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(lseek(fd, 0, SEEK_END), 4 * PAGE);

	/* Shared: a guest write is in the memfd, a write to the memfd is in the guest. */
	expect_ret(hv_mem_write(mem, 3 * PAGE + 5, "memfd!", 6), 0);
	assert_int_equal(pread(fd, back, 6, 3 * PAGE + 5), 6);
	assert_memory_equal(back, "memfd!", 6);
	assert_int_equal(pwrite(fd, "viafd", 5, 100), 5);
	expect_ret(hv_mem_read(mem, 100, back, 5), 0);
	assert_memory_equal(back, "viafd", 5);

	/* Removal closes the memfd hvlib owned. */
	expect_ret(hv_mem_remove_region(mem, id), 0);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

/* A memfd region's name becomes the memfd's name, whose length Linux
 * limits; the region name itself is documented without a limit. */
static void test_memfd_long_name(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_MEMFD, 0, PAGE, 0);
	struct hv_mem_region_info info;
	char name[400];
	uint32_t id;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cfg.name = name;
	expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_string_equal(info.name, name); /* the region keeps its full name */
	expect_ret(hv_mem_remove_region(mem, id), 0);
}

static void test_file_shared(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_FILE, 0x10000, 2 * PAGE, 0);
	struct hv_mem_region_info info;
	uint8_t buf[2 * PAGE];
	int fd = temp_file(4 * PAGE, 0x11);
	uint32_t id;

	assert_true(fd >= 0);
	cfg.fd = fd;
	cfg.fd_offset = PAGE;
	expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_true(info.fd >= 0);
	assert_int_not_equal(info.fd, fd); /* hvlib keeps its own duplicate */

	/* The region shows the file from fd_offset on. */
	expect_ret(hv_mem_read(mem, 0x10000, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != pattern_byte(0x11, PAGE + i))
			fail_msg("byte %zu: 0x%x, file has 0x%x", i, buf[i],
				 pattern_byte(0x11, PAGE + i));

	/* The caller may close its descriptor; the mapping is shared with the file. */
	close(fd);
	expect_ret(hv_mem_write(mem, 0x10000 + PAGE, "written", 7), 0);
	assert_int_equal(pread(info.fd, buf, 7, 2 * PAGE), 7);
	assert_memory_equal(buf, "written", 7);
	expect_ret(hv_mem_remove_region(mem, id), 0);
}

/* Private (and read-only) file regions are copy-on-write: the file never changes. */
static void check_cow_file(struct hv_mem *mem, uint32_t flags, int open_flags)
{
	struct hv_mem_region_config cfg = region(HV_MEM_FILE, 0, 3 * PAGE, flags);
	struct hv_mem_region_info info;
	uint8_t page[PAGE], file_page[PAGE];
	char path[] = "/tmp/hvlib-unit-cow-XXXXXX";
	int wfd = mkstemp(path), fd;
	uint32_t id;

	assert_true(wfd >= 0);
	for (size_t i = 0; i < PAGE; i++)
		page[i] = pattern_byte(0x42, i);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pwrite(wfd, page, PAGE, i * (off_t)PAGE), PAGE);
	fd = open(path, open_flags);
	unlink(path);
	close(wfd);
	assert_true(fd >= 0);

	cfg.fd = fd;
	expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
	expect_ret(hv_mem_write(mem, PAGE + 10, "scribble", 8), 0);
	expect_ret(hv_mem_read(mem, PAGE + 10, page, 8), 0);
	assert_memory_equal(page, "scribble", 8); /* the guest sees its write */
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_int_equal(info.flags, flags);
	expect_ret(hv_mem_remove_region(mem, id), 0);

	assert_int_equal(pread(fd, file_page, PAGE, PAGE), PAGE);
	for (size_t i = 0; i < PAGE; i++)
		if (file_page[i] != pattern_byte(0x42, i))
			fail_msg("file byte %llu changed to 0x%x", PAGE + i, file_page[i]);
	close(fd);
}

static void test_file_private(void **state)
{
	check_cow_file(*state, HV_MEM_F_PRIVATE, O_RDWR);
	/* A read-only descriptor is enough for a private mapping. */
	check_cow_file(*state, HV_MEM_F_PRIVATE, O_RDONLY);
}

static void test_file_readonly(void **state)
{
	/* ROM images come from read-only files: mapped copy-on-write too. */
	check_cow_file(*state, HV_MEM_F_READONLY, O_RDONLY);
	check_cow_file(*state, HV_MEM_F_READONLY, O_RDWR);
}

static void test_file_errors(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_FILE, 0, 2 * PAGE, 0);
	int fd = temp_file(2 * PAGE, 1), rofd;
	char path[64];
	int fds;

	assert_true(fd >= 0);
	fds = count_open_fds();

	cfg.fd = -1;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "fd");
	cfg.fd = fd;
	cfg.fd_offset = 100;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "page-aligned offset");
	/* The file is too short for the region at this offset. */
	cfg.fd_offset = PAGE;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "file has 8192 bytes");
	cfg.fd_offset = 0;
	cfg.bytes = 3 * PAGE;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "file has 8192 bytes");
	/* An offset so large that offset + bytes wraps must not slip through. */
	cfg.bytes = 2 * PAGE;
	cfg.fd_offset = UINT64_MAX - PAGE + 1;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "beyond any file");
	cfg.fd_offset = (uint64_t)INT64_MAX - PAGE + 1; /* no wrap, but past off_t */
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "beyond any file");
	cfg.fd_offset = 0;

	/* A shared mapping must be able to write the file. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rofd = open(path, O_RDONLY);
	assert_true(rofd >= 0);
	cfg.fd = rofd;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EACCES, "mapping file");
	close(rofd);

	/* A descriptor that is not open. */
	cfg.fd = 1000;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EBADF, "fd 1000");

	assert_int_equal(region_count(mem), 0);
	assert_int_equal(count_open_fds(), fds); /* failures leak no duplicate */
	close(fd);
}

static void test_host(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_HOST, 0x200000, 2 * PAGE, 0);
	struct hv_mem_region_info info;
	uint8_t *host = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t id;
	void *hva;

	assert_true(host != MAP_FAILED);
	cfg.host_addr = NULL;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "page-aligned address");
	cfg.host_addr = host + 8;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "page-aligned address");
	cfg.host_addr = host;
	expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_ptr_equal(info.host_addr, host);
	assert_int_equal(info.fd, -1);
	assert_string_equal(info.name, ""); /* no name given */
	expect_ret(hv_mem_translate(mem, 0x200000 + PAGE + 3, 1, &hva), 0);
	assert_ptr_equal(hva, host + PAGE + 3);
	expect_ret(hv_mem_write(mem, 0x200000 + 2 * PAGE - 4, "tail", 4), 0);
	assert_memory_equal(host + 2 * PAGE - 4, "tail", 4);

	/* hvlib does not unmap what the caller owns. */
	expect_ret(hv_mem_remove_region(mem, id), 0);
	host[0] = 1;
	assert_memory_equal(host + 2 * PAGE - 4, "tail", 4);
	munmap(host, 2 * PAGE);
}

static void test_overlap(void **state)
{
	struct hv_mem *mem = *state;
	static const struct {
		uint64_t gpa, bytes;
	} bad[] = {
		{ 0x10000, 0x10000 },  /* identical */
		{ 0x1f000, 0x2000 },   /* over the end */
		{ 0xf000, 0x2000 },    /* over the start */
		{ 0x12000, 0x1000 },   /* inside */
		{ 0x0, 0x100000 },     /* around */
		{ 0x1f000, 0x1000 },   /* last page */
	};
	struct hv_mem_region_config cfg;

	add_anon(mem, 0x10000, 0x10000, "low-ram");
	for (size_t i = 0; i < HV_ARRAY_SIZE(bad); i++) {
		cfg = region(HV_MEM_ANON, bad[i].gpa, bad[i].bytes, 0);
		expect_err(hv_mem_add_region(mem, &cfg, NULL), -EEXIST, "'low-ram'");
		assert_non_null(strstr(hv_last_error(), "0x10000-0x1ffff"));
	}
	/* Adjacent on both sides is fine. */
	add_anon(mem, 0x20000, 0x1000, "above");
	add_anon(mem, 0xf000, 0x1000, "below");
	assert_int_equal(region_count(mem), 3);
	cfg = region(HV_MEM_ANON, 0x20000, 0x1000, 0);
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EEXIST, "'above'");
}

static void test_validation(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_ANON, 0x1000, 0x1000, 0);

	expect_err(hv_mem_add_region(mem, NULL, NULL), -EINVAL, "config is NULL");
	cfg.size = sizeof(cfg) - 1;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "not a multiple of 4");
	cfg.size = 0;
	expect_ret(hv_mem_add_region(mem, &cfg, NULL), -EINVAL);
	cfg.size = sizeof(cfg);

	cfg.flags = 1u << 4;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "unknown flags 0x10");
	cfg.flags = 1u << 31 | HV_MEM_F_READONLY;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "unknown flags 0x80000000");
	cfg.flags = 0;

	cfg.backing = HV_MEM_HOST + 1;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "unknown backing 4");
	cfg.backing = HV_MEM_ANON;

	cfg.bytes = 0;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "length is 0");
	cfg.bytes = 0x1800;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "not aligned to 4096");
	cfg.bytes = 0x1000;
	cfg.gpa = 0x1800;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "not aligned to 4096");
	cfg.gpa = 0x1001;
	expect_ret(hv_mem_add_region(mem, &cfg, NULL), -EINVAL);
	cfg.gpa = 0x1000;

	cfg.flags = HV_MEM_F_PRIVATE; /* only for files */
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "HV_MEM_F_PRIVATE");
	cfg.flags = 0;

	/* Wrap-around, including a region ending exactly at 2^64. */
	cfg.gpa = UINT64_MAX - PAGE + 1;
	cfg.bytes = 2 * PAGE;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EOVERFLOW, "wraps around");
	cfg.bytes = PAGE;
	expect_ret(hv_mem_add_region(mem, &cfg, NULL), -EOVERFLOW);
	cfg.gpa = PAGE;
	cfg.bytes = UINT64_MAX - PAGE + 1;
	expect_ret(hv_mem_add_region(mem, &cfg, NULL), -EOVERFLOW);

	assert_int_equal(region_count(mem), 0);
}

static void test_hugepages(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_ANON, 2 * MIB, 2 * MIB, HV_MEM_F_HUGEPAGES);
	uint32_t backings[] = { HV_MEM_ANON, HV_MEM_MEMFD };
	int fds = count_open_fds();

	for (size_t i = 0; i < HV_ARRAY_SIZE(backings); i++) {
		int ret;

		cfg.backing = backings[i];
		cfg.gpa = 2 * MIB + 4 * PAGE;
		expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "2097152");
		cfg.gpa = 2 * MIB;
		cfg.bytes = MIB;
		expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "not aligned");
		cfg.bytes = 2 * MIB;
		/* Aligned: works if the host has a hugepage pool, else fails cleanly. */
		ret = hv_mem_add_region(mem, &cfg, NULL);
		if (ret == 0) {
			struct hv_mem_region_info info;
			uint32_t id;

			assert_int_equal(hv_mem_regions(mem, &id, 1), 1);
			expect_ret(hv_mem_region_info(mem, id, &info), 0);
			assert_true(info.flags & HV_MEM_F_HUGEPAGES);
			expect_ret(hv_mem_write(mem, 4 * MIB - 1, "x", 1), 0);
			expect_ret(hv_mem_remove_region(mem, id), 0);
		} else {
			assert_true(ret < 0);
			assert_true(hv_last_error()[0] != '\0');
			assert_int_equal(region_count(mem), 0);
		}
	}
	/* Hugepages are for memory hvlib allocates. */
	cfg.backing = HV_MEM_FILE;
	cfg.fd = 0;
	expect_err(hv_mem_add_region(mem, &cfg, NULL), -EINVAL, "hugepages");
	assert_int_equal(count_open_fds(), fds);
}

static void test_translate_edges(void **state)
{
	struct hv_mem *mem = *state;
	static int sentinel_object;
	void *sentinel = &sentinel_object, *hva;
	uint8_t *host;

	add_anon(mem, 0x10000, 0x2000, "r");
	expect_ret(hv_mem_translate(mem, 0x10000, 1, &hva), 0);
	host = hva;

	expect_ret(hv_mem_translate(mem, 0x11fff, 1, &hva), 0); /* last byte */
	assert_ptr_equal(hva, host + 0x1fff);
	expect_ret(hv_mem_translate(mem, 0x10000, 0x2000, &hva), 0); /* all of it */
	expect_ret(hv_mem_translate(mem, 0x11fff, 0, &hva), 0);       /* len 0 = 1 */
	assert_ptr_equal(hva, host + 0x1fff);

	hva = sentinel;
	expect_err(hv_mem_translate(mem, 0x12000, 1, &hva), -EFAULT, "not in guest RAM");
	expect_ret(hv_mem_translate(mem, 0x12000, 0, &hva), -EFAULT);
	expect_ret(hv_mem_translate(mem, 0xffff, 1, &hva), -EFAULT); /* one before */
	expect_ret(hv_mem_translate(mem, 0xffff, 2, &hva), -EFAULT);
	expect_err(hv_mem_translate(mem, 0x11fff, 2, &hva), -EFAULT, "runs past the end");
	expect_ret(hv_mem_translate(mem, 0x10000, 0x2001, &hva), -EFAULT);
	expect_ret(hv_mem_translate(mem, 0x11000, UINT64_MAX, &hva), -EFAULT);
	expect_ret(hv_mem_translate(mem, 0x10001, UINT64_MAX - 0x10000, &hva), -EFAULT);
	expect_ret(hv_mem_translate(mem, UINT64_MAX, 1, &hva), -EFAULT);
	expect_ret(hv_mem_translate(mem, 0, UINT64_MAX, &hva), -EFAULT);
	assert_ptr_equal(hva, sentinel); /* untouched on failure */

	/* A region at the very top of the address space. */
	add_anon(mem, UINT64_MAX - 2 * PAGE + 1, PAGE, "top");
	expect_ret(hv_mem_translate(mem, UINT64_MAX - PAGE, 1, &hva), 0); /* its last byte */
	expect_ret(hv_mem_translate(mem, UINT64_MAX - PAGE, 2, &hva), -EFAULT);
	expect_ret(hv_mem_translate(mem, UINT64_MAX - PAGE - 7, 8, &hva), 0);
	expect_ret(hv_mem_translate(mem, UINT64_MAX - PAGE - 7, UINT64_MAX, &hva), -EFAULT);
	expect_ret(hv_mem_translate(mem, UINT64_MAX - PAGE + 1, 1, &hva), -EFAULT);
}

static void test_copy_across_regions(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_MEMFD, 0x2000, 0x2000, 0);
	uint8_t in[0x300], out[0x300], before[0x300], after[0x300];
	uint8_t *a, *b;
	void *hva;

	/* [0, 0x2000) anon + [0x2000, 0x4000) memfd, a hole, [0x5000, 0x6000) anon. */
	add_anon(mem, 0, 0x2000, "a");
	expect_ret(hv_mem_add_region(mem, &cfg, NULL), 0);
	add_anon(mem, 0x5000, 0x1000, "c");
	expect_ret(hv_mem_translate(mem, 0, 0x2000, &hva), 0);
	a = hva;
	expect_ret(hv_mem_translate(mem, 0x2000, 0x2000, &hva), 0);
	b = hva;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = pattern_byte(9, i);
	expect_ret(hv_mem_write(mem, 0x2000 - 0x100, in, sizeof(in)), 0);
	assert_memory_equal(a + 0x1f00, in, 0x100);
	assert_memory_equal(b, in + 0x100, 0x200);
	memset(out, 0, sizeof(out));
	expect_ret(hv_mem_read(mem, 0x2000 - 0x100, out, sizeof(out)), 0);
	assert_memory_equal(out, in, sizeof(out));
	/* A single translate cannot cross the boundary. */
	expect_ret(hv_mem_translate(mem, 0x1fff, 2, &hva), -EFAULT);

	/* Across the hole: an error and nothing copied either way. */
	expect_ret(hv_mem_read(mem, 0x4000 - 0x100, before, sizeof(before)), -EFAULT);
	memcpy(before, b + 0x1e00, 0x200);
	memset(out, 0xcc, sizeof(out));
	memcpy(after, out, sizeof(out));
	expect_err(hv_mem_read(mem, 0x4000 - 0x200, out, sizeof(out)), -EFAULT, "0x4000");
	assert_memory_equal(out, after, sizeof(out));
	expect_ret(hv_mem_write(mem, 0x4000 - 0x200, in, sizeof(in)), -EFAULT);
	assert_memory_equal(b + 0x1e00, before, 0x200);
	/* Starting in the hole, or running from the last region off the end. */
	expect_ret(hv_mem_write(mem, 0x4800, in, 0x900), -EFAULT);
	expect_ret(hv_mem_write(mem, 0x5f00, in, 0x101), -EFAULT);
	expect_ret(hv_mem_write(mem, 0x5f00, in, 0x100), 0);

	/* gpa + len wrapping, and len 0. */
	expect_err(hv_mem_read(mem, UINT64_MAX - 0xf, out, 0x20), -EFAULT, "wraps");
	expect_ret(hv_mem_read(mem, 0x1000, out, SIZE_MAX), -EFAULT);
	expect_ret(hv_mem_read(mem, 0x1000, out, 0), 0);
	expect_ret(hv_mem_write(mem, 0x1000, in, 0), 0);
}

static void test_ids_and_order(void **state)
{
	struct hv_mem *mem = *state;
	uint32_t ids[8], gpa_order[5];
	struct hv_mem_region_info info;
	uint64_t prev_gpa = 0;

	/* Added top-down: ids count up, the listing goes by address. */
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(add_anon(mem, (uint64_t)(5 - i) * 0x10000, PAGE, NULL), i);
	memset(ids, 0xff, sizeof(ids));
	assert_int_equal(hv_mem_regions(mem, ids, 8), 5);
	for (uint32_t i = 0; i < 5; i++)
		gpa_order[i] = 4 - i;
	assert_memory_equal(ids, gpa_order, sizeof(gpa_order));
	assert_int_equal(ids[5], UINT32_MAX); /* nothing past the count */

	/* A short buffer: the count still says how many exist. */
	memset(ids, 0xff, sizeof(ids));
	assert_int_equal(hv_mem_regions(mem, ids, 2), 5);
	assert_int_equal(ids[0], 4);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], UINT32_MAX);

	/* Freed ids come back lowest first. */
	expect_ret(hv_mem_remove_region(mem, 3), 0);
	expect_ret(hv_mem_remove_region(mem, 1), 0);
	assert_int_equal(add_anon(mem, 0x100000, PAGE, NULL), 1);
	assert_int_equal(add_anon(mem, 0x110000, PAGE, NULL), 3);
	assert_int_equal(add_anon(mem, 0x120000, PAGE, NULL), 5);
	expect_ret(hv_mem_region_info(mem, 1, &info), 0);
	assert_int_equal(info.gpa, 0x100000);

	/* Every remaining region still translates after the shuffles. */
	assert_int_equal(hv_mem_regions(mem, ids, 8), 6);
	for (uint32_t i = 0; i < 6; i++) {
		void *hva;

		expect_ret(hv_mem_region_info(mem, ids[i], &info), 0);
		if (i)
			assert_true(info.gpa > prev_gpa);
		prev_gpa = info.gpa;
		expect_ret(hv_mem_translate(mem, info.gpa + PAGE - 1, 1, &hva), 0);
		assert_ptr_equal(hva, (uint8_t *)info.host_addr + PAGE - 1);
	}
}

static void test_region_info_name(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_info info;
	char name[] = "firmware";
	uint32_t id;

	id = add_anon(mem, 0, PAGE, name);
	strcpy(name, "changed!"); /* hvlib copied it */
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_string_equal(info.name, "firmware");
	expect_ret(hv_mem_region_info(mem, id + 1, &info), -ENOENT);
	assert_string_equal(info.name, "firmware"); /* untouched on failure */
}

static void test_readonly_anon(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_ANON, 0xf0000, 0x10000, HV_MEM_F_READONLY);
	char rom[4];

	/* The host may load a ROM image into a read-only region. */
	expect_ret(hv_mem_add_region(mem, &cfg, NULL), 0);
	expect_ret(hv_mem_write(mem, 0xffff0, "\xea\x5b\xe0\x00", 4), 0);
	expect_ret(hv_mem_read(mem, 0xffff0, rom, 4), 0);
	assert_memory_equal(rom, "\xea\x5b\xe0\x00", 4);
}

static void test_dirty_log_standalone(void **state)
{
	struct hv_mem *mem = *state;
	struct hv_mem_region_config cfg = region(HV_MEM_ANON, 0, 64 * PAGE, HV_MEM_F_DIRTY_LOG);
	struct hv_mem_region_info info;
	uint64_t bitmap[4] = { 0 };
	uint32_t id, plain;
	int ret;

	expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
	expect_err(hv_mem_get_dirty_log(mem, id, bitmap, sizeof(bitmap)), -EOPNOTSUPP,
		   "attached to a VM");
	expect_ret(hv_mem_get_dirty_log(mem, 7, bitmap, sizeof(bitmap)), -ENOENT);
	expect_ret(hv_mem_set_dirty_log(mem, 7, true), -ENOENT);

	/* Toggling is bookkeeping on a standalone map; the flag is reported. */
	expect_ret(hv_mem_set_dirty_log(mem, id, false), 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_int_equal(info.flags & HV_MEM_F_DIRTY_LOG, 0);
	ret = hv_mem_get_dirty_log(mem, id, bitmap, sizeof(bitmap));
	assert_true(ret == -EINVAL || ret == -EOPNOTSUPP);
	expect_ret(hv_mem_set_dirty_log(mem, id, true), 0);
	expect_ret(hv_mem_set_dirty_log(mem, id, true), 0);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	assert_int_equal(info.flags, HV_MEM_F_DIRTY_LOG);
	expect_ret(hv_mem_get_dirty_log(mem, id, bitmap, sizeof(bitmap)), -EOPNOTSUPP);

	/* A region without logging never reports dirty pages. */
	plain = add_anon(mem, 64 * PAGE, PAGE, NULL);
	ret = hv_mem_get_dirty_log(mem, plain, bitmap, sizeof(bitmap));
	assert_true(ret == -EINVAL || ret == -EOPNOTSUPP);
	assert_int_equal(bitmap[0], 0);
}

static void test_dirty_bitmap_bytes(void **state)
{
	(void)state;
	assert_int_equal(hv_mem_dirty_bitmap_bytes(0), 0);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(1), 8);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(PAGE), 8);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(64 * PAGE), 8);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(64 * PAGE + 1), 16);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(65 * PAGE), 16);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(128 * PAGE), 16);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(1ull << 30), 32768); /* 262144 pages */
	assert_int_equal(hv_mem_dirty_bitmap_bytes(1ull << 40), 1ull << 25);
	/* Near the top: 2^52 pages need 2^46 words; no wrap to 0. */
	assert_int_equal(hv_mem_dirty_bitmap_bytes(UINT64_MAX - PAGE + 1), 1ull << 49);
	assert_int_equal(hv_mem_dirty_bitmap_bytes(UINT64_MAX), 1ull << 49);
}

static void test_slot_exhaustion(void **state)
{
	struct hv_mem *mem = *state;
	uint32_t id = 0;
	int n = 0;

	/* The standalone map allows 512 regions (KVM's usual slot count). */
	for (;;) {
		struct hv_mem_region_config cfg = region(HV_MEM_ANON, (uint64_t)n * PAGE, PAGE, 0);
		int ret = hv_mem_add_region(mem, &cfg, &id);

		if (ret) {
			expect_err(ret, -ENOSPC, "slots are in use");
			break;
		}
		assert_int_equal(id, n);
		assert_true(++n <= 4096);
	}
	assert_int_equal(n, 512);
	expect_ret(hv_mem_remove_region(mem, 100), 0);
	assert_int_equal(add_anon(mem, 0x10000000, PAGE, NULL), 100);
}

/* Many regions at random places, looked up against a brute-force model. */
static void test_random_lookup(void **state)
{
	struct hv_mem *mem = *state;
	struct {
		uint64_t gpa, bytes;
		uint8_t *host;
	} model[200];
	uint64_t rng = 0x1234567;
	uint32_t n = 0;

	while (n < HV_ARRAY_SIZE(model)) {
		uint64_t gpa = (test_rand(&rng) % (1ull << 24)) * PAGE;
		uint64_t bytes = (1 + test_rand(&rng) % 8) * PAGE;
		struct hv_mem_region_config cfg = region(HV_MEM_ANON, gpa, bytes, 0);
		bool overlaps = false;
		struct hv_mem_region_info info;
		uint32_t id;

		for (uint32_t i = 0; i < n; i++)
			if (gpa < model[i].gpa + model[i].bytes && model[i].gpa < gpa + bytes)
				overlaps = true;
		if (overlaps) {
			expect_ret(hv_mem_add_region(mem, &cfg, NULL), -EEXIST);
			continue;
		}
		expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
		expect_ret(hv_mem_region_info(mem, id, &info), 0);
		model[n].gpa = gpa;
		model[n].bytes = bytes;
		model[n].host = info.host_addr;
		n++;
	}
	for (int k = 0; k < 20000; k++) {
		/* Half the probes land on or next to region edges. */
		const uint32_t m = (uint32_t)(test_rand(&rng) % n);
		uint64_t gpa = k & 1 ? test_rand(&rng) % (1ull << 36)
				     : model[m].gpa + model[m].bytes - 2 + test_rand(&rng) % 4;
		struct hv_mem_region found;
		uint8_t *want = NULL;
		void *hva = NULL;
		int ret;

		for (uint32_t i = 0; i < n; i++)
			if (gpa >= model[i].gpa && gpa - model[i].gpa < model[i].bytes)
				want = model[i].host + (gpa - model[i].gpa);
		ret = hv_mem_translate(mem, gpa, 1, &hva);
		if (want) {
			expect_ret(ret, 0);
			assert_ptr_equal(hva, want);
			assert_true(hv_mem_find(mem, gpa, &found));
		} else {
			expect_ret(ret, -EFAULT);
			assert_false(hv_mem_find(mem, gpa, &found));
		}
	}
}

static void test_no_fd_leaks(void **state)
{
	struct hv_mem *mem = *state;
	int before = count_open_fds(), fd = temp_file(4 * PAGE, 3);
	uint32_t id;

	assert_true(fd >= 0);
	for (int i = 0; i < 20; i++) {
		struct hv_mem_region_config cfg = region(HV_MEM_MEMFD, 0, 4 * PAGE, 0);

		expect_ret(hv_mem_add_region(mem, &cfg, &id), 0);
		cfg = region(HV_MEM_FILE, 4 * PAGE, 4 * PAGE, i & 1 ? HV_MEM_F_PRIVATE : 0);
		cfg.fd = fd;
		expect_ret(hv_mem_add_region(mem, &cfg, NULL), 0);
		if (i & 2) { /* leave some for hv_mem_destroy() */
			hv_mem_destroy(mem);
			expect_ret(hv_mem_create(&mem), 0);
			*state = mem;
			continue;
		}
		expect_ret(hv_mem_remove_region(mem, id), 0);
		expect_ret(hv_mem_remove_region(mem, id + 1), 0);
	}
	close(fd);
	assert_int_equal(count_open_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_init),
		cmocka_unit_test_setup_teardown(test_anon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memfd_long_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugepages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_translate_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_across_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_info_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_anon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_log_standalone, setup, teardown),
		cmocka_unit_test(test_dirty_bitmap_bytes),
		cmocka_unit_test_setup_teardown(test_slot_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fd_leaks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
