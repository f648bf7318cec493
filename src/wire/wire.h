/* SPDX-License-Identifier: MIT */
/* The wire: msgpack requests -> request structs (decode.c, over the
 * bounded reader in mpread.c) and answers -> msgpack replies (encode.c).
 * It knows nothing of LMDB or nng. Decoded strings are spans into the
 * received message, so the message must outlive the request. */
#ifndef XSELL_WIRE_WIRE_H
#define XSELL_WIRE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "model/model.h"

/* Why a request was refused: the field ("events[3].item") and a message
 * ("missing"). Both NUL-terminated, client text already escaped. */
struct xs_errinfo {
	char field[64];
	char msg[160];
};

/* The op table: X(name, is_write). ops.def is the one list. */
enum xs_op {
#define XS_OP(name, is_write) XS_OP_##name,
#include "wire/ops.def"
#undef XS_OP
	XS_OP_COUNT
};

const char *xs_op_name(enum xs_op op);
bool        xs_op_is_write(enum xs_op op);

struct xs_request {
	enum xs_op     op;
	const uint8_t *id_raw; /* raw msgpack bytes of "id"; NULL if absent */
	size_t         id_len;
	union {
		struct {
			struct xs_event *events;
			uint32_t         n;
			struct xs_span   batch; /* optional batch id */
		} event;
		struct {
			struct xs_item_update *ups;
			uint32_t               n;
		} items;
		struct {
			struct xs_query q;
			bool            scorer_given; /* else the setting */
		} query; /* every read op but stats; forget_user */
	} u;
};

/* Decode one request message of 'len' bytes. Arrays of the request come
 * from 'arena'; strings point into 'buf'. 'now' fills absent timestamps.
 * Every count is checked against limits.h and against the bytes that
 * remain before anything is allocated. Returns XSELL_EINVAL (malformed,
 * wrong type, unknown op, missing field) or XSELL_ETOOBIG (a limit), with
 * the reason in *ei (may be NULL). On error, req->id_raw is still set if
 * the id could be read, so that the error reply can echo it. */
xsell_err xs_wire_decode(const void *buf, size_t len, struct xs_arena *arena,
    int64_t now, struct xs_request *req, struct xs_errinfo *ei);

/* ==== Replies ==== */

/* {"ok":false,"error":{"code":...,"message":...}} (+ "id" if the request
 * had one). 'ei' may be NULL: the message is then xsell_strerror(err);
 * with a field the message reads "field: msg". */
xsell_err xs_wire_reply_error(struct xs_buf *out, const struct xs_request *req,
    xsell_err err, const struct xs_errinfo *ei);

/* {"ok":true,"applied":N,"duplicates":D} for "event". */
xsell_err xs_wire_reply_event(struct xs_buf *out, const struct xs_request *req,
    const struct xs_apply_result *res);

/* {"ok":true,"applied":N} for "items". */
xsell_err xs_wire_reply_items(
    struct xs_buf *out, const struct xs_request *req, uint32_t applied);

/* {"ok":true,"items":[{"item":ID,"score":X[,"via":ID][,"count":N]}...],
 *  "unknown":[ID,...]} for list answers; "via" when the answer names
 *  one (complements), "count" with explain. */
xsell_err xs_wire_reply_list(struct xs_buf *out, const struct xs_request *req,
    const struct xs_query *q, const struct xs_answer *ans, bool explain);

/* {"ok":true,"user":ID,"known":B,"events":[{"type","item","ts"
 *  [,"rating"][,"out_of_stock"]}...]} for "history", newest first. */
xsell_err xs_wire_reply_history(struct xs_buf *out,
    const struct xs_request *req, const struct xs_history *h);

/* {"ok":true,"forgotten":B,"events":N,"orders":N} for "forget_user". */
xsell_err xs_wire_reply_forget(struct xs_buf *out,
    const struct xs_request *req, const struct xs_forget_result *res);

struct xs_op_stats {
	uint64_t requests; /* served, all outcomes */
	uint64_t errors;   /* replies with ok:false */
};

/* One kind of endpoint's connections (read, admin or pull), since
 * start. */
struct xs_conn_stats {
	const char *kind; /* "read", "admin", "pull"; NULL: no such endpoint */
	uint32_t    open; /* served now */
	uint32_t    waiting; /* open past the limit now, told unavailable */
	uint32_t    max;     /* --max-connections */
	uint64_t    refused; /* made past the limit (answered or closed) */
	uint64_t    muted;   /* left a reply unread, then muted */
	uint64_t    dropped; /* requests read and left unanswered */
};

struct xs_stats {
	const char               *version;
	uint32_t                  items, users, categories;
	uint64_t                  orders, baskets, events;
	uint64_t                  map_size, used_bytes, free_bytes;
	uint32_t                  readers_used, readers_max;
	uint64_t                  memo_items, memo_bytes, memo_budget;
	uint64_t                  memo_hits, memo_misses;
	uint64_t                  item_cache_bytes, index_bytes;
	uint64_t                  uptime_s;
	struct xs_op_stats        ops[XS_OP_COUNT];
	const struct xs_settings *settings; /* the defaults in force */
	struct xs_conn_stats      conns[3]; /* by kind; unused: kind NULL */
	/* complements' precomputed lists, as xselld's refresher last saw
	 * them; left out of the reply when !on. */
	struct {
		bool     on;
		uint64_t items;    /* items with orders */
		uint64_t due;      /* of them, lists missing or not fresh */
		uint64_t computed; /* lists written since the start */
	} comp_lists;
	/* xselld --wal's log; left out of the reply when !on. */
	struct {
		bool     on;
		uint64_t logged;        /* last entry durable in the log */
		uint64_t applied;       /* last entry committed to the store */
		uint64_t backlog_bytes; /* logged, not yet applied */
		uint64_t backlog_max; /* --wal-backlog: writers wait past it */
		uint64_t segments;    /* log files on disk */
		uint64_t skipped; /* entries that could not apply, set aside */
	} wal;
	/* xselld --pull's messages since the start; left out when !on. */
	struct {
		bool     on;
		uint64_t messages;   /* received */
		uint64_t applied;    /* of them, applied whole */
		uint64_t events;     /* events those applied */
		uint64_t duplicates; /* events seen before: changed nothing */
		uint64_t rejected; /* malformed, too large, not an event... */
		uint64_t refused;  /* dropped past the connection limit */
		uint64_t failed;   /* the store or the log refused them */
	} pull;
};

xsell_err xs_wire_reply_stats(struct xs_buf *out, const struct xs_request *req,
    const struct xs_stats *s);

#endif /* XSELL_WIRE_WIRE_H */
