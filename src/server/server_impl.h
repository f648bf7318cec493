/* SPDX-License-Identifier: MIT */
/* Shared by the server's own files: the server and worker structs. */
#ifndef XSELL_SERVER_SERVER_IMPL_H
#define XSELL_SERVER_SERVER_IMPL_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "server/server.h"
#include "store/store.h"
#include "wire/wire.h"

struct xs_op_counters {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t errors;
};

/* Connections past the limit that are kept open, each request on them
 * answered "unavailable" until there is room (limit.c); beyond them a
 * connection is closed as soon as it is made. */
#define XS_WAITING_MAX 64

/* One open connection of a socket, by pipe id (0: a free slot). */
struct xs_conn_slot {
	uint32_t id;
	uint8_t  flags;      /* XS_CONN_* */
	uint8_t  mutes;      /* times muted */
	uint64_t mute_until; /* monotonic ns: when muted, drop until then */
};

#define XS_CONN_WAITING 1u /* past the limit, not served yet */
#define XS_CONN_MUTED 2u   /* left a reply unread: no answers for now */
#define XS_CONN_TRIAL 4u   /* muted, one request let through to try */

/* The connection limit of one socket (limit.c). */
struct xs_conn_limit {
	pthread_mutex_t      mtx;
	bool                 has_mtx;
	unsigned             max;       /* connections served at once */
	struct xs_conn_slot *conns;     /* open addressing by pipe id */
	size_t               n_slots;   /* of 'conns', a power of two */
	unsigned             n_served;  /* in 'conns', not waiting */
	unsigned             n_waiting; /* in 'conns', waiting */
	const char          *name;      /* "read" or "admin", for the log */
	uint64_t             n_refused_total; /* connections refused, ever */
	uint64_t             n_muted_total;   /* connections muted, ever */
	uint64_t             n_dropped; /* requests left unanswered, ever */
	uint64_t n_over;    /* refused or closed since the last warning */
	uint64_t warned_ns; /* monotonic time of that warning, 0: none */
};

/* What a worker does with a request, by the connection it came on. */
enum xs_pipe_verdict {
	XS_PIPE_SERVE,  /* a connection within the limit */
	XS_PIPE_REFUSE, /* one past the limit, no room yet: "unavailable" */
	XS_PIPE_DROP,   /* a muted connection: no reply */
};

/* Count the connections of 'sock' from now on (before it listens), at
 * most 'max' served. 'l' must stay put until the socket is closed;
 * then xs_conn_limit_fini(). XSELL_EIO if nng refuses the callbacks. */
xsell_err xs_conn_limit_init(
    struct xs_conn_limit *l, nng_socket sock, unsigned max, const char *name);
void xs_conn_limit_fini(struct xs_conn_limit *l);

/* Connections are named by their nng pipe id, and 'now' is
 * xs_mono_ns()'s, so that tests can play a connection's life without
 * sockets or waits. Any thread. */

/* A new connection, as nng's pipe callback reports it: served, waiting,
 * or (false) to be closed now, before nng starts it. */
bool xs_conn_limit_admit(struct xs_conn_limit *l, uint32_t pipe, uint64_t now);
/* The connection went (one never admitted is ignored). */
void xs_conn_limit_leave(struct xs_conn_limit *l, uint32_t pipe);
/* The verdict for a request received on 'pipe'. *trialp: the request is
 * a muted connection's one try, served or refused like any other; its
 * reply leaving unmutes the connection (xs_conn_limit_unmute), its reply
 * left unread mutes it again, twice as long (xs_conn_limit_mute). */
enum xs_pipe_verdict xs_conn_limit_check(
    struct xs_conn_limit *l, uint32_t pipe, uint64_t now, bool *trialp);
/* 'pipe' left a reply unread: drop its requests unanswered until 5 s
 * after 'now' (twice as long each time again, up to 320 s), then try
 * one. True the first time 'pipe' is muted. */
bool xs_conn_limit_mute(struct xs_conn_limit *l, uint32_t pipe, uint64_t now);
/* The reply to p's trial request left: p reads again, so it is served
 * (or waits) as before. */
void xs_conn_limit_unmute(struct xs_conn_limit *l, uint32_t pipe);
/* The counters of 'l', for stats, under its name as the kind. */
void xs_conn_limit_read(struct xs_conn_limit *l, struct xs_conn_stats *out);

/* Whether 'err' is the sender's fault (its request was wrong: invalid,
 * too large, not taken there), which its reply or a count tells; any
 * other error is the server's and is logged too (handler.c). */
bool xs_err_is_senders(xsell_err err);

/* Answer "unavailable" (the server is at its connection limit) to the
 * request body[0..len), with its id when it has one (handler.c). */
void xs_server_refuse(
    struct xs_worker *w, const void *body, size_t len, struct xs_buf *out);

/* One nng context of a socket and what serving its requests needs. An
 * admin worker is a thread that blocks on its context; a read worker
 * has no thread: its aio's callback (server.c) answers on nng's own
 * thread. A pull worker (pull.c) is a thread that receives from the
 * pull socket itself (pull0 has no contexts) and never replies; it is
 * an admin worker too, as it writes. */
struct xs_worker {
	struct xs_server *srv;
	bool              admin; /* on an admin or pull endpoint: writes */
	bool              pull;  /* on a pull endpoint: no ctx, no replies */
	nng_ctx           ctx;
	/* Receives, with no timeout: a stop cancels them (server.c). */
	nng_aio        *recv_aio;
	nng_aio        *send_aio; /* replies; NULL for a pull worker */
	pthread_t       thread;   /* admin and pull workers only */
	bool            started;  /* its first receive was asked for */
	bool            trial;    /* its reply tries a muted connection */
	uint32_t        pipe;     /* pipe id of the reply sent */
	struct xs_arena arena;    /* request scratch, reset per request */
	struct xs_buf   out;      /* reply bytes */
	MDB_txn        *rtxn;     /* its read snapshot, reset between
	                             requests (handler.c); NULL: none yet */
	xs_acc *acc;              /* pending counts of a write */
	/* The request being handled, as received and decoded at 'req_now'
	 * (handler.c): what the write-ahead log keeps of a write. */
	const void *req_body;
	size_t      req_len;
	int64_t     req_now;
	/* Its outcome is not known yet (wal.c: a forget_user left in the
	 * log at a stop): no reply is sent, not even an error. */
	bool reply_withheld;
};

/* A write waiting for its group's commit (group.c). */
struct xs_write_job {
	const struct xs_request *req;
	int64_t                  now; /* the write's time; 0: at commit */
	union {
		struct xs_apply_result  event;
		struct xs_forget_result forget;
	} u;
	xsell_err            err;
	bool                 done;
	struct xs_write_job *next;
};

/* Writes queued for the next group commit. */
struct xs_write_group {
	pthread_mutex_t      mtx;
	pthread_cond_t       done; /* a group committed */
	struct xs_write_job *head, *tail;
	bool                 leading; /* a group's commit is under way */
	uint64_t             groups, writes; /* committed so far */
};

void xs_write_group_init(struct xs_write_group *g);
void xs_write_group_fini(struct xs_write_group *g);
/* Apply the write job->req (event, items or forget_user) in the next
 * group commit and wait for it; job->u holds the op's result. Returns
 * the write's own error, or the commit's. */
xsell_err xs_write_group_run(struct xs_worker *w, struct xs_write_job *job);
/* Apply jobs[0..n), the writes of the log entries up to 'wal_seq', in
 * one transaction that also records 'wal_seq' in the store, and commit
 * it (durable). All or nothing: on an error none of it is in the store.
 * With n 0 (jobs may be NULL) it commits 'wal_seq' alone: a skipped
 * entry. Only the log's applier calls it (wal.c). */
xsell_err xs_write_group_apply_logged(struct xs_worker *w,
    struct xs_write_job **jobs, size_t n, uint64_t wal_seq);

/* ==== Write-ahead log (wal.c) ==== */

typedef struct xs_wal xs_wal;

/* Open the log in the store directory 'db', apply every entry the store
 * does not have yet (replay; returns when done), start a log file for
 * the next entry, and start the thread that applies new entries (named
 * "xsell-wal"). 'backlog_max' bounds the bytes logged and
 * not yet applied (writers wait past it). XSELL_EIO if a log file cannot
 * be read or written (logged), XSELL_ECORRUPT for a damaged entry
 * before the log's end. */
xsell_err xs_wal_open(xs_wal **walp, struct xs_server *srv, const char *db,
    uint64_t backlog_max);
/* Without --wal: apply and delete a log left in 'db' by a server that
 * ran with --wal (so that no acknowledged write is left out), if any;
 * returns when done. Recovery only: it creates no log file (but
 * wal-skipped for an entry that cannot be applied) and starts no
 * thread; with no log left, it only lists 'db'. Errors as
 * xs_wal_open. */
xsell_err xs_wal_replay(struct xs_server *srv, const char *db);
/* Apply what is logged, stop the applier, close the files, free. Call
 * after the workers stopped. */
void xs_wal_close(xs_wal *wal);

/* The server is stopping (srv->stopping is set): wake every writer that
 * waits on the log, so that each checks at once whether its wait ends
 * (a forget_user waiting for an applier that cannot apply). Any thread;
 * 'wal' may be NULL. */
void xs_wal_wake_waiters(xs_wal *wal);

/* Fill s->wal: the log's sequence numbers, backlog and files. */
void xs_wal_stats(xs_wal *wal, struct xs_stats *s);
/* The write job->req of worker 'w' through the log: append its request
 * bytes (w->req_body), sync (shared with the writers syncing at the same
 * time) and return; the store gets it within one group of the applier.
 * forget_user also waits until it is applied (job->u.forget is its
 * result); if the server stops first while the applier cannot apply, it
 * returns XSELL_EUNAVAIL with w->reply_withheld set: the entry stays
 * logged, so no reply is true. An event's job->u.event counts every event as
 * applied (its duplicates are known only when applied). On any error nothing
 * of the write is in the log: XSELL_EIO when the log cannot be written or
 * synced (a full disk as on the store: "input/output error"; after a
 * failed sync every write until a restart), the applier's error while
 * it cannot apply (XSELL_EMAPFULL: the store's map is full). Any
 * admin worker thread. */
xsell_err xs_wal_write(
    xs_wal *wal, struct xs_worker *w, struct xs_write_job *job);

/* ==== Fire-and-forget events (pull.c) ==== */

/* The pull endpoints' counters (stats.pull) and their warnings' rate
 * limit. Each message received ends as exactly one of applied,
 * rejected, refused and failed. */
struct xs_pull {
	atomic_uint_fast64_t messages;   /* received */
	atomic_uint_fast64_t applied;    /* messages applied whole */
	atomic_uint_fast64_t events;     /* events they applied */
	atomic_uint_fast64_t duplicates; /* events that were seen before */
	atomic_uint_fast64_t rejected;   /* the sender's fault */
	atomic_uint_fast64_t refused;    /* past the connection limit */
	atomic_uint_fast64_t failed;     /* the store's or the log's */
	pthread_mutex_t      warn_mtx;
	uint64_t             warned_ns;  /* monotonic; 0: no warning yet */
	uint64_t             n_unwarned; /* rejected or failed since then */
};

/* A receive of w ended with 'rv' (nng), not with a message: logs it
 * unless it is a stop's wake (a receive canceled while stopping), and
 * says whether w is to ask again (not once the socket is closed). */
bool xs_worker_recv_failed(struct xs_worker *w, int rv);
/* w will receive no more: counted out of srv->workers_live, which the
 * stop waits to see reach 0. */
void xs_worker_stopped(struct xs_worker *w);

void xs_pull_init(struct xs_pull *p);
void xs_pull_fini(struct xs_pull *p);
/* A pull worker's thread (named "xsell-pull"): receive a message from
 * the pull socket, apply it or count why not, until the server stops.
 * 'arg' is its struct xs_worker. */
void *xs_pull_main(void *arg);
/* Fill s->pull from 'p'. */
void xs_pull_stats(struct xs_pull *p, struct xs_stats *s);

/* complements' list refresher (refresh.c): one background thread. */
struct xs_refresher {
	pthread_t                 thread;
	atomic_bool               started; /* read by stats */
	xs_store                 *store;
	const struct xs_settings *settings;
	atomic_bool              *stopping;
	_Atomic uint64_t          items, due, computed; /* for stats */
	/* Idle, it naps on nap_cv, which the join wakes. */
	pthread_mutex_t nap_mtx;
	pthread_cond_t  nap_cv;
};

/* Start it (not when the store has no lists' sub-database); it stops
 * when *stopping turns true. */
xsell_err xs_refresher_start(struct xs_refresher *r, xs_store *st,
    const struct xs_settings *set, atomic_bool *stopping);
void      xs_refresher_join(struct xs_refresher *r);

struct xs_server {
	xs_store             *store;
	struct xs_write_group writes;
	xs_wal               *wal; /* NULL: writes commit before the reply */
	struct xs_settings    settings;
	nng_socket            read_sock, admin_sock, pull_sock;
	bool                  has_read, has_admin, has_pull;
	struct xs_conn_limit  read_limit, admin_limit, pull_limit;
	struct xs_pull        pull; /* when has_pull */
	struct xs_worker     *workers;
	size_t                n_workers;
	atomic_bool           stopping;
	atomic_uint           workers_live; /* workers not stopped yet */
	uint64_t              started_ns;
	struct xs_op_counters ops[XS_OP_COUNT];
	struct xs_op_counters invalid; /* requests whose op was unreadable */
	struct xs_refresher   refresher;
};

/* A server TLS configuration from the tls_* files of 'o' (tls.c): own
 * certificate and key, client certificates required and checked against
 * the CA. Returns XSELL_EINVAL if a file is not given, XSELL_EIO if one
 * does not load (logged, one line), XSELL_ENOMEM. The caller frees
 * *cfgp with nng_tls_config_free(); listeners hold their own
 * reference. */
xsell_err xs_server_tls_alloc(
    nng_tls_config **cfgp, const struct xs_server_opts *o);

#endif /* XSELL_SERVER_SERVER_IMPL_H */
