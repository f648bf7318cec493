/* SPDX-License-Identifier: MIT */
/* UTF-8 validation and escaping of untrusted text for logs and messages. */
#include "common/common.h"

#include <stdio.h>
#include <string.h>

bool
xs_utf8_is_valid(const char *s, size_t len)
{
	const unsigned char *p   = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t   n;
		uint32_t cp;
		uint32_t min;

		if (c < 0x80) {
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n   = 1;
			cp  = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n   = 2;
			cp  = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n   = 3;
			cp  = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if ((size_t) (end - p) <= n) {
			return false;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		p += n + 1;
	}
	return true;
}

bool
xs_id_is_valid(const char *p, size_t len)
{
	if (len == 0 || len > XSELL_ID_MAX) {
		return false;
	}
	if (memchr(p, '\0', len) != NULL) {
		return false;
	}
	return xs_utf8_is_valid(p, len);
}

const char *
xs_id_list_bad(const char *list, size_t *lenp)
{
	const char *p = list, *id;
	size_t      len;

	while (xs_opt_list_next(&p, &id, &len)) {
		if (!xs_id_is_valid(id, len)) {
			*lenp = len;
			return id;
		}
	}
	return NULL;
}

void
xs_escape(char *dst, size_t dst_len, const char *p, size_t len)
{
	size_t o = 0;

	if (dst_len == 0) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) p[i];
		char          tmp[5];
		size_t        n;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			tmp[0] = (char) c;
			n      = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			n = 4;
		}
		if (o + n + 4 > dst_len) { /* keep room for "..." + NUL */
			if (o + 4 <= dst_len) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
}
