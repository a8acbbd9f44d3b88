/* SPDX-License-Identifier: MIT */
/*
 * The snapshot state file's parser (snapshot/state_file.h): the input is a
 * whole file.  Oracle beyond the sanitizers: a file that parses has unique
 * section names, so looking each section up by its own name finds that very
 * section, and field lookups on it stay inside the buffer.  Each input is
 * parsed twice: as it is, and with its trailer resealed to the right
 * checksum, so that mutations reach the section and field checks behind it.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "snapshot/state_file.h"

static void walk(const uint8_t *data, size_t size)
{
	static const char *const fields[] = {"rip", "regs", "features", "empty", "lcr"};
	struct hv_state_section s, by_name;
	struct hv_state_reader r;
	char name[HV_STATE_NAME_MAX + 1];
	const uint8_t *blob;
	uint64_t v;
	size_t n;

	if (hv_state_parse(data, size, HV_STATE_ARCH_X86_64, &r))
		return;
	for (uint32_t i = 0; i < r.nr_sections; i++) {
		if (hv_state_section_at(&r, i, &s) || s.name_len > HV_STATE_NAME_MAX)
			abort();
		memcpy(name, s.name_ptr, s.name_len);
		name[s.name_len] = '\0';
		if (hv_state_find_section(&r, name, &by_name) || by_name.payload != s.payload)
			abort();
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			if (!hv_state_get_blob(&s, fields[f], &blob, &n) &&
			    (blob < data || blob + n > data + size))
				abort();
			hv_state_get_u64(&s, fields[f], &v);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *sealed;
	uint32_t crc;

	walk(data, size);
	if (size < 4)
		return 0;
	sealed = malloc(size);
	if (!sealed)
		abort();
	memcpy(sealed, data, size);
	crc = hv_state_crc32c(0, sealed, size - 4);
	for (int i = 0; i < 4; i++)
		sealed[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
	walk(sealed, size);
	free(sealed);
	return 0;
}
