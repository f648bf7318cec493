/* SPDX-License-Identifier: MIT */
/* The wire names of the model's enums (scorers are in score.c). */
#include "model/model.h"

#include <string.h>

static const char *const signal_names[XS_SIGNAL_COUNT]  = { "all", "order",
	 "view", "cart" };
static const char *const kind_names[XS_PICK_KIND_COUNT] = { "for_you",
	"abandoned_cart", "back_in_stock", "new_arrivals", "buy_again" };
static const char *const source_names[XS_SOURCE_COUNT]  = { "", "history",
	 "trending", "cart", "back_in_stock", "new_arrivals", "bought" };

static bool
name_parse(
    const char *const *names, int n, const char *name, size_t len, int *out)
{
	for (int i = 0; i < n; i++) {
		if (strlen(names[i]) == len &&
		    memcmp(names[i], name, len) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

bool
xs_signal_parse(const char *name, size_t len, enum xs_signal *out)
{
	int i;

	if (!name_parse(signal_names, XS_SIGNAL_COUNT, name, len, &i)) {
		return false;
	}
	*out = (enum xs_signal) i;
	return true;
}

const char *
xs_signal_name(enum xs_signal s)
{
	return (unsigned) s < XS_SIGNAL_COUNT ? signal_names[s] : "?";
}

bool
xs_pick_kind_parse(const char *name, size_t len, enum xs_pick_kind *out)
{
	int i;

	if (!name_parse(kind_names, XS_PICK_KIND_COUNT, name, len, &i)) {
		return false;
	}
	*out = (enum xs_pick_kind) i;
	return true;
}

const char *
xs_pick_kind_name(enum xs_pick_kind k)
{
	return (unsigned) k < XS_PICK_KIND_COUNT ? kind_names[k] : "?";
}

const char *
xs_source_name(enum xs_source s)
{
	return (unsigned) s < XS_SOURCE_COUNT ? source_names[s] : "";
}
