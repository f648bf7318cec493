/* SPDX-License-Identifier: MIT */
/* xselld's complements list refresher, end to end: after writes it
 * computes the lists in the background (stats.complements_lists says so),
 * and the answers from them are the walk's (fresh: true). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The store of proto/vectors/setup.json: orders {A,B}, {A,B,C}, {A,C},
 * {B,D}, {A,B,E}, all of one day. */
static const char *const orders =
    "{\"op\":\"event\",\"events\":["
    "{\"type\":\"order\",\"order\":\"o1\",\"ts\":86400,\"items\":[\"A\","
    "\"B\"]},"
    "{\"type\":\"order\",\"order\":\"o2\",\"ts\":86401,\"items\":[\"A\","
    "\"B\",\"C\"]},"
    "{\"type\":\"order\",\"order\":\"o3\",\"ts\":86402,\"items\":[\"A\","
    "\"C\"]},"
    "{\"type\":\"order\",\"order\":\"o4\",\"ts\":86403,\"items\":[\"B\","
    "\"D\"]},"
    "{\"type\":\"order\",\"order\":\"o5\",\"ts\":86404,\"items\":[\"A\","
    "\"B\",\"E\"]}]}";

/* Wait (at most 60 s: the refresher runs at nice 19 on a busy machine)
 * until 'items' items have lists and none is due, with at least
 * 'computed' computed since the start. */
static void
wait_for_lists(const char *url, json_int_t items, json_int_t computed)
{
	for (int i = 0; i < 600; i++) {
		if (xs_test_stat(url, "complements_lists", "items") == items &&
		    xs_test_stat(url, "complements_lists", "due") == 0 &&
		    xs_test_stat(url, "complements_lists", "computed") >=
		        computed) {
			return;
		}
		usleep(100 * 1000);
	}
	fail_msg("the refresher did not catch up");
}

/* The reply's items, as JSON text. */
static char *
answer(const char *url, const char *req)
{
	json_t *r = xs_test_call_ok(url, req);
	char   *s = json_dumps(json_object_get(r, "items"), JSON_COMPACT);
	json_decref(r);
	return s;
}

static void
test_refresher_keeps_lists_fresh(void **state)
{
	struct xs_test_server s = { 0 };
	char                 *got, *walk;

	(void) state;
	xs_test_server_start(&s, NULL);
	xs_test_send_ok(s.admin_url, orders);
	wait_for_lists(s.read_url, 5, 5);

	/* From A only D is second-level, via B: 3/4 * 1/4 = 0.1875 times
	 * D's momentum 311/11 (proto/ops/complements.md). */
	got  = answer(s.read_url,
	     "{\"op\":\"complements\",\"items\":[\"A\"],\"explain\":true}");
	walk = answer(s.read_url,
	    "{\"op\":\"complements\",\"items\":[\"A\"],"
	    "\"explain\":true,\"fresh\":true}");
	assert_string_equal(got, walk);
	assert_string_equal(got,
	    "[{\"item\":\"D\",\"score\":"
	    "5.3011363636363633,\"via\":\"B\","
	    "\"count\":1}]");
	free(got);
	free(walk);

	/* An order {A,D}: D is first-level now, and A's list is due. */
	xs_test_send_ok(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\",\"order\":"
	    "\"o6\",\"ts\":86405,\"items\":[\"A\",\"D\"]}]}");
	wait_for_lists(s.read_url, 5, 7); /* A and D again */
	got = answer(s.read_url, "{\"op\":\"complements\",\"items\":[\"A\"]}");
	walk = answer(s.read_url,
	    "{\"op\":\"complements\",\"items\":[\"A\"],\"fresh\":true}");
	assert_string_equal(got, walk);
	assert_string_equal(got, "[]");
	free(got);
	free(walk);

	xs_test_assert_code(s.read_url,
	    "{\"op\":\"complements\",\"items\":[\"A\"],\"fresh\":1}",
	    "bad_request");
	xs_test_server_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresher_keeps_lists_fresh),
	};

	return cmocka_run_group_tests_name("comp_refresh", tests, NULL, NULL);
}
