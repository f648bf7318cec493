/* SPDX-License-Identifier: MIT */
/* The HTTP side: nng 1.5.2's HTTP server, one handler per listener that
 * routes every path and method itself, so that every answer -- 404 and
 * 405 included -- is JSON rather than nng's HTML error page.
 *
 * A request is a 'job' that moves through callbacks and never blocks a
 * thread: the handler checks the route and Content-Length, reads the
 * body with its own aio (bounded in bytes and time; nng's body collector
 * answers an oversize body with 400 where HTTP wants 413) -- or, for a
 * GET, takes the query string -- translates it, hands it to an upstream
 * pool, and the upstream's callback writes the
 * response and finishes the handler's aio. Whenever the handler leaves
 * a body unread, its response closes the connection, so those bytes are
 * not taken for the next request. That holds only for requests that
 * reach the handler: nng 1.5.2 answers an HTTP/1.1 request without Host
 * itself (an HTML 400), keeps the connection and leaves the body unread,
 * so the body is parsed as the next request -- unseen by the gateway
 * (proto/HTTP.md, "Limits": a proxy in front must send Host). */
#include "gateway/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include <xsell/client.h>
#include <xsell/limits.h>

#include "common/common.h"
#include "gateway/gateway_impl.h"

struct listener {
	struct xs_gw     *gw;
	nng_http_server  *server;
	nng_http_handler *handler;  /* owned by 'server' once added */
	bool              admin;    /* takes writes */
	size_t            body_max; /* bytes */
	int               port;     /* bound TCP port */
};

struct xs_gw {
	const struct xs_gw_opts *o;
	xs_gw_upstream          *read;
	xs_gw_upstream          *admin;  /* NULL without --admin-upstream */
	struct listener          lis[2]; /* [0] reads, [1] admin */
	struct xs_gw_stats       stats;
	nng_mtx                 *mtx;
	nng_cv                  *cv;      /* in_flight reached 0 */
	int64_t                  jobs;    /* jobs alive, under mtx */
	atomic_bool              closing; /* xs_gw_close() has begun */
	char cache_public[40];            /* Cache-Control of public answers */
};

enum job_kind { JOB_OP, JOB_METRICS, JOB_HEALTH, JOB_CONSOLE };

struct job {
	struct xs_gw     *gw;
	struct listener  *lis;
	nng_aio          *http_aio; /* the handler's; finished once */
	nng_http_req     *req;
	nng_http_conn    *conn;
	nng_aio          *body_aio; /* reads the body */
	char             *body;
	size_t            body_len;
	enum job_kind     kind;
	enum xs_gw_op     op;
	char              path_op[XS_GW_OP_MAX + 1]; /* "" for POST /v1 */
	bool              admin_upstream; /* the call went to admin */
	bool              close;          /* send Connection: close */
	bool              get;            /* GET or HEAD of an op: cacheable */
	const char       *allow;          /* Allow: of a 405 */
	uint64_t          start_ns;       /* upstream call began */
	struct xs_gw_id   id; /* the request's, once read: respond_error's */
	struct xs_gw_call call;
};

/* ==== Jobs ==== */

static struct job *
job_alloc(struct xs_gw *gw, struct listener *lis, nng_aio *aio)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		return NULL;
	}
	j->gw       = gw;
	j->lis      = lis;
	j->http_aio = aio;
	j->req      = nng_aio_get_input(aio, 0);
	j->conn     = nng_aio_get_input(aio, 2);
	j->op       = XS_GW_OP_COUNT;
	nng_mtx_lock(gw->mtx);
	gw->jobs++;
	nng_mtx_unlock(gw->mtx);
	atomic_fetch_add(&gw->stats.in_flight, 1);
	return j;
}

static void
job_free(struct job *j)
{
	struct xs_gw *gw = j->gw;

	/* Often called from body_aio's own callback, where nng_aio_free
	 * would wait for itself; the reaper frees it once that returns. */
	if (j->body_aio != NULL) {
		nng_aio_reap(j->body_aio);
	}
	free(j->body);
	free(j->id.buf);
	free(j);
	atomic_fetch_sub(&gw->stats.in_flight, 1);
	nng_mtx_lock(gw->mtx);
	if (--gw->jobs == 0) {
		nng_cv_wake(gw->cv);
	}
	nng_mtx_unlock(gw->mtx);
}

/* End the job with a hard close of the connection (nng's reaction to a
 * handler error): for a body that stalled or broke off. */
static void
job_abort(struct job *j, int rv)
{
	nng_aio *aio = j->http_aio;

	/* Finish before the job ends: xs_gw_close() closes the connections
	 * once no job is left, and must not do so under a finish. */
	nng_aio_finish(aio, rv);
	job_free(j);
}

/* ==== Responses ==== */

/* Cache-Control of a response (proto/HTTP.md, "Caching"): only a GET's
 * successful answer may be kept, and only one about items (the same for
 * every caller) by shared caches. Everything else -- POST replies,
 * errors, stats, /metrics, /healthz -- changes with every write or
 * request, and a user's picks or history are theirs alone. */
static const char *
cache_control(const struct job *j, int status)
{
	if (j->kind != JOB_OP || !j->get || status != 200) {
		return "no-store";
	}
	switch (xs_gw_op_cache(j->op)) {
	case XS_GW_CACHE_PUBLIC:
		return j->gw->cache_public;
	case XS_GW_CACHE_PRIVATE:
		return "private, no-store";
	default:
		return "no-store";
	}
}

static void
respond(
    struct job *j, int status, const char *type, const void *body, size_t len)
{
	nng_http_res *res;
	nng_aio      *aio = j->http_aio;
	int           rv;

	rv = nng_http_res_alloc(&res);
	if (rv != 0) {
		job_abort(j, rv);
		return;
	}
	rv = nng_http_res_set_status(res, (uint16_t) status);
	if (rv == 0 && status == 413) {
		/* nng 1.5.2 has no reason phrase for 413. */
		rv = nng_http_res_set_reason(res, "Content Too Large");
	}
	if (rv == 0 && status == 414) {
		/* ... and RFC 2068's old one for 414 (RFC 9110's name). */
		rv = nng_http_res_set_reason(res, "URI Too Long");
	}
	if (rv == 0) {
		rv = nng_http_res_set_header(res, "Content-Type", type);
	}
	if (rv == 0) {
		rv = nng_http_res_set_header(
		    res, "Cache-Control", cache_control(j, status));
	}
	if (rv == 0 && j->kind == JOB_CONSOLE) {
		/* The page shows data from the store: let it load nothing
		 * from elsewhere and talk only to this address. */
		rv = nng_http_res_set_header(res, "Content-Security-Policy",
		    "default-src 'none'; script-src 'unsafe-inline'; "
		    "style-src 'unsafe-inline'; connect-src 'self'; "
		    "img-src data:; frame-ancestors 'none'");
	}
	if (rv == 0 && j->allow != NULL) {
		rv = nng_http_res_set_header(res, "Allow", j->allow);
	}
	if (rv == 0 && j->close) {
		rv = nng_http_res_set_header(res, "Connection", "close");
	}
	if (rv == 0) {
		rv = nng_http_res_copy_data(res, body, len);
	}
	if (rv != 0) {
		nng_http_res_free(res);
		job_abort(j, rv);
		return;
	}
	xs_gw_stats_response(
	    &j->gw->stats, j->kind == JOB_OP ? j->op : XS_GW_OP_COUNT, status);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0); /* first: see job_abort() */
	job_free(j);
}

/* The JSON text of the reply map 'reply' into *textp (malloc'd; caller
 * frees) and *lenp: byte for byte what xsell --json prints, newline
 * included. False if memory ran out. */
static bool
reply_json(const msgpack_object *reply, char **textp, size_t *lenp)
{
	FILE     *out = open_memstream(textp, lenp);
	xsell_err err;

	if (out == NULL) {
		return false;
	}
	/* EINVAL: something nested too deep was written as null. */
	err = xsell_json_write(out, reply, false);
	if (fclose(out) != 0 || (err != XSELL_OK && err != XSELL_EINVAL)) {
		free(*textp);
		*textp = NULL;
		return false;
	}
	return true;
}

/* {"ok":false,"id":ID,"error":{"code":CODE,"message":MSG}}, the wire's
 * error shape, made by the gateway itself: written as xselld's replies
 * are (reply_json), with the request's id when it was read as far as
 * that (j->id; PROTOCOL.md), so that a client matches the gateway's
 * refusals to its requests as it matches xselld's. */
static void
respond_error(struct job *j, int status, const char *code, const char *msg)
{
	msgpack_unpacked up;
	void            *reply;
	size_t           reply_len;
	char            *text = NULL;
	size_t           len  = 0;
	bool             ok;

	if (xs_gw_error_reply(&j->id, code, msg, &reply, &reply_len) !=
	    XSELL_OK) {
		job_abort(j, NNG_ENOMEM);
		return;
	}
	msgpack_unpacked_init(&up);
	ok = xsell_reply_unpack(reply, reply_len, &up) == XSELL_OK &&
	    reply_json(&up.data, &text, &len);
	msgpack_unpacked_destroy(&up);
	free(reply);
	if (!ok) {
		job_abort(j, NNG_ENOMEM);
		return;
	}
	respond(j, status, "application/json", text, len);
	free(text);
}

/* The HTTP status of a wire error code (proto/HTTP.md). */
static int
status_of_code(const char *code, size_t len)
{
	static const struct {
		const char *code;
		int         status;
	} map[] = {
		{ "bad_request", 400 },
		{ "too_large", 413 },
		{ "forbidden", 403 },
		{ "not_found", 404 },
		{ "unavailable", 503 },
		{ "internal", 500 },
		{ "outcome_unknown", 504 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i].code) == len &&
		    memcmp(map[i].code, code, len) == 0) {
			return map[i].status;
		}
	}
	return 500; /* a code newer than this gateway: still an error */
}

/* ==== Upstream replies ==== */

static void
count_failure(struct job *j, enum xs_gw_fail why)
{
	atomic_fetch_add(&j->gw->stats.fail[j->admin_upstream][why], 1);
}

/* Whether a call that ended with 'err' may have changed the store: a
 * write that reached xselld, whose reply did not come. */
static bool
outcome_unknown(const struct job *j, xsell_err err)
{
	return err == XSELL_ENOREPLY && xs_gw_op_is_write(j->op);
}

/* The reply of an op: its JSON, with the status of its error code. */
static void
answer_op(struct job *j, const msgpack_object *reply)
{
	struct xsell_reply_error e;
	char                    *text   = NULL;
	size_t                   len    = 0;
	int                      status = 200;
	xsell_err                err;

	err = xsell_reply_status(reply, &e);
	if (err == XSELL_EIO) {
		count_failure(j, XS_GW_FAIL_BAD_REPLY);
		respond_error(j, 500, "internal",
		    "xselld sent a reply without a boolean \"ok\"");
		return;
	}
	if (err != XSELL_OK) {
		status = status_of_code(e.code, e.code_len);
	}
	if (!reply_json(reply, &text, &len)) {
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
	respond(j, status, "application/json", text, len);
	free(text);
}

static void
answer_metrics(struct job *j, const msgpack_object *stats)
{
	char  *text = NULL;
	size_t len  = 0;
	FILE  *out  = open_memstream(&text, &len);

	if (out == NULL) {
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
	xs_gw_metrics_write(out, stats, &j->gw->stats);
	if (fclose(out) != 0) {
		free(text);
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
	respond(j, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}

static void
answer_health(struct job *j, const msgpack_object *stats)
{
	static const char up[] = "{\"ok\":true,\"upstream\":\"up\"}\n";

	if (stats == NULL || xsell_reply_status(stats, NULL) != XSELL_OK) {
		respond_error(j, 503, "unavailable",
		    "xselld did not answer \"stats\" in time");
		return;
	}
	respond(j, 200, "application/json", up, sizeof(up) - 1);
}

/* An op's call that ended without a reply. 503 "unavailable" tells the
 * client that nothing changed and a retry is safe (errors.md): true of a
 * read, and of a write that never reached xselld. A write that did may
 * have been applied, so its answer says the outcome is unknown. */
static void
answer_no_reply(struct job *j, xsell_err err)
{
	char msg[256];

	if (j->call.overload) {
		respond_error(j, 503, "unavailable",
		    "too many requests waiting for xselld; retry later");
	} else if (outcome_unknown(j, err)) {
		snprintf(msg, sizeof(msg),
		    "%s: sent to xselld, but its reply did not come (the "
		    "connection broke, or none in %d s): it may or may not "
		    "have been applied",
		    xs_gw_op_name(j->op), XS_GW_WRITE_REPLY_MS / 1000);
		respond_error(j, 504, "outcome_unknown", msg);
	} else if (xs_gw_op_is_write(j->op)) {
		respond_error(j, 503, "unavailable",
		    "the write was not sent to xselld (not connected, or "
		    "busy past the timeout): nothing changed; retry later");
	} else {
		respond_error(j, 503, "unavailable",
		    "no reply from xselld in time; retry later");
	}
}

static void
upstream_done(struct xs_gw_call *call, xsell_err err, nng_msg *msg)
{
	struct job *j =
	    (struct job *) ((char *) call - offsetof(struct job, call));
	msgpack_unpacked up;
	bool             have = false;

	/* xsell_reply_unpack() keeps its own copy: 'msg' can go at once. */
	msgpack_unpacked_init(&up);
	if (err == XSELL_OK) {
		xs_gw_stats_latency(&j->gw->stats,
		    j->kind == JOB_OP ? j->op : XS_GW_OP_stats,
		    (xs_mono_ns() - j->start_ns) / 1000);
		have = xsell_reply_unpack(nng_msg_body(msg), nng_msg_len(msg),
		           &up) == XSELL_OK;
		nng_msg_free(msg);
		if (!have) {
			count_failure(j, XS_GW_FAIL_BAD_REPLY);
		}
	} else if (call->overload) {
		count_failure(j, XS_GW_FAIL_OVERLOADED);
	} else {
		count_failure(j,
		    outcome_unknown(j, err) ? XS_GW_FAIL_OUTCOME_UNKNOWN
		                            : XS_GW_FAIL_UNAVAILABLE);
	}
	switch (j->kind) {
	case JOB_METRICS:
		answer_metrics(j, have ? &up.data : NULL);
		break;
	case JOB_HEALTH:
		answer_health(j, have ? &up.data : NULL);
		break;
	case JOB_CONSOLE: /* answered without xselld: never sent */
	case JOB_OP:
		if (have) {
			answer_op(j, &up.data);
		} else if (err == XSELL_OK) {
			respond_error(j, 500, "internal",
			    "xselld sent a reply that is not one msgpack map");
		} else {
			answer_no_reply(j, err);
		}
		break;
	}
	msgpack_unpacked_destroy(&up);
}

/* A write waits for its reply at least as long as a read may. */
_Static_assert(XS_GW_WRITE_REPLY_MS >= XS_GW_TIMEOUT_MAX_MS,
    "a write's reply wait shorter than --timeout");

/* Send 'len' bytes of msgpack at 'req' (taken: freed here) upstream: a
 * read and its reply within --timeout; a write sent within --timeout,
 * then its reply within XS_GW_WRITE_REPLY_MS (gateway.h says why). */
static void
forward(struct job *j, void *req, size_t len)
{
	xs_gw_upstream *up = j->admin_upstream ? j->gw->admin : j->gw->read;
	nng_msg        *msg;
	nng_time        now;
	int             rv;

	rv = nng_msg_alloc(&msg, 0);
	if (rv == 0) {
		rv = nng_msg_append(msg, req, len);
		if (rv != 0) {
			nng_msg_free(msg);
		}
	}
	free(req);
	if (rv != 0) {
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
	now              = nng_clock();
	j->call.req      = msg;
	j->call.cb       = upstream_done;
	j->call.send_by  = now + (nng_time) j->gw->o->timeout_ms;
	j->call.reply_by = xs_gw_op_is_write(j->op)
	    ? now + (nng_time) XS_GW_WRITE_REPLY_MS
	    : j->call.send_by;
	j->start_ns      = xs_mono_ns();
	xs_gw_upstream_call(up, &j->call);
}

/* {"op":"stats"}, for /metrics and /healthz. */
static void
forward_stats(struct job *j)
{
	static const char stats[] = "\x81\xa2op\xa5stats";
	void             *req     = malloc(sizeof(stats) - 1);

	if (req == NULL) {
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
	memcpy(req, stats, sizeof(stats) - 1);
	forward(j, req, sizeof(stats) - 1);
}

/* ==== Requests ==== */

/* The msgpack request req[0..len) (taken: freed here) of a POST body or
 * a GET query: refuse a write on the read address, or a request over the
 * endpoint's limit, else forward it. 'msg' is scratch. */
static void
send_request(struct job *j, void *req, size_t len, char *msg, size_t msg_len)
{
	size_t max;

	if (xs_gw_op_is_write(j->op)) {
		if (!j->lis->admin) {
			free(req);
			snprintf(msg, msg_len,
			    "%s: writes are taken only on the admin HTTP "
			    "address (--http-admin)",
			    xs_gw_op_name(j->op));
			respond_error(j, 403, "forbidden", msg);
			return;
		}
		j->admin_upstream = true;
	}
	/* What xselld would answer for a message over its endpoint's
	 * limit, without sending it (beyond 4x the limit xselld would drop
	 * the connection unanswered). */
	max = j->admin_upstream ? XSELL_ADMIN_MSG_MAX : XSELL_READ_MSG_MAX;
	if (len > max) {
		free(req);
		snprintf(msg, msg_len,
		    "request: %zu bytes as msgpack, more than the %zu the "
		    "endpoint takes",
		    len, max);
		respond_error(j, 413, "too_large", msg);
		return;
	}
	forward(j, req, len);
}

/* The body has been read (or was empty): translate and send it. */
static void
handle_body(struct job *j)
{
	void  *req;
	size_t len;
	char   msg[256];

	switch (xs_gw_json_to_request(j->body, j->body_len,
	    j->path_op[0] != '\0' ? j->path_op : NULL, &req, &len, &j->op,
	    &j->id, msg, sizeof(msg))) {
	case XSELL_OK:
		send_request(j, req, len, msg, sizeof(msg));
		return;
	case XSELL_EINVAL:
		respond_error(j, 400, "bad_request", msg);
		return;
	default:
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
}

/* GET /v1/<op>?q[0..len): the query's fields as a request, sent as a
 * POST body with them would be. A query over the gateway's bounds is
 * 414 URI Too Long. */
static void
handle_query(struct job *j, const char *q, size_t len)
{
	void  *req;
	size_t rlen;
	char   msg[256];

	switch (xs_gw_query_to_request(q, len, j->path_op, &req, &rlen, &j->op,
	    &j->id, msg, sizeof(msg))) {
	case XSELL_OK:
		send_request(j, req, rlen, msg, sizeof(msg));
		return;
	case XSELL_EINVAL:
		respond_error(j, 400, "bad_request", msg);
		return;
	case XSELL_ETOOBIG:
		respond_error(j, 414, "too_large", msg);
		return;
	default:
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
}

static void
body_cb(void *arg)
{
	struct job *j  = arg;
	int         rv = nng_aio_result(j->body_aio);

	if (rv != 0) {
		/* Stalled past the timeout, or the peer went away: there is
		 * no one to answer reliably, so close. */
		job_abort(j, rv);
		return;
	}
	handle_body(j);
}

/* Content-Length as a number; false if malformed. */
static bool
parse_length(const char *s, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9') {
		return false;
	}
	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return false;
	}
	*out = v;
	return true;
}

/* POST: check the framing and the size, then read the body. */
static void
read_body(struct job *j)
{
	const char *cl  = nng_http_req_get_header(j->req, "Content-Length");
	const char *te  = nng_http_req_get_header(j->req, "Transfer-Encoding");
	uint64_t    len = 0;
	nng_iov     iov;
	char        msg[160];
	int         rv;

	if (te != NULL) {
		/* nng's server does not decode chunked bodies. */
		j->close = true;
		respond_error(j, 411, "bad_request",
		    "body: send it with a Content-Length, not chunked");
		return;
	}
	if (cl != NULL && !parse_length(cl, &len)) {
		j->close = true;
		respond_error(
		    j, 400, "bad_request", "Content-Length: not a number");
		return;
	}
	if (len > j->lis->body_max) {
		j->close = true;
		snprintf(msg, sizeof(msg),
		    "body: %llu bytes, more than the %zu this address takes",
		    (unsigned long long) len, j->lis->body_max);
		respond_error(j, 413, "too_large", msg);
		return;
	}
	if (len == 0) {
		handle_body(j);
		return;
	}
	j->body     = malloc((size_t) len);
	j->body_len = (size_t) len;
	rv          = j->body != NULL ? nng_aio_alloc(&j->body_aio, body_cb, j)
	                              : NNG_ENOMEM;
	if (rv != 0) {
		j->close = true;
		respond_error(j, 503, "unavailable", "out of memory");
		return;
	}
	iov.iov_buf = j->body;
	iov.iov_len = j->body_len;
	nng_aio_set_iov(j->body_aio, 1, &iov);
	nng_aio_set_timeout(j->body_aio, j->gw->o->timeout_ms);
	nng_http_conn_read_all(j->conn, j->body_aio);
}

/* Whether the request has a body we will not read. */
static bool
has_body(struct job *j)
{
	const char *cl = nng_http_req_get_header(j->req, "Content-Length");

	return nng_http_req_get_header(j->req, "Transfer-Encoding") != NULL ||
	    (cl != NULL && strcmp(cl, "0") != 0);
}

/* The op of "/v1/OP" into j->path_op; false if not a plausible name. */
static bool
take_path_op(struct job *j, const char *op, size_t len)
{
	if (len == 0 || len > XS_GW_OP_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = op[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '_')) {
			return false;
		}
	}
	memcpy(j->path_op, op, len);
	j->path_op[len] = '\0';
	return true;
}

/* /v1 or /v1/<op> by a method other than POST. A write op, and /v1
 * whose op is in a body, take POST only: a GET must never change the
 * store (caches, crawlers and prefetchers repeat GETs freely). A GET or
 * HEAD of a read op carries its fields in the query 'q' (up to '#'). */
static void
route_op_without_body(struct job *j, bool get, const char *q)
{
	bool writes = j->path_op[0] == '\0' ||
	    xs_gw_op_is_write(xs_gw_op_find(j->path_op, strlen(j->path_op)));
	char msg[80];

	if (get && !writes) {
		j->get = true;
		handle_query(j, q, strcspn(q, "#"));
		return;
	}
	j->allow = writes ? "POST" : "GET, HEAD, POST";
	if (j->path_op[0] == '\0') {
		respond_error(j, 405, "bad_request",
		    "method: use POST (a GET names its op: /v1/<op>)");
	} else if (writes) {
		snprintf(msg, sizeof(msg), "method: %s writes: use POST",
		    j->path_op);
		respond_error(j, 405, "bad_request", msg);
	} else {
		respond_error(
		    j, 405, "bad_request", "method: use GET or POST");
	}
}

static void
route(struct job *j)
{
	const char *method = nng_http_req_get_method(j->req);
	const char *uri    = nng_http_req_get_uri(j->req);
	size_t      plen   = strcspn(uri, "?#");
	bool get  = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;

	if (!post && has_body(j)) {
		j->close = true;
	}
	if (plen == 1 && uri[0] == '/') {
		j->kind = JOB_CONSOLE;
	} else if (plen == 8 && memcmp(uri, "/healthz", 8) == 0) {
		j->kind = JOB_HEALTH;
	} else if (plen == 8 && memcmp(uri, "/metrics", 8) == 0) {
		j->kind = JOB_METRICS;
	} else if ((plen == 3 && memcmp(uri, "/v1", 3) == 0) ||
	    (plen > 4 && memcmp(uri, "/v1/", 4) == 0 &&
	        take_path_op(j, uri + 4, plen - 4))) {
		j->kind = JOB_OP;
	} else {
		j->close = j->close || post;
		respond_error(j, 404, "not_found",
		    "no such path: use GET or POST /v1/<op>, POST /v1, GET "
		    "/healthz, GET /metrics or GET / (the console)");
		return;
	}
	if (j->path_op[0] != '\0') {
		/* An answer to /v1/<op> counts under that op in the metrics,
		 * the gateway's own refusals too (a malformed body or query,
		 * 405, 413); a body can name no other. */
		j->op = xs_gw_op_find(j->path_op, strlen(j->path_op));
	}
	if (j->kind != JOB_OP) {
		if (!get) {
			j->close = j->close || post;
			j->allow = "GET, HEAD";
			respond_error(
			    j, 405, "bad_request", "method: use GET");
			return;
		}
		if (j->kind == JOB_CONSOLE) {
			respond(j, 200, "text/html; charset=utf-8",
			    xs_gw_console_html, xs_gw_console_html_len);
			return;
		}
		forward_stats(j);
		return;
	}
	if (post) {
		read_body(j);
		return;
	}
	route_op_without_body(j, get, uri[plen] == '?' ? uri + plen + 1 : "");
}

/* The handler of every path; runs on an nng thread and never blocks. */
static void
http_cb(nng_aio *aio)
{
	nng_http_handler *h   = nng_aio_get_input(aio, 1);
	struct listener  *lis = nng_http_handler_get_data(h);
	struct job       *j   = job_alloc(lis->gw, lis, aio);

	if (j == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	if (atomic_load(&lis->gw->closing)) {
		j->close = true;
		respond_error(j, 503, "unavailable", "shutting down");
		return;
	}
	route(j);
}

/* ==== Listeners ==== */

/* "HOST:PORT" -> "http://HOST:PORT"; a URL is kept. */
static int
addr_url(const char *addr, nng_url **urlp)
{
	char buf[300];

	if (strstr(addr, "://") == NULL) {
		if (snprintf(buf, sizeof(buf), "http://%s", addr) >=
		    (int) sizeof(buf)) {
			return NNG_EINVAL;
		}
		addr = buf;
	}
	return nng_url_parse(urlp, addr);
}

/* The TCP port 'server' listens on (port 0 asked for any: the log and
 * xs_gw_port say which), IPv4 or IPv6; 0 if it cannot be told. */
static int
bound_port(nng_http_server *server)
{
	nng_sockaddr sa;

	if (nng_http_server_get_addr(server, &sa) != 0) {
		return 0;
	}
	switch (sa.s_family) {
	case NNG_AF_INET:
		return (int) ntohs(sa.s_in.sa_port);
	case NNG_AF_INET6:
		return (int) ntohs(sa.s_in6.sa_port);
	default:
		return 0;
	}
}

static xsell_err
listener_open(struct xs_gw *gw, struct listener *lis, const char *addr,
    bool admin, size_t body_max)
{
	nng_url *url = NULL;
	int      rv;

	lis->gw       = gw;
	lis->admin    = admin;
	lis->body_max = body_max;
	rv            = addr_url(addr, &url);
	if (rv == 0 && strcmp(url->u_scheme, "http") != 0) {
		rv = NNG_EADDRINVAL; /* TLS is not offered (mbedTLS 2.28) */
	}
	if (rv != 0) {
		xs_log(
		    XS_LOG_ERROR, "%s: not an http://HOST:PORT address", addr);
		nng_url_free(url);
		return XSELL_EINVAL;
	}
	rv = nng_http_server_hold(&lis->server, url);
	nng_url_free(url);
	if (rv == 0) {
		rv = nng_http_handler_alloc(&lis->handler, "/", http_cb);
	}
	if (rv == 0) {
		rv = nng_http_handler_set_method(lis->handler, NULL);
	}
	if (rv == 0) {
		rv = nng_http_handler_set_tree(lis->handler);
	}
	if (rv == 0) {
		/* We read bodies ourselves (see the top of the file). */
		rv = nng_http_handler_collect_body(lis->handler, false, 0);
	}
	if (rv == 0) {
		rv = nng_http_handler_set_data(lis->handler, lis, NULL);
	}
	if (rv == 0) {
		rv = nng_http_server_add_handler(lis->server, lis->handler);
		if (rv != 0) {
			nng_http_handler_free(lis->handler);
		}
		lis->handler = NULL; /* the server owns it now */
	} else if (lis->handler != NULL) {
		nng_http_handler_free(lis->handler);
		lis->handler = NULL;
	}
	if (rv == 0) {
		rv = nng_http_server_start(lis->server);
	}
	if (rv != 0) {
		xs_log(
		    XS_LOG_ERROR, "listen on %s: %s", addr, nng_strerror(rv));
		return rv == NNG_ENOMEM ? XSELL_ENOMEM : XSELL_EUNAVAIL;
	}
	lis->port = bound_port(lis->server);
	xs_log(XS_LOG_INFO, "listening on %s (%s), port %d", addr,
	    admin ? "reads and writes" : "reads", lis->port);
	return XSELL_OK;
}

static void
listener_close(struct listener *lis)
{
	if (lis->server != NULL) {
		nng_http_server_stop(lis->server);
		nng_http_server_release(lis->server);
		lis->server = NULL;
	}
}

/* ==== Gateway ==== */

void
xs_gw_opts_default(struct xs_gw_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pool           = XS_GW_POOL_DEFAULT;
	o->queue          = XS_GW_QUEUE_DEFAULT;
	o->timeout_ms     = XS_GW_TIMEOUT_DEFAULT_MS;
	o->body_max       = XSELL_READ_MSG_MAX;
	o->admin_body_max = XSELL_ADMIN_MSG_MAX;
	o->max_age_s      = XS_GW_MAX_AGE_DEFAULT;
}

/* Wait until no job is alive or 'deadline' passes: a steady flood of
 * new requests (each answered 503 at once) must not hold up a close. */
static void
jobs_drain(struct xs_gw *g, nng_time deadline)
{
	nng_mtx_lock(g->mtx);
	while (g->jobs > 0) {
		if (nng_cv_until(g->cv, deadline) == NNG_ETIMEDOUT) {
			break;
		}
	}
	nng_mtx_unlock(g->mtx);
}

xsell_err
xs_gw_open(xs_gw **gp, const struct xs_gw_opts *o)
{
	xs_gw    *gw;
	xsell_err err;

	if (o->http == NULL || o->upstream == NULL ||
	    (o->http_admin != NULL && o->admin_upstream == NULL)) {
		return XSELL_EINVAL;
	}
	gw = calloc(1, sizeof(*gw));
	if (gw == NULL) {
		return XSELL_ENOMEM;
	}
	gw->o = o;
	if (o->max_age_s > 0) {
		snprintf(gw->cache_public, sizeof(gw->cache_public),
		    "public, max-age=%u", o->max_age_s);
	} else {
		snprintf(
		    gw->cache_public, sizeof(gw->cache_public), "no-store");
	}
	if (nng_mtx_alloc(&gw->mtx) != 0) {
		free(gw);
		return XSELL_ENOMEM;
	}
	if (nng_cv_alloc(&gw->cv, gw->mtx) != 0) {
		nng_mtx_free(gw->mtx);
		free(gw);
		return XSELL_ENOMEM;
	}
	/* From here on xs_gw_close() undoes whatever was opened. */
	err = xs_gw_upstream_open(&gw->read, o->upstream, o->pool, o->queue);
	if (err == XSELL_OK && o->admin_upstream != NULL) {
		err = xs_gw_upstream_open(
		    &gw->admin, o->admin_upstream, o->pool, o->queue);
	}
	if (err == XSELL_OK) {
		err = listener_open(
		    gw, &gw->lis[0], o->http, false, o->body_max);
	}
	if (err == XSELL_OK && o->http_admin != NULL) {
		err = listener_open(
		    gw, &gw->lis[1], o->http_admin, true, o->admin_body_max);
	}
	if (err != XSELL_OK) {
		xs_gw_close(gw);
		return err;
	}
	*gp = gw;
	return XSELL_OK;
}

int
xs_gw_port(xs_gw *g, bool admin)
{
	return g->lis[admin ? 1 : 0].port;
}

void
xs_gw_close(xs_gw *g)
{
	if (g == NULL) {
		return;
	}
	/* Drain first: requests in flight are answered (each within
	 * timeout_ms), new ones get 503 at once and close their
	 * connection. Only then are the connections closed. */
	atomic_store(&g->closing, true);
	jobs_drain(g, nng_clock() + (nng_time) g->o->timeout_ms + 1000);
	/* Completes every call in flight or waiting, and fails later ones
	 * at once (a job may still be reading its body), so every job
	 * ends: a write still waiting for xselld's reply gets 504
	 * outcome_unknown. First, because nng's server stop waits for the
	 * handler aios we hold, and a write's job holds its aio until its
	 * reply, up to XS_GW_WRITE_REPLY_MS. */
	xs_gw_upstream_stop(g->read);
	xs_gw_upstream_stop(g->admin);
	/* No new requests; connections are closed (a response still being
	 * written is cut off), but handler aios we hold (a request that
	 * came in since) stay ours until we finish them. */
	listener_close(&g->lis[0]);
	listener_close(&g->lis[1]);
	/* Only once every job has ended may the upstreams go. */
	nng_mtx_lock(g->mtx);
	while (g->jobs > 0) {
		nng_cv_wait(g->cv);
	}
	nng_mtx_unlock(g->mtx);
	xs_gw_upstream_close(g->read);
	xs_gw_upstream_close(g->admin);
	nng_cv_free(g->cv);
	nng_mtx_free(g->mtx);
	free(g);
}
