/* SPDX-License-Identifier: MIT */
/*
 * The snapshot state file: a small, versioned, self-describing container for
 * vCPU, VM and device state (docs/snapshot-format.md has the byte layout).
 *
 * A file holds named sections ("vcpu0", "virtio-blk0", ...), each with its
 * own version, and each section holds named, typed fields.  Readers look
 * fields up by name, so a section may gain fields without a format bump and
 * a missing or mis-sized field is an error that names it.
 *
 * The file is input: hv_state_parse() checks all of it (magic, version,
 * architecture, lengths, checksum, every section and field, duplicate names)
 * before anything is read, so the lookups that follow never touch bytes
 * outside the buffer.  Nothing here is thread-safe; one writer or reader
 * belongs to one thread at a time.
 */
#ifndef HV_SNAPSHOT_STATE_FILE_H
#define HV_SNAPSHOT_STATE_FILE_H

#include <stddef.h>
#include <stdint.h>

#define HV_STATE_MAGIC "HVSTATE"     /* 8 bytes with its NUL */
#define HV_STATE_FORMAT_VERSION 1u
#define HV_STATE_NAME_MAX 63u         /* section and field names */
#define HV_STATE_MAX_SECTIONS 4096u
#define HV_STATE_MAX_FILE (64u << 20) /* state, not RAM: far below this */

/* Architecture tags: the machine a file was taken on. */
enum hv_state_arch {
	HV_STATE_ARCH_X86_64 = 1,
	HV_STATE_ARCH_ARM64 = 2,
};

enum hv_state_type {
	HV_STATE_U64 = 1,
	HV_STATE_BYTES = 2,
};

struct hv_state_writer {
	uint8_t *buf;
	size_t len, cap;
	size_t section_start; /* offset of the open section's length; 0: none */
	int err;              /* sticky: the first failure, reported at finish */
};

/* Writing.  Calls after a failure do nothing; hv_state_finish() returns it. */
void hv_state_writer_init(struct hv_state_writer *w);
void hv_state_begin_section(struct hv_state_writer *w, const char *name, uint32_t version);
void hv_state_put_u64(struct hv_state_writer *w, const char *name, uint64_t value);
void hv_state_put_bytes(struct hv_state_writer *w, const char *name, const void *data,
			size_t len);
void hv_state_end_section(struct hv_state_writer *w);
/* Seal the file: on success *out (malloc'd, the caller frees) and *out_len;
 * -EINVAL for a section left open or a bad name, -ENOMEM, -E2BIG over
 * HV_STATE_MAX_FILE.  The writer is finished either way. */
int hv_state_finish(struct hv_state_writer *w, enum hv_state_arch arch, uint8_t **out,
		    size_t *out_len);
void hv_state_writer_fini(struct hv_state_writer *w);

/* Reading: views into the caller's buffer, which must outlive them. */
struct hv_state_reader {
	const uint8_t *body;
	size_t body_len;
	uint32_t nr_sections;
};

struct hv_state_section {
	const char *name_ptr; /* not NUL-terminated */
	size_t name_len;
	uint32_t version;
	const uint8_t *payload;
	size_t payload_len;
};

/* Check a whole file.  Errors (each with a message naming the problem):
 * -EINVAL truncated, bad magic, malformed section or field, duplicate name;
 * -ENOTSUP a format version this library does not read;
 * -ENOEXEC taken on another architecture than expect_arch;
 * -EBADMSG checksum mismatch (the file was corrupted). */
int hv_state_parse(const uint8_t *buf, size_t len, enum hv_state_arch expect_arch,
		   struct hv_state_reader *out);

/* -ENOENT (with a message) when the file has no section of that name. */
int hv_state_find_section(const struct hv_state_reader *r, const char *name,
			  struct hv_state_section *out);
/* The i-th section in file order (i < nr_sections), for listing. */
int hv_state_section_at(const struct hv_state_reader *r, uint32_t i,
			struct hv_state_section *out);

/* Field lookups: -ENOENT missing, -EINVAL wrong type or size. */
int hv_state_get_u64(const struct hv_state_section *s, const char *name, uint64_t *out);
/* Exactly len bytes into out. */
int hv_state_get_bytes(const struct hv_state_section *s, const char *name, void *out,
		       size_t len);
/* Any length: a view of the field's bytes. */
int hv_state_get_blob(const struct hv_state_section *s, const char *name,
		      const uint8_t **data, size_t *len);

/* CRC-32C (Castagnoli) over a buffer, as the file's trailer uses it. */
uint32_t hv_state_crc32c(uint32_t crc, const void *data, size_t len);

#endif /* HV_SNAPSHOT_STATE_FILE_H */
