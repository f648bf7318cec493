/* SPDX-License-Identifier: MIT */
/* The loader's reading half: record readers (CSV quoting, TSV, JSON
 * lines, baskets), column roles, timestamps and line validation. Inputs
 * are small in-memory files (fmemopen); every expected value is worked
 * out by hand in the comments. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

/* ==== Helpers ==== */

static FILE *
mem(const char *text)
{
	FILE *f = fmemopen((void *) text, strlen(text), "r");

	assert_non_null(f);
	return f;
}

/* A loader that has read 'text' as the file 'name' (format 'fmt',
 * columns 'm' or NULL, 'now' for relative times, the file's counts in
 * *fc when not NULL). Fails the test, with the loader's message, if the
 * read fails. */
static xs_loader *
loaded(const char *name, const char *text, enum xs_load_format fmt,
    const struct xs_load_map *m, int64_t now, struct xs_load_counts *fc)
{
	xs_loader *l;
	char       err[200];
	FILE      *f = mem(text);

	assert_xs_ok(xs_loader_alloc(&l));
	if (xs_loader_read(l, name, f, fmt, m, now, fc, err, sizeof(err)) !=
	    XSELL_OK) {
		fail_msg("%s", err);
	}
	fclose(f);
	return l;
}

static void
assert_span(struct xs_span s, const char *want)
{
	assert_non_null(s.p);
	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0) {
		fail_msg(
		    "field \"%.*s\", want \"%s\"", (int) s.len, s.p, want);
	}
}

/* Read every record of 'text' into "LINE:f1|f2;LINE:!error;..." */
static void
records(const char *text, enum xs_load_format fmt, char *out, size_t len)
{
	xs_load_reader       *r;
	struct xs_load_record rec;
	char                  err[200];
	FILE                 *f = mem(text);
	size_t                o = 0;
	xsell_err             e;

	assert_xs_ok(xs_load_reader_open(&r, f, "t", fmt, err, sizeof(err)));
	out[0] = '\0';
	while ((e = xs_load_reader_next(r, &rec)) == XSELL_OK) {
		o += (size_t) snprintf(
		    out + o, len - o, "%llu:", (unsigned long long) rec.line);
		if (rec.error != NULL) {
			o += (size_t) snprintf(
			    out + o, len - o, "!%s;", rec.error);
			continue;
		}
		for (size_t i = 0; i < rec.n_fields; i++) {
			o += (size_t) snprintf(out + o, len - o, "%s%.*s",
			    i ? "|" : "",
			    rec.fields[i].p ? (int) rec.fields[i].len : 1,
			    rec.fields[i].p ? rec.fields[i].p : "~");
		}
		o += (size_t) snprintf(out + o, len - o, ";");
	}
	assert_int_equal(e, XSELL_ENOENT);
	xs_load_reader_close(r);
	fclose(f);
}

/* ==== CSV ==== */

static void
test_csv_quoting(void **state)
{
	char out[512];

	(void) state;
	/* Line 1 header; 2 embedded comma; 3 doubled quote; 4-5 a quoted
	 * newline (the record's line is its first, 4); 6 blank (no
	 * record); 7 CRLF; 8 empty fields, no final newline. */
	records("order,item\n"
	        "1,\"a,b\"\n"
	        "2,\"say \"\"hi\"\"\"\n"
	        "3,\"two\nlines\"\n"
	        "\n"
	        "4,x\r\n"
	        "5,",
	    XS_LOAD_CSV, out, sizeof(out));
	assert_string_equal(out,
	    "2:1|a,b;3:2|say \"hi\";4:3|two\nlines;"
	    "7:4|x;8:5|;");
}

static void
test_csv_unterminated_quote_costs_one_line(void **state)
{
	char out[512];

	(void) state;
	/* The quote opened on line 3 never closes: line 3 is rejected and
	 * reading goes on at line 4. */
	records(
	    "order,item\n1,a\n2,\"bad\n3,c\n", XS_LOAD_CSV, out, sizeof(out));
	assert_string_equal(out, "2:1|a;3:!unterminated quote;4:3|c;");
	records("order,item\n1,\"a\"x\n2,b\n", XS_LOAD_CSV, out, sizeof(out));
	assert_string_equal(
	    out, "2:!unexpected character after a closing quote;3:2|b;");
}

static void
test_csv_header_and_bom(void **state)
{
	const struct xs_span *hdr;
	xs_load_reader       *r;
	size_t                n;
	char                  err[200];
	FILE                 *f = mem("\xef\xbb\xbf"
	                                              "Order,\"Item Id\"\n1,2\n");

	(void) state;
	assert_xs_ok(
	    xs_load_reader_open(&r, f, "t", XS_LOAD_CSV, err, sizeof(err)));
	xs_load_reader_header(r, &hdr, &n);
	assert_int_equal(n, 2);
	assert_span(hdr[0], "Order");
	assert_span(hdr[1], "Item Id");
	xs_load_reader_close(r);
	fclose(f);

	f = mem("");
	assert_xs_err(
	    xs_load_reader_open(&r, f, "t", XS_LOAD_CSV, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_non_null(strstr(err, "empty file"));
	fclose(f);
}

/* ==== TSV, JSON lines, baskets ==== */

static void
test_tsv_fields(void **state)
{
	char out[256];

	(void) state;
	/* No quoting: quotes and commas are data. */
	records("order\titem\n1\t\"a,b\"\r\n2\tc d\n", XS_LOAD_TSV, out,
	    sizeof(out));
	assert_string_equal(out, "2:1|\"a,b\";3:2|c d;");
}

static void
test_jsonl_fields(void **state)
{
	char out[512];

	(void) state;
	/* Columns are the keys in order of first appearance (order, item,
	 * qty from line 1, extra from line 2); numbers become their decimal
	 * text; a missing key or null is absent (~). Without
	 * xs_load_reader_use every column is read, so line 6's boolean is an
	 * error. */
	records("{\"order\": 536365, \"item\": \"85123A\", \"qty\": 2.5}\n"
	        "{\"item\": 7, \"order\": \"o2\", \"extra\": 1}\n"
	        "{\"order\": null, \"item\": \"x\", \"qty\": 1}\n"
	        "{bad\n"
	        "[1, 2]\n"
	        "{\"order\": true, \"item\": \"x\"}\n",
	    XS_LOAD_JSONL, out, sizeof(out));
	assert_non_null(strstr(out, "1:536365|85123A|2.5|~;"));
	assert_non_null(strstr(out, "2:o2|7|~|1;"));
	assert_non_null(strstr(out, "3:~|x|1|~;"));
	assert_non_null(strstr(out, "4:!bad JSON: "));
	assert_non_null(strstr(out, "5:!bad JSON: not an object;"));
	assert_non_null(
	    strstr(out, "6:!key \"order\": not a string or a number;"));
}

static void
test_jsonl_columns_from_later_lines_and_unused_keys(void **state)
{
	const struct xs_span *hdr;
	struct xs_load_record rec;
	struct xs_load_cols   cols;
	xs_load_reader       *r;
	size_t                n;
	char                  err[200];
	FILE                 *f;

	(void) state;
	/* Line 1 is a guest order without "user": the column still exists
	 * (from line 2), at position 4. Mapped to order, item and user only,
	 * the reader skips "gift" and "meta", whatever they hold. */
	f = mem("{\"order\": 1, \"item\": \"a\", \"gift\": true}\n"
	        "{\"order\": 2, \"item\": \"b\", \"user\": \"u\", "
	        "\"meta\": {\"x\": [1]}}\n");
	assert_xs_ok(
	    xs_load_reader_open(&r, f, "t", XS_LOAD_JSONL, err, sizeof(err)));
	xs_load_reader_header(r, &hdr, &n);
	assert_int_equal(n, 5);
	assert_span(hdr[0], "order");
	assert_span(hdr[2], "gift");
	assert_span(hdr[3], "user");
	assert_span(hdr[4], "meta");
	assert_xs_ok(
	    xs_load_map_resolve(NULL, hdr, n, &cols, err, sizeof(err)));
	assert_int_equal(cols.col[XS_ROLE_USER], 3);
	xs_load_reader_use(r, &cols);
	assert_xs_ok(xs_load_reader_next(r, &rec));
	assert_null(rec.error);
	assert_int_equal(rec.line, 1);
	assert_span(rec.fields[0], "1");
	assert_null(rec.fields[2].p); /* gift: not read */
	assert_null(rec.fields[3].p); /* no user: a guest */
	assert_xs_ok(xs_load_reader_next(r, &rec));
	assert_null(rec.error);
	assert_int_equal(rec.line, 2);
	assert_span(rec.fields[1], "b");
	assert_span(rec.fields[3], "u");
	assert_null(rec.fields[4].p);
	assert_xs_err(xs_load_reader_next(r, &rec), XSELL_ENOENT);
	xs_load_reader_close(r);
	fclose(f);

	/* No object at all: nothing to take columns from. */
	f = mem("\n[1, 2]\n");
	assert_xs_err(
	    xs_load_reader_open(&r, f, "t", XS_LOAD_JSONL, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_string_equal(err,
	    "t:2: bad JSON: not an object (no JSON object to take the "
	    "columns from)");
	fclose(f);
}

static void
test_baskets_verbatim(void **state)
{
	char out[256];

	(void) state;
	/* No header; labels keep their spaces ("cream cheese "). */
	records("pip fruit,cream cheese ,yogurt\nwhole milk\n",
	    XS_LOAD_BASKETS, out, sizeof(out));
	assert_string_equal(
	    out, "1:pip fruit|cream cheese |yogurt;2:whole milk;");
}

static void
test_format_names(void **state)
{
	enum xs_load_format f;

	(void) state;
	assert_int_equal(xs_load_format_guess("a/b.TSV"), XS_LOAD_TSV);
	assert_int_equal(xs_load_format_guess("x.jsonl"), XS_LOAD_JSONL);
	assert_int_equal(xs_load_format_guess("x.csv"), XS_LOAD_CSV);
	assert_int_equal(xs_load_format_guess("d.tsv/x"), XS_LOAD_CSV);
	assert_true(xs_load_format_parse("baskets", &f));
	assert_int_equal(f, XS_LOAD_BASKETS);
	assert_false(xs_load_format_parse("xml", &f));
}

/* ==== Roles ==== */

static void
header_of(const char *const *names, struct xs_span *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[i].p   = names[i];
		out[i].len = (uint32_t) strlen(names[i]);
	}
}

static void
test_roles_guessed(void **state)
{
	static const char *const names[] = { "InvoiceNo", "StockCode",
		"Description", "Quantity", "InvoiceDate", "UnitPrice",
		" CustomerID ", "Country" };
	struct xs_span           hdr[8];
	struct xs_load_cols      c;
	char                     err[400];

	(void) state;
	header_of(names, hdr, 8);
	assert_xs_ok(xs_load_map_resolve(NULL, hdr, 8, &c, err, sizeof(err)));
	assert_int_equal(c.col[XS_ROLE_ORDER], 0);
	assert_int_equal(c.col[XS_ROLE_ITEM], 1);
	assert_int_equal(c.col[XS_ROLE_QTY], 3);
	assert_int_equal(c.col[XS_ROLE_TS], 4);
	assert_int_equal(c.col[XS_ROLE_PRICE], 5);
	assert_int_equal(c.col[XS_ROLE_USER], 6);
	assert_int_equal(c.col[XS_ROLE_CATEGORY], -1);
}

static void
test_roles_missing_item_names_columns(void **state)
{
	static const char *const names[] = { "order_id", "thing" };
	struct xs_span           hdr[2];
	struct xs_load_cols      c;
	char                     err[400];

	(void) state;
	header_of(names, hdr, 2);
	assert_xs_err(xs_load_map_resolve(NULL, hdr, 2, &c, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_non_null(strstr(err, "no item column"));
	assert_non_null(strstr(err, "\"order_id\", \"thing\""));
}

static void
test_map_by_name_and_number(void **state)
{
	static const char *const names[] = { "ord", "x", "sku2", "who" };
	struct xs_load_map       m       = { 0 };
	struct xs_span           hdr[4];
	struct xs_load_cols      c;
	char                     err[400];

	(void) state;
	header_of(names, hdr, 4);
	/* "ORD" matches "ord" case-insensitively; 3 is "sku2"; user is
	 * given by a second --map. */
	assert_xs_ok(
	    xs_load_map_parse(&m, "order=ORD,item=3", err, sizeof(err)));
	assert_xs_ok(xs_load_map_parse(&m, "user=who", err, sizeof(err)));
	assert_xs_ok(xs_load_map_resolve(&m, hdr, 4, &c, err, sizeof(err)));
	assert_int_equal(c.col[XS_ROLE_ORDER], 0);
	assert_int_equal(c.col[XS_ROLE_ITEM], 2);
	assert_int_equal(c.col[XS_ROLE_USER], 3);
	assert_int_equal(c.col[XS_ROLE_TS], -1);

	memset(&m, 0, sizeof(m));
	assert_xs_ok(
	    xs_load_map_parse(&m, "order=1,item=5", err, sizeof(err)));
	assert_xs_err(xs_load_map_resolve(&m, hdr, 4, &c, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_non_null(strstr(err, "no column 5"));
	memset(&m, 0, sizeof(m));
	assert_xs_ok(
	    xs_load_map_parse(&m, "order=nope,item=1", err, sizeof(err)));
	assert_xs_err(xs_load_map_resolve(&m, hdr, 4, &c, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_non_null(strstr(err, "no such column"));
}

static void
test_map_parse_errors(void **state)
{
	struct xs_load_map m = { 0 };
	char               err[200];

	(void) state;
	assert_xs_err(
	    xs_load_map_parse(&m, "colour=3", err, sizeof(err)), XSELL_EINVAL);
	assert_non_null(strstr(err, "unknown role \"colour\""));
	/* The roles it lists are every role --map takes. */
	assert_non_null(strstr(err,
	    "order, user, item, ts, qty, price, category, type, rating, "
	    "ts_ms"));
	memset(&m, 0, sizeof(m));
	assert_xs_err(xs_load_map_parse(&m, "item=1,item=2", err, sizeof(err)),
	    XSELL_EINVAL);
	assert_non_null(strstr(err, "role item given twice"));
	memset(&m, 0, sizeof(m));
	assert_xs_err(
	    xs_load_map_parse(&m, "item=", err, sizeof(err)), XSELL_EINVAL);
	assert_xs_err(
	    xs_load_map_parse(&m, "item", err, sizeof(err)), XSELL_EINVAL);
}

/* ==== Timestamps ==== */

static int64_t
ts(const char *s)
{
	int64_t t = -1;

	if (!xs_load_ts_parse(s, strlen(s), &t)) {
		fail_msg("\"%s\" was refused", s);
	}
	return t;
}

static void
test_ts_forms(void **state)
{
	(void) state;
	/* 2011-09-30: 15247 days after 1970-01-01; 15247 * 86400 +
	 * 23:59 (86340) = 1317427140. */
	assert_int_equal(ts("2011-09-30 23:59:00"), 1317427140);
	/* 2010-12-01: 14944 days = 1291161600; + 08:26 (30360). */
	assert_int_equal(ts("2010-12-01T08:26:00Z"), 1291191960);
	assert_int_equal(ts("2010-12-01T08:26:00+01:00"), 1291188360);
	assert_int_equal(ts("2010-12-01T08:26:00-0130"), 1291197360);
	assert_int_equal(ts("2010-12-01T08:26:00.999Z"), 1291191960);
	assert_int_equal(ts("2010-12-01 08:26"), 1291191960);
	/* 2011-02-01: 14976 days. */
	assert_int_equal(ts("2011-02-01"), 1296518400);
	assert_int_equal(ts("1317427140"), 1317427140);
	assert_int_equal(ts("1317427140.75"), 1317427140);
	assert_int_equal(ts("2012-02-29"), 1330473600); /* leap day */
	assert_int_equal(ts("1970-01-01T00:00:00Z"), 0);
	/* The largest the store takes: 2^40 - 1. */
	assert_int_equal(ts("1099511627775"), 1099511627775);
	/* 9999-12-31T23:59:59Z: 2932896 days * 86400 + 86399. */
	assert_int_equal(ts("9999-12-31T23:59:59Z"), 253402300799);
	/* From 2^40 on a number is milliseconds: 2010-12-01T08:26:00.250Z
	 * and RetailRocket's first event. */
	assert_int_equal(ts("1291191960250"), 1291191960);
	assert_int_equal(ts("1433221332117"), 1433221332);
	assert_int_equal(ts("1099511627776"), 1099511627);
}

static void
test_ts_rejects(void **state)
{
	static const char *const bad[] = { "", "abc", "2011-02-30",
		"2011-13-01", "2011-00-10", "2011-02-01 24:00:00",
		"2011-02-01 23:60:00", "2011-02-01T08:26:00+25:00",
		"2011-02-01T08:26:00Q", "2011-2-1", "1969-12-31",
		"2011-02-01 08", "2011-02-01x", "12ab", "1e9", "-5",
		"2011-02-01T08:26:00.",
		/* 2^40 seconds' worth of milliseconds. */
		"1099511627776000",
		/* An offset that moves the epoch's midnight before 1970. */
		"1970-01-01T00:00:00+01:00" };
	int64_t                  t;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (xs_load_ts_parse(bad[i], strlen(bad[i]), &t)) {
			fail_msg(
			    "\"%s\" accepted as %lld", bad[i], (long long) t);
		}
	}
}

/* ==== Lines -> orders ==== */

struct collected {
	char   text[1024];
	size_t o;
};

/* Render orders as "ORDER@TS/USER:ITEMxQTY,...;" */
static xsell_err
collect_cb(void *ctx, const struct xs_event *evs, size_t n)
{
	struct collected *c = ctx;

	for (size_t i = 0; i < n; i++) {
		c->o += (size_t) snprintf(c->text + c->o,
		    sizeof(c->text) - c->o,
		    "%.*s@%lld/%.*s:", (int) evs[i].order.len, evs[i].order.p,
		    (long long) evs[i].ts, (int) evs[i].user.len,
		    evs[i].user.len ? evs[i].user.p : "");
		for (uint32_t j = 0; j < evs[i].n_lines; j++) {
			const struct xs_order_line *ln = &evs[i].lines[j];

			c->o += (size_t) snprintf(c->text + c->o,
			    sizeof(c->text) - c->o, "%s%.*sx%g", j ? "," : "",
			    (int) ln->item.len, ln->item.p, ln->qty);
		}
		c->o += (size_t) snprintf(
		    c->text + c->o, sizeof(c->text) - c->o, ";");
	}
	return XSELL_OK;
}

static void
test_loader_groups_and_validates(void **state)
{
	/* Line 2-3: o1 with A twice (one line, 1+2) and user u1 from its
	 * second line; 4: a return (skipped); 5: o2; 6: o1 again, earlier
	 * ts; then seven malformed lines. o3 exists only as a return. */
	static const char            text[] = "order,item,qty,ts,user\n"
	                                      "o1,A,1,2011-02-01,\n"
	                                      "o1,A,2,2011-02-01,u1\n"
	                                      "o3,B,-1,2011-02-01,u2\n"
	                                      "o2,B,0.5,,u2\n"
	                                      "o1,C,1,1000,u9\n"
	                                      "o4,,1,1,u\n"
	                                      "o4,X,two,1,u\n"
	                                      "o4,X,1,2011-02-30,u\n"
	                                      "o4,X\n"
	                                      ",X,1,1,u\n"
	                                      "o4,\"X\n"
	                                      "o4,X,0,garbage,u\n";
	struct collected             c      = { { 0 }, 0 };
	const struct xs_load_reject *rej;
	struct xs_load_counts        fc;
	xs_loader                   *l;
	size_t                       n_rej;

	(void) state;
	l = loaded("t.csv", text, XS_LOAD_CSV, NULL, 5000, &fc);
	/* 12 records: 4 kept, 1 return, 7 rejected (the last line's ts is
	 * bad, so it is rejected, not skipped). */
	assert_int_equal(fc.records, 12);
	assert_int_equal(fc.lines, 4);
	assert_int_equal(fc.skipped, 1);
	assert_int_equal(fc.rejected, 7);
	assert_int_equal(xs_loader_n_orders(l), 2);
	rej = xs_loader_rejects(l, &n_rej);
	assert_int_equal(n_rej, 7);
	assert_string_equal(rej[0].text, "t.csv:7: item id missing");
	assert_string_equal(rej[1].text, "t.csv:8: bad qty \"two\"");
	assert_string_equal(
	    rej[2].text, "t.csv:9: bad timestamp \"2011-02-30\"");
	assert_string_equal(
	    rej[3].text, "t.csv:10: 2 fields, the header has 5");
	assert_string_equal(rej[4].text, "t.csv:11: order id missing");
	assert_string_equal(rej[5].text, "t.csv:12: unterminated quote");
	assert_string_equal(
	    rej[6].text, "t.csv:13: bad timestamp \"garbage\"");
	/* o2 has no ts: the load time, 5000. */
	assert_xs_ok(xs_loader_each_order(l, 0, 1, collect_cb, &c));
	assert_string_equal(c.text, "o1@1000/u1:Ax3,Cx1;o2@5000/u2:Bx0.5;");
	xs_loader_free(l);
}

static void
test_loader_rejects_bad_ids(void **state)
{
	char                         text[600];
	const struct xs_load_reject *rej;
	struct xs_load_counts        fc;
	xs_loader                   *l;
	size_t                       n_rej;

	(void) state;
	/* A 257-byte item id, an invalid UTF-8 user, a negative price. */
	snprintf(text, sizeof(text),
	    "order,item,user,price\n"
	    "o1,%0257d,u,1\n"
	    "o1,A,\xff,1\n"
	    "o1,A,u,-2\n"
	    "o1,A,u,2.5\n",
	    0);
	l = loaded("t.csv", text, XS_LOAD_CSV, NULL, 0, &fc);
	assert_int_equal(fc.rejected, 3);
	assert_int_equal(fc.lines, 1);
	rej = xs_loader_rejects(l, &n_rej);
	assert_non_null(strstr(rej[0].text,
	    "t.csv:2: item id longer than "
	    "256 bytes \"000"));
	assert_string_equal(rej[1].text,
	    "t.csv:3: user id not valid UTF-8 (or holds a NUL byte) "
	    "\"\\xff\"");
	assert_string_equal(
	    rej[2].text, "t.csv:4: bad price \"-2\" (a number >= 0)");
	xs_loader_free(l);
}

/* A NUL byte in a number ends strtod's reading of it, not the field:
 * "1\0junk" is no qty and "2\0junk" no price; both lines are rejected,
 * as "1junk" would be. */
static void
test_loader_rejects_nul_in_number(void **state)
{
	static const char            text[] = "order,item,qty,price\n"
	                                      "o1,a,1\0junk,2\n"
	                                      "o2,b,1,2\0junk\n"
	                                      "o3,c,1,2\n";
	const struct xs_load_reject *rej;
	struct xs_load_counts        fc;
	xs_loader                   *l;
	size_t                       n_rej;
	char                         err[200];
	FILE *f = fmemopen((void *) text, sizeof(text) - 1, "r");

	(void) state;
	assert_non_null(f);
	assert_xs_ok(xs_loader_alloc(&l));
	assert_xs_ok(xs_loader_read(
	    l, "t.csv", f, XS_LOAD_CSV, NULL, 0, &fc, err, sizeof(err)));
	fclose(f);
	assert_int_equal(fc.records, 3);
	assert_int_equal(fc.lines, 1);
	assert_int_equal(fc.rejected, 2);
	assert_int_equal(xs_loader_n_orders(l), 1);
	rej = xs_loader_rejects(l, &n_rej);
	assert_int_equal(n_rej, 2);
	assert_string_equal(rej[0].text, "t.csv:2: bad qty \"1\\x00junk\"");
	assert_string_equal(
	    rej[1].text, "t.csv:3: bad price \"2\\x00junk\" (a number >= 0)");
	xs_loader_free(l);
}

static void
test_loader_baskets(void **state)
{
	struct collected      c = { { 0 }, 0 };
	struct xs_load_counts fc;
	xs_loader            *l;

	(void) state;
	/* Line 1: a twice -> one line, qty 2; line 2 blank; line 4 has an
	 * empty item: rejected. Basket orders have ts 0, not the 'now'
	 * given (5000), and no user. */
	l = loaded(
	    "g", "a,b ,a\n\nc\nd,,e\n", XS_LOAD_BASKETS, NULL, 5000, &fc);
	assert_int_equal(fc.lines, 2);
	assert_int_equal(fc.rejected, 1);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_cb, &c));
	assert_string_equal(c.text, "1@0/:ax2,b x1;3@0/:cx1;");
	xs_loader_free(l);
}

static void
test_loader_jsonl_and_tsv(void **state)
{
	struct collected      c = { { 0 }, 0 };
	struct xs_load_counts fc;
	struct xs_load_map    m = { 0 };
	xs_loader            *l;
	char                  err[200];
	FILE                 *f;

	(void) state;
	assert_xs_ok(xs_loader_alloc(&l));
	f = mem("{\"invoice\": 17, \"sku\": 5, \"time\": "
	        "\"2010-12-01T08:26:00Z\"}\n"
	        "{\"invoice\": 17, \"sku\": \"6\", \"time\": 1291191000}\n");
	assert_xs_ok(xs_loader_read(
	    l, "a.jsonl", f, XS_LOAD_JSONL, NULL, 0, &fc, err, sizeof(err)));
	fclose(f);
	assert_int_equal(fc.lines, 2);
	/* TSV with columns by number; its order 17 joins the JSON one. */
	assert_xs_ok(
	    xs_load_map_parse(&m, "order=2,item=1", err, sizeof(err)));
	f = mem("p\to\n7\t17\n8\t18\n");
	assert_xs_ok(xs_loader_read(
	    l, "b.tsv", f, XS_LOAD_TSV, &m, 99, &fc, err, sizeof(err)));
	fclose(f);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_cb, &c));
	assert_string_equal(c.text, "17@1291191000/:5x1,6x1,7x1;18@99/:8x1;");
	xs_loader_free(l);
}

/* A CSV file of CRLF line ends whose last line ends in a CR alone (its
 * LF lost) loads as if the LF were there: the CR is a line end at the
 * end of the file too, after an unquoted field (qty "1", not "1\r"), a
 * quoted one, or a header with no record after it. */
static void
test_loader_csv_cr_at_end_of_file(void **state)
{
	struct collected      c = { { 0 }, 0 };
	struct collected      q = { { 0 }, 0 };
	struct xs_load_counts fc;
	xs_loader            *l;

	(void) state;
	l = loaded("t.csv", "order,item,qty\r\n1,a,1\r\n2,b,1\r", XS_LOAD_CSV,
	    NULL, 7, &fc);
	assert_int_equal(fc.rejected, 0);
	assert_int_equal(fc.lines, 2);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_cb, &c));
	assert_string_equal(c.text, "1@7/:ax1;2@7/:bx1;");
	xs_loader_free(l);

	l = loaded("t.csv", "order,item\r\n1,\"a\"\r\n2,\"b\"\r", XS_LOAD_CSV,
	    NULL, 7, &fc);
	assert_int_equal(fc.rejected, 0);
	assert_int_equal(fc.lines, 2);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_cb, &q));
	assert_string_equal(q.text, "1@7/:ax1;2@7/:bx1;");
	xs_loader_free(l);

	l = loaded("t.csv", "order,item\r", XS_LOAD_CSV, NULL, 7, &fc);
	assert_int_equal(fc.records, 0);
	xs_loader_free(l);
}

static void
test_loader_rejects_wrong_field_count(void **state)
{
	struct collected             c = { { 0 }, 0 };
	const struct xs_load_reject *rej;
	struct xs_load_counts        fc;
	xs_loader                   *l;
	size_t                       n_rej;
	char                         err[200];
	FILE                        *f;

	(void) state;
	/* A stray tab (line 3) or a missing trailing field (line 4) would
	 * shift or drop columns: both rejected, even though order and item
	 * are there. Same for CSV (line 3: an unquoted comma). */
	l = loaded("t.tsv",
	    "order\titem\tqty\n"
	    "o1\ta\t2\n"
	    "o1\tb\tx\t1\n"
	    "o2\tc\n"
	    "o2\td\t1\n",
	    XS_LOAD_TSV, NULL, 7, &fc);
	assert_int_equal(fc.records, 4);
	assert_int_equal(fc.lines, 2);
	assert_int_equal(fc.rejected, 2);
	f = mem("order,item,qty\no3,e,1\no3,f, large,1\n");
	assert_xs_ok(xs_loader_read(
	    l, "t.csv", f, XS_LOAD_CSV, NULL, 7, &fc, err, sizeof(err)));
	fclose(f);
	assert_int_equal(fc.lines, 1);
	assert_int_equal(fc.rejected, 1);
	rej = xs_loader_rejects(l, &n_rej);
	assert_int_equal(n_rej, 3);
	assert_string_equal(
	    rej[0].text, "t.tsv:3: 4 fields, the header has 3");
	assert_string_equal(
	    rej[1].text, "t.tsv:4: 2 fields, the header has 3");
	assert_string_equal(
	    rej[2].text, "t.csv:3: 4 fields, the header has 3");
	assert_int_equal(xs_loader_counts(l)->rejected, 3);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_cb, &c));
	assert_string_equal(c.text, "o1@7/:ax2;o2@7/:dx1;o3@7/:ex1;");
	xs_loader_free(l);
}

static void
test_loader_unmapped_file_refused(void **state)
{
	xs_loader *l;
	char       err[400];
	FILE      *f = mem("a,b\n1,2\n");

	(void) state;
	assert_xs_ok(xs_loader_alloc(&l));
	assert_xs_err(xs_loader_read(l, "x.csv", f, XS_LOAD_CSV, NULL, 0, NULL,
	                  err, sizeof(err)),
	    XSELL_EINVAL);
	assert_non_null(strstr(err, "x.csv: no order column"));
	assert_non_null(strstr(err, "\"a\", \"b\""));
	fclose(f);
	xs_loader_free(l);
}

/* Render events other than orders as "TYPE:USER:ITEM@TS[=RATING];". */
static xsell_err
collect_events_cb(void *ctx, const struct xs_event *evs, size_t n)
{
	static const char *const names[XS_EV_TYPE_COUNT] = { "order", "view",
		"cart_add", "cart_remove", "rating" };
	struct collected        *c                       = ctx;

	for (size_t i = 0; i < n; i++) {
		if (evs[i].type == XS_EV_ORDER) {
			collect_cb(ctx, &evs[i], 1);
			continue;
		}
		c->o += (size_t) snprintf(c->text + c->o,
		    sizeof(c->text) - c->o, "%s:%.*s:%.*s@%lld",
		    names[evs[i].type], (int) evs[i].user.len, evs[i].user.p,
		    (int) evs[i].item.len, evs[i].item.p,
		    (long long) evs[i].ts);
		if (evs[i].type == XS_EV_RATING) {
			c->o += (size_t) snprintf(c->text + c->o,
			    sizeof(c->text) - c->o, "=%u", evs[i].rating);
		}
		c->o += (size_t) snprintf(
		    c->text + c->o, sizeof(c->text) - c->o, ";");
	}
	return XSELL_OK;
}

/* A RetailRocket-style export: each line an event, orders among them
 * (lines 2, 3 and 6 are one order, applied where it first appears). */
static void
test_loader_events_keep_their_place(void **state)
{
	static const char text[] = "timestamp,visitorid,event,itemid,"
	                           "transactionid,rating\n"
	                           "100,v1,view,A,,\n"
	                           "200,v1,addtocart,A,,\n"
	                           "300,v1,transaction,A,t1,\n"
	                           "400,v2,VIEW,B,,\n"
	                           "500,v1,removefromcart,B,,\n"
	                           "600,v1,transaction,C,t1,\n"
	                           "700,v2,rating,B,,4\n"
	                           "800,v2,rating,B,,6\n"
	                           "900,,view,B,,\n"
	                           "950,v3,click,B,,\n";
	struct collected  c      = { { 0 }, 0 };
	const struct xs_load_reject *rej;
	struct xs_load_counts        fc;
	xs_loader                   *l;
	size_t                       n_rej;

	(void) state;
	l = loaded("e.csv", text, XS_LOAD_CSV, NULL, 0, &fc);
	assert_int_equal(fc.lines, 7);
	assert_int_equal(fc.events, 5);
	assert_int_equal(fc.rejected, 3);
	rej = xs_loader_rejects(l, &n_rej);
	assert_string_equal(rej[0].text,
	    "e.csv:9: bad rating \"6\" (an "
	    "integer 1..5)");
	assert_string_equal(rej[1].text,
	    "e.csv:10: user id missing (views, cart events and ratings need "
	    "a user)");
	assert_string_equal(rej[2].text,
	    "e.csv:11: unknown event type \"click\" (order, view, cart_add, "
	    "cart_remove, rating, or an alias: see --help)");
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_events_cb, &c));
	assert_string_equal(c.text,
	    "view:v1:A@100;cart_add:v1:A@200;t1@300/v1:Ax1,Cx1;view:v2:B@400;"
	    "cart_remove:v1:B@500;rating:v2:B@700=4;");
	xs_loader_free(l);
}

/* Names numbered as a store would: per dictionary 1, 2, 3... in call
 * order, each call logged as "U:NAME=ID;" or "I:NAME=ID;". */
struct numbered {
	struct collected c;
	char             names[256];
	size_t           o;
	uint32_t         next[XS_DICT_COUNT];
	size_t           batches;
};

static xsell_err
number_cb(void *ctx, enum xs_dict d, struct xs_span name, uint32_t *idp)
{
	struct numbered *nb = ctx;

	*idp = ++nb->next[d];
	nb->o += (size_t) snprintf(nb->names + nb->o,
	    sizeof(nb->names) - nb->o, "%s:%.*s=%u;",
	    d == XS_DICT_USER ? "U" : "I", (int) name.len, name.p, *idp);
	return XSELL_OK;
}

static xsell_err
numbered_orders_cb(void *ctx, const struct xs_event *evs, size_t n)
{
	struct numbered *nb = ctx;

	nb->batches++;
	return collect_cb(&nb->c, evs, n);
}

/* By user: o1 (u2, lines A and, last in the file, D), o2 (u1), o3 (u2),
 * o4 (a guest), o5 (u1). Names are met in the ordinary walk's order:
 * u2, A, D (o1), u1, B (o2), C (o3); A again in o4 and o5 is not asked
 * twice. So u2 is user 1 and u1 user 2, and the walk is the guest's o4,
 * then u2's o1 and o3, then u1's o2 and o5, two to a batch: 3 batches. */
static void
test_loader_each_order_by_user(void **state)
{
	struct numbered nb = { 0 };
	xs_loader      *l;

	(void) state;
	l = loaded("u.csv",
	    "order,item,qty,ts,user\n"
	    "o1,A,1,10,u2\n"
	    "o2,B,1,20,u1\n"
	    "o3,C,1,30,u2\n"
	    "o4,A,1,40,\n"
	    "o5,A,1,50,u1\n"
	    "o1,D,1,60,u2\n",
	    XS_LOAD_CSV, NULL, 0, NULL);
	assert_xs_ok(xs_loader_each_order_by_user(
	    l, 2, number_cb, numbered_orders_cb, &nb));
	assert_string_equal(
	    nb.names, "U:u2=1;I:A=1;I:D=2;U:u1=2;I:B=3;I:C=4;");
	assert_string_equal(nb.c.text,
	    "o4@40/:Ax1;o1@10/u2:Ax1,Dx1;o3@30/u2:Cx1;o2@20/u1:Bx1;"
	    "o5@50/u1:Ax1;");
	assert_int_equal(nb.batches, 3);
	/* The ordinary walk after it starts afresh: file order, each
	 * order's lines in file order (the walk by user left the lines
	 * in its own order). */
	memset(&nb.c, 0, sizeof(nb.c));
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_cb, &nb.c));
	assert_string_equal(nb.c.text,
	    "o1@10/u2:Ax1,Dx1;o2@20/u1:Bx1;o3@30/u2:Cx1;o4@40/:Ax1;"
	    "o5@50/u1:Ax1;");
	/* And the walk by user again gives what it gave. */
	memset(&nb, 0, sizeof(nb));
	assert_xs_ok(xs_loader_each_order_by_user(
	    l, 2, number_cb, numbered_orders_cb, &nb));
	assert_string_equal(nb.c.text,
	    "o4@40/:Ax1;o1@10/u2:Ax1,Dx1;o3@30/u2:Cx1;o2@20/u1:Bx1;"
	    "o5@50/u1:Ax1;");
	xs_loader_free(l);
}

/* A load with a view is refused (its batch ids depend on positions),
 * before any name is numbered. */
static void
test_loader_by_user_refuses_events(void **state)
{
	struct numbered nb = { 0 };
	xs_loader      *l;

	(void) state;
	l = loaded("v.csv",
	    "order,item,qty,ts,user,event_type\n"
	    "o1,A,1,10,u2,order\n"
	    ",B,1,20,u1,view\n",
	    XS_LOAD_CSV, NULL, 0, NULL);
	assert_int_equal(xs_loader_each_order_by_user(
	                     l, 0, number_cb, numbered_orders_cb, &nb),
	    XSELL_EINVAL);
	assert_int_equal(nb.o, 0);
	assert_int_equal(nb.batches, 0);
	xs_loader_free(l);
}

/* --type view: a file of views without a type column or order ids. */
static void
test_loader_type_for_a_file_of_views(void **state)
{
	struct xs_load_map m = { 0 };
	struct collected   c = { { 0 }, 0 };
	xs_loader         *l;
	char               err[200];

	(void) state;
	assert_xs_ok(
	    xs_load_map_parse(&m, "user=session_id", err, sizeof(err)));
	m.type = XS_EV_VIEW;
	l      = loaded("v.csv",
	         "session_id,item_id,eventdate\n"
	              "s1,A,2016-05-09\n"
	              "s1,B,2016-05-09\n",
	         XS_LOAD_CSV, &m, 0, NULL);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_events_cb, &c));
	assert_string_equal(
	    c.text, "view:s1:A@1462752000;view:s1:B@1462752000;");
	xs_loader_free(l);
}

/* DIGINETICA's way: semicolons, a date and the milliseconds since the
 * session began (ts_ms, mapped: never guessed). 2016-05-09 is
 * 1462752000; 61,500 ms add 61 s. A bad or negative ts_ms rejects the
 * line. */
/* A JSON line whose type key is missing or null has no type: it is a
 * line of the file's --type, as a line of a file without a type column
 * (order by default; view here for the second read). */
static void
test_loader_jsonl_type_missing_or_null(void **state)
{
	static const char     text[] = "{\"order\": \"1\", \"item\": \"a\", "
	                               "\"user\": \"u\", \"event\": \"view\"}\n"
	                               "{\"order\": \"2\", \"item\": \"b\", "
	                               "\"user\": \"u\"}\n"
	                               "{\"order\": \"3\", \"item\": \"c\", "
	                               "\"user\": \"u\", \"event\": null}\n";
	struct xs_load_map    m      = { 0 };
	struct collected      c      = { { 0 }, 0 };
	struct xs_load_counts fc;
	xs_loader            *l;

	(void) state;
	l = loaded("t.jsonl", text, XS_LOAD_JSONL, NULL, 7, &fc);
	assert_int_equal(fc.rejected, 0);
	assert_int_equal(fc.lines, 3);
	assert_int_equal(fc.events, 1);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_events_cb, &c));
	assert_string_equal(c.text, "view:u:a@7;2@7/u:bx1;3@7/u:cx1;");
	xs_loader_free(l);

	m.type = XS_EV_VIEW;
	l      = loaded("t.jsonl", text, XS_LOAD_JSONL, &m, 7, &fc);
	assert_int_equal(fc.rejected, 0);
	assert_int_equal(fc.events, 3);
	xs_loader_free(l);
}

static void
test_loader_ssv_ts_ms(void **state)
{
	struct collected             c = { { 0 }, 0 };
	const struct xs_load_reject *rej;
	struct xs_load_counts        fc;
	struct xs_load_map           m = { 0 };
	xs_loader                   *l;
	size_t                       n_rej;
	char                         err[200];

	(void) state;
	assert_xs_ok(xs_load_map_parse(&m, "ts_ms=timeframe", err, 200));
	l = loaded("d.ssv",
	    "ordernumber;itemId;eventdate;timeframe\n"
	    "o1;a;2016-05-09;61500\n"
	    "o1;b;2016-05-09;x\n"
	    "o2;c;2016-05-09;-5\n"
	    "o2;d;2016-05-09;0\n",
	    XS_LOAD_SSV, &m, 7, &fc);
	assert_int_equal(fc.lines, 2);
	assert_int_equal(fc.rejected, 2);
	assert_xs_ok(xs_loader_each_order(l, 0, 0, collect_cb, &c));
	assert_string_equal(c.text, "o1@1462752061/:ax1;o2@1462752000/:dx1;");
	rej = xs_loader_rejects(l, &n_rej);
	assert_int_equal(n_rej, 2);
	assert_string_equal(rej[0].text,
	    "d.ssv:3: bad ts_ms \"x\" (milliseconds >= 0 added to ts)");
	xs_loader_free(l);
	assert_true(xs_load_format_parse("ssv", &(enum xs_load_format) { 0 }));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader_events_keep_their_place),
		cmocka_unit_test(test_loader_type_for_a_file_of_views),
		cmocka_unit_test(test_loader_jsonl_type_missing_or_null),
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_csv_unterminated_quote_costs_one_line),
		cmocka_unit_test(test_csv_header_and_bom),
		cmocka_unit_test(test_tsv_fields),
		cmocka_unit_test(test_jsonl_fields),
		cmocka_unit_test(
		    test_jsonl_columns_from_later_lines_and_unused_keys),
		cmocka_unit_test(test_baskets_verbatim),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_roles_guessed),
		cmocka_unit_test(test_roles_missing_item_names_columns),
		cmocka_unit_test(test_map_by_name_and_number),
		cmocka_unit_test(test_map_parse_errors),
		cmocka_unit_test(test_ts_forms),
		cmocka_unit_test(test_ts_rejects),
		cmocka_unit_test(test_loader_groups_and_validates),
		cmocka_unit_test(test_loader_rejects_bad_ids),
		cmocka_unit_test(test_loader_rejects_nul_in_number),
		cmocka_unit_test(test_loader_baskets),
		cmocka_unit_test(test_loader_jsonl_and_tsv),
		cmocka_unit_test(test_loader_rejects_wrong_field_count),
		cmocka_unit_test(test_loader_csv_cr_at_end_of_file),
		cmocka_unit_test(test_loader_ssv_ts_ms),
		cmocka_unit_test(test_loader_unmapped_file_refused),
		cmocka_unit_test(test_loader_each_order_by_user),
		cmocka_unit_test(test_loader_by_user_refuses_events),
	};

	return cmocka_run_group_tests_name("load_parse", tests, NULL, NULL);
}
