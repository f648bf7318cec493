/* SPDX-License-Identifier: MIT */
/* A small text file read whole, bounded: the PEM certificates and keys
 * of tls+tcp:// (xselld's and the client's). */
#include "common/common.h"

#include <stdio.h>
#include <stdlib.h>

xsell_err
xs_file_read_text(const char *path, size_t max_len, char **textp)
{
	FILE  *f = fopen(path, "r");
	char  *text;
	size_t len;

	if (f == NULL) {
		return XSELL_EIO;
	}
	text = malloc(max_len + 1);
	if (text == NULL) {
		(void) fclose(f); /* read only: nothing to lose */
		return XSELL_ENOMEM;
	}
	len = fread(text, 1, max_len + 1, f);
	(void) fclose(f); /* read only: nothing to lose */
	if (len == 0 || len > max_len) {
		free(text);
		return len == 0 ? XSELL_EINVAL : XSELL_ETOOBIG;
	}
	text[len] = '\0';
	*textp    = text;
	return XSELL_OK;
}
