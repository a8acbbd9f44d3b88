/* SPDX-License-Identifier: MIT */
/* ELF parsing and the PVH loader, on crafted vmlinux images. */
#include <errno.h>
#include <stdio.h>

#include "test_loader_util.h"

#define RAM (64 * MiB)
#define NOTE_XEN (ELF_NOTE_OFF + 36) /* after the 36-byte GNU build-id note */

static void test_parse_good(void **state)
{
	struct hv_elf_info info;
	size_t size;
	uint8_t *img = elf_build(&size);

	(void)state;
	assert_int_equal(hv_loader_elf_parse(img, size, &info), 0);
	assert_int_equal(info.entry, 0x1000000);
	assert_int_equal(info.has_pvh, 1);
	assert_int_equal(info.pvh_entry, ELF_PVH_ENTRY);
	assert_int_equal(info.paddr_start, ELF_TEXT_PADDR);
	assert_int_equal(info.paddr_end, ELF_DATA_PADDR + ELF_DATA_FILE);
	assert_int_equal(info.nr_load, 2);

	/* Older kernels: a 4-byte descriptor (the segment keeps 4 spare bytes). */
	put32(img, NOTE_XEN + 4, 4);
	put32(img, NOTE_XEN + 16, 0x100080);
	assert_int_equal(hv_loader_elf_parse(img, size, &info), 0);
	assert_int_equal(info.pvh_entry, 0x100080);

	/* No PVH note: parses, has_pvh 0. */
	put32(img, NOTE_XEN + 8, 17);
	assert_int_equal(hv_loader_elf_parse(img, size, &info), 0);
	assert_int_equal(info.has_pvh, 0);
	free(img);
}

struct bad_case {
	const char *name;
	size_t off;
	unsigned width; /* 1, 2, 4, 8; 0: truncate to value */
	uint64_t value;
	int err;
	const char *msg;
};

#define PH(i, field) (ELF_PHDR(i) + offsetof(Elf64_Phdr, field))
#define EH(field) offsetof(Elf64_Ehdr, field)

static const struct bad_case bad_cases[] = {
	{ "empty", 0, 0, 0, -ENOEXEC, "no ELF magic" },
	{ "not ELF", 1, 1, 'X', -ENOEXEC, "no ELF magic" },
	{ "32-bit", EI_CLASS, 1, ELFCLASS32, -ENOEXEC, "32-bit ELF" },
	{ "bad class", EI_CLASS, 1, 7, -ENOEXEC, "unknown ELF class 7" },
	{ "big-endian", EI_DATA, 1, ELFDATA2MSB, -ENOEXEC, "not a little-endian ELF" },
	{ "header cut", 0, 0, 40, -ENOEXEC, "ELF header is truncated" },
	{ "aarch64", EH(e_machine), 2, EM_AARCH64, -ENOEXEC, "machine 183 (aarch64) is not x86_64" },
	{ "i386", EH(e_machine), 2, EM_386, -ENOEXEC, "(i386) is not x86_64" },
	{ "ET_DYN", EH(e_type), 2, ET_DYN, -ENOEXEC, "ELF type 3 is not ET_EXEC" },
	{ "phentsize", EH(e_phentsize), 2, 32, -EINVAL, "program header size 32" },
	{ "no phdrs", EH(e_phnum), 2, 0, -EINVAL, "0 program headers" },
	{ "PN_XNUM", EH(e_phnum), 2, 0xffff, -EINVAL, "65535 program headers" },
	{ "phdrs past end", EH(e_phoff), 8, ELF_SIZE - 64, -EINVAL, "run past the end" },
	{ "phoff overflow", EH(e_phoff), 8, ~0ull - 8, -EINVAL, "run past the end" },
	{ "segment past end", PH(0, p_offset), 8, ELF_SIZE - 16, -EINVAL,
	  "segment 0: 0x1000 bytes at file offset 0x30f0 run past the end" },
	{ "segment size overflow", PH(0, p_filesz), 8, ~0ull, -EINVAL, "p_filesz" },
	{ "filesz > memsz", PH(1, p_memsz), 8, 0x10, -EINVAL, "p_filesz 0x800 > p_memsz 0x10" },
	{ "paddr wraps", PH(1, p_paddr), 8, ~0ull - 0x100, -EINVAL,
	  "p_paddr 0xfffffffffffffeff + p_memsz 0x800 wraps" },
	{ "overlap", PH(1, p_paddr), 8, ELF_TEXT_PADDR + 0x2000, -EINVAL,
	  "segments 0 and 1 overlap at physical 0x102000" },
	{ "note out of file", PH(2, p_offset), 8, ~0ull - 4, -EINVAL, "note segment 2" },
	{ "note namesz huge", NOTE_XEN, 4, 0xffffffff, -EINVAL,
	  "segment 2: a note at +0x24 (name 4294967295 bytes" },
	{ "note descsz huge", NOTE_XEN + 4, 4, 0xfffffffd, -EINVAL, "runs past the segment" },
	{ "first note descsz", ELF_NOTE_OFF + 4, 4, 0x7fffffff, -EINVAL, "a note at +0x0" },
	{ "pvh desc 2", NOTE_XEN + 4, 4, 2, -EINVAL, "PVH entry note has a 2-byte descriptor" },
	{ "pvh entry >4G", NOTE_XEN + 16, 8, 0x100000000ull, -ENOEXEC, "not a 32-bit address" },
	{ "pvh entry outside", NOTE_XEN + 16, 8, 0x300000, -EINVAL,
	  "PVH entry 0x300000 lies outside the loaded segments" },
	{ "no PT_LOAD", PH(0, p_type), 4, PT_NULL, -EINVAL, "outside the loaded" },
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
	struct hv_elf_info info;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t size;
		uint8_t *img = elf_build(&size);
		int ret;

		apply(img, &size, c);
		ret = hv_loader_elf_parse(img, size, &info);
		if (ret != c->err || !error_mentions(c->msg))
			fail_msg("case '%s': got %d (%s)", c->name, ret, hv_last_error());
		free(img);
	}
}

static void test_no_load_segment(void **state)
{
	struct hv_elf_info info;
	size_t size;
	uint8_t *img = elf_build(&size);

	(void)state;
	put32(img, PH(0, p_type), PT_NULL);
	put32(img, PH(1, p_type), PT_NULL);
	put32(img, NOTE_XEN + 8, 17); /* drop the PVH note too */
	assert_int_equal(hv_loader_elf_parse(img, size, &info), -ENOEXEC);
	assert_true(error_mentions("no loadable (PT_LOAD) segment"));
	free(img);
}

static const struct hv_e820_range ranges[] = {
	{ .addr = 0xe0000, .size = 0x20000, .type = HV_E820_ACPI },
	{ .addr = 0xfffbc000, .size = 0x4000, .type = HV_E820_RESERVED },
};

static void check_start_info(struct hv_mem *mem, uint64_t initrd_addr, uint64_t initrd_size)
{
	uint8_t si[4096];

	assert_int_equal(hv_mem_read(mem, HV_LINUX_BOOT_PARAMS_ADDR, si, sizeof(si)), 0);
	assert_int_equal(get32(si, 0), 0x336ec578);           /* magic */
	assert_int_equal(get32(si, 4), 1);                    /* version */
	assert_int_equal(get32(si, 8), 0);                    /* flags */
	assert_int_equal(get32(si, 12), 1);                   /* nr_modules */
	assert_int_equal(get64(si, 16), HV_LINUX_BOOT_PARAMS_ADDR + 64); /* modlist_paddr */
	assert_int_equal(get64(si, 24), HV_LINUX_CMDLINE_ADDR);
	assert_int_equal(get64(si, 32), 0xe0000);             /* rsdp_paddr */
	assert_int_equal(get64(si, 40), HV_LINUX_BOOT_PARAMS_ADDR + 128); /* memmap_paddr */
	assert_int_equal(get32(si, 48), 4);                   /* memmap_entries */
	assert_int_equal(get64(si, 64), initrd_addr);         /* module paddr */
	assert_int_equal(get64(si, 72), initrd_size);
	/* memmap: RAM, ACPI, RAM, reserved; 24-byte entries at +128. */
	assert_int_equal(get64(si, 128 + 8), 0xe0000);
	assert_int_equal(get32(si, 128 + 16), HV_E820_RAM);
	assert_int_equal(get32(si, 128 + 24 + 16), HV_E820_ACPI);
	assert_int_equal(get64(si, 128 + 48), 0x100000);
	assert_int_equal(get64(si, 128 + 48 + 8), RAM - 0x100000);
	assert_int_equal(get64(si, 128 + 72), 0xfffbc000);
	assert_int_equal(get32(si, 128 + 72 + 16), HV_E820_RESERVED);
}

static void test_load_pvh(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	static uint8_t initrd[5000], junk[ELF_TEXT_MEM], back[ELF_TEXT_MEM];
	const struct hv_loader_used *u;
	char cmdline[32];
	size_t size;
	uint8_t *img = elf_build(&size);

	(void)state;
	/* Dirty the bss first: the loader must zero it. */
	memset(junk, 0xee, sizeof(junk));
	assert_int_equal(hv_mem_write(mem, ELF_TEXT_PADDR, junk, sizeof(junk)), 0);
	memset(initrd, 0x17, sizeof(initrd));
	hv_linux_boot_config_init(&cfg);
	cfg.cmdline = "console=hvc0";
	cfg.initrd = initrd;
	cfg.initrd_size = sizeof(initrd);
	cfg.mem_ranges = ranges;
	cfg.nr_mem_ranges = 2;
	cfg.acpi_rsdp_addr = 0xe0000;
	assert_int_equal(hv_loader_load_pvh(mem, img, size, &cfg, &out), 0);

	assert_int_equal(out.mode, HV_LINUX_BOOT_PVH);
	assert_int_equal(out.entry, ELF_PVH_ENTRY);
	assert_int_equal(out.boot_params, HV_LINUX_BOOT_PARAMS_ADDR);
	u = used_of(&out, HV_LOADER_USE_KERNEL);
	assert_int_equal(u->addr, ELF_TEXT_PADDR);
	assert_int_equal(u->size, ELF_DATA_PADDR + ELF_DATA_FILE - ELF_TEXT_PADDR);
	u = used_of(&out, HV_LOADER_USE_INITRD);
	assert_int_equal(u->addr, RAM - 0x2000);

	assert_int_equal(hv_mem_read(mem, ELF_TEXT_PADDR, back, sizeof(back)), 0);
	assert_memory_equal(back, img + ELF_TEXT_OFF, ELF_TEXT_FILE);
	for (size_t i = ELF_TEXT_FILE; i < ELF_TEXT_MEM; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(hv_mem_read(mem, ELF_DATA_PADDR, back, ELF_DATA_FILE), 0);
	assert_memory_equal(back, img + ELF_DATA_OFF, ELF_DATA_FILE);
	assert_int_equal(hv_mem_read(mem, HV_LINUX_CMDLINE_ADDR, cmdline, 13), 0);
	assert_string_equal(cmdline, "console=hvc0");
	assert_int_equal(hv_mem_read(mem, RAM - 0x2000, back, sizeof(initrd)), 0);
	assert_memory_equal(back, initrd, sizeof(initrd));
	check_start_info(mem, RAM - 0x2000, sizeof(initrd));
	free(img);
	hv_mem_destroy(mem);
}

static void test_load_pvh_no_initrd(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	uint8_t si[64];
	size_t size;
	uint8_t *img = elf_build(&size);

	(void)state;
	assert_int_equal(hv_loader_load_pvh(mem, img, size, NULL, &out), 0);
	assert_int_equal(out.nr_used, 3);
	assert_int_equal(hv_mem_read(mem, HV_LINUX_BOOT_PARAMS_ADDR, si, sizeof(si)), 0);
	assert_int_equal(get32(si, 12), 0);  /* nr_modules */
	assert_int_equal(get64(si, 16), 0);  /* modlist_paddr */
	assert_int_equal(get32(si, 48), 1);  /* one RAM entry */
	free(img);
	hv_mem_destroy(mem);
}

static void expect_load_error(struct hv_mem *mem, const uint8_t *img, size_t size,
			      const struct hv_linux_boot_config *cfg, int err, const char *msg)
{
	struct hv_linux_boot_result out;
	int ret = hv_loader_load_pvh(mem, img, size, cfg, &out);

	if (ret != err || !error_mentions(msg))
		fail_msg("expected %d '%s', got %d (%s)", err, msg, ret, hv_last_error());
}

static void test_load_pvh_errors(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_mem *mem = mem_new(RAM), *small = mem_new(ELF_DATA_PADDR);
	static char cmdline[HV_LINUX_PVH_CMDLINE_MAX + 2];
	uint8_t zero[64] = { 0 }, back[64];
	size_t size;
	uint8_t *img = elf_build(&size);

	(void)state;
	expect_load_error(small, img, size, NULL, -ENOMEM,
			  "loading PVH kernel: kernel at 0x100000-0x2007ff needs guest RAM");

	hv_linux_boot_config_init(&cfg);
	cfg.kernel_addr = 16 * MiB;
	expect_load_error(mem, img, size, &cfg, -EINVAL, "kernel_addr must be 0");

	memset(cmdline, 'a', sizeof(cmdline) - 1);
	hv_linux_boot_config_init(&cfg);
	cfg.cmdline = cmdline;
	expect_load_error(mem, img, size, &cfg, -E2BIG, "command line is 2048 bytes");
	assert_int_equal(hv_mem_read(mem, ELF_TEXT_PADDR, back, sizeof(back)), 0);
	assert_memory_equal(back, zero, sizeof(back)); /* nothing written */

	hv_linux_boot_config_init(&cfg);
	cfg.cmdline_addr = ELF_DATA_PADDR + 0x100;
	expect_load_error(mem, img, size, &cfg, -EINVAL, "overlaps the kernel");

	put32(img, NOTE_XEN + 8, 17);
	expect_load_error(mem, img, size, NULL, -ENOEXEC,
			  "loading PVH kernel: no PVH entry note (Xen note "
			  "XEN_ELFNOTE_PHYS32_ENTRY); was the kernel built with CONFIG_PVH=y?");
	free(img);
	hv_mem_destroy(small);
	hv_mem_destroy(mem);
}

/* PVH starts without paging: everything, the initrd included, stays below 4 GiB. */
static void test_pvh_below_4g(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	static const uint8_t initrd[100];
	size_t size;
	uint8_t *img = elf_build(&size);

	(void)state;
	mem_add(mem, 4096 * MiB, 64 * MiB, 0);
	hv_linux_boot_config_init(&cfg);
	cfg.initrd = initrd;
	cfg.initrd_size = sizeof(initrd);
	assert_int_equal(hv_loader_load_pvh(mem, img, size, &cfg, &out), 0);
	assert_int_equal(used_of(&out, HV_LOADER_USE_INITRD)->addr, RAM - 0x1000);

	cfg.cmdline_addr = 4096 * MiB;
	expect_load_error(mem, img, size, &cfg, -EINVAL, "below 4 GiB for PVH");
	free(img);
	hv_mem_destroy(mem);
}

/* hv_loader_load_linux() picks PVH for an ELF. */
static void test_load_linux_detects_elf(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	static const uint8_t garbage[4096] = { 1, 2, 3 };
	size_t size;
	uint8_t *img = elf_build(&size);

	(void)state;
	assert_int_equal(hv_loader_load_linux(mem, img, size, NULL, &out), 0);
	assert_int_equal(out.mode, HV_LINUX_BOOT_PVH);
	assert_int_equal(hv_loader_load_linux(mem, garbage, sizeof(garbage), NULL, &out), -ENOEXEC);
	assert_true(error_mentions("neither a bzImage nor an ELF vmlinux"));
	free(img);
	hv_mem_destroy(mem);
}

static void test_fuzz(void **state)
{
	struct hv_linux_boot_result out;
	struct hv_elf_info info;
	struct hv_mem *mem = mem_new(RAM);
	uint32_t seed = 4242;
	size_t size;
	uint8_t *img = elf_build(&size);
	uint8_t *copy = malloc(size);

	(void)state;
	/* Every cut before the end of the notes (36 + 24 bytes) is an error. */
	for (size_t n = 0; n < ELF_NOTE_OFF + 60; n++) {
		uint8_t *cut = malloc(n ? n : 1); /* exact size: ASan sees overreads */

		memcpy(cut, img, n);
		assert_true(hv_loader_elf_parse(cut, n, &info) < 0);
		assert_true(hv_loader_load_linux(mem, cut, n, NULL, &out) < 0);
		free(cut);
	}
	for (int iter = 0; iter < 20000; iter++) {
		memcpy(copy, img, size);
		for (int k = 0; k < 4; k++) {
			size_t at;

			seed = seed * 1103515245 + 12345;
			/* Headers and notes, where the offsets and sizes are. */
			at = (seed >> 8) % 2 ? (seed >> 9) % ELF_PHDR(ELF_PHNUM)
					     : ELF_NOTE_OFF + (seed >> 9) % 0x40;
			copy[at] = (uint8_t)(seed >> 20);
		}
		hv_loader_load_pvh(mem, copy, size, NULL, &out);
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
		cmocka_unit_test(test_no_load_segment),
		cmocka_unit_test(test_load_pvh),
		cmocka_unit_test(test_load_pvh_no_initrd),
		cmocka_unit_test(test_load_pvh_errors),
		cmocka_unit_test(test_pvh_below_4g),
		cmocka_unit_test(test_load_linux_detects_elf),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
