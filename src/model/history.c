/* SPDX-License-Identifier: MIT */
/* A user's recent events, newest first, for support staff. */
#include "model/model_impl.h"

struct hist_collect {
	xs_store          *st;
	MDB_txn           *txn;
	struct xs_history *out;
	uint32_t           max;
};

static xsell_err
hist_collect_cb(void *ctx, const struct xs_hist_rec *ev)
{
	struct hist_collect *h = ctx;
	struct xs_hist_item *it;
	xsell_err            err;

	if (h->out->n == h->max) {
		return XSELL_ENOENT; /* enough: stop the walk */
	}
	h->out->recs[h->out->n] = *ev;
	it                      = &h->out->evs[h->out->n];
	it->rec                 = &h->out->recs[h->out->n];
	err                     = xs_store_ext_get(
	                        h->st, h->txn, XS_DICT_ITEM, ev->item, &it->ext, &it->ext_len);
	if (err == XSELL_OK) {
		h->out->n++;
	}
	return err;
}

xsell_err
xs_model_history(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct xs_arena *arena, struct xs_history *out)
{
	struct hist_collect h = { st, txn, out, q->limit };
	uint32_t            user;
	xsell_err           err;

	out->known = false;
	out->n     = 0;
	out->evs   = xs_arena_calloc(arena, q->limit + 1, sizeof(*out->evs));
	out->recs  = xs_arena_calloc(arena, q->limit + 1, sizeof(*out->recs));
	if (out->evs == NULL || out->recs == NULL) {
		return XSELL_ENOMEM;
	}
	err = xs_store_id_get(
	    st, txn, XS_DICT_USER, q->user.p, q->user.len, &user);
	if (err == XSELL_ENOENT) {
		return XSELL_OK;
	}
	if (err != XSELL_OK) {
		return err;
	}
	out->known = true;
	err = xs_store_history_each(st, txn, user, true, hist_collect_cb, &h);
	return err == XSELL_ENOENT ? XSELL_OK : err;
}
