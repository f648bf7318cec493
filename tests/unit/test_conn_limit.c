/* SPDX-License-Identifier: MIT */
/* The connection limit (server/limit.c), a connection's life played by
 * pipe id and clock, without sockets or waits: served up to the limit,
 * then waiting (each request refused) up to 64, then closed before it
 * starts; a waiting one served once there is room; a connection that
 * leaves a reply unread muted for 5 s, then tried once, muted twice as
 * long while its tries stall (up to 320 s), and served again once one
 * leaves. test_server_overload plays the same over real sockets where
 * seconds allow. */
#include "support.h"

#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "server/server_impl.h"

#define S_NS 1000000000ull
#define T0 (1000 * S_NS) /* any clock reading */

struct fixture {
	nng_socket           sock;
	struct xs_conn_limit l;
};

/* A limit of 2 served on a socket that never listens. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(nng_rep0_open(&f->sock), 0);
	assert_xs_ok(xs_conn_limit_init(&f->l, f->sock, 2, "read"));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nng_close(f->sock);
	xs_conn_limit_fini(&f->l);
	free(f);
	return 0;
}

/* "open waiting refused muted dropped" of stats. */
static void
counts(struct fixture *f, char *out, size_t len)
{
	struct xs_conn_stats c;

	xs_conn_limit_read(&f->l, &c);
	snprintf(out, len, "%llu %llu %llu %llu %llu",
	    (unsigned long long) c.open, (unsigned long long) c.waiting,
	    (unsigned long long) c.refused, (unsigned long long) c.muted,
	    (unsigned long long) c.dropped);
}

/* "serve", "refuse" or "drop", with " trial" for a muted one's try. */
static const char *
verdict(struct fixture *f, uint32_t pipe, uint64_t now)
{
	bool trial = true;

	switch (xs_conn_limit_check(&f->l, pipe, now, &trial)) {
	case XS_PIPE_SERVE:
		return trial ? "serve trial" : "serve";
	case XS_PIPE_REFUSE:
		return trial ? "refuse trial" : "refuse";
	case XS_PIPE_DROP:
		return trial ? "drop trial" : "drop";
	}
	return "?";
}

static void
test_limit_serves_then_waits_then_closes(void **state)
{
	struct fixture *f = *state;
	char            got[128];

	assert_true(xs_conn_limit_admit(&f->l, 1, T0));
	assert_true(xs_conn_limit_admit(&f->l, 2, T0));
	for (uint32_t p = 3; p < 3 + 64; p++) {
		assert_true(xs_conn_limit_admit(&f->l, p, T0));
	}
	/* The 65th past the limit is closed before it starts. */
	assert_false(xs_conn_limit_admit(&f->l, 67, T0));
	counts(f, got, sizeof(got));
	assert_string_equal(got, "2 64 65 0 0");
	assert_string_equal(verdict(f, 1, T0), "serve");
	assert_string_equal(verdict(f, 3, T0), "refuse");
	assert_string_equal(verdict(f, 66, T0), "refuse");
	/* nng reports the closed one going too: nothing changes. */
	xs_conn_limit_leave(&f->l, 67);
	counts(f, got, sizeof(got));
	assert_string_equal(got, "2 64 65 0 0");

	/* A served one goes: the next waiting one to ask is served. */
	xs_conn_limit_leave(&f->l, 1);
	assert_string_equal(verdict(f, 66, T0), "serve");
	assert_string_equal(verdict(f, 3, T0), "refuse");
	counts(f, got, sizeof(got));
	assert_string_equal(got, "2 63 65 0 0");
	/* And there is a place to wait again. */
	assert_true(xs_conn_limit_admit(&f->l, 68, T0));
	assert_false(xs_conn_limit_admit(&f->l, 69, T0));
	counts(f, got, sizeof(got));
	assert_string_equal(got, "2 64 67 0 0");
}

static void
test_mute_doubles_until_a_try_leaves(void **state)
{
	struct fixture *f   = *state;
	uint64_t        now = T0;
	char            got[128];

	assert_true(xs_conn_limit_admit(&f->l, 7, now));
	assert_true(xs_conn_limit_mute(&f->l, 7, now));
	/* A second worker's timeout on the same stall changes nothing. */
	assert_false(xs_conn_limit_mute(&f->l, 7, now + S_NS));
	assert_string_equal(verdict(f, 7, now + 5 * S_NS - 1), "drop");
	assert_string_equal(verdict(f, 7, now + 5 * S_NS), "serve trial");
	/* One try at a time. */
	assert_string_equal(verdict(f, 7, now + 6 * S_NS), "drop");

	/* Each try that stalls mutes it twice as long, up to 320 s. */
	for (uint64_t period = 10; period <= 640; period *= 2) {
		uint64_t mute = period < 320 ? period : 320;

		now += 7 * S_NS;
		assert_false(xs_conn_limit_mute(&f->l, 7, now));
		assert_string_equal(
		    verdict(f, 7, now + mute * S_NS - 1), "drop");
		assert_string_equal(
		    verdict(f, 7, now + mute * S_NS), "serve trial");
		now += mute * S_NS;
	}
	/* The try's reply left: served as before. */
	xs_conn_limit_unmute(&f->l, 7);
	assert_string_equal(verdict(f, 7, now), "serve");
	assert_string_equal(verdict(f, 7, now), "serve");
	counts(f, got, sizeof(got));
	assert_string_equal(got, "1 0 0 1 9");
}

/* A waiting connection that stalls is tried like any other, but its try
 * is refused while there is no room: muting must not let it past the
 * limit. */
static void
test_waiting_try_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_true(xs_conn_limit_admit(&f->l, 1, T0));
	assert_true(xs_conn_limit_admit(&f->l, 2, T0));
	assert_true(xs_conn_limit_admit(&f->l, 3, T0));
	assert_string_equal(verdict(f, 3, T0), "refuse");
	assert_true(xs_conn_limit_mute(&f->l, 3, T0));
	assert_string_equal(verdict(f, 3, T0 + S_NS), "drop");
	assert_string_equal(verdict(f, 3, T0 + 5 * S_NS), "refuse trial");
	xs_conn_limit_unmute(&f->l, 3);
	assert_string_equal(verdict(f, 3, T0 + 5 * S_NS), "refuse");
	xs_conn_limit_leave(&f->l, 2);
	assert_string_equal(verdict(f, 3, T0 + 5 * S_NS), "serve");
}

/* A new connection that lands in a former one's slot (nng reuses no
 * id, but slots are reused) starts unmuted, and its first mute is a
 * first one: 5 s, counted. */
static void
test_new_connection_starts_clean(void **state)
{
	struct fixture *f = *state;
	char            got[128];

	assert_true(xs_conn_limit_admit(&f->l, 9, T0));
	assert_true(xs_conn_limit_mute(&f->l, 9, T0));
	assert_string_equal(verdict(f, 9, T0 + 5 * S_NS), "serve trial");
	assert_false(xs_conn_limit_mute(&f->l, 9, T0 + 7 * S_NS));
	xs_conn_limit_leave(&f->l, 9);

	assert_true(xs_conn_limit_admit(&f->l, 9, T0 + 8 * S_NS));
	assert_string_equal(verdict(f, 9, T0 + 8 * S_NS), "serve");
	assert_true(xs_conn_limit_mute(&f->l, 9, T0 + 8 * S_NS));
	assert_string_equal(verdict(f, 9, T0 + 13 * S_NS), "serve trial");
	counts(f, got, sizeof(got));
	assert_string_equal(got, "1 0 0 2 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_limit_serves_then_waits_then_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_mute_doubles_until_a_try_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_waiting_try_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_new_connection_starts_clean, setup, teardown),
	};

	return cmocka_run_group_tests_name("conn_limit", tests, NULL, NULL);
}
