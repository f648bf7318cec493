/* SPDX-License-Identifier: MIT */
/* Test fixtures: temporary store directories, fresh ipc:// addresses, a
 * child xselld, and assertions that speak xsell_err. */
#ifndef XSELL_TESTS_SUPPORT_H
#define XSELL_TESTS_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include <xsell/errors.h>

#define assert_xs_ok(expr)                                                \
	do {                                                              \
		xsell_err xs_e_ = (expr);                                 \
		if (xs_e_ != XSELL_OK) {                                  \
			fail_msg("%s: %s", #expr, xsell_strerror(xs_e_)); \
		}                                                         \
	} while (0)

#define assert_xs_err(expr, want)                                         \
	do {                                                              \
		xsell_err xs_e_ = (expr);                                 \
		if (xs_e_ != (want)) {                                    \
			fail_msg("%s: got %s, want %s", #expr,            \
			    xsell_strerror(xs_e_), xsell_strerror(want)); \
		}                                                         \
	} while (0)

/* Exit code that ctest reports as "skipped". */
#define XS_TEST_SKIP 77

/* Make a fresh temporary directory; the path is malloc'd. */
char *xs_test_tmpdir(void);
/* Remove a directory tree made by xs_test_tmpdir and free the path. */
void xs_test_rmdir(char *dir);
/* A fresh "ipc://<dir>/<name>.sock" address in 'dir', malloc'd. */
char *xs_test_ipc_url(const char *dir, const char *name);
/* A TCP port on 127.0.0.1 that nothing listens on now: the kernel picks
 * it for a socket bound to port 0. Another process could take it before
 * the server does; on loopback-only tests that is not worth a retry. */
int xs_test_free_port(void);
/* Path of a file under the shared datasets, or NULL (with a message) if
 * the dataset is not on this machine. malloc'd. */
char *xs_test_data_path(const char *rel);

/* xorshift64*: the next draw of the generator whose state is *s (not
 * 0). The same seed gives the same draws on every machine. */
uint64_t xs_test_rng_next(uint64_t *s);
/* A seed for a randomized test: $XSELL_TEST_SEED when set (to replay a
 * run), else one from the time and the pid; never 0. The test prints
 * it. */
uint64_t xs_test_seed(void);

/* Exec one of our binaries (argv[0] is its path) in a forked child,
 * under the wrapper in $XSELL_TEST_WRAP when set (words separated by
 * spaces, e.g. "valgrind --log-file=DIR/%p.log": tools/valgrind.sh), so
 * that the servers and tools the tests start are checked too. Returns
 * only if the exec failed. */
void xs_test_execv(const char *const *argv);
/* The same wrapper as a prefix for a shell command: "" or "WRAP ". */
const char *xs_test_wrap_prefix(void);
/* Run one of our binaries (argv[0] its path) as xs_test_execv does and
 * wait for it: its stdout to the file 'out_path', its stderr to
 * 'err_path' (NULL: the test's own), killed by SIGALRM after
 * 'timeout_s'. Returns the wait status. */
int xs_test_run(const char *const *argv, const char *out_path,
    const char *err_path, unsigned timeout_s);
/* Run one of our tools, at path 'tool', with 'args' (NULL-terminated,
 * at most 62) as xs_test_run does, killed after 60 s, its stdout and
 * stderr kept in the files "stdout" and "stderr" of 'dir' and read back
 * into 'out' and 'err' (NUL-terminated, cut at their length). Fails the
 * test if the tool did not exit (a signal, the timeout); returns its
 * exit code. */
int xs_test_run_tool(const char *tool, const char *const *args,
    const char *dir, char *out, size_t out_len, char *err, size_t err_len);
/* Fails the test, showing 'text', unless 'want' is in it. */
void xs_test_assert_has(const char *text, const char *want);
/* How many times 'want' is in 'text' (overlapping ones too). */
int xs_test_count(const char *text, const char *want);
/* Run xselld with 'args' (NULL-terminated, after argv[0]) as
 * xs_test_run_tool does, in 'dir', for a start it must refuse: fails
 * the test unless it exits with 'code' and says why in one line of
 * stderr, which holds 'want' (NULL: any line). */
void xs_test_assert_xselld_refuses(
    const char *dir, const char *const *args, int code, const char *want);
/* The number after the line of a tool's summary that starts with 'name'
 * and a space ("lines loaded      4": 4). Fails the test, showing 'out',
 * if there is no such line. */
unsigned long long xs_test_figure(const char *out, const char *name);
/* The start of the file 'path' in 'buf', NUL-terminated, at most
 * len - 1 bytes; "" if it cannot be read. */
void xs_test_slurp(const char *path, char *buf, size_t len);

/* A running xselld child. */
struct xs_test_server {
	pid_t              pid;
	char              *dir;       /* temporary directory of the test */
	char              *db;        /* store directory, inside 'dir' */
	char              *read_url;  /* --listen */
	char              *admin_url; /* --admin */
	const char *const *extra;     /* extra xselld arguments */
	uint64_t           fsize_max; /* RLIMIT_FSIZE of the child, bytes;
	                                 0: none (set before a restart) */
	const char *log_path;         /* the child's stderr (its log) goes
	                                 to this file, made anew at each
	                                 start; NULL: this process's
	                                 (set before a restart) */
};

/* Arm the hang watchdog once per process (support/watchdog.c): past
 * $XS_TEST_HANG_S seconds (default 270; 0: never), print the stacks of
 * the test and its children, then abort. Starting a server or calling
 * one arms it. */
void xs_test_watchdog_start(void);

/* Start xselld on a new temporary store with one read and one admin ipc
 * endpoint, plus the extra arguments (NULL-terminated list, may be just
 * NULL), and wait until it answers "stats". Fails the test if it does not
 * come up within a few seconds. */
void xs_test_server_start(struct xs_test_server *s, const char *const *extra);
/* The same, with the child's RLIMIT_FSIZE at 'fsize_max' bytes and
 * SIGXFSZ ignored, so that a write past it fails with EFBIG as on a full
 * filesystem (0: no limit). Restarts keep s->fsize_max. */
void xs_test_server_start_limited(
    struct xs_test_server *s, const char *const *extra, uint64_t fsize_max);
/* Restart on the same store after it was stopped or killed. */
void xs_test_server_restart(struct xs_test_server *s);
/* Send 'sig', wait for the exit; returns the wait status. */
int xs_test_server_signal(struct xs_test_server *s, int sig);
/* SIGTERM if running, then remove the store and free everything. */
void xs_test_server_fini(struct xs_test_server *s);
/* A cmocka teardown for a fixture that is a malloc'd struct whose first
 * member is its struct xs_test_server (or is one): fini, then free. */
int xs_test_server_teardown(void **state);

/* ==== Talking to a server ==== */

#include <jansson.h>

/* Send raw bytes as one request to 'url' and return the raw reply
 * (malloc'd, *lenp bytes), or NULL when none comes: after the timeout
 * (10 s; 60 s under $XSELL_TEST_WRAP), or at once if the server drops
 * the connection (the request is never resent). */
void *xs_test_call_raw(
    const char *url, const void *req, size_t len, size_t *lenp);
/* Send the JSON text 'json' as a msgpack request to 'url' and return
 * the reply converted to JSON (caller json_decref's it). Fails the test
 * if no reply comes within 2 s or the reply is not one msgpack map. */
json_t *xs_test_call(const char *url, const char *json);
/* The reply reply[0..len) (msgpack) as JSON (caller json_decref's it).
 * Fails the test unless it is one msgpack map. */
json_t *xs_test_reply_json(const void *reply, size_t len);
/* The JSON text 'json' packed as msgpack, as xs_test_call sends it
 * (malloc'd, *lenp bytes; caller frees). Fails the test on bad JSON. */
void *xs_test_pack(const char *json, size_t *lenp);
/* The reply's "error.code", or "ok" for a success. */
const char *xs_test_reply_code(json_t *reply);
/* Fails the test unless 'reply' is an error of code 'code' whose message
 * holds 'want'; returns the message (owned by the reply). */
const char *xs_test_reply_error(
    json_t *reply, const char *code, const char *want);
/* xs_test_call, failing the test (with the request and the reply)
 * unless the reply is a success. Caller json_decref's it. */
json_t *xs_test_call_ok(const char *url, const char *json);
/* Fails the test unless 'json' sent to 'url' is answered with the
 * code 'want' ("bad_request"; "ok" for a success). */
void xs_test_assert_code(const char *url, const char *json, const char *want);
/* xs_test_call_ok for a write whose reply is not looked at further: the
 * reply's "applied" count, -1 when it has none. */
json_int_t xs_test_send_ok(const char *url, const char *json);
/* The number stats answers at section.key ("wal", "applied"), or at
 * the top level's 'key' when 'section' is NULL ("uptime_s"); -1 when
 * absent or not an integer. Fails the test if stats is not answered
 * ok. */
json_int_t xs_test_stat(const char *url, const char *section, const char *key);
/* The server's order count (stats counts.orders); fails the test if
 * stats is not answered ok. */
json_int_t xs_test_stats_orders(const char *url);
/* How many threads of process 'pid' are named 'name' (/proc/PID/task:
 * xselld names its own, e.g. "xsell-admin", "xsell-wal"). */
int xs_test_threads_named(pid_t pid, const char *name);
/* xs_test_threads_named once it is 'want', waiting up to 30 s: a server
 * listens before all its threads have started (and a sanitizer build
 * starts them slowly). Returns the last count seen. */
int xs_test_threads_named_reach(pid_t pid, const char *name, int want);

/* ==== Fire-and-forget messages (xselld --pull) ==== */

#include <nng/nng.h>

/* A PUSH socket dialled to the pull endpoint 'url'; fails the test if
 * it cannot connect. Keep it open until what it sent has arrived (the
 * server's stats.pull says so): nng_close() may drop messages it still
 * holds. */
nng_socket xs_test_push_open(const char *url);
/* Send bytes msg[0..len) as one message on 'sock' (never answered);
 * fails the test if nng does not take it within 10 s. */
void xs_test_push_raw(nng_socket sock, const void *msg, size_t len);
/* The JSON text 'json' packed as msgpack (xs_test_pack), pushed. */
void xs_test_push(nng_socket sock, const char *json);

/* The "fill" tests' writes (test_full_disk, test_full_map): batch 'b'
 * holds XS_TEST_FILL_ORDERS orders o<n>, n = b * XS_TEST_FILL_ORDERS +
 * i, by user u<n % users> at ts 1700000000 + n, each of the
 * XS_TEST_FILL_ITEMS items i<n>-0 .. i<n>-9 that no other order holds. */
#define XS_TEST_FILL_ORDERS 20
#define XS_TEST_FILL_ITEMS 10
/* Batch 'b''s event request (JSON) into 'buf', with "batch":"<tag><b>"
 * when 'tag' is not NULL. */
void xs_test_fill_batch(
    unsigned b, const char *tag, unsigned users, char *buf, size_t len);
/* fbt (count scorer, k 20) of order n's first item i<n>-0 on 'url':
 * the success reply (xs_test_call_ok; caller json_decref's it). */
json_t *xs_test_fill_fbt(const char *url, unsigned n);

/* ==== In-process store fixtures ==== */

struct xs_store;
struct xs_settings;
struct xs_apply_result;

/* Open a fresh store in a new temporary directory (*dirp, malloc'd). */
struct xs_store *xs_test_store_open(char **dirp);
/* Close the store and remove its directory. */
void xs_test_store_close(struct xs_store *st, char *dir);

/* A cmocka fixture holding a fresh store: *state is a struct
 * xs_test_store after setup. */
struct xs_test_store {
	char            *dir;
	struct xs_store *st;
};
int xs_test_store_setup(void **state);
int xs_test_store_teardown(void **state);

/* The basket graph complements' tests work their answers out on by hand
 * (test_complements, test_comp_lists):
 *   o1 {A,B}  o2 {A,B}  o3 {B,C}  o4 {B,E}  o5 {C,D}
 *   N_A 2, N_B 4, N_C 2, N_D 1, N_E 1
 * xs_test_store_setup, then these orders; xs_test_store_teardown ends
 * it. */
int xs_test_comp_store_setup(void **state);

/* A cmocka fixture holding a fresh temporary directory (removed in
 * teardown) and the output of the last tool run in it
 * (xs_test_run_tool): *state is a struct xs_test_dir after setup. */
struct xs_test_dir {
	char *dir;
	char  out[65536]; /* stdout of the last run */
	char  err[8192];  /* stderr of the last run */
};
int xs_test_dir_setup(void **state);
int xs_test_dir_teardown(void **state);

struct xs_event;
struct xs_span;
/* 's' as a span (NULL: the empty span). */
struct xs_span xs_test_span(const char *s);
/* The ids 'ids' as spans in 'out', up to the first NULL or 'max' of
 * them; returns how many. */
uint32_t xs_test_spans(
    struct xs_span *out, const char *const *ids, uint32_t max);
/* Apply the 'n' events 'evs' in one write transaction, as client batch
 * 'batch' (NULL: none; xs_model_apply_batch), and commit. 'set' and
 * 'res' may be NULL (defaults; not wanted). Fails the test on any
 * error. */
void xs_test_apply(struct xs_store *st, const struct xs_settings *set,
    const struct xs_span *batch, const struct xs_event *evs, size_t n,
    struct xs_apply_result *res);

/* Apply orders written as "ORDER:USER:ITEM,ITEM,...;..." (USER may be
 * empty: a guest) in one write transaction; order i gets ts 1000 + i.
 * 'set' may be NULL (defaults). Fails the test on any error. */
void xs_test_orders(struct xs_store *st, const struct xs_settings *set,
    const char *spec, struct xs_apply_result *res);

/* Apply events written one per ';' as "TS TYPE USER ITEM[,ITEM...] [X]":
 * TYPE is view, cart_add, cart_remove, rating (X: the rating) or order
 * (X: the order id; USER "-" is a guest). Example:
 * "0 view u1 A; 600 cart_add u1 B; 900 order u1 A,B o1". One write
 * transaction; fails the test on any error. */
void xs_test_events(
    struct xs_store *st, const struct xs_settings *set, const char *spec);

struct xs_acc;
/* Flush the accumulator 'acc' into 'st' in one write transaction and
 * commit it. Fails the test on any error. */
void xs_test_acc_commit(struct xs_store *st, struct xs_acc *acc);

/* Forget 'user' in one write transaction; returns whether it was known. */
bool xs_test_forget(struct xs_store *st, const char *user);

/* ==== Reading a store's counts, each in its own read transaction ==== */

#include "store/store.h"

/* The store's totals. */
struct xs_totals xs_test_totals(struct xs_store *st);
/* Counter 'which' of item 'item' (external id); 0 if it is unknown. */
uint32_t xs_test_item_count(
    struct xs_store *st, const char *item, enum xs_count which);
/* The count of pair (a, b) of relation 'rel', by external ids; 0 if
 * either is unknown. */
uint32_t xs_test_pair(
    struct xs_store *st, enum xs_rel rel, const char *a, const char *b);
/* The count of 'item' in the day list of 'rel' (a trend relation) for
 * day 'day'; 0 if the item is unknown. */
uint32_t xs_test_day_count(
    struct xs_store *st, enum xs_rel rel, uint32_t day, const char *item);

/* Fails unless each "A>B=N" of 'spec' (separated by spaces) is the
 * count of pair (A, B) of relation 'rel'. */
void xs_test_assert_pairs(
    struct xs_store *st, enum xs_rel rel, const char *spec);
/* Fails unless each "ITEM=N" of 'spec' (separated by spaces) is item
 * ITEM's counter 'which'. */
void xs_test_assert_item_counts(
    struct xs_store *st, enum xs_count which, const char *spec);

/* ==== Replaying writes and comparing stores ==== */

struct xs_buf;

/* Apply one msgpack "event" request (the bytes a client sends) to 'st'
 * in-process, as xselld's handler does: decode, one write transaction,
 * commit. Fails the test on any error; returns the events applied. */
uint32_t xs_test_apply_event_msg(
    struct xs_store *st, const void *msg, size_t len);

/* Open the store in 'db' for writing (as xselld would), dump it into
 * *out (xs_buf_init'ed here; caller frees with xs_buf_fini) and close
 * it. Fails the test if it does not open. */
void xs_test_store_dump(const char *db, struct xs_buf *out);
/* The open store's dump (xs_store_dump) as a NUL-terminated string;
 * caller frees it. */
char *xs_test_dump(struct xs_store *st);
/* Fails unless the store's dump is still 'before' (an xs_test_dump of
 * it), which is freed. */
void xs_test_assert_unchanged(struct xs_store *st, char *before);
/* Fail the test unless the two open stores' dumps (xs_store_dump) are
 * the same bytes. */
void xs_test_assert_same_store(struct xs_store *a, struct xs_store *b);

/* Item 'item''s precomputed complements list in st, rendered as
 * "E=0.25<B C=0.210224<B" (item=score<via, scores to 6 digits), or
 * "none" when it has no list. Fails the test on any other error. */
void xs_test_comp_list(
    struct xs_store *st, const char *item, char *out, size_t out_len);
/* The same of the list an answer made for 'item' and keeps in the
 * per-item memo (model/comp_lists.c), or "none". */
void xs_test_made_comp_list(
    struct xs_store *st, const char *item, char *out, size_t out_len);

#endif /* XSELL_TESTS_SUPPORT_H */
