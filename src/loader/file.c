/* SPDX-License-Identifier: MIT */
/* Reading images from host files, and the *_file convenience loaders. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

typedef unsigned long long ull;

static int check_stat(int fd, const char *path, const char *what, size_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return hv_err_sys(-errno, "%s '%s'", what, path);
	if (S_ISDIR(st.st_mode))
		return hv_err(-EISDIR, "%s '%s' is a directory", what, path);
	if (!S_ISREG(st.st_mode))
		return hv_err(-EINVAL, "%s '%s' is not a regular file", what, path);
	if (st.st_size == 0)
		return hv_err(-EINVAL, "%s '%s' is empty", what, path);
	if ((uint64_t)st.st_size > HV_LOADER_FILE_MAX)
		return hv_err(-EFBIG, "%s '%s' is %llu bytes, more than the %llu MiB limit", what,
			      path, (ull)st.st_size, HV_LOADER_FILE_MAX >> 20);
	*size = (size_t)st.st_size;
	return 0;
}

static int read_all(int fd, const char *path, const char *what, uint8_t *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = read(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hv_err_sys(-errno, "reading %s '%s'", what, path);
		if (n == 0)
			return hv_err(-EIO, "%s '%s' shrank while being read", what, path);
		done += (size_t)n;
	}
	return 0;
}

HV_EXPORT int hv_loader_read_file(const char *path, const char *what, void **data, size_t *size)
{
	HV_CHECK_ARG(path);
	HV_CHECK_ARG(data);
	HV_CHECK_ARG(size);
	*data = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, ret;

	if (!what)
		what = "file";
	if (!path || !data || !size)
		return hv_err(-EINVAL, "reading %s: NULL path or output", what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hv_err_sys(-errno, "%s '%s'", what, path);
	ret = check_stat(fd, path, what, &len);
	if (ret)
		goto out_close;
	buf = malloc(len);
	if (!buf) {
		ret = hv_err(-ENOMEM, "%s '%s': allocating %zu bytes", what, path, len);
		goto out_close;
	}
	ret = read_all(fd, path, what, buf, len);
	if (ret) {
		free(buf);
		goto out_close;
	}
	*data = buf;
	*size = len;
out_close:
	close(fd);
	return ret;
}

static int load_with_initrd(struct hv_mem *mem, const char *kernel_path, const void *kernel,
			    size_t kernel_size, const char *initrd_path,
			    struct hv_linux_boot_config *cfg, struct hv_linux_boot_result *out)
{
	void *initrd = NULL;
	size_t initrd_size = 0;
	int ret;

	if (initrd_path) {
		ret = hv_loader_read_file(initrd_path, "initrd", &initrd, &initrd_size);
		if (ret)
			return ret;
		cfg->initrd = initrd;
		cfg->initrd_size = initrd_size;
	}
	ret = hv_loader_load_linux(mem, kernel, kernel_size, cfg, out);
	if (ret)
		hv_err_context(ret, "kernel '%s'", kernel_path);
	hv_loader_free(initrd);
	return ret;
}

HV_EXPORT int hv_loader_load_linux_file(struct hv_mem *mem, const char *kernel_path,
					const char *initrd_path,
					const struct hv_linux_boot_config *cfg,
					struct hv_linux_boot_result *out)
{
	struct hv_linux_boot_config local;
	void *kernel;
	size_t kernel_size;
	int ret;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(kernel_path);
	HV_CHECK_ARG(out);

	hv_linux_boot_config_init(&local); /* cfg NULL: the defaults */
	ret = cfg ? HV_CFG_LOAD(&local, cfg, hv_linux_boot_config_init, "boot config") : 0;
	if (ret)
		return ret;
	if (initrd_path && local.initrd)
		return hv_err(-EINVAL, "an initrd both as a file and in the boot config");
	ret = hv_loader_read_file(kernel_path, "kernel", &kernel, &kernel_size);
	if (ret)
		return ret;
	ret = load_with_initrd(mem, kernel_path, kernel, kernel_size, initrd_path, &local, out);
	hv_loader_free(kernel);
	return ret;
}

HV_EXPORT int hv_loader_load_raw_file(struct hv_mem *mem, const char *path, uint64_t gpa)
{
	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(path);
	void *image;
	size_t size;
	int ret = hv_loader_read_file(path, "image", &image, &size);

	if (ret)
		return ret;
	ret = hv_loader_load_raw(mem, image, size, gpa);
	if (ret)
		hv_err_context(ret, "image '%s'", path);
	hv_loader_free(image);
	return ret;
}
