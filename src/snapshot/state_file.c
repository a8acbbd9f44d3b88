/* SPDX-License-Identifier: MIT */
/*
 * The snapshot state file's writer and checking reader.  Layout (all
 * little-endian; docs/snapshot-format.md):
 *   header  magic[8] "HVSTATE\0", u32 format version, u32 arch, u64 body length
 *   body    sections: u8 name length, name, u32 version, u32 payload length, payload
 *   payload fields:   u8 name length, name, u8 type, u32 length, data
 *   trailer u32 CRC-32C of header and body
 */
#include "snapshot/state_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define HEADER_LEN 24u
#define TRAILER_LEN 4u
#define MAX_FIELDS 4096u /* per section: keeps the duplicate check cheap */

uint32_t hv_state_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Names are what error messages print: short, and plain characters only. */
static bool name_ok(const char *p, size_t n)
{
	if (n == 0 || n > HV_STATE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* ---- writing ---- */

void hv_state_writer_init(struct hv_state_writer *w)
{
	memset(w, 0, sizeof(*w));
}

static uint8_t *reserve(struct hv_state_writer *w, size_t n)
{
	if (w->err)
		return NULL;
	if (n > HV_STATE_MAX_FILE || w->len > HV_STATE_MAX_FILE - n) {
		w->err = -E2BIG;
		return NULL;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *nb;

		while (cap < w->len + n)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->buf = nb;
		w->cap = cap;
	}
	w->len += n;
	return w->buf + w->len - n;
}

static void put_name(struct hv_state_writer *w, const char *name)
{
	size_t n = name ? strlen(name) : 0;
	uint8_t *p;

	if (!w->err && !name_ok(name, n))
		w->err = -EINVAL;
	p = reserve(w, 1 + n);
	if (!p)
		return;
	p[0] = (uint8_t)n;
	memcpy(p + 1, name, n);
}

void hv_state_begin_section(struct hv_state_writer *w, const char *name, uint32_t version)
{
	uint8_t *p;

	if (!w->len && !reserve(w, HEADER_LEN))
		return;
	if (!w->err && w->section_start)
		w->err = -EINVAL; /* nested sections */
	put_name(w, name);
	p = reserve(w, 8);
	if (!p)
		return;
	put_le(p, version, 4);
	w->section_start = w->len - 4;
}

static void put_field(struct hv_state_writer *w, const char *name, uint8_t type,
		      const void *data, size_t len)
{
	uint8_t *p;

	if (!w->err && (!w->section_start || len > UINT32_MAX))
		w->err = -EINVAL;
	put_name(w, name);
	p = reserve(w, 5 + len);
	if (!p)
		return;
	p[0] = type;
	put_le(p + 1, len, 4);
	if (len)
		memcpy(p + 5, data, len);
}

void hv_state_put_u64(struct hv_state_writer *w, const char *name, uint64_t value)
{
	uint8_t le[8];

	put_le(le, value, 8);
	put_field(w, name, HV_STATE_U64, le, 8);
}

void hv_state_put_bytes(struct hv_state_writer *w, const char *name, const void *data,
			size_t len)
{
	put_field(w, name, HV_STATE_BYTES, data, len);
}

void hv_state_end_section(struct hv_state_writer *w)
{
	if (w->err)
		return;
	if (!w->section_start) {
		w->err = -EINVAL;
		return;
	}
	put_le(w->buf + w->section_start, w->len - w->section_start - 4, 4);
	w->section_start = 0;
}

int hv_state_finish(struct hv_state_writer *w, enum hv_state_arch arch, uint8_t **out,
		    size_t *out_len)
{
	uint8_t *p;
	int err;

	*out = NULL;
	*out_len = 0;
	if (!w->len)
		reserve(w, HEADER_LEN);
	if (!w->err && w->section_start)
		w->err = -EINVAL;
	p = reserve(w, TRAILER_LEN);
	err = w->err;
	if (!p) {
		hv_state_writer_fini(w);
		return hv_err(err, "writing state file: %s",
			      err == -EINVAL ? "bad name or unbalanced section" :
			      err == -E2BIG ? "state over the size limit" : "out of memory");
	}
	memcpy(w->buf, HV_STATE_MAGIC, 8);
	put_le(w->buf + 8, HV_STATE_FORMAT_VERSION, 4);
	put_le(w->buf + 12, (uint32_t)arch, 4);
	put_le(w->buf + 16, w->len - HEADER_LEN - TRAILER_LEN, 8);
	put_le(p, hv_state_crc32c(0, w->buf, w->len - TRAILER_LEN), 4);
	*out = w->buf;
	*out_len = w->len;
	w->buf = NULL;
	hv_state_writer_fini(w);
	return 0;
}

void hv_state_writer_fini(struct hv_state_writer *w)
{
	free(w->buf);
	hv_state_writer_init(w);
}

/* ---- reading ---- */

/* One record (section or field): a name then a fixed part then data whose
 * length the fixed part's last u32 gives. */
struct record {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *fixed;
	const uint8_t *data;
	size_t data_len;
};

static int next_record(const uint8_t *p, size_t avail, size_t fixed_len, size_t *used,
		       struct record *r)
{
	size_t n;

	if (avail < 1)
		return -1;
	n = p[0];
	if (avail - 1 < n + fixed_len || !name_ok((const char *)p + 1, n))
		return -1;
	r->name = p + 1;
	r->name_len = n;
	r->fixed = p + 1 + n;
	r->data_len = get_le(r->fixed + fixed_len - 4, 4);
	if (avail - 1 - n - fixed_len < r->data_len)
		return -1;
	r->data = r->fixed + fixed_len;
	*used = 1 + n + fixed_len + r->data_len;
	return 0;
}

static bool same_name(const struct record *a, const struct record *b)
{
	return a->name_len == b->name_len && !memcmp(a->name, b->name, a->name_len);
}

static const char *arch_name(uint32_t arch)
{
	return arch == HV_STATE_ARCH_X86_64 ? "x86_64" : arch == HV_STATE_ARCH_ARM64 ? "arm64" :
									 "an unknown architecture";
}

/* Duplicate names would make lookups ambiguous: each record is compared
 * with the ones before it (bounded by MAX_FIELDS / HV_STATE_MAX_SECTIONS). */
static bool seen_before(const uint8_t *base, size_t upto, size_t fixed_len,
			const struct record *r)
{
	size_t off = 0, used;
	struct record e;

	while (off < upto) {
		next_record(base + off, upto - off, fixed_len, &used, &e);
		if (same_name(&e, r))
			return true;
		off += used;
	}
	return false;
}

static int check_fields(const struct record *sec)
{
	size_t off = 0, used, nr = 0;
	struct record r;

	while (off < sec->data_len) {
		if (nr == MAX_FIELDS ||
		    next_record(sec->data + off, sec->data_len - off, 5, &used, &r))
			return hv_err(-EINVAL, "state file: section '%.*s': malformed field %zu",
				      (int)sec->name_len, (const char *)sec->name, nr);
		if ((r.fixed[0] != HV_STATE_U64 && r.fixed[0] != HV_STATE_BYTES) ||
		    (r.fixed[0] == HV_STATE_U64 && r.data_len != 8))
			return hv_err(-EINVAL, "state file: section '%.*s': field '%.*s' has a bad type",
				      (int)sec->name_len, (const char *)sec->name,
				      (int)r.name_len, (const char *)r.name);
		if (seen_before(sec->data, off, 5, &r))
			return hv_err(-EINVAL, "state file: section '%.*s': field '%.*s' appears twice",
				      (int)sec->name_len, (const char *)sec->name,
				      (int)r.name_len, (const char *)r.name);
		nr++;
		off += used;
	}
	return 0;
}

int hv_state_parse(const uint8_t *buf, size_t len, enum hv_state_arch expect_arch,
		   struct hv_state_reader *out)
{
	uint64_t version, arch, body_len;
	size_t off = 0, used;
	uint32_t nr = 0;
	struct record r;
	int err;

	memset(out, 0, sizeof(*out));
	if (len < HEADER_LEN + TRAILER_LEN)
		return hv_err(-EINVAL, "state file: truncated (%zu bytes, a header alone is %u)",
			      len, HEADER_LEN + TRAILER_LEN);
	if (memcmp(buf, HV_STATE_MAGIC, 8))
		return hv_err(-EINVAL, "state file: bad magic (not an hvlib state file)");
	version = get_le(buf + 8, 4);
	if (version != HV_STATE_FORMAT_VERSION)
		return hv_err(-ENOTSUP, "state file: format version %llu, this library reads %u",
			      (unsigned long long)version, HV_STATE_FORMAT_VERSION);
	arch = get_le(buf + 12, 4);
	if (arch != (uint64_t)expect_arch)
		return hv_err(-ENOEXEC, "state file: taken on %s, this is %s",
			      arch_name((uint32_t)arch), arch_name(expect_arch));
	body_len = get_le(buf + 16, 8);
	if (body_len != len - HEADER_LEN - TRAILER_LEN)
		return hv_err(-EINVAL, "state file: truncated or padded (body says %llu bytes, file has %zu)",
			      (unsigned long long)body_len, len - HEADER_LEN - TRAILER_LEN);
	if (hv_state_crc32c(0, buf, len - TRAILER_LEN) != get_le(buf + len - TRAILER_LEN, 4))
		return hv_err(-EBADMSG, "state file: checksum mismatch (the file is corrupted)");

	const uint8_t *body = buf + HEADER_LEN;

	while (off < body_len) {
		if (nr == HV_STATE_MAX_SECTIONS ||
		    next_record(body + off, body_len - off, 8, &used, &r))
			return hv_err(-EINVAL, "state file: malformed section %u", nr);
		if (seen_before(body, off, 8, &r))
			return hv_err(-EINVAL, "state file: section '%.*s' appears twice",
				      (int)r.name_len, (const char *)r.name);
		err = check_fields(&r);
		if (err)
			return err;
		nr++;
		off += used;
	}
	out->body = body;
	out->body_len = body_len;
	out->nr_sections = nr;
	return 0;
}

static void to_section(const struct record *r, struct hv_state_section *out)
{
	out->name_ptr = (const char *)r->name;
	out->name_len = r->name_len;
	out->version = (uint32_t)get_le(r->fixed, 4);
	out->payload = r->data;
	out->payload_len = r->data_len;
}

int hv_state_section_at(const struct hv_state_reader *r, uint32_t i,
			struct hv_state_section *out)
{
	size_t off = 0, used;
	struct record rec;

	memset(out, 0, sizeof(*out));
	if (i >= r->nr_sections)
		return hv_err(-EINVAL, "state file: no section %u (it has %u)", i, r->nr_sections);
	for (uint32_t k = 0;; k++) {
		next_record(r->body + off, r->body_len - off, 8, &used, &rec);
		if (k == i)
			break;
		off += used;
	}
	to_section(&rec, out);
	return 0;
}

int hv_state_find_section(const struct hv_state_reader *r, const char *name,
			  struct hv_state_section *out)
{
	size_t off = 0, used, n = strlen(name);
	struct record rec;

	memset(out, 0, sizeof(*out));
	while (off < r->body_len) {
		next_record(r->body + off, r->body_len - off, 8, &used, &rec);
		if (rec.name_len == n && !memcmp(rec.name, name, n)) {
			to_section(&rec, out);
			return 0;
		}
		off += used;
	}
	return hv_err(-ENOENT, "state file: no section '%s' (a VM with other devices?)", name);
}

static int find_field(const struct hv_state_section *s, const char *name, uint8_t type,
		      struct record *out)
{
	size_t off = 0, used, n = strlen(name);

	while (off < s->payload_len) {
		next_record(s->payload + off, s->payload_len - off, 5, &used, out);
		if (out->name_len == n && !memcmp(out->name, name, n)) {
			if (out->fixed[0] != type)
				return hv_err(-EINVAL, "state file: section '%.*s': field '%s' has type %u, expected %u",
					      (int)s->name_len, s->name_ptr, name, out->fixed[0], type);
			return 0;
		}
		off += used;
	}
	return hv_err(-ENOENT, "state file: section '%.*s' has no field '%s'", (int)s->name_len,
		      s->name_ptr, name);
}

int hv_state_get_u64(const struct hv_state_section *s, const char *name, uint64_t *out)
{
	struct record r;
	int err = find_field(s, name, HV_STATE_U64, &r);

	*out = err ? 0 : get_le(r.data, 8);
	return err;
}

int hv_state_get_blob(const struct hv_state_section *s, const char *name,
		      const uint8_t **data, size_t *len)
{
	struct record r;
	int err = find_field(s, name, HV_STATE_BYTES, &r);

	*data = err ? NULL : r.data;
	*len = err ? 0 : r.data_len;
	return err;
}

int hv_state_get_bytes(const struct hv_state_section *s, const char *name, void *out,
		       size_t len)
{
	const uint8_t *data;
	size_t have;
	int err = hv_state_get_blob(s, name, &data, &have);

	if (err)
		return err;
	if (have != len)
		return hv_err(-EINVAL, "state file: section '%.*s': field '%s' is %zu bytes, expected %zu",
			      (int)s->name_len, s->name_ptr, name, have, len);
	memcpy(out, data, len);
	return 0;
}
