/* SPDX-License-Identifier: MIT */
/* The load generator: one thread per client, each with its own REQ
 * socket (and one to the admin endpoint if the mix writes), sending one
 * request at a time.
 *
 * Closed loop: the next request leaves when the reply came, so the
 * figures say how fast the server answers as many clients as there are.
 * Open loop (--rate): each client sends on a fixed schedule and latency
 * is counted from the scheduled time, not from when the send happened,
 * so a server that falls behind shows its queueing in the latency
 * instead of silently slowing the clients down (coordinated omission).
 *
 * Paired (--pair-url): each client sends every request to a second
 * server too, the two in turn first, and each server's latencies go to
 * its own result. Timed one after the other, two servers on a shared
 * VM meet different minutes of it, and the ratio of their one-client
 * round trips moved by a tenth between runs; paired, both meet the same
 * moments. */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/common.h"

#define REPLY_MAX ((size_t) 64 << 20)
/* The longest a run's sockets may take to close (clients_close_bounded). */
#define CLOSE_WAIT_S 5

struct client {
	const struct bench_opts  *o;
	const struct bench_input *in;
	nng_socket                sock, admin, pair;
	bool                      has_sock, has_admin, has_pair;
	unsigned                  index;
	uint64_t                  run_id;
	uint64_t                  start_ns, measure_ns, end_ns;
	atomic_uint_least64_t    *issued;  /* requests started, all clients */
	uint64_t                  last_ns; /* when the last reply came */
	struct bench_result       r;
	struct bench_result       rp; /* --pair-url's */
};

static bool
sock_dial(nng_socket *s, const char *url, int timeout_ms)
{
	int rv = nng_req0_open(s);

	if (rv == 0) {
		/* Never resend on a timer: a resent event batch would be
		 * counted twice and a resent query measured twice. */
		nng_socket_set_ms(
		    *s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
		nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, timeout_ms);
		nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, timeout_ms);
		nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, REPLY_MAX);
		rv = nng_dial(*s, url, NULL, 0);
		if (rv != 0) {
			nng_close(*s);
		}
	}
	if (rv != 0) {
		fprintf(
		    stderr, "xsell-bench: %s: %s\n", url, nng_strerror(rv));
	}
	return rv == 0;
}

static void
sleep_until(uint64_t t_ns)
{
	uint64_t now = xs_mono_ns();

	if (t_ns > now) {
		struct timespec ts = { (time_t) ((t_ns - now) / 1000000000u),
			(long) ((t_ns - now) % 1000000000u) };

		nanosleep(&ts, NULL);
	}
}

/* The server said no: the reply's top-level "ok" is false. A reply
 * without "ok" (the echo server's) is not an error. */
static bool
reply_is_error(const void *buf, size_t len)
{
	static const unsigned char no[4] = { 0xa2, 'o', 'k', 0xc2 };
	const unsigned char       *p     = buf;

	for (size_t i = 0; i + sizeof(no) <= len; i++) {
		if (p[i] == no[0] && memcmp(p + i, no, sizeof(no)) == 0) {
			return true;
		}
	}
	return false;
}

/* One request on socket s: send, wait for the reply, record it in r. */
static void
client_ask(struct client *c, nng_socket s, struct bench_result *r,
    enum bench_op op, msgpack_sbuffer *sb, uint64_t t0)
{
	void    *reply;
	size_t   len;
	uint64_t t1;
	int      rv;

	rv = nng_send(s, sb->data, sb->size, 0);
	if (rv == 0) {
		rv = nng_recv(s, &reply, &len, NNG_FLAG_ALLOC);
	}
	t1         = xs_mono_ns();
	c->last_ns = t1;
	if (rv != 0) {
		/* Also in the warmup: a dead server shows. */
		r->failures++;
		r->op_failures[op]++;
		return;
	}
	if (t0 < c->measure_ns) {
		nng_free(reply, len);
		return;
	}
	bench_hist_add(&r->ops[op], t1 - t0);
	bench_hist_add(&r->all, t1 - t0);
	r->reply_bytes += len;
	if (reply_is_error(reply, len)) {
		r->errors++;
		r->op_errors[op]++;
	}
	nng_free(reply, len);
}

/* Request sb of --url's server, or of the admin endpoint for a write. */
static void
client_one(
    struct client *c, enum bench_op op, msgpack_sbuffer *sb, uint64_t t0)
{
	client_ask(
	    c, bench_op_writes(op) ? c->admin : c->sock, &c->r, op, sb, t0);
}

/* Request sb of both servers, the pair's first on odd 'seq', so that
 * neither always follows the other; each timed from its own send. */
static void
client_paired(struct client *c, enum bench_op op, msgpack_sbuffer *sb,
    uint64_t seq, uint64_t t0)
{
	if (seq % 2 == 1) {
		client_ask(c, c->pair, &c->rp, op, sb, t0);
		client_one(c, op, sb, xs_mono_ns());
	} else {
		client_one(c, op, sb, t0);
		client_ask(c, c->pair, &c->rp, op, sb, xs_mono_ns());
	}
}

static void *
client_main(void *arg)
{
	struct client  *c        = arg;
	uint64_t        rng      = c->o->seed * 1000003u + c->index;
	uint64_t        interval = 0, next;
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	sleep_until(c->start_ns);
	if (c->o->rate > 0) {
		interval = (uint64_t) (1e9 * c->o->clients / c->o->rate);
	}
	/* Spread the clients' schedules over one interval. */
	next = c->start_ns + interval * c->index / c->o->clients;
	for (uint64_t seq = 0;; seq++) {
		enum bench_op op = bench_draw_op(c->o, &rng);
		uint64_t      t0;

		if (c->o->requests != 0 &&
		    atomic_fetch_add(c->issued, 1) >= c->o->requests) {
			break;
		}
		bench_request_pack(
		    &sb, op, c->o, c->in, &rng, c->run_id, c->index, seq);
		if (interval != 0) {
			sleep_until(next);
			t0 = next;
			next += interval;
		} else {
			t0 = xs_mono_ns();
		}
		if (t0 >= c->end_ns) {
			break;
		}
		if (c->has_pair) {
			client_paired(c, op, &sb, seq, t0);
		} else {
			client_one(c, op, &sb, t0);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	return NULL;
}

static void
clients_close(struct client *cs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (cs[i].has_sock) {
			nng_close(cs[i].sock);
		}
		if (cs[i].has_admin) {
			nng_close(cs[i].admin);
		}
		if (cs[i].has_pair) {
			nng_close(cs[i].pair);
		}
	}
}

/* A close running in a thread of its own, so that the caller can stop
 * waiting for it. */
struct closer {
	struct client  *cs;
	unsigned        n;
	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	bool            done;
};

static void *
closer_main(void *arg)
{
	struct closer *c = arg;

	clients_close(c->cs, c->n);
	pthread_mutex_lock(&c->mtx);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

/* Set once a run's sockets did not close in time: the process must end
 * without waiting for them (bench_sockets_stuck). */
static atomic_bool sockets_stuck;

bool
bench_sockets_stuck(void)
{
	return atomic_load(&sockets_stuck);
}

/* Close cs's sockets and free cs, waiting at most CLOSE_WAIT_S. nng
 * 1.5.2's nng_close can deadlock on a REQ socket that still holds a
 * request, one that timed out (nanomsg/nng#1543 and #1813, fixed after
 * 1.7): bench/run.sh's probe of a server still warming hung in it for
 * good on 2026-12-05. The figures are gathered by then, so such a close
 * is left behind in its thread, with cs, and bench_sockets_stuck says
 * so. */
static void
clients_close_bounded(struct client *cs, unsigned n)
{
	struct closer  *c = calloc(1, sizeof(*c));
	struct timespec until;
	pthread_t       t;
	bool            done;

	if (c == NULL) {
		clients_close(cs, n);
		free(cs);
		return;
	}
	c->cs = cs;
	c->n  = n;
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&t, NULL, closer_main, c) != 0) {
		closer_main(c);
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CLOSE_WAIT_S;
	pthread_mutex_lock(&c->mtx);
	while (!c->done &&
	    pthread_cond_timedwait(&c->cv, &c->mtx, &until) == 0) { }
	done = c->done;
	pthread_mutex_unlock(&c->mtx);
	if (!done) {
		atomic_store(&sockets_stuck, true);
		fprintf(stderr,
		    "xsell-bench: nng did not close its sockets within %d s "
		    "(nng 1.5.2, a request still queued): left open\n",
		    CLOSE_WAIT_S);
		return;
	}
	pthread_join(t, NULL);
	pthread_mutex_destroy(&c->mtx);
	pthread_cond_destroy(&c->cv);
	free(c);
	free(cs);
}

/* Dial every client's sockets before any starts, so that all begin
 * together and connection setup is not measured. */
static bool
clients_dial(struct client *cs, const struct bench_opts *o)
{
	for (unsigned i = 0; i < o->clients; i++) {
		cs[i].has_sock = sock_dial(&cs[i].sock, o->url, o->timeout_ms);
		if (!cs[i].has_sock) {
			return false;
		}
		if (o->pair_url != NULL) {
			cs[i].has_pair =
			    sock_dial(&cs[i].pair, o->pair_url, o->timeout_ms);
			if (!cs[i].has_pair) {
				return false;
			}
		}
		if (o->weights[BENCH_EVENT] + o->weights[BENCH_VIEW] != 0) {
			cs[i].has_admin = sock_dial(
			    &cs[i].admin, o->admin_url, o->timeout_ms);
			if (!cs[i].has_admin) {
				return false;
			}
		}
	}
	return true;
}

/* Add one client's figures 'c' into r. */
static void
result_add(struct bench_result *r, const struct bench_result *c)
{
	for (int op = 0; op < BENCH_OP_COUNT; op++) {
		bench_hist_merge(&r->ops[op], &c->ops[op]);
		r->op_errors[op] += c->op_errors[op];
		r->op_failures[op] += c->op_failures[op];
	}
	bench_hist_merge(&r->all, &c->all);
	r->errors += c->errors;
	r->failures += c->failures;
	r->reply_bytes += c->reply_bytes;
}

/* Every client's figures into r, and --pair-url's into pair (NULL: no
 * pair); both over the same window. */
static void
result_gather(struct bench_result *r, struct bench_result *pair,
    struct client *cs, unsigned n, uint64_t measure_ns)
{
	uint64_t last = measure_ns;

	for (unsigned i = 0; i < n; i++) {
		result_add(r, &cs[i].r);
		if (pair != NULL) {
			result_add(pair, &cs[i].rp);
		}
		if (cs[i].last_ns > last) {
			last = cs[i].last_ns;
		}
	}
	r->elapsed_s = (double) (last - measure_ns) / 1e9;
	if (pair != NULL) {
		pair->elapsed_s = r->elapsed_s;
	}
}

bool
bench_run_sockets(const struct bench_opts *o, const struct bench_input *in,
    struct bench_result *r, struct bench_result *pair)
{
	atomic_uint_least64_t issued = 0;
	struct client        *cs;
	pthread_t            *threads;
	unsigned              started = 0;
	uint64_t              start;
	struct bench_cpu      cpu0, cpu1;
	bool                  ok;

	cs      = calloc(o->clients, sizeof(*cs));
	threads = calloc(o->clients, sizeof(*threads));
	if (cs == NULL || threads == NULL) {
		free(cs);
		free(threads);
		fprintf(stderr, "xsell-bench: out of memory\n");
		return false;
	}
	ok = clients_dial(cs, o);
	/* Closing sockets below needs to know which were opened. */
	start = xs_mono_ns() + 10000000u;
	for (unsigned i = 0; ok && i < o->clients; i++) {
		cs[i].o      = o;
		cs[i].in     = in;
		cs[i].index  = i;
		cs[i].run_id = o->seed ^ ((uint64_t) getpid() << 32) ^
		    (uint64_t) xs_now_s();
		cs[i].start_ns   = start;
		cs[i].measure_ns = start + (uint64_t) (o->warmup_s * 1e9);
		cs[i].end_ns     = o->requests != 0
		        ? UINT64_MAX
		        : cs[i].measure_ns + (uint64_t) (o->duration_s * 1e9);
		cs[i].issued     = &issued;
		if (pthread_create(&threads[i], NULL, client_main, &cs[i]) !=
		    0) {
			fprintf(
			    stderr, "xsell-bench: cannot start a client\n");
			ok = false;
			break;
		}
		started++;
	}
	/* The CPU of the measured window: from its start to the last reply
	 * (the clients' last replies end within one round trip of each
	 * other). */
	if (ok) {
		sleep_until(start + (uint64_t) (o->warmup_s * 1e9));
		(void) bench_cpu_read(o->server_pid, &cpu0);
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(threads[i], NULL);
	}
	if (ok) {
		(void) bench_cpu_read(o->server_pid, &cpu1);
		memset(r, 0, sizeof(*r));
		r->mode = o->rate > 0 ? "open" : "closed";
		if (pair != NULL) {
			memset(pair, 0, sizeof(*pair));
			pair->mode = r->mode;
		}
		result_gather(r, pair, cs, o->clients,
		    start + (uint64_t) (o->warmup_s * 1e9));
		bench_cpu_between(&cpu0, &cpu1, r);
		if (o->server_pid != 0 && !r->has_server) {
			fprintf(stderr,
			    "xsell-bench: process %d gone: its CPU is not "
			    "reported\n",
			    o->server_pid);
		}
	}
	clients_close_bounded(cs, o->clients);
	free(threads);
	return ok;
}
