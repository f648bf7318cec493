/* SPDX-License-Identifier: MIT */
/* Write-ahead log (xselld --wal): a write is acknowledged once its
 * request bytes are appended to a log file and synced, and a background
 * applier commits the logged writes to LMDB in large groups.
 *
 * Why: an LMDB commit writes and syncs every page its writes touched, so
 * a writer acknowledged after its own commit pays ~13 KB of page writes
 * an event; a log append costs the request's own bytes. Writers that
 * append at the same time share one fdatasync (the first to find none
 * under way syncs for all). The applier's groups are large, so their
 * commits write each hot page once for many writes. LMDB commits stay
 * fully synced (an unsynced commit can leave a store that no replay
 * repairs); each one records the sequence number of its last entry
 * (meta "wal_seq") in the same transaction, so a replay at open skips
 * exactly what the store has, and applying twice is impossible.
 *
 * Files: <db>/wal-<first seq, 16 hex>.log, entries back to back, each a
 * header (magic, body length, seq, the time it was decoded at, CRC-32)
 * and the request bytes. Only validated writes are logged (the handler
 * decodes them first), and an entry is decoded again with its own time
 * when applied, so it applies as it would have at once. A segment is
 * deleted once the store has all of its entries; a new one starts past
 * the segment bound (WAL_SEGMENT_MAX, or the backlog bound if less: a
 * segment is deleted soon after it fills), at every open, and after
 * each forget_user's entry: a forgotten user's requests must not stay
 * on disk once the reply says they are forgotten, so the forget's
 * writer deletes the segments up to its entry, and syncs the directory
 * (a crash of the machine may bring back a deletion not synced), before
 * it replies.
 *
 * Start-up is recovery (log_recover: replay what the store lacks), then,
 * with --wal only, the log's start (log_begin: a new segment, the
 * applier thread). Without --wal, xs_wal_replay recovers a log left in
 * the directory and deletes it, and starts no log.
 *
 * An entry that cannot be applied must not stall the log for ever (each
 * later write refused, each restart failing on it). An entry that does
 * not decode as a write never applies: it is a group of its own, and is
 * skipped. A group that fails is applied again one entry a transaction;
 * one that fails alone with an error of its own (err_is_entry_own: it
 * would fail on every try) is skipped too. Skipped: copied to
 * <db>/wal-skipped (entries in the log's format),
 * synced, then its seq committed to the store, counted and logged. An
 * error of the machine (full map or disk, I/O) skips nothing: the
 * applier keeps its place and retries. */
/* A feature-test macro, not an identifier of ours: glibc declares
 * pthread_setname_np only with it. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
#include "server/server_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define WAL_MAGIC 0x4c415758u /* "XWAL" */
/* A segment's bytes (at most; and at most the backlog bound): a new one
 * starts when an entry would cross it. */
#define WAL_SEGMENT_MAX ((off_t) 64 << 20)
/* Segments at once (deleted as they are applied; each open starts one):
 * past it writes are refused until the applier catches up. */
#define WAL_SEGMENTS_MAX 1024
/* Space reserved ahead of the appends, so that a full disk refuses a
 * write before any of it is in the log. */
#define WAL_PREALLOC ((off_t) 8 << 20)
/* An applier group: entries up to this many bytes, or half the backlog
 * bound if less (one entry always fits alone), and this many entries.
 * Larger groups share more pages a commit (one writer of 1,000-event
 * batches, load ~8: groups of 2 MiB applied ~37,000 events/s, 8 MiB
 * ~85,000, 16 MiB ~130,000); they also delay the reads of their
 * first writes longer (a 16 MiB group took 1.0-3 s to commit). */
#define WAL_GROUP_BYTES ((size_t) 16 << 20)
#define WAL_GROUP_ENTRIES 4096
/* Decoded requests of a group (as a worker's arena for 16 MiB). */
#define WAL_ARENA_MAX ((size_t) 256 << 20)
/* An applier that cannot commit (a full map, a disk error) tries again
 * after this long. */
#define WAL_RETRY_MS 1000
/* Meanwhile a line it logs at each try (why the try failed) is written
 * again at most this often, with the number of tries since: an error
 * that lasts a day gives 1,440 lines, not 86,400. */
#define WAL_LOG_REPEAT_S 60
/* The quarantine file's bound (<db>/wal-skipped): past it an entry that
 * cannot be applied stalls the applier, as before skipping existed, so
 * that a store which fails every write (a damaged B-tree reports the
 * same error as a damaged record) cannot empty the log into it. */
#define WAL_SKIPPED_MAX ((off_t) 256 << 20)
#define WAL_SKIPPED_NAME "wal-skipped"

struct wal_hdr {
	uint32_t magic;
	uint32_t len; /* body bytes, <= XSELL_ADMIN_MSG_MAX */
	uint64_t seq; /* 1, 2, ... across segments */
	int64_t  now; /* the request's decode time, unix seconds */
	uint32_t crc; /* CRC-32 of the header (crc 0) and the body */
	uint32_t pad;
};

/* A forget_user waiting for its result from the applier. */
struct wal_forget {
	uint64_t                seq;
	struct xs_forget_result res;     /* its counts, when applied */
	xsell_err               err;     /* OK: applied; else why not */
	bool                    done;    /* forget_deliver ended the wait */
	bool                    unknown; /* ended, not applied: no result */
	struct wal_forget      *next;
};

/* A writer waiting for backlog room (backlog_wait), queued behind the
 * writers that waited before it. */
struct wal_room {
	struct wal_room *next;
};

/* An entry of the group being applied. */
struct wal_entry {
	uint64_t seq;
	uint64_t rd_seg; /* where it starts: its segment, */
	off_t    rd_off; /* and its offset there */
	size_t   at;     /* its body in wal->buf */
	uint32_t len;    /* its body's bytes */
	int64_t  now;    /* its decode time, unix seconds (the header's) */
	/* Not OK: it does not decode, so it can never apply (set when
	 * read), or it was skipped for this error (set when applied). */
	xsell_err err;
};

struct xs_wal {
	struct xs_server *srv;
	char              dir[PATH_MAX];
	uint64_t          backlog_max; /* bytes logged, not applied */
	size_t            group_bytes; /* an applier group's bound */
	off_t             seg_max;     /* a segment's bound */
	pthread_mutex_t   mtx;
	pthread_cond_t    synced_cv;  /* a sync ended */
	pthread_cond_t    applied_cv; /* the applier committed or failed */
	pthread_cond_t    work_cv;    /* entries synced, or stopping */

	/* Appending (under mtx). */
	int       fd;         /* the segment appended to */
	off_t     off;        /* its end of entries */
	off_t     alloc;      /* its bytes reserved */
	uint64_t  alloc_gen;  /* bumped when 'alloc' is cut back */
	uint64_t  written;    /* last seq appended */
	uint64_t  synced;     /* last seq durable */
	off_t     synced_off; /* the segment's durable bytes */
	bool      syncing;    /* a writer is in fdatasync for all, */
	uint64_t  sync_last;  /* up to this entry */
	bool      rotating;   /* a writer is starting the next segment */
	bool      reserving;  /* a writer is reserving past 'alloc' */
	uint64_t  cut_after;  /* a forget's entry: a new segment after it */
	xsell_err broken;     /* a failed sync: every write refused */
	uint64_t  refused;    /* its last entry if not cut off; 0: none */
	uint64_t  segs[WAL_SEGMENTS_MAX]; /* first seqs, ascending */
	size_t    n_segs;
	/* Held by whoever deletes segments (segs_drop_applied): the
	 * applier, and a forget_user's writer. */
	pthread_mutex_t drop_mtx;
	bool drops_unsynced; /* a deletion not synced in the dir (drop_mtx) */

	/* Applying (the applier's own, but 'applied' to 'forgets' and
	 * 'skipped' under mtx: writers and stats read them). */
	uint64_t           applied;  /* last seq in the store */
	uint64_t           backlog;  /* bytes of entries not applied */
	xsell_err          stall;    /* the applier's error, until it works */
	uint64_t           retries;  /* the applier's tries again since */
	bool               stopping; /* xs_wal_close: drain, then exit */
	bool               exited;   /* the applier returned */
	struct wal_forget *forgets;  /* writers waiting for their results */
	struct wal_room   *room_head, *room_tail; /* waiting for room, FIFO */
	pthread_t          thread;
	bool               started; /* 'thread' runs: join it */
	struct xs_worker   w;       /* the applier's accumulator and arena */
	int                rd_fd;   /* the segment read from */
	uint64_t           rd_seg;  /* its first seq */
	off_t              rd_off;  /* the next entry's offset */
	uint8_t           *buf;     /* a group's request bytes */
	size_t             buf_cap; /* a group, and one entry more */
	struct wal_entry   ents[WAL_GROUP_ENTRIES]; /* the group's */
	int                skip_fd;   /* wal-skipped, once opened */
	off_t              skip_len;  /* its bytes */
	uint64_t           skipped;   /* entries skipped (under mtx) */
	bool               replaying; /* at open: the log's end unknown */
	bool               log_end;   /* the replay found it (until it ends) */
	/* A stop's record of entries refused and left at the log's end
	 * (meta "wal_refused"; 0: none), read at open: the replay ends
	 * before them (refused_record_at_stop, refused_mark_at_open). */
	uint64_t marked_first, marked_last;
	uint64_t n_groups, n_entries; /* for the log at close */
};

/* ==== Entries ==== */

static uint32_t       crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		}
		crc_table[i] = c;
	}
}

static uint32_t
crc_add(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		crc = crc_table[(crc ^ b[i]) & 0xffu] ^ (crc >> 8);
	}
	return crc;
}

/* The CRC of an entry: its header with crc 0, then its body. */
static uint32_t
entry_crc(const struct wal_hdr *h, const void *body)
{
	struct wal_hdr c   = *h;
	uint32_t       crc = 0xffffffffu;

	c.crc = 0;
	crc   = crc_add(crc, &c, sizeof(c));
	crc   = crc_add(crc, body, h->len);
	return crc ^ 0xffffffffu;
}

static void
seg_path(const xs_wal *wal, uint64_t first, char *out, size_t cap)
{
	snprintf(out, cap, "%s/wal-%016" PRIx64 ".log", wal->dir, first);
}

/* The reads below tell a disk that fails (XSELL_EIO, errno saying why:
 * the machine's error, which the applier retries and a start reports)
 * from a file that holds no whole entry where one is looked for
 * (XSELL_ENOENT: the log's end, or damage, as the caller decides). A
 * read error is never taken for either: the entry may be there. */

/* Read exactly len bytes at 'off'. XSELL_ENOENT if the file ends
 * first; XSELL_EIO if a read fails (errno says why). */
static xsell_err
read_at(int fd, void *p, size_t len, off_t off)
{
	uint8_t *b = p;

	while (len > 0) {
		ssize_t r = pread(fd, b, len, off);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return XSELL_EIO;
		}
		if (r == 0) {
			return XSELL_ENOENT;
		}
		b += r;
		len -= (size_t) r;
		off += r;
	}
	return XSELL_OK;
}

/* The header of entry 'seq' at 'off' of 'fd', in *h. XSELL_ENOENT if
 * there is none: the file ends, or what is there is not an entry's
 * header, or another seq's, or claims a body past the bound; XSELL_EIO
 * if the read fails (errno says why). Its CRC, which covers the body
 * too, is not checked here. */
static xsell_err
hdr_read(int fd, off_t off, uint64_t seq, struct wal_hdr *h)
{
	xsell_err err = read_at(fd, h, sizeof(*h), off);

	if (err != XSELL_OK) {
		return err;
	}
	if (h->magic != WAL_MAGIC || h->seq != seq ||
	    h->len > XSELL_ADMIN_MSG_MAX) {
		return XSELL_ENOENT;
	}
	return XSELL_OK;
}

/* The entry 'seq' at 'off' of 'fd': its header in *h and its body in
 * body[0..h->len) (room for XSELL_ADMIN_MSG_MAX). XSELL_ENOENT if there
 * is no whole entry with that seq and a good CRC there (the end of what
 * was written into that segment, or damage); XSELL_EIO if a read fails
 * (errno says why). */
static xsell_err
entry_read(int fd, off_t off, uint64_t seq, struct wal_hdr *h, uint8_t *body)
{
	xsell_err err = hdr_read(fd, off, seq, h);

	if (err == XSELL_OK) {
		err = read_at(fd, body, h->len, off + (off_t) sizeof(*h));
	}
	if (err != XSELL_OK) {
		return err;
	}
	return entry_crc(h, body) == h->crc ? XSELL_OK : XSELL_ENOENT;
}

/* Whether 'fd' holds only zero bytes from 'off' to its end (or nothing
 * there), in *zerop. XSELL_EIO if a read fails (errno says why): not
 * known either way. */
static xsell_err
file_zero_from(int fd, off_t off, bool *zerop)
{
	uint8_t chunk[65536];

	for (;;) {
		ssize_t r = pread(fd, chunk, sizeof(chunk), off);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return XSELL_EIO;
		}
		if (r == 0) {
			*zerop = true;
			return XSELL_OK;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (chunk[i] != 0) {
				*zerop = false;
				return XSELL_OK;
			}
		}
		off += r;
	}
}

/* Whether a whole entry 'seq' (its CRC good) starts anywhere in 'fd' in
 * (from, to), in *foundp: its magic is looked for at every byte. 'body'
 * has room for XSELL_ADMIN_MSG_MAX bytes. XSELL_EIO if a read fails
 * (errno says why). */
static xsell_err
entry_find_between(
    int fd, off_t from, off_t to, uint64_t seq, uint8_t *body, bool *foundp)
{
	const uint32_t magic = WAL_MAGIC;
	uint8_t        chunk[65536];
	off_t          at = from + 1;

	while (at + (off_t) sizeof(magic) <= to) {
		size_t  want = (size_t) (to - at) < sizeof(chunk)
		     ? (size_t) (to - at)
		     : sizeof(chunk);
		ssize_t r    = pread(fd, chunk, want, at);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return XSELL_EIO;
		}
		if (r < (ssize_t) sizeof(magic)) {
			break;
		}
		for (ssize_t i = 0; i + (ssize_t) sizeof(magic) <= r; i++) {
			struct wal_hdr h;
			xsell_err      err;

			if (memcmp(chunk + i, &magic, sizeof(magic)) != 0) {
				continue;
			}
			err = entry_read(fd, at + i, seq, &h, body);
			if (err == XSELL_EIO) {
				return err;
			}
			if (err == XSELL_OK) {
				*foundp = true;
				return XSELL_OK;
			}
		}
		/* The next chunk overlaps: a magic across the edge. */
		at += r - (ssize_t) sizeof(magic) + 1;
	}
	*foundp = false;
	return XSELL_OK;
}

/* Whether the last segment 'fd', from 'off' on, where entry 'seq' does
 * not read whole, is a torn tail (XSELL_OK): the last appends, cut
 * short by a crash, and never acknowledged (a sync covers every entry
 * appended before it). Appends follow each other and the space reserved
 * after them holds zeros, so a torn tail is one entry's bytes, then
 * zeros: after the body its header claims if the header is whole (up to
 * the file's end, which may cut the body), else after a header's bytes.
 * Any other byte, or a whole next entry inside what it claims (its
 * length damaged), is damage in the middle of the log, before entries
 * that may have been acknowledged: XSELL_ECORRUPT. XSELL_EIO if a read
 * fails (errno says why): neither is known. 'body': room for
 * XSELL_ADMIN_MSG_MAX bytes. */
static xsell_err
tail_torn_check(int fd, off_t off, uint64_t seq, uint8_t *body)
{
	struct wal_hdr h;
	struct stat    sb;
	off_t          end   = off + (off_t) sizeof(h);
	bool           zero  = false;
	bool           found = false;
	xsell_err      err;

	if (fstat(fd, &sb) != 0) {
		return XSELL_EIO;
	}
	err = hdr_read(fd, off, seq, &h);
	if (err == XSELL_EIO) {
		return err;
	}
	if (err == XSELL_OK) {
		end += (off_t) h.len;
		end = end < sb.st_size ? end : sb.st_size;
	}
	err = file_zero_from(fd, end, &zero);
	if (err == XSELL_OK && zero) {
		err = entry_find_between(fd, off, end, seq + 1, body, &found);
	}
	if (err != XSELL_OK) {
		return err;
	}
	return zero && !found ? XSELL_OK : XSELL_ECORRUPT;
}

/* Frame entry 'seq' (body[0..len), decoded at 'now'): its header, with
 * its CRC, in *h, and iov[] the header then the body, as they are
 * written back to back (the log and wal-skipped alike). */
static void
entry_frame(struct wal_hdr *h, struct iovec iov[2], uint64_t seq, int64_t now,
    const void *body, uint32_t len)
{
	*h = (struct wal_hdr) {
		.magic = WAL_MAGIC, .len = len, .seq = seq, .now = now
	};
	h->crc          = entry_crc(h, body);
	iov[0].iov_base = h;
	iov[0].iov_len  = sizeof(*h);
	iov[1].iov_base = (void *) body;
	iov[1].iov_len  = len;
}

/* Write a framed entry (iov[], consumed) at 'off' of 'fd', whole: short
 * writes go on where they stopped. 0, or the errno of the failure
 * (ENOSPC when the file takes no more). Nothing is synced here. */
static int
entry_write(int fd, off_t off, struct iovec iov[2])
{
	while (iov[0].iov_len + iov[1].iov_len > 0) {
		struct iovec *v = iov[0].iov_len > 0 ? &iov[0] : &iov[1];
		int           n = v == &iov[0] ? 2 : 1;
		ssize_t       r = pwritev(fd, v, n, off);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return r < 0 ? errno : ENOSPC;
		}
		off += r;
		for (int i = 0; i < 2 && r > 0; i++) {
			size_t k = (size_t) r < iov[i].iov_len
			    ? (size_t) r
			    : iov[i].iov_len;

			iov[i].iov_base = (uint8_t *) iov[i].iov_base + k;
			iov[i].iov_len -= k;
			r -= (ssize_t) k;
		}
	}
	return 0;
}

/* ==== Segments ==== */

/* Sync the log's directory: the files created and deleted in it so far
 * survive a crash of the machine as they are (a new name, or its
 * absence) once this returns XSELL_OK. XSELL_EIO if it fails, errno
 * saying why (nothing is logged here). */
static xsell_err
dir_sync(const xs_wal *wal)
{
	int fd = open(wal->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, e;

	if (fd < 0) {
		return XSELL_EIO;
	}
	rc = fsync(fd);
	e  = errno;
	close(fd);
	errno = e;
	return rc == 0 ? XSELL_OK : XSELL_EIO;
}

static int
seg_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a;
	uint64_t y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

/* Whether 'name' is a segment's, "wal-" 16 hex digits ".log" (seq >
 * 0); its first seq in *firstp. */
static bool
seg_name_parse(const char *name, uint64_t *firstp)
{
	uint64_t first = 0;

	if (strlen(name) != 24 || strncmp(name, "wal-", 4) != 0 ||
	    strcmp(name + 20, ".log") != 0) {
		return false;
	}
	for (int i = 4; i < 20; i++) {
		char c = name[i];
		int  v = c >= '0' && c <= '9' ? c - '0'
		     : c >= 'a' && c <= 'f'   ? c - 'a' + 10
		                              : -1;

		if (v < 0) {
			return false;
		}
		first = first << 4 | (uint64_t) v;
	}
	*firstp = first;
	return first != 0;
}

/* The first seqs of the segments in directory 'dir', in the order the
 * directory lists them: the first 'cap' into firsts[] (NULL if cap is
 * 0), and how many there are, past 'cap' too, in *np. The one readdir
 * loop for open's list and xs_wal_replay's question (is a log left?). */
static xsell_err
segs_scan(const char *dir, uint64_t *firsts, size_t cap, size_t *np)
{
	DIR           *d = opendir(dir);
	struct dirent *e;
	size_t         n = 0;

	if (d == NULL) {
		xs_log(XS_LOG_ERROR, "wal: %s: %s", dir, strerror(errno));
		return XSELL_EIO;
	}
	/* readdir ends with NULL at the end and on an error alike, errno
	 * telling them apart: a list cut short by a disk error would end
	 * the log early, and its start would overwrite a file not listed. */
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		uint64_t first;

		if (seg_name_parse(e->d_name, &first)) {
			if (n < cap) {
				firsts[n] = first;
			}
			n++;
		}
	}
	if (errno != 0) {
		xs_log(XS_LOG_ERROR, "wal: %s: %s", dir, strerror(errno));
		closedir(d);
		return XSELL_EIO;
	}
	closedir(d);
	*np = n;
	return XSELL_OK;
}

/* The segments in the directory, ascending, into wal->segs: fewer than
 * WAL_SEGMENTS_MAX (the next open starts one more). */
static xsell_err
segs_list(xs_wal *wal)
{
	size_t    n   = 0;
	xsell_err err = segs_scan(wal->dir, wal->segs, WAL_SEGMENTS_MAX, &n);

	if (err != XSELL_OK) {
		return err;
	}
	if (n > WAL_SEGMENTS_MAX - 1) {
		xs_log(XS_LOG_ERROR, "wal: more than %d log files in %s",
		    WAL_SEGMENTS_MAX - 1, wal->dir);
		return XSELL_ECORRUPT;
	}
	wal->n_segs = n;
	qsort(wal->segs, wal->n_segs, sizeof(wal->segs[0]), seg_cmp);
	return XSELL_OK;
}

/* How many of the oldest segments hold only entries in the store: each
 * whose successor starts at or before applied + 1, and the last one
 * too when everything written is applied and no writer appends to it
 * ('all'). mtx held, or no other thread. */
static size_t
segs_applied(const xs_wal *wal, uint64_t applied, bool all)
{
	size_t n = 0;

	while (n < wal->n_segs &&
	    ((n + 1 < wal->n_segs && wal->segs[n + 1] <= applied + 1) ||
	        (all && n + 1 == wal->n_segs))) {
		n++;
	}
	return n;
}

/* Delete the segments firsts[0..n) (the oldest, in order); returns how
 * many are gone: they stop at the first that cannot be deleted, which
 * is tried again next time. Called without mtx: a segment is deleted
 * only after the commit that recorded its last entry as applied
 * returned (a crash before its unlink replays nothing from it: replay
 * skips what the store has), and only under drop_mtx, always the
 * oldest, so these stay the first of wal->segs meanwhile (writers only
 * add at its end). */
static size_t
segs_unlink(const xs_wal *wal, const uint64_t *firsts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + 32];

		seg_path(wal, firsts[i], path, sizeof(path));
		if (unlink(path) != 0 && errno != ENOENT) {
			xs_log(XS_LOG_WARN, "wal: unlink %s: %s", path,
			    strerror(errno));
			return i;
		}
	}
	return n;
}

/* Take the n oldest segments off the list (mtx held). */
static void
segs_unlist(xs_wal *wal, size_t n)
{
	memmove(
	    wal->segs, wal->segs + n, (wal->n_segs - n) * sizeof(uint64_t));
	wal->n_segs -= n;
}

/* Delete the segments whose every entry is in the store (see
 * segs_applied; 'all': the last one too), at open and close, from the
 * applier and after a forget_user. mtx is held only to read and change
 * the list, not for the unlinks (writers do not wait for the disk);
 * they go in batches of SEGS_DROP_BATCH, until one cannot be deleted
 * (tried again next time). drop_mtx makes one deleter at a time.
 *
 * Then the directory is synced: until it is, a crash of the machine may
 * bring a deleted file back, and with it the requests of a user a
 * forget_user's reply said were deleted. XSELL_OK once every deletion
 * so far is durable (by this call's sync, or an earlier one: a deleter
 * that finds the segments gone also finds them synced, or syncs again
 * if that sync failed); XSELL_EIO if the sync fails, logged when this
 * call deleted files. A file a crash brings back holds only applied
 * entries: a start deletes it again. */
#define SEGS_DROP_BATCH 64

static xsell_err
segs_drop_applied(xs_wal *wal, uint64_t applied, bool all)
{
	size_t    dropped = 0;
	xsell_err err     = XSELL_OK;

	pthread_mutex_lock(&wal->drop_mtx);
	for (;;) {
		uint64_t firsts[SEGS_DROP_BATCH];
		size_t   n, gone;

		pthread_mutex_lock(&wal->mtx);
		n = segs_applied(wal, applied, all);
		n = n < SEGS_DROP_BATCH ? n : SEGS_DROP_BATCH;
		memcpy(firsts, wal->segs, n * sizeof(firsts[0]));
		pthread_mutex_unlock(&wal->mtx);
		if (n == 0) {
			break;
		}
		gone = segs_unlink(wal, firsts, n);
		dropped += gone;
		pthread_mutex_lock(&wal->mtx);
		segs_unlist(wal, gone);
		pthread_mutex_unlock(&wal->mtx);
		if (gone < n) {
			break;
		}
	}
	if (dropped > 0 || wal->drops_unsynced) {
		err = dir_sync(wal);
		if (err != XSELL_OK && dropped > 0) {
			xs_log(XS_LOG_WARN,
			    "wal: %zu log file(s) deleted, but %s cannot be "
			    "synced: %s; a crash of the machine may bring "
			    "them back (a start deletes them again)",
			    dropped, wal->dir, strerror(errno));
		}
		wal->drops_unsynced = err != XSELL_OK;
	}
	pthread_mutex_unlock(&wal->drop_mtx);
	return err;
}

/* Delete 'path', a segment just created that is not used (its name
 * could not be made durable). A file that stays is empty and is not
 * listed: the next try to start that segment opens it again (emptied),
 * and a start takes it for an empty last file and deletes it. */
static void
seg_discard(const char *path)
{
	if (unlink(path) != 0) {
		xs_log(XS_LOG_WARN,
		    "wal: unlink %s: %s; the empty file stays (not used: "
		    "the next start deletes it)",
		    path, strerror(errno));
	}
}

/* Create segment 'first' and make its name durable (its entries will
 * be synced into it: the file must survive a crash with them); its
 * descriptor in *fdp. XSELL_EIO, logged with the reason, if either
 * fails (the file is not used, and deleted: seg_discard). Touches
 * nothing of wal's state under mtx. */
static xsell_err
seg_create(const xs_wal *wal, uint64_t first, int *fdp)
{
	char path[PATH_MAX + 32];
	int  fd;

	seg_path(wal, first, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		xs_log(XS_LOG_ERROR, "wal: %s: %s", path, strerror(errno));
		return XSELL_EIO;
	}
	if (dir_sync(wal) != XSELL_OK) {
		xs_log(XS_LOG_ERROR,
		    "wal: %s cannot be synced after creating %s: %s; the "
		    "file is not used",
		    wal->dir, path, strerror(errno));
		close(fd);
		seg_discard(path);
		return XSELL_EIO;
	}
	*fdp = fd;
	return XSELL_OK;
}

/* Make 'fd', a new segment starting at 'first', the one appended to
 * (mtx held, or no other thread). */
static void
seg_switch(xs_wal *wal, uint64_t first, int fd)
{
	if (wal->fd >= 0) {
		close(wal->fd);
	}
	wal->fd                  = fd;
	wal->off                 = 0;
	wal->alloc               = 0;
	wal->synced_off          = 0;
	wal->segs[wal->n_segs++] = first;
}

/* Start segment 'first' for appending, at open (no other thread),
 * emptied. A file of that name an unlink left behind is still listed
 * (it holds no entry the store lacks) and must not be listed twice:
 * the applier would count the first copy applied once the second
 * starts, and unlink the file the writers append to. */
static xsell_err
seg_start(xs_wal *wal, uint64_t first)
{
	int       fd  = -1;
	xsell_err err = seg_create(wal, first, &fd);

	if (err == XSELL_OK) {
		if (wal->n_segs > 0 && wal->segs[wal->n_segs - 1] == first) {
			wal->n_segs--;
		}
		seg_switch(wal, first, fd);
	}
	return err;
}

/* ==== Appending ==== */

/* The log cannot be written: refuse every write from now on (mtx held).
 * Writers waiting for backlog room (backlog_wait) are woken only by the
 * applier, which may have nothing left to apply (the entries that filled
 * the backlog were the unsynced ones, cut off): wake them here, to be
 * refused rather than left without a reply until the stop. */
static void
log_break(xs_wal *wal)
{
	wal->broken = XSELL_EIO;
	pthread_cond_broadcast(&wal->applied_cv);
}

/* A sync failed ('sync_failed': logged here), or the log broke while
 * entries were not yet durable (a failed append could not be taken
 * back): what is not known durable may or may not be on disk (an fsync
 * error is not retried: the kernel may have dropped the pages). Cut the
 * entries not known durable off the log, and sync the cut (a crash may
 * undo a cut not synced), so that no start applies writes that were
 * answered with an error, and refuse every write from now on (a restart
 * checks the log again). If the cut cannot be made durable either,
 * those entries may still be on disk: the applier records them as
 * applied in the store once every entry before them is
 * (refused_mark), or a stop before that records them as refused
 * (refused_record_at_stop), so that no start applies them all the
 * same. mtx held,
 * also for the cut's sync: this happens once, and every write is
 * refused from now on anyway. */
static void
fail_unsynced(xs_wal *wal, bool sync_failed)
{
	const char *what = NULL;

	assert(wal->written > wal->synced);
	if (sync_failed) {
		xs_log(XS_LOG_ERROR,
		    "wal: fdatasync: %s; writes are refused "
		    "until a restart",
		    strerror(errno));
	}
	if (ftruncate(wal->fd, wal->synced_off) != 0) {
		what = "cut off";
	} else if (fdatasync(wal->fd) != 0) {
		what = "sync the cut of";
	}
	if (what != NULL) {
		xs_log(XS_LOG_ERROR,
		    "wal: cannot %s the unsynced entries %" PRIu64 "..%" PRIu64
		    ": %s; they are recorded as applied once the "
		    "entries before them are, so that no start applies them",
		    what, wal->synced + 1, wal->written, strerror(errno));
		wal->refused = wal->written;
		pthread_cond_signal(&wal->work_cv);
	}
	wal->backlog -= (uint64_t) (wal->off - wal->synced_off);
	wal->off     = wal->synced_off;
	wal->alloc   = wal->synced_off;
	wal->written = wal->synced;
	wal->alloc_gen++;
	log_break(wal);
}

/* Move the appends to a new segment (mtx held; no sync, reservation or
 * rotation under way, so nobody else uses the old descriptor). The disk
 * work runs without mtx: 'rotating' makes writers wait to append (an
 * entry appended to the old segment now would not be covered by its
 * last sync) and to sync (the old segment's sync here covers them);
 * stats and the applier go on. The old segment is synced before any
 * entry goes to the new one: entries are durable in seq order, which
 * is what 'synced' means. */
static xsell_err
seg_rotate(xs_wal *wal)
{
	uint64_t  first = wal->written + 1;
	bool      dirty = wal->synced < wal->written;
	int       old = wal->fd, fd = -1, rc = 0;
	xsell_err err;

	if (wal->n_segs == WAL_SEGMENTS_MAX) {
		xs_log(XS_LOG_ERROR, "wal: %d log files not yet applied",
		    WAL_SEGMENTS_MAX);
		return XSELL_EUNAVAIL;
	}
	wal->rotating = true;
	pthread_mutex_unlock(&wal->mtx);
	if (dirty) {
		rc = fdatasync(old);
	}
	err = rc == 0 ? seg_create(wal, first, &fd) : XSELL_EIO;
	pthread_mutex_lock(&wal->mtx);
	wal->rotating = false;
	pthread_cond_broadcast(&wal->synced_cv);
	if (rc != 0) {
		fail_unsynced(wal, true);
		return XSELL_EIO;
	}
	wal->synced = first - 1;
	pthread_cond_signal(&wal->work_cv);
	if (err != XSELL_OK) {
		wal->synced_off = wal->off;
		return err; /* the old segment stays; the next write retries */
	}
	seg_switch(wal, first, fd);
	return XSELL_OK;
}

/* Where a segment's reservation should end for an append ending at
 * 'need': WAL_PREALLOC steps, at least half a step ahead of it, but
 * not past the segment's bound unless the entry itself is. */
static off_t
reserve_target(const xs_wal *wal, off_t need)
{
	off_t want = (need + WAL_PREALLOC / 2 + WAL_PREALLOC - 1) /
	    WAL_PREALLOC * WAL_PREALLOC;
	off_t cap = need > wal->seg_max ? need : wal->seg_max;

	return want < cap ? want : cap;
}

/* Reserve disk space for the segment up to 'want' (mtx held, released
 * during posix_fallocate). Appends below 'alloc' go on meanwhile (they
 * write below the reserved range); a rotation waits for it (same
 * descriptor). If 'alloc' was cut back meanwhile (a failed write or
 * sync truncated the file), the result is not trusted: the next append
 * reserves again. */
static xsell_err
seg_reserve(xs_wal *wal, off_t want)
{
	uint64_t gen  = wal->alloc_gen;
	off_t    from = wal->alloc;
	int      fd   = wal->fd;
	int      rc;

	wal->reserving = true;
	pthread_mutex_unlock(&wal->mtx);
	rc = posix_fallocate(fd, from, want - from);
	pthread_mutex_lock(&wal->mtx);
	wal->reserving = false;
	pthread_cond_broadcast(&wal->synced_cv);
	if (rc != 0) {
		xs_log(
		    XS_LOG_WARN, "wal: reserving log space: %s", strerror(rc));
		return XSELL_EIO;
	}
	if (gen == wal->alloc_gen && want > wal->alloc) {
		wal->alloc = want;
	}
	return XSELL_OK;
}

/* Whether the segment appended to holds the entry of a forget_user
 * that must end it (wal->cut_after; mtx held): nothing more goes into
 * it, so that it can be deleted once that entry is applied. */
static bool
seg_cut_due(const xs_wal *wal)
{
	return wal->n_segs > 0 && wal->segs[wal->n_segs - 1] <= wal->cut_after;
}

/* Make room for 'len' more bytes at the end of the segment (mtx held;
 * released while the disk works, so every condition is checked again
 * after each wait): a new segment past wal->seg_max or after a
 * forget_user's entry (seg_cut_due), then reserved
 * disk space, reserved ahead (half a step) so that appends seldom wait
 * for it. The writer that finds the work to do does it; the others
 * wait only if they need it. */
static xsell_err
append_room(xs_wal *wal, size_t len)
{
	bool ahead_failed = false;

	for (;;) {
		off_t     need = wal->off + (off_t) len;
		xsell_err err;

		if (wal->broken != XSELL_OK) {
			return wal->broken;
		}
		if (wal->rotating) {
			pthread_cond_wait(&wal->synced_cv, &wal->mtx);
			continue;
		}
		if (wal->off > 0 &&
		    (need > wal->seg_max || seg_cut_due(wal))) {
			if (wal->syncing || wal->reserving) {
				pthread_cond_wait(&wal->synced_cv, &wal->mtx);
				continue;
			}
			err = seg_rotate(wal);
			if (err != XSELL_OK) {
				return err;
			}
			continue;
		}
		/* Reserved, and the step ahead is too, or is under way, or
		 * could not be had (a write that fits goes in all the
		 * same). */
		if (need <= wal->alloc &&
		    (ahead_failed || wal->reserving ||
		        reserve_target(wal, need) <= wal->alloc)) {
			return XSELL_OK;
		}
		if (wal->reserving) {
			pthread_cond_wait(&wal->synced_cv, &wal->mtx);
			continue;
		}
		err = seg_reserve(wal, reserve_target(wal, need));
		if (err != XSELL_OK) {
			/* Others appended meanwhile: the end moved. */
			if (wal->off + (off_t) len > wal->alloc) {
				return err;
			}
			ahead_failed = true;
		}
	}
}

/* Append one entry (mtx held); *seqp is its seq. On an error nothing
 * of it stays in the log. */
static xsell_err
entry_append(
    xs_wal *wal, const void *body, size_t len, int64_t now, uint64_t *seqp)
{
	struct wal_hdr h;
	struct iovec   iov[2];
	xsell_err      err = append_room(wal, sizeof(h) + len);
	int            e;

	if (err != XSELL_OK) {
		return err;
	}
	/* Only now: making room may have waited, and others appended (and
	 * a new segment may have begun: wal->off is its end). */
	entry_frame(&h, iov, wal->written + 1, now, body, (uint32_t) len);
	e = entry_write(wal->fd, wal->off, iov);
	if (e != 0) {
		xs_log(XS_LOG_WARN, "wal: write: %s", strerror(e));
		/* Take back what was written of it: a later entry goes
		 * here, and a replay stops at a bad one. */
		wal->alloc = wal->off;
		wal->alloc_gen++;
		if (ftruncate(wal->fd, wal->off) != 0) {
			log_break(wal);
			/* Other writers' entries not yet durable are
			 * refused now: cut them too, or mark them. A sync
			 * under way does it once it ends (sync_upto). */
			if (!wal->syncing && wal->written > wal->synced) {
				fail_unsynced(wal, false);
			}
		}
		return XSELL_EIO;
	}
	wal->off += (off_t) (sizeof(h) + len);
	wal->written = h.seq;
	wal->backlog += sizeof(h) + len;
	*seqp = h.seq;
	return XSELL_OK;
}

/* End the segment appended to after forget_user entry 'seq', just
 * appended (mtx held since): a new segment starts, and appends wait
 * for it (append_room), so that the forget's segment holds no entry
 * after it and is deleted as soon as the forget is applied
 * (forget_segs_drop). The rotation syncs the old segment, the forget's
 * entry with it. If it fails (logged), the next append tries again. */
static void
seg_cut(xs_wal *wal, uint64_t seq)
{
	wal->cut_after = seq;
	while (wal->broken == XSELL_OK && seg_cut_due(wal)) {
		if (wal->rotating || wal->syncing || wal->reserving) {
			pthread_cond_wait(&wal->synced_cv, &wal->mtx);
			continue;
		}
		if (seg_rotate(wal) != XSELL_OK) {
			return;
		}
	}
}

/* Wait until entry 'seq' is durable (mtx held). The first writer to
 * find no sync under way syncs everything appended so far; the others
 * wait for it, and the next sync covers whoever came later. A writer
 * whose entry the sync under way covers waits for its outcome even if
 * the log breaks meanwhile (a failed append): if that sync makes the
 * entry durable, it is applied, and the reply must say so. */
static xsell_err
sync_upto(xs_wal *wal, uint64_t seq)
{
	while (wal->synced < seq) {
		uint64_t upto;
		off_t    upto_off;
		int      fd, rc;

		if (wal->syncing && seq <= wal->sync_last) {
			pthread_cond_wait(&wal->synced_cv, &wal->mtx);
			continue;
		}
		if (wal->broken != XSELL_OK) {
			break;
		}
		/* A rotation syncs the old segment, which holds 'seq'. */
		if (wal->syncing || wal->rotating) {
			pthread_cond_wait(&wal->synced_cv, &wal->mtx);
			continue;
		}
		wal->syncing   = true;
		wal->sync_last = wal->written;
		upto           = wal->written;
		upto_off       = wal->off;
		fd             = wal->fd;
		pthread_mutex_unlock(&wal->mtx);
		rc = fdatasync(fd);
		pthread_mutex_lock(&wal->mtx);
		wal->syncing = false;
		if (rc == 0) {
			/* A rotation waits for this sync: same segment. */
			if (upto > wal->synced) {
				wal->synced     = upto;
				wal->synced_off = upto_off;
			}
			pthread_cond_signal(&wal->work_cv);
		}
		/* Failed, or the log broke meanwhile (a failed append):
		 * what this sync did not cover is refused. */
		if (wal->written > wal->synced &&
		    (rc != 0 || wal->broken != XSELL_OK)) {
			fail_unsynced(wal, rc != 0);
		}
		pthread_cond_broadcast(&wal->synced_cv);
	}
	return wal->synced >= seq ? XSELL_OK : wal->broken;
}

/* Take forget_user 'f' off the list of waiters (mtx held). */
static void
forget_unlist(xs_wal *wal, struct wal_forget *f)
{
	struct wal_forget **p = &wal->forgets;

	while (*p != f) {
		assert(*p != NULL);
		p = &(*p)->next;
	}
	*p = f->next;
}

/* List forget_user 'f', whose entry 'seq' was just appended, among the
 * waiters (mtx held since the append). Before the entry is synced: the
 * applier reads only synced entries, so it finds 'f' whichever writer's
 * sync covers the entry. Listed after its own writer's wait for the
 * sync, 'f' could miss its result: another writer's sync covers the
 * entry, the applier applies it and delivers to nobody before its
 * writer takes the mutex back, and the writer waits for ever. */
static void
forget_list(xs_wal *wal, struct wal_forget *f, uint64_t seq)
{
	f->seq       = seq;
	f->next      = wal->forgets;
	wal->forgets = f;
}

/* End the wait of forget_user 'f' (mtx held): its entry is in the
 * store, applied (XSELL_OK, its counts in *res) or skipped (the error it
 * failed with: a skipped forget_user changed nothing, so its error is
 * the truth). 'f' leaves the list of waiters. */
static void
forget_deliver(xs_wal *wal, struct wal_forget *f,
    const struct xs_forget_result *res, xsell_err err)
{
	forget_unlist(wal, f);
	if (err == XSELL_OK) {
		f->res = *res;
	}
	f->err  = err;
	f->done = true;
}

/* Whether a forget_user's wait must end before its entry is applied
 * (mtx held): the applier is gone, or the server is stopping while the
 * applier cannot apply (wal->stall: a full map, a damaged entry), so
 * that the admin worker, and the stop that joins it before closing the
 * log, would wait for ever. A stop alone does not end it: the applier
 * goes on until xs_wal_close, which comes after the workers are joined,
 * and reaches the entry. */
static bool
forget_wait_is_hopeless(const xs_wal *wal)
{
	return wal->exited ||
	    (atomic_load(&wal->srv->stopping) && wal->stall != XSELL_OK);
}

/* Wait for the forget_user entry of 'f', listed since its append, to be
 * applied (mtx held), however long; its result's error. A wait that is
 * hopeless (forget_wait_is_hopeless) ends with f->unknown: the entry
 * stays in the log, and a later start applies it (or skips it if it
 * fails there), so this server knows no result, and an error reply
 * would say that nothing changed: the caller sends no reply at all
 * (PROTOCOL.md, "With a write-ahead log"). */
static xsell_err
forget_wait(xs_wal *wal, struct wal_forget *f)
{
	while (!f->done) {
		if (forget_wait_is_hopeless(wal)) {
			xs_log(XS_LOG_WARN,
			    "wal: forget_user (entry %" PRIu64
			    ") cannot be applied before the stop (%s): it "
			    "gets no reply; it stays in the log for the next "
			    "start",
			    f->seq,
			    wal->exited ? "the applier stopped"
			                : xsell_strerror(wal->stall));
			forget_unlist(wal, f);
			f->err     = XSELL_EUNAVAIL;
			f->unknown = true;
			break;
		}
		pthread_cond_wait(&wal->applied_cv, &wal->mtx);
	}
	return f->err;
}

/* After forget_user entry 'seq' is in the store (applied, or skipped:
 * then the user was not taken out, but the request that names them is
 * kept in wal-skipped): delete the log's segments up to it, which hold
 * the user's requests and the forget's own (seg_cut ended its segment
 * with it), and sync the directory, before the reply says they are
 * forgotten. Called without mtx. Should a segment stay (the cut or an
 * unlink failed, logged), a start deletes it once its entries are in
 * the store. Should the directory's sync fail (logged), the files are
 * gone but a crash of the machine may bring them back, and the start
 * after it deletes them: the reply is sent all the same, since the
 * forget is applied (an error would say that nothing changed), and
 * the server's log says so. */
static void
forget_segs_drop(xs_wal *wal, uint64_t seq)
{
	uint64_t  applied;
	bool      kept;
	xsell_err err;

	/* The applier records a group as applied in the hold of mtx that
	 * delivers its forgets' results (group_record): a writer woken
	 * after its result (by a writer waiting for backlog room that
	 * hands on its place, a broken log, a stop, or spuriously) finds
	 * its entry counted. */
	pthread_mutex_lock(&wal->mtx);
	applied = wal->applied;
	pthread_mutex_unlock(&wal->mtx);
	assert(applied >= seq);
	err = segs_drop_applied(wal, applied, false);
	pthread_mutex_lock(&wal->mtx);
	kept = wal->n_segs > 0 && wal->segs[0] <= seq;
	pthread_mutex_unlock(&wal->mtx);
	if (kept) {
		xs_log(XS_LOG_WARN,
		    "wal: forget_user (entry %" PRIu64
		    "): the log file holding it could not be deleted yet; "
		    "the next start deletes it",
		    seq);
	} else if (err != XSELL_OK) {
		xs_log(XS_LOG_WARN,
		    "wal: forget_user (entry %" PRIu64
		    "): the log files holding it are deleted, but the "
		    "deletion is not durable (the directory's sync failed); "
		    "a crash of the machine may bring them back, and the "
		    "start after it deletes them",
		    seq);
	}
}

/* Why a write is refused at once (mtx held): the log cannot be
 * written, the applier cannot apply (the write would not be seen), or
 * it has stopped. */
static xsell_err
backlog_refusal(const xs_wal *wal)
{
	if (wal->broken != XSELL_OK) {
		return wal->broken;
	}
	if (wal->stall != XSELL_OK) {
		return wal->stall;
	}
	return wal->exited ? XSELL_EUNAVAIL : XSELL_OK;
}

/* Queue 'r' last among the writers waiting for room (mtx held). 'r' is
 * the waiting writer's own (backlog_wait's stack), off the queue again
 * before that writer returns (room_unqueue). */
static void
room_queue(xs_wal *wal, struct wal_room *r)
{
	if (wal->room_tail != NULL) {
		wal->room_tail->next = r;
	} else {
		wal->room_head = r;
	}
	wal->room_tail = r;
}

/* Take 'r' off the queue of writers waiting for room (mtx held); it
 * need not be the first (a refused writer leaves from anywhere). */
static void
room_unqueue(xs_wal *wal, struct wal_room *r)
{
	struct wal_room **p    = &wal->room_head;
	struct wal_room  *prev = NULL;

	while (*p != r) {
		assert(*p != NULL);
		prev = *p;
		p    = &(*p)->next;
	}
	*p = r->next;
	if (wal->room_tail == r) {
		wal->room_tail = prev;
	}
}

/* Wait until the backlog has room for 'need' more bytes (mtx held): a
 * full one waits for the applier. An empty one takes any entry (one
 * above the bound would wait for ever). Writers get room in the order
 * they came: one that finds others waiting queues behind them, and only
 * the first waits for room; a write needing more room than the others
 * (all of the backlog, if it is larger than the bound) would otherwise
 * be overtaken by every smaller one that fits, for as long as they keep
 * coming. A write is refused at once (backlog_refusal), also while it
 * waits. */
static xsell_err
backlog_wait(xs_wal *wal, size_t need)
{
	struct wal_room me     = { NULL };
	bool            queued = false;
	xsell_err       err;

	for (;;) {
		bool room = wal->backlog == 0 ||
		    wal->backlog + need <= wal->backlog_max;

		err = backlog_refusal(wal);
		if (err != XSELL_OK ||
		    (room && wal->room_head == (queued ? &me : NULL))) {
			break;
		}
		if (!queued) {
			room_queue(wal, &me);
			queued = true;
		}
		pthread_cond_wait(&wal->applied_cv, &wal->mtx);
	}
	if (queued) {
		room_unqueue(wal, &me);
		/* The next in line waits on the same condition. */
		pthread_cond_broadcast(&wal->applied_cv);
	}
	return err;
}

xsell_err
xs_wal_write(xs_wal *wal, struct xs_worker *w, struct xs_write_job *job)
{
	const struct xs_request *req  = job->req;
	size_t                   need = sizeof(struct wal_hdr) + w->req_len;
	bool                     is_forget = req->op == XS_OP_forget_user;
	struct wal_forget        f         = { 0 };
	uint64_t                 seq       = 0;
	xsell_err                err;

	assert(w->req_body != NULL && w->req_len <= XSELL_ADMIN_MSG_MAX);
	pthread_mutex_lock(&wal->mtx);
	err = backlog_wait(wal, need);
	if (err == XSELL_OK) {
		err = entry_append(
		    wal, w->req_body, w->req_len, w->req_now, &seq);
	}
	if (err == XSELL_OK && is_forget) {
		forget_list(wal, &f, seq);
		seg_cut(wal, seq);
	}
	if (err == XSELL_OK) {
		err = sync_upto(wal, seq);
	}
	if (seq != 0 && is_forget) {
		/* A failed sync cut the entry off the log: it never
		 * applies, and nothing waits for it. */
		if (err == XSELL_OK) {
			err = forget_wait(wal, &f);
		} else {
			forget_unlist(wal, &f);
		}
		job->u.forget     = f.res;
		w->reply_withheld = f.unknown;
	}
	pthread_mutex_unlock(&wal->mtx);
	if (f.done) {
		forget_segs_drop(wal, seq);
	}
	/* Acknowledged once logged: duplicates are found when the entry is
	 * applied, later, so the reply counts every event applied and none
	 * a duplicate (PROTOCOL.md, "With a write-ahead log"). */
	if (err == XSELL_OK && req->op == XS_OP_event) {
		job->u.event.applied    = req->u.event.n;
		job->u.event.duplicates = 0;
	}
	return err;
}

/* ==== Applying ==== */

/* Move the reader to the segment that starts at 'seq'. XSELL_ECORRUPT
 * if there is none (its entries are durable: it must be there);
 * XSELL_EIO, logged with the reason, if it does not open (no descriptor
 * left, no permission, an I/O error): that is the machine's, and the
 * applier tries again. */
static xsell_err
reader_open(xs_wal *wal, uint64_t seq)
{
	char path[PATH_MAX + 32];
	int  fd;

	seg_path(wal, seq, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		return XSELL_ECORRUPT;
	}
	if (fd < 0) {
		xs_log(XS_LOG_ERROR, "wal: cannot open %s: %s", path,
		    strerror(errno));
		return XSELL_EIO;
	}
	if (wal->rd_fd >= 0) {
		close(wal->rd_fd);
	}
	wal->rd_fd  = fd;
	wal->rd_seg = seq;
	wal->rd_off = 0;
	return XSELL_OK;
}

/* A read of the reader's segment failed where entry 'seq' is (at
 * wal->rd_off; errno says why): log it, naming the file, and return
 * XSELL_EIO. A disk error is the machine's, not damage, and the entry
 * may well be whole: the applier tries again (writes are refused
 * meanwhile, as for any error of the machine); a start stops there,
 * keeping the file, rather than drop the entry and those after it, which
 * are durable, or take it for damage. */
static xsell_err
reader_read_failed(const xs_wal *wal, uint64_t seq)
{
	int e = errno;

	xs_log(XS_LOG_ERROR,
	    "wal: cannot read entry %" PRIu64 " of %s/wal-%016" PRIx64
	    ".log (offset %lld): %s; %s",
	    seq, wal->dir, wal->rd_seg, (long long) wal->rd_off, strerror(e),
	    wal->replaying ? "the start does not go on without it, and "
	                     "the file is kept"
	                   : "it is read again in a second");
	return XSELL_EIO;
}

/* Read entry 'seq' (known durable) at the reader, into wal->buf at
 * 'at'; on to the next segment where this one ends. XSELL_ECORRUPT if
 * it is missing or damaged; XSELL_EIO if a segment it may be in does
 * not open (reader_open) or a read fails (reader_read_failed), which is
 * not damage. */
static xsell_err
reader_next(xs_wal *wal, uint64_t seq, size_t at, struct wal_hdr *h)
{
	xsell_err io_err = XSELL_OK; /* a segment that did not open */

	for (int tries = 0; tries < 2; tries++) {
		off_t     off = wal->rd_off;
		xsell_err err;

		/* A seek kept its place without a descriptor. */
		if (wal->rd_fd < 0 && wal->rd_seg != 0) {
			err = reader_open(wal, wal->rd_seg);
			if (err == XSELL_OK) {
				wal->rd_off = off;
			} else if (err != XSELL_ECORRUPT) {
				io_err = err;
			}
		}
		err = wal->rd_fd >= 0 ? entry_read(wal->rd_fd, wal->rd_off,
		                            seq, h, wal->buf + at)
		                      : XSELL_ENOENT;
		if (err == XSELL_OK) {
			wal->rd_off += (off_t) (sizeof(*h) + h->len);
			return XSELL_OK;
		}
		if (err == XSELL_EIO) {
			return reader_read_failed(wal, seq);
		}
		/* At open the log ends where its last segment has no more
		 * whole entries and a torn tail at most: never acknowledged
		 * (every sync covers all appended before). Also when that
		 * segment was just opened: a crash after a rotation leaves
		 * it empty or torn. Not when it did not open: its entries
		 * were not read. A damaged entry with more after it does
		 * not end the log: they may have been acknowledged, and
		 * the start fails with the file kept. */
		if (wal->replaying && wal->rd_fd >= 0 && wal->n_segs > 0 &&
		    wal->rd_seg == wal->segs[wal->n_segs - 1]) {
			err = tail_torn_check(
			    wal->rd_fd, wal->rd_off, seq, wal->buf + at);
			if (err == XSELL_EIO) {
				return reader_read_failed(wal, seq);
			}
			if (err != XSELL_OK) {
				xs_log(XS_LOG_ERROR,
				    "wal: entry %" PRIu64
				    " is damaged and the log goes on after "
				    "it (%s/wal-%016" PRIx64
				    ".log, offset %lld): the entries after "
				    "it may have been acknowledged, so the "
				    "start does not go on without them; the "
				    "file is kept",
				    seq, wal->dir, wal->rd_seg,
				    (long long) wal->rd_off);
				return XSELL_ECORRUPT;
			}
			wal->log_end = true;
			return XSELL_ENOENT;
		}
		if (tries == 1 || wal->rd_seg == seq) {
			break;
		}
		err = reader_open(wal, seq);
		if (err != XSELL_OK) {
			io_err = err != XSELL_ECORRUPT ? err : io_err;
			break;
		}
	}
	/* Not read because a segment did not open: the machine's error,
	 * logged by reader_open (the applier retries), not damage. */
	if (io_err != XSELL_OK) {
		return io_err;
	}
	xs_log(XS_LOG_ERROR,
	    "wal: entry %" PRIu64 " is missing or damaged (file %" PRIu64
	    ", offset %lld)",
	    seq, wal->rd_seg, (long long) wal->rd_off);
	return XSELL_ECORRUPT;
}

/* Set the reader at 'off' of segment 'seg'. If the segment does not
 * open (no descriptor left, an I/O error), the position is kept without
 * a descriptor and the next read opens it again: left on the segment it
 * was on, the reader would fail every later try at 'off' there, and the
 * applier would stall until a restart. */
static void
reader_seek(xs_wal *wal, uint64_t seg, off_t off)
{
	if (wal->rd_seg != seg && reader_open(wal, seg) != XSELL_OK) {
		if (wal->rd_fd >= 0) {
			close(wal->rd_fd);
		}
		wal->rd_fd  = -1;
		wal->rd_seg = seg;
	}
	wal->rd_off = off;
}

/* Decode entry 'h' (its body at wal->buf + at) into *req, in the
 * applier's arena, as of its own time; why not in *ei. XSELL_ENOMEM:
 * the arena is full. Any other error is the entry's for good: its
 * bytes are those logged (the CRC says so) and a logged request was
 * decoded before it was logged, so it is a newer binary's request, a
 * limit lowered since, or damage that kept a good CRC; it never
 * applies. */
static xsell_err
entry_decode(xs_wal *wal, const struct wal_hdr *h, size_t at,
    struct xs_request *req, struct xs_errinfo *ei)
{
	xsell_err err = xs_wire_decode(
	    wal->buf + at, h->len, &wal->w.arena, h->now, req, ei);

	if (err == XSELL_OK && !xs_op_is_write(req->op)) {
		err = XSELL_EINVAL;
		snprintf(ei->msg, sizeof(ei->msg), "not a write");
	}
	return err;
}

/* Read and decode the group after wal->applied, up to 'upto', into
 * wal->ents, reqs[] and jobs[] (*np entries). A group is either entries
 * that all decode, or one entry that does not, alone (its error kept in
 * its wal_entry, to be skipped: group_apply): so one bad entry costs
 * the entries around it nothing. Its request bytes stay within
 * wal->group_bytes (an entry larger than that is a group alone). An
 * entry that would take the group past that bound, does not fit the
 * arena, or does not decode after others, starts the next group: the
 * reader is put back to it. A read error ends the group (*np entries
 * read before it) and is returned, but for the replay's end of the
 * log. */
static xsell_err
group_read(xs_wal *wal, uint64_t upto, struct xs_request *reqs,
    struct xs_write_job *job_mem, struct xs_write_job **jobs, size_t *np)
{
	size_t    n = 0, at = 0;
	uint64_t  seq = wal->applied;
	xsell_err err = XSELL_OK;

	while (seq < upto && n < WAL_GROUP_ENTRIES &&
	    (n == 0 || at < wal->group_bytes)) {
		struct wal_entry *e  = &wal->ents[n];
		struct xs_errinfo ei = { { 0 }, { 0 } };
		struct wal_hdr    h;

		assert(at + XSELL_ADMIN_MSG_MAX <= wal->buf_cap);
		e->rd_seg = wal->rd_seg;
		e->rd_off = wal->rd_off;
		err       = reader_next(wal, seq + 1, at, &h);
		if (err != XSELL_OK) {
			err = wal->log_end ? XSELL_OK : err;
			break;
		}
		/* Its size is known only once it is read: past the bound,
		 * it is put back for the next group. */
		if (n > 0 && at + h.len > wal->group_bytes) {
			reader_seek(wal, e->rd_seg, e->rd_off);
			break;
		}
		err = entry_decode(wal, &h, at, &reqs[n], &ei);
		if (err == XSELL_ENOMEM || (err != XSELL_OK && n > 0)) {
			/* Alone, it fits (as in a worker's arena); a full
			 * arena with nothing in it is the machine's. */
			reader_seek(wal, e->rd_seg, e->rd_off);
			err = n > 0 ? XSELL_OK : err;
			break;
		}
		memset(&job_mem[n], 0, sizeof(job_mem[n]));
		job_mem[n].req = &reqs[n];
		job_mem[n].now = h.now;
		jobs[n]        = &job_mem[n];
		e->seq         = h.seq;
		e->at          = at;
		e->len         = h.len;
		e->now         = h.now;
		e->err         = err;
		at += h.len;
		seq = h.seq;
		n++;
		if (err != XSELL_OK) {
			xs_log(XS_LOG_ERROR,
			    "wal: entry %" PRIu64 " does not decode: %s",
			    h.seq, ei.msg);
			err = XSELL_OK;
			break;
		}
	}
	*np = n;
	return err;
}

/* The group's first n entries are in the store (applied, or skipped
 * with their error in ents[i].err): record them as applied (stats,
 * writers waiting for room), then end the wait of each forget_user
 * among them whose writer waits (none at replay), in the same hold of
 * mtx: a forget's reply, sent once its wait ends, must not come before
 * stats.wal.applied counts its entry (a client reading stats after the
 * reply would see it unapplied). Only a forget_user has a waiter, so
 * the waiters are walked, not the entries; a group's seqs follow each
 * other, so f's entry is ents[f->seq - first]. */
static void
group_record(xs_wal *wal, struct xs_write_job *const *jobs, size_t n)
{
	uint64_t           first = wal->ents[0].seq;
	uint64_t           bytes = 0;
	struct wal_forget *f, *next;

	assert(n > 0 && wal->ents[n - 1].seq == first + (n - 1));
	for (size_t i = 0; i < n; i++) {
		bytes += sizeof(struct wal_hdr) + wal->ents[i].len;
	}
	pthread_mutex_lock(&wal->mtx);
	wal->applied = wal->ents[n - 1].seq;
	/* A replay has no backlog: its end is not known yet. */
	wal->backlog -= wal->replaying ? 0 : bytes;
	for (f = wal->forgets; f != NULL; f = next) {
		next = f->next;
		if (f->seq >= first && f->seq - first < n) {
			size_t i = (size_t) (f->seq - first);

			forget_deliver(
			    wal, f, &jobs[i]->u.forget, wal->ents[i].err);
		}
	}
	pthread_mutex_unlock(&wal->mtx);
}

/* Whether an entry that failed alone, in its own transaction, with
 * 'err' fails because of what it asks, so that it would fail the same
 * way on every retry (a request no longer valid, a record it needs is
 * damaged), rather than because of the machine (a full map or disk, an
 * I/O error, no memory, an LMDB panic: EMAPFULL, EIO, ENOMEM, EUNAVAIL,
 * EINTERNAL), after which the next try may work and skipping would
 * lose a good write. ECORRUPT is also what LMDB's own damage reports
 * (MDB_CORRUPTED, a lost page): that is the store's, not the entry's,
 * and would fail every entry after it, so an entry is not skipped when
 * LMDB reported such damage while it was applied (damage_before: the
 * count before). The quarantine's bound is the last guard. */
static bool
err_is_entry_own(xsell_err err, uint64_t damage_before)
{
	switch (err) {
	case XSELL_ECORRUPT:
		return xs_store_btree_damage_seen() == damage_before;
	case XSELL_EINVAL:
	case XSELL_ETOOBIG:
	case XSELL_EFORBIDDEN:
	case XSELL_ENOENT:
		return true;
	default:
		return false;
	}
}

/* Open <db>/wal-skipped for appending, once; a new file's name is made
 * durable (its entries are synced, then the store is told they are
 * applied: the file must outlive a crash). */
static xsell_err
skipped_open(xs_wal *wal)
{
	char        path[PATH_MAX + 32];
	struct stat sb;
	int         fd;

	if (wal->skip_fd >= 0) {
		return XSELL_OK;
	}
	snprintf(path, sizeof(path), "%s/" WAL_SKIPPED_NAME, wal->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &sb) != 0 || dir_sync(wal) != XSELL_OK) {
		xs_log(XS_LOG_ERROR, "wal: %s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return XSELL_EIO;
	}
	wal->skip_fd  = fd;
	wal->skip_len = sb.st_size;
	return XSELL_OK;
}

/* Copy entry 'e' (header and body, as in the log) to the end of
 * <db>/wal-skipped and sync it. On an error nothing of it stays. */
static xsell_err
skipped_append(xs_wal *wal, const struct wal_entry *e)
{
	struct wal_hdr h;
	struct iovec   iov[2];
	off_t          total = (off_t) (sizeof(h) + e->len);
	xsell_err      err   = skipped_open(wal);
	int            rc;

	if (err != XSELL_OK) {
		return err;
	}
	if (wal->skip_len + total > WAL_SKIPPED_MAX) {
		xs_log(XS_LOG_ERROR,
		    "wal: %s/" WAL_SKIPPED_NAME
		    " is full (%lld bytes): entries that cannot be applied "
		    "are no longer skipped",
		    wal->dir, (long long) WAL_SKIPPED_MAX);
		return XSELL_EUNAVAIL;
	}
	entry_frame(&h, iov, e->seq, e->now, wal->buf + e->at, e->len);
	rc = entry_write(wal->skip_fd, wal->skip_len, iov);
	if (rc == 0 && fdatasync(wal->skip_fd) != 0) {
		rc = errno;
	}
	if (rc != 0) {
		xs_log(XS_LOG_ERROR,
		    "wal: writing %s/" WAL_SKIPPED_NAME ": %s", wal->dir,
		    strerror(rc));
		(void) ftruncate(wal->skip_fd, wal->skip_len);
		return XSELL_EIO;
	}
	wal->skip_len += total;
	return XSELL_OK;
}

/* Skip entry 'e', which failed alone with its own error 'why': copy it
 * to the quarantine file (synced), then mark it applied in the store
 * (an empty group, which commits its seq alone). A crash between the
 * two copies it again at the next start. */
static xsell_err
entry_skip(xs_wal *wal, const struct wal_entry *e, xsell_err why)
{
	xsell_err err = skipped_append(wal, e);

	if (err == XSELL_OK) {
		err = xs_write_group_apply_logged(&wal->w, NULL, 0, e->seq);
	}
	if (err != XSELL_OK) {
		return err;
	}
	xs_log(XS_LOG_ERROR,
	    "wal: entry %" PRIu64 " cannot be applied (%s): skipped; its "
	    "request is kept in %s/" WAL_SKIPPED_NAME,
	    e->seq, xsell_strerror(why), wal->dir);
	pthread_mutex_lock(&wal->mtx);
	wal->skipped++;
	pthread_mutex_unlock(&wal->mtx);
	return XSELL_OK;
}

/* Apply jobs[0..n), entries that decode, one by one, each in its own
 * transaction with its own seq (as group.c does for a failed group), so
 * that an entry that fails alone with its own error is skipped (its
 * error kept in its wal_entry) and the others apply. *donep is how many
 * are now in the store (applied or skipped), in order; an error of the
 * machine stops there. */
static xsell_err
group_apply_each(
    xs_wal *wal, struct xs_write_job **jobs, size_t n, size_t *donep)
{
	for (size_t i = 0; i < n; i++) {
		struct wal_entry *e      = &wal->ents[i];
		uint64_t          damage = xs_store_btree_damage_seen();
		xsell_err         why =
		    xs_write_group_apply_logged(&wal->w, &jobs[i], 1, e->seq);

		if (why != XSELL_OK) {
			xsell_err err;

			if (!err_is_entry_own(why, damage)) {
				return why;
			}
			err = entry_skip(wal, e, why);
			if (err != XSELL_OK) {
				return err;
			}
			e->err = why;
		}
		*donep = i + 1;
	}
	return XSELL_OK;
}

/* Apply the group group_read made of jobs[0..n): one entry that does
 * not decode is skipped (it never applies: no try, and no test of whose
 * error it is); entries that decode are committed in one transaction
 * with the last seq, or, if that fails (one entry's own error, or the
 * machine's), one by one. *donep: its entries now in the store. */
static xsell_err
group_apply(xs_wal *wal, struct xs_write_job **jobs, size_t n, size_t *donep)
{
	struct wal_entry *first = &wal->ents[0];
	xsell_err         err;

	if (first->err != XSELL_OK) {
		assert(n == 1);
		err    = entry_skip(wal, first, first->err);
		*donep = err == XSELL_OK ? 1 : 0;
		return err;
	}
	err = xs_write_group_apply_logged(
	    &wal->w, jobs, n, wal->ents[n - 1].seq);
	if (err == XSELL_OK) {
		*donep = n;
		return XSELL_OK;
	}
	return group_apply_each(wal, jobs, n, donep);
}

/* The group after 'applied', up to 'upto': read, decode, apply, commit
 * with its last seq; deliver forget results. *donep: its entries now
 * in the store (all of them on XSELL_OK); on an error the reader is at
 * the next. */
static xsell_err
group_next(xs_wal *wal, uint64_t upto, size_t *donep)
{
	struct xs_write_job *jobs[WAL_GROUP_ENTRIES];
	struct xs_write_job  job_mem[WAL_GROUP_ENTRIES];
	size_t               n = 0;
	xsell_err            err, read_err;
	struct xs_request   *reqs;

	*donep = 0;
	xs_arena_reset(&wal->w.arena);
	reqs =
	    xs_arena_calloc(&wal->w.arena, WAL_GROUP_ENTRIES, sizeof(*reqs));
	if (reqs == NULL) {
		return XSELL_ENOMEM;
	}
	read_err = group_read(wal, upto, reqs, job_mem, jobs, &n);
	if (n == 0) {
		return read_err; /* an error, or the replay's end of the log */
	}
	/* What was read before a read error is applied too. */
	err = group_apply(wal, jobs, n, donep);
	if (err == XSELL_OK) {
		err = read_err;
	}
	/* ents[*donep] is where the entry after the last done starts (the
	 * entry that failed to read, too); with none done, applier_step
	 * puts the reader back. */
	if (err != XSELL_OK && *donep > 0) {
		reader_seek(
		    wal, wal->ents[*donep].rd_seg, wal->ents[*donep].rd_off);
	}
	if (*donep > 0) {
		group_record(wal, jobs, *donep);
		wal->n_groups++;
		wal->n_entries += *donep;
	}
	return err;
}

/* Keep the applier's error after a step in wal->stall (mtx held):
 * writers are refused while it is set, so that a write is never
 * acknowledged into a log that does not reach the store. Its start and
 * its end (with the tries it took) are logged, not every retry; the
 * lines a try logs on the way (why it failed) are held back meanwhile
 * (WAL_LOG_REPEAT_S), and forgotten at the end, so that the next stall
 * says why at once. */
static void
stall_set(xs_wal *wal, xsell_err err)
{
	if (err != XSELL_OK && wal->stall == XSELL_OK) {
		xs_log(XS_LOG_ERROR,
		    "wal: cannot apply entries after %" PRIu64
		    ": %s; writes are refused until it can",
		    wal->applied, xsell_strerror(err));
	}
	if (err == XSELL_OK && wal->stall != XSELL_OK) {
		xs_log(XS_LOG_INFO,
		    "wal: applying again, after %" PRIu64 " retries",
		    wal->retries);
		wal->retries = 0;
		xs_log_repeats_reset();
	}
	wal->stall = err;
}

/* Apply one group of what is durable; true if it went without error.
 * What of it is in the store counts even on an error (group_next
 * records it); then the applier
 * keeps its place (the first entry not applied) and the error in
 * wal->stall. */
static bool
applier_step(xs_wal *wal)
{
	uint64_t  upto;
	uint64_t  rd_seg = wal->rd_seg;
	off_t     rd_off = wal->rd_off;
	size_t    done   = 0;
	xsell_err err;

	pthread_mutex_lock(&wal->mtx);
	upto = wal->synced;
	pthread_mutex_unlock(&wal->mtx);
	if (upto <= wal->applied) {
		return false;
	}
	err = group_next(wal, upto, &done);
	if (err != XSELL_OK && done == 0) {
		/* Read the group again next time. The reader is the
		 * applier's own: its open runs without mtx. */
		reader_seek(wal, rd_seg, rd_off);
	}
	pthread_mutex_lock(&wal->mtx);
	stall_set(wal, err);
	pthread_cond_broadcast(&wal->applied_cv);
	pthread_mutex_unlock(&wal->mtx);
	if (done > 0) {
		(void) segs_drop_applied(wal, wal->ents[done - 1].seq, false);
	}
	return err == XSELL_OK;
}

/* After a failed sync whose cut could not be made durable (mtx not
 * held; every entry before the refused ones is applied, and no entry
 * comes after them): record the refused entries as applied in the
 * store, as a skipped entry is (an empty group committing the last
 * one's seq), so that no start applies a write answered with an error.
 * The store's commits are synced apart from the log. wal->applied stays
 * the last entry applied (stats). True if it went without error; else
 * the applier tries again, as after a failed group. */
static bool
refused_mark(xs_wal *wal)
{
	uint64_t  upto;
	xsell_err err;

	pthread_mutex_lock(&wal->mtx);
	upto = wal->refused;
	pthread_mutex_unlock(&wal->mtx);
	err = xs_write_group_apply_logged(&wal->w, NULL, 0, upto);
	pthread_mutex_lock(&wal->mtx);
	if (err == XSELL_OK) {
		wal->refused = 0;
		xs_log(XS_LOG_INFO,
		    "wal: entries %" PRIu64 "..%" PRIu64
		    ", refused when the log's sync failed, are recorded as "
		    "applied: no start applies them",
		    wal->applied + 1, upto);
	}
	stall_set(wal, err);
	pthread_mutex_unlock(&wal->mtx);
	return err == XSELL_OK;
}

static void *
applier_main(void *arg)
{
	xs_wal *wal = arg;

	xs_log_repeats_limit(WAL_LOG_REPEAT_S);
	pthread_mutex_lock(&wal->mtx);
	for (;;) {
		bool stop = wal->stopping;
		bool left = wal->synced > wal->applied;
		bool idle = !left && wal->refused == 0;
		bool ok;

		if (idle && stop) {
			break;
		}
		if (idle) {
			pthread_cond_wait(&wal->work_cv, &wal->mtx);
			continue;
		}
		pthread_mutex_unlock(&wal->mtx);
		ok = left ? applier_step(wal) : refused_mark(wal);
		pthread_mutex_lock(&wal->mtx);
		if (!ok && wal->stopping) {
			break; /* left in the log for the next open */
		}
		if (!ok) {
			struct timespec ts;

			wal->retries++;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += WAL_RETRY_MS / 1000;
			pthread_cond_timedwait(&wal->work_cv, &wal->mtx, &ts);
		}
	}
	wal->exited = true;
	pthread_cond_broadcast(&wal->applied_cv);
	pthread_mutex_unlock(&wal->mtx);
	return NULL;
}

/* ==== Refused entries left in the log at a stop ==== */

/* At a stop whose applier left refused entries in the log (wal->refused:
 * their cut did not reach the disk, and refused_mark did not run, since
 * the applier stopped stalled before the entries logged before them,
 * say on a full map): record them in the store (meta "wal_refused"),
 * so that the next start applies the log up to them and leaves them
 * out; their writers were answered with an error, which says nothing
 * changed. They are the log's last entries (every write after the
 * failure was refused), from wal->synced_off of the last segment. If
 * the store cannot take even that, the log says where they start, for
 * the operator to cut the file there before the next start. */
static void
refused_record_at_stop(xs_wal *wal)
{
	uint64_t  first = wal->synced + 1, last = wal->refused;
	char      path[PATH_MAX + 32];
	MDB_txn  *txn;
	xsell_err err = xs_txn_write(wal->srv->store, &txn);

	assert(
	    wal->written == wal->synced && first <= last && wal->n_segs > 0);
	if (err == XSELL_OK) {
		err = xs_store_wal_refused_put(
		    wal->srv->store, txn, first, last);
		if (err == XSELL_OK) {
			err = xs_txn_commit(txn);
		} else {
			xs_txn_abort(txn);
		}
	}
	if (err == XSELL_OK) {
		xs_log(XS_LOG_INFO,
		    "wal: entries %" PRIu64 "..%" PRIu64
		    ", refused when the log's sync failed and not yet "
		    "recorded as applied, are recorded in the store as "
		    "refused: the next start leaves them out",
		    first, last);
		return;
	}
	seg_path(wal, wal->segs[wal->n_segs - 1], path, sizeof(path));
	xs_log(XS_LOG_ERROR,
	    "wal: entries %" PRIu64 "..%" PRIu64
	    ", refused when the log's sync failed, are still in %s from "
	    "offset %lld and cannot be recorded in the store (%s): the "
	    "next start would apply them; cut the file at that offset "
	    "before it (truncate -s %lld)",
	    first, last, path, (long long) wal->synced_off,
	    xsell_strerror(err), (long long) wal->synced_off);
}

/* At open, once the replay has applied the log up to a stop's record of
 * refused entries (wal->marked_first..marked_last): record them as
 * applied without applying them, as refused_mark does, and delete the
 * record in the same transaction; the log goes on after them. A log
 * that ends before them (a file lost) is logged: the entries it lacks
 * cannot be applied, and the log's numbers must go on after the
 * refused ones. */
static xsell_err
refused_mark_at_open(xs_wal *wal)
{
	uint64_t  first = wal->marked_first, last = wal->marked_last;
	uint64_t  upto = wal->applied > last ? wal->applied : last;
	MDB_txn  *txn;
	xsell_err err;

	if (wal->applied + 1 < first) {
		xs_log(XS_LOG_WARN,
		    "wal: the log ends at entry %" PRIu64
		    ", before entry %" PRIu64 ": entries %" PRIu64 "..%" PRIu64
		    " are not in it",
		    wal->applied, first - 1, wal->applied + 1, first - 1);
	}
	err = xs_txn_write(wal->srv->store, &txn);
	if (err != XSELL_OK) {
		return err;
	}
	err = xs_store_wal_seq_put(wal->srv->store, txn, upto);
	if (err == XSELL_OK) {
		err = xs_store_wal_refused_del(wal->srv->store, txn);
	}
	if (err != XSELL_OK) {
		xs_txn_abort(txn);
		return err;
	}
	err = xs_txn_commit(txn);
	if (err != XSELL_OK) {
		return err;
	}
	xs_log(XS_LOG_INFO,
	    "wal: entries %" PRIu64 "..%" PRIu64
	    ", refused before the last stop, are left out of the log "
	    "(recorded as applied)",
	    first, last);
	wal->applied      = upto;
	wal->marked_first = 0;
	wal->marked_last  = 0;
	return XSELL_OK;
}

/* ==== Open: find the log's end, replay ==== */

/* Set the reader at entry applied + 1: in the last segment that starts
 * at or before it, past the entries before it, whose headers are
 * walked (they are in the store: their bodies are not read). The log
 * is read once at open: the replay reads on from here to its end. */
static xsell_err
reader_seek_unapplied(xs_wal *wal)
{
	uint64_t  next  = wal->applied + 1;
	size_t    start = 0;
	off_t     off   = 0;
	xsell_err err;

	if (wal->n_segs == 0) {
		return XSELL_OK;
	}
	while (start + 1 < wal->n_segs && wal->segs[start + 1] <= next) {
		start++;
	}
	if (wal->segs[start] > next) {
		xs_log(XS_LOG_ERROR,
		    "wal: the store has entries up to %" PRIu64
		    ", the log starts at %" PRIu64,
		    wal->applied, wal->segs[start]);
		return XSELL_ECORRUPT;
	}
	err = reader_open(wal, wal->segs[start]);
	if (err != XSELL_OK) {
		return err;
	}
	for (uint64_t s = wal->segs[start]; s < next; s++) {
		struct wal_hdr h;

		err = hdr_read(wal->rd_fd, off, s, &h);
		if (err == XSELL_EIO) {
			wal->rd_off = off;
			return reader_read_failed(wal, s);
		}
		/* A break ends the log here: the replay sees it so. */
		if (err != XSELL_OK) {
			break;
		}
		off += (off_t) (sizeof(h) + h.len);
	}
	wal->rd_off = off;
	return XSELL_OK;
}

/* Apply what the store lacks, to the log's end, before any request
 * (wal->replaying is set); then everything logged is applied: 'written'
 * and 'synced' are the last entry in the store. */
static xsell_err
log_replay(xs_wal *wal)
{
	uint64_t  from = wal->applied, replayed;
	xsell_err err  = XSELL_OK;

	assert(wal->replaying);
	/* A stop's record of refused entries ends the log before them. */
	wal->synced =
	    wal->marked_first != 0 ? wal->marked_first - 1 : UINT64_MAX;
	while (err == XSELL_OK && wal->n_segs > 0 && !wal->log_end &&
	    wal->applied < wal->synced) {
		if (!applier_step(wal)) {
			err = wal->stall;
		}
	}
	replayed = wal->applied;
	if (err == XSELL_OK && wal->marked_first != 0) {
		err = refused_mark_at_open(wal);
	}
	/* The end the replay found is the log's end at open only: left
	 * set, it would turn every later read error of the applier into
	 * "nothing more to read", and the applier would spin on the
	 * damaged entry while writes are acknowledged, never applied. */
	wal->replaying = false;
	wal->log_end   = false;
	wal->written   = wal->applied;
	wal->synced    = wal->applied;
	if (err == XSELL_OK && replayed > from) {
		xs_log(XS_LOG_INFO,
		    "wal: replayed entries %" PRIu64 "..%" PRIu64
		    " in %" PRIu64 " groups",
		    from + 1, replayed, wal->n_groups);
	}
	return err;
}

static xsell_err
wal_alloc(
    xs_wal **walp, struct xs_server *srv, const char *db, uint64_t backlog_max)
{
	xs_wal   *wal = calloc(1, sizeof(*wal));
	xsell_err err;

	pthread_once(&crc_once, crc_init);
	if (wal == NULL) {
		return XSELL_ENOMEM;
	}
	if (strlen(db) >= sizeof(wal->dir)) {
		free(wal);
		return XSELL_EINVAL;
	}
	snprintf(wal->dir, sizeof(wal->dir), "%s", db);
	wal->srv         = srv;
	wal->backlog_max = backlog_max;
	wal->seg_max     = backlog_max < (uint64_t) WAL_SEGMENT_MAX
	        ? (off_t) backlog_max
	        : WAL_SEGMENT_MAX;
	wal->group_bytes = backlog_max / 2 < WAL_GROUP_BYTES
	    ? (size_t) (backlog_max / 2)
	    : WAL_GROUP_BYTES;
	wal->fd          = -1;
	wal->rd_fd       = -1;
	wal->skip_fd     = -1;
	wal->w.srv       = srv;
	wal->w.admin     = true;
	xs_arena_init(&wal->w.arena, WAL_ARENA_MAX);
	wal->buf_cap = WAL_GROUP_BYTES + XSELL_ADMIN_MSG_MAX;
	wal->buf     = malloc(wal->buf_cap);
	err = wal->buf != NULL ? xs_acc_alloc(&wal->w.acc) : XSELL_ENOMEM;
	if (err != XSELL_OK) {
		xs_arena_fini(&wal->w.arena);
		free(wal->buf);
		free(wal);
		return err;
	}
	pthread_mutex_init(&wal->mtx, NULL);
	pthread_mutex_init(&wal->drop_mtx, NULL);
	pthread_cond_init(&wal->synced_cv, NULL);
	pthread_cond_init(&wal->applied_cv, NULL);
	pthread_cond_init(&wal->work_cv, NULL);
	*walp = wal;
	return XSELL_OK;
}

static void
wal_free(xs_wal *wal)
{
	if (wal->fd >= 0) {
		close(wal->fd);
	}
	if (wal->rd_fd >= 0) {
		close(wal->rd_fd);
	}
	if (wal->skip_fd >= 0) {
		close(wal->skip_fd);
	}
	xs_acc_free(wal->w.acc);
	xs_arena_fini(&wal->w.arena);
	free(wal->buf);
	pthread_mutex_destroy(&wal->mtx);
	pthread_mutex_destroy(&wal->drop_mtx);
	pthread_cond_destroy(&wal->synced_cv);
	pthread_cond_destroy(&wal->applied_cv);
	pthread_cond_destroy(&wal->work_cv);
	free(wal);
}

/* Recovery: read the store's mark, list the segments, and apply every
 * entry the store lacks, to the log's end (log_replay), before any
 * request. Then 'written' and 'synced' are the last entry in the store,
 * and every segment holds only applied entries. It creates no segment
 * and no thread (only wal-skipped, if an entry is skipped). */
static xsell_err
log_recover(xs_wal *wal)
{
	MDB_txn  *txn;
	xsell_err err = xs_txn_read(wal->srv->store, &txn);

	if (err == XSELL_OK) {
		err =
		    xs_store_wal_seq_get(wal->srv->store, txn, &wal->applied);
		if (err == XSELL_OK) {
			err = xs_store_wal_refused_get(wal->srv->store, txn,
			    &wal->marked_first, &wal->marked_last);
		}
		xs_txn_abort(txn);
	}
	if (err == XSELL_OK) {
		err = segs_list(wal);
	}
	/* The log is read at open from here on (log_replay clears it). */
	wal->replaying = true;
	if (err == XSELL_OK) {
		err = reader_seek_unapplied(wal);
	}
	if (err == XSELL_OK) {
		err = log_replay(wal);
	}
	return err;
}

/* After recovery, with --wal: every entry is applied, so every
 * segment goes (a torn tail with its file); start a segment for the next
 * entry, set the reader there and start the applier. */
static xsell_err
log_begin(xs_wal *wal)
{
	xsell_err err;

	assert(wal->written == wal->applied);
	(void) segs_drop_applied(wal, wal->applied, true);
	err = seg_start(wal, wal->written + 1);
	if (err == XSELL_OK) {
		err = reader_open(wal, wal->written + 1);
	}
	if (err != XSELL_OK) {
		return err;
	}
	if (pthread_create(&wal->thread, NULL, applier_main, wal) != 0) {
		return XSELL_ENOMEM;
	}
	wal->started = true;
	/* For ps -L / top -H (and tests: this thread runs only with
	 * --wal). A name that does not take changes nothing else. */
	(void) pthread_setname_np(wal->thread, "xsell-wal");
	return XSELL_OK;
}

xsell_err
xs_wal_open(
    xs_wal **walp, struct xs_server *srv, const char *db, uint64_t backlog_max)
{
	xs_wal   *wal;
	xsell_err err;

	err = wal_alloc(&wal, srv, db, backlog_max);
	if (err != XSELL_OK) {
		return err;
	}
	err = log_recover(wal);
	if (err == XSELL_OK) {
		err = log_begin(wal);
	}
	if (err != XSELL_OK) {
		xs_log(XS_LOG_ERROR, "wal: cannot open the log in %s: %s", db,
		    xsell_strerror(err));
		wal_free(wal);
		return err;
	}
	*walp = wal;
	return XSELL_OK;
}

xsell_err
xs_wal_replay(struct xs_server *srv, const char *db)
{
	size_t    n_left = 0;
	xs_wal   *wal;
	xsell_err err = segs_scan(db, NULL, 0, &n_left);

	if (err != XSELL_OK || n_left == 0) {
		return err;
	}
	xs_log(XS_LOG_INFO, "wal: applying the log left in %s", db);
	err = wal_alloc(&wal, srv, db, XS_SERVER_WAL_BACKLOG_DEFAULT);
	if (err != XSELL_OK) {
		return err;
	}
	err = log_recover(wal);
	if (err == XSELL_OK) {
		/* All applied, and no log goes on: every segment goes (a
		 * torn tail with its file). A crash before an unlink
		 * leaves a segment whose entries the store has: the next
		 * start skips them and deletes it. */
		assert(wal->written == wal->applied);
		(void) segs_drop_applied(wal, wal->applied, true);
	} else {
		xs_log(XS_LOG_ERROR, "wal: cannot apply the log in %s: %s", db,
		    xsell_strerror(err));
	}
	wal_free(wal);
	return err;
}

void
xs_wal_close(xs_wal *wal)
{
	if (wal == NULL) {
		return;
	}
	pthread_mutex_lock(&wal->mtx);
	wal->stopping = true;
	pthread_cond_signal(&wal->work_cv);
	pthread_mutex_unlock(&wal->mtx);
	if (wal->started) {
		pthread_join(wal->thread, NULL);
	}
	if (wal->refused != 0) {
		refused_record_at_stop(wal);
	}
	if (wal->n_entries != 0) {
		xs_log(XS_LOG_INFO,
		    "wal: %" PRIu64 " entries applied in %" PRIu64
		    " groups (%" PRIu64 " of them skipped)",
		    wal->n_entries, wal->n_groups, wal->skipped);
	}
	/* Everything applied: the log is empty until the next write. */
	(void) segs_drop_applied(
	    wal, wal->applied, wal->applied == wal->written);
	wal_free(wal);
}

void
xs_wal_wake_waiters(xs_wal *wal)
{
	if (wal == NULL) {
		return;
	}
	/* Under mtx: a waiter checks srv->stopping under it, so it either
	 * saw the flag or is already waiting when this broadcast comes. */
	pthread_mutex_lock(&wal->mtx);
	pthread_cond_broadcast(&wal->applied_cv);
	pthread_mutex_unlock(&wal->mtx);
}

void
xs_wal_stats(xs_wal *wal, struct xs_stats *s)
{
	pthread_mutex_lock(&wal->mtx);
	s->wal.on            = true;
	s->wal.logged        = wal->synced;
	s->wal.applied       = wal->applied;
	s->wal.backlog_bytes = wal->backlog;
	s->wal.backlog_max   = wal->backlog_max;
	s->wal.segments      = wal->n_segs;
	s->wal.skipped       = wal->skipped;
	pthread_mutex_unlock(&wal->mtx);
}
