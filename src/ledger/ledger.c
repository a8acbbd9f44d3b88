/* SPDX-License-Identifier: MIT */
/*
 * The host resource ledger: two counters against two limits under one
 * mutex.  Limits are fixed at create, so only the used counters move.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_internal.h"
#include "util/config.h"
#include "util/error.h"

#define MAX_PCT 100000u /* 1000x: anything above is a typo, not a policy */

struct hv_ledger {
	pthread_mutex_t lock; /* guards the used counters */
	uint64_t mem_capacity, mem_limit, mem_used;
	uint32_t cpu_capacity, cpu_limit, cpu_used;
	uint32_t mem_pct, cpu_pct;
};

HV_EXPORT void hv_ledger_config_init(struct hv_ledger_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->mem_overcommit_pct = 100;
	cfg->cpu_overcommit_pct = 100;
}

static int validate_config(const struct hv_ledger_config *cfg)
{
	if (cfg->flags & ~HV_LEDGER_F_ALL)
		return hv_err(-EINVAL, "ledger config: unknown flags 0x%x", cfg->flags);
	if (cfg->reserved)
		return hv_err(-EINVAL, "ledger config: reserved is %u, must be 0", cfg->reserved);
	if (cfg->mem_overcommit_pct > MAX_PCT || cfg->cpu_overcommit_pct > MAX_PCT)
		return hv_err(-EINVAL, "ledger config: overcommit %u%% / %u%% above %u%%",
			      cfg->mem_overcommit_pct, cfg->cpu_overcommit_pct, MAX_PCT);
	return 0;
}

/* capacity x pct / 100 without overflow.  -EOVERFLOW. */
static int scale(uint64_t capacity, uint32_t pct, uint64_t *out)
{
	uint64_t whole = capacity / 100, rest = capacity % 100;

	if (whole && pct > UINT64_MAX / whole)
		return -EOVERFLOW;
	*out = whole * pct + rest * pct / 100;
	return 0;
}

static int set_limits(struct hv_ledger *l, const struct hv_ledger_config *cfg)
{
	uint64_t cpu_limit;
	int ret;

	l->mem_pct = cfg->mem_overcommit_pct ? cfg->mem_overcommit_pct : 100;
	l->cpu_pct = cfg->cpu_overcommit_pct ? cfg->cpu_overcommit_pct : 100;
	l->mem_capacity = cfg->mem_bytes;
	l->cpu_capacity = cfg->cpus;
	if (!l->mem_capacity || !l->cpu_capacity) {
		uint64_t mem;
		uint32_t cpus;

		ret = hv_ledger_host_capacity("/proc", "/sys/fs/cgroup", &mem, &cpus);
		if (ret)
			return ret;
		if (!l->mem_capacity)
			l->mem_capacity = mem;
		if (!l->cpu_capacity)
			l->cpu_capacity = cpus;
	}
	if (scale(l->mem_capacity, l->mem_pct, &l->mem_limit))
		return hv_err(-EOVERFLOW, "ledger: %llu bytes x %u%% overflows",
			      (unsigned long long)l->mem_capacity, l->mem_pct);
	cpu_limit = (uint64_t)l->cpu_capacity * l->cpu_pct / 100;
	if (cpu_limit > UINT32_MAX)
		return hv_err(-EOVERFLOW, "ledger: %u CPUs x %u%% overflows", l->cpu_capacity,
			      l->cpu_pct);
	l->cpu_limit = (uint32_t)cpu_limit;
	return 0;
}

HV_EXPORT int hv_ledger_create(const struct hv_ledger_config *ucfg, struct hv_ledger **out)
{
	const struct hv_ledger_config *cfg;
	struct hv_ledger_config c;
	struct hv_ledger *l;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	if (ucfg) {
		ret = HV_CFG_LOAD(&c, ucfg, hv_ledger_config_init, "ledger config");
		if (ret)
			return ret;
	} else {
		hv_ledger_config_init(&c); /* NULL: the host's capacity, no overcommit */
	}
	cfg = &c;
	ret = validate_config(cfg);
	if (ret)
		return ret;
	l = calloc(1, sizeof(*l));
	if (!l)
		return hv_err(-ENOMEM, "allocating a ledger");
	ret = set_limits(l, cfg);
	if (ret) {
		free(l);
		return ret;
	}
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

HV_EXPORT int hv_ledger_destroy(struct hv_ledger *l)
{
	uint64_t mem;
	uint32_t cpus;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	mem = l->mem_used;
	cpus = l->cpu_used;
	pthread_mutex_unlock(&l->lock);
	if (mem || cpus)
		return hv_err(-EBUSY, "ledger: %llu bytes and %u CPUs still reserved (destroy "
				      "the VMs first)", (unsigned long long)mem, cpus);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return 0;
}

/* "512 MiB" (or KiB, or bytes: whatever shows the value exactly). */
static const char *fmt_bytes(char *buf, size_t len, uint64_t b)
{
	if (b && b % (1ull << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
	else if (b && b % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)b);
	return buf;
}

/* The refusal, naming each resource that is short.  Caller holds the lock. */
static int refuse(const struct hv_ledger *l, uint64_t mem, uint32_t cpus, bool mem_short,
		  bool cpu_short)
{
	char want[32], left[32], cap[32], mem_msg[160] = "", cpu_msg[128] = "";

	if (mem_short)
		snprintf(mem_msg, sizeof(mem_msg),
			 "%s of guest memory asked, %s left of %s x%u.%02u overcommit",
			 fmt_bytes(want, sizeof(want), mem),
			 fmt_bytes(left, sizeof(left), l->mem_limit - l->mem_used),
			 fmt_bytes(cap, sizeof(cap), l->mem_capacity), l->mem_pct / 100,
			 l->mem_pct % 100);
	if (cpu_short)
		snprintf(cpu_msg, sizeof(cpu_msg),
			 "%u vCPU%s asked, %u left of %u CPU%s x%u.%02u overcommit", cpus,
			 cpus == 1 ? "" : "s", l->cpu_limit - l->cpu_used, l->cpu_capacity,
			 l->cpu_capacity == 1 ? "" : "s", l->cpu_pct / 100, l->cpu_pct % 100);
	return hv_err(-ENOSPC, "admission: %s%s%s", mem_msg, mem_short && cpu_short ? "; " : "",
		      cpu_msg);
}

HV_EXPORT int hv_ledger_reserve(struct hv_ledger *l, uint64_t mem, uint32_t cpus)
{
	bool mem_short, cpu_short;
	int ret = 0;

	if (!l)
		return hv_err(-EINVAL, "hv_ledger_reserve: ledger is NULL");
	pthread_mutex_lock(&l->lock);
	mem_short = mem > l->mem_limit - l->mem_used;
	cpu_short = cpus > l->cpu_limit - l->cpu_used;
	if (mem_short || cpu_short) {
		ret = refuse(l, mem, cpus, mem_short, cpu_short);
	} else {
		l->mem_used += mem;
		l->cpu_used += cpus;
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

HV_EXPORT int hv_ledger_release(struct hv_ledger *l, uint64_t mem, uint32_t cpus)
{
	uint64_t mem_used;
	uint32_t cpu_used;
	bool ok;

	if (!l)
		return hv_err(-EINVAL, "hv_ledger_release: ledger is NULL");
	pthread_mutex_lock(&l->lock);
	mem_used = l->mem_used;
	cpu_used = l->cpu_used;
	ok = mem <= mem_used && cpus <= cpu_used;
	if (ok) {
		l->mem_used -= mem;
		l->cpu_used -= cpus;
	}
	pthread_mutex_unlock(&l->lock);
	if (!ok)
		return hv_err(-EINVAL, "ledger: releasing %llu bytes and %u CPUs, only %llu bytes "
				       "and %u CPUs are reserved", (unsigned long long)mem, cpus,
			      (unsigned long long)mem_used, cpu_used);
	return 0;
}

HV_EXPORT int hv_ledger_usage(struct hv_ledger *l, struct hv_ledger_usage *out)
{
	struct hv_ledger_usage u = { .size = sizeof(u) };
	uint32_t size;
	int ret;

	HV_CHECK_ARG(l);
	HV_CHECK_ARG(out);
	ret = hv_out_size(out->size, sizeof(u), 8, "hv_ledger_usage", &size);
	if (ret)
		return ret;
	pthread_mutex_lock(&l->lock);
	u.mem_used = l->mem_used;
	u.cpu_used = l->cpu_used;
	pthread_mutex_unlock(&l->lock);
	u.mem_capacity = l->mem_capacity;
	u.mem_limit = l->mem_limit;
	u.cpu_capacity = l->cpu_capacity;
	u.cpu_limit = l->cpu_limit;
	u.mem_overcommit_pct = l->mem_pct;
	u.cpu_overcommit_pct = l->cpu_pct;
	u.size = out->size;
	memcpy(out, &u, size);
	return 0;
}
