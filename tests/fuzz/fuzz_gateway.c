/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the HTTP gateway's request translation: the
 * first byte picks the route (see route_of), the rest is a GET query
 * string for xs_gw_query_to_request or a POST body for
 * xs_gw_json_to_request, as http.c passes them.
 *
 * Besides "never crashes, never leaks", it checks what the two promise
 * http.c (gateway_impl.h, proto/HTTP.md): an accepted request is one
 * msgpack map made of exactly the bytes returned, whose maps have
 * distinct str keys, whose strs are UTF-8 and which holds no bin or ext
 * (JSON has none); with a path op the map starts with "op": that op and
 * holds no other "op"; the op reported is the one the request names; the
 * id kept for the gateway's own replies is the request's id packed as
 * it is in the request; a refusal is bad_request or too_large with a
 * message for the client (UTF-8, as it goes into a JSON reply), and
 * the error reply built from it is one msgpack map. driver.c runs the
 * same function over the corpus in the gcc build. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "gateway/gateway_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what)
{
	fprintf(stderr, "fuzz_gateway: %s\n", what);
	abort();
}

/* The path ops a request may come with: NULL is POST /v1 (the body
 * names its op); a GET always has one (GET /v1 is 405 in http.c). The
 * last is a plausible name that is no op. */
static const char *const path_ops[] = {
	NULL,
	"fbt",
	"complements",
	"similar",
	"history",
	"stats",
	"event",
	"no_such_op",
};
#define N_PATH_OPS (sizeof(path_ops) / sizeof(path_ops[0]))

/* The first byte: bit 0 a GET query (1) or a POST body (0), the next
 * bits the path op. */
static void
route_of(uint8_t b, bool *query, const char **path_op)
{
	*query   = (b & 1) != 0;
	*path_op = path_ops[(b >> 1) % N_PATH_OPS];
	if (*query && *path_op == NULL) {
		*path_op = "fbt";
	}
}

/* Whether s[0..len) is UTF-8 (RFC 3629: no surrogates, no overlong
 * forms, at most U+10FFFF). */
static bool
is_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t        n;
		uint32_t      cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n  = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n  = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n  = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n) {
			return false;
		}
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		i += n + 1;
	}
	return true;
}

static bool
str_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* What JSON can say, and only that: see the header comment. */
static void
check_value(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		if (!is_utf8((const unsigned char *) o->via.str.ptr,
		        o->via.str.size)) {
			broken("a str that is not UTF-8");
		}
		break;
	case MSGPACK_OBJECT_BIN:
	case MSGPACK_OBJECT_EXT:
		broken("bin or ext, which JSON cannot say");
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			check_value(&o->via.array.ptr[i]);
		}
		break;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (k->type != MSGPACK_OBJECT_STR) {
				broken("a map key that is not a str");
			}
			check_value(k);
			for (uint32_t j = 0; j < i; j++) {
				const msgpack_object *e =
				    &o->via.map.ptr[j].key;

				if (e->via.str.size == k->via.str.size &&
				    memcmp(e->via.str.ptr, k->via.str.ptr,
				        k->via.str.size) == 0) {
					broken("a key twice in a map");
				}
			}
			check_value(&o->via.map.ptr[i].val);
		}
		break;
	default:
		break;
	}
}

/* The big-endian unsigned integer of the n bytes at p. */
static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* The length of the msgpack object at the start of b[0..len), 0 if
 * there is none whole. Walked without recursion, by the number of
 * objects still owed, so that any depth is measured: msgpack-c's
 * unpacker stops at 32 levels (MSGPACK_EMBED_STACK_SIZE), a JSON body
 * may nest 2048. */
static size_t
object_len(const uint8_t *b, size_t len)
{
	uint64_t owed = 1;
	size_t   i    = 0;

	while (owed > 0) {
		uint8_t  c;
		size_t   n_len = 0; /* bytes of a length or count after c */
		size_t   extra = 0; /* header bytes after those (ext type) */
		uint64_t body  = 0; /* bytes after the header */
		uint64_t each  = 0; /* objects owed per unit of the count */

		if (i >= len) {
			return 0;
		}
		c = b[i];
		owed--;
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 ||
		    c == 0xc3) {
			/* fixint, nil, bool */
		} else if (c <= 0x8f) {
			owed += 2 * (uint64_t) (c & 0x0f);
		} else if (c <= 0x9f) {
			owed += c & 0x0f;
		} else if (c <= 0xbf) {
			body = c & 0x1f;
		} else if (c == 0xc1) {
			return 0;                    /* never used */
		} else if (c >= 0xc4 && c <= 0xc6) { /* bin 8, 16, 32 */
			n_len = (size_t) 1 << (c - 0xc4);
		} else if (c >= 0xc7 && c <= 0xc9) { /* ext 8, 16, 32 */
			n_len = (size_t) 1 << (c - 0xc7);
			extra = 1;
		} else if (c == 0xca || c == 0xcb) { /* float 32, 64 */
			body = c == 0xca ? 4 : 8;
		} else if (c >= 0xcc && c <= 0xd3) { /* uint, int */
			body = (uint64_t) 1 << ((c - 0xcc) % 4);
		} else if (c >= 0xd4 && c <= 0xd8) { /* fixext */
			body = ((uint64_t) 1 << (c - 0xd4)) + 1;
		} else if (c >= 0xd9 && c <= 0xdb) { /* str 8, 16, 32 */
			n_len = (size_t) 1 << (c - 0xd9);
		} else { /* array 16, 32; map 16, 32 */
			n_len = c == 0xdc || c == 0xde ? 2 : 4;
			each  = c >= 0xde ? 2 : 1;
		}
		if (len - i - 1 < n_len + extra) {
			return 0;
		}
		if (each > 0) {
			owed += each * be(b + i + 1, n_len);
		} else if (n_len > 0) {
			body = be(b + i + 1, n_len);
		}
		i += 1 + n_len + extra;
		if (len - i < body) {
			return 0;
		}
		i += (size_t) body;
	}
	return i;
}

/* buf[0..len) is exactly one msgpack object. Unpacked into 'u' if
 * msgpack-c can (true); false if it nests deeper than msgpack-c
 * unpacks. */
static bool
unpack_one(msgpack_unpacked *u, const void *buf, size_t len, const char *what)
{
	size_t off = 0;
	int    rc;

	if (buf == NULL || len == 0 || object_len(buf, len) != len) {
		broken(what);
	}
	rc = msgpack_unpack_next(u, buf, len, &off);
	if (rc == MSGPACK_UNPACK_NOMEM_ERROR) {
		return false; /* deeper than MSGPACK_EMBED_STACK_SIZE */
	}
	if (rc != MSGPACK_UNPACK_SUCCESS || off != len) {
		broken(what);
	}
	return true;
}

/* The id kept for errors is the request's "id" as packed in it. */
static void
check_id(const struct xs_gw_id *id, const msgpack_object *req)
{
	const msgpack_object *v = NULL;
	msgpack_sbuffer       sb;
	msgpack_packer        pk;

	for (uint32_t i = 0; i < req->via.map.size; i++) {
		if (str_is(&req->via.map.ptr[i].key, "id")) {
			v = &req->via.map.ptr[i].val;
		}
	}
	if (id->buf == NULL) {
		return; /* none, or nested deeper than the wire takes */
	}
	if (v == NULL) {
		broken("an id kept for a request without one");
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_object(&pk, *v) != 0 || sb.size != id->len ||
	    memcmp(sb.data, id->buf, id->len) != 0) {
		broken("the id kept is not the request's");
	}
	msgpack_sbuffer_destroy(&sb);
}

static void
check_request(const void *out, size_t len, const char *path_op,
    enum xs_gw_op op, const struct xs_gw_id *id)
{
	msgpack_unpacked      u;
	msgpack_object        req;
	const msgpack_object *named = NULL;

	msgpack_unpacked_init(&u);
	if (!unpack_one(&u, out, len, "not one msgpack object")) {
		msgpack_unpacked_destroy(&u);
		return; /* too deep for msgpack-c: whole, unchecked */
	}
	req = u.data;
	if (req.type != MSGPACK_OBJECT_MAP) {
		broken("the request is not a map");
	}
	check_value(&req);
	for (uint32_t i = 0; i < req.via.map.size; i++) {
		if (str_is(&req.via.map.ptr[i].key, "op")) {
			if (path_op != NULL && i != 0) {
				broken("an op besides the path's");
			}
			named = &req.via.map.ptr[i].val;
		}
	}
	if (path_op != NULL) {
		if (named == NULL || !str_is(named, path_op)) {
			broken("the path's op is not first");
		}
		if (op != xs_gw_op_find(path_op, strlen(path_op))) {
			broken("op reported is not the path's");
		}
	} else if (named != NULL && named->type == MSGPACK_OBJECT_STR) {
		if (op !=
		    xs_gw_op_find(named->via.str.ptr, named->via.str.size)) {
			broken("op reported is not the body's");
		}
	} else if (op != XS_GW_OP_OTHER) {
		broken("an op reported for a request without one");
	}
	check_id(id, &req);
	msgpack_unpacked_destroy(&u);
}

/* The gateway's own error reply from 'id' and 'msg' (http.c's
 * respond_error). */
static void
check_error_reply(const struct xs_gw_id *id, const char *code, const char *msg)
{
	msgpack_unpacked u;
	msgpack_object   o;
	void            *reply = NULL;
	size_t           len   = 0;

	if (xs_gw_error_reply(id, code, msg, &reply, &len) != XSELL_OK) {
		return; /* out of memory */
	}
	msgpack_unpacked_init(&u);
	if (unpack_one(&u, reply, len, "error reply not one object")) {
		o = u.data;
		if (o.type != MSGPACK_OBJECT_MAP) {
			broken("error reply not a map");
		}
	}
	msgpack_unpacked_destroy(&u);
	free(reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xs_gw_id id      = { NULL, 0 };
	enum xs_gw_op   op      = XS_GW_OP_COUNT;
	void           *out     = NULL;
	size_t          out_len = 0;
	const char     *path_op;
	char           *copy;
	char            msg[256]; /* http.c's */
	bool            query;
	xsell_err       err;

	if (size < 1) {
		return 0;
	}
	route_of(data[0], &query, &path_op);
	/* An exact-size copy, so that ASan sees a read past the end. */
	copy = malloc(size - 1 > 0 ? size - 1 : 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data + 1, size - 1);
	memset(msg, 0xff, sizeof(msg)); /* a message must be written */
	if (query) {
		err = xs_gw_query_to_request(copy, size - 1, path_op, &out,
		    &out_len, &op, &id, msg, sizeof(msg));
	} else {
		err = xs_gw_json_to_request(copy, size - 1, path_op, &out,
		    &out_len, &op, &id, msg, sizeof(msg));
	}
	if (err == XSELL_OK) {
		check_request(out, out_len, path_op, op, &id);
	} else {
		if (out != NULL) {
			broken("output on a refusal");
		}
		if (err != XSELL_EINVAL && err != XSELL_ENOMEM &&
		    !(query && err == XSELL_ETOOBIG)) {
			broken("unexpected error code");
		}
		if (err != XSELL_ENOMEM) {
			if (memchr(msg, '\0', sizeof(msg)) == NULL ||
			    msg[0] == '\0') {
				broken("refusal without a message");
			}
			if (!is_utf8(
			        (const unsigned char *) msg, strlen(msg))) {
				broken("refusal message not UTF-8");
			}
			if (id.buf != NULL) {
				msgpack_unpacked u;

				msgpack_unpacked_init(&u);
				(void) unpack_one(&u, id.buf, id.len,
				    "id of a refusal not one object");
				msgpack_unpacked_destroy(&u);
			}
			check_error_reply(&id,
			    err == XSELL_ETOOBIG ? "too_large" : "bad_request",
			    msg);
		}
	}
	free(id.buf);
	free(out);
	free(copy);
	return 0;
}
