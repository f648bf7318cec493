/* SPDX-License-Identifier: MIT */
/* Second-level complements on a hand-made basket graph, answers worked
 * out by hand:
 *
 *   o1 {A,B}  o2 {A,B}  o3 {B,C}  o4 {B,E}  o5 {C,D}
 *   N_A 2, N_B 4, N_C 2, N_D 1, N_E 1
 *
 * From A the only first-level item is B (p(B|A) = 2/2 = 1). B leads to
 * C and E (p(C|B) = p(E|B) = 1/4). D is three hops away. With beta 0.5:
 *   E: 1 * 1/4 / 1^0.5 = 0.25,  C: 1 * 1/4 / 2^0.5 = 0.1767767
 * and with beta 0 both are 0.25 (tie: C before E). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "store/store.h"

/* Render complements of 'items' under settings 'set' as
 * "E=0.25<B C=0.176777<B". */
static void
complements_set(xs_store *st, const struct xs_settings *set, const char *a,
    const char *b, double beta, bool cross, char *out, size_t out_len)
{
	struct xs_span   items[2] = { { a, (uint32_t) strlen(a) },
		  { b, b ? (uint32_t) strlen(b) : 0 } };
	struct xs_query  q        = { 0 };
	struct xs_answer ans;
	struct xs_arena  arena;
	MDB_txn         *txn;
	size_t           o = 0;

	q.items           = items;
	q.n_items         = b ? 2 : 1;
	q.k               = 10;
	q.filter.in_stock = true;
	q.has_beta        = true;
	q.beta            = beta;
	q.cross_category  = cross;
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_model_complements(st, txn, set, &q, &arena, &ans));
	out[0] = '\0';
	for (uint32_t i = 0; i < ans.n; i++) {
		const struct xs_rec *r = &ans.recs[i];

		assert_non_null(r->via_ext);
		o += (size_t) snprintf(out + o, out_len - o,
		    "%s%.*s=%.6g<%.*s", i ? " " : "", (int) r->ext_len, r->ext,
		    r->score, (int) r->via_len, r->via_ext);
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
}

/* The same under the default settings without momentum: the figures
 * below were worked before it; its own test turns it on. */
static void
complements(xs_store *st, const char *a, const char *b, double beta,
    bool cross, char *out, size_t out_len)
{
	struct xs_settings set;

	xs_settings_default(&set);
	set.comp_momentum_weight = 0;
	complements_set(st, &set, a, b, beta, cross, out, out_len);
}

static void
test_complements_two_hops_with_via(void **state)
{
	struct xs_test_store *f = *state;
	char                  got[256];

	complements(f->st, "A", NULL, 0.5, false, got, sizeof(got));
	assert_string_equal(got, "E=0.25<B C=0.176777<B");
	complements(f->st, "A", NULL, 0.0, false, got, sizeof(got));
	assert_string_equal(got, "C=0.25<B E=0.25<B");
}

static void
test_complements_leave_out_first_level(void **state)
{
	struct xs_test_store *f = *state;
	char                  got[256];

	/* Once A and C are bought together, C is first-level: gone. N_A
	 * becomes 3: p(B|A) = 2/3, p(C|A) = 1/3; via C, D is reached:
	 * p(D|C) = 1/3 (N_C 3) -> 1/3 * 1/3 = 0.111111; E via B:
	 * 2/3 * 1/4 = 0.166667. */
	xs_test_orders(f->st, NULL, "o6::A,C", NULL);
	complements(f->st, "A", NULL, 0.0, false, got, sizeof(got));
	assert_string_equal(got, "E=0.166667<B D=0.111111<C");
}

static void
test_complements_given_items_and_their_neighbours_never_return(void **state)
{
	struct xs_test_store *f = *state;
	char                  got[256];

	/* From {A, C}: first level is B, D; E is reached from A via B
	 * (1 * 1/4) and from C via B (p(B|C) 1/2 * 1/4 = 1/8): 0.375. */
	complements(f->st, "A", "C", 0.0, false, got, sizeof(got));
	assert_string_equal(got, "E=0.375<B");
	/* Unknown seeds give nothing, known isolated ones too. */
	complements(f->st, "Z", NULL, 0.5, false, got, sizeof(got));
	assert_string_equal(got, "");
}

static void
test_complements_cross_category(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_item_update up[2];
	MDB_txn              *txn;
	char                  got[256];

	memset(up, 0, sizeof(up));
	up[0].item     = (struct xs_span) { "A", 1 };
	up[0].category = (struct xs_span) { "kitchen", 7 };
	up[1].item     = (struct xs_span) { "E", 1 };
	up[1].category = (struct xs_span) { "kitchen", 7 };
	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_xs_ok(xs_model_items_upsert(f->st, txn, up, 2, 100));
	assert_xs_ok(xs_txn_commit(txn));
	complements(f->st, "A", NULL, 0.5, true, got, sizeof(got));
	assert_string_equal(got, "C=0.176777<B");
	complements(f->st, "A", NULL, 0.5, false, got, sizeof(got));
	assert_string_equal(got, "E=0.25<B C=0.176777<B");
}

/* Momentum: E sells again 100 days after o1..o5 (o6, alone): N_E 2,
 * pairs unchanged. The trend window (half-life 7 days: 56 days back
 * from o6's day) holds only o6: trend E 1, C none. From A with beta 0,
 * C and E are 1 * 1/4 = 0.25 each, via B (above). Weight 30, prior 10:
 * E * (1 + 30 * 1 / (2 orders + 0 views + 10)) = 0.25 * 3.5 = 0.875,
 * still via B; C, outside the window, keeps 0.25. Prior 0: E * (1 +
 * 30 / 2) = 4. Weight 0: the tie of the walk (C first). With beta 0.5,
 * weight 30, prior 10: E 0.25 / 2^0.5 * 3.5 = 0.618718, C 0.25 / 2^0.5
 * = 0.176777. */
static void
test_complements_weigh_by_momentum(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	char                  ev[64], got[256];

	snprintf(ev, sizeof(ev), "%d order - E o6", 1000 + 100 * 86400);
	xs_test_events(f->st, NULL, ev);
	xs_settings_default(&set);
	set.comp_momentum_weight = 30;
	set.pick_momentum_prior  = 10;
	complements_set(f->st, &set, "A", NULL, 0.0, false, got, sizeof(got));
	assert_string_equal(got, "E=0.875<B C=0.25<B");
	complements_set(f->st, &set, "A", NULL, 0.5, false, got, sizeof(got));
	assert_string_equal(got, "E=0.618718<B C=0.176777<B");
	set.pick_momentum_prior = 0;
	complements_set(f->st, &set, "A", NULL, 0.0, false, got, sizeof(got));
	assert_string_equal(got, "E=4<B C=0.25<B");
	set.comp_momentum_weight = 0;
	complements_set(f->st, &set, "A", NULL, 0.0, false, got, sizeof(got));
	assert_string_equal(got, "C=0.25<B E=0.25<B");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_complements_two_hops_with_via,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_complements_leave_out_first_level,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_complements_given_items_and_their_neighbours_never_return,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_complements_weigh_by_momentum,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_complements_cross_category, xs_test_comp_store_setup,
		    xs_test_store_teardown),
	};

	return cmocka_run_group_tests_name("complements", tests, NULL, NULL);
}
