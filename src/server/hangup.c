/* SPDX-License-Identifier: MIT */
/* Ending a client's connection from the server's side.
 *
 * nng_pipe_close() is not safe for a connection whose data is still
 * arriving (a client that pipelines requests) in libnng 1.5.2, the
 * version Debian 12 ships: if the close lands while the transport's
 * receive callback re-arms its stream read, that read is refused without
 * a callback, the protocol's receive is never finished, and the pipe's
 * teardown waits for it forever, in nng's one reaper thread (nng issue
 * #1813, fixed in nng 1.8.0). From then on no connection is ever torn
 * down: each one that ends keeps its descriptor, limit.c never hears it
 * went, and new clients get "unavailable" for good. Measured here on
 * test_server_overload's greedy clients: about one run in eight, the
 * reaper stuck in rep0's pipe stop on the receive aio.
 *
 * A connection ended by the peer never meets that race: the error comes
 * from the read itself, inside nng's own callbacks. So xselld ends a
 * connection the same way: it finds the connection's socket among its
 * descriptors and shuts it down (shutdown(2), not close(2): the
 * descriptor stays nng's to close), and nng sees an ordinary end of
 * stream. A TCP connection (plain or TLS) is found by its two addresses,
 * an IPC one by its listening path and the peer's process id when only
 * one descriptor matches. When none can be found (inproc, a client
 * process with several IPC connections, no /proc), nng_pipe_close() is
 * the fallback. The descriptor is looked up and shut down in two steps:
 * if the connection ends between them and the kernel gives its number
 * to a new connection at once, that new one is shut down instead, and
 * its client reconnects; nng frees a descriptor only after the pipe's
 * teardown, so the window is that teardown's, not a request's. */
#include "server/server_impl.h"

#include <dirent.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* The connection of one pipe, as the kernel names its ends. */
struct conn_ends {
	int family; /* AF_INET, AF_INET6 or AF_UNIX; 0: unknown */
	struct sockaddr_storage local, peer;
	uint64_t                peer_pid; /* AF_UNIX only */
};

/* 'sa' as a kernel address in 'out'; false for a family without one. */
static bool
to_kernel_addr(const nng_sockaddr *sa, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	switch (sa->s_family) {
	case NNG_AF_INET: {
		struct sockaddr_in *in = (struct sockaddr_in *) out;

		in->sin_family      = AF_INET;
		in->sin_port        = sa->s_in.sa_port;
		in->sin_addr.s_addr = sa->s_in.sa_addr;
		return true;
	}
	case NNG_AF_INET6: {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) out;

		in6->sin6_family = AF_INET6;
		in6->sin6_port   = sa->s_in6.sa_port;
		memcpy(in6->sin6_addr.s6_addr, sa->s_in6.sa_addr, 16);
		return true;
	}
	case NNG_AF_IPC: {
		struct sockaddr_un *un = (struct sockaddr_un *) out;
		size_t              len =
		    strnlen(sa->s_ipc.sa_path, sizeof(sa->s_ipc.sa_path));

		if (len >= sizeof(un->sun_path)) {
			return false; /* no such path can be bound */
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, sa->s_ipc.sa_path, len);
		return true;
	}
	default:
		return false;
	}
}

static bool
conn_ends_of(nng_pipe p, struct conn_ends *e)
{
	nng_sockaddr local, peer;

	memset(e, 0, sizeof(*e));
	if (nng_pipe_get_addr(p, NNG_OPT_LOCADDR, &local) != 0 ||
	    !to_kernel_addr(&local, &e->local)) {
		return false;
	}
	e->family = e->local.ss_family;
	if (e->family == AF_UNIX) {
		return nng_pipe_get_uint64(
		           p, NNG_OPT_IPC_PEER_PID, &e->peer_pid) == 0;
	}
	return nng_pipe_get_addr(p, NNG_OPT_REMADDR, &peer) == 0 &&
	    to_kernel_addr(&peer, &e->peer);
}

static bool
same_inet(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *) a,
		                         *y = (const void *) b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *) a,
		                          *y = (const void *) b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* Whether descriptor 'fd' is the socket of connection 'e'. */
static bool
fd_is_conn(int fd, const struct conn_ends *e)
{
	struct sockaddr_storage local, peer;
	socklen_t               len = sizeof(local);

	memset(&local, 0, sizeof(local));
	if (getsockname(fd, (struct sockaddr *) &local, &len) != 0 ||
	    local.ss_family != e->family) {
		return false;
	}
	if (e->family == AF_UNIX) {
		const struct sockaddr_un *a = (const void *) &local;
		const struct sockaddr_un *b = (const void *) &e->local;
		struct ucred              cred;
		socklen_t                 clen = sizeof(cred);

		return len > offsetof(struct sockaddr_un, sun_path) &&
		    strncmp(a->sun_path, b->sun_path, sizeof(a->sun_path)) ==
		    0 &&
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ==
		    0 &&
		    (uint64_t) cred.pid == e->peer_pid;
	}
	len = sizeof(peer);
	memset(&peer, 0, sizeof(peer));
	return same_inet(&local, &e->local) &&
	    getpeername(fd, (struct sockaddr *) &peer, &len) == 0 &&
	    same_inet(&peer, &e->peer);
}

/* The one descriptor of connection 'e', or -1 if none or several (an
 * IPC client process with more than one connection). */
static int
conn_fd(const struct conn_ends *e)
{
	DIR           *d = opendir("/proc/self/fd");
	struct dirent *de;
	int            found = -1, n_found = 0;

	if (d == NULL) {
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long  fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd == dirfd(d)) {
			continue;
		}
		if (fd_is_conn((int) fd, e)) {
			found = (int) fd;
			n_found++;
		}
	}
	closedir(d);
	return n_found == 1 ? found : -1;
}

void
xs_pipe_hangup(nng_pipe p)
{
	struct conn_ends e;
	int              fd = -1;

	if (conn_ends_of(p, &e)) {
		fd = conn_fd(&e);
	}
	if (fd < 0 || shutdown(fd, SHUT_RDWR) != 0) {
		nng_pipe_close(p);
	}
}
