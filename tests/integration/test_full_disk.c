/* SPDX-License-Identifier: MIT */
/* A full disk gives errors, never corruption. Without root there is no
 * small filesystem to mount, so xselld runs with RLIMIT_FSIZE (SIGXFSZ
 * ignored): once data.mdb would grow past the limit, LMDB's page writes
 * fail with EFBIG as they would with ENOSPC on a full filesystem.
 *
 * Checked over the socket: writes are refused with "internal" (a disk
 * error: proto/errors.md), the refused batch leaves nothing, reads go on
 * answering, the server keeps running; then, restarted without the
 * limit, the store opens and holds exactly the acknowledged batches (its
 * dump is a clean replay's) and takes the refused batch. */
#include "support.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "store/store.h"

/* The limit on the server's files: above the lock file (about 40 KiB
 * for 512 reader slots) and the empty store, far below what
 * MAX_BATCHES batches need. (With this build's page layout the first
 * refused commit meets the limit at a page boundary: EFBIG; other limits
 * end in a short write, which LMDB reports as EIO.) */
#define FSIZE_MAX ((uint64_t) 700 << 10)
#define ORDERS_PER_BATCH 20
#define ITEMS_PER_ORDER 10
#define MAX_BATCHES 2000

/* The event request of batch 'b' ("d<b>"): orders o<n>, n = b * 20 + i,
 * each of ITEMS_PER_ORDER items i<n>-<j> that no other order holds. */
static void
batch_json(unsigned b, char *buf, size_t len)
{
	size_t o = 0;

	o += (size_t) snprintf(buf + o, len - o,
	    "{\"op\":\"event\",\"batch\":\"d%u\",\"events\":[", b);
	for (unsigned i = 0; i < ORDERS_PER_BATCH; i++) {
		unsigned n = b * ORDERS_PER_BATCH + i;

		o += (size_t) snprintf(buf + o, len - o,
		    "%s{\"type\":\"order\",\"order\":\"o%u\",\"user\":"
		    "\"u%u\",\"ts\":%u,\"items\":[",
		    i ? "," : "", n, n % 50, 1700000000u + n);
		for (unsigned j = 0; j < ITEMS_PER_ORDER; j++) {
			o += (size_t) snprintf(buf + o, len - o,
			    "%s\"i%u-%u\"", j ? "," : "", n, j);
		}
		o += (size_t) snprintf(buf + o, len - o, "]}");
	}
	snprintf(buf + o, len - o, "]}");
}

static json_int_t
stats_orders(const char *url)
{
	json_t    *r = xs_test_call(url, "{\"op\":\"stats\"}");
	json_int_t n;

	assert_string_equal(xs_test_reply_code(r), "ok");
	n = json_integer_value(
	    json_object_get(json_object_get(r, "counts"), "orders"));
	json_decref(r);
	return n;
}

/* fbt of item i<n>-0 names its ITEMS_PER_ORDER - 1 order mates. */
static size_t
fbt_count(const char *url, unsigned n)
{
	char    req[200];
	json_t *r;
	size_t  count;

	snprintf(req, sizeof(req),
	    "{\"op\":\"fbt\",\"items\":[\"i%u-0\"],\"scorer\":"
	    "\"count\",\"k\":20}",
	    n);
	r = xs_test_call(url, req);
	assert_string_equal(xs_test_reply_code(r), "ok");
	count = json_array_size(json_object_get(r, "items"));
	json_decref(r);
	return count;
}

/* A full filesystem, a full quota and a file size limit are disk
 * errors (XSELL_EIO), whichever LMDB passes on: a short page write
 * becomes EIO in LMDB, a write at the limit is EFBIG itself. */
static void
test_full_disk_errors_are_disk_errors(void **state)
{
	(void) state;
	assert_int_equal(xs_err_from_mdb(ENOSPC), XSELL_EIO);
	assert_int_equal(xs_err_from_mdb(EDQUOT), XSELL_EIO);
	assert_int_equal(xs_err_from_mdb(EFBIG), XSELL_EIO);
	assert_int_equal(xs_err_from_mdb(EIO), XSELL_EIO);
}

static void
test_full_disk_refuses_writes_serves_reads_and_keeps_the_store(void **state)
{
	struct xs_test_server s;
	static char           req[64 * 1024];
	struct xs_buf         got, want;
	char                 *replay_dir;
	xs_store             *replay;
	json_t               *r = NULL;
	unsigned              b, acked_orders;
	const char           *msg;
	int                   status;

	(void) state;
	replay = xs_test_store_open(&replay_dir);
	xs_test_server_start_limited(&s, NULL, FSIZE_MAX);
	for (b = 0; b < MAX_BATCHES; b++) {
		size_t len;
		void  *m;

		batch_json(b, req, sizeof(req));
		r = xs_test_call(s.admin_url, req);
		if (strcmp(xs_test_reply_code(r), "ok") != 0) {
			break;
		}
		json_decref(r);
		r = NULL;
		/* Acknowledged: the clean replay gets it too. */
		m = xs_test_pack(req, &len);
		xs_test_apply_event_msg(replay, m, len);
		free(m);
	}
	assert_true(b < MAX_BATCHES); /* the limit was reached */
	assert_true(b > 0);           /* after some batches went in */
	acked_orders = b * ORDERS_PER_BATCH;
	/* A disk error: "internal", and nothing of the batch applied. */
	assert_string_equal(xs_test_reply_code(r), "internal");
	msg = json_string_value(
	    json_object_get(json_object_get(r, "error"), "message"));
	assert_non_null(msg);
	assert_string_equal(msg, xsell_strerror(XSELL_EIO));
	print_message("files limited to %llu KiB: %u orders acknowledged, "
	              "then \"%s\"\n",
	    (unsigned long long) (FSIZE_MAX >> 10), acked_orders, msg);
	json_decref(r);

	/* The server still runs, reads see every acknowledged order whole
	 * and nothing of the refused batch. */
	assert_int_equal(waitpid(s.pid, &status, WNOHANG), 0);
	assert_int_equal(stats_orders(s.read_url), acked_orders);
	assert_int_equal(fbt_count(s.read_url, 0), ITEMS_PER_ORDER - 1);
	assert_int_equal(
	    fbt_count(s.read_url, acked_orders - 1), ITEMS_PER_ORDER - 1);
	assert_int_equal(fbt_count(s.read_url, acked_orders), 0);
	/* Again and again refused, never half applied. */
	for (int i = 0; i < 3; i++) {
		r = xs_test_call(s.admin_url, req);
		assert_string_equal(xs_test_reply_code(r), "internal");
		json_decref(r);
	}
	assert_int_equal(stats_orders(s.read_url), acked_orders);

	/* Killed while full, restarted without the limit: the store opens
	 * and is exactly the acknowledged batches. */
	status = xs_test_server_signal(&s, SIGKILL);
	assert_true(WIFSIGNALED(status));
	xs_test_store_dump(s.db, &got);
	xs_buf_init(&want, SIZE_MAX);
	assert_xs_ok(xs_store_dump(replay, &want));
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	xs_buf_fini(&got);
	xs_buf_fini(&want);
	s.fsize_max = 0;
	xs_test_server_restart(&s);
	assert_int_equal(stats_orders(s.read_url), acked_orders);
	r = xs_test_call(s.admin_url, req);
	assert_string_equal(xs_test_reply_code(r), "ok");
	json_decref(r);
	assert_int_equal(
	    stats_orders(s.read_url), acked_orders + ORDERS_PER_BATCH);
	assert_int_equal(
	    fbt_count(s.read_url, acked_orders), ITEMS_PER_ORDER - 1);
	xs_test_server_fini(&s);
	xs_test_store_close(replay, replay_dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_disk_errors_are_disk_errors),
		cmocka_unit_test(
		    test_full_disk_refuses_writes_serves_reads_and_keeps_the_store),
	};

	return cmocka_run_group_tests_name("full_disk", tests, NULL, NULL);
}
