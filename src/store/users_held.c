/* SPDX-License-Identifier: MIT */
/* One user's bought, cart and history records held in memory while a
 * fresh build applies that user's orders (the by-user walk applies each
 * user's orders one after another). Put one by one, every order line
 * searches the user's duplicates in two or three B-trees and grows them
 * in place: over a quarter of the loader's main thread on Online
 * Retail. Held, they are sorted arrays of the same 16-byte records, and
 * each set goes to the store in one MDB_MULTIPLE put when another
 * user's records are asked for, or at xs_store_users_held_write. The
 * store is the same: the arrays keep LMDB's order (memcmp of the
 * records) and users.c applies the same rules to them. */
#include "store/store_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct xs_users_held {
	bool                has_user;
	uint32_t            user;
	struct xs_user_recs set[XS_USER_SETS];
};

static MDB_dbi
set_dbi(const xs_store *st, enum xs_user_set which)
{
	switch (which) {
	case XS_USER_BOUGHT:
		return st->bought;
	case XS_USER_CART:
		return st->cart;
	case XS_USER_HISTORY:
	case XS_USER_SETS:
		break;
	}
	return st->history;
}

size_t
xs_user_recs_lower_bound(
    const struct xs_user_recs *s, const unsigned char rec[XS_USER_REC_LEN])
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(xs_user_recs_at(s, mid), rec, XS_USER_REC_LEN) <
		    0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

xsell_err
xs_user_recs_insert(
    struct xs_user_recs *s, size_t i, const unsigned char rec[XS_USER_REC_LEN])
{
	if (s->n == s->room) {
		size_t         room = s->room != 0 ? s->room * 2 : 64;
		unsigned char *v;

		if (room > SIZE_MAX / XS_USER_REC_LEN) {
			return XSELL_ENOMEM;
		}
		v = realloc(s->v, room * XS_USER_REC_LEN);
		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		s->v    = v;
		s->room = room;
	}
	memmove(s->v + (i + 1) * XS_USER_REC_LEN, s->v + i * XS_USER_REC_LEN,
	    (s->n - i) * XS_USER_REC_LEN);
	memcpy(s->v + i * XS_USER_REC_LEN, rec, XS_USER_REC_LEN);
	s->n++;
	return XSELL_OK;
}

void
xs_user_recs_remove(struct xs_user_recs *s, size_t i)
{
	memmove(s->v + i * XS_USER_REC_LEN, s->v + (i + 1) * XS_USER_REC_LEN,
	    (s->n - i - 1) * XS_USER_REC_LEN);
	s->n--;
}

/* Read the user's stored duplicates of one set into s (emptied first). */
static int
set_load(MDB_txn *txn, MDB_dbi dbi, uint32_t user, struct xs_user_recs *s)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v;
	MDB_cursor   *cur;
	int           rc;

	s->n      = 0;
	s->stored = false;
	rc        = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0) {
		return rc;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST_DUP);
	}
	while (rc == 0) {
		if (v.mv_size != XS_USER_REC_LEN) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (xs_user_recs_insert(s, s->n, v.mv_data) != XSELL_OK) {
			rc = ENOMEM;
			break;
		}
		s->stored = true;
		rc        = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Write s as the user's duplicates of one set, in place of any stored:
 * appended when the user's key is past the last (a fresh build's users
 * come in ascending order), else put where it belongs. */
static int
set_write(MDB_txn *txn, MDB_dbi dbi, uint32_t user, struct xs_user_recs *s)
{
	unsigned char kb[4];
	MDB_val       k = xs_key_u32(kb, user);
	MDB_val       v[2];
	MDB_cursor   *cur;
	int           rc = 0;

	if (s->stored) {
		rc = mdb_del(txn, dbi, &k, NULL);
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (rc != 0 || s->n == 0) {
		return rc;
	}
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0) {
		return rc;
	}
	v[0].mv_data = s->v;
	v[0].mv_size = XS_USER_REC_LEN;
	v[1].mv_data = NULL;
	v[1].mv_size = s->n;
	rc           = mdb_cursor_put(
	              cur, &k, v, MDB_APPEND | MDB_APPENDDUP | MDB_MULTIPLE);
	if (rc == MDB_KEYEXIST) {
		v[1].mv_size = s->n;
		rc           = mdb_cursor_put(cur, &k, v, MDB_MULTIPLE);
	}
	if (rc == 0 && v[1].mv_size != s->n) {
		rc = MDB_CORRUPTED; /* LMDB stopped short */
	}
	mdb_cursor_close(cur);
	return rc;
}

/* Write the held user's sets; none held: nothing to do. */
static xsell_err
held_write(xs_store *st, MDB_txn *txn)
{
	struct xs_users_held *h  = st->users_held;
	int                   rc = 0;

	if (!h->has_user) {
		return XSELL_OK;
	}
	for (int i = 0; i < XS_USER_SETS && rc == 0; i++) {
		rc = set_write(txn, set_dbi(st, (enum xs_user_set) i), h->user,
		    &h->set[i]);
	}
	h->has_user = false;
	return xs_err_from_mdb(rc);
}

xsell_err
xs_users_held_set(xs_store *st, MDB_txn *txn, uint32_t user,
    enum xs_user_set which, struct xs_user_recs **setp)
{
	struct xs_users_held *h = st->users_held;
	xsell_err             err;
	int                   rc = 0;

	*setp = NULL;
	if (h == NULL) {
		return XSELL_OK;
	}
	if (!h->has_user || h->user != user) {
		if ((err = held_write(st, txn)) != XSELL_OK) {
			return err;
		}
		for (int i = 0; i < XS_USER_SETS && rc == 0; i++) {
			rc = set_load(txn, set_dbi(st, (enum xs_user_set) i),
			    user, &h->set[i]);
		}
		if (rc != 0) {
			return xs_err_from_mdb(rc);
		}
		h->has_user = true;
		h->user     = user;
	}
	*setp = &h->set[which];
	return XSELL_OK;
}

xsell_err
xs_users_held_release(xs_store *st, MDB_txn *txn)
{
	return st->users_held != NULL ? held_write(st, txn) : XSELL_OK;
}

xsell_err
xs_store_users_hold(xs_store *st)
{
	if (st->read_only || st->users_held != NULL) {
		return XSELL_EINVAL;
	}
	st->users_held = calloc(1, sizeof(*st->users_held));
	return st->users_held != NULL ? XSELL_OK : XSELL_ENOMEM;
}

xsell_err
xs_store_users_held_write(xs_store *st, MDB_txn *txn)
{
	xsell_err err;

	if (st->users_held == NULL) {
		return XSELL_EINVAL;
	}
	err = held_write(st, txn);
	xs_store_users_held_drop(st);
	return err;
}

void
xs_store_users_held_drop(xs_store *st)
{
	struct xs_users_held *h = st->users_held;

	if (h == NULL) {
		return;
	}
	for (int i = 0; i < XS_USER_SETS; i++) {
		free(h->set[i].v);
	}
	free(h);
	st->users_held = NULL;
}
