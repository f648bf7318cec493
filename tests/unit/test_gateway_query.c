/* SPDX-License-Identifier: MIT */
/* The gateway's GET query string -> msgpack request translation
 * (proto/HTTP.md, "GET"), byte by byte: every expected message is
 * written out by hand from the msgpack spec; and the id its own error
 * replies echo. */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "gateway/gateway_impl.h"

/* Translate 'q' for GET /v1/<path_op> and compare with 'len' bytes. */
static void
expect_bytes(const char *q, const char *path_op, const char *want, size_t len)
{
	void         *out = NULL;
	size_t        out_len;
	enum xs_gw_op op       = XS_GW_OP_COUNT;
	char          msg[256] = "";

	if (xs_gw_query_to_request(q, strlen(q), path_op, &out, &out_len, &op,
	        NULL, msg, sizeof(msg)) != XSELL_OK) {
		fail_msg("'%s' refused: %s", q, msg);
	}
	assert_int_equal(out_len, len);
	assert_memory_equal(out, want, len);
	assert_int_equal(op, xs_gw_op_find(path_op, strlen(path_op)));
	free(out);
}

/* Expect 'err' with a message containing 'part'; the message must be
 * valid UTF-8 (it goes into a JSON reply). */
static void
expect_refused(const char *q, size_t len, xsell_err err, const char *part)
{
	void         *out = NULL;
	size_t        out_len;
	enum xs_gw_op op;
	char          msg[256] = "";
	json_t       *utf8;

	assert_xs_err(xs_gw_query_to_request(q, len, "fbt", &out, &out_len,
	                  &op, NULL, msg, sizeof(msg)),
	    err);
	assert_null(out);
	if (strstr(msg, part) == NULL) {
		fail_msg("message '%s' does not contain '%s'", msg, part);
	}
	utf8 = json_string(msg);
	assert_non_null(utf8);
	json_decref(utf8);
}

/* The id of query 'q' for GET /v1/fbt, as the gateway keeps it for its
 * own errors: a str of the 'len' bytes 'want' (NULL: none), and the
 * translation must end with 'err'. */
static void
expect_id(const char *q, xsell_err err, const char *want, size_t len)
{
	void           *out = NULL;
	size_t          out_len;
	enum xs_gw_op   op;
	struct xs_gw_id id = { (void *) 1, 1 }; /* overwritten */
	char            msg[256];

	assert_xs_err(xs_gw_query_to_request(q, strlen(q), "fbt", &out,
	                  &out_len, &op, &id, msg, sizeof(msg)),
	    err);
	free(out);
	if (want == NULL) {
		assert_null(id.buf);
		return;
	}
	assert_non_null(id.buf);
	assert_int_equal(id.len, 1 + len);
	assert_int_equal(((unsigned char *) id.buf)[0], 0xa0 | len);
	assert_memory_equal((char *) id.buf + 1, want, len);
	free(id.buf);
}

/* A query is read parameter by parameter: its id is known once read,
 * also when a later parameter is refused, as xselld echoes the id of a
 * msgpack request read as far as its id; not before. */
static void
test_gateway_query_id_kept_for_errors(void **state)
{
	char *q;

	(void) state;
	expect_id("items=A&id=7", XSELL_OK, "7", 1);
	expect_id("items=A", XSELL_OK, NULL, 0);
	expect_id("id=r%2D7&k=1&k=2", XSELL_EINVAL, "r-7", 3);
	expect_id("k=1&k=2&id=r-7", XSELL_EINVAL, NULL, 0);
	expect_id("id=r-7&items=%ZZ", XSELL_EINVAL, "r-7", 3);
	expect_id("op=stats&id=r-7", XSELL_EINVAL, "r-7", 3);
	/* The first of two ids, as xselld's decoder keeps the first. */
	expect_id("id=a&id=b", XSELL_EINVAL, "a", 1);
	/* Too many parameters: read up to the limit. */
	_Static_assert(6 + 8 * XS_GW_QUERY_PARAMS_MAX < XS_GW_QUERY_MAX,
	    "the query of too many parameters is not too long");
	q = malloc(XS_GW_QUERY_MAX + 2);
	assert_non_null(q);
	memcpy(q, "id=r-7", 7);
	for (int i = 0; i < XS_GW_QUERY_PARAMS_MAX; i++) {
		memcpy(q + 6 + 8 * i, "&items=a", 9);
	}
	expect_id(q, XSELL_ETOOBIG, "r-7", 3);
	/* Too long: nothing read. */
	memset(q, 'a', XS_GW_QUERY_MAX + 1);
	memcpy(q, "id=r-7&b=", 9);
	q[XS_GW_QUERY_MAX + 1] = '\0';
	expect_id(q, XSELL_ETOOBIG, NULL, 0);
	free(q);
}

static void
test_gateway_query_list_repeats(void **state)
{
	(void) state;
	/* fixmap 3; "op" "fbt"; "items" fixarray 2 "A" "B"; "k" 5. */
	expect_bytes("items=A&items=B&k=5", "fbt",
	    "\x83\xa2op\xa3"
	    "fbt\xa5items\x92\xa1"
	    "A\xa1"
	    "B\xa1k\x05",
	    22);
	/* One occurrence is still a list. */
	expect_bytes("items=A", "fbt",
	    "\x82\xa2op\xa3"
	    "fbt\xa5items\x91\xa1"
	    "A",
	    17);
}

static void
test_gateway_query_percent_and_plus(void **state)
{
	(void) state;
	/* %2C is a comma, so is a comma itself (one id per occurrence);
	 * '+' is a space, %2B a plus; %41 is 'A' in a name too:
	 * items ["x,1", "a b+", "y,2"]. */
	expect_bytes("%69tems=x%2C1&items=a+b%2B&items=y,2", "fbt",
	    "\x82\xa2op\xa3"
	    "fbt\xa5items\x93"
	    "\xa3x,1"
	    "\xa4"
	    "a b+"
	    "\xa3y,2",
	    28);
	/* UTF-8 by percent-encoding: %C3%A9 is U+00E9. */
	expect_bytes("user=%C3%a9", "history",
	    "\x82\xa2op\xa7history\xa4user\xa2\xc3\xa9", 20);
}

static void
test_gateway_query_types(void **state)
{
	(void) state;
	/* user and scorer are strings whatever they look like; true is a
	 * boolean, 0.5 a float64 (0xcb 3fe0000000000000), 10 a positive
	 * fixint, 007 is no JSON number (a string), false, -2 a negative
	 * fixint (0xfe). Keys in the order given. */
	expect_bytes("user=123&explain=true&beta=0.5&k=10&scorer=1&x=007&y="
	             "false&z=-2",
	    "picks",
	    "\x89\xa2op\xa5picks"
	    "\xa4user\xa3"
	    "123"
	    "\xa7"
	    "explain\xc3"
	    "\xa4"
	    "beta\xcb\x3f\xe0\x00\x00\x00\x00\x00\x00"
	    "\xa1k\x0a"
	    "\xa6scorer\xa1"
	    "1"
	    "\xa1x\xa3"
	    "007"
	    "\xa1y\xc2"
	    "\xa1z\xfe",
	    66);
	/* 5.0 and 1e2 are floats, as in a JSON body (so k=5.0 is refused
	 * by xselld as {"k":5.0} is): 0x4014000000000000, 0x4059...; an
	 * empty value is an empty string. */
	expect_bytes("a=5.0&b=1e2&c=", "fbt",
	    "\x84\xa2op\xa3"
	    "fbt"
	    "\xa1"
	    "a\xcb\x40\x14\x00\x00\x00\x00\x00\x00"
	    "\xa1"
	    "b\xcb\x40\x59\x00\x00\x00\x00\x00\x00"
	    "\xa1"
	    "c\xa0",
	    33);
}

static void
test_gateway_query_filter_map(void **state)
{
	(void) state;
	/* fixmap 4: op, items ["A"], filter {in_stock false, exclude
	 * ["B"]} (the map where its first field came), k 2. */
	expect_bytes("items=A&filter.in_stock=false&filter.exclude=B&k=2",
	    "fbt",
	    "\x84\xa2op\xa3"
	    "fbt\xa5items\x91\xa1"
	    "A"
	    "\xa6"
	    "filter\x82"
	    "\xa8in_stock\xc2"
	    "\xa7"
	    "exclude\x91\xa1"
	    "B"
	    "\xa1k\x02",
	    49);
}

static void
test_gateway_query_empty(void **state)
{
	(void) state;
	expect_bytes("", "stats", "\x81\xa2op\xa5stats", 10);
	/* Empty pieces are skipped. */
	expect_bytes("&&k=1&", "stats", "\x82\xa2op\xa5stats\xa1k\x01", 13);
	/* The path's op may be repeated, as in a body. */
	expect_bytes("op=stats", "stats", "\x81\xa2op\xa5stats", 10);
}

static void
test_gateway_query_refuses(void **state)
{
	(void) state;
	expect_refused(
	    "items=%4", 8, XSELL_EINVAL, "percent-encoding at byte 6");
	expect_refused(
	    "k=1&items=%zz", 13, XSELL_EINVAL, "percent-encoding at byte 10");
	expect_refused(
	    "it%g=A", 6, XSELL_EINVAL, "percent-encoding at byte 2");
	expect_refused("items=%FF", 9, XSELL_EINVAL, "items: not valid UTF-8");
	expect_refused("k=%FF", 5, XSELL_EINVAL, "k: not valid UTF-8");
	expect_refused("items=a%00b", 11, XSELL_EINVAL, "items: a NUL byte");
	expect_refused("k%00=1", 6, XSELL_EINVAL, "byte 0 has an empty name");
	expect_refused("k=1&%FF=1", 9, XSELL_EINVAL, "byte 4 has an empty");
	expect_refused("=1", 2, XSELL_EINVAL, "empty name");
	expect_refused(
	    "k=1&explain", 11, XSELL_EINVAL, "byte 4 has no '=' and value");
	expect_refused("k=1&k=2", 7, XSELL_EINVAL, "k: given more than once");
	expect_refused("filter=1&filter.in_stock=true", 29, XSELL_EINVAL,
	    "filter: given both as a value and as filter.field");
	expect_refused("filter.in_stock=true&filter=1", 29, XSELL_EINVAL,
	    "filter: given both as a value and as filter.field");
	expect_refused("filter.in_stock=true&filter.in_stock=false", 42,
	    XSELL_EINVAL, "filter.in_stock: given more than once");
	expect_refused(
	    "filter.exclude.x=1", 18, XSELL_EINVAL, "a field or map.field");
	expect_refused(".a=1", 4, XSELL_EINVAL, "a field or map.field");
	expect_refused("a.=1", 4, XSELL_EINVAL, "a field or map.field");
	expect_refused("k=1e999", 7, XSELL_EINVAL, "k: number out of range");
	expect_refused("op=stats", 8, XSELL_EINVAL, "another op");
}

static void
test_gateway_query_bounds(void **state)
{
	char         *q = malloc(8 * (XS_GW_QUERY_PARAMS_MAX + 1) + 1);
	void         *out;
	size_t        len, out_len;
	char          msg[256];
	enum xs_gw_op op;

	(void) state;
	assert_non_null(q);
	/* 256 parameters "items=a&...", 2047 bytes: taken. */
	for (int i = 0; i < XS_GW_QUERY_PARAMS_MAX; i++) {
		memcpy(q + 8 * i, "items=a&", 8);
	}
	len = 8 * XS_GW_QUERY_PARAMS_MAX - 1;
	assert_xs_ok(xs_gw_query_to_request(
	    q, len, "fbt", &out, &out_len, &op, NULL, msg, sizeof(msg)));
	free(out);
	/* 257: too many. */
	memcpy(q + len, "&items=a", 8);
	expect_refused(q, len + 8, XSELL_ETOOBIG, "more than 256 parameters");
	free(q);

	/* 4096 bytes: taken; 4097: too large. */
	q = malloc(XS_GW_QUERY_MAX + 2);
	assert_non_null(q);
	memcpy(q, "id=", 3);
	memset(q + 3, 'a', XS_GW_QUERY_MAX - 2);
	assert_xs_ok(xs_gw_query_to_request(q, XS_GW_QUERY_MAX, "fbt", &out,
	    &out_len, &op, NULL, msg, sizeof(msg)));
	/* fixmap 2, op fbt, "id" str16 of 4093 bytes (0xda 0x0f 0xfd). */
	assert_int_equal(out_len, 1 + 3 + 4 + 3 + 3 + 4093);
	assert_memory_equal((char *) out + 11, "\xda\x0f\xfd", 3);
	free(out);
	expect_refused(q, XS_GW_QUERY_MAX + 1, XSELL_ETOOBIG,
	    "4097 bytes, more than the 4096");
	free(q);
}

static void
test_gateway_query_long_names_quoted_whole_chars(void **state)
{
	/* 40 x U+00E9 (2 bytes each, 80 bytes) given twice: the message
	 * quotes the first 64 bytes, 32 whole characters. */
	char q[600];
	char want[80];
	int  n = 0;

	(void) state;
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 40; i++) {
			n += sprintf(q + n, "%%C3%%A9");
		}
		n += sprintf(q + n, r == 0 ? "=1&" : "=2");
	}
	for (int i = 0; i < 32; i++) {
		memcpy(want + 2 * i, "\xc3\xa9", 2);
	}
	memcpy(want + 64, ": given", 8);
	expect_refused(q, (size_t) n, XSELL_EINVAL, want);
}

static void
test_gateway_query_cache_classes(void **state)
{
	(void) state;
	assert_int_equal(xs_gw_op_cache(XS_GW_OP_fbt), XS_GW_CACHE_PUBLIC);
	assert_int_equal(
	    xs_gw_op_cache(XS_GW_OP_complements), XS_GW_CACHE_PUBLIC);
	assert_int_equal(xs_gw_op_cache(XS_GW_OP_similar), XS_GW_CACHE_PUBLIC);
	assert_int_equal(
	    xs_gw_op_cache(XS_GW_OP_viewed_bought), XS_GW_CACHE_PUBLIC);
	assert_int_equal(
	    xs_gw_op_cache(XS_GW_OP_trending), XS_GW_CACHE_PUBLIC);
	assert_int_equal(xs_gw_op_cache(XS_GW_OP_picks), XS_GW_CACHE_PRIVATE);
	assert_int_equal(
	    xs_gw_op_cache(XS_GW_OP_history), XS_GW_CACHE_PRIVATE);
	assert_int_equal(xs_gw_op_cache(XS_GW_OP_stats), XS_GW_CACHE_NONE);
	assert_int_equal(xs_gw_op_cache(XS_GW_OP_event), XS_GW_CACHE_NONE);
	assert_int_equal(xs_gw_op_cache(XS_GW_OP_OTHER), XS_GW_CACHE_NONE);
}

/* A fixed xorshift stream: the same "random" queries every run. */
static uint32_t
next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
test_gateway_query_random_bytes(void **state)
{
	/* Pieces of queries, valid and not, strung at random. */
	static const char *const tokens[] = { "items=", "k=",
		"filter.in_stock=", "filter.exclude=", "user=", "x.y=",
		"filter=", "id=", "&", "=", "A", "5", "-1.5e3", "true", "%2C",
		"%C3%A9", "+", ".", ",", "%", "%G", "%FF", "%00", "\xff",
		"\xc3" };
	uint32_t                 x        = 2463534242u;
	char                     q[400];
	char                     msg[256];
	int                      taken = 0, refused = 0;

	(void) state;
	for (int round = 0; round < 20000; round++) {
		size_t           len = 0;
		void            *out = NULL;
		size_t           out_len, off = 0;
		enum xs_gw_op    op;
		xsell_err        err;
		msgpack_unpacked up;
		int              n = (int) (next_rand(&x) % 24);

		for (int i = 0; i < n; i++) {
			/* Mostly the first 14 tokens, whose strings are
			 * well formed. */
			uint32_t    r = next_rand(&x) % 64;
			const char *t = tokens[r < 56 ? r % 14 : 14 + r % 11];

			memcpy(q + len, t, strlen(t));
			len += strlen(t);
		}
		msg[0] = '\0';
		err    = xs_gw_query_to_request(q, len, "fbt", &out, &out_len,
		       &op, NULL, msg, sizeof(msg));
		if (err == XSELL_EINVAL) {
			/* The message goes into a JSON reply. */
			json_t *m = json_string(msg);

			assert_non_null(m);
			json_decref(m);
			assert_null(out);
			refused++;
			continue;
		}
		assert_xs_ok(err);
		taken++;
		/* One msgpack map, nothing after it. */
		msgpack_unpacked_init(&up);
		assert_int_equal(msgpack_unpack_next(&up, out, out_len, &off),
		    MSGPACK_UNPACK_SUCCESS);
		assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
		assert_int_equal(off, out_len);
		msgpack_unpacked_destroy(&up);
		free(out);
	}
	/* Both paths were walked often (a parser refusing everything
	 * would pass the loop alone). */
	print_message(
	    "random queries: %d taken, %d refused\n", taken, refused);
	assert_true(taken > 1000 && refused > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gateway_query_list_repeats),
		cmocka_unit_test(test_gateway_query_percent_and_plus),
		cmocka_unit_test(test_gateway_query_types),
		cmocka_unit_test(test_gateway_query_filter_map),
		cmocka_unit_test(test_gateway_query_empty),
		cmocka_unit_test(test_gateway_query_refuses),
		cmocka_unit_test(test_gateway_query_bounds),
		cmocka_unit_test(
		    test_gateway_query_long_names_quoted_whole_chars),
		cmocka_unit_test(test_gateway_query_cache_classes),
		cmocka_unit_test(test_gateway_query_random_bytes),
		cmocka_unit_test(test_gateway_query_id_kept_for_errors),
	};

	return cmocka_run_group_tests_name("gateway_query", tests, NULL, NULL);
}
