/* SPDX-License-Identifier: MIT */
/* The op table of ops.def as data: names for replies and logs, and which
 * ops write (refused on read endpoints). */
#include "wire/wire.h"

static const char *const op_names[XS_OP_COUNT] = {
#define XS_OP(name, is_write) [XS_OP_##name] = #name,
#include "wire/ops.def"
#undef XS_OP
};

static const bool op_writes[XS_OP_COUNT] = {
#define XS_OP(name, is_write) [XS_OP_##name] = (is_write),
#include "wire/ops.def"
#undef XS_OP
};

const char *
xs_op_name(enum xs_op op)
{
	if ((unsigned) op >= XS_OP_COUNT) {
		return "?";
	}
	return op_names[op];
}

bool
xs_op_is_write(enum xs_op op)
{
	if ((unsigned) op >= XS_OP_COUNT) {
		return false;
	}
	return op_writes[op];
}
