/* SPDX-License-Identifier: MIT */
/* A canonical dump of every database: one line per record, key and value
 * in hex, databases in a fixed order. Two stores built from the same
 * events in the same order dump to the same bytes, so the commit stamp
 * (snapshot.c) and the families' stamps (epochs.c), which count
 * transactions, not contents, are left out. */
#include "store/store_impl.h"

#include <stdio.h>
#include <string.h>

static xsell_err
dump_hex(struct xs_buf *out, const MDB_val *v)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *p     = v->mv_data;
	xsell_err            err   = XSELL_OK;

	for (size_t i = 0; i < v->mv_size && err == XSELL_OK; i++) {
		char two[2] = { hex[p[i] >> 4], hex[p[i] & 15] };
		err         = xs_buf_append(out, two, 2);
	}
	return err;
}

/* Whether k is the key 'name'. */
static bool
key_is(const MDB_val *k, const char *name)
{
	return k->mv_size == strlen(name) &&
	    memcmp(k->mv_data, name, k->mv_size) == 0;
}

/* Whether k is a key of meta that names commits (skip: true). */
static bool
key_counts_commits(const MDB_val *k, bool skip)
{
	return skip &&
	    (key_is(k, XS_META_COMMIT_KEY) || key_is(k, XS_META_EPOCHS_KEY));
}

/* Database dbi's records, but those naming commits if 'skip'. */
static xsell_err
dump_db(
    MDB_txn *txn, MDB_dbi dbi, const char *name, bool skip, struct xs_buf *out)
{
	MDB_cursor *cur;
	MDB_val     k, v;
	xsell_err   err;
	int         rc;

	err = xs_buf_printf(out, "[%s]\n", name);
	if (err != XSELL_OK) {
		return err;
	}
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && err == XSELL_OK) {
		if (key_counts_commits(&k, skip)) {
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		err = dump_hex(out, &k);
		if (err == XSELL_OK) {
			err = xs_buf_append(out, " ", 1);
		}
		if (err == XSELL_OK) {
			err = dump_hex(out, &v);
		}
		if (err == XSELL_OK) {
			err = xs_buf_append(out, "\n", 1);
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (err != XSELL_OK) {
		return err;
	}
	return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
}

xsell_err
xs_store_dump(xs_store *st, struct xs_buf *out)
{
	static const char *const dict_names[XS_DICT_COUNT] = { "item", "user",
		"cat" };
	const struct {
		const char *name;
		MDB_dbi     dbi;
	} dbs[] = {
		{ "meta", st->meta },
		{ "order", st->order },
		{ "batch", st->batch },
		{ "item", st->item },
		{ "counts", st->counts },
		{ "pair", st->pair },
		{ "top", st->top },
		{ "bought", st->bought },
		{ "history", st->history },
		{ "cart", st->cart },
		{ "ledger", st->ledger },
	};
	MDB_txn  *txn;
	xsell_err err;

	err = xs_txn_read(st, &txn);
	if (err != XSELL_OK) {
		return err;
	}
	for (int d = 0; d < XS_DICT_COUNT && err == XSELL_OK; d++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_id", dict_names[d]);
		err = dump_db(txn, st->dict_id[d], name, false, out);
		if (err == XSELL_OK) {
			snprintf(name, sizeof(name), "%s_ext", dict_names[d]);
			err = dump_db(txn, st->dict_ext[d], name, false, out);
		}
	}
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		if (err == XSELL_OK) {
			err = dump_db(txn, dbs[i].dbi, dbs[i].name,
			    dbs[i].dbi == st->meta, out);
		}
	}
	xs_txn_abort(txn);
	return err;
}
