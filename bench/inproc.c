/* SPDX-License-Identifier: MIT */
/* The service's own work without the transport: xs_model_fbt,
 * xs_model_complements and xs_model_picks called directly on the store, as the
 * server's handler calls them, one request after another on one thread. The
 * timed span is the model call alone (resolving ids, walking neighbour
 * lists, scoring, ranking, the filter); the read transaction is begun
 * and ended outside it, and decode/encode are not part of it. Set
 * against a round trip over the socket, it says how much of the latency
 * is recommending and how much is transport. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/model.h"

struct inproc {
	const struct bench_opts  *o;
	const struct bench_input *in;
	xs_store                 *st;
	struct xs_settings        set;
	struct xs_arena           arena;
	uint64_t                  rng;
};

/* The query of 'op', as xselld's decoder and handler would make it
 * (default scorer, in-stock filter). 'items' has room for the cart. */
static void
inproc_query(struct inproc *ip, enum bench_op op, struct xs_span *items,
    struct xs_query *q)
{
	const struct bench_input *in = ip->in;
	size_t                    idx[BENCH_CART_MAX];
	unsigned                  n = op == BENCH_FBT_CART ? ip->o->cart : 1;

	memset(q, 0, sizeof(*q));
	q->k               = ip->o->k;
	q->scorer          = ip->set.fbt_scorer;
	q->filter.in_stock = true;
	if (op == BENCH_PICKS) {
		size_t u = bench_pool_draw(&in->users, &ip->rng);

		q->user.p   = in->users.ids[u];
		q->user.len = in->users.lens[u];
		q->kind     = XS_PICK_FOR_YOU;
		q->now      = in->now > 0 ? in->now : xs_now_s();
		return;
	}
	bench_draw_items(&in->items, &ip->rng, idx, n);
	for (unsigned i = 0; i < n; i++) {
		items[i].p   = in->items.ids[idx[i]];
		items[i].len = in->items.lens[idx[i]];
	}
	q->items   = items;
	q->n_items = n;
}

/* The clock calls are timed by: the wall (monotonic) or, with
 * --cpu-time, this thread's CPU time. */
static uint64_t
inproc_clock_ns(const struct inproc *ip)
{
	struct timespec ts;

	if (!ip->o->cpu_time ||
	    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
		return xs_mono_ns();
	}
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Time one query; false if the model failed (counted as an error). */
static bool
inproc_one(struct inproc *ip, enum bench_op op, uint64_t *ns)
{
	struct xs_span   items[BENCH_CART_MAX];
	struct xs_query  q;
	struct xs_answer ans;
	MDB_txn         *txn;
	uint64_t         t0;
	xsell_err        err;

	inproc_query(ip, op, items, &q);
	err = xs_txn_read(ip->st, &txn);
	if (err != XSELL_OK) {
		return false;
	}
	t0 = inproc_clock_ns(ip);
	if (op == BENCH_COMPLEMENTS) {
		err = xs_model_complements(
		    ip->st, txn, &ip->set, &q, &ip->arena, &ans);
	} else if (op == BENCH_PICKS) {
		err = xs_model_picks(
		    ip->st, txn, &ip->set, &q, &ip->arena, &ans);
	} else {
		err =
		    xs_model_fbt(ip->st, txn, &ip->set, &q, &ip->arena, &ans);
	}
	*ns = inproc_clock_ns(ip) - t0;
	xs_txn_abort(txn);
	xs_arena_reset(&ip->arena);
	return err == XSELL_OK;
}

/* What xselld makes before it listens (--warm), not timed. */
static bool
inproc_warm(struct inproc *ip, unsigned n)
{
	long      cores = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t  warmed;
	xsell_err err;

	if (n == 0) {
		return true;
	}
	/* As xselld warms: on every core, before the clock starts. */
	err = xs_model_warm(
	    ip->st, &ip->set, n, (unsigned) (cores > 0 ? cores : 1), &warmed);
	if (err != XSELL_OK) {
		fprintf(
		    stderr, "xsell-bench: --warm: %s\n", xsell_strerror(err));
		return false;
	}
	return true;
}

/* The mix without the ops that need a server (stats, event, view). */
static bool
inproc_mix(const struct bench_opts *o, struct bench_opts *mix)
{
	*mix                      = *o;
	mix->weights[BENCH_STATS] = 0;
	mix->weights[BENCH_EVENT] = 0;
	mix->weights[BENCH_VIEW]  = 0;
	if (mix->weights[BENCH_FBT] + mix->weights[BENCH_FBT_CART] +
	        mix->weights[BENCH_COMPLEMENTS] + mix->weights[BENCH_PICKS] ==
	    0) {
		fprintf(stderr,
		    "xsell-bench: --inproc needs fbt, fbt_cart, "
		    "complements or picks in the mix\n");
		return false;
	}
	return true;
}

bool
bench_run_inproc(const struct bench_opts *o, const struct bench_input *in,
    struct bench_result *r)
{
	struct xs_store_opts so = { .read_only = true };
	struct bench_opts    mix;
	struct inproc        ip = { 0 };
	uint64_t             start, measure, end, last;
	xsell_err            err;

	if (!inproc_mix(o, &mix)) {
		return false;
	}
	so.memo_size = o->memo_size;
	err          = xs_store_open(&ip.st, o->db, &so);
	if (err != XSELL_OK) {
		fprintf(stderr, "xsell-bench: %s: %s\n", o->db,
		    bench_store_why(err));
		return false;
	}
	ip.o   = &mix;
	ip.in  = in;
	ip.rng = o->seed * 1000003u;
	xs_settings_default(&ip.set);
	ip.set.pick_keep_answers = !o->picks_unkept;
	if (!inproc_warm(&ip, o->warm)) {
		xs_store_close(ip.st);
		return false;
	}
	xs_arena_init(&ip.arena, XS_REQUEST_ARENA_MAX);
	memset(r, 0, sizeof(*r));
	r->mode = "inproc";
	start   = xs_mono_ns();
	measure = start + (uint64_t) (o->warmup_s * 1e9);
	end     = o->requests ? UINT64_MAX
	                      : measure + (uint64_t) (o->duration_s * 1e9);
	last    = measure;
	for (uint64_t i = 0; o->requests == 0 || i < o->requests; i++) {
		enum bench_op op  = bench_draw_op(&mix, &ip.rng);
		uint64_t      ns  = 0;
		bool          ok  = inproc_one(&ip, op, &ns);
		uint64_t      now = xs_mono_ns();

		if (now >= end) {
			break;
		}
		if (now < measure) {
			continue;
		}
		last = now;
		r->errors += !ok;
		r->op_errors[op] += !ok;
		bench_hist_add(&r->ops[op], ns);
		bench_hist_add(&r->all, ns);
	}
	r->elapsed_s = (double) (last - measure) / 1e9;
	xs_arena_fini(&ip.arena);
	xs_store_close(ip.st);
	return true;
}
