/* SPDX-License-Identifier: MIT */
/* A bounded, allocation-free msgpack pull reader. Every length and count
 * a peer declares is checked against the bytes that remain before it is
 * believed (each element takes at least one byte), and nesting is capped
 * at XSELL_DEPTH_MAX, so no message can make the reader allocate, recurse
 * deeply or read past the buffer. */
#include "wire/wire_impl.h"

#include <string.h>

void
xs_mp_init(struct xs_mp_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
}

/* Big-endian unsigned of 'n' bytes at p. */
static uint64_t
be_read(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		x = (x << 8) | p[i];
	}
	return x;
}

static void
set_int(struct xs_mp_val *v, int64_t i)
{
	if (i >= 0) {
		v->type = XS_MP_UINT;
		v->v.u  = (uint64_t) i;
	} else {
		v->type = XS_MP_INT;
		v->v.i  = i;
	}
}

/* Sign-extend an n-byte two's complement value. */
static int64_t
sign_extend(uint64_t x, size_t n)
{
	if (n < 8 && (x & ((uint64_t) 1 << (n * 8 - 1))) != 0) {
		x |= ~(uint64_t) 0 << (n * 8);
	}
	return (int64_t) x;
}

xsell_err
xs_mp_next(struct xs_mp_reader *r, struct xs_mp_val *v)
{
	const uint8_t *p    = r->buf + r->pos;
	size_t         left = r->len - r->pos;
	size_t         hdr;      /* bytes of the header, tag included */
	size_t         nlen = 0; /* bytes of the length/value field */
	uint64_t       x;
	uint8_t        c;

	if (left == 0) {
		return XSELL_EINVAL;
	}
	c = p[0];
	/* Fixed-size forms first: the tag tells the width. */
	if (c <= 0x7f) {
		v->type = XS_MP_UINT;
		v->v.u  = c;
		r->pos += 1;
		return XSELL_OK;
	}
	if (c >= 0xe0) {
		v->type = XS_MP_INT;
		v->v.i  = (int64_t) c - 256; /* negative fixint: 0xe0 is -32 */
		r->pos += 1;
		return XSELL_OK;
	}
	if (c >= 0x80 && c <= 0x8f) {
		v->type = XS_MP_MAP;
		x       = c & 0x0f;
		hdr     = 1;
		goto map;
	}
	if (c >= 0x90 && c <= 0x9f) {
		v->type = XS_MP_ARRAY;
		x       = c & 0x0f;
		hdr     = 1;
		goto array;
	}
	if (c >= 0xa0 && c <= 0xbf) {
		v->type = XS_MP_STR;
		x       = c & 0x1f;
		hdr     = 1;
		goto bytes;
	}
	switch (c) {
	case 0xc0:
		v->type = XS_MP_NIL;
		r->pos += 1;
		return XSELL_OK;
	case 0xc2:
	case 0xc3:
		v->type = XS_MP_BOOL;
		v->v.b  = c == 0xc3;
		r->pos += 1;
		return XSELL_OK;
	case 0xc4:
	case 0xc5:
	case 0xc6: /* bin 8/16/32 */
		v->type = XS_MP_BIN;
		nlen    = (size_t) 1 << (c - 0xc4);
		break;
	case 0xd9:
	case 0xda:
	case 0xdb: /* str 8/16/32 */
		v->type = XS_MP_STR;
		nlen    = (size_t) 1 << (c - 0xd9);
		break;
	case 0xdc:
	case 0xdd: /* array 16/32 */
		v->type = XS_MP_ARRAY;
		nlen    = (size_t) 2 << (c - 0xdc);
		break;
	case 0xde:
	case 0xdf: /* map 16/32 */
		v->type = XS_MP_MAP;
		nlen    = (size_t) 2 << (c - 0xde);
		break;
	case 0xca:
	case 0xcb: /* float 32/64 */
		v->type = XS_MP_FLOAT;
		nlen    = c == 0xca ? 4 : 8;
		break;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf: /* uint 8..64 */
		v->type = XS_MP_UINT;
		nlen    = (size_t) 1 << (c - 0xcc);
		break;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: /* int 8..64 */
		v->type = XS_MP_INT;
		nlen    = (size_t) 1 << (c - 0xd0);
		break;
	default: /* 0xc1 (never used) and every ext type */
		return XSELL_EINVAL;
	}
	if (left < 1 + nlen) {
		return XSELL_EINVAL;
	}
	hdr = 1 + nlen;
	x   = be_read(p + 1, nlen);
	switch (v->type) {
	case XS_MP_FLOAT:
		if (nlen == 4) {
			uint32_t u32 = (uint32_t) x;
			float    f;

			memcpy(&f, &u32, sizeof(f));
			v->v.f = f;
		} else {
			memcpy(&v->v.f, &x, sizeof(v->v.f));
		}
		r->pos += hdr;
		return XSELL_OK;
	case XS_MP_UINT:
		v->v.u = x;
		r->pos += hdr;
		return XSELL_OK;
	case XS_MP_INT:
		set_int(v, sign_extend(x, nlen));
		r->pos += hdr;
		return XSELL_OK;
	case XS_MP_ARRAY:
		goto array;
	case XS_MP_MAP:
		goto map;
	default:
		goto bytes;
	}

bytes:
	if (x > left - hdr) {
		return XSELL_EINVAL;
	}
	v->v.s.p   = (const char *) p + hdr;
	v->v.s.len = (uint32_t) x;
	r->pos += hdr + (size_t) x;
	return XSELL_OK;
array:
	/* Each element takes at least one byte. */
	if (x > left - hdr) {
		return XSELL_EINVAL;
	}
	v->v.n = (uint32_t) x;
	r->pos += hdr;
	return XSELL_OK;
map:
	if (2 * x > left - hdr) {
		return XSELL_EINVAL;
	}
	v->v.n = (uint32_t) x;
	r->pos += hdr;
	return XSELL_OK;
}

xsell_err
xs_mp_skip(struct xs_mp_reader *r, unsigned depth)
{
	struct xs_mp_val v;
	uint64_t         n;
	xsell_err        err;

	err = xs_mp_next(r, &v);
	if (err != XSELL_OK) {
		return err;
	}
	if (v.type != XS_MP_ARRAY && v.type != XS_MP_MAP) {
		return XSELL_OK;
	}
	if (depth > XSELL_DEPTH_MAX) {
		return XSELL_ETOOBIG;
	}
	n = v.type == XS_MP_MAP ? 2 * (uint64_t) v.v.n : v.v.n;
	for (uint64_t i = 0; i < n; i++) {
		err = xs_mp_skip(r, depth + 1);
		if (err != XSELL_OK) {
			return err;
		}
	}
	return XSELL_OK;
}

xsell_err
xs_mp_raw(
    struct xs_mp_reader *r, unsigned depth, const uint8_t **pp, size_t *lenp)
{
	size_t    start = r->pos;
	xsell_err err;

	err = xs_mp_skip(r, depth);
	if (err != XSELL_OK) {
		return err;
	}
	*pp   = r->buf + start;
	*lenp = r->pos - start;
	return XSELL_OK;
}
