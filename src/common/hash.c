/* SPDX-License-Identifier: MIT */
/* A stable 64-bit hash for ids (FNV-1a, splitmix64 finaliser). */
#include "common/common.h"

uint64_t
xs_hash64(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t             h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	/* splitmix64 finaliser: FNV's low bits are weak. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}
