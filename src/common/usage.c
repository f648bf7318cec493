/* SPDX-License-Identifier: MIT */
/* The one-line usage error of a binary's command line, on stderr. */
#include "common/common.h"

#include <stdarg.h>
#include <stdio.h>

int
xs_usage_error(const char *prog, const char *hint, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(hint, stderr);
	return 2;
}
