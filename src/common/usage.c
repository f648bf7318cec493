/* SPDX-License-Identifier: MIT */
/* The one-line usage error of a binary's command line, on stderr. */
#include "common/common.h"

#include <stdarg.h>
#include <stdio.h>

void
xs_usage_error(const char *prog, const char *hint, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	/* clang 14's valist checker misses the va_start just above. */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(hint, stderr);
}
