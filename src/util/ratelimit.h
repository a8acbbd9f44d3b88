/* SPDX-License-Identifier: MIT */
/*
 * Log rate limiting: at most `burst` lines per `interval` for one source
 * (one device, one vCPU), then silence until the interval ends; the first
 * line let through after that is preceded by one "K messages suppressed"
 * line.  Everything the guest can make the VMM log goes through one of
 * these, so a guest repeating a mistake cannot flood the embedder's log.
 * Thread-safe: lines may come from vCPU threads and I/O threads at once.
 */
#ifndef HV_UTIL_RATELIMIT_H
#define HV_UTIL_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Linux's printk_ratelimit() default: enough lines to show what the
 * guest did wrong, few enough that a loop costs the log nothing. */
#define HV_RATELIMIT_BURST 10u
#define HV_RATELIMIT_INTERVAL_NS (5ull * 1000000000ull)

struct hv_ratelimit {
	pthread_mutex_t lock;     /* everything below */
	uint64_t interval_ns;
	uint32_t burst;
	bool started;             /* start_ns means something */
	uint64_t start_ns;        /* when the current interval began */
	uint32_t passed;          /* lines let through in it */
	uint64_t suppressed;      /* lines dropped since the last one let through */
};

void hv_ratelimit_init(struct hv_ratelimit *rl, uint32_t burst, uint64_t interval_ns);
void hv_ratelimit_fini(struct hv_ratelimit *rl);

/*
 * May one more line go out at now_ns (CLOCK_MONOTONIC)?  On true,
 * *suppressed is how many were dropped before it (0: none), for the caller
 * to announce first; on false the line is counted as dropped.
 */
bool hv_ratelimit_allow(struct hv_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hv_ratelimit_now(void);

#endif /* HV_UTIL_RATELIMIT_H */
