/* SPDX-License-Identifier: MIT */
/* Bounded growable buffer (curl's dynbuf idea: every buffer has a cap). */
#include "common/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
xs_buf_init(struct xs_buf *b, size_t max_len)
{
	b->data    = NULL;
	b->len     = 0;
	b->cap     = 0;
	b->max_len = max_len;
}

void
xs_buf_fini(struct xs_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len  = 0;
	b->cap  = 0;
}

void
xs_buf_reset(struct xs_buf *b)
{
	b->len = 0;
}

xsell_err
xs_buf_reserve(struct xs_buf *b, size_t extra)
{
	size_t need;
	size_t cap;
	char  *p;

	if (extra > b->max_len || b->len > b->max_len - extra) {
		return XSELL_ETOOBIG;
	}
	need = b->len + extra;
	if (need <= b->cap) {
		return XSELL_OK;
	}
	cap = b->cap ? b->cap : 256;
	while (cap < need) {
		cap *= 2;
	}
	if (cap > b->max_len) {
		cap = b->max_len;
	}
	p = realloc(b->data, cap + 1); /* +1: room for a NUL after printf */
	if (p == NULL) {
		return XSELL_ENOMEM;
	}
	b->data = p;
	b->cap  = cap;
	return XSELL_OK;
}

xsell_err
xs_buf_append(struct xs_buf *b, const void *p, size_t len)
{
	xsell_err err;

	if (len == 0) {
		return XSELL_OK;
	}
	err = xs_buf_reserve(b, len);
	if (err != XSELL_OK) {
		return err;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return XSELL_OK;
}

xsell_err
xs_buf_printf(struct xs_buf *b, const char *fmt, ...)
{
	va_list   ap;
	int       n;
	xsell_err err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return XSELL_EINTERNAL;
	}
	err = xs_buf_reserve(b, (size_t) n);
	if (err != XSELL_OK) {
		return err;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
	return XSELL_OK;
}
