/* SPDX-License-Identifier: MIT */
/* The TLS configuration of tls+tcp:// endpoints: the server's own
 * certificate and key, and the CA that every client certificate must
 * chain to. Client certificates are required, so that on an admin
 * endpoint the certificate is the permission to write. The files are
 * read here, bounded, so that a bad path or a file that is not PEM stops
 * xselld at start-up with one line, not at a client's first handshake. */
#include "server/server_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/supplemental/tls/tls.h>

/* A certificate chain or key in PEM is a few KiB; this is generous. */
#define PEM_MAX_BYTES ((size_t) 1 << 20)

bool
xs_url_is_tls(const char *url)
{
	return strncmp(url, "tls+tcp", 7) == 0;
}

static bool
any_tls(const char *const *urls, size_t n_urls)
{
	for (size_t i = 0; i < n_urls; i++) {
		if (xs_url_is_tls(urls[i])) {
			return true;
		}
	}
	return false;
}

bool
xs_server_opts_use_tls(const struct xs_server_opts *o)
{
	return any_tls(o->listen, o->n_listen) ||
	    any_tls(o->admin, o->n_admin) || any_tls(o->pull, o->n_pull);
}

/* Read the whole of 'path' as a NUL-terminated string (PEM), at most
 * PEM_MAX_BYTES. The caller frees *textp. Logs why on failure. */
static xsell_err
pem_read(const char *what, const char *path, char **textp)
{
	xsell_err err = xs_file_read_text(path, PEM_MAX_BYTES, textp);

	if (err == XSELL_EIO) {
		xs_log(XS_LOG_ERROR, "%s %s: %s", what, path, strerror(errno));
	} else if (err == XSELL_EINVAL || err == XSELL_ETOOBIG) {
		xs_log(XS_LOG_ERROR, "%s %s: %s", what, path,
		    err == XSELL_EINVAL ? "empty or unreadable"
		                        : "larger than 1 MiB");
	}
	return err == XSELL_ENOMEM || err == XSELL_OK ? err : XSELL_EIO;
}

/* Load the certificate, key and CA of 'o' into 'cfg'. */
static xsell_err
tls_load(nng_tls_config *cfg, const struct xs_server_opts *o)
{
	char     *cert = NULL, *key = NULL;
	xsell_err err;
	int       rv;

	err = pem_read("--tls-cert", o->tls_cert, &cert);
	if (err == XSELL_OK) {
		err = pem_read("--tls-key", o->tls_key, &key);
	}
	if (err != XSELL_OK) {
		free(cert);
		return err;
	}
	rv = nng_tls_config_own_cert(cfg, cert, key, NULL);
	free(cert);
	free(key);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR,
		    "--tls-cert %s / --tls-key %s: not a PEM certificate and "
		    "its unencrypted key (%s)",
		    o->tls_cert, o->tls_key, nng_strerror(rv));
		return XSELL_EIO;
	}
	rv = nng_tls_config_ca_file(cfg, o->tls_ca);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "--tls-ca %s: not a readable PEM CA (%s)",
		    o->tls_ca, nng_strerror(rv));
		return XSELL_EIO;
	}
	/* Without a certificate that chains to the CA, the handshake
	 * fails and the connection is closed before any request. */
	rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "TLS: %s", nng_strerror(rv));
		return XSELL_EIO;
	}
	return XSELL_OK;
}

xsell_err
xs_server_tls_alloc(nng_tls_config **cfgp, const struct xs_server_opts *o)
{
	nng_tls_config *cfg;
	xsell_err       err;
	int             rv;

	if (o->tls_cert == NULL || o->tls_key == NULL || o->tls_ca == NULL) {
		xs_log(XS_LOG_ERROR, "%s",
		    "a tls+tcp:// endpoint needs --tls-cert, --tls-key and "
		    "--tls-ca");
		return XSELL_EINVAL;
	}
	rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER);
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "TLS: %s", nng_strerror(rv));
		return rv == NNG_ENOMEM ? XSELL_ENOMEM : XSELL_EIO;
	}
	err = tls_load(cfg, o);
	if (err != XSELL_OK) {
		nng_tls_config_free(cfg);
		return err;
	}
	*cfgp = cfg;
	return XSELL_OK;
}
