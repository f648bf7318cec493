/* SPDX-License-Identifier: MIT */
/* "Frequently bought with": the basket neighbours of the given items,
 * scored and summed over them, best first with ties by external id.
 *
 * Cost: one walk of each given item's neighbour list (read a page at a
 * time), one counter-chunk lookup per 256 item numbers touched, a sort of
 * the candidates, and the metadata and external ids of the items that
 * are returned (or tied at the cut). Nothing scans the catalogue. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

struct walk {
	struct xs_cand         *v;
	size_t                  n, cap;
	const uint32_t         *given; /* sorted */
	size_t                  n_given;
	struct xs_counts_reader counts;
	enum xs_scorer          scorer;
	uint32_t                min_support;
	double                  n_a, n_total;
};

static xsell_err
walk_neighbour(void *ctx, uint32_t b, uint32_t count)
{
	struct walk         *w = ctx;
	struct xs_pair_stats ps;

	if (count < w->min_support ||
	    xs_u32_contains(w->given, w->n_given, b)) {
		return XSELL_OK;
	}
	if (w->n == w->cap) {
		size_t          cap = w->cap ? w->cap * 2 : 256;
		struct xs_cand *v   = realloc(w->v, cap * sizeof(*v));

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
	w->v[w->n].via   = 0;
	w->n++;
	return XSELL_OK;
}

static int
cmp_cand_item(const void *x, const void *y)
{
	const struct xs_cand *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

/* Several given items: one candidate per item, scores and counts summed. */
static size_t
merge_candidates(struct xs_cand *v, size_t n)
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

xsell_err
xs_model_fbt(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct walk        w = { 0 };
	struct xs_totals   tot;
	struct xs_rank_ids ids;
	xsell_err          err;

	err = xs_rank_resolve(st, txn, q, arena, &ids, ans);
	if (err == XSELL_OK) {
		err = xs_store_totals_get(st, txn, &tot);
	}
	if (err != XSELL_OK) {
		return err;
	}
	w.n_given     = ids.n_given;
	w.given       = ids.given;
	w.scorer      = q->scorer;
	w.min_support = q->min_support ? q->min_support : set->min_support;
	w.n_total     = (double) tot.baskets;
	xs_counts_reader_init(&w.counts, st, txn);
	for (size_t g = 0; g < w.n_given && err == XSELL_OK; g++) {
		w.n_a = xs_counts_reader_get(
		    &w.counts, ids.given[g], XS_C_BASKETS);
		err = xs_store_pairs_each(
		    st, txn, XS_REL_BASKET, ids.given[g], walk_neighbour, &w);
	}
	if (err == XSELL_OK) {
		size_t n = w.n_given > 1 ? merge_candidates(w.v, w.n) : w.n;

		if (n != 0) {
			qsort(w.v, n, sizeof(*w.v), xs_cand_cmp_score);
		}
		err = xs_rank_select(st, txn, q, ids.excluded, ids.n_excluded,
		    w.v, n, arena, ans);
	}
	free(w.v);
	return err;
}
