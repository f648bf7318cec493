/* SPDX-License-Identifier: MIT */
/* First-level answers: the neighbours of the given items over one or
 * more relations, scored, weighted and summed over the given items, best
 * first with ties by external id.
 *
 *   fbt            the basket relation ("frequently bought with")
 *   viewed_bought  view -> buy ("people who viewed this bought")
 *   similar        co-purchase, co-view and co-cart, weighted
 *
 * Cost: one walk of each given item's list per relation (read a page at
 * a time), one counter-chunk lookup per 256 item numbers touched, a sort
 * of the candidates, and the metadata and external ids of the items that
 * are returned (or tied at the cut). Nothing scans the catalogue. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

/* One relation as a source of neighbours: which counters are its N_a and
 * N_b, its N, and the weight of its score in the sum. */
struct rel_source {
	enum xs_rel   rel;
	enum xs_count count_a, count_b;
	double        n_total;
	double        weight;
	enum xs_part  part;
};

struct walk {
	struct xs_cand_map      *map;
	const uint32_t          *given; /* sorted */
	size_t                   n_given;
	struct xs_counts_reader  counts;
	enum xs_scorer           scorer;
	uint32_t                 min_support;
	const struct rel_source *src;
	double                   n_a;
	bool                     parts; /* record score parts (similar) */
};

/* One neighbour b of the item being walked: its score under the source,
 * added to b's candidate. */
static xsell_err
walk_neighbour(void *ctx, uint32_t b, uint32_t count)
{
	struct walk         *w = ctx;
	struct xs_pair_stats ps;
	struct xs_cand      *c;
	double               s;
	xsell_err            err;

	if (count < w->min_support ||
	    xs_u32_contains(w->given, w->n_given, b)) {
		return XSELL_OK;
	}
	err = xs_cand_map_get(w->map, b, &c);
	if (err != XSELL_OK) {
		return err;
	}
	ps.n_ab = count;
	ps.n_a  = w->n_a;
	ps.n_b  = xs_counts_reader_get(&w->counts, b, w->src->count_b);
	ps.n    = w->src->n_total;
	s       = w->src->weight * xs_score(w->scorer, &ps);
	c->score += s;
	c->count += count;
	if (w->parts) {
		c->why.has_parts = true;
		c->why.parts[w->src->part] += s;
	}
	return XSELL_OK;
}

/* Walk every given item's list in every source, then rank. */
static xsell_err
neighbours_answer(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct rel_source *srcs, size_t n_srcs,
    bool parts, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_cand_map map = { 0 };
	struct walk        w   = { 0 };
	struct xs_rank_ids ids;
	xsell_err          err;

	err = xs_rank_resolve(st, txn, q, arena, &ids, ans);
	if (err != XSELL_OK) {
		return err;
	}
	w.map         = &map;
	w.n_given     = ids.n_given;
	w.given       = ids.given;
	w.scorer      = q->scorer;
	w.min_support = q->min_support ? q->min_support : set->min_support;
	w.parts       = parts;
	xs_counts_reader_init(&w.counts, st, txn);
	for (size_t s = 0; s < n_srcs && err == XSELL_OK; s++) {
		w.src = &srcs[s];
		for (size_t g = 0; g < w.n_given && err == XSELL_OK; g++) {
			w.n_a = xs_counts_reader_get(
			    &w.counts, ids.given[g], srcs[s].count_a);
			err = xs_store_pairs_each(st, txn, srcs[s].rel,
			    ids.given[g], walk_neighbour, &w);
		}
	}
	if (err == XSELL_OK) {
		err = xs_rank_top(st, txn, q, ids.excluded, ids.n_excluded,
		    map.vec.v, map.vec.n, arena, ans);
	}
	xs_cand_map_free(&map);
	return err;
}

xsell_err
xs_model_fbt(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct rel_source src = { XS_REL_BASKET, XS_C_BASKETS, XS_C_BASKETS, 0,
		1, XS_PART_ORDER };
	struct xs_totals  tot;
	xsell_err         err = xs_store_totals_get(st, txn, &tot);

	if (err != XSELL_OK) {
		return err;
	}
	src.n_total = (double) tot.baskets;
	return neighbours_answer(st, txn, set, q, &src, 1, false, arena, ans);
}

xsell_err
xs_model_viewed_bought(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    struct xs_arena *arena, struct xs_answer *ans)
{
	/* N_a: orders that a view of a preceded; N_b: orders of b. */
	struct rel_source src = { XS_REL_VIEW_BUY, XS_C_VIEW_BUYS,
		XS_C_BASKETS, 0, 1, XS_PART_ORDER };
	struct xs_totals  tot;
	xsell_err         err = xs_store_totals_get(st, txn, &tot);

	if (err != XSELL_OK) {
		return err;
	}
	src.n_total = (double) tot.baskets;
	return neighbours_answer(st, txn, set, q, &src, 1, false, arena, ans);
}

/* The three relations of similar, weighted by the settings times
 * 'weight'; returns how many (by q->signal). */
static size_t
similar_sources(const struct xs_settings *set, const struct xs_totals *tot,
    enum xs_signal signal, double weight, struct rel_source srcs[3])
{
	size_t n = 0;

	if (signal == XS_SIGNAL_ALL || signal == XS_SIGNAL_ORDER) {
		srcs[n++] = (struct rel_source) { XS_REL_BASKET, XS_C_BASKETS,
			XS_C_BASKETS, (double) tot->baskets,
			weight * set->similar_weight[XS_PART_ORDER],
			XS_PART_ORDER };
	}
	if (signal == XS_SIGNAL_ALL || signal == XS_SIGNAL_VIEW) {
		srcs[n++] = (struct rel_source) { XS_REL_VIEW, XS_C_VIEWS,
			XS_C_VIEWS, (double) tot->views_counted,
			weight * set->similar_weight[XS_PART_VIEW],
			XS_PART_VIEW };
	}
	if (signal == XS_SIGNAL_ALL || signal == XS_SIGNAL_CART) {
		srcs[n++] = (struct rel_source) { XS_REL_CART, XS_C_CARTS,
			XS_C_CARTS, (double) tot->carts_counted,
			weight * set->similar_weight[XS_PART_CART],
			XS_PART_CART };
	}
	return n;
}

xsell_err
xs_similar_collect(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_totals *tot, uint32_t seed, double weight,
    struct xs_cand_map *out)
{
	struct rel_source srcs[3];
	struct walk       w = { 0 };
	size_t    n   = similar_sources(set, tot, XS_SIGNAL_ALL, weight, srcs);
	xsell_err err = XSELL_OK;

	w.map         = out;
	w.scorer      = set->similar_scorer;
	w.min_support = set->min_support;
	xs_counts_reader_init(&w.counts, st, txn);
	for (size_t s = 0; s < n && err == XSELL_OK; s++) {
		w.src = &srcs[s];
		w.n_a = xs_counts_reader_get(&w.counts, seed, srcs[s].count_a);
		err   = xs_store_pairs_each(
		      st, txn, srcs[s].rel, seed, walk_neighbour, &w);
	}
	return err;
}

xsell_err
xs_model_similar(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct rel_source srcs[3];
	struct xs_totals  tot;
	size_t            n;
	xsell_err         err = xs_store_totals_get(st, txn, &tot);

	if (err != XSELL_OK) {
		return err;
	}
	n = similar_sources(set, &tot, q->signal, 1.0, srcs);
	return neighbours_answer(st, txn, set, q, srcs, n, true, arena, ans);
}
