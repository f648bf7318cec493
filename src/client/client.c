/* SPDX-License-Identifier: MIT */
/* The client handle: one req0 socket, one nng context per call.
 *
 * A context per call (rather than nng_send/nng_recv on the socket) is what
 * makes a handle safe to share: on a bare REQ socket a second send cancels
 * the first request. Each call is bounded by one deadline that covers both
 * the send and the receive, so a call never takes longer than the
 * handle's timeout, whatever the state of the connection. */
#include <xsell/client.h>

#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

struct xsell_client {
	nng_socket sock;       /* req0 */
	int        timeout_ms; /* per call, send to reply */
};

/* nng codes stop here (STYLE §3). Anything that is not about the
 * arguments or memory means the server could not be reached in time. */
static xsell_err
err_from_nng(int rc)
{
	switch (rc) {
	case 0:
		return XSELL_OK;
	case NNG_ENOMEM:
		return XSELL_ENOMEM;
	case NNG_EMSGSIZE:
		return XSELL_ETOOBIG;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return XSELL_EINVAL;
	default:
		return XSELL_EUNAVAIL;
	}
}

xsell_err
xsell_client_open(xsell_client **cp, const char *url, int timeout_ms)
{
	xsell_client *c;
	int           rc;

	if (cp == NULL || url == NULL || url[0] == '\0') {
		return XSELL_EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return XSELL_ENOMEM;
	}
	c->timeout_ms =
	    timeout_ms > 0 ? timeout_ms : XSELL_CLIENT_TIMEOUT_DEFAULT_MS;
	rc = nng_req0_open(&c->sock);
	if (rc != 0) {
		free(c);
		return rc == NNG_ENOMEM ? XSELL_ENOMEM : XSELL_EUNAVAIL;
	}
	/* Never resend on a timer: a resent "event" batch without a batch
	 * id would be applied twice. The call's deadline ends the wait. */
	rc = nng_socket_set_ms(
	    c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rc == 0) {
		rc = nng_socket_set_size(
		    c->sock, NNG_OPT_RECVMAXSZ, XSELL_CLIENT_REPLY_MAX);
	}
	if (rc == 0) {
		rc = nng_socket_set_ms(
		    c->sock, NNG_OPT_SENDTIMEO, c->timeout_ms);
	}
	if (rc == 0) {
		rc = nng_socket_set_ms(
		    c->sock, NNG_OPT_RECVTIMEO, c->timeout_ms);
	}
	/* Non-blocking: a server that is not up yet is not an error here;
	 * nng keeps redialling and the call's timeout decides. */
	if (rc == 0) {
		rc = nng_dial(c->sock, url, NULL, NNG_FLAG_NONBLOCK);
	}
	if (rc != 0) {
		nng_close(c->sock);
		free(c);
		return err_from_nng(rc);
	}
	*cp = c;
	return XSELL_OK;
}

void
xsell_client_close(xsell_client *c)
{
	if (c == NULL) {
		return;
	}
	nng_close(c->sock);
	free(c);
}

/* Start 'aio' on 'ctx' (send if 'send', else receive) with what is left
 * of the call's budget, and wait for it. */
static int
ctx_run(nng_ctx ctx, nng_aio *aio, bool send, nng_time deadline)
{
	nng_time now = nng_clock();

	if (now >= deadline) {
		return NNG_ETIMEDOUT;
	}
	nng_aio_set_timeout(aio, (nng_duration) (deadline - now));
	if (send) {
		nng_ctx_send(ctx, aio);
	} else {
		nng_ctx_recv(ctx, aio);
	}
	nng_aio_wait(aio);
	return nng_aio_result(aio);
}

xsell_err
xsell_client_call(xsell_client *c, const void *req, size_t len, void **replyp,
    size_t *reply_lenp)
{
	nng_msg *msg;
	nng_aio *aio;
	nng_ctx  ctx;
	nng_time deadline;
	void    *reply;
	size_t   reply_len;
	int      rc;

	if (c == NULL || req == NULL || len == 0 || replyp == NULL ||
	    reply_lenp == NULL) {
		return XSELL_EINVAL;
	}
	deadline = nng_clock() + (nng_time) c->timeout_ms;
	rc       = nng_msg_alloc(&msg, len);
	if (rc != 0) {
		return err_from_nng(rc);
	}
	memcpy(nng_msg_body(msg), req, len);
	rc = nng_aio_alloc(&aio, NULL, NULL);
	if (rc != 0) {
		nng_msg_free(msg);
		return err_from_nng(rc);
	}
	rc = nng_ctx_open(&ctx, c->sock);
	if (rc != 0) {
		nng_msg_free(msg);
		goto free_aio;
	}

	nng_aio_set_msg(aio, msg);
	rc = ctx_run(ctx, aio, true, deadline);
	if (rc != 0) {
		/* A failed send leaves the message with us. */
		nng_msg_free(nng_aio_get_msg(aio));
		goto close_ctx;
	}
	rc = ctx_run(ctx, aio, false, deadline);
	if (rc != 0) {
		goto close_ctx;
	}
	msg       = nng_aio_get_msg(aio);
	reply_len = nng_msg_len(msg);
	reply     = malloc(reply_len > 0 ? reply_len : 1);
	if (reply == NULL) {
		nng_msg_free(msg);
		rc = NNG_ENOMEM;
		goto close_ctx;
	}
	memcpy(reply, nng_msg_body(msg), reply_len);
	nng_msg_free(msg);
	*replyp     = reply;
	*reply_lenp = reply_len;

close_ctx:
	nng_ctx_close(ctx);
free_aio:
	nng_aio_free(aio);
	return err_from_nng(rc);
}

void
xsell_client_free(void *reply)
{
	free(reply);
}

xsell_err
xsell_client_err_from_wire(const char *code, size_t len)
{
	static const struct {
		xsell_err   err;
		const char *wire;
	} table[] = {
#define X(name, wire, msg) { XSELL_##name, wire },
		XSELL_ERR_MAP(X)
#undef X
	};

	if (code == NULL) {
		return XSELL_EINTERNAL;
	}
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strlen(table[i].wire) == len &&
		    memcmp(table[i].wire, code, len) == 0) {
			return table[i].err;
		}
	}
	return XSELL_EINTERNAL;
}
