/* SPDX-License-Identifier: MIT */
/* Training: the training orders and events -> a store, through the same
 * write path as xsell-load and xselld (xs_model_apply, then
 * xs_acc_flush), so that what is measured is what would be served: views
 * become sessions and co-view pairs, and a later order of the same user
 * view -> buy pairs, only if they arrive in time order, as xselld sees
 * them. The store is private to the run, so transactions are simply
 * large. */
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TXN_ORDERS 20000u
#define APPLY_BATCH 64u

struct trainer {
	const xs_eval_data       *d;
	xs_store                 *st;
	const struct xs_settings *set;
	xs_acc                   *acc;
	struct xs_event           evs[APPLY_BATCH];
	struct xs_order_line     *lines; /* room for every batch's lines */
	size_t                    n_evs, n_lines, cap_lines;
	uint64_t                  applied;
};

static xsell_err
apply_batch(struct trainer *t, MDB_txn *txn)
{
	struct xs_apply_result ar;
	xsell_err              err;

	if (t->n_evs == 0) {
		return XSELL_OK;
	}
	err =
	    xs_model_apply(t->st, txn, t->acc, t->set, t->evs, t->n_evs, &ar);
	t->applied += ar.applied;
	t->n_evs   = 0;
	t->n_lines = 0;
	return err;
}

/* Queue order 'o' as an event; its lines point into t->lines, which
 * grows only between batches (so queued spans stay valid). */
static xsell_err
queue_order(struct trainer *t, const struct xs_eval_order *o)
{
	const uint32_t  *items = xs_eval_data_order_items(t->d, o);
	struct xs_event *ev    = &t->evs[t->n_evs];

	if (t->n_lines + o->n_items > t->cap_lines) {
		return XSELL_EINTERNAL; /* the caller sized it; a bug */
	}
	for (uint32_t i = 0; i < o->n_items; i++) {
		struct xs_order_line *ln = &t->lines[t->n_lines + i];

		ln->item  = xs_eval_data_item_ext(t->d, items[i]);
		ln->qty   = 1;
		ln->price = NAN;
	}
	*ev         = (struct xs_event) { 0 };
	ev->type    = XS_EV_ORDER;
	ev->ts      = o->ts;
	ev->user    = xs_eval_data_user_ext(t->d, o);
	ev->order   = xs_eval_data_order_ext(t->d, o);
	ev->lines   = &t->lines[t->n_lines];
	ev->n_lines = o->n_items;
	t->n_lines += o->n_items;
	t->n_evs++;
	return XSELL_OK;
}

/* Queue event 'e' (a view, cart event or rating). */
static void
queue_event(struct trainer *t, const struct xs_eval_event *e)
{
	struct xs_event *ev = &t->evs[t->n_evs++];

	*ev        = (struct xs_event) { 0 };
	ev->type   = (enum xs_event_type) e->type;
	ev->ts     = e->ts;
	ev->user   = xs_eval_data_user_name(t->d, e->user);
	ev->item   = xs_eval_data_item_ext(t->d, e->item);
	ev->rating = e->rating;
}

/* One training record in application order. */
struct rec {
	int64_t  ts;
	uint32_t idx;
	uint8_t  is_order; /* 0: an event, 1: an order */
};

static int
cmp_rec(const void *x, const void *y)
{
	const struct rec *p = x, *q = y;

	if (p->ts != q->ts) {
		return p->ts < q->ts ? -1 : 1;
	}
	if (p->is_order != q->is_order) {
		return p->is_order < q->is_order ? -1 : 1;
	}
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* The training records in time order, orders alone too: the engine
 * learns from the sequence (a user's rebuy intervals, view -> buy), and
 * exports are not always oldest first. Ties keep the export's order. */
static xsell_err
records_build(const xs_eval_data *d, const uint8_t *is_test,
    const uint8_t *ev_is_test, struct rec **recsp, size_t *np)
{
	size_t      n_o = xs_eval_data_n_orders(d);
	size_t      n_e = ev_is_test ? xs_eval_data_n_events(d) : 0, n = 0;
	struct rec *r = calloc(n_o + n_e + 1, sizeof(*r));

	if (r == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < n_o; i++) {
		if (!is_test[i]) {
			r[n++] = (struct rec) { xs_eval_data_order(d, i)->ts,
				(uint32_t) i, 1 };
		}
	}
	for (size_t i = 0; i < n_e; i++) {
		if (!ev_is_test[i]) {
			r[n++] = (struct rec) { xs_eval_data_event(d, i)->ts,
				(uint32_t) i, 0 };
		}
	}
	qsort(r, n, sizeof(*r), cmp_rec);
	*recsp = r;
	*np    = n;
	return XSELL_OK;
}

static xsell_err
commit(struct trainer *t, MDB_txn *txn)
{
	xsell_err err = apply_batch(t, txn);

	if (err == XSELL_OK) {
		err = xs_acc_flush(t->acc, t->st, txn);
	}
	if (err != XSELL_OK) {
		xs_txn_abort(txn);
		xs_acc_clear(t->acc);
		return err;
	}
	return xs_txn_commit(txn);
}

xsell_err
xs_eval_train(const xs_eval_data *d, const uint8_t *is_test,
    const uint8_t *ev_is_test, xs_store *st, const struct xs_settings *set,
    uint64_t *n_appliedp)
{
	struct trainer t      = { 0 };
	MDB_txn       *txn    = NULL;
	uint32_t       in_txn = 0, max_items = 0;
	struct rec    *recs   = NULL;
	size_t         n_recs = 0;
	xsell_err      err    = XSELL_OK;

	for (size_t i = 0; i < xs_eval_data_n_orders(d); i++) {
		uint32_t n = xs_eval_data_order(d, i)->n_items;

		max_items = n > max_items ? n : max_items;
	}
	t.d         = d;
	t.st        = st;
	t.set       = set;
	t.cap_lines = (size_t) max_items * APPLY_BATCH;
	t.lines     = calloc(t.cap_lines + 1, sizeof(*t.lines));
	if (t.lines == NULL) {
		return XSELL_ENOMEM;
	}
	err = records_build(d, is_test, ev_is_test, &recs, &n_recs);
	if (err == XSELL_OK) {
		err = xs_acc_alloc(&t.acc);
	}
	for (size_t i = 0; i < n_recs && err == XSELL_OK; i++) {
		if (txn == NULL) {
			err = xs_txn_write(st, &txn);
			if (err != XSELL_OK) {
				txn = NULL;
				break;
			}
		}
		if (recs[i].is_order) {
			err = queue_order(
			    &t, xs_eval_data_order(d, recs[i].idx));
		} else {
			queue_event(&t, xs_eval_data_event(d, recs[i].idx));
		}
		if (err == XSELL_OK && t.n_evs == APPLY_BATCH) {
			err = apply_batch(&t, txn);
		}
		if (err == XSELL_OK && ++in_txn >= TXN_ORDERS) {
			err    = commit(&t, txn);
			txn    = NULL;
			in_txn = 0;
		}
	}
	if (err == XSELL_OK && txn != NULL) {
		err = commit(&t, txn);
		txn = NULL;
	}
	if (txn != NULL) {
		xs_txn_abort(txn);
	}
	xs_acc_free(t.acc);
	free(t.lines);
	free(recs);
	*n_appliedp = t.applied;
	return err;
}
