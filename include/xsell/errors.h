/* SPDX-License-Identifier: MIT */
/* xsell error codes: one table, many uses.
 *
 * Each row of XSELL_ERR_MAP gives the C name, the wire code a client sees
 * in {"ok":false,"error":{"code":...}} and a default message. The wire
 * codes are a fixed contract (proto/errors.md is generated from this table
 * and a test checks that the two agree); several C errors share one wire
 * code because a client acts on the wire code, an operator on the log.
 *
 * ENOREPLY is never xselld's: it is the HTTP gateway's answer to a write
 * it sent to xselld whose reply did not come (the connection broke, or
 * the wait was too long), so xselld may or may not have applied it. */
#ifndef XSELL_ERRORS_H
#define XSELL_ERRORS_H

#define XSELL_ERR_MAP(X)                                                  \
	X(OK, "ok", "success")                                            \
	X(EINVAL, "bad_request", "invalid request")                       \
	X(ETOOBIG, "too_large", "a size limit was exceeded")              \
	X(EFORBIDDEN, "forbidden", "writes are not allowed here")         \
	X(ENOENT, "not_found", "no such item, user or record")            \
	X(EUNAVAIL, "unavailable", "service unavailable, try again")      \
	X(EMAPFULL, "unavailable", "storage map is full")                 \
	X(ENOMEM, "unavailable", "out of memory")                         \
	X(ESCHEMA, "internal", "store schema is not this binary's")       \
	X(ECORRUPT, "internal", "store is damaged or not an xsell store") \
	X(EIO, "internal", "input/output error")                          \
	X(EINTERNAL, "internal", "internal error")                        \
	X(ENOREPLY, "outcome_unknown", "sent, but no reply came")

typedef enum {
#define X(name, wire, msg) XSELL_##name,
	XSELL_ERR_MAP(X)
#undef X
	    XSELL_ERR_COUNT
} xsell_err;

/* The default message of 'err' ("invalid request"). Never NULL. */
const char *xsell_strerror(xsell_err err);

/* The wire code of 'err' ("bad_request"). Never NULL. */
const char *xsell_err_wire(xsell_err err);

#endif /* XSELL_ERRORS_H */
