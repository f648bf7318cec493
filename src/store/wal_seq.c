/* SPDX-License-Identifier: MIT */
/* The write-ahead log's mark in the store (meta "wal_seq"): the sequence
 * number of the last log entry whose write is in the store. It is put in
 * the same transaction as the writes it covers, so after any crash the
 * store says exactly which entries a replay must skip (server/wal.c). It
 * is a fixed-size record like the totals (records.c's helpers). */
#include "store/store_impl.h"

#include <string.h>

#define WAL_SEQ_KEY "wal_seq"

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
