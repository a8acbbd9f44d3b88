/* SPDX-License-Identifier: MIT */
/*
 * Guest ABI structures of the x86 Linux boot protocols, written from their
 * documentation: struct boot_params (Documentation/arch/x86/zero-page.rst)
 * with its setup header (boot.rst), and the PVH start info (Xen's
 * public/arch-x86/hvm/start_info.h).  Every offset the loader relies on is
 * pinned below, so a typo fails the build instead of a boot.
 */
#ifndef HV_LOADER_BOOTPARAM_H
#define HV_LOADER_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>

#define BP_BOOT_FLAG      0xaa55
#define BP_HDRS_MAGIC     0x53726448u /* "HdrS" */
#define BP_JUMP_OPCODE    0xeb        /* short jmp at 0x200 */
#define BP_HEADER_START   0x1f1
#define BP_HEADER_MIN_END 0x268       /* through init_size and handover_offset (2.11+) */
#define BP_HEADER_MAX_END 0x290       /* room before edd_mbr_sig_buffer */
#define BP_SECTOR         512u
#define BP_DEFAULT_SETUP_SECTS 4      /* what setup_sects 0 means */

/* loadflags */
#define BP_LOADED_HIGH    0x01
#define BP_CAN_USE_HEAP   0x80
/* xloadflags */
#define BP_XLF_KERNEL_64  0x01
/* type_of_loader: "undefined", for loaders without an assigned id */
#define BP_LOADER_UNDEFINED 0xff
/* heap_end_ptr: conventional end of the real-mode heap (boot.rst's example) */
#define BP_HEAP_END_PTR   (0xe000 - 0x200)
/* initrd_addr_max of kernels that leave it 0 */
#define BP_INITRD_ADDR_MAX_DEFAULT 0x37ffffffu
#define BP_E820_MAX       128

struct bp_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct bp_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct bp_boot_params {
	uint8_t screen_info[0x40];
	uint8_t apm_bios_info[0x14];
	uint8_t pad_054[4];
	uint64_t tboot_addr;
	uint8_t ist_info[0x10];
	uint64_t acpi_rsdp_addr;
	uint8_t pad_078[8];
	uint8_t hd0_info[0x10];
	uint8_t hd1_info[0x10];
	uint8_t sys_desc_table[0x10];
	uint8_t olpc_ofw_header[0x10];
	uint32_t ext_ramdisk_image;
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad_0cc[0x13c - 0xcc];
	uint32_t cc_blob_address;
	uint8_t edid_info[0x80];
	uint8_t efi_info[0x20];
	uint32_t alt_mem_k;
	uint32_t scratch;
	uint8_t e820_entries;
	uint8_t eddbuf_entries;
	uint8_t edd_mbr_sig_buf_entries;
	uint8_t kbd_status;
	uint8_t secure_boot;
	uint8_t pad_1ed[2];
	uint8_t sentinel;
	uint8_t pad_1f0;
	struct bp_setup_header hdr;
	uint8_t pad_hdr[0x290 - 0x1f1 - sizeof(struct bp_setup_header)];
	uint32_t edd_mbr_sig_buffer[16];
	struct bp_e820_entry e820_table[BP_E820_MAX];
	uint8_t pad_cd0[0x30];
	uint8_t eddbuf[0x1ec];
	uint8_t pad_eec[0x1000 - 0xeec];
} __attribute__((packed));

#define BP_HDR_AT(field, off) \
	_Static_assert(BP_HEADER_START + offsetof(struct bp_setup_header, field) == (off), \
		       "setup_header." #field " must be at " #off)
BP_HDR_AT(syssize, 0x1f4);
BP_HDR_AT(boot_flag, 0x1fe);
BP_HDR_AT(jump, 0x200);
BP_HDR_AT(header, 0x202);
BP_HDR_AT(version, 0x206);
BP_HDR_AT(kernel_version, 0x20e);
BP_HDR_AT(type_of_loader, 0x210);
BP_HDR_AT(loadflags, 0x211);
BP_HDR_AT(code32_start, 0x214);
BP_HDR_AT(ramdisk_image, 0x218);
BP_HDR_AT(heap_end_ptr, 0x224);
BP_HDR_AT(cmd_line_ptr, 0x228);
BP_HDR_AT(initrd_addr_max, 0x22c);
BP_HDR_AT(kernel_alignment, 0x230);
BP_HDR_AT(relocatable_kernel, 0x234);
BP_HDR_AT(xloadflags, 0x236);
BP_HDR_AT(cmdline_size, 0x238);
BP_HDR_AT(payload_offset, 0x248);
BP_HDR_AT(setup_data, 0x250);
BP_HDR_AT(pref_address, 0x258);
BP_HDR_AT(init_size, 0x260);
BP_HDR_AT(kernel_info_offset, 0x268);
_Static_assert(sizeof(struct bp_setup_header) == 0x26c - BP_HEADER_START, "setup_header size");

#define BP_AT(field, off) \
	_Static_assert(offsetof(struct bp_boot_params, field) == (off), \
		       "boot_params." #field " must be at " #off)
BP_AT(acpi_rsdp_addr, 0x070);
BP_AT(ext_ramdisk_image, 0x0c0);
BP_AT(ext_ramdisk_size, 0x0c4);
BP_AT(ext_cmd_line_ptr, 0x0c8);
BP_AT(cc_blob_address, 0x13c);
BP_AT(e820_entries, 0x1e8);
BP_AT(sentinel, 0x1ef);
BP_AT(hdr, BP_HEADER_START);
BP_AT(edd_mbr_sig_buffer, 0x290);
BP_AT(e820_table, 0x2d0);
BP_AT(eddbuf, 0xd00);
_Static_assert(sizeof(struct bp_e820_entry) == 20, "e820_entry size");
_Static_assert(sizeof(struct bp_boot_params) == 4096, "boot_params is one page");

/* PVH: struct hvm_start_info and its tables, all naturally aligned. */
#define PVH_START_MAGIC   0x336ec578u
#define PVH_START_VERSION 1u
#define PVH_NOTE_NAME     "Xen"
#define PVH_NOTE_PHYS32_ENTRY 18 /* XEN_ELFNOTE_PHYS32_ENTRY */

struct pvh_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;   /* version 1+ */
	uint32_t memmap_entries; /* version 1+ */
	uint32_t reserved;
};

struct pvh_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(offsetof(struct pvh_start_info, modlist_paddr) == 16, "start_info.modlist_paddr");
_Static_assert(offsetof(struct pvh_start_info, rsdp_paddr) == 32, "start_info.rsdp_paddr");
_Static_assert(offsetof(struct pvh_start_info, memmap_paddr) == 40, "start_info.memmap_paddr");
_Static_assert(offsetof(struct pvh_start_info, memmap_entries) == 48, "start_info.memmap_entries");
_Static_assert(sizeof(struct pvh_start_info) == 56, "hvm_start_info size");
_Static_assert(sizeof(struct pvh_modlist_entry) == 32, "hvm_modlist_entry size");
_Static_assert(sizeof(struct pvh_memmap_entry) == 24, "hvm_memmap_table_entry size");

#endif /* HV_LOADER_BOOTPARAM_H */
