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
	struct xs_trend_list    trend;
	xsell_err               err;

	if (weight == 0 || cands->vec.n == 0) {
		return XSELL_OK;
	}
	err = xs_model_trend_list(
	    st, txn, set, set->trend_half_life_days, &trend);
	if (err != XSELL_OK) {
		xs_model_trend_list_free(&trend);
		return err;
	}
	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < trend.n; i++) {
		struct xs_cand *c = xs_cand_map_find(cands, trend.v[i].item);
		double          f;

		if (c == NULL || c->score <= 0) {
			continue;
		}
		f = trend_item_factor(&counts, set, weight, &trend.v[i]);
		c->score *= f;
		c->share *= f; /* explain: the seed's or path's part alike */
	}
	xs_counts_reader_fini(&counts);
	xs_model_trend_list_free(&trend);
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

/* A momentum table as one block, the memo's bytes: this head, then the
 * n factors by item, the n by factor, and for a lookup per candidate in
 * constant time either n_dense factors by item number (1 for an item
 * outside the table) or n_slots hash slots (each the index + 1 of its
 * item in by_item; 0: empty). */
struct table_head {
	uint64_t n, n_slots; /* n_slots: a power of two above 2n, or 0 */
	uint64_t n_dense;    /* the largest item + 1, or 0 */
};

/* Factors by item number when the items are no sparser than this: one
 * load a candidate where the hash took two dependent ones (its slot,
 * then by_item), which at 50,000 trend items (512 KiB of slots, 800 KiB
 * by item) was a sixth of a for_you answer's time. The array is then at
 * most about as large as the slots and by_item together. */
#define TABLE_DENSE_PER_ITEM 3u

static size_t
table_home(uint32_t item, size_t n_slots)
{
	return (size_t) (item * 2654435761u) & (n_slots - 1);
}

/* Point t at the table in 'block' (as momentum_table_sum makes it). */
static void
table_view(const void *block, struct xs_momentum_table *t)
{
	const struct table_head *h = block;

	t->by_item   = (const struct xs_momentum_factor *) (h + 1);
	t->by_factor = t->by_item + h->n;
	t->n         = h->n;
	t->n_slots   = h->n_slots;
	t->n_dense   = h->n_dense;
	t->slots     = NULL;
	t->dense     = NULL;
	if (h->n_dense != 0) {
		t->dense = (const double *) (t->by_factor + h->n);
	} else {
		t->slots = (const uint32_t *) (t->by_factor + h->n);
	}
}

static void
table_dense_fill(const struct xs_momentum_factor *by_item, size_t n,
    double *dense, size_t n_dense)
{
	for (size_t i = 0; i < n_dense; i++) {
		dense[i] = 1.0;
	}
	for (size_t i = 0; i < n; i++) {
		dense[by_item[i].item] = by_item[i].factor;
	}
}

static void
table_slots_fill(const struct xs_momentum_factor *by_item, size_t n,
    uint32_t *slots, size_t n_slots)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = table_home(by_item[i].item, n_slots);

		while (slots[j] != 0) {
			j = (j + 1) & (n_slots - 1);
		}
		slots[j] = (uint32_t) i + 1;
	}
}

/* Each trend item's factor, as xs_weigh_by_momentum computes it, into a
 * table block (malloc'd, its size in *lenp). */
static xsell_err
momentum_table_sum(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    double weight, void **blockp, size_t *lenp)
{
	struct xs_counts_reader    counts;
	struct xs_trend_list       trend;
	struct table_head         *h;
	struct xs_momentum_factor *v;
	size_t                     n, n_slots = 2, n_dense = 0, len;
	uint32_t                   top = 0;
	xsell_err                  err = xs_model_trend_list(
	                     st, txn, set, set->trend_half_life_days, &trend);

	if (err != XSELL_OK) {
		xs_model_trend_list_free(&trend);
		return err;
	}
	n = trend.n;
	for (size_t i = 0; i < n; i++) {
		top = trend.v[i].item > top ? trend.v[i].item : top;
	}
	if (n != 0 && (size_t) top < TABLE_DENSE_PER_ITEM * n) {
		n_dense = (size_t) top + 1;
		n_slots = 0;
	}
	while (n_slots != 0 && n_slots <= 2 * n) {
		n_slots *= 2;
	}
	len = sizeof(*h) + 2 * n * sizeof(*v) + n_slots * sizeof(uint32_t) +
	    n_dense * sizeof(double);
	h = calloc(1, len);
	if (h == NULL) {
		xs_model_trend_list_free(&trend);
		return XSELL_ENOMEM;
	}
	h->n       = n;
	h->n_slots = n_slots;
	h->n_dense = n_dense;
	v          = (struct xs_momentum_factor *) (h + 1);
	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < n; i++) {
		v[i].item = trend.v[i].item;
		v[i].factor =
		    trend_item_factor(&counts, set, weight, &trend.v[i]);
	}
	xs_counts_reader_fini(&counts);
	xs_model_trend_list_free(&trend);
	if (n != 0) {
		qsort(v, n, sizeof(*v), factor_cmp_item);
		memcpy(v + n, v, n * sizeof(*v));
		qsort(v + n, n, sizeof(*v), factor_cmp_largest);
	}
	if (n_dense != 0) {
		table_dense_fill(v, n, (double *) (v + 2 * n), n_dense);
	} else {
		table_slots_fill(v, n, (uint32_t *) (v + 2 * n), n_slots);
	}
	*blockp = h;
	*lenp   = len;
	return XSELL_OK;
}

/* A complements answer from precomputed lists needs each candidate's
 * factor and the largest factors of all (what an item the lists left out
 * could at most be lifted by): computed once per snapshot, as the trend
 * list it is made of, and read by every answer in place (a copy of it
 * per answer was a third of an answer's instructions). */
static xsell_err
table_get(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    double weight, enum xs_memo_slot slot, struct xs_momentum_table *out)
{
	struct momentum_key key = { weight, set->pick_momentum_prior,
		set->trend_half_life_days, set->trend_view_weight };
	const void         *held;
	void               *block;
	size_t              len;
	xsell_err           err;

	memset(out, 0, sizeof(*out));
	if (weight == 0) {
		return XSELL_OK;
	}
	if (xs_store_memo_hold(
	        st, txn, slot, &key, sizeof(key), &held, &len)) {
		out->held = held;
		table_view(held, out);
		return XSELL_OK;
	}
	err = momentum_table_sum(st, txn, set, weight, &block, &len);
	if (err != XSELL_OK) {
		return err;
	}
	xs_store_memo_put(st, txn, slot, &key, sizeof(key), block, len);
	out->owned = block;
	table_view(block, out);
	return XSELL_OK;
}

xsell_err
xs_momentum_table_get(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double weight,
    struct xs_momentum_table *out)
{
	return table_get(st, txn, set, weight, XS_MEMO_MOMENTUM, out);
}

/* for_you's factors come from a table of their own weight, kept per
 * snapshot as complements' are: the pass over every trend item (its
 * counters read, its factor computed, the tally probed) was a fifth of
 * an answer. An item outside the table keeps its score (factor 1, as
 * an item outside the trend list). */
xsell_err
xs_tally_weigh_by_momentum(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double weight, struct xs_tally *t)
{
	struct xs_momentum_table mt;
	xsell_err                err;

	if (weight == 0 || t->n == 0) {
		return XSELL_OK;
	}
	err = table_get(st, txn, set, weight, XS_MEMO_PICK_MOMENTUM, &mt);
	if (err != XSELL_OK) {
		return err;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct xs_tally_entry *e = &t->v[i];
		double                 f;

		if (e->score <= 0) {
			continue;
		}
		f = xs_momentum_table_find(&mt, e->item);
		e->score *= f;
		e->share *= f;
	}
	xs_momentum_table_fini(&mt);
	return XSELL_OK;
}

double
xs_momentum_table_find(const struct xs_momentum_table *t, uint32_t item)
{
	size_t j;

	if (t->dense != NULL) {
		return item < t->n_dense ? t->dense[item] : 1.0;
	}
	if (t->n == 0 || t->slots == NULL) { /* a table of no items */
		return 1.0;
	}
	for (j = table_home(item, t->n_slots); t->slots[j] != 0;
	     j = (j + 1) & (t->n_slots - 1)) {
		const struct xs_momentum_factor *f =
		    &t->by_item[t->slots[j] - 1];

		if (f->item == item) {
			return f->factor;
		}
	}
	return 1.0;
}

void
xs_momentum_table_fini(struct xs_momentum_table *t)
{
	xs_store_memo_release(t->held);
	free(t->owned);
	memset(t, 0, sizeof(*t));
}
