/* SPDX-License-Identifier: MIT */
/* xsell-load: warm a store from exports of order lines. A thin main over
 * src/load: flags, progress on a terminal, the summary and exit codes.
 * Every file is checked (opened, columns mapped) before the store is
 * touched, so a usage error never leaves a half-loaded store behind. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "load/load.h"
#include "model/model.h"
#include "store/store.h"

enum { EXIT_LOAD_OK = 0, EXIT_LOAD_FAIL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: xsell-load --db DIR [--format csv|tsv|ssv|jsonl|baskets]\n"
    "                  [--map ROLE=COLUMN,...] [--map-size BYTES]\n"
    "                  [--max-basket-items N] [--txn-ms MS] [--type TYPE]\n"
    "                  [--exclude-items ID,...] [--incremental]\n"
    "                  [--complements] [--compact-into NEWDIR] [--quiet]\n"
    "                  FILE...\n"
    "       xsell-load --db DIR --compact-into NEWDIR\n"
    "\n"
    "Warm an xsell store from exports of order lines and events (views,\n"
    "cart adds and removals, ratings). All files are read into memory\n"
    "first; the lines of one order are grouped by order id wherever they\n"
    "are (in any file); orders and events are applied in order of first\n"
    "appearance, in write transactions of about half a second, so an\n"
    "xselld serving the same directory keeps serving and writing. Orders\n"
    "already in the store are counted as duplicates and change nothing;\n"
    "events, which have no id, are applied in groups of 64 that the store\n"
    "remembers by a hash of their content: loading the same files again\n"
    "is safe. A FILE may be a pipe or a FIFO (/dev/stdin, <(zcat f.gz)),\n"
    "read once (/dev/stdin is csv unless --format says otherwise).\n"
    "\n"
    "Into a new store (no item, user or event yet) the whole load is one\n"
    "write transaction that builds every neighbour list once, whole:\n"
    "several times faster, the same store byte for byte. Its order\n"
    "records are kept in memory and written sorted at the end, and files\n"
    "of orders only (no events) are applied customer by customer (ids\n"
    "still handed out in file order, each customer's purchases and\n"
    "history kept in memory while theirs go in), so that each page of\n"
    "the store is written once however large it grows. An xselld\n"
    "serving the directory waits for its own writes until that\n"
    "transaction ends; a kill or a failure leaves the store as it was\n"
    "(empty), and the same load again starts over.\n"
    "\n"
    "options:\n"
    "  --db DIR              store directory (created if missing)\n"
    "  --format FMT          csv, tsv, ssv (semicolons), jsonl or baskets,\n"
    "                        for every file;\n"
    "                        default from each file's extension (.csv .tsv\n"
    "                        .jsonl, any case), else csv\n"
    "  --map ROLE=COLUMN,... which column plays which role; COLUMN is a\n"
    "                        header name (exact, else any case) or a\n"
    "                        1-based column number; may be repeated\n"
    "                        (not with baskets, which have no columns)\n"
    "  --map-size BYTES      LMDB map size, with optional K, M, G or T\n"
    "                        suffix (powers of 1024); default 16G\n"
    "  --max-basket-items N  count pairs for at most N distinct items of\n"
    "                        an order (a deterministic sample beyond it);\n"
    "                        1..10000, default 100\n"
    "  --txn-ms MS           aim for write transactions of MS milliseconds\n"
    "                        (xselld waits that long at most for its own\n"
    "                        writes); larger is faster; 1..600000, default\n"
    "                        500; a new store is built in one (see above)\n"
    "  --incremental         no fresh-store build: transactions of --txn-ms\n"
    "                        even into an empty store (xselld writes in\n"
    "                        between); and the store is written with\n"
    "                        write() calls, not through its mapping (see\n"
    "                        the man page: a full disk)\n"
    "  --exclude-items ID,...\n"
    "                        leave these items out: their order lines and\n"
    "                        events are counted as excluded and dropped,\n"
    "                        and an order of nothing else is no order (an\n"
    "                        export's postage, fees and adjustments, which\n"
    "                        are not products); a basket line loses them\n"
    "                        and is loaded, or excluded if it has no other\n"
    "                        item; comma-separated, may be repeated\n"
    "  --type TYPE           what the lines of files without a type column\n"
    "                        are: order (default), view, cart_add,\n"
    "                        cart_remove or rating (basket lines are\n"
    "                        orders: another type is a usage error)\n"
    "  --complements         then compute complements' precomputed list of\n"
    "                        every item with orders (xselld's refresher\n"
    "                        does it too, in the background); about\n"
    "                        2 ms of CPU per item (Online Retail's 3,891:\n"
    "                        7.6 s)\n"
    "  --compact-into NEWDIR then write a compacted copy of the store into\n"
    "                        NEWDIR (created if missing; no data.mdb\n"
    "                        there yet): one snapshot, without the pages\n"
    "                        LMDB freed as writes replaced them, which it\n"
    "                        reuses but never gives back (the summary's\n"
    "                        \"store\" line says how much). xselld may\n"
    "                        serve and write the store meanwhile; stop it\n"
    "                        and move NEWDIR/data.mdb into place to use the\n"
    "                        copy. Without FILE, only the copy\n"
    "  --quiet               no progress display (it is only drawn when\n"
    "                        standard error is a terminal)\n"
    "  -h, --help            this text\n"
    "\n"
    "roles (guessed from the header, any case, when not mapped):\n"
    "  order     order, order_id, orderid, invoice, invoiceno, ordernumber,\n"
    "            transactionid\n"
    "  item      item, item_id, itemid, product, product_id, sku, "
    "stockcode\n"
    "  user      user, user_id, userid, customer, customer_id, customerid,\n"
    "            visitorid, visitor_id\n"
    "  ts        ts, time, timestamp, date, invoicedate, eventdate,\n"
    "            created_at\n"
    "  qty       qty, quantity (absent: 1; <= 0: a return, skipped)\n"
    "  price     price, unitprice, unit_price (item metadata, >= 0)\n"
    "  category  category, category_id, categoryid (item metadata)\n"
    "  type      event_type, eventtype, event, type: order (or purchase,\n"
    "            transaction, buy), view (detail, pageview), cart_add\n"
    "            (addtocart, add_to_cart), cart_remove (removefromcart,\n"
    "            remove_from_cart), rating; any case; absent (no\n"
    "            column, a JSON key missing or null): --type\n"
    "  rating    rating, stars: 1..5, for rating lines\n"
    "  ts_ms     never guessed: milliseconds added to ts (DIGINETICA's\n"
    "            timeframe, the time since the session began)\n"
    "  item is required; order too for order lines. A view, cart event or\n"
    "  rating needs a user and is one event; its qty and price are not\n"
    "  read. An order's ts is its earliest line's,\n"
    "  its user the first non-empty one (none: a guest order); the same\n"
    "  item on several lines is one line with the quantities summed.\n"
    "  Items get the last price and category seen, in file order.\n"
    "\n"
    "formats:\n"
    "  csv      RFC 4180 with a header line: quoted fields, \"\" inside\n"
    "           quotes, commas and newlines inside quotes\n"
    "  tsv      tab-separated with a header line, no quoting\n"
    "  ssv      semicolon-separated with a header line, no quoting\n"
    "           (DIGINETICA); never guessed from the name\n"
    "  jsonl    one JSON object per line; the columns are the keys of the\n"
    "           objects in the first MiB of the file; string or number\n"
    "           values (a number as an id is its decimal text), null is\n"
    "           absent\n"
    "  baskets  one order per line, items separated by commas, no header;\n"
    "           the order id is the line number, no user, ts 0; labels\n"
    "           are kept verbatim (spaces too)\n"
    "\n"
    "timestamps (a time without a zone is UTC, whatever TZ says):\n"
    "  1317427140                   unix seconds (below 2^40)\n"
    "  1433221332117                milliseconds (2^40 or more)\n"
    "  2011-09-30 23:59:00          date and time (seconds optional)\n"
    "  2011-02-01                   midnight\n"
    "  2010-12-01T08:26:00.250Z     ISO 8601, fraction dropped\n"
    "  2010-12-01T08:26:00+01:00    with an offset (also +0100, +01)\n"
    "  Orders and events whose lines give no ts get the time of the\n"
    "  load (loading them again later is still safe).\n"
    "\n"
    "Malformed lines (a missing, empty, too long or invalid UTF-8 id, a\n"
    "bad number or timestamp, a field count unlike the header's, an\n"
    "unterminated quote, bad JSON) are rejected with FILE:LINE and the\n"
    "reason (the first 10 are shown on standard error, all are counted)\n"
    "and the load goes on.\n"
    "\n"
    "The summary goes to standard output: files, lines read, lines loaded\n"
    "(and events among them), skipped, excluded (with --exclude-items)\n"
    "and rejected (each line read is one of those four), orders applied,\n"
    "duplicate orders, events applied, duplicate events, elapsed time and\n"
    "lines/s.\n"
    "\n"
    "examples:\n"
    "  xsell-load --db /var/lib/xsell online_retail.csv\n"
    "  xsell-load --db st --format baskets groceries.csv\n"
    "  xsell-load --db st --exclude-items POST,DOT,M online_retail.csv\n"
    "  xsell-load --db st --map order=InvoiceNo,item=2,user=CustomerID "
    "lines.csv\n"
    "  xsell-load --db st --type view --map user=session_id views.csv\n"
    "  xsell-load --db st events.csv      (RetailRocket: timestamp,\n"
    "                                      visitorid, event, itemid, ...)\n"
    "  zcat lines.jsonl.gz | xsell-load --db st --format jsonl /dev/stdin\n"
    "\n"
    "exit status:\n"
    "  0  the load completed (even if lines were rejected)\n"
    "  1  the store could not be opened, a file could not be read, or a\n"
    "     write failed (the reason is printed; committed chunks stay,\n"
    "     and running the same load again completes it; a full disk\n"
    "     may show as \"input/output error on a mapped file\")\n"
    "  2  usage error: bad flag, an option with a value given twice\n"
    "     (but --map and --exclude-items, which add up), unknown\n"
    "     format, bad --map, --map or a --type other than order with\n"
    "     baskets, or a file whose columns cannot be mapped (nothing\n"
    "     is written)\n";

/* Redrawn in place on stderr, at most five times a second. */
struct progress {
	bool        on;
	uint64_t    t0_ns, last_ns;
	const char *file;
	uint64_t    file_size;   /* bytes, 0: unknown */
	uint64_t    file_bytes0; /* loader bytes when the file began */
	size_t      n_orders;
	bool        applying;
};

/* "12.3 MB" into buf. */
static const char *
mb(char *buf, size_t len, uint64_t bytes)
{
	snprintf(buf, len, "%.1f MB", (double) bytes / 1e6);
	return buf;
}

static void
progress_draw(void *ctx, const xs_loader *l)
{
	struct progress *pg  = ctx;
	uint64_t         now = xs_mono_ns();
	double           s   = (double) (now - pg->t0_ns) / 1e9;

	if (!pg->on || now - pg->last_ns < 200000000u) {
		return;
	}
	pg->last_ns = now;
	if (pg->applying) {
		fprintf(stderr,
		    "\rapplied %" PRIu64
		    " of %zu orders (%.0f orders/s)\033[K",
		    xs_loader_applied(l), pg->n_orders,
		    s > 0 ? (double) xs_loader_applied(l) / s : 0.0);
	} else {
		const struct xs_load_counts *c = xs_loader_counts(l);
		char                         a[32], b[32];

		fprintf(stderr,
		    "\r%s: %s of %s, %" PRIu64 " lines (%.0f lines/s)\033[K",
		    pg->file, mb(a, sizeof(a), c->bytes - pg->file_bytes0),
		    pg->file_size ? mb(b, sizeof(b), pg->file_size) : "?",
		    c->records, s > 0 ? (double) c->records / s : 0.0);
	}
}

static void
progress_clear(struct progress *pg)
{
	if (pg->on) {
		fprintf(stderr, "\r\033[K");
	}
}

/* One line on stderr; returns the usage exit status. */
#define usage_error(...) \
	XS_USAGE_ERROR(  \
	    "xsell-load", "\nTry 'xsell-load --help'.\n", __VA_ARGS__)

/* "512M" -> bytes: xs_opt_size, but nothing before the digits. */
static bool
parse_size(const char *s, size_t *out)
{
	return *s >= '0' && *s <= '9' && xs_opt_size(s, out);
}

/* --exclude-items given at most this many times (each with any number
 * of ids). */
#define EXCLUDE_ARGS_MAX 64

struct args {
	const char         *db;
	const char         *compact_into; /* NULL: no copy */
	bool                has_format, quiet, incremental, complements;
	enum xs_load_format format;
	struct xs_load_map  map;
	size_t              map_size;
	unsigned            max_basket_items;
	unsigned            txn_ms;
	char              **files;
	int                 n_files;
	const char         *exclude[EXCLUDE_ARGS_MAX]; /* --exclude-items */
	int                 n_exclude;
};

/* --exclude-items LIST: every id of it valid; kept for the loader. */
static int
add_excluded(struct args *a, const char *list)
{
	size_t      len;
	const char *bad = xs_id_list_bad(list, &len);

	if (a->n_exclude == EXCLUDE_ARGS_MAX) {
		return usage_error(
		    "--exclude-items: at most %d times", EXCLUDE_ARGS_MAX);
	}
	if (bad != NULL) {
		return usage_error("--exclude-items: \"%.*s\" is not "
		                   "an item id",
		    (int) (len < 200 ? len : 200), bad);
	}
	a->exclude[a->n_exclude++] = list;
	return EXIT_LOAD_OK;
}

/* Tell the loader every item of --exclude-items. */
static xsell_err
exclude_items(xs_loader *l, const struct args *a)
{
	xsell_err err = XSELL_OK;

	for (int i = 0; i < a->n_exclude && err == XSELL_OK; i++) {
		const char *p = a->exclude[i], *id;
		size_t      len;

		while (err == XSELL_OK && xs_opt_list_next(&p, &id, &len)) {
			err = xs_loader_exclude_item(l, id, len);
		}
	}
	return err;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "map", required_argument, NULL, 'm' },
		{ "map-size", required_argument, NULL, 's' },
		{ "max-basket-items", required_argument, NULL, 'b' },
		{ "txn-ms", required_argument, NULL, 't' },
		{ "type", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "incremental", no_argument, NULL, 'i' },
		{ "complements", no_argument, NULL, 'c' },
		{ "compact-into", required_argument, NULL, 'C' },
		{ "exclude-items", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* The --map pairs and the --exclude-items lists add up. */
	static const int   adds_up[] = { 'm', 'x', 0 };
	struct xs_opt_once once      = {
		     .opts = opts, .shortopts = "h", .adds_up = adds_up
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char   *twice = xs_opt_given_twice(&once, c);
		char          err[200];
		char         *end;
		unsigned long v;

		if (twice != NULL) {
			return usage_error("%s given twice", twice);
		}
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 'f':
			if (!xs_load_format_parse(optarg, &a->format)) {
				return usage_error(
				    "unknown format \"%s\" "
				    "(csv, tsv, ssv, jsonl, baskets)",
				    optarg);
			}
			a->has_format = true;
			break;
		case 'm':
			if (xs_load_map_parse(&a->map, optarg, err,
			        sizeof(err)) != XSELL_OK) {
				return usage_error("%s", err);
			}
			break;
		case 's':
			if (!parse_size(optarg, &a->map_size)) {
				return usage_error(
				    "--map-size: \"%s\" is not a size",
				    optarg);
			}
			break;
		case 'b':
			errno = 0;
			v     = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 1 || v > XSELL_ORDER_ITEMS_MAX) {
				return usage_error(
				    "--max-basket-items: \"%s\" "
				    "is not 1..10000",
				    optarg);
			}
			a->max_basket_items = (unsigned) v;
			break;
		case 't':
			errno = 0;
			v     = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 1 || v > 600000) {
				return usage_error(
				    "--txn-ms: \"%s\" is not 1..600000",
				    optarg);
			}
			a->txn_ms = (unsigned) v;
			break;
		case 'T':
			if (!xs_load_event_type_parse(
			        optarg, strlen(optarg), &a->map.type)) {
				return usage_error(
				    "--type: unknown event type \"%s\" "
				    "(order, "
				    "view, cart_add, cart_remove, rating)",
				    optarg);
			}
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'i':
			a->incremental = true;
			break;
		case 'c':
			a->complements = true;
			break;
		case 'C':
			a->compact_into = optarg;
			break;
		case 'x':
			if (add_excluded(a, optarg) != EXIT_LOAD_OK) {
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return usage_error("unknown or incomplete option %s",
			    argv[optind - 1]);
		}
	}
	if (a->db == NULL) {
		return usage_error("%s", "--db DIR is required");
	}
	/* --complements writes lists: a load, if of a header line alone. */
	if (optind >= argc && (a->compact_into == NULL || a->complements)) {
		return usage_error("%s", "no input FILE given");
	}
	a->files   = argv + optind;
	a->n_files = argc - optind;
	return EXIT_LOAD_OK;
}

static enum xs_load_format
format_of(const struct args *a, const char *path)
{
	return a->has_format ? a->format : xs_load_format_guess(path);
}

/* The file's size for progress, 0 if unknown (a pipe). */
static uint64_t
file_size(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		return 0;
	}
	return (uint64_t) sb.st_size;
}

/* The summary on stdout: one "name  value" line each, so that a script
 * can pick a figure with awk. */
static void
summary(const struct args *a, const struct xs_load_counts *fcs,
    const struct xs_load_counts *tot, const struct xs_load_apply_result *ar,
    double read_s, double apply_s, double secs)
{
	if (a->n_files > 1) {
		for (int i = 0; i < a->n_files; i++) {
			char excluded[40] = "";

			if (a->n_exclude != 0) {
				snprintf(excluded, sizeof(excluded),
				    " %" PRIu64 " excluded,", fcs[i].excluded);
			}
			printf("file              %s: %" PRIu64
			       " lines read, %" PRIu64 " loaded, %" PRIu64
			       " skipped,%s %" PRIu64 " rejected\n",
			    a->files[i], fcs[i].records, fcs[i].lines,
			    fcs[i].skipped, excluded, fcs[i].rejected);
		}
	}
	printf("files             %d\n", a->n_files);
	printf("lines read        %" PRIu64 "\n", tot->records);
	printf("lines loaded      %" PRIu64 " (%" PRIu64 " of them events)\n",
	    tot->lines, tot->events);
	printf("lines skipped     %" PRIu64 " (qty <= 0: returns)\n",
	    tot->skipped);
	if (a->n_exclude != 0) {
		printf("lines excluded    %" PRIu64 " (--exclude-items)\n",
		    tot->excluded);
	}
	printf("lines rejected    %" PRIu64 "\n", tot->rejected);
	printf("orders applied    %" PRIu64 "\n", ar->orders);
	printf("duplicate orders  %" PRIu64 " (already in the store)\n",
	    ar->duplicates);
	printf("events applied    %" PRIu64 "\n", ar->events);
	printf("duplicate events  %" PRIu64 " (loaded before)\n",
	    ar->event_duplicates);
	printf("elapsed           %.2f s (reading %.2f s, applying %.2f s in "
	       "%" PRIu64 " transactions, the longest %.2f s%s)\n",
	    secs, read_s, apply_s, ar->commits,
	    (double) ar->longest_txn_ns / 1e9,
	    ar->fresh ? "; a fresh store, built whole" : "");
	printf("lines/s           %.0f\n",
	    secs > 0 ? (double) tot->records / secs : 0.0);
}

/* The summary's store line: its file's length in use, and how much of
 * it is pages LMDB freed (later writes reuse them; --compact-into leaves
 * them out). */
static void
store_summary(xs_store *st)
{
	struct xs_store_info info;

	if (xs_store_info_get(st, &info) == XSELL_OK) {
		printf("store             %" PRIu64 " bytes in use, %" PRIu64
		       " of them free pages (later writes reuse them)\n",
		    info.used_bytes, info.free_bytes);
	}
}

/* --compact-into: the store's compacted copy in 'dir' (made if missing,
 * one level), and its length. */
static int
copy_compacted(xs_store *st, const char *dir)
{
	char        path[4096];
	struct stat sb;
	uint64_t    t0 = xs_mono_ns();

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "xsell-load: --compact-into %s: %s\n", dir,
		    strerror(errno));
		return EXIT_LOAD_FAIL;
	}
	if (xs_store_copy_compact(st, dir) != XSELL_OK) {
		fprintf(stderr,
		    "xsell-load: no compacted copy in %s (it must be a "
		    "directory without a data.mdb, on a disk with room)\n",
		    dir);
		return EXIT_LOAD_FAIL;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	printf("compacted copy    %s: %jd bytes in %.2f s\n", path,
	    stat(path, &sb) == 0 ? (intmax_t) sb.st_size : (intmax_t) -1,
	    (double) (xs_mono_ns() - t0) / 1e9);
	return EXIT_LOAD_OK;
}

/* --complements: every item's precomputed list, after the load (its own
 * write transactions of 16 lists each). */
static int
complements_lists(xs_store *st, const struct xs_settings *set, const char *db)
{
	struct xs_comp_refresh_stats rs = { 0 };
	uint64_t                     t0 = xs_mono_ns();
	xsell_err e = xs_model_comp_refresh_all(st, set, xs_now_s(), &rs);

	if (e == XSELL_OK) {
		e = xs_store_sync(st);
	}
	if (e != XSELL_OK) {
		fprintf(stderr, "xsell-load: complements lists in %s: %s\n",
		    db, xsell_strerror(e));
		return EXIT_LOAD_FAIL;
	}
	printf("complements lists %" PRIu64 " computed (%" PRIu64
	       " items with orders) in %.2f s\n",
	    rs.computed, rs.items, (double) (xs_mono_ns() - t0) / 1e9);
	return EXIT_LOAD_OK;
}

/* The store is written through its mapping (write_map), and the input
 * files may be mapped too: a page that cannot be written (a full disk)
 * or read (a file cut short while loading) is a SIGBUS, not an error
 * code. Say so and exit 1 instead of dying: nothing of the transaction
 * open is committed, what was committed before stays (LMDB's meta page
 * moves only at a commit, and its blocks exist already). */
static void
on_sigbus(int sig)
{
	static const char msg[] =
	    "xsell-load: input/output error on a mapped file (a full disk, or "
	    "an input file cut short): the open transaction is lost, what was "
	    "committed before stays; load again to complete it\n";

	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void) sig;
	(void) n; /* nothing more to do if stderr is gone */
	_exit(EXIT_LOAD_FAIL);
}

/* Whether an open with write_map that failed for the system's reason
 * 'why' (xs_store_open's errno) may succeed without it: not for a
 * refusal of xsell's own (0: a schema), nor for the directory's reasons,
 * which the second open would meet (and log) again. */
static bool
write_map_may_be_why(int why)
{
	return why != 0 && why != ENOENT && why != ENOTDIR && why != EACCES &&
	    why != EROFS;
}

/* Open the store for the load: with write_map unless --incremental (no
 * dirty-page list to search or spill: at 10M lines, a fifth of the CPU),
 * and without it where the mapped file cannot be made as long as the map
 * (a file size limit: EFBIG). On failure *whyp is xs_store_open's errno,
 * the system's reason if there was one. */
static xsell_err
store_open_for_load(xs_store **stp, const struct args *a, int *whyp)
{
	struct xs_store_opts so = { 0 };
	struct sigaction     sa;
	xsell_err            e;

	so.map_size  = a->map_size;
	so.no_sync   = true;
	so.write_map = !a->incremental;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	e     = xs_store_open(stp, a->db, &so);
	*whyp = errno;
	if (e != XSELL_OK && so.write_map && write_map_may_be_why(*whyp)) {
		so.write_map = false;
		e            = xs_store_open(stp, a->db, &so);
		*whyp        = errno;
	}
	return e;
}

/* The store could not be opened: the system's reason 'why' when there
 * was one ("No such file or directory" for a missing parent directory,
 * "Permission denied"), which XSELL_EIO's "input/output error" would
 * hide, else xsell's ('e'). */
static void
store_open_failed(const char *db, xsell_err e, int why)
{
	fprintf(stderr, "xsell-load: cannot open store %s: %s\n", db,
	    why != 0 ? strerror(why) : xsell_strerror(e));
}

/* After the load (the store closed, synced) or without one: the lists of
 * --complements, the store line, the copy of --compact-into, on the store
 * opened again, read-only unless lists are to be written. */
static int
after_load(const struct args *a, const struct xs_settings *set)
{
	struct xs_store_opts so = { 0 };
	xs_store            *st;
	xsell_err            e;
	int                  why;
	int                  rc = EXIT_LOAD_OK;

	so.read_only = true;
	if (a->complements) {
		e = store_open_for_load(&st, a, &why);
	} else {
		e   = xs_store_open(&st, a->db, &so);
		why = errno;
	}
	if (e != XSELL_OK) {
		store_open_failed(a->db, e, why);
		return EXIT_LOAD_FAIL;
	}
	if (a->complements) {
		rc = complements_lists(st, set, a->db);
	}
	store_summary(st);
	if (rc == EXIT_LOAD_OK && a->compact_into != NULL) {
		rc = copy_compacted(st, a->compact_into);
	}
	xs_store_close(st);
	return rc;
}

/* Check every file (opened, columns mapped) before the store is
 * touched: a file read only once stays open in (*heldp)[i], to be read
 * from where its check stopped; the others are closed (NULL there), to
 * be opened again when read. Returns the exit status: on an error the
 * reason is printed and nothing is held. */
static int
check_files(const struct args *a, xs_load_file ***heldp)
{
	xs_load_file **held;
	size_t         n_baskets = 0;
	char           err[600];

	held = xs_load_held_alloc((size_t) a->n_files);
	if (held == NULL) {
		fprintf(stderr, "xsell-load: out of memory\n");
		return EXIT_LOAD_FAIL;
	}
	for (int i = 0; i < a->n_files; i++) {
		enum xs_load_format fmt = format_of(a, a->files[i]);
		xsell_err           e;

		n_baskets += fmt == XS_LOAD_BASKETS;
		e = xs_load_check_or_hold(
		    a->files[i], fmt, &a->map, &held[i], err, sizeof(err));
		if (e != XSELL_OK) {
			fprintf(stderr, "xsell-load: %s\n", err);
			xs_load_held_free(held, (size_t) a->n_files);
			return e == XSELL_EINVAL ? EXIT_USAGE : EXIT_LOAD_FAIL;
		}
	}
	if (n_baskets > 1) {
		fprintf(stderr,
		    "xsell-load: warning: %zu basket files: order ids are "
		    "line numbers, so line N of each is the same order N\n",
		    n_baskets);
	}
	*heldp = held;
	return EXIT_LOAD_OK;
}

/* Read file i: from where its check stopped if it was held open (then
 * closed), else opened again. */
static xsell_err
read_file(xs_loader *l, const struct args *a, xs_load_file **held, int i,
    int64_t now, struct xs_load_counts *fc, char *err, size_t err_len)
{
	return xs_loader_read_checked(l, a->files[i], &held[i],
	    format_of(a, a->files[i]), &a->map, now, fc, err, err_len);
}

int
main(int argc, char **argv)
{
	struct args                  a  = { 0 };
	struct progress              pg = { 0 };
	struct xs_settings           set;
	struct xs_load_apply_opts    ao = { 0 };
	struct xs_load_apply_result  ar = { 0 };
	struct xs_load_counts       *fcs;
	const struct xs_load_counts *tot;
	const struct xs_load_reject *rej;
	size_t                       n_rej;
	xs_load_file               **held;
	xs_loader                   *l;
	xs_store                    *st;
	char                         err[600];
	int64_t                      now = xs_now_s();
	uint64_t                     t0  = xs_mono_ns(), t_read, t_apply;
	xsell_err                    e, e_sync;
	int                          rc, why;

	rc = parse_args(argc, argv, &a);
	if (rc != EXIT_LOAD_OK) {
		return rc < 0 ? EXIT_LOAD_OK : rc;
	}
	/* A file size limit (ulimit -f) would kill the load by SIGXFSZ,
	 * unsaid, where a write past it can fail with EFBIG instead: then
	 * the store is opened without write_map (store_open_for_load), and
	 * a write that cannot be made is reported, exit 1. */
	(void) signal(SIGXFSZ, SIG_IGN); /* fails only for a bad number */
	if (a.n_files == 0 && a.compact_into != NULL) {
		return after_load(&a, NULL); /* parse_args: else a FILE */
	}
	rc = check_files(&a, &held);
	if (rc != EXIT_LOAD_OK) {
		return rc;
	}

	e = store_open_for_load(&st, &a, &why);
	if (e != XSELL_OK) {
		store_open_failed(a.db, e, why);
		xs_load_held_free(held, (size_t) a.n_files);
		return EXIT_LOAD_FAIL;
	}
	/* n_files >= 1: parse_args refuses a command without a FILE. */
	// NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI)
	fcs = calloc((size_t) a.n_files, sizeof(*fcs));
	if (fcs == NULL || xs_loader_alloc(&l) != XSELL_OK) {
		fprintf(stderr, "xsell-load: out of memory\n");
		free(fcs);
		xs_store_close(st);
		xs_load_held_free(held, (size_t) a.n_files);
		return EXIT_LOAD_FAIL;
	}
	if (exclude_items(l, &a) != XSELL_OK) {
		fprintf(stderr, "xsell-load: out of memory\n");
		xs_loader_free(l);
		free(fcs);
		xs_store_close(st);
		xs_load_held_free(held, (size_t) a.n_files);
		return EXIT_LOAD_FAIL;
	}
	pg.on    = !a.quiet && isatty(STDERR_FILENO);
	pg.t0_ns = t0;
	xs_loader_set_progress(l, progress_draw, &pg);

	rc = EXIT_LOAD_OK;
	for (int i = 0; i < a.n_files && rc == EXIT_LOAD_OK; i++) {
		pg.file        = a.files[i];
		pg.file_size   = file_size(a.files[i]);
		pg.file_bytes0 = xs_loader_counts(l)->bytes;
		e = read_file(l, &a, held, i, now, &fcs[i], err, sizeof(err));
		if (e != XSELL_OK) {
			progress_clear(&pg);
			fprintf(stderr, "xsell-load: %s\n", err);
			rc = e == XSELL_EINVAL ? EXIT_USAGE : EXIT_LOAD_FAIL;
		}
	}
	t_read = xs_mono_ns();
	progress_clear(&pg);
	rej = xs_loader_rejects(l, &n_rej);
	for (size_t i = 0; i < n_rej; i++) {
		fprintf(stderr, "xsell-load: rejected %s\n", rej[i].text);
	}
	tot = xs_loader_counts(l);
	if (tot->rejected > n_rej) {
		fprintf(stderr,
		    "xsell-load: ... %" PRIu64 " rejected lines in all\n",
		    tot->rejected);
	}

	if (rc == EXIT_LOAD_OK) {
		xs_settings_default(&set);
		if (a.max_basket_items != 0) {
			set.max_basket_items = a.max_basket_items;
		}
		ao.set         = &set;
		ao.now         = now;
		ao.chunk_ms    = a.txn_ms;
		ao.incremental = a.incremental;
		pg.applying    = true;
		pg.n_orders    = xs_loader_n_orders(l);
		pg.t0_ns       = xs_mono_ns();
		e              = xs_loader_apply(l, st, &ao, &ar);
		/* The load's one sync, as the store closes (faster so). */
		e_sync = xs_store_close_sync(st);
		if (e == XSELL_OK) {
			e = e_sync;
		}
		progress_clear(&pg);
		if (e != XSELL_OK) {
			fprintf(stderr,
			    "xsell-load: writing to %s failed: %s%s\n", a.db,
			    xsell_strerror(e),
			    e == XSELL_EMAPFULL
			        ? " (run again with a larger --map-size; "
			          "committed orders are kept and skipped)"
			        : "");
			rc = EXIT_LOAD_FAIL;
		}
	} else {
		xs_store_close(st);
	}
	t_apply = xs_mono_ns();
	summary(&a, fcs, tot, &ar, (double) (t_read - t0) / 1e9,
	    (double) (t_apply - t_read) / 1e9, (double) (t_apply - t0) / 1e9);
	xs_loader_free(l);
	free(fcs);
	/* Those a failure left unread. */
	xs_load_held_free(held, (size_t) a.n_files);
	return rc == EXIT_LOAD_OK ? after_load(&a, &set) : rc;
}
