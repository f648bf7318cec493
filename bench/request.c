/* SPDX-License-Identifier: MIT */
/* One request of the mix, packed with msgpack-c as any client would. */
#include "bench.h"

#include <stdio.h>
#include <string.h>

const char *const bench_op_names[BENCH_OP_COUNT] = { "fbt", "fbt_cart",
	"complements", "picks", "stats", "event", "view" };

/* Distinct draws give up after this many tries per item (tiny pools). */
#define DRAW_TRIES 16

void
bench_draw_items(
    const struct bench_pool *p, uint64_t *rng, size_t *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool dup = true;

		for (int t = 0; t < DRAW_TRIES && dup; t++) {
			out[i] = bench_pool_draw(p, rng);
			dup    = false;
			for (unsigned j = 0; j < i && !dup; j++) {
				dup = out[j] == out[i];
			}
		}
	}
}

enum bench_op
bench_draw_op(const struct bench_opts *o, uint64_t *rng)
{
	unsigned total = 0, x;

	for (int i = 0; i < BENCH_OP_COUNT; i++) {
		total += o->weights[i];
	}
	x = (unsigned) (bench_rand(rng) % total);
	for (int i = 0; i < BENCH_OP_COUNT; i++) {
		if (x < o->weights[i]) {
			return (enum bench_op) i;
		}
		x -= o->weights[i];
	}
	return BENCH_FBT;
}

static void
pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static void
pack_lit(msgpack_packer *pk, const char *s)
{
	pack_str(pk, s, strlen(s));
}

/* {"op": OP, "items": [n ids], "k": K} */
static void
pack_query(msgpack_packer *pk, const char *op, const struct bench_opts *o,
    const struct bench_pool *p, uint64_t *rng, unsigned n)
{
	size_t idx[BENCH_CART_MAX];

	bench_draw_items(p, rng, idx, n);
	msgpack_pack_map(pk, 3);
	pack_lit(pk, "op");
	pack_lit(pk, op);
	pack_lit(pk, "items");
	msgpack_pack_array(pk, n);
	for (unsigned i = 0; i < n; i++) {
		pack_str(pk, p->ids[idx[i]], p->lens[idx[i]]);
	}
	pack_lit(pk, "k");
	msgpack_pack_unsigned_int(pk, o->k);
}

/* {"op": "picks", "user": ID, "kind": "for_you", "k": K, "now": TS}: a
 * user drawn uniformly from the pool, as of the newest event in the
 * store (the server's clock would age a historical data set's every
 * event by years). */
static void
pack_picks(msgpack_packer *pk, const struct bench_opts *o,
    const struct bench_input *in, uint64_t *rng)
{
	size_t u = bench_pool_draw(&in->users, rng);

	msgpack_pack_map(pk, in->now > 0 ? 5 : 4);
	pack_lit(pk, "op");
	pack_lit(pk, "picks");
	pack_lit(pk, "user");
	pack_str(pk, in->users.ids[u], in->users.lens[u]);
	pack_lit(pk, "kind");
	pack_lit(pk, "for_you");
	pack_lit(pk, "k");
	msgpack_pack_unsigned_int(pk, o->k);
	if (in->now > 0) {
		pack_lit(pk, "now");
		msgpack_pack_int64(pk, in->now);
	}
}

/* {"op": "event", "events": [ and the array's length, n events. */
static void
pack_event_head(msgpack_packer *pk, unsigned n)
{
	msgpack_pack_map(pk, 2);
	pack_lit(pk, "op");
	pack_lit(pk, "event");
	pack_lit(pk, "events");
	msgpack_pack_array(pk, n);
}

/* "ts": in->now, the store's newest history event, where it is known:
 * a store of past orders gets the new ones at its own present, not years
 * later (the newest day is where trending and momentum stand). */
static void
pack_event_ts(msgpack_packer *pk, const struct bench_input *in)
{
	if (in->now > 0) {
		pack_lit(pk, "ts");
		msgpack_pack_int64(pk, in->now);
	}
}

/* {"op": "event", "events": [{"type": "order", "order": ID,
 *  "items": [--cart ids], "ts": TS?}, ...]}: orders of the popular mix,
 * as a shop would send them after checkout. */
static void
pack_event(msgpack_packer *pk, const struct bench_opts *o,
    const struct bench_input *in, uint64_t *rng, uint64_t run_id,
    unsigned client, uint64_t seq)
{
	const struct bench_pool *p = &in->items;
	size_t                   idx[BENCH_CART_MAX];
	char                     order[64];

	pack_event_head(pk, o->event_batch);
	for (unsigned e = 0; e < o->event_batch; e++) {
		int len = snprintf(order, sizeof(order),
		    "bench-%llx-%u-%llu-%u", (unsigned long long) run_id,
		    client, (unsigned long long) seq, e);

		bench_draw_items(p, rng, idx, o->cart);
		msgpack_pack_map(pk, in->now > 0 ? 4 : 3);
		pack_event_ts(pk, in);
		pack_lit(pk, "type");
		pack_lit(pk, "order");
		pack_lit(pk, "order");
		pack_str(pk, order, (size_t) len);
		pack_lit(pk, "items");
		msgpack_pack_array(pk, o->cart);
		for (unsigned i = 0; i < o->cart; i++) {
			pack_str(pk, p->ids[idx[i]], p->lens[idx[i]]);
		}
	}
}

/* {"op": "event", "events": [{"type": "view", "user": U, "item": ID,
 * "ts": TS?}, ...]}: views of the popular mix, by one of 1,000 users of the
 * client (a user's first 10,000 views count: PROTOCOL.md), as a storefront
 * would send them as pages are seen. */
static void
pack_views(msgpack_packer *pk, const struct bench_opts *o,
    const struct bench_input *in, uint64_t *rng, uint64_t run_id,
    unsigned client, uint64_t seq)
{
	const struct bench_pool *p = &in->items;
	char                     user[64];

	pack_event_head(pk, o->event_batch);
	for (unsigned e = 0; e < o->event_batch; e++) {
		size_t idx;
		int    len = snprintf(user, sizeof(user), "bench-%llx-%u-%llu",
		       (unsigned long long) run_id, client,
		       (unsigned long long) ((seq * o->event_batch + e) % 1000));

		bench_draw_items(p, rng, &idx, 1);
		msgpack_pack_map(pk, in->now > 0 ? 4 : 3);
		pack_event_ts(pk, in);
		pack_lit(pk, "type");
		pack_lit(pk, "view");
		pack_lit(pk, "user");
		pack_str(pk, user, (size_t) len);
		pack_lit(pk, "item");
		pack_str(pk, p->ids[idx], p->lens[idx]);
	}
}

void
bench_request_pack(msgpack_sbuffer *sb, enum bench_op op,
    const struct bench_opts *o, const struct bench_input *in, uint64_t *rng,
    uint64_t run_id, unsigned client, uint64_t seq)
{
	const struct bench_pool *p = &in->items;
	msgpack_packer           pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	switch (op) {
	case BENCH_FBT:
		pack_query(&pk, "fbt", o, p, rng, 1);
		break;
	case BENCH_FBT_CART:
		pack_query(&pk, "fbt", o, p, rng, o->cart);
		break;
	case BENCH_COMPLEMENTS:
		pack_query(&pk, "complements", o, p, rng, 1);
		break;
	case BENCH_PICKS:
		pack_picks(&pk, o, in, rng);
		break;
	case BENCH_STATS:
		msgpack_pack_map(&pk, 1);
		pack_lit(&pk, "op");
		pack_lit(&pk, "stats");
		break;
	case BENCH_VIEW:
		pack_views(&pk, o, in, rng, run_id, client, seq);
		break;
	case BENCH_EVENT:
	case BENCH_OP_COUNT:
		pack_event(&pk, o, in, rng, run_id, client, seq);
		break;
	}
}
