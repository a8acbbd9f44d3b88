/* SPDX-License-Identifier: MIT */
#include "kvm/pvh_guest.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* LSR read, THR write per byte (ecx of them from DATA), then i8042 reset. */
__asm__(".pushsection .rodata\n"
	"pvh_uart_start:\n"
	".code32\n"
	"mov (0x100ff0), %ecx\n"
	"mov $0x101000, %esi\n"
	"1: test %ecx, %ecx\n jz 2f\n"
	"mov $0x3fd, %dx\n in %dx, %al\n"
	"mov $0x3f8, %dx\n lodsb\n out %al, %dx\n"
	"dec %ecx\n jmp 1b\n"
	"2: mov $0xfe, %al\n out %al, $0x64\n"
	"3: hlt\n jmp 3b\n"
	"pvh_uart_end:\n"
	".code64\n"
	".p2align 3\n"
	"pvh_uart_size: .quad pvh_uart_end - pvh_uart_start\n"
	".popsection\n");
extern const uint8_t pvh_uart_start[];
extern const uint64_t pvh_uart_size;

#define IMG_NOTE 0x100u
#define IMG_TEXT 0x1000u
#define IMG_TEXT_BYTES 0x2000u /* code, PARAM and DATA */

static void put_note(uint8_t *p)
{
	uint32_t hdr[3] = { 4, 8, 18 /* XEN_ELFNOTE_PHYS32_ENTRY */ };
	uint64_t entry = PVH_GUEST_ENTRY;

	memcpy(p, hdr, sizeof(hdr));
	memcpy(p + 12, "Xen", 4);
	memcpy(p + 16, &entry, sizeof(entry));
}

int pvh_guest_write_uart(const char *path, const void *data, size_t len)
{
	size_t size = IMG_TEXT + IMG_TEXT_BYTES;
	uint8_t *img = calloc(1, size);
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = PVH_GUEST_ENTRY, .e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
	};
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X, .p_offset = IMG_TEXT,
		  .p_vaddr = PVH_GUEST_ENTRY, .p_paddr = PVH_GUEST_ENTRY,
		  .p_filesz = IMG_TEXT_BYTES, .p_memsz = IMG_TEXT_BYTES, .p_align = 0x1000 },
		{ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = IMG_NOTE, .p_filesz = 24,
		  .p_memsz = 24, .p_align = 4 },
	};
	uint32_t count = (uint32_t)len;
	ssize_t n;
	int fd, ret = 0;

	if (!img)
		return -ENOMEM;
	if (len > PVH_GUEST_DATA_MAX) {
		free(img);
		return -EINVAL;
	}
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	put_note(img + IMG_NOTE);
	memcpy(img + IMG_TEXT, pvh_uart_start, (size_t)pvh_uart_size);
	memcpy(img + IMG_TEXT + (PVH_GUEST_PARAM - PVH_GUEST_ENTRY), &count, sizeof(count));
	memcpy(img + IMG_TEXT + (PVH_GUEST_DATA - PVH_GUEST_ENTRY), data, len);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
	} else {
		n = write(fd, img, size);
		if (n != (ssize_t)size)
			ret = n < 0 ? -errno : -EIO;
		close(fd);
	}
	free(img);
	return ret;
}
