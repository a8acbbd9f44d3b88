/* SPDX-License-Identifier: MIT */
/*
 * The loaders on a real distribution kernel: $HVLIB_KERNEL_DIR/vmlinuz (the
 * Debian bzImage that scripts/fetch-kernel unpacks).  Without it every test
 * here says so on stderr and is reported skipped.
 */
#include <errno.h>
#include <stdio.h>

#include "test_loader_util.h"

#define RAM (512 * MiB)

struct kernel {
	void *image;
	size_t size;
	char path[512];
};

static int setup(void **state)
{
	static struct kernel k;
	const char *dir = getenv("HVLIB_KERNEL_DIR");

	*state = NULL;
	if (!dir || !*dir) {
		fprintf(stderr, "SKIP: HVLIB_KERNEL_DIR is not set; the real-kernel loader tests "
				"did not run (run scripts/fetch-kernel and point it at the cache)\n");
		return 0;
	}
	snprintf(k.path, sizeof(k.path), "%s/vmlinuz", dir);
	if (hv_loader_read_file(k.path, "kernel", &k.image, &k.size) < 0) {
		fprintf(stderr, "SKIP: %s\n", hv_last_error());
		return 0;
	}
	*state = &k;
	return 0;
}

static int teardown(void **state)
{
	struct kernel *k = *state;

	if (k)
		hv_loader_free(k->image);
	return 0;
}

static struct kernel *need_kernel(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static void test_parse(void **state)
{
	struct kernel *k = need_kernel(state);
	struct hv_bzimage_info bz;

	assert_int_equal(hv_loader_bzimage_parse(k->image, k->size, &bz), 0);
	fprintf(stderr, "%s: protocol %u.%02u, \"%s\", %s payload of %u bytes, init_size 0x%x\n",
		k->path, bz.version >> 8, bz.version & 0xff, bz.kernel_version,
		hv_loader_compression_name(bz.compression), bz.payload_length, bz.init_size);
	assert_true(bz.version >= 0x020c);
	assert_true(bz.xloadflags & 1);
	assert_int_equal(bz.relocatable, 1);
	assert_true(bz.kernel_version[0] != '\0');
	assert_true(bz.compression != HV_LOADER_COMP_UNKNOWN);
	assert_true(bz.kernel_offset + bz.kernel_bytes <= k->size);
}

static void test_load_64(void **state)
{
	struct kernel *k = need_kernel(state);
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	static const uint8_t initrd[4096] = { 0x30, 0x37, 0x30, 0x37 };
	uint8_t zp[4096];

	hv_linux_boot_config_init(&cfg);
	cfg.cmdline = "console=ttyS0 earlyprintk=serial panic=-1";
	cfg.initrd = initrd;
	cfg.initrd_size = sizeof(initrd);
	assert_int_equal(hv_loader_load_bzimage(mem, k->image, k->size, &cfg, &out), 0);
	assert_int_equal(out.mode, HV_LINUX_BOOT_64);
	assert_int_equal(out.entry, used_of(&out, HV_LOADER_USE_KERNEL)->addr + 0x200);
	assert_int_equal(hv_mem_read(mem, out.boot_params, zp, sizeof(zp)), 0);
	assert_int_equal(zp[0x210], 0xff);
	assert_int_equal(get32(zp, 0x202), 0x53726448); /* "HdrS" copied */
	assert_int_equal(zp[0x1e8], 1);
	hv_mem_destroy(mem);
}

static void test_extract_pvh(void **state)
{
	struct kernel *k = need_kernel(state);
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_bzimage_info bz;
	struct hv_elf_info elf;
	struct hv_mem *mem;
	void *vmlinux;
	size_t len;

	assert_int_equal(hv_loader_bzimage_parse(k->image, k->size, &bz), 0);
	if (!hv_loader_compression_supported(bz.compression)) {
		fprintf(stderr, "SKIP: this hvlib cannot decompress %s payloads\n",
			hv_loader_compression_name(bz.compression));
		assert_int_equal(hv_loader_bzimage_extract_vmlinux(k->image, k->size, &vmlinux,
								   &len), -ENOTSUP);
		skip();
	}
	assert_int_equal(hv_loader_bzimage_extract_vmlinux(k->image, k->size, &vmlinux, &len), 0);
	assert_int_equal(hv_loader_elf_parse(vmlinux, len, &elf), 0);
	fprintf(stderr, "vmlinux: %zu bytes, %u segments at 0x%llx-0x%llx, PVH entry 0x%llx\n",
		len, elf.nr_load, (unsigned long long)elf.paddr_start,
		(unsigned long long)elf.paddr_end, (unsigned long long)elf.pvh_entry);
	assert_int_equal(elf.has_pvh, 1);
	assert_true(elf.pvh_entry >= elf.paddr_start && elf.pvh_entry < elf.paddr_end);

	mem = mem_new(RAM);
	hv_linux_boot_config_init(&cfg);
	cfg.cmdline = "console=hvc0";
	assert_int_equal(hv_loader_load_pvh(mem, vmlinux, len, &cfg, &out), 0);
	assert_int_equal(out.entry, elf.pvh_entry);
	hv_loader_free(vmlinux);

	/* The same through the bzImage and HV_LINUX_F_PVH. */
	cfg.flags = HV_LINUX_F_PVH;
	assert_int_equal(hv_loader_load_linux(mem, k->image, k->size, &cfg, &out), 0);
	assert_int_equal(out.mode, HV_LINUX_BOOT_PVH);
	assert_int_equal(out.entry, elf.pvh_entry);
	hv_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_load_64),
		cmocka_unit_test(test_extract_pvh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
