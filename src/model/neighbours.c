/* SPDX-License-Identifier: MIT */
/* First-level answers: the neighbours of the given items over one or
 * more relations, scored, weighted and summed over the given items, best
 * first with ties by external id.
 *
 *   fbt            the basket relation ("frequently bought with")
 *   viewed_bought  view -> buy ("people who viewed this bought")
 *   similar        co-purchase, co-view and co-cart, weighted
 *
 * Candidates come first from the head of each given item's top list per
 * relation (its strongest neighbours by co-count, store/top.c), not its
 * whole list: a popular item has thousands of neighbours. The answer is
 * still exactly the one the whole lists give: a neighbour outside a
 * list's head has at most the head's last count, which bounds its score
 * (outside_bound); if the k-th answer does not beat that bound, the rest
 * of the top list is read, then, if its last entry still leaves the
 * answer open, the rest of the pair list (one list), or the whole lists
 * (several lists whose candidates would cost too many pair reads to
 * complete). Cost in
 * the common case: one value read per given item and relation, one
 * counter-chunk lookup per 256 item numbers touched, a selection of the
 * best, and the metadata and external ids of the items returned. */
#include "model/model_impl.h"

#include <math.h>
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
	struct xs_counts_reader *counts; /* borrowed */
	enum xs_scorer           scorer;
	uint32_t                 min_support;
	const struct rel_source *src;
	double                   n_a;
	bool                     parts; /* record score parts (similar) */
	/* Walking a whole list after its top list (one list asked): skip
	 * the pairs the top list held, those no better than 'last', and
	 * those scoring under 'floor'. */
	bool                outside_only;
	struct xs_top_entry last;
	double              floor;
	/* Nonzero: credit scores to this group (xs_cand_credit) instead of
	 * summing counts and parts (for_you's seeds). */
	uint32_t group;
};

/* Whether the pair (b, count) was in the top list that ends with 'last'
 * (lists are ordered by count descending, then b ascending). */
static bool
in_top_list(const struct xs_top_entry *last, uint32_t b, uint32_t count)
{
	return count > last->count || (count == last->count && b <= last->b);
}

/* The most a neighbour b outside a full top list can score against the
 * walked item: its co-count is at most the list's last count, and
 * N_b >= N_ab. Infinite where the scorer has no such bound. */
static double
outside_bound(
    enum xs_scorer scorer, double last_count, double n_a, double n_total)
{
	if (n_a <= 0) {
		return 0.0;
	}
	switch (scorer) {
	case XS_SCORE_COUNT:
		return last_count;
	case XS_SCORE_CONFIDENCE:
	case XS_SCORE_JACCARD: /* ab / (a + b - ab) <= ab / a */
		return last_count / n_a;
	case XS_SCORE_COSINE: /* ab / sqrt(a b) <= sqrt(ab / a) */
		return sqrt(last_count / n_a);
	case XS_SCORE_TEMPERED: /* ab/a sqrt(ab n / (a b)) <= ab/a sqrt(n/a) */
		return n_total > 0 ? last_count / n_a * sqrt(n_total / n_a)
		                   : 0.0;
	default:
		return INFINITY;
	}
}

/* A count below which no pair can reach 'floor' under the bound of
 * outside_bound (weight > 0): where the bound meets the floor, less a
 * relative 1e-9, far more than the rounding of either side, so that no
 * pair walk_neighbour would keep is dropped (it checks each pair passed
 * exactly). 0 where there is no such bound. */
static uint32_t
count_floor(enum xs_scorer scorer, double weight, double n_a, double n_total,
    double floor)
{
	double t;

	if (floor <= 0 || weight <= 0 || n_a <= 0) {
		return 0;
	}
	switch (scorer) {
	case XS_SCORE_COUNT: /* weight * c >= floor */
		t = floor / weight;
		break;
	case XS_SCORE_CONFIDENCE:
	case XS_SCORE_JACCARD: /* weight * c / a >= floor */
		t = floor / weight * n_a;
		break;
	case XS_SCORE_COSINE: /* weight * sqrt(c / a) >= floor */
		t = (floor / weight) * (floor / weight) * n_a;
		break;
	case XS_SCORE_TEMPERED: /* weight * c / a * sqrt(n / a) >= floor */
		if (n_total <= 0) {
			return 0;
		}
		t = floor / weight * n_a / sqrt(n_total / n_a);
		break;
	default:
		return 0;
	}
	t *= 1 - 1e-9;
	if (!(t > 0)) {
		return 0;
	}
	return t >= (double) UINT32_MAX ? UINT32_MAX : (uint32_t) ceil(t);
}

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

	if (count < w->min_support) {
		return XSELL_OK;
	}
	/* Most pairs past a top list are weak: skip them before reading
	 * N_b when even the best case cannot reach the floor. */
	if (w->outside_only &&
	    (in_top_list(&w->last, b, count) ||
	        w->src->weight *
	                outside_bound(
	                    w->scorer, count, w->n_a, w->src->n_total) <
	            w->floor)) {
		return XSELL_OK;
	}
	if (xs_u32_contains(w->given, w->n_given, b)) {
		return XSELL_OK;
	}
	ps.n_ab = count;
	ps.n_a  = w->n_a;
	ps.n_b  = xs_counts_reader_get(w->counts, b, w->src->count_b);
	ps.n    = w->src->n_total;
	s       = w->src->weight * xs_score(w->scorer, &ps);
	if (w->outside_only && s < w->floor) {
		return XSELL_OK;
	}
	err = xs_cand_map_get(w->map, b, &c);
	if (err != XSELL_OK) {
		return err;
	}
	if (w->group != 0) {
		xs_cand_credit(c, s, w->group);
		return XSELL_OK;
	}
	c->score += s;
	c->count += count;
	if (w->parts) {
		c->why.has_parts = true;
		c->why.parts[w->src->part] += s;
	}
	return XSELL_OK;
}

/* Pair reads (B-tree lookups, ~0.2 us each) worth spending to complete
 * the scores of candidates from the top lists; beyond them the whole
 * lists are walked instead (a page of 500 pairs costs about one). */
#define COMPLETE_MAX 1024

/* Entries of a top list an answer reads first: the head holds the best
 * answers, and the check that nothing outside beats them is as exact
 * after 100 as after 300 (a longer head only makes the walk past it
 * rarer, at a price every answer pays). */
#define TOP_READ 100

/* The head of a top list, read to learn which candidates it holds. */
struct top_copy {
	uint32_t           *items; /* sorted after the read (several lists) */
	size_t              n;
	bool                whole; /* the item's every pair: nothing outside */
	struct xs_top_entry last;  /* the weakest entry read */
	struct walk        *w;
};

static xsell_err
top_copy_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct top_copy *t = ctx;

	t->items[t->n++] = b;
	t->last.b        = b;
	t->last.count    = count;
	return walk_neighbour(t->w, b, count);
}

/* The scores that a partial list left out: every candidate it does not
 * hold gets its pair with the walked item 'a' read directly. */
static xsell_err
complete_scores(xs_store *st, MDB_txn *txn, struct walk *w, uint32_t a,
    const struct top_copy *t)
{
	size_t n = w->map->vec.n;

	for (size_t i = 0; i < n; i++) {
		uint32_t  b = w->map->vec.v[i].item;
		uint32_t  count;
		xsell_err err;

		if (xs_u32_contains(t->items, t->n, b)) {
			continue;
		}
		err = xs_store_pair_get(st, txn, w->src->rel, a, b, &count);
		if (err == XSELL_OK && count != 0) {
			err = walk_neighbour(w, b, count);
		}
		if (err != XSELL_OK) {
			return err;
		}
	}
	return XSELL_OK;
}

/* Pair reads that completing the candidates' scores takes: one per
 * candidate missing from each partial list. */
static size_t
complete_cost(const struct top_copy *tops, size_t n_lists, size_t n_cands)
{
	size_t cost = 0;

	for (size_t l = 0; l < n_lists; l++) {
		if (!tops[l].whole) {
			cost += n_cands - tops[l].n;
		}
	}
	return cost;
}

/* Candidates from the heads of the top lists (TOP_READ entries each),
 * with exact scores: with several lists, each candidate's pairs missing
 * from a partial list are read one by one. *boundp: the most any item
 * seen in no list could score (0 when every list was whole), or
 * INFINITY when completing would cost more than walking the whole lists
 * (the caller then does that). */
static xsell_err
gather_from_tops(xs_store *st, MDB_txn *txn, struct walk *w,
    const struct rel_source *srcs, size_t n_srcs, double *boundp)
{
	size_t m =
	    xs_store_top_m(st) < TOP_READ ? xs_store_top_m(st) : TOP_READ;
	size_t           n_lists = n_srcs * w->n_given;
	struct top_copy *tops    = calloc(n_lists + 1, sizeof(*tops));
	uint32_t        *ids     = calloc(n_lists * m + 1, sizeof(*ids));
	double           bound   = 0;
	xsell_err        err     = XSELL_OK;

	if (tops == NULL || ids == NULL) {
		free(tops);
		free(ids);
		return XSELL_ENOMEM;
	}
	for (size_t l = 0; l < n_lists && err == XSELL_OK; l++) {
		const struct rel_source *src = &srcs[l / w->n_given];
		uint32_t                 a   = w->given[l % w->n_given];
		struct top_copy         *t   = &tops[l];

		w->src   = src;
		w->n_a   = xs_counts_reader_get(w->counts, a, src->count_a);
		t->items = ids + l * m;
		t->w     = w;
		err      = xs_store_top_each(
		         st, txn, src->rel, a, m, top_copy_cb, t, &t->whole);
		if (!t->whole && t->last.count >= w->min_support) {
			/* A negative weight turns the bound around: no
			 * shortcut then. */
			bound += src->weight < 0 ? INFINITY
			                         : src->weight *
			        outside_bound(w->scorer, t->last.count, w->n_a,
			            src->n_total);
		}
		w->last = t->last;
		if (n_lists > 1) { /* for complete_scores */
			qsort(t->items, t->n, sizeof(*t->items), xs_u32_cmp);
		}
	}
	/* One list: every candidate came from it, whole. Several: only now
	 * are all candidates known, so complete them. */
	if (n_lists > 1 && bound > 0 &&
	    complete_cost(tops, n_lists, w->map->vec.n) > COMPLETE_MAX) {
		bound = INFINITY;
	}
	for (size_t l = 0; l < n_lists && n_lists > 1 && err == XSELL_OK &&
	     bound > 0 && isfinite(bound);
	     l++) {
		if (tops[l].whole) {
			continue; /* absence means no pair */
		}
		w->src = &srcs[l / w->n_given];
		w->n_a = xs_counts_reader_get(
		    w->counts, w->given[l % w->n_given], w->src->count_a);
		err = complete_scores(
		    st, txn, w, w->given[l % w->n_given], &tops[l]);
	}
	free(tops);
	free(ids);
	*boundp = bound;
	return err;
}

/* Candidates from every given item's whole list in every source. */
static xsell_err
gather_from_lists(xs_store *st, MDB_txn *txn, struct walk *w,
    const struct rel_source *srcs, size_t n_srcs)
{
	xsell_err err = XSELL_OK;

	for (size_t s = 0; s < n_srcs && err == XSELL_OK; s++) {
		w->src = &srcs[s];
		for (size_t g = 0; g < w->n_given && err == XSELL_OK; g++) {
			w->n_a = xs_counts_reader_get(
			    w->counts, w->given[g], srcs[s].count_a);
			err = xs_store_pairs_each(st, txn, srcs[s].rel,
			    w->given[g], walk_neighbour, w);
		}
	}
	return err;
}

/* Whether the answer ranked from the top lists is the exact one: k items
 * came back and the last beats anything no list held. Equal is not
 * enough: an unseen item tied with it might come first by id. */
static bool
answer_is_exact(
    const struct xs_query *q, const struct xs_answer *ans, double bound)
{
	if (bound == 0) {
		return true;
	}
	return ans->n == q->k && ans->recs[ans->n - 1].score > bound;
}

/* The rest of a top list whose head was read: its entries are visited
 * best first, and walk_neighbour adds those past the head that reach
 * the floor. 'last' ends as the list's last entry. */
struct top_rest {
	struct walk        *w;
	struct xs_top_entry last;
};

static xsell_err
top_rest_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct top_rest *r = ctx;

	r->last.b     = b;
	r->last.count = count;
	return walk_neighbour(r->w, b, count);
}

/* The k-th score of the answer so far, below which nothing added can
 * enter it; 0 while it has fewer than k items (anything can). */
static double
answer_floor(const struct xs_query *q, const struct xs_answer *ans)
{
	return ans->n == q->k ? ans->recs[ans->n - 1].score : 0;
}

/* One list, its head read into the map and 'bound' (> 0) the most an
 * item past the head can score. Its score is a pair's whole score, so
 * only what reaches the answer's k-th score (the floor) is added from
 * past the head: first from the rest of the top list (up to top_m
 * entries, one value), then, only if the list's last entry still
 * leaves the answer open, from the pairs past the whole top list. The
 * rankings share the filter's verdicts: the map only grows. */
static xsell_err
one_list_answer(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct walk *w, const struct rel_source *src,
    const struct xs_rank_ids *ids, double bound, struct xs_arena *arena,
    struct xs_answer *ans)
{
	struct xs_cand_map *map   = w->map;
	struct top_rest     r     = { w, w->last };
	struct xs_rank_kept kept  = { NULL, 0 };
	bool                whole = true;
	xsell_err           err;

	err = xs_rank_top_kept(st, txn, q, ids->excluded, ids->n_excluded,
	    map->vec.v, map->vec.n, &kept, arena, ans);
	if (err != XSELL_OK || answer_is_exact(q, ans, bound)) {
		free(kept.verdicts);
		return err;
	}
	w->outside_only = true;
	w->floor        = answer_floor(q, ans);
	if (xs_store_top_m(st) > TOP_READ) {
		err = xs_store_top_each(st, txn, src->rel, w->given[0],
		    SIZE_MAX, top_rest_cb, &r, &whole);
		if (err == XSELL_OK) {
			err = xs_rank_top_kept(st, txn, q, ids->excluded,
			    ids->n_excluded, map->vec.v, map->vec.n, &kept,
			    arena, ans);
		}
		bound = 0;
		if (!whole && r.last.count >= w->min_support) {
			bound = src->weight *
			    outside_bound(
			        w->scorer, r.last.count, w->n_a, src->n_total);
		}
		if (err != XSELL_OK || answer_is_exact(q, ans, bound)) {
			free(kept.verdicts);
			return err;
		}
		/* Adding candidates only raised the k-th score. */
		w->floor = answer_floor(q, ans);
		w->last  = r.last;
	}
	err = xs_store_pairs_each_min(st, txn, src->rel, w->given[0],
	    count_floor(
	        w->scorer, src->weight, w->n_a, src->n_total, w->floor),
	    walk_neighbour, w);
	if (err == XSELL_OK) {
		err = xs_rank_top_kept(st, txn, q, ids->excluded,
		    ids->n_excluded, map->vec.v, map->vec.n, &kept, arena,
		    ans);
	}
	free(kept.verdicts);
	return err;
}

/* Candidates from the top lists, ranked; if something outside them could
 * still belong, the whole lists instead (the same answer, slower). */
static xsell_err
neighbours_answer(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct rel_source *srcs, size_t n_srcs,
    bool parts, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_cand_map      map = { 0 };
	struct walk             w   = { 0 };
	struct xs_counts_reader counts;
	struct xs_rank_ids      ids;
	double                  bound = INFINITY;
	xsell_err               err;

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
	xs_counts_reader_init(&counts, st, txn);
	w.counts = &counts;
	if (isfinite(outside_bound(w.scorer, 1, 1, 1))) {
		err = gather_from_tops(st, txn, &w, srcs, n_srcs, &bound);
	}
	if (err == XSELL_OK && n_srcs * w.n_given == 1 && isfinite(bound) &&
	    bound > 0) {
		err = one_list_answer(
		    st, txn, q, &w, &srcs[0], &ids, bound, arena, ans);
		xs_cand_map_free(&map);
		return err;
	}
	if (err == XSELL_OK && isfinite(bound)) {
		err = xs_rank_top(st, txn, q, ids.excluded, ids.n_excluded,
		    map.vec.v, map.vec.n, arena, ans);
		if (err == XSELL_OK && answer_is_exact(q, ans, bound)) {
			xs_cand_map_free(&map);
			return XSELL_OK;
		}
	}
	if (err == XSELL_OK) {
		xs_cand_map_clear(&map);
		err = gather_from_lists(st, txn, &w, srcs, n_srcs);
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

/* One seed's walk of its top lists for for_you: the part of struct walk
 * it needs (no given items, no bounds, no parts). */
struct seed_walk {
	struct xs_tally         *out;
	struct xs_counts_reader *counts; /* borrowed */
	enum xs_scorer           scorer;
	uint32_t                 min_support;
	const struct rel_source *src;
	double                   n_a;
	uint32_t                 seed;
	size_t                   entries; /* of the list walked */
};

/* One neighbour b of the seed: its score under the source, credited to
 * b's entry as part of the seed's group (what walk_neighbour does with
 * a group, without the checks only fbt and similar answers need). */
static xsell_err
seed_neighbour(void *ctx, uint32_t b, uint32_t count)
{
	struct seed_walk    *w = ctx;
	struct xs_pair_stats ps;

	w->entries++;
	if (count < w->min_support) {
		return XSELL_OK;
	}
	ps.n_ab = count;
	ps.n_a  = w->n_a;
	ps.n_b  = xs_counts_reader_get(w->counts, b, w->src->count_b);
	ps.n    = w->src->n_total;
	return xs_tally_credit(
	    w->out, b, w->src->weight * xs_score(w->scorer, &ps), w->seed);
}

xsell_err
xs_seed_walk_init(struct xs_seed_walk *sw, xs_store *st, MDB_txn *txn)
{
	memset(sw, 0, sizeof(*sw));
	xs_counts_reader_init(&sw->counts, st, txn);
	return xs_store_totals_get(st, txn, &sw->tot);
}

/* After a seed's list of relation source 's' came back empty: whether
 * the relation has any pair at all, looked at once an answer. */
static xsell_err
note_empty_list(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    struct xs_seed_walk *sw, size_t s)
{
	uint32_t  last;
	xsell_err err;

	if (sw->checked[s]) {
		return XSELL_OK;
	}
	err = xs_store_pairs_last_a(st, txn, rel, &last);
	if (err != XSELL_OK && err != XSELL_ENOENT) {
		return err;
	}
	sw->checked[s]  = true;
	sw->no_pairs[s] = err == XSELL_ENOENT;
	return XSELL_OK;
}

xsell_err
xs_similar_collect(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    struct xs_seed_walk *sw, uint32_t seed, double weight,
    struct xs_tally *out)
{
	struct rel_source srcs[3];
	struct seed_walk  w = { 0 };
	size_t n = similar_sources(set, &sw->tot, XS_SIGNAL_ALL, weight, srcs);
	xsell_err err = XSELL_OK;

	w.out         = out;
	w.counts      = &sw->counts;
	w.scorer      = set->similar_scorer;
	w.min_support = set->min_support;
	w.seed        = seed;
	for (size_t s = 0; s < n && err == XSELL_OK; s++) {
		if (sw->no_pairs[s]) {
			continue;
		}
		w.src = &srcs[s];
		w.n_a =
		    xs_counts_reader_get(&sw->counts, seed, srcs[s].count_a);
		w.entries = 0;
		err = xs_store_top_each(st, txn, srcs[s].rel, seed, SIZE_MAX,
		    seed_neighbour, &w, NULL);
		if (err == XSELL_OK && w.entries == 0) {
			err = note_empty_list(st, txn, srcs[s].rel, sw, s);
		}
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
