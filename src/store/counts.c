/* SPDX-License-Identifier: MIT */
/* Item counters, XS_COUNTS_CHUNK items to a record. Scoring a neighbour
 * list needs N_b for every neighbour; with chunks, 4,000 neighbours cost
 * a few lookups (each a pointer into the map) instead of 4,000. */
#include "store/store_impl.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
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
	memset(r, 0, offsetof(struct xs_counts_reader, chunk));
	r->st  = st;
	r->txn = txn;
	/* A slot's rows are read only once its chunk matches, and fill
	 * sets both: with no chunk matching yet, rows need no clearing. */
	memset(r->chunk, 0xff, sizeof(r->chunk));
}

void
xs_counts_reader_fini(struct xs_counts_reader *r)
{
	for (int c = 0; c < XS_C_COUNT; c++) {
		xs_store_memo_release(r->held[c]);
		free(r->made[c]);
		r->held[c]  = NULL;
		r->made[c]  = NULL;
		r->dense[c] = NULL;
	}
}

/* Chunks of the catalogue: one past the last chunk's number (0: none). */
static uint32_t
chunks_in_store(xs_store *st, MDB_txn *txn)
{
	MDB_cursor *cur;
	MDB_val     k, v;
	uint32_t    n = 0;

	if (mdb_cursor_open(txn, st->counts, &cur) != 0) {
		return 0;
	}
	if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 4) {
		n = xs_be32_get(k.mv_data) + 1;
	}
	mdb_cursor_close(cur);
	return n;
}

/* The memo key of counter 'which''s array: the kind, the family whose
 * commits change the counter (so that they retire it), the counter. */
static uint64_t
dense_key(enum xs_count which)
{
	return (uint64_t) XS_ITEM_MEMO_COUNTS << 60 |
	    (uint64_t) xs_count_family(which) << 56 | (uint64_t) which;
}

/* Counter 'which' of items [0, n_chunks * XS_COUNTS_CHUNK), malloc'd;
 * NULL if out of memory or a chunk is unreadable. */
static uint32_t *
dense_make(xs_store *st, MDB_txn *txn, enum xs_count which, uint32_t n_chunks)
{
	uint32_t *v = calloc((size_t) n_chunks * XS_COUNTS_CHUNK, sizeof(*v));
	MDB_cursor *cur;
	MDB_val     k, d;
	int         rc;

	if (v == NULL || mdb_cursor_open(txn, st->counts, &cur) != 0) {
		free(v);
		return NULL;
	}
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		const struct xs_item_counts *rows = d.mv_data;
		uint32_t                     chunk;

		if (k.mv_size != 4 || d.mv_size != CHUNK_BYTES ||
		    (chunk = xs_be32_get(k.mv_data)) >= n_chunks) {
			break;
		}
		for (uint32_t i = 0; i < XS_COUNTS_CHUNK; i++) {
			/* rows are in the map, aligned to 2 only */
			memcpy(&v[chunk * XS_COUNTS_CHUNK + i],
			    &rows[i].c[which], sizeof(*v));
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		free(v);
		return NULL;
	}
	return v;
}

/* Counter 'which''s array for r's snapshot, from the memo or made (and
 * kept), once the reader has fetched enough chunks; else nothing, and
 * the reader goes on by chunk. Only where memos are kept (a read
 * transaction) and there is room: an array made for one answer alone
 * costs more than it saves. */
static void
dense_seek(struct xs_counts_reader *r, enum xs_count which)
{
	uint64_t key = dense_key(which);
	size_t   len, bytes;

	if (r->n_chunks == 0) {
		r->n_chunks = chunks_in_store(r->st, r->txn);
	}
	if (r->fills < r->n_chunks / 16) {
		return; /* sought again at a later fill */
	}
	r->dense_tried |= 1u << which;
	if (r->n_chunks == 0 ||
	    r->n_chunks > XS_COUNTS_DENSE_MAX / XS_COUNTS_CHUNK ||
	    !xs_store_memo_kept(r->st, r->txn)) {
		return;
	}
	bytes = (size_t) r->n_chunks * XS_COUNTS_CHUNK * sizeof(uint32_t);
	if (xs_store_item_memo_hold(
	        r->st, r->txn, key, &r->held[which], &len)) {
		r->dense[which]   = r->held[which];
		r->dense_n[which] = (uint32_t) (len / sizeof(uint32_t));
		return;
	}
	if (!xs_store_item_memo_room(r->st, r->txn, bytes) ||
	    (r->made[which] = dense_make(r->st, r->txn, which, r->n_chunks)) ==
	        NULL) {
		return;
	}
	xs_store_item_memo_put(r->st, r->txn, key, r->made[which], bytes);
	r->dense[which]   = r->made[which];
	r->dense_n[which] = r->n_chunks * XS_COUNTS_CHUNK;
}

void
xs_counts_reader_fill(
    struct xs_counts_reader *r, uint32_t chunk, enum xs_count which)
{
	uint32_t slot = chunk % XS_COUNTS_READER_SLOTS;
	MDB_val  v;

	r->chunk[slot] = chunk;
	r->rows[slot]  = NULL;
	if (chunk_get(r->st, r->txn, chunk, &v) == XSELL_OK) {
		r->rows[slot] = v.mv_data;
	}
	if (++r->fills >= XS_COUNTS_DENSE_AFTER &&
	    (r->dense_tried & 1u << which) == 0) {
		dense_seek(r, which);
	}
}
