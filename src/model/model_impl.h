/* SPDX-License-Identifier: MIT */
/* Shared by the model's own files only. */
#ifndef XSELL_MODEL_MODEL_IMPL_H
#define XSELL_MODEL_MODEL_IMPL_H

#include "model/model.h"

/* Add 'd' to pending pair (a, b) of relation 'rel'. */
xsell_err xs_acc_pair_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b, int32_t d);
/* Add 'd' to pending counter 'which' of 'item'. */
xsell_err xs_acc_item_add(
    xs_acc *acc, uint32_t item, enum xs_count which, int32_t d);

#endif /* XSELL_MODEL_MODEL_IMPL_H */
