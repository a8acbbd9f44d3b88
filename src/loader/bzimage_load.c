/* SPDX-License-Identifier: MIT */
/*
 * Loading a bzImage for the 64-bit boot protocol: protected-mode kernel,
 * command line, initrd and zero page (boot.rst, "64-bit BOOT PROTOCOL").
 */
#include <errno.h>
#include <string.h>

#include "loader/bootparam.h"
#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

typedef unsigned long long ull;

#define BZ_DEFAULT_LOAD  0x100000ull /* where bzImages went before pref_address */
#define BZ_ENTRY_64      0x200       /* startup_64, from the protected-mode kernel start */
#define BZ_XLF_ABOVE_4G  0x02        /* XLF_CAN_BE_LOADED_ABOVE_4G */

/*
 * Where the kernel decompresses itself (arch/x86/boot/compressed/head_64.S):
 * a relocatable kernel rounds its load address up to kernel_alignment but
 * never goes below LOAD_PHYSICAL_ADDR, which pref_address reports; a fixed
 * one always runs there.  It needs init_size bytes from that address, which
 * is why loading below pref_address saves no memory.
 */
static int runtime_addr(const struct hv_bzimage_info *bz, uint64_t load, uint64_t *run)
{
	uint64_t align = bz->kernel_alignment;

	*run = load;
	if (bz->relocatable) {
		if (!hv_loader_fits(load, align - 1, UINT64_MAX))
			return hv_err(-EINVAL, "load address 0x%llx cannot be aligned", (ull)load);
		*run = (load + align - 1) & ~(align - 1);
		if (*run < bz->pref_address)
			*run = bz->pref_address;
	} else if (bz->pref_address) {
		*run = bz->pref_address;
	}
	if (!hv_loader_fits(*run, bz->init_size, UINT64_MAX))
		return hv_err(-EINVAL, "the kernel would run at 0x%llx + init_size 0x%x, which "
				       "wraps around", (ull)*run, bz->init_size);
	return 0;
}

/* Claim everything the kernel touches until it has decompressed itself. */
static int claim_kernel(struct hv_loader_layout *l, const struct hv_bzimage_info *bz,
			uint64_t load)
{
	uint64_t run, lo, hi;
	int ret;

	if (!hv_loader_fits(load, bz->kernel_bytes, UINT64_MAX))
		return hv_err(-EINVAL, "kernel at 0x%llx wraps around", (ull)load);
	ret = runtime_addr(bz, load, &run);
	if (ret)
		return ret;
	lo = load < run ? load : run;
	hi = load + bz->kernel_bytes > run + bz->init_size ? load + bz->kernel_bytes
							     : run + bz->init_size;
	if (hi > LOADER_4G && !(bz->xloadflags & BZ_XLF_ABOVE_4G))
		return hv_err(-EINVAL, "kernel at 0x%llx-0x%llx is above 4 GiB, which this kernel "
				       "does not support", (ull)lo, (ull)(hi - 1));
	return hv_loader_claim(l, lo, hi - lo, HV_LOADER_USE_KERNEL);
}

static void fill_e820(struct bp_boot_params *bp, const struct hv_loader_layout *l)
{
	for (uint32_t i = 0; i < l->nr_map; i++) {
		bp->e820_table[i].addr = l->map[i].addr;
		bp->e820_table[i].size = l->map[i].size;
		bp->e820_table[i].type = l->map[i].type;
	}
	bp->e820_entries = (uint8_t)l->nr_map;
}

/* The zero page: the image's own setup header plus what a loader must set. */
static void build_zero_page(struct bp_boot_params *bp, const uint8_t *image,
			    const struct hv_bzimage_info *bz,
			    const struct hv_linux_boot_config *cfg,
			    const struct hv_loader_layout *l, uint64_t load)
{
	_Static_assert(LOADER_MAX_MAP <= BP_E820_MAX, "the layout map must fit the zero page");

	memset(bp, 0, sizeof(*bp));
	memcpy((uint8_t *)bp + BP_HEADER_START, image + BP_HEADER_START,
	       bz->header_end - BP_HEADER_START);
	bp->hdr.type_of_loader = BP_LOADER_UNDEFINED;
	bp->hdr.loadflags |= BP_CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = BP_HEAP_END_PTR;
	bp->hdr.code32_start = (uint32_t)load;
	bp->hdr.cmd_line_ptr = (uint32_t)cfg->cmdline_addr;
	bp->ext_cmd_line_ptr = (uint32_t)(cfg->cmdline_addr >> 32);
	if (cfg->initrd) {
		bp->hdr.ramdisk_image = (uint32_t)cfg->initrd_addr;
		bp->ext_ramdisk_image = (uint32_t)(cfg->initrd_addr >> 32);
		bp->hdr.ramdisk_size = (uint32_t)cfg->initrd_size;
		bp->ext_ramdisk_size = (uint32_t)(cfg->initrd_size >> 32);
	}
	/* Kernels before protocol 2.14 ignore it: the field was padding. */
	bp->acpi_rsdp_addr = cfg->acpi_rsdp_addr;
	fill_e820(bp, l);
}

static int check_low(const struct hv_bzimage_info *bz, const struct hv_linux_boot_config *cfg)
{
	uint64_t len = strlen(cfg->cmdline) + 1;

	if (bz->xloadflags & BZ_XLF_ABOVE_4G)
		return 0;
	if (cfg->boot_params_addr + LOADER_PAGE > LOADER_4G || cfg->cmdline_addr + len > LOADER_4G)
		return hv_err(-EINVAL, "boot parameters at 0x%llx and command line at 0x%llx must "
				       "be below 4 GiB for this kernel", (ull)cfg->boot_params_addr,
			      (ull)cfg->cmdline_addr);
	return 0;
}

static int place(struct hv_loader_layout *l, const struct hv_bzimage_info *bz,
		 struct hv_linux_boot_config *cfg, uint64_t load)
{
	uint64_t initrd_end = (uint64_t)bz->initrd_addr_max + 1;
	int ret = claim_kernel(l, bz, load);

	if (ret)
		return ret;
	ret = check_low(bz, cfg);
	if (ret)
		return ret;
	return hv_linux_place_common(l, cfg, bz->cmdline_size, initrd_end);
}

static int load(struct hv_mem *mem, const uint8_t *image, size_t size,
		const struct hv_linux_boot_config *user_cfg, struct hv_linux_boot_result *out)
{
	struct hv_linux_boot_config cfg;
	struct hv_bzimage_info bz;
	struct hv_loader_layout l;
	struct bp_boot_params bp;
	uint64_t load_addr;
	int ret;

	ret = hv_linux_config_resolve(user_cfg, &cfg);
	if (ret)
		return ret;
	ret = hv_loader_bzimage_validate(image, size, &bz);
	if (ret)
		return ret;
	ret = hv_loader_layout_init(&l, mem, cfg.mem_ranges, cfg.nr_mem_ranges);
	if (ret)
		return ret;
	load_addr = cfg.kernel_addr ? cfg.kernel_addr
				    : bz.pref_address ? bz.pref_address : BZ_DEFAULT_LOAD;
	ret = place(&l, &bz, &cfg, load_addr);
	if (ret)
		return ret;

	/* Everything is checked: from here on only writes into claimed RAM. */
	ret = hv_mem_write(mem, load_addr, image + bz.kernel_offset, (size_t)bz.kernel_bytes);
	if (!ret)
		ret = hv_linux_write_common(mem, &cfg);
	if (ret)
		return ret;
	build_zero_page(&bp, image, &bz, &cfg, &l, load_addr);
	ret = hv_mem_write(mem, cfg.boot_params_addr, &bp, sizeof(bp));
	if (ret)
		return ret;
	hv_loader_result(&l, HV_LINUX_BOOT_64, load_addr + BZ_ENTRY_64, cfg.boot_params_addr, out);
	return 0;
}

HV_EXPORT int hv_loader_load_bzimage(struct hv_mem *mem, const void *image, size_t size,
				     const struct hv_linux_boot_config *cfg,
				     struct hv_linux_boot_result *out)
{
	int ret;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(out);

	if (!mem || !image || !out)
		return hv_err(-EINVAL, "loading bzImage: NULL memory, image or result");
	ret = load(mem, image, size, cfg, out);
	return ret ? hv_err_context(ret, "loading bzImage") : 0;
}
