/* SPDX-License-Identifier: MIT */
/*
 * The ledger's parsers of host text (ledger_host.c) on the fuzzer's bytes:
 * /proc/meminfo, /proc/self/cgroup, memory.max and cpu.max.  Each gets a
 * heap copy of exactly the input plus its NUL, so a read past it is caught.
 */
#include "fuzz_util.h"
#include "ledger/ledger_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), path[16];
	uint64_t v;
	uint32_t n;

	memcpy(text, data, size);
	text[size] = '\0';
	hv_ledger_parse_meminfo(text, &v);
	hv_ledger_parse_cgroup(text, path, sizeof(path));
	hv_ledger_parse_memory_max(text, &v);
	hv_ledger_parse_cpu_max(text, &n);
	free(text);
	return 0;
}
