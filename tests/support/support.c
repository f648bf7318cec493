/* SPDX-License-Identifier: MIT */
/* Test fixtures: temporary directories, ipc addresses, a child xselld. */
#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <math.h>

#include <jansson.h>
#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "model/model.h"
#include "model/model_impl.h"
#include "store/store.h"
#include "wire/wire.h"

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

int
xs_test_free_port(void)
{
	struct sockaddr_in a;
	socklen_t          len = sizeof(a);
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);
	int                port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family      = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
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

uint64_t
xs_test_rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

uint64_t
xs_test_seed(void)
{
	const char *env = getenv("XSELL_TEST_SEED");
	uint64_t    seed;

	if (env != NULL && env[0] != '\0') {
		seed = strtoull(env, NULL, 10);
	} else {
		seed =
		    (uint64_t) time(NULL) * 2654435761u ^ (uint64_t) getpid();
	}
	return seed != 0 ? seed : 1;
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

void
xs_test_execv(const char *const *argv)
{
	const char *wrap = getenv("XSELL_TEST_WRAP");
	const char *args[96];
	char        words[1024];
	char       *save = NULL;
	size_t      n    = 0;

	if (wrap == NULL || wrap[0] == '\0') {
		execv(argv[0], (char *const *) argv);
		return;
	}
	if (strlen(wrap) >= sizeof(words)) {
		fprintf(stderr, "XSELL_TEST_WRAP: longer than %zu bytes\n",
		    sizeof(words) - 1);
		return; /* the caller's _exit(127): not run unwrapped */
	}
	strcpy(words, wrap);
	for (char *w = strtok_r(words, " ", &save); w != NULL && n < 48;
	     w       = strtok_r(NULL, " ", &save)) {
		args[n++] = w;
	}
	for (size_t i = 0; argv[i] != NULL && n < 95; i++) {
		args[n++] = argv[i];
	}
	args[n] = NULL;
	execv(args[0], (char *const *) args);
}

/* In the child: 'fd' becomes the file at 'path', made anew. */
static bool
redirect(int fd, const char *path)
{
	int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	return o >= 0 && dup2(o, fd) >= 0;
}

int
xs_test_run(const char *const *argv, const char *out_path,
    const char *err_path, unsigned timeout_s)
{
	int   status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (!redirect(1, out_path) ||
		    (err_path != NULL && !redirect(2, err_path))) {
			_exit(127);
		}
		alarm(timeout_s);
		xs_test_execv(argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

int
xs_test_count(const char *text, const char *want)
{
	int n = 0;

	for (const char *at = strstr(text, want); at != NULL;
	     at             = strstr(at + 1, want)) {
		n++;
	}
	return n;
}

void
xs_test_assert_has(const char *text, const char *want)
{
	if (strstr(text, want) == NULL) {
		fail_msg("\"%s\" not in:\n%s", want, text);
	}
}

unsigned long long
xs_test_figure(const char *out, const char *name)
{
	size_t      len = strlen(name);
	const char *p   = out;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, len) == 0 && p[len] == ' ') {
			return strtoull(p + len, NULL, 10);
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	fail_msg("no \"%s\" line in:\n%s", name, out);
	return 0;
}

void
xs_test_slurp(const char *path, char *buf, size_t len)
{
	FILE  *fp = fopen(path, "r");
	size_t n  = 0;

	if (fp != NULL) {
		n = fread(buf, 1, len - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
}

void
xs_test_assert_xselld_refuses(
    const char *dir, const char *const *args, int code, const char *want)
{
	char        out[4096], err[4096];
	const char *nl;

	assert_int_equal(xs_test_run_tool(XS_TEST_XSELLD, args, dir, out,
	                     sizeof(out), err, sizeof(err)),
	    code);
	nl = strchr(err, '\n');
	if (nl == NULL || nl[1] != '\0') {
		fail_msg("not one line of stderr:\n%s", err);
	}
	if (want != NULL) {
		xs_test_assert_has(err, want);
	}
}

int
xs_test_run_tool(const char *tool, const char *const *args, const char *dir,
    char *out, size_t out_len, char *err, size_t err_len)
{
	const char *argv[64];
	char        out_path[4200], err_path[4200];
	int         n = 0, status;

	argv[n++] = tool;
	while (args[n - 1] != NULL) {
		assert_true(n < 63);
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	status = xs_test_run(argv, out_path, err_path, 60);
	xs_test_slurp(out_path, out, out_len);
	xs_test_slurp(err_path, err, err_len);
	if (!WIFEXITED(status)) {
		fail_msg(
		    "%s died (status %d); stderr: %s", argv[0], status, err);
	}
	return WEXITSTATUS(status);
}

const char *
xs_test_wrap_prefix(void)
{
	static char prefix[1024];
	const char *wrap = getenv("XSELL_TEST_WRAP");

	if (wrap == NULL || wrap[0] == '\0') {
		return "";
	}
	snprintf(prefix, sizeof(prefix), "%s ", wrap);
	return prefix;
}

/* In a forked child before exec: files may not grow past 'max' bytes,
 * and a write past it fails with EFBIG instead of killing the process
 * (an ignored signal stays ignored across exec). */
static void
child_limit_fsize(uint64_t max)
{
	struct rlimit rl;

	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_FSIZE, &rl) != 0) {
		_exit(126);
	}
	rl.rlim_cur = (rlim_t) max;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max;
	}
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0) {
		_exit(126);
	}
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
	xs_test_watchdog_start();
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		/* A failed assertion longjmps past the teardown: never
		 * leave a server behind (it would hold ctest's pipe). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (s->fsize_max != 0) {
			child_limit_fsize(s->fsize_max);
		}
		if (s->log_path != NULL && !redirect(2, s->log_path)) {
			_exit(127);
		}
		xs_test_execv(argv);
		_exit(127);
	}
	/* Up to 30 s: a start replays what a log holds before it listens,
	 * and a sanitizer (ThreadSanitizer: 5 to 15 times slower) or a
	 * busy machine stretches that. A server that answers ends the
	 * wait at once. */
	for (int i = 0; i < 300; i++) {
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
	fail_msg("xselld did not answer within 30 s");
}

void
xs_test_server_start(struct xs_test_server *s, const char *const *extra)
{
	xs_test_server_start_limited(s, extra, 0);
}

void
xs_test_server_start_limited(
    struct xs_test_server *s, const char *const *extra, uint64_t fsize_max)
{
	s->fsize_max = fsize_max;
	s->log_path  = NULL;
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

int
xs_test_server_teardown(void **state)
{
	/* A struct's first member is at its address (C11 6.7.2.1). */
	struct xs_test_server *s = *state;

	xs_test_server_fini(s);
	free(s);
	return 0;
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

int
xs_test_store_setup(void **state)
{
	struct xs_test_store *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->st  = xs_test_store_open(&f->dir);
	*state = f;
	return 0;
}

int
xs_test_dir_setup(void **state)
{
	struct xs_test_dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->dir = xs_test_tmpdir();
	*state = d;
	return 0;
}

int
xs_test_dir_teardown(void **state)
{
	struct xs_test_dir *d = *state;

	xs_test_rmdir(d->dir);
	free(d);
	return 0;
}

int
xs_test_comp_store_setup(void **state)
{
	struct xs_test_store *f;

	xs_test_store_setup(state);
	f = *state;
	xs_test_orders(
	    f->st, NULL, "o1::A,B;o2::A,B;o3::B,C;o4::B,E;o5::C,D", NULL);
	return 0;
}

int
xs_test_store_teardown(void **state)
{
	struct xs_test_store *f = *state;

	xs_test_store_close(f->st, f->dir);
	free(f);
	return 0;
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
xs_test_apply(struct xs_store *st, const struct xs_settings *set,
    const struct xs_span *batch, const struct xs_event *evs, size_t n,
    struct xs_apply_result *res)
{
	struct xs_settings     defaults;
	struct xs_apply_result dummy;
	MDB_txn               *txn;
	xs_acc                *acc;

	if (set == NULL) {
		xs_settings_default(&defaults);
		set = &defaults;
	}
	if (res == NULL) {
		res = &dummy;
	}
	assert_xs_ok(xs_acc_alloc(&acc));
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(
	    xs_model_apply_batch(st, txn, acc, set, batch, evs, n, res));
	assert_xs_ok(xs_acc_flush(acc, st, txn));
	assert_xs_ok(xs_txn_commit(txn));
	xs_acc_free(acc);
}

void
xs_test_orders(struct xs_store *st, const struct xs_settings *set,
    const char *spec, struct xs_apply_result *res)
{
	static struct xs_order_line lines[SPEC_MAX_ORDERS][SPEC_MAX_LINES];
	struct xs_event             evs[SPEC_MAX_ORDERS];
	char                       *copy = strdup(spec);

	assert_non_null(copy);
	xs_test_apply(st, set, NULL, evs, spec_parse(copy, evs, lines), res);
	free(copy);
}

void
xs_test_acc_commit(struct xs_store *st, struct xs_acc *acc)
{
	MDB_txn *txn;

	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_acc_flush(acc, st, txn));
	assert_xs_ok(xs_txn_commit(txn));
}

static enum xs_event_type
spec_event_type(const char *name)
{
	static const char *const names[XS_EV_TYPE_COUNT] = { "order", "view",
		"cart_add", "cart_remove", "rating" };

	for (int t = 0; t < XS_EV_TYPE_COUNT; t++) {
		if (strcmp(names[t], name) == 0) {
			return (enum xs_event_type) t;
		}
	}
	fail_msg("unknown event type '%s' in a test spec", name);
	return XS_EV_VIEW;
}

struct xs_span
xs_test_span(const char *s)
{
	return (struct xs_span) { s, s != NULL ? (uint32_t) strlen(s) : 0 };
}

uint32_t
xs_test_spans(struct xs_span *out, const char *const *ids, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && ids[n] != NULL) {
		out[n] = xs_test_span(ids[n]);
		n++;
	}
	return n;
}

/* One "TS TYPE USER ITEMS [X]" event, split in place. */
static void
spec_event(char *text, struct xs_event *ev, struct xs_order_line *lines)
{
	char *sv = NULL, *sv2 = NULL;
	char *ts    = strtok_r(text, " ", &sv);
	char *type  = strtok_r(NULL, " ", &sv);
	char *user  = strtok_r(NULL, " ", &sv);
	char *items = strtok_r(NULL, " ", &sv);
	char *extra = strtok_r(NULL, " ", &sv);

	assert_non_null(items);
	memset(ev, 0, sizeof(*ev));
	ev->ts   = strtoll(ts, NULL, 10);
	ev->type = spec_event_type(type);
	if (strcmp(user, "-") != 0) {
		ev->user = xs_test_span(user);
	}
	if (ev->type != XS_EV_ORDER) {
		ev->item = xs_test_span(items);
		if (ev->type == XS_EV_RATING) {
			assert_non_null(extra);
			ev->rating = (uint8_t) atoi(extra);
		}
		return;
	}
	assert_non_null(extra);
	ev->order = xs_test_span(extra);
	ev->lines = lines;
	for (char *it = strtok_r(items, ",", &sv2); it != NULL;
	     it       = strtok_r(NULL, ",", &sv2)) {
		struct xs_order_line *ln = &lines[ev->n_lines++];

		assert_true(ev->n_lines <= SPEC_MAX_LINES);
		ln->item  = xs_test_span(it);
		ln->qty   = 1;
		ln->price = NAN;
	}
}

void
xs_test_events(
    struct xs_store *st, const struct xs_settings *set, const char *spec)
{
	static struct xs_order_line lines[SPEC_MAX_ORDERS][SPEC_MAX_LINES];
	struct xs_event             evs[SPEC_MAX_ORDERS];
	char                       *copy = strdup(spec);
	char                       *sv   = NULL;
	size_t                      n    = 0;

	assert_non_null(copy);
	for (char *e = strtok_r(copy, ";", &sv); e != NULL;
	     e       = strtok_r(NULL, ";", &sv)) {
		assert_true(n < SPEC_MAX_ORDERS);
		spec_event(e, &evs[n], lines[n]);
		n++;
	}
	xs_test_apply(st, set, NULL, evs, n, NULL);
	free(copy);
}

bool
xs_test_forget(struct xs_store *st, const char *user)
{
	struct xs_span          u = xs_test_span(user);
	struct xs_forget_result res;
	MDB_txn                *txn;
	xs_acc                 *acc;

	assert_xs_ok(xs_acc_alloc(&acc));
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_model_forget_user(st, txn, acc, &u, &res));
	assert_xs_ok(xs_acc_flush(acc, st, txn));
	assert_xs_ok(xs_txn_commit(txn));
	xs_acc_free(acc);
	return res.found;
}

/* ==== Talking to a server ==== */

/* How long a request waits for its reply: 10 s (a write that syncs
 * several times, such as forget_user, waits on the disk, and the
 * sanitizer build shares it with the other tests of ctest -j), or 60 s
 * for a server under $XSELL_TEST_WRAP (valgrind runs it tens of times
 * slower). Only a hang waits this long. */
static int
call_timeout_ms(void)
{
	const char *wrap = getenv("XSELL_TEST_WRAP");

	return wrap != NULL && wrap[0] != '\0' ? 60000 : 10000;
}

void *
xs_test_call_raw(const char *url, const void *req, size_t len, size_t *lenp)
{
	nng_socket sock;
	void      *reply = NULL;
	void      *copy  = NULL;
	size_t     reply_len;

	xs_test_watchdog_start();
	assert_int_equal(nng_req0_open(&sock), 0);
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, call_timeout_ms());
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, call_timeout_ms());
	/* Never resent, as by the client library: a request the server
	 * drops unanswered comes back as NULL at once. Resent, it would be
	 * dropped again until the timeout, and libnng 1.5.2's nng_close()
	 * can then hang on the socket. */
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	assert_int_equal(nng_dial(sock, url, NULL, 0), 0);
	if (nng_send(sock, (void *) req, len, 0) == 0 &&
	    nng_recv(sock, &reply, &reply_len, NNG_FLAG_ALLOC) == 0) {
		copy = malloc(reply_len + 1);
		assert_non_null(copy);
		memcpy(copy, reply, reply_len);
		*lenp = reply_len;
		nng_free(reply, reply_len);
	}
	nng_close(sock);
	return copy;
}

static void
pack_json(msgpack_packer *pk, json_t *j)
{
	const char *key;
	json_t     *v;
	size_t      i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach(j, key, v)
		{
			msgpack_pack_str_with_body(pk, key, strlen(key));
			pack_json(pk, v);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
		{
			pack_json(pk, v);
		}
		break;
	case JSON_STRING:
		msgpack_pack_str_with_body(
		    pk, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		if (json_integer_value(j) < 0) {
			msgpack_pack_int64(pk, json_integer_value(j));
		} else {
			msgpack_pack_uint64(
			    pk, (uint64_t) json_integer_value(j));
		}
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	}
}

static json_t *
unpack_json(const msgpack_object *o)
{
	json_t *j;

	switch (o->type) {
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			char                  key[512];

			assert_int_equal(k->type, MSGPACK_OBJECT_STR);
			assert_true(k->via.str.size < sizeof(key));
			memcpy(key, k->via.str.ptr, k->via.str.size);
			key[k->via.str.size] = '\0';
			json_object_set_new(
			    j, key, unpack_json(&o->via.map.ptr[i].val));
		}
		return j;
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			json_array_append_new(
			    j, unpack_json(&o->via.array.ptr[i]));
		}
		return j;
	case MSGPACK_OBJECT_STR:
		return json_stringn(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_integer((json_int_t) o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t) o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	default:
		return json_null();
	}
}

void *
xs_test_pack(const char *json, size_t *lenp)
{
	json_error_t    jerr;
	json_t         *req = json_loads(json, 0, &jerr);
	msgpack_sbuffer sb;
	msgpack_packer  pk;

	if (req == NULL) {
		fail_msg("bad JSON in test: %s: %s", json, jerr.text);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_json(&pk, req);
	json_decref(req);
	*lenp = sb.size;
	return msgpack_sbuffer_release(&sb);
}

json_t *
xs_test_reply_json(const void *reply, size_t len)
{
	msgpack_unpacked up;
	size_t           off = 0;
	json_t          *out;

	msgpack_unpacked_init(&up);
	assert_int_equal(msgpack_unpack_next(&up, reply, len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, len);
	assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
	out = unpack_json(&up.data);
	msgpack_unpacked_destroy(&up);
	return out;
}

json_t *
xs_test_call(const char *url, const char *json)
{
	size_t  len, req_len;
	void   *req = xs_test_pack(json, &req_len);
	void   *reply;
	json_t *out;

	reply = xs_test_call_raw(url, req, req_len, &len);
	free(req);
	if (reply == NULL) {
		fail_msg("no reply from %s to %s", url, json);
	}
	out = xs_test_reply_json(reply, len);
	free(reply);
	return out;
}

const char *
xs_test_reply_code(json_t *reply)
{
	json_t *ok = json_object_get(reply, "ok");

	if (json_is_true(ok)) {
		return "ok";
	}
	return json_string_value(
	    json_object_get(json_object_get(reply, "error"), "code"));
}

const char *
xs_test_reply_error(json_t *reply, const char *code, const char *want)
{
	const char *msg = json_string_value(
	    json_object_get(json_object_get(reply, "error"), "message"));

	assert_string_equal(xs_test_reply_code(reply), code);
	assert_non_null(msg);
	xs_test_assert_has(msg, want);
	return msg;
}

/* Fail the test: request 'json' was answered 'r' (taken), not with code
 * 'want'. The reply is printed before the request, and the request cut
 * short: cmocka's message buffer keeps only the start of a long one. */
static void
fail_unanswered(const char *json, json_t *r, const char *want)
{
	char *text = json_dumps(r, JSON_COMPACT);

	print_error("answered %s\nto %.300s%s\n", text != NULL ? text : "?",
	    json, strlen(json) > 300 ? "..." : "");
	free(text);
	json_decref(r);
	fail_msg("not answered %s", want);
}

json_t *
xs_test_call_ok(const char *url, const char *json)
{
	json_t *r = xs_test_call(url, json);

	if (strcmp(xs_test_reply_code(r), "ok") != 0) {
		fail_unanswered(json, r, "ok");
	}
	return r;
}

void
xs_test_assert_code(const char *url, const char *json, const char *want)
{
	json_t *r = xs_test_call(url, json);

	if (strcmp(xs_test_reply_code(r), want) != 0) {
		fail_unanswered(json, r, want);
	}
	json_decref(r);
}

json_int_t
xs_test_send_ok(const char *url, const char *json)
{
	json_t    *r       = xs_test_call_ok(url, json);
	json_t    *applied = json_object_get(r, "applied");
	json_int_t n =
	    json_is_integer(applied) ? json_integer_value(applied) : -1;

	json_decref(r);
	return n;
}

json_int_t
xs_test_stat(const char *url, const char *section, const char *key)
{
	json_t    *r = xs_test_call_ok(url, "{\"op\":\"stats\"}");
	json_t    *in, *v;
	json_int_t n;

	in = section != NULL ? json_object_get(r, section) : r;
	v  = json_object_get(in, key);
	n  = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(r);
	return n;
}

json_int_t
xs_test_stats_orders(const char *url)
{
	return xs_test_stat(url, "counts", "orders");
}

/* ==== Fire-and-forget messages ==== */

nng_socket
xs_test_push_open(const char *url)
{
	nng_socket sock;

	assert_int_equal(nng_push0_open(&sock), 0);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, 10000);
	assert_int_equal(nng_dial(sock, url, NULL, 0), 0);
	return sock;
}

void
xs_test_push_raw(nng_socket sock, const void *msg, size_t len)
{
	assert_int_equal(nng_send(sock, (void *) msg, len, 0), 0);
}

void
xs_test_push(nng_socket sock, const char *json)
{
	size_t len;
	void  *msg = xs_test_pack(json, &len);

	xs_test_push_raw(sock, msg, len);
	free(msg);
}

/* ==== The fill tests' writes ==== */

void
xs_test_fill_batch(
    unsigned b, const char *tag, unsigned users, char *buf, size_t len)
{
	size_t o = 0;

	o += (size_t) snprintf(buf + o, len - o, "{\"op\":\"event\",");
	if (tag != NULL) {
		o += (size_t) snprintf(
		    buf + o, len - o, "\"batch\":\"%s%u\",", tag, b);
	}
	o += (size_t) snprintf(buf + o, len - o, "\"events\":[");
	for (unsigned i = 0; i < XS_TEST_FILL_ORDERS; i++) {
		unsigned n = b * XS_TEST_FILL_ORDERS + i;

		o += (size_t) snprintf(buf + o, len - o,
		    "%s{\"type\":\"order\",\"order\":\"o%u\",\"user\":"
		    "\"u%u\",\"ts\":%u,\"items\":[",
		    i ? "," : "", n, n % users, 1700000000u + n);
		for (unsigned j = 0; j < XS_TEST_FILL_ITEMS; j++) {
			o += (size_t) snprintf(buf + o, len - o,
			    "%s\"i%u-%u\"", j ? "," : "", n, j);
		}
		o += (size_t) snprintf(buf + o, len - o, "]}");
	}
	assert_true(o < len);
	snprintf(buf + o, len - o, "]}");
}

json_t *
xs_test_fill_fbt(const char *url, unsigned n)
{
	char req[200];

	snprintf(req, sizeof(req),
	    "{\"op\":\"fbt\",\"items\":[\"i%u-0\"],\"scorer\":"
	    "\"count\",\"k\":20}",
	    n);
	return xs_test_call_ok(url, req);
}

/* ==== Reading a store's counts ==== */

struct xs_totals
xs_test_totals(xs_store *st)
{
	MDB_txn         *txn;
	struct xs_totals t;

	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_totals_get(st, txn, &t));
	xs_txn_abort(txn);
	return t;
}

/* Item 'ext''s id, or 0 if the store does not know it. */
static uint32_t
item_id(xs_store *st, MDB_txn *txn, const char *ext)
{
	uint32_t id = 0;

	if (xs_store_id_get(st, txn, XS_DICT_ITEM, ext, strlen(ext), &id) !=
	    XSELL_OK) {
		return 0;
	}
	return id;
}

uint32_t
xs_test_item_count(xs_store *st, const char *item, enum xs_count which)
{
	MDB_txn              *txn;
	struct xs_item_counts c = { { 0 } };
	uint32_t              id;

	assert_xs_ok(xs_txn_read(st, &txn));
	id = item_id(st, txn, item);
	if (id != 0) {
		assert_xs_ok(xs_store_counts_get(st, txn, id, &c));
	}
	xs_txn_abort(txn);
	return c.c[which];
}

uint32_t
xs_test_pair(xs_store *st, enum xs_rel rel, const char *a, const char *b)
{
	MDB_txn *txn;
	uint32_t c = 0, ia, ib;

	assert_xs_ok(xs_txn_read(st, &txn));
	ia = item_id(st, txn, a);
	ib = item_id(st, txn, b);
	if (ia != 0 && ib != 0) {
		assert_xs_ok(xs_store_pair_get(st, txn, rel, ia, ib, &c));
	}
	xs_txn_abort(txn);
	return c;
}

uint32_t
xs_test_day_count(
    xs_store *st, enum xs_rel rel, uint32_t day, const char *item)
{
	MDB_txn *txn;
	uint32_t c = 0, id;

	assert_xs_ok(xs_txn_read(st, &txn));
	id = item_id(st, txn, item);
	if (id != 0) {
		assert_xs_ok(xs_store_pair_get(st, txn, rel, day, id, &c));
	}
	xs_txn_abort(txn);
	return c;
}

void
xs_test_assert_pairs(xs_store *st, enum xs_rel rel, const char *spec)
{
	char     a[64], b[64];
	unsigned want;
	int      used;

	while (
	    sscanf(spec, " %63[^>]>%63[^=]=%u%n", a, b, &want, &used) == 3) {
		uint32_t got = xs_test_pair(st, rel, a, b);

		if (got != want) {
			fail_msg("pair %s>%s is %u, want %u", a, b, got, want);
		}
		spec += used;
	}
	assert_true(*spec == '\0');
}

void
xs_test_assert_item_counts(xs_store *st, enum xs_count which, const char *spec)
{
	char     item[64];
	unsigned want;
	int      used;

	while (sscanf(spec, " %63[^=]=%u%n", item, &want, &used) == 2) {
		uint32_t got = xs_test_item_count(st, item, which);

		if (got != want) {
			fail_msg("%s's count is %u, want %u", item, got, want);
		}
		spec += used;
	}
	assert_true(*spec == '\0');
}

/* ==== Replaying writes and comparing stores ==== */

uint32_t
xs_test_apply_event_msg(struct xs_store *st, const void *msg, size_t len)
{
	struct xs_settings     set;
	struct xs_arena        arena;
	struct xs_request      req;
	struct xs_errinfo      ei = { { 0 }, { 0 } };
	struct xs_apply_result res;
	MDB_txn               *txn;
	xs_acc                *acc;

	xs_settings_default(&set);
	xs_arena_init(&arena, (size_t) 64 << 20);
	if (xs_wire_decode(msg, len, &arena, 0, &req, &ei) != XSELL_OK) {
		fail_msg("replayed request refused: %s: %s", ei.field, ei.msg);
	}
	assert_int_equal(req.op, XS_OP_event);
	assert_xs_ok(xs_acc_alloc(&acc));
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_model_apply_batch(st, txn, acc, &set,
	    &req.u.event.batch, req.u.event.events, req.u.event.n, &res));
	assert_xs_ok(xs_acc_flush(acc, st, txn));
	assert_xs_ok(xs_txn_commit(txn));
	xs_acc_free(acc);
	xs_arena_fini(&arena);
	return res.applied;
}

void
xs_test_store_dump(const char *db, struct xs_buf *out)
{
	xs_store *st;

	xs_buf_init(out, SIZE_MAX);
	assert_xs_ok(xs_store_open(&st, db, NULL));
	assert_xs_ok(xs_store_dump(st, out));
	xs_store_close(st);
}

char *
xs_test_dump(xs_store *st)
{
	struct xs_buf b;

	xs_buf_init(&b, SIZE_MAX);
	assert_xs_ok(xs_store_dump(st, &b));
	assert_xs_ok(xs_buf_append(&b, "", 1));
	return b.data;
}

void
xs_test_assert_unchanged(xs_store *st, char *before)
{
	char *now  = xs_test_dump(st);
	bool  same = strcmp(before, now) == 0;

	free(before);
	free(now);
	assert_true(same);
}

void
xs_test_assert_same_store(xs_store *a, xs_store *b)
{
	struct xs_buf da, db;

	xs_buf_init(&da, SIZE_MAX);
	xs_buf_init(&db, SIZE_MAX);
	assert_xs_ok(xs_store_dump(a, &da));
	assert_xs_ok(xs_store_dump(b, &db));
	assert_int_equal(da.len, db.len);
	assert_memory_equal(da.data, db.data, da.len);
	xs_buf_fini(&da);
	xs_buf_fini(&db);
}

/* List l rendered into out as xs_test_comp_list says. */
static void
comp_list_render(xs_store *st, MDB_txn *txn, const struct xs_comp_list *l,
    char *out, size_t out_len)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < l->n; i++) {
		struct xs_comp_entry en;
		const char          *x, *v;
		size_t               xl, vl;

		xs_comp_list_entry(l, i, &en);
		assert_xs_ok(
		    xs_store_ext_get(st, txn, XS_DICT_ITEM, en.item, &x, &xl));
		assert_xs_ok(
		    xs_store_ext_get(st, txn, XS_DICT_ITEM, en.via, &v, &vl));
		o +=
		    (size_t) snprintf(out + o, out_len - o, "%s%.*s=%.6g<%.*s",
		        i ? " " : "", (int) xl, x, en.score, (int) vl, v);
	}
}

/* The item number of 'item' in txn. */
static uint32_t
item_number(xs_store *st, MDB_txn *txn, const char *item)
{
	uint32_t a;

	assert_xs_ok(
	    xs_store_id_get(st, txn, XS_DICT_ITEM, item, strlen(item), &a));
	return a;
}

void
xs_test_comp_list(xs_store *st, const char *item, char *out, size_t out_len)
{
	struct xs_comp_list l;
	MDB_txn            *txn;
	xsell_err           e;

	snprintf(out, out_len, "none");
	assert_xs_ok(xs_txn_read(st, &txn));
	e = xs_store_comp_has(st)
	    ? xs_store_comp_get(st, txn, item_number(st, txn, item), &l)
	    : XSELL_ENOENT;
	if (e != XSELL_ENOENT) {
		assert_xs_ok(e);
		comp_list_render(st, txn, &l, out, out_len);
	}
	xs_txn_abort(txn);
}

void
xs_test_made_comp_list(
    xs_store *st, const char *item, char *out, size_t out_len)
{
	struct xs_comp_list l;
	MDB_txn            *txn;
	const void         *held;
	size_t              len;
	uint64_t            key;

	snprintf(out, out_len, "none");
	assert_xs_ok(xs_txn_read(st, &txn));
	key = xs_comp_made_list_key(item_number(st, txn, item));
	if (xs_store_item_memo_hold(st, txn, key, &held, &len)) {
		assert_xs_ok(xs_comp_list_read(held, len, &l));
		comp_list_render(st, txn, &l, out, out_len);
		xs_store_memo_release(held);
	}
	xs_txn_abort(txn);
}

int
xs_test_threads_named(pid_t pid, const char *name)
{
	char           path[64];
	DIR           *d;
	struct dirent *e;
	int            n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char  comm_path[64 + sizeof(e->d_name) + 8], comm[32] = { 0 };
		FILE *f;

		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(comm_path, sizeof(comm_path), "%s/%s/comm", path,
		    e->d_name);
		f = fopen(comm_path, "r");
		if (f == NULL) {
			continue; /* the thread ended meanwhile */
		}
		if (fgets(comm, sizeof(comm), f) != NULL) {
			comm[strcspn(comm, "\n")] = '\0';
			n += strcmp(comm, name) == 0;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

int
xs_test_threads_named_reach(pid_t pid, const char *name, int want)
{
	int n = xs_test_threads_named(pid, name);

	for (int waited_ms = 0; n != want && waited_ms < 30000;
	     waited_ms += 50) {
		nng_msleep(50);
		n = xs_test_threads_named(pid, name);
	}
	return n;
}
