/* SPDX-License-Identifier: MIT */
/* The LMDB store: one environment (a directory) with named databases.
 *
 *   meta      "schema" -> u32; "totals" -> struct xs_totals; "top_m",
 *             "commit", "wal_seq", "epochs" (epochs.c): u32, u64, u64,
 *             u64 per family of writes (4 in a store stamped before the
 *             fifth, orders forgotten); "wal_refused" -> u64 first, last
 *             (only from a stop until the next start)
 *   item_id   external item id -> u32 dense id (1-based); item_ext: back
 *   user_id   external user id -> u32;                      user_ext: back
 *   cat_id    category name -> u32;                         cat_ext: back
 *   order     external order id -> struct xs_order_rec + u32 items[]
 *   batch     external batch id -> applied event count (retry dedupe)
 *   item      u32 item -> struct xs_item_meta (category, price, stock)
 *   counts    u32 chunk -> struct xs_item_counts[XS_COUNTS_CHUNK]
 *   pair      (u8 relation, u32 a) -> sorted (u32 b, u32 count), DUPFIXED
 *   top       (u8 relation, u32 a) -> a's top_m strongest (u32 b, u32
 *             count), best first: what answers read (top.c)
 *   bought    u32 user -> sorted (u32 item, u64 last ts, u32 orders)
 *             ever bought, DUPFIXED
 *   history   u32 user -> sorted struct xs_hist_rec (newest N), DUPFIXED
 *   cart      u32 user -> sorted (u32 item, u64 added ts, u32 1): the
 *             open cart
 *   ledger    (u32 user, u32 seq) -> what the user's events added to the
 *             counts, in arrival order; seq 0 is their share of the totals
 *
 * The pair database also holds day-indexed lists under relations of their
 * own: (XS_REL_TREND_BUY, day) -> (item, orders that day), likewise views,
 * and (XS_REL_CREATED, day) -> (item, 1) for items created that day.
 *
 * Why this shape: a neighbour list is one key's sorted duplicates, read
 * page by page with MDB_GET_MULTIPLE at 8 bytes a pair; item counters are
 * chunked so that scoring 4,000 neighbours costs a handful of lookups, not
 * 4,000. Numbers inside keys and sorted duplicates are big-endian so that
 * memcmp order is numeric; plain record values are host-order structs.
 *
 * Threads: the store handle is shared; each transaction belongs to one
 * thread at a time (the env is opened MDB_NOTLS). Writers are serialised
 * by LMDB, also across processes (xsell-load next to xselld). */
#ifndef XSELL_STORE_STORE_H
#define XSELL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "common/common.h"

#define XS_SCHEMA_VERSION 3u

typedef struct xs_store xs_store;

struct xs_store_opts {
	size_t   map_size;    /* bytes of address space; 0: the default */
	unsigned max_readers; /* 0: XS_STORE_MAX_READERS */
	bool     read_only;   /* open without writing (no schema stamp) */
	bool     no_sync;     /* commits skip fsync (bulk load; the loader
	                         syncs once at the end) */
	bool write_map;       /* MDB_WRITEMAP (xsell-load): LMDB writes pages
	                         in the mapped file, with no dirty-page list to
	                         search or spill; no nested transactions. The
	                         file is as long as the map while open (sparse),
	                         cut back to its pages at close. A full disk is
	                         a SIGBUS then, not an error code. */
	unsigned top_m;       /* a new store's neighbours kept per top list,
	                         1..XS_TOP_M_MAX; 0: XS_TOP_M_DEFAULT. An existing
	                         store keeps the number it was made with. */
	size_t memo_size;     /* bytes the per-item memos may hold (memory,
	                         not the file); 0: xs_store_memo_budget_for
	                         the store's bytes in use at open */
};

/* Chosen by xsell-eval (README, "Performance"): fbt, similar and
 * viewed_bought are exact at any top_m; for_you ranks from the top lists,
 * and at 300 its hit rate is within noise of whole lists. */
#define XS_TOP_M_DEFAULT 300u
#define XS_TOP_M_MAX 1000u

#define XS_STORE_MAX_READERS 512u

/* Default map size: address space only, the file grows as it fills. */
#define XS_STORE_MAP_SIZE_DEFAULT ((size_t) 16 << 30)

/* Open (creating if needed) the store in directory 'dir'. A new store is
 * stamped with XS_SCHEMA_VERSION. Returns XSELL_ESCHEMA for a store
 * written by another schema version (no migration: reload it), XSELL_ECORRUPT
 * for an LMDB env that is not an xsell store, XSELL_EIO when the directory is
 * unusable (with the reason logged). On any failure errno is the system's
 * reason when there was one (ENOENT for a missing parent directory, EACCES,
 * ENOTDIR, ENOSPC: what a message should say rather than XSELL_EIO's
 * "input/output error"), else 0 (a refusal of xsell's own, a schema).
 * 'o' may be NULL. Caller closes with xs_store_close. */
xsell_err xs_store_open(
    xs_store **stp, const char *dir, const struct xs_store_opts *o);
/* Close the store; every transaction must have ended. */
void xs_store_close(xs_store *st);

/* Flush to disk what no_sync commits left in the page cache. */
xsell_err xs_store_sync(xs_store *st);
/* xs_store_sync, then xs_store_close, in the other order where that is
 * faster (a write_map store: see env.c); the store is closed either way,
 * and durable when this returns XSELL_OK. */
xsell_err xs_store_close_sync(xs_store *st);

/* Translate an LMDB return code; logs nothing. */
xsell_err xs_err_from_mdb(int rc);
/* How many times, in this process, LMDB has reported damage to its own
 * pages (MDB_CORRUPTED, MDB_PAGE_NOTFOUND) through xs_err_from_mdb:
 * XSELL_ECORRUPT also says a record is damaged, which this tells apart. */
uint64_t xs_store_btree_damage_seen(void);

/* ==== Transactions ==== */

/* Begin a read-only transaction; caller ends it with xs_txn_abort (or
 * keeps it and uses xs_txn_reset / xs_txn_renew). */
xsell_err xs_txn_read(xs_store *st, MDB_txn **txnp);
/* Begin the write transaction; blocks while another writer (thread or
 * process) holds it. */
xsell_err xs_txn_write(xs_store *st, MDB_txn **txnp);
/* Commit, stamping the commit's txnid in meta (snapshot.c), and on each
 * family of records it changed (epochs.c); on failure
 * the transaction is gone and nothing was written. XSELL_EMAPFULL when
 * the map is full, XSELL_EIO on a disk error. */
xsell_err xs_txn_commit(MDB_txn *txn);
void      xs_txn_abort(MDB_txn *txn);
/* Park a read transaction, then take a fresh snapshot with renew. */
void      xs_txn_reset(MDB_txn *txn);
xsell_err xs_txn_renew(MDB_txn *txn);

/* ==== Dictionaries: external string id <-> dense u32 ==== */

enum xs_dict { XS_DICT_ITEM, XS_DICT_USER, XS_DICT_CAT, XS_DICT_COUNT };

/* Look up the dense id of 'ext' (1..XSELL_ID_MAX bytes, not
 * NUL-terminated). XSELL_ENOENT if never seen. */
xsell_err xs_store_id_get(xs_store *st, MDB_txn *txn, enum xs_dict d,
    const char *ext, size_t len, uint32_t *idp);
/* Forget dense 'id' and its external id (both directions). */
xsell_err xs_store_id_del(
    xs_store *st, MDB_txn *txn, enum xs_dict d, uint32_t id);
/* Look up or assign (next free number, from 1) the dense id of 'ext'.
 * *createdp (may be NULL) says whether it was new. Write txn only. */
xsell_err xs_store_id_put(xs_store *st, MDB_txn *txn, enum xs_dict d,
    const char *ext, size_t len, uint32_t *idp, bool *createdp);
/* The external id of dense 'id'; borrowed, valid until the transaction
 * ends or writes. XSELL_ENOENT if unknown. */
xsell_err xs_store_ext_get(xs_store *st, MDB_txn *txn, enum xs_dict d,
    uint32_t id, const char **extp, size_t *lenp);
/* How many ids dictionary 'd' holds now (forgotten users are gone). */
xsell_err xs_store_dict_count(
    xs_store *st, MDB_txn *txn, enum xs_dict d, uint32_t *np);
/* The highest id dictionary 'd' has in use (the next one handed out is
 * one more). */
xsell_err xs_store_dict_size(
    xs_store *st, MDB_txn *txn, enum xs_dict d, uint32_t *np);

/* ==== Orders and batches (idempotency) ==== */

struct xs_order_rec {
	uint32_t user;    /* dense user id, 0 for a guest checkout */
	uint32_t n_items; /* distinct items that were counted */
	int64_t  ts;      /* unix seconds */
};

/* True in *existsp if order 'ext' was stored before. */
xsell_err xs_store_order_exists(
    xs_store *st, MDB_txn *txn, const char *ext, size_t len, bool *existsp);
/* Store order 'ext' with the items that were counted for it (kept so that
 * forgetting a user can take them out again). */
xsell_err xs_store_order_put(xs_store *st, MDB_txn *txn, const char *ext,
    size_t len, const struct xs_order_rec *rec, const uint32_t *items);

/* The stored order 'ext': its record and counted items (borrowed, valid
 * until the txn writes or ends; unaligned: copy with memcpy).
 * XSELL_ENOENT if unknown. */
xsell_err xs_store_order_get(xs_store *st, MDB_txn *txn, const char *ext,
    size_t len, struct xs_order_rec *rec, const void **itemsp);
/* Delete order 'ext' (forget_user): a commit that deletes one is the
 * newest xs_store_orders_forgotten_at of the snapshots after it. */
xsell_err xs_store_order_del(
    xs_store *st, MDB_txn *txn, const char *ext, size_t len);
/* The txnid of the newest commit before txn's snapshot that deleted
 * orders (0: none, or its stamp cannot be read): what was
 * derived from the orders of a snapshot older than it may still hold
 * the orders taken out (complements' lists check it). */
uint64_t xs_store_orders_forgotten_at(xs_store *st, MDB_txn *txn);
/* The txnid of the newest commit before txn's snapshot that took orders
 * in or out (0: none; UINT64_MAX: its stamp cannot be read, so take it
 * as just changed). What only a commit of orders can make stale need
 * not be looked at again while it stays the same (xselld's complements
 * refresher, idle). */
uint64_t xs_store_orders_changed_at(xs_store *st, MDB_txn *txn);

/* True in *seenp if batch id 'ext' was applied before. */
xsell_err xs_store_batch_seen(
    xs_store *st, MDB_txn *txn, const char *ext, size_t len, bool *seenp);
xsell_err xs_store_batch_put(
    xs_store *st, MDB_txn *txn, const char *ext, size_t len);

/* ==== Totals ==== */

struct xs_totals {
	uint64_t baskets; /* orders with at least one counted item: N */
	uint64_t orders;  /* orders stored (idempotency records) */
	uint64_t events;  /* events applied, all types */
	uint64_t views;   /* view events */
	uint64_t carts;   /* cart_add events */
	uint64_t ratings; /* rating events */
	/* Counted for the relations (N of their scores): views that were
	 * not a repeat within a session, and adds of an item not already in
	 * the cart. */
	uint64_t views_counted;
	uint64_t carts_counted;
};

xsell_err xs_store_totals_get(
    xs_store *st, MDB_txn *txn, struct xs_totals *out);
xsell_err xs_store_totals_put(
    xs_store *st, MDB_txn *txn, const struct xs_totals *t);

/* The sequence number of the last write-ahead log entry applied to the
 * store (meta "wal_seq", wal_seq.c; 0: none yet). Put it in the
 * transaction that applies the entries it covers, so that a replay after
 * a crash skips exactly those. XSELL_ECORRUPT for a value of the wrong
 * size. */
xsell_err xs_store_wal_seq_get(xs_store *st, MDB_txn *txn, uint64_t *seqp);
xsell_err xs_store_wal_seq_put(xs_store *st, MDB_txn *txn, uint64_t seq);

/* The write-ahead log's entries first..last, refused (their writers
 * answered with an error) and left at the log's end, which a stop
 * recorded because it could not cut them off the log nor apply the
 * entries before them (meta "wal_refused", wal_seq.c). The next start
 * applies the log up to 'first' and records 'last' as applied without
 * them (a "wal_seq" put), deleting this mark in the same transaction.
 * _get gives 0, 0 when there is none, XSELL_ECORRUPT for a value of the
 * wrong size or an empty range; _put wants 0 < first <= last; _del
 * deletes it (XSELL_OK if there is none). */
xsell_err xs_store_wal_refused_get(
    xs_store *st, MDB_txn *txn, uint64_t *firstp, uint64_t *lastp);
xsell_err xs_store_wal_refused_put(
    xs_store *st, MDB_txn *txn, uint64_t first, uint64_t last);
xsell_err xs_store_wal_refused_del(xs_store *st, MDB_txn *txn);

/* ==== Item metadata ==== */

#define XS_META_HAS_PRICE 0x01u
#define XS_META_HAS_CREATED 0x02u
#define XS_META_HAS_STOCK 0x04u

struct xs_item_meta {
	uint32_t category; /* dense category id, 0: none */
	uint32_t flags;    /* XS_META_HAS_* */
	double   price;
	int64_t  created;  /* unix seconds */
	int64_t  stock_ts; /* when in_stock last changed */
	uint32_t in_stock; /* 1 or 0; an item never told is in stock */
	uint32_t reserved;
};

/* XSELL_ENOENT if no metadata was ever stored; *out is then the default
 * (no category, in stock). */
xsell_err xs_store_meta_get(
    xs_store *st, MDB_txn *txn, uint32_t item, struct xs_item_meta *out);
xsell_err xs_store_meta_put(
    xs_store *st, MDB_txn *txn, uint32_t item, const struct xs_item_meta *m);

/* ==== Item counters ==== */

enum xs_count {
	XS_C_BASKETS,    /* orders holding the item (N_a) */
	XS_C_BUYERS,     /* distinct known users who bought it */
	XS_C_VIEWS,      /* counted views (N_a of the view relation) */
	XS_C_CARTS,      /* counted cart adds (N_a of the cart relation) */
	XS_C_VIEW_BUYS,  /* orders a view of the item preceded (view_buy) */
	XS_C_REBUYS,     /* purchases by a user who had bought it before */
	XS_C_REBUY_DAYS, /* days between those purchases, summed */
	XS_C_COUNT
};

struct xs_item_counts {
	uint32_t c[XS_C_COUNT];
};

#define XS_COUNTS_CHUNK 256u

struct xs_count_delta {
	uint32_t item;
	int32_t  d[XS_C_COUNT];
};

/* Counters of one item (zeros if none). */
xsell_err xs_store_counts_get(
    xs_store *st, MDB_txn *txn, uint32_t item, struct xs_item_counts *out);
/* Add deltas, which must be sorted by item and unique; one chunk write per
 * chunk touched. A counter never goes below 0; a chunk left all zeros is
 * deleted (so counts taken out again leave no trace). */
xsell_err xs_store_counts_add(
    xs_store *st, MDB_txn *txn, const struct xs_count_delta *deltas, size_t n);

/* Chunks a counts reader keeps at once (a power of two): every chunk
 * of a catalogue of up to 65,536 items. At 64, the 196 chunks of the
 * 50M-line generated store (50,000 items) took turns in the slots, and
 * each turn cost a B-tree search again: for_you there spent a third
 * more CPU with its seed lists derived afresh (bench/RESULTS.md). */
#define XS_COUNTS_READER_SLOTS 256u

/* A reader that has fetched this many chunks, and so walks a large part
 * of the catalogue (a popular item's neighbours), reads each counter it
 * is asked for from one array of that counter for every item instead
 * (xs_counts_reader_get), made once per snapshot and kept as a memo: 4
 * bytes an item against a 28-byte row in a chunk of the map. At 50,000
 * items a counter's array is 200 KB and stays in cache, where the rows
 * (1.4 MB) do not: a cart's answers there took half the time, and
 * for_you's four fifths (bench/RESULTS.md). */
#define XS_COUNTS_DENSE_AFTER 8u
/* No array for a catalogue of more items than this (4 MiB an array):
 * making one would cost more than an answer saves. Nor before the
 * reader has fetched a sixteenth of the chunks. */
#define XS_COUNTS_DENSE_MAX ((uint32_t) 1 << 20)

/* Cached reader for scoring loops: most lookups hit a chunk already
 * fetched. The chunks are kept direct-mapped by chunk number, so a
 * neighbour list spread over the catalogue costs one lookup per
 * distinct chunk (while they fit the slots), not one per change of
 * chunk; past XS_COUNTS_DENSE_AFTER of them, a counter is read from
 * its array for every item. Borrowed from the txn; valid until it ends
 * or writes; ended with xs_counts_reader_fini. */
struct xs_counts_reader {
	xs_store *st;
	MDB_txn  *txn;
	uint32_t  fills;    /* chunks fetched */
	uint32_t  n_chunks; /* the catalogue's, once looked up; 0: not yet */
	unsigned  dense_tried; /* a bit a counter: its array was sought */
	/* Counter c of items [0, dense_n[c]), or NULL: read by chunk. */
	const uint32_t *dense[XS_C_COUNT];
	uint32_t        dense_n[XS_C_COUNT];
	const void     *held[XS_C_COUNT]; /* the memo's, to release */
	uint32_t       *made[XS_C_COUNT]; /* made here, to free */
	/* chunk number in each slot; UINT32_MAX: none yet (no chunk has
	 * that number: item numbers are 32-bit) */
	uint32_t                     chunk[XS_COUNTS_READER_SLOTS];
	const struct xs_item_counts *rows[XS_COUNTS_READER_SLOTS]; /* NULL:
	                                     chunk absent (zeros) */
};
void xs_counts_reader_init(
    struct xs_counts_reader *r, xs_store *st, MDB_txn *txn);
/* Give back the counters' arrays the reader holds. */
void xs_counts_reader_fini(struct xs_counts_reader *r);
/* Fetch 'chunk' into its slot (rows NULL if absent or unreadable); once
 * enough chunks were fetched, seek counter 'which''s array. */
void xs_counts_reader_fill(
    struct xs_counts_reader *r, uint32_t chunk, enum xs_count which);

/* Counter 'which' of 'item' (0 on any error). Inline: scoring calls it
 * for every neighbour, and a hit is a few instructions. */
static inline uint32_t
xs_counts_reader_get(
    struct xs_counts_reader *r, uint32_t item, enum xs_count which)
{
	uint32_t chunk = item / XS_COUNTS_CHUNK;
	uint32_t slot  = chunk % XS_COUNTS_READER_SLOTS;
	uint32_t value;

	if (r->dense[which] == NULL && r->chunk[slot] != chunk) {
		xs_counts_reader_fill(r, chunk, which);
	}
	if (r->dense[which] != NULL) {
		return item < r->dense_n[which] ? r->dense[which][item] : 0;
	}
	if (r->rows[slot] == NULL) {
		return 0;
	}
	/* The rows point into the map, which only aligns them to 2. */
	memcpy(&value, &r->rows[slot][item % XS_COUNTS_CHUNK].c[which],
	    sizeof(value));
	return value;
}

/* ==== Pairs ==== */

enum xs_rel {
	XS_REL_BASKET = 1, /* a and b in one order; symmetric */
	XS_REL_VIEW,       /* viewed by one user within a session; symmetric */
	XS_REL_VIEW_BUY,   /* a viewed, then b bought; directed */
	XS_REL_CART,       /* in one user's cart together; symmetric */
	/* Day-indexed lists (a is a day number, ts / 86400): */
	XS_REL_TREND_BUY,  /* (day, item) -> orders holding it that day */
	XS_REL_TREND_VIEW, /* (day, item) -> counted views that day */
	XS_REL_CREATED,    /* (day, item) -> 1: the item was created then */
	XS_REL_END         /* one past the last */
};

struct xs_pair_delta {
	uint32_t a, b;
	int32_t  d;
};

/* Add pair deltas for relation 'rel', sorted by (a, b) and unique. A pair
 * whose count reaches 0 is deleted. */
xsell_err xs_store_pairs_add(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    const struct xs_pair_delta *deltas, size_t n);

/* Call cb for every neighbour b of 'a' with its count, in ascending b.
 * An error returned by cb stops the walk and is returned. */
typedef xsell_err (*xs_pair_cb)(void *ctx, uint32_t b, uint32_t count);
xsell_err xs_store_pairs_each(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    uint32_t a, xs_pair_cb cb, void *ctx);
/* The same, calling cb only for the pairs whose count is at least
 * 'min_count'. */
xsell_err xs_store_pairs_each_min(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    uint32_t a, uint32_t min_count, xs_pair_cb cb, void *ctx);

struct xs_top_entry; /* (b, count), under "Top neighbour lists" */

/* Every pair of 'a' under 'rel' at once, in ascending b: *vp (from
 * 'arena', valid until it is reset; NULL if a has none) holds *np. For
 * merging a list against a sorted set of items, where one read of the
 * list costs less than a B-tree search per item. XSELL_ETOOBIG (nothing
 * allocated) when a has more than 'max_n' pairs, XSELL_ENOMEM when the
 * arena's cap is too small for them. */
xsell_err xs_store_pairs_read(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    uint32_t a, size_t max_n, struct xs_arena *arena, struct xs_top_entry **vp,
    size_t *np);

/* The largest a that has a list under 'rel' (the newest day of a
 * day-indexed relation). XSELL_ENOENT if none. */
xsell_err xs_store_pairs_last_a(
    xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t *ap);

/* Count of (a, b), 0 if none. */
xsell_err xs_store_pair_get(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    uint32_t a, uint32_t b, uint32_t *countp);

/* ==== Memo (memo.c) ==== */

/* Data derived from one committed state of the store and kept for the
 * next reader of that same state: trending sums weeks of daily lists,
 * and every picks answer that falls back to it would sum them again. A
 * memo belongs to the store handle and is good for the snapshot it was
 * made from (its transaction id) and its key; any commit retires it. */
enum xs_memo_slot {
	XS_MEMO_TREND,
	XS_MEMO_MOMENTUM,      /* complements' factors */
	XS_MEMO_PICK_MOMENTUM, /* for_you's (another weight) */
	XS_MEMO_COUNT
};

#define XS_MEMO_KEY_MAX 32

/* A malloc'd copy of the memo in 'slot' made from txn's snapshot with
 * the same key bytes (at most XS_MEMO_KEY_MAX) in *datap, its size in
 * *lenp; false if there is none (or txn is a write transaction, whose
 * state is not committed yet). */
bool xs_store_memo_get(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, void **datap, size_t *lenp);
/* The memo itself, as xs_store_memo_get finds it, without a copy:
 * *datap is read-only and shared, and stays valid (also after a commit
 * retires the memo) until the caller gives it to xs_store_memo_release.
 * For memos read on every answer, where the copy was the cost. */
bool xs_store_memo_hold(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, const void **datap, size_t *lenp);
/* Let go of what xs_store_memo_hold gave (NULL: nothing). */
void xs_store_memo_release(const void *data);
/* Keep a copy of data[0..len) as the memo of txn's snapshot and key
 * (nothing for a write transaction, or if memory is short). */
void xs_store_memo_put(xs_store *st, MDB_txn *txn, enum xs_memo_slot slot,
    const void *key, size_t key_len, const void *data, size_t len);

/* Per-item memos: data derived from one item (for_you's scored
 * neighbours of a seed, fbt's best candidates of an item) under a 64-bit
 * key (the kind, the item and what it was derived with), many items at
 * once. A list kind's memo (SEED, BEST, CART: the next 4 bits of the
 * key are its relation, as xs_list_memo_key makes them) is good for
 * every snapshot whose stamps on its relation's family of writes are
 * those it was made from (epochs.c); a user's for_you candidates
 * (FOR_YOU) for every snapshot with the same stamps on orders, views,
 * cart adds and forgets; a made complements list (MADE_COMP_LIST)
 * for every snapshot, its maker checking its stamp as a stored list's;
 * any other for its own snapshot only. An older snapshot's reader keeps
 * nothing; a put for a key kept replaces it; entries no longer good for
 * the newest snapshot, and the made complements lists, are let go when
 * the memo is full, and then, if that is not room enough, the entries
 * no put or hold used since the last such round (a second chance),
 * down to three quarters of the budget.
 * At most the store's memo budget is kept (xs_store_opts.memo_size, by
 * default xs_store_memo_budget_for its size). *datap from a hold is
 * shared and read-only until given to xs_store_memo_release. */
#define XS_ITEM_MEMO_BYTES ((size_t) 64 << 20)
/* The budgets xselld's --memo-size takes. */
#define XS_ITEM_MEMO_BYTES_MIN ((size_t) 1 << 20)
#define XS_ITEM_MEMO_BYTES_MAX ((size_t) 1 << 40)
/* A store of this many bytes in use gets one of them in memo budget by
 * default (xs_store_memo_budget_for). */
#define XS_ITEM_MEMO_STORE_SHARE 8u

/* The per-item memos' budget of a store opened without one, from its
 * bytes in use: an eighth of them, at least XS_ITEM_MEMO_BYTES and at
 * most XS_ITEM_MEMO_BYTES_MAX. A fixed 64 MiB suits a shop of a few
 * thousand items but not 50,000 items with full top lists, whose
 * for_you seeds' lists alone are ~240 MB (bench/RESULTS.md). */
size_t xs_store_memo_budget_for(uint64_t store_bytes);

/* What a per-item memo holds: the top 4 bits of its key. */
enum xs_item_memo_kind {
	XS_ITEM_MEMO_SEED_LIST = 1,  /* for_you: a seed's scored neighbours */
	XS_ITEM_MEMO_BEST_LIST,      /* fbt: an item's best candidates */
	XS_ITEM_MEMO_COMP_LIST,      /* complements: an item's, weighed */
	XS_ITEM_MEMO_CART_LIST,      /* fbt of a cart: an item's best pairs */
	XS_ITEM_MEMO_MADE_COMP_LIST, /* complements: an item's list, made by
	                               an answer (its stamp says if fresh) */
	XS_ITEM_MEMO_COUNTS,         /* one counter of every item (counts.c) */
	XS_ITEM_MEMO_FOR_YOU         /* for_you: a user's best candidates,
	                               under the user's number, good while
	                               no family of counts changes (its
	                               maker checks the user's history) */
};

/* Whether 'user' (a number, not 0) was the last user asked of those
 * sharing its slot of a small table, in a snapshot with the same stamps
 * on the counts' families as txn's (no order, view, cart add or forget
 * since), recording it as asked now: for_you keeps a user's best 168
 * candidates (which those commits retire), dearer to pick than the
 * first round's, only for one asked again before they are retired, and
 * a shop's mail run, a stream of new visitors or a store written to
 * every second asks most users once in between. Lock-free; a slot
 * holds one user, so a user asked again after thousands of others may
 * be taken for new. False for a write transaction. */
bool xs_store_user_asked_before(xs_store *st, MDB_txn *txn, uint32_t user);

/* Scratch indexes (scratch.c): a zeroed array of at least n u32 (one per
 * item number, say), its length in *capp, lent until given back with
 * every entry zero again; NULL if n is 0 or past XS_INDEX_MAX, or if
 * memory is short. Kept arrays: one per answer at work at once, at most
 * XS_INDEX_POOL, each as long as the catalogue (4 bytes an item). */
#define XS_INDEX_MAX ((size_t) 1 << 22)
#define XS_INDEX_POOL 16
uint32_t *xs_store_index_take(xs_store *st, size_t n, size_t *capp);
void      xs_store_index_give(xs_store *st, uint32_t *p, size_t cap);
/* Bytes of the scratch indexes made, lent or kept. */
size_t xs_store_index_bytes(xs_store *st);

/* How many per-item memos are held now, their bytes, and how many looks
 * for one found it and did not (since the store opened). */
struct xs_item_memo_usage {
	uint64_t items, bytes, hits, misses;
	uint64_t budget; /* the most bytes they may hold */
};
void xs_store_item_memo_usage(xs_store *st, struct xs_item_memo_usage *u);

/* Whether txn's snapshot can have memos (it reads committed state: not
 * a write transaction). */
bool xs_store_memo_kept(xs_store *st, MDB_txn *txn);

bool xs_store_item_memo_hold(xs_store *st, MDB_txn *txn, uint64_t key,
    const void **datap, size_t *lenp);
/* How a held per-item memo stands to the snapshot that holds it. */
enum xs_memo_age {
	XS_MEMO_FRESH, /* good for it */
	XS_MEMO_OLDER  /* made from an older one (hold_aged only) */
};
/* xs_store_item_memo_hold, or else, for a list kind, the entry the key
 * keeps from an older snapshot: one made before commits that changed
 * its relation's family (*agep XS_MEMO_OLDER, not counted a hit), for a
 * maker that can tell what of it still holds (a cart's lists,
 * cart_lists.c). Never one from a newer snapshot. */
bool xs_store_item_memo_hold_aged(xs_store *st, MDB_txn *txn, uint64_t key,
    const void **datap, size_t *lenp, enum xs_memo_age *agep);
/* Whether a put of 'len' bytes from txn's snapshot would be kept now
 * (so that what is only worth making to keep need not be made). */
bool xs_store_item_memo_room(xs_store *st, MDB_txn *txn, size_t len);
void xs_store_item_memo_put(
    xs_store *st, MDB_txn *txn, uint64_t key, const void *data, size_t len);

/* ==== Top neighbour lists (top.c) ==== */

struct xs_top_entry {
	uint32_t b, count;
};

/* Whether 'rel' keeps top lists (the neighbour relations, not the
 * day-indexed ones). */
bool xs_rel_has_top(enum xs_rel rel);
/* The store's top_m. */
unsigned xs_store_top_m(const xs_store *st);
/* Bring a's list up to date after its pairs changed: 'up' (sorted by b)
 * holds the pairs whose count rose, with their new counts; 'decreased'
 * says some count of a fell (then the list is rebuilt from the pairs).
 * Called by xs_store_pairs_add. */
xsell_err xs_store_top_update(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    uint32_t a, const struct xs_top_entry *up, size_t n_up, bool decreased);
/* Call cb for each of the first 'limit' of a's top neighbours under
 * 'rel', best first (count descending, then b ascending): at most top_m.
 * *wholep (may be NULL): those were all of a's pairs under 'rel'. */
xsell_err xs_store_top_each(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    uint32_t a, size_t limit, xs_pair_cb cb, void *ctx, bool *wholep);

/* ==== Bulk build of pairs and top lists (bulk.c) ==== */

/* Order records of a fresh build, held in memory and appended sorted at
 * the end, so that the order database's pages are written once each
 * (orders come in any order of their ids; put one by one, each lands on
 * a random page of a database that at 50M lines outgrows the page
 * cache's dirty limits). From xs_store_orders_hold on, xs_store_order_put
 * keeps its record in memory (about 30 bytes plus the id and 4 a counted
 * item); xs_store_order_exists, _get and _del see only what is written,
 * so the caller must put each order id once (a bulk load does: its
 * orders are distinct by id); a repeated id fails the write with
 * XSELL_EINVAL. XSELL_EINVAL if the order database is not empty or
 * records are held already. */
xsell_err xs_store_orders_hold(xs_store *st, MDB_txn *txn);
/* Write the held records into txn (MDB_APPEND, in key order) and stop
 * holding. XSELL_EINVAL if none are held or an id is held twice;
 * XSELL_EMAPFULL, XSELL_ENOMEM. Held records are dropped either way. */
xsell_err xs_store_orders_held_write(xs_store *st, MDB_txn *txn);
/* Stop holding, dropping what is held (an aborted build); none: no-op. */
void xs_store_orders_held_drop(xs_store *st);
/* Whether order records are being held. */
bool xs_store_orders_held(const xs_store *st);

/* One user's bought, cart and history records held in memory while a
 * load applies that user's events, and written together (one put a
 * set) when another user's records are asked for: for a load that
 * applies users one after another (a fresh build of orders, by user),
 * where each event would otherwise search and grow the user's records
 * in the B-trees. From xs_store_users_hold on, xs_store_bought_*,
 * xs_store_cart_* and xs_store_history_* read and change the held
 * user's records in memory (reading them from the store first), and
 * xs_store_user_drop writes them before it drops; a callback of an
 * _each function must not ask for another user's records. Other readers
 * (xs_store_dump, statistics) see only what is written, so call
 * xs_store_users_held_write before them, in the same transaction.
 * The held records belong to the handle, not to a transaction: hold
 * only where one thread reads and writes users' records through it
 * (a loader; never a serving xselld, whose readers share the handle).
 * XSELL_EINVAL if the store is read-only or holds records already. */
xsell_err xs_store_users_hold(xs_store *st);
/* Write the held user's records into txn and stop holding. XSELL_EINVAL
 * if not holding; XSELL_EMAPFULL, XSELL_ENOMEM. Dropped either way. */
xsell_err xs_store_users_held_write(xs_store *st, MDB_txn *txn);
/* Stop holding, dropping what is held (an aborted load); none: no-op. */
void xs_store_users_held_drop(xs_store *st);

/* True in *emptyp if the pair and top databases hold nothing (a fresh
 * store): then xs_pair_writer may build them. */
xsell_err xs_store_pairs_empty(xs_store *st, MDB_txn *txn, bool *emptyp);

/* Writes whole neighbour lists into an empty pair database, appending,
 * with each one's top list: for a bulk load that knows every final count
 * before it writes. The store ends up as xs_store_pairs_add would leave
 * it given the same counts as increments. */
typedef struct xs_pair_writer xs_pair_writer;

/* XSELL_EINVAL if the pair or top database is not empty. Inside write
 * txn 'txn', which must outlive the writer; close before it ends. */
xsell_err xs_pair_writer_open(xs_store *st, MDB_txn *txn, xs_pair_writer **wp);
/* Write a's list under 'rel': row[0..n) sorted by b, strictly, every
 * count > 0; (rel, a) strictly ascending from one call to the next.
 * XSELL_EINVAL when either order is broken or a count is 0 (nothing of
 * the row is written then). */
xsell_err xs_pair_writer_put(xs_pair_writer *w, enum xs_rel rel, uint32_t a,
    const struct xs_top_entry *row, size_t n);
void      xs_pair_writer_close(xs_pair_writer *w);

/* ==== Buyers ==== */

/* Record that 'user' bought 'item' at 'ts'. *addedp: the first time;
 * otherwise *prev_tsp is the last purchase before, which moves to 'ts'
 * if that is later, and *prev_countp (may be NULL) the item's order
 * count before, which goes up by one. */
xsell_err xs_store_bought_add(xs_store *st, MDB_txn *txn, uint32_t user,
    uint32_t item, int64_t ts, bool *addedp, int64_t *prev_tsp,
    uint32_t *prev_countp);

/* Call cb for every item 'user' bought, ascending, with its last
 * purchase time and how many of the user's orders held it. */
typedef xsell_err (*xs_item_ts_cb)(
    void *ctx, uint32_t item, int64_t ts, uint32_t count);
xsell_err xs_store_bought_each(
    xs_store *st, MDB_txn *txn, uint32_t user, xs_item_ts_cb cb, void *ctx);

/* ==== Carts ==== */

/* Put 'item' in the user's open cart, added at 'ts'; *addedp false if it
 * was there already (then it takes 'ts' if that is later: added again,
 * it was last added then, for abandoned_cart's age and for a removal or
 * an order dated between the two adds, which leaves it in). */
xsell_err xs_store_cart_add(xs_store *st, MDB_txn *txn, uint32_t user,
    uint32_t item, int64_t ts, bool *addedp);
/* Take 'item' out of the cart if it was added at or before 'until' (an
 * order or a removal does not undo a later add); *removedp false if it
 * was not there or added later. */
xsell_err xs_store_cart_remove(xs_store *st, MDB_txn *txn, uint32_t user,
    uint32_t item, int64_t until, bool *removedp);
/* Every item in the user's cart, ascending, with the time it was added
 * (count 1). */
xsell_err xs_store_cart_each(
    xs_store *st, MDB_txn *txn, uint32_t user, xs_item_ts_cb cb, void *ctx);

/* ==== History ==== */

enum xs_event_type {
	XS_EV_ORDER,
	XS_EV_VIEW,
	XS_EV_CART_ADD,
	XS_EV_CART_REMOVE,
	XS_EV_RATING,
	XS_EV_TYPE_COUNT
};

#define XS_HIST_OUT_OF_STOCK 0x01u /* the item was out of stock then */

struct xs_hist_rec {
	int64_t  ts;
	uint32_t item;
	uint8_t  type;  /* enum xs_event_type */
	uint8_t  value; /* rating 1..5, else 0 */
	uint8_t  flags; /* XS_HIST_* */
	uint8_t  pad;
};

/* Append one event to the user's history and drop the oldest beyond
 * 'max_events'. */
xsell_err xs_store_history_add(xs_store *st, MDB_txn *txn, uint32_t user,
    const struct xs_hist_rec *ev, unsigned max_events);

/* Call cb for every event in the user's history, oldest first or newest
 * first. An error returned by cb stops the walk and is returned. */
typedef xsell_err (*xs_hist_cb)(void *ctx, const struct xs_hist_rec *ev);
xsell_err xs_store_history_each(xs_store *st, MDB_txn *txn, uint32_t user,
    bool newest_first, xs_hist_cb cb, void *ctx);

/* What tells one state of a user's history from another, without
 * reading it all: how many events, and the oldest's and the newest's
 * bytes. Events are kept in time order, and every change adds one,
 * drops the oldest or drops them all; only an event's flags change in
 * place (its item's stock then), which no answer derived from the
 * history kept in memory reads. */
struct xs_hist_tag {
	uint64_t      n;
	unsigned char oldest[16], newest[16];
};
/* The tag of the user's history (zeroed: none); XSELL_EINVAL while a
 * fresh build holds the user's records in memory (users_held.c). */
xsell_err xs_store_history_tag(
    xs_store *st, MDB_txn *txn, uint32_t user, struct xs_hist_tag *tag);

/* ==== Ledger: what each user's events added to the counts ==== */

/* A user's share of the totals, and how many ledger entries they have. */
struct xs_user_summary {
	struct xs_totals totals;
	uint32_t         entries;
	uint32_t         reserved;
};

/* Zeros and XSELL_OK if the user has none. */
xsell_err xs_store_user_summary_get(
    xs_store *st, MDB_txn *txn, uint32_t user, struct xs_user_summary *out);
xsell_err xs_store_user_summary_put(xs_store *st, MDB_txn *txn, uint32_t user,
    const struct xs_user_summary *s);
/* Append entry 'seq' (1-based, the summary's entries after it) for user. */
xsell_err xs_store_ledger_put(xs_store *st, MDB_txn *txn, uint32_t user,
    uint32_t seq, const void *rec, size_t len);
/* Call cb for every entry of the user, in order (borrowed bytes). */
typedef xsell_err (*xs_ledger_cb)(void *ctx, const void *rec, size_t len);
xsell_err xs_store_ledger_each(
    xs_store *st, MDB_txn *txn, uint32_t user, xs_ledger_cb cb, void *ctx);

/* Delete everything kept under the user: history, bought, cart, ledger,
 * summary and both dictionary entries. */
xsell_err xs_store_user_drop(xs_store *st, MDB_txn *txn, uint32_t user);

/* ==== Store size ==== */

struct xs_store_info {
	uint64_t map_size;   /* bytes */
	uint64_t used_bytes; /* pages in use * page size */
	/* Of used_bytes, the pages LMDB freed (its freelist, as of the
	 * newest snapshot): later writes reuse them before the file grows,
	 * and a compacted copy leaves them out (xs_store_copy_compact). */
	uint64_t free_bytes;
	uint32_t readers_used;
	uint32_t readers_max;
	uint64_t memo_items;  /* per-item memos held (retired ones too) */
	uint64_t memo_bytes;  /* their bytes, <= memo_budget */
	uint64_t memo_budget; /* the most they may hold (memo_size) */
	/* Answers' looks for a memo since the store opened: found good for
	 * their snapshot, or not (then derived again). */
	uint64_t memo_hits, memo_misses;
	/* Items' ids and metadata kept (<= memo_budget), and the scratch
	 * indexes made (xs_store_index_take). */
	uint64_t item_cache_bytes, index_bytes;
};
xsell_err xs_store_info_get(xs_store *st, struct xs_store_info *out);

/* Write a copy of the store into directory 'dir' (which must exist and
 * hold no data.mdb): one snapshot, its pages renumbered in tree order
 * and the freed ones left out, so that the copy's file is as long as the
 * data it holds. Readers and writers go on meanwhile (the copy is a read
 * transaction). XSELL_EIO when the copy cannot be written (dir missing,
 * a data.mdb there already, a full disk). */
xsell_err xs_store_copy_compact(xs_store *st, const char *dir);

/* A canonical text dump of every database (numbers decoded), for tests
 * that compare two stores. Caller frees with xs_buf_fini. */
xsell_err xs_store_dump(xs_store *st, struct xs_buf *out);

/* ==== Precomputed complements lists (comp.c) ==== */

/* Entries a stored list may hold. */
#define XS_COMP_LIST_MAX 1000u

/* When, at which state of the store and with which walk a list was
 * computed (model/complements.c says what the fields mean to it). */
struct xs_comp_stamp {
	int64_t  computed_s;  /* unix seconds */
	uint64_t txnid;       /* the snapshot it was computed from */
	double   beta;        /* the walk's popularity penalty */
	double   cutoff;      /* no item left out scored more; 0: complete */
	uint32_t n_a;         /* the item's basket count then */
	uint32_t walk_width;  /* via-items followed */
	uint32_t min_support; /* co-count below it was not walked */
	uint32_t reserved;    /* 0 */
};

/* One second-level item: its walk score before momentum, its best path's
 * part of it (share) through 'via', and count = N(via, item). */
struct xs_comp_entry {
	uint32_t item;
	uint32_t via;
	uint32_t count;
	uint32_t reserved; /* 0 */
	double   score;
	double   share;
};

/* A stored list, borrowed from the txn; valid until it ends or writes. */
struct xs_comp_list {
	struct xs_comp_stamp stamp;
	uint32_t             n;
	uint32_t             n_skip;
	const unsigned char *bytes; /* n entries, unaligned: use the reader */
	const unsigned char *skips; /* n_skip u32 items, ascending */
};

/* Whether this store has the lists' sub-database (a read-only handle of
 * a store written before it existed has not: nothing is stored). */
bool xs_store_comp_has(const xs_store *st);
/* a's list; XSELL_ENOENT if it has none (or one of another format). */
xsell_err xs_store_comp_get(
    xs_store *st, MDB_txn *txn, uint32_t a, struct xs_comp_list *out);
/* Entry i (< l->n) of a list. */
void xs_comp_list_entry(
    const struct xs_comp_list *l, uint32_t i, struct xs_comp_entry *out);
/* Whether 'item' is one of the list's skips. */
bool xs_comp_list_skips(const struct xs_comp_list *l, uint32_t item);
/* A list as one value, as the store keeps it: its bytes for n entries
 * and n_skip skips; written into buf (of that size); read back as a list
 * pointing into data (XSELL_ENOENT if it is not a list of this format).
 * So a list made elsewhere (an answer's, kept in memory) reads as a
 * stored one does. */
size_t    xs_comp_list_size(uint32_t n, uint32_t n_skip);
void      xs_comp_list_write(void *buf, const struct xs_comp_stamp *stamp,
         const struct xs_comp_entry *v, uint32_t n, const uint32_t *skips,
         uint32_t n_skip);
xsell_err xs_comp_list_read(
    const void *data, size_t len, struct xs_comp_list *out);
/* Write a's list: entries v[0..n) and skips[0..n_skip) (ascending), each
 * at most XS_COMP_LIST_MAX (else XSELL_ETOOBIG), replacing the one it
 * had. */
xsell_err xs_store_comp_put(xs_store *st, MDB_txn *txn, uint32_t a,
    const struct xs_comp_stamp *stamp, const struct xs_comp_entry *v,
    uint32_t n, const uint32_t *skips, uint32_t n_skip);

#endif /* XSELL_STORE_STORE_H */
