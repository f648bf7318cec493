/* SPDX-License-Identifier: MIT */
/* The HTTP/JSON front of xselld: run in a process of its own by
 * xsell-gateway (main.c), and inside xselld by `xselld --http`, where
 * its upstreams are xselld's own sockets over inproc://.
 *
 * The gateway serves HTTP with nng's own HTTP server (nng 1.5.2's
 * nng_http_server_*), turns each JSON request body (or a GET's query,
 * as the JSON object it stands for) into the msgpack request of the
 * wire protocol (proto/PROTOCOL.md), forwards it to xselld
 * over nng REQ contexts, and answers the reply as JSON with an HTTP status
 * taken from the reply's error code. It also serves GET /healthz and GET
 * /metrics (Prometheus text, built from xselld's "stats" op and the
 * gateway's own counters). proto/HTTP.md is the contract of the mapping.
 *
 * It holds no store and knows no op semantics beyond which ops write
 * (wire/ops.def), which answers caches may keep (ops.c) and which query
 * parameters are lists or strings (query.c): validation stays in
 * xselld, so both wires give the same answer to the same request.
 *
 * THREADS. Everything runs on nng's callback threads; nothing blocks in
 * a callback. xs_gw_open() and xs_gw_close() are called from one thread
 * (main). */
#ifndef XSELL_GATEWAY_GATEWAY_H
#define XSELL_GATEWAY_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include <xsell/errors.h>

/* Contexts (requests in flight) per upstream, default and most. */
#define XS_GW_POOL_DEFAULT 32
#define XS_GW_POOL_MAX 1024
/* Requests waiting for a free context per upstream, default and most;
 * beyond it a request gets 503 "unavailable" at once. */
#define XS_GW_QUEUE_DEFAULT 1024
#define XS_GW_QUEUE_MAX 100000
/* Per request: reading its body, waiting for a context and the round
 * trip to xselld together, milliseconds; for a write, only until it is
 * sent (below). */
#define XS_GW_TIMEOUT_DEFAULT_MS 2000
#define XS_GW_TIMEOUT_MAX_MS 600000
/* How long a write, once sent, waits for xselld's reply, milliseconds:
 * not --timeout. xselld answers every write it gets, after its commit,
 * which for a big batch can take longer than any read; an error sent
 * meanwhile could not say whether the write was applied, and a client
 * told "unavailable" would send it again. Past this wait, or when the
 * connection breaks first, the answer is 504 "outcome_unknown". */
#define XS_GW_WRITE_REPLY_MS 600000
/* Largest reply taken from xselld (NNG_OPT_RECVMAXSZ), bytes. */
#define XS_GW_REPLY_MAX (8u * 1024u * 1024u)
/* Longest op name taken from a path (/v1/<op>). */
#define XS_GW_OP_MAX 32
/* max-age of cacheable GET answers (about items, not users), seconds:
 * the store changes with every write, so briefly by default; 0 makes
 * every answer no-store. */
#define XS_GW_MAX_AGE_DEFAULT 60
#define XS_GW_MAX_AGE_MAX 86400

struct xs_gw_opts {
	const char *http;           /* "HOST:PORT" or http:// URL; reads */
	const char *http_admin;     /* same, reads and writes; or NULL */
	const char *upstream;       /* xselld read endpoint (nng URL) */
	const char *admin_upstream; /* xselld admin endpoint, or NULL */
	unsigned    pool;           /* contexts per upstream */
	unsigned    queue;          /* waiting requests per upstream */
	int         timeout_ms;     /* per request, see above */
	size_t      body_max;       /* JSON body bytes on 'http' */
	size_t      admin_body_max; /* JSON body bytes on 'http_admin' */
	unsigned    max_age_s;      /* Cache-Control max-age, see above */
};

typedef struct xs_gw xs_gw;

/* Fill 'o' with the defaults: no addresses, pool and queue and timeout
 * and max-age as above, body limits equal to the wire's message limits
 * (XSELL_READ_MSG_MAX, XSELL_ADMIN_MSG_MAX). */
void xs_gw_opts_default(struct xs_gw_opts *o);

/* Open the upstream sockets (dialled in the background: xselld may start
 * later; any nng URL, inproc:// included) and start serving HTTP on the
 * addresses of 'o', which must outlive the gateway. 'http_admin' needs
 * 'admin_upstream'. On success stores the handle in *gp; close it with
 * xs_gw_close(). Returns XSELL_EINVAL for a bad address or option,
 * XSELL_EUNAVAIL when an address cannot be listened on (in use, not local),
 * XSELL_ENOMEM. The reason is logged. */
xsell_err xs_gw_open(xs_gw **gp, const struct xs_gw_opts *o);

/* The TCP port the read (admin: the admin) listener is bound to; useful
 * when it was given as port 0. 0 if there is no such listener. */
int xs_gw_port(xs_gw *g, bool admin);

/* Answer the requests in flight (waiting at most timeout_ms + 1 s;
 * requests that arrive meanwhile get 503 and a closed connection), then
 * fail what is left (a write still waiting for its reply is answered
 * 504 outcome_unknown, or loses its connection unanswered), stop
 * listening, close every connection, and free 'g'. NULL is allowed. */
void xs_gw_close(xs_gw *g);

#endif /* XSELL_GATEWAY_GATEWAY_H */
