/* SPDX-License-Identifier: MIT */
/* Second-level complements ("A is bought with B, B with C: C is a
 * non-obvious complement of A, via B"), scored as a two-step random walk
 * over the basket graph with RP3beta's popularity penalty:
 *
 *   score(c) = sum over given a, paths a -> b -> c of
 *              N_ab/N_a * N_bc/N_b / N_c^beta
 *
 * (Paudel, Christoffel, Mendicino, Bernstein, "Updatable, accurate,
 * diverse, and scalable recommendations for interactive applications",
 * ACM TiiS 2017). The walk follows only each given item's walk_width
 * strongest neighbours (the head of its top list, store/top.c), and from
 * each of them every neighbour: the complements worth finding are the
 * rare ones deep in a list, which the popularity penalty lifts (reading
 * only the via-items' top lists cut hit rate by two thirds in
 * xsell-eval). So an answer costs walk_width + n_given lists.
 *
 * The walk is also the reference of the precomputed lists: this file
 * computes an item's list with the walk's own code (xs_model_comp_compute)
 * and answers from the lists first (comp_lists.c), walking whenever they
 * cannot prove the answer to be the walk's. */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nb {
	uint32_t item;
	uint32_t count;
};

struct nb_vec {
	struct nb *v;
	size_t     n, cap;
	uint32_t   min_count;
};

static xsell_err
nb_collect(void *ctx, uint32_t b, uint32_t count)
{
	struct nb_vec *nv = ctx;

	if (count < nv->min_count) {
		return XSELL_OK;
	}
	if (nv->n == nv->cap) {
		size_t     cap = nv->cap ? nv->cap * 2 : 256;
		struct nb *v   = realloc(nv->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		nv->v   = v;
		nv->cap = cap;
	}
	nv->v[nv->n].item  = b;
	nv->v[nv->n].count = count;
	nv->n++;
	return XSELL_OK;
}

/* Strongest first; ties by item number, so the walk is deterministic. */
static int
nb_cmp_strongest(const void *x, const void *y)
{
	const struct nb *p = x, *q = y;

	if (p->count != q->count) {
		return p->count > q->count ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

static int
nb_cmp_item(const void *x, const void *y)
{
	const struct nb *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

/* Every item bought with any given item, at any count: the first level
 * that a second-level answer must leave out. Sorted, unique. */
static xsell_err
first_level(xs_store *st, MDB_txn *txn, const uint32_t *given, size_t n_given,
    struct nb_vec *out)
{
	size_t    u = 0;
	xsell_err err;

	out->min_count = 1;
	for (size_t g = 0; g < n_given; g++) {
		err = xs_store_pairs_each(
		    st, txn, XS_REL_BASKET, given[g], nb_collect, out);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (out->n != 0) {
		qsort(out->v, out->n, sizeof(*out->v), nb_cmp_item);
	}
	for (size_t i = 0; i < out->n; i++) {
		if (u == 0 || out->v[u - 1].item != out->v[i].item) {
			out->v[u++] = out->v[i];
		}
	}
	out->n = u;
	return XSELL_OK;
}

static xsell_err
item_bits_init(struct xs_item_bits *b, uint32_t max)
{
	b->max  = max;
	b->bits = calloc((size_t) max / 8 + 1, 1);
	return b->bits != NULL ? XSELL_OK : XSELL_ENOMEM;
}

static void
item_bits_set(struct xs_item_bits *b, uint32_t item)
{
	if (item <= b->max) {
		b->bits[item / 8] |= (uint8_t) (1u << (item % 8));
	}
}

bool
xs_item_bits_has(const struct xs_item_bits *b, uint32_t item)
{
	return b->bits != NULL && item <= b->max &&
	    (b->bits[item / 8] >> (item % 8) & 1u) != 0;
}

/* The bits of the given items and of every first-level item. */
static xsell_err
left_out_bits(xs_store *st, MDB_txn *txn, const uint32_t *given,
    size_t n_given, const struct nb_vec *first, struct xs_item_bits *out)
{
	uint32_t  max;
	xsell_err err = xs_store_dict_size(st, txn, XS_DICT_ITEM, &max);

	if (err == XSELL_OK) {
		err = item_bits_init(out, max);
	}
	for (size_t g = 0; g < n_given && err == XSELL_OK; g++) {
		item_bits_set(out, given[g]);
	}
	for (size_t i = 0; i < first->n && err == XSELL_OK; i++) {
		item_bits_set(out, first->v[i].item);
	}
	return err;
}

/* A second-level item's sums while the walk goes: a third of an
 * xs_cand, found by item number in an index, so that the ~100,000 paths
 * of an answer cost a load each instead of a probe of a hash table of
 * 120-byte candidates (a quarter of a list's CPU). */
struct walk_sum {
	double   score;
	double   share; /* the best path's part */
	double   aux;   /* N_c^beta */
	uint32_t item;
	uint32_t via; /* the best path's */
	uint32_t count;
};

struct walk2 {
	struct xs_cand_map         map;      /* the result: c -> score, via */
	const struct xs_item_bits *left_out; /* given and first-level items */
	struct xs_counts_reader    counts;
	uint32_t                   min_support;
	uint32_t                   via;
	double                     p_ab; /* p(b|a) */
	double                     n_b;
	double                     beta;
	/* While walking: the sums in order of first path, and item ->
	 * index1 into them (lent by the store, else allocated). */
	struct walk_sum *sums;
	size_t           n_sums, room;
	uint32_t        *index;
	size_t           index_cap;
	bool             index_lent;
};

/* The sum of c, added if new (with N_c^beta, 1 for an item without
 * orders); NULL if out of memory. */
static struct walk_sum *
walk_sum_of(struct walk2 *w, uint32_t c)
{
	struct walk_sum *x;
	double           n_c;

	if (w->index[c] != 0) {
		return &w->sums[w->index[c] - 1];
	}
	if (w->n_sums == w->room) {
		size_t           room = w->room ? w->room * 2 : 1024;
		struct walk_sum *v    = realloc(w->sums, room * sizeof(*v));

		if (v == NULL) {
			return NULL;
		}
		w->sums = v;
		w->room = room;
	}
	n_c = xs_counts_reader_get(&w->counts, c, XS_C_BASKETS);
	x   = &w->sums[w->n_sums++];
	memset(x, 0, sizeof(*x));
	x->item     = c;
	x->aux      = n_c > 0 ? pow(n_c, w->beta) : 1.0;
	w->index[c] = (uint32_t) w->n_sums;
	return x;
}

/* One path a -> b -> c: its part of c's score; the strongest path names
 * the via-item (ties: the smaller item number). */
static xsell_err
walk_second(void *ctx, uint32_t c, uint32_t count)
{
	struct walk2    *w = ctx;
	struct walk_sum *x;
	double           contrib;

	if (count < w->min_support || xs_item_bits_has(w->left_out, c)) {
		return XSELL_OK;
	}
	if (c >= w->index_cap) {
		return XSELL_ECORRUPT; /* a pair of an item the store lacks */
	}
	x = walk_sum_of(w, c);
	if (x == NULL) {
		return XSELL_ENOMEM;
	}
	contrib = w->p_ab * (count / w->n_b) / x->aux;
	x->score += contrib;
	if (contrib > x->share || (contrib == x->share && w->via < x->via)) {
		x->share = contrib;
		x->via   = w->via;
		x->count = count;
	}
	return XSELL_OK;
}

/* The index for a walk in txn: one per item number. */
static xsell_err
walk_index_take(xs_store *st, MDB_txn *txn, struct walk2 *w)
{
	uint32_t  items;
	xsell_err err = xs_store_dict_size(st, txn, XS_DICT_ITEM, &items);

	if (err != XSELL_OK) {
		return err;
	}
	w->index = xs_store_index_take(st, (size_t) items + 1, &w->index_cap);
	w->index_lent = w->index != NULL;
	if (w->index == NULL) {
		w->index_cap = (size_t) items + 1;
		w->index     = calloc(w->index_cap, sizeof(*w->index));
	}
	return w->index != NULL ? XSELL_OK : XSELL_ENOMEM;
}

/* The sums into w->map as candidates, in the order of their first path,
 * and the index given back, every entry zero again. */
static xsell_err
walk_sums_to_map(xs_store *st, struct walk2 *w)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < w->n_sums; i++) {
		const struct walk_sum *x = &w->sums[i];
		struct xs_cand        *c;

		w->index[x->item] = 0;
		if (err == XSELL_OK) {
			err = xs_cand_map_get(&w->map, x->item, &c);
		}
		if (err == XSELL_OK) {
			c->score = x->score;
			c->share = x->share;
			c->aux   = x->aux;
			c->via   = x->via;
			c->count = x->count;
		}
	}
	if (w->index_lent) {
		xs_store_index_give(st, w->index, w->index_cap);
	} else {
		free(w->index);
	}
	free(w->sums);
	w->index  = NULL;
	w->sums   = NULL;
	w->n_sums = w->room = 0;
	return err;
}

/* Walk from one given item through its strongest neighbours. */
static xsell_err
walk_from(
    xs_store *st, MDB_txn *txn, struct walk2 *w, uint32_t a, unsigned width)
{
	struct nb_vec nbs = { NULL, 0, 0, w->min_support };
	double        n_a = xs_counts_reader_get(&w->counts, a, XS_C_BASKETS);
	xsell_err     err;

	/* The strongest 'width' are the head of a's top list, when it is
	 * that long (count order is the walk's order). */
	if (width <= xs_store_top_m(st)) {
		err = xs_store_top_each(
		    st, txn, XS_REL_BASKET, a, width, nb_collect, &nbs, NULL);
	} else {
		err = xs_store_pairs_each(
		    st, txn, XS_REL_BASKET, a, nb_collect, &nbs);
	}
	if (err == XSELL_OK && nbs.n > 0 && n_a > 0) {
		qsort(nbs.v, nbs.n, sizeof(*nbs.v), nb_cmp_strongest);
		for (size_t i = 0; i < nbs.n && i < width && err == XSELL_OK;
		     i++) {
			w->via  = nbs.v[i].item;
			w->p_ab = nbs.v[i].count / n_a;
			w->n_b  = xs_counts_reader_get(
			     &w->counts, w->via, XS_C_BASKETS);
			if (w->n_b <= 0) {
				continue;
			}
			err = xs_store_pairs_each(
			    st, txn, XS_REL_BASKET, w->via, walk_second, w);
		}
	}
	free(nbs.v);
	return err;
}

/* The categories of the given items (0s left out), for cross_category. */
static xsell_err
given_categories(xs_store *st, MDB_txn *txn, const uint32_t *given,
    size_t n_given, uint32_t *cats, size_t *np)
{
	size_t n = 0;

	for (size_t g = 0; g < n_given; g++) {
		struct xs_item_meta m;
		xsell_err err = xs_store_meta_get(st, txn, given[g], &m);

		if (err != XSELL_OK && err != XSELL_ENOENT) {
			return err;
		}
		if (m.category != 0) {
			cats[n++] = m.category;
		}
	}
	*np = n;
	return XSELL_OK;
}

/* Keep only candidates of a category none of the given items has;
 * items without a category are kept (nothing says they share one). */
static xsell_err
keep_other_categories(xs_store *st, MDB_txn *txn, const uint32_t *cats,
    size_t n_cats, struct xs_cand *v, size_t *np)
{
	size_t m = 0;

	for (size_t i = 0; i < *np; i++) {
		struct xs_item_meta meta;
		bool                same = false;
		xsell_err err = xs_store_meta_get(st, txn, v[i].item, &meta);

		if (err != XSELL_OK && err != XSELL_ENOENT) {
			return err;
		}
		for (size_t c = 0; c < n_cats && meta.category != 0; c++) {
			same = same || cats[c] == meta.category;
		}
		if (!same) {
			v[m++] = v[i];
		}
	}
	*np = m;
	return XSELL_OK;
}

xsell_err
xs_comp_keep_other_categories(xs_store *st, MDB_txn *txn,
    const uint32_t *given, size_t n_given, struct xs_cand *v, size_t *np)
{
	uint32_t *cats   = calloc(n_given + 1, sizeof(*cats));
	size_t    n_cats = 0;
	xsell_err err;

	if (cats == NULL) {
		return XSELL_ENOMEM;
	}
	err = given_categories(st, txn, given, n_given, cats, &n_cats);
	if (err == XSELL_OK && n_cats != 0) {
		err = keep_other_categories(st, txn, cats, n_cats, v, np);
	}
	free(cats);
	return err;
}

xsell_err
xs_comp_left_out(xs_store *st, MDB_txn *txn, const uint32_t *given,
    size_t n_given, struct xs_item_bits *out)
{
	struct nb_vec first = { 0 };
	xsell_err     err   = first_level(st, txn, given, n_given, &first);

	out->bits = NULL;
	if (err == XSELL_OK) {
		err = left_out_bits(st, txn, given, n_given, &first, out);
	}
	free(first.v);
	return err;
}

void
xs_comp_shared_fini(struct xs_comp_shared *sh)
{
	free(sh->left_out.bits);
	xs_momentum_table_fini(&sh->momentum);
	memset(sh, 0, sizeof(*sh));
}

/* The walk's scores before momentum: w->map holds every second-level
 * item reached from the given items (w's beta and min_support set),
 * leaving out sh's left_out, built here unless the lists did. */
static xsell_err
walk_raw(xs_store *st, MDB_txn *txn, const uint32_t *given, size_t n_given,
    unsigned width, struct xs_comp_shared *sh, struct walk2 *w)
{
	xsell_err err = XSELL_OK;

	if (!sh->has_left_out) {
		err = xs_comp_left_out(st, txn, given, n_given, &sh->left_out);
		sh->has_left_out = err == XSELL_OK;
	}
	w->left_out = &sh->left_out;
	xs_counts_reader_init(&w->counts, st, txn);
	if (err == XSELL_OK) {
		err = walk_index_take(st, txn, w);
	}
	for (size_t g = 0; g < n_given && err == XSELL_OK; g++) {
		err = walk_from(st, txn, w, given[g], width);
	}
	if (w->index != NULL) {
		xsell_err e = walk_sums_to_map(st, w);

		err = err == XSELL_OK ? e : err;
	}
	return err;
}

/* xs_weigh_by_momentum with the factors of a table the lists built
 * (the same factors: momentum.c computes both alike). */
static void
weigh_by_table(const struct xs_momentum_table *t, struct xs_cand_map *m)
{
	for (size_t i = 0; i < m->vec.n; i++) {
		struct xs_cand *c = &m->vec.v[i];
		double          f;

		if (c->score <= 0) {
			continue;
		}
		f = xs_momentum_table_find(t, c->item);
		c->score *= f;
		c->share *= f;
	}
}

/* The walk, the reference answer: every path, then momentum. */
static xsell_err
complements_walk(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct xs_rank_ids *ids,
    struct xs_comp_shared *sh, struct xs_arena *arena, struct xs_answer *ans)
{
	struct walk2    w = { 0 };
	struct xs_cand *cands;
	size_t          n = 0;
	xsell_err       err;

	w.min_support = q->min_support ? q->min_support : set->min_support;
	w.beta        = q->has_beta ? q->beta : set->complements_beta;
	err           = walk_raw(
	              st, txn, ids->given, ids->n_given, set->walk_width, sh, &w);
	if (err == XSELL_OK && sh->has_momentum) {
		weigh_by_table(&sh->momentum, &w.map);
	} else if (err == XSELL_OK) {
		err = xs_weigh_by_momentum(
		    st, txn, set, set->comp_momentum_weight, &w.map);
	}
	cands = w.map.vec.v;
	n     = w.map.vec.n;
	if (err == XSELL_OK && q->cross_category) {
		err = xs_comp_keep_other_categories(
		    st, txn, ids->given, ids->n_given, cands, &n);
	}
	if (err == XSELL_OK) {
		err = xs_rank_top(st, txn, q, ids->excluded, ids->n_excluded,
		    cands, n, arena, ans);
	}
	xs_cand_map_free(&w.map);
	xs_counts_reader_fini(&w.counts);
	return err;
}

xsell_err
xs_model_complements(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_rank_ids    ids;
	struct xs_comp_shared sh   = { 0 };
	bool                  done = false;
	xsell_err err = xs_rank_resolve(st, txn, q, arena, &ids, ans);

	if (err == XSELL_OK && !q->fresh) {
		err = xs_comp_from_lists(
		    st, txn, set, q, &ids, &sh, arena, ans, &done);
	}
	if (err == XSELL_OK && !done) {
		err = complements_walk(st, txn, set, q, &ids, &sh, arena, ans);
	}
	xs_comp_shared_fini(&sh);
	return err;
}

/* Mark (group 1) the walk's candidates among the n_trend items of the
 * largest momentum factors now, and collect the others as skips: they
 * are unreachable or left out. Momentum lifts far-down items up to fifty
 * times on Online Retail, so an answer must know their scores to prove
 * itself (comp_lists.c). */
static xsell_err
mark_trending(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    struct walk2 *w, uint32_t *skips, uint32_t *n_skipp)
{
	struct xs_momentum_table t;
	uint32_t                 n_skip = 0;
	size_t                   n_trend;
	xsell_err                err =
	    xs_momentum_table_get(st, txn, set, set->comp_momentum_weight, &t);

	if (err != XSELL_OK) {
		return err;
	}
	n_trend = t.n < set->comp_list_trend ? t.n : set->comp_list_trend;
	if (n_trend > XS_COMP_LIST_MAX) {
		n_trend = XS_COMP_LIST_MAX;
	}
	for (size_t i = 0; i < n_trend; i++) {
		struct xs_cand *c =
		    xs_cand_map_find(&w->map, t.by_factor[i].item);

		if (c != NULL) {
			c->group = 1;
		} else {
			skips[n_skip++] = t.by_factor[i].item;
		}
	}
	xs_momentum_table_fini(&t);
	if (n_skip != 0) {
		qsort(skips, n_skip, sizeof(*skips), xs_u32_cmp);
	}
	*n_skipp = n_skip;
	return XSELL_OK;
}

/* Order candidates v[0..n) for a list: those it may take (the best len
 * by xs_cand_cmp_score, every one tied with the len-th, and the marked
 * ones) first, sorted, into *frontp of them; the others after them,
 * unsorted, the best of their scores into *back_bestp (0: none). Sorting
 * every candidate to take a few hundred was a fifth of a list's CPU. */
static void
list_order(struct xs_cand *v, size_t n, uint32_t len, size_t *frontp,
    double *back_bestp)
{
	double *s     = n > len && len > 0 ? malloc(n * sizeof(*s)) : NULL;
	size_t  front = n;
	double  best  = 0;

	if (s != NULL) {
		double t;

		for (size_t i = 0; i < n; i++) {
			s[i] = v[i].score;
		}
		t = xs_nth_largest(s, n, len);
		free(s);
		front = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i].score >= t || v[i].group != 0) {
				struct xs_cand c = v[front];

				v[front++] = v[i];
				v[i]       = c;
			} else if (v[i].score > best) {
				best = v[i].score;
			}
		}
	}
	if (front > 1) {
		qsort(v, front, sizeof(*v), xs_cand_cmp_score);
	}
	*frontp     = front;
	*back_bestp = best;
}

/* The list out of the candidates v[0..n) it may take, sorted
 * (list_order): the best len, then the marked ones (at most
 * XS_COMP_LIST_MAX in all); the cutoff is the best score of them left
 * out. */
static void
take_list(const struct xs_cand *v, size_t n, uint32_t len,
    struct xs_comp_stamp *stamp, struct xs_comp_entry *out, uint32_t *np)
{
	uint32_t m = 0;

	stamp->cutoff = 0;
	for (size_t i = 0; i < n; i++) {
		const struct xs_cand *c = &v[i];

		if ((i >= len && c->group == 0) || m == XS_COMP_LIST_MAX) {
			if (stamp->cutoff == 0) {
				stamp->cutoff = c->score;
			}
			continue;
		}
		memset(&out[m], 0, sizeof(out[m]));
		out[m].item  = c->item;
		out[m].via   = c->via;
		out[m].count = (uint32_t) c->count;
		out[m].score = c->score;
		out[m].share = c->share;
		m++;
	}
	*np = m;
}

xsell_err
xs_model_comp_compute(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, uint32_t a, int64_t now_s,
    struct xs_comp_list_out *out)
{
	struct walk2          w   = { 0 };
	struct xs_comp_shared sh  = { 0 };
	uint32_t              len = set->comp_list_len;
	size_t                n   = 0;
	double                back_best;
	xsell_err             err;

	if (len > XS_COMP_LIST_MAX) {
		len = XS_COMP_LIST_MAX;
	}
	w.min_support = set->min_support;
	w.beta        = set->complements_beta;
	err           = walk_raw(st, txn, &a, 1, set->walk_width, &sh, &w);
	if (err == XSELL_OK) {
		err =
		    mark_trending(st, txn, set, &w, out->skips, &out->n_skip);
	}
	if (err == XSELL_OK) {
		list_order(w.map.vec.v, w.map.vec.n, len, &n, &back_best);
	}
	if (err == XSELL_OK) {
		struct xs_comp_stamp *sp = &out->stamp;

		memset(sp, 0, sizeof(*sp));
		sp->computed_s = now_s;
		sp->txnid      = mdb_txn_id(txn);
		sp->beta       = w.beta;
		sp->n_a = xs_counts_reader_get(&w.counts, a, XS_C_BASKETS);
		sp->walk_width  = set->walk_width;
		sp->min_support = w.min_support;
		take_list(w.map.vec.v, n, len, sp, out->entries, &out->n);
		/* The cutoff bounds those list_order put behind too. */
		if (back_best > sp->cutoff) {
			sp->cutoff = back_best;
		}
	}
	xs_cand_map_free(&w.map);
	xs_counts_reader_fini(&w.counts);
	xs_comp_shared_fini(&sh);
	return err;
}
