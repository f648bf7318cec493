/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for xselld's --config files: the first byte says
 * how many files the rest is cut into (1..XS_CONFIG_FILES_MAX, equal
 * parts), each given in turn to xs_server_config_parse with one shared
 * word table, as expand_config (main.c) gives the files of a command
 * line.
 *
 * Besides "never crashes, never leaks", it checks the parser against
 * the grammar xselld(1) documents, written out again here as a model:
 * lines split on '\n' and counted from 1 (blank ones too), '#' or '\r'
 * ends what is read of a line, spaces, tabs and '=' separate words; a
 * line of one word is "--word", of two "--name" "value", of more a
 * refusal naming that line, as is a name over 64 bytes or "config"; a
 * file with a NUL byte is refused (no argv word can hold one, so its
 * words could not be the file's); past XS_CONFIG_WORDS_MAX words in all
 * files, too_large. An accepted file adds exactly the model's words; a
 * refused one adds none and names its file (and line). driver.c runs the
 * same function over the corpus in the gcc build. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what)
{
	fprintf(stderr, "fuzz_config: %s\n", what);
	abort();
}

/* ==== The model: xselld(1)'s grammar ==== */

struct model {
	char  *words[XS_CONFIG_WORDS_MAX]; /* malloc'd, expected words */
	int    n;                          /* of them, all files */
	size_t bad_line;                   /* 0: none; else the line refused */
	bool   too_many;                   /* refused for the word count */
};

static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '=';
}

static char *
dup_word(const char *prefix, const char *w, size_t len)
{
	size_t plen = strlen(prefix);
	char  *s    = malloc(plen + len + 1);

	if (s == NULL) {
		abort(); /* the harness's own memory */
	}
	memcpy(s, prefix, plen);
	memcpy(s + plen, w, len);
	s[plen + len] = '\0';
	return s;
}

/* The words of 'text' appended to m (from m->n), or the first refusal:
 * m->bad_line or m->too_many set, m->n and the words as they were. */
static void
model_file(struct model *m, const char *text, size_t len)
{
	const char *nul     = memchr(text, '\0', len);
	int         n       = m->n;
	size_t      line_no = 0;
	size_t      pos     = 0;

	if (nul != NULL) {
		m->bad_line = 1;
		for (const char *p = text; p < nul; p++) {
			m->bad_line += *p == '\n';
		}
		return;
	}
	while (pos < len) {
		const char *line = text + pos;
		const char *nl   = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t) (nl - line) : len - pos;
		const char *w[3];
		size_t      wl[3];
		int         nw = 0;

		pos += llen + 1;
		line_no++;
		for (size_t k = 0; k < llen; k++) {
			if (line[k] == '#' || line[k] == '\r') {
				llen = k;
				break;
			}
		}
		for (size_t i = 0; i < llen && nw < 3;) {
			size_t start;

			if (is_sep(line[i])) {
				i++;
				continue;
			}
			start = i;
			while (i < llen && !is_sep(line[i])) {
				i++;
			}
			w[nw]  = line + start;
			wl[nw] = i - start;
			nw++;
		}
		if (nw == 0) {
			continue;
		}
		if (nw == 3) {
			m->bad_line = line_no;
		} else if (n + nw > XS_CONFIG_WORDS_MAX) {
			m->too_many = true;
		} else if (wl[0] > 64 ||
		    (wl[0] == 6 && memcmp(w[0], "config", 6) == 0)) {
			m->bad_line = line_no;
		}
		if (m->bad_line != 0 || m->too_many) {
			while (n > m->n) {
				free(m->words[--n]);
			}
			return;
		}
		m->words[n++] = dup_word("--", w[0], wl[0]);
		if (nw == 2) {
			m->words[n++] = dup_word("", w[1], wl[1]);
		}
	}
	m->n = n;
}

/* ==== The harness ==== */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *words[XS_CONFIG_WORDS_MAX];
	char        *stores[XS_CONFIG_FILES_MAX] = { NULL };
	struct model m;
	size_t       n_files, part, at;
	int          n = 0;

	if (size < 1) {
		return 0;
	}
	memset(&m, 0, sizeof(m));
	n_files = 1 + data[0] % XS_CONFIG_FILES_MAX;
	part    = (size - 1) / n_files;
	at      = 1;
	for (size_t f = 0; f < n_files; f++) {
		size_t    len = f + 1 == n_files ? size - at : part;
		char      path[24]; /* "f" and a size_t in decimal */
		char      msg[256];
		char     *text, *store = NULL;
		char      want[48];
		int       before = n;
		xsell_err err;

		/* An exact-size copy, so ASan sees a read past the end. */
		text = malloc(len > 0 ? len : 1);
		if (text == NULL) {
			break;
		}
		memcpy(text, data + at, len);
		at += len;
		snprintf(path, sizeof(path), "f%zu", f);
		memset(msg, 0xff, sizeof(msg));
		err = xs_server_config_parse(path, text, len, words, &n,
		    &store, msg, sizeof(msg), NULL);
		model_file(&m, text, len);
		free(text);
		if (err == XSELL_ENOMEM) {
			break;
		}
		if (err != XSELL_OK) {
			if (n != before || store != NULL) {
				broken("a refused file added words");
			}
			if (memchr(msg, '\0', sizeof(msg)) == NULL ||
			    strstr(msg, "--config") == NULL) {
				broken("refusal without a message");
			}
			if (err == XSELL_ETOOBIG) {
				if (!m.too_many) {
					broken(
					    "too_large, not past the limit");
				}
				break;
			}
			if (err != XSELL_EINVAL || m.bad_line == 0) {
				broken("refused a file the grammar takes");
			}
			snprintf(
			    want, sizeof(want), "%s:%zu:", path, m.bad_line);
			if (strstr(msg, want) == NULL) {
				broken("the refusal names another line");
			}
			break;
		}
		if (store == NULL) {
			broken("words without their buffer");
		}
		stores[f] = store;
		if (m.bad_line != 0 || m.too_many) {
			broken("took a file the grammar refuses");
		}
		if (n != m.n || n > XS_CONFIG_WORDS_MAX) {
			broken("not the file's number of words");
		}
		for (int i = before; i < n; i++) {
			if (words[i] == NULL ||
			    strcmp(words[i], m.words[i]) != 0) {
				broken("a word that is not the file's");
			}
		}
	}
	for (int i = 0; i < m.n; i++) {
		free(m.words[i]);
	}
	for (size_t f = 0; f < XS_CONFIG_FILES_MAX; f++) {
		free(stores[f]);
	}
	return 0;
}
