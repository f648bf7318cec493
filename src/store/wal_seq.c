/* SPDX-License-Identifier: MIT */
/* The write-ahead log's mark in the store (meta "wal_seq"): the sequence
 * number of the last log entry whose write is in the store. It is put in
 * the same transaction as the writes it covers, so after any crash the
 * store says exactly which entries a replay must skip (server/wal.c). */
#include "store/store_impl.h"

#include <string.h>

#define WAL_SEQ_KEY "wal_seq"

xsell_err
xs_store_wal_seq_get(xs_store *st, MDB_txn *txn, uint64_t *seqp)
{
	MDB_val k = xs_key_span(WAL_SEQ_KEY, strlen(WAL_SEQ_KEY));
	MDB_val v;
	int     rc = mdb_get(txn, st->meta, &k, &v);

	if (rc == MDB_NOTFOUND) {
		*seqp = 0;
		return XSELL_OK;
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (v.mv_size != sizeof(*seqp)) {
		return XSELL_ECORRUPT;
	}
	memcpy(seqp, v.mv_data, sizeof(*seqp));
	return XSELL_OK;
}

xsell_err
xs_store_wal_seq_put(xs_store *st, MDB_txn *txn, uint64_t seq)
{
	MDB_val k = xs_key_span(WAL_SEQ_KEY, strlen(WAL_SEQ_KEY));
	MDB_val v = { .mv_size = sizeof(seq), .mv_data = &seq };

	return xs_err_from_mdb(mdb_put(txn, st->meta, &k, &v, 0));
}
