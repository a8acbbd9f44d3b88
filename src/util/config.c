/* SPDX-License-Identifier: MIT */
/* One copy-in for every growing config struct (see config.h). */
#include "util/config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"

static int check_size(uint32_t size, const char *what, const char *init)
{
	if (size < HV_CFG_MIN_SIZE)
		return hv_err(-EINVAL, "%s: size %u is smaller than %u (call %s)", what, size,
			      HV_CFG_MIN_SIZE, init);
	if (size > HV_CFG_MAX_SIZE)
		return hv_err(-EINVAL, "%s: size %u is larger than any hvlib struct (%u); "
				       "uninitialised? (call %s)", what, size, HV_CFG_MAX_SIZE, init);
	if (size % 4)
		return hv_err(-EINVAL, "%s: size %u is not a multiple of 4 (call %s)", what, size,
			      init);
	return 0;
}

/* A newer caller's fields this library does not know must all be 0. */
static int check_tail(const uint8_t *user, size_t full, uint32_t size, const char *what)
{
	for (size_t off = full; off < size; off++)
		if (user[off])
			return hv_err(-EINVAL, "%s: size %u is larger than this hvlib's %zu and byte "
					       "%zu is not 0 (a field this version does not know)",
				      what, size, full, off);
	return 0;
}

int hv_cfg_copy(void *local, size_t full, const void *user, const char *what,
		const char *init)
{
	uint32_t size;
	int ret;

	if (!user)
		return hv_err(-EINVAL, "%s is NULL (call %s)", what, init);
	memcpy(&size, user, sizeof(size));
	ret = check_size(size, what, init);
	if (!ret)
		ret = check_tail(user, full, size, what);
	if (ret)
		return ret;
	memcpy((uint8_t *)local + sizeof(size), (const uint8_t *)user + sizeof(size),
	       (size < full ? size : full) - sizeof(size));
	size = (uint32_t)full;
	memcpy(local, &size, sizeof(size));
	return 0;
}

int hv_cfg_stride(const void *array, uint32_t n, const char *what, const char *init)
{
	const uint8_t *base = array;
	uint32_t stride, size;
	int ret;

	if (!n)
		return 0;
	if (!array)
		return hv_err(-EINVAL, "%s: %u entries but the array is NULL", what, n);
	memcpy(&stride, base, sizeof(stride));
	ret = check_size(stride, what, init);
	if (ret)
		return ret;
	for (uint32_t i = 1; i < n; i++) {
		memcpy(&size, base + (size_t)i * stride, sizeof(size));
		if (size != stride)
			return hv_err(-EINVAL, "%s[%u]: size %u differs from %s[0]'s %u (every "
					       "element's size is the array's stride)",
				      what, i, size, what, stride);
	}
	return (int)stride;
}

int hv_out_size(uint32_t caller_size, size_t full, size_t min, const char *what,
		uint32_t *fill)
{
	if (caller_size < min)
		return hv_err(-EINVAL, "%s: size %u is smaller than %zu (set it to the sizeof "
				       "the struct)", what, caller_size, min);
	*fill = caller_size < full ? caller_size : (uint32_t)full;
	return 0;
}

int hv_null_arg(const char *fn, const char *arg)
{
	return hv_err(-EINVAL, "%s: %s is NULL", fn, arg);
}
