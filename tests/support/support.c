/* SPDX-License-Identifier: MIT */
/* Test fixtures: temporary directories, ipc addresses, a child xselld. */
#include "support.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <math.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "model/model.h"
#include "store/store.h"

char *
xs_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char       *path;
	size_t      len;

	if (base == NULL || base[0] == '\0') {
		base = "/tmp";
	}
	len  = strlen(base) + 32;
	path = malloc(len);
	assert_non_null(path);
	snprintf(path, len, "%s/xsell-test-XXXXXX", base);
	assert_non_null(mkdtemp(path));
	return path;
}

void
xs_test_rmdir(char *dir)
{
	char cmd[4200];

	if (dir == NULL) {
		return;
	}
	/* Only ever our own mkdtemp directories. */
	if (strstr(dir, "/xsell-test-") != NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "warning: could not remove %s\n", dir);
		}
	}
	free(dir);
}

char *
xs_test_ipc_url(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 16;
	char  *url = malloc(len);

	assert_non_null(url);
	snprintf(url, len, "ipc://%s/%s.sock", dir, name);
	return url;
}

char *
xs_test_data_path(const char *rel)
{
	const char *base = getenv("XSELL_DATA_DIR");
	struct stat sb;
	size_t      len;
	char       *path;

	if (base == NULL || base[0] == '\0') {
		base = XS_TEST_DATA_DIR;
	}
	len  = strlen(base) + strlen(rel) + 2;
	path = malloc(len);
	assert_non_null(path);
	snprintf(path, len, "%s/%s", base, rel);
	if (stat(path, &sb) != 0) {
		fprintf(stderr, "dataset %s is not on this machine: skipped\n",
		    path);
		free(path);
		return NULL;
	}
	return path;
}

/* Send {"op":"stats"} and wait up to 'timeout_ms' for any reply. */
static bool
server_answers(const char *url, int timeout_ms)
{
	nng_socket      sock;
	msgpack_sbuffer sb;
	msgpack_packer  pk;
	void           *reply = NULL;
	size_t          reply_len;
	bool            ok = false;

	if (nng_req0_open(&sock) != 0) {
		return false;
	}
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, timeout_ms);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "stats", 5);
	if (nng_dial(sock, url, NULL, 0) == 0 &&
	    nng_send(sock, sb.data, sb.size, 0) == 0 &&
	    nng_recv(sock, &reply, &reply_len, NNG_FLAG_ALLOC) == 0) {
		ok = true;
		nng_free(reply, reply_len);
	}
	msgpack_sbuffer_destroy(&sb);
	nng_close(sock);
	return ok;
}

static void
server_spawn(struct xs_test_server *s, const char *const *extra)
{
	const char *argv[64];
	int         n = 0;

	argv[n++] = XS_TEST_XSELLD;
	argv[n++] = "--db";
	argv[n++] = s->db;
	argv[n++] = "--listen";
	argv[n++] = s->read_url;
	argv[n++] = "--admin";
	argv[n++] = s->admin_url;
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 62; i++) {
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	s->pid  = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execv(argv[0], (char *const *) argv);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		int status;

		if (server_answers(s->read_url, 200)) {
			return;
		}
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = -1;
			fail_msg("xselld exited during start-up (status %d)",
			    status);
		}
		nng_msleep(50);
	}
	fail_msg("xselld did not answer within 10 s");
}

void
xs_test_server_start(struct xs_test_server *s, const char *const *extra)
{
	s->dir       = xs_test_tmpdir();
	s->read_url  = xs_test_ipc_url(s->dir, "read");
	s->admin_url = xs_test_ipc_url(s->dir, "admin");
	/* The store lives in a subdirectory so the sockets stay apart. */
	{
		size_t len = strlen(s->dir) + 8;
		char  *db  = malloc(len);

		assert_non_null(db);
		snprintf(db, len, "%s/db", s->dir);
		s->db = db;
	}
	s->extra = extra;
	server_spawn(s, extra);
}

void
xs_test_server_restart(struct xs_test_server *s)
{
	server_spawn(s, s->extra);
}

int
xs_test_server_signal(struct xs_test_server *s, int sig)
{
	int status = -1;

	if (s->pid <= 0) {
		return -1;
	}
	kill(s->pid, sig);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) { }
	s->pid = -1;
	return status;
}

void
xs_test_server_fini(struct xs_test_server *s)
{
	if (s->pid > 0) {
		xs_test_server_signal(s, SIGTERM);
	}
	free(s->read_url);
	free(s->admin_url);
	free(s->db);
	xs_test_rmdir(s->dir);
	memset(s, 0, sizeof(*s));
}

/* ==== In-process store fixtures ==== */

struct xs_store *
xs_test_store_open(char **dirp)
{
	xs_store *st;

	*dirp = xs_test_tmpdir();
	assert_xs_ok(xs_store_open(&st, *dirp, NULL));
	return st;
}

void
xs_test_store_close(struct xs_store *st, char *dir)
{
	xs_store_close(st);
	xs_test_rmdir(dir);
}

#define SPEC_MAX_ORDERS 64
#define SPEC_MAX_LINES 64

/* Split 'spec' in place into events; spans point into 'spec'. */
static size_t
spec_parse(char *spec, struct xs_event *evs,
    struct xs_order_line lines[][SPEC_MAX_LINES])
{
	size_t n   = 0;
	char  *sv1 = NULL;

	for (char *o = strtok_r(spec, ";", &sv1); o != NULL;
	     o       = strtok_r(NULL, ";", &sv1)) {
		char *user  = strchr(o, ':');
		char *items = user ? strchr(user + 1, ':') : NULL;
		char *sv2   = NULL;

		assert_non_null(items);
		assert_true(n < SPEC_MAX_ORDERS);
		*user++  = '\0';
		*items++ = '\0';
		memset(&evs[n], 0, sizeof(evs[n]));
		evs[n].type      = XS_EV_ORDER;
		evs[n].order.p   = o;
		evs[n].order.len = (uint32_t) strlen(o);
		evs[n].user.p    = user;
		evs[n].user.len  = (uint32_t) strlen(user);
		evs[n].ts        = 1000 + (int64_t) n;
		evs[n].lines     = lines[n];
		for (char *it = strtok_r(items, ",", &sv2); it != NULL;
		     it       = strtok_r(NULL, ",", &sv2)) {
			struct xs_order_line *ln = &lines[n][evs[n].n_lines++];

			assert_true(evs[n].n_lines <= SPEC_MAX_LINES);
			ln->item.p   = it;
			ln->item.len = (uint32_t) strlen(it);
			ln->qty      = 1;
			ln->price    = NAN;
		}
		n++;
	}
	return n;
}

void
xs_test_orders(struct xs_store *st, const struct xs_settings *set,
    const char *spec, struct xs_apply_result *res)
{
	static struct xs_order_line lines[SPEC_MAX_ORDERS][SPEC_MAX_LINES];
	struct xs_event             evs[SPEC_MAX_ORDERS];
	struct xs_settings          defaults;
	struct xs_apply_result      dummy;
	char                       *copy = strdup(spec);
	size_t                      n;
	MDB_txn                    *txn;
	xs_acc                     *acc;

	assert_non_null(copy);
	if (set == NULL) {
		xs_settings_default(&defaults);
		set = &defaults;
	}
	if (res == NULL) {
		res = &dummy;
	}
	n = spec_parse(copy, evs, lines);
	assert_xs_ok(xs_acc_alloc(&acc));
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_model_apply(st, txn, acc, set, evs, n, res));
	assert_xs_ok(xs_acc_flush(acc, st, txn));
	assert_xs_ok(xs_txn_commit(txn));
	xs_acc_free(acc);
	free(copy);
}
