/* SPDX-License-Identifier: MIT */
/* xsell: the command-line client of xselld.
 *
 * Every subcommand is one row of 'commands' below: its options, its help
 * text, a function that turns the arguments into one msgpack request, and
 * a printer for the human form of a successful reply. Sending, error
 * replies, --json and exit codes are shared, so a new op is a new row and
 * two small functions. See xsell.1 for the user's view. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include <xsell/client.h>
#include <xsell/limits.h>

/* Exit codes (xsell.1, EXIT STATUS). */
enum {
	EXIT_OK_     = 0, /* success */
	EXIT_REPLY   = 1, /* the server answered with an error, or garbage */
	EXIT_USAGE   = 2, /* bad command line */
	EXIT_UNAVAIL = 3, /* no server, or no reply within the timeout */
};

#define TIMEOUT_MAX_MS 3600000
#define OPTS_MAX 16

/* ==== Command table types ==== */

/* What an option takes. */
enum opt_arg {
	ARG_NONE, /* a flag: "--explain" */
	ARG_ONE,  /* a value, once: "--scorer NAME", "--scorer=NAME" */
	ARG_MANY, /* a value, repeatable, each kept: "--category NAME" */
};

struct opt {
	const char  *name; /* "--scorer" or "-k" */
	enum opt_arg arg;
};

/* One value of a repeatable option, in command-line order. */
struct opt_val {
	int         opt; /* index into the command's opts */
	const char *val;
};

struct cli {
	const char *url;        /* server URL; NULL: the command's default */
	int         timeout_ms; /* per request */
	bool        timeout_given;   /* --timeout seen, for given_twice() */
	bool        json;            /* print the raw reply as JSON */
	struct xsell_client_tls tls; /* --tls-*, for tls+tcp:// URLs */
};

/* Arguments of one subcommand after option parsing. */
struct args {
	const char       *cmd;     /* "fbt", for messages */
	const struct opt *opts;    /* the command's table, NULL-terminated */
	const char *val[OPTS_MAX]; /* value of opts[i], NULL if not given */
	char      **pos;           /* positional arguments (argv pointers) */
	int         n_pos;
	struct opt_val *reps; /* every value of the repeatable options */
	int             n_reps;
};

/* Prints a successful reply for people. */
typedef void (*print_fn)(const msgpack_object *reply);

/* Builds the request from 'a' into 'pk'. Returns 0, or EXIT_USAGE after
 * printing why. Sets *printp to the printer for the reply. */
typedef int (*build_fn)(
    const struct args *a, msgpack_packer *pk, print_fn *printp);

struct command {
	const char       *name;
	bool              is_write; /* goes to the admin endpoint */
	const char       *summary;  /* one line for "xsell --help" */
	const struct opt *opts;
	const char       *help; /* full text for "xsell CMD --help" */
	build_fn          build;
};

static const char flag_set[] = "true";

/* ==== Messages ==== */

static void usage_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xsell%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'xsell%s%s --help'.\n", cmd ? " " : "",
	    cmd ? cmd : "");
}

/* The length of the well-formed UTF-8 character at s[0..len), or 0 if
 * the bytes there are not one (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
static size_t
utf8_char_len(const unsigned char *s, size_t len)
{
	size_t n;

	if (s[0] < 0x80) {
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
	} else {
		return 0;
	}
	if (n > len) {
		return 0;
	}
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80) {
			return 0;
		}
	}
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)) {
		return 0;
	}
	return n;
}

/* The next piece of untrusted text s[0..len) (len > 0) for a terminal:
 * returns its length in bytes, and sets *escape if it must be written as
 * \xHH per byte: a C0 control or DEL; a C1 control, U+0080..U+009F
 * (UTF-8 C2 80..C2 9F: U+009B is CSI, as ESC [); a byte 0x80..0x9F that
 * is not part of a UTF-8 character (a C1 control to an 8-bit
 * terminal). Anything else, a UTF-8 character or another stray byte, is
 * written as is and takes one column. */
static size_t
text_piece(const unsigned char *s, size_t len, bool *escape)
{
	size_t n = utf8_char_len(s, len);

	if (n == 0) {
		*escape = s[0] <= 0x9f;
		return 1;
	}
	*escape = s[0] < 0x20 || s[0] == 0x7f || (s[0] == 0xc2 && s[1] < 0xa0);
	return n;
}

/* Write untrusted text for a terminal, control characters escaped
 * (text_piece), everything else (UTF-8 included) as is. Returns the
 * display width, counting one column per UTF-8 character. */
static int
put_text(FILE *out, const char *s, size_t len)
{
	const unsigned char *p     = (const unsigned char *) s;
	int                  width = 0;

	for (size_t i = 0; i < len;) {
		bool   escape;
		size_t n = text_piece(p + i, len - i, &escape);

		if (escape) {
			for (size_t k = 0; k < n; k++) {
				fprintf(out, "\\x%02x", (unsigned) p[i + k]);
			}
			width += 4 * (int) n;
		} else {
			/* A failed write shows at the fflush that ends the
			 * output (send_request). */
			(void) fwrite(p + i, 1, n, out);
			width++;
		}
		i += n;
	}
	return width;
}

/* The width put_text gives s[0..len). */
static int
text_width(const char *s, size_t len)
{
	const unsigned char *p     = (const unsigned char *) s;
	int                  width = 0;

	for (size_t i = 0; i < len;) {
		bool   escape;
		size_t n = text_piece(p + i, len - i, &escape);

		width += escape ? 4 * (int) n : 1;
		i += n;
	}
	return width;
}

static void
pad(FILE *out, int n)
{
	for (int i = 0; i < n; i++) {
		fputc(' ', out);
	}
}

/* ==== Strict parsing ==== */

/* A decimal integer in [lo, hi]: optional '-', digits, nothing else (no
 * spaces, no '+', no hex). */
static bool
parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char     *end;
	long long v;

	if (s == NULL ||
	    !(isdigit((unsigned char) s[0]) ||
	        (s[0] == '-' && isdigit((unsigned char) s[1])))) {
		return false;
	}
	errno = 0;
	v     = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		return false;
	}
	*out = v;
	return true;
}

/* A finite decimal number (digits, '.', exponent); no hex, inf or nan. */
static bool
parse_double(const char *s, double *out)
{
	char  *end;
	double v;

	if (s == NULL || s[0] == '\0' ||
	    strspn(s, "0123456789+-.eE") != strlen(s) ||
	    !(isdigit((unsigned char) s[0]) || s[0] == '-' || s[0] == '.')) {
		return false;
	}
	errno = 0;
	v     = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v)) {
		return false;
	}
	*out = v;
	return true;
}

static bool
parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0) {
		*out = true;
	} else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0) {
		*out = false;
	} else {
		return false;
	}
	return true;
}

/* An external id: 1..XSELL_ID_MAX bytes. */
static bool
check_id(const char *cmd, const char *what, const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > XSELL_ID_MAX) {
		usage_err(cmd, "%s must be 1..%d bytes", what, XSELL_ID_MAX);
		return false;
	}
	return true;
}

/* ==== Option parsing ==== */

/* "xsell CMD --help": the command's own text, then the options every
 * command shares, with this command's default endpoint. */
static void
command_help(const struct command *cmd)
{
	fputs(cmd->help, stdout);
	printf(
	    "\n"
	    "Common options (before or after %s):\n"
	    "  --url URL     server endpoint (default: $%s, else\n"
	    "                %s)\n"
	    "  --timeout MS  give up after MS milliseconds, 1..%d "
	    "(default %d)\n"
	    "  --json        print the whole reply as JSON instead\n"
	    "  --tls-ca FILE, --tls-cert FILE, --tls-key FILE,\n"
	    "  --tls-server-name NAME   for a tls+tcp:// URL (xsell --help)\n"
	    "  -h, --help    this text\n"
	    "\n"
	    "Exit status: 0 ok, 1 error reply, 2 usage error, 3 cannot "
	    "connect or\n"
	    "no reply within the timeout. See xsell(1).\n",
	    cmd->name, cmd->is_write ? "XSELL_ADMIN_URL" : "XSELL_URL",
	    cmd->is_write ? XSELL_CLIENT_ADMIN_URL_DEFAULT
	                  : XSELL_CLIENT_URL_DEFAULT,
	    TIMEOUT_MAX_MS, XSELL_CLIENT_TIMEOUT_DEFAULT_MS);
}

static const char *
opt_get(const struct args *a, const char *name)
{
	for (int i = 0; a->opts[i].name != NULL; i++) {
		if (strcmp(a->opts[i].name, name) == 0) {
			return a->val[i];
		}
	}
	return NULL;
}

/* How many values repeatable option 'name' was given. */
static int
opt_count(const struct args *a, const char *name)
{
	int n = 0;

	for (int i = 0; i < a->n_reps; i++) {
		n += strcmp(a->opts[a->reps[i].opt].name, name) == 0;
	}
	return n;
}

/* If 'arg' is option 'name', "--name=value" or "-kVALUE", return true
 * and point *inlinep at the value (or NULL). */
static bool
opt_is(const char *arg, const char *name, const char **inlinep)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0) {
		return false;
	}
	if (arg[n] == '\0') {
		*inlinep = NULL;
		return true;
	}
	if (arg[n] == '=' && name[1] == '-') {
		*inlinep = arg + n + 1;
		return true;
	}
	if (name[1] != '-') {
		*inlinep = arg + n;
		return true;
	}
	return false;
}

/* Whether common option 'name', single-valued, was 'given' already:
 * then a usage error (printed) like a command's option given twice
 * (parse_args), since keeping the last value unsaid would let a second
 * --url, say one appended by a wrapper script, silently win. */
static bool
given_twice(const char *cmd, const char *name, bool given)
{
	if (given) {
		usage_err(cmd, "%s given twice", name);
	}
	return given;
}

/* --tls-cert, --tls-key, --tls-ca, --tls-server-name FILE/NAME. Returns
 * 0 if argv[*ip] is none of them; else 1 with *vp at the value, or -1
 * (a usage error, printed) with *vp NULL. */
static int
tls_opt(struct cli *cli, const char *cmd, int argc, char **argv, int *ip,
    const char **vp)
{
	static const char *const names[] = { "--tls-cert", "--tls-key",
		"--tls-ca", "--tls-server-name" };
	const char **fields[] = { &cli->tls.cert_file, &cli->tls.key_file,
		&cli->tls.ca_file, &cli->tls.server_name };

	for (int i = 0; i < 4; i++) {
		if (!opt_is(argv[*ip], names[i], vp)) {
			continue;
		}
		if (given_twice(cmd, names[i], *fields[i] != NULL)) {
			*vp = NULL;
			return -1;
		}
		if (*vp == NULL && *ip + 1 < argc) {
			*vp = argv[++*ip];
		}
		if (*vp == NULL || (*vp)[0] == '\0') {
			usage_err(cmd, "%s needs a value", names[i]);
			*vp = NULL;
			return -1;
		}
		*fields[i] = *vp;
		return 1;
	}
	return 0;
}

/* The options every command also accepts, so that "xsell fbt A --json"
 * works as well as "xsell --json fbt A"; each at most once, counting
 * both sides of the command. Returns 1 if argv[*ip] was one (consumed),
 * 0 if not, -1 on a usage error. */
static int
global_opt(struct cli *cli, const char *cmd, int argc, char **argv, int *ip)
{
	const char *arg = argv[*ip];
	const char *v;
	int64_t     n;

	if (strcmp(arg, "--json") == 0) {
		if (given_twice(cmd, arg, cli->json)) {
			return -1;
		}
		cli->json = true;
		return 1;
	}
	if (tls_opt(cli, cmd, argc, argv, ip, &v) != 0) {
		return v == NULL ? -1 : 1;
	}
	if (opt_is(arg, "--url", &v) || opt_is(arg, "--timeout", &v)) {
		bool        is_url = arg[2] == 'u';
		const char *name   = is_url ? "--url" : "--timeout";

		if (given_twice(cmd, name,
		        is_url ? cli->url != NULL : cli->timeout_given)) {
			return -1;
		}
		if (v == NULL) {
			if (*ip + 1 >= argc) {
				usage_err(cmd, "%s needs a value", name);
				return -1;
			}
			v = argv[++*ip];
		}
		if (is_url) {
			if (v[0] == '\0') {
				usage_err(cmd, "--url must not be empty");
				return -1;
			}
			cli->url = v;
		} else {
			if (!parse_i64(v, 1, TIMEOUT_MAX_MS, &n)) {
				usage_err(cmd,
				    "--timeout: expected milliseconds "
				    "1..%d, got '%s'",
				    TIMEOUT_MAX_MS, v);
				return -1;
			}
			cli->timeout_ms    = (int) n;
			cli->timeout_given = true;
		}
		return 1;
	}
	return 0;
}

/* Split argv[1..argc) of a command into options and positionals. "--"
 * ends the options, so ids that begin with '-' can be given. Returns
 * EXIT_OK_, EXIT_USAGE, or -1 when --help was printed. */
static int
parse_args(struct cli *cli, const struct command *cmd, int argc, char **argv,
    struct args *a)
{
	bool opts_done = false;

	memset(a, 0, sizeof(*a));
	a->cmd  = cmd->name;
	a->opts = cmd->opts;
	a->pos  = calloc((size_t) argc + 1, sizeof(*a->pos));
	a->reps = calloc((size_t) argc + 1, sizeof(*a->reps));
	if (a->pos == NULL || a->reps == NULL) {
		fprintf(stderr, "xsell: out of memory\n");
		return EXIT_REPLY;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *v;
		bool        found = false;
		int         rc;

		if (opts_done || arg[0] != '-' || arg[1] == '\0') {
			a->pos[a->n_pos++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			command_help(cmd);
			return -1;
		}
		for (int j = 0; cmd->opts[j].name != NULL; j++) {
			if (!opt_is(arg, cmd->opts[j].name, &v)) {
				continue;
			}
			found = true;
			if (a->val[j] != NULL &&
			    cmd->opts[j].arg != ARG_MANY) {
				usage_err(cmd->name, "%s given twice%s",
				    cmd->opts[j].name,
				    strcmp(cmd->opts[j].name, "--exclude") == 0
				        ? "; join the ids with commas"
				        : "");
				return EXIT_USAGE;
			}
			if (cmd->opts[j].arg == ARG_NONE) {
				if (v != NULL) {
					usage_err(cmd->name,
					    "%s takes no value",
					    cmd->opts[j].name);
					return EXIT_USAGE;
				}
				a->val[j] = flag_set;
			} else if (v == NULL && i + 1 >= argc) {
				usage_err(cmd->name, "%s needs a value",
				    cmd->opts[j].name);
				return EXIT_USAGE;
			} else {
				v = v != NULL ? v : argv[++i];
				if (a->val[j] == NULL) {
					a->val[j] = v;
				}
				if (cmd->opts[j].arg == ARG_MANY) {
					a->reps[a->n_reps].opt   = j;
					a->reps[a->n_reps++].val = v;
				}
			}
			break;
		}
		if (found) {
			continue;
		}
		rc = global_opt(cli, cmd->name, argc, argv, &i);
		if (rc < 0) {
			return EXIT_USAGE;
		}
		if (rc == 0) {
			usage_err(cmd->name, "unknown option '%s'", arg);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK_;
}

/* ==== msgpack helpers ==== */

static void
pack_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static void
pack_key(msgpack_packer *pk, const char *key)
{
	pack_str(pk, key);
}

/* The field 'key' with the string 's' of an option, if it was given
 * (the map's size counted it only then). */
static void
pack_opt_str(msgpack_packer *pk, const char *key, const char *s)
{
	if (s != NULL) {
		pack_key(pk, key);
		pack_str(pk, s);
	}
}

/* Write a scalar for people; containers as "..." (stats shows maps
 * itself, print_entries). Returns the width. */
static int
put_value(FILE *out, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return fprintf(out, "-");
	case MSGPACK_OBJECT_BOOLEAN:
		return fprintf(out, "%s", o->via.boolean ? "yes" : "no");
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return fprintf(out, "%llu", (unsigned long long) o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return fprintf(out, "%lld", (long long) o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return fprintf(out, "%.6g", o->via.f64);
	case MSGPACK_OBJECT_STR:
		return put_text(out, o->via.str.ptr, o->via.str.size);
	default:
		return fprintf(out, "...");
	}
}

static int
value_width(const msgpack_object *o)
{
	char buf[64];

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		return text_width(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return snprintf(
		    buf, sizeof(buf), "%llu", (unsigned long long) o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return snprintf(
		    buf, sizeof(buf), "%lld", (long long) o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return snprintf(buf, sizeof(buf), "%.6g", o->via.f64);
	case MSGPACK_OBJECT_NIL:
		return 1;
	case MSGPACK_OBJECT_BOOLEAN:
		return o->via.boolean ? 3 : 2;
	default:
		return 3;
	}
}

/* Write the count 'o' right-aligned in 'width' columns: an integer as
 * the server sent it, every digit (through a double, 2^53 + 1 came out
 * ...992), a float (from a server other than xselld) rounded; 'absent'
 * when it is missing or not a number. */
static void
put_count(const msgpack_object *o, int width, const char *absent)
{
	switch (o != NULL ? o->type : MSGPACK_OBJECT_NIL) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		printf("%*llu", width, (unsigned long long) o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		printf("%*lld", width, (long long) o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		printf("%*.0f", width, o->via.f64);
		break;
	default:
		printf("%*s", width, absent);
	}
}

/* 'o' as an integer in int64 range: an integer as is, a float truncated
 * if it is in range (a cast of one out of range is undefined); false if
 * it is not, or not a number. */
static bool
reply_i64(const msgpack_object *o, int64_t *out)
{
	switch (o != NULL ? o->type : MSGPACK_OBJECT_NIL) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t) INT64_MAX) {
			return false;
		}
		*out = (int64_t) o->via.u64;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = o->via.i64;
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* -2^63 <= f < 2^63; NaN fails both. */
		if (!(o->via.f64 >= -9223372036854775808.0 &&
		        o->via.f64 < 9223372036854775808.0)) {
			return false;
		}
		*out = (int64_t) o->via.f64;
		return true;
	default:
		return false;
	}
}

/* ==== Sending ==== */

/* Print the error of a failed reply as "xsell: CODE: MESSAGE", with a hint
 * when a write went to a read endpoint. */
static void
print_error_reply(
    const struct cli *cli, const struct xsell_reply_error *e, xsell_err err)
{
	fputs("xsell: ", stderr);
	if (e->code_len > 0) {
		put_text(stderr, e->code, e->code_len);
	} else {
		fputs(xsell_err_wire(err), stderr);
	}
	fputs(": ", stderr);
	if (e->message_len > 0) {
		put_text(stderr, e->message, e->message_len);
	} else {
		fputs(xsell_strerror(err), stderr);
	}
	fputc('\n', stderr);
	if (err == XSELL_EFORBIDDEN) {
		fprintf(stderr,
		    "xsell: %s is a read endpoint; send writes to the admin "
		    "endpoint (--url or XSELL_ADMIN_URL)\n",
		    cli->url);
	}
}

/* Milliseconds since 't0' (CLOCK_MONOTONIC). */
static int64_t
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((int64_t) now.tv_sec - (int64_t) t0->tv_sec) * 1000 +
	    ((int64_t) now.tv_nsec - (int64_t) t0->tv_nsec) / 1000000;
}

/* Send the request in 'sb', then print the reply: as JSON with --json,
 * else with 'print' on success; an error reply goes to stderr as
 * "xsell: CODE: MESSAGE". Returns the exit code. */
static int
send_request(const struct cli *cli, const msgpack_sbuffer *sb, print_fn print)
{
	struct xsell_reply_error e;
	xsell_client            *c;
	void                    *reply = NULL;
	size_t                   reply_len;
	msgpack_unpacked         up;
	xsell_err                err;
	struct timespec          t0;
	int64_t                  left_ms;
	int                      rc = EXIT_OK_;

	/* One request, then exit: connect first, so that a server that is
	 * not there fails at once instead of after the whole timeout.
	 * --timeout bounds the two together: the call gets what the dial
	 * left of it. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strncmp(cli->url, "tls+tcp", 7) == 0) {
		err = xsell_client_dial_tls(
		    &c, cli->url, cli->timeout_ms, &cli->tls);
		if (err == XSELL_EIO) {
			fprintf(stderr,
			    "xsell: --tls-cert, --tls-key or --tls-ca: a file "
			    "cannot be read or is not PEM\n");
			return EXIT_USAGE;
		}
		if (err == XSELL_EUNAVAIL) {
			fprintf(stderr,
			    "xsell: %s: cannot connect (is xselld listening "
			    "there, and does its CA sign --tls-cert?)\n",
			    cli->url);
			return EXIT_UNAVAIL;
		}
	} else {
		err = xsell_client_dial(&c, cli->url, cli->timeout_ms);
	}
	if (err == XSELL_EINVAL) {
		fprintf(stderr, "xsell: invalid URL '%s'\n", cli->url);
		return EXIT_USAGE;
	}
	if (err == XSELL_EUNAVAIL) {
		/* An ipc:// socket refuses a user without write permission
		 * on it exactly as it refuses a path where nothing listens. */
		fprintf(stderr,
		    "xsell: %s: cannot connect (is xselld listening "
		    "there%s?)\n",
		    cli->url,
		    strncmp(cli->url, "ipc://", 6) == 0
		        ? ", and may this user write to the socket"
		        : "");
		return EXIT_UNAVAIL;
	}
	if (err != XSELL_OK) {
		fprintf(
		    stderr, "xsell: %s: %s\n", cli->url, xsell_strerror(err));
		return EXIT_UNAVAIL;
	}
	left_ms = cli->timeout_ms - ms_since(&t0);
	if (left_ms <= 0) {
		err = XSELL_EUNAVAIL; /* connected just too late: not sent */
	} else {
		err = xsell_client_call_within(
		    c, sb->data, sb->size, (int) left_ms, &reply, &reply_len);
	}
	xsell_client_close(c);
	if (err == XSELL_EUNAVAIL) {
		fprintf(stderr, "xsell: %s: not sent within %d ms\n", cli->url,
		    cli->timeout_ms);
		return EXIT_UNAVAIL;
	}
	if (err == XSELL_ENOREPLY) {
		fprintf(stderr,
		    "xsell: %s: sent, but no reply within %d ms (a write may "
		    "or may not have been applied)\n",
		    cli->url, cli->timeout_ms);
		return EXIT_UNAVAIL;
	}
	if (err != XSELL_OK) {
		fprintf(
		    stderr, "xsell: %s: %s\n", cli->url, xsell_strerror(err));
		return EXIT_REPLY;
	}

	msgpack_unpacked_init(&up);
	err = xsell_reply_unpack(reply, reply_len, &up);
	if (err != XSELL_OK) {
		fprintf(stderr, "xsell: malformed reply (%zu bytes): %s\n",
		    reply_len, xsell_strerror(err));
		rc = EXIT_REPLY;
		goto done;
	}
	if (cli->json) {
		if (xsell_json_write(stdout, &up.data, true) != XSELL_OK) {
			fprintf(stderr, "xsell: cannot write the reply\n");
			rc = EXIT_REPLY;
		}
	}
	err = xsell_reply_status(&up.data, &e);
	if (err == XSELL_EIO) {
		fprintf(stderr, "xsell: malformed reply: %s\n",
		    xsell_reply_get(&up.data, "ok") != NULL
		        ? "\"ok\" is not true or false"
		        : "no \"ok\" field");
		rc = EXIT_REPLY;
		goto done;
	}
	if (err != XSELL_OK) {
		print_error_reply(cli, &e, err);
		rc = EXIT_REPLY;
		goto done;
	}
	if (!cli->json && print != NULL) {
		print(&up.data);
	}

done:
	msgpack_unpacked_destroy(&up);
	xsell_client_free(reply);
	if (fflush(stdout) != 0 && rc == EXIT_OK_) {
		fprintf(stderr, "xsell: cannot write the output\n");
		rc = EXIT_REPLY;
	}
	return rc;
}

/* ==== fbt ==== */

/* The filter options every list command takes (proto/filter.md). */
/* clang-format off */
#define FILTER_OPTS                                                       \
	{ "--all-stock", ARG_NONE },                                      \
	{ "--exclude", ARG_ONE },                                         \
	{ "--category", ARG_MANY },                                       \
	{ "--exclude-category", ARG_MANY },                               \
	{ "--price-min", ARG_ONE },                                       \
	{ "--price-max", ARG_ONE },                                       \
	{ "--max-per-category", ARG_ONE }
/* clang-format on */

static const struct opt fbt_opts[] = {
	{ "-k", ARG_ONE },
	{ "--scorer", ARG_ONE },
	{ "--min-support", ARG_ONE },
	{ "--explain", ARG_NONE },
	FILTER_OPTS,
	{ NULL, ARG_NONE },
};

/* The filter options of every list command (proto/filter.md). */
#define FILTER_HELP                                                           \
	"Filter (which items may come back; the rules combine):\n"            \
	"  --all-stock        include items that are out of stock "           \
	"(default:\n"                                                         \
	"                     only items in stock)\n"                         \
	"  --exclude ID,...   never answer these items (comma-separated)\n"   \
	"  --category NAME    only items of category NAME; repeat for "       \
	"several\n"                                                           \
	"                     (an item in any of them passes; at most 100)\n" \
	"  --exclude-category NAME\n"                                         \
	"                     never items of category NAME; repeatable\n"     \
	"  --price-min X      only items priced X or more (X >= 0); an "      \
	"item\n"                                                              \
	"                     without a price never passes a price bound\n"   \
	"  --price-max X      only items priced X or less\n"                  \
	"  --max-per-category N\n"                                            \
	"                     at most N items (1..500) of one category; "     \
	"items\n"                                                             \
	"                     without a category count as one group\n"

static const char fbt_help[] =
    "Usage: xsell fbt ITEM... [-k N] [--scorer NAME] [--min-support N]\n"
    "                 [--explain] [FILTER...]\n"
    "\n"
    "Frequently bought together: the items most often bought with all of\n"
    "ITEM... (a product page gives one item, a cart several).\n"
    "\n"
    "Options:\n"
    "  -k N               answers wanted, 1..500 (default: server, 10)\n"
    "  --scorer NAME      count, confidence, lift, cosine, jaccard, llr,\n"
    "                     amazon or tempered\n"
    "                     (default: the server's setting)\n"
    "  --min-support N    ignore pairs bought together fewer than N times\n"
    "                     (default: the server's setting)\n"
    "  --explain          also show how often each pair was bought "
    "together\n"
    "\n" FILTER_HELP "\n"
    "Prints rank, item and score, then 'unknown: ...' for query items the\n"
    "server has never seen.\n"
    "\n"
    "Examples:\n"
    "  xsell fbt milk bread -k 5 --scorer lift --explain\n"
    "  xsell fbt milk --category dairy --category 'bread, rolls' \\\n"
    "      --price-max 20 --max-per-category 2\n";

/* The columns of a list answer: each text column is shown when any
 * answer has its key; parts (similar) as three number columns. */
struct list_cols {
	bool explain; /* "count" */
	bool parts;
	int  w_item;
	int  w[3]; /* via, source, because: 0 when absent */
};

static const char *const list_text_keys[3] = { "via", "source", "because" };

static void
list_cols_measure(const msgpack_object *items, struct list_cols *c)
{
	memset(c, 0, sizeof(*c));
	c->w_item = 4;
	for (uint32_t i = 0; i < items->via.array.size; i++) {
		const msgpack_object *e  = &items->via.array.ptr[i];
		const msgpack_object *id = xsell_reply_get(e, "item");
		int                   w  = id != NULL ? value_width(id) : 1;

		c->w_item = w > c->w_item ? w : c->w_item;
		c->explain |= xsell_reply_get(e, "count") != NULL;
		c->parts |= xsell_reply_get(e, "parts") != NULL;
		for (int k = 0; k < 3; k++) {
			const msgpack_object *v =
			    xsell_reply_get(e, list_text_keys[k]);
			int min = (int) strlen(list_text_keys[k]);

			if (v == NULL) {
				continue;
			}
			w       = value_width(v);
			w       = w > min ? w : min;
			c->w[k] = w > c->w[k] ? w : c->w[k];
		}
	}
}

/* The last text column shown: it is not padded (no trailing spaces). */
static int
list_last_text(const struct list_cols *c)
{
	int last = -1;

	for (int k = 0; k < 3; k++) {
		if (c->w[k] != 0) {
			last = k;
		}
	}
	return c->parts ? -1 : last;
}

static void
list_header(const struct list_cols *c)
{
	int last = list_last_text(c);

	printf("rank  item");
	pad(stdout, c->w_item - 4);
	printf("  %12s%s", "score", c->explain ? "   count" : "");
	for (int k = 0; k < 3; k++) {
		if (c->w[k] != 0) {
			printf("  %s", list_text_keys[k]);
			if (k != last) {
				pad(stdout,
				    c->w[k] - (int) strlen(list_text_keys[k]));
			}
		}
	}
	if (c->parts) {
		printf("  %10s  %10s  %10s", "order", "view", "cart");
	}
	fputc('\n', stdout);
}

/* "  " and a number right-aligned in 'width' with 'prec' significant
 * digits (prec 0: a count, put_count), or "-" when it is not one. */
static void
list_number(const msgpack_object *o, int width, int prec)
{
	double x;

	if (prec == 0) {
		fputs("  ", stdout);
		put_count(o, width, "-");
	} else if (!xsell_reply_number(o, &x)) {
		printf("  %*s", width, "-");
	} else {
		printf("  %*.*g", width, prec, x);
	}
}

static void
list_row(const struct list_cols *c, unsigned rank, const msgpack_object *e)
{
	const msgpack_object *id    = xsell_reply_get(e, "item");
	const msgpack_object *parts = xsell_reply_get(e, "parts");
	int                   last  = list_last_text(c);
	int                   w     = 1;

	printf("%4u  ", rank);
	if (id != NULL) {
		w = put_value(stdout, id);
	} else {
		fputc('?', stdout);
	}
	pad(stdout, c->w_item - w);
	list_number(xsell_reply_get(e, "score"), 12, 6);
	if (c->explain) {
		list_number(xsell_reply_get(e, "count"), 6, 0);
	}
	for (int k = 0; k < 3; k++) {
		const msgpack_object *v =
		    xsell_reply_get(e, list_text_keys[k]);

		if (c->w[k] == 0 || (k == last && v == NULL)) {
			continue; /* no trailing spaces */
		}
		fputs("  ", stdout);
		w = v != NULL ? put_value(stdout, v) : 0;
		if (k != last) {
			pad(stdout, c->w[k] - w);
		}
	}
	if (c->parts) {
		static const char *const names[3] = { "order", "view",
			"cart" };

		for (int p = 0; p < 3; p++) {
			list_number(parts != NULL
			        ? xsell_reply_get(parts, names[p])
			        : NULL,
			    10, 4);
		}
	}
	fputc('\n', stdout);
}

/* A list answer (fbt, complements, similar, viewed_bought, trending,
 * picks): a table of rank, item, score and whatever the answers carry
 * (count, via, source, because, parts), then the unknown ids. */
static void
print_list(const msgpack_object *reply)
{
	const msgpack_object *items   = xsell_reply_get(reply, "items");
	const msgpack_object *unknown = xsell_reply_get(reply, "unknown");
	struct list_cols      cols;

	if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY ||
	    items->via.array.size == 0) {
		printf("no recommendations\n");
	} else {
		list_cols_measure(items, &cols);
		list_header(&cols);
		for (uint32_t i = 0; i < items->via.array.size; i++) {
			list_row(
			    &cols, (unsigned) i + 1, &items->via.array.ptr[i]);
		}
	}
	if (unknown != NULL && unknown->type == MSGPACK_OBJECT_ARRAY &&
	    unknown->via.array.size > 0) {
		printf("unknown:");
		for (uint32_t i = 0; i < unknown->via.array.size; i++) {
			fputs(i == 0 ? " " : ", ", stdout);
			put_value(stdout, &unknown->via.array.ptr[i]);
		}
		fputc('\n', stdout);
	}
}

/* Pack "a,b,c" as an array of strings; empty elements are an error. */
static bool
pack_id_list(
    const char *cmd, const char *what, const char *list, msgpack_packer *pk)
{
	uint32_t    n = 1;
	const char *p;

	for (p = list; *p != '\0'; p++) {
		if (*p == ',') {
			n++;
		}
	}
	/* Check all before packing anything. */
	p = list;
	for (uint32_t i = 0; i < n; i++) {
		size_t len = strcspn(p, ",");

		if (len == 0 || len > XSELL_ID_MAX) {
			usage_err(cmd,
			    "%s: ids must be 1..%d bytes, "
			    "comma-separated",
			    what, XSELL_ID_MAX);
			return false;
		}
		p += len + 1;
	}
	msgpack_pack_array(pk, n);
	p = list;
	for (uint32_t i = 0; i < n; i++) {
		size_t len = strcspn(p, ",");

		msgpack_pack_str(pk, len);
		msgpack_pack_str_body(pk, p, len);
		p += len + 1;
	}
	return true;
}

/* A beta for complements: a plain decimal number 0..2, as strict as
 * every other number (parse_double: no hex, no spaces). */
static bool
parse_beta(const char *s, double *out)
{
	double x;

	if (!parse_double(s, &x) || !(x >= 0 && x <= 2)) {
		return false;
	}
	*out = x;
	return true;
}

/* The filter options of a list command, checked (proto/filter.md). */
struct filter_opts {
	bool        all_stock;
	const char *exclude;
	int         n_cat, n_xcat; /* --category, --exclude-category */
	const char *min_s, *max_s, *per_cat_s;
	double      min, max;
	int64_t     per_cat;
};

/* Every value of repeatable option 'name' is a category name of
 * 1..XSELL_CATEGORY_MAX bytes, and there are at most
 * XSELL_FILTER_CATEGORIES_MAX of them. */
static bool
check_categories(const struct args *a, const char *name, int n)
{
	if (n > XSELL_FILTER_CATEGORIES_MAX) {
		usage_err(a->cmd, "%s: at most %d categories", name,
		    XSELL_FILTER_CATEGORIES_MAX);
		return false;
	}
	for (int i = 0; i < a->n_reps; i++) {
		size_t len = strlen(a->reps[i].val);

		if (strcmp(a->opts[a->reps[i].opt].name, name) == 0 &&
		    (len == 0 || len > XSELL_CATEGORY_MAX)) {
			usage_err(a->cmd, "%s: a category is 1..%d bytes",
			    name, XSELL_CATEGORY_MAX);
			return false;
		}
	}
	return true;
}

/* A price bound: a finite number >= 0. */
static bool
parse_price(const struct args *a, const char *name, const char *s, double *out)
{
	if (!parse_double(s, out) || *out < 0) {
		usage_err(
		    a->cmd, "%s: expected a number >= 0, got '%s'", name, s);
		return false;
	}
	return true;
}

static int
parse_filter_opts(const struct args *a, struct filter_opts *fo)
{
	memset(fo, 0, sizeof(*fo));
	fo->all_stock = opt_get(a, "--all-stock") != NULL;
	fo->exclude   = opt_get(a, "--exclude");
	fo->n_cat     = opt_count(a, "--category");
	fo->n_xcat    = opt_count(a, "--exclude-category");
	fo->min_s     = opt_get(a, "--price-min");
	fo->max_s     = opt_get(a, "--price-max");
	fo->per_cat_s = opt_get(a, "--max-per-category");
	if (!check_categories(a, "--category", fo->n_cat) ||
	    !check_categories(a, "--exclude-category", fo->n_xcat) ||
	    (fo->min_s != NULL &&
	        !parse_price(a, "--price-min", fo->min_s, &fo->min)) ||
	    (fo->max_s != NULL &&
	        !parse_price(a, "--price-max", fo->max_s, &fo->max))) {
		return EXIT_USAGE;
	}
	if (fo->min_s != NULL && fo->max_s != NULL && fo->min > fo->max) {
		usage_err(a->cmd, "--price-min must be <= --price-max");
		return EXIT_USAGE;
	}
	if (fo->per_cat_s != NULL &&
	    !parse_i64(fo->per_cat_s, 1, XSELL_K_MAX, &fo->per_cat)) {
		usage_err(a->cmd,
		    "--max-per-category: expected an integer 1..%d, got '%s'",
		    XSELL_K_MAX, fo->per_cat_s);
		return EXIT_USAGE;
	}
	return EXIT_OK_;
}

static uint32_t
filter_fields(const struct filter_opts *fo)
{
	return (uint32_t) fo->all_stock + (fo->exclude != NULL) +
	    (fo->n_cat > 0) + (fo->n_xcat > 0) + (fo->min_s != NULL) +
	    (fo->max_s != NULL) + (fo->per_cat_s != NULL);
}

/* Pack the values of repeatable option 'name' as an array of strings. */
static void
pack_reps(const struct args *a, const char *name, int n, msgpack_packer *pk)
{
	msgpack_pack_array(pk, (size_t) n);
	for (int i = 0; i < a->n_reps; i++) {
		if (strcmp(a->opts[a->reps[i].opt].name, name) == 0) {
			pack_str(pk, a->reps[i].val);
		}
	}
}

/* The "filter" entry (key and map), if any filter option was given. */
static bool
pack_filter(
    const struct args *a, const struct filter_opts *fo, msgpack_packer *pk)
{
	if (filter_fields(fo) == 0) {
		return true;
	}
	pack_key(pk, "filter");
	msgpack_pack_map(pk, filter_fields(fo));
	if (fo->all_stock) {
		pack_key(pk, "in_stock");
		msgpack_pack_false(pk);
	}
	if (fo->exclude != NULL) {
		pack_key(pk, "exclude");
		if (!pack_id_list(a->cmd, "--exclude", fo->exclude, pk)) {
			return false;
		}
	}
	if (fo->n_cat > 0) {
		pack_key(pk, "categories");
		pack_reps(a, "--category", fo->n_cat, pk);
	}
	if (fo->n_xcat > 0) {
		pack_key(pk, "exclude_categories");
		pack_reps(a, "--exclude-category", fo->n_xcat, pk);
	}
	if (fo->min_s != NULL) {
		pack_key(pk, "price_min");
		msgpack_pack_double(pk, fo->min);
	}
	if (fo->max_s != NULL) {
		pack_key(pk, "price_max");
		msgpack_pack_double(pk, fo->max);
	}
	if (fo->per_cat_s != NULL) {
		pack_key(pk, "max_per_category");
		msgpack_pack_int64(pk, fo->per_cat);
	}
	return true;
}

/* -k, --explain and the filter, which every list answer takes: read and
 * checked first, counted into the map's size, packed. */
struct list_tail {
	const char        *k_s;
	int64_t            k;
	bool               explain;
	struct filter_opts fo;
};

static bool
list_tail_check(const struct args *a, struct list_tail *t)
{
	t->k_s     = opt_get(a, "-k");
	t->k       = 0;
	t->explain = opt_get(a, "--explain") != NULL;
	if (t->k_s != NULL && !parse_i64(t->k_s, 1, XSELL_K_MAX, &t->k)) {
		usage_err(a->cmd, "-k: expected an integer 1..%d, got '%s'",
		    XSELL_K_MAX, t->k_s);
		return false;
	}
	return parse_filter_opts(a, &t->fo) == EXIT_OK_;
}

static uint32_t
list_tail_fields(const struct list_tail *t)
{
	return (uint32_t) (t->k_s != NULL) + t->explain +
	    (filter_fields(&t->fo) > 0);
}

static bool
list_tail_pack(
    const struct args *a, const struct list_tail *t, msgpack_packer *pk)
{
	if (t->k_s != NULL) {
		pack_key(pk, "k");
		msgpack_pack_int64(pk, t->k);
	}
	if (t->explain) {
		pack_key(pk, "explain");
		msgpack_pack_true(pk);
	}
	return pack_filter(a, &t->fo, pk);
}

/* A string option that must not be empty (the server checks the rest:
 * --scorer, --signal and --kind name their choices in its error). */
static bool
check_nonempty(const struct args *a, const char *opt, const char *v)
{
	if (v != NULL && v[0] == '\0') {
		usage_err(a->cmd, "%s must not be empty", opt);
		return false;
	}
	return true;
}

/* fbt, complements, similar and viewed-bought: ITEM... and the options
 * each takes (an option a command does not take is never set, so
 * opt_get gives NULL). */
static int
build_list(
    const struct args *a, msgpack_packer *pk, print_fn *printp, const char *op)
{
	const char      *beta_s    = opt_get(a, "--beta");
	bool             cross     = opt_get(a, "--cross-category") != NULL;
	double           beta      = 0;
	const char      *scorer    = opt_get(a, "--scorer");
	const char      *signal    = opt_get(a, "--signal");
	const char      *support_s = opt_get(a, "--min-support");
	int64_t          support   = 0;
	uint32_t         n_fields  = 2;
	struct list_tail tail;

	if (a->n_pos == 0) {
		usage_err(a->cmd, "give at least one ITEM");
		return EXIT_USAGE;
	}
	for (int i = 0; i < a->n_pos; i++) {
		if (!check_id(a->cmd, "ITEM", a->pos[i])) {
			return EXIT_USAGE;
		}
	}
	if (!list_tail_check(a, &tail)) {
		return EXIT_USAGE;
	}
	if (support_s != NULL &&
	    !parse_i64(support_s, 0, INT64_MAX, &support)) {
		usage_err(a->cmd,
		    "--min-support: expected an integer >= 0, got '%s'",
		    support_s);
		return EXIT_USAGE;
	}
	if (!check_nonempty(a, "--scorer", scorer) ||
	    !check_nonempty(a, "--signal", signal)) {
		return EXIT_USAGE;
	}
	if (beta_s != NULL && !parse_beta(beta_s, &beta)) {
		usage_err(a->cmd, "--beta: expected a number 0..2, got '%s'",
		    beta_s);
		return EXIT_USAGE;
	}
	n_fields += beta_s != NULL;
	n_fields += cross;
	n_fields += scorer != NULL;
	n_fields += signal != NULL;
	n_fields += support_s != NULL;
	n_fields += list_tail_fields(&tail);

	msgpack_pack_map(pk, n_fields);
	pack_key(pk, "op");
	pack_str(pk, op);
	if (beta_s != NULL) {
		pack_key(pk, "beta");
		msgpack_pack_double(pk, beta);
	}
	if (cross) {
		pack_key(pk, "cross_category");
		msgpack_pack_true(pk);
	}
	pack_key(pk, "items");
	msgpack_pack_array(pk, (size_t) a->n_pos);
	for (int i = 0; i < a->n_pos; i++) {
		pack_str(pk, a->pos[i]);
	}
	pack_opt_str(pk, "scorer", scorer);
	pack_opt_str(pk, "signal", signal);
	if (support_s != NULL) {
		pack_key(pk, "min_support");
		msgpack_pack_int64(pk, support);
	}
	if (!list_tail_pack(a, &tail, pk)) {
		return EXIT_USAGE;
	}
	*printp = print_list;
	return EXIT_OK_;
}

static int
build_fbt(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	return build_list(a, pk, printp, "fbt");
}

/* ==== complements ==== */

static const struct opt complements_opts[] = {
	{ "-k", ARG_ONE },
	{ "--beta", ARG_ONE },
	{ "--cross-category", ARG_NONE },
	{ "--min-support", ARG_ONE },
	{ "--explain", ARG_NONE },
	FILTER_OPTS,
	{ NULL, ARG_NONE },
};

static const char complements_help[] =
    "Usage: xsell complements ITEM... [-k N] [--beta B] [--cross-category]\n"
    "                 [--min-support N] [--explain] [FILTER...]\n"
    "\n"
    "Second-level complements: items two hops away over the basket graph\n"
    "(ITEM is bought with B, B with C: C comes back, via B), never items\n"
    "bought directly with ITEM. Each answer names its via-item.\n"
    "\n"
    "Options:\n"
    "  -k N               answers wanted, 1..500 (default: server, 10)\n"
    "  --beta B           popularity penalty 0..2: a path's score is\n"
    "                     divided by the item's basket count to the power\n"
    "                     B (default: the server's setting, 0.25)\n"
    "  --cross-category   only items of another category than ITEM's\n"
    "  --min-support N    ignore pairs bought together fewer than N times\n"
    "  --explain          also show the co-count of via-item and item\n"
    "\n" FILTER_HELP "\n"
    "Example:\n"
    "  xsell complements 22697 -k 5 --explain\n";

static int
build_complements(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	return build_list(a, pk, printp, "complements");
}

/* ==== similar ==== */

static const struct opt similar_opts[] = {
	{ "-k", ARG_ONE },
	{ "--signal", ARG_ONE },
	{ "--scorer", ARG_ONE },
	{ "--min-support", ARG_ONE },
	{ "--explain", ARG_NONE },
	FILTER_OPTS,
	{ NULL, ARG_NONE },
};

static const char similar_help[] =
    "Usage: xsell similar ITEM... [-k N] [--signal S] [--scorer NAME]\n"
    "                 [--min-support N] [--explain] [FILTER...]\n"
    "\n"
    "Items like ITEM... by behaviour: bought together, viewed in one\n"
    "session (30 minutes) and in one cart (7 days) by the same customers,\n"
    "each relation scored (jaccard by default) and summed.\n"
    "\n"
    "Options:\n"
    "  -k N               answers wanted, 1..500 (default: server, 10)\n"
    "  --signal S         all (default), order, view or cart: which\n"
    "                     relations count\n"
    "  --scorer NAME      count, confidence, lift, cosine, jaccard, llr,\n"
    "                     amazon or tempered\n"
    "                     (default: the server's, jaccard)\n"
    "  --min-support N    ignore pairs seen together fewer than N times\n"
    "  --explain          also show the co-count and the part of the "
    "score\n"
    "                     each relation gave (order, view, cart)\n"
    "\n" FILTER_HELP "\n"
    "Example:\n"
    "  xsell similar 22697 --signal view --explain\n";

static int
build_similar(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	return build_list(a, pk, printp, "similar");
}

/* ==== viewed-bought ==== */

static const struct opt viewed_bought_opts[] = {
	{ "-k", ARG_ONE },
	{ "--scorer", ARG_ONE },
	{ "--min-support", ARG_ONE },
	{ "--explain", ARG_NONE },
	FILTER_OPTS,
	{ NULL, ARG_NONE },
};

static const char viewed_bought_help[] =
    "Usage: xsell viewed-bought ITEM... [-k N] [--scorer NAME]\n"
    "                 [--min-support N] [--explain] [FILTER...]\n"
    "\n"
    "People who viewed ITEM... bought: the items ordered within 7 days\n"
    "after a view of ITEM by the same customer (the \"viewed_bought\" "
    "op).\n"
    "\n"
    "Options:\n"
    "  -k N               answers wanted, 1..500 (default: server, 10)\n"
    "  --scorer NAME      count, confidence, lift, cosine, jaccard, llr,\n"
    "                     amazon or tempered\n"
    "                     (default: the server's, confidence)\n"
    "  --min-support N    ignore pairs seen fewer than N times\n"
    "  --explain          also show how many orders followed a view\n"
    "\n" FILTER_HELP "\n"
    "Example:\n"
    "  xsell viewed-bought 22697 -k 5 --explain\n";

static int
build_viewed_bought(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	return build_list(a, pk, printp, "viewed_bought");
}

/* ==== trending ==== */

static const struct opt trending_opts[] = {
	{ "-k", ARG_ONE },
	{ "--half-life", ARG_ONE },
	{ "--explain", ARG_NONE },
	FILTER_OPTS,
	{ NULL, ARG_NONE },
};

static const char trending_help[] =
    "Usage: xsell trending [-k N] [--half-life DAYS] [--explain]\n"
    "                 [FILTER...]\n"
    "\n"
    "What sells now: orders (and views, at a tenth) per day, decayed by\n"
    "age as of the newest day the server has events for.\n"
    "\n"
    "Options:\n"
    "  -k N               answers wanted, 1..500 (default: server, 10)\n"
    "  --half-life DAYS   an order DAYS days old weighs half, > 0 and\n"
    "                     <= 3650 (default: the server's, 7)\n"
    "  --explain          also show the orders counted\n"
    "\n" FILTER_HELP "\n"
    "Example:\n"
    "  xsell trending --category bakery -k 5\n";

static int
build_trending(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	const char      *half_s = opt_get(a, "--half-life");
	double           half   = 0;
	struct list_tail tail;

	if (a->n_pos != 0) {
		usage_err(a->cmd, "takes no ITEM (did you mean --category?)");
		return EXIT_USAGE;
	}
	if (!list_tail_check(a, &tail)) {
		return EXIT_USAGE;
	}
	if (half_s != NULL &&
	    (!parse_double(half_s, &half) || !(half > 0) ||
	        half > XSELL_DAYS_MAX)) {
		usage_err(a->cmd,
		    "--half-life: expected days > 0 and <= %d, got '%s'",
		    XSELL_DAYS_MAX, half_s);
		return EXIT_USAGE;
	}
	msgpack_pack_map(pk, 1 + (half_s != NULL) + list_tail_fields(&tail));
	pack_key(pk, "op");
	pack_str(pk, "trending");
	if (half_s != NULL) {
		pack_key(pk, "half_life_days");
		msgpack_pack_double(pk, half);
	}
	if (!list_tail_pack(a, &tail, pk)) {
		return EXIT_USAGE;
	}
	*printp = print_list;
	return EXIT_OK_;
}

/* ==== picks ==== */

static const struct opt picks_opts[] = {
	{ "-k", ARG_ONE },
	{ "--kind", ARG_ONE },
	{ "--context", ARG_ONE },
	{ "--candidates", ARG_ONE },
	{ "--min-age", ARG_ONE },
	{ "--max-age", ARG_ONE },
	{ "--days", ARG_ONE },
	{ "--now", ARG_ONE },
	{ "--explain", ARG_NONE },
	FILTER_OPTS,
	{ NULL, ARG_NONE },
};

static const char picks_help[] =
    "Usage: xsell picks USER [--kind K] [-k N] [--context ITEM,...]\n"
    "                 [--candidates ITEM,...] [--min-age S] [--max-age S]\n"
    "                 [--days N] [--now TS] [--explain] [FILTER...]\n"
    "\n"
    "Personalised picks for USER, from their orders, carts, views and\n"
    "ratings. Kinds:\n"
    "  for_you         (default) neighbours of the user's history, "
    "filled\n"
    "                  with trending items; an unknown user gets "
    "trending\n"
    "  abandoned_cart  items in the open cart, added 1 hour to 14 days "
    "ago\n"
    "  back_in_stock   items viewed or carted while out of stock, back "
    "now\n"
    "  new_arrivals    items created lately, by the user's taste\n"
    "  buy_again       bought items whose usual rebuy interval has "
    "passed\n"
    "\n"
    "Options:\n"
    "  --kind K             one of the kinds above\n"
    "  -k N                 answers wanted, 1..500 (default: server, 10)\n"
    "  --context ITEM,...   for_you, new_arrivals: items on the page, "
    "weighed\n"
    "                       as fresh events (at most 100)\n"
    "  --candidates ITEM,...\n"
    "                       for_you: rank only these items (at most "
    "500)\n"
    "  --min-age S          abandoned_cart: added at least S seconds ago\n"
    "                       (default 3600)\n"
    "  --max-age S          abandoned_cart: added at most S seconds ago\n"
    "                       (default 1209600, 14 days)\n"
    "  --days N             back_in_stock, new_arrivals: look N days "
    "back,\n"
    "                       1..3650 (default 30)\n"
    "  --now TS             the time the picks are for, unix seconds\n"
    "                       (default: the server's clock)\n"
    "  --explain            also show the count and, for for_you, the\n"
    "                       history item that brought each answer\n"
    "\n"
    "Prints rank, item, score and source (history, trending, cart,\n"
    "back_in_stock, new_arrivals, bought).\n"
    "\n" FILTER_HELP "\n"
    "Examples:\n"
    "  xsell picks c-17 -k 5 --explain\n"
    "  xsell picks c-17 --kind abandoned_cart\n";

#define TS_MAX (((int64_t) 1 << 40) - 1) /* the wire's timestamps */

/* An optional integer option in lo..hi; false (after a message) if it
 * is given and is not one. */
static bool
opt_i64(const struct args *a, const char *opt, int64_t lo, int64_t hi,
    const char *what, int64_t *out)
{
	const char *s = opt_get(a, opt);

	if (s != NULL && !parse_i64(s, lo, hi, out)) {
		usage_err(a->cmd, "%s: expected %s %lld..%lld, got '%s'", opt,
		    what, (long long) lo, (long long) hi, s);
		return false;
	}
	return true;
}

static int
build_picks(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	const char *kind     = opt_get(a, "--kind");
	const char *ctx      = opt_get(a, "--context");
	const char *cands    = opt_get(a, "--candidates");
	const char *ints[4]  = { "--min-age", "--max-age", "--days", "--now" };
	const char *keys[4]  = { "min_age_s", "max_age_s", "days", "now" };
	int64_t     vals[4]  = { 0, 0, 0, 0 };
	uint32_t    n_fields = 2;
	struct list_tail tail;

	if (a->n_pos != 1) {
		usage_err(a->cmd, "give exactly one USER");
		return EXIT_USAGE;
	}
	if (!check_id(a->cmd, "USER", a->pos[0]) ||
	    !list_tail_check(a, &tail) || !check_nonempty(a, "--kind", kind) ||
	    !opt_i64(a, "--min-age", 0, TS_MAX, "seconds", &vals[0]) ||
	    !opt_i64(a, "--max-age", 0, TS_MAX, "seconds", &vals[1]) ||
	    !opt_i64(a, "--days", 1, XSELL_DAYS_MAX, "days", &vals[2]) ||
	    !opt_i64(a, "--now", 0, TS_MAX, "unix seconds", &vals[3])) {
		return EXIT_USAGE;
	}
	n_fields += (kind != NULL) + (ctx != NULL) + (cands != NULL);
	for (int i = 0; i < 4; i++) {
		n_fields += opt_get(a, ints[i]) != NULL;
	}
	n_fields += list_tail_fields(&tail);

	msgpack_pack_map(pk, n_fields);
	pack_key(pk, "op");
	pack_str(pk, "picks");
	pack_key(pk, "user");
	pack_str(pk, a->pos[0]);
	pack_opt_str(pk, "kind", kind);
	if (ctx != NULL) {
		pack_key(pk, "context");
		if (!pack_id_list(a->cmd, "--context", ctx, pk)) {
			return EXIT_USAGE;
		}
	}
	if (cands != NULL) {
		pack_key(pk, "candidates");
		if (!pack_id_list(a->cmd, "--candidates", cands, pk)) {
			return EXIT_USAGE;
		}
	}
	for (int i = 0; i < 4; i++) {
		if (opt_get(a, ints[i]) != NULL) {
			pack_key(pk, keys[i]);
			msgpack_pack_int64(pk, vals[i]);
		}
	}
	if (!list_tail_pack(a, &tail, pk)) {
		return EXIT_USAGE;
	}
	*printp = print_list;
	return EXIT_OK_;
}

/* ==== history ==== */

static const struct opt history_opts[] = {
	{ "--limit", ARG_ONE },
	{ NULL, ARG_NONE },
};

static const char history_help[] =
    "Usage: xsell history USER [--limit N]\n"
    "\n"
    "The newest events the server keeps for USER, newest first: orders\n"
    "(one line per item), views, cart changes and ratings.\n"
    "\n"
    "Options:\n"
    "  --limit N    at most N events, 1..1000 (default: server, 50)\n"
    "\n"
    "Prints time, type, item, and the rating or '(out of stock)' when\n"
    "the item was out of stock at the time.\n"
    "\n"
    "Example:\n"
    "  xsell history c-17 --limit 20\n";

/* "2024-07-03 09:04:00" for a unix time, or the number if out of range. */
static void
put_utc(int64_t ts)
{
	time_t    t = (time_t) ts;
	struct tm tm;
	char      buf[32];

	if (gmtime_r(&t, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) > 0) {
		fputs(buf, stdout);
	} else {
		printf("%19lld", (long long) ts);
	}
}

static void
print_history(const msgpack_object *reply)
{
	const msgpack_object *user   = xsell_reply_get(reply, "user");
	const msgpack_object *known  = xsell_reply_get(reply, "known");
	const msgpack_object *events = xsell_reply_get(reply, "events");

	if (known != NULL && known->type == MSGPACK_OBJECT_BOOLEAN &&
	    !known->via.boolean) {
		fputs("unknown user ", stdout);
		if (user != NULL) {
			put_value(stdout, user);
		}
		fputs(": no history\n", stdout);
		return;
	}
	if (events == NULL || events->type != MSGPACK_OBJECT_ARRAY ||
	    events->via.array.size == 0) {
		printf("no events\n");
		return;
	}
	printf("%-19s  %-11s  item\n", "time (UTC)", "type");
	for (uint32_t i = 0; i < events->via.array.size; i++) {
		const msgpack_object *e    = &events->via.array.ptr[i];
		const msgpack_object *type = xsell_reply_get(e, "type");
		const msgpack_object *item = xsell_reply_get(e, "item");
		const msgpack_object *r    = xsell_reply_get(e, "rating");
		const msgpack_object *oos = xsell_reply_get(e, "out_of_stock");
		int64_t               ts  = 0;
		int                   w   = 0;

		if (reply_i64(xsell_reply_get(e, "ts"), &ts)) {
			put_utc(ts);
		} else {
			printf("%19s", "-");
		}
		fputs("  ", stdout);
		if (type != NULL) {
			w = put_value(stdout, type);
		}
		pad(stdout, 11 - w);
		fputs("  ", stdout);
		if (item != NULL) {
			put_value(stdout, item);
		}
		if (r != NULL) {
			fputs("  rating ", stdout);
			put_value(stdout, r);
		}
		if (oos != NULL && oos->type == MSGPACK_OBJECT_BOOLEAN &&
		    oos->via.boolean) {
			fputs("  (out of stock)", stdout);
		}
		fputc('\n', stdout);
	}
}

static int
build_history(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	const char *limit_s = opt_get(a, "--limit");
	int64_t     limit   = 0;

	if (a->n_pos != 1) {
		usage_err(a->cmd, "give exactly one USER");
		return EXIT_USAGE;
	}
	if (!check_id(a->cmd, "USER", a->pos[0]) ||
	    !opt_i64(a, "--limit", 1, XSELL_HISTORY_LIMIT_MAX, "an integer",
	        &limit)) {
		return EXIT_USAGE;
	}
	msgpack_pack_map(pk, 2 + (limit_s != NULL));
	pack_key(pk, "op");
	pack_str(pk, "history");
	pack_key(pk, "user");
	pack_str(pk, a->pos[0]);
	if (limit_s != NULL) {
		pack_key(pk, "limit");
		msgpack_pack_int64(pk, limit);
	}
	*printp = print_history;
	return EXIT_OK_;
}

/* ==== forget ==== */

static const struct opt forget_opts[] = {
	{ NULL, ARG_NONE },
};

static const char forget_help[] =
    "Usage: xsell forget USER\n"
    "\n"
    "Forget USER (the \"forget_user\" op): every count their events "
    "added\n"
    "is taken out, and their orders, history and cart are deleted, as "
    "if\n"
    "they had never been there. A user the server does not know is not\n"
    "an error. Writes go to the server's admin endpoint: --url, else\n"
    "$XSELL_ADMIN_URL, else " XSELL_CLIENT_ADMIN_URL_DEFAULT ".\n"
    "\n"
    "Prints 'forgotten: N events, M orders' or 'unknown user: nothing\n"
    "to forget'.\n"
    "\n"
    "Example:\n"
    "  xsell --url ipc:///tmp/xsell-admin.sock forget c-17\n";

static void
print_forget(const msgpack_object *reply)
{
	const msgpack_object *f = xsell_reply_get(reply, "forgotten");

	if (f == NULL || f->type != MSGPACK_OBJECT_BOOLEAN ||
	    !f->via.boolean) {
		printf("unknown user: nothing to forget\n");
		return;
	}
	fputs("forgotten: ", stdout);
	put_count(xsell_reply_get(reply, "events"), 0, "0");
	fputs(" events, ", stdout);
	put_count(xsell_reply_get(reply, "orders"), 0, "0");
	fputs(" orders\n", stdout);
}

static int
build_forget(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	if (a->n_pos != 1) {
		usage_err(a->cmd, "give exactly one USER");
		return EXIT_USAGE;
	}
	if (!check_id(a->cmd, "USER", a->pos[0])) {
		return EXIT_USAGE;
	}
	msgpack_pack_map(pk, 2);
	pack_key(pk, "op");
	pack_str(pk, "forget_user");
	pack_key(pk, "user");
	pack_str(pk, a->pos[0]);
	*printp = print_forget;
	return EXIT_OK_;
}

/* ==== stats ==== */

static const struct opt stats_opts[] = {
	{ NULL, ARG_NONE },
};

static const char stats_help[] =
    "Usage: xsell stats\n"
    "\n"
    "Show the server's version, uptime, what the store holds (items,\n"
    "users, orders, events, baskets, categories), how full the store is\n"
    "and the requests and errors per op since start.\n"
    "\n"
    "Example:\n"
    "  xsell --url ipc:///run/xsell/read.sock stats\n";

static void
print_bytes(double b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int                      u       = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	if (u == 0) {
		printf(" (%.0f B)", b);
	} else {
		printf(" (%.1f %s)", b, units[u]);
	}
}

static bool
key_is(const msgpack_object *k, const char *name)
{
	size_t len = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
	    memcmp(k->via.str.ptr, name, len) == 0;
}

/* How deep a section's maps are shown (the section is level 1); a map
 * deeper than that is "...". A bound, since a reply may nest as deep as
 * msgpack lets it. */
#define SECTION_DEPTH_MAX 4

/* One "key   value" line per entry of map 'm', indented two columns
 * per level of 'depth'; an entry that is a map is its key alone on a
 * line, then its own entries one level deeper. Keys end, and values are
 * right-aligned, in the same columns at every level. */
static void
print_entries(const msgpack_object *m, int depth)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		const msgpack_object *v = &m->via.map.ptr[i].val;
		double                n;
		int                   w;

		pad(stdout, 2 * depth);
		w = put_value(stdout, k);
		if (v->type == MSGPACK_OBJECT_MAP &&
		    depth < SECTION_DEPTH_MAX) {
			fputc('\n', stdout);
			print_entries(v, depth + 1);
			continue;
		}
		pad(stdout, 20 - 2 * depth - w);
		/* Values right-aligned in 14 columns, if they fit. */
		w = value_width(v);
		pad(stdout, w < 14 ? 14 - w : 2);
		put_value(stdout, v);
		if (k->type == MSGPACK_OBJECT_STR &&
		    xsell_reply_number(v, &n) && n >= 1024 &&
		    ((k->via.str.size >= 5 &&
		         memcmp(k->via.str.ptr + k->via.str.size - 5, "_size",
		             5) == 0) ||
		        (k->via.str.size >= 6 &&
		            memcmp(k->via.str.ptr + k->via.str.size - 6,
		                "_bytes", 6) == 0))) {
			print_bytes(n);
		}
		if (key_is(k, "map_used") && xsell_reply_number(v, &n)) {
			printf(" (%.2f%% of map_size)", n * 100);
		}
		fputc('\n', stdout);
	}
}

/* The line 'title' (the server's name of the section: escaped, whole),
 * then the entries of map 'm'. */
static void
print_section(const char *title, size_t title_len, const msgpack_object *m)
{
	if (m == NULL || m->type != MSGPACK_OBJECT_MAP) {
		return;
	}
	put_text(stdout, title, title_len);
	fputc('\n', stdout);
	print_entries(m, 1);
}

static void
print_requests(const msgpack_object *reqs)
{
	if (reqs == NULL || reqs->type != MSGPACK_OBJECT_MAP) {
		return;
	}
	printf("%-20s%14s  %8s\n", "requests", "requests", "errors");
	for (uint32_t i = 0; i < reqs->via.map.size; i++) {
		const msgpack_object *k = &reqs->via.map.ptr[i].key;
		const msgpack_object *v = &reqs->via.map.ptr[i].val;
		int                   w;

		fputs("  ", stdout);
		w = put_value(stdout, k);
		pad(stdout, 18 - w);
		put_count(xsell_reply_get(v, "requests"), 14, "0");
		fputs("  ", stdout);
		put_count(xsell_reply_get(v, "errors"), 8, "0");
		fputc('\n', stdout);
	}
}

static void
print_stats(const msgpack_object *reply)
{
	const msgpack_object *version = xsell_reply_get(reply, "version");
	int64_t               up;

	printf("%-20s", "version");
	if (version != NULL) {
		put_value(stdout, version);
	}
	fputc('\n', stdout);
	if (reply_i64(xsell_reply_get(reply, "uptime_s"), &up)) {
		uint64_t s = up > 0 ? (uint64_t) up : 0;

		printf("%-20s", "uptime");
		if (s >= 86400) {
			printf("%llud ", (unsigned long long) (s / 86400));
		}
		if (s >= 3600) {
			printf("%lluh ", (unsigned long long) (s / 3600 % 24));
		}
		if (s >= 60) {
			printf("%llum ", (unsigned long long) (s / 60 % 60));
		}
		printf("%llus\n", (unsigned long long) (s % 60));
	}
	/* The known sections in a fixed order, then whatever else a newer
	 * server sends ("settings", ...), in its order. */
	print_section("counts", 6, xsell_reply_get(reply, "counts"));
	print_section("store", 5, xsell_reply_get(reply, "store"));
	print_requests(xsell_reply_get(reply, "requests"));
	for (uint32_t i = 0; i < reply->via.map.size; i++) {
		const msgpack_object *k       = &reply->via.map.ptr[i].key;
		const msgpack_object *v       = &reply->via.map.ptr[i].val;
		static const char    *known[] = { "ok", "id", "version",
			   "uptime_s", "counts", "store", "requests" };
		bool                  skip    = k->type != MSGPACK_OBJECT_STR;
		int                   w;

		for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++) {
			skip = skip || key_is(k, known[j]);
		}
		if (skip) {
			continue;
		}
		if (v->type == MSGPACK_OBJECT_MAP) {
			print_section(k->via.str.ptr, k->via.str.size, v);
			continue;
		}
		w = put_value(stdout, k);
		pad(stdout, w < 20 ? 20 - w : 1);
		put_value(stdout, v);
		fputc('\n', stdout);
	}
}

static int
build_stats(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	if (a->n_pos != 0) {
		usage_err(a->cmd, "takes no arguments");
		return EXIT_USAGE;
	}
	msgpack_pack_map(pk, 1);
	pack_key(pk, "op");
	pack_str(pk, "stats");
	*printp = print_stats;
	return EXIT_OK_;
}

/* ==== event ==== */

static const struct opt event_opts[] = {
	{ "--user", ARG_ONE },
	{ "--ts", ARG_ONE },
	{ "--batch", ARG_ONE },
	{ NULL, ARG_NONE },
};

static const char event_help[] =
    "Usage: xsell event order ORDER_ID ITEM[:QTY[:PRICE]]... [--user U]\n"
    "       xsell event view|cart_add|cart_remove USER ITEM\n"
    "       xsell event rating USER ITEM RATING\n"
    "  all forms also take [--ts TS] [--batch ID]\n"
    "\n"
    "Record one event. Writes go to the server's admin endpoint (read\n"
    "endpoints refuse them with 'forbidden'): --url, else\n"
    "$XSELL_ADMIN_URL, else " XSELL_CLIENT_ADMIN_URL_DEFAULT ".\n"
    "\n"
    "  order        an order with its lines. QTY is a number (default:\n"
    "               none, which the server counts as 1; 0 or less marks\n"
    "               a returned line), PRICE a number >= 0 (default:\n"
    "               none). The item id is everything before the first\n"
    "               ':', so ids that contain ':' cannot be given here;\n"
    "               use xsell-load. An order id the server has seen\n"
    "               before is a duplicate and changes nothing.\n"
    "  view, cart_add, cart_remove\n"
    "               USER looked at, or changed the cart with, ITEM\n"
    "  rating       USER rated ITEM RATING stars, an integer 1..5\n"
    "\n"
    "Options:\n"
    "  --user U     the customer of an order (default: a guest order)\n"
    "  --ts TS      event time, unix seconds (default: the server's "
    "clock)\n"
    "  --batch ID   batch id; the server applies a batch id only once,\n"
    "               so a retried command is not counted twice\n"
    "               (default: none)\n"
    "\n"
    "Prints 'applied N, duplicates D'.\n"
    "\n"
    "Examples:\n"
    "  xsell event order o-1001 milk bread:2 jam:1:3.49 tea::2.5 --user "
    "u42\n"
    "  xsell event view u42 jam --batch web-7f3a\n"
    "  xsell event rating u42 jam 5 --ts 1700000000\n";

static void
print_applied(const msgpack_object *reply)
{
	const msgpack_object *dup = xsell_reply_get(reply, "duplicates");
	double                n;

	fputs("applied ", stdout);
	put_count(xsell_reply_get(reply, "applied"), 0, "0");
	if (xsell_reply_number(dup, &n)) {
		fputs(", duplicates ", stdout);
		put_count(dup, 0, "0");
	}
	fputc('\n', stdout);
}

/* One order line "ITEM[:QTY[:PRICE]]", checked and split in place. */
struct line {
	const char *item;
	size_t      item_len;
	bool        has_qty;
	bool        qty_is_int; /* 'qty' holds it; else 'qty_real' */
	int64_t     qty;
	double      qty_real;
	bool        has_price;
	double      price;
};

static bool
parse_line(const char *cmd, const char *s, struct line *l)
{
	const char *c1 = strchr(s, ':');
	char        num[64];

	memset(l, 0, sizeof(*l));
	l->item     = s;
	l->item_len = c1 != NULL ? (size_t) (c1 - s) : strlen(s);
	if (l->item_len == 0 || l->item_len > XSELL_ID_MAX) {
		usage_err(cmd, "'%s': the item id must be 1..%d bytes", s,
		    XSELL_ID_MAX);
		return false;
	}
	if (c1 == NULL) {
		return true;
	}
	{
		const char *c2 = strchr(c1 + 1, ':');
		size_t      len =
                    c2 != NULL ? (size_t) (c2 - c1 - 1) : strlen(c1 + 1);

		if (len >= sizeof(num)) {
			usage_err(cmd, "'%s': QTY must be a number", s);
			return false;
		}
		memcpy(num, c1 + 1, len);
		num[len] = '\0';
		/* "ITEM::PRICE" gives a price without a quantity. */
		if (len > 0 || c2 == NULL) {
			if (parse_i64(num, INT64_MIN, INT64_MAX, &l->qty)) {
				l->qty_is_int = true;
			} else if (!parse_double(num, &l->qty_real)) {
				usage_err(
				    cmd, "'%s': QTY must be a number", s);
				return false;
			}
			l->has_qty = true;
		}
		if (c2 != NULL) {
			if (!parse_double(c2 + 1, &l->price) || l->price < 0) {
				usage_err(cmd,
				    "'%s': PRICE must be a number >= 0", s);
				return false;
			}
			l->has_price = true;
		}
	}
	return true;
}

static int
build_event(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	const char  *user  = opt_get(a, "--user");
	const char  *ts_s  = opt_get(a, "--ts");
	const char  *batch = opt_get(a, "--batch");
	const char  *type;
	int64_t      ts     = 0;
	int64_t      rating = 0;
	uint32_t     n_fields;
	struct line *lines = NULL;
	int          n_lines;

	if (a->n_pos == 0) {
		usage_err(a->cmd,
		    "give an event type: order, view, cart_add, "
		    "cart_remove or rating");
		return EXIT_USAGE;
	}
	type = a->pos[0];
	if (ts_s != NULL && !parse_i64(ts_s, INT64_MIN, INT64_MAX, &ts)) {
		usage_err(
		    a->cmd, "--ts: expected unix seconds, got '%s'", ts_s);
		return EXIT_USAGE;
	}
	if (batch != NULL && !check_id(a->cmd, "--batch", batch)) {
		return EXIT_USAGE;
	}
	if (strcmp(type, "order") == 0) {
		if (a->n_pos < 3) {
			usage_err(a->cmd,
			    "order: give ORDER_ID and at least "
			    "one ITEM");
			return EXIT_USAGE;
		}
		if (!check_id(a->cmd, "ORDER_ID", a->pos[1]) ||
		    (user != NULL && !check_id(a->cmd, "--user", user))) {
			return EXIT_USAGE;
		}
		n_lines = a->n_pos - 2;
		lines   = calloc((size_t) n_lines, sizeof(*lines));
		if (lines == NULL) {
			fprintf(stderr, "xsell: out of memory\n");
			return EXIT_REPLY;
		}
		for (int i = 0; i < n_lines; i++) {
			if (!parse_line(a->cmd, a->pos[2 + i], &lines[i])) {
				free(lines);
				return EXIT_USAGE;
			}
		}
	} else if (strcmp(type, "view") == 0 ||
	    strcmp(type, "cart_add") == 0 ||
	    strcmp(type, "cart_remove") == 0 || strcmp(type, "rating") == 0) {
		bool is_rating = type[0] == 'r';
		int  want      = is_rating ? 4 : 3;

		if (user != NULL) {
			usage_err(a->cmd,
			    "%s: USER is an argument, not --user", type);
			return EXIT_USAGE;
		}
		if (a->n_pos != want) {
			usage_err(a->cmd, "%s: expected USER ITEM%s", type,
			    is_rating ? " RATING" : "");
			return EXIT_USAGE;
		}
		if (!check_id(a->cmd, "USER", a->pos[1]) ||
		    !check_id(a->cmd, "ITEM", a->pos[2])) {
			return EXIT_USAGE;
		}
		if (is_rating && !parse_i64(a->pos[3], 1, 5, &rating)) {
			usage_err(a->cmd,
			    "rating: RATING must be an integer 1..5, got '%s'",
			    a->pos[3]);
			return EXIT_USAGE;
		}
	} else {
		usage_err(a->cmd, "unknown event type '%s'", type);
		return EXIT_USAGE;
	}

	msgpack_pack_map(pk, batch != NULL ? 3 : 2);
	pack_key(pk, "op");
	pack_str(pk, "event");
	pack_opt_str(pk, "batch", batch);
	pack_key(pk, "events");
	msgpack_pack_array(pk, 1);
	if (lines != NULL) {
		n_fields = 3 + (user != NULL) + (ts_s != NULL);
		msgpack_pack_map(pk, n_fields);
		pack_key(pk, "type");
		pack_str(pk, "order");
		pack_key(pk, "order");
		pack_str(pk, a->pos[1]);
		pack_opt_str(pk, "user", user);
		if (ts_s != NULL) {
			pack_key(pk, "ts");
			msgpack_pack_int64(pk, ts);
		}
		pack_key(pk, "items");
		msgpack_pack_array(pk, (size_t) n_lines);
		for (int i = 0; i < n_lines; i++) {
			const struct line *l = &lines[i];

			if (!l->has_qty && !l->has_price) {
				msgpack_pack_str(pk, l->item_len);
				msgpack_pack_str_body(
				    pk, l->item, l->item_len);
				continue;
			}
			msgpack_pack_map(pk, 1 + l->has_qty + l->has_price);
			pack_key(pk, "item");
			msgpack_pack_str(pk, l->item_len);
			msgpack_pack_str_body(pk, l->item, l->item_len);
			if (l->has_qty) {
				pack_key(pk, "qty");
				if (l->qty_is_int) {
					msgpack_pack_int64(pk, l->qty);
				} else {
					msgpack_pack_double(pk, l->qty_real);
				}
			}
			if (l->has_price) {
				pack_key(pk, "price");
				msgpack_pack_double(pk, l->price);
			}
		}
		free(lines);
	} else {
		bool is_rating = type[0] == 'r';

		n_fields = 3 + is_rating + (ts_s != NULL);
		msgpack_pack_map(pk, n_fields);
		pack_key(pk, "type");
		pack_str(pk, type);
		pack_key(pk, "user");
		pack_str(pk, a->pos[1]);
		pack_key(pk, "item");
		pack_str(pk, a->pos[2]);
		if (is_rating) {
			pack_key(pk, "rating");
			msgpack_pack_int64(pk, rating);
		}
		if (ts_s != NULL) {
			pack_key(pk, "ts");
			msgpack_pack_int64(pk, ts);
		}
	}
	*printp = print_applied;
	return EXIT_OK_;
}

/* ==== item ==== */

static const struct opt item_opts[] = {
	{ "--category", ARG_ONE },
	{ "--price", ARG_ONE },
	{ "--in-stock", ARG_ONE },
	{ "--created", ARG_ONE },
	{ NULL, ARG_NONE },
};

static const char item_help[] =
    "Usage: xsell item ITEM [--category C] [--price X] [--in-stock "
    "yes|no]\n"
    "                  [--created TS]\n"
    "\n"
    "Create or update the catalogue record of ITEM (the \"items\" op).\n"
    "Fields not given are left to the server (unchanged, or its "
    "default).\n"
    "Writes go to the server's admin endpoint (read endpoints refuse\n"
    "them with 'forbidden'): --url, else $XSELL_ADMIN_URL, "
    "else\n" XSELL_CLIENT_ADMIN_URL_DEFAULT ".\n"
    "\n"
    "Options:\n"
    "  --category C        category name (an item has one: give it once)\n"
    "  --price X           price, a number >= 0\n"
    "  --in-stock yes|no   whether the item can be recommended by\n"
    "                      default (also true|false)\n"
    "  --created TS        when the item was added, unix seconds\n"
    "\n"
    "Prints 'applied N'.\n"
    "\n"
    "Example:\n"
    "  xsell --url ipc:///tmp/xsell-admin.sock item jam --category "
    "spreads \\\n"
    "      --price 3.49 --in-stock yes\n";

static int
build_item(const struct args *a, msgpack_packer *pk, print_fn *printp)
{
	const char *category  = opt_get(a, "--category");
	const char *price_s   = opt_get(a, "--price");
	const char *stock_s   = opt_get(a, "--in-stock");
	const char *created_s = opt_get(a, "--created");
	double      price     = 0;
	bool        in_stock  = false;
	int64_t     created   = 0;

	if (a->n_pos != 1) {
		usage_err(a->cmd, "give exactly one ITEM");
		return EXIT_USAGE;
	}
	if (!check_id(a->cmd, "ITEM", a->pos[0])) {
		return EXIT_USAGE;
	}
	if (category != NULL &&
	    (category[0] == '\0' || strlen(category) > XSELL_CATEGORY_MAX)) {
		usage_err(a->cmd, "--category must be 1..%d bytes",
		    XSELL_CATEGORY_MAX);
		return EXIT_USAGE;
	}
	if (price_s != NULL && (!parse_double(price_s, &price) || price < 0)) {
		usage_err(a->cmd, "--price: expected a number >= 0, got '%s'",
		    price_s);
		return EXIT_USAGE;
	}
	if (stock_s != NULL && !parse_bool(stock_s, &in_stock)) {
		usage_err(a->cmd, "--in-stock: expected yes or no, got '%s'",
		    stock_s);
		return EXIT_USAGE;
	}
	if (created_s != NULL &&
	    !parse_i64(created_s, INT64_MIN, INT64_MAX, &created)) {
		usage_err(a->cmd, "--created: expected unix seconds, got '%s'",
		    created_s);
		return EXIT_USAGE;
	}

	msgpack_pack_map(pk, 2);
	pack_key(pk, "op");
	pack_str(pk, "items");
	pack_key(pk, "items");
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk,
	    1 + (category != NULL) + (price_s != NULL) + (stock_s != NULL) +
	        (created_s != NULL));
	pack_key(pk, "item");
	pack_str(pk, a->pos[0]);
	pack_opt_str(pk, "category", category);
	if (price_s != NULL) {
		pack_key(pk, "price");
		msgpack_pack_double(pk, price);
	}
	if (stock_s != NULL) {
		pack_key(pk, "in_stock");
		if (in_stock) {
			msgpack_pack_true(pk);
		} else {
			msgpack_pack_false(pk);
		}
	}
	if (created_s != NULL) {
		pack_key(pk, "created");
		msgpack_pack_int64(pk, created);
	}
	*printp = print_applied;
	return EXIT_OK_;
}

/* ==== The table ==== */

static const struct command commands[] = {
	{ "fbt", false, "items frequently bought together with ITEM...",
	    fbt_opts, fbt_help, build_fbt },
	{ "complements", false,
	    "second-level complements of ITEM..., with via-items",
	    complements_opts, complements_help, build_complements },
	{ "stats", false, "server version, counts, store use, requests",
	    stats_opts, stats_help, build_stats },
	{ "event", true, "record an order, view, cart change or rating",
	    event_opts, event_help, build_event },
	{ "item", true, "create or update an item's catalogue record",
	    item_opts, item_help, build_item },
	{ "similar", false, "items like ITEM... by orders, views and carts",
	    similar_opts, similar_help, build_similar },
	{ "viewed-bought", false,
	    "what people who viewed ITEM... bought within 7 days",
	    viewed_bought_opts, viewed_bought_help, build_viewed_bought },
	{ "trending", false, "time-decayed popularity, or in one category",
	    trending_opts, trending_help, build_trending },
	{ "picks", false,
	    "personalised picks for USER (for you, abandoned cart, ...)",
	    picks_opts, picks_help, build_picks },
	{ "history", false, "the newest events kept for USER", history_opts,
	    history_help, build_history },
	{ "forget", true, "forget USER and everything their events added",
	    forget_opts, forget_help, build_forget },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

static void
main_help(FILE *out)
{
	fputs("Usage: xsell [--url URL] [--timeout MS] [--json] [--tls-* ...] "
	      "COMMAND [ARGS...]\n"
	      "\n"
	      "Command-line client of xselld, the xsell recommendation "
	      "server.\n"
	      "\n"
	      "Commands:\n",
	    out);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "  %-14s %s\n", commands[i].name,
		    commands[i].summary);
	}
	fputs(
	    "  help CMD       same as 'xsell CMD --help'\n"
	    "\n"
	    "Options (also accepted after COMMAND):\n"
	    "  --url URL     server endpoint. Reads default to $XSELL_URL, "
	    "else\n"
	    "                " XSELL_CLIENT_URL_DEFAULT
	    "; writes (event, item, "
	    "forget)\n"
	    "                must go to the server's admin endpoint and "
	    "default to\n"
	    "                $XSELL_ADMIN_URL, "
	    "else " XSELL_CLIENT_ADMIN_URL_DEFAULT ".\n"
	    "  --timeout MS  give up after MS milliseconds, 1..3600000\n"
	    "                (default 5000)\n"
	    "  --json        print the whole reply as JSON (pretty-printed)\n"
	    "  --tls-ca FILE     for a tls+tcp:// URL (required there): PEM\n"
	    "                CA(s) the server's certificate must chain to\n"
	    "  --tls-cert FILE   PEM client certificate; xselld requires\n"
	    "                one signed by its --tls-ca\n"
	    "  --tls-key FILE    its unencrypted PEM key\n"
	    "  --tls-server-name NAME  name the server's certificate must\n"
	    "                carry (default: the URL's host; names are\n"
	    "                checked, not IP addresses)\n"
	    "  -h, --help    this text; 'xsell COMMAND --help' for a "
	    "command\n"
	    "  --version     print the client version\n"
	    "\n"
	    "Exit status: 0 ok, 1 error reply (or an unreadable reply), 2 "
	    "usage\n"
	    "error, 3 cannot connect or no reply within the timeout.\n"
	    "\n"
	    "Examples:\n"
	    "  xsell fbt 22697 -k 5 --explain\n"
	    "  xsell picks c-17 --kind abandoned_cart\n"
	    "  xsell --json stats\n"
	    "  xsell --url ipc:///tmp/xsell-admin.sock event order o-1 "
	    "22697 22698\n",
	    out);
}

/* Where a command goes without --url: reads to $XSELL_URL, writes to
 * $XSELL_ADMIN_URL, else the ipc endpoints a local xselld is usually
 * given (README, xsell.1). */
static const char *
default_url(bool is_write)
{
	const char *env = getenv(is_write ? "XSELL_ADMIN_URL" : "XSELL_URL");

	if (env != NULL && env[0] != '\0') {
		return env;
	}
	return is_write ? XSELL_CLIENT_ADMIN_URL_DEFAULT
	                : XSELL_CLIENT_URL_DEFAULT;
}

/* The --tls-* options go with a tls+tcp:// URL, which needs --tls-ca;
 * --tls-cert and --tls-key come together. EXIT_OK_ or EXIT_USAGE. */
static int
tls_check(const struct cli *cli, const char *cmd)
{
	const struct xsell_client_tls *t = &cli->tls;
	bool is_tls = strncmp(cli->url, "tls+tcp", 7) == 0;
	bool given =
	    t->cert_file || t->key_file || t->ca_file || t->server_name;

	if (!is_tls && given) {
		usage_err(cmd,
		    "--tls-* options need a tls+tcp:// URL, not '%s'",
		    cli->url);
		return EXIT_USAGE;
	}
	if (is_tls && t->ca_file == NULL) {
		usage_err(cmd, "%s",
		    "a tls+tcp:// URL needs --tls-ca FILE (and, for xselld, "
		    "--tls-cert and --tls-key)");
		return EXIT_USAGE;
	}
	if ((t->cert_file == NULL) != (t->key_file == NULL)) {
		usage_err(cmd, "%s", "--tls-cert and --tls-key go together");
		return EXIT_USAGE;
	}
	return EXIT_OK_;
}

static int
run_command(struct cli *cli, const struct command *cmd, int argc, char **argv)
{
	struct args     a;
	msgpack_sbuffer sb;
	msgpack_packer  pk;
	print_fn        print = NULL;
	int             rc;

	rc = parse_args(cli, cmd, argc, argv, &a);
	if (rc != EXIT_OK_) {
		free(a.pos);
		free(a.reps);
		return rc < 0 ? EXIT_OK_ : rc;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = cmd->build(&a, &pk, &print);
	free(a.pos);
	free(a.reps);
	if (cli->url == NULL) {
		cli->url = default_url(cmd->is_write);
	}
	if (rc == EXIT_OK_) {
		rc = tls_check(cli, cmd->name);
	}
	if (rc == EXIT_OK_) {
		rc = send_request(cli, &sb, print);
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli            cli;
	const struct command *cmd;
	int                   i;

	memset(&cli, 0, sizeof(cli));
	cli.timeout_ms = XSELL_CLIENT_TIMEOUT_DEFAULT_MS;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		int rc;

		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			main_help(stdout);
			return EXIT_OK_;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("xsell %s\n", XSELL_VERSION);
			return EXIT_OK_;
		}
		rc = global_opt(&cli, NULL, argc, argv, &i);
		if (rc < 0) {
			return EXIT_USAGE;
		}
		if (rc == 0) {
			usage_err(NULL, "unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		main_help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			main_help(stdout);
			return EXIT_OK_;
		}
		cmd = find_command(argv[i + 1]);
		if (cmd == NULL) {
			usage_err(NULL, "unknown command '%s'", argv[i + 1]);
			return EXIT_USAGE;
		}
		command_help(cmd);
		return EXIT_OK_;
	}
	cmd = find_command(argv[i]);
	if (cmd == NULL) {
		usage_err(NULL, "unknown command '%s'", argv[i]);
		return EXIT_USAGE;
	}
	return run_command(&cli, cmd, argc - i, argv + i);
}
