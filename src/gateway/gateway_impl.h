/* SPDX-License-Identifier: MIT */
/* What the gateway's own files share: the upstream pool, the JSON request
 * translation, the counters behind /metrics. */
#ifndef XSELL_GATEWAY_GATEWAY_IMPL_H
#define XSELL_GATEWAY_GATEWAY_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include <xsell/errors.h>

/* ==== Ops (wire/ops.def) ==== */

enum xs_gw_op {
#define XS_OP(name, is_write) XS_GW_OP_##name,
#include "wire/ops.def"
#undef XS_OP
	XS_GW_OP_OTHER, /* an op this gateway does not know */
	XS_GW_OP_COUNT
};

/* The op named n[0..len), or XS_GW_OP_OTHER. */
enum xs_gw_op xs_gw_op_find(const char *n, size_t len);
/* "fbt"; "other" for XS_GW_OP_OTHER. */
const char *xs_gw_op_name(enum xs_gw_op op);
/* Whether 'op' writes (a known write op of ops.def). */
bool xs_gw_op_is_write(enum xs_gw_op op);

/* Who may keep a successful GET answer of an op, and for how long
 * (proto/HTTP.md, "Caching"). */
enum xs_gw_cache {
	XS_GW_CACHE_NONE,    /* no-store: stats, writes, ops not known */
	XS_GW_CACHE_PUBLIC,  /* about items, the same for every caller:
	                      * public, max-age=--http-max-age */
	XS_GW_CACHE_PRIVATE, /* about one user: private, no-store */
};
enum xs_gw_cache xs_gw_op_cache(enum xs_gw_op op);

/* ==== JSON body -> msgpack request ==== */

/* The "id" of a request, packed as msgpack, kept so that the gateway's
 * own error replies echo it as xselld's replies do (PROTOCOL.md: in
 * every reply to a request read as far as its id). 'buf' is NULL when
 * the request has no id or was not read that far; else malloc'd, the
 * holder frees it with free(). */
struct xs_gw_id {
	void  *buf;
	size_t len;
};

/* The "id" of the JSON object 'obj' into *id (overwritten: free a former
 * one first), packed as xs_gw_object_to_request packs it. None (buf
 * NULL) when 'obj' has no "id", when the id is nested deeper than the
 * wire takes (XSELL_DEPTH_MAX, the request map counted: xselld echoes no
 * id of such a request), or when memory runs out. */
struct json_t;
void xs_gw_id_of(struct json_t *obj, struct xs_gw_id *id);

/* The gateway's own error reply, a msgpack map {"ok": false, "id": ID,
 * "error": {"code": CODE, "message": MSG}} in the order and shape of
 * xselld's (no "id" when id is NULL or has none), into *outp (malloc'd,
 * caller frees with free()) and *out_lenp. XSELL_ENOMEM. Any thread. */
xsell_err xs_gw_error_reply(const struct xs_gw_id *id, const char *code,
    const char *msg, void **outp, size_t *out_lenp);

/* Translate the JSON text body[0..len) into one msgpack request map.
 *
 * The body must be one JSON object (an empty body counts as {}). If
 * 'path_op' is not NULL (the op came from the path /v1/<op>), the map
 * gets "op": path_op first, and a body "op" must be absent or equal to
 * it. Objects become maps, arrays arrays, strings str, integers int (in
 * msgpack's smallest form), other numbers float64, true/false
 * bool, null nil; keys keep their order. On success stores the msgpack
 * bytes in *outp (malloc'd, caller frees with free()), their length in
 * *out_lenp, and the op the request names in *opp. On failure returns
 * XSELL_EINVAL with a message for the client in msg[0..msg_len) (a
 * JSON syntax error names its line and column), or XSELL_ENOMEM. If
 * 'idp' is not NULL, *idp is the body's id (xs_gw_id_of) whenever the
 * body was read as an object, on success and on failure alike (an op
 * that is not the path's): the caller frees idp->buf. Any thread. */
xsell_err xs_gw_json_to_request(const char *body, size_t len,
    const char *path_op, void **outp, size_t *out_lenp, enum xs_gw_op *opp,
    struct xs_gw_id *idp, char *msg, size_t msg_len);

/* Pack the JSON object 'root' as the msgpack request map, with the
 * rules of xs_gw_json_to_request() (which parses a body and calls
 * this): both HTTP requests that carry fields, a POST body and a GET
 * query, go through here. *idp (if not NULL) is root's id, whatever the
 * outcome. */
xsell_err xs_gw_object_to_request(struct json_t *root, const char *path_op,
    void **outp, size_t *out_lenp, enum xs_gw_op *opp, struct xs_gw_id *idp,
    char *msg, size_t msg_len);

/* ==== GET query string -> the JSON object a POST body would be ==== */

/* Longest query (the bytes after '?') and most parameters in one. */
#define XS_GW_QUERY_MAX 4096
#define XS_GW_QUERY_PARAMS_MAX 256

/* Translate the query string q[0..len) of GET /v1/<path_op> into the
 * JSON object its POST body would be (proto/HTTP.md, "GET"), then
 * through xs_gw_object_to_request(). Parameters are name=value pairs
 * split on '&' (empty pieces skipped), percent-decoded, '+' a space.
 * The list fields (items, context, candidates, filter.exclude,
 * filter.categories, filter.exclude_categories) become arrays of
 * strings, one element per occurrence; the string fields (user,
 * category, scorer, signal, kind, id) strings; any other value true
 * or false a boolean, a JSON number a number, otherwise a string.
 * "a.b=v" sets field b of the map a. Returns XSELL_ETOOBIG for a query
 * over XS_GW_QUERY_MAX bytes or XS_GW_QUERY_PARAMS_MAX parameters,
 * XSELL_EINVAL for a malformed one (bad percent-encoding, invalid
 * UTF-8, NUL, a parameter without '=', a field given twice that is not
 * a list, a name with two dots or used both as a value and a map), in
 * both cases with a message; else as xs_gw_object_to_request(). *idp
 * (if not NULL) is the query's id whenever it was read: also when a
 * parameter after it is refused, as xselld echoes the id of a request
 * read as far as its id (not over XS_GW_QUERY_MAX bytes: nothing is
 * read); the caller frees idp->buf. */
xsell_err xs_gw_query_to_request(const char *q, size_t len,
    const char *path_op, void **outp, size_t *out_lenp, enum xs_gw_op *opp,
    struct xs_gw_id *idp, char *msg, size_t msg_len);

/* ==== Upstream: a pool of REQ contexts on one xselld endpoint ==== */

struct xs_gw_call;
/* Completion of a call: 'err' XSELL_OK with the reply 'msg' (the callee
 * takes ownership and frees it with nng_msg_free); else msg is NULL and
 * 'err' says whether xselld can have seen the request.
 * XSELL_EUNAVAIL: never sent (no free context or no connection by
 * 'send_by', the queue full, shutting down), so xselld never saw it;
 * XSELL_ENOMEM: not sent either. XSELL_ENOREPLY: sent, but no reply came
 * by 'reply_by', or the connection broke, or the socket was closed:
 * xselld may have acted on it. Runs on an nng thread, or on the
 * caller's thread when the call fails at once. */
typedef void (*xs_gw_call_cb)(
    struct xs_gw_call *call, xsell_err err, nng_msg *msg);

/* One request through the pool; the caller owns it until its callback. */
struct xs_gw_call {
	nng_msg           *req;      /* taken by xs_gw_upstream_call() */
	nng_time           send_by;  /* not sent by then: EUNAVAIL */
	nng_time           reply_by; /* sent, no reply by then: ENOREPLY */
	bool               overload; /* set when refused: queue full */
	xs_gw_call_cb      cb;
	struct xs_gw_call *next; /* queue link */
};

typedef struct xs_gw_upstream xs_gw_upstream;

/* Open a req0 socket dialled to 'url' in the background, with 'pool'
 * contexts and at most 'queue' waiting calls. Returns XSELL_EINVAL for a
 * URL nng cannot dial, XSELL_ENOMEM, XSELL_EUNAVAIL. */
xsell_err xs_gw_upstream_open(
    xs_gw_upstream **up, const char *url, unsigned pool, unsigned queue);
/* Send call->req and complete 'call' through call->cb exactly once. */
void xs_gw_upstream_call(xs_gw_upstream *up, struct xs_gw_call *call);
/* Fail the waiting calls, close the socket (which completes the calls in
 * flight) and wait for their callbacks. Later calls fail at once with
 * XSELL_EUNAVAIL. NULL is allowed; a second stop does nothing. */
void xs_gw_upstream_stop(xs_gw_upstream *up);
/* Stop 'up' if it was not, then free it. No call may start any more.
 * NULL is allowed. */
void xs_gw_upstream_close(xs_gw_upstream *up);

/* ==== The ops console, GET / ==== */

/* console/index.html, compiled in by console/embed.cmake at build time:
 * its bytes (and a NUL past them) and their number. */
extern const unsigned char xs_gw_console_html[];
extern const size_t        xs_gw_console_html_len;

/* ==== Counters for /metrics ==== */

/* Upper bounds of the latency histogram, seconds. */
#define XS_GW_BUCKETS 14
extern const double xs_gw_bucket_le[XS_GW_BUCKETS];

/* HTTP statuses counted one by one; others go to the last slot. */
#define XS_GW_STATUSES 11
extern const int xs_gw_status_codes[XS_GW_STATUSES];

enum xs_gw_fail {
	XS_GW_FAIL_UNAVAILABLE,     /* not sent, or a read unanswered */
	XS_GW_FAIL_OVERLOADED,      /* refused: the waiting queue was full */
	XS_GW_FAIL_BAD_REPLY,       /* a reply that is not one msgpack map */
	XS_GW_FAIL_OUTCOME_UNKNOWN, /* a write sent, and no reply came */
	XS_GW_FAIL_COUNT
};

struct xs_gw_op_stats {
	atomic_uint_fast64_t count;                 /* replies received */
	atomic_uint_fast64_t sum_us;                /* their latency */
	atomic_uint_fast64_t bucket[XS_GW_BUCKETS]; /* not cumulative */
	atomic_uint_fast64_t status[XS_GW_STATUSES + 1];
};

struct xs_gw_stats {
	struct xs_gw_op_stats ops[XS_GW_OP_COUNT];
	atomic_uint_fast64_t  http[XS_GW_STATUSES + 1];  /* every response */
	atomic_uint_fast64_t  fail[2][XS_GW_FAIL_COUNT]; /* [admin][why] */
	atomic_int_fast64_t   in_flight;                 /* HTTP requests */
};

/* Count one upstream round trip of 'op' that took 'us' microseconds. */
void xs_gw_stats_latency(struct xs_gw_stats *s, enum xs_gw_op op, uint64_t us);
/* Count one HTTP response with 'status'; 'op' is the op it answered,
 * or XS_GW_OP_COUNT for none (/metrics, /healthz, a bad path). */
void xs_gw_stats_response(struct xs_gw_stats *s, enum xs_gw_op op, int status);

/* Write the Prometheus text exposition to 'out': xselld's numbers from
 * the "stats" reply 'stats' (a msgpack map; NULL when xselld did not
 * answer, then xsell_up is 0), then the gateway's own. */
struct msgpack_object;
void xs_gw_metrics_write(FILE *out, const struct msgpack_object *stats,
    const struct xs_gw_stats *s);

#endif /* XSELL_GATEWAY_GATEWAY_IMPL_H */
