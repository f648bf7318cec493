/* SPDX-License-Identifier: MIT */
/* xselld --config: the text of an options file -> the argv words it
 * stands for. Apart from main.c, which reads the files, so that the
 * parsing runs on bytes in memory: the fuzzer (tests/fuzz/fuzz_config.c)
 * feeds it any. The words are copied into one buffer per file, so that
 * the file's text can go and one free() releases them. */
#include "server/server.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest option name taken (the longest real one is far shorter). */
#define CONFIG_NAME_MAX 64

/* What separates the name and the value of a line. */
static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '=';
}

/* The next word of line[*i..len) into *wp and *wlen, *i past it; false
 * at the line's end. */
static bool
next_word(
    const char *line, size_t len, size_t *i, const char **wp, size_t *wlen)
{
	size_t start;

	while (*i < len && is_sep(line[*i])) {
		(*i)++;
	}
	if (*i == len) {
		return false;
	}
	start = *i;
	while (*i < len && !is_sep(line[*i])) {
		(*i)++;
	}
	*wp   = line + start;
	*wlen = *i - start;
	return true;
}

/* Copy the word w[0..len), after 'prefix', as a C string at *outp;
 * return it and move *outp past it. */
static char *
word_put(char **outp, const char *prefix, const char *w, size_t len)
{
	char  *word = *outp;
	size_t plen = strlen(prefix);

	memcpy(word, prefix, plen);
	memcpy(word + plen, w, len);
	word[plen + len] = '\0';
	*outp            = word + plen + len + 1;
	return word;
}

/* Whether a line's value, or its lack, suits its option (takes_value:
 * see xs_server_config_parse); if not, why in msg. */
static bool
config_value_fits(xs_config_takes_value takes_value, const char *name,
    size_t name_len, bool has_value, const char *path, size_t lineno,
    char *msg, size_t msg_len)
{
	int takes = takes_value != NULL ? takes_value(name, name_len) : -1;

	if (takes == 1 && !has_value) {
		snprintf(msg, msg_len, "--config %s:%zu: '%.*s' needs a value",
		    path, lineno, (int) name_len, name);
		return false;
	}
	if (takes == 0 && has_value) {
		snprintf(msg, msg_len,
		    "--config %s:%zu: '%.*s' takes no value", path, lineno,
		    (int) name_len, name);
		return false;
	}
	return true;
}

xsell_err
xs_server_config_parse(const char *path, const char *text, size_t len,
    char **words, int *np, char **storep, char *msg, size_t msg_len,
    xs_config_takes_value takes_value)
{
	const char *nul;
	size_t      lineno = 0;
	size_t      pos    = 0;
	int         n      = *np;
	char       *store, *out;

	if (len > XS_CONFIG_BYTES_MAX) {
		snprintf(msg, msg_len, "--config %s: larger than %d bytes",
		    path, XS_CONFIG_BYTES_MAX);
		return XSELL_ETOOBIG;
	}
	/* A NUL byte once ended the text early, and the options after it
	 * were dropped unsaid: not a text file. */
	nul = memchr(text, '\0', len);
	if (nul != NULL) {
		lineno = 1;
		for (const char *p = text; p < nul; p++) {
			lineno += *p == '\n';
		}
		snprintf(msg, msg_len,
		    "--config %s:%zu: a NUL byte: not a text file", path,
		    lineno);
		return XSELL_EINVAL;
	}
	/* A word of w bytes ends at a separator or the text's end and
	 * takes at most w + 3 bytes here ("--", NUL): 2 * len + 3 in all. */
	store = malloc(2 * len + 3);
	if (store == NULL) {
		snprintf(msg, msg_len, "--config %s: out of memory", path);
		return XSELL_ENOMEM;
	}
	out = store;
	/* Line by line, counting every line, blank ones too: the numbers
	 * in messages are an editor's. */
	while (pos < len) {
		const char *line = text + pos;
		const char *nl   = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t) (nl - line) : len - pos;
		size_t i    = 0;
		const char *name, *value, *extra;
		size_t      name_len, value_len, extra_len;
		bool        has_value;

		pos += llen + 1;
		lineno++;
		/* '#' starts a comment, '\r' ends the line (CRLF files). */
		for (size_t k = 0; k < llen; k++) {
			if (line[k] == '#' || line[k] == '\r') {
				llen = k;
				break;
			}
		}
		if (!next_word(line, llen, &i, &name, &name_len)) {
			continue;
		}
		has_value = next_word(line, llen, &i, &value, &value_len);
		if (has_value &&
		    next_word(line, llen, &i, &extra, &extra_len)) {
			snprintf(msg, msg_len,
			    "--config %s:%zu: one value per line", path,
			    lineno);
			goto refuse;
		}
		if (n + 1 + has_value > XS_CONFIG_WORDS_MAX) {
			snprintf(msg, msg_len,
			    "--config: too many options "
			    "(at most %d words in all)",
			    XS_CONFIG_WORDS_MAX);
			free(store);
			return XSELL_ETOOBIG;
		}
		if (name_len > CONFIG_NAME_MAX ||
		    (name_len == 6 && memcmp(name, "config", 6) == 0)) {
			snprintf(msg, msg_len,
			    "--config %s:%zu: '%.*s' is not an option here",
			    path, lineno, (int) name_len, name);
			goto refuse;
		}
		if (!config_value_fits(takes_value, name, name_len, has_value,
		        path, lineno, msg, msg_len)) {
			goto refuse;
		}
		words[n++] = word_put(&out, "--", name, name_len);
		if (has_value) {
			words[n++] = word_put(&out, "", value, value_len);
		}
	}
	assert(out <= store + 2 * len + 3);
	*np     = n;
	*storep = store;
	return XSELL_OK;

refuse:
	free(store);
	return XSELL_EINVAL;
}
