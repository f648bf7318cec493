/* SPDX-License-Identifier: MIT */
/* The write-ahead log's marks in the store. Meta "wal_seq": the sequence
 * number of the last log entry whose write is in the store. It is put in
 * the same transaction as the writes it covers, so after any crash the
 * store says exactly which entries a replay must skip (server/wal.c).
 * Meta "wal_refused": entries at the log's end that were refused and
 * could not be cut off the log, recorded by a stop that could not apply
 * the entries before them; the next start applies up to them and leaves
 * them out. Both are fixed-size records like the totals (records.c's
 * helpers). */
#include "store/store_impl.h"

#include <assert.h>
#include <string.h>

#define WAL_SEQ_KEY "wal_seq"
#define WAL_REFUSED_KEY "wal_refused"

xsell_err
xs_store_wal_seq_get(xs_store *st, MDB_txn *txn, uint64_t *seqp)
{
	MDB_val   k   = xs_key_span(WAL_SEQ_KEY, strlen(WAL_SEQ_KEY));
	uint64_t  seq = 0;
	xsell_err err = xs_record_get(txn, st->meta, &k, &seq, sizeof(seq));

	if (err == XSELL_ENOENT) {
		err = XSELL_OK; /* no entry applied yet: 0 */
	}
	if (err == XSELL_OK) {
		*seqp = seq;
	}
	return err;
}

xsell_err
xs_store_wal_seq_put(xs_store *st, MDB_txn *txn, uint64_t seq)
{
	MDB_val k = xs_key_span(WAL_SEQ_KEY, strlen(WAL_SEQ_KEY));

	return xs_record_put(txn, st->meta, &k, &seq, sizeof(seq));
}

xsell_err
xs_store_wal_refused_get(
    xs_store *st, MDB_txn *txn, uint64_t *firstp, uint64_t *lastp)
{
	MDB_val   k = xs_key_span(WAL_REFUSED_KEY, strlen(WAL_REFUSED_KEY));
	uint64_t  range[2] = { 0, 0 };
	xsell_err err = xs_record_get(txn, st->meta, &k, range, sizeof(range));

	if (err == XSELL_ENOENT) {
		err = XSELL_OK; /* none: 0, 0 */
	}
	if (err == XSELL_OK && (range[0] == 0) != (range[1] == 0)) {
		err = XSELL_ECORRUPT;
	}
	if (err == XSELL_OK && range[0] > range[1]) {
		err = XSELL_ECORRUPT;
	}
	if (err == XSELL_OK) {
		*firstp = range[0];
		*lastp  = range[1];
	}
	return err;
}

xsell_err
xs_store_wal_refused_put(
    xs_store *st, MDB_txn *txn, uint64_t first, uint64_t last)
{
	MDB_val  k = xs_key_span(WAL_REFUSED_KEY, strlen(WAL_REFUSED_KEY));
	uint64_t range[2] = { first, last };

	assert(first > 0 && first <= last);
	return xs_record_put(txn, st->meta, &k, range, sizeof(range));
}

xsell_err
xs_store_wal_refused_del(xs_store *st, MDB_txn *txn)
{
	MDB_val k  = xs_key_span(WAL_REFUSED_KEY, strlen(WAL_REFUSED_KEY));
	int     rc = mdb_del(txn, st->meta, &k, NULL);

	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}
