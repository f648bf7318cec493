/* SPDX-License-Identifier: MIT */
/* The arules "Groceries" baskets (Hahsler, Hornik, Reutterer 2006),
 * loaded through the src/load API, must give the pair rules arules
 * publishes: confidence N_ab/N_a and lift N_ab*N/(N_a*N_b) to the sixth
 * decimal, and the same counts. Skipped (77) when the dataset is not on
 * this machine. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"
#include "model/model.h"
#include "store/store.h"

static char *data_path;

struct fixture {
	char     *dir;
	xs_store *st;
};

/* Load the file into 'st' in chunks as 'opts' says (NULL: defaults). */
static void
load_with(xs_store *st, const struct xs_load_apply_opts *opts,
    struct xs_load_apply_result *res)
{
	struct xs_load_counts fc;
	xs_loader            *l;
	char                  err[400];

	assert_xs_ok(xs_loader_alloc(&l));
	assert_xs_ok(xs_loader_read(l, data_path, NULL, XS_LOAD_BASKETS, NULL,
	    0, &fc, err, sizeof(err)));
	assert_int_equal(fc.records, 9835);
	assert_int_equal(fc.lines, 9835);
	assert_int_equal(fc.rejected, 0);
	assert_int_equal(xs_loader_n_orders(l), 9835);
	assert_int_equal(xs_loader_n_items(l), 169);
	assert_xs_ok(xs_loader_apply(l, st, opts, res));
	xs_loader_free(l);
}

static void
load(xs_store *st, struct xs_load_apply_result *res)
{
	load_with(st, NULL, res);
}

static int
setup(void **state)
{
	struct fixture             *f = calloc(1, sizeof(*f));
	struct xs_load_apply_result res;

	f->st = xs_test_store_open(&f->dir);
	load(f->st, &res);
	assert_int_equal(res.orders, 9835);
	assert_int_equal(res.duplicates, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	xs_test_store_close(f->st, f->dir);
	free(f);
	return 0;
}

/* fbt of 'a' under 'scorer': the score and count of 'b' in the answer. */
static void
rule(xs_store *st, const char *a, const char *b, enum xs_scorer scorer,
    double *scorep, uint64_t *countp)
{
	struct xs_span     item = xs_test_span(a);
	struct xs_query    q    = { 0 };
	struct xs_answer   ans;
	struct xs_settings set;
	struct xs_arena    arena;
	MDB_txn           *txn;
	bool               found = false;

	xs_settings_default(&set);
	q.items           = &item;
	q.n_items         = 1;
	q.k               = 500;
	q.scorer          = scorer;
	q.explain         = true;
	q.filter.in_stock = true;
	xs_arena_init(&arena, 64u << 20);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_model_fbt(st, txn, &set, &q, &arena, &ans));
	assert_int_equal(ans.n_unknown, 0);
	for (uint32_t i = 0; i < ans.n; i++) {
		if (ans.recs[i].ext_len == strlen(b) &&
		    memcmp(ans.recs[i].ext, b, strlen(b)) == 0) {
			*scorep = ans.recs[i].score;
			*countp = ans.recs[i].count;
			found   = true;
		}
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
	if (!found) {
		fail_msg("{%s} => {%s} not in the answer", a, b);
	}
}

static void
assert_close(double got, double want)
{
	if (fabs(got - want) > 1e-6) {
		fail_msg("got %.9f, want %.9f", got, want);
	}
}

/* The rule {a} => {b} under 'scorer' has arules' score and count. */
static void
assert_rule(xs_store *st, const char *a, const char *b, enum xs_scorer scorer,
    double want_score, uint64_t want_count)
{
	double   score;
	uint64_t count;

	rule(st, a, b, scorer, &score, &count);
	assert_close(score, want_score);
	assert_int_equal(count, want_count);
}

static void
test_groceries_herbs_root_vegetables(void **state)
{
	struct fixture *f = *state;

	/* arules: {herbs} => {root vegetables}: confidence 0.43125 (69 of
	 * 160 baskets with herbs), lift 3.956477, count 69. */
	assert_rule(f->st, "herbs", "root vegetables", XS_SCORE_CONFIDENCE,
	    0.43125, 69);
	assert_rule(
	    f->st, "herbs", "root vegetables", XS_SCORE_LIFT, 3.956477, 69);
}

static void
test_groceries_other_vegetables_whole_milk(void **state)
{
	struct fixture *f = *state;

	/* arules: confidence 0.3867578 (736 / 1,903), count 736. */
	assert_rule(f->st, "other vegetables", "whole milk",
	    XS_SCORE_CONFIDENCE, 0.3867578, 736);
}

static void
test_groceries_berries_whipped_cream(void **state)
{
	struct fixture *f = *state;

	/* arules: lift 3.796886, count 89. */
	assert_rule(f->st, "berries", "whipped/sour cream", XS_SCORE_LIFT,
	    3.796886, 89);
}

static void
test_groceries_totals_and_reload(void **state)
{
	struct fixture             *f = *state;
	struct xs_load_apply_result res;
	struct xs_totals            tot;
	char                       *before;
	MDB_txn                    *txn;
	uint32_t                    n_items;

	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_xs_ok(xs_store_totals_get(f->st, txn, &tot));
	assert_xs_ok(xs_store_dict_size(f->st, txn, XS_DICT_ITEM, &n_items));
	xs_txn_abort(txn);
	assert_int_equal(tot.baskets, 9835);
	assert_int_equal(tot.orders, 9835);
	assert_int_equal(n_items, 169);
	/* arules itemFrequency: whole milk 2,513, other vegetables 1,903,
	 * rolls/buns 1,809; "cream cheese " keeps its trailing space. */
	assert_int_equal(
	    xs_test_item_count(f->st, "whole milk", XS_C_BASKETS), 2513);
	assert_int_equal(
	    xs_test_item_count(f->st, "other vegetables", XS_C_BASKETS), 1903);
	assert_int_equal(
	    xs_test_item_count(f->st, "rolls/buns", XS_C_BASKETS), 1809);
	assert_true(
	    xs_test_item_count(f->st, "cream cheese ", XS_C_BASKETS) > 0);

	/* The same file again: every order a duplicate, no count moves. */
	before = xs_test_dump(f->st);
	load(f->st, &res);
	assert_int_equal(res.orders, 0);
	assert_int_equal(res.duplicates, 9835);
	xs_test_assert_unchanged(f->st, before);
}

static void
test_groceries_chunks_do_not_change_the_store(void **state)
{
	struct fixture             *f    = *state;
	struct xs_load_apply_opts   opts = { 0 };
	struct xs_load_apply_result res;
	xs_store                   *st;
	char                       *dir;

	/* The same file in transactions of 64 orders (9,835 / 64: at least
	 * 154 commits; the clock may end some earlier) gives byte for byte
	 * the store the default load gave (into a fresh store: one
	 * transaction, the bulk build). */
	opts.chunk_orders = 64;
	opts.incremental  = true;
	st                = xs_test_store_open(&dir);
	load_with(st, &opts, &res);
	assert_int_equal(res.orders, 9835);
	assert_true(res.commits >= 154);
	xs_test_assert_same_store(f->st, st);
	xs_test_store_close(st, dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groceries_herbs_root_vegetables),
		cmocka_unit_test(test_groceries_other_vegetables_whole_milk),
		cmocka_unit_test(test_groceries_berries_whipped_cream),
		cmocka_unit_test(test_groceries_totals_and_reload),
		cmocka_unit_test(
		    test_groceries_chunks_do_not_change_the_store),
	};
	int rc;

	data_path = xs_test_data_path("groceries/groceries.csv");
	if (data_path == NULL) {
		return XS_TEST_SKIP;
	}
	rc = cmocka_run_group_tests_name("groceries", tests, setup, teardown);
	free(data_path);
	return rc;
}
