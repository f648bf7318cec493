/* SPDX-License-Identifier: MIT */
/* The LMDB store: dictionaries, pair lists, counters, histories, and the
 * refusals at open (newer schema, foreign environment, unusable dir). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "store/store.h"

struct fixture {
	char     *dir;
	xs_store *st;
	MDB_txn  *txn;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->st = xs_test_store_open(&f->dir);
	assert_xs_ok(xs_txn_write(f->st, &f->txn));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->txn != NULL) {
		xs_txn_abort(f->txn);
	}
	xs_test_store_close(f->st, f->dir);
	free(f);
	return 0;
}

static void
test_store_dict_assigns_dense_ids_in_order(void **state)
{
	struct fixture *f = *state;
	uint32_t        id, n;
	bool            created;
	const char     *ext;
	size_t          len;

	assert_xs_ok(xs_store_id_put(
	    f->st, f->txn, XS_DICT_ITEM, "apple", 5, &id, &created));
	assert_int_equal(id, 1);
	assert_true(created);
	assert_xs_ok(xs_store_id_put(
	    f->st, f->txn, XS_DICT_ITEM, "pear", 4, &id, &created));
	assert_int_equal(id, 2);
	assert_xs_ok(xs_store_id_put(
	    f->st, f->txn, XS_DICT_ITEM, "apple", 5, &id, &created));
	assert_int_equal(id, 1);
	assert_false(created);
	/* Users are numbered on their own. */
	assert_xs_ok(xs_store_id_put(
	    f->st, f->txn, XS_DICT_USER, "apple", 5, &id, NULL));
	assert_int_equal(id, 1);
	assert_xs_ok(
	    xs_store_ext_get(f->st, f->txn, XS_DICT_ITEM, 2, &ext, &len));
	assert_int_equal(len, 4);
	assert_memory_equal(ext, "pear", 4);
	assert_xs_err(
	    xs_store_id_get(f->st, f->txn, XS_DICT_ITEM, "plum", 4, &id),
	    XSELL_ENOENT);
	assert_xs_ok(xs_store_dict_size(f->st, f->txn, XS_DICT_ITEM, &n));
	assert_int_equal(n, 2);
}

struct seen {
	uint32_t b[8], count[8];
	size_t   n;
};

static xsell_err
collect(void *ctx, uint32_t b, uint32_t count)
{
	struct seen *s = ctx;

	s->b[s->n]     = b;
	s->count[s->n] = count;
	s->n++;
	return XSELL_OK;
}

static void
test_store_pairs_add_walk_and_delete_at_zero(void **state)
{
	struct fixture      *f     = *state;
	struct xs_pair_delta add[] = { { 1, 2, 3 }, { 1, 5, 1 }, { 1, 300, 2 },
		{ 2, 1, 3 } };
	struct xs_pair_delta sub[] = { { 1, 2, -1 }, { 1, 5, -1 } };
	struct seen          s     = { 0 };
	uint32_t             c;

	assert_xs_ok(xs_store_pairs_add(f->st, f->txn, XS_REL_BASKET, add, 4));
	assert_xs_ok(xs_store_pairs_add(f->st, f->txn, XS_REL_BASKET, sub, 2));
	assert_xs_ok(
	    xs_store_pairs_each(f->st, f->txn, XS_REL_BASKET, 1, collect, &s));
	/* (1,5) fell to 0 and is gone; the rest in ascending b. */
	assert_int_equal(s.n, 2);
	assert_int_equal(s.b[0], 2);
	assert_int_equal(s.count[0], 2);
	assert_int_equal(s.b[1], 300);
	assert_int_equal(s.count[1], 2);
	assert_xs_ok(
	    xs_store_pair_get(f->st, f->txn, XS_REL_BASKET, 2, 1, &c));
	assert_int_equal(c, 3);
	assert_xs_ok(
	    xs_store_pair_get(f->st, f->txn, XS_REL_BASKET, 1, 5, &c));
	assert_int_equal(c, 0);
	/* Relations are separate lists. */
	assert_xs_ok(xs_store_pair_get(f->st, f->txn, XS_REL_VIEW, 1, 2, &c));
	assert_int_equal(c, 0);
}

/* The co-count the reader test gives pair (a, b): every third b from 3
 * up to 3 * READER_PARTNERS, each its own count. */
#define READER_ITEMS 40u
#define READER_PARTNERS 600u

static uint32_t
reader_count(uint32_t a, uint32_t b)
{
	if (b % 3 != 0 || b < 3 || b > 3 * READER_PARTNERS) {
		return 0;
	}
	return (a * 7 + b) % 5 + 1;
}

static void
test_store_pair_get_finds_across_items_and_pages(void **state)
{
	struct fixture       *f = *state;
	struct xs_pair_delta *add =
	    calloc(READER_ITEMS * READER_PARTNERS, sizeof(*add));
	size_t n = 0;
	/* Items taken in turn, b up and down each list, misses between,
	 * before and past its pairs, in lists of several pages each. */
	const uint32_t bs[] = { 3, 1800, 4, 900, 901, 6, 1797, 1801, 0, 450,
		UINT32_MAX, 3 };

	assert_non_null(add);
	for (uint32_t a = 1; a <= READER_ITEMS; a++) {
		for (uint32_t j = 1; j <= READER_PARTNERS; j++) {
			add[n].a   = a;
			add[n].b   = 3 * j;
			add[n++].d = (int32_t) reader_count(a, 3 * j);
		}
	}
	assert_xs_ok(xs_store_pairs_add(f->st, f->txn, XS_REL_BASKET, add, n));
	free(add);
	for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++) {
		for (uint32_t a = 1; a <= READER_ITEMS; a += 13) {
			uint32_t c = 99;

			assert_xs_ok(xs_store_pair_get(
			    f->st, f->txn, XS_REL_BASKET, a, bs[i], &c));
			assert_int_equal(c, reader_count(a, bs[i]));
		}
	}
	{
		uint32_t c = 99;

		/* An item without pairs, and another relation. */
		assert_xs_ok(xs_store_pair_get(
		    f->st, f->txn, XS_REL_BASKET, READER_ITEMS + 1, 3, &c));
		assert_int_equal(c, 0);
		c = 99;
		assert_xs_ok(
		    xs_store_pair_get(f->st, f->txn, XS_REL_VIEW, 1, 3, &c));
		assert_int_equal(c, 0);
		c = 99;
		assert_xs_ok(
		    xs_store_pair_get(f->st, f->txn, XS_REL_BASKET, 2, 9, &c));
		assert_int_equal(c, (2 * 7 + 9) % 5 + 1);
	}
}

struct walk_agg {
	uint32_t n, last;
	bool     sorted;
};

static xsell_err
walk_agg_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct walk_agg *agg = ctx;

	agg->sorted = agg->sorted && b > agg->last && count == 1;
	agg->last   = b;
	agg->n++;
	return XSELL_OK;
}

/* 5,000 neighbours take many pages of duplicates: the page-at-a-time
 * walk (MDB_GET_MULTIPLE / MDB_NEXT_MULTIPLE) must see every one. */
static void
test_store_pairs_walk_spans_many_pages(void **state)
{
	struct fixture       *f   = *state;
	struct xs_pair_delta *d   = calloc(5000, sizeof(*d));
	struct walk_agg       agg = { 0, 0, true };

	for (uint32_t i = 0; i < 5000; i++) {
		d[i] = (struct xs_pair_delta) { 7, i + 1, 1 };
	}
	assert_xs_ok(
	    xs_store_pairs_add(f->st, f->txn, XS_REL_BASKET, d, 5000));
	free(d);
	assert_xs_ok(xs_store_pairs_each(
	    f->st, f->txn, XS_REL_BASKET, 7, walk_agg_cb, &agg));
	assert_int_equal(agg.n, 5000);
	assert_int_equal(agg.last, 5000);
	assert_true(agg.sorted);
}

static void
test_store_counts_chunked_add_and_clamp(void **state)
{
	struct fixture         *f    = *state;
	struct xs_count_delta   d1[] = { { 3, { 2, 1, 0, 0 } },
		  { 700, { 5, 0, 1, 0 } } };
	struct xs_count_delta   d2[] = { { 3, { -1, -4, 0, 0 } } };
	struct xs_item_counts   c;
	struct xs_counts_reader r;

	assert_xs_ok(xs_store_counts_add(f->st, f->txn, d1, 2));
	assert_xs_ok(xs_store_counts_add(f->st, f->txn, d2, 1));
	assert_xs_ok(xs_store_counts_get(f->st, f->txn, 3, &c));
	assert_int_equal(c.c[XS_C_BASKETS], 1);
	assert_int_equal(c.c[XS_C_BUYERS], 0); /* clamped, not wrapped */
	xs_counts_reader_init(&r, f->st, f->txn);
	assert_int_equal(xs_counts_reader_get(&r, 700, XS_C_BASKETS), 5);
	assert_int_equal(xs_counts_reader_get(&r, 700, XS_C_VIEWS), 1);
	assert_int_equal(xs_counts_reader_get(&r, 3, XS_C_BASKETS), 1);
	assert_int_equal(xs_counts_reader_get(&r, 999999, XS_C_BASKETS), 0);
	xs_counts_reader_fini(&r);
}

/* Chunks that share a reader's slot take turns in it: each read gives
 * its own chunk's counter, also after the other chunk took the slot,
 * and an absent chunk (zeros) leaves no rows behind for the next. */
static void
test_store_counts_reader_chunks_sharing_a_slot(void **state)
{
	struct fixture       *f    = *state;
	const uint32_t        step = XS_COUNTS_CHUNK * XS_COUNTS_READER_SLOTS;
	struct xs_count_delta d[]  = { { 5, { 1, 0, 0, 0 } },
		 { 5 + step, { 2, 0, 0, 0 } },
		 { 5 + 3 * step, { 4, 0, 0, 0 } } };
	struct xs_counts_reader r;

	assert_xs_ok(xs_store_counts_add(f->st, f->txn, d, 3));
	xs_counts_reader_init(&r, f->st, f->txn);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(xs_counts_reader_get(&r, 5, XS_C_BASKETS), 1);
		assert_int_equal(
		    xs_counts_reader_get(&r, 5 + step, XS_C_BASKETS), 2);
		assert_int_equal(
		    xs_counts_reader_get(&r, 5 + 2 * step, XS_C_BASKETS), 0);
		assert_int_equal(
		    xs_counts_reader_get(&r, 5 + 3 * step, XS_C_BASKETS), 4);
	}
	xs_counts_reader_fini(&r);
}

static void
test_store_history_keeps_newest(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 10; i++) {
		struct xs_hist_rec ev = { 0 };

		ev.ts   = 100 + i;
		ev.item = (uint32_t) i + 1;
		ev.type = XS_EV_VIEW;
		assert_xs_ok(xs_store_history_add(f->st, f->txn, 1, &ev, 4));
	}
	assert_xs_ok(xs_txn_commit(f->txn));
	f->txn = NULL;
	{
		struct xs_buf dump;
		char         *p;

		xs_buf_init(&dump, 1 << 20);
		assert_xs_ok(xs_store_dump(f->st, &dump));
		assert_xs_ok(xs_buf_append(&dump, "", 1));
		p = strstr(dump.data, "[history]\n");
		assert_non_null(p);
		/* Four records remain: ts 106..109 (0x6a..0x6d). */
		assert_non_null(strstr(p, "000000000000006a00000007"));
		assert_non_null(strstr(p, "000000000000006d0000000a"));
		assert_null(strstr(p, "000000000000006900000006"));
		xs_buf_fini(&dump);
	}
}

static xsell_err
count_hist(void *ctx, const struct xs_hist_rec *ev)
{
	(void) ev;
	++*(unsigned *) ctx;
	return XSELL_OK;
}

/* The same event in the same second (type, item, value) is kept once,
 * also when the item's stock changed in between (its flags differ), in
 * the B-tree and in a held set; another value (a new rating) is another
 * event. */
static void
test_store_history_same_event_kept_once_whatever_the_stock(void **state)
{
	(void) state;
	for (int hold = 0; hold < 2; hold++) {
		char              *dir;
		xs_store          *st = xs_test_store_open(&dir);
		MDB_txn           *txn;
		struct xs_hist_rec ev = { 0 };
		unsigned           n  = 0;

		assert_xs_ok(xs_txn_write(st, &txn));
		if (hold) {
			assert_xs_ok(xs_store_users_hold(st));
		}
		ev.ts    = 100;
		ev.item  = 7;
		ev.type  = XS_EV_RATING;
		ev.value = 4;
		assert_xs_ok(xs_store_history_add(st, txn, 1, &ev, 10));
		ev.flags = XS_HIST_OUT_OF_STOCK;
		assert_xs_ok(xs_store_history_add(st, txn, 1, &ev, 10));
		ev.value = 5;
		assert_xs_ok(xs_store_history_add(st, txn, 1, &ev, 10));
		assert_xs_ok(
		    xs_store_history_each(st, txn, 1, true, count_hist, &n));
		assert_int_equal(n, 2);
		if (hold) {
			assert_xs_ok(xs_store_users_held_write(st, txn));
		}
		assert_xs_ok(xs_txn_commit(txn));
		xs_test_store_close(st, dir);
	}
}

/* ==== One user's records held in memory (xs_store_users_hold) ==== */

/* Two stores given the same user-record operations, one holding the
 * current user's records in memory; every answer is written to a
 * trace, which must come out the same for both. */
struct held_pair {
	xs_store     *st[2]; /* [1] holds */
	MDB_txn      *txn[2];
	struct xs_buf trace[2];
};

static xsell_err
trace_item_ts(void *ctx, uint32_t item, int64_t ts, uint32_t count)
{
	char line[64];

	snprintf(
	    line, sizeof(line), " %u@%lld#%u", item, (long long) ts, count);
	return xs_buf_append(ctx, line, strlen(line));
}

static xsell_err
trace_hist(void *ctx, const struct xs_hist_rec *ev)
{
	char line[64];

	snprintf(line, sizeof(line), " %u@%lld/%u", ev->item,
	    (long long) ev->ts, ev->type);
	return xs_buf_append(ctx, line, strlen(line));
}

/* Operation 'op' (a random number) on user 'user' of both stores. */
static void
held_pair_step(struct held_pair *h, uint32_t user, uint32_t op)
{
	uint32_t item = op % 13 + 1;
	int64_t  ts   = (int64_t) (op / 13 % 50) - 5; /* some before 1970 */

	for (int i = 0; i < 2; i++) {
		xs_store      *st   = h->st[i];
		MDB_txn       *txn  = h->txn[i];
		struct xs_buf *t    = &h->trace[i];
		bool           done = false;
		int64_t        prev = -1;
		char           line[64];

		switch (op % 7) {
		case 0:
		case 1:
			assert_xs_ok(xs_store_bought_add(
			    st, txn, user, item, ts, &done, &prev, NULL));
			break;
		case 2:
			assert_xs_ok(
			    xs_store_cart_add(st, txn, user, item, ts, &done));
			break;
		case 3:
			assert_xs_ok(xs_store_cart_remove(
			    st, txn, user, item, ts, &done));
			break;
		case 4: {
			struct xs_hist_rec ev = { 0 };

			ev.ts    = ts;
			ev.item  = item;
			ev.type  = (uint8_t) (op % 3);
			ev.flags = (uint8_t) (op / 650 % 2);
			assert_xs_ok(
			    xs_store_history_add(st, txn, user, &ev, 6));
			break;
		}
		case 5:
			assert_xs_ok(xs_store_history_each(
			    st, txn, user, op % 2 == 0, trace_hist, t));
			break;
		default:
			assert_xs_ok(xs_store_bought_each(
			    st, txn, user, trace_item_ts, t));
			assert_xs_ok(xs_store_cart_each(
			    st, txn, user, trace_item_ts, t));
			break;
		}
		snprintf(line, sizeof(line), " | %u %u %d %lld\n", user,
		    op % 7, done, (long long) prev);
		assert_xs_ok(xs_buf_append(t, line, strlen(line)));
	}
}

static void
held_pair_assert_same_trace(struct held_pair *h)
{
	assert_int_equal(h->trace[0].len, h->trace[1].len);
	assert_memory_equal(
	    h->trace[0].data, h->trace[1].data, h->trace[0].len);
}

/* Users in runs, coming back after others (so a held user's records are
 * read from the store and written back in place, before the last key
 * as well as past it), some stored before holding began, one dropped
 * while held: the held store answers and ends the same as the other. */
static void
test_store_users_held_same_as_btree(void **state)
{
	struct held_pair h = { 0 };
	char            *dir[2];
	uint32_t         x = 12345;
	struct xs_buf    dump[2];

	(void) state;
	for (int i = 0; i < 2; i++) {
		h.st[i] = xs_test_store_open(&dir[i]);
		xs_buf_init(&h.trace[i], SIZE_MAX);
		assert_xs_ok(xs_txn_write(h.st[i], &h.txn[i]));
		for (int u = 1; u <= 6; u++) {
			char     name[8];
			uint32_t id;

			snprintf(name, sizeof(name), "u%d", u);
			assert_xs_ok(xs_store_id_put(h.st[i], h.txn[i],
			    XS_DICT_USER, name, strlen(name), &id, NULL));
		}
	}
	/* Stored before holding: users 2 and 5, committed. */
	for (int k = 0; k < 60; k++) {
		x = x * 1103515245u + 12345u;
		held_pair_step(&h, k % 2 ? 2 : 5, x >> 8);
	}
	for (int i = 0; i < 2; i++) {
		assert_xs_ok(xs_txn_commit(h.txn[i]));
		assert_xs_ok(xs_txn_write(h.st[i], &h.txn[i]));
	}
	assert_xs_ok(xs_store_users_hold(h.st[1]));
	assert_xs_err(xs_store_users_hold(h.st[1]), XSELL_EINVAL);
	for (int run = 0; run < 40; run++) {
		uint32_t user = (uint32_t) (run * 7 % 6) + 1;

		for (int k = 0; k < 25; k++) {
			x = x * 1103515245u + 12345u;
			held_pair_step(&h, user, x >> 8);
		}
		if (run == 20) {
			for (int i = 0; i < 2; i++) {
				assert_xs_ok(
				    xs_store_user_drop(h.st[i], h.txn[i], 3));
			}
		}
	}
	assert_xs_ok(xs_store_users_held_write(h.st[1], h.txn[1]));
	assert_xs_err(
	    xs_store_users_held_write(h.st[1], h.txn[1]), XSELL_EINVAL);
	held_pair_assert_same_trace(&h);
	for (int i = 0; i < 2; i++) {
		assert_xs_ok(xs_txn_commit(h.txn[i]));
		xs_buf_init(&dump[i], SIZE_MAX);
		assert_xs_ok(xs_store_dump(h.st[i], &dump[i]));
	}
	/* The trace is not all: a record may be there and never read. */
	assert_int_equal(dump[0].len, dump[1].len);
	assert_memory_equal(dump[0].data, dump[1].data, dump[0].len);
	for (int i = 0; i < 2; i++) {
		xs_buf_fini(&dump[i]);
		xs_buf_fini(&h.trace[i]);
		xs_test_store_close(h.st[i], dir[i]);
	}
}

static void
test_store_refuses_newer_schema(void **state)
{
	char     *dir = xs_test_tmpdir();
	xs_store *st;
	MDB_env  *env;
	MDB_txn  *txn;
	MDB_dbi   meta;
	uint32_t  v = XS_SCHEMA_VERSION + 1;
	MDB_val   k = { 6, "schema" }, d = { sizeof(v), &v };

	(void) state;
	assert_xs_ok(xs_store_open(&st, dir, NULL));
	xs_store_close(st);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(txn, meta, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_xs_err(xs_store_open(&st, dir, NULL), XSELL_ESCHEMA);
	xs_test_rmdir(dir);
}

static void
test_store_refuses_foreign_env(void **state)
{
	char     *dir = xs_test_tmpdir();
	xs_store *st;
	MDB_env  *env;
	MDB_txn  *txn;
	MDB_dbi   main;
	MDB_val   k = { 3, "foo" }, d = { 3, "bar" };

	(void) state;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &main), 0);
	assert_int_equal(mdb_put(txn, main, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_xs_err(xs_store_open(&st, dir, NULL), XSELL_ECORRUPT);
	xs_test_rmdir(dir);
}

static void
test_store_refuses_unusable_dir(void **state)
{
	char     *dir = xs_test_tmpdir();
	char      path[4200];
	xs_store *st;
	FILE     *fp;

	(void) state;
	snprintf(path, sizeof(path), "%s/file", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_xs_err(xs_store_open(&st, path, NULL), XSELL_EIO);
	snprintf(path, sizeof(path), "%s/no/such/dir", dir);
	assert_xs_err(xs_store_open(&st, path, NULL), XSELL_EIO);
	xs_test_rmdir(dir);
}

/* The reader keeps 64 chunks direct-mapped by chunk number: chunks 0,
 * 64 and 128 share a slot, chunk 1 has its own, chunk 192 (same slot)
 * has no record. Read in turns, each must still give its own counts,
 * and an absent chunk zeros without hiding the others. */
static void
test_store_counts_reader_slots_shared_by_chunks(void **state)
{
	struct fixture         *f = *state;
	uint32_t                a = 5, b = 64 * 256 + 5, c = 128 * 256 + 7;
	uint32_t                d = 300, gone = 192 * 256 + 5;
	struct xs_count_delta   dl[] = { { a, { 11, 0, 0, 0 } },
		  { d, { 44, 0, 0, 0 } }, { b, { 22, 0, 0, 0 } },
		  { c, { 33, 0, 0, 0 } } };
	struct xs_counts_reader r;

	assert_xs_ok(xs_store_counts_add(f->st, f->txn, dl, 4));
	xs_counts_reader_init(&r, f->st, f->txn);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(
		    xs_counts_reader_get(&r, a, XS_C_BASKETS), 11);
		assert_int_equal(
		    xs_counts_reader_get(&r, b, XS_C_BASKETS), 22);
		assert_int_equal(
		    xs_counts_reader_get(&r, d, XS_C_BASKETS), 44);
		assert_int_equal(
		    xs_counts_reader_get(&r, c, XS_C_BASKETS), 33);
		assert_int_equal(
		    xs_counts_reader_get(&r, gone, XS_C_BASKETS), 0);
		assert_int_equal(
		    xs_counts_reader_get(&r, a, XS_C_BASKETS), 11);
		/* the same chunk, another item of it: zero */
		assert_int_equal(
		    xs_counts_reader_get(&r, a + 1, XS_C_BASKETS), 0);
	}
	xs_counts_reader_fini(&r);
}

/* Items of the dense tests: one in each of DENSE_CHUNKS chunks, its
 * baskets i + 1 and views 2i + 1. */
#define DENSE_CHUNKS 64u

static uint32_t
dense_item(uint32_t i)
{
	return i * XS_COUNTS_CHUNK + 7;
}

/* The dense tests' counts, added in txn. */
static void
dense_counts_add(xs_store *st, MDB_txn *txn)
{
	struct xs_count_delta d[DENSE_CHUNKS];

	for (uint32_t i = 0; i < DENSE_CHUNKS; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].item            = dense_item(i);
		d[i].d[XS_C_BASKETS] = (int32_t) i + 1;
		d[i].d[XS_C_VIEWS]   = (int32_t) (2 * i + 1);
	}
	assert_xs_ok(xs_store_counts_add(st, txn, d, DENSE_CHUNKS));
}

/* Every item of the dense tests' chunks read through r, each as the
 * store's chunk says, the baskets of item 'moved' plus 'more'. */
static void
dense_reads_match(struct xs_counts_reader *r, uint32_t moved, uint32_t more)
{
	for (uint32_t i = 0; i < DENSE_CHUNKS; i++) {
		uint32_t baskets = i + 1 + (i == moved ? more : 0);

		assert_int_equal(
		    xs_counts_reader_get(r, dense_item(i), XS_C_BASKETS),
		    baskets);
		assert_int_equal(
		    xs_counts_reader_get(r, dense_item(i) + 1, XS_C_BASKETS),
		    0);
		assert_int_equal(
		    xs_counts_reader_get(r, dense_item(i), XS_C_VIEWS),
		    2 * i + 1);
	}
	assert_int_equal(xs_counts_reader_get(
	                     r, DENSE_CHUNKS * XS_COUNTS_CHUNK, XS_C_BASKETS),
	    0);
}

static void
dense_commit_baskets(xs_store *st, uint32_t item, int32_t more)
{
	struct xs_count_delta d = { item, { 0 } };
	MDB_txn              *txn;

	d.d[XS_C_BASKETS] = more;
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_counts_add(st, txn, &d, 1));
	assert_xs_ok(xs_txn_commit(txn));
}

/* A reader that walks many chunks reads from one array of the counter
 * for every item, kept for its snapshot: the same counts as the chunks,
 * the array a commit of orders retires (a newer reader sees the change)
 * while a reader of the older snapshot still reads the older counts. */
static void
test_store_counts_reader_dense_follows_commits(void **state)
{
	struct fixture           *f = *state;
	struct xs_counts_reader   r, again;
	struct xs_item_memo_usage use;
	MDB_txn                  *old, *txn;

	dense_counts_add(f->st, f->txn);
	assert_xs_ok(xs_txn_commit(f->txn));
	f->txn = NULL;

	assert_xs_ok(xs_txn_read(f->st, &old));
	xs_counts_reader_init(&r, f->st, old);
	dense_reads_match(&r, UINT32_MAX, 0);
	assert_non_null(r.dense[XS_C_BASKETS]); /* the array was used */

	/* An item read after the reader has turned to the array. */
	dense_commit_baskets(f->st, dense_item(DENSE_CHUNKS - 1), 100);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	xs_counts_reader_init(&again, f->st, txn);
	dense_reads_match(&again, DENSE_CHUNKS - 1, 100);
	assert_non_null(again.dense[XS_C_BASKETS]);
	/* The views' array, which the orders' commit left good, is the
	 * first reader's, held from the memo. */
	xs_store_item_memo_usage(f->st, &use);
	assert_true(use.hits >= 1);
	xs_counts_reader_fini(&again);
	xs_txn_abort(txn);

	/* The older snapshot: its reader's array, and a new reader's. */
	dense_reads_match(&r, UINT32_MAX, 0);
	xs_counts_reader_fini(&r);
	xs_counts_reader_init(&r, f->st, old);
	dense_reads_match(&r, UINT32_MAX, 0);
	xs_counts_reader_fini(&r);
	xs_txn_abort(old);
}

/* A reader of a few chunks, or in a write transaction (no memos), reads
 * by chunk and still gets every count. */
static void
test_store_counts_reader_dense_not_for_few_chunks(void **state)
{
	struct fixture         *f = *state;
	struct xs_counts_reader r;
	MDB_txn                *txn;

	dense_counts_add(f->st, f->txn);
	xs_counts_reader_init(&r, f->st, f->txn);
	dense_reads_match(&r, UINT32_MAX, 0);
	assert_null(r.dense[XS_C_BASKETS]);
	xs_counts_reader_fini(&r);
	assert_xs_ok(xs_txn_commit(f->txn));
	f->txn = NULL;

	assert_xs_ok(xs_txn_read(f->st, &txn));
	xs_counts_reader_init(&r, f->st, txn);
	for (uint32_t i = 0; i < XS_COUNTS_DENSE_AFTER - 1; i++) {
		assert_int_equal(
		    xs_counts_reader_get(&r, dense_item(i), XS_C_BASKETS),
		    i + 1);
	}
	assert_null(r.dense[XS_C_BASKETS]);
	xs_counts_reader_fini(&r);
	xs_txn_abort(txn);
}

/* LMDB's own damage (a corrupted or lost page) and a damaged record are
 * both XSELL_ECORRUPT; only the first is counted, so that the log's
 * applier does not take the store's damage for one entry's. */
static void
test_store_btree_damage_counted(void **state)
{
	uint64_t before = xs_store_btree_damage_seen();

	(void) state;
	assert_int_equal(xs_err_from_mdb(MDB_NOTFOUND), XSELL_ENOENT);
	assert_int_equal(xs_err_from_mdb(MDB_MAP_FULL), XSELL_EMAPFULL);
	assert_int_equal(xs_err_from_mdb(MDB_INVALID), XSELL_ECORRUPT);
	assert_int_equal(xs_store_btree_damage_seen(), before);
	assert_int_equal(xs_err_from_mdb(MDB_CORRUPTED), XSELL_ECORRUPT);
	assert_int_equal(xs_err_from_mdb(MDB_PAGE_NOTFOUND), XSELL_ECORRUPT);
	assert_int_equal(xs_store_btree_damage_seen(), before + 2);
}

/* xselld compares the pair database's keys and values as integers
 * (env.c); that must be LMDB's own memcmp order, so that a store it
 * wrote reads the same in any program (mdb_dump, older xsell). Items
 * and partners straddle byte boundaries, where a little-endian or
 * signed compare would differ: read back through LMDB without the
 * comparators, every key and every key's values are in memcmp order,
 * and a range lookup finds a pair. */
static void
test_store_pair_order_is_lmdbs_own(void **state)
{
	static const uint32_t ids[] = { 1, 255, 256, 257, 65535, 65536,
		16777216, 0x7fffffffu, 0x80000000u, 0xfffffffeu };
	enum { N_IDS = sizeof(ids) / sizeof(ids[0]) };
	struct xs_pair_delta add[N_IDS * N_IDS];
	char                *dir = xs_test_tmpdir();
	xs_store            *st;
	MDB_txn             *txn;
	MDB_env             *env;
	MDB_dbi              pair;
	MDB_cursor          *cur;
	MDB_val              k, v, pk = { 0 }, pv = { 0 };
	size_t               n = 0, seen = 0;
	int                  rc;

	(void) state;
	for (size_t i = 0; i < N_IDS; i++) {
		for (size_t j = 0; j < N_IDS; j++) {
			/* Counts 1 and 256 too: the value's second half. */
			add[n++] = (struct xs_pair_delta) {
				.a = ids[i], .b = ids[j], .d = j % 2 ? 1 : 256
			};
		}
	}
	assert_xs_ok(xs_store_open(&st, dir, NULL));
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_pairs_add(st, txn, XS_REL_VIEW, add, n / 2));
	assert_xs_ok(xs_store_pairs_add(
	    st, txn, XS_REL_BASKET, add + n / 2, n - n / 2));
	assert_xs_ok(xs_txn_commit(txn));
	xs_store_close(st);

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 64);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "pair", 0, &pair), 0);
	assert_int_equal(mdb_cursor_open(txn, pair, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (pk.mv_data != NULL) {
			int dk = memcmp(pk.mv_data, k.mv_data, 5);

			assert_true(dk < 0 ||
			    (dk == 0 && memcmp(pv.mv_data, v.mv_data, 8) < 0));
		}
		pk = k;
		pv = v;
		seen++;
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	assert_int_equal(seen, n);
	{
		/* (basket, 0x80000000, 256), its count 256, by range, as the
		 * pair reader looks it up. */
		unsigned char kb[5] = { XS_REL_BASKET, 0x80, 0, 0, 0 };
		unsigned char vb[8] = { 0, 0, 1, 0, 0, 0, 0, 0 };

		k = (MDB_val) { sizeof(kb), kb };
		v = (MDB_val) { sizeof(vb), vb };
		assert_int_equal(
		    mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE), 0);
		assert_memory_equal(v.mv_data, "\0\0\1\0\0\0\1\0", 8);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	xs_test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_store_dict_assigns_dense_ids_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_pairs_add_walk_and_delete_at_zero, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_pairs_walk_spans_many_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_pair_get_finds_across_items_and_pages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_counts_chunked_add_and_clamp, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_counts_reader_chunks_sharing_a_slot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_counts_reader_slots_shared_by_chunks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_counts_reader_dense_follows_commits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_counts_reader_dense_not_for_few_chunks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_history_keeps_newest, setup, teardown),
		cmocka_unit_test(
		    test_store_history_same_event_kept_once_whatever_the_stock),
		cmocka_unit_test(test_store_users_held_same_as_btree),
		cmocka_unit_test(test_store_pair_order_is_lmdbs_own),
		cmocka_unit_test(test_store_refuses_newer_schema),
		cmocka_unit_test(test_store_btree_damage_counted),
		cmocka_unit_test(test_store_refuses_foreign_env),
		cmocka_unit_test(test_store_refuses_unusable_dir),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
