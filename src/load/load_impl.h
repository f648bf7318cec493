/* SPDX-License-Identifier: MIT */
/* Shared by the files of src/load only: the string interner. */
#ifndef XSELL_LOAD_LOAD_IMPL_H
#define XSELL_LOAD_LOAD_IMPL_H

#include "load/load.h"

/* Distinct strings, each stored once, numbered 0, 1, 2... in order of
 * first appearance. Bytes live in one growing buffer and are named by
 * offset, so a span is only taken (xs_intern_get) once the table stops
 * growing or until the next put. */
struct xs_intern_str {
	uint64_t off;  /* into bytes */
	uint32_t len;  /* bytes */
	uint32_t hash; /* low bits of the 64-bit hash */
};

struct xs_intern {
	struct xs_intern_str *strs;  /* by number */
	uint32_t              n;     /* strings */
	uint32_t              cap;   /* of strs */
	uint32_t             *slots; /* number + 1, 0: empty */
	size_t                mask;  /* slots - 1, power of two minus 1 */
	char                 *bytes;
	uint64_t              bytes_len, bytes_cap;
	uint32_t              last; /* the number put last (if n != 0) */
};

void xs_intern_init(struct xs_intern *in);
void xs_intern_fini(struct xs_intern *in);
/* The number of p[0..len), adding it if new. XSELL_ENOMEM. */
xsell_err xs_intern_put(
    struct xs_intern *in, const char *p, size_t len, uint32_t *idp);
/* The span of string 'id'; borrowed until the next put. */
struct xs_span xs_intern_get(const struct xs_intern *in, uint32_t id);
/* Whether p[0..len) was put, without putting it. */
bool xs_intern_has(const struct xs_intern *in, const char *p, size_t len);

#endif /* XSELL_LOAD_LOAD_IMPL_H */
