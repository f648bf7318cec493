/* SPDX-License-Identifier: MIT */
/* xselld as a user meets it: a child process on a temporary store and
 * ipc:// endpoints, spoken to over real sockets. */
#define _GNU_SOURCE /* memmem */
#include "support.h"

#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xsell/limits.h>

#include <nng/supplemental/util/platform.h>

static const char *const orders =
    "{\"op\":\"event\",\"events\":["
    "{\"type\":\"order\",\"order\":\"o1\",\"user\":\"u1\",\"ts\":100,"
    "\"items\":[\"A\",\"B\"]},"
    "{\"type\":\"order\",\"order\":\"o2\",\"ts\":101,"
    "\"items\":[\"A\",{\"item\":\"B\",\"qty\":2,\"price\":1.5},\"C\"]},"
    "{\"type\":\"order\",\"order\":\"o3\",\"items\":[\"A\",\"C\"]},"
    "{\"type\":\"order\",\"order\":\"o4\",\"items\":[\"B\",\"D\"]},"
    "{\"type\":\"order\",\"order\":\"o5\",\"items\":[\"A\",\"B\",\"E\"]}]}";

/* A server, started with 'extra' flags, that took the five orders. */
static int
setup_with(void **state, const char *const *extra)
{
	struct xs_test_server *s = calloc(1, sizeof(*s));

	xs_test_server_start(s, extra);
	assert_int_equal(xs_test_send_ok(s->admin_url, orders), 5);
	*state = s;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, NULL);
}

/* No warming at a start (--warm 0): memos only from the answers. */
static int
setup_cold(void **state)
{
	static const char *const cold[] = { "--warm", "0", NULL };

	return setup_with(state, cold);
}

/* "B:3 C:2 E:1" from an fbt reply. */
static void
render_items(json_t *reply, char *out, size_t len)
{
	json_t *items = json_object_get(reply, "items");
	json_t *it;
	size_t  i, o = 0;

	out[0] = '\0';
	json_array_foreach(items, i, it)
	{
		o += (size_t) snprintf(out + o, len - o, "%s%s:%g",
		    i ? " " : "",
		    json_string_value(json_object_get(it, "item")),
		    json_number_value(json_object_get(it, "score")));
	}
}

static void
expect_fbt(const char *url, const char *req, const char *want)
{
	json_t *r = xs_test_call_ok(url, req);
	char    got[512];

	render_items(r, got, sizeof(got));
	assert_string_equal(got, want);
	json_decref(r);
}

static void
test_server_fbt_on_read_endpoint(void **state)
{
	struct xs_test_server *s = *state;
	json_t                *r;

	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\"],\"scorer\":\"count\"}",
	    "B:3 C:2 E:1");
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\",\"B\"],\"scorer\":\"count\","
	    "\"k\":2}",
	    "C:3 E:2");
	/* Unknown ids are listed, and explain adds the co-count. */
	r = xs_test_call_ok(s->read_url,
	    "{\"op\":\"fbt\",\"id\":7,\"items\":[\"A\",\"nope\"],"
	    "\"scorer\":\"lift\",\"explain\":true}");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(r, "unknown"), 0)),
	    "nope");
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_array_get(json_object_get(r, "items"), 2), "count")),
	    3); /* B after C and E by lift: 3 orders with A */
	json_decref(r);
}

/* An fbt answer for one item keeps that item's best candidates for the
 * next answer: stats.store counts the memo and its bytes, the same
 * answer comes back from it (a hit), a view's commit leaves it standing
 * (a hit again), and an order's commit retires it (a miss: A's answer
 * changes; its memo is made again, and B's, retired, stays counted until
 * the memos fill and let it go). */
/* Wait (up to 30 s) until xselld's complements refresher has made the
 * lists of every ordered item, then restart it: a server whose lists
 * are fresh, whose refresher has nothing due for a minute (a list whose
 * item is ordered again waits that long), and whose counters start at
 * zero. The refresher's first look at a new store comes within a second
 * of the first order and uses the same memos as the answers. */
static void
restart_with_lists_made(struct xs_test_server *s)
{
	for (int i = 0; i < 300; i++) {
		if (xs_test_stat(
		        s->read_url, "complements_lists", "computed") > 0 &&
		    xs_test_stat(s->read_url, "complements_lists", "due") ==
		        0) {
			break;
		}
		usleep(100 * 1000);
	}
	assert_int_equal(
	    xs_test_stat(s->read_url, "complements_lists", "due"), 0);
	assert_int_equal(xs_test_server_signal(s, SIGTERM), 0);
	xs_test_server_restart(s);
}

/* By default a start makes the fbt answers of the most ordered items
 * before the first request is answered (--warm 5000: here all five
 * items): right after a restart memos are held, and fbt of A, of a cart
 * and of E, the least ordered, as requests with the defaults ask them,
 * find theirs (hits, no new miss). The log says how many items were
 * warmed. */
static void
test_server_warms_the_most_ordered_items_at_start(void **state)
{
	struct xs_test_server *s = *state;
	char                   log_path[4200], log[8192];
	long                   made;

	snprintf(log_path, sizeof(log_path), "%s/xselld.log", s->dir);
	s->log_path = log_path;
	restart_with_lists_made(s);
	assert_true(xs_test_stat(s->read_url, "store", "memo_items") > 0);
	/* The warming's own looks missed: it made them. */
	made = xs_test_stat(s->read_url, "store", "memo_misses");
	assert_true(made > 0);
	json_decref(xs_test_call_ok(
	    s->read_url, "{\"op\":\"fbt\",\"items\":[\"A\"]}"));
	json_decref(xs_test_call_ok(
	    s->read_url, "{\"op\":\"fbt\",\"items\":[\"A\",\"C\"]}"));
	json_decref(xs_test_call_ok(
	    s->read_url, "{\"op\":\"fbt\",\"items\":[\"E\"]}"));
	assert_int_equal(
	    xs_test_stat(s->read_url, "store", "memo_misses"), made);
	assert_true(xs_test_stat(s->read_url, "store", "memo_hits") >= 3);
	xs_test_slurp(log_path, log, sizeof(log));
	xs_test_assert_has(log, "warmed the answers of 5 items in ");
	assert_int_equal(xs_test_server_signal(s, SIGTERM), 0);
	s->log_path = NULL; /* the teardown outlives this frame */
}

static void
test_server_stats_count_the_answers_memos(void **state)
{
	struct xs_test_server *s     = *state;
	const char            *fbt_a = "{\"op\":\"fbt\",\"items\":[\"A\"],"
	                               "\"scorer\":\"count\"}";
	const char            *fbt_b = "{\"op\":\"fbt\",\"items\":[\"B\"],"
	                               "\"scorer\":\"count\"}";

	/* Only the answers below use the memos (setup_cold: none made at
	 * the start). */
	restart_with_lists_made(s);
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_items"), 0);
	/* The default budget: 64 MiB. */
	assert_int_equal(
	    xs_test_stat(s->read_url, "store", "memo_budget"), 64 << 20);
	assert_int_equal(
	    xs_test_stat(s->read_url, "store", "item_cache_bytes"), 0);
	expect_fbt(s->read_url, fbt_a, "B:3 C:2 E:1");
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_items"), 1);
	/* The answer's items' ids and metadata are kept (a page of slots). */
	assert_true(
	    xs_test_stat(s->read_url, "store", "item_cache_bytes") >= 65536);
	assert_true(xs_test_stat(s->read_url, "store", "memo_bytes") > 0);
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_hits"), 0);
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_misses"), 1);
	expect_fbt(s->read_url, fbt_a, "B:3 C:2 E:1"); /* from the memo */
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_hits"), 1);
	expect_fbt(s->read_url, fbt_b, "A:3 C:1 D:1 E:1");
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_items"), 2);

	xs_test_send_ok(s->admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"view\","
	    "\"user\":\"u9\",\"item\":\"A\",\"ts\":1700000000}]}");
	expect_fbt(s->read_url, fbt_a, "B:3 C:2 E:1");
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_hits"), 2);
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_misses"), 2);

	xs_test_send_ok(s->admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"user\":\"u9\",\"order\":\"o9\",\"items\":[\"A\",\"C\"],"
	    "\"ts\":1700000000}]}");
	expect_fbt(s->read_url, fbt_a, "B:3 C:3 E:1");
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_misses"), 3);
	assert_int_equal(xs_test_stat(s->read_url, "store", "memo_items"), 2);
}

/* From A, first-level B (3 of A's 4 orders), C, E; D only via B:
 * 3/4 * N_BD/N_B = 3/4 * 1/4 = 0.1875 (N_D = 1, so any beta), times
 * D's momentum (complements' default weight 300, prior 10; every order
 * is of one day, so D's trend score is its 1 order): 1 + 300 * 1 / (1 +
 * 10) = 311/11, so 0.1875 * 311/11 = 5.3011363636... */
static void
test_server_complements_name_their_via_item(void **state)
{
	struct xs_test_server *s = *state;
	json_t                *r, *first;

	r = xs_test_call_ok(s->read_url,
	    "{\"op\":\"complements\",\"items\":[\"A\"],\"explain\":true}");
	assert_int_equal(json_array_size(json_object_get(r, "items")), 1);
	first = json_array_get(json_object_get(r, "items"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(first, "item")), "D");
	assert_string_equal(
	    json_string_value(json_object_get(first, "via")), "B");
	assert_float_equal(json_number_value(json_object_get(first, "score")),
	    0.1875 * 311 / 11, 1e-12);
	assert_int_equal(
	    json_integer_value(json_object_get(first, "count")), 1);
	json_decref(r);
	xs_test_assert_code(s->read_url,
	    "{\"op\":\"complements\",\"items\":[\"A\"],"
	    "\"scorer\":\"lift\"}",
	    "bad_request");
}

/* One write request per write op of wire/ops.def, each of which would
 * change the store if it were taken. */
static const struct {
	const char *op;
	const char *req;
} write_requests[] = {
	{ "event",
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o9\",\"items\":[\"A\",\"D\"]}]}" },
	{ "items",
	    "{\"op\":\"items\",\"items\":[{\"item\":\"A\","
	    "\"in_stock\":false}]}" },
	{ "forget_user", "{\"op\":\"forget_user\",\"user\":\"u1\"}" },
};

/* Every op that ops.def marks as a write has a request above: a new
 * write op fails this test until it is added. */
static void
test_server_every_write_op_has_a_refusal_case(void **state)
{
	size_t n_writes = 0;

	(void) state;
#define XS_OP(name, is_write)                                                \
	if (is_write) {                                                      \
		bool found = false;                                          \
		for (size_t i = 0;                                           \
		     i < sizeof(write_requests) / sizeof(write_requests[0]); \
		     i++) {                                                  \
			found = found ||                                     \
			    strcmp(write_requests[i].op, #name) == 0;        \
		}                                                            \
		if (!found) {                                                \
			fail_msg(                                            \
			    "write op %s: no read-endpoint case", #name);    \
		}                                                            \
		n_writes++;                                                  \
	}
#include "wire/ops.def"
#undef XS_OP
	assert_int_equal(
	    n_writes, sizeof(write_requests) / sizeof(write_requests[0]));
}

/* A history as "type:item ...", newest first (of one second, the item
 * registered later first: proto/ops/history.md). */
static void
render_history(const char *url, const char *user, char *out, size_t len)
{
	char    req[256];
	json_t *r, *ev;
	size_t  i, o = 0;

	snprintf(
	    req, sizeof(req), "{\"op\":\"history\",\"user\":\"%s\"}", user);
	r      = xs_test_call_ok(url, req);
	out[0] = '\0';
	json_array_foreach(json_object_get(r, "events"), i, ev)
	{
		o += (size_t) snprintf(out + o, len - o, "%s%s:%s",
		    i ? " " : "",
		    json_string_value(json_object_get(ev, "type")),
		    json_string_value(json_object_get(ev, "item")));
	}
	json_decref(r);
}

static void
test_server_writes_refused_on_read_endpoint(void **state)
{
	struct xs_test_server *s = *state;
	char                   hist[256];
	json_t                *r;

	for (size_t i = 0;
	     i < sizeof(write_requests) / sizeof(write_requests[0]); i++) {
		r = xs_test_call(s->read_url, write_requests[i].req);
		if (strcmp(xs_test_reply_code(r), "forbidden") != 0) {
			fail_msg("%s on the read endpoint: %s",
			    write_requests[i].op, xs_test_reply_code(r));
		}
		json_decref(r);
	}
	/* Nothing changed: D is still never bought with A, A in stock, and
	 * u1 still has its one order (o1: A, B). */
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"D\"],\"scorer\":\"count\"}", "B:1");
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"B\"],\"scorer\":\"count\"}",
	    "A:3 C:1 D:1 E:1");
	render_history(s->read_url, "u1", hist, sizeof(hist));
	assert_string_equal(hist, "order:B order:A");
	assert_int_equal(xs_test_stats_orders(s->read_url), 5);
}

/* An answer reads its items' stock as of the write before it: the server
 * keeps items' metadata in memory once read (store/item_cache.c), and
 * each write must show at once, out of stock and back. */
static void
test_server_items_upsert_hides_out_of_stock(void **state)
{
	struct xs_test_server *s     = *state;
	const char            *fbt_a = "{\"op\":\"fbt\",\"items\":[\"A\"],"
	                               "\"scorer\":\"count\"}";

	expect_fbt(s->read_url, fbt_a, "B:3 C:2 E:1");
	assert_int_equal(xs_test_send_ok(s->admin_url,
	                     "{\"op\":\"items\",\"items\":[{\"item\":\"C\","
	                     "\"in_stock\":false,"
	                     "\"category\":\"kitchen\",\"price\":2.5}]}"),
	    1);
	expect_fbt(s->read_url, fbt_a, "B:3 E:1");
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\"],\"scorer\":\"count\","
	    "\"filter\":{\"in_stock\":false}}",
	    "B:3 C:2 E:1");
	assert_int_equal(xs_test_send_ok(s->admin_url,
	                     "{\"op\":\"items\",\"items\":[{\"item\":\"C\","
	                     "\"in_stock\":true}]}"),
	    1);
	expect_fbt(s->read_url, fbt_a, "B:3 C:2 E:1");
}

/* Run the xsell CLI with 'args' against 'url' (--json) and render the
 * items of its reply, or "exit N" if it failed. */
static void
cli_fbt(const char *url, const char *args, char *out, size_t len)
{
	char    cmd[1024], buf[8192];
	FILE   *p;
	size_t  n;
	int     status;
	json_t *r;

	snprintf(cmd, sizeof(cmd), "%s%s --url %s --json %s 2>/dev/null",
	    xs_test_wrap_prefix(), XS_TEST_XSELL, url, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n      = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	status = pclose(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(out, len, "exit %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return;
	}
	r = json_loads(buf, 0, NULL);
	assert_non_null(r);
	render_items(r, out, len);
	json_decref(r);
}

/* The CLI's filter flags reach the server as the filter of
 * proto/filter.md. From B (count): A 3, then C, D, E at 1 (id order);
 * C and D are "bakery, fresh" (a comma in a name), E snacks (out of
 * stock), A dairy at 1.2, C at 2.5, D and E without a price. */
static void
test_server_cli_filter_flags(void **state)
{
	struct xs_test_server *s = *state;
	char                   got[512];

	xs_test_send_ok(s->admin_url,
	    "{\"op\":\"items\",\"items\":["
	    "{\"item\":\"A\",\"category\":\"dairy\",\"price\":1.2},"
	    "{\"item\":\"C\",\"category\":\"bakery, fresh\",\"price\":2.5},"
	    "{\"item\":\"D\",\"category\":\"bakery, fresh\"},"
	    "{\"item\":\"E\",\"category\":\"snacks\",\"in_stock\":false}]}");
	cli_fbt(
	    s->read_url, "fbt B --scorer count --all-stock", got, sizeof(got));
	assert_string_equal(got, "A:3 C:1 D:1 E:1");
	/* Two categories, one per flag; one item of each. */
	cli_fbt(s->read_url,
	    "fbt B --scorer count --all-stock --category 'bakery, fresh' "
	    "--category=snacks --max-per-category 1",
	    got, sizeof(got));
	assert_string_equal(got, "C:1 E:1");
	/* From A only D is second-level, and D has no price; its score
	 * 0.1875 * 311/11 (test_server_complements_name_their_via_item). */
	cli_fbt(s->read_url, "complements A --all-stock", got, sizeof(got));
	assert_string_equal(got, "D:5.30114");
	cli_fbt(s->read_url, "complements A --all-stock --price-min 0", got,
	    sizeof(got));
	assert_string_equal(got, "");
	/* Not dairy, not snacks, priced 1..2.5: C; D has no price. */
	cli_fbt(s->read_url,
	    "fbt B --scorer count --exclude-category dairy "
	    "--exclude-category snacks --price-min 1 --price-max 2.5",
	    got, sizeof(got));
	assert_string_equal(got, "C:1");
	/* Usage errors never reach the server. */
	cli_fbt(s->read_url, "fbt B --price-min 3 --price-max 1", got,
	    sizeof(got));
	assert_string_equal(got, "exit 2");
	cli_fbt(s->read_url, "fbt B --max-per-category 501", got, sizeof(got));
	assert_string_equal(got, "exit 2");
}

static void
test_server_duplicate_order_and_bad_batch(void **state)
{
	struct xs_test_server *s = *state;
	json_t                *r;

	r = xs_test_call_ok(s->admin_url, orders);
	assert_int_equal(json_integer_value(json_object_get(r, "applied")), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(r, "duplicates")), 5);
	json_decref(r);
	/* One bad event spoils the whole batch: o6 must not be applied. */
	r = xs_test_call(s->admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o6\",\"items\":[\"A\",\"D\"]},"
	    "{\"type\":\"view\",\"user\":\"u1\"}]}");
	xs_test_reply_error(r, "bad_request", "events[1].item");
	json_decref(r);
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"D\"],\"scorer\":\"count\"}", "B:1");
}

static void
test_server_bad_requests_get_errors_and_it_keeps_serving(void **state)
{
	struct xs_test_server *s        = *state;
	static const char      bad[][8] = { "\xc1", "\x81\xa2op", "\x93\x01" };
	size_t                 big_len  = 70 * 1024;
	char                  *big      = calloc(1, big_len);
	json_t                *r;

	for (size_t i = 0; i < 3; i++) {
		size_t len;
		void  *reply = xs_test_call_raw(
		     s->read_url, bad[i], strlen(bad[i]), &len);

		assert_non_null(reply);
		assert_non_null(memmem(reply, len, "bad_request", 11));
		free(reply);
	}
	/* A 70 KiB message on a 64 KiB endpoint. */
	{
		size_t len;
		void  *reply;

		big[0] = (char) 0xc4; /* bin8 garbage: size is what counts */
		reply  = xs_test_call_raw(s->read_url, big, big_len, &len);
		assert_non_null(reply);
		assert_non_null(memmem(reply, len, "too_large", 9));
		free(reply);
	}
	free(big);
	xs_test_assert_code(
	    s->read_url, "{\"op\":\"recommend\"}", "bad_request");
	xs_test_assert_code(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\"],"
	    "\"k\":\"ten\"}",
	    "bad_request");
	r = xs_test_call_ok(s->read_url, "{\"op\":\"stats\"}");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(r, "counts"), "orders")),
	    5);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(r, "counts"), "items")),
	    5);
	/* The defaults a request gets, so a client can see them. */
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(r, "settings"), "fbt_scorer")),
	    "tempered");
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(r, "settings"), "max_basket_items")),
	    100);
	/* Momentum's weights, as README "Quality" chose them. */
	assert_true(
	    json_number_value(json_object_get(json_object_get(r, "settings"),
	        "pick_momentum_weight")) == 30.0);
	assert_true(
	    json_number_value(json_object_get(json_object_get(r, "settings"),
	        "comp_momentum_weight")) == 300.0);
	assert_true(
	    json_number_value(json_object_get(json_object_get(r, "settings"),
	        "pick_momentum_prior")) == 10.0);
	json_decref(r);
}

/* errors.md: a message up to four times its endpoint's limit still gets
 * too_large. nng counts its own header (the request id) against the
 * socket's receive limit, so the last bytes below it are the ones at
 * risk of being dropped unanswered. */
static void
test_server_too_large_up_to_four_times_the_limit(void **state)
{
	struct xs_test_server *s       = *state;
	size_t                 edge    = XSELL_READ_MSG_MAX * XSELL_RECV_SLACK;
	size_t                 sizes[] = { edge - 3, edge };
	char                  *big     = calloc(1, edge);

	assert_non_null(big);
	big[0] = (char) 0xc4; /* bin8 garbage: size is what counts */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len;
		void  *reply =
		    xs_test_call_raw(s->read_url, big, sizes[i], &len);

		if (reply == NULL) {
			fail_msg("%zu bytes: no reply, expected too_large",
			    sizes[i]);
		}
		assert_non_null(memmem(reply, len, "too_large", 9));
		free(reply);
	}
	free(big);
	xs_test_assert_code(s->read_url, "{\"op\":\"stats\"}", "ok");
}

struct client_arg {
	const char *url;
	int         good;
};

static void *
client_thread(void *arg)
{
	struct client_arg *c = arg;

	for (int i = 0; i < 40; i++) {
		json_t *r     = xs_test_call(c->url,
		        "{\"op\":\"fbt\",\"items\":[\"B\"],\"scorer\":\"count\"}");
		json_t *first = json_array_get(json_object_get(r, "items"), 0);

		if (strcmp(json_string_value(json_object_get(first, "item")),
		        "A") == 0) {
			c->good++;
		}
		json_decref(r);
	}
	return NULL;
}

static void
test_server_serves_clients_concurrently(void **state)
{
	struct xs_test_server *s = *state;
	pthread_t              t[6];
	struct client_arg      c[6];

	for (int i = 0; i < 6; i++) {
		c[i].url  = s->read_url;
		c[i].good = 0;
		assert_int_equal(
		    pthread_create(&t[i], NULL, client_thread, &c[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].good, 40);
	}
}

static void
test_server_stops_cleanly_on_sigterm(void **state)
{
	struct xs_test_server *s = *state;
	int                    status;

	status = xs_test_server_signal(s, SIGTERM);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The store closed cleanly: a new server opens it with the data. */
	xs_test_server_restart(s);
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\"],\"scorer\":\"count\"}",
	    "B:3 C:2 E:1");
}

/* Restart s's xselld with SIGHUP's disposition 'handler' (inherited:
 * SIG_IGN is what nohup leaves, SIG_DFL a terminal's child). */
static void
restart_with_sighup(struct xs_test_server *s, void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler }, old;

	assert_int_equal(sigaction(SIGHUP, &sa, &old), 0);
	xs_test_server_restart(s);
	assert_int_equal(sigaction(SIGHUP, &old, NULL), 0);
}

/* A hangup (its terminal closed) stops xselld as SIGTERM does: requests
 * in flight answered, the store closed, exit 0. It ended the process at
 * once, with no reply to a request in flight (which a REQ client then
 * resends to the next server). Started under nohup, it keeps serving. */
static void
test_server_stops_cleanly_on_sighup(void **state)
{
	struct xs_test_server *s = *state;
	int                    status;

	xs_test_server_signal(s, SIGTERM);
	restart_with_sighup(s, SIG_DFL);
	status = xs_test_server_signal(s, SIGHUP);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	restart_with_sighup(s, SIG_IGN);
	assert_int_equal(kill(s->pid, SIGHUP), 0);
	usleep(100 * 1000); /* a stop would have begun: it serves on */
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\"],\"scorer\":\"count\"}",
	    "B:3 C:2 E:1");
	assert_int_equal(waitpid(s->pid, &status, WNOHANG), 0);
}

/* The bulk loader writes the store the server is serving: LMDB
 * serialises the writers, and the server's next snapshot sees the load. */
static void
test_server_sees_a_bulk_load_while_serving(void **state)
{
	struct xs_test_server *s = *state;
	char                   csv[4200], cmd[12000];
	FILE                  *fp;

	snprintf(csv, sizeof(csv), "%s/orders.csv", s->dir);
	fp = fopen(csv, "w");
	assert_non_null(fp);
	fputs("order,item,user\nL1,A,u9\nL2,A,u9\nL1,D,u9\nL2,D,u9\n"
	      "L3,A,\nL3,D,\n",
	    fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "%s%s --quiet --db %s %s >/dev/null",
	    xs_test_wrap_prefix(), XS_TEST_XSELL_LOAD, s->db, csv);
	assert_int_equal(system(cmd), 0);
	/* A, D were together in L1..L3: 3, ahead of B (3, tie by id). */
	expect_fbt(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\"],\"scorer\":\"count\"}",
	    "B:3 D:3 C:2 E:1");
}

/* --admin-workers: how many writes are served at once, each by an admin
 * thread (top -H shows them as xsell-admin); 64 at least by default.
 * Not under $XSELL_TEST_WRAP: a tool such as valgrind runs the threads
 * under names of its own. */
static void
test_server_admin_workers(void **state)
{
	struct xs_test_server s       = { 0 };
	const char           *three[] = { "--admin-workers", "3", NULL };
	long                  cores   = sysconf(_SC_NPROCESSORS_ONLN);
	int                   want;

	(void) state;
	if (getenv("XSELL_TEST_WRAP") != NULL) {
		skip();
	}
	/* The default: one read worker a core, half as many admin ones,
	 * and 64 at least. */
	xs_test_server_start(&s, NULL);
	want = cores / 2 > 64 ? (int) cores / 2 : 64;
	assert_int_equal(
	    xs_test_threads_named_reach(s.pid, "xsell-admin", want), want);
	xs_test_server_fini(&s);
	memset(&s, 0, sizeof(s));
	xs_test_server_start(&s, three);
	assert_int_equal(
	    xs_test_threads_named_reach(s.pid, "xsell-admin", 3), 3);
	/* Writes are served and answered by them. */
	for (int i = 0; i < 3; i++) {
		char json[256];

		snprintf(json, sizeof(json),
		    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
		    "\"order\":\"aw%d\",\"items\":[\"A\",\"B\"]}]}",
		    i);
		assert_int_equal(xs_test_send_ok(s.admin_url, json), 1);
	}
	assert_int_equal(xs_test_stats_orders(s.read_url), 3);
	xs_test_server_fini(&s);
}

/* The permission bits of the socket of an ipc:// URL. */
static unsigned
ipc_socket_mode(const char *url)
{
	struct stat st;

	assert_int_equal(strncmp(url, "ipc://", 6), 0);
	assert_int_equal(stat(url + 6, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	return (unsigned) (st.st_mode & 0777);
}

/* Exit status of `xsell --url URL stats` run as user and group 'id'
 * with no supplementary groups (0: answered, 3: cannot connect). */
static int
stats_as(uid_t id, const char *url)
{
	const char *argv[] = { XS_TEST_XSELL, "--url", url, "--timeout",
		"2000", "stats", NULL };
	int         status;
	pid_t       pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(id) != 0 ||
		    setuid(id) != 0) {
			_exit(99);
		}
		(void) freopen("/dev/null", "w", stdout);
		(void) freopen("/dev/null", "w", stderr);
		execv(argv[0], (char *const *) argv);
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* --ipc-mode and --admin-ipc-mode: who may connect to the sockets. A
 * client needs write permission on an ipc:// socket, so under a strict
 * umask (systemd's UMask=0077) only the server's user could connect
 * without them. */
static void
test_server_ipc_modes_decide_who_may_connect(void **state)
{
	struct xs_test_server s = { 0 };
	const char *modes[]     = { "--ipc-mode", "666", "--admin-ipc-mode",
		    "0640", NULL };
	mode_t      old         = umask(077);

	(void) state;
	xs_test_server_start(&s, NULL);
	assert_int_equal(ipc_socket_mode(s.read_url), 0700);
	assert_int_equal(ipc_socket_mode(s.admin_url), 0700);
	xs_test_server_fini(&s);

	memset(&s, 0, sizeof(s));
	xs_test_server_start(&s, modes);
	umask(old);
	assert_int_equal(ipc_socket_mode(s.read_url), 0666);
	assert_int_equal(ipc_socket_mode(s.admin_url), 0640);
	/* What the modes mean to another user (as root, who may become
	 * one): nobody reads, and may not write. */
	if (geteuid() == 0 && chmod(s.dir, 0755) == 0) {
		assert_int_equal(stats_as(65534, s.read_url), 0);
		assert_int_equal(stats_as(65534, s.admin_url), 3);
	}
	xs_test_server_fini(&s);
}

/* Connect to the ipc:// endpoint 'url' and hang up at once, before the
 * SP handshake: what a port probe, a health check that only connects,
 * or a second xselld finding the address in use does. */
static void
hang_up_at_once(const char *url)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int                fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(url + 6) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, url + 6);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	close(fd);
}

/* stats.pull.messages once it is 'want', waiting up to 10 s. */
static json_int_t
pull_messages_reach(const char *url, json_int_t want)
{
	json_int_t got = -1;

	for (int i = 0; i < 200 && got < want; i++) {
		if (i > 0) {
			nng_msleep(50);
		}
		got = xs_test_stat(url, "pull", "messages");
	}
	return got;
}

/* Peers that hang up before the handshake leave every ipc endpoint
 * serving. libnng 1.5.2 took the first such hang-up for its listener's
 * own close and handed it no connection again: the server answered
 * nothing more on that endpoint (src/common/nng_epipe.c). */
static void
test_server_serves_on_after_hang_ups_before_the_handshake(void **state)
{
	struct xs_test_server s        = { 0 };
	char                 *pull_dir = xs_test_tmpdir();
	char                 *pull_url = xs_test_ipc_url(pull_dir, "pull");
	const char           *extra[]  = { "--pull", pull_url, NULL };
	char                 *other    = xs_test_tmpdir();
	nng_socket            push;

	(void) state;
	xs_test_server_start(&s, extra);
	for (int i = 0; i < 20; i++) {
		hang_up_at_once(s.read_url);
		hang_up_at_once(s.admin_url);
		hang_up_at_once(pull_url);
	}
	/* A second server on the same address is refused, and its look at
	 * whether the address is live is one more such hang-up. */
	xs_test_assert_xselld_refuses(other,
	    (const char *[]) { "--db", other, "--listen", s.read_url, NULL },
	    1, "Address in use");
	/* Each call is a new connection. */
	for (int i = 0; i < 3; i++) {
		json_decref(xs_test_call_ok(s.read_url, "{\"op\":\"stats\"}"));
		json_decref(
		    xs_test_call_ok(s.admin_url, "{\"op\":\"stats\"}"));
	}
	push = xs_test_push_open(pull_url);
	xs_test_push(push,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"view\","
	    "\"user\":\"u9\",\"item\":\"A\"}]}");
	assert_int_equal(pull_messages_reach(s.read_url, 1), 1);
	nng_close(push);
	xs_test_server_fini(&s);
	xs_test_rmdir(other);
	free(pull_url);
	xs_test_rmdir(pull_dir);
}

static void
test_server_bad_flags_and_dirs_exit_with_one_line(void **state)
{
	char *dir = xs_test_tmpdir();
	char  path[4200], url[4300], want[4300];

	(void) state;
	xs_test_assert_xselld_refuses(
	    dir, (const char *[]) { "--bogus", NULL }, 2, NULL);
	/* --memo-size: a size of 1M..1T. */
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--memo-size", "1023K", NULL }, 2,
	    "--memo-size: '1023K' is not 1M..1T");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--memo-size", "2T", NULL }, 2,
	    "--memo-size");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--memo-size", "lots", NULL }, 2,
	    "--memo-size");
	/* --warm: 0..1000000 items. */
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--warm", "1000001", NULL }, 2,
	    "--warm: '1000001' is not 0..1000000");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--warm", "-1", NULL }, 2,
	    "--warm");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--admin-workers", "0", NULL }, 2,
	    "--admin-workers: '0' is not 1..256");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--admin-workers", "257", NULL },
	    2, "--admin-workers");
	/* Socket modes: octal permission bits, 1..777. */
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--ipc-mode", "8", NULL }, 2,
	    "--ipc-mode: '8' is not octal 1..777");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--admin-ipc-mode", "0", NULL }, 2,
	    "--admin-ipc-mode: '0' is not octal 1..777");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--ipc-mode", "4755", NULL }, 2,
	    "--ipc-mode");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, NULL }, 2, NULL); /* no endpoint */
	/* A store whose parent is missing: the one line says why as the
	 * system does (not XSELL_EIO's "input/output error"). */
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	snprintf(url, sizeof(url), "ipc://%s/x.sock", dir);
	snprintf(
	    want, sizeof(want), "store %s: No such file or directory", path);
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", path, "--listen", url, NULL }, 1, want);
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--listen", "bogus://x", NULL }, 1,
	    NULL);
	xs_test_rmdir(dir);
}

/* A --config file with a NUL byte in its second line. */
static const char nul_conf[] = "quiet\nhistory-max 5\0\nbogus 1 2\n";

/* Write text[0..len) to 'path', made anew. */
static void
config_write(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* config_write of a C string. */
static void
config_text_write(const char *path, const char *text)
{
	config_write(path, text, strlen(text));
}

/* xselld --config 'path', the file holding 'text', exits 2 saying
 * 'want'. */
static void
assert_config_refused(
    const char *dir, const char *path, const char *text, const char *want)
{
	config_text_write(path, text);
	xs_test_assert_xselld_refuses(
	    dir, (const char *[]) { "--config", path, NULL }, 2, want);
}

/* --config FILE: its options count as given first, so the command line
 * overrides them; a bad file is a usage error in one line. */
static void
test_server_config_file(void **state)
{
	struct xs_test_server s   = { 0 };
	char                 *dir = xs_test_tmpdir();
	char                  conf[4200], bad[4200];
	const char           *with_file[] = { "--config", conf, NULL };
	const char *file_then_cli[] = { "--config", conf, "--history-max",
		"88", NULL };
	FILE       *f;

	(void) state;
	snprintf(conf, sizeof(conf), "%s/xselld.conf", dir);
	config_text_write(conf,
	    "# a comment line\n\nhistory-max 77   # events per user\n"
	    "quiet\nmemo-size 3M\n");
	xs_test_server_start(&s, with_file);
	assert_int_equal(
	    xs_test_stat(s.read_url, "settings", "history_max"), 77);
	xs_test_server_fini(&s);
	memset(&s, 0, sizeof(s));
	xs_test_server_start(&s, file_then_cli);
	assert_int_equal(
	    xs_test_stat(s.read_url, "settings", "history_max"), 88);
	/* --memo-size in the file: the store's budget. */
	assert_int_equal(
	    xs_test_stat(s.read_url, "store", "memo_budget"), 3 << 20);
	xs_test_server_fini(&s);
	/* A file with no options (all commented out) is taken: it was
	 * left on the command line, "unknown or incomplete option". */
	config_text_write(conf, "# history-max 77\n\n# quiet\n");
	memset(&s, 0, sizeof(s));
	xs_test_server_start(&s, with_file);
	assert_int_equal(
	    xs_test_stat(s.read_url, "settings", "history_max"), 500);
	xs_test_server_fini(&s);

	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	assert_config_refused(
	    dir, bad, "history-max 1 2\n", "bad.conf:1: one value per line");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--config", "/nonexistent/xselld.conf", NULL },
	    2, NULL);
	/* The line named counts the blank lines too, as an editor does. */
	assert_config_refused(dir, bad,
	    "# a comment line\n\nhistory-max 1 2\n",
	    "bad.conf:3: one value per line");
	/* A NUL byte: not a text file, where the options after it were
	 * dropped unsaid. */
	config_write(bad, nul_conf, sizeof(nul_conf) - 1);
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--config", bad, NULL }, 2,
	    "bad.conf:2: a NUL byte: not a text file");
	/* An option that needs a value given none: getopt took the next
	 * line's "--listen" for the store's directory. A flag given one:
	 * getopt refused the value without naming the line. */
	assert_config_refused(dir, bad, "db\nlisten ipc:///tmp/x.sock\n",
	    "bad.conf:1: 'db' needs a value");
	assert_config_refused(dir, bad, "history-max 9\nquiet yes\n",
	    "bad.conf:2: 'quiet' takes no value");
	/* A directory opens but cannot be read: once taken as empty. */
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--config", dir, NULL }, 2, "Is a directory");
	/* Two files of 300 options each: past the 512 words that all
	 * files share, refused (the second file's words once overran the
	 * room the first left: AddressSanitizer's global-buffer-overflow). */
	snprintf(bad, sizeof(bad), "%s/many.conf", dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	for (int i = 0; i < 300; i++) {
		fputs("quiet\n", f);
	}
	fclose(f);
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--config", bad, "--config", bad, NULL }, 2,
	    "--config: too many options");
	xs_test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_config_file),
		cmocka_unit_test(
		    test_server_every_write_op_has_a_refusal_case),
		cmocka_unit_test_setup_teardown(
		    test_server_fbt_on_read_endpoint, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_stats_count_the_answers_memos, setup_cold,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_warms_the_most_ordered_items_at_start, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_complements_name_their_via_item, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_writes_refused_on_read_endpoint, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_items_upsert_hides_out_of_stock, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(test_server_cli_filter_flags,
		    setup, xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_duplicate_order_and_bad_batch, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_bad_requests_get_errors_and_it_keeps_serving,
		    setup, xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_too_large_up_to_four_times_the_limit, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_serves_clients_concurrently, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_stops_cleanly_on_sigterm, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_stops_cleanly_on_sighup, setup,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_server_sees_a_bulk_load_while_serving, setup,
		    xs_test_server_teardown),
		cmocka_unit_test(
		    test_server_bad_flags_and_dirs_exit_with_one_line),
		cmocka_unit_test(test_server_ipc_modes_decide_who_may_connect),
		cmocka_unit_test(test_server_admin_workers),
		cmocka_unit_test(
		    test_server_serves_on_after_hang_ups_before_the_handshake),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("server", tests, NULL, NULL);
}
