/* SPDX-License-Identifier: MIT */
/* Shared by the server's own files: the server and worker structs. */
#ifndef XSELL_SERVER_SERVER_IMPL_H
#define XSELL_SERVER_SERVER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "server/server.h"
#include "store/store.h"
#include "wire/wire.h"

struct xs_op_counters {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t errors;
};

struct xs_worker {
	struct xs_server *srv;
	bool              admin; /* on an admin endpoint: may write */
	nng_ctx           ctx;
	nng_aio          *aio;
	pthread_t         thread;
	bool              started;
	struct xs_arena   arena; /* request scratch, reset per request */
	struct xs_buf     out;   /* reply bytes */
	xs_acc           *acc;   /* pending counts of a write */
};

struct xs_server {
	xs_store             *store;
	struct xs_settings    settings;
	nng_socket            read_sock, admin_sock;
	bool                  has_read, has_admin;
	struct xs_worker     *workers;
	size_t                n_workers;
	atomic_bool           stopping;
	uint64_t              started_ns;
	struct xs_op_counters ops[XS_OP_COUNT];
	struct xs_op_counters invalid; /* requests whose op was unreadable */
};

/* A server TLS configuration from the tls_* files of 'o' (tls.c): own
 * certificate and key, client certificates required and checked against
 * the CA. Returns XSELL_EINVAL if a file is not given, XSELL_EIO if one
 * does not load (logged, one line), XSELL_ENOMEM. The caller frees
 * *cfgp with nng_tls_config_free(); listeners hold their own
 * reference. */
xsell_err xs_server_tls_alloc(
    nng_tls_config **cfgp, const struct xs_server_opts *o);

#endif /* XSELL_SERVER_SERVER_IMPL_H */
