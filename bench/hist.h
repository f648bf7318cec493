/* SPDX-License-Identifier: MIT */
/* A latency histogram in the manner of HdrHistogram: values in
 * nanoseconds, exact below 128 ns, then 64 buckets per power of two, so
 * every reported percentile is within 1.6% of the true value whatever
 * the spread. Fixed size (no allocation), so each client thread keeps its
 * own and they are merged at the end. */
#ifndef XSELL_BENCH_HIST_H
#define XSELL_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB_BITS 6
#define BENCH_HIST_OCTAVES 40 /* up to 2^46 ns, about 19 hours */
#define BENCH_HIST_BUCKETS             \
	((2u << BENCH_HIST_SUB_BITS) + \
	    BENCH_HIST_OCTAVES * (1u << BENCH_HIST_SUB_BITS))

struct bench_hist {
	uint64_t n;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t b[BENCH_HIST_BUCKETS];
};

/* Record one value; values past the last bucket land in it. */
void bench_hist_add(struct bench_hist *h, uint64_t ns);
/* Add every value of 'src' to 'dst'. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
/* The value at quantile q (0..1]: the midpoint of the bucket holding the
 * ceil(q * n)-th smallest value, never above the exact max. 0 if empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

#endif /* XSELL_BENCH_HIST_H */
