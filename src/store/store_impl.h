/* SPDX-License-Identifier: MIT */
/* Shared by the store's own files only: the handle and the byte helpers
 * for big-endian keys. */
#ifndef XSELL_STORE_STORE_IMPL_H
#define XSELL_STORE_STORE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/store.h"

struct xs_memo {
	size_t        txnid; /* 0: empty */
	unsigned char key[XS_MEMO_KEY_MAX];
	size_t        key_len;
	void         *data; /* a shared blob's bytes (memo.c) */
	size_t        len;
};

/* Families of writes (epochs.c): each stamped in meta
 * XS_META_EPOCHS_KEY with the txnid of the last commit that changed its
 * records. */
enum xs_family {
	XS_FAM_ORDER,
	XS_FAM_VIEW,
	XS_FAM_CART,
	XS_FAM_ITEMS,  /* item metadata */
	XS_FAM_FORGET, /* orders taken out (forget_user) */
	XS_FAM_COUNT
};
/* Families a store stamped before XS_FAM_FORGET: its record is read as
 * no forget ever taken out orders, which the freshness of a list made
 * since (its stamp, stored with it) does not need. */
#define XS_FAM_COUNT_BEFORE_FORGET XS_FAM_FORGET
#define XS_META_EPOCHS_KEY "epochs"

/* The stamps of the newest snapshot read (epochs.c): a seqlock, so that
 * readers of that snapshot, most of them, need no lock. */
struct xs_epochs {
	atomic_uint      seq; /* odd while written (under memo_mtx) */
	_Atomic size_t   id;
	_Atomic uint64_t e[XS_FAM_COUNT];
};

/* Per-item memos (memo.c), by key; open addressing, a slot empty while
 * its data is NULL. An entry is good for every snapshot whose 'sig' for
 * the families its key reads (item_memo_sig) is the entry's. */
struct xs_item_memo_slot {
	uint64_t key;
	uint64_t sig;
	void    *data; /* a shared blob's bytes */
	size_t   len;
	bool     used; /* put or held since the last eviction round */
};

struct xs_item_memo {
	size_t                    newest; /* the newest snapshot put from */
	size_t                    swept;  /* the snapshot last swept for */
	struct xs_item_memo_slot *slots;  /* cap of them, malloc'd */
	size_t                    cap, n; /* cap: a power of two, or 0 */
	size_t                    bytes;  /* held in all, <= budget */
	size_t                    budget; /* xs_store_opts.memo_size */
	uint64_t                  hits, misses; /* holds, since open */
};

/* The item cache (item_cache.c): items' external ids and metadata read
 * once and kept, in pages of slots made as items are read, ids below
 * XS_ITEM_CACHE_PAGES x XS_ITEM_CACHE_PAGE_SLOTS only; pages and ids
 * together within 'budget' bytes. Lock-free: readers of any thread. */
#define XS_ITEM_CACHE_PAGE_SLOTS 1024u
#define XS_ITEM_CACHE_PAGES 4096u /* ids below 2^22 */
#define XS_ITEM_META_WORDS 5u
struct xs_item_slot;
struct xs_item_cache {
	_Atomic(struct xs_item_slot *) pages[XS_ITEM_CACHE_PAGES];
	atomic_size_t                  bytes;  /* pages and ids held */
	size_t                         budget; /* xs_store_opts.memo_size */
};

/* item's external id if kept: *extp stays valid until the store
 * closes. */
bool xs_item_cache_ext(
    struct xs_item_cache *c, uint32_t item, const char **extp, size_t *lenp);
/* Keep a copy of item's external id, read from a committed snapshot
 * (a write transaction's new number may yet go to another id); the
 * copy kept (valid until the store closes), or 'data' if none is. */
const char *xs_item_cache_put_ext(
    struct xs_item_cache *c, uint32_t item, const char *data, size_t len);
/* item's metadata as read in version 'snap' of the metadata (a nonzero
 * number shared by the snapshots that read the same metadata, larger
 * for later ones) into *out: 1 if it was stored, 0 if the item had none
 * (*out then the default), -1 if no copy of that version is kept. */
int xs_item_cache_meta(struct xs_item_cache *c, uint32_t item, uint64_t snap,
    struct xs_item_meta *out);
/* Keep item's metadata as read in version 'snap' by a committed
 * snapshot ('stored': it had some), unless a newer version's copy is
 * kept. */
void xs_item_cache_put_meta(struct xs_item_cache *c, uint32_t item,
    uint64_t snap, const struct xs_item_meta *m, bool stored);
/* Bytes held now (pages and ids). */
size_t xs_item_cache_bytes(struct xs_item_cache *c);
/* Free all it holds; at close. */
void xs_item_cache_fini(struct xs_item_cache *c);

/* Scratch indexes given back (scratch.c). */
struct xs_index_pool {
	pthread_mutex_t mtx;
	struct {
		uint32_t *p;
		size_t    cap;
	} free[XS_INDEX_POOL];
	size_t n_free;
	size_t bytes; /* of every array made and not freed, lent or kept */
};
void xs_store_index_pool_fini(struct xs_store *st);

struct xs_store;
struct xs_orders_held;
/* Keep an order record for the end of a fresh build (bulk.c). */
xsell_err xs_store_orders_held_put(struct xs_orders_held *h, const char *ext,
    size_t len, const struct xs_order_rec *rec, const uint32_t *items);
/* qsort order of top list entries, best first: count descending, then
 * b ascending (top.c; bulk.c builds the same lists with it). */
int xs_top_entry_cmp_best(const void *x, const void *y);

/* One user's records held through a fresh build (users_held.c): a set
 * of the 16-byte duplicates of bought, cart or history, sorted as LMDB
 * sorts them (memcmp). */
#define XS_USER_REC_LEN 16
enum xs_user_set {
	XS_USER_BOUGHT,
	XS_USER_CART,
	XS_USER_HISTORY,
	XS_USER_SETS
};
struct xs_user_recs {
	unsigned char *v; /* n records, room for 'room' */
	size_t         n, room;
	bool           stored; /* the store held some when it was read */
};
struct xs_users_held;
/* The held set 'which' of 'user' (read from txn when another user's are
 * held: theirs are written first); *setp NULL when the store holds no
 * user's records (xs_store_users_hold): then the caller uses the B-tree. */
xsell_err xs_users_held_set(struct xs_store *st, MDB_txn *txn, uint32_t user,
    enum xs_user_set which, struct xs_user_recs **setp);
/* Write the held user's records, if any, and hold none until the next
 * xs_users_held_set (for a caller that reads the databases otherwise). */
xsell_err xs_users_held_release(struct xs_store *st, MDB_txn *txn);
/* The first record of s not below rec. */
size_t xs_user_recs_lower_bound(
    const struct xs_user_recs *s, const unsigned char rec[XS_USER_REC_LEN]);
xsell_err xs_user_recs_insert(struct xs_user_recs *s, size_t i,
    const unsigned char rec[XS_USER_REC_LEN]);
void      xs_user_recs_remove(struct xs_user_recs *s, size_t i);

static inline unsigned char *
xs_user_recs_at(const struct xs_user_recs *s, size_t i)
{
	return s->v + i * XS_USER_REC_LEN;
}

/* Open the optional lists' sub-database (comp.c): created when
 * writable, absent (st->comp 0) in an older store opened read-only. */
int xs_store_comp_open(struct xs_store *st, MDB_txn *txn); /* mdb rc */

/* txn's snapshot id if it reads committed state (a read-only
 * transaction), else 0 (memo.c). */
size_t xs_store_snapshot_id(struct xs_store *st, MDB_txn *txn);
/* Stamp write transaction txn's txnid in meta XS_META_COMMIT_KEY, as
 * xs_txn_commit does (snapshot.c). */
#define XS_META_COMMIT_KEY "commit"
xsell_err xs_store_commit_stamp(MDB_txn *txn);
/* Make read transaction txn, just begun or renewed, read the commit its
 * txnid names, renewing it if need be (snapshot.c); XSELL_EUNAVAIL, txn
 * reset, if commits kept landing as it began. */
xsell_err xs_store_snapshot_settle(MDB_txn *txn);
/* The families whose records rel's lists read: its pairs, and the
 * counters and total its scores read, all of the same family. */
unsigned xs_rel_families(enum xs_rel rel);
/* Mark, for the write transaction under way, what it changed. */
void xs_store_mark_rel(struct xs_store *st, enum xs_rel rel);
void xs_store_mark_count(struct xs_store *st, enum xs_count c);
/* The family whose commits change counter c. */
enum xs_family xs_count_family(enum xs_count c);
void           xs_store_mark_items(struct xs_store *st); /* item metadata */
void           xs_store_mark_forget(struct xs_store *st);
void xs_store_mark_totals(struct xs_store *st, const struct xs_totals *old,
    const struct xs_totals *now);
/* Forget the marks (a write transaction begins). */
void xs_store_marks_clear(struct xs_store *st);
/* Write each family marked with txn's txnid (xs_txn_commit). */
xsell_err xs_store_epochs_stamp(struct xs_store *st, MDB_txn *txn);
/* The stamps txn reads (all 0 in a store with none); false if the
 * record cannot be read. */
bool xs_store_epochs_read(
    struct xs_store *st, MDB_txn *txn, uint64_t e[XS_FAM_COUNT]);
/* The same for read transaction txn of snapshot 'id', read from the
 * store once a snapshot. */
bool xs_store_snapshot_epochs(
    struct xs_store *st, MDB_txn *txn, size_t id, uint64_t e[XS_FAM_COUNT]);
/* Free the memos (memo.c); at close. */
void xs_store_memo_fini(struct xs_store *st);

/* Slots of the users asked (xs_store_user_asked_before): 128 KiB. */
#define XS_USERS_ASKED_BITS 14

struct xs_store {
	MDB_env             *env;
	MDB_dbi              meta;
	MDB_dbi              dict_id[XS_DICT_COUNT];  /* ext -> u32 */
	MDB_dbi              dict_ext[XS_DICT_COUNT]; /* u32 BE -> ext */
	MDB_dbi              order;
	MDB_dbi              batch;
	MDB_dbi              item;
	MDB_dbi              counts;
	MDB_dbi              pair;
	MDB_dbi              top;
	MDB_dbi              bought;
	MDB_dbi              history;
	MDB_dbi              cart;
	MDB_dbi              ledger;
	MDB_dbi              comp; /* 0: none (comp.c) */
	bool                 read_only;
	bool                 write_map; /* opened with MDB_WRITEMAP */
	unsigned             top_m;     /* from meta "top_m" */
	atomic_uint          marks;     /* the write's families (epochs.c) */
	pthread_mutex_t      memo_mtx;
	struct xs_memo       memo[XS_MEMO_COUNT];
	struct xs_item_memo  item_memo; /* under memo_mtx */
	struct xs_epochs     epochs_seen;
	struct xs_item_cache item_cache;
	struct xs_index_pool index_pool;
	/* The last user asked in each slot (memo.c's
	 * xs_store_user_asked_before): the user's number, then the low 32
	 * bits of the snapshot's stamp on the counts; 0: none. */
	_Atomic uint64_t users_asked[1u << XS_USERS_ASKED_BITS];

	/* Order records of a fresh build, not yet written (bulk.c). */
	struct xs_orders_held *orders_held;
	/* One user's bought, cart and history of a fresh build, not yet
	 * written (users_held.c); NULL: none held. */
	struct xs_users_held *users_held;
};

static inline void
xs_be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

static inline uint32_t
xs_be32_get(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
	    ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static inline void
xs_be64_put(unsigned char *p, uint64_t v)
{
	xs_be32_put(p, (uint32_t) (v >> 32));
	xs_be32_put(p + 4, (uint32_t) v);
}

static inline uint64_t
xs_be64_get(const unsigned char *p)
{
	return ((uint64_t) xs_be32_get(p) << 32) | xs_be32_get(p + 4);
}

/* A u32 key in caller storage. */
static inline MDB_val
xs_key_u32(unsigned char buf[4], uint32_t v)
{
	MDB_val k;

	xs_be32_put(buf, v);
	k.mv_data = buf;
	k.mv_size = 4;
	return k;
}

/* A (u8 relation, u32 a) key in caller storage: the pair and top
 * databases' key. */
#define XS_REL_KEY_LEN 5

static inline MDB_val
xs_key_rel(unsigned char buf[XS_REL_KEY_LEN], enum xs_rel rel, uint32_t a)
{
	MDB_val k;

	buf[0] = (unsigned char) rel;
	xs_be32_put(buf + 1, a);
	k.mv_data = buf;
	k.mv_size = XS_REL_KEY_LEN;
	return k;
}

static inline MDB_val
xs_key_span(const char *p, size_t len)
{
	MDB_val k;

	k.mv_data = (void *) p;
	k.mv_size = len;
	return k;
}

/* Fixed-size records (records.c), copied in and out with memcpy (LMDB
 * aligns values only to 2 bytes). xs_record_get copies the value at 'k'
 * in 'dbi' into out[0..size): zeros and XSELL_ENOENT if absent,
 * XSELL_ECORRUPT if it is not 'size' bytes. xs_record_put writes
 * in[0..size) at 'k'. Inside 'txn' (a write transaction for put). */
xsell_err xs_record_get(
    MDB_txn *txn, MDB_dbi dbi, MDB_val *k, void *out, size_t size);
xsell_err xs_record_put(
    MDB_txn *txn, MDB_dbi dbi, MDB_val *k, const void *in, size_t size);

#endif /* XSELL_STORE_STORE_IMPL_H */
