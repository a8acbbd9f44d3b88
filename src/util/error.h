/* SPDX-License-Identifier: MIT */
/* Internal error reporting: a thread-local message beside the -errno. */
#ifndef HV_UTIL_ERROR_H
#define HV_UTIL_ERROR_H

#include <errno.h>

/* Record "message" as this thread's last error and return err (a negative
 * errno), so call sites read: return hv_err(-EINVAL, "bad %s", what); */
int hv_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As hv_err(), appending ": <strerror(-err)>". */
int hv_err_sys(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix this thread's last error with context ("loading bzImage: ...")
 * and return err unchanged. */
int hv_err_context(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts this thread's recorded errors: a caller that compares it before and
 * after a callback knows whether the callback left a message of its own. */
unsigned hv_err_seq(void);

/* Forget the last error (successful public calls need not call this). */
void hv_err_clear(void);

#define HV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* HV_UTIL_ERROR_H */
