/* SPDX-License-Identifier: MIT */
/* Pair counts. Key: (u8 relation, u32 a); sorted fixed-size duplicates:
 * (u32 b, u32 count), both big-endian, so a neighbour list is read page
 * by page (MDB_GET_MULTIPLE) at 8 bytes a pair, and a count changes in
 * place (MDB_CURRENT: b is unique, so the new value sorts where the old
 * one was). */
#include "store/store_impl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define PAIR_VAL_LEN 8

static MDB_val
pair_val(unsigned char buf[PAIR_VAL_LEN], uint32_t b, uint32_t count)
{
	MDB_val v;

	xs_be32_put(buf, b);
	xs_be32_put(buf + 4, count);
	v.mv_data = buf;
	v.mv_size = PAIR_VAL_LEN;
	return v;
}

/* Apply one delta with the cursor; positions it on or near (a, b).
 * *countp: the pair's count after it (0: gone). */
static int
pair_apply(MDB_cursor *cur, enum xs_rel rel, const struct xs_pair_delta *pd,
    uint32_t *countp)
{
	unsigned char kb[XS_REL_KEY_LEN], vb[PAIR_VAL_LEN];
	MDB_val       k = xs_key_rel(kb, rel, pd->a);
	MDB_val       v = pair_val(vb, pd->b, 0);
	int64_t       count;
	int           rc;

	*countp = 0;
	rc      = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
	if (rc == 0 && v.mv_size == PAIR_VAL_LEN &&
	    xs_be32_get(v.mv_data) == pd->b) {
		count =
		    (int64_t) xs_be32_get((unsigned char *) v.mv_data + 4) +
		    pd->d;
		if (count <= 0) {
			return mdb_cursor_del(cur, 0);
		}
		if (count > UINT32_MAX) {
			count = UINT32_MAX;
		}
		*countp = (uint32_t) count;
		v       = pair_val(vb, pd->b, *countp);
		return mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		return rc;
	}
	if (pd->d <= 0) {
		return 0; /* nothing to take away from */
	}
	*countp = (uint32_t) pd->d;
	v       = pair_val(vb, pd->b, *countp);
	return mdb_cursor_put(cur, &k, &v, 0);
}

/* The pairs of one a whose count rose, for its top list. */
struct rises {
	struct xs_top_entry *v;
	size_t               n, cap;
	bool                 fell; /* some count of a fell */
};

static xsell_err
rises_add(struct rises *r, uint32_t b, uint32_t count)
{
	if (r->n == r->cap) {
		size_t               cap = r->cap ? r->cap * 2 : 64;
		struct xs_top_entry *v   = realloc(r->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		r->v   = v;
		r->cap = cap;
	}
	r->v[r->n].b     = b;
	r->v[r->n].count = count;
	r->n++;
	return XSELL_OK;
}

/* Apply the deltas of one a (deltas[0..n), sorted by b) and bring its top
 * list up to date. */
static xsell_err
pairs_add_one(xs_store *st, MDB_txn *txn, MDB_cursor *cur, enum xs_rel rel,
    const struct xs_pair_delta *deltas, size_t n, struct rises *r)
{
	bool      top = xs_rel_has_top(rel);
	uint32_t  count;
	xsell_err err = XSELL_OK;
	int       rc  = 0;

	r->n    = 0;
	r->fell = false;
	for (size_t i = 0; i < n && rc == 0 && err == XSELL_OK; i++) {
		assert(i == 0 || deltas[i - 1].b < deltas[i].b);
		if (deltas[i].d == 0) {
			continue;
		}
		rc = pair_apply(cur, rel, &deltas[i], &count);
		if (rc == 0 && top) {
			if (deltas[i].d < 0) {
				r->fell = true;
			} else {
				err = rises_add(r, deltas[i].b, count);
			}
		}
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (err != XSELL_OK || !top) {
		return err;
	}
	return xs_store_top_update(
	    st, txn, rel, deltas[0].a, r->v, r->n, r->fell);
}

xsell_err
xs_store_pairs_add(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    const struct xs_pair_delta *deltas, size_t n)
{
	struct rises r = { 0 };
	MDB_cursor  *cur;
	xsell_err    err = XSELL_OK;
	size_t       run;
	int          rc;

	if (n != 0) {
		xs_store_mark_rel(st, rel);
	}
	rc = mdb_cursor_open(txn, st->pair, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	for (size_t i = 0; i < n && err == XSELL_OK; i += run) {
		assert(i == 0 || deltas[i - 1].a <= deltas[i].a);
		run = 1;
		while (i + run < n && deltas[i + run].a == deltas[i].a) {
			run++;
		}
		err = pairs_add_one(st, txn, cur, rel, deltas + i, run, &r);
	}
	mdb_cursor_close(cur);
	free(r.v);
	return err;
}

xsell_err
xs_store_pairs_each(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    xs_pair_cb cb, void *ctx)
{
	return xs_store_pairs_each_min(st, txn, rel, a, 0, cb, ctx);
}

xsell_err
xs_store_pairs_each_min(xs_store *st, MDB_txn *txn, enum xs_rel rel,
    uint32_t a, uint32_t min_count, xs_pair_cb cb, void *ctx)
{
	unsigned char kb[XS_REL_KEY_LEN];
	MDB_val       k = xs_key_rel(kb, rel, a);
	MDB_val       v;
	MDB_cursor   *cur;
	int           rc;
	xsell_err     stop = XSELL_OK;

	rc = mdb_cursor_open(txn, st->pair, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
	}
	while (rc == 0 && stop == XSELL_OK) {
		const unsigned char *p = v.mv_data;
		size_t               n = v.mv_size / PAIR_VAL_LEN;

		for (size_t i = 0; i < n && stop == XSELL_OK; i++) {
			uint32_t count = xs_be32_get(p + i * PAIR_VAL_LEN + 4);

			/* Skipped here, not in cb: a walk past a top list
			 * drops nearly every pair, and this is a compare. */
			if (count >= min_count) {
				stop = cb(ctx,
				    xs_be32_get(p + i * PAIR_VAL_LEN), count);
			}
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	mdb_cursor_close(cur);
	if (stop != XSELL_OK) {
		return stop;
	}
	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

xsell_err
xs_store_pairs_read(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    size_t max_n, struct xs_arena *arena, struct xs_top_entry **vp, size_t *np)
{
	unsigned char        kb[XS_REL_KEY_LEN];
	MDB_val              k = xs_key_rel(kb, rel, a);
	MDB_val              v;
	MDB_cursor          *cur;
	struct xs_top_entry *out;
	size_t               n   = 0;
	size_t               got = 0;
	int                  rc;

	*vp = NULL;
	*np = 0;
	rc  = mdb_cursor_open(txn, st->pair, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	if (rc == 0) {
		rc = mdb_cursor_count(cur, &n);
	}
	if (rc == 0 && (n > max_n || n > SIZE_MAX / sizeof(*out))) {
		mdb_cursor_close(cur);
		return XSELL_ETOOBIG;
	}
	/* The count is known before the read, so the array is allocated
	 * once, exactly. */
	out = rc == 0 ? xs_arena_alloc(arena, n * sizeof(*out)) : NULL;
	if (rc == 0 && out == NULL) {
		mdb_cursor_close(cur);
		return XSELL_ENOMEM;
	}
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
	}
	while (rc == 0) {
		const unsigned char *p = v.mv_data;
		size_t               m = v.mv_size / PAIR_VAL_LEN;

		if (m > n - got) {
			rc = MDB_CORRUPTED; /* more rows than counted */
			break;
		}
		for (size_t i = 0; i < m; i++) {
			out[got + i].b = xs_be32_get(p + i * PAIR_VAL_LEN);
			out[got + i].count =
			    xs_be32_get(p + i * PAIR_VAL_LEN + 4);
		}
		got += m;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		return xs_err_from_mdb(rc);
	}
	*vp = out;
	*np = got;
	return XSELL_OK;
}

/* The count of (a, b) under 'rel' through 'cur' (0 if none). */
static xsell_err
pair_find(
    MDB_cursor *cur, enum xs_rel rel, uint32_t a, uint32_t b, uint32_t *countp)
{
	unsigned char kb[XS_REL_KEY_LEN], vb[PAIR_VAL_LEN];
	MDB_val       k  = xs_key_rel(kb, rel, a);
	MDB_val       v  = pair_val(vb, b, 0);
	int           rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);

	*countp = 0;
	if (rc == 0 && xs_be32_get(v.mv_data) == b) {
		*countp = xs_be32_get((unsigned char *) v.mv_data + 4);
	}
	return rc == 0 || rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

xsell_err
xs_store_pair_get(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    uint32_t b, uint32_t *countp)
{
	MDB_cursor *cur;
	int         rc = mdb_cursor_open(txn, st->pair, &cur);
	xsell_err   err;

	*countp = 0;
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	err = pair_find(cur, rel, a, b, countp);
	mdb_cursor_close(cur);
	return err;
}

xsell_err
xs_store_pairs_last_a(
    xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t *ap)
{
	unsigned char kb[XS_REL_KEY_LEN];
	MDB_val       k = xs_key_rel(kb, rel + 1, 0);
	MDB_val       v;
	MDB_cursor   *cur;
	int           rc;

	rc = mdb_cursor_open(txn, st->pair, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	/* The first key past the relation, then one key back. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV_NODUP);
	} else if (rc == MDB_NOTFOUND) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	mdb_cursor_close(cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (k.mv_size != XS_REL_KEY_LEN ||
	    ((const unsigned char *) k.mv_data)[0] != (unsigned char) rel) {
		return XSELL_ENOENT;
	}
	*ap = xs_be32_get((const unsigned char *) k.mv_data + 1);
	return XSELL_OK;
}
