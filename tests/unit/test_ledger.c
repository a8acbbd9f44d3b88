/* SPDX-License-Identifier: MIT */
/* The host resource ledger: limits, ratios, refusals and their messages,
 * release, host capacity parsing, and many threads reserving at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "ledger/ledger_internal.h"

#define MiB (1ull << 20)

static struct hv_ledger *make(uint64_t mem, uint32_t cpus, uint32_t mem_pct, uint32_t cpu_pct)
{
	struct hv_ledger_config cfg;
	struct hv_ledger *l = (void *)1;

	hv_ledger_config_init(&cfg);
	cfg.mem_bytes = mem;
	cfg.cpus = cpus;
	cfg.mem_overcommit_pct = mem_pct;
	cfg.cpu_overcommit_pct = cpu_pct;
	assert_int_equal(hv_ledger_create(&cfg, &l), 0);
	assert_non_null(l);
	return l;
}

static struct hv_ledger_usage usage(struct hv_ledger *l)
{
	struct hv_ledger_usage u = { .size = sizeof(u) };

	assert_int_equal(hv_ledger_usage(l, &u), 0);
	return u;
}

static void test_limits_and_ratios(void **state)
{
	struct hv_ledger *l = make(4096 * MiB, 2, 150, 400);
	struct hv_ledger_usage u = usage(l);

	(void)state;
	assert_int_equal(u.mem_capacity, 4096 * MiB);
	assert_int_equal(u.mem_limit, 6144 * MiB);
	assert_int_equal(u.cpu_capacity, 2);
	assert_int_equal(u.cpu_limit, 8);
	assert_int_equal(u.mem_overcommit_pct, 150);
	assert_int_equal(u.cpu_overcommit_pct, 400);
	/* Exactly the limit fits, one byte more does not. */
	assert_int_equal(hv_ledger_reserve(l, 6144 * MiB, 8), 0);
	assert_int_equal(hv_ledger_reserve(l, 1, 0), -ENOSPC);
	assert_int_equal(hv_ledger_reserve(l, 0, 1), -ENOSPC);
	assert_int_equal(hv_ledger_release(l, 6144 * MiB, 8), 0);
	assert_int_equal(hv_ledger_destroy(l), 0);

	/* 0 percent means the default, 100: no overcommit; 3 CPUs x 150% = 4. */
	l = make(1000, 3, 0, 150);
	u = usage(l);
	assert_int_equal(u.mem_limit, 1000);
	assert_int_equal(u.mem_overcommit_pct, 100);
	assert_int_equal(u.cpu_limit, 4);
	assert_int_equal(hv_ledger_destroy(l), 0);

	/* Not a multiple of 100: capacity x pct / 100 exactly, no overflow. */
	l = make(UINT64_MAX / 2, 1, 200, 100);
	assert_true(usage(l).mem_limit >= UINT64_MAX - 2);
	assert_int_equal(hv_ledger_destroy(l), 0);
}

static void test_refusal_messages(void **state)
{
	struct hv_ledger *l = make(4096 * MiB, 2, 150, 100);
	struct hv_ledger_usage u;

	(void)state;
	assert_int_equal(hv_ledger_reserve(l, 5844 * MiB, 1), 0);
	assert_int_equal(hv_ledger_reserve(l, 512 * MiB, 1), -ENOSPC);
	assert_string_equal(hv_last_error(), "admission: 512 MiB of guest memory asked, 300 MiB "
					     "left of 4096 MiB x1.50 overcommit");
	/* A refusal takes nothing: both or neither. */
	u = usage(l);
	assert_int_equal(u.mem_used, 5844 * MiB);
	assert_int_equal(u.cpu_used, 1);
	assert_int_equal(hv_ledger_reserve(l, 0, 2), -ENOSPC);
	assert_string_equal(hv_last_error(),
			    "admission: 2 vCPUs asked, 1 left of 2 CPUs x1.00 overcommit");
	assert_int_equal(hv_ledger_reserve(l, 400 * MiB, 3), -ENOSPC);
	assert_string_equal(hv_last_error(), "admission: 400 MiB of guest memory asked, 300 MiB "
					     "left of 4096 MiB x1.50 overcommit; 3 vCPUs asked, 1 "
					     "left of 2 CPUs x1.00 overcommit");
	assert_int_equal(hv_ledger_reserve(l, 300 * MiB, 1), 0);
	assert_int_equal(hv_ledger_reserve(l, 1536 * 1024, 0), -ENOSPC);
	assert_non_null(strstr(hv_last_error(), "1536 KiB of guest memory asked, 0 bytes left"));
	assert_int_equal(hv_ledger_reserve(l, 1, 0), -ENOSPC);
	assert_non_null(strstr(hv_last_error(), "1 bytes of guest memory asked"));
	assert_int_equal(hv_ledger_release(l, 6144 * MiB, 2), 0);
	assert_int_equal(hv_ledger_destroy(l), 0);
}

static void test_release_and_destroy(void **state)
{
	struct hv_ledger *l = make(100 * MiB, 4, 100, 100);

	(void)state;
	assert_int_equal(hv_ledger_reserve(l, 60 * MiB, 2), 0);
	assert_int_equal(hv_ledger_reserve(l, 60 * MiB, 1), -ENOSPC);
	/* Over-release is refused and changes nothing. */
	assert_int_equal(hv_ledger_release(l, 61 * MiB, 0), -EINVAL);
	assert_int_equal(hv_ledger_release(l, 0, 3), -EINVAL);
	assert_int_equal(usage(l).mem_used, 60 * MiB);
	/* Busy while anything is held. */
	assert_int_equal(hv_ledger_destroy(l), -EBUSY);
	assert_non_null(strstr(hv_last_error(), "still reserved"));
	assert_int_equal(hv_ledger_release(l, 30 * MiB, 1), 0);
	assert_int_equal(hv_ledger_reserve(l, 70 * MiB, 3), 0);
	assert_int_equal(hv_ledger_release(l, 100 * MiB, 4), 0);
	assert_int_equal(usage(l).mem_used, 0);
	assert_int_equal(hv_ledger_destroy(l), 0);
	assert_int_equal(hv_ledger_destroy(NULL), 0);
}

static void test_bad_arguments(void **state)
{
	struct hv_ledger_config cfg;
	struct hv_ledger_usage u = { .size = 4 };
	struct hv_ledger *l = (void *)1;

	(void)state;
	/* An older caller's 8-byte config: the rest takes the defaults. */
	hv_ledger_config_init(&cfg);
	cfg.size = 8;
	assert_int_equal(hv_ledger_create(&cfg, &l), 0);
	assert_int_equal(hv_ledger_destroy(l), 0);
	l = (void *)1;
	hv_ledger_config_init(&cfg);
	cfg.size = 6;
	assert_int_equal(hv_ledger_create(&cfg, &l), -EINVAL);
	assert_null(l);
	hv_ledger_config_init(&cfg);
	cfg.flags = 1;
	assert_int_equal(hv_ledger_create(&cfg, &l), -EINVAL);
	hv_ledger_config_init(&cfg);
	cfg.reserved = 1;
	assert_int_equal(hv_ledger_create(&cfg, &l), -EINVAL);
	hv_ledger_config_init(&cfg);
	cfg.cpu_overcommit_pct = 100001;
	assert_int_equal(hv_ledger_create(&cfg, &l), -EINVAL);
	hv_ledger_config_init(&cfg);
	cfg.mem_bytes = UINT64_MAX;
	cfg.cpus = 1;
	cfg.mem_overcommit_pct = 200;
	assert_int_equal(hv_ledger_create(&cfg, &l), -EOVERFLOW);
	assert_int_equal(hv_ledger_create(&cfg, NULL), -EINVAL);
	assert_int_equal(hv_ledger_reserve(NULL, 1, 1), -EINVAL);
	assert_int_equal(hv_ledger_release(NULL, 1, 1), -EINVAL);
	l = make(MiB, 1, 100, 100);
	assert_int_equal(hv_ledger_usage(l, &u), -EINVAL);
	assert_int_equal(hv_ledger_usage(l, NULL), -EINVAL);
	/* An older, shorter struct gets the fields it has and nothing more. */
	{
		struct hv_ledger_usage big;

		memset(&big, 0xa5, sizeof(big));
		big.size = offsetof(struct hv_ledger_usage, mem_limit);
		assert_int_equal(hv_ledger_usage(l, &big), 0);
		assert_int_equal(big.mem_capacity, MiB);
		assert_int_equal(big.cpu_capacity, 1);
		assert_int_equal(big.mem_limit, 0xa5a5a5a5a5a5a5a5ull);
	}
	assert_int_equal(hv_ledger_destroy(l), 0);
}

static void test_host_capacity(void **state)
{
	struct hv_ledger_config cfg;
	struct hv_ledger *l;
	struct hv_ledger_usage u;
	cpu_set_t set;

	(void)state;
	hv_ledger_config_init(&cfg);
	assert_int_equal(hv_ledger_create(&cfg, &l), 0);
	u = usage(l);
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	assert_true(u.cpu_capacity >= 1 && u.cpu_capacity <= (uint32_t)CPU_COUNT(&set));
	assert_true(u.mem_capacity >= 16 * MiB);
	assert_int_equal(hv_ledger_destroy(l), 0);
	/* Set memory, host CPUs. */
	cfg.mem_bytes = 123 * MiB;
	assert_int_equal(hv_ledger_create(&cfg, &l), 0);
	assert_int_equal(usage(l).mem_capacity, 123 * MiB);
	assert_int_equal(hv_ledger_destroy(l), 0);
}

static void test_parsers(void **state)
{
	char path[64];
	uint64_t v;
	uint32_t n;

	(void)state;
	assert_int_equal(hv_ledger_parse_meminfo("MemTotal:       16314072 kB\nMemFree: 1 kB\n",
						 &v), 0);
	assert_int_equal(v, 16314072ull * 1024);
	assert_int_equal(hv_ledger_parse_meminfo("MemFree: 1 kB\nMemTotal: 2048 kB\n", &v), 0);
	assert_int_equal(v, 2048 * 1024);
	assert_int_equal(hv_ledger_parse_meminfo("MemFree: 1 kB\n", &v), -EINVAL);
	assert_int_equal(hv_ledger_parse_meminfo("MemTotal: x kB\n", &v), -EINVAL);
	assert_int_equal(hv_ledger_parse_meminfo("MemTotal: 99999999999999999999 kB\n", &v),
			 -EINVAL);
	assert_int_equal(hv_ledger_parse_cgroup("12:cpu:/x\n0::/user.slice/a.scope\n", path,
						sizeof(path)), 0);
	assert_string_equal(path, "/user.slice/a.scope");
	assert_int_equal(hv_ledger_parse_cgroup("1:name=systemd:/\n", path, sizeof(path)),
			 -ENOENT);
	assert_int_equal(hv_ledger_parse_cgroup("0::/aaaaaaaaaa\n", path, 5), -ENAMETOOLONG);
	assert_int_equal(hv_ledger_parse_memory_max("max\n", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(hv_ledger_parse_memory_max("1073741824\n", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(hv_ledger_parse_memory_max("-1\n", &v), -EINVAL);
	assert_int_equal(hv_ledger_parse_cpu_max("max 100000\n", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hv_ledger_parse_cpu_max("150000 100000\n", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hv_ledger_parse_cpu_max("1000 100000\n", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hv_ledger_parse_cpu_max("100 0\n", &n), -EINVAL);
	assert_int_equal(hv_ledger_parse_cpu_max("junk\n", &n), -EINVAL);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A fake /proc and cgroup tree: the tightest limit on the path wins. */
static void test_host_cgroup(void **state)
{
	char root[] = "/tmp/hvlib-ledger-XXXXXX", dir[600];
	uint64_t mem;
	uint32_t cpus;
	int ret;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/proc", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, "meminfo", "MemTotal: 8388608 kB\n");
	snprintf(dir, sizeof(dir), "%s/proc/self", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, "cgroup", "0::/a/b\n");
	snprintf(dir, sizeof(dir), "%s/cg", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/cg/a", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, "memory.max", "2147483648\n");
	write_file(dir, "cpu.max", "100000 100000\n");
	snprintf(dir, sizeof(dir), "%s/cg/a/b", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, "memory.max", "max\n");

	snprintf(dir, sizeof(dir), "%s/proc", root);
	{
		char cg[600];

		snprintf(cg, sizeof(cg), "%s/cg", root);
		ret = hv_ledger_host_capacity(dir, cg, &mem, &cpus);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(mem, 2ull << 30);
	assert_int_equal(cpus, 1);
	/* No meminfo: the error names the file. */
	snprintf(dir, sizeof(dir), "%s/none", root);
	assert_int_equal(hv_ledger_host_capacity(dir, root, &mem, &cpus), -ENOENT);
	assert_non_null(strstr(hv_last_error(), "none/meminfo"));
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
}

/* Threads reserve and release against one ledger: the counters never pass
 * the limits, refusals happen, and everything is back at the end. */
#define THREADS 8
#define ROUNDS 20000

struct worker {
	struct hv_ledger *l;
	unsigned seed;
	int granted, refused;
};

static void *worker_fn(void *opaque)
{
	struct worker *w = opaque;

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t mem = (rand_r(&w->seed) % 64 + 1) * MiB;
		uint32_t cpus = (uint32_t)(rand_r(&w->seed) % 3);

		if (hv_ledger_reserve(w->l, mem, cpus) == 0) {
			w->granted++;
			if (hv_ledger_release(w->l, mem, cpus))
				return "release failed";
		} else {
			w->refused++;
			if (!strstr(hv_last_error(), "admission:"))
				return "refusal without a message";
		}
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct hv_ledger *l = make(256 * MiB, 4, 100, 200);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int granted = 0, refused = 0;
	struct hv_ledger_usage u;

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .l = l, .seed = (unsigned)i + 1 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	for (int i = 0; i < 200000; i++) {
		u = usage(l);
		assert_true(u.mem_used <= u.mem_limit);
		assert_true(u.cpu_used <= u.cpu_limit);
	}
	for (int i = 0; i < THREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		if (ret)
			fail_msg("worker %d: %s", i, (const char *)ret);
		granted += w[i].granted;
		refused += w[i].refused;
	}
	assert_int_equal(granted + refused, THREADS * ROUNDS);
	assert_true(granted > 0);
	u = usage(l);
	assert_int_equal(u.mem_used, 0);
	assert_int_equal(u.cpu_used, 0);
	assert_int_equal(hv_ledger_destroy(l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_and_ratios),
		cmocka_unit_test(test_refusal_messages),
		cmocka_unit_test(test_release_and_destroy),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_host_capacity),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_host_cgroup),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
