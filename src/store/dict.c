/* SPDX-License-Identifier: MIT */
/* Dictionaries: external string ids <-> dense u32 numbers, handed out
 * from 1 in order of first appearance (so the write path stays a pure
 * function of the event stream). The next number is one past the last
 * key of the reverse database. */
#include "store/store_impl.h"

#include <string.h>

xsell_err
xs_store_id_get(xs_store *st, MDB_txn *txn, enum xs_dict d, const char *ext,
    size_t len, uint32_t *idp)
{
	MDB_val k = xs_key_span(ext, len);
	MDB_val v;
	int     rc;

	if (len == 0 || len > XSELL_ID_MAX) {
		return XSELL_EINVAL;
	}
	rc = mdb_get(txn, st->dict_id[d], &k, &v);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (v.mv_size != 4) {
		return XSELL_ECORRUPT;
	}
	*idp = xs_be32_get(v.mv_data);
	return XSELL_OK;
}

xsell_err
xs_store_dict_count(xs_store *st, MDB_txn *txn, enum xs_dict d, uint32_t *np)
{
	MDB_stat ms;
	int      rc = mdb_stat(txn, st->dict_id[d], &ms);

	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	*np =
	    ms.ms_entries > UINT32_MAX ? UINT32_MAX : (uint32_t) ms.ms_entries;
	return XSELL_OK;
}

xsell_err
xs_store_dict_size(xs_store *st, MDB_txn *txn, enum xs_dict d, uint32_t *np)
{
	MDB_cursor *cur;
	MDB_val     k, v;
	int         rc;

	rc = mdb_cursor_open(txn, st->dict_ext[d], &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND) {
		*np = 0;
		return XSELL_OK;
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	if (k.mv_size != 4) {
		return XSELL_ECORRUPT;
	}
	*np = xs_be32_get(k.mv_data);
	return XSELL_OK;
}

xsell_err
xs_store_id_put(xs_store *st, MDB_txn *txn, enum xs_dict d, const char *ext,
    size_t len, uint32_t *idp, bool *createdp)
{
	unsigned char idbuf[4];
	MDB_val       k, v;
	uint32_t      id = 0;
	xsell_err     err;
	int           rc;

	err = xs_store_id_get(st, txn, d, ext, len, &id);
	if (err == XSELL_OK) {
		*idp = id;
		if (createdp != NULL) {
			*createdp = false;
		}
		return XSELL_OK;
	}
	if (err != XSELL_ENOENT) {
		return err;
	}
	err = xs_store_dict_size(st, txn, d, &id);
	if (err != XSELL_OK) {
		return err;
	}
	if (id == UINT32_MAX) {
		return XSELL_ETOOBIG;
	}
	id++;
	k  = xs_key_span(ext, len);
	v  = xs_key_u32(idbuf, id);
	rc = mdb_put(txn, st->dict_id[d], &k, &v, MDB_NOOVERWRITE);
	if (rc == 0) {
		/* Append: ids grow, so the reverse map is written in order. */
		rc = mdb_put(txn, st->dict_ext[d], &v, &k, MDB_APPEND);
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	*idp = id;
	if (createdp != NULL) {
		*createdp = true;
	}
	return XSELL_OK;
}

xsell_err
xs_store_ext_get(xs_store *st, MDB_txn *txn, enum xs_dict d, uint32_t id,
    const char **extp, size_t *lenp)
{
	unsigned char idbuf[4];
	MDB_val       k = xs_key_u32(idbuf, id);
	MDB_val       v;
	int           rc;
	bool          item = d == XS_DICT_ITEM;

	if (item && xs_item_cache_ext(&st->item_cache, id, extp, lenp)) {
		return XSELL_OK;
	}
	rc = mdb_get(txn, st->dict_ext[d], &k, &v);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	*extp = v.mv_data;
	*lenp = v.mv_size;
	/* Items keep their ids (only users' are deleted), once committed. */
	if (item && xs_store_snapshot_id(st, txn) != 0) {
		*extp = xs_item_cache_put_ext(
		    &st->item_cache, id, v.mv_data, v.mv_size);
	}
	return XSELL_OK;
}

xsell_err
xs_store_id_del(xs_store *st, MDB_txn *txn, enum xs_dict d, uint32_t id)
{
	unsigned char idbuf[4];
	MDB_val       k = xs_key_u32(idbuf, id);
	MDB_val       ext;
	int           rc;

	rc = mdb_get(txn, st->dict_ext[d], &k, &ext);
	if (rc == MDB_NOTFOUND) {
		return XSELL_OK;
	}
	if (rc == 0) {
		rc = mdb_del(txn, st->dict_id[d], &ext, NULL);
	}
	if (rc == 0 || rc == MDB_NOTFOUND) {
		rc = mdb_del(txn, st->dict_ext[d], &k, NULL);
	}
	return xs_err_from_mdb(rc);
}
