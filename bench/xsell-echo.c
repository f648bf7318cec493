/* SPDX-License-Identifier: MIT */
/* xsell-echo: the floor that xselld is measured against. A REP socket
 * served exactly as xselld serves its read endpoint (one nng context per
 * worker, driven by its aios' callbacks on nng's own thread; the same
 * receive limit; receives with no timeout, canceled at a stop; replies
 * on an aio of their own), but each request is answered with its
 * own bytes, padded to --reply-bytes, and no store, decode or encode.
 * xselld's latency divided by this one's, at the same concurrency and
 * reply size, is what recommending costs. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include <xsell/limits.h>

#include "common/common.h"

#define SEND_TIMEOUT_MS 5000
#define THREADS_MAX 256u
#define REPLY_BYTES_MAX ((size_t) 16 << 20)

static const char usage[] =
    "usage: xsell-echo --listen URL [--threads N] [--reply-bytes N]\n"
    "\n"
    "A bare nng REP server for xsell-bench: every request is answered\n"
    "with its own bytes, nothing decoded, no store. It is served like\n"
    "xselld's read endpoint (one nng context per worker, answered in its\n"
    "aio callback on nng's own thread, the same request limit), so\n"
    "xselld / echo at the same concurrency is the cost of recommending.\n"
    "\n"
    "  --listen URL       ipc://PATH or tcp://HOST:PORT (required)\n"
    "  --threads N        workers (nng contexts), 1..256 (default: one\n"
    "                     per core, as xselld)\n"
    "  --reply-bytes N    pad each reply with zero bytes to at least N\n"
    "                     bytes (0..16777216, default 0: the request as\n"
    "                     is); set it to xselld's mean reply size\n"
    "                     (xsell-bench reports it) for a fair floor\n"
    "  --help             this text\n"
    "\n"
    "SIGINT or SIGTERM stops it. Exit status: 0 after a clean stop, 1 if\n"
    "the endpoint cannot be opened, 2 for a usage error.\n";

struct echo_worker {
	nng_ctx      ctx;
	nng_aio     *recv_aio; /* no timeout: a stop cancels it */
	nng_aio     *send_aio;
	bool         started;
	size_t       reply_bytes;
	atomic_bool *stopping;
	atomic_uint *live; /* workers not stopped yet */
};

/* Pad 'msg' with zeros to 'bytes'; false if nng is out of memory. */
static bool
reply_pad(nng_msg *msg, size_t bytes)
{
	size_t len = nng_msg_len(msg);

	if (len >= bytes) {
		return true;
	}
	if (nng_msg_realloc(msg, bytes) != 0) {
		return false;
	}
	memset((char *) nng_msg_body(msg) + len, 0, bytes - len);
	return true;
}

/* Ask for w's next request, or stop w. */
static void
echo_recv(struct echo_worker *w)
{
	if (atomic_load(w->stopping)) {
		atomic_fetch_sub(w->live, 1);
		return;
	}
	nng_ctx_recv(w->ctx, w->recv_aio);
}

/* A receive ended: echo the request, or ask again (a canceled receive
 * is a stop's wake). One callback of w at a time: the next receive is
 * asked for once the reply has gone. */
static void
echo_received_cb(void *arg)
{
	struct echo_worker *w  = arg;
	int                 rv = nng_aio_result(w->recv_aio);
	nng_msg            *msg;

	if (rv == NNG_ECLOSED) {
		atomic_fetch_sub(w->live, 1);
		return;
	}
	if (rv != 0) {
		echo_recv(w);
		return;
	}
	msg = nng_aio_get_msg(w->recv_aio);
	nng_aio_set_msg(w->recv_aio, NULL);
	if (!reply_pad(msg, w->reply_bytes)) {
		nng_msg_free(msg);
		echo_recv(w);
		return;
	}
	nng_aio_set_msg(w->send_aio, msg);
	nng_aio_set_timeout(w->send_aio, SEND_TIMEOUT_MS);
	nng_ctx_send(w->ctx, w->send_aio);
}

/* The reply went (or not): ask for the next request. */
static void
echo_sent_cb(void *arg)
{
	struct echo_worker *w = arg;

	if (nng_aio_result(w->send_aio) != 0) {
		nng_msg_free(nng_aio_get_msg(w->send_aio));
		nng_aio_set_msg(w->send_aio, NULL);
	}
	echo_recv(w);
}

static int
echo_start(struct echo_worker *w, nng_socket sock)
{
	int rv = nng_aio_alloc(&w->recv_aio, echo_received_cb, w);

	if (rv == 0) {
		nng_aio_set_timeout(w->recv_aio, NNG_DURATION_INFINITE);
		rv = nng_aio_alloc(&w->send_aio, echo_sent_cb, w);
	}
	if (rv == 0) {
		rv = nng_ctx_open(&w->ctx, sock);
	}
	w->started = rv == 0;
	if (w->started) {
		atomic_fetch_add(w->live, 1);
		echo_recv(w);
	}
	return rv;
}

static void
echo_stop(struct echo_worker *w)
{
	if (w->started) {
		nng_ctx_close(w->ctx);
	}
	if (w->recv_aio != NULL) {
		nng_aio_free(w->recv_aio);
	}
	if (w->send_aio != NULL) {
		nng_aio_free(w->send_aio);
	}
}

struct echo_opts {
	const char *url;
	unsigned    threads;     /* 1..THREADS_MAX */
	unsigned    reply_bytes; /* 0..REPLY_BYTES_MAX */
};

/* 0: parsed; 1: --help printed; 2: usage error printed. */
static int
parse_args(int argc, char **argv, struct echo_opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "reply-bytes", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int  c;

	o->threads = cores > 0 ? (unsigned) cores : 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->url = optarg;
			break;
		case 't':
			if (!xs_opt_uint(
			        optarg, 1, THREADS_MAX, &o->threads)) {
				fprintf(stderr,
				    "xsell-echo: --threads: "
				    "must be 1..256\n");
				return 2;
			}
			break;
		case 'r':
			if (!xs_opt_uint(
			        optarg, 0, REPLY_BYTES_MAX, &o->reply_bytes)) {
				fprintf(stderr,
				    "xsell-echo: --reply-bytes: "
				    "must be 0..16777216\n");
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (o->url == NULL || optind != argc) {
		fprintf(stderr,
		    "xsell-echo: --listen URL is required and "
		    "nothing else\n");
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct echo_opts    o = { 0 };
	struct echo_worker *ws;
	atomic_bool         stopping = false;
	atomic_uint         live     = 0;
	nng_socket          sock;
	sigset_t            sigs;
	int                 rv, sig, status = 0;

	rv = parse_args(argc, argv, &o);
	if (rv != 0) {
		return rv == 1 ? 0 : 2;
	}
	/* Signals go to sigwait below, never to a worker. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	rv = nng_rep0_open(&sock);
	if (rv == 0) {
		nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ,
		    (size_t) XSELL_READ_MSG_MAX * XSELL_RECV_SLACK);
		rv = nng_listen(sock, o.url, NULL, 0);
	}
	if (rv != 0) {
		fprintf(
		    stderr, "xsell-echo: %s: %s\n", o.url, nng_strerror(rv));
		return 1;
	}
	ws = calloc(o.threads, sizeof(*ws));
	if (ws == NULL) {
		fprintf(stderr, "xsell-echo: out of memory\n");
		nng_close(sock);
		return 1;
	}
	for (size_t i = 0; i < o.threads && status == 0; i++) {
		ws[i].reply_bytes = o.reply_bytes;
		ws[i].stopping    = &stopping;
		ws[i].live        = &live;
		if (echo_start(&ws[i], sock) != 0) {
			fprintf(stderr, "xsell-echo: cannot start a worker\n");
			status = 1;
		}
	}
	if (status == 0) {
		sigwait(&sigs, &sig);
	}
	atomic_store(&stopping, true);
	/* Each worker stops at its next receive: after its reply has gone,
	 * or at once if it waits for a request, its receive canceled (again
	 * until it is gone: one asked for as the stop began may escape a
	 * round). */
	while (atomic_load(&live) != 0) {
		for (size_t i = 0; i < o.threads; i++) {
			if (ws[i].recv_aio != NULL) {
				nng_aio_cancel(ws[i].recv_aio);
			}
		}
		nng_msleep(2);
	}
	for (size_t i = 0; i < o.threads; i++) {
		echo_stop(&ws[i]);
	}
	nng_close(sock);
	free(ws);
	return status;
}
