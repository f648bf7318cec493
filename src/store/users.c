/* SPDX-License-Identifier: MIT */
/* Per-user records: the set of items a user ever bought (distinct buyers
 * per item, "already bought") and the bounded event history. Both are
 * sorted fixed-size duplicates under the user's number. */
#include "store/store_impl.h"

#include <string.h>

#define HIST_REC_LEN 16

xsell_err
xs_store_bought_add(
    xs_store *st, MDB_txn *txn, uint32_t user, uint32_t item, bool *addedp)
{
	unsigned char kb[4], vb[4];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v = xs_key_u32(vb, item);
	int           rc;

	rc = mdb_put(txn, st->bought, &k, &v, MDB_NODUPDATA);
	if (rc == MDB_KEYEXIST) {
		*addedp = false;
		return XSELL_OK;
	}
	*addedp = rc == 0;
	return xs_err_from_mdb(rc);
}

/* Big-endian time first: duplicates sort oldest first. */
static void
hist_encode(unsigned char out[HIST_REC_LEN], const struct xs_hist_rec *ev)
{
	xs_be64_put(out, (uint64_t) ev->ts);
	xs_be32_put(out + 8, ev->item);
	out[12] = ev->type;
	out[13] = ev->value;
	out[14] = 0;
	out[15] = 0;
}

xsell_err
xs_store_history_add(xs_store *st, MDB_txn *txn, uint32_t user,
    const struct xs_hist_rec *ev, unsigned max_events)
{
	unsigned char kb[4], vb[HIST_REC_LEN];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v;
	MDB_cursor   *cur;
	size_t        n;
	int           rc;

	hist_encode(vb, ev);
	v.mv_data = vb;
	v.mv_size = HIST_REC_LEN;
	rc        = mdb_cursor_open(txn, st->history, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_put(cur, &k, &v, MDB_NODUPDATA);
	if (rc == MDB_KEYEXIST) {
		rc = 0; /* the same event at the same second: kept once */
	}
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	}
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
