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

xsell_err
xs_server_config_parse(const char *path, const char *text, size_t len,
    char **words, int *np, char **storep, char *msg, size_t msg_len)
{
	char *copy, *line, *save = NULL;
	char *store, *out;
	int   n = *np, lineno = 0;

	if (len > XS_CONFIG_BYTES_MAX) {
		snprintf(msg, msg_len, "--config %s: larger than %d bytes",
		    path, XS_CONFIG_BYTES_MAX);
		return XSELL_ETOOBIG;
	}
	/* A word of w bytes ends at a separator or the text's end and
	 * takes at most w + 3 bytes here ("--", NUL): 2 * len + 3 in all. */
	copy  = malloc(len + 1);
	store = malloc(2 * len + 3);
	if (copy == NULL || store == NULL) {
		free(copy);
		free(store);
		snprintf(msg, msg_len, "--config %s: out of memory", path);
		return XSELL_ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	out       = store;
	/* Lines are split in place, in the copy. */
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *name, *value, *rest = NULL;

		lineno++;
		line[strcspn(line, "#\r")] = '\0';
		name                       = strtok_r(line, " \t=", &rest);
		if (name == NULL) {
			continue;
		}
		value = strtok_r(NULL, " \t=", &rest);
		if (value != NULL && strtok_r(NULL, " \t", &rest) != NULL) {
			snprintf(msg, msg_len,
			    "--config %s:%d: one value per line", path,
			    lineno);
			goto refuse;
		}
		if (n + 1 + (value != NULL) > XS_CONFIG_WORDS_MAX) {
			snprintf(msg, msg_len,
			    "--config: too many options "
			    "(at most %d words in all)",
			    XS_CONFIG_WORDS_MAX);
			free(copy);
			free(store);
			return XSELL_ETOOBIG;
		}
		if (strlen(name) > CONFIG_NAME_MAX ||
		    strcmp(name, "config") == 0) {
			snprintf(msg, msg_len,
			    "--config %s:%d: '%s' is not an option here", path,
			    lineno, name);
			goto refuse;
		}
		words[n++] = word_put(&out, "--", name, strlen(name));
		if (value != NULL) {
			words[n++] = word_put(&out, "", value, strlen(value));
		}
	}
	assert(out <= store + 2 * len + 3);
	free(copy);
	*np     = n;
	*storep = store;
	return XSELL_OK;

refuse:
	free(copy);
	free(store);
	return XSELL_EINVAL;
}
