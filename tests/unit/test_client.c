/* SPDX-License-Identifier: MIT */
/* The client library: the msgpack → JSON writer (escaping, nesting,
 * floats, the non-JSON types), the bounded reply unpacker, and the
 * handle against nothing, against a peer that never speaks, and against
 * an in-test rep0 echo server on a fresh ipc:// address. */
#include "support.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <xsell/client.h>

/* ==== JSON helpers ==== */

/* Unpack sb and write it as JSON; returns the text (malloc'd) without
 * the final newline, and the writer's result in *errp. */
static char *
to_json(const msgpack_sbuffer *sb, bool pretty, xsell_err *errp)
{
	msgpack_unpacked up;
	size_t           off  = 0;
	char            *text = NULL;
	size_t           len  = 0;
	FILE            *mem;
	xsell_err        err;

	msgpack_unpacked_init(&up);
	assert_int_equal(msgpack_unpack_next(&up, sb->data, sb->size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	mem = open_memstream(&text, &len);
	assert_non_null(mem);
	err = xsell_json_write(mem, &up.data, pretty);
	assert_int_equal(fclose(mem), 0);
	msgpack_unpacked_destroy(&up);
	assert_true(len > 0);
	assert_int_equal(text[len - 1], '\n');
	text[len - 1] = '\0';
	if (errp != NULL) {
		*errp = err;
	} else {
		assert_xs_ok(err);
	}
	return text;
}

struct pk {
	msgpack_sbuffer sb;
	msgpack_packer  p;
};

static void
pk_init(struct pk *k)
{
	msgpack_sbuffer_init(&k->sb);
	msgpack_packer_init(&k->p, &k->sb, msgpack_sbuffer_write);
}

static void
pk_str(struct pk *k, const char *s, size_t len)
{
	msgpack_pack_str(&k->p, len);
	msgpack_pack_str_body(&k->p, s, len);
}

static void
assert_json(struct pk *k, bool pretty, const char *want)
{
	char *got = to_json(&k->sb, pretty, NULL);

	assert_string_equal(got, want);
	free(got);
	msgpack_sbuffer_destroy(&k->sb);
}

/* ==== JSON ==== */

static void
test_json_escapes_strings(void **state)
{
	/* quote, backslash, named controls, other controls, DEL, valid
	 * UTF-8 (2, 3 and 4 bytes), then a stray continuation byte, an
	 * overlong '/', a surrogate and a truncated sequence. */
	static const char in[] = "a\"b\\c\nd\te\r\b\f\x01\x1f\x7f"
	                         "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	                         "\x80\xc0\xaf\xed\xa0\x80\xe2\x82";
	struct pk         k;

	(void) state;
	pk_init(&k);
	pk_str(&k, in, sizeof(in) - 1);
	assert_json(&k, false,
	    "\"a\\\"b\\\\c\\nd\\te\\r\\b\\f\\u0001\\u001f\\u007f"
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");

	/* An embedded NUL is data, not the end of the string. */
	pk_init(&k);
	pk_str(&k, "a\0b", 3);
	assert_json(&k, false, "\"a\\u0000b\"");
}

/* The C1 controls U+0080..U+009F are escaped like the C0 ones: their
 * UTF-8 is valid JSON, but a terminal showing `xsell --json` takes
 * U+009B as CSI (ESC [). The characters around them are not: DEL is
 * \u007f already, U+00A0 and U+00FF are printable and stay UTF-8. */
static void
test_json_escapes_c1(void **state)
{
	static const char in[] =
	    "\x7f\xc2\x80\xc2\x9b[31m\xc2\x9f\xc2\xa0\xc3\xbf";
	struct pk k;

	(void) state;
	pk_init(&k);
	pk_str(&k, in, sizeof(in) - 1);
	assert_json(
	    &k, false, "\"\\u007f\\u0080\\u009b[31m\\u009f\xc2\xa0\xc3\xbf\"");

	/* In a key too, and after a lone 0xc2, which is not UTF-8. */
	pk_init(&k);
	msgpack_pack_map(&k.p, 1);
	pk_str(&k, "\xc2\xc2\x85", 3);
	msgpack_pack_true(&k.p);
	assert_json(&k, false, "{\"\\ufffd\\u0085\":true}");
}

static void
pack_nested(struct pk *k)
{
	msgpack_pack_map(&k->p, 4);
	pk_str(k, "ok", 2);
	msgpack_pack_true(&k->p);
	pk_str(k, "items", 5);
	msgpack_pack_array(&k->p, 2);
	msgpack_pack_map(&k->p, 3);
	pk_str(k, "item", 4);
	pk_str(k, "x", 1);
	pk_str(k, "n", 1);
	msgpack_pack_int64(&k->p, -3);
	pk_str(k, "z", 1);
	msgpack_pack_nil(&k->p);
	msgpack_pack_uint64(&k->p, UINT64_MAX);
	pk_str(k, "e", 1);
	msgpack_pack_array(&k->p, 0);
	pk_str(k, "m", 1);
	msgpack_pack_map(&k->p, 0);
}

static void
test_json_nesting_compact(void **state)
{
	struct pk k;

	(void) state;
	pk_init(&k);
	pack_nested(&k);
	assert_json(&k, false,
	    "{\"ok\":true,\"items\":[{\"item\":\"x\",\"n\":-3,\"z\":null},"
	    "18446744073709551615],\"e\":[],\"m\":{}}");
}

static void
test_json_nesting_pretty(void **state)
{
	struct pk k;

	(void) state;
	pk_init(&k);
	pack_nested(&k);
	assert_json(&k, true,
	    "{\n"
	    "  \"ok\": true,\n"
	    "  \"items\": [\n"
	    "    {\n"
	    "      \"item\": \"x\",\n"
	    "      \"n\": -3,\n"
	    "      \"z\": null\n"
	    "    },\n"
	    "    18446744073709551615\n"
	    "  ],\n"
	    "  \"e\": [],\n"
	    "  \"m\": {}\n"
	    "}");
}

static void
test_json_floats_shortest(void **state)
{
	static const struct {
		double      d;
		const char *want;
	} cases[] = {
		{ 0.1, "0.1" },
		{ 1.0, "1.0" },
		{ -0.0, "-0.0" },
		{ 2.0 / 3.0, "0.6666666666666666" },
		{ 1e300, "1e+300" },
		{ 123456789.125, "123456789.125" },
		{ 1.0000000000000002, "1.0000000000000002" },
	};
	struct pk k;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pk_init(&k);
		msgpack_pack_double(&k.p, cases[i].d);
		assert_json(&k, false, cases[i].want);
	}
	pk_init(&k);
	msgpack_pack_float(&k.p, 0.1f);
	assert_json(&k, false, "0.1");
	pk_init(&k);
	msgpack_pack_double(&k.p, NAN);
	assert_json(&k, false, "null");
	pk_init(&k);
	msgpack_pack_double(&k.p, -INFINITY);
	assert_json(&k, false, "null");
}

static void
test_json_bin_ext_and_keys(void **state)
{
	static const char bin[] = { 0x00, 0x7f, (char) 0xff };
	struct pk         k;

	(void) state;
	pk_init(&k);
	msgpack_pack_map(&k.p, 4);
	pk_str(&k, "b", 1);
	msgpack_pack_bin(&k.p, sizeof(bin));
	msgpack_pack_bin_body(&k.p, bin, sizeof(bin));
	pk_str(&k, "x", 1);
	msgpack_pack_ext(&k.p, 2, 5);
	msgpack_pack_ext_body(&k.p, "\x01\x02", 2);
	msgpack_pack_int64(&k.p, 7);
	msgpack_pack_true(&k.p);
	msgpack_pack_nil(&k.p);
	pk_str(&k, "a\"", 2);
	assert_json(&k, false,
	    "{\"b\":\"007fff\",\"x\":{\"ext\":5,\"data\":\"0102\"},"
	    "\"7\":true,\"null\":\"a\\\"\"}");
}

static void
test_json_rejects_deep_nesting(void **state)
{
	/* msgpack-c's unpacker stops at 32 levels, so build the tree by
	 * hand: 70 nested one-element arrays around an integer. */
	msgpack_object o[71];
	char          *text = NULL;
	size_t         len  = 0;
	FILE          *mem;

	(void) state;
	for (int i = 0; i < 70; i++) {
		o[i].type           = MSGPACK_OBJECT_ARRAY;
		o[i].via.array.size = 1;
		o[i].via.array.ptr  = &o[i + 1];
	}
	o[70].type    = MSGPACK_OBJECT_POSITIVE_INTEGER;
	o[70].via.u64 = 1;
	mem           = open_memstream(&text, &len);
	assert_non_null(mem);
	assert_xs_err(xsell_json_write(mem, &o[0], false), XSELL_EINVAL);
	assert_int_equal(fclose(mem), 0);
	/* Still balanced JSON: 64 '[', null, 64 ']', newline. */
	assert_int_equal(len, 64 + 4 + 64 + 1);
	assert_int_equal(text[63], '[');
	assert_memory_equal(text + 64, "null]", 5);
	free(text);

	/* 40 levels is fine. */
	text = NULL;
	mem  = open_memstream(&text, &len);
	assert_non_null(mem);
	assert_xs_ok(xsell_json_write(mem, &o[30], true));
	assert_int_equal(fclose(mem), 0);
	free(text);
}

/* ==== Client ==== */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static void
test_client_rejects_bad_arguments(void **state)
{
	xsell_client *c = NULL;
	void         *reply;
	size_t        len;

	(void) state;
	assert_xs_err(xsell_client_open(&c, NULL, 100), XSELL_EINVAL);
	assert_xs_err(xsell_client_open(&c, "", 100), XSELL_EINVAL);
	assert_xs_err(xsell_client_open(&c, "nope", 100), XSELL_EINVAL);
	assert_xs_err(xsell_client_open(&c, "bogus://x", 100), XSELL_EINVAL);
	assert_null(c);
	assert_xs_ok(xsell_client_open(&c, "inproc://xs-args", 100));
	assert_xs_err(xsell_client_call(c, "", 0, &reply, &len), XSELL_EINVAL);
	assert_xs_err(
	    xsell_client_call(c, NULL, 1, &reply, &len), XSELL_EINVAL);
	xsell_client_close(c);
	xsell_client_close(NULL);
	xsell_client_free(NULL);
}

static void
test_client_err_from_wire(void **state)
{
	(void) state;
	assert_int_equal(
	    xsell_client_err_from_wire("bad_request", 11), XSELL_EINVAL);
	assert_int_equal(
	    xsell_client_err_from_wire("too_large", 9), XSELL_ETOOBIG);
	assert_int_equal(
	    xsell_client_err_from_wire("forbidden", 9), XSELL_EFORBIDDEN);
	assert_int_equal(
	    xsell_client_err_from_wire("not_found", 9), XSELL_ENOENT);
	assert_int_equal(
	    xsell_client_err_from_wire("unavailable", 11), XSELL_EUNAVAIL);
	assert_int_equal(
	    xsell_client_err_from_wire("outcome_unknown", 15), XSELL_ENOREPLY);
	/* Several errors share "internal"; the general one comes back. */
	assert_int_equal(
	    xsell_client_err_from_wire("internal", 8), XSELL_EINTERNAL);
	assert_int_equal(
	    xsell_client_err_from_wire("internalx", 8), XSELL_EINTERNAL);
	assert_int_equal(xsell_client_err_from_wire("ok", 2), XSELL_OK);
	assert_int_equal(
	    xsell_client_err_from_wire("internal", 7), XSELL_EINTERNAL);
	assert_int_equal(
	    xsell_client_err_from_wire("what", 4), XSELL_EINTERNAL);
	assert_int_equal(xsell_client_err_from_wire(NULL, 0), XSELL_EINTERNAL);
}

static void
test_client_unavailable_within_timeout(void **state)
{
	char         *dir = xs_test_tmpdir();
	char         *url = xs_test_ipc_url(dir, "nobody");
	xsell_client *c;
	void         *reply = NULL;
	size_t        len   = 0;
	uint64_t      t0;
	uint64_t      dt;

	(void) state;
	/* Opening succeeds: the server is looked for at call time. */
	assert_xs_ok(xsell_client_open(&c, url, 200));
	t0 = now_ms();
	assert_xs_err(
	    xsell_client_call(c, "\x80", 1, &reply, &len), XSELL_EUNAVAIL);
	dt = now_ms() - t0;
	assert_true(dt >= 150);
	assert_true(dt < 1500);
	assert_null(reply);
	assert_int_equal(len, 0);
	xsell_client_close(c);
	free(url);
	xs_test_rmdir(dir);
}

struct echo {
	nng_socket sock;
	pthread_t  thread;
	int        served; /* requests answered */
};

/* Answer every request with its own bytes until the socket closes. */
static void *
echo_main(void *arg)
{
	struct echo *e = arg;

	for (;;) {
		nng_msg *msg;
		int      rc = nng_recvmsg(e->sock, &msg, 0);

		if (rc != 0) {
			break;
		}
		if (nng_sendmsg(e->sock, msg, 0) != 0) {
			nng_msg_free(msg);
			break;
		}
		e->served++;
	}
	return NULL;
}

static void
echo_start(struct echo *e, const char *url)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(nng_rep0_open(&e->sock), 0);
	assert_int_equal(nng_listen(e->sock, url, NULL, 0), 0);
	assert_int_equal(pthread_create(&e->thread, NULL, echo_main, e), 0);
}

static void
echo_stop(struct echo *e)
{
	nng_close(e->sock);
	pthread_join(e->thread, NULL);
}

static void
test_client_round_trip(void **state)
{
	char         *dir = xs_test_tmpdir();
	char         *url = xs_test_ipc_url(dir, "echo");
	struct echo   e;
	struct pk     k;
	xsell_client *c;
	void         *reply;
	size_t        len;
	char         *json;

	(void) state;
	echo_start(&e, url);
	assert_xs_ok(xsell_client_open(&c, url, 2000));

	pk_init(&k);
	msgpack_pack_map(&k.p, 2);
	pk_str(&k, "op", 2);
	pk_str(&k, "stats", 5);
	pk_str(&k, "id", 2);
	pk_str(&k, "r\xc3\xa9q-1", 6);
	assert_xs_ok(xsell_client_call(c, k.sb.data, k.sb.size, &reply, &len));
	assert_int_equal(len, k.sb.size);
	assert_memory_equal(reply, k.sb.data, len);
	xsell_client_free(reply);
	json = to_json(&k.sb, false, NULL);
	assert_string_equal(
	    json, "{\"op\":\"stats\",\"id\":\"r\xc3\xa9q-1\"}");
	free(json);

	/* The handle stays usable, and a 1 MiB request goes through. */
	{
		size_t big_len = 1u << 20;
		char  *big     = malloc(big_len);

		assert_non_null(big);
		memset(big, 0xc0, big_len);
		assert_xs_ok(xsell_client_call(c, big, big_len, &reply, &len));
		assert_int_equal(len, big_len);
		assert_memory_equal(reply, big, len);
		xsell_client_free(reply);
		free(big);
	}
	xsell_client_close(c);
	msgpack_sbuffer_destroy(&k.sb);
	echo_stop(&e);
	assert_int_equal(e.served, 2);
	free(url);
	xs_test_rmdir(dir);
}

/* Several threads share one handle; each must get its own reply. */
struct caller {
	xsell_client *c;
	int           n;
	int           bad; /* calls that failed or got someone else's reply */
};

static void *
caller_main(void *arg)
{
	struct caller *ca = arg;

	for (int i = 0; i < 50; i++) {
		char   req[32];
		void  *reply;
		size_t len;
		int    n = snprintf(req, sizeof(req), "%d:%d", ca->n, i);

		if (xsell_client_call(ca->c, req, (size_t) n, &reply, &len) !=
		    XSELL_OK) {
			ca->bad++;
			continue;
		}
		if (len != (size_t) n || memcmp(reply, req, len) != 0) {
			ca->bad++;
		}
		xsell_client_free(reply);
	}
	return NULL;
}

static void
test_client_shared_by_threads(void **state)
{
	char         *dir = xs_test_tmpdir();
	char         *url = xs_test_ipc_url(dir, "echo");
	struct echo   e;
	xsell_client *c;
	struct caller ca[4];
	pthread_t     th[4];

	(void) state;
	echo_start(&e, url);
	assert_xs_ok(xsell_client_open(&c, url, 5000));
	for (int i = 0; i < 4; i++) {
		ca[i].c   = c;
		ca[i].n   = i;
		ca[i].bad = 0;
		assert_int_equal(
		    pthread_create(&th[i], NULL, caller_main, &ca[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(ca[i].bad, 0);
	}
	xsell_client_close(c);
	echo_stop(&e);
	assert_int_equal(e.served, 200);
	free(url);
	xs_test_rmdir(dir);
}

/* ==== Replies ==== */

static xsell_err
unpack_bytes(const void *p, size_t len)
{
	msgpack_unpacked up;
	xsell_err        err;

	msgpack_unpacked_init(&up);
	err = xsell_reply_unpack(p, len, &up);
	msgpack_unpacked_destroy(&up);
	return err;
}

static void
test_reply_unpack_checks_bytes(void **state)
{
	/* {"ok":true} */
	static const char ok[] = "\x81\xa2ok\xc3";
	/* An array that claims 2^32-1 elements in 5 bytes: msgpack-c alone
	 * would try to reserve ~64 GiB for it. */
	static const char huge[] = "\x81\xa1"
	                           "a\xdd\xff\xff\xff\xff";
	/* A str8 that claims 200 bytes, and a map16 that claims 65535. */
	static const char long_str[] = "\x81\xa1"
	                               "a\xd9\xc8xx";
	static const char long_map[] = "\xde\xff\xff\xa1"
	                               "a\xc0";
	char              deep[64];

	(void) state;
	assert_xs_ok(unpack_bytes(ok, sizeof(ok) - 1));
	assert_xs_err(unpack_bytes(ok, sizeof(ok) - 2), XSELL_EIO);
	assert_xs_err(unpack_bytes("\x81\xa2ok\xc3\xc0", 6), XSELL_EIO);
	assert_xs_err(unpack_bytes("", 0), XSELL_EIO);
	assert_xs_err(unpack_bytes("\x92\x01\x02", 3), XSELL_EIO); // array
	assert_xs_err(unpack_bytes("\xc1", 1), XSELL_EIO);
	assert_xs_err(unpack_bytes(huge, sizeof(huge) - 1), XSELL_EIO);
	assert_xs_err(unpack_bytes(long_str, sizeof(long_str) - 1), XSELL_EIO);
	assert_xs_err(unpack_bytes(long_map, sizeof(long_map) - 1), XSELL_EIO);
	assert_xs_err(unpack_bytes(NULL, 1), XSELL_EINVAL);

	/* A map holding 31 nested arrays is 32 levels: the limit. */
	deep[0] = (char) 0x81;
	deep[1] = (char) 0xa1;
	deep[2] = 'a';
	for (int i = 0; i < 31; i++) {
		deep[3 + i] = (char) 0x91;
	}
	deep[34] = 0x01;
	assert_xs_ok(unpack_bytes(deep, 35));
	/* One more level is refused, before msgpack-c sees it. */
	for (int i = 0; i < 32; i++) {
		deep[3 + i] = (char) 0x91;
	}
	deep[35] = 0x01;
	assert_xs_err(unpack_bytes(deep, 36), XSELL_EIO);
}

static void
test_reply_unpack_all_types(void **state)
{
	struct pk        k;
	msgpack_unpacked up;
	char            *json;

	(void) state;
	pk_init(&k);
	msgpack_pack_map(&k.p, 9);
	pk_str(&k, "i", 1);
	msgpack_pack_int64(&k.p, -70000);
	pk_str(&k, "u", 1);
	msgpack_pack_uint64(&k.p, 1ull << 40);
	pk_str(&k, "f", 1);
	msgpack_pack_float(&k.p, 1.5f);
	pk_str(&k, "d", 1);
	msgpack_pack_double(&k.p, 0.25);
	pk_str(&k, "s", 1);
	pk_str(&k, "0123456789012345678901234567890123456789", 40);
	pk_str(&k, "b", 1);
	msgpack_pack_bin(&k.p, 2);
	msgpack_pack_bin_body(&k.p, "\x01\x02", 2);
	pk_str(&k, "x", 1);
	msgpack_pack_ext(&k.p, 3, 1);
	msgpack_pack_ext_body(&k.p, "abc", 3);
	pk_str(&k, "a", 1);
	msgpack_pack_array(&k.p, 20);
	for (int i = 0; i < 20; i++) {
		msgpack_pack_nil(&k.p);
	}
	pk_str(&k, "t", 1);
	msgpack_pack_false(&k.p);

	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack(k.sb.data, k.sb.size, &up));
	assert_int_equal(up.data.via.map.size, 9);
	assert_non_null(xsell_reply_get(&up.data, "t"));
	assert_null(xsell_reply_get(&up.data, "missing"));
	assert_null(xsell_reply_get(xsell_reply_get(&up.data, "i"), "i"));
	msgpack_unpacked_destroy(&up);
	json = to_json(&k.sb, false, NULL);
	assert_non_null(strstr(json, "\"f\":1.5,\"d\":0.25"));
	free(json);
	msgpack_sbuffer_destroy(&k.sb);
}

/* client.h: the unpacked reply "owns a copy of what it needs, so 'buf'
 * may be freed afterwards". Overwrite and free the buffer, then read
 * every string (ASan would also see a read of freed memory). */
static void
test_reply_unpack_outlives_buffer(void **state)
{
	struct pk             k;
	msgpack_unpacked      up;
	const msgpack_object *s;
	const msgpack_object *b;
	char                 *buf;

	(void) state;
	pk_init(&k);
	msgpack_pack_map(&k.p, 2);
	pk_str(&k, "s", 1);
	pk_str(&k, "0123456789012345678901234567890123456789", 40);
	pk_str(&k, "b", 1);
	msgpack_pack_bin(&k.p, 2);
	msgpack_pack_bin_body(&k.p, "\x01\x02", 2);
	buf = malloc(k.sb.size);
	assert_non_null(buf);
	memcpy(buf, k.sb.data, k.sb.size);

	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack(buf, k.sb.size, &up));
	memset(buf, 'Z', k.sb.size);
	free(buf);
	s = xsell_reply_get(&up.data, "s");
	b = xsell_reply_get(&up.data, "b");
	assert_non_null(s);
	assert_non_null(b);
	assert_int_equal(s->via.str.size, 40);
	assert_memory_equal(
	    s->via.str.ptr, "0123456789012345678901234567890123456789", 40);
	assert_memory_equal(b->via.bin.ptr, "\x01\x02", 2);
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&k.sb);
}

static void
test_reply_status(void **state)
{
	struct xsell_reply_error e;
	msgpack_unpacked         up;
	struct pk                k;

	(void) state;
	pk_init(&k);
	msgpack_pack_map(&k.p, 2);
	pk_str(&k, "ok", 2);
	msgpack_pack_false(&k.p);
	pk_str(&k, "error", 5);
	msgpack_pack_map(&k.p, 2);
	pk_str(&k, "code", 4);
	pk_str(&k, "not_found", 9);
	pk_str(&k, "message", 7);
	pk_str(&k, "no such item", 12);
	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack(k.sb.data, k.sb.size, &up));
	assert_xs_err(xsell_reply_status(&up.data, &e), XSELL_ENOENT);
	assert_int_equal(e.code_len, 9);
	assert_memory_equal(e.code, "not_found", 9);
	assert_int_equal(e.message_len, 12);
	assert_memory_equal(e.message, "no such item", 12);
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&k.sb);

	/* ok:true; then a map without "ok"; then "ok" that is not a bool. */
	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack("\x81\xa2ok\xc3", 5, &up));
	assert_xs_ok(xsell_reply_status(&up.data, NULL));
	msgpack_unpacked_destroy(&up);
	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack("\x81\xa2no\xc3", 5, &up));
	assert_xs_err(xsell_reply_status(&up.data, &e), XSELL_EIO);
	msgpack_unpacked_destroy(&up);
	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack("\x81\xa2ok\x01", 5, &up));
	assert_xs_err(xsell_reply_status(&up.data, &e), XSELL_EIO);
	msgpack_unpacked_destroy(&up);

	/* ok:false without an error map is still a failure, with "". */
	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack("\x81\xa2ok\xc2", 5, &up));
	assert_xs_err(xsell_reply_status(&up.data, &e), XSELL_EINTERNAL);
	assert_int_equal(e.code_len, 0);
	assert_int_equal(e.message_len, 0);
	msgpack_unpacked_destroy(&up);
}

/* ==== Dial ==== */

static void
test_client_dial_fails_fast(void **state)
{
	char         *dir = xs_test_tmpdir();
	char         *url = xs_test_ipc_url(dir, "nobody");
	xsell_client *c   = NULL;
	uint64_t      t0;

	(void) state;
	/* Refused: at once, not after the 5 s timeout. */
	t0 = now_ms();
	assert_xs_err(xsell_client_dial(&c, url, 5000), XSELL_EUNAVAIL);
	assert_true(now_ms() - t0 < 1000);
	assert_null(c);
	assert_xs_err(xsell_client_dial(&c, "bogus://x", 100), XSELL_EINVAL);
	assert_xs_err(xsell_client_dial(NULL, url, 100), XSELL_EINVAL);
	free(url);
	xs_test_rmdir(dir);
}

/* A peer that takes connections but never speaks: a unix socket in
 * listen() that never accept()s. The kernel completes the connect, and
 * nng then waits for an SP header that never comes; only the timeout
 * ends the dial or the call. */
static void
test_client_silent_peer_times_out(void **state)
{
	char              *dir = xs_test_tmpdir();
	char              *url = xs_test_ipc_url(dir, "silent");
	struct sockaddr_un sa;
	xsell_client      *c = NULL;
	void              *reply;
	size_t             len;
	uint64_t           t0;
	uint64_t           dt;
	int                fd;

	(void) state;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(url + 6) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, url + 6); /* after "ipc://" */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);

	t0 = now_ms();
	assert_xs_err(xsell_client_dial(&c, url, 300), XSELL_EUNAVAIL);
	dt = now_ms() - t0;
	assert_true(dt >= 250);
	assert_true(dt < 2000);
	assert_null(c);

	assert_xs_ok(xsell_client_open(&c, url, 300));
	t0 = now_ms();
	assert_xs_err(
	    xsell_client_call(c, "\x80", 1, &reply, &len), XSELL_EUNAVAIL);
	dt = now_ms() - t0;
	assert_true(dt >= 250);
	assert_true(dt < 2000);
	xsell_client_close(c);
	close(fd);
	free(url);
	xs_test_rmdir(dir);
}

/* A request a server took and never answered: the call cannot say
 * whether it acted (a write applied), so it is not "unavailable" (which
 * promises nothing changed) but ENOREPLY, after the timeout. */
static void
test_client_sent_without_reply_is_outcome_unknown(void **state)
{
	char         *dir = xs_test_tmpdir();
	char         *url = xs_test_ipc_url(dir, "mute");
	nng_socket    mute;
	xsell_client *c;
	void         *reply = NULL;
	size_t        len   = 0;
	uint64_t      t0, dt;

	(void) state;
	assert_int_equal(nng_rep0_open(&mute), 0);
	assert_int_equal(nng_listen(mute, url, NULL, 0), 0);
	assert_xs_ok(xsell_client_dial(&c, url, 300));
	t0 = now_ms();
	assert_xs_err(
	    xsell_client_call(c, "\x80", 1, &reply, &len), XSELL_ENOREPLY);
	dt = now_ms() - t0;
	assert_true(dt >= 250);
	assert_null(reply);
	assert_int_equal(len, 0);
	assert_string_equal(
	    xsell_strerror(XSELL_ENOREPLY), "sent, but no reply came");
	xsell_client_close(c);
	nng_close(mute);
	free(url);
	xs_test_rmdir(dir);
}

/* A call bounded by its own timeout gives up after it, not after the
 * handle's (5 s here); <= 0 is the handle's. */
static void
test_client_call_within_own_timeout(void **state)
{
	char         *dir = xs_test_tmpdir();
	char         *url = xs_test_ipc_url(dir, "mute");
	nng_socket    mute;
	xsell_client *c;
	void         *reply = NULL;
	size_t        len   = 0;
	uint64_t      t0, dt;

	(void) state;
	assert_int_equal(nng_rep0_open(&mute), 0);
	assert_int_equal(nng_listen(mute, url, NULL, 0), 0);
	assert_xs_ok(xsell_client_dial(&c, url, 5000));
	t0 = now_ms();
	assert_xs_err(
	    xsell_client_call_within(c, "\x80", 1, 300, &reply, &len),
	    XSELL_ENOREPLY);
	dt = now_ms() - t0;
	assert_true(dt >= 250);
	assert_true(dt < 2000);
	assert_null(reply);
	assert_xs_err(
	    xsell_client_call_within(NULL, "\x80", 1, 300, &reply, &len),
	    XSELL_EINVAL);
	xsell_client_close(c);
	nng_close(mute);
	free(url);
	xs_test_rmdir(dir);
}

static void
test_client_dial_round_trip(void **state)
{
	char         *dir = xs_test_tmpdir();
	char         *url = xs_test_ipc_url(dir, "echo");
	struct echo   e;
	xsell_client *c;
	void         *reply;
	size_t        len;

	(void) state;
	echo_start(&e, url);
	assert_xs_ok(xsell_client_dial(&c, url, 2000));
	assert_xs_ok(xsell_client_call(c, "\x81\xa2ok\xc3", 5, &reply, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(reply, "\x81\xa2ok\xc3", 5);
	xsell_client_free(reply);
	xsell_client_close(c);
	echo_stop(&e);
	free(url);
	xs_test_rmdir(dir);
}

static void
test_client_refuses_oversized_request(void **state)
{
	xsell_client *c;
	void         *reply = NULL;
	size_t        len   = 0;
	static char   one   = 0;

	(void) state;
	assert_xs_ok(xsell_client_open(&c, "inproc://xs-big", 100));
	/* The size is checked before anything is read from the buffer. */
	assert_xs_err(xsell_client_call(c, &one,
	                  (size_t) XSELL_CLIENT_REQUEST_MAX + 1, &reply, &len),
	    XSELL_ETOOBIG);
	assert_null(reply);
	xsell_client_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_escapes_strings),
		cmocka_unit_test(test_json_escapes_c1),
		cmocka_unit_test(test_json_nesting_compact),
		cmocka_unit_test(test_json_nesting_pretty),
		cmocka_unit_test(test_json_floats_shortest),
		cmocka_unit_test(test_json_bin_ext_and_keys),
		cmocka_unit_test(test_json_rejects_deep_nesting),
		cmocka_unit_test(test_client_rejects_bad_arguments),
		cmocka_unit_test(test_client_err_from_wire),
		cmocka_unit_test(test_client_unavailable_within_timeout),
		cmocka_unit_test(test_client_round_trip),
		cmocka_unit_test(test_client_shared_by_threads),
		cmocka_unit_test(test_reply_unpack_checks_bytes),
		cmocka_unit_test(test_reply_unpack_all_types),
		cmocka_unit_test(test_reply_unpack_outlives_buffer),
		cmocka_unit_test(test_reply_status),
		cmocka_unit_test(test_client_dial_fails_fast),
		cmocka_unit_test(test_client_silent_peer_times_out),
		cmocka_unit_test(
		    test_client_sent_without_reply_is_outcome_unknown),
		cmocka_unit_test(test_client_call_within_own_timeout),
		cmocka_unit_test(test_client_dial_round_trip),
		cmocka_unit_test(test_client_refuses_oversized_request),
	};

	return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
