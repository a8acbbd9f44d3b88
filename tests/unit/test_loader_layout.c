/* SPDX-License-Identifier: MIT */
/*
 * Where the Linux loaders put things: kernel, initrd, command line and boot
 * parameters against guest RAM, the kernel's limits and the caller's memory
 * ranges; and the E820 map they describe.  Runs on crafted bzImages.
 */
#include <errno.h>
#include <stdio.h>

#include "test_loader_util.h"

#define RAM (64 * MiB)

static const struct hv_e820_range ranges[] = {
	{ .addr = 0xe0000, .size = 0x20000, .type = HV_E820_ACPI },
	{ .addr = 0xfffbc000, .size = 0x4000, .type = HV_E820_RESERVED },
};

static void read_guest(struct hv_mem *mem, uint64_t gpa, void *buf, size_t len)
{
	assert_int_equal(hv_mem_read(mem, gpa, buf, len), 0);
}

static int load_cfg(struct hv_mem *mem, const uint8_t *img, size_t size,
		    const struct hv_linux_boot_config *cfg, struct hv_linux_boot_result *out)
{
	return hv_loader_load_bzimage(mem, img, size, cfg, out);
}

/* initrd_addr_max is the highest byte the initrd may occupy. */
static void test_initrd_below_addr_max(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	static uint8_t initrd[0x1800];
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	put32(img, 0x22c, 0x2fffff);
	hv_linux_boot_config_init(&cfg);
	cfg.initrd = initrd;
	cfg.initrd_size = sizeof(initrd);
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), 0);
	assert_int_equal(used_of(&out, HV_LOADER_USE_INITRD)->addr, 0x300000 - 0x2000);

	/* An explicit address must respect it too. */
	cfg.initrd_addr = 0x2ff000;
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), -EINVAL);
	assert_true(error_mentions("highest address the kernel accepts"));
	free(img);
	hv_mem_destroy(mem);
}

/* With the kernel's init_size at the top of RAM, the initrd goes below it. */
static void test_initrd_avoids_kernel(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(BZ_PREF + BZ_INIT_SIZE + 4 * MiB);
	uint8_t *initrd = calloc(1, 8 * MiB);
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	hv_linux_boot_config_init(&cfg);
	cfg.initrd = initrd;
	cfg.initrd_size = 8 * MiB;
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), 0);
	assert_int_equal(used_of(&out, HV_LOADER_USE_INITRD)->addr, BZ_PREF - 8 * MiB);

	cfg.initrd_size = 24 * MiB; /* fits nowhere */
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), -ENOMEM);
	assert_true(error_mentions("loading bzImage: no room for the initrd"));
	free(initrd);
	free(img);
	hv_mem_destroy(mem);
}

static void test_kernel_needs_ram(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(8 * MiB);
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	assert_int_equal(load_cfg(mem, img, size, NULL, &out), -ENOMEM);
	assert_true(error_mentions("loading bzImage: kernel at 0x1000000-0x13fffff needs guest RAM"));

	/* A huge init_size: the decompressor would run past the end of RAM. */
	hv_mem_destroy(mem);
	mem = mem_new(RAM);
	put32(img, 0x260, 0xfffff000);
	assert_int_equal(load_cfg(mem, img, size, NULL, &out), -ENOMEM);
	assert_true(error_mentions("0x1000000-0x100ffefff needs guest RAM"));
	free(img);
	hv_mem_destroy(mem);
}

/* Loading below pref_address still decompresses at pref_address. */
static void test_kernel_addr_override(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	const struct hv_loader_used *k;
	uint8_t back[16];
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	hv_linux_boot_config_init(&cfg);
	cfg.kernel_addr = 2 * MiB;
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), 0);
	assert_int_equal(out.entry, 2 * MiB + 0x200);
	k = used_of(&out, HV_LOADER_USE_KERNEL);
	assert_int_equal(k->addr, 2 * MiB);
	assert_int_equal(k->addr + k->size, BZ_PREF + BZ_INIT_SIZE);
	read_guest(mem, 2 * MiB, back, sizeof(back));
	assert_memory_equal(back, img + BZ_KERNEL_OFF, sizeof(back));

	/* Above the preferred address: rounded up to kernel_alignment. */
	cfg.kernel_addr = 32 * MiB + 0x1000;
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), 0);
	k = used_of(&out, HV_LOADER_USE_KERNEL);
	assert_int_equal(k->addr + k->size, 34 * MiB + BZ_INIT_SIZE);
	free(img);
	hv_mem_destroy(mem);
}

static void test_above_4g(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	mem_add(mem, 4096 * MiB, 32 * MiB, 0);
	hv_linux_boot_config_init(&cfg);
	cfg.kernel_addr = 4096 * MiB;
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), 0);
	assert_int_equal(out.entry, 4096 * MiB + 0x200);

	put16(img, 0x236, 1); /* no XLF_CAN_BE_LOADED_ABOVE_4G */
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), -EINVAL);
	assert_true(error_mentions("above 4 GiB"));
	free(img);
	hv_mem_destroy(mem);
}

static void test_cmdline_too_long(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	char cmdline[300];
	uint8_t zero[64] = { 0 }, back[64];
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	memset(cmdline, 'x', sizeof(cmdline) - 1);
	cmdline[sizeof(cmdline) - 1] = '\0';
	hv_linux_boot_config_init(&cfg);
	cfg.cmdline = cmdline;
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), -E2BIG);
	assert_true(error_mentions("command line is 299 bytes, the kernel takes at most 255"));
	/* A failed load writes nothing. */
	read_guest(mem, BZ_PREF, back, sizeof(back));
	assert_memory_equal(back, zero, sizeof(back));
	read_guest(mem, HV_LINUX_BOOT_PARAMS_ADDR, back, sizeof(back));
	assert_memory_equal(back, zero, sizeof(back));

	cmdline[255] = '\0'; /* exactly cmdline_size */
	assert_int_equal(load_cfg(mem, img, size, &cfg, &out), 0);
	free(img);
	hv_mem_destroy(mem);
}

static void expect_config_error(struct hv_mem *mem, const struct hv_linux_boot_config *cfg,
				int err, const char *msg)
{
	struct hv_linux_boot_result out;
	size_t size;
	uint8_t *img = bz_simple(&size);
	int ret = load_cfg(mem, img, size, cfg, &out);

	if (ret != err || !error_mentions(msg))
		fail_msg("expected %d '%s', got %d (%s)", err, msg, ret, hv_last_error());
	free(img);
}

static void test_config_errors(void **state)
{
	static const struct hv_e820_range overlapping[] = {
		{ .addr = 0xe0000, .size = 0x20000, .type = HV_E820_ACPI },
		{ .addr = 0xf0000, .size = 0x1000, .type = HV_E820_RESERVED },
	};
	static const struct hv_e820_range ram[] = { { .addr = 0, .size = 4096, .type = 1 } };
	static const struct hv_e820_range wraps[] = {
		{ .addr = 0xfffffffffffff000ull, .size = 0x2000, .type = 2 },
	};
	struct hv_linux_boot_config cfg;
	struct hv_mem *mem = mem_new(RAM);
	static const uint8_t initrd[16];

	(void)state;
#define RESET() hv_linux_boot_config_init(&cfg)
	RESET(); cfg.size = 4;
	expect_config_error(mem, &cfg, -EINVAL, "config: size 4 is smaller than 8");
	RESET(); cfg.flags = 0x80;
	expect_config_error(mem, &cfg, -EINVAL, "unknown flags 0x80");
	RESET(); cfg.initrd_size = 5;
	expect_config_error(mem, &cfg, -EINVAL, "without an initrd");
	RESET(); cfg.initrd = initrd;
	expect_config_error(mem, &cfg, -EINVAL, "initrd is empty");
	RESET(); cfg.boot_params_addr = 0x7100;
	expect_config_error(mem, &cfg, -EINVAL, "4 KiB aligned");
	RESET(); cfg.mem_ranges = overlapping; cfg.nr_mem_ranges = 2;
	expect_config_error(mem, &cfg, -EINVAL, "memory ranges 0 and 1 overlap");
	RESET(); cfg.mem_ranges = ram; cfg.nr_mem_ranges = 1;
	expect_config_error(mem, &cfg, -EINVAL, "type 1 is not a non-RAM E820 type");
	RESET(); cfg.mem_ranges = wraps; cfg.nr_mem_ranges = 1;
	expect_config_error(mem, &cfg, -EINVAL, "wraps around");
	RESET(); cfg.nr_mem_ranges = 1;
	expect_config_error(mem, &cfg, -EINVAL, "no array");
	RESET(); cfg.cmdline_addr = 0x7800;
	expect_config_error(mem, &cfg, -EINVAL,
			    "command line at 0x7800-0x7800 overlaps the boot parameters");
	RESET(); cfg.boot_params_addr = 0xe0000; cfg.mem_ranges = ranges; cfg.nr_mem_ranges = 2;
	expect_config_error(mem, &cfg, -EINVAL, "overlaps the reserved range 0xe0000-0xfffff");
	RESET(); cfg.cmdline_addr = BZ_PREF + 0x1000;
	expect_config_error(mem, &cfg, -EINVAL, "overlaps the kernel");
	RESET(); cfg.boot_params_addr = RAM;
	expect_config_error(mem, &cfg, -ENOMEM, "needs guest RAM");
	RESET(); cfg.boot_params_addr = 0xfffffffffffff000ull;
	expect_config_error(mem, &cfg, -EINVAL, "wraps around");
#undef RESET
	hv_mem_destroy(mem);
}

/* More caller ranges, or a map more fragmented, than the zero page holds. */
static void test_e820_limits(void **state)
{
	static struct hv_e820_range many[65];
	struct hv_linux_boot_config cfg;
	struct hv_mem *mem = mem_new(RAM);

	(void)state;
	for (unsigned i = 0; i < 65; i++)
		many[i] = (struct hv_e820_range){ .addr = 0x100000 + i * 0x10000ull,
						  .size = 0x1000, .type = HV_E820_RESERVED };
	hv_linux_boot_config_init(&cfg);
	cfg.mem_ranges = many;
	cfg.nr_mem_ranges = 65;
	expect_config_error(mem, &cfg, -E2BIG, "65 memory ranges, at most 64");
	/* 64 holes punched in RAM: 65 RAM pieces + 64 ranges = 129 entries. */
	cfg.nr_mem_ranges = 64;
	expect_config_error(mem, &cfg, -E2BIG, "more than 128 entries");
	hv_mem_destroy(mem);
}

/* Read-only regions (ROM) are reserved in the E820 map; adjacent RAM merges. */
static void test_e820_rom_and_merge(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_mem *mem;
	uint8_t zp[4096];
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	assert_int_equal(hv_mem_create(&mem), 0);
	mem_add(mem, 0, 0xf0000, 0);
	mem_add(mem, 0xf0000, 0x10000, HV_MEM_F_READONLY);
	mem_add(mem, 0x100000, 31 * MiB, 0);
	mem_add(mem, 32 * MiB, 32 * MiB, 0);
	assert_int_equal(load_cfg(mem, img, size, NULL, &out), 0);
	read_guest(mem, HV_LINUX_BOOT_PARAMS_ADDR, zp, sizeof(zp));
	assert_int_equal(zp[0x1e8], 3);
	assert_int_equal(get32(zp, 0x2f4), HV_E820_RESERVED);
	assert_int_equal(get64(zp, 0x2f8), 0x100000);
	assert_int_equal(get64(zp, 0x300), RAM - 0x100000);
	free(img);
	hv_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initrd_below_addr_max),
		cmocka_unit_test(test_initrd_avoids_kernel),
		cmocka_unit_test(test_kernel_needs_ram),
		cmocka_unit_test(test_kernel_addr_override),
		cmocka_unit_test(test_above_4g),
		cmocka_unit_test(test_cmdline_too_long),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_e820_limits),
		cmocka_unit_test(test_e820_rom_and_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
