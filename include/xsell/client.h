/* SPDX-License-Identifier: MIT */
/* xsell client API: talk to an xselld over nng REQ/REP.
 *
 * OVERVIEW
 *
 * A client handle is one nng req0 socket dialled to one server URL
 * ("ipc:///tmp/xsell.sock", "tcp://127.0.0.1:7400"). Each call sends one
 * request -- a msgpack map with an "op" key, see proto/PROTOCOL.md -- and
 * waits for exactly one reply, also a msgpack map: {"ok":true,...} or
 * {"ok":false,"error":{"code":CODE,"message":TEXT}}. The library moves
 * bytes; it neither builds requests nor interprets replies, so a new op
 * needs no new client code. xsell_json_write() turns a reply into JSON
 * for people and scripts.
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
 * not race with calls on the same handle.
 *
 * LIFETIMES
 *
 * The request buffer is only borrowed for the duration of the call. A
 * reply is a malloc'd buffer owned by the caller, freed with
 * xsell_client_free(); it stays valid after the handle is closed.
 *
 * TIMEOUTS AND FAILURES
 *
 * Opening never waits for the server: the dial is non-blocking and nng
 * keeps reconnecting in the background. A missing, stopped or slow server
 * is therefore found by xsell_client_call(), which gives up after the
 * handle's timeout and returns XSELL_EUNAVAIL. The client never resends a
 * request on a timer (a resent "event" batch could be applied twice); nng
 * may still resend a request whose connection broke before the reply
 * came, so write batches should carry a "batch" id, which the server
 * de-duplicates.
 *
 * LIMITS
 *
 * Replies larger than XSELL_CLIENT_REPLY_MAX bytes are refused by nng
 * (the connection is dropped and the call times out). Request size is
 * limited by the server: XSELL_READ_MSG_MAX on a read endpoint,
 * XSELL_ADMIN_MSG_MAX on an admin endpoint (<xsell/limits.h>).
 */
#ifndef XSELL_CLIENT_H
#define XSELL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <xsell/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest reply the client accepts, bytes (NNG_OPT_RECVMAXSZ). */
#define XSELL_CLIENT_REPLY_MAX (64u * 1024u * 1024u)
/* Timeout used when xsell_client_open() is given timeout_ms <= 0. */
#define XSELL_CLIENT_TIMEOUT_DEFAULT_MS 5000
/* Default server URL of the tools when XSELL_URL is not set. */
#define XSELL_CLIENT_URL_DEFAULT "ipc:///tmp/xsell.sock"

/* An open connection to one server; opaque. */
typedef struct xsell_client xsell_client;

/* Open a client handle for the server at 'url'.
 *
 * 'url' is any nng URL (ipc://, tcp://, inproc://); it is copied.
 * 'timeout_ms' bounds each xsell_client_call() from send to reply; a value
 * <= 0 means XSELL_CLIENT_TIMEOUT_DEFAULT_MS. Does not wait for the server
 * to be up (see TIMEOUTS above). On success stores the handle in *cp; the
 * caller closes it with xsell_client_close(). Returns XSELL_EINVAL if
 * 'url' is NULL or not a valid nng URL, XSELL_ENOMEM, or XSELL_EUNAVAIL if
 * nng could not create the socket. Any thread. */
xsell_err xsell_client_open(
    xsell_client **cp, const char *url, int timeout_ms);

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
 * is a success here: look inside the reply. On failure *replyp and
 * *reply_lenp are left untouched.
 *
 * Returns XSELL_EINVAL for NULL arguments or len == 0, XSELL_ETOOBIG if
 * the request is larger than nng accepts, XSELL_ENOMEM, and XSELL_EUNAVAIL
 * if no reply came within the handle's timeout (no server, server down or
 * overloaded, connection refused). Thread-safe; see THREADS above. */
xsell_err xsell_client_call(xsell_client *c, const void *req, size_t len,
    void **replyp, size_t *reply_lenp);

/* Free a reply returned by xsell_client_call(). NULL is allowed. */
void xsell_client_free(void *reply);

/* The xsell_err whose wire code is code[0..len) ("bad_request" →
 * XSELL_EINVAL). Several errors share a wire code; the first one in
 * XSELL_ERR_MAP is returned. Unknown codes give XSELL_EINTERNAL. 'code'
 * need not be NUL-terminated; it is borrowed for the call only. Pure. */
xsell_err xsell_client_err_from_wire(const char *code, size_t len);

/* ==== JSON ==== */

struct msgpack_object;

/* Write 'obj' (a reply, or any msgpack object) to 'out' as JSON, with a
 * final newline.
 *
 * With 'pretty', maps and arrays are indented by two spaces per level;
 * otherwise the output is one line without spaces. Strings are escaped as
 * JSON requires: quote, backslash and the common controls as \" \\ \n \t
 * and so on, other bytes below 0x20 and 0x7f as \u00XX; UTF-8 is passed
 * through unchanged. Floats use the shortest of %.15g/%.16g/%.17g that
 * reads back exactly; NaN and infinities, which JSON cannot express,
 * become null. Binary data becomes a lowercase hex string, and msgpack
 * extension values become {"ext":TYPE,"data":"HEX"}. Map keys that are
 * not strings are written as JSON strings of their JSON text. 'obj' is
 * borrowed for the call only. Returns XSELL_EIO if writing to 'out'
 * failed, XSELL_EINVAL if nesting exceeds 64 levels (the output is then
 * incomplete). Any thread, one at a time per FILE. */
xsell_err xsell_json_write(
    FILE *out, const struct msgpack_object *obj, bool pretty);

#ifdef __cplusplus
}
#endif

#endif /* XSELL_CLIENT_H */
