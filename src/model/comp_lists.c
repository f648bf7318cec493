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

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A relative margin on every bound: sums and products of doubles. */
#define BOUND_MARGIN (1.0 + 1e-9)
/* More given items walk at once: the sum of their lists' cutoffs grows
 * with each, and a cart's answer is then seldom proven (on Online
 * Retail's carts the lists only added their own reading to the walk). */
#define GIVEN_MAX 4u

void
xs_comp_basis_init(
    xs_store *st, MDB_txn *txn, int64_t now_s, struct xs_comp_basis *b)
{
	b->txnid        = mdb_txn_id(txn);
	b->forgotten_at = xs_store_orders_forgotten_at(st, txn);
	b->now_s        = now_s;
	b->n_a          = 0;
}

bool
xs_model_comp_is_fresh(const struct xs_comp_stamp *stamp,
    const struct xs_settings *set, double beta, unsigned min_support,
    const struct xs_comp_basis *b)
{
	int64_t age = b->now_s - stamp->computed_s;

	return stamp->beta == beta && stamp->walk_width == set->walk_width &&
	    stamp->min_support == min_support && stamp->n_a == b->n_a &&
	    stamp->txnid <= b->txnid && stamp->txnid >= b->forgotten_at &&
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

/* Its stamp says what a made list was made with: the key needs nothing
 * else. */
uint64_t
xs_comp_made_list_key(uint32_t a)
{
	return (uint64_t) XS_ITEM_MEMO_MADE_COMP_LIST << 60 | a;
}

/* Item a's made list from the memo into *out (pointing into *heldp, to
 * be released), if it is fresh for basis b. The memo keeps it for every
 * snapshot: b says whether it is one it answers for. */
static bool
made_list_hold(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t a, const struct xs_comp_basis *b, struct xs_comp_list *out,
    const void **heldp)
{
	const void *held;
	size_t      len;

	if (!xs_store_item_memo_hold(
	        st, txn, xs_comp_made_list_key(a), &held, &len)) {
		return false;
	}
	if (xs_comp_list_read(held, len, out) == XSELL_OK &&
	    xs_model_comp_is_fresh(&out->stamp, set, set->complements_beta,
	        set->min_support, b)) {
		*heldp = held;
		return true;
	}
	xs_store_memo_release(held);
	return false;
}

bool
xs_comp_made_list_copy(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, uint32_t a, const struct xs_comp_basis *b,
    struct xs_comp_list_out *out)
{
	struct xs_comp_list l;
	const void         *held;

	if (!made_list_hold(st, txn, set, a, b, &l, &held)) {
		return false;
	}
	out->stamp  = l.stamp;
	out->n      = l.n;
	out->n_skip = l.n_skip;
	memcpy(out->entries, l.bytes, (size_t) l.n * sizeof(*out->entries));
	memcpy(out->skips, l.skips, (size_t) l.n_skip * sizeof(*out->skips));
	xs_store_memo_release(held);
	return true;
}

/* Item a's list made by an answer, where its stored one is missing or
 * not fresh: the memo's if it is fresh for basis b (into *out, pointing
 * into *heldp, to be released), else made
 * now as the refresher makes lists (xs_model_comp_compute) and kept
 * (*out pointing into the arena). Under a stream of orders the refresher
 * is behind on the very items being bought, and every answer for them
 * walked (~2 ms on Online Retail, ~5 us from a list): now one answer
 * makes the list, the answers after it read it, and other items' orders
 * leave it standing, as they leave a stored list. *freshp false when
 * the memo has no room for it: then the walk costs less. */
static xsell_err
made_list_get(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t a, const struct xs_comp_basis *b, struct xs_arena *arena,
    struct xs_comp_list *out, const void **heldp, bool *freshp)
{
	uint64_t                 key = xs_comp_made_list_key(a);
	size_t                   len;
	struct xs_comp_list_out *made;
	void                    *buf = NULL;
	xsell_err                err;

	*freshp = made_list_hold(st, txn, set, a, b, out, heldp);
	if (*freshp) {
		return XSELL_OK;
	}
	len = xs_comp_list_size(set->comp_list_len, set->comp_list_trend);
	if (!xs_store_item_memo_room(st, txn, len)) {
		return XSELL_OK;
	}
	made = malloc(sizeof(*made));
	if (made == NULL) {
		return XSELL_ENOMEM;
	}
	err = xs_model_comp_compute(st, txn, set, a, b->now_s, made);
	if (err == XSELL_OK) {
		len = xs_comp_list_size(made->n, made->n_skip);
		buf = xs_arena_alloc(arena, len);
		err = buf != NULL ? XSELL_OK : XSELL_ENOMEM;
	}
	if (err == XSELL_OK) {
		xs_comp_list_write(buf, &made->stamp, made->entries, made->n,
		    made->skips, made->n_skip);
		xs_store_item_memo_put(st, txn, key, buf, len);
		err     = xs_comp_list_read(buf, len, out);
		*freshp = err == XSELL_OK;
	}
	free(made);
	return err;
}

/* Read the given items' lists, each a stored one or, at the lists'
 * own beta and min_support, one made by an answer (made_list_get); the
 * memo holds taken into held[] (to be released). *freshp false if one
 * is missing or not fresh. lists[] and held[] have n_given slots. */
static xsell_err
lists_read(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct xs_rank_ids *ids,
    struct xs_arena *arena, struct xs_comp_list *lists, const void **held,
    bool *freshp)
{
	struct xs_counts_reader counts;
	struct xs_comp_basis    basis;
	double   beta = q->has_beta ? q->beta : set->complements_beta;
	unsigned ms   = q->min_support ? q->min_support : set->min_support;
	bool     lists_own =
	    beta == set->complements_beta && ms == set->min_support;
	bool      fresh = true;
	xsell_err err   = XSELL_OK;

	xs_counts_reader_init(&counts, st, txn);
	xs_comp_basis_init(st, txn, xs_now_s(), &basis);
	for (size_t g = 0; g < ids->n_given && fresh && err == XSELL_OK; g++) {
		uint32_t a = ids->given[g];

		err = xs_store_comp_get(st, txn, a, &lists[g]);
		if (err != XSELL_OK && err != XSELL_ENOENT) {
			break;
		}
		basis.n_a = xs_counts_reader_get(&counts, a, XS_C_BASKETS);
		fresh     = err == XSELL_OK &&
		    xs_model_comp_is_fresh(
		        &lists[g].stamp, set, beta, ms, &basis);
		err = XSELL_OK;
		if (!fresh && lists_own && xs_store_memo_kept(st, txn)) {
			err = made_list_get(st, txn, set, a, &basis, arena,
			    &lists[g], &held[g], &fresh);
		}
	}
	xs_counts_reader_fini(&counts);
	*freshp = err == XSELL_OK && fresh;
	return err;
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

/* ==== One item's candidates, kept per snapshot ====
 *
 * With one given item, the proof above asks only that the k-th score
 * beat a floor that the lists and the momentum table fix: T, and the
 * bound of every trending item the list neither holds nor skips and that
 * is not left out (a list holds a candidate whole: no candidate is known
 * in part). So the item's best weighed candidates and that floor are
 * kept for the snapshot (an item memo), while the list is fresh: the
 * next answer for the item ranks a copy of these and is proven by one
 * comparison. */

/* Every setting the kept scores and floor were made with. */
struct comp_memo_params {
	double   beta, momentum_weight, momentum_prior;
	double   trend_half_life_days, trend_view_weight;
	uint32_t min_support, walk_width;
};

struct xs_comp_memo {
	struct comp_memo_params params;
	int64_t                 computed_s, fresh_until; /* the list's */
	double         floor; /* the proof's: the k-th score must beat it */
	double         below; /* every candidate not kept scores less */
	uint32_t       whole; /* all candidates kept, the list complete */
	uint32_t       n;
	struct xs_cand v[];
};

static size_t
comp_memo_size(size_t n)
{
	return sizeof(struct xs_comp_memo) + n * sizeof(struct xs_cand);
}

static void
comp_memo_params_of(const struct xs_settings *set, const struct xs_query *q,
    struct comp_memo_params *p)
{
	memset(p, 0, sizeof(*p)); /* no stray padding bytes to compare */
	p->beta            = q->has_beta ? q->beta : set->complements_beta;
	p->momentum_weight = set->comp_momentum_weight;
	p->momentum_prior  = set->pick_momentum_prior;
	p->trend_half_life_days = set->trend_half_life_days;
	p->trend_view_weight    = set->trend_view_weight;
	p->min_support = q->min_support ? q->min_support : set->min_support;
	p->walk_width  = set->walk_width;
}

static bool
comp_memo_params_equal(
    const struct comp_memo_params *a, const struct comp_memo_params *b)
{
	return a->beta == b->beta &&
	    a->momentum_weight == b->momentum_weight &&
	    a->momentum_prior == b->momentum_prior &&
	    a->trend_half_life_days == b->trend_half_life_days &&
	    a->trend_view_weight == b->trend_view_weight &&
	    a->min_support == b->min_support && a->walk_width == b->walk_width;
}

/* The memo key of item a's candidates under 'p': a hash of the settings
 * beside the item (a memo found is checked against 'p' in full). */
static uint64_t
comp_memo_key(const struct comp_memo_params *p, uint32_t a)
{
	uint64_t h = xs_hash64(p, sizeof(*p), 0) & ((1u << 28) - 1);

	return (uint64_t) XS_ITEM_MEMO_COMP_LIST << 60 | h << 32 | a;
}

/* The floor of the k-th score above which one list's answer is proven
 * (lists_prove with one given item); -INFINITY when the list is
 * complete. Scanned as lists_prove scans: trending items by factor,
 * down to where T times the factor cannot raise the floor. */
static xsell_err
proof_floor(xs_store *st, MDB_txn *txn, const struct comp_sum *s,
    const struct xs_comp_list *list, const struct xs_rank_ids *ids,
    double *floorp)
{
	double    t     = s->cut_sum * BOUND_MARGIN;
	double    floor = t;
	xsell_err err   = XSELL_OK;

	*floorp = -INFINITY;
	if (t == 0) {
		return XSELL_OK;
	}
	for (size_t i = 0; i < s->momentum->n && err == XSELL_OK; i++) {
		const struct xs_momentum_factor *f =
		    &s->momentum->by_factor[i];
		double bound;
		bool   out;

		if (t * f->factor <= floor) {
			break;
		}
		if (xs_cand_map_find(&s->map, f->item) != NULL) {
			continue;
		}
		bound = outside_bound(list, 1, f->item) * f->factor;
		if (bound <= floor) {
			continue;
		}
		err = is_left_out(st, txn, s, ids, f->item, &out);
		if (err == XSELL_OK && !out) {
			floor = bound;
		}
	}
	*floorp = floor;
	return err;
}

/* Keep the best weighed candidates of one list's answer and its proof
 * floor as the snapshot's memo under 'key'. */
static xsell_err
comp_memo_put(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct comp_memo_params *p, uint64_t key,
    const struct xs_comp_list *list, const struct xs_rank_ids *ids,
    const struct comp_sum *s)
{
	size_t               n = s->map.vec.n, m;
	double               floor;
	struct xs_comp_memo *memo;
	xsell_err            err = proof_floor(st, txn, s, list, ids, &floor);

	if (err != XSELL_OK) {
		return err;
	}
	memo = malloc(comp_memo_size(XS_CANDS_KEPT_MAX));
	if (memo == NULL) {
		return XSELL_ENOMEM;
	}
	m = xs_cands_best(s->map.vec.v, n, -INFINITY, memo->v, &memo->below);
	memo->params      = *p;
	memo->computed_s  = list->stamp.computed_s;
	memo->fresh_until = list->stamp.computed_s + set->comp_list_max_age_s;
	memo->floor       = floor;
	memo->whole       = m == n && floor == -INFINITY;
	memo->n           = (uint32_t) m;
	if (m != 0 || memo->whole) {
		xs_store_item_memo_put(st, txn, key, memo, comp_memo_size(m));
	}
	free(memo);
	return XSELL_OK;
}

/* The answer from item ids->given[0]'s memo if it has one for 'p' and
 * its list is still fresh (*heldp), proven or not (*donep). */
static xsell_err
comp_memo_answer(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct comp_memo_params *p, uint64_t key,
    const struct xs_rank_ids *ids, struct xs_arena *arena,
    struct xs_answer *ans, bool *heldp, bool *donep)
{
	const struct xs_comp_memo *memo;
	const void                *held;
	struct xs_cand            *v;
	size_t                     len, n;
	int64_t                    now = xs_now_s();
	xsell_err                  err;

	*heldp = xs_store_item_memo_hold(st, txn, key, &held, &len);
	if (!*heldp) {
		return XSELL_OK;
	}
	memo   = held;
	*heldp = comp_memo_params_equal(&memo->params, p) &&
	    now >= memo->computed_s && now <= memo->fresh_until;
	v = *heldp ? malloc((memo->n + 1) * sizeof(*v)) : NULL;
	if (v == NULL) {
		xs_store_memo_release(held);
		return *heldp ? XSELL_ENOMEM : XSELL_OK;
	}
	n = memo->n;
	memcpy(v, memo->v, n * sizeof(*v));
	err = q->cross_category ? xs_comp_keep_other_categories(
	                              st, txn, ids->given, ids->n_given, v, &n)
	                        : XSELL_OK;
	if (err == XSELL_OK) {
		err = xs_rank_top(st, txn, q, ids->excluded, ids->n_excluded,
		    v, n, arena, ans);
	}
	*donep = err == XSELL_OK &&
	    (memo->whole ||
	        (ans->n >= q->k && ans->n > 0 &&
	            ans->recs[ans->n - 1].score > memo->floor &&
	            ans->recs[ans->n - 1].score >= memo->below));
	free(v);
	xs_store_memo_release(held);
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

/* The answer from the given items' fresh lists[] (*donep if proven),
 * kept as the memo under 'key' where 'memo' says. */
static xsell_err
lists_answer(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct xs_rank_ids *ids,
    struct xs_comp_shared *sh, const struct xs_comp_list *lists,
    const struct comp_memo_params *params, uint64_t key, bool memo,
    struct xs_arena *arena, struct xs_answer *ans, bool *donep)
{
	struct comp_sum s         = { 0 };
	size_t          n_entries = 0;
	xsell_err       err       = XSELL_OK;

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
	if (err == XSELL_OK && memo) {
		err = comp_memo_put(
		    st, txn, set, params, key, &lists[0], ids, &s);
	}
	xs_cand_map_free(&s.map);
	return err;
}

xsell_err
xs_comp_from_lists(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct xs_rank_ids *ids,
    struct xs_comp_shared *sh, struct xs_arena *arena, struct xs_answer *ans,
    bool *donep)
{
	struct xs_comp_list    *lists;
	const void            **held;
	struct comp_memo_params params;
	uint64_t                key   = 0;
	bool                    fresh = false;
	bool                    memo  = false;
	bool                    kept  = false;
	xsell_err               err;

	*donep = false;
	if (ids->n_given == 0 || ids->n_given > GIVEN_MAX ||
	    !xs_store_comp_has(st)) {
		return XSELL_OK;
	}
	memo = ids->n_given == 1 && xs_store_memo_kept(st, txn);
	if (memo) {
		comp_memo_params_of(set, q, &params);
		key = comp_memo_key(&params, ids->given[0]);
		err = comp_memo_answer(
		    st, txn, q, &params, key, ids, arena, ans, &kept, donep);
		if (err != XSELL_OK || *donep) {
			return err;
		}
		memo =
		    !kept; /* a memo that could not prove: the lists no more */
	}
	lists = xs_arena_calloc(arena, ids->n_given, sizeof(*lists));
	held  = xs_arena_calloc(arena, ids->n_given, sizeof(*held));
	if (lists == NULL || held == NULL) {
		return XSELL_ENOMEM;
	}
	err = lists_read(st, txn, set, q, ids, arena, lists, held, &fresh);
	if (err == XSELL_OK && fresh) {
		err = lists_answer(st, txn, set, q, ids, sh, lists, &params,
		    key, memo, arena, ans, donep);
	}
	for (size_t g = 0; g < ids->n_given; g++) {
		xs_store_memo_release(held[g]);
	}
	return err;
}
