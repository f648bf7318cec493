/* SPDX-License-Identifier: MIT */
/* "Frequently bought with" on a hand-made history whose answers are
 * worked out here by hand:
 *
 *   o1 {A,B}  o2 {A,B,C}  o3 {A,C}  o4 {B,D}  o5 {A,B,E}     N = 5
 *   N_A 4, N_B 4, N_C 2, N_D 1, N_E 1
 *   with A: N_AB 3, N_AC 2, N_AE 1 (D never)
 *   with B: N_BA 3, N_BC 1, N_BD 1, N_BE 1 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "store/store.h"

static const char *const history = "o1::A,B;o2::A,B,C;o3::A,C;o4::B,D;"
                                   "o5::A,B,E";

/* A store holding the history above. */
static int
setup(void **state)
{
	struct xs_test_store *f;

	xs_test_store_setup(state);
	f = *state;
	xs_test_orders(f->st, NULL, history, NULL);
	return 0;
}

struct ask {
	const char    *items[4];
	enum xs_scorer scorer;
	unsigned       k;
	unsigned       min_support;
	bool           all_stock;
	const char    *exclude[2];
};

/* Run fbt in txn and render the answer as "B=3 C=2 | unknown:1", each
 * score with 'digits' significant digits. */
static void
fbt_in(xs_store *st, MDB_txn *txn, const struct ask *a, int digits, char *out,
    size_t out_len)
{
	struct xs_span     items[4], exclude[2];
	struct xs_query    q = { 0 };
	struct xs_answer   ans;
	struct xs_settings set;
	struct xs_arena    arena;
	size_t             o = 0;

	q.n_items          = xs_test_spans(items, a->items, 4);
	q.filter.n_exclude = xs_test_spans(exclude, a->exclude, 2);
	q.items            = items;
	q.filter.exclude   = exclude;
	q.filter.in_stock  = !a->all_stock;
	q.k                = a->k ? a->k : 10;
	q.scorer           = a->scorer;
	q.min_support      = a->min_support;
	xs_settings_default(&set);
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_model_fbt(st, txn, &set, &q, &arena, &ans));
	out[0] = '\0';
	for (uint32_t i = 0; i < ans.n && o < out_len; i++) {
		o += (size_t) snprintf(out + o, out_len - o, "%s%.*s=%.*g",
		    i ? " " : "", (int) ans.recs[i].ext_len, ans.recs[i].ext,
		    digits, ans.recs[i].score);
	}
	for (uint32_t i = 0; i < ans.n_unknown && o < out_len; i++) {
		o += (size_t) snprintf(
		    out + o, out_len - o, " | unknown:%u", ans.unknown[i]);
	}
	xs_arena_fini(&arena);
}

/* fbt_in a read transaction of its own, to 6 digits. */
static void
fbt(xs_store *st, const struct ask *a, char *out, size_t out_len)
{
	MDB_txn *txn;

	assert_xs_ok(xs_txn_read(st, &txn));
	fbt_in(st, txn, a, 6, out, out_len);
	xs_txn_abort(txn);
}

static void
expect(xs_store *st, const struct ask *a, const char *want)
{
	char got[512];

	fbt(st, a, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
test_fbt_count_best_first(void **state)
{
	struct xs_test_store *f = *state;

	expect(f->st,
	    &(struct ask) { .items = { "A" }, .scorer = XS_SCORE_COUNT },
	    "B=3 C=2 E=1");
}

static void
test_fbt_confidence(void **state)
{
	struct xs_test_store *f = *state;

	/* 3/4, 2/4, 1/4 */
	expect(f->st,
	    &(struct ask) { .items = { "A" }, .scorer = XS_SCORE_CONFIDENCE },
	    "B=0.75 C=0.5 E=0.25");
}

static void
test_fbt_lift_ties_by_id(void **state)
{
	struct xs_test_store *f = *state;

	/* C: 2*5/(4*2) = 1.25, E: 1*5/(4*1) = 1.25 (tie: C < E),
	 * B: 3*5/(4*4) = 0.9375 */
	expect(f->st,
	    &(struct ask) { .items = { "A" }, .scorer = XS_SCORE_LIFT },
	    "C=1.25 E=1.25 B=0.9375");
}

static void
test_fbt_cart_sums_and_leaves_out_given(void **state)
{
	struct xs_test_store *f = *state;

	/* From A: C 2, E 1; from B: C 1, D 1, E 1 (A, B never returned). */
	expect(f->st,
	    &(struct ask) { .items = { "A", "B" }, .scorer = XS_SCORE_COUNT },
	    "C=3 E=2 D=1");
	/* The given items are a set: A twice is A once. */
	expect(f->st,
	    &(struct ask) { .items = { "A", "A" }, .scorer = XS_SCORE_COUNT },
	    "B=3 C=2 E=1");
}

static void
test_fbt_out_of_stock_left_out_unless_asked(void **state)
{
	struct xs_test_store *f  = *state;
	struct xs_item_update up = { 0 };
	MDB_txn              *txn;

	up.item         = (struct xs_span) { "E", 1 };
	up.has_in_stock = true;
	up.in_stock     = false;
	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_xs_ok(xs_model_items_upsert(f->st, txn, &up, 1, 100));
	assert_xs_ok(xs_txn_commit(txn));
	expect(f->st,
	    &(struct ask) { .items = { "A" }, .scorer = XS_SCORE_COUNT },
	    "B=3 C=2");
	expect(f->st,
	    &(struct ask) { .items = { "A" },
	        .scorer            = XS_SCORE_COUNT,
	        .all_stock         = true },
	    "B=3 C=2 E=1");
}

static void
test_fbt_exclude_k_and_min_support(void **state)
{
	struct xs_test_store *f = *state;

	expect(f->st,
	    &(struct ask) { .items = { "A" },
	        .scorer            = XS_SCORE_COUNT,
	        .exclude           = { "C" } },
	    "B=3 E=1");
	expect(f->st,
	    &(struct ask) {
	        .items = { "A" }, .scorer = XS_SCORE_COUNT, .k = 1 },
	    "B=3");
	expect(f->st,
	    &(struct ask) {
	        .items = { "A" }, .scorer = XS_SCORE_COUNT, .min_support = 2 },
	    "B=3 C=2");
}

static void
test_fbt_unknown_ids_listed(void **state)
{
	struct xs_test_store *f = *state;

	expect(f->st,
	    &(struct ask) { .items = { "Z", "A" }, .scorer = XS_SCORE_COUNT },
	    "B=3 C=2 E=1 | unknown:0");
	expect(f->st,
	    &(struct ask) { .items = { "Z" }, .scorer = XS_SCORE_COUNT },
	    " | unknown:0");
	/* D is known but was never bought with anything but B. */
	expect(f->st,
	    &(struct ask) { .items = { "D" }, .scorer = XS_SCORE_COUNT },
	    "B=1");
}

static void
test_fbt_ties_by_external_id_not_arrival(void **state)
{
	struct xs_test_store *f = *state;

	/* Z arrives (gets its number) before M; both co-occur once. */
	xs_test_orders(f->st, NULL, "t1::Q,Z;t2::Q,M", NULL);
	expect(f->st,
	    &(struct ask) { .items = { "Q" }, .scorer = XS_SCORE_COUNT },
	    "M=1 Z=1");
}

/* Items of the many-chunk catalogue below. */
#define WIDE_ITEMS 3000

/* A catalogue over a dozen counter chunks: X bought with each of
 * WIDE_ITEMS items, item K in 1 + K % 3 orders with X and K % 7 alone.
 * X's answer scores all of them, so it reads N_b across the chunks: in
 * a read transaction from one array of the counter for every item
 * (store.h, XS_COUNTS_DENSE_AFTER), in a write transaction (which keeps
 * no memos) chunk by chunk. The same answer, to the bit, both ways, and
 * again from a second read, which holds the array from the memo. */
static void
test_fbt_same_from_counter_arrays(void **state)
{
	struct xs_test_store *f   = *state;
	struct ask            ask = {
		           .items = { "X" }, .scorer = XS_SCORE_TEMPERED, .k = 50
	};
	char     spec[4096], chunks[8192], arrays[8192], again[8192];
	size_t   o = 0;
	unsigned n = 0; /* orders in spec */
	MDB_txn *txn;

	/* xs_test_orders takes up to 64 orders a call. */
	for (unsigned k = 1; k <= WIDE_ITEMS; k++) {
		for (unsigned j = 0; j < 1 + k % 3 + k % 7; j++, n++) {
			o += (size_t) snprintf(spec + o, sizeof(spec) - o,
			    j <= k % 3 ? "w%u_%u::X,i%04u;" : "s%u_%u::i%04u;",
			    k, j, k);
		}
		if (n > 50 || k == WIDE_ITEMS) {
			spec[o - 1] = '\0'; /* the last ';' */
			xs_test_orders(f->st, NULL, spec, NULL);
			o = 0;
			n = 0;
		}
	}

	assert_xs_ok(xs_txn_write(f->st, &txn));
	fbt_in(f->st, txn, &ask, 17, chunks, sizeof(chunks));
	xs_txn_abort(txn);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	fbt_in(f->st, txn, &ask, 17, arrays, sizeof(arrays));
	xs_txn_abort(txn);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	fbt_in(f->st, txn, &ask, 17, again, sizeof(again));
	xs_txn_abort(txn);
	assert_int_equal(xs_test_count(chunks, "="), 50);
	assert_string_equal(arrays, chunks);
	assert_string_equal(again, chunks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_fbt_count_best_first, setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fbt_confidence, setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fbt_lift_ties_by_id, setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fbt_cart_sums_and_leaves_out_given, setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fbt_out_of_stock_left_out_unless_asked, setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fbt_exclude_k_and_min_support, setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_fbt_unknown_ids_listed,
		    setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fbt_ties_by_external_id_not_arrival, setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fbt_same_from_counter_arrays, xs_test_store_setup,
		    xs_test_store_teardown),
	};

	return cmocka_run_group_tests_name("fbt", tests, NULL, NULL);
}
