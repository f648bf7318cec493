/* SPDX-License-Identifier: MIT */
/* Reader slots left by killed processes are cleared.
 *
 * LMDB keeps one slot per open read transaction in the lock file, shared
 * by every process that has the store open. A process killed with -9
 * inside a read transaction leaves its slot behind for as long as some
 * other process (xselld) keeps the store open: it pins the pages of its
 * snapshot, and enough of them fill the table. The test kills readers
 * (this binary run again as "--hold-reader DIR": open the store
 * read-only, begin a read transaction, say so, wait) while it keeps the
 * store open itself, then checks that the next store open clears their
 * slots, and that a table full of dead slots does not lock out the
 * process that stayed. */
#include "support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_impl.h"

/* ==== The child side ==== */

/* "--hold-reader DIR": hold a read transaction until killed. */
static int
hold_reader(const char *dir)
{
	struct xs_store_opts so = { 0 };
	xs_store            *st;
	MDB_txn             *txn;

	so.read_only = true;
	if (xs_store_open(&st, dir, &so) != XSELL_OK ||
	    xs_txn_read(st, &txn) != XSELL_OK) {
		return 1;
	}
	if (write(1, "r", 1) != 1) {
		return 1;
	}
	alarm(60); /* bounded, should the test die first */
	for (;;) {
		pause();
	}
}

/* "--open DIR": open the store for writing and close it, as xsell-load
 * or a restarted xselld would. */
static int
open_close(const char *dir)
{
	xs_store *st;

	if (xs_store_open(&st, dir, NULL) != XSELL_OK) {
		return 1;
	}
	xs_store_close(st);
	return 0;
}

/* ==== The test side ==== */

/* This binary's path (ctest runs it by its full path). */
static const char *self_path;

/* Run this binary as "MODE DIR"; with 'ready', wait for its "r" on a
 * pipe and return it running, else wait for its exit status. */
static pid_t
child_run(const char *mode, const char *dir, bool ready, int *statusp)
{
	int   fds[2];
	pid_t pid;
	char  c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		/* argv[0] of main, not /proc/self/exe: under valgrind
		 * that is valgrind's own tool binary. */
		const char *argv[] = { self_path, mode, dir, NULL };

		xs_test_execv(argv);
		_exit(127);
	}
	close(fds[1]);
	if (ready) {
		if (read(fds[0], &c, 1) != 1 || c != 'r') {
			fail_msg("%s %s did not begin its read", mode, dir);
		}
	} else {
		assert_int_equal(waitpid(pid, statusp, 0), pid);
	}
	close(fds[0]);
	return pid;
}

static void
child_kill(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* mdb_reader_list prints one line per slot in use: "pid thread txnid",
 * after a header line. Count the slots of 'pid' (0: of anyone). */
struct slot_count {
	pid_t pid;
	int   n;
};

static int
slot_line(const char *msg, void *ctx)
{
	struct slot_count *c = ctx;
	long               pid;

	if (sscanf(msg, "%ld", &pid) == 1 &&
	    (c->pid == 0 || pid == (long) c->pid)) {
		c->n++;
	}
	return 0;
}

static int
slots_of(xs_store *st, pid_t pid)
{
	struct slot_count c = { pid, 0 };

	assert_true(mdb_reader_list(st->env, slot_line, &c) >= 0);
	return c.n;
}

static void
test_stale_readers_cleared_by_the_next_open(void **state)
{
	char     *dir;
	xs_store *st = xs_test_store_open(&dir);
	pid_t     reader;
	int       status, dead = -1;

	(void) state;
	/* This process keeps the store open throughout, as xselld would:
	 * the lock file, with its slots, outlives the readers. */
	reader = child_run("--hold-reader", dir, true, NULL);
	assert_int_equal(slots_of(st, reader), 1);
	child_kill(reader);
	/* Killed inside its transaction: the slot is still taken. */
	assert_int_equal(slots_of(st, reader), 1);

	child_run("--open", dir, false, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The open cleared it: no slot in use, nothing left to clear. */
	assert_int_equal(slots_of(st, 0), 0);
	assert_int_equal(mdb_reader_check(st->env, &dead), 0);
	assert_int_equal(dead, 0);
	xs_test_store_close(st, dir);
}

#define SMALL_TABLE 4

static void
test_stale_readers_full_table_does_not_lock_out(void **state)
{
	struct xs_store_opts so = { 0 };
	pid_t                readers[SMALL_TABLE];
	char                *dir = xs_test_tmpdir();
	xs_store            *st;
	MDB_txn             *txn;

	(void) state;
	/* The first process to open the store sizes the reader table. */
	so.max_readers = SMALL_TABLE;
	assert_xs_ok(xs_store_open(&st, dir, &so));
	for (int i = 0; i < SMALL_TABLE; i++) {
		readers[i] = child_run("--hold-reader", dir, true, NULL);
	}
	assert_int_equal(slots_of(st, 0), SMALL_TABLE);
	for (int i = 0; i < SMALL_TABLE; i++) {
		child_kill(readers[i]);
	}
	/* Every slot belongs to a dead process. The process that stayed
	 * clears them when it finds the table full, and reads. */
	assert_int_equal(slots_of(st, 0), SMALL_TABLE);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_int_equal(slots_of(st, getpid()), 1);
	xs_txn_abort(txn);
	assert_int_equal(slots_of(st, 0), 0);
	xs_store_close(st);
	xs_test_rmdir(dir);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_readers_cleared_by_the_next_open),
		cmocka_unit_test(
		    test_stale_readers_full_table_does_not_lock_out),
	};

	if (argc == 3 && strcmp(argv[1], "--hold-reader") == 0) {
		return hold_reader(argv[2]);
	}
	if (argc == 3 && strcmp(argv[1], "--open") == 0) {
		return open_close(argv[2]);
	}
	self_path = argv[0];
	return cmocka_run_group_tests_name("stale_readers", tests, NULL, NULL);
}
