/* SPDX-License-Identifier: MIT */
/* Group commit: writes that arrive together share one durable commit.
 *
 * A write costs mostly its commit: every B-tree page it touched is
 * written and synced, and a batch of 1,000 orders touches thousands.
 * Writes waiting at the same moment touch many of the same pages (the
 * popular items' lists), so committing them together writes those pages
 * once. Each write still stands alone: it is applied in a nested
 * transaction of the group's, so one that fails (a full map, say) is
 * rolled back alone and answered with its error; the others go on. A
 * write is answered only after the group's commit returned, so an
 * acknowledged write is as durable as before; and the store is the same
 * as if the writes had been committed one by one in queue order.
 *
 * No thread waits for a group to fill: the first writer to find no
 * commit under way leads, taking every write queued by then (its own
 * first); writers that arrive meanwhile queue for the next group. One
 * writer alone is a group of one, applied without nesting, as before. */
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

/* The op of one write, in 'txn', with 'acc' flushed into it. */
static xsell_err
write_apply(struct xs_worker *w, MDB_txn *txn, struct xs_write_job *job)
{
	const struct xs_request *req = job->req;
	xs_store                *st  = w->srv->store;
	xsell_err                err;

	switch (req->op) {
	case XS_OP_event:
		err = xs_model_apply_batch(st, txn, w->acc, &w->srv->settings,
		    &req->u.event.batch, req->u.event.events, req->u.event.n,
		    &job->u.event);
		break;
	case XS_OP_items:
		err = xs_model_items_upsert(
		    st, txn, req->u.items.ups, req->u.items.n, xs_now_s());
		break;
	case XS_OP_forget_user:
		err = xs_model_forget_user(
		    st, txn, w->acc, &req->u.query.q.user, &job->u.forget);
		break;
	default:
		err = XSELL_EINTERNAL;
		break;
	}
	if (err == XSELL_OK) {
		err = xs_acc_flush(w->acc, st, txn);
	}
	if (err != XSELL_OK) {
		xs_acc_clear(w->acc);
	}
	return err;
}

/* One write of a group, in a transaction nested in the group's: kept if
 * it applied whole, rolled back alone if not. */
static xsell_err
write_apply_nested(
    struct xs_worker *w, MDB_txn *group, struct xs_write_job *job)
{
	MDB_txn  *txn;
	xsell_err err = xs_txn_nested(w->srv->store, group, &txn);

	if (err != XSELL_OK) {
		return err;
	}
	err = write_apply(w, txn, job);
	if (err != XSELL_OK) {
		xs_txn_abort(txn);
		return err;
	}
	return xs_txn_commit(txn);
}

/* Apply jobs[0..n) in one transaction and commit it; every job gets its
 * error (XSELL_OK: applied and durable). */
static void
group_commit(struct xs_worker *w, struct xs_write_job **jobs, size_t n)
{
	MDB_txn  *txn;
	xsell_err err = xs_txn_write(w->srv->store, &txn);
	bool      any = false;

	for (size_t i = 0; i < n; i++) {
		if (err != XSELL_OK) {
			jobs[i]->err = err;
		} else if (n == 1) {
			jobs[i]->err = write_apply(w, txn, jobs[i]);
		} else {
			jobs[i]->err = write_apply_nested(w, txn, jobs[i]);
		}
		any |= jobs[i]->err == XSELL_OK;
	}
	if (err != XSELL_OK) {
		return;
	}
	if (!any) {
		xs_txn_abort(txn);
		return;
	}
	err = xs_txn_commit(txn);
	for (size_t i = 0; i < n && err != XSELL_OK; i++) {
		if (jobs[i]->err == XSELL_OK) {
			jobs[i]->err = err; /* nothing of the group is there */
		}
	}
}

xsell_err
xs_write_group_run(struct xs_worker *w, struct xs_write_job *job)
{
	struct xs_write_group *g = &w->srv->writes;
	struct xs_write_job   *take[GROUP_MAX];
	size_t                 n;

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
