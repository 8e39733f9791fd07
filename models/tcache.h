/*
 * tcache.h -- the host's translation cache: (address space, guest page) ->
 * present or not, least recently used out.
 *
 * The linear scheme looks every page of a buffer up here before walking the
 * guest's page tables; a hit saves the walk. Guest remaps invalidate single
 * pages or whole address spaces. The cache stores no translation, only
 * presence: the simulator needs to know what a lookup costs, not where the
 * page is. All operations are O(1) but tcache_invalidate_space, which is
 * O(entries); the cache allocates nothing after tcache_new.
 */
#ifndef PVSIM_MODELS_TCACHE_H
#define PVSIM_MODELS_TCACHE_H

#include <stdint.h>

typedef struct tcache tcache;

typedef struct tcache_stats {
    uint64_t hits, misses, evictions, invalidations;
    uint32_t entries, used;
} tcache_stats;

/* A cache of `entries` (>= 1) translations. NULL on bad size or when
 * memory is short. */
tcache *tcache_new(uint32_t entries);
void tcache_free(tcache *c);

/* Looks (space, page) up and makes it the most recently used, inserting it
 * on a miss (evicting the least recently used entry when full). Returns 1
 * on a hit, 0 on a miss. */
int tcache_access(tcache *c, uint32_t space, uint64_t page);

/* Drops (space, page) if cached; returns 1 if it was. */
int tcache_invalidate(tcache *c, uint32_t space, uint64_t page);

/* Drops every entry of `space`; returns how many. */
uint32_t tcache_invalidate_space(tcache *c, uint32_t space);

void tcache_get_stats(const tcache *c, tcache_stats *out);

#endif
