/* SPDX-License-Identifier: MIT */
/*
 * Loading an ELF vmlinux for the PVH boot ABI (Xen's hvm_start_info, which
 * Linux also accepts on KVM): segments at their physical addresses, then one
 * page holding the start info, the module list and the memory map.
 */
#include <errno.h>
#include <string.h>

#include "loader/bootparam.h"
#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

typedef unsigned long long ull;

/* Layout of the boot parameter page. */
#define PVH_MODLIST_OFF 64
#define PVH_MEMMAP_OFF  128

_Static_assert(PVH_MODLIST_OFF >= sizeof(struct pvh_start_info), "start info fits");
_Static_assert(PVH_MEMMAP_OFF >= PVH_MODLIST_OFF + sizeof(struct pvh_modlist_entry),
	       "module list fits");
_Static_assert(PVH_MEMMAP_OFF + LOADER_MAX_MAP * sizeof(struct pvh_memmap_entry) <= LOADER_PAGE,
	       "memory map fits in the boot parameter page");

static const uint8_t zeros[4096];

static int zero_fill(struct hv_mem *mem, uint64_t gpa, uint64_t len)
{
	while (len) {
		size_t chunk = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int ret = hv_mem_write(mem, gpa, zeros, chunk);

		if (ret)
			return ret;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

static int write_segments(struct hv_mem *mem, const uint8_t *image)
{
	Elf64_Ehdr eh;

	memcpy(&eh, image, sizeof(eh));
	for (uint32_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		int ret;

		hv_loader_elf_phdr(image, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > SIZE_MAX)
			return hv_err(-E2BIG, "segment %u is too large for this host", i);
		ret = hv_mem_write(mem, ph.p_paddr, image + ph.p_offset, (size_t)ph.p_filesz);
		if (!ret)
			ret = zero_fill(mem, ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz);
		if (ret)
			return ret;
	}
	return 0;
}

static void build_start_info(uint8_t *page, const struct hv_linux_boot_config *cfg,
			     const struct hv_loader_layout *l)
{
	struct pvh_start_info si = {
		.magic = PVH_START_MAGIC,
		.version = PVH_START_VERSION,
		.cmdline_paddr = cfg->cmdline_addr,
		.rsdp_paddr = cfg->acpi_rsdp_addr,
		.memmap_paddr = cfg->boot_params_addr + PVH_MEMMAP_OFF,
		.memmap_entries = l->nr_map,
	};

	memset(page, 0, LOADER_PAGE);
	if (cfg->initrd) {
		struct pvh_modlist_entry mod = {
			.paddr = cfg->initrd_addr, .size = cfg->initrd_size,
		};

		si.nr_modules = 1;
		si.modlist_paddr = cfg->boot_params_addr + PVH_MODLIST_OFF;
		memcpy(page + PVH_MODLIST_OFF, &mod, sizeof(mod));
	}
	memcpy(page, &si, sizeof(si));
	for (uint32_t i = 0; i < l->nr_map; i++) {
		struct pvh_memmap_entry e = {
			.addr = l->map[i].addr, .size = l->map[i].size, .type = l->map[i].type,
		};

		memcpy(page + PVH_MEMMAP_OFF + i * sizeof(e), &e, sizeof(e));
	}
}

static int place(struct hv_loader_layout *l, const struct hv_elf_info *elf,
		 struct hv_linux_boot_config *cfg)
{
	int ret = hv_loader_claim(l, elf->paddr_start, elf->paddr_end - elf->paddr_start,
				  HV_LOADER_USE_KERNEL);

	if (ret)
		return ret;
	/* 32-bit protected mode without paging reaches only the low 4 GiB. */
	if (cfg->boot_params_addr >= LOADER_4G || cfg->cmdline_addr >= LOADER_4G ||
	    elf->paddr_end > LOADER_4G)
		return hv_err(-EINVAL, "the kernel, boot parameters and command line must lie "
				       "below 4 GiB for PVH");
	return hv_linux_place_common(l, cfg, HV_LINUX_PVH_CMDLINE_MAX, LOADER_4G);
}

static int load(struct hv_mem *mem, const uint8_t *image, size_t size,
		const struct hv_linux_boot_config *user_cfg, struct hv_linux_boot_result *out)
{
	struct hv_linux_boot_config cfg;
	struct hv_elf_info elf;
	struct hv_loader_layout l;
	uint8_t page[LOADER_PAGE];
	int ret;

	ret = hv_linux_config_resolve(user_cfg, &cfg);
	if (ret)
		return ret;
	if (cfg.kernel_addr)
		return hv_err(-EINVAL, "kernel_addr must be 0: an ELF kernel loads at its p_paddr");
	ret = hv_loader_elf_validate(image, size, &elf);
	if (ret)
		return ret;
	if (!elf.has_pvh)
		return hv_err(-ENOEXEC, "no PVH entry note (Xen note XEN_ELFNOTE_PHYS32_ENTRY); "
					"was the kernel built with CONFIG_PVH=y?");
	ret = hv_loader_layout_init(&l, mem, cfg.mem_ranges, cfg.nr_mem_ranges);
	if (!ret)
		ret = place(&l, &elf, &cfg);
	if (ret)
		return ret;

	/* Everything is checked: from here on only writes into claimed RAM. */
	ret = write_segments(mem, image);
	if (!ret)
		ret = hv_linux_write_common(mem, &cfg);
	if (ret)
		return ret;
	build_start_info(page, &cfg, &l);
	ret = hv_mem_write(mem, cfg.boot_params_addr, page, sizeof(page));
	if (ret)
		return ret;
	hv_loader_result(&l, HV_LINUX_BOOT_PVH, elf.pvh_entry, cfg.boot_params_addr, out);
	return 0;
}

HV_EXPORT int hv_loader_load_pvh(struct hv_mem *mem, const void *image, size_t size,
				 const struct hv_linux_boot_config *cfg,
				 struct hv_linux_boot_result *out)
{
	int ret;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(out);

	if (!mem || !image || !out)
		return hv_err(-EINVAL, "loading PVH kernel: NULL memory, image or result");
	ret = load(mem, image, size, cfg, out);
	return ret ? hv_err_context(ret, "loading PVH kernel") : 0;
}
