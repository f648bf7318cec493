/* SPDX-License-Identifier: MIT */
/* GET /v1/<op>?QUERY -> the JSON object its POST body would be, then the
 * POST path's packing (xs_gw_object_to_request), so that a GET and a
 * POST of the same fields are the same msgpack request and get the same
 * answer from xselld. proto/HTTP.md ("GET") is the contract.
 *
 * A query string has no types, so the few fields whose type the text
 * cannot tell are named here: lists (one element per occurrence of the
 * name, so that ids may hold any byte, a comma included) and strings
 * (ids and names that may look like numbers: user=123, category=true).
 * Every other value is typed by its text, as JSON would read it. No
 * field is checked here beyond that: xselld decides what is valid. */
#include "gateway/gateway_impl.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Fields that are arrays of strings (ids or category names). */
static const char *const list_fields[] = {
	"items",
	"context",
	"candidates",
	"filter.exclude",
	"filter.categories",
	"filter.exclude_categories",
};

/* Fields that are always strings, whatever their text looks like. */
static const char *const string_fields[] = {
	"user",
	"category",
	"scorer",
	"signal",
	"kind",
	"id",
};

/* Longest piece of a parameter's name quoted in a message. */
#define NAME_QUOTE_MAX 64

static bool
name_in(const char *const *set, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(set[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* How many bytes of the UTF-8 'name' to quote: at most NAME_QUOTE_MAX,
 * cut before a character, never inside one (messages are JSON). */
static int
quote_len(const char *name)
{
	size_t n = strlen(name);

	if (n <= NAME_QUOTE_MAX) {
		return (int) n;
	}
	n = NAME_QUOTE_MAX;
	while (n > 0 && ((unsigned char) name[n] & 0xc0) == 0x80) {
		n--;
	}
	return (int) n;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Decode s[0..len) into out (room for len + 1 bytes, NUL-terminated):
 * %XX is the byte XX, '+' a space (HTML form encoding, what
 * URLSearchParams and urlencode write). False at a '%' without two hex
 * digits, its offset in *bad. */
static bool
pct_decode(const char *s, size_t len, char *out, size_t *out_len, size_t *bad)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi = len - i >= 3 ? hex_digit(s[i + 1]) : -1;
			int lo = len - i >= 3 ? hex_digit(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				*bad = i;
				return false;
			}
			/* A byte past 0x7f becomes a negative char, as
			 * gcc and clang define it: the bytes are kept. */
			// NOLINTNEXTLINE(bugprone-narrowing-conversions)
			out[n++] = (char) (hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+') {
			out[n++] = ' ';
		} else {
			out[n++] = s[i];
		}
	}
	out[n]   = '\0';
	*out_len = n;
	return true;
}

/* Whether s[0..len) is a number by JSON's grammar:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
is_json_number(const char *s, size_t len)
{
	size_t i = 0;
	size_t d;

	if (i < len && s[i] == '-') {
		i++;
	}
	if (i < len && s[i] == '0') {
		i++;
	} else {
		for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) { }
		if (i == d) {
			return false;
		}
	}
	if (i < len && s[i] == '.') {
		for (d = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++) { }
		if (i == d) {
			return false;
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			i++;
		}
		for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) { }
		if (i == d) {
			return false;
		}
	}
	return i == len;
}

/* The JSON value of the scalar parameter 'name' with text v[0..len);
 * NULL with a message. */
static json_t *
scalar_value(
    const char *name, const char *v, size_t len, char *msg, size_t msg_len)
{
	json_error_t jerr;
	json_t      *val;

	if (name_in(string_fields,
	        sizeof(string_fields) / sizeof(string_fields[0]), name)) {
		val = NULL; /* a string, below */
	} else if (len == 4 && memcmp(v, "true", 4) == 0) {
		return json_true();
	} else if (len == 5 && memcmp(v, "false", 5) == 0) {
		return json_false();
	} else if (is_json_number(v, len)) {
		/* jansson reads it as the POST body's parser would: an
		 * integer without '.' or exponent, else a double. */
		val = json_loadb(v, len, JSON_DECODE_ANY, &jerr);
		if (val == NULL) {
			snprintf(msg, msg_len, "%.*s: number out of range",
			    quote_len(name), name);
		}
		return val;
	}
	val = json_stringn(v, len);
	if (val == NULL) {
		snprintf(msg, msg_len,
		    "%.*s: not valid UTF-8 after percent-decoding",
		    quote_len(name), name);
	}
	return val;
}

/* The map that 'name' ("field" or "map.field") goes in, and the field's
 * name in *keyp (pointing into 'name', whose '.' becomes a NUL); NULL
 * with a message. */
static json_t *
container_of(
    json_t *root, char *name, const char **keyp, char *msg, size_t msg_len)
{
	char   *dot = strchr(name, '.');
	json_t *map;

	if (dot == NULL) {
		*keyp = name;
		return root;
	}
	if (dot == name || dot[1] == '\0' || strchr(dot + 1, '.') != NULL) {
		snprintf(msg, msg_len,
		    "%.*s: a parameter is a field or map.field "
		    "(filter.in_stock)",
		    quote_len(name), name);
		return NULL;
	}
	*dot = '\0';
	map  = json_object_get(root, name);
	if (map == NULL) {
		map = json_object();
		if (map == NULL || json_object_set_new(root, name, map) != 0) {
			snprintf(msg, msg_len, "out of memory");
			return NULL;
		}
	} else if (!json_is_object(map)) {
		snprintf(msg, msg_len,
		    "%.*s: given both as a value and as %.*s.field",
		    quote_len(name), name, quote_len(name), name);
		return NULL;
	}
	*dot  = '.';
	*keyp = dot + 1;
	return map;
}

/* Add the decoded parameter name=v[0..len) to 'root'. */
static xsell_err
param_add(json_t *root, char *name, const char *v, size_t len, char *msg,
    size_t msg_len)
{
	bool list = name_in(
	    list_fields, sizeof(list_fields) / sizeof(list_fields[0]), name);
	const char *key;
	json_t     *map;
	json_t     *have;
	json_t     *val;

	map = container_of(root, name, &key, msg, msg_len);
	if (map == NULL) {
		return XSELL_EINVAL;
	}
	have = json_object_get(map, key);
	if (have != NULL && (!list || !json_is_array(have))) {
		if (json_is_object(have)) {
			snprintf(msg, msg_len,
			    "%.*s: given both as a value and as %.*s.field",
			    quote_len(name), name, quote_len(name), name);
		} else {
			snprintf(msg, msg_len,
			    "%.*s: given more than once (only the list "
			    "fields repeat: items, context, candidates, "
			    "filter.exclude, filter.categories, "
			    "filter.exclude_categories)",
			    quote_len(name), name);
		}
		return XSELL_EINVAL;
	}
	if (list) {
		val = json_stringn(v, len);
		if (val == NULL) {
			snprintf(msg, msg_len,
			    "%.*s: not valid UTF-8 after percent-decoding",
			    quote_len(name), name);
			return XSELL_EINVAL;
		}
		if (have == NULL) {
			have = json_array();
			if (have == NULL ||
			    json_object_set_new(map, key, have) != 0) {
				json_decref(val);
				return XSELL_ENOMEM;
			}
		}
		return json_array_append_new(have, val) == 0 ? XSELL_OK
		                                             : XSELL_ENOMEM;
	}
	val = scalar_value(name, v, len, msg, msg_len);
	if (val == NULL) {
		return XSELL_EINVAL;
	}
	return json_object_set_new(map, key, val) == 0 ? XSELL_OK
	                                               : XSELL_ENOMEM;
}

/* Decode one "name=value" piece q[0..len) (at byte 'at' of the query)
 * and add it to 'root'. 'buf' holds len + 2 bytes. */
static xsell_err
piece_add(json_t *root, const char *q, size_t len, size_t at, char *buf,
    char *msg, size_t msg_len)
{
	const char *eq = memchr(q, '=', len);
	size_t      nlen, vlen, bad;
	char       *value;
	json_t     *check;

	if (eq == NULL) {
		snprintf(msg, msg_len,
		    "query: the parameter at byte %zu has no '=' and value",
		    at);
		return XSELL_EINVAL;
	}
	if (!pct_decode(q, (size_t) (eq - q), buf, &nlen, &bad)) {
		snprintf(msg, msg_len,
		    "query: bad percent-encoding at byte %zu ('%%' takes two "
		    "hex digits)",
		    at + bad);
		return XSELL_EINVAL;
	}
	value = buf + nlen + 1;
	if (!pct_decode(
	        eq + 1, len - (size_t) (eq + 1 - q), value, &vlen, &bad)) {
		snprintf(msg, msg_len,
		    "query: bad percent-encoding at byte %zu ('%%' takes two "
		    "hex digits)",
		    at + (size_t) (eq + 1 - q) + bad);
		return XSELL_EINVAL;
	}
	/* A name is a map key: UTF-8 without NUL, as in a JSON body. */
	check =
	    nlen > 0 && strlen(buf) == nlen ? json_stringn(buf, nlen) : NULL;
	if (check == NULL) {
		snprintf(msg, msg_len,
		    "query: the parameter at byte %zu has an empty name, a "
		    "NUL or invalid UTF-8 in it",
		    at);
		return XSELL_EINVAL;
	}
	json_decref(check);
	if (memchr(value, '\0', vlen) != NULL) {
		snprintf(msg, msg_len, "%.*s: a NUL byte (%%00) in the value",
		    quote_len(buf), buf);
		return XSELL_EINVAL;
	}
	return param_add(root, buf, value, vlen, msg, msg_len);
}

/* The JSON object of query q[0..len); NULL with *errp and a message,
 * and in *idp (if not NULL) the id of the parameters read before the
 * refused one. */
static json_t *
query_object(const char *q, size_t len, xsell_err *errp, struct xs_gw_id *idp,
    char *msg, size_t msg_len)
{
	char    buf[XS_GW_QUERY_MAX + 2];
	json_t *root = json_object();
	size_t  pos  = 0;
	size_t  n    = 0;

	*errp = XSELL_ENOMEM;
	while (root != NULL && pos < len) {
		const char *amp = memchr(q + pos, '&', len - pos);
		size_t      end = amp != NULL ? (size_t) (amp - q) : len;

		if (end > pos && ++n > XS_GW_QUERY_PARAMS_MAX) {
			snprintf(msg, msg_len,
			    "query: more than %d parameters; POST the "
			    "request as a JSON body",
			    XS_GW_QUERY_PARAMS_MAX);
			*errp = XSELL_ETOOBIG;
			if (idp != NULL) {
				xs_gw_id_of(root, idp);
			}
			json_decref(root);
			return NULL;
		}
		if (end > pos) { /* empty pieces ("a=1&&b=2") are skipped */
			*errp = piece_add(
			    root, q + pos, end - pos, pos, buf, msg, msg_len);
			if (*errp != XSELL_OK) {
				if (idp != NULL) {
					xs_gw_id_of(root, idp);
				}
				json_decref(root);
				return NULL;
			}
		}
		pos = end + 1;
	}
	return root;
}

xsell_err
xs_gw_query_to_request(const char *q, size_t len, const char *path_op,
    void **outp, size_t *out_lenp, enum xs_gw_op *opp, struct xs_gw_id *idp,
    char *msg, size_t msg_len)
{
	json_t   *root;
	xsell_err err;

	if (idp != NULL) {
		idp->buf = NULL;
		idp->len = 0;
	}
	if (len > XS_GW_QUERY_MAX) {
		snprintf(msg, msg_len,
		    "query: %zu bytes, more than the %d a GET takes; POST "
		    "the request as a JSON body",
		    len, XS_GW_QUERY_MAX);
		return XSELL_ETOOBIG;
	}
	root = query_object(q, len, &err, idp, msg, msg_len);
	if (root == NULL) {
		return err;
	}
	err = xs_gw_object_to_request(
	    root, path_op, outp, out_lenp, opp, idp, msg, msg_len);
	json_decref(root);
	return err;
}
