/* SPDX-License-Identifier: MIT */
/* The pools of real ids that requests are drawn from: the store's own
 * items, weighted by popularity (a product page is asked for about as
 * often as the product sells), or a plain list from a file; and the
 * store's users with a history of a given size, for picks. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

uint64_t
bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double
bench_rand01(uint64_t *state)
{
	return (double) (bench_rand(state) >> 11) * 0x1.0p-53;
}

static bool
pool_reserve(struct bench_pool *p, size_t n)
{
	p->ids  = calloc(n ? n : 1, sizeof(*p->ids));
	p->lens = calloc(n ? n : 1, sizeof(*p->lens));
	p->cum  = calloc(n ? n : 1, sizeof(*p->cum));
	if (p->ids == NULL || p->lens == NULL || p->cum == NULL) {
		fprintf(stderr, "xsell-bench: out of memory\n");
		return false;
	}
	return true;
}

static bool
pool_push(struct bench_pool *p, const char *id, size_t len, double weight)
{
	char *s = malloc(len + 1);

	if (s == NULL) {
		fprintf(stderr, "xsell-bench: out of memory\n");
		return false;
	}
	memcpy(s, id, len);
	s[len]        = '\0';
	p->ids[p->n]  = s;
	p->lens[p->n] = (uint32_t) len;
	p->cum[p->n]  = (p->n ? p->cum[p->n - 1] : 0) + weight;
	p->n++;
	return true;
}

const char *
bench_store_why(xsell_err err)
{
	int why = errno;

	return why != 0 ? strerror(why) : xsell_strerror(err);
}

/* Fills a pool from ids 1..n of a store's dictionary (pool_load). */
typedef bool (*pool_filler)(
    struct bench_pool *p, xs_store *st, MDB_txn *txn, uint32_t n, void *ctx);

/* Open the store in 'dir' read-only and fill 'p' from the 'n' ids of its
 * dictionary 'dict' (at most BENCH_POOL_MAX; 'what' names them in a
 * message) with fill(ctx), in one snapshot. */
static bool
pool_load(struct bench_pool *p, const char *dir, enum xs_dict dict,
    const char *what, pool_filler fill, void *ctx)
{
	struct xs_store_opts so = { .read_only = true };
	xs_store            *st;
	MDB_txn             *txn;
	uint32_t             n  = 0;
	bool                 ok = false;
	xsell_err            err;

	memset(p, 0, sizeof(*p));
	err = xs_store_open(&st, dir, &so);
	if (err != XSELL_OK) {
		fprintf(stderr, "xsell-bench: %s: %s\n", dir,
		    bench_store_why(err));
		return false;
	}
	err = xs_txn_read(st, &txn);
	if (err == XSELL_OK) {
		err = xs_store_dict_size(st, txn, dict, &n);
		if (err == XSELL_OK && n > BENCH_POOL_MAX) {
			fprintf(stderr, "xsell-bench: %s: more than %u %s\n",
			    dir, BENCH_POOL_MAX, what);
		} else if (err == XSELL_OK && pool_reserve(p, n)) {
			ok = fill(p, st, txn, n, ctx);
		}
		xs_txn_abort(txn);
	}
	if (err != XSELL_OK) {
		fprintf(
		    stderr, "xsell-bench: %s: %s\n", dir, xsell_strerror(err));
	}
	xs_store_close(st);
	return ok;
}

/* Copy every item id of the open store, with its basket count (ctx:
 * bool, all weighed 1 when true). */
static bool
pool_fill(
    struct bench_pool *p, xs_store *st, MDB_txn *txn, uint32_t n, void *ctx)
{
	bool                    uniform = *(const bool *) ctx;
	struct xs_counts_reader cr;

	xs_counts_reader_init(&cr, st, txn);
	for (uint32_t id = 1; id <= n; id++) {
		const char *ext;
		size_t      len;
		double      w = 1;

		if (xs_store_ext_get(st, txn, XS_DICT_ITEM, id, &ext, &len) !=
		    XSELL_OK) {
			continue;
		}
		if (!uniform) {
			w = xs_counts_reader_get(&cr, id, XS_C_BASKETS);
		}
		if (!pool_push(p, ext, len, w)) {
			xs_counts_reader_fini(&cr);
			return false;
		}
	}
	xs_counts_reader_fini(&cr);
	return true;
}

bool
bench_pool_from_store(struct bench_pool *p, const char *dir, bool uniform)
{
	bool ok =
	    pool_load(p, dir, XS_DICT_ITEM, "items", pool_fill, &uniform);

	if (ok && (p->n == 0 || p->cum[p->n - 1] <= 0)) {
		fprintf(
		    stderr, "xsell-bench: %s: no items with baskets\n", dir);
		ok = false;
	}
	return ok;
}

/* A user's history: how many events, and the newest one's time. */
struct hist_size {
	uint32_t n;
	int64_t  newest;
};

static xsell_err
hist_size_add(void *ctx, const struct xs_hist_rec *ev)
{
	struct hist_size *h = ctx;

	h->n++;
	if (ev->ts > h->newest) {
		h->newest = ev->ts;
	}
	return XSELL_OK;
}

/* What users_fill keeps, and the newest event time it saw. */
struct users_want {
	unsigned max_events;
	int64_t *newestp;
};

/* Walk the user dictionary (ids 1..n; forgotten ones are gone) and keep
 * the users with 1..max_events events (ctx: struct users_want). The
 * store has no user listing of its own, so this is one history walk per
 * user: a few seconds for a million users, once, before the clock
 * starts. */
static bool
users_fill(
    struct bench_pool *p, xs_store *st, MDB_txn *txn, uint32_t n, void *ctx)
{
	const struct users_want *want       = ctx;
	unsigned                 max_events = want->max_events;
	int64_t                 *newestp    = want->newestp;

	for (uint32_t id = 1; id <= n; id++) {
		struct hist_size h = { 0, 0 };
		const char      *ext;
		size_t           len;

		if (xs_store_ext_get(st, txn, XS_DICT_USER, id, &ext, &len) !=
		    XSELL_OK) {
			continue;
		}
		if (xs_store_history_each(
		        st, txn, id, false, hist_size_add, &h) != XSELL_OK) {
			fprintf(
			    stderr, "xsell-bench: cannot read a history\n");
			return false;
		}
		if (h.newest > *newestp) {
			*newestp = h.newest;
		}
		if (h.n >= 1 && h.n <= max_events &&
		    !pool_push(p, ext, len, 1)) {
			return false;
		}
	}
	return true;
}

bool
bench_users_from_store(struct bench_pool *p, const char *dir,
    unsigned max_events, int64_t *newestp)
{
	struct users_want want = { max_events, newestp };

	*newestp = 0;
	return pool_load(p, dir, XS_DICT_USER, "users", users_fill, &want);
}

bool
bench_pool_from_file(struct bench_pool *p, const char *path)
{
	char   line[BENCH_LINE_MAX];
	FILE  *f;
	size_t lines = 0;
	bool   ok    = true;

	memset(p, 0, sizeof(*p));
	f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return false;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lines++;
	}
	if (lines > BENCH_POOL_MAX || !pool_reserve(p, lines)) {
		fprintf(stderr, "xsell-bench: %s: too many lines\n", path);
		(void) fclose(f); /* read only: nothing to lose */
		return false;
	}
	rewind(f);
	while (ok && p->n < lines && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n");

		if (len == 0) {
			continue;
		}
		if (len > XSELL_ID_MAX) {
			fprintf(stderr,
			    "xsell-bench: %s: an id is longer "
			    "than %d bytes\n",
			    path, XSELL_ID_MAX);
			ok = false;
			break;
		}
		ok = pool_push(p, line, len, 1);
	}
	(void) fclose(f); /* read only */
	if (ok && p->n == 0) {
		fprintf(stderr, "xsell-bench: %s: no ids\n", path);
		ok = false;
	}
	return ok;
}

void
bench_pool_fini(struct bench_pool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->ids[i]);
	}
	free(p->ids);
	free(p->lens);
	free(p->cum);
	memset(p, 0, sizeof(*p));
}

size_t
bench_pool_draw(const struct bench_pool *p, uint64_t *rng)
{
	double x  = bench_rand01(rng) * p->cum[p->n - 1];
	size_t lo = 0, hi = p->n - 1;

	/* The first index whose cumulative weight passes x. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->cum[mid] > x) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return lo;
}
