/* SPDX-License-Identifier: MIT */
/* JSON request body -> msgpack request map, with jansson.
 *
 * jansson (Debian's libjansson, already what xsell-load reads JSONL with)
 * parses with a fixed depth limit of 2048, refuses NUL in strings and,
 * with JSON_REJECT_DUPLICATES, duplicate keys, as the wire does. The
 * translation is literal: no field is checked here, so that xselld alone
 * decides what a request means and both wires answer alike. The request's
 * id is packed on its own too, for the replies the gateway makes itself
 * (xs_gw_error_reply, with the same packer), which echo it as xselld's
 * do. */
#include "gateway/gateway_impl.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include <xsell/limits.h>

#include "common/common.h"

/* An sbuffer that remembers a failed write: msgpack-c's packer ignores
 * the writer's -1 and carries on, which would leave a hole. */
struct sink {
	msgpack_sbuffer sb;
	bool            failed;
};

static int
sink_write(void *data, const char *buf, size_t len)
{
	struct sink *s = data;

	if (msgpack_sbuffer_write(&s->sb, buf, len) != 0) {
		s->failed = true;
		return -1;
	}
	return 0;
}

static void
pack_value(msgpack_packer *pk, json_t *j)
{
	const char *key;
	json_t     *v;
	size_t      i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach(j, key, v)
		{
			msgpack_pack_str_with_body(pk, key, strlen(key));
			pack_value(pk, v);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
		{
			pack_value(pk, v);
		}
		break;
	case JSON_STRING:
		msgpack_pack_str_with_body(
		    pk, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		if (json_integer_value(j) < 0) {
			msgpack_pack_int64(pk, json_integer_value(j));
		} else {
			msgpack_pack_uint64(
			    pk, (uint64_t) json_integer_value(j));
		}
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_NULL:
	default:
		msgpack_pack_nil(pk);
		break;
	}
}

/* Start packing into an empty sink. */
static void
sink_open(struct sink *sink, msgpack_packer *pk)
{
	msgpack_sbuffer_init(&sink->sb);
	sink->failed = false;
	msgpack_packer_init(pk, sink, sink_write);
}

/* Hand the packed bytes to the caller, or free them if a write failed. */
static xsell_err
sink_close(struct sink *sink, void **outp, size_t *out_lenp)
{
	if (sink->failed || sink->sb.data == NULL) {
		msgpack_sbuffer_destroy(&sink->sb);
		return XSELL_ENOMEM;
	}
	*outp     = sink->sb.data;
	*out_lenp = sink->sb.size;
	return XSELL_OK;
}

/* How deep 'j' nests below itself (0 for a scalar), counted up to
 * 'max' + 1 at most: a JSON body may nest 2048 deep. */
static int
nesting(json_t *j, int max)
{
	const char *key;
	json_t     *v;
	size_t      i;
	int         deepest = 0;

	if (max < 0) {
		return 0;
	}
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
		{
			int d = nesting(v, max - 1);

			deepest = d > deepest ? d : deepest;
		}
		return 1 + deepest;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			int d = nesting(v, max - 1);

			deepest = d > deepest ? d : deepest;
		}
		return 1 + deepest;
	}
	return 0;
}

void
xs_gw_id_of(struct json_t *obj, struct xs_gw_id *id)
{
	json_t        *v = json_object_get(obj, "id");
	struct sink    sink;
	msgpack_packer pk;

	id->buf = NULL;
	id->len = 0;
	/* The request map is level 1 of XSELL_DEPTH_MAX, the id's value 2. */
	if (v == NULL || nesting(v, XSELL_DEPTH_MAX) > XSELL_DEPTH_MAX - 1) {
		return;
	}
	sink_open(&sink, &pk);
	pack_value(&pk, v);
	if (sink_close(&sink, &id->buf, &id->len) != XSELL_OK) {
		id->buf = NULL;
		id->len = 0;
	}
}

static void
pack_string(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

xsell_err
xs_gw_error_reply(const struct xs_gw_id *id, const char *code, const char *msg,
    void **outp, size_t *out_lenp)
{
	struct sink    sink;
	msgpack_packer pk;
	bool           has_id = id != NULL && id->buf != NULL;

	sink_open(&sink, &pk);
	msgpack_pack_map(&pk, has_id ? 3 : 2);
	pack_string(&pk, "ok");
	msgpack_pack_false(&pk);
	if (has_id) {
		pack_string(&pk, "id");
		/* Packed already: its bytes as they are (a failed write is
		 * remembered by the sink). */
		(void) sink_write(&sink, id->buf, id->len);
	}
	pack_string(&pk, "error");
	msgpack_pack_map(&pk, 2);
	pack_string(&pk, "code");
	pack_string(&pk, code);
	pack_string(&pk, "message");
	pack_string(&pk, msg);
	return sink_close(&sink, outp, out_lenp);
}

/* Drop from the C string s each byte that is not part of a whole UTF-8
 * character, in place. jansson's error text quotes the input up to the
 * byte where it stopped, which may be the first byte of a character
 * (a body "\u00é" gives "invalid escape near '"\u00' and é's first
 * byte): the message goes to the client in a JSON reply, as UTF-8. */
static void
utf8_whole(char *s)
{
	size_t len = strlen(s);
	size_t out = 0;
	size_t i   = 0;

	while (i < len) {
		size_t n = 1;

		while (n <= 4 && n <= len - i && !xs_utf8_is_valid(s + i, n)) {
			n++;
		}
		if (n <= 4 && n <= len - i) {
			memmove(s + out, s + i, n);
			out += n;
		} else {
			n = 1; /* dropped */
		}
		i += n;
	}
	s[out] = '\0';
}

/* The root object, or NULL with a message. */
static json_t *
parse_body(const char *body, size_t len, char *msg, size_t msg_len)
{
	json_error_t jerr;
	json_t      *root;

	if (len == 0) {
		return json_object();
	}
	root = json_loadb(
	    body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		utf8_whole(jerr.text);
		snprintf(msg, msg_len,
		    "body: not valid JSON (line %d, column %d): %s", jerr.line,
		    jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(msg, msg_len, "body: must be a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

xsell_err
xs_gw_object_to_request(struct json_t *root, const char *path_op, void **outp,
    size_t *out_lenp, enum xs_gw_op *opp, struct xs_gw_id *idp, char *msg,
    size_t msg_len)
{
	struct sink    sink;
	msgpack_packer pk;
	json_t        *op;
	const char    *key;
	json_t        *v;
	size_t         n;

	if (idp != NULL) {
		xs_gw_id_of(root, idp);
	}
	op = json_object_get(root, "op");
	if (path_op != NULL && op != NULL &&
	    (!json_is_string(op) ||
	        strcmp(json_string_value(op), path_op) != 0)) {
		snprintf(msg, msg_len,
		    "op: the body names another op than the path");
		return XSELL_EINVAL;
	}
	sink_open(&sink, &pk);
	n = json_object_size(root);
	if (path_op != NULL) {
		/* "op" first, then the body without its own "op". */
		msgpack_pack_map(&pk, n + (op == NULL ? 1 : 0));
		msgpack_pack_str_with_body(&pk, "op", 2);
		msgpack_pack_str_with_body(&pk, path_op, strlen(path_op));
		json_object_foreach(root, key, v)
		{
			if (strcmp(key, "op") != 0) {
				msgpack_pack_str_with_body(
				    &pk, key, strlen(key));
				pack_value(&pk, v);
			}
		}
		*opp = xs_gw_op_find(path_op, strlen(path_op));
	} else {
		pack_value(&pk, root);
		*opp = json_is_string(op)
		    ? xs_gw_op_find(
		          json_string_value(op), json_string_length(op))
		    : XS_GW_OP_OTHER;
	}
	return sink_close(&sink, outp, out_lenp);
}

xsell_err
xs_gw_json_to_request(const char *body, size_t len, const char *path_op,
    void **outp, size_t *out_lenp, enum xs_gw_op *opp, struct xs_gw_id *idp,
    char *msg, size_t msg_len)
{
	json_t   *root = parse_body(body, len, msg, msg_len);
	xsell_err err;

	if (root == NULL) {
		if (idp != NULL) {
			idp->buf = NULL;
			idp->len = 0;
		}
		return XSELL_EINVAL;
	}
	err = xs_gw_object_to_request(
	    root, path_op, outp, out_lenp, opp, idp, msg, msg_len);
	json_decref(root);
	return err;
}
