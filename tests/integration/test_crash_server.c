/* SPDX-License-Identifier: MIT */
/* kill -9 of xselld during heavy ingestion, many times.
 *
 * Writer threads, each with its own REQ socket, send "event" batches
 * (orders, views, cart changes, ratings; each with a batch id) as fast
 * as the server answers. The test kills the server with SIGKILL after
 * the Nth acknowledgement of the round (N drawn from a seed that is
 * printed: XSELL_TEST_SEED=<seed> replays the draws), then checks the
 * store it left: it opens; every acknowledged batch is in it; each batch
 * in flight (sent, no reply) is there whole or not at all, order by
 * order; its totals are the hand-counted events of those batches; and
 * its dump is byte for byte that of a clean replay of exactly those
 * batches into a fresh store. Then it restarts xselld and sends the
 * batches in flight again: one that landed is a duplicate (applied 0),
 * one that did not is applied now.
 *
 * The replay order. Commits of different writers race, so their order
 * is not observable. Each writer therefore has users of its own, and a
 * first batch registers every user and item, so that no dense id depends
 * on the race; what two writers share (item and pair counts, day
 * trends, totals) are sums, which commute. Each writer's own batches are
 * replayed in the order it sent them. The test checks this premise at
 * the end: a replay of all batches writer by writer dumps to the same
 * bytes as one in acknowledgement order. */
#include "support.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "store/store.h"

#define WRITERS 4
#define USERS_PER_WRITER 6
#define ITEMS 40
#define ROUNDS 12
/* Bounds of one round: a writer sends at most this many batches, and
 * the kill comes after at most KILL_AFTER_MAX acknowledgements. */
#define BATCHES_PER_ROUND 200
#define KILL_AFTER_MAX 120
#define KILL_DELAY_US_MAX 3000
/* A server that stops answering fails the test instead of hanging it. */
#define WRITER_TIMEOUT_MS 20000
#define EVENTS_PER_BATCH_MAX 16
#define LINES_PER_ORDER_MAX 6
/* Writer w's k-th event of round r has ts T0 + w * TS_SPAN + r *
 * ROUND_TS_SPAN + 10 * k: increasing per user, as a client must send
 * them, and fixed by (seed, round, writer, k) like the rest of a batch,
 * whatever the timing of the rounds before. */
#define T0 1700000000
#define ROUND_TS_SPAN (10 * BATCHES_PER_ROUND * EVENTS_PER_BATCH_MAX)
#define TS_SPAN (10 * ROUND_TS_SPAN * ROUNDS)

enum batch_state { BATCH_SENT, BATCH_ACKED };

struct batch {
	char             id[40];
	unsigned         writer;
	void            *msg; /* the request as sent (malloc'd) */
	size_t           len;
	uint32_t         n_events;
	uint32_t         n_orders; /* orders "<id>.<k>", k < n_orders */
	enum batch_state state;
	bool             landed; /* in the store after the kill */
};

struct writer {
	unsigned     w;
	nng_socket   sock;
	uint64_t     seed; /* of the test */
	uint64_t     rng;  /* drawn from (seed, round, w) for each round */
	uint64_t     n_ts; /* events generated so far this round */
	unsigned     round;
	struct batch batches[BATCHES_PER_ROUND];
	unsigned     n_batches;  /* made this round (the last may be unsent) */
	char         error[200]; /* a refused batch, reported by main */
	pthread_t    thread;
};

/* What the writers share with the main thread. */
struct round_sync {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	unsigned        acks;   /* acknowledgements this round */
	unsigned        n_done; /* writers that stopped by themselves */
	struct batch   *acked[WRITERS * BATCHES_PER_ROUND]; /* in ack order */
	atomic_bool     stop;
};

static struct round_sync sync_;

static unsigned
rng_below(uint64_t *s, unsigned n)
{
	return (unsigned) (xs_test_rng_next(s) % n);
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void
pack_kv(msgpack_packer *pk, const char *k, const char *v)
{
	pack_str(pk, k);
	pack_str(pk, v);
}

/* ==== Batches ==== */

/* One event of writer 'wr' into 'pk'; counts orders in b->n_orders. */
static void
pack_event(struct writer *wr, struct batch *b, msgpack_packer *pk)
{
	static const char *const types[] = { "order", "order", "order", "view",
		"view", "view", "cart_add", "cart_add", "cart_remove",
		"rating" };
	const char              *type    = types[rng_below(&wr->rng, 10)];
	char                     user[16], item[16], order[64];
	int64_t                  ts = T0 + (int64_t) wr->w * TS_SPAN +
	    (int64_t) wr->round * ROUND_TS_SPAN + 10 * (int64_t) wr->n_ts++;
	unsigned n_lines;
	bool     guest;

	snprintf(user, sizeof(user), "w%uu%u", wr->w,
	    rng_below(&wr->rng, USERS_PER_WRITER));
	snprintf(item, sizeof(item), "i%u", rng_below(&wr->rng, ITEMS));
	if (strcmp(type, "order") != 0) {
		msgpack_pack_map(pk, strcmp(type, "rating") == 0 ? 5 : 4);
		pack_kv(pk, "type", type);
		pack_kv(pk, "user", user);
		pack_kv(pk, "item", item);
		pack_str(pk, "ts");
		msgpack_pack_int64(pk, ts);
		if (strcmp(type, "rating") == 0) {
			pack_str(pk, "rating");
			msgpack_pack_int(pk, 1 + (int) rng_below(&wr->rng, 5));
		}
		return;
	}
	snprintf(order, sizeof(order), "%s.%u", b->id, b->n_orders++);
	/* One order in five is a guest checkout (no user). */
	guest = rng_below(&wr->rng, 5) == 0;
	msgpack_pack_map(pk, guest ? 4 : 5);
	pack_kv(pk, "type", "order");
	pack_kv(pk, "order", order);
	if (!guest) {
		pack_kv(pk, "user", user);
	}
	pack_str(pk, "ts");
	msgpack_pack_int64(pk, ts);
	n_lines = 1 + rng_below(&wr->rng, LINES_PER_ORDER_MAX);
	pack_str(pk, "items");
	msgpack_pack_array(pk, n_lines);
	for (unsigned j = 0; j < n_lines; j++) {
		snprintf(
		    item, sizeof(item), "i%u", rng_below(&wr->rng, ITEMS));
		if (rng_below(&wr->rng, 4) != 0) {
			pack_str(pk, item);
			continue;
		}
		/* A line with qty and price; qty 0 is a return. */
		msgpack_pack_map(pk, 3);
		pack_kv(pk, "item", item);
		pack_str(pk, "qty");
		msgpack_pack_int(pk, (int) rng_below(&wr->rng, 3));
		pack_str(pk, "price");
		msgpack_pack_double(pk, 0.5 * rng_below(&wr->rng, 40));
	}
}

/* The next batch of writer 'wr': 1..EVENTS_PER_BATCH_MAX events with
 * batch id "r<round>w<writer>b<k>". */
static struct batch *
batch_make(struct writer *wr)
{
	struct batch   *b = &wr->batches[wr->n_batches++];
	msgpack_sbuffer sb;
	msgpack_packer  pk;

	memset(b, 0, sizeof(*b));
	b->writer = wr->w;
	snprintf(b->id, sizeof(b->id), "r%uw%ub%u", wr->round, wr->w,
	    wr->n_batches - 1);
	b->n_events = 1 + rng_below(&wr->rng, EVENTS_PER_BATCH_MAX);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	pack_kv(&pk, "op", "event");
	pack_kv(&pk, "batch", b->id);
	pack_str(&pk, "events");
	msgpack_pack_array(&pk, b->n_events);
	for (uint32_t i = 0; i < b->n_events; i++) {
		pack_event(wr, b, &pk);
	}
	b->len   = sb.size;
	b->msg   = msgpack_sbuffer_release(&sb);
	b->state = BATCH_SENT;
	return b;
}

/* The "ok", "applied" and "duplicates" of an event reply. False if it
 * is not a msgpack map. */
static bool
reply_parse(
    const void *buf, size_t len, bool *okp, int64_t *appliedp, int64_t *dupsp)
{
	msgpack_unpacked up;
	size_t           off = 0;
	bool             is_map;

	*okp      = false;
	*appliedp = -1;
	*dupsp    = -1;
	msgpack_unpacked_init(&up);
	is_map = msgpack_unpack_next(&up, buf, len, &off) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    up.data.type == MSGPACK_OBJECT_MAP;
	for (uint32_t i = 0; is_map && i < up.data.via.map.size; i++) {
		const msgpack_object_kv *kv = &up.data.via.map.ptr[i];
		const msgpack_object    *k  = &kv->key;

		if (k->type != MSGPACK_OBJECT_STR) {
			continue;
		}
		if (k->via.str.size == 2 &&
		    memcmp(k->via.str.ptr, "ok", 2) == 0 &&
		    kv->val.type == MSGPACK_OBJECT_BOOLEAN) {
			*okp = kv->val.via.boolean;
		} else if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
			continue;
		} else if (k->via.str.size == 7 &&
		    memcmp(k->via.str.ptr, "applied", 7) == 0) {
			*appliedp = (int64_t) kv->val.via.u64;
		} else if (k->via.str.size == 10 &&
		    memcmp(k->via.str.ptr, "duplicates", 10) == 0) {
			*dupsp = (int64_t) kv->val.via.u64;
		}
	}
	msgpack_unpacked_destroy(&up);
	return is_map;
}

/* ==== Writers ==== */

/* Send batches until stopped (the main thread closes the socket after
 * the kill) or BATCHES_PER_ROUND are acknowledged. cmocka is not thread
 * safe: a refused batch is written to wr->error for main to report. */
static void *
writer_run(void *arg)
{
	struct writer *wr = arg;

	while (
	    !atomic_load(&sync_.stop) && wr->n_batches < BATCHES_PER_ROUND) {
		struct batch *b = batch_make(wr);
		void         *reply;
		size_t        len;
		bool          ok, parsed;
		int64_t       applied, dups;
		int           rv;

		rv = nng_send(wr->sock, b->msg, b->len, 0);
		if (rv == 0) {
			rv = nng_recv(wr->sock, &reply, &len, NNG_FLAG_ALLOC);
		}
		if (rv == NNG_ETIMEDOUT) {
			snprintf(wr->error, sizeof(wr->error),
			    "batch %s: no reply within %d ms", b->id,
			    WRITER_TIMEOUT_MS);
			break;
		}
		if (rv != 0) {
			break; /* killed: b stays in flight */
		}
		parsed = reply_parse(reply, len, &ok, &applied, &dups);
		nng_free(reply, len);
		if (!parsed || !ok || applied != b->n_events || dups != 0) {
			snprintf(wr->error, sizeof(wr->error),
			    "batch %s: reply ok=%d applied=%" PRId64
			    " duplicates=%" PRId64 " for %u events",
			    b->id, ok, applied, dups, b->n_events);
			break;
		}
		pthread_mutex_lock(&sync_.mu);
		b->state                  = BATCH_ACKED;
		sync_.acked[sync_.acks++] = b;
		pthread_cond_signal(&sync_.cv);
		pthread_mutex_unlock(&sync_.mu);
	}
	pthread_mutex_lock(&sync_.mu);
	sync_.n_done++;
	pthread_cond_signal(&sync_.cv);
	pthread_mutex_unlock(&sync_.mu);
	return NULL;
}

static void
writers_start(struct writer *ws, unsigned round, const char *url)
{
	sync_.acks   = 0;
	sync_.n_done = 0;
	atomic_store(&sync_.stop, false);
	for (unsigned w = 0; w < WRITERS; w++) {
		ws[w].round     = round;
		ws[w].n_batches = 0;
		ws[w].n_ts      = 0;
		ws[w].rng =
		    (ws[w].seed ^
		        (0x9E3779B97F4A7C15ULL * (round * WRITERS + w + 1))) |
		    1;
		ws[w].error[0] = '\0';
		assert_int_equal(nng_req0_open(&ws[w].sock), 0);
		/* A request is never resent by the socket: after the kill
		 * the test decides what is sent again. */
		nng_socket_set_ms(ws[w].sock, NNG_OPT_REQ_RESENDTIME, -1);
		nng_socket_set_ms(
		    ws[w].sock, NNG_OPT_RECVTIMEO, WRITER_TIMEOUT_MS);
		nng_socket_set_ms(
		    ws[w].sock, NNG_OPT_SENDTIMEO, WRITER_TIMEOUT_MS);
		assert_int_equal(nng_dial(ws[w].sock, url, NULL, 0), 0);
		assert_int_equal(
		    pthread_create(&ws[w].thread, NULL, writer_run, &ws[w]),
		    0);
	}
}

/* Wait for 'n' acknowledgements (or for every writer to stop). */
static void
writers_wait_acks(unsigned n)
{
	pthread_mutex_lock(&sync_.mu);
	while (sync_.acks < n && sync_.n_done < WRITERS) {
		pthread_cond_wait(&sync_.cv, &sync_.mu);
	}
	pthread_mutex_unlock(&sync_.mu);
}

/* After the kill: close the sockets (a writer waiting for its reply gets
 * NNG_ECLOSED) and join. Reports a writer's refused batch. */
static void
writers_stop(struct writer *ws)
{
	atomic_store(&sync_.stop, true);
	for (unsigned w = 0; w < WRITERS; w++) {
		nng_close(ws[w].sock);
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		pthread_join(ws[w].thread, NULL);
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		if (ws[w].error[0] != '\0') {
			fail_msg("writer %u: %s", w, ws[w].error);
		}
	}
}

static void
writers_free_batches(struct writer *ws)
{
	for (unsigned w = 0; w < WRITERS; w++) {
		for (unsigned i = 0; i < ws[w].n_batches; i++) {
			free(ws[w].batches[i].msg);
		}
		ws[w].n_batches = 0;
	}
}

/* ==== The applied batches and what they must have left ==== */

/* Every batch the store holds, in the order the test replays them. */
struct applied_log {
	struct applied {
		int    writer; /* -1: the setup batch */
		void  *msg;    /* a copy of the request (owned) */
		size_t len;
	} * v;
	size_t   n, cap, n_replayed;
	uint64_t events; /* hand count: events of the batches */
	uint64_t orders; /* and orders (each has an id of its own) */
};

static void
log_add(struct applied_log *l, int writer, const void *msg, size_t len,
    uint32_t n_events, uint32_t n_orders)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v   = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n].writer = writer;
	l->v[l->n].msg    = malloc(len);
	assert_non_null(l->v[l->n].msg);
	memcpy(l->v[l->n].msg, msg, len);
	l->v[l->n].len = len;
	l->n++;
	l->events += n_events;
	l->orders += n_orders;
}

static void
log_free(struct applied_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].msg);
	}
	free(l->v);
}

/* Apply the batches logged since the last call to 'replay'. */
static void
log_replay_new(struct applied_log *l, xs_store *replay)
{
	for (; l->n_replayed < l->n; l->n_replayed++) {
		xs_test_apply_event_msg(
		    replay, l->v[l->n_replayed].msg, l->v[l->n_replayed].len);
	}
}

/* Fail at the first line where dumps 'got' and 'want' differ. */
static void
dumps_compare(const struct xs_buf *got, const struct xs_buf *want,
    const char *what, uint64_t seed)
{
	size_t i = 0, line = 0;

	while (
	    i < got->len && i < want->len && got->data[i] == want->data[i]) {
		if (got->data[i] == '\n') {
			line = i + 1;
		}
		i++;
	}
	if (i == got->len && i == want->len) {
		return;
	}
	fail_msg("%s (seed %" PRIu64 "): dumps differ at byte %zu, in the "
	         "line starting \"%.60s\" (%zu vs %zu bytes)",
	    what, seed, i, got->data != NULL ? got->data + line : "", got->len,
	    want->len);
}

/* The setup batch: user "seed" views every item, every writer's user
 * rates item i0, so that all dense ids are given before the race. */
static void
setup_batch_send(const char *url, struct applied_log *l)
{
	msgpack_sbuffer sb;
	msgpack_packer  pk;
	const uint32_t  n = ITEMS + WRITERS * USERS_PER_WRITER;
	void           *reply;
	size_t          len;
	bool            ok;
	int64_t         applied, dups;
	char            id[16];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	pack_kv(&pk, "op", "event");
	pack_kv(&pk, "batch", "setup");
	pack_str(&pk, "events");
	msgpack_pack_array(&pk, n);
	for (unsigned i = 0; i < ITEMS; i++) {
		snprintf(id, sizeof(id), "i%u", i);
		msgpack_pack_map(&pk, 4);
		pack_kv(&pk, "type", "view");
		pack_kv(&pk, "user", "seed");
		pack_kv(&pk, "item", id);
		pack_str(&pk, "ts");
		msgpack_pack_int64(&pk, T0 - 1000 + i);
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		for (unsigned u = 0; u < USERS_PER_WRITER; u++) {
			snprintf(id, sizeof(id), "w%uu%u", w, u);
			msgpack_pack_map(&pk, 5);
			pack_kv(&pk, "type", "rating");
			pack_kv(&pk, "user", id);
			pack_kv(&pk, "item", "i0");
			pack_str(&pk, "rating");
			msgpack_pack_int(&pk, 4);
			pack_str(&pk, "ts");
			msgpack_pack_int64(&pk, T0 - 100);
		}
	}
	reply = xs_test_call_raw(url, sb.data, sb.size, &len);
	assert_non_null(reply);
	assert_true(reply_parse(reply, len, &ok, &applied, &dups));
	assert_true(ok);
	assert_int_equal(applied, n);
	free(reply);
	log_add(l, -1, sb.data, sb.size, n, 0);
	msgpack_sbuffer_destroy(&sb);
}

/* True if batch 'b' is recorded in the store, after checking that its
 * orders are all there or none is. */
static bool
batch_is_whole_or_absent(
    xs_store *st, MDB_txn *txn, const struct batch *b, uint64_t seed)
{
	bool seen, exists;
	char order[64];

	assert_xs_ok(
	    xs_store_batch_seen(st, txn, b->id, strlen(b->id), &seen));
	for (uint32_t k = 0; k < b->n_orders; k++) {
		snprintf(order, sizeof(order), "%s.%u", b->id, k);
		assert_xs_ok(xs_store_order_exists(
		    st, txn, order, strlen(order), &exists));
		if (exists != seen) {
			fail_msg("seed %" PRIu64 ": batch %s is half there: "
			         "batch id %s, order %s %s",
			    seed, b->id, seen ? "recorded" : "absent", order,
			    exists ? "stored" : "absent");
		}
	}
	return seen;
}

/* The store xselld left when killed: it opens, holds every acknowledged
 * batch and each batch in flight whole or not at all. The batches it
 * holds are added to the log (acknowledged ones in ack order, then the
 * landed ones in flight); its totals must be their hand count. */
static void
killed_store_check(const char *db, struct writer *ws, struct applied_log *l,
    unsigned *n_landedp, uint64_t seed)
{
	xs_store        *st;
	MDB_txn         *txn;
	struct xs_totals t;

	assert_xs_ok(xs_store_open(&st, db, NULL));
	assert_xs_ok(xs_txn_read(st, &txn));
	for (unsigned i = 0; i < sync_.acks; i++) {
		struct batch *b = sync_.acked[i];

		if (!batch_is_whole_or_absent(st, txn, b, seed)) {
			fail_msg("seed %" PRIu64 ": acknowledged batch %s "
			         "is not in the store",
			    seed, b->id);
		}
		log_add(l, (int) b->writer, b->msg, b->len, b->n_events,
		    b->n_orders);
	}
	*n_landedp = 0;
	for (unsigned w = 0; w < WRITERS; w++) {
		struct batch *b = ws[w].n_batches
		    ? &ws[w].batches[ws[w].n_batches - 1]
		    : NULL;

		if (b == NULL || b->state != BATCH_SENT) {
			continue;
		}
		b->landed = batch_is_whole_or_absent(st, txn, b, seed);
		if (b->landed) {
			log_add(l, (int) w, b->msg, b->len, b->n_events,
			    b->n_orders);
			(*n_landedp)++;
		}
	}
	assert_xs_ok(xs_store_totals_get(st, txn, &t));
	if (t.events != l->events || t.orders != l->orders) {
		fail_msg("seed %" PRIu64 ": the store counts %" PRIu64
		         " events, %" PRIu64 " orders; its batches hold "
		         "%" PRIu64 ", %" PRIu64,
		    seed, t.events, t.orders, l->events, l->orders);
	}
	xs_txn_abort(txn);
	xs_store_close(st);
}

/* After the restart, send each batch that was in flight again: one that
 * landed is answered as a duplicate, one that did not is applied now
 * (and logged). Returns how many were sent. */
static unsigned
in_flight_resend(
    const char *url, struct writer *ws, struct applied_log *l, uint64_t seed)
{
	unsigned n = 0;

	for (unsigned w = 0; w < WRITERS; w++) {
		struct batch *b = ws[w].n_batches
		    ? &ws[w].batches[ws[w].n_batches - 1]
		    : NULL;
		void         *reply;
		size_t        len;
		bool          ok;
		int64_t       applied, dups;

		if (b == NULL || b->state != BATCH_SENT) {
			continue;
		}
		reply = xs_test_call_raw(url, b->msg, b->len, &len);
		assert_non_null(reply);
		assert_true(reply_parse(reply, len, &ok, &applied, &dups));
		free(reply);
		if (!ok || applied != (b->landed ? 0 : b->n_events) ||
		    dups != (b->landed ? b->n_events : 0)) {
			fail_msg("seed %" PRIu64 ": batch %s (%s) sent again: "
			         "ok=%d applied=%" PRId64
			         " duplicates=%" PRId64,
			    seed, b->id, b->landed ? "landed" : "lost", ok,
			    applied, dups);
		}
		if (!b->landed) {
			log_add(l, (int) w, b->msg, b->len, b->n_events,
			    b->n_orders);
		}
		n++;
	}
	return n;
}

/* The premise of the replay order: the same batches replayed writer by
 * writer (the setup batch first) dump to the same bytes. */
static void
replay_order_check(
    const struct applied_log *l, const struct xs_buf *want, uint64_t seed)
{
	struct xs_buf other;
	char         *dir;
	xs_store     *st = xs_test_store_open(&dir);

	for (int w = -1; w < WRITERS; w++) {
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].writer == w) {
				xs_test_apply_event_msg(
				    st, l->v[i].msg, l->v[i].len);
			}
		}
	}
	xs_buf_init(&other, SIZE_MAX);
	assert_xs_ok(xs_store_dump(st, &other));
	dumps_compare(&other, want, "replay writer by writer", seed);
	xs_buf_fini(&other);
	xs_test_store_close(st, dir);
}

static void
test_crash_server_kill_9_during_ingestion(void **state)
{
	static struct writer  ws[WRITERS];
	struct applied_log    l = { 0 };
	struct xs_test_server s;
	struct xs_buf         got, want;
	char                 *replay_dir;
	xs_store             *replay;
	uint64_t              seed = xs_test_seed(), rng = seed;
	unsigned total_acks = 0, total_flight = 0, total_landed = 0;

	(void) state;
	print_message("seed %" PRIu64 " (XSELL_TEST_SEED=%" PRIu64
	              " draws the same kill points and batches)\n",
	    seed, seed);
	pthread_mutex_init(&sync_.mu, NULL);
	pthread_cond_init(&sync_.cv, NULL);
	memset(ws, 0, sizeof(ws));
	for (unsigned w = 0; w < WRITERS; w++) {
		ws[w].w    = w;
		ws[w].seed = seed;
	}
	replay = xs_test_store_open(&replay_dir);
	xs_test_server_start(&s, NULL);
	setup_batch_send(s.admin_url, &l);
	log_replay_new(&l, replay);

	for (unsigned r = 0; r < ROUNDS; r++) {
		unsigned kill_after = rng_below(&rng, KILL_AFTER_MAX + 1);
		/* A pause after the Nth acknowledgement moves the kill off
		 * the reply and onto the server's next transaction, so that
		 * some kills land between a commit and its reply. */
		unsigned kill_delay_us = rng_below(&rng, KILL_DELAY_US_MAX);
		unsigned n_landed, n_flight;
		int      status;

		writers_start(ws, r, s.admin_url);
		writers_wait_acks(kill_after);
		{
			struct timespec d = { 0, (long) kill_delay_us * 1000 };

			nanosleep(&d, NULL);
		}
		status = xs_test_server_signal(&s, SIGKILL);
		writers_stop(ws);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			fail_msg("round %u: xselld had exited (status %d) "
			         "before the kill",
			    r, status);
		}
		killed_store_check(s.db, ws, &l, &n_landed, seed);
		log_replay_new(&l, replay);
		xs_test_store_dump(s.db, &got);
		xs_buf_init(&want, SIZE_MAX);
		assert_xs_ok(xs_store_dump(replay, &want));
		dumps_compare(
		    &got, &want, "killed store vs clean replay", seed);
		xs_buf_fini(&got);
		xs_buf_fini(&want);

		xs_test_server_restart(&s);
		n_flight = in_flight_resend(s.admin_url, ws, &l, seed);
		log_replay_new(&l, replay);
		print_message("round %2u: kill %4u us after %3u acks: %3u "
		              "acked, %u in flight, %u of them landed\n",
		    r, kill_delay_us, kill_after, sync_.acks, n_flight,
		    n_landed);
		total_acks += sync_.acks;
		total_flight += n_flight;
		total_landed += n_landed;
		writers_free_batches(ws);
	}

	/* Stopped cleanly at the end, the store is the replay's too, and
	 * the replay order does not matter between writers. */
	assert_true(xs_test_server_signal(&s, SIGTERM) >= 0);
	xs_test_store_dump(s.db, &got);
	xs_buf_init(&want, SIZE_MAX);
	assert_xs_ok(xs_store_dump(replay, &want));
	dumps_compare(&got, &want, "final store vs clean replay", seed);
	replay_order_check(&l, &want, seed);
	print_message("%u rounds: %u batches acknowledged, %u in flight "
	              "(%u landed), %" PRIu64 " events, %" PRIu64 " orders\n",
	    ROUNDS, total_acks, total_flight, total_landed, l.events,
	    l.orders);
	xs_buf_fini(&got);
	xs_buf_fini(&want);
	xs_test_store_close(replay, replay_dir);
	xs_test_server_fini(&s);
	log_free(&l);
	pthread_cond_destroy(&sync_.cv);
	pthread_mutex_destroy(&sync_.mu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_server_kill_9_during_ingestion),
	};

	return cmocka_run_group_tests_name("crash_server", tests, NULL, NULL);
}
