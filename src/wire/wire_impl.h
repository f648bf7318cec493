/* SPDX-License-Identifier: MIT */
/* Shared by the wire's own files: the bounded msgpack pull reader
 * (mpread.c). It reads one element header at a time straight from the
 * message, allocates nothing and checks every declared size against the
 * bytes that remain, because msgpack-c's unpacker trusts them. */
#ifndef XSELL_WIRE_WIRE_IMPL_H
#define XSELL_WIRE_WIRE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

enum xs_mp_type {
	XS_MP_NIL,
	XS_MP_BOOL,
	XS_MP_UINT,  /* any integer >= 0, whatever its encoding */
	XS_MP_INT,   /* any integer < 0 */
	XS_MP_FLOAT, /* float32 or float64, widened */
	XS_MP_STR,
	XS_MP_BIN,
	XS_MP_ARRAY,
	XS_MP_MAP
};

/* One element as read by xs_mp_next. */
struct xs_mp_val {
	enum xs_mp_type type;
	union {
		bool     b;
		uint64_t u;
		int64_t  i;
		double   f;
		struct {
			const char *p; /* borrowed from the message */
			uint32_t    len;
		} s;        /* STR and BIN */
		uint32_t n; /* ARRAY: elements; MAP: key/value pairs */
	} v;
};

/* A cursor over buf[0..len): borrowed; valid while the buffer is. */
struct xs_mp_reader {
	const uint8_t *buf;
	size_t         len;
	size_t         pos; /* next byte to read */
};

void xs_mp_init(struct xs_mp_reader *r, const void *buf, size_t len);

/* Bytes not read yet. */
static inline size_t
xs_mp_left(const struct xs_mp_reader *r)
{
	return r->len - r->pos;
}

/* Read one element header into *v. A str or bin is read whole (its bytes
 * become v->v.s); an array or map only its header, so the caller reads
 * the elements next. Returns XSELL_EINVAL on truncation, on ext types and
 * the unused byte 0xc1, and when a declared count (maps: twice it) or
 * length is more than the bytes that remain. The cursor moves only on
 * success. */
xsell_err xs_mp_next(struct xs_mp_reader *r, struct xs_mp_val *v);

/* Skip one whole value. 'depth' is the nesting depth the value would
 * have if it is a container (the request map is 1); a container deeper
 * than XSELL_DEPTH_MAX gives XSELL_ETOOBIG. Malformed or truncated input
 * gives XSELL_EINVAL. Recursion is bounded by XSELL_DEPTH_MAX. */
xsell_err xs_mp_skip(struct xs_mp_reader *r, unsigned depth);

/* Skip one whole value as xs_mp_skip does and return its raw bytes,
 * borrowed from the buffer, in *pp and *lenp. */
xsell_err xs_mp_raw(
    struct xs_mp_reader *r, unsigned depth, const uint8_t **pp, size_t *lenp);

#endif /* XSELL_WIRE_WIRE_IMPL_H */
