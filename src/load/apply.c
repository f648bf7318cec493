/* SPDX-License-Identifier: MIT */
/* The apply loop: orders read by the loader -> the store, in chunks.
 *
 * A chunk is one write transaction of at most chunk_orders orders (or
 * less when the accumulator grows past chunk_bytes), so that xselld,
 * which needs the same LMDB write lock for its own group commits, never
 * waits long behind a bulk load. */
#include "load/load.h"

#define CHUNK_ORDERS_DEFAULT 20000u
#define CHUNK_BYTES_DEFAULT ((size_t) 256 << 20)
#define APPLY_BATCH 1000u

struct apply_ctx {
	xs_loader                       *l;
	xs_store                        *st;
	xs_acc                          *acc;
	const struct xs_settings        *set;
	const struct xs_load_apply_opts *opts;
	struct xs_load_apply_result     *res;
	MDB_txn                         *txn;
	uint32_t                         in_txn; /* orders in 'txn' */
	size_t bytes_begin;                      /* xs_acc_bytes at begin */
};

static xsell_err
chunk_begin(struct apply_ctx *c)
{
	xsell_err err;

	if (c->txn != NULL) {
		return XSELL_OK;
	}
	err = xs_txn_write(c->st, &c->txn);
	if (err != XSELL_OK) {
		c->txn = NULL;
		return err;
	}
	c->in_txn      = 0;
	c->bytes_begin = xs_acc_bytes(c->acc);
	return XSELL_OK;
}

static xsell_err
chunk_commit(struct apply_ctx *c)
{
	MDB_txn  *txn = c->txn;
	xsell_err err;

	if (txn == NULL) {
		return XSELL_OK;
	}
	c->txn = NULL;
	err    = xs_acc_flush(c->acc, c->st, txn);
	if (err != XSELL_OK) {
		xs_txn_abort(txn);
		xs_acc_clear(c->acc);
		return err;
	}
	err = xs_txn_commit(txn);
	if (err != XSELL_OK) {
		xs_acc_clear(c->acc);
		return err;
	}
	c->res->commits++;
	return XSELL_OK;
}

static void
chunk_abort(struct apply_ctx *c)
{
	if (c->txn != NULL) {
		xs_txn_abort(c->txn);
		c->txn = NULL;
	}
	xs_acc_clear(c->acc);
}

static xsell_err
orders_cb(void *ctx, const struct xs_event *evs, size_t n)
{
	struct apply_ctx      *c = ctx;
	struct xs_apply_result ar;
	size_t                 bytes;
	xsell_err              err;

	err = chunk_begin(c);
	if (err != XSELL_OK) {
		return err;
	}
	err = xs_model_apply(c->st, c->txn, c->acc, c->set, evs, n, &ar);
	if (err != XSELL_OK) {
		return err;
	}
	c->res->orders += ar.applied;
	c->res->duplicates += ar.duplicates;
	c->in_txn += (uint32_t) n;
	/* xs_acc_bytes is the accumulator's capacity, which never shrinks:
	 * past the limit, only growth within this chunk ends it early,
	 * otherwise every batch after the first big one would commit. */
	bytes = xs_acc_bytes(c->acc);
	if (c->in_txn >= c->opts->chunk_orders ||
	    (bytes > c->opts->chunk_bytes && bytes > c->bytes_begin)) {
		err = chunk_commit(c);
	}
	return err;
}

static xsell_err
items_cb(void *ctx, const struct xs_item_update *ups, size_t n)
{
	struct apply_ctx *c = ctx;
	xsell_err         err;

	err = chunk_begin(c);
	if (err == XSELL_OK) {
		err =
		    xs_model_items_upsert(c->st, c->txn, ups, n, c->opts->now);
	}
	if (err == XSELL_OK) {
		err = chunk_commit(c);
	}
	return err;
}

xsell_err
xs_loader_apply(xs_loader *l, xs_store *st,
    const struct xs_load_apply_opts *opts, struct xs_load_apply_result *res)
{
	struct xs_load_apply_opts o = { 0 };
	struct xs_settings        defaults;
	struct apply_ctx          c = { 0 };
	xsell_err                 err;

	if (opts != NULL) {
		o = *opts;
	}
	if (o.chunk_orders == 0) {
		o.chunk_orders = CHUNK_ORDERS_DEFAULT;
	}
	if (o.chunk_bytes == 0) {
		o.chunk_bytes = CHUNK_BYTES_DEFAULT;
	}
	if (o.set == NULL) {
		xs_settings_default(&defaults);
		o.set = &defaults;
	}
	res->orders     = 0;
	res->duplicates = 0;
	res->commits    = 0;
	err             = xs_acc_alloc(&c.acc);
	if (err != XSELL_OK) {
		return err;
	}
	c.l    = l;
	c.st   = st;
	c.set  = o.set;
	c.opts = &o;
	c.res  = res;
	err    = xs_loader_each_order(l, 0, APPLY_BATCH, orders_cb, &c);
	if (err == XSELL_OK) {
		err = chunk_commit(&c);
	}
	if (err == XSELL_OK) {
		err = xs_loader_each_item_update(
		    l, o.chunk_orders, items_cb, &c);
	}
	if (err != XSELL_OK) {
		chunk_abort(&c);
	}
	xs_acc_free(c.acc);
	return err;
}
