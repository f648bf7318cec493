/* SPDX-License-Identifier: MIT */
/* Opening the LMDB environment: named databases, the schema stamp, and
 * the transaction wrappers that translate LMDB's codes. */
#include "store/store_impl.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAX_DBS 32

static const char *const dict_id_names[XS_DICT_COUNT] = { "item_id", "user_id",
	"cat_id" };
static const char *const dict_ext_names[XS_DICT_COUNT] = { "item_ext",
	"user_ext", "cat_ext" };

static atomic_uint_fast64_t btree_damage;

uint64_t
xs_store_btree_damage_seen(void)
{
	return atomic_load_explicit(&btree_damage, memory_order_relaxed);
}

xsell_err
xs_err_from_mdb(int rc)
{
	switch (rc) {
	case 0:
		return XSELL_OK;
	case MDB_NOTFOUND:
		return XSELL_ENOENT;
	case MDB_MAP_FULL:
		return XSELL_EMAPFULL;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
		return XSELL_EUNAVAIL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		atomic_fetch_add_explicit(
		    &btree_damage, 1, memory_order_relaxed);
		return XSELL_ECORRUPT;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_VALSIZE:
		return XSELL_ECORRUPT;
	case ENOMEM:
		return XSELL_ENOMEM;
	case EIO:
	case ENOSPC:
	case EDQUOT: /* a full disk or quota, as ENOSPC */
	case EFBIG:  /* a file size limit (RLIMIT_FSIZE), as ENOSPC */
	case EACCES:
	case EROFS:
	case ENOENT:
	case ENOTDIR:
		return XSELL_EIO;
	default:
		return XSELL_EINTERNAL;
	}
}

/* ==== The pair database's order ==== */

/* LMDB's default order: memcmp over the shorter length, then the
 * shorter first. */
static int
cmp_memn(const MDB_val *a, const MDB_val *b)
{
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int    d = n != 0 ? memcmp(a->mv_data, b->mv_data, n) : 0;

	if (d != 0) {
		return d;
	}
	return (a->mv_size > b->mv_size) - (a->mv_size < b->mv_size);
}

static int
cmp_u64(uint64_t x, uint64_t y)
{
	return (x > y) - (x < y);
}

/* The pair database's keys (a relation byte, then a big-endian item:
 * XS_REL_KEY_LEN bytes) in LMDB's default order, compared as one
 * integer. The pair lookups of a cart's fbt spent a quarter of their
 * time in memcmp, called through LMDB's comparator for a few bytes. */
static int
cmp_pair_key(const MDB_val *a, const MDB_val *b)
{
	if (a->mv_size == XS_REL_KEY_LEN && b->mv_size == XS_REL_KEY_LEN) {
		const unsigned char *x = a->mv_data, *y = b->mv_data;

		return cmp_u64((uint64_t) x[0] << 32 | xs_be32_get(x + 1),
		    (uint64_t) y[0] << 32 | xs_be32_get(y + 1));
	}
	return cmp_memn(a, b);
}

/* Its values (a big-endian item, then a big-endian count: 8 bytes), the
 * same way. */
static int
cmp_pair_val(const MDB_val *a, const MDB_val *b)
{
	if (a->mv_size == 8 && b->mv_size == 8) {
		return cmp_u64(
		    xs_be64_get(a->mv_data), xs_be64_get(b->mv_data));
	}
	return cmp_memn(a, b);
}

/* Both orders are LMDB's own (memcmp), so a store is read the same by
 * any program, mdb_dump and older xsell included; only faster here. */
static int
set_pair_order(MDB_txn *txn, MDB_dbi dbi)
{
	int rc = mdb_set_compare(txn, dbi, cmp_pair_key);

	return rc != 0 ? rc : mdb_set_dupsort(txn, dbi, cmp_pair_val);
}

/* Open (and with MDB_CREATE, create) every named database. */
static int
open_dbis(xs_store *st, MDB_txn *txn, unsigned create)
{
	struct {
		const char *name;
		unsigned    flags;
		MDB_dbi    *dbi;
	} dbs[] = {
		{ "order", 0, &st->order },
		{ "batch", 0, &st->batch },
		{ "item", 0, &st->item },
		{ "counts", 0, &st->counts },
		{ "pair", MDB_DUPSORT | MDB_DUPFIXED, &st->pair },
		{ "top", 0, &st->top },
		{ "bought", MDB_DUPSORT | MDB_DUPFIXED, &st->bought },
		{ "history", MDB_DUPSORT | MDB_DUPFIXED, &st->history },
		{ "cart", MDB_DUPSORT | MDB_DUPFIXED, &st->cart },
		{ "ledger", 0, &st->ledger },
	};
	int rc;

	for (int d = 0; d < XS_DICT_COUNT; d++) {
		rc = mdb_dbi_open(
		    txn, dict_id_names[d], create, &st->dict_id[d]);
		if (rc != 0) {
			return rc;
		}
		rc = mdb_dbi_open(
		    txn, dict_ext_names[d], create, &st->dict_ext[d]);
		if (rc != 0) {
			return rc;
		}
	}
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		rc = mdb_dbi_open(
		    txn, dbs[i].name, dbs[i].flags | create, dbs[i].dbi);
		if (rc != 0) {
			return rc;
		}
	}
	return set_pair_order(txn, st->pair);
}

/* A store without a schema stamp is new only if nothing else is in it:
 * refuse to adopt some other program's LMDB environment. */
static bool
env_holds_foreign_data(MDB_txn *txn)
{
	MDB_dbi     main;
	MDB_cursor *cur;
	MDB_val     k, v;
	bool        foreign = false;
	int         rc;

	if (mdb_dbi_open(txn, NULL, 0, &main) != 0 ||
	    mdb_cursor_open(txn, main, &cur) != 0) {
		return true;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (!(k.mv_size == 4 && memcmp(k.mv_data, "meta", 4) == 0)) {
			foreign = true;
			break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return foreign;
}

/* The store's top_m: stamped when the store is made ('wanted', or the
 * default), read back ever after. */
static int
settle_top_m(xs_store *st, MDB_txn *txn, bool is_new, unsigned wanted)
{
	MDB_val  k = xs_key_span("top_m", 5);
	MDB_val  v;
	uint32_t m;
	int      rc;

	if (is_new) {
		m         = wanted != 0 ? wanted : XS_TOP_M_DEFAULT;
		v.mv_data = &m;
		v.mv_size = sizeof(m);
		rc        = mdb_put(txn, st->meta, &k, &v, 0);
	} else {
		rc = mdb_get(txn, st->meta, &k, &v);
		if (rc == 0 && v.mv_size != sizeof(m)) {
			rc = MDB_CORRUPTED;
		}
		if (rc == 0) {
			memcpy(&m, v.mv_data, sizeof(m));
		}
	}
	if (rc == 0 && (m == 0 || m > XS_TOP_M_MAX)) {
		rc = MDB_CORRUPTED;
	}
	if (rc == 0) {
		st->top_m = m;
	}
	return rc;
}

/* The system's reason of an LMDB failure 'rc' (LMDB's own codes are
 * negative, an errno positive), for xs_store_open's errno; 0 if none. */
static int
sys_reason(int rc)
{
	return rc > 0 ? rc : 0;
}

/* Read or stamp the schema. On failure *whyp is the system's reason (see
 * sys_reason), untouched for a refusal of xsell's own. */
static xsell_err
check_schema(xs_store *st, const char *dir, unsigned top_m, int *whyp)
{
	MDB_txn  *txn;
	MDB_val   k = xs_key_span("schema", 6);
	MDB_val   v;
	uint32_t  version;
	unsigned  create = st->read_only ? 0 : MDB_CREATE;
	bool      is_new = false;
	xsell_err err;
	int       rc;

	rc =
	    mdb_txn_begin(st->env, NULL, st->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		xs_log(XS_LOG_ERROR, "store %s: %s", dir, mdb_strerror(rc));
		*whyp = sys_reason(rc);
		return xs_err_from_mdb(rc);
	}
	rc = mdb_dbi_open(txn, "meta", create, &st->meta);
	if (rc == 0) {
		rc = mdb_get(txn, st->meta, &k, &v);
	}
	if (rc == MDB_NOTFOUND && !st->read_only) {
		if (env_holds_foreign_data(txn)) {
			xs_log(XS_LOG_ERROR,
			    "store %s: not an xsell store (no schema stamp)",
			    dir);
			err = XSELL_ECORRUPT;
			goto abort;
		}
		version   = XS_SCHEMA_VERSION;
		v.mv_data = &version;
		v.mv_size = sizeof(version);
		rc        = mdb_put(txn, st->meta, &k, &v, 0);
		is_new    = true;
	} else if (rc == 0) {
		if (v.mv_size != sizeof(version)) {
			xs_log(
			    XS_LOG_ERROR, "store %s: bad schema stamp", dir);
			err = XSELL_ECORRUPT;
			goto abort;
		}
		memcpy(&version, v.mv_data, sizeof(version));
		if (version > XS_SCHEMA_VERSION) {
			xs_log(XS_LOG_ERROR,
			    "store %s: schema %u is newer than this xsell "
			    "(%u); use a newer binary",
			    dir, version, XS_SCHEMA_VERSION);
			err = XSELL_ESCHEMA;
			goto abort;
		}
		if (version < XS_SCHEMA_VERSION) {
			xs_log(XS_LOG_ERROR,
			    "store %s: schema %u is older than this xsell "
			    "(%u); load the exports into a new directory",
			    dir, version, XS_SCHEMA_VERSION);
			err = XSELL_ESCHEMA;
			goto abort;
		}
	}
	if (rc == 0) {
		rc = open_dbis(st, txn, create);
	}
	if (rc == 0) {
		rc = settle_top_m(st, txn, is_new, top_m);
	}
	if (rc == 0) {
		rc = xs_store_comp_open(st, txn);
	}
	if (rc != 0) {
		xs_log(XS_LOG_ERROR, "store %s: %s", dir, mdb_strerror(rc));
		*whyp = sys_reason(rc);
		err   = xs_err_from_mdb(rc);
		goto abort;
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0) {
		xs_log(XS_LOG_ERROR, "store %s: %s", dir, mdb_strerror(rc));
		*whyp = sys_reason(rc);
		return xs_err_from_mdb(rc);
	}
	return XSELL_OK;

abort:
	mdb_txn_abort(txn);
	return err;
}

/* The directory must exist or be creatable (one level, like mkdir); if
 * not, XSELL_EIO with the system's reason in *whyp. */
static xsell_err
ensure_dir(const char *dir, int *whyp)
{
	struct stat sb;

	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			xs_log(XS_LOG_ERROR, "store %s: not a directory", dir);
			*whyp = ENOTDIR;
			return XSELL_EIO;
		}
		return XSELL_OK;
	}
	if (errno == ENOENT && mkdir(dir, 0755) == 0) {
		return XSELL_OK;
	}
	*whyp = errno;
	xs_log(XS_LOG_ERROR, "store %s: %s", dir, strerror(*whyp));
	return XSELL_EIO;
}

size_t
xs_store_memo_budget_for(uint64_t store_bytes)
{
	uint64_t share = store_bytes / XS_ITEM_MEMO_STORE_SHARE;

	if (share < XS_ITEM_MEMO_BYTES) {
		return XS_ITEM_MEMO_BYTES;
	}
	return share > XS_ITEM_MEMO_BYTES_MAX ? XS_ITEM_MEMO_BYTES_MAX
	                                      : (size_t) share;
}

/* The length the data file needs: its pages in use (the newest meta's). */
static int
file_len_used(MDB_env *env, off_t *lenp)
{
	MDB_envinfo info;
	MDB_stat    ms;
	int         rc = mdb_env_info(env, &info);

	if (rc == 0) {
		rc = mdb_env_stat(env, &ms);
	}
	if (rc == 0) {
		*lenp = (off_t) (info.me_last_pgno + 1) * (off_t) ms.ms_psize;
	}
	return rc;
}

/* The memos' budget: 'asked' if given, else from the store's size; the
 * item cache may hold as much again. */
static void
set_memo_budget(xs_store *st, size_t asked)
{
	off_t used = 0;

	if (asked == 0 && file_len_used(st->env, &used) != 0) {
		used = 0; /* the floor, XS_ITEM_MEMO_BYTES */
	}
	st->item_memo.budget =
	    asked != 0 ? asked : xs_store_memo_budget_for((uint64_t) used);
	st->item_cache.budget = st->item_memo.budget;
}

/* Cut a write_map store's file back from the map's length (LMDB extends
 * it, sparse, at open) to its pages in use, so that it is not as long as
 * the map when closed. Under the writer lock: no writer is between
 * allocating a page and committing it, and a write_map writer in another
 * process re-extends the file when it begins (file_extend). Best effort:
 * a longer file is a correct one. */
static void
file_trim(xs_store *st)
{
	MDB_txn         *txn;
	mdb_filehandle_t fd;
	off_t            len;

	if (mdb_txn_begin(st->env, NULL, 0, &txn) != 0) {
		return;
	}
	if (file_len_used(st->env, &len) == 0 &&
	    mdb_env_get_fd(st->env, &fd) == 0) {
		(void) ftruncate(fd, len);
	}
	mdb_txn_abort(txn);
}

xsell_err
xs_store_open(xs_store **stp, const char *dir, const struct xs_store_opts *o)
{
	struct xs_store_opts defaults = { 0 };
	xs_store            *st;
	unsigned             flags = MDB_NOTLS;
	xsell_err            err;
	int                  why = 0; /* errno at a failure: see store.h */
	int                  rc;

	if (o == NULL) {
		o = &defaults;
	}
	if (!o->read_only) {
		err = ensure_dir(dir, &why);
		if (err != XSELL_OK) {
			errno = why;
			return err;
		}
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		errno = 0;
		return XSELL_ENOMEM;
	}
	st->read_only = o->read_only;
	pthread_mutex_init(&st->memo_mtx, NULL);
	pthread_mutex_init(&st->index_pool.mtx, NULL);
	rc = mdb_env_create(&st->env);
	if (rc != 0) {
		why = sys_reason(rc);
		err = xs_err_from_mdb(rc);
		goto free_st;
	}
	mdb_env_set_userctx(st->env, st); /* for the commit stamp */
	mdb_env_set_maxdbs(st->env, STORE_MAX_DBS);
	mdb_env_set_mapsize(
	    st->env, o->map_size ? o->map_size : XS_STORE_MAP_SIZE_DEFAULT);
	/* The reader table is sized by the first process to open the
	 * env: the same default everywhere (server threads, loader, CLI). */
	mdb_env_set_maxreaders(
	    st->env, o->max_readers ? o->max_readers : XS_STORE_MAX_READERS);
	if (o->read_only) {
		flags |= MDB_RDONLY;
	}
	if (o->no_sync) {
		flags |= MDB_NOSYNC;
	}
	if (o->write_map && !o->read_only) {
		flags |= MDB_WRITEMAP;
		st->write_map = true;
	}
	rc = mdb_env_open(st->env, dir, flags, 0644);
	if (rc != 0) {
		xs_log(XS_LOG_ERROR, "store %s: %s", dir, mdb_strerror(rc));
		why = sys_reason(rc);
		err = rc == MDB_INVALID ? XSELL_ECORRUPT : xs_err_from_mdb(rc);
		goto close_env;
	}
	/* Slots of readers that died (kill -9) would pin old pages. */
	mdb_reader_check(st->env, NULL);
	err = check_schema(st, dir, o->top_m, &why);
	if (err != XSELL_OK) {
		goto refused;
	}
	set_memo_budget(st, o->memo_size);
	*stp = st;
	return XSELL_OK;

refused:
	/* LMDB made the file as long as the map at open, before the schema
	 * could be read: a store refused here (a newer or older schema,
	 * another program's environment) is cut back to its pages in use,
	 * the length it had, as a close does. */
	if (st->write_map) {
		file_trim(st);
	}
close_env:
	mdb_env_close(st->env);
free_st:
	xs_store_memo_fini(st);
	free(st);
	errno = why; /* last: the cleanup may have set it */
	return err;
}

/* A write_map writer writes pages up to the map's length in place: the
 * file must be that long (another process may have trimmed it since this
 * one opened). Called under the writer lock. */
static int
file_extend(xs_store *st)
{
	MDB_envinfo      info;
	mdb_filehandle_t fd;
	struct stat      sb;
	int              rc = mdb_env_info(st->env, &info);

	if (rc == 0) {
		rc = mdb_env_get_fd(st->env, &fd);
	}
	if (rc == 0 && fstat(fd, &sb) != 0) {
		rc = errno;
	}
	if (rc == 0 && sb.st_size < (off_t) info.me_mapsize &&
	    ftruncate(fd, (off_t) info.me_mapsize) != 0) {
		rc = errno;
	}
	return rc;
}

void
xs_store_close(xs_store *st)
{
	if (st == NULL) {
		return;
	}
	xs_store_orders_held_drop(st);
	xs_store_users_held_drop(st);
	if (st->write_map) {
		file_trim(st);
	}
	mdb_env_close(st->env);
	xs_store_memo_fini(st);
	free(st);
}

xsell_err
xs_store_sync(xs_store *st)
{
	return xs_err_from_mdb(mdb_env_sync(st->env, 1));
}

xsell_err
xs_store_close_sync(xs_store *st)
{
	mdb_filehandle_t fd;
	int              kept = -1;
	xsell_err        err  = XSELL_OK;

	/* A write_map store's pages are dirty in a shared mapping: msync
	 * write-protects each mapped page before writing it back, a TLB
	 * shootdown of the other cores each time (a twentieth of a fresh
	 * Online Retail load on a 2-core VM). Unmapped first, the same
	 * pages are written back by fdatasync on a descriptor kept open. */
	if (st->write_map && mdb_env_get_fd(st->env, &fd) == 0) {
		kept = dup(fd);
	}
	if (kept < 0) {
		err = xs_store_sync(st);
		xs_store_close(st);
		return err;
	}
	xs_store_close(st);
	if (fdatasync(kept) != 0) {
		xs_log(XS_LOG_ERROR, "store sync: %s", strerror(errno));
		err = XSELL_EIO;
	}
	close(kept);
	return err;
}

/* Another process grew the map: adopt its size and try again. A reader
 * table full of slots of dead processes (kill -9 in a read) would lock a
 * long-running server out of reading: clear them and try again. */
static int
txn_begin(xs_store *st, unsigned flags, MDB_txn **txnp)
{
	int rc = mdb_txn_begin(st->env, NULL, flags, txnp);
	int dead;

	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(st->env, 0);
		rc = mdb_txn_begin(st->env, NULL, flags, txnp);
	}
	if (rc == MDB_READERS_FULL && mdb_reader_check(st->env, &dead) == 0 &&
	    dead > 0) {
		rc = mdb_txn_begin(st->env, NULL, flags, txnp);
	}
	return rc;
}

xsell_err
xs_txn_read(xs_store *st, MDB_txn **txnp)
{
	xsell_err err = xs_err_from_mdb(txn_begin(st, MDB_RDONLY, txnp));

	if (err == XSELL_OK) {
		err = xs_store_snapshot_settle(*txnp);
		if (err != XSELL_OK) {
			mdb_txn_abort(*txnp);
			*txnp = NULL;
		}
	}
	return err;
}

xsell_err
xs_txn_write(xs_store *st, MDB_txn **txnp)
{
	int rc;

	if (st->read_only) {
		return XSELL_EFORBIDDEN;
	}
	rc = txn_begin(st, 0, txnp);
	if (rc == 0) {
		xs_store_marks_clear(st); /* an aborted writer's */
	}
	if (rc == 0 && st->write_map) {
		rc = file_extend(st);
		if (rc != 0) {
			mdb_txn_abort(*txnp);
			*txnp = NULL;
		}
	}
	return xs_err_from_mdb(rc);
}

xsell_err
xs_txn_commit(MDB_txn *txn)
{
	xs_store *st  = mdb_env_get_userctx(mdb_txn_env(txn));
	xsell_err err = xs_store_epochs_stamp(st, txn);
	int       rc;

	if (err == XSELL_OK) {
		err = xs_store_commit_stamp(txn);
	}
	if (err != XSELL_OK) {
		mdb_txn_abort(txn);
		return err;
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0) {
		xs_log(XS_LOG_ERROR, "commit: %s", mdb_strerror(rc));
	}
	return xs_err_from_mdb(rc);
}

void
xs_txn_abort(MDB_txn *txn)
{
	mdb_txn_abort(txn);
}

void
xs_txn_reset(MDB_txn *txn)
{
	mdb_txn_reset(txn);
}

xsell_err
xs_txn_renew(MDB_txn *txn)
{
	xsell_err err = xs_err_from_mdb(mdb_txn_renew(txn));

	return err == XSELL_OK ? xs_store_snapshot_settle(txn) : err;
}

/* The pages on LMDB's freelist as of txn's snapshot: each record of its
 * free database (dbi 0) lists page numbers, led by how many (an MDB_ID,
 * a size_t; lmdb.h and mdb_stat -f read it so). */
static int
freelist_pages(MDB_txn *txn, uint64_t *np)
{
	MDB_cursor *cur;
	MDB_val     k, v;
	uint64_t    n  = 0;
	int         rc = mdb_cursor_open(txn, 0, &cur);

	if (rc != 0) {
		return rc;
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		size_t len;

		if (v.mv_size < sizeof(len)) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(&len, v.mv_data, sizeof(len));
		n += len;
	}
	mdb_cursor_close(cur);
	*np = n;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Bytes of the pages on the freelist, read in a snapshot of its own. */
static int
free_bytes_get(xs_store *st, uint64_t page_size, uint64_t *bytesp)
{
	MDB_txn *txn;
	uint64_t pages = 0;
	int      rc    = txn_begin(st, MDB_RDONLY, &txn);

	if (rc != 0) {
		return rc;
	}
	rc = freelist_pages(txn, &pages);
	mdb_txn_abort(txn);
	*bytesp = pages * page_size;
	return rc;
}

xsell_err
xs_store_info_get(xs_store *st, struct xs_store_info *out)
{
	MDB_envinfo               info;
	MDB_stat                  stat;
	struct xs_item_memo_usage memo;
	int                       rc;

	rc = mdb_env_info(st->env, &info);
	if (rc == 0) {
		rc = mdb_env_stat(st->env, &stat);
	}
	if (rc == 0) {
		rc = free_bytes_get(st, stat.ms_psize, &out->free_bytes);
	}
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	out->map_size     = info.me_mapsize;
	out->used_bytes   = (uint64_t) (info.me_last_pgno + 1) * stat.ms_psize;
	out->readers_used = info.me_numreaders;
	out->readers_max  = info.me_maxreaders;
	xs_store_item_memo_usage(st, &memo);
	out->memo_items       = memo.items;
	out->memo_bytes       = memo.bytes;
	out->memo_hits        = memo.hits;
	out->memo_misses      = memo.misses;
	out->memo_budget      = st->item_memo.budget;
	out->item_cache_bytes = xs_item_cache_bytes(&st->item_cache);
	out->index_bytes      = xs_store_index_bytes(st);
	return XSELL_OK;
}

xsell_err
xs_store_copy_compact(xs_store *st, const char *dir)
{
	int rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);

	if (rc != 0) {
		xs_log(XS_LOG_ERROR, "compacted copy into %s: %s", dir,
		    mdb_strerror(rc));
		return rc == MDB_MAP_FULL ? XSELL_EMAPFULL : XSELL_EIO;
	}
	return XSELL_OK;
}
