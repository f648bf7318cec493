/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the bulk loader's record parsing: the first byte
 * picks the format and the type of the lines (see options_of), the rest
 * is the file, read by xs_loader_read from an in-memory FILE (fmemopen),
 * as xsell-load reads a real one.
 *
 * Besides "never crashes, never reads out of bounds", it checks the
 * events the loader then hands to the store: every order has an id and
 * at least one line, every other event an item, every id is
 * 1..XSELL_ID_MAX bytes, quantities are finite and positive, timestamps
 * in range, and the counters add up (every record is kept,
 * skipped or rejected). driver.c runs the same function over the corpus
 * in the gcc build. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xsell/limits.h>

#include "load/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what)
{
	fprintf(stderr, "fuzz_load: %s\n", what);
	abort();
}

/* The first byte: a letter names the format of an order file; any other
 * byte gives the format (b % 4) and what the lines of a file without a
 * type column are (b / 4 % 5: order, view, cart_add, cart_remove,
 * rating), as --format and --type would. */
static void
options_of(uint8_t b, enum xs_load_format *fmt, struct xs_load_map *m)
{
	memset(m, 0, sizeof(*m));
	switch (b) {
	case 'c':
		*fmt = XS_LOAD_CSV;
		return;
	case 't':
		*fmt = XS_LOAD_TSV;
		return;
	case 'j':
		*fmt = XS_LOAD_JSONL;
		return;
	case 'b':
		*fmt = XS_LOAD_BASKETS;
		return;
	default:
		*fmt    = (enum xs_load_format)(b % XS_LOAD_FORMAT_COUNT);
		m->type = (enum xs_event_type)(
		    b / XS_LOAD_FORMAT_COUNT % XS_EV_TYPE_COUNT);
		return;
	}
}

static void
check_id(struct xs_span s, bool required, const char *what)
{
	if (s.len == 0) {
		if (required) {
			broken(what);
		}
		return;
	}
	if (s.p == NULL || s.len > XSELL_ID_MAX) {
		broken(what);
	}
}

static xsell_err
check_orders(void *ctx, const struct xs_event *evs, size_t n)
{
	size_t *seen = ctx;

	for (size_t i = 0; i < n; i++) {
		const struct xs_event *ev = &evs[i];

		check_id(ev->user, false, "user id");
		if (ev->ts < 0 || ev->ts >= XS_LOAD_TS_LIMIT) {
			broken("ts out of range");
		}
		if (ev->type != XS_EV_ORDER) {
			check_id(ev->item, true, "event item");
			continue;
		}
		check_id(ev->order, true, "order id");
		if (ev->n_lines == 0 || ev->lines == NULL) {
			broken("order without lines");
		}
		for (uint32_t j = 0; j < ev->n_lines; j++) {
			const struct xs_order_line *ln = &ev->lines[j];

			check_id(ln->item, true, "line item");
			if (!isfinite(ln->qty) || ln->qty <= 0) {
				broken("line qty");
			}
		}
	}
	*seen += n;
	return XSELL_OK;
}

static xsell_err
check_updates(void *ctx, const struct xs_item_update *ups, size_t n)
{
	(void) ctx;
	for (size_t i = 0; i < n; i++) {
		check_id(ups[i].item, true, "update item");
		if (ups[i].category.len > XSELL_CATEGORY_MAX) {
			broken("update category");
		}
		if (ups[i].has_price && !isfinite(ups[i].price)) {
			broken("update price");
		}
	}
	return XSELL_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct xs_load_counts *c;
	xs_loader                   *l;
	FILE                        *f;
	char                        *copy;
	char                         err[256];
	size_t                       seen = 0;
	enum xs_load_format          fmt;
	struct xs_load_map           map;
	xsell_err                    e;

	if (size < 2) {
		return 0; /* fmemopen refuses an empty buffer */
	}
	options_of(data[0], &fmt, &map);
	/* An exact-size copy, so ASan sees a read past the file's end. */
	copy = malloc(size - 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data + 1, size - 1);
	f = fmemopen(copy, size - 1, "r");
	if (f == NULL) {
		free(copy);
		return 0;
	}
	if (xs_loader_alloc(&l) != XSELL_OK) {
		fclose(f);
		free(copy);
		return 0;
	}
	err[0] = '\0';
	e      = xs_loader_read(
	         l, "fuzz", f, fmt, NULL, 1700000000, NULL, err, sizeof(err));
	c = xs_loader_counts(l);
	if (e == XSELL_OK) {
		if (c->lines + c->skipped + c->rejected != c->records) {
			broken("records neither kept, skipped nor rejected");
		}
		if (c->bytes > size - 1) {
			broken("consumed more bytes than the file has");
		}
		if (xs_loader_each_order(l, 0, 0, check_orders, &seen) !=
		        XSELL_OK ||
		    xs_loader_each_item_update(l, 0, check_updates, NULL) !=
		        XSELL_OK) {
			broken("walking the orders failed");
		}
		if (seen > xs_loader_n_orders(l)) {
			broken("more orders walked than read");
		}
	} else if (e != XSELL_ENOMEM && err[0] == '\0') {
		broken("refused without a reason");
	}
	xs_loader_free(l);
	fclose(f);
	free(copy);
	return 0;
}
