/* SPDX-License-Identifier: MIT */
/* Trending: time-decayed popularity. Each day keeps, per item, the orders
 * holding it and its counted views (count.c); an item's score is
 *
 *   sum over days d of (orders_d + w_view * views_d) * 0.5^(age_d / h)
 *
 * with age_d the days between d and the newest day the store has events
 * for, and h the half-life. "Now" is the newest day in the store, not the
 * wall clock, so that a store warmed from last year's export still has a
 * trend, and the answer is a function of the store alone.
 *
 * Cost: the day lists of the last ceil(8 h) days (at most 365), that is
 * every item ordered or viewed in that window, once per snapshot (kept
 * in rank order as a memo); then per answer, the list's front, as far as
 * the filter needs to fill k (and the metadata of those items when a
 * category is asked for). */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HORIZON_MAX_DAYS 365u

struct trend_walk {
	struct xs_cand_map map;
	double             weight; /* decay of this day times the weight */
	bool               orders; /* counting orders (explain's count) */
};

static xsell_err
trend_add(void *ctx, uint32_t item, uint32_t count)
{
	struct trend_walk *t = ctx;
	struct xs_cand    *c;
	xsell_err          err = xs_cand_map_get(&t->map, item, &c);

	if (err != XSELL_OK) {
		return err;
	}
	c->score += t->weight * count;
	c->count += t->orders ? count : 0;
	return XSELL_OK;
}

/* The newest day with any order or view; false if the store has none. */
static xsell_err
trend_today(xs_store *st, MDB_txn *txn, uint32_t *dayp, bool *anyp)
{
	uint32_t  d1 = 0, d2 = 0;
	xsell_err e1 = xs_store_pairs_last_a(st, txn, XS_REL_TREND_BUY, &d1);
	xsell_err e2 = xs_store_pairs_last_a(st, txn, XS_REL_TREND_VIEW, &d2);

	if ((e1 != XSELL_OK && e1 != XSELL_ENOENT) ||
	    (e2 != XSELL_OK && e2 != XSELL_ENOENT)) {
		return e1 != XSELL_OK && e1 != XSELL_ENOENT ? e1 : e2;
	}
	*anyp = e1 == XSELL_OK || e2 == XSELL_OK;
	*dayp = d1 > d2 ? d1 : d2;
	return XSELL_OK;
}

/* What a trend list depends on besides the snapshot: the memo's key. */
struct trend_key {
	double half_life_days;
	double view_weight;
};

/* Rank order: score largest first, ties by item number (a function of
 * the store; xs_rank_select orders a tie by external id). */
static int
trend_item_cmp(const void *x, const void *y)
{
	const struct xs_trend_item *p = x, *q = y;

	if (p->score != q->score) {
		return p->score > q->score ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

/* The summed candidates as a trend list in rank order (malloc'd). */
static struct xs_trend_item *
trend_items_sorted(const struct xs_cand *v, size_t n)
{
	struct xs_trend_item *t = calloc(n + 1, sizeof(*t));

	if (t == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].item   = v[i].item;
		t[i].orders = (uint32_t) v[i].count;
		t[i].score  = v[i].score;
	}
	qsort(t, n, sizeof(*t), trend_item_cmp);
	return t;
}

/* Sum the day lists: the trend list of txn's snapshot, in rank order,
 * into l (its own copy), and keep it as the snapshot's memo. */
static xsell_err
trend_sum(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct trend_key *key, struct xs_trend_list *l)
{
	double            half_life_days = key->half_life_days;
	struct trend_walk t              = { 0 };
	uint32_t          today, horizon;
	bool              any;
	xsell_err         err = trend_today(st, txn, &today, &any);

	if (err != XSELL_OK || !any) {
		return err;
	}
	horizon = (uint32_t) ceil(8 * half_life_days);
	if (horizon > HORIZON_MAX_DAYS) {
		horizon = HORIZON_MAX_DAYS;
	}
	for (uint32_t age = 0;
	     age < horizon && age <= today && err == XSELL_OK; age++) {
		double decay = pow(0.5, age / half_life_days);

		t.weight = decay;
		t.orders = true;
		err      = xs_store_pairs_each(
		         st, txn, XS_REL_TREND_BUY, today - age, trend_add, &t);
		if (err == XSELL_OK && set->trend_view_weight > 0) {
			t.weight = decay * set->trend_view_weight;
			t.orders = false;
			err = xs_store_pairs_each(st, txn, XS_REL_TREND_VIEW,
			    today - age, trend_add, &t);
		}
	}
	free(t.map.slots);
	if (err == XSELL_OK) {
		l->own = trend_items_sorted(t.map.vec.v, t.map.vec.n);
		err    = l->own != NULL ? XSELL_OK : XSELL_ENOMEM;
	}
	free(t.map.vec.v);
	if (err != XSELL_OK) {
		return err;
	}
	l->v = l->own;
	l->n = t.map.vec.n;
	xs_store_memo_put(st, txn, XS_MEMO_TREND, key, sizeof(*key), l->v,
	    l->n * sizeof(*l->v));
	return XSELL_OK;
}

/* Every answer that reads the trend list (trending, picks' fill,
 * momentum) asks for the same list until the next commit: it is summed
 * once per snapshot and kept (store memo), which turned picks' slowest
 * answers from milliseconds into tens of microseconds; and it is read
 * in place, since a copy of its tens of thousands of items per answer,
 * on memory fresh each time, took milliseconds again. */
xsell_err
xs_model_trend_list(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    double half_life_days, struct xs_trend_list *l)
{
	struct trend_key key = { half_life_days, set->trend_view_weight };
	const void      *held;
	size_t           len;

	memset(l, 0, sizeof(*l));
	if (xs_store_memo_hold(
	        st, txn, XS_MEMO_TREND, &key, sizeof(key), &held, &len)) {
		l->held = held;
		l->v    = held;
		l->n    = len / sizeof(*l->v);
		return XSELL_OK;
	}
	return trend_sum(st, txn, set, &key, l);
}

void
xs_model_trend_list_free(struct xs_trend_list *l)
{
	xs_store_memo_release(l->held);
	free(l->own);
	memset(l, 0, sizeof(*l));
}

/* Candidates ranked beyond k in the first round, so that a filter
 * dropping a few of the best costs no second round (rank.c's slack). */
#define TREND_RANK_SLACK 16u

/* Trend item e as a trending candidate (count: its orders). */
static struct xs_cand
trend_cand(const struct xs_trend_item *e)
{
	struct xs_cand c = { 0 };

	c.item       = e->item;
	c.score      = e->score;
	c.count      = e->orders;
	c.why.source = XS_SOURCE_TRENDING;
	return c;
}

xsell_err
xs_trend_rank(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, const struct xs_trend_list *l,
    xs_trend_keep_fn keep, void *ctx, struct xs_arena *arena,
    struct xs_answer *ans)
{
	struct xs_cand_vec vec  = { 0 };
	size_t             want = (size_t) q->k + TREND_RANK_SLACK;
	size_t             at   = 0;
	xsell_err          err  = XSELL_OK;

	for (;;) {
		/* The next items the caller keeps, up to 'want' of them and
		 * on to the end of a run of equal scores: a run is ranked by
		 * external id, so it is taken whole or not at all. */
		while (err == XSELL_OK && at < l->n &&
		    (vec.n < want || l->v[at].score == l->v[at - 1].score)) {
			bool kept = true;

			if (keep != NULL) {
				err = keep(ctx, l->v[at].item, &kept);
			}
			if (err == XSELL_OK && kept) {
				struct xs_cand c = trend_cand(&l->v[at]);

				err = xs_cand_vec_push(&vec, &c);
			}
			at++;
		}
		if (err == XSELL_OK) {
			err = xs_rank_select(st, txn, q, excluded, n_excluded,
			    vec.v, vec.n, arena, ans);
		}
		/* What the filter left of these: the best k of all, unless
		 * it took fewer and the list goes on. */
		if (err != XSELL_OK || ans->n == q->k || at == l->n) {
			break;
		}
		want = want > SIZE_MAX / 4 ? SIZE_MAX : 4 * want;
	}
	free(vec.v);
	return err;
}

/* The trending op's keep: items of the asked category only. */
struct category_keep {
	xs_store *st;
	MDB_txn  *txn;
	uint32_t  cat;
};

static xsell_err
keep_in_category(void *ctx, uint32_t item, bool *keepp)
{
	struct category_keep *ck = ctx;
	struct xs_item_meta   m  = { 0 };
	xsell_err err = xs_store_meta_get(ck->st, ck->txn, item, &m);

	if (err != XSELL_OK && err != XSELL_ENOENT) {
		return err;
	}
	*keepp = m.category == ck->cat;
	return XSELL_OK;
}

xsell_err
xs_model_trending(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_rank_ids   ids;
	struct xs_trend_list l  = { 0 };
	struct category_keep ck = { st, txn, 0 };
	double               h =
            q->has_half_life ? q->half_life_days : set->trend_half_life_days;
	bool      none = false; /* a category nobody stored: nothing in it */
	xsell_err err  = xs_rank_resolve(st, txn, q, arena, &ids, ans);

	if (err == XSELL_OK && q->category.len != 0) {
		err  = xs_store_id_get(st, txn, XS_DICT_CAT, q->category.p,
		     q->category.len, &ck.cat);
		none = err == XSELL_ENOENT;
		err  = none ? XSELL_OK : err;
	}
	if (err == XSELL_OK && !none) {
		err = xs_model_trend_list(st, txn, set, h, &l);
	}
	if (err == XSELL_OK) {
		err = xs_trend_rank(st, txn, q, ids.excluded, ids.n_excluded,
		    &l, q->category.len != 0 ? keep_in_category : NULL, &ck,
		    arena, ans);
	}
	xs_model_trend_list_free(&l);
	return err;
}
