/* SPDX-License-Identifier: MIT */
/* The relations counted from one user's own events (view sessions, cart
 * co-occurrence, view -> buy, rebuys, day trend counts) and forgetting a
 * user. Every expected number is worked out by hand in the comments. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "store/store.h"

#define DAY 86400

static void
test_views_pair_within_a_session(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_totals      t;

	/* A@0 and B@600 are 10 minutes apart: one session, a pair. A@1200
	 * repeats A within 30 minutes: not counted. C@5000 is 73 minutes
	 * after the last view: a new session, no partner. */
	xs_test_events(f->st, NULL,
	    "0 view u1 A; 600 view u1 B; 1200 view u1 A; 5000 view u1 C");
	xs_test_assert_item_counts(f->st, XS_C_VIEWS, "A=1 B=1 C=1");
	xs_test_assert_pairs(f->st, XS_REL_VIEW, "A>B=1 B>A=1 A>C=0 B>C=0");
	t = xs_test_totals(f->st);
	assert_int_equal(t.views, 4);
	assert_int_equal(t.views_counted, 3);
	/* Another user's session is theirs alone: u2 views C then A. */
	xs_test_events(f->st, NULL, "100 view u2 C; 200 view u2 A");
	assert_int_equal(xs_test_pair(f->st, XS_REL_VIEW, "A", "C"), 1);
	assert_int_equal(
	    xs_test_day_count(f->st, XS_REL_TREND_VIEW, 0, "A"), 2);
}

static void
test_carts_pair_items_in_the_cart_together(void **state)
{
	struct xs_test_store *f = *state;

	/* A, then B joins A (pair A-B). A again: already in the cart, not
	 * counted. A removed and added again: pairs with B a second time.
	 * The order of B takes B out of the cart, so C pairs with A only. */
	xs_test_events(f->st, NULL,
	    "0 cart_add u1 A; 100 cart_add u1 B; 200 cart_add u1 A;"
	    "300 cart_remove u1 A; 400 cart_add u1 A; 500 order u1 B o1;"
	    "600 cart_add u1 C");
	xs_test_assert_item_counts(f->st, XS_C_CARTS, "A=2 B=1 C=1");
	xs_test_assert_pairs(f->st, XS_REL_CART, "A>B=2 B>A=2 C>A=1 C>B=0");
	assert_int_equal(xs_test_totals(f->st).carts, 5);
	assert_int_equal(xs_test_totals(f->st).carts_counted, 4);
}

/* An order or a removal dated before a cart add leaves the item in the
 * cart: it was added after them. */
static void
test_carts_keep_an_item_added_after_its_order(void **state)
{
	struct xs_test_store *f = *state;

	/* u1 adds A at 1000; an order of A dated 500 arrives after it, and
	 * so does a removal of B dated 1500 for B added at 2000: both stay,
	 * so C pairs with A and B. An order of A dated 3000 then takes A
	 * out: D pairs with B and C only. */
	xs_test_events(f->st, NULL,
	    "1000 cart_add u1 A; 500 order u1 A o1; 2000 cart_add u1 B;"
	    "1500 cart_remove u1 B; 2500 cart_add u1 C; 3000 order u1 A o2;"
	    "3500 cart_add u1 D");
	xs_test_assert_pairs(
	    f->st, XS_REL_CART, "B>A=1 C>A=1 C>B=1 D>A=0 D>B=1 D>C=1");
}

/* An add pairs with the newest cart_pairs_max items added within the
 * window that are still in the cart once a full cart let its oldest go. */
static void
test_carts_pair_with_the_newest_items_left_in_the_cart(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;

	xs_settings_default(&set);
	set.cart_pairs_max = 2;
	/* E joins A@0, B@10, C@20, D@30: its 2 newest partners are C and D,
	 * never B (older than C) nor A. */
	xs_test_events(f->st, &set,
	    "0 cart_add u1 A; 10 cart_add u1 B; 20 cart_add u1 C;"
	    "30 cart_add u1 D; 40 cart_add u1 E");
	xs_test_assert_pairs(
	    f->st, XS_REL_CART, "E>D=1 E>C=1 E>B=0 E>A=0 D>C=1 D>B=1 D>A=0");
	/* A cart of 2 at most: S makes Q, the first added, go, so S pairs
	 * with R alone; then T makes R go and pairs with S alone. */
	xs_settings_default(&set);
	set.cart_max = 2;
	xs_test_events(f->st, &set,
	    "0 cart_add u2 Q; 10 cart_add u2 R; 20 cart_add u2 S;"
	    "30 cart_add u2 T");
	xs_test_assert_pairs(f->st, XS_REL_CART, "S>R=1 S>Q=0 T>S=1 T>R=0");
}

static void
test_views_then_orders_count_view_buy(void **state)
{
	struct xs_test_store *f = *state;

	/* u1 views A and B, then orders B and C: A->B, A->C, B->C (B->B is
	 * the view converting, not a pair). u2's view of D is 8 days before
	 * their order of C: outside the 7-day window. */
	xs_test_events(f->st, NULL,
	    "0 view u1 A; 100 view u1 B; 1000 order u1 B,C o1;"
	    "0 view u2 D; 691200 order u2 C o2");
	xs_test_assert_pairs(
	    f->st, XS_REL_VIEW_BUY, "A>B=1 A>C=1 B>C=1 B>B=0 C>B=0 D>C=0");
	xs_test_assert_item_counts(f->st, XS_C_VIEW_BUYS, "A=1 B=1 D=0");
}

/* view -> buy reads the views as they were before the order: its own
 * items joining a short history do not push them out first. */
static void
test_a_big_order_keeps_its_view_buy_pairs(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;

	xs_settings_default(&set);
	set.history_max = 3;
	/* u1 views A and B, then orders C, D and E: the order's 3 items fill
	 * a history of 3, but A and B were viewed before it. */
	xs_test_events(
	    f->st, &set, "0 view u1 A; 100 view u1 B; 1000 order u1 C,D,E o1");
	xs_test_assert_pairs(
	    f->st, XS_REL_VIEW_BUY, "A>C=1 A>D=1 A>E=1 B>C=1 B>D=1 B>E=1");
	xs_test_assert_item_counts(f->st, XS_C_VIEW_BUYS, "A=1 B=1");
}

static void
test_rebuys_count_days_between_purchases(void **state)
{
	struct xs_test_store *f = *state;

	/* u1 buys A on days 0, 10 and 30: two rebuys, 10 + 20 days. u2
	 * buys A once; the guest's order is nobody's rebuy. */
	xs_test_events(f->st, NULL,
	    "0 order u1 A o1; 864000 order u1 A o2; 2592000 order u1 A o3;"
	    "100 order u2 A o4; 200 order - A o5");
	assert_int_equal(xs_test_item_count(f->st, "A", XS_C_BUYERS), 2);
	assert_int_equal(xs_test_item_count(f->st, "A", XS_C_REBUYS), 2);
	assert_int_equal(xs_test_item_count(f->st, "A", XS_C_REBUY_DAYS), 30);
	assert_int_equal(xs_test_item_count(f->st, "A", XS_C_BASKETS), 5);
	/* Trend: day 0 has o1, o4 and o5; day 10 o2; day 30 o3. */
	assert_int_equal(
	    xs_test_day_count(f->st, XS_REL_TREND_BUY, 0, "A"), 3);
	assert_int_equal(
	    xs_test_day_count(f->st, XS_REL_TREND_BUY, 10, "A"), 1);
	assert_int_equal(
	    xs_test_day_count(f->st, XS_REL_TREND_BUY, 30, "A"), 1);
}

/* An order dated before one that arrived first is a rebuy too. */
static void
test_rebuys_arriving_newest_first(void **state)
{
	struct xs_test_store *f = *state;

	/* u1's orders of A on days 20, 10 and 0 arrive newest first: as in
	 * time order, two rebuys, 10 + 10 days. u2 buys B on day 7, then an
	 * order of day 0 arrives: one rebuy, 7 days. u3 buys C twice in the
	 * same second: no rebuy, whichever comes first. */
	xs_test_events(f->st, NULL,
	    "1728000 order u1 A o1; 864000 order u1 A o2; 0 order u1 A o3;"
	    "604800 order u2 B o4; 0 order u2 B o5;"
	    "100 order u3 C o6; 100 order u3 C o7");
	xs_test_assert_item_counts(f->st, XS_C_REBUYS, "A=2 B=1 C=0");
	xs_test_assert_item_counts(f->st, XS_C_REBUY_DAYS, "A=20 B=7 C=0");
	xs_test_assert_item_counts(f->st, XS_C_BUYERS, "A=1 B=1 C=1");
}

static void
test_heavy_user_counts_are_capped(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;

	xs_settings_default(&set);
	set.user_counted_max = 2;
	/* Views and cart adds beyond the first two of u1 reach the history
	 * only. */
	xs_test_events(f->st, &set,
	    "0 view u1 A; 10 view u1 B; 20 view u1 C; 30 cart_add u1 D");
	xs_test_assert_item_counts(f->st, XS_C_VIEWS, "A=1 B=1 C=0");
	assert_int_equal(xs_test_item_count(f->st, "D", XS_C_CARTS), 0);
	assert_int_equal(xs_test_pair(f->st, XS_REL_VIEW, "A", "C"), 0);
}

/* y1 and y2 introduce every item and user before x arrives. */
static const char others_before[] =
    "0 view y1 A; 60 view y1 B; 120 cart_add y1 A; 130 cart_add y1 C;"
    "200 order y1 A,B,C o1; 300 order - B,D o2; 400 view y2 D;"
    "500 order y2 D,E o3; 600 rating y2 E 5";
static const char others_after[] =
    "9000 view y1 C; 9100 view y1 A; 9200 order y2 A,E o6;"
    "9300 cart_add y2 B; 9400 cart_remove y1 C; 99999 order y1 A o7";
/* x touches the same items: views, carts, a removal, orders (one a
 * rebuy after views), a rating. */
static const char x_events[] =
    "1000 view x A; 1100 view x D; 1200 cart_add x A; 1300 cart_add x B;"
    "1400 cart_remove x A; 1500 order x B,D o4; 1600 view x C;"
    "700000 view x E; 700100 order x B,E,C o5; 700200 rating x A 1";

/* others_before, then x_events if 'with_x', then others_after. */
static void
apply_stream(xs_store *st, bool with_x)
{
	xs_test_events(st, NULL, others_before);
	if (with_x) {
		xs_test_events(st, NULL, x_events);
	}
	xs_test_events(st, NULL, others_after);
}

static void
test_forget_user_leaves_the_store_as_if_never_there(void **state)
{
	struct xs_test_store *f = *state;
	char                 *dir2;
	xs_store             *st2 = xs_test_store_open(&dir2);

	apply_stream(f->st, true);
	/* x's events left marks: o4 paired B and D, x viewed A then D. */
	assert_int_equal(xs_test_pair(f->st, XS_REL_VIEW, "A", "D"), 1);
	assert_int_equal(xs_test_pair(f->st, XS_REL_VIEW_BUY, "E", "B"), 1);
	assert_true(xs_test_forget(f->st, "x"));
	assert_int_equal(xs_test_pair(f->st, XS_REL_VIEW, "A", "D"), 0);
	assert_int_equal(xs_test_pair(f->st, XS_REL_VIEW_BUY, "E", "B"), 0);

	apply_stream(st2, false);
	xs_test_assert_same_store(f->st, st2);
	/* Forgetting twice, or someone unknown, changes nothing. */
	assert_false(xs_test_forget(f->st, "x"));
	assert_false(xs_test_forget(f->st, "nobody"));
	xs_test_assert_same_store(f->st, st2);
	xs_test_store_close(st2, dir2);
}

/* After forgetting, no database holds the user's id, in any form the
 * dump shows (hex of every key and value). */
static void
test_forget_leaves_no_trace_of_the_id(void **state)
{
	static const char     user[] = "forget-me-4711@example.org";
	struct xs_test_store *f      = *state;
	char                  ev[512], hex[2 * sizeof(user)];
	char                 *d;

	for (size_t i = 0; i + 1 < sizeof(user); i++) {
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char) user[i]);
	}
	snprintf(ev, sizeof(ev),
	    "0 view %s A; 10 cart_add %s B; 20 order %s A,B o1;"
	    "30 rating %s A 5; 40 view y1 A",
	    user, user, user, user);
	xs_test_events(f->st, NULL, ev);
	d = xs_test_dump(f->st);
	assert_non_null(strstr(d, hex)); /* the check can see it */
	free(d);
	assert_true(xs_test_forget(f->st, user));
	d = xs_test_dump(f->st);
	assert_null(strstr(d, hex));
	free(d);
}

/* The same stream of every kind of event into two stores gives the same
 * bytes: the write path is a pure function of the ordered stream. */
static void
test_mixed_stream_replays_to_the_same_store(void **state)
{
	struct xs_test_store *f = *state;
	char                 *dir2;
	xs_store             *st2 = xs_test_store_open(&dir2);

	apply_stream(f->st, true);
	apply_stream(st2, true);
	xs_test_assert_same_store(f->st, st2);
	xs_test_store_close(st2, dir2);
}

static void
test_forgotten_orders_can_arrive_again(void **state)
{
	struct xs_test_store *f = *state;

	xs_test_events(f->st, NULL, "0 order x A,B o1");
	assert_true(xs_test_forget(f->st, "x"));
	assert_int_equal(xs_test_pair(f->st, XS_REL_BASKET, "A", "B"), 0);
	assert_int_equal(xs_test_totals(f->st).orders, 0);
	/* As if it had never arrived: the same order id counts again. */
	xs_test_events(f->st, NULL, "10 order x A,B o1");
	assert_int_equal(xs_test_pair(f->st, XS_REL_BASKET, "A", "B"), 1);
	assert_int_equal(xs_test_totals(f->st).orders, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_views_pair_within_a_session, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_carts_pair_items_in_the_cart_together,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_carts_keep_an_item_added_after_its_order,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_carts_pair_with_the_newest_items_left_in_the_cart,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_views_then_orders_count_view_buy, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_big_order_keeps_its_view_buy_pairs,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_rebuys_count_days_between_purchases,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_rebuys_arriving_newest_first, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_heavy_user_counts_are_capped, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_forget_user_leaves_the_store_as_if_never_there,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_forget_leaves_no_trace_of_the_id, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_mixed_stream_replays_to_the_same_store,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_forgotten_orders_can_arrive_again,
		    xs_test_store_setup, xs_test_store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
