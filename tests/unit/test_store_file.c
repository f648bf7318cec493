/* SPDX-License-Identifier: MIT */
/* The data file of a write_map store (xsell-load's MDB_WRITEMAP): as
 * long as the map while a writer may write, cut back to the pages in use
 * at close, and long enough again when a writer begins after another
 * process cut it. The sizes are what `ls -l data.mdb` shows; the pages in
 * use are read from LMDB itself, on an env of the test's own, never from
 * the store code under test. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "store/store.h"

#define MAP_SIZE ((size_t) 64 << 20)
#define ORDERS_PER_TXN 32
#define ITEMS_PER_ORDER 20

static xs_store *
open_write_map(const struct xs_test_dir *f)
{
	struct xs_store_opts o = { 0 };
	xs_store            *st;

	o.map_size  = MAP_SIZE;
	o.write_map = true;
	assert_xs_ok(xs_store_open(&st, f->dir, &o));
	return st;
}

/* The length of the store's data file, as `ls -l` shows it. */
static off_t
data_size(const struct xs_test_dir *f)
{
	char        path[4200];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* The orders the store holds (its totals). */
static uint64_t
orders_in(xs_store *st)
{
	return xs_test_totals(st).orders;
}

/* Bytes of the pages in use, (last page number + 1) * page size, as
 * LMDB reports them on a read-only env of our own. */
static off_t
used_bytes(const struct xs_test_dir *f)
{
	MDB_env    *env;
	MDB_envinfo info;
	MDB_stat    ms;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_mapsize(env, MAP_SIZE), 0);
	assert_int_equal(mdb_env_open(env, f->dir, MDB_RDONLY, 0644), 0);
	assert_int_equal(mdb_env_info(env, &info), 0);
	assert_int_equal(mdb_env_stat(env, &ms), 0);
	mdb_env_close(env);
	return (off_t) (info.me_last_pgno + 1) * (off_t) ms.ms_psize;
}

/* 'txns' write transactions of ORDERS_PER_TXN orders of ITEMS_PER_ORDER
 * items out of 500, order ids from 'first' on: some hundred pages of
 * pairs. */
static void
fill(xs_store *st, unsigned first, unsigned txns)
{
	static char spec[ORDERS_PER_TXN * (ITEMS_PER_ORDER * 6 + 16)];

	for (unsigned t = 0; t < txns; t++) {
		size_t o = 0;

		for (unsigned k = 0; k < ORDERS_PER_TXN; k++) {
			unsigned order = first + t * ORDERS_PER_TXN + k;

			o += (size_t) snprintf(spec + o, sizeof(spec) - o,
			    "%so%u::", k ? ";" : "", order);
			for (unsigned i = 0; i < ITEMS_PER_ORDER; i++) {
				o += (size_t) snprintf(spec + o,
				    sizeof(spec) - o, "%si%u", i ? "," : "",
				    (order * 7 + i * 31) % 500);
			}
		}
		assert_true(o < sizeof(spec) - 1);
		xs_test_orders(st, NULL, spec, NULL);
	}
}

/* Open, the file is as long as the map (LMDB's own doing under
 * MDB_WRITEMAP); filled and closed, it is its pages in use: far less
 * than the map, more than an empty store's. */
static void
test_store_file_cut_to_pages_at_close(void **state)
{
	struct xs_test_dir *f  = *state;
	xs_store           *st = open_write_map(f);
	off_t               closed;

	fill(st, 0, 8);
	assert_int_equal(data_size(f), MAP_SIZE);
	xs_store_close(st);
	closed = data_size(f);
	assert_int_equal(closed, used_bytes(f));
	assert_true(closed < (off_t) MAP_SIZE / 4);
	assert_true(closed > 64 * 4096);
}

/* Reopened and filled further, the store grows and is cut back again to
 * its new pages in use; the orders of both loads are there. */
static void
test_store_file_grows_after_reopen(void **state)
{
	struct xs_test_dir *f  = *state;
	xs_store           *st = open_write_map(f);
	off_t               first;

	fill(st, 0, 4);
	xs_store_close(st);
	first = data_size(f);

	st = open_write_map(f);
	fill(st, 10000, 8);
	xs_store_close(st);
	assert_int_equal(data_size(f), used_bytes(f));
	assert_true(data_size(f) > first);

	assert_xs_ok(xs_store_open(&st, f->dir, NULL));
	assert_int_equal(orders_in(st), 12 * ORDERS_PER_TXN);
	xs_store_close(st);
}

/* Another process (here a child) writes and closes the store while this
 * one holds it open: the file is cut under this process's map. Its next
 * write transaction makes the file as long as the map again before
 * LMDB writes a page past the cut (a page past the end of a mapped file
 * is a SIGBUS), and what both wrote is in the store. */
static void
test_store_file_extended_after_another_cut_it(void **state)
{
	struct xs_test_dir *f  = *state;
	xs_store           *st = open_write_map(f);
	MDB_txn            *txn;
	pid_t               pid;
	int                 status;

	fill(st, 0, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Only the child's own env: the parent's is not used here. */
		xs_store            *other;
		struct xs_store_opts o = { 0 };

		o.map_size  = MAP_SIZE;
		o.write_map = true;
		if (xs_store_open(&other, f->dir, &o) != XSELL_OK) {
			_exit(2);
		}
		fill(other, 1000, 1);
		xs_store_close(other);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(data_size(f) < (off_t) MAP_SIZE);

	assert_xs_ok(xs_txn_write(st, &txn));
	assert_int_equal(data_size(f), MAP_SIZE);
	xs_txn_abort(txn);
	fill(st, 2000, 8);
	assert_int_equal(orders_in(st), 10 * ORDERS_PER_TXN);
	xs_store_close(st);
	assert_int_equal(data_size(f), used_bytes(f));
}

/* xs_store_close_sync (xsell-load's close after a load: unmapped, then
 * synced) closes a write_map store as xs_store_close does, cut to its
 * pages in use, and so a store opened without write_map (synced, then
 * closed); what was written is there after either. */
static void
test_store_file_close_sync(void **state)
{
	struct xs_test_dir  *f  = *state;
	xs_store            *st = open_write_map(f);
	struct xs_store_opts o  = { 0 };

	fill(st, 0, 4);
	assert_xs_ok(xs_store_close_sync(st));
	assert_int_equal(data_size(f), used_bytes(f));

	o.map_size = MAP_SIZE;
	o.no_sync  = true;
	assert_xs_ok(xs_store_open(&st, f->dir, &o));
	fill(st, 10000, 2);
	assert_xs_ok(xs_store_close_sync(st));

	assert_xs_ok(xs_store_open(&st, f->dir, NULL));
	assert_int_equal(orders_in(st), 6 * ORDERS_PER_TXN);
	xs_store_close(st);
}

/* Stamp the closed store of 'f' with another schema version. */
static void
stamp_schema(const struct xs_test_dir *f, uint32_t version)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi  meta;
	MDB_val  k = { 6, "schema" }, d = { sizeof(version), &version };

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(txn, meta, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* A store a write_map open refuses (here a newer schema's, which
 * xsell-load of this version meets) is left as long as it was: LMDB
 * made its file as long as the map at open, before the schema could be
 * read, and the refusal left it so (64 MiB here, 16 GiB with
 * xsell-load's default map, on a store it must not change). */
static void
test_store_file_refused_open_keeps_length(void **state)
{
	struct xs_test_dir  *f = *state;
	struct xs_store_opts o = { 0 };
	xs_store            *st;
	off_t                before;

	assert_xs_ok(xs_store_open(&st, f->dir, NULL));
	fill(st, 0, 2);
	xs_store_close(st);
	stamp_schema(f, XS_SCHEMA_VERSION + 1);
	before = data_size(f);
	assert_true(before < (off_t) MAP_SIZE);

	o.map_size  = MAP_SIZE;
	o.write_map = true;
	assert_xs_err(xs_store_open(&st, f->dir, &o), XSELL_ESCHEMA);
	assert_int_equal(data_size(f), before);
}

#define T(fn)                            \
	cmocka_unit_test_setup_teardown( \
	    fn, xs_test_dir_setup, xs_test_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_store_file_cut_to_pages_at_close),
		T(test_store_file_grows_after_reopen),
		T(test_store_file_extended_after_another_cut_it),
		T(test_store_file_close_sync),
		T(test_store_file_refused_open_keeps_length),
	};

	return cmocka_run_group_tests_name("store_file", tests, NULL, NULL);
}
