/* SPDX-License-Identifier: MIT */
/* "Frequently bought with": the basket neighbours of the given items,
 * scored and summed over them, best first with ties by external id.
 *
 * Cost: one walk of each given item's neighbour list (read a page at a
 * time), one counter-chunk lookup per 256 item numbers touched, a sort of
 * the candidates, and the metadata and external ids of the items that
 * are returned (or tied at the cut). Nothing scans the catalogue. */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

struct cand {
	uint32_t    item;
	double      score;
	uint64_t    count;
	const char *ext; /* loaded lazily: only for ties and the answer */
	size_t      ext_len;
};

struct walk {
	struct cand            *v;
	size_t                  n, cap;
	const uint32_t         *given; /* sorted */
	size_t                  n_given;
	struct xs_counts_reader counts;
	enum xs_scorer          scorer;
	uint32_t                min_support;
	double                  n_a, n_total;
};

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;

	return a < b ? -1 : a > b;
}

static bool
u32_in(const uint32_t *v, size_t n, uint32_t x)
{
	return n != 0 && bsearch(&x, v, n, sizeof(*v), cmp_u32) != NULL;
}

static xsell_err
walk_neighbour(void *ctx, uint32_t b, uint32_t count)
{
	struct walk         *w = ctx;
	struct xs_pair_stats ps;

	if (count < w->min_support || u32_in(w->given, w->n_given, b)) {
		return XSELL_OK;
	}
	if (w->n == w->cap) {
		size_t       cap = w->cap ? w->cap * 2 : 256;
		struct cand *v   = realloc(w->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		w->v   = v;
		w->cap = cap;
	}
	ps.n_ab          = count;
	ps.n_a           = w->n_a;
	ps.n_b           = xs_counts_reader_get(&w->counts, b, XS_C_BASKETS);
	ps.n             = w->n_total;
	w->v[w->n].item  = b;
	w->v[w->n].score = xs_score(w->scorer, &ps);
	w->v[w->n].count = count;
	w->v[w->n].ext   = NULL;
	w->n++;
	return XSELL_OK;
}

static int
cmp_cand_item(const void *x, const void *y)
{
	const struct cand *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

static int
cmp_cand_score(const void *x, const void *y)
{
	const struct cand *p = x, *q = y;

	if (p->score != q->score) {
		return p->score > q->score ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

static int
cmp_cand_ext(const void *x, const void *y)
{
	const struct cand *p = x, *q = y;
	size_t n = p->ext_len < q->ext_len ? p->ext_len : q->ext_len;
	int    c = memcmp(p->ext, q->ext, n);

	if (c != 0) {
		return c;
	}
	return p->ext_len < q->ext_len ? -1 : p->ext_len > q->ext_len;
}

/* Several given items: one candidate per item, scores and counts summed. */
static size_t
merge_candidates(struct cand *v, size_t n)
{
	size_t u = 0;

	if (n == 0) {
		return 0;
	}
	qsort(v, n, sizeof(*v), cmp_cand_item);
	for (size_t i = 0; i < n; i++) {
		if (u != 0 && v[u - 1].item == v[i].item) {
			v[u - 1].score += v[i].score;
			v[u - 1].count += v[i].count;
		} else {
			v[u++] = v[i];
		}
	}
	return u;
}

/* Resolve the given ids; unknown ones are listed, known ones sorted. */
static xsell_err
resolve_given(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct xs_arena *arena, uint32_t *given, size_t *n_givenp,
    struct xs_answer *ans)
{
	size_t n = 0;

	ans->unknown =
	    xs_arena_calloc(arena, q->n_items + 1, sizeof(uint32_t));
	ans->n_unknown = 0;
	if (ans->unknown == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < q->n_items; i++) {
		xsell_err err = xs_store_id_get(st, txn, XS_DICT_ITEM,
		    q->items[i].p, q->items[i].len, &given[n]);

		if (err == XSELL_ENOENT) {
			ans->unknown[ans->n_unknown++] = i;
			continue;
		}
		if (err != XSELL_OK) {
			return err;
		}
		n++;
	}
	if (n != 0) {
		qsort(given, n, sizeof(*given), cmp_u32);
	}
	*n_givenp = n;
	return XSELL_OK;
}

static xsell_err
resolve_excluded(xs_store *st, MDB_txn *txn, const struct xs_filter *f,
    uint32_t *out, size_t *np)
{
	size_t n = 0;

	for (uint32_t i = 0; i < f->n_exclude; i++) {
		xsell_err err = xs_store_id_get(st, txn, XS_DICT_ITEM,
		    f->exclude[i].p, f->exclude[i].len, &out[n]);

		if (err == XSELL_OK) {
			n++;
		} else if (err != XSELL_ENOENT) {
			return err;
		}
	}
	if (n != 0) {
		qsort(out, n, sizeof(*out), cmp_u32);
	}
	*np = n;
	return XSELL_OK;
}

static xsell_err
load_ext(xs_store *st, MDB_txn *txn, struct cand *c)
{
	if (c->ext != NULL) {
		return XSELL_OK;
	}
	return xs_store_ext_get(
	    st, txn, XS_DICT_ITEM, c->item, &c->ext, &c->ext_len);
}

/* Does the filter let 'c' through? */
static xsell_err
filter_pass(xs_store *st, MDB_txn *txn, const struct xs_filter *f,
    const uint32_t *excluded, size_t n_excluded, const struct cand *c,
    bool *passp)
{
	struct xs_item_meta m;
	xsell_err           err;

	*passp = false;
	if (u32_in(excluded, n_excluded, c->item)) {
		return XSELL_OK;
	}
	if (f->in_stock) {
		err = xs_store_meta_get(st, txn, c->item, &m);
		if (err != XSELL_OK && err != XSELL_ENOENT) {
			return err;
		}
		if (!m.in_stock) {
			return XSELL_OK;
		}
	}
	*passp = true;
	return XSELL_OK;
}

/* Take the best k that pass the filter from candidates sorted by score:
 * each run of equal scores is ordered by external id first. */
static xsell_err
select_top(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct cand *v, size_t n,
    struct xs_arena *arena, struct xs_answer *ans)
{
	size_t    i   = 0;
	xsell_err err = XSELL_OK;

	ans->recs = xs_arena_calloc(arena, q->k, sizeof(*ans->recs));
	ans->n    = 0;
	if (ans->recs == NULL) {
		return XSELL_ENOMEM;
	}
	while (i < n && ans->n < q->k && err == XSELL_OK) {
		size_t j = i + 1;

		while (j < n && v[j].score == v[i].score) {
			j++;
		}
		if (j - i > 1) {
			for (size_t t = i; t < j && err == XSELL_OK; t++) {
				err = load_ext(st, txn, &v[t]);
			}
			if (err != XSELL_OK) {
				break;
			}
			qsort(v + i, j - i, sizeof(*v), cmp_cand_ext);
		}
		for (; i < j && ans->n < q->k && err == XSELL_OK; i++) {
			struct xs_rec *r;
			bool           pass;

			err = filter_pass(st, txn, &q->filter, excluded,
			    n_excluded, &v[i], &pass);
			if (err != XSELL_OK || !pass) {
				continue;
			}
			err = load_ext(st, txn, &v[i]);
			if (err != XSELL_OK) {
				break;
			}
			r          = &ans->recs[ans->n++];
			r->item    = v[i].item;
			r->score   = v[i].score;
			r->count   = v[i].count;
			r->ext     = v[i].ext;
			r->ext_len = v[i].ext_len;
		}
		i = j;
	}
	return err;
}

xsell_err
xs_model_fbt(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct walk      w = { 0 };
	struct xs_totals tot;
	uint32_t        *given, *excluded;
	size_t           n_excluded;
	xsell_err        err;

	memset(ans, 0, sizeof(*ans));
	given = xs_arena_calloc(arena, q->n_items + 1, sizeof(*given));
	excluded =
	    xs_arena_calloc(arena, q->filter.n_exclude + 1, sizeof(*excluded));
	if (given == NULL || excluded == NULL) {
		return XSELL_ENOMEM;
	}
	err = resolve_given(st, txn, q, arena, given, &w.n_given, ans);
	if (err == XSELL_OK) {
		err = resolve_excluded(
		    st, txn, &q->filter, excluded, &n_excluded);
	}
	if (err == XSELL_OK) {
		err = xs_store_totals_get(st, txn, &tot);
	}
	if (err != XSELL_OK) {
		return err;
	}
	w.given       = given;
	w.scorer      = q->scorer;
	w.min_support = q->min_support ? q->min_support : set->min_support;
	w.n_total     = (double) tot.baskets;
	xs_counts_reader_init(&w.counts, st, txn);
	for (size_t g = 0; g < w.n_given && err == XSELL_OK; g++) {
		w.n_a =
		    xs_counts_reader_get(&w.counts, given[g], XS_C_BASKETS);
		err = xs_store_pairs_each(
		    st, txn, XS_REL_BASKET, given[g], walk_neighbour, &w);
	}
	if (err == XSELL_OK) {
		size_t n = w.n_given > 1 ? merge_candidates(w.v, w.n) : w.n;

		if (n != 0) {
			qsort(w.v, n, sizeof(*w.v), cmp_cand_score);
		}
		err = select_top(
		    st, txn, q, excluded, n_excluded, w.v, n, arena, ans);
	}
	free(w.v);
	return err;
}
