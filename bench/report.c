/* SPDX-License-Identifier: MIT */
/* The figures: requests, throughput and latency quantiles per op and
 * over all ops, as a table for people or one JSON object for scripts. */
#include "bench.h"

#include <stdio.h>

static const double      quantiles[] = { 0.50, 0.90, 0.99, 0.999 };
static const char *const q_names[]   = { "p50", "p90", "p99", "p99_9" };
#define N_Q (sizeof(quantiles) / sizeof(quantiles[0]))

static double
us(uint64_t ns)
{
	return (double) ns / 1000.0;
}

static double
rate(const struct bench_result *r, const struct bench_hist *h)
{
	return r->elapsed_s > 0 ? (double) h->n / r->elapsed_s : 0;
}

static void
text_row(
    const char *name, const struct bench_result *r, const struct bench_hist *h)
{
	printf(
	    "%-12s %9llu %10.0f", name, (unsigned long long) h->n, rate(r, h));
	for (size_t i = 0; i < N_Q; i++) {
		printf(" %9.1f", us(bench_hist_quantile(h, quantiles[i])));
	}
	printf(" %9.1f %9.1f\n", h->n ? us(h->sum_ns) / (double) h->n : 0,
	    us(h->max_ns));
}

/* "; fbt 3, event 1": which ops a count came from, when any. */
static void
text_by_op(const uint64_t *by_op)
{
	const char *sep = "; ";

	for (int op = 0; op < BENCH_OP_COUNT; op++) {
		if (by_op[op] != 0) {
			printf("%s%s %llu", sep, bench_op_names[op],
			    (unsigned long long) by_op[op]);
			sep = ", ";
		}
	}
}

/* r's CPU over the window, divided among the replies measured. */
static double
per_reply(const struct bench_result *r, double total)
{
	return r->all.n != 0 ? total / (double) r->all.n : 0;
}

/* "CPU a reply: ..." when the run measured it. */
static void
text_cpu(const struct bench_opts *o, const struct bench_result *r)
{
	if (!r->has_cpu) {
		return;
	}
	printf("CPU a reply: this client %.1f us",
	    per_reply(r, r->client_cpu_s) * 1e6);
	if (r->has_server) {
		printf(", process %d %.1f us and %.2f context switches",
		    o->server_pid, per_reply(r, r->server_cpu_s) * 1e6,
		    per_reply(r, (double) r->server_cs));
	}
	printf("\n");
}

/* The p50 of --url's round trips over --pair-url's (0: none). */
static double
pair_p50_ratio(const struct bench_result *r, const struct bench_result *pair)
{
	uint64_t p = bench_hist_quantile(&pair->all, 0.5);

	return p != 0 ? (double) bench_hist_quantile(&r->all, 0.5) / (double) p
	              : 0;
}

/* One server's table: a row per op that ran, "all", its errors and
 * failures. */
static void
text_table(const struct bench_result *r)
{
	printf("%-12s %9s %10s %9s %9s %9s %9s %9s %9s\n", "op", "requests",
	    "req/s", "p50 us", "p90 us", "p99 us", "p99.9 us", "mean us",
	    "max us");
	for (int op = 0; op < BENCH_OP_COUNT; op++) {
		if (r->ops[op].n != 0) {
			text_row(bench_op_names[op], r, &r->ops[op]);
		}
	}
	text_row("all", r, &r->all);
	printf("errors %llu (ok: false", (unsigned long long) r->errors);
	text_by_op(r->op_errors);
	printf("), failures %llu (no reply", (unsigned long long) r->failures);
	text_by_op(r->op_failures);
	printf(")");
	if (r->all.n != 0 && r->mode[0] != 'i') {
		printf(", mean reply %.0f bytes",
		    (double) r->reply_bytes / (double) r->all.n);
	}
	printf("\n");
}

void
bench_report_text(const struct bench_opts *o, const struct bench_result *r,
    const struct bench_result *pair)
{
	if (o->label != NULL) {
		printf("[%s] ", o->label);
	}
	if (r->mode[0] == 'i') {
		printf("in process (model calls only), 1 thread%s",
		    o->cpu_time ? ", thread CPU time" : "");
	} else {
		printf("%s, %s loop, %u client%s", o->url, r->mode, o->clients,
		    o->clients == 1 ? "" : "s");
	}
	printf(", %.2f s measured\n", r->elapsed_s);
	text_table(r);
	text_cpu(o, r);
	if (pair != NULL) {
		printf("paired: the same requests to %s, each in turn first\n",
		    o->pair_url);
		text_table(pair);
		printf("p50 ratio %.3f (%s over %s)\n",
		    pair_p50_ratio(r, pair), o->url, o->pair_url);
	}
}

/* A histogram's fields, without the braces. */
static void
json_hist(const struct bench_result *r, const struct bench_hist *h)
{
	printf("\"requests\":%llu,\"rps\":%.1f", (unsigned long long) h->n,
	    rate(r, h));
	for (size_t i = 0; i < N_Q; i++) {
		printf(",\"%s_us\":%.2f", q_names[i],
		    us(bench_hist_quantile(h, quantiles[i])));
	}
	printf(",\"mean_us\":%.2f,\"max_us\":%.2f",
	    h->n ? us(h->sum_ns) / (double) h->n : 0, us(h->max_ns));
}

/* A JSON string of a NUL-terminated text, escaping what JSON needs. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

/* ,"pair":{...}: --pair-url's figures, and its p50 ratio. */
static void
json_pair(const struct bench_opts *o, const struct bench_result *r,
    const struct bench_result *pair)
{
	printf(",\"pair\":{\"url\":");
	json_str(o->pair_url);
	printf(",\"errors\":%llu,\"failures\":%llu,"
	       "\"reply_bytes_mean\":%.1f,\"all\":{",
	    (unsigned long long) pair->errors,
	    (unsigned long long) pair->failures,
	    pair->all.n ? (double) pair->reply_bytes / (double) pair->all.n
	                : 0);
	json_hist(pair, &pair->all);
	printf("},\"p50_ratio\":%.4f}", pair_p50_ratio(r, pair));
}

void
bench_report_json(const struct bench_opts *o, const struct bench_result *r,
    const struct bench_result *pair)
{
	printf("{\"label\":");
	json_str(o->label ? o->label : "");
	printf(",\"url\":");
	json_str(r->mode[0] == 'i' ? "inproc" : o->url);
	printf(",\"mode\":\"%s\",\"clients\":%u,\"rate\":%.1f,"
	       "\"elapsed_s\":%.3f,\"errors\":%llu,\"failures\":%llu,"
	       "\"reply_bytes_mean\":%.1f,\"ops\":{",
	    r->mode, r->mode[0] == 'i' ? 1 : o->clients, o->rate, r->elapsed_s,
	    (unsigned long long) r->errors, (unsigned long long) r->failures,
	    r->all.n ? (double) r->reply_bytes / (double) r->all.n : 0);
	for (int op = 0, first = 1; op < BENCH_OP_COUNT; op++) {
		if (r->ops[op].n == 0 && r->op_failures[op] == 0) {
			continue;
		}
		printf("%s\"%s\":{", first ? "" : ",", bench_op_names[op]);
		json_hist(r, &r->ops[op]);
		printf(",\"errors\":%llu,\"failures\":%llu}",
		    (unsigned long long) r->op_errors[op],
		    (unsigned long long) r->op_failures[op]);
		first = 0;
	}
	printf("},\"all\":{");
	json_hist(r, &r->all);
	printf("}");
	if (r->has_cpu) {
		printf(",\"cpu_per_reply\":{\"client_us\":%.2f",
		    per_reply(r, r->client_cpu_s) * 1e6);
		if (r->has_server) {
			printf(",\"server_us\":%.2f,\"server_switches\":%.3f",
			    per_reply(r, r->server_cpu_s) * 1e6,
			    per_reply(r, (double) r->server_cs));
		}
		printf("}");
	}
	if (pair != NULL) {
		json_pair(o, r, pair);
	}
	printf(",\"clock\":\"%s\"}\n", o->cpu_time ? "thread_cpu" : "wall");
}
