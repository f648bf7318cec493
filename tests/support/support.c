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

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

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
