/* SPDX-License-Identifier: MIT */
/* xsell-bench's latency histogram: exact below 128 ns, then buckets of
 * 1/64 of a power of two, answered by their midpoint and never above
 * the exact max. Expected values are worked out by hand below. */
#include "support.h"

#include <string.h>

#include "hist.h" /* bench/ */

static struct bench_hist h, g;

static void
test_hist_exact_small_values(void **state)
{
	(void) state;
	memset(&h, 0, sizeof(h));
	/* 100 .. 1 once each: the q-quantile is the ceil(100 q)-th
	 * smallest value, which is the value itself. */
	for (uint64_t v = 100; v >= 1; v--) {
		bench_hist_add(&h, v);
	}
	assert_int_equal(h.n, 100);
	assert_int_equal(h.max_ns, 100);
	assert_int_equal(h.sum_ns, 5050);
	assert_int_equal(bench_hist_quantile(&h, 0.50), 50);
	assert_int_equal(bench_hist_quantile(&h, 0.90), 90);
	assert_int_equal(bench_hist_quantile(&h, 0.99), 99);
	assert_int_equal(bench_hist_quantile(&h, 0.999), 100);
	assert_int_equal(bench_hist_quantile(&h, 0.001), 1);
}

static void
test_hist_log_buckets(void **state)
{
	(void) state;
	memset(&h, 0, sizeof(h));
	/* 1000 = 125 << 3: its bucket is [1000, 1008), midpoint 1004.
	 * 5000 = 0b1001110001000, top bit 12, shift 6: 5000 >> 6 = 78,
	 * bucket [4992, 5056), midpoint 5024, above the max 5000, so the
	 * max is answered. */
	bench_hist_add(&h, 1000);
	bench_hist_add(&h, 5000);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 1004);
	assert_int_equal(bench_hist_quantile(&h, 0.99), 5000);
	/* 1007 shares 1000's bucket; 1008 is the next one, [1008, 1016). */
	bench_hist_add(&h, 1007);
	bench_hist_add(&h, 1008);
	/* sorted: 1000 1007 1008 5000; rank 2 -> 1004, rank 3 -> 1012 */
	assert_int_equal(bench_hist_quantile(&h, 0.5), 1004);
	assert_int_equal(bench_hist_quantile(&h, 0.75), 1012);
}

static void
test_hist_merge_and_empty(void **state)
{
	(void) state;
	memset(&h, 0, sizeof(h));
	memset(&g, 0, sizeof(g));
	assert_int_equal(bench_hist_quantile(&h, 0.5), 0);
	bench_hist_add(&h, 10);
	bench_hist_add(&g, 20);
	bench_hist_add(&g, 30);
	/* A value past the last bucket is kept there, the max exact. */
	bench_hist_add(&g, (uint64_t) 1 << 60);
	bench_hist_merge(&h, &g);
	assert_int_equal(h.n, 4);
	assert_int_equal(h.max_ns, (uint64_t) 1 << 60);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 20);
	assert_int_equal(bench_hist_quantile(&h, 0.75), 30);
	assert_true(bench_hist_quantile(&h, 1.0) <= (uint64_t) 1 << 60);
	assert_true(bench_hist_quantile(&h, 1.0) > (uint64_t) 1 << 45);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_exact_small_values),
		cmocka_unit_test(test_hist_log_buckets),
		cmocka_unit_test(test_hist_merge_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
