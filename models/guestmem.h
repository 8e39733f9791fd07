/*
 * guestmem.h -- a guest's physical memory: a buddy allocator over 4 KiB
 * frames, aged before the run to a target fragmentation.
 *
 * Blocks are 2^order frames, aligned to their size, as in Linux's page
 * allocator. Freeing a block merges it with its buddy while the buddy is
 * free. Allocation takes the smallest free block that fits, most recently
 * freed first, and splits it.
 *
 * The representation is sparse: only free blocks are stored (a hash from
 * first frame to order, and one array per order), and an allocated frame
 * costs nothing. A fresh 64 GiB guest is 64 free 1 GiB blocks; memory grows
 * with the number of free blocks, which fragmentation, not size, decides.
 *
 * Fragmentation is measured as Linux's unusable free space index at the
 * pageblock order: the share of free memory lying in blocks too small for
 * one pageblock. A pageblock is 2 MiB with 4 KiB pages (as in Linux) and
 * 32 MiB (16 pages) with 2 MiB pages, so that a guest of a few GiB still
 * has enough pageblocks to age. Aging builds that state directly
 * (see guestmem_age), which takes time proportional to the number of
 * pageblocks, not to a replay of allocations.
 */
#ifndef PVSIM_MODELS_GUESTMEM_H
#define PVSIM_MODELS_GUESTMEM_H

#include <stdint.h>

#include "sim/rng.h"

#define GM_FRAME_SHIFT 12               /* 4 KiB frames */
#define GM_MAX_ORDER 18                 /* 1 GiB blocks */
#define GM_PAGEBLOCK_ORDER 9            /* 2 MiB */
#define GM_MAX_FRAMES (1ull << 27)      /* 512 GiB: a frame and a block's
                                           place fit 8-byte entries */

typedef struct guestmem guestmem;

typedef struct guestmem_stats {
    uint64_t frames;                    /* all frames of the guest */
    uint64_t free_frames;
    uint64_t free_blocks[GM_MAX_ORDER + 1];
    int largest_free_order;             /* -1 when nothing is free */
    uint64_t stored_blocks;             /* free blocks held (memory use) */
} guestmem_stats;

/* Creates `bytes` of guest memory (a multiple of 4 KiB, at least one
 * frame and at most GM_MAX_FRAMES), all free, in the largest aligned blocks that fit. `min_order` is
 * the guest's page size as an order (0 for 4 KiB pages, 9 for 2 MiB):
 * nothing smaller is ever handed out or freed. NULL on bad arguments or
 * when memory is short. */
guestmem *guestmem_new(uint64_t bytes, unsigned min_order);
void guestmem_free_all(guestmem *m);

/* An independent copy of `m` in its current state (aged or not), for
 * simulating several variants over the same memory without aging it again
 * (if `m` is a shared copy, the clone reads the same base: see
 * guestmem_share). NULL when memory is short. */
guestmem *guestmem_clone(const guestmem *m);

/* A copy of `base` in its current state that behaves exactly like a
 * clone but keeps only its own changes, reading the rest from `base`:
 * cheap to make from a large aged memory. `base` must stay alive and
 * unchanged while the copy lives (free the copy first). A clone of a
 * shared copy shares the same base. NULL when memory is short. */
guestmem *guestmem_share(const guestmem *base);

/* Ages fresh memory: afterwards a fraction `used` of it is allocated
 * (owned by "the rest of the guest", never freed by the model) and about
 * `fragmentation` of the free memory lies in blocks smaller than a
 * pageblock, scattered through partly used pageblocks. Draws from `rng`.
 * Returns 0, SIM_EINVAL (fractions outside [0, 1], or memory not fresh)
 * or SIM_ENOMEM. The target is met to within one pageblock's share; read
 * the result with guestmem_unusable_index(). */
int guestmem_age(guestmem *m, double used, double fragmentation, sim_rng *rng);

/* Allocates one block of 2^order frames; stores its first frame. Returns 0,
 * SIM_ENOSPACE when no free block is large enough, SIM_EINVAL for an order
 * outside [min_order, GM_MAX_ORDER], or SIM_ENOMEM; on failure the memory
 * is as it was. */
int guestmem_alloc(guestmem *m, unsigned order, uint64_t *frame);

/* Returns a block obtained from guestmem_alloc (same order). Returns 0, or
 * SIM_EINVAL for a misaligned or out-of-range block, or SIM_ENOMEM (the
 * block then stays allocated). Freeing a block that is not allocated is a
 * caller bug the allocator cannot always see. */
int guestmem_release(guestmem *m, uint64_t frame, unsigned order);

/* The pageblock order aging and the unusable index use for this memory. */
unsigned guestmem_pageblock_order(const guestmem *m);

/* The guest's page size as an order (0: 4 KiB, 9: 2 MiB). */
unsigned guestmem_page_order(const guestmem *m);

/* The smallest order whose block holds `bytes` (at least min_order). */
unsigned guestmem_order_for(const guestmem *m, uint64_t bytes);

/* Share of free memory in blocks below `order`: 0 when all of it could
 * serve an allocation of that order, 1 when none could. 0 with nothing
 * free. */
double guestmem_unusable_index(const guestmem *m, unsigned order);

void guestmem_get_stats(const guestmem *m, guestmem_stats *out);

#endif
