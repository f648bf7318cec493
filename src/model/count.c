/* SPDX-License-Identifier: MIT */
/* Events -> counts. Every write of the model goes through here, in event
 * order, so the store is a pure function of the ordered event stream:
 * dense ids are handed out in order of first appearance, and which items
 * of a huge order are paired depends only on the order's and items' ids. */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One distinct item of an order being counted. */
struct basket_item {
	uint32_t id;
	uint64_t rank; /* hash(order id, item id): the sampling order */
};

static int
cmp_basket_rank(const void *x, const void *y)
{
	const struct basket_item *p = x, *q = y;

	if (p->rank != q->rank) {
		return p->rank < q->rank ? -1 : 1;
	}
	return p->id < q->id ? -1 : p->id > q->id;
}

static int
cmp_basket_id(const void *x, const void *y)
{
	const struct basket_item *p = x, *q = y;

	return p->id < q->id ? -1 : p->id > q->id;
}

/* Resolve the order's lines to distinct dense ids, leaving out returns
 * (qty <= 0). Returns the count in *np; 'items' has room for n_lines. */
static xsell_err
basket_resolve(xs_store *st, MDB_txn *txn, const struct xs_event *ev,
    struct basket_item *items, size_t *np)
{
	uint64_t seed = xs_hash64(ev->order.p, ev->order.len, 0);
	size_t   n    = 0;

	for (uint32_t i = 0; i < ev->n_lines; i++) {
		const struct xs_order_line *ln = &ev->lines[i];
		xsell_err                   err;

		if (!(ln->qty > 0)) {
			continue;
		}
		err = xs_store_id_put(st, txn, XS_DICT_ITEM, ln->item.p,
		    ln->item.len, &items[n].id, NULL);
		if (err != XSELL_OK) {
			return err;
		}
		items[n].rank = xs_hash64(ln->item.p, ln->item.len, seed);
		n++;
	}
	/* Distinct ids: the same item on two lines is one basket item. */
	qsort(items, n, sizeof(*items), cmp_basket_id);
	{
		size_t u = 0;

		for (size_t i = 0; i < n; i++) {
			if (u == 0 || items[u - 1].id != items[i].id) {
				items[u++] = items[i];
			}
		}
		n = u;
	}
	*np = n;
	return XSELL_OK;
}

/* Keep at most 'max' items of a huge order: those with the smallest
 * rank, a deterministic pseudo-random sample (Mahout downsamples heavy
 * users the same way), so one order costs at most max^2 pair updates. */
static size_t
basket_sample(struct basket_item *items, size_t n, size_t max)
{
	if (n <= max) {
		return n;
	}
	qsort(items, n, sizeof(*items), cmp_basket_rank);
	qsort(items, max, sizeof(*items), cmp_basket_id);
	return max;
}

static xsell_err
history_add(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, int64_t ts, uint32_t item, enum xs_event_type type,
    uint8_t value)
{
	struct xs_hist_rec rec = { 0 };

	rec.ts    = ts;
	rec.item  = item;
	rec.type  = (uint8_t) type;
	rec.value = value;
	return xs_store_history_add(st, txn, user, &rec, set->history_max);
}

static xsell_err
apply_order(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *ev,
    struct xs_totals *tot, bool *dupp)
{
	struct xs_order_rec rec = { 0 };
	struct basket_item *items;
	uint32_t           *ids = NULL;
	size_t              n, kept;
	bool                exists;
	xsell_err           err;

	err = xs_store_order_exists(
	    st, txn, ev->order.p, ev->order.len, &exists);
	if (err != XSELL_OK || exists) {
		*dupp = exists;
		return err;
	}
	*dupp = false;
	if (ev->user.len != 0) {
		err = xs_store_id_put(st, txn, XS_DICT_USER, ev->user.p,
		    ev->user.len, &rec.user, NULL);
		if (err != XSELL_OK) {
			return err;
		}
	}
	items = malloc((ev->n_lines + 1) * sizeof(*items));
	ids   = malloc((ev->n_lines + 1) * sizeof(*ids));
	if (items == NULL || ids == NULL) {
		err = XSELL_ENOMEM;
		goto done;
	}
	err = basket_resolve(st, txn, ev, items, &n);
	if (err != XSELL_OK) {
		goto done;
	}
	/* Everything the user bought counts for "bought" and buyers; only
	 * the sample counts for baskets and pairs, so that every pair's
	 * 2x2 table stays consistent (N_ab <= N_a). */
	for (size_t i = 0; i < n && rec.user != 0 && err == XSELL_OK; i++) {
		bool added;

		err = xs_store_bought_add(
		    st, txn, rec.user, items[i].id, &added);
		if (err == XSELL_OK && added) {
			err =
			    xs_acc_item_add(acc, items[i].id, XS_C_BUYERS, 1);
		}
		if (err == XSELL_OK) {
			err = history_add(st, txn, set, rec.user, ev->ts,
			    items[i].id, XS_EV_ORDER, 0);
		}
	}
	kept = basket_sample(items, n, set->max_basket_items);
	for (size_t i = 0; i < kept && err == XSELL_OK; i++) {
		ids[i] = items[i].id;
		err    = xs_acc_item_add(acc, items[i].id, XS_C_BASKETS, 1);
		for (size_t j = i + 1; j < kept && err == XSELL_OK; j++) {
			err = xs_acc_pair_add(
			    acc, XS_REL_BASKET, items[i].id, items[j].id, 1);
			if (err == XSELL_OK) {
				err = xs_acc_pair_add(acc, XS_REL_BASKET,
				    items[j].id, items[i].id, 1);
			}
		}
	}
	if (err != XSELL_OK) {
		goto done;
	}
	rec.n_items = (uint32_t) kept;
	rec.ts      = ev->ts;
	err =
	    xs_store_order_put(st, txn, ev->order.p, ev->order.len, &rec, ids);
	if (err == XSELL_OK) {
		tot->orders++;
		tot->baskets += kept != 0;
	}
done:
	free(items);
	free(ids);
	return err;
}

/* view, cart_add, cart_remove, rating: one item, one user. */
static xsell_err
apply_item_event(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *ev,
    struct xs_totals *tot)
{
	uint32_t  user, item;
	xsell_err err;

	err = xs_store_id_put(
	    st, txn, XS_DICT_USER, ev->user.p, ev->user.len, &user, NULL);
	if (err == XSELL_OK) {
		err = xs_store_id_put(st, txn, XS_DICT_ITEM, ev->item.p,
		    ev->item.len, &item, NULL);
	}
	if (err != XSELL_OK) {
		return err;
	}
	switch (ev->type) {
	case XS_EV_VIEW:
		tot->views++;
		err = xs_acc_item_add(acc, item, XS_C_VIEWS, 1);
		break;
	case XS_EV_CART_ADD:
		tot->carts++;
		err = xs_acc_item_add(acc, item, XS_C_CARTS, 1);
		break;
	case XS_EV_RATING:
		tot->ratings++;
		break;
	default:
		break;
	}
	if (err != XSELL_OK) {
		return err;
	}
	return history_add(st, txn, set, user, ev->ts, item, ev->type,
	    ev->type == XS_EV_RATING ? ev->rating : 0);
}

xsell_err
xs_model_apply(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *evs, size_t n,
    struct xs_apply_result *res)
{
	struct xs_totals tot;
	xsell_err        err;

	res->applied    = 0;
	res->duplicates = 0;
	err             = xs_store_totals_get(st, txn, &tot);
	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		bool dup = false;

		if (evs[i].type == XS_EV_ORDER) {
			err = apply_order(
			    st, txn, acc, set, &evs[i], &tot, &dup);
		} else {
			err =
			    apply_item_event(st, txn, acc, set, &evs[i], &tot);
		}
		if (err != XSELL_OK) {
			break;
		}
		if (dup) {
			res->duplicates++;
		} else {
			res->applied++;
			tot.events++;
		}
	}
	if (err == XSELL_OK) {
		err = xs_store_totals_put(st, txn, &tot);
	}
	return err;
}

xsell_err
xs_model_apply_batch(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_span *batch,
    const struct xs_event *evs, size_t n, struct xs_apply_result *res)
{
	bool      seen = false;
	xsell_err err;

	if (batch != NULL && batch->len != 0) {
		err =
		    xs_store_batch_seen(st, txn, batch->p, batch->len, &seen);
		if (err != XSELL_OK) {
			return err;
		}
		if (seen) {
			res->applied    = 0;
			res->duplicates = (uint32_t) n;
			return XSELL_OK;
		}
	}
	err = xs_model_apply(st, txn, acc, set, evs, n, res);
	if (err == XSELL_OK && batch != NULL && batch->len != 0) {
		err = xs_store_batch_put(st, txn, batch->p, batch->len);
	}
	return err;
}
