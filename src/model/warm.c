/* SPDX-License-Identifier: MIT */
/* Warming: the answers of the most ordered items, made once before a
 * server takes requests.
 *
 * What fbt derives from one item (its best pairs; for a cart, its whole
 * pair list scored and packed: cart_lists.c) is kept in the store's item
 * memos, and a process that has just opened the store has none. The
 * first answers for a popular item then pay for its whole pair list:
 * at 50M order lines, lists of up to 50,000 pairs read from pages not
 * yet mapped, 10-30 times a warm answer (bench/RESULTS.md, "What a
 * cart's p99 at 50M is made of"). Asking the answers of the items most
 * carts hold before serving moves that cost to the start. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

struct warm_item {
	uint32_t item, baskets;
};

/* Fewer baskets first, then the higher number: the root of the min-heap
 * is the item to drop first. */
static bool
warm_before(const struct warm_item *x, const struct warm_item *y)
{
	if (x->baskets != y->baskets) {
		return x->baskets < y->baskets;
	}
	return x->item > y->item;
}

static void
warm_sift_down(struct warm_item *h, size_t n, size_t i)
{
	for (;;) {
		size_t           l = 2 * i + 1, r = l + 1, m = i;
		struct warm_item t;

		if (l < n && warm_before(&h[l], &h[m])) {
			m = l;
		}
		if (r < n && warm_before(&h[r], &h[m])) {
			m = r;
		}
		if (m == i) {
			return;
		}
		t    = h[i];
		h[i] = h[m];
		h[m] = t;
		i    = m;
	}
}

static int
cmp_most_baskets(const void *x, const void *y)
{
	const struct warm_item *p = x, *q = y;

	if (p->baskets != q->baskets) {
		return p->baskets > q->baskets ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

/* The (at most) n items in most baskets, most first, ties by number;
 * items in none are left out. *np says how many. */
static xsell_err
warm_items_top(xs_store *st, MDB_txn *txn, uint32_t n, struct warm_item **outp,
    size_t *np)
{
	struct xs_counts_reader cr;
	struct warm_item       *h;
	uint32_t                max_id;
	size_t                  have = 0;
	xsell_err err = xs_store_dict_size(st, txn, XS_DICT_ITEM, &max_id);

	*outp = NULL;
	*np   = 0;
	if (err != XSELL_OK || n == 0 || max_id == 0) {
		return err;
	}
	if (n > max_id) {
		n = max_id;
	}
	h = malloc((size_t) n * sizeof(*h));
	if (h == NULL) {
		return XSELL_ENOMEM;
	}
	xs_counts_reader_init(&cr, st, txn);
	for (uint32_t item = 1; item <= max_id; item++) {
		struct warm_item w = { item,
			xs_counts_reader_get(&cr, item, XS_C_BASKETS) };

		if (w.baskets == 0) {
			continue;
		}
		if (have < n) {
			h[have++] = w;
			if (have == n) {
				for (size_t i = n / 2; i-- > 0;) {
					warm_sift_down(h, n, i);
				}
			}
		} else if (warm_before(&h[0], &w)) {
			h[0] = w;
			warm_sift_down(h, n, 0);
		}
	}
	xs_counts_reader_fini(&cr);
	qsort(h, have, sizeof(*h), cmp_most_baskets);
	*outp = h;
	*np   = have;
	return XSELL_OK;
}

/* fbt of 'items' as a request with the defaults asks it. */
static xsell_err
warm_fbt(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_span *items, uint32_t n, struct xs_arena *arena)
{
	struct xs_query  q = { 0 };
	struct xs_answer ans;
	xsell_err        err;

	q.items           = items;
	q.n_items         = n;
	q.k               = 10;
	q.scorer          = set->fbt_scorer;
	q.filter.in_stock = true;
	err               = xs_model_fbt(st, txn, set, &q, arena, &ans);
	xs_arena_reset(arena);
	return err;
}

/* The external id of item 'id' as a span (borrowed from txn). */
static xsell_err
warm_span(xs_store *st, MDB_txn *txn, uint32_t id, struct xs_span *out)
{
	const char *ext;
	size_t      len;
	xsell_err   err =
	    xs_store_ext_get(st, txn, XS_DICT_ITEM, id, &ext, &len);

	if (err == XSELL_OK) {
		out->p   = ext;
		out->len = (uint32_t) len;
	}
	return err;
}

xsell_err
xs_model_warm(
    xs_store *st, const struct xs_settings *set, uint32_t n, uint32_t *warmedp)
{
	struct warm_item *top;
	struct xs_arena   arena;
	MDB_txn          *txn;
	size_t            have, i;
	xsell_err         err = xs_txn_read(st, &txn);

	*warmedp = 0;
	if (err != XSELL_OK) {
		return err;
	}
	err = warm_items_top(st, txn, n, &top, &have);
	xs_arena_init(&arena, XS_REQUEST_ARENA_MAX);
	/* Each item alone (fbt of a product page), then two at a time (a
	 * cart of both: each one's cart list). */
	for (i = 0; i < have && err == XSELL_OK; i += 2) {
		struct xs_span pair[2];
		uint32_t       m = i + 1 < have ? 2 : 1;

		for (uint32_t j = 0; j < m && err == XSELL_OK; j++) {
			err = warm_span(st, txn, top[i + j].item, &pair[j]);
		}
		for (uint32_t j = 0; j < m && err == XSELL_OK; j++) {
			err = warm_fbt(st, txn, set, &pair[j], 1, &arena);
		}
		if (err == XSELL_OK && m == 2) {
			err = warm_fbt(st, txn, set, pair, 2, &arena);
		}
		if (err == XSELL_OK) {
			*warmedp += m;
		}
	}
	xs_arena_fini(&arena);
	free(top);
	xs_txn_abort(txn);
	return err;
}
