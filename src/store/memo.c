/* SPDX-License-Identifier: MIT */
/* Memos: derived data kept per committed snapshot (store.h). Readers of
 * the same snapshot share one; the first reader of a newer snapshot
 * replaces it. Only committed state is memoised: a write transaction's
 * id is one past the last commit, and what it computes mid-way may not
 * be what it commits. */
#include "store/store_impl.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A memo's bytes, shared by the memo and its holders
 * (xs_store_memo_hold): the last of them frees it, so a commit that
 * retires the memo leaves what a reader still holds intact. A memo's
 * 'data' is a blob's data. */
struct memo_blob {
	atomic_size_t refs;
	alignas(max_align_t) unsigned char data[];
};

/* A blob holding a copy of data[0..len), one reference; NULL if memory
 * is short. */
static struct memo_blob *
blob_alloc(const void *data, size_t len)
{
	struct memo_blob *b = malloc(sizeof(*b) + (len ? len : 1));

	if (b != NULL) {
		atomic_init(&b->refs, 1);
		memcpy(b->data, data, len);
	}
	return b;
}

static struct memo_blob *
blob_of(const void *data)
{
	return (struct memo_blob *) (void *) ((const unsigned char *) data -
	    offsetof(struct memo_blob, data));
}

/* Drop one reference to the blob of 'data' (NULL: nothing). */
static void
blob_release(const void *data)
{
	struct memo_blob *b;

	if (data == NULL) {
		return;
	}
	b = blob_of(data);
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) ==
	    1) {
		free(b);
	}
}

size_t
xs_store_snapshot_id(xs_store *st, MDB_txn *txn)
{
	MDB_envinfo info;
	size_t      id = mdb_txn_id(txn);

	if (mdb_env_info(st->env, &info) != 0 || id > info.me_last_txnid) {
		return 0;
	}
	return id;
}

bool
xs_store_memo_kept(xs_store *st, MDB_txn *txn)
{
	return xs_store_snapshot_id(st, txn) != 0;
}

bool
xs_store_memo_hold(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, const void **datap, size_t *lenp)
{
	size_t          id = xs_store_snapshot_id(st, txn);
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
		atomic_fetch_add_explicit(
		    &blob_of(m->data)->refs, 1, memory_order_relaxed);
		*datap = m->data;
		*lenp  = m->len;
	}
	pthread_mutex_unlock(&st->memo_mtx);
	return hit;
}

/* A copy of what xs_store_memo_hold lends (the copy is made outside
 * the memo's lock). */
bool
xs_store_memo_get(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, void **datap, size_t *lenp)
{
	const void *held;
	size_t      len;

	*datap = NULL;
	*lenp  = 0;
	if (!xs_store_memo_hold(st, txn, slot, key, key_len, &held, &len)) {
		return false;
	}
	*datap = malloc(len ? len : 1);
	if (*datap != NULL) {
		memcpy(*datap, held, len);
		*lenp = len;
	}
	blob_release(held);
	return *datap != NULL;
}

void
xs_store_memo_release(const void *data)
{
	blob_release(data);
}

void
xs_store_memo_put(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, const void *data, size_t len)
{
	size_t            id = xs_store_snapshot_id(st, txn);
	struct xs_memo   *m  = &st->memo[slot];
	struct memo_blob *b;
	void             *old = NULL;

	/* An older snapshot's reader must not replace a newer memo. */
	if (id == 0 || key_len > XS_MEMO_KEY_MAX ||
	    (b = blob_alloc(data, len)) == NULL) {
		return;
	}
	pthread_mutex_lock(&st->memo_mtx);
	if (id >= m->txnid) {
		old        = m->data;
		m->txnid   = id;
		m->key_len = key_len;
		memcpy(m->key, key, key_len);
		m->data = b->data;
		m->len  = len;
		b       = NULL;
	}
	pthread_mutex_unlock(&st->memo_mtx);
	blob_release(old);
	if (b != NULL) {
		free(b); /* a newer memo is kept */
	}
}

/* ==== Per-item memos ==== */

static size_t
item_slot_of(const struct xs_item_memo *im, uint64_t key)
{
	return (size_t) ((key * 0x9e3779b97f4a7c15u) >> 32) & (im->cap - 1);
}

/* The slot of 'key', or the empty slot where it would go. */
static struct xs_item_memo_slot *
item_slot_find(const struct xs_item_memo *im, uint64_t key)
{
	size_t j = item_slot_of(im, key);

	while (im->slots[j].data != NULL && im->slots[j].key != key) {
		j = (j + 1) & (im->cap - 1);
	}
	return &im->slots[j];
}

/* Let every entry go (the memo's references; holders keep theirs). */
static void
item_memo_clear(struct xs_item_memo *im)
{
	for (size_t j = 0; j < im->cap; j++) {
		blob_release(im->slots[j].data);
		im->slots[j].data = NULL;
	}
	im->n     = 0;
	im->bytes = 0;
}

/* Room for one more entry at a load of at most a half; false if memory
 * is short. */
static bool
item_memo_reserve(struct xs_item_memo *im)
{
	struct xs_item_memo_slot *old     = im->slots;
	size_t                    old_cap = im->cap;
	size_t                    cap     = old_cap ? old_cap * 2 : 256;

	if ((im->n + 1) * 2 <= old_cap) {
		return true;
	}
	im->slots = calloc(cap, sizeof(*im->slots));
	if (im->slots == NULL) {
		im->slots = old;
		return false;
	}
	im->cap = cap;
	for (size_t j = 0; j < old_cap; j++) {
		if (old[j].data != NULL) {
			*item_slot_find(im, old[j].key) = old[j];
		}
	}
	free(old);
	return true;
}

bool
xs_store_item_memo_room(xs_store *st, MDB_txn *txn, size_t len)
{
	size_t               id = xs_store_snapshot_id(st, txn);
	struct xs_item_memo *im = &st->item_memo;
	bool                 room;

	if (id == 0) {
		return false;
	}
	pthread_mutex_lock(&st->memo_mtx);
	/* A newer snapshot's first put retires all there is; an older
	 * snapshot's reader keeps nothing. */
	room = id > im->txnid ||
	    (id == im->txnid && im->bytes + len <= im->budget);
	pthread_mutex_unlock(&st->memo_mtx);
	return room;
}

bool
xs_store_item_memo_hold(
    xs_store *st, MDB_txn *txn, uint64_t key, const void **datap, size_t *lenp)
{
	size_t                    id = xs_store_snapshot_id(st, txn);
	struct xs_item_memo      *im = &st->item_memo;
	struct xs_item_memo_slot *slot;
	bool                      hit = false;

	*datap = NULL;
	*lenp  = 0;
	if (id == 0) {
		return false;
	}
	pthread_mutex_lock(&st->memo_mtx);
	if (im->txnid == id && im->cap != 0) {
		slot = item_slot_find(im, key);
		hit  = slot->data != NULL;
		if (hit) {
			atomic_fetch_add_explicit(&blob_of(slot->data)->refs,
			    1, memory_order_relaxed);
			*datap = slot->data;
			*lenp  = slot->len;
		}
	}
	pthread_mutex_unlock(&st->memo_mtx);
	return hit;
}

void
xs_store_item_memo_put(
    xs_store *st, MDB_txn *txn, uint64_t key, const void *data, size_t len)
{
	size_t                    id = xs_store_snapshot_id(st, txn);
	struct xs_item_memo      *im = &st->item_memo;
	struct xs_item_memo_slot *slot;
	struct memo_blob         *b;
	void                     *old = NULL;

	if (id == 0 || (b = blob_alloc(data, len)) == NULL) {
		return;
	}
	pthread_mutex_lock(&st->memo_mtx);
	if (id > im->txnid) {
		item_memo_clear(im); /* a commit retired them */
		im->txnid = id;
	}
	/* An older snapshot's reader keeps nothing; a full memo neither.
	 * A put for a key kept replaces it: its maker found it wanting. */
	if (id == im->txnid && item_memo_reserve(im)) {
		slot = item_slot_find(im, key);
		if (im->bytes - (slot->data ? slot->len : 0) + len <=
		    im->budget) {
			if (slot->data == NULL) {
				im->n++;
			} else {
				im->bytes -= slot->len;
				old = slot->data;
			}
			slot->key  = key;
			slot->data = b->data;
			slot->len  = len;
			im->bytes += len;
			b = NULL;
		}
	}
	pthread_mutex_unlock(&st->memo_mtx);
	blob_release(old);
	if (b != NULL) {
		free(b);
	}
}

void
xs_store_item_memo_usage(xs_store *st, uint64_t *itemsp, uint64_t *bytesp)
{
	pthread_mutex_lock(&st->memo_mtx);
	*itemsp = st->item_memo.n;
	*bytesp = st->item_memo.bytes;
	pthread_mutex_unlock(&st->memo_mtx);
}

void
xs_store_memo_fini(xs_store *st)
{
	for (int s = 0; s < XS_MEMO_COUNT; s++) {
		blob_release(st->memo[s].data);
	}
	item_memo_clear(&st->item_memo);
	free(st->item_memo.slots);
	xs_item_cache_fini(&st->item_cache);
	xs_store_index_pool_fini(st);
	pthread_mutex_destroy(&st->index_pool.mtx);
	pthread_mutex_destroy(&st->memo_mtx);
}
