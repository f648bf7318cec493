/* SPDX-License-Identifier: MIT */
/* xsell-bench's parts: the options, the pools of real item and user ids
 * requests are drawn from (pool.c), building one request (request.c), the
 * socket load generator (load.c), the in-process measurement (inproc.c) and
 * the report (report.c). */
#ifndef XSELL_BENCH_BENCH_H
#define XSELL_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include <xsell/errors.h>

#include "hist.h"

enum bench_op {
	BENCH_FBT,         /* fbt of one item */
	BENCH_FBT_CART,    /* fbt of --cart items */
	BENCH_COMPLEMENTS, /* complements of one item */
	BENCH_PICKS,       /* picks for_you of one user */
	BENCH_STATS,
	BENCH_EVENT, /* an event batch of orders, to the admin endpoint */
	BENCH_VIEW,  /* an event batch of views, likewise */
	BENCH_OP_COUNT
};

/* Whether op is a write, sent to the admin endpoint. */
static inline bool
bench_op_writes(enum bench_op op)
{
	return op == BENCH_EVENT || op == BENCH_VIEW;
}

extern const char *const bench_op_names[BENCH_OP_COUNT];

#define BENCH_CLIENTS_MAX 256u
#define BENCH_CART_MAX 100u    /* XSELL_QUERY_ITEMS_MAX */
#define BENCH_BATCH_MAX 10000u /* XSELL_EVENTS_MAX */
#define BENCH_POOL_MAX 50000000u
#define BENCH_LINE_MAX 4096u
/* Users picks asks for have at most this many history events by default
 * (issue 5's target: "users up to 200 events"). */
#define BENCH_USER_EVENTS_DEFAULT 200u

struct bench_opts {
	const char *url;       /* read endpoint */
	const char *admin_url; /* for event writes; NULL: none */
	const char *pair_url;  /* each request sent here too; NULL: none */
	const char *db;        /* store to draw items from / to query */
	const char *items_file;
	const char *label;
	unsigned    clients;
	double      duration_s;
	double      warmup_s;
	uint64_t    requests; /* 0: run for duration_s */
	double      rate;     /* requests/s over all clients; 0: closed loop */
	unsigned    weights[BENCH_OP_COUNT];
	unsigned    cart;
	unsigned    k;
	unsigned    event_batch; /* orders per event request */
	unsigned    user_events; /* picks: users with 1..this many events */
	uint64_t    seed;
	int         timeout_ms;
	bool        uniform; /* draw items uniformly, not by popularity */
	bool        json;
	bool        inproc;
	bool        cpu_time;     /* inproc: the thread's CPU clock times */
	size_t      memo_size;    /* inproc: memos' budget; 0: the default */
	bool        picks_unkept; /* inproc: for_you keeps nothing */
	unsigned warm; /* inproc: items xs_model_warm makes first; 0: none */
	int      server_pid; /* sockets: whose CPU to report; 0: none */
};

/* ==== The item pool (pool.c) ==== */

struct bench_pool {
	char    **ids; /* NUL-terminated external ids */
	uint32_t *lens;
	double   *cum; /* cumulative draw weights, cum[n-1] the total */
	size_t    n;
};

/* Why xs_store_open just failed with 'err', for a message: the system's
 * reason (its errno: "No such file or directory") when there was one,
 * else xsell's. Call it before anything else can set errno. */
const char *bench_store_why(xsell_err err);

/* The items of the store in 'dir' (opened read-only, so xselld may be
 * serving it), weighted by how many baskets hold each unless 'uniform'.
 * Prints the reason and returns false on failure. */
bool bench_pool_from_store(
    struct bench_pool *p, const char *dir, bool uniform);
/* One id a line (blank lines skipped), drawn uniformly. */
bool bench_pool_from_file(struct bench_pool *p, const char *path);
void bench_pool_fini(struct bench_pool *p);
/* An index into the pool, drawn with the pool's weights. */
size_t bench_pool_draw(const struct bench_pool *p, uint64_t *rng);

/* The users of the store in 'dir' (opened read-only) whose history holds
 * 1..max_events events, each drawn equally often, and in *newestp the
 * newest event time in any user's history (0 if none). An empty pool is
 * not an error here: the caller says whether it needs users. */
bool bench_users_from_store(struct bench_pool *p, const char *dir,
    unsigned max_events, int64_t *newestp);

/* Everything requests are drawn from. */
struct bench_input {
	struct bench_pool items;
	struct bench_pool users; /* empty unless picks is in the mix */
	int64_t           now;   /* picks' "now": the newest history event */
};

/* splitmix64: a small, good generator; one state per thread. */
uint64_t bench_rand(uint64_t *state);
/* Uniform in [0, 1). */
double bench_rand01(uint64_t *state);

/* ==== Requests (request.c) ==== */

/* Draw 'n' distinct pool indexes into 'out' (n <= BENCH_CART_MAX;
 * duplicates only if the pool is too small to avoid them). */
void bench_draw_items(
    const struct bench_pool *p, uint64_t *rng, size_t *out, unsigned n);
/* Which op comes next, by the mix weights. */
enum bench_op bench_draw_op(const struct bench_opts *o, uint64_t *rng);
/* Pack request 'op' into 'sb' (cleared first). Event orders get ids
 * unique to this run, client and sequence number; picks names a user of
 * in->users and in->now. */
void bench_request_pack(msgpack_sbuffer *sb, enum bench_op op,
    const struct bench_opts *o, const struct bench_input *in, uint64_t *rng,
    uint64_t run_id, unsigned client, uint64_t seq);

/* ==== Results (report.c) ==== */

struct bench_result {
	const char       *mode;      /* "closed", "open", "inproc" */
	double            elapsed_s; /* the measured window */
	struct bench_hist ops[BENCH_OP_COUNT];
	struct bench_hist all;
	uint64_t          errors;   /* replies with ok: false */
	uint64_t          failures; /* no reply (timeout, transport) */
	uint64_t          op_errors[BENCH_OP_COUNT];   /* errors by op */
	uint64_t          op_failures[BENCH_OP_COUNT]; /* failures by op */
	uint64_t          reply_bytes;
	/* Sockets: CPU over the measured window (cpu.c). */
	bool     has_cpu;      /* client_cpu_s is set */
	bool     has_server;   /* server_cpu_s and server_cs are set */
	double   client_cpu_s; /* this process: user + system */
	double   server_cpu_s; /* --server-pid's, all threads */
	uint64_t server_cs;    /* its threads' context switches */
};

/* r is --url's; pair, when not NULL, --pair-url's of the same run. */
void bench_report_text(const struct bench_opts *o,
    const struct bench_result *r, const struct bench_result *pair);
void bench_report_json(const struct bench_opts *o,
    const struct bench_result *r, const struct bench_result *pair);

/* ==== CPU (cpu.c) ==== */

/* CPU used so far: this process's, and the server's if server_pid is
 * not 0 (from /proc; has_server false if it could not be read). */
struct bench_cpu {
	double   client_s, server_s;
	uint64_t server_cs;
	bool     has_server;
};
/* False if server_pid's could not be read (no such process): c then
 * holds this process's alone. */
bool bench_cpu_read(int server_pid, struct bench_cpu *c);
/* What was used between marks a and b, into r's CPU fields. */
void bench_cpu_between(const struct bench_cpu *a, const struct bench_cpu *b,
    struct bench_result *r);

/* ==== Runs ==== */

/* Drive the server at o->url with o->clients REQ sockets; with
 * o->pair_url, send each request to that server too, into 'pair'. */
bool bench_run_sockets(const struct bench_opts *o,
    const struct bench_input *in, struct bench_result *r,
    struct bench_result *pair);
/* Whether a run's sockets were left closing (nng 1.5.2 can hang in
 * nng_close: load.c): the process then ends with _Exit, its report out. */
bool bench_sockets_stuck(void);
/* Call the model directly on the store o->db, one thread. */
bool bench_run_inproc(const struct bench_opts *o, const struct bench_input *in,
    struct bench_result *r);

#endif /* XSELL_BENCH_BENCH_H */
