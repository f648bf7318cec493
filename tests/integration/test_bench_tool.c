/* SPDX-License-Identifier: MIT */
/* xsell-bench --inproc --cpu-time, run as a binary on a small store
 * that xsell-load builds from tests/data's February 2011 slice of Online
 * Retail: the output's shape (the clock named, the rows of the mix and
 * "all", requests adding up, quantiles in order), never its times;
 * --cpu-time without --inproc refused as a usage error, as --help says,
 * and so an option given twice; the write ops sent to a running
 * xselld; a running xselld's CPU a reply (--server-pid); and the same
 * requests sent to two servers (--pair-url), each one's figures its
 * own. */
#include "support.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#define RETAIL XS_TEST_SOURCE_DIR "/tests/data/online-retail-2011-02.csv"
#define REQUESTS 300

/* The store of the test's directory. */
static const char *
db_of(const struct xs_test_dir *f)
{
	static char db[4200];

	snprintf(db, sizeof(db), "%s/db", f->dir);
	return db;
}

/* A fresh directory with the store xsell-load makes of RETAIL. */
static int
setup(void **state)
{
	struct xs_test_dir *f;
	const char         *load[5];

	xs_test_dir_setup(state);
	f       = *state;
	load[0] = "--db";
	load[1] = db_of(f);
	load[2] = "--quiet";
	load[3] = RETAIL;
	load[4] = NULL;
	if (xs_test_run_tool(XS_TEST_XSELL_LOAD, load, f->dir, f->out,
	        sizeof(f->out), f->err, sizeof(f->err)) != 0) {
		fail_msg("xsell-load: %s", f->err);
	}
	return 0;
}

/* Run xsell-bench with 'args' (NULL-terminated, after argv[0]); its exit
 * code, with its output in f. */
static int
bench(struct xs_test_dir *f, const char *const *args)
{
	return xs_test_run_tool(XS_TEST_XSELL_BENCH, args, f->dir, f->out,
	    sizeof(f->out), f->err, sizeof(f->err));
}

/* One row of the table: "NAME REQUESTS REQ/S P50 P90 P99 P99.9 MEAN
 * MAX". Checks that the quantiles are in order and the mean within
 * them; returns the requests. */
static long
row_requests(const char *line, char *name, size_t name_len)
{
	char   word[32];
	long   requests;
	double rps, q[4], mean, max;

	assert_int_equal(
	    sscanf(line, "%31s %ld %lf %lf %lf %lf %lf %lf %lf", word,
	        &requests, &rps, &q[0], &q[1], &q[2], &q[3], &mean, &max),
	    9);
	snprintf(name, name_len, "%s", word);
	assert_true(requests > 0);
	assert_true(0 <= q[0] && q[0] <= q[1] && q[1] <= q[2] &&
	    q[2] <= q[3] && q[3] <= max);
	assert_true(mean <= max);
	return requests;
}

/* The table: its first line names the thread's CPU clock, the header
 * the columns, one row per op of the mix that ran and "all" last,
 * whose requests are the ops' sum and --requests. */
static void
test_bench_cpu_time_table(void **state)
{
	struct xs_test_dir *f = *state;
	const char *args[]    = { "--inproc", "--db", db_of(f), "--cpu-time",
		   "--requests", "300", "--warmup", "0", "--mix",
		   "fbt=1,complements=1,picks=1", "--seed", "3", NULL };
	static const char first[] =
	    "in process (model calls only), 1 thread, thread CPU time, ";
	char *save = NULL;
	char *line;
	long  sum = 0, all = -1;
	int   rows = 0;

	assert_int_equal(bench(f, args), 0);
	line = strtok_r(f->out, "\n", &save);
	assert_non_null(line);
	assert_true(strncmp(line, first, sizeof(first) - 1) == 0);
	assert_non_null(strstr(line, " s measured"));
	line = strtok_r(NULL, "\n", &save);
	assert_non_null(line);
	assert_string_equal(line,
	    "op            requests      req/s    p50 us    p90 us    p99 us"
	    "  p99.9 us   mean us    max us");
	while ((line = strtok_r(NULL, "\n", &save)) != NULL &&
	    strncmp(line, "errors ", 7) != 0) {
		char name[32];
		long n = row_requests(line, name, sizeof(name));

		assert_true(all < 0); /* nothing after "all" */
		if (strcmp(name, "all") == 0) {
			all = n;
			continue;
		}
		assert_true(strcmp(name, "fbt") == 0 ||
		    strcmp(name, "complements") == 0 ||
		    strcmp(name, "picks") == 0);
		sum += n;
		rows++;
	}
	assert_true(rows >= 1 && rows <= 3);
	assert_int_equal(all, REQUESTS);
	assert_int_equal(sum, REQUESTS);
	assert_non_null(line);
	assert_string_equal(
	    line, "errors 0 (ok: false), failures 0 (no reply)");
	assert_null(strtok_r(NULL, "\n", &save));
}

/* Checks one op's (or "all"'s) object; returns its requests. */
static json_int_t
json_row(json_t *o)
{
	double q50 = json_number_value(json_object_get(o, "p50_us"));
	double q99 = json_number_value(json_object_get(o, "p99_us"));
	double max = json_number_value(json_object_get(o, "max_us"));

	assert_true(json_is_object(o));
	assert_true(0 <= q50 && q50 <= q99 && q99 <= max);
	return json_integer_value(json_object_get(o, "requests"));
}

/* Run with --json and the flags in 'clock_flag' (NULL: none); the
 * object, checked for the shape both clocks share. Caller decrefs. */
static json_t *
bench_json(struct xs_test_dir *f, const char *clock_flag)
{
	const char  *args[] = { "--inproc", "--db", db_of(f), "--requests",
		 "300", "--warmup", "0", "--mix", "fbt=1,complements=1",
		 "--json", clock_flag, NULL };
	json_error_t jerr;
	json_t      *r, *ops, *v;
	const char  *op;
	json_int_t   sum = 0;

	assert_int_equal(bench(f, args), 0);
	r = json_loads(f->out, 0, &jerr);
	if (r == NULL) {
		fail_msg("not JSON (%s): %s", jerr.text, f->out);
	}
	assert_string_equal(
	    json_string_value(json_object_get(r, "mode")), "inproc");
	assert_int_equal(json_integer_value(json_object_get(r, "clients")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "errors")), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(r, "failures")), 0);
	ops = json_object_get(r, "ops");
	assert_true(json_is_object(ops));
	json_object_foreach(ops, op, v)
	{
		assert_true(
		    strcmp(op, "fbt") == 0 || strcmp(op, "complements") == 0);
		sum += json_row(v);
	}
	assert_int_equal(sum, REQUESTS);
	assert_int_equal(json_row(json_object_get(r, "all")), REQUESTS);
	return r;
}

static void
test_bench_cpu_time_json(void **state)
{
	json_t *r = bench_json(*state, "--cpu-time");

	assert_string_equal(
	    json_string_value(json_object_get(r, "clock")), "thread_cpu");
	json_decref(r);
}

static void
test_bench_wall_clock_by_default(void **state)
{
	json_t *r = bench_json(*state, NULL);

	assert_string_equal(
	    json_string_value(json_object_get(r, "clock")), "wall");
	json_decref(r);
}

/* Over a socket --cpu-time would time this thread, not the server: a
 * usage error (2) naming the flag, before any connection is tried. */
static void
test_bench_cpu_time_needs_inproc(void **state)
{
	struct xs_test_dir *f   = *state;
	char               *url = xs_test_ipc_url(f->dir, "nobody");
	const char *args[] = { "--url", url, "--db", db_of(f), "--cpu-time",
		"--requests", "5", "--timeout-ms", "100", NULL };

	assert_int_equal(bench(f, args), 2);
	assert_string_equal(
	    f->err, "xsell-bench: --cpu-time: needs --inproc (see --help)\n");
	assert_string_equal(f->out, "");
	free(url);
}

/* --memo-size sets the in-process store's memo budget: a usage error
 * over a socket, and outside 1M..1T. */
static void
test_bench_memo_size_needs_inproc_and_a_budget(void **state)
{
	struct xs_test_dir *f   = *state;
	char               *url = xs_test_ipc_url(f->dir, "nobody");
	const char *socket[] = { "--url", url, "--db", db_of(f), "--memo-size",
		"2M", "--requests", "5", "--timeout-ms", "100", NULL };
	const char *small[]  = { "--inproc", "--db", db_of(f), "--memo-size",
		 "1023K", "--requests", "5", NULL };
	const char *ok[] = { "--inproc", "--db", db_of(f), "--memo-size", "2M",
		"--requests", "5", "--warmup", "0", NULL };

	assert_int_equal(bench(f, socket), 2);
	assert_string_equal(
	    f->err, "xsell-bench: --memo-size: needs --inproc (see --help)\n");
	assert_int_equal(bench(f, small), 2);
	assert_string_equal(
	    f->err, "xsell-bench: --memo-size: is not 1M..1T (see --help)\n");
	assert_int_equal(bench(f, ok), 0);
	free(url);
}

/* xsell-bench's --json report 'out': n requests in all, none refused. */
static void
assert_all_answered(const char *out, json_int_t n)
{
	json_error_t jerr;
	json_t      *r = json_loads(out, 0, &jerr);

	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "errors")), 0);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(r, "all"), "requests")),
	    n);
	json_decref(r);
}

/* --warm makes what xselld makes before it answers, in process only: a
 * usage error over a socket and past 1000000; in process a run after
 * it answers every request. */
static void
test_bench_warm_needs_inproc(void **state)
{
	struct xs_test_dir *f   = *state;
	char               *url = xs_test_ipc_url(f->dir, "nobody");
	const char *socket[] = { "--url", url, "--db", db_of(f), "--warm", "5",
		"--requests", "5", "--timeout-ms", "100", NULL };
	const char *many[]   = { "--inproc", "--db", db_of(f), "--warm",
		  "1000001", "--requests", "5", NULL };
	const char *ok[] = { "--inproc", "--db", db_of(f), "--warm", "1000",
		"--mix", "fbt=1,fbt_cart=1", "--requests", "50", "--warmup",
		"0", "--json", NULL };

	assert_int_equal(bench(f, socket), 2);
	assert_string_equal(
	    f->err, "xsell-bench: --warm: needs --inproc (see --help)\n");
	assert_int_equal(bench(f, many), 2);
	assert_string_equal(
	    f->err, "xsell-bench: --warm: is not 0..1000000 (see --help)\n");
	assert_int_equal(bench(f, ok), 0);
	assert_all_answered(f->out, 50);
	free(url);
}

/* --picks-unkept turns for_you's kept answers off in process: a usage
 * error over a socket; in process its picks are all answered. */
static void
test_bench_picks_unkept_needs_inproc(void **state)
{
	struct xs_test_dir *f   = *state;
	char               *url = xs_test_ipc_url(f->dir, "nobody");
	const char *socket[]    = { "--url", url, "--db", db_of(f), "--mix",
		   "picks=1", "--picks-unkept", "--requests", "5", "--timeout-ms",
		   "100", NULL };
	const char *ok[] = { "--inproc", "--db", db_of(f), "--mix", "picks=1",
		"--picks-unkept", "--requests", "30", "--warmup", "0",
		"--json", NULL };

	assert_int_equal(bench(f, socket), 2);
	assert_string_equal(f->err,
	    "xsell-bench: --picks-unkept: needs --inproc (see --help)\n");
	assert_int_equal(bench(f, ok), 0);
	assert_all_answered(f->out, 30);
	free(url);
}

/* --mix: an empty element, an unknown op or a mix of weight 0 is a
 * usage error naming the flag, as every tool's lists. */
static void
test_bench_mix_refused(void **state)
{
	struct xs_test_dir *f = *state;
	const char *specs[] = { "fbt=1,,picks=1", "fbt=1,", "gift=1", "fbt=0",
		"fbt" };

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		const char *args[] = { "--inproc", "--db", db_of(f), "--mix",
			specs[i], "--requests", "5", NULL };

		assert_int_equal(bench(f, args), 2);
		assert_string_equal(f->err,
		    "xsell-bench: --mix: op=weight,... with known ops (see "
		    "--help)\n");
	}
}

/* The orders trending counts for 'item' in its window (explain). */
static json_int_t
trending_count(const char *url, const char *item)
{
	json_t *r = xs_test_call_ok(
	    url, "{\"op\":\"trending\",\"k\":10,\"explain\":true}");
	json_t    *items = json_object_get(r, "items");
	json_int_t count = -1;
	size_t     i;
	json_t    *it;

	json_array_foreach(items, i, it)
	{
		const char *id =
		    json_string_value(json_object_get(it, "item"));

		if (id != NULL && strcmp(id, item) == 0) {
			count =
			    json_integer_value(json_object_get(it, "count"));
		}
	}
	json_decref(r);
	return count;
}

/* The write ops over a socket, to a running xselld: 'view' sends
 * --event-batch views a request to the admin endpoint, each applied
 * (counts.events grows by all of them), and 'event' as many orders,
 * both stamped with the store's newest history event; without
 * --admin-url either is a usage error. */
static void
test_bench_writes_views_and_orders(void **state)
{
	struct xs_test_dir   *f = *state;
	struct xs_test_server s = { 0 };
	const char *views[]     = { "--url", NULL, "--admin-url", NULL, "--db",
		    NULL, "--mix", "view=1", "--event-batch", "5", "--requests",
		    "20", "--warmup", "0", NULL };
	const char *orders[]    = { "--url", NULL, "--admin-url", NULL, "--db",
		   NULL, "--mix", "event=1", "--event-batch", "3", "--requests",
		   "4", "--warmup", "0", NULL };
	const char *no_admin[]  = { "--url", NULL, "--db", NULL, "--mix",
		 "view=1", "--requests", "1", NULL };
	const char *row;
	char        name[32];

	xs_test_server_start(&s, NULL);
	xs_test_send_ok(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o1\",\"user\":\"u1\",\"ts\":1300000000,"
	    "\"items\":[\"A\",\"B\",\"C\"]}]}");
	views[1] = orders[1] = no_admin[1] = s.read_url;
	views[3] = orders[3] = s.admin_url;
	views[5] = orders[5] = no_admin[3] = s.db;

	assert_int_equal(bench(f, views), 0);
	row = strstr(f->out, "\nview ");
	assert_non_null(row);
	assert_int_equal(row_requests(row + 1, name, sizeof(name)), 20);
	assert_non_null(strstr(f->out, "errors 0 (ok: false)"));
	assert_int_equal(
	    xs_test_stat(s.read_url, "counts", "events"), 1 + 20 * 5);
	assert_int_equal(bench(f, orders), 0);
	assert_int_equal(
	    xs_test_stat(s.read_url, "counts", "orders"), 1 + 4 * 3);
	/* Stamped with the store's newest history event (o1's), the
	 * orders share o1's day: all 13 are in trending's window, where
	 * orders stamped today would leave o1, years back, out of it. */
	assert_int_equal(trending_count(s.read_url, "A"), 1 + 4 * 3);

	assert_int_equal(bench(f, no_admin), 2);
	assert_string_equal(f->err,
	    "xsell-bench: --mix: event and view need --admin-url (see "
	    "--help)\n");
	xs_test_server_fini(&s);
}

/* An option with a value given twice is a usage error naming it, as in
 * xsell-load, before any store is opened or request sent: the last value
 * was kept unsaid (--k 5 --k 10 asked for 10). A flag may repeat. */
static void
test_bench_option_given_twice(void **state)
{
	struct xs_test_dir *f   = *state;
	char               *url = xs_test_ipc_url(f->dir, "nobody");
	const char         *k[] = { "--inproc", "--db", db_of(f), "--k", "5",
		        "--requests", "5", "--k", "10", NULL };
	const char *urls[]  = { "--url", url, "--url", url, "--db", db_of(f),
		 "--requests", "5", NULL };
	const char *flags[] = { "--inproc", "--inproc", "--db", db_of(f),
		"--requests", "5", "--warmup", "0", "--json", "--json", NULL };

	assert_int_equal(bench(f, k), 2);
	assert_string_equal(
	    f->err, "xsell-bench: --k: given twice (see --help)\n");
	assert_string_equal(f->out, "");
	assert_int_equal(bench(f, urls), 2);
	assert_string_equal(
	    f->err, "xsell-bench: --url: given twice (see --help)\n");
	assert_int_equal(bench(f, flags), 0);
	free(url);
}

/* A store that cannot be opened says why as the system does, where it
 * said XSELL_EIO's "input/output error": in process and over a socket
 * (whose items come from the store too). */
static void
test_bench_store_missing_says_why(void **state)
{
	struct xs_test_dir *f   = *state;
	char               *url = xs_test_ipc_url(f->dir, "nobody");
	char                db[4200], want[4300];
	const char *inproc[] = { "--inproc", "--db", db, "--requests", "5",
		NULL };
	const char *socket[] = { "--url", url, "--db", db, "--requests", "5",
		"--timeout-ms", "100", NULL };

	snprintf(db, sizeof(db), "%s/no/such/db", f->dir);
	snprintf(want, sizeof(want),
	    "xsell-bench: %s: No such file or directory\n", db);
	assert_int_equal(bench(f, inproc), 1);
	xs_test_assert_has(f->err, want);
	assert_int_equal(bench(f, socket), 1);
	xs_test_assert_has(f->err, want);
	free(url);
}

/* One integer of one op's object in --json's "ops". */
static long
op_field(json_t *ops, const char *op, const char *field)
{
	json_t *o = json_object_get(ops, op);

	assert_non_null(o);
	return (long) json_integer_value(json_object_get(o, field));
}

/* The op of an error and of a failure is said: writes sent to a read
 * endpoint are refused ("forbidden"), and one that never answers (a REP
 * socket nobody reads) lets every write time out. The reads beside them
 * have neither. Text: "errors N (ok: false; view N)"; JSON: each op's
 * own "errors" and "failures", an op with failures only included. */
static void
test_bench_errors_and_failures_by_op(void **state)
{
	struct xs_test_dir   *f      = *state;
	struct xs_test_server s      = { 0 };
	char                 *silent = xs_test_ipc_url(f->dir, "silent");
	const char  *refused[] = { "--url", NULL, "--admin-url", NULL, "--db",
		 NULL, "--mix", "view=1,stats=1", "--requests", "20",
		 "--warmup", "0", NULL };
	const char  *unanswered[] = { "--url", NULL, "--admin-url", silent,
		 "--db", NULL, "--mix", "view=1,stats=1", "--requests", "20",
		 "--warmup", "0", "--timeout-ms", "50", "--json", NULL };
	const char  *row;
	char         name[32], want[64];
	long         views;
	nng_socket   rep;
	json_error_t jerr;
	json_t      *r, *ops;

	xs_test_server_start(&s, NULL);
	xs_test_send_ok(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o1\",\"user\":\"u1\",\"items\":[\"A\",\"B\"]}]}");
	refused[1] = refused[3] = unanswered[1] = s.read_url;
	refused[5] = unanswered[5] = s.db;
	assert_int_equal(bench(f, refused), 0);
	row = strstr(f->out, "\nview ");
	assert_non_null(row);
	views = row_requests(row + 1, name, sizeof(name));
	snprintf(want, sizeof(want),
	    "errors %ld (ok: false; view %ld), failures 0 (no reply)", views,
	    views);
	xs_test_assert_has(f->out, want);

	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(nng_listen(rep, silent, NULL, 0), 0);
	assert_int_equal(bench(f, unanswered), 0);
	r = json_loads(f->out, 0, &jerr);
	if (r == NULL) {
		fail_msg("not JSON (%s): %s", jerr.text, f->out);
	}
	ops   = json_object_get(r, "ops");
	views = op_field(ops, "view", "failures");
	assert_true(views > 0);
	assert_int_equal(
	    json_integer_value(json_object_get(r, "failures")), views);
	assert_int_equal(op_field(ops, "view", "requests"), 0);
	assert_int_equal(op_field(ops, "stats", "requests"), 20 - views);
	assert_int_equal(op_field(ops, "stats", "failures"), 0);
	assert_int_equal(op_field(ops, "stats", "errors"), 0);
	json_decref(r);
	nng_close(rep);
	xs_test_server_fini(&s);
	free(silent);
}

/* Seconds of CPU (user + system, every thread) process 'pid' used so
 * far: fields 14 and 15 of /proc/PID/stat, read here as proc(5) says,
 * apart from xsell-bench's reading. */
static double
cpu_seconds_of(pid_t pid)
{
	char               path[64], line[1024];
	unsigned long long ut, st;
	FILE              *f;
	char              *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	(void) fclose(f); /* read only: nothing to lose */
	p = strrchr(line, ')');
	assert_non_null(p);
	/* ") S ppid ...": after ')' come fields 3, 4, ... one a blank. */
	for (int field = 3; field <= 14; field++) {
		p = strchr(p + 1, ' ');
		assert_non_null(p);
	}
	ut = strtoull(p + 1, &p, 10);
	st = strtoull(p + 1, NULL, 10);
	return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

/* --server-pid: the server's CPU and context switches over the measured
 * window, a reply, beside this client's own (reported over sockets
 * either way). One client in a closed loop wakes the server at least
 * once a request, so a count of its threads' switches below one a reply
 * is a wrong sum. A pid no process has, and --inproc (no server), are
 * refused before any request. */
static void
test_bench_server_cpu(void **state)
{
	struct xs_test_dir   *f = *state;
	struct xs_test_server s = { 0 };
	char                  pid[32], none[32];
	const char  *json[] = { "--url", NULL, "--db", NULL, "--mix", "fbt=1",
		 "--requests", "6000", "--warmup", "0", "--server-pid", pid,
		 "--json", NULL };
	const char  *text[] = { "--url", NULL, "--db", NULL, "--mix", "fbt=1",
		 "--requests", "50", "--warmup", "0", "--server-pid", pid,
		 NULL };
	const char  *gone[] = { "--url", NULL, "--db", NULL, "--requests", "5",
		 "--server-pid", none, NULL };
	const char  *inproc[] = { "--inproc", "--db", db_of(f), "--requests",
		 "5", "--server-pid", "1", NULL };
	json_error_t jerr;
	json_t      *r, *cpu;
	char         want[96];
	double       before, after, server_s;

	xs_test_server_start(&s, NULL);
	xs_test_send_ok(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o1\",\"user\":\"u1\",\"items\":[\"A\",\"B\"]}]}");
	snprintf(pid, sizeof(pid), "%d", (int) s.pid);
	/* Past Linux's largest pid_max (2^22). */
	snprintf(none, sizeof(none), "%d", INT_MAX);
	json[1] = text[1] = gone[1] = s.read_url;
	json[3] = text[3] = gone[3] = s.db;

	before = cpu_seconds_of(s.pid);
	assert_int_equal(bench(f, json), 0);
	after = cpu_seconds_of(s.pid);
	r     = json_loads(f->out, 0, &jerr);
	if (r == NULL) {
		fail_msg("not JSON (%s): %s", jerr.text, f->out);
	}
	cpu = json_object_get(r, "cpu_per_reply");
	assert_non_null(cpu);
	assert_true(json_real_value(json_object_get(cpu, "client_us")) > 0);
	assert_true(
	    json_real_value(json_object_get(cpu, "server_switches")) >= 1);
	/* With no warmup the window is nearly the whole run: the server's
	 * CPU in it is what /proc says it used over the run, give or take
	 * the clock's ticks (and the dial before the window). Reading
	 * user time alone, or system time alone, falls short. */
	server_s = json_real_value(json_object_get(cpu, "server_us")) *
	    (double) json_integer_value(
	        json_object_get(json_object_get(r, "all"), "requests")) /
	    1e6;
	assert_true(server_s > 0);
	assert_true(server_s <= after - before + 0.03);
	assert_true(server_s >= 0.75 * (after - before) - 0.03);
	json_decref(r);

	assert_int_equal(bench(f, text), 0);
	snprintf(want, sizeof(want), "CPU a reply: this client ");
	xs_test_assert_has(f->out, want);
	snprintf(want, sizeof(want), " us, process %s ", pid);
	xs_test_assert_has(f->out, want);
	xs_test_assert_has(f->out, " context switches\n");

	assert_int_equal(bench(f, gone), 1);
	snprintf(
	    want, sizeof(want), "xsell-bench: --server-pid %s: no such", none);
	xs_test_assert_has(f->err, want);
	assert_int_equal(bench(f, inproc), 2);
	assert_string_equal(f->err,
	    "xsell-bench: --server-pid: refused with --inproc (see --help)\n");
	xs_test_server_fini(&s);
}

/* A second server for --pair-url: a REP socket that answers every
 * request with {"ok": false} until it is closed, and counts them. */
struct refuser {
	nng_socket  sock;
	nng_thread *thr;
	int         requests;
};

static void
refuser_serve(void *arg)
{
	static const unsigned char no[4] = { 0x81, 0xa2, 'o', 'k' };
	struct refuser            *rf    = arg;
	unsigned char              reply[sizeof(no) + 1];
	nng_msg                   *msg;

	memcpy(reply, no, sizeof(no));
	reply[sizeof(no)] = 0xc2; /* false */
	while (nng_recvmsg(rf->sock, &msg, 0) == 0) {
		nng_msg_free(msg);
		rf->requests++;
		if (nng_send(rf->sock, reply, sizeof(reply), 0) != 0) {
			break;
		}
	}
}

/* --pair-url: every request of the run goes to both servers, each
 * server's replies counted in its own figures: xselld's answers are no
 * errors, the refuser's every one is, and the refuser saw exactly the
 * requests measured (no warmup). The ratio of the p50s is reported in
 * the text and the JSON. Writes, an open loop and --inproc are refused
 * with it. */
static void
test_bench_pair_url(void **state)
{
	struct xs_test_dir   *f        = *state;
	struct xs_test_server s        = { 0 };
	struct refuser        rf       = { 0 };
	char                 *pair_url = xs_test_ipc_url(f->dir, "refuser");
	const char  *json[] = { "--url", NULL, "--pair-url", pair_url, "--db",
		 NULL, "--mix", "fbt=1", "--requests", "40", "--warmup", "0",
		 "--json", NULL };
	const char  *text[] = { "--url", NULL, "--pair-url", pair_url, "--db",
		 NULL, "--mix", "fbt=1", "--requests", "10", "--warmup", "0",
		 NULL };
	const char  *open[] = { "--url", "ipc:///nowhere", "--pair-url",
		 pair_url, "--db", db_of(f), "--rate", "100", NULL };
	const char  *writes[] = { "--url", "ipc:///nowhere", "--admin-url",
		 "ipc:///nowhere", "--pair-url", pair_url, "--db", db_of(f),
		 "--mix", "event=1", NULL };
	const char  *inproc[] = { "--inproc", "--pair-url", pair_url, "--db",
		 db_of(f), NULL };
	json_error_t jerr;
	json_t      *r, *pair;
	char         want[160];

	xs_test_server_start(&s, NULL);
	xs_test_send_ok(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o1\",\"user\":\"u1\",\"items\":[\"A\",\"B\"]}]}");
	json[1] = text[1] = s.read_url;
	json[5] = text[5] = s.db;
	assert_int_equal(nng_rep0_open(&rf.sock), 0);
	assert_int_equal(nng_listen(rf.sock, pair_url, NULL, 0), 0);
	assert_int_equal(nng_thread_create(&rf.thr, refuser_serve, &rf), 0);

	assert_int_equal(bench(f, json), 0);
	r = json_loads(f->out, 0, &jerr);
	if (r == NULL) {
		fail_msg("not JSON (%s): %s", jerr.text, f->out);
	}
	assert_all_answered(f->out, 40);
	pair = json_object_get(r, "pair");
	assert_non_null(pair);
	assert_string_equal(
	    json_string_value(json_object_get(pair, "url")), pair_url);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(pair, "all"), "requests")),
	    40);
	assert_int_equal(
	    json_integer_value(json_object_get(pair, "errors")), 40);
	assert_int_equal(
	    json_integer_value(json_object_get(pair, "failures")), 0);
	assert_true(json_real_value(json_object_get(pair, "p50_ratio")) > 0);
	assert_int_equal(rf.requests, 40);
	json_decref(r);

	assert_int_equal(bench(f, text), 0);
	snprintf(want, sizeof(want),
	    "paired: the same requests to %s, each in turn first\n", pair_url);
	xs_test_assert_has(f->out, want);
	xs_test_assert_has(f->out, "errors 0 (ok: false)");
	xs_test_assert_has(f->out, "errors 10 (ok: false; fbt 10)");
	snprintf(want, sizeof(want), " (%s over %s)\n", s.read_url, pair_url);
	xs_test_assert_has(f->out, want);
	assert_int_equal(rf.requests, 50);

	assert_int_equal(bench(f, open), 2);
	assert_string_equal(f->err,
	    "xsell-bench: --pair-url: refused with --rate (see --help)\n");
	assert_int_equal(bench(f, writes), 2);
	assert_string_equal(f->err,
	    "xsell-bench: --pair-url: refused with event or view (see "
	    "--help)\n");
	assert_int_equal(bench(f, inproc), 2);
	assert_string_equal(f->err,
	    "xsell-bench: --pair-url: refused with --inproc (see --help)\n");

	nng_close(rf.sock);
	nng_thread_destroy(rf.thr);
	xs_test_server_fini(&s);
	free(pair_url);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, xs_test_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bench_cpu_time_table),
		T(test_bench_cpu_time_json),
		T(test_bench_wall_clock_by_default),
		T(test_bench_cpu_time_needs_inproc),
		T(test_bench_memo_size_needs_inproc_and_a_budget),
		T(test_bench_mix_refused),
		T(test_bench_warm_needs_inproc),
		T(test_bench_picks_unkept_needs_inproc),
		T(test_bench_option_given_twice),
		T(test_bench_store_missing_says_why),
		T(test_bench_writes_views_and_orders),
		T(test_bench_errors_and_failures_by_op),
		T(test_bench_server_cpu),
		T(test_bench_pair_url),
	};

	return cmocka_run_group_tests_name("bench_tool", tests, NULL, NULL);
}
