/* SPDX-License-Identifier: MIT */
/* Wall and monotonic clocks. */
#include "common/common.h"

#include <time.h>

int64_t
xs_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec;
}

uint64_t
xs_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}
