/* SPDX-License-Identifier: MIT */
/*
 * bzImage setup header parsing and validation (Linux x86 boot protocol,
 * Documentation/arch/x86/boot.rst).  Everything the loaders later trust is
 * checked here, against the image size first.
 */
#include <errno.h>
#include <string.h>

#include "loader/bootparam.h"
#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

typedef unsigned long long ull;

/* The 64-bit entry point (XLF_KERNEL_64) exists from protocol 2.12 on. */
#define BZ_MIN_VERSION 0x020c

static int check_magic(const uint8_t *p, size_t size)
{
	uint16_t version;

	/* Room for the whole header struct: fields past header_end go unused. */
	if (size < BP_HEADER_START + sizeof(struct bp_setup_header))
		return hv_err(-ENOEXEC, "the image is %zu bytes, too small for a bzImage", size);
	if (hv_loader_le16(p + 0x1fe) != BP_BOOT_FLAG)
		return hv_err(-ENOEXEC, "no boot flag 0xaa55 at 0x1fe (found 0x%04x): "
					"not a bzImage", hv_loader_le16(p + 0x1fe));
	if (hv_loader_le32(p + 0x202) != BP_HDRS_MAGIC)
		return hv_err(-ENOEXEC, "no \"HdrS\" magic at 0x202: not a bzImage, or one older "
					"than boot protocol 2.00");
	version = hv_loader_le16(p + 0x206);
	if (version < BZ_MIN_VERSION)
		return hv_err(-ENOEXEC, "setup header version %u.%02u is too old, need >= 2.12",
			      version >> 8, version & 0xff);
	if (p[0x200] != BP_JUMP_OPCODE)
		return hv_err(-EINVAL, "no short jump at 0x200 (found 0x%02x), so the setup header "
				       "length is unknown", p[0x200]);
	return 0;
}

/* Where the setup header, the setup code and the protected-mode kernel lie. */
static int check_extent(const uint8_t *p, size_t size, const struct bp_setup_header *h,
			struct hv_bzimage_info *out)
{
	uint64_t rest;

	out->header_end = 0x202u + p[0x201];
	if (out->header_end < BP_HEADER_MIN_END || out->header_end > BP_HEADER_MAX_END)
		return hv_err(-EINVAL, "the setup header ends at 0x%x, outside 0x%x-0x%x",
			      out->header_end, BP_HEADER_MIN_END, BP_HEADER_MAX_END);
	out->setup_sects = h->setup_sects ? h->setup_sects : BP_DEFAULT_SETUP_SECTS;
	out->kernel_offset = (out->setup_sects + 1ull) * BP_SECTOR;
	if (out->kernel_offset >= size)
		return hv_err(-EINVAL, "setup_sects %u puts the kernel at 0x%llx, past the end of "
				       "the %zu-byte image", out->setup_sects,
			      (ull)out->kernel_offset, size);
	if (out->header_end > out->kernel_offset)
		return hv_err(-EINVAL, "the setup header runs past the setup code");
	rest = size - out->kernel_offset;
	out->kernel_bytes = (uint64_t)h->syssize * 16;
	if (out->kernel_bytes == 0 || out->kernel_bytes > rest)
		return hv_err(-EINVAL, "syssize claims %llu bytes of kernel but %llu follow the "
				       "setup code", (ull)out->kernel_bytes, (ull)rest);
	return 0;
}

static int check_layout(const struct bp_setup_header *h, const struct hv_bzimage_info *out)
{
	if (!(h->loadflags & BP_LOADED_HIGH))
		return hv_err(-ENOEXEC, "a zImage (loaded low, below 1 MiB) is not supported");
	if (!(h->xloadflags & BP_XLF_KERNEL_64))
		return hv_err(-ENOEXEC, "the kernel has no 64-bit entry point (XLF_KERNEL_64 is "
					"not set): is it a 32-bit kernel?");
	if (h->relocatable_kernel && (h->kernel_alignment == 0 ||
				      (h->kernel_alignment & (h->kernel_alignment - 1))))
		return hv_err(-EINVAL, "kernel_alignment 0x%x is not a power of two",
			      h->kernel_alignment);
	if (h->init_size < out->kernel_bytes)
		return hv_err(-EINVAL, "init_size 0x%x is smaller than the 0x%llx-byte kernel",
			      h->init_size, (ull)out->kernel_bytes);
	if (!hv_loader_fits(h->pref_address, h->init_size, UINT64_MAX))
		return hv_err(-EINVAL, "pref_address 0x%llx + init_size 0x%x wraps around",
			      (ull)h->pref_address, h->init_size);
	if (h->payload_length < 4 ||
	    !hv_loader_fits(h->payload_offset, h->payload_length, out->kernel_bytes))
		return hv_err(-EINVAL, "the payload at 0x%x+0x%x is not inside the 0x%llx-byte "
				       "kernel", h->payload_offset, h->payload_length,
			      (ull)out->kernel_bytes);
	return 0;
}

/* The version string, if its pointer lies in the setup code. */
static void copy_version(const uint8_t *p, const struct bp_setup_header *h,
			 struct hv_bzimage_info *out)
{
	uint64_t at = 0x200ull + h->kernel_version;
	size_t n = 0;

	out->kernel_version[0] = '\0';
	if (!h->kernel_version)
		return;
	while (at + n < out->kernel_offset && n + 1 < sizeof(out->kernel_version) &&
	       p[at + n] >= 0x20 && p[at + n] < 0x7f) {
		out->kernel_version[n] = (char)p[at + n];
		n++;
	}
	out->kernel_version[n] = '\0';
}

int hv_loader_bzimage_validate(const uint8_t *p, size_t size, struct hv_bzimage_info *out)
{
	struct bp_setup_header h;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = check_magic(p, size);
	if (ret)
		return ret;
	memcpy(&h, p + BP_HEADER_START, sizeof(h));
	ret = check_extent(p, size, &h, out);
	if (ret)
		return ret;
	ret = check_layout(&h, out);
	if (ret)
		return ret;
	out->version = h.version;
	out->loadflags = h.loadflags;
	out->xloadflags = h.xloadflags;
	out->relocatable = h.relocatable_kernel;
	out->min_alignment = h.min_alignment;
	out->kernel_alignment = h.kernel_alignment;
	out->init_size = h.init_size;
	out->initrd_addr_max = h.initrd_addr_max ? h.initrd_addr_max : BP_INITRD_ADDR_MAX_DEFAULT;
	out->cmdline_size = h.cmdline_size;
	out->payload_offset = h.payload_offset;
	out->payload_length = h.payload_length;
	out->pref_address = h.pref_address;
	out->compression = hv_loader_detect_compression(p + out->kernel_offset + h.payload_offset,
							h.payload_length);
	copy_version(p, &h, out);
	return 0;
}

HV_EXPORT int hv_loader_bzimage_parse(const void *image, size_t size,
				      struct hv_bzimage_info *out)
{
	int ret;

	HV_CHECK_ARG(out);

	if (!image || !out)
		return hv_err(-EINVAL, "parsing bzImage: NULL image or info");
	ret = hv_loader_bzimage_validate(image, size, out);
	return ret ? hv_err_context(ret, "parsing bzImage") : 0;
}
