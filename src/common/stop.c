/* SPDX-License-Identifier: MIT */
/* How a daemon (xselld, xsell-gateway) is stopped: SIGINT, SIGTERM and
 * SIGHUP are blocked in every thread and taken by main with sigwait, so
 * that no handler runs inside a library call. */
#include "common/common.h"

#include <signal.h>

/* Whether SIGHUP stops the daemon: not when it started with SIGHUP
 * ignored (nohup), which asked for the process to outlive its terminal;
 * on Linux a blocked signal is kept pending even when ignored, so
 * sigwait would take it. */
static bool hangup_stops;

static void
stop_set(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	if (hangup_stops) {
		sigaddset(sigs, SIGHUP);
	}
}

void
xs_stop_signals_block(void)
{
	struct sigaction hup;
	sigset_t         sigs;

	/* A hangup ended the process at once, by default: requests in
	 * flight were never answered. */
	hangup_stops =
	    sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN;
	stop_set(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	/* A peer that goes away is an error on its socket, not an exit. */
	(void) signal(SIGPIPE, SIG_IGN); /* fails only for a bad number */
}

int
xs_stop_signal_wait(void)
{
	sigset_t sigs;
	int      sig = 0;

	stop_set(&sigs);
	while (sigwait(&sigs, &sig) != 0) { }
	return sig;
}
