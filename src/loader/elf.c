/* SPDX-License-Identifier: MIT */
/*
 * ELF64 kernel parsing: headers, PT_LOAD segments and the PVH entry note.
 * Every offset and size is checked against the file before use; the loader
 * (pvh.c) then trusts what passed here.
 */
#include <errno.h>
#include <string.h>

#include "loader/bootparam.h"
#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

typedef unsigned long long ull;

#define ELF_MAX_PHDRS 1024 /* a vmlinux has about 5; bounds the overlap check */

static const char *machine_name(uint16_t m)
{
	switch (m) {
	case EM_386:
		return "i386";
	case EM_ARM:
		return "arm";
	case EM_AARCH64:
		return "aarch64";
	case EM_RISCV:
		return "riscv";
	case EM_PPC64:
		return "ppc64";
	case EM_S390:
		return "s390";
	default:
		return "unknown";
	}
}

static int check_ident(const uint8_t *p, size_t size)
{
	if (size < EI_NIDENT || memcmp(p, ELFMAG, SELFMAG) != 0)
		return hv_err(-ENOEXEC, "no ELF magic: not an ELF file");
	if (p[EI_CLASS] == ELFCLASS32)
		return hv_err(-ENOEXEC, "a 32-bit ELF (ELFCLASS32) cannot be booted: need a 64-bit "
					"x86_64 vmlinux");
	if (p[EI_CLASS] != ELFCLASS64)
		return hv_err(-ENOEXEC, "unknown ELF class %u", p[EI_CLASS]);
	if (p[EI_DATA] != ELFDATA2LSB)
		return hv_err(-ENOEXEC, "not a little-endian ELF (EI_DATA %u)", p[EI_DATA]);
	if (size < sizeof(Elf64_Ehdr))
		return hv_err(-ENOEXEC, "the ELF header is truncated: the file has %zu bytes",
			      size);
	return 0;
}

static int check_ehdr(const uint8_t *p, size_t size, Elf64_Ehdr *eh)
{
	int ret = check_ident(p, size);

	if (ret)
		return ret;
	memcpy(eh, p, sizeof(*eh));
	if (eh->e_machine != EM_X86_64)
		return hv_err(-ENOEXEC, "ELF machine %u (%s) is not x86_64", eh->e_machine,
			      machine_name(eh->e_machine));
	if (eh->e_type != ET_EXEC)
		return hv_err(-ENOEXEC, "ELF type %u is not ET_EXEC (an executable)", eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return hv_err(-EINVAL, "program header size %u, expected %zu", eh->e_phentsize,
			      sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS)
		return hv_err(-EINVAL, "%u program headers, need 1 to %u", eh->e_phnum,
			      ELF_MAX_PHDRS);
	if (!hv_loader_fits(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size))
		return hv_err(-EINVAL, "%u program headers at 0x%llx run past the end of the "
				       "%zu-byte file", eh->e_phnum, (ull)eh->e_phoff, size);
	return 0;
}

void hv_loader_elf_phdr(const uint8_t *p, uint32_t i, Elf64_Phdr *ph)
{
	Elf64_Ehdr eh;

	memcpy(&eh, p, sizeof(eh));
	memcpy(ph, p + eh.e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* One PVH entry note: 4-byte (older kernels) or 8-byte (_ASM_PTR) descriptor. */
static int read_pvh_entry(const uint8_t *desc, uint32_t descsz, struct hv_elf_info *out)
{
	uint64_t entry;

	if (descsz == 4)
		entry = hv_loader_le32(desc);
	else if (descsz == 8)
		entry = hv_loader_le32(desc) | (uint64_t)hv_loader_le32(desc + 4) << 32;
	else
		return hv_err(-EINVAL, "the PVH entry note has a %u-byte descriptor", descsz);
	if (entry >= LOADER_4G)
		return hv_err(-ENOEXEC, "PVH entry 0x%llx is not a 32-bit address", (ull)entry);
	if (!out->has_pvh) {
		out->pvh_entry = entry;
		out->has_pvh = 1;
	}
	return 0;
}

/* Walk the notes of one PT_NOTE segment (len bytes at p). */
static int scan_notes(const uint8_t *p, uint64_t len, uint64_t align, uint32_t seg,
		      struct hv_elf_info *out)
{
	uint64_t off = 0;
	int ret;

	while (len - off >= 12) {
		uint32_t namesz = hv_loader_le32(p + off), descsz = hv_loader_le32(p + off + 4);
		uint32_t type = hv_loader_le32(p + off + 8);
		uint64_t name_off = off + 12, desc_off = name_off + align_up(namesz, align);

		/* All u32 sums in u64: no overflow; compare against the segment. */
		if (desc_off > len || descsz > len - desc_off)
			return hv_err(-EINVAL, "segment %u: a note at +0x%llx (name %u bytes, "
					       "descriptor %u bytes) runs past the segment", seg,
				      (ull)off, namesz, descsz);
		if (type == PVH_NOTE_PHYS32_ENTRY && namesz == sizeof(PVH_NOTE_NAME) &&
		    memcmp(p + name_off, PVH_NOTE_NAME, sizeof(PVH_NOTE_NAME)) == 0) {
			ret = read_pvh_entry(p + desc_off, descsz, out);
			if (ret)
				return ret;
		}
		off = desc_off + align_up(descsz, align);
		if (off > len) /* the last note's padding may be cut off */
			break;
	}
	return 0;
}

static int check_load(const Elf64_Phdr *ph, uint32_t i, size_t size)
{
	if (ph->p_filesz > ph->p_memsz)
		return hv_err(-EINVAL, "segment %u: p_filesz 0x%llx > p_memsz 0x%llx", i,
			      (ull)ph->p_filesz, (ull)ph->p_memsz);
	if (!hv_loader_fits(ph->p_offset, ph->p_filesz, size))
		return hv_err(-EINVAL, "segment %u: 0x%llx bytes at file offset 0x%llx run past "
				       "the end of the %zu-byte file", i, (ull)ph->p_filesz,
			      (ull)ph->p_offset, size);
	if (!hv_loader_fits(ph->p_paddr, ph->p_memsz, UINT64_MAX))
		return hv_err(-EINVAL, "segment %u: p_paddr 0x%llx + p_memsz 0x%llx wraps around",
			      i, (ull)ph->p_paddr, (ull)ph->p_memsz);
	return 0;
}

/* PT_LOAD segment i against the earlier ones. */
static int check_overlap(const uint8_t *p, uint32_t i, const Elf64_Phdr *ph)
{
	for (uint32_t j = 0; j < i; j++) {
		Elf64_Phdr o;

		hv_loader_elf_phdr(p, j, &o);
		if (o.p_type == PT_LOAD && o.p_memsz &&
		    ph->p_paddr < o.p_paddr + o.p_memsz && o.p_paddr < ph->p_paddr + ph->p_memsz)
			return hv_err(-EINVAL, "segments %u and %u overlap at physical 0x%llx",
				      j, i,
				      (ull)(ph->p_paddr > o.p_paddr ? ph->p_paddr : o.p_paddr));
	}
	return 0;
}

static int check_segment(const uint8_t *p, size_t size, uint32_t i, struct hv_elf_info *out)
{
	Elf64_Phdr ph;
	int ret;

	hv_loader_elf_phdr(p, i, &ph);
	if (ph.p_type == PT_NOTE) {
		if (!hv_loader_fits(ph.p_offset, ph.p_filesz, size))
			return hv_err(-EINVAL, "note segment %u at 0x%llx+0x%llx runs past the "
					       "end of the file", i, (ull)ph.p_offset,
				      (ull)ph.p_filesz);
		return scan_notes(p + ph.p_offset, ph.p_filesz, ph.p_align == 8 ? 8 : 4, i, out);
	}
	if (ph.p_type != PT_LOAD)
		return 0;
	ret = check_load(&ph, i, size);
	if (ret || ph.p_memsz == 0)
		return ret;
	ret = check_overlap(p, i, &ph);
	if (ret)
		return ret;
	if (out->nr_load == 0 || ph.p_paddr < out->paddr_start)
		out->paddr_start = ph.p_paddr;
	out->nr_load++;
	if (ph.p_paddr + ph.p_memsz > out->paddr_end)
		out->paddr_end = ph.p_paddr + ph.p_memsz;
	return 0;
}

int hv_loader_elf_validate(const uint8_t *p, size_t size, struct hv_elf_info *out)
{
	Elf64_Ehdr eh;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = check_ehdr(p, size, &eh);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < eh.e_phnum; i++) {
		ret = check_segment(p, size, i, out);
		if (ret)
			return ret;
	}
	if (!out->nr_load)
		return hv_err(-ENOEXEC, "no loadable (PT_LOAD) segment");
	if (out->has_pvh && (out->pvh_entry < out->paddr_start || out->pvh_entry >= out->paddr_end))
		return hv_err(-EINVAL, "PVH entry 0x%llx lies outside the loaded segments "
				       "0x%llx-0x%llx", (ull)out->pvh_entry, (ull)out->paddr_start,
			      (ull)(out->paddr_end - 1));
	out->entry = eh.e_entry;
	return 0;
}

HV_EXPORT int hv_loader_elf_parse(const void *image, size_t size, struct hv_elf_info *out)
{
	int ret;

	HV_CHECK_ARG(out);

	if (!image || !out)
		return hv_err(-EINVAL, "parsing ELF: NULL image or info");
	ret = hv_loader_elf_validate(image, size, out);
	return ret ? hv_err_context(ret, "parsing ELF") : 0;
}
