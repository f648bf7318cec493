/* SPDX-License-Identifier: MIT */
/* Formats, roles and the column mapping: --map ROLE=COLUMN pairs, and
 * roles guessed from header names when --map leaves them out. */
#include "load/load.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const format_names[XS_LOAD_FORMAT_COUNT] = {
	[XS_LOAD_CSV]     = "csv",
	[XS_LOAD_TSV]     = "tsv",
	[XS_LOAD_JSONL]   = "jsonl",
	[XS_LOAD_BASKETS] = "baskets",
	[XS_LOAD_SSV]     = "ssv",
};

static const char *const role_names[XS_ROLE_COUNT] = {
	[XS_ROLE_ORDER]    = "order",
	[XS_ROLE_USER]     = "user",
	[XS_ROLE_ITEM]     = "item",
	[XS_ROLE_TS]       = "ts",
	[XS_ROLE_QTY]      = "qty",
	[XS_ROLE_PRICE]    = "price",
	[XS_ROLE_CATEGORY] = "category",
	[XS_ROLE_TYPE]     = "type",
	[XS_ROLE_RATING]   = "rating",
	[XS_ROLE_TS_MS]    = "ts_ms",
};

/* Header names each role is guessed from, best first. */
static const char *const guesses[XS_ROLE_COUNT][8] = {
	[XS_ROLE_ORDER] = { "order", "order_id", "orderid", "invoice",
	    "invoiceno", "ordernumber", "transactionid" },
	[XS_ROLE_USER]  = { "user", "user_id", "userid", "customer",
	     "customer_id", "customerid", "visitorid", "visitor_id" },
	[XS_ROLE_ITEM]  = { "item", "item_id", "itemid", "product",
	     "product_id", "sku", "stockcode" },
	[XS_ROLE_TS]    = { "ts", "time", "timestamp", "date", "invoicedate",
	       "eventdate", "created_at" },
	[XS_ROLE_QTY]   = { "qty", "quantity" },
	[XS_ROLE_PRICE] = { "price", "unitprice", "unit_price" },
	[XS_ROLE_CATEGORY] = { "category", "category_id", "categoryid" },
	[XS_ROLE_TYPE]     = { "event_type", "eventtype", "event", "type" },
	[XS_ROLE_RATING]   = { "rating", "stars" },
};

/* What the event columns of common exports say, and what it means. */
static const struct {
	const char        *name;
	enum xs_event_type type;
} event_names[] = {
	{ "order", XS_EV_ORDER },
	{ "purchase", XS_EV_ORDER },
	{ "transaction", XS_EV_ORDER }, /* RetailRocket */
	{ "buy", XS_EV_ORDER },
	{ "view", XS_EV_VIEW },
	{ "detail", XS_EV_VIEW }, /* Google Analytics */
	{ "pageview", XS_EV_VIEW },
	{ "cart_add", XS_EV_CART_ADD },
	{ "addtocart", XS_EV_CART_ADD }, /* RetailRocket */
	{ "add_to_cart", XS_EV_CART_ADD },
	{ "cart_remove", XS_EV_CART_REMOVE },
	{ "removefromcart", XS_EV_CART_REMOVE },
	{ "remove_from_cart", XS_EV_CART_REMOVE },
	{ "rating", XS_EV_RATING },
};

bool
xs_load_event_type_parse(const char *p, size_t len, enum xs_event_type *out)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]);
	     i++) {
		if (strlen(event_names[i].name) == len &&
		    strncasecmp(event_names[i].name, p, len) == 0) {
			*out = event_names[i].type;
			return true;
		}
	}
	return false;
}

bool
xs_load_format_parse(const char *name, enum xs_load_format *out)
{
	for (int f = 0; f < XS_LOAD_FORMAT_COUNT; f++) {
		if (strcmp(name, format_names[f]) == 0) {
			*out = (enum xs_load_format) f;
			return true;
		}
	}
	return false;
}

const char *
xs_load_format_name(enum xs_load_format f)
{
	return (unsigned) f < XS_LOAD_FORMAT_COUNT ? format_names[f] : "?";
}

enum xs_load_format
xs_load_format_guess(const char *path)
{
	const char *dot   = strrchr(path, '.');
	const char *slash = strrchr(path, '/');

	if (dot == NULL || (slash != NULL && dot < slash)) {
		return XS_LOAD_CSV;
	}
	if (strcasecmp(dot, ".tsv") == 0) {
		return XS_LOAD_TSV;
	}
	if (strcasecmp(dot, ".jsonl") == 0) {
		return XS_LOAD_JSONL;
	}
	return XS_LOAD_CSV;
}

const char *
xs_load_role_name(enum xs_load_role r)
{
	return (unsigned) r < XS_ROLE_COUNT ? role_names[r] : "?";
}

xsell_err
xs_load_map_parse(
    struct xs_load_map *m, const char *arg, char *err, size_t err_len)
{
	const char *p = arg;

	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		const char *end   = comma != NULL ? comma : p + strlen(p);
		const char *eq    = memchr(p, '=', (size_t) (end - p));
		int         role  = -1;

		if (eq == NULL || eq == end - 1) {
			snprintf(err, err_len,
			    "--map: \"%.*s\" is not ROLE=COLUMN",
			    (int) (end - p), p);
			return XSELL_EINVAL;
		}
		for (int r = 0; r < XS_ROLE_COUNT; r++) {
			if (strlen(role_names[r]) == (size_t) (eq - p) &&
			    strncasecmp(p, role_names[r], (size_t) (eq - p)) ==
			        0) {
				role = r;
			}
		}
		if (role < 0) {
			snprintf(err, err_len,
			    "--map: unknown role \"%.*s\" (roles: order, "
			    "user, item, ts, qty, price, category, type, "
			    "rating, ts_ms)",
			    (int) (eq - p), p);
			return XSELL_EINVAL;
		}
		if (m->col[role].len != 0) {
			snprintf(err, err_len, "--map: role %s given twice",
			    role_names[role]);
			return XSELL_EINVAL;
		}
		m->col[role].p   = eq + 1;
		m->col[role].len = (uint32_t) (end - eq - 1);
		p                = comma != NULL ? comma + 1 : end;
	}
	return XSELL_OK;
}

/* The header name with blanks trimmed. */
static struct xs_span
trimmed(struct xs_span s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (
	    s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t')) {
		s.len--;
	}
	return s;
}

static bool
span_caseeq(struct xs_span a, const char *p, size_t len)
{
	return a.len == len && (len == 0 || strncasecmp(a.p, p, len) == 0);
}

static bool
span_is_number(struct xs_span s, uint32_t *np)
{
	uint32_t v = 0;

	if (s.len == 0 || s.len > 9) {
		return false;
	}
	for (uint32_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9') {
			return false;
		}
		v = v * 10 + (uint32_t) (s.p[i] - '0');
	}
	*np = v;
	return true;
}

/* "InvoiceNo, StockCode, ..." into err, escaped and truncated. */
static void
columns_seen(const struct xs_span *header, size_t n, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0) {
		return;
	}
	out[0] = '\0';
	if (n == 0) {
		snprintf(out, len, "none");
		return;
	}
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		char esc[80];
		int  w;

		xs_escape(esc, sizeof(esc), header[i].p, header[i].len);
		w = snprintf(out + o, len - o, "%s\"%s\"", i ? ", " : "", esc);
		if (w < 0 || (size_t) w >= len - o) {
			break;
		}
		o += (size_t) w;
	}
}

static int32_t
find_column(const struct xs_span *header, size_t n, struct xs_span want)
{
	for (size_t i = 0; i < n; i++) {
		if (header[i].len == want.len &&
		    memcmp(header[i].p, want.p, want.len) == 0) {
			return (int32_t) i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (span_caseeq(trimmed(header[i]), want.p, want.len)) {
			return (int32_t) i;
		}
	}
	return -1;
}

xsell_err
xs_load_map_resolve(const struct xs_load_map *m, const struct xs_span *header,
    size_t n, struct xs_load_cols *out, char *err, size_t err_len)
{
	char seen[200];

	columns_seen(header, n, seen, sizeof(seen));
	for (int r = 0; r < XS_ROLE_COUNT; r++) {
		struct xs_span want =
		    m != NULL ? m->col[r] : (struct xs_span) { NULL, 0 };
		uint32_t num;

		out->col[r] = -1;
		if (want.len != 0 && span_is_number(want, &num)) {
			if (num < 1 || num > n) {
				snprintf(err, err_len,
				    "--map %s=%u: no column %u (the header "
				    "has %zu: %s)",
				    role_names[r], num, num, n, seen);
				return XSELL_EINVAL;
			}
			out->col[r] = (int32_t) num - 1;
		} else if (want.len != 0) {
			out->col[r] = find_column(header, n, want);
			if (out->col[r] < 0) {
				snprintf(err, err_len,
				    "--map %s=%.*s: no such column (columns "
				    "seen: %s)",
				    role_names[r], (int) want.len, want.p,
				    seen);
				return XSELL_EINVAL;
			}
		} else {
			for (int g = 0;
			     g < 8 && guesses[r][g] != NULL && out->col[r] < 0;
			     g++) {
				for (size_t i = 0; i < n; i++) {
					if (span_caseeq(trimmed(header[i]),
					        guesses[r][g],
					        strlen(guesses[r][g]))) {
						out->col[r] = (int32_t) i;
						break;
					}
				}
			}
		}
	}
	if (out->col[XS_ROLE_ORDER] < 0 && out->col[XS_ROLE_TYPE] < 0 &&
	    (m == NULL || m->type == XS_EV_ORDER)) {
		snprintf(err, err_len,
		    "no order column (give --map order=COLUMN, or --type for "
		    "a file of views, cart events or ratings); columns seen: "
		    "%s",
		    seen);
		return XSELL_EINVAL;
	}
	if (out->col[XS_ROLE_ITEM] < 0) {
		snprintf(err, err_len,
		    "no item column (give --map item=COLUMN); columns seen: "
		    "%s",
		    seen);
		return XSELL_EINVAL;
	}
	return XSELL_OK;
}

xsell_err
xs_load_map_check_baskets(
    const struct xs_load_map *m, char *err, size_t err_len)
{
	if (m == NULL) {
		return XSELL_OK;
	}
	if (m->type != XS_EV_ORDER) {
		snprintf(err, err_len, "%s",
		    "--type: the lines of a baskets file are orders, one "
		    "a line (no type column, no user): only --type order "
		    "applies");
		return XSELL_EINVAL;
	}
	for (int r = 0; r < XS_ROLE_COUNT; r++) {
		if (m->col[r].len != 0) {
			snprintf(err, err_len,
			    "--map %s=%.*s: a baskets file has no columns "
			    "(each line is the items of one order)",
			    role_names[r], (int) m->col[r].len, m->col[r].p);
			return XSELL_EINVAL;
		}
	}
	return XSELL_OK;
}
