/* SPDX-License-Identifier: MIT */
/* Momentum: how much a candidate sells now, against all it ever sold.
 * Shared by for_you (picks.c) and complements (complements.c), each with
 * its own weight. Touches the trend list (memoised per snapshot) and the
 * counters of the candidates in it. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

/* 1 + weight x trend / (ever + prior), with 'trend' the candidate's trend
 * score (orders and weighted views, decayed by age) and 'ever' the same
 * counted without decay. The neighbours of a year of history say what
 * goes together; what a customer buys next is largely what sells now (a
 * shop's season, its new lines). Normalised per candidate, a rising line
 * is told from a big steady seller: a boost by the trend score alone
 * turned for_you into trending (README, "Quality"). */
static double
momentum_factor(
    const struct xs_settings *set, double weight, double trend, double ever)
{
	double base = ever + set->pick_momentum_prior;

	/* With no prior, counts that say nothing (a forgotten user's) must
	 * not divide by zero: no momentum then. */
	return base > 0 ? 1.0 + weight * trend / base : 1.0;
}

/* The factor of one trend item: its orders and weighted views ever read
 * from the counters. */
static double
trend_item_factor(struct xs_counts_reader *counts,
    const struct xs_settings *set, double weight,
    const struct xs_trend_item *t)
{
	double ever = xs_counts_reader_get(counts, t->item, XS_C_BASKETS) +
	    set->trend_view_weight *
	        xs_counts_reader_get(counts, t->item, XS_C_VIEWS);

	return momentum_factor(set, weight, t->score, ever);
}

/* Only positive scores are weighed: a negative one is a user's dislike
 * (for_you), which how well the item sells does not change. */
xsell_err
xs_weigh_by_momentum(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    double weight, struct xs_cand_map *cands)
{
	struct xs_counts_reader counts;
	struct xs_trend_item   *trend;
	size_t                  n;
	xsell_err               err;

	if (weight == 0 || cands->vec.n == 0) {
		return XSELL_OK;
	}
	err = xs_model_trend_items(
	    st, txn, set, set->trend_half_life_days, &trend, &n);
	if (err != XSELL_OK) {
		return err;
	}
	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < n; i++) {
		struct xs_cand *c = xs_cand_map_find(cands, trend[i].item);
		double          f;

		if (c == NULL || c->score <= 0) {
			continue;
		}
		f = trend_item_factor(&counts, set, weight, &trend[i]);
		c->score *= f;
		c->share *= f; /* explain: the seed's or path's part alike */
	}
	free(trend);
	return XSELL_OK;
}

xsell_err
xs_tally_weigh_by_momentum(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double weight, struct xs_tally *t)
{
	struct xs_counts_reader counts;
	struct xs_trend_item   *trend;
	size_t                  n;
	xsell_err               err;

	if (weight == 0 || t->n == 0) {
		return XSELL_OK;
	}
	err = xs_model_trend_items(
	    st, txn, set, set->trend_half_life_days, &trend, &n);
	if (err != XSELL_OK) {
		return err;
	}
	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < n; i++) {
		struct xs_tally_entry *e = xs_tally_find(t, trend[i].item);
		double                 f;

		if (e == NULL || e->score <= 0) {
			continue;
		}
		f = trend_item_factor(&counts, set, weight, &trend[i]);
		e->score *= f;
		e->share *= f;
	}
	free(trend);
	return XSELL_OK;
}

/* What a momentum table depends on besides the snapshot: the memo's key
 * (XS_MEMO_KEY_MAX bytes at most). */
struct momentum_key {
	double weight, prior, half_life_days, view_weight;
};

static int
factor_cmp_item(const void *x, const void *y)
{
	const struct xs_momentum_factor *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

/* Largest first; ties by item, so the order is a function of the store. */
static int
factor_cmp_largest(const void *x, const void *y)
{
	const struct xs_momentum_factor *p = x, *q = y;

	if (p->factor != q->factor) {
		return p->factor > q->factor ? -1 : 1;
	}
	return factor_cmp_item(x, y);
}

/* Each trend item's factor, as xs_weigh_by_momentum computes it, into
 * v[0..2n): by item, then by factor. */
static xsell_err
momentum_table_sum(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    double weight, struct xs_momentum_factor **vp, size_t *np)
{
	struct xs_counts_reader    counts;
	struct xs_cand            *trend;
	struct xs_momentum_factor *v;
	size_t                     n;
	xsell_err                  err = xs_model_trend_scores(
	                     st, txn, set, set->trend_half_life_days, &trend, &n);

	if (err != XSELL_OK) {
		return err;
	}
	v = calloc(2 * n + 1, sizeof(*v));
	if (v == NULL) {
		free(trend);
		return XSELL_ENOMEM;
	}
	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < n; i++) {
		uint32_t c  = trend[i].item;
		double ever = xs_counts_reader_get(&counts, c, XS_C_BASKETS) +
		    set->trend_view_weight *
		        xs_counts_reader_get(&counts, c, XS_C_VIEWS);

		v[i].item = c;
		v[i].factor =
		    momentum_factor(set, weight, trend[i].score, ever);
	}
	free(trend);
	qsort(v, n, sizeof(*v), factor_cmp_item);
	memcpy(v + n, v, n * sizeof(*v));
	qsort(v + n, n, sizeof(*v), factor_cmp_largest);
	*vp = v;
	*np = n;
	return XSELL_OK;
}

/* A complements answer from precomputed lists needs each candidate's
 * factor and the largest factors of all (what an item the lists left out
 * could at most be lifted by): computed once per snapshot, as the trend
 * list it is made of. */
xsell_err
xs_momentum_table_get(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double weight,
    struct xs_momentum_table *out)
{
	struct momentum_key key = { weight, set->pick_momentum_prior,
		set->trend_half_life_days, set->trend_view_weight };
	void               *data;
	size_t              len, n = 0;
	xsell_err           err = XSELL_OK;

	memset(out, 0, sizeof(*out));
	if (weight == 0) {
		return XSELL_OK;
	}
	if (xs_store_memo_get(
	        st, txn, XS_MEMO_MOMENTUM, &key, sizeof(key), &data, &len)) {
		n = len / (2 * sizeof(struct xs_momentum_factor));
	} else {
		struct xs_momentum_factor *v;

		err = momentum_table_sum(st, txn, set, weight, &v, &n);
		if (err != XSELL_OK) {
			return err;
		}
		xs_store_memo_put(st, txn, XS_MEMO_MOMENTUM, &key, sizeof(key),
		    v, 2 * n * sizeof(*v));
		data = v;
	}
	out->by_item   = data;
	out->by_factor = out->by_item + n;
	out->n         = n;
	return XSELL_OK;
}

double
xs_momentum_table_find(const struct xs_momentum_table *t, uint32_t item)
{
	struct xs_momentum_factor  key = { item, 0 };
	struct xs_momentum_factor *f;

	if (t->n == 0) {
		return 1.0;
	}
	f = bsearch(&key, t->by_item, t->n, sizeof(key), factor_cmp_item);
	return f != NULL ? f->factor : 1.0;
}

void
xs_momentum_table_fini(struct xs_momentum_table *t)
{
	free(t->by_item);
	memset(t, 0, sizeof(*t));
}
