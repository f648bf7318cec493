/* SPDX-License-Identifier: MIT */
/* The gateway's answer to a write when xselld is slow or goes away, as an
 * HTTP client sees it. The test plays xselld: two REP sockets on ipc://
 * that take the gateway's requests and answer them (or not) when the
 * test says, so every timing is the test's own. A write's error reply
 * must never tell a client "nothing changed, retry" (503) when xselld
 * may have applied it (proto/HTTP.md, errors.md). */
#include "support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include "gateway/gateway.h"

/* The gateway's --timeout here, milliseconds: short, so that a reply
 * well past it is quick to wait for. */
#define TIMEOUT_MS 300

#define EVENT_BODY                                                        \
	"{\"events\":[{\"type\":\"view\",\"user\":\"u1\",\"item\":\"A\"," \
	"\"ts\":1700000000}]}"

struct fx {
	char             *dir;
	char             *read_url;
	char             *admin_url;
	nng_socket        read;  /* xselld's read endpoint, played here */
	nng_socket        admin; /* xselld's admin endpoint, played here */
	bool              admin_closed;
	struct xs_gw_opts o;
	xs_gw            *gw;
};

/* ==== xselld, played by the test ==== */

static void
endpoint_open(nng_socket *sock, const char *url)
{
	assert_int_equal(nng_rep0_open(sock), 0);
	assert_int_equal(nng_socket_set_ms(*sock, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_listen(*sock, url, NULL, 0), 0);
}

/* Take the next request the gateway sends to 'sock' (within 5 s) and
 * drop it: what it holds is the gateway's JSON translation, tested
 * elsewhere. */
static void
request_take(nng_socket sock)
{
	nng_msg *msg;
	int      rv = nng_recvmsg(sock, &msg, 0);

	if (rv != 0) {
		fail_msg("no request reached xselld: %s", nng_strerror(rv));
	}
	nng_msg_free(msg);
}

/* Fails the test if the gateway sends 'sock' another request within
 * 'ms': a request is never resent. */
static void
request_none(nng_socket sock, int ms)
{
	nng_msg *msg;

	assert_int_equal(nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, ms), 0);
	if (nng_recvmsg(sock, &msg, 0) == 0) {
		nng_msg_free(msg);
		fail_msg("the gateway sent the request again");
	}
}

/* Answer the request taken last on 'sock' as xselld answers an applied
 * write: {"ok":true,"applied":1,"duplicates":0}. */
static void
reply_applied(nng_socket sock)
{
	msgpack_sbuffer sb;
	msgpack_packer  pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "ok", 2);
	msgpack_pack_true(&pk);
	msgpack_pack_str_with_body(&pk, "applied", 7);
	msgpack_pack_uint32(&pk, 1);
	msgpack_pack_str_with_body(&pk, "duplicates", 10);
	msgpack_pack_uint32(&pk, 0);
	assert_int_equal(nng_send(sock, sb.data, sb.size, 0), 0);
	msgpack_sbuffer_destroy(&sb);
}

/* ==== An HTTP client ==== */

/* Send one request with 'body' (NULL: none) to 127.0.0.1:'port' on a new
 * connection; returns the connection, to read the response from. */
static int
http_send(int port, const char *method, const char *path, const char *body)
{
	struct sockaddr_in sa = { 0 };
	char               head[256];
	int                fd   = socket(AF_INET, SOCK_STREAM, 0);
	size_t             blen = body != NULL ? strlen(body) : 0;
	int                n;

	assert_true(fd >= 0);
	sa.sin_family      = AF_INET;
	sa.sin_port        = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	n = snprintf(head, sizeof(head),
	    "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    method, path, blen);
	assert_true(n > 0 && (size_t) n < sizeof(head));
	assert_int_equal(write(fd, head, (size_t) n), n);
	if (blen > 0) {
		assert_int_equal(write(fd, body, blen), (ssize_t) blen);
	}
	return fd;
}

/* Read the response on 'fd' until the server closes it (at most 'ms'),
 * then close 'fd'. Returns the status; the body goes to body[0..len),
 * NUL-terminated. Fails the test if no whole response comes in time. */
static int
http_response(int fd, int ms, char *body, size_t len)
{
	char          buf[4096];
	size_t        got = 0;
	struct pollfd p   = { .fd = fd, .events = POLLIN };
	nng_time      end = nng_clock() + (nng_time) ms;
	const char   *sep;
	int           status;

	while (got < sizeof(buf) - 1) {
		nng_time now = nng_clock();
		ssize_t  n;

		if (now >= end || poll(&p, 1, (int) (end - now)) != 1) {
			close(fd);
			fail_msg("no whole HTTP response within %d ms", ms);
		}
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0) {
			break;
		}
		got += (size_t) n;
	}
	close(fd);
	buf[got] = '\0';
	sep      = strstr(buf, "\r\n\r\n");
	if (sep == NULL || sscanf(buf, "HTTP/1.1 %d", &status) != 1) {
		fail_msg("not an HTTP response: '%s'", buf);
	}
	snprintf(body, len, "%s", sep + 4);
	return status;
}

/* ==== Fixture ==== */

/* The gateway in front of xselld's endpoints played here; the admin
 * one only if 'admin' (else nothing ever listens there). */
static int
setup_with(void **state, bool admin, unsigned pool)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir       = xs_test_tmpdir();
	f->read_url  = xs_test_ipc_url(f->dir, "read");
	f->admin_url = xs_test_ipc_url(f->dir, "admin");
	endpoint_open(&f->read, f->read_url);
	if (admin) {
		endpoint_open(&f->admin, f->admin_url);
	}
	f->admin_closed = !admin;
	xs_gw_opts_default(&f->o);
	f->o.http           = "127.0.0.1:0";
	f->o.http_admin     = "127.0.0.1:0";
	f->o.upstream       = f->read_url;
	f->o.admin_upstream = f->admin_url;
	f->o.timeout_ms     = TIMEOUT_MS;
	f->o.pool           = pool;
	assert_xs_ok(xs_gw_open(&f->gw, &f->o));
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, true, XS_GW_POOL_DEFAULT);
}

static int
setup_no_admin(void **state)
{
	return setup_with(state, false, XS_GW_POOL_DEFAULT);
}

/* One context per upstream: a second request waits for the first. */
static int
setup_pool_one(void **state)
{
	return setup_with(state, true, 1);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	xs_gw_close(f->gw);
	nng_close(f->read);
	if (!f->admin_closed) {
		nng_close(f->admin);
	}
	free(f->read_url);
	free(f->admin_url);
	xs_test_rmdir(f->dir);
	free(f);
	return 0;
}

/* ==== Tests ==== */

/* xselld takes longer than --timeout to commit a write: the client gets
 * xselld's own reply, not a 503 that would have it send the batch again
 * (a batch without a "batch" id would then count twice). */
static void
test_gateway_write_waits_for_its_reply(void **state)
{
	struct fx *f = *state;
	char       body[1024];
	int        fd;

	fd = http_send(
	    xs_gw_port(f->gw, true), "POST", "/v1/event", EVENT_BODY);
	request_take(f->admin);
	nng_msleep(3 * TIMEOUT_MS); /* xselld still committing */
	reply_applied(f->admin);
	assert_int_equal(http_response(fd, 10000, body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"applied\":1"));
	request_none(f->admin, 200);
}

/* The connection to xselld breaks after the write was sent: xselld may
 * have applied it, so the answer says the outcome is unknown (504), at
 * once, rather than "unavailable" (503: nothing changed, retry). */
static void
test_gateway_write_outcome_unknown_when_connection_breaks(void **state)
{
	struct fx *f = *state;
	char       body[1024];
	int        fd;

	fd = http_send(
	    xs_gw_port(f->gw, true), "POST", "/v1/event", EVENT_BODY);
	request_take(f->admin);
	nng_close(f->admin);
	f->admin_closed = true;
	assert_int_equal(http_response(fd, 5000, body, sizeof(body)), 504);
	assert_non_null(strstr(body, "\"code\":\"outcome_unknown\""));
}

/* A write that never reached xselld (nothing ever listened: a closed
 * endpoint the gateway had not yet seen go would take it) is 503
 * "unavailable" after --timeout: nothing changed, and a retry is
 * safe. */
static void
test_gateway_write_not_sent_is_unavailable(void **state)
{
	struct fx *f = *state;
	char       body[1024];
	int        fd;

	fd = http_send(
	    xs_gw_port(f->gw, true), "POST", "/v1/event", EVENT_BODY);
	assert_int_equal(http_response(fd, 5000, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "\"code\":\"unavailable\""));
}

/* A read changes nothing: past --timeout it is 503 "unavailable", to be
 * retried, whether or not xselld got it. */
static void
test_gateway_read_past_timeout_is_unavailable(void **state)
{
	struct fx *f = *state;
	char       body[1024];
	int        fd;

	fd = http_send(xs_gw_port(f->gw, false), "GET", "/v1/stats", NULL);
	request_take(f->read);
	assert_int_equal(http_response(fd, 5000, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "\"code\":\"unavailable\""));
}

/* Every context is busy with a write xselld has not answered yet (it may
 * take minutes): a write waiting for a context is not sent within
 * --timeout, so it is 503 "unavailable" then, as HTTP.md promises, and
 * is never sent later. It waited for the first write's reply, up to 10
 * minutes. */
static void
test_gateway_write_waiting_for_context_is_unavailable(void **state)
{
	struct fx *f = *state;
	char       body[1024];
	int        fd1, fd2;

	fd1 = http_send(
	    xs_gw_port(f->gw, true), "POST", "/v1/event", EVENT_BODY);
	request_take(f->admin); /* the one context is busy */
	fd2 = http_send(
	    xs_gw_port(f->gw, true), "POST", "/v1/event", EVENT_BODY);
	assert_int_equal(
	    http_response(fd2, 10 * TIMEOUT_MS, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "\"code\":\"unavailable\""));
	reply_applied(f->admin);
	assert_int_equal(http_response(fd1, 5000, body, sizeof(body)), 200);
	request_none(f->admin, 200); /* the refused write was not sent */
}

/* The gateway's own errors echo the request's id, as xselld's replies
 * do (PROTOCOL.md): the client that most needs to match an answer to
 * what it sent is the one told a write's outcome is unknown. A read
 * unanswered (503, a GET's id), then a write whose connection broke
 * (504, an id of any type). */
static void
test_gateway_own_errors_echo_the_id(void **state)
{
	struct fx *f = *state;
	char       body[1024];
	int        fd;

	fd = http_send(
	    xs_gw_port(f->gw, false), "GET", "/v1/stats?id=r-7", NULL);
	request_take(f->read);
	assert_int_equal(http_response(fd, 5000, body, sizeof(body)), 503);
	xs_test_assert_has(body,
	    "{\"ok\":false,\"id\":\"r-7\",\"error\":{\"code\":"
	    "\"unavailable\",");
	fd = http_send(xs_gw_port(f->gw, true), "POST", "/v1/event",
	    "{\"id\":{\"n\":[7,0.1]},\"events\":[{\"type\":\"view\","
	    "\"user\":\"u1\",\"item\":\"A\"}]}");
	request_take(f->admin);
	nng_close(f->admin);
	f->admin_closed = true;
	assert_int_equal(http_response(fd, 5000, body, sizeof(body)), 504);
	xs_test_assert_has(body,
	    "{\"ok\":false,\"id\":{\"n\":[7,0.1]},\"error\":{\"code\":"
	    "\"outcome_unknown\",");
}

struct closer {
	xs_gw      *gw;
	atomic_bool done;
};

static void
close_thread(void *arg)
{
	struct closer *c = arg;

	xs_gw_close(c->gw);
	atomic_store(&c->done, true);
}

/* The gateway stops (SIGTERM) while xselld has not answered a write
 * yet: the stop is bounded as gateway.h says (--timeout and 1 s for the
 * requests in flight, then what is left fails), and the write's client
 * is told nothing that says "nothing changed" (no 503): a 504
 * outcome_unknown, or a closed connection. The stop waited for the
 * write's reply, up to 10 minutes. */
static void
test_gateway_close_with_write_in_flight(void **state)
{
	struct fx    *f = *state;
	struct closer c = { .gw = f->gw };
	nng_thread   *t;
	nng_time      end;
	char          buf[4096];
	size_t        got = 0;
	struct pollfd p;
	bool          done;
	int           fd;

	fd = http_send(
	    xs_gw_port(f->gw, true), "POST", "/v1/event", EVENT_BODY);
	request_take(f->admin); /* and never answered in time */
	f->gw = NULL;           /* closed here, not by teardown */
	atomic_init(&c.done, false);
	assert_int_equal(nng_thread_create(&t, close_thread, &c), 0);
	end = nng_clock() + TIMEOUT_MS + 1000 + 3000;
	while (!atomic_load(&c.done) && nng_clock() < end) {
		nng_msleep(10);
	}
	done = atomic_load(&c.done);
	if (!done) {
		reply_applied(f->admin); /* let the close end */
	}
	nng_thread_destroy(t);
	if (!done) {
		close(fd);
		fail_msg("xs_gw_close still waiting for a write's reply "
		         "%d ms after it began",
		    TIMEOUT_MS + 1000 + 3000);
	}
	p.fd     = fd;
	p.events = POLLIN;
	while (got < sizeof(buf) - 1 && poll(&p, 1, 5000) == 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0) {
			break;
		}
		got += (size_t) n;
	}
	close(fd);
	buf[got] = '\0';
	if (got > 0 &&
	    (strncmp(buf, "HTTP/1.1 504 ", 13) != 0 ||
	        strstr(buf, "\"outcome_unknown\"") == NULL)) {
		fail_msg("a write cut by the stop was answered '%s'", buf);
	}
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_gateway_write_waits_for_its_reply),
		T(test_gateway_write_outcome_unknown_when_connection_breaks),
		cmocka_unit_test_setup_teardown(
		    test_gateway_write_not_sent_is_unavailable, setup_no_admin,
		    teardown),
		T(test_gateway_read_past_timeout_is_unavailable),
		cmocka_unit_test_setup_teardown(
		    test_gateway_write_waiting_for_context_is_unavailable,
		    setup_pool_one, teardown),
		T(test_gateway_close_with_write_in_flight),
		T(test_gateway_own_errors_echo_the_id),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name(
	    "gateway_writes", tests, NULL, NULL);
}
