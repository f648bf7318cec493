/* SPDX-License-Identifier: MIT */
/* The accumulator on its own: pending pair changes are summed per
 * (relation, a, b), whatever the relation value and the order of the
 * calls, also across the in-memory compactions of a large log; changes
 * that cancel write nothing; a cleared accumulator writes nothing. The
 * expected counts are worked out from the calls made, by hand. */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "store/store.h"

/* Not in enum xs_rel: a relation number as a day-indexed counter would
 * use one. The accumulator must not care. */
#define REL_DAY ((enum xs_rel) 200)

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

static void
test_acc_sums_per_relation(void **state)
{
	struct xs_test_store *f = *state;
	xs_acc               *acc;

	assert_xs_ok(xs_acc_alloc(&acc));
	/* Out of order, repeated, three relations sharing (a, b). */
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_VIEW, 9, 2, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 1, 2, 1));
	assert_xs_ok(xs_acc_pair_add(acc, REL_DAY, 1, 2, 5));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 3, 1, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 1, 2, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_VIEW, 1, 2, 4));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 1, 2, 1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 70000, 1, 2));
	/* +2 then -2: cancels, so nothing is written. */
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 4, 5, 2));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 4, 5, -2));
	xs_test_acc_commit(f->st, acc);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 1, 2), 3);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 3, 1), 1);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 70000, 1), 2);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 2, 1), 0);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 4, 5), 0);
	assert_int_equal(pair_count(f->st, XS_REL_VIEW, 1, 2), 4);
	assert_int_equal(pair_count(f->st, XS_REL_VIEW, 9, 2), 1);
	assert_int_equal(pair_count(f->st, REL_DAY, 1, 2), 5);
	assert_int_equal(pair_count(f->st, REL_DAY, 9, 2), 0);
	/* A second transaction adds to what is stored; taking a count to
	 * 0 deletes the pair. */
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 1, 2, -1));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 3, 1, -1));
	assert_xs_ok(xs_acc_pair_add(acc, REL_DAY, 1, 2, 1));
	xs_test_acc_commit(f->st, acc);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 1, 2), 2);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 3, 1), 0);
	assert_int_equal(pair_count(f->st, REL_DAY, 1, 2), 6);
	xs_acc_free(acc);
}

/* 3,000,000 calls over 40 x 50 = 2,000 keys (1,500 each), in an order
 * that revisits every key between the log's compactions (the first at
 * 2^20 entries), with a -1 for every key in the middle: each pair must
 * end at exactly 1,499. Keys of another relation come only after the
 * first compaction and must not mix with them. */
static void
test_acc_sums_across_compactions(void **state)
{
	struct xs_test_store *f = *state;
	xs_acc               *acc;
	const uint32_t        n = 3000000;

	assert_xs_ok(xs_acc_alloc(&acc));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = 1 + i % 40, b = 1 + (i / 40) % 50;

		assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, a, b, 1));
		if (i == n / 2) {
			for (uint32_t x = 1; x <= 40; x++) {
				for (uint32_t y = 1; y <= 50; y++) {
					assert_xs_ok(xs_acc_pair_add(
					    acc, XS_REL_BASKET, x, y, -1));
				}
			}
		}
		if (i > (1u << 21) && i % 1000 == 0) {
			assert_xs_ok(xs_acc_pair_add(acc, REL_DAY, a, b, 1));
		}
	}
	xs_test_acc_commit(f->st, acc);
	for (uint32_t a = 1; a <= 40; a++) {
		for (uint32_t b = 1; b <= 50; b++) {
			assert_int_equal(
			    pair_count(f->st, XS_REL_BASKET, a, b), 1499);
		}
	}
	/* i = 2,098,000 .. 2,999,000 in steps of 1,000 (902 calls): i % 40
	 * is 0, so a = 1; b = 1 + (i / 40) % 50 = 1 + (25 * k) % 50 for
	 * i = 1000 k: k even gives b = 1, k odd b = 26. k runs 2098..2999:
	 * 451 even, 451 odd. */
	assert_int_equal(pair_count(f->st, REL_DAY, 1, 1), 451);
	assert_int_equal(pair_count(f->st, REL_DAY, 1, 26), 451);
	assert_int_equal(pair_count(f->st, REL_DAY, 2, 1), 0);
	xs_acc_free(acc);
}

static void
test_acc_clear_forgets(void **state)
{
	struct xs_test_store *f = *state;
	xs_acc               *acc;

	assert_xs_ok(xs_acc_alloc(&acc));
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 1, 2, 1));
	assert_xs_ok(xs_acc_item_add(acc, 1, XS_C_BASKETS, 1));
	assert_true(xs_acc_bytes(acc) > 0);
	xs_acc_clear(acc);
	assert_xs_ok(xs_acc_pair_add(acc, XS_REL_BASKET, 5, 6, 1));
	xs_test_acc_commit(f->st, acc);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 1, 2), 0);
	assert_int_equal(pair_count(f->st, XS_REL_BASKET, 5, 6), 1);
	xs_acc_free(acc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_acc_sums_per_relation,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_acc_sums_across_compactions, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_acc_clear_forgets,
		    xs_test_store_setup, xs_test_store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
