/* SPDX-License-Identifier: MIT */
/* Per-request bump allocator. Blocks double in size so that a request
 * costs O(log n) mallocs; reset keeps the first block so that a worker's
 * steady state costs none. */
#include "common/common.h"

#include <stdlib.h>
#include <string.h>

struct xs_arena_block {
	struct xs_arena_block *next;
	size_t                 size; /* usable bytes after the header */
	size_t                 off;  /* bytes used */
	_Alignas(16) unsigned char data[];
};

#define ARENA_FIRST_BLOCK 16384u

void
xs_arena_init(struct xs_arena *a, size_t max_len)
{
	a->head    = NULL;
	a->used    = 0;
	a->max_len = max_len;
}

void
xs_arena_fini(struct xs_arena *a)
{
	struct xs_arena_block *b = a->head;

	while (b != NULL) {
		struct xs_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
}

void
xs_arena_reset(struct xs_arena *a)
{
	struct xs_arena_block *b = a->head;

	if (b == NULL) {
		return;
	}
	/* Keep the oldest (last) block: it is the steady-state size. */
	while (b->next != NULL) {
		struct xs_arena_block *next = b->next;
		free(b);
		b = next;
	}
	b->off  = 0;
	a->head = b;
	a->used = 0;
}

void *
xs_arena_alloc(struct xs_arena *a, size_t size)
{
	struct xs_arena_block *b = a->head;
	size_t                 rounded;
	void                  *p;

	if (size > a->max_len) {
		return NULL;
	}
	rounded = (size + 15u) & ~(size_t) 15u;
	if (a->used + rounded > a->max_len) {
		return NULL;
	}
	if (b == NULL || b->size - b->off < rounded) {
		size_t bsize = b ? b->size * 2 : ARENA_FIRST_BLOCK;
		struct xs_arena_block *nb;

		while (bsize < rounded) {
			bsize *= 2;
		}
		nb = malloc(sizeof(*nb) + bsize);
		if (nb == NULL) {
			return NULL;
		}
		nb->size = bsize;
		nb->off  = 0;
		nb->next = b;
		a->head  = nb;
		b        = nb;
	}
	p = b->data + b->off;
	b->off += rounded;
	a->used += rounded;
	return p;
}

void *
xs_arena_calloc(struct xs_arena *a, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size) {
		return NULL;
	}
	p = xs_arena_alloc(a, n * size);
	if (p != NULL) {
		memset(p, 0, n * size);
	}
	return p;
}
