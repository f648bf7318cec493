/* SPDX-License-Identifier: MIT */
/* xselld --wal (server/wal.c), with a real xselld on ipc://.
 *
 * One fixed list of writes (item metadata, order batches, a forget_user,
 * a batch after it) is sent one by one, so its order is the log's order.
 * Acknowledged writes must survive kill -9 and be in the store after the
 * restart's replay; the same log replayed into an empty store, and again
 * into a store that has it all, gives the same store; a store written
 * through the log dumps to the same bytes as one written without it
 * (but for the log's mark, meta "wal_seq", which must name the last
 * write); a refused write and a full disk leave the log empty; an entry
 * that cannot be applied (a forget_user meeting a damaged ledger, or
 * bytes that do not decode as a write) is skipped and kept aside, at
 * start and live, and the writes around it are applied. A forget_user
 * gets its result even when another writer's sync made its entry
 * durable (an LD_PRELOAD shim puts the writers in that order), and when
 * it is in flight at a stop, and once it is answered no log file holds
 * the forgotten user's requests (also when its writer wakes before the
 * applier has recorded its entry as applied: an LD_PRELOAD shim wakes
 * it then, and stats read after the reply count its entry applied),
 * nor could a crash of the machine bring one back (an
 * LD_PRELOAD shim keeps a deleted file until its directory is synced;
 * failing that sync, the reply still comes, and a restart deletes the
 * file again); one the store cannot take at a stop gets no reply (its
 * entry is held back by LMDB's writer lock, which the test takes). A
 * failed log sync (an LD_PRELOAD shim fails it) refuses
 * the writes it covered and a writer waiting for backlog room behind
 * them, and its cut of the log is synced (or, if that fails too, the
 * refused entry is marked applied in the store, or, by a stop while
 * the applier is stalled before it, marked refused), so that no restart
 * applies it; an append that fails and cannot be taken back refuses
 * the entries not yet durable and cuts them off too, while a writer
 * whose entry the sync under way covers gets that sync's outcome;
 * writers waiting for backlog room get it in the order they came.
 * A logged entry damaged on disk stops the applier and
 * writes are refused, also after a start that replayed a log; a log
 * file that does not open or read stops it too, as an input/output
 * error (an LD_PRELOAD shim fails the open or the read), until it does,
 * the reason logged once while it lasts, not at every retry;
 * a damaged entry left by a crash with entries after it stops the
 * start, and so does a log file that cannot be read, named as such,
 * and a new log file whose directory's sync fails (an LD_PRELOAD shim
 * fails it), the file and the reason logged, also when that file
 * cannot be deleted either.
 * xselld without --wal applies a log it finds and deletes it, creating
 * no log file and starting no log thread, and with none creates
 * nothing. An applier
 * group stays within its bound of request bytes. The expected
 * counts are worked out by hand below. Nothing depends on timing:
 * kill -9 may find any part of the log applied, and where a test gives
 * a server time to reach a state (the shim's margins, a stop's start),
 * a slow machine makes it miss a bug rather than fail a correct
 * server. */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "common/common.h"
#include "store/store.h"
#include "store/store_impl.h" /* the meta sub-database, for a bad mark */

#define BATCHES 12
#define ORDERS 5 /* per batch, 3 items each */
/* Batch b's order o belongs to user "u<(b + o) % 4>". User u1 has, in
 * the BATCHES batches, the orders with (b + o) % 4 == 1: for each b
 * exactly one or two of o = 0..4 (o = 1 - b mod 4, and that + 4 when it
 * is 0): b % 4 == 1 gives o in {0, 4}: 2 orders; the other b give one.
 * b = 0..11 has three b with b % 4 == 1, so u1 has 3 * 2 + 9 * 1 = 15
 * orders, 15 events. */
#define U1_ORDERS 15
/* Writes: items, BATCHES batches, forget_user u1, one batch more. */
#define WRITES (1 + BATCHES + 1 + 1)
/* Orders in the store at the end: all batches but u1's 15 orders, plus
 * the last batch's ORDERS (it comes after the forget). */
#define ORDERS_LEFT (BATCHES * ORDERS - U1_ORDERS + ORDERS)

static const char *const wal_args[] = { "--wal", NULL };

/* Write k of the list, as JSON (buf of 'len' bytes). */
static void
write_json(unsigned k, char *buf, size_t len)
{
	size_t   o = 0;
	unsigned b = k - 1;

	if (k == 0) {
		snprintf(buf, len,
		    "{\"op\":\"items\",\"items\":[{\"item\":\"i1\","
		    "\"category\":\"c1\",\"price\":2.5,\"created\":"
		    "1700000000},{\"item\":\"i2\",\"category\":\"c2\"}]}");
		return;
	}
	if (k == 1 + BATCHES) {
		snprintf(buf, len, "{\"op\":\"forget_user\",\"user\":\"u1\"}");
		return;
	}
	if (k == 2 + BATCHES) {
		b = BATCHES; /* the batch after the forget */
	}
	o += (size_t) snprintf(buf + o, len - o,
	    "{\"op\":\"event\",\"batch\":\"b%u\",\"events\":[", b);
	for (unsigned i = 0; i < ORDERS; i++) {
		unsigned it = (b * 7 + i * 3) % 20;

		o += (size_t) snprintf(buf + o, len - o,
		    "%s{\"type\":\"order\",\"order\":\"b%uo%u\","
		    "\"user\":\"u%u\",\"ts\":%u,\"items\":[\"i%u\",\"i%u\","
		    "\"i%u\"]}",
		    i ? "," : "", b, i, (b + i) % 4, 1700000000u + b * 100 + i,
		    it, (it + 1) % 20, (it + 5) % 20);
	}
	snprintf(buf + o, len - o, "]}");
}

/* Send the list's first n writes to 'url', each acknowledged before
 * the next; checks each reply as counted by hand. */
static void
send_writes_upto(const char *url, unsigned n)
{
	char buf[2048];

	for (unsigned k = 0; k < n; k++) {
		json_t *r;

		write_json(k, buf, sizeof(buf));
		r = xs_test_call(url, buf);
		assert_string_equal(xs_test_reply_code(r), "ok");
		if (k == 0) {
			assert_int_equal(
			    json_integer_value(json_object_get(r, "applied")),
			    2);
		} else if (k == 1 + BATCHES) {
			assert_true(
			    json_is_true(json_object_get(r, "forgotten")));
			assert_int_equal(
			    json_integer_value(json_object_get(r, "orders")),
			    U1_ORDERS);
		} else {
			assert_int_equal(
			    json_integer_value(json_object_get(r, "applied")),
			    ORDERS);
		}
		json_decref(r);
	}
}

/* Send the whole list. */
static void
send_writes(const char *url)
{
	send_writes_upto(url, WRITES);
}

static char *
path_in(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char  *p   = malloc(len);

	assert_non_null(p);
	snprintf(p, len, "%s/%s", dir, name);
	return p;
}

#define SEG1 "wal-0000000000000001.log"

/* Bytes of file 'name' in 'dir'; -1 if it does not exist. */
static long long
file_size(const char *dir, const char *name)
{
	char       *p = path_in(dir, name);
	struct stat sb;
	int         rc = stat(p, &sb);

	free(p);
	return rc == 0 ? (long long) sb.st_size : -1;
}

/* How many of 'dir''s entries have a name that starts with "wal". */
static int
wal_names(const char *dir)
{
	DIR           *d = opendir(dir);
	struct dirent *e;
	int            n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		n += strncmp(e->d_name, "wal", 3) == 0;
	}
	closedir(d);
	return n;
}

static void
copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char  *from = path_in(from_dir, name);
	char  *to   = path_in(to_dir, name);
	FILE  *in   = fopen(from, "rb");
	FILE  *out  = fopen(to, "wb");
	char   buf[65536];
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		assert_int_equal(fwrite(buf, 1, n, out), n);
	}
	assert_false(ferror(in));
	fclose(in);
	assert_int_equal(fclose(out), 0);
	free(from);
	free(to);
}

/* The layout of a log entry (server/wal.c): a 32-byte header in host
 * order (magic "XWAL", body length, seq, decode time, CRC-32, pad),
 * then the request bytes. The CRC is the standard CRC-32 (reflected,
 * polynomial 0xEDB88320) of the header with crc 0, then the body. */
#define HDR_LEN 32

static uint32_t
crc32_add(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++) {
			crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
		}
	}
	return crc;
}

/* Append entry 'seq', a whole frame with a good CRC around the body
 * body[0..len) (whatever its bytes are), to file 'name' in 'dir'. */
static void
append_frame(const char *dir, const char *name, uint64_t seq, const void *body,
    size_t len)
{
	char         *p          = path_in(dir, name);
	FILE         *f          = fopen(p, "ab");
	unsigned char h[HDR_LEN] = { 0 };
	uint32_t      magic = 0x4c415758u, blen = (uint32_t) len, crc;
	int64_t       now = (int64_t) time(NULL);

	assert_non_null(f);
	memcpy(h, &magic, 4);
	memcpy(h + 4, &blen, 4);
	memcpy(h + 8, &seq, 8);
	memcpy(h + 16, &now, 8);
	crc = crc32_add(0xffffffffu, h, HDR_LEN);
	crc = crc32_add(crc, body, len) ^ 0xffffffffu;
	memcpy(h + 24, &crc, 4);
	assert_int_equal(fwrite(h, HDR_LEN, 1, f), 1);
	assert_int_equal(fwrite(body, len, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	free(p);
}

/* Append entry 'seq' with the request 'json' (packed to msgpack) to
 * file 'name' in 'dir'; *lenp is the body's length, the body itself is
 * returned (malloc'd). */
static void *
append_entry(const char *dir, const char *name, uint64_t seq, const char *json,
    size_t *lenp)
{
	void *body = xs_test_pack(json, lenp);

	append_frame(dir, name, seq, body, *lenp);
	return body;
}

/* The log of the whole list, entries 1..WRITES, as file SEG1 of 'dir'.
 * xselld writes no such file: a forget_user ends its segment, deleted
 * before the reply (test_wal_forget_deletes_the_users_requests_from_the_
 * log). It is the log a crash may leave, or an xselld from before that;
 * a replay must apply it all the same. */
static void
log_write_all(const char *dir)
{
	char buf[2048];

	for (unsigned k = 0; k < WRITES; k++) {
		size_t len;

		write_json(k, buf, sizeof(buf));
		free(append_entry(dir, SEG1, k + 1, buf, &len));
	}
}

/* Write into the log file, where entry WRITES + 1 would go (after the
 * whole entries 1..WRITES, over the zeros reserved after them), the
 * start of an entry that a crash cut short: its header (the layout of
 * server/wal.c: magic "XWAL", body length, seq, time, CRC, pad; host
 * order) claiming a 1,000-byte body, and the first 10 bytes of that
 * body. A replay must end the log before it. */
static void
append_torn_entry(const char *dir, const char *name)
{
	char    *p     = path_in(dir, name);
	FILE    *f     = fopen(p, "r+b");
	uint32_t magic = 0x4c415758u, len = 1000, crc = 0, pad = 0;
	uint64_t seq = WRITES + 1;
	int64_t  now = 1700000000;
	/* A request's first bytes: {"op": "event", ... */
	const unsigned char body[10] = { 0x83, 0xa2, 'o', 'p', 0xa5, 'e', 'v',
		'e', 'n', 't' };
	long                at       = 0;

	assert_non_null(f);
	/* Each whole entry's header says how long its body is. */
	for (unsigned k = 0; k < WRITES; k++) {
		uint32_t body_len;

		assert_int_equal(fseek(f, at + 4, SEEK_SET), 0);
		assert_int_equal(fread(&body_len, 4, 1, f), 1);
		at += 32 + (long) body_len;
	}
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	assert_int_equal(fwrite(&magic, 4, 1, f), 1);
	assert_int_equal(fwrite(&len, 4, 1, f), 1);
	assert_int_equal(fwrite(&seq, 8, 1, f), 1);
	assert_int_equal(fwrite(&now, 8, 1, f), 1);
	assert_int_equal(fwrite(&crc, 4, 1, f), 1);
	assert_int_equal(fwrite(&pad, 4, 1, f), 1);
	assert_int_equal(fwrite(body, sizeof(body), 1, f), 1);
	assert_int_equal(fclose(f), 0);
	free(p);
}

/* The dump of the store in 'db' with its meta "wal_seq" line taken out
 * (NUL-terminated, malloc'd). The line must say WRITES (a u64 in host
 * order: little-endian here), or be absent when 'has_seq' is false. */
static char *
dump_without_seq(const char *db, bool has_seq)
{
	/* "wal_seq" in hex, a space, WRITES = 15 as 8 little-endian bytes. */
	static const char line[] = "77616c5f736571 0f00000000000000\n";
	struct xs_buf     b;
	char             *s, *at;

	xs_test_store_dump(db, &b);
	s = malloc(b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	xs_buf_fini(&b);
	assert_true(strstr(s, "77616c5f736571 ") == strstr(s, line));
	at = strstr(s, line);
	if (!has_seq) {
		assert_null(at);
		return s;
	}
	assert_non_null(at);
	memmove(at, at + strlen(line), strlen(at + strlen(line)) + 1);
	return s;
}

/* ==== Tests ==== */

/* kill -9 after the last acknowledgement; the restart replays what the
 * store lacks: everything acknowledged is there, and the log files are
 * gone after the clean stop that follows. The log of the same writes
 * (log_write_all) replayed into an empty store, and once more into that
 * store, gives the same dump; and that is the dump of the same writes
 * through xselld without --wal. xselld without --wal applies a log it
 * finds, too. */
static void
test_wal_kill9_replay_twice_and_without_wal(void **state)
{
	struct xs_test_server s, e, f, plain;
	char                 *killed, *fresh, *again, *nowal, *direct;
	int                   status;

	(void) state;
	xs_test_server_start(&s, wal_args);
	send_writes(s.admin_url);
	status = xs_test_server_signal(&s, SIGKILL);
	assert_true(WIFSIGNALED(status));
	assert_true(wal_names(s.db) > 0);

	/* The log of the writes, and an empty store next to a copy. */
	log_write_all(s.dir);
	xs_test_server_start(&e, wal_args);
	xs_test_server_signal(&e, SIGTERM);
	copy_file(s.dir, e.db, SEG1);
	append_torn_entry(e.db, SEG1);

	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), ORDERS_LEFT);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_int_equal(wal_names(s.db), 0);
	killed = dump_without_seq(s.db, true);

	/* The whole log, with a torn entry at its end, into the empty
	 * store: the torn one is left out (the same dump as above). */
	xs_test_server_restart(&e);
	assert_int_equal(xs_test_stats_orders(e.read_url), ORDERS_LEFT);
	xs_test_server_signal(&e, SIGTERM);
	fresh = dump_without_seq(e.db, true);
	assert_string_equal(killed, fresh);

	/* And again into the store that has all of it: nothing changes. */
	copy_file(s.dir, e.db, SEG1);
	assert_true(file_size(e.db, SEG1) > 0);
	xs_test_server_restart(&e);
	assert_int_equal(xs_test_stats_orders(e.read_url), ORDERS_LEFT);
	xs_test_server_signal(&e, SIGTERM);
	again = dump_without_seq(e.db, true);
	assert_string_equal(fresh, again);

	/* A log left by --wal is applied by an xselld without it too. */
	xs_test_server_start(&f, NULL);
	xs_test_server_signal(&f, SIGTERM);
	copy_file(s.dir, f.db, SEG1);
	xs_test_server_restart(&f);
	assert_int_equal(xs_test_stats_orders(f.read_url), ORDERS_LEFT);
	xs_test_server_signal(&f, SIGTERM);
	assert_int_equal(file_size(f.db, SEG1), -1);
	nowal = dump_without_seq(f.db, true);
	assert_string_equal(fresh, nowal);

	/* The same writes, each committed before its reply. */
	xs_test_server_start(&plain, NULL);
	send_writes(plain.admin_url);
	xs_test_server_signal(&plain, SIGTERM);
	direct = dump_without_seq(plain.db, false);
	assert_string_equal(direct, fresh);

	free(killed);
	free(fresh);
	free(again);
	free(direct);
	free(nowal);
	xs_test_server_fini(&plain);
	xs_test_server_fini(&f);
	xs_test_server_fini(&e);
	xs_test_server_fini(&s);
}

/* stats.wal's 'key' (absent: -1). */
static json_int_t
wal_stat(const char *url, const char *key)
{
	json_t    *r = xs_test_call(url, "{\"op\":\"stats\"}");
	json_t    *v = json_object_get(json_object_get(r, "wal"), key);
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;

	json_decref(r);
	return n;
}

/* Wait until stats.wal says entry 'seq' is in the store (the applier
 * runs behind the acknowledgement): up to 30 s, for a sanitizer's or a
 * busy machine's pace; it ends as soon as the entry is in. */
static void
wait_applied(const char *url, json_int_t seq)
{
	for (int i = 0; i < 3000 && wal_stat(url, "applied") != seq; i++) {
		nng_msleep(10);
	}
	assert_int_equal(wal_stat(url, "applied"), seq);
}

/* A crash just after a rotation: the old segment holds entries not yet
 * applied and the new one, the log's last, is empty (it was created and
 * its name synced, its first entry not). The restart replays the old
 * one and ends the log there, and starts the empty one again. */
static void
test_wal_crash_after_rotation_replays(void **state)
{
	struct xs_test_server e;
	char                  name[64];
	char                 *p;
	FILE                 *fp;

	(void) state;
	xs_test_server_start(&e, wal_args);
	xs_test_server_signal(&e, SIGTERM);
	log_write_all(e.db);
	/* Segments are named by their first entry, in hex. */
	snprintf(name, sizeof(name), "wal-%016x.log", WRITES + 1);
	p  = path_in(e.db, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	free(p);

	xs_test_server_restart(&e);
	assert_int_equal(xs_test_stats_orders(e.read_url), ORDERS_LEFT);
	assert_int_equal(wal_stat(e.read_url, "applied"), WRITES);
	assert_int_equal(wal_stat(e.read_url, "segments"), 1);
	xs_test_server_signal(&e, SIGTERM);
	xs_test_server_fini(&e);
}

/* A crash before the newest segment's first entry (here: right after
 * start) leaves it empty. The restart starts it again and lists it once:
 * listed twice, the applier took the first copy for applied and deleted
 * the file the writers append to, and the next kill -9 lost
 * acknowledged writes. */
static void
test_wal_empty_segment_at_start_is_kept(void **state)
{
	struct xs_test_server s;

	(void) state;
	xs_test_server_start(&s, wal_args);
	xs_test_server_signal(&s, SIGKILL);
	assert_int_equal(file_size(s.db, SEG1), 0);
	xs_test_server_restart(&s);
	assert_int_equal(wal_stat(s.read_url, "segments"), 1);
	/* Up to the forget_user, which would end the segment. */
	send_writes_upto(s.admin_url, 1 + BATCHES);
	wait_applied(s.read_url, 1 + BATCHES);
	assert_true(file_size(s.db, SEG1) > 0); /* still the one written */
	xs_test_server_signal(&s, SIGKILL);
	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), BATCHES * ORDERS);
	assert_int_equal(wal_stat(s.read_url, "applied"), 1 + BATCHES);
	xs_test_server_signal(&s, SIGTERM);
	xs_test_server_fini(&s);
}

/* A write that does not decode is refused before the log: the log file
 * stays empty; a good one then lands in it. */
static void
test_wal_refuses_bad_write_before_log(void **state)
{
	struct xs_test_server s;
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(file_size(s.db, SEG1), 0);
	r = xs_test_call(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o1\",\"items\":[\"a\"]},{\"type\":\"bogus\"}]}");
	assert_string_equal(xs_test_reply_code(r), "bad_request");
	json_decref(r);
	r = xs_test_call(
	    s.admin_url, "{\"op\":\"forget_user\",\"user\":\"\"}");
	assert_string_equal(xs_test_reply_code(r), "bad_request");
	json_decref(r);
	assert_int_equal(file_size(s.db, SEG1), 0);
	/* Nothing logged: stats.wal says so (the default backlog, 32 MiB). */
	assert_int_equal(wal_stat(s.read_url, "logged"), 0);
	assert_int_equal(wal_stat(s.read_url, "applied"), 0);
	assert_int_equal(wal_stat(s.read_url, "backlog_bytes"), 0);
	assert_int_equal(wal_stat(s.read_url, "backlog_max"), 32 << 20);
	assert_int_equal(wal_stat(s.read_url, "segments"), 1);

	r = xs_test_call(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o1\",\"items\":[\"a\",\"b\"]}]}");
	assert_string_equal(xs_test_reply_code(r), "ok");
	json_decref(r);
	assert_true(file_size(s.db, SEG1) > 0);
	/* The one entry: logged as 1, then applied, and no backlog left. */
	assert_int_equal(wal_stat(s.read_url, "logged"), 1);
	wait_applied(s.read_url, 1);
	assert_int_equal(wal_stat(s.read_url, "backlog_bytes"), 0);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), 1);
	xs_test_server_fini(&s);
}

/* No room on the disk for the log: the write is refused ("internal",
 * an input/output error, as a full disk under the store) and nothing of
 * it is logged or applied. RLIMIT_FSIZE stands in for a
 * full disk (the log reserves its space in steps of 8 MiB). */
static void
test_wal_full_disk_refuses_whole_write(void **state)
{
	struct xs_test_server s;
	json_t               *r;

	(void) state;
	xs_test_server_start_limited(&s, wal_args, (uint64_t) 4 << 20);
	r = xs_test_call(s.admin_url,
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"o1\",\"items\":[\"a\",\"b\"]}]}");
	assert_string_equal(xs_test_reply_code(r), "internal");
	json_decref(r);
	assert_int_equal(file_size(s.db, SEG1), 0);
	assert_int_equal(xs_test_stats_orders(s.read_url), 0);
	xs_test_server_fini(&s);
}

/* ==== Many writers ==== */

#define WRITERS 8
#define W_BATCHES 25
#define W_ORDERS 250 /* per batch: ~20 KB, so the 1 MiB log rotates */
#define W_TIMEOUT_MS 60000

struct writer {
	pthread_t   thread;
	const char *url;
	unsigned    w;
	void       *req[W_BATCHES];
	size_t      len[W_BATCHES];
	void       *reply[W_BATCHES]; /* malloc'd, NULL: none */
	size_t      reply_len[W_BATCHES];
};

/* No cmocka assertion here: this runs in the writers' threads. */
static void *
writer_main(void *arg)
{
	struct writer *wr = arg;
	nng_socket     sock;

	if (nng_req0_open(&sock) != 0) {
		return NULL;
	}
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, W_TIMEOUT_MS);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, W_TIMEOUT_MS);
	if (nng_dial(sock, wr->url, NULL, 0) == 0) {
		for (unsigned b = 0; b < W_BATCHES; b++) {
			if (nng_send(sock, wr->req[b], wr->len[b], 0) != 0 ||
			    nng_recv(sock, &wr->reply[b], &wr->reply_len[b],
			        NNG_FLAG_ALLOC) != 0) {
				wr->reply[b] = NULL;
				break;
			}
		}
	}
	nng_close(sock);
	return NULL;
}

/* Batch b of writer w: W_ORDERS orders of 3 items, ids of its own. */
static void *
writer_batch(unsigned w, unsigned b, size_t *lenp)
{
	size_t cap = 120 * W_ORDERS + 64, o = 0;
	char  *json = malloc(cap);
	void  *msg;

	assert_non_null(json);
	o += (size_t) snprintf(
	    json + o, cap - o, "{\"op\":\"event\",\"events\":[");
	for (unsigned i = 0; i < W_ORDERS; i++) {
		o += (size_t) snprintf(json + o, cap - o,
		    "%s{\"type\":\"order\",\"order\":\"w%ub%uo%u\","
		    "\"ts\":1700000000,\"items\":[\"i%u\",\"i%u\",\"i%u\"]}",
		    i ? "," : "", w, b, i, i % 50, (i + w) % 50 + 50,
		    b % 7 + 100);
	}
	snprintf(json + o, cap - o, "]}");
	msg = xs_test_pack(json, lenp);
	free(json);
	return msg;
}

/* Whether a reply is {"ok": true, ...}. */
static bool
reply_is_ok(const void *reply, size_t len)
{
	msgpack_unpacked up;
	bool             ok = false;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, reply, len, NULL) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    up.data.type == MSGPACK_OBJECT_MAP) {
		const msgpack_object_map *m = &up.data.via.map;

		for (uint32_t i = 0; i < m->size; i++) {
			const msgpack_object *k = &m->ptr[i].key;

			if (k->type == MSGPACK_OBJECT_STR &&
			    k->via.str.size == 2 &&
			    memcmp(k->via.str.ptr, "ok", 2) == 0 &&
			    m->ptr[i].val.type == MSGPACK_OBJECT_BOOLEAN) {
				ok = m->ptr[i].val.via.boolean;
			}
		}
	}
	msgpack_unpacked_destroy(&up);
	return ok;
}

/* Eight writers at once on a 1 MiB backlog: appends share syncs, the log
 * moves to new files many times, writers wait for the applier. Every
 * batch is acknowledged; after kill -9 and the replay, the store has
 * every order of them: WRITERS * W_BATCHES * W_ORDERS = 50,000. */
static void
test_wal_many_writers_rotate_and_replay(void **state)
{
	static const char *const args[] = { "--wal", "--wal-backlog", "1M",
		NULL };
	struct xs_test_server    s;
	struct writer            wr[WRITERS];

	(void) state;
	xs_test_server_start(&s, args);
	memset(wr, 0, sizeof(wr));
	for (unsigned w = 0; w < WRITERS; w++) {
		wr[w].url = s.admin_url;
		wr[w].w   = w;
		for (unsigned b = 0; b < W_BATCHES; b++) {
			wr[w].req[b] = writer_batch(w, b, &wr[w].len[b]);
		}
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		assert_int_equal(
		    pthread_create(&wr[w].thread, NULL, writer_main, &wr[w]),
		    0);
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		pthread_join(wr[w].thread, NULL);
	}
	for (unsigned w = 0; w < WRITERS; w++) {
		for (unsigned b = 0; b < W_BATCHES; b++) {
			assert_non_null(wr[w].reply[b]);
			assert_true(
			    reply_is_ok(wr[w].reply[b], wr[w].reply_len[b]));
			nng_free(wr[w].reply[b], wr[w].reply_len[b]);
			free(wr[w].req[b]);
		}
	}
	assert_true(WIFSIGNALED(xs_test_server_signal(&s, SIGKILL)));
	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), 50000);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	xs_test_server_fini(&s);
}

/* ==== The applier's groups ==== */

/* The JSON of an event request of n views by 'user', view i of an item
 * whose id is ids[i] characters long (zero-padded i; 32..255 characters:
 * one byte more of id is one byte more of msgpack). Malloc'd. */
static char *
views_json(const char *user, size_t n, const unsigned *ids)
{
	size_t cap = n * 320 + 64, o = 0;
	char  *json = malloc(cap);

	assert_non_null(json);
	o += (size_t) snprintf(
	    json + o, cap - o, "{\"op\":\"event\",\"events\":[");
	for (size_t i = 0; i < n; i++) {
		o += (size_t) snprintf(json + o, cap - o,
		    "%s{\"type\":\"view\",\"user\":\"%s\",\"ts\":1700000000,"
		    "\"item\":\"%0*zu\"}",
		    i > 0 ? "," : "", user, (int) ids[i], i);
		assert_true(o < cap);
	}
	snprintf(json + o, cap - o, "]}");
	return json;
}

/* An event request of views (views_json) packed to exactly 'len' bytes
 * of msgpack, more than 1,000 (malloc'd); its view count in *np. The
 * count is found with ids of 200 characters, then ids are lengthened
 * (up to 255) by the bytes still missing. */
static void *
views_of_len(size_t len, size_t *np)
{
	size_t    n = len / 260 + 1, packed = 0;
	unsigned *ids = NULL;
	char     *json;
	void     *body;

	for (int tries = 0; tries < 100; tries++) {
		free(ids);
		ids = malloc(n * sizeof(*ids));
		assert_non_null(ids);
		for (size_t i = 0; i < n; i++) {
			ids[i] = 200;
		}
		json = views_json("g", n, ids);
		free(xs_test_pack(json, &packed));
		free(json);
		if (packed > len) {
			n--;
		} else if (len - packed > n * 55) {
			n++;
		} else {
			break;
		}
	}
	assert_true(packed <= len && len - packed <= n * 55);
	for (size_t i = 0, more = len - packed; more > 0; i++) {
		unsigned add = more < 55 ? (unsigned) more : 55;

		ids[i] += add;
		more -= add;
	}
	json = views_json("g", n, ids);
	body = xs_test_pack(json, &packed);
	assert_int_equal(packed, len);
	free(json);
	free(ids);
	*np = n;
	return body;
}

/* An applier group takes at most half of --wal-backlog of requests
 * (512 KiB = 524,288 bytes here), as documented: a replay, whose groups
 * do not depend on timing, of five entries of 300,000 and 224,288 bytes
 * (exactly the bound: one group), 1,000 and 523,289 (one byte past it:
 * two groups), and 600,000 (past it alone: a group of its own) applies
 * them in 4 groups, as its log line says, and every view. The group
 * was closed only once it had reached the bound, so an entry past it
 * joined the group: 3 groups, the second 1 byte over. */
static void
test_wal_group_stays_within_its_bound(void **state)
{
	static const char *const args[] = { "--wal", "--wal-backlog", "1M",
		NULL };
	static const size_t lens[] = { 300000, 224288, 1000, 523289, 600000 };
	struct xs_test_server s;
	size_t                views = 0;
	char                 *log_path;
	char                  log[16384];

	(void) state;
	xs_test_server_start(&s, args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n;
		void  *body = views_of_len(lens[i], &n);

		append_frame(s.db, SEG1, i + 1, body, lens[i]);
		free(body);
		views += n;
	}
	log_path   = path_in(s.dir, "xselld.log");
	s.log_path = log_path;
	xs_test_server_restart(&s);
	assert_int_equal(wal_stat(s.read_url, "applied"), 5);
	assert_int_equal(
	    xs_test_stat(s.read_url, "counts", "events"), (json_int_t) views);
	xs_test_slurp(log_path, log, sizeof(log));
	xs_test_assert_has(log, "wal: replayed entries 1..5 in 4 groups");
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	free(log_path);
	xs_test_server_fini(&s);
}

/* ==== An entry that cannot be applied ==== */

/* Damage the store in 'db' (no server on it) as a lost record would:
 * delete the order records 'a' and 'b', which their users' ledgers still
 * name, so that forgetting either user fails with "store is damaged"
 * however often it is tried. */
static void
orders_delete(const char *db, const char *a, const char *b)
{
	xs_store *st;
	MDB_txn  *txn;

	assert_xs_ok(xs_store_open(&st, db, NULL));
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_order_del(st, txn, a, strlen(a)));
	assert_xs_ok(xs_store_order_del(st, txn, b, strlen(b)));
	assert_xs_ok(xs_txn_commit(txn));
	xs_store_close(st);
}

/* An order of the tests below: its id, its user and its two items. */
struct order {
	const char *order, *user, *a, *b;
};

/* An event request (JSON, into buf of 'cap' bytes) of the n orders
 * ords[], order i at ts 1700000000 + i. */
static void
orders_json(char *buf, size_t cap, const struct order *ords, size_t n)
{
	size_t o =
	    (size_t) snprintf(buf, cap, "{\"op\":\"event\",\"events\":[");

	for (size_t i = 0; i < n; i++) {
		o += (size_t) snprintf(buf + o, cap - o,
		    "%s{\"type\":\"order\",\"order\":\"%s\",\"user\":\"%s\","
		    "\"ts\":%zu,\"items\":[\"%s\",\"%s\"]}",
		    i > 0 ? "," : "", ords[i].order, ords[i].user,
		    1700000000 + i, ords[i].a, ords[i].b);
		assert_true(o < cap);
	}
	o += (size_t) snprintf(buf + o, cap - o, "]}");
	assert_true(o < cap);
}

/* The event request of one order, 'order' of 'user' with items a and b
 * (JSON, into buf of 'cap' bytes). */
static void
order_json(char *buf, size_t cap, const char *order, const char *user,
    const char *a, const char *b)
{
	const struct order one = { order, user, a, b };

	orders_json(buf, cap, &one, 1);
}

/* The poison tests' store: orders p0, p1 and p2 of u1, u2 and u3 (one
 * request), whose records of p0 and p1 are then lost. */
static const struct order poison_first[] = {
	{ "p0", "u1", "a", "b" },
	{ "p1", "u2", "a", "c" },
	{ "p2", "u3", "b", "c" },
};

/* Send the poison tests' first request to 'url'; acknowledged. */
static void
poison_first_send(const char *url)
{
	char    json[512];
	json_t *r;

	orders_json(json, sizeof(json), poison_first,
	    sizeof(poison_first) / sizeof(poison_first[0]));
	r = xs_test_call(url, json);
	assert_string_equal(xs_test_reply_code(r), "ok");
	json_decref(r);
}

/* The quarantine file (<db>/wal-skipped): at offset 'at' it must hold
 * entry 'seq' with exactly the body 'body' of 'len' bytes and a good
 * CRC, and nothing after it when 'last'. */
static void
expect_skipped(const char *db, size_t at, uint64_t seq, const void *body,
    size_t len, bool last)
{
	char         *p = path_in(db, "wal-skipped");
	FILE         *f = fopen(p, "rb");
	unsigned char h[HDR_LEN];
	unsigned char got[4096];
	uint32_t      magic, blen, crc, want_crc;
	uint64_t      s;

	assert_non_null(f);
	assert_int_equal(fseek(f, (long) at, SEEK_SET), 0);
	assert_int_equal(fread(h, HDR_LEN, 1, f), 1);
	memcpy(&magic, h, 4);
	memcpy(&blen, h + 4, 4);
	memcpy(&s, h + 8, 8);
	memcpy(&crc, h + 24, 4);
	assert_int_equal(magic, 0x4c415758u);
	assert_int_equal(blen, len);
	assert_int_equal(s, seq);
	assert_true(len <= sizeof(got));
	assert_int_equal(fread(got, len, 1, f), 1);
	assert_memory_equal(got, body, len);
	memset(h + 24, 0, 4);
	want_crc = crc32_add(0xffffffffu, h, HDR_LEN);
	want_crc = crc32_add(want_crc, got, len) ^ 0xffffffffu;
	assert_int_equal(crc, want_crc);
	if (last) {
		assert_int_equal(fgetc(f), EOF);
	}
	fclose(f);
	free(p);
}

/* Three orders (entry 1), of u1, u2 and u3; then, offline, the records
 * of u1's and u2's orders are lost. A log left by a crash holds entry 2,
 * forget_user u1 (it fails on every try: its ledger names a lost order),
 * and entry 3, an order of u4. The restart skips entry 2 (the store gets
 * its seq, nothing else), copies it to wal-skipped and applies entry 3:
 * 3 + 1 = 4 orders. Live, forget_user u2 (entry 4) fails the same way:
 * its client hears "internal" (nothing changed), and the order of u5
 * after it (entry 5) is applied: 5 orders, 2 skipped. A clean restart
 * then has nothing to skip. */
static void
test_wal_poison_entry_skipped_at_replay_and_live(void **state)
{
	static const char forget_u1[] =
	    "{\"op\":\"forget_user\",\"user\":\"u1\"}";
	static const char forget_u2[] =
	    "{\"op\":\"forget_user\",\"user\":\"u2\"}";
	struct xs_test_server s;
	char                  json[256];
	void                 *poison, *live_poison;
	size_t                poison_len, good_len, live_len;
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	poison_first_send(s.admin_url);
	wait_applied(s.read_url, 1);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_int_equal(file_size(s.db, SEG1), -1);
	orders_delete(s.db, "p0", "p1");

	poison = append_entry(
	    s.db, "wal-0000000000000002.log", 2, forget_u1, &poison_len);
	order_json(json, sizeof(json), "p3", "u4", "d", "e");
	free(append_entry(
	    s.db, "wal-0000000000000002.log", 3, json, &good_len));

	xs_test_server_restart(&s);
	assert_int_equal(wal_stat(s.read_url, "skipped"), 1);
	assert_int_equal(wal_stat(s.read_url, "applied"), 3);
	assert_int_equal(wal_stat(s.read_url, "backlog_bytes"), 0);
	assert_int_equal(xs_test_stats_orders(s.read_url), 4);
	expect_skipped(s.db, 0, 2, poison, poison_len, true);

	/* Live: the forget's client waits for it and hears the error. */
	live_poison = xs_test_pack(forget_u2, &live_len);
	r           = xs_test_call(s.admin_url, forget_u2);
	assert_string_equal(xs_test_reply_code(r), "internal");
	json_decref(r);
	assert_int_equal(wal_stat(s.read_url, "skipped"), 2);
	order_json(json, sizeof(json), "p4", "u5", "d", "f");
	r = xs_test_call(s.admin_url, json);
	assert_string_equal(xs_test_reply_code(r), "ok");
	json_decref(r);
	wait_applied(s.read_url, 5);
	assert_int_equal(xs_test_stats_orders(s.read_url), 5);
	expect_skipped(s.db, 0, 2, poison, poison_len, false);
	expect_skipped(
	    s.db, HDR_LEN + poison_len, 4, live_poison, live_len, true);

	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	xs_test_server_restart(&s);
	assert_int_equal(wal_stat(s.read_url, "skipped"), 0);
	assert_int_equal(xs_test_stats_orders(s.read_url), 5);
	free(poison);
	free(live_poison);
	xs_test_server_fini(&s);
}

/* A log left by a crash, in a store without its entries: entry 1, an
 * order of u1; entry 2, a whole frame with a good CRC whose body is not
 * a request (0xc1 is a byte msgpack never uses); entry 3, a request
 * that decodes but is not a write (fbt); entry 4, an order of u2. The
 * start applies 1 and 4 (2 orders), skips 2 and 3 (stats.wal.skipped
 * 2, both copied to wal-skipped byte for byte, in order) and the store
 * has every seq (applied 4); nothing stalls: a write after them is
 * acknowledged and applied (seq 5, 3 orders). */
static void
test_wal_undecodable_entry_skipped_between_good_ones(void **state)
{
	static const unsigned char junk[] = { 0xc1, 'n', 'o', 't', ' ', 'a',
		' ', 'r', 'e', 'q', 'u', 'e', 's', 't' };
	struct xs_test_server      s;
	char                       json[256];
	void                      *read_op;
	size_t                     read_len, len;
	json_t                    *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_int_equal(file_size(s.db, SEG1), -1);

	order_json(json, sizeof(json), "d0", "u1", "a", "b");
	free(append_entry(s.db, SEG1, 1, json, &len));
	append_frame(s.db, SEG1, 2, junk, sizeof(junk));
	read_op = append_entry(
	    s.db, SEG1, 3, "{\"op\":\"fbt\",\"item\":\"a\"}", &read_len);
	order_json(json, sizeof(json), "d1", "u2", "c", "d");
	free(append_entry(s.db, SEG1, 4, json, &len));

	xs_test_server_restart(&s);
	assert_int_equal(wal_stat(s.read_url, "skipped"), 2);
	assert_int_equal(wal_stat(s.read_url, "applied"), 4);
	assert_int_equal(wal_stat(s.read_url, "backlog_bytes"), 0);
	assert_int_equal(xs_test_stats_orders(s.read_url), 2);
	expect_skipped(s.db, 0, 2, junk, sizeof(junk), false);
	expect_skipped(
	    s.db, HDR_LEN + sizeof(junk), 3, read_op, read_len, true);

	order_json(json, sizeof(json), "d2", "u3", "a", "c");
	r = xs_test_call(s.admin_url, json);
	assert_string_equal(xs_test_reply_code(r), "ok");
	json_decref(r);
	wait_applied(s.read_url, 5);
	assert_int_equal(xs_test_stats_orders(s.read_url), 3);
	assert_int_equal(wal_stat(s.read_url, "skipped"), 2);
	free(read_op);
	xs_test_server_fini(&s);
}

/* ==== forget_user's wait for its result ==== */

/* How long a call from a thread of its own waits for its reply: a
 * forget_user's comes within a few seconds even under the shim. */
#define CALL_WAIT_MS 8000

/* A request sent from a thread of its own, its reply kept (no cmocka
 * assertion runs in that thread). */
struct call {
	pthread_t   thread;
	const char *url;
	void       *req; /* msgpack, malloc'd */
	size_t      len;
	void       *reply; /* nng's; NULL: none within CALL_WAIT_MS */
	size_t      reply_len;
};

static void *
call_main(void *arg)
{
	struct call *c = arg;
	nng_socket   sock;

	if (nng_req0_open(&sock) != 0) {
		return NULL;
	}
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, CALL_WAIT_MS);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, CALL_WAIT_MS);
	if (nng_dial(sock, c->url, NULL, 0) != 0 ||
	    nng_send(sock, c->req, c->len, 0) != 0 ||
	    nng_recv(sock, &c->reply, &c->reply_len, NNG_FLAG_ALLOC) != 0) {
		c->reply = NULL;
	}
	nng_close(sock);
	return NULL;
}

/* Send the request 'json' to 'url' from a thread of its own. */
static void
call_start(struct call *c, const char *url, const char *json)
{
	memset(c, 0, sizeof(*c));
	c->url = url;
	c->req = xs_test_pack(json, &c->len);
	assert_int_equal(pthread_create(&c->thread, NULL, call_main, c), 0);
}

/* Wait for the call's thread: its reply as JSON (caller json_decref's
 * it), or NULL if none came. */
static json_t *
call_end(struct call *c)
{
	json_t *r = NULL;

	assert_int_equal(pthread_join(c->thread, NULL), 0);
	free(c->req);
	if (c->reply != NULL) {
		r = xs_test_reply_json(c->reply, c->reply_len);
		nng_free(c->reply, c->reply_len);
	}
	return r;
}

/* Fails the test unless 'r' (taken) is a reply of code 'code'. */
static void
assert_reply_code(json_t *r, const char *code)
{
	assert_non_null(r);
	assert_string_equal(xs_test_reply_code(r), code);
	json_decref(r);
}

/* Preload the shared object 'shim' into the processes this one starts
 * until preload_end, not into this process (the variable is read at a
 * start). A sanitizer's runtime, which wants to come first, is told to
 * allow it. Returns the ASAN_OPTIONS to put back (malloc'd, NULL: none),
 * for preload_end. */
static char *
preload_begin(const char *shim)
{
	const char *asan     = getenv("ASAN_OPTIONS");
	char       *asan_was = asan != NULL ? strdup(asan) : NULL;
	char        opts[1024];

	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0",
	    asan != NULL ? asan : "", asan != NULL ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	setenv("LD_PRELOAD", shim, 1);
	return asan_was;
}

/* Preload nothing from now on; 'asan_was' (taken) is preload_begin's. */
static void
preload_end(char *asan_was)
{
	unsetenv("LD_PRELOAD");
	if (asan_was != NULL) {
		setenv("ASAN_OPTIONS", asan_was, 1);
	} else {
		unsetenv("ASAN_OPTIONS");
	}
	free(asan_was);
}

/* Restart 's' with the shared object 'shim' preloaded into xselld. */
static void
restart_preloaded(struct xs_test_server *s, const char *shim)
{
	char *asan_was = preload_begin(shim);

	xs_test_server_restart(s);
	preload_end(asan_was);
}

/* A forget_user whose entry another writer's sync makes durable must
 * still get its result. The shim (support/shim_forget_race.c) puts the
 * writers in that order: writer A's sync is under way when the forget's
 * writer W appends, so W waits for it; W is then slow to take the log's
 * mutex back until writer C's sync has covered W's entry and the
 * applier has had time to apply it. W listed itself as a waiter only
 * after that, so the applier delivered the result to nobody and W
 * waited for ever: no reply, and a stop hung until its 10 s watchdog.
 * The reply says the victim's order was taken out; the stop is clean. */
static void
test_wal_forget_answered_when_another_writer_syncs_it(void **state)
{
	struct xs_test_server s;
	struct call           a, w, c;
	char                  json[256];
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	order_json(json, sizeof(json), "v1", "victim", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	wait_applied(s.read_url, 1);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	restart_preloaded(&s, XS_TEST_SHIM_FORGET_RACE);

	order_json(json, sizeof(json), "a1", "ua", "a", "c");
	call_start(&a, s.admin_url, json);
	nng_msleep(200); /* A's sync is held until W's entry is appended */
	call_start(
	    &w, s.admin_url, "{\"op\":\"forget_user\",\"user\":\"victim\"}");
	nng_msleep(300); /* W waits for A's sync, and is held after it */
	order_json(json, sizeof(json), "c1", "uc", "b", "c");
	call_start(&c, s.admin_url, json);

	assert_reply_code(call_end(&a), "ok");
	assert_reply_code(call_end(&c), "ok");
	r = call_end(&w);
	if (r == NULL) {
		fail_msg("no reply to forget_user within %d ms", CALL_WAIT_MS);
	}
	assert_string_equal(xs_test_reply_code(r), "ok");
	assert_true(json_is_true(json_object_get(r, "forgotten")));
	assert_int_equal(json_integer_value(json_object_get(r, "orders")), 1);
	json_decref(r);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	xs_test_server_fini(&s);
}

/* Hold LMDB's writer lock on the store in 'db' (opened on a map of
 * 'map_size' bytes, 0: the default, as xselld's), which every process
 * with the store open shares: xselld's applier, having read its group,
 * waits to begin its transaction, so whatever is logged meanwhile stays
 * unapplied until writer_release. */
static void
writer_hold(const char *db, size_t map_size, xs_store **stp, MDB_txn **txnp)
{
	struct xs_store_opts so = { 0 };

	so.map_size = map_size;
	assert_xs_ok(xs_store_open(stp, db, &so));
	assert_xs_ok(xs_txn_write(*stp, txnp));
}

static void
writer_release(xs_store *st, MDB_txn *txn)
{
	xs_txn_abort(txn);
	xs_store_close(st);
}

/* Wait until stats.wal says entry 'seq' is logged (synced): up to 30 s,
 * as wait_applied. */
static void
wait_logged(const char *url, json_int_t seq)
{
	for (int i = 0; i < 3000 && wal_stat(url, "logged") != seq; i++) {
		nng_msleep(10);
	}
	assert_int_equal(wal_stat(url, "logged"), seq);
}

/* Whether user 'user' is known to the server at 'url' (history). */
static bool
user_known(const char *url, const char *user)
{
	char    json[256];
	json_t *r;
	bool    known;

	snprintf(
	    json, sizeof(json), "{\"op\":\"history\",\"user\":\"%s\"}", user);
	r     = xs_test_call_ok(url, json);
	known = json_is_true(json_object_get(r, "known"));
	json_decref(r);
	return known;
}

/* The victim of the tests below: one order (entry 1), applied, then
 * LMDB's writer lock held by the test and an order of another user
 * logged (entry 2: the applier waits with it), then forget_user victim
 * sent from a thread of its own (entry 3, logged behind it). */
static void
forget_behind_held_writer(struct xs_test_server *s, size_t map_size,
    const char *entry2, xs_store **stp, MDB_txn **txnp, struct call *w)
{
	char json[256];

	order_json(json, sizeof(json), "v1", "victim", "a", "b");
	xs_test_send_ok(s->admin_url, json);
	wait_applied(s->read_url, 1);
	writer_hold(s->db, map_size, stp, txnp);
	xs_test_send_ok(s->admin_url, entry2);
	call_start(
	    w, s->admin_url, "{\"op\":\"forget_user\",\"user\":\"victim\"}");
	wait_logged(s->read_url, 3);
	assert_int_equal(wal_stat(s->read_url, "applied"), 1);
}

/* A forget_user in flight when xselld is told to stop gets its result:
 * the stop applies the log before it closes it, and the forget's reply
 * waits for that. Its entry is held behind another (LMDB's writer lock,
 * held by the test) until after SIGTERM. It was answered "unavailable"
 * (an error, which says that nothing changed), yet applied at the stop.
 * The reply says the victim's order was taken out, the stop is clean,
 * and after a restart the victim is unknown and the other order is
 * there. */
static void
test_wal_forget_in_flight_at_stop_gets_its_result(void **state)
{
	struct xs_test_server s;
	struct call           w;
	xs_store             *st;
	MDB_txn              *txn;
	char                  json[256];
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	order_json(json, sizeof(json), "o2", "u2", "c", "d");
	forget_behind_held_writer(&s, 0, json, &st, &txn, &w);
	assert_int_equal(kill(s.pid, SIGTERM), 0);
	nng_msleep(500); /* the stop has begun: the workers are told */
	writer_release(st, txn);

	r = call_end(&w);
	if (r == NULL) {
		fail_msg("no reply to forget_user within %d ms", CALL_WAIT_MS);
	}
	assert_string_equal(xs_test_reply_code(r), "ok");
	assert_true(json_is_true(json_object_get(r, "forgotten")));
	assert_int_equal(json_integer_value(json_object_get(r, "orders")), 1);
	json_decref(r);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_int_equal(wal_names(s.db), 0); /* all applied at the stop */

	xs_test_server_restart(&s);
	assert_false(user_known(s.read_url, "victim"));
	assert_int_equal(xs_test_stats_orders(s.read_url), 1);
	xs_test_server_fini(&s);
}

/* Whether data[0..n) holds the bytes of 'needle'. */
static bool
bytes_hold(const char *data, size_t n, const char *needle)
{
	size_t len = strlen(needle);

	for (size_t i = 0; i + len <= n; i++) {
		if (memcmp(data + i, needle, len) == 0) {
			return true;
		}
	}
	return false;
}

/* Whether a file of 'dir' whose name starts with "wal-" (the log's
 * segments, wal-skipped) holds the bytes of 'needle'. */
static bool
log_files_hold(const char *dir, const char *needle)
{
	DIR           *d = opendir(dir);
	struct dirent *e;
	bool           found = false;

	assert_non_null(d);
	while (!found && (e = readdir(d)) != NULL) {
		char  *p;
		FILE  *f;
		char  *data;
		size_t n;

		if (strncmp(e->d_name, "wal-", 4) != 0) {
			continue;
		}
		p = path_in(dir, e->d_name);
		f = fopen(p, "rb");
		assert_non_null(f);
		data = malloc((size_t) file_size(dir, e->d_name) + 1);
		assert_non_null(data);
		n = fread(data, 1, (size_t) file_size(dir, e->d_name), f);
		fclose(f);
		found = bytes_hold(data, n, needle);
		free(data);
		free(p);
	}
	closedir(d);
	return found;
}

/* Once forget_user is answered, no log file holds the forgotten user's
 * requests (their order, the forget itself, which names them), as
 * forget_user.md promises of "what is kept about them": the segment
 * holding them was deleted only when a later segment's entries were
 * applied, which a quiet server reaches after 64 MiB of writes, so
 * wal-1.log kept them on disk for as long as the server ran. The log
 * goes on: the next write is logged and survives kill -9. */
static void
test_wal_forget_deletes_the_users_requests_from_the_log(void **state)
{
	struct xs_test_server s;
	char                  json[256];
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	order_json(json, sizeof(json), "victim-o1", "victim", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s.admin_url, json);
	assert_true(log_files_hold(s.db, "victim"));

	r = xs_test_call_ok(
	    s.admin_url, "{\"op\":\"forget_user\",\"user\":\"victim\"}");
	assert_true(json_is_true(json_object_get(r, "forgotten")));
	assert_int_equal(json_integer_value(json_object_get(r, "orders")), 1);
	json_decref(r);
	assert_false(log_files_hold(s.db, "victim"));

	order_json(json, sizeof(json), "o3", "u3", "b", "c");
	xs_test_send_ok(s.admin_url, json);
	assert_true(WIFSIGNALED(xs_test_server_signal(&s, SIGKILL)));
	xs_test_server_restart(&s);
	assert_false(user_known(s.read_url, "victim"));
	assert_int_equal(xs_test_stats_orders(s.read_url), 2);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_false(log_files_hold(s.db, "victim"));
	xs_test_server_fini(&s);
}

/* Wait until the text of file 'path' (a server's log) holds 'want': up
 * to 30 s, as wait_applied; the text is left in buf[0..len). */
static void
wait_log_has(const char *path, const char *want, char *buf, size_t len)
{
	for (int i = 0; i < 3000; i++) {
		xs_test_slurp(path, buf, len);
		if (strstr(buf, want) != NULL) {
			return;
		}
		nng_msleep(10);
	}
	xs_test_assert_has(buf, want);
}

/* The files of 'dir' that the shim (support/shim_sync_fail.c) kept
 * as <name>.unsynced, deleted but not yet synced in the directory, are
 * named back <name>, as a crash of the machine may bring them back;
 * returns how many. */
static int
crash_brings_back_unsynced(const char *dir)
{
	static const char sfx[] = ".unsynced";
	DIR              *d     = opendir(dir);
	struct dirent    *e;
	int               n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char  *from, *to;

		if (len <= sizeof(sfx) - 1 ||
		    strcmp(e->d_name + len - (sizeof(sfx) - 1), sfx) != 0) {
			continue;
		}
		from = path_in(dir, e->d_name);
		to   = strdup(from);
		assert_non_null(to);
		to[strlen(to) - (sizeof(sfx) - 1)] = '\0';
		assert_int_equal(rename(from, to), 0);
		free(from);
		free(to);
		n++;
	}
	closedir(d);
	return n;
}

/* Once forget_user is answered, the deletion of the log files holding
 * the user's requests is durable: the directory was synced after the
 * unlinks. The shim (support/shim_sync_fail.c, with
 * XS_SHIM_DIR_SYNC_FAIL_WHILE) keeps a deleted log file as
 * <name>.unsynced until its directory is synced, as a crash of the
 * machine may bring it back until then: the reply came with the file
 * unlinked and the directory not synced, so the victim's order stayed
 * in a file a crash could bring back. Then, with the directory's sync
 * failing after a deletion (EIO, while a flag file exists), a
 * forget_user is still answered with its result (it was applied: an
 * error would say nothing changed), and the server's log says that the
 * deletion is not durable. After kill -9, with the file brought back as
 * a crash could, the restart deletes it again: no log file holds the
 * user's requests, the user stays forgotten, one order is left. */
static void
test_wal_forget_deletion_is_synced(void **state)
{
	struct xs_test_server s;
	char                  json[256], log[16384];
	char                 *log_path, *flag;
	FILE                 *f;
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	log_path   = path_in(s.dir, "xselld.log");
	flag       = path_in(s.dir, "dir-sync-fails");
	s.log_path = log_path;
	setenv("XS_SHIM_DIR_SYNC_FAIL_WHILE", flag, 1);
	restart_preloaded(&s, XS_TEST_SHIM_SYNC_FAIL);
	unsetenv("XS_SHIM_DIR_SYNC_FAIL_WHILE");

	order_json(json, sizeof(json), "victim-o1", "victim", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s.admin_url, json);
	r = xs_test_call_ok(
	    s.admin_url, "{\"op\":\"forget_user\",\"user\":\"victim\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "orders")), 1);
	json_decref(r);
	assert_false(log_files_hold(s.db, "victim"));

	/* Entries 4 and 5; the directory's sync after the deletion of the
	 * file holding them fails. */
	f = fopen(flag, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	order_json(json, sizeof(json), "loser-o1", "loser", "b", "c");
	xs_test_send_ok(s.admin_url, json);
	r = xs_test_call_ok(
	    s.admin_url, "{\"op\":\"forget_user\",\"user\":\"loser\"}");
	assert_true(json_is_true(json_object_get(r, "forgotten")));
	assert_int_equal(json_integer_value(json_object_get(r, "orders")), 1);
	json_decref(r);
	wait_log_has(log_path,
	    "wal: forget_user (entry 5): the log files holding it are "
	    "deleted, but the deletion is not durable",
	    log, sizeof(log));
	assert_true(log_files_hold(s.db, "loser"));

	assert_true(WIFSIGNALED(xs_test_server_signal(&s, SIGKILL)));
	assert_int_equal(unlink(flag), 0);
	assert_int_equal(crash_brings_back_unsynced(s.db), 1);
	assert_true(file_size(s.db, "wal-0000000000000004.log") > 0);
	xs_test_server_restart(&s);
	assert_false(log_files_hold(s.db, "loser"));
	assert_false(user_known(s.read_url, "loser"));
	assert_false(user_known(s.read_url, "victim"));
	assert_int_equal(xs_test_stats_orders(s.read_url), 1);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	free(flag);
	free(log_path);
	xs_test_server_fini(&s);
}

/* A forget_user's writer woken after the applier delivered its result,
 * but before the applier recorded the forget's entry as applied, still
 * deletes the log file holding the user's requests before it replies.
 * The shim (support/shim_forget_wake.c) wakes the forget's writer early,
 * as a spurious wakeup does (so do a writer waiting for backlog room
 * handing on its place, a broken log and a stop), and has the applier
 * take the log's mutex late, so that the writer sees its result in
 * between. It deleted the segments up to the applier's older "last
 * applied", none of them, logged that the file "could not be deleted
 * yet", and replied with the victim's order still on disk, until the
 * applier deleted the file a moment later. */
static void
test_wal_forget_woken_early_deletes_the_users_requests(void **state)
{
	struct xs_test_server s;
	char                  json[256], log[16384];
	char                 *log_path;
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	log_path   = path_in(s.dir, "xselld.log");
	s.log_path = log_path;
	restart_preloaded(&s, XS_TEST_SHIM_FORGET_WAKE);

	order_json(json, sizeof(json), "victim-o1", "victim", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s.admin_url, json);
	/* The applier is idle: the shim's late locks are the forget's. */
	wait_applied(s.read_url, 2);
	assert_true(log_files_hold(s.db, "victim"));

	r = xs_test_call_ok(
	    s.admin_url, "{\"op\":\"forget_user\",\"user\":\"victim\"}");
	assert_true(json_is_true(json_object_get(r, "forgotten")));
	assert_int_equal(json_integer_value(json_object_get(r, "orders")), 1);
	json_decref(r);
	xs_test_slurp(log_path, log, sizeof(log));
	if (log_files_hold(s.db, "victim")) {
		fail_msg("forget_user was answered with the victim's order "
		         "in a log file; xselld's log:\n%s",
		    log);
	}
	assert_null(strstr(log, "could not be deleted yet"));

	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	free(log_path);
	xs_test_server_fini(&s);
}

/* A client that reads stats right after a forget_user's reply sees the
 * forget's entry applied (stats.wal.applied at least the entry logged
 * for it), as the reply comes after the apply. The shim
 * (support/shim_forget_wake.c) wakes the forget's writer early and has
 * the applier take the log's mutex late, so that the writer sees its
 * result before the applier's next hold of the mutex. stats said
 * applied 2, logged 3: the applier recorded the group as applied only
 * in that next hold. */
static void
test_wal_forget_reply_comes_with_its_entry_counted_applied(void **state)
{
	struct xs_test_server s;
	char                  json[256];
	json_int_t            logged, applied;
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	restart_preloaded(&s, XS_TEST_SHIM_FORGET_WAKE);
	order_json(json, sizeof(json), "victim-o1", "victim", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s.admin_url, json);
	/* The applier is idle: the shim's late locks are the forget's. */
	wait_applied(s.read_url, 2);

	r = xs_test_call_ok(
	    s.admin_url, "{\"op\":\"forget_user\",\"user\":\"victim\"}");
	json_decref(r);
	applied = wal_stat(s.read_url, "applied");
	logged  = wal_stat(s.read_url, "logged");
	assert_int_equal(logged, 3);
	if (applied < logged) {
		fail_msg("stats after the forget_user's reply: applied %lld, "
		         "logged %lld",
		    (long long) applied, (long long) logged);
	}
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	xs_test_server_fini(&s);
}

/* Orders that a 1 MiB map cannot take in one transaction: 2,000 of 10
 * items each, no item in two of them (JSON, malloc'd). */
static char *
map_filling_orders(void)
{
	size_t cap = 2000 * 200 + 64, o = 0;
	char  *json = malloc(cap);

	assert_non_null(json);
	o += (size_t) snprintf(
	    json + o, cap - o, "{\"op\":\"event\",\"events\":[");
	for (unsigned i = 0; i < 2000; i++) {
		o += (size_t) snprintf(json + o, cap - o,
		    "%s{\"type\":\"order\",\"order\":\"big%u\",\"user\":"
		    "\"w%u\",\"ts\":1700000000,\"items\":[",
		    i > 0 ? "," : "", i, i);
		for (unsigned j = 0; j < 10; j++) {
			o += (size_t) snprintf(json + o, cap - o,
			    "%s\"m%u-%u\"", j > 0 ? "," : "", i, j);
		}
		o += (size_t) snprintf(json + o, cap - o, "]}");
		assert_true(o < cap);
	}
	snprintf(json + o, cap - o, "]}");
	return json;
}

/* A forget_user in flight when xselld is told to stop, while the store
 * cannot take the log (the entry before it does not fit the 1 MiB map:
 * writes are refused from then on), gets no reply at all: it is logged
 * and a later start applies it, so neither a result nor an error (which
 * says nothing changed) would be true. It was answered "unavailable".
 * The stop is clean and quick (not the 10 s watchdog's); restarted on a
 * larger map, the log applies: the victim is unknown, the 2,000 orders
 * are there. */
static void
test_wal_forget_unapplicable_at_stop_gets_no_reply(void **state)
{
	static const char *const tiny[] = { "--wal", "--map-size", "1M",
		NULL };
	struct xs_test_server    s;
	struct call              w;
	xs_store                *st;
	MDB_txn                 *txn;
	char                    *big = map_filling_orders();
	json_t                  *r;
	int                      status = -1;

	(void) state;
	xs_test_server_start(&s, tiny);
	forget_behind_held_writer(&s, (size_t) 1 << 20, big, &st, &txn, &w);
	free(big);
	assert_int_equal(kill(s.pid, SIGTERM), 0);
	nng_msleep(500); /* the stop has begun: the workers are told */
	writer_release(st, txn);

	/* Well before the stop's 10 s watchdog. */
	for (int i = 0; i < 50 && waitpid(s.pid, &status, WNOHANG) == 0; i++) {
		nng_msleep(100);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	s.pid = -1;
	r     = call_end(&w);
	if (r != NULL) {
		char *text = json_dumps(r, JSON_COMPACT);

		fail_msg("forget_user was answered %s", text);
	}

	s.extra = wal_args;
	xs_test_server_restart(&s);
	assert_false(user_known(s.read_url, "victim"));
	assert_int_equal(xs_test_stats_orders(s.read_url), 2000);
	xs_test_server_fini(&s);
}

/* ==== Writers waiting for backlog room ==== */

static const char *const small_backlog_args[] = { "--wal", "--wal-backlog",
	"1M", NULL };

/* A write of more than the 1 MiB backlog: BIG_VIEWS views by user
 * "big" of items of 200 bytes (about 1.4 MB of msgpack; JSON,
 * malloc'd). */
#define BIG_VIEWS 6000

static char *
big_write_json(void)
{
	unsigned ids[BIG_VIEWS];

	for (size_t i = 0; i < BIG_VIEWS; i++) {
		ids[i] = 200;
	}
	return views_json("big", BIG_VIEWS, ids);
}

/* Wait until the server has decoded 'n' event requests (stats
 * requests.event.requests, counted before the request is handled): up
 * to 30 s, as wait_applied. */
static void
wait_event_requests(const char *url, json_int_t n)
{
	json_int_t got = -1;

	for (int i = 0; i < 3000; i++) {
		json_t *r = xs_test_call_ok(url, "{\"op\":\"stats\"}");
		json_t *v = json_object_get(
		    json_object_get(json_object_get(r, "requests"), "event"),
		    "requests");

		got = json_is_integer(v) ? json_integer_value(v) : -1;
		json_decref(r);
		if (got == n) {
			return;
		}
		nng_msleep(10);
	}
	assert_int_equal(got, n);
}

/* A log sync that fails (EIO) refuses the writes it covered and every
 * later one with "internal", also a writer that was waiting for backlog
 * room meanwhile. The shim (support/shim_sync_fail.c) holds the sync of
 * a write larger than the 1 MiB backlog for 1.5 s, then fails it; a
 * small write sent meanwhile waits for room behind it. The failure cut
 * the unsynced entry off the log and left the backlog empty, but only
 * the applier woke writers waiting for room, and it had nothing to
 * apply: the small write got no reply until the stop. Restarted, the
 * store holds neither write. */
static void
test_wal_failed_sync_refuses_writers_waiting_for_room(void **state)
{
	struct xs_test_server s;
	struct call           a, b;
	char                  json[256];
	char                 *big = big_write_json();
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, small_backlog_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	restart_preloaded(&s, XS_TEST_SHIM_SYNC_FAIL);

	call_start(&a, s.admin_url, big);
	wait_event_requests(s.read_url, 1);
	nng_msleep(300); /* a's entry is logged, its sync held */
	order_json(json, sizeof(json), "b1", "ub", "a", "b");
	call_start(&b, s.admin_url, json);
	assert_reply_code(call_end(&a), "internal");
	r = call_end(&b);
	if (r == NULL) {
		fail_msg("no reply within %d ms to a write waiting for room "
		         "when the log's sync failed",
		    CALL_WAIT_MS);
	}
	assert_reply_code(r, "internal");
	assert_reply_code(xs_test_call(s.admin_url, json), "internal");
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);

	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stat(s.read_url, "counts", "events"), 0);
	free(big);
	xs_test_server_fini(&s);
}

static xsell_err mark_get(xs_store *st, uint64_t *seqp);

/* Restart 's' under the sync-failing shim, which fails the first log
 * sync after a write of more than 1 MiB ('cut_fails': and the sync of
 * the cut after it); send an order (entry 1, applied), then such a
 * write (entry 2), which must be refused ("internal") once its sync
 * failed. */
static void
failed_sync_after_one_order(struct xs_test_server *s, bool cut_fails)
{
	struct call c;
	char        json[256];
	char       *big = big_write_json();

	if (cut_fails) {
		setenv("XS_SHIM_SYNC_FAIL_CUT", "1", 1);
	}
	restart_preloaded(s, XS_TEST_SHIM_SYNC_FAIL);
	unsetenv("XS_SHIM_SYNC_FAIL_CUT");
	order_json(json, sizeof(json), "o1", "u1", "a", "b");
	xs_test_send_ok(s->admin_url, json);
	wait_applied(s->read_url, 1);
	call_start(&c, s->admin_url, big);
	assert_reply_code(call_end(&c), "internal");
	free(big);
}

/* After kill -9, the store of 's' holds the order of
 * failed_sync_after_one_order and not the refused write (1 event), and
 * a new write is logged and applied after entry 'last'. */
static void
assert_refused_write_not_replayed(struct xs_test_server *s, unsigned last)
{
	char json[256];

	assert_true(WIFSIGNALED(xs_test_server_signal(s, SIGKILL)));
	xs_test_server_restart(s);
	assert_int_equal(xs_test_stat(s->read_url, "counts", "events"), 1);
	assert_int_equal(xs_test_stats_orders(s->read_url), 1);
	assert_int_equal(wal_stat(s->read_url, "applied"), last);
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s->admin_url, json);
	wait_applied(s->read_url, last + 1);
	assert_int_equal(xs_test_stats_orders(s->read_url), 2);
	assert_int_equal(xs_test_server_signal(s, SIGTERM), 0);
}

/* A failed log sync refuses the write it covered and cuts its entry off
 * the log, and the cut is synced: a crash cannot bring the entry back.
 * The shim makes a cut reach the file only once a sync of it returns,
 * and kill -9 then leaves the file as a crash of the machine could. The
 * cut was not synced: the restart applied the refused write (6,000
 * views). */
static void
test_wal_failed_sync_cut_is_synced(void **state)
{
	struct xs_test_server s;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	failed_sync_after_one_order(&s, false);
	assert_refused_write_not_replayed(&s, 1);
	xs_test_server_fini(&s);
}

/* A failed log sync whose cut cannot be synced either (the shim fails
 * that sync too, and the refused entry stays in the file): the server
 * records the refused entry as applied in the store (its mark is 2)
 * once the entry before it is, and nothing of it is applied (stats
 * still say 1), so that the restart after kill -9 does not apply it,
 * and numbers the next write 3. */
static void
test_wal_failed_sync_cut_not_synced_is_marked_applied(void **state)
{
	struct xs_test_server s;
	xs_store             *st;
	uint64_t              mark = 0;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	failed_sync_after_one_order(&s, true);
	assert_xs_ok(xs_store_open(&st, s.db, NULL));
	for (int i = 0; i < 3000 && mark != 2; i++) {
		assert_xs_ok(mark_get(st, &mark));
		nng_msleep(10);
	}
	xs_store_close(st);
	assert_int_equal(mark, 2);
	assert_int_equal(wal_stat(s.read_url, "logged"), 1);
	assert_int_equal(wal_stat(s.read_url, "applied"), 1);
	assert_refused_write_not_replayed(&s, 2);
	xs_test_server_fini(&s);
}

/* A stop while the applier is stalled (a full map) before entries that
 * were refused and could not be cut off the log (the shim fails the
 * log's sync and that of its cut) records them in the store as refused,
 * so that the next start leaves them out. On a 1 MiB map, with LMDB's
 * writer lock held by the test: an order (entry 1, applied), 2,000
 * orders (entry 2, logged, too big for the map), then a write of 6,000
 * views by user "big" (entry 3: refused, "internal"; its cut not
 * synced). Released, the applier stalls on entry 2, and SIGTERM stops
 * it there. The stop left entry 3 unrecorded and logged nothing: the
 * restart on a larger map applied it with entry 2 (user "big" known),
 * though its writer was told nothing changed. Now the restart applies
 * entry 2 only, and the log goes on at entry 4. */
static void
test_wal_stop_while_stalled_records_refused_entries(void **state)
{
	static const char *const tiny[] = { "--wal", "--map-size", "1M",
		NULL };
	struct xs_test_server    s;
	xs_store                *st;
	MDB_txn                 *txn;
	char                     json[256], log[16384];
	char                    *log_path, *orders = map_filling_orders();
	char                    *refused = big_write_json();

	(void) state;
	xs_test_server_start(&s, tiny);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	log_path   = path_in(s.dir, "xselld.log");
	s.log_path = log_path;
	setenv("XS_SHIM_SYNC_FAIL_CUT", "1", 1);
	restart_preloaded(&s, XS_TEST_SHIM_SYNC_FAIL);
	unsetenv("XS_SHIM_SYNC_FAIL_CUT");
	order_json(json, sizeof(json), "o1", "u1", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	wait_applied(s.read_url, 1);

	writer_hold(s.db, (size_t) 1 << 20, &st, &txn);
	xs_test_send_ok(s.admin_url, orders);
	assert_reply_code(xs_test_call(s.admin_url, refused), "internal");
	writer_release(st, txn);
	wait_log_has(
	    log_path, "wal: cannot apply entries after 1", log, sizeof(log));
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	xs_test_slurp(log_path, log, sizeof(log)); /* the restart's is new */

	s.extra = wal_args;
	xs_test_server_restart(&s);
	assert_false(user_known(s.read_url, "big"));
	assert_int_equal(xs_test_stats_orders(s.read_url), 2001);
	assert_int_equal(wal_stat(s.read_url, "applied"), 3);
	xs_test_assert_has(log,
	    "wal: entries 3..3, refused when the log's sync failed and not "
	    "yet recorded as applied, are recorded in the store as refused");
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s.admin_url, json);
	wait_applied(s.read_url, 4);
	assert_int_equal(xs_test_stats_orders(s.read_url), 2002);
	free(orders);
	free(refused);
	free(log_path);
	xs_test_server_fini(&s);
}

/* Restart 's' under the sync-failing shim with XS_SHIM_WRITE_FAIL:
 * the first two log syncs after a write of more than 1 MiB are held
 * 1.5 s each and succeed, an entry of order "xfail" written during
 * the second fails and so does its cut (the log breaks), and writers waiting
 * then wake early. Send that write ('a', answered "ok"), then an order
 * ('b') 0.3 s later, during the first hold. */
static void
write_fail_begin(
    struct xs_test_server *s, struct call *a, struct call *b, char *big)
{
	char json[256];

	setenv("XS_SHIM_WRITE_FAIL", "1", 1);
	restart_preloaded(s, XS_TEST_SHIM_SYNC_FAIL);
	unsetenv("XS_SHIM_WRITE_FAIL");
	call_start(a, s->admin_url, big);
	wait_event_requests(s->read_url, 1);
	nng_msleep(300); /* a's entry is logged, its sync held */
	order_json(json, sizeof(json), "b1", "ub", "a", "b");
	call_start(b, s->admin_url, json);
}

/* Send an order that fails to be logged (the log breaks: "internal"). */
static void
write_fail_break(struct xs_test_server *s)
{
	char json[256];

	order_json(json, sizeof(json), "xfail", "uc", "a", "c");
	assert_reply_code(xs_test_call(s->admin_url, json), "internal");
}

/* A failed append whose undoing fails too (the shim fails the write,
 * then the ftruncate taking it back) breaks the log while an entry
 * another writer appended is not yet durable: that writer is refused
 * ("internal"), so its entry must not stay whole in the log for the
 * next start to apply. Order b waits for the first held sync and makes
 * the second (answered "ok"); order d is logged during the second and
 * is not covered by it; the log breaks then. The entry of d stayed in
 * the file: the restart applied it (2 orders). */
static void
test_wal_failed_append_cuts_unsynced_entries(void **state)
{
	struct xs_test_server s;
	struct call           a, b, d;
	char                  json[256];
	char                 *big = big_write_json();

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	write_fail_begin(&s, &a, &b, big);
	nng_msleep(1500); /* the first sync ended: b's is held */
	order_json(json, sizeof(json), "d1", "ud", "a", "d");
	call_start(&d, s.admin_url, json);
	nng_msleep(300); /* d's entry is logged, d waits */
	write_fail_break(&s);
	assert_reply_code(call_end(&a), "ok");
	assert_reply_code(call_end(&b), "ok");
	assert_reply_code(call_end(&d), "internal");
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);

	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), 1);
	free(big);
	xs_test_server_fini(&s);
}

/* A writer whose entry the sync under way covers waits for that sync's
 * outcome, also when the log breaks meanwhile: if the sync makes the
 * entry durable, the write is applied, and its reply is "ok". Orders b
 * and d are logged during the first held sync; one of them makes the
 * second, which covers both; the log breaks during it and the other
 * wakes early. It was answered "internal" and applied all the same
 * (an error reply must mean nothing changed). */
static void
test_wal_break_during_sync_waits_for_its_outcome(void **state)
{
	struct xs_test_server s;
	struct call           a, b, d;
	char                  json[256];
	char                 *big = big_write_json();

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	write_fail_begin(&s, &a, &b, big);
	order_json(json, sizeof(json), "d1", "ud", "a", "d");
	call_start(&d, s.admin_url, json);
	nng_msleep(1500); /* the first sync ended: b's and d's is held */
	write_fail_break(&s);
	assert_reply_code(call_end(&a), "ok");
	assert_reply_code(call_end(&b), "ok");
	assert_reply_code(call_end(&d), "ok");
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);

	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), 2);
	free(big);
	xs_test_server_fini(&s);
}

/* Writers waiting for backlog room get it in the order they came. A
 * write larger than the whole backlog (1 MiB here) needs it empty, and
 * was overtaken by every smaller write that found room: under a steady
 * stream of them it never got in (a 1.4 MB batch sent while seven
 * clients streamed batches of 90 KB had no reply in 30 s). With LMDB's
 * writer lock held by the test nothing is applied: a small order is
 * logged (entry 1), the large write waits for room, and an order sent
 * after it must wait behind it (it was logged at once, as entry 2).
 * Released, the log applies, the large write is entry 2 and the order
 * entry 3, and all three are acknowledged. */
static void
test_wal_backlog_room_in_order_of_arrival(void **state)
{
	struct xs_test_server s;
	struct call           big, c;
	xs_store             *st;
	MDB_txn              *txn;
	char                  json[256];
	char                 *big_json = big_write_json();

	(void) state;
	xs_test_server_start(&s, small_backlog_args);
	writer_hold(s.db, 0, &st, &txn);
	order_json(json, sizeof(json), "a1", "ua", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	wait_logged(s.read_url, 1);

	call_start(&big, s.admin_url, big_json);
	wait_event_requests(s.read_url, 2);
	nng_msleep(300); /* the large write waits for room */
	order_json(json, sizeof(json), "c1", "uc", "a", "c");
	call_start(&c, s.admin_url, json);
	wait_event_requests(s.read_url, 3);
	nng_msleep(500);
	assert_int_equal(wal_stat(s.read_url, "logged"), 1);
	writer_release(st, txn);

	assert_reply_code(call_end(&big), "ok");
	assert_reply_code(call_end(&c), "ok");
	wait_applied(s.read_url, 3);
	assert_int_equal(xs_test_stats_orders(s.read_url), 2);
	assert_int_equal(
	    xs_test_stat(s.read_url, "counts", "events"), 2 + BIG_VIEWS);
	free(big_json);
	xs_test_server_fini(&s);
}

/* ==== A damaged entry in the live log ==== */

/* Change one byte of the first copy of 'needle' in file 'name' of 'dir'
 * (a log entry's body: its CRC no longer matches), as a disk error
 * would. Fails the test if the needle is not there. */
static void
file_damage(const char *dir, const char *name, const char *needle)
{
	char  *p = path_in(dir, name);
	FILE  *f = fopen(p, "r+b");
	char  *buf;
	long   len, at = 0;
	size_t n = strlen(needle);

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	buf = malloc((size_t) len);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, (size_t) len, 1, f), 1);
	while (at + (long) n <= len && memcmp(buf + at, needle, n) != 0) {
		at++;
	}
	assert_true(at + (long) n <= len);
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	assert_int_equal(fputc(buf[at] ^ 0x20, f), buf[at] ^ 0x20);
	assert_int_equal(fclose(f), 0);
	free(buf);
	free(p);
}

/* A logged entry damaged on disk before the applier reads it, after a
 * start that replayed a log (a kill -9 left one, if only an empty
 * segment): the applier cannot apply past it, so the next write is
 * refused ("internal": a damaged store, in the log here) rather than
 * acknowledged into a log that does not reach the store, and nothing
 * more is logged. LMDB's writer lock, held by the test, keeps the entry
 * unread until it is damaged. The replay's end of the log stayed set,
 * and the applier took the damage for the end of the log: it spun on
 * it, and writes were acknowledged and never applied. */
static void
test_wal_damaged_entry_after_a_replay_refuses_writes(void **state)
{
	struct xs_test_server s;
	xs_store             *st;
	MDB_txn              *txn;
	char                  json[256];
	json_t               *r;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_true(WIFSIGNALED(xs_test_server_signal(&s, SIGKILL)));
	xs_test_server_restart(&s); /* replays the log: an empty segment */

	writer_hold(s.db, 0, &st, &txn);
	order_json(json, sizeof(json), "e1", "u1", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	order_json(json, sizeof(json), "DAMAGED", "u2", "c", "d");
	xs_test_send_ok(s.admin_url, json);
	file_damage(s.db, SEG1, "DAMAGED");
	writer_release(st, txn);
	wait_applied(s.read_url, 1);
	nng_msleep(300); /* the applier reads entry 2 right after 1 */

	order_json(json, sizeof(json), "after", "u3", "e", "f");
	r = xs_test_call(s.admin_url, json);
	assert_string_equal(xs_test_reply_code(r), "internal");
	json_decref(r);
	assert_int_equal(wal_stat(s.read_url, "logged"), 2);
	assert_int_equal(wal_stat(s.read_url, "applied"), 1);
	assert_int_equal(xs_test_stats_orders(s.read_url), 1);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	xs_test_server_fini(&s);
}

/* ==== A log file that does not open or read ==== */

/* A server on a new store whose log is on, its stderr in the file
 * *log_pathp (malloc'd), under the shim support/shim_open_fail.c that
 * fails what the environment variable 'var' names while the file it
 * returns (malloc'd, not made yet) exists. */
static char *
start_with_shim_flag(
    struct xs_test_server *s, const char *var, char **log_pathp)
{
	char *flag;

	xs_test_server_start(s, wal_args);
	assert_int_equal(xs_test_server_signal(s, SIGTERM), 0);
	*log_pathp  = path_in(s->dir, "xselld.log");
	flag        = path_in(s->dir, "shim-fails");
	s->log_path = *log_pathp;
	setenv(var, flag, 1);
	restart_preloaded(s, XS_TEST_SHIM_OPEN_FAIL);
	unsetenv(var);
	return flag;
}

/* With 'applied' entries applied and the shim's 'flag' put up: an order
 * is logged and not applied, the next write is refused with "internal"
 * ("input/output error") and the server's log holds 'want'. The flag
 * down, the applier applies the order on its next try and writes are
 * acknowledged again: 3 orders in all. Ends the server; frees 'flag'
 * and 'log_path'. */
static void
refused_while_flag_up_then_applied(struct xs_test_server *s, char *flag,
    char *log_path, json_int_t applied, const char *want)
{
	char    json[256], log[16384], stalled[64];
	FILE   *f;
	json_t *r;

	f = fopen(flag, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s->admin_url, json);
	snprintf(stalled, sizeof(stalled),
	    "wal: cannot apply entries after %d", (int) applied);
	wait_log_has(log_path, stalled, log, sizeof(log));
	order_json(json, sizeof(json), "o3", "u3", "b", "c");
	r = xs_test_call(s->admin_url, json);
	xs_test_reply_error(r, "internal", "input/output error");
	json_decref(r);
	xs_test_assert_has(log, want);
	assert_int_equal(wal_stat(s->read_url, "logged"), applied + 1);
	assert_int_equal(wal_stat(s->read_url, "applied"), applied);

	assert_int_equal(unlink(flag), 0);
	wait_applied(s->read_url, applied + 1);
	xs_test_send_ok(s->admin_url, json);
	wait_applied(s->read_url, applied + 2);
	assert_int_equal(xs_test_stats_orders(s->read_url), 3);
	assert_int_equal(xs_test_server_signal(s, SIGTERM), 0);
	free(flag);
	free(log_path);
	xs_test_server_fini(s);
}

/* The applier cannot open the next log file (the shim fails it with
 * EMFILE, no descriptor left, while a flag file exists): that is an
 * input/output error, not damage. An order (entry 1) and a forget_user
 * (entry 2, which ends its log file) are applied; then, with opens
 * failing, an order (entry 3, the next file's first) is logged and not
 * applied, the next write is refused with "internal" ("input/output
 * error"), and the log says why (strerror(EMFILE)). Opens working
 * again, the applier applies entry 3 on its next try and writes are
 * acknowledged. The write was refused as "store is damaged or not an
 * xsell store", and the log said "entry 3 is missing or damaged". */
static void
test_wal_next_file_not_opening_is_an_io_error(void **state)
{
	struct xs_test_server s;
	char                  json[256];
	char                 *log_path;
	char                 *flag =
	    start_with_shim_flag(&s, "XS_SHIM_OPEN_FAIL_WHILE", &log_path);
	json_t *r;

	(void) state;
	order_json(json, sizeof(json), "o1", "u1", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	r = xs_test_call_ok(
	    s.admin_url, "{\"op\":\"forget_user\",\"user\":\"nobody\"}");
	json_decref(r);
	assert_int_equal(wal_stat(s.read_url, "applied"), 2);
	refused_while_flag_up_then_applied(&s, flag, log_path, 2,
	    "wal-0000000000000003.log: Too many open files");
}

/* A read of the log that fails (the shim fails a pread of a log file
 * with EIO, as a disk does at a bad sector, while a flag file exists)
 * is an input/output error, not damage. An order (entry 1) is applied;
 * then, with reads failing, an order (entry 2) is logged and not
 * applied, the next write is refused with "internal" ("input/output
 * error"), and the log names the entry, its file and offset, and
 * strerror(EIO). Reads working again, the applier applies entry 2 on
 * its next try and writes are acknowledged. The write was refused as
 * "store is damaged or not an xsell store", and the log said "entry 2
 * is missing or damaged", not why. */
static void
test_wal_read_error_is_an_io_error(void **state)
{
	struct xs_test_server s;
	char                  json[256], want[1024];
	char                 *log_path;
	char                 *flag =
	    start_with_shim_flag(&s, "XS_SHIM_READ_FAIL_WHILE", &log_path);
	size_t len;

	(void) state;
	order_json(json, sizeof(json), "o1", "u1", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	wait_applied(s.read_url, 1);
	free(xs_test_pack(json, &len)); /* entry 2 starts after it */
	snprintf(want, sizeof(want),
	    "wal: cannot read entry 2 of %s/" SEG1
	    " (offset %zu): Input/output error",
	    s.db, HDR_LEN + len);
	refused_while_flag_up_then_applied(&s, flag, log_path, 1, want);
}

/* A disk error that lasts is logged once, not at every retry of the
 * applier (once a second), and its end in one line. With reads of the
 * log failing (the shim, as in test_wal_read_error_is_an_io_error), an
 * order (entry 2) is not applied for 3.5 s, some three retries; reads
 * working again, it is applied. The line naming the failed read was
 * there once per try (4 or 5 times); now once, and "applying again"
 * says how many retries it took. (The line comes back once a minute,
 * with its count: xs_log_repeats_limit, test_common.) */
static void
test_wal_disk_error_logged_once_while_it_lasts(void **state)
{
	struct xs_test_server s;
	char                  json[256], want[1024], log[16384];
	char                 *log_path;
	char                 *flag =
	    start_with_shim_flag(&s, "XS_SHIM_READ_FAIL_WHILE", &log_path);
	FILE *f;

	(void) state;
	order_json(json, sizeof(json), "o1", "u1", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	wait_applied(s.read_url, 1);
	snprintf(
	    want, sizeof(want), "wal: cannot read entry 2 of %s/" SEG1, s.db);
	f = fopen(flag, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	order_json(json, sizeof(json), "o2", "u2", "a", "c");
	xs_test_send_ok(s.admin_url, json);
	wait_log_has(log_path, want, log, sizeof(log));
	nng_msleep(3500); /* the error lasts: the applier retries */
	assert_int_equal(unlink(flag), 0);
	wait_applied(s.read_url, 2);

	wait_log_has(log_path, "wal: applying again", log, sizeof(log));
	if (xs_test_count(log, want) != 1) {
		fail_msg("the failed read was logged %d times:\n%s",
		    xs_test_count(log, want), log);
	}
	assert_int_equal(
	    xs_test_count(log, "wal: cannot apply entries after 1"), 1);
	assert_int_equal(xs_test_count(log, "wal: applying again, after "), 1);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	free(flag);
	free(log_path);
	xs_test_server_fini(&s);
}

/* ==== A damaged entry in a log left by a crash ==== */

/* Flip the bits 'mask' of the byte at 'off' of file 'name' in 'dir'. */
static void
file_byte_flip(const char *dir, const char *name, long off, int mask)
{
	char *p = path_in(dir, name);
	FILE *f = fopen(p, "r+b");
	int   c;

	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	c = fgetc(f);
	assert_true(c != EOF);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	assert_int_equal(fputc(c ^ mask, f), c ^ mask);
	assert_int_equal(fclose(f), 0);
	free(p);
}

/* xselld on s's store (not running), with 'wal' or without, must refuse
 * to start: exit 1; its stderr (its log) in err[0..len). */
static void
start_refused(struct xs_test_server *s, bool wal, char *err, size_t len)
{
	const char *args[] = { "--db", s->db, "--admin", s->admin_url,
		wal ? "--wal" : NULL, NULL };
	char        out[256];

	assert_int_equal(xs_test_run_tool(XS_TEST_XSELLD, args, s->dir, out,
	                     sizeof(out), err, len),
	    1);
}

/* xselld on s's store must refuse to start (start_refused), naming the
 * damaged entry 'seq'. */
static void
assert_start_refused(struct xs_test_server *s, bool wal, unsigned seq)
{
	char err[8192], want[64];

	start_refused(s, wal, err, sizeof(err));
	snprintf(want, sizeof(want), "entry %u is damaged and the log goes on",
	    seq);
	xs_test_assert_has(err, want);
}

/* A log left by a crash, in a store without its entries: three orders
 * (entries 1..3), entry 2 damaged. The entries after a damaged one may
 * have been acknowledged, so the start is refused (exit 1, with --wal
 * and without) and the file is kept as it was; put right, it applies
 * whole: 3 orders. Damaged first in a byte of its body, then in its
 * length (1 MiB more: past the file's end, as a torn entry's may be;
 * entry 3 is found inside what it claims). Either was taken for a torn
 * tail: entries 2 and 3 were dropped and the file deleted. */
static void
test_wal_damaged_entry_before_others_refuses_start(void **state)
{
	struct xs_test_server s;
	char                  json[256];
	size_t                len[3];
	long                  second;
	long long             size;

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	for (unsigned i = 0; i < 3; i++) {
		char order[8], user[8];

		snprintf(order, sizeof(order), "d%u", i + 1);
		snprintf(user, sizeof(user), "u%u", i + 1);
		order_json(json, sizeof(json), order, user, "a", "b");
		free(append_entry(s.db, SEG1, i + 1, json, &len[i]));
	}
	size   = file_size(s.db, SEG1);
	second = HDR_LEN + (long) len[0];

	file_byte_flip(s.db, SEG1, second + HDR_LEN + (long) len[1] / 2, 0x20);
	assert_start_refused(&s, true, 2);
	assert_start_refused(&s, false, 2);
	assert_int_equal(file_size(s.db, SEG1), size);
	file_byte_flip(s.db, SEG1, second + HDR_LEN + (long) len[1] / 2, 0x20);

	file_byte_flip(s.db, SEG1, second + 4 + 2, 0x10); /* length + 1 MiB */
	assert_start_refused(&s, true, 2);
	assert_int_equal(file_size(s.db, SEG1), size);
	file_byte_flip(s.db, SEG1, second + 4 + 2, 0x10);

	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), 3);
	assert_int_equal(wal_stat(s.read_url, "applied"), 3);
	xs_test_server_fini(&s);
}

/* A store whose log holds three orders a crash left unapplied (entries
 * 1..3 of SEG1; order ids 'prefix' 1..3 of users u1..u3), its server
 * stopped. Returns the log file's size. */
static long long
crash_left_log(struct xs_test_server *s, const char *prefix)
{
	char json[256];

	xs_test_server_start(s, wal_args);
	assert_int_equal(xs_test_server_signal(s, SIGTERM), 0);
	for (unsigned i = 0; i < 3; i++) {
		char   order[16], user[8];
		size_t len;

		snprintf(order, sizeof(order), "%s%u", prefix, i + 1);
		snprintf(user, sizeof(user), "u%u", i + 1);
		order_json(json, sizeof(json), order, user, "a", "b");
		free(append_entry(s->db, SEG1, i + 1, json, &len));
	}
	return file_size(s->db, SEG1);
}

/* With the shim support/shim_open_fail.c failing what the environment
 * variable 'var' names while a flag file exists, two starts on
 * crash_left_log's store, with --wal and without, must each exit 1
 * saying 'want' and never "damaged", the log file kept at 'size'; a
 * second endpoint that cannot listen ends a start that got past its
 * log, so that a start that should have been refused does not serve.
 * Then, without the shim, a start applies all three entries. */
static void
starts_refused_then_apply(struct xs_test_server *s, const char *var,
    long long size, const char *want)
{
	char  out[256], err[2][8192];
	int   code[2];
	char *flag = path_in(s->dir, "shim-fails");
	char *asan_was;
	FILE *f;

	/* No assertion until the shim is off again: a failed one would
	 * leave it on for the tests after this one. */
	f = fopen(flag, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	setenv(var, flag, 1);
	asan_was = preload_begin(XS_TEST_SHIM_OPEN_FAIL);
	for (int i = 0; i < 2; i++) {
		const char *args[] = { "--db", s->db, "--admin", s->admin_url,
			"--listen", "bogus://x", i == 0 ? "--wal" : NULL,
			NULL };

		code[i] = xs_test_run_tool(XS_TEST_XSELLD, args, s->dir, out,
		    sizeof(out), err[i], sizeof(err[i]));
	}
	preload_end(asan_was);
	unsetenv(var);
	assert_int_equal(unlink(flag), 0);
	free(flag);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(code[i], 1);
		xs_test_assert_has(err[i], want);
		if (strstr(err[i], "damaged") != NULL) {
			fail_msg("an I/O error taken for damage:\n%s", err[i]);
		}
	}
	assert_int_equal(file_size(s->db, SEG1), size);
	assert_int_equal(wal_names(s->db), 1);

	xs_test_server_restart(s);
	assert_int_equal(xs_test_stats_orders(s->read_url), 3);
	assert_int_equal(wal_stat(s->read_url, "applied"), 3);
}

/* A log left by a crash, in a store without its entries, which the
 * disk fails to read (the shim fails a pread of a log file with EIO):
 * the start is refused (exit 1, with --wal and without) and says why,
 * naming entry 1, its file and offset, and strerror(EIO), not damage;
 * nothing is applied or dropped, and the file is kept as it was. Reads
 * working again, the log applies whole: 3 orders. The start took the
 * read error for damage: "entry 1 is damaged and the log goes on". */
static void
test_wal_read_error_at_start_refuses_it(void **state)
{
	struct xs_test_server s;
	char                  want[1024];
	long long             size = crash_left_log(&s, "r");

	(void) state;
	snprintf(want, sizeof(want),
	    "wal: cannot read entry 1 of %s/" SEG1
	    " (offset 0): Input/output error",
	    s.db);
	starts_refused_then_apply(&s, "XS_SHIM_READ_FAIL_WHILE", size, want);
	xs_test_server_fini(&s);
}

/* A listing of the log's files that the disk fails (readdir's EIO) is
 * an input/output error that stops the start, not a directory without
 * a log: a start that took it for one replayed nothing and, with
 * --wal, began its log at entry 1, truncating the file that held
 * entries 1..3. The file is kept; listed again, its entries apply. */
static void
test_wal_listing_error_at_start_refuses_it(void **state)
{
	struct xs_test_server s;
	char                  want[1024];
	long long             size = crash_left_log(&s, "l");

	(void) state;
	snprintf(want, sizeof(want), "wal: %s: Input/output error", s.db);
	starts_refused_then_apply(
	    &s, "XS_SHIM_READDIR_FAIL_WHILE", size, want);
	xs_test_server_fini(&s);
}

/* ==== The log's mark in the store (store/wal_seq.c) ==== */

/* Start xselld --wal on s's store (stopped) with every sync of a
 * directory failing (support/shim_sync_fail.c, XS_SHIM_DIR_SYNC_FAIL),
 * and with 'more_env' set too (NULL: none): the start must be refused
 * (exit 1) and its stderr (its log), in err[0..len), hold the line
 * naming the log's first file and the reason. */
static void
start_with_dir_sync_failing(
    struct xs_test_server *s, const char *more_env, char *err, size_t len)
{
	const char *args[] = { "--db", s->db, "--admin", s->admin_url, "--wal",
		NULL };
	char        out[256], want[1024];
	char       *asan_was;
	int         code;

	snprintf(want, sizeof(want),
	    "wal: %s cannot be synced after creating %s/" SEG1
	    ": Input/output error",
	    s->db, s->db);
	/* No assertion until the shim is off again: a failed one would
	 * leave it on for the tests after this one. */
	setenv("XS_SHIM_DIR_SYNC_FAIL", "1", 1);
	if (more_env != NULL) {
		setenv(more_env, "1", 1);
	}
	asan_was = preload_begin(XS_TEST_SHIM_SYNC_FAIL);
	code     = xs_test_run_tool(
	        XS_TEST_XSELLD, args, s->dir, out, sizeof(out), err, len);
	preload_end(asan_was);
	unsetenv("XS_SHIM_DIR_SYNC_FAIL");
	if (more_env != NULL) {
		unsetenv(more_env);
	}
	assert_int_equal(code, 1);
	xs_test_assert_has(err, want);
}

/* A new log file whose name cannot be made durable (the sync of its
 * directory after its creation fails) is not used, and the server's log
 * says so, naming the file and the reason: at a start, which creates
 * the log's first file, the start is refused. The shim
 * (support/shim_sync_fail.c, with XS_SHIM_DIR_SYNC_FAIL) fails every
 * sync of a directory. Only "cannot open the log in <db>: input/output
 * error" was logged. No log file is left, and a start without the shim
 * works. */
static void
test_wal_new_file_not_synced_is_logged(void **state)
{
	struct xs_test_server s;
	char                  err[8192];

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	start_with_dir_sync_failing(&s, NULL, err, sizeof(err));
	assert_int_equal(wal_names(s.db), 0);

	xs_test_server_restart(&s);
	assert_int_equal(wal_stat(s.read_url, "segments"), 1);
	xs_test_server_fini(&s);
}

/* A new log file that is not used (its directory's sync failed) and
 * cannot be deleted either (the shim fails the unlink too, with
 * XS_SHIM_UNLINK_FAIL) stays, empty, and the server's log says so,
 * naming it and the reason: nothing was logged of the failed unlink.
 * A start without the shim takes it for an empty log file: it starts,
 * and the log goes on. */
static void
test_wal_new_file_not_deleted_is_logged(void **state)
{
	struct xs_test_server s;
	char                  err[8192], want[1024];
	char                  json[256];

	(void) state;
	xs_test_server_start(&s, wal_args);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	start_with_dir_sync_failing(
	    &s, "XS_SHIM_UNLINK_FAIL", err, sizeof(err));
	snprintf(want, sizeof(want),
	    "wal: unlink %s/" SEG1 ": Input/output error; the empty file "
	    "stays",
	    s.db);
	xs_test_assert_has(err, want);
	assert_int_equal(file_size(s.db, SEG1), 0);

	xs_test_server_restart(&s);
	assert_int_equal(wal_stat(s.read_url, "segments"), 1);
	order_json(json, sizeof(json), "o1", "u1", "a", "b");
	xs_test_send_ok(s.admin_url, json);
	wait_applied(s.read_url, 1);
	xs_test_server_fini(&s);
}

/* The store's mark read in a transaction of its own: its error; *seqp
 * is set only on success (preset it to see that). */
static xsell_err
mark_get(xs_store *st, uint64_t *seqp)
{
	MDB_txn  *txn;
	xsell_err err;

	assert_xs_ok(xs_txn_read(st, &txn));
	err = xs_store_wal_seq_get(st, txn, seqp);
	xs_txn_abort(txn);
	return err;
}

/* meta "wal_seq" reads 0 while absent, then what was put; a value of
 * the wrong size (4 bytes here) is a damaged store, and leaves the
 * caller's variable as it was. */
static void
test_wal_seq_get_put_and_damaged(void **state)
{
	char     *dir;
	xs_store *st = xs_test_store_open(&dir);
	MDB_txn  *txn;
	MDB_val   k   = { .mv_size = 7, .mv_data = "wal_seq" };
	uint32_t  bad = 5;
	MDB_val   v   = { .mv_size = sizeof(bad), .mv_data = &bad };
	uint64_t  seq = 99;

	(void) state;
	assert_xs_ok(mark_get(st, &seq));
	assert_int_equal(seq, 0);

	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_wal_seq_put(st, txn, 0x0102030405060708u));
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_ok(mark_get(st, &seq));
	assert_int_equal(seq, 0x0102030405060708u);

	assert_xs_ok(xs_txn_write(st, &txn));
	assert_int_equal(mdb_put(txn, st->meta, &k, &v, 0), 0);
	assert_xs_ok(xs_txn_commit(txn));
	seq = 99;
	assert_xs_err(mark_get(st, &seq), XSELL_ECORRUPT);
	assert_int_equal(seq, 99);
	xs_test_store_close(st, dir);
}

/* A stop's record of refused entries (meta "wal_refused", read in a
 * transaction of its own): its error, the range in *firstp, *lastp. */
static xsell_err
refused_get(xs_store *st, uint64_t *firstp, uint64_t *lastp)
{
	MDB_txn  *txn;
	xsell_err err;

	assert_xs_ok(xs_txn_read(st, &txn));
	err = xs_store_wal_refused_get(st, txn, firstp, lastp);
	xs_txn_abort(txn);
	return err;
}

/* meta "wal_refused" reads 0, 0 while absent, then the range put, and
 * 0, 0 again once deleted (a second delete is no error); a value of the
 * wrong size, or an empty range, is a damaged store. */
static void
test_wal_refused_get_put_del_and_damaged(void **state)
{
	char     *dir;
	xs_store *st = xs_test_store_open(&dir);
	MDB_txn  *txn;
	MDB_val   k      = { .mv_size = 11, .mv_data = "wal_refused" };
	uint64_t  bad[2] = { 5, 4 };
	MDB_val   v      = { .mv_size = sizeof(bad), .mv_data = bad };
	uint64_t  first = 99, last = 99;

	(void) state;
	assert_xs_ok(refused_get(st, &first, &last));
	assert_int_equal(first, 0);
	assert_int_equal(last, 0);

	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_wal_refused_put(st, txn, 7, 9));
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_ok(refused_get(st, &first, &last));
	assert_int_equal(first, 7);
	assert_int_equal(last, 9);

	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_store_wal_refused_del(st, txn));
	assert_xs_ok(xs_store_wal_refused_del(st, txn));
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_ok(refused_get(st, &first, &last));
	assert_int_equal(first, 0);

	assert_xs_ok(xs_txn_write(st, &txn));
	assert_int_equal(mdb_put(txn, st->meta, &k, &v, 0), 0);
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_err(refused_get(st, &first, &last), XSELL_ECORRUPT);
	v.mv_size = sizeof(bad[0]);
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_int_equal(mdb_put(txn, st->meta, &k, &v, 0), 0);
	assert_xs_ok(xs_txn_commit(txn));
	assert_xs_err(refused_get(st, &first, &last), XSELL_ECORRUPT);
	xs_test_store_close(st, dir);
}

/* ==== Without --wal: recovery only ==== */

/* How many names starting with "wal" the inotify descriptor 'ino'
 * (non-blocking, watching IN_CREATE | IN_MOVED_TO) reports created since
 * it was last read; each is printed. */
static int
wal_created(int ino)
{
	uint64_t buf[512]; /* whole events, aligned for them */
	int      n = 0;

	for (;;) {
		ssize_t     r = read(ino, buf, sizeof(buf));
		const char *p = (const char *) buf;

		if (r <= 0) {
			assert_true(r < 0 && errno == EAGAIN);
			return n;
		}
		while (p < (const char *) buf + r) {
			const struct inotify_event *ev = (const void *) p;

			if (ev->len > 0 && strncmp(ev->name, "wal", 3) == 0) {
				print_message("created: %s\n", ev->name);
				n++;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* xselld without --wal on a fresh store creates no log file and starts
 * no applier; with --wal it does both (one empty segment, one thread
 * named xsell-wal): what the first half looks for can be found. */
static void
test_wal_without_wal_creates_nothing(void **state)
{
	struct xs_test_server s;

	(void) state;
	xs_test_server_start(&s, NULL);
	assert_int_equal(wal_names(s.db), 0);
	assert_int_equal(xs_test_threads_named(s.pid, "xsell-wal"), 0);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_int_equal(wal_names(s.db), 0);

	s.extra = wal_args;
	xs_test_server_restart(&s);
	assert_int_equal(file_size(s.db, SEG1), 0);
	assert_int_equal(wal_names(s.db), 1);
	assert_int_equal(
	    xs_test_threads_named_reach(s.pid, "xsell-wal", 1), 1);
	xs_test_server_fini(&s);
}

/* More leftover segments than are deleted in one batch (64). */
#define LEFT_SEGS 70

/* A log of LEFT_SEGS segments, each of one entry (entry i: one order
 * "l<i>", so LEFT_SEGS orders), left in a store that has none of them,
 * is applied by xselld without --wal before it answers, and deleted:
 * while it runs no "wal*" file is left, none was created (inotify saw
 * no new name starting with "wal"; the old start-up created the next
 * segment and started the applier only to delete it at its stop), and
 * no applier runs; the store's mark names the last entry. */
static void
test_wal_without_wal_applies_leftovers_and_deletes_them(void **state)
{
	struct xs_test_server s;
	xs_store             *st;
	uint64_t              seq = 0;
	int                   ino;

	(void) state;
	xs_test_server_start(&s, NULL);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	for (unsigned i = 1; i <= LEFT_SEGS; i++) {
		char   name[64], order[16], json[256];
		size_t len;

		snprintf(name, sizeof(name), "wal-%016x.log", i);
		snprintf(order, sizeof(order), "l%u", i);
		order_json(json, sizeof(json), order, "u1", "a", "b");
		free(append_entry(s.db, name, i, json, &len));
	}
	assert_int_equal(wal_names(s.db), LEFT_SEGS);

	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(ino >= 0);
	assert_true(
	    inotify_add_watch(ino, s.db, IN_CREATE | IN_MOVED_TO) >= 0);
	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), LEFT_SEGS);
	assert_int_equal(wal_names(s.db), 0);
	assert_int_equal(xs_test_threads_named(s.pid, "xsell-wal"), 0);
	assert_int_equal(wal_created(ino), 0);
	close(ino);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_int_equal(wal_names(s.db), 0);

	assert_xs_ok(xs_store_open(&st, s.db, NULL));
	assert_xs_ok(mark_get(st, &seq));
	xs_store_close(st);
	assert_int_equal(seq, LEFT_SEGS);
	xs_test_server_fini(&s);
}

/* A log left with an entry that cannot be applied (forget_user u1, whose
 * ledger names a lost order; entry 1) and a good one after it (an order
 * of u4; entry 2), found by xselld without --wal: entry 1 is skipped
 * into wal-skipped, entry 2 applied (3 + 1 = 4 orders), the log file
 * deleted, and the store's mark is 2. */
static void
test_wal_without_wal_skips_a_poison_leftover(void **state)
{
	struct xs_test_server s;
	xs_store             *st;
	char                  json[256];
	void                 *poison;
	size_t                poison_len, good_len;
	uint64_t              seq = 0;

	(void) state;
	xs_test_server_start(&s, NULL);
	poison_first_send(s.admin_url);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	orders_delete(s.db, "p0", "p1");
	poison = append_entry(s.db, SEG1, 1,
	    "{\"op\":\"forget_user\",\"user\":\"u1\"}", &poison_len);
	order_json(json, sizeof(json), "p3", "u4", "d", "e");
	free(append_entry(s.db, SEG1, 2, json, &good_len));

	xs_test_server_restart(&s);
	assert_int_equal(xs_test_stats_orders(s.read_url), 4);
	assert_int_equal(file_size(s.db, SEG1), -1);
	assert_int_equal(xs_test_threads_named(s.pid, "xsell-wal"), 0);
	expect_skipped(s.db, 0, 1, poison, poison_len, true);
	assert_int_equal(xs_test_server_signal(&s, SIGTERM), 0);
	assert_int_equal(wal_names(s.db), 1); /* wal-skipped alone */

	assert_xs_ok(xs_store_open(&st, s.db, NULL));
	assert_xs_ok(mark_get(st, &seq));
	xs_store_close(st);
	assert_int_equal(seq, 2);
	free(poison);
	xs_test_server_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_kill9_replay_twice_and_without_wal),
		cmocka_unit_test(test_wal_crash_after_rotation_replays),
		cmocka_unit_test(test_wal_empty_segment_at_start_is_kept),
		cmocka_unit_test(test_wal_refuses_bad_write_before_log),
		cmocka_unit_test(test_wal_full_disk_refuses_whole_write),
		cmocka_unit_test(test_wal_many_writers_rotate_and_replay),
		cmocka_unit_test(test_wal_group_stays_within_its_bound),
		cmocka_unit_test(
		    test_wal_poison_entry_skipped_at_replay_and_live),
		cmocka_unit_test(
		    test_wal_undecodable_entry_skipped_between_good_ones),
		cmocka_unit_test(
		    test_wal_forget_answered_when_another_writer_syncs_it),
		cmocka_unit_test(
		    test_wal_forget_in_flight_at_stop_gets_its_result),
		cmocka_unit_test(
		    test_wal_forget_unapplicable_at_stop_gets_no_reply),
		cmocka_unit_test(
		    test_wal_forget_deletes_the_users_requests_from_the_log),
		cmocka_unit_test(test_wal_forget_deletion_is_synced),
		cmocka_unit_test(
		    test_wal_forget_woken_early_deletes_the_users_requests),
		cmocka_unit_test(
		    test_wal_forget_reply_comes_with_its_entry_counted_applied),
		cmocka_unit_test(
		    test_wal_failed_sync_refuses_writers_waiting_for_room),
		cmocka_unit_test(test_wal_failed_sync_cut_is_synced),
		cmocka_unit_test(test_wal_failed_append_cuts_unsynced_entries),
		cmocka_unit_test(
		    test_wal_break_during_sync_waits_for_its_outcome),
		cmocka_unit_test(
		    test_wal_failed_sync_cut_not_synced_is_marked_applied),
		cmocka_unit_test(
		    test_wal_stop_while_stalled_records_refused_entries),
		cmocka_unit_test(test_wal_backlog_room_in_order_of_arrival),
		cmocka_unit_test(
		    test_wal_damaged_entry_after_a_replay_refuses_writes),
		cmocka_unit_test(
		    test_wal_next_file_not_opening_is_an_io_error),
		cmocka_unit_test(test_wal_read_error_is_an_io_error),
		cmocka_unit_test(
		    test_wal_disk_error_logged_once_while_it_lasts),
		cmocka_unit_test(
		    test_wal_damaged_entry_before_others_refuses_start),
		cmocka_unit_test(test_wal_read_error_at_start_refuses_it),
		cmocka_unit_test(test_wal_listing_error_at_start_refuses_it),
		cmocka_unit_test(test_wal_new_file_not_synced_is_logged),
		cmocka_unit_test(test_wal_new_file_not_deleted_is_logged),
		cmocka_unit_test(test_wal_seq_get_put_and_damaged),
		cmocka_unit_test(test_wal_refused_get_put_del_and_damaged),
		cmocka_unit_test(test_wal_without_wal_creates_nothing),
		cmocka_unit_test(
		    test_wal_without_wal_applies_leftovers_and_deletes_them),
		cmocka_unit_test(test_wal_without_wal_skips_a_poison_leftover),
	};

	return cmocka_run_group_tests_name("wal", tests, NULL, NULL);
}
