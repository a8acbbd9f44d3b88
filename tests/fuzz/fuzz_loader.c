/* SPDX-License-Identifier: MIT */
/*
 * The kernel image parsers on the fuzzer's bytes: bzImage setup header
 * (hv_loader_bzimage_parse) and ELF64 headers, program headers and notes
 * (hv_loader_elf_parse).  Both are pure; the input is a heap copy of exactly
 * its size, so any read past it is caught.
 */
#include "fuzz_util.h"
#include "hvlib/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_bzimage_info bz;
	struct hv_elf_info elf;
	uint8_t *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	hv_loader_bzimage_parse(copy, size, &bz);
	hv_loader_elf_parse(copy, size, &elf);
	free(copy);
	return 0;
}
