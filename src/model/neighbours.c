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
 * (outside_bound). With one list, if the k-th answer does not beat that
 * bound, the rest of the top list is read, then, if its last entry still
 * leaves the answer open, the rest of the pair list; the common case
 * costs one value read, one counter-chunk lookup per 256 item numbers
 * touched, a selection of the best, and the metadata and external ids
 * of the items returned. Several lists (a cart; similar's relations) are
 * each read once in item order and merged ("Several lists" below). */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	struct xs_cand_map         *map;
	const uint32_t             *given; /* sorted */
	size_t                      n_given;
	struct xs_counts_reader    *counts; /* borrowed */
	enum xs_scorer              scorer;
	uint32_t                    min_support;
	const struct xs_rel_source *src;
	double                      n_a;
	bool                        parts; /* record score parts (similar) */
	/* Walking a whole list after its top list (one list asked): skip
	 * the pairs the top list held, those no better than 'last', and
	 * those scoring under 'floor'. */
	bool                outside_only;
	struct xs_top_entry last;
	double              floor;
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

/* b's score against the item being walked, under the source, from
 * their co-count. */
static double
pair_score(const struct walk *w, uint32_t b, uint32_t count)
{
	return w->src->weight *
	    xs_rel_pair_score(w->src, w->scorer, w->counts, w->n_a, b, count);
}

/* Add one pair's score 's' (and its co-count) to candidate c. */
static void
cand_add_pair(
    const struct walk *w, struct xs_cand *c, uint32_t count, double s)
{
	c->score += s;
	c->count += count;
	if (w->parts) {
		c->why.has_parts = true;
		c->why.parts[w->src->part] += s;
	}
}

/* One neighbour b of the item being walked: its score under the source,
 * added to b's candidate. */
static xsell_err
walk_neighbour(void *ctx, uint32_t b, uint32_t count)
{
	struct walk    *w = ctx;
	struct xs_cand *c;
	double          s;
	xsell_err       err;

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
	s = pair_score(w, b, count);
	if (w->outside_only && s < w->floor) {
		return XSELL_OK;
	}
	err = xs_cand_map_get(w->map, b, &c);
	if (err != XSELL_OK) {
		return err;
	}
	cand_add_pair(w, c, count, s);
	return XSELL_OK;
}

/* Entries of a top list an answer reads first: the head holds the best
 * answers, and the check that nothing outside beats them is as exact
 * after 100 as after 300 (a longer head only makes the walk past it
 * rarer, at a price every answer pays). */
#define TOP_READ 100

/* The head of a top list, walked into the map. */
struct top_head {
	struct xs_top_entry last; /* the weakest entry read */
	struct walk        *w;
};

static xsell_err
top_head_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct top_head *t = ctx;

	t->last.b     = b;
	t->last.count = count;
	return walk_neighbour(t->w, b, count);
}

/* Candidates from the head of the one list's top list (TOP_READ
 * entries), with their scores. *boundp: the most an item past the head
 * could score (0 when the head was the whole list), INFINITY under a
 * negative weight (it turns the bound around). */
static xsell_err
gather_from_top(xs_store *st, MDB_txn *txn, struct walk *w,
    const struct xs_rel_source *src, double *boundp)
{
	size_t m =
	    xs_store_top_m(st) < TOP_READ ? xs_store_top_m(st) : TOP_READ;
	struct top_head t     = { { 0, 0 }, w };
	bool            whole = true;
	xsell_err       err;

	w->src = src;
	w->n_a = xs_counts_reader_get(w->counts, w->given[0], src->count_a);
	err    = xs_store_top_each(
	       st, txn, src->rel, w->given[0], m, top_head_cb, &t, &whole);
	*boundp = 0;
	if (!whole && t.last.count >= w->min_support) {
		*boundp = src->weight < 0 ? INFINITY
		                          : src->weight *
		        outside_bound(
		            w->scorer, t.last.count, w->n_a, src->n_total);
	}
	w->last = t.last;
	return err;
}

/* Candidates from every given item's whole list in every source. */
static xsell_err
gather_from_lists(xs_store *st, MDB_txn *txn, struct walk *w,
    const struct xs_rel_source *srcs, size_t n_srcs)
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

/* Every candidate not scored scores less than this, given the most
 * ('bound', 0: none) any of them can score. */
static double
below_bound(double bound)
{
	return bound == 0 ? -INFINITY : nextafter(bound, INFINITY);
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

/* One list, its head read into the map and 'bound' the most an item
 * past the head can score (0: the head is the whole list). Its score is
 * a pair's whole score, so only what reaches the answer's k-th score
 * (the floor) is added from past the head: first from the rest of the
 * top list (up to top_m entries, one value), then, only if the list's
 * last entry still leaves the answer open, from the pairs past the
 * whole top list. The rankings share the filter's verdicts: the map
 * only grows. */
static xsell_err
one_list_answer(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct walk *w, const struct xs_rel_source *src,
    const struct xs_rank_ids *ids, double bound, struct xs_arena *arena,
    struct xs_answer *ans, double *belowp)
{
	struct xs_cand_map *map   = w->map;
	struct top_rest     r     = { w, w->last };
	struct xs_rank_kept kept  = { NULL, 0 };
	bool                whole = true;
	xsell_err           err;

	err     = xs_rank_top_kept(st, txn, q, ids->excluded, ids->n_excluded,
	        map->vec.v, map->vec.n, &kept, arena, ans);
	*belowp = below_bound(bound);
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
		/* The rest was walked above the floor only. */
		*belowp = fmax(below_bound(bound), w->floor);
		if (err != XSELL_OK || answer_is_exact(q, ans, bound)) {
			free(kept.verdicts);
			return err;
		}
		/* Adding candidates only raised the k-th score. */
		w->floor = answer_floor(q, ans);
		w->last  = r.last;
	}
	err     = xs_store_pairs_each_min(st, txn, src->rel, w->given[0],
	        count_floor(
	            w->scorer, src->weight, w->n_a, src->n_total, w->floor),
	        walk_neighbour, w);
	*belowp = w->floor; /* every pair scoring less was passed by */
	if (err == XSELL_OK) {
		err = xs_rank_top_kept(st, txn, q, ids->excluded,
		    ids->n_excluded, map->vec.v, map->vec.n, &kept, arena,
		    ans);
	}
	free(kept.verdicts);
	return err;
}

/* ==== Several lists, merged by item ====
 *
 * A cart (or similar's relations) sums the scores of several lists.
 * Each list is read once, whole, in item order (its top list when that
 * holds every pair that counts), instead of a B-tree search per
 * candidate it may hold (those searches were most of a cart's cost).
 * The lists are then gone through together by item (merge_first): the
 * items in the head of some top list (TOP_READ entries) are the first
 * candidates, scored in full, list after list, so that each sum is
 * made in the order the whole lists would make it (the same bits);
 * every other item gets only a bound, from its co-counts alone
 * (outside_bound: N_b >= N_ab), a multiplication a pair. Once the first
 * candidates are ranked, the items whose bound reaches the k-th score
 * (all of them while the answer is short) are scored the same way and
 * ranked with them. The rest score less than the k-th answer, and
 * adding candidates only raises it (the filter's rules, even
 * max_per_category, keep the best k that pass), so none of them can
 * enter: the answer is the whole lists' answer. */

/* One given item's list under one source. */
struct merge_list {
	const struct xs_rel_source *src;
	uint32_t                    a;
	double                      n_a;
	/* Its top list, best first. */
	struct xs_top_entry *top;
	size_t               n_top;
	size_t               n_head; /* its head: top[0..n_head) */
	/* The top list holds every pair of a that counts (all of them,
	 * or the rest are under min_support). */
	bool top_all;
	/* The weakest entry of the head, the first TOP_READ entries of
	 * the top list; count 0 if the list is empty. */
	struct xs_top_entry head_last;
	/* weight x outside_bound of a co-count of 1. */
	double per;
	/* Every pair that counts (and maybe some that do not), ascending
	 * b. */
	struct xs_top_entry *pairs;
	size_t               n_pairs;
};

/* Entries of a top list copied out, at most 'cap'. */
struct entry_sink {
	struct xs_top_entry *v;
	size_t               n, cap;
};

static xsell_err
entry_sink_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct entry_sink *s = ctx;

	if (s->n == s->cap) {
		return XSELL_ECORRUPT; /* xs_store_top_each was given cap */
	}
	s->v[s->n].b     = b;
	s->v[s->n].count = count;
	s->n++;
	return XSELL_OK;
}

static int
entry_cmp_b(const void *x, const void *y)
{
	const struct xs_top_entry *p = x, *q = y;

	return p->b < q->b ? -1 : p->b > q->b;
}

/* Pairs the lists of one answer may hold in memory, all told: with the
 * arrays beside them, about 60 bytes each (60 MB), far below a worker's
 * arena. Longer lists are walked whole instead. */
#define MERGE_PAIRS_MAX ((size_t) 1 << 20)

/* Read l's top list and its pairs, taking them from *budgetp (pairs
 * still allowed). *boundedp false when the lists must be walked whole
 * instead: the pairs exceed the budget, or nothing bounds the items
 * outside l's head (a weight or N_a of 0 or below: such an item would
 * join with score 0 or less, so no bound keeps it out of a short
 * answer). */
static xsell_err
merge_list_open(xs_store *st, MDB_txn *txn, const struct walk *w,
    struct merge_list *l, struct xs_arena *arena, size_t *budgetp,
    bool *boundedp)
{
	size_t            top_m = xs_store_top_m(st);
	struct entry_sink sink  = { NULL, 0, top_m };
	bool              whole = true;
	size_t            n_head;
	xsell_err         err;

	sink.v = xs_arena_alloc(arena, (top_m + 1) * sizeof(*sink.v));
	if (sink.v == NULL) {
		return XSELL_ENOMEM;
	}
	l->n_a = xs_counts_reader_get(w->counts, l->a, l->src->count_a);
	err    = xs_store_top_each(
	       st, txn, l->src->rel, l->a, top_m, entry_sink_cb, &sink, &whole);
	if (err != XSELL_OK) {
		return err;
	}
	l->top     = sink.v;
	l->n_top   = sink.n;
	l->top_all = whole ||
	    (l->n_top != 0 && l->top[l->n_top - 1].count < w->min_support);
	n_head       = l->n_top < TOP_READ ? l->n_top : TOP_READ;
	l->n_head    = n_head;
	l->head_last = (struct xs_top_entry) { 0, 0 };
	if (n_head != 0) {
		l->head_last = l->top[n_head - 1];
	}
	l->per = l->src->weight *
	    outside_bound(w->scorer, 1, l->n_a, l->src->n_total);
	if (!(l->top_all && n_head == l->n_top) &&
	    l->head_last.count >= w->min_support &&
	    (l->src->weight <= 0 || l->n_a <= 0)) {
		*boundedp = false;
		return XSELL_OK;
	}
	if (l->top_all) {
		if (l->n_top > *budgetp) {
			*boundedp = false;
			return XSELL_OK;
		}
		*budgetp -= l->n_top;
		l->pairs =
		    xs_arena_alloc(arena, (l->n_top + 1) * sizeof(*l->pairs));
		if (l->pairs == NULL) {
			return XSELL_ENOMEM;
		}
		memcpy(l->pairs, l->top, l->n_top * sizeof(*l->pairs));
		qsort(l->pairs, l->n_top, sizeof(*l->pairs), entry_cmp_b);
		l->n_pairs = l->n_top;
		return XSELL_OK;
	}
	err = xs_store_pairs_read(st, txn, l->src->rel, l->a, *budgetp, arena,
	    &l->pairs, &l->n_pairs);
	if (err == XSELL_ETOOBIG) {
		*boundedp = false;
		return XSELL_OK;
	}
	*budgetp -= l->n_pairs;
	return err;
}

/* outside_bound of a co-count 'count' from that of 1 ('per'): it is
 * count times it, but for cosine, whose bound grows with its square
 * root. One multiplication a pair instead of the scorer's root. */
static double
bound_of_count(enum xs_scorer scorer, double per, uint32_t count)
{
	return scorer == XS_SCORE_COSINE ? per * sqrt((double) count)
	                                 : per * (double) count;
}

/* An item in no head, and the most it can score. */
struct item_bound {
	uint32_t item;
	double   bound;
};

/* The lists walked together in item order: pos[l] is the next pair of
 * list l and at[l] its item (UINT32_MAX past the end: item numbers
 * stop below it); hit[l] says whether the list holds the current item.
 * Kept in small arrays so that finding the next item is a pass over
 * them, without a branch a list. */
struct merge_walk {
	struct walk       *w;
	struct merge_list *lists;
	size_t             n_lists;
	size_t            *pos;
	uint32_t          *at;
	bool              *hit;
};

/* The smallest item at the lists' positions (UINT32_MAX: all done);
 * marks the lists that hold it. */
static uint32_t
merge_next_item(struct merge_walk *m)
{
	uint32_t b = UINT32_MAX;

	for (size_t l = 0; l < m->n_lists; l++) {
		b = m->at[l] < b ? m->at[l] : b;
	}
	for (size_t l = 0; l < m->n_lists; l++) {
		m->hit[l] = m->at[l] == b;
	}
	return b;
}

/* Move the lists that held the current item past it. */
static void
merge_advance(struct merge_walk *m)
{
	for (size_t l = 0; l < m->n_lists; l++) {
		if (m->hit[l]) {
			const struct merge_list *ml = &m->lists[l];
			size_t                   j  = ++m->pos[l];

			m->at[l] =
			    j < ml->n_pairs ? ml->pairs[j].b : UINT32_MAX;
		}
	}
}

/* A new candidate for item b, its parts added list after list. */
static xsell_err
merge_score(struct merge_walk *m, uint32_t b)
{
	struct walk    *w = m->w;
	struct xs_cand  c = { 0 };
	struct xs_cand *v;
	xsell_err       err;

	c.item = b;
	err    = xs_cand_vec_push(&w->map->vec, &c);
	if (err != XSELL_OK) {
		return err;
	}
	v = &w->map->vec.v[w->map->vec.n - 1];
	for (size_t l = 0; l < m->n_lists; l++) {
		uint32_t count;

		if (!m->hit[l]) {
			continue;
		}
		count = m->lists[l].pairs[m->pos[l]].count;
		if (count >= w->min_support) {
			w->src = m->lists[l].src;
			w->n_a = m->lists[l].n_a;
			cand_add_pair(w, v, count, pair_score(w, b, count));
		}
	}
	return XSELL_OK;
}

/* merge_first for any item numbers: the lists walked together, an
 * item at a time, a pass over the lists' positions each. */
static xsell_err
merge_first_sparse(
    struct merge_walk *m, struct item_bound *rest, size_t *n_restp)
{
	struct walk *w = m->w;
	size_t       n = 0, g = 0;
	uint32_t     b;
	xsell_err    err = XSELL_OK;

	for (size_t l = 0; l < m->n_lists; l++) {
		m->pos[l] = 0;
		m->at[l]  = m->lists[l].n_pairs != 0 ? m->lists[l].pairs[0].b
		                                     : UINT32_MAX;
	}
	while (err == XSELL_OK && (b = merge_next_item(m)) != UINT32_MAX) {
		bool   in_head = false, counts = false;
		double bound = 0;

		for (size_t l = 0; l < m->n_lists; l++) {
			const struct merge_list   *ml = &m->lists[l];
			const struct xs_top_entry *p;

			if (!m->hit[l]) {
				continue;
			}
			p = &ml->pairs[m->pos[l]];
			if (p->count < w->min_support) {
				continue;
			}
			counts = true;
			in_head |= ml->head_last.count != 0 &&
			    in_top_list(&ml->head_last, b, p->count);
			bound += bound_of_count(w->scorer, ml->per, p->count);
		}
		/* The given items are sorted too: one pass beside. */
		while (g < w->n_given && w->given[g] < b) {
			g++;
		}
		if (counts && (g == w->n_given || w->given[g] != b)) {
			if (in_head) {
				err = merge_score(m, b);
			} else {
				rest[n].item  = b;
				rest[n].bound = bound;
				n++;
			}
		}
		merge_advance(m);
	}
	*n_restp = n;
	return err;
}

/* Relative margin, far above the rounding of any score or sum, by
 * which a bound is taken as larger than it is and the k-th score as
 * smaller. */
#define BOUND_MARGIN 1e-9

/* Add list l's part of the score to candidates v[0..n) (ascending
 * item): one pass over the list beside them. */
static void
merge_credit(
    struct walk *w, const struct merge_list *l, struct xs_cand *v, size_t n)
{
	size_t j = 0;

	w->src = l->src;
	w->n_a = l->n_a;
	for (size_t i = 0; i < n; i++) {
		uint32_t count;

		while (j < l->n_pairs && l->pairs[j].b < v[i].item) {
			j++;
		}
		if (j == l->n_pairs) {
			break;
		}
		count = l->pairs[j].count;
		if (l->pairs[j].b == v[i].item && count >= w->min_support) {
			cand_add_pair(
			    w, &v[i], count, pair_score(w, v[i].item, count));
		}
	}
}

/* New candidates for ids[0..n) (ascending), each list adding its part
 * to all of them before the next list does. */
static xsell_err
merge_add_cands(struct merge_walk *m, const uint32_t *ids, size_t n)
{
	struct xs_cand_vec *vec   = &m->w->map->vec;
	size_t              first = vec->n;

	for (size_t i = 0; i < n; i++) {
		struct xs_cand c = { 0 };
		xsell_err      err;

		c.item = ids[i];
		err    = xs_cand_vec_push(vec, &c);
		if (err != XSELL_OK) {
			return err;
		}
	}
	for (size_t l = 0; l < m->n_lists; l++) {
		merge_credit(m->w, &m->lists[l], vec->v + first, n);
	}
	return XSELL_OK;
}

/* Item numbers a dense first pass may span per pair read (and a few
 * thousand whatever the lists' length): its arrays cost 9 bytes an
 * item number, a pair read 8. */
#define DENSE_SPAN_PER_PAIR 4
#define DENSE_SPAN_MIN 4096

/* What the dense pass marks of an item. */
enum { ITEM_COUNTS = 1, ITEM_IN_HEAD = 2 };

/* Mark every item of l with a pair that counts, and add the pair's
 * bound to the item's. Two loops, so that the one that runs has no
 * branch on the scorer. */
static void
mark_counted(const struct walk *w, const struct merge_list *l, double *bound,
    uint8_t *mark)
{
	if (w->scorer == XS_SCORE_COSINE) {
		for (size_t j = 0; j < l->n_pairs; j++) {
			uint32_t b = l->pairs[j].b, count = l->pairs[j].count;

			if (count >= w->min_support) {
				bound[b] += l->per * sqrt((double) count);
				mark[b] |= ITEM_COUNTS;
			}
		}
		return;
	}
	for (size_t j = 0; j < l->n_pairs; j++) {
		uint32_t b = l->pairs[j].b, count = l->pairs[j].count;

		if (count >= w->min_support) {
			bound[b] += l->per * (double) count;
			mark[b] |= ITEM_COUNTS;
		}
	}
}

/* merge_first over item numbers 0..the largest in the lists, when they
 * are few beside the pairs (a catalogue's items are numbered densely):
 * each pair marks its item and adds to its bound in an array indexed by
 * item, a few instructions a pair. *donep false (nothing done) when the
 * span is too wide. */
static xsell_err
merge_first_dense(struct merge_walk *m, struct xs_arena *arena,
    struct item_bound *rest, size_t *n_restp, bool *donep)
{
	struct walk *w     = m->w;
	size_t       total = 0, span = 0, n_head = 0, n = 0;
	double      *bound;
	uint8_t     *mark;
	uint32_t    *head;

	*donep = false;
	for (size_t l = 0; l < m->n_lists; l++) {
		const struct merge_list *ml = &m->lists[l];

		total += ml->n_pairs;
		if (ml->n_pairs != 0 && ml->pairs[ml->n_pairs - 1].b >= span) {
			span = (size_t) ml->pairs[ml->n_pairs - 1].b + 1;
		}
	}
	if (span > DENSE_SPAN_PER_PAIR * total + DENSE_SPAN_MIN) {
		return XSELL_OK;
	}
	bound = xs_arena_calloc(arena, span + 1, sizeof(*bound));
	mark  = xs_arena_calloc(arena, span + 1, sizeof(*mark));
	head  = xs_arena_alloc(arena, (total + 1) * sizeof(*head));
	if (bound == NULL || mark == NULL || head == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t l = 0; l < m->n_lists; l++) {
		const struct merge_list *ml = &m->lists[l];

		mark_counted(w, ml, bound, mark);
		/* A head's items are among the list's pairs (the span
		 * covers them), unless the store is damaged. */
		for (size_t i = 0; i < ml->n_head; i++) {
			if (ml->top[i].count >= w->min_support &&
			    ml->top[i].b < span) {
				mark[ml->top[i].b] |= ITEM_IN_HEAD;
			}
		}
	}
	for (size_t i = 0; i < w->n_given; i++) {
		if (w->given[i] < span) {
			mark[w->given[i]] = 0;
		}
	}
	for (size_t b = 0; b < span; b++) {
		if (mark[b] & ITEM_IN_HEAD) {
			head[n_head++] = (uint32_t) b;
		} else if (mark[b] != 0) {
			rest[n].item  = (uint32_t) b;
			rest[n].bound = bound[b];
			n++;
		}
	}
	*n_restp = n;
	*donep   = true;
	return merge_add_cands(m, head, n_head);
}

/* Walk every list at once: each item in some head (with a pair that
 * counts there) becomes a candidate with its full score; each other
 * item with a pair that counts is listed in rest[0..*n_restp) (from the
 * arena, ascending) with its bound. Given items are neither. */
static xsell_err
merge_first(struct merge_walk *m, struct xs_arena *arena,
    struct item_bound **restp, size_t *n_restp)
{
	struct item_bound *rest;
	size_t             total = 0;
	bool               done  = false;
	xsell_err          err;

	for (size_t l = 0; l < m->n_lists; l++) {
		total += m->lists[l].n_pairs;
	}
	rest = xs_arena_alloc(arena, (total + 1) * sizeof(*rest));
	if (rest == NULL) {
		return XSELL_ENOMEM;
	}
	*restp = rest;
	err    = merge_first_dense(m, arena, rest, n_restp, &done);
	if (err != XSELL_OK || done) {
		return err;
	}
	return merge_first_sparse(m, rest, n_restp);
}

/* Score every item of rest[0..n) whose bound reaches 'floor' (the
 * k-th score; 0: all of them), as the first candidates were. */
static xsell_err
merge_rest(struct merge_walk *m, const struct item_bound *rest, size_t n,
    double floor, struct xs_arena *arena)
{
	double    want = floor * (1 - BOUND_MARGIN);
	uint32_t *ids  = xs_arena_alloc(arena, (n + 1) * sizeof(*ids));
	size_t    k    = 0;

	if (ids == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (rest[i].bound * (1 + BOUND_MARGIN) >= want) {
			ids[k++] = rest[i].item;
		}
	}
	return merge_add_cands(m, ids, k);
}

/* The answer over several lists (see the banner). *donep false when a
 * list gives no bound (merge_list_open): the caller then walks the
 * whole lists, with the map left empty. */
static xsell_err
merged_answer(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct walk *w, const struct xs_rel_source *srcs, size_t n_srcs,
    const struct xs_rank_ids *ids, struct xs_arena *arena,
    struct xs_answer *ans, bool *donep)
{
	struct merge_walk   m    = { w, NULL, n_srcs * w->n_given, NULL, NULL,
		     NULL };
	struct xs_rank_kept kept = { NULL, 0 };
	struct xs_cand_vec *vec  = &w->map->vec;
	struct item_bound  *rest;
	size_t              n_rest  = 0;
	bool                bounded = true;
	size_t              budget  = MERGE_PAIRS_MAX;
	xsell_err           err     = XSELL_OK;

	*donep  = false;
	m.lists = xs_arena_calloc(arena, m.n_lists + 1, sizeof(*m.lists));
	m.pos   = xs_arena_calloc(arena, m.n_lists + 1, sizeof(*m.pos));
	m.at    = xs_arena_calloc(arena, m.n_lists + 1, sizeof(*m.at));
	m.hit   = xs_arena_calloc(arena, m.n_lists + 1, sizeof(*m.hit));
	if (m.lists == NULL || m.pos == NULL || m.at == NULL ||
	    m.hit == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t l = 0; l < m.n_lists && err == XSELL_OK && bounded; l++) {
		m.lists[l].src = &srcs[l / w->n_given];
		m.lists[l].a   = w->given[l % w->n_given];
		err            = merge_list_open(
		               st, txn, w, &m.lists[l], arena, &budget, &bounded);
	}
	if (err != XSELL_OK || !bounded) {
		return err;
	}
	*donep = true;
	err    = merge_first(&m, arena, &rest, &n_rest);
	if (err == XSELL_OK) {
		err = xs_rank_top_kept(st, txn, q, ids->excluded,
		    ids->n_excluded, vec->v, vec->n, &kept, arena, ans);
	}
	if (err == XSELL_OK && n_rest != 0) {
		size_t n_first = vec->n;

		err =
		    merge_rest(&m, rest, n_rest, answer_floor(q, ans), arena);
		if (err == XSELL_OK && vec->n != n_first) {
			err = xs_rank_top_kept(st, txn, q, ids->excluded,
			    ids->n_excluded, vec->v, vec->n, &kept, arena,
			    ans);
		}
	}
	free(kept.verdicts);
	return err;
}

/* ==== One list's best candidates, kept across answers ====
 *
 * An answer for one item from one list (fbt, viewed_bought) ranks the
 * item's best candidates, and proves on the way that every candidate it
 * did not score scores below some bound. The best of the candidates it
 * scored at or above that bound (xs_cands_best) are kept (an item memo,
 * good until a commit changes the relation's family of records:
 * store/epochs.c) with the bound, so that the next answer for
 * the item ranks a copy of these few instead of reading and scoring the
 * list again. That answer is exact when the candidates kept are all
 * there are, or when k answers came back and the last reaches the bound
 * (adding candidates only raises the k-th score, whatever the filter);
 * else the lists answer, as before, and their proof is kept instead. */

struct xs_best_list {
	double         below; /* every candidate left out scores less */
	uint32_t       whole; /* every candidate is kept */
	uint32_t       n;
	struct xs_cand v[];
};

static size_t
best_list_size(size_t n)
{
	return sizeof(struct xs_best_list) + n * sizeof(struct xs_cand);
}

_Static_assert(XS_REL_END <= 16 && XS_SCORER_COUNT <= 16,
    "a list memo's key has 4 bits each for the relation and the scorer");

/* The item memo key of what one item's list under (rel, scorer,
 * min_support) gave: every input of its scores but the snapshot's (a
 * source's weight is not one: callers memoise unweighted scores); false
 * if it has none (a min_support past the key's 20 bits). */
bool
xs_list_memo_key(enum xs_item_memo_kind kind, enum xs_rel rel,
    enum xs_scorer scorer, uint32_t min_support, uint32_t item, uint64_t *keyp)
{
	if (min_support > (1u << 20) - 1) {
		return false;
	}
	*keyp = (uint64_t) kind << 60 | (uint64_t) rel << 56 |
	    (uint64_t) scorer << 52 | (uint64_t) min_support << 32 | item;
	return true;
}

/* Keep the candidates of map scoring at least 'below' (every candidate
 * not in the map scores less; -INFINITY: the map holds them all), the
 * best of them, as the snapshot's memo under 'key'. */
static void
best_list_put(xs_store *st, MDB_txn *txn, uint64_t key,
    const struct xs_cand_map *map, double below)
{
	struct xs_best_list *l = malloc(best_list_size(XS_CANDS_KEPT_MAX));

	if (l == NULL) {
		return;
	}
	l->n = (uint32_t) xs_cands_best(
	    map->vec.v, map->vec.n, below, l->v, &l->below);
	l->whole = below == -INFINITY && l->n == map->vec.n;
	if (l->n != 0) {
		xs_store_item_memo_put(st, txn, key, l, best_list_size(l->n));
	}
	free(l);
}

/* The answer from a memo's candidates (a copy: ranking loads their
 * external ids); *exactp whether it is the lists' answer. */
static xsell_err
best_list_rank(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct xs_rank_ids *ids, const struct xs_best_list *l,
    struct xs_arena *arena, struct xs_answer *ans, bool *exactp)
{
	struct xs_cand *v = malloc((l->n ? l->n : 1) * sizeof(*v));
	xsell_err       err;

	*exactp = false;
	if (v == NULL) {
		return XSELL_ENOMEM;
	}
	memcpy(v, l->v, l->n * sizeof(*v));
	err = xs_rank_top(
	    st, txn, q, ids->excluded, ids->n_excluded, v, l->n, arena, ans);
	free(v);
	*exactp = err == XSELL_OK &&
	    (l->whole ||
	        (ans->n == q->k && ans->recs[ans->n - 1].score >= l->below));
	return err;
}

/* The answer from the memo of the one list asked for, if it can prove
 * it (*donep). */
static xsell_err
best_list_answer(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    uint64_t key, const struct xs_rank_ids *ids, struct xs_arena *arena,
    struct xs_answer *ans, bool *donep)
{
	const void *held;
	size_t      len;
	xsell_err   err;

	*donep = false;
	if (!xs_store_item_memo_hold(st, txn, key, &held, &len)) {
		return XSELL_OK;
	}
	err = best_list_rank(st, txn, q, ids, held, arena, ans, donep);
	xs_store_memo_release(held);
	return err;
}

/* Candidates from the top lists, ranked; if something outside them could
 * still belong, the whole lists instead (the same answer, slower). */
static xsell_err
neighbours_answer(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct xs_rel_source *srcs, size_t n_srcs,
    bool parts, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_cand_map      map = { 0 };
	struct walk             w   = { 0 };
	struct xs_counts_reader counts;
	struct xs_rank_ids      ids;
	double                  bound   = INFINITY;
	double                  below   = INFINITY; /* nothing proven */
	bool                    done    = false;
	bool                    bounded = false;
	bool                    memo;
	uint64_t                key = 0;
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
	bounded  = isfinite(outside_bound(w.scorer, 1, 1, 1));
	memo     = !parts && n_srcs * w.n_given == 1 && srcs[0].weight == 1 &&
	    xs_store_memo_kept(st, txn) &&
	    xs_list_memo_key(XS_ITEM_MEMO_BEST_LIST, srcs[0].rel, w.scorer,
	        w.min_support, w.given[0], &key);
	if (memo) {
		err =
		    best_list_answer(st, txn, q, key, &ids, arena, ans, &done);
		memo = err == XSELL_OK && !done;
	}
	if (err == XSELL_OK && !done && !parts && n_srcs == 1 &&
	    w.n_given > 1) {
		err = xs_cart_lists_answer(st, txn, q, &srcs[0], w.scorer,
		    w.min_support, &ids, arena, ans, &done);
	}
	if (err != XSELL_OK || done) {
		/* answered from a memo */
	} else if (bounded && n_srcs * w.n_given == 1) {
		err  = gather_from_top(st, txn, &w, &srcs[0], &bound);
		done = err != XSELL_OK || isfinite(bound);
		if (err == XSELL_OK && done) {
			err = one_list_answer(st, txn, q, &w, &srcs[0], &ids,
			    bound, arena, ans, &below);
		}
	} else if (bounded && n_srcs * w.n_given > 1) {
		err = merged_answer(
		    st, txn, q, &w, srcs, n_srcs, &ids, arena, ans, &done);
	}
	if (err == XSELL_OK && !done) {
		xs_cand_map_clear(&map);
		err   = gather_from_lists(st, txn, &w, srcs, n_srcs);
		below = -INFINITY;
		if (err == XSELL_OK) {
			err = xs_rank_top(st, txn, q, ids.excluded,
			    ids.n_excluded, map.vec.v, map.vec.n, arena, ans);
		}
	}
	if (err == XSELL_OK && memo) {
		best_list_put(st, txn, key, &map, below);
	}
	xs_cand_map_free(&map);
	xs_counts_reader_fini(&counts);
	return err;
}

xsell_err
xs_model_fbt(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_rel_source src = { XS_REL_BASKET, XS_C_BASKETS, XS_C_BASKETS,
		0, 1, XS_PART_ORDER };
	struct xs_totals     tot;
	xsell_err            err = xs_store_totals_get(st, txn, &tot);

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
	struct xs_rel_source src = { XS_REL_VIEW_BUY, XS_C_VIEW_BUYS,
		XS_C_BASKETS, 0, 1, XS_PART_ORDER };
	struct xs_totals     tot;
	xsell_err            err = xs_store_totals_get(st, txn, &tot);

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
    enum xs_signal signal, double weight, struct xs_rel_source srcs[3])
{
	size_t n = 0;

	if (signal == XS_SIGNAL_ALL || signal == XS_SIGNAL_ORDER) {
		srcs[n++] = (struct xs_rel_source) { XS_REL_BASKET,
			XS_C_BASKETS, XS_C_BASKETS, (double) tot->baskets,
			weight * set->similar_weight[XS_PART_ORDER],
			XS_PART_ORDER };
	}
	if (signal == XS_SIGNAL_ALL || signal == XS_SIGNAL_VIEW) {
		srcs[n++] = (struct xs_rel_source) { XS_REL_VIEW, XS_C_VIEWS,
			XS_C_VIEWS, (double) tot->views_counted,
			weight * set->similar_weight[XS_PART_VIEW],
			XS_PART_VIEW };
	}
	if (signal == XS_SIGNAL_ALL || signal == XS_SIGNAL_CART) {
		srcs[n++] = (struct xs_rel_source) { XS_REL_CART, XS_C_CARTS,
			XS_C_CARTS, (double) tot->carts_counted,
			weight * set->similar_weight[XS_PART_CART],
			XS_PART_CART };
	}
	return n;
}

/* One seed's scored neighbours under one relation source, as for_you
 * credits them before the source's weight: what the walk of its top list
 * costs (a counter and a score per neighbour) is paid once, and every
 * answer with the same seed reads the list (an item memo, good until a
 * commit changes the relation's family of records: store/epochs.c).
 * After orders without the seed, its top list is the same (an order adds
 * to an item's pairs only with its count, and the top list is a function
 * of its pairs: store/top.c), so the list is scored again from its
 * co-counts rather than walked (seed_list_refresh). */
struct xs_seed_score {
	double   score;
	uint32_t b;
	uint32_t count; /* the co-count, scored again by a refresh */
};

struct xs_seed_list {
	double               n_a;          /* the seed's N where made */
	uint64_t             forgotten_at; /* the orders forgotten there */
	uint32_t             entries;      /* of the top list walked */
	uint32_t             n;            /* those of min_support or more */
	struct xs_seed_score v[];
};

static size_t
seed_list_size(uint32_t n)
{
	return sizeof(struct xs_seed_list) + n * sizeof(struct xs_seed_score);
}

/* The seed's walk of one top list into sw->list. */
struct seed_walk {
	struct xs_seed_walk        *sw;
	enum xs_scorer              scorer;
	uint32_t                    min_support;
	const struct xs_rel_source *src;
	double                      n_a;
};

static xsell_err
seed_list_grow(struct xs_seed_walk *sw)
{
	uint32_t             room = sw->list_room ? sw->list_room * 2 : 512;
	struct xs_seed_list *l;

	if (sw->list_room >= UINT32_MAX / 2) {
		return XSELL_ENOMEM;
	}
	l = realloc(sw->list, seed_list_size(room));
	if (l == NULL) {
		return XSELL_ENOMEM;
	}
	sw->list      = l;
	sw->list_room = room;
	return XSELL_OK;
}

/* One neighbour b of the seed: its score under the source, without the
 * checks only fbt and similar answers need. */
static xsell_err
seed_neighbour(void *ctx, uint32_t b, uint32_t count)
{
	struct seed_walk    *w = ctx;
	struct xs_seed_list *l = w->sw->list;
	xsell_err            err;

	l->entries++;
	if (count < w->min_support) {
		return XSELL_OK;
	}
	if (l->n == w->sw->list_room) {
		if ((err = seed_list_grow(w->sw)) != XSELL_OK) {
			return err;
		}
		l = w->sw->list;
	}
	l->v[l->n].b       = b;
	l->v[l->n].count   = count;
	l->v[l->n++].score = xs_rel_pair_score(
	    w->src, w->scorer, &w->sw->counts, w->n_a, b, count);
	return XSELL_OK;
}

xsell_err
xs_seed_walk_init(struct xs_seed_walk *sw, xs_store *st, MDB_txn *txn)
{
	memset(sw, 0, sizeof(*sw));
	xs_counts_reader_init(&sw->counts, st, txn);
	sw->forgotten_at = xs_store_orders_forgotten_at(st, txn);
	return xs_store_totals_get(st, txn, &sw->tot);
}

void
xs_seed_walk_fini(struct xs_seed_walk *sw)
{
	free(sw->list);
	sw->list      = NULL;
	sw->list_room = 0;
	xs_counts_reader_fini(&sw->counts);
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

/* Seed list l, made from an older snapshot, scored again for this one
 * into w->sw->list (*donep); not done when it may no longer hold: its
 * seed's N changed (an order with it), orders were taken out since, or
 * the relation is not the orders' (views and cart adds are counted with
 * rules of their own). The same scores, to the bit, as a walk. */
static xsell_err
seed_list_refresh(
    const struct seed_walk *w, const struct xs_seed_list *l, bool *donep)
{
	struct xs_seed_list *r;
	xsell_err            err;

	*donep = false;
	if (w->src->rel != XS_REL_BASKET || l->n_a != w->n_a ||
	    l->forgotten_at != w->sw->forgotten_at) {
		return XSELL_OK;
	}
	while (w->sw->list == NULL || w->sw->list_room < l->n) {
		if ((err = seed_list_grow(w->sw)) != XSELL_OK) {
			return err;
		}
	}
	r = w->sw->list;
	memcpy(r, l, seed_list_size(l->n));
	for (uint32_t i = 0; i < r->n; i++) {
		r->v[i].score = xs_rel_pair_score(w->src, w->scorer,
		    &w->sw->counts, w->n_a, r->v[i].b, r->v[i].count);
	}
	*donep = true;
	return XSELL_OK;
}

/* The seed's list walked from its top list into w->sw->list. */
static xsell_err
seed_list_walk(
    xs_store *st, MDB_txn *txn, const struct seed_walk *w, uint32_t seed)
{
	xsell_err err;

	/* The walk's buffer, made at the first seed the memo lacks. */
	if (w->sw->list == NULL && (err = seed_list_grow(w->sw)) != XSELL_OK) {
		return err;
	}
	w->sw->list->n_a          = w->n_a;
	w->sw->list->forgotten_at = w->sw->forgotten_at;
	w->sw->list->entries      = 0;
	w->sw->list->n            = 0;
	return xs_store_top_each(st, txn, w->src->rel, seed, SIZE_MAX,
	    seed_neighbour, (void *) w, NULL);
}

/* The seed's scored list under w's source: the snapshot's memo (*heldp,
 * to be released), or an older snapshot's scored again, or walked, into
 * w->sw->list (and memoised). */
static xsell_err
seed_list_get(xs_store *st, MDB_txn *txn, const struct seed_walk *w,
    uint32_t seed, const struct xs_seed_list **listp, const void **heldp)
{
	uint64_t         key = 0;
	size_t           len;
	enum xs_memo_age age;
	bool      memo = xs_list_memo_key(XS_ITEM_MEMO_SEED_LIST, w->src->rel,
	         w->scorer, w->min_support, seed, &key);
	bool      done = false;
	xsell_err err  = XSELL_OK;

	if (memo &&
	    xs_store_item_memo_hold_aged(st, txn, key, heldp, &len, &age)) {
		if (age == XS_MEMO_FRESH) {
			*listp = *heldp;
			return XSELL_OK;
		}
		err = seed_list_refresh(w, *heldp, &done);
		xs_store_memo_release(*heldp);
		*heldp = NULL;
	}
	if (err == XSELL_OK && !done) {
		err = seed_list_walk(st, txn, w, seed);
	}
	if (err == XSELL_OK && memo) {
		xs_store_item_memo_put(
		    st, txn, key, w->sw->list, seed_list_size(w->sw->list->n));
	}
	*listp = w->sw->list;
	return err;
}

xsell_err
xs_similar_collect(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    struct xs_seed_walk *sw, uint32_t seed, double weight,
    struct xs_tally *out)
{
	struct xs_rel_source srcs[3];
	struct seed_walk     w = { 0 };
	size_t n = similar_sources(set, &sw->tot, XS_SIGNAL_ALL, weight, srcs);
	size_t with_pairs = 0;
	xsell_err err     = XSELL_OK;

	for (size_t s = 0; s < n; s++) {
		with_pairs += !sw->no_pairs[s];
	}
	w.sw          = sw;
	w.scorer      = set->similar_scorer;
	w.min_support = set->min_support;
	for (size_t s = 0; s < n && err == XSELL_OK; s++) {
		const struct xs_seed_list *l    = NULL;
		const void                *held = NULL;

		if (sw->no_pairs[s]) {
			continue;
		}
		w.src = &srcs[s];
		w.n_a =
		    xs_counts_reader_get(&sw->counts, seed, srcs[s].count_a);
		err = seed_list_get(st, txn, &w, seed, &l, &held);
		/* l is set unless err says otherwise. A list names each
		 * neighbour once, so with one relation that has pairs (a
		 * store of orders alone) each credit is its group's whole. */
		for (uint32_t i = 0; err == XSELL_OK && i < l->n; i++) {
			double part = srcs[s].weight * l->v[i].score;

			err = with_pairs == 1
			    ? xs_tally_credit_whole(out, l->v[i].b, part, seed)
			    : xs_tally_credit(out, l->v[i].b, part, seed);
		}
		if (err == XSELL_OK && l->entries == 0) {
			err = note_empty_list(st, txn, srcs[s].rel, sw, s);
		}
		xs_store_memo_release(held);
	}
	return err;
}

xsell_err
xs_model_similar(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_rel_source srcs[3];
	struct xs_totals     tot;
	size_t               n;
	xsell_err            err = xs_store_totals_get(st, txn, &tot);

	if (err != XSELL_OK) {
		return err;
	}
	n = similar_sources(set, &tot, q->signal, 1.0, srcs);
	return neighbours_answer(st, txn, set, q, srcs, n, true, arena, ans);
}
