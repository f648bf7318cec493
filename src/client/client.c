/* SPDX-License-Identifier: MIT */
/* The client handle: one req0 socket, one nng context per call.
 *
 * A context per call (rather than the socket's own REQ state machine) is
 * what lets threads share a handle: on a bare REQ socket a second send
 * cancels the first request. Each call has one deadline, split between
 * the send (waiting for a connection) and the receive, so the timeout
 * bounds the whole call. nng codes stop here and become xsell_err. */
#include <xsell/client.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "common/common.h"

struct xsell_client {
	nng_socket sock;       /* req0, dialled to the server */
	int        timeout_ms; /* per call, send to reply */
};

/* ==== Errors ==== */

/* Every failure to reach or hear from the server is "unavailable": the
 * caller's remedy (retry later, check the server) is the same. */
static xsell_err
err_from_nng(int rv)
{
	switch (rv) {
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
	case NNG_ETIMEDOUT:
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ECONNABORTED:
	case NNG_ECLOSED:
	case NNG_ECANCELED:
	case NNG_ENOENT:
	case NNG_EUNREACHABLE:
	case NNG_EPROTO:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
	case NNG_EAGAIN:
	case NNG_ESTATE:
	case NNG_EPERM:
	case NNG_ENOFILES:
	case NNG_EADDRINUSE:
		return XSELL_EUNAVAIL;
	default:
		return XSELL_EIO;
	}
}

xsell_err
xsell_client_err_from_wire(const char *code, size_t len)
{
	static const struct {
		const char *wire;
		xsell_err   err;
	} map[] = {
		{ "ok", XSELL_OK },
		{ "bad_request", XSELL_EINVAL },
		{ "too_large", XSELL_ETOOBIG },
		{ "forbidden", XSELL_EFORBIDDEN },
		{ "not_found", XSELL_ENOENT },
		{ "unavailable", XSELL_EUNAVAIL },
		{ "internal", XSELL_EINTERNAL },
		{ "outcome_unknown", XSELL_ENOREPLY },
	};

	if (code == NULL) {
		return XSELL_EINTERNAL;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i].wire) == len &&
		    memcmp(map[i].wire, code, len) == 0) {
			return map[i].err;
		}
	}
	return XSELL_EINTERNAL;
}

/* ==== Bounded dial ==== */

/* nng 1.5.2 has no connect timeout: a synchronous dial to a host that
 * drops SYNs waits for the kernel (minutes). So the dial runs on a helper
 * thread, and if the deadline passes first, closing the socket aborts
 * it; the thread is joined before we return either way. */
struct dial_job {
	nng_dialer dialer;
	nng_mtx   *mtx;
	nng_cv    *cv;
	bool       done; /* the dial returned; 'rv' is its result */
	int        rv;
};

static void
dial_thread(void *arg)
{
	struct dial_job *job = arg;
	int              rv;

	rv = nng_dialer_start(job->dialer, 0);
	nng_mtx_lock(job->mtx);
	job->rv   = rv;
	job->done = true;
	nng_cv_wake(job->cv);
	nng_mtx_unlock(job->mtx);
}

/* Start 'dialer' of 'sock' and wait at most timeout_ms for the first
 * connection. On XSELL_EUNAVAIL after a timeout the socket has been
 * closed: *closedp says so. */
static xsell_err
dial_bounded(nng_socket sock, nng_dialer dialer, int timeout_ms, bool *closedp)
{
	struct dial_job job;
	nng_thread     *thr;
	nng_time        deadline;
	bool            timed_out = false;
	xsell_err       err;
	int             rv;

	memset(&job, 0, sizeof(job));
	job.dialer = dialer;
	*closedp   = false;
	rv         = nng_mtx_alloc(&job.mtx);
	if (rv != 0) {
		return err_from_nng(rv);
	}
	rv = nng_cv_alloc(&job.cv, job.mtx);
	if (rv != 0) {
		err = err_from_nng(rv);
		goto free_mtx;
	}
	deadline = nng_clock() + (nng_time) timeout_ms;
	rv       = nng_thread_create(&thr, dial_thread, &job);
	if (rv != 0) {
		err = err_from_nng(rv);
		goto free_cv;
	}
	nng_mtx_lock(job.mtx);
	while (!job.done) {
		if (nng_cv_until(job.cv, deadline) == NNG_ETIMEDOUT) {
			timed_out = !job.done;
			break;
		}
	}
	nng_mtx_unlock(job.mtx);
	if (timed_out) {
		/* Aborts the dial in progress; the thread then returns. */
		nng_close(sock);
		*closedp = true;
	}
	nng_thread_destroy(thr);
	err = timed_out ? XSELL_EUNAVAIL : err_from_nng(job.rv);

free_cv:
	nng_cv_free(job.cv);
free_mtx:
	nng_mtx_free(job.mtx);
	return err;
}

/* ==== TLS ==== */

/* A PEM certificate chain or key is a few KiB; this is generous. */
#define PEM_MAX_BYTES ((size_t) 1 << 20)

/* The whole of 'path' as a NUL-terminated string, at most PEM_MAX_BYTES;
 * the caller frees *textp. */
static xsell_err
pem_read(const char *path, char **textp)
{
	xsell_err err = xs_file_read_text(path, PEM_MAX_BYTES, textp);

	return err == XSELL_ENOMEM || err == XSELL_OK ? err : XSELL_EIO;
}

/* Our certificate and key, from two PEM files, into 'cfg'. */
static xsell_err
tls_own_cert(nng_tls_config *cfg, const char *cert_file, const char *key_file)
{
	char     *cert = NULL, *key = NULL;
	xsell_err err;
	int       rv;

	err = pem_read(cert_file, &cert);
	if (err == XSELL_OK) {
		err = pem_read(key_file, &key);
	}
	if (err != XSELL_OK) {
		free(cert);
		return err;
	}
	rv = nng_tls_config_own_cert(cfg, cert, key, NULL);
	free(cert);
	free(key);
	return rv == 0 ? XSELL_OK : XSELL_EIO;
}

/* A client TLS configuration from 't': the server's certificate must
 * chain to t->ca_file and carry the server name (t->server_name, else
 * the host of 'url'); our own certificate if t->cert_file is given. */
static xsell_err
tls_config_alloc(
    nng_tls_config **cfgp, const char *url, const struct xsell_client_tls *t)
{
	nng_tls_config *cfg;
	nng_url        *u = NULL;
	const char     *name;
	xsell_err       err;
	int             rv;

	if (t->ca_file == NULL ||
	    (t->cert_file == NULL) != (t->key_file == NULL)) {
		return XSELL_EINVAL;
	}
	rv = nng_url_parse(&u, url);
	if (rv != 0) {
		return XSELL_EINVAL;
	}
	rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
	if (rv != 0) {
		nng_url_free(u);
		return err_from_nng(rv);
	}
	name = t->server_name != NULL ? t->server_name : u->u_hostname;
	err  = XSELL_OK;
	if (nng_tls_config_server_name(cfg, name) != 0 ||
	    nng_tls_config_ca_file(cfg, t->ca_file) != 0 ||
	    nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED) != 0) {
		err = XSELL_EIO;
	}
	if (err == XSELL_OK && t->cert_file != NULL) {
		err = tls_own_cert(cfg, t->cert_file, t->key_file);
	}
	nng_url_free(u);
	if (err != XSELL_OK) {
		nng_tls_config_free(cfg);
		return err;
	}
	*cfgp = cfg;
	return XSELL_OK;
}

/* A dialer of 'sock' to 'url', not started; with 'tls' (tls+tcp:// URLs
 * only) it checks the server and shows our certificate. */
static xsell_err
dialer_create(nng_dialer *dp, nng_socket sock, const char *url,
    const struct xsell_client_tls *tls)
{
	nng_tls_config *cfg = NULL;
	xsell_err       err;
	int             rv;

	if (tls != NULL) {
		if (strncmp(url, "tls+tcp", 7) != 0) {
			return XSELL_EINVAL;
		}
		err = tls_config_alloc(&cfg, url, tls);
		if (err != XSELL_OK) {
			return err;
		}
	}
	rv = nng_dialer_create(dp, sock, url);
	if (rv == 0 && cfg != NULL) {
		/* The dialer holds its own reference. */
		rv = nng_dialer_set_ptr(*dp, NNG_OPT_TLS_CONFIG, cfg);
	}
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	return err_from_nng(rv);
}

/* ==== Handle ==== */

static xsell_err
client_open(xsell_client **cp, const char *url, int timeout_ms, bool wait,
    const struct xsell_client_tls *tls)
{
	xsell_client *c;
	nng_dialer    dialer;
	xsell_err     err;
	bool          closed = false;
	int           rv;

	if (cp == NULL || url == NULL) {
		return XSELL_EINVAL;
	}
	if (timeout_ms <= 0) {
		timeout_ms = XSELL_CLIENT_TIMEOUT_DEFAULT_MS;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return XSELL_ENOMEM;
	}
	c->timeout_ms = timeout_ms;
	rv            = nng_req0_open(&c->sock);
	if (rv != 0) {
		err = rv == NNG_ENOMEM ? XSELL_ENOMEM : XSELL_EUNAVAIL;
		goto free_c;
	}
	/* A reply is bounded like everything else that grows; and a request
	 * is never resent on a timer (contexts copy the socket's value, and
	 * each call sets it again). The socket timeouts only matter to code
	 * that would use the socket directly; calls use aio deadlines. */
	rv = nng_socket_set_size(
	    c->sock, NNG_OPT_RECVMAXSZ, (size_t) XSELL_CLIENT_REPLY_MAX);
	if (rv == 0) {
		rv = nng_socket_set_ms(
		    c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	}
	if (rv == 0) {
		rv = nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, timeout_ms);
	}
	if (rv == 0) {
		rv = nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, timeout_ms);
	}
	if (rv != 0) {
		err = err_from_nng(rv);
		goto close_sock;
	}
	err = dialer_create(&dialer, c->sock, url, tls);
	if (err != XSELL_OK) {
		goto close_sock;
	}
	if (wait) {
		err = dial_bounded(c->sock, dialer, timeout_ms, &closed);
	} else {
		err =
		    err_from_nng(nng_dialer_start(dialer, NNG_FLAG_NONBLOCK));
	}
	if (err != XSELL_OK) {
		goto close_sock;
	}
	*cp = c;
	return XSELL_OK;

close_sock:
	if (!closed) {
		nng_close(c->sock);
	}
free_c:
	free(c);
	return err;
}

xsell_err
xsell_client_open(xsell_client **cp, const char *url, int timeout_ms)
{
	return client_open(cp, url, timeout_ms, false, NULL);
}

xsell_err
xsell_client_dial(xsell_client **cp, const char *url, int timeout_ms)
{
	return client_open(cp, url, timeout_ms, true, NULL);
}

xsell_err
xsell_client_open_tls(xsell_client **cp, const char *url, int timeout_ms,
    const struct xsell_client_tls *tls)
{
	if (tls == NULL) {
		return XSELL_EINVAL;
	}
	return client_open(cp, url, timeout_ms, false, tls);
}

xsell_err
xsell_client_dial_tls(xsell_client **cp, const char *url, int timeout_ms,
    const struct xsell_client_tls *tls)
{
	if (tls == NULL) {
		return XSELL_EINVAL;
	}
	return client_open(cp, url, timeout_ms, true, tls);
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

/* ==== Calls ==== */

/* Run one op on 'aio' and wait for it; returns the nng result. */
static int
aio_run(nng_aio *aio, nng_ctx ctx, bool send, nng_time deadline)
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
	if (c == NULL) {
		return XSELL_EINVAL;
	}
	return xsell_client_call_within(
	    c, req, len, c->timeout_ms, replyp, reply_lenp);
}

xsell_err
xsell_client_call_within(xsell_client *c, const void *req, size_t len,
    int timeout_ms, void **replyp, size_t *reply_lenp)
{
	nng_time deadline;
	nng_aio *aio;
	nng_ctx  ctx;
	nng_msg *msg;
	void    *copy;
	size_t   n;
	int      rv;

	if (c == NULL || req == NULL || len == 0 || replyp == NULL ||
	    reply_lenp == NULL) {
		return XSELL_EINVAL;
	}
	if (len > XSELL_CLIENT_REQUEST_MAX) {
		return XSELL_ETOOBIG;
	}
	if (timeout_ms <= 0) {
		timeout_ms = c->timeout_ms;
	}
	deadline = nng_clock() + (nng_time) timeout_ms;
	rv       = nng_aio_alloc(&aio, NULL, NULL);
	if (rv != 0) {
		return err_from_nng(rv);
	}
	rv = nng_ctx_open(&ctx, c->sock);
	if (rv != 0) {
		goto free_aio;
	}
	rv =
	    nng_ctx_set_ms(ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rv != 0) {
		goto close_ctx;
	}
	rv = nng_msg_alloc(&msg, 0);
	if (rv != 0) {
		goto close_ctx;
	}
	rv = nng_msg_append(msg, req, len);
	if (rv != 0) {
		nng_msg_free(msg);
		goto close_ctx;
	}

	/* The send completes when a connection takes the request, so with
	 * no server it is the send that times out. A failed send leaves the
	 * message with us, on the aio. */
	nng_aio_set_msg(aio, msg);
	rv = aio_run(aio, ctx, true, deadline);
	if (rv != 0) {
		msg = nng_aio_get_msg(aio);
		if (msg != NULL) {
			nng_msg_free(msg);
		}
		goto close_ctx;
	}
	nng_aio_set_msg(aio, NULL);
	rv = aio_run(aio, ctx, false, deadline);
	if (rv != 0) {
		/* Sent: the server may have acted on it (a write applied),
		 * so its failure is not "unavailable", whose promise is that
		 * nothing changed (errors.md). */
		nng_ctx_close(ctx);
		nng_aio_free(aio);
		return XSELL_ENOREPLY;
	}
	msg = nng_aio_get_msg(aio);
	n   = nng_msg_len(msg);
	/* malloc(0) may return NULL; an empty reply still gets a buffer. */
	copy = malloc(n > 0 ? n : 1);
	if (copy == NULL) {
		nng_msg_free(msg);
		rv = NNG_ENOMEM;
		goto close_ctx;
	}
	if (n > 0) {
		memcpy(copy, nng_msg_body(msg), n);
	}
	nng_msg_free(msg);
	*replyp     = copy;
	*reply_lenp = n;

close_ctx:
	nng_ctx_close(ctx);
free_aio:
	nng_aio_free(aio);
	return err_from_nng(rv);
}

void
xsell_client_free(void *reply)
{
	free(reply);
}
