/*
 * test_tcache.c -- the LRU translation cache against its contract and
 * against a naive reference LRU over random operations.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "models/tcache.h"
#include "sim/rng.h"

Test(tcache, miss_then_hit)
{
    tcache *c = tcache_new(4);
    cr_assert_eq(tcache_access(c, 1, 100), 0);
    cr_assert_eq(tcache_access(c, 1, 100), 1);
    cr_assert_eq(tcache_access(c, 2, 100), 0);     /* another space */
    tcache_stats st;
    tcache_get_stats(c, &st);
    cr_assert_eq(st.hits, 1);
    cr_assert_eq(st.misses, 2);
    cr_assert_eq(st.used, 2);
    tcache_free(c);
}

Test(tcache, evicts_the_least_recently_used)
{
    tcache *c = tcache_new(3);
    tcache_access(c, 0, 'A');
    tcache_access(c, 0, 'B');
    tcache_access(c, 0, 'C');
    cr_assert_eq(tcache_access(c, 0, 'A'), 1);     /* B is now the oldest */
    cr_assert_eq(tcache_access(c, 0, 'D'), 0);     /* evicts B */
    cr_assert_eq(tcache_access(c, 0, 'C'), 1);
    cr_assert_eq(tcache_access(c, 0, 'A'), 1);
    cr_assert_eq(tcache_access(c, 0, 'D'), 1);
    cr_assert_eq(tcache_access(c, 0, 'B'), 0);     /* was evicted; evicts C */
    cr_assert_eq(tcache_access(c, 0, 'C'), 0);
    tcache_stats st;
    tcache_get_stats(c, &st);
    cr_assert_eq(st.evictions, 3);
    tcache_free(c);
}

Test(tcache, invalidation_forgets_pages_and_spaces)
{
    tcache *c = tcache_new(16);
    for (uint64_t p = 0; p < 5; p++) {
        tcache_access(c, 1, p);
        tcache_access(c, 2, p);
    }
    cr_assert_eq(tcache_invalidate(c, 1, 3), 1);
    cr_assert_eq(tcache_invalidate(c, 1, 3), 0);
    cr_assert_eq(tcache_access(c, 1, 3), 0);
    cr_assert_eq(tcache_invalidate_space(c, 2), 5);
    for (uint64_t p = 0; p < 5; p++)
        cr_assert_eq(tcache_access(c, 1, p), 1, "page %llu of space 1", (unsigned long long)p);
    cr_assert_eq(tcache_access(c, 2, 0), 0);
    tcache_stats st;
    tcache_get_stats(c, &st);
    cr_assert_eq(st.invalidations, 6);
    cr_assert_eq(st.used, 6);
    tcache_free(c);
}

Test(tcache, bad_sizes_are_refused)
{
    cr_assert_null(tcache_new(0));
    cr_assert_null(tcache_new((1u << 30) + 1));
}

/* The reference: an array ordered from most to least recent. */
typedef struct ref_lru {
    uint32_t space[64];
    uint64_t page[64];
    int n, cap;
} ref_lru;

static int ref_find(const ref_lru *r, uint32_t s, uint64_t p)
{
    for (int i = 0; i < r->n; i++)
        if (r->space[i] == s && r->page[i] == p)
            return i;
    return -1;
}

static void ref_remove(ref_lru *r, int i)
{
    memmove(&r->space[i], &r->space[i + 1], (size_t)(r->n - i - 1) * sizeof r->space[0]);
    memmove(&r->page[i], &r->page[i + 1], (size_t)(r->n - i - 1) * sizeof r->page[0]);
    r->n--;
}

static int ref_access(ref_lru *r, uint32_t s, uint64_t p)
{
    int i = ref_find(r, s, p);
    int hit = i >= 0;
    if (hit)
        ref_remove(r, i);
    else if (r->n == r->cap)
        r->n--;                                     /* drop the oldest */
    memmove(&r->space[1], &r->space[0], (size_t)r->n * sizeof r->space[0]);
    memmove(&r->page[1], &r->page[0], (size_t)r->n * sizeof r->page[0]);
    r->space[0] = s;
    r->page[0] = p;
    r->n++;
    return hit;
}

Test(tcache, random_operations_match_a_reference_lru)
{
    for (int cap = 1; cap <= 64; cap *= 4) {
        tcache *c = tcache_new((uint32_t)cap);
        ref_lru r = {.cap = cap};
        sim_rng rng;
        sim_rng_seed(&rng, (uint64_t)cap, "tcache");
        for (int step = 0; step < 20000; step++) {
            uint32_t s = (uint32_t)sim_rng_below(&rng, 3);
            uint64_t p = sim_rng_below(&rng, (uint64_t)cap * 2);
            uint64_t op = sim_rng_below(&rng, 100);
            if (op < 85) {
                cr_assert_eq(tcache_access(c, s, p), ref_access(&r, s, p),
                             "cap %d step %d", cap, step);
            } else if (op < 98) {
                int i = ref_find(&r, s, p);
                if (i >= 0)
                    ref_remove(&r, i);
                cr_assert_eq(tcache_invalidate(c, s, p), i >= 0);
            } else {
                uint32_t n = 0;
                for (int i = r.n - 1; i >= 0; i--)
                    if (r.space[i] == s)
                        ref_remove(&r, i), n++;
                cr_assert_eq(tcache_invalidate_space(c, s), n);
            }
            tcache_stats st;
            tcache_get_stats(c, &st);
            cr_assert_eq(st.used, (uint32_t)r.n);
        }
        tcache_free(c);
    }
}
