/* SPDX-License-Identifier: MIT */
/* Sockets and workers. Each worker thread owns one nng context and
 * serves it in a loop: receive, handle, reply. Blocking workers (rather
 * than aio callbacks) keep each LMDB transaction on one thread and let a
 * write wait for the store's writer lock without stalling nng's own
 * threads. Receives time out every RECV_POLL_MS so that a stop request
 * is noticed; a request already received is always answered. */
#include "server/server_impl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#define RECV_POLL_MS 200
#define SEND_TIMEOUT_MS 5000
/* Scratch memory one request may use (candidate lists, decoded
 * batches); above it the request gets "unavailable". */
#define WORKER_ARENA_MAX ((size_t) 256 << 20)
#define REPLY_MAX ((size_t) 16 << 20)

static xsell_err
socket_open(
    nng_socket *sock, size_t max_msg, const char *const *urls, size_t n_urls)
{
	int rv;

	rv = nng_rep0_open(sock);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "socket: %s", nng_strerror(rv));
		return XSELL_EIO;
	}
	/* nng takes messages of any size by default: cap what a peer can
	 * make us buffer. Between max_msg and this, the handler answers
	 * too_large; beyond it, nng drops the connection unread. */
	nng_socket_set_size(
	    *sock, NNG_OPT_RECVMAXSZ, max_msg * XSELL_RECV_SLACK);
	for (size_t i = 0; i < n_urls; i++) {
		rv = nng_listen(*sock, urls[i], NULL, 0);
		if (rv != 0) {
			xs_log(XS_LOG_ERROR, "cannot listen on %s: %s",
			    urls[i], nng_strerror(rv));
			nng_close(*sock);
			return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP
			    ? XSELL_EINVAL
			    : XSELL_EIO;
		}
	}
	return XSELL_OK;
}

xsell_err
xs_server_open(xs_server **srvp, const struct xs_server_opts *o)
{
	struct xs_store_opts so = { 0 };
	xs_server           *srv;
	xsell_err            err;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		return XSELL_ENOMEM;
	}
	srv->settings = o->settings;
	so.map_size   = o->map_size;
	err           = xs_store_open(&srv->store, o->db, &so);
	if (err != XSELL_OK) {
		goto free_srv;
	}
	if (o->n_listen != 0) {
		err = socket_open(&srv->read_sock, XSELL_READ_MSG_MAX,
		    o->listen, o->n_listen);
		if (err != XSELL_OK) {
			goto close_store;
		}
		srv->has_read = true;
	}
	if (o->n_admin != 0) {
		err = socket_open(&srv->admin_sock, XSELL_ADMIN_MSG_MAX,
		    o->admin, o->n_admin);
		if (err != XSELL_OK) {
			goto close_read;
		}
		srv->has_admin = true;
	}
	{
		long     cores   = sysconf(_SC_NPROCESSORS_ONLN);
		unsigned readers = o->threads
		    ? o->threads
		    : (unsigned) (cores > 0 ? cores : 1);
		unsigned admins  = readers / 2 > 2 ? readers / 2 : 2;

		srv->n_workers = (srv->has_read ? readers : 0) +
		    (srv->has_admin ? admins : 0);
		/* n_workers >= 1: xselld refuses options without an
		 * endpoint (and calloc(0) is not NULL on glibc). */
		// NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI)
		srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
		if (srv->workers == NULL) {
			err = XSELL_ENOMEM;
			goto close_admin;
		}
		for (size_t i = 0; i < srv->n_workers; i++) {
			srv->workers[i].srv = srv;
			srv->workers[i].admin =
			    !(srv->has_read && i < readers);
		}
	}
	srv->started_ns = xs_mono_ns();
	*srvp           = srv;
	return XSELL_OK;

close_admin:
	if (srv->has_admin) {
		nng_close(srv->admin_sock);
	}
close_read:
	if (srv->has_read) {
		nng_close(srv->read_sock);
	}
close_store:
	xs_store_close(srv->store);
free_srv:
	free(srv);
	return err;
}

/* Serve one received message: handle it and send the reply. */
static void
worker_serve(struct xs_worker *w, nng_msg *msg)
{
	int rv;

	xs_server_handle(w, nng_msg_body(msg), nng_msg_len(msg), &w->out);
	nng_msg_clear(msg);
	rv = nng_msg_append(msg, w->out.data, w->out.len);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "reply: %s", nng_strerror(rv));
		nng_msg_free(msg);
		return;
	}
	nng_aio_set_msg(w->aio, msg);
	nng_aio_set_timeout(w->aio, SEND_TIMEOUT_MS);
	nng_ctx_send(w->ctx, w->aio);
	nng_aio_wait(w->aio);
	if (nng_aio_result(w->aio) != 0) {
		/* The reply was not taken: it is still ours to free. */
		nng_msg_free(nng_aio_get_msg(w->aio));
	}
}

static void *
worker_main(void *arg)
{
	struct xs_worker *w = arg;

	while (!atomic_load(&w->srv->stopping)) {
		int rv;

		nng_aio_set_timeout(w->aio, RECV_POLL_MS);
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ETIMEDOUT) {
			continue;
		}
		if (rv != 0) {
			if (rv != NNG_ECLOSED) {
				xs_log(XS_LOG_WARN, "receive: %s",
				    nng_strerror(rv));
			}
			if (rv == NNG_ECLOSED) {
				break;
			}
			continue;
		}
		worker_serve(w, nng_aio_get_msg(w->aio));
	}
	return NULL;
}

static xsell_err
worker_start(struct xs_worker *w)
{
	nng_socket sock = w->admin ? w->srv->admin_sock : w->srv->read_sock;
	xsell_err  err;
	int        rv;

	xs_arena_init(&w->arena, WORKER_ARENA_MAX);
	xs_buf_init(&w->out, REPLY_MAX);
	if (w->admin) {
		err = xs_acc_alloc(&w->acc);
		if (err != XSELL_OK) {
			return err;
		}
	}
	rv = nng_aio_alloc(&w->aio, NULL, NULL);
	if (rv == 0) {
		rv = nng_ctx_open(&w->ctx, sock);
	}
	if (rv == 0) {
		rv = pthread_create(&w->thread, NULL, worker_main, w);
	}
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "worker: cannot start (%d)", rv);
		return XSELL_EUNAVAIL;
	}
	w->started = true;
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
	return XSELL_OK;
}

void
xs_server_stop(xs_server *srv)
{
	atomic_store(&srv->stopping, true);
}

void
xs_server_close(xs_server *srv)
{
	if (srv == NULL) {
		return;
	}
	atomic_store(&srv->stopping, true);
	for (size_t i = 0; i < srv->n_workers; i++) {
		struct xs_worker *w = &srv->workers[i];

		if (w->started) {
			pthread_join(w->thread, NULL);
			nng_ctx_close(w->ctx);
		}
		if (w->aio != NULL) {
			nng_aio_free(w->aio);
		}
		xs_arena_fini(&w->arena);
		xs_buf_fini(&w->out);
		xs_acc_free(w->acc);
	}
	/* Let the last replies leave before the pipes close. */
	nng_msleep(50);
	if (srv->has_read) {
		nng_close(srv->read_sock);
	}
	if (srv->has_admin) {
		nng_close(srv->admin_sock);
	}
	xs_store_close(srv->store);
	free(srv->workers);
	free(srv);
}
