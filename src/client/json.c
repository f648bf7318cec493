/* SPDX-License-Identifier: MIT */
/* msgpack → JSON, for the CLI's --json and for people reading replies.
 *
 * A recursive walk over a msgpack_object, written straight to a FILE.
 * JSON has no binary, extension or non-string keys, so those get a fixed
 * textual form (documented in client.h); invalid UTF-8 becomes U+FFFD
 * rather than producing a file a JSON parser rejects. */
#include <xsell/client.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#define JSON_DEPTH_MAX 64

struct jw {
	FILE *out;
	bool  pretty;
	bool  too_deep; /* nesting passed JSON_DEPTH_MAX */
};

static void write_obj(struct jw *w, const msgpack_object *o, int depth);

/* ==== Strings ==== */

/* Length of the well-formed UTF-8 sequence at p[0..n), or 0 if the bytes
 * there are not one (overlong forms, surrogates and values past U+10FFFF
 * are rejected). */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	size_t   len;
	uint32_t cp;
	uint32_t min;

	if (p[0] < 0x80) {
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp  = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp  = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp  = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n) {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return 0;
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		return 0;
	}
	return len;
}

static void
write_str(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t               i = 0;

	fputc('"', out);
	while (i < n) {
		unsigned char ch = p[i];
		size_t        len;

		switch (ch) {
		case '"':
			fputs("\\\"", out);
			i++;
			continue;
		case '\\':
			fputs("\\\\", out);
			i++;
			continue;
		case '\b':
			fputs("\\b", out);
			i++;
			continue;
		case '\f':
			fputs("\\f", out);
			i++;
			continue;
		case '\n':
			fputs("\\n", out);
			i++;
			continue;
		case '\r':
			fputs("\\r", out);
			i++;
			continue;
		case '\t':
			fputs("\\t", out);
			i++;
			continue;
		default:
			break;
		}
		if (ch < 0x20 || ch == 0x7f) {
			fprintf(out, "\\u%04x", (unsigned) ch);
			i++;
			continue;
		}
		len = utf8_seq_len(p + i, n - i);
		if (len == 0) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		fwrite(p + i, 1, len, out);
		i += len;
	}
	fputc('"', out);
}

static void
write_hex(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;

	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%02x", (unsigned) p[i]);
	}
	fputc('"', out);
}

/* ==== Numbers ==== */

/* Shortest %g form that reads back as the same value: scores like 0.1
 * print as 0.1, not 0.10000000000000001. A trailing ".0" keeps an
 * integral float recognisable as a float. */
static void
write_double(FILE *out, double d, bool is_float32)
{
	char buf[40];
	int  prec;

	if (!isfinite(d)) {
		fputs("null", out);
		return;
	}
	if (is_float32) {
		for (prec = 6; prec < 9; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, d);
			if (strtof(buf, NULL) == (float) d) {
				break;
			}
		}
	} else {
		for (prec = 15; prec < 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, d);
			if (strtod(buf, NULL) == d) {
				break;
			}
		}
	}
	snprintf(buf, sizeof(buf), "%.*g", prec, d);
	fputs(buf, out);
	if (strpbrk(buf, ".e") == NULL) {
		fputs(".0", out);
	}
}

/* ==== Containers ==== */

static void
newline(struct jw *w, int depth)
{
	if (!w->pretty) {
		return;
	}
	fputc('\n', w->out);
	for (int i = 0; i < depth; i++) {
		fputs("  ", w->out);
	}
}

/* JSON keys must be strings: other keys are written as the string of
 * their compact JSON text (1 → "1", nil → "null"). */
static void
write_key(struct jw *w, const msgpack_object *k, int depth)
{
	struct jw kw;
	char     *text = NULL;
	size_t    len  = 0;
	FILE     *mem;

	if (k->type == MSGPACK_OBJECT_STR) {
		write_str(w->out, k->via.str.ptr, k->via.str.size);
		return;
	}
	mem = open_memstream(&text, &len);
	if (mem == NULL) {
		fputs("\"?\"", w->out);
		return;
	}
	kw.out      = mem;
	kw.pretty   = false;
	kw.too_deep = false;
	write_obj(&kw, k, depth);
	if (kw.too_deep) {
		w->too_deep = true;
	}
	if (fclose(mem) != 0 || text == NULL) {
		fputs("\"?\"", w->out);
	} else {
		write_str(w->out, text, len);
	}
	free(text);
}

static void
write_map(struct jw *w, const msgpack_object_map *m, int depth)
{
	if (m->size == 0) {
		fputs("{}", w->out);
		return;
	}
	fputc('{', w->out);
	for (uint32_t i = 0; i < m->size; i++) {
		if (i > 0) {
			fputc(',', w->out);
		}
		newline(w, depth + 1);
		write_key(w, &m->ptr[i].key, depth + 1);
		fputs(w->pretty ? ": " : ":", w->out);
		write_obj(w, &m->ptr[i].val, depth + 1);
	}
	newline(w, depth);
	fputc('}', w->out);
}

static void
write_array(struct jw *w, const msgpack_object_array *a, int depth)
{
	if (a->size == 0) {
		fputs("[]", w->out);
		return;
	}
	fputc('[', w->out);
	for (uint32_t i = 0; i < a->size; i++) {
		if (i > 0) {
			fputc(',', w->out);
		}
		newline(w, depth + 1);
		write_obj(w, &a->ptr[i], depth + 1);
	}
	newline(w, depth);
	fputc(']', w->out);
}

static void
write_obj(struct jw *w, const msgpack_object *o, int depth)
{
	if (depth >= JSON_DEPTH_MAX) {
		/* Keep the output parseable; report the error. */
		w->too_deep = true;
		fputs("null", w->out);
		return;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", w->out);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", w->out);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(w->out, "%llu", (unsigned long long) o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(w->out, "%lld", (long long) o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
		write_double(w->out, o->via.f64, true);
		break;
	case MSGPACK_OBJECT_FLOAT64:
		write_double(w->out, o->via.f64, false);
		break;
	case MSGPACK_OBJECT_STR:
		write_str(w->out, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		write_hex(w->out, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		fprintf(w->out,
		    w->pretty ? "{\"ext\": %d, \"data\": "
		              : "{\"ext\":%d,\"data\":",
		    (int) o->via.ext.type);
		write_hex(w->out, o->via.ext.ptr, o->via.ext.size);
		fputc('}', w->out);
		break;
	case MSGPACK_OBJECT_ARRAY:
		write_array(w, &o->via.array, depth);
		break;
	case MSGPACK_OBJECT_MAP:
		write_map(w, &o->via.map, depth);
		break;
	default:
		fputs("null", w->out);
		break;
	}
}

xsell_err
xsell_json_write(FILE *out, const struct msgpack_object *obj, bool pretty)
{
	struct jw w;

	if (out == NULL || obj == NULL) {
		return XSELL_EINVAL;
	}
	w.out      = out;
	w.pretty   = pretty;
	w.too_deep = false;
	write_obj(&w, obj, 0);
	fputc('\n', out);
	if (ferror(out)) {
		return XSELL_EIO;
	}
	return w.too_deep ? XSELL_EINVAL : XSELL_OK;
}
