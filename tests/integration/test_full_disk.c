/* SPDX-License-Identifier: MIT */
/* A full disk gives errors, never corruption. Without root there is no
 * small filesystem to mount, so xselld runs with RLIMIT_FSIZE (SIGXFSZ
 * ignored): once data.mdb would grow past the limit, LMDB's page writes
 * fail with EFBIG as they would with ENOSPC on a full filesystem.
 *
 * Checked over the socket: writes are refused with "internal" (a disk
 * error: proto/errors.md), the refused batch leaves nothing, reads go on
 * answering, the server keeps running; then, restarted without the
 * limit, the store opens and holds exactly the acknowledged batches (its
 * dump is a clean replay's) and takes the refused batch. The same on a
 * real full filesystem, a small tmpfs, where the test may mount one;
 * and xsell-load, which stops with exit 1 and can be run again (on the
 * tmpfs, through its map: a SIGBUS it catches). */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

/* The limit on the server's files: above the lock file (about 40 KiB
 * for 512 reader slots) and the empty store, far below what
 * MAX_BATCHES batches need. (With this build's page layout the first
 * refused commit meets the limit at a page boundary: EFBIG; other limits
 * end in a short write, which LMDB reports as EIO.) */
#define FSIZE_MAX ((uint64_t) 700 << 10)
#define ORDERS_PER_BATCH XS_TEST_FILL_ORDERS
#define ITEMS_PER_ORDER XS_TEST_FILL_ITEMS
#define MAX_BATCHES 2000
/* Batch b is tagged "d<b>"; its orders' users are u0 .. u49. */
#define TAG "d"
#define USERS 50

/* fbt of item i<n>-0 names its ITEMS_PER_ORDER - 1 order mates. */
static size_t
fbt_count(const char *url, unsigned n)
{
	json_t *r     = xs_test_fill_fbt(url, n);
	size_t  count = json_array_size(json_object_get(r, "items"));

	json_decref(r);
	return count;
}

/* A full filesystem, a full quota and a file size limit are disk
 * errors (XSELL_EIO), whichever LMDB passes on: a short page write
 * becomes EIO in LMDB, a write at the limit is EFBIG itself. */
static void
test_full_disk_errors_are_disk_errors(void **state)
{
	(void) state;
	assert_int_equal(xs_err_from_mdb(ENOSPC), XSELL_EIO);
	assert_int_equal(xs_err_from_mdb(EDQUOT), XSELL_EIO);
	assert_int_equal(xs_err_from_mdb(EFBIG), XSELL_EIO);
	assert_int_equal(xs_err_from_mdb(EIO), XSELL_EIO);
}

/* A refused batch is refused again this many times running before the
 * disk counts as full. */
#define REFUSALS_IN_A_ROW 3

/* Send batch after batch to the running server 's' until the disk
 * refuses one REFUSALS_IN_A_ROW times running; each taken batch is
 * applied to 'replay' too. A refused batch may fit on a later try:
 * LMDB reuses the pages commits freed once no reader holds them, and
 * the complements refresher's reader lets go at its own pace (a loaded
 * machine once gave the third try room). Such a batch is acknowledged
 * like any other and the filling goes on. Every refusal is a disk error
 * ("internal") that leaves nothing of the batch. Returns the batches
 * taken; 'req' holds the refused one. */
static unsigned
fill_until_refused(struct xs_test_server *s, xs_store *replay, char *req,
    size_t req_size, const char **msgp)
{
	static char msg[256];
	unsigned    b        = 0;
	int         refusals = 0;

	while (refusals < REFUSALS_IN_A_ROW && b < MAX_BATCHES) {
		json_t *r;

		xs_test_fill_batch(b, TAG, USERS, req, req_size);
		r = xs_test_call(s->admin_url, req);
		if (strcmp(xs_test_reply_code(r), "ok") == 0) {
			size_t len;
			void  *m = xs_test_pack(req, &len);

			/* Acknowledged: the clean replay gets it too. */
			xs_test_apply_event_msg(replay, m, len);
			free(m);
			b++;
			refusals = 0;
		} else {
			snprintf(msg, sizeof(msg), "%s",
			    xs_test_reply_error(
			        r, "internal", xsell_strerror(XSELL_EIO)));
			refusals++;
			/* Nothing of the refused batch applied. */
			assert_int_equal(xs_test_stats_orders(s->read_url),
			    b * ORDERS_PER_BATCH);
		}
		json_decref(r);
	}
	assert_true(b < MAX_BATCHES); /* the limit was reached */
	assert_true(b > 0);           /* after some batches went in */
	*msgp = msg;
	return b;
}

/* Fill the disk of the running server 's' with batches until writes
 * are refused, and check the refusal, the reads and the store; then
 * kill the server, 'lift' the limit and restart it, and check the store
 * again. 'what' names the limit in the printed figures. */
static void
fill_and_check(struct xs_test_server *s, void (*lift)(struct xs_test_server *),
    const char                       *what)
{
	static char   req[64 * 1024];
	struct xs_buf got, want;
	char         *replay_dir;
	xs_store     *replay;
	unsigned      acked_orders;
	const char   *msg;
	int           status;

	replay       = xs_test_store_open(&replay_dir);
	acked_orders = fill_until_refused(s, replay, req, sizeof(req), &msg) *
	    ORDERS_PER_BATCH;
	assert_string_equal(msg, xsell_strerror(XSELL_EIO));
	print_message("%s: %u orders acknowledged, then \"%s\"\n", what,
	    acked_orders, msg);

	/* The server still runs, reads see every acknowledged order whole
	 * and nothing of the refused batch. */
	assert_int_equal(waitpid(s->pid, &status, WNOHANG), 0);
	assert_int_equal(xs_test_stats_orders(s->read_url), acked_orders);
	assert_int_equal(fbt_count(s->read_url, 0), ITEMS_PER_ORDER - 1);
	assert_int_equal(
	    fbt_count(s->read_url, acked_orders - 1), ITEMS_PER_ORDER - 1);
	assert_int_equal(fbt_count(s->read_url, acked_orders), 0);

	/* Killed while full, restarted without the limit: the store opens
	 * and is exactly the acknowledged batches. */
	status = xs_test_server_signal(s, SIGKILL);
	assert_true(WIFSIGNALED(status));
	xs_test_store_dump(s->db, &got);
	xs_buf_init(&want, SIZE_MAX);
	assert_xs_ok(xs_store_dump(replay, &want));
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	xs_buf_fini(&got);
	xs_buf_fini(&want);
	lift(s);
	xs_test_server_restart(s);
	assert_int_equal(xs_test_stats_orders(s->read_url), acked_orders);
	xs_test_send_ok(s->admin_url, req);
	assert_int_equal(xs_test_stats_orders(s->read_url),
	    acked_orders + ORDERS_PER_BATCH);
	assert_int_equal(
	    fbt_count(s->read_url, acked_orders), ITEMS_PER_ORDER - 1);
	xs_test_store_close(replay, replay_dir);
}

static void
fsize_lift(struct xs_test_server *s)
{
	s->fsize_max = 0;
}

static void
test_full_disk_refuses_writes_serves_reads_and_keeps_the_store(void **state)
{
	struct xs_test_server s;
	char                  what[64];

	(void) state;
	snprintf(what, sizeof(what), "files limited to %llu KiB",
	    (unsigned long long) (FSIZE_MAX >> 10));
	xs_test_server_start_limited(&s, NULL, FSIZE_MAX);
	fill_and_check(&s, fsize_lift, what);
	xs_test_server_fini(&s);
}

/* ==== A real full filesystem: a small tmpfs, where mounting works ==== */

#define TMPFS_SIZE "1m"
#define TMPFS_SIZE_LIFTED "64m"

static int
tmpfs_setup(void **state)
{
	struct xs_test_server *s = calloc(1, sizeof(*s));
	char                   cmd[600];
	size_t                 len;

	assert_non_null(s);
	s->dir       = xs_test_tmpdir();
	s->read_url  = xs_test_ipc_url(s->dir, "read");
	s->admin_url = xs_test_ipc_url(s->dir, "admin");
	len          = strlen(s->dir) + 8;
	s->db        = malloc(len);
	assert_non_null(s->db);
	snprintf(s->db, len, "%s/db", s->dir);
	assert_int_equal(mkdir(s->db, 0755), 0);
	s->pid = -1;
	/* Quietly: without root (or CAP_SYS_ADMIN) the test is skipped. */
	snprintf(cmd, sizeof(cmd),
	    "mount -t tmpfs -o size=" TMPFS_SIZE
	    " xsell-test '%s' 2>/dev/null",
	    s->db);
	if (system(cmd) != 0) {
		s->pid = 0; /* not mounted */
	}
	*state = s;
	return 0;
}

static int
tmpfs_teardown(void **state)
{
	struct xs_test_server *s       = *state;
	bool                   mounted = s->pid != 0;
	char                   cmd[600];

	if (s->pid > 0) {
		xs_test_server_signal(s, SIGTERM);
	}
	if (mounted) {
		snprintf(cmd, sizeof(cmd), "umount '%s'", s->db);
		if (system(cmd) != 0) {
			fprintf(
			    stderr, "warning: could not unmount %s\n", s->db);
		}
	}
	xs_test_server_fini(s);
	free(s);
	return 0;
}

static void
tmpfs_lift(struct xs_test_server *s)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd),
	    "mount -o remount,size=" TMPFS_SIZE_LIFTED " '%s'", s->db);
	assert_int_equal(system(cmd), 0);
}

static void
test_full_disk_tmpfs_refuses_writes_and_keeps_the_store(void **state)
{
	struct xs_test_server *s = *state;

	if (s->pid == 0) {
		print_message("cannot mount a tmpfs here (not root): skipped; "
		              "RLIMIT_FSIZE above covers the same\n");
		skip();
	}
	xs_test_server_restart(s); /* the first start, on the tmpfs */
	fill_and_check(s, tmpfs_lift, "a " TMPFS_SIZE " tmpfs");
}

/* ==== xsell-load on a full disk ==== */

/* tests/data/online-retail-2011-02.csv: 1,126 orders (see
 * test_crash_load.c for how they were counted). */
#define RETAIL_ORDERS 1126
/* About a tenth of what the whole load writes (30 MB, most of it pages
 * freed again): with --incremental, a few chunks commit before the
 * limit (64 of the orders, on 2026-12-04). */
#define LOAD_FSIZE_MAX ((uint64_t) 3 << 20)

/* Run xsell-load on 'db' with the February file, small transactions
 * (with 'incremental', also into a new store: else a new store is built
 * in one) and, unless 0, files limited to 'fsize_max' bytes (SIGXFSZ at
 * its default, as ulimit -f leaves it); its output into 'out'. Returns
 * its exit code. */
static int
load_run(const char *db, uint64_t fsize_max, bool incremental, char *out,
    size_t out_len)
{
	char        retail[512], out_path[600];
	const char *argv[] = { XS_TEST_XSELL_LOAD, "--db", db, "--quiet",
		"--txn-ms", "1", retail, NULL, NULL };
	pid_t       pid;
	int         status;
	FILE       *fp;
	size_t      n = 0;

	snprintf(retail, sizeof(retail), "%s/tests/data/%s",
	    XS_TEST_SOURCE_DIR, "online-retail-2011-02.csv");
	if (incremental) {
		argv[6] = "--incremental";
		argv[7] = retail;
	}
	snprintf(out_path, sizeof(out_path), "%s.out", db);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		struct rlimit rl;

		if (o < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0) {
			_exit(127);
		}
		if (fsize_max != 0) {
			/* As a shell's ulimit -f: SIGXFSZ left at its
			 * default, which kills a process that writes past
			 * the limit unless it ignores the signal itself. */
			signal(SIGXFSZ, SIG_DFL);
			if (getrlimit(RLIMIT_FSIZE, &rl) != 0) {
				_exit(126);
			}
			rl.rlim_cur = (rlim_t) fsize_max;
			if (setrlimit(RLIMIT_FSIZE, &rl) != 0) {
				_exit(126);
			}
		}
		alarm(120);
		xs_test_execv(argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fp = fopen(out_path, "r");
	if (fp != NULL) {
		n = fread(out, 1, out_len - 1, fp);
		fclose(fp);
	}
	out[n] = '\0';
	if (!WIFEXITED(status)) {
		fail_msg("xsell-load died (status %d): %s", status, out);
	}
	return WEXITSTATUS(status);
}

/* xsell-load in chunks (--incremental) stops with exit 1 and says why;
 * the store opens with the chunks committed before; with room, the
 * same load completes it to the store a clean load gives. */
static void
test_full_disk_load_stops_then_completes(void **state)
{
	static char      out[8192];
	char            *dir = xs_test_tmpdir();
	char             clean[600], db[600];
	struct xs_buf    want, got;
	struct xs_totals t;
	xs_store        *st;

	(void) state;
	snprintf(clean, sizeof(clean), "%s/clean", dir);
	snprintf(db, sizeof(db), "%s/full", dir);
	assert_int_equal(load_run(clean, 0, false, out, sizeof(out)), 0);
	assert_int_equal(
	    load_run(db, LOAD_FSIZE_MAX, true, out, sizeof(out)), 1);
	if (strstr(out, "input/output error") == NULL) {
		fail_msg("no clear message:\n%s", out);
	}
	assert_xs_ok(xs_store_open(&st, db, NULL));
	t = xs_test_totals(st);
	xs_store_close(st);
	assert_true(t.orders > 0);
	assert_true(t.orders < RETAIL_ORDERS);
	print_message("xsell-load, files limited to %llu KiB: %llu of %d "
	              "orders committed, then exit 1\n",
	    (unsigned long long) (LOAD_FSIZE_MAX >> 10),
	    (unsigned long long) t.orders, RETAIL_ORDERS);
	assert_int_equal(load_run(db, 0, true, out, sizeof(out)), 0);
	xs_test_store_dump(clean, &want);
	xs_test_store_dump(db, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	xs_buf_fini(&got);
	xs_buf_fini(&want);
	xs_test_rmdir(dir);
}

/* Into a new store xsell-load writes through the map (MDB_WRITEMAP): on
 * a real full filesystem a page it cannot back is a SIGBUS, which it
 * catches: exit 1 with a message, not a death by signal (load_run fails
 * the test on that); the build commits nothing; with room, the same
 * load gives the clean load's store. */
static void
test_full_disk_tmpfs_load_through_the_map_stops_then_completes(void **state)
{
	static char            out[8192];
	struct xs_test_server *s = *state;
	char                   clean[600];
	struct xs_buf          want, got;

	if (s->pid == 0) {
		print_message(
		    "cannot mount a tmpfs here (not root): skipped\n");
		skip();
	}
	snprintf(clean, sizeof(clean), "%s/clean", s->dir);
	assert_int_equal(load_run(clean, 0, false, out, sizeof(out)), 0);
	assert_int_equal(load_run(s->db, 0, false, out, sizeof(out)), 1);
	if (strstr(out, "input/output error on a mapped file") == NULL) {
		fail_msg("no clear message:\n%s", out);
	}
	tmpfs_lift(s);
	assert_int_equal(load_run(s->db, 0, false, out, sizeof(out)), 0);
	xs_test_store_dump(clean, &want);
	xs_test_store_dump(s->db, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	xs_buf_fini(&got);
	xs_buf_fini(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_disk_errors_are_disk_errors),
		cmocka_unit_test(
		    test_full_disk_refuses_writes_serves_reads_and_keeps_the_store),
		cmocka_unit_test(test_full_disk_load_stops_then_completes),
		cmocka_unit_test_setup_teardown(
		    test_full_disk_tmpfs_refuses_writes_and_keeps_the_store,
		    tmpfs_setup, tmpfs_teardown),
		cmocka_unit_test_setup_teardown(
		    test_full_disk_tmpfs_load_through_the_map_stops_then_completes,
		    tmpfs_setup, tmpfs_teardown),
	};

	return cmocka_run_group_tests_name("full_disk", tests, NULL, NULL);
}
