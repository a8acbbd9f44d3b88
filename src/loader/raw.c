/* SPDX-License-Identifier: MIT */
/* Raw flat binaries (firmware, test guests) at a caller-chosen address. */
#include <errno.h>

#include "loader/loader_internal.h"
#include "util/config.h"
#include "util/error.h"

typedef unsigned long long ull;

HV_EXPORT int hv_loader_load_raw(struct hv_mem *mem, const void *image, size_t size,
				 uint64_t gpa)
{
	int ret;

	HV_CHECK_ARG(mem);

	if (!mem || !image || !size)
		return hv_err(-EINVAL, "loading raw image: NULL memory or image, or size 0");
	if (!hv_loader_fits(gpa, size, UINT64_MAX))
		return hv_err(-ENOMEM, "loading raw image: 0x%llx+0x%zx wraps around", (ull)gpa,
			      size);
	/* hv_mem_write checks the whole range before copying a byte. */
	ret = hv_mem_write(mem, gpa, image, size);
	if (ret == -EFAULT)
		return hv_err(-ENOMEM, "loading raw image: 0x%llx-0x%llx (%zu bytes) is not "
				       "entirely guest memory", (ull)gpa, (ull)(gpa + size - 1),
			      size);
	return ret;
}
