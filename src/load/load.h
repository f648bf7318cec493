/* SPDX-License-Identifier: MIT */
/* The bulk loader: exports of order lines (CSV, TSV, JSON lines, basket
 * lists) -> grouped orders -> the model, in large chunked transactions.
 *
 * It is shaped as three layers so that xsell-eval can reuse the first two
 * without a store: record readers (reader.c) turn bytes into fields; the
 * loader (loader.c) maps fields to roles (map.c, ts.c), validates each
 * line and keeps every order in memory with interned ids (intern.c); the
 * apply loop (apply.c) walks the orders in order of first appearance and
 * writes them through xs_model_apply. Reading all files before writing is
 * what lets the lines of one order be scattered across a file (or files).
 *
 * Threads: every handle here belongs to one thread at a time. */
#ifndef XSELL_LOAD_LOAD_H
#define XSELL_LOAD_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "model/model.h"
#include "store/store.h"

/* ==== Formats and roles ==== */

enum xs_load_format {
	XS_LOAD_CSV,     /* RFC 4180, header line */
	XS_LOAD_TSV,     /* tab-separated, header line, no quoting */
	XS_LOAD_JSONL,   /* one JSON object per line, keys are columns */
	XS_LOAD_BASKETS, /* one order per line, items comma-separated */
	XS_LOAD_SSV,     /* semicolon-separated, header line, no quoting
	                    (DIGINETICA) */
	XS_LOAD_FORMAT_COUNT
};

/* "csv" -> XS_LOAD_CSV; false if unknown. */
bool        xs_load_format_parse(const char *name, enum xs_load_format *out);
const char *xs_load_format_name(enum xs_load_format f);
/* The format a file name implies: .csv, .tsv, .jsonl (any case), else
 * csv. */
enum xs_load_format xs_load_format_guess(const char *path);

enum xs_load_role {
	XS_ROLE_ORDER,
	XS_ROLE_USER,
	XS_ROLE_ITEM,
	XS_ROLE_TS,
	XS_ROLE_QTY,
	XS_ROLE_PRICE,
	XS_ROLE_CATEGORY,
	XS_ROLE_TYPE,   /* the event type of the line (absent: --type) */
	XS_ROLE_RATING, /* 1..5, for rating lines */
	XS_ROLE_TS_MS,  /* milliseconds added to ts (DIGINETICA's timeframe:
	                   time since the session began); never guessed */
	XS_ROLE_COUNT
};

/* "view", "addtocart", "transaction", ... -> the event type a line of an
 * export stands for; false if unknown. Any case. */
bool xs_load_event_type_parse(
    const char *p, size_t len, enum xs_event_type *out);

/* "order", "user", ... Never NULL for a valid role. */
const char *xs_load_role_name(enum xs_load_role r);

/* ==== Column mapping ==== */

/* What --map said: per role, a column name or a 1-based column number
 * (all digits), or nothing (len 0: guess from the header). Spans borrow
 * the string given to xs_load_map_parse. */
struct xs_load_map {
	struct xs_span col[XS_ROLE_COUNT];
	/* The type of lines whose file has no type column (--type); zero,
	 * the default, is an order line. */
	enum xs_event_type type;
};

/* Parse "ROLE=COLUMN,ROLE=COLUMN,..." into *m (which the caller zeroes
 * first; several --map flags may add to one map). Spans borrow 'arg',
 * which must outlive *m. XSELL_EINVAL with the reason in err[0..err_len)
 * for an unknown role, a role given twice, or an empty column. */
xsell_err xs_load_map_parse(
    struct xs_load_map *m, const char *arg, char *err, size_t err_len);

/* Column index (0-based) of every role, -1 for a role that is absent. */
struct xs_load_cols {
	int32_t col[XS_ROLE_COUNT];
};

/* Resolve 'm' against a header of 'n' names. A mapped name matches
 * exactly, else case-insensitively; a number must be 1..n. Roles not
 * mapped are guessed from the header names, case-insensitively and with
 * surrounding blanks ignored (order: order, order_id, orderid, invoice,
 * invoiceno, ordernumber; item: item, item_id, itemid, product,
 * product_id, sku, stockcode; user: user, user_id, userid, customer,
 * customer_id, customerid; ts: ts, time, timestamp, date, invoicedate,
 * eventdate, created_at; qty: qty, quantity; price: price, unitprice,
 * unit_price; category: category, category_id, categoryid; type:
 * event_type, eventtype, event, type; rating: rating, stars). XSELL_EINVAL
 * if a mapped column does not exist, the item column is missing, or the
 * order column is missing where lines are orders (no type column and
 * m->type an order), with a message that lists the columns seen. */
xsell_err xs_load_map_resolve(const struct xs_load_map *m,
    const struct xs_span *header, size_t n, struct xs_load_cols *out,
    char *err, size_t err_len);

/* Whether 'm' suits a baskets file, whose every line is an order of its
 * items, with no columns: XSELL_EINVAL, with the reason in err, for a
 * --type other than order or a mapped role (neither could be honoured).
 * A NULL map suits. */
xsell_err xs_load_map_check_baskets(
    const struct xs_load_map *m, char *err, size_t err_len);

/* ==== Timestamps ==== */

/* Timestamps the store takes: 0 <= ts < 2^40 (as on the wire). */
#define XS_LOAD_TS_LIMIT ((int64_t) 1 << 40)

/* Parse p[0..len) as unix seconds (digits, optional fraction dropped),
 * "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" or ISO 8601 "YYYY-MM-DDTHH:MM[:SS]"
 * with an optional fraction (dropped) and zone "Z", "+HH:MM", "-HH:MM" or
 * "+HHMM". A time without a zone is UTC. Dates are converted with
 * days-from-civil arithmetic (no mktime, no TZ). Returns false for
 * anything else, an impossible date or time, or a time before 1970. A
 * number of XS_LOAD_TS_LIMIT or more is milliseconds (divided by 1000);
 * 1000 times that is refused. */
bool xs_load_ts_parse(const char *p, size_t len, int64_t *out);

/* ==== Record readers ==== */

typedef struct xs_load_reader xs_load_reader;

/* One record. A field with p == NULL is absent (a JSON key the object
 * lacks, or null); len 0 with p != NULL is an empty field. */
struct xs_load_record {
	uint64_t              line; /* first physical line, 1-based */
	const struct xs_span *fields;
	size_t                n_fields;
	const char           *error; /* set when the record is malformed */
};

/* Read records of format 'fmt' from 'f' (borrowed; not closed), named
 * 'name' in messages (copied). CSV and TSV read their header line at
 * once. JSONL has no header line: its columns are the keys of the objects
 * in the first XS_LOAD_JSONL_SCAN bytes, in order of first appearance (so
 * a key the first object leaves out is still found). XSELL_EIO on a read
 * error, XSELL_EINVAL for an empty file or a JSONL file with no object in
 * its first bytes (reason in err). Caller closes with
 * xs_load_reader_close. */
#define XS_LOAD_JSONL_SCAN ((size_t) 1 << 20)
xsell_err xs_load_reader_open(xs_load_reader **rp, FILE *f, const char *name,
    enum xs_load_format fmt, char *err, size_t err_len);
void      xs_load_reader_close(xs_load_reader *r);

/* The header names (n 0 for baskets). Borrowed; valid until close. */
void xs_load_reader_header(
    const xs_load_reader *r, const struct xs_span **fields, size_t *np);

/* Only the columns that 'cols' maps are needed (JSONL: only those keys
 * are read, so other keys may hold any JSON value; the rest are absent).
 * Without this call every column is read. */
void xs_load_reader_use(xs_load_reader *r, const struct xs_load_cols *cols);

/* Bytes of the file consumed so far (for progress). */
uint64_t xs_load_reader_offset(const xs_load_reader *r);

/* The next non-empty record. XSELL_OK with *rec filled (a malformed one
 * has rec->error set and its fields must not be used: the reader has
 * already skipped to a line that can be read), XSELL_ENOENT at the end,
 * XSELL_EIO on a read error. Fields are borrowed until the next call. */
xsell_err xs_load_reader_next(xs_load_reader *r, struct xs_load_record *rec);

/* ==== The loader: lines -> orders in memory ==== */

typedef struct xs_loader xs_loader;

/* Counters of one file, or of the whole load. Every record read is
 * counted once more, as kept, skipped, excluded or rejected: records =
 * lines + skipped + excluded + rejected. */
struct xs_load_counts {
	uint64_t bytes;    /* input bytes consumed */
	uint64_t records;  /* records read (basket lines, order lines) */
	uint64_t lines;    /* records kept (a basket keeping some item) */
	uint64_t events;   /* of which views, cart adds/removes, ratings */
	uint64_t skipped;  /* qty <= 0: returns and cancellations */
	uint64_t excluded; /* records of items left out only
	                      (xs_loader_exclude_item) */
	uint64_t rejected; /* malformed records */
};

/* The first rejections, kept for the report. */
#define XS_LOAD_REJECTS_KEPT 10
struct xs_load_reject {
	char text[320]; /* "FILE:LINE: reason", ids escaped */
};

/* Called every few thousand records while reading and after every batch
 * of orders while applying; a caller rate-limits its own drawing. */
typedef void (*xs_load_progress_cb)(void *ctx, const xs_loader *l);

xsell_err xs_loader_alloc(xs_loader **lp);
void      xs_loader_free(xs_loader *l);

/* Leave item 'id' (a valid id: the caller checks) out of every file read
 * after this call: its order lines and events are counted in 'excluded'
 * and dropped, so an order of nothing else is no order (postage, fees
 * and other lines of an export that are not products; counted by
 * xs_loader_n_orders_left_empty). A basket line loses its left-out items
 * and is kept with the others, or is counted in 'excluded' if it has no
 * other. XSELL_ENOMEM. */
xsell_err xs_loader_exclude_item(xs_loader *l, const char *id, size_t len);
void xs_loader_set_progress(xs_loader *l, xs_load_progress_cb cb, void *ctx);

/* Read every record of file 'path' (or of 'f' if not NULL; then 'path'
 * only names it) in format 'fmt' with columns mapped by 'm' (may be
 * NULL: guess everything). Lines join the orders already read; 'now' is
 * the ts of orders whose lines give none (basket orders have ts 0). A CSV
 * or TSV record whose field count differs from the header's is
 * rejected: a stray separator would shift the columns. Malformed lines
 * are counted and
 * the first XS_LOAD_REJECTS_KEPT kept; they never stop the load. The
 * file's counters go to *fc (may be NULL). XSELL_EINVAL when the columns
 * cannot be mapped, XSELL_EIO when the file cannot be read (reason in
 * err), XSELL_ENOMEM. A file refused for its columns adds nothing; after
 * a read error midway, its lines read so far stay (callers stop). */
xsell_err xs_loader_read(xs_loader *l, const char *path, FILE *f,
    enum xs_load_format fmt, const struct xs_load_map *m, int64_t now,
    struct xs_load_counts *fc, char *err, size_t err_len);

/* A file checked and held open (xs_load_check_or_hold): its header read
 * and its columns resolved, its records not read yet. */
typedef struct xs_load_file xs_load_file;

/* Check 'path' before anything is written: open it in format 'fmt' and
 * resolve its columns by 'm' (may be NULL; its --type is kept), the
 * errors of xs_loader_read before it reads a record, with the reason in
 * err. A regular file is closed again (*heldp NULL: read it again
 * later); one that can be read only once (a pipe, a FIFO, <(...)),
 * whose bytes the check took, stays open in *heldp, to be read on from
 * there. 'path' is borrowed: it names the file in messages and must
 * outlive *heldp. */
xsell_err xs_load_check_or_hold(const char *path, enum xs_load_format fmt,
    const struct xs_load_map *m, xs_load_file **heldp, char *err,
    size_t err_len);
/* n slots (at least one) for the files xs_load_check_or_hold holds,
 * all NULL; NULL if out of memory. */
xs_load_file **xs_load_held_alloc(size_t n);
/* Close the files still held in held[0..n) (checked, not read: an early
 * return) and free the array; NULL is allowed. */
void xs_load_held_free(xs_load_file **held, size_t n);
/* Read 'path' checked by xs_load_check_or_hold: from *heldp if it was
 * held (closed then, *heldp NULL), else opened again by xs_loader_read
 * with 'fmt' and 'm'. */
xsell_err xs_loader_read_checked(xs_loader *l, const char *path,
    xs_load_file **heldp, enum xs_load_format fmt, const struct xs_load_map *m,
    int64_t now, struct xs_load_counts *fc, char *err, size_t err_len);

/* Counters over every file read so far. */
const struct xs_load_counts *xs_loader_counts(const xs_loader *l);
/* The first rejections (at most XS_LOAD_REJECTS_KEPT). Borrowed. */
const struct xs_load_reject *xs_loader_rejects(const xs_loader *l, size_t *np);
/* Distinct orders read, and distinct items. */
size_t xs_loader_n_orders(const xs_loader *l);
size_t xs_loader_n_items(const xs_loader *l);
/* Orders that had lines of excluded items (xs_loader_exclude_item) and
 * no line kept, so no order: an order of postage only, or a basket line
 * of excluded items only. Counts every file read so far; an order whose
 * other lines were returns (qty <= 0) or rejected is one. */
size_t xs_loader_n_orders_left_empty(const xs_loader *l);

/* Walk the orders in order of first appearance, 'batch' at a time (0:
 * 1,000), as XS_EV_ORDER events: ts the earliest line's, user the first
 * non-empty one, one line per distinct item with quantities summed and
 * the last price seen. Spans and lines are borrowed until cb returns.
 * An error from cb stops the walk and is returned. Orders with index
 * below 'first' are passed over (resuming). */
typedef xsell_err (*xs_load_orders_cb)(
    void *ctx, const struct xs_event *evs, size_t n);
xsell_err xs_loader_each_order(
    xs_loader *l, size_t first, size_t batch, xs_load_orders_cb cb, void *ctx);

/* Whether event k of the batch being passed to cb (by either walk) took
 * its ts from its lines; false if they gave none and it has the 'now' of
 * xs_loader_read, which another load of the same file gives otherwise.
 * Only inside cb. */
bool xs_loader_event_has_ts(const xs_loader *l, size_t k);

/* Called for every distinct user and item name in the order that the
 * walk of xs_loader_each_order first meets them (an order's user before
 * its items, items in line order, items whose quantities sum to <= 0
 * left out), which is the order a store hands out dense ids when it
 * applies that walk: *idp gets the id ('d' says which dictionary). */
typedef xsell_err (*xs_load_name_cb)(
    void *ctx, enum xs_dict d, struct xs_span name, uint32_t *idp);

/* The same orders as xs_loader_each_order (all of them, 'batch' at a
 * time, 0: 1,000), walked by their user's dense id, ascending (guests, id
 * 0, first), each user's orders in order of first appearance. The ids
 * come from name_cb, called for every name first, before any order is
 * passed to cb; so they are the ids the ordinary walk would give.
 * Applied to a fresh store, this walk writes the per-user records
 * (bought, history, ledger) in key order, and builds the same store: a
 * user's records depend only on their own orders, in their order, and
 * every count is a sum. XSELL_EINVAL if the load holds views, cart
 * events or ratings (which need the ordinary walk: they are grouped by
 * position for their batch ids), or name_cb gives an id of 0 or
 * UINT32_MAX for a user; XSELL_ENOMEM; an error of a callback. */
xsell_err xs_loader_each_order_by_user(xs_loader *l, size_t batch,
    xs_load_name_cb name_cb, xs_load_orders_cb cb, void *ctx);

/* Item metadata seen in the files: for every item with a price or a
 * category column value, the last one in file order, in batches. */
typedef xsell_err (*xs_load_items_cb)(
    void *ctx, const struct xs_item_update *ups, size_t n);
xsell_err xs_loader_each_item_update(
    xs_loader *l, size_t batch, xs_load_items_cb cb, void *ctx);

/* ==== Applying to a store ==== */

struct xs_load_apply_opts {
	const struct xs_settings *set; /* NULL: defaults */
	/* Orders per txn, 0: 20,000; checked every 64 orders, so a chunk
	 * ends at the first multiple of 64 at or past it. */
	uint32_t chunk_orders;
	size_t   chunk_bytes; /* commit early past this accumulator size;
	                         0: 256 MiB */
	uint32_t chunk_ms;    /* aim: a txn from begin to commit, steered;
	                         0: 500 ms */
	int64_t now;          /* stamps item metadata changes */
	/* Never the fresh-store path: always chunks through the ordinary
	 * flush (tests compare the two). */
	bool incremental;
};

/* What was committed (a chunk that failed is not in it). */
struct xs_load_apply_result {
	uint64_t orders;           /* orders new to the store */
	uint64_t duplicates;       /* orders the store had already */
	uint64_t events;           /* views, cart events, ratings applied */
	uint64_t event_duplicates; /* of those, loaded before (same group) */
	uint64_t commits;          /* transactions committed */
	uint64_t longest_txn_ns;   /* begin to commit, the longest one */
	bool     fresh; /* the store was fresh: built in one transaction */
};

/* Apply every order read, then the item metadata, to 'st' in write
 * transactions that end after opts->chunk_orders orders, after about
 * opts->chunk_ms from begin to commit (the applying time is steered by
 * how long the last flush took) or past opts->chunk_bytes of pending
 * counts, whichever comes first, so that another writer (xselld) is
 * never blocked for long. Where the chunks end changes nothing in the
 * store, only how long each writer waits (orders are applied in the same
 * order). On an error the current
 * chunk is aborted (earlier chunks stay committed: orders are idempotent,
 * so running the load again finishes it) and the error is returned:
 * XSELL_EMAPFULL, XSELL_EIO, XSELL_ENOMEM. Progress (xs_loader_applied)
 * is reported through the loader's progress callback. Does not sync. */
xsell_err xs_loader_apply(xs_loader *l, xs_store *st,
    const struct xs_load_apply_opts *opts, struct xs_load_apply_result *res);

/* Orders walked so far by a running xs_loader_each_order or
 * xs_loader_apply (for progress). */
uint64_t xs_loader_applied(const xs_loader *l);

#endif /* XSELL_LOAD_LOAD_H */
