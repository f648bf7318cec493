/* SPDX-License-Identifier: MIT */
/* Events -> counts: pair and basket counts, idempotent orders, returns,
 * distinct buyers, the cap on huge orders, batch replay, and the write
 * path as a pure function of the event stream. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "store/store.h"

/* Count of basket pair (a, b) by external ids; 0 if either is unknown. */
static uint32_t
pair_count(xs_store *st, const char *a, const char *b)
{
	return xs_test_pair(st, XS_REL_BASKET, a, b);
}

static void
test_count_orders_pairs_both_ways(void **state)
{
	struct xs_test_store  *f = *state;
	struct xs_apply_result res;
	struct xs_totals       t;

	xs_test_orders(f->st, NULL, "o1::A,B;o2::A,B,C", &res);
	assert_int_equal(res.applied, 2);
	assert_int_equal(res.duplicates, 0);
	xs_test_assert_pairs(
	    f->st, XS_REL_BASKET, "A>B=2 B>A=2 A>C=1 C>B=1 A>A=0");
	xs_test_assert_item_counts(f->st, XS_C_BASKETS, "A=2 C=1");
	t = xs_test_totals(f->st);
	assert_int_equal(t.baskets, 2);
	assert_int_equal(t.orders, 2);
	assert_int_equal(t.events, 2);
}

static void
test_count_repeated_order_changes_nothing(void **state)
{
	struct xs_test_store  *f = *state;
	struct xs_apply_result res;
	char                  *before;

	xs_test_orders(f->st, NULL, "o1:u1:A,B;o2::A,C", &res);
	before = xs_test_dump(f->st);
	/* A retry of o1 (even with other items) and o2 twice in a batch. */
	xs_test_orders(f->st, NULL, "o1:u1:A,B,C;o2::A,C;o2::A,C", &res);
	assert_int_equal(res.applied, 0);
	assert_int_equal(res.duplicates, 3);
	xs_test_assert_unchanged(f->st, before);
}

/* A duplicate sent by another user registers no one: the user count of
 * stats stays, and the store is as it was. */
static void
test_count_duplicate_order_registers_no_user(void **state)
{
	struct xs_test_store  *f = *state;
	struct xs_apply_result res;
	char                  *before;
	uint32_t               users;
	MDB_txn               *txn;

	xs_test_orders(f->st, NULL, "o1:u1:A,B", &res);
	before = xs_test_dump(f->st);
	xs_test_orders(f->st, NULL, "o1:u2:A", &res);
	assert_int_equal(res.duplicates, 1);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_xs_ok(xs_store_dict_count(f->st, txn, XS_DICT_USER, &users));
	xs_txn_abort(txn);
	assert_int_equal(users, 1);
	xs_test_assert_unchanged(f->st, before);
}

static void
test_count_same_item_twice_in_an_order_is_one(void **state)
{
	struct xs_test_store *f = *state;

	xs_test_orders(f->st, NULL, "o1::D,E,D", NULL);
	assert_int_equal(xs_test_item_count(f->st, "D", XS_C_BASKETS), 1);
	xs_test_assert_pairs(f->st, XS_REL_BASKET, "D>E=1 D>D=0");
}

static void
test_count_returns_are_skipped(void **state)
{
	struct xs_test_store *f        = *state;
	struct xs_order_line  lines[3] = {
		 { { "A", 1 }, 2, NAN },
		 { { "B", 1 }, -1, NAN },
		 { { "C", 1 }, 0, NAN },
	};
	struct xs_event ev = { 0 };

	ev.type    = XS_EV_ORDER;
	ev.order   = (struct xs_span) { "r1", 2 };
	ev.lines   = lines;
	ev.n_lines = 3;
	xs_test_apply(f->st, NULL, NULL, &ev, 1, NULL);
	xs_test_assert_item_counts(f->st, XS_C_BASKETS, "A=1 B=0");
	assert_int_equal(pair_count(f->st, "A", "B"), 0);
}

static void
test_count_buyers_are_distinct_users(void **state)
{
	struct xs_test_store *f = *state;

	xs_test_orders(f->st, NULL, "o1:u1:A,B;o2:u1:A;o3:u2:A;o4::A", NULL);
	assert_int_equal(xs_test_item_count(f->st, "A", XS_C_BASKETS), 4);
	/* u1 twice, u2 once, the guest not at all. */
	xs_test_assert_item_counts(f->st, XS_C_BUYERS, "A=2 B=1");
}

/* Which of A..F were counted for a 6-item order capped at 3. */
static void
kept_items(xs_store *st, char out[7])
{
	const char *names = "ABCDEF";
	int         n     = 0;

	for (int i = 0; i < 6; i++) {
		char id[2] = { names[i], '\0' };

		if (xs_test_item_count(st, id, XS_C_BASKETS) == 1) {
			out[n++] = names[i];
		}
	}
	out[n] = '\0';
}

static void
test_count_huge_order_sampled_deterministically(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	char                 *dir2;
	xs_store             *st2;
	char                  kept1[7], kept2[7];
	uint32_t              pairs = 0;

	xs_settings_default(&set);
	set.max_basket_items = 3;
	xs_test_orders(f->st, &set, "big::A,B,C,D,E,F", NULL);
	kept_items(f->st, kept1);
	assert_int_equal(strlen(kept1), 3);
	/* Exactly the 3 kept items are paired with each other. */
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++) {
			char a[2] = { kept1[i], 0 }, b[2] = { kept1[j], 0 };

			pairs += pair_count(f->st, a, b);
		}
	}
	assert_int_equal(pairs, 6);
	/* The sample depends on the ids, not on the lines' order. */
	st2 = xs_test_store_open(&dir2);
	xs_test_orders(st2, &set, "big::F,E,D,C,B,A", NULL);
	kept_items(st2, kept2);
	assert_string_equal(kept1, kept2);
	xs_test_store_close(st2, dir2);
}

static void
test_count_same_stream_same_store(void **state)
{
	static const char *stream[] = {
		"o1:u1:A,B,C;o2:u2:B,C",
		"o3::C,D;o1:u1:A;o4:u1:E,A,B",
		"o5:u3:A,B,C,D,E,F,G",
	};
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	char                 *dir2;
	xs_store             *st2;
	char                 *d1, *d2;

	xs_settings_default(&set);
	set.max_basket_items = 4;
	st2                  = xs_test_store_open(&dir2);
	for (size_t i = 0; i < 3; i++) {
		xs_test_orders(f->st, &set, stream[i], NULL);
		xs_test_orders(st2, &set, stream[i], NULL);
	}
	d1 = xs_test_dump(f->st);
	d2 = xs_test_dump(st2);
	assert_true(strlen(d1) > 500);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	xs_test_store_close(st2, dir2);
}

static void
test_count_batch_replay_is_a_duplicate(void **state)
{
	struct xs_test_store  *f     = *state;
	struct xs_span         batch = { "b-1", 3 };
	struct xs_event        ev    = { 0 };
	struct xs_apply_result res;

	ev.type = XS_EV_VIEW;
	ev.user = (struct xs_span) { "u1", 2 };
	ev.item = (struct xs_span) { "A", 1 };
	ev.ts   = 5;
	for (int round = 0; round < 2; round++) {
		xs_test_apply(f->st, NULL, &batch, &ev, 1, &res);
		assert_int_equal(res.applied, round == 0 ? 1 : 0);
		assert_int_equal(res.duplicates, round == 0 ? 0 : 1);
	}
	assert_int_equal(xs_test_item_count(f->st, "A", XS_C_VIEWS), 1);
	assert_int_equal(xs_test_totals(f->st).events, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_count_orders_pairs_both_ways, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_repeated_order_changes_nothing,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_duplicate_order_registers_no_user,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_same_item_twice_in_an_order_is_one,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_count_returns_are_skipped,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_buyers_are_distinct_users, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_huge_order_sampled_deterministically,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_same_stream_same_store, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_batch_replay_is_a_duplicate,
		    xs_test_store_setup, xs_test_store_teardown),
	};

	return cmocka_run_group_tests_name("count", tests, NULL, NULL);
}
