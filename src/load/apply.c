/* SPDX-License-Identifier: MIT */
/* The apply loop: orders read by the loader -> the store, in chunks.
 *
 * A chunk is one write transaction, ended after chunk_orders orders,
 * about chunk_ms from begin to commit, or chunk_bytes of pending counts,
 * so that xselld, which needs the same LMDB write lock for its own group
 * commits, never waits long behind a bulk load. The clock matters most:
 * on Online Retail 20,000 orders hold the lock for seconds, on Groceries
 * for a fraction of one.
 *
 * Most of a chunk's time is the flush, not the applying, and the flush
 * does not shrink in proportion (it rewrites every neighbour list the
 * chunk touched). So the time spent applying is steered: after each
 * commit the next chunk's applying budget is scaled by target / (time the
 * last chunk took), within [chunk_ms / 8, chunk_ms]. The floor keeps
 * chunks from shrinking to nothing when a store's flush alone is slow:
 * each commit costs a pass over the lists it touched, so tiny chunks
 * would make the whole load slower, not the wait shorter. */
#include "load/load.h"

#include <stdio.h>
#include <string.h>

#define CHUNK_ORDERS_DEFAULT 20000u
#define CHUNK_BYTES_DEFAULT ((size_t) 256 << 20)
#define CHUNK_MS_DEFAULT 500u
/* Orders per xs_model_apply call; the chunk limits are checked between
 * calls, so this bounds how far a chunk overshoots chunk_ms. */
#define APPLY_BATCH 64u

struct apply_ctx {
	xs_loader                       *l;
	xs_store                        *st;
	xs_acc                          *acc;
	const struct xs_settings        *set;
	const struct xs_load_apply_opts *opts;
	struct xs_load_apply_result     *res;
	MDB_txn                         *txn;
	uint32_t                         in_txn; /* orders in 'txn' */
	size_t   bytes_begin;                    /* xs_acc_bytes at begin */
	uint64_t begin_ns;                       /* xs_mono_ns at begin */
	uint64_t target_ns; /* chunk_ms: begin to commit */
	uint64_t budget_ns; /* time to spend applying in this chunk */
	/* Counted into *res only at commit, so that after a failed chunk
	 * *res says what the store holds. */
	uint64_t pend_orders, pend_duplicates;
	uint64_t pend_events, pend_event_duplicates;
	/* The store was fresh: one transaction for the whole load, its
	 * pairs written once by the accumulator's bulk flush. */
	bool fresh;
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
	c->in_txn                = 0;
	c->pend_orders           = 0;
	c->pend_duplicates       = 0;
	c->pend_events           = 0;
	c->pend_event_duplicates = 0;
	c->bytes_begin           = xs_acc_bytes(c->acc);
	c->begin_ns              = xs_mono_ns();
	return XSELL_OK;
}

/* The next chunk's applying budget from the last chunk, which applied
 * for 'applied_ns' and took 'took_ns' from begin to commit. */
static void
steer(struct apply_ctx *c, uint64_t applied_ns, uint64_t took_ns)
{
	double next;

	if (took_ns == 0) {
		return;
	}
	next = (double) applied_ns * (double) c->target_ns / (double) took_ns;
	if (next < (double) c->target_ns / 8) {
		next = (double) c->target_ns / 8;
	}
	if (next > 1.5 * (double) c->budget_ns) {
		next = 1.5 * (double) c->budget_ns;
	}
	if (next > (double) c->target_ns) {
		next = (double) c->target_ns;
	}
	c->budget_ns = (uint64_t) next;
}

static xsell_err
chunk_commit(struct apply_ctx *c)
{
	MDB_txn  *txn = c->txn;
	uint64_t  applied_ns, took;
	xsell_err err;

	if (txn == NULL) {
		return XSELL_OK;
	}
	c->txn     = NULL;
	applied_ns = xs_mono_ns() - c->begin_ns;
	err        = xs_acc_flush(c->acc, c->st, txn);
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
	c->res->orders += c->pend_orders;
	c->res->duplicates += c->pend_duplicates;
	c->res->events += c->pend_events;
	c->res->event_duplicates += c->pend_event_duplicates;
	took = xs_mono_ns() - c->begin_ns;
	if (took > c->res->longest_txn_ns) {
		c->res->longest_txn_ns = took;
	}
	steer(c, applied_ns, took);
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

static uint64_t
hash_span(struct xs_span s, uint64_t h)
{
	return xs_hash64(s.p, s.len, h ^ s.len);
}

/* Whether a group holds views, cart events or ratings, which have no
 * id of their own (group_batch_id). */
static bool
group_has_events(const struct xs_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (evs[i].type != XS_EV_ORDER) {
			return true;
		}
	}
	return false;
}

/* A batch id for a group holding views, cart events or ratings: a hash
 * of everything in the group. Loading the same files again forms the
 * same groups, which the store then knows as applied. Groups of orders
 * only need none (orders have ids), and are not hashed. An event whose
 * lines gave no ts has the load's time, which the next load would give
 * otherwise: its ts is hashed as none (-1, which no ts is), so that its
 * group is known again. */
static void
group_batch_id(const xs_loader *l, const struct xs_event *evs, size_t n,
    char *out, size_t len)
{
	uint64_t h1 = 1, h2 = 2;

	for (size_t i = 0; i < n; i++) {
		const struct xs_event *e = &evs[i];
		int64_t  ts   = xs_loader_event_has_ts(l, i) ? e->ts : -1;
		uint64_t misc = (uint64_t) ts * 8 + e->type;

		misc = misc * 8 + e->rating;
		h1   = xs_hash64(&misc, sizeof(misc), h1);
		h2 = xs_hash64(&misc, sizeof(misc), h2 + 0x9e3779b97f4a7c15u);
		h1 = hash_span(
		    e->user, hash_span(e->item, hash_span(e->order, h1)));
		h2 = hash_span(
		    e->order, hash_span(e->item, hash_span(e->user, h2)));
	}
	snprintf(out, len, "xsell-load:%016llx%016llx",
	    (unsigned long long) h1, (unsigned long long) h2);
}

static xsell_err
orders_cb(void *ctx, const struct xs_event *evs, size_t n)
{
	struct apply_ctx      *c = ctx;
	struct xs_apply_result ar;
	struct xs_span         batch = { NULL, 0 };
	char                   id[64];
	size_t                 bytes, n_events;
	xsell_err              err;

	err = chunk_begin(c);
	if (err != XSELL_OK) {
		return err;
	}
	if (group_has_events(evs, n)) {
		group_batch_id(c->l, evs, n, id, sizeof(id));
		batch.p   = id;
		batch.len = (uint32_t) strlen(id);
	}
	err = xs_model_apply_batch(
	    c->st, c->txn, c->acc, c->set, &batch, evs, n, &ar);
	if (err != XSELL_OK) {
		return err;
	}
	/* Events are never duplicates one by one: their group is, whole. */
	n_events = 0;
	for (size_t i = 0; i < n; i++) {
		n_events += evs[i].type != XS_EV_ORDER;
	}
	if (n_events != 0 && ar.applied == 0 && ar.duplicates == n) {
		c->pend_event_duplicates += n_events;
		c->pend_duplicates += n - n_events;
	} else {
		c->pend_events += n_events;
		c->pend_orders += ar.applied - n_events;
		c->pend_duplicates += ar.duplicates;
	}
	c->in_txn += (uint32_t) n;
	if (c->fresh) {
		return XSELL_OK;
	}
	/* xs_acc_bytes is the accumulator's capacity, which never shrinks:
	 * past the limit, only growth within this chunk ends it early,
	 * otherwise every batch after the first big one would commit. */
	bytes = xs_acc_bytes(c->acc);
	if (c->in_txn >= c->opts->chunk_orders ||
	    xs_mono_ns() - c->begin_ns >= c->budget_ns ||
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
	if (err == XSELL_OK && !c->fresh) {
		err = chunk_commit(c);
	}
	return err;
}

/* The dense id a name gets in the fresh store: what the apply will find
 * (xs_loader_each_order_by_user numbers every name before the walk). An
 * item's is remembered by the accumulator too, where the apply looks
 * first, so that no item is looked up in the store a second time. */
static xsell_err
name_id(void *ctx, enum xs_dict d, struct xs_span name, uint32_t *idp)
{
	struct apply_ctx *c = ctx;
	xsell_err         err;

	err = xs_store_id_put(c->st, c->txn, d, name.p, name.len, idp, NULL);
	if (err == XSELL_OK && d == XS_DICT_ITEM) {
		err = xs_acc_item_id_put(c->acc, name.p, name.len, *idp);
	}
	return err;
}

/* Walk the orders into the store. A fresh store of orders only takes
 * them by user: the whole build is one transaction, and in order of
 * first appearance each order lands on a random user's pages (bought,
 * history, ledger), so past the page cache's dirty limits (about 2 GB
 * here, 50M lines) the kernel writes pages back that the next orders
 * dirty again, and every put descends a B-tree that misses the caches.
 * By user, those records are written in key order, each page once, and
 * each user's bought, cart and history are held in memory while their
 * orders go in (over a quarter of the main thread's time on Online Retail was
 * their B-trees' searches and growth), then written whole. The
 * store is the same (see xs_loader_each_order_by_user); loads with
 * views, cart events or ratings keep the ordinary walk. */
static xsell_err
apply_orders(struct apply_ctx *c)
{
	xsell_err err;

	/* Held: the order database was empty, so no order of these files
	 * is a duplicate (the by-user walk numbers every order's user and
	 * items before it applies any; the ordinary walk names neither for
	 * a stored order). */
	if (!c->fresh || !xs_store_orders_held(c->st) ||
	    xs_loader_counts(c->l)->events != 0) {
		return xs_loader_each_order(
		    c->l, 0, APPLY_BATCH, orders_cb, c);
	}
	err = xs_store_users_hold(c->st);
	if (err == XSELL_OK) {
		err = xs_loader_each_order_by_user(
		    c->l, APPLY_BATCH, name_id, orders_cb, c);
	}
	if (err == XSELL_OK) {
		err = xs_store_users_held_write(c->st, c->txn);
	}
	xs_store_users_held_drop(c->st); /* written, or dropped with the txn */
	return err;
}

/* Whether the store is new: no item, user, event or pair yet. */
static xsell_err
store_is_new(xs_store *st, MDB_txn *txn, bool *newp)
{
	struct xs_totals t;
	uint32_t         items = 0, users = 0;
	bool             no_pairs = false;
	xsell_err        err;

	*newp = false;
	err   = xs_store_dict_size(st, txn, XS_DICT_ITEM, &items);
	if (err == XSELL_OK) {
		err = xs_store_dict_size(st, txn, XS_DICT_USER, &users);
	}
	if (err == XSELL_OK) {
		err = xs_store_totals_get(st, txn, &t);
	}
	if (err == XSELL_OK) {
		err = xs_store_pairs_empty(st, txn, &no_pairs);
	}
	if (err == XSELL_OK) {
		*newp = items == 0 && users == 0 && t.events == 0 &&
		    t.orders == 0 && no_pairs;
	}
	return err;
}

/* Whether the store is fresh: then the whole load is one transaction,
 * begun here, the accumulator keeps every pair change for one bulk
 * flush and the store holds the order records to write them sorted at
 * the end (xs_store_orders_hold). A kill -9 midway leaves the store as it was
 * (LMDB commits whole), which keeps the promise of whole orders or nothing:
 * here, nothing; loading again starts over. A store that holds anything goes
 * the incremental way, in chunks. */
static xsell_err
fresh_begin(struct apply_ctx *c)
{
	bool      fresh = false;
	xsell_err err;

	err = chunk_begin(c);
	if (err == XSELL_OK) {
		err = store_is_new(c->st, c->txn, &fresh);
	}
	if (err != XSELL_OK) {
		return err;
	}
	c->fresh = fresh;
	if (fresh) {
		xs_acc_bulk_begin(c->acc, 0);
		err = xs_store_orders_hold(c->st, c->txn);
		if (err == XSELL_EINVAL) {
			/* Orders stored before (a store with no item, user
			 * or pair, yet orders: made by hand): these go in one
			 * by one, in the ordinary walk (apply_orders). */
			err = XSELL_OK;
		}
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
	if (o.chunk_ms == 0) {
		o.chunk_ms = CHUNK_MS_DEFAULT;
	}
	if (o.set == NULL) {
		xs_settings_default(&defaults);
		o.set = &defaults;
	}
	memset(res, 0, sizeof(*res));
	err = xs_acc_alloc(&c.acc);
	if (err != XSELL_OK) {
		return err;
	}
	c.target_ns = (uint64_t) o.chunk_ms * 1000000u;
	c.budget_ns = c.target_ns / 8;
	c.l         = l;
	c.st        = st;
	c.set       = o.set;
	c.opts      = &o;
	c.res       = res;
	err         = o.incremental ? XSELL_OK : fresh_begin(&c);
	if (err == XSELL_OK) {
		err = apply_orders(&c);
	}
	if (err == XSELL_OK && c.fresh) {
		/* The bulk flush, before item metadata may add pairs of its
		 * own (creation days) the ordinary way. */
		err = chunk_begin(&c);
		if (err == XSELL_OK && xs_store_orders_held(st)) {
			err = xs_store_orders_held_write(st, c.txn);
		}
		if (err == XSELL_OK) {
			err = xs_acc_flush(c.acc, st, c.txn);
		}
	} else if (err == XSELL_OK) {
		err = chunk_commit(&c);
	}
	if (err == XSELL_OK) {
		err = xs_loader_each_item_update(
		    l, o.chunk_orders, items_cb, &c);
	}
	if (err == XSELL_OK && c.fresh) {
		err        = chunk_commit(&c);
		res->fresh = err == XSELL_OK;
	}
	if (err != XSELL_OK) {
		chunk_abort(&c);
	}
	xs_store_orders_held_drop(st); /* written, or dropped with the txn */
	xs_acc_free(c.acc);
	return err;
}
