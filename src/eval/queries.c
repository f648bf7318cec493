/* SPDX-License-Identifier: MIT */
/* Protocols: test orders -> queries. Each eligible test basket gives one
 * query: one known item is hidden, the other known items are asked
 * (at most XSELL_QUERY_ITEMS_MAX of them, as the wire allows), and the
 * relevant set is the hidden item plus the basket's items that training
 * never saw (no recommender can return those, so they lower recall).
 *
 * With --ask one (a product page), the first known item in hiding order
 * is asked alone and every other item of the basket is relevant.
 *
 * Which item is hidden is decided by a hash of (seed, order id, item
 * id), the export's own ids, not by position: exports often list a
 * basket in a meaningful order (scanned, or sorted by code), and hiding
 * the last line would measure that order; the evaluator's numbers
 * (first appearance) and the orders' positions would make the choice
 * depend on the order of the lines too. */
#include "eval/eval_impl.h"

#include <stdlib.h>
#include <string.h>

void
xs_eval_qset_fini(struct xs_eval_qset *qs)
{
	free(qs->v);
	free(qs->ids);
	memset(qs, 0, sizeof(*qs));
}

xsell_err
xs_eval_qset_reserve(struct xs_eval_qset *qs, uint64_t more_ids)
{
	if (qs->n == qs->cap) {
		size_t                cap = qs->cap ? qs->cap * 2 : 1024;
		struct xs_eval_query *v   = realloc(qs->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		qs->v   = v;
		qs->cap = cap;
	}
	if (qs->n_ids + more_ids > qs->cap_ids) {
		uint64_t  cap = qs->cap_ids ? qs->cap_ids * 2 : 16384;
		uint32_t *ids;

		while (cap < qs->n_ids + more_ids) {
			cap *= 2;
		}
		ids = realloc(qs->ids, cap * sizeof(*ids));
		if (ids == NULL) {
			return XSELL_ENOMEM;
		}
		qs->ids     = ids;
		qs->cap_ids = cap;
	}
	return XSELL_OK;
}

/* A basket's items split by whether training knew them; 'known' sorted
 * by the hiding order of this basket. */
struct basket {
	uint32_t *known, *unknown;
	uint64_t *keys;
	uint32_t  n_known, n_unknown;
	uint64_t  key; /* xs_eval_query_key of its order id */
};

uint64_t
xs_eval_query_key(struct xs_span id)
{
	return xs_hash64(id.p, id.len, 0);
}

/* Where 'item' comes in the hiding order of the basket whose order id
 * hashes to 'order_key'. */
static uint64_t
hide_key(const struct xs_eval_ctx *c, uint64_t order_key, uint32_t item)
{
	struct xs_span ext = xs_eval_data_item_ext(c->d, item);

	return xs_hash64(ext.p, ext.len, c->o->seed ^ order_key);
}

static void
sort_by_key(struct basket *b)
{
	/* Insertion sort: baskets are small, and the few large ones are
	 * a few hundred items. */
	for (uint32_t i = 1; i < b->n_known; i++) {
		uint64_t k  = b->keys[i];
		uint32_t it = b->known[i];
		uint32_t j  = i;

		while (j > 0 && b->keys[j - 1] > k) {
			b->keys[j]  = b->keys[j - 1];
			b->known[j] = b->known[j - 1];
			j--;
		}
		b->keys[j]  = k;
		b->known[j] = it;
	}
}

static void
basket_fill(struct xs_eval_ctx *c, uint32_t oi, struct basket *b)
{
	const struct xs_eval_order *o     = xs_eval_data_order(c->d, oi);
	const uint32_t             *items = xs_eval_data_order_items(c->d, o);

	b->key     = xs_eval_query_key(xs_eval_data_order_ext(c->d, o));
	b->n_known = b->n_unknown = 0;
	for (uint32_t i = 0; i < o->n_items; i++) {
		if (c->pop[items[i]] > 0) {
			b->keys[b->n_known]    = hide_key(c, b->key, items[i]);
			b->known[b->n_known++] = items[i];
		} else {
			b->unknown[b->n_unknown++] = items[i];
		}
	}
	sort_by_key(b);
}

/* Append the query that hides known[h]: the given items are the others
 * in hiding order, at most XSELL_QUERY_ITEMS_MAX. */
static xsell_err
add_query(
    struct xs_eval_qset *qs, uint32_t oi, const struct basket *b, uint32_t h)
{
	struct xs_eval_query *q;
	xsell_err             err;

	err =
	    xs_eval_qset_reserve(qs, (uint64_t) b->n_known + b->n_unknown + 1);
	if (err != XSELL_OK) {
		return err;
	}
	q            = &qs->v[qs->n++];
	q->order     = oi;
	q->key       = b->key;
	q->hidden    = b->known[h];
	q->given_off = qs->n_ids;
	q->n_given   = 0;
	for (uint32_t i = 0;
	     i < b->n_known && q->n_given < XSELL_QUERY_ITEMS_MAX; i++) {
		if (i != h) {
			qs->ids[qs->n_ids++] = b->known[i];
			q->n_given++;
		}
	}
	q->rel_off           = qs->n_ids;
	qs->ids[qs->n_ids++] = b->known[h];
	for (uint32_t i = 0; i < b->n_unknown; i++) {
		qs->ids[qs->n_ids++] = b->unknown[i];
	}
	q->n_rel = 1 + b->n_unknown;
	return XSELL_OK;
}

/* Product page: ask with known[g] alone. Relevant: the basket's other
 * known items (for complements only those never bought with known[g])
 * and its unknown items. *addedp false (nothing appended) when no known
 * item qualifies. */
static xsell_err
add_query_one(struct xs_eval_ctx *c, struct xs_eval_qset *qs, uint32_t oi,
    const struct basket *b, uint32_t g, bool second_level, bool *addedp)
{
	struct xs_eval_query *q;
	uint32_t              n_rel_known = 0;
	xsell_err             err;

	*addedp = false;
	err =
	    xs_eval_qset_reserve(qs, (uint64_t) b->n_known + b->n_unknown + 1);
	if (err != XSELL_OK) {
		return err;
	}
	q                    = &qs->v[qs->n];
	q->order             = oi;
	q->key               = b->key;
	q->given_off         = qs->n_ids;
	q->n_given           = 1;
	qs->ids[qs->n_ids++] = b->known[g];
	q->rel_off           = qs->n_ids;
	for (uint32_t j = 0; j < b->n_known; j++) {
		uint32_t count = 0;

		if (j == g) {
			continue;
		}
		if (second_level) {
			err = xs_store_pair_get(c->st, c->txn, XS_REL_BASKET,
			    c->to_store[b->known[g]], c->to_store[b->known[j]],
			    &count);
			if (err != XSELL_OK && err != XSELL_ENOENT) {
				return err;
			}
		}
		if (count == 0) {
			qs->ids[qs->n_ids++] = b->known[j];
			n_rel_known++;
		}
	}
	if (n_rel_known == 0) {
		qs->n_ids = q->given_off;
		return XSELL_OK;
	}
	q->hidden = qs->ids[q->rel_off];
	for (uint32_t i = 0; i < b->n_unknown; i++) {
		qs->ids[qs->n_ids++] = b->unknown[i];
	}
	q->n_rel = n_rel_known + b->n_unknown;
	qs->n++;
	*addedp = true;
	return XSELL_OK;
}

xsell_err
xs_eval_is_first_level(struct xs_eval_ctx *c, const uint32_t *given, size_t n,
    uint32_t b, bool *outp)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t  count = 0;
		xsell_err err   = xs_store_pair_get(
		      c->st, c->txn, XS_REL_BASKET, given[i], b, &count);

		if (err != XSELL_OK && err != XSELL_ENOENT) {
			return err;
		}
		if (count > 0) {
			*outp = true;
			return XSELL_OK;
		}
	}
	*outp = false;
	return XSELL_OK;
}

/* Complements: the first item in hiding order that no other given item
 * was ever bought with; UINT32_MAX if every one was. */
static xsell_err
second_level_hidden(struct xs_eval_ctx *c, const struct basket *b,
    uint32_t *store_ids, uint32_t *hp)
{
	*hp = UINT32_MAX;
	for (uint32_t h = 0; h < b->n_known; h++) {
		size_t    n = 0;
		bool      first;
		xsell_err err;

		for (uint32_t i = 0;
		     i < b->n_known && n < XSELL_QUERY_ITEMS_MAX; i++) {
			if (i != h) {
				store_ids[n++] = c->to_store[b->known[i]];
			}
		}
		err = xs_eval_is_first_level(
		    c, store_ids, n, c->to_store[b->known[h]], &first);
		if (err != XSELL_OK) {
			return err;
		}
		if (!first) {
			*hp = h;
			return XSELL_OK;
		}
	}
	return XSELL_OK;
}

static xsell_err
build(struct xs_eval_ctx *c, const uint8_t *is_test, bool second_level,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	struct basket b         = { 0 };
	uint32_t      max_items = 0, *store_ids;
	xsell_err     err       = XSELL_OK;

	for (size_t i = 0; i < xs_eval_data_n_orders(c->d); i++) {
		uint32_t n = xs_eval_data_order(c->d, i)->n_items;

		max_items = n > max_items ? n : max_items;
	}
	b.known   = calloc(max_items + 1, sizeof(*b.known));
	b.unknown = calloc(max_items + 1, sizeof(*b.unknown));
	b.keys    = calloc(max_items + 1, sizeof(*b.keys));
	store_ids = calloc(max_items + 1, sizeof(*store_ids));
	if (b.known == NULL || b.unknown == NULL || b.keys == NULL ||
	    store_ids == NULL) {
		err = XSELL_ENOMEM;
	}
	for (size_t i = 0; i < xs_eval_data_n_orders(c->d) && err == XSELL_OK;
	     i++) {
		uint32_t h = 0;

		if (!is_test[i]) {
			continue;
		}
		basket_fill(c, (uint32_t) i, &b);
		ar->test_orders++;
		ar->unknown_items += b.n_unknown;
		if (b.n_known == 0) {
			ar->cold_orders++;
			continue;
		}
		if (b.n_known < 2) {
			ar->short_orders++;
			continue;
		}
		if (c->o->ask_one) {
			bool added = false;

			for (uint32_t g = 0;
			     g < b.n_known && !added && err == XSELL_OK; g++) {
				err = add_query_one(c, qs, (uint32_t) i, &b, g,
				    second_level, &added);
			}
			if (err == XSELL_OK) {
				ar->eligible += added;
				ar->ineligible += !added;
			}
			continue;
		}
		if (second_level) {
			err = second_level_hidden(c, &b, store_ids, &h);
			if (err != XSELL_OK) {
				break;
			}
			if (h == UINT32_MAX) {
				ar->ineligible++;
				continue;
			}
		}
		ar->eligible++;
		err = add_query(qs, (uint32_t) i, &b, h);
	}
	free(b.known);
	free(b.unknown);
	free(b.keys);
	free(store_ids);
	return err;
}

xsell_err
xs_eval_protocol_fbt(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	return build(c, is_test, false, qs, ar);
}

xsell_err
xs_eval_protocol_complements(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	return build(c, is_test, true, qs, ar);
}

/* ==== Per test user: picks and buy_again ==== */

/* One line of a user's order: who, what, and on which side of the
 * split. Sorted by user then item, a user's whole record is one run. */
struct user_line {
	uint32_t user, item;
	uint8_t  test;
};

static int
cmp_user_line(const void *x, const void *y)
{
	const struct user_line *p = x, *q = y;

	if (p->user != q->user) {
		return p->user < q->user ? -1 : 1;
	}
	if (p->item != q->item) {
		return p->item < q->item ? -1 : 1;
	}
	return p->test < q->test ? -1 : p->test > q->test;
}

/* Per user: the first test order (UINT32_MAX: none) and whether any
 * training order is theirs. */
struct user_side {
	uint32_t first_test;
	int64_t  first_ts;
	bool     has_train;
};

struct user_walk {
	struct user_line *lines;
	size_t            n_lines;
	struct user_side *side; /* by user number (1-based) */
	uint32_t          n_users;
};

static xsell_err
user_walk_build(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct user_walk *w, struct xs_eval_answer_report *ar)
{
	size_t n_orders = xs_eval_data_n_orders(c->d), n_lines = 0;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < n_orders; i++) {
		const struct xs_eval_order *o = xs_eval_data_order(c->d, i);

		w->n_users = o->user > w->n_users ? o->user : w->n_users;
		n_lines += o->user != 0 ? o->n_items : 0;
	}
	w->lines = calloc(n_lines + 1, sizeof(*w->lines));
	w->side  = calloc((size_t) w->n_users + 1, sizeof(*w->side));
	if (w->lines == NULL || w->side == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t u = 0; u <= w->n_users; u++) {
		w->side[u].first_test = UINT32_MAX;
	}
	for (size_t i = 0; i < n_orders; i++) {
		const struct xs_eval_order *o = xs_eval_data_order(c->d, i);
		const uint32_t   *items = xs_eval_data_order_items(c->d, o);
		struct user_side *s     = &w->side[o->user];

		if (is_test[i]) {
			ar->test_orders++;
			ar->guest_orders += o->user == 0;
			for (uint32_t j = 0; j < o->n_items; j++) {
				ar->unknown_items += c->pop[items[j]] == 0;
			}
		}
		if (o->user == 0) {
			continue;
		}
		if (!is_test[i]) {
			s->has_train = true;
		} else if (s->first_test == UINT32_MAX ||
		    o->ts < s->first_ts) {
			s->first_test = (uint32_t) i;
			s->first_ts   = o->ts;
		}
		for (uint32_t j = 0; j < o->n_items; j++) {
			w->lines[w->n_lines++] = (struct user_line) { o->user,
				items[j], is_test[i] };
		}
	}
	qsort(w->lines, w->n_lines, sizeof(*w->lines), cmp_user_line);
	return XSELL_OK;
}

static void
user_walk_free(struct user_walk *w)
{
	free(w->lines);
	free(w->side);
}

/* The end of the run of lines of l[i].item in l[0..n). */
static size_t
item_run_end(const struct user_line *l, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && l[j].item == l[i].item) {
		j++;
	}
	return j;
}

/* Append the relevant items of lines l[0..n) that are (known) or are
 * not known in training: bought in the test period, and (rebuy) also in
 * training or (not rebuy) not in training. Lines of one item are
 * adjacent, training (test 0) first. */
static uint32_t
add_relevant(struct xs_eval_ctx *c, struct xs_eval_qset *qs,
    const struct user_line *l, size_t n, bool rebuy, bool known)
{
	uint32_t added = 0;

	for (size_t i = 0, j; i < n; i = j) {
		bool trained, tested;

		j       = item_run_end(l, n, i);
		trained = l[i].test == 0;
		tested  = l[j - 1].test != 0;
		if (tested && trained == rebuy &&
		    (c->pop[l[i].item] > 0) == known) {
			qs->ids[qs->n_ids++] = l[i].item;
			added++;
		}
	}
	return added;
}

/* Append one user's query from their lines l[0..n): given = known items
 * bought in training; relevant = add_relevant's, known ones first.
 * *kindp: 0 asked, 1 no relevant item, 2 every relevant item unknown in
 * training (then nothing is appended). */
static xsell_err
add_user_query(struct xs_eval_ctx *c, struct xs_eval_qset *qs,
    const struct user_line *l, size_t n, const struct user_side *s, bool rebuy,
    int *kindp)
{
	struct xs_eval_query *q;
	uint32_t              n_known_rel;
	xsell_err             err = xs_eval_qset_reserve(qs, 2 * n + 1);

	if (err != XSELL_OK) {
		return err;
	}
	q            = &qs->v[qs->n];
	q->order     = s->first_test;
	q->key       = xs_eval_query_key(xs_eval_data_user_ext(
	          c->d, xs_eval_data_order(c->d, s->first_test)));
	q->now       = c->o->split.kind == XS_SPLIT_TIME ? c->o->split.cut_ts
	                                                 : s->first_ts;
	q->given_off = qs->n_ids;
	q->n_given   = 0;
	for (size_t i = 0; i < n; i = item_run_end(l, n, i)) {
		if (l[i].test == 0 && c->pop[l[i].item] > 0) {
			qs->ids[qs->n_ids++] = l[i].item;
			q->n_given++;
		}
	}
	q->rel_off  = qs->n_ids;
	n_known_rel = add_relevant(c, qs, l, n, rebuy, true);
	q->n_rel    = n_known_rel + add_relevant(c, qs, l, n, rebuy, false);
	if (n_known_rel == 0) {
		*kindp    = q->n_rel == 0 ? 1 : 2;
		qs->n_ids = q->given_off;
		return XSELL_OK;
	}
	q->hidden = qs->ids[q->rel_off];
	qs->n++;
	*kindp = 0;
	return XSELL_OK;
}

static xsell_err
build_per_user(struct xs_eval_ctx *c, const uint8_t *is_test, bool rebuy,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	struct user_walk w;
	xsell_err        err = user_walk_build(c, is_test, &w, ar);

	ar->per_user = true;
	for (size_t i = 0; i < w.n_lines && err == XSELL_OK;) {
		const struct user_side *s    = &w.side[w.lines[i].user];
		size_t                  j    = i;
		int                     kind = 0;

		while (j < w.n_lines && w.lines[j].user == w.lines[i].user) {
			j++;
		}
		if (s->first_test == UINT32_MAX) {
			i = j; /* no test order: not a test user */
			continue;
		}
		ar->test_users++;
		if (!s->has_train) {
			ar->new_users++;
			i = j;
			continue;
		}
		err =
		    add_user_query(c, qs, w.lines + i, j - i, s, rebuy, &kind);
		ar->eligible += kind == 0;
		ar->ineligible += kind == 1;
		ar->cold_orders += kind == 2;
		i = j;
	}
	ar->short_orders = 0;
	user_walk_free(&w);
	return err;
}

xsell_err
xs_eval_protocol_picks(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	return build_per_user(c, is_test, false, qs, ar);
}

xsell_err
xs_eval_protocol_buy_again(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar)
{
	return build_per_user(c, is_test, true, qs, ar);
}
