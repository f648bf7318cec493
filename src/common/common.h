/* SPDX-License-Identifier: MIT */
/* Small pieces every layer uses: a bounded growable buffer, UTF-8 checks,
 * the clock, escaped logging and the error table. Nothing here knows LMDB,
 * msgpack or nng. */
#ifndef XSELL_COMMON_COMMON_H
#define XSELL_COMMON_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xsell/errors.h>
#include <xsell/limits.h>

/* ==== Buffer ==== */

/* A growable byte buffer that refuses to grow past 'max_len'. */
struct xs_buf {
	char  *data;    /* owned; NULL until the first append */
	size_t len;     /* bytes in use */
	size_t cap;     /* bytes allocated */
	size_t max_len; /* appends that would pass this fail with ETOOBIG */
};

/* Prepare an empty buffer in caller storage; allocates nothing. */
void xs_buf_init(struct xs_buf *b, size_t max_len);
/* Free the buffer's memory; the struct may be reused after xs_buf_init. */
void xs_buf_fini(struct xs_buf *b);
/* Forget the contents, keep the memory. */
void xs_buf_reset(struct xs_buf *b);
/* Room for 'extra' more bytes after len, without appending them.
 * XSELL_ETOOBIG past max_len, XSELL_ENOMEM. */
xsell_err xs_buf_reserve(struct xs_buf *b, size_t extra);
/* Append 'len' bytes. XSELL_ETOOBIG past max_len, XSELL_ENOMEM. */
xsell_err xs_buf_append(struct xs_buf *b, const void *p, size_t len);
/* Append formatted text (no NUL kept in len). */
xsell_err xs_buf_printf(struct xs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ==== Text ==== */

/* True if p[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool xs_utf8_is_valid(const char *p, size_t len);

/* True if p[0..len) is a valid external id: 1..XSELL_ID_MAX bytes of
 * UTF-8 without NUL bytes. */
bool xs_id_is_valid(const char *p, size_t len);
/* NULL when every element of the comma-separated 'list' is an id (as
 * xs_opt_list_next splits it); else the first that is not, its length in
 * *lenp. */
const char *xs_id_list_bad(const char *list, size_t *lenp);

/* Copy at most 'len' bytes of untrusted text into dst[0..dst_len) with
 * every control, quote, backslash and non-ASCII byte written as \xHH, so
 * that what a client sent can go into a log line or an error message
 * safely. Always NUL-terminates; truncates with "..." if needed. */
void xs_escape(char *dst, size_t dst_len, const char *p, size_t len);

/* ==== Time ==== */

/* Wall clock, unix seconds. */
int64_t xs_now_s(void);
/* Monotonic clock, nanoseconds. */
uint64_t xs_mono_ns(void);

/* ==== Log ==== */

enum xs_log_level { XS_LOG_ERROR, XS_LOG_WARN, XS_LOG_INFO, XS_LOG_DEBUG };

/* Set the least important level that is written (default INFO). */
void xs_log_set_level(enum xs_log_level level);
/* Write one line to stderr with time and level. Text from clients must
 * pass through xs_escape first; a control byte that does not is written
 * as '?', so a line is never split or forged. Thread-safe. */
void xs_log(enum xs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Limit the calling thread's repeated lines, for a loop that retries
 * what fails (server/wal.c's applier): from now on a line the same as
 * one this thread wrote less than 'every_s' seconds ago (same level and
 * text; the last 8 such lines are remembered) is held back and counted,
 * and once 'every_s' have passed it is written again, followed by
 * "(still failing: N retries since this line was last logged)". 0:
 * every line is written (the default). Other threads are not
 * affected. */
void xs_log_repeats_limit(unsigned every_s);
/* Forget the lines the calling thread wrote (the failure they repeated
 * is over): the next of them is written at once, without a count. */
void xs_log_repeats_reset(void);

/* ==== Hashing ==== */

/* 64-bit FNV-1a of p[0..len), then mixed. Stable across runs and machines
 * (it decides which items of a huge order are counted). */
uint64_t xs_hash64(const void *p, size_t len, uint64_t seed);

/* ==== Arena ==== */

/* A bump allocator for one request's scratch memory: many small
 * allocations, all freed at once by xs_arena_reset. Bounded by max_len
 * bytes in all; an allocation past it fails (NULL). */
struct xs_arena_block;
struct xs_arena {
	struct xs_arena_block *head;    /* newest block first */
	size_t                 used;    /* bytes handed out in all blocks */
	size_t                 max_len; /* cap on 'used' */
};

void xs_arena_init(struct xs_arena *a, size_t max_len);
/* Free every block. */
void xs_arena_fini(struct xs_arena *a);
/* Free all allocations; keeps the first block for reuse. */
void xs_arena_reset(struct xs_arena *a);
/* 16-byte aligned memory valid until the next reset; NULL when the cap or
 * malloc says no. 'size' 0 returns a valid non-NULL pointer. */
void *xs_arena_alloc(struct xs_arena *a, size_t size);
/* xs_arena_alloc of n * size bytes with overflow checking, zeroed. */
void *xs_arena_calloc(struct xs_arena *a, size_t n, size_t size);

/* ==== Helper threads ==== */

/* A thread that works beside the caller, and the lock and condition
 * they share (the loader's reader, the accumulator's feeders). */
struct xs_helper {
	pthread_t       thread;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
};

/* Initialise h's lock and condition and start run(arg) on its thread;
 * false (nothing left to undo) if any of it fails: the caller does the
 * work itself. */
bool xs_helper_start(struct xs_helper *h, void *(*run)(void *), void *arg);
/* Join h's thread (the caller has told it to stop), then destroy its
 * lock and condition. */
void xs_helper_join(struct xs_helper *h);

/* ==== A ring of slots between a helper thread and the caller ==== */

/* The helper thread produces into slots that the caller consumes, in
 * the order filled: slot k of the run is k % n_slots. The ring holds
 * only indices and states; the slots themselves (batches, chunks) are
 * the caller's array. Each side takes the lock once a slot, so a slot
 * should hold a lot of work. Only one side can wait at a time (the
 * producer on a full ring, the consumer on an empty one), so one
 * condition variable serves both. */
struct xs_ring {
	struct xs_helper h; /* the producer; h.mu guards the rest */
	size_t           n_slots;
	size_t           filled, taken; /* [taken, filled): the consumer's */
	bool             ended;         /* the producer publishes no more */
	bool             stopped;       /* the consumer takes no more */
	xsell_err        end_err;       /* the producer's, at xs_ring_end */
};

/* Start produce(arg) on a helper thread over a ring of n_slots (>= 1)
 * empty slots; false (nothing to undo) if it cannot start. */
bool xs_ring_start(
    struct xs_ring *r, size_t n_slots, void *(*produce)(void *), void *arg);
/* The producer: wait for a free slot, its index into *slotp; false if
 * the consumer has stopped (nothing more is taken: end and return). */
bool xs_ring_fill(struct xs_ring *r, size_t *slotp);
/* The producer: the slot of the last xs_ring_fill is full. */
void xs_ring_publish(struct xs_ring *r);
/* The producer, last of all: nothing more will be published; 'err'
 * says how producing ended (the consumer gets it from xs_ring_take). */
void xs_ring_end(struct xs_ring *r, xsell_err err);
/* The consumer: wait for the next full slot, its index into *slotp;
 * false once the producer has ended and every slot is taken, with
 * *endp its xs_ring_end error. */
bool xs_ring_take(struct xs_ring *r, size_t *slotp, xsell_err *endp);
/* The consumer: the slot of the last xs_ring_take is free again. */
void xs_ring_release(struct xs_ring *r);
/* The consumer, last of all: stop the producer at its next xs_ring_fill
 * (if it has not ended), join its thread and destroy the lock. */
void xs_ring_join(struct xs_ring *r);

/* ==== Files ==== */

/* The whole of the file 'path' as a NUL-terminated string of
 * 1..max_len bytes; the caller frees *textp. XSELL_EIO if it cannot be
 * opened (errno says why), XSELL_EINVAL if it is empty or cannot be
 * read, XSELL_ETOOBIG if it is longer than max_len, XSELL_ENOMEM. */
xsell_err xs_file_read_text(const char *path, size_t max_len, char **textp);

/* ==== Option values ==== */

/* The value of a command-line option, strictly: the whole string is a
 * decimal (strtoull's syntax, but a leading '-' is refused) in lo..hi.
 * False, *out untouched, for anything else. */
bool xs_opt_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* xs_opt_u64 into an unsigned. */
bool xs_opt_uint(const char *s, unsigned lo, unsigned hi, unsigned *out);
/* A finite number (strtod's syntax) in lo..hi. */
bool xs_opt_double(const char *s, double lo, double hi, double *out);
/* A size of at least 1 byte: a decimal with an optional K, M, G or T
 * suffix (either case, powers of 1024): "64M" -> 67108864. */
bool xs_opt_size(const char *s, size_t *out);
/* xs_opt_size in lo..hi bytes; *out untouched when not. */
bool xs_opt_size_in(const char *s, size_t lo, size_t hi, size_t *out);
/* The next element of the comma-separated list at *pp: its start in
 * *elemp, its length in *lenp (0 for an empty one: "a,,b" has three),
 * *pp moved past it (NULL after the last). False once the list is done;
 * "" is one empty element. The one split of every tool's id lists. */
bool xs_opt_list_next(const char **pp, const char **elemp, size_t *lenp);

/* ==== Options given twice ==== */

struct option; /* <getopt.h> */

/* Options that take a value one command line may give (each noted once). */
#define XS_OPT_ONCE_MAX 64

/* A command line's options with a value, as xs_opt_given_twice sees
 * them. The caller sets the three tables -- getopt_long's long options,
 * its short ones ("-hk:", or NULL) and the values that may repeat because
 * their values add up (--map; ended by 0, or NULL for none) -- zeroes the
 * rest (a designated initialiser) and calls xs_opt_given_twice for each
 * getopt_long result; the tables are borrowed for as long. */
struct xs_opt_once {
	const struct option *opts;
	const char          *shortopts;
	const int           *adds_up;
	int                  given[XS_OPT_ONCE_MAX]; /* given once so far */
	size_t               n_given;
	char                 name[48]; /* given twice: "--db", "-k" */
};

/* Note option 'c' (what getopt_long returned) as given and return NULL;
 * or, if it takes a value (by its row of 'opts', or a ':' after it in
 * 'shortopts'), is not one of 'adds_up' and was given before, return its
 * name as typed, kept in once->name ("--db"; "-k" for a short option
 * without a long name). That is a usage error in every binary: which
 * value was meant would be unsaid (xsell-load --db a --db b loaded into
 * b). A flag without a value may repeat (it says the same thing twice);
 * anything else getopt_long returns ('?', 1 for a file) is never noted. */
const char *xs_opt_given_twice(struct xs_opt_once *once, int c);

/* ==== Usage errors ==== */

/* Print "PROG: MESSAGE" and then 'hint' (which ends the line, e.g.
 * " (see xselld --help)\n") on stderr. Each binary wraps it in its own
 * usage_error macro, which gives 2, the exit status of a usage error:
 * a literal there, so that clang's analyzer sees that a caller returning
 * it has failed (as with decode.c's fail). */
void xs_usage_error(const char *prog, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The usage exit status after xs_usage_error(prog, hint, ...). */
#define XS_USAGE_ERROR(prog, hint, ...) \
	(xs_usage_error((prog), (hint), __VA_ARGS__), 2)

/* ==== Stop signals ==== */

/* Block SIGINT, SIGTERM and SIGHUP (unless the process started with it
 * ignored, as under nohup) in the calling thread, and so in every thread
 * it starts after, and ignore SIGPIPE. main calls it before any thread
 * starts, then waits in xs_stop_signal_wait. */
void xs_stop_signals_block(void);
/* Wait for one of those signals (blocked first); returns which came. */
int xs_stop_signal_wait(void);

#endif /* XSELL_COMMON_COMMON_H */
