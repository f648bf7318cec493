/* SPDX-License-Identifier: MIT */
/* The server: nng REP sockets served through contexts (read ones by aio
 * callbacks, admin ones by a thread each: server.c), each request
 * decoded, answered by the model and encoded (handler.c). Read
 * endpoints (--listen) refuse writes; admin endpoints take everything;
 * pull endpoints (--pull, pull.c) take unanswered event batches. */
#ifndef XSELL_SERVER_SERVER_H
#define XSELL_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"
#include "model/model.h"

#define XS_SERVER_MAX_URLS 16
#define XS_SERVER_MAX_CONNECTIONS_DEFAULT 512
#define XS_SERVER_MAX_CONNECTIONS_MAX 65536
/* --wal-backlog: log bytes not yet in the store; a request larger than
 * it is logged alone, when the backlog is empty. */
#define XS_SERVER_WAL_BACKLOG_DEFAULT ((uint64_t) 32 << 20)
/* xselld's --warm: every ordered item, most ordered first, until the
 * memos hold half their budget (xs_model_warm). On the generated
 * 50M-line store (50,000 items) a cart's p99 in the first seconds after
 * a start was 537-2,056 us cold, 313-506 with 5,000 items warmed (the
 * default until 2026-12-05), 102 with the 38,980 that fill half the
 * budget (2.9 s on two threads, 300 MB of memos; 1M lines' is 76); on
 * Online Retail it is every ordered item (3,891). bench/RESULTS.md,
 * "Warming" and "Warming until the memos are half full". */
#define XS_SERVER_WARM_DEFAULT 1000000u
#define XS_SERVER_WARM_MAX 1000000u
#define XS_SERVER_WAL_BACKLOG_MIN ((uint64_t) 1 << 20)
#define XS_SERVER_WAL_BACKLOG_MAX ((uint64_t) 4 << 30)

struct xs_server_opts {
	const char *db;                         /* store directory */
	const char *listen[XS_SERVER_MAX_URLS]; /* read-only endpoints */
	size_t      n_listen;
	const char *admin[XS_SERVER_MAX_URLS]; /* read-write endpoints */
	size_t      n_admin;
	/* Fire-and-forget endpoints (pull.c): each message one event
	 * request, applied or counted, never answered. */
	const char *pull[XS_SERVER_MAX_URLS];
	size_t      n_pull;
	/* Permission bits of the ipc:// sockets of 'listen' and of 'admin'
	 * and 'pull' (NNG_OPT_IPC_PERMISSIONS); 0: as the process's umask
	 * makes them. */
	unsigned listen_ipc_mode;
	unsigned admin_ipc_mode;
	unsigned threads; /* read workers; 0: one per core */
	/* Admin workers, each holding one write (writes waiting together
	 * share a commit); 0: max(64, read workers / 2). */
	unsigned admin_workers;
	size_t   map_size;  /* 0: the store's default */
	size_t   memo_size; /* per-item memos' budget; 0: the store's */
	/* Items whose fbt answers are made before the first request is
	 * answered (xs_model_warm); 0: none. */
	unsigned warm_items;
	/* Connections each socket (read, admin, pull) serves at once; past
	 * it a connection's request gets "unavailable", or is dropped on a
	 * pull socket (limit.c). 0: the default,
	 * XS_SERVER_MAX_CONNECTIONS_DEFAULT. */
	unsigned max_connections;
	/* tls+tcp:// endpoints (listen, admin or pull): PEM files of the
	 * server's certificate, its unencrypted key, and the CA that
	 * every client certificate must chain to (required). All three
	 * must be given when any URL is tls+tcp://. */
	const char        *tls_cert;
	const char        *tls_key;
	const char        *tls_ca;
	struct xs_settings settings;
	/* Write-ahead log (wal.c): acknowledge writes once logged, apply
	 * them to the store in the background. 'wal_backlog' bounds the
	 * bytes logged and not yet applied (0: the default). */
	bool     wal;
	uint64_t wal_backlog;
};

typedef struct xs_server xs_server;

/* Open the store and listen on every endpoint. Returns XSELL_EINVAL for
 * a bad URL or a tls+tcp:// URL without the three TLS files, XSELL_EIO
 * for an endpoint that cannot be bound, TLS files that do not load or a
 * store that cannot be opened (reason logged, one line), XSELL_ESCHEMA. */
xsell_err xs_server_open(xs_server **srvp, const struct xs_server_opts *o);
/* Start the workers; returns at once. */
xsell_err xs_server_start(xs_server *srv);
/* Ask the workers to finish: each answers the request it holds (a pull
 * worker applies the message it holds), then stops. Safe from any
 * thread; returns at once. */
void xs_server_stop(xs_server *srv);
/* Wait for the workers, close the sockets and the store, free. */
void xs_server_close(xs_server *srv);

/* One request in, one reply out: the whole server minus the transport
 * (handler.c). 'admin' says whether writes are allowed. The reply goes
 * into 'out' (reset first). Never fails: errors become error replies. */
struct xs_worker;

/* Whether 'url' is a tls+tcp:// URL (which needs the TLS options). */
bool xs_url_is_tls(const char *url);
/* Whether any endpoint of 'o' (--listen, --admin, --pull) is one. */
bool xs_server_opts_use_tls(const struct xs_server_opts *o);
void xs_server_handle(
    struct xs_worker *w, const void *req, size_t len, struct xs_buf *out);

/* ==== xselld --config files (config.c) ==== */

/* xselld(1)'s limits: files, bytes of one file, words of them all. */
#define XS_CONFIG_FILES_MAX 8
#define XS_CONFIG_BYTES_MAX (64 * 1024)
#define XS_CONFIG_WORDS_MAX 510

/* Whether option 'name' (name[0..len), without "--") takes a value: 1
 * it needs one, 0 it takes none, -1 no such option (getopt says so). */
typedef int (*xs_config_takes_value)(const char *name, size_t len);

/* Add the options of the --config file 'path', whose text is
 * text[0..len) (any bytes, not NUL-terminated), to the argv words
 * words[*np..XS_CONFIG_WORDS_MAX) as they would be given on the command
 * line: per line "--name", then its value if the line has one. A line
 * is "name" or "name value"; spaces, tabs and '=' separate words, '#'
 * starts a comment, '\r' ends the line (CRLF), blank lines are skipped.
 * The words are copied into one buffer, *storep (malloc'd; the caller
 * frees it with free() when it is done with the words), and *np grows
 * by their number. Returns XSELL_ETOOBIG for a text over
 * XS_CONFIG_BYTES_MAX or words past XS_CONFIG_WORDS_MAX in all,
 * XSELL_EINVAL for a line with two values, a name over 64 bytes or
 * "config", a NUL byte, XSELL_ENOMEM; then a message in msg[0..msg_len)
 * names the file (and the line, counting from 1 with the blank ones),
 * and *np and *storep are left as they were. With 'takes_value' (may be
 * NULL), a line whose option needs a value and has none, or takes none
 * and has one, is XSELL_EINVAL too: getopt would take the next line's
 * "--name" for the value, or refuse the value without its line. Any
 * thread. */
xsell_err xs_server_config_parse(const char *path, const char *text,
    size_t len, char **words, int *np, char **storep, char *msg,
    size_t msg_len, xs_config_takes_value takes_value);

#endif /* XSELL_SERVER_SERVER_H */
