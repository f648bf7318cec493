/* SPDX-License-Identifier: MIT */
/* Item metadata upserts: fields left out keep their value; a change of
 * stock is stamped with the time it was told (back-in-stock needs it). */
#include "model/model.h"

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
