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

/* The families a per-item memo reads, by its key (store.h): a list
 * kind's, those of its relation (bits 56..59); a counter's array, its
 * family (bits 56..59); a user's for_you candidates, those of the
 * counts; 0 for any other, which is good for its own snapshot only. */
static unsigned
key_families(uint64_t key)
{
	unsigned kind = (unsigned) (key >> 60);

	if (kind == XS_ITEM_MEMO_COUNTS) {
		return 1u << (key >> 56 & 15); /* counts.c's dense_key */
	}
	if (kind == XS_ITEM_MEMO_FOR_YOU) {
		/* Seeds' lists of three relations, momentum from the trend
		 * lists and counters, bought items: every family of counts
		 * (its maker checks the user's history, picks_memo.c). */
		return 1u << XS_FAM_ORDER | 1u << XS_FAM_VIEW |
		    1u << XS_FAM_CART | 1u << XS_FAM_FORGET;
	}
	if (kind != XS_ITEM_MEMO_SEED_LIST && kind != XS_ITEM_MEMO_BEST_LIST &&
	    kind != XS_ITEM_MEMO_CART_LIST) {
		return 0;
	}
	return xs_rel_families((enum xs_rel)(key >> 56 & 15));
}

/* Whether a per-item memo's maker checks it itself (a complements list
 * an answer made, by its stamp): it is good for any snapshot, so no
 * commit retires it, and a full memo's sweep lets it go (its maker
 * makes it again). */
static bool
key_self_checked(uint64_t key)
{
	return (unsigned) (key >> 60) == XS_ITEM_MEMO_MADE_COMP_LIST;
}

/* What an entry of 'key' is keyed to in snapshot 'id' of stamps e: for
 * the families it reads, the newest of their stamps (a commit changing
 * one stamps it with its txnid, above all stamps before); for none, the
 * snapshot itself; for a self-checked one, nothing (0). */
static uint64_t
item_memo_sig(uint64_t key, size_t id, const uint64_t *e)
{
	unsigned families = key_families(key);
	uint64_t sig      = 0;

	if (key_self_checked(key)) {
		return 0;
	}
	if (families == 0) {
		return id;
	}
	for (int f = 0; f < XS_FAM_COUNT; f++) {
		if (families & 1u << f && e[f] > sig) {
			sig = e[f];
		}
	}
	return sig;
}

static size_t
item_slot_of(size_t cap, uint64_t key)
{
	return (size_t) ((key * 0x9e3779b97f4a7c15u) >> 32) & (cap - 1);
}

/* The slot of 'key' in slots[0..cap), or the empty slot where it would
 * go. */
static struct xs_item_memo_slot *
item_slot_find(struct xs_item_memo_slot *slots, size_t cap, uint64_t key)
{
	size_t j = item_slot_of(cap, key);

	while (slots[j].data != NULL && slots[j].key != key) {
		j = (j + 1) & (cap - 1);
	}
	return &slots[j];
}

/* Empty im's slot j, its entry (counted out of n and bytes) let go, and
 * move back the entries after it in its run that may sit nearer their
 * home, as linear probing's deletion does: every entry stays reachable
 * from its home without a tombstone, and no table is made anew. An
 * entry moves only from a later slot of the run to an earlier one. */
static void
item_slot_delete(struct xs_item_memo *im, size_t j)
{
	size_t mask = im->cap - 1;

	im->n--;
	im->bytes -= im->slots[j].len;
	blob_release(im->slots[j].data);
	im->slots[j].data = NULL;
	for (size_t k = (j + 1) & mask; im->slots[k].data != NULL;
	     k        = (k + 1) & mask) {
		size_t home = item_slot_of(im->cap, im->slots[k].key);

		/* k's entry stays if its home is in (j, k], cyclically. */
		if (((k - home) & mask) < ((k - j) & mask)) {
			continue;
		}
		im->slots[j]      = im->slots[k];
		im->slots[k].data = NULL;
		j                 = k;
	}
}

/* One pass over every entry of im: 'drop' says which to let go (and may
 * change those it keeps). It starts after an empty slot, which no run
 * crosses, so that an entry moved back by a deletion comes from a slot
 * the pass has not reached yet and is looked at once, where it lands. */
static void
item_memo_pass(struct xs_item_memo *im,
    bool (*drop)(void *ctx, struct xs_item_memo_slot *slot), void *ctx)
{
	size_t mask = im->cap - 1, start = 0, j;

	if (im->n == 0) { /* also no table yet */
		return;
	}
	while (im->slots[start].data != NULL) { /* at most half are full */
		start++;
	}
	j = (start + 1) & mask;
	for (size_t seen = 1; seen < im->cap;) {
		if (im->slots[j].data != NULL && drop(ctx, &im->slots[j])) {
			item_slot_delete(im, j); /* j again: what moved in */
			continue;
		}
		j = (j + 1) & mask;
		seen++;
	}
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

/* Move the entries of old[0..old_cap) into im's (empty) slots. */
static void
item_memo_refill(
    struct xs_item_memo *im, struct xs_item_memo_slot *old, size_t old_cap)
{
	for (size_t j = 0; j < old_cap; j++) {
		if (old[j].data != NULL) {
			*item_slot_find(im->slots, im->cap, old[j].key) =
			    old[j];
		}
	}
}

/* Slots of the first table: one for every 256 bytes of the budget (a
 * full memo's entries averaged 1 KB on the 1M-line generated store), so
 * that it seldom grows. Growing took 54 ms under the memo's lock at
 * 65,536 entries, most of it faulting in the new table's pages: a
 * reader waited that long (bench/RESULTS.md, "The memo's table made
 * once"). Untouched, its pages cost nothing; it is at most 40 MiB. */
static size_t
item_memo_first_cap(size_t budget)
{
	size_t cap = 256;

	while (cap < budget / 256 && cap < (size_t) 1 << 20) {
		cap *= 2;
	}
	return cap;
}

/* Room for one more entry at a load of at most a half; false if memory
 * is short. */
static bool
item_memo_reserve(struct xs_item_memo *im)
{
	struct xs_item_memo_slot *old     = im->slots;
	size_t                    old_cap = im->cap;
	size_t cap = old_cap ? old_cap * 2 : item_memo_first_cap(im->budget);

	if ((im->n + 1) * 2 <= old_cap) {
		return true;
	}
	im->slots = calloc(cap, sizeof(*im->slots));
	if (im->slots == NULL) {
		im->slots = old;
		return false;
	}
	im->cap = cap;
	item_memo_refill(im, old, old_cap);
	free(old);
	return true;
}

/* What a sweep for snapshot 'id' of stamps e lets go. */
struct sweep {
	size_t          id;
	const uint64_t *e;
};

/* An entry snapshot 'id' cannot use, or a self-checked one. */
static bool
sweep_drops(void *ctx, struct xs_item_memo_slot *slot)
{
	const struct sweep *sw = ctx;

	return key_self_checked(slot->key) ||
	    slot->sig != item_memo_sig(slot->key, sw->id, sw->e);
}

/* Let go of the entries snapshot 'id' (stamps e, the newest put from)
 * cannot use, once a snapshot: they stay until the memo is full, for
 * most outlive the commits that follow them. */
static void
item_memo_sweep(struct xs_item_memo *im, size_t id, const uint64_t *e)
{
	struct sweep sw = { id, e };

	if (im->swept == id || im->cap == 0) {
		return;
	}
	im->swept = id;
	item_memo_pass(im, sweep_drops, &sw);
}

struct evict {
	const struct xs_item_memo *im;
	size_t                     target; /* bytes held after, with len */
	size_t                     len;
};

/* An entry unused since the last round while the memo is still past its
 * target; an entry kept starts the next round unused. */
static bool
evict_drops(void *ctx, struct xs_item_memo_slot *slot)
{
	const struct evict *ev = ctx;

	if (!slot->used && ev->im->bytes + ev->len > ev->target) {
		return true;
	}
	slot->used = false;
	return false;
}

/* A full memo's round of second chances: the entries no answer put or
 * held since the round before are let go, in slot order, until 'len'
 * more bytes fit in three quarters of the budget (so that the rounds
 * are a quarter of the budget's puts apart); every entry kept starts
 * the next round unused. Without it, a memo full of entries still good
 * kept what it took first: on the 10M-line generated store, whose hot
 * lists outgrow the default budget, a cart's p99 after a few seconds
 * was 815-987 us, every cart needing a list it did not hold walking
 * (bench/RESULTS.md, "Warming until the memos are half full"). */
static void
item_memo_evict(struct xs_item_memo *im, size_t len)
{
	struct evict ev = { im, im->budget - im->budget / 4, len };

	item_memo_pass(im, evict_drops, &ev);
}

/* Make room for 'len' more bytes, if they do not fit, by letting go of
 * what snapshot 'id' (stamps e) cannot use, then of what no answer used
 * lately. */
static void
item_memo_make_room(
    struct xs_item_memo *im, size_t id, const uint64_t *e, size_t len)
{
	if (im->bytes + len > im->budget) {
		item_memo_sweep(im, id, e);
	}
	if (im->bytes + len > im->budget) {
		item_memo_evict(im, len);
	}
}

/* Keep blob b's bytes (len of them) under 'key' with signature 'sig',
 * replacing what the key held (into *oldp, for the caller to let go);
 * false if there is no room. */
static bool
item_memo_keep(struct xs_item_memo *im, uint64_t key, uint64_t sig,
    struct memo_blob *b, size_t len, void **oldp)
{
	struct xs_item_memo_slot *slot;

	if (!item_memo_reserve(im)) {
		return false;
	}
	slot = item_slot_find(im->slots, im->cap, key);
	if (im->bytes - (slot->data ? slot->len : 0) + len > im->budget) {
		return false;
	}
	if (slot->data == NULL) {
		im->n++;
	} else {
		im->bytes -= slot->len;
		*oldp = slot->data;
	}
	slot->key  = key;
	slot->sig  = sig;
	slot->data = b->data;
	slot->len  = len;
	slot->used = true;
	im->bytes += len;
	return true;
}

/* Whether snapshot 'id' is the newest put from (so its entries may be
 * kept), marking it so if it is newer; an older one keeps nothing. */
static bool
item_memo_newest(struct xs_item_memo *im, size_t id)
{
	if (id > im->newest) {
		im->newest = id;
	}
	return id == im->newest;
}

bool
xs_store_item_memo_room(xs_store *st, MDB_txn *txn, size_t len)
{
	size_t               id = xs_store_snapshot_id(st, txn);
	struct xs_item_memo *im = &st->item_memo;
	uint64_t             e[XS_FAM_COUNT];
	bool                 room;

	if (id == 0 || !xs_store_snapshot_epochs(st, txn, id, e)) {
		return false;
	}
	pthread_mutex_lock(&st->memo_mtx);
	room = item_memo_newest(im, id);
	if (room) {
		item_memo_make_room(im, id, e, len);
		room = im->bytes + len <= im->budget;
	}
	pthread_mutex_unlock(&st->memo_mtx);
	return room;
}

/* The entry of 'key' for txn's snapshot, held: one good for it (*agep
 * XS_MEMO_FRESH) or, if 'older' is set, one a list kind's maker made
 * from an older snapshot of the same relation (XS_MEMO_OLDER: its
 * signature, the stamp of the families it reads, is below the
 * snapshot's). Counted a hit only when fresh. */
static bool
item_memo_look(xs_store *st, MDB_txn *txn, uint64_t key, bool older,
    const void **datap, size_t *lenp, enum xs_memo_age *agep)
{
	size_t                    id       = xs_store_snapshot_id(st, txn);
	unsigned                  families = key_families(key);
	struct xs_item_memo      *im       = &st->item_memo;
	struct xs_item_memo_slot *slot;
	uint64_t                  e[XS_FAM_COUNT] = { 0 };
	bool                      hit = false, stale = false;

	*datap = NULL;
	*lenp  = 0;
	if (id == 0 ||
	    (families != 0 && !xs_store_snapshot_epochs(st, txn, id, e))) {
		return false;
	}
	older = older && families != 0 && !key_self_checked(key);
	pthread_mutex_lock(&st->memo_mtx);
	if (im->cap != 0) {
		uint64_t sig = item_memo_sig(key, id, e);

		slot  = item_slot_find(im->slots, im->cap, key);
		hit   = slot->data != NULL && slot->sig == sig;
		stale = !hit && older && slot->data != NULL && slot->sig < sig;
		if (hit || stale) {
			slot->used = true;
			atomic_fetch_add_explicit(&blob_of(slot->data)->refs,
			    1, memory_order_relaxed);
			*datap = slot->data;
			*lenp  = slot->len;
		}
	}
	/* Counted under the lock the look takes anyway. */
	im->hits += hit;
	im->misses += !hit;
	pthread_mutex_unlock(&st->memo_mtx);
	*agep = stale ? XS_MEMO_OLDER : XS_MEMO_FRESH;
	return hit || stale;
}

bool
xs_store_item_memo_hold(
    xs_store *st, MDB_txn *txn, uint64_t key, const void **datap, size_t *lenp)
{
	enum xs_memo_age age;

	return item_memo_look(st, txn, key, false, datap, lenp, &age);
}

bool
xs_store_item_memo_hold_aged(xs_store *st, MDB_txn *txn, uint64_t key,
    const void **datap, size_t *lenp, enum xs_memo_age *agep)
{
	return item_memo_look(st, txn, key, true, datap, lenp, agep);
}

void
xs_store_item_memo_put(
    xs_store *st, MDB_txn *txn, uint64_t key, const void *data, size_t len)
{
	size_t               id = xs_store_snapshot_id(st, txn);
	struct xs_item_memo *im = &st->item_memo;
	struct memo_blob    *b;
	uint64_t             e[XS_FAM_COUNT];
	void                *old = NULL;

	if (id == 0 || !xs_store_snapshot_epochs(st, txn, id, e) ||
	    (b = blob_alloc(data, len)) == NULL) {
		return;
	}
	pthread_mutex_lock(&st->memo_mtx);
	/* An older snapshot's reader keeps nothing; a full memo, once
	 * rid of what its snapshot cannot use, neither. A put for a key
	 * kept replaces it: its maker found it wanting. */
	if (item_memo_newest(im, id)) {
		item_memo_make_room(im, id, e, len);
		if (item_memo_keep(
		        im, key, item_memo_sig(key, id, e), b, len, &old)) {
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
xs_store_item_memo_usage(xs_store *st, struct xs_item_memo_usage *u)
{
	pthread_mutex_lock(&st->memo_mtx);
	u->items  = st->item_memo.n;
	u->bytes  = st->item_memo.bytes;
	u->hits   = st->item_memo.hits;
	u->misses = st->item_memo.misses;
	u->budget = st->item_memo.budget;
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

/* ==== Users asked before ==== */

bool
xs_store_user_asked_before(xs_store *st, MDB_txn *txn, uint32_t user)
{
	size_t   id = xs_store_snapshot_id(st, txn);
	size_t   slot;
	uint64_t e[XS_FAM_COUNT], sig, mark;

	if (id == 0 || !xs_store_snapshot_epochs(st, txn, id, e)) {
		return false;
	}
	sig  = item_memo_sig((uint64_t) XS_ITEM_MEMO_FOR_YOU << 60, id, e);
	mark = (uint64_t) user << 32 | (uint32_t) sig;
	slot = (uint32_t) (user * 0x9e3779b1u) >> (32 - XS_USERS_ASKED_BITS);
	return atomic_exchange_explicit(
	           &st->users_asked[slot], mark, memory_order_relaxed) == mark;
}
