/* SPDX-License-Identifier: MIT */
/* Raw images, reading host files, and the *_file loaders. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_loader_util.h"

#define RAM (64 * MiB)

static void test_raw_good(void **state)
{
	struct hv_mem *mem;
	static const uint8_t code[] = { 0xf4, 0xeb, 0xfd }; /* hlt; jmp $-1 */
	uint8_t back[3];

	(void)state;
	assert_int_equal(hv_mem_create(&mem), 0);
	mem_add(mem, 0, MiB, 0);
	mem_add(mem, MiB, 64 * 1024, HV_MEM_F_READONLY); /* firmware goes into ROM */
	assert_int_equal(hv_loader_load_raw(mem, code, sizeof(code), 0x1000), 0);
	assert_int_equal(hv_mem_read(mem, 0x1000, back, sizeof(back)), 0);
	assert_memory_equal(back, code, sizeof(code));
	assert_int_equal(hv_loader_load_raw(mem, code, sizeof(code), MiB + 0x100), 0);
	assert_int_equal(hv_mem_read(mem, MiB + 0x100, back, sizeof(back)), 0);
	assert_memory_equal(back, code, sizeof(code));
	/* Spanning two adjacent regions is fine. */
	assert_int_equal(hv_loader_load_raw(mem, code, sizeof(code), MiB - 1), 0);
	hv_mem_destroy(mem);
}

static void test_raw_bounds(void **state)
{
	struct hv_mem *mem;
	static uint8_t image[8192], back[4096], zero[4096];

	(void)state;
	memset(image, 0xab, sizeof(image));
	assert_int_equal(hv_mem_create(&mem), 0);
	mem_add(mem, 0, MiB, 0);
	mem_add(mem, 2 * MiB, MiB, 0);

	assert_int_equal(hv_loader_load_raw(mem, image, sizeof(image), 3 * MiB), -ENOMEM);
	assert_true(error_mentions("loading raw image: 0x300000-0x301fff (8192 bytes) is not "
				   "entirely guest memory"));
	/* Across the hole: nothing is written, not even the part that fits. */
	assert_int_equal(hv_loader_load_raw(mem, image, sizeof(image), MiB - 4096), -ENOMEM);
	assert_int_equal(hv_mem_read(mem, MiB - 4096, back, sizeof(back)), 0);
	assert_memory_equal(back, zero, sizeof(back));
	assert_int_equal(hv_loader_load_raw(mem, image, sizeof(image), UINT64_MAX - 100), -ENOMEM);
	assert_true(error_mentions("wraps around"));
	assert_int_equal(hv_loader_load_raw(mem, image, 0, 0), -EINVAL);
	assert_int_equal(hv_loader_load_raw(mem, NULL, 1, 0), -EINVAL);
	hv_mem_destroy(mem);
}

/* A scratch directory with files for the file tests. */
static char dir[64];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[128];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hvlib-loader-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	static const char *const names[] = { "kernel", "elf", "initrd", "empty", "garbage",
					     "huge", "raw", "subdir" };
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_of(path, sizeof(path), names[i]);
		if (unlink(path) < 0)
			rmdir(path);
	}
	return rmdir(dir);
}

static void test_read_file_errors(void **state)
{
	char path[128], expect[192];
	void *data = NULL;
	size_t size = 0;
	int fd;

	(void)state;
	assert_int_equal(hv_loader_read_file("/nonexistent/x/y", "kernel", &data, &size), -ENOENT);
	assert_string_equal(hv_last_error(), "kernel '/nonexistent/x/y': No such file or directory");

	path_of(path, sizeof(path), "subdir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(hv_loader_read_file(path, "initrd", &data, &size), -EISDIR);
	snprintf(expect, sizeof(expect), "initrd '%s' is a directory", path);
	assert_string_equal(hv_last_error(), expect);

	write_file("empty", "", 0);
	path_of(path, sizeof(path), "empty");
	assert_int_equal(hv_loader_read_file(path, "kernel", &data, &size), -EINVAL);
	assert_true(error_mentions("' is empty"));

	assert_int_equal(hv_loader_read_file("/dev/null", "kernel", &data, &size), -EINVAL);
	assert_true(error_mentions("'/dev/null' is not a regular file"));

	/* Sparse: no disk used. */
	path_of(path, sizeof(path), "huge");
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)HV_LOADER_FILE_MAX + 1), 0);
	close(fd);
	assert_int_equal(hv_loader_read_file(path, "initrd", &data, &size), -EFBIG);
	assert_true(error_mentions("more than the 1024 MiB limit"));
	assert_null(data);
}

static void test_read_file_good(void **state)
{
	static const char text[] = "not really a kernel";
	char path[128];
	void *data;
	size_t size;

	(void)state;
	write_file("raw", text, sizeof(text));
	path_of(path, sizeof(path), "raw");
	assert_int_equal(hv_loader_read_file(path, NULL, &data, &size), 0);
	assert_int_equal(size, sizeof(text));
	assert_memory_equal(data, text, sizeof(text));
	hv_loader_free(data);
	hv_loader_free(NULL);
}

static void test_raw_file(void **state)
{
	struct hv_mem *mem = mem_new(MiB);
	char path[128], back[8];

	(void)state;
	write_file("raw", "firmware", 8);
	path_of(path, sizeof(path), "raw");
	assert_int_equal(hv_loader_load_raw_file(mem, path, 0x8000), 0);
	assert_int_equal(hv_mem_read(mem, 0x8000, back, 8), 0);
	assert_memory_equal(back, "firmware", 8);
	assert_int_equal(hv_loader_load_raw_file(mem, path, MiB - 4), -ENOMEM);
	assert_true(error_mentions("image '"));
	assert_int_equal(hv_loader_load_raw_file(mem, "/nonexistent", 0), -ENOENT);
	hv_mem_destroy(mem);
}

static void test_load_linux_file(void **state)
{
	struct hv_linux_boot_config cfg;
	struct hv_linux_boot_result out;
	struct hv_mem *mem = mem_new(RAM);
	static const uint8_t initrd[3000] = { 9, 9, 9 };
	char kernel[128], elf_path[128], initrd_path[128], garbage[128];
	size_t size;
	uint8_t *img = bz_simple(&size);
	uint8_t *elf;

	(void)state;
	write_file("kernel", img, size);
	write_file("initrd", initrd, sizeof(initrd));
	path_of(kernel, sizeof(kernel), "kernel");
	path_of(initrd_path, sizeof(initrd_path), "initrd");
	assert_int_equal(hv_loader_load_linux_file(mem, kernel, initrd_path, NULL, &out), 0);
	assert_int_equal(out.mode, HV_LINUX_BOOT_64);
	assert_int_equal(used_of(&out, HV_LOADER_USE_INITRD)->size, sizeof(initrd));

	/* The initrd given twice is ambiguous. */
	hv_linux_boot_config_init(&cfg);
	cfg.initrd = initrd;
	cfg.initrd_size = sizeof(initrd);
	assert_int_equal(hv_loader_load_linux_file(mem, kernel, initrd_path, &cfg, &out), -EINVAL);
	/* ... once is fine either way. */
	assert_int_equal(hv_loader_load_linux_file(mem, kernel, NULL, &cfg, &out), 0);

	elf = elf_build(&size);
	write_file("elf", elf, size);
	path_of(elf_path, sizeof(elf_path), "elf");
	assert_int_equal(hv_loader_load_linux_file(mem, elf_path, NULL, NULL, &out), 0);
	assert_int_equal(out.mode, HV_LINUX_BOOT_PVH);

	write_file("garbage", "MZ this is not Linux", 20);
	path_of(garbage, sizeof(garbage), "garbage");
	assert_int_equal(hv_loader_load_linux_file(mem, garbage, NULL, NULL, &out), -ENOEXEC);
	assert_true(error_mentions("garbage': loading Linux: the image (20 bytes) is neither"));
	assert_int_equal(hv_loader_load_linux_file(mem, kernel, "/nonexistent", NULL, &out),
			 -ENOENT);
	assert_string_equal(hv_last_error(), "initrd '/nonexistent': No such file or directory");
	free(elf);
	free(img);
	hv_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_good),
		cmocka_unit_test(test_raw_bounds),
		cmocka_unit_test(test_read_file_errors),
		cmocka_unit_test(test_read_file_good),
		cmocka_unit_test(test_raw_file),
		cmocka_unit_test(test_load_linux_file),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
