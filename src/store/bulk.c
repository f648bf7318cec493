/* SPDX-License-Identifier: MIT */
/* Building the pair and top databases of a fresh store in one pass. A
 * bulk load into an empty store knows every pair's final count before it
 * writes any, so each neighbour list is written once, whole, in key
 * order: MDB_APPEND for the key and MDB_MULTIPLE | MDB_APPENDDUP for its
 * sorted duplicates, which skips the B-tree search that an ordinary put
 * makes for every pair (profiled: most of a load's time).
 *
 * The top list of each a is computed from its whole pair list, which is
 * what top.c's incremental merge arrives at when counts only grow (its
 * header says why): the best top_m by count descending, then b
 * ascending. So a store built here dumps to the same bytes as one built
 * by xs_store_pairs_add from the same counts.
 *
 * The writer faults the map's new pages in itself, as LMDB appends
 * them. Asking for them ahead was measured slower on the EPYC VM,
 * Online Retail, interleaved: a helper thread reading ahead with
 * posix_fadvise WILLNEED (kept for a while) 1.04-1.09 s wall against
 * 0.94-0.99 without it, and MADV_POPULATE_WRITE from the writer's own
 * thread, 4 MiB a call, 0.89-1.10 against 0.84-0.95. */
#include "store/store_impl.h"

#include <stdlib.h>
#include <string.h>

#define BULK_VAL_LEN 8
/* Counts below this are ranked by a counting sort; larger ones share
 * its last bucket and are sorted there by comparison. */
#define RANK_BUCKETS 1024u

struct xs_pair_writer {
	xs_store            *st;
	MDB_txn             *txn;
	MDB_cursor          *pair_cur, *top_cur;
	unsigned char       *vals; /* a row, big-endian (b, count) */
	size_t               vals_cap;
	struct xs_top_entry *rank; /* scratch: a row, best first */
	size_t               rank_cap;
	uint32_t             hist[RANK_BUCKETS + 1];
	bool                 any;      /* a row was written */
	uint8_t              last_rel; /* and its key, for the order check */
	uint32_t             last_a;
};

static xsell_err
db_is_empty(MDB_txn *txn, MDB_dbi dbi, bool *emptyp)
{
	MDB_stat s;
	int      rc = mdb_stat(txn, dbi, &s);

	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	*emptyp = s.ms_entries == 0;
	return XSELL_OK;
}

xsell_err
xs_store_pairs_empty(xs_store *st, MDB_txn *txn, bool *emptyp)
{
	bool      pair_empty = false, top_empty = false;
	xsell_err err = db_is_empty(txn, st->pair, &pair_empty);

	if (err == XSELL_OK) {
		err = db_is_empty(txn, st->top, &top_empty);
	}
	if (err == XSELL_OK) {
		*emptyp = pair_empty && top_empty;
	}
	return err;
}

xsell_err
xs_pair_writer_open(xs_store *st, MDB_txn *txn, xs_pair_writer **wp)
{
	xs_pair_writer *w;
	bool            empty = false;
	xsell_err       err;
	int             rc;

	err = xs_store_pairs_empty(st, txn, &empty);
	if (err != XSELL_OK) {
		return err;
	}
	if (!empty) {
		return XSELL_EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return XSELL_ENOMEM;
	}
	w->st  = st;
	w->txn = txn;
	rc     = mdb_cursor_open(txn, st->pair, &w->pair_cur);
	if (rc == 0) {
		rc = mdb_cursor_open(txn, st->top, &w->top_cur);
		if (rc != 0) {
			mdb_cursor_close(w->pair_cur);
		}
	}
	if (rc != 0) {
		free(w);
		return xs_err_from_mdb(rc);
	}
	*wp = w;
	return XSELL_OK;
}

void
xs_pair_writer_close(xs_pair_writer *w)
{
	if (w == NULL) {
		return;
	}
	mdb_cursor_close(w->top_cur);
	mdb_cursor_close(w->pair_cur);
	free(w->vals);
	free(w->rank);
	free(w);
}

static xsell_err
reserve(xs_pair_writer *w, size_t n)
{
	if (n > w->vals_cap) {
		unsigned char *v = realloc(w->vals, n * BULK_VAL_LEN);

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		w->vals     = v;
		w->vals_cap = n;
	}
	if (n > w->rank_cap) {
		struct xs_top_entry *r = realloc(w->rank, n * sizeof(*r));

		if (r == NULL) {
			return XSELL_ENOMEM;
		}
		w->rank     = r;
		w->rank_cap = n;
	}
	return XSELL_OK;
}

static unsigned
rank_bucket(uint32_t count)
{
	return count < RANK_BUCKETS ? count : RANK_BUCKETS;
}

/* The best 'm' of row[0..n) (sorted by b) into w->rank, best first;
 * returns how many. A stable counting sort by count, descending, keeps
 * b ascending among equal counts; only the entries at or above the
 * bucket that completes m are placed, and the top bucket (counts of
 * RANK_BUCKETS and more) is sorted by comparison. */
static size_t
rank_row(xs_pair_writer *w, const struct xs_top_entry *row, size_t n, size_t m)
{
	uint32_t *h    = w->hist;
	size_t    sum  = 0, big;
	unsigned  low  = 0;
	size_t    kept = 0;

	memset(h, 0, sizeof(w->hist));
	for (size_t i = 0; i < n; i++) {
		h[rank_bucket(row[i].count)]++;
	}
	/* Buckets from the top down until m entries are covered. */
	for (unsigned c = RANK_BUCKETS + 1; c-- > 0;) {
		sum += h[c];
		low = c;
		if (sum >= m) {
			break;
		}
	}
	/* Start offsets, best bucket first. */
	big = h[RANK_BUCKETS];
	for (unsigned c = RANK_BUCKETS + 1; c-- > low;) {
		uint32_t here = h[c];

		h[c] = (uint32_t) kept;
		kept += here;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned c = rank_bucket(row[i].count);

		if (c >= low) {
			w->rank[h[c]++] = row[i];
		}
	}
	if (big > 1) {
		qsort(w->rank, big, sizeof(*w->rank), xs_top_entry_cmp_best);
	}
	return kept < m ? kept : m;
}

static int
top_append(xs_pair_writer *w, enum xs_rel rel, uint32_t a,
    const struct xs_top_entry *row, size_t n)
{
	unsigned char kb[XS_REL_KEY_LEN];
	MDB_val       k = xs_key_rel(kb, rel, a);
	MDB_val       v;
	size_t        m = rank_row(w, row, n, w->st->top_m);

	/* The row's values are written already: reuse their buffer. */
	for (size_t i = 0; i < m; i++) {
		xs_be32_put(w->vals + i * BULK_VAL_LEN, w->rank[i].b);
		xs_be32_put(w->vals + i * BULK_VAL_LEN + 4, w->rank[i].count);
	}
	v.mv_data = w->vals;
	v.mv_size = m * BULK_VAL_LEN;
	return mdb_cursor_put(w->top_cur, &k, &v, MDB_APPEND);
}

xsell_err
xs_pair_writer_put(xs_pair_writer *w, enum xs_rel rel, uint32_t a,
    const struct xs_top_entry *row, size_t n)
{
	unsigned char kb[XS_REL_KEY_LEN];
	MDB_val       k = xs_key_rel(kb, rel, a);
	MDB_val       v[2];
	xsell_err     err;
	int           rc;

	xs_store_mark_rel(w->st, rel);
	if (w->any &&
	    (rel < w->last_rel || (rel == w->last_rel && a <= w->last_a))) {
		return XSELL_EINVAL;
	}
	err = reserve(w, n);
	if (err != XSELL_OK) {
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && row[i].b <= row[i - 1].b) {
			return XSELL_EINVAL;
		}
		if (row[i].count == 0) {
			return XSELL_EINVAL; /* a count of 0 is no pair */
		}
		xs_be32_put(w->vals + i * BULK_VAL_LEN, row[i].b);
		xs_be32_put(w->vals + i * BULK_VAL_LEN + 4, row[i].count);
	}
	if (n == 0) {
		return XSELL_OK;
	}
	w->any       = true;
	w->last_rel  = (uint8_t) rel;
	w->last_a    = a;
	v[0].mv_data = w->vals;
	v[0].mv_size = BULK_VAL_LEN;
	v[1].mv_data = NULL;
	v[1].mv_size = n;
	rc           = mdb_cursor_put(
	              w->pair_cur, &k, v, MDB_APPEND | MDB_APPENDDUP | MDB_MULTIPLE);
	if (rc == 0 && v[1].mv_size != n) {
		rc = MDB_CORRUPTED; /* LMDB stopped short */
	}
	if (rc == 0 && xs_rel_has_top(rel)) {
		rc = top_append(w, rel, a, row, n);
	}
	return xs_err_from_mdb(rc);
}

/* ==== Order records held for the end of a fresh build ==== */

/* Records live in blocks that never move, each record
 * [u16 key length][u32 value length][key][value] (host order, read with
 * memcpy); the index holds a pointer to each with the first 8 key bytes
 * as a big-endian number, so that most comparisons of the sort are one
 * integer compare. */
#define HELD_BLOCK ((size_t) 64 << 20)
#define HELD_HEAD 6

struct held_block {
	struct held_block *next;
	size_t             used, cap;
	unsigned char      b[];
};

struct held_rec {
	uint64_t             prefix;
	const unsigned char *p;
};

struct xs_orders_held {
	struct held_block *blocks; /* newest first */
	struct held_rec   *recs;
	size_t             n, cap;
};

static void
orders_held_free(struct xs_orders_held *h)
{
	struct held_block *b = h->blocks;

	while (b != NULL) {
		struct held_block *next = b->next;

		free(b);
		b = next;
	}
	free(h->recs);
	free(h);
}

xsell_err
xs_store_orders_hold(xs_store *st, MDB_txn *txn)
{
	bool      empty = false;
	xsell_err err   = db_is_empty(txn, st->order, &empty);

	if (err != XSELL_OK) {
		return err;
	}
	if (!empty || st->orders_held != NULL) {
		return XSELL_EINVAL;
	}
	st->orders_held = calloc(1, sizeof(*st->orders_held));
	return st->orders_held != NULL ? XSELL_OK : XSELL_ENOMEM;
}

bool
xs_store_orders_held(const xs_store *st)
{
	return st->orders_held != NULL;
}

void
xs_store_orders_held_drop(xs_store *st)
{
	if (st->orders_held != NULL) {
		orders_held_free(st->orders_held);
		st->orders_held = NULL;
	}
}

/* Room for 'len' more bytes in the newest block. */
static unsigned char *
held_alloc(struct xs_orders_held *h, size_t len)
{
	struct held_block *b = h->blocks;
	unsigned char     *p;

	if (b == NULL || b->cap - b->used < len) {
		size_t cap = len > HELD_BLOCK ? len : HELD_BLOCK;

		b = malloc(sizeof(*b) + cap);
		if (b == NULL) {
			return NULL;
		}
		b->next   = h->blocks;
		b->used   = 0;
		b->cap    = cap;
		h->blocks = b;
	}
	p = b->b + b->used;
	b->used += len;
	return p;
}

static uint64_t
key_prefix(const char *key, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 8; i++) {
		v = v << 8 | (i < len ? (unsigned char) key[i] : 0u);
	}
	return v;
}

xsell_err
xs_store_orders_held_put(struct xs_orders_held *h, const char *ext, size_t len,
    const struct xs_order_rec *rec, const uint32_t *items)
{
	size_t         items_len = (size_t) rec->n_items * sizeof(uint32_t);
	uint32_t       vlen      = (uint32_t) (sizeof(*rec) + items_len);
	uint16_t       klen      = (uint16_t) len;
	unsigned char *p;

	if (len == 0 || len > XSELL_ID_MAX || items_len > UINT32_MAX / 2) {
		return XSELL_EINVAL;
	}
	if (h->n == h->cap) {
		size_t           cap = h->cap ? h->cap * 2 : (size_t) 1 << 16;
		struct held_rec *r   = realloc(h->recs, cap * sizeof(*r));

		if (r == NULL) {
			return XSELL_ENOMEM;
		}
		h->recs = r;
		h->cap  = cap;
	}
	p = held_alloc(h, HELD_HEAD + len + vlen);
	if (p == NULL) {
		return XSELL_ENOMEM;
	}
	memcpy(p, &klen, 2);
	memcpy(p + 2, &vlen, 4);
	memcpy(p + HELD_HEAD, ext, len);
	memcpy(p + HELD_HEAD + len, rec, sizeof(*rec));
	if (items_len != 0) {
		memcpy(p + HELD_HEAD + len + sizeof(*rec), items, items_len);
	}
	h->recs[h->n].prefix = key_prefix(ext, len);
	h->recs[h->n].p      = p;
	h->n++;
	return XSELL_OK;
}

static MDB_val
held_key(const unsigned char *p)
{
	uint16_t klen;
	MDB_val  k;

	memcpy(&klen, p, 2);
	k.mv_size = klen;
	k.mv_data = (void *) (p + HELD_HEAD);
	return k;
}

/* LMDB's default key order (mdb_cmp_memn, which the order database
 * uses): bytes compared, then the shorter first. The zero-padded
 * prefixes order the same way whenever they differ. */
static int
held_cmp(const void *x, const void *y)
{
	const struct held_rec *a = x, *b = y;
	MDB_val                ka, kb;
	int                    d;

	if (a->prefix != b->prefix) {
		return a->prefix < b->prefix ? -1 : 1;
	}
	ka = held_key(a->p);
	kb = held_key(b->p);
	d  = memcmp(ka.mv_data, kb.mv_data,
            ka.mv_size < kb.mv_size ? ka.mv_size : kb.mv_size);
	if (d != 0) {
		return d;
	}
	return ka.mv_size < kb.mv_size ? -1 : ka.mv_size > kb.mv_size;
}

/* The held records, sorted, appended to the empty order database. */
static xsell_err
orders_held_write(xs_store *st, MDB_txn *txn, struct xs_orders_held *h)
{
	MDB_cursor *cur = NULL;
	int         rc;

	if (h->n > 1) { /* none held: recs is NULL */
		qsort(h->recs, h->n, sizeof(*h->recs), held_cmp);
	}
	rc = mdb_cursor_open(txn, st->order, &cur);
	for (size_t i = 0; i < h->n && rc == 0; i++) {
		const unsigned char *p = h->recs[i].p;
		MDB_val              k = held_key(p);
		MDB_val              v;
		uint32_t             vlen;

		if (i > 0 && held_cmp(&h->recs[i - 1], &h->recs[i]) == 0) {
			mdb_cursor_close(cur);
			return XSELL_EINVAL; /* an order id held twice */
		}
		memcpy(&vlen, p + 2, 4);
		v.mv_size = vlen;
		v.mv_data = NULL;
		rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND | MDB_RESERVE);
		if (rc == 0) {
			memcpy(v.mv_data, p + HELD_HEAD + k.mv_size, vlen);
		}
	}
	if (cur != NULL) {
		mdb_cursor_close(cur);
	}
	return xs_err_from_mdb(rc);
}

xsell_err
xs_store_orders_held_write(xs_store *st, MDB_txn *txn)
{
	xsell_err err;

	if (st->orders_held == NULL) {
		return XSELL_EINVAL;
	}
	err = orders_held_write(st, txn, st->orders_held);
	xs_store_orders_held_drop(st);
	return err;
}
