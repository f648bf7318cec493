/* SPDX-License-Identifier: MIT */
/* The loader's string interner (load/intern.c): one number per distinct
 * string, in order of first put, whether the string is the one put last
 * (an order's next line), one put long before, or new; through the
 * table's growth. Numbers worked by hand: "a" 0, "b" 1, "" 2, ... */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include "load/load_impl.h"

static uint32_t
put(struct xs_intern *in, const char *s)
{
	uint32_t id = 99;

	assert_xs_ok(xs_intern_put(in, s, strlen(s), &id));
	return id;
}

static void
test_intern_numbers_in_order_of_first_put(void **state)
{
	struct xs_intern in;
	struct xs_span   sp;

	(void) state;
	xs_intern_init(&in);
	assert_false(xs_intern_has(&in, "a", 1));
	assert_int_equal(put(&in, "a"), 0);
	assert_int_equal(put(&in, "a"), 0); /* the last one, again */
	assert_int_equal(put(&in, "b"), 1);
	assert_int_equal(put(&in, "a"), 0); /* not the last one */
	assert_int_equal(put(&in, "a"), 0);
	assert_int_equal(put(&in, ""), 2);
	assert_int_equal(put(&in, ""), 2);
	assert_int_equal(put(&in, "ab"), 3); /* "a" was last but one */
	assert_int_equal(put(&in, "b"), 1);
	assert_int_equal(put(&in, "ab"), 3);
	assert_int_equal(put(&in, "abc"), 4); /* longer than the last */
	assert_true(xs_intern_has(&in, "ab", 2));
	assert_false(xs_intern_has(&in, "ba", 2));
	sp = xs_intern_get(&in, 3);
	assert_int_equal(sp.len, 2);
	assert_memory_equal(sp.p, "ab", 2);
	xs_intern_fini(&in);
}

/* 5,000 strings, each put twice in a row and then all again in reverse:
 * the table grows several times (its first size is 1,024 slots). */
static void
test_intern_keeps_numbers_through_growth(void **state)
{
	struct xs_intern in;
	char             s[32];

	(void) state;
	xs_intern_init(&in);
	for (uint32_t i = 0; i < 5000; i++) {
		snprintf(s, sizeof(s), "order-%u", i);
		assert_int_equal(put(&in, s), i);
		assert_int_equal(put(&in, s), i);
	}
	for (uint32_t i = 5000; i-- > 0;) {
		snprintf(s, sizeof(s), "order-%u", i);
		assert_int_equal(put(&in, s), i);
	}
	assert_int_equal(in.n, 5000);
	xs_intern_fini(&in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intern_numbers_in_order_of_first_put),
		cmocka_unit_test(test_intern_keeps_numbers_through_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
