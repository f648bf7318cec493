/* SPDX-License-Identifier: MIT */
/* Lines -> orders in memory. Every accepted line is 24 bytes (order,
 * item, qty, price) with ids interned; per order only its earliest ts
 * and first user are kept, per item its last price and category. The
 * lines of one order are brought together only when the orders are
 * walked (a counting sort by order number, 4 bytes a line), so reading
 * stays a sequential append however scattered the lines are. */
#include "load/load_impl.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NONE UINT32_MAX

struct load_line {
	uint32_t order; /* number in l->orders */
	uint32_t item;  /* number in l->items */
	double   qty;
	double   price; /* NaN: none */
};

struct order_slot {
	int64_t  ts;     /* INT64_MAX: no line gave one */
	uint32_t user;   /* NONE: guest */
	uint8_t  type;   /* enum xs_event_type */
	uint8_t  rating; /* rating events: 1..5 */
};

struct xs_loader {
	struct xs_intern orders, items, users, cats;
	struct xs_intern excluded; /* item ids left out; read-only while
	                              a file is read (its helper reads it) */
	/* The ids of orders with lines of excluded items: those that had
	 * no other line are counted as left empty. */
	struct xs_intern left_out;

	struct load_line *lines;
	size_t            n_lines, lines_cap;

	/* Per order slot (by the orders interner's number). A view, cart
	 * event or rating is a slot of its own (interned under a key no
	 * order id can have: a NUL and a number), so that every event keeps
	 * its place in the stream. */
	struct order_slot *slots;
	size_t             orders_cap;
	uint64_t           n_events; /* single events so far (their keys) */
	enum xs_event_type default_type; /* of lines without a type column */

	double   *item_price; /* NaN: none seen */
	uint32_t *item_cat;   /* NONE: none seen */
	size_t    items_cap;
	bool      has_meta; /* some file had a price or category column */

	int64_t now; /* ts of orders without one */

	/* counts is before + the counts of the file being read, made up
	 * whenever someone may look (loader_counts). */
	struct xs_load_counts counts, before;
	struct xs_load_reject rejects[XS_LOAD_REJECTS_KEPT];
	size_t                n_rejects;

	xs_load_progress_cb progress;
	void               *progress_ctx;
	uint64_t            applied;

	/* Built by group(): the lines of order o are
	 * perm[first[o] .. first[o + 1]). */
	uint32_t *perm, *first;
	size_t    grouped_lines; /* n_lines when built; SIZE_MAX: never */

	/* Scratch of each_order. ev_item[k] is the item number of
	 * ev_lines[k]. */
	uint32_t             *item_stamp, *item_pos;
	struct xs_order_line *ev_lines;
	uint32_t             *ev_item;
	size_t                ev_lines_cap, ev_item_cap;
	struct xs_event      *evs;
	size_t                evs_cap;
	bool                 *ev_has_ts; /* by event of evs: its lines gave
	                                    a ts (else it has 'now') */
	size_t ev_has_ts_cap;
};

xsell_err
xs_loader_alloc(xs_loader **lp)
{
	xs_loader *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		return XSELL_ENOMEM;
	}
	xs_intern_init(&l->orders);
	xs_intern_init(&l->items);
	xs_intern_init(&l->users);
	xs_intern_init(&l->cats);
	xs_intern_init(&l->excluded);
	xs_intern_init(&l->left_out);
	l->grouped_lines = SIZE_MAX;
	*lp              = l;
	return XSELL_OK;
}

void
xs_loader_free(xs_loader *l)
{
	if (l == NULL) {
		return;
	}
	xs_intern_fini(&l->orders);
	xs_intern_fini(&l->items);
	xs_intern_fini(&l->users);
	xs_intern_fini(&l->cats);
	xs_intern_fini(&l->excluded);
	xs_intern_fini(&l->left_out);
	free(l->lines);
	free(l->slots);
	free(l->item_price);
	free(l->item_cat);
	free(l->perm);
	free(l->first);
	free(l->item_stamp);
	free(l->item_pos);
	free(l->ev_lines);
	free(l->ev_item);
	free(l->evs);
	free(l->ev_has_ts);
	free(l);
}

void
xs_loader_set_progress(xs_loader *l, xs_load_progress_cb cb, void *ctx)
{
	l->progress     = cb;
	l->progress_ctx = ctx;
}

const struct xs_load_counts *
xs_loader_counts(const xs_loader *l)
{
	return &l->counts;
}

const struct xs_load_reject *
xs_loader_rejects(const xs_loader *l, size_t *np)
{
	*np = l->n_rejects;
	return l->rejects;
}

size_t
xs_loader_n_orders(const xs_loader *l)
{
	return l->orders.n;
}

size_t
xs_loader_n_items(const xs_loader *l)
{
	return l->items.n;
}

size_t
xs_loader_n_orders_left_empty(const xs_loader *l)
{
	size_t n = 0;

	for (uint32_t i = 0; i < l->left_out.n; i++) {
		struct xs_span id = xs_intern_get(&l->left_out, i);

		n += !xs_intern_has(&l->orders, id.p, id.len);
	}
	return n;
}

uint64_t
xs_loader_applied(const xs_loader *l)
{
	return l->applied;
}

/* Add counts d into c (every counter but bytes, which the reader
 * gives). */
static void
counts_add(struct xs_load_counts *c, const struct xs_load_counts *d)
{
	c->records += d->records;
	c->lines += d->lines;
	c->events += d->events;
	c->skipped += d->skipped;
	c->excluded += d->excluded;
	c->rejected += d->rejected;
}

/* The load's counters: those of the files before this one, and this
 * one's so far (c). */
static void
loader_counts(xs_loader *l, const struct xs_load_counts *c)
{
	l->counts = l->before;
	counts_add(&l->counts, c);
	l->counts.bytes += c->bytes;
}

/* ==== Growth ==== */

/* Grow *pp (of elements of 'size') to hold at least 'n'. */
static xsell_err
grow(void **pp, size_t *capp, size_t n, size_t size)
{
	size_t cap = *capp ? *capp : 1024;
	void  *p;

	if (n <= *capp) {
		return XSELL_OK;
	}
	while (cap < n) {
		cap *= 2;
	}
	p = realloc(*pp, cap * size);
	if (p == NULL) {
		return XSELL_ENOMEM;
	}
	*pp   = p;
	*capp = cap;
	return XSELL_OK;
}

/* Per-order and per-item arrays follow their interners. */
static xsell_err
order_slots(xs_loader *l, uint32_t o)
{
	size_t cap = l->orders_cap;

	if (o < l->orders_cap) {
		return XSELL_OK;
	}
	if (grow((void **) &l->slots, &cap, (size_t) o + 1,
	        sizeof(*l->slots)) != XSELL_OK) {
		return XSELL_ENOMEM;
	}
	for (size_t i = l->orders_cap; i < cap; i++) {
		l->slots[i].ts     = INT64_MAX;
		l->slots[i].user   = NONE;
		l->slots[i].type   = XS_EV_ORDER;
		l->slots[i].rating = 0;
	}
	l->orders_cap = cap;
	return XSELL_OK;
}

static xsell_err
item_slots(xs_loader *l, uint32_t it)
{
	size_t cap = l->items_cap, cap2 = l->items_cap;

	if (it < l->items_cap) {
		return XSELL_OK;
	}
	if (grow((void **) &l->item_price, &cap, (size_t) it + 1,
	        sizeof(*l->item_price)) != XSELL_OK ||
	    grow((void **) &l->item_cat, &cap2, (size_t) it + 1,
	        sizeof(*l->item_cat)) != XSELL_OK) {
		return XSELL_ENOMEM;
	}
	for (size_t i = l->items_cap; i < cap; i++) {
		l->item_price[i] = NAN;
		l->item_cat[i]   = NONE;
	}
	l->items_cap = cap;
	return XSELL_OK;
}

/* ==== Validation ==== */

struct read_batch;

/* Where the records of one file go. Read here, every line is added to
 * the loader at once (batch NULL); read by the helper thread (see
 * "Reading on a helper thread"), lines, rejections and counts go into
 * the batch being filled, and the loader takes them in batch order. */
struct reject_ctx {
	xs_loader             *l;
	const char            *file;
	struct xs_load_counts *c;    /* the file's counters (or the batch's) */
	struct read_pipe      *pipe; /* the helper's: NULL if none */
	struct read_batch     *batch;     /* being filled (pipe only) */
	size_t                 kept_left; /* rejections still kept (pipe) */
};

static char *reject_text(struct reject_ctx *rc);

static void reject(struct reject_ctx *rc, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reject(struct reject_ctx *rc, uint64_t line, const char *fmt, ...)
{
	char *t;

	rc->c->rejected++;
	t = reject_text(rc);
	if (t != NULL) {
		size_t  len = sizeof(rc->l->rejects[0].text);
		int     w;
		va_list ap;

		w = snprintf(
		    t, len, "%s:%llu: ", rc->file, (unsigned long long) line);
		if (w >= 0 && (size_t) w < len) {
			va_start(ap, fmt);
			vsnprintf(t + w, len - (size_t) w, fmt, ap);
			va_end(ap);
		}
	}
}

/* A number field: strict, finite. strtod must take the whole field:
 * ending at a NUL byte inside it is not enough ("1\0junk" is no 1). */
static bool
parse_number(struct xs_span s, double *out)
{
	char   tmp[64];
	char  *end;
	double v;

	if (s.len == 0 || s.len >= sizeof(tmp)) {
		return false;
	}
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	errno      = 0;
	v          = strtod(tmp, &end);
	if (end != tmp + s.len || errno == ERANGE || !isfinite(v) ||
	    tmp[0] == ' ' || tmp[0] == '\t') {
		return false;
	}
	*out = v;
	return true;
}

/* Why id 's' is unusable, or NULL. */
static const char *
id_problem(struct xs_span s)
{
	if (s.p == NULL || s.len == 0) {
		return "missing";
	}
	if (s.len > XSELL_ID_MAX) {
		return "longer than 256 bytes";
	}
	if (!xs_id_is_valid(s.p, s.len)) {
		return "not valid UTF-8 (or holds a NUL byte)";
	}
	return NULL;
}

static struct xs_span
field(const struct xs_load_record *rec, int32_t col)
{
	struct xs_span none = { NULL, 0 };

	if (col < 0 || (size_t) col >= rec->n_fields) {
		return none;
	}
	return rec->fields[col];
}

/* ==== Adding lines ==== */

/* One accepted line. Spans are borrowed from the reader. */
struct parsed_line {
	struct xs_span     order, item, user, category;
	double             qty, price;
	int64_t            ts;
	bool               has_ts;
	enum xs_event_type type;
	uint8_t            rating;   /* rating lines */
	bool               left_out; /* an order line of excluded items:
	                                only its order id is kept */
};

static xsell_err
add_line(xs_loader *l, const struct parsed_line *pl)
{
	struct load_line *ln;
	uint32_t          o, it, u = NONE, c = NONE;
	char              key[1 + sizeof(uint64_t)];
	struct xs_span    slot = pl->order;
	xsell_err         err;

	if (pl->left_out) {
		return xs_intern_put(
		    &l->left_out, pl->order.p, pl->order.len, &o);
	}
	if (pl->type != XS_EV_ORDER) {
		key[0] = '\0';
		memcpy(key + 1, &l->n_events, sizeof(l->n_events));
		l->n_events++;
		slot.p   = key;
		slot.len = sizeof(key);
	}
	err = xs_intern_put(&l->orders, slot.p, slot.len, &o);
	if (err == XSELL_OK) {
		err = order_slots(l, o);
	}
	if (err == XSELL_OK) {
		err = xs_intern_put(&l->items, pl->item.p, pl->item.len, &it);
	}
	if (err == XSELL_OK) {
		err = item_slots(l, it);
	}
	if (err == XSELL_OK && pl->user.len != 0) {
		err = xs_intern_put(&l->users, pl->user.p, pl->user.len, &u);
	}
	if (err == XSELL_OK && pl->category.len != 0) {
		err = xs_intern_put(
		    &l->cats, pl->category.p, pl->category.len, &c);
	}
	if (err == XSELL_OK && l->n_lines >= UINT32_MAX) {
		err = XSELL_ETOOBIG; /* lines are numbered in 32 bits */
	}
	if (err == XSELL_OK) {
		err = grow((void **) &l->lines, &l->lines_cap, l->n_lines + 1,
		    sizeof(*l->lines));
	}
	if (err != XSELL_OK) {
		return err;
	}
	ln        = &l->lines[l->n_lines++];
	ln->order = o;
	ln->item  = it;
	ln->qty   = pl->qty;
	ln->price = pl->price;
	if (pl->has_ts && pl->ts < l->slots[o].ts) {
		l->slots[o].ts = pl->ts;
	}
	if (u != NONE && l->slots[o].user == NONE) {
		l->slots[o].user = u;
	}
	l->slots[o].type   = (uint8_t) pl->type;
	l->slots[o].rating = pl->rating;
	if (!isnan(pl->price)) {
		l->item_price[it] = pl->price;
	}
	if (c != NONE) {
		l->item_cat[it] = c;
	}
	return XSELL_OK;
}

static xsell_err batch_line(
    struct reject_ctx *rc, const struct parsed_line *pl);

xsell_err
xs_loader_exclude_item(xs_loader *l, const char *id, size_t len)
{
	uint32_t unused;

	return xs_intern_put(&l->excluded, id, len, &unused);
}

/* Whether 'item' is left out. */
static bool
item_is_excluded(const xs_loader *l, struct xs_span item)
{
	return l->excluded.n != 0 &&
	    xs_intern_has(&l->excluded, item.p, item.len);
}

/* An accepted line: added now, or put in the batch for the loader. */
static xsell_err
take_line(struct reject_ctx *rc, const struct parsed_line *pl)
{
	return rc->pipe == NULL ? add_line(rc->l, pl) : batch_line(rc, pl);
}

/* The line's ts column, plus its ts_ms column if mapped (exports that
 * give a date and the milliseconds since the session began). False,
 * with the line rejected, if either is bad or the sum out of range. */
static bool
take_ts(struct reject_ctx *rc, const struct xs_load_record *rec,
    const struct xs_load_cols *cols, struct parsed_line *pl)
{
	struct xs_span s = field(rec, cols->col[XS_ROLE_TS]);
	char           esc[80];
	double         ms;

	if (s.len != 0) {
		if (!xs_load_ts_parse(s.p, s.len, &pl->ts)) {
			xs_escape(esc, sizeof(esc), s.p, s.len);
			reject(rc, rec->line, "bad timestamp \"%s\"", esc);
			return false;
		}
		pl->has_ts = true;
	}
	s = field(rec, cols->col[XS_ROLE_TS_MS]);
	if (s.len == 0 || !pl->has_ts) {
		return true;
	}
	/* The range first: casting a double outside int64's range is
	 * undefined. */
	if (!parse_number(s, &ms) || ms < 0 ||
	    ms / 1000 >= (double) (XS_LOAD_TS_LIMIT - pl->ts)) {
		xs_escape(esc, sizeof(esc), s.p, s.len);
		reject(rc, rec->line,
		    "bad ts_ms \"%s\" (milliseconds >= 0 added to ts)", esc);
		return false;
	}
	pl->ts += (int64_t) (ms / 1000);
	return true;
}

/* A view, cart event or rating line (pl has its type, item and user):
 * it needs an item and a user, a rating needs 1..5; qty, price and
 * order are not read. */
static xsell_err
take_event(struct reject_ctx *rc, const struct xs_load_record *rec,
    const struct xs_load_cols *cols, struct parsed_line *pl)
{
	const char    *why = id_problem(pl->item);
	struct xs_span s;
	char           esc[80];
	double         rating;

	if (why != NULL) {
		xs_escape(esc, sizeof(esc), pl->item.p, pl->item.len);
		reject(rc, rec->line, "item id %s%s%s%s", why,
		    pl->item.len ? " \"" : "", esc, pl->item.len ? "\"" : "");
		return XSELL_OK;
	}
	why = id_problem(pl->user);
	if (why != NULL) {
		xs_escape(esc, sizeof(esc), pl->user.p, pl->user.len);
		reject(rc, rec->line,
		    "user id %s%s%s%s (views, cart events "
		    "and ratings need a user)",
		    why, pl->user.len ? " \"" : "", esc,
		    pl->user.len ? "\"" : "");
		return XSELL_OK;
	}
	if (!take_ts(rc, rec, cols, pl)) {
		return XSELL_OK;
	}
	if (pl->type == XS_EV_RATING) {
		s = field(rec, cols->col[XS_ROLE_RATING]);
		/* The range first: casting a double outside int's range
		 * is undefined. */
		if (!parse_number(s, &rating) || rating < 1 || rating > 5 ||
		    rating != (int) rating) {
			xs_escape(esc, sizeof(esc), s.p, s.len);
			reject(rc, rec->line,
			    "bad rating \"%s\" (an integer 1..5)", esc);
			return XSELL_OK;
		}
		pl->rating = (uint8_t) rating;
	}
	pl->qty   = 1;
	pl->price = NAN;
	if (item_is_excluded(rc->l, pl->item)) {
		rc->c->excluded++;
		return XSELL_OK;
	}
	rc->c->lines++;
	rc->c->events++;
	return take_line(rc, pl);
}

/* A record of a CSV, TSV or JSONL file: validate every field, then add
 * it, skip it (a return) or reject it. 'n_cols' is the header's field
 * count, which every record must have: one separator too many or too few
 * shifts the columns after it, and loading that would be silently
 * wrong. */
static xsell_err
take_record(struct reject_ctx *rc, const struct xs_load_record *rec,
    const struct xs_load_cols *cols, size_t n_cols)
{
	struct parsed_line pl = { 0 };
	struct xs_span     s;
	const char        *why;
	char               esc[80];

	if (rec->n_fields != n_cols) {
		reject(rc, rec->line, "%zu fields, the header has %zu",
		    rec->n_fields, n_cols);
		return XSELL_OK;
	}
	pl.order = field(rec, cols->col[XS_ROLE_ORDER]);
	pl.item  = field(rec, cols->col[XS_ROLE_ITEM]);
	pl.user  = field(rec, cols->col[XS_ROLE_USER]);
	pl.type  = rc->l->default_type; /* read only while reading */
	/* A type that is absent (no column; a JSON key missing or null)
	 * is the file's (--type); an empty one is no type: rejected. */
	s = field(rec, cols->col[XS_ROLE_TYPE]);
	if (s.p != NULL && !xs_load_event_type_parse(s.p, s.len, &pl.type)) {
		xs_escape(esc, sizeof(esc), s.p, s.len);
		reject(rc, rec->line,
		    "unknown event type \"%s\" (order, view, cart_add, "
		    "cart_remove, rating, or an alias: see --help)",
		    esc);
		return XSELL_OK;
	}
	if (pl.type != XS_EV_ORDER) {
		return take_event(rc, rec, cols, &pl);
	}
	why = id_problem(pl.order);
	if (why != NULL) {
		xs_escape(esc, sizeof(esc), pl.order.p, pl.order.len);
		reject(rc, rec->line, "order id %s%s%s%s", why,
		    pl.order.len ? " \"" : "", esc, pl.order.len ? "\"" : "");
		return XSELL_OK;
	}
	why = id_problem(pl.item);
	if (why != NULL) {
		xs_escape(esc, sizeof(esc), pl.item.p, pl.item.len);
		reject(rc, rec->line, "item id %s%s%s%s", why,
		    pl.item.len ? " \"" : "", esc, pl.item.len ? "\"" : "");
		return XSELL_OK;
	}
	if (pl.user.len != 0) {
		why = id_problem(pl.user);
		if (why != NULL) {
			xs_escape(esc, sizeof(esc), pl.user.p, pl.user.len);
			reject(rc, rec->line, "user id %s \"%s\"", why, esc);
			return XSELL_OK;
		}
	}
	pl.qty = 1;
	s      = field(rec, cols->col[XS_ROLE_QTY]);
	if (s.len != 0 && !parse_number(s, &pl.qty)) {
		xs_escape(esc, sizeof(esc), s.p, s.len);
		reject(rc, rec->line, "bad qty \"%s\"", esc);
		return XSELL_OK;
	}
	pl.price = NAN;
	s        = field(rec, cols->col[XS_ROLE_PRICE]);
	if (s.len != 0 && (!parse_number(s, &pl.price) || pl.price < 0)) {
		xs_escape(esc, sizeof(esc), s.p, s.len);
		reject(rc, rec->line, "bad price \"%s\" (a number >= 0)", esc);
		return XSELL_OK;
	}
	if (!take_ts(rc, rec, cols, &pl)) {
		return XSELL_OK;
	}
	pl.category = field(rec, cols->col[XS_ROLE_CATEGORY]);
	if (pl.category.len != 0 &&
	    (pl.category.len > XSELL_CATEGORY_MAX ||
	        !xs_id_is_valid(pl.category.p, pl.category.len))) {
		xs_escape(esc, sizeof(esc), pl.category.p, pl.category.len);
		reject(rc, rec->line, "bad category \"%s\"", esc);
		return XSELL_OK;
	}
	if (!(pl.qty > 0)) {
		rc->c->skipped++;
		return XSELL_OK;
	}
	if (item_is_excluded(rc->l, pl.item)) {
		/* Its order id is kept, to tell an order that had nothing
		 * else (xs_loader_n_orders_left_empty). */
		rc->c->excluded++;
		pl.left_out = true;
		return take_line(rc, &pl);
	}
	rc->c->lines++;
	return take_line(rc, &pl);
}

/* A basket line: order id = line number, every field an item, ts 0 (the
 * format has no time, and a fixed one keeps reloads identical). */
static xsell_err
take_basket(struct reject_ctx *rc, const struct xs_load_record *rec)
{
	struct parsed_line pl = { 0 };
	char               id[24];
	char               esc[80];
	size_t             taken = 0;
	xsell_err          err   = XSELL_OK;

	for (size_t i = 0; i < rec->n_fields; i++) {
		const char *why = id_problem(rec->fields[i]);

		if (why != NULL) {
			xs_escape(esc, sizeof(esc), rec->fields[i].p,
			    rec->fields[i].len);
			reject(rc, rec->line, "item %zu: id %s%s%s%s", i + 1,
			    why, rec->fields[i].len ? " \"" : "", esc,
			    rec->fields[i].len ? "\"" : "");
			return XSELL_OK;
		}
	}
	pl.order.p   = id;
	pl.order.len = (uint32_t) snprintf(
	    id, sizeof(id), "%llu", (unsigned long long) rec->line);
	pl.qty    = 1;
	pl.price  = NAN;
	pl.has_ts = true;
	pl.ts     = 0;
	for (size_t i = 0; i < rec->n_fields && err == XSELL_OK; i++) {
		pl.item = rec->fields[i];
		if (!item_is_excluded(rc->l, pl.item)) {
			err = take_line(rc, &pl);
			taken++;
		}
	}
	/* The line is counted once, as every line is: loaded if it keeps
	 * an item (its left-out ones are only dropped), else excluded (a
	 * basket of left-out items is no order). */
	if (taken != 0) {
		rc->c->lines++;
	} else {
		rc->c->excluded++;
		pl.left_out = true;
		err         = take_line(rc, &pl);
	}
	return err;
}

/* ==== Reading on a helper thread ==== */

/* Reading a file (splitting records, parsing numbers and times,
 * checking ids) is about a sixth of a fresh load, and needs nothing of
 * the loader but the column map. So a helper thread reads it into
 * batches of accepted lines (their ids copied into the batch) while the
 * loader adds the lines of the batch before, interning their ids; the
 * loader takes the batches in the order they were filled, so it adds
 * the same lines in the same order as reading the file itself. A batch
 * ends at READ_LINES lines, READ_LINES records or READ_BYTES bytes of
 * ids; READ_RING batches (about 10 MiB) are in flight at most. Only
 * regular files are read this way: if the loader fails, it stops the
 * helper at its next batch and joins it, which a pipe could hold up. */
#define READ_LINES 16384u
#define READ_BYTES ((size_t) 1 << 20)
#define READ_RING 4u

/* The ids of a line fit a batch many times over: every one is checked
 * against its limit before the line is taken (id_problem, the category
 * check; a basket's order id is a line number). */
_Static_assert(3 * XSELL_ID_MAX + XSELL_CATEGORY_MAX <= READ_BYTES,
    "a line's ids must fit an empty batch");

struct read_batch {
	struct parsed_line   *lines; /* READ_LINES; spans into bytes */
	size_t                n_lines;
	char                 *bytes; /* READ_BYTES */
	size_t                used;
	struct xs_load_counts counts; /* counted while it was filled */
	struct xs_load_reject rejects[XS_LOAD_REJECTS_KEPT];
	size_t                n_rejects;
	uint64_t              offset; /* the reader's, when handed over */
};

struct read_pipe {
	struct read_batch          b[READ_RING];
	struct xs_ring             ring; /* the helper fills b, in turn */
	xs_load_reader            *r;
	enum xs_load_format        fmt;
	const struct xs_load_cols *cols;
	size_t                     n_cols;
	struct reject_ctx          rc;     /* the helper's */
	int                        err_no; /* errno, with XSELL_EIO */
};

/* Where the text of a rejection kept goes; NULL once enough are. */
static char *
reject_text(struct reject_ctx *rc)
{
	xs_loader         *l = rc->l;
	struct read_batch *b = rc->batch;

	if (rc->pipe == NULL) {
		return l->n_rejects < XS_LOAD_REJECTS_KEPT
		    ? l->rejects[l->n_rejects++].text
		    : NULL;
	}
	if (rc->kept_left == 0 || b->n_rejects == XS_LOAD_REJECTS_KEPT) {
		return NULL;
	}
	rc->kept_left--;
	return b->rejects[b->n_rejects++].text;
}

/* One record read: counted, then rejected, skipped or taken. */
static xsell_err
take_one(struct reject_ctx *rc, const struct xs_load_record *rec,
    enum xs_load_format fmt, const struct xs_load_cols *cols, size_t n_cols)
{
	rc->c->records++;
	if (rec->error != NULL) {
		reject(rc, rec->line, "%s", rec->error);
		return XSELL_OK;
	}
	if (fmt == XS_LOAD_BASKETS) {
		return take_basket(rc, rec);
	}
	return take_record(rc, rec, cols, n_cols);
}

/* The helper: the next free batch into rc->batch. XSELL_EINTERNAL if
 * the loader stopped it (never seen by the loader, which failed). */
static xsell_err
batch_next(struct read_pipe *p)
{
	struct read_batch *b;
	size_t             k;

	if (!xs_ring_fill(&p->ring, &k)) {
		return XSELL_EINTERNAL;
	}
	b            = &p->b[k];
	b->n_lines   = 0;
	b->used      = 0;
	b->n_rejects = 0;
	memset(&b->counts, 0, sizeof(b->counts));
	p->rc.batch = b;
	p->rc.c     = &b->counts;
	return XSELL_OK;
}

/* The helper: hand the batch being filled to the loader. */
static void
batch_publish(struct read_pipe *p)
{
	p->rc.batch->offset = xs_load_reader_offset(p->r);
	xs_ring_publish(&p->ring);
}

/* A copy of s in the batch's bytes (room checked by the caller). */
static struct xs_span
batch_copy(struct read_batch *b, struct xs_span s)
{
	struct xs_span out = { NULL, 0 };

	if (s.p != NULL) {
		out.p   = b->bytes + b->used;
		out.len = s.len;
		memcpy(b->bytes + b->used, s.p, s.len);
		b->used += s.len;
	}
	return out;
}

/* The helper: an accepted line into the batch, its ids copied (the
 * order's only for an order line: other lines do not use it). A full
 * batch is handed over first. */
static xsell_err
batch_line(struct reject_ctx *rc, const struct parsed_line *pl)
{
	struct read_batch  *b     = rc->batch;
	struct xs_span      order = pl->order;
	struct parsed_line *out;
	size_t              need;
	xsell_err           e;

	if (pl->type != XS_EV_ORDER) {
		order.p   = NULL;
		order.len = 0;
	}
	need = (size_t) order.len + pl->item.len + pl->user.len +
	    pl->category.len;
	assert(need <= READ_BYTES); /* the _Static_assert above */
	if (b->n_lines == READ_LINES || READ_BYTES - b->used < need) {
		batch_publish(rc->pipe);
		e = batch_next(rc->pipe);
		if (e != XSELL_OK) {
			return e;
		}
		b = rc->batch;
	}
	out           = &b->lines[b->n_lines++];
	*out          = *pl;
	out->order    = batch_copy(b, order);
	out->item     = batch_copy(b, pl->item);
	out->user     = batch_copy(b, pl->user);
	out->category = batch_copy(b, pl->category);
	return XSELL_OK;
}

static void *
read_run(void *arg)
{
	struct read_pipe *p = arg;
	xsell_err         e = batch_next(p);

	while (e == XSELL_OK) {
		struct xs_load_record rec;

		e = xs_load_reader_next(p->r, &rec);
		if (e == XSELL_OK) {
			e = take_one(&p->rc, &rec, p->fmt, p->cols, p->n_cols);
		}
		if (e == XSELL_OK && p->rc.c->records >= READ_LINES) {
			batch_publish(p);
			e = batch_next(p);
		}
	}
	p->err_no = errno;
	if (e != XSELL_EINTERNAL) {
		batch_publish(p); /* the last one, or the one that failed */
	}
	xs_ring_end(&p->ring, e);
	return NULL;
}

/* The loader: add a batch's lines, counts and rejections kept. */
static xsell_err
batch_take(struct reject_ctx *rc, const struct read_batch *b)
{
	xs_loader *l   = rc->l;
	xsell_err  err = XSELL_OK;

	for (size_t i = 0; i < b->n_lines && err == XSELL_OK; i++) {
		err = add_line(l, &b->lines[i]);
	}
	counts_add(rc->c, &b->counts);
	for (size_t i = 0; i < b->n_rejects; i++) {
		if (l->n_rejects < XS_LOAD_REJECTS_KEPT) {
			l->rejects[l->n_rejects++] = b->rejects[i];
		}
	}
	return err;
}

static void
pipe_free(struct read_pipe *p)
{
	for (unsigned i = 0; i < READ_RING; i++) {
		free(p->b[i].lines);
		free(p->b[i].bytes);
	}
	free(p);
}

/* Start the helper on reader r (*rc names the file and the loader);
 * NULL if it cannot start: the loader reads the file itself. */
static struct read_pipe *
read_start(const struct reject_ctx *rc, xs_load_reader *r,
    enum xs_load_format fmt, const struct xs_load_cols *cols, size_t n_cols)
{
	struct read_pipe *p = calloc(1, sizeof(*p));
	bool              ok;

	if (p == NULL) {
		return NULL;
	}
	ok = true;
	for (unsigned i = 0; i < READ_RING && ok; i++) {
		p->b[i].lines = malloc(READ_LINES * sizeof(*p->b[i].lines));
		p->b[i].bytes = malloc(READ_BYTES);
		ok            = p->b[i].lines != NULL && p->b[i].bytes != NULL;
	}
	p->r            = r;
	p->fmt          = fmt;
	p->cols         = cols;
	p->n_cols       = n_cols;
	p->rc           = *rc;
	p->rc.pipe      = p;
	p->rc.kept_left = XS_LOAD_REJECTS_KEPT - rc->l->n_rejects;
	if (ok && xs_ring_start(&p->ring, READ_RING, read_run, p)) {
		return p;
	}
	pipe_free(p);
	return NULL;
}

/* Stop the helper (at its next batch, if it is still reading), join
 * it; errno as the helper left it. */
static void
read_end(struct read_pipe *p)
{
	int err_no;

	xs_ring_join(&p->ring);
	err_no = p->err_no;
	pipe_free(p);
	errno = err_no;
}

/* The loader's side: every batch, in order, until the helper's last.
 * Returns how reading ended (XSELL_ENOENT: the end of the file) or the
 * loader's own error. */
static xsell_err
read_piped(struct read_pipe *p, struct reject_ctx *rc)
{
	xs_loader *l = rc->l;
	size_t     k;
	xsell_err  e;

	while (xs_ring_take(&p->ring, &k, &e)) {
		const struct read_batch *b = &p->b[k];

		e = batch_take(rc, b);
		if (e != XSELL_OK) {
			return e;
		}
		if (l->progress != NULL) {
			rc->c->bytes = b->offset;
			loader_counts(l, rc->c);
			l->progress(l->progress_ctx, l);
		}
		xs_ring_release(&p->ring);
	}
	return e;
}

/* Read here: every record of r, each added as it is read. */
static xsell_err
read_here(struct reject_ctx *rc, xs_load_reader *r, enum xs_load_format fmt,
    const struct xs_load_cols *cols, size_t n_cols)
{
	xs_loader *l = rc->l;
	xsell_err  e;

	for (;;) {
		struct xs_load_record rec;

		e = xs_load_reader_next(r, &rec);
		if (e == XSELL_OK) {
			e = take_one(rc, &rec, fmt, cols, n_cols);
		}
		if (e != XSELL_OK) {
			return e;
		}
		if (l->progress != NULL &&
		    ((l->before.records + rc->c->records) & 4095) == 0) {
			rc->c->bytes = xs_load_reader_offset(r);
			loader_counts(l, rc->c);
			l->progress(l->progress_ctx, l);
		}
	}
}

/* Whether f is a regular file (read on the helper thread). */
static bool
is_regular(FILE *f)
{
	struct stat sb;
	int         fd = fileno(f);

	return fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* ==== Reading files ==== */

/* A file opened and its columns resolved, its records not read yet. */
struct xs_load_file {
	const char         *path;  /* borrowed: names it in messages */
	FILE               *f;     /* read by r */
	FILE               *owned; /* f, if opened here: closed with it */
	xs_load_reader     *r;
	enum xs_load_format fmt;
	struct xs_load_cols cols; /* all 0 for baskets (no header) */
	enum xs_event_type  type; /* of lines without a type column */
};

static xsell_err
open_file(const char *path, FILE **fp, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return XSELL_EIO;
	}
	*fp = f;
	return XSELL_OK;
}

/* Open a reader and resolve the columns. */
static xsell_err
start_file(FILE *f, const char *path, enum xs_load_format fmt,
    const struct xs_load_map *m, xs_load_reader **rp,
    struct xs_load_cols *cols, char *err, size_t err_len)
{
	const struct xs_span *hdr;
	size_t                n;
	xsell_err             e;
	char                  why[400];

	if (fmt == XS_LOAD_BASKETS) {
		e = xs_load_map_check_baskets(m, why, sizeof(why));
		if (e != XSELL_OK) {
			snprintf(err, err_len, "%s: %s", path, why);
			return e;
		}
	}
	e = xs_load_reader_open(rp, f, path, fmt, err, err_len);
	if (e != XSELL_OK || fmt == XS_LOAD_BASKETS) {
		return e;
	}
	xs_load_reader_header(*rp, &hdr, &n);
	e = xs_load_map_resolve(m, hdr, n, cols, why, sizeof(why));
	if (e != XSELL_OK) {
		snprintf(err, err_len, "%s: %s", path, why);
		xs_load_reader_close(*rp);
		*rp = NULL;
	}
	return e;
}

static void
file_fini(struct xs_load_file *lf)
{
	xs_load_reader_close(lf->r);
	lf->r = NULL;
	if (lf->owned != NULL) {
		(void) fclose(lf->owned); /* read only: nothing to lose */
		lf->owned = NULL;
	}
}

/* Open 'path' (or read 'f' if not NULL) into *lf, the caller's: its
 * reader, past the header, and its columns. */
static xsell_err
file_init(struct xs_load_file *lf, const char *path, FILE *f,
    enum xs_load_format fmt, const struct xs_load_map *m, char *err,
    size_t err_len)
{
	xsell_err e;

	memset(lf, 0, sizeof(*lf));
	lf->path = path;
	lf->fmt  = fmt;
	lf->type = m != NULL ? m->type : XS_EV_ORDER;
	if (f == NULL) {
		e = open_file(path, &lf->owned, err, err_len);
		if (e != XSELL_OK) {
			return e;
		}
		f = lf->owned;
	}
	lf->f = f;
	e     = start_file(f, path, fmt, m, &lf->r, &lf->cols, err, err_len);
	if (e != XSELL_OK) {
		file_fini(lf);
	}
	return e;
}

/* Every record of the file 'lf', from where its reader is. */
static xsell_err
file_read(xs_loader *l, struct xs_load_file *lf, int64_t now,
    struct xs_load_counts *fc, char *err, size_t err_len)
{
	struct reject_ctx rc;
	struct read_pipe *pipe;
	size_t            n_cols = 0;
	xsell_err         e;

	l->now           = now;
	l->default_type  = lf->type;
	l->grouped_lines = SIZE_MAX;
	l->before        = l->counts;
	if (lf->fmt != XS_LOAD_BASKETS) {
		const struct xs_span *hdr;

		xs_load_reader_header(lf->r, &hdr, &n_cols);
		xs_load_reader_use(lf->r, &lf->cols);
		if (lf->cols.col[XS_ROLE_PRICE] >= 0 ||
		    lf->cols.col[XS_ROLE_CATEGORY] >= 0) {
			l->has_meta = true;
		}
	}
	memset(&rc, 0, sizeof(rc));
	rc.l    = l;
	rc.file = lf->path;
	rc.c    = fc;
	pipe    = is_regular(lf->f)
	       ? read_start(&rc, lf->r, lf->fmt, &lf->cols, n_cols)
	       : NULL;
	if (pipe != NULL) {
		e = read_piped(pipe, &rc);
		read_end(pipe); /* errno: the helper's, for XSELL_EIO */
	} else {
		e = read_here(&rc, lf->r, lf->fmt, &lf->cols, n_cols);
	}
	fc->bytes = xs_load_reader_offset(lf->r);
	loader_counts(l, fc);
	if (e == XSELL_ENOENT) {
		assert(fc->records ==
		    fc->lines + fc->skipped + fc->excluded + fc->rejected);
		e = XSELL_OK;
	} else if (e != XSELL_OK) {
		snprintf(err, err_len, "%s: %s", lf->path,
		    e == XSELL_EIO ? strerror(errno) : xsell_strerror(e));
	}
	return e;
}

/* Only open 'path' and resolve its columns, then close it. */
static xsell_err
load_check(const char *path, enum xs_load_format fmt,
    const struct xs_load_map *m, char *err, size_t err_len)
{
	struct xs_load_file lf;
	xsell_err e = file_init(&lf, path, NULL, fmt, m, err, err_len);

	file_fini(&lf);
	return e;
}

/* Open 'path' and resolve its columns into *lfp, kept open. */
static xsell_err
load_file_open(xs_load_file **lfp, const char *path, enum xs_load_format fmt,
    const struct xs_load_map *m, char *err, size_t err_len)
{
	xs_load_file *lf = malloc(sizeof(*lf));
	xsell_err     e;

	if (lf == NULL) {
		snprintf(err, err_len, "%s: %s", path,
		    xsell_strerror(XSELL_ENOMEM));
		return XSELL_ENOMEM;
	}
	e = file_init(lf, path, NULL, fmt, m, err, err_len);
	if (e != XSELL_OK) {
		free(lf);
		return e;
	}
	*lfp = lf;
	return XSELL_OK;
}

static void
load_file_close(xs_load_file *lf)
{
	if (lf == NULL) {
		return;
	}
	file_fini(lf);
	free(lf);
}

/* xs_loader_read of the file 'lf' held open. */
static xsell_err
loader_read_file(xs_loader *l, xs_load_file *lf, int64_t now,
    struct xs_load_counts *fc, char *err, size_t err_len)
{
	struct xs_load_counts local;

	if (fc == NULL) {
		fc = &local;
	}
	memset(fc, 0, sizeof(*fc));
	return file_read(l, lf, now, fc, err, err_len);
}

/* Whether 'path' can be read only once: a pipe, a FIFO, <(...), a
 * terminal (anything but a regular file). Its check has to be the start
 * of its read, or the bytes the check took are lost. A path that cannot
 * be stat'ed is not (its check says why). */
static bool
read_once(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
}

xsell_err
xs_load_check_or_hold(const char *path, enum xs_load_format fmt,
    const struct xs_load_map *m, xs_load_file **heldp, char *err,
    size_t err_len)
{
	*heldp = NULL;
	return read_once(path)
	    ? load_file_open(heldp, path, fmt, m, err, err_len)
	    : load_check(path, fmt, m, err, err_len);
}

xs_load_file **
xs_load_held_alloc(size_t n)
{
	/* An array of pointers, as meant. */
	// NOLINTNEXTLINE(bugprone-sizeof-expression)
	return calloc(n > 0 ? n : 1, sizeof(xs_load_file *));
}

void
xs_load_held_free(xs_load_file **held, size_t n)
{
	if (held == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		load_file_close(held[i]);
	}
	free(held);
}

xsell_err
xs_loader_read_checked(xs_loader *l, const char *path, xs_load_file **heldp,
    enum xs_load_format fmt, const struct xs_load_map *m, int64_t now,
    struct xs_load_counts *fc, char *err, size_t err_len)
{
	xsell_err e;

	if (*heldp == NULL) {
		return xs_loader_read(
		    l, path, NULL, fmt, m, now, fc, err, err_len);
	}
	e = loader_read_file(l, *heldp, now, fc, err, err_len);
	load_file_close(*heldp);
	*heldp = NULL;
	return e;
}

xsell_err
xs_loader_read(xs_loader *l, const char *path, FILE *f,
    enum xs_load_format fmt, const struct xs_load_map *m, int64_t now,
    struct xs_load_counts *fc, char *err, size_t err_len)
{
	struct xs_load_counts local;
	struct xs_load_file   lf;
	xsell_err             e;

	if (fc == NULL) {
		fc = &local;
	}
	memset(fc, 0, sizeof(*fc));
	e = file_init(&lf, path, f, fmt, m, err, err_len);
	if (e != XSELL_OK) {
		return e;
	}
	e = file_read(l, &lf, now, fc, err, err_len);
	file_fini(&lf);
	return e;
}

/* ==== Walking the orders ==== */

/* Bring each order's lines together, stable in file order. */
static xsell_err
group(xs_loader *l)
{
	size_t    n_orders = l->orders.n;
	uint32_t *first, *perm;

	if (l->grouped_lines == l->n_lines && l->first != NULL) {
		return XSELL_OK;
	}
	first = calloc(n_orders + 2, sizeof(*first));
	perm  = malloc((l->n_lines + 1) * sizeof(*perm));
	if (first == NULL || perm == NULL) {
		free(first);
		free(perm);
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < l->n_lines; i++) {
		first[l->lines[i].order + 2]++;
	}
	for (size_t o = 0; o < n_orders; o++) {
		first[o + 2] += first[o + 1];
	}
	/* first[o + 1] is now where order o starts; placing advances it to
	 * where o ends, which is first[o + 2]'s start: first[o] ends up as
	 * the start of o. */
	for (size_t i = 0; i < l->n_lines; i++) {
		perm[first[l->lines[i].order + 1]++] = (uint32_t) i;
	}
	free(l->first);
	free(l->perm);
	l->first         = first;
	l->perm          = perm;
	l->grouped_lines = l->n_lines;
	return XSELL_OK;
}

/* How a walk finds each place's order: its slot, id and lines. The
 * ordinary walk (file order: place i is order i) reads the lines through
 * perm, as group() left them; the walk by user reads its own copies, in
 * its order (plan_by_user). */
struct walk_plan {
	const struct order_slot    *slots; /* by place */
	const struct xs_intern_str *ids;   /* by place, into id_bytes */
	const char                 *id_bytes;
	/* Place i's lines are [start[i], start[i + 1]); line j is
	 * lines[idx[j]], or lines[j] without idx. */
	const uint32_t         *start, *idx;
	const struct load_line *lines;
	size_t                  n; /* places */
};

/* The walk of every order in order of first appearance. */
static struct walk_plan
plan_file_order(const xs_loader *l)
{
	struct walk_plan p = { l->slots, l->orders.strs, l->orders.bytes,
		l->first, l->perm, l->lines, l->orders.n };

	return p;
}

/* Line j of a walk (j in some place's [start[i], start[i + 1])). */
static const struct load_line *
walk_line(const struct walk_plan *p, size_t j)
{
	return p->idx != NULL ? &p->lines[p->idx[j]] : &p->lines[j];
}

/* The id of the order at place i. */
static struct xs_span
walk_id(const struct walk_plan *p, size_t i)
{
	struct xs_span s;

	s.p   = p->id_bytes + p->ids[i].off;
	s.len = p->ids[i].len;
	return s;
}

/* The event at place i, a view, cart event or rating (one line). */
static void
single_event(const xs_loader *l, const struct walk_plan *p, size_t i,
    struct xs_event *ev)
{
	const struct order_slot *sl = &p->slots[i];
	const struct load_line  *ln = walk_line(p, p->start[i]);

	memset(ev, 0, sizeof(*ev));
	ev->type   = (enum xs_event_type) sl->type;
	ev->item   = xs_intern_get(&l->items, ln->item);
	ev->user   = xs_intern_get(&l->users, sl->user);
	ev->ts     = sl->ts != INT64_MAX ? sl->ts : l->now;
	ev->rating = sl->rating;
}

/* Room in the scratch arrays for the events of places [i0, i1). */
static xsell_err
batch_reserve(xs_loader *l, const struct walk_plan *p, size_t i0, size_t i1)
{
	size_t total = p->start[i1] - p->start[i0], cap;

	cap = l->ev_lines_cap;
	if (grow((void **) &l->ev_lines, &cap, total + 1,
	        sizeof(*l->ev_lines)) != XSELL_OK) {
		return XSELL_ENOMEM;
	}
	l->ev_lines_cap = cap;
	cap             = l->ev_item_cap;
	if (grow((void **) &l->ev_item, &cap, total + 1,
	        sizeof(*l->ev_item)) != XSELL_OK) {
		return XSELL_ENOMEM;
	}
	l->ev_item_cap = cap;
	cap            = l->evs_cap;
	if (grow((void **) &l->evs, &cap, i1 - i0, sizeof(*l->evs)) !=
	    XSELL_OK) {
		return XSELL_ENOMEM;
	}
	l->evs_cap = cap;
	cap        = l->ev_has_ts_cap;
	if (grow((void **) &l->ev_has_ts, &cap, i1 - i0,
	        sizeof(*l->ev_has_ts)) != XSELL_OK) {
		return XSELL_ENOMEM;
	}
	l->ev_has_ts_cap = cap;
	return XSELL_OK;
}

/* The lines of the order at place i, merged by item into l->ev_lines
 * from k on; the new k. */
static size_t
order_lines(xs_loader *l, const struct walk_plan *p, size_t i, size_t k)
{
	for (size_t j = p->start[i]; j < p->start[i + 1]; j++) {
		const struct load_line *ln = walk_line(p, j);

		if (l->item_stamp[ln->item] == (uint32_t) i + 1) {
			struct xs_order_line *dst =
			    &l->ev_lines[l->item_pos[ln->item]];

			dst->qty += ln->qty;
			if (!isnan(ln->price)) {
				dst->price = ln->price;
			}
			continue;
		}
		l->item_stamp[ln->item] = (uint32_t) i + 1;
		l->item_pos[ln->item]   = (uint32_t) k;
		l->ev_lines[k].item     = xs_intern_get(&l->items, ln->item);
		l->ev_lines[k].qty      = ln->qty;
		l->ev_lines[k].price    = ln->price;
		l->ev_item[k]           = ln->item;
		k++;
	}
	return k;
}

/* Fill the events of the orders at places [i0, i1) of the walk 'p' into
 * l->evs; *np events. */
static xsell_err
build_batch(
    xs_loader *l, const struct walk_plan *p, size_t i0, size_t i1, size_t *np)
{
	size_t n = 0, k = 0;

	if (batch_reserve(l, p, i0, i1) != XSELL_OK) {
		return XSELL_ENOMEM;
	}
	for (size_t i = i0; i < i1; i++) {
		const struct order_slot *sl = &p->slots[i];
		struct xs_event         *ev = &l->evs[n];
		size_t                   k0 = k;

		if (p->start[i] == p->start[i + 1]) {
			continue; /* nothing kept of it */
		}
		l->ev_has_ts[n] = sl->ts != INT64_MAX;
		if (sl->type != XS_EV_ORDER) {
			single_event(l, p, i, ev);
			n++;
			continue;
		}
		k = order_lines(l, p, i, k);
		memset(ev, 0, sizeof(*ev));
		ev->type  = XS_EV_ORDER;
		ev->order = walk_id(p, i);
		ev->ts    = sl->ts != INT64_MAX ? sl->ts : l->now;
		if (sl->user != NONE) {
			ev->user = xs_intern_get(&l->users, sl->user);
		}
		ev->lines   = l->ev_lines + k0;
		ev->n_lines = (uint32_t) (k - k0);
		n++;
	}
	*np = n;
	return XSELL_OK;
}

/* Group the lines and reset the item stamps: before any walk. */
static xsell_err
walk_begin(xs_loader *l)
{
	xsell_err err = group(l);

	if (err != XSELL_OK) {
		return err;
	}
	/* Item stamps: i + 1 of the place whose order last saw the item. */
	free(l->item_stamp);
	free(l->item_pos);
	l->item_stamp = calloc(l->items.n + 1, sizeof(*l->item_stamp));
	l->item_pos   = calloc(l->items.n + 1, sizeof(*l->item_pos));
	if (l->item_stamp == NULL || l->item_pos == NULL) {
		return XSELL_ENOMEM;
	}
	return XSELL_OK;
}

/* The orders at places [first, p->n) of the walk 'p' to cb, 'batch' at
 * a time. */
static xsell_err
walk(xs_loader *l, const struct walk_plan *p, size_t first, size_t batch,
    xs_load_orders_cb cb, void *ctx)
{
	xsell_err err;

	l->applied = 0;
	for (size_t i0 = first; i0 < p->n; i0 += batch) {
		size_t i1 = i0 + batch < p->n ? i0 + batch : p->n;
		size_t n;

		err = build_batch(l, p, i0, i1, &n);
		if (err == XSELL_OK && n > 0) {
			err = cb(ctx, l->evs, n);
		}
		if (err != XSELL_OK) {
			return err;
		}
		l->applied += n;
		if (l->progress != NULL) {
			l->progress(l->progress_ctx, l);
		}
	}
	return XSELL_OK;
}

bool
xs_loader_event_has_ts(const xs_loader *l, size_t k)
{
	assert(k < l->ev_has_ts_cap);
	return l->ev_has_ts[k];
}

xsell_err
xs_loader_each_order(
    xs_loader *l, size_t first, size_t batch, xs_load_orders_cb cb, void *ctx)
{
	xsell_err        err = walk_begin(l);
	struct walk_plan p;

	if (err != XSELL_OK) {
		return err;
	}
	p = plan_file_order(l);
	return walk(l, &p, first, batch ? batch : 1000, cb, ctx);
}

/* State of numbering the names in walk order. */
struct numbering {
	uint32_t       *user_id;   /* by user number; 0: not numbered */
	unsigned char  *item_seen; /* by item number */
	uint32_t        max_user;  /* the highest user id given */
	xs_load_name_cb name_cb;
	void           *ctx;
};

/* Number the names of one batch of events, as the store would meet
 * them when applying it: the user, then the items with a quantity. */
static xsell_err
number_batch(xs_loader *l, struct numbering *nb, size_t i0, size_t n_evs)
{
	size_t k = 0;

	for (size_t e = 0, i = i0; e < n_evs; i++) {
		const struct xs_event *ev = &l->evs[e];
		xsell_err              err;

		if (l->first[i] == l->first[i + 1]) {
			continue; /* build_batch left it out */
		}
		e++;
		if (ev->user.len != 0 && nb->user_id[l->slots[i].user] == 0) {
			uint32_t id = 0;

			err =
			    nb->name_cb(nb->ctx, XS_DICT_USER, ev->user, &id);
			if (err != XSELL_OK) {
				return err;
			}
			if (id == 0 || id == UINT32_MAX) {
				return XSELL_EINVAL;
			}
			nb->user_id[l->slots[i].user] = id;
			nb->max_user = id > nb->max_user ? id : nb->max_user;
		}
		for (uint32_t j = 0; j < ev->n_lines; j++, k++) {
			uint32_t id;

			if (!(ev->lines[j].qty > 0) ||
			    nb->item_seen[l->ev_item[k]]) {
				continue;
			}
			err = nb->name_cb(
			    nb->ctx, XS_DICT_ITEM, ev->lines[j].item, &id);
			if (err != XSELL_OK) {
				return err;
			}
			nb->item_seen[l->ev_item[k]] = 1;
		}
	}
	return XSELL_OK;
}

/* Walk every order in order of first appearance, numbering names. */
static xsell_err
number_names(xs_loader *l, struct numbering *nb)
{
	struct walk_plan p = plan_file_order(l);

	for (size_t i0 = 0; i0 < p.n; i0 += 1000) {
		size_t    i1 = i0 + 1000 < p.n ? i0 + 1000 : p.n;
		size_t    n;
		xsell_err err = build_batch(l, &p, i0, i1, &n);

		if (err == XSELL_OK) {
			err = number_batch(l, nb, i0, n);
		}
		if (err != XSELL_OK) {
			return err;
		}
	}
	return XSELL_OK;
}

/* The copies the walk by user reads, owned. */
struct by_user {
	struct order_slot    *slots;
	struct xs_intern_str *ids;
	char                 *id_bytes;
	uint32_t             *start;
	struct load_line     *lines;
};

static void
by_user_free(struct by_user *bu)
{
	free(bu->slots);
	free(bu->ids);
	free(bu->id_bytes);
	free(bu->start);
	free(bu->lines);
	memset(bu, 0, sizeof(*bu));
}

static xsell_err
by_user_alloc(const xs_loader *l, struct by_user *bu)
{
	size_t n_orders = l->orders.n;

	bu->slots    = malloc((n_orders + 1) * sizeof(*bu->slots));
	bu->ids      = malloc((n_orders + 1) * sizeof(*bu->ids));
	bu->id_bytes = malloc(l->orders.bytes_len + 1);
	bu->start    = malloc((n_orders + 1) * sizeof(*bu->start));
	bu->lines    = malloc((l->n_lines + 1) * sizeof(*bu->lines));
	if (bu->slots == NULL || bu->ids == NULL || bu->id_bytes == NULL ||
	    bu->start == NULL || bu->lines == NULL) {
		by_user_free(bu);
		return XSELL_ENOMEM;
	}
	return XSELL_OK;
}

/* The user's id an order goes under (guests: 0). */
static uint32_t
order_user_id(const xs_loader *l, const struct numbering *nb, size_t o)
{
	uint32_t u = l->slots[o].user;

	return u != NONE ? nb->user_id[u] : 0;
}

/* Places of the walk by user: the orders by their user's id, each
 * user's in order of first appearance (a stable counting sort). Each
 * order's place goes to rank, its slot and id's length to its place in
 * bu; bu->start and the ids' offsets are summed up by place. */
static xsell_err
place_by_user(const xs_loader *l, const struct numbering *nb,
    struct by_user *bu, uint32_t *rank)
{
	size_t    n_orders = l->orders.n;
	size_t    n_ids    = (size_t) nb->max_user + 1;
	uint32_t *ustart   = calloc(n_ids + 1, sizeof(*ustart));
	uint64_t  off      = 0;

	if (ustart == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t o = 0; o < n_orders; o++) {
		ustart[order_user_id(l, nb, o) + 1]++;
	}
	for (size_t id = 0; id < n_ids; id++) {
		ustart[id + 1] += ustart[id];
	}
	for (size_t o = 0; o < n_orders; o++) {
		uint32_t i = ustart[order_user_id(l, nb, o)]++;

		rank[o]          = i;
		bu->slots[i]     = l->slots[o];
		bu->ids[i]       = l->orders.strs[o];
		bu->start[i + 1] = l->first[o + 1] - l->first[o];
	}
	free(ustart);
	bu->start[0] = 0;
	for (size_t i = 0; i < n_orders; i++) {
		bu->start[i + 1] += bu->start[i];
		bu->ids[i].off = off;
		off += bu->ids[i].len;
	}
	return XSELL_OK;
}

/* How far ahead copy_by_user asks for where an order goes. */
#define COPY_AHEAD 8u

/* Copy each order's lines and id to its place, reading the orders in
 * file order: every read in sequence but rank's, one random write run
 * per order, asked for ahead. */
static void
copy_by_user(const xs_loader *l, struct by_user *bu, const uint32_t *rank)
{
	size_t n_orders = l->orders.n;

	for (size_t o = 0; o < n_orders; o++) {
		const struct xs_intern_str *id = &l->orders.strs[o];
		uint32_t                    i  = rank[o];
		uint32_t                    d  = bu->start[i];

		if (o + COPY_AHEAD < n_orders) {
			__builtin_prefetch(&bu->start[rank[o + COPY_AHEAD]]);
			__builtin_prefetch(&bu->ids[rank[o + COPY_AHEAD]]);
		}
		for (uint32_t j = l->first[o]; j < l->first[o + 1]; j++) {
			bu->lines[d++] = l->lines[l->perm[j]];
		}
		memcpy(bu->id_bytes + bu->ids[i].off,
		    l->orders.bytes + id->off, id->len);
	}
}

/* Forget perm and first (group() builds them again for the next walk
 * that asks). */
static void
ungroup(xs_loader *l)
{
	free(l->perm);
	free(l->first);
	l->perm          = NULL;
	l->first         = NULL;
	l->grouped_lines = SIZE_MAX;
}

/* The walk by user's plan: its places (place_by_user), and each order's
 * slot, id and lines copied out in walk order, so that the walk reads
 * them in sequence. Read through perm and by order number instead, at
 * random, they missed the caches and the TLB once an order at least: at
 * 50M generated lines, a quarter of the load's time, which prefetching
 * did not take away on this VM. */
static xsell_err
plan_by_user(xs_loader *l, const struct numbering *nb, struct by_user *bu,
    struct walk_plan *p)
{
	size_t    n_orders = l->orders.n;
	uint32_t *rank     = malloc((n_orders + 1) * sizeof(*rank));
	xsell_err err = rank != NULL ? by_user_alloc(l, bu) : XSELL_ENOMEM;

	if (err == XSELL_OK) {
		err = place_by_user(l, nb, bu, rank);
	}
	if (err == XSELL_OK) {
		copy_by_user(l, bu, rank);
		/* The copy replaces the lines, as much memory as all the
		 * rest: every line keeps its order number and, within its
		 * order, its place, so group() regroups them as before. */
		free(l->lines);
		l->lines     = bu->lines;
		l->lines_cap = l->n_lines + 1;
		bu->lines    = NULL;
		ungroup(l);
		p->slots    = bu->slots;
		p->ids      = bu->ids;
		p->id_bytes = bu->id_bytes;
		p->start    = bu->start;
		p->idx      = NULL;
		p->lines    = l->lines;
		p->n        = n_orders;
	}
	free(rank);
	return err;
}

xsell_err
xs_loader_each_order_by_user(xs_loader *l, size_t batch,
    xs_load_name_cb name_cb, xs_load_orders_cb cb, void *ctx)
{
	struct numbering nb = { 0 };
	struct by_user   bu = { 0 };
	struct walk_plan p;
	xsell_err        err;

	if (l->n_events != 0) {
		return XSELL_EINVAL;
	}
	err = walk_begin(l);
	if (err != XSELL_OK) {
		return err;
	}
	nb.user_id   = calloc(l->users.n + 1, sizeof(*nb.user_id));
	nb.item_seen = calloc(l->items.n + 1, 1);
	nb.name_cb   = name_cb;
	nb.ctx       = ctx;
	err          = nb.user_id != NULL && nb.item_seen != NULL ? XSELL_OK
	                                                          : XSELL_ENOMEM;
	if (err == XSELL_OK) {
		err = number_names(l, &nb);
	}
	if (err == XSELL_OK) {
		err = plan_by_user(l, &nb, &bu, &p);
	}
	/* The numbering walk left its stamps: the next walk starts over. */
	memset(l->item_stamp, 0, (l->items.n + 1) * sizeof(*l->item_stamp));
	free(nb.item_seen);
	free(nb.user_id);
	if (err == XSELL_OK) {
		err = walk(l, &p, 0, batch ? batch : 1000, cb, ctx);
	}
	by_user_free(&bu);
	return err;
}

xsell_err
xs_loader_each_item_update(
    xs_loader *l, size_t batch, xs_load_items_cb cb, void *ctx)
{
	struct xs_item_update *ups;
	size_t                 n   = 0;
	xsell_err              err = XSELL_OK;

	if (!l->has_meta || l->items.n == 0) {
		return XSELL_OK;
	}
	if (batch == 0) {
		batch = 1000;
	}
	ups = calloc(batch, sizeof(*ups));
	if (ups == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t it = 0; it < l->items.n && err == XSELL_OK; it++) {
		struct xs_item_update *up = &ups[n];

		if (isnan(l->item_price[it]) && l->item_cat[it] == NONE) {
			continue;
		}
		memset(up, 0, sizeof(*up));
		up->item = xs_intern_get(&l->items, it);
		if (!isnan(l->item_price[it])) {
			up->has_price = true;
			up->price     = l->item_price[it];
		}
		if (l->item_cat[it] != NONE) {
			up->category =
			    xs_intern_get(&l->cats, l->item_cat[it]);
		}
		if (++n == batch) {
			err = cb(ctx, ups, n);
			n   = 0;
		}
	}
	if (err == XSELL_OK && n > 0) {
		err = cb(ctx, ups, n);
	}
	free(ups);
	return err;
}
