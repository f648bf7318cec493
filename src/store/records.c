/* SPDX-License-Identifier: MIT */
/* Plain records: orders (the idempotency record of each order id, with
 * the items that were counted for it), batch ids, totals and item
 * metadata. Values are host-order structs copied in and out with memcpy
 * because LMDB only aligns values to 2 bytes. */
#include "store/store_impl.h"

#include <stdlib.h>
#include <string.h>

xsell_err
xs_store_order_exists(
    xs_store *st, MDB_txn *txn, const char *ext, size_t len, bool *existsp)
{
	MDB_val k = xs_key_span(ext, len);
	MDB_val v;
	int     rc;

	rc = mdb_get(txn, st->order, &k, &v);
	if (rc == MDB_NOTFOUND) {
		*existsp = false;
		return XSELL_OK;
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	*existsp = true;
	return XSELL_OK;
}

xsell_err
xs_store_order_put(xs_store *st, MDB_txn *txn, const char *ext, size_t len,
    const struct xs_order_rec *rec, const uint32_t *items)
{
	size_t  items_len = (size_t) rec->n_items * sizeof(uint32_t);
	MDB_val k         = xs_key_span(ext, len);
	MDB_val v;
	int     rc;

	if (st->orders_held != NULL) { /* a fresh build: written at its end */
		return xs_store_orders_held_put(
		    st->orders_held, ext, len, rec, items);
	}
	/* MDB_RESERVE: write the record straight into the page. */
	v.mv_size = sizeof(*rec) + items_len;
	v.mv_data = NULL;
	rc        = mdb_put(txn, st->order, &k, &v, MDB_RESERVE);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	memcpy(v.mv_data, rec, sizeof(*rec));
	if (items_len != 0) {
		memcpy((char *) v.mv_data + sizeof(*rec), items, items_len);
	}
	return XSELL_OK;
}

xsell_err
xs_store_order_get(xs_store *st, MDB_txn *txn, const char *ext, size_t len,
    struct xs_order_rec *rec, const void **itemsp)
{
	MDB_val k = xs_key_span(ext, len);
	MDB_val v;
	int     rc;

	rc = mdb_get(txn, st->order, &k, &v);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (v.mv_size < sizeof(*rec)) {
		return XSELL_ECORRUPT;
	}
	memcpy(rec, v.mv_data, sizeof(*rec));
	if (v.mv_size != sizeof(*rec) + (size_t) rec->n_items * 4) {
		return XSELL_ECORRUPT;
	}
	*itemsp = (const char *) v.mv_data + sizeof(*rec);
	return XSELL_OK;
}

xsell_err
xs_store_order_del(xs_store *st, MDB_txn *txn, const char *ext, size_t len)
{
	MDB_val k  = xs_key_span(ext, len);
	int     rc = mdb_del(txn, st->order, &k, NULL);

	if (rc == 0) {
		xs_store_mark_forget(st);
	}
	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

xsell_err
xs_store_batch_seen(
    xs_store *st, MDB_txn *txn, const char *ext, size_t len, bool *seenp)
{
	MDB_val k = xs_key_span(ext, len);
	MDB_val v;
	int     rc;

	rc = mdb_get(txn, st->batch, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		return xs_err_from_mdb(rc);
	}
	*seenp = rc == 0;
	return XSELL_OK;
}

xsell_err
xs_store_batch_put(xs_store *st, MDB_txn *txn, const char *ext, size_t len)
{
	MDB_val k = xs_key_span(ext, len);
	MDB_val v = xs_key_span("", 0);

	return xs_err_from_mdb(mdb_put(txn, st->batch, &k, &v, 0));
}

xsell_err
xs_record_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, void *out, size_t size)
{
	MDB_val v;
	int     rc;

	memset(out, 0, size);
	rc = mdb_get(txn, dbi, k, &v);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (v.mv_size != size) {
		return XSELL_ECORRUPT;
	}
	memcpy(out, v.mv_data, size);
	return XSELL_OK;
}

xsell_err
xs_record_put(
    MDB_txn *txn, MDB_dbi dbi, MDB_val *k, const void *in, size_t size)
{
	MDB_val v;

	v.mv_data = (void *) in;
	v.mv_size = size;
	return xs_err_from_mdb(mdb_put(txn, dbi, k, &v, 0));
}

xsell_err
xs_store_totals_get(xs_store *st, MDB_txn *txn, struct xs_totals *out)
{
	MDB_val   k   = xs_key_span("totals", 6);
	xsell_err err = xs_record_get(txn, st->meta, &k, out, sizeof(*out));

	return err == XSELL_ENOENT ? XSELL_OK : err;
}

xsell_err
xs_store_totals_put(xs_store *st, MDB_txn *txn, const struct xs_totals *t)
{
	MDB_val          k = xs_key_span("totals", 6);
	struct xs_totals old;
	xsell_err        err = xs_store_totals_get(st, txn, &old);

	if (err != XSELL_OK) {
		return err;
	}
	xs_store_mark_totals(st, &old, t);
	return xs_record_put(txn, st->meta, &k, t, sizeof(*t));
}

/* What item metadata read by txn is kept under (item_cache.c): one
 * more than the stamp of the last commit that wrote metadata, which the
 * snapshots since share (epochs.c); 0 for none (a write transaction). */
static uint64_t
meta_cache_tag(xs_store *st, MDB_txn *txn)
{
	size_t   id = xs_store_snapshot_id(st, txn);
	uint64_t e[XS_FAM_COUNT];

	return id != 0 && xs_store_snapshot_epochs(st, txn, id, e)
	    ? e[XS_FAM_ITEMS] + 1
	    : 0;
}

xsell_err
xs_store_meta_get(
    xs_store *st, MDB_txn *txn, uint32_t item, struct xs_item_meta *out)
{
	unsigned char kb[4];
	MDB_val       k    = xs_key_u32(kb, item);
	uint64_t      snap = meta_cache_tag(st, txn);
	int           kept = snap != 0
	              ? xs_item_cache_meta(&st->item_cache, item, snap, out)
	              : -1;
	xsell_err     err;

	if (kept >= 0) {
		return kept == 1 ? XSELL_OK : XSELL_ENOENT;
	}
	err = xs_record_get(txn, st->item, &k, out, sizeof(*out));
	if (err == XSELL_ENOENT) {
		out->in_stock = 1;
	}
	if (snap != 0 && (err == XSELL_OK || err == XSELL_ENOENT)) {
		xs_item_cache_put_meta(
		    &st->item_cache, item, snap, out, err == XSELL_OK);
	}
	return err;
}

xsell_err
xs_store_meta_put(
    xs_store *st, MDB_txn *txn, uint32_t item, const struct xs_item_meta *m)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, item);

	xs_store_mark_items(st);
	return xs_record_put(txn, st->item, &k, m, sizeof(*m));
}
