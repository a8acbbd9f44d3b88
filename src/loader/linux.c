/* SPDX-License-Identifier: MIT */
/*
 * What the bzImage and PVH boots share: the config, the command line and the
 * initrd; and hv_loader_load_linux(), which picks between them.
 */
#include <errno.h>
#include <string.h>

#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

typedef unsigned long long ull;

HV_EXPORT void hv_linux_boot_config_init(struct hv_linux_boot_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

/* Copy the caller's config into *cfg with every default filled in. */
int hv_linux_config_resolve(const struct hv_linux_boot_config *in,
			    struct hv_linux_boot_config *cfg)
{
	int ret;

	hv_linux_boot_config_init(cfg); /* in NULL: the defaults */
	ret = in ? HV_CFG_LOAD(cfg, in, hv_linux_boot_config_init, "boot config") : 0;
	if (ret)
		return ret;
	if (cfg->flags & ~HV_LINUX_F_ALL)
		return hv_err(-EINVAL, "boot config: unknown flags 0x%x",
			      cfg->flags & ~HV_LINUX_F_ALL);
	if (cfg->reserved)
		return hv_err(-EINVAL, "boot config: reserved field is not 0");
	if (cfg->initrd_size && !cfg->initrd)
		return hv_err(-EINVAL, "boot config: initrd_size %llu without an initrd",
			      (ull)cfg->initrd_size);
	if (cfg->initrd && !cfg->initrd_size)
		return hv_err(-EINVAL, "boot config: the initrd is empty");
	if (!cfg->cmdline)
		cfg->cmdline = "";
	if (!cfg->boot_params_addr)
		cfg->boot_params_addr = HV_LINUX_BOOT_PARAMS_ADDR;
	if (!cfg->cmdline_addr)
		cfg->cmdline_addr = HV_LINUX_CMDLINE_ADDR;
	if (cfg->boot_params_addr % LOADER_PAGE || cfg->initrd_addr % LOADER_PAGE)
		return hv_err(-EINVAL, "boot config: boot_params_addr 0x%llx and initrd_addr "
				       "0x%llx must be 4 KiB aligned", (ull)cfg->boot_params_addr,
			      (ull)cfg->initrd_addr);
	return 0;
}

int hv_linux_place_common(struct hv_loader_layout *l, struct hv_linux_boot_config *cfg,
			  uint64_t cmdline_max, uint64_t initrd_limit_end)
{
	size_t len = strlen(cfg->cmdline);
	int ret;

	if (len > cmdline_max)
		return hv_err(-E2BIG, "the command line is %zu bytes, the kernel takes at most "
				      "%llu", len, (ull)cmdline_max);
	ret = hv_loader_claim(l, cfg->boot_params_addr, LOADER_PAGE, HV_LOADER_USE_BOOT_PARAMS);
	if (ret)
		return ret;
	ret = hv_loader_claim(l, cfg->cmdline_addr, len + 1, HV_LOADER_USE_CMDLINE);
	if (ret || !cfg->initrd)
		return ret;
	if (cfg->initrd_addr) {
		if (!hv_loader_fits(cfg->initrd_addr, cfg->initrd_size, initrd_limit_end))
			return hv_err(-EINVAL, "initrd at 0x%llx+0x%llx ends above 0x%llx, the "
					       "highest address the kernel accepts",
				      (ull)cfg->initrd_addr, (ull)cfg->initrd_size,
				      (ull)initrd_limit_end);
		return hv_loader_claim(l, cfg->initrd_addr, cfg->initrd_size, HV_LOADER_USE_INITRD);
	}
	return hv_loader_place_high(l, cfg->initrd_size, initrd_limit_end, HV_LOADER_USE_INITRD,
				    &cfg->initrd_addr);
}

int hv_linux_write_common(struct hv_mem *mem, const struct hv_linux_boot_config *cfg)
{
	int ret = hv_mem_write(mem, cfg->cmdline_addr, cfg->cmdline, strlen(cfg->cmdline) + 1);

	if (ret || !cfg->initrd)
		return ret;
	if (cfg->initrd_size > SIZE_MAX)
		return hv_err(-E2BIG, "initrd of %llu bytes", (ull)cfg->initrd_size);
	return hv_mem_write(mem, cfg->initrd_addr, cfg->initrd, (size_t)cfg->initrd_size);
}

static bool is_elf(const uint8_t *p, size_t size)
{
	return size >= 4 && memcmp(p, "\177ELF", 4) == 0;
}

static bool is_bzimage(const uint8_t *p, size_t size)
{
	return size >= 0x206 && hv_loader_le16(p + 0x1fe) == 0xaa55 &&
	       memcmp(p + 0x202, "HdrS", 4) == 0;
}

/* bzImage through PVH: the ELF inside it, decompressed. */
static int load_bzimage_pvh(struct hv_mem *mem, const void *image, size_t size,
			    const struct hv_linux_boot_config *cfg,
			    struct hv_linux_boot_result *out)
{
	void *vmlinux;
	size_t vmlinux_size;
	int ret = hv_loader_bzimage_extract_vmlinux(image, size, &vmlinux, &vmlinux_size);

	if (ret)
		return ret;
	ret = hv_loader_load_pvh(mem, vmlinux, vmlinux_size, cfg, out);
	hv_loader_free(vmlinux);
	return ret;
}

HV_EXPORT int hv_loader_load_linux(struct hv_mem *mem, const void *image, size_t size,
				   const struct hv_linux_boot_config *cfg,
				   struct hv_linux_boot_result *out)
{
	const uint8_t *p = image;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(out);

	if (!image)
		return hv_err(-EINVAL, "loading Linux: no image");
	if (is_elf(p, size))
		return hv_loader_load_pvh(mem, image, size, cfg, out);
	if (!is_bzimage(p, size))
		return hv_err(-ENOEXEC, "loading Linux: the image (%zu bytes) is neither a bzImage "
					"nor an ELF vmlinux", size);
	if (cfg && cfg->size >= sizeof(*cfg) && (cfg->flags & HV_LINUX_F_PVH))
		return load_bzimage_pvh(mem, image, size, cfg, out);
	return hv_loader_load_bzimage(mem, image, size, cfg, out);
}
