/* SPDX-License-Identifier: MIT */
/* msgpack → JSON text, for `xsell --json` and for people reading replies.
 *
 * The output is always valid JSON, whatever the msgpack held, and every
 * control character in it (C0, DEL, C1) is escaped: bytes that are not
 * well-formed UTF-8 become U+FFFD, NaN and infinities become null,
 * binary becomes hex, non-string keys become strings. Floats are
 * written with the fewest digits that read back to the same double, so
 * 0.1 stays "0.1" rather than %.17g's "0.10000000000000001". */
#include <xsell/client.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

struct jw {
	FILE *out;
	bool  pretty;
	bool  failed;   /* a write to 'out' failed */
	bool  too_deep; /* something below XSELL_JSON_DEPTH_MAX became null */
};

static xsell_err write_value(struct jw *w, const msgpack_object *o, int depth);

/* ==== Output ==== */

static void
put(struct jw *w, const char *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, w->out) != len) {
		w->failed = true;
	}
}

static void
puts_(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void
newline_indent(struct jw *w, int depth)
{
	if (!w->pretty) {
		return;
	}
	put(w, "\n", 1);
	for (int i = 0; i < depth; i++) {
		put(w, "  ", 2);
	}
}

/* ==== Strings ==== */

/* Length of the well-formed UTF-8 sequence at p[0..len) that starts with
 * a byte >= 0x80, or 0 if it is not one (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static size_t
utf8_seq_len(const unsigned char *p, size_t len)
{
	unsigned char b  = p[0];
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
	size_t        n;

	if (b >= 0xc2 && b <= 0xdf) {
		n = 2;
	} else if (b >= 0xe0 && b <= 0xef) {
		n  = 3;
		lo = b == 0xe0 ? 0xa0 : 0x80;
		hi = b == 0xed ? 0x9f : 0xbf;
	} else if (b >= 0xf0 && b <= 0xf4) {
		n  = 4;
		lo = b == 0xf0 ? 0x90 : 0x80;
		hi = b == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (len < n || p[1] < lo || p[1] > hi) {
		return 0;
	}
	for (size_t i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf) {
			return 0;
		}
	}
	return n;
}

/* How the character at p[0..len) is written in a JSON string: returns
 * its length in bytes and sets *ep to the escape standing for it, or to
 * NULL if it is copied as is. 'buf' holds a \uXXXX escape.
 *
 * The C1 controls U+0080..U+009F (UTF-8 c2 80..c2 9f) are valid JSON as
 * they are, but `xsell --json` prints to a terminal, which takes U+009B
 * for CSI (ESC [): so they are escaped like the C0 ones, with the same
 * meaning for a JSON reader. */
static size_t
char_escape(const unsigned char *p, size_t len, char buf[8], const char **ep)
{
	unsigned char b = p[0];
	size_t        n;

	*ep = NULL;
	if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') {
		return 1;
	}
	if (b >= 0x80) {
		n = utf8_seq_len(p, len);
		if (n == 0) {
			*ep = "\\ufffd";
			return 1;
		}
		if (b == 0xc2 && p[1] <= 0x9f) {
			snprintf(buf, 8, "\\u%04x", p[1]);
			*ep = buf;
		}
		return n;
	}
	switch (b) {
	case '"':
		*ep = "\\\"";
		break;
	case '\\':
		*ep = "\\\\";
		break;
	case '\b':
		*ep = "\\b";
		break;
	case '\f':
		*ep = "\\f";
		break;
	case '\n':
		*ep = "\\n";
		break;
	case '\r':
		*ep = "\\r";
		break;
	case '\t':
		*ep = "\\t";
		break;
	default:
		snprintf(buf, 8, "\\u%04x", b);
		*ep = buf;
		break;
	}
	return 1;
}

static void
write_string(struct jw *w, const char *s, size_t len)
{
	const unsigned char *p   = (const unsigned char *) s;
	size_t               run = 0; /* start of bytes not yet written */
	size_t               i   = 0;
	char                 esc[8];

	put(w, "\"", 1);
	while (i < len) {
		const char *e;
		size_t      n = char_escape(p + i, len - i, esc, &e);

		if (e != NULL) {
			put(w, s + run, i - run);
			puts_(w, e);
			run = i + n;
		}
		i += n;
	}
	put(w, s + run, len - run);
	put(w, "\"", 1);
}

static void
write_hex(struct jw *w, const char *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char              pair[2];

	put(w, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char) p[i];

		pair[0] = digits[b >> 4];
		pair[1] = digits[b & 0x0f];
		put(w, pair, 2);
	}
	put(w, "\"", 1);
}

/* ==== Numbers ==== */

/* The shortest %.Ng, N in [lo, hi], that reads back as 'v' ('as_float':
 * compared as a float), plus ".0" if it looks like an integer. */
static void
format_real(char *buf, size_t size, double v, int lo, int hi, bool as_float)
{
	size_t len;

	for (int prec = lo; prec <= hi; prec++) {
		double back;

		snprintf(buf, size, "%.*g", prec, v);
		back = strtod(buf, NULL);
		if (as_float ? (float) back == (float) v : back == v) {
			break;
		}
	}
	if (strpbrk(buf, ".eE") == NULL) {
		len = strlen(buf);
		if (len + 3 <= size) {
			memcpy(buf + len, ".0", 3);
		}
	}
}

static void
write_real(struct jw *w, double v, bool as_float)
{
	char buf[48];

	if (!isfinite(v)) {
		puts_(w, "null");
		return;
	}
	if (as_float) {
		format_real(buf, sizeof(buf), v, 6, 9, true);
	} else {
		format_real(buf, sizeof(buf), v, 15, 17, false);
	}
	puts_(w, buf);
}

/* ==== Containers ==== */

/* A non-string key: its JSON text, as a JSON string. */
static xsell_err
write_key(struct jw *w, const msgpack_object *key, int depth)
{
	struct jw inner;
	char     *text = NULL;
	size_t    len  = 0;
	xsell_err err;

	if (key->type == MSGPACK_OBJECT_STR) {
		write_string(w, key->via.str.ptr, key->via.str.size);
		return XSELL_OK;
	}
	inner.out      = open_memstream(&text, &len);
	inner.pretty   = false;
	inner.failed   = false;
	inner.too_deep = false;
	if (inner.out == NULL) {
		return XSELL_ENOMEM;
	}
	err = write_value(&inner, key, depth);
	if (fclose(inner.out) != 0 || inner.failed) {
		err = err != XSELL_OK ? err : XSELL_ENOMEM;
	}
	w->too_deep = w->too_deep || inner.too_deep;
	if (err == XSELL_OK) {
		write_string(w, text, len);
	}
	free(text);
	return err;
}

static xsell_err
write_map(struct jw *w, const msgpack_object_map *m, int depth)
{
	xsell_err err;

	if (m->size == 0) {
		puts_(w, "{}");
		return XSELL_OK;
	}
	put(w, "{", 1);
	for (uint32_t i = 0; i < m->size; i++) {
		if (i > 0) {
			put(w, ",", 1);
		}
		newline_indent(w, depth + 1);
		err = write_key(w, &m->ptr[i].key, depth + 1);
		if (err != XSELL_OK) {
			return err;
		}
		puts_(w, w->pretty ? ": " : ":");
		err = write_value(w, &m->ptr[i].val, depth + 1);
		if (err != XSELL_OK) {
			return err;
		}
	}
	newline_indent(w, depth);
	put(w, "}", 1);
	return XSELL_OK;
}

static xsell_err
write_array(struct jw *w, const msgpack_object_array *a, int depth)
{
	xsell_err err;

	if (a->size == 0) {
		puts_(w, "[]");
		return XSELL_OK;
	}
	put(w, "[", 1);
	for (uint32_t i = 0; i < a->size; i++) {
		if (i > 0) {
			put(w, ",", 1);
		}
		newline_indent(w, depth + 1);
		err = write_value(w, &a->ptr[i], depth + 1);
		if (err != XSELL_OK) {
			return err;
		}
	}
	newline_indent(w, depth);
	put(w, "]", 1);
	return XSELL_OK;
}

static void
write_ext(struct jw *w, const msgpack_object_ext *x, int depth)
{
	char type[8];

	snprintf(type, sizeof(type), "%d", (int) x->type);
	put(w, "{", 1);
	newline_indent(w, depth + 1);
	puts_(w, w->pretty ? "\"ext\": " : "\"ext\":");
	puts_(w, type);
	put(w, ",", 1);
	newline_indent(w, depth + 1);
	puts_(w, w->pretty ? "\"data\": " : "\"data\":");
	write_hex(w, x->ptr, x->size);
	newline_indent(w, depth);
	put(w, "}", 1);
}

static xsell_err
write_value(struct jw *w, const msgpack_object *o, int depth)
{
	char num[32];

	/* Too deep: write null and carry on, so that the output is still
	 * balanced JSON; the caller gets XSELL_EINVAL at the end. */
	if (depth >= XSELL_JSON_DEPTH_MAX) {
		w->too_deep = true;
		puts_(w, "null");
		return XSELL_OK;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		puts_(w, "null");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		puts_(w, o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(
		    num, sizeof(num), "%llu", (unsigned long long) o->via.u64);
		puts_(w, num);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long) o->via.i64);
		puts_(w, num);
		break;
	case MSGPACK_OBJECT_FLOAT32:
		write_real(w, o->via.f64, true);
		break;
	case MSGPACK_OBJECT_FLOAT64:
		write_real(w, o->via.f64, false);
		break;
	case MSGPACK_OBJECT_STR:
		write_string(w, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		write_hex(w, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		write_ext(w, &o->via.ext, depth);
		break;
	case MSGPACK_OBJECT_ARRAY:
		return write_array(w, &o->via.array, depth);
	case MSGPACK_OBJECT_MAP:
		return write_map(w, &o->via.map, depth);
	default:
		puts_(w, "null");
		break;
	}
	return XSELL_OK;
}

xsell_err
xsell_json_write(FILE *out, const struct msgpack_object *obj, bool pretty)
{
	struct jw w = { out, pretty, false, false };
	xsell_err err;

	if (out == NULL || obj == NULL) {
		return XSELL_EINVAL;
	}
	err = write_value(&w, obj, 0);
	if (err != XSELL_OK) {
		return err;
	}
	put(&w, "\n", 1);
	if (fflush(out) != 0) {
		w.failed = true;
	}
	if (w.failed) {
		return XSELL_EIO;
	}
	return w.too_deep ? XSELL_EINVAL : XSELL_OK;
}
