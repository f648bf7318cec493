/* SPDX-License-Identifier: MIT */
/* complements' precomputed lists (store comp.c, model comp_lists.c and
 * comp_refresh.c). The walk is the reference (test_complements checks it
 * by hand): an answer from fresh lists must be the walk's, and the
 * lists themselves are checked against figures worked by hand on
 *
 *   o1 {A,B}  o2 {A,B}  o3 {B,C}  o4 {B,E}  o5 {C,D}
 *   N_A 2, N_B 4, N_C 2, N_D 1, N_E 1
 *
 * From A the first level is B (p(B|A) = 1); B leads to C and E (1/4
 * each). At the default beta 0.25: E 1/4 / 1^0.25 = 0.25, C 1/4 /
 * 2^0.25 = 0.2102241. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/model_impl.h"
#include "store/store.h"

static uint32_t
item_id(xs_store *st, const char *ext)
{
	MDB_txn *txn;
	uint32_t id = 0;

	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(
	    xs_store_id_get(st, txn, XS_DICT_ITEM, ext, strlen(ext), &id));
	xs_txn_abort(txn);
	return id;
}

/* Refresh every due list, one per write transaction. */
static struct xs_comp_refresh_stats
refresh(xs_store *st, const struct xs_settings *set)
{
	struct xs_comp_refresh_opts  o = { 0 };
	struct xs_comp_refresh_stats rs;

	o.now_s = xs_now_s();
	o.chunk = 1;
	assert_xs_ok(xs_model_comp_refresh(st, set, &o, &rs));
	return rs;
}

struct ask {
	const char *items[4];
	uint32_t    n;
	unsigned    k;
	bool        fresh;
	bool        has_beta;
	double      beta;
	bool        cross;
};

/* Answer 'a' in read transaction txn as "C=0.2102241<B ..." (scores to
 * 'digits'); *listedp (may be NULL) says whether the lists answered
 * (xs_comp_from_lists alone). */
static void
answer_in(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct ask *a, int digits, char *out, size_t out_len, bool *listedp)
{
	struct xs_span     items[4];
	struct xs_query    q = { 0 };
	struct xs_answer   ans;
	struct xs_rank_ids ids;
	struct xs_arena    arena;
	size_t             o = 0;

	q.items           = items;
	q.n_items         = xs_test_spans(items, a->items, a->n);
	q.k               = a->k ? a->k : 10;
	q.filter.in_stock = false;
	q.fresh           = a->fresh;
	q.has_beta        = a->has_beta;
	q.beta            = a->beta;
	q.cross_category  = a->cross;
	q.explain         = true;
	xs_arena_init(&arena, 1 << 20);
	if (listedp != NULL) {
		struct xs_comp_shared sh = { 0 };

		assert_xs_ok(xs_rank_resolve(st, txn, &q, &arena, &ids, &ans));
		assert_xs_ok(xs_comp_from_lists(
		    st, txn, set, &q, &ids, &sh, &arena, &ans, listedp));
		xs_comp_shared_fini(&sh);
	}
	assert_xs_ok(xs_model_complements(st, txn, set, &q, &arena, &ans));
	out[0] = '\0';
	for (uint32_t i = 0; i < ans.n && o < out_len; i++) {
		const struct xs_rec *r = &ans.recs[i];

		o += (size_t) snprintf(out + o, out_len - o,
		    "%s%.*s=%.*g<%.*s/%llu", i ? " " : "", (int) r->ext_len,
		    r->ext, digits, r->score, (int) r->via_len, r->via_ext,
		    (unsigned long long) r->count);
	}
	xs_arena_fini(&arena);
}

/* answer_in, in a snapshot of its own. */
static void
answer(xs_store *st, const struct xs_settings *set, const struct ask *a,
    int digits, char *out, size_t out_len, bool *listedp)
{
	MDB_txn *txn;

	assert_xs_ok(xs_txn_read(st, &txn));
	answer_in(st, txn, set, a, digits, out, out_len, listedp);
	xs_txn_abort(txn);
}

/* The stored list is the walk from A by hand; the answer from it is the
 * walk's (with momentum: every order is of one day, so both weigh alike),
 * and it came from the list. */
static void
test_list_is_the_walk_by_hand(void **state)
{
	struct xs_test_store        *f = *state;
	struct xs_settings           set;
	struct xs_comp_refresh_stats rs;
	struct ask                   a = { { "A" }, 1, 0, false, false, 0, 0 };
	char                         list[256], got[512], want[512];
	bool                         listed = false;

	xs_settings_default(&set);
	rs = refresh(f->st, &set);
	assert_int_equal(rs.items, 5); /* A..E all have orders */
	assert_int_equal(rs.computed, 5);
	xs_test_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "E=0.25<B C=0.210224<B");
	/* From D: first level C (p 1); C leads to B (1/2, N_B 4: 1/2 /
	 * 4^0.25 = 0.3535534); D itself is the given item. */
	xs_test_comp_list(f->st, "D", list, sizeof(list));
	assert_string_equal(list, "B=0.353553<C");

	answer(f->st, &set, &a, 17, got, sizeof(got), &listed);
	assert_true(listed);
	a.fresh = true;
	answer(f->st, &set, &a, 17, want, sizeof(want), NULL);
	assert_string_equal(got, want);
	set.comp_momentum_weight = 0;
	a.fresh                  = false;
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, "E=0.25<B/1 C=0.2102241<B/1");
}

/* Put a list for A that the walk would never give (C 7 via B, count 9)
 * with the stamp of a fresh one: what comes back shows whether the list
 * answered. */
static void
put_marked_list(xs_store *st, struct xs_comp_stamp *stamp)
{
	struct xs_comp_entry e = { 0 };
	MDB_txn             *txn;

	uint32_t a = item_id(st, "A");

	e.item  = item_id(st, "C");
	e.via   = item_id(st, "B");
	e.count = 9;
	e.score = 7;
	e.share = 7;
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_comp_put(st, txn, a, stamp, &e, 1, NULL, 0));
	assert_xs_ok(xs_txn_commit(txn));
}

static struct xs_comp_stamp
fresh_stamp(const struct xs_settings *set)
{
	struct xs_comp_stamp s = { 0 };

	s.computed_s  = xs_now_s();
	s.beta        = set->complements_beta;
	s.cutoff      = 0; /* complete */
	s.n_a         = 2; /* N_A */
	s.walk_width  = set->walk_width;
	s.min_support = set->min_support;
	return s;
}

/* A fresh stored list answers. Where it is missing, of another item
 * count, past its age or of another walk, the answer makes A's list (the
 * walk's), keeps it and answers from it; another beta asked, or fresh:
 * true, walk. */
static void
test_stale_or_missing_list_is_made_by_the_answer(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_comp_stamp  s;
	struct ask            a    = { { "A" }, 1, 0, false, false, 0, 0 };
	const char           *walk = "E=0.25<B/1 C=0.2102241<B/1";
	const char           *made = "E=0.25<B C=0.210224<B";
	char                  got[512], list[256];
	bool                  listed;

	xs_settings_default(&set);
	set.comp_momentum_weight = 0;
	xs_test_made_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "none");
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed); /* no list yet: made */
	assert_string_equal(got, walk);
	xs_test_made_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, made);
	xs_test_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "none"); /* not written to the store */

	s = fresh_stamp(&set);
	put_marked_list(f->st, &s);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, "C=7<B/9"); /* the stored one first */

	a.fresh = true;
	answer(f->st, &set, &a, 7, got, sizeof(got), NULL);
	assert_string_equal(got, walk);
	a.fresh    = false;
	a.has_beta = true;
	a.beta     = 0.5; /* E 0.25, C 1/4 / 2^0.5 */
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_false(listed);
	assert_string_equal(got, "E=0.25<B/1 C=0.1767767<B/1");
	a.beta = set.complements_beta; /* the default, asked: the list */
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, "C=7<B/9");
	a.has_beta = false;

	/* Stored lists not fresh: the made one answers. */
	s.n_a = 3; /* as if A was ordered since */
	put_marked_list(f->st, &s);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, walk);
	s            = fresh_stamp(&set);
	s.computed_s = xs_now_s() - (int64_t) set.comp_list_max_age_s - 10;
	put_marked_list(f->st, &s);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, walk);
	s            = fresh_stamp(&set);
	s.walk_width = set.walk_width + 1;
	put_marked_list(f->st, &s);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, walk);
}

/* A made list stands through other items' orders, as a stored list
 * does: after o6 {B,F} (N_B 5) the walk from A gives E 1/5, F 1/5 and
 * C 1/5 / 2^0.25, but the answer is still the one from the list made
 * before. An order of A itself makes it stale: the next answer makes
 * it again, with both orders in. After o7 {A,C} (N_A 3, N_C 3): first
 * level B 2/3, C 1/3; E 2/3 * 1/5 = 0.1333333, F the same, D 1/3 * 1/3
 * / 1 = 0.1111111, C 2/3 * 1/5 / 3^0.25 = 0.1013127 (C is first level
 * too, but only the given items are left out of one item's answer). */
static void
test_made_list_stands_until_its_item_is_ordered(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct ask            a = { { "A" }, 1, 0, false, false, 0, 0 };
	char                  got[512], want[512], list[256];
	bool                  listed;

	xs_settings_default(&set);
	set.comp_momentum_weight = 0;
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, "E=0.25<B/1 C=0.2102241<B/1");

	xs_test_orders(f->st, NULL, "o6::B,F", NULL);
	a.fresh = true;
	answer(f->st, &set, &a, 7, want, sizeof(want), NULL);
	assert_string_equal(want, "E=0.2<B/1 F=0.2<B/1 C=0.1681793<B/1");
	a.fresh = false;
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, "E=0.25<B/1 C=0.2102241<B/1");

	xs_test_orders(f->st, NULL, "o7::A,C", NULL);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	a.fresh = true;
	answer(f->st, &set, &a, 7, want, sizeof(want), NULL);
	assert_string_equal(got, want);
	xs_test_made_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "E=0.133333<B F=0.133333<B D=0.111111<C");
}

/* A list made in a newer snapshot does not answer in an older one: a
 * reader whose snapshot predates o6-o8 gets its own snapshot's answer,
 * where a list made after them names F, an item it does not know.
 * After them N_B 5, N_F 3: E 1/5, C 1/5 / 2^0.25 = 0.1681793, F 1/5 /
 * 3^0.25 = 0.1519671. */
static void
test_made_list_answers_no_older_snapshot(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct ask            a = { { "A" }, 1, 0, false, false, 0, 0 };
	MDB_txn              *before;
	char                  got[512], list[256];
	bool                  listed;

	xs_settings_default(&set);
	set.comp_momentum_weight = 0;
	assert_xs_ok(xs_txn_read(f->st, &before));
	xs_test_orders(f->st, NULL, "o6::B,F;o7::F,G;o8::F,H", NULL);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, "E=0.2<B/1 C=0.1681793<B/1 F=0.1519671<B/1");
	xs_test_made_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "E=0.2<B C=0.168179<B F=0.151967<B");

	answer_in(f->st, before, &set, &a, 7, got, sizeof(got), &listed);
	xs_txn_abort(before);
	assert_false(listed); /* an older snapshot keeps none: it walks */
	assert_string_equal(got, "E=0.25<B/1 C=0.2102241<B/1");
}

/* Forgetting a user retires every list made before: their orders are
 * taken out of pairs other items' lists walk through, and a later order
 * can bring a count back to a list's stamp. u1's p1 {A,F} led from A
 * to G (via F, p2 {F,G}); once u1 is forgotten, every list is due at
 * once (no wait), and after p3 {A,H} brings N_A back to 3, the list
 * A's answer made before the forget (N_A 3) no longer answers: the
 * answer is the walk's, without G. */
static void
test_forget_retires_lists(void **state)
{
	struct xs_test_store        *f = *state;
	struct xs_settings           set;
	struct xs_comp_refresh_opts  o = { 0 };
	struct xs_comp_refresh_stats rs;
	struct ask                   a = { { "A" }, 1, 0, false, false, 0, 0 };
	char                         got[512], want[512], list[256];
	bool                         listed;

	xs_settings_default(&set);
	set.comp_momentum_weight = 0;
	xs_test_orders(f->st, NULL, "p1:u1:A,F;p2::F,G", NULL);
	(void) refresh(f->st, &set);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_non_null(strstr(got, "G=")); /* via F, u1's order */

	assert_true(xs_test_forget(f->st, "u1"));
	o.now_s          = xs_now_s();
	o.chunk          = 4;
	o.touched_wait_s = 60;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.items, 7); /* A-G: F and G by p2 */
	assert_int_equal(rs.due, 7);
	assert_int_equal(rs.computed, 7);
	assert_int_equal(rs.made, 0);
	xs_test_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "E=0.25<B C=0.210224<B");

	xs_test_orders(f->st, NULL, "p3::A,H", NULL);
	assert_int_equal(xs_test_item_count(f->st, "A", XS_C_BASKETS), 3);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	a.fresh = true;
	answer(f->st, &set, &a, 7, want, sizeof(want), NULL);
	assert_string_equal(got, want);
	assert_null(strstr(got, "G="));
}

/* An order of A makes its list not fresh (the answer makes its own, with
 * the order in), and the refresh writes that one to the store, touched
 * first. After o6 {A,D}: N_A 3, N_D 2; A's first level B (2/3) and D
 * (1/3). C: 2/3 * 1/4 / 2^0.25 + 1/3 * 1/2 / 2^0.25 = 1/3 / 2^0.25 =
 * 0.2802988 (its best path via D: 1/6 / 2^0.25 = 0.140152 against via B
 * the same; tie: the smaller item number, B); E: 2/3 * 1/4 = 0.1666667. */
static void
test_write_then_refresh_changes_the_list(void **state)
{
	struct xs_test_store        *f = *state;
	struct xs_settings           set;
	struct xs_comp_refresh_stats rs;
	struct ask                   a = { { "A" }, 1, 0, false, false, 0, 0 };
	char                         list[256], got[512];
	bool                         listed;

	xs_settings_default(&set);
	set.comp_momentum_weight = 0;
	(void) refresh(f->st, &set);
	xs_test_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "E=0.25<B C=0.210224<B");

	xs_test_orders(f->st, NULL, "o6::A,D", NULL);
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed); /* from a list the answer made */
	assert_string_equal(got, "C=0.2802988<B/1 E=0.1666667<B/1");
	xs_test_comp_list(
	    f->st, "A", list, sizeof(list)); /* still the old one */
	assert_string_equal(list, "E=0.25<B C=0.210224<B");

	rs = refresh(f->st, &set);
	/* A and D were ordered; the others' lists are fresh. A's is the
	 * one the answer made, taken as it is. */
	assert_int_equal(rs.due, 2);
	assert_int_equal(rs.computed, 2);
	assert_int_equal(rs.made, 1);
	xs_test_comp_list(f->st, "A", list, sizeof(list));
	assert_string_equal(list, "C=0.280299<B E=0.166667<B");
	answer(f->st, &set, &a, 7, got, sizeof(got), &listed);
	assert_true(listed);
	assert_string_equal(got, "C=0.2802988<B/1 E=0.1666667<B/1");
}

/* With a wait for touched lists (xselld's refresher waits a minute), an
 * order of A and B leaves their lists, just made, not due, while the
 * missing lists of new items F and G are due at once; without a wait
 * (xsell-load --complements) A's and B's are due too. */
static void
test_touched_list_waits(void **state)
{
	struct xs_test_store        *f = *state;
	struct xs_settings           set;
	struct xs_comp_refresh_opts  o = { 0 };
	struct xs_comp_refresh_stats rs;

	xs_settings_default(&set);
	(void) refresh(f->st, &set);
	xs_test_orders(f->st, NULL, "o6::A,B;o7::F,G", NULL);

	o.now_s          = xs_now_s();
	o.chunk          = 1;
	o.touched_wait_s = 60;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.items, 7);
	assert_int_equal(rs.due, 2); /* F and G */
	assert_int_equal(rs.computed, 2);

	o.touched_wait_s = 0;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.due, 2); /* A and B */
	assert_int_equal(rs.computed, 2);
}

/* What a look for due lists tells xselld's idle refresher: the second
 * the first list it left comes due by age alone, and the orders' stamp,
 * which a commit of orders moves and neither views nor the refresher's
 * own writes do. Lists made at T come due at T + 1801 (past half of
 * their hour); after an order of A and of a new item F at T + 1, F's
 * missing list is due at once and A's, touched, at T + 60. */
static void
test_look_says_when_lists_come_due(void **state)
{
	struct xs_test_store        *f = *state;
	struct xs_settings           set;
	struct xs_comp_refresh_opts  o = { 0 };
	struct xs_comp_refresh_stats rs;
	int64_t                      t = xs_now_s();
	uint64_t                     stamp;

	xs_settings_default(&set);
	o.now_s          = t;
	o.chunk          = 1;
	o.touched_wait_s = 60;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.computed, 5);
	stamp = rs.orders_at;
	assert_true(stamp != 0 && stamp != UINT64_MAX);
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.due, 0);
	assert_int_equal(rs.next_due_s, t + 1801);
	assert_int_equal(rs.orders_at, stamp); /* its own writes */

	xs_test_events(f->st, NULL, "1 view u1 A");
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.due, 0);
	assert_int_equal(rs.orders_at, stamp);

	xs_test_orders(f->st, NULL, "o6::A,F", NULL);
	o.now_s = t + 1;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_true(rs.orders_at > stamp);
	assert_int_equal(rs.due, 1); /* F */
	assert_int_equal(rs.next_due_s, t + 60);

	o.now_s = t + 60;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.due, 1); /* A */
	assert_int_equal(rs.computed, 1);
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.due, 0);
	assert_int_equal(rs.next_due_s, t + 1801);
}

struct between {
	xs_store *st;
	unsigned  calls;
};

/* Between two chunks: a client's write must get the write lock at once
 * (were it held, this would wait forever: the test's timeout fails). */
static xsell_err
write_between(void *ctx)
{
	struct between *b = ctx;
	char            spec[64];

	b->calls++;
	snprintf(spec, sizeof(spec), "w%u::C,E", b->calls);
	xs_test_orders(b->st, NULL, spec, NULL);
	return XSELL_OK;
}

/* Five due lists in chunks of two: three write transactions of at most
 * two lists each, and a client's write commits between every two. */
static void
test_refresh_writes_in_chunks(void **state)
{
	struct xs_test_store        *f = *state;
	struct xs_settings           set;
	struct xs_comp_refresh_opts  o = { 0 };
	struct xs_comp_refresh_stats rs;
	struct between               b = { f->st, 0 };

	xs_settings_default(&set);
	o.now_s   = xs_now_s();
	o.chunk   = 2;
	o.between = write_between;
	o.ctx     = &b;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.due, 5);
	assert_int_equal(rs.computed, 5);
	assert_int_equal(rs.chunks, 3);
	assert_int_equal(rs.max_chunk, 2);
	assert_int_equal(b.calls, 3);

	/* max_lists bounds one call: the writes made C and E due again. */
	o.max_lists = 1;
	o.between   = NULL;
	assert_xs_ok(xs_model_comp_refresh(f->st, &set, &o, &rs));
	assert_int_equal(rs.due, 2);
	assert_int_equal(rs.computed, 1);
}

/* A bigger graph whose lists are cut short (3 entries, the 2 most
 * trending), orders over 40 days so that momentum varies: every answer
 * is the walk's, whether the lists answered or not; with one item, to
 * the last bit, with two to 12 digits (the same terms summed in another
 * order). Some answers, of one item and of two, must come from the
 * lists, and some must not. One item asked again with another k is
 * answered from the snapshot's memo of its candidates, proven by the
 * memo's floor (breaking that proof fails this test). */
static void
test_lists_answer_as_the_walk(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	char                  spec[16384], got[4096], want[4096];
	size_t                o        = 0;
	uint32_t              rnd      = 12345;
	unsigned              n_listed = 0, n_asked = 0, n_multi = 0;

	for (unsigned i = 0; i < 300; i++) {
		unsigned n = 2 + i % 3;

		if (i % 50 == 0 && i != 0) { /* the fixture's batch limit */
			xs_test_events(f->st, NULL, spec);
			o = 0;
		}
		o += (size_t) snprintf(spec + o, sizeof(spec) - o,
		    "%s%u order - ", i % 50 ? ";" : "",
		    1000 + (i % 40) * 86400);
		for (unsigned j = 0; j < n; j++) {
			rnd = rnd * 1103515245u + 12345u;
			/* skewed: low numbers are common */
			unsigned it = (rnd >> 16) % 30;

			it = it * it / 30;
			o += (size_t) snprintf(spec + o, sizeof(spec) - o,
			    "%sI%u", j ? "," : "", it + j * 7 % 30);
		}
		o += (size_t) snprintf(spec + o, sizeof(spec) - o, " x%u", i);
	}
	xs_test_events(f->st, NULL, spec);
	xs_settings_default(&set);
	set.comp_list_len   = 3;
	set.comp_list_trend = 2;
	(void) refresh(f->st, &set);
	for (unsigned i = 0; i < 40; i++) {
		char       name[2][16];
		struct ask a = { { name[0], name[1] }, 1, 0, 0, 0, 0, 0 };
		bool       listed;

		snprintf(name[0], sizeof(name[0]), "I%u", i % 30);
		snprintf(name[1], sizeof(name[1]), "I%u", (i * 7 + 3) % 30);
		a.n = i < 30 ? 1 : 2;
		for (unsigned k = 1; k <= 10; k += 3) {
			a.k     = k;
			a.fresh = false;
			answer(f->st, &set, &a, a.n == 1 ? 17 : 12, got,
			    sizeof(got), &listed);
			a.fresh = true;
			answer(f->st, &set, &a, a.n == 1 ? 17 : 12, want,
			    sizeof(want), NULL);
			assert_string_equal(got, want);
			n_listed += listed;
			n_multi += listed && a.n == 2;
			n_asked++;
		}
	}
	assert_true(n_listed > 0);
	assert_true(n_multi > 0); /* 32 of 160 here, 2 of them of two items */
	assert_true(n_listed < n_asked); /* cut short: some must walk */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_is_the_walk_by_hand,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_stale_or_missing_list_is_made_by_the_answer,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_made_list_stands_until_its_item_is_ordered,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_write_then_refresh_changes_the_list,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_made_list_answers_no_older_snapshot,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_forget_retires_lists,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_refresh_writes_in_chunks,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_touched_list_waits,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_look_says_when_lists_come_due,
		    xs_test_comp_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_lists_answer_as_the_walk,
		    xs_test_store_setup, xs_test_store_teardown),
	};

	return cmocka_run_group_tests_name("comp_lists", tests, NULL, NULL);
}
