/* SPDX-License-Identifier: MIT */
/* The item cache (store_impl.h): an item's external id and metadata,
 * kept in memory once read, so that an answer's ten or twenty items do
 * not each cost two B-tree searches (about 1,300 instructions apiece,
 * a third of a complements answer).
 *
 * External ids: an item's number and its id never change once
 * committed (the item dictionary only appends; forget_user deletes
 * users), so an id read from a committed snapshot is good for every
 * later reader, and a write transaction may read it too. It is filled
 * only from committed snapshots, since a write transaction that hands
 * out a number may still abort and the number go to another id.
 *
 * Metadata changes (the items op), so a slot's copy carries the version
 * of the metadata it was read from, 'snap': the caller's name for every
 * snapshot that reads the same metadata (records.c: one past the stamp
 * of the last commit that wrote any, epochs.c), and serves readers of
 * that version only; the first reader of a newer one reads it again.
 * Readers of one version fill a slot at once under its sequence number
 * (a seqlock: odd while being written), so a reader copies it out
 * without a lock and takes it only if the number did not move meanwhile.
 * A write of views or orders leaves the version as it was.
 *
 * Pages of slots are made as items are first read and kept, with the
 * ids, until the store closes; together they stay within the memo
 * budget, past which reads go to the store as before. */
#include "store/store_impl.h"

#include <stdlib.h>
#include <string.h>

struct xs_item_ext {
	size_t len;
	char   data[];
};

/* What a slot holds of one item. The metadata is in atomic words so
 * that a reader may copy it while a filler writes it (the seqlock then
 * tells the reader to drop the copy). */
struct xs_item_slot {
	_Atomic uint32_t seq;  /* odd while the metadata is written; 0: none */
	_Atomic uint64_t snap; /* version << 1 | the metadata was stored */
	_Atomic uint64_t meta[XS_ITEM_META_WORDS];
	_Atomic(struct xs_item_ext *) ext; /* set once, NULL until read */
};

_Static_assert(
    sizeof(struct xs_item_meta) == XS_ITEM_META_WORDS * sizeof(uint64_t),
    "metadata is copied as whole words");

/* Ids the pages can cover. */
#define CACHE_IDS (XS_ITEM_CACHE_PAGES * XS_ITEM_CACHE_PAGE_SLOTS)

/* Count 'len' fewer bytes held. */
static void
cache_give_bytes(struct xs_item_cache *c, size_t len)
{
	atomic_fetch_sub_explicit(&c->bytes, len, memory_order_relaxed);
}

/* Count 'len' more bytes held if the budget allows. */
static bool
cache_take_bytes(struct xs_item_cache *c, size_t len)
{
	size_t held =
	    atomic_fetch_add_explicit(&c->bytes, len, memory_order_relaxed);

	if (held + len <= c->budget) {
		return true;
	}
	cache_give_bytes(c, len);
	return false;
}

/* item's slot if its page was made, else NULL. */
static struct xs_item_slot *
slot_find(struct xs_item_cache *c, uint32_t item)
{
	struct xs_item_slot *page;

	if (item >= CACHE_IDS) {
		return NULL;
	}
	page = atomic_load_explicit(
	    &c->pages[item / XS_ITEM_CACHE_PAGE_SLOTS], memory_order_acquire);
	return page != NULL ? &page[item % XS_ITEM_CACHE_PAGE_SLOTS] : NULL;
}

/* item's slot, its page made if need be; NULL past the budget or the
 * pages, or if memory is short. */
static struct xs_item_slot *
slot_make(struct xs_item_cache *c, uint32_t item)
{
	struct xs_item_slot *slot = slot_find(c, item), *page, *none = NULL;
	size_t size = XS_ITEM_CACHE_PAGE_SLOTS * sizeof(struct xs_item_slot);

	if (slot != NULL || item >= CACHE_IDS || !cache_take_bytes(c, size)) {
		return slot;
	}
	page = calloc(XS_ITEM_CACHE_PAGE_SLOTS, sizeof(*page));
	if (page == NULL) {
		cache_give_bytes(c, size);
		return NULL;
	}
	/* Another reader may have made the page meanwhile: theirs stays. */
	if (!atomic_compare_exchange_strong_explicit(
	        &c->pages[item / XS_ITEM_CACHE_PAGE_SLOTS], &none, page,
	        memory_order_acq_rel, memory_order_acquire)) {
		free(page);
		cache_give_bytes(c, size);
	}
	return slot_find(c, item);
}

bool
xs_item_cache_ext(
    struct xs_item_cache *c, uint32_t item, const char **extp, size_t *lenp)
{
	struct xs_item_slot *slot = slot_find(c, item);
	struct xs_item_ext  *ext;

	if (slot == NULL) {
		return false;
	}
	ext = atomic_load_explicit(&slot->ext, memory_order_acquire);
	if (ext == NULL) {
		return false;
	}
	*extp = ext->data;
	*lenp = ext->len;
	return true;
}

const char *
xs_item_cache_put_ext(
    struct xs_item_cache *c, uint32_t item, const char *data, size_t len)
{
	struct xs_item_slot *slot;
	struct xs_item_ext  *ext, *none = NULL;

	if (!cache_take_bytes(c, sizeof(*ext) + len)) {
		return data;
	}
	slot = slot_make(c, item);
	ext  = slot != NULL ? malloc(sizeof(*ext) + len) : NULL;
	if (ext == NULL) {
		cache_give_bytes(c, sizeof(*ext) + len);
		return data;
	}
	ext->len = len;
	memcpy(ext->data, data, len);
	if (!atomic_compare_exchange_strong_explicit(&slot->ext, &none, ext,
	        memory_order_acq_rel, memory_order_acquire)) {
		free(ext);
		cache_give_bytes(c, sizeof(*ext) + len);
		ext = none; /* the same id, put by another reader */
	}
	return ext->data;
}

int
xs_item_cache_meta(struct xs_item_cache *c, uint32_t item, uint64_t snap,
    struct xs_item_meta *out)
{
	struct xs_item_slot *slot = slot_find(c, item);
	uint64_t             words[XS_ITEM_META_WORDS], tag;
	uint32_t             seq;

	if (slot == NULL) {
		return -1;
	}
	seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
	if (seq == 0 || (seq & 1) != 0) {
		return -1;
	}
	tag = atomic_load_explicit(&slot->snap, memory_order_relaxed);
	for (size_t i = 0; i < XS_ITEM_META_WORDS; i++) {
		words[i] =
		    atomic_load_explicit(&slot->meta[i], memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&slot->seq, memory_order_relaxed) != seq ||
	    tag >> 1 != snap) {
		return -1;
	}
	memcpy(out, words, sizeof(*out));
	return (int) (tag & 1);
}

void
xs_item_cache_put_meta(struct xs_item_cache *c, uint32_t item, uint64_t snap,
    const struct xs_item_meta *m, bool stored)
{
	struct xs_item_slot *slot = slot_make(c, item);
	uint64_t             words[XS_ITEM_META_WORDS];
	uint32_t             seq;

	if (slot == NULL || snap > UINT64_MAX >> 1) {
		return;
	}
	seq = atomic_load_explicit(&slot->seq, memory_order_relaxed);
	/* Another filler at work, or a newer snapshot's copy: leave it. */
	if ((seq & 1) != 0 ||
	    (seq != 0 &&
	        atomic_load_explicit(&slot->snap, memory_order_relaxed) >> 1 >
	            snap) ||
	    !atomic_compare_exchange_strong_explicit(&slot->seq, &seq, seq + 1,
	        memory_order_acquire, memory_order_relaxed)) {
		return;
	}
	atomic_thread_fence(memory_order_release);
	memcpy(words, m, sizeof(words));
	atomic_store_explicit(
	    &slot->snap, snap << 1 | (stored ? 1 : 0), memory_order_relaxed);
	for (size_t i = 0; i < XS_ITEM_META_WORDS; i++) {
		atomic_store_explicit(
		    &slot->meta[i], words[i], memory_order_relaxed);
	}
	atomic_store_explicit(&slot->seq, seq + 2, memory_order_release);
}

size_t
xs_item_cache_bytes(struct xs_item_cache *c)
{
	return atomic_load_explicit(&c->bytes, memory_order_relaxed);
}

void
xs_item_cache_fini(struct xs_item_cache *c)
{
	for (size_t p = 0; p < XS_ITEM_CACHE_PAGES; p++) {
		struct xs_item_slot *page =
		    atomic_load_explicit(&c->pages[p], memory_order_relaxed);

		for (size_t i = 0;
		     page != NULL && i < XS_ITEM_CACHE_PAGE_SLOTS; i++) {
			free(atomic_load_explicit(
			    &page[i].ext, memory_order_relaxed));
		}
		free(page);
		atomic_store_explicit(
		    &c->pages[p], NULL, memory_order_relaxed);
	}
	atomic_store_explicit(&c->bytes, 0, memory_order_relaxed);
}
