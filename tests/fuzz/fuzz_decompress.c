/* SPDX-License-Identifier: MIT */
/*
 * Host-side decompression of kernel payloads: [mode] then the bytes.
 *   mode % 3 == 0: hv_loader_decompress() with the compression its magic
 *                  says (hv_loader_detect_compression());
 *   1: with compression (mode >> 2) % 9, whatever the bytes are;
 *   2: hv_loader_bzimage_extract_vmlinux() on a whole bzImage.
 * Inputs are heap copies of their exact size.  libFuzzer's malloc and RSS
 * limits stand for the decompression-bomb check: the output may reach
 * HV_LOADER_VMLINUX_MAX, which -rss_limit_mb allows.
 */
#include "fuzz_util.h"
#include "loader/loader_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy, *out = NULL;
	void *vmlinux = NULL;
	size_t out_size = 0;
	uint32_t mode;

	if (!size)
		return 0;
	mode = data[0];
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	switch (mode % 3) {
	case 0:
		hv_loader_decompress(hv_loader_detect_compression(copy, size - 1), copy, size - 1,
				     &out, &out_size);
		break;
	case 1:
		hv_loader_decompress((mode >> 2) % 9, copy, size - 1, &out, &out_size);
		break;
	default:
		hv_loader_bzimage_extract_vmlinux(copy, size - 1, &vmlinux, &out_size);
		break;
	}
	free(out);
	hv_loader_free(vmlinux);
	free(copy);
	return 0;
}
