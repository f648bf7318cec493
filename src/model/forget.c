/* SPDX-License-Identifier: MIT */
/* Forgetting a user: every count their events added is taken out again,
 * from the ledger (ledger.c) and the stored orders, and everything kept
 * under them is deleted. Other users' counts never depended on this
 * user's events (each relation is counted from one user's own events), so
 * afterwards the counts are what they would be had the user's events
 * never arrived. Guest orders have no user and stay. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

static xsell_err
pairs_sub_both(
    xs_acc *acc, enum xs_rel rel, uint32_t a, const uint32_t *b, uint32_t n)
{
	xsell_err err = XSELL_OK;

	for (uint32_t i = 0; i < n && err == XSELL_OK; i++) {
		err = xs_acc_pair_add(acc, rel, a, b[i], -1);
		if (err == XSELL_OK) {
			err = xs_acc_pair_add(acc, rel, b[i], a, -1);
		}
	}
	return err;
}

/* Take out an order: its basket counts and pairs, its trend counts, its
 * rebuys and its view_buy pairs; delete its record. */
static xsell_err
forget_order(
    xs_store *st, MDB_txn *txn, xs_acc *acc, const struct xs_ledger_entry *e)
{
	struct xs_order_rec rec;
	const void         *stored;
	uint32_t           *items;
	xsell_err           err;

	err = xs_store_order_get(st, txn, e->ext.p, e->ext.len, &rec, &stored);
	if (err == XSELL_ENOENT) {
		return XSELL_ECORRUPT; /* the ledger names an order it lost */
	}
	if (err != XSELL_OK) {
		return err;
	}
	items = malloc((size_t) rec.n_items * sizeof(*items) + 1);
	if (items == NULL) {
		return XSELL_ENOMEM;
	}
	memcpy(items, stored, (size_t) rec.n_items * sizeof(*items));
	for (uint32_t i = 0; i < rec.n_items && err == XSELL_OK; i++) {
		err = xs_acc_item_add(acc, items[i], XS_C_BASKETS, -1);
		if (err == XSELL_OK) {
			err = xs_acc_pair_add(acc, XS_REL_TREND_BUY,
			    xs_day_of(rec.ts), items[i], -1);
		}
		if (err == XSELL_OK) {
			err = pairs_sub_both(acc, XS_REL_BASKET, items[i],
			    items + i + 1, rec.n_items - i - 1);
		}
	}
	free(items);
	for (uint32_t i = 0; i + 1 < e->n1 && err == XSELL_OK; i += 2) {
		err = xs_acc_item_add(acc, e->w1[i], XS_C_REBUYS, -1);
		if (err == XSELL_OK) {
			err = xs_acc_item_add(acc, e->w1[i], XS_C_REBUY_DAYS,
			    -(int32_t) e->w1[i + 1]);
		}
	}
	for (uint32_t i = 0; i < e->n2 && err == XSELL_OK; i++) {
		err = xs_acc_item_add(acc, e->w2[i], XS_C_VIEW_BUYS, -1);
		for (uint32_t j = 0; j < e->n3 && err == XSELL_OK; j++) {
			if (e->w3[j] != e->w2[i]) {
				err = xs_acc_pair_add(acc, XS_REL_VIEW_BUY,
				    e->w2[i], e->w3[j], -1);
			}
		}
	}
	if (err == XSELL_OK) {
		err = xs_store_order_del(st, txn, e->ext.p, e->ext.len);
	}
	return err;
}

struct forget_ctx {
	xs_store *st;
	MDB_txn  *txn;
	xs_acc   *acc;
	uint32_t *copy; /* aligned copy of the entry being undone */
	size_t    copy_cap;
};

static xsell_err
forget_entry(void *ctx, const void *rec, size_t len)
{
	struct forget_ctx     *f = ctx;
	struct xs_ledger_entry e;
	xsell_err              err;

	/* Copy out: the entry is borrowed from a page this txn may write. */
	if (len > f->copy_cap) {
		uint32_t *p = realloc(f->copy, len);

		if (p == NULL) {
			return XSELL_ENOMEM;
		}
		f->copy     = p;
		f->copy_cap = len;
	}
	memcpy(f->copy, rec, len);
	err = xs_ledger_decode(f->copy, len, &e);
	if (err != XSELL_OK) {
		return err;
	}
	switch (e.kind) {
	case XS_LEDGER_ORDER:
		return forget_order(f->st, f->txn, f->acc, &e);
	case XS_LEDGER_VIEW:
		err = xs_acc_item_add(f->acc, e.a, XS_C_VIEWS, -1);
		if (err == XSELL_OK) {
			err = xs_acc_pair_add(
			    f->acc, XS_REL_TREND_VIEW, e.b, e.a, -1);
		}
		if (err == XSELL_OK) {
			err = pairs_sub_both(
			    f->acc, XS_REL_VIEW, e.a, e.w1, e.n1);
		}
		return err;
	case XS_LEDGER_CART:
		err = xs_acc_item_add(f->acc, e.a, XS_C_CARTS, -1);
		if (err == XSELL_OK) {
			err = pairs_sub_both(
			    f->acc, XS_REL_CART, e.a, e.w1, e.n1);
		}
		return err;
	default:
		return XSELL_ECORRUPT;
	}
}

static xsell_err
forget_buyer(void *ctx, uint32_t item, int64_t ts, uint32_t count)
{
	(void) ts;
	(void) count;
	return xs_acc_item_add(ctx, item, XS_C_BUYERS, -1);
}

static void
totals_sub(struct xs_totals *t, const struct xs_totals *d)
{
	t->baskets -= d->baskets;
	t->orders -= d->orders;
	t->events -= d->events;
	t->views -= d->views;
	t->carts -= d->carts;
	t->ratings -= d->ratings;
	t->views_counted -= d->views_counted;
	t->carts_counted -= d->carts_counted;
}

xsell_err
xs_model_forget_user(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_span *user, struct xs_forget_result *res)
{
	struct forget_ctx      f = { st, txn, acc, NULL, 0 };
	struct xs_user_summary sum;
	struct xs_totals       tot;
	uint32_t               id;
	xsell_err              err;

	memset(res, 0, sizeof(*res));
	err = xs_store_id_get(st, txn, XS_DICT_USER, user->p, user->len, &id);
	if (err == XSELL_ENOENT) {
		return XSELL_OK;
	}
	if (err == XSELL_OK) {
		err = xs_store_user_summary_get(st, txn, id, &sum);
	}
	if (err == XSELL_OK) {
		err = xs_store_ledger_each(st, txn, id, forget_entry, &f);
	}
	free(f.copy);
	if (err == XSELL_OK) {
		err = xs_store_bought_each(st, txn, id, forget_buyer, acc);
	}
	if (err == XSELL_OK) {
		err = xs_store_totals_get(st, txn, &tot);
	}
	if (err == XSELL_OK) {
		totals_sub(&tot, &sum.totals);
		err = xs_store_totals_put(st, txn, &tot);
	}
	if (err == XSELL_OK) {
		err = xs_store_user_drop(st, txn, id);
	}
	if (err == XSELL_OK) {
		res->found  = true;
		res->events = sum.totals.events;
		res->orders = sum.totals.orders;
	}
	return err;
}
