/* SPDX-License-Identifier: MIT */
/* Memos: derived data kept per committed snapshot (store.h). Readers of
 * the same snapshot share one; the first reader of a newer snapshot
 * replaces it. Only committed state is memoised: a write transaction's
 * id is one past the last commit, and what it computes mid-way may not
 * be what it commits. */
#include "store/store_impl.h"

#include <stdlib.h>
#include <string.h>

/* txn's snapshot id if it reads committed state, else 0. */
static size_t
committed_id(xs_store *st, MDB_txn *txn)
{
	MDB_envinfo info;
	size_t      id = mdb_txn_id(txn);

	if (mdb_env_info(st->env, &info) != 0 || id > info.me_last_txnid) {
		return 0;
	}
	return id;
}

bool
xs_store_memo_get(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, void **datap, size_t *lenp)
{
	size_t          id = committed_id(st, txn);
	struct xs_memo *m  = &st->memo[slot];
	bool            hit;

	*datap = NULL;
	*lenp  = 0;
	if (id == 0 || key_len > XS_MEMO_KEY_MAX) {
		return false;
	}
	pthread_mutex_lock(&st->memo_mtx);
	hit = m->txnid == id && m->key_len == key_len &&
	    memcmp(m->key, key, key_len) == 0;
	if (hit) {
		*datap = malloc(m->len ? m->len : 1);
		hit    = *datap != NULL;
		if (hit) {
			memcpy(*datap, m->data, m->len);
			*lenp = m->len;
		}
	}
	pthread_mutex_unlock(&st->memo_mtx);
	return hit;
}

void
xs_store_memo_put(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, const void *data, size_t len)
{
	size_t          id = committed_id(st, txn);
	struct xs_memo *m  = &st->memo[slot];
	void           *copy;

	/* An older snapshot's reader must not replace a newer memo. */
	if (id == 0 || key_len > XS_MEMO_KEY_MAX ||
	    (copy = malloc(len ? len : 1)) == NULL) {
		return;
	}
	memcpy(copy, data, len);
	pthread_mutex_lock(&st->memo_mtx);
	if (id >= m->txnid) {
		free(m->data);
		m->txnid   = id;
		m->key_len = key_len;
		memcpy(m->key, key, key_len);
		m->data = copy;
		m->len  = len;
		copy    = NULL;
	}
	pthread_mutex_unlock(&st->memo_mtx);
	free(copy);
}

void
xs_store_memo_fini(xs_store *st)
{
	for (int s = 0; s < XS_MEMO_COUNT; s++) {
		free(st->memo[s].data);
	}
	pthread_mutex_destroy(&st->memo_mtx);
}
