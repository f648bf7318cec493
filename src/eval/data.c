/* SPDX-License-Identifier: MIT */
/* The export in memory: orders with their items as small numbers, so that
 * splits and queries are array walks. Strings (items, users, order ids)
 * are interned in one table each: a byte pool named by offset and an
 * open-addressing index of numbers. Excluded items (postage, fees) never
 * get here: the loader drops them before any split, as it does for
 * xsell-load, so training and test see the same catalogue and the lines
 * dropped are counted as the export has them (the loader merges an
 * order's lines of one item before it passes the order on). */
#include "eval/eval.h"

#include <stdlib.h>
#include <string.h>

/* ==== Interner ==== */

struct strs {
	uint64_t *off; /* by number: offset into bytes */
	uint32_t *len; /* by number */
	uint32_t  n, cap;
	uint32_t *slots; /* number + 1, 0: empty */
	size_t    mask;
	char     *bytes;
	uint64_t  bytes_len, bytes_cap;
};

static void
strs_fini(struct strs *s)
{
	free(s->off);
	free(s->len);
	free(s->slots);
	free(s->bytes);
	memset(s, 0, sizeof(*s));
}

static struct xs_span
strs_get(const struct strs *s, uint32_t id)
{
	struct xs_span sp = { s->bytes + s->off[id], s->len[id] };

	return sp;
}

static bool
strs_find(const struct strs *s, const char *p, size_t len, uint32_t *idp)
{
	size_t i;

	if (s->slots == NULL) {
		return false;
	}
	i = (size_t) xs_hash64(p, len, 0) & s->mask;
	for (; s->slots[i] != 0; i = (i + 1) & s->mask) {
		uint32_t id = s->slots[i] - 1;

		if (s->len[id] == len &&
		    memcmp(s->bytes + s->off[id], p, len) == 0) {
			*idp = id;
			return true;
		}
	}
	return false;
}

/* Double the index when it is half full. */
static xsell_err
strs_grow_index(struct strs *s)
{
	size_t    n_slots = s->slots ? (s->mask + 1) * 2 : 1024;
	uint32_t *slots   = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t id = 0; id < s->n; id++) {
		size_t i =
		    (size_t) xs_hash64(s->bytes + s->off[id], s->len[id], 0) &
		    (n_slots - 1);

		while (slots[i] != 0) {
			i = (i + 1) & (n_slots - 1);
		}
		slots[i] = id + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->mask  = n_slots - 1;
	return XSELL_OK;
}

static xsell_err
strs_put(struct strs *s, const char *p, size_t len, uint32_t *idp)
{
	size_t    i;
	xsell_err err;

	if (strs_find(s, p, len, idp)) {
		return XSELL_OK;
	}
	if (s->n >= UINT32_MAX - 1) {
		return XSELL_ETOOBIG;
	}
	if (s->slots == NULL || (size_t) s->n * 2 >= s->mask) {
		err = strs_grow_index(s);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (s->n == s->cap) {
		uint32_t  cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *off = realloc(s->off, cap * sizeof(*off));
		uint32_t *ln;

		if (off == NULL) {
			return XSELL_ENOMEM;
		}
		s->off = off;
		ln     = realloc(s->len, cap * sizeof(*ln));
		if (ln == NULL) {
			return XSELL_ENOMEM;
		}
		s->len = ln;
		s->cap = cap;
	}
	if (s->bytes_len + len > s->bytes_cap) {
		uint64_t cap = s->bytes_cap ? s->bytes_cap * 2 : 65536;
		char    *b;

		while (cap < s->bytes_len + len) {
			cap *= 2;
		}
		b = realloc(s->bytes, cap);
		if (b == NULL) {
			return XSELL_ENOMEM;
		}
		s->bytes     = b;
		s->bytes_cap = cap;
	}
	memcpy(s->bytes + s->bytes_len, p, len);
	s->off[s->n] = s->bytes_len;
	s->len[s->n] = (uint32_t) len;
	s->bytes_len += len;
	i = (size_t) xs_hash64(p, len, 0) & s->mask;
	while (s->slots[i] != 0) {
		i = (i + 1) & s->mask;
	}
	s->slots[i] = s->n + 1;
	*idp        = s->n++;
	return XSELL_OK;
}

/* ==== Data ==== */

struct xs_eval_data {
	struct strs           items, users, names;
	struct xs_eval_order *orders;
	size_t                n_orders, cap_orders;
	uint32_t             *item_v; /* every order's items, concatenated */
	uint64_t              n_item_v, cap_item_v;
	struct xs_eval_event *events; /* views, carts, ratings */
	size_t                n_events, cap_events;
	uint64_t              excluded_lines, excluded_orders;
};

xsell_err
xs_eval_data_alloc(xs_eval_data **dp)
{
	xs_eval_data *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		return XSELL_ENOMEM;
	}
	*dp = d;
	return XSELL_OK;
}

void
xs_eval_data_free(xs_eval_data *d)
{
	if (d == NULL) {
		return;
	}
	strs_fini(&d->items);
	strs_fini(&d->users);
	strs_fini(&d->names);
	free(d->orders);
	free(d->events);
	free(d->item_v);
	free(d);
}

void
xs_eval_data_set_excluded(xs_eval_data *d, uint64_t lines, uint64_t orders)
{
	d->excluded_lines  = lines;
	d->excluded_orders = orders;
}

static xsell_err
reserve_items(xs_eval_data *d, uint64_t more)
{
	uint64_t  cap;
	uint32_t *v;

	if (d->n_item_v + more <= d->cap_item_v) {
		return XSELL_OK;
	}
	cap = d->cap_item_v ? d->cap_item_v * 2 : 65536;
	while (cap < d->n_item_v + more) {
		cap *= 2;
	}
	v = realloc(d->item_v, cap * sizeof(*v));
	if (v == NULL) {
		return XSELL_ENOMEM;
	}
	d->item_v     = v;
	d->cap_item_v = cap;
	return XSELL_OK;
}

static xsell_err
add_order(xs_eval_data *d, const struct xs_event *ev)
{
	struct xs_eval_order o = { 0 };
	uint32_t             id;
	xsell_err            err;

	err = reserve_items(d, ev->n_lines);
	if (err != XSELL_OK) {
		return err;
	}
	o.items_off = d->n_item_v;
	for (uint32_t i = 0; i < ev->n_lines; i++) {
		const struct xs_span *it = &ev->lines[i].item;

		err = strs_put(&d->items, it->p, it->len, &id);
		if (err != XSELL_OK) {
			return err;
		}
		/* The loader gives one line per distinct item already. */
		d->item_v[d->n_item_v++] = id;
		o.n_items++;
	}
	if (o.n_items == 0) {
		return XSELL_OK; /* no line, no order (the loader has none) */
	}
	if (ev->user.len != 0) {
		err = strs_put(&d->users, ev->user.p, ev->user.len, &id);
		if (err != XSELL_OK) {
			return err;
		}
		o.user = id + 1;
	}
	err = strs_put(&d->names, ev->order.p, ev->order.len, &o.name);
	if (err != XSELL_OK) {
		return err;
	}
	o.ts = ev->ts;
	if (d->n_orders == d->cap_orders) {
		size_t cap = d->cap_orders ? d->cap_orders * 2 : 4096;
		struct xs_eval_order *v = realloc(d->orders, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		d->orders     = v;
		d->cap_orders = cap;
	}
	if (d->n_orders >= UINT32_MAX) {
		return XSELL_ETOOBIG;
	}
	d->orders[d->n_orders++] = o;
	return XSELL_OK;
}

/* A single event (view, cart event, rating): the loader has checked
 * that it has a user. */
static xsell_err
add_event(xs_eval_data *d, const struct xs_event *ev)
{
	struct xs_eval_event e = { 0 };
	uint32_t             id;
	xsell_err            err;

	err = strs_put(&d->items, ev->item.p, ev->item.len, &e.item);
	if (err == XSELL_OK) {
		err = strs_put(&d->users, ev->user.p, ev->user.len, &id);
	}
	if (err != XSELL_OK) {
		return err;
	}
	e.user   = id + 1;
	e.ts     = ev->ts;
	e.type   = (uint8_t) ev->type;
	e.rating = ev->rating;
	if (d->n_events >= UINT32_MAX) {
		return XSELL_ETOOBIG;
	}
	if (d->n_events == d->cap_events) {
		size_t cap = d->cap_events ? d->cap_events * 2 : 4096;
		struct xs_eval_event *v = realloc(d->events, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		d->events     = v;
		d->cap_events = cap;
	}
	d->events[d->n_events++] = e;
	return XSELL_OK;
}

xsell_err
xs_eval_data_add(void *ctx, const struct xs_event *evs, size_t n)
{
	xs_eval_data *d = ctx;

	for (size_t i = 0; i < n; i++) {
		xsell_err err;

		err = evs[i].type == XS_EV_ORDER ? add_order(d, &evs[i])
		                                 : add_event(d, &evs[i]);
		if (err != XSELL_OK) {
			return err;
		}
	}
	return XSELL_OK;
}

size_t
xs_eval_data_n_orders(const xs_eval_data *d)
{
	return d->n_orders;
}

const struct xs_eval_order *
xs_eval_data_order(const xs_eval_data *d, size_t i)
{
	return &d->orders[i];
}

const uint32_t *
xs_eval_data_order_items(const xs_eval_data *d, const struct xs_eval_order *o)
{
	return d->item_v + o->items_off;
}

size_t
xs_eval_data_n_events(const xs_eval_data *d)
{
	return d->n_events;
}

const struct xs_eval_event *
xs_eval_data_event(const xs_eval_data *d, size_t i)
{
	return &d->events[i];
}

struct xs_span
xs_eval_data_user_name(const xs_eval_data *d, uint32_t user)
{
	struct xs_span none = { NULL, 0 };

	return user == 0 ? none : strs_get(&d->users, user - 1);
}

uint32_t
xs_eval_data_n_items(const xs_eval_data *d)
{
	return d->items.n;
}

struct xs_span
xs_eval_data_item_ext(const xs_eval_data *d, uint32_t item)
{
	return strs_get(&d->items, item);
}

struct xs_span
xs_eval_data_order_ext(const xs_eval_data *d, const struct xs_eval_order *o)
{
	return strs_get(&d->names, o->name);
}

struct xs_span
xs_eval_data_user_ext(const xs_eval_data *d, const struct xs_eval_order *o)
{
	struct xs_span none = { NULL, 0 };

	return o->user == 0 ? none : strs_get(&d->users, o->user - 1);
}

bool
xs_eval_data_item_find(
    const xs_eval_data *d, const char *p, size_t len, uint32_t *idp)
{
	return strs_find(&d->items, p, len, idp);
}

uint64_t
xs_eval_data_excluded_lines(const xs_eval_data *d)
{
	return d->excluded_lines;
}

uint64_t
xs_eval_data_excluded_orders(const xs_eval_data *d)
{
	return d->excluded_orders;
}
