/* SPDX-License-Identifier: MIT */
/* xselld: parse flags, open the server (and, with --http, the HTTP/JSON
 * front of src/gateway/ in the same process), wait for a stop signal,
 * close. Signals are blocked in every thread and taken here with
 * sigwait, so no work happens in a signal handler. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "server/server.h"

/* With --http, the HTTP front is the gateway library dialling xselld's
 * own sockets over inproc://: the same decoder, limits and error codes
 * as the msgpack wire, and no second process. inproc names are private
 * to the process, so fixed names cannot collide with another xselld. */
#define HTTP_READ_URL "inproc://xselld-http-read"
#define HTTP_ADMIN_URL "inproc://xselld-http-admin"

static const char usage[] =
    "usage: xselld --db DIR --listen URL [--listen URL ...] --admin URL\n"
    "              [--admin URL ...] [--pull URL ...] [--ipc-mode MODE]\n"
    "              [--admin-ipc-mode MODE] [--threads N]\n"
    "              [--admin-workers N] [--map-size BYTES]\n"
    "              [--memo-size BYTES] [--warm N]\n"
    "              [--max-basket-items N] [--history-max N]\n"
    "              [--http HOST:PORT [--http-admin HOST:PORT]\n"
    "              [--http-max-age SECONDS]] [--quiet]\n"
    "              [--tls-cert FILE --tls-key FILE --tls-ca FILE]\n"
    "              [--max-connections N] [--wal [--wal-backlog BYTES]]\n"
    "              [--config FILE]\n"
    "\n"
    "Serve xsell's wire protocol (msgpack over nng REQ/REP) from the\n"
    "store in DIR.\n"
    "\n"
    "  --db DIR          store directory (created if missing; one level)\n"
    "  --listen URL      read-only endpoint: ipc://PATH, tcp://HOST:PORT\n"
    "                    or tls+tcp://HOST:PORT;\n"
    "                    writes sent here get the error \"forbidden\".\n"
    "                    Repeat for several endpoints.\n"
    "  --admin URL       endpoint that also takes writes (event, items,\n"
    "                    forget_user).\n"
    "                    Repeat for several.\n"
    "  --pull URL        fire-and-forget endpoint (nng PULL; senders use\n"
    "                    PUSH): each message is one event request, as\n"
    "                    on --admin, applied whole or not at all and\n"
    "                    never answered; any other op is rejected.\n"
    "                    Nothing is acknowledged: a message in flight at\n"
    "                    a crash or a stop is lost, and no order is kept\n"
    "                    between messages. stats.pull counts what became\n"
    "                    of them; rejected and failed ones are logged (a\n"
    "                    line a second at most). Repeat for several. At\n"
    "                    least one --listen, --admin, --pull or --http\n"
    "                    is needed.\n"
    "  --ipc-mode MODE   permissions of the ipc:// sockets of --listen,\n"
    "                    octal 1..777, e.g. 660: a client needs write\n"
    "                    permission on the socket to connect (default:\n"
    "                    what the umask leaves, 755 under umask 022, so\n"
    "                    that only the owner can connect; root always\n"
    "                    can)\n"
    "  --admin-ipc-mode MODE\n"
    "                    the same for the ipc:// sockets of --admin and\n"
    "                    --pull, which write (e.g. 600: the server's own\n"
    "                    user and root)\n"
    "  --threads N       read workers, each serving one request at a time\n"
    "                    on nng's own threads (default: one per core;\n"
    "                    nng 1.5.2 has two threads a core, so keep N at\n"
    "                    most the cores to leave it threads for I/O);\n"
    "                    admin endpoints get max(64, N/2) worker threads\n"
    "                    of their own (writes that wait together share\n"
    "                    one commit), unless --admin-workers says\n"
    "  --admin-workers N writes served at once, each by a thread of its\n"
    "                    own, 1..256: more concurrent writers share\n"
    "                    each commit (32 writers of 1,000 orders made\n"
    "                    2.5 times the events/s with 32 workers as with\n"
    "                    8); each may hold a 16 MiB request and its\n"
    "                    decoding\n"
    "  --map-size BYTES  LMDB map size: address space the store may grow\n"
    "                    into, with an optional K, M, G or T suffix\n"
    "                    (default 16G; the file only grows as it fills)\n"
    "  --memo-size BYTES memory for what answers derive from one item\n"
    "                    and keep until the next commit (a seed's scored\n"
    "                    neighbours for picks, an item's best pairs for\n"
    "                    fbt, its co-counts packed for carts, its\n"
    "                    complements; a customer's best for_you\n"
    "                    candidates), 1M..1T with a K, M, G or T\n"
    "                    suffix (default: an eighth of the store's bytes\n"
    "                    in use at start, at least 64M); once full, what no\n"
    "                    answer used lately is let go for what answers\n"
    "                    make. Raise it when stats.store.memo_bytes stays\n"
    "                    at the budget and memo_misses grow.\n"
    "                    As much again, at most, keeps items' ids and\n"
    "                    metadata once read (stats.store.item_cache_bytes);\n"
    "                    the memos' table takes 40 bytes for every 256\n"
    "                    of it (at most 40 MiB)\n"
    "  --warm N          before answering, make the fbt answers of the N\n"
    "                    items in most orders, alone and two at a time as\n"
    "                    a cart, on every core, so that the first requests\n"
    "                    after a start find their lists made; stops once\n"
    "                    the memos hold half of --memo-size (default\n"
    "                    1000000, the most: every ordered item that fits;\n"
    "                    0: none); logs how many and how long it took\n"
    "  --max-basket-items N\n"
    "                    pairs are counted for at most N distinct items of\n"
    "                    one order, a deterministic sample (default 100)\n"
    "  --history-max N   events kept per user (default 500)\n"
    "  --http HOST:PORT  also serve HTTP/JSON on this address, e.g.\n"
    "                    127.0.0.1:8080 (port 0: a free port, logged):\n"
    "                    POST /v1/<op> with the request as a JSON object,\n"
    "                    GET /v1/<op>?QUERY with its fields as parameters\n"
    "                    (read ops), GET /healthz, GET /metrics, and GET /\n"
    "                    for the ops console page (proto/HTTP.md).\n"
    "                    Writes here get 403. Counts as a read endpoint.\n"
    "  --http-admin HOST:PORT\n"
    "                    HTTP/JSON address that also takes writes; needs\n"
    "                    --http. Keep it private. Both take a body of at\n"
    "                    most the endpoint's limit, answer within 2 s or\n"
    "                    503, and hold at most 32 requests in flight and\n"
    "                    1024 waiting each (as xsell-gateway's defaults).\n"
    "                    A write waits for its commit (up to 10 minutes,\n"
    "                    then 504 outcome_unknown), never a 503 once sent.\n"
    "  --http-max-age SECONDS\n"
    "                    Cache-Control max-age of GET answers about items\n"
    "                    (fbt, complements, similar, viewed_bought,\n"
    "                    trending): public, max-age=SECONDS (default 60,\n"
    "                    at most 86400); 0: no-store. picks and history are\n"
    "                    private, no-store; everything else no-store.\n"
    "  --tls-cert FILE   PEM certificate (chain) of the tls+tcp://\n"
    "                    endpoints, --listen, --admin or --pull\n"
    "  --tls-key FILE    its private key, PEM, unencrypted\n"
    "  --tls-ca FILE     PEM CA certificate(s): a client must present a\n"
    "                    certificate signed by one of them, or the TLS\n"
    "                    handshake fails and it gets no answer. All\n"
    "                    three are needed with a tls+tcp:// URL, and\n"
    "                    only then.\n"
    "  --max-connections N\n"
    "                    connections served at once on the read\n"
    "                    endpoints, and again on the admin ones, and on\n"
    "                    the pull ones (default 512, at most 65536).\n"
    "                    Past it, a connection waits: each of its\n"
    "                    requests gets \"unavailable\" at once (on a\n"
    "                    pull endpoint, each message is dropped and\n"
    "                    counted in stats.pull.refused) until a served\n"
    "                    one goes, then it is served (64 wait at most;\n"
    "                    more are closed as soon as they are made). Each\n"
    "                    connection holds at most one request (nng\n"
    "                    reads one at a time), so this bounds the queue\n"
    "                    and its memory. A connection that leaves a\n"
    "                    reply unread for 2 s gets no answers for 5 s,\n"
    "                    then one request is tried: answered again if\n"
    "                    the client reads, else muted twice as long (up\n"
    "                    to 320 s). xselld never hangs up a connection\n"
    "                    (see its man page, OVERLOAD).\n"
    "  --wal             write-ahead log: a write (event, items,\n"
    "                    forget_user) is answered once its request is\n"
    "                    appended to DIR/wal-*.log and synced (writers\n"
    "                    at the same moment share one sync); a thread\n"
    "                    applies the log to the store in large groups,\n"
    "                    each one synced commit. Reads see a write after\n"
    "                    its group's commit (bounded by --wal-backlog;\n"
    "                    see proto/PROTOCOL.md; forget_user answers\n"
    "                    after it is applied). An event's reply counts\n"
    "                    all its events as applied (duplicates: 0; they\n"
    "                    are still skipped when applied). The log is\n"
    "                    replayed at start and applied at stop; a file\n"
    "                    is deleted once applied. Without --wal, a log\n"
    "                    left in DIR is applied first and deleted (no\n"
    "                    log file or thread is started). A full disk or\n"
    "                    a failed log write gets \"internal\" and logs\n"
    "                    nothing. Off by default.\n"
    "  --wal-backlog BYTES\n"
    "                    log bytes not yet applied past which writers\n"
    "                    wait for the applier (default 32M, 1M..4G);\n"
    "                    the applier's groups are at most half of it\n"
    "                    (and 16M): smaller is a shorter delay before\n"
    "                    reads see a write, larger more events/s\n"
    "  --quiet           log only warnings and errors\n"
    "  --config FILE     read options from FILE first: one per line, the\n"
    "                    long name without the dashes and its value\n"
    "                    (\"listen ipc:///run/xsell/xsell.sock\", "
    "\"quiet\"),\n"
    "                    '#' starts a comment; options on the command\n"
    "                    line come after the file's (a repeatable one\n"
    "                    adds, another one given twice: the last wins)\n"
    "  --help            this text;  --version  the version\n"
    "\n"
    "SIGINT, SIGTERM or SIGHUP (unless started with SIGHUP ignored, as by\n"
    "nohup) stops the server: requests in flight are answered,\n"
    "then the store is closed; a stop taking over 10 s ends at once (with\n"
    "a warning; every acknowledged write is committed, or logged with\n"
    "--wal and applied at the next start). Exit status: 0\n"
    "after a stop, 1 when\n"
    "the store, an endpoint or an HTTP address cannot be opened, 2 for a\n"
    "usage error.\n"
    "Requests are limited to 64 KiB on --listen endpoints and 16 MiB on\n"
    "--admin and --pull endpoints; see proto/PROTOCOL.md for every limit.\n"
    "A stop applies the pull message each worker holds; messages still in\n"
    "nng's buffers are lost.\n"
    "With --http, HTTP requests in flight are answered first (within 3 s;\n"
    "new ones get 503), then the HTTP addresses close.\n";

/* One line on stderr; returns the usage exit status. */
#define usage_error(...) \
	XS_USAGE_ERROR("xselld", " (see xselld --help)\n", __VA_ARGS__)

enum {
	OPT_MAX_BASKET = 256,
	OPT_HISTORY_MAX,
	OPT_HTTP,
	OPT_HTTP_ADMIN,
	OPT_HTTP_MAX_AGE,
	OPT_QUIET,
	OPT_VERSION,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_MAX_CONNECTIONS,
	OPT_WAL,
	OPT_WAL_BACKLOG,
	OPT_MEMO_SIZE,
	OPT_WARM,
	OPT_ADMIN_WORKERS,
	OPT_IPC_MODE,
	OPT_ADMIN_IPC_MODE,
	OPT_PULL
};

/* An ipc:// socket's permission bits: octal digits, 1..0777 (0 would
 * shut out even the server's own user). */
static bool
ipc_mode_parse(const char *s, unsigned *mode)
{
	char         *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '7' || strlen(s) > 4) {
		return false;
	}
	errno = 0;
	v     = strtoul(s, &end, 8);
	if (errno != 0 || *end != '\0' || v == 0 || v > 0777) {
		return false;
	}
	*mode = (unsigned) v;
	return true;
}

/* With --http: xselld also listens on the inproc:// endpoints the
 * in-process gateway dials. 0 or the usage exit status. */
static int
http_endpoints_add(struct xs_server_opts *o, struct xs_gw_opts *g)
{
	if (g->http_admin != NULL && g->http == NULL) {
		return usage_error("%s", "--http-admin needs --http");
	}
	if (g->http == NULL) {
		return 0;
	}
	if (o->n_listen == XS_SERVER_MAX_URLS) {
		return usage_error("too many --listen with --http (at most "
		                   "%d in all)",
		    XS_SERVER_MAX_URLS - 1);
	}
	o->listen[o->n_listen++] = HTTP_READ_URL;
	g->upstream              = HTTP_READ_URL;
	if (g->http_admin != NULL) {
		if (o->n_admin == XS_SERVER_MAX_URLS) {
			return usage_error(
			    "too many --admin with --http-admin "
			    "(at most %d in all)",
			    XS_SERVER_MAX_URLS - 1);
		}
		o->admin[o->n_admin++] = HTTP_ADMIN_URL;
		g->admin_upstream      = HTTP_ADMIN_URL;
	}
	return 0;
}

/* The TLS files go with tls+tcp:// URLs: all three for any such URL,
 * and none without one (a certificate given for a plain tcp:// endpoint
 * would otherwise suggest a protection that is not there). */
static int
tls_options_check(const struct xs_server_opts *o)
{
	bool has_tls_url = xs_server_opts_use_tls(o);
	int  n_files =
	    (o->tls_cert != NULL) + (o->tls_key != NULL) + (o->tls_ca != NULL);

	if (has_tls_url && n_files != 3) {
		return usage_error("%s",
		    "a tls+tcp:// URL needs --tls-cert, --tls-key and "
		    "--tls-ca");
	}
	if (!has_tls_url && n_files != 0) {
		return usage_error("%s",
		    "--tls-cert, --tls-key and --tls-ca are for tls+tcp:// "
		    "URLs; none is given");
	}
	return 0;
}

/* --config: a file's options, as the argv they stand for
 * (xs_server_config_parse, config.c). What is read is kept for the life
 * of the process, reachable from these statics. */
static char  *config_words[XS_CONFIG_FILES_MAX]; /* each file's words */
static int    n_config_files;
static char **config_argv;

/* The argv and the words --config allocated, freed as the process
 * exits, so that a leak checker finds nothing (an optimising build may
 * drop a static that is only written, and the memory would seem lost). */
static void
config_free(void)
{
	free(config_argv);
	for (int i = 0; i < n_config_files; i++) {
		free(config_words[i]);
	}
}

/* xselld's options, for getopt_long and for checking --config lines. */
static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "admin", required_argument, NULL, 'a' },
	{ "pull", required_argument, NULL, OPT_PULL },
	{ "threads", required_argument, NULL, 't' },
	{ "map-size", required_argument, NULL, 'm' },
	{ "max-basket-items", required_argument, NULL, OPT_MAX_BASKET },
	{ "history-max", required_argument, NULL, OPT_HISTORY_MAX },
	{ "http", required_argument, NULL, OPT_HTTP },
	{ "http-admin", required_argument, NULL, OPT_HTTP_ADMIN },
	{ "http-max-age", required_argument, NULL, OPT_HTTP_MAX_AGE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "wal", no_argument, NULL, OPT_WAL },
	{ "wal-backlog", required_argument, NULL, OPT_WAL_BACKLOG },
	{ "memo-size", required_argument, NULL, OPT_MEMO_SIZE },
	{ "warm", required_argument, NULL, OPT_WARM },
	{ "admin-workers", required_argument, NULL, OPT_ADMIN_WORKERS },
	{ "ipc-mode", required_argument, NULL, OPT_IPC_MODE },
	{ "admin-ipc-mode", required_argument, NULL, OPT_ADMIN_IPC_MODE },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* xs_config_takes_value by longopts: exact names only (getopt_long also
 * takes a prefix, and says what it makes of one). */
static int
config_takes_value(const char *name, size_t len)
{
	for (const struct option *o = longopts; o->name != NULL; o++) {
		if (strlen(o->name) == len &&
		    memcmp(o->name, name, len) == 0) {
			return o->has_arg == required_argument;
		}
	}
	return -1;
}

/* Read 'path' and add its words to words[*np..]. Returns the usage exit
 * status with one line on stderr when the file cannot be used. */
static int
config_read(const char *path, char **words, int *np)
{
	FILE     *f = fopen(path, "r");
	char     *text, *store;
	char      msg[PATH_MAX + 160];
	size_t    len;
	int       read_errno;
	xsell_err err;

	if (f == NULL) {
		return usage_error("--config %s: %s", path, strerror(errno));
	}
	text = n_config_files < XS_CONFIG_FILES_MAX
	    ? malloc(XS_CONFIG_BYTES_MAX + 1)
	    : NULL;
	if (text == NULL) {
		(void) fclose(f); /* read only: nothing to lose */
		return usage_error("--config %s: out of memory or more than "
		                   "%d files",
		    path, XS_CONFIG_FILES_MAX);
	}
	/* One byte over the limit, for the parser to refuse. */
	len        = fread(text, 1, XS_CONFIG_BYTES_MAX + 1, f);
	read_errno = ferror(f) ? errno : 0;
	(void) fclose(f); /* read only */
	if (read_errno != 0) {
		/* A directory opens, then fails to read (EISDIR): it was
		 * taken for an empty file. */
		free(text);
		return usage_error(
		    "--config %s: %s", path, strerror(read_errno));
	}
	err = xs_server_config_parse(path, text, len, words, np, &store, msg,
	    sizeof(msg), config_takes_value);
	free(text); /* the words are copies */
	if (err != XSELL_OK) {
		return usage_error("%s", msg);
	}
	if (n_config_files == 0) {
		(void) atexit(config_free);
	}
	config_words[n_config_files++] = store;
	return 0;
}

/* argv with the options of every --config FILE put first (the command
 * line comes after them, so it adds to or overrides them). */
static int
expand_config(int *argcp, char ***argvp)
{
	/* The files' words share the table and its limit. */
	static char *words[XS_CONFIG_WORDS_MAX];
	char       **argv = *argvp, **out;
	int          argc = *argcp, n_words = 0, n = 1;
	bool         any = false;

	for (int i = 1; i < argc; i++) {
		const char *path = NULL;
		int         rc;

		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			path = argv[i] + 9;
		} else if (strcmp(argv[i], "--config") == 0) {
			return usage_error("%s", "--config needs a FILE");
		}
		if (path == NULL) {
			continue;
		}
		any = true;
		rc  = config_read(path, words, &n_words);
		if (rc != 0) {
			return rc;
		}
	}
	/* Even with no words (a file of comments), the --config options
	 * must go from argv: getopt_long does not know them. */
	if (!any) {
		return 0;
	}
	out = calloc((size_t) argc + (size_t) n_words + 1, sizeof(*out));
	if (out == NULL) {
		return usage_error("%s", "out of memory");
	}
	config_argv = out;
	out[0]      = argv[0];
	for (int i = 0; i < n_words; i++) {
		out[n++] = words[i];
	}
	for (int i = 1; i < argc; i++) {
		/* argv[i] (i < argc) is never NULL; clang's analyzer takes
		 * the NULL test of a FILE read from argv above for a hint
		 * that it may be. */
		// NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
		if (strcmp(argv[i], "--config") == 0) {
			i++; /* and its FILE */
		} else if (strncmp(argv[i], "--config=", 9) != 0) {
			out[n++] = argv[i];
		}
	}
	*argcp = n;
	*argvp = out;
	return 0;
}

static int
parse_args(
    int argc, char **argv, struct xs_server_opts *o, struct xs_gw_opts *g)
{
	int c = expand_config(&argc, &argv);

	if (c != 0) {
		return c;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'l':
			if (o->n_listen == XS_SERVER_MAX_URLS) {
				return usage_error(
				    "too many --listen: %s", optarg);
			}
			o->listen[o->n_listen++] = optarg;
			break;
		case 'a':
			if (o->n_admin == XS_SERVER_MAX_URLS) {
				return usage_error(
				    "too many --admin: %s", optarg);
			}
			o->admin[o->n_admin++] = optarg;
			break;
		case OPT_PULL:
			if (o->n_pull == XS_SERVER_MAX_URLS) {
				return usage_error(
				    "too many --pull: %s", optarg);
			}
			o->pull[o->n_pull++] = optarg;
			break;
		case 't':
			if (!xs_opt_uint(optarg, 1, 256, &o->threads)) {
				return usage_error(
				    "--threads: '%s' is not 1..256", optarg);
			}
			break;
		case 'm':
			if (!xs_opt_size(optarg, &o->map_size)) {
				return usage_error(
				    "--map-size: '%s' is not a size", optarg);
			}
			break;
		case OPT_MAX_BASKET:
			if (!xs_opt_uint(optarg, 2, XSELL_ORDER_ITEMS_MAX,
			        &o->settings.max_basket_items)) {
				return usage_error(
				    "--max-basket-items: '%s' is not 2..10000",
				    optarg);
			}
			break;
		case OPT_HISTORY_MAX:
			if (!xs_opt_uint(
			        optarg, 1, 100000, &o->settings.history_max)) {
				return usage_error(
				    "--history-max: '%s' is not 1..100000",
				    optarg);
			}
			break;
		case OPT_HTTP:
			g->http = optarg;
			break;
		case OPT_HTTP_ADMIN:
			g->http_admin = optarg;
			break;
		case OPT_HTTP_MAX_AGE:
			if (!xs_opt_uint(
			        optarg, 0, XS_GW_MAX_AGE_MAX, &g->max_age_s)) {
				return usage_error(
				    "--http-max-age: '%s' is not 0..%d",
				    optarg, XS_GW_MAX_AGE_MAX);
			}
			break;
		case OPT_QUIET:
			xs_log_set_level(XS_LOG_WARN);
			break;
		case OPT_TLS_CERT:
			o->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			o->tls_key = optarg;
			break;
		case OPT_TLS_CA:
			o->tls_ca = optarg;
			break;
		case OPT_MAX_CONNECTIONS:
			if (!xs_opt_uint(optarg, 1,
			        XS_SERVER_MAX_CONNECTIONS_MAX,
			        &o->max_connections)) {
				return usage_error(
				    "--max-connections: '%s' is "
				    "not 1..65536",
				    optarg);
			}
			break;
		case OPT_WAL:
			o->wal = true;
			break;
		case OPT_WAL_BACKLOG:
			if (!xs_opt_size_in(optarg, XS_SERVER_WAL_BACKLOG_MIN,
			        XS_SERVER_WAL_BACKLOG_MAX, &o->wal_backlog)) {
				return usage_error(
				    "--wal-backlog: '%s' is not 1M..4G",
				    optarg);
			}
			break;
		case OPT_MEMO_SIZE:
			if (!xs_opt_size_in(optarg, XS_ITEM_MEMO_BYTES_MIN,
			        XS_ITEM_MEMO_BYTES_MAX, &o->memo_size)) {
				return usage_error(
				    "--memo-size: '%s' is not 1M..1T", optarg);
			}
			break;
		case OPT_WARM:
			if (!xs_opt_uint(optarg, 0, XS_SERVER_WARM_MAX,
			        &o->warm_items)) {
				return usage_error("--warm: '%s' is not 0..%u",
				    optarg, XS_SERVER_WARM_MAX);
			}
			break;
		case OPT_ADMIN_WORKERS:
			if (!xs_opt_uint(optarg, 1, 256, &o->admin_workers)) {
				return usage_error(
				    "--admin-workers: '%s' is not 1..256",
				    optarg);
			}
			break;
		case OPT_IPC_MODE:
			if (!ipc_mode_parse(optarg, &o->listen_ipc_mode)) {
				return usage_error("--ipc-mode: '%s' is not "
				                   "octal 1..777",
				    optarg);
			}
			break;
		case OPT_ADMIN_IPC_MODE:
			if (!ipc_mode_parse(optarg, &o->admin_ipc_mode)) {
				return usage_error("--admin-ipc-mode: '%s' is "
				                   "not octal 1..777",
				    optarg);
			}
			break;
		case OPT_VERSION:
			printf("xselld %s\n", XSELL_VERSION);
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
	if (o->db == NULL) {
		return usage_error("%s", "--db DIR is required");
	}
	c = http_endpoints_add(o, g);
	if (c != 0) {
		return c;
	}
	if (o->n_listen + o->n_admin + o->n_pull == 0) {
		return usage_error("%s",
		    "give at least one --listen, --admin, --pull or --http");
	}
	return tls_options_check(o);
}

/* Seconds an orderly stop may take before xselld exits regardless. */
#define STOP_GRACE_S 10

static void *
stop_watchdog(void *arg)
{
	(void) arg;
	sleep(STOP_GRACE_S);
	xs_log(XS_LOG_WARN,
	    "stopping took over %d s (a connection that will not close): "
	    "exiting now; every acknowledged write is committed (or, "
	    "with --wal, logged: applied at the next start)",
	    STOP_GRACE_S);
	_exit(0);
	return NULL;
}

/* A stop must end: closing nng sockets can wait on a peer that never
 * reads (seen with libnng 1.5.2 under a flood), and a service manager
 * would otherwise kill -9 after its own timeout. Nothing is lost by
 * exiting then: a write is answered only after its commit. */
static void
stop_watchdog_start(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, stop_watchdog, NULL) == 0) {
		pthread_detach(t);
	}
}

int
main(int argc, char **argv)
{
	struct xs_server_opts o;
	struct xs_gw_opts     g;
	xs_server            *srv;
	xs_gw                *gw = NULL;
	int                   sig;
	int                   rc;

	memset(&o, 0, sizeof(o));
	o.warm_items = XS_SERVER_WARM_DEFAULT;
	xs_settings_default(&o.settings);
	xs_gw_opts_default(&g);
	rc = parse_args(argc, argv, &o, &g);
	if (rc != 0) {
		return rc;
	}
	/* Before any thread starts, so that every thread inherits the
	 * mask and only xs_stop_signal_wait below sees the signals. */
	xs_stop_signals_block();

	if (xs_server_open(&srv, &o) != XSELL_OK) {
		return 1; /* the reason is logged, one line */
	}
	if (xs_server_start(srv) != XSELL_OK) {
		xs_server_close(srv);
		return 1;
	}
	/* After the server listens on inproc://, so the gateway's first
	 * dial finds it. */
	if (g.http != NULL && xs_gw_open(&gw, &g) != XSELL_OK) {
		xs_server_close(srv);
		return 1;
	}
	xs_log(XS_LOG_INFO,
	    "xselld %s serving %s (%zu read, %zu admin, %zu pull "
	    "endpoints)",
	    XSELL_VERSION, o.db, o.n_listen, o.n_admin, o.n_pull);
	sig = xs_stop_signal_wait();
	xs_log(XS_LOG_INFO, "signal %d: stopping", sig);
	stop_watchdog_start();
	/* HTTP first: its requests need the server to be answered. */
	xs_gw_close(gw);
	xs_server_close(srv);
	xs_log(XS_LOG_INFO, "stopped");
	return 0;
}
