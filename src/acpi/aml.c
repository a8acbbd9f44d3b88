/* SPDX-License-Identifier: MIT */
/*
 * AML writer: the growable buffer with its latched error, PkgLength, and the
 * objects with a body.  Data objects and names are in aml_data.c, resource
 * descriptors in aml_resource.c.  Section numbers refer to the ACPI 6.x
 * specification.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "util/error.h"

/* Opcodes (20.3). */
#define AML_SCOPE       0x10
#define AML_BUFFER      0x11
#define AML_PACKAGE     0x12
#define AML_METHOD      0x14
#define AML_EXT_PREFIX  0x5b
#define AML_DEVICE      0x82 /* after AML_EXT_PREFIX */
#define AML_RETURN      0xa4

/* End tag of a resource template (6.4.2.9): small item 0xf, length 1. */
#define RES_END_TAG     0x79

enum open_kind {
	OPEN_PLAIN,   /* PkgLength only: Scope, Device, Method, Package */
	OPEN_BUFFER,  /* PkgLength, then BufferSize */
	OPEN_RES,     /* a Buffer whose end tag is added on close */
};

/* Largest value of an n-byte PkgLength (20.2.4), index n. */
static const uint32_t pkglen_max[5] = { 0, 0x3f, 0xfff, 0xfffff, 0x0fffffff };

void hv_aml_init(struct hv_aml *a)
{
	memset(a, 0, sizeof(*a));
	a->limit = HV_AML_DEFAULT_LIMIT;
}

void hv_aml_release(struct hv_aml *a)
{
	free(a->buf);
	a->buf = NULL;
	a->len = a->cap = 0;
	a->depth = 0;
}

int hv_aml_error(const struct hv_aml *a)
{
	return a->err;
}

void hv_aml_fail(struct hv_aml *a, int err, const char *what)
{
	/* The first failure is the one worth reporting: later ones follow from it. */
	if (!a->err)
		a->err = hv_err(err, "AML: %s", what);
}

int hv_aml_take(struct hv_aml *a, uint8_t **out, size_t *len)
{
	int ret;

	if (!a->err && a->depth)
		hv_aml_fail(a, -EINVAL, "an object is still open at the end (missing hv_aml_end)");
	ret = a->err;
	if (ret) {
		*out = NULL;
		*len = 0;
		hv_aml_release(a);
	} else {
		*out = a->buf;
		*len = a->len;
		a->buf = NULL;
		a->len = a->cap = 0;
	}
	a->err = 0;
	return ret;
}

/* Room for n more bytes, or false with the error latched. */
static bool reserve(struct hv_aml *a, size_t n)
{
	uint8_t *grown;
	size_t cap;

	if (a->err)
		return false;
	if (n > a->limit || a->len > a->limit - n) {
		hv_aml_fail(a, -E2BIG, "the AML grows past its size limit");
		return false;
	}
	if (a->len + n <= a->cap)
		return true;
	cap = a->cap ? a->cap : 256;
	while (cap < a->len + n)
		cap *= 2;
	grown = realloc(a->buf, cap);
	if (!grown) {
		hv_aml_fail(a, -ENOMEM, "out of memory growing the AML buffer");
		return false;
	}
	a->buf = grown;
	a->cap = cap;
	return true;
}

void hv_aml_raw(struct hv_aml *a, const void *p, size_t n)
{
	if (!n || !reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void hv_aml_byte(struct hv_aml *a, uint8_t b)
{
	hv_aml_raw(a, &b, 1);
}

void hv_aml_le(struct hv_aml *a, uint64_t v, unsigned int bytes)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < bytes && i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	hv_aml_raw(a, b, bytes < 8 ? bytes : 8);
}

/* Insert n bytes at pos, moving what follows. */
static void insert(struct hv_aml *a, size_t pos, const uint8_t *p, size_t n)
{
	if (!reserve(a, n))
		return;
	memmove(a->buf + pos + n, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, p, n);
	a->len += n;
}

static void pkglen_encode_n(uint32_t value, unsigned int n, uint8_t out[4])
{
	if (n == 1) {
		out[0] = (uint8_t)value;
		return;
	}
	/* Lead byte: bits 7-6 count the bytes that follow, bits 3-0 hold the
	 * low nibble; each following byte holds the next 8 bits. */
	out[0] = (uint8_t)(((n - 1) << 6) | (value & 0x0f));
	for (unsigned int i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
}

unsigned int hv_aml_pkglen_encode(uint32_t value, uint8_t out[4])
{
	for (unsigned int n = 1; n <= 4; n++) {
		if (value <= pkglen_max[n]) {
			pkglen_encode_n(value, n, out);
			return n;
		}
	}
	return 0;
}

void hv_aml_return(struct hv_aml *a)
{
	hv_aml_byte(a, AML_RETURN);
}

/* Record an open object whose PkgLength goes at the current end. */
static void open_obj(struct hv_aml *a, enum open_kind kind)
{
	if (a->err)
		return;
	if (a->depth == HV_AML_MAX_DEPTH) {
		hv_aml_fail(a, -EINVAL, "objects nested too deeply");
		return;
	}
	a->open[a->depth].pos = a->len;
	a->open[a->depth].kind = (uint8_t)kind;
	a->depth++;
}

void hv_aml_scope_begin(struct hv_aml *a, const char *path)
{
	hv_aml_byte(a, AML_SCOPE);
	open_obj(a, OPEN_PLAIN);
	hv_aml_namestring(a, path);
}

void hv_aml_device_begin(struct hv_aml *a, const char *path)
{
	hv_aml_byte(a, AML_EXT_PREFIX);
	hv_aml_byte(a, AML_DEVICE);
	open_obj(a, OPEN_PLAIN);
	hv_aml_namestring(a, path);
}

void hv_aml_method_begin(struct hv_aml *a, const char *path, unsigned int nargs,
			 bool serialized)
{
	if (nargs > 7) {
		hv_aml_fail(a, -EINVAL, "a method takes at most 7 arguments");
		return;
	}
	hv_aml_byte(a, AML_METHOD);
	open_obj(a, OPEN_PLAIN);
	hv_aml_namestring(a, path);
	/* MethodFlags: bits 0-2 ArgCount, bit 3 SerializeFlag, 4-7 SyncLevel 0. */
	hv_aml_byte(a, (uint8_t)(nargs | (serialized ? 0x08u : 0u)));
}

void hv_aml_package_begin(struct hv_aml *a, unsigned int nelems)
{
	if (nelems > 255) {
		hv_aml_fail(a, -EINVAL, "a Package holds at most 255 elements");
		return;
	}
	hv_aml_byte(a, AML_PACKAGE);
	open_obj(a, OPEN_PLAIN);
	hv_aml_byte(a, (uint8_t)nelems);
}

void hv_aml_buffer_begin(struct hv_aml *a)
{
	hv_aml_byte(a, AML_BUFFER);
	open_obj(a, OPEN_BUFFER);
}

void hv_aml_restemplate_begin(struct hv_aml *a)
{
	hv_aml_byte(a, AML_BUFFER);
	open_obj(a, OPEN_RES);
}

bool hv_aml_not_in_restemplate(struct hv_aml *a, const char *descriptor)
{
	if (a->err)
		return true;
	if (!a->depth || a->open[a->depth - 1].kind != OPEN_RES) {
		hv_aml_fail(a, -EINVAL, descriptor);
		return true;
	}
	return false;
}

/* Resource template end tag: the checksum makes the descriptors, end tag
 * included, sum to zero (6.4.2.9). */
static void end_tag(struct hv_aml *a, size_t start)
{
	uint8_t sum = RES_END_TAG;

	hv_aml_byte(a, RES_END_TAG);
	if (a->err)
		return;
	for (size_t i = start; i < a->len - 1; i++)
		sum = (uint8_t)(sum + a->buf[i]);
	hv_aml_byte(a, (uint8_t)(0x100 - sum));
}

void hv_aml_end(struct hv_aml *a)
{
	struct hv_aml_open o;
	uint8_t hdr[4 + 9];
	unsigned int nint = 0, npkg;
	size_t body;

	if (a->err)
		return;
	if (!a->depth) {
		hv_aml_fail(a, -EINVAL, "hv_aml_end without an open object");
		return;
	}
	o = a->open[a->depth - 1];
	if (o.kind == OPEN_RES)
		end_tag(a, o.pos);
	if (a->err)
		return;
	a->depth--;
	body = a->len - o.pos;
	/* A Buffer's size counts the bytes after BufferSize itself. */
	if (o.kind != OPEN_PLAIN)
		nint = hv_aml_int_encode(body, hdr + 4);
	body += nint;
	for (npkg = 1; npkg <= 4; npkg++)
		if (body <= pkglen_max[npkg] - npkg)
			break;
	if (npkg > 4) {
		hv_aml_fail(a, -E2BIG, "object longer than a PkgLength can say");
		return;
	}
	/* The PkgLength counts its own bytes too. */
	pkglen_encode_n((uint32_t)(body + npkg), npkg, hdr + 4 - npkg);
	insert(a, o.pos, hdr + 4 - npkg, npkg + nint);
}
