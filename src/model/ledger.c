/* SPDX-License-Identifier: MIT */
/* Ledger entries: what one event of a user added to the counts, beyond
 * what the store can re-derive (an order's basket pairs follow from its
 * stored items). Forgetting the user replays the entries with the sign
 * flipped. An entry is a run of host-order u32 words, so that a copy in
 * malloc'd memory can be read in place:
 *
 *   kind, a, b, n1, n2, n3, ext_len, ext (padded to 4), w1[n1], w2[n2],
 *   w3[n3]
 *
 *   order: ext is the order id; w1 the rebuys as (item, days) pairs (n1
 *          is twice their number); w2 the viewed items and w3 the ordered
 *          items paired by view_buy
 *   view:  a the item, b the day; w1 its session partners
 *   cart:  a the item; w1 its cart partners */
#include "model/model_impl.h"

#include <string.h>

#define HEADER_WORDS 7u

static xsell_err
put_words(struct xs_buf *out, const uint32_t *w, size_t n)
{
	return n == 0 ? XSELL_OK : xs_buf_append(out, w, n * sizeof(*w));
}

xsell_err
xs_ledger_encode(const struct xs_ledger_entry *e, struct xs_buf *out)
{
	static const char zeros[4] = { 0 };
	uint32_t          head[HEADER_WORDS];
	xsell_err         err;

	head[0] = e->kind;
	head[1] = e->a;
	head[2] = e->b;
	head[3] = e->n1;
	head[4] = e->n2;
	head[5] = e->n3;
	head[6] = e->ext.len;
	xs_buf_reset(out);
	err = put_words(out, head, HEADER_WORDS);
	if (err == XSELL_OK && e->ext.len != 0) {
		err = xs_buf_append(out, e->ext.p, e->ext.len);
	}
	if (err == XSELL_OK && e->ext.len % 4 != 0) {
		err = xs_buf_append(out, zeros, 4 - e->ext.len % 4);
	}
	if (err == XSELL_OK) {
		err = put_words(out, e->w1, e->n1);
	}
	if (err == XSELL_OK) {
		err = put_words(out, e->w2, e->n2);
	}
	if (err == XSELL_OK) {
		err = put_words(out, e->w3, e->n3);
	}
	return err;
}

xsell_err
xs_ledger_decode(const uint32_t *words, size_t len, struct xs_ledger_entry *e)
{
	size_t ext_words, total;

	if (len % 4 != 0 || len < HEADER_WORDS * 4) {
		return XSELL_ECORRUPT;
	}
	e->kind    = words[0];
	e->a       = words[1];
	e->b       = words[2];
	e->n1      = words[3];
	e->n2      = words[4];
	e->n3      = words[5];
	e->ext.len = words[6];
	ext_words  = ((size_t) e->ext.len + 3) / 4;
	total      = HEADER_WORDS + ext_words + (size_t) e->n1 + e->n2 + e->n3;
	if (e->ext.len > XSELL_ID_MAX || total * 4 != len) {
		return XSELL_ECORRUPT;
	}
	e->ext.p = (const char *) (words + HEADER_WORDS);
	e->w1    = words + HEADER_WORDS + ext_words;
	e->w2    = e->w1 + e->n1;
	e->w3    = e->w2 + e->n2;
	return XSELL_OK;
}
