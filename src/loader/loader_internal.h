/* SPDX-License-Identifier: MIT */
/* Loader internals shared by the bzImage, PVH and raw loaders. */
#ifndef HV_LOADER_INTERNAL_H
#define HV_LOADER_INTERNAL_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlib/loader.h"

#define LOADER_PAGE 4096ull
#define LOADER_MAX_MAP 128       /* E820 entries the zero page has room for */
#define LOADER_MAX_MEM_RANGES 64 /* caller ranges in a config */
#define LOADER_4G (1ull << 32)

/*
 * The guest's memory map as the kernel will be told it, and what the loader
 * has claimed in it so far.  Claims are checked against both before anything
 * is written, which is what lets a failed load leave guest memory untouched.
 */
struct hv_loader_layout {
	struct hv_e820_range map[LOADER_MAX_MAP]; /* sorted, non-overlapping */
	uint32_t nr_map;
	struct hv_loader_used used[HV_LOADER_MAX_USED];
	uint32_t nr_used;
};

/* layout.c */
int hv_loader_layout_init(struct hv_loader_layout *l, const struct hv_mem *mem,
			  const struct hv_e820_range *ranges, uint32_t nr_ranges);
int hv_loader_claim(struct hv_loader_layout *l, uint64_t addr, uint64_t size, uint32_t what);
int hv_loader_place_high(struct hv_loader_layout *l, uint64_t size, uint64_t limit_end,
			 uint32_t what, uint64_t *addr);
void hv_loader_result(const struct hv_loader_layout *l, uint32_t mode, uint64_t entry,
		      uint64_t boot_params, struct hv_linux_boot_result *out);
const char *hv_loader_use_name(uint32_t what);

/* linux.c: the steps bzImage and PVH boots share. */
int hv_linux_config_resolve(const struct hv_linux_boot_config *in,
			    struct hv_linux_boot_config *cfg);
/* Claim the boot parameter page and the command line, place the initrd below
 * initrd_limit_end; fills cfg->initrd_addr. */
int hv_linux_place_common(struct hv_loader_layout *l, struct hv_linux_boot_config *cfg,
			  uint64_t cmdline_max, uint64_t initrd_limit_end);
int hv_linux_write_common(struct hv_mem *mem, const struct hv_linux_boot_config *cfg);

/* bzimage.c: hv_loader_bzimage_parse() without the message context. */
int hv_loader_bzimage_validate(const uint8_t *p, size_t size, struct hv_bzimage_info *out);

/* elf.c: hv_loader_elf_parse() without the message context, and program
 * header i of an image that passed it. */
int hv_loader_elf_validate(const uint8_t *p, size_t size, struct hv_elf_info *out);
void hv_loader_elf_phdr(const uint8_t *p, uint32_t i, Elf64_Phdr *ph);

/* decompress.c */
uint32_t hv_loader_detect_compression(const uint8_t *data, size_t size);
int hv_loader_decompress(uint32_t compression, const uint8_t *in, size_t in_size,
			 uint8_t **out, size_t *out_size);

/* Little-endian readers for unaligned image bytes (the caller checks bounds). */
static inline uint16_t hv_loader_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t hv_loader_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* a + b <= limit, without overflow. */
static inline bool hv_loader_fits(uint64_t a, uint64_t b, uint64_t limit)
{
	return a <= limit && b <= limit - a;
}

#endif /* HV_LOADER_INTERNAL_H */
