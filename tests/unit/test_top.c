/* SPDX-License-Identifier: MIT */
/* Top neighbour lists (store/top.c) and the answers read from them.
 *
 * 1. After any sequence of increments and decrements, each list holds
 *    exactly the best top_m pairs of its row (count descending, then b
 *    ascending), as a brute-force ranking of counts kept by this test
 *    says; a row taken back to nothing leaves no list. The same holds
 *    for a long row whose increments come a few, dozens or hundreds at a
 *    time (each way top.c looks up what rose).
 * 2. fbt, similar and viewed_bought read the top lists but must give the
 *    answers of whole lists: two stores fed the same random events, one
 *    keeping 2 neighbours a list (so nearly every answer needs the check
 *    and the fallback) and one keeping 1,000 (every list whole), give
 *    the same items with the same scores, for every scorer, k, cart size
 *    and filter tried. */
#include "support.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"

#define N_A 4
#define N_B 24
#define TOP_M 3

static xs_store *
open_with_top_m(unsigned top_m, char **dirp)
{
	struct xs_store_opts o = { .no_sync = true, .top_m = top_m };
	xs_store            *st;

	*dirp = xs_test_tmpdir();
	assert_xs_ok(xs_store_open(&st, *dirp, &o));
	assert_int_equal(xs_store_top_m(st), top_m);
	return st;
}

struct list {
	struct xs_top_entry e[TOP_M + 1];
	size_t              n;
};

static xsell_err
list_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct list *l = ctx;

	assert_true(l->n < TOP_M); /* never longer than top_m */
	l->e[l->n].b     = b;
	l->e[l->n].count = count;
	l->n++;
	return XSELL_OK;
}

/* The expected list of row 'counts' (index b), by brute force: take the
 * best remaining pair top_m times. */
static size_t
expected_top(const uint32_t counts[N_B + 1], struct xs_top_entry *out)
{
	bool   taken[N_B + 1] = { false };
	size_t n              = 0;

	while (n < TOP_M) {
		uint32_t best = 0;

		for (uint32_t b = 1; b <= N_B; b++) {
			if (!taken[b] && counts[b] > 0 &&
			    (best == 0 || counts[b] > counts[best])) {
				best =
				    b; /* ascending b: the first wins ties */
			}
		}
		if (best == 0) {
			break;
		}
		taken[best]  = true;
		out[n].b     = best;
		out[n].count = counts[best];
		n++;
	}
	return n;
}

static void
test_top_lists_match_brute_force(void **state)
{
	uint32_t  counts[N_A + 1][N_B + 1] = { { 0 } };
	char     *dir;
	xs_store *st  = open_with_top_m(TOP_M, &dir);
	unsigned  rnd = 7;

	(void) state;
	for (int round = 0; round < 400; round++) {
		struct xs_pair_delta d[N_A * N_B];
		size_t               n = 0;
		MDB_txn             *txn;

		/* A batch: some pairs of some rows, mostly up, sometimes
		 * down (as forget_user takes counts back), sorted by (a,b). */
		for (uint32_t a = 1; a <= N_A; a++) {
			for (uint32_t b = 1; b <= N_B; b++) {
				int32_t delta;

				if (rand_r(&rnd) % 6 != 0) {
					continue;
				}
				delta = (int32_t) (rand_r(&rnd) % 4) + 1;
				if (round > 50 && rand_r(&rnd) % 4 == 0) {
					delta =
					    -(int32_t) (rand_r(&rnd) % 5 + 1);
				}
				d[n++] =
				    (struct xs_pair_delta) { a, b, delta };
				counts[a][b] = delta < 0 &&
				        (uint32_t) -delta >= counts[a][b]
				    ? 0
				    : (uint32_t) ((int32_t) counts[a][b] +
				          delta);
			}
		}
		assert_xs_ok(xs_txn_write(st, &txn));
		assert_xs_ok(xs_store_pairs_add(st, txn, XS_REL_BASKET, d, n));
		assert_xs_ok(xs_txn_commit(txn));

		assert_xs_ok(xs_txn_read(st, &txn));
		for (uint32_t a = 1; a <= N_A; a++) {
			struct xs_top_entry want[TOP_M];
			struct list         got = { .n = 0 };
			size_t n_want = expected_top(counts[a], want);

			assert_xs_ok(xs_store_top_each(st, txn, XS_REL_BASKET,
			    a, SIZE_MAX, list_cb, &got, NULL));
			assert_int_equal(got.n, n_want);
			for (size_t i = 0; i < n_want; i++) {
				assert_int_equal(got.e[i].b, want[i].b);
				assert_int_equal(
				    got.e[i].count, want[i].count);
			}
		}
		xs_txn_abort(txn);
	}
	xs_store_close(st);
	xs_test_rmdir(dir);
}

#define LONG_N_B 600
#define LONG_TOP_M 40

struct long_list {
	struct xs_top_entry e[LONG_TOP_M + 1];
	size_t              n;
};

/* Like list_cb, for the long row's list. */
static xsell_err
long_list_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct long_list *l = ctx;

	assert_true(l->n < LONG_TOP_M);
	l->e[l->n].b     = b;
	l->e[l->n].count = count;
	l->n++;
	return XSELL_OK;
}

static int
entry_cmp_brute(const void *x, const void *y)
{
	const struct xs_top_entry *p = x, *q = y;

	if (p->count != q->count) {
		return p->count > q->count ? -1 : 1;
	}
	return p->b < q->b ? -1 : p->b > q->b;
}

static void
test_top_long_row_matches_brute_force(void **state)
{
	static uint32_t     counts[LONG_N_B + 1];
	struct xs_top_entry all[LONG_N_B];
	char               *dir;
	xs_store           *st  = open_with_top_m(LONG_TOP_M, &dir);
	unsigned            rnd = 11;

	(void) state;
	memset(counts, 0, sizeof(counts));
	for (int round = 0; round < 90; round++) {
		/* 1 in 3 rounds: up to 6 rises; then up to 60; then about
		 * 400, more than fit top.c's stack. */
		unsigned             one_in = round % 3 == 0 ? 150
		                : round % 3 == 1             ? 12
		                                             : 1;
		struct xs_pair_delta d[LONG_N_B];
		struct long_list     got = { .n = 0 };
		size_t               n = 0, n_all = 0;
		MDB_txn             *txn;

		for (uint32_t b = 1; b <= LONG_N_B; b++) {
			if (rand_r(&rnd) % one_in != 0 ||
			    (one_in == 1 && rand_r(&rnd) % 3 == 0)) {
				continue;
			}
			d[n] = (struct xs_pair_delta) { 7, b,
				(int32_t) (rand_r(&rnd) % 3) + 1 };
			counts[b] += (uint32_t) d[n].d;
			n++;
		}
		assert_xs_ok(xs_txn_write(st, &txn));
		assert_xs_ok(xs_store_pairs_add(st, txn, XS_REL_BASKET, d, n));
		assert_xs_ok(xs_txn_commit(txn));

		for (uint32_t b = 1; b <= LONG_N_B; b++) {
			if (counts[b] > 0) {
				all[n_all++] =
				    (struct xs_top_entry) { b, counts[b] };
			}
		}
		qsort(all, n_all, sizeof(*all), entry_cmp_brute);
		if (n_all > LONG_TOP_M) {
			n_all = LONG_TOP_M;
		}
		assert_xs_ok(xs_txn_read(st, &txn));
		assert_xs_ok(xs_store_top_each(st, txn, XS_REL_BASKET, 7,
		    SIZE_MAX, long_list_cb, &got, NULL));
		xs_txn_abort(txn);
		assert_int_equal(got.n, n_all);
		for (size_t i = 0; i < n_all; i++) {
			assert_int_equal(got.e[i].b, all[i].b);
			assert_int_equal(got.e[i].count, all[i].count);
		}
	}
	xs_store_close(st);
	xs_test_rmdir(dir);
}

static void
test_top_lists_only_for_neighbour_relations(void **state)
{
	char                *dir;
	xs_store            *st  = open_with_top_m(TOP_M, &dir);
	struct xs_pair_delta d   = { 20000, 5, 1 };
	struct list          got = { .n = 0 };
	MDB_txn             *txn;

	(void) state;
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_pairs_add(st, txn, XS_REL_TREND_BUY, &d, 1));
	assert_xs_err(xs_store_top_each(st, txn, XS_REL_TREND_BUY, 20000,
	                  SIZE_MAX, list_cb, &got, NULL),
	    XSELL_EINVAL);
	assert_int_equal(got.n, 0);
	xs_txn_abort(txn);
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* xs_store_pairs_read gives a's whole row in ascending b with its
 * counts (the ones written, summed), refuses past max_n without
 * allocating, and gives nothing for an item without pairs. */
static void
test_pairs_read_whole_list(void **state)
{
	char                *dir;
	xs_store            *st     = open_with_top_m(TOP_M, &dir);
	struct xs_pair_delta d[]    = { { 3, 2, 4 }, { 3, 9, 1 }, { 3, 40, 2 },
		   { 3, 41, 7 }, { 5, 1, 1 } };
	struct xs_pair_delta more[] = { { 3, 9, 2 } };
	struct xs_top_entry *v;
	struct xs_arena      arena;
	size_t               n, used;
	MDB_txn             *txn;

	(void) state;
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_pairs_add(st, txn, XS_REL_BASKET, d, 5));
	assert_xs_ok(xs_store_pairs_add(st, txn, XS_REL_BASKET, more, 1));
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(
	    xs_store_pairs_read(st, txn, XS_REL_BASKET, 3, 4, &arena, &v, &n));
	assert_int_equal(n, 4);
	assert_int_equal(v[0].b, 2);
	assert_int_equal(v[0].count, 4);
	assert_int_equal(v[1].b, 9);
	assert_int_equal(v[1].count, 3); /* 1 + 2 */
	assert_int_equal(v[2].b, 40);
	assert_int_equal(v[2].count, 2);
	assert_int_equal(v[3].b, 41);
	assert_int_equal(v[3].count, 7);
	used = arena.used;
	assert_xs_err(
	    xs_store_pairs_read(st, txn, XS_REL_BASKET, 3, 3, &arena, &v, &n),
	    XSELL_ETOOBIG);
	assert_int_equal(arena.used, used);
	assert_null(v);
	/* Another relation, an item without pairs. */
	assert_xs_ok(
	    xs_store_pairs_read(st, txn, XS_REL_VIEW, 3, 100, &arena, &v, &n));
	assert_int_equal(n, 0);
	assert_xs_ok(xs_store_pairs_read(
	    st, txn, XS_REL_BASKET, 4, 100, &arena, &v, &n));
	assert_int_equal(n, 0);
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* ==== Answers ==== */

#define N_ITEMS 40
#define N_USERS 30

#define FEED_ITEMS_MAX 400

/* How feed_batch draws its events. */
struct feed_shape {
	int      batches;   /* write transactions */
	int      per_batch; /* events of one (xs_test_events takes 64) */
	unsigned min_items; /* items of an order: min_items plus */
	unsigned spread;    /* 0..spread - 1 more */
	unsigned n_items;   /* items drawn from, at most FEED_ITEMS_MAX */
	char     prefix;    /* item names: the prefix and the number */
	bool     views;     /* a third of the events views of one item */
	bool     distinct;  /* an item at most once in an order */
};

/* Batch 'batch' of random events shaped by 'fs' into 'spec', as
 * xs_test_events reads them: orders of users u0..u<N_USERS - 1>, the
 * low item numbers far more often (x * x / n_items of a uniform x), so
 * that lists are long and uneven. Returns the length written. */
static size_t
feed_batch(char *spec, size_t len, unsigned *rnd, const struct feed_shape *fs,
    int batch)
{
	size_t o = 0;

	assert_true(fs->n_items <= FEED_ITEMS_MAX);
	spec[0] = '\0';
	for (int e = batch * fs->per_batch; e < (batch + 1) * fs->per_batch;
	     e++) {
		unsigned n    = fs->min_items + rand_r(rnd) % fs->spread;
		unsigned user = rand_r(rnd) % N_USERS;
		bool     view = fs->views && rand_r(rnd) % 3 == 0;
		bool     used[FEED_ITEMS_MAX] = { false };

		o += (size_t) snprintf(spec + o, len - o, "%s%d %s u%u ",
		    o ? "; " : "", 1000 + e * 60, view ? "view" : "order",
		    user);
		for (unsigned i = 0; i < (view ? 1 : n); i++) {
			unsigned x    = rand_r(rnd) % fs->n_items;
			unsigned item = x * x / fs->n_items; /* skewed */

			if (fs->distinct && used[item]) {
				continue;
			}
			used[item] = true;
			o += (size_t) snprintf(spec + o, len - o, "%s%c%u",
			    spec[o - 1] == ' ' ? "" : ",", fs->prefix, item);
		}
		if (!view) {
			o += (size_t) snprintf(spec + o, len - o, " o%d", e);
		}
	}
	assert_true(o < len - 1);
	return o;
}

/* Every batch of 'fs' into 'st', one write transaction each. */
static void
feed(xs_store *st, unsigned seed, const struct feed_shape *fs)
{
	unsigned rnd = seed;

	for (int batch = 0; batch < fs->batches; batch++) {
		char spec[16384];

		feed_batch(spec, sizeof(spec), &rnd, fs, batch);
		xs_test_events(st, NULL, spec);
	}
}

/* Orders of 2..6 items "i<n>" and views, 50 events a transaction. */
static const struct feed_shape mixed_shape = { 12, 50, 2, 5, N_ITEMS, 'i',
	true, false };

typedef xsell_err (*answer_fn)(xs_store *, MDB_txn *,
    const struct xs_settings *, const struct xs_query *, struct xs_arena *,
    struct xs_answer *);

static void
render(const struct xs_answer *ans, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < ans->n; i++) {
		o += (size_t) snprintf(out + o, len - o, "%.*s=%.12g ",
		    (int) ans->recs[i].ext_len, ans->recs[i].ext,
		    ans->recs[i].score);
	}
}

/* The answer of fn to q, rendered, from a read transaction (which reads
 * and keeps the snapshot's memos) or a write transaction (which has
 * none). */
static void
ask_in(xs_store *st, bool write, answer_fn fn, const struct xs_query *q,
    char *out, size_t len)
{
	struct xs_settings set;
	struct xs_arena    arena;
	struct xs_answer   ans;
	MDB_txn           *txn;

	xs_settings_default(&set);
	xs_arena_init(&arena, 16 << 20);
	assert_xs_ok(write ? xs_txn_write(st, &txn) : xs_txn_read(st, &txn));
	assert_xs_ok(fn(st, txn, &set, q, &arena, &ans));
	render(&ans, out, len);
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
}

static void
ask(xs_store *st, answer_fn fn, const struct xs_query *q, char *out,
    size_t len)
{
	ask_in(st, false, fn, q, out, len);
}

static void
test_answers_from_top_lists_equal_whole_lists(void **state)
{
	static const answer_fn fns[]   = { xs_model_fbt, xs_model_similar,
		  xs_model_viewed_bought };
	static const char     *names[] = { "fbt", "similar", "viewed_bought" };
	char                  *dir_small, *dir_whole;
	xs_store              *small = open_with_top_m(2, &dir_small);
	xs_store              *whole = open_with_top_m(1000, &dir_whole);
	unsigned               rnd   = 11;
	int                    from_fallback = 0;

	(void) state;
	feed(small, 3, &mixed_shape);
	feed(whole, 3, &mixed_shape);
	for (int round = 0; round < 600; round++) {
		struct xs_query q = { 0 };
		struct xs_span  items[3];
		char            ext[3][16];
		char            a[4096], b[4096];
		unsigned        f = (unsigned) round % 3;

		q.n_items = 1 + rand_r(&rnd) % 3;
		for (uint32_t i = 0; i < q.n_items; i++) {
			snprintf(
			    ext[i], sizeof(ext[i]), "i%u", rand_r(&rnd) % 12);
			items[i] = (struct xs_span) { ext[i],
				(uint32_t) strlen(ext[i]) };
		}
		q.items  = items;
		q.k      = 1 + rand_r(&rnd) % 6;
		q.scorer = (enum xs_scorer)(rand_r(&rnd) % XS_SCORER_COUNT);
		q.signal = (enum xs_signal)(rand_r(&rnd) % 4);
		q.filter.in_stock = true;
		/* The walk (a write transaction keeps no memo) against
		 * the memos and a cart's kept lists. */
		ask_in(small, true, fns[f], &q, a, sizeof(a));
		ask(whole, fns[f], &q, b, sizeof(b));
		if (strcmp(a, b) != 0) {
			print_error(
			    "%s round %d (%u items, k %u, scorer %s):\n"
			    "  top_m 2:    %s\n  top_m 1000: %s\n",
			    names[f], round, q.n_items, q.k,
			    xs_scorer_name(q.scorer), a, b);
		}
		assert_string_equal(a, b);
		from_fallback += a[0] != '\0';
	}
	/* Not a vacuous comparison: most answers had items. */
	assert_true(from_fallback > 300);
	xs_store_close(small);
	xs_store_close(whole);
	xs_test_rmdir(dir_small);
	xs_test_rmdir(dir_whole);
}

#define WIDE_ITEMS 400

/* Orders of 8..30 items over WIDE_ITEMS items, the low numbers far more
 * often: the popular items get several hundred neighbours, more than an
 * answer reads from the head of a list (100) and more than a top_m of
 * 120 keeps. 20 orders a transaction. */
static const struct feed_shape wide_shape = { 20, 20, 8, 23, WIDE_ITEMS, 'i',
	false, false };

static xsell_err
count_cb(void *ctx, uint32_t b, uint32_t count)
{
	(void) b;
	(void) count;
	++*(unsigned *) ctx;
	return XSELL_OK;
}

/* Whether item 'ext''s basket top list is cut (the item has more
 * neighbours than the store keeps). */
static bool
named_top_list_is_cut(xs_store *st, const char *ext)
{
	uint32_t  a;
	bool      whole = true;
	MDB_txn  *txn;
	unsigned  seen = 0;
	xsell_err err;

	assert_xs_ok(xs_txn_read(st, &txn));
	err = xs_store_id_get(st, txn, XS_DICT_ITEM, ext, strlen(ext), &a);
	if (err == XSELL_OK) {
		assert_xs_ok(xs_store_top_each(st, txn, XS_REL_BASKET, a,
		    SIZE_MAX, count_cb, &seen, &whole));
	}
	xs_txn_abort(txn);
	return err == XSELL_OK && !whole;
}

/* The same for item "i<n>". */
static bool
top_list_is_cut(xs_store *st, unsigned n)
{
	char ext[16];

	snprintf(ext, sizeof(ext), "i%u", n);
	return named_top_list_is_cut(st, ext);
}

/* One given item whose list is longer than an answer's head of 100:
 * with top_m 120 the answer reads the head, then the rest of the top
 * list, then (when even its last entry leaves the answer open) the
 * pairs past it; with top_m 100 the head is the whole top list, and it
 * goes straight to the pairs. Both must give what the whole lists
 * (top_m 1,000) give, for every scorer, with k up to 120 (deep enough
 * that the last entry of a top list of 120 often leaves it open). */
static void
test_answers_past_the_head_equal_whole_lists(void **state)
{
	static const answer_fn fns[]    = { xs_model_fbt, xs_model_similar };
	static const char     *names[]  = { "fbt", "similar" };
	static const unsigned  top_ms[] = { 100, 120, 1000 };
	char                  *dirs[3];
	xs_store              *sts[3];
	unsigned               rnd = 5;

	(void) state;
	for (int s = 0; s < 3; s++) {
		sts[s] = open_with_top_m(top_ms[s], &dirs[s]);
		feed(sts[s], 9, &wide_shape);
	}
	/* Not vacuous: the popular items' lists are longer than 120. */
	assert_true(top_list_is_cut(sts[1], 0));
	assert_true(top_list_is_cut(sts[1], 3));
	for (int round = 0; round < 400; round++) {
		struct xs_query q = { 0 };
		struct xs_span  item;
		char            ext[16];
		char            got[3][8192];
		unsigned        f = (unsigned) round % 2;

		/* Mostly the popular items, whose lists are cut. */
		snprintf(ext, sizeof(ext), "i%u",
		    round % 4 == 3 ? rand_r(&rnd) % WIDE_ITEMS
		                   : rand_r(&rnd) % 12);
		item      = (struct xs_span) { ext, (uint32_t) strlen(ext) };
		q.items   = &item;
		q.n_items = 1;
		q.k       = 1 + rand_r(&rnd) % 120;
		q.scorer  = (enum xs_scorer)(rand_r(&rnd) % XS_SCORER_COUNT);
		q.signal  = XS_SIGNAL_ORDER; /* one list for similar too */
		q.min_support     = 1 + rand_r(&rnd) % 2;
		q.filter.in_stock = round % 3 == 0;
		for (int s = 0; s < 3; s++) {
			ask(sts[s], fns[f], &q, got[s], sizeof(got[s]));
		}
		for (int s = 0; s < 2; s++) {
			if (strcmp(got[s], got[2]) != 0) {
				print_error("%s round %d (%s, k %u, scorer "
				            "%s):\n  top_m %u: %s\n  top_m "
				            "1000: %s\n",
				    names[f], round, ext, q.k,
				    xs_scorer_name(q.scorer), top_ms[s],
				    got[s], got[2]);
			}
			assert_string_equal(got[s], got[2]);
		}
	}
	for (int s = 0; s < 3; s++) {
		xs_store_close(sts[s]);
		xs_test_rmdir(dirs[s]);
	}
}

/* Item metadata for the filters: "i<n>" of category n % 4 + 1 (every
 * fifth without one), out of stock when n % 7 is 0. */
static void
set_item_meta(xs_store *st)
{
	MDB_txn *txn;

	assert_xs_ok(xs_txn_write(st, &txn));
	for (unsigned n = 0; n < WIDE_ITEMS; n++) {
		struct xs_item_meta m = { 0 };
		char                ext[16];
		uint32_t            id;

		snprintf(ext, sizeof(ext), "i%u", n);
		if (xs_store_id_get(st, txn, XS_DICT_ITEM, ext, strlen(ext),
		        &id) != XSELL_OK) {
			continue;
		}
		m.category = n % 5 == 0 ? 0 : n % 4 + 1;
		m.in_stock = n % 7 != 0;
		assert_xs_ok(xs_store_meta_put(st, txn, id, &m));
	}
	assert_xs_ok(xs_txn_commit(txn));
}

/* Items asked again and again in one snapshot, one at a time or a cart
 * of 2..5, with another k, scorer, min_support or filter each time: the
 * answers ranked from the memo of an item's best candidates (kept by
 * the answers before, and replaced when they could not prove one), or
 * from a cart's kept lists, are those of a write transaction, which
 * keeps no memo and reads the lists. */
static void
test_memo_answers_equal_answers_without(void **state)
{
	static const answer_fn fns[]   = { xs_model_fbt,
		  xs_model_viewed_bought };
	static const char     *names[] = { "fbt", "viewed_bought" };
	char                  *dir;
	xs_store              *st       = open_with_top_m(120, &dir);
	unsigned               rnd      = 17;
	int                    answered = 0;

	(void) state;
	feed(st, 4, &wide_shape);
	feed(st, 8, &mixed_shape); /* views, for viewed_bought */
	set_item_meta(st);
	assert_true(top_list_is_cut(st, 0));
	for (int round = 0; round < 1500; round++) {
		struct xs_query q = { 0 };
		struct xs_span  items[5], exclude;
		char            ext[5][16], excl[16];
		char            memo[8192], lists[8192];
		unsigned        f = round % 5 == 4;

		q.n_items = round % 3 == 2 ? 2 + rand_r(&rnd) % 4 : 1;
		for (uint32_t i = 0; i < q.n_items; i++) {
			snprintf(ext[i], sizeof(ext[i]), "i%u",
			    round % 4 == 3 ? rand_r(&rnd) % WIDE_ITEMS
			                   : rand_r(&rnd) % 6);
			items[i] = (struct xs_span) { ext[i],
				(uint32_t) strlen(ext[i]) };
		}
		snprintf(excl, sizeof(excl), "i%u", rand_r(&rnd) % 30);
		exclude  = (struct xs_span) { excl, (uint32_t) strlen(excl) };
		q.items  = items;
		q.k      = 1 + rand_r(&rnd) % (round % 2 ? 10 : 120);
		q.scorer = (enum xs_scorer)(rand_r(&rnd) % 3 == 0
		        ? rand_r(&rnd) % XS_SCORER_COUNT
		        : XS_SCORE_TEMPERED);
		q.min_support     = 1 + rand_r(&rnd) % 4 / 3;
		q.filter.in_stock = round % 3 == 0;
		if (round % 7 == 0) {
			q.filter.exclude   = &exclude;
			q.filter.n_exclude = 1;
		}
		if (round % 11 < 3) {
			q.filter.max_per_category = 1 + (unsigned) round % 11;
		}
		ask_in(st, false, fns[f], &q, memo, sizeof(memo));
		ask_in(st, true, fns[f], &q, lists, sizeof(lists));
		if (strcmp(memo, lists) != 0) {
			print_error("%s round %d (%s and %u more, k %u, "
			            "scorer %s, min_support %u):\n  memo:  "
			            "%s\n  lists: %s\n",
			    names[f], round, ext[0], q.n_items - 1, q.k,
			    xs_scorer_name(q.scorer), q.min_support, memo,
			    lists);
		}
		assert_string_equal(memo, lists);
		answered += memo[0] != '\0';
	}
	assert_true(answered > 1000); /* not a comparison of empty answers */
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* A live shop's write, one commit: 1..4 events, mostly views, then cart
 * adds, now and then an order of two items, of users u0..u<N_USERS - 1>
 * and items i0..i<WIDE_ITEMS - 1> (the low numbers more often), from
 * *ts on. */
static void
feed_live(xs_store *st, unsigned *rnd, int *ts, int *orders)
{
	char   spec[1024];
	size_t o = 0;
	int    n = 1 + rand_r(rnd) % 4;

	for (int e = 0; e < n; e++) {
		unsigned kind  = rand_r(rnd) % 20;
		unsigned user  = rand_r(rnd) % N_USERS;
		unsigned x     = rand_r(rnd) % WIDE_ITEMS;
		unsigned item  = x * x / WIDE_ITEMS;
		unsigned other = (item + 1 + rand_r(rnd) % 9) % WIDE_ITEMS;

		*ts += 60;
		o += (size_t) snprintf(spec + o, sizeof(spec) - o,
		    "%s%d %s u%u i%u", o ? "; " : "", *ts,
		    kind < 14       ? "view"
		        : kind < 18 ? "cart_add"
		                    : "order",
		    user, item);
		if (kind >= 18) {
			o += (size_t) snprintf(spec + o, sizeof(spec) - o,
			    ",i%u live%d", other, (*orders)++);
		}
	}
	xs_test_events(st, NULL, spec);
}

/* Answers from memos kept across commits that left their lists' inputs
 * alone (most of them views, the rest cart adds and orders, and now and
 * then a user forgotten), and from a cart's lists and for_you's seed
 * lists scored again after orders without their item, are those of a
 * write transaction, which keeps no memo: fbt of an item and of a cart,
 * viewed_bought, similar by every signal and for_you, asked between
 * commits. (A seed list kept from before an order with its item, or
 * before a forget, or with its old scores, fails it.) */
static void
test_memo_answers_across_commits_equal_answers_without(void **state)
{
	static const answer_fn fns[] = { xs_model_fbt, xs_model_fbt,
		xs_model_viewed_bought, xs_model_similar, xs_model_picks };
	static const char *names[] = { "fbt", "fbt of a cart", "viewed_bought",
		"similar", "for_you" };
	char              *dir;
	xs_store          *st  = open_with_top_m(120, &dir);
	unsigned           rnd = 23;
	int                ts = 100000, orders = 0, answered = 0;

	(void) state;
	feed(st, 4, &wide_shape);
	feed(st, 8, &mixed_shape);
	for (int round = 0; round < 900; round++) {
		struct xs_query q = { 0 };
		struct xs_span  items[4];
		char            ext[4][16], user[16];
		char            memo[8192], lists[8192];
		unsigned        f = (unsigned) round % 5;

		if (round % 3 == 0) {
			feed_live(st, &rnd, &ts, &orders);
		}
		if (round % 150 == 149) { /* counts taken out again */
			char gone[16];

			snprintf(
			    gone, sizeof(gone), "u%u", rand_r(&rnd) % N_USERS);
			xs_test_forget(st, gone);
		}
		q.n_items = f == 1 ? 2 + rand_r(&rnd) % 3 : 1;
		for (uint32_t i = 0; i < q.n_items; i++) {
			snprintf(ext[i], sizeof(ext[i]), "i%u",
			    rand_r(&rnd) % (round % 2 ? 8 : WIDE_ITEMS));
			items[i] = xs_test_span(ext[i]);
		}
		snprintf(user, sizeof(user), "u%u", rand_r(&rnd) % N_USERS);
		q.items   = f == 4 ? NULL : items;
		q.n_items = f == 4 ? 0 : q.n_items;
		q.user    = xs_test_span(user);
		q.kind    = XS_PICK_FOR_YOU;
		q.now     = ts;
		q.signal  = (enum xs_signal)(rand_r(&rnd) % XS_SIGNAL_COUNT);
		q.k       = 1 + rand_r(&rnd) % 20;
		q.scorer =
		    rand_r(&rnd) % 2 ? XS_SCORE_TEMPERED : XS_SCORE_COUNT;
		q.min_support = 1;
		ask_in(st, false, fns[f], &q, memo, sizeof(memo));
		ask_in(st, true, fns[f], &q, lists, sizeof(lists));
		if (strcmp(memo, lists) != 0) {
			print_error("%s round %d (%s):\n  memo:  %s\n  lists: "
			            "%s\n",
			    names[f], round, f == 4 ? user : ext[0], memo,
			    lists);
		}
		assert_string_equal(memo, lists);
		answered += memo[0] != '\0';
	}
	assert_true(answered > 600); /* not a comparison of empty answers */
	assert_true(orders > 0);
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* ==== Carts: the merged lists against a brute-force recomputation ==== */

#define CART_ITEMS 300
#define CART_PAD 40000

/* Orders over CART_ITEMS items "c<n>", the low numbers far more often
 * (their lists run to a few hundred pairs, past a top_m of 120 and an
 * answer's head of 100; the high numbers have a few), 20 a transaction;
 * "rare" is bought with c1 only, "solo" only alone (known, no pairs). */
static void
feed_cart(xs_store *st, unsigned seed)
{
	static const struct feed_shape shape = { 16, 20, 2, 20, CART_ITEMS,
		'c', false, true };
	unsigned                       rnd   = seed;

	for (int batch = 0; batch < shape.batches; batch++) {
		char   spec[16384];
		size_t o = feed_batch(spec, sizeof(spec), &rnd, &shape, batch);

		o += (size_t) snprintf(spec + o, sizeof(spec) - o,
		    "; 999 order u1 rare,c1 r%d; 998 order u2 solo s%d", batch,
		    batch);
		assert_true(o < sizeof(spec) - 1);
		xs_test_events(st, NULL, spec);
	}
}

/* Give CART_PAD item ids no pair will name before any event, so that
 * the catalogue's item numbers span far more than the lists hold: the
 * answer then walks the lists together item by item instead of through
 * an array indexed by item number (neighbours.c, merge_first). */
static void
pad_items(xs_store *st)
{
	MDB_txn *txn;

	assert_xs_ok(xs_txn_write(st, &txn));
	for (unsigned i = 0; i < CART_PAD; i++) {
		char     ext[16];
		uint32_t id;

		snprintf(ext, sizeof(ext), "pad%u", i);
		assert_xs_ok(xs_store_id_put(
		    st, txn, XS_DICT_ITEM, ext, strlen(ext), &id, NULL));
	}
	assert_xs_ok(xs_txn_commit(txn));
}

/* One candidate of the brute force. */
struct brute {
	char     ext[16];
	double   score;
	uint64_t count;
};

static int
brute_cmp(const void *x, const void *y)
{
	const struct brute *p = x, *q = y;

	if (p->score != q->score) {
		return p->score > q->score ? -1 : 1;
	}
	return strcmp(p->ext, q->ext); /* same bytes order as memcmp */
}

static int
u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;

	return a < b ? -1 : a > b;
}

/* fbt by its definition, from the store's raw counts: every item of
 * names[0..n_names) with a pair that counts (>= min_support) with a
 * given item is a candidate, scored by the sum over the given items, in
 * ascending item number (the order the whole lists are walked in, so
 * the sums have the same bits), of the scorer on (N_ab, N_a, N_b, N);
 * best first, ties by external id, k of them (no metadata: every item
 * is in stock). Rendered as render() does. */
static void
brute_fbt_of(xs_store *st, const struct xs_query *q, unsigned min_support,
    const char *const *names, size_t n_names, char *out, size_t len)
{
	struct brute    *cands = calloc(n_names + 1, sizeof(*cands));
	uint32_t         given[8];
	size_t           n_given = 0, n = 0, o = 0;
	struct xs_totals tot;
	MDB_txn         *txn;

	assert_non_null(cands);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_totals_get(st, txn, &tot));
	for (uint32_t i = 0; i < q->n_items; i++) {
		uint32_t  id;
		xsell_err err = xs_store_id_get(st, txn, XS_DICT_ITEM,
		    q->items[i].p, q->items[i].len, &id);

		if (err == XSELL_OK) {
			given[n_given++] = id;
		}
	}
	/* A set: an item named twice is asked once. */
	qsort(given, n_given, sizeof(*given), u32_cmp);
	for (size_t i = 0, u = 0; i < n_given; i++) {
		if (u == 0 || given[u - 1] != given[i]) {
			given[u++] = given[i];
		}
		if (i + 1 == n_given) {
			n_given = u;
		}
	}
	for (size_t c = 0; c < n_names; c++) {
		struct brute         *b = &cands[n];
		uint32_t              id;
		bool                  counted = false, is_given = false;
		struct xs_item_counts nb;

		snprintf(b->ext, sizeof(b->ext), "%s", names[c]);
		if (xs_store_id_get(st, txn, XS_DICT_ITEM, b->ext,
		        strlen(b->ext), &id) != XSELL_OK) {
			continue;
		}
		assert_xs_ok(xs_store_counts_get(st, txn, id, &nb));
		b->score = 0;
		b->count = 0;
		for (size_t g = 0; g < n_given; g++) {
			is_given |= given[g] == id;
		}
		for (size_t g = 0; g < n_given && !is_given; g++) {
			struct xs_item_counts na;
			struct xs_pair_stats  ps;
			uint32_t              ab;

			assert_xs_ok(xs_store_pair_get(
			    st, txn, XS_REL_BASKET, given[g], id, &ab));
			if (ab == 0 || ab < min_support) {
				continue;
			}
			assert_xs_ok(
			    xs_store_counts_get(st, txn, given[g], &na));
			ps.n_ab = ab;
			ps.n_a  = na.c[XS_C_BASKETS];
			ps.n_b  = nb.c[XS_C_BASKETS];
			ps.n    = (double) tot.baskets;
			b->score += 1.0 * xs_score(q->scorer, &ps);
			b->count += ab;
			counted = true;
		}
		n += counted && !is_given;
	}
	xs_txn_abort(txn);
	qsort(cands, n, sizeof(*cands), brute_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < n && i < q->k; i++) {
		o += (size_t) snprintf(out + o, len - o, "%s=%.17g/%llu ",
		    cands[i].ext, cands[i].score,
		    (unsigned long long) cands[i].count);
	}
	free(cands);
}

/* brute_fbt_of the cart store's items: every c<n>, rare, solo. */
static void
brute_fbt(xs_store *st, const struct xs_query *q, unsigned min_support,
    char *out, size_t len)
{
	static char        names[CART_ITEMS + 2][16];
	static const char *ptrs[CART_ITEMS + 2];

	for (int c = 0; c < CART_ITEMS; c++) {
		snprintf(names[c], sizeof(names[c]), "c%d", c);
		ptrs[c] = names[c];
	}
	ptrs[CART_ITEMS]     = "rare";
	ptrs[CART_ITEMS + 1] = "solo";
	brute_fbt_of(st, q, min_support, ptrs, CART_ITEMS + 2, out, len);
}

/* render() with every digit and the co-counts, for bit-for-bit
 * comparison with brute_fbt; from a read transaction (a cart is
 * answered from its items' lists kept for the snapshot, cart_lists.c,
 * when they prove it) or a write transaction (which keeps none: the
 * lists are walked). */
static void
ask_exact_in(
    xs_store *st, bool write, const struct xs_query *q, char *out, size_t len)
{
	struct xs_settings set;
	struct xs_arena    arena;
	struct xs_answer   ans;
	MDB_txn           *txn;
	size_t             o = 0;

	xs_settings_default(&set);
	xs_arena_init(&arena, 16 << 20);
	assert_xs_ok(write ? xs_txn_write(st, &txn) : xs_txn_read(st, &txn));
	assert_xs_ok(xs_model_fbt(st, txn, &set, q, &arena, &ans));
	out[0] = '\0';
	for (uint32_t i = 0; i < ans.n; i++) {
		o += (size_t) snprintf(out + o, len - o, "%.*s=%.17g/%llu ",
		    (int) ans.recs[i].ext_len, ans.recs[i].ext,
		    ans.recs[i].score, (unsigned long long) ans.recs[i].count);
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
}

/* ask_exact_in both ways; both must equal 'want'. */
static void
assert_cart_both_ways(
    xs_store *st, const struct xs_query *q, const char *want, const char *what)
{
	for (int write = 0; write < 2; write++) {
		char got[8192];

		ask_exact_in(st, write, q, got, sizeof(got));
		if (strcmp(got, want) != 0) {
			print_error(
			    "%s (%u items, k %u, scorer %s, "
			    "min_support %u, %s transaction):\n  got:   "
			    "%s\n  brute: %s\n",
			    what, q->n_items, q->k, xs_scorer_name(q->scorer),
			    q->min_support, write ? "write" : "read", got,
			    want);
		}
		assert_string_equal(got, want);
	}
}

/* fbt for carts of 2..6 items drawn to mix lists of very different
 * lengths (popular items past top_m and the head, rare ones whole),
 * an item with no pairs, an unknown one and repeats, with candidates
 * in one list only and in several; every scorer, k 1..40, min_support
 * 1..3. Five stores of the same orders: top_m 5 (every popular list
 * cut), 120 (heads shorter than the top list), 1,000 (lists whole), and
 * 5 and 120 again with the item numbers spread wide (the item-by-item
 * walk). Each answer must equal the brute force digit for digit. */
static void
test_cart_answers_equal_brute_force(void **state)
{
	static const unsigned top_ms[] = { 5, 120, 1000, 5, 120 };
	static const char    *odd[]    = { "rare", "solo", "nosuch", "c0" };
	char                 *dirs[5];
	xs_store             *sts[5];
	unsigned              rnd = 17;

	(void) state;
	for (int s = 0; s < 5; s++) {
		sts[s] = open_with_top_m(top_ms[s], &dirs[s]);
		if (s >= 3) {
			pad_items(sts[s]);
		}
		feed_cart(sts[s], 21);
	}
	/* Not vacuous: c0's list is longer than a top_m of 120, c299's
	 * is not. */
	assert_true(named_top_list_is_cut(sts[1], "c0"));
	assert_false(named_top_list_is_cut(sts[1], "c299"));
	for (int round = 0; round < 300; round++) {
		struct xs_query q = { 0 };
		struct xs_span  items[6];
		char            ext[6][16];
		char            want[8192];
		unsigned        min_support = 1 + rand_r(&rnd) % 3;

		q.n_items = 2 + rand_r(&rnd) % 5;
		for (uint32_t i = 0; i < q.n_items; i++) {
			unsigned r = rand_r(&rnd) % 10;

			if (r < 5) {
				snprintf(ext[i], sizeof(ext[i]), "c%u",
				    rand_r(&rnd) % 8); /* popular */
			} else if (r < 8) {
				snprintf(ext[i], sizeof(ext[i]), "c%u",
				    rand_r(&rnd) % CART_ITEMS);
			} else {
				snprintf(ext[i], sizeof(ext[i]), "%s",
				    odd[rand_r(&rnd) % 4]);
			}
			items[i] = (struct xs_span) { ext[i],
				(uint32_t) strlen(ext[i]) };
		}
		q.items  = items;
		q.k      = 1 + rand_r(&rnd) % 40;
		q.scorer = (enum xs_scorer)(rand_r(&rnd) % XS_SCORER_COUNT);
		q.min_support = min_support;
		brute_fbt(sts[2], &q, min_support, want, sizeof(want));
		for (int s = 0; s < 5; s++) {
			char what[64];

			snprintf(what, sizeof(what), "round %d, store %d",
			    round, s);
			assert_cart_both_ways(sts[s], &q, want, what);
		}
	}
	for (int s = 0; s < 5; s++) {
		xs_store_close(sts[s]);
		xs_test_rmdir(dirs[s]);
	}
}

/* Items "f0".."f3", each bought with 300 partners of its own, once
 * each, so that every pair of a list scores alike: its best pairs'
 * rest is their score, and a cart of two has candidates worth one
 * pair each while an item outside the kept best could be worth as
 * much, which the kept lists cannot rule out (cart_lists.c, step 4).
 * Such carts are answered by the walk; f0 and f1 share partners 0..9,
 * which then score two pairs. */
static void
feed_flat(xs_store *st)
{
	for (int f = 0; f < 4; f++) {
		for (int p = 0; p < 300; p += 20) {
			char   spec[16384];
			size_t o = 0;

			for (int j = p; j < p + 20; j++) {
				int partner =
				    f == 1 && j < 10 ? j : f * 1000 + j;

				o += (size_t) snprintf(spec + o,
				    sizeof(spec) - o,
				    "%s%d order u%d f%d,p%d o%d",
				    o ? "; " : "", 1000 + j, f * 1000 + j, f,
				    partner, f * 1000 + j);
			}
			xs_test_events(st, NULL, spec);
		}
	}
}

/* brute_fbt_of the flat store's items: f0..f3 and every partner. */
static void
flat_brute_fbt(xs_store *st, const struct xs_query *q, char *out, size_t len)
{
	static char        names[4 + 4 * 300][16];
	static const char *ptrs[4 + 4 * 300];
	size_t             n = 0;

	for (int f = 0; f < 4; f++) {
		snprintf(names[n], sizeof(names[n]), "f%d", f);
		ptrs[n] = names[n];
		n++;
		for (int j = 0; j < 300; j++) {
			snprintf(
			    names[n], sizeof(names[n]), "p%d", f * 1000 + j);
			ptrs[n] = names[n];
			n++;
		}
	}
	brute_fbt_of(st, q, 1, ptrs, n, out, len);
}

/* One item of each list's scores alike (so the kept best pairs prove
 * nothing) and the answers of carts over them: both ways, equal to the
 * brute force, for k up to past what the kept best pairs hold. */
static void
test_cart_of_flat_lists_equals_brute_force(void **state)
{
	static const char    *carts[][3] = { { "f0", "f1", NULL },
		   { "f0", "f2", NULL }, { "f1", "f2", "f3" },
		   { "f0", "f1", "f3" } };
	char                 *dir;
	xs_store             *st   = open_with_top_m(120, &dir);
	static const unsigned ks[] = { 1, 10, 12, 40, 200 };

	(void) state;
	feed_flat(st);
	for (size_t c = 0; c < sizeof(carts) / sizeof(carts[0]); c++) {
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			struct xs_query q = { 0 };
			struct xs_span  items[3];
			char            want[65536], what[32];

			while (q.n_items < 3 && carts[c][q.n_items] != NULL) {
				items[q.n_items] = (struct xs_span) {
					carts[c][q.n_items],
					(uint32_t) strlen(carts[c][q.n_items])
				};
				q.n_items++;
			}
			q.items       = items;
			q.k           = ks[i];
			q.scorer      = XS_SCORE_JACCARD;
			q.min_support = 1;
			flat_brute_fbt(st, &q, want, sizeof(want));
			snprintf(what, sizeof(what), "flat cart %zu", c);
			assert_cart_both_ways(st, &q, want, what);
		}
	}
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* Events of 'spec_of(i, buf)' for i in 0..n, 60 to a commit. */
static void
feed_each(xs_store *st, int n, void (*spec_of)(int, char *, size_t))
{
	for (int i = 0; i < n; i += 60) {
		char   spec[8192];
		size_t o = 0;

		for (int j = i; j < n && j < i + 60; j++) {
			char one[128];

			spec_of(j, one, sizeof(one));
			o += (size_t) snprintf(spec + o, sizeof(spec) - o,
			    "%s%s", o ? "; " : "", one);
		}
		xs_test_events(st, NULL, spec);
	}
}

/* The orders of the store of test_cart_list_refresh_raises_its_rest:
 * each of p000..p129 twice with "a", "b" once. */
#define REST_PARTNERS 130
static void
rest_store_order(int i, char *out, size_t len)
{
	char p[16] = "b";

	if (i < 2 * REST_PARTNERS) {
		snprintf(p, sizeof(p), "p%03d", i / 2);
	}
	snprintf(out, len, "%d order u%d a,%s o%d", 1000 + i, i, p, i);
}

/* The orders after: each of p000..p127 once more, alone, then "z" alone
 * 300 times, so that N grows 2.6 times and a's co-counts stay. */
static void
rest_store_later_order(int i, char *out, size_t len)
{
	if (i < 128) {
		snprintf(
		    out, len, "%d order v%d p%03d n%d", 9000 + i, i, i, i);
	} else {
		snprintf(out, len, "%d order v%d z n%d", 9000 + i, i, i);
	}
}

/* Names "p000".."p<n - 1>", then 'more' (NULL-terminated), into names. */
static size_t
partner_names(
    const char **names, char (*pn)[16], int n, const char *const *more)
{
	size_t m = 0;

	for (int i = 0; i < n; i++) {
		snprintf(pn[i], sizeof(pn[i]), "p%03d", i);
		names[m++] = pn[i];
	}
	while (*more != NULL) {
		names[m++] = *more++;
	}
	return m;
}

/* fbt of the cart {a, b} (k 1, tempered) from a read transaction is
 * p000, its lists made; after 'change' the brute force over names
 * says p128, and so must the lists kept from before. */
static void
assert_cart_ab_follows(xs_store *st, const char *const *names, size_t n,
    void (*change)(xs_store *))
{
	struct xs_query q        = { 0 };
	struct xs_span  items[2] = { xs_test_span("a"), xs_test_span("b") };
	char            got[8192], want[8192];

	q.items       = items;
	q.n_items     = 2;
	q.k           = 1;
	q.scorer      = XS_SCORE_TEMPERED;
	q.min_support = 1;
	ask_exact_in(st, false, &q, got, sizeof(got));
	assert_true(strncmp(got, "p000=", 5) == 0);
	change(st);
	brute_fbt_of(st, &q, 1, names, n, want, sizeof(want));
	assert_true(strncmp(want, "p128=", 5) == 0);
	ask_exact_in(st, false, &q, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
rest_store_change(xs_store *st)
{
	feed_each(st, 128 + 300, rest_store_later_order);
}

/* A cart's list refreshed after orders without its item must raise its
 * rest by what N's growth adds to the pairs it left out: a's best 128
 * pairs are p000..p127, all tied (ties kept in item order); p128 and
 * p129 score as much and are left out. Orders of p000..p127 alone and
 * of another item then lower the kept partners' scores (their N_b
 * grows) while N's growth raises every score (tempered: by its square
 * root), so p128, outside the kept best pairs, is now the best
 * candidate of the cart {a, b}: a rest left at its old value would
 * prove p000 the answer. */
static void
test_cart_list_refresh_raises_its_rest(void **state)
{
	static const char *const more[] = { "z", "b", NULL };
	static const char       *names[REST_PARTNERS + 2];
	static char              pn[REST_PARTNERS][16];
	char                    *dir;
	xs_store                *st = open_with_top_m(120, &dir);
	size_t n = partner_names(names, pn, REST_PARTNERS, more);

	(void) state;
	feed_each(st, 2 * REST_PARTNERS + 1, rest_store_order);
	assert_cart_ab_follows(st, names, n, rest_store_change);
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* The orders of the store of test_cart_list_made_again_after_a_forget:
 * each of p000..p127 twice with "a", p128 three times with it and ten
 * times alone by user w, "b" once with "a". */
static void
forget_store_order(int i, char *out, size_t len)
{
	if (i < 256) {
		snprintf(out, len, "%d order u%d a,p%03d o%d", 1000 + i, i,
		    i / 2, i);
	} else if (i < 259) {
		snprintf(out, len, "%d order u%d a,p128 o%d", 1000 + i, i, i);
	} else if (i < 269) {
		snprintf(out, len, "%d order w p128 o%d", 1000 + i, i);
	} else {
		snprintf(out, len, "%d order u%d a,b o%d", 1000 + i, i, i);
	}
}

/* Ten orders of "z" alone, after the forget: N is what it was. */
static void
forget_store_later_order(int i, char *out, size_t len)
{
	snprintf(out, len, "%d order v%d z n%d", 9000 + i, i, i);
}

static void
forget_store_change(xs_store *st)
{
	assert_true(xs_test_forget(st, "w"));
	feed_each(st, 10, forget_store_later_order);
}

/* A cart's list is made again after orders were taken out, though its
 * item's co-counts stayed and N is back where it was: taking w's orders
 * out lowered p128's N_b from 13 to 3, which raised its pair with a
 * (co-count 3) from below the kept best pairs (p000..p127, co-count 2,
 * N_b 2) to above them; a list refreshed with its old rest would prove
 * p000 the answer of {a, b}. */
static void
test_cart_list_made_again_after_a_forget(void **state)
{
	static const char *const more[] = { "z", "b", NULL };
	static const char       *names[131];
	static char              pn[129][16];
	char                    *dir;
	xs_store                *st = open_with_top_m(120, &dir);
	size_t                   n  = partner_names(names, pn, 129, more);

	(void) state;
	feed_each(st, 270, forget_store_order);
	assert_cart_ab_follows(st, names, n, forget_store_change);
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* Carts of the popular items asked between commits of orders, most of
 * other items (the carts' lists are refreshed: N and their partners'
 * counts grew, their co-counts did not), some with a cart's item (its
 * list is made again), and now and then a user forgotten (every list
 * made again): each answer, from a read transaction and so from the
 * lists kept, equal to the brute force digit for digit, every scorer
 * (llr and amazon, whose rests no factor bounds, make theirs again). */
static void
test_cart_lists_across_orders_equal_brute_force(void **state)
{
	char     *dir;
	xs_store *st     = open_with_top_m(120, &dir);
	unsigned  rnd    = 29;
	int       orders = 0, ts = 100000;

	(void) state;
	feed_cart(st, 21);
	for (int round = 0; round < 400; round++) {
		struct xs_query q = { 0 };
		struct xs_span  items[3];
		char            ext[3][16], want[8192], got[8192];

		if (round % 4 == 3) {
			char   spec[2048];
			size_t o = 0;

			for (int e = 0; e < 6; e++) {
				bool     cart_item = rand_r(&rnd) % 16 == 0;
				unsigned x =
				    8 + rand_r(&rnd) % (CART_ITEMS - 8);

				o += (size_t) snprintf(spec + o,
				    sizeof(spec) - o,
				    "%s%d order u%u c%u,c%u%s o_live%d",
				    o ? "; " : "", ts += 60,
				    rand_r(&rnd) % N_USERS, x,
				    8 + rand_r(&rnd) % 40,
				    cart_item ? ",c1" : "", orders++);
			}
			xs_test_events(st, NULL, spec);
		}
		if (round % 100 == 99) {
			char gone[16];

			snprintf(
			    gone, sizeof(gone), "u%u", rand_r(&rnd) % N_USERS);
			xs_test_forget(st, gone);
		}
		q.n_items = 2 + rand_r(&rnd) % 2;
		for (uint32_t i = 0; i < q.n_items; i++) {
			snprintf(
			    ext[i], sizeof(ext[i]), "c%u", rand_r(&rnd) % 8);
			items[i] = xs_test_span(ext[i]);
		}
		q.items       = items;
		q.k           = 1 + rand_r(&rnd) % 40;
		q.scorer      = (enum xs_scorer)(round % XS_SCORER_COUNT);
		q.min_support = 1;
		brute_fbt(st, &q, 1, want, sizeof(want));
		ask_exact_in(st, false, &q, got, sizeof(got));
		if (strcmp(got, want) != 0) {
			print_error("round %d (%s, %s, k %u, scorer %s):\n"
			            "  lists: %s\n  brute: %s\n",
			    round, ext[0], ext[1], q.k,
			    xs_scorer_name(q.scorer), got, want);
		}
		assert_string_equal(got, want);
	}
	assert_true(orders > 500);
	xs_store_close(st);
	xs_test_rmdir(dir);
}

/* Hubs "h0".."h2", each bought with every partner "q0".."q149" alone,
 * a partner's co-count with each hub 1..200 in an order of its own per
 * hub; the partners' item numbers 150 apart, and 20,000 apart every
 * 50th, from ids given first. A cart's kept list packs its co-counts as
 * varints (cart_lists.c): here steps and co-counts of one, two and three
 * bytes. */
#define FAR_PARTNERS 150
#define FAR_HUBS 3

static unsigned
far_count(int hub, int partner)
{
	return 1 + (unsigned) ((partner + 50 * hub) * 37) % 200;
}

static void
feed_far(xs_store *st)
{
	static char spec[4096];
	MDB_txn    *txn;
	size_t      o     = 0;
	int         order = 0, in_spec = 0;

	assert_xs_ok(xs_txn_write(st, &txn));
	for (int j = 0; j < FAR_HUBS + FAR_PARTNERS; j++) {
		unsigned pad = j % 50 == 0 ? 20000 : 150;
		char     ext[32];
		uint32_t id;

		for (unsigned i = 0; i < pad; i++) {
			snprintf(ext, sizeof(ext), "pad%d.%u", j, i);
			assert_xs_ok(xs_store_id_put(st, txn, XS_DICT_ITEM,
			    ext, strlen(ext), &id, NULL));
		}
		if (j < FAR_HUBS) {
			snprintf(ext, sizeof(ext), "h%d", j);
		} else {
			snprintf(ext, sizeof(ext), "q%d", j - FAR_HUBS);
		}
		assert_xs_ok(xs_store_id_put(
		    st, txn, XS_DICT_ITEM, ext, strlen(ext), &id, NULL));
	}
	assert_xs_ok(xs_txn_commit(txn));
	for (int h = 0; h < FAR_HUBS; h++) {
		for (int j = 0; j < FAR_PARTNERS; j++) {
			for (unsigned r = 0; r < far_count(h, j); r++) {
				o += (size_t) snprintf(spec + o,
				    sizeof(spec) - o,
				    "%s%d order u%d h%d,q%d o%d",
				    o ? "; " : "", 1000 + order, order, h, j,
				    order);
				order++;
				/* xs_test_events takes 64 orders a call. */
				if (++in_spec == 64) {
					xs_test_events(st, NULL, spec);
					o       = 0;
					in_spec = 0;
				}
			}
		}
	}
	if (o != 0) {
		xs_test_events(st, NULL, spec);
	}
}

/* Carts of the hubs, every scorer, k past the kept best pairs and
 * min_support past the smallest co-counts: both ways, equal to the
 * brute force. Fails if a packed co-count reads back wrong. */
static void
test_cart_of_far_apart_items_equals_brute_force(void **state)
{
	static const char    *carts[][3] = { { "h0", "h1", NULL },
		   { "h1", "h2", NULL }, { "h0", "h1", "h2" } };
	static const unsigned ks[]       = { 1, 10, 40, 140 };
	static char           names[FAR_HUBS + FAR_PARTNERS][16];
	static const char    *ptrs[FAR_HUBS + FAR_PARTNERS];
	char                 *dir;
	xs_store             *st = open_with_top_m(120, &dir);

	(void) state;
	for (int j = 0; j < FAR_HUBS + FAR_PARTNERS; j++) {
		if (j < FAR_HUBS) {
			snprintf(names[j], sizeof(names[j]), "h%d", j);
		} else {
			snprintf(
			    names[j], sizeof(names[j]), "q%d", j - FAR_HUBS);
		}
		ptrs[j] = names[j];
	}
	feed_far(st);
	/* Not vacuous: co-counts past one byte, and each hub's list
	 * longer than the best pairs a cart's list keeps. */
	assert_true(far_count(0, 4) > 127);
	assert_true(named_top_list_is_cut(st, "h0"));
	for (size_t c = 0; c < sizeof(carts) / sizeof(carts[0]); c++) {
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			for (int sc = 0; sc < XS_SCORER_COUNT; sc++) {
				struct xs_query q = { 0 };
				struct xs_span  items[3];
				char            want[65536], what[32];

				while (q.n_items < 3 &&
				    carts[c][q.n_items] != NULL) {
					items[q.n_items] = (struct xs_span) {
						carts[c][q.n_items],
						(uint32_t) strlen(
						    carts[c][q.n_items])
					};
					q.n_items++;
				}
				q.items       = items;
				q.k           = ks[i];
				q.scorer      = (enum xs_scorer) sc;
				q.min_support = 1 + (unsigned) (i % 2) * 60;
				brute_fbt_of(st, &q, q.min_support, ptrs,
				    FAR_HUBS + FAR_PARTNERS, want,
				    sizeof(want));
				snprintf(
				    what, sizeof(what), "far cart %zu", c);
				assert_cart_both_ways(st, &q, want, what);
			}
		}
	}
	xs_store_close(st);
	xs_test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_lists_match_brute_force),
		cmocka_unit_test(test_top_long_row_matches_brute_force),
		cmocka_unit_test(test_top_lists_only_for_neighbour_relations),
		cmocka_unit_test(test_pairs_read_whole_list),
		cmocka_unit_test(
		    test_answers_from_top_lists_equal_whole_lists),
		cmocka_unit_test(test_answers_past_the_head_equal_whole_lists),
		cmocka_unit_test(test_memo_answers_equal_answers_without),
		cmocka_unit_test(
		    test_memo_answers_across_commits_equal_answers_without),
		cmocka_unit_test(test_cart_answers_equal_brute_force),
		cmocka_unit_test(test_cart_of_flat_lists_equals_brute_force),
		cmocka_unit_test(test_cart_list_refresh_raises_its_rest),
		cmocka_unit_test(test_cart_list_made_again_after_a_forget),
		cmocka_unit_test(
		    test_cart_lists_across_orders_equal_brute_force),
		cmocka_unit_test(
		    test_cart_of_far_apart_items_equals_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
