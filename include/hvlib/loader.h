/* SPDX-License-Identifier: MIT */
/*
 * hvlib/loader.h - putting guest kernels into guest memory.
 *
 * Images:
 *  - Linux x86 bzImage, booted through the 64-bit boot protocol
 *    (Documentation/arch/x86/boot.rst): hv_loader_load_bzimage();
 *  - ELF vmlinux with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), booted in
 *    32-bit protected mode: hv_loader_load_pvh().  A bzImage carries such an
 *    ELF, compressed, as its payload: hv_loader_bzimage_extract_vmlinux();
 *  - a raw flat binary at a fixed address: hv_loader_load_raw().
 * hv_loader_load_linux() tells bzImage from ELF by itself; the *_file
 * variants read the images from host files first.
 *
 * The loaders only write guest memory (any struct hv_mem, a VM's or a
 * standalone one); they never touch vCPUs.  Every load checks everything
 * before writing anything, so a failed load leaves guest memory unchanged.
 * The result says how to start the boot vCPU:
 *
 *  HV_LINUX_BOOT_64   64-bit long mode with paging identity-mapping at least
 *                     the kernel, boot parameters and command line (e.g.
 *                     hv_x86_setup_long_mode() with identity_bytes 0 = 4 GiB);
 *                     a GDT whose selectors 0x10 (code) and 0x18 (data) are
 *                     flat; interrupts off; RIP = entry, RSI = boot_params.
 *  HV_LINUX_BOOT_PVH  32-bit flat protected mode, paging off
 *                     (hv_x86_setup_protected_mode(entry)); EBX = boot_params,
 *                     the address of a struct hvm_start_info.
 *
 * Guest memory the loaders pick by default (all overridable in the config):
 * the boot parameters (zero page, or hvm_start_info + module list + memory
 * map) in the 4 KiB page at HV_LINUX_BOOT_PARAMS_ADDR, the command line at
 * HV_LINUX_CMDLINE_ADDR, the kernel where the image asks (a bzImage's
 * pref_address, an ELF's p_paddr), the initrd page-aligned as high as the
 * kernel allows below 4 GiB.  That leaves [0x1000, 0x7000) and
 * [0x8000, 0x20000) to the embedder for a GDT, page tables and a stack.
 *
 * Images are untrusted: every offset and size is checked against the image
 * and guest RAM, and a bad one fails with a message naming it.  Errors:
 * -ENOEXEC  not this format, wrong architecture, too old, no usable entry;
 * -EINVAL   a corrupt header (fields pointing outside the image, sizes that
 *           lie or overflow, overlapping segments), or a bad config;
 * -E2BIG    command line too long, too many memory map entries, payload
 *           decompresses to more than HV_LOADER_VMLINUX_MAX;
 * -ENOMEM   the image needs guest RAM that is not there (or host memory ran
 *           out);
 * -ENOTSUP  a payload compression this build of hvlib cannot decompress.
 * The detail is in hv_last_error().
 *
 * Ownership: images and initrds are borrowed for the duration of the call.
 * Buffers the loader allocates (hv_loader_read_file(),
 * hv_loader_bzimage_extract_vmlinux()) belong to the caller, who releases them
 * with hv_loader_free().
 *
 * Threading: parse functions are pure and thread-safe.  Loads write guest
 * memory: run them before the vCPUs start, or while they are paused.
 */
#ifndef HVLIB_LOADER_H
#define HVLIB_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default guest-physical addresses (see above). */
#define HV_LINUX_BOOT_PARAMS_ADDR 0x7000ull
#define HV_LINUX_CMDLINE_ADDR     0x20000ull
/* Longest PVH command line: Linux's COMMAND_LINE_SIZE on x86 minus the NUL.
 * (A bzImage states its own limit, cmdline_size.) */
#define HV_LINUX_PVH_CMDLINE_MAX  2047u
/* Largest file hv_loader_read_file() reads, and largest vmlinux extracted. */
#define HV_LOADER_FILE_MAX        (1ull << 30)
#define HV_LOADER_VMLINUX_MAX     (512ull << 20)

/* Memory types of the guest's memory map (the E820 and PVH values agree). */
enum hv_e820_type {
	HV_E820_RAM = 1,
	HV_E820_RESERVED = 2,
	HV_E820_ACPI = 3,     /* ACPI tables, reclaimable after boot */
	HV_E820_NVS = 4,      /* ACPI non-volatile storage */
	HV_E820_UNUSABLE = 5,
	HV_E820_PMEM = 7,     /* persistent memory */
};

/* A range of guest-physical address space and its type. */
struct hv_e820_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;     /* enum hv_e820_type */
	uint32_t reserved; /* must be 0 */
};

/* Boot flags (struct hv_linux_boot_config.flags). */
#define HV_LINUX_F_PVH (1u << 0) /* hv_loader_load_linux*(): boot a bzImage through PVH,
				  * by extracting its vmlinux */
#define HV_LINUX_F_ALL 0x1u

struct hv_linux_boot_config {
	uint32_t size;             /* sizeof(struct hv_linux_boot_config) */
	uint32_t flags;            /* HV_LINUX_F_*; unknown bits: -EINVAL */
	const char *cmdline;       /* NULL: empty; copied into the guest */
	const void *initrd;        /* NULL: no initrd; copied into the guest */
	uint64_t initrd_size;
	/*
	 * Non-RAM parts of the guest's memory map: ACPI tables, the MMIO hole,
	 * the KVM TSS and identity-map pages (e.g. 0xfffbc000), firmware.  They
	 * may overlap RAM regions (they are carved out of the RAM entries) but
	 * not each other; nothing is loaded into them.  RAM itself comes from
	 * the writable regions of the struct hv_mem (read-only regions appear as
	 * reserved).  At most 64.
	 */
	const struct hv_e820_range *mem_ranges;
	uint32_t nr_mem_ranges;
	uint32_t reserved;         /* must be 0 */
	uint64_t acpi_rsdp_addr;   /* 0: none; else handed to the kernel (boot protocol
				    * 2.14+, PVH) */
	uint64_t kernel_addr;      /* bzImage load address; 0: the image's pref_address
				    * (the decompressor never runs below it anyway).
				    * Must be 0 for an ELF, which goes where p_paddr says */
	uint64_t boot_params_addr; /* 0: HV_LINUX_BOOT_PARAMS_ADDR; 4 KiB aligned */
	uint64_t cmdline_addr;     /* 0: HV_LINUX_CMDLINE_ADDR */
	uint64_t initrd_addr;      /* 0: highest fit; else this address, 4 KiB aligned */
};

/* Fill *cfg with its size and defaults (everything else 0 / NULL). */
HV_EXPORT void hv_linux_boot_config_init(struct hv_linux_boot_config *cfg);

enum hv_linux_boot_mode {
	HV_LINUX_BOOT_64 = 1,  /* long mode: RIP = entry, RSI = boot_params */
	HV_LINUX_BOOT_PVH = 2, /* 32-bit protected mode: EIP = entry, EBX = boot_params */
};

/* What a piece of guest memory was used for (struct hv_loader_used.what). */
enum hv_loader_use {
	HV_LOADER_USE_KERNEL = 1,      /* the kernel, incl. what it needs while booting
					* (a bzImage's init_size, an ELF's bss) */
	HV_LOADER_USE_BOOT_PARAMS = 2, /* zero page / hvm_start_info, module list, memory map */
	HV_LOADER_USE_CMDLINE = 3,
	HV_LOADER_USE_INITRD = 4,
};

struct hv_loader_used {
	uint64_t addr;
	uint64_t size;
	uint32_t what;     /* enum hv_loader_use */
	uint32_t reserved;
};

#define HV_LOADER_MAX_USED 8

struct hv_linux_boot_result {
	uint32_t mode;         /* enum hv_linux_boot_mode */
	uint32_t nr_used;      /* entries of used[] filled */
	uint64_t entry;        /* first instruction, guest-physical */
	uint64_t boot_params;  /* RSI (64-bit) or EBX (PVH) */
	struct hv_loader_used used[HV_LOADER_MAX_USED]; /* ascending addresses */
	uint64_t reserved_tail[4]; /* room to grow: 0 today; later fields take it */
};

/* Compression of a bzImage payload, detected by its magic bytes. */
enum hv_loader_compression {
	HV_LOADER_COMP_NONE = 0,  /* an uncompressed ELF */
	HV_LOADER_COMP_GZIP = 1,
	HV_LOADER_COMP_BZIP2 = 2,
	HV_LOADER_COMP_LZMA = 3,
	HV_LOADER_COMP_XZ = 4,
	HV_LOADER_COMP_LZO = 5,
	HV_LOADER_COMP_LZ4 = 6,
	HV_LOADER_COMP_ZSTD = 7,
	HV_LOADER_COMP_UNKNOWN = 8,
};

/* "gzip", "xz", ...; never NULL. */
HV_EXPORT const char *hv_loader_compression_name(uint32_t compression);
/* 1 if this build can decompress it (HV_LOADER_COMP_NONE always), else 0. */
HV_EXPORT int hv_loader_compression_supported(uint32_t compression);

/* What hv_loader_bzimage_parse() finds in a bzImage's setup header. */
struct hv_bzimage_info {
	uint16_t version;          /* boot protocol, e.g. 0x020f for 2.15 */
	uint16_t xloadflags;       /* XLF_* */
	uint8_t loadflags;
	uint8_t relocatable;       /* relocatable_kernel */
	uint8_t min_alignment;     /* log2 */
	uint8_t setup_sects;       /* 0 in the image already turned into 4 */
	uint32_t kernel_alignment;
	uint32_t init_size;        /* bytes needed from the run-time address while booting */
	uint32_t initrd_addr_max;  /* highest byte an initrd may occupy */
	uint32_t cmdline_size;     /* longest command line, without the NUL */
	uint32_t payload_offset;   /* from the start of the protected-mode kernel */
	uint32_t payload_length;
	uint32_t compression;      /* enum hv_loader_compression of the payload */
	uint32_t header_end;       /* end of the setup header in the image (0x202 + jump) */
	uint64_t pref_address;
	uint64_t kernel_offset;    /* file offset of the protected-mode kernel:
				    * (setup_sects + 1) * 512 */
	uint64_t kernel_bytes;     /* its length: syssize * 16 (a signature after it is
				    * not loaded) */
	char kernel_version[64];   /* the image's version string, "" if none */
	uint64_t reserved_tail[4]; /* room to grow: 0 today; later fields take it */
};

/* Parse and validate a bzImage in memory.  Pure.  -ENOEXEC, -EINVAL. */
HV_EXPORT int hv_loader_bzimage_parse(const void *image, size_t size,
				      struct hv_bzimage_info *out);

/*
 * Load a bzImage for the 64-bit boot protocol: the protected-mode kernel at
 * cfg->kernel_addr or pref_address, the command line, the initrd, and a zero
 * page (struct boot_params) with the image's setup header, the loader fields
 * and an E820 map of guest RAM plus cfg->mem_ranges.  cfg NULL: defaults.
 * -ENOEXEC, -EINVAL, -E2BIG, -ENOMEM.
 */
HV_EXPORT int hv_loader_load_bzimage(struct hv_mem *mem, const void *image, size_t size,
				     const struct hv_linux_boot_config *cfg,
				     struct hv_linux_boot_result *out);

/*
 * Decompress a bzImage's payload into the ELF vmlinux it carries (followed,
 * for relocatable kernels, by the relocation table, which ELF parsing
 * ignores).  *vmlinux is the caller's, for hv_loader_free().
 * -ENOEXEC, -EINVAL (corrupt stream), -ENOTSUP (compression not built in:
 * the message names it), -E2BIG, -ENOMEM.
 */
HV_EXPORT int hv_loader_bzimage_extract_vmlinux(const void *image, size_t size, void **vmlinux,
						size_t *vmlinux_size);

/* What hv_loader_elf_parse() finds in an ELF kernel. */
struct hv_elf_info {
	uint64_t entry;        /* e_entry */
	uint64_t pvh_entry;    /* XEN_ELFNOTE_PHYS32_ENTRY, 0 if has_pvh is 0 */
	uint64_t paddr_start;  /* lowest p_paddr of a PT_LOAD segment */
	uint64_t paddr_end;    /* highest p_paddr + p_memsz */
	uint32_t nr_load;      /* PT_LOAD segments with p_memsz > 0 */
	uint32_t has_pvh;      /* 1 if the PVH entry note is present */
	uint64_t reserved_tail[4]; /* room to grow: 0 today; later fields take it */
};

/* Parse and validate an ELF64 x86_64 ET_EXEC image: headers, every PT_LOAD
 * segment (in the file, p_filesz <= p_memsz, no overflow, no overlap) and the
 * notes.  Pure.  -ENOEXEC, -EINVAL. */
HV_EXPORT int hv_loader_elf_parse(const void *image, size_t size, struct hv_elf_info *out);

/*
 * Load an ELF vmlinux for PVH boot: PT_LOAD segments at p_paddr (bss
 * zeroed), the command line, the initrd as the single module, and a struct
 * hvm_start_info (version 1, with a memory map) at cfg->boot_params_addr.
 * -ENOEXEC (incl. no PVH note), -EINVAL, -E2BIG, -ENOMEM.
 */
HV_EXPORT int hv_loader_load_pvh(struct hv_mem *mem, const void *image, size_t size,
				 const struct hv_linux_boot_config *cfg,
				 struct hv_linux_boot_result *out);

/* A bzImage (64-bit protocol, or PVH with HV_LINUX_F_PVH) or an ELF (PVH),
 * told apart by their magic.  Errors of the loader chosen. */
HV_EXPORT int hv_loader_load_linux(struct hv_mem *mem, const void *image, size_t size,
				   const struct hv_linux_boot_config *cfg,
				   struct hv_linux_boot_result *out);

/* hv_loader_load_linux() from files.  initrd_path NULL: cfg->initrd (if
 * any); both set: -EINVAL.  Errors of hv_loader_read_file() and the load. */
HV_EXPORT int hv_loader_load_linux_file(struct hv_mem *mem, const char *kernel_path,
					const char *initrd_path,
					const struct hv_linux_boot_config *cfg,
					struct hv_linux_boot_result *out);

/* Copy size bytes to guest-physical gpa (read-only regions included, for
 * firmware).  -EINVAL: size 0; -ENOMEM: [gpa, gpa + size) wraps or is not
 * entirely guest memory. */
HV_EXPORT int hv_loader_load_raw(struct hv_mem *mem, const void *image, size_t size,
				 uint64_t gpa);
HV_EXPORT int hv_loader_load_raw_file(struct hv_mem *mem, const char *path, uint64_t gpa);

/*
 * Read a whole regular file into a new buffer (*data, for hv_loader_free()).
 * `what` names it in messages ("kernel '/x/y': No such file or directory").
 * -ENOENT, -EACCES, ... (open/read errors); -EISDIR; -EINVAL: empty or not a
 * regular file; -EFBIG: larger than HV_LOADER_FILE_MAX; -ENOMEM.
 */
HV_EXPORT int hv_loader_read_file(const char *path, const char *what, void **data,
				  size_t *size);

/* Release a buffer from this module.  NULL: no-op. */
HV_EXPORT void hv_loader_free(void *buf);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_LOADER_H */
