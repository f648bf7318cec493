/* SPDX-License-Identifier: MIT */
/* for_you against a straightforward recomputation on a hand-made store:
 * the answer sums the seeds' neighbours in a hash tally and marks the
 * bought items by probes (picks.c); here the same definition is worked
 * out with plain arrays indexed by item number, from the store's own
 * lists, one user at a time: taste from the history, every taste item
 * its own weight, the strongest pick_seeds_max taste items each bringing
 * its top-list neighbours over the three similar relations, the largest
 * seed naming the candidate, momentum on the positive scores, bought
 * items and those scored <= 0 left out, best first with ties by id.
 * The tally itself is checked past its first size by hand. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "store/store.h"

#define DAY 86400
#define T0 1000000000
#define ITEMS_MAX 64 /* item numbers of the hand-made store stay below */

static struct xs_span
span(const char *s)
{
	return (struct xs_span) { s, (uint32_t) strlen(s) };
}

/* The store: guest orders spread over 50 days, view sessions, carts,
 * and users with every kind of history event. u1 bought A and B, viewed
 * C, carted D and rated E badly; u2 viewed eight items (more than the
 * seeds the settings below allow); u3 carted and removed F and viewed G;
 * u4 rated everything it saw badly. */
static void
load_store(xs_store *st)
{
	char spec[2048];

	snprintf(spec, sizeof(spec),
	    "%d order - A,B,C g1; %d order - A,B g2; %d order - B,C,D g3; "
	    "%d order - C,D,E g4; %d order - A,E,F g5; %d order - F,G g6; "
	    "%d order - G,H,A g7; %d order - H,B g8; %d order - I,J,A g9; "
	    "%d order - J,K,C g10; %d order - K,L g11; %d order - L,A,D g12",
	    T0 - 50 * DAY, T0 - 40 * DAY, T0 - 30 * DAY, T0 - 20 * DAY,
	    T0 - 10 * DAY, T0 - 5 * DAY, T0 - 2 * DAY, T0 - DAY, T0 - 3 * DAY,
	    T0 - 4 * DAY, T0 - 6 * DAY, T0 - 7 * DAY);
	xs_test_events(st, NULL, spec);
	snprintf(spec, sizeof(spec),
	    "%d view v1 A; %d view v1 C; %d view v1 G; %d view v2 B; "
	    "%d view v2 D; %d view v2 H; %d view v3 A; %d view v3 H; "
	    "%d view v3 K; %d cart_add c1 A; %d cart_add c1 D; "
	    "%d cart_add c2 B; %d cart_add c2 E; %d cart_add c2 L",
	    T0 - 3600, T0 - 3500, T0 - 3400, T0 - 7200, T0 - 7100, T0 - 7000,
	    T0 - 9000, T0 - 8900, T0 - 8800, T0 - 5000, T0 - 4900, T0 - 6000,
	    T0 - 5900, T0 - 5800);
	xs_test_events(st, NULL, spec);
	snprintf(spec, sizeof(spec),
	    "%d order u1 A,B o1; %d view u1 C; %d cart_add u1 D; "
	    "%d rating u1 E 1; %d view u2 A; %d view u2 B; %d view u2 C; "
	    "%d view u2 D; %d view u2 E; %d view u2 F; %d view u2 G; "
	    "%d view u2 H; %d cart_add u3 F; %d cart_remove u3 F; "
	    "%d view u3 G; %d rating u4 A 1; %d rating u4 K 2",
	    T0 - 3 * DAY, T0 - 3600, T0 - 7200, T0 - 600, T0 - 40 * DAY,
	    T0 - 30 * DAY, T0 - 20 * DAY, T0 - 10 * DAY, T0 - 5 * DAY,
	    T0 - 2 * DAY, T0 - DAY, T0 - 3600, T0 - 4 * DAY, T0 - 3 * DAY,
	    T0 - 2 * DAY, T0 - DAY, T0 - DAY);
	xs_test_events(st, NULL, spec);
}

/* What the definition gives for one user, by item number. */
struct expect {
	double   taste[ITEMS_MAX];
	double   score[ITEMS_MAX];
	bool     seen[ITEMS_MAX];
	double   by_group[ITEMS_MAX][ITEMS_MAX]; /* [item][group] */
	uint32_t seeds[ITEMS_MAX];               /* in crediting order */
	size_t   n_seeds;
	bool     bought[ITEMS_MAX];
};

struct taste_ctx {
	const struct xs_settings *set;
	struct expect            *e;
	double                    rating[ITEMS_MAX]; /* the newest's part */
};

/* DESIGN.md's weights: by type, a rating by its value; decayed by age
 * with the pick half-life. Of an item's ratings only the newest counts
 * (the walk is oldest first): picks.md. */
static xsell_err
taste_cb(void *ctx, const struct xs_hist_rec *ev)
{
	struct taste_ctx         *t   = ctx;
	const struct xs_settings *set = t->set;
	double                    w, part;

	if (ev->type == XS_EV_RATING) {
		w = ev->value >= 4   ? set->pick_rating_high
		    : ev->value <= 2 ? set->pick_rating_low
		                     : 0;
	} else {
		w = set->pick_weight[ev->type];
	}
	assert_true(ev->item < ITEMS_MAX);
	part = w *
	    pow(0.5,
	        (double) (T0 - ev->ts) / (set->pick_half_life_days * DAY));
	if (ev->type == XS_EV_RATING) {
		t->rating[ev->item] = part;
	} else {
		t->e->taste[ev->item] += part;
	}
	return XSELL_OK;
}

static xsell_err
bought_cb(void *ctx, uint32_t item, int64_t ts, uint32_t count)
{
	struct expect *e = ctx;

	(void) ts;
	(void) count;
	assert_true(item < ITEMS_MAX);
	e->bought[item] = true;
	return XSELL_OK;
}

static void
credit(struct expect *e, uint32_t item, double s, uint32_t group)
{
	assert_true(item < ITEMS_MAX);
	e->seen[item] = true;
	e->score[item] += s;
	e->by_group[item][group] += s;
}

/* One seed's neighbours over one relation, from its whole top list. */
struct seed_ctx {
	struct expect *e;
	xs_store      *st;
	MDB_txn       *txn;
	enum xs_scorer scorer;
	enum xs_count  count;
	double         n_a, n, weight;
	uint32_t       seed, min_support;
};

static xsell_err
seed_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct seed_ctx      *s = ctx;
	struct xs_item_counts c;
	struct xs_pair_stats  ps;

	if (count < s->min_support) {
		return XSELL_OK;
	}
	assert_xs_ok(xs_store_counts_get(s->st, s->txn, b, &c));
	ps.n_ab = count;
	ps.n_a  = s->n_a;
	ps.n_b  = c.c[s->count];
	ps.n    = s->n;
	credit(s->e, b, s->weight * xs_score(s->scorer, &ps), s->seed);
	return XSELL_OK;
}

/* Seeds: the taste items by |weight| descending, ties by number. */
static size_t
pick_seeds(const struct expect *e, size_t max, uint32_t *seeds)
{
	size_t n = 0;

	for (uint32_t i = 1; i < ITEMS_MAX; i++) {
		if (e->taste[i] != 0) {
			seeds[n++] = i;
		}
	}
	for (size_t i = 1; i < n; i++) { /* insertion sort: a dozen */
		for (size_t j = i; j > 0; j--) {
			double   a = fabs(e->taste[seeds[j - 1]]);
			double   b = fabs(e->taste[seeds[j]]);
			uint32_t t = seeds[j];

			if (a > b || (a == b && seeds[j - 1] < t)) {
				break;
			}
			seeds[j]     = seeds[j - 1];
			seeds[j - 1] = t;
		}
	}
	return n < max ? n : max;
}

static void
walk_seed(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_totals *tot, struct expect *e, uint32_t seed)
{
	static const struct {
		enum xs_rel   rel;
		enum xs_count count;
		enum xs_part  part;
	} rels[3]   = { { XS_REL_BASKET, XS_C_BASKETS, XS_PART_ORDER },
		  { XS_REL_VIEW, XS_C_VIEWS, XS_PART_VIEW },
		  { XS_REL_CART, XS_C_CARTS, XS_PART_CART } };
	double n[3] = { (double) tot->baskets, (double) tot->views_counted,
		(double) tot->carts_counted };
	struct xs_item_counts c;

	assert_xs_ok(xs_store_counts_get(st, txn, seed, &c));
	for (size_t r = 0; r < 3; r++) {
		struct seed_ctx s = { e, st, txn, set->similar_scorer,
			rels[r].count, c.c[rels[r].count], n[r],
			e->taste[seed] * set->similar_weight[rels[r].part],
			seed, set->min_support };

		assert_xs_ok(xs_store_top_each(
		    st, txn, rels[r].rel, seed, SIZE_MAX, seed_cb, &s, NULL));
	}
}

/* Momentum on every positive score: 1 + weight x trend / (orders and
 * weighted views ever + prior). */
static void
weigh_by_momentum(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    struct expect *e)
{
	struct xs_trend_list l;

	assert_xs_ok(
	    xs_model_trend_list(st, txn, set, set->trend_half_life_days, &l));
	for (size_t i = 0; i < l.n; i++) {
		uint32_t              it = l.v[i].item;
		struct xs_item_counts c;
		double                ever;

		if (it >= ITEMS_MAX || !e->seen[it] || e->score[it] <= 0) {
			continue;
		}
		assert_xs_ok(xs_store_counts_get(st, txn, it, &c));
		ever = c.c[XS_C_BASKETS] +
		    set->trend_view_weight * c.c[XS_C_VIEWS];
		e->score[it] *= 1.0 +
		    set->pick_momentum_weight * l.v[i].score /
		        (ever + set->pick_momentum_prior);
	}
	xs_model_trend_list_free(&l);
}

/* The group naming 'item': the largest positive sum, the first on a tie;
 * its own weight came first, then the seeds in order. */
static uint32_t
because_of(const struct expect *e, uint32_t item)
{
	uint32_t best = 0;
	double   sum  = 0;

	if (e->taste[item] > 0) {
		best = item;
		sum  = e->taste[item];
	}
	for (size_t g = 0; g < e->n_seeds; g++) {
		double s = e->by_group[item][e->seeds[g]];

		if (s > sum) {
			sum  = s;
			best = e->seeds[g];
		}
	}
	return best;
}

static void
expect_for(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, struct expect *e)
{
	struct taste_ctx t = { set, e, { 0 } };
	struct xs_totals tot;

	memset(e, 0, sizeof(*e));
	assert_xs_ok(
	    xs_store_history_each(st, txn, user, false, taste_cb, &t));
	for (uint32_t i = 1; i < ITEMS_MAX; i++) {
		e->taste[i] += t.rating[i];
	}
	assert_xs_ok(xs_store_bought_each(st, txn, user, bought_cb, e));
	assert_xs_ok(xs_store_totals_get(st, txn, &tot));
	for (uint32_t i = 1; i < ITEMS_MAX; i++) {
		if (e->taste[i] != 0) {
			credit(e, i, e->taste[i], i);
		}
	}
	e->n_seeds = pick_seeds(e, set->pick_seeds_max, e->seeds);
	for (size_t s = 0; s < e->n_seeds; s++) {
		walk_seed(st, txn, set, &tot, e, e->seeds[s]);
	}
	weigh_by_momentum(st, txn, set, e);
}

/* The expected history picks as ranked: score descending, ties by the
 * external id. */
struct ranked {
	uint32_t    item;
	double      score;
	const char *ext;
	size_t      len;
};

static int
cmp_ranked(const void *x, const void *y)
{
	const struct ranked *p = x, *q = y;
	size_t               n = p->len < q->len ? p->len : q->len;
	int                  c;

	if (p->score != q->score) {
		return p->score > q->score ? -1 : 1;
	}
	c = memcmp(p->ext, q->ext, n);
	return c != 0 ? c : (p->len > q->len) - (p->len < q->len);
}

/* Every user's for_you answer (k 50, no filter) must start with the
 * recomputed history picks, same items, order, because and scores (to
 * the rounding of summing a taste in another order), then only trending
 * items. */
static void
check_user(xs_store *st, const struct xs_settings *set, const char *user)
{
	struct xs_query  q = { 0 };
	struct xs_answer ans;
	struct xs_arena  arena;
	struct expect   *e = calloc(1, sizeof(*e));
	struct ranked    want[ITEMS_MAX];
	size_t           n_want = 0;
	uint32_t         uid;
	MDB_txn         *txn;

	assert_non_null(e);
	q.user = span(user);
	q.kind = XS_PICK_FOR_YOU;
	q.now  = T0;
	q.k    = 50;
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(
	    xs_store_id_get(st, txn, XS_DICT_USER, user, strlen(user), &uid));
	expect_for(st, txn, set, uid, e);
	for (uint32_t i = 1; i < ITEMS_MAX; i++) {
		if (e->seen[i] && e->score[i] > 0 && !e->bought[i]) {
			want[n_want].item  = i;
			want[n_want].score = e->score[i];
			assert_xs_ok(xs_store_ext_get(st, txn, XS_DICT_ITEM, i,
			    &want[n_want].ext, &want[n_want].len));
			n_want++;
		}
	}
	qsort(want, n_want, sizeof(*want), cmp_ranked);
	assert_xs_ok(xs_model_picks(st, txn, set, &q, &arena, &ans));
	assert_true(ans.n >= n_want);
	for (size_t i = 0; i < n_want; i++) {
		const struct xs_rec *r = &ans.recs[i];

		assert_int_equal(r->item, want[i].item);
		assert_int_equal(r->why.source, XS_SOURCE_HISTORY);
		assert_int_equal(r->why.because, because_of(e, want[i].item));
		assert_true(fabs(r->score - want[i].score) <=
		    1e-12 * fabs(want[i].score));
	}
	for (size_t i = n_want; i < ans.n; i++) {
		assert_int_equal(ans.recs[i].why.source, XS_SOURCE_TRENDING);
		assert_true(ans.recs[i].item >= ITEMS_MAX ||
		    !e->bought[ans.recs[i].item]);
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
	free(e);
}

static void
test_for_you_matches_recomputation(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;

	xs_settings_default(&set);
	set.pick_seeds_max       = 3; /* u2's eight items: five left out */
	set.pick_momentum_weight = 30;
	set.pick_momentum_prior  = 2;
	load_store(f->st);
	check_user(f->st, &set, "u1");
	check_user(f->st, &set, "u2");
	check_user(f->st, &set, "u3");
	check_user(f->st, &set, "u4");
	set.similar_scorer       = XS_SCORE_COSINE;
	set.pick_momentum_weight = 0;
	check_user(f->st, &set, "u1");
	check_user(f->st, &set, "u2");
}

/* The tally past its first size (2,048 slots), its items colliding in
 * the low bits: item i * 4096 + 1 for i < 5000, each credited 1 in group
 * 7, then the even ones 2 in group 9. By hand: 5000 entries in order of
 * first credit, odd i score 1 named by 7, even i score 3 named by 9
 * (2 > 1); an item never credited is not found. */
static void
test_tally_grows_and_keeps_sums(void **state)
{
	struct xs_tally t = { 0 };

	(void) state;
	for (uint32_t i = 0; i < 5000; i++) {
		assert_xs_ok(xs_tally_credit(&t, i * 4096 + 1, 1.0, 7));
	}
	for (uint32_t i = 0; i < 5000; i += 2) {
		assert_xs_ok(xs_tally_credit(&t, i * 4096 + 1, 2.0, 9));
	}
	xs_tally_settle(&t);
	assert_int_equal(t.n, 5000);
	for (uint32_t i = 0; i < 5000; i++) {
		const struct xs_tally_entry *e =
		    xs_tally_find(&t, i * 4096 + 1);

		assert_non_null(e);
		assert_ptr_equal(e, &t.v[i]);
		assert_true(e->score == (i % 2 ? 1.0 : 3.0));
		assert_true(e->share == (i % 2 ? 1.0 : 2.0));
		assert_int_equal(e->because, i % 2 ? 7 : 9);
		assert_int_equal(e->group, 0);
	}
	assert_null(xs_tally_find(&t, 2));
	xs_tally_free(&t);
	assert_null(xs_tally_find(&t, 1));
}

/* A group's only part credited whole (xs_tally_credit_whole) leaves the
 * entry as xs_tally_credit and a settle do, also between groups of
 * several parts still open. By hand: item 3 gets 1 whole (group 5),
 * then 0.5 and 0.75 in group 6, then 1.125 whole (group 8): score
 * 3.375, the largest group 6's 1.25. Then 40 items take 3,000 groups
 * drawn from a fixed sequence, each one part (-0.5, 0, 0.5 or 1) or two
 * (-0.25, 0.25 or 0.5 each), so that many groups tie at 1, the largest
 * (the first of them names the entry); one tally credits each one-part
 * group whole, the other every part by xs_tally_credit: the same
 * scores, shares and names. */
static void
test_tally_whole_credit_is_a_settled_group(void **state)
{
	static const double one[] = { -0.5, 0, 0.5, 1 };
	static const double two[] = { -0.25, 0.25, 0.5 };
	struct xs_tally     whole = { 0 }, parts = { 0 };
	uint32_t            seq = 12345;

	(void) state;
	assert_xs_ok(xs_tally_credit_whole(&whole, 3, 1.0, 5));
	assert_xs_ok(xs_tally_credit(&whole, 3, 0.5, 6));
	assert_xs_ok(xs_tally_credit(&whole, 3, 0.75, 6));
	assert_xs_ok(xs_tally_credit_whole(&whole, 3, 1.125, 8));
	xs_tally_settle(&whole);
	assert_true(whole.v[0].score == 3.375);
	assert_true(whole.v[0].share == 1.25);
	assert_int_equal(whole.v[0].because, 6);
	xs_tally_free(&whole);

	for (uint32_t group = 1; group <= 3000; group++) {
		uint32_t item, run;

		seq  = seq * 1103515245u + 12345u;
		item = 1 + (seq >> 16) % 40;
		run  = 1 + (seq >> 24) % 2;
		for (uint32_t p = 0; p < run; p++) {
			double part;

			seq  = seq * 1103515245u + 12345u;
			part = run == 1 ? one[(seq >> 16) % 4]
			                : two[(seq >> 16) % 3];
			assert_xs_ok(
			    xs_tally_credit(&parts, item, part, group));
			assert_xs_ok(run == 1
			        ? xs_tally_credit_whole(
			              &whole, item, part, group)
			        : xs_tally_credit(&whole, item, part, group));
		}
	}
	xs_tally_settle(&parts);
	xs_tally_settle(&whole);
	assert_int_equal(whole.n, parts.n);
	assert_int_equal(whole.n, 40);
	for (size_t i = 0; i < parts.n; i++) {
		assert_int_equal(whole.v[i].item, parts.v[i].item);
		assert_true(whole.v[i].score == parts.v[i].score);
		assert_true(whole.v[i].share == parts.v[i].share);
		assert_int_equal(whole.v[i].because, parts.v[i].because);
	}
	xs_tally_free(&parts);
	xs_tally_free(&whole);
}

/* The same sums with the entries found by item number in an index the
 * store lends for items below 3000 (it may lend a longer one): items
 * below its length go there, the first past it moves the tally to the
 * hash table (both rounds credit both kinds). Given back, the index is
 * all zero for the next borrower. */
#define INDEXED 3000

static void
test_tally_by_index_keeps_sums(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_tally       t = { 0 };
	struct xs_store_info  info;
	uint32_t             *ix;
	size_t                cap;

	xs_tally_use_index(&t, f->st, INDEXED);
	assert_non_null(t.index);
	cap = t.index_cap;
	assert_true(cap >= INDEXED && cap < 5000);
	for (uint32_t i = 0; i < 5000; i++) {
		assert_xs_ok(xs_tally_credit(&t, i, 1.0, 7));
		assert_true((t.index != NULL) == (i < cap));
	}
	for (uint32_t i = 0; i < 5000; i += 2) {
		assert_xs_ok(xs_tally_credit(&t, i, 2.0, 9));
	}
	xs_tally_settle(&t);
	assert_int_equal(t.n, 5000);
	for (uint32_t i = 0; i < 5000; i++) {
		const struct xs_tally_entry *e = xs_tally_find(&t, i);

		assert_ptr_equal(e, &t.v[i]);
		assert_true(e->score == (i % 2 ? 1.0 : 3.0));
		assert_int_equal(e->because, i % 2 ? 7 : 9);
	}
	assert_null(xs_tally_find(&t, 5000));
	xs_tally_free(&t);

	/* An index kept in use: entries found there, then given back. */
	xs_tally_use_index(&t, f->st, INDEXED);
	assert_xs_ok(xs_tally_credit(&t, 17, 1.5, 3));
	assert_non_null(t.index);
	assert_ptr_equal(xs_tally_find(&t, 17), &t.v[0]);
	assert_null(xs_tally_find(&t, 18));
	xs_tally_free(&t);
	ix = xs_store_index_take(f->st, INDEXED, &cap);
	assert_non_null(ix);
	assert_true(cap >= INDEXED);
	for (size_t i = 0; i < cap; i++) {
		assert_int_equal(ix[i], 0);
	}
	xs_store_index_give(f->st, ix, cap);
	/* One array made, kept for the next answer: stats tell its bytes. */
	assert_xs_ok(xs_store_info_get(f->st, &info));
	assert_int_equal(info.index_bytes, cap * sizeof(*ix));
}

/* for_you ranks its best k + 32 candidates first, and more only when
 * the filter leaves the answer short (picks.c). u5 viewed S, whose 60
 * partners N01..N60 were bought with it 60 down to 1 times: with the
 * best 45 excluded, the answer must be what ranking all 60 gives
 * without a filter (k 60: no cut), those 45 left out. Short of the
 * later rounds it would be trending items instead. */
#define PARTNERS 60
#define EXCLUDED 45

static void
test_for_you_beyond_the_first_cut(void **state)
{
	struct xs_test_store *f   = *state;
	size_t                cap = 64 * 1024, o = 0;
	char                 *spec = malloc(cap);
	char                  ids[PARTNERS][4];
	struct xs_span        excl[EXCLUDED];
	struct xs_settings    set;
	struct xs_query       q = { 0 };
	struct xs_answer      all, some;
	struct xs_arena       arena;
	MDB_txn              *txn;
	size_t                n_want = 0;

	assert_non_null(spec);
	for (int i = 0; i < PARTNERS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "N%02d", i + 1);
	}
	/* Order j holds S and N01..N(61-j): Ni is in 61 - i of them. */
	for (int j = 1; j <= PARTNERS; j++) {
		o += (size_t) snprintf(
		    spec + o, cap - o, "%d order - S", T0 - 10 * DAY + j);
		for (int i = 0; i <= PARTNERS - j; i++) {
			o += (size_t) snprintf(
			    spec + o, cap - o, ",%s", ids[i]);
		}
		o += (size_t) snprintf(spec + o, cap - o, " p%d; ", j);
	}
	o += (size_t) snprintf(spec + o, cap - o, "%d view u5 S", T0 - 3600);
	xs_test_events(f->st, NULL, spec);
	free(spec);
	for (int i = 0; i < EXCLUDED; i++) {
		excl[i] = span(ids[i]);
	}

	xs_settings_default(&set);
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	q.user = span("u5");
	q.kind = XS_PICK_FOR_YOU;
	q.now  = T0;
	q.k    = PARTNERS;
	assert_xs_ok(xs_model_picks(f->st, txn, &set, &q, &arena, &all));
	q.k                = 10;
	q.filter.exclude   = excl;
	q.filter.n_exclude = EXCLUDED;
	assert_xs_ok(xs_model_picks(f->st, txn, &set, &q, &arena, &some));
	assert_int_equal(some.n, 10);
	for (size_t i = 0; i < all.n && n_want < some.n; i++) {
		const struct xs_rec *r = &all.recs[i];

		/* An id is its length of bytes, not a C string. */
		if (r->ext_len == 3 && r->ext[0] == 'N' &&
		    (r->ext[1] - '0') * 10 + (r->ext[2] - '0') <= EXCLUDED) {
			continue;
		}
		assert_int_equal(some.recs[n_want].item, r->item);
		assert_int_equal(
		    some.recs[n_want].why.source, XS_SOURCE_HISTORY);
		n_want++;
	}
	assert_int_equal(n_want, 10);
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
}

/* ==== The other kinds, and the trending fill, on small stores ==== */

/* Tell the store item 'id''s category (NULL: none) and its created time
 * (0: not told). */
static void
describe_item(xs_store *st, const char *id, const char *cat, int64_t created)
{
	struct xs_item_update up;
	MDB_txn              *txn;

	memset(&up, 0, sizeof(up));
	up.item        = span(id);
	up.category    = cat != NULL ? span(cat) : span("");
	up.has_created = created != 0;
	up.created     = created;
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_model_items_upsert(st, txn, &up, 1, T0));
	assert_xs_ok(xs_txn_commit(txn));
}

/* One answer of a picks request, copied out of its transaction. */
struct pick {
	char     id[16];
	double   score;
	unsigned source;      /* enum xs_source */
	char     because[16]; /* "": none */
};

static void
copy_id(char *out, size_t room, const char *p, size_t len)
{
	assert_true(len < room);
	memcpy(out, p, len);
	out[len] = '\0';
}

/* Ask q of the store; returns how many answers (at most 'max'). */
static size_t
ask_picks(xs_store *st, const struct xs_settings *set,
    const struct xs_query *q, struct pick *out, size_t max)
{
	struct xs_answer ans;
	struct xs_arena  arena;
	MDB_txn         *txn;

	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_model_picks(st, txn, set, q, &arena, &ans));
	assert_true(ans.n <= max);
	for (uint32_t i = 0; i < ans.n; i++) {
		const struct xs_rec *r = &ans.recs[i];

		copy_id(out[i].id, sizeof(out[i].id), r->ext, r->ext_len);
		out[i].score  = r->score;
		out[i].source = r->why.source;
		copy_id(out[i].because, sizeof(out[i].because),
		    r->why.because != 0 ? r->why.because_ext : "",
		    r->why.because != 0 ? r->why.because_len : 0);
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
	return ans.n;
}

/* The ids of 'n' answers as "A B C". */
static const char *
ids_of(const struct pick *p, size_t n, char *buf, size_t room)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		o += (size_t) snprintf(
		    buf + o, room - o, "%s%s", i ? " " : "", p[i].id);
		assert_true(o < room);
	}
	return buf;
}

static struct xs_query
picks_query(const char *user, enum xs_pick_kind kind, unsigned k)
{
	struct xs_query q = { 0 };

	q.user            = span(user);
	q.kind            = kind;
	q.k               = k;
	q.now             = T0;
	q.filter.in_stock = true;
	return q;
}

/* max_per_category holds over the whole for_you answer, the trending
 * fill counted with the history's answers. u6 viewed K1 (kitchen), which
 * has no neighbours: the history gives K1 alone. Trending: K2 (kitchen,
 * 3 orders), K3 (kitchen, 2), T1 (toys, 1). With 2 a category and k 4,
 * K1 and K2 fill the kitchen, so K3 is passed over for T1: K1 K2 T1
 * (the fill counting kitchen from zero took K3 too). With 1 a category
 * and k 3, K1 T1: the fill's first two, K2 and K3, are both passed over,
 * so it must rank further down for T1. */
static void
test_for_you_fill_keeps_max_per_category(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = picks_query("u6", XS_PICK_FOR_YOU, 4);
	struct pick           p[4];
	char                  buf[64];
	size_t                n;

	xs_test_events(f->st, NULL,
	    "999990000 order - K2 t1; 999990001 order - K2 t2; "
	    "999990002 order - K2 t3; 999990003 order - K3 t4; "
	    "999990004 order - K3 t5; 999990005 order - T1 t6; "
	    "999996400 view u6 K1");
	describe_item(f->st, "K1", "kitchen", 0);
	describe_item(f->st, "K2", "kitchen", 0);
	describe_item(f->st, "K3", "kitchen", 0);
	describe_item(f->st, "T1", "toys", 0);
	xs_settings_default(&set);

	q.filter.max_per_category = 2;
	n                         = ask_picks(f->st, &set, &q, p, 4);
	assert_string_equal(ids_of(p, n, buf, sizeof(buf)), "K1 K2 T1");
	assert_int_equal(p[0].source, XS_SOURCE_HISTORY);
	assert_int_equal(p[1].source, XS_SOURCE_TRENDING);
	assert_int_equal(p[2].source, XS_SOURCE_TRENDING);

	q.filter.max_per_category = 1;
	q.k                       = 3;
	n                         = ask_picks(f->st, &set, &q, p, 4);
	assert_string_equal(ids_of(p, n, buf, sizeof(buf)), "K1 T1");
	q.k = 4;

	/* Without a cap, every trending item fills. */
	q.filter.max_per_category = 0;
	n                         = ask_picks(f->st, &set, &q, p, 4);
	assert_string_equal(ids_of(p, n, buf, sizeof(buf)), "K1 K2 K3 T1");
}

/* buy_again for a 'now' before the user's last purchase (a clock behind
 * the events', a back-dated now): the purchase is at or after now, age
 * 0, as picks.md has every age, so the item is listed as one bought just
 * now, not yet due. u7 bought X 20 days before T0 and 10 days before:
 * R 1, Dsum 10, B 1, n 2; 2 x (0.1 + 1) x (0.5 + 0.5 x 0) = 1.1, the
 * same as at the purchase itself (the raw negative age left X out).
 * With buy_again_due_share 0.5 it is not due at either time. */
static void
test_buy_again_purchase_after_now(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = picks_query("u7", XS_PICK_BUY_AGAIN, 10);
	struct pick           at[2], before[2];
	double                want;

	xs_test_events(
	    f->st, NULL, "998272000 order u7 X o1; 999136000 order u7 X o2");
	xs_settings_default(&set);
	want = 2 * (set.buy_again_rate_floor + 1.0) *
	    set.buy_again_not_due_weight;

	q.now = T0 - 10 * DAY; /* the last purchase */
	assert_int_equal(ask_picks(f->st, &set, &q, at, 2), 1);
	assert_string_equal(at[0].id, "X");
	assert_true(fabs(at[0].score - want) <= 1e-12);
	q.now = T0 - 10 * DAY - 3600; /* an hour before it */
	assert_int_equal(ask_picks(f->st, &set, &q, before, 2), 1);
	assert_string_equal(before[0].id, "X");
	assert_true(before[0].score == at[0].score);
	assert_int_equal(before[0].source, XS_SOURCE_BOUGHT);

	set.buy_again_due_share = 0.5;
	assert_int_equal(ask_picks(f->st, &set, &q, before, 2), 0);
	q.now = T0 - 10 * DAY;
	assert_int_equal(ask_picks(f->st, &set, &q, at, 2), 0);
}

/* abandoned_cart with a cart add after 'now': its age is 0, as picks.md
 * has every age, so min_age_s 0 lists it with score 0.5^0 = 1, as it
 * does an add at now (the raw negative age fell below the window); the
 * default min_age_s (an hour) leaves both out. u8 carted Y an hour after
 * T0 and Z at T0. */
static void
test_abandoned_cart_add_after_now(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query q = picks_query("u8", XS_PICK_ABANDONED_CART, 10);
	struct pick     p[2];
	char            buf[64];
	size_t          n;

	xs_test_events(
	    f->st, NULL, "1000003600 cart_add u8 Y; 1000000000 cart_add u8 Z");
	xs_settings_default(&set);
	q.has_min_age = true;
	q.min_age_s   = 0;
	n             = ask_picks(f->st, &set, &q, p, 2);
	assert_string_equal(ids_of(p, n, buf, sizeof(buf)), "Y Z");
	assert_true(p[0].score == 1.0 && p[1].score == 1.0);
	assert_int_equal(p[0].source, XS_SOURCE_CART);

	q.has_min_age = false;
	assert_int_equal(ask_picks(f->st, &set, &q, p, 2), 0);
}

/* abandoned_cart ages an item by its latest add: added again while in
 * the cart, it was last added then (event.md, the open cart). u12 carted
 * X 20 days before T0 and again 2 days before: listed, 2 days old (the
 * first add kept made it given up). Y, carted 5 and 2 days before T0,
 * with a removal dated between the two that arrives last: the second add
 * is after it, so Y stays (it was removed). Z, carted 3 days before T0
 * and again 10 minutes before: too fresh for the default hour (it was
 * listed as 3 days old). */
static void
test_abandoned_cart_ages_by_the_latest_add(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query q = picks_query("u12", XS_PICK_ABANDONED_CART, 10);
	struct pick     p[3];
	char            spec[512], buf[64];
	size_t          n;

	snprintf(spec, sizeof(spec),
	    "%d cart_add u12 X; %d cart_add u12 X; %d cart_add u12 Y; "
	    "%d cart_add u12 Y; %d cart_remove u12 Y; %d cart_add u12 Z; "
	    "%d cart_add u12 Z",
	    T0 - 20 * DAY, T0 - 2 * DAY, T0 - 5 * DAY, T0 - 2 * DAY - 60,
	    T0 - 3 * DAY, T0 - 3 * DAY, T0 - 600);
	xs_test_events(f->st, NULL, spec);
	xs_settings_default(&set);
	n = ask_picks(f->st, &set, &q, p, 3);
	assert_string_equal(ids_of(p, n, buf, sizeof(buf)), "X Y");
	assert_true(fabs(p[0].score - pow(0.5, 2.0 / 7)) <= 1e-12);
	assert_int_equal(p[0].source, XS_SOURCE_CART);

	q.has_min_age = true;
	q.min_age_s   = 0;
	n             = ask_picks(f->st, &set, &q, p, 3);
	assert_string_equal(ids_of(p, n, buf, sizeof(buf)), "Z X Y");
}

/* abandoned_cart goes by time, not arrival: an add that arrives after an
 * order or a removal of the item dated later (a load of the orders file,
 * then of the events) is not listed. u13 ordered A and B 2 days before
 * T0 and removed D then; the adds of A, B, C and D, 3 days before T0,
 * arrive after those: C alone is abandoned (A and B were listed, bought,
 * and D, removed). */
static void
test_abandoned_cart_goes_by_time_not_arrival(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query q = picks_query("u13", XS_PICK_ABANDONED_CART, 10);
	struct pick     p[4];
	char            spec[512], buf[64];
	size_t          n;

	snprintf(spec, sizeof(spec),
	    "%d order u13 A,B o13; %d cart_remove u13 D; %d cart_add u13 A; "
	    "%d cart_add u13 B; %d cart_add u13 C; %d cart_add u13 D",
	    T0 - 2 * DAY, T0 - 2 * DAY, T0 - 3 * DAY, T0 - 3 * DAY + 60,
	    T0 - 3 * DAY + 120, T0 - 3 * DAY + 180);
	xs_test_events(f->st, NULL, spec);
	xs_settings_default(&set);
	n = ask_picks(f->st, &set, &q, p, 4);
	assert_string_equal(ids_of(p, n, buf, sizeof(buf)), "C");
}

/* new_arrivals' fit is the share of the user's whole positive taste in
 * the item's category (picks.md): taste in items without a category
 * counts in the whole. u9 viewed K (kitchen) and U (no category) at the
 * same time, equal tastes: the kitchen's share is 1/2, so NK (kitchen,
 * created 2 days before T0, never ordered or viewed) scores 1/2 + 0
 * (the share among categorised items alone gave 1). */
static void
test_new_arrivals_fit_counts_all_taste(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = picks_query("u9", XS_PICK_NEW_ARRIVALS, 10);
	struct pick           p[2];

	xs_test_events(
	    f->st, NULL, "999996400 view u9 K; 999996400 view u9 U");
	describe_item(f->st, "K", "kitchen", 0);
	describe_item(f->st, "NK", "kitchen", T0 - 2 * DAY);
	xs_settings_default(&set);
	assert_int_equal(ask_picks(f->st, &set, &q, p, 2), 1);
	assert_string_equal(p[0].id, "NK");
	assert_true(p[0].score == 0.5);
	assert_int_equal(p[0].source, XS_SOURCE_NEW);
}

/* Every candidate the history scored has a 'because', also one scored
 * below 0 (ranked only with a candidate list): the largest positive part
 * names it, and with none, its most negative part, what sank it.
 * Baskets {R,Q} twice and {P,Q}. u10 rated R 1 (taste -3): R is its own
 * reason, and Q, credited only through R, is R's too (both had none).
 * u11 rated R 1 and viewed P: Q's parts are R's -3 x 2/3 and P's
 * 1 x 1/3, below 0 in all, and P, its positive part, names it. */
static void
test_for_you_negative_candidates_have_because(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = picks_query("u10", XS_PICK_FOR_YOU, 10);
	struct xs_span        cands[2] = { span("R"), span("Q") };
	struct pick           p[2];

	xs_test_events(f->st, NULL,
	    "999900000 order - R,Q g1; 999900001 order - R,Q g2; "
	    "999900002 order - P,Q g3; 999996400 rating u10 R 1; "
	    "999996400 rating u11 R 1; 999996400 view u11 P");
	xs_settings_default(&set);
	q.candidates   = cands;
	q.n_candidates = 2;
	assert_int_equal(ask_picks(f->st, &set, &q, p, 2), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(p[i].score < 0);
		assert_int_equal(p[i].source, XS_SOURCE_HISTORY);
		assert_string_equal(p[i].because, "R");
	}

	q.user = span("u11");
	assert_int_equal(ask_picks(f->st, &set, &q, p, 2), 2);
	assert_string_equal(p[0].id, "Q");
	assert_true(p[0].score < 0);
	assert_string_equal(p[0].because, "P");
	assert_string_equal(p[1].id, "R");
	assert_string_equal(p[1].because, "R");
}

/* A customer's rating of an item is their newest one. Baskets {A,B},
 * {C,D} and {E,F}, twice each. u20 rated A 1 then 5, C 5 then 1, E 5
 * then 3, a day apart: A is liked (B scored above 0, because A), C
 * disliked (D below 0, because C), E neither (F not scored at all). Were
 * ratings summed, A would sink B (-3 x 0.98 + 2 x 0.99 < 0) and E would
 * lift F. */
static void
test_for_you_newest_rating_counts(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = picks_query("u20", XS_PICK_FOR_YOU, 10);
	struct xs_span        cands[3] = { span("B"), span("D"), span("F") };
	struct pick           p[3];
	char                  spec[1024];

	snprintf(spec, sizeof(spec),
	    "%d order - A,B g1; %d order - A,B g2; %d order - C,D g3; "
	    "%d order - C,D g4; %d order - E,F g5; %d order - E,F g6; "
	    "%d rating u20 A 1; %d rating u20 C 5; %d rating u20 E 5; "
	    "%d rating u20 A 5; %d rating u20 C 1; %d rating u20 E 3",
	    T0 - 9 * DAY, T0 - 9 * DAY, T0 - 9 * DAY, T0 - 9 * DAY,
	    T0 - 9 * DAY, T0 - 9 * DAY, T0 - 2 * DAY, T0 - 2 * DAY,
	    T0 - 2 * DAY, T0 - DAY, T0 - DAY, T0 - DAY);
	xs_test_events(f->st, NULL, spec);
	xs_settings_default(&set);
	set.pick_momentum_weight = 0; /* scores by taste alone */
	q.now                    = T0;
	q.candidates             = cands;
	q.n_candidates           = 3;
	assert_int_equal(ask_picks(f->st, &set, &q, p, 3), 3);
	assert_string_equal(p[0].id, "B");
	assert_true(p[0].score > 0);
	assert_string_equal(p[0].because, "A");
	/* F, never scored, ranks between B's gain and D's loss. */
	assert_string_equal(p[1].id, "F");
	assert_true(p[1].score == 0);
	assert_string_equal(p[1].because, "");
	assert_string_equal(p[2].id, "D");
	assert_true(p[2].score < 0);
	assert_string_equal(p[2].because, "C");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tally_grows_and_keeps_sums),
		cmocka_unit_test(test_tally_whole_credit_is_a_settled_group),
		cmocka_unit_test_setup_teardown(test_tally_by_index_keeps_sums,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_for_you_matches_recomputation, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_for_you_beyond_the_first_cut, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_for_you_fill_keeps_max_per_category,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_buy_again_purchase_after_now, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_abandoned_cart_add_after_now, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_abandoned_cart_ages_by_the_latest_add,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_abandoned_cart_goes_by_time_not_arrival,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_new_arrivals_fit_counts_all_taste,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_for_you_negative_candidates_have_because,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_for_you_newest_rating_counts, xs_test_store_setup,
		    xs_test_store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
