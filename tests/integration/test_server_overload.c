/* SPDX-License-Identifier: MIT */
/* Slow and greedy clients against a real xselld on 127.0.0.1, bounded in
 * count and time: greedy connections that pipeline thousands of
 * requests and never read a reply, 200 REQ sockets that send and never
 * read, far past --max-connections, and probes that do read. Meanwhile a
 * client connected before the flood still gets right answers, the
 * server's resident memory stays under a generous bound, and it does
 * not crash; after the flood a new client is served as before and every
 * connection of the flood is torn down. A second test takes the limit
 * one connection at a time: past it a client hears "unavailable" for
 * each request, and is served once a served one goes; a third fills the
 * 64 places to wait, and finds the next connection refused until one
 * of them goes. No timing is asserted beyond generous timeouts. */
#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include <xsell/client.h>

#define MAX_CONNECTIONS 50
#define N_FLOOD 200 /* REQ sockets that send and never read */
#define N_PROBES 10 /* sockets past the limit that do read */
#define PROBE_TIMEOUT_MS 1000
#define N_GREEDY 4 /* raw connections that pipeline, never read */
/* Each asks for a 1000-event history, a reply of about 30 KiB: 4000 of
 * them are far more than loopback's socket buffers hold (Linux grows a
 * receive buffer up to tcp_rmem's 32 MiB), so the connection stalls and
 * the server mutes it. */
#define GREEDY_REQUESTS 4000
#define HISTORY_EVENTS 1000
#define GOOD_CALLS 20
#define CALL_TIMEOUT_MS 30000
#define SMALL_LIMIT 2 /* --max-connections of the second test */
/* Connections that may wait past the limit (xselld(1), OVERLOAD). */
#define WAITING_MAX 64
/* How long the connection past those waits for a reply that must not
 * come: nng's dialer is refused again every 100 ms meanwhile. */
#define REFUSED_TIMEOUT_MS 1500
/* Resident memory xselld may gain during the flood. The requests are
 * tiny; what is held is at most one per connection (nng reads one at a
 * time), 114 connections at most (50 served, 64 waiting). ASan keeps
 * freed memory in quarantine (256 MiB by default), so its bound is
 * larger. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_GROWTH_MAX_KB (768 * 1024)
#else
#define RSS_GROWTH_MAX_KB (64 * 1024)
#endif

struct fixture {
	struct xs_test_server srv; /* first: xs_test_server_teardown */
	int                   port;
	char                  tcp_url[64];
	char                  max_arg[16];
	const char           *extra[9];
};

/* VmRSS of 'pid' in KiB, from /proc. */
static long
rss_kb(pid_t pid)
{
	char  path[64], line[256];
	long  kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	assert_true(kb > 0);
	return kb;
}

/* Descriptors 'pid' has open, from /proc. */
static int
open_fds(pid_t pid)
{
	char           path[64];
	DIR           *d;
	struct dirent *de;
	int            n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		n += de->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

/* True once 'pid' has at most 'max' descriptors open; false if it
 * still has more after 30 s (connections end asynchronously). */
static bool
wait_fds_at_most(pid_t pid, int max)
{
	for (int i = 0; i < 300; i++) {
		if (open_fds(pid) <= max) {
			return true;
		}
		nng_msleep(100);
	}
	print_message("xselld still has %d descriptors open, %d allowed\n",
	    open_fds(pid), max);
	return false;
}

static void
assert_server_alive(struct fixture *f)
{
	int status;

	assert_int_equal(waitpid(f->srv.pid, &status, WNOHANG), 0);
}

/* User "g" viewed HISTORY_EVENTS items, one a second. */
static void
user_with_long_history(const char *admin_url)
{
	size_t cap = 64 + HISTORY_EVENTS * 64, o;
	char  *req = malloc(cap);

	assert_non_null(req);
	o = (size_t) snprintf(req, cap, "{\"op\":\"event\",\"events\":[");
	for (int i = 0; i < HISTORY_EVENTS; i++) {
		o += (size_t) snprintf(req + o, cap - o,
		    "%s{\"type\":\"view\",\"user\":\"g\",\"item\":\"I%d\","
		    "\"ts\":%d}",
		    i ? "," : "", i, 1000000 + i);
	}
	snprintf(req + o, cap - o, "]}");
	xs_test_send_ok(admin_url, req);
	free(req);
}

/* xselld on 127.0.0.1 with at most 'max_connections' served per kind of
 * endpoint, a user "g" with a long history and three orders. */
static int
setup_with_limit(void **state, int max_connections)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->port = xs_test_free_port();
	snprintf(
	    f->tcp_url, sizeof(f->tcp_url), "tcp://127.0.0.1:%d", f->port);
	snprintf(f->max_arg, sizeof(f->max_arg), "%d", max_connections);
	f->extra[0] = "--listen";
	f->extra[1] = f->tcp_url;
	f->extra[2] = "--max-connections";
	f->extra[3] = f->max_arg;
	f->extra[4] = "--threads";
	f->extra[5] = "2";
	f->extra[6] = "--history-max";
	f->extra[7] = "1000";
	xs_test_server_start(&f->srv, f->extra);
	user_with_long_history(f->srv.admin_url);
	/* A and B in two orders, A and C in one: fbt of A by count is
	 * "B:2 C:1". */
	xs_test_send_ok(f->srv.admin_url,
	    "{\"op\":\"event\",\"events\":["
	    "{\"type\":\"order\",\"order\":\"o1\",\"items\":[\"A\",\"B\"]},"
	    "{\"type\":\"order\",\"order\":\"o2\",\"items\":[\"A\",\"B\"]},"
	    "{\"type\":\"order\",\"order\":\"o3\",\"items\":[\"A\",\"C\"]}"
	    "]}");
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_with_limit(state, MAX_CONNECTIONS);
}

static int
setup_small(void **state)
{
	return setup_with_limit(state, SMALL_LIMIT);
}

/* ==== Requests ==== */

static const char fbt_a[] = "\x83\xa2op\xa3"
                            "fbt\xa5items\x91\xa1"
                            "A\xa6scorer\xa5"
                            "count";
/* {"op":"history","user":"g","limit":1000} */
static const char history_req[] = "\x83\xa2op\xa7history\xa4user\xa1g"
                                  "\xa5limit\xcd\x03\xe8";

/* "B:2 C:1" from an fbt reply, or the error code. */
static void
render_reply(const void *reply, size_t len, char *out, size_t out_len)
{
	msgpack_unpacked         up;
	struct xsell_reply_error e;
	const msgpack_object    *items;
	size_t                   o = 0;

	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack(reply, len, &up));
	out[0] = '\0';
	if (xsell_reply_status(&up.data, &e) != XSELL_OK) {
		snprintf(out, out_len, "%.*s", (int) e.code_len, e.code);
		msgpack_unpacked_destroy(&up);
		return;
	}
	items = xsell_reply_get(&up.data, "items");
	assert_non_null(items);
	for (uint32_t i = 0; i < items->via.array.size; i++) {
		const msgpack_object *it = &items->via.array.ptr[i];
		const msgpack_object *id = xsell_reply_get(it, "item");
		const msgpack_object *sc = xsell_reply_get(it, "score");

		o += (size_t) snprintf(out + o, out_len - o, "%s%.*s:%g",
		    i ? " " : "", (int) id->via.str.size, id->via.str.ptr,
		    sc->type == MSGPACK_OBJECT_FLOAT64 ? sc->via.f64
		                                       : (double) sc->via.u64);
	}
	msgpack_unpacked_destroy(&up);
}

/* One fbt of A on 'c': "B:2 C:1", an error code, or "no reply". */
static void
fbt_on(xsell_client *c, char *out, size_t len)
{
	void  *reply;
	size_t reply_len;

	if (xsell_client_call(
	        c, fbt_a, sizeof(fbt_a) - 1, &reply, &reply_len) != XSELL_OK) {
		snprintf(out, len, "no reply");
		return;
	}
	render_reply(reply, reply_len, out, len);
	xsell_client_free(reply);
}

/* ==== The flood, in a process of its own ==== */

static const char *self_path; /* argv[0]: this test, re-run as the flood */

/* The flood's process: 'n' REQ sockets that send one request each and
 * never call recv; a byte on 'ready_fd' once all are sent, then it waits
 * to be killed. Killing it is how the flood stops: the kernel closes
 * every connection at once, where nng_close in libnng 1.5.2 can wait
 * without end on a pipe whose peer stopped answering. */
static int
flood_child(const char *url, int n, int ready_fd)
{
	nng_socket *socks = calloc((size_t) n, sizeof(*socks));
	char        one   = 1;

	if (socks == NULL) {
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (nng_req0_open(&socks[i]) != 0) {
			return 1;
		}
		nng_socket_set_ms(socks[i], NNG_OPT_SENDTIMEO, 2000);
		if (nng_dial(socks[i], url, NULL, NNG_FLAG_NONBLOCK) != 0) {
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		/* May time out on a connection closed at once: fine. */
		(void) nng_send(
		    socks[i], (void *) fbt_a, sizeof(fbt_a) - 1, 0);
	}
	if (write(ready_fd, &one, 1) != 1) {
		return 1;
	}
	for (;;) {
		pause();
	}
}

/* Start the flood's process and wait (at most 60 s) until it sent. */
static pid_t
flood_start(const char *url)
{
	int   fds[2];
	char  n_arg[16], fd_arg[16], byte;
	pid_t pid, parent = getpid();

	assert_int_equal(pipe(fds), 0);
	snprintf(n_arg, sizeof(n_arg), "%d", N_FLOOD);
	snprintf(fd_arg, sizeof(fd_arg), "%d", fds[1]);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Dies with the test, however the test ends: its REQ
		 * sockets would redial a closed server port for ever. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != parent) {
			_exit(127);
		}
		close(fds[0]);
		execl(self_path, self_path, "--flood", url, n_arg, fd_arg,
		    (char *) NULL);
		_exit(127);
	}
	close(fds[1]);
	{
		struct pollfd pfd = { fds[0], POLLIN, 0 };

		assert_int_equal(poll(&pfd, 1, 60000), 1);
		assert_int_equal(read(fds[0], &byte, 1), 1);
	}
	close(fds[0]);
	return pid;
}

static void
flood_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) { }
}

/* ==== Greedy raw connections ==== */

/* Speaks the SP protocol over TCP by hand (nng's tcp transport: an
 * 8-byte header naming REQ, then length-prefixed messages whose body
 * starts with a 4-byte request id with the top bit set), sends
 * GREEDY_REQUESTS history requests back to back and never reads. */
struct greedy {
	int       port;
	pthread_t thread;
	int       fd;
	long      sent; /* requests fully written */
};

/* Send history request number 'n' on g's connection as one SP frame;
 * false if it could not be written whole (2 s at most). */
static bool
greedy_send(struct greedy *g, long n)
{
	unsigned char frame[8 + 4 + sizeof(history_req) - 1];
	uint32_t      id = 0x80000000u | (uint32_t) n;

	memset(frame, 0, 8);
	frame[7]  = (unsigned char) (4 + sizeof(history_req) - 1);
	frame[8]  = (unsigned char) (id >> 24);
	frame[9]  = (unsigned char) (id >> 16);
	frame[10] = (unsigned char) (id >> 8);
	frame[11] = (unsigned char) id;
	memcpy(frame + 12, history_req, sizeof(history_req) - 1);
	return send(g->fd, frame, sizeof(frame), MSG_NOSIGNAL) ==
	    (ssize_t) sizeof(frame);
}

static void *
greedy_main(void *arg)
{
	static const unsigned char hello[8] = { 0, 'S', 'P', 0, 0, 0x30, 0,
		0 };
	struct greedy             *g        = arg;
	struct sockaddr_in         a;
	struct timeval             tv = { 2, 0 };

	memset(&a, 0, sizeof(a));
	a.sin_family      = AF_INET;
	a.sin_port        = htons((uint16_t) g->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g->fd             = socket(AF_INET, SOCK_STREAM, 0);
	if (g->fd < 0 ||
	    connect(g->fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
		return NULL;
	}
	/* A server that stops reading makes send() give up after 2 s. */
	setsockopt(g->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(g->fd, hello, sizeof(hello), MSG_NOSIGNAL) !=
	    (ssize_t) sizeof(hello)) {
		return NULL;
	}
	for (long i = 0; i < GREEDY_REQUESTS && greedy_send(g, i + 1); i++) {
		g->sent++;
	}
	return NULL;
}

/* After greedy_drained(): the client reads now, so once its muting is
 * over (5 s the first time, 10 s the next) a request of its is tried
 * and answered, and the connection is served again. One request a
 * second, each given a second for its reply; false if none came in
 * 40 s. */
static bool
greedy_served_again(struct greedy *g)
{
	static unsigned char buf[1 << 16];
	struct pollfd        pfd = { g->fd, POLLIN, 0 };

	for (long n = 1; n <= 40; n++) {
		if (!greedy_send(g, GREEDY_REQUESTS + n)) {
			return false;
		}
		if (poll(&pfd, 1, 1000) == 1) {
			/* Nothing else is sent to a drained, muted
			 * connection: these bytes answer a request. */
			return recv(g->fd, buf, sizeof(buf), 0) > 0;
		}
	}
	return false;
}

/* After the flood: read what the server sent (tens of MiB of replies
 * sit in the socket buffers) until every request the connection sent
 * has its reply, or until nothing more comes for 3 s: once the test
 * drains the socket the server can send again, so a connection it had
 * not muted yet is served to the end, and a muted one gets no more.
 * Either way the server was not stuck on it. False if replies still
 * come after 60 s, or the server closed the connection (xselld leaves
 * that to the client). The stream starts with the server's 8-byte SP
 * header; replies are SP frames: an 8-byte big-endian length, then the
 * body. */
static bool
greedy_drained(struct greedy *g)
{
	static unsigned char buf[1 << 20];
	struct pollfd        pfd = { g->fd, POLLIN, 0 };
	struct timespec      t0, t;
	unsigned char        hdr[8];
	size_t               hello_left = 8;
	size_t               hdr_have   = 0;
	uint64_t             body_left  = 0;
	long                 replies    = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (replies < g->sent) {
		ssize_t n;
		int     ready = poll(&pfd, 1, 3000);

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (ready == 0) {
			break; /* nothing more comes: muted */
		}
		if (ready < 0 || t.tv_sec - t0.tv_sec > 60) {
			return false;
		}
		n = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			print_message("xselld closed a greedy connection\n");
			return false;
		}
		for (ssize_t i = 0; i < n;) {
			if (hello_left > 0) {
				hello_left--;
				i++;
				continue;
			}
			if (body_left == 0 && hdr_have < sizeof(hdr)) {
				hdr[hdr_have++] = buf[i++];
				if (hdr_have == sizeof(hdr)) {
					body_left = 0;
					for (size_t k = 0; k < sizeof(hdr);
					     k++) {
						body_left =
						    body_left << 8 | hdr[k];
					}
					if (body_left == 0) {
						hdr_have = 0;
						replies++;
					}
				}
				continue;
			}
			{
				uint64_t take = (uint64_t) (n - i) < body_left
				    ? (uint64_t) (n - i)
				    : body_left;

				i += (ssize_t) take;
				body_left -= take;
				if (body_left == 0) {
					hdr_have = 0;
					replies++;
				}
			}
		}
	}
	print_message("a greedy connection: %ld requests, %ld replies\n",
	    g->sent, replies);
	return true;
}

/* stats counts what the flood did to the read endpoints: connections
 * refused past the limit, greedy ones muted, their requests dropped. */
static void
assert_overload_counted(struct fixture *f)
{
	json_t *r = xs_test_call(f->srv.admin_url, "{\"op\":\"stats\"}");
	json_t *rd =
	    json_object_get(json_object_get(r, "connections"), "read");

	assert_non_null(rd);
	assert_int_equal(
	    json_integer_value(json_object_get(rd, "max")), MAX_CONNECTIONS);
	assert_true(json_integer_value(json_object_get(rd, "open")) <=
	    MAX_CONNECTIONS);
	assert_true(json_integer_value(json_object_get(rd, "waiting")) <= 64);
	assert_true(json_integer_value(json_object_get(rd, "refused")) > 0);
	assert_true(json_integer_value(json_object_get(rd, "muted")) >= 1);
	assert_true(json_integer_value(json_object_get(rd, "dropped")) >= 1);
	assert_non_null(
	    json_object_get(json_object_get(r, "connections"), "admin"));
	json_decref(r);
}

/* ==== The flood ==== */

static void
test_overload_flood_keeps_serving_with_bounded_memory(void **state)
{
	struct fixture *f = *state;
	struct greedy   greedy[N_GREEDY];
	pid_t           flood;
	xsell_client   *good, *probe[N_PROBES], *after;
	long            rss_before, rss_peak = 0;
	int             fds_before;
	int             n_unavailable = 0, n_ok = 0;
	char            got[128];

	rss_before = rss_kb(f->srv.pid);
	fds_before = open_fds(f->srv.pid);
	/* The well-behaved client connects first, so it is served. */
	assert_xs_ok(xsell_client_dial(&good, f->tcp_url, CALL_TIMEOUT_MS));
	fbt_on(good, got, sizeof(got));
	assert_string_equal(got, "B:2 C:1");

	/* Greedy connections, then 200 REQ sockets that send one request
	 * each and never call recv, past the limit of 50. */
	for (int i = 0; i < N_GREEDY; i++) {
		memset(&greedy[i], 0, sizeof(greedy[i]));
		greedy[i].port = f->port;
		greedy[i].fd   = -1;
		assert_int_equal(pthread_create(&greedy[i].thread, NULL,
		                     greedy_main, &greedy[i]),
		    0);
	}
	flood = flood_start(f->tcp_url);

	/* While it goes on: the client served before still gets right
	 * answers, and probes past the limit each get an answer, ok or
	 * "unavailable", or none (closed as soon as made once 64 wait:
	 * the flood's own connections fill that room first). */
	for (int i = 0; i < N_PROBES; i++) {
		assert_xs_ok(xsell_client_open(
		    &probe[i], f->tcp_url, PROBE_TIMEOUT_MS));
	}
	for (int round = 0; round < GOOD_CALLS; round++) {
		long rss;

		fbt_on(good, got, sizeof(got));
		assert_string_equal(got, "B:2 C:1");
		if (round < N_PROBES) {
			fbt_on(probe[round], got, sizeof(got));
			if (strcmp(got, "unavailable") == 0) {
				n_unavailable++;
			} else if (strcmp(got, "B:2 C:1") == 0) {
				n_ok++;
			} else if (strcmp(got, "no reply") != 0) {
				fail_msg("a probe got '%s'", got);
			}
		}
		rss      = rss_kb(f->srv.pid);
		rss_peak = rss > rss_peak ? rss : rss_peak;
		assert_server_alive(f);
	}
	print_message("flood: VmRSS %ld KiB before, peak %ld KiB; probes: "
	              "%d unavailable, %d ok, %d no reply\n",
	    rss_before, rss_peak, n_unavailable, n_ok,
	    N_PROBES - n_unavailable - n_ok);
	assert_true(rss_peak - rss_before < RSS_GROWTH_MAX_KB);

	/* Each greedy connection filled its socket buffers with unread
	 * replies; the server mutes it rather than wait on it, or, if the
	 * draining below comes first, answers it to the end. One that
	 * reads again is served again. Then the client hangs up, which is
	 * what tears such a connection down. */
	for (int i = 0; i < N_GREEDY; i++) {
		pthread_join(greedy[i].thread, NULL);
		assert_true(greedy[i].fd >= 0);
		assert_true(greedy[i].sent > 0);
		assert_true(greedy_drained(&greedy[i]));
		if (i == 0) {
			assert_true(greedy_served_again(&greedy[i]));
		}
		close(greedy[i].fd);
	}

	/* The flood stops. A new client is served again: within a bounded
	 * number of tries, as the closed connections leave the server. */
	flood_stop(flood);
	for (int i = 0; i < N_PROBES; i++) {
		xsell_client_close(probe[i]);
	}
	got[0] = '\0';
	/* Up to a minute: the server may first work off what the greedy
	 * connections queued. This failed in about one run in ten while
	 * xselld closed silent and muted connections itself: libnng
	 * 1.5.2's reaper hung for good on one closed in the middle of a
	 * request, and no connection was torn down again (see
	 * src/server/limit.c). */
	for (int i = 0; i < 600 && strcmp(got, "B:2 C:1") != 0; i++) {
		if (xsell_client_dial(&after, f->tcp_url, 3000) == XSELL_OK) {
			fbt_on(after, got, sizeof(got));
			xsell_client_close(after);
		}
		if (strcmp(got, "B:2 C:1") != 0) {
			nng_msleep(100);
		}
	}
	assert_string_equal(got, "B:2 C:1");
	/* Every connection of the flood was torn down: xselld holds no
	 * more descriptors than before it, give or take the few clients
	 * of this test still open (a hung reaper leaks each one). */
	assert_true(wait_fds_at_most(f->srv.pid, fds_before + 8));
	assert_overload_counted(f);
	/* The client served before is served after, within a bounded
	 * number of tries: the server may still be working off the greedy
	 * connections' backlog. */
	for (int i = 0; i < 60; i++) {
		fbt_on(good, got, sizeof(got));
		if (strcmp(got, "B:2 C:1") == 0) {
			break;
		}
		nng_msleep(500);
	}
	assert_string_equal(got, "B:2 C:1");
	xsell_client_close(good);
	assert_server_alive(f);
}

/* ==== One past the limit ==== */

/* connections.read of stats: "open waiting". */
static void
read_conns(struct fixture *f, char *out, size_t len)
{
	json_t *r = xs_test_call(f->srv.admin_url, "{\"op\":\"stats\"}");
	json_t *rd =
	    json_object_get(json_object_get(r, "connections"), "read");

	assert_non_null(rd);
	snprintf(out, len, "%lld %lld",
	    (long long) json_integer_value(json_object_get(rd, "open")),
	    (long long) json_integer_value(json_object_get(rd, "waiting")));
	json_decref(r);
}

/* Dial n clients, each one's first fbt answered 'expect' ("B:2 C:1"
 * when served, "unavailable" when waiting). */
static void
dial_answered(struct fixture *f, xsell_client **c, int n, const char *expect)
{
	char got[128];

	for (int i = 0; i < n; i++) {
		assert_xs_ok(
		    xsell_client_dial(&c[i], f->tcp_url, CALL_TIMEOUT_MS));
		fbt_on(c[i], got, sizeof(got));
		assert_string_equal(got, expect);
	}
}

/* With 2 served, a third connection hears "unavailable" for every
 * request, without being closed; once a served one hangs up, its next
 * request is served. */
static void
test_past_the_limit_waits_then_is_served(void **state)
{
	struct fixture *f = *state;
	xsell_client   *served[SMALL_LIMIT], *third;
	char            got[128];

	dial_answered(f, served, SMALL_LIMIT, "B:2 C:1");
	assert_xs_ok(xsell_client_dial(&third, f->tcp_url, CALL_TIMEOUT_MS));
	for (int i = 0; i < 3; i++) {
		fbt_on(third, got, sizeof(got));
		assert_string_equal(got, "unavailable");
	}
	read_conns(f, got, sizeof(got));
	assert_string_equal(got, "2 1");
	/* The served ones are still served. */
	fbt_on(served[1], got, sizeof(got));
	assert_string_equal(got, "B:2 C:1");

	/* One hangs up; nng tells xselld a moment later. */
	xsell_client_close(served[0]);
	got[0] = '\0';
	for (int i = 0; i < 100 && strcmp(got, "B:2 C:1") != 0; i++) {
		fbt_on(third, got, sizeof(got));
		if (strcmp(got, "B:2 C:1") != 0) {
			assert_string_equal(got, "unavailable");
			nng_msleep(100);
		}
	}
	assert_string_equal(got, "B:2 C:1");
	read_conns(f, got, sizeof(got));
	assert_string_equal(got, "2 0");
	xsell_client_close(served[1]);
	xsell_client_close(third);
	assert_server_alive(f);
}

/* The waiting room is bounded: with 2 served and 64 waiting, the next
 * connection is closed before it starts, so its request is never
 * answered, and stats counts it nowhere; once a waiting one goes, the
 * same client, reconnecting, waits in its place. */
static void
test_past_the_waiting_room_is_refused(void **state)
{
	struct fixture *f = *state;
	xsell_client   *served[SMALL_LIMIT], *waiting[WAITING_MAX], *refused;
	char            got[128];

	dial_answered(f, served, SMALL_LIMIT, "B:2 C:1");
	dial_answered(f, waiting, WAITING_MAX, "unavailable");
	read_conns(f, got, sizeof(got));
	assert_string_equal(got, "2 64");

	assert_xs_ok(
	    xsell_client_open(&refused, f->tcp_url, REFUSED_TIMEOUT_MS));
	fbt_on(refused, got, sizeof(got));
	assert_string_equal(got, "no reply");
	read_conns(f, got, sizeof(got));
	assert_string_equal(got, "2 64");
	/* The served are still served, the waiting still answered. */
	fbt_on(served[0], got, sizeof(got));
	assert_string_equal(got, "B:2 C:1");
	fbt_on(waiting[WAITING_MAX - 1], got, sizeof(got));
	assert_string_equal(got, "unavailable");

	xsell_client_close(waiting[0]);
	got[0] = '\0';
	for (int i = 0; i < 20 && strcmp(got, "unavailable") != 0; i++) {
		fbt_on(refused, got, sizeof(got));
	}
	assert_string_equal(got, "unavailable");
	read_conns(f, got, sizeof(got));
	assert_string_equal(got, "2 64");

	xsell_client_close(refused);
	for (int i = 1; i < WAITING_MAX; i++) {
		xsell_client_close(waiting[i]);
	}
	for (int i = 0; i < SMALL_LIMIT; i++) {
		xsell_client_close(served[i]);
	}
	assert_server_alive(f);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_past_the_limit_waits_then_is_served, setup_small,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_past_the_waiting_room_is_refused, setup_small,
		    xs_test_server_teardown),
		cmocka_unit_test_setup_teardown(
		    test_overload_flood_keeps_serving_with_bounded_memory,
		    setup, xs_test_server_teardown),
	};

	self_path = argv[0];
	if (argc == 5 && strcmp(argv[1], "--flood") == 0) {
		return flood_child(argv[2], atoi(argv[3]), atoi(argv[4]));
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name(
	    "server_overload", tests, NULL, NULL);
}
