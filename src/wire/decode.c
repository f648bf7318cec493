/* SPDX-License-Identifier: MIT */
/* Request decoding: one msgpack map -> struct xs_request, over the
 * bounded reader of mpread.c.
 *
 * Two passes. The first walks the whole message once: it proves the
 * structure sound (every size within the bytes that remain, nesting at
 * most XSELL_DEPTH_MAX, nothing after the map) and finds "id" and "op",
 * so that even a refused request gets its id echoed. The second decodes
 * the fields of that op, checking each count against limits.h before
 * anything is taken from the arena. Strings stay spans into the message. */
#include "wire/wire_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TS_LIMIT ((int64_t) 1 << 40) /* timestamps are 0 <= ts < 2^40 */

struct dec {
	struct xs_mp_reader r;
	struct xs_arena    *arena;
	int64_t             now;
	struct xs_errinfo  *ei;   /* may be NULL */
	uint64_t            refs; /* item references in an event batch */
};

/* ==== Errors ==== */

static void fail_note(struct dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill *ei (field already escaped by the caller). */
static void
fail_note(struct dec *d, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (d->ei == NULL) {
		return;
	}
	snprintf(d->ei->field, sizeof(d->ei->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(d->ei->msg, sizeof(d->ei->msg), fmt, ap);
	va_end(ap);
}

/* Fill *ei and return 'err'. A macro, not a variadic function, so that
 * clang's analyzer (which does not follow variadic calls) sees that a
 * failure returns 'err' and no out-parameter is read after it. */
#define fail(d, err, field, ...) (fail_note((d), (field), __VA_ARGS__), (err))

static xsell_err
fail_malformed(struct dec *d)
{
	return fail(d, XSELL_EINVAL, "request", "malformed msgpack");
}

/* A reader error: EINVAL is malformed input, ETOOBIG nesting. */
static xsell_err
fail_reader(struct dec *d, xsell_err err)
{
	if (err == XSELL_ETOOBIG) {
		return fail(d, err, "request", "nested deeper than %d levels",
		    XSELL_DEPTH_MAX);
	}
	return fail_malformed(d);
}

static void path_fmt(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Build a field path ("events[3].item"); truncates quietly. */
static void
path_fmt(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

/* Refuse the string 's' at 'path', not a known 'what'; 'hint' (may be
 * "") follows the quoted value. */
static xsell_err
fail_unknown(struct dec *d, const char *path, const char *what,
    const struct xs_span *s, const char *hint)
{
	char esc[48];

	xs_escape(esc, sizeof(esc), s->p, s->len);
	return fail(
	    d, XSELL_EINVAL, path, "unknown %s '%s'%s", what, esc, hint);
}

/* ==== Scalars ==== */

static xsell_err
next(struct dec *d, struct xs_mp_val *v)
{
	xsell_err err = xs_mp_next(&d->r, v);

	return err == XSELL_OK ? err : fail_malformed(d);
}

static xsell_err
skip(struct dec *d, unsigned depth)
{
	xsell_err err = xs_mp_skip(&d->r, depth);

	return err == XSELL_OK ? err : fail_reader(d, err);
}

/* The next value, refused at 'path' with 'msg' unless of type 'type'. */
static xsell_err
next_of(struct dec *d, enum xs_mp_type type, const char *path, const char *msg,
    struct xs_mp_val *v)
{
	xsell_err err = next(d, v);

	if (err != XSELL_OK) {
		return err;
	}
	if (v->type != type) {
		return fail(d, XSELL_EINVAL, path, "%s", msg);
	}
	return XSELL_OK;
}

/* The type of the next value, without reading it. */
static xsell_err
peek(struct dec *d, struct xs_mp_val *v)
{
	struct xs_mp_reader r = d->r;
	xsell_err           err;

	err = xs_mp_next(&r, v);
	return err == XSELL_OK ? err : fail_malformed(d);
}

static xsell_err
get_str(struct dec *d, const char *path, struct xs_span *out)
{
	struct xs_mp_val v;
	xsell_err        err;

	err = next_of(d, XS_MP_STR, path, "must be a string", &v);
	if (err != XSELL_OK) {
		return err;
	}
	out->p   = v.v.s.p;
	out->len = v.v.s.len;
	return XSELL_OK;
}

static xsell_err
get_bool(struct dec *d, const char *path, bool *out)
{
	struct xs_mp_val v;
	xsell_err        err;

	err = next_of(d, XS_MP_BOOL, path, "must be a boolean", &v);
	if (err != XSELL_OK) {
		return err;
	}
	*out = v.v.b;
	return XSELL_OK;
}

/* An integer in lo..hi, either msgpack int family. */
static xsell_err
get_int(struct dec *d, const char *path, int64_t lo, int64_t hi, int64_t *out)
{
	struct xs_mp_val v;
	xsell_err        err;

	err = next(d, &v);
	if (err != XSELL_OK) {
		return err;
	}
	if (v.type == XS_MP_UINT) {
		if (v.v.u <= (uint64_t) hi && (int64_t) v.v.u >= lo) {
			*out = (int64_t) v.v.u;
			return XSELL_OK;
		}
	} else if (v.type == XS_MP_INT) {
		if (v.v.i >= lo && v.v.i <= hi) {
			*out = v.v.i;
			return XSELL_OK;
		}
	} else {
		return fail(d, XSELL_EINVAL, path, "must be an integer");
	}
	return fail(d, XSELL_EINVAL, path, "must be %lld..%lld",
	    (long long) lo, (long long) hi);
}

/* A finite number; integers are widened. */
static xsell_err
get_number(struct dec *d, const char *path, double *out)
{
	struct xs_mp_val v;
	xsell_err        err;
	double           x;

	err = next(d, &v);
	if (err != XSELL_OK) {
		return err;
	}
	if (v.type == XS_MP_UINT) {
		x = (double) v.v.u;
	} else if (v.type == XS_MP_INT) {
		x = (double) v.v.i;
	} else if (v.type == XS_MP_FLOAT) {
		x = v.v.f;
	} else {
		return fail(d, XSELL_EINVAL, path, "must be a number");
	}
	if (!isfinite(x)) {
		return fail(d, XSELL_EINVAL, path, "must be finite");
	}
	*out = x;
	return XSELL_OK;
}

static xsell_err
get_price(struct dec *d, const char *path, double *out)
{
	xsell_err err = get_number(d, path, out);

	if (err == XSELL_OK && *out < 0) {
		return fail(d, XSELL_EINVAL, path, "must be >= 0");
	}
	return err;
}

static xsell_err
get_ts(struct dec *d, const char *path, int64_t *out)
{
	return get_int(d, path, 0, TS_LIMIT - 1, out);
}

/* An external id: a str of 1..XSELL_ID_MAX bytes of UTF-8 without NUL,
 * or a non-negative integer standing for its decimal digits (formatted
 * into the arena). */
static xsell_err
get_id(struct dec *d, const char *path, struct xs_span *out)
{
	struct xs_mp_val v;
	xsell_err        err;
	char            *digits;
	int              n;

	err = next(d, &v);
	if (err != XSELL_OK) {
		return err;
	}
	if (v.type == XS_MP_UINT) {
		digits = xs_arena_alloc(d->arena, 24);
		if (digits == NULL) {
			return XSELL_ENOMEM;
		}
		n = snprintf(digits, 24, "%llu", (unsigned long long) v.v.u);
		out->p   = digits;
		out->len = (uint32_t) n;
		return XSELL_OK;
	}
	if (v.type != XS_MP_STR) {
		return fail(d, XSELL_EINVAL, path,
		    "must be a string or unsigned integer");
	}
	if (v.v.s.len == 0) {
		return fail(d, XSELL_EINVAL, path, "empty");
	}
	if (v.v.s.len > XSELL_ID_MAX) {
		return fail(d, XSELL_ETOOBIG, path, "longer than %d bytes",
		    XSELL_ID_MAX);
	}
	if (!xs_utf8_is_valid(v.v.s.p, v.v.s.len)) {
		return fail(d, XSELL_EINVAL, path, "invalid UTF-8");
	}
	if (!xs_id_is_valid(v.v.s.p, v.v.s.len)) {
		return fail(d, XSELL_EINVAL, path, "contains a NUL byte");
	}
	out->p   = v.v.s.p;
	out->len = v.v.s.len;
	return XSELL_OK;
}

static xsell_err
get_container(
    struct dec *d, const char *path, enum xs_mp_type type, uint32_t *n)
{
	struct xs_mp_val v;
	xsell_err        err;

	err = next_of(d, type, path,
	    type == XS_MP_MAP ? "must be a map" : "must be an array", &v);
	if (err != XSELL_OK) {
		return err;
	}
	*n = v.v.n;
	return XSELL_OK;
}

/* An array of 'min' (0 or 1) to 'max' elements at 'path'; 'what' names
 * the elements in the refusal of too many. *n is the count. */
static xsell_err
get_array(struct dec *d, const char *path, uint32_t min, uint32_t max,
    const char *what, uint32_t *n)
{
	xsell_err err = get_container(d, path, XS_MP_ARRAY, n);

	if (err != XSELL_OK) {
		return err;
	}
	if (*n < min) {
		return fail(d, XSELL_EINVAL, path, "must not be empty");
	}
	if (*n > max) {
		return fail(d, XSELL_ETOOBIG, path, "more than %u %s",
		    (unsigned) max, what);
	}
	return XSELL_OK;
}

/* Reads element 'i' of the array at 'name' into 'elem'. */
typedef xsell_err (*elem_fn)(
    struct dec *d, const char *name, uint32_t i, void *elem);

/* An array of 'min'..'max' elements at 'name' (get_array), each read by
 * 'elem' into its 'size' bytes of an array from the arena (*out). */
static xsell_err
decode_array(struct dec *d, const char *name, uint32_t min, uint32_t max,
    const char *what, size_t size, elem_fn elem, void **out, uint32_t *count)
{
	uint8_t  *arr;
	uint32_t  n;
	xsell_err err;

	err = get_array(d, name, min, max, what, &n);
	if (err != XSELL_OK) {
		return err;
	}
	arr = xs_arena_calloc(d->arena, n, size);
	if (arr == NULL && n > 0) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		err = elem(d, name, i, arr + (size_t) i * size);
		if (err != XSELL_OK) {
			return err;
		}
	}
	*out   = arr;
	*count = n;
	return XSELL_OK;
}

/* ==== Keys ==== */

/* Name map key 'key' under 'prefix' in a refusal with 'msg'. The field
 * is named only here, when a key is refused: formatting it for every
 * key read was a third of decoding a request. (It returns nothing, so
 * that the caller's "return XSELL_EINVAL" shows clang's analyzer that
 * no out-parameter is read after a refusal.) */
static void
key_note(struct dec *d, const char *prefix, const struct xs_span *key,
    const char *msg)
{
	char        esc[48];
	char        field[sizeof(((struct xs_errinfo *) 0)->field)];
	const char *sep = prefix[0] != '\0' ? "." : "";

	xs_escape(esc, sizeof(esc), key->p, key->len);
	if (esc[0] == '\0') {
		/* An empty key still needs a name in the refusal. */
		snprintf(esc, sizeof(esc), "\"\"");
	}
	path_fmt(field, sizeof(field), "%s%s%s", prefix, sep, esc);
	fail_note(d, field, "%s", msg);
}

/* Read the next map key and find it in keys[0..n) among those 'allowed'
 * (a bit mask). Refuses non-string, unknown and repeated keys, naming
 * them under 'prefix' ("" at the top). On success *ix is the index. */
static xsell_err
get_key(struct dec *d, const char *prefix, const char *const *keys, unsigned n,
    uint32_t allowed, uint32_t *seen, unsigned *ix)
{
	struct xs_mp_val v;
	struct xs_span   key;
	xsell_err        err;

	err = next_of(d, XS_MP_STR, prefix[0] ? prefix : "request",
	    "keys must be strings", &v);
	if (err != XSELL_OK) {
		return err;
	}
	key.p   = v.v.s.p;
	key.len = v.v.s.len;
	for (unsigned i = 0; i < n; i++) {
		if (strlen(keys[i]) != v.v.s.len ||
		    memcmp(keys[i], v.v.s.p, v.v.s.len) != 0) {
			continue;
		}
		if ((allowed & (1u << i)) == 0) {
			break;
		}
		if ((*seen & (1u << i)) != 0) {
			key_note(d, prefix, &key, "duplicate key");
			return XSELL_EINVAL;
		}
		*seen |= 1u << i;
		*ix = i;
		return XSELL_OK;
	}
	key_note(d, prefix, &key, "unknown field");
	return XSELL_EINVAL;
}

#define BIT(k) (1u << (k))

/* Decodes the value of keys[ix] (one of decode_fields') at 'path' into
 * 'obj'. */
typedef xsell_err (*field_fn)(
    struct dec *d, unsigned ix, const char *path, void *obj);

/* The 'n' pairs of the map at 'prefix': each key one of keys[0..nkeys)
 * 'allowed' (get_key), its value read by 'field' at "prefix.key" into
 * 'obj'. *seen collects the keys read. */
static xsell_err
decode_fields(struct dec *d, const char *prefix, uint32_t n,
    const char *const *keys, unsigned nkeys, uint32_t allowed, field_fn field,
    void *obj, uint32_t *seen)
{
	char      path[64];
	unsigned  ix;
	xsell_err err;

	for (uint32_t i = 0; i < n; i++) {
		err = get_key(d, prefix, keys, nkeys, allowed, seen, &ix);
		if (err != XSELL_OK) {
			return err;
		}
		path_fmt(path, sizeof(path), "%s.%s", prefix, keys[ix]);
		err = field(d, ix, path, obj);
		if (err != XSELL_OK) {
			return err;
		}
	}
	return XSELL_OK;
}

/* Refuse a map at 'prefix' that lacks the key 'key'. */
static xsell_err
fail_missing(struct dec *d, const char *prefix, const char *key)
{
	char path[64];

	path_fmt(path, sizeof(path), "%s.%s", prefix, key);
	return fail(d, XSELL_EINVAL, path, "missing");
}

/* ==== event ==== */

enum { EK_TYPE, EK_USER, EK_TS, EK_ORDER, EK_ITEMS, EK_ITEM, EK_RATING };

static const char *const event_keys[] = { "type", "user", "ts", "order",
	"items", "item", "rating" };

static const char *const event_types[XS_EV_TYPE_COUNT] = {
	[XS_EV_ORDER]       = "order",
	[XS_EV_VIEW]        = "view",
	[XS_EV_CART_ADD]    = "cart_add",
	[XS_EV_CART_REMOVE] = "cart_remove",
	[XS_EV_RATING]      = "rating",
};

static uint32_t
event_allowed(enum xs_event_type t)
{
	uint32_t common = BIT(EK_TYPE) | BIT(EK_USER) | BIT(EK_TS);

	switch (t) {
	case XS_EV_ORDER:
		return common | BIT(EK_ORDER) | BIT(EK_ITEMS);
	case XS_EV_RATING:
		return common | BIT(EK_ITEM) | BIT(EK_RATING);
	default:
		return common | BIT(EK_ITEM);
	}
}

static xsell_err
count_refs(struct dec *d, uint64_t n)
{
	d->refs += n;
	if (d->refs > XSELL_BATCH_REFS_MAX) {
		return fail(d, XSELL_ETOOBIG, "events",
		    "more than %d item references", XSELL_BATCH_REFS_MAX);
	}
	return XSELL_OK;
}

/* Find "type" in an event map of 'n' pairs without moving the cursor:
 * which other keys are allowed depends on it. */
static xsell_err
event_type(
    struct dec *d, const char *prefix, uint32_t n, enum xs_event_type *out)
{
	struct xs_mp_reader save = d->r;
	struct xs_mp_val    k;
	struct xs_span      s = { NULL, 0 };
	char                path[64];
	xsell_err           err   = XSELL_OK;
	bool                found = false;

	path_fmt(path, sizeof(path), "%s.type", prefix);
	for (uint32_t i = 0; i < n && !found; i++) {
		err = peek(d, &k);
		if (err != XSELL_OK) {
			break;
		}
		if (k.type == XS_MP_STR && k.v.s.len == 4 &&
		    memcmp(k.v.s.p, "type", 4) == 0) {
			(void) next(d, &k);
			err = get_str(d, path, &s);
			if (err != XSELL_OK) {
				break;
			}
			found = true;
		} else {
			err = skip(d, 4);
			if (err == XSELL_OK) {
				err = skip(d, 4);
			}
			if (err != XSELL_OK) {
				break;
			}
		}
	}
	d->r = save;
	if (err != XSELL_OK) {
		return err;
	}
	if (!found) {
		return fail(d, XSELL_EINVAL, path, "missing");
	}
	for (int t = 0; t < XS_EV_TYPE_COUNT; t++) {
		if (strlen(event_types[t]) == s.len &&
		    memcmp(event_types[t], s.p, s.len) == 0) {
			*out = (enum xs_event_type) t;
			return XSELL_OK;
		}
	}
	return fail_unknown(d, path, "type", &s, "");
}

enum { LK_ITEM, LK_QTY, LK_PRICE };
static const char *const line_keys[] = { "item", "qty", "price" };

/* One field of an order line map (a field_fn). */
static xsell_err
decode_line_field(struct dec *d, unsigned ix, const char *path, void *obj)
{
	struct xs_order_line *l = obj;

	switch (ix) {
	case LK_ITEM:
		return get_id(d, path, &l->item);
	case LK_QTY:
		return get_number(d, path, &l->qty);
	default:
		return get_price(d, path, &l->price);
	}
}

/* One order line: an id, or {"item":ID,"qty":N,"price":N}. */
static xsell_err
decode_line(struct dec *d, const char *prefix, struct xs_order_line *l)
{
	struct xs_mp_val v;
	uint32_t         seen = 0;
	xsell_err        err;

	l->qty   = 1;
	l->price = NAN;
	err      = peek(d, &v);
	if (err != XSELL_OK) {
		return err;
	}
	if (v.type != XS_MP_MAP) {
		return get_id(d, prefix, &l->item);
	}
	(void) next(d, &v);
	err = decode_fields(
	    d, prefix, v.v.n, line_keys, 3, 0x7, decode_line_field, l, &seen);
	if (err != XSELL_OK) {
		return err;
	}
	if ((seen & BIT(LK_ITEM)) == 0) {
		return fail_missing(d, prefix, "item");
	}
	return XSELL_OK;
}

static xsell_err
decode_lines(struct dec *d, const char *prefix, struct xs_event *ev)
{
	struct xs_order_line *lines;
	char                  path[64];
	uint32_t              n;
	xsell_err             err;

	err = get_array(d, prefix, 1, XSELL_ORDER_ITEMS_MAX, "items", &n);
	if (err != XSELL_OK) {
		return err;
	}
	err = count_refs(d, n);
	if (err != XSELL_OK) {
		return err;
	}
	lines = xs_arena_calloc(d->arena, n, sizeof(*lines));
	if (lines == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		path_fmt(path, sizeof(path), "%s[%u]", prefix, (unsigned) i);
		err = decode_line(d, path, &lines[i]);
		if (err != XSELL_OK) {
			return err;
		}
	}
	ev->lines   = lines;
	ev->n_lines = n;
	return XSELL_OK;
}

/* One field of an event map (a field_fn). */
static xsell_err
decode_event_field(struct dec *d, unsigned ix, const char *path, void *obj)
{
	struct xs_event *ev = obj;
	int64_t          x  = 0;
	xsell_err        err;

	switch (ix) {
	case EK_TYPE:
		return skip(d, 4); /* read by event_type */
	case EK_USER:
		return get_id(d, path, &ev->user);
	case EK_TS:
		return get_ts(d, path, &ev->ts);
	case EK_ORDER:
		return get_id(d, path, &ev->order);
	case EK_ITEMS:
		return decode_lines(d, path, ev);
	case EK_ITEM:
		err = get_id(d, path, &ev->item);
		if (err == XSELL_OK) {
			err = count_refs(d, 1);
		}
		return err;
	default:
		err        = get_int(d, path, 1, 5, &x);
		ev->rating = (uint8_t) x;
		return err;
	}
}

/* Element 'index' of "events" (an elem_fn). */
static xsell_err
decode_event(struct dec *d, const char *name, uint32_t index, void *elem)
{
	struct xs_event   *ev   = elem;
	enum xs_event_type type = XS_EV_ORDER;
	char               prefix[32];
	uint32_t           n, seen = 0, allowed, need;
	xsell_err          err;

	path_fmt(prefix, sizeof(prefix), "%s[%u]", name, (unsigned) index);
	err = get_container(d, prefix, XS_MP_MAP, &n);
	if (err != XSELL_OK) {
		return err;
	}
	err = event_type(d, prefix, n, &type);
	if (err != XSELL_OK) {
		return err;
	}
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->ts   = d->now;
	allowed  = event_allowed(type);

	err = decode_fields(d, prefix, n, event_keys, 7, allowed,
	    decode_event_field, ev, &seen);
	if (err != XSELL_OK) {
		return err;
	}
	if (type == XS_EV_ORDER) {
		need = BIT(EK_ORDER) | BIT(EK_ITEMS);
	} else {
		need = allowed & ~(BIT(EK_TS));
	}
	for (unsigned k = 0; k < 7; k++) {
		if ((need & ~seen & BIT(k)) != 0) {
			return fail_missing(d, prefix, event_keys[k]);
		}
	}
	return XSELL_OK;
}

static xsell_err
decode_events(struct dec *d, struct xs_request *req)
{
	void     *evs = NULL;
	xsell_err err;

	err = decode_array(d, "events", 0, XSELL_EVENTS_MAX, "events",
	    sizeof(struct xs_event), decode_event, &evs, &req->u.event.n);
	req->u.event.events = evs;
	return err;
}

/* ==== items ==== */

enum { UK_ITEM, UK_CATEGORY, UK_PRICE, UK_IN_STOCK, UK_CREATED };
static const char *const upsert_keys[] = { "item", "category", "price",
	"in_stock", "created" };

static xsell_err
get_category(struct dec *d, const char *path, struct xs_span *out)
{
	xsell_err err = get_str(d, path, out);

	if (err != XSELL_OK) {
		return err;
	}
	if (out->len == 0) {
		return fail(d, XSELL_EINVAL, path, "empty");
	}
	if (out->len > XSELL_CATEGORY_MAX) {
		return fail(d, XSELL_ETOOBIG, path, "longer than %d bytes",
		    XSELL_CATEGORY_MAX);
	}
	if (!xs_utf8_is_valid(out->p, out->len)) {
		return fail(d, XSELL_EINVAL, path, "invalid UTF-8");
	}
	return XSELL_OK;
}

/* One field of an items upsert map (a field_fn). */
static xsell_err
decode_upsert_field(struct dec *d, unsigned ix, const char *path, void *obj)
{
	struct xs_item_update *up = obj;

	switch (ix) {
	case UK_ITEM:
		return get_id(d, path, &up->item);
	case UK_CATEGORY:
		return get_category(d, path, &up->category);
	case UK_PRICE:
		up->has_price = true;
		return get_price(d, path, &up->price);
	case UK_IN_STOCK:
		up->has_in_stock = true;
		return get_bool(d, path, &up->in_stock);
	default:
		up->has_created = true;
		return get_ts(d, path, &up->created);
	}
}

/* Element 'index' of "items" (an elem_fn). */
static xsell_err
decode_upsert(struct dec *d, const char *name, uint32_t index, void *elem)
{
	struct xs_item_update *up = elem;
	char                   prefix[32];
	uint32_t               n, seen = 0;
	xsell_err              err;

	path_fmt(prefix, sizeof(prefix), "%s[%u]", name, (unsigned) index);
	err = get_container(d, prefix, XS_MP_MAP, &n);
	if (err != XSELL_OK) {
		return err;
	}
	memset(up, 0, sizeof(*up));
	err = decode_fields(d, prefix, n, upsert_keys, 5, 0x1f,
	    decode_upsert_field, up, &seen);
	if (err != XSELL_OK) {
		return err;
	}
	if ((seen & BIT(UK_ITEM)) == 0) {
		return fail_missing(d, prefix, "item");
	}
	return XSELL_OK;
}

static xsell_err
decode_upserts(struct dec *d, struct xs_request *req)
{
	void     *ups = NULL;
	xsell_err err;

	err = decode_array(d, "items", 0, XSELL_UPSERT_MAX, "items",
	    sizeof(struct xs_item_update), decode_upsert, &ups,
	    &req->u.items.n);
	req->u.items.ups = ups;
	return err;
}

/* ==== fbt ==== */

/* A refusal of element i of array 'name' names it "name[i]": the
 * element was read under 'name' alone, so that the path is formatted
 * only for a refusal, not for every element. */
static xsell_err
index_note(struct dec *d, const char *name, uint32_t i, xsell_err err)
{
	char path[64];

	if (d->ei != NULL && strcmp(d->ei->field, name) == 0) {
		path_fmt(path, sizeof(path), "%s[%u]", name, (unsigned) i);
		snprintf(d->ei->field, sizeof(d->ei->field), "%s", path);
	}
	return err;
}

/* Element 'i' of an array of ids (an elem_fn). */
static xsell_err
id_elem(struct dec *d, const char *name, uint32_t i, void *elem)
{
	xsell_err err = get_id(d, name, elem);

	return err == XSELL_OK ? err : index_note(d, name, i, err);
}

/* Element 'i' of an array of categories (an elem_fn). */
static xsell_err
category_elem(struct dec *d, const char *name, uint32_t i, void *elem)
{
	xsell_err err = get_category(d, name, elem);

	return err == XSELL_OK ? err : index_note(d, name, i, err);
}

/* An array of 'min'..'max' ids at 'name' (the limit is ETOOBIG). */
static xsell_err
decode_ids(struct dec *d, const char *name, uint32_t min, uint32_t max,
    const struct xs_span **out, uint32_t *count)
{
	void     *ids = NULL;
	xsell_err err;

	err  = decode_array(d, name, min, max, "ids", sizeof(struct xs_span),
	     id_elem, &ids, count);
	*out = ids;
	return err;
}

/* An array of 'min'..XSELL_FILTER_CATEGORIES_MAX category names at
 * 'name', each checked as the "category" of an items upsert. */
static xsell_err
decode_categories(struct dec *d, const char *name, uint32_t min,
    const struct xs_span **out, uint32_t *count)
{
	void     *cats = NULL;
	xsell_err err;

	err  = decode_array(d, name, min, XSELL_FILTER_CATEGORIES_MAX,
	     "categories", sizeof(struct xs_span), category_elem, &cats, count);
	*out = cats;
	return err;
}

enum {
	FK_IN_STOCK,
	FK_EXCLUDE,
	FK_CATEGORIES,
	FK_EXCLUDE_CATEGORIES,
	FK_PRICE_MIN,
	FK_PRICE_MAX,
	FK_MAX_PER_CATEGORY,
	FK_COUNT
};
static const char *const filter_keys[FK_COUNT] = { "in_stock", "exclude",
	"categories", "exclude_categories", "price_min", "price_max",
	"max_per_category" };

/* One field of the filter map (a field_fn); 'path' is "filter.<key>". */
static xsell_err
decode_filter_field(struct dec *d, unsigned key, const char *path, void *obj)
{
	struct xs_filter *f = obj;
	int64_t           x = 0;
	xsell_err         err;

	switch (key) {
	case FK_IN_STOCK:
		return get_bool(d, path, &f->in_stock);
	case FK_EXCLUDE:
		return decode_ids(
		    d, path, 0, XSELL_EXCLUDE_MAX, &f->exclude, &f->n_exclude);
	case FK_CATEGORIES:
		/* An empty allow-list would answer nothing: a client bug. */
		return decode_categories(
		    d, path, 1, &f->categories, &f->n_categories);
	case FK_EXCLUDE_CATEGORIES:
		return decode_categories(d, path, 0, &f->exclude_categories,
		    &f->n_exclude_categories);
	case FK_PRICE_MIN:
		f->has_price_min = true;
		return get_price(d, path, &f->price_min);
	case FK_PRICE_MAX:
		f->has_price_max = true;
		return get_price(d, path, &f->price_max);
	default:
		err                 = get_int(d, path, 1, XSELL_K_MAX, &x);
		f->max_per_category = (unsigned) x;
		return err;
	}
}

static xsell_err
decode_filter(struct dec *d, struct xs_filter *f)
{
	uint32_t  n, seen = 0;
	xsell_err err;

	err = get_container(d, "filter", XS_MP_MAP, &n);
	if (err != XSELL_OK) {
		return err;
	}
	err = decode_fields(d, "filter", n, filter_keys, FK_COUNT,
	    BIT(FK_COUNT) - 1, decode_filter_field, f, &seen);
	if (err != XSELL_OK) {
		return err;
	}
	/* Checked once both are read: their order in the map is free. */
	if (f->has_price_min && f->has_price_max &&
	    f->price_min > f->price_max) {
		return fail(d, XSELL_EINVAL, "filter.price_min",
		    "must be <= filter.price_max");
	}
	return XSELL_OK;
}

static xsell_err
get_scorer(struct dec *d, enum xs_scorer *out)
{
	struct xs_span s;
	xsell_err      err;

	err = get_str(d, "scorer", &s);
	if (err != XSELL_OK) {
		return err;
	}
	if (!xs_scorer_parse(s.p, s.len, out)) {
		return fail_unknown(d, "scorer", "scorer", &s, "");
	}
	return XSELL_OK;
}

/* ==== Request ==== */

enum {
	K_OP,
	K_ID,
	K_EVENTS,
	K_BATCH,
	K_ITEMS,
	K_K,
	K_SCORER,
	K_EXPLAIN,
	K_MIN_SUPPORT,
	K_FILTER,
	K_BETA,
	K_CROSS_CATEGORY,
	K_SIGNAL,
	K_CATEGORY,
	K_HALF_LIFE,
	K_USER,
	K_KIND,
	K_CONTEXT,
	K_CANDIDATES,
	K_MIN_AGE,
	K_MAX_AGE,
	K_DAYS,
	K_NOW,
	K_LIMIT,
	K_FRESH,
	K_COUNT
};

static const char *const top_keys[K_COUNT] = { "op", "id", "events", "batch",
	"items", "k", "scorer", "explain", "min_support", "filter", "beta",
	"cross_category", "signal", "category", "half_life_days", "user",
	"kind", "context", "candidates", "min_age_s", "max_age_s", "days",
	"now", "limit", "fresh" };

/* The fields every list answer takes. */
#define LIST_KEYS \
	(BIT(K_OP) | BIT(K_ID) | BIT(K_K) | BIT(K_EXPLAIN) | BIT(K_FILTER))

static const uint32_t op_keys[XS_OP_COUNT] = {
	[XS_OP_event] = BIT(K_OP) | BIT(K_ID) | BIT(K_EVENTS) | BIT(K_BATCH),
	[XS_OP_items] = BIT(K_OP) | BIT(K_ID) | BIT(K_ITEMS),
	[XS_OP_fbt]   = BIT(K_OP) | BIT(K_ID) | BIT(K_ITEMS) | BIT(K_K) |
	    BIT(K_SCORER) | BIT(K_EXPLAIN) | BIT(K_MIN_SUPPORT) |
	    BIT(K_FILTER),
	[XS_OP_stats]       = BIT(K_OP) | BIT(K_ID),
	[XS_OP_complements] = BIT(K_OP) | BIT(K_ID) | BIT(K_ITEMS) | BIT(K_K) |
	    BIT(K_EXPLAIN) | BIT(K_MIN_SUPPORT) | BIT(K_FILTER) | BIT(K_BETA) |
	    BIT(K_CROSS_CATEGORY) | BIT(K_FRESH),
	[XS_OP_similar] = LIST_KEYS | BIT(K_ITEMS) | BIT(K_SCORER) |
	    BIT(K_MIN_SUPPORT) | BIT(K_SIGNAL),
	[XS_OP_viewed_bought] =
	    LIST_KEYS | BIT(K_ITEMS) | BIT(K_SCORER) | BIT(K_MIN_SUPPORT),
	[XS_OP_trending] = LIST_KEYS | BIT(K_CATEGORY) | BIT(K_HALF_LIFE),
	[XS_OP_picks]    = LIST_KEYS | BIT(K_USER) | BIT(K_KIND) |
	    BIT(K_CONTEXT) | BIT(K_CANDIDATES) | BIT(K_MIN_AGE) |
	    BIT(K_MAX_AGE) | BIT(K_DAYS) | BIT(K_NOW),
	[XS_OP_history] = BIT(K_OP) | BIT(K_ID) | BIT(K_USER) | BIT(K_LIMIT),
	[XS_OP_forget_user] = BIT(K_OP) | BIT(K_ID) | BIT(K_USER),
};

/* The field an op cannot do without, or NULL. */
static const char *
required_key(enum xs_op op)
{
	switch (op) {
	case XS_OP_event:
		return "events";
	case XS_OP_items:
	case XS_OP_fbt:
	case XS_OP_complements:
	case XS_OP_similar:
	case XS_OP_viewed_bought:
		return "items";
	case XS_OP_picks:
	case XS_OP_history:
	case XS_OP_forget_user:
		return "user";
	default:
		return NULL;
	}
}

static xsell_err
get_signal(struct dec *d, enum xs_signal *out)
{
	struct xs_span s;
	xsell_err      err = get_str(d, "signal", &s);

	if (err == XSELL_OK && !xs_signal_parse(s.p, s.len, out)) {
		return fail_unknown(
		    d, "signal", "signal", &s, " (all, order, view, cart)");
	}
	return err;
}

static xsell_err
get_kind(struct dec *d, enum xs_pick_kind *out)
{
	struct xs_span s;
	xsell_err      err = get_str(d, "kind", &s);

	if (err == XSELL_OK && !xs_pick_kind_parse(s.p, s.len, out)) {
		return fail_unknown(d, "kind", "kind", &s, "");
	}
	return err;
}

/* A positive number of days, at most XSELL_DAYS_MAX, fractions allowed
 * (half_life_days; picks' "days" is an integer, read by get_int). */
static xsell_err
get_days(struct dec *d, const char *path, double *out)
{
	xsell_err err = get_number(d, path, out);

	if (err == XSELL_OK && !(*out > 0 && *out <= XSELL_DAYS_MAX)) {
		return fail(d, XSELL_EINVAL, path, "must be > 0 and <= %d",
		    XSELL_DAYS_MAX);
	}
	return err;
}

/* picks: the fields of the user side. */
static xsell_err
decode_pick_field(struct dec *d, struct xs_query *q, unsigned key)
{
	int64_t   x = 0;
	xsell_err err;

	switch (key) {
	case K_KIND:
		return get_kind(d, &q->kind);
	case K_CONTEXT:
		return decode_ids(d, "context", 0, XSELL_CONTEXT_MAX,
		    &q->context, &q->n_context);
	case K_CANDIDATES:
		return decode_ids(d, "candidates", 0, XSELL_CANDIDATES_MAX,
		    &q->candidates, &q->n_candidates);
	case K_MIN_AGE:
		q->has_min_age = true;
		return get_ts(d, "min_age_s", &q->min_age_s);
	case K_MAX_AGE:
		q->has_max_age = true;
		return get_ts(d, "max_age_s", &q->max_age_s);
	case K_DAYS:
		err = get_int(d, "days", 1, XSELL_DAYS_MAX, &x);
		if (err != XSELL_OK) {
			return err;
		}
		q->days     = (unsigned) x;
		q->has_days = true;
		return XSELL_OK;
	default: /* K_NOW */
		err    = get_ts(d, "now", &x);
		q->now = x;
		return err;
	}
}

static bool
key_is(const struct xs_mp_val *k, const char *name)
{
	return k->type == XS_MP_STR && k->v.s.len == strlen(name) &&
	    memcmp(k->v.s.p, name, k->v.s.len) == 0;
}

/* Pass one: check the structure of the whole message, note where the
 * entries begin (*body) and where the first "op" value is (*op_pos, or
 * SIZE_MAX), and set req->id_raw as soon as "id" is read. */
static xsell_err
scan(struct dec *d, struct xs_request *req, uint32_t *n, size_t *body,
    size_t *op_pos)
{
	struct xs_mp_val v;
	xsell_err        err;

	*op_pos = SIZE_MAX;
	err     = next_of(d, XS_MP_MAP, "request", "not a map", &v);
	if (err != XSELL_OK) {
		return err;
	}
	*n    = v.v.n;
	*body = d->r.pos;
	for (uint32_t i = 0; i < *n; i++) {
		size_t at = d->r.pos;

		err = next(d, &v);
		if (err != XSELL_OK) {
			return err;
		}
		if (v.type == XS_MP_ARRAY || v.type == XS_MP_MAP) {
			d->r.pos = at; /* a container key: skip it whole */
			err      = skip(d, 2);
			if (err == XSELL_OK) {
				err = skip(d, 2);
			}
		} else if (key_is(&v, "id") && req->id_raw == NULL) {
			const uint8_t *p;
			size_t         len;

			err = xs_mp_raw(&d->r, 2, &p, &len);
			if (err != XSELL_OK) {
				return fail_reader(d, err);
			}
			req->id_raw = p;
			req->id_len = len;
		} else {
			if (key_is(&v, "op") && *op_pos == SIZE_MAX) {
				*op_pos = d->r.pos;
			}
			err = skip(d, 2);
		}
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (xs_mp_left(&d->r) != 0) {
		return fail(d, XSELL_EINVAL, "request", "trailing bytes");
	}
	return XSELL_OK;
}

static xsell_err
get_op(struct dec *d, size_t op_pos, enum xs_op *op)
{
	struct xs_span s;
	char           esc[64];
	xsell_err      err;

	if (op_pos == SIZE_MAX) {
		return fail(d, XSELL_EINVAL, "op", "missing");
	}
	d->r.pos = op_pos;
	err      = get_str(d, "op", &s);
	if (err != XSELL_OK) {
		return err;
	}
	for (int i = 0; i < XS_OP_COUNT; i++) {
		const char *name = xs_op_name((enum xs_op) i);

		if (strlen(name) == s.len && memcmp(name, s.p, s.len) == 0) {
			*op = (enum xs_op) i;
			return XSELL_OK;
		}
	}
	xs_escape(esc, sizeof(esc), s.p, s.len);
	return fail(d, XSELL_EINVAL, "op", "unknown op '%s'", esc);
}

/* One top-level field of op 'op'. */
static xsell_err
decode_field(struct dec *d, struct xs_request *req, unsigned key)
{
	struct xs_query *q = &req->u.query.q;
	int64_t          x = 0;
	xsell_err        err;

	switch (key) {
	case K_OP:
	case K_ID:
		return skip(d, 2);
	case K_EVENTS:
		return decode_events(d, req);
	case K_BATCH:
		return get_id(d, "batch", &req->u.event.batch);
	case K_ITEMS:
		if (req->op == XS_OP_items) {
			return decode_upserts(d, req);
		}
		return decode_ids(d, "items", 1, XSELL_QUERY_ITEMS_MAX,
		    &q->items, &q->n_items);
	case K_K:
		err  = get_int(d, "k", 1, XSELL_K_MAX, &x);
		q->k = (unsigned) x;
		return err;
	case K_SCORER:
		req->u.query.scorer_given = true;
		return get_scorer(d, &q->scorer);
	case K_EXPLAIN:
		return get_bool(d, "explain", &q->explain);
	case K_MIN_SUPPORT:
		err            = get_int(d, "min_support", 0, UINT32_MAX, &x);
		q->min_support = (unsigned) x;
		return err;
	case K_BETA:
		err = get_number(d, "beta", &q->beta);
		if (err == XSELL_OK && (q->beta < 0 || q->beta > 2)) {
			return fail(d, XSELL_EINVAL, "beta", "must be 0..2");
		}
		q->has_beta = true;
		return err;
	case K_CROSS_CATEGORY:
		return get_bool(d, "cross_category", &q->cross_category);
	case K_FRESH:
		return get_bool(d, "fresh", &q->fresh);
	case K_SIGNAL:
		return get_signal(d, &q->signal);
	case K_CATEGORY:
		return get_category(d, "category", &q->category);
	case K_HALF_LIFE:
		q->has_half_life = true;
		return get_days(d, "half_life_days", &q->half_life_days);
	case K_USER:
		return get_id(d, "user", &q->user);
	case K_LIMIT:
		err      = get_int(d, "limit", 1, XSELL_HISTORY_LIMIT_MAX, &x);
		q->limit = (unsigned) x;
		return err;
	case K_KIND:
	case K_CONTEXT:
	case K_CANDIDATES:
	case K_MIN_AGE:
	case K_MAX_AGE:
	case K_DAYS:
	case K_NOW:
		return decode_pick_field(d, q, key);
	default:
		return decode_filter(d, &q->filter);
	}
}

/* Defaults of the query ops before their fields are read. */
static void
query_defaults(struct xs_query *q, int64_t now)
{
	q->k               = XSELL_K_DEFAULT;
	q->filter.in_stock = true;
	q->limit           = XSELL_HISTORY_LIMIT_DEFAULT;
	q->now             = now;
}

/* min_age_s at most max_age_s, the one left out at its default (the
 * server's settings take it from limits.h): one sent alone past the
 * other's default would ask for an empty window. */
static xsell_err
check_ages(struct dec *d, const struct xs_query *q)
{
	if (q->has_min_age && q->has_max_age) {
		return q->min_age_s > q->max_age_s
		    ? fail(d, XSELL_EINVAL, "min_age_s",
		          "must not be more than max_age_s")
		    : XSELL_OK;
	}
	if (q->has_min_age && q->min_age_s > XSELL_PICK_MAX_AGE_DEFAULT) {
		return fail(d, XSELL_EINVAL, "min_age_s",
		    "must not be more than max_age_s (%d when left out)",
		    XSELL_PICK_MAX_AGE_DEFAULT);
	}
	if (q->has_max_age && q->max_age_s < XSELL_PICK_MIN_AGE_DEFAULT) {
		return fail(d, XSELL_EINVAL, "max_age_s",
		    "must not be less than min_age_s (%d when left out)",
		    XSELL_PICK_MIN_AGE_DEFAULT);
	}
	return XSELL_OK;
}

/* Checks across fields, once all are read. */
static xsell_err
check_request(struct dec *d, const struct xs_request *req, uint32_t seen)
{
	const struct xs_query *q    = &req->u.query.q;
	const char            *need = required_key(req->op);

	if (need != NULL) {
		unsigned ix = 0;

		while (strcmp(top_keys[ix], need) != 0) {
			ix++;
		}
		if ((seen & BIT(ix)) == 0) {
			return fail(d, XSELL_EINVAL, need, "missing");
		}
	}
	if (req->op == XS_OP_picks) {
		return check_ages(d, q);
	}
	return XSELL_OK;
}

xsell_err
xs_wire_decode(const void *buf, size_t len, struct xs_arena *arena,
    int64_t now, struct xs_request *req, struct xs_errinfo *ei)
{
	struct dec d = { .arena = arena, .now = now, .ei = ei };
	uint32_t   n = 0, seen = 0;
	size_t     body = 0, op_pos = SIZE_MAX;
	unsigned   ix;
	xsell_err  err;

	memset(req, 0, sizeof(*req));
	if (ei != NULL) {
		ei->field[0] = '\0';
		ei->msg[0]   = '\0';
	}
	xs_mp_init(&d.r, buf, len);
	err = scan(&d, req, &n, &body, &op_pos);
	if (err != XSELL_OK) {
		return err;
	}
	err = get_op(&d, op_pos, &req->op);
	if (err != XSELL_OK) {
		return err;
	}
	if (req->op != XS_OP_event && req->op != XS_OP_items) {
		query_defaults(&req->u.query.q, now);
	}
	d.r.pos = body;
	for (uint32_t i = 0; i < n; i++) {
		err = get_key(
		    &d, "", top_keys, K_COUNT, op_keys[req->op], &seen, &ix);
		if (err != XSELL_OK) {
			return err;
		}
		err = decode_field(&d, req, ix);
		if (err != XSELL_OK) {
			return err;
		}
	}
	return check_request(&d, req, seen);
}
