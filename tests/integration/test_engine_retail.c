/* SPDX-License-Identifier: MIT */
/* Personal picks over the socket on the whole UCI Online Retail export
 * (../shared/data/online-retail; 541,909 lines, Dec 2010 - Dec 2011),
 * warmed with xsell-load next to a running xselld. The test reads the
 * file itself to know what each customer bought. */
#include "support.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RETAIL_FILE "online-retail/online_retail.csv"
/* Three weeks after the last invoice (2011-12-09): picks "as of" then. */
#define NOW "1325030400"

/* What one customer bought: item ids, with repeats. */
struct customer {
	char id[16];
	char (*items)[16];
	size_t n, cap;
	int    invoices;
	char   last_invoice[16];
};

struct fixture {
	struct xs_test_server srv;
	struct customer      *cust;
	size_t                n_cust;
};

/* Split one CSV line (RFC 4180 quotes) in place into 'max' fields. */
static size_t
csv_split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char  *r = line, *w = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		bool quoted = *r == '"';

		f[n++] = w;
		r += quoted;
		while (*r != '\0') {
			if (quoted && r[0] == '"' && r[1] == '"') {
				*w++ = '"';
				r += 2;
			} else if (quoted && *r == '"') {
				quoted = false;
				r++;
			} else if (!quoted && *r == ',') {
				break;
			} else {
				*w++ = *r++;
			}
		}
		if (*r != ',') {
			*w = '\0';
			break;
		}
		*w++ = '\0';
		r++;
	}
	return n;
}

static struct customer *
customer_get(struct fixture *fx, const char *id)
{
	for (size_t i = fx->n_cust; i > 0; i--) {
		if (strcmp(fx->cust[i - 1].id, id) == 0) {
			return &fx->cust[i - 1];
		}
	}
	fx->cust = realloc(fx->cust, (fx->n_cust + 1) * sizeof(*fx->cust));
	assert_non_null(fx->cust);
	memset(&fx->cust[fx->n_cust], 0, sizeof(*fx->cust));
	snprintf(fx->cust[fx->n_cust].id, sizeof(fx->cust->id), "%s", id);
	return &fx->cust[fx->n_cust++];
}

/* The first 200 customers of the file, with every line they bought
 * (qty > 0, as the loader counts). */
static void
read_customers(struct fixture *fx, const char *path)
{
	FILE *f = fopen(path, "r");
	char  line[1024];

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	while (fgets(line, sizeof(line), f) != NULL) {
		char            *fl[8];
		struct customer *c;

		if (csv_split(line, fl, 8) != 8 || fl[6][0] == '\0' ||
		    atof(fl[3]) <= 0) {
			continue;
		}
		if (fx->n_cust == 200 &&
		    strcmp(fx->cust[199].id, fl[6]) != 0) {
			bool known = false;

			for (size_t i = 0; i < fx->n_cust && !known; i++) {
				known = strcmp(fx->cust[i].id, fl[6]) == 0;
			}
			if (!known) {
				continue;
			}
		}
		c = customer_get(fx, fl[6]);
		if (strcmp(c->last_invoice, fl[0]) != 0) {
			c->invoices++;
			snprintf(c->last_invoice, sizeof(c->last_invoice),
			    "%s", fl[0]);
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 16;
			c->items =
			    realloc(c->items, c->cap * sizeof(*c->items));
			assert_non_null(c->items);
		}
		snprintf(c->items[c->n++], sizeof(*c->items), "%s", fl[1]);
	}
	fclose(f);
}

static bool
bought(const struct customer *c, const char *item)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->items[i], item) == 0) {
			return true;
		}
	}
	return false;
}

/* Run xsell-load on the server's store while it serves. */
static void
load(const char *db, const char *path)
{
	pid_t pid = fork();
	int   status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, 1) < 0) {
			_exit(127);
		}
		const char *argv[] = { XS_TEST_XSELL_LOAD, "--db", db,
			"--quiet", path, NULL };

		xs_test_execv(argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int
setup(void **state)
{
	struct fixture *fx   = calloc(1, sizeof(*fx));
	char           *path = xs_test_data_path(RETAIL_FILE);

	assert_non_null(fx);
	assert_non_null(path);
	read_customers(fx, path);
	xs_test_server_start(&fx->srv, NULL);
	load(fx->srv.db, path);
	free(path);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	xs_test_server_fini(&fx->srv);
	for (size_t i = 0; i < fx->n_cust; i++) {
		free(fx->cust[i].items);
	}
	free(fx->cust);
	free(fx);
	return 0;
}

static json_t *
picks(struct fixture *fx, const struct customer *c, const char *kind)
{
	char    req[256];
	json_t *rep;

	snprintf(req, sizeof(req),
	    "{\"op\":\"picks\",\"user\":\"%s\",\"kind\":\"%s\",\"k\":20,"
	    "\"now\":" NOW ",\"filter\":{\"in_stock\":false}}",
	    c->id, kind);
	rep = xs_test_call_ok(fx->srv.read_url, req);
	return rep;
}

/* buy_again offers only what the customer bought before; a shop's
 * regulars (3+ invoices) mostly get some. */
static void
test_buy_again_offers_their_own_items(void **state)
{
	struct fixture *fx       = *state;
	int             regulars = 0, offered = 0;

	for (size_t i = 0; i < fx->n_cust; i++) {
		const struct customer *c = &fx->cust[i];
		json_t                *rep, *it;
		size_t                 k;

		if (c->invoices < 3) {
			continue;
		}
		regulars++;
		rep = picks(fx, c, "buy_again");
		offered += json_array_size(json_object_get(rep, "items")) > 0;
		json_array_foreach(json_object_get(rep, "items"), k, it)
		{
			assert_true(bought(c,
			    json_string_value(json_object_get(it, "item"))));
			assert_string_equal(
			    json_string_value(json_object_get(it, "source")),
			    "bought");
		}
		json_decref(rep);
	}
	fprintf(stderr, "buy_again: %d of %d regulars get an offer\n", offered,
	    regulars);
	assert_true(regulars >= 20);
	assert_true(offered * 2 >= regulars);
}

/* for_you never offers what the customer bought, and fills k. */
static void
test_for_you_offers_something_new(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < fx->n_cust; i += 10) {
		const struct customer *c   = &fx->cust[i];
		json_t                *rep = picks(fx, c, "for_you"), *it;
		size_t                 k;

		assert_int_equal(
		    json_array_size(json_object_get(rep, "items")), 20);
		json_array_foreach(json_object_get(rep, "items"), k, it)
		{
			assert_false(bought(c,
			    json_string_value(json_object_get(it, "item"))));
		}
		json_decref(rep);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buy_again_offers_their_own_items),
		cmocka_unit_test(test_for_you_offers_something_new),
	};
	char *probe = xs_test_data_path(RETAIL_FILE);

	if (probe == NULL) {
		return XS_TEST_SKIP;
	}
	free(probe);
	return cmocka_run_group_tests(tests, setup, teardown);
}
