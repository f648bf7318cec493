/* SPDX-License-Identifier: MIT */
/* Scorers against numbers worked out independently: the arules Groceries
 * rule {herbs} => {root vegetables} (N_ab 69, N_a 160, N_b 1072, N 9835;
 * confidence and lift as published), and LLR computed as the G-test
 * 2 * sum(O ln(O/E)) over the 2x2 table, which Dunning's ratio equals. */
#include "support.h"

#include <math.h>
#include <string.h>

#include "model/model.h"

static const struct xs_pair_stats herbs_root = { 69, 160, 1072, 9835 };

static double
score(enum xs_scorer s, const struct xs_pair_stats *ps)
{
	return xs_score(s, ps);
}

static void
test_score_confidence_matches_arules(void **state)
{
	(void) state;
	assert_float_equal(
	    score(XS_SCORE_CONFIDENCE, &herbs_root), 0.43125, 1e-9);
}

static void
test_score_lift_matches_arules(void **state)
{
	(void) state;
	assert_float_equal(score(XS_SCORE_LIFT, &herbs_root), 3.956477, 1e-6);
}

static void
test_score_count_cosine_jaccard(void **state)
{
	(void) state;
	assert_float_equal(score(XS_SCORE_COUNT, &herbs_root), 69, 0);
	/* 69 / sqrt(160 * 1072) */
	assert_float_equal(
	    score(XS_SCORE_COSINE, &herbs_root), 0.1666064101273489, 1e-12);
	/* 69 / (160 + 1072 - 69) = 69 / 1163 */
	assert_float_equal(
	    score(XS_SCORE_JACCARD, &herbs_root), 0.05932932072226999, 1e-12);
}

static void
test_score_llr_equals_g_test(void **state)
{
	struct xs_pair_stats small = { 2, 3, 3, 5 };

	(void) state;
	assert_float_equal(
	    score(XS_SCORE_LLR, &herbs_root), 110.96893575771904, 1e-6);
	assert_float_equal(
	    score(XS_SCORE_LLR, &small), 0.13844293808390656, 1e-9);
}

static void
test_score_amazon_observed_minus_expected(void **state)
{
	struct xs_pair_stats independent = { 4, 20, 10, 50 };

	(void) state;
	/* E = 160 * 1072 / 9835 = 17.43984; (69 - E) / sqrt(E) */
	assert_float_equal(
	    score(XS_SCORE_AMAZON, &herbs_root), 12.346525628938146, 1e-9);
	/* Bought exactly as often as chance predicts: 0. */
	assert_float_equal(score(XS_SCORE_AMAZON, &independent), 0, 1e-12);
}

/* tempered = confidence x sqrt(lift), by hand:
 * {N_ab 1, N_a 4, N_b 1, N 16}: 1/4 x sqrt(1 x 16 / (4 x 1)) = 1/4 x 2;
 * {2, 4, 2, 8}: 2/4 x sqrt(2 x 8 / (4 x 2)) = sqrt(2) / 2;
 * {3, 4, 4, 5}: 3/4 x sqrt(15/16) = 3 sqrt(15) / 16, below confidence
 * (lift under 1). With one given item it ranks as N_ab sqrt(N_ab / N_b):
 * {4, 10, 16, 100} (0.4 x sqrt(2.5)) and {2, 10, 2, 100} (0.2 x sqrt(10))
 * tie, since 4 x sqrt(4/16) = 2 = 2 x sqrt(2/2), where confidence puts
 * the popular b first; {3, 10, 3, 100} (3 x sqrt(1) = 3) beats both. */
static void
test_score_tempered_is_confidence_times_root_lift(void **state)
{
	struct xs_pair_stats rare = { 1, 4, 1, 16 }, half = { 2, 4, 2, 8 };
	struct xs_pair_stats under   = { 3, 4, 4, 5 };
	struct xs_pair_stats popular = { 4, 10, 16, 100 };
	struct xs_pair_stats tied    = { 2, 10, 2, 100 },
	                     ahead   = { 3, 10, 3, 100 };

	(void) state;
	assert_float_equal(score(XS_SCORE_TEMPERED, &rare), 0.5, 1e-15);
	assert_float_equal(
	    score(XS_SCORE_TEMPERED, &half), 0.7071067811865476, 1e-15);
	assert_float_equal(
	    score(XS_SCORE_TEMPERED, &under), 0.7261843774138907, 1e-15);
	assert_float_equal(score(XS_SCORE_TEMPERED, &popular),
	    score(XS_SCORE_TEMPERED, &tied), 1e-15);
	assert_true(score(XS_SCORE_TEMPERED, &ahead) >
	    score(XS_SCORE_TEMPERED, &tied));
	/* A zero N_b (a broken table) scores 0, not infinity. */
	assert_float_equal(
	    score(XS_SCORE_TEMPERED, &(struct xs_pair_stats) { 1, 4, 0, 16 }),
	    0, 0);
}

static void
test_score_degenerate_tables_are_zero(void **state)
{
	struct xs_pair_stats empty = { 0, 0, 0, 0 };

	(void) state;
	for (int s = 0; s < XS_SCORER_COUNT; s++) {
		assert_float_equal(score((enum xs_scorer) s, &empty), 0, 0);
	}
}

/* xs_score_growth_max bounds what more orders do to a pair whose
 * co-count and first item's N stay: for random tables, N growing by d
 * and N_b by at most d, the new score is at most the old times the
 * factor, for every scorer with one, and the bound is reached (N alone
 * growing) under lift and tempered; llr and amazon have none, nor does
 * a fall of N. */
static void
test_score_growth_max_bounds_later_scores(void **state)
{
	unsigned rnd = 5;

	(void) state;
	for (int round = 0; round < 20000; round++) {
		enum xs_scorer s  = (enum xs_scorer)(round % XS_SCORER_COUNT);
		double         ab = 1 + rand_r(&rnd) % 50;
		double         a  = ab + rand_r(&rnd) % 200;
		double         b  = ab + rand_r(&rnd) % 200;
		double         n  = a + b + rand_r(&rnd) % 1000;
		double         d  = rand_r(&rnd) % 3000;
		double         db =
                    rand_r(&rnd) % 2 ? 0 : rand_r(&rnd) % (1 + (int) d);
		struct xs_pair_stats was = { ab, a, b, n };
		struct xs_pair_stats now = { ab, a, b + db, n + d };
		double               g   = xs_score_growth_max(s, n, n + d);

		if (s == XS_SCORE_LLR || s == XS_SCORE_AMAZON) {
			assert_true(isnan(g));
			continue;
		}
		assert_true(g >= 1);
		assert_true(
		    xs_score(s, &now) <= xs_score(s, &was) * g * (1 + 1e-12));
		if (db == 0 &&
		    (s == XS_SCORE_LIFT || s == XS_SCORE_TEMPERED)) {
			assert_true(
			    fabs(xs_score(s, &now) - xs_score(s, &was) * g) <=
			    1e-12 * xs_score(s, &now));
		}
	}
	assert_true(isnan(xs_score_growth_max(XS_SCORE_TEMPERED, 10, 9)));
	assert_true(isnan(xs_score_growth_max(XS_SCORE_COUNT, 0, 9)));
}

static void
test_score_names_round_trip(void **state)
{
	enum xs_scorer s;

	(void) state;
	for (int i = 0; i < XS_SCORER_COUNT; i++) {
		const char *name = xs_scorer_name((enum xs_scorer) i);

		assert_true(xs_scorer_parse(name, strlen(name), &s));
		assert_int_equal(s, i);
	}
	assert_false(xs_scorer_parse("lif", 3, &s));
	assert_false(xs_scorer_parse("lifts", 5, &s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score_confidence_matches_arules),
		cmocka_unit_test(test_score_lift_matches_arules),
		cmocka_unit_test(test_score_count_cosine_jaccard),
		cmocka_unit_test(test_score_llr_equals_g_test),
		cmocka_unit_test(test_score_amazon_observed_minus_expected),
		cmocka_unit_test(
		    test_score_tempered_is_confidence_times_root_lift),
		cmocka_unit_test(test_score_degenerate_tables_are_zero),
		cmocka_unit_test(test_score_growth_max_bounds_later_scores),
		cmocka_unit_test(test_score_names_round_trip),
	};

	return cmocka_run_group_tests_name("score", tests, NULL, NULL);
}
