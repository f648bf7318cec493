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
 * by xs_store_pairs_add from the same counts. */
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
