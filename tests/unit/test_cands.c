/* SPDX-License-Identifier: MIT */
/* The candidate table (model/cands.c): xs_cand_map_find gives the
 * candidate xs_cand_map_get made, before and after the table grows, and
 * never adds one. */
#include "support.h"

#include <stdlib.h>

#include "model/model_impl.h"

/* An empty table, never grown, finds nothing. */
static void
test_find_in_empty_map(void **state)
{
	struct xs_cand_map m = { 0 };

	(void) state;
	assert_null(xs_cand_map_find(&m, 1));
	assert_int_equal(m.vec.n, 0);
}

/* 2,000 items make the table grow from 1,024 slots (at 512 entries) to
 * 4,096: every item is found with the score it was given (2 x item), a
 * missing one is not, and looking does not add. */
static void
test_find_what_get_made(void **state)
{
	struct xs_cand_map m = { 0 };
	struct xs_cand    *c;

	(void) state;
	for (uint32_t item = 1; item <= 2000; item++) {
		assert_xs_ok(xs_cand_map_get(&m, item, &c));
		c->score = 2.0 * item;
	}
	assert_int_equal(m.cap, 4096);
	for (uint32_t item = 1; item <= 2000; item++) {
		c = xs_cand_map_find(&m, item);
		assert_non_null(c);
		assert_int_equal(c->item, item);
		assert_true(c->score == 2.0 * item);
	}
	assert_null(xs_cand_map_find(&m, 2001));
	assert_null(xs_cand_map_find(&m, 1u << 31));
	assert_int_equal(m.vec.n, 2000);
	/* get after find still adds the missing item, once. */
	assert_xs_ok(xs_cand_map_get(&m, 2001, &c));
	assert_ptr_equal(xs_cand_map_find(&m, 2001), c);
	assert_int_equal(m.vec.n, 2001);
	xs_cand_map_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_in_empty_map),
		cmocka_unit_test(test_find_what_get_made),
	};

	return cmocka_run_group_tests_name("cands", tests, NULL, NULL);
}
