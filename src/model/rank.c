/* SPDX-License-Identifier: MIT */
/* Ranking shared by the list answers: resolving the given and excluded
 * ids, the best-first order with ties by external id, and the filter,
 * applied only to the items that are about to be returned. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

int
xs_u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;

	return a < b ? -1 : a > b;
}

bool
xs_u32_contains(const uint32_t *v, size_t n, uint32_t x)
{
	return n != 0 && bsearch(&x, v, n, sizeof(*v), xs_u32_cmp) != NULL;
}

int
xs_cand_cmp_score(const void *x, const void *y)
{
	const struct xs_cand *p = x, *q = y;

	if (p->score != q->score) {
		return p->score > q->score ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

static int
cand_cmp_ext(const void *x, const void *y)
{
	const struct xs_cand *p = x, *q = y;
	size_t n = p->ext_len < q->ext_len ? p->ext_len : q->ext_len;
	int    c = memcmp(p->ext, q->ext, n);

	if (c != 0) {
		return c;
	}
	return p->ext_len < q->ext_len ? -1 : p->ext_len > q->ext_len;
}

/* Resolve the given ids; unknown ones are listed, known ones sorted. */
xsell_err
xs_rank_resolve_given(xs_store *st, MDB_txn *txn, const struct xs_query *q,
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
		qsort(given, n, sizeof(*given), xs_u32_cmp);
	}
	/* The given items are a set: a cart listing A twice asks once. */
	{
		size_t u = 0;

		for (size_t i = 0; i < n; i++) {
			if (u == 0 || given[u - 1] != given[i]) {
				given[u++] = given[i];
			}
		}
		n = u;
	}
	*n_givenp = n;
	return XSELL_OK;
}

xsell_err
xs_rank_resolve_excluded(xs_store *st, MDB_txn *txn, const struct xs_filter *f,
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
		qsort(out, n, sizeof(*out), xs_u32_cmp);
	}
	*np = n;
	return XSELL_OK;
}

xsell_err
xs_rank_resolve(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct xs_arena *arena, struct xs_rank_ids *ids, struct xs_answer *ans)
{
	xsell_err err;

	memset(ans, 0, sizeof(*ans));
	memset(ids, 0, sizeof(*ids));
	ids->given = xs_arena_calloc(arena, q->n_items + 1, sizeof(uint32_t));
	ids->excluded =
	    xs_arena_calloc(arena, q->filter.n_exclude + 1, sizeof(uint32_t));
	if (ids->given == NULL || ids->excluded == NULL) {
		return XSELL_ENOMEM;
	}
	err = xs_rank_resolve_given(
	    st, txn, q, arena, ids->given, &ids->n_given, ans);
	if (err != XSELL_OK) {
		return err;
	}
	return xs_rank_resolve_excluded(
	    st, txn, &q->filter, ids->excluded, &ids->n_excluded);
}

static xsell_err
load_ext(xs_store *st, MDB_txn *txn, struct xs_cand *c)
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
    const uint32_t *excluded, size_t n_excluded, const struct xs_cand *c,
    bool *passp)
{
	struct xs_item_meta m;
	xsell_err           err;

	*passp = false;
	if (xs_u32_contains(excluded, n_excluded, c->item)) {
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
xsell_err
xs_rank_select(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct xs_cand *v, size_t n,
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
			qsort(v + i, j - i, sizeof(*v), cand_cmp_ext);
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
			r->via     = v[i].via;
			r->why     = v[i].why;
			if (v[i].via != 0) {
				err = xs_store_ext_get(st, txn, XS_DICT_ITEM,
				    v[i].via, &r->via_ext, &r->via_len);
			}
		}
		i = j;
	}
	return err;
}
