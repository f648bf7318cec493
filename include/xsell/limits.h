/* SPDX-License-Identifier: MIT */
/* Every size limit of xsell, in one place.
 *
 * proto/PROTOCOL.md quotes these numbers; the decoder checks each one
 * before it allocates anything for the thing being limited. A request over
 * a limit gets the wire error "too_large". */
#ifndef XSELL_LIMITS_H
#define XSELL_LIMITS_H

/* Bytes of an external id (item, user, order, batch), UTF-8. */
#define XSELL_ID_MAX 256
/* Bytes of a category name. */
#define XSELL_CATEGORY_MAX 256

/* Largest request accepted on a read (--listen) endpoint. */
#define XSELL_READ_MSG_MAX (64u * 1024u)
/* Largest request accepted on an admin endpoint (event/items batches). */
#define XSELL_ADMIN_MSG_MAX (16u * 1024u * 1024u)
/* Messages above the limit and up to this multiple of it still get a
 * "too_large" reply; nng drops the connection of anything larger,
 * before reading it (NNG_OPT_RECVMAXSZ). */
#define XSELL_RECV_SLACK 4u

/* Items given to one query (fbt ITEM...; a whole cart). */
#define XSELL_QUERY_ITEMS_MAX 100
/* Ids in a filter's exclude list. */
#define XSELL_EXCLUDE_MAX 1000
/* Names in a filter's categories list, and in its exclude_categories. */
#define XSELL_FILTER_CATEGORIES_MAX 100
/* k: answers per list reply. */
#define XSELL_K_DEFAULT 10
#define XSELL_K_MAX 500
/* picks: "candidates" to rank (a category page), "context" items. */
#define XSELL_CANDIDATES_MAX 500
#define XSELL_CONTEXT_MAX 100
/* history: "limit" events, default and most. */
#define XSELL_HISTORY_LIMIT_DEFAULT 50
#define XSELL_HISTORY_LIMIT_MAX 1000
/* picks abandoned_cart: "min_age_s" and "max_age_s" when left out,
 * seconds; each sent alone is checked against the other's. */
#define XSELL_PICK_MIN_AGE_DEFAULT 3600
#define XSELL_PICK_MAX_AGE_DEFAULT (14 * 86400)
/* picks and trending: "days", "half_life_days" at most. */
#define XSELL_DAYS_MAX 3650

/* Events in one "event" batch. */
#define XSELL_EVENTS_MAX 10000
/* Lines (items) of one order. Pairs are counted for at most
 * settings.max_basket_items of them; see DESIGN in README. */
#define XSELL_ORDER_ITEMS_MAX 10000
/* Item records in one "items" upsert. */
#define XSELL_UPSERT_MAX 10000
/* Total item references in one event batch (order lines + items). */
#define XSELL_BATCH_REFS_MAX 200000

/* Depth of msgpack nesting in a request (the request map is depth 1). */
#define XSELL_DEPTH_MAX 8

#endif /* XSELL_LIMITS_H */
