/* SPDX-License-Identifier: MIT */
/* The filter of the list answers (categories, exclude_categories, price
 * bounds, max_per_category, with in_stock and exclude) on a hand-made
 * store whose answers are worked out here by hand.
 *
 * Six orders around a hub item H:
 *
 *   o1 {H,P1,P2,P3,P4,P5,P6}  o2 {H,P1,P2,P3,P4,P5,P7}  o3 {H,P1,P2,P3,P4,P8}
 *   o4 {H,P1,P2,P3}  o5 {H,P1,P2}  o6 {H,P1}
 *
 * so fbt(H) with the count scorer ranks by N_H,x:
 *
 *   item  N_Hx  category  price  stock
 *   P1    6     shoes     50
 *   P2    5     shoes     30
 *   P3    4     socks     5
 *   P4    3     shoes     80
 *   P5    2     (none)    10
 *   P6    1     socks     (none)
 *   P7    1     (none)    (none)
 *   P8    1     hats      20     out
 *
 * P6, P7 and P8 tie at 1 and come in id order. "toys" is a category that
 * only T (never bought) has. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "store/store.h"

static const char *const history =
    "o1::H,P1,P2,P3,P4,P5,P6;o2::H,P1,P2,P3,P4,P5,P7;"
    "o3::H,P1,P2,P3,P4,P8;o4::H,P1,P2,P3;o5::H,P1,P2;o6::H,P1";

static void
describe(
    struct xs_item_update *u, const char *item, const char *cat, double price)
{
	memset(u, 0, sizeof(*u));
	u->item      = xs_test_span(item);
	u->category  = xs_test_span(cat);
	u->has_price = price >= 0;
	u->price     = price;
}

/* A store holding the history and the metadata above. */
static int
setup(void **state)
{
	struct xs_test_store *f;
	struct xs_item_update up[9];
	MDB_txn              *txn;

	xs_test_store_setup(state);
	f = *state;
	xs_test_orders(f->st, NULL, history, NULL);
	describe(&up[0], "P1", "shoes", 50);
	describe(&up[1], "P2", "shoes", 30);
	describe(&up[2], "P3", "socks", 5);
	describe(&up[3], "P4", "shoes", 80);
	describe(&up[4], "P5", NULL, 10);
	describe(&up[5], "P6", "socks", -1);
	describe(&up[6], "P8", "hats", 20);
	up[6].has_in_stock = true;
	up[6].in_stock     = false;
	describe(&up[7], "T", "toys", 1);
	/* H has a category too: the given item's own does not matter. */
	describe(&up[8], "H", "shoes", 100);
	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_xs_ok(xs_model_items_upsert(f->st, txn, up, 9, 100));
	assert_xs_ok(xs_txn_commit(txn));
	return 0;
}

/* One request: the filter's fields, NULL-terminated name lists. */
struct ask {
	const char *cats[4];
	const char *xcats[4];
	const char *exclude;
	bool        has_min, has_max;
	double      min, max;
	unsigned    per_cat;
	unsigned    k;
	bool        all_stock;
};

static uint32_t
names(const char *const *in, struct xs_span *out)
{
	uint32_t n = 0;

	while (n < 4 && in[n] != NULL) {
		out[n] = xs_test_span(in[n]);
		n++;
	}
	return n;
}

static void
fill_query(const struct ask *a, struct xs_span *given, struct xs_span *cats,
    struct xs_span *xcats, struct xs_span *excl, struct xs_query *q)
{
	memset(q, 0, sizeof(*q));
	q->items                       = given;
	q->n_items                     = 1;
	q->k                           = a->k ? a->k : 10;
	q->scorer                      = XS_SCORE_COUNT;
	q->filter.in_stock             = !a->all_stock;
	q->filter.categories           = cats;
	q->filter.n_categories         = names(a->cats, cats);
	q->filter.exclude_categories   = xcats;
	q->filter.n_exclude_categories = names(a->xcats, xcats);
	q->filter.has_price_min        = a->has_min;
	q->filter.has_price_max        = a->has_max;
	q->filter.price_min            = a->min;
	q->filter.price_max            = a->max;
	q->filter.max_per_category     = a->per_cat;
	if (a->exclude != NULL) {
		*excl               = xs_test_span(a->exclude);
		q->filter.exclude   = excl;
		q->filter.n_exclude = 1;
	}
}

/* Run fbt (or complements) from 'item' and render the answer as
 * "P1=6 P2=5" (fbt) or "P5 P7" (complements: names only). */
static void
ask(xs_store *st, bool compl, const char *item, const struct ask *a, char *out,
    size_t out_len)
{
	struct xs_span     given = xs_test_span(item), cats[4], xcats[4], excl;
	struct xs_query    q;
	struct xs_answer   ans;
	struct xs_settings set;
	struct xs_arena    arena;
	MDB_txn           *txn;
	size_t             o = 0;

	fill_query(a, &given, cats, xcats, &excl, &q);
	xs_settings_default(&set);
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_txn_read(st, &txn));
	if (compl ) {
		assert_xs_ok(
		    xs_model_complements(st, txn, &set, &q, &arena, &ans));
	} else {
		assert_xs_ok(xs_model_fbt(st, txn, &set, &q, &arena, &ans));
	}
	out[0] = '\0';
	for (uint32_t i = 0; i < ans.n; i++) {
		const struct xs_rec *r = &ans.recs[i];

		if (compl ) {
			o += (size_t) snprintf(out + o, out_len - o, "%s%.*s",
			    i ? " " : "", (int) r->ext_len, r->ext);
		} else {
			o += (size_t) snprintf(out + o, out_len - o,
			    "%s%.*s=%g", i ? " " : "", (int) r->ext_len,
			    r->ext, r->score);
		}
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
}

static void
expect(xs_store *st, const struct ask *a, const char *want)
{
	char got[512];

	ask(st, false, "H", a, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
test_filter_base_ranking(void **state)
{
	struct xs_test_store *f = *state;

	/* in_stock only (the default): everything but P8. */
	expect(
	    f->st, &(struct ask) { 0 }, "P1=6 P2=5 P3=4 P4=3 P5=2 P6=1 P7=1");
	expect(f->st, &(struct ask) { .all_stock = true },
	    "P1=6 P2=5 P3=4 P4=3 P5=2 P6=1 P7=1 P8=1");
}

static void
test_filter_categories(void **state)
{
	struct xs_test_store *f = *state;

	expect(f->st, &(struct ask) { .cats = { "shoes" } }, "P1=6 P2=5 P4=3");
	/* P8 is hats but out of stock: in_stock still applies. */
	expect(
	    f->st, &(struct ask) { .cats = { "socks", "hats" } }, "P3=4 P6=1");
	expect(f->st,
	    &(struct ask) { .cats = { "socks", "hats" }, .all_stock = true },
	    "P3=4 P6=1 P8=1");
	/* A name repeated is the same name. */
	expect(f->st, &(struct ask) { .cats = { "socks", "socks" } },
	    "P3=4 P6=1");
}

static void
test_filter_unknown_categories_match_nothing(void **state)
{
	struct xs_test_store *f = *state;

	/* Never stored: no item has it, so nothing passes. */
	expect(f->st, &(struct ask) { .cats = { "nope" } }, "");
	/* Stored, but only on T, which is no candidate. */
	expect(f->st, &(struct ask) { .cats = { "toys" } }, "");
	/* An unknown name beside a known one changes nothing. */
	expect(f->st, &(struct ask) { .cats = { "nope", "shoes" } },
	    "P1=6 P2=5 P4=3");
	/* Byte-exact: "Shoes" is not "shoes". */
	expect(f->st, &(struct ask) { .cats = { "Shoes" } }, "");
	/* Through the engine API a name no upsert could store (empty)
	 * is unknown too, not an error. */
	expect(f->st, &(struct ask) { .cats = { "" } }, "");
}

static void
test_filter_exclude_categories(void **state)
{
	struct xs_test_store *f = *state;

	/* P5 and P7 have no category: no rule leaves them out. */
	expect(f->st, &(struct ask) { .xcats = { "shoes" } },
	    "P3=4 P5=2 P6=1 P7=1");
	expect(f->st, &(struct ask) { .xcats = { "shoes", "socks" } },
	    "P5=2 P7=1");
	expect(f->st, &(struct ask) { .xcats = { "nope" } },
	    "P1=6 P2=5 P3=4 P4=3 P5=2 P6=1 P7=1");
	/* Both lists: in one, and in none of the other. */
	expect(f->st,
	    &(struct ask) {
	        .cats = { "shoes", "socks" }, .xcats = { "shoes" } },
	    "P3=4 P6=1");
}

static void
test_filter_price_bounds(void **state)
{
	struct xs_test_store *f = *state;

	/* Bounds are inclusive (P5 is 10); P6 and P7 have no price. */
	expect(f->st, &(struct ask) { .has_min = true, .min = 10 },
	    "P1=6 P2=5 P4=3 P5=2");
	/* P2 is 30 (inclusive); P8 (20) is out of stock. */
	expect(f->st, &(struct ask) { .has_max = true, .max = 30 },
	    "P2=5 P3=4 P5=2");
	expect(f->st,
	    &(struct ask) { .has_max = true, .max = 30, .all_stock = true },
	    "P2=5 P3=4 P5=2 P8=1");
	expect(f->st,
	    &(struct ask) {
	        .has_min = true, .min = 10, .has_max = true, .max = 50 },
	    "P1=6 P2=5 P5=2");
	expect(f->st,
	    &(struct ask) {
	        .has_min = true, .min = 5, .has_max = true, .max = 5 },
	    "P3=4");
	/* 0 is a bound too: it leaves out the items without a price. */
	expect(f->st, &(struct ask) { .has_min = true, .min = 0 },
	    "P1=6 P2=5 P3=4 P4=3 P5=2");
	/* An empty range (the wire refuses it; the engine answers
	 * nothing). */
	expect(f->st,
	    &(struct ask) {
	        .has_min = true, .min = 40, .has_max = true, .max = 20 },
	    "");
}

static void
test_filter_max_per_category(void **state)
{
	struct xs_test_store *f = *state;

	/* 1: shoes P1, socks P3, the no-category group P5. */
	expect(f->st, &(struct ask) { .per_cat = 1 }, "P1=6 P3=4 P5=2");
	expect(f->st, &(struct ask) { .per_cat = 1, .all_stock = true },
	    "P1=6 P3=4 P5=2 P8=1");
	/* 2: P4 is the third shoe; P6 the second sock, P7 the second
	 * item without a category. */
	expect(f->st, &(struct ask) { .per_cat = 2 },
	    "P1=6 P2=5 P3=4 P5=2 P6=1 P7=1");
	/* k still cuts the answer. */
	expect(f->st, &(struct ask) { .per_cat = 1, .k = 2 }, "P1=6 P3=4");
	/* A cap at or above k changes nothing. */
	expect(
	    f->st, &(struct ask) { .per_cat = 3, .k = 3 }, "P1=6 P2=5 P3=4");
}

/* Only items that are returned take a place in their category. */
static void
test_filter_rejected_items_take_no_place(void **state)
{
	struct xs_test_store *f = *state;

	/* P1 is excluded, so P2 is the one shoe. */
	expect(f->st, &(struct ask) { .per_cat = 1, .exclude = "P1" },
	    "P2=5 P3=4 P5=2");
	/* P1 (50) is over the price: P2 (30) is the shoe; P6 has no
	 * price, so socks is P3 alone. */
	expect(f->st,
	    &(struct ask) { .cats = { "shoes", "socks" },
	        .has_max          = true,
	        .max              = 40,
	        .per_cat          = 1 },
	    "P2=5 P3=4");
	/* P8 (hats) is out of stock: it takes no place either, and
	 * leaves hats empty. */
	expect(f->st,
	    &(struct ask) { .cats = { "hats", "socks" }, .per_cat = 1 },
	    "P3=4");
}

/* complements goes through the same filter. From P8 the first level is
 * o3's H, P1..P4; two hops away are P5 (via o1, o2), P6 (o1) and P7
 * (o2). */
static void
test_filter_applies_to_complements(void **state)
{
	struct xs_test_store *f = *state;
	char                  got[256];

	ask(f->st, true, "P8", &(struct ask) { 0 }, got, sizeof(got));
	assert_string_equal(got, "P5 P6 P7");
	ask(f->st, true, "P8", &(struct ask) { .cats = { "socks" } }, got,
	    sizeof(got));
	assert_string_equal(got, "P6");
	ask(f->st, true, "P8", &(struct ask) { .xcats = { "socks" } }, got,
	    sizeof(got));
	assert_string_equal(got, "P5 P7");
	ask(f->st, true, "P8", &(struct ask) { .has_min = true, .min = 0 },
	    got, sizeof(got));
	assert_string_equal(got, "P5");
	/* P5 and P7 both have no category: one group. */
	ask(f->st, true, "P8", &(struct ask) { .per_cat = 1 }, got,
	    sizeof(got));
	assert_string_equal(got, "P5 P6");
}

#define T(fn) \
	cmocka_unit_test_setup_teardown(fn, setup, xs_test_store_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_filter_base_ranking),
		T(test_filter_categories),
		T(test_filter_unknown_categories_match_nothing),
		T(test_filter_exclude_categories),
		T(test_filter_price_bounds),
		T(test_filter_max_per_category),
		T(test_filter_rejected_items_take_no_place),
		T(test_filter_applies_to_complements),
	};

	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
