/* SPDX-License-Identifier: MIT */
/* bzImage parsing and the 64-bit boot protocol loader, on crafted images. */
#include <errno.h>
#include <stdio.h>

#include "test_loader_util.h"

#define RAM (64 * MiB)

static void test_parse_good(void **state)
{
	struct hv_bzimage_info bz;
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	assert_int_equal(hv_loader_bzimage_parse(img, size, &bz), 0);
	assert_int_equal(bz.version, 0x020f);
	assert_int_equal(bz.setup_sects, BZ_SETUP_SECTS);
	assert_int_equal(bz.kernel_offset, BZ_KERNEL_OFF);
	assert_int_equal(bz.kernel_bytes, 0x2000);
	assert_int_equal(bz.header_end, 0x26c);
	assert_int_equal(bz.pref_address, BZ_PREF);
	assert_int_equal(bz.init_size, BZ_INIT_SIZE);
	assert_int_equal(bz.kernel_alignment, 0x200000);
	assert_int_equal(bz.relocatable, 1);
	assert_int_equal(bz.cmdline_size, 255);
	assert_int_equal(bz.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bz.payload_offset, BZ_PAYLOAD_OFF);
	assert_int_equal(bz.payload_length, 16);
	assert_int_equal(bz.compression, HV_LOADER_COMP_XZ);
	assert_string_equal(bz.kernel_version, BZ_VERSION_STR);

	/* setup_sects 0 means 4; initrd_addr_max 0 means the old default. */
	img[0x1f1] = 0;
	put32(img, 0x22c, 0);
	assert_int_equal(hv_loader_bzimage_parse(img, size, &bz), 0);
	assert_int_equal(bz.setup_sects, 4);
	assert_int_equal(bz.initrd_addr_max, 0x37ffffff);
	free(img);
}

/* One broken image: a mutation, the errno it must give, words of the message. */
struct bad_case {
	const char *name;
	size_t off;     /* byte(s) to overwrite */
	unsigned width; /* 1, 2, 4, 8; 0: truncate the image to `value` bytes */
	uint64_t value;
	int err;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "truncated", 0, 0, 0x100, -ENOEXEC, "too small for a bzImage" },
	{ "no boot flag", 0x1fe, 2, 0x1234, -ENOEXEC, "boot flag 0xaa55" },
	{ "no HdrS", 0x202, 4, 0x12345678, -ENOEXEC, "\"HdrS\"" },
	{ "protocol 2.01", 0x206, 2, 0x0201, -ENOEXEC,
	  "setup header version 2.01 is too old, need >= 2.12" },
	{ "protocol 2.11", 0x206, 2, 0x020b, -ENOEXEC, "2.11 is too old" },
	{ "no jump", 0x200, 1, 0x90, -EINVAL, "short jump" },
	{ "header too long", 0x201, 1, 0x90, -EINVAL, "setup header ends at 0x292" },
	{ "header too short", 0x201, 1, 0x10, -EINVAL, "setup header ends at 0x212" },
	{ "setup_sects past end", 0x1f1, 1, 200, -EINVAL, "setup_sects 200" },
	{ "syssize lies", 0x1f4, 4, 0x10000, -EINVAL, "syssize claims 1048576 bytes" },
	{ "syssize huge", 0x1f4, 4, 0xffffffff, -EINVAL, "syssize claims" },
	{ "syssize 0", 0x1f4, 4, 0, -EINVAL, "syssize claims 0" },
	{ "kernel cut short", 0, 0, BZ_KERNEL_OFF + 0x1ff0, -EINVAL, "but 8176 follow" },
	{ "zImage", 0x211, 1, 0, -ENOEXEC, "zImage" },
	{ "32-bit only", 0x236, 2, 0, -ENOEXEC, "no 64-bit entry point" },
	{ "odd alignment", 0x230, 4, 0x300000, -EINVAL, "not a power of two" },
	{ "zero alignment", 0x230, 4, 0, -EINVAL, "not a power of two" },
	{ "init_size small", 0x260, 4, 0x100, -EINVAL, "init_size 0x100 is smaller" },
	{ "pref wraps", 0x258, 8, 0xfffffffffff00000ull, -EINVAL, "wraps around" },
	{ "payload past kernel", 0x248, 4, 0x1ff8, -EINVAL, "payload at 0x1ff8+0x10" },
	{ "payload overflow", 0x24c, 4, 0xffffffff, -EINVAL, "payload" },
	{ "payload empty", 0x24c, 4, 0, -EINVAL, "payload" },
};

static void apply(uint8_t *img, size_t *size, const struct bad_case *c)
{
	switch (c->width) {
	case 0:
		*size = (size_t)c->value;
		break;
	case 1:
		img[c->off] = (uint8_t)c->value;
		break;
	case 2:
		put16(img, c->off, (uint16_t)c->value);
		break;
	case 4:
		put32(img, c->off, (uint32_t)c->value);
		break;
	default:
		put64(img, c->off, c->value);
	}
}

static void test_parse_hostile(void **state)
{
	struct hv_bzimage_info bz;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t size;
		uint8_t *img = bz_simple(&size);
		int ret;

		apply(img, &size, c);
		ret = hv_loader_bzimage_parse(img, size, &bz);
		if (ret != c->err || !error_mentions(c->msg))
			fail_msg("case '%s': got %d (%s)", c->name, ret, hv_last_error());
		assert_true(error_mentions("parsing bzImage: "));
		free(img);
	}
}

/* The loader reports the parse errors with its own context. */
static void test_load_rejects_old_protocol(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	put16(img, 0x206, 0x0201);
	assert_int_equal(hv_loader_load_bzimage(mem, img, size, NULL, &out), -ENOEXEC);
	assert_string_equal(hv_last_error(),
			    "loading bzImage: setup header version 2.01 is too old, need >= 2.12");
	free(img);
	hv_mem_destroy(mem);
}

static void read_guest(struct hv_mem *mem, uint64_t gpa, void *buf, size_t len)
{
	assert_int_equal(hv_mem_read(mem, gpa, buf, len), 0);
}

static void check_zero_page(struct hv_mem *mem, const uint8_t *img, uint64_t initrd_addr,
			    uint32_t initrd_size)
{
	uint8_t zp[4096];

	read_guest(mem, HV_LINUX_BOOT_PARAMS_ADDR, zp, sizeof(zp));
	/* The header comes from the image, except what a loader sets. */
	assert_memory_equal(zp + 0x1f1, img + 0x1f1, 0x210 - 0x1f1);
	assert_int_equal(zp[0x210], 0xff);                  /* type_of_loader */
	assert_int_equal(zp[0x211], 0x81);                  /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(get32(zp, 0x214), BZ_PREF);        /* code32_start */
	assert_int_equal(get32(zp, 0x218), initrd_addr);    /* ramdisk_image */
	assert_int_equal(get32(zp, 0x21c), initrd_size);    /* ramdisk_size */
	assert_int_equal(zp[0x224] | zp[0x225] << 8, 0xde00); /* heap_end_ptr */
	assert_int_equal(get32(zp, 0x228), HV_LINUX_CMDLINE_ADDR);
	assert_memory_equal(zp + 0x22c, img + 0x22c, 0x26c - 0x22c);
	assert_int_equal(get32(zp, 0xc0) | get32(zp, 0xc4) | get32(zp, 0xc8), 0); /* ext_* */
	assert_int_equal(get64(zp, 0x70), 0xe0000);          /* acpi_rsdp_addr */
	assert_int_equal(zp[0x1ef], 0);                      /* sentinel */
	/* E820: RAM, the ACPI area carved out of it, RAM, the TSS area. */
	assert_int_equal(zp[0x1e8], 4);
	assert_int_equal(get64(zp, 0x2d0), 0);
	assert_int_equal(get64(zp, 0x2d8), 0xe0000);
	assert_int_equal(get32(zp, 0x2e0), HV_E820_RAM);
	assert_int_equal(get64(zp, 0x2e4), 0xe0000);
	assert_int_equal(get64(zp, 0x2ec), 0x20000);
	assert_int_equal(get32(zp, 0x2f4), HV_E820_ACPI);
	assert_int_equal(get64(zp, 0x2f8), 0x100000);
	assert_int_equal(get64(zp, 0x300), RAM - 0x100000);
	assert_int_equal(get64(zp, 0x30c), 0xfffbc000);
	assert_int_equal(get32(zp, 0x31c), HV_E820_RESERVED);
}

static const struct hv_e820_range ranges[] = {
	{ .addr = 0xe0000, .size = 0x20000, .type = HV_E820_ACPI },
	{ .addr = 0xfffbc000, .size = 0x4000, .type = HV_E820_RESERVED },
};

static void test_load_good(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	static uint8_t initrd[10000], back[10000];
	const struct hv_loader_used *u;
	char cmdline[64];
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	memset(initrd, 0x42, sizeof(initrd));
	hv_linux_boot_config_init(&cfg);
	cfg.cmdline = "console=ttyS0 quiet";
	cfg.initrd = initrd;
	cfg.initrd_size = sizeof(initrd);
	cfg.mem_ranges = ranges;
	cfg.nr_mem_ranges = 2;
	cfg.acpi_rsdp_addr = 0xe0000;
	assert_int_equal(hv_loader_load_bzimage(mem, img, size, &cfg, &out), 0);

	assert_int_equal(out.mode, HV_LINUX_BOOT_64);
	assert_int_equal(out.entry, BZ_PREF + 0x200);
	assert_int_equal(out.boot_params, HV_LINUX_BOOT_PARAMS_ADDR);
	assert_int_equal(out.nr_used, 4);
	for (uint32_t i = 1; i < out.nr_used; i++)
		assert_true(out.used[i - 1].addr < out.used[i].addr);
	u = used_of(&out, HV_LOADER_USE_KERNEL);
	assert_int_equal(u->addr, BZ_PREF);
	assert_int_equal(u->size, BZ_INIT_SIZE);
	u = used_of(&out, HV_LOADER_USE_INITRD);
	assert_int_equal(u->addr, RAM - 0x3000); /* highest page-aligned fit */
	assert_int_equal(u->size, sizeof(initrd));
	assert_int_equal(used_of(&out, HV_LOADER_USE_CMDLINE)->size, strlen(cfg.cmdline) + 1);

	read_guest(mem, BZ_PREF, back, 0x2000);
	assert_memory_equal(back, img + BZ_KERNEL_OFF, 0x2000);
	read_guest(mem, HV_LINUX_CMDLINE_ADDR, cmdline, strlen(cfg.cmdline) + 1);
	assert_string_equal(cmdline, cfg.cmdline);
	read_guest(mem, RAM - 0x3000, back, sizeof(initrd));
	assert_memory_equal(back, initrd, sizeof(initrd));
	check_zero_page(mem, img, RAM - 0x3000, sizeof(initrd));
	free(img);
	hv_mem_destroy(mem);
}

static void test_load_null_config(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	uint8_t zp[4096];
	char c;
	size_t size;
	uint8_t *img = bz_simple(&size);

	(void)state;
	assert_int_equal(hv_loader_load_bzimage(mem, img, size, NULL, &out), 0);
	assert_int_equal(out.nr_used, 3); /* no initrd */
	read_guest(mem, HV_LINUX_CMDLINE_ADDR, &c, 1);
	assert_int_equal(c, '\0');
	read_guest(mem, HV_LINUX_BOOT_PARAMS_ADDR, zp, sizeof(zp));
	assert_int_equal(get32(zp, 0x218) | get32(zp, 0x21c), 0);
	assert_int_equal(zp[0x1e8], 1); /* one RAM entry */
	assert_int_equal(get64(zp, 0x2d8), RAM);
	free(img);
	hv_mem_destroy(mem);
}

/* Every truncation and many random corruptions: an error or a load, never a crash. */
static void test_fuzz(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_bzimage_info bz;
	struct hv_mem *mem = mem_new(RAM);
	uint32_t seed = 12345;
	size_t size;
	uint8_t *img = bz_simple(&size);
	uint8_t *copy = malloc(size);

	(void)state;
	/* Exact-size copies, so ASan sees any read past the end. */
	for (size_t n = 0; n < size; n++) {
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, img, n);
		assert_true(hv_loader_bzimage_parse(cut, n, &bz) < 0);
		assert_true(hv_loader_load_linux(mem, cut, n, NULL, &out) < 0);
		free(cut);
	}
	for (int iter = 0; iter < 20000; iter++) {
		memcpy(copy, img, size);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245 + 12345;
			/* Aim at the header, where the interesting fields are. */
			copy[0x1f1 + (seed >> 8) % (0x270 - 0x1f1)] = (uint8_t)(seed >> 20);
		}
		if (hv_loader_load_bzimage(mem, copy, size, NULL, &out) == 0)
			assert_true(out.entry >= 0x200);
	}
	free(copy);
	free(img);
	hv_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_load_rejects_old_protocol),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_null_config),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
