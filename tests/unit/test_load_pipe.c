/* SPDX-License-Identifier: MIT */
/* The loader reads a regular file on a helper thread, in batches
 * (loader.c, "Reading on a helper thread"), and anything else itself:
 * both ways must give the same loader. A 150,000-line file (the
 * batches, of at most 16,384 lines or 1 MiB of ids, go round their ring
 * of four twice; every tenth item id is 250 bytes long, so some
 * batches end on bytes) is read from disk and from memory (fmemopen,
 * which is no regular file) and compared: counters, the rejections
 * kept, and every order walked, field by field, in walk order. A batch
 * lost, taken twice or taken out of turn changes the counters or the
 * order of first appearance, and so the walk. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

#define N_LINES 150000

/* Line i (file line i + 2): order o(i * 7919 mod 9001), so that an
 * order's lines are scattered over the file; item "i" (i mod 997), or
 * every tenth a 250-byte id; qty "bad" when i mod 5000 = 17 (rejected),
 * -1 when i mod 50 = 3 (a return, skipped), else 1; ts 1300000000 + i;
 * user u(order mod 500), none when the order is a multiple of 13. */
static char *
make_text(size_t *lenp)
{
	size_t cap = (size_t) N_LINES * 320, o = 0;
	char  *t = malloc(cap);
	char   longid[251];

	assert_non_null(t);
	memset(longid, 'L', 250);
	longid[250] = '\0';
	o += (size_t) snprintf(t + o, cap - o, "order,item,qty,ts,user\n");
	for (unsigned i = 0; i < N_LINES; i++) {
		unsigned    order = (unsigned) ((i * 7919ull) % 9001);
		const char *qty   = i % 5000 == 17 ? "bad"
		      : i % 50 == 3                ? "-1"
		                                   : "1";
		char        item[260], user[16] = "";

		if (i % 10 == 0) {
			snprintf(item, sizeof(item), "%.240s%u", longid, i);
		} else {
			snprintf(item, sizeof(item), "i%u", i % 997);
		}
		if (order % 13 != 0) {
			snprintf(user, sizeof(user), "u%u", order % 500);
		}
		o += (size_t) snprintf(t + o, cap - o, "o%u,%s,%s,%u,%s\n",
		    order, item, qty, 1300000000u + i, user);
	}
	*lenp = o;
	return t;
}

/* FNV-1a over everything the walk gives, in order. */
struct walk_sum {
	uint64_t h;
	size_t   orders, lines;
};

static void
mix(struct walk_sum *w, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++) {
		w->h = (w->h ^ b[i]) * 1099511628211ull;
	}
	w->h = (w->h ^ len) * 1099511628211ull;
}

static xsell_err
walk_cb(void *ctx, const struct xs_event *evs, size_t n)
{
	struct walk_sum *w = ctx;

	for (size_t i = 0; i < n; i++) {
		const struct xs_event *e = &evs[i];

		mix(w, e->order.p, e->order.len);
		mix(w, e->user.p, e->user.len);
		mix(w, &e->ts, sizeof(e->ts));
		for (uint32_t k = 0; k < e->n_lines; k++) {
			mix(w, e->lines[k].item.p, e->lines[k].item.len);
			mix(w, &e->lines[k].qty, sizeof(e->lines[k].qty));
		}
		w->orders++;
		w->lines += e->n_lines;
	}
	return XSELL_OK;
}

struct loaded {
	struct xs_load_counts fc;
	struct xs_load_reject rej[XS_LOAD_REJECTS_KEPT];
	size_t                n_rej, n_orders, n_items;
	struct walk_sum       walk;
};

/* Read 'name' (f NULL: from disk, by its path) and record the result. */
static void
load(const char *name, FILE *f, struct loaded *out)
{
	const struct xs_load_reject *rej;
	xs_loader                   *l;
	char                         err[200];

	memset(out, 0, sizeof(*out));
	out->walk.h = 14695981039346656037ull;
	assert_xs_ok(xs_loader_alloc(&l));
	assert_xs_ok(xs_loader_read(
	    l, name, f, XS_LOAD_CSV, NULL, 0, &out->fc, err, sizeof(err)));
	rej = xs_loader_rejects(l, &out->n_rej);
	memcpy(out->rej, rej, out->n_rej * sizeof(*rej));
	out->n_orders = xs_loader_n_orders(l);
	out->n_items  = xs_loader_n_items(l);
	assert_xs_ok(xs_loader_each_order(l, 0, 1000, walk_cb, &out->walk));
	xs_loader_free(l);
}

static void
test_load_pipe_same_as_read_here(void **state)
{
	struct loaded disk, memory;
	char         *dir = xs_test_tmpdir(), path[256], want[320];
	size_t        len;
	char         *text = make_text(&len);
	FILE         *f;

	(void) state;
	snprintf(path, sizeof(path), "%s/lines.csv", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	load(path, NULL, &disk);
	f = fmemopen(text, len, "r");
	assert_non_null(f);
	load(path, f, &memory);
	fclose(f);

	/* By hand: 150,000 records; i = 17, 5017, ..., 145017 rejected
	 * (30), the first ten kept, i = 17 at file line 19 and i = 45017 at
	 * 45019; i mod 50 = 3 skipped (3,000; none of them rejected, as
	 * those are 17 mod 50); 150,000 - 30 - 3,000 = 146,970 kept. */
	assert_int_equal(disk.fc.records, 150000);
	assert_int_equal(disk.fc.rejected, 30);
	assert_int_equal(disk.fc.skipped, 3000);
	assert_int_equal(disk.fc.lines, 146970);
	assert_int_equal(disk.fc.bytes, len);
	assert_int_equal(disk.n_rej, XS_LOAD_REJECTS_KEPT);
	snprintf(want, sizeof(want), "%s:19: bad qty \"bad\"", path);
	assert_string_equal(disk.rej[0].text, want);
	snprintf(want, sizeof(want), "%s:45019: bad qty \"bad\"", path);
	assert_string_equal(disk.rej[9].text, want);

	/* The same loader, whichever way the file was read. */
	assert_memory_equal(&disk.fc, &memory.fc, sizeof(disk.fc));
	assert_int_equal(disk.n_rej, memory.n_rej);
	for (size_t i = 0; i < disk.n_rej; i++) {
		assert_string_equal(disk.rej[i].text, memory.rej[i].text);
	}
	assert_int_equal(disk.n_orders, memory.n_orders);
	assert_int_equal(disk.n_items, memory.n_items);
	assert_int_equal(disk.walk.orders, memory.walk.orders);
	assert_int_equal(disk.walk.lines, memory.walk.lines);
	assert_int_equal(disk.walk.h, memory.walk.h);
	free(text);
	xs_test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_pipe_same_as_read_here),
	};

	return cmocka_run_group_tests_name("load_pipe", tests, NULL, NULL);
}
