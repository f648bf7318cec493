/* SPDX-License-Identifier: MIT */
/* The gateway's JSON body -> msgpack request translation, byte by byte:
 * every expected message is written out by hand from the msgpack spec;
 * and the id its own error replies echo. */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "gateway/gateway_impl.h"

/* Translate 'json' and compare with the 'len' bytes 'want'. */
static void
expect_bytes(const char *json, const char *path_op, const char *want,
    size_t len, enum xs_gw_op want_op)
{
	void         *out = NULL;
	size_t        out_len;
	enum xs_gw_op op = XS_GW_OP_COUNT;
	char          msg[256];

	assert_xs_ok(xs_gw_json_to_request(json, strlen(json), path_op, &out,
	    &out_len, &op, NULL, msg, sizeof(msg)));
	assert_int_equal(out_len, len);
	assert_memory_equal(out, want, len);
	assert_int_equal(op, want_op);
	free(out);
}

/* Expect EINVAL with a message containing 'part'. */
static void
expect_refused(
    const char *json, size_t len, const char *path_op, const char *part)
{
	void         *out = NULL;
	size_t        out_len;
	enum xs_gw_op op;
	char          msg[256];

	assert_xs_err(xs_gw_json_to_request(json, len, path_op, &out, &out_len,
	                  &op, NULL, msg, sizeof(msg)),
	    XSELL_EINVAL);
	assert_null(out);
	if (strstr(msg, part) == NULL) {
		fail_msg("message '%s' does not contain '%s'", msg, part);
	}
}

static void
test_gateway_json_op_in_body(void **state)
{
	(void) state;
	/* fixmap 2; "op" "fbt"; "items" fixarray 1 "A" */
	expect_bytes("{\"op\":\"fbt\",\"items\":[\"A\"]}", NULL,
	    "\x82\xa2op\xa3"
	    "fbt\xa5items\x91\xa1"
	    "A",
	    17, XS_GW_OP_fbt);
}

static void
test_gateway_json_op_from_path_comes_first(void **state)
{
	(void) state;
	/* The path's op is packed first: fixmap 3; "op" "fbt"; "items"
	 * [1 "A"]; "k" 5 (positive fixint). */
	expect_bytes("{\"items\":[\"A\"],\"k\":5}", "fbt",
	    "\x83\xa2op\xa3"
	    "fbt\xa5items\x91\xa1"
	    "A\xa1k\x05",
	    20, XS_GW_OP_fbt);
	/* The same op in the body is taken once. */
	expect_bytes("{\"op\":\"stats\"}", "stats", "\x81\xa2op\xa5stats", 10,
	    XS_GW_OP_stats);
}

static void
test_gateway_json_empty_body_is_empty_map(void **state)
{
	(void) state;
	expect_bytes("", "stats", "\x81\xa2op\xa5stats", 10, XS_GW_OP_stats);
	expect_bytes("", NULL, "\x80", 1, XS_GW_OP_OTHER);
}

static void
test_gateway_json_scalars(void **state)
{
	(void) state;
	/* msgpack-c packs integers in their smallest form: -1 as a
	 * negative fixint (0xff), 300 as uint16 (0xcd 01 2c); 0.5 stays a
	 * float64 (0xcb 3fe0000000000000); true, false, null. */
	expect_bytes("{\"a\":[-1,300,0.5,true,false,null]}", NULL,
	    "\x81\xa1"
	    "a\x96"
	    "\xff"
	    "\xcd\x01\x2c"
	    "\xcb\x3f\xe0\x00\x00\x00\x00\x00\x00"
	    "\xc3\xc2\xc0",
	    20, XS_GW_OP_OTHER);
}

static void
test_gateway_json_write_op_is_known(void **state)
{
	(void) state;
	expect_bytes("{\"op\":\"event\"}", NULL,
	    "\x81\xa2op\xa5"
	    "event",
	    10, XS_GW_OP_event);
	assert_true(xs_gw_op_is_write(XS_GW_OP_event));
	assert_true(xs_gw_op_is_write(XS_GW_OP_items));
	assert_false(xs_gw_op_is_write(XS_GW_OP_fbt));
	assert_false(xs_gw_op_is_write(XS_GW_OP_OTHER));
	assert_string_equal(xs_gw_op_name(XS_GW_OP_OTHER), "other");
}

static void
test_gateway_json_refuses(void **state)
{
	(void) state;
	expect_refused("{\"items\":", 9, NULL, "line 1, column 9");
	expect_refused("[1]", 3, NULL, "must be a JSON object");
	expect_refused("\"fbt\"", 5, NULL, "must be a JSON object");
	expect_refused("{\"a\":1,\"a\":2}", 13, NULL, "duplicate");
	expect_refused("{\"a\":\"x\\u0000\"}", 15, NULL, "not valid JSON");
	expect_refused("{\"a\":1} x", 9, NULL, "not valid JSON");
	expect_refused("{\"op\":\"stats\"}", 14, "fbt", "another op");
	expect_refused("{\"op\":1}", 8, "fbt", "another op");
	/* A NUL byte in the body itself. */
	expect_refused("{\"a\":1}\0", 8, NULL, "not valid JSON");
}

/* jansson's syntax error quotes the body up to the byte it stopped at,
 * here the first byte of 'é' (c3 a9): the message, which goes to the
 * client as JSON, is UTF-8 and quotes the body up to the character. */
static void
test_gateway_json_syntax_error_message_is_utf8(void **state)
{
	const char    body[] = "{\"items\": [\"\\u00\xc3\xa9\"]}";
	void         *out    = NULL;
	size_t        out_len;
	enum xs_gw_op op;
	char          msg[256];

	(void) state;
	assert_xs_err(xs_gw_json_to_request(body, strlen(body), "fbt", &out,
	                  &out_len, &op, NULL, msg, sizeof(msg)),
	    XSELL_EINVAL);
	assert_null(out);
	assert_true(xs_utf8_is_valid(msg, strlen(msg)));
	assert_string_equal(msg,
	    "body: not valid JSON (line 1, column 17): invalid escape near "
	    "'\"\\u00'");
}

static void
test_gateway_json_deep_nesting_is_an_error(void **state)
{
	size_t n   = 100000;
	char  *buf = malloc(2 * n + 16);

	(void) state;
	assert_non_null(buf);
	/* {"a": [[[[...]]]]} 100,000 deep: jansson stops at its depth
	 * limit (2048) with an error, never a stack overflow. */
	memcpy(buf, "{\"a\":", 5);
	memset(buf + 5, '[', n);
	memset(buf + 5 + n, ']', n);
	buf[5 + 2 * n] = '}';
	expect_refused(buf, 2 * n + 6, NULL, "not valid JSON");
	free(buf);
}

/* The id of 'json' for /v1/<path_op>, as the gateway keeps it for its
 * own errors: its msgpack must be the 'len' bytes 'want' (NULL: none),
 * and the translation must end with 'err'. */
static void
expect_id(const char *json, const char *path_op, xsell_err err,
    const char *want, size_t len)
{
	void           *out = NULL;
	size_t          out_len;
	enum xs_gw_op   op;
	struct xs_gw_id id = { (void *) 1, 1 }; /* overwritten */
	char            msg[256];

	assert_xs_err(xs_gw_json_to_request(json, strlen(json), path_op, &out,
	                  &out_len, &op, &id, msg, sizeof(msg)),
	    err);
	free(out);
	if (want == NULL) {
		assert_null(id.buf);
		assert_int_equal(id.len, 0);
		return;
	}
	assert_non_null(id.buf);
	assert_int_equal(id.len, len);
	assert_memory_equal(id.buf, want, len);
	free(id.buf);
}

static void
test_gateway_json_id_kept_for_errors(void **state)
{
	(void) state;
	/* Any JSON value, packed as the request packs it. */
	expect_id("{\"items\":[\"A\"],\"id\":\"r-1\"}", "fbt", XSELL_OK,
	    "\xa3r-1", 4);
	expect_id("{\"id\":{\"t\":7},\"items\":[\"A\"]}", "fbt", XSELL_OK,
	    "\x81\xa1t\x07", 4);
	expect_id("{\"id\":null}", "stats", XSELL_OK, "\xc0", 1);
	/* Refused by the gateway, but read as far as the id. */
	expect_id(
	    "{\"op\":\"stats\",\"id\":5}", "fbt", XSELL_EINVAL, "\x05", 1);
	/* Not read: no id. */
	expect_id("{\"items\":[\"A\"]}", "fbt", XSELL_OK, NULL, 0);
	expect_id("{\"id\":\"r-1\",", "fbt", XSELL_EINVAL, NULL, 0);
	expect_id("[\"r-1\"]", "fbt", XSELL_EINVAL, NULL, 0);
	/* 8 levels with the request map are what the wire takes (xselld
	 * echoes that id); 9 are refused whole, with no id. */
	expect_id("{\"id\":[[[[[[[1]]]]]]]}", "stats", XSELL_OK,
	    "\x91\x91\x91\x91\x91\x91\x91\x01", 8);
	expect_id("{\"id\":[[[[[[[[1]]]]]]]]}", "stats", XSELL_OK, NULL, 0);
	expect_id(
	    "{\"id\":[1,{\"a\":[[[[[[2]]]]]]}]}", "stats", XSELL_OK, NULL, 0);
}

/* The gateway's own error reply: xselld's shape and order, the id's
 * bytes as they were packed. */
static void
test_gateway_json_error_reply(void **state)
{
	static const char with_id[] = "\x83\xa2ok\xc2\xa2id\x81\xa1t\x07\xa5"
	                              "error\x82\xa4"
	                              "code\xa9"
	                              "forbidden\xa7message\xa2no";
	static const char without[] = "\x82\xa2ok\xc2\xa5"
	                              "error\x82\xa4"
	                              "code\xa9"
	                              "forbidden\xa7message\xa2no";
	struct xs_gw_id   id        = { (void *) "\x81\xa1t\x07", 4 };
	struct xs_gw_id   none      = { NULL, 0 };
	void             *out;
	size_t            len;

	(void) state;
	assert_xs_ok(xs_gw_error_reply(&id, "forbidden", "no", &out, &len));
	assert_int_equal(len, sizeof(with_id) - 1);
	assert_memory_equal(out, with_id, len);
	free(out);
	assert_xs_ok(xs_gw_error_reply(&none, "forbidden", "no", &out, &len));
	assert_int_equal(len, sizeof(without) - 1);
	assert_memory_equal(out, without, len);
	free(out);
	assert_xs_ok(xs_gw_error_reply(NULL, "forbidden", "no", &out, &len));
	assert_int_equal(len, sizeof(without) - 1);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gateway_json_op_in_body),
		cmocka_unit_test(test_gateway_json_op_from_path_comes_first),
		cmocka_unit_test(test_gateway_json_empty_body_is_empty_map),
		cmocka_unit_test(test_gateway_json_scalars),
		cmocka_unit_test(test_gateway_json_write_op_is_known),
		cmocka_unit_test(test_gateway_json_refuses),
		cmocka_unit_test(
		    test_gateway_json_syntax_error_message_is_utf8),
		cmocka_unit_test(test_gateway_json_deep_nesting_is_an_error),
		cmocka_unit_test(test_gateway_json_id_kept_for_errors),
		cmocka_unit_test(test_gateway_json_error_reply),
	};

	return cmocka_run_group_tests_name("gateway_json", tests, NULL, NULL);
}
