/* SPDX-License-Identifier: MIT */
/* Which commit a read transaction reads. The item cache and the memos
 * keep what a reader read under the reader's snapshot, named by its
 * txnid (xs_store_snapshot_id), and serve it to every reader of that
 * snapshot.
 *
 * LMDB 0.9 begins a read transaction by reading the last commit's
 * txnid, then copying that commit's meta page from slot txnid & 1. A
 * reader stalled between the two while two more commits land copies the
 * later commit's roots under the earlier txnid: it reads a later
 * snapshot than its name says, and what it keeps would reach the earlier
 * snapshot's readers. With more threads than cores this happened here
 * about once in 10,000 commits (a reader named 1,718 read commit
 * 2,000's data).
 *
 * So every commit through xs_txn_commit stamps its txnid in meta
 * "commit", and a reader just begun that reads a later stamp than its
 * name is begun again. The store's open commits unstamped: it changes
 * nothing a reader keeps (the schema stamp, top_m, an empty database),
 * so a reader it misnames reads what its name's readers keep, unless a
 * stamped commit came between, whose stamp gives it away. Most
 * need not read the stamp: slot txnid & 1 is rewritten only by commit
 * txnid + 2, which cannot begin before commit txnid + 1 is visible, so
 * if no later commit is visible once the copy is made, it was the named
 * one. */
#include "store/store_impl.h"

#include <stdatomic.h>
#include <string.h>

/* Times a read transaction is begun again before giving up: each try
 * fails only if the reader stalls as it begins while two commits land. */
#define SNAPSHOT_TRIES 64

/* The store txn is a transaction of (xs_store_open sets it). */
static xs_store *
store_of(MDB_txn *txn)
{
	return mdb_env_get_userctx(mdb_txn_env(txn));
}

static MDB_val
commit_key(void)
{
	return xs_key_span(XS_META_COMMIT_KEY, strlen(XS_META_COMMIT_KEY));
}

xsell_err
xs_store_commit_stamp(MDB_txn *txn)
{
	MDB_val  k  = commit_key();
	uint64_t id = mdb_txn_id(txn);

	return xs_record_put(txn, store_of(txn)->meta, &k, &id, sizeof(id));
}

/* The stamp txn reads; 0 if none (a store no commit of this xsell has
 * written since an older one made it). */
static uint64_t
commit_stamp_read(MDB_txn *txn)
{
	MDB_val   k  = commit_key();
	uint64_t  id = 0;
	xsell_err err =
	    xs_record_get(txn, store_of(txn)->meta, &k, &id, sizeof(id));

	return err == XSELL_OK ? id : 0;
}

/* Whether read transaction txn reads the commit its txnid names. */
static bool
snapshot_named_right(MDB_txn *txn)
{
	MDB_envinfo info;
	uint64_t    id = mdb_txn_id(txn);

	atomic_thread_fence(memory_order_acquire); /* after the copy */
	if (mdb_env_info(mdb_txn_env(txn), &info) == 0 &&
	    info.me_last_txnid == id) {
		return true;
	}
	return commit_stamp_read(txn) <= id;
}

xsell_err
xs_store_snapshot_settle(MDB_txn *txn)
{
	for (int tries = 1; !snapshot_named_right(txn); tries++) {
		int rc;

		mdb_txn_reset(txn);
		if (tries == SNAPSHOT_TRIES) {
			return XSELL_EUNAVAIL;
		}
		rc = mdb_txn_renew(txn);
		if (rc != 0) {
			return xs_err_from_mdb(rc);
		}
	}
	return XSELL_OK;
}
