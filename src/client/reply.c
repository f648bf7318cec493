/* SPDX-License-Identifier: MIT */
/* Reading replies: a bounded msgpack walk before msgpack-c unpacks, then
 * map lookups and the ok/error check.
 *
 * msgpack-c's unpacker reserves memory for whatever count a header claims
 * and reports a truncated buffer as "continue", not as an error. The walk
 * below checks every declared length against the bytes that remain (each
 * element takes at least one byte) and the nesting against
 * XSELL_CLIENT_DEPTH_MAX, so a hostile or broken server costs at most the
 * reply's size. */
#include <xsell/client.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

/* ==== Bounded walk ==== */

static uint64_t
be_read(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* What one type byte announces: 'hdr' more header bytes, then either
 * 'skip' payload bytes (from the header if 'len_bytes' > 0) or a container
 * of 'elems' elements (per header unit; maps have 2 per entry). */
struct mp_head {
	size_t   hdr;       /* header bytes after the type byte */
	size_t   len_bytes; /* bytes of the big-endian length in the header */
	uint64_t skip;      /* fixed payload bytes after the header */
	int      elems;     /* 0: scalar; 1: array; 2: map */
	uint64_t count;     /* entries of a fix container */
};

/* Decode a type byte; false for 0xc1, which msgpack never uses. */
static bool
mp_head_of(unsigned char b, struct mp_head *h)
{
	memset(h, 0, sizeof(*h));
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
		return true; /* fixint, nil, bool */
	}
	if (b >= 0x80 && b <= 0x8f) {
		h->elems = 2;
		h->count = b & 0x0f;
		return true;
	}
	if (b >= 0x90 && b <= 0x9f) {
		h->elems = 1;
		h->count = b & 0x0f;
		return true;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		h->skip = b & 0x1f;
		return true;
	}
	switch (b) {
	case 0xc4: /* bin 8, 16, 32 */
	case 0xd9: /* str 8, 16, 32 */
		h->len_bytes = 1;
		break;
	case 0xc5:
	case 0xda:
		h->len_bytes = 2;
		break;
	case 0xc6:
	case 0xdb:
		h->len_bytes = 4;
		break;
	case 0xc7: /* ext 8, 16, 32: length, then a type byte */
		h->len_bytes = 1;
		h->skip      = 1;
		break;
	case 0xc8:
		h->len_bytes = 2;
		h->skip      = 1;
		break;
	case 0xc9:
		h->len_bytes = 4;
		h->skip      = 1;
		break;
	case 0xca: /* float 32, 64 */
		h->skip = 4;
		break;
	case 0xcb:
		h->skip = 8;
		break;
	case 0xcc: /* uint, int 8..64 */
	case 0xd0:
		h->skip = 1;
		break;
	case 0xcd:
	case 0xd1:
		h->skip = 2;
		break;
	case 0xce:
	case 0xd2:
		h->skip = 4;
		break;
	case 0xcf:
	case 0xd3:
		h->skip = 8;
		break;
	case 0xd4: /* fixext 1..16: type byte, then data */
		h->skip = 2;
		break;
	case 0xd5:
		h->skip = 3;
		break;
	case 0xd6:
		h->skip = 5;
		break;
	case 0xd7:
		h->skip = 9;
		break;
	case 0xd8:
		h->skip = 17;
		break;
	case 0xdc: /* array 16, 32 */
		h->elems     = 1;
		h->len_bytes = 2;
		break;
	case 0xdd:
		h->elems     = 1;
		h->len_bytes = 4;
		break;
	case 0xde: /* map 16, 32 */
		h->elems     = 2;
		h->len_bytes = 2;
		break;
	case 0xdf:
		h->elems     = 2;
		h->len_bytes = 4;
		break;
	default:
		return false; /* 0xc1 */
	}
	return true;
}

/* Walk one value at p[0..len); stores its size in *usedp. XSELL_EIO if it
 * is truncated, malformed or nested deeper than XSELL_CLIENT_DEPTH_MAX. */
static xsell_err
mp_check(const unsigned char *p, size_t len, size_t *usedp)
{
	uint64_t left[XSELL_CLIENT_DEPTH_MAX + 1]; /* elements still due */
	int      top = 0;
	size_t   pos = 0;

	left[0] = 1;
	while (top >= 0) {
		struct mp_head h;
		uint64_t       n;

		if (left[top] == 0) {
			top--;
			continue;
		}
		left[top]--;
		if (pos >= len || !mp_head_of(p[pos], &h)) {
			return XSELL_EIO;
		}
		pos++;
		n = h.elems != 0 ? h.count : h.skip;
		if (h.len_bytes > 0) {
			if (h.len_bytes > len - pos) {
				return XSELL_EIO;
			}
			n = be_read(p + pos, h.len_bytes);
			if (h.elems == 0) {
				n += h.skip; /* ext: the type byte */
			}
			pos += h.len_bytes;
		}
		if (h.elems == 0) {
			if (n > len - pos) {
				return XSELL_EIO;
			}
			pos += (size_t) n;
			continue;
		}
		/* Every element takes at least one byte. */
		n *= (uint64_t) h.elems;
		if (n > len - pos || top + 1 > XSELL_CLIENT_DEPTH_MAX) {
			return XSELL_EIO;
		}
		left[++top] = n;
	}
	*usedp = pos;
	return XSELL_OK;
}

/* ==== Replies ==== */

xsell_err
xsell_reply_unpack(const void *buf, size_t len, struct msgpack_unpacked *up)
{
	msgpack_unpack_return ret;
	char                 *copy;
	size_t                used = 0;
	size_t                off  = 0;
	xsell_err             err;

	if (buf == NULL || up == NULL) {
		return XSELL_EINVAL;
	}
	err = mp_check(buf, len, &used);
	if (err != XSELL_OK) {
		return err;
	}
	if (used != len) {
		return XSELL_EIO; /* trailing bytes: not one reply */
	}
	/* msgpack_unpack_next() leaves str, bin and ext values pointing
	 * into the bytes it was given, so it gets a copy that the zone
	 * frees with everything else: 'buf' may then go at once. */
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL) {
		return XSELL_ENOMEM;
	}
	memcpy(copy, buf, len);
	ret = msgpack_unpack_next(up, copy, len, &off);
	if (ret != MSGPACK_UNPACK_SUCCESS || up->zone == NULL) {
		free(copy);
		return ret == MSGPACK_UNPACK_NOMEM_ERROR ? XSELL_ENOMEM
		                                         : XSELL_EIO;
	}
	if (!msgpack_zone_push_finalizer(up->zone, free, copy)) {
		free(copy);
		msgpack_unpacked_destroy(up);
		msgpack_unpacked_init(up);
		return XSELL_ENOMEM;
	}
	if (off != len || up->data.type != MSGPACK_OBJECT_MAP) {
		return XSELL_EIO;
	}
	return XSELL_OK;
}

const struct msgpack_object *
xsell_reply_get(const struct msgpack_object *map, const char *key)
{
	size_t klen;

	if (map == NULL || key == NULL || map->type != MSGPACK_OBJECT_MAP) {
		return NULL;
	}
	klen = strlen(key);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == klen &&
		    memcmp(kv->key.via.str.ptr, key, klen) == 0) {
			return &kv->val;
		}
	}
	return NULL;
}

bool
xsell_reply_number(const struct msgpack_object *o, double *out)
{
	if (o == NULL) {
		return false;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*out = (double) o->via.u64;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = (double) o->via.i64;
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*out = o->via.f64;
		return true;
	default:
		return false;
	}
}

/* The string of 'o', or "" if it is missing or not a string. */
static void
str_view(const msgpack_object *o, const char **p, size_t *len)
{
	if (o != NULL && o->type == MSGPACK_OBJECT_STR) {
		*p   = o->via.str.ptr;
		*len = o->via.str.size;
	} else {
		*p   = "";
		*len = 0;
	}
}

xsell_err
xsell_reply_status(
    const struct msgpack_object *reply, struct xsell_reply_error *e)
{
	const msgpack_object *ok = xsell_reply_get(reply, "ok");
	const msgpack_object *error;
	const char           *code;
	size_t                code_len;
	xsell_err             err;

	if (ok == NULL || ok->type != MSGPACK_OBJECT_BOOLEAN) {
		return XSELL_EIO;
	}
	if (ok->via.boolean) {
		return XSELL_OK;
	}
	error = xsell_reply_get(reply, "error");
	str_view(xsell_reply_get(error, "code"), &code, &code_len);
	err = xsell_client_err_from_wire(code, code_len);
	if (err == XSELL_OK) {
		/* "ok":false with code "ok" is still a failure. */
		err = XSELL_EINTERNAL;
	}
	if (e != NULL) {
		e->code     = code;
		e->code_len = code_len;
		str_view(xsell_reply_get(error, "message"), &e->message,
		    &e->message_len);
	}
	return err;
}
