/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the loader tests: guest memory, and small crafted images
 * (bzImage, ELF vmlinux) built in memory so no binaries live in git.  The
 * offsets are the documented ones (boot.rst, the ELF spec), written out here
 * independently of src/loader so a layout mistake there cannot hide.
 */
#ifndef TEST_LOADER_UTIL_H
#define TEST_LOADER_UTIL_H

#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hvlib/loader.h"
#include "hvlib/mem.h"

#define MiB (1ull << 20)

static inline void put16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* Standalone guest memory: anonymous RAM at gpa (page-aligned sizes). */
static inline void mem_add(struct hv_mem *mem, uint64_t gpa, uint64_t bytes, uint32_t flags)
{
	struct hv_mem_region_config rc;

	hv_mem_region_config_init(&rc);
	rc.gpa = gpa;
	rc.bytes = bytes;
	rc.flags = flags;
	assert_int_equal(hv_mem_add_region(mem, &rc, NULL), 0);
}

static inline struct hv_mem *mem_new(uint64_t bytes)
{
	struct hv_mem *mem;

	assert_int_equal(hv_mem_create(&mem), 0);
	mem_add(mem, 0, bytes, 0);
	return mem;
}

/* Whether hv_last_error() mentions s (printed on failure, for the log). */
static inline int error_mentions(const char *s)
{
	if (strstr(hv_last_error(), s))
		return 1;
	print_error("last error \"%s\" does not mention \"%s\"\n", hv_last_error(), s);
	return 0;
}

/* ---- a crafted bzImage ---- */

#define BZ_SETUP_SECTS  4
#define BZ_KERNEL_OFF   ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD_OFF  0x100 /* from the start of the protected-mode kernel */
#define BZ_PREF         0x1000000ull
#define BZ_INIT_SIZE    0x400000u
#define BZ_VERSION_STR  "6.1.0-test (hvlib@tests) #1"

/*
 * A bzImage with protocol 2.15 whose protected-mode kernel is `pm_bytes`
 * (a multiple of 16) of pattern bytes with `payload` at BZ_PAYLOAD_OFF.
 * Caller frees.
 */
static inline uint8_t *bz_build(size_t *size, const void *payload, size_t payload_len,
				size_t pm_bytes)
{
	size_t total = BZ_KERNEL_OFF + pm_bytes;
	uint8_t *p = calloc(1, total);

	assert_non_null(p);
	assert_true(pm_bytes % 16 == 0 && BZ_PAYLOAD_OFF + payload_len <= pm_bytes);
	for (size_t i = BZ_KERNEL_OFF; i < total; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	memcpy(p + BZ_KERNEL_OFF + BZ_PAYLOAD_OFF, payload, payload_len);
	p[0x1f1] = BZ_SETUP_SECTS;
	put32(p, 0x1f4, (uint32_t)(pm_bytes / 16));  /* syssize */
	put16(p, 0x1fe, 0xaa55);                      /* boot_flag */
	p[0x200] = 0xeb;                              /* jmp ... */
	p[0x201] = 0x6a;                              /* ... header ends at 0x26c */
	memcpy(p + 0x202, "HdrS", 4);
	put16(p, 0x206, 0x020f);                      /* version 2.15 */
	put16(p, 0x20e, 0x100);                       /* kernel_version at 0x300 */
	memcpy(p + 0x300, BZ_VERSION_STR, sizeof(BZ_VERSION_STR));
	p[0x211] = 0x01;                              /* loadflags: LOADED_HIGH */
	put32(p, 0x22c, 0x7fffffff);                  /* initrd_addr_max */
	put32(p, 0x230, 0x200000);                    /* kernel_alignment */
	p[0x234] = 1;                                 /* relocatable_kernel */
	p[0x235] = 21;                                /* min_alignment */
	put16(p, 0x236, 0x3);                         /* XLF_KERNEL_64 | ABOVE_4G */
	put32(p, 0x238, 255);                         /* cmdline_size */
	put32(p, 0x248, BZ_PAYLOAD_OFF);              /* payload_offset */
	put32(p, 0x24c, (uint32_t)payload_len);       /* payload_length */
	put64(p, 0x258, BZ_PREF);                     /* pref_address */
	put32(p, 0x260, BZ_INIT_SIZE);                /* init_size */
	*size = total;
	return p;
}

/* A bzImage with a dummy xz-magic payload, for tests that never decompress. */
static inline uint8_t *bz_simple(size_t *size)
{
	static const uint8_t xz_ish[16] = { 0xfd, '7', 'z', 'X', 'Z', 0 };

	return bz_build(size, xz_ish, sizeof(xz_ish), 0x2000);
}

/* ---- a crafted ELF vmlinux ---- */

#define ELF_TEXT_PADDR 0x100000ull
#define ELF_TEXT_OFF   0x1000
#define ELF_TEXT_FILE  0x1000
#define ELF_TEXT_MEM   0x3000 /* 0x2000 of bss */
#define ELF_DATA_PADDR 0x200000ull
#define ELF_DATA_OFF   0x2000
#define ELF_DATA_FILE  0x800
#define ELF_NOTE_OFF   0x3000
#define ELF_PVH_ENTRY  0x100040ull
#define ELF_SIZE       0x3100
#define ELF_PHNUM      3
#define ELF_PHDR(i)    (sizeof(Elf64_Ehdr) + (i) * sizeof(Elf64_Phdr))

/* Append one note; returns the offset after it (4-byte alignment). */
static inline size_t elf_note(uint8_t *p, size_t off, const char *name, uint32_t type,
			      const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;

	put32(p, off, namesz);
	put32(p, off + 4, descsz);
	put32(p, off + 8, type);
	memcpy(p + off + 12, name, namesz);
	off += 12 + ((namesz + 3) & ~3u);
	memcpy(p + off, desc, descsz);
	return off + ((descsz + 3) & ~3u);
}

static inline void elf_phdr(uint8_t *p, unsigned i, uint32_t type, uint64_t off, uint64_t paddr,
			    uint64_t filesz, uint64_t memsz, uint64_t align)
{
	Elf64_Phdr ph = {
		.p_type = type, .p_flags = PF_R | PF_X, .p_offset = off,
		.p_vaddr = paddr + 0xffffffff80000000ull, .p_paddr = paddr,
		.p_filesz = filesz, .p_memsz = memsz, .p_align = align,
	};

	memcpy(p + ELF_PHDR(i), &ph, sizeof(ph));
}

/*
 * ELF64 x86_64 ET_EXEC: text (with bss) at 1 MiB, data at 2 MiB, and a note
 * segment holding a GNU note followed by the 8-byte PVH entry note.
 */
static inline uint8_t *elf_build(size_t *size)
{
	uint8_t *p = calloc(1, ELF_SIZE);
	uint64_t entry = ELF_PVH_ENTRY;
	uint8_t build_id[20] = { 1, 2, 3 };
	size_t end;
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = 0x1000000, .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = ELF_PHNUM,
	};

	assert_non_null(p);
	memcpy(p, &eh, sizeof(eh));
	for (size_t i = ELF_TEXT_OFF; i < ELF_NOTE_OFF; i++)
		p[i] = (uint8_t)(i * 13 + 5);
	elf_phdr(p, 0, PT_LOAD, ELF_TEXT_OFF, ELF_TEXT_PADDR, ELF_TEXT_FILE, ELF_TEXT_MEM, 0x1000);
	elf_phdr(p, 1, PT_LOAD, ELF_DATA_OFF, ELF_DATA_PADDR, ELF_DATA_FILE, ELF_DATA_FILE, 0x1000);
	end = elf_note(p, ELF_NOTE_OFF, "GNU", 3 /* NT_GNU_BUILD_ID */, build_id, sizeof(build_id));
	end = elf_note(p, end, "Xen", 18 /* XEN_ELFNOTE_PHYS32_ENTRY */, &entry, sizeof(entry));
	elf_phdr(p, 2, PT_NOTE, ELF_NOTE_OFF, 0, end - ELF_NOTE_OFF, end - ELF_NOTE_OFF, 4);
	*size = ELF_SIZE;
	return p;
}

/* The used[] entry for `what`, or fail. */
static inline const struct hv_loader_used *used_of(const struct hv_linux_boot_result *r,
						   uint32_t what)
{
	for (uint32_t i = 0; i < r->nr_used; i++)
		if (r->used[i].what == what)
			return &r->used[i];
	fail_msg("no used range of kind %u", what);
	return NULL;
}

#endif /* TEST_LOADER_UTIL_H */
