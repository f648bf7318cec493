/* SPDX-License-Identifier: MIT */
/* The accumulator's insides, shared by its files: acc.c (the log, the
 * item counters, the packed keys and buckets, the flush), acc_feed.c
 * (basket pairs appended on a helper thread) and acc_rows.c (the bulk
 * flush's rows, counted a by a, on a helper thread when it can). */
#ifndef XSELL_MODEL_ACC_IMPL_H
#define XSELL_MODEL_ACC_IMPL_H

#include "model/model_impl.h"

/* One pending pair change; also the radix sort's record. */
struct pair_entry {
	uint32_t rel, a, b;
	int32_t  d;
};

struct pair_log {
	struct pair_entry *v;
	size_t             n, cap;
	size_t             sorted;     /* v[0..sorted) is sorted and unique */
	size_t             compact_at; /* sum in place when n reaches it */
	struct pair_entry *tmp;        /* the radix sort's other buffer */
	size_t             tmp_cap;
};

struct item_slot {
	uint32_t item; /* 0: empty (ids start at 1) */
	int32_t  d[XS_C_COUNT];
};

struct item_map {
	struct item_slot *slots;
	size_t            cap; /* power of two, or 0 */
	size_t            n;
};

/* Bulk mode keeps the +1 changes of a relation until the flush (see
 * xs_acc_bulk_begin): those whose ids are below DENSE_MAX (items, days)
 * as the b's of their a, in one growing array per a (no sort needed:
 * each a's b's are counted in a table at the flush); others as packed
 * (a << 32 | b) keys for a radix sort. */
#define DENSE_MAX ((uint32_t) 1 << 20)

/* A bucket is a chain of blocks from the accumulator's arena, each
 * twice the last up to BLOCK_MAX entries: appending never copies. */
#define BLOCK_FIRST 16u
#define BLOCK_MAX 4096u
#define ARENA_CHUNK ((size_t) 8 << 20)

struct block {
	struct block *next;
	uint32_t      cap;
	uint32_t      b[]; /* full, but for the bucket's tail */
};

/* The write position sits in the bucket itself, so that an append
 * touches one header and one slot (the tail block's fill is wp). */
struct bucket {
	uint32_t     *wp, *end; /* in the tail block; equal: full or none */
	struct block *head, *tail;
	uint32_t      n; /* over its blocks */
};

/* How many b's block 'blk' of bucket 'bk' holds. */
static inline size_t
block_len(const struct bucket *bk, const struct block *blk)
{
	return blk == bk->tail ? (size_t) (bk->wp - blk->b) : blk->cap;
}

/* A chunk of the buckets' arena: mapped whole, its pages faulted in
 * at once (acc.c, arena_alloc). */
struct arena_chunk {
	struct arena_chunk *next;
	size_t              size; /* mapped, this header included */
};

struct arena {
	struct arena_chunk *chunks;
	char               *p; /* free space of the newest chunk */
	size_t              left;
	size_t              bytes; /* allocated in chunks */
};

struct bucket_set {
	struct bucket *by_a; /* [0..n_a) */
	size_t         n_a;
	uint32_t       max_b;
};

struct packed_log {
	uint64_t *v;
	size_t    n, cap;
	uint32_t  max_a, max_b; /* of the keys in v */
};

/* Bulk mode's memory of the item ids the transaction resolved: one
 * open-addressing table of (hash, id, name), the names in one buffer.
 * Valid for one transaction (cleared with the accumulator), in which
 * the item dictionary only grows. */
struct name_slot {
	uint64_t h;
	uint32_t id; /* 0: empty */
	uint32_t len;
	size_t   off; /* in names */
};

struct name_cache {
	struct name_slot *slots;
	size_t            cap; /* power of two, or 0 */
	size_t            n;
	char             *names;
	size_t            names_len, names_cap;
};

/* At most this many names: past it, lookups go to the store. */
#define NAME_CACHE_MAX ((size_t) 1 << 20)
#define NAME_LEN_MAX 4096u

struct xs_acc {
	struct pair_log   pairs;
	struct item_map   items;
	bool              bulk;
	struct packed_log packed[XS_REL_END];
	struct bucket_set dense[XS_REL_END];
	size_t            held;            /* packed and bucketed changes,
	                                      in 4-byte units (acc.c) */
	size_t               bucket_bytes; /* bucket headers */
	struct arena         arena;        /* the buckets' blocks */
	size_t               held_max;     /* spill into the log past held */
	uint64_t            *ptmp;         /* the packed sort's other buffer */
	size_t               ptmp_cap;
	struct xs_top_entry *row; /* the flush's neighbour list */
	size_t               row_cap;
	struct name_cache    items_seen; /* bulk mode: item ext -> id */
	struct feed         *feed;       /* bulk mode: basket pairs' helper */
	bool                 feed_off;   /* it could not start */
};

/* ==== acc.c ==== */

/* Append the change d of (rel, a, b) to log l. */
xsell_err xs_acc_log_add(
    struct pair_log *l, uint32_t rel, uint32_t a, uint32_t b, int32_t d);
/* Free set s's buckets (their blocks stay in the arena). */
void xs_acc_buckets_free(xs_acc *acc, struct bucket_set *s);
/* A basket's pairs, both ways, into set s, blocks from arena ar. */
xsell_err xs_acc_basket_push(struct arena *ar, size_t *bytes,
    struct bucket_set *s, const uint32_t *ids, size_t n);
/* b into the bucket of a in set s. */
xsell_err xs_acc_pair_push(struct arena *ar, size_t *bytes,
    struct bucket_set *s, uint32_t a, uint32_t b);

/* ==== acc_feed.c: basket pairs appended on a helper thread ==== */

/* Start the helper for relation rel, whose buckets are empty (or leave
 * acc->feed NULL and acc->feed_off set: the model appends itself). */
void xs_acc_feed_start(xs_acc *acc, uint32_t rel);
/* Whether relation rel's pairs go through the running feed. */
bool xs_acc_feed_takes(const xs_acc *acc, uint32_t rel);
/* Whether a basket of n ids goes through the feed (else: end it). */
bool xs_acc_feed_fits(size_t n);
/* One pair, and one basket (xs_acc_feed_fits), through feed f. */
xsell_err xs_acc_feed_pair(struct feed *f, uint32_t a, uint32_t b);
xsell_err xs_acc_feed_basket(struct feed *f, const uint32_t *ids, size_t n);
/* Let the helper finish, join it, and hand its buckets to the
 * accumulator; the helper's error. Nothing to do without a feed. */
xsell_err xs_acc_feed_end(xs_acc *acc);
/* The feed's memory, as of its last batch (no feed: 0). */
size_t xs_acc_feed_bytes(struct feed *f);

/* ==== acc_rows.c: the bulk flush's rows ==== */

/* Write relation rel's buckets through w, each a's list whole. */
xsell_err xs_acc_buckets_write(xs_acc *acc, xs_pair_writer *w, uint32_t rel);
/* Sum relation rel's buckets into the log and empty them. */
xsell_err xs_acc_buckets_spill(xs_acc *acc, uint32_t rel);

#endif /* XSELL_MODEL_ACC_IMPL_H */
