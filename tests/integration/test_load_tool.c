/* SPDX-License-Identifier: MIT */
/* xsell-load as a user runs it: small CSV files written here, the built
 * binary run with fork/exec, its summary and exit code checked. */
#include "support.h"

#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

struct fixture {
	char *dir;
	char  db[512];
	char  out[16384]; /* stdout of the last run: --help is 8.5 KB */
	char  err[8192];  /* stderr of the last run */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = xs_test_tmpdir();
	snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
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

static char *
path_in(struct fixture *f, const char *name)
{
	static char p[2][512];
	static int  which;

	which = !which;
	snprintf(p[which], sizeof(p[which]), "%s/%s", f->dir, name);
	return p[which];
}

static const char *
write_file(struct fixture *f, const char *name, const char *text)
{
	const char *p  = path_in(f, name);
	FILE       *fp = fopen(p, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

/* Run xsell-load with 'args' (NULL-terminated, after argv[0]); returns
 * its exit code, with its output in f->out and f->err. Bounded: the
 * child is killed after 60 s. */
static int
run(struct fixture *f, const char *const *args)
{
	return xs_test_run_tool(XS_TEST_XSELL_LOAD, args, f->dir, f->out,
	    sizeof(f->out), f->err, sizeof(f->err));
}

/* Run xsell-load as a shell user pipes a file into it: "cat FILE |
 * xsell-load ARGS /dev/stdin", its output in f->out and f->err. Returns
 * its exit code. */
static int
run_piped(struct fixture *f, const char *file, const char *args)
{
	char out_path[600], err_path[600], cmd[4096];
	int  status;

	snprintf(out_path, sizeof(out_path), "%s/stdout", f->dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	snprintf(cmd, sizeof(cmd),
	    "cat '%s' | %s'%s' %s /dev/stdin >'%s' 2>'%s'", file,
	    xs_test_wrap_prefix(), XS_TEST_XSELL_LOAD, args, out_path,
	    err_path);
	status = system(cmd);
	xs_test_slurp(out_path, f->out, sizeof(f->out));
	xs_test_slurp(err_path, f->err, sizeof(f->err));
	if (!WIFEXITED(status)) {
		fail_msg(
		    "%s died (status %d); stderr: %s", cmd, status, f->err);
	}
	return WEXITSTATUS(status);
}

/* The store's dump, into *b (caller frees with xs_buf_fini). */
static void
dump(const char *db, struct xs_buf *b)
{
	struct xs_store_opts so = { 0 };
	xs_store            *st;

	so.read_only = true;
	xs_buf_init(b, SIZE_MAX);
	assert_xs_ok(xs_store_open(&st, db, &so));
	assert_xs_ok(xs_store_dump(st, b));
	xs_store_close(st);
}

/* Lines 2-3 order A (ts from its earliest line), 4 a return, 5 order B,
 * 6 a bad qty, 7 a missing item, 8 more of order A. Kept: 2, 3, 5, 8
 * = 4 lines in 2 orders; 1 skipped; 2 rejected. */
static const char sales[] = "InvoiceNo,StockCode,Quantity,InvoiceDate,"
                            "UnitPrice,CustomerID\n"
                            "A,x,1,2011-02-01 10:00:00,1.50,c1\n"
                            "A,y,2,2011-02-01 09:00:00,2.00,c1\n"
                            "C1,x,-1,2011-02-02 10:00:00,1.50,c1\n"
                            "B,\"x, large\",1,2011-02-03,3,\n"
                            "B,y,lots,2011-02-03,3,\n"
                            "B,,1,2011-02-03,3,\n"
                            "A,z,1,2011-02-01 11:00:00,1,c1\n";

static void
test_tool_summary_counts(void **state)
{
	struct fixture   *f      = *state;
	const char       *file   = write_file(f, "sales.csv", sales);
	const char *const args[] = { "--db", f->db, "--quiet", file, NULL };

	struct xs_buf before, after;

	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "files"), 1);
	assert_int_equal(xs_test_figure(f->out, "lines read"), 7);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 4);
	assert_int_equal(xs_test_figure(f->out, "lines skipped"), 1);
	assert_int_equal(xs_test_figure(f->out, "lines rejected"), 2);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 2);
	assert_int_equal(xs_test_figure(f->out, "duplicate orders"), 0);
	xs_test_assert_has(f->out, "\nelapsed ");
	xs_test_assert_has(f->out, "\nlines/s ");
	xs_test_assert_has(f->err, "sales.csv:6: bad qty \"lots\"");
	xs_test_assert_has(f->err, "sales.csv:7: item id missing");

	/* The second load finds both orders stored and changes nothing,
	 * item prices included. */
	dump(f->db, &before);
	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 4);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 0);
	assert_int_equal(xs_test_figure(f->out, "duplicate orders"), 2);
	dump(f->db, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	xs_buf_fini(&before);
	xs_buf_fini(&after);
}

/* A file piped in (a pipe, a FIFO, <(...)) can be read only once: its
 * header is read and its columns mapped before the store is touched,
 * and its lines are then read on from there, none lost. A pipe whose
 * columns cannot be mapped is a usage error that makes no store. */
static void
test_tool_reads_a_pipe(void **state)
{
	struct fixture *f = *state;
	char            file[512], bad[512], db2[512], args[700];

	snprintf(file, sizeof(file), "%s", write_file(f, "sales.csv", sales));
	snprintf(bad, sizeof(bad), "%s", write_file(f, "bad.csv", "a;b\n1\n"));
	snprintf(db2, sizeof(db2), "%s", path_in(f, "db2"));
	snprintf(args, sizeof(args), "--db '%s' --quiet", f->db);
	assert_int_equal(run_piped(f, file, args), 0);
	assert_int_equal(xs_test_figure(f->out, "lines read"), 7);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 4);
	assert_int_equal(xs_test_figure(f->out, "lines rejected"), 2);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 2);
	xs_test_assert_has(f->err, "/dev/stdin:6: bad qty \"lots\"");

	snprintf(args, sizeof(args), "--db '%s' --quiet", db2);
	assert_int_equal(run_piped(f, bad, args), 2);
	xs_test_assert_has(f->err, "/dev/stdin: no order column");
	assert_int_equal(access(db2, F_OK), -1);
}

static void
test_tool_non_adjacent_lines_are_one_order(void **state)
{
	struct fixture   *f      = *state;
	const char       *file   = write_file(f, "o.tsv",
	            "item\torder\n"
	                    "p\to1\n"
	                    "q\to2\n"
	                    "r\to1\n"
	                    "p\to1\n");
	const char *const args[] = { "--db", f->db, "--quiet", file, NULL };

	struct xs_store_opts so = { 0 };
	struct xs_totals     tot;
	xs_store            *st;
	MDB_txn             *txn;
	uint32_t             n_items;

	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 4);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 2);
	/* In the store: 2 orders, items p, r, q; o1 is one basket {p, r}
	 * however its lines were scattered. */
	so.read_only = true;
	assert_xs_ok(xs_store_open(&st, f->db, &so));
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_totals_get(st, txn, &tot));
	assert_xs_ok(xs_store_dict_size(st, txn, XS_DICT_ITEM, &n_items));
	assert_int_equal(tot.orders, 2);
	assert_int_equal(n_items, 3);
	{
		uint32_t p, r, c;

		assert_xs_ok(
		    xs_store_id_get(st, txn, XS_DICT_ITEM, "p", 1, &p));
		assert_xs_ok(
		    xs_store_id_get(st, txn, XS_DICT_ITEM, "r", 1, &r));
		assert_xs_ok(
		    xs_store_pair_get(st, txn, XS_REL_BASKET, p, r, &c));
		assert_int_equal(c, 1);
	}
	xs_txn_abort(txn);
	xs_store_close(st);
}

static void
test_tool_order_across_files(void **state)
{
	struct fixture *f = *state;
	char            a[512], b[512];

	/* o1 starts in a.csv and goes on in b.jsonl: one order of two
	 * items. Per-file lines come first when there are several files. */
	snprintf(a, sizeof(a), "%s",
	    write_file(f, "a.csv", "order,item\no1,p\no2,q\n"));
	snprintf(b, sizeof(b), "%s",
	    write_file(
	        f, "b.jsonl", "{\"order\": \"o1\", \"item\": \"r\"}\n"));
	{
		const char *const args[] = { "--db", f->db, "--quiet", a, b,
			NULL };

		assert_int_equal(run(f, args), 0);
	}
	assert_int_equal(xs_test_figure(f->out, "files"), 2);
	assert_int_equal(xs_test_figure(f->out, "lines read"), 3);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 2);
	xs_test_assert_has(f->out,
	    "a.csv: 2 lines read, 2 loaded, 0 skipped, 0 "
	    "rejected\n");
	xs_test_assert_has(f->out, "b.jsonl: 1 lines read, 1 loaded");
}

static void
test_tool_map_and_formats(void **state)
{
	struct fixture   *f     = *state;
	const char       *file  = write_file(f, "x.txt",
	           "a;b\n"
	                  "k1,9,1\n"
	                  "k2,9,2\n");
	const char *const bad[] = { "--db", f->db, "--quiet", file, NULL };
	const char *const by_number[] = { "--db", f->db, "--quiet", "--format",
		"csv", "--map", "item=1", "--map", "order=2", file, NULL };

	/* Header "a;b" has one column: nothing to map -> usage error that
	 * names what it saw, and no store is made. */
	assert_int_equal(run(f, bad), 2);
	xs_test_assert_has(f->err, "no order column");
	xs_test_assert_has(f->err, "\"a;b\"");
	assert_int_equal(access(f->db, F_OK), -1);
	/* By number: column 2 does not exist in a one-column header. */
	assert_int_equal(run(f, by_number), 2);
	xs_test_assert_has(f->err, "no column 2");
}

static void
test_tool_baskets(void **state)
{
	struct fixture   *f      = *state;
	const char       *file   = write_file(f, "b.csv", "a,b\nb,c\na\n");
	const char *const args[] = { "--db", f->db, "--quiet", "--format",
		"baskets", file, NULL };

	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 3);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 3);
}

/* A basket file is orders of items, one a line, without columns: --type
 * view (these lines are views) or a --map cannot be honoured, and is a
 * usage error before the store is touched, not a load of purchases. */
static void
test_tool_baskets_refuse_type_and_map(void **state)
{
	struct fixture   *f       = *state;
	const char       *file    = write_file(f, "b.csv", "a,b\nb,c\n");
	const char *const view[]  = { "--db", f->db, "--quiet", "--format",
		 "baskets", "--type", "view", file, NULL };
	const char *const map[]   = { "--db", f->db, "--quiet", "--format",
		  "baskets", "--map", "item=1", file, NULL };
	const char *const order[] = { "--db", f->db, "--quiet", "--format",
		"baskets", "--type", "order", file, NULL };

	assert_int_equal(run(f, view), 2);
	xs_test_assert_has(f->err, "--type");
	assert_int_equal(run(f, map), 2);
	xs_test_assert_has(f->err, "--map");
	assert_int_equal(access(f->db, F_OK), -1);
	/* Orders they are: saying so is no error. */
	assert_int_equal(run(f, order), 0);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 2);
}

/* Whether dictionary 'd' of the store at 'db' knows 'ext'. */
static bool
store_has_id(const char *db, enum xs_dict d, const char *ext)
{
	struct xs_store_opts so = { .read_only = true };
	xs_store            *st;
	MDB_txn             *txn;
	uint32_t             id;
	xsell_err            err;

	assert_xs_ok(xs_store_open(&st, db, &so));
	assert_xs_ok(xs_txn_read(st, &txn));
	err = xs_store_id_get(st, txn, d, ext, strlen(ext), &id);
	xs_txn_abort(txn);
	xs_store_close(st);
	assert_true(err == XSELL_OK || err == XSELL_ENOENT);
	return err == XSELL_OK;
}

/* Whether the store at 'db' knows item 'ext'. */
static bool
store_has_item(const char *db, const char *ext)
{
	return store_has_id(db, XS_DICT_ITEM, ext);
}

/* --exclude-items: order A keeps x (its POST line goes), order B was
 * postage only and is no order, C keeps y (DOT goes), a return of POST
 * is a return (skipped), and in a basket file the excluded item leaves
 * its basket, which is loaded, and a basket of nothing else is none, a
 * line excluded. Every line read is loaded, skipped, excluded or
 * rejected, in the totals and in each file's line. */
static void
test_tool_exclude_items(void **state)
{
	struct fixture   *f = *state;
	char              file[512], baskets[512], more[512];
	const char *const args[] = { "--db", f->db, "--quiet",
		"--exclude-items", "POST", "--exclude-items", "DOT,M", file,
		NULL };
	char              db2[600];
	const char *const bargs[] = { "--db", db2, "--quiet", "--format",
		"baskets", "--exclude-items", "POST", baskets, NULL };
	const char *const two[] = { "--db", db2, "--quiet", "--exclude-items",
		"POST", file, more, NULL };
	const char *const plain[] = { "--db", f->db, "--quiet", file, NULL };
	const char *const empty[] = { "--db", f->db, "--exclude-items",
		"POST,,DOT", file, NULL };
	char              longid[XSELL_ID_MAX + 2];
	const char *const badid[] = { "--db", f->db, "--exclude-items", longid,
		file, NULL };

	snprintf(file, sizeof(file), "%s",
	    write_file(f, "fees.csv",
	        "InvoiceNo,StockCode,Quantity,InvoiceDate,CustomerID\n"
	        "A,x,1,2011-02-01,c1\n"
	        "A,POST,1,2011-02-01,c1\n"
	        "B,POST,1,2011-02-02,c2\n"
	        "C,y,2,2011-02-03,c1\n"
	        "C,DOT,1,2011-02-03,c1\n"
	        "D,POST,-1,2011-02-04,c2\n"));
	snprintf(baskets, sizeof(baskets), "%s",
	    write_file(f, "b.txt", "a,POST\nPOST\nb,c\n"));
	snprintf(more, sizeof(more), "%s",
	    write_file(f, "more.csv",
	        "InvoiceNo,StockCode,Quantity\nE,POST,1\nE,z,1\n"));
	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "lines read"), 6);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 2);
	assert_int_equal(xs_test_figure(f->out, "lines skipped"), 1);
	assert_int_equal(xs_test_figure(f->out, "lines excluded"), 3);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 2);
	assert_true(store_has_item(f->db, "x"));
	assert_false(store_has_item(f->db, "POST"));
	assert_false(store_has_item(f->db, "DOT"));

	snprintf(db2, sizeof(db2), "%s/db2", f->dir);
	assert_int_equal(run(f, bargs), 0);
	assert_int_equal(xs_test_figure(f->out, "lines read"), 3);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 2);
	assert_int_equal(xs_test_figure(f->out, "lines excluded"), 1);
	assert_int_equal(xs_test_figure(f->out, "lines rejected"), 0);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 2);
	assert_false(store_has_item(db2, "POST"));
	assert_true(store_has_item(db2, "a"));

	/* Two files, DOT kept: each file's line counts its excluded lines
	 * too. */
	snprintf(db2, sizeof(db2), "%s/db3", f->dir);
	assert_int_equal(run(f, two), 0);
	xs_test_assert_has(f->out,
	    "fees.csv: 6 lines read, 3 loaded, 1 skipped, 2 excluded, "
	    "0 rejected\n");
	xs_test_assert_has(f->out,
	    "more.csv: 2 lines read, 1 loaded, 0 skipped, 1 excluded, "
	    "0 rejected\n");
	assert_int_equal(xs_test_figure(f->out, "lines read"), 8);
	assert_int_equal(xs_test_figure(f->out, "lines excluded"), 3);

	/* Without the option the summary has no such line. */
	assert_int_equal(run(f, plain), 0);
	assert_null(strstr(f->out, "lines excluded"));
	/* An empty or invalid id is a usage error. */
	assert_int_equal(run(f, empty), 2);
	xs_test_assert_has(f->err, "--exclude-items: \"\" is not an item id");
	memset(longid, 'i', sizeof(longid) - 1); /* one byte too long */
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(run(f, badid), 2);
	xs_test_assert_has(f->err, "--exclude-items: \"iii");
}

/* The users of the store at 'db': how many the user dictionary holds
 * (stats' users) and the highest id handed out. */
static void
store_users(const char *db, uint32_t *countp, uint32_t *highestp)
{
	struct xs_store_opts so = { .read_only = true };
	xs_store            *st;
	MDB_txn             *txn;

	assert_xs_ok(xs_store_open(&st, db, &so));
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_dict_count(st, txn, XS_DICT_USER, countp));
	assert_xs_ok(xs_store_dict_size(st, txn, XS_DICT_USER, highestp));
	xs_txn_abort(txn);
	xs_store_close(st);
}

/* A duplicate order registers no user, as through the event op
 * (test_count_duplicate_order_registers_no_user), whichever way the
 * store is loaded: o-1 by u-1 (and o-2, whose lines name u-1 first,
 * then u-3: one order, u-1's; u-3 is no user) into a new store, built
 * whole or with --incremental; then o-1 by u-2, refused as a duplicate:
 * u-2 gets no id and the store is unchanged; then o-1 and a new o-3 by
 * u-2: u-2 is a user, id 2. A regression guard: the chunked walk
 * applies through the event op's code (xs_model_apply), which checks
 * the order id before it names the user, and the walk by customer,
 * which names every order's user first (number_batch), is taken only
 * into an empty order database, where no order of a load is a
 * duplicate (the loader groups lines by order id). */
static void
test_tool_duplicate_order_registers_no_user(void **state)
{
	struct fixture *f = *state;
	char            first[512], dup[512], more[512], db[600];
	const char     *args[] = { "--db", db, "--quiet", first, NULL, NULL };
	struct xs_buf   before, after;
	uint32_t        users, highest;

	snprintf(first, sizeof(first), "%s",
	    write_file(f, "first.csv",
	        "InvoiceNo,StockCode,Quantity,InvoiceDate,CustomerID\n"
	        "o-1,A,1,2011-02-01,u-1\n"
	        "o-1,B,1,2011-02-01,u-1\n"
	        "o-2,A,1,2011-02-01,u-1\n"
	        "o-2,C,1,2011-02-01,u-3\n"));
	snprintf(dup, sizeof(dup), "%s",
	    write_file(f, "dup.csv",
	        "InvoiceNo,StockCode,Quantity,InvoiceDate,CustomerID\n"
	        "o-1,A,1,2011-02-02,u-2\n"
	        "o-1,C,1,2011-02-02,u-2\n"));
	snprintf(more, sizeof(more), "%s",
	    write_file(f, "more.csv",
	        "InvoiceNo,StockCode,Quantity,InvoiceDate,CustomerID\n"
	        "o-1,A,1,2011-02-03,u-2\n"
	        "o-3,B,1,2011-02-03,u-2\n"));
	for (int inc = 0; inc < 2; inc++) {
		snprintf(db, sizeof(db), "%s/db-%s", f->dir,
		    inc ? "incremental" : "whole");
		args[3] = inc ? "--incremental" : "--quiet";
		args[4] = first;
		assert_int_equal(run(f, args), 0);
		store_users(db, &users, &highest);
		assert_int_equal(users, 1);
		assert_int_equal(highest, 1);
		assert_false(store_has_id(db, XS_DICT_USER, "u-3"));

		dump(db, &before);
		args[4] = dup;
		assert_int_equal(run(f, args), 0);
		assert_int_equal(xs_test_figure(f->out, "orders applied"), 0);
		assert_int_equal(
		    xs_test_figure(f->out, "duplicate orders"), 1);
		store_users(db, &users, &highest);
		assert_int_equal(users, 1);
		assert_int_equal(highest, 1);
		assert_false(store_has_id(db, XS_DICT_USER, "u-2"));
		dump(db, &after);
		assert_int_equal(after.len, before.len);
		assert_memory_equal(after.data, before.data, before.len);
		xs_buf_fini(&before);
		xs_buf_fini(&after);

		args[4] = more;
		assert_int_equal(run(f, args), 0);
		assert_int_equal(xs_test_figure(f->out, "orders applied"), 1);
		assert_int_equal(
		    xs_test_figure(f->out, "duplicate orders"), 1);
		store_users(db, &users, &highest);
		assert_int_equal(users, 2);
		assert_int_equal(highest, 2);
		assert_true(store_has_id(db, XS_DICT_USER, "u-2"));
	}
}

static void
test_tool_usage_errors(void **state)
{
	struct fixture   *f        = *state;
	const char       *file     = write_file(f, "s.csv", sales);
	const char *const flag[]   = { "--db", f->db, "--bogus", file, NULL };
	const char *const nodb[]   = { file, NULL };
	const char *const nofile[] = { "--db", f->db, NULL };
	const char *const fmt[]    = { "--db", f->db, "--format", "xml", file,
		   NULL };
	const char *const map[]  = { "--db", f->db, "--map", "colour=1", file,
		 NULL };
	const char *const size[] = { "--db", f->db, "--map-size", "12Q", file,
		NULL };
	const char *const txn[]  = { "--db", f->db, "--txn-ms", "0", file,
		 NULL };
	const char *const help[] = { "--help", NULL };
	char              other[600];
	/* The last of two was kept unsaid: here, a load into 'other'. */
	const char *const db2[] = { "--db", f->db, "--db", other, file, NULL };
	const char *const txn2[] = { "--db", f->db, "--txn-ms", "5",
		"--txn-ms", "50", file, NULL };

	assert_int_equal(run(f, flag), 2);
	xs_test_assert_has(f->err, "--bogus");
	assert_int_equal(run(f, nodb), 2);
	assert_int_equal(run(f, nofile), 2);
	assert_int_equal(run(f, fmt), 2);
	assert_int_equal(run(f, map), 2);
	assert_int_equal(run(f, size), 2);
	assert_int_equal(run(f, txn), 2);
	xs_test_assert_has(f->err, "--txn-ms");
	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(run(f, db2), 2);
	xs_test_assert_has(f->err, "--db given twice");
	assert_int_equal(run(f, txn2), 2);
	xs_test_assert_has(f->err, "--txn-ms given twice");
	/* Nothing was written by any of them. */
	assert_int_equal(access(f->db, F_OK), -1);
	assert_int_equal(access(other, F_OK), -1);
	assert_int_equal(run(f, help), 0);
	xs_test_assert_has(f->out, "--max-basket-items");
	xs_test_assert_has(f->out, "--map-size");
	xs_test_assert_has(f->out, "--txn-ms");
	xs_test_assert_has(f->out, "--exclude-items");
	xs_test_assert_has(f->out, "exit status");
}

/* Run xsell-load with 'args' as a user who may not write everywhere:
 * the user nobody when the test runs as root, else the test's own. Its
 * exit code, with its stderr in f->err. */
static int
run_unprivileged(struct fixture *f, const char *const *args)
{
	const char *argv[16] = { XS_TEST_XSELL_LOAD };
	char        err_path[600];
	int         n = 1, status;
	pid_t       pid;

	if (geteuid() != 0) {
		return run(f, args);
	}
	while (args[n - 1] != NULL) {
		assert_true(n < 15);
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The files first, as root; then nobody for the exec. */
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen(err_path, "w", stderr) == NULL ||
		    setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0) {
			_exit(99);
		}
		execv(argv[0], (char *const *) argv);
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	xs_test_slurp(err_path, f->err, sizeof(f->err));
	return WEXITSTATUS(status);
}

/* How many times 'want' is in 'text'. */
static int
count_of(const char *text, const char *want)
{
	int n = 0;

	for (const char *p = strstr(text, want); p != NULL;
	     p             = strstr(p + 1, want)) {
		n++;
	}
	return n;
}

/* A store that cannot be opened: the last line says why as the system
 * does, where it said "input/output error" (XSELL_EIO) after a log line
 * with the reason, twice (the open was tried again without write_map,
 * which cannot help a directory). */
static void
test_tool_unusable_db(void **state)
{
	struct fixture   *f    = *state;
	const char       *file = write_file(f, "s.csv", sales);
	char              db[600], want[800];
	const char *const args[]    = { "--db", db, "--quiet", file, NULL };
	const char *const missing[] = { "--db", f->db, "--quiet",
		"/nonexistent/x.csv", NULL };

	/* A path under a regular file cannot be a directory. */
	snprintf(db, sizeof(db), "%s/store", file);
	assert_int_equal(run(f, args), 1);
	snprintf(want, sizeof(want),
	    "xsell-load: cannot open store %s: Not a directory\n", db);
	xs_test_assert_has(f->err, want);
	/* Its parent missing: made one level only. */
	snprintf(db, sizeof(db), "%s/no/such/db", f->dir);
	assert_int_equal(run(f, args), 1);
	snprintf(want, sizeof(want),
	    "xsell-load: cannot open store %s: No such file or directory\n",
	    db);
	xs_test_assert_has(f->err, want);
	assert_null(strstr(f->err, "input/output error"));
	assert_int_equal(count_of(f->err, "error store "), 1);
	/* A directory the user may not write in. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(file, 0644), 0);
	snprintf(db, sizeof(db), "%s/ro", f->dir);
	assert_int_equal(mkdir(db, 0555), 0);
	snprintf(db, sizeof(db), "%s/ro/db", f->dir);
	assert_int_equal(run_unprivileged(f, args), 1);
	snprintf(want, sizeof(want),
	    "xsell-load: cannot open store %s: Permission denied\n", db);
	xs_test_assert_has(f->err, want);
	assert_int_equal(count_of(f->err, "error store "), 1);
	/* An input that cannot be read. */
	assert_int_equal(run(f, missing), 1);
	xs_test_assert_has(f->err, "/nonexistent/x.csv");
}

/* A RetailRocket-style event export: views, a cart add and an order
 * (ts in milliseconds); loading it twice changes nothing the second
 * time. v1 viewed 10 and 11 in one session: a view pair. */
static void
test_tool_events_load_once(void **state)
{
	struct fixture      *f      = *state;
	const char          *file   = write_file(f, "events.csv",
	               "timestamp,visitorid,event,itemid,transactionid\n"
	                          "1433221332117,v1,view,10,\n"
	                          "1433221392117,v1,view,11,\n"
	                          "1433221452117,v1,addtocart,11,\n"
	                          "1433221512117,v1,transaction,11,t1\n"
	                          "1433221572117,v2,view,10,\n");
	const char *const    args[] = { "--db", f->db, "--quiet", file, NULL };
	struct xs_store_opts so     = { 0 };
	struct xs_buf        before, after;
	xs_store            *st;
	MDB_txn             *txn;
	uint32_t             i10, i11, views_pair;
	struct xs_item_counts c10;

	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "lines loaded"), 5);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 1);
	assert_int_equal(xs_test_figure(f->out, "events applied"), 4);
	assert_int_equal(xs_test_figure(f->out, "duplicate events"), 0);
	so.read_only = true;
	assert_xs_ok(xs_store_open(&st, f->db, &so));
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_id_get(st, txn, XS_DICT_ITEM, "10", 2, &i10));
	assert_xs_ok(xs_store_id_get(st, txn, XS_DICT_ITEM, "11", 2, &i11));
	assert_xs_ok(xs_store_counts_get(st, txn, i10, &c10));
	assert_xs_ok(
	    xs_store_pair_get(st, txn, XS_REL_VIEW, i10, i11, &views_pair));
	assert_int_equal(c10.c[XS_C_VIEWS], 2); /* v1 and v2 */
	assert_int_equal(views_pair, 1);
	xs_txn_abort(txn);
	xs_store_close(st);

	dump(f->db, &before);
	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 0);
	assert_int_equal(xs_test_figure(f->out, "duplicate orders"), 1);
	assert_int_equal(xs_test_figure(f->out, "events applied"), 0);
	assert_int_equal(xs_test_figure(f->out, "duplicate events"), 4);
	dump(f->db, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	xs_buf_fini(&before);
	xs_buf_fini(&after);
}

/* Lines without a ts get the time of the load, yet loading the file again
 * later changes nothing: the groups of events are known by what the
 * file says, no ts, not by the time each load gave them. */
static void
test_tool_events_without_ts_load_once(void **state)
{
	struct fixture   *f      = *state;
	const char       *file   = write_file(f, "nots.csv",
	            "user,item,event,order\n"
	                    "u1,a,view,\n"
	                    "u2,b,view,\n"
	                    "u1,c,cart_add,\n"
	                    "u1,a,order,o1\n");
	const char *const args[] = { "--db", f->db, "--quiet", file, NULL };
	struct xs_buf     before, after;
	int64_t           first_s;

	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 1);
	assert_int_equal(xs_test_figure(f->out, "events applied"), 3);
	dump(f->db, &before);
	/* The next load's time is a later second (at most a second on). */
	first_s = xs_now_s();
	while (xs_now_s() == first_s) {
		usleep(20000);
	}
	assert_int_equal(run(f, args), 0);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 0);
	assert_int_equal(xs_test_figure(f->out, "duplicate orders"), 1);
	assert_int_equal(xs_test_figure(f->out, "events applied"), 0);
	assert_int_equal(xs_test_figure(f->out, "duplicate events"), 3);
	dump(f->db, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	xs_buf_fini(&before);
	xs_buf_fini(&after);
}

/* --type view reads a file of views that has no type column. */
static void
test_tool_type_flag(void **state)
{
	struct fixture   *f       = *state;
	const char       *file    = write_file(f, "views.csv",
	             "session_id,item_id,eventdate\n"
	                      "s1,A,2016-05-09\n"
	                      "s1,B,2016-05-09\n");
	const char *const plain[] = { "--db", f->db, "--quiet", "--map",
		"user=session_id", file, NULL };
	const char *const views[] = { "--db", f->db, "--quiet", "--type",
		"view", "--map", "user=session_id", file, NULL };
	const char *const bad[]   = { "--db", f->db, "--type", "click", file,
		  NULL };

	assert_int_equal(run(f, plain), 2); /* no order column */
	xs_test_assert_has(f->err, "--type");
	assert_int_equal(run(f, bad), 2);
	xs_test_assert_has(f->err, "unknown event type \"click\"");
	assert_int_equal(run(f, views), 0);
	assert_int_equal(xs_test_figure(f->out, "events applied"), 2);
}

/* The baskets of test_comp_lists, as sales: o1 {A,B} o2 {A,B} o3 {B,C}
 * o4 {B,E} o5 {C,D}. From A the first level is B (p(B|A) = 1), and B
 * leads to C and E (1/4 each); at the default beta 0.25, E scores
 * 1/4 / N_E^0.25 = 0.25 and C 1/4 / N_C^0.25 = 1/4 / 2^0.25 = 0.210224,
 * both via B. */
static const char two_hops[] = "InvoiceNo,StockCode,Quantity,InvoiceDate,"
                               "UnitPrice,CustomerID\n"
                               "o1,A,1,2011-02-01,1,c1\n"
                               "o1,B,1,2011-02-01,1,c1\n"
                               "o2,A,1,2011-02-02,1,c2\n"
                               "o2,B,1,2011-02-02,1,c2\n"
                               "o3,B,1,2011-02-03,1,c3\n"
                               "o3,C,1,2011-02-03,1,c3\n"
                               "o4,B,1,2011-02-04,1,c4\n"
                               "o4,E,1,2011-02-04,1,c4\n"
                               "o5,C,1,2011-02-05,1,c5\n"
                               "o5,D,1,2011-02-05,1,c5\n";

/* A's stored list in db (xs_test_comp_list). */
static void
stored_list_of_a(const char *db, char *out, size_t out_len)
{
	struct xs_store_opts so = { 0 };
	xs_store            *st;

	so.read_only = true;
	assert_xs_ok(xs_store_open(&st, db, &so));
	xs_test_comp_list(st, "A", out, out_len);
	xs_store_close(st);
}

/* --complements computes every item's precomputed list after the load,
 * says how many, and the stored lists are the walk's; without it the
 * load leaves them to the server's refresher. */
static void
test_tool_complements_lists(void **state)
{
	struct fixture   *f       = *state;
	const char       *file    = write_file(f, "sales.csv", two_hops);
	const char *const plain[] = { "--db", f->db, "--quiet", file, NULL };
	const char *const with[] = { "--db", f->db, "--quiet", "--complements",
		file, NULL };
	char              list[256];

	assert_int_equal(run(f, plain), 0);
	assert_int_equal(xs_test_figure(f->out, "orders applied"), 5);
	stored_list_of_a(f->db, list, sizeof(list));
	assert_string_equal(list, "none");

	/* Orders already stored: the lists are computed all the same. */
	assert_int_equal(run(f, with), 0);
	assert_int_equal(xs_test_figure(f->out, "duplicate orders"), 5);
	xs_test_assert_has(f->out,
	    "complements lists 5 computed (5 items with "
	    "orders)");
	stored_list_of_a(f->db, list, sizeof(list));
	assert_string_equal(list, "E=0.25<B C=0.210224<B");

	/* Fresh lists are not computed again. */
	assert_int_equal(run(f, with), 0);
	xs_test_assert_has(f->out,
	    "complements lists 0 computed (5 items with "
	    "orders)");
}

/* 'n' orders o<first>.. of 3 to 5 of 40 items each, as CSV, into f's
 * dir as 'name'; returns its path. */
static const char *
write_orders(struct fixture *f, const char *name, unsigned first, unsigned n)
{
	static char text[64 * 1024];
	size_t      len = 0;
	uint64_t    rng = first + 1;

	len += (size_t) snprintf(text, sizeof(text), "order,item\n");
	for (unsigned o = first; o < first + n; o++) {
		unsigned items = 3 + (unsigned) (xs_test_rng_next(&rng) % 3);

		for (unsigned i = 0; i < items; i++) {
			len += (size_t) snprintf(text + len,
			    sizeof(text) - len, "o%u,i%u\n", o,
			    (unsigned) (xs_test_rng_next(&rng) % 40));
		}
		assert_true(len < sizeof(text) - 64);
	}
	return write_file(f, name, text);
}

/* The summary's store line: bytes in use, and of them free. */
static void
store_line(const char *out, uint64_t *usedp, uint64_t *freep)
{
	const char *p = strstr(out, "\nstore ");

	assert_non_null(p);
	assert_int_equal(sscanf(p,
	                     "\nstore %" SCNu64 " bytes in use, %" SCNu64
	                     " of them free pages",
	                     usedp, freep),
	    2);
}

/* A store written by two loads holds pages the second freed; the
 * summary says how many, and --compact-into writes a copy without them:
 * shorter, the same data, a store that takes writes again. A second copy
 * into the same place is refused, and nothing is overwritten. */
static void
test_tool_compact_into(void **state)
{
	struct fixture *f = *state;
	char            a[512], b[512], copy[512], copy_db[600];
	uint64_t        used, free_bytes;
	struct stat     sb;
	struct xs_buf   d1, d2;

	snprintf(a, sizeof(a), "%s", write_orders(f, "a.csv", 0, 400));
	snprintf(b, sizeof(b), "%s", write_orders(f, "b.csv", 400, 400));
	snprintf(copy, sizeof(copy), "%s", path_in(f, "copy"));
	snprintf(copy_db, sizeof(copy_db), "%s/data.mdb", copy);
	{
		const char *const load_a[] = { "--db", f->db, "--quiet", a,
			NULL };
		const char *const load_b[] = { "--db", f->db, "--quiet", b,
			NULL };

		assert_int_equal(run(f, load_a), 0);
		assert_int_equal(run(f, load_b), 0);
		assert_int_equal(
		    xs_test_figure(f->out, "orders applied"), 400);
	}
	store_line(f->out, &used, &free_bytes);
	assert_true(free_bytes > 0);
	assert_true(free_bytes < used);
	{
		const char *const args[] = { "--db", f->db, "--compact-into",
			copy, NULL };

		assert_int_equal(run(f, args), 0);
		xs_test_assert_has(f->out, "compacted copy ");
		/* Only the copy: no load, so no load's summary. */
		assert_null(strstr(f->out, "orders applied"));
		assert_int_equal(stat(copy_db, &sb), 0);
		/* The pages in use but the free ones, less the few that
		 * held the freelist itself. */
		assert_true((uint64_t) sb.st_size <= used - free_bytes);
		assert_true(
		    used - free_bytes - (uint64_t) sb.st_size <= 16 * 4096);
		/* Again into the same place: refused, the copy kept. */
		assert_int_equal(run(f, args), 1);
		xs_test_assert_has(f->err, "no compacted copy in");
	}
	dump(f->db, &d1);
	dump(copy, &d2);
	assert_int_equal(d1.len, d2.len);
	assert_memory_equal(d1.data, d2.data, d1.len);
	xs_buf_fini(&d1);
	xs_buf_fini(&d2);
	{
		const char       *c      = write_orders(f, "c.csv", 800, 10);
		const char *const more[] = { "--db", copy, "--quiet", c,
			NULL };

		assert_int_equal(run(f, more), 0);
		assert_int_equal(xs_test_figure(f->out, "orders applied"), 10);
	}
	{
		/* --complements writes: it needs a FILE even here. */
		const char *const args[] = { "--db", f->db, "--complements",
			"--compact-into", copy, NULL };

		assert_int_equal(run(f, args), 2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_tool_summary_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_reads_a_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_non_adjacent_lines_are_one_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_order_across_files, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_map_and_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_baskets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_baskets_refuse_type_and_map, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_exclude_items, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_unusable_db, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_events_load_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_events_without_ts_load_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_type_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_complements_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_compact_into, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tool_duplicate_order_registers_no_user, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("load_tool", tests, NULL, NULL);
}
