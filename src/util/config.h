/* SPDX-License-Identifier: MIT */
/*
 * Growing config structs: every public config begins with uint32_t size, set
 * by the caller's *_init() to the sizeof its header had.  hv_cfg_load() turns
 * whatever the caller has into a full-size local copy, so create paths only
 * ever read the local copy:
 *  - NULL: "NULL" (callers for which NULL means "defaults" test it first);
 *  - below HV_CFG_MIN_SIZE (size + flags), not a multiple of 4, or above
 *    HV_CFG_MAX_SIZE: -EINVAL naming the size;
 *  - shorter than today's struct (an older caller): its bytes are copied and
 *    the fields it does not know keep the *_init() defaults;
 *  - longer (a caller built against a newer header): accepted only when
 *    every byte past today's struct is 0, else -EINVAL naming the offset.
 * Appending a field therefore needs nothing beyond the struct and its init().
 */
#ifndef HV_UTIL_CONFIG_H
#define HV_UTIL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define HV_CFG_MIN_SIZE 8u    /* size and flags (or the struct's second word) */
#define HV_CFG_MAX_SIZE 4096u /* no config comes near; catches garbage sizes */

/* See above.  local holds full bytes already filled with the defaults; its
 * size field is set to full.  what names the struct in messages ("VM
 * config"), init the function that fills it ("hv_vm_config_init()"). */
int hv_cfg_copy(void *local, size_t full, const void *user, const char *what,
		const char *init);

/* The usual call: defaults from init_fn, then the caller's bytes.
 *	struct hv_vm_config c;
 *	ret = HV_CFG_LOAD(&c, cfg, hv_vm_config_init, "VM config"); */
#define HV_CFG_LOAD(local, user, init_fn, what)                                            \
	(init_fn(local), hv_cfg_copy((local), sizeof(*(local)), (user), (what), #init_fn "()"))

/* The size of one element of a caller's array of sized structs: elements
 * are indexed by the caller's size (the array's stride), which must be the
 * same in every element.  Returns the stride, or -EINVAL with a message
 * naming what[i] (init: the element's *_init(), for the message). */
int hv_cfg_stride(const void *array, uint32_t n, const char *what, const char *init);

/* Element i of an array whose stride hv_cfg_stride() returned. */
static inline const void *hv_cfg_elem(const void *array, uint32_t stride, uint32_t i)
{
	return (const uint8_t *)array + (size_t)i * stride;
}

/* Result structs the caller sizes (its size field set before the call): the
 * bytes to fill, min(caller's size, full), into *fill; -EINVAL naming what
 * when the caller's size is below min (the fields every version has). */
int hv_out_size(uint32_t caller_size, size_t full, size_t min, const char *what,
		uint32_t *fill);

/* For HV_CHECK_ARG: -EINVAL "fn: arg is NULL" when p is NULL. */
int hv_null_arg(const char *fn, const char *arg);

/* In every public non-destroy function: its handles and out-pointers.
 *	HV_CHECK_ARG(vm); HV_CHECK_ARG(out); */
#define HV_CHECK_ARG(p)                                                                     \
	do {                                                                               \
		if (!(p))                                                                  \
			return hv_null_arg(__func__, #p);                                 \
	} while (0)

/* As HV_CHECK_ARG, for functions returning a pointer (NULL) or a count (0):
 * the message is still recorded. */
#define HV_CHECK_ARG_RET(p, ret)                                                            \
	do {                                                                               \
		if (!(p)) {                                                                \
			(void)hv_null_arg(__func__, #p);                                   \
			return ret;                                                        \
		}                                                                          \
	} while (0)

#endif /* HV_UTIL_CONFIG_H */
