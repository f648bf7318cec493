/* SPDX-License-Identifier: MIT */
/* Per-user records: the items a user ever bought (with the last time:
 * distinct buyers, "already bought", buy again), the open cart, the
 * bounded event history and the ledger of what their events added to the
 * counts (so that forgetting them can take it out exactly). Bought, cart
 * and history are sorted fixed-size duplicates under the user's number;
 * the ledger is keyed (user, seq). */
#include "store/store_impl.h"

#include <string.h>

/* u64 ts BE, u32 item BE, type, value, flags, 0 */
#define HIST_REC_LEN XS_USER_REC_LEN
/* u32 item BE, u64 ts BE, u32 count BE */
#define ITEM_TS_LEN XS_USER_REC_LEN

static void
item_ts_encode(
    unsigned char out[ITEM_TS_LEN], uint32_t item, int64_t ts, uint32_t count)
{
	xs_be32_put(out, item);
	xs_be64_put(out + 4, (uint64_t) ts);
	xs_be32_put(out + 12, count);
}

/* The record of an item added again (found with prev and count): moved
 * to ts if ts is later, and with 'again' counted once more. False if
 * that changes nothing. */
static bool
item_ts_again(unsigned char out[ITEM_TS_LEN], uint32_t item, int64_t ts,
    bool again, int64_t prev, uint32_t count)
{
	if (again && count < UINT32_MAX) {
		count++;
	} else if (ts <= prev) {
		return false;
	}
	item_ts_encode(out, item, ts > prev ? ts : prev, count);
	return true;
}

/* Position 'cur' on the user's (item, ts, count) duplicate for 'item'.
 * Returns MDB_NOTFOUND if the item is not there; *tsp and *countp get its
 * time and count. */
static int
item_ts_find(MDB_cursor *cur, uint32_t user, uint32_t item, int64_t *tsp,
    uint32_t *countp)
{
	unsigned char kb[4], vb[ITEM_TS_LEN];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v;
	int           rc;

	item_ts_encode(vb, item, 0, 0);
	v.mv_data = vb;
	v.mv_size = ITEM_TS_LEN;
	rc        = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
	if (rc != 0) {
		return rc;
	}
	if (v.mv_size != ITEM_TS_LEN || xs_be32_get(v.mv_data) != item) {
		return MDB_NOTFOUND;
	}
	*tsp    = (int64_t) xs_be64_get((const unsigned char *) v.mv_data + 4);
	*countp = xs_be32_get((const unsigned char *) v.mv_data + 12);
	return 0;
}

/* Add (item, ts, 1) under 'user' in 'dbi' unless the item is there.
 * An item already there moves to ts if ts is later, and with 'again'
 * counts once more. *prevp and *countp (may be NULL): the time and count
 * it had, 0 if it was not there. */
static xsell_err
item_ts_add(MDB_txn *txn, MDB_dbi dbi, uint32_t user, uint32_t item,
    int64_t ts, bool again, bool *addedp, int64_t *prevp, uint32_t *countp)
{
	unsigned char kb[4], vb[ITEM_TS_LEN];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v;
	MDB_cursor   *cur;
	int64_t       prev  = 0;
	uint32_t      count = 0;
	int           rc;

	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc      = item_ts_find(cur, user, item, &prev, &count);
	*addedp = rc == MDB_NOTFOUND;
	if (prevp != NULL) {
		*prevp = prev;
	}
	if (countp != NULL) {
		*countp = count;
	}
	v.mv_data = vb;
	v.mv_size = ITEM_TS_LEN;
	if (rc == MDB_NOTFOUND) {
		item_ts_encode(vb, item, ts, 1);
		rc = mdb_cursor_put(cur, &k, &v, 0);
	} else if (rc == 0 &&
	    item_ts_again(vb, item, ts, again, prev, count)) {
		/* Same item prefix: the duplicate keeps its place. */
		rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
	}
	mdb_cursor_close(cur);
	return xs_err_from_mdb(rc);
}

static xsell_err
item_ts_each(
    MDB_txn *txn, MDB_dbi dbi, uint32_t user, xs_item_ts_cb cb, void *ctx)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v;
	MDB_cursor   *cur;
	xsell_err     err = XSELL_OK;
	int           rc;

	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST_DUP);
	}
	while (rc == 0 && err == XSELL_OK) {
		const unsigned char *p = v.mv_data;

		if (v.mv_size != ITEM_TS_LEN) {
			err = XSELL_ECORRUPT;
			break;
		}
		err = cb(ctx, xs_be32_get(p), (int64_t) xs_be64_get(p + 4),
		    xs_be32_get(p + 12));
		rc  = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(cur);
	if (err != XSELL_OK) {
		return err;
	}
	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

/* ==== The same on a user's records held in memory (users_held.c) ==== */

/* Where item's record is, or would go, in s; *foundp: it is there. */
static size_t
held_item_find(const struct xs_user_recs *s, uint32_t item, bool *foundp)
{
	unsigned char key[ITEM_TS_LEN];
	size_t        i;

	item_ts_encode(key, item, 0, 0);
	i       = xs_user_recs_lower_bound(s, key);
	*foundp = i < s->n && xs_be32_get(xs_user_recs_at(s, i)) == item;
	return i;
}

/* item_ts_add on a held set. */
static xsell_err
held_item_ts_add(struct xs_user_recs *s, uint32_t item, int64_t ts, bool again,
    bool *addedp, int64_t *prevp, uint32_t *countp)
{
	unsigned char rec[ITEM_TS_LEN];
	bool          found;
	size_t        i     = held_item_find(s, item, &found);
	int64_t       prev  = 0;
	uint32_t      count = 0;

	*addedp = !found;
	if (found) {
		prev  = (int64_t) xs_be64_get(xs_user_recs_at(s, i) + 4);
		count = xs_be32_get(xs_user_recs_at(s, i) + 12);
	}
	if (prevp != NULL) {
		*prevp = prev;
	}
	if (countp != NULL) {
		*countp = count;
	}
	if (!found) {
		item_ts_encode(rec, item, ts, 1);
		return xs_user_recs_insert(s, i, rec);
	}
	item_ts_again(xs_user_recs_at(s, i), item, ts, again, prev, count);
	return XSELL_OK;
}

static xsell_err
held_item_ts_each(const struct xs_user_recs *s, xs_item_ts_cb cb, void *ctx)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < s->n && err == XSELL_OK; i++) {
		const unsigned char *p = xs_user_recs_at(s, i);

		err = cb(ctx, xs_be32_get(p), (int64_t) xs_be64_get(p + 4),
		    xs_be32_get(p + 12));
	}
	return err;
}

/* ==== Bought and carts ==== */

/* item_ts_add on the user's records of set 'which' (database dbi):
 * those held in memory, if the store holds them, else the B-tree's. */
static xsell_err
user_item_ts_add(xs_store *st, MDB_txn *txn, enum xs_user_set which,
    MDB_dbi dbi, uint32_t user, uint32_t item, int64_t ts, bool again,
    bool *addedp, int64_t *prevp, uint32_t *countp)
{
	struct xs_user_recs *held;
	xsell_err err = xs_users_held_set(st, txn, user, which, &held);

	if (err != XSELL_OK) {
		return err;
	}
	if (held != NULL) {
		return held_item_ts_add(
		    held, item, ts, again, addedp, prevp, countp);
	}
	return item_ts_add(
	    txn, dbi, user, item, ts, again, addedp, prevp, countp);
}

/* item_ts_each the same way. */
static xsell_err
user_item_ts_each(xs_store *st, MDB_txn *txn, enum xs_user_set which,
    MDB_dbi dbi, uint32_t user, xs_item_ts_cb cb, void *ctx)
{
	struct xs_user_recs *held;
	xsell_err err = xs_users_held_set(st, txn, user, which, &held);

	if (err != XSELL_OK) {
		return err;
	}
	if (held != NULL) {
		return held_item_ts_each(held, cb, ctx);
	}
	return item_ts_each(txn, dbi, user, cb, ctx);
}

xsell_err
xs_store_bought_add(xs_store *st, MDB_txn *txn, uint32_t user, uint32_t item,
    int64_t ts, bool *addedp, int64_t *prev_tsp, uint32_t *prev_countp)
{
	return user_item_ts_add(st, txn, XS_USER_BOUGHT, st->bought, user,
	    item, ts, true, addedp, prev_tsp, prev_countp);
}

xsell_err
xs_store_bought_each(
    xs_store *st, MDB_txn *txn, uint32_t user, xs_item_ts_cb cb, void *ctx)
{
	return user_item_ts_each(
	    st, txn, XS_USER_BOUGHT, st->bought, user, cb, ctx);
}

xsell_err
xs_store_cart_add(xs_store *st, MDB_txn *txn, uint32_t user, uint32_t item,
    int64_t ts, bool *addedp)
{
	return user_item_ts_add(st, txn, XS_USER_CART, st->cart, user, item,
	    ts, false, addedp, NULL, NULL);
}

xsell_err
xs_store_cart_remove(xs_store *st, MDB_txn *txn, uint32_t user, uint32_t item,
    int64_t until, bool *removedp)
{
	struct xs_user_recs *held;
	MDB_cursor          *cur;
	int64_t              ts;
	uint32_t             count;
	xsell_err err = xs_users_held_set(st, txn, user, XS_USER_CART, &held);
	int       rc;

	if (err != XSELL_OK) {
		return err;
	}
	if (held != NULL) {
		size_t i = held_item_find(held, item, removedp);

		*removedp = *removedp &&
		    (int64_t) xs_be64_get(xs_user_recs_at(held, i) + 4) <=
		        until;
		if (*removedp) {
			xs_user_recs_remove(held, i);
		}
		return XSELL_OK;
	}
	rc = mdb_cursor_open(txn, st->cart, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc        = item_ts_find(cur, user, item, &ts, &count);
	*removedp = rc == 0 && ts <= until;
	if (*removedp) {
		rc = mdb_cursor_del(cur, 0);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

xsell_err
xs_store_cart_each(
    xs_store *st, MDB_txn *txn, uint32_t user, xs_item_ts_cb cb, void *ctx)
{
	return user_item_ts_each(
	    st, txn, XS_USER_CART, st->cart, user, cb, ctx);
}

/* The bytes that make two records the same event: time, item, type and
 * value, not the flags (an item's stock may change within the second). */
#define HIST_SAME_LEN 14

/* Big-endian time first: duplicates sort oldest first. */
static void
hist_encode(unsigned char out[HIST_REC_LEN], const struct xs_hist_rec *ev)
{
	xs_be64_put(out, (uint64_t) ev->ts);
	xs_be32_put(out + 8, ev->item);
	out[12] = ev->type;
	out[13] = ev->value;
	out[14] = ev->flags;
	out[15] = 0;
}

static void
hist_decode(const unsigned char in[HIST_REC_LEN], struct xs_hist_rec *ev)
{
	ev->ts    = (int64_t) xs_be64_get(in);
	ev->item  = xs_be32_get(in + 8);
	ev->type  = in[12];
	ev->value = in[13];
	ev->flags = in[14];
	ev->pad   = 0;
}

/* 'rec' with its flags cleared: no record of the same event sorts
 * before it. */
static void
hist_same_first(
    unsigned char out[HIST_REC_LEN], const unsigned char rec[HIST_REC_LEN])
{
	memcpy(out, rec, HIST_REC_LEN);
	memset(out + HIST_SAME_LEN, 0, HIST_REC_LEN - HIST_SAME_LEN);
}

/* xs_store_history_add on a held set: the same event at the same
 * second kept once, the oldest dropped beyond the bound. */
static xsell_err
held_history_add(struct xs_user_recs *s, const unsigned char rec[HIST_REC_LEN],
    unsigned max_events)
{
	unsigned char first[HIST_REC_LEN];
	size_t        i;
	xsell_err     err = XSELL_OK;

	hist_same_first(first, rec);
	i = xs_user_recs_lower_bound(s, first);
	if (i == s->n ||
	    memcmp(xs_user_recs_at(s, i), rec, HIST_SAME_LEN) != 0) {
		/* None is the same event, so rec goes at i too. */
		err = xs_user_recs_insert(s, i, rec);
	}
	while (err == XSELL_OK && s->n > max_events) {
		xs_user_recs_remove(s, 0);
	}
	return err;
}

static xsell_err
held_history_each(
    const struct xs_user_recs *s, bool newest_first, xs_hist_cb cb, void *ctx)
{
	xsell_err err = XSELL_OK;

	for (size_t j = 0; j < s->n && err == XSELL_OK; j++) {
		struct xs_hist_rec ev;

		hist_decode(
		    xs_user_recs_at(s, newest_first ? s->n - 1 - j : j), &ev);
		err = cb(ctx, &ev);
	}
	return err;
}

xsell_err
xs_store_history_add(xs_store *st, MDB_txn *txn, uint32_t user,
    const struct xs_hist_rec *ev, unsigned max_events)
{
	unsigned char        kb[4], vb[HIST_REC_LEN], first[HIST_REC_LEN];
	MDB_val              k = xs_key_u32(kb, user);
	MDB_val              v;
	MDB_cursor          *cur;
	struct xs_user_recs *held;
	size_t               n;
	xsell_err            err =
	    xs_users_held_set(st, txn, user, XS_USER_HISTORY, &held);
	int rc;

	if (err != XSELL_OK) {
		return err;
	}
	hist_encode(vb, ev);
	if (held != NULL) {
		return held_history_add(held, vb, max_events);
	}
	hist_same_first(first, vb);
	v.mv_data = first;
	v.mv_size = HIST_REC_LEN;
	rc        = mdb_cursor_open(txn, st->history, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
	if (rc == 0 && v.mv_size == HIST_REC_LEN &&
	    memcmp(v.mv_data, vb, HIST_SAME_LEN) == 0) {
		rc = MDB_KEYEXIST; /* the same event, other flags */
	} else if (rc == 0 || rc == MDB_NOTFOUND) {
		v.mv_data = vb;
		v.mv_size = HIST_REC_LEN;
		rc        = mdb_cursor_put(cur, &k, &v, MDB_NODUPDATA);
	}
	if (rc == MDB_KEYEXIST) {
		/* The same event at the same second: kept once. The cursor
		 * may not be on the user's key after a refused put. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	}
	/* After a put the cursor is on the new record, so on the user's
	 * key: no second search to count the user's events. */
	if (rc == 0) {
		rc = mdb_cursor_count(cur, &n);
	}
	/* Drop the oldest beyond the bound: the first duplicates. */
	while (rc == 0 && n > max_events) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST_DUP);
		if (rc == 0) {
			rc = mdb_cursor_del(cur, 0);
		}
		n--;
	}
	mdb_cursor_close(cur);
	return xs_err_from_mdb(rc);
}

xsell_err
xs_store_history_each(xs_store *st, MDB_txn *txn, uint32_t user,
    bool newest_first, xs_hist_cb cb, void *ctx)
{
	unsigned char        kb[4];
	MDB_val              k = xs_key_u32(kb, user);
	MDB_val              v;
	MDB_cursor          *cur;
	struct xs_user_recs *held;
	xsell_err            err =
	    xs_users_held_set(st, txn, user, XS_USER_HISTORY, &held);
	int rc;

	if (err != XSELL_OK) {
		return err;
	}
	if (held != NULL) {
		return held_history_each(held, newest_first, cb, ctx);
	}
	rc = mdb_cursor_open(txn, st->history, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0) {
		rc = mdb_cursor_get(
		    cur, &k, &v, newest_first ? MDB_LAST_DUP : MDB_FIRST_DUP);
	}
	while (rc == 0 && err == XSELL_OK) {
		struct xs_hist_rec ev;

		if (v.mv_size != HIST_REC_LEN) {
			err = XSELL_ECORRUPT;
			break;
		}
		hist_decode(v.mv_data, &ev);
		err = cb(ctx, &ev);
		rc  = mdb_cursor_get(
		     cur, &k, &v, newest_first ? MDB_PREV_DUP : MDB_NEXT_DUP);
	}
	mdb_cursor_close(cur);
	if (err != XSELL_OK) {
		return err;
	}
	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

xsell_err
xs_store_history_tag(
    xs_store *st, MDB_txn *txn, uint32_t user, struct xs_hist_tag *tag)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v;
	MDB_cursor   *cur;
	size_t        n = 0;
	int           rc;

	_Static_assert(sizeof(tag->oldest) == HIST_REC_LEN, "a record");
	memset(tag, 0, sizeof(*tag));
	if (st->users_held != NULL) {
		return XSELL_EINVAL;
	}
	rc = mdb_cursor_open(txn, st->history, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0) {
		rc = mdb_cursor_count(cur, &n);
	}
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST_DUP);
	}
	if (rc == 0 && v.mv_size == HIST_REC_LEN) {
		memcpy(tag->oldest, v.mv_data, HIST_REC_LEN);
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	}
	if (rc == 0 && v.mv_size == HIST_REC_LEN) {
		memcpy(tag->newest, v.mv_data, HIST_REC_LEN);
		tag->n = n;
	} else if (rc == 0) {
		rc = MDB_CORRUPTED;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

/* ==== Ledger ==== */

static MDB_val
ledger_key(unsigned char buf[8], uint32_t user, uint32_t seq)
{
	MDB_val k;

	xs_be32_put(buf, user);
	xs_be32_put(buf + 4, seq);
	k.mv_data = buf;
	k.mv_size = 8;
	return k;
}

xsell_err
xs_store_user_summary_get(
    xs_store *st, MDB_txn *txn, uint32_t user, struct xs_user_summary *out)
{
	unsigned char kb[8];
	MDB_val       k = ledger_key(kb, user, 0);
	MDB_val       v;
	int           rc;

	memset(out, 0, sizeof(*out));
	rc = mdb_get(txn, st->ledger, &k, &v);
	if (rc == MDB_NOTFOUND) {
		return XSELL_OK;
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (v.mv_size != sizeof(*out)) {
		return XSELL_ECORRUPT;
	}
	memcpy(out, v.mv_data, sizeof(*out));
	return XSELL_OK;
}

xsell_err
xs_store_user_summary_put(
    xs_store *st, MDB_txn *txn, uint32_t user, const struct xs_user_summary *s)
{
	/* The summary is the ledger's record at seq 0 (entries from 1). */
	return xs_store_ledger_put(st, txn, user, 0, s, sizeof(*s));
}

xsell_err
xs_store_ledger_put(xs_store *st, MDB_txn *txn, uint32_t user, uint32_t seq,
    const void *rec, size_t len)
{
	unsigned char kb[8];
	MDB_val       k = ledger_key(kb, user, seq);
	MDB_val       v;

	v.mv_data = (void *) rec;
	v.mv_size = len;
	return xs_err_from_mdb(mdb_put(txn, st->ledger, &k, &v, 0));
}

xsell_err
xs_store_ledger_each(
    xs_store *st, MDB_txn *txn, uint32_t user, xs_ledger_cb cb, void *ctx)
{
	unsigned char kb[8];
	MDB_val       k = ledger_key(kb, user, 1);
	MDB_val       v;
	MDB_cursor   *cur;
	xsell_err     err = XSELL_OK;
	int           rc;

	rc = mdb_cursor_open(txn, st->ledger, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && err == XSELL_OK && k.mv_size == 8 &&
	    xs_be32_get(k.mv_data) == user) {
		err = cb(ctx, v.mv_data, v.mv_size);
		rc  = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (err != XSELL_OK) {
		return err;
	}
	return rc == MDB_NOTFOUND || rc == 0 ? XSELL_OK : xs_err_from_mdb(rc);
}

/* Delete the summary and entries 1..entries it counts. */
static xsell_err
ledger_drop(xs_store *st, MDB_txn *txn, uint32_t user)
{
	struct xs_user_summary sum;
	xsell_err              err;
	int                    rc = 0;

	err = xs_store_user_summary_get(st, txn, user, &sum);
	for (uint32_t seq = 0; seq <= sum.entries && err == XSELL_OK; seq++) {
		unsigned char kb[8];
		MDB_val       k = ledger_key(kb, user, seq);

		rc  = mdb_del(txn, st->ledger, &k, NULL);
		err = xs_err_from_mdb(rc == MDB_NOTFOUND ? 0 : rc);
	}
	return err;
}

/* Delete the user's key (all duplicates) in 'dbi'; absent is fine. */
static int
user_key_del(MDB_txn *txn, MDB_dbi dbi, uint32_t user)
{
	unsigned char kb[4];
	MDB_val       k  = xs_key_u32(kb, user);
	int           rc = mdb_del(txn, dbi, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

xsell_err
xs_store_user_drop(xs_store *st, MDB_txn *txn, uint32_t user)
{
	xsell_err err =
	    xs_users_held_release(st, txn); /* then all is stored */
	int rc;

	if (err != XSELL_OK) {
		return err;
	}
	rc = user_key_del(txn, st->history, user);
	if (rc == 0) {
		rc = user_key_del(txn, st->bought, user);
	}
	if (rc == 0) {
		rc = user_key_del(txn, st->cart, user);
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	err = ledger_drop(st, txn, user);
	if (err != XSELL_OK) {
		return err;
	}
	return xs_store_id_del(st, txn, XS_DICT_USER, user);
}
