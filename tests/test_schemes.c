/*
 * test_schemes.c -- the four buffer schemes as cost planners: walk counts
 * by size and page size, translation-cache hits and invalidation, the
 * physical scheme's fallbacks, page-list registration, sg splitting, and
 * the orderings the comparison rests on.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "models/scheme.h"
#include "sim/error.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

/* Distinct primes, so a total tells which primitives were charged. */
static const scheme_costs costs = {.mem_ref = 101, .memslot_lookup = 7,
                                   .tcache_hit = 3, .copy_per_byte = 0.5,
                                   .pin_per_page = 13};

typedef struct fixture {
    guestmem *mem;
    tcache *tc;
    sim_rng rng;
    scheme_config cfg;
    scheme_env env;
    const scheme_ops *ops;
    scheme *s;
    scheme_cost setup;
} fixture;

static void start(fixture *f, const char *name, uint64_t bytes, uint32_t slots,
                  unsigned page_order, uint32_t tc_entries)
{
    memset(f, 0, sizeof *f);
    f->mem = guestmem_new(GiB, page_order);
    f->tc = tcache_new(tc_entries);
    sim_rng_seed(&f->rng, 1, "scheme-test");
    f->cfg = (scheme_config){.guest_levels = 4, .max_registered = 64, .in_registered = 1.0,
                             .on_fragmented = SCHEME_BOUNCE, .max_sections = 16};
    f->env = (scheme_env){.mem = f->mem, .tc = f->tc, .space = 1, .costs = &costs,
                          .cfg = &f->cfg, .rng = &f->rng, .slots = slots, .bytes = bytes};
    f->ops = scheme_find(name);
    cr_assert_not_null(f->ops, "no scheme %s", name);
}

static void create(fixture *f)
{
    f->s = f->ops->create(&f->env);
    cr_assert_not_null(f->s);
    cr_assert_eq(f->ops->setup(f->s, &f->setup), 0);
}

static scheme_cost request(fixture *f, uint32_t slot)
{
    scheme_cost c = {0};
    cr_assert_eq(f->ops->describe(f->s, slot, f->env.bytes, &c), 0);
    f->ops->resolve(f->s, slot, &c);
    f->ops->complete(f->s, slot);
    return c;
}

static void teardown(fixture *f)
{
    tcache_free(f->tc);
    guestmem_free_all(f->mem);
}

/* Destroys the scheme, checks it gave every frame back, and tears down. */
static void finish(fixture *f)
{
    f->ops->destroy(f->s);
    guestmem_stats st;
    guestmem_get_stats(f->mem, &st);
    cr_assert_eq(st.free_frames, st.frames, "%s kept frames after destroy", f->ops->name);
    teardown(f);
}

/* Aged memory is not all free to begin with: only destroy. */
static void finish_aged(fixture *f)
{
    f->ops->destroy(f->s);
    teardown(f);
}

Test(schemes, names)
{
    cr_assert_eq(scheme_find("linear"), &scheme_linear);
    cr_assert_eq(scheme_find("page-list"), &scheme_pagelist);
    cr_assert_eq(scheme_find("physical"), &scheme_physical);
    cr_assert_eq(scheme_find("sg"), &scheme_sg);
    cr_assert_null(scheme_find("pagelist"));
}

/* A miss walks 4 levels (a memslot lookup and a reference each) and looks
 * the data page up; a hit costs a cache lookup. */
Test(schemes, linear_walks_every_page_once_then_hits)
{
    const uint64_t sizes[] = {4 * KiB, 64 * KiB, MiB};
    for (size_t i = 0; i < 3; i++) {
        fixture f;
        start(&f, "linear", sizes[i], 2, 0, 4096);
        create(&f);
        uint32_t pages = (uint32_t)(sizes[i] / (4 * KiB));
        scheme_cost c = request(&f, 0);
        cr_assert_eq(c.kicks, 1);
        cr_assert_eq(c.walks, pages);
        cr_assert_eq(c.page_refs, 4 * pages);
        cr_assert_eq(c.memslot_lookups, 5 * pages);
        cr_assert_eq(c.host_cycles, pages * (4 * (7 + 101) + 7));
        c = request(&f, 0);
        cr_assert_eq(c.walks, 0);
        cr_assert_eq(c.tcache_hits, pages);
        cr_assert_eq(c.host_cycles, pages * 3);
        finish(&f);
    }
}

Test(schemes, linear_with_huge_pages_walks_three_levels_per_2MiB)
{
    fixture f;
    start(&f, "linear", MiB, 1, 9, 4096);
    create(&f);
    scheme_cost c = request(&f, 0);
    cr_assert_eq(c.walks, 1);
    cr_assert_eq(c.page_refs, 3);
    finish(&f);
}

Test(schemes, linear_remap_invalidates_one_page)
{
    fixture f;
    start(&f, "linear", 64 * KiB, 1, 0, 4096);
    create(&f);
    request(&f, 0);
    scheme_cost r = {0};
    f.ops->remap(f.s, 0, 5, &r);
    cr_assert_eq(r.alloc_failures, 0);
    scheme_cost c = request(&f, 0);
    cr_assert_eq(c.tcache_misses, 1);
    cr_assert_eq(c.tcache_hits, 15);
    finish(&f);
}

/* A cache smaller than the working set thrashes under LRU: every page
 * misses every time. */
Test(schemes, linear_thrashes_a_small_cache)
{
    fixture f;
    start(&f, "linear", 64 * KiB, 1, 0, 8);
    create(&f);
    request(&f, 0);
    scheme_cost c = request(&f, 0);
    cr_assert_eq(c.tcache_misses, 16);
    finish(&f);
}

Test(schemes, pagelist_host_cost_does_not_grow_with_size)
{
    const uint64_t sizes[] = {4 * KiB, 64 * KiB, MiB};
    for (size_t i = 0; i < 3; i++) {
        fixture f;
        start(&f, "page-list", sizes[i], 4, 0, 64);
        create(&f);
        uint32_t pages = (uint32_t)(sizes[i] / (4 * KiB));
        /* Registration: one exit per buffer, a lookup and a pin per page. */
        cr_assert_eq(f.setup.registrations, 4);
        cr_assert_eq(f.setup.extra_exits, 4);
        cr_assert_eq(f.setup.pins, 4 * pages);
        cr_assert_eq(f.setup.register_cycles, 4 * pages * (7 + 13));
        cr_assert_eq(f.setup.host_cycles, 0);
        scheme_cost c = request(&f, 2);
        cr_assert_eq(c.kicks, 1);
        cr_assert_eq(c.host_cycles, 0);
        cr_assert_eq(c.copy_bytes, 0);
        finish(&f);
    }
}

Test(schemes, pagelist_copies_outside_the_registry_and_reregisters_after_remap)
{
    fixture f;
    start(&f, "page-list", 8 * KiB, 4, 0, 64);
    f.cfg.max_registered = 2;
    create(&f);
    cr_assert_eq(f.setup.registrations, 2);
    scheme_cost c = request(&f, 3);                 /* beyond the registry */
    cr_assert_eq(c.copy_bytes, 8 * KiB);
    cr_assert_eq(c.copy_cycles, 4 * KiB);           /* 0.5 cycle per byte */
    scheme_cost r = {0};
    f.ops->remap(f.s, 1, 0, &r);
    c = request(&f, 1);
    cr_assert_eq(c.registrations, 1);
    cr_assert_eq(c.pins, 2);
    cr_assert_eq(c.extra_exits, 1);                 /* the guest takes it as a hypercall */
    cr_assert_eq(c.copy_cycles, 0);
    cr_assert_eq(request(&f, 1).registrations, 0);
    finish(&f);
}

Test(schemes, pagelist_copies_the_share_not_in_place)
{
    fixture f;
    start(&f, "page-list", 4 * KiB, 1, 0, 64);
    f.cfg.in_registered = 0.75;
    create(&f);
    uint64_t copies = 0;
    for (int i = 0; i < 4000; i++)
        copies += request(&f, 0).copy_bytes != 0;
    cr_assert(copies > 900 && copies < 1100, "%llu copies of 4000", (unsigned long long)copies);
    finish(&f);
}

Test(schemes, physical_needs_one_lookup_whatever_the_size)
{
    const uint64_t sizes[] = {4 * KiB, 64 * KiB, MiB};
    for (size_t i = 0; i < 3; i++) {
        fixture f;
        start(&f, "physical", sizes[i], 2, 0, 64);
        create(&f);
        scheme_cost c = request(&f, 0);
        cr_assert_eq(c.kicks, 1);
        cr_assert_eq(c.memslot_lookups, 1);
        cr_assert_eq(c.host_cycles, 7);
        cr_assert_eq(c.alloc_failures, 0);
        finish(&f);
    }
}

/* Aged so that no free run reaches 1 MiB: each fallback does what it says. */
static void start_fragmented(fixture *f, int on_fragmented)
{
    start(f, "physical", MiB, 1, 0, 64);
    f->cfg.on_fragmented = on_fragmented;
    cr_assert_eq(guestmem_age(f->mem, 0.5, 1.0, &f->rng), 0);
    create(f);
}

Test(schemes, physical_bounces_when_fragmented)
{
    fixture f;
    start_fragmented(&f, SCHEME_BOUNCE);
    scheme_cost c = request(&f, 0);
    cr_assert_eq(c.alloc_failures, 1);
    cr_assert_eq(c.kicks, 1);
    cr_assert_eq(c.bounce_bytes, MiB);
    cr_assert_eq(c.copy_cycles, MiB / 2);
    cr_assert_eq(c.memslot_lookups, 1);
    finish_aged(&f);
}

Test(schemes, physical_splits_when_fragmented)
{
    fixture f;
    start_fragmented(&f, SCHEME_SPLIT);
    guestmem_stats before, during;
    guestmem_get_stats(f.mem, &before);
    scheme_cost c = {0};
    cr_assert_eq(f.ops->describe(f.s, 0, f.env.bytes, &c), 0);
    guestmem_get_stats(f.mem, &during);
    cr_assert_eq(c.alloc_failures, 1);
    cr_assert_gt(c.kicks, 1);
    cr_assert_geq((before.free_frames - during.free_frames) * 4 * KiB, MiB);
    f.ops->resolve(f.s, 0, &c);
    cr_assert_eq(c.memslot_lookups, c.kicks);
    f.ops->complete(f.s, 0);
    guestmem_get_stats(f.mem, &during);
    cr_assert_eq(during.free_frames, before.free_frames);
    finish_aged(&f);
}

Test(schemes, physical_fails_when_told_to)
{
    fixture f;
    start_fragmented(&f, SCHEME_FAIL);
    scheme_cost c = {0};
    cr_assert_eq(f.ops->describe(f.s, 0, f.env.bytes, &c), SIM_ENOSPACE);
    cr_assert_eq(c.kicks, 0);
    cr_assert_eq(c.alloc_failures, 1);
    finish_aged(&f);
}

Test(schemes, sg_splits_into_descriptors_of_sixteen_sections)
{
    const uint64_t sizes[] = {4 * KiB, 64 * KiB, 68 * KiB, MiB};
    const uint32_t kicks[] = {1, 1, 2, 16};
    for (size_t i = 0; i < 4; i++) {
        fixture f;
        start(&f, "sg", sizes[i], 1, 0, 64);
        create(&f);
        scheme_cost c = request(&f, 0);
        cr_assert_eq(c.kicks, kicks[i], "size %llu", (unsigned long long)sizes[i]);
        cr_assert_eq(c.memslot_lookups, sizes[i] / (4 * KiB));
        cr_assert_eq(c.walks, 0);
        finish(&f);
    }
}

/* The orderings the comparison rests on, for a 1 MiB buffer on a cold
 * cache: linear's host cost is the largest, physical's the smallest of the
 * three that resolve anything, page-list's nothing per request. */
Test(schemes, host_cost_ordering_on_a_cold_cache)
{
    uint64_t host[4];
    const char *names[] = {"linear", "sg", "physical", "page-list"};
    for (int i = 0; i < 4; i++) {
        fixture f;
        start(&f, names[i], MiB, 1, 0, 4096);
        create(&f);
        host[i] = request(&f, 0).host_cycles;
        finish(&f);
    }
    cr_assert_gt(host[0], host[1]);
    cr_assert_gt(host[1], host[2]);
    cr_assert_gt(host[2], host[3]);
}

Test(schemes, setup_fails_cleanly_when_buffers_do_not_fit)
{
    fixture f;
    start(&f, "linear", MiB, 2048, 0, 64);         /* 2 GiB of buffers in 1 GiB */
    f.s = f.ops->create(&f.env);
    cr_assert_not_null(f.s);
    cr_assert_eq(f.ops->setup(f.s, &f.setup), SIM_ENOSPACE);
    finish(&f);
}

/* What a scheme charges, over go-live, requests and remaps, with the
 * scheme costs `k`: the sum of every cost field. */
static uint64_t charged(const char *name, const scheme_costs *k)
{
    fixture f;
    /* 4 MiB requests in memory with no free 2 MiB run: physical bounces;
     * 4,096 cache entries: linear hits, and walks after remaps. */
    start(&f, name, 4 * MiB, 4, 0, 4096);
    f.cfg.in_registered = 0.5;              /* page-list copies some */
    f.env.costs = k;
    cr_assert_eq(guestmem_age(f.mem, 0.5, 1.0, &f.rng), 0);
    create(&f);
    uint64_t sum = f.setup.copy_cycles + f.setup.host_cycles + f.setup.register_cycles;
    for (int round = 0; round < 8; round++) {
        for (uint32_t slot = 0; slot < 4; slot++) {
            scheme_cost c = request(&f, slot);
            sum += c.copy_cycles + c.host_cycles + c.register_cycles;
        }
        scheme_cost r = {0};
        cr_assert_eq(f.ops->remap(f.s, (uint32_t)round % 4, 3, &r), 0);
    }
    finish_aged(&f);
    return sum;
}

/* Each scheme declares the primitives it charges (scheme_ops.needs), and
 * the loader asks a scenario only for those: so a primitive it does not
 * declare must change nothing it charges, and each one it declares must
 * be charged. */
Test(schemes, each_scheme_charges_exactly_what_it_declares)
{
    static const struct {
        vmm_cost_id id;
        size_t offset;                      /* its field in scheme_costs */
        int real;
    } fields[] = {
        {VMM_COST_mem_ref, offsetof(scheme_costs, mem_ref), 0},
        {VMM_COST_memslot_lookup, offsetof(scheme_costs, memslot_lookup), 0},
        {VMM_COST_tcache_hit, offsetof(scheme_costs, tcache_hit), 0},
        {VMM_COST_copy_per_kib, offsetof(scheme_costs, copy_per_byte), 1},
        {VMM_COST_pin_per_page, offsetof(scheme_costs, pin_per_page), 0},
    };
    const char *names[] = {"linear", "page-list", "physical", "sg"};
    for (size_t n = 0; n < 4; n++) {
        const scheme_ops *ops = scheme_find(names[n]);
        uint64_t base = charged(names[n], &costs);
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            scheme_costs k = costs;
            char *field = (char *)&k + fields[i].offset;
            if (fields[i].real)
                *(double *)(void *)field *= 1000;
            else
                *(uint64_t *)(void *)field *= 1000;
            int declared = (ops->needs & SCHEME_NEEDS(fields[i].id)) != 0;
            uint64_t sum = charged(names[n], &k);
            cr_assert_eq(sum != base, declared, "%s: %s is %s but %s", names[n],
                         vmm_cost_key(fields[i].id), declared ? "declared" : "not declared",
                         sum != base ? "charged" : "not charged");
        }
    }
}
