/* SPDX-License-Identifier: MIT */
/* Messages and wire codes of xsell_err, generated from XSELL_ERR_MAP. */
#include "common/common.h"

static const char *const err_msgs[] = {
#define X(name, wire, msg) msg,
	XSELL_ERR_MAP(X)
#undef X
};

static const char *const err_wires[] = {
#define X(name, wire, msg) wire,
	XSELL_ERR_MAP(X)
#undef X
};

const char *
xsell_strerror(xsell_err err)
{
	if ((unsigned) err >= XSELL_ERR_COUNT) {
		return "unknown error";
	}
	return err_msgs[err];
}

const char *
xsell_err_wire(xsell_err err)
{
	if ((unsigned) err >= XSELL_ERR_COUNT) {
		return "internal";
	}
	return err_wires[err];
}
