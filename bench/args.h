/* SPDX-License-Identifier: MIT */
/* Number arguments of the bench tools (xsell-bench, xsell-gen): the
 * whole string must be the number, within [lo, hi]. */
#ifndef XSELL_BENCH_ARGS_H
#define XSELL_BENCH_ARGS_H

#include <stdbool.h>
#include <stdint.h>

bool bench_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
bool bench_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
bool bench_parse_double(const char *s, double lo, double hi, double *out);

#endif /* XSELL_BENCH_ARGS_H */
