/* SPDX-License-Identifier: MIT */
/* The fresh-store bulk build of xsell-load (one transaction, pairs and
 * top lists written whole by src/store/bulk.c) against the incremental
 * path it replaces for an empty store: the same files through both give
 * byte for byte the same canonical dump (xs_store_dump), on real orders
 * (the February file of Online Retail, in the repository), on a file
 * from xsell-gen with guests, repeat customers, categories and prices,
 * and with events (views, cart adds and removals, ratings), returns,
 * rejected lines, a repeated event group, sampled orders and short top
 * lists. A store that holds anything is never bulk-built; a kill -9
 * during a bulk build leaves nothing or everything. No timing. */
#define _GNU_SOURCE /* memmem */
#include "support.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "load/load.h"
#include "model/model.h"
#include "store/store.h"

/* tests/data/online-retail-2011-02.csv: 1,126 orders with a line of
 * quantity > 0 (counted with Python's csv module, see
 * test_crash_load.c). */
#define RETAIL_ORDERS 1126

/* The events file below: EVENT_LINES lines, 7 of them malformed (an
 * empty item: i % 100 == 99). */
#define EVENT_LINES 700
#define EVENT_LINES_KEPT (EVENT_LINES - 7)
/* A store holding both files: every order and every kept event line
 * counts as one event in its totals. */
#define BOTH_EVENTS (RETAIL_ORDERS + EVENT_LINES_KEPT)

struct fixture {
	char *dir;
	char  retail[512];
	char  events[512];
	char  generated[512];
	char  tiny[512];
};

/* Items of the February file, so that events and orders share items. */
static const char *const retail_items[] = { "22697", "22698", "22699",
	"85123A", "21731", "22423", "47566", "84879", "22727", "22728" };

/* Views, cart adds and removals and ratings of 23 users, some of them
 * February customers (12748, 17841, 14911), a minute apart; every
 * 100th line has an empty item (rejected). */
static void
write_events(const char *path)
{
	static const char *const users[] = { "12748", "17841", "14911", "v1",
		"v2", "v3" };
	static const char *const types[] = { "view", "view", "addtocart",
		"view", "removefromcart", "rating", "view" };
	FILE                    *fp      = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "user\titem\tevent_type\tts\trating\n");
	for (int i = 0; i < EVENT_LINES; i++) {
		const char *type = types[i % 7];

		fprintf(fp, "%s%s\t%s\t%s\t%d\t%s\n", users[i % 6],
		    i % 6 >= 3 ? (i % 23 < 12 ? "a" : "b") : "",
		    i % 100 == 99 ? "" : retail_items[(i * 7) % 10], type,
		    1296518400 + i * 60,
		    strcmp(type, "rating") == 0 ? (i % 2 ? "5" : "2") : "");
	}
	fclose(fp);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	FILE           *fp;

	f->dir = xs_test_tmpdir();
	snprintf(f->retail, sizeof(f->retail), "%s/tests/data/%s",
	    XS_TEST_SOURCE_DIR, "online-retail-2011-02.csv");
	snprintf(f->events, sizeof(f->events), "%s/events.tsv", f->dir);
	snprintf(f->generated, sizeof(f->generated), "%s/gen.csv", f->dir);
	snprintf(f->tiny, sizeof(f->tiny), "%s/one-view.tsv", f->dir);
	write_events(f->events);
	fp = fopen(f->tiny, "w");
	assert_non_null(fp);
	fprintf(fp, "user\titem\tevent_type\tts\nsomeone\tx-1\tview\t1\n");
	fclose(fp);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	xs_test_rmdir(f->dir);
	free(f);
	return 0;
}

/* ==== Loading through the library ==== */

struct load_case {
	const char *files[3];         /* NULL-terminated */
	unsigned    max_basket_items; /* 0: the default */
	unsigned    history_max;      /* 0: the default */
	unsigned    top_m;            /* 0: the default */
};

/* Open (create) the store in dir/name with the case's top_m. */
static xs_store *
store_open(struct fixture *f, const char *name, const struct load_case *lc,
    char *path, size_t len)
{
	struct xs_store_opts so = { 0 };
	xs_store            *st;

	snprintf(path, len, "%s/%s", f->dir, name);
	so.top_m   = lc->top_m;
	so.no_sync = true;
	assert_xs_ok(xs_store_open(&st, path, &so));
	return st;
}

/* Read the case's files and apply them to 'st'; incremental forces the
 * chunked path. */
static void
load_into(xs_store *st, const struct load_case *lc, bool incremental,
    struct xs_load_apply_result *res)
{
	struct xs_load_apply_opts opts = { 0 };
	struct xs_settings        set;
	xs_loader                *l;
	char                      err[600];

	xs_settings_default(&set);
	if (lc->max_basket_items != 0) {
		set.max_basket_items = lc->max_basket_items;
	}
	if (lc->history_max != 0) {
		set.history_max = lc->history_max;
	}
	assert_xs_ok(xs_loader_alloc(&l));
	for (int i = 0; lc->files[i] != NULL; i++) {
		xsell_err e = xs_loader_read(l, lc->files[i], NULL,
		    xs_load_format_guess(lc->files[i]), NULL, 1300000000, NULL,
		    err, sizeof(err));

		if (e != XSELL_OK) {
			fail_msg("%s: %s", lc->files[i], err);
		}
	}
	opts.set         = &set;
	opts.now         = 1300000000;
	opts.incremental = incremental;
	/* Small chunks: the incremental side commits many times. */
	opts.chunk_orders = 100;
	assert_xs_ok(xs_loader_apply(l, st, &opts, res));
	xs_loader_free(l);
}

static void
dump_of(xs_store *st, struct xs_buf *b)
{
	xs_buf_init(b, SIZE_MAX);
	assert_xs_ok(xs_store_dump(st, b));
}

/* Fail, naming the first line where the dumps differ. */
static void
assert_same_dump(const struct xs_buf *bulk, const struct xs_buf *inc)
{
	size_t i = 0, line = 1, start = 0;

	while (
	    i < bulk->len && i < inc->len && bulk->data[i] == inc->data[i]) {
		if (bulk->data[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (i == bulk->len && i == inc->len) {
		return;
	}
	fail_msg("the dumps differ at line %zu:\n  bulk:        %.120s\n"
	         "  incremental: %.120s",
	    line, (const char *) bulk->data + start,
	    (const char *) inc->data + start);
}

/* Load the case into two fresh stores, once bulk and once incremental,
 * and compare the dumps. The bulk side must have been one transaction;
 * the dump must hold pairs and top lists (so an empty build fails). */
static void
check_same(struct fixture *f, const struct load_case *lc, const char *tag,
    uint64_t want_orders)
{
	struct xs_load_apply_result rb, ri;
	struct xs_buf               db, di;
	char                        pb[600], pi[600], name[64];
	xs_store                   *sb, *si;

	snprintf(name, sizeof(name), "%s-bulk", tag);
	sb = store_open(f, name, lc, pb, sizeof(pb));
	snprintf(name, sizeof(name), "%s-inc", tag);
	si = store_open(f, name, lc, pi, sizeof(pi));
	load_into(sb, lc, false, &rb);
	load_into(si, lc, true, &ri);
	assert_true(rb.fresh);
	assert_int_equal(rb.commits, 1);
	assert_false(ri.fresh);
	assert_true(ri.commits > 1);
	assert_int_equal(rb.orders, want_orders);
	assert_int_equal(ri.orders, want_orders);
	assert_int_equal(rb.events, ri.events);
	assert_int_equal(rb.event_duplicates, ri.event_duplicates);
	dump_of(sb, &db);
	dump_of(si, &di);
	print_message("%s: %llu orders, %llu events, dump of %zu bytes\n", tag,
	    (unsigned long long) rb.orders, (unsigned long long) rb.events,
	    db.len);
	assert_non_null(memmem(db.data, db.len, "\n[top]\n0", 8));
	assert_same_dump(&db, &di);
	xs_buf_fini(&db);
	xs_buf_fini(&di);
	xs_store_close(sb);
	xs_store_close(si);
}

/* ==== Same store both ways ==== */

static void
test_bulk_retail_february_same_as_incremental(void **state)
{
	struct fixture  *f  = *state;
	struct load_case lc = { { f->retail, NULL }, 0, 0, 0 };

	check_same(f, &lc, "retail", RETAIL_ORDERS);
}

/* Orders sampled down to 3 items (the hash order decides which, and
 * view_buy takes the first of them), histories of 60 events (shorter
 * than a customer's 117 events: trimmed), top lists
 * of 2 (ties broken by item number), with events of February
 * customers read first: their views come before their orders, which
 * makes view_buy pairs. */
static void
test_bulk_sampled_short_lists_events_same(void **state)
{
	struct fixture  *f  = *state;
	struct load_case lc = { { f->events, f->retail, NULL }, 3, 60, 2 };

	check_same(f, &lc, "sampled", RETAIL_ORDERS);
}

/* Orders alone go in by user, each user's bought, cart and history
 * held in memory while their orders are applied (xs_store_users_hold),
 * here with histories of 20 events: trimmed for many customers. */
static void
test_bulk_orders_by_user_short_history_same(void **state)
{
	struct fixture  *f  = *state;
	struct load_case lc = { { f->retail, NULL }, 0, 20, 0 };

	check_same(f, &lc, "by-user", RETAIL_ORDERS);
}

/* The events file alone: views, carts and ratings make every relation
 * but basket. */
static void
test_bulk_events_only_same(void **state)
{
	struct fixture  *f  = *state;
	struct load_case lc = { { f->events, NULL }, 0, 0, 0 };

	check_same(f, &lc, "events", 0);
}

/* 30,000 generated lines (2,000 items in 40 categories, guests, repeat
 * customers, baskets of up to 60 lines: some sampled at 25) with the
 * events file. */
static void
test_bulk_generated_same(void **state)
{
#ifdef XS_TEST_XSELL_GEN
	struct fixture   *f      = *state;
	const char *const argv[] = { XS_TEST_XSELL_GEN, "--lines", "30000",
		"--items", "2000", "--categories", "40", "--basket-mean", "8",
		"--basket-max", "60", "--guests", "0.1", "--seed", "7", NULL };
	struct load_case  lc = { { f->generated, f->events, NULL }, 25, 0, 0 };
	FILE             *fp;
	char              line[256];
	uint64_t          orders    = 0;
	char              last[256] = "";
	int               status;

	status = xs_test_run(argv, f->generated, NULL, 120);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Orders: distinct order ids (the file lists each order's lines
	 * together, all of qty >= 1). */
	fp = fopen(f->generated, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp)); /* header */
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *comma = strchr(line, ',');

		assert_non_null(comma);
		*comma = '\0';
		if (strcmp(line, last) != 0) {
			orders++;
			snprintf(last, sizeof(last), "%s", line);
		}
	}
	fclose(fp);
	check_same(f, &lc, "generated", orders);
#else
	(void) state;
	skip();
#endif
}

/* ==== Not for a store that holds anything ==== */

/* One view in the store first: the load goes the incremental way (no
 * bulk build over data it did not count), and gives what the
 * incremental path gives. */
static void
test_bulk_not_taken_on_a_store_with_data(void **state)
{
	struct fixture             *f     = *state;
	struct load_case            first = { { f->tiny, NULL }, 0, 0, 0 };
	struct load_case            lc    = { { f->retail, NULL }, 0, 0, 0 };
	struct xs_load_apply_result r1, r2;
	struct xs_buf               d1, d2;
	char                        p1[600], p2[600];
	xs_store                   *s1, *s2;

	s1 = store_open(f, "held-default", &lc, p1, sizeof(p1));
	s2 = store_open(f, "held-inc", &lc, p2, sizeof(p2));
	load_into(s1, &first, true, &r1);
	load_into(s2, &first, true, &r2);
	assert_int_equal(r1.events, 1);
	load_into(s1, &lc, false, &r1);
	load_into(s2, &lc, true, &r2);
	assert_false(r1.fresh);
	assert_true(r1.commits > 1);
	assert_int_equal(r1.orders, RETAIL_ORDERS);
	dump_of(s1, &d1);
	dump_of(s2, &d2);
	assert_same_dump(&d1, &d2);
	xs_buf_fini(&d1);
	xs_buf_fini(&d2);
	xs_store_close(s1);
	xs_store_close(s2);
}

/* A store that holds an order record and nothing else (no item, user or
 * pair: made by hand, here with xs_store_order_put) is fresh, but its
 * orders are duplicates: they must add no item name. Then the build
 * takes the ordinary walk, which names a duplicate's items only where
 * the item pass names them: the same store as the chunked load. (The
 * walk by user numbers every order's items first: it gave IA id 1, not
 * 3, and every key after it differed.) */
static void
test_bulk_store_with_orders_only_same(void **state)
{
	struct fixture             *f = *state;
	struct load_case            lc;
	struct xs_load_apply_result rb, ri;
	struct xs_order_rec         rec = { 0, 0, 1300000000 };
	struct xs_buf               db, di;
	char                        csv[600], pb[600], pi[600];
	xs_store                   *sb, *si;
	FILE                       *fp;

	snprintf(csv, sizeof(csv), "%s/dup.csv", f->dir);
	fp = fopen(csv, "w");
	assert_non_null(fp);
	fputs("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
	      "O1,IA,1,2011-02-01,1,c1\n"
	      "O2,IB,1,2011-02-02,1,c2\n"
	      "O2,IC,1,2011-02-02,1,c2\n",
	    fp);
	fclose(fp);
	memset(&lc, 0, sizeof(lc));
	lc.files[0] = csv;
	sb          = store_open(f, "orders-only-bulk", &lc, pb, sizeof(pb));
	si          = store_open(f, "orders-only-inc", &lc, pi, sizeof(pi));
	for (int i = 0; i < 2; i++) {
		MDB_txn *txn;

		assert_xs_ok(xs_txn_write(i ? si : sb, &txn));
		assert_xs_ok(
		    xs_store_order_put(i ? si : sb, txn, "O1", 2, &rec, NULL));
		assert_xs_ok(xs_txn_commit(txn));
	}
	load_into(sb, &lc, false, &rb);
	load_into(si, &lc, true, &ri);
	assert_true(rb.fresh);
	assert_int_equal(rb.orders, 1);
	assert_int_equal(rb.duplicates, 1);
	assert_int_equal(ri.orders, 1);
	dump_of(sb, &db);
	dump_of(si, &di);
	assert_same_dump(&db, &di);
	xs_buf_fini(&db);
	xs_buf_fini(&di);
	xs_store_close(sb);
	xs_store_close(si);
}

/* Loading the same files again after a bulk build: every order is a
 * duplicate, every event group too, and nothing changes. */
static void
test_bulk_then_same_files_again_changes_nothing(void **state)
{
	struct fixture  *f  = *state;
	struct load_case lc = { { f->retail, f->events, NULL }, 0, 0, 0 };
	struct xs_load_apply_result r;
	struct xs_buf               before, after;
	char                        p[600];
	xs_store                   *st;

	st = store_open(f, "again", &lc, p, sizeof(p));
	load_into(st, &lc, false, &r);
	assert_true(r.fresh);
	dump_of(st, &before);
	load_into(st, &lc, false, &r);
	assert_false(r.fresh);
	assert_int_equal(r.orders, 0);
	assert_int_equal(r.duplicates, RETAIL_ORDERS);
	assert_int_equal(r.events, 0);
	dump_of(st, &after);
	assert_same_dump(&after, &before);
	xs_buf_fini(&before);
	xs_buf_fini(&after);
	xs_store_close(st);
}

/* ==== kill -9 during a bulk build ==== */

static bool
totals_of(const char *db, struct xs_totals *t)
{
	struct xs_store_opts so = { .read_only = true };
	xs_store            *st;
	MDB_txn             *txn;
	bool                 ok = false;

	memset(t, 0, sizeof(*t));
	if (xs_store_open(&st, db, &so) != XSELL_OK) {
		return false;
	}
	if (xs_txn_read(st, &txn) == XSELL_OK) {
		ok = xs_store_totals_get(st, txn, t) == XSELL_OK;
		xs_txn_abort(txn);
	}
	xs_store_close(st);
	return ok;
}

/* Run xsell-load on 'db' with both files (no kill: its exit code), or
 * kill it with SIGKILL after 'delay_us' (returns -1); 'map' is its
 * --map-size (NULL: the default). */
static int
load_tool_map(
    struct fixture *f, const char *db, long delay_us, const char *map)
{
	const char *argv[] = { XS_TEST_XSELL_LOAD, "--db", db, "--quiet",
		f->retail, f->events, map != NULL ? "--map-size" : NULL, map,
		NULL };
	int         status;
	pid_t       pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open("/dev/null", O_WRONLY);

		if (o < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0) {
			_exit(127);
		}
		alarm(120);
		xs_test_execv(argv);
		_exit(127);
	}
	if (delay_us >= 0) {
		struct timespec nap = { delay_us / 1000000,
			(delay_us % 1000000) * 1000 };

		nanosleep(&nap, NULL);
		kill(pid, SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return delay_us >= 0 ? -1
	                     : (WIFEXITED(status) ? WEXITSTATUS(status) : -2);
}

static int
load_tool(struct fixture *f, const char *db, long delay_us)
{
	return load_tool_map(f, db, delay_us, NULL);
}

/* Killed at moments from at once to after the end: the store opens and
 * holds every order or none (one transaction), and the same load again
 * gives the clean store. Where each kill lands is up to the scheduler;
 * every outcome passes. */
static void
test_bulk_kill_9_leaves_nothing_or_everything(void **state)
{
	struct fixture  *f        = *state;
	const long       delays[] = { 0, 1000, 5000, 20000, 60000, 150000 };
	struct xs_buf    clean, again;
	struct xs_totals t;
	char             db[600];

	snprintf(db, sizeof(db), "%s/kill-clean", f->dir);
	assert_int_equal(load_tool(f, db, -1), 0);
	assert_true(totals_of(db, &t));
	assert_int_equal(t.orders, RETAIL_ORDERS);
	assert_int_equal(t.events, BOTH_EVENTS);
	xs_test_store_dump(db, &clean);
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		snprintf(db, sizeof(db), "%s/kill-%zu", f->dir, i);
		load_tool(f, db, delays[i]);
		if (totals_of(db, &t)) {
			assert_true(
			    t.orders == 0 || t.orders == RETAIL_ORDERS);
			assert_true(t.events == 0 || t.events == BOTH_EVENTS);
			assert_true((t.orders == 0) == (t.events == 0));
		}
		print_message(
		    "killed after %ld us: %llu orders in the store\n",
		    delays[i], (unsigned long long) t.orders);
		assert_int_equal(load_tool(f, db, -1), 0);
		xs_test_store_dump(db, &again);
		assert_same_dump(&again, &clean);
		xs_buf_fini(&again);
	}
	xs_buf_fini(&clean);
}

/* A map too small for the bulk build: exit 1, nothing committed (the
 * store opens, without an order), and the same load with the default
 * map gives the clean store. */
static void
test_bulk_full_map_commits_nothing_then_reload_equals_clean(void **state)
{
	struct fixture  *f = *state;
	struct xs_buf    clean, again;
	struct xs_totals t;
	char             db[600];

	snprintf(db, sizeof(db), "%s/map-clean", f->dir);
	assert_int_equal(load_tool(f, db, -1), 0);
	xs_test_store_dump(db, &clean);
	snprintf(db, sizeof(db), "%s/map-small", f->dir);
	assert_int_equal(load_tool_map(f, db, -1, "1M"), 1);
	assert_true(totals_of(db, &t));
	assert_int_equal(t.orders, 0);
	assert_int_equal(t.events, 0);
	assert_int_equal(load_tool(f, db, -1), 0);
	xs_test_store_dump(db, &again);
	assert_same_dump(&again, &clean);
	xs_buf_fini(&again);
	xs_buf_fini(&clean);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_bulk_retail_february_same_as_incremental),
		cmocka_unit_test(test_bulk_sampled_short_lists_events_same),
		cmocka_unit_test(test_bulk_orders_by_user_short_history_same),
		cmocka_unit_test(test_bulk_events_only_same),
		cmocka_unit_test(test_bulk_generated_same),
		cmocka_unit_test(test_bulk_not_taken_on_a_store_with_data),
		cmocka_unit_test(test_bulk_store_with_orders_only_same),
		cmocka_unit_test(
		    test_bulk_then_same_files_again_changes_nothing),
		cmocka_unit_test(
		    test_bulk_kill_9_leaves_nothing_or_everything),
		cmocka_unit_test(
		    test_bulk_full_map_commits_nothing_then_reload_equals_clean),
	};

	return cmocka_run_group_tests_name(
	    "bulk_load", tests, setup, teardown);
}
