/* SPDX-License-Identifier: MIT */
/* Group commit: writes that arrive together share one durable commit.
 *
 * A write costs mostly its commit: every B-tree page it touched is
 * written and synced, and a batch of 1,000 orders touches thousands.
 * Writes waiting at the same moment touch many of the same pages (the
 * popular items' lists), so committing them together writes those pages
 * once, and summing their count changes before writing them updates each
 * neighbour list and top list once. Each write still stands alone: if
 * any write of a group fails (a full map, say), the group is dropped and
 * its writes are applied again one by one, so only the failing one is
 * answered with its error. A write is answered only after its commit
 * returned, so an acknowledged write is as durable as before; and the
 * store is the same as if the writes had been committed one by one in
 * queue order.
 *
 * No thread waits for a group to fill: the first writer to find no
 * commit under way leads, taking every write queued by then (its own
 * first); writers that arrive meanwhile queue for the next group. One
 * writer alone is a group of one. */
#include "server/server_impl.h"

#include <string.h>

/* Writes per group: bounds the group's transaction (each write is at
 * most XSELL_ADMIN_MSG_MAX of events) and the wait of its last member. */
#define GROUP_MAX 32

void
xs_write_group_init(struct xs_write_group *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mtx, NULL);
	pthread_cond_init(&g->done, NULL);
}

void
xs_write_group_fini(struct xs_write_group *g)
{
	if (g->writes != 0) {
		xs_log(XS_LOG_INFO, "%llu writes in %llu commits",
		    (unsigned long long) g->writes,
		    (unsigned long long) g->groups);
	}
	pthread_mutex_destroy(&g->mtx);
	pthread_cond_destroy(&g->done);
}

/* The op of one write, in 'txn'; its count changes go to w->acc, which
 * the caller flushes (or clears). */
static xsell_err
write_apply(struct xs_worker *w, MDB_txn *txn, struct xs_write_job *job)
{
	const struct xs_request *req = job->req;
	xs_store                *st  = w->srv->store;

	switch (req->op) {
	case XS_OP_event:
		return xs_model_apply_batch(st, txn, w->acc, &w->srv->settings,
		    &req->u.event.batch, req->u.event.events, req->u.event.n,
		    &job->u.event);
	case XS_OP_items:
		return xs_model_items_upsert(st, txn, req->u.items.ups,
		    req->u.items.n, job->now != 0 ? job->now : xs_now_s());
	case XS_OP_forget_user:
		return xs_model_forget_user(
		    st, txn, w->acc, &req->u.query.q.user, &job->u.forget);
	default:
		return XSELL_EINTERNAL;
	}
}

/* One write alone: its own transaction, durable when this returns
 * XSELL_OK. */
static xsell_err
write_commit_one(struct xs_worker *w, struct xs_write_job *job)
{
	MDB_txn  *txn;
	xsell_err err = xs_txn_write(w->srv->store, &txn);

	if (err != XSELL_OK) {
		return err;
	}
	err = write_apply(w, txn, job);
	if (err == XSELL_OK) {
		err = xs_acc_flush(w->acc, w->srv->store, txn);
	}
	if (err != XSELL_OK) {
		xs_acc_clear(w->acc);
		xs_txn_abort(txn);
		return err;
	}
	return xs_txn_commit(txn);
}

/* Pending pair changes past which a group writes what it has summed
 * before its next write: 16 bytes each in the accumulator, so a group
 * of huge batches (every order at max_basket_items) holds no more than
 * ~64 MiB of them or what its largest write alone needs. */
#define GROUP_PAIRS_MAX ((size_t) 4 << 20)

/* At most how many pair changes 'req' adds to the accumulator: an
 * order pairs its kept items and its items with recent views; a view or
 * cart addition pairs with its partners; forgetting a user takes back
 * what their ledger holds, which no request field bounds (counted as the
 * cap, so it is written on its own). */
static size_t
write_pair_bound(const struct xs_request *req, const struct xs_settings *set)
{
	size_t n = 0;

	if (req->op == XS_OP_forget_user) {
		return GROUP_PAIRS_MAX;
	}
	if (req->op != XS_OP_event) {
		return 0;
	}
	for (size_t i = 0; i < req->u.event.n; i++) {
		const struct xs_event *ev = &req->u.event.events[i];
		size_t                 k  = ev->n_lines < set->max_basket_items
		                     ? ev->n_lines
		                     : set->max_basket_items;

		if (ev->type == XS_EV_ORDER) {
			n += k * k + k +
			    (size_t) set->view_buy_views_max *
			        (set->view_buy_items_max + 1);
		} else {
			n += 2 *
			        ((size_t) set->view_pairs_max +
			            set->cart_pairs_max) +
			    1;
		}
	}
	return n;
}

/* Apply jobs[0..n) one after the other in one transaction, their count
 * changes summed in one accumulator and written once (in parts only
 * for huge groups: GROUP_PAIRS_MAX), then commit.
 * Summing is exact: counts only add up, and a top list is a function of
 * its pair list whatever the order its pairs changed in; and no write
 * reads what the accumulator holds (counts, pairs, top lists), so each
 * sees the store as it would after the writes before it. One flush per
 * group instead of per write touches each neighbour list and top list
 * once. Returns XSELL_OK if all applied and the commit is durable;
 * otherwise nothing of the group is in the store. */
static xsell_err
group_commit_all(struct xs_worker *w, struct xs_write_job **jobs, size_t n,
    uint64_t wal_seq)
{
	MDB_txn  *txn     = NULL;
	size_t    pending = 0; /* bound of the pair changes not written */
	xsell_err err     = xs_txn_write(w->srv->store, &txn);

	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		size_t bound =
		    write_pair_bound(jobs[i]->req, &w->srv->settings);

		if (pending != 0 && pending + bound > GROUP_PAIRS_MAX) {
			err     = xs_acc_flush(w->acc, w->srv->store, txn);
			pending = 0;
		}
		if (err == XSELL_OK) {
			err = write_apply(w, txn, jobs[i]);
			pending += bound;
		}
	}
	if (err == XSELL_OK) {
		err = xs_acc_flush(w->acc, w->srv->store, txn);
	}
	if (err == XSELL_OK && wal_seq != 0) {
		err = xs_store_wal_seq_put(w->srv->store, txn, wal_seq);
	}
	if (err != XSELL_OK) {
		xs_acc_clear(w->acc);
		if (txn != NULL) {
			xs_txn_abort(txn);
		}
		return err;
	}
	return xs_txn_commit(txn);
}

/* Apply jobs[0..n) and commit; every job gets its error (XSELL_OK:
 * applied and durable). The group is tried whole first; if anything of
 * it fails (one write's own error, a full map, a failed commit), none of
 * it is kept and each write is applied again alone, in queue order, so
 * that one failing write fails alone and the store is as if the writes
 * had been committed one by one. */
static void
group_commit(struct xs_worker *w, struct xs_write_job **jobs, size_t n)
{
	if (n > 1 && group_commit_all(w, jobs, n, 0) == XSELL_OK) {
		for (size_t i = 0; i < n; i++) {
			jobs[i]->err = XSELL_OK;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i]->err = write_commit_one(w, jobs[i]);
	}
}

xsell_err
xs_write_group_apply_logged(struct xs_worker *w, struct xs_write_job **jobs,
    size_t n, uint64_t wal_seq)
{
	assert(wal_seq != 0);
	return group_commit_all(w, jobs, n, wal_seq);
}

xsell_err
xs_write_group_run(struct xs_worker *w, struct xs_write_job *job)
{
	struct xs_write_group *g = &w->srv->writes;
	struct xs_write_job   *take[GROUP_MAX];
	size_t                 n;

	/* With a write-ahead log, the log's applier commits (wal.c). */
	if (w->srv->wal != NULL) {
		return xs_wal_write(w->srv->wal, w, job);
	}
	job->next = NULL;
	job->done = false;
	pthread_mutex_lock(&g->mtx);
	if (g->tail != NULL) {
		g->tail->next = job;
	} else {
		g->head = job;
	}
	g->tail = job;
	while (!job->done) {
		if (g->leading) {
			pthread_cond_wait(&g->done, &g->mtx);
			continue;
		}
		/* Lead: take what is queued (ours is among it). */
		g->leading = true;
		for (n = 0; n < GROUP_MAX && g->head != NULL; n++) {
			take[n] = g->head;
			g->head = g->head->next;
		}
		if (g->head == NULL) {
			g->tail = NULL;
		}
		pthread_mutex_unlock(&g->mtx);
		group_commit(w, take, n);
		pthread_mutex_lock(&g->mtx);
		for (size_t i = 0; i < n; i++) {
			take[i]->done = true;
		}
		g->groups++;
		g->writes += n;
		g->leading = false;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->mtx);
	return job->err;
}
