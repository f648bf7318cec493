/* SPDX-License-Identifier: MIT */
/* xsell-gateway: parse flags, open the gateway, wait for a stop signal,
 * close. As in xselld, signals are blocked in every thread and taken
 * here with sigwait. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xsell/limits.h>

#include "common/common.h"
#include "gateway/gateway.h"

static const char usage[] =
    "usage: xsell-gateway --http HOST:PORT --upstream URL\n"
    "                     [--http-admin HOST:PORT --admin-upstream URL]\n"
    "                     [--pool N] [--queue N] [--timeout MS]\n"
    "                     [--max-body BYTES] [--max-admin-body BYTES]\n"
    "                     [--http-max-age SECONDS] [--quiet]\n"
    "\n"
    "Serve xsell over HTTP/JSON: each POST /v1/<op> (or POST /v1 with an\n"
    "\"op\" field) carries the request of proto/PROTOCOL.md as a JSON\n"
    "object, each GET /v1/<op>?QUERY of a read op the same fields as\n"
    "query parameters (items=A&items=B&k=5&filter.in_stock=false); it is\n"
    "sent to xselld as msgpack and the reply comes back as JSON, with an\n"
    "HTTP status from its error code (proto/HTTP.md).\n"
    "\n"
    "  --http HOST:PORT    address for reads (storefronts), e.g.\n"
    "                      127.0.0.1:8080; port 0 picks a free port (the\n"
    "                      log says which). Write ops here get 403.\n"
    "  --upstream URL      xselld's read endpoint (its --listen), e.g.\n"
    "                      ipc:///tmp/xsell.sock\n"
    "  --http-admin HOST:PORT\n"
    "                      address that also takes writes (event, items,\n"
    "                      forget_user); needs --admin-upstream. Keep it\n"
    "                      private.\n"
    "  --admin-upstream URL\n"
    "                      xselld's admin endpoint (its --admin); writes\n"
    "                      go only there\n"
    "  --pool N            requests in flight to each upstream, one nng\n"
    "                      context each (default 32, at most 1024)\n"
    "  --queue N           requests that may wait for a context, per\n"
    "                      upstream; beyond it 503 (default 1024)\n"
    "  --timeout MS        per request: reading its body, waiting and the\n"
    "                      round trip to xselld (default 2000); past it\n"
    "                      503, or a closed connection for a stalled body.\n"
    "                      A write only until it is sent: then it waits\n"
    "                      up to 10 minutes for xselld's reply, and if\n"
    "                      none can come, 504 outcome_unknown (it may\n"
    "                      have been applied; proto/HTTP.md)\n"
    "  --max-body BYTES    largest JSON body on --http (default 65536, the\n"
    "                      wire's read limit); larger: 413, unread\n"
    "  --max-admin-body BYTES\n"
    "                      largest JSON body on --http-admin (default\n"
    "                      16777216, the wire's admin limit)\n"
    "  --http-max-age SECONDS\n"
    "                      Cache-Control max-age of GET answers about items\n"
    "                      (fbt, complements, similar, viewed_bought,\n"
    "                      trending): public, max-age=SECONDS (default 60,\n"
    "                      at most 86400); 0: no-store. picks and history\n"
    "                      are private, no-store; the rest no-store.\n"
    "  --quiet             log only warnings and errors\n"
    "  --help              this text;  --version  the version\n"
    "\n"
    "Paths: POST /v1/<op>, POST /v1, GET /v1/<op>?QUERY (read ops; a\n"
    "write op gets 405), GET /healthz (200 when xselld answers, else 503),\n"
    "GET /metrics (Prometheus text), GET / (the ops console, a page that\n"
    "searches items and users). Statuses: 200 ok, 400 bad_request,\n"
    "413 too_large, 403 forbidden, 404 not_found, 503 unavailable,\n"
    "500 internal, 504 outcome_unknown (a write sent, no reply); also\n"
    "404/405/411 for paths, methods and chunked bodies,\n"
    "414 for a query over 4096 bytes or 256 parameters.\n"
    "\n"
    "SIGINT, SIGTERM or SIGHUP stops the gateway (SIGHUP not when it was\n"
    "started ignored, as by nohup). Exit status: 0 after a clean\n"
    "stop, 1 when an address cannot be listened on, 2 for a usage error.\n";

/* One line on stderr; returns the usage exit status. */
#define usage_error(...) \
	XS_USAGE_ERROR(  \
	    "xsell-gateway", " (see xsell-gateway --help)\n", __VA_ARGS__)

enum {
	OPT_HTTP = 256,
	OPT_HTTP_ADMIN,
	OPT_UPSTREAM,
	OPT_ADMIN_UPSTREAM,
	OPT_POOL,
	OPT_QUEUE,
	OPT_TIMEOUT,
	OPT_MAX_BODY,
	OPT_MAX_ADMIN_BODY,
	OPT_MAX_AGE,
	OPT_QUIET,
	OPT_VERSION,
};

/* One numeric option into its field; 0 or the usage exit status. */
static int
number_opt(int c, const char *arg, struct xs_gw_opts *o)
{
	uint64_t v;

	switch (c) {
	case OPT_POOL:
		if (!xs_opt_u64(arg, 1, XS_GW_POOL_MAX, &v)) {
			return usage_error(
			    "--pool: '%s' is not 1..%d", arg, XS_GW_POOL_MAX);
		}
		o->pool = (unsigned) v;
		return 0;
	case OPT_QUEUE:
		if (!xs_opt_u64(arg, 0, XS_GW_QUEUE_MAX, &v)) {
			return usage_error("--queue: '%s' is not 0..%d", arg,
			    XS_GW_QUEUE_MAX);
		}
		o->queue = (unsigned) v;
		return 0;
	case OPT_TIMEOUT:
		if (!xs_opt_u64(arg, 1, XS_GW_TIMEOUT_MAX_MS, &v)) {
			return usage_error("--timeout: '%s' is not 1..%d", arg,
			    XS_GW_TIMEOUT_MAX_MS);
		}
		o->timeout_ms = (int) v;
		return 0;
	case OPT_MAX_BODY:
		if (!xs_opt_u64(arg, 2, XSELL_READ_MSG_MAX, &v)) {
			return usage_error("--max-body: '%s' is not 2..%u",
			    arg, XSELL_READ_MSG_MAX);
		}
		o->body_max = v;
		return 0;
	case OPT_MAX_AGE:
		if (!xs_opt_u64(arg, 0, XS_GW_MAX_AGE_MAX, &v)) {
			return usage_error("--http-max-age: '%s' is not 0..%d",
			    arg, XS_GW_MAX_AGE_MAX);
		}
		o->max_age_s = (unsigned) v;
		return 0;
	default:
		if (!xs_opt_u64(arg, 2, XSELL_ADMIN_MSG_MAX, &v)) {
			return usage_error("--max-admin-body: '%s' is not "
			                   "2..%u",
			    arg, XSELL_ADMIN_MSG_MAX);
		}
		o->admin_body_max = v;
		return 0;
	}
}

static int
parse_args(int argc, char **argv, struct xs_gw_opts *o)
{
	static const struct option longopts[] = {
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "http-admin", required_argument, NULL, OPT_HTTP_ADMIN },
		{ "upstream", required_argument, NULL, OPT_UPSTREAM },
		{ "admin-upstream", required_argument, NULL,
		    OPT_ADMIN_UPSTREAM },
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "max-body", required_argument, NULL, OPT_MAX_BODY },
		{ "max-admin-body", required_argument, NULL,
		    OPT_MAX_ADMIN_BODY },
		{ "http-max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	int rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HTTP:
			o->http = optarg;
			break;
		case OPT_HTTP_ADMIN:
			o->http_admin = optarg;
			break;
		case OPT_UPSTREAM:
			o->upstream = optarg;
			break;
		case OPT_ADMIN_UPSTREAM:
			o->admin_upstream = optarg;
			break;
		case OPT_POOL:
		case OPT_QUEUE:
		case OPT_TIMEOUT:
		case OPT_MAX_BODY:
		case OPT_MAX_ADMIN_BODY:
		case OPT_MAX_AGE:
			rc = number_opt(c, optarg, o);
			if (rc != 0) {
				return rc;
			}
			break;
		case OPT_QUIET:
			xs_log_set_level(XS_LOG_WARN);
			break;
		case OPT_VERSION:
			printf("xsell-gateway %s\n", XSELL_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			return usage_error("unknown or incomplete option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc) {
		return usage_error("unexpected argument '%s'", argv[optind]);
	}
	if (o->http == NULL || o->upstream == NULL) {
		return usage_error("%s", "--http and --upstream are required");
	}
	if ((o->http_admin == NULL) != (o->admin_upstream == NULL)) {
		return usage_error("%s",
		    "--http-admin and --admin-upstream go "
		    "together");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct xs_gw_opts o;
	xs_gw            *gw;
	int               sig;
	int               rc;

	xs_gw_opts_default(&o);
	rc = parse_args(argc, argv, &o);
	if (rc != 0) {
		return rc;
	}
	/* Before any thread starts, so that every thread inherits the
	 * mask and only xs_stop_signal_wait below sees the signals. */
	xs_stop_signals_block();

	if (xs_gw_open(&gw, &o) != XSELL_OK) {
		return 1; /* the reason is logged, one line */
	}
	xs_log(XS_LOG_INFO, "xsell-gateway %s: reads -> %s%s%s", XSELL_VERSION,
	    o.upstream, o.admin_upstream != NULL ? ", writes -> " : "",
	    o.admin_upstream != NULL ? o.admin_upstream : "");
	sig = xs_stop_signal_wait();
	xs_log(XS_LOG_INFO, "signal %d: stopping", sig);
	xs_gw_close(gw);
	return 0;
}
