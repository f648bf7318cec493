/* SPDX-License-Identifier: MIT */
/* GET /metrics: the Prometheus text exposition format (version 0.0.4).
 *
 * xselld's numbers come from one "stats" reply, fetched per scrape, so
 * they are exactly what `xsell stats` shows; the gateway adds what only
 * it can see: latency of each op as a histogram (xselld keeps none), the
 * HTTP statuses it answered and the upstream failures. Names follow the
 * Prometheus conventions: a xsell_ prefix, base units (seconds, bytes),
 * _total for counters, _ratio for 0..1 gauges. Stats keys this gateway
 * does not know are left out, never guessed at. */
#include "gateway/gateway_impl.h"

#include <inttypes.h>
#include <string.h>

#include <msgpack.h>

#include <xsell/client.h>

const double xs_gw_bucket_le[XS_GW_BUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001,
	0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };

/* Every status the gateway itself sends. */
const int xs_gw_status_codes[XS_GW_STATUSES] = { 200, 400, 403, 404, 405, 411,
	413, 414, 500, 503, 504 };

/* ==== Counting ==== */

static size_t
status_slot(int status)
{
	for (size_t i = 0; i < XS_GW_STATUSES; i++) {
		if (xs_gw_status_codes[i] == status) {
			return i;
		}
	}
	return XS_GW_STATUSES;
}

void
xs_gw_stats_latency(struct xs_gw_stats *s, enum xs_gw_op op, uint64_t us)
{
	struct xs_gw_op_stats *o = &s->ops[op];
	size_t                 b = 0;

	while (b < XS_GW_BUCKETS && (double) us / 1e6 > xs_gw_bucket_le[b]) {
		b++;
	}
	if (b < XS_GW_BUCKETS) {
		atomic_fetch_add(&o->bucket[b], 1);
	}
	atomic_fetch_add(&o->count, 1);
	atomic_fetch_add(&o->sum_us, us);
}

void
xs_gw_stats_response(struct xs_gw_stats *s, enum xs_gw_op op, int status)
{
	size_t slot = status_slot(status);

	atomic_fetch_add(&s->http[slot], 1);
	if (op < XS_GW_OP_COUNT) {
		atomic_fetch_add(&s->ops[op].status[slot], 1);
	}
}

/* ==== Writing ==== */

/* A label value as the format wants it: backslash, quote and newline
 * escaped. Op names come from xselld, but are escaped all the same. */
static void
put_label(FILE *out, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' || p[i] == '"') {
			fputc('\\', out);
			fputc(p[i], out);
		} else if (p[i] == '\n') {
			fputs("\\n", out);
		} else {
			fputc(p[i], out);
		}
	}
}

static void
header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One gauge or counter without labels, if 'key' of 'map' is a number
 * ('map' absent or not a map: none; xsell_reply_get sees to both). */
static void
scalar(FILE *out, const msgpack_object *map, const char *key, const char *name,
    const char *type, const char *help)
{
	double v;

	if (!xsell_reply_number(xsell_reply_get(map, key), &v)) {
		return;
	}
	header(out, name, type, help);
	fprintf(out, "%s %.17g\n", name, v);
}

/* One metric with a label from a map of maps, {value: {key: N}}: e.g.
 * xsell_requests_total{op="fbt"} from "requests", or
 * xsell_connections_open{kind="read"} from "connections". */
static void
by_label(FILE *out, const msgpack_object *map, const char *key,
    const char *label, const char *name, const char *type, const char *help)
{
	if (map == NULL || map->type != MSGPACK_OBJECT_MAP) {
		return;
	}
	header(out, name, type, help);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		double                   v;

		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    kv->val.type != MSGPACK_OBJECT_MAP ||
		    !xsell_reply_number(xsell_reply_get(&kv->val, key), &v)) {
			continue;
		}
		fprintf(out, "%s{%s=\"", name, label);
		put_label(out, kv->key.via.str.ptr, kv->key.via.str.size);
		fprintf(out, "\"} %.17g\n", v);
	}
}

/* The work xselld does behind the answers: complements' precomputed
 * lists and, with --wal, the log the store applies (each absent from
 * older servers, the log also from one without --wal). */
static void
write_background(FILE *out, const msgpack_object *stats)
{
	const msgpack_object *lists =
	    xsell_reply_get(stats, "complements_lists");
	const msgpack_object *wal = xsell_reply_get(stats, "wal");

	scalar(out, lists, "items", "xsell_complements_lists_items", "gauge",
	    "items with orders, each with a precomputed complements list");
	scalar(out, lists, "due", "xsell_complements_lists_due", "gauge",
	    "items whose complements list is missing or stale (answers walk)");
	scalar(out, lists, "computed",
	    "xsell_complements_lists_computed_total", "counter",
	    "complements lists computed since xselld started");
	scalar(out, wal, "logged", "xsell_wal_logged_entries_total", "counter",
	    "writes durable in the write-ahead log (acknowledged)");
	scalar(out, wal, "applied", "xsell_wal_applied_entries_total",
	    "counter", "writes of the log committed to the store (visible)");
	scalar(out, wal, "backlog_bytes", "xsell_wal_backlog_bytes", "gauge",
	    "bytes logged and not yet applied");
	scalar(out, wal, "backlog_max", "xsell_wal_backlog_max_bytes", "gauge",
	    "backlog past which writers wait (--wal-backlog)");
	scalar(out, wal, "segments", "xsell_wal_segments", "gauge",
	    "write-ahead log files on disk");
	scalar(out, wal, "skipped", "xsell_wal_skipped_total", "counter",
	    "log entries that could not be applied, set aside in "
	    "wal-skipped since xselld started");
}

/* What became of the messages of xselld's pull endpoints (stats'
 * "pull": only from a server with --pull). */
static void
write_pull(FILE *out, const msgpack_object *pull)
{
	scalar(out, pull, "messages", "xsell_pull_messages_total", "counter",
	    "messages received on the pull endpoints and dealt with");
	scalar(out, pull, "applied", "xsell_pull_applied_total", "counter",
	    "pull messages applied whole");
	scalar(out, pull, "events", "xsell_pull_events_total", "counter",
	    "events the applied pull messages applied");
	scalar(out, pull, "duplicates", "xsell_pull_duplicates_total",
	    "counter",
	    "events of pull messages that were seen before (no change)");
	scalar(out, pull, "rejected", "xsell_pull_rejected_total", "counter",
	    "pull messages refused for the sender's fault: malformed, too "
	    "large, not an event request, an invalid event");
	scalar(out, pull, "refused", "xsell_pull_refused_total", "counter",
	    "pull messages dropped from connections past the limit");
	scalar(out, pull, "failed", "xsell_pull_failed_total", "counter",
	    "pull messages the store or the log could not take");
}

/* The connection counters of each kind of endpoint (stats'
 * "connections"; absent from older servers). */
static void
write_connections(FILE *out, const msgpack_object *conns)
{
	by_label(out, conns, "open", "kind", "xsell_connections_open", "gauge",
	    "connections served now, by kind of endpoint");
	by_label(out, conns, "waiting", "kind", "xsell_connections_waiting",
	    "gauge",
	    "connections open past the limit now, told unavailable until "
	    "there is room");
	by_label(out, conns, "max", "kind", "xsell_connections_max", "gauge",
	    "connections served at once at most (--max-connections)");
	by_label(out, conns, "refused", "kind",
	    "xsell_connections_refused_total", "counter",
	    "connections made past the limit (told unavailable or closed)");
	by_label(out, conns, "muted", "kind", "xsell_connections_muted_total",
	    "counter",
	    "connections that left a reply unread: answers held back a while");
	by_label(out, conns, "dropped", "kind", "xsell_requests_dropped_total",
	    "counter", "requests left unanswered on muted connections");
}

static void
write_upstream(FILE *out, const msgpack_object *stats)
{
	const msgpack_object *counts, *store, *requests, *version;

	header(out, "xsell_up", "gauge",
	    "1 if xselld answered the stats request of this scrape");
	fprintf(out, "xsell_up %d\n", stats != NULL ? 1 : 0);
	if (stats == NULL) {
		return;
	}
	version = xsell_reply_get(stats, "version");
	if (version != NULL && version->type == MSGPACK_OBJECT_STR) {
		header(out, "xsell_build_info", "gauge",
		    "the version of xselld, as a label");
		fputs("xsell_build_info{version=\"", out);
		put_label(out, version->via.str.ptr, version->via.str.size);
		fputs("\"} 1\n", out);
	}
	requests = xsell_reply_get(stats, "requests");
	by_label(out, requests, "requests", "op", "xsell_requests_total",
	    "counter", "requests served by xselld since it started, by op");
	by_label(out, requests, "errors", "op", "xsell_request_errors_total",
	    "counter", "requests xselld answered with ok false, by op");
	counts = xsell_reply_get(stats, "counts");
	scalar(out, counts, "items", "xsell_items", "gauge",
	    "distinct item ids in the store");
	scalar(out, counts, "users", "xsell_users", "gauge",
	    "distinct user ids in the store");
	scalar(out, counts, "categories", "xsell_categories", "gauge",
	    "distinct category names in the store");
	scalar(out, counts, "orders", "xsell_orders_total", "counter",
	    "orders applied to the store (duplicates not counted)");
	scalar(out, counts, "events", "xsell_events_total", "counter",
	    "events applied to the store, of every type");
	scalar(out, counts, "baskets", "xsell_baskets_total", "counter",
	    "orders with at least one counted item");
	store = xsell_reply_get(stats, "store");
	scalar(out, store, "map_size", "xsell_store_map_size_bytes", "gauge",
	    "bytes of address space the store may grow to");
	scalar(out, store, "used_bytes", "xsell_store_used_bytes", "gauge",
	    "bytes the store uses in its map");
	scalar(out, store, "free_bytes", "xsell_store_free_bytes", "gauge",
	    "of used_bytes, pages freed that later writes reuse");
	scalar(out, store, "map_used", "xsell_store_map_used_ratio", "gauge",
	    "used_bytes / map_size; writes fail as it nears 1");
	scalar(out, store, "readers_used", "xsell_store_readers_used", "gauge",
	    "LMDB reader slots in use");
	scalar(out, store, "readers_max", "xsell_store_readers_max", "gauge",
	    "LMDB reader slots in all");
	scalar(out, store, "memo_items", "xsell_store_memo_items", "gauge",
	    "per-item memos of answers held (retired ones too)");
	scalar(out, store, "memo_hits", "xsell_store_memo_hits_total",
	    "counter", "answers' looks for a memo that found one good");
	scalar(out, store, "memo_misses", "xsell_store_memo_misses_total",
	    "counter", "answers' looks for a memo that derived it again");
	scalar(out, store, "memo_bytes", "xsell_store_memo_bytes", "gauge",
	    "bytes of the per-item memos held");
	scalar(out, store, "memo_budget", "xsell_store_memo_budget_bytes",
	    "gauge", "the most the per-item memos may hold (--memo-size)");
	scalar(out, store, "item_cache_bytes", "xsell_store_item_cache_bytes",
	    "gauge", "bytes of items' ids and metadata kept in memory");
	scalar(out, store, "index_bytes", "xsell_store_index_bytes", "gauge",
	    "bytes of the per-item indexes picks answers borrow");
	scalar(out, stats, "uptime_s", "xsell_uptime_seconds", "gauge",
	    "seconds since xselld started");
	write_connections(out, xsell_reply_get(stats, "connections"));
	write_pull(out, xsell_reply_get(stats, "pull"));
	write_background(out, stats);
}

static void
write_latency(FILE *out, const struct xs_gw_stats *s)
{
	const char *name = "xsell_gateway_upstream_duration_seconds";

	header(out, name, "histogram",
	    "round trip of a request from the gateway to xselld and back, "
	    "by op");
	for (int op = 0; op < XS_GW_OP_COUNT; op++) {
		const struct xs_gw_op_stats *o = &s->ops[op];
		const char *label = xs_gw_op_name((enum xs_gw_op) op);
		uint64_t    cum   = 0;

		for (size_t b = 0; b < XS_GW_BUCKETS; b++) {
			cum += atomic_load(&o->bucket[b]);
			fprintf(out,
			    "%s_bucket{op=\"%s\",le=\"%g\"} %" PRIu64 "\n",
			    name, label, xs_gw_bucket_le[b], cum);
		}
		fprintf(out, "%s_bucket{op=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
		    name, label, (uint64_t) atomic_load(&o->count));
		fprintf(out, "%s_sum{op=\"%s\"} %.6f\n", name, label,
		    (double) atomic_load(&o->sum_us) / 1e6);
		fprintf(out, "%s_count{op=\"%s\"} %" PRIu64 "\n", name, label,
		    (uint64_t) atomic_load(&o->count));
	}
}

static void
write_gateway(FILE *out, const struct xs_gw_stats *s)
{
	static const char *const fails[XS_GW_FAIL_COUNT] = { "unavailable",
		"overloaded", "bad_reply", "outcome_unknown" };

	header(out, "xsell_gateway_http_responses_total", "counter",
	    "HTTP responses of the gateway, by status code");
	for (size_t i = 0; i <= XS_GW_STATUSES; i++) {
		uint64_t n = atomic_load(&s->http[i]);

		if (i == XS_GW_STATUSES) {
			fprintf(out,
			    "xsell_gateway_http_responses_total{code="
			    "\"other\"}"
			    " %" PRIu64 "\n",
			    n);
		} else {
			fprintf(out,
			    "xsell_gateway_http_responses_total{code=\"%d\"}"
			    " %" PRIu64 "\n",
			    xs_gw_status_codes[i], n);
		}
	}
	header(out, "xsell_gateway_op_responses_total", "counter",
	    "HTTP responses to op requests, by op and status code");
	for (int op = 0; op < XS_GW_OP_COUNT; op++) {
		for (size_t i = 0; i < XS_GW_STATUSES; i++) {
			uint64_t n = atomic_load(&s->ops[op].status[i]);

			if (n == 0) {
				continue; /* statuses x ops: only those seen */
			}
			fprintf(out,
			    "xsell_gateway_op_responses_total{op=\"%s\","
			    "code=\"%d\"} %" PRIu64 "\n",
			    xs_gw_op_name((enum xs_gw_op) op),
			    xs_gw_status_codes[i], n);
		}
	}
	header(out, "xsell_gateway_upstream_failures_total", "counter",
	    "requests that got no usable reply from xselld, by upstream and "
	    "reason");
	for (int admin = 0; admin < 2; admin++) {
		for (int f = 0; f < XS_GW_FAIL_COUNT; f++) {
			fprintf(out,
			    "xsell_gateway_upstream_failures_total{upstream="
			    "\"%s\",reason=\"%s\"} %" PRIu64 "\n",
			    admin ? "admin" : "read", fails[f],
			    (uint64_t) atomic_load(&s->fail[admin][f]));
		}
	}
	header(out, "xsell_gateway_in_flight_requests", "gauge",
	    "HTTP requests the gateway is working on, this scrape included");
	fprintf(out, "xsell_gateway_in_flight_requests %" PRId64 "\n",
	    (int64_t) atomic_load(&s->in_flight));
	write_latency(out, s);
}

void
xs_gw_metrics_write(
    FILE *out, const struct msgpack_object *stats, const struct xs_gw_stats *s)
{
	write_upstream(out, stats);
	write_gateway(out, s);
}
