/* SPDX-License-Identifier: MIT */
/* Log-linear latency buckets; see hist.h. */
#include "hist.h"

#define SUB (1u << BENCH_HIST_SUB_BITS)

static unsigned
bucket_of(uint64_t v)
{
	unsigned msb, shift, idx;

	if (v < 2 * SUB) {
		return (unsigned) v;
	}
	msb   = 63u - (unsigned) __builtin_clzll(v);
	shift = msb - BENCH_HIST_SUB_BITS; /* >= 1 */
	idx   = 2 * SUB + (shift - 1) * SUB + (unsigned) ((v >> shift) - SUB);
	return idx < BENCH_HIST_BUCKETS ? idx : BENCH_HIST_BUCKETS - 1;
}

/* The midpoint of bucket 'idx'. */
static uint64_t
bucket_mid(unsigned idx)
{
	unsigned shift;
	uint64_t low;

	if (idx < 2 * SUB) {
		return idx;
	}
	shift = (idx - 2 * SUB) / SUB + 1;
	low   = (uint64_t) (SUB + (idx - 2 * SUB) % SUB) << shift;
	return low + ((uint64_t) 1 << shift) / 2;
}

void
bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->n++;
	h->sum_ns += ns;
	if (ns > h->max_ns) {
		h->max_ns = ns;
	}
}

void
bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		dst->b[i] += src->b[i];
	}
	dst->n += src->n;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns) {
		dst->max_ns = src->max_ns;
	}
}

uint64_t
bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, seen = 0;
	double   x;

	if (h->n == 0) {
		return 0;
	}
	/* ceil(q n), with q n = 90.000000000000014 for 0.9 * 100 taken as
	 * the 90 it means. */
	x    = q * (double) h->n - 1e-9;
	rank = (uint64_t) x;
	if ((double) rank < x) {
		rank++;
	}
	if (rank == 0) {
		rank = 1;
	}
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t mid = bucket_mid(i);

			return mid < h->max_ns ? mid : h->max_ns;
		}
	}
	return h->max_ns;
}
