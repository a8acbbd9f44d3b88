/* SPDX-License-Identifier: MIT */
/* Log rate limiting (util/ratelimit.h): fixed intervals, counted per source. */
#include <time.h>

#include "util/ratelimit.h"

void hv_ratelimit_init(struct hv_ratelimit *rl, uint32_t burst, uint64_t interval_ns)
{
	*rl = (struct hv_ratelimit){ .interval_ns = interval_ns, .burst = burst };
	pthread_mutex_init(&rl->lock, NULL); /* default attributes: cannot fail on Linux */
}

void hv_ratelimit_fini(struct hv_ratelimit *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

bool hv_ratelimit_allow(struct hv_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed)
{
	bool ok;

	*suppressed = 0;
	pthread_mutex_lock(&rl->lock);
	/* A new interval: a clock that went backwards starts one too. */
	if (!rl->started || now_ns < rl->start_ns || now_ns - rl->start_ns >= rl->interval_ns) {
		rl->started = true;
		rl->start_ns = now_ns;
		rl->passed = 0;
	}
	ok = rl->passed < rl->burst;
	if (ok) {
		rl->passed++;
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

uint64_t hv_ratelimit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
