/* SPDX-License-Identifier: MIT */
/* Group commit (server/group.c) under failures: eight writers send
 * batches at once to an xselld on a map too small for all of them, so
 * writes are grouped (xselld logs "N writes in M commits" at stop: about
 * three a commit here) and some are refused with the map full, inside a
 * group or as one. Whatever the interleaving, every acknowledged batch
 * must be in the store whole and no refused batch may leave a trace: the
 * order count is exactly ORDERS_PER_BATCH per acknowledged batch, each
 * acknowledged batch's items have their order mates as fbt, and each
 * refused batch's items are unknown. Nothing here depends on timing:
 * every outcome of the race must pass. */
#include "support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#define WRITERS 8
#define BATCHES_MAX 400 /* per writer; the map fills long before */
#define ORDERS_PER_BATCH 4
#define ITEMS_PER_ORDER 6
/* A writer stops after this many refusals in a row. */
#define REFUSALS_TO_STOP 3

enum outcome { NOT_SENT, ACKED, REFUSED, OTHER };

struct writer {
	pthread_t    thread;
	const char  *url;
	unsigned     w;
	enum outcome out[BATCHES_MAX];
};

/* The event request of batch b of writer w, as JSON. */
static void
batch_json(unsigned w, unsigned b, char *buf, size_t len)
{
	size_t o = 0;

	o += (size_t) snprintf(buf + o, len - o,
	    "{\"op\":\"event\",\"batch\":\"w%ub%u\",\"events\":[", w, b);
	for (unsigned i = 0; i < ORDERS_PER_BATCH; i++) {
		o += (size_t) snprintf(buf + o, len - o,
		    "%s{\"type\":\"order\",\"order\":\"w%ub%uo%u\","
		    "\"user\":\"w%u\",\"items\":[",
		    i ? "," : "", w, b, i, w);
		for (unsigned j = 0; j < ITEMS_PER_ORDER; j++) {
			o += (size_t) snprintf(buf + o, len - o,
			    "%s\"w%ub%uo%ui%u\"", j ? "," : "", w, b, i, j);
		}
		o += (size_t) snprintf(buf + o, len - o, "]}");
	}
	snprintf(buf + o, len - o, "]}");
}

/* The reply's outcome: ok, unavailable (the map is full) or other. No
 * cmocka assertion here: this runs in the writers' threads. */
static enum outcome
send_batch(nng_socket sock, const void *req, size_t len)
{
	msgpack_unpacked up;
	void            *reply = NULL;
	size_t           reply_len;
	enum outcome     out = OTHER;

	if (nng_send(sock, (void *) req, len, 0) != 0 ||
	    nng_recv(sock, &reply, &reply_len, NNG_FLAG_ALLOC) != 0) {
		return OTHER;
	}
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, reply, reply_len, NULL) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    up.data.type == MSGPACK_OBJECT_MAP) {
		const msgpack_object_map *m = &up.data.via.map;

		for (uint32_t i = 0; i < m->size; i++) {
			const msgpack_object *k = &m->ptr[i].key;
			const msgpack_object *v = &m->ptr[i].val;

			if (k->type == MSGPACK_OBJECT_STR &&
			    k->via.str.size == 2 &&
			    memcmp(k->via.str.ptr, "ok", 2) == 0 &&
			    v->type == MSGPACK_OBJECT_BOOLEAN) {
				out = v->via.boolean ? ACKED : REFUSED;
			}
		}
	}
	msgpack_unpacked_destroy(&up);
	nng_free(reply, reply_len);
	return out;
}

static void *
writer_run(void *arg)
{
	struct writer *wr = arg;
	nng_socket     sock;
	unsigned       refusals = 0;

	if (nng_req0_open(&sock) != 0) {
		return NULL;
	}
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 30000);
	if (nng_dial(sock, wr->url, NULL, 0) != 0) {
		nng_close(sock);
		return NULL;
	}
	for (unsigned b = 0; b < BATCHES_MAX && refusals < REFUSALS_TO_STOP;
	     b++) {
		char   json[4096];
		void  *req;
		size_t len;

		batch_json(wr->w, b, json, sizeof(json));
		req        = xs_test_pack(json, &len);
		wr->out[b] = send_batch(sock, req, len);
		free(req);
		refusals = wr->out[b] == REFUSED ? refusals + 1 : 0;
	}
	nng_close(sock);
	return NULL;
}

/* fbt of item i0 of order 0 of batch (w, b): its ITEMS_PER_ORDER - 1
 * order mates if the batch is there, "unknown" if not. */
static void
check_batch(const char *url, unsigned w, unsigned b, bool there)
{
	char    req[200];
	json_t *r;

	snprintf(req, sizeof(req),
	    "{\"op\":\"fbt\",\"items\":[\"w%ub%uo0i0\"],\"k\":50,"
	    "\"filter\":{\"in_stock\":false}}",
	    w, b);
	r = xs_test_call_ok(url, req);
	if (there) {
		assert_int_equal(json_array_size(json_object_get(r, "items")),
		    ITEMS_PER_ORDER - 1);
		assert_int_equal(
		    json_array_size(json_object_get(r, "unknown")), 0);
	} else {
		assert_int_equal(
		    json_array_size(json_object_get(r, "items")), 0);
		assert_int_equal(
		    json_array_size(json_object_get(r, "unknown")), 1);
	}
	json_decref(r);
}

static void
test_group_members_stand_alone_when_the_map_fills(void **state)
{
	static const char *const small[] = { "--map-size", "2M", "--threads",
		"16", NULL };
	static struct writer     wr[WRITERS];
	struct xs_test_server    s;
	unsigned                 acked = 0, refused = 0;

	(void) state;
	xs_test_server_start(&s, small);
	for (unsigned w = 0; w < WRITERS; w++) {
		memset(&wr[w], 0, sizeof(wr[w]));
		wr[w].url = s.admin_url;
		wr[w].w   = w;
		assert_int_equal(
		    pthread_create(&wr[w].thread, NULL, writer_run, &wr[w]),
		    0);
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		pthread_join(wr[w].thread, NULL);
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		for (unsigned b = 0; b < BATCHES_MAX; b++) {
			assert_int_not_equal(wr[w].out[b], OTHER);
			acked += wr[w].out[b] == ACKED;
			refused += wr[w].out[b] == REFUSED;
		}
	}
	fprintf(stderr, "group commit: %u batches acknowledged, %u refused\n",
	    acked, refused);
	assert_true(acked > 0);
	assert_true(refused > 0); /* the map did fill */
	assert_int_equal(
	    xs_test_stats_orders(s.read_url), acked * ORDERS_PER_BATCH);
	for (unsigned w = 0; w < WRITERS; w++) {
		for (unsigned b = 0; b < BATCHES_MAX; b++) {
			if (wr[w].out[b] != NOT_SENT) {
				check_batch(
				    s.read_url, w, b, wr[w].out[b] == ACKED);
			}
		}
	}
	xs_test_server_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_group_members_stand_alone_when_the_map_fills),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
