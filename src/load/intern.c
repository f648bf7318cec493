/* SPDX-License-Identifier: MIT */
/* String interning for the loader: one copy of each distinct id, so that
 * half a million order lines naming four thousand items cost four
 * thousand strings, not half a million. Open addressing, linear probing,
 * grown at half full. */
#include "load/load_impl.h"

#include <stdlib.h>
#include <string.h>

void
xs_intern_init(struct xs_intern *in)
{
	memset(in, 0, sizeof(*in));
}

void
xs_intern_fini(struct xs_intern *in)
{
	free(in->strs);
	free(in->slots);
	free(in->bytes);
	memset(in, 0, sizeof(*in));
}

static xsell_err
slots_grow(struct xs_intern *in)
{
	size_t    cap = in->slots == NULL ? 1024 : (in->mask + 1) * 2;
	uint32_t *s   = calloc(cap, sizeof(*s));

	if (s == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < in->n; i++) {
		size_t k = in->strs[i].hash & (cap - 1);

		while (s[k] != 0) {
			k = (k + 1) & (cap - 1);
		}
		s[k] = i + 1;
	}
	free(in->slots);
	in->slots = s;
	in->mask  = cap - 1;
	return XSELL_OK;
}

/* Whether p[0..len) is the string put last. An order's lines come
 * together, each naming the order and its customer again: one compare
 * of a string in cache instead of a hash and a probe of a table that,
 * with millions of orders, misses the caches. */
static bool
is_last(const struct xs_intern *in, const char *p, size_t len)
{
	const struct xs_intern_str *s;

	if (in->n == 0) {
		return false;
	}
	s = &in->strs[in->last];
	return s->len == len &&
	    (len == 0 || memcmp(in->bytes + s->off, p, len) == 0);
}

xsell_err
xs_intern_put(struct xs_intern *in, const char *p, size_t len, uint32_t *idp)
{
	uint32_t h;
	size_t   k;

	if (is_last(in, p, len)) {
		*idp = in->last;
		return XSELL_OK;
	}
	h = (uint32_t) xs_hash64(p, len, 0);

	if (in->slots == NULL || (size_t) in->n + 1 > (in->mask + 1) / 2) {
		xsell_err err = slots_grow(in);

		if (err != XSELL_OK) {
			return err;
		}
	}
	for (k = h & in->mask; in->slots[k] != 0; k = (k + 1) & in->mask) {
		const struct xs_intern_str *s = &in->strs[in->slots[k] - 1];

		if (s->hash == h && s->len == len &&
		    memcmp(in->bytes + s->off, p, len) == 0) {
			*idp     = in->slots[k] - 1;
			in->last = *idp;
			return XSELL_OK;
		}
	}
	if (in->n == UINT32_MAX - 1) {
		return XSELL_ENOMEM;
	}
	if (in->n == in->cap) {
		uint32_t              cap = in->cap ? in->cap * 2 : 1024;
		struct xs_intern_str *s = realloc(in->strs, cap * sizeof(*s));

		if (s == NULL) {
			return XSELL_ENOMEM;
		}
		in->strs = s;
		in->cap  = cap;
	}
	if (in->bytes_len + len > in->bytes_cap) {
		uint64_t cap = in->bytes_cap ? in->bytes_cap : 1 << 16;
		char    *b;

		while (cap < in->bytes_len + len) {
			cap *= 2;
		}
		b = realloc(in->bytes, cap);
		if (b == NULL) {
			return XSELL_ENOMEM;
		}
		in->bytes     = b;
		in->bytes_cap = cap;
	}
	if (len != 0) {
		memcpy(in->bytes + in->bytes_len, p, len);
	}
	in->strs[in->n].off  = in->bytes_len;
	in->strs[in->n].len  = (uint32_t) len;
	in->strs[in->n].hash = h;
	in->bytes_len += len;
	in->slots[k] = in->n + 1;
	in->last     = in->n;
	*idp         = in->n++;
	return XSELL_OK;
}

bool
xs_intern_has(const struct xs_intern *in, const char *p, size_t len)
{
	uint32_t h = (uint32_t) xs_hash64(p, len, 0);

	if (in->slots == NULL) {
		return false;
	}
	for (size_t k = h & in->mask; in->slots[k] != 0;
	     k        = (k + 1) & in->mask) {
		const struct xs_intern_str *s = &in->strs[in->slots[k] - 1];

		if (s->hash == h && s->len == len &&
		    memcmp(in->bytes + s->off, p, len) == 0) {
			return true;
		}
	}
	return false;
}

struct xs_span
xs_intern_get(const struct xs_intern *in, uint32_t id)
{
	struct xs_span s;

	s.p   = in->bytes + in->strs[id].off;
	s.len = in->strs[id].len;
	return s;
}
