/* SPDX-License-Identifier: MIT */
/* Host capacity for the ledger (ledger_host.c), split out for unit tests. */
#ifndef HV_LEDGER_INTERNAL_H
#define HV_LEDGER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hvlib/ledger.h"

/* "MemTotal:  16314072 kB" in /proc/meminfo text -> bytes.  -EINVAL: absent
 * or malformed. */
int hv_ledger_parse_meminfo(const char *text, uint64_t *bytes);

/* The cgroup v2 path ("0::/a/b") in /proc/self/cgroup text, into path.
 * -ENOENT: no v2 line; -ENAMETOOLONG. */
int hv_ledger_parse_cgroup(const char *text, char *path, size_t len);

/* memory.max text: a byte count, or "max" (UINT64_MAX).  -EINVAL. */
int hv_ledger_parse_memory_max(const char *text, uint64_t *bytes);

/* cpu.max text "QUOTA PERIOD" -> CPUs, rounded up (at least 1); "max ...":
 * 0 (no limit).  -EINVAL. */
int hv_ledger_parse_cpu_max(const char *text, uint32_t *cpus);

/* The host's capacity as hv_ledger_create() reads it, with the files under
 * proc_root ("/proc") and cgroup_root ("/sys/fs/cgroup").  The cgroup files
 * are optional (absent: no limit); *cpus from sched_getaffinity(). */
int hv_ledger_host_capacity(const char *proc_root, const char *cgroup_root, uint64_t *mem,
			    uint32_t *cpus);

#endif /* HV_LEDGER_INTERNAL_H */
