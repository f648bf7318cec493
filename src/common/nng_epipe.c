/* SPDX-License-Identifier: MIT */
/* A peer that hangs up before the SP handshake, seen as a failed
 * connection rather than as the end of the endpoint.
 *
 * On accepting a connection, libnng 1.5.2 (Debian 12's) first writes
 * its 8-byte SP header. If the peer has already gone, that write fails
 * with EPIPE, which nng turns into NNG_ECLOSED; the listener takes it
 * for its own close and never hands a connection to the socket again
 * (nng issue #1518, fixed in 1.6.0). The kernel still accepts every
 * later connection and nng even completes their handshakes, but no
 * request on them is read: on that endpoint the server answers nothing
 * more until it restarts. Any client that only connects is enough: a
 * port probe, a health check, a second xselld finding the address in
 * use (nng's ipc listener connects to see whether the path is live).
 * Over ipc:// a peer's hang-up shows as EPIPE at once; tcp:// was not
 * seen to stop. A dialer meets the same on its side: a server gone
 * before the client's header ends that dialer's reconnects for good.
 *
 * nng sends on a connection only with sendmsg(2), and every xsell binary
 * that links libnng compiles this file in, so that this sendmsg is the
 * one libnng's calls bind to (an executable's definition comes first).
 * It reports a peer that is gone as ECONNRESET, which nng 1.5.2 treats
 * as that connection's failure: the listener accepts the next one, the
 * dialer dials again. An established connection fails the same way with
 * either code. Nothing else in xsell calls sendmsg. In a sanitizer
 * build this definition also comes before the sanitizer's own, so the
 * buffers of nng's sends are no longer checked there; xsell's own code
 * is instrumented as before. */
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	long n = syscall(SYS_sendmsg, fd, msg, flags);

	if (n < 0 && errno == EPIPE) {
		errno = ECONNRESET;
	}
	return (ssize_t) n;
}
