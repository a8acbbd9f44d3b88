/* SPDX-License-Identifier: MIT */
/*
 * What the host offers: MemTotal and the CPUs this process may run on, each
 * lowered to the cgroup v2 limit of the process when that is smaller, so a
 * ledger in a container sees the container, not the machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger_internal.h"
#include "util/error.h"

/* Whole small file into buf, NUL-terminated.  -errno; the caller words it. */
static int read_text(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return (int)n;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

/* An unsigned decimal at *s (leading blanks skipped); advances *s. */
static int parse_u64(const char **s, uint64_t *v)
{
	char *end;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	if (**s < '0' || **s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(*s, &end, 10);
	if (errno)
		return -EINVAL;
	*s = end;
	return 0;
}

int hv_ledger_parse_meminfo(const char *text, uint64_t *bytes)
{
	const char *p = text;
	uint64_t kib;

	while (p && strncmp(p, "MemTotal:", 9) != 0) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return -EINVAL;
	p += 9;
	if (parse_u64(&p, &kib) || strncmp(p, " kB", 3) != 0 || kib > UINT64_MAX / 1024)
		return -EINVAL;
	*bytes = kib * 1024;
	return 0;
}

int hv_ledger_parse_cgroup(const char *text, char *path, size_t len)
{
	const char *p = text, *end;

	while (p && strncmp(p, "0::", 3) != 0) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return -ENOENT;
	p += 3;
	end = strchr(p, '\n');
	if (!end)
		end = p + strlen(p);
	if ((size_t)(end - p) >= len || *p != '/')
		return *p != '/' ? -ENOENT : -ENAMETOOLONG;
	memcpy(path, p, (size_t)(end - p));
	path[end - p] = '\0';
	return 0;
}

int hv_ledger_parse_memory_max(const char *text, uint64_t *bytes)
{
	if (strncmp(text, "max", 3) == 0) {
		*bytes = UINT64_MAX;
		return 0;
	}
	return parse_u64(&text, bytes);
}

int hv_ledger_parse_cpu_max(const char *text, uint32_t *cpus)
{
	uint64_t quota, period, n;
	const char *p = text;

	if (strncmp(p, "max", 3) == 0) {
		*cpus = 0;
		return 0;
	}
	if (parse_u64(&p, &quota) || parse_u64(&p, &period) || period == 0)
		return -EINVAL;
	n = quota / period + (quota % period != 0);
	*cpus = n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return 0;
}

/* Lower *mem and *cpus to the limits of the cgroup at cgroup_root + path,
 * and of each of its ancestors (the tightest wins).  Missing files: no limit. */
static void apply_cgroup(const char *cgroup_root, const char *path, uint64_t *mem,
			 uint32_t *cpus)
{
	char dir[512], file[600], text[128];
	uint64_t max;
	uint32_t n;
	char *slash;

	snprintf(dir, sizeof(dir), "%s%s", cgroup_root, strcmp(path, "/") ? path : "");
	for (;;) {
		snprintf(file, sizeof(file), "%s/memory.max", dir);
		if (!read_text(file, text, sizeof(text)) &&
		    !hv_ledger_parse_memory_max(text, &max) && max < *mem)
			*mem = max;
		snprintf(file, sizeof(file), "%s/cpu.max", dir);
		if (!read_text(file, text, sizeof(text)) && !hv_ledger_parse_cpu_max(text, &n) &&
		    n && n < *cpus)
			*cpus = n;
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < strlen(cgroup_root))
			break;
		*slash = '\0';
	}
}

int hv_ledger_host_capacity(const char *proc_root, const char *cgroup_root, uint64_t *mem,
			    uint32_t *cpus)
{
	char file[256], text[4096], path[256];
	cpu_set_t set;
	int ret;

	snprintf(file, sizeof(file), "%s/meminfo", proc_root);
	ret = read_text(file, text, sizeof(text));
	if (ret)
		return hv_err_sys(ret, "ledger: reading the host's memory size from %s", file);
	if (hv_ledger_parse_meminfo(text, mem))
		return hv_err(-EINVAL, "ledger: %s has no MemTotal line", file);
	if (sched_getaffinity(0, sizeof(set), &set))
		return hv_err_sys(-errno, "ledger: sched_getaffinity");
	*cpus = (uint32_t)CPU_COUNT(&set);
	snprintf(file, sizeof(file), "%s/self/cgroup", proc_root);
	if (!read_text(file, text, sizeof(text)) &&
	    !hv_ledger_parse_cgroup(text, path, sizeof(path)))
		apply_cgroup(cgroup_root, path, mem, cpus);
	return 0;
}
