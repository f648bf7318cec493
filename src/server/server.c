/* SPDX-License-Identifier: MIT */
/* Sockets and workers. Each worker owns one nng context and serves it:
 * receive, handle, reply.
 *
 * A read worker is driven by its aio's callback, which runs on the nng
 * thread that received the request (rep0 completes a waiting context's
 * receive on that thread): it decodes, answers from one read
 * transaction begun and ended inside the callback (the env is
 * MDB_NOTLS), and hands the reply to the connection. A blocking thread
 * per context, as before, took a hand-off from nng's thread per
 * request, and on 2 cores each 30 µs of model work then drew ~11
 * context switches per request against echo's 5 (now ~2; see
 * bench/RESULTS.md, "Read path"). At most 'threads' callbacks hold a
 * request at once, so nng's pool (2 threads a core in nng 1.5.2) keeps
 * threads for its own I/O; nothing in a read waits for nng or for a
 * lock held across I/O.
 *
 * An admin worker is a thread blocked on its context: a write waits for
 * its group commit (group.c), which must not stall nng's threads.
 *
 * Pull workers (pull.c) are threads too, each receiving on the pull
 * socket itself; they never reply.
 *
 * Receives have no timeout: a stop cancels them (xs_server_close), and
 * each worker stops at its next receive, so that a request already
 * received is always answered. Replies go on an aio of their own, which
 * the stop leaves alone. An idle xselld then wakes no thread: with a
 * receive timeout of 200 ms, nng's timer threads took ~2% of a core on
 * this project's VMs with no client at all. */
/* A feature-test macro, not an identifier of ours: glibc declares
 * pthread_setname_np only with it. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
#include "server/server_impl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

/* How long a reply may wait for its connection to take it. Replies on
 * one connection leave one after another, so a wait means the previous
 * reply is still unsent: the peer stopped reading. */
#define SEND_TIMEOUT_MS 2000
/* A reply's own answer at most (a list holds at most XSELL_K_MAX items,
 * a history XSELL_HISTORY_LIMIT_MAX events: far less). A reply also
 * echoes the request's id, which may be nearly the whole request, so its
 * cap is the endpoint's request limit plus this (reply_max): a request
 * within the limit always gets its reply, an error's included. */
#define REPLY_ANSWER_MAX ((size_t) 16 << 20)
/* Admin workers at least, whatever --threads says (see below). */
#define ADMIN_WORKERS_MIN 64u
/* Pull workers: several, for the admin workers' reason (writes that
 * wait together share a commit); pushed batches are mostly views. */
#define PULL_WORKERS 8u
/* nng counts a request's SP header against NNG_OPT_RECVMAXSZ: 4 bytes a
 * hop (the REQ's request id, then one more word for each device the
 * request crossed), at most nng's largest TTL of 15 hops
 * (NNI_MAX_MAX_TTL, not in nng.h). Without this room a body within 4
 * bytes of the receive limit would be dropped unanswered instead of
 * getting too_large. */
#define SP_HEADER_MAX (15u * 4u)

/* Listen on 'url'; a tls+tcp:// listener gets 'tls' (never NULL then),
 * an ipc:// one the permission bits 'ipc_mode' unless it is 0. */
static int
listener_start(
    nng_socket sock, const char *url, nng_tls_config *tls, unsigned ipc_mode)
{
	nng_listener l;
	int          rv;

	rv = nng_listener_create(&l, sock, url);
	if (rv != 0) {
		return rv;
	}
	if (xs_url_is_tls(url)) {
		assert(tls != NULL);
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
	} else if (ipc_mode != 0 && strncmp(url, "ipc://", 6) == 0) {
		/* nng binds, then chmods: between the two the socket has
		 * what the umask gives (under systemd's UMask=0077, less). */
		rv = nng_listener_set_int(
		    l, NNG_OPT_IPC_PERMISSIONS, (int) ipc_mode);
	}
	if (rv == 0) {
		rv = nng_listener_start(l, 0);
	}
	if (rv != 0) {
		nng_listener_close(l);
	}
	return rv;
}

/* The endpoints of one kind: a socket of one protocol on 'urls'. */
struct socket_kind {
	const char *name;                 /* "read", "admin", "pull" */
	int (*open_fn)(nng_socket *sock); /* nng_rep0_open, nng_pull0_open */
	size_t             max_msg;       /* request limit of the kind */
	const char *const *urls;
	size_t             n_urls;
	unsigned           ipc_mode;
};

/* A socket of kind 'k' listening on its URLs, its connections counted
 * by 'limit' (set up here; the caller finis it after closing the
 * socket, also when this fails). */
static xsell_err
socket_open(nng_socket *sock, const struct socket_kind *k, nng_tls_config *tls,
    struct xs_conn_limit *limit, unsigned max_conns)
{
	xsell_err err;
	int       rv;

	rv = k->open_fn(sock);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "socket: %s", nng_strerror(rv));
		return XSELL_EIO;
	}
	err = xs_conn_limit_init(limit, *sock, max_conns, k->name);
	if (err != XSELL_OK) {
		nng_close(*sock);
		return err;
	}
	/* nng takes messages of any size by default: cap what a peer can
	 * make us buffer. Between max_msg and this, the handler answers
	 * too_large (a pull worker counts it rejected); beyond it, nng
	 * drops the connection unread. */
	nng_socket_set_size(*sock, NNG_OPT_RECVMAXSZ,
	    k->max_msg * XSELL_RECV_SLACK + SP_HEADER_MAX);
	for (size_t i = 0; i < k->n_urls; i++) {
		rv = listener_start(*sock, k->urls[i], tls, k->ipc_mode);
		if (rv != 0) {
			xs_log(XS_LOG_ERROR, "cannot listen on %s: %s",
			    k->urls[i], nng_strerror(rv));
			nng_close(*sock);
			return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP
			    ? XSELL_EINVAL
			    : XSELL_EIO;
		}
	}
	return XSELL_OK;
}

/* Close what sockets_open opened. */
static void
sockets_close(xs_server *srv)
{
	if (srv->has_read) {
		nng_close(srv->read_sock);
		xs_conn_limit_fini(&srv->read_limit);
		srv->has_read = false;
	}
	if (srv->has_admin) {
		nng_close(srv->admin_sock);
		xs_conn_limit_fini(&srv->admin_limit);
		srv->has_admin = false;
	}
	if (srv->has_pull) {
		nng_close(srv->pull_sock);
		xs_conn_limit_fini(&srv->pull_limit);
		xs_pull_fini(&srv->pull);
		srv->has_pull = false;
	}
}

/* The read (REP), admin (REP) and pull (PULL) sockets of 'o', each kind
 * that has URLs. On an error none is left open. */
static xsell_err
sockets_open(
    xs_server *srv, const struct xs_server_opts *o, nng_tls_config *tls)
{
	const struct socket_kind read = {
		.name     = "read",
		.open_fn  = nng_rep0_open,
		.max_msg  = XSELL_READ_MSG_MAX,
		.urls     = o->listen,
		.n_urls   = o->n_listen,
		.ipc_mode = o->listen_ipc_mode,
	};
	const struct socket_kind admin = {
		.name     = "admin",
		.open_fn  = nng_rep0_open,
		.max_msg  = XSELL_ADMIN_MSG_MAX,
		.urls     = o->admin,
		.n_urls   = o->n_admin,
		.ipc_mode = o->admin_ipc_mode,
	};
	/* A pull message is an event request as on an admin endpoint, with
	 * its limit; the pull sockets write as admin ones do, so they take
	 * their mode. */
	const struct socket_kind pull = {
		.name     = "pull",
		.open_fn  = nng_pull0_open,
		.max_msg  = XSELL_ADMIN_MSG_MAX,
		.urls     = o->pull,
		.n_urls   = o->n_pull,
		.ipc_mode = o->admin_ipc_mode,
	};
	unsigned  max_conns = o->max_connections != 0
	     ? o->max_connections
	     : XS_SERVER_MAX_CONNECTIONS_DEFAULT;
	xsell_err err       = XSELL_OK;

	if (o->n_listen != 0) {
		err = socket_open(
		    &srv->read_sock, &read, tls, &srv->read_limit, max_conns);
		if (err != XSELL_OK) {
			xs_conn_limit_fini(&srv->read_limit);
			return err;
		}
		srv->has_read = true;
	}
	if (o->n_admin != 0) {
		err = socket_open(&srv->admin_sock, &admin, tls,
		    &srv->admin_limit, max_conns);
		if (err != XSELL_OK) {
			xs_conn_limit_fini(&srv->admin_limit);
			sockets_close(srv);
			return err;
		}
		srv->has_admin = true;
	}
	if (o->n_pull != 0) {
		err = socket_open(
		    &srv->pull_sock, &pull, tls, &srv->pull_limit, max_conns);
		if (err != XSELL_OK) {
			xs_conn_limit_fini(&srv->pull_limit);
			sockets_close(srv);
			return err;
		}
		xs_pull_init(&srv->pull);
		srv->has_pull = true;
	}
	return XSELL_OK;
}

/* The workers of srv's sockets, not started: 'threads' read workers
 * (0: one per core), then 'admin_workers' admin workers (0: see below),
 * then PULL_WORKERS pull workers, each kind only for a socket that is
 * open. */
static xsell_err
workers_alloc(xs_server *srv, unsigned threads, unsigned admin_workers)
{
	long     cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned readers =
	    threads ? threads : (unsigned) (cores > 0 ? cores : 1);
	/* Admin workers mostly wait for their write's group commit; the
	 * more writes wait together, the more share one commit. 64 is
	 * twice a group's most (group.c's GROUP_MAX): while one group
	 * commits, the next gathers. Writers of 1,000 orders, durable
	 * commits: 32 writers made 20,300-21,700 events/s with 8 workers
	 * and 50,500-59,700 with 32; 64 writers 50,500-53,500 with 32
	 * and 74,300-96,000 with 64 (bench/RESULTS.md, 2026-12-05). Each
	 * holds at most one request (XSELL_ADMIN_MSG_MAX) and its
	 * decoding; an idle one costs a thread. */
	unsigned admins  = admin_workers != 0  ? admin_workers
	     : readers / 2 > ADMIN_WORKERS_MIN ? readers / 2
	                                       : ADMIN_WORKERS_MIN;
	size_t   n_read  = srv->has_read ? readers : 0;
	size_t   n_admin = srv->has_admin ? admins : 0;
	size_t   n_pull  = srv->has_pull ? PULL_WORKERS : 0;

	srv->n_workers = n_read + n_admin + n_pull;
	/* n_workers >= 1: xselld refuses options without an endpoint (and
	 * calloc(0) is not NULL on glibc). */
	// NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI)
	srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
	if (srv->workers == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < srv->n_workers; i++) {
		srv->workers[i].srv   = srv;
		srv->workers[i].admin = i >= n_read;
		srv->workers[i].pull  = i >= n_read + n_admin;
	}
	return XSELL_OK;
}

/* Make the fbt answers of the n most ordered items before answering,
 * so that the first requests after a start find them made. Only an
 * optimisation: a failure is logged and the server goes on. A store
 * with no orders has nothing to warm, and says nothing. */
static void
server_warm(xs_server *srv, unsigned n)
{
	long      cores = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t  t0    = xs_mono_ns();
	uint32_t  warmed;
	xsell_err err;

	if (n == 0) {
		return;
	}
	/* Before the sockets listen, every core is the warming's. */
	err = xs_model_warm(srv->store, &srv->settings, n,
	    (unsigned) (cores > 0 ? cores : 1), &warmed);
	if (err != XSELL_OK) {
		xs_log(XS_LOG_WARN, "warming stopped after %u items: %s",
		    warmed, xsell_strerror(err));
		return;
	}
	if (warmed != 0) {
		xs_log(XS_LOG_INFO,
		    "warmed the answers of %u items in %.0f ms", warmed,
		    (double) (xs_mono_ns() - t0) / 1e6);
	}
}

xsell_err
xs_server_open(xs_server **srvp, const struct xs_server_opts *o)
{
	struct xs_store_opts so  = { 0 };
	nng_tls_config      *tls = NULL;
	xs_server           *srv;
	xsell_err            err;

	/* Before the store: a TLS mistake is a start-up error that should
	 * not wait for (or lock) the store. */
	if (xs_server_opts_use_tls(o)) {
		err = xs_server_tls_alloc(&tls, o);
		if (err != XSELL_OK) {
			return err;
		}
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		err = XSELL_ENOMEM;
		goto free_tls;
	}
	srv->settings = o->settings;
	xs_write_group_init(&srv->writes);
	so.map_size  = o->map_size;
	so.memo_size = o->memo_size;
	err          = xs_store_open(&srv->store, o->db, &so);
	if (err != XSELL_OK) {
		goto free_srv;
	}
	/* Replays what a log holds before any request is served; only
	 * with --wal does a log go on (a file, the applier thread). */
	if (o->wal) {
		err = xs_wal_open(&srv->wal, srv, o->db,
		    o->wal_backlog != 0 ? o->wal_backlog
		                        : XS_SERVER_WAL_BACKLOG_DEFAULT);
	} else {
		err = xs_wal_replay(srv, o->db);
	}
	if (err != XSELL_OK) {
		goto close_store;
	}
	err = sockets_open(srv, o, tls);
	if (err != XSELL_OK) {
		goto close_store;
	}
	err = workers_alloc(srv, o->threads, o->admin_workers);
	if (err != XSELL_OK) {
		goto close_sockets;
	}
	/* Last: once nothing can stop the start. Requests that come
	 * meanwhile wait for the workers (xs_server_start). */
	server_warm(srv, o->warm_items);
	srv->started_ns = xs_mono_ns();
	*srvp           = srv;
	if (tls != NULL) {
		nng_tls_config_free(tls); /* the listeners hold it */
	}
	return XSELL_OK;

close_sockets:
	sockets_close(srv);
close_store:
	xs_wal_close(srv->wal);
	xs_store_close(srv->store);
free_srv:
	xs_write_group_fini(&srv->writes);
	free(srv);
free_tls:
	if (tls != NULL) {
		nng_tls_config_free(tls);
	}
	return err;
}

/* The connection limit of w's REP socket. */
static struct xs_conn_limit *
worker_limit(struct xs_worker *w)
{
	assert(!w->pull);
	return w->admin ? &w->srv->admin_limit : &w->srv->read_limit;
}

/* Turn the request in 'msg' into its reply, in place: answered, or
 * refused past the connection limit. False when nothing is to be sent
 * (a dropped request, no memory for the reply, or a reply the handler
 * withheld): 'msg' is freed then. A muted connection's request gets no
 * work and no reply (limit.c). */
static bool
worker_reply(struct xs_worker *w, nng_msg *msg)
{
	uint32_t pipe = (uint32_t) nng_pipe_id(nng_msg_get_pipe(msg));
	enum xs_pipe_verdict verdict;
	int                  rv;

	verdict = xs_conn_limit_check(
	    worker_limit(w), pipe, xs_mono_ns(), &w->trial);
	if (verdict == XS_PIPE_DROP) {
		nng_msg_free(msg);
		return false;
	}
	if (verdict == XS_PIPE_REFUSE) {
		xs_server_refuse(
		    w, nng_msg_body(msg), nng_msg_len(msg), &w->out);
	} else {
		xs_server_handle(
		    w, nng_msg_body(msg), nng_msg_len(msg), &w->out);
	}
	/* Its outcome is not known (handler.c): the client hears nothing,
	 * as from a server that died before replying. */
	if (w->reply_withheld) {
		nng_msg_free(msg);
		return false;
	}
	nng_msg_clear(msg);
	rv = nng_msg_append(msg, w->out.data, w->out.len);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "reply: %s", nng_strerror(rv));
		nng_msg_free(msg);
		if (w->trial) {
			/* Untried: muted again, so that a later request
			 * is tried in its place. */
			(void) xs_conn_limit_mute(
			    worker_limit(w), pipe, xs_mono_ns());
		}
		return false;
	}
	return true;
}

/* Send the reply in 'msg' on w's context; w->send_aio's callback (or
 * the waiter) learns the result. A reply that the connection does not
 * take within SEND_TIMEOUT_MS means a peer that sends and does not
 * read. */
static void
worker_send(struct xs_worker *w, nng_msg *msg)
{
	w->pipe = (uint32_t) nng_pipe_id(nng_msg_get_pipe(msg));
	nng_aio_set_msg(w->send_aio, msg);
	nng_aio_set_timeout(w->send_aio, SEND_TIMEOUT_MS);
	nng_ctx_send(w->ctx, w->send_aio);
}

/* The send of w's reply ended with 'rv' (nng). A reply not taken is
 * still ours to free; one not taken in time mutes its connection (its
 * requests are dropped unanswered for a while; limit.c), so that it
 * cannot hold a worker again and again. A reply that tried a muted
 * connection and left brings it back. */
static void
worker_sent(struct xs_worker *w, int rv)
{
	if (rv == 0) {
		if (w->trial) {
			xs_conn_limit_unmute(worker_limit(w), w->pipe);
		}
		return;
	}
	nng_msg_free(nng_aio_get_msg(w->send_aio));
	nng_aio_set_msg(w->send_aio, NULL);
	if (rv == NNG_ETIMEDOUT &&
	    xs_conn_limit_mute(worker_limit(w), w->pipe, xs_mono_ns())) {
		xs_log(XS_LOG_WARN,
		    "a client left its replies unread for %d ms: its "
		    "requests are dropped until it reads again",
		    SEND_TIMEOUT_MS);
	}
}

/* ==== Read workers: aio callbacks ==== */

bool
xs_worker_recv_failed(struct xs_worker *w, int rv)
{
	if (rv == NNG_ECLOSED) {
		return false;
	}
	if (rv != NNG_ECANCELED || !atomic_load(&w->srv->stopping)) {
		xs_log(XS_LOG_WARN, "receive: %s", nng_strerror(rv));
	}
	return true;
}

void
xs_worker_stopped(struct xs_worker *w)
{
	atomic_fetch_sub(&w->srv->workers_live, 1);
}

/* Ask for w's next request, or stop w if the server is stopping. */
static void
reader_recv(struct xs_worker *w)
{
	if (atomic_load(&w->srv->stopping)) {
		xs_worker_stopped(w);
		return;
	}
	nng_ctx_recv(w->ctx, w->recv_aio);
}

/* A read worker's receive ended: answer the request, or ask again. Its
 * callbacks run one at a time (the next receive is asked for only once
 * the reply has gone), so w needs no lock. */
static void
reader_received_cb(void *arg)
{
	struct xs_worker *w  = arg;
	int               rv = nng_aio_result(w->recv_aio);
	nng_msg          *msg;

	if (rv != 0) {
		if (xs_worker_recv_failed(w, rv)) {
			reader_recv(w);
		} else {
			xs_worker_stopped(w);
		}
		return;
	}
	if (!worker_reply(w, nng_aio_get_msg(w->recv_aio))) {
		nng_aio_set_msg(w->recv_aio, NULL); /* freed */
		reader_recv(w);
		return;
	}
	msg = nng_aio_get_msg(w->recv_aio);
	/* Before the send: its callback may ask for the next request. */
	nng_aio_set_msg(w->recv_aio, NULL);
	worker_send(w, msg);
}

/* A read worker's reply went (or not): ask for the next request. */
static void
reader_sent_cb(void *arg)
{
	struct xs_worker *w = arg;

	worker_sent(w, nng_aio_result(w->send_aio));
	reader_recv(w);
}

/* ==== Admin workers: blocking threads ==== */

static void *
worker_main(void *arg)
{
	struct xs_worker *w = arg;

	while (!atomic_load(&w->srv->stopping)) {
		nng_msg *msg;
		int      rv;

		nng_ctx_recv(w->ctx, w->recv_aio);
		nng_aio_wait(w->recv_aio);
		rv = nng_aio_result(w->recv_aio);
		if (rv != 0) {
			if (!xs_worker_recv_failed(w, rv)) {
				break;
			}
			continue;
		}
		msg = nng_aio_get_msg(w->recv_aio);
		nng_aio_set_msg(w->recv_aio, NULL);
		if (worker_reply(w, msg)) {
			worker_send(w, msg);
			nng_aio_wait(w->send_aio);
			worker_sent(w, nng_aio_result(w->send_aio));
		}
	}
	xs_worker_stopped(w);
	return NULL;
}

/* The largest reply of w: its answer and the id it echoes. */
static size_t
reply_max(const struct xs_worker *w)
{
	return (w->admin ? XSELL_ADMIN_MSG_MAX : XSELL_READ_MSG_MAX) +
	    REPLY_ANSWER_MAX;
}

/* Start w's thread, running 'fn' under the name 'name' (as top -H and
 * perf show it). Returns pthread_create's code. */
static int
worker_thread_start(struct xs_worker *w, void *(*fn)(void *), const char *name)
{
	int rv = pthread_create(&w->thread, NULL, fn, w);

	if (rv == 0) {
		(void) pthread_setname_np(w->thread, name);
	}
	return rv;
}

/* w's receiving aio, calling 'cb' back (NULL: its thread waits). */
static int
worker_recv_aio_alloc(struct xs_worker *w, void (*cb)(void *))
{
	int rv = nng_aio_alloc(&w->recv_aio, cb, w);

	if (rv == 0) {
		nng_aio_set_timeout(w->recv_aio, NNG_DURATION_INFINITE);
	}
	return rv;
}

/* A REP worker's aios and context; an admin worker's thread too. A read
 * worker's aios call back; an admin worker's thread waits on them. */
static int
worker_ctx_start(struct xs_worker *w)
{
	nng_socket sock = w->admin ? w->srv->admin_sock : w->srv->read_sock;
	int        rv;

	rv = worker_recv_aio_alloc(w, w->admin ? NULL : reader_received_cb);
	if (rv == 0) {
		rv = nng_aio_alloc(
		    &w->send_aio, w->admin ? NULL : reader_sent_cb, w);
	}
	if (rv == 0) {
		rv = nng_ctx_open(&w->ctx, sock);
	}
	if (rv == 0 && w->admin) {
		rv = worker_thread_start(w, worker_main, "xsell-admin");
	}
	return rv;
}

static xsell_err
worker_start(struct xs_worker *w)
{
	xsell_err err;
	int       rv;

	/* Above XS_REQUEST_ARENA_MAX a request gets "unavailable". */
	xs_arena_init(&w->arena, XS_REQUEST_ARENA_MAX);
	xs_buf_init(&w->out, reply_max(w));
	if (w->admin) {
		err = xs_acc_alloc(&w->acc);
		if (err != XSELL_OK) {
			return err;
		}
	}
	/* Counted live before it starts: a thread may stop at once. */
	atomic_fetch_add(&w->srv->workers_live, 1);
	if (w->pull) {
		rv = worker_recv_aio_alloc(w, NULL);
		if (rv == 0) {
			rv =
			    worker_thread_start(w, xs_pull_main, "xsell-pull");
		}
	} else {
		rv = worker_ctx_start(w);
	}
	if (rv != 0) {
		xs_worker_stopped(w);
		xs_log(XS_LOG_ERROR, "worker: cannot start (%d)", rv);
		return XSELL_EUNAVAIL;
	}
	w->started = true;
	if (!w->admin) {
		reader_recv(w);
	}
	return XSELL_OK;
}

xsell_err
xs_server_start(xs_server *srv)
{
	for (size_t i = 0; i < srv->n_workers; i++) {
		xsell_err err = worker_start(&srv->workers[i]);

		if (err != XSELL_OK) {
			return err;
		}
	}
	return xs_refresher_start(
	    &srv->refresher, srv->store, &srv->settings, &srv->stopping);
}

void
xs_server_stop(xs_server *srv)
{
	atomic_store(&srv->stopping, true);
}

/* Cancel every worker's receive, so that one waiting for a request
 * looks at 'stopping'. A receive asked for just as the stop began may
 * escape one round: the caller repeats until every worker has stopped.
 * A reply's aio is left alone: a request in hand is answered. */
static void
workers_wake(xs_server *srv)
{
	for (size_t i = 0; i < srv->n_workers; i++) {
		if (srv->workers[i].recv_aio != NULL) {
			nng_aio_cancel(srv->workers[i].recv_aio);
		}
	}
}

void
xs_server_close(xs_server *srv)
{
	if (srv == NULL) {
		return;
	}
	atomic_store(&srv->stopping, true);
	xs_wal_wake_waiters(srv->wal);
	/* Each worker stops at its next receive: after the reply it holds
	 * has gone, or at once if it waits for a request. */
	while (atomic_load(&srv->workers_live) != 0) {
		workers_wake(srv);
		nng_msleep(2);
	}
	xs_refresher_join(&srv->refresher);
	for (size_t i = 0; i < srv->n_workers; i++) {
		struct xs_worker *w = &srv->workers[i];

		if (w->started) {
			if (w->admin) {
				pthread_join(w->thread, NULL);
			}
			if (!w->pull) {
				nng_ctx_close(w->ctx);
			}
		}
		if (w->recv_aio != NULL) {
			nng_aio_free(w->recv_aio);
		}
		if (w->send_aio != NULL) {
			nng_aio_free(w->send_aio);
		}
		if (w->rtxn != NULL) {
			xs_txn_abort(w->rtxn); /* before the store closes */
		}
		xs_arena_fini(&w->arena);
		xs_buf_fini(&w->out);
		xs_acc_free(w->acc);
	}
	/* Let the last replies leave before the pipes close. */
	nng_msleep(50);
	sockets_close(srv);
	xs_wal_close(srv->wal); /* applies what is logged */
	xs_store_close(srv->store);
	xs_write_group_fini(&srv->writes);
	free(srv->workers);
	free(srv);
}
