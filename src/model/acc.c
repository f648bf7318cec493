/* SPDX-License-Identifier: MIT */
/* The accumulator: count changes of one write transaction, kept in
 * memory and written sorted. Sorting turns tens of thousands of
 * scattered B-tree updates into one ordered pass, which is what makes
 * bulk loads and group commits fast.
 *
 * Pair changes are the hot path of a bulk load (an order of n items
 * makes n(n-1) of them), so they are not summed in a hash table, whose
 * probes miss the cache on every call: they are appended to a log, 16
 * bytes each, and summed by sorting. The sort is an LSD radix sort on
 * (rel, a, b) that skips every byte position on which all entries
 * agree; item ids are dense, so a store of a few thousand items sorts
 * in four linear passes whatever the number of relations. When the log
 * doubles since it was last summed, it is summed in place (sort, then
 * merge equal keys), so memory follows the distinct pairs, not the
 * calls. rel is part of the key, so any relation value works, in any
 * number. Item counter changes are few (one per item of an order) and
 * stay in a small hash table.
 *
 * Bulk mode (a load into a fresh store, flushed once) skips the log for
 * +1s: each item's partners are appended to blocks of their own and
 * counted item by item at the flush, which writes every list whole
 * through xs_pair_writer (store/bulk.c); see "Bulk mode" below. */
#include "model/model_impl.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
static size_t
block_len(const struct bucket *bk, const struct block *blk)
{
	return blk == bk->tail ? (size_t) (bk->wp - blk->b) : blk->cap;
}

struct arena_chunk {
	struct arena_chunk *next;
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
	struct pair_log      pairs;
	struct item_map      items;
	bool                 bulk;
	struct packed_log    packed[XS_REL_END];
	struct bucket_set    dense[XS_REL_END];
	size_t               held;         /* packed and bucketed changes */
	size_t               bucket_bytes; /* bucket headers */
	struct arena         arena;        /* the buckets' blocks */
	size_t               packed_max;   /* spill into the log past held */
	uint64_t            *ptmp;         /* the packed sort's other buffer */
	size_t               ptmp_cap;
	struct xs_top_entry *row; /* the flush's neighbour list */
	size_t               row_cap;
	struct name_cache    items_seen; /* bulk mode: item ext -> id */
	struct feed         *feed;       /* bulk mode: basket pairs' helper */
	bool                 feed_off;   /* it could not start */
};

static xsell_err feed_end(xs_acc *acc);
static size_t    feed_bytes(struct feed *f);

/* The log is summed no sooner than at this many entries (16 MiB). */
#define COMPACT_MIN ((size_t) 1 << 20)
#define RADIX_BITS 8
#define RADIX_SIZE (1u << RADIX_BITS)
/* Byte positions of the key (rel, a, b), least significant first. */
#define KEY_DIGITS 12

/* splitmix64's finaliser: keys are dense numbers, so their low bits
 * must be mixed. */
static size_t
slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return (size_t) (key & (cap - 1));
}

/* Headers only: the blocks go with the arena (arena_reset). */
static void
buckets_free(xs_acc *acc, struct bucket_set *s)
{
	acc->bucket_bytes -= s->n_a * sizeof(*s->by_a);
	free(s->by_a);
	s->by_a  = NULL;
	s->n_a   = 0;
	s->max_b = 0;
}

static void
arena_reset(struct arena *ar)
{
	while (ar->chunks != NULL) {
		struct arena_chunk *c = ar->chunks;

		ar->chunks = c->next;
		free(c);
	}
	ar->p     = NULL;
	ar->left  = 0;
	ar->bytes = 0;
}

/* 'len' bytes, 8-aligned, freed only by arena_reset. */
static void *
arena_alloc(struct arena *ar, size_t len)
{
	void *p;

	len = (len + 7) & ~(size_t) 7;
	if (len > ar->left) {
		size_t              size = sizeof(struct arena_chunk) + len;
		struct arena_chunk *c;

		size = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		c    = malloc(size);
		if (c == NULL) {
			return NULL;
		}
		c->next    = ar->chunks;
		ar->chunks = c;
		ar->p      = (char *) c + sizeof(*c);
		ar->left   = size - sizeof(*c);
		ar->bytes += size;
	}
	p = ar->p;
	ar->p += len;
	ar->left -= len;
	return p;
}

xsell_err
xs_acc_alloc(xs_acc **accp)
{
	xs_acc *acc = calloc(1, sizeof(*acc));

	if (acc == NULL) {
		return XSELL_ENOMEM;
	}
	acc->pairs.compact_at = COMPACT_MIN;
	*accp                 = acc;
	return XSELL_OK;
}

void
xs_acc_free(xs_acc *acc)
{
	if (acc == NULL) {
		return;
	}
	(void) feed_end(acc); /* joins the helper; freed below */
	free(acc->pairs.v);
	free(acc->pairs.tmp);
	free(acc->items.slots);
	for (unsigned r = 0; r < XS_REL_END; r++) {
		free(acc->packed[r].v);
		buckets_free(acc, &acc->dense[r]);
	}
	arena_reset(&acc->arena);
	free(acc->ptmp);
	free(acc->row);
	free(acc->items_seen.slots);
	free(acc->items_seen.names);
	free(acc);
}

void
xs_acc_clear(xs_acc *acc)
{
	(void) feed_end(acc); /* its buckets are dropped below */
	acc->feed_off         = false;
	acc->pairs.n          = 0;
	acc->pairs.sorted     = 0;
	acc->pairs.compact_at = COMPACT_MIN;
	if (acc->items.cap != 0) {
		memset(acc->items.slots, 0,
		    acc->items.cap * sizeof(*acc->items.slots));
	}
	acc->items.n = 0;
	for (unsigned r = 0; r < XS_REL_END; r++) {
		acc->packed[r].n     = 0;
		acc->packed[r].max_a = 0;
		acc->packed[r].max_b = 0;
		buckets_free(acc, &acc->dense[r]);
	}
	arena_reset(&acc->arena);
	acc->held = 0;
	acc->bulk = false;
	if (acc->items_seen.n != 0) { /* a slot is set only by a put */
		memset(acc->items_seen.slots, 0,
		    acc->items_seen.cap * sizeof(*acc->items_seen.slots));
	}
	acc->items_seen.n         = 0;
	acc->items_seen.names_len = 0;
}

/* The slot of (h, name) in c, or the empty slot where it would go. */
static struct name_slot *
name_find(const struct name_cache *c, uint64_t h, const char *p, size_t len)
{
	size_t i = (size_t) h & (c->cap - 1);

	for (;; i = (i + 1) & (c->cap - 1)) {
		struct name_slot *sl = &c->slots[i];

		if (sl->id == 0 ||
		    (sl->h == h && sl->len == len &&
		        memcmp(c->names + sl->off, p, len) == 0)) {
			return sl;
		}
	}
}

bool
xs_acc_item_id_get(const xs_acc *acc, const char *p, size_t len, uint32_t *idp)
{
	const struct name_cache *c = &acc->items_seen;
	const struct name_slot  *sl;

	if (!acc->bulk || c->n == 0) {
		return false;
	}
	sl = name_find(c, xs_hash64(p, len, 0), p, len);
	if (sl->id == 0) {
		return false;
	}
	*idp = sl->id;
	return true;
}

static xsell_err
name_cache_grow(struct name_cache *c)
{
	size_t            cap = c->cap ? c->cap * 2 : 4096;
	struct name_slot *old = c->slots, *slots;

	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	c->slots = slots;
	for (size_t i = 0; i < c->cap; i++) {
		if (old[i].id != 0) {
			size_t j = (size_t) old[i].h & (cap - 1);

			while (slots[j].id != 0) {
				j = (j + 1) & (cap - 1);
			}
			slots[j] = old[i];
		}
	}
	c->cap = cap;
	free(old);
	return XSELL_OK;
}

xsell_err
xs_acc_item_id_put(xs_acc *acc, const char *p, size_t len, uint32_t id)
{
	struct name_cache *c = &acc->items_seen;
	struct name_slot  *sl;
	uint64_t           h;
	xsell_err          err;

	if (!acc->bulk || id == 0 || len > NAME_LEN_MAX ||
	    c->n >= NAME_CACHE_MAX) {
		return XSELL_OK; /* not remembered: the store answers */
	}
	h = xs_hash64(p, len, 0);
	if (2 * (c->n + 1) > c->cap) {
		err = name_cache_grow(c);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (c->names_len + len > c->names_cap) {
		size_t cap = c->names_cap ? c->names_cap : 65536;
		char  *names;

		while (cap < c->names_len + len) {
			cap *= 2;
		}
		names = realloc(c->names, cap);
		if (names == NULL) {
			return XSELL_ENOMEM;
		}
		c->names     = names;
		c->names_cap = cap;
	}
	sl = name_find(c, h, p, len);
	if (sl->id != 0) {
		return XSELL_OK;
	}
	memcpy(c->names + c->names_len, p, len);
	sl->h   = h;
	sl->id  = id;
	sl->len = (uint32_t) len;
	sl->off = c->names_len;
	c->names_len += len;
	c->n++;
	return XSELL_OK;
}

size_t
xs_acc_bytes(const xs_acc *acc)
{
	size_t packed = acc->ptmp_cap;

	for (unsigned r = 0; r < XS_REL_END; r++) {
		packed += acc->packed[r].cap;
	}
	packed +=
	    (acc->bucket_bytes + acc->arena.bytes + feed_bytes(acc->feed)) /
	    sizeof(uint64_t);
	return acc->items.cap * sizeof(struct item_slot) +
	    (acc->pairs.cap + acc->pairs.tmp_cap) * sizeof(struct pair_entry) +
	    packed * sizeof(uint64_t) + acc->row_cap * sizeof(*acc->row);
}

/* ==== Pairs: sort and sum ==== */

/* Byte 'digit' of the key, digit 0 the least significant byte of b. */
static unsigned
digit_of(const struct pair_entry *e, unsigned digit)
{
	uint32_t w = digit < 4 ? e->b : digit < 8 ? e->a : e->rel;

	return (w >> (8 * (digit % 4))) & (RADIX_SIZE - 1);
}

/* Which byte positions of the key differ somewhere in v[0..n): a bit
 * per digit. Dense ids leave the high bytes of a and b zero, and a log
 * of one relation has one rel, so most positions need no pass. */
static unsigned
digits_that_vary(const struct pair_entry *v, size_t n)
{
	uint32_t diff[3] = { 0, 0, 0 };
	unsigned mask    = 0;

	for (size_t i = 1; i < n; i++) {
		diff[0] |= v[i].b ^ v[0].b;
		diff[1] |= v[i].a ^ v[0].a;
		diff[2] |= v[i].rel ^ v[0].rel;
	}
	for (unsigned d = 0; d < KEY_DIGITS; d++) {
		if ((diff[d / 4] >> (8 * (d % 4))) & (RADIX_SIZE - 1)) {
			mask |= 1u << d;
		}
	}
	return mask;
}

static xsell_err
packed_reserve_tmp(xs_acc *acc, size_t n)
{
	uint64_t *t;

	if (acc->ptmp_cap >= n) {
		return XSELL_OK;
	}
	t = realloc(acc->ptmp, n * sizeof(*t));
	if (t == NULL) {
		return XSELL_ENOMEM;
	}
	acc->ptmp     = t;
	acc->ptmp_cap = n;
	return XSELL_OK;
}

/* The low wb bits of a sorted key: its b. */
static uint64_t
b_mask(unsigned wb)
{
	return wb >= 64 ? UINT64_MAX : ((uint64_t) 1 << wb) - 1;
}

/* One stable counting-sort pass of src[0..n) into dst on 'digit'. */
static void
radix_pass(const struct pair_entry *src, struct pair_entry *dst, size_t n,
    unsigned digit)
{
	size_t count[RADIX_SIZE] = { 0 };
	size_t sum               = 0;

	for (size_t i = 0; i < n; i++) {
		count[digit_of(&src[i], digit)]++;
	}
	for (unsigned r = 0; r < RADIX_SIZE; r++) {
		size_t c = count[r];

		count[r] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++) {
		dst[count[digit_of(&src[i], digit)]++] = src[i];
	}
}

/* Sort v[0..n) by (rel, a, b) using tmp (room for n), LSD radix on the
 * bytes that vary. Returns the buffer holding the result (v or tmp). */
static struct pair_entry *
radix_sort(struct pair_entry *v, struct pair_entry *tmp, size_t n)
{
	unsigned           mask = digits_that_vary(v, n);
	struct pair_entry *src = v, *dst = tmp;

	for (unsigned d = 0; d < KEY_DIGITS; d++) {
		struct pair_entry *t;

		if (!(mask & (1u << d))) {
			continue;
		}
		radix_pass(src, dst, n, d);
		t   = src;
		src = dst;
		dst = t;
	}
	return src;
}

static bool
entry_same_key(const struct pair_entry *x, const struct pair_entry *y)
{
	return x->b == y->b && x->a == y->a && x->rel == y->rel;
}

/* Merge runs of equal keys of sorted v[0..n) into 'out' (may be v),
 * summing their changes; keys whose changes cancel are kept (with d 0)
 * so that a sum stays exact across compactions. Returns the count. */
static size_t
sum_runs(const struct pair_entry *v, size_t n, struct pair_entry *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n;) {
		struct pair_entry e = v[i];
		int64_t           d = 0;

		for (; i < n && entry_same_key(&v[i], &e); i++) {
			d += v[i].d;
		}
		e.d      = (int32_t) d;
		out[m++] = e;
	}
	return m;
}

static xsell_err
log_reserve_tmp(struct pair_log *l)
{
	struct pair_entry *tmp;

	if (l->tmp_cap >= l->n) {
		return XSELL_OK;
	}
	tmp = realloc(l->tmp, l->cap * sizeof(*tmp));
	if (tmp == NULL) {
		return XSELL_ENOMEM;
	}
	l->tmp     = tmp;
	l->tmp_cap = l->cap;
	return XSELL_OK;
}

static bool
entry_less(const struct pair_entry *x, const struct pair_entry *y)
{
	if (x->rel != y->rel) {
		return x->rel < y->rel;
	}
	if (x->a != y->a) {
		return x->a < y->a;
	}
	return x->b < y->b;
}

/* Merge the sorted, unique v[0..nv) and t[0..nt) into v (room for
 * nv + nt), summing a key found in both; returns the merged count. The
 * merge runs from the back, so no entry of v is overwritten before it is
 * read; the result is then moved to the front. */
static size_t
merge_back(
    struct pair_entry *v, size_t nv, const struct pair_entry *t, size_t nt)
{
	size_t out = nv + nt, i = nv, j = nt;

	while (j > 0) {
		if (i > 0 && entry_same_key(&v[i - 1], &t[j - 1])) {
			struct pair_entry e = t[--j];

			e.d      = (int32_t) ((int64_t) e.d + v[--i].d);
			v[--out] = e;
		} else if (i > 0 && entry_less(&t[j - 1], &v[i - 1])) {
			v[--out] = v[--i];
		} else {
			v[--out] = t[--j];
		}
	}
	/* v[0..i) is already in place; the rest starts at 'out'. */
	if (out != i) {
		memmove(v + i, v + out, (nv + nt - out) * sizeof(*v));
	}
	return i + (nv + nt - out);
}

/* Sort the entries added since the last compaction, sum equal keys and
 * merge them into the sorted part: afterwards the log holds each pending
 * (rel, a, b) once, in order. Each entry is radix-sorted once; the
 * sorted part is only merged. */
static xsell_err
log_compact(struct pair_log *l)
{
	struct pair_entry *tail = l->v + l->sorted, *sorted;
	size_t             nt   = l->n - l->sorted;
	xsell_err          err;

	if (nt == 0) {
		return XSELL_OK;
	}
	err = log_reserve_tmp(l);
	if (err != XSELL_OK) {
		return err;
	}
	sorted = radix_sort(tail, l->tmp, nt);
	if (sorted != l->tmp) {
		memcpy(l->tmp, sorted, nt * sizeof(*sorted));
	}
	nt        = sum_runs(l->tmp, nt, l->tmp);
	l->n      = merge_back(l->v, l->sorted, l->tmp, nt);
	l->sorted = l->n;
	/* The next compaction when as many new entries came as are sorted,
	 * so the merge costs O(1) per new entry. */
	l->compact_at = l->n * 2 > COMPACT_MIN ? l->n * 2 : COMPACT_MIN;
	return XSELL_OK;
}

static xsell_err
log_grow(struct pair_log *l)
{
	size_t             cap = l->cap ? l->cap * 2 : 4096;
	struct pair_entry *v   = realloc(l->v, cap * sizeof(*v));

	if (v == NULL) {
		return XSELL_ENOMEM;
	}
	l->v   = v;
	l->cap = cap;
	return XSELL_OK;
}

static xsell_err
log_add(struct pair_log *l, uint32_t rel, uint32_t a, uint32_t b, int32_t d)
{
	xsell_err err;

	if (l->n >= l->compact_at) {
		err = log_compact(l);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (l->n == l->cap) {
		err = log_grow(l);
		if (err != XSELL_OK) {
			return err;
		}
	}
	l->v[l->n++] = (struct pair_entry) { rel, a, b, d };
	return XSELL_OK;
}

/* ==== Bulk mode: packed keys, one sort at the flush ==== */

static xsell_err bulk_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b);

xsell_err
xs_acc_pair_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b, int32_t d)
{
	if (acc->bulk && d == 1 && (unsigned) rel < XS_REL_END) {
		return bulk_add(acc, rel, a, b);
	}
	return log_add(&acc->pairs, (uint32_t) rel, a, b, d);
}

/* Write the summed log, one xs_store_pairs_add per relation, in
 * ascending relation; changes that summed to 0 are left out. */
static xsell_err
flush_pairs(struct pair_log *l, xs_store *st, MDB_txn *txn)
{
	struct xs_pair_delta *deltas;
	xsell_err             err;

	err = log_compact(l);
	if (err != XSELL_OK || l->n == 0) {
		return err;
	}
	/* tmp is free again after the compaction and holds n entries of
	 * 16 bytes, room enough for n deltas of 12. */
	deltas = (struct xs_pair_delta *) (void *) l->tmp;
	for (size_t i = 0; i < l->n && err == XSELL_OK;) {
		uint32_t rel = l->v[i].rel;
		size_t   n   = 0;

		for (; i < l->n && l->v[i].rel == rel; i++) {
			if (l->v[i].d != 0) {
				deltas[n].a = l->v[i].a;
				deltas[n].b = l->v[i].b;
				deltas[n].d = l->v[i].d;
				n++;
			}
		}
		if (n != 0) {
			err = xs_store_pairs_add(
			    st, txn, (enum xs_rel) rel, deltas, n);
		}
	}
	return err;
}

/* ==== Item counters ==== */

static xsell_err
item_map_grow(struct item_map *m)
{
	size_t            cap   = m->cap ? m->cap * 2 : 256;
	struct item_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (m->slots[i].item == 0) {
			continue;
		}
		j = slot_of(m->slots[i].item, cap);
		while (slots[j].item != 0) {
			j = (j + 1) & (cap - 1);
		}
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap   = cap;
	return XSELL_OK;
}

xsell_err
xs_acc_item_add(xs_acc *acc, uint32_t item, enum xs_count which, int32_t d)
{
	struct item_map *m = &acc->items;
	size_t           j;

	if ((m->n + 1) * 2 > m->cap) {
		xsell_err err = item_map_grow(m);

		if (err != XSELL_OK) {
			return err;
		}
	}
	j = slot_of(item, m->cap);
	while (m->slots[j].item != 0 && m->slots[j].item != item) {
		j = (j + 1) & (m->cap - 1);
	}
	if (m->slots[j].item == 0) {
		m->slots[j].item = item;
		m->n++;
	}
	m->slots[j].d[which] += d;
	return XSELL_OK;
}

static int
cmp_count_delta(const void *x, const void *y)
{
	const struct xs_count_delta *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

static xsell_err
flush_items(struct item_map *m, xs_store *st, MDB_txn *txn)
{
	struct xs_count_delta *deltas;
	size_t                 n = 0;
	xsell_err              err;

	if (m->n == 0) {
		return XSELL_OK;
	}
	deltas = malloc(m->n * sizeof(*deltas));
	if (deltas == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].item != 0) {
			deltas[n].item = m->slots[i].item;
			memcpy(
			    deltas[n].d, m->slots[i].d, sizeof(deltas[n].d));
			n++;
		}
	}
	qsort(deltas, n, sizeof(*deltas), cmp_count_delta);
	err = xs_store_counts_add(st, txn, deltas, n);
	free(deltas);
	return err;
}

/* ==== Bulk mode: flushed once, into a fresh store ==== */

/* Packed changes held before they are summed into the log (256 MiB,
 * and as much again to sort the largest relation's). */
#define PACKED_MAX ((size_t) 1 << 25)
#define PACKED_DIGIT_MAX 9u
#define PACKED_TOP_BITS 8u
/* Relations with this many changes are sorted on a helper thread. */
#define SORT_THREAD_MIN ((size_t) 1 << 18)

static unsigned
bits_of(uint64_t v)
{
	unsigned n = 0;

	while (v != 0) {
		n++;
		v >>= 1;
	}
	return n;
}

/* One stable counting-sort pass of src[0..n) into dst on bits
 * [shift, shift + bits) of the key. */
static void
packed_pass(const uint64_t *src, uint64_t *dst, size_t n, unsigned shift,
    unsigned bits)
{
	size_t   count[1u << PACKED_DIGIT_MAX] = { 0 };
	uint64_t mask                          = ((uint64_t) 1 << bits) - 1;
	size_t   sum                           = 0;

	for (size_t i = 0; i < n; i++) {
		count[(src[i] >> shift) & mask]++;
	}
	for (size_t r = 0; r <= mask; r++) {
		size_t c = count[r];

		count[r] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++) {
		dst[count[(src[i] >> shift) & mask]++] = src[i];
	}
}

/* LSD radix sort of v[0..n) on its low 'width' bits, with tmp (room for
 * n); the result ends in v. */
static void
packed_lsd(uint64_t *v, uint64_t *tmp, size_t n, unsigned width)
{
	unsigned  passes = (width + PACKED_DIGIT_MAX - 1) / PACKED_DIGIT_MAX;
	unsigned  digit  = passes != 0 ? (width + passes - 1) / passes : 0;
	uint64_t *src = v, *dst = tmp;

	for (unsigned p = 0; p < passes; p++) {
		uint64_t *t;

		packed_pass(src, dst, n, p * digit, digit);
		t   = src;
		src = dst;
		dst = t;
	}
	if (src != v) {
		memcpy(v, src, n * sizeof(*v));
	}
}

/* One relation's packed changes being sorted: partitioned on the top
 * PACKED_TOP_BITS bits of the key a << wb | b (wb the bits of the
 * largest b: no pass is spent on bits never set) into buckets small
 * enough to stay in cache, then each bucket sorted on the rest (MSD,
 * then LSD). The buckets may be sorted by a helper thread while the
 * flush writes those already done: keys[0..ready) are final. */
struct sort_job {
	uint64_t        *keys;    /* acc->ptmp: the result */
	uint64_t        *scratch; /* the relation's log, reused */
	size_t           n;
	unsigned         wb, low;
	size_t           start[(1u << PACKED_TOP_BITS) + 1];
	struct xs_helper h;
	size_t           ready; /* under h.mu */
	size_t           seen;  /* the reader's copy of ready */
	bool             threaded;
};

/* Partition p's keys into acc->ptmp by their top bits (one pass); the
 * buckets are sorted by sort_run. p->v is scratch afterwards. */
static xsell_err
sort_partition(xs_acc *acc, struct packed_log *p, struct sort_job *j)
{
	size_t    next[1u << PACKED_TOP_BITS];
	unsigned  width, top;
	xsell_err err;

	err = packed_reserve_tmp(acc, p->n);
	if (err != XSELL_OK) {
		return err;
	}
	memset(j->start, 0, sizeof(j->start));
	j->keys    = acc->ptmp;
	j->scratch = p->v;
	j->n       = p->n;
	j->wb      = bits_of(p->max_b);
	width      = j->wb + bits_of(p->max_a);
	top        = width < PACKED_TOP_BITS ? width : PACKED_TOP_BITS;
	j->low     = width - top;
	j->ready   = 0;
	j->seen    = 0;
	for (size_t i = 0; i < p->n; i++) {
		uint64_t k =
		    (p->v[i] >> 32) << j->wb | (p->v[i] & 0xffffffffu);

		p->v[i] = k;
		j->start[(k >> j->low) + 1]++;
	}
	for (size_t r = 0; r < (1u << PACKED_TOP_BITS); r++) {
		j->start[r + 1] += j->start[r];
	}
	memcpy(next, j->start, sizeof(next));
	for (size_t i = 0; i < p->n; i++) {
		j->keys[next[p->v[i] >> j->low]++] = p->v[i];
	}
	return XSELL_OK;
}

/* Sort every bucket, publishing the sorted prefix as it grows. */
static void *
sort_run(void *arg)
{
	struct sort_job *j = arg;

	for (size_t r = 0; r < (1u << PACKED_TOP_BITS); r++) {
		size_t s = j->start[r], e = j->start[r + 1];

		if (e - s > 1) {
			packed_lsd(j->keys + s, j->scratch + s, e - s, j->low);
		}
		if (j->threaded) {
			pthread_mutex_lock(&j->h.mu);
			j->ready = e;
			pthread_cond_broadcast(&j->h.cv);
			pthread_mutex_unlock(&j->h.mu);
		} else {
			j->ready = e;
		}
	}
	return NULL;
}

/* Sort the buckets on a helper thread (or here, if none can start):
 * a flush writes the first buckets while the later ones sort. End with
 * sort_end. */
static void
sort_start(struct sort_job *j, bool thread)
{
	j->threaded = false;
	/* threaded before the start: sort_run reads it */
	j->threaded = thread;
	if (thread && xs_helper_start(&j->h, sort_run, j)) {
		return;
	}
	j->threaded = false;
	sort_run(j);
}

static void
sort_end(struct sort_job *j)
{
	if (j->threaded) {
		xs_helper_join(&j->h);
		j->threaded = false;
	}
}

/* Wait until keys[i] is final. */
static void
sort_wait(struct sort_job *j, size_t i)
{
	if (i < j->seen) {
		return;
	}
	if (j->threaded) {
		pthread_mutex_lock(&j->h.mu);
		while (j->ready <= i) {
			pthread_cond_wait(&j->h.cv, &j->h.mu);
		}
		j->seen = j->ready;
		pthread_mutex_unlock(&j->h.mu);
	} else {
		j->seen = j->ready;
	}
}

/* Sum relation rel's packed changes into the log and empty them: what
 * bounds the memory of a bulk load. */
static xsell_err
packed_spill(xs_acc *acc, uint32_t rel)
{
	struct packed_log *p = &acc->packed[rel];
	struct sort_job    j;
	const uint64_t    *v;
	xsell_err          err;

	if (p->n == 0) {
		return XSELL_OK;
	}
	err = sort_partition(acc, p, &j);
	if (err != XSELL_OK) {
		return err;
	}
	sort_start(&j, false);
	v = j.keys;
	for (size_t i = 0; i < p->n && err == XSELL_OK;) {
		uint64_t key = v[i];
		int32_t  d   = 0;

		for (; i < p->n && v[i] == key; i++) {
			d++;
		}
		err = log_add(&acc->pairs, rel, (uint32_t) (key >> j.wb),
		    (uint32_t) (key & b_mask(j.wb)), d);
	}
	if (err == XSELL_OK) {
		acc->held -= p->n;
		p->n     = 0;
		p->max_a = 0;
		p->max_b = 0;
	}
	return err;
}

static xsell_err
packed_push(xs_acc *acc, uint32_t rel, uint32_t a, uint32_t b)
{
	struct packed_log *p = &acc->packed[rel];

	if (p->n == p->cap) {
		size_t    cap = p->cap ? p->cap * 2 : (size_t) 1 << 16;
		uint64_t *v   = realloc(p->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		p->v   = v;
		p->cap = cap;
	}
	p->v[p->n++] = (uint64_t) a << 32 | b;
	p->max_a     = a > p->max_a ? a : p->max_a;
	p->max_b     = b > p->max_b ? b : p->max_b;
	acc->held++;
	return XSELL_OK;
}

/* Room in a relation's table of buckets s for a's up to 'a'; *bytes
 * counts the table's headers. */
static xsell_err
buckets_reserve(size_t *bytes, struct bucket_set *s, uint32_t a)
{
	size_t         n_a = s->n_a ? s->n_a : 1024;
	struct bucket *by_a;

	if (a < s->n_a) {
		return XSELL_OK;
	}
	while (n_a <= a) {
		n_a *= 2;
	}
	by_a = realloc(s->by_a, n_a * sizeof(*by_a));
	if (by_a == NULL) {
		return XSELL_ENOMEM;
	}
	memset(by_a + s->n_a, 0, (n_a - s->n_a) * sizeof(*by_a));
	*bytes += (n_a - s->n_a) * sizeof(*by_a);
	s->by_a = by_a;
	s->n_a  = n_a;
	return XSELL_OK;
}

/* A new tail block, from arena ar, for the full bucket k. */
static xsell_err
bucket_grow(struct arena *ar, struct bucket *k)
{
	uint32_t      cap = k->tail == NULL ? BLOCK_FIRST
	         : k->tail->cap < BLOCK_MAX ? k->tail->cap * 2
	                                    : BLOCK_MAX;
	struct block *blk =
	    arena_alloc(ar, sizeof(*blk) + cap * sizeof(uint32_t));

	if (blk == NULL) {
		return XSELL_ENOMEM;
	}
	blk->next = NULL;
	blk->cap  = cap;
	if (k->tail == NULL) {
		k->head = blk;
	} else {
		k->tail->next = blk;
	}
	k->tail = blk;
	k->wp   = blk->b;
	k->end  = blk->b + cap;
	return XSELL_OK;
}

/* Append b[0..n) to bucket k, a block's room at a time; the caller
 * keeps the set's max_b and acc->held. */
static xsell_err
bucket_push_many(
    struct arena *ar, struct bucket *k, const uint32_t *b, size_t n)
{
	while (n > 0) {
		size_t room;

		if (k->wp == k->end) {
			xsell_err err = bucket_grow(ar, k);

			if (err != XSELL_OK) {
				return err;
			}
		}
		room = (size_t) (k->end - k->wp);
		room = room < n ? room : n;
		memcpy(k->wp, b, room * sizeof(*b));
		k->wp += room;
		k->n += (uint32_t) room;
		b += room;
		n -= room;
	}
	return XSELL_OK;
}

/* Append ids[j] to the bucket of ids[i] for every i != j (dense ids):
 * a basket's pairs, both ways, into set s, blocks from arena ar. */
static xsell_err
basket_push(struct arena *ar, size_t *bytes, struct bucket_set *s,
    const uint32_t *ids, size_t n)
{
	uint32_t  max = 0;
	xsell_err err;

	for (size_t i = 0; i < n; i++) {
		max = ids[i] > max ? ids[i] : max;
	}
	s->max_b = max > s->max_b ? max : s->max_b;
	err      = buckets_reserve(bytes, s, max);
	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		struct bucket *k = &s->by_a[ids[i]];

		err = bucket_push_many(ar, k, ids, i);
		if (err == XSELL_OK) {
			err = bucket_push_many(ar, k, ids + i + 1, n - i - 1);
		}
	}
	return err;
}

/* Append b to the bucket of a (dense ids) in set s. */
static xsell_err
pair_push(struct arena *ar, size_t *bytes, struct bucket_set *s, uint32_t a,
    uint32_t b)
{
	xsell_err err = buckets_reserve(bytes, s, a);

	if (err == XSELL_OK) {
		err = bucket_push_many(ar, &s->by_a[a], &b, 1);
	}
	if (err == XSELL_OK) {
		s->max_b = b > s->max_b ? b : s->max_b;
	}
	return err;
}

static xsell_err
bucket_push(xs_acc *acc, uint32_t rel, uint32_t a, uint32_t b)
{
	xsell_err err =
	    pair_push(&acc->arena, &acc->bucket_bytes, &acc->dense[rel], a, b);

	if (err == XSELL_OK) {
		acc->held++;
	}
	return err;
}

/* ==== Bulk mode: basket pairs appended on a helper thread ==== */

/* A basket of n items makes n(n-1) appends (a tenth of a fresh load's
 * time on Online Retail) and needs nothing of the transaction: the
 * model hands the basket's ids over instead, and a helper thread
 * appends its pairs into a set of buckets of its own, from an arena of
 * its own, while the model goes on with the orders' LMDB writes. The
 * set joins the accumulator (feed_end) before anything else reads it:
 * a spill, the flush, a clear. Pairs are counted, so the order in
 * which they are appended changes nothing; but the feed keeps it, one
 * helper taking the records in the order written.
 *
 * The ids go through a ring of FEED_WORDS words (1 MiB): each record is
 * a head word (n, then n ids; or FEED_PAIR, then a and b: one pair of
 * xs_acc_pair_add) written by the model; the helper is told of them
 * FEED_PUBLISH words at a time, so that neither side takes the lock
 * for every basket, and the model waits when the ring is full. A record
 * never wraps around the ring's end: one that would not fit before it
 * starts at the ring's start, after a FEED_WRAP head where it would
 * have begun, so the helper reads every record in place. The words
 * skipped are at most a record's, so a record of FEED_RECORD_MAX words
 * or fewer always fits an empty ring, skip and all. */
#define FEED_WORDS ((size_t) 1 << 18)
#define FEED_PUBLISH ((size_t) 1 << 14)
#define FEED_RECORD_MAX (FEED_WORDS / 2)
#define FEED_PAIR UINT32_MAX
#define FEED_WRAP (UINT32_MAX - 1)

struct feed {
	uint32_t          rel;
	struct bucket_set set; /* the helper's, until feed_end */
	struct arena      arena;
	size_t            bucket_bytes;
	uint32_t         *ring;      /* FEED_WORDS */
	size_t            write;     /* the model's: words written */
	size_t            read_seen; /* the model's copy of read */
	struct xs_helper  h;
	/* Under h.mu. Words [read, published) are the helper's to take. */
	size_t    published, read;
	size_t    bytes; /* the helper's memory, as of its last batch */
	bool      helper_waits, model_waits, closing;
	xsell_err err; /* the helper's first error */
};

/* The helper: append the pairs of the records in [pos, end). */
static xsell_err
feed_take(struct feed *f, size_t pos, size_t end)
{
	xsell_err err = XSELL_OK;

	while (pos < end && err == XSELL_OK) {
		size_t          at   = pos % FEED_WORDS;
		uint32_t        head = f->ring[at];
		size_t          len  = head == FEED_PAIR ? 2 : head;
		const uint32_t *rec  = f->ring + at + 1;

		if (head == FEED_WRAP) {
			pos +=
			    FEED_WORDS - at; /* the record is at the start */
			continue;
		}
		assert(at + 1 + len <= FEED_WORDS);
		if (head == FEED_PAIR) {
			err = pair_push(&f->arena, &f->bucket_bytes, &f->set,
			    rec[0], rec[1]);
		} else {
			err = basket_push(
			    &f->arena, &f->bucket_bytes, &f->set, rec, len);
		}
		pos += 1 + len;
	}
	return err;
}

static void *
feed_run(void *arg)
{
	struct feed *f = arg;
	xsell_err    err;

	for (;;) {
		size_t start, end;

		pthread_mutex_lock(&f->h.mu);
		while (f->read == f->published && !f->closing) {
			f->helper_waits = true;
			pthread_cond_wait(&f->h.cv, &f->h.mu);
		}
		start = f->read;
		end   = f->published;
		pthread_mutex_unlock(&f->h.mu);
		if (start == end) {
			return NULL; /* closing, and everything taken */
		}
		err = feed_take(f, start, end);
		pthread_mutex_lock(&f->h.mu);
		f->read  = end;
		f->err   = err;
		f->bytes = f->bucket_bytes + f->arena.bytes;
		if (f->model_waits) {
			f->model_waits = false;
			pthread_cond_broadcast(&f->h.cv);
		}
		pthread_mutex_unlock(&f->h.mu);
		if (err != XSELL_OK) {
			return NULL;
		}
	}
}

/* Tell the helper of every word written. Returns its error, if any. */
static xsell_err
feed_publish(struct feed *f)
{
	xsell_err err;

	pthread_mutex_lock(&f->h.mu);
	f->published = f->write;
	if (f->helper_waits) {
		f->helper_waits = false;
		pthread_cond_broadcast(&f->h.cv);
	}
	f->read_seen = f->read;
	err          = f->err;
	pthread_mutex_unlock(&f->h.mu);
	return err;
}

/* Wait for room for 'len' more words (at most FEED_WORDS). */
static xsell_err
feed_room(struct feed *f, size_t len)
{
	xsell_err err;

	if (f->write + len - f->read_seen <= FEED_WORDS) {
		return XSELL_OK;
	}
	(void) feed_publish(f);
	pthread_mutex_lock(&f->h.mu);
	err = f->err; /* read under mu: the helper may have failed since */
	while (err == XSELL_OK && f->write + len - f->read > FEED_WORDS) {
		f->model_waits = true;
		pthread_cond_wait(&f->h.cv, &f->h.mu);
		err = f->err;
	}
	f->read_seen = f->read;
	pthread_mutex_unlock(&f->h.mu);
	return err;
}

/* Write one record: 'head', then w[0..n) (n + 1 <= FEED_RECORD_MAX),
 * at the ring's start if it would not fit before its end. */
static xsell_err
feed_put(struct feed *f, uint32_t head, const uint32_t *w, size_t n)
{
	size_t    at = f->write % FEED_WORDS, tail = FEED_WORDS - at;
	size_t    skip = tail < n + 1 ? tail : 0;
	xsell_err err;

	assert(n + 1 <= FEED_RECORD_MAX);
	err = feed_room(f, skip + n + 1);
	if (err != XSELL_OK) {
		return err;
	}
	if (skip != 0) {
		f->ring[at] = FEED_WRAP;
		f->write += skip;
		at = 0;
	}
	f->ring[at] = head;
	memcpy(f->ring + at + 1, w, n * sizeof(uint32_t));
	f->write += n + 1;
	if (f->write - f->published >= FEED_PUBLISH) {
		err = feed_publish(f);
	}
	return err;
}

static void
feed_free(struct feed *f)
{
	free(f->ring);
	free(f);
}

/* Start a helper for relation rel, whose buckets are empty. Without
 * memory or a thread, the feed stays off until the accumulator is
 * cleared: the model appends the pairs itself. */
static void
feed_start(xs_acc *acc, uint32_t rel)
{
	struct feed *f = calloc(1, sizeof(*f));

	acc->feed_off = true;
	if (f == NULL) {
		return;
	}
	f->rel  = rel;
	f->ring = malloc(FEED_WORDS * sizeof(uint32_t));
	if (f->ring != NULL && xs_helper_start(&f->h, feed_run, f)) {
		acc->feed     = f;
		acc->feed_off = false;
		return;
	}
	feed_free(f);
}

/* The arena's chunks join 'into' (freed with it). */
static void
arena_join(struct arena *into, struct arena *from)
{
	struct arena_chunk **tail = &into->chunks;

	while (*tail != NULL) {
		tail = &(*tail)->next;
	}
	*tail = from->chunks;
	into->bytes += from->bytes;
	from->chunks = NULL;
	from->bytes  = 0;
}

/* Let the helper take every record, join it, and hand its buckets to
 * the accumulator, whose own for that relation are empty. Returns the
 * helper's error (the buckets it filled join all the same: they are
 * freed with the accumulator's). */
static xsell_err
feed_end(xs_acc *acc)
{
	struct feed *f = acc->feed;
	xsell_err    err;

	if (f == NULL) {
		return XSELL_OK;
	}
	acc->feed = NULL;
	pthread_mutex_lock(&f->h.mu);
	f->published = f->write;
	f->closing   = true;
	pthread_cond_broadcast(&f->h.cv);
	pthread_mutex_unlock(&f->h.mu);
	xs_helper_join(&f->h);
	err                = f->err;
	acc->dense[f->rel] = f->set;
	acc->bucket_bytes += f->bucket_bytes;
	arena_join(&acc->arena, &f->arena);
	feed_free(f);
	return err;
}

/* The helper's memory, as of its last batch (none: 0). */
static size_t
feed_bytes(struct feed *f)
{
	size_t bytes;

	if (f == NULL) {
		return 0;
	}
	pthread_mutex_lock(&f->h.mu);
	bytes = f->bytes;
	pthread_mutex_unlock(&f->h.mu);
	return bytes;
}

static xsell_err buckets_spill(xs_acc *acc, uint32_t rel);

/* Sum everything held into the log (the memory bound). */
static xsell_err
bulk_spill(xs_acc *acc)
{
	xsell_err err = feed_end(acc);

	for (uint32_t r = 0; r < XS_REL_END && err == XSELL_OK; r++) {
		err = packed_spill(acc, r);
		if (err == XSELL_OK) {
			err = buckets_spill(acc, r);
		}
	}
	if (err == XSELL_OK) {
		arena_reset(&acc->arena);
	}
	return err;
}

static xsell_err
bulk_add(xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b)
{
	if (acc->held >= acc->packed_max) {
		xsell_err err = bulk_spill(acc);

		if (err != XSELL_OK) {
			return err;
		}
	}
	if (a < DENSE_MAX && b < DENSE_MAX && acc->feed != NULL &&
	    acc->feed->rel == (uint32_t) rel) {
		const uint32_t ab[2] = { a, b };

		acc->held++;
		return feed_put(acc->feed, FEED_PAIR, ab, 2);
	}
	if (a < DENSE_MAX && b < DENSE_MAX) {
		return bucket_push(acc, (uint32_t) rel, a, b);
	}
	return packed_push(acc, (uint32_t) rel, a, b);
}

/* xs_acc_pairs_all, one xs_acc_pair_add a pair. */
static xsell_err
pairs_all_each(xs_acc *acc, enum xs_rel rel, const uint32_t *ids, size_t n)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		for (size_t j = 0; j < n && err == XSELL_OK; j++) {
			if (j != i) {
				err = xs_acc_pair_add(
				    acc, rel, ids[i], ids[j], 1);
			}
		}
	}
	return err;
}

xsell_err
xs_acc_pairs_all(xs_acc *acc, enum xs_rel rel, const uint32_t *ids, size_t n)
{
	size_t    pairs = n < 2 ? 0 : n * (n - 1);
	uint32_t  max   = 0;
	xsell_err err;

	for (size_t i = 0; i < n; i++) {
		max = ids[i] > max ? ids[i] : max;
	}
	/* The bulk buckets only, and only where no spill falls inside the
	 * basket: otherwise pair by pair, which is the same sum. */
	if (!acc->bulk || (unsigned) rel >= XS_REL_END || max >= DENSE_MAX ||
	    acc->held >= acc->packed_max ||
	    pairs >= acc->packed_max - acc->held) {
		return pairs_all_each(acc, rel, ids, n);
	}
	if (acc->feed == NULL && !acc->feed_off && acc->dense[rel].n_a == 0) {
		feed_start(acc, (uint32_t) rel);
	}
	acc->held += pairs;
	if (acc->feed != NULL && acc->feed->rel == (uint32_t) rel) {
		if (n + 1 <= FEED_RECORD_MAX) {
			return feed_put(acc->feed, (uint32_t) n, ids, n);
		}
		err = feed_end(acc); /* a basket larger than the ring */
		if (err != XSELL_OK) {
			return err;
		}
	}
	return basket_push(
	    &acc->arena, &acc->bucket_bytes, &acc->dense[rel], ids, n);
}

void
xs_acc_bulk_begin(xs_acc *acc, size_t max_held)
{
	acc->bulk       = true;
	acc->packed_max = max_held != 0 ? max_held : PACKED_MAX;
}

static xsell_err
row_push(xs_acc *acc, size_t *np, uint32_t b, int64_t d)
{
	if (*np == acc->row_cap) {
		size_t cap = acc->row_cap ? acc->row_cap * 2 : 1024;
		struct xs_top_entry *r = realloc(acc->row, cap * sizeof(*r));

		if (r == NULL) {
			return XSELL_ENOMEM;
		}
		acc->row     = r;
		acc->row_cap = cap;
	}
	acc->row[*np].b     = b;
	acc->row[*np].count = d > UINT32_MAX ? UINT32_MAX : (uint32_t) d;
	(*np)++;
	return XSELL_OK;
}

/* Merge one relation's sorted packed changes pk[0..np) (each +1, keys
 * a << wb | b) with its summed log entries g[0..ng), and write each a's
 * list whole. Changes that sum to 0 or less leave no pair, as on an
 * empty store. */
static xsell_err
write_rel(xs_acc *acc, xs_pair_writer *w, uint32_t rel, struct sort_job *sj,
    const struct pair_entry *g, size_t ng)
{
	const uint64_t *pk = sj->keys;
	size_t          np = sj->n, i = 0, j = 0, n_row = 0;
	unsigned        wb    = sj->wb;
	uint32_t        row_a = 0;
	xsell_err       err   = XSELL_OK;

	while ((i < np || j < ng) && err == XSELL_OK) {
		uint64_t kp;

		if (i < np) {
			sort_wait(sj, i);
		}
		kp = i < np ? (pk[i] >> wb) << 32 | (pk[i] & b_mask(wb)) : 0;
		uint64_t kg  = j < ng ? (uint64_t) g[j].a << 32 | g[j].b : 0;
		uint64_t key = j >= ng || (i < np && kp <= kg) ? kp : kg;
		int64_t  d   = 0;
		uint32_t a   = (uint32_t) (key >> 32);

		if (i < np && kp == key) {
			uint64_t same = pk[i];

			for (; i < np; i++) {
				sort_wait(sj, i);
				if (pk[i] != same) {
					break;
				}
				d++;
			}
		}
		if (j < ng && kg == key) {
			d += g[j++].d;
		}
		if (n_row != 0 && a != row_a) {
			err = xs_pair_writer_put(
			    w, (enum xs_rel) rel, row_a, acc->row, n_row);
			n_row = 0;
		}
		if (err == XSELL_OK && d > 0) {
			err   = row_push(acc, &n_row, (uint32_t) key, d);
			row_a = a;
		}
	}
	if (err == XSELL_OK && n_row != 0) {
		err = xs_pair_writer_put(
		    w, (enum xs_rel) rel, row_a, acc->row, n_row);
	}
	return err;
}

/* ==== Bulk flush of dense ids: each a's b's counted in a table ==== */

/* The counting table of one relation, indexed by b, with a bitmap of
 * the b's counted so far: read word by word, it gives them back in
 * ascending order without a sort or a scan of empty slots. */
struct dense {
	uint32_t *cnt;  /* the count of (a, b), a being counted */
	uint64_t *bits; /* bit b: cnt[b] != 0 */
	size_t    nb;   /* max_b + 1 */
};

static xsell_err
dense_init(struct dense *d, const struct bucket_set *s)
{
	d->nb   = (size_t) s->max_b + 1;
	d->cnt  = calloc(d->nb, sizeof(*d->cnt));
	d->bits = calloc(d->nb / 64 + 1, sizeof(*d->bits));
	if (d->cnt == NULL || d->bits == NULL) {
		free(d->cnt);
		free(d->bits);
		return XSELL_ENOMEM;
	}
	return XSELL_OK;
}

static void
dense_fini(struct dense *d)
{
	free(d->cnt);
	free(d->bits);
}

/* The most entries a's row can have: one a b, at most every b. */
static size_t
dense_room(const struct dense *d, const struct bucket *bk)
{
	return bk->n < d->nb ? bk->n : d->nb;
}

/* Count the b's of one a (the bucket bk) into row (room for
 * dense_room entries), ascending b, each with its count; returns the
 * row's length. The table and bitmap are left zeroed. No branch
 * depends on the data while counting: the first sight of a b is marked
 * in the bitmap, not tested. Touches nothing of the accumulator but the
 * bucket (read): the flush's helper thread calls it. */
static size_t
dense_row(struct dense *d, const struct bucket *bk, struct xs_top_entry *row)
{
	size_t   n_row = 0;
	uint32_t lo = UINT32_MAX, hi = 0;

	for (const struct block *blk = bk->head; blk != NULL;
	     blk                     = blk->next) {
		size_t len = block_len(bk, blk);

		for (size_t k = 0; k < len; k++) {
			uint32_t b = blk->b[k];

			d->cnt[b]++;
			d->bits[b / 64] |= (uint64_t) 1 << (b % 64);
			lo = b < lo ? b : lo;
			hi = b > hi ? b : hi;
		}
	}
	for (size_t wi = lo / 64; bk->n != 0 && wi <= hi / 64; wi++) {
		uint64_t word = d->bits[wi];

		d->bits[wi] = 0;
		while (word != 0) {
			uint32_t b = (uint32_t) (wi * 64) +
			    (uint32_t) __builtin_ctzll(word);

			word &= word - 1;
			row[n_row].b     = b;
			row[n_row].count = d->cnt[b];
			d->cnt[b]        = 0;
			n_row++;
		}
	}
	return n_row;
}

/* Where the rows of rows_count go: row_room gives room for a row of up
 * to 'room' entries, row_put takes the row counted there. */
struct row_sink {
	xsell_err (*row_room)(
	    void *ctx, size_t room, struct xs_top_entry **rowp);
	xsell_err (*row_put)(
	    void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n);
	void *ctx;
};

/* Count set s's rows, a by a (the non-empty buckets), into the sink. */
static xsell_err
rows_count(
    struct dense *d, const struct bucket_set *s, const struct row_sink *sink)
{
	xsell_err err = XSELL_OK;

	for (size_t a = 0; a < s->n_a && err == XSELL_OK; a++) {
		const struct bucket *bk = &s->by_a[a];
		size_t               room, n;
		struct xs_top_entry *row;

		if (bk->n == 0) {
			continue;
		}
		room = dense_room(d, bk);
		err  = sink->row_room(sink->ctx, room, &row);
		if (err == XSELL_OK) {
			n = dense_row(d, bk, row);
			assert(n <= room);
			err = sink->row_put(sink->ctx, (uint32_t) a, row, n);
		}
	}
	return err;
}

/* Relation rel's rows counted on the caller's thread into acc->row. */
struct row_here {
	xs_acc         *acc;
	uint32_t        rel;
	xs_pair_writer *w; /* row_write's */
};

static xsell_err
row_here_room(void *ctx, size_t room, struct xs_top_entry **rowp)
{
	xs_acc *acc = ((struct row_here *) ctx)->acc;

	if (room > acc->row_cap) {
		struct xs_top_entry *row =
		    realloc(acc->row, room * sizeof(*row));

		if (row == NULL) {
			return XSELL_ENOMEM;
		}
		acc->row     = row;
		acc->row_cap = room;
	}
	*rowp = acc->row;
	return XSELL_OK;
}

/* Sum relation rel's buckets a by a and hand each row (of an item with
 * changes) to 'put' (ctx a struct row_here). */
static xsell_err
buckets_each_row(struct row_here *h,
    xsell_err (*put)(void *, uint32_t, const struct xs_top_entry *, size_t))
{
	struct bucket_set    *s    = &h->acc->dense[h->rel];
	const struct row_sink sink = { row_here_room, put, h };
	struct dense          d;
	xsell_err             err;

	if (s->n_a == 0) {
		return XSELL_OK;
	}
	err = dense_init(&d, s);
	if (err == XSELL_OK) {
		err = rows_count(&d, s, &sink);
		dense_fini(&d);
	}
	return err;
}

static xsell_err
row_write(void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n)
{
	struct row_here *h = ctx;

	return xs_pair_writer_put(h->w, (enum xs_rel) h->rel, a, row, n);
}

/* ==== The bulk flush's pipeline: rows counted on a helper thread ==== */

/* Writing a row costs LMDB about 60 ns a pair (an appended duplicate);
 * counting it costs a fifth of that, and the two need nothing of each
 * other but the row. So a helper thread counts the rows ahead of the
 * writer into chunks, and the flush, which alone touches the
 * transaction, writes them in order: the same rows in the same order as
 * counting them here. A chunk holds consecutive rows, up to ROW_CHUNK
 * entries (8 bytes each) or ROW_CHUNK_ROWS rows (a row longer than that
 * gets a chunk of its own, at most DENSE_MAX entries); ROW_RING chunks
 * are in flight, so the ring holds 8 MiB, and at most 32 MiB, and the
 * two threads meet once a chunk (a few dozen times on Online Retail),
 * not once a row: on a busy machine each meeting may wait for the other
 * thread to be scheduled. */
#define ROW_CHUNK ((size_t) 1 << 18)
#define ROW_CHUNK_ROWS 4096u
#define ROW_RING 4u

struct row_ref {
	uint32_t a;
	uint32_t n;   /* entries */
	size_t   off; /* into the chunk's entries */
};

struct row_chunk {
	struct xs_top_entry *e;
	size_t               cap, used;
	struct row_ref      *rows; /* ROW_CHUNK_ROWS */
	size_t               n_rows;
};

struct row_pipe {
	const struct bucket_set *s;
	struct dense             d; /* the helper's */
	struct row_chunk         c[ROW_RING];
	struct row_chunk        *cur;  /* the helper's, being filled */
	struct xs_ring           ring; /* the helper fills c, in turn */
};

/* The helper: the next free chunk, emptied, into p->cur. false if the
 * writer stopped the pipe. */
static bool
pipe_next(struct row_pipe *p)
{
	size_t k;

	if (!xs_ring_fill(&p->ring, &k)) {
		return false;
	}
	p->cur         = &p->c[k];
	p->cur->used   = 0;
	p->cur->n_rows = 0;
	return true;
}

/* The helper: room in the chunk for a row of up to 'room' entries,
 * handing the chunk over first if it is full. XSELL_EINTERNAL if the
 * writer stopped the pipe (never seen by the writer, which failed). */
static xsell_err
pipe_room(void *ctx, size_t room, struct xs_top_entry **rowp)
{
	struct row_pipe  *p = ctx;
	struct row_chunk *c = p->cur;

	if (c->n_rows == ROW_CHUNK_ROWS ||
	    (c->n_rows != 0 && c->cap - c->used < room)) {
		xs_ring_publish(&p->ring);
		if (!pipe_next(p)) {
			return XSELL_EINTERNAL;
		}
		c = p->cur;
	}
	if (c->cap - c->used < room) { /* an empty chunk, a long row */
		struct xs_top_entry *e = realloc(c->e, room * sizeof(*e));

		if (e == NULL) {
			return XSELL_ENOMEM;
		}
		c->e   = e;
		c->cap = room;
	}
	*rowp = c->e + c->used;
	return XSELL_OK;
}

/* The helper: the row just counted at the chunk's end is kept. */
static xsell_err
pipe_put(void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n)
{
	struct row_pipe  *p = ctx;
	struct row_chunk *c = p->cur;

	(void) row; /* c->e + c->used, given by pipe_room */
	c->rows[c->n_rows].a   = a;
	c->rows[c->n_rows].n   = (uint32_t) n;
	c->rows[c->n_rows].off = c->used;
	c->n_rows++;
	c->used += n;
	return XSELL_OK;
}

/* The helper: every non-empty bucket's row, in a order, into chunks. */
static void *
pipe_count(void *arg)
{
	struct row_pipe      *p    = arg;
	const struct row_sink sink = { pipe_room, pipe_put, p };
	xsell_err             err  = XSELL_EINTERNAL;

	if (pipe_next(p)) {
		err = rows_count(&p->d, p->s, &sink);
	}
	if (err == XSELL_OK && p->cur->n_rows != 0) {
		xs_ring_publish(&p->ring); /* the last one */
	}
	xs_ring_end(&p->ring, err == XSELL_EINTERNAL ? XSELL_OK : err);
	return NULL;
}

/* The writer: the chunks' rows, in order, until the helper is done.
 * Returns the first error, the writer's or the helper's. */
static xsell_err
pipe_write(struct row_pipe *p, xs_pair_writer *w, uint32_t rel)
{
	size_t    k;
	xsell_err err;

	while (xs_ring_take(&p->ring, &k, &err)) {
		const struct row_chunk *c = &p->c[k];

		err = XSELL_OK;
		for (size_t i = 0; i < c->n_rows && err == XSELL_OK; i++) {
			err = xs_pair_writer_put(w, (enum xs_rel) rel,
			    c->rows[i].a, c->e + c->rows[i].off, c->rows[i].n);
		}
		if (err != XSELL_OK) {
			return err;
		}
		xs_ring_release(&p->ring);
	}
	return err;
}

static void
pipe_free(struct row_pipe *p)
{
	for (unsigned i = 0; i < ROW_RING; i++) {
		free(p->c[i].e);
		free(p->c[i].rows);
	}
	dense_fini(&p->d);
	free(p);
}

/* Start the helper on relation set s; NULL if it cannot start (no
 * memory, no thread): the caller counts the rows itself. */
static struct row_pipe *
pipe_start(const struct bucket_set *s)
{
	struct row_pipe *p  = calloc(1, sizeof(*p));
	bool             ok = true;

	if (p == NULL) {
		return NULL;
	}
	p->s = s;
	for (unsigned i = 0; i < ROW_RING && ok; i++) {
		p->c[i].e    = malloc(ROW_CHUNK * sizeof(*p->c[i].e));
		p->c[i].cap  = ROW_CHUNK;
		p->c[i].rows = malloc(ROW_CHUNK_ROWS * sizeof(*p->c[i].rows));
		ok           = p->c[i].e != NULL && p->c[i].rows != NULL;
	}
	if (!ok || dense_init(&p->d, s) != XSELL_OK) {
		pipe_free(p); /* dense_fini of a zeroed dense frees nothing */
		return NULL;
	}
	if (xs_ring_start(&p->ring, ROW_RING, pipe_count, p)) {
		return p;
	}
	pipe_free(p);
	return NULL;
}

/* Stop the helper (at once if the writer failed), join it, free it. */
static void
pipe_end(struct row_pipe *p)
{
	xs_ring_join(&p->ring);
	pipe_free(p);
}

/* Write relation rel's buckets, a by a, each a's list whole: counted
 * on the helper thread while written here, or here alone if the helper
 * cannot start. */
static xsell_err
buckets_write(xs_acc *acc, xs_pair_writer *w, uint32_t rel)
{
	struct row_here  h = { acc, rel, w };
	struct row_pipe *p;
	xsell_err        err;

	if (acc->dense[rel].n_a == 0) {
		return XSELL_OK;
	}
	p = pipe_start(&acc->dense[rel]);
	if (p == NULL) {
		return buckets_each_row(&h, row_write);
	}
	err = pipe_write(p, w, rel);
	pipe_end(p);
	return err;
}

static xsell_err
row_spill(void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n)
{
	struct row_here *h   = ctx;
	xs_acc          *acc = h->acc;
	xsell_err        err = XSELL_OK;

	for (size_t k = 0; k < n && err == XSELL_OK; k++) {
		err = log_add(
		    &acc->pairs, h->rel, a, row[k].b, (int32_t) row[k].count);
	}
	acc->held -= acc->dense[h->rel].by_a[a].n;
	return err;
}

/* Sum relation rel's buckets into the log and empty them. */
static xsell_err
buckets_spill(xs_acc *acc, uint32_t rel)
{
	struct row_here h   = { acc, rel, NULL };
	xsell_err       err = buckets_each_row(&h, row_spill);

	if (err == XSELL_OK) {
		buckets_free(acc, &acc->dense[rel]);
	}
	return err;
}

/* Move relation rel's buckets into its packed keys (when the radix way
 * must merge them with other changes). */
static xsell_err
buckets_to_packed(xs_acc *acc, uint32_t rel)
{
	struct bucket_set *s   = &acc->dense[rel];
	xsell_err          err = XSELL_OK;

	for (size_t a = 0; a < s->n_a && err == XSELL_OK; a++) {
		for (const struct block *blk             = s->by_a[a].head;
		     blk != NULL && err == XSELL_OK; blk = blk->next) {
			size_t len = block_len(&s->by_a[a], blk);

			for (size_t k = 0; k < len && err == XSELL_OK; k++) {
				err = packed_push(
				    acc, rel, (uint32_t) a, blk->b[k]);
			}
		}
		acc->held -= s->by_a[a].n;
	}
	if (err == XSELL_OK) {
		buckets_free(acc, s);
	}
	return err;
}

/* The bulk flush: every relation's lists written whole, in key order,
 * into the empty pair database (xs_pair_writer). */
static xsell_err
flush_pairs_bulk(xs_acc *acc, xs_store *st, MDB_txn *txn)
{
	struct pair_log *l = &acc->pairs;
	xs_pair_writer  *w;
	size_t           gi  = 0;
	xsell_err        err = XSELL_OK;

	err = feed_end(acc);
	if (err != XSELL_OK) {
		return err;
	}
	/* A load that spilled ends with one more spill: merging the
	 * buckets with the log through packed keys would hold every bucket
	 * entry twice over (4 bytes in the bucket, 8 packed, 8 to sort),
	 * past the bound the spills keep. */
	if (l->n != 0) {
		err = bulk_spill(acc);
	}
	if (err == XSELL_OK) {
		err = log_compact(l);
	}
	if (err == XSELL_OK) {
		err = xs_pair_writer_open(st, txn, &w);
	}
	if (err != XSELL_OK) {
		return err;
	}
	for (uint32_t rel = 0; rel < XS_REL_END && err == XSELL_OK; rel++) {
		struct packed_log *p  = &acc->packed[rel];
		size_t             gj = gi;
		struct sort_job    sj = { 0 };

		while (gj < l->n && l->v[gj].rel == rel) {
			gj++;
		}
		if (gj == gi && p->n == 0) {
			err = buckets_write(acc, w, rel);
			continue;
		}
		err = buckets_to_packed(acc, rel);
		if (err == XSELL_OK && p->n != 0) {
			err = sort_partition(acc, p, &sj);
		}
		if (err != XSELL_OK) {
			break;
		}
		/* A helper thread for the large ones only. */
		sort_start(&sj, p->n >= SORT_THREAD_MIN);
		err = write_rel(acc, w, rel, &sj, l->v + gi, gj - gi);
		sort_end(&sj);
		gi = gj;
	}
	xs_pair_writer_close(w);
	/* Relations past the known ones (none today) go the ordinary way;
	 * their keys sort after everything written above. */
	if (err == XSELL_OK && gi < l->n) {
		l->sorted = l->n = l->n - gi;
		memmove(l->v, l->v + gi, l->n * sizeof(*l->v));
		err = flush_pairs(l, st, txn);
	}
	return err;
}

xsell_err
xs_acc_flush(xs_acc *acc, xs_store *st, MDB_txn *txn)
{
	xsell_err err = acc->bulk ? flush_pairs_bulk(acc, st, txn)
	                          : flush_pairs(&acc->pairs, st, txn);

	if (err == XSELL_OK) {
		err = flush_items(&acc->items, st, txn);
	}
	xs_acc_clear(acc);
	return err;
}
