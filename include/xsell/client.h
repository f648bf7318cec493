/* SPDX-License-Identifier: MIT */
/* xsell client API: talk to an xselld over nng REQ/REP.
 *
 * OVERVIEW
 *
 * A client handle is one nng req0 socket dialled to one server URL
 * ("ipc:///tmp/xsell.sock", "tcp://127.0.0.1:7400", or
 * "tls+tcp://xsell.example:7401" with xsell_client_open_tls()). Each call
 * sends one request -- a msgpack map with an "op" key, see proto/PROTOCOL.md
 * -- and waits for exactly one reply, also a msgpack map: {"ok":true,...} or
 * {"ok":false,"error":{"code":CODE,"message":TEXT}}. The library moves
 * bytes and does not build requests, so a new op needs no new client
 * code. For reading replies it offers a bounded unpacker
 * (xsell_reply_unpack), a map lookup, the ok/error check, and
 * xsell_json_write(), which turns a reply into JSON for people and
 * scripts.
 *
 * Reads and writes usually live on different endpoints: the server's
 * --listen endpoint answers queries and refuses writes with "forbidden";
 * "event" and "items" must go to its --admin endpoint.
 *
 * THREADS
 *
 * A handle may be shared by any number of threads: every call runs on its
 * own nng context, so concurrent calls on one handle do not cancel each
 * other and their replies are never mixed up. xsell_client_close() must
 * not race with calls on the same handle. The reply helpers and the JSON
 * writer keep no state and may be called from any thread.
 *
 * LIFETIMES
 *
 * The request buffer is only borrowed for the duration of the call. A
 * reply is a malloc'd buffer owned by the caller, freed with
 * xsell_client_free(); it stays valid after the handle is closed. A
 * msgpack_unpacked filled by xsell_reply_unpack() owns its own copy of
 * the data (the reply buffer may be freed right after), and every
 * msgpack_object found in it is borrowed from it: valid until
 * msgpack_unpacked_destroy().
 *
 * TIMEOUTS AND FAILURES
 *
 * xsell_client_open() never waits for the server: the dial is
 * non-blocking and nng keeps reconnecting in the background, so a
 * long-running program may start before its server. A missing, stopped or
 * slow server is then found by xsell_client_call(), which gives up after
 * the handle's timeout and returns XSELL_EUNAVAIL. xsell_client_dial() is
 * the variant for tools that make one call and exit: it connects first and
 * fails at once when the server refuses the connection.
 *
 * With libnng 1.5.2 (Debian 12's), "keeps reconnecting" has one exception:
 * a server that hangs up before the client's SP header is written (it is
 * stopping, say) makes that write fail with EPIPE, which nng takes for
 * the dialer's own close, and the handle never connects again (nng issue
 * #1518, fixed in 1.6.0); every later call returns XSELL_EUNAVAIL. A
 * library cannot mend that for you: compile xsell's src/common/nng_epipe.c
 * into your program (it defines sendmsg, which reports that EPIPE as
 * ECONNRESET, a failed connection that nng dials again), as xsell's own
 * binaries do, or close and reopen a handle that keeps returning
 * XSELL_EUNAVAIL.
 *
 * The client never resends a request on a timer (a resent "event" batch
 * could be applied twice); nng may still resend a request whose connection
 * broke before the reply came, so write batches should carry a "batch" id,
 * which the server de-duplicates ("order" events are idempotent by their
 * order id anyway).
 *
 * LIMITS
 *
 * Replies larger than XSELL_CLIENT_REPLY_MAX bytes are refused by nng (the
 * connection is dropped and the call times out). Requests larger than
 * XSELL_CLIENT_REQUEST_MAX are refused before sending; the server's own
 * limits are lower: XSELL_READ_MSG_MAX on a read endpoint,
 * XSELL_ADMIN_MSG_MAX on an admin endpoint (<xsell/limits.h>).
 * xsell_reply_unpack() refuses replies nested deeper than
 * XSELL_CLIENT_DEPTH_MAX.
 */
#ifndef XSELL_CLIENT_H
#define XSELL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <xsell/errors.h>
#include <xsell/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest reply the client accepts, bytes (NNG_OPT_RECVMAXSZ). */
#define XSELL_CLIENT_REPLY_MAX (64u * 1024u * 1024u)
/* Largest request xsell_client_call() sends, bytes: the largest message
 * any server endpoint still answers with "too_large". */
#define XSELL_CLIENT_REQUEST_MAX (XSELL_ADMIN_MSG_MAX * XSELL_RECV_SLACK)
/* Deepest msgpack nesting xsell_reply_unpack() accepts (the reply map is
 * level 1). msgpack-c's own unpacker stops at 32 with a misleading
 * out-of-memory code; this limit keeps us under it. */
#define XSELL_CLIENT_DEPTH_MAX 32
/* Timeout used when a handle is opened with timeout_ms <= 0. */
#define XSELL_CLIENT_TIMEOUT_DEFAULT_MS 5000
/* Default read URL of the tools when XSELL_URL is not set. */
#define XSELL_CLIENT_URL_DEFAULT "ipc:///tmp/xsell.sock"
/* Default admin (write) URL of the tools when XSELL_ADMIN_URL is not set. */
#define XSELL_CLIENT_ADMIN_URL_DEFAULT "ipc:///tmp/xsell-admin.sock"

/* An open connection to one server; opaque. */
typedef struct xsell_client xsell_client;

/* ==== Connection ==== */

/* Open a client handle for the server at 'url'.
 *
 * 'url' is any nng URL (ipc://, tcp://, inproc://); it is borrowed for the
 * call only. 'timeout_ms' bounds each xsell_client_call() from send to
 * reply; a value <= 0 means XSELL_CLIENT_TIMEOUT_DEFAULT_MS. Does not wait
 * for the server to be up (see TIMEOUTS above). On success stores the
 * handle in *cp; the caller closes it with xsell_client_close(). Returns
 * XSELL_EINVAL if 'cp' or 'url' is NULL or 'url' is not a URL nng can
 * dial, XSELL_ENOMEM, or XSELL_EUNAVAIL if nng could not create the
 * socket. *cp is left untouched on failure. Any thread. */
xsell_err xsell_client_open(
    xsell_client **cp, const char *url, int timeout_ms);

/* Like xsell_client_open(), but connect before returning.
 *
 * Waits at most the handle's timeout for the first connection. Returns
 * XSELL_EUNAVAIL at once if the server refuses it (nothing listens on the
 * ipc path or the TCP port), and after the timeout if no connection was
 * made (an unreachable host). Once connected, the handle behaves exactly
 * like an opened one, reconnecting in the background if the server goes
 * away. Same arguments, ownership and other errors as xsell_client_open().
 * Any thread. */
xsell_err xsell_client_dial(
    xsell_client **cp, const char *url, int timeout_ms);

/* TLS settings of a connection to a tls+tcp:// endpoint. The strings
 * are borrowed for the open call only; the files are read then. */
struct xsell_client_tls {
	const char *cert_file; /* PEM client certificate (chain); NULL: none */
	const char *key_file;  /* its unencrypted PEM key; with cert_file */
	const char *ca_file;   /* PEM CA(s) the server's certificate must
	                        * chain to; required */
	const char *server_name; /* name the server's certificate must
	                          * carry; NULL: the URL's host */
};

/* xsell_client_open() and xsell_client_dial() for a tls+tcp:// URL.
 *
 * The server's certificate is always verified: it must chain to
 * tls->ca_file and carry tls->server_name (or the URL's host) as a DNS
 * name or common name. Debian's nng checks names, not IP addresses, so
 * dial a certificate made for 127.0.0.1 with server_name "localhost"
 * (or whatever DNS name it carries). An xselld endpoint started with
 * --tls-ca requires a client certificate: without one, or with one the
 * server's CA did not sign, the handshake fails, the dial variant
 * returns XSELL_EUNAVAIL and the open variant's calls time out with
 * XSELL_EUNAVAIL. Returns XSELL_EINVAL if 'tls' is NULL, the URL is not
 * tls+tcp://, ca_file is NULL, or only one of cert_file and key_file is
 * given; XSELL_EIO if a file cannot be read or is not PEM; otherwise as
 * xsell_client_open() and xsell_client_dial(). Any thread. */
xsell_err xsell_client_open_tls(xsell_client **cp, const char *url,
    int timeout_ms, const struct xsell_client_tls *tls);
xsell_err xsell_client_dial_tls(xsell_client **cp, const char *url,
    int timeout_ms, const struct xsell_client_tls *tls);

/* Close 'c' and free it. Calls still running on 'c' must have returned.
 * Replies already received stay valid. NULL is allowed (does nothing). */
void xsell_client_close(xsell_client *c);

/* Send one request and wait for its reply.
 *
 * 'req' is 'len' bytes of msgpack, normally one map with an "op" key; it
 * is borrowed for the call only and sent as is (the server, not the
 * client, validates it). On success stores a malloc'd copy of the reply in
 * *replyp and its length in *reply_lenp; the caller frees it with
 * xsell_client_free(). An error reply from the server ({"ok":false,...})
 * is a success here: look inside the reply (xsell_reply_status). On
 * failure *replyp and *reply_lenp are left untouched.
 *
 * Returns XSELL_EINVAL for NULL arguments or len == 0, XSELL_ETOOBIG if
 * 'len' is over XSELL_CLIENT_REQUEST_MAX, XSELL_ENOMEM, XSELL_EUNAVAIL
 * if the request could not be sent within the handle's timeout (no
 * server, connection refused: the server never saw it), and
 * XSELL_ENOREPLY if it was sent but no reply came within the timeout
 * (server overloaded or stopped, connection broken): a read may simply
 * be asked again; a write may or may not have been applied, so repeat
 * only one that is safe to repeat (an order by its id, a batch by its
 * "batch" id; proto/errors.md, "outcome_unknown"). Thread-safe; see
 * THREADS above. */
xsell_err xsell_client_call(xsell_client *c, const void *req, size_t len,
    void **replyp, size_t *reply_lenp);

/* xsell_client_call() bounded by 'timeout_ms' (from send to reply)
 * instead of the handle's timeout; a value <= 0 means the handle's. For
 * a caller whose own deadline covers more than the call: a tool that
 * dialled first gives the call what the dial left. Same arguments,
 * ownership, errors and threads as xsell_client_call(). */
xsell_err xsell_client_call_within(xsell_client *c, const void *req,
    size_t len, int timeout_ms, void **replyp, size_t *reply_lenp);

/* Free a reply returned by xsell_client_call(). NULL is allowed. */
void xsell_client_free(void *reply);

/* The xsell_err of the wire code code[0..len): "bad_request" EINVAL,
 * "too_large" ETOOBIG, "forbidden" EFORBIDDEN, "not_found" ENOENT,
 * "unavailable" EUNAVAIL, "internal" EINTERNAL, "outcome_unknown"
 * ENOREPLY (the HTTP gateway's), "ok" OK. Codes this client does not
 * know give XSELL_EINTERNAL. 'code' need not be NUL-terminated; it is
 * borrowed for the call only. Pure. */
xsell_err xsell_client_err_from_wire(const char *code, size_t len);

/* ==== Replies ==== */

struct msgpack_object;
struct msgpack_unpacked;

/* A failed reply's error, as views into the reply. */
struct xsell_reply_error {
	const char *code;        /* wire code, e.g. "not_found"; "" if none */
	size_t      code_len;    /* bytes of 'code' */
	const char *message;     /* human text; "" if none */
	size_t      message_len; /* bytes of 'message' */
};

/* Unpack the reply buf[0..len) into 'up'.
 *
 * Before msgpack-c sees the bytes, a bounded reader checks that they hold
 * exactly one complete msgpack value, nested at most
 * XSELL_CLIENT_DEPTH_MAX deep, whose declared lengths fit in the bytes
 * that remain (msgpack-c would otherwise reserve memory for whatever
 * count a header claims). The value must be a map. 'up' must have been
 * set up with msgpack_unpacked_init(); on success the reply is
 * up->data, which owns a copy of what it needs, so 'buf' may be freed
 * afterwards; the caller releases it with msgpack_unpacked_destroy(),
 * also after a failure. Returns XSELL_EIO if the bytes are not one
 * well-formed msgpack map (truncated, trailing bytes, bad type byte,
 * nested too deep), XSELL_ENOMEM. Any thread. */
xsell_err xsell_reply_unpack(
    const void *buf, size_t len, struct msgpack_unpacked *up);

/* The value of the string key 'key' in the map 'map', or NULL if 'map' is
 * not a map or has no such key. The result is borrowed from 'map'. Pure. */
const struct msgpack_object *xsell_reply_get(
    const struct msgpack_object *map, const char *key);

/* A number of a reply as a double: 'o' a positive or negative integer
 * or a float. False, *out untouched, if 'o' is NULL (as
 * xsell_reply_get returns for an absent key) or another type. Pure. */
bool xsell_reply_number(const struct msgpack_object *o, double *out);

/* Whether the reply map 'reply' says "ok": XSELL_OK for {"ok":true,...};
 * for {"ok":false,...} the error of its wire code (see
 * xsell_client_err_from_wire), with its code and message stored in *e if
 * 'e' is not NULL (views borrowed from 'reply'). XSELL_EIO if 'reply' is
 * not a map with a boolean "ok". Pure. */
xsell_err xsell_reply_status(
    const struct msgpack_object *reply, struct xsell_reply_error *e);

/* ==== JSON ==== */

/* Deepest nesting xsell_json_write() writes. */
#define XSELL_JSON_DEPTH_MAX 64

/* Write 'obj' (a reply, or any msgpack object) to 'out' as JSON, with a
 * final newline.
 *
 * With 'pretty', maps and arrays are indented by two spaces per level;
 * otherwise the output is one line without spaces. Strings are escaped as
 * JSON requires: quote, backslash and the common controls as \" \\ \n \t
 * and so on, other bytes below 0x20 and 0x7f as \u00XX, and the C1
 * controls U+0080..U+009F as \u0080..\u009f (U+009B is a terminal's CSI);
 * other well-formed UTF-8 is passed through unchanged, and each byte that
 * is not part of a well-formed UTF-8 sequence becomes \ufffd, so the
 * output is always valid JSON. Floats use the shortest of
 * %.15g/%.16g/%.17g (float32: %.6g to %.9g) that reads back exactly, with
 * ".0" added when that looks like an integer; NaN and infinities, which
 * JSON cannot express, become null. Binary data becomes a lowercase hex
 * string, and msgpack extension values become {"ext":TYPE,"data":"HEX"}.
 * Map keys that are not strings are written as JSON strings of their JSON
 * text. 'obj' is borrowed for the call only. Values nested deeper than
 * XSELL_JSON_DEPTH_MAX are written as null, so the output stays valid
 * JSON, and the call then returns XSELL_EINVAL. Returns XSELL_EIO if
 * writing to 'out' failed, XSELL_ENOMEM. Any thread, one at a time per
 * FILE. */
xsell_err xsell_json_write(
    FILE *out, const struct msgpack_object *obj, bool pretty);

#ifdef __cplusplus
}
#endif

#endif /* XSELL_CLIENT_H */
