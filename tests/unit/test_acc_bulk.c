/* SPDX-License-Identifier: MIT */
/* The accumulator's bulk mode (xs_acc_bulk_begin) against its ordinary
 * flush: the same calls give byte for byte the same store through both,
 * on each of the bulk flush's ways: dense ids (counted in arrays),
 * ids past the dense range (radix sorted, on a helper thread when
 * there are many), changes other than +1 mixed in (summed in the log
 * and merged), a relation outside enum xs_rel (written the ordinary
 * way), and the memory bound (packed changes spilled into the log). A
 * few counts and a top list are also checked against values worked out
 * by hand; a bulk flush into a store that has pairs is refused. And the
 * order records a fresh build holds to write sorted at its end
 * (xs_store_orders_hold): the same database as put one by one. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "store/store.h"

/* Not in enum xs_rel (as in test_acc.c). */
#define REL_DAY ((enum xs_rel) 200)
/* Past the bulk flush's dense range (ids below 2^22). */
#define BIG 4000000000u

/* The calls of one case, made on both accumulators alike. */
typedef void (*calls_fn)(xs_acc *acc);

/* Packed changes the bulk accumulator holds before it spills (0: its
 * default). */
static size_t max_held;

/* Make the calls on a bulk and an ordinary accumulator, flush each into
 * a fresh store, and compare the dumps. Returns the bulk store (the
 * caller closes it with xs_test_store_close(st, *dirp)). */
static xs_store *
check_same(calls_fn calls, char **dirp)
{
	xs_acc   *bulk, *plain;
	xs_store *sb, *sp;
	char     *dp;

	sb = xs_test_store_open(dirp);
	sp = xs_test_store_open(&dp);
	assert_xs_ok(xs_acc_alloc(&bulk));
	assert_xs_ok(xs_acc_alloc(&plain));
	xs_acc_bulk_begin(bulk, max_held);
	calls(bulk);
	calls(plain);
	xs_test_acc_commit(sb, bulk);
	xs_test_acc_commit(sp, plain);
	xs_test_assert_same_store(sb, sp);
	xs_acc_free(bulk);
	xs_acc_free(plain);
	xs_test_store_close(sp, dp);
	return sb;
}

static uint32_t
pair_count(xs_store *st, enum xs_rel rel, uint32_t a, uint32_t b)
{
	MDB_txn *txn;
	uint32_t c;

	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_pair_get(st, txn, rel, a, b, &c));
	xs_txn_abort(txn);
	return c;
}

struct top_seen {
	uint32_t b[8], count[8];
	size_t   n;
};

static xsell_err
top_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct top_seen *t = ctx;

	if (t->n < 8) {
		t->b[t->n]     = b;
		t->count[t->n] = count;
	}
	t->n++;
	return XSELL_OK;
}

/* ==== Cases ==== */

/* Hand-made: basket 9 -> 1 once, 2 three times, 3 three times; a pair
 * +1 then -1 (gone); a view pair +2 (the log); a day relation of its
 * own. */
static void
calls_small(xs_acc *acc)
{
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 9, 3, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 9, 2, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 9, 1, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 9, 2, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 9, 3, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 9, 3, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 9, 2, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 4, 5, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 4, 5, -1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_VIEW, 7, 8, 2));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_VIEW, 7, 8, 1));
	assert_xs_ok(xs_acc_pair_add(acc, REL_DAY, 15000, 9, 1));
	assert_xs_ok(xs_acc_item_add(acc, 9, XS_C_BASKETS, 7));
}

static void
test_acc_bulk_small_by_hand(void **state)
{
	struct top_seen t = { 0 };
	xs_store       *st;
	char           *dir;
	MDB_txn        *txn;
	bool            whole;

	(void) state;
	st = check_same(calls_small, &dir);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 9, 1), 1);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 9, 2), 3);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 9, 3), 3);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 4, 5), 0);
	assert_int_equal(pair_count(st, XS_REL_VIEW, 7, 8), 3);
	assert_int_equal(pair_count(st, REL_DAY, 15000, 9), 1);
	/* Best first: count descending, then b ascending. */
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_top_each(
	    st, txn, XS_REL_BASKET, 9, 10, top_cb, &t, &whole));
	xs_txn_abort(txn);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.b[0], 2);
	assert_int_equal(t.count[0], 3);
	assert_int_equal(t.b[1], 3);
	assert_int_equal(t.count[1], 3);
	assert_int_equal(t.b[2], 1);
	assert_int_equal(t.count[2], 1);
	xs_test_store_close(st, dir);
}

/* Baskets of every pair at once (xs_acc_pairs_all): {1, 2, 3} twice,
 * {2, 3, 40} (the first of them past the buckets' first 16-entry block
 * when the ones before are counted), {5} (no pair), {} and one basket
 * with an id past the dense range (pair by pair). Both ways: 1-2 and
 * 1-3 twice, 2-3 three times, 2-40 and 3-40 once. */
static void
calls_baskets(xs_acc *acc)
{
	static const uint32_t b123[] = { 1, 2, 3 }, b2340[] = { 2, 3, 40 },
	                      b5[] = { 5 }, bbig[] = { 6, BIG };

	for (int i = 0; i < 8; i++) {
		/* Fill bucket 2 past its first block: 2 -> 7, 8 times. */
		assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 2, 7, 1));
	}
	assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_BASKET, b123, 3));
	assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_BASKET, b123, 3));
	assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_BASKET, b2340, 3));
	assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_BASKET, b5, 1));
	assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_BASKET, b5, 0));
	assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_VIEW, bbig, 2));
}

static void
test_acc_bulk_baskets_by_hand(void **state)
{
	static const uint32_t want[][3] = { { 1, 2, 2 }, { 2, 1, 2 },
		{ 1, 3, 2 }, { 3, 1, 2 }, { 2, 3, 3 }, { 3, 2, 3 },
		{ 2, 40, 1 }, { 40, 2, 1 }, { 3, 40, 1 }, { 40, 3, 1 },
		{ 2, 7, 8 }, { 1, 40, 0 }, { 40, 1, 0 }, { 5, 5, 0 },
		{ 1, 1, 0 } };
	xs_store             *st;
	char                 *dir;

	(void) state;
	for (int spill = 0; spill < 2; spill++) {
		/* Spilling after 10 changes: 8 held, a basket of 6 pairs
		 * goes pair by pair, through a spill. */
		max_held = spill ? 10 : 0;
		st       = check_same(calls_baskets, &dir);
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			assert_int_equal(pair_count(st, XS_REL_BASKET,
			                     want[i][0], want[i][1]),
			    want[i][2]);
		}
		assert_int_equal(pair_count(st, XS_REL_VIEW, 6, BIG), 1);
		assert_int_equal(pair_count(st, XS_REL_VIEW, BIG, 6), 1);
		xs_test_store_close(st, dir);
	}
	max_held = 0;
}

/* The bulk accumulator's item ids: what was put is got back, nothing
 * else; 5,000 names (the table grows twice); nothing outside bulk mode
 * nor after the flush's clear. */
static void
test_acc_bulk_item_ids(void **state)
{
	xs_acc  *acc;
	uint32_t id = 0;
	char     name[32];

	(void) state;
	assert_xs_ok(xs_acc_alloc(&acc));
	assert_xs_ok(xs_acc_item_id_put(acc, "a", 1, 7));
	assert_false(xs_acc_item_id_get(acc, "a", 1, &id)); /* not bulk */
	xs_acc_bulk_begin(acc, 0);
	for (uint32_t i = 1; i <= 5000; i++) {
		int len = snprintf(name, sizeof(name), "item-%u", i);

		assert_xs_ok(xs_acc_item_id_put(acc, name, (size_t) len, i));
	}
	assert_xs_ok(xs_acc_item_id_put(acc, "item-1", 6, 99)); /* kept: 1 */
	for (uint32_t i = 1; i <= 5000; i++) {
		int len = snprintf(name, sizeof(name), "item-%u", i);

		assert_true(xs_acc_item_id_get(acc, name, (size_t) len, &id));
		assert_int_equal(id, i);
	}
	assert_false(xs_acc_item_id_get(acc, "item-5001", 9, &id));
	assert_false(xs_acc_item_id_get(acc, "item-", 5, &id));
	assert_false(xs_acc_item_id_get(acc, "a", 1, &id));
	xs_acc_clear(acc);
	xs_acc_bulk_begin(acc, 0);
	assert_false(xs_acc_item_id_get(acc, "item-1", 6, &id));
	xs_acc_free(acc);
}

/* 600,000 changes over dense ids (basket) with some +2s and -1s among
 * the +1s (the log, merged: the radix way), the day lists of the same
 * and 200,000 +1s of cart (dense, no log: the counting way), and
 * 400,000 over ids past the dense range (view: the radix sort, on the
 * helper thread). */
static void
calls_large(xs_acc *acc)
{
	uint64_t s = 42;

	for (int i = 0; i < 600000; i++) {
		uint32_t a = 1 + (uint32_t) (xs_test_rng_next(&s) % 3000);
		uint32_t b = 1 +
		    (uint32_t) (xs_test_rng_next(&s) %
		        (a % 7 == 0 ? 40 : 3000));
		int32_t d = i % 997 == 0 ? 2 : i % 1009 == 0 ? -1 : 1;

		assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, a, b, d));
		assert_xs_ok(xs_acc_pair_add(
		    acc, XS_REL_TREND_BUY, 15000 + a % 300, b, 1));
	}
	for (int i = 0; i < 200000; i++) {
		uint32_t a = 1 + (uint32_t) (xs_test_rng_next(&s) % 700);
		uint32_t b = 1 + (uint32_t) (xs_test_rng_next(&s) % 700);

		assert_xs_ok(xs_acc_pair_add(acc, XS_REL_CART, a, b, 1));
	}
	for (int i = 0; i < 400000; i++) {
		uint32_t a = BIG - (uint32_t) (xs_test_rng_next(&s) % 500);
		uint32_t b =
		    (uint32_t) (xs_test_rng_next(&s) % 5000) * 800000u;

		assert_xs_ok(xs_acc_pair_add(acc, XS_REL_VIEW, a, b, 1));
	}
}

static void
test_acc_bulk_large_same_as_plain(void **state)
{
	xs_store *st;
	char     *dir;

	(void) state;
	st = check_same(calls_large, &dir);
	xs_test_store_close(st, dir);
}

/* Past its bound (here 10,000 packed changes) the bulk accumulator
 * spills into its log: 100,000 +1s over the 64 x 64 pairs of a = 1..64,
 * b = 1..64, and a few -1s, in several spills and merges. */
static void
calls_spill(xs_acc *acc)
{
	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t a = 1 + i % 64, b = 1 + (i / 64) % 64;

		assert_xs_ok(xs_acc_pair_add(acc, XS_REL_CART, a, b, 1));
		if (i % 4096 == 0) {
			assert_xs_ok(
			    xs_acc_pair_add(acc, XS_REL_CART, 1, 1, -1));
		}
	}
}

static void
test_acc_bulk_spill_same_as_plain(void **state)
{
	xs_store *st;
	char     *dir;

	(void) state;
	max_held = 10000;
	st       = check_same(calls_spill, &dir);
	max_held = 0;
	/* i = 0..99,999, a = 1 + i % 64, b = 1 + (i / 64) % 64: a cycle of
	 * all 4,096 pairs is 4,096 calls; 24 cycles make 98,304 and the
	 * remaining 1,696 calls are i / 64 = 1536..1562, that is b = 1..26
	 * for every a and b = 27 for a = 1..32. (1, 1) also loses one at
	 * each multiple of 4,096 up to 98,304: 25 of them. */
	assert_int_equal(pair_count(st, XS_REL_CART, 1, 1), 25 - 25);
	assert_int_equal(pair_count(st, XS_REL_CART, 2, 1), 25);
	assert_int_equal(pair_count(st, XS_REL_CART, 64, 26), 25);
	assert_int_equal(pair_count(st, XS_REL_CART, 32, 27), 25);
	assert_int_equal(pair_count(st, XS_REL_CART, 33, 27), 24);
	assert_int_equal(pair_count(st, XS_REL_CART, 1, 28), 24);
	xs_test_store_close(st, dir);
}

/* calls_feed makes -1s too: the bulk flush then sums everything in its
 * log; without them it counts each item's row on its other helper
 * thread (the row ring) while it writes. */
static bool feed_minus;

/* Baskets handed to the bulk accumulator's helper thread (the feed:
 * a ring of 2^18 words, a basket n + 1 of them): 230,000 baskets of 0..4 ids
 * from 1..2,000, every 500th of 0..60, about 700,000 words, so the ring
 * wraps around twice and records straddle its end; single +1s of the same
 * relation between them (through the feed too), -1s (the log) if feed_minus,
 * and another relation's +1s (the model's own buckets). Among them, basket
 * {2001, 2002, 2003} seven times and the single pair 2001 -> 2002 twice, ids
 * no other call uses: (2001, 2002) 7 + 2 = 9, (2002, 2001) and the
 * others 7. A batch of records lost on the way, or a record taken
 * twice, changes the dump; so does a row the row ring loses, and rows
 * it swaps are refused by the pair writer (keys out of order). */
static void
calls_feed(xs_acc *acc)
{
	static const uint32_t trio[] = { 2001, 2002, 2003 };
	uint64_t              s      = 7;
	uint32_t              ids[60];

	for (int i = 0; i < 230000; i++) {
		size_t n =
		    (size_t) (xs_test_rng_next(&s) % (i % 500 == 0 ? 61 : 5));

		for (size_t j = 0; j < n; j++) {
			ids[j] = 1 + (uint32_t) (xs_test_rng_next(&s) % 2000);
		}
		assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_BASKET, ids, n));
		if (i % 33000 == 0) {
			assert_xs_ok(
			    xs_acc_pairs_all(acc, XS_REL_BASKET, trio, 3));
		}
		if (i % 7 == 0 && n >= 2) {
			assert_xs_ok(xs_acc_pair_add(
			    acc, XS_REL_BASKET, ids[0], ids[1], 1));
		}
		if (feed_minus && i % 101 == 0 && n >= 2) {
			assert_xs_ok(xs_acc_pair_add(
			    acc, XS_REL_BASKET, ids[1], ids[0], -1));
		}
		if (n >= 1) {
			assert_xs_ok(xs_acc_pair_add(acc, XS_REL_TREND_BUY,
			    15000 + (uint32_t) i % 300, ids[0], 1));
		}
		if (i == 50000 || i == 100000) {
			assert_xs_ok(xs_acc_pair_add(
			    acc, XS_REL_BASKET, 2001, 2002, 1));
		}
	}
}

static void
check_trio(xs_store *st)
{
	assert_int_equal(pair_count(st, XS_REL_BASKET, 2001, 2002), 9);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 2002, 2001), 7);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 2001, 2003), 7);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 2003, 2002), 7);
	assert_int_equal(pair_count(st, XS_REL_BASKET, 2003, 2001), 7);
}

static void
test_acc_bulk_feed_same_as_plain(void **state)
{
	xs_store *st;
	char     *dir;

	(void) state;
	st = check_same(calls_feed, &dir);
	check_trio(st);
	xs_test_store_close(st, dir);
}

/* The same with -1s, spilled every 300,000 held changes (about 1.7
 * million in all): the feed is joined at each spill and starts again
 * after it. */
static void
test_acc_bulk_feed_spilled_same_as_plain(void **state)
{
	xs_store *st;
	char     *dir;

	(void) state;
	max_held   = 300000;
	feed_minus = true;
	st         = check_same(calls_feed, &dir);
	max_held   = 0;
	feed_minus = false;
	check_trio(st);
	xs_test_store_close(st, dir);
}

/* Cleared before a flush (a transaction aborted), with the helper
 * running and records not yet taken: nothing remains, and the
 * accumulator works again. */
static void
test_acc_bulk_feed_cleared(void **state)
{
	static const uint32_t ab[] = { 1, 2 };
	struct xs_test_store *f    = *state;
	xs_acc               *acc;

	assert_xs_ok(xs_acc_alloc(&acc));
	xs_acc_bulk_begin(acc, 0);
	calls_feed(acc);
	xs_acc_clear(acc);
	xs_acc_bulk_begin(acc, 0);
	assert_xs_ok(xs_acc_pairs_all(acc, XS_REL_BASKET, ab, 2));
	xs_test_acc_commit(f->st, acc);
	xs_acc_free(acc);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 1, 2), 1);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 2, 1), 1);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 2001, 2002), 0);
}

/* A bulk flush needs an empty pair database. */
static void
test_acc_bulk_refuses_a_store_with_pairs(void **state)
{
	struct xs_test_store *f = *state;
	xs_acc               *acc;
	MDB_txn              *txn;

	assert_xs_ok(xs_acc_alloc(&acc));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 1, 2, 1));
	xs_test_acc_commit(f->st, acc);
	xs_acc_bulk_begin(acc, 0);
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 3, 4, 1));
	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_xs_err(xs_acc_flush(acc, f->st, txn), XSELL_EINVAL);
	xs_txn_abort(txn);
	xs_acc_free(acc);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 1, 2), 1);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 3, 4), 0);
}

/* ==== Order records held for the end of a fresh build ==== */

/* Ids out of key order, two of them sharing their first 8 bytes (the
 * sort's integer prefix) and one a prefix of another. */
static const char *const held_ids[] = { "b2", "zz-long-9", "a", "ab",
	"zz-long-10", "a1" };
#define N_HELD (sizeof(held_ids) / sizeof(held_ids[0]))

/* Put order i of held_ids: user i + 1, ts 1000 + i, items i + 1 .. 2i
 * (none for i 0). */
static void
held_put(xs_store *st, MDB_txn *txn, size_t i)
{
	struct xs_order_rec rec = { 0 };
	uint32_t            items[N_HELD];

	rec.user    = (uint32_t) i + 1;
	rec.ts      = 1000 + (int64_t) i;
	rec.n_items = (uint32_t) i;
	for (size_t j = 0; j < i; j++) {
		items[j] = (uint32_t) (i + 1 + j);
	}
	assert_xs_ok(xs_store_order_put(
	    st, txn, held_ids[i], strlen(held_ids[i]), &rec, items));
}

/* Held and written sorted, the order database dumps as the one put
 * record by record; a record reads back as put. */
static void
test_orders_held_same_as_put(void **state)
{
	xs_store           *held, *plain;
	char               *dh, *dp;
	MDB_txn            *txn;
	struct xs_order_rec rec;
	const void         *items;
	uint32_t            item;
	bool                exists = true;

	(void) state;
	held  = xs_test_store_open(&dh);
	plain = xs_test_store_open(&dp);
	assert_xs_ok(xs_txn_write(held, &txn));
	assert_xs_ok(xs_store_orders_hold(held, txn));
	assert_true(xs_store_orders_held(held));
	for (size_t i = 0; i < N_HELD; i++) {
		held_put(held, txn, i);
	}
	/* Held, not written yet: the database does not have it. */
	assert_xs_ok(xs_store_order_exists(held, txn, "ab", 2, &exists));
	assert_false(exists);
	assert_xs_ok(xs_store_orders_held_write(held, txn));
	assert_false(xs_store_orders_held(held));
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_ok(xs_txn_write(plain, &txn));
	for (size_t i = 0; i < N_HELD; i++) {
		held_put(plain, txn, i);
	}
	assert_xs_ok(xs_txn_commit(txn));
	xs_test_assert_same_store(held, plain);
	/* "zz-long-10" is order 4: user 5, ts 1004, items 5..8. */
	assert_xs_ok(xs_txn_read(held, &txn));
	assert_xs_ok(
	    xs_store_order_get(held, txn, "zz-long-10", 10, &rec, &items));
	assert_int_equal(rec.user, 5);
	assert_int_equal(rec.ts, 1004);
	assert_int_equal(rec.n_items, 4);
	memcpy(&item, (const char *) items + 3 * sizeof(item), sizeof(item));
	assert_int_equal(item, 8);
	xs_txn_abort(txn);
	xs_test_store_close(held, dh);
	xs_test_store_close(plain, dp);
}

/* An id held twice fails the write (nothing is half-written: the caller
 * aborts); holding needs an empty order database. */
static void
test_orders_held_refusals(void **state)
{
	struct xs_test_store *f = *state;
	MDB_txn              *txn;
	bool                  exists = true;

	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_xs_ok(xs_store_orders_hold(f->st, txn));
	assert_xs_err(xs_store_orders_hold(f->st, txn), XSELL_EINVAL);
	held_put(f->st, txn, 1);
	held_put(f->st, txn, 3);
	held_put(f->st, txn, 1);
	assert_xs_err(xs_store_orders_held_write(f->st, txn), XSELL_EINVAL);
	assert_false(xs_store_orders_held(f->st));
	xs_txn_abort(txn);
	assert_xs_ok(xs_txn_write(f->st, &txn));
	held_put(f->st, txn, 2);
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_xs_err(xs_store_orders_hold(f->st, txn), XSELL_EINVAL);
	assert_xs_err(xs_store_orders_held_write(f->st, txn), XSELL_EINVAL);
	xs_txn_abort(txn);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_xs_ok(xs_store_order_exists(f->st, txn, "a1", 2, &exists));
	assert_false(exists);
	assert_xs_ok(xs_store_order_exists(f->st, txn, "a", 1, &exists));
	assert_true(exists);
	xs_txn_abort(txn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acc_bulk_small_by_hand),
		cmocka_unit_test(test_acc_bulk_baskets_by_hand),
		cmocka_unit_test(test_acc_bulk_item_ids),
		cmocka_unit_test(test_acc_bulk_large_same_as_plain),
		cmocka_unit_test(test_acc_bulk_spill_same_as_plain),
		cmocka_unit_test(test_acc_bulk_feed_same_as_plain),
		cmocka_unit_test(test_acc_bulk_feed_spilled_same_as_plain),
		cmocka_unit_test_setup_teardown(test_acc_bulk_feed_cleared,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_acc_bulk_refuses_a_store_with_pairs,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test(test_orders_held_same_as_put),
		cmocka_unit_test_setup_teardown(test_orders_held_refusals,
		    xs_test_store_setup, xs_test_store_teardown),
	};

	return cmocka_run_group_tests_name("acc_bulk", tests, NULL, NULL);
}
