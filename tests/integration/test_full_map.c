/* SPDX-License-Identifier: MIT */
/* A full LMDB map, over the socket: xselld on a tiny --map-size takes
 * orders until the map is full, then answers writes with "unavailable"
 * and a message that says the map is full, while reads go on. Nothing
 * is corrupted: restarted on a larger map, the store holds exactly the
 * acknowledged orders and takes new ones. */
#include "support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDERS_PER_BATCH XS_TEST_FILL_ORDERS
#define ITEMS_PER_ORDER XS_TEST_FILL_ITEMS
/* A bound on the loop: 1 MiB fills long before this many orders. */
#define MAX_BATCHES 2000
/* Users: one per order. */
#define USERS (MAX_BATCHES * ORDERS_PER_BATCH)

/* fbt of the first item of order 'n': its nine order mates, each bought
 * with it once (count scorer). */
static void
assert_fbt_of_order(const char *url, unsigned n)
{
	json_t *r     = xs_test_fill_fbt(url, n);
	json_t *items = json_object_get(r, "items");

	assert_int_equal(json_array_size(items), ITEMS_PER_ORDER - 1);
	for (size_t i = 0; i < json_array_size(items); i++) {
		assert_float_equal(json_number_value(json_object_get(
		                       json_array_get(items, i), "score")),
		    1, 0);
	}
	json_decref(r);
}

static void
test_full_map_refuses_writes_serves_reads_and_keeps_the_store(void **state)
{
	static const char *const tiny[] = { "--map-size", "1M", NULL };
	struct xs_test_server    s;
	static char              req[64 * 1024];
	json_t                  *r     = NULL;
	unsigned                 acked = 0, b;

	(void) state;
	xs_test_server_start(&s, tiny);
	for (b = 0; b < MAX_BATCHES; b++) {
		xs_test_fill_batch(b, NULL, USERS, req, sizeof(req));
		r = xs_test_call(s.admin_url, req);
		if (strcmp(xs_test_reply_code(r), "ok") != 0) {
			break;
		}
		acked += ORDERS_PER_BATCH;
		json_decref(r);
		r = NULL;
	}
	assert_true(b < MAX_BATCHES); /* the map did fill */
	assert_true(acked > 0);       /* and took something first */
	/* The refusal says the map is full. */
	xs_test_reply_error(r, "unavailable", "full");
	json_decref(r);
	print_message("1 MiB map: %u orders acknowledged, then full\n", acked);

	/* Reads go on, and see every acknowledged order whole. */
	assert_int_equal(xs_test_stats_orders(s.read_url), acked);
	assert_fbt_of_order(s.read_url, 0);
	assert_fbt_of_order(s.read_url, acked - 1);
	/* The refused batch left nothing: its first order is unknown. */
	snprintf(req, sizeof(req),
	    "{\"op\":\"fbt\",\"items\":[\"i%u-0\"],\"scorer\":\"count\"}",
	    acked);
	r = xs_test_call_ok(s.read_url, req);
	assert_int_equal(json_array_size(json_object_get(r, "items")), 0);
	json_decref(r);
	/* The same batch again is still refused, and the server serves. */
	xs_test_fill_batch(b, NULL, USERS, req, sizeof(req));
	xs_test_assert_code(s.admin_url, req, "unavailable");
	assert_int_equal(xs_test_stats_orders(s.read_url), acked);

	/* Restarted with the default map: the same store, exactly the
	 * acknowledged orders, and the refused batch now goes in. */
	assert_true(xs_test_server_signal(&s, SIGTERM) >= 0);
	s.extra = NULL;
	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), acked);
	assert_fbt_of_order(s.read_url, acked - 1);
	xs_test_send_ok(s.admin_url, req);
	assert_int_equal(
	    xs_test_stats_orders(s.read_url), acked + ORDERS_PER_BATCH);
	assert_fbt_of_order(s.read_url, acked);
	xs_test_server_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_full_map_refuses_writes_serves_reads_and_keeps_the_store),
	};

	return cmocka_run_group_tests_name("full_map", tests, NULL, NULL);
}
