/* SPDX-License-Identifier: MIT */
/* kill -9 of xsell-load at several moments of a load: the store opens
 * afterwards, and the same load run again completes it to exactly the
 * store a clean load gives (orders are idempotent on their id, event
 * groups on the hash of their content).
 *
 * The moments are chosen by watching the store, not the clock: the test
 * opens it read-only while the loader writes and kills it once at least
 * T orders are committed, for T from 0 (killed at once, before anything
 * is written) to one short of all of them, and then once E events
 * (orders, views, cart adds) are, E drawn from a printed seed
 * (XSELL_TEST_SEED=<seed> draws the same), half of them in the views and
 * cart adds that follow the orders. Where a kill lands between
 * commits is up to the scheduler; every outcome must pass, so nothing
 * here depends on timing. The last test fills the map instead. */
#include "support.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

/* tests/data/online-retail-2011-02.csv: 27,707 lines of 1,134
 * invoices; 1,126 of them have a line with quantity > 0 (counted with
 * Python's csv module: distinct InvoiceNo over lines whose Quantity
 * parses as a number > 0). The rest are returns only. */
#define RETAIL_ORDERS 1126

/* The events file below: EVENT_LINES lines, all kept. */
#define EVENT_LINES 1000

struct fixture {
	char *dir;
	char  retail[512];
	char  events[512];
	char  out[8192]; /* stdout and stderr of the last load_run */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	FILE           *fp;
	/* Items of the February file, so events and orders share items. */
	static const char *const items[] = { "22697", "22698", "22699",
		"85123A", "21731", "22423", "47566", "84879" };

	f->dir = xs_test_tmpdir();
	snprintf(f->retail, sizeof(f->retail), "%s/tests/data/%s",
	    XS_TEST_SOURCE_DIR, "online-retail-2011-02.csv");
	snprintf(f->events, sizeof(f->events), "%s/events.tsv", f->dir);
	fp = fopen(f->events, "w");
	assert_non_null(fp);
	/* Views and cart adds of 37 users, a minute apart, in February. */
	fprintf(fp, "user\titem\tevent_type\tts\n");
	for (int i = 0; i < EVENT_LINES; i++) {
		fprintf(fp, "v%d\t%s\t%s\t%d\n", i % 37, items[(i * 7) % 8],
		    i % 3 == 2 ? "addtocart" : "view", 1296518400 + i * 60);
	}
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

/* Start xsell-load on 'db' with both files and the options in 'extra'
 * (NULL-terminated, may be NULL); its output goes to load.out in the
 * test directory. Small transactions (--txn-ms 1) make many commits, so
 * that kills land between them; --incremental keeps them for a new
 * store too (whose bulk build, one transaction, test_bulk_load kills). */
static pid_t
load_start(struct fixture *f, const char *db, const char *const *extra)
{
	char        out_path[600];
	const char *argv[16] = { XS_TEST_XSELL_LOAD, "--db", db, "--quiet",
		"--txn-ms", "1", "--incremental" };
	size_t      n        = 7;
	pid_t       pid;

	while (extra != NULL && *extra != NULL && n < 13) {
		argv[n++] = *extra++;
	}
	argv[n++] = f->retail;
	argv[n++] = f->events;
	argv[n]   = NULL;
	snprintf(out_path, sizeof(out_path), "%s/load.out", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0) {
			_exit(127);
		}
		alarm(120);
		xs_test_execv(argv);
		_exit(127);
	}
	return pid;
}

/* Run a whole load; returns its exit code, its output in f->out. */
static int
load_run(struct fixture *f, const char *db, const char *const *extra)
{
	pid_t  pid = load_start(f, db, extra);
	char   out_path[600];
	FILE  *fp;
	int    status;
	size_t n = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	snprintf(out_path, sizeof(out_path), "%s/load.out", f->dir);
	fp = fopen(out_path, "r");
	if (fp != NULL) {
		n = fread(f->out, 1, sizeof(f->out) - 1, fp);
		fclose(fp);
	}
	f->out[n] = '\0';
	if (!WIFEXITED(status)) {
		fail_msg("xsell-load on %s died (status %d): %s", db, status,
		    f->out);
	}
	return WEXITSTATUS(status);
}

/* The totals of the store in 'db', opened read-only. False if it cannot
 * be opened yet (the loader has not created it, or not its databases:
 * the store logs that). */
static bool
totals_get(const char *db, struct xs_totals *t)
{
	struct xs_store_opts so = { 0 };
	char                 data[600];
	struct stat          sb;
	xs_store            *st;
	MDB_txn             *txn;
	xsell_err            err;

	snprintf(data, sizeof(data), "%s/data.mdb", db);
	if (stat(data, &sb) != 0) {
		return false;
	}
	so.read_only = true;
	if (xs_store_open(&st, db, &so) != XSELL_OK) {
		return false;
	}
	err = xs_txn_read(st, &txn);
	if (err == XSELL_OK) {
		err = xs_store_totals_get(st, txn, t);
		xs_txn_abort(txn);
	}
	xs_store_close(st);
	return err == XSELL_OK;
}

/* The store's dump, into *b (caller frees with xs_buf_fini). The store
 * is opened for writing, as the next xsell-load or xselld would. */
static void
dump(const char *db, struct xs_buf *b)
{
	xs_store *st;

	xs_buf_init(b, SIZE_MAX);
	assert_xs_ok(xs_store_open(&st, db, NULL));
	assert_xs_ok(xs_store_dump(st, b));
	xs_store_close(st);
}

/* Start a load on 'db' and kill it with SIGKILL once 'orders' orders and
 * 'events' events are committed (at once for 0 and 0), or let it finish
 * if it gets there first. Returns true if the kill landed while the
 * loader was still running. */
static bool
load_kill_at(
    struct fixture *f, const char *db, uint64_t orders, uint64_t events)
{
	struct timespec  nap = { 0, 500 * 1000 }; /* 0.5 ms */
	struct xs_totals t;
	pid_t            pid = load_start(f, db, NULL);
	int              status;
	bool             exited = false;

	/* Bounded: the loader's alarm(120) ends it, and then so does this
	 * loop. */
	while (orders > 0 || events > 0) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
			break;
		}
		if (totals_get(db, &t) && t.orders >= orders &&
		    t.events >= events) {
			break;
		}
		nanosleep(&nap, NULL);
	}
	if (exited) {
		return false;
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static void
test_crash_load_kill_9_then_reload_equals_clean(void **state)
{
	struct fixture  *f = *state;
	struct xs_buf    clean, again;
	struct xs_totals t;
	char             db[600];
	unsigned         mid = 0;
	/* Orders committed before the kill: none, one chunk, a quarter, a
	 * half, three quarters, all but one. */
	const uint64_t at[] = { 0, 1, RETAIL_ORDERS / 4, RETAIL_ORDERS / 2,
		RETAIL_ORDERS * 3 / 4, RETAIL_ORDERS - 1 };
	const size_t   n_at = sizeof(at) / sizeof(at[0]);

	snprintf(db, sizeof(db), "%s/clean", f->dir);
	assert_int_equal(load_run(f, db, NULL), 0);
	assert_true(totals_get(db, &t));
	assert_int_equal(t.orders, RETAIL_ORDERS);
	assert_int_equal(t.events, RETAIL_ORDERS + EVENT_LINES);
	dump(db, &clean);

	for (size_t i = 0; i < n_at; i++) {
		snprintf(db, sizeof(db), "%s/killed-%zu", f->dir, i);
		if (load_kill_at(f, db, at[i], 0)) {
			mid++;
		}
		/* It opens, for writing, and holds no more than a clean
		 * load would: every commit whole, nothing counted twice. */
		memset(&t, 0, sizeof(t));
		if (totals_get(db, &t)) {
			assert_true(t.orders <= RETAIL_ORDERS);
			assert_true(t.events <= RETAIL_ORDERS + EVENT_LINES);
			assert_true(t.orders >= at[i]);
		}
		print_message("killed at >= %llu orders: %llu orders, %llu "
		              "events in the store\n",
		    (unsigned long long) at[i], (unsigned long long) t.orders,
		    (unsigned long long) t.events);
		assert_int_equal(load_run(f, db, NULL), 0);
		dump(db, &again);
		if (again.len != clean.len ||
		    memcmp(again.data, clean.data, clean.len) != 0) {
			fail_msg("killed at %llu orders: the reloaded store "
			         "differs from a clean load",
			    (unsigned long long) at[i]);
		}
		xs_buf_fini(&again);
	}
	print_message(
	    "kills that landed while xsell-load ran: %u of %zu\n", mid, n_at);
	xs_buf_fini(&clean);
}

#define RANDOM_KILLS 4

/* Killed once E events are committed, E drawn from the seed: in even
 * rounds among all the events, in odd ones among the views and cart
 * adds after the orders. Each time, the same load run again gives the
 * clean load's store. */
static void
test_crash_load_kill_9_at_random_moments_then_reload_equals_clean(void **state)
{
	struct fixture  *f    = *state;
	uint64_t         seed = xs_test_seed(), rng = seed;
	struct xs_buf    clean, again;
	struct xs_totals t;
	char             db[600];

	print_message("seed %llu (XSELL_TEST_SEED=%llu draws the same kill "
	              "points)\n",
	    (unsigned long long) seed, (unsigned long long) seed);
	snprintf(db, sizeof(db), "%s/clean", f->dir);
	assert_int_equal(load_run(f, db, NULL), 0);
	dump(db, &clean);
	for (unsigned i = 0; i < RANDOM_KILLS; i++) {
		uint64_t events = i % 2 == 0
		    ? xs_test_rng_next(&rng) % (RETAIL_ORDERS + EVENT_LINES)
		    : RETAIL_ORDERS + xs_test_rng_next(&rng) % EVENT_LINES;
		bool     mid;

		snprintf(db, sizeof(db), "%s/random-%u", f->dir, i);
		mid = load_kill_at(f, db, 0, events);
		memset(&t, 0, sizeof(t));
		if (totals_get(db, &t)) {
			assert_true(t.orders <= RETAIL_ORDERS);
			assert_true(t.events <= RETAIL_ORDERS + EVENT_LINES);
			assert_true(t.events >= events);
		}
		print_message("killed at >= %llu events%s: %llu orders, %llu "
		              "events in the store\n",
		    (unsigned long long) events, mid ? "" : " (had finished)",
		    (unsigned long long) t.orders,
		    (unsigned long long) t.events);
		assert_int_equal(load_run(f, db, NULL), 0);
		dump(db, &again);
		if (again.len != clean.len ||
		    memcmp(again.data, clean.data, clean.len) != 0) {
			fail_msg("seed %llu, killed at %llu events: the "
			         "reloaded store differs from a clean load",
			    (unsigned long long) seed,
			    (unsigned long long) events);
		}
		xs_buf_fini(&again);
	}
	xs_buf_fini(&clean);
}

/* A map too small for the load: xsell-load stops with exit 1 and says
 * so, the store opens with whole chunks only, and the same load with the
 * default map completes it to the clean load's store. */
static void
test_crash_load_full_map_then_larger_map_equals_clean(void **state)
{
	static const char *const tiny[] = { "--map-size", "1M", NULL };
	struct fixture          *f      = *state;
	struct xs_buf            clean, again;
	struct xs_totals         t;
	char                     db[600];

	snprintf(db, sizeof(db), "%s/clean", f->dir);
	assert_int_equal(load_run(f, db, NULL), 0);
	dump(db, &clean);

	snprintf(db, sizeof(db), "%s/small", f->dir);
	assert_int_equal(load_run(f, db, tiny), 1);
	if (strstr(f->out,
	        "storage map is full (run again with a larger "
	        "--map-size") == NULL) {
		fail_msg("no clear message:\n%s", f->out);
	}
	memset(&t, 0, sizeof(t));
	if (totals_get(db, &t)) {
		assert_true(t.orders < RETAIL_ORDERS);
	}
	print_message("1 MiB map: %llu of %d orders committed, then full\n",
	    (unsigned long long) t.orders, RETAIL_ORDERS);
	assert_int_equal(load_run(f, db, NULL), 0);
	dump(db, &again);
	assert_int_equal(again.len, clean.len);
	assert_memory_equal(again.data, clean.data, clean.len);
	xs_buf_fini(&again);
	xs_buf_fini(&clean);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_crash_load_kill_9_then_reload_equals_clean, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_crash_load_kill_9_at_random_moments_then_reload_equals_clean,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_crash_load_full_map_then_larger_map_equals_clean,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("crash_load", tests, NULL, NULL);
}
