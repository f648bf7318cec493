/* SPDX-License-Identifier: MIT */
/* Record readers: bytes of a CSV, TSV, JSON-lines or basket file ->
 * records of fields, with the line number each record starts on.
 *
 * One large read buffer per file; a record is parsed in place and, when
 * it runs past the bytes read so far, parsed again after a refill (a
 * record is capped at RECORD_MAX, so this costs little). TSV, basket and
 * unquoted fields are spans into the buffer; CSV fields are copied into a
 * scratch buffer because "" must be unescaped. A malformed record is
 * reported and the reader resumes on the physical line after the one the
 * record started on, so that one stray quote costs one line, not the
 * rest of the file. JSON lines have no header line, so their columns are
 * gathered from the keys of the objects in the first megabyte. */
#include "load/load.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK ((size_t) 1 << 20)
#define RECORD_MAX ((size_t) 1 << 20)

struct xs_load_reader {
	FILE               *f;
	char               *name;
	enum xs_load_format fmt;
	char               *buf; /* bytes [start, end) not consumed yet */
	size_t              cap, start, end;
	bool                eof;
	uint64_t            line; /* physical line of buf[start] */
	uint64_t            base; /* file offset of buf[0] */

	char           *scratch; /* unescaped CSV fields, JSON numbers */
	size_t          scratch_len, scratch_cap;
	size_t         *foff; /* field offsets into scratch while parsing */
	struct xs_span *fields;
	size_t          n_fields, fields_cap;

	char           *hdr_bytes; /* header names, each NUL-terminated */
	struct xs_span *hdr;
	size_t          n_hdr;
	bool           *use; /* per header column; NULL: every column */

	json_t *obj; /* the JSON line whose strings 'fields' borrow */
	char    err[200];
};

/* ==== Buffer ==== */

/* Move what is left to the front and read more. XSELL_EIO on error. */
static xsell_err
fill(xs_load_reader *r)
{
	size_t got;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->base += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	if (r->eof || r->end == r->cap) {
		return XSELL_OK;
	}
	got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
	r->end += got;
	if (got == 0) {
		if (ferror(r->f)) {
			return XSELL_EIO;
		}
		r->eof = true;
	}
	return XSELL_OK;
}

/* Consume through the next newline (or to the end of the file). */
static xsell_err
skip_line(xs_load_reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		xsell_err err;

		if (nl != NULL) {
			r->start = (size_t) (nl - r->buf) + 1;
			r->line++;
			return XSELL_OK;
		}
		r->start = r->end;
		if (r->eof) {
			r->line++;
			return XSELL_OK;
		}
		err = fill(r);
		if (err != XSELL_OK) {
			return err;
		}
	}
}

/* The next physical line in [*pp, *pp + *lenp), without its newline or a
 * trailing CR. XSELL_ENOENT at the end; XSELL_ETOOBIG for a line longer
 * than RECORD_MAX (already skipped). */
static xsell_err
next_line(xs_load_reader *r, const char **pp, size_t *lenp)
{
	for (;;) {
		const char *p     = r->buf + r->start;
		size_t      avail = r->end - r->start;
		const char *nl    = memchr(p, '\n', avail);
		size_t      len;
		xsell_err   err;

		if (nl != NULL || (r->eof && avail > 0)) {
			len = nl != NULL ? (size_t) (nl - p) : avail;
			r->start += len + (nl != NULL);
			r->line++;
			if (len > 0 && p[len - 1] == '\r') {
				len--;
			}
			*pp   = p;
			*lenp = len;
			return XSELL_OK;
		}
		if (r->eof) {
			return XSELL_ENOENT;
		}
		if (avail >= RECORD_MAX) {
			err = skip_line(r);
			return err != XSELL_OK ? err : XSELL_ETOOBIG;
		}
		err = fill(r);
		if (err != XSELL_OK) {
			return err;
		}
	}
}

/* ==== Fields ==== */

static xsell_err
fields_reserve(xs_load_reader *r, size_t n)
{
	if (n > r->fields_cap) {
		size_t          cap = r->fields_cap ? r->fields_cap * 2 : 64;
		struct xs_span *f;
		size_t         *o;

		while (cap < n) {
			cap *= 2;
		}
		f = realloc(r->fields, cap * sizeof(*f));
		if (f == NULL) {
			return XSELL_ENOMEM;
		}
		r->fields = f;
		o         = realloc(r->foff, cap * sizeof(*o));
		if (o == NULL) {
			return XSELL_ENOMEM;
		}
		r->foff       = o;
		r->fields_cap = cap;
	}
	return XSELL_OK;
}

static xsell_err
scratch_reserve(xs_load_reader *r, size_t more)
{
	if (r->scratch_len + more > r->scratch_cap) {
		size_t cap = r->scratch_cap ? r->scratch_cap : 4096;
		char  *s;

		while (cap < r->scratch_len + more) {
			cap *= 2;
		}
		s = realloc(r->scratch, cap);
		if (s == NULL) {
			return XSELL_ENOMEM;
		}
		r->scratch     = s;
		r->scratch_cap = cap;
	}
	return XSELL_OK;
}

/* Split a line at every 'sep' (TSV, baskets): spans into the buffer. */
static xsell_err
split_line(xs_load_reader *r, const char *p, size_t len, char sep)
{
	const char *end = p + len;
	size_t      n   = 0;

	for (;;) {
		const char *s   = memchr(p, sep, (size_t) (end - p));
		xsell_err   err = fields_reserve(r, n + 1);

		if (err != XSELL_OK) {
			return err;
		}
		r->fields[n].p   = p;
		r->fields[n].len = (uint32_t) ((s != NULL ? s : end) - p);
		n++;
		if (s == NULL) {
			break;
		}
		p = s + 1;
	}
	r->n_fields = n;
	return XSELL_OK;
}

/* ==== CSV (RFC 4180) ==== */

enum csv_status { CSV_DONE, CSV_MORE, CSV_BAD };

/* Parse one record at buf[start]. On CSV_DONE *usedp is the bytes it
 * took and *nlp its newlines; on CSV_BAD r->err says why. */
static enum csv_status
csv_parse(xs_load_reader *r, size_t *usedp, uint64_t *nlp)
{
	const char *p   = r->buf + r->start;
	const char *end = r->buf + r->end;
	const char *s   = p;
	uint64_t    nl  = 0;
	size_t      n   = 0;

	r->scratch_len = 0;
	for (;;) {
		if (fields_reserve(r, n + 1) != XSELL_OK ||
		    scratch_reserve(r, (size_t) (end - p)) != XSELL_OK) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			return CSV_BAD;
		}
		r->foff[n] = r->scratch_len;
		if (p < end && *p == '"') {
			p++;
			for (;;) {
				if (p == end) {
					if (!r->eof) {
						return CSV_MORE;
					}
					snprintf(r->err, sizeof(r->err),
					    "unterminated quote");
					return CSV_BAD;
				}
				if (*p == '"') {
					if (p + 1 == end && !r->eof) {
						return CSV_MORE;
					}
					if (p + 1 < end && p[1] == '"') {
						r->scratch[r->scratch_len++] =
						    '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				nl += *p == '\n';
				r->scratch[r->scratch_len++] = *p++;
			}
			if (p < end && *p == '\r' && p + 1 == end && !r->eof) {
				return CSV_MORE;
			}
			/* A CR ends the line before an LF, and at the end of
			 * the file (a last line whose LF was lost). */
			if (p < end && *p == '\r' &&
			    (p + 1 == end || p[1] == '\n')) {
				p++;
			}
			if (p < end && *p != ',' && *p != '\n') {
				snprintf(r->err, sizeof(r->err),
				    "unexpected character after a closing "
				    "quote");
				return CSV_BAD;
			}
			if (p == end && !r->eof) {
				return CSV_MORE;
			}
		} else {
			const char *q = p;

			while (q < end && *q != ',' && *q != '\n') {
				q++;
			}
			if (q == end && !r->eof) {
				return CSV_MORE;
			}
			{
				size_t len = (size_t) (q - p);

				/* A CR before an LF or the file's end. */
				if ((q == end || *q == '\n') && len > 0 &&
				    q[-1] == '\r') {
					len--;
				}
				memcpy(r->scratch + r->scratch_len, p, len);
				r->scratch_len += len;
			}
			p = q;
		}
		r->fields[n].len = (uint32_t) (r->scratch_len - r->foff[n]);
		n++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end) { /* '\n' */
			p++;
		}
		nl++;
		break;
	}
	for (size_t i = 0; i < n; i++) {
		r->fields[i].p = r->scratch + r->foff[i];
	}
	r->n_fields = n;
	*usedp      = (size_t) (p - s);
	*nlp        = nl;
	return CSV_DONE;
}

/* After a bad record: go on from the line after its first line. */
static xsell_err
resync(xs_load_reader *r)
{
	return skip_line(r);
}

static xsell_err
csv_next(xs_load_reader *r, struct xs_load_record *rec)
{
	for (;;) {
		size_t          used;
		uint64_t        nl;
		enum csv_status st;
		xsell_err       err;

		if (r->start == r->end) {
			if (r->eof) {
				return XSELL_ENOENT;
			}
			err = fill(r);
			if (err != XSELL_OK) {
				return err;
			}
			continue;
		}
		rec->line  = r->line;
		rec->error = NULL;
		st         = csv_parse(r, &used, &nl);
		if (st == CSV_MORE) {
			if (r->end - r->start >= RECORD_MAX) {
				snprintf(r->err, sizeof(r->err),
				    "record longer than %zu bytes "
				    "(unterminated quote?)",
				    RECORD_MAX);
				st = CSV_BAD;
			} else {
				err = fill(r);
				if (err != XSELL_OK) {
					return err;
				}
				continue;
			}
		}
		if (st == CSV_BAD) {
			rec->error    = r->err;
			rec->fields   = NULL;
			rec->n_fields = 0;
			return resync(r);
		}
		r->start += used;
		r->line += nl;
		/* A blank line is no record. */
		if (r->n_fields == 1 && r->fields[0].len == 0 && used <= 2) {
			continue;
		}
		rec->fields   = r->fields;
		rec->n_fields = r->n_fields;
		return XSELL_OK;
	}
}

/* ==== TSV and baskets ==== */

static xsell_err
split_next(xs_load_reader *r, struct xs_load_record *rec, char sep)
{
	for (;;) {
		const char *p;
		size_t      len;
		xsell_err   err;

		rec->line  = r->line;
		rec->error = NULL;
		err        = next_line(r, &p, &len);
		if (err == XSELL_ETOOBIG) {
			snprintf(r->err, sizeof(r->err),
			    "line longer than %zu bytes", RECORD_MAX);
			rec->error    = r->err;
			rec->fields   = NULL;
			rec->n_fields = 0;
			return XSELL_OK;
		}
		if (err != XSELL_OK) {
			return err;
		}
		if (len == 0) {
			continue;
		}
		err = split_line(r, p, len, sep);
		if (err != XSELL_OK) {
			return err;
		}
		rec->fields   = r->fields;
		rec->n_fields = r->n_fields;
		return XSELL_OK;
	}
}

/* ==== JSON lines ==== */

/* The value of one key as field i: strings borrowed from r->obj, numbers
 * written into scratch. False (with r->err) for other types. */
static bool
json_field(xs_load_reader *r, size_t i, json_t *v)
{
	char tmp[40];
	int  w = 0;

	r->foff[i] = SIZE_MAX;
	if (v == NULL || json_is_null(v)) {
		r->fields[i].p   = NULL;
		r->fields[i].len = 0;
		return true;
	}
	if (json_is_string(v)) {
		r->fields[i].p   = json_string_value(v);
		r->fields[i].len = (uint32_t) json_string_length(v);
		return true;
	}
	if (json_is_integer(v)) {
		w = snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	} else if (json_is_real(v)) {
		double d = json_real_value(v);

		/* The shortest of 15 or 17 digits that reads back the same:
		 * 2.55, not 2.5499999999999998. */
		w = snprintf(tmp, sizeof(tmp), "%.15g", d);
		if (strtod(tmp, NULL) != d) {
			w = snprintf(tmp, sizeof(tmp), "%.17g", d);
		}
	} else {
		snprintf(r->err, sizeof(r->err),
		    "key \"%.40s\": not a string or a number",
		    (const char *) r->hdr[i].p);
		return false;
	}
	if (scratch_reserve(r, (size_t) w) != XSELL_OK) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return false;
	}
	r->foff[i] = r->scratch_len;
	memcpy(r->scratch + r->scratch_len, tmp, (size_t) w);
	r->scratch_len += (size_t) w;
	r->fields[i].len = (uint32_t) w;
	return true;
}

/* Parse one line as a JSON object; r->err on failure. */
static json_t *
json_line(xs_load_reader *r, const char *p, size_t len)
{
	json_error_t jerr;
	json_t      *o = json_loadb(p, len, 0, &jerr);

	if (o == NULL) {
		snprintf(r->err, sizeof(r->err), "bad JSON: %s (column %d)",
		    jerr.text, jerr.column);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(r->err, sizeof(r->err), "bad JSON: not an object");
		return NULL;
	}
	return o;
}

static xsell_err
jsonl_next(xs_load_reader *r, struct xs_load_record *rec)
{
	for (;;) {
		const char *p;
		size_t      len;
		xsell_err   err;
		bool        ok = true;

		json_decref(r->obj);
		r->obj     = NULL;
		rec->line  = r->line;
		rec->error = NULL;
		err        = next_line(r, &p, &len);
		if (err == XSELL_ETOOBIG) {
			snprintf(r->err, sizeof(r->err),
			    "line longer than %zu bytes", RECORD_MAX);
			rec->error = r->err;
			return XSELL_OK;
		}
		if (err != XSELL_OK) {
			return err;
		}
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len == 0) {
			continue;
		}
		r->obj = json_line(r, p, len);
		if (r->obj == NULL) {
			rec->error = r->err;
			return XSELL_OK;
		}
		err = fields_reserve(r, r->n_hdr);
		if (err != XSELL_OK) {
			return err;
		}
		r->scratch_len = 0;
		for (size_t i = 0; i < r->n_hdr && ok; i++) {
			json_t *v = NULL;

			if (r->use == NULL || r->use[i]) {
				v = json_object_get(
				    r->obj, (const char *) r->hdr[i].p);
			}
			ok = json_field(r, i, v);
		}
		if (!ok) {
			rec->error = r->err;
			return XSELL_OK;
		}
		for (size_t i = 0; i < r->n_hdr; i++) {
			if (r->foff[i] != SIZE_MAX) {
				r->fields[i].p = r->scratch + r->foff[i];
			}
		}
		rec->fields   = r->fields;
		rec->n_fields = r->n_hdr;
		return XSELL_OK;
	}
}

/* ==== Header ==== */

/* Copy 'n' names into the reader, NUL-terminated (JSON keys need it). */
static xsell_err
header_keep(xs_load_reader *r, const struct xs_span *names, size_t n)
{
	size_t total = 0, o = 0;

	for (size_t i = 0; i < n; i++) {
		total += names[i].len + 1;
	}
	r->hdr_bytes = malloc(total + 1);
	r->hdr       = calloc(n + 1, sizeof(*r->hdr));
	if (r->hdr_bytes == NULL || r->hdr == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(r->hdr_bytes + o, names[i].p, names[i].len);
		r->hdr_bytes[o + names[i].len] = '\0';
		r->hdr[i].p                    = r->hdr_bytes + o;
		r->hdr[i].len                  = names[i].len;
		o += names[i].len + 1;
	}
	r->n_hdr = n;
	return XSELL_OK;
}

/* JSON lines: the keys of every object among the lines in the first
 * XS_LOAD_JSONL_SCAN bytes, in order of first appearance. Nothing is
 * consumed: the records are read again from the start. */
static xsell_err
jsonl_header(xs_load_reader *r, char *err, size_t err_len)
{
	json_t     *seen = json_object();
	const char *p    = r->buf + r->start;
	const char *end  = r->buf + r->end;
	const char *stop = p +
	    (r->end - r->start < XS_LOAD_JSONL_SCAN ? r->end - r->start
	                                            : XS_LOAD_JSONL_SCAN);
	struct xs_span *names = NULL;
	size_t          n = 0, cap = 0;
	uint64_t        line = r->line, bad_line = 0;
	char            bad_why[sizeof(r->err)];
	xsell_err       e = XSELL_OK;

	if (seen == NULL) {
		return XSELL_ENOMEM;
	}
	while (p < stop && e == XSELL_OK) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *le = nl != NULL ? nl : end;
		json_t     *o;
		const char *key;
		json_t     *v;

		if (nl == NULL && !r->eof) {
			break; /* a partial line: leave it to the records */
		}
		while (p < le && (*p == ' ' || *p == '\t' || *p == '\r')) {
			p++;
		}
		o = p < le ? json_line(r, p, (size_t) (le - p)) : NULL;
		if (o == NULL && p < le && bad_line == 0) {
			bad_line = line;
			memcpy(bad_why, r->err, sizeof(bad_why));
		}
		json_object_foreach(o, key, v)
		{
			json_t *name;

			if (json_object_get(seen, key) != NULL) {
				continue;
			}
			if (n == cap) {
				struct xs_span *g;

				cap = cap ? cap * 2 : 16;
				g   = realloc(names, cap * sizeof(*g));
				if (g == NULL) {
					e = XSELL_ENOMEM;
					break;
				}
				names = g;
			}
			/* 'seen' holds a reference to a string of the key
			 * itself, so the span outlives 'o'. */
			name = json_string(key);
			if (name == NULL ||
			    json_object_set_new(seen, key, name) != 0) {
				e = XSELL_ENOMEM;
				break;
			}
			names[n].p     = json_string_value(name);
			names[n++].len = (uint32_t) json_string_length(name);
		}
		json_decref(o);
		p = le + (nl != NULL);
		line++;
	}
	if (e == XSELL_OK && n > 0) {
		e = header_keep(r, names, n);
	} else if (e == XSELL_OK && bad_line != 0) {
		snprintf(err, err_len,
		    "%s:%llu: %s (no JSON object to take "
		    "the columns from)",
		    r->name, (unsigned long long) bad_line, bad_why);
		e = XSELL_EINVAL;
	} else if (e == XSELL_OK) {
		snprintf(err, err_len, "%s: %s", r->name,
		    r->start == r->end
		        ? "empty file (a JSON object is needed)"
		        : "no JSON object in its first line(s)");
		e = XSELL_EINVAL;
	}
	free(names);
	json_decref(seen);
	return e;
}

static xsell_err
header_read(xs_load_reader *r, char *err, size_t err_len)
{
	struct xs_load_record rec;
	xsell_err             e;

	if (r->fmt == XS_LOAD_BASKETS) {
		return XSELL_OK;
	}
	if (r->fmt == XS_LOAD_JSONL) {
		return jsonl_header(r, err, err_len);
	}
	e = r->fmt == XS_LOAD_CSV   ? csv_next(r, &rec)
	    : r->fmt == XS_LOAD_SSV ? split_next(r, &rec, ';')
	                            : split_next(r, &rec, '\t');
	if (e == XSELL_OK && rec.error != NULL) {
		snprintf(err, err_len, "%s:%llu: header: %s", r->name,
		    (unsigned long long) rec.line, rec.error);
		return XSELL_EINVAL;
	}
	if (e == XSELL_OK) {
		return header_keep(r, rec.fields, rec.n_fields);
	}
	if (e == XSELL_ENOENT) {
		snprintf(err, err_len, "%s: empty file (a header is needed)",
		    r->name);
		return XSELL_EINVAL;
	}
	snprintf(err, err_len, "%s: %s", r->name, xsell_strerror(e));
	return e;
}

/* ==== API ==== */

xsell_err
xs_load_reader_open(xs_load_reader **rp, FILE *f, const char *name,
    enum xs_load_format fmt, char *err, size_t err_len)
{
	xs_load_reader *r = calloc(1, sizeof(*r));
	xsell_err       e;

	if (r == NULL) {
		return XSELL_ENOMEM;
	}
	r->f    = f;
	r->fmt  = fmt;
	r->line = 1;
	r->cap  = RECORD_MAX + READ_CHUNK;
	r->name = strdup(name);
	r->buf  = malloc(r->cap);
	if (r->name == NULL || r->buf == NULL) {
		e = XSELL_ENOMEM;
		goto fail;
	}
	e = fill(r);
	if (e != XSELL_OK) {
		snprintf(err, err_len, "%s: read error", name);
		goto fail;
	}
	if (r->end >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) {
		r->start = 3; /* a UTF-8 byte order mark */
	}
	e = header_read(r, err, err_len);
	if (e != XSELL_OK) {
		goto fail;
	}
	*rp = r;
	return XSELL_OK;
fail:
	xs_load_reader_close(r);
	return e;
}

void
xs_load_reader_close(xs_load_reader *r)
{
	if (r == NULL) {
		return;
	}
	json_decref(r->obj);
	free(r->name);
	free(r->buf);
	free(r->scratch);
	free(r->foff);
	free(r->fields);
	free(r->hdr_bytes);
	free(r->hdr);
	free(r->use);
	free(r);
}

void
xs_load_reader_header(
    const xs_load_reader *r, const struct xs_span **fields, size_t *np)
{
	*fields = r->hdr;
	*np     = r->n_hdr;
}

void
xs_load_reader_use(xs_load_reader *r, const struct xs_load_cols *cols)
{
	free(r->use);
	r->use = calloc(r->n_hdr + 1, sizeof(*r->use));
	if (r->use == NULL) {
		return; /* every column is read: slower, same records */
	}
	for (int i = 0; i < XS_ROLE_COUNT; i++) {
		if (cols->col[i] >= 0 && (size_t) cols->col[i] < r->n_hdr) {
			r->use[cols->col[i]] = true;
		}
	}
}

uint64_t
xs_load_reader_offset(const xs_load_reader *r)
{
	return r->base + r->start;
}

xsell_err
xs_load_reader_next(xs_load_reader *r, struct xs_load_record *rec)
{
	switch (r->fmt) {
	case XS_LOAD_CSV:
		return csv_next(r, rec);
	case XS_LOAD_TSV:
		return split_next(r, rec, '\t');
	case XS_LOAD_SSV:
		return split_next(r, rec, ';');
	case XS_LOAD_BASKETS:
		return split_next(r, rec, ',');
	case XS_LOAD_JSONL:
		return jsonl_next(r, rec);
	default:
		return XSELL_EINVAL;
	}
}
