/* SPDX-License-Identifier: MIT */
/* Group commit's summing (server/group.c): the writes of a group are
 * applied in one transaction and their count changes written once, after
 * the last of them. That must give the store the same writes give
 * applied one by one, each with its own flush and commit.
 *
 * The test makes one group of seven writes deterministically: it holds
 * the group's lead itself (as a commit under way would) while seven
 * threads queue their writes one after the other, then lets go, so the
 * first to wake leads and takes all seven, in queue order. The writes
 * mix orders, views, cart changes, ratings, two forget_user (whose
 * decrements meet the same group's increments in the accumulator and
 * make it write in parts) and a repeated batch id. A second store gets
 * the same writes as seven groups of one. The two dumps must be equal
 * byte for byte, and the counts are checked against a hand count. */
#include "support.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "server/server_impl.h"

#define N_WRITES 7

/* Orders: o1 u1 {A,B,C}, o2 u2 {A,B}, o3 guest {A,C}, o4 u1 {B,C},
 * then u1 is forgotten (o1, o4 go), o5 u3 {A,B,D}, u2 is forgotten (o2
 * goes). Left: o3 {A,C}, o5 {A,B,D}: basket pairs A-B 1, A-C 1, B-C 0,
 * A-D 1; baskets 2. */
static const char *const writes_json[N_WRITES] = {
	"{\"op\":\"event\",\"events\":["
	"{\"type\":\"view\",\"user\":\"u1\",\"item\":\"A\",\"ts\":1000},"
	"{\"type\":\"view\",\"user\":\"u1\",\"item\":\"B\",\"ts\":1060},"
	"{\"type\":\"cart_add\",\"user\":\"u1\",\"item\":\"C\",\"ts\":1100},"
	"{\"type\":\"order\",\"order\":\"o1\",\"user\":\"u1\",\"ts\":1200,"
	"\"items\":[\"A\",\"B\",\"C\"]}]}",
	"{\"op\":\"event\",\"batch\":\"b2\",\"events\":["
	"{\"type\":\"view\",\"user\":\"u2\",\"item\":\"B\",\"ts\":1300},"
	"{\"type\":\"order\",\"order\":\"o2\",\"user\":\"u2\",\"ts\":1400,"
	"\"items\":[\"A\",\"B\"]},"
	"{\"type\":\"order\",\"order\":\"o3\",\"ts\":1500,"
	"\"items\":[\"A\",\"C\"]},"
	"{\"type\":\"rating\",\"user\":\"u2\",\"item\":\"A\",\"rating\":5,"
	"\"ts\":1600}]}",
	"{\"op\":\"event\",\"events\":["
	"{\"type\":\"view\",\"user\":\"u1\",\"item\":\"C\",\"ts\":1700},"
	"{\"type\":\"order\",\"order\":\"o4\",\"user\":\"u1\",\"ts\":1800,"
	"\"items\":[\"B\",\"C\"]}]}",
	"{\"op\":\"forget_user\",\"user\":\"u1\"}",
	"{\"op\":\"event\",\"events\":["
	"{\"type\":\"view\",\"user\":\"u3\",\"item\":\"D\",\"ts\":1900},"
	"{\"type\":\"order\",\"order\":\"o5\",\"user\":\"u3\",\"ts\":2000,"
	"\"items\":[\"A\",\"B\",\"D\"]}]}",
	"{\"op\":\"forget_user\",\"user\":\"u2\"}",
	/* Seen before: changes nothing. */
	"{\"op\":\"event\",\"batch\":\"b2\",\"events\":["
	"{\"type\":\"view\",\"user\":\"u2\",\"item\":\"B\",\"ts\":1300}]}",
};

struct write {
	void               *msg;
	size_t              len;
	struct xs_arena     arena;
	struct xs_request   req;
	struct xs_write_job job;
	struct xs_worker    w;
	pthread_t           thread;
};

static void
write_init(struct write *wr, struct xs_server *srv, const char *json)
{
	struct xs_errinfo ei = { { 0 }, { 0 } };

	memset(wr, 0, sizeof(*wr));
	wr->msg = xs_test_pack(json, &wr->len);
	xs_arena_init(&wr->arena, (size_t) 1 << 20);
	if (xs_wire_decode(wr->msg, wr->len, &wr->arena, 0, &wr->req, &ei) !=
	    XSELL_OK) {
		fail_msg("%s: %s", ei.field, ei.msg);
	}
	wr->job.req = &wr->req;
	wr->w.srv   = srv;
	assert_xs_ok(xs_acc_alloc(&wr->w.acc));
}

static void
write_fini(struct write *wr)
{
	xs_acc_free(wr->w.acc);
	xs_arena_fini(&wr->arena);
	free(wr->msg);
}

static void
server_init(struct xs_server *srv, xs_store *st)
{
	memset(srv, 0, sizeof(*srv));
	srv->store = st;
	xs_settings_default(&srv->settings);
	xs_write_group_init(&srv->writes);
}

static void *
write_thread(void *arg)
{
	struct write *wr = arg;

	wr->job.err = xs_write_group_run(&wr->w, &wr->job);
	return NULL;
}

static size_t
queued(struct xs_write_group *g)
{
	size_t n = 0;

	pthread_mutex_lock(&g->mtx);
	for (struct xs_write_job *j = g->head; j != NULL; j = j->next) {
		n++;
	}
	pthread_mutex_unlock(&g->mtx);
	return n;
}

/* Wait (at most ~10 s) until 'n' writes are queued. */
static void
wait_queued(struct xs_write_group *g, size_t n)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 10000 && queued(g) < n; i++) {
		nanosleep(&ms, NULL);
	}
	assert_int_equal(queued(g), n);
}

static uint32_t
pair_count(xs_store *st, const char *a, const char *b)
{
	MDB_txn *txn;
	uint32_t ia, ib, count;

	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_id_get(st, txn, XS_DICT_ITEM, a, 1, &ia));
	assert_xs_ok(xs_store_id_get(st, txn, XS_DICT_ITEM, b, 1, &ib));
	assert_xs_ok(
	    xs_store_pair_get(st, txn, XS_REL_BASKET, ia, ib, &count));
	xs_txn_abort(txn);
	return count;
}

static void
test_group_gives_the_store_of_writes_one_by_one(void **state)
{
	struct write     grouped[N_WRITES], alone[N_WRITES];
	struct xs_server srv_g, srv_a;
	char            *dir_g, *dir_a;
	xs_store        *st_g = xs_test_store_open(&dir_g);
	xs_store        *st_a = xs_test_store_open(&dir_a);
	struct xs_totals tot;
	MDB_txn         *txn;

	(void) state;
	server_init(&srv_g, st_g);
	server_init(&srv_a, st_a);

	/* One group of all seven: hold the lead while they queue. */
	pthread_mutex_lock(&srv_g.writes.mtx);
	srv_g.writes.leading = true;
	pthread_mutex_unlock(&srv_g.writes.mtx);
	for (size_t i = 0; i < N_WRITES; i++) {
		write_init(&grouped[i], &srv_g, writes_json[i]);
		assert_int_equal(pthread_create(&grouped[i].thread, NULL,
		                     write_thread, &grouped[i]),
		    0);
		wait_queued(&srv_g.writes, i + 1);
	}
	pthread_mutex_lock(&srv_g.writes.mtx);
	srv_g.writes.leading = false;
	pthread_cond_broadcast(&srv_g.writes.done);
	pthread_mutex_unlock(&srv_g.writes.mtx);
	for (size_t i = 0; i < N_WRITES; i++) {
		assert_int_equal(pthread_join(grouped[i].thread, NULL), 0);
		assert_xs_ok(grouped[i].job.err);
	}
	assert_int_equal(srv_g.writes.groups, 1);
	assert_int_equal(srv_g.writes.writes, N_WRITES);

	/* The same writes, each a group of one. */
	for (size_t i = 0; i < N_WRITES; i++) {
		write_init(&alone[i], &srv_a, writes_json[i]);
		assert_xs_ok(xs_write_group_run(&alone[i].w, &alone[i].job));
	}
	assert_int_equal(srv_a.writes.groups, N_WRITES);

	/* Each write's own result is the same either way. */
	for (size_t i = 0; i < N_WRITES; i++) {
		if (grouped[i].req.op == XS_OP_event) {
			assert_int_equal(grouped[i].job.u.event.applied,
			    alone[i].job.u.event.applied);
			assert_int_equal(grouped[i].job.u.event.duplicates,
			    alone[i].job.u.event.duplicates);
		}
	}
	assert_int_equal(grouped[6].job.u.event.duplicates, 1);

	/* The hand count: o3 {A,C} and o5 {A,B,D} are left. */
	assert_int_equal(pair_count(st_g, "A", "B"), 1);
	assert_int_equal(pair_count(st_g, "B", "A"), 1);
	assert_int_equal(pair_count(st_g, "A", "C"), 1);
	assert_int_equal(pair_count(st_g, "B", "C"), 0);
	assert_int_equal(pair_count(st_g, "A", "D"), 1);
	assert_xs_ok(xs_txn_read(st_g, &txn));
	assert_xs_ok(xs_store_totals_get(st_g, txn, &tot));
	xs_txn_abort(txn);
	assert_int_equal(tot.baskets, 2);
	assert_int_equal(tot.orders, 2);

	xs_test_assert_same_store(st_g, st_a);

	for (size_t i = 0; i < N_WRITES; i++) {
		write_fini(&grouped[i]);
		write_fini(&alone[i]);
	}
	xs_write_group_fini(&srv_g.writes);
	xs_write_group_fini(&srv_a.writes);
	xs_test_store_close(st_g, dir_g);
	xs_test_store_close(st_a, dir_a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_group_gives_the_store_of_writes_one_by_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
