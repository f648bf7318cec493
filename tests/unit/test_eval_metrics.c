/* SPDX-License-Identifier: MIT */
/* Ranking metrics on lists whose numbers are worked out by hand here.
 * log2(2) = 1, log2(3) = 1.5849625, log2(4) = 2, log2(5) = 2.3219281. */
#include "support.h"

#include <string.h>

#include "eval/eval.h"

#define EPS 1e-6

/* One query: the list, K, the relevant items, and the five figures
 * worked out by hand. */
struct query_case {
	uint32_t recs[5];
	size_t   n_recs;
	size_t   k;
	uint32_t rel[2];
	size_t   n_rel;
	double   hit, precision, recall, ndcg, rr;
};

static void
check_query(const struct query_case *c)
{
	struct xs_eval_qscore s;

	xs_eval_score(c->n_recs > 0 ? c->recs : NULL, c->n_recs, c->k, c->rel,
	    c->n_rel, &s);
	assert_float_equal(s.hit, c->hit, EPS);
	assert_float_equal(s.precision, c->precision, EPS);
	assert_float_equal(s.recall, c->recall, EPS);
	assert_float_equal(s.ndcg, c->ndcg, EPS);
	assert_float_equal(s.rr, c->rr, EPS);
}

/* Precision is 1 of K = 10. */
static void
test_metrics_hit_at_first_rank(void **state)
{
	static const struct query_case c = { { 7, 3, 5 }, 3, 10, { 7 }, 1, 1.0,
		0.1, 1.0, 1.0, 1.0 };

	(void) state;
	check_query(&c);
}

/* Relevant {5, 9}: 5 at rank 3, 9 never recommendable. K = 4.
 * DCG = 1/log2(4) = 0.5; ideal = 1 + 1/log2(3) = 1.6309298;
 * NDCG = 0.3065736; recall 1/2; precision 1/4; RR 1/3. */
static void
test_metrics_unreachable_item_counts_in_recall(void **state)
{
	static const struct query_case c = { { 1, 2, 5, 6 }, 4, 4, { 5, 9 }, 2,
		1.0, 0.25, 0.5, 0.3065736, 1.0 / 3.0 };

	(void) state;
	check_query(&c);
}

/* Two relevant items both found, at ranks 2 and 4, K = 5:
 * DCG = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064;
 * ideal = 1 + 0.6309298 = 1.6309298; NDCG = 0.6509209. */
static void
test_metrics_two_hits(void **state)
{
	static const struct query_case c = { { 4, 8, 1, 2, 3 }, 5, 5, { 2, 8 },
		2, 1.0, 0.4, 1.0, 0.6509209, 0.5 };

	(void) state;
	check_query(&c);
}

/* Only the first K count: the relevant item at rank 3 with K = 2 is a
 * miss; a short or empty list is a miss too. */
static void
test_metrics_cut_at_k_and_empty(void **state)
{
	static const struct query_case cut = { { 1, 2, 3 }, 3, 2, { 3 }, 1, 0,
		0, 0, 0, 0 };
	static const struct query_case empty = { { 0 }, 0, 10, { 3 }, 1, 0, 0,
		0, 0, 0 };

	(void) state;
	check_query(&cut);
	check_query(&empty);
}

/* 20 queries: 8 hit by the row only (wins), 2 by the reference only
 * (losses), 4 by both, 6 by neither. diff = (8 - 2) / 20 = 0.3; the
 * variance of the mean difference ((8 + 2)/20 - 0.09) / 20 = 0.0205,
 * sqrt 0.1431782, times 1.96 = 0.2806293: [0.0193707, 0.5806293].
 * McNemar: 10 discordant, the smaller side 2: P(X <= 2) for X ~ Bin(10,
 * 1/2) = (1 + 10 + 45) / 1024 = 0.0546875, two-sided 0.109375. */
static void
test_metrics_paired_hand_worked(void **state)
{
	uint8_t               hit[20], ref[20];
	struct xs_eval_paired p;

	(void) state;
	for (int i = 0; i < 20; i++) {
		hit[i] = i < 8 || (i >= 10 && i < 14); /* wins, then both */
		ref[i] = i >= 8 && i < 14;             /* losses, then both */
	}
	xs_eval_paired_compare(hit, ref, 20, &p);
	assert_int_equal(p.n, 20);
	assert_int_equal(p.wins, 8);
	assert_int_equal(p.losses, 2);
	assert_float_equal(p.diff, 0.3, 1e-12);
	assert_float_equal(p.lo, 0.0193707, EPS);
	assert_float_equal(p.hi, 0.5806293, EPS);
	assert_float_equal(p.p, 0.109375, 1e-12);
	/* The other way round: the same p, the interval mirrored. */
	xs_eval_paired_compare(ref, hit, 20, &p);
	assert_int_equal(p.wins, 2);
	assert_float_equal(p.diff, -0.3, 1e-12);
	assert_float_equal(p.lo, -0.5806293, EPS);
	assert_float_equal(p.p, 0.109375, 1e-12);
}

/* No query differs: diff 0, a zero-width interval, p 1. One query hit
 * only by the row: p = 2 x P(X <= 0), X ~ Bin(1, 1/2) = 1. 1,200 queries
 * all lost: diff -1 with no spread, p = 2^-1199 (below a double's
 * smallest normal, so about 0: no overflow, no NaN). No query at all:
 * zeros and p 1. */
static void
test_metrics_paired_edges(void **state)
{
	static uint8_t        ones[1200], zeros[1200];
	struct xs_eval_paired p;

	(void) state;
	memset(ones, 1, sizeof(ones));
	xs_eval_paired_compare(ones, ones, 5, &p);
	assert_float_equal(p.diff, 0, 0);
	assert_float_equal(p.lo, 0, 0);
	assert_float_equal(p.hi, 0, 0);
	assert_float_equal(p.p, 1, 0);
	xs_eval_paired_compare(ones, zeros, 1, &p);
	assert_int_equal(p.wins, 1);
	assert_float_equal(p.p, 1, 0);
	xs_eval_paired_compare(zeros, ones, 1200, &p);
	assert_int_equal(p.losses, 1200);
	assert_float_equal(p.diff, -1, 0);
	assert_float_equal(p.lo, -1, 1e-12);
	assert_float_equal(p.hi, -1, 1e-12);
	assert_true(p.p >= 0 && p.p < 1e-300);
	xs_eval_paired_compare(ones, zeros, 0, &p);
	assert_int_equal(p.n, 0);
	assert_float_equal(p.diff, 0, 0);
	assert_float_equal(p.p, 1, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_hit_at_first_rank),
		cmocka_unit_test(
		    test_metrics_unreachable_item_counts_in_recall),
		cmocka_unit_test(test_metrics_two_hits),
		cmocka_unit_test(test_metrics_cut_at_k_and_empty),
		cmocka_unit_test(test_metrics_paired_hand_worked),
		cmocka_unit_test(test_metrics_paired_edges),
	};

	return cmocka_run_group_tests_name("eval_metrics", tests, NULL, NULL);
}
