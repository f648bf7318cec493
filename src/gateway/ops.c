/* SPDX-License-Identifier: MIT */
/* The ops the gateway knows, from the wire's own table (wire/ops.def):
 * which go to the admin upstream, and the op label of the metrics; and,
 * the gateway's own choice, which GET answers caches may keep. An op the
 * table does not have is still forwarded (to the read upstream), so a
 * newer xselld answers it; it is counted as "other" and never cached. */
#include "gateway/gateway_impl.h"

#include <string.h>

static const struct {
	const char *name;
	bool        is_write;
} ops[] = {
#define XS_OP(name, is_write) { #name, is_write },
#include "wire/ops.def"
#undef XS_OP
};

enum xs_gw_op
xs_gw_op_find(const char *n, size_t len)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strlen(ops[i].name) == len &&
		    memcmp(ops[i].name, n, len) == 0) {
			return (enum xs_gw_op) i;
		}
	}
	return XS_GW_OP_OTHER;
}

const char *
xs_gw_op_name(enum xs_gw_op op)
{
	if ((size_t) op < sizeof(ops) / sizeof(ops[0])) {
		return ops[op].name;
	}
	return "other";
}

bool
xs_gw_op_is_write(enum xs_gw_op op)
{
	return (size_t) op < sizeof(ops) / sizeof(ops[0]) && ops[op].is_write;
}

enum xs_gw_cache
xs_gw_op_cache(enum xs_gw_op op)
{
	switch (op) {
	case XS_GW_OP_fbt:
	case XS_GW_OP_complements:
	case XS_GW_OP_similar:
	case XS_GW_OP_viewed_bought:
	case XS_GW_OP_trending:
		return XS_GW_CACHE_PUBLIC;
	case XS_GW_OP_picks:
	case XS_GW_OP_history:
		return XS_GW_CACHE_PRIVATE;
	default:
		return XS_GW_CACHE_NONE;
	}
}
