/* SPDX-License-Identifier: MIT */
/* xsell-bench: parse flags, load the pools of item and user ids, run
 * (over the sockets or in process), report. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xsell/limits.h>

#include "bench.h"
#include "common/common.h"
#include "store/store.h"

static const char usage[] =
    "usage: xsell-bench --url URL (--db DIR | --items FILE) [options]\n"
    "       xsell-bench --inproc --db DIR [options]\n"
    "\n"
    "Load generator for xselld (or any REQ/REP server, such as xsell-echo,\n"
    "the baseline): N clients, each with its own nng REQ socket and one\n"
    "request in flight, send a mix of requests built from real item ids\n"
    "and report throughput and latency quantiles per op. With --inproc it\n"
    "calls the model (xs_model_fbt, xs_model_complements, xs_model_picks)\n"
    "directly on the store instead, to show the service's own work\n"
    "without transport.\n"
    "\n"
    "Where to send:\n"
    "  --url URL         the read endpoint: ipc://PATH or tcp://HOST:PORT\n"
    "  --admin-url URL   the admin endpoint, for the \"event\" op\n"
    "  --pair-url URL    paired: every request goes to this server too\n"
    "                    (each client sends it to both, one after the\n"
    "                    other, the two in turn first), and its figures\n"
    "                    are reported beside --url's with the ratio of\n"
    "                    the two p50s (--url's over this one's): both\n"
    "                    servers meet the same moments of a busy machine,\n"
    "                    where two runs one after the other do not (with\n"
    "                    one client, each has the machine to itself\n"
    "                    while it answers; this process's CPU a reply\n"
    "                    then covers both). Reads only: refused with\n"
    "                    --rate, --inproc and a mix that writes\n"
    "  --inproc          no sockets: query the store of --db in process\n"
    "                    (fbt, fbt_cart, complements and picks of the mix;\n"
    "                    one thread; only the model call is timed)\n"
    "  --cpu-time        with --inproc: time each call by the thread's CPU\n"
    "                    clock, not the wall clock (a busy machine's\n"
    "                    preemptions left out); refused without\n"
    "                    --inproc (a usage error)\n"
    "  --memo-size BYTES with --inproc: the store's per-item memos'\n"
    "                    budget, as xselld's --memo-size (1M..1T;\n"
    "                    default, as xselld's: an eighth of the store's\n"
    "                    bytes in use, at least 64M); refused without\n"
    "                    --inproc\n"
    "  --picks-unkept    with --inproc: for_you keeps no user's best\n"
    "                    candidates for the next answer (the setting\n"
    "                    pick_keep_answers off), so that every answer\n"
    "                    costs what a user's first answer costs;\n"
    "                    refused without --inproc\n"
    "  --warm N          with --inproc: first make the fbt answers of the\n"
    "                    N items in most orders, as xselld does before it\n"
    "                    answers, on every core, until the memos hold\n"
    "                    half their budget (xselld's default is 1000000;\n"
    "                    here 0, so that a run starts cold unless asked),\n"
    "                    0..1000000; refused without --inproc\n"
    "Items the requests name (one of):\n"
    "  --db DIR          the store's own items (opened read-only; xselld\n"
    "                    may be serving it), drawn by popularity: an item\n"
    "                    in twice as many baskets is asked twice as often\n"
    "  --uniform         with --db: draw every item equally often\n"
    "  --items FILE      one id a line, drawn uniformly\n"
    "Users picks asks for (needs --db):\n"
    "  --user-events N   drawn uniformly among the store's users whose\n"
    "                    history holds 1..N events, 1..100000 (default\n"
    "                    200: issue 5's \"users up to 200 events\"); the\n"
    "                    request's \"now\" is the newest event time in any\n"
    "                    user's history, so that a historical data set is\n"
    "                    not aged by years (guest orders have no history\n"
    "                    and do not count)\n"
    "What to send:\n"
    "  --mix SPEC        op=weight,... over fbt (one item), fbt_cart\n"
    "                    (--cart items), complements (one item), picks\n"
    "                    (kind for_you of one user, k --k), stats, event\n"
    "                    (orders of --cart items, --event-batch per\n"
    "                    request, to --admin-url), view (--event-batch\n"
    "                    views of one item each, by 1,000 users a\n"
    "                    client, to --admin-url); with --db, orders and\n"
    "                    views carry the \"now\" picks sends as their\n"
    "                    \"ts\"; weights 0..1000000 (default\n"
    "                    fbt=80,fbt_cart=10,complements=10)\n"
    "  --cart N          items of a cart query or an order, 2..100\n"
    "                    (default 3)\n"
    "  --k N             answers asked for, 1..500 (default 10)\n"
    "  --event-batch N   orders or views per event request, 1..10000\n"
    "                    (default 1)\n"
    "  --seed N          the draws' seed (default 1); the same seed gives\n"
    "                    the same requests\n"
    "How long and how hard:\n"
    "  --clients N       concurrent clients, 1..256 (default 1)\n"
    "  --duration S      seconds measured, 0.1..86400 (default 5)\n"
    "  --warmup S        seconds run first and not measured, 0..3600\n"
    "                    (default 1)\n"
    "  --requests N      stop after N requests in all (warmup included)\n"
    "                    instead of after --duration\n"
    "  --rate R          open loop: R requests/s over all clients, each on\n"
    "                    a fixed schedule, latency counted from the\n"
    "                    scheduled send (queueing shows); default: closed\n"
    "                    loop, each client sends when its reply came\n"
    "  --timeout-ms N    give up on a reply after N ms, 1..600000 (default\n"
    "                    5000); counted as a failure\n"
    "Output:\n"
    "  --server-pid PID  also report the CPU (user + system, all threads,\n"
    "                    from /proc) and context switches of process\n"
    "                    PID over the measured window, a reply: the\n"
    "                    server's share of each request; refused with\n"
    "                    --inproc. Over sockets this process's own CPU a\n"
    "                    reply is reported either way\n"
    "  --json            one JSON object instead of the table\n"
    "  --label TEXT      a name for this run in the output\n"
    "  --help            this text;  --version  the version\n"
    "\n"
    "Latency is from send to reply (open loop: from the scheduled send),\n"
    "kept in a log-linear histogram (1.6% resolution): p50, p90, p99,\n"
    "p99.9, mean, max. \"errors\" are replies with ok: false, \"failures\"\n"
    "requests without a reply, each count followed by the ops it came\n"
    "from (with --json, every op's own \"errors\" and \"failures\").\n"
    "Exit status: 0 when the run finished (see errors and failures in\n"
    "the output), 1 when it could not run (no store, no server), 2 for a\n"
    "usage error (an option with a value given twice among them: which\n"
    "value was meant would be unsaid).\n";

enum {
	OPT_URL = 256,
	OPT_ADMIN_URL,
	OPT_PAIR_URL,
	OPT_DB,
	OPT_ITEMS,
	OPT_UNIFORM,
	OPT_MIX,
	OPT_CART,
	OPT_K,
	OPT_EVENT_BATCH,
	OPT_USER_EVENTS,
	OPT_SEED,
	OPT_CLIENTS,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_REQUESTS,
	OPT_RATE,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_LABEL,
	OPT_INPROC,
	OPT_CPU_TIME,
	OPT_MEMO_SIZE,
	OPT_PICKS_UNKEPT,
	OPT_WARM,
	OPT_SERVER_PID,
	OPT_VERSION
};

static const struct option longopts[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "admin-url", required_argument, NULL, OPT_ADMIN_URL },
	{ "pair-url", required_argument, NULL, OPT_PAIR_URL },
	{ "db", required_argument, NULL, OPT_DB },
	{ "items", required_argument, NULL, OPT_ITEMS },
	{ "uniform", no_argument, NULL, OPT_UNIFORM },
	{ "mix", required_argument, NULL, OPT_MIX },
	{ "cart", required_argument, NULL, OPT_CART },
	{ "k", required_argument, NULL, OPT_K },
	{ "event-batch", required_argument, NULL, OPT_EVENT_BATCH },
	{ "user-events", required_argument, NULL, OPT_USER_EVENTS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "requests", required_argument, NULL, OPT_REQUESTS },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "inproc", no_argument, NULL, OPT_INPROC },
	{ "cpu-time", no_argument, NULL, OPT_CPU_TIME },
	{ "memo-size", required_argument, NULL, OPT_MEMO_SIZE },
	{ "picks-unkept", no_argument, NULL, OPT_PICKS_UNKEPT },
	{ "warm", required_argument, NULL, OPT_WARM },
	{ "server-pid", required_argument, NULL, OPT_SERVER_PID },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int
usage_error(const char *flag, const char *what)
{
	fprintf(stderr, "xsell-bench: %s: %s (see --help)\n", flag, what);
	return 2;
}

/* "fbt=80,complements=20": ops not named get weight 0; an empty element
 * ("fbt=1,,picks=1") is refused, as in every tool's lists. */
static bool
parse_mix(const char *spec, unsigned weights[BENCH_OP_COUNT])
{
	const char *p = spec, *elem;
	size_t      len;
	unsigned    total = 0;

	memset(weights, 0, BENCH_OP_COUNT * sizeof(*weights));
	while (xs_opt_list_next(&p, &elem, &len)) {
		char  tok[64];
		char *eq;
		int   op;

		if (len >= sizeof(tok)) {
			return false;
		}
		memcpy(tok, elem, len);
		tok[len] = '\0';
		eq       = strchr(tok, '=');
		if (eq == NULL) {
			return false;
		}
		*eq = '\0';
		for (op = 0; op < BENCH_OP_COUNT; op++) {
			if (strcmp(tok, bench_op_names[op]) == 0) {
				break;
			}
		}
		if (op == BENCH_OP_COUNT ||
		    !xs_opt_uint(eq + 1, 0, 1000000, &weights[op])) {
			return false;
		}
		total += weights[op];
	}
	return total > 0;
}

static void
opts_default(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->clients                    = 1;
	o->duration_s                 = 5;
	o->warmup_s                   = 1;
	o->weights[BENCH_FBT]         = 80;
	o->weights[BENCH_FBT_CART]    = 10;
	o->weights[BENCH_COMPLEMENTS] = 10;
	o->cart                       = 3;
	o->k                          = XSELL_K_DEFAULT;
	o->event_batch                = 1;
	o->user_events                = BENCH_USER_EVENTS_DEFAULT;
	o->seed                       = 1;
	o->timeout_ms                 = 5000;
}

/* One flag into 'o'; 0 or a usage exit status. */
static int
parse_flag(int c, const char *arg, struct bench_opts *o)
{
	const char *flag         = NULL;
	char        flag_buf[32] = "--";

	for (size_t i = 0; longopts[i].name != NULL; i++) {
		if (longopts[i].val == c) {
			strncat(
			    flag_buf, longopts[i].name, sizeof(flag_buf) - 3);
			flag = flag_buf;
		}
	}
	switch (c) {
	case OPT_URL:
		o->url = arg;
		return 0;
	case OPT_ADMIN_URL:
		o->admin_url = arg;
		return 0;
	case OPT_PAIR_URL:
		o->pair_url = arg;
		return 0;
	case OPT_DB:
		o->db = arg;
		return 0;
	case OPT_ITEMS:
		o->items_file = arg;
		return 0;
	case OPT_UNIFORM:
		o->uniform = true;
		return 0;
	case OPT_MIX:
		return parse_mix(arg, o->weights)
		    ? 0
		    : usage_error(flag, "op=weight,... with known ops");
	case OPT_CART:
		return xs_opt_uint(arg, 2, BENCH_CART_MAX, &o->cart)
		    ? 0
		    : usage_error(flag, "must be 2..100");
	case OPT_K:
		return xs_opt_uint(arg, 1, XSELL_K_MAX, &o->k)
		    ? 0
		    : usage_error(flag, "must be 1..500");
	case OPT_EVENT_BATCH:
		return xs_opt_uint(arg, 1, BENCH_BATCH_MAX, &o->event_batch)
		    ? 0
		    : usage_error(flag, "must be 1..10000");
	case OPT_USER_EVENTS:
		return xs_opt_uint(arg, 1, 100000, &o->user_events)
		    ? 0
		    : usage_error(flag, "must be 1..100000");
	case OPT_SEED:
		return xs_opt_u64(arg, 0, UINT64_MAX, &o->seed)
		    ? 0
		    : usage_error(flag, "must be a non-negative integer");
	case OPT_CLIENTS:
		return xs_opt_uint(arg, 1, BENCH_CLIENTS_MAX, &o->clients)
		    ? 0
		    : usage_error(flag, "must be 1..256");
	case OPT_DURATION:
		return xs_opt_double(arg, 0.1, 86400, &o->duration_s)
		    ? 0
		    : usage_error(flag, "must be 0.1..86400 seconds");
	case OPT_WARMUP:
		return xs_opt_double(arg, 0, 3600, &o->warmup_s)
		    ? 0
		    : usage_error(flag, "must be 0..3600 seconds");
	case OPT_REQUESTS:
		return xs_opt_u64(arg, 1, (uint64_t) 1 << 40, &o->requests)
		    ? 0
		    : usage_error(flag, "must be 1..2^40");
	case OPT_RATE:
		return xs_opt_double(arg, 1, 1e8, &o->rate)
		    ? 0
		    : usage_error(flag, "must be 1..1e8 requests/s");
	case OPT_TIMEOUT:
		return xs_opt_uint(arg, 1, 600000, (unsigned *) &o->timeout_ms)
		    ? 0
		    : usage_error(flag, "must be 1..600000 ms");
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_LABEL:
		o->label = arg;
		return 0;
	case OPT_INPROC:
		o->inproc = true;
		return 0;
	case OPT_CPU_TIME:
		o->cpu_time = true;
		return 0;
	case OPT_MEMO_SIZE:
		if (!xs_opt_size_in(arg, XS_ITEM_MEMO_BYTES_MIN,
		        XS_ITEM_MEMO_BYTES_MAX, &o->memo_size)) {
			return usage_error("--memo-size", "is not 1M..1T");
		}
		return 0;
	case OPT_PICKS_UNKEPT:
		o->picks_unkept = true;
		return 0;
	case OPT_WARM:
		if (!xs_opt_uint(arg, 0, 1000000, &o->warm)) {
			return usage_error("--warm", "is not 0..1000000");
		}
		return 0;
	case OPT_SERVER_PID:
		return xs_opt_uint(
		           arg, 1, INT_MAX, (unsigned *) &o->server_pid)
		    ? 0
		    : usage_error(flag, "must be a process id, 1..2^31-1");
	default:
		fputs(usage, stderr);
		return 2;
	}
}

/* --pair-url: two servers asked the same reads, in a closed loop. 0 or a
 * usage exit status. */
static int
check_pair(const struct bench_opts *o)
{
	if (o->inproc) {
		return usage_error("--pair-url", "refused with --inproc");
	}
	/* On a schedule, the second request would leave late. */
	if (o->rate > 0) {
		return usage_error("--pair-url", "refused with --rate");
	}
	/* A write sent twice is applied twice (or refused as a duplicate). */
	if (o->weights[BENCH_EVENT] + o->weights[BENCH_VIEW] != 0) {
		return usage_error("--pair-url", "refused with event or view");
	}
	return 0;
}

/* Flags that only make sense together. 0 or a usage exit status. */
static int
check_opts(const struct bench_opts *o)
{
	if (o->weights[BENCH_PICKS] != 0 && o->db == NULL) {
		return usage_error("--mix", "picks needs --db (its users)");
	}
	/* Over sockets the time is mostly the server's and the network's:
	 * this thread's CPU clock would time next to nothing of it. */
	if (o->cpu_time && !o->inproc) {
		return usage_error("--cpu-time", "needs --inproc");
	}
	if (o->memo_size != 0 && !o->inproc) {
		return usage_error("--memo-size", "needs --inproc");
	}
	if (o->picks_unkept && !o->inproc) {
		return usage_error("--picks-unkept", "needs --inproc");
	}
	if (o->warm != 0 && !o->inproc) {
		return usage_error("--warm", "needs --inproc");
	}
	/* In process there is no server: its CPU is the model's. */
	if (o->server_pid != 0 && o->inproc) {
		return usage_error("--server-pid", "refused with --inproc");
	}
	if (o->pair_url != NULL) {
		int rc = check_pair(o);

		if (rc != 0) {
			return rc;
		}
	}
	if (o->inproc) {
		return o->db == NULL
		    ? usage_error("--inproc", "needs --db DIR")
		    : 0;
	}
	if (o->url == NULL) {
		return usage_error("--url", "required (or --inproc)");
	}
	if ((o->db == NULL) == (o->items_file == NULL)) {
		return usage_error("--db/--items", "give exactly one");
	}
	if (o->weights[BENCH_EVENT] + o->weights[BENCH_VIEW] != 0 &&
	    o->admin_url == NULL) {
		return usage_error("--mix", "event and view need --admin-url");
	}
	return 0;
}

/* The users picks asks for, when the mix has picks, and the store's
 * newest history event: picks' "now", and the time of the orders and
 * views the mix writes (request.c). */
static bool
input_users(const struct bench_opts *o, struct bench_input *in)
{
	bool picks  = o->weights[BENCH_PICKS] != 0;
	bool writes = o->weights[BENCH_EVENT] + o->weights[BENCH_VIEW] != 0;

	if (!picks && !(writes && o->db != NULL)) {
		return true;
	}
	if (!bench_users_from_store(
	        &in->users, o->db, o->user_events, &in->now)) {
		return false;
	}
	if (picks && in->users.n == 0) {
		fprintf(stderr,
		    "xsell-bench: %s: no user has 1..%u history "
		    "events\n",
		    o->db, o->user_events);
		return false;
	}
	return true;
}

static bool
input_load(const struct bench_opts *o, struct bench_input *in)
{
	bool ok;

	memset(in, 0, sizeof(*in));
	ok = o->items_file != NULL
	    ? bench_pool_from_file(&in->items, o->items_file)
	    : bench_pool_from_store(&in->items, o->db, o->uniform);
	return ok && input_users(o, in);
}

static void
input_fini(struct bench_input *in)
{
	bench_pool_fini(&in->items);
	bench_pool_fini(&in->users);
}

/* --server-pid names a process whose CPU /proc shows (or none). */
static bool
server_readable(int pid)
{
	struct bench_cpu c;

	if (pid != 0 && !bench_cpu_read(pid, &c)) {
		fprintf(stderr,
		    "xsell-bench: --server-pid %d: no such process, or its "
		    "/proc files are not readable\n",
		    pid);
		return false;
	}
	return true;
}

int
main(int argc, char **argv)
{
	struct bench_opts    o;
	struct bench_input   in;
	struct bench_result *r, *pair = NULL;
	struct xs_opt_once   once = { .opts = longopts, .shortopts = "h" };
	bool                 ok;
	int                  c, rc;

	opts_default(&o);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *twice = xs_opt_given_twice(&once, c);

		if (twice != NULL) {
			return usage_error(twice, "given twice");
		}
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("xsell-bench %s\n", XSELL_VERSION);
			return 0;
		}
		rc = parse_flag(c, optarg, &o);
		if (rc != 0) {
			return rc;
		}
	}
	if (optind != argc) {
		return usage_error(argv[optind], "unexpected argument");
	}
	rc = check_opts(&o);
	if (rc != 0) {
		return rc;
	}
	if (!server_readable(o.server_pid)) {
		return 1;
	}
	xs_log_set_level(XS_LOG_WARN);
	if (!input_load(&o, &in)) {
		input_fini(&in);
		return 1;
	}
	r = calloc(1, sizeof(*r));
	if (o.pair_url != NULL) {
		pair = calloc(1, sizeof(*pair));
	}
	if (r == NULL || (o.pair_url != NULL && pair == NULL)) {
		fprintf(stderr, "xsell-bench: out of memory\n");
		free(pair);
		free(r);
		input_fini(&in);
		return 1;
	}
	ok = o.inproc ? bench_run_inproc(&o, &in, r)
	              : bench_run_sockets(&o, &in, r, pair);
	if (ok && o.json) {
		bench_report_json(&o, r, pair);
	} else if (ok) {
		bench_report_text(&o, r, pair);
	}
	free(pair);
	free(r);
	input_fini(&in);
	if (bench_sockets_stuck()) {
		/* Not exit: nothing may wait for nng's stuck close. */
		(void) fflush(NULL);
		_Exit(ok ? 0 : 1);
	}
	return ok ? 0 : 1;
}
