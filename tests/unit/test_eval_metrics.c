/* SPDX-License-Identifier: MIT */
/* Ranking metrics on lists whose numbers are worked out by hand here.
 * log2(2) = 1, log2(3) = 1.5849625, log2(4) = 2, log2(5) = 2.3219281. */
#include "support.h"

#include "eval/eval.h"

#define EPS 1e-6

static void
test_metrics_hit_at_first_rank(void **state)
{
	uint32_t              recs[] = { 7, 3, 5 }, rel[] = { 7 };
	struct xs_eval_qscore s;

	(void) state;
	xs_eval_score(recs, 3, 10, rel, 1, &s);
	assert_float_equal(s.hit, 1.0, EPS);
	assert_float_equal(s.precision, 0.1, EPS); /* 1 of K = 10 */
	assert_float_equal(s.recall, 1.0, EPS);
	assert_float_equal(s.ndcg, 1.0, EPS);
	assert_float_equal(s.rr, 1.0, EPS);
}

/* Relevant {5, 9}: 5 at rank 3, 9 never recommendable. K = 4.
 * DCG = 1/log2(4) = 0.5; ideal = 1 + 1/log2(3) = 1.6309298;
 * NDCG = 0.3065736; recall 1/2; precision 1/4; RR 1/3. */
static void
test_metrics_unreachable_item_counts_in_recall(void **state)
{
	uint32_t              recs[] = { 1, 2, 5, 6 }, rel[] = { 5, 9 };
	struct xs_eval_qscore s;

	(void) state;
	xs_eval_score(recs, 4, 4, rel, 2, &s);
	assert_float_equal(s.hit, 1.0, EPS);
	assert_float_equal(s.precision, 0.25, EPS);
	assert_float_equal(s.recall, 0.5, EPS);
	assert_float_equal(s.ndcg, 0.3065736, EPS);
	assert_float_equal(s.rr, 1.0 / 3.0, EPS);
}

/* Two relevant items both found, at ranks 2 and 4, K = 5:
 * DCG = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064;
 * ideal = 1 + 0.6309298 = 1.6309298; NDCG = 0.6509209. */
static void
test_metrics_two_hits(void **state)
{
	uint32_t              recs[] = { 4, 8, 1, 2, 3 }, rel[] = { 2, 8 };
	struct xs_eval_qscore s;

	(void) state;
	xs_eval_score(recs, 5, 5, rel, 2, &s);
	assert_float_equal(s.hit, 1.0, EPS);
	assert_float_equal(s.precision, 0.4, EPS);
	assert_float_equal(s.recall, 1.0, EPS);
	assert_float_equal(s.ndcg, 0.6509209, EPS);
	assert_float_equal(s.rr, 0.5, EPS);
}

/* Only the first K count: the relevant item at rank 3 with K = 2 is a
 * miss; a short or empty list is a miss too. */
static void
test_metrics_cut_at_k_and_empty(void **state)
{
	uint32_t              recs[] = { 1, 2, 3 }, rel[] = { 3 };
	struct xs_eval_qscore s;

	(void) state;
	xs_eval_score(recs, 3, 2, rel, 1, &s);
	assert_float_equal(s.hit, 0.0, EPS);
	assert_float_equal(s.precision, 0.0, EPS);
	assert_float_equal(s.recall, 0.0, EPS);
	assert_float_equal(s.ndcg, 0.0, EPS);
	assert_float_equal(s.rr, 0.0, EPS);
	xs_eval_score(NULL, 0, 10, rel, 1, &s);
	assert_float_equal(s.hit, 0.0, EPS);
	assert_float_equal(s.ndcg, 0.0, EPS);
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
	};

	return cmocka_run_group_tests_name("eval_metrics", tests, NULL, NULL);
}
