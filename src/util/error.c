/* SPDX-License-Identifier: MIT */
#include "util/error.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hvlib/common.h"

#define HV_ERR_MAX 512

static _Thread_local char last_error[HV_ERR_MAX];
static _Thread_local unsigned err_seq;

unsigned hv_err_seq(void)
{
	return err_seq;
}

__attribute__((format(printf, 1, 0)))
static void set_message(const char *fmt, va_list ap, int append_errno, int err)
{
	int n = vsnprintf(last_error, sizeof(last_error), fmt, ap);

	err_seq++;

	if (append_errno && n >= 0 && (size_t)n < sizeof(last_error))
		snprintf(last_error + n, sizeof(last_error) - (size_t)n, ": %s", strerror(-err));
}

int hv_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap, 0, err);
	va_end(ap);
	return err;
}

int hv_err_sys(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap, 1, err);
	va_end(ap);
	return err;
}

/* Append src to the message being built in dst, truncating at HV_ERR_MAX. */
static void append(char *dst, size_t *len, const char *src)
{
	while (*src && *len + 1 < HV_ERR_MAX)
		dst[(*len)++] = *src++;
	dst[*len] = '\0';
}

int hv_err_context(int err, const char *fmt, ...)
{
	char prefix[HV_ERR_MAX];
	char old[HV_ERR_MAX];
	size_t len = 0;
	va_list ap;

	memcpy(old, last_error, sizeof(old));
	err_seq++;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	append(last_error, &len, prefix);
	append(last_error, &len, ": ");
	append(last_error, &len, old[0] ? old : strerror(-err));
	return err;
}

void hv_err_clear(void)
{
	last_error[0] = '\0';
}

HV_EXPORT const char *hv_last_error(void)
{
	return last_error;
}

HV_EXPORT const char *hv_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -ENOTSUP:
		return "not supported by this KVM or host";
	case -EFAULT:
		return "guest address not backed by guest memory";
	case -EEXIST:
		return "overlaps something already registered";
	case -E2BIG:
		return "buffer too small";
	default:
		if (err > 0)
			return "not an error code";
		return err == INT_MIN ? "unknown error" : strerror(-err); /* -INT_MIN overflows */
	}
}

HV_EXPORT uint32_t hv_version(void)
{
	return (HV_VERSION_MAJOR << 16) | (HV_VERSION_MINOR << 8) | HV_VERSION_PATCH;
}
