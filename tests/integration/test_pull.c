/* SPDX-License-Identifier: MIT */
/* xselld --pull: fire-and-forget event batches over nng PUSH/PULL. A
 * child xselld on a temporary store takes valid and bad messages; as
 * nothing is answered, stats.pull's counters and the store's contents
 * are what the test checks. Every wait polls stats, bounded at 30 s. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/supplemental/util/platform.h>

#include <xsell/limits.h>

/* The valid messages: 8 events applied, 3 duplicates (an order id and a
 * batch id seen before), whatever order they are applied in. */
static const char *const valid[] = {
	/* 2 orders. */
	"{\"op\":\"event\",\"id\":\"m1\",\"events\":["
	"{\"type\":\"order\",\"order\":\"o1\",\"user\":\"u1\",\"ts\":1000,"
	"\"items\":[\"A\",\"B\"]},"
	"{\"type\":\"order\",\"order\":\"o2\",\"user\":\"u2\",\"ts\":1001,"
	"\"items\":[\"A\",\"C\"]}]}",
	/* 3 views. */
	"{\"op\":\"event\",\"events\":["
	"{\"type\":\"view\",\"user\":\"u3\",\"item\":\"A\",\"ts\":1002},"
	"{\"type\":\"view\",\"user\":\"u3\",\"item\":\"B\",\"ts\":1003},"
	"{\"type\":\"view\",\"user\":\"u1\",\"item\":\"C\",\"ts\":1004}]}",
	/* o1 again (a duplicate) and a new order. */
	"{\"op\":\"event\",\"events\":["
	"{\"type\":\"order\",\"order\":\"o1\",\"user\":\"u1\",\"ts\":1000,"
	"\"items\":[\"A\",\"B\"]},"
	"{\"type\":\"order\",\"order\":\"o3\",\"user\":\"u3\",\"ts\":1005,"
	"\"items\":[\"B\",\"C\"]}]}",
	/* A batch with an id, sent twice: applied once, then 2
	 * duplicates. */
	"{\"op\":\"event\",\"batch\":\"vb1\",\"events\":["
	"{\"type\":\"cart_add\",\"user\":\"u4\",\"item\":\"A\",\"ts\":1006},"
	"{\"type\":\"rating\",\"user\":\"u4\",\"item\":\"A\",\"rating\":5,"
	"\"ts\":1007}]}",
	"{\"op\":\"event\",\"batch\":\"vb1\",\"events\":["
	"{\"type\":\"cart_add\",\"user\":\"u4\",\"item\":\"A\",\"ts\":1006},"
	"{\"type\":\"rating\",\"user\":\"u4\",\"item\":\"A\",\"rating\":5,"
	"\"ts\":1007}]}",
};
#define N_VALID (sizeof(valid) / sizeof(valid[0]))

/* Messages that are the sender's fault, each of which must leave
 * nothing in the store. */
static const char *const invalid[] = {
	/* Writes that must be acknowledged, and a read. */
	"{\"op\":\"items\",\"items\":[{\"item\":\"Z\",\"category\":\"zz\"}]}",
	"{\"op\":\"forget_user\",\"user\":\"u1\"}",
	"{\"op\":\"fbt\",\"items\":[\"A\"]}",
	/* A valid event, then one without its item: nothing of it. */
	"{\"op\":\"event\",\"events\":["
	"{\"type\":\"view\",\"user\":\"u9\",\"item\":\"Q\",\"ts\":1010},"
	"{\"type\":\"view\",\"user\":\"u9\",\"ts\":1011}]}",
};
#define N_INVALID (sizeof(invalid) / sizeof(invalid[0]))
/* Also sent raw: 0xc1 and a message one byte over the limit. */
#define N_RAW_INVALID 2
#define N_MESSAGES (N_VALID + N_INVALID + N_RAW_INVALID)

struct fixture {
	struct xs_test_server srv; /* first: xs_test_server_teardown */
	char                 *pull_dir;
	char                 *pull_url;
	const char           *extra[8];
};

/* Start xselld with --pull on an ipc:// socket of its own directory,
 * and 'more' (NULL-terminated, at most 5) after it. */
static struct fixture *
fixture_start(const char *const *more)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t          n = 0;

	assert_non_null(f);
	f->pull_dir   = xs_test_tmpdir();
	f->pull_url   = xs_test_ipc_url(f->pull_dir, "pull");
	f->extra[n++] = "--pull";
	f->extra[n++] = f->pull_url;
	for (size_t i = 0; more != NULL && more[i] != NULL; i++) {
		assert_true(n < 7);
		f->extra[n++] = more[i];
	}
	f->extra[n] = NULL;
	xs_test_server_start(&f->srv, f->extra);
	return f;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	xs_test_server_fini(&f->srv);
	free(f->pull_url);
	xs_test_rmdir(f->pull_dir);
	free(f);
	return 0;
}

/* --admin-ipc-mode is the pull sockets' mode too (they write). */
static int
setup_plain(void **state)
{
	const char *const more[] = { "--admin-ipc-mode", "600", NULL };

	*state = fixture_start(more);
	return 0;
}

static int
setup_wal(void **state)
{
	const char *const more[] = { "--wal", NULL };

	*state = fixture_start(more);
	return 0;
}

static int
setup_one_connection(void **state)
{
	const char *const more[] = { "--max-connections", "1", NULL };

	*state = fixture_start(more);
	return 0;
}

/* The stats reply (caller json_decref's it). With --max-connections 1,
 * a stats connection made before the server saw the last one go waits
 * and is told "unavailable": asked again then, up to 30 s. */
static json_t *
stats_now(const char *url)
{
	for (int i = 0; i < 600; i++) {
		json_t *r = xs_test_call(url, "{\"op\":\"stats\"}");

		if (strcmp(xs_test_reply_code(r), "ok") == 0) {
			return r;
		}
		assert_string_equal(xs_test_reply_code(r), "unavailable");
		json_decref(r);
		nng_msleep(50);
	}
	fail_msg("%s", "stats was unavailable for 30 s");
	return NULL;
}

/* stats (caller json_decref's it), once stats.pull.messages is at
 * least 'messages' (every message received and dealt with: its outcome
 * is counted before it, and the store has it unless --wal is on).
 * Fails the test after 30 s. */
static json_t *
stats_after(const char *url, json_int_t messages)
{
	for (int i = 0; i < 600; i++) {
		json_t *r = stats_now(url);
		json_t *m =
		    json_object_get(json_object_get(r, "pull"), "messages");

		if (json_integer_value(m) >= messages) {
			return r;
		}
		json_decref(r);
		nng_msleep(50);
	}
	fail_msg("stats.pull.messages did not reach %lld within 30 s",
	    (long long) messages);
	return NULL;
}

/* With --wal: wait until the store has every logged write. */
static void
wal_wait_applied(const char *url)
{
	for (int i = 0; i < 600; i++) {
		json_int_t logged  = xs_test_stat(url, "wal", "logged");
		json_int_t applied = xs_test_stat(url, "wal", "applied");

		if (logged == applied) {
			return;
		}
		nng_msleep(50);
	}
	fail_msg("%s", "the log was not applied within 30 s");
}

static json_int_t
num(json_t *stats, const char *section, const char *key)
{
	json_t *v = json_object_get(json_object_get(stats, section), key);

	if (!json_is_integer(v)) {
		fail_msg("stats.%s.%s is missing", section, key);
	}
	return json_integer_value(v);
}

/* stats.connections.pull.KEY */
static json_int_t
pull_conns(json_t *stats, const char *key)
{
	json_t *c =
	    json_object_get(json_object_get(stats, "connections"), "pull");
	json_t *v = json_object_get(c, key);

	if (!json_is_integer(v)) {
		fail_msg("stats.connections.pull.%s is missing", key);
	}
	return json_integer_value(v);
}

/* Push every valid and invalid message on one connection. */
static void
push_all(nng_socket sock)
{
	size_t   big_len = (size_t) XSELL_ADMIN_MSG_MAX + 1;
	uint8_t *big     = calloc(1, big_len);

	assert_non_null(big);
	for (size_t i = 0; i < N_VALID; i++) {
		xs_test_push(sock, valid[i]);
	}
	for (size_t i = 0; i < N_INVALID; i++) {
		xs_test_push(sock, invalid[i]);
	}
	xs_test_push_raw(sock, "\xc1", 1);
	xs_test_push_raw(sock, big, big_len);
	free(big);
}

/* The store holds the valid messages' events and nothing of the invalid
 * ones. */
static void
assert_store(const struct xs_test_server *s)
{
	json_t *st = stats_now(s->read_url);
	json_t *r;

	/* o1, o2, o3; 8 events; u1..u4 (not u9); A, B, C (not Q, Z). */
	assert_int_equal(num(st, "counts", "orders"), 3);
	assert_int_equal(num(st, "counts", "events"), 8);
	assert_int_equal(num(st, "counts", "users"), 4);
	assert_int_equal(num(st, "counts", "items"), 3);
	assert_int_equal(num(st, "counts", "categories"), 0);
	/* A pull message is no request: stats.requests does not count it. */
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(json_object_get(st, "requests"), "event"),
	        "requests")),
	    0);
	json_decref(st);
	r = xs_test_call_ok(s->read_url,
	    "{\"op\":\"fbt\",\"items\":[\"A\"],\"scorer\":\"count\"}");
	assert_int_equal(json_array_size(json_object_get(r, "items")), 2);
	json_decref(r);
	/* The batch sent twice counted once; forget_user was not taken. */
	r = xs_test_call_ok(
	    s->read_url, "{\"op\":\"history\",\"user\":\"u4\"}");
	assert_int_equal(json_array_size(json_object_get(r, "events")), 2);
	json_decref(r);
	/* u1: order o1 (an event per item, A and B) and the view of C. */
	r = xs_test_call_ok(
	    s->read_url, "{\"op\":\"history\",\"user\":\"u1\"}");
	assert_int_equal(json_array_size(json_object_get(r, "events")), 3);
	json_decref(r);
}

/* Valid batches are applied, every bad one rejected whole, and each
 * counted once in stats.pull. */
static void
test_pull_applies_valid_batches_and_counts_the_rest(void **state)
{
	struct fixture *f    = *state;
	nng_socket      sock = xs_test_push_open(f->pull_url);
	struct stat     sst;
	json_t         *st;

	assert_int_equal(stat(f->pull_url + 6, &sst), 0);
	assert_int_equal(sst.st_mode & 0777, 0600);
	push_all(sock);
	st = stats_after(f->srv.read_url, N_MESSAGES);
	assert_int_equal(num(st, "pull", "messages"), N_MESSAGES);
	assert_int_equal(num(st, "pull", "applied"), N_VALID);
	assert_int_equal(num(st, "pull", "events"), 8);
	assert_int_equal(num(st, "pull", "duplicates"), 3);
	assert_int_equal(
	    num(st, "pull", "rejected"), N_INVALID + N_RAW_INVALID);
	assert_int_equal(num(st, "pull", "refused"), 0);
	assert_int_equal(num(st, "pull", "failed"), 0);
	assert_int_equal(pull_conns(st, "open"), 1);
	json_decref(st);
	assert_store(&f->srv);
	nng_close(sock);
}

/* With --wal the same messages are logged, then applied: the store ends
 * the same; events counts every event of an applied message and
 * duplicates is 0 (as an acknowledged event's reply, known only when
 * applied); the bad ones never reach the log. */
static void
test_pull_with_wal(void **state)
{
	struct fixture *f    = *state;
	nng_socket      sock = xs_test_push_open(f->pull_url);
	json_t         *st;

	push_all(sock);
	st = stats_after(f->srv.read_url, N_MESSAGES);
	assert_int_equal(num(st, "pull", "applied"), N_VALID);
	assert_int_equal(num(st, "pull", "events"), 11);
	assert_int_equal(num(st, "pull", "duplicates"), 0);
	assert_int_equal(
	    num(st, "pull", "rejected"), N_INVALID + N_RAW_INVALID);
	assert_int_equal(num(st, "pull", "failed"), 0);
	assert_int_equal(num(st, "wal", "logged"), N_VALID);
	json_decref(st);
	wal_wait_applied(f->srv.read_url);
	assert_store(&f->srv);
	nng_close(sock);
}

/* --max-connections bounds the pull connections as the others: a
 * connection past it has its messages dropped and counted in
 * stats.pull.refused, until a served one goes; then they are applied. */
static void
test_pull_drops_messages_past_the_connection_limit(void **state)
{
	struct fixture *f     = *state;
	nng_socket      first = xs_test_push_open(f->pull_url);
	nng_socket      second;
	json_t         *st;

	xs_test_push(first, valid[0]);
	/* The first is served: its message arrived. */
	json_decref(stats_after(f->srv.read_url, 1));
	second = xs_test_push_open(f->pull_url);
	xs_test_push(second, valid[1]);
	st = stats_after(f->srv.read_url, 2);
	assert_int_equal(num(st, "pull", "applied"), 1);
	assert_int_equal(num(st, "pull", "refused"), 1);
	assert_int_equal(num(st, "counts", "events"), 2);
	assert_int_equal(pull_conns(st, "open"), 1);
	assert_int_equal(pull_conns(st, "waiting"), 1);
	assert_int_equal(pull_conns(st, "refused"), 1);
	json_decref(st);
	/* The served one goes: the waiting one's next message is applied. */
	nng_close(first);
	for (int i = 0; i < 600; i++) {
		json_int_t open;

		st   = stats_now(f->srv.read_url);
		open = pull_conns(st, "open");
		json_decref(st);
		if (open == 0) {
			break;
		}
		nng_msleep(50);
	}
	xs_test_push(second, valid[1]);
	st = stats_after(f->srv.read_url, 3);
	assert_int_equal(num(st, "pull", "applied"), 2);
	assert_int_equal(num(st, "pull", "refused"), 1);
	assert_int_equal(num(st, "counts", "events"), 5);
	json_decref(st);
	nng_close(second);
}

/* --pull's usage: a bad URL, a tls+tcp:// one without the TLS files,
 * more than 16; alone it is an endpoint; --config takes it. */
static void
test_pull_usage_errors(void **state)
{
	char *dir = xs_test_tmpdir();
	char  url[4300], conf[4300];
	FILE *f;

	(void) state;
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--pull", "bogus://x", NULL }, 1,
	    "cannot listen on bogus://x");
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) {
	        "--db", dir, "--pull", "tls+tcp://127.0.0.1:0", NULL },
	    2, "a tls+tcp:// URL needs --tls-cert, --tls-key and --tls-ca");
	/* --pull alone passes the endpoint check and reaches the next. */
	snprintf(url, sizeof(url), "ipc://%s/p.sock", dir);
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) {
	        "--db", dir, "--pull", url, "--tls-cert", "c.pem", NULL },
	    2, "--tls-cert, --tls-key and --tls-ca are for tls+tcp://");
	{
		const char *args[40];
		int         n = 0;

		args[n++] = "--db";
		args[n++] = dir;
		for (int i = 0; i < 17; i++) {
			args[n++] = "--pull";
			args[n++] = url;
		}
		args[n] = NULL;
		xs_test_assert_xselld_refuses(dir, args, 2, "too many --pull");
	}
	snprintf(conf, sizeof(conf), "%s/x.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("pull bogus://y\n", f);
	fclose(f);
	xs_test_assert_xselld_refuses(dir,
	    (const char *[]) { "--db", dir, "--config", conf, NULL }, 1,
	    "cannot listen on bogus://y");
	xs_test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_pull_applies_valid_batches_and_counts_the_rest,
		    setup_plain, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pull_with_wal, setup_wal, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pull_drops_messages_past_the_connection_limit,
		    setup_one_connection, teardown),
		cmocka_unit_test(test_pull_usage_errors),
	};

	return cmocka_run_group_tests_name("pull", tests, NULL, NULL);
}
