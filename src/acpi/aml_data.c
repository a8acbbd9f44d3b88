/* SPDX-License-Identifier: MIT */
/*
 * AML data: integers, strings, EISA ids, NameStrings and Name () (ACPI 6.x,
 * 20.2.2 and 20.2.3).  The buffer and the objects with a body are in aml.c.
 */
#include <errno.h>
#include <string.h>

#include "acpi/aml.h"

/* Opcodes and prefixes (20.3). */
#define AML_ZERO        0x00
#define AML_ONE         0x01
#define AML_NAME        0x08
#define AML_BYTE        0x0a
#define AML_WORD        0x0b
#define AML_DWORD       0x0c
#define AML_STRING      0x0d
#define AML_QWORD       0x0e
#define AML_DUAL_NAME   0x2e
#define AML_MULTI_NAME  0x2f
#define AML_ONES        0xff
#define AML_NULL_NAME   0x00

unsigned int hv_aml_int_encode(uint64_t v, uint8_t out[9])
{
	unsigned int bytes;

	if (v == 0 || v == 1 || v == UINT64_MAX) {
		out[0] = v == 0 ? AML_ZERO : v == 1 ? AML_ONE : AML_ONES;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE;
		bytes = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = AML_WORD;
		bytes = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = AML_DWORD;
		bytes = 4;
	} else {
		out[0] = AML_QWORD;
		bytes = 8;
	}
	for (unsigned int i = 0; i < bytes; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + bytes;
}

void hv_aml_int(struct hv_aml *a, uint64_t v)
{
	uint8_t b[9];

	hv_aml_raw(a, b, hv_aml_int_encode(v, b));
}

void hv_aml_string(struct hv_aml *a, const char *s)
{
	if (!s) {
		hv_aml_fail(a, -EINVAL, "NULL string");
		return;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			hv_aml_fail(a, -EINVAL, "string with a non-ASCII character");
			return;
		}
	}
	hv_aml_byte(a, AML_STRING);
	hv_aml_raw(a, s, strlen(s) + 1); /* with the NullChar */
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hv_aml_eisaid_value(const char *id, uint32_t *out)
{
	uint32_t v;

	if (!id || strlen(id) != 7)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
	for (int i = 3; i < 7; i++)
		if (hex_digit(id[i]) < 0)
			return -EINVAL;
	/* Three 5-bit letters ('A' = 1) then four nibbles, most significant
	 * first, stored as a little-endian 32-bit integer (19.6.35). */
	v = (uint32_t)(((id[0] - 0x40) << 2) | ((id[1] - 0x40) >> 3));
	v |= (uint32_t)((((id[1] - 0x40) & 7) << 5) | (id[2] - 0x40)) << 8;
	v |= (uint32_t)((hex_digit(id[3]) << 4) | hex_digit(id[4])) << 16;
	v |= (uint32_t)((hex_digit(id[5]) << 4) | hex_digit(id[6])) << 24;
	*out = v;
	return 0;
}

void hv_aml_eisaid(struct hv_aml *a, const char *id)
{
	uint32_t v;

	if (hv_aml_eisaid_value(id, &v)) {
		hv_aml_fail(a, -EINVAL, "EISA id must be 3 capitals and 4 hex digits");
		return;
	}
	/* Always a DWord, as ASL compilers emit EisaId () and disassemblers
	 * recognise it. */
	hv_aml_byte(a, AML_DWORD);
	hv_aml_le(a, v, 4);
}

static bool lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return lead_char(c) || (c >= '0' && c <= '9');
}

/* Length of the NameSeg at s (up to '.' or the end), or 0 if invalid. */
static size_t seg_len(const char *s)
{
	size_t n = 0;

	if (!lead_char(s[0]))
		return 0;
	while (s[n] && s[n] != '.') {
		if (n == 4 || !name_char(s[n]))
			return 0;
		n++;
	}
	return n;
}

bool hv_aml_nameseg_valid(const char *s)
{
	size_t n = s ? seg_len(s) : 0;

	return n && !s[n];
}

static void emit_seg(struct hv_aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };

	memcpy(seg, s, n);
	hv_aml_raw(a, seg, 4);
}

void hv_aml_namestring(struct hv_aml *a, const char *path)
{
	const char *p = path;
	size_t nsegs = 0;

	if (!path) {
		hv_aml_fail(a, -EINVAL, "NULL name");
		return;
	}
	if (*p == '\\')
		p++;
	else
		while (*p == '^')
			p++;
	/* Validate and count the segments before emitting anything. */
	for (const char *s = p; *s; nsegs++) {
		size_t n = seg_len(s);

		if (!n || (s[n] == '.' && !s[n + 1])) {
			hv_aml_fail(a, -EINVAL, "invalid name (each segment: 1-4 of A-Z, 0-9, _, "
						"not starting with a digit)");
			return;
		}
		s += n + (s[n] == '.');
	}
	if (nsegs > 255) {
		hv_aml_fail(a, -EINVAL, "name with more than 255 segments");
		return;
	}
	hv_aml_raw(a, path, (size_t)(p - path)); /* the prefix characters as they are */
	if (nsegs == 0) {
		hv_aml_byte(a, AML_NULL_NAME);
		return;
	}
	if (nsegs == 2) {
		hv_aml_byte(a, AML_DUAL_NAME);
	} else if (nsegs > 2) {
		hv_aml_byte(a, AML_MULTI_NAME);
		hv_aml_byte(a, (uint8_t)nsegs);
	}
	while (*p) {
		size_t n = seg_len(p);

		emit_seg(a, p, n);
		p += n + (p[n] == '.');
	}
}

void hv_aml_name(struct hv_aml *a, const char *name)
{
	hv_aml_byte(a, AML_NAME);
	hv_aml_namestring(a, name);
}

void hv_aml_name_int(struct hv_aml *a, const char *name, uint64_t v)
{
	hv_aml_name(a, name);
	hv_aml_int(a, v);
}

void hv_aml_name_string(struct hv_aml *a, const char *name, const char *s)
{
	hv_aml_name(a, name);
	hv_aml_string(a, s);
}

void hv_aml_name_eisaid(struct hv_aml *a, const char *name, const char *id)
{
	hv_aml_name(a, name);
	hv_aml_eisaid(a, id);
}
