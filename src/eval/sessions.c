/* SPDX-License-Identifier: MIT */
/* Session protocols: test views -> queries. A test user's views in the
 * test period are one session (DIGINETICA's users are sessions; with
 * real users and a time split, their browsing after the cut). Two
 * answers read them:
 *
 * - similar_views asks what a product page's "similar items" would be
 *   asked: with the items viewed so far, is the next one returned? The
 *   latest viewed item is hidden (a session has an order in time, unlike
 *   a basket, so no seeded choice is needed), or with --ask one the
 *   first viewed item is asked and every other one is relevant;
 * - viewed_bought asks with what the user viewed before a test order,
 *   and the order's items are relevant, except those viewed (the answer
 *   leaves the asked items out, so they could never count).
 *
 * Items are "known" when training counted them at all (to_store set):
 * similar over every relation can answer for an item only bought, and
 * viewed_bought for one only viewed. */
#include "eval/eval_impl.h"

#include <stdlib.h>
#include <string.h>

/* One test view: its user, time and position (ties in time keep the
 * export's order). */
struct view_ref {
	uint32_t user, item, idx;
	int64_t  ts;
};

static int
cmp_view_ref(const void *x, const void *y)
{
	const struct view_ref *p = x, *q = y;

	if (p->user != q->user) {
		return p->user < q->user ? -1 : 1;
	}
	if (p->ts != q->ts) {
		return p->ts < q->ts ? -1 : 1;
	}
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* The test views sorted by user, then time. */
struct views {
	struct view_ref *v;
	size_t           n;
	uint32_t        *stamp; /* per eval item: distinct-item marks */
	uint32_t         cur;
	uint32_t        *known, *unknown; /* one session's distinct items */
	uint32_t         n_known, n_unknown;
};

static void
views_fini(struct views *w)
{
	free(w->v);
	free(w->stamp);
	free(w->known);
	free(w->unknown);
}

static xsell_err
views_build(struct xs_eval_ctx *c, struct views *w)
{
	size_t n_ev = xs_eval_data_n_events(c->d);

	memset(w, 0, sizeof(*w));
	w->v = calloc(n_ev + 1, sizeof(*w->v));
	w->stamp =
	    calloc((size_t) xs_eval_data_n_items(c->d) + 1, sizeof(*w->stamp));
	w->known   = calloc(n_ev + 1, sizeof(*w->known));
	w->unknown = calloc(n_ev + 1, sizeof(*w->unknown));
	if (w->v == NULL || w->stamp == NULL || w->known == NULL ||
	    w->unknown == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < n_ev; i++) {
		const struct xs_eval_event *e = xs_eval_data_event(c->d, i);

		if (c->ev_is_test[i] && e->type == XS_EV_VIEW) {
			w->v[w->n++] = (struct view_ref) { e->user, e->item,
				(uint32_t) i, e->ts };
		}
	}
	qsort(w->v, w->n, sizeof(*w->v), cmp_view_ref);
	return XSELL_OK;
}

/* The end of the run of views of v[i].user. */
static size_t
user_run_end(const struct views *w, size_t i)
{
	size_t j = i + 1;

	while (j < w->n && w->v[j].user == w->v[i].user) {
		j++;
	}
	return j;
}

/* Distinct items of views v[i0..i1) into w->known / w->unknown: most
 * recent first ('latest'), or first viewed first. */
static void
distinct_items(
    struct xs_eval_ctx *c, struct views *w, size_t i0, size_t i1, bool latest)
{
	w->n_known = w->n_unknown = 0;
	w->cur++;
	for (size_t k = 0; k < i1 - i0; k++) {
		uint32_t it = w->v[latest ? i1 - 1 - k : i0 + k].item;

		if (w->stamp[it] == w->cur) {
			continue;
		}
		w->stamp[it] = w->cur;
		if (c->to_store[it] != 0) {
			w->known[w->n_known++] = it;
		} else {
			w->unknown[w->n_unknown++] = it;
		}
	}
}

/* Append a query with 'order' and 'key': given[0..n_given) (at most
 * XSELL_QUERY_ITEMS_MAX taken), relevant rel[0..n_rel) then
 * extra[0..n_extra). */
static xsell_err
add_query(struct xs_eval_qset *qs, uint32_t order, uint64_t key,
    const uint32_t *given, uint32_t n_given, const uint32_t *rel,
    uint32_t n_rel, const uint32_t *extra, uint32_t n_extra)
{
	struct xs_eval_query *q;
	xsell_err             err;

	if (n_given > XSELL_QUERY_ITEMS_MAX) {
		n_given = XSELL_QUERY_ITEMS_MAX;
	}
	err = xs_eval_qset_reserve(qs, (uint64_t) n_given + n_rel + n_extra);
	if (err != XSELL_OK) {
		return err;
	}
	q = &qs->v[qs->n++];
	memset(q, 0, sizeof(*q));
	q->order     = order;
	q->key       = key;
	q->given_off = qs->n_ids;
	q->n_given   = n_given;
	memcpy(qs->ids + qs->n_ids, given, n_given * sizeof(*given));
	qs->n_ids += n_given;
	q->rel_off = qs->n_ids;
	memcpy(qs->ids + qs->n_ids, rel, n_rel * sizeof(*rel));
	qs->n_ids += n_rel;
	if (n_extra > 0) { /* extra may be NULL then */
		memcpy(qs->ids + qs->n_ids, extra, n_extra * sizeof(*extra));
		qs->n_ids += n_extra;
	}
	q->n_rel  = n_rel + n_extra;
	q->hidden = qs->ids[q->rel_off];
	return XSELL_OK;
}

/* One session v[i0..i1) of similar_views. */
static xsell_err
session_query(struct xs_eval_ctx *c, struct views *w, size_t i0, size_t i1,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	/* The query's number (random baseline): its first view's
	 * position in the export; its key (--max-queries): its user. */
	uint32_t order = w->v[i0].idx;
	uint64_t key =
	    xs_eval_query_key(xs_eval_data_user_name(c->d, w->v[i0].user));

	distinct_items(c, w, i0, i1, !c->o->ask_one);
	ar->test_orders++;
	for (size_t k = i0; k < i1; k++) {
		ar->unknown_items += c->to_store[w->v[k].item] == 0;
	}
	if (w->n_known == 0) {
		ar->cold_orders++;
		return XSELL_OK;
	}
	if (w->n_known < 2) {
		ar->short_orders++;
		return XSELL_OK;
	}
	ar->eligible++;
	if (c->o->ask_one) {
		/* Product page: the first viewed item; the rest relevant. */
		return add_query(qs, order, key, w->known, 1, w->known + 1,
		    w->n_known - 1, w->unknown, w->n_unknown);
	}
	/* Cart of views: hide the latest, ask with the earlier ones. */
	return add_query(qs, order, key, w->known + 1, w->n_known - 1,
	    w->known, 1, NULL, 0);
}

xsell_err
xs_eval_protocol_similar_views(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	struct views w;
	xsell_err    err = views_build(c, &w);

	(void) is_test;
	ar->per_session = true;
	for (size_t i = 0; i < w.n && err == XSELL_OK;) {
		size_t j = user_run_end(&w, i);

		err = session_query(c, &w, i, j, qs, ar);
		i   = j;
	}
	views_fini(&w);
	return err;
}

/* ==== viewed_bought ==== */

/* The first test view of 'user' in w->v, or w->n: binary search. */
static size_t
first_view_of(const struct views *w, uint32_t user)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->v[mid].user < user) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/* Order 'oi': its items not among the given (known viewed) ones, known
 * items first, into rel[]; *n_knownp of them known. */
static uint32_t
order_relevant(struct xs_eval_ctx *c, const struct views *w, uint32_t oi,
    uint32_t *rel, uint32_t *n_knownp)
{
	const struct xs_eval_order *o     = xs_eval_data_order(c->d, oi);
	const uint32_t             *items = xs_eval_data_order_items(c->d, o);
	uint32_t                    n     = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < o->n_items; i++) {
			uint32_t it    = items[i];
			bool     known = c->to_store[it] != 0;

			/* Stamped: viewed (known) before the order. */
			if (known == (pass == 0) &&
			    !(known && w->stamp[it] == w->cur)) {
				rel[n++] = it;
			}
		}
		if (pass == 0) {
			*n_knownp = n;
		}
	}
	return n;
}

/* One test order of viewed_bought. 'rel' has room for its items. */
static xsell_err
bought_query(struct xs_eval_ctx *c, struct views *w, uint32_t oi,
    uint32_t *rel, struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	const struct xs_eval_order *o = xs_eval_data_order(c->d, oi);
	const uint32_t             *items;
	size_t                      i0, i1;
	uint32_t                    n_rel, n_known_rel = 0;

	ar->test_orders++;
	items = xs_eval_data_order_items(c->d, o);
	for (uint32_t i = 0; i < o->n_items; i++) {
		ar->unknown_items += c->to_store[items[i]] == 0;
	}
	i0 = o->user != 0 ? first_view_of(w, o->user) : w->n;
	i1 = i0;
	while (i1 < w->n && w->v[i1].user == o->user && w->v[i1].ts <= o->ts) {
		i1++;
	}
	if (i1 == i0) {
		ar->no_views++;
		return XSELL_OK;
	}
	distinct_items(c, w, i0, i1, true);
	n_rel = order_relevant(c, w, oi, rel, &n_known_rel);
	if (w->n_known == 0 || (n_rel > 0 && n_known_rel == 0)) {
		ar->cold_orders++;
		return XSELL_OK;
	}
	if (n_rel == 0) {
		ar->ineligible++;
		return XSELL_OK;
	}
	ar->eligible++;
	return add_query(qs, oi,
	    xs_eval_query_key(xs_eval_data_order_ext(c->d, o)), w->known,
	    w->n_known, rel, n_rel, NULL, 0);
}

xsell_err
xs_eval_protocol_viewed_bought(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	struct views w;
	uint32_t     max_items = 0, *rel = NULL;
	xsell_err    err = views_build(c, &w);

	ar->per_session = true;
	for (size_t i = 0; i < xs_eval_data_n_orders(c->d); i++) {
		uint32_t n = xs_eval_data_order(c->d, i)->n_items;

		max_items = n > max_items ? n : max_items;
	}
	if (err == XSELL_OK) {
		rel = calloc((size_t) max_items + 1, sizeof(*rel));
		err = rel == NULL ? XSELL_ENOMEM : XSELL_OK;
	}
	for (size_t i = 0; i < xs_eval_data_n_orders(c->d) && err == XSELL_OK;
	     i++) {
		if (is_test[i]) {
			err = bought_query(c, &w, (uint32_t) i, rel, qs, ar);
		}
	}
	free(rel);
	views_fini(&w);
	return err;
}
