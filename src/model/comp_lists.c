/* SPDX-License-Identifier: MIT */
/* complements from precomputed lists: the given items' lists (store
 * comp.c, made by xs_model_comp_compute) summed, weighed by momentum and
 * ranked, in place of the walk over ~100,000 paths, but only when the
 * answer can be proven to be the walk's:
 *
 *   - every list is fresh (xs_model_comp_is_fresh: the default walk, the
 *     item's basket count unchanged, not older than the bound);
 *   - a list holds its item's best second-level items by walk score, and
 *     its stamp's cutoff bounds the score of every item it left out. An
 *     item missing from the lists scores at most the sum of the cutoffs
 *     (T) before momentum, and at most T times its momentum factor
 *     after it. Momentum lifts far-down items a lot (up to 1 + the
 *     weight), so the k-th answer must beat T times the factor of every
 *     item the lists miss: the non-trending ones (factor 1) at once, the
 *     trending ones by the momentum table, largest factor first, down to
 *     where T times it falls below the k-th answer. A list also holds
 *     the reachable ones of the most trending items when it was made,
 *     and names the others (its skips: unreachable or left out), so
 *     that most of those are known or bounded by 0; one neither known,
 *     skipped nor left out (a pair lookup) fails the proof;
 *   - with several given items, a candidate missing from some lists has
 *     a score only known within T: if it could reach the k-th answer,
 *     the lists cannot say.
 *
 * Any doubt walks (the caller). With one given item the sums are the
 * walk's own, bit for bit; with several, the same terms are added in
 * another order, so scores may differ in the last bits. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

/* A relative margin on every bound: sums and products of doubles. */
#define BOUND_MARGIN (1.0 + 1e-9)
/* More given items walk at once: the sum of their lists' cutoffs grows
 * with each, and a cart's answer is then seldom proven (on Online
 * Retail's carts the lists only added their own reading to the walk). */
#define GIVEN_MAX 4u

bool
xs_model_comp_is_fresh(const struct xs_comp_stamp *stamp,
    const struct xs_settings *set, double beta, unsigned min_support,
    uint32_t n_a, int64_t now_s)
{
	int64_t age = now_s - stamp->computed_s;

	return stamp->beta == beta && stamp->walk_width == set->walk_width &&
	    stamp->min_support == min_support && stamp->n_a == n_a &&
	    age >= 0 && age <= (int64_t) set->comp_list_max_age_s;
}

/* What the lists of one query hold. */
struct comp_sum {
	struct xs_cand_map         map;      /* c -> summed score, best via */
	const struct xs_item_bits *left_out; /* several given items only */
	const struct xs_momentum_table *momentum;
	double   cut_sum;      /* T: the sum of the cutoffs */
	uint32_t n_incomplete; /* lists with a cutoff */
};

/* Read the given items' lists; *freshp false if one is missing or not
 * fresh. lists[] has n_given slots. */
static xsell_err
lists_read(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct xs_rank_ids *ids,
    struct xs_comp_list *lists, bool *freshp)
{
	struct xs_counts_reader counts;
	double   beta = q->has_beta ? q->beta : set->complements_beta;
	unsigned ms   = q->min_support ? q->min_support : set->min_support;
	int64_t  now  = xs_now_s();

	*freshp = false;
	xs_counts_reader_init(&counts, st, txn);
	for (size_t g = 0; g < ids->n_given; g++) {
		uint32_t  a   = ids->given[g];
		xsell_err err = xs_store_comp_get(st, txn, a, &lists[g]);

		if (err == XSELL_ENOENT) {
			return XSELL_OK;
		}
		if (err != XSELL_OK) {
			return err;
		}
		if (!xs_model_comp_is_fresh(&lists[g].stamp, set, beta, ms,
		        xs_counts_reader_get(&counts, a, XS_C_BASKETS), now)) {
			return XSELL_OK;
		}
	}
	*freshp = true;
	return XSELL_OK;
}

/* Add one list's entries: scores summed, the best path's via kept (its
 * share largest; ties: the smaller via, as the walk's). A candidate's
 * 'group' counts the lists with a cutoff that hold it. */
static xsell_err
lists_add(struct comp_sum *s, const struct xs_comp_list *l, bool left_out)
{
	for (uint32_t i = 0; i < l->n; i++) {
		struct xs_comp_entry e;
		struct xs_cand      *c;
		xsell_err            err;

		xs_comp_list_entry(l, i, &e);
		if (left_out && xs_item_bits_has(s->left_out, e.item)) {
			continue;
		}
		err = xs_cand_map_get(&s->map, e.item, &c);
		if (err != XSELL_OK) {
			return err;
		}
		c->score += e.score;
		if (e.share > c->share ||
		    (e.share == c->share && e.via < c->via)) {
			c->share = e.share;
			c->via   = e.via;
			c->count = e.count;
		}
		c->group += l->stamp.cutoff > 0 ? 1 : 0;
	}
	return XSELL_OK;
}

/* Weigh each candidate by its momentum factor, kept in 'aux'. */
static void
lists_weigh(struct comp_sum *s)
{
	for (size_t i = 0; i < s->map.vec.n; i++) {
		struct xs_cand *c = &s->map.vec.v[i];
		double f = xs_momentum_table_find(s->momentum, c->item);

		c->aux = 1.0;
		if (c->score > 0) {
			c->score *= f;
			c->share *= f;
			c->aux = f;
		}
	}
}

/* Whether item c (with one given item a) is left out of any answer:
 * a itself or bought with a. */
static xsell_err
is_left_out(xs_store *st, MDB_txn *txn, const struct comp_sum *s,
    const struct xs_rank_ids *ids, uint32_t c, bool *outp)
{
	uint32_t  count = 0;
	xsell_err err   = XSELL_OK;

	if (ids->n_given > 1) {
		*outp = xs_item_bits_has(s->left_out, c);
		return XSELL_OK;
	}
	if (c != ids->given[0]) {
		err = xs_store_pair_get(
		    st, txn, XS_REL_BASKET, ids->given[0], c, &count);
	}
	*outp = c == ids->given[0] || count > 0;
	return err;
}

/* The bound on the walk score of an item none of the lists holds: the
 * cutoffs of the lists that did not look at it (a list's skips were
 * looked at and are not reached from its item). */
static double
outside_bound(const struct xs_comp_list *lists, size_t n_lists, uint32_t c)
{
	double b = 0;

	for (size_t i = 0; i < n_lists; i++) {
		if (!xs_comp_list_skips(&lists[i], c)) {
			b += lists[i].stamp.cutoff;
		}
	}
	return b * BOUND_MARGIN;
}

/* Whether no candidate known only in part, and no item the lists miss,
 * can reach 'kth' (the k-th answer's score). */
static xsell_err
lists_prove(xs_store *st, MDB_txn *txn, const struct comp_sum *s,
    const struct xs_comp_list *lists, const struct xs_rank_ids *ids,
    double kth, bool *provenp)
{
	double t = s->cut_sum * BOUND_MARGIN;

	*provenp = false;
	if (t == 0) {
		*provenp = true; /* every list complete: nothing is missing */
		return XSELL_OK;
	}
	if (kth <= 0 || t >= kth) {
		return XSELL_OK; /* an item outside the trend window may */
	}
	for (size_t i = 0; i < s->map.vec.n; i++) {
		const struct xs_cand *c = &s->map.vec.v[i];

		if (c->group < s->n_incomplete &&
		    (c->score + t * c->aux) * BOUND_MARGIN >= kth) {
			return XSELL_OK;
		}
	}
	for (size_t i = 0; i < s->momentum->n; i++) {
		const struct xs_momentum_factor *f =
		    &s->momentum->by_factor[i];
		bool      out;
		xsell_err err;

		if (t * f->factor < kth) {
			break;
		}
		if (xs_cand_map_find(&s->map, f->item) != NULL ||
		    outside_bound(lists, ids->n_given, f->item) * f->factor <
		        kth) {
			continue; /* known (in part: checked above), or low */
		}
		err = is_left_out(st, txn, s, ids, f->item, &out);
		if (err != XSELL_OK || !out) {
			return err;
		}
	}
	*provenp = true;
	return XSELL_OK;
}

/* Rank the candidates and prove the answer. The ranking keeps the
 * map's order (xs_rank_top), so only cross_category, which drops
 * candidates, ranks a copy: the proof needs the map whole. */
static xsell_err
lists_rank(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct xs_rank_ids *ids, const struct xs_comp_list *lists,
    struct comp_sum *s, struct xs_arena *arena, struct xs_answer *ans,
    bool *donep)
{
	size_t          n    = s->map.vec.n;
	struct xs_cand *v    = s->map.vec.v;
	struct xs_cand *copy = NULL;
	xsell_err       err  = XSELL_OK;

	if (q->cross_category) {
		copy = malloc((n + 1) * sizeof(*copy));
		if (copy == NULL) {
			return XSELL_ENOMEM;
		}
		if (n != 0) {
			memcpy(copy, v, n * sizeof(*copy));
		}
		v   = copy;
		err = xs_comp_keep_other_categories(
		    st, txn, ids->given, ids->n_given, v, &n);
	}
	if (err == XSELL_OK) {
		err = xs_rank_top(st, txn, q, ids->excluded, ids->n_excluded,
		    v, n, arena, ans);
	}
	if (err == XSELL_OK) {
		double kth = ans->n >= q->k && ans->n > 0
		    ? ans->recs[ans->n - 1].score
		    : 0;

		err = lists_prove(st, txn, s, lists, ids, kth, donep);
	}
	free(copy);
	return err;
}

/* Room for n candidates in the map's vector at once: a list entry adds
 * at most one, and growing by doubling copied 120-byte candidates (a
 * tenth of an answer's instructions). */
static xsell_err
cands_reserve(struct xs_cand_vec *vec, size_t n)
{
	struct xs_cand *v;

	if (n <= vec->cap) {
		return XSELL_OK;
	}
	v = realloc(vec->v, n * sizeof(*v));
	if (v == NULL) {
		return XSELL_ENOMEM;
	}
	vec->v   = v;
	vec->cap = n;
	return XSELL_OK;
}

xsell_err
xs_comp_from_lists(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct xs_rank_ids *ids,
    struct xs_comp_shared *sh, struct xs_arena *arena, struct xs_answer *ans,
    bool *donep)
{
	struct comp_sum      s = { 0 };
	struct xs_comp_list *lists;
	bool                 fresh     = false;
	size_t               n_entries = 0;
	xsell_err            err;

	*donep = false;
	if (ids->n_given == 0 || ids->n_given > GIVEN_MAX ||
	    !xs_store_comp_has(st)) {
		return XSELL_OK;
	}
	lists = xs_arena_calloc(arena, ids->n_given, sizeof(*lists));
	if (lists == NULL) {
		return XSELL_ENOMEM;
	}
	err = lists_read(st, txn, set, q, ids, lists, &fresh);
	if (err != XSELL_OK || !fresh) {
		return err;
	}
	if (ids->n_given > 1 && !sh->has_left_out) {
		err = xs_comp_left_out(
		    st, txn, ids->given, ids->n_given, &sh->left_out);
		sh->has_left_out = err == XSELL_OK;
	}
	s.left_out = &sh->left_out;
	for (size_t g = 0; g < ids->n_given; g++) {
		n_entries += lists[g].n;
	}
	if (err == XSELL_OK) {
		err = cands_reserve(&s.map.vec, n_entries);
	}
	for (size_t g = 0; g < ids->n_given && err == XSELL_OK; g++) {
		s.cut_sum += lists[g].stamp.cutoff;
		s.n_incomplete += lists[g].stamp.cutoff > 0 ? 1 : 0;
		err = lists_add(&s, &lists[g], ids->n_given > 1);
	}
	if (err == XSELL_OK && !sh->has_momentum) {
		err = xs_momentum_table_get(
		    st, txn, set, set->comp_momentum_weight, &sh->momentum);
		sh->has_momentum = err == XSELL_OK;
	}
	s.momentum = &sh->momentum;
	if (err == XSELL_OK) {
		lists_weigh(&s);
		err =
		    lists_rank(st, txn, q, ids, lists, &s, arena, ans, donep);
	}
	xs_cand_map_free(&s.map);
	return err;
}
