/* SPDX-License-Identifier: MIT */
/* Precomputed complements lists: for each item a, the best second-level
 * items of complements' walk from a alone (model/complements.c), with
 * their walk scores before momentum, so that an answer reads one value
 * instead of walking ~100,000 paths.
 *
 * Key: u32 a, big-endian; value: a stamp (the format version, when and
 * at which state of the store the list was computed, with which walk
 * parameters, and the score that bounds every item left out), the
 * entries, best first, and then the skips (u32 items, ascending: items
 * the list's maker looked at and found unreachable or left out), each in
 * host byte order (the file never
 * leaves the machine that wrote it, as LMDB's own pages don't). The
 * sub-database is optional: a store written before it existed has no
 * lists, and every answer walks. A value of another format version reads
 * as no list, so a change of layout needs no migration: the lists are
 * recomputed. */
#include "store/store_impl.h"

#include <string.h>

#define COMP_FORMAT 1u

/* The value's header: the stamp and the entry count, in host order. */
struct comp_head {
	uint32_t             format; /* COMP_FORMAT */
	uint32_t             n;
	uint32_t             n_skip;
	uint32_t             reserved; /* 0 */
	struct xs_comp_stamp stamp;
};

int
xs_store_comp_open(xs_store *st, MDB_txn *txn)
{
	int rc = mdb_dbi_open(
	    txn, "comp", st->read_only ? 0 : MDB_CREATE, &st->comp);

	if (rc == MDB_NOTFOUND && st->read_only) {
		st->comp = 0; /* an older store: no lists */
		return 0;
	}
	return rc;
}

bool
xs_store_comp_has(const xs_store *st)
{
	return st->comp != 0;
}

/* Read the header of a value; false if it is not of this format or its
 * length does not match its count. */
static bool
comp_head_read(const void *data, size_t len, struct comp_head *h)
{
	if (len < sizeof(*h)) {
		return false;
	}
	memcpy(h, data, sizeof(*h));
	return h->format == COMP_FORMAT && h->n <= XS_COMP_LIST_MAX &&
	    h->n_skip <= XS_COMP_LIST_MAX &&
	    len == xs_comp_list_size(h->n, h->n_skip);
}

size_t
xs_comp_list_size(uint32_t n, uint32_t n_skip)
{
	return sizeof(struct comp_head) +
	    (size_t) n * sizeof(struct xs_comp_entry) +
	    (size_t) n_skip * sizeof(uint32_t);
}

void
xs_comp_list_write(void *buf, const struct xs_comp_stamp *stamp,
    const struct xs_comp_entry *v, uint32_t n, const uint32_t *skips,
    uint32_t n_skip)
{
	unsigned char   *p = buf;
	struct comp_head h;

	memset(&h, 0, sizeof(h));
	h.format = COMP_FORMAT;
	h.n      = n;
	h.n_skip = n_skip;
	h.stamp  = *stamp;
	memcpy(p, &h, sizeof(h));
	if (n != 0) {
		memcpy(p + sizeof(h), v, (size_t) n * sizeof(*v));
	}
	if (n_skip != 0) {
		memcpy(p + sizeof(h) + (size_t) n * sizeof(*v), skips,
		    (size_t) n_skip * sizeof(*skips));
	}
}

xsell_err
xs_comp_list_read(const void *data, size_t len, struct xs_comp_list *out)
{
	struct comp_head h;

	if (!comp_head_read(data, len, &h)) {
		return XSELL_ENOENT; /* another format: as if none */
	}
	out->stamp  = h.stamp;
	out->n      = h.n;
	out->n_skip = h.n_skip;
	out->bytes  = (const unsigned char *) data + sizeof(h);
	out->skips  = out->bytes + (size_t) h.n * sizeof(struct xs_comp_entry);
	return XSELL_OK;
}

xsell_err
xs_store_comp_get(
    xs_store *st, MDB_txn *txn, uint32_t a, struct xs_comp_list *out)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, a);
	MDB_val       v;
	int           rc;

	if (st->comp == 0) {
		return XSELL_ENOENT;
	}
	rc = mdb_get(txn, st->comp, &k, &v);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	return xs_comp_list_read(v.mv_data, v.mv_size, out);
}

void
xs_comp_list_entry(
    const struct xs_comp_list *l, uint32_t i, struct xs_comp_entry *out)
{
	memcpy(out, l->bytes + (size_t) i * sizeof(*out), sizeof(*out));
}

bool
xs_comp_list_skips(const struct xs_comp_list *l, uint32_t item)
{
	uint32_t lo = 0, hi = l->n_skip;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, x;

		memcpy(&x, l->skips + (size_t) mid * sizeof(x), sizeof(x));
		if (x == item) {
			return true;
		}
		if (x < item) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return false;
}

xsell_err
xs_store_comp_put(xs_store *st, MDB_txn *txn, uint32_t a,
    const struct xs_comp_stamp *stamp, const struct xs_comp_entry *v,
    uint32_t n, const uint32_t *skips, uint32_t n_skip)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, a);
	MDB_val       val;
	int           rc;

	if (st->comp == 0) {
		return XSELL_EINVAL; /* read-only store of an older layout */
	}
	if (n > XS_COMP_LIST_MAX || n_skip > XS_COMP_LIST_MAX) {
		return XSELL_ETOOBIG;
	}
	val.mv_size = xs_comp_list_size(n, n_skip);
	val.mv_data = NULL;
	rc          = mdb_put(txn, st->comp, &k, &val, MDB_RESERVE);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	xs_comp_list_write(val.mv_data, stamp, v, n, skips, n_skip);
	return XSELL_OK;
}
