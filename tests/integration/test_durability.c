/* SPDX-License-Identifier: MIT */
/* An acknowledged write survives kill -9 of the server: the reply comes
 * only after the LMDB commit (fsync) returned. */
#include "support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
test_durability_acked_orders_survive_kill_9(void **state)
{
	struct xs_test_server s;
	char                  req[512];
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, NULL);
	for (int i = 0; i < 20; i++) {
		snprintf(req, sizeof(req),
		    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
		    "\"order\":\"k%d\",\"items\":[\"X\",\"Y%d\"]}]}",
		    i, i % 3);
		xs_test_send_ok(s.admin_url, req);
	}
	xs_test_server_signal(&s, SIGKILL);
	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), 20);
	/* X was bought with Y0 in orders 0,3,..,18 (7), Y1 and Y2 in 7, 6. */
	r = xs_test_call(s.read_url,
	    "{\"op\":\"fbt\",\"items\":[\"X\"],"
	    "\"scorer\":\"count\"}");
	assert_float_equal(
	    json_number_value(json_object_get(
	        json_array_get(json_object_get(r, "items"), 0), "score")),
	    7, 0);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(r, "items"), 2), "item")),
	    "Y2");
	json_decref(r);
	xs_test_server_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durability_acked_orders_survive_kill_9),
	};

	return cmocka_run_group_tests_name("durability", tests, NULL, NULL);
}
