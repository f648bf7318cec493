/* SPDX-License-Identifier: MIT */
/* Events -> counts. Every write of the model goes through here, in event
 * order, so the store is a pure function of the ordered event stream:
 * dense ids are handed out in order of first appearance, which items of
 * a huge order are paired depends only on the order's and items' ids,
 * and the view, cart and view_buy relations depend only on the user's
 * own earlier events (their history and cart).
 *
 * What a user's event adds beyond what the store can re-derive goes to
 * the user's ledger (ledger.c), so that forget.c can take it out again
 * exactly. */
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

/* Baskets up to this many items are sorted by insertion: most are (21
 * lines an order on Online Retail), and qsort's calls through a
 * comparator and its buffer cost more there than the sort. */
#define BASKET_INSERTION_MAX 64u

/* items[0..n) by id, ascending (equal ids keep their order). */
static void
sort_by_id(struct basket_item *items, size_t n)
{
	if (n > BASKET_INSERTION_MAX) {
		qsort(items, n, sizeof(*items), cmp_basket_id);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		struct basket_item x = items[i];
		size_t             j = i;

		for (; j > 0 && items[j - 1].id > x.id; j--) {
			items[j] = items[j - 1];
		}
		items[j] = x;
	}
}

/* Resolve the order's lines to distinct dense ids, leaving out returns
 * (qty <= 0). Returns the count in *np; 'items' has room for n_lines. */
static xsell_err
basket_resolve(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_event *ev, struct basket_item *items, size_t *np)
{
	uint64_t seed = xs_hash64(ev->order.p, ev->order.len, 0);
	size_t   n    = 0;

	for (uint32_t i = 0; i < ev->n_lines; i++) {
		const struct xs_order_line *ln = &ev->lines[i];
		xsell_err                   err;

		if (!(ln->qty > 0)) {
			continue;
		}
		if (!xs_acc_item_id_get(
		        acc, ln->item.p, ln->item.len, &items[n].id)) {
			err = xs_store_id_put(st, txn, XS_DICT_ITEM,
			    ln->item.p, ln->item.len, &items[n].id, NULL);
			if (err == XSELL_OK) {
				err = xs_acc_item_id_put(acc, ln->item.p,
				    ln->item.len, items[n].id);
			}
			if (err != XSELL_OK) {
				return err;
			}
		}
		items[n].rank = xs_hash64(ln->item.p, ln->item.len, seed);
		n++;
	}
	/* Distinct ids: the same item on two lines is one basket item. */
	sort_by_id(items, n);
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
	sort_by_id(items, max);
	return max;
}

/* What one event does to the totals; added to the store's totals and,
 * for a known user, to their share (so forgetting them can subtract it). */
static void
totals_add(struct xs_totals *t, const struct xs_totals *d)
{
	t->baskets += d->baskets;
	t->orders += d->orders;
	t->events += d->events;
	t->views += d->views;
	t->carts += d->carts;
	t->ratings += d->ratings;
	t->views_counted += d->views_counted;
	t->carts_counted += d->carts_counted;
}

/* The user's part of an event being applied. */
struct user_ctx {
	uint32_t               user; /* 0: guest */
	struct xs_user_summary sum;
	struct xs_buf          entry; /* the ledger entry being built */
	/* The last user whose summary was read (0: none) and their id:
	 * 'sum' stays what is stored for them, so their next event takes
	 * both as they are (a bulk load walks each customer's orders
	 * together; a lookup of the id was a tenth of its time). */
	uint32_t       last;
	struct xs_span last_name;
};

static xsell_err
ledger_append(xs_store *st, MDB_txn *txn, struct user_ctx *u,
    const struct xs_ledger_entry *e)
{
	xsell_err err = xs_ledger_encode(e, &u->entry);

	if (err != XSELL_OK) {
		return err;
	}
	u->sum.entries++;
	return xs_store_ledger_put(
	    st, txn, u->user, u->sum.entries, u->entry.data, u->entry.len);
}

static bool
user_may_count(const struct xs_settings *set, const struct user_ctx *u)
{
	return u->sum.totals.views_counted + u->sum.totals.carts_counted <
	    set->user_counted_max;
}

static xsell_err
history_add(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, const struct xs_hist_rec *rec)
{
	return xs_store_history_add(st, txn, user, rec, set->history_max);
}

/* Distinct items, at most 'max', collected in the order they come. */
struct item_set {
	uint32_t *v;
	uint32_t  n, max;
};

static bool
item_set_has(const struct item_set *s, uint32_t item)
{
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->v[i] == item) {
			return true;
		}
	}
	return false;
}

static void
item_set_add(struct item_set *s, uint32_t item)
{
	if (s->n < s->max && !item_set_has(s, item)) {
		s->v[s->n++] = item;
	}
}

/* ==== view_buy: what the user viewed shortly before ordering ==== */

struct recent_views {
	struct item_set set;
	int64_t         from, to; /* ts window */
	uint32_t        v[64];    /* set.v */
};

static xsell_err
recent_view_cb(void *ctx, const struct xs_hist_rec *ev)
{
	struct recent_views *r = ctx;

	if (ev->ts < r->from) {
		return XSELL_ENOENT; /* newest first: nothing older counts */
	}
	if (ev->type == XS_EV_VIEW && ev->ts <= r->to) {
		item_set_add(&r->set, ev->item);
	}
	return r->set.n < r->set.max ? XSELL_OK : XSELL_ENOENT;
}

/* The items the user viewed in the view_buy window before 'ts', newest
 * first, at most view_buy_views_max. */
static xsell_err
recent_views(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, int64_t ts, struct recent_views *r)
{
	xsell_err err;

	r->set.v = r->v;
	r->set.n = 0;
	r->set.max =
	    set->view_buy_views_max < 64 ? set->view_buy_views_max : 64;
	r->from = ts - (int64_t) set->view_buy_window_s;
	r->to   = ts;
	err = xs_store_history_each(st, txn, user, true, recent_view_cb, r);
	return err == XSELL_ENOENT ? XSELL_OK : err;
}

/* Pair each recently viewed item a (r, read before the order) with the
 * ordered items b (a != b): "viewed a, then bought b". At most
 * view_buy_items_max of the order's items take part, the first in
 * sampling order. */
static xsell_err
count_view_buy(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, struct user_ctx *u,
    const struct recent_views *r, struct basket_item *kept, size_t n_kept,
    struct xs_ledger_entry *e)
{
	const uint32_t *viewed = r->set.v;
	uint32_t       *dsts;
	size_t          n_dst;
	xsell_err       err = XSELL_OK;

	if (r->set.n == 0 || n_kept == 0) {
		return XSELL_OK;
	}
	n_dst = n_kept < set->view_buy_items_max ? n_kept
	                                         : set->view_buy_items_max;
	if (n_dst < n_kept) {
		qsort(kept, n_kept, sizeof(*kept), cmp_basket_rank);
	}
	dsts = malloc(n_dst * sizeof(*dsts) + 1);
	if (dsts == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t j = 0; j < n_dst; j++) {
		dsts[j] = kept[j].id;
	}
	for (uint32_t i = 0; i < r->set.n && err == XSELL_OK; i++) {
		err = xs_acc_item_add(acc, viewed[i], XS_C_VIEW_BUYS, 1);
		for (size_t j = 0; j < n_dst && err == XSELL_OK; j++) {
			if (dsts[j] != viewed[i]) {
				err = xs_acc_pair_add(acc, XS_REL_VIEW_BUY,
				    viewed[i], dsts[j], 1);
			}
		}
	}
	if (err == XSELL_OK) {
		e->w2 = viewed;
		e->n2 = r->set.n;
		e->w3 = dsts;
		e->n3 = (uint32_t) n_dst;
		err   = ledger_append(st, txn, u, e);
		/* Both die with this call: leave the caller no pointer. */
		e->w2 = NULL;
		e->w3 = NULL;
	}
	free(dsts);
	return err;
}

/* ==== Orders ==== */

/* Whole days between a purchase at 'ts' of an item bought 'count' times
 * before, the last at 'last' (ts != last), and the purchase next to it in
 * time, so that arrival order matters as little as the bought record
 * allows: after the last, the days since it; before it, the days to it
 * when it was the only one. Before several, the record does not say how
 * they lie (only the last time and the count): their mean gap over the
 * span from ts to the last, exact for evenly spaced purchases sent newest
 * first. */
static uint32_t
rebuy_days(int64_t ts, int64_t last, uint32_t count)
{
	int64_t gap =
	    ts > last ? ts - last : (last - ts) / (count > 1 ? count : 1);

	return (uint32_t) (gap / 86400);
}

/* The user bought the order's items: bought set, buyers, rebuys (with
 * rebuy_days), history, and out of the cart if added by 'ts'. A purchase
 * in the same second as the item's last is no rebuy. Rebuys go to e->w1
 * as (item, days) pairs; 'rebuys' has room for 2n. */
static xsell_err
count_purchases(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, uint32_t user, int64_t ts,
    const struct basket_item *items, size_t n, uint32_t *rebuys,
    struct xs_ledger_entry *e)
{
	xsell_err err = XSELL_OK;

	e->n1 = 0;
	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		struct xs_hist_rec rec = { 0 };
		int64_t            prev;
		uint32_t           count;
		bool               added, removed;

		err = xs_store_bought_add(
		    st, txn, user, items[i].id, ts, &added, &prev, &count);
		if (err == XSELL_OK && added) {
			err =
			    xs_acc_item_add(acc, items[i].id, XS_C_BUYERS, 1);
		} else if (err == XSELL_OK && ts != prev) {
			uint32_t days = rebuy_days(ts, prev, count);

			err =
			    xs_acc_item_add(acc, items[i].id, XS_C_REBUYS, 1);
			if (err == XSELL_OK) {
				err = xs_acc_item_add(acc, items[i].id,
				    XS_C_REBUY_DAYS, (int32_t) days);
			}
			rebuys[e->n1++] = items[i].id;
			rebuys[e->n1++] = days;
		}
		if (err == XSELL_OK) {
			err = xs_store_cart_remove(
			    st, txn, user, items[i].id, ts, &removed);
		}
		rec.ts   = ts;
		rec.item = items[i].id;
		rec.type = XS_EV_ORDER;
		if (err == XSELL_OK) {
			err = history_add(st, txn, set, user, &rec);
		}
	}
	e->w1 = rebuys;
	return err;
}

/* Baskets, basket pairs (both directions) and the day's trend counts of
 * the sampled items ids[0..n). */
static xsell_err
count_basket(xs_acc *acc, int64_t ts, const uint32_t *ids, size_t n)
{
	uint32_t  day = xs_day_of(ts);
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		err = xs_acc_item_add(acc, ids[i], XS_C_BASKETS, 1);
		if (err == XSELL_OK) {
			err = xs_acc_pair_add(
			    acc, XS_REL_TREND_BUY, day, ids[i], 1);
		}
	}
	if (err == XSELL_OK) {
		err = xs_acc_pairs_all(acc, XS_REL_BASKET, ids, n);
	}
	return err;
}

static xsell_err
apply_order(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *ev,
    struct user_ctx *u, struct xs_totals *d)
{
	struct xs_order_rec    rec = { 0 };
	struct xs_ledger_entry e   = { 0 };
	struct recent_views    views;
	struct basket_item    *items;
	uint32_t              *ids, *rebuys;
	size_t                 n, kept;
	xsell_err              err;

	items    = malloc((ev->n_lines + 1) * sizeof(*items));
	ids      = malloc((ev->n_lines + 1) * sizeof(*ids));
	rebuys   = malloc((ev->n_lines + 1) * 2 * sizeof(*rebuys));
	rec.user = u->user;
	if (items == NULL || ids == NULL || rebuys == NULL) {
		err = XSELL_ENOMEM;
		goto done;
	}
	err = basket_resolve(st, txn, acc, ev, items, &n);
	if (err == XSELL_OK && u->user != 0) {
		/* Before the order's items join the history, where they may
		 * push out the views they pair with. */
		err = recent_views(st, txn, set, u->user, ev->ts, &views);
	}
	if (err == XSELL_OK && u->user != 0) {
		/* Everything the user bought counts for "bought" and buyers;
		 * only the sample counts for baskets and pairs, so that every
		 * pair's 2x2 table stays consistent (N_ab <= N_a). */
		err = count_purchases(
		    st, txn, acc, set, u->user, ev->ts, items, n, rebuys, &e);
	}
	kept = err == XSELL_OK ? basket_sample(items, n, set->max_basket_items)
	                       : 0;
	for (size_t i = 0; i < kept; i++) {
		ids[i] = items[i].id;
	}
	if (err == XSELL_OK) {
		err = count_basket(acc, ev->ts, ids, kept);
	}
	rec.n_items = (uint32_t) kept;
	rec.ts      = ev->ts;
	if (err == XSELL_OK) {
		err = xs_store_order_put(
		    st, txn, ev->order.p, ev->order.len, &rec, ids);
	}
	if (err == XSELL_OK && u->user != 0) {
		e.kind = XS_LEDGER_ORDER;
		e.ext  = ev->order;
		/* Last: it reorders 'items' by sampling rank. */
		err = count_view_buy(
		    st, txn, acc, set, u, &views, items, kept, &e);
		if (err == XSELL_OK && e.n2 == 0) {
			err = ledger_append(st, txn, u, &e);
		}
	}
	if (err == XSELL_OK) {
		d->orders  = 1;
		d->baskets = kept != 0;
	}
done:
	free(items);
	free(ids);
	free(rebuys);
	return err;
}

/* ==== Views ==== */

struct session_scan {
	uint32_t        item;
	int64_t         ts, gap;
	bool            repeat; /* the item was viewed in this session */
	struct item_set partners;
};

static xsell_err
session_cb(void *ctx, const struct xs_hist_rec *ev)
{
	struct session_scan *s = ctx;

	if (ev->ts < s->ts - s->gap) {
		return XSELL_ENOENT; /* newest first: the rest is older */
	}
	if (ev->type != XS_EV_VIEW || ev->ts > s->ts + s->gap) {
		return XSELL_OK;
	}
	if (ev->item == s->item) {
		s->repeat = true;
		return XSELL_ENOENT;
	}
	item_set_add(&s->partners, ev->item);
	return XSELL_OK;
}

/* A view of an item not viewed within session_gap_s counts: for the item,
 * for the day's trend and as a pair with each item viewed within the gap
 * (at most view_pairs_max, the newest). */
static xsell_err
count_view(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, struct user_ctx *u, uint32_t item,
    int64_t ts, struct xs_totals *d)
{
	uint32_t               partners[64];
	struct session_scan    s = { 0 };
	struct xs_ledger_entry e = { 0 };
	xsell_err              err;

	s.item         = item;
	s.ts           = ts;
	s.gap          = (int64_t) set->session_gap_s;
	s.partners.v   = partners;
	s.partners.max = set->view_pairs_max < 64 ? set->view_pairs_max : 64;
	err = xs_store_history_each(st, txn, u->user, true, session_cb, &s);
	if (err != XSELL_OK && err != XSELL_ENOENT) {
		return err;
	}
	if (s.repeat) {
		return XSELL_OK;
	}
	err = xs_acc_item_add(acc, item, XS_C_VIEWS, 1);
	if (err == XSELL_OK) {
		err = xs_acc_pair_add(
		    acc, XS_REL_TREND_VIEW, xs_day_of(ts), item, 1);
	}
	for (uint32_t i = 0; i < s.partners.n && err == XSELL_OK; i++) {
		err = xs_acc_pair_add(acc, XS_REL_VIEW, item, partners[i], 1);
		if (err == XSELL_OK) {
			err = xs_acc_pair_add(
			    acc, XS_REL_VIEW, partners[i], item, 1);
		}
	}
	if (err != XSELL_OK) {
		return err;
	}
	d->views_counted = 1;
	e.kind           = XS_LEDGER_VIEW;
	e.a              = item;
	e.b              = xs_day_of(ts);
	e.w1             = partners;
	e.n1             = s.partners.n;
	return ledger_append(st, txn, u, &e);
}

/* ==== Carts ==== */

struct cart_scan {
	uint32_t item;
	uint32_t n;
	bool     present; /* the item is in the cart already */
	uint32_t oldest;  /* the item added first */
	int64_t  oldest_ts;
	int64_t  from; /* items added before this don't pair */
	struct {
		uint32_t item;
		int64_t  ts;
	} pairs[64];
	uint32_t n_pairs, max_pairs;
};

/* Cart add (ts, item) came after (ts2, item2): by time, then by item
 * number, one order for the oldest that a full cart lets go and for the
 * newest that an add pairs with. */
static bool
cart_add_later(int64_t ts, uint32_t item, int64_t ts2, uint32_t item2)
{
	return ts != ts2 ? ts > ts2 : item > item2;
}

static xsell_err
cart_scan_cb(void *ctx, uint32_t item, int64_t ts, uint32_t count)
{
	struct cart_scan *c = ctx;
	uint32_t          o = 0;

	(void) count;
	c->n++;
	c->present |= item == c->item;
	if (c->n == 1 || cart_add_later(c->oldest_ts, c->oldest, ts, item)) {
		c->oldest    = item;
		c->oldest_ts = ts;
	}
	if (item == c->item || ts < c->from) {
		return XSELL_OK;
	}
	/* Keep the newest max_pairs: replace the oldest kept one. */
	if (c->n_pairs < c->max_pairs) {
		c->pairs[c->n_pairs].item = item;
		c->pairs[c->n_pairs].ts   = ts;
		c->n_pairs++;
		return XSELL_OK;
	}
	if (c->n_pairs == 0) {
		return XSELL_OK;
	}
	for (uint32_t i = 1; i < c->n_pairs; i++) {
		if (cart_add_later(c->pairs[o].ts, c->pairs[o].item,
		        c->pairs[i].ts, c->pairs[i].item)) {
			o = i;
		}
	}
	if (cart_add_later(ts, item, c->pairs[o].ts, c->pairs[o].item)) {
		c->pairs[o].item = item;
		c->pairs[o].ts   = ts;
	}
	return XSELL_OK;
}

/* The item a full cart let go is no partner. Being the oldest of all,
 * it was kept only if every item of the window was, so the rest are
 * still the newest. */
static void
cart_pairs_drop(struct cart_scan *c, uint32_t item)
{
	for (uint32_t i = 0; i < c->n_pairs; i++) {
		if (c->pairs[i].item == item) {
			c->pairs[i] = c->pairs[--c->n_pairs];
			return;
		}
	}
}

/* An item new to the open cart counts: for the item and as a pair with
 * each item added within cart_window_s (at most cart_pairs_max, the
 * newest) that is still in the cart: a full cart lets its oldest item go
 * first. */
static xsell_err
count_cart_add(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, struct user_ctx *u, uint32_t item,
    int64_t ts, struct xs_totals *d)
{
	struct cart_scan       c = { 0 };
	struct xs_ledger_entry e = { 0 };
	uint32_t               partners[64];
	bool                   added, removed;
	xsell_err              err;

	c.item      = item;
	c.from      = ts - (int64_t) set->cart_window_s;
	c.max_pairs = set->cart_pairs_max < 64 ? set->cart_pairs_max : 64;
	err         = xs_store_cart_each(st, txn, u->user, cart_scan_cb, &c);
	if (err == XSELL_OK && !c.present && c.n >= set->cart_max) {
		err = xs_store_cart_remove(
		    st, txn, u->user, c.oldest, INT64_MAX, &removed);
		cart_pairs_drop(&c, c.oldest);
	}
	if (err == XSELL_OK) {
		err = xs_store_cart_add(st, txn, u->user, item, ts, &added);
	}
	if (err != XSELL_OK || !added || !user_may_count(set, u)) {
		return err;
	}
	err = xs_acc_item_add(acc, item, XS_C_CARTS, 1);
	for (uint32_t i = 0; i < c.n_pairs && err == XSELL_OK; i++) {
		partners[i] = c.pairs[i].item;
		err = xs_acc_pair_add(acc, XS_REL_CART, item, partners[i], 1);
		if (err == XSELL_OK) {
			err = xs_acc_pair_add(
			    acc, XS_REL_CART, partners[i], item, 1);
		}
	}
	if (err != XSELL_OK) {
		return err;
	}
	d->carts_counted = 1;
	e.kind           = XS_LEDGER_CART;
	e.a              = item;
	e.w1             = partners;
	e.n1             = c.n_pairs;
	return ledger_append(st, txn, u, &e);
}

/* Out of stock now? For "back in stock": the history remembers it. */
static xsell_err
stock_flags(xs_store *st, MDB_txn *txn, uint32_t item, uint8_t *flags)
{
	struct xs_item_meta m;
	xsell_err           err = xs_store_meta_get(st, txn, item, &m);

	if (err != XSELL_OK && err != XSELL_ENOENT) {
		return err;
	}
	*flags = m.in_stock ? 0 : XS_HIST_OUT_OF_STOCK;
	return XSELL_OK;
}

/* view, cart_add, cart_remove, rating: one item, one user. */
static xsell_err
apply_item_event(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *ev,
    struct user_ctx *u, struct xs_totals *d)
{
	struct xs_hist_rec rec = { 0 };
	bool               removed;
	xsell_err          err;

	err = xs_store_id_put(
	    st, txn, XS_DICT_ITEM, ev->item.p, ev->item.len, &rec.item, NULL);
	if (err == XSELL_OK) {
		err = stock_flags(st, txn, rec.item, &rec.flags);
	}
	if (err != XSELL_OK) {
		return err;
	}
	switch (ev->type) {
	case XS_EV_VIEW:
		d->views = 1;
		if (user_may_count(set, u)) {
			err = count_view(
			    st, txn, acc, set, u, rec.item, ev->ts, d);
		}
		break;
	case XS_EV_CART_ADD:
		d->carts = 1;
		err =
		    count_cart_add(st, txn, acc, set, u, rec.item, ev->ts, d);
		break;
	case XS_EV_CART_REMOVE:
		err = xs_store_cart_remove(
		    st, txn, u->user, rec.item, ev->ts, &removed);
		break;
	case XS_EV_RATING:
		d->ratings = 1;
		rec.value  = ev->rating;
		break;
	default:
		break;
	}
	if (err != XSELL_OK) {
		return err;
	}
	rec.ts   = ev->ts;
	rec.type = (uint8_t) ev->type;
	return history_add(st, txn, set, u->user, &rec);
}

/* The event's user 'name': their id and summary into u. */
static xsell_err
user_begin(xs_store *st, MDB_txn *txn, struct xs_span name, struct user_ctx *u)
{
	xsell_err err;

	if (u->last != 0 && name.len == u->last_name.len &&
	    memcmp(name.p, u->last_name.p, name.len) == 0) {
		u->user = u->last;
		return XSELL_OK;
	}
	u->last = 0;
	err     = xs_store_id_put(
	        st, txn, XS_DICT_USER, name.p, name.len, &u->user, NULL);
	if (err == XSELL_OK) {
		err = xs_store_user_summary_get(st, txn, u->user, &u->sum);
	}
	if (err == XSELL_OK) {
		u->last      = u->user;
		u->last_name = name;
	}
	return err;
}

/* One event: its counts, and its share of the totals kept for its user. */
static xsell_err
apply_one(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *ev,
    struct user_ctx *u, struct xs_totals *tot, bool *dupp)
{
	struct xs_totals d = { 0 };
	xsell_err        err;

	u->user = 0;
	*dupp   = false;
	if (ev->type == XS_EV_ORDER) {
		/* A duplicate changes nothing: not even its user's id. */
		err = xs_store_order_exists(
		    st, txn, ev->order.p, ev->order.len, dupp);
		if (err != XSELL_OK || *dupp) {
			return err;
		}
	}
	if (ev->user.len != 0) {
		err = user_begin(st, txn, ev->user, u);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (ev->type == XS_EV_ORDER) {
		err = apply_order(st, txn, acc, set, ev, u, &d);
	} else {
		err = apply_item_event(st, txn, acc, set, ev, u, &d);
	}
	if (err != XSELL_OK) {
		return err;
	}
	d.events = 1;
	totals_add(tot, &d);
	if (u->user == 0) {
		return XSELL_OK;
	}
	totals_add(&u->sum.totals, &d);
	return xs_store_user_summary_put(st, txn, u->user, &u->sum);
}

xsell_err
xs_model_apply(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *evs, size_t n,
    struct xs_apply_result *res)
{
	struct user_ctx  u = { 0 };
	struct xs_totals tot;
	xsell_err        err;

	res->applied    = 0;
	res->duplicates = 0;
	xs_buf_init(&u.entry, SIZE_MAX);
	err = xs_store_totals_get(st, txn, &tot);
	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		bool dup = false;

		err = apply_one(st, txn, acc, set, &evs[i], &u, &tot, &dup);
		if (err == XSELL_OK) {
			res->applied += !dup;
			res->duplicates += dup;
		}
	}
	if (err == XSELL_OK) {
		err = xs_store_totals_put(st, txn, &tot);
	}
	xs_buf_fini(&u.entry);
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
