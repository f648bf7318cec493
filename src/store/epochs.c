/* SPDX-License-Identifier: MIT */
/* Which commit last changed the records of each family of writes (meta
 * XS_META_EPOCHS_KEY), so that what readers keep in memory outlives the
 * commits that leave it alone: per-item memos (memo.c) and the item
 * cache's metadata (records.c).
 *
 * An item's list under a relation (fbt's best candidates, a cart's best
 * pairs, for_you's scored neighbours of a seed) is a function of the
 * relation's pairs and the top lists made from them, the counters its
 * scores read and the total that is their N. Those records fall in
 * three families: orders (the basket and view_buy relations, every
 * counter but views and carts, baskets and orders), views (the view
 * relation, the view counter, views and views counted) and cart adds
 * (the cart relation, the cart counter, carts and carts counted). Item
 * metadata is a fourth, and deleted orders (forget_user) a fifth. The
 * functions that write these records mark the family of what they
 * wrote, and xs_txn_commit stamps each family marked with its txnid. A
 * list made from one snapshot is the list of every snapshot with the
 * same stamps on the families it reads: in a shop whose writes are
 * mostly views, fbt's lists live across them.
 *
 * What is kept across commits by a stamp of its own (complements'
 * lists, stored or made by answers, stamped with their item's count,
 * which a forget can lower and a later order raise back) is not fresh
 * from before the last forget. A record of the four families before
 * that one reads as no forget yet (one an older xsell made goes unseen,
 * as it did there).
 *
 * Marks belong to the one write transaction a store has at a time
 * (LMDB's writer lock): cleared when it begins, written when it
 * commits. A bulk build's helper threads mark too, so they are atomic.
 * A store no commit of this xsell has stamped reads as all zero, which
 * is right: its first commit that writes a family stamps it. It takes
 * every writer of the store to stamp: an xsell from before the stamps
 * writing to a store that a newer xselld serves would go unseen. */
#include "store/store_impl.h"

#include <string.h>

static MDB_val
epochs_key(void)
{
	return xs_key_span(XS_META_EPOCHS_KEY, strlen(XS_META_EPOCHS_KEY));
}

static void
mark(xs_store *st, enum xs_family f)
{
	atomic_fetch_or_explicit(&st->marks, 1u << f, memory_order_relaxed);
}

void
xs_store_marks_clear(xs_store *st)
{
	atomic_store_explicit(&st->marks, 0, memory_order_relaxed);
}

unsigned
xs_rel_families(enum xs_rel rel)
{
	switch (rel) {
	case XS_REL_BASKET:
	case XS_REL_VIEW_BUY: /* its N_a, view_buys, is an order counter */
		return 1u << XS_FAM_ORDER;
	case XS_REL_VIEW:
		return 1u << XS_FAM_VIEW;
	case XS_REL_CART:
		return 1u << XS_FAM_CART;
	default:
		return 0; /* day lists: no per-item memo reads them */
	}
}

void
xs_store_mark_rel(xs_store *st, enum xs_rel rel)
{
	atomic_fetch_or_explicit(
	    &st->marks, xs_rel_families(rel), memory_order_relaxed);
}

void
xs_store_mark_items(xs_store *st)
{
	mark(st, XS_FAM_ITEMS);
}

enum xs_family
xs_count_family(enum xs_count c)
{
	return c == XS_C_VIEWS ? XS_FAM_VIEW
	    : c == XS_C_CARTS  ? XS_FAM_CART
	                       : XS_FAM_ORDER;
}

void
xs_store_mark_count(xs_store *st, enum xs_count c)
{
	mark(st, xs_count_family(c));
}

void
xs_store_mark_totals(
    xs_store *st, const struct xs_totals *old, const struct xs_totals *now)
{
	if (old->baskets != now->baskets || old->orders != now->orders) {
		mark(st, XS_FAM_ORDER);
	}
	if (old->views != now->views ||
	    old->views_counted != now->views_counted) {
		mark(st, XS_FAM_VIEW);
	}
	if (old->carts != now->carts ||
	    old->carts_counted != now->carts_counted) {
		mark(st, XS_FAM_CART);
	}
}

void
xs_store_mark_forget(xs_store *st)
{
	mark(st, XS_FAM_FORGET);
}

bool
xs_store_epochs_read(xs_store *st, MDB_txn *txn, uint64_t e[XS_FAM_COUNT])
{
	MDB_val k = epochs_key();
	MDB_val v;
	int     rc = mdb_get(txn, st->meta, &k, &v);

	memset(e, 0, XS_FAM_COUNT * sizeof(*e));
	if (rc == MDB_NOTFOUND) {
		return true;
	}
	if (rc != 0 ||
	    (v.mv_size != XS_FAM_COUNT * sizeof(*e) &&
	        v.mv_size != XS_FAM_COUNT_BEFORE_FORGET * sizeof(*e))) {
		return false;
	}
	memcpy(e, v.mv_data, v.mv_size);
	return true;
}

/* The stamps kept for snapshot 'id' into e; false if another snapshot's
 * are kept, or they were being written. */
static bool
epochs_seen_get(struct xs_epochs *s, size_t id, uint64_t *e)
{
	unsigned seq = atomic_load_explicit(&s->seq, memory_order_acquire);

	if ((seq & 1) != 0 ||
	    atomic_load_explicit(&s->id, memory_order_relaxed) != id) {
		return false;
	}
	for (int f = 0; f < XS_FAM_COUNT; f++) {
		e[f] = atomic_load_explicit(&s->e[f], memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->seq, memory_order_relaxed) == seq;
}

/* Keep e as snapshot id's stamps if it is newer than those kept; under
 * memo_mtx, so one writer at a time. */
static void
epochs_seen_put(struct xs_epochs *s, size_t id, const uint64_t *e)
{
	unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	if (id <= atomic_load_explicit(&s->id, memory_order_relaxed)) {
		return;
	}
	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->id, id, memory_order_relaxed);
	for (int f = 0; f < XS_FAM_COUNT; f++) {
		atomic_store_explicit(&s->e[f], e[f], memory_order_relaxed);
	}
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

bool
xs_store_snapshot_epochs(
    xs_store *st, MDB_txn *txn, size_t id, uint64_t e[XS_FAM_COUNT])
{
	if (epochs_seen_get(&st->epochs_seen, id, e)) {
		return true;
	}
	if (!xs_store_epochs_read(st, txn, e)) {
		return false;
	}
	pthread_mutex_lock(&st->memo_mtx);
	epochs_seen_put(&st->epochs_seen, id, e);
	pthread_mutex_unlock(&st->memo_mtx);
	return true;
}

xsell_err
xs_store_epochs_stamp(xs_store *st, MDB_txn *txn)
{
	unsigned marks =
	    atomic_exchange_explicit(&st->marks, 0, memory_order_relaxed);
	uint64_t e[XS_FAM_COUNT];
	MDB_val  k = epochs_key();

	if (marks == 0) {
		return XSELL_OK;
	}
	/* A record that cannot be read is rewritten as if every family
	 * changed now: a memo is retired, never kept too long. */
	if (!xs_store_epochs_read(st, txn, e)) {
		marks = (1u << XS_FAM_COUNT) - 1;
	}
	for (int f = 0; f < XS_FAM_COUNT; f++) {
		if (marks & 1u << f) {
			e[f] = mdb_txn_id(txn);
		}
	}
	return xs_record_put(txn, st->meta, &k, e, sizeof(e));
}

uint64_t
xs_store_orders_forgotten_at(xs_store *st, MDB_txn *txn)
{
	size_t   id = xs_store_snapshot_id(st, txn);
	uint64_t e[XS_FAM_COUNT];
	bool     read = id != 0 ? xs_store_snapshot_epochs(st, txn, id, e)
	                        : xs_store_epochs_read(st, txn, e);

	/* Unreadable (a damaged record): as before the stamp. Taking every
	 * list for stale would keep the refresher remaking them all, and a
	 * list's own count still guards it. */
	return read ? e[XS_FAM_FORGET] : 0;
}

uint64_t
xs_store_orders_changed_at(xs_store *st, MDB_txn *txn)
{
	uint64_t e[XS_FAM_COUNT];

	if (!xs_store_epochs_read(st, txn, e)) {
		return UINT64_MAX;
	}
	return e[XS_FAM_ORDER] > e[XS_FAM_FORGET] ? e[XS_FAM_ORDER]
	                                          : e[XS_FAM_FORGET];
}
