/*
 * test_guestmem.c -- the sparse buddy allocator: layout, splitting and
 * merging, no overlapping blocks over random sequences, aging to a target
 * fragmentation, and the sparse representation.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/guestmem.h"
#include "sim/error.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

Test(guestmem, fresh_memory_is_the_largest_aligned_blocks)
{
    guestmem *m = guestmem_new(64 * GiB, 0);
    cr_assert_not_null(m);
    guestmem_stats st;
    guestmem_get_stats(m, &st);
    cr_assert_eq(st.frames, 16ull << 20);
    cr_assert_eq(st.free_frames, st.frames);
    cr_assert_eq(st.free_blocks[GM_MAX_ORDER], 64);
    cr_assert_eq(st.stored_blocks, 64);
    guestmem_free_all(m);

    m = guestmem_new(GiB + 12 * 1024, 0);
    guestmem_get_stats(m, &st);
    cr_assert_eq(st.free_blocks[GM_MAX_ORDER], 1);
    cr_assert_eq(st.free_blocks[1], 1);
    cr_assert_eq(st.free_blocks[0], 1);
    guestmem_free_all(m);
}

Test(guestmem, bad_sizes_are_refused)
{
    cr_assert_null(guestmem_new(0, 0));
    cr_assert_null(guestmem_new(4097, 0));
    cr_assert_null(guestmem_new(4 * MiB + 4096, 9));   /* not whole 2 MiB pages */
    cr_assert_null(guestmem_new(4 * MiB, GM_MAX_ORDER + 1));
    cr_assert_null(guestmem_new((GM_MAX_FRAMES + 1) << GM_FRAME_SHIFT, 0));
}

Test(guestmem, split_then_merge_restores_the_block)
{
    guestmem *m = guestmem_new(4 * MiB, 0);             /* 1024 frames, order 10 */
    uint64_t a, b, c;
    cr_assert_eq(guestmem_alloc(m, 0, &a), 0);
    cr_assert_eq(guestmem_alloc(m, 0, &b), 0);
    cr_assert_eq(guestmem_alloc(m, 3, &c), 0);
    cr_assert_eq(a, 0);
    cr_assert_eq(b, 1);                                  /* the buddy of a */
    cr_assert_eq(c % 8, 0);
    guestmem_stats st;
    guestmem_get_stats(m, &st);
    cr_assert_eq(st.free_frames, 1024 - 10);
    cr_assert_eq(guestmem_release(m, b, 0), 0);
    cr_assert_eq(guestmem_release(m, c, 3), 0);
    cr_assert_eq(guestmem_release(m, a, 0), 0);
    guestmem_get_stats(m, &st);
    cr_assert_eq(st.free_blocks[10], 1);
    cr_assert_eq(st.stored_blocks, 1);
    guestmem_free_all(m);
}

Test(guestmem, release_refuses_what_it_can_see_is_wrong)
{
    guestmem *m = guestmem_new(4 * MiB, 0);
    uint64_t a;
    cr_assert_eq(guestmem_alloc(m, 2, &a), 0);
    cr_assert_eq(guestmem_release(m, a + 1, 2), SIM_EINVAL);    /* misaligned */
    cr_assert_eq(guestmem_release(m, 1024, 0), SIM_EINVAL);     /* outside */
    cr_assert_eq(guestmem_release(m, 1020, 3), SIM_EINVAL);     /* runs past end */
    cr_assert_eq(guestmem_release(m, a, 2), 0);
    cr_assert_eq(guestmem_release(m, a, 10), SIM_EINVAL);       /* already free */
    cr_assert_eq(guestmem_alloc(m, 11, &a), SIM_ENOSPACE);
    cr_assert_eq(guestmem_alloc(m, GM_MAX_ORDER + 1, &a), SIM_EINVAL);
    guestmem_free_all(m);
}

Test(guestmem, huge_pages_hand_out_nothing_smaller)
{
    guestmem *m = guestmem_new(64 * MiB, 9);
    uint64_t f;
    cr_assert_eq(guestmem_alloc(m, 0, &f), SIM_EINVAL);
    cr_assert_eq(guestmem_alloc(m, 9, &f), 0);
    cr_assert_eq(f % 512, 0);
    cr_assert_eq(guestmem_order_for(m, 4096), 9);
    cr_assert_eq(guestmem_release(m, f, 9), 0);
    guestmem_free_all(m);
}

Test(guestmem, order_for_rounds_up_to_a_power_of_two)
{
    guestmem *m = guestmem_new(64 * MiB, 0);
    cr_assert_eq(guestmem_order_for(m, 1), 0);
    cr_assert_eq(guestmem_order_for(m, 4096), 0);
    cr_assert_eq(guestmem_order_for(m, 4097), 1);
    cr_assert_eq(guestmem_order_for(m, MiB), 8);
    cr_assert_eq(guestmem_order_for(m, 3 * MiB), 10);
    guestmem_free_all(m);
}

typedef struct held {
    uint64_t frame;
    unsigned order;
} held;

static int overlaps(held a, held b)
{
    return a.frame < b.frame + (1ull << b.order) && b.frame < a.frame + (1ull << a.order);
}

/* Property: over random allocate/release sequences, no two allocated blocks
 * overlap, every block is aligned and inside memory, and free plus held
 * frames always add up to all frames. At the end everything merges back. */
Test(guestmem, random_sequences_never_hand_out_overlapping_blocks)
{
    enum { MAX_HELD = 600 };
    static held h[MAX_HELD];
    for (uint64_t seed = 1; seed <= 5; seed++) {
        guestmem *m = guestmem_new(16 * MiB, 0);         /* 4096 frames */
        sim_rng rng;
        sim_rng_seed(&rng, seed, "guestmem-property");
        int n = 0;
        uint64_t held_frames = 0;
        for (int step = 0; step < 20000; step++) {
            if (n < MAX_HELD && sim_rng_below(&rng, 100) < 55) {
                held b = {0, (unsigned)sim_rng_below(&rng, 7)};
                int rc = guestmem_alloc(m, b.order, &b.frame);
                if (rc == SIM_ENOSPACE)
                    continue;
                cr_assert_eq(rc, 0);
                cr_assert_eq(b.frame % (1ull << b.order), 0);
                cr_assert_leq(b.frame + (1ull << b.order), 4096);
                for (int i = 0; i < n; i++)
                    cr_assert(!overlaps(b, h[i]), "seed %llu step %d: overlap",
                              (unsigned long long)seed, step);
                h[n++] = b;
                held_frames += 1ull << b.order;
            } else if (n > 0) {
                int i = (int)sim_rng_below(&rng, (uint64_t)n);
                cr_assert_eq(guestmem_release(m, h[i].frame, h[i].order), 0);
                held_frames -= 1ull << h[i].order;
                h[i] = h[--n];
            }
            guestmem_stats st;
            guestmem_get_stats(m, &st);
            cr_assert_eq(st.free_frames + held_frames, 4096);
        }
        for (; n > 0; n--)
            cr_assert_eq(guestmem_release(m, h[n - 1].frame, h[n - 1].order), 0);
        guestmem_stats st;
        guestmem_get_stats(m, &st);
        cr_assert_eq(st.stored_blocks, 1);
        cr_assert_eq(st.free_blocks[12], 1);
        guestmem_free_all(m);
    }
}

static void age(guestmem *m, double used, double frag, uint64_t seed)
{
    sim_rng rng;
    sim_rng_seed(&rng, seed, "guestmem-age");
    cr_assert_eq(guestmem_age(m, used, frag, &rng), 0);
}

/* Aging meets the asked free share and unusable index closely, wherever
 * the pair is reachable (mixed pageblocks are about half free, so at most
 * free memory can be unusable only while 1 - used <= 1/2). */
Test(guestmem, aging_reaches_the_target)
{
    const double cases[][2] = {{0.5, 0.0}, {0.5, 0.3}, {0.5, 0.9}, {0.7, 0.5},
                               {0.2, 0.2}, {0.9, 1.0}, {0.0, 0.0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double used = cases[c][0], frag = cases[c][1];
        guestmem *m = guestmem_new(4 * GiB, 0);
        age(m, used, frag, 7);
        guestmem_stats st;
        guestmem_get_stats(m, &st);
        double free_share = (double)st.free_frames / (double)st.frames;
        double index = guestmem_unusable_index(m, GM_PAGEBLOCK_ORDER);
        cr_assert(fabs(free_share - (1 - used)) < 0.03, "used %.2f frag %.2f: free %.3f",
                  used, frag, free_share);
        cr_assert(fabs(index - frag) < 0.05, "used %.2f frag %.2f: index %.3f", used,
                  frag, index);
        guestmem_free_all(m);
    }
}

Test(guestmem, full_fragmentation_leaves_no_pageblock)
{
    guestmem *m = guestmem_new(GiB, 0);
    age(m, 0.5, 1.0, 3);
    uint64_t f;
    cr_assert_eq(guestmem_alloc(m, GM_PAGEBLOCK_ORDER, &f), SIM_ENOSPACE);
    cr_assert_eq(guestmem_alloc(m, 0, &f), 0);
    guestmem_stats st;
    guestmem_get_stats(m, &st);
    cr_assert_lt(st.largest_free_order, GM_PAGEBLOCK_ORDER);
    guestmem_free_all(m);
}

Test(guestmem, aging_is_deterministic_and_needs_fresh_memory)
{
    guestmem *a = guestmem_new(GiB, 0), *b = guestmem_new(GiB, 0);
    age(a, 0.6, 0.4, 11);
    age(b, 0.6, 0.4, 11);
    for (int i = 0; i < 1000; i++) {
        uint64_t fa, fb;
        int ra = guestmem_alloc(a, (unsigned)(i % 5), &fa);
        int rb = guestmem_alloc(b, (unsigned)(i % 5), &fb);
        cr_assert_eq(ra, rb);
        if (ra == 0)
            cr_assert_eq(fa, fb);
    }
    sim_rng rng;
    sim_rng_seed(&rng, 1, "x");
    cr_assert_eq(guestmem_age(a, 0.5, 0.5, &rng), SIM_EINVAL);
    guestmem *c = guestmem_new(GiB, 0);
    cr_assert_eq(guestmem_age(c, 1.5, 0.5, &rng), SIM_EINVAL);
    cr_assert_eq(guestmem_age(c, 0.5, NAN, &rng), SIM_EINVAL);
    guestmem_free_all(a);
    guestmem_free_all(b);
    guestmem_free_all(c);
}

/* A 64 GiB guest, aged, holds free blocks only: a few per whole free
 * region, and at most half a pageblock's frames per mixed pageblock (the
 * 2 * free * fragmentation share of them), never anything per frame. */
Test(guestmem, a_large_guest_stays_sparse)
{
    guestmem *m = guestmem_new(64 * GiB, 0);
    age(m, 0.5, 0.3, 5);
    guestmem_stats st;
    guestmem_get_stats(m, &st);
    uint64_t pageblocks = st.frames >> GM_PAGEBLOCK_ORDER;
    uint64_t mixed = (uint64_t)(2 * 0.5 * 0.3 * (double)pageblocks + 0.5);
    uint64_t bound = mixed * (1u << GM_PAGEBLOCK_ORDER) / 2 + pageblocks;
    cr_assert_lt(st.stored_blocks, bound, "%llu blocks, bound %llu",
                 (unsigned long long)st.stored_blocks, (unsigned long long)bound);
    guestmem_free_all(m);
}

Test(guestmem, a_clone_behaves_like_the_original_and_is_independent)
{
    guestmem *a = guestmem_new(GiB, 0);
    age(a, 0.6, 0.5, 13);
    guestmem *b = guestmem_clone(a);
    cr_assert_not_null(b);
    for (int i = 0; i < 2000; i++) {
        uint64_t fa, fb;
        int ra = guestmem_alloc(a, (unsigned)(i % 6), &fa);
        int rb = guestmem_alloc(b, (unsigned)(i % 6), &fb);
        cr_assert_eq(ra, rb);
        if (ra == 0)
            cr_assert_eq(fa, fb);
    }
    uint64_t f;
    cr_assert_eq(guestmem_alloc(a, 0, &f), 0);          /* only a changes */
    guestmem_stats sa, sb;
    guestmem_get_stats(a, &sa);
    guestmem_get_stats(b, &sb);
    cr_assert_eq(sa.free_frames + 1, sb.free_frames);
    guestmem_free_all(a);
    guestmem_free_all(b);
}

/* With 2 MiB pages the pageblock is 16 pages, so even a small guest has
 * pageblocks to age and keeps free memory in whole pages. */
Test(guestmem, huge_page_memory_ages_in_32MiB_pageblocks)
{
    guestmem *m = guestmem_new(GiB, 9);
    cr_assert_eq(guestmem_pageblock_order(m), 13);
    age(m, 0.5, 0.5, 3);
    guestmem_stats st;
    guestmem_get_stats(m, &st);
    double free_share = (double)st.free_frames / (double)st.frames;
    cr_assert(fabs(free_share - 0.5) < 0.1, "free %.3f", free_share);
    for (int o = 0; o < 9; o++)
        cr_assert_eq(st.free_blocks[o], 0);
    double index = guestmem_unusable_index(m, guestmem_pageblock_order(m));
    cr_assert(fabs(index - 0.5) < 0.15, "index %.3f", index);
    guestmem_free_all(m);
}

/* A shared copy hands out exactly what a clone does, block for block, over
 * a random sequence of allocations and releases (releases merge with the
 * base's blocks, allocations take them), and the base never changes. */
Test(guestmem, a_shared_copy_behaves_like_a_clone_and_leaves_its_base_alone)
{
    enum { MAX_HELD = 400 };
    static held h[MAX_HELD];
    guestmem *base = guestmem_new(256 * MiB, 0);
    age(base, 0.5, 0.7, 21);
    guestmem_stats before, st_c, st_s;
    guestmem_get_stats(base, &before);
    guestmem *c = guestmem_clone(base), *s = guestmem_share(base);
    cr_assert(c && s);
    sim_rng rng;
    sim_rng_seed(&rng, 4, "guestmem-share");
    int n = 0;
    for (int step = 0; step < 20000; step++) {
        if (n < MAX_HELD && sim_rng_below(&rng, 100) < 55) {
            held b = {0, (unsigned)sim_rng_below(&rng, 10)};
            uint64_t fc;
            int rc = guestmem_alloc(c, b.order, &fc);
            cr_assert_eq(guestmem_alloc(s, b.order, &b.frame), rc);
            if (rc == 0) {
                cr_assert_eq(b.frame, fc, "step %d", step);
                h[n++] = b;
            }
        } else if (n > 0) {
            int i = (int)sim_rng_below(&rng, (uint64_t)n);
            cr_assert_eq(guestmem_release(c, h[i].frame, h[i].order), 0);
            cr_assert_eq(guestmem_release(s, h[i].frame, h[i].order), 0);
            h[i] = h[--n];
        }
    }
    guestmem_get_stats(c, &st_c);
    guestmem_get_stats(s, &st_s);
    cr_assert_eq(memcmp(&st_c, &st_s, sizeof st_c), 0);
    /* Giving every block back merges them into the base's blocks again,
     * through the TOMBs and overrides the steps left. */
    guestmem *c2 = guestmem_clone(c), *s2 = guestmem_clone(s);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(guestmem_release(c2, h[i].frame, h[i].order), 0);
        cr_assert_eq(guestmem_release(s2, h[i].frame, h[i].order), 0);
    }
    guestmem_get_stats(c2, &st_c);
    guestmem_get_stats(s2, &st_s);
    cr_assert_eq(memcmp(&st_c, &st_s, sizeof st_c), 0);
    cr_assert_eq(memcmp(&st_c, &before, sizeof st_c), 0, "not the base's blocks again");
    guestmem_free_all(c2);
    guestmem_free_all(s2);
    guestmem *again = guestmem_clone(s);        /* reads the same base */
    uint64_t fa, fs;
    cr_assert_eq(guestmem_alloc(again, 3, &fa), guestmem_alloc(s, 3, &fs));
    cr_assert_eq(fa, fs);
    guestmem_free_all(again);
    guestmem_free_all(s);
    guestmem_free_all(c);
    guestmem_stats after;
    guestmem_get_stats(base, &after);
    cr_assert_eq(memcmp(&before, &after, sizeof before), 0);
    guestmem_free_all(base);
}
