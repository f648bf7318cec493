/* SPDX-License-Identifier: MIT */
/* xsell, the CLI, as a user runs it: the built binary run with
 * fork/exec against a real xselld on ipc://, its output, stderr and exit
 * code checked. One server per test, on a small store whose every
 * answer is worked out by hand in the comment of the test that asks.
 * Replies the real server never sends (control characters in names,
 * huge counts, a malformed "ok") come from xselld played by the test:
 * a REP socket that answers xsell's one request with a reply of the
 * test's making. */
#include "support.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#define T0 1750000000 /* 2025-06-15 15:06:40 UTC, day 20254 */
#define DAY 86400

struct fixture {
	struct xs_test_server srv;       /* first: xs_test_server_teardown */
	char                  out[8192]; /* stdout of the last run */
	char                  err[8192]; /* stderr of the last run */
};

/* The store: guest orders o1 {A,B} and o2 {A,B} and o3 {A,D} a week
 * before T0; u1 views A at T0; u2 carts E two days before T0; u4 views
 * A and orders C a minute later, three days before T0.
 *   baskets N_A 3, N_B 2, N_C 1, N_D 1; N_AB 2, N_AD 1
 *   view -> buy: a view of A led to u4's order of C (N_A 1, N_AC 1) */
static const char seed[] =
    "{\"op\":\"event\",\"events\":["
    "{\"type\":\"order\",\"order\":\"o1\",\"items\":[\"A\",\"B\"],"
    "\"ts\":1749395200},"
    "{\"type\":\"order\",\"order\":\"o2\",\"items\":[\"A\",\"B\"],"
    "\"ts\":1749395260},"
    "{\"type\":\"order\",\"order\":\"o3\",\"items\":[\"A\",\"D\"],"
    "\"ts\":1749395320},"
    "{\"type\":\"view\",\"user\":\"u1\",\"item\":\"A\",\"ts\":1750000000},"
    "{\"type\":\"cart_add\",\"user\":\"u2\",\"item\":\"E\","
    "\"ts\":1749827200},"
    "{\"type\":\"view\",\"user\":\"u4\",\"item\":\"A\",\"ts\":1749740800},"
    "{\"type\":\"order\",\"order\":\"o4\",\"user\":\"u4\","
    "\"items\":[\"C\"],\"ts\":1749740860}]}";

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	xs_test_server_start(&f->srv, NULL);
	assert_int_equal(xs_test_send_ok(f->srv.admin_url, seed), 7);
	*state = f;
	return 0;
}

/* No xselld: the test plays it (fake_start). */
static int
fake_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->srv.dir = xs_test_tmpdir();
	*state     = f;
	return 0;
}

/* ==== xselld, played by the test ==== */

struct fake {
	nng_socket  sock;
	nng_thread *thr;
	char       *url;
	void       *reply; /* packed */
	size_t      reply_len;
	int         rv; /* of the receive, then of the send */
};

static void
fake_serve(void *arg)
{
	struct fake *fk = arg;
	nng_msg     *msg;

	fk->rv = nng_recvmsg(fk->sock, &msg, 0);
	if (fk->rv == 0) {
		nng_msg_free(msg);
		fk->rv = nng_send(fk->sock, fk->reply, fk->reply_len, 0);
	}
}

/* Listen on a fresh ipc:// URL in the test's directory and answer the
 * first request with reply[0..len) (msgpack). */
static void
fake_start(struct fake *fk, struct fixture *f, const void *reply, size_t len)
{
	memset(fk, 0, sizeof(*fk));
	fk->url   = xs_test_ipc_url(f->srv.dir, "fake");
	fk->reply = malloc(len);
	assert_non_null(fk->reply);
	memcpy(fk->reply, reply, len);
	fk->reply_len = len;
	assert_int_equal(nng_rep0_open(&fk->sock), 0);
	assert_int_equal(
	    nng_socket_set_ms(fk->sock, NNG_OPT_RECVTIMEO, 60000), 0);
	assert_int_equal(nng_listen(fk->sock, fk->url, NULL, 0), 0);
	assert_int_equal(nng_thread_create(&fk->thr, fake_serve, fk), 0);
}

/* Wait for the answer to have gone, then close. */
static void
fake_stop(struct fake *fk)
{
	nng_thread_destroy(fk->thr);
	nng_close(fk->sock);
	assert_int_equal(fk->rv, 0);
	free(fk->reply);
	free(fk->url);
}

/* An xselld slow to connect: a unix socket that accepts one connection,
 * waits 'delay_ms', then speaks the SP header of a REP socket (the
 * connection is then made), reads the request's and never answers. */
struct slow {
	char       *url;
	int         fd;
	int         delay_ms;
	nng_thread *thr;
};

static void
slow_serve(void *arg)
{
	static const unsigned char rep0[8] = { 0, 'S', 'P', 0, 0, 0x31, 0, 0 };
	struct slow               *sl      = arg;
	struct pollfd              p;
	char                       buf[256];
	int                        c = accept(sl->fd, NULL, NULL);

	if (c < 0) {
		return;
	}
	nng_msleep((nng_duration) sl->delay_ms);
	if (write(c, rep0, sizeof(rep0)) == (ssize_t) sizeof(rep0)) {
		/* Until xsell hangs up (at most 30 s). */
		p.fd     = c;
		p.events = POLLIN;
		while (poll(&p, 1, 30000) == 1 &&
		    read(c, buf, sizeof(buf)) > 0) { }
	}
	close(c);
}

static void
slow_start(struct slow *sl, struct fixture *f, int delay_ms)
{
	struct sockaddr_un sa;

	memset(sl, 0, sizeof(*sl));
	memset(&sa, 0, sizeof(sa));
	sl->url       = xs_test_ipc_url(f->srv.dir, "slow");
	sl->delay_ms  = delay_ms;
	sa.sun_family = AF_UNIX;
	assert_true(strlen(sl->url + 6) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, sl->url + 6); /* after "ipc://" */
	sl->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(sl->fd >= 0);
	assert_int_equal(bind(sl->fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(sl->fd, 4), 0);
	assert_int_equal(nng_thread_create(&sl->thr, slow_serve, sl), 0);
}

static void
slow_stop(struct slow *sl)
{
	nng_thread_destroy(sl->thr);
	close(sl->fd);
	free(sl->url);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Run xsell with --url 'url' (NULL: none) and 'args' (NULL-terminated);
 * returns its exit code, with its output in f->out and f->err. Bounded:
 * the child is killed after 60 s. */
static int
run(struct fixture *f, const char *url, const char *const *args)
{
	const char *with_url[40];
	int         n = 0;

	if (url != NULL) {
		with_url[n++] = "--url";
		with_url[n++] = url;
	}
	for (int i = 0; args[i] != NULL && n < 39; i++) {
		with_url[n++] = args[i];
	}
	with_url[n] = NULL;
	return xs_test_run_tool(XS_TEST_XSELL, with_url, f->srv.dir, f->out,
	    sizeof(f->out), f->err, sizeof(f->err));
}

#define RUN(f, url, ...) \
	run((f), (url), (const char *const[]) { __VA_ARGS__, NULL })

/* run() against xselld played by the test, which answers reply[0..len)
 * (msgpack). */
static int
fake_run_raw(
    struct fixture *f, const void *reply, size_t len, const char *const *args)
{
	struct fake fk;
	int         rc;

	fake_start(&fk, f, reply, len);
	rc = run(f, fk.url, args);
	fake_stop(&fk);
	return rc;
}

/* The same with the reply given as JSON, sent as msgpack like xselld's. */
static int
fake_run(struct fixture *f, const char *json, const char *const *args)
{
	size_t len;
	void  *reply = xs_test_pack(json, &len);
	int    rc    = fake_run_raw(f, reply, len, args);

	free(reply);
	return rc;
}

#define FAKE_RUN(f, json, ...) \
	fake_run((f), (json), (const char *const[]) { __VA_ARGS__, NULL })
#define FAKE_RUN_RAW(f, reply, len, ...) \
	fake_run_raw(                    \
	    (f), (reply), (len), (const char *const[]) { __VA_ARGS__, NULL })

/* similar A over baskets, by cosine (named: the default is jaccard): B
 * 2/sqrt(3*2) = 0.816497, D 1/sqrt(3*1) = 0.57735; u1's single view and
 * u2's single cart item pair with nothing. --explain adds the co-count
 * and the three parts. */
static void
test_similar_explain(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.read_url, "similar", "A", "--scorer",
	                     "cosine", "--explain"),
	    0);
	assert_string_equal(f->out,
	    "rank  item         score   count       order        view"
	    "        cart\n"
	    "   1  B         0.816497       2      0.8165           0"
	    "           0\n"
	    "   2  D          0.57735       1      0.5774           0"
	    "           0\n");
	assert_int_equal(
	    RUN(f, f->srv.read_url, "similar", "A", "--signal", "view", "Z"),
	    0);
	assert_string_equal(f->out, "no recommendations\nunknown: Z\n");
}

/* viewed-bought A: one order followed a view of A (u4's o4, of C):
 * confidence 1/1 = 1, count 1. */
static void
test_viewed_bought(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    RUN(f, f->srv.read_url, "viewed-bought", "A", "--explain"), 0);
	assert_string_equal(f->out,
	    "rank  item         score   count\n"
	    "   1  C                1       1\n");
}

/* trending as of day 20254 (u1's view of A), half-life 7: A 3 orders 7
 * days ago * 0.5 + 0.1 (the view) = 1.6; B 2 * 0.5 = 1; C 1 order 3
 * days ago (o4 at T0 - 3 days + 60 s: day 20251), 0.5^(3/7) = 0.742997;
 * D 0.5. u4's view of A is on day 20251: + 0.1 * 0.742997 = 1.6743. */
static void
test_trending(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.read_url, "trending", "--explain"), 0);
	assert_string_equal(f->out,
	    "rank  item         score   count  source\n"
	    "   1  A           1.6743       3  trending\n"
	    "   2  B                1       2  trending\n"
	    "   3  C         0.742997       1  trending\n"
	    "   4  D              0.5       1  trending\n");
	assert_int_equal(RUN(f, f->srv.read_url, "trending", "A"), 2);
	xs_test_assert_has(f->err, "takes no ITEM");
	assert_int_equal(
	    RUN(f, f->srv.read_url, "trending", "--half-life", "0"), 2);
	xs_test_assert_has(
	    f->err, "--half-life: expected days > 0 and <= 3650");
}

/* picks u1 for_you as of T0: u1 viewed A at T0 (taste 1): A 1, and by
 * jaccard (the default similar_scorer) over baskets, N_A 3, N_B 2, N_D
 * 1, N_AB 2, N_AD 1: B 2/(3+2-2) = 0.666667, D 1/(3+1-1) = 0.333333,
 * each because of A. Momentum, 1 + 30 trend / (orders + 0.1 views +
 * 10), with the trend scores of test_trending: A 1 * (1 + 30 * 1.6743 /
 * (3 + 0.1 * 2 + 10)) = 4.80523, B 2/3 * (1 + 30 * 1 / 12) = 2.33333,
 * D 1/3 * (1 + 30 * 0.5 / 11) = 0.787879. k 4 leaves one slot to
 * trending, whose best item not listed is C (0.742997). */
static void
test_picks_for_you_explain(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.read_url, "picks", "u1", "-k", "4",
	                     "--now", "1750000000", "--explain"),
	    0);
	assert_string_equal(f->out,
	    "rank  item         score   count  source    because\n"
	    "   1  A          4.80523       0  history   A\n"
	    "   2  B          2.33333       0  history   A\n"
	    "   3  D         0.787879       0  history   A\n"
	    "   4  C         0.742997       1  trending\n");
}

/* abandoned_cart for u2 as of T0: E added 2 days ago, 0.5^(2/7) =
 * 0.820335. --json prints the reply itself. */
static void
test_picks_abandoned_cart(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.read_url, "picks", "u2", "--kind",
	                     "abandoned_cart", "--now", "1750000000"),
	    0);
	assert_string_equal(f->out,
	    "rank  item         score  source\n"
	    "   1  E         0.820335  cart\n");
	assert_int_equal(RUN(f, f->srv.read_url, "--json", "picks", "u2",
	                     "--kind", "abandoned_cart", "--min-age", "0",
	                     "--max-age", "3600", "--now", "1750000000"),
	    0);
	assert_string_equal(f->out,
	    "{\n  \"ok\": true,\n  \"items\": [],\n  \"unknown\": []\n}\n");
	/* The server names what was wrong; the exit code is 1. */
	assert_int_equal(
	    RUN(f, f->srv.read_url, "picks", "u2", "--kind", "wishlist"), 1);
	xs_test_assert_has(
	    f->err, "bad_request: kind: unknown kind 'wishlist'");
	assert_int_equal(RUN(f, f->srv.read_url, "picks", "u2", "--min-age",
	                     "7200", "--max-age", "3600"),
	    1);
	xs_test_assert_has(
	    f->err, "min_age_s: must not be more than max_age_s");
}

static void
test_picks_usage(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.read_url, "picks"), 2);
	xs_test_assert_has(f->err, "give exactly one USER");
	assert_int_equal(
	    RUN(f, f->srv.read_url, "picks", "u1", "--days", "0"), 2);
	xs_test_assert_has(f->err, "--days: expected days 1..3650, got '0'");
	assert_int_equal(
	    RUN(f, f->srv.read_url, "picks", "u1", "--context", "A,,B"), 2);
	xs_test_assert_has(f->err, "--context: ids must be 1..256 bytes");
	assert_int_equal(
	    RUN(f, f->srv.read_url, "picks", "u1", "--now", "x"), 2);
}

/* history u4: the order of C (T0 - 3 days + 60 s, 2025-06-12 15:07:40
 * UTC), then the view of A a minute before. */
static void
test_history(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.read_url, "history", "u4"), 0);
	assert_string_equal(f->out,
	    "time (UTC)           type         item\n"
	    "2025-06-12 15:07:40  order        C\n"
	    "2025-06-12 15:06:40  view         A\n");
	assert_int_equal(
	    RUN(f, f->srv.read_url, "history", "u4", "--limit", "1"), 0);
	assert_string_equal(f->out,
	    "time (UTC)           type         item\n"
	    "2025-06-12 15:07:40  order        C\n");
	assert_int_equal(RUN(f, f->srv.read_url, "history", "nobody"), 0);
	assert_string_equal(f->out, "unknown user nobody: no history\n");
	assert_int_equal(
	    RUN(f, f->srv.read_url, "history", "u4", "--limit", "1001"), 2);
}

/* forget u4 (2 events, 1 order): afterwards no view led to an order,
 * and u4 has no history. A read endpoint refuses it; a second forget
 * finds nobody. */
static void
test_forget(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.read_url, "forget", "u4"), 1);
	xs_test_assert_has(f->err, "forbidden");
	xs_test_assert_has(f->err, "is a read endpoint");
	assert_int_equal(RUN(f, f->srv.admin_url, "forget", "u4"), 0);
	assert_string_equal(f->out, "forgotten: 2 events, 1 orders\n");
	assert_int_equal(RUN(f, f->srv.admin_url, "forget", "u4"), 0);
	assert_string_equal(f->out, "unknown user: nothing to forget\n");
	assert_int_equal(RUN(f, f->srv.read_url, "viewed-bought", "A"), 0);
	assert_string_equal(f->out, "no recommendations\n");
	assert_int_equal(RUN(f, f->srv.read_url, "history", "u4"), 0);
	assert_string_equal(f->out, "unknown user u4: no history\n");
}

/* A section of stats this xsell does not know is shown under its name
 * as the server spells it, escaped like every text from the server (an
 * ESC would start a terminal sequence) and not cut short. */
static void
test_stats_unknown_section_escaped(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(FAKE_RUN(f,
	                     "{\"ok\":true,\"version\":\"1\","
	                     "\"\\u001b]0;owned\\u0007x\":{\"a\":1},"
	                     "\"section_0123456789012345678901234567890123"
	                     "45678901234567890123456789ab\":{\"b\":2}}",
	                     "stats"),
	    0);
	xs_test_assert_has(f->out, "\n\\x1b]0;owned\\x07x\n  a  ");
	xs_test_assert_has(f->out,
	    "\nsection_0123456789012345678901234567890123456789012345678901"
	    "23456789ab\n  b  ");
	assert_null(strchr(f->out, 0x1b));
	assert_null(strchr(f->out, 0x07));
}

/* A section's maps (connections.read, connections.admin) are shown
 * entry by entry, each level indented two more, values in the column of
 * the other sections'; four levels deep, a map is "...". */
static void
test_stats_nested_maps(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(FAKE_RUN(f,
	                     "{\"ok\":true,\"version\":\"1\","
	                     "\"connections\":{\"read\":{\"open\":2,"
	                     "\"max\":64},\"admin\":{\"open\":1}},"
	                     "\"deep\":{\"a\":{\"b\":{\"c\":{\"d\":"
	                     "{\"e\":1}},\"x\":3}}}}",
	                     "stats"),
	    0);
	assert_string_equal(f->out,
	    "version             1\n"
	    "connections\n"
	    "  read\n"
	    "    open                         2\n"
	    "    max                         64\n"
	    "  admin\n"
	    "    open                         1\n"
	    "deep\n"
	    "  a\n"
	    "    b\n"
	    "      c\n"
	    "        d                      ...\n"
	    "      x                          3\n");
}

/* C1 control characters (U+0080..U+009F; U+009B is CSI, which starts
 * a terminal sequence like ESC [) are escaped like C0 ones, as the two
 * bytes of their UTF-8 form, and so is a byte 0x80..0x9F outside any
 * UTF-8 character (a C1 control to an 8-bit terminal); other UTF-8 (the
 * e acute) is printed as is, one column a character. The reply is raw
 * msgpack, as JSON cannot hold the lone byte: items A<U+009B>31mB<e
 * acute> and C<0x9B>D, unknown <U+0085>x. The item column is as wide as
 * the first id escaped: 1 + 8 + 4 + 1 = 14. */
static void
test_text_c1_escaped(void **state)
{
	struct fixture   *f       = *state;
	static const char reply[] = "\x83\xa2ok\xc3\xa5items\x92"
	                            "\x82\xa4item\xa9"
	                            "A\xc2\x9b"
	                            "31mB\xc3\xa9"
	                            "\xa5score\x01"
	                            "\x82\xa4item\xa3"
	                            "C\x9b"
	                            "D\xa5score\x01"
	                            "\xa7unknown\x91\xa3\xc2\x85x";

	assert_int_equal(
	    FAKE_RUN_RAW(f, reply, sizeof(reply) - 1, "similar", "A"), 0);
	assert_string_equal(f->out,
	    "rank  item                   score\n"
	    "   1  A\\xc2\\x9b31mB\xc3\xa9             1\n"
	    "   2  C\\x9bD                     1\n"
	    "unknown: \\xc2\\x85x\n");
}

/* Counts are printed as the integers the server sent, all their digits:
 * 2^53 + 1 = 9007199254740993 went through a double and came out
 * ...992. Uptime 9007199254740993 s is 104249991374 days, 7 h 36 min
 * 33 s (9007199254740993 = 104249991374 * 86400 + 27393, 27393 = 7 *
 * 3600 + 36 * 60 + 33). A time far outside any date (1e300, a float)
 * is "-", not the wrapped value of a cast out of range. */
static void
test_counts_exact(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(FAKE_RUN(f,
	                     "{\"ok\":true,\"version\":\"1\","
	                     "\"uptime_s\":9007199254740993,\"requests\":{"
	                     "\"fbt\":{\"requests\":9007199254740993,"
	                     "\"errors\":9007199254740995}}}",
	                     "stats"),
	    0);
	assert_string_equal(f->out,
	    "version             1\n"
	    "uptime              104249991374d 7h 36m 33s\n"
	    "requests                  requests    errors\n"
	    "  fbt               9007199254740993  9007199254740995\n");
	assert_int_equal(FAKE_RUN(f,
	                     "{\"ok\":true,\"items\":[{\"item\":\"A\","
	                     "\"score\":1,\"count\":9007199254740993}]}",
	                     "fbt", "A", "--explain"),
	    0);
	assert_string_equal(f->out,
	    "rank  item         score   count\n"
	    "   1  A                1  9007199254740993\n");
	assert_int_equal(FAKE_RUN(f,
	                     "{\"ok\":true,\"forgotten\":true,"
	                     "\"events\":9007199254740993,"
	                     "\"orders\":9007199254740995}",
	                     "forget", "u1"),
	    0);
	assert_string_equal(f->out,
	    "forgotten: 9007199254740993 events, 9007199254740995 orders\n");
	assert_int_equal(FAKE_RUN(f,
	                     "{\"ok\":true,\"applied\":9007199254740993,"
	                     "\"duplicates\":9007199254740995}",
	                     "item", "A"),
	    0);
	assert_string_equal(
	    f->out, "applied 9007199254740993, duplicates 9007199254740995\n");
	assert_int_equal(FAKE_RUN(f,
	                     "{\"ok\":true,\"user\":\"u1\",\"known\":true,"
	                     "\"events\":[{\"ts\":1e300,\"type\":\"view\","
	                     "\"item\":\"A\"}]}",
	                     "history", "u1"),
	    0);
	assert_string_equal(f->out,
	    "time (UTC)           type         item\n"
	    "                  -  view         A\n");
}

/* A reply whose "ok" is there but not a boolean is malformed, and the
 * message says so instead of that there is no "ok". */
static void
test_ok_not_boolean(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(FAKE_RUN(f, "{\"ok\":1}", "stats"), 1);
	assert_string_equal(
	    f->err, "xsell: malformed reply: \"ok\" is not true or false\n");
	assert_int_equal(FAKE_RUN(f, "{\"ok\":\"true\"}", "stats"), 1);
	assert_string_equal(
	    f->err, "xsell: malformed reply: \"ok\" is not true or false\n");
	assert_int_equal(FAKE_RUN(f, "{\"version\":\"1\"}", "stats"), 1);
	assert_string_equal(
	    f->err, "xsell: malformed reply: no \"ok\" field\n");
}

/* --json escapes C1 controls too, as \u0080..\u009f: the UTF-8 of
 * U+009B is valid JSON, but a terminal would take it for CSI (ESC [) as
 * the human form's test above shows. Other UTF-8 (e acute, U+00A0) is
 * printed as is. The reply: items A<U+009B>31mB<e acute>, and a field
 * c<U+0085>t of <U+0080>x<U+009F><U+00A0>. */
static void
test_json_c1_escaped(void **state)
{
	struct fixture   *f       = *state;
	static const char reply[] = "\x83\xa2ok\xc3\xa5items\x91"
	                            "\x82\xa4item\xa9"
	                            "A\xc2\x9b"
	                            "31mB\xc3\xa9"
	                            "\xa5score\x01"
	                            "\xa4"
	                            "c\xc2\x85t\xa7\xc2\x80x\xc2\x9f\xc2\xa0";

	assert_int_equal(FAKE_RUN_RAW(f, reply, sizeof(reply) - 1, "--json",
	                     "similar", "A"),
	    0);
	assert_string_equal(f->out,
	    "{\n"
	    "  \"ok\": true,\n"
	    "  \"items\": [\n"
	    "    {\n"
	    "      \"item\": \"A\\u009b31mB\xc3\xa9\",\n"
	    "      \"score\": 1\n"
	    "    }\n"
	    "  ],\n"
	    "  \"c\\u0085t\": \"\\u0080x\\u009f\xc2\xa0\"\n"
	    "}\n");
}

/* --timeout bounds the whole command: a server that takes 2.25 s of the
 * 3 s to connect leaves the request 0.75 s for its reply, so xsell gives
 * up after about 3 s, not 2.25 + 3 (the dial and the call each had the
 * whole timeout). The bound leaves 1.5 s to start xsell (under
 * $XSELL_TEST_WRAP too). */
static void
test_timeout_is_total(void **state)
{
	struct fixture *f = *state;
	struct slow     sl;
	uint64_t        t0, dt;
	int             rc;

	slow_start(&sl, f, 2250);
	t0 = now_ms();
	rc = RUN(f, sl.url, "--timeout", "3000", "stats");
	dt = now_ms() - t0;
	slow_stop(&sl);
	assert_int_equal(rc, 3);
	xs_test_assert_has(f->err, "sent, but no reply within 3000 ms");
	if (dt < 2900 || dt > 4500) {
		fail_msg("xsell gave up after %llu ms, not about 3000",
		    (unsigned long long) dt);
	}
}

/* --beta is a plain decimal number 0..2, read as strictly as every
 * other number option: no hex, no leading space. */
static void
test_beta_strict(void **state)
{
	struct fixture   *f      = *state;
	const char *const bad[]  = { "0x1", " 1", "0x1p-1", "1 ", "+1", "" };
	const char *const good[] = { "0", "0.5", "2", "1e-1", ".25" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(RUN(f, f->srv.read_url, "complements", "A",
		                     "--beta", bad[i]),
		    2);
		xs_test_assert_has(f->err, "--beta: expected a number 0..2");
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(RUN(f, f->srv.read_url, "complements", "A",
		                     "--beta", good[i]),
		    0);
	}
}

/* An item has one category: a second --category is a usage error, like
 * any other option given twice, and nothing is sent. The list commands'
 * --category is a filter that takes several, one per option. */
static void
test_item_category_twice(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, f->srv.admin_url, "item", "A", "--category",
	                     "dairy", "--category", "bakery"),
	    2);
	xs_test_assert_has(f->err, "--category given twice");
	assert_int_equal(RUN(f, f->srv.admin_url, "item", "A", "--price", "1",
	                     "--price", "2"),
	    2);
	xs_test_assert_has(f->err, "--price given twice");
	assert_int_equal(
	    RUN(f, f->srv.admin_url, "item", "A", "--category", "dairy"), 0);
	assert_string_equal(f->out, "applied 1\n");
	assert_int_equal(RUN(f, f->srv.read_url, "trending", "--category",
	                     "dairy", "--category", "bakery"),
	    0);
	xs_test_assert_has(f->out, "\n   1  A ");
	assert_null(strstr(f->out, "  B "));
}

/* The common options are single-valued too: one given twice, before the
 * command, after it or once each side, is a usage error, where the last
 * was kept unsaid (the second --url here would be used, and work). The
 * message is a command option's, from main ("xsell: ") or the command.
 * A --tls-* option is refused as repeated, not for the ipc:// URL. */
static void
test_common_option_twice(void **state)
{
	struct fixture *f   = *state;
	const char     *url = f->srv.read_url;

	assert_int_equal(RUN(f, url, "--url", url, "stats"), 2);
	xs_test_assert_has(
	    f->err, "xsell: --url given twice\nTry 'xsell --help'.\n");
	assert_int_equal(RUN(f, url, "stats", "--url=ipc:///nowhere"), 2);
	xs_test_assert_has(f->err,
	    "xsell stats: --url given twice\nTry 'xsell stats --help'.\n");
	assert_int_equal(
	    RUN(f, url, "--timeout", "1000", "--timeout=2000", "stats"), 2);
	xs_test_assert_has(f->err, "xsell: --timeout given twice");
	assert_int_equal(
	    RUN(f, url, "--timeout", "1000", "stats", "--timeout", "2000"), 2);
	xs_test_assert_has(f->err, "xsell stats: --timeout given twice");
	assert_int_equal(RUN(f, url, "--json", "stats", "--json"), 2);
	xs_test_assert_has(f->err, "xsell stats: --json given twice");
	assert_int_equal(
	    RUN(f, url, "--tls-ca", "a.pem", "--tls-ca=b.pem", "stats"), 2);
	xs_test_assert_has(f->err, "xsell: --tls-ca given twice");
	assert_int_equal(RUN(f, url, "--tls-server-name", "a", "stats",
	                     "--tls-server-name", "b"),
	    2);
	xs_test_assert_has(
	    f->err, "xsell stats: --tls-server-name given twice");
	assert_string_equal(f->out, "");

	/* Once each, on either side, is still fine. */
	assert_int_equal(
	    RUN(f, url, "--timeout", "2000", "history", "u1", "--json"), 0);
	xs_test_assert_has(f->out, "\"ok\": true");
}

/* Every new command documents itself; the main help lists them. */
static void
test_help(void **state)
{
	struct fixture   *f      = *state;
	const char *const cmds[] = { "similar", "viewed-bought", "trending",
		"picks", "history", "forget" };
	char              usage[64];

	assert_int_equal(RUN(f, NULL, "--help"), 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(usage, sizeof(usage), "\n  %s ", cmds[i]);
		xs_test_assert_has(f->out, usage);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(RUN(f, NULL, cmds[i], "--help"), 0);
		snprintf(usage, sizeof(usage), "Usage: xsell %s ", cmds[i]);
		xs_test_assert_has(f->out, usage);
	}
}

int
main(void)
{
#define T(name) \
	cmocka_unit_test_setup_teardown(name, setup, xs_test_server_teardown)
#define F(name)                          \
	cmocka_unit_test_setup_teardown( \
	    name, fake_setup, xs_test_server_teardown)
	const struct CMUnitTest tests[] = {
		T(test_similar_explain),
		T(test_viewed_bought),
		T(test_trending),
		T(test_picks_for_you_explain),
		T(test_picks_abandoned_cart),
		T(test_picks_usage),
		T(test_history),
		T(test_forget),
		T(test_help),
		T(test_beta_strict),
		T(test_item_category_twice),
		T(test_common_option_twice),
		F(test_stats_unknown_section_escaped),
		F(test_timeout_is_total),
		F(test_stats_nested_maps),
		F(test_text_c1_escaped),
		F(test_json_c1_escaped),
		F(test_counts_exact),
		F(test_ok_not_boolean),
	};
#undef T
#undef F

	return cmocka_run_group_tests(tests, NULL, NULL);
}
