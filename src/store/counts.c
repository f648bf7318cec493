/* SPDX-License-Identifier: MIT */
/* Item counters, XS_COUNTS_CHUNK items to a record. Scoring a neighbour
 * list needs N_b for every neighbour; with chunks, 4,000 neighbours cost
 * a few lookups (each a pointer into the map) instead of 4,000. */
#include "store/store_impl.h"

#include <assert.h>
#include <string.h>

#define CHUNK_BYTES (XS_COUNTS_CHUNK * sizeof(struct xs_item_counts))

static xsell_err
chunk_get(xs_store *st, MDB_txn *txn, uint32_t chunk, MDB_val *v)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, chunk);
	int           rc;

	rc = mdb_get(txn, st->counts, &k, v);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (v->mv_size != CHUNK_BYTES) {
		return XSELL_ECORRUPT;
	}
	return XSELL_OK;
}

xsell_err
xs_store_counts_get(
    xs_store *st, MDB_txn *txn, uint32_t item, struct xs_item_counts *out)
{
	MDB_val   v;
	xsell_err err;

	memset(out, 0, sizeof(*out));
	err = chunk_get(st, txn, item / XS_COUNTS_CHUNK, &v);
	if (err == XSELL_ENOENT) {
		return XSELL_OK;
	}
	if (err != XSELL_OK) {
		return err;
	}
	memcpy(out,
	    (const char *) v.mv_data +
	        (item % XS_COUNTS_CHUNK) * sizeof(struct xs_item_counts),
	    sizeof(*out));
	return XSELL_OK;
}

static uint32_t
add_clamped(uint32_t v, int32_t d)
{
	int64_t r = (int64_t) v + d;

	if (r < 0) {
		return 0;
	}
	if (r > UINT32_MAX) {
		return UINT32_MAX;
	}
	return (uint32_t) r;
}

static bool
chunk_is_zero(const struct xs_item_counts *rows)
{
	for (unsigned i = 0; i < XS_COUNTS_CHUNK; i++) {
		for (int c = 0; c < XS_C_COUNT; c++) {
			if (rows[i].c[c] != 0) {
				return false;
			}
		}
	}
	return true;
}

xsell_err
xs_store_counts_add(
    xs_store *st, MDB_txn *txn, const struct xs_count_delta *deltas, size_t n)
{
	static _Thread_local struct xs_item_counts rows[XS_COUNTS_CHUNK];
	size_t                                     i = 0;

	while (i < n) {
		uint32_t      chunk = deltas[i].item / XS_COUNTS_CHUNK;
		unsigned char kb[4];
		MDB_val       k = xs_key_u32(kb, chunk);
		MDB_val       v;
		xsell_err     err;

		err = chunk_get(st, txn, chunk, &v);
		if (err == XSELL_OK) {
			memcpy(rows, v.mv_data, CHUNK_BYTES);
		} else if (err == XSELL_ENOENT) {
			memset(rows, 0, CHUNK_BYTES);
		} else {
			return err;
		}
		for (; i < n && deltas[i].item / XS_COUNTS_CHUNK == chunk;
		     i++) {
			struct xs_item_counts *r =
			    &rows[deltas[i].item % XS_COUNTS_CHUNK];

			assert(i == 0 || deltas[i - 1].item < deltas[i].item);
			for (int c = 0; c < XS_C_COUNT; c++) {
				if (deltas[i].d[c] != 0) {
					xs_store_mark_count(st, c);
				}
				r->c[c] = add_clamped(r->c[c], deltas[i].d[c]);
			}
		}
		if (chunk_is_zero(rows)) {
			int rc = mdb_del(txn, st->counts, &k, NULL);

			err = xs_err_from_mdb(rc == MDB_NOTFOUND ? 0 : rc);
		} else {
			v.mv_data = rows;
			v.mv_size = CHUNK_BYTES;
			err       = xs_err_from_mdb(
			          mdb_put(txn, st->counts, &k, &v, 0));
		}
		if (err != XSELL_OK) {
			return err;
		}
	}
	return XSELL_OK;
}

void
xs_counts_reader_init(struct xs_counts_reader *r, xs_store *st, MDB_txn *txn)
{
	r->st  = st;
	r->txn = txn;
	/* A slot's rows are read only once its chunk matches, and fill
	 * sets both: with no chunk matching yet, rows need no clearing. */
	memset(r->chunk, 0xff, sizeof(r->chunk));
}

void
xs_counts_reader_fill(struct xs_counts_reader *r, uint32_t chunk)
{
	uint32_t slot = chunk % XS_COUNTS_READER_SLOTS;
	MDB_val  v;

	r->chunk[slot] = chunk;
	r->rows[slot]  = NULL;
	if (chunk_get(r->st, r->txn, chunk, &v) == XSELL_OK) {
		r->rows[slot] = v.mv_data;
	}
}
