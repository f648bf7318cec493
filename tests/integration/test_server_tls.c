/* SPDX-License-Identifier: MIT */
/* The admin endpoint over tls+tcp:// with required client certificates.
 * Certificates are made at test time with the openssl CLI (skipped
 * without it): a CA, a server certificate for localhost and 127.0.0.1,
 * a client certificate the CA signed, and one another CA signed. Only
 * the first client may write or read; for the others the handshake
 * fails, and the ipc:// read endpoint shows that nothing was written. */
#include "support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>

#include <xsell/client.h>

/* Calls that must fail wait this long; ones that succeed are quick. */
#define FAIL_TIMEOUT_MS 1500

struct tls_fixture {
	struct xs_test_server srv;
	char                 *certs;   /* directory of the PEM files */
	char                  url[64]; /* tls+tcp://127.0.0.1:PORT */
	char                  files[5][512];
	const char           *extra[9];
};

enum { F_CA, F_SRV_CRT, F_SRV_KEY, F_CLI_CRT, F_CLI_KEY };

/* The two CAs and three certificates, P-256 keys, valid for a day. */
static void
make_certs(const char *dir)
{
	static const char script[] =
	    "exec >/dev/null 2>&1; set -e; cd '%s'\n"
	    "k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
	    "openssl req -x509 $k -keyout ca.key -out ca.crt -days 1 "
	    "-subj /CN=xsell-test-ca\n"
	    "openssl req -x509 $k -keyout ca2.key -out ca2.crt -days 1 "
	    "-subj /CN=xsell-other-ca\n"
	    "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' >srv.ext\n"
	    "printf 'extendedKeyUsage=clientAuth\\n' >cli.ext\n"
	    "sign() { openssl req $k -keyout $1.key -out $1.csr -subj /CN=$1\n"
	    "  openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key "
	    "-CAcreateserial -days 1 -extfile $3.ext -out $1.crt; }\n"
	    "sign srv ca srv; sign cli ca cli; sign other ca2 cli\n";
	char cmd[sizeof(script) + 4200];

	snprintf(cmd, sizeof(cmd), script, dir);
	if (system(cmd) != 0) {
		fail_msg("openssl could not make the test certificates");
	}
}

static int
setup(void **state)
{
	struct tls_fixture *f       = calloc(1, sizeof(*f));
	static const char  *names[] = { "ca.crt", "srv.crt", "srv.key",
		 "cli.crt", "cli.key" };

	assert_non_null(f);
	f->certs = xs_test_tmpdir();
	make_certs(f->certs);
	for (int i = 0; i < 5; i++) {
		snprintf(f->files[i], sizeof(f->files[i]), "%s/%s", f->certs,
		    names[i]);
	}
	snprintf(f->url, sizeof(f->url), "tls+tcp://127.0.0.1:%d",
	    xs_test_free_port());
	f->extra[0] = "--admin";
	f->extra[1] = f->url;
	f->extra[2] = "--tls-cert";
	f->extra[3] = f->files[F_SRV_CRT];
	f->extra[4] = "--tls-key";
	f->extra[5] = f->files[F_SRV_KEY];
	f->extra[6] = "--tls-ca";
	f->extra[7] = f->files[F_CA];
	/* extra[8] is NULL: the struct was calloc'd. */
	xs_test_server_start(&f->srv, f->extra);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct tls_fixture *f = *state;

	xs_test_server_fini(&f->srv);
	xs_test_rmdir(f->certs);
	free(f);
	return 0;
}

/* Send the JSON request 'json' on 'c', packed as xs_test_pack does;
 * returns the call's error, else the reply's status. The "item" of the
 * reply's first "items" entry goes to 'first' (empty if none). */
static xsell_err
call(xsell_client *c, const char *json, char *first, size_t len)
{
	msgpack_unpacked      up;
	const msgpack_object *items;
	size_t                req_len, reply_len;
	void                 *req = xs_test_pack(json, &req_len);
	void                 *reply;
	xsell_err             err;

	first[0] = '\0';
	err      = xsell_client_call(c, req, req_len, &reply, &reply_len);
	free(req);
	if (err != XSELL_OK) {
		return err;
	}
	msgpack_unpacked_init(&up);
	assert_xs_ok(xsell_reply_unpack(reply, reply_len, &up));
	xsell_client_free(reply);
	err   = xsell_reply_status(&up.data, NULL);
	items = xsell_reply_get(&up.data, "items");
	if (items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
	    items->via.array.size > 0) {
		const msgpack_object *it =
		    xsell_reply_get(&items->via.array.ptr[0], "item");

		assert_non_null(it);
		snprintf(first, len, "%.*s", (int) it->via.str.size,
		    it->via.str.ptr);
	}
	msgpack_unpacked_destroy(&up);
	return err;
}

/* Send order 'order' of items 'a' and 'b' on 'c', as call does. */
static xsell_err
send_order(xsell_client *c, const char *order, const char *a, const char *b)
{
	char json[512], first[64];

	snprintf(json, sizeof(json),
	    "{\"op\":\"event\",\"events\":[{\"type\":\"order\","
	    "\"order\":\"%s\",\"items\":[\"%s\",\"%s\"]}]}",
	    order, a, b);
	return call(c, json, first, sizeof(first));
}

/* Whether the read endpoint knows 'item' (an order with it was
 * applied): fbt lists unknown items in "unknown". */
static bool
item_known(const char *read_url, const char *item)
{
	char    req[256];
	json_t *r;
	bool    known;

	snprintf(
	    req, sizeof(req), "{\"op\":\"fbt\",\"items\":[\"%s\"]}", item);
	r     = xs_test_call_ok(read_url, req);
	known = json_array_size(json_object_get(r, "unknown")) == 0;
	json_decref(r);
	return known;
}

static struct xsell_client_tls
client_tls(const struct tls_fixture *f, const char *cert, const char *key)
{
	struct xsell_client_tls t = { 0 };

	t.cert_file   = cert;
	t.key_file    = key;
	t.ca_file     = f->files[F_CA];
	t.server_name = "localhost"; /* mbedtls checks names, not IPs */
	return t;
}

static void
test_tls_client_with_the_cas_certificate_writes_and_reads(void **state)
{
	struct tls_fixture     *f = *state;
	struct xsell_client_tls t =
	    client_tls(f, f->files[F_CLI_CRT], f->files[F_CLI_KEY]);
	xsell_client *c;
	char          first[64];

	assert_xs_ok(xsell_client_dial_tls(&c, f->url, 5000, &t));
	assert_xs_ok(send_order(c, "t1", "T1", "T2"));
	assert_xs_ok(
	    call(c, "{\"op\":\"fbt\",\"items\":[\"T1\"],\"scorer\":\"count\"}",
	        first, sizeof(first)));
	assert_string_equal(first, "T2");
	xsell_client_close(c);
	assert_true(item_known(f->srv.read_url, "T1"));
}

/* A client that cannot complete the handshake: the dial fails, and an
 * open handle's write times out; the write never reaches the store. */
static void
expect_refused(struct tls_fixture *f, const struct xsell_client_tls *t,
    const char *order, const char *item)
{
	xsell_client *c;

	assert_xs_err(xsell_client_dial_tls(&c, f->url, FAIL_TIMEOUT_MS, t),
	    XSELL_EUNAVAIL);
	assert_xs_ok(xsell_client_open_tls(&c, f->url, FAIL_TIMEOUT_MS, t));
	assert_xs_err(send_order(c, order, item, "T0"), XSELL_EUNAVAIL);
	xsell_client_close(c);
	assert_false(item_known(f->srv.read_url, item));
}

static void
test_tls_client_without_a_certificate_gets_no_answer(void **state)
{
	struct tls_fixture     *f = *state;
	struct xsell_client_tls t = client_tls(f, NULL, NULL);

	expect_refused(f, &t, "t2", "T3");
}

static void
test_tls_client_of_another_ca_gets_no_answer(void **state)
{
	struct tls_fixture     *f = *state;
	struct xsell_client_tls t = client_tls(f, NULL, NULL);
	char                    crt[512], key[512];

	snprintf(crt, sizeof(crt), "%s/other.crt", f->certs);
	snprintf(key, sizeof(key), "%s/other.key", f->certs);
	t.cert_file = crt;
	t.key_file  = key;
	expect_refused(f, &t, "t3", "T4");
}

/* Plain tcp:// to the TLS port: no handshake, no answer. */
static void
test_tls_plain_tcp_client_gets_no_answer(void **state)
{
	struct tls_fixture *f = *state;
	xsell_client       *c;
	char                url[64];

	snprintf(url, sizeof(url), "tcp://%s", f->url + strlen("tls+tcp://"));
	assert_xs_ok(xsell_client_open(&c, url, FAIL_TIMEOUT_MS));
	assert_xs_err(send_order(c, "t4", "T5", "T0"), XSELL_EUNAVAIL);
	xsell_client_close(c);
	assert_false(item_known(f->srv.read_url, "T5"));
}

/* Run the xsell CLI with 'args'; its exit status. */
static int
run_cli(const char *args)
{
	char cmd[8192];
	int  status;

	snprintf(
	    cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", XS_TEST_XSELL, args);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The CLI's --tls-* options: a write with the client certificate is
 * applied (exit 0), without one it cannot connect (exit 3), and a
 * tls+tcp:// URL without --tls-ca is a usage error (exit 2). */
static void
test_tls_cli_options(void **state)
{
	struct tls_fixture *f = *state;
	char                args[4096], common[2048];

	snprintf(common, sizeof(common),
	    "--url %s --tls-ca %s --tls-server-name localhost --timeout %d",
	    f->url, f->files[F_CA], FAIL_TIMEOUT_MS);
	snprintf(args, sizeof(args),
	    "%s --tls-cert %s --tls-key %s event order t5 T6 T0", common,
	    f->files[F_CLI_CRT], f->files[F_CLI_KEY]);
	assert_int_equal(run_cli(args), 0);
	assert_true(item_known(f->srv.read_url, "T6"));
	snprintf(args, sizeof(args), "%s event order t6 T7 T0", common);
	assert_int_equal(run_cli(args), 3);
	assert_false(item_known(f->srv.read_url, "T7"));
	snprintf(args, sizeof(args), "--url %s stats", f->url);
	assert_int_equal(run_cli(args), 2);
}

/* xselld with --admin 'admin' and the TLS files given (NULL: left
 * out), on a store in the fixture's directory: refused with 'code' in
 * one line of stderr holding 'want' (NULL: any line). */
static void
assert_refused(struct tls_fixture *f, const char *admin, const char *cert,
    const char *key, const char *ca, int code, const char *want)
{
	char        db[4200];
	const char *args[11];
	size_t      n = 0;

	snprintf(db, sizeof(db), "%s/db2", f->certs);
	args[n++] = "--db";
	args[n++] = db;
	args[n++] = "--admin";
	args[n++] = admin;
	if (cert != NULL) {
		args[n++] = "--tls-cert";
		args[n++] = cert;
	}
	if (key != NULL) {
		args[n++] = "--tls-key";
		args[n++] = key;
	}
	if (ca != NULL) {
		args[n++] = "--tls-ca";
		args[n++] = ca;
	}
	args[n] = NULL;
	xs_test_assert_xselld_refuses(f->certs, args, code, want);
}

/* A tls+tcp:// URL without the three files is a usage error; files
 * that do not load stop xselld before it serves; each in one line. */
static void
test_tls_server_refuses_to_start_without_usable_files(void **state)
{
	struct tls_fixture *f = *state;
	char                tls_url[64], tcp_url[64], missing[4200];

	snprintf(tls_url, sizeof(tls_url), "tls+tcp://127.0.0.1:%d",
	    xs_test_free_port());
	assert_refused(f, tls_url, NULL, NULL, NULL, 2,
	    "--tls-cert, --tls-key and --tls-ca");

	snprintf(missing, sizeof(missing), "%s/missing.crt", f->certs);
	assert_refused(f, tls_url, missing, f->files[F_SRV_KEY],
	    f->files[F_CA], 1, "missing.crt");

	/* A key where the CA belongs: not a certificate. */
	assert_refused(f, tls_url, f->files[F_SRV_CRT], f->files[F_SRV_KEY],
	    f->files[F_SRV_KEY], 1, "--tls-ca");

	/* Certificates for a plain endpoint would protect nothing. */
	snprintf(tcp_url, sizeof(tcp_url), "tcp://127.0.0.1:%d",
	    xs_test_free_port());
	assert_refused(f, tcp_url, f->files[F_SRV_CRT], f->files[F_SRV_KEY],
	    f->files[F_CA], 2, NULL);
}

/* Bad TLS settings are refused before anything is dialled. */
static void
test_tls_client_open_refuses_bad_settings(void **state)
{
	struct tls_fixture     *f = *state;
	struct xsell_client_tls t = client_tls(f, NULL, NULL);
	xsell_client           *c = NULL;

	assert_xs_err(
	    xsell_client_open_tls(&c, f->url, 1000, NULL), XSELL_EINVAL);
	assert_xs_err(xsell_client_open_tls(&c, "tcp://127.0.0.1:1", 1000, &t),
	    XSELL_EINVAL); /* TLS settings for a plain URL */
	t.cert_file = f->files[F_CLI_CRT];
	assert_xs_err(xsell_client_open_tls(&c, f->url, 1000, &t),
	    XSELL_EINVAL); /* a certificate without its key */
	t         = client_tls(f, NULL, NULL);
	t.ca_file = NULL;
	assert_xs_err(xsell_client_open_tls(&c, f->url, 1000, &t),
	    XSELL_EINVAL); /* the server could not be checked */
	t = client_tls(f, "/nonexistent.crt", f->files[F_CLI_KEY]);
	assert_xs_err(xsell_client_open_tls(&c, f->url, 1000, &t), XSELL_EIO);
	t = client_tls(f, f->files[F_CLI_KEY], f->files[F_CLI_KEY]);
	assert_xs_err(xsell_client_open_tls(&c, f->url, 1000, &t),
	    XSELL_EIO); /* a key where the certificate belongs */
	assert_null(c);
}

/* The TLS options from a --config file, the URL on the command line:
 * a client with the CA's certificate is answered. */
static void
test_tls_options_from_config_file(void **state)
{
	struct tls_fixture     *f = *state;
	struct xs_test_server   s = { 0 };
	struct xsell_client_tls t =
	    client_tls(f, f->files[F_CLI_CRT], f->files[F_CLI_KEY]);
	char          conf[600], url[64];
	const char   *extra[] = { "--config", conf, "--admin", url, NULL };
	xsell_client *c;
	FILE         *fp;

	snprintf(conf, sizeof(conf), "%s/xselld.conf", f->certs);
	snprintf(
	    url, sizeof(url), "tls+tcp://127.0.0.1:%d", xs_test_free_port());
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp, "tls-cert %s\ntls-key %s\ntls-ca %s\n",
	    f->files[F_SRV_CRT], f->files[F_SRV_KEY], f->files[F_CA]);
	fclose(fp);
	xs_test_server_start(&s, extra);
	assert_xs_ok(xsell_client_dial_tls(&c, url, 5000, &t));
	assert_xs_ok(send_order(c, "t7", "T8", "T0"));
	xsell_client_close(c);
	assert_true(item_known(s.read_url, "T8"));
	xs_test_server_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_tls_client_with_the_cas_certificate_writes_and_reads,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_client_without_a_certificate_gets_no_answer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_client_of_another_ca_gets_no_answer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_plain_tcp_client_gets_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_cli_options, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_server_refuses_to_start_without_usable_files,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_options_from_config_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_client_open_refuses_bad_settings, setup,
		    teardown),
	};

	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "openssl is not installed: skipped\n");
		return XS_TEST_SKIP;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("server_tls", tests, NULL, NULL);
}
