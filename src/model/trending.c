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
 * every item ordered or viewed in that window, plus the metadata of the
 * candidates when a category is asked for. */
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

/* Keep the candidates of category 'cat' only. */
static xsell_err
keep_category(
    xs_store *st, MDB_txn *txn, uint32_t cat, struct xs_cand *v, size_t *np)
{
	size_t u = 0;

	for (size_t i = 0; i < *np; i++) {
		struct xs_item_meta m;
		xsell_err err = xs_store_meta_get(st, txn, v[i].item, &m);

		if (err != XSELL_OK && err != XSELL_ENOENT) {
			return err;
		}
		if (m.category == cat) {
			v[u++] = v[i];
		}
	}
	*np = u;
	return XSELL_OK;
}

/* What a trend list depends on besides the snapshot: the memo's key. */
struct trend_key {
	double half_life_days;
	double view_weight;
};

/* The trend list of this snapshot from the memo, as candidates. */
static bool
trend_from_memo(xs_store *st, MDB_txn *txn, const struct trend_key *key,
    struct xs_cand **vp, size_t *np)
{
	struct xs_trend_item *t;
	struct xs_cand       *v;
	size_t                len, n;

	if (!xs_store_memo_get(st, txn, XS_MEMO_TREND, key, sizeof(*key),
	        (void **) &t, &len)) {
		return false;
	}
	n = len / sizeof(*t);
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL) {
		free(t);
		return false; /* computed afresh instead */
	}
	for (size_t i = 0; i < n; i++) {
		v[i].item  = t[i].item;
		v[i].count = t[i].orders;
		v[i].score = t[i].score;
	}
	free(t);
	*vp = v;
	*np = n;
	return true;
}

static void
trend_to_memo(xs_store *st, MDB_txn *txn, const struct trend_key *key,
    const struct xs_cand *v, size_t n)
{
	struct xs_trend_item *t = calloc(n + 1, sizeof(*t));

	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].item   = v[i].item;
		t[i].orders = (uint32_t) v[i].count;
		t[i].score  = v[i].score;
	}
	xs_store_memo_put(
	    st, txn, XS_MEMO_TREND, key, sizeof(*key), t, n * sizeof(*t));
	free(t);
}

/* Sum the day lists: the trend list of txn's snapshot. */
static xsell_err
trend_sum(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct trend_key *key, struct xs_cand **vp, size_t *np)
{
	double            half_life_days = key->half_life_days;
	struct trend_walk t              = { 0 };
	uint32_t          today, horizon;
	bool              any;
	xsell_err         err;

	*vp = NULL;
	*np = 0;
	err = trend_today(st, txn, &today, &any);
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
	if (err != XSELL_OK) {
		free(t.map.vec.v);
		return err;
	}
	*np = t.map.vec.n;
	*vp = t.map.vec.v;
	trend_to_memo(st, txn, key, *vp, *np);
	return XSELL_OK;
}

/* The trend list as compact items, for a caller that only looks scores
 * up (momentum): the memo's copy as it is, without a candidate for each
 * item (a list of thousands of items made that allocation most of a
 * for_you answer's work). */
xsell_err
xs_model_trend_items(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    double half_life_days, struct xs_trend_item **vp, size_t *np)
{
	struct trend_key      key = { half_life_days, set->trend_view_weight };
	struct xs_trend_item *t;
	struct xs_cand       *v;
	size_t                len, n;
	xsell_err             err;

	if (xs_store_memo_get(st, txn, XS_MEMO_TREND, &key, sizeof(key),
	        (void **) &t, &len)) {
		*vp = t;
		*np = len / sizeof(*t);
		return XSELL_OK;
	}
	*vp = NULL;
	*np = 0;
	err = trend_sum(st, txn, set, &key, &v, &n);
	if (err != XSELL_OK) {
		return err;
	}
	t = calloc(n + 1, sizeof(*t));
	if (t == NULL) {
		free(v);
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].item   = v[i].item;
		t[i].orders = (uint32_t) v[i].count;
		t[i].score  = v[i].score;
	}
	free(v);
	*vp = t;
	*np = n;
	return XSELL_OK;
}

/* Every picks answer that fills with trending items asks for the same
 * list until the next commit: it is summed once per snapshot and kept
 * (store memo), which turned picks' slowest answers from milliseconds
 * into tens of microseconds. */
xsell_err
xs_model_trend_scores(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double half_life_days, struct xs_cand **vp,
    size_t *np)
{
	struct trend_key key = { half_life_days, set->trend_view_weight };

	if (trend_from_memo(st, txn, &key, vp, np)) {
		return XSELL_OK;
	}
	return trend_sum(st, txn, set, &key, vp, np);
}

xsell_err
xs_model_trending(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_rank_ids ids;
	struct xs_cand    *v = NULL;
	size_t             n = 0;
	double             h =
            q->has_half_life ? q->half_life_days : set->trend_half_life_days;
	xsell_err err;

	err = xs_rank_resolve(st, txn, q, arena, &ids, ans);
	if (err == XSELL_OK) {
		err = xs_model_trend_scores(st, txn, set, h, &v, &n);
	}
	if (err == XSELL_OK && q->category.len != 0) {
		uint32_t cat = 0;

		err = xs_store_id_get(st, txn, XS_DICT_CAT, q->category.p,
		    q->category.len, &cat);
		if (err == XSELL_ENOENT) {
			n   = 0; /* nothing is in a category nobody stored */
			err = XSELL_OK;
		} else if (err == XSELL_OK) {
			err = keep_category(st, txn, cat, v, &n);
		}
	}
	for (size_t i = 0; i < n; i++) {
		v[i].why.source = XS_SOURCE_TRENDING;
	}
	if (err == XSELL_OK) {
		err = xs_rank_top(st, txn, q, ids.excluded, ids.n_excluded, v,
		    n, arena, ans);
	}
	free(v);
	return err;
}
