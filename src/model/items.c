/* SPDX-License-Identifier: MIT */
/* Item metadata upserts: fields left out keep their value; a change of
 * stock is stamped with the time it was told (back-in-stock needs it);
 * the creation day is indexed (new arrivals read it by day). */
#include "model/model_impl.h"

/* Move 'item' from the day list of 'old' (if it had one) to 'created'. */
static xsell_err
created_index(xs_store *st, MDB_txn *txn, uint32_t item,
    const struct xs_item_meta *old, int64_t created)
{
	struct xs_pair_delta d;
	xsell_err            err = XSELL_OK;

	if (old->flags & XS_META_HAS_CREATED) {
		if (xs_day_of(old->created) == xs_day_of(created)) {
			return XSELL_OK;
		}
		d   = (struct xs_pair_delta) { xs_day_of(old->created), item,
			  -1 };
		err = xs_store_pairs_add(st, txn, XS_REL_CREATED, &d, 1);
	}
	if (err == XSELL_OK) {
		d   = (struct xs_pair_delta) { xs_day_of(created), item, 1 };
		err = xs_store_pairs_add(st, txn, XS_REL_CREATED, &d, 1);
	}
	return err;
}

static xsell_err
item_upsert(
    xs_store *st, MDB_txn *txn, const struct xs_item_update *up, int64_t now)
{
	struct xs_item_meta m;
	uint32_t            item;
	xsell_err           err;

	err = xs_store_id_put(
	    st, txn, XS_DICT_ITEM, up->item.p, up->item.len, &item, NULL);
	if (err != XSELL_OK) {
		return err;
	}
	err = xs_store_meta_get(st, txn, item, &m);
	if (err != XSELL_OK && err != XSELL_ENOENT) {
		return err;
	}
	if (up->category.len != 0) {
		err = xs_store_id_put(st, txn, XS_DICT_CAT, up->category.p,
		    up->category.len, &m.category, NULL);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (up->has_price) {
		m.price = up->price;
		m.flags |= XS_META_HAS_PRICE;
	}
	if (up->has_created) {
		err = created_index(st, txn, item, &m, up->created);
		if (err != XSELL_OK) {
			return err;
		}
		m.created = up->created;
		m.flags |= XS_META_HAS_CREATED;
	}
	if (up->has_in_stock) {
		uint32_t in_stock = up->in_stock ? 1 : 0;

		if (!(m.flags & XS_META_HAS_STOCK) || m.in_stock != in_stock) {
			m.stock_ts = now;
		}
		m.in_stock = in_stock;
		m.flags |= XS_META_HAS_STOCK;
	}
	return xs_store_meta_put(st, txn, item, &m);
}

xsell_err
xs_model_items_upsert(xs_store *st, MDB_txn *txn,
    const struct xs_item_update *ups, size_t n, int64_t now)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		err = item_upsert(st, txn, &ups[i], now);
	}
	return err;
}
