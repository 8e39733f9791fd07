/*
 * scheme_linear.c -- the request carries (linear address, length).
 *
 * Nothing is registered and nothing needs to be contiguous, but the host
 * must translate every page the request touches, on every request. A hit in
 * the host's translation cache costs a lookup; a miss is a software walk of
 * the guest's page tables as KVM's walker does it: at each level, find the
 * host address of the table page (a memslot lookup) and read the entry (a
 * memory reference), then one more memslot lookup for the data page. Guest
 * remaps move a page to a new frame and invalidate its cached translation.
 */
#include "models/scheme.h"

typedef struct linear {
    paged_buffers pb;           /* first: the paged_scheme_* helpers */
    unsigned levels;            /* guest page-table levels walked */
} linear;

static scheme *create(const scheme_env *env)
{
    linear *s = (linear *)paged_scheme_create(env, sizeof(linear));
    if (s)                      /* a 2 MiB guest page is mapped a level up */
        s->levels = env->cfg->guest_levels - (s->pb.page_order >= 9 ? 1 : 0);
    return (scheme *)s;
}

static int describe(scheme *s, uint32_t slot, uint64_t bytes, scheme_cost *c)
{
    paged_use((paged_buffers *)s, slot, bytes);
    c->kicks += 1;
    return 0;
}

static void resolve(scheme *sch, uint32_t slot, scheme_cost *c)
{
    linear *s = (linear *)sch;
    const scheme_costs *k = s->pb.env.costs;
    for (uint32_t page = 0; page < s->pb.used[slot]; page++) {
        uint64_t lp = paged_linear_page(&s->pb, slot, page);
        if (tcache_access(s->pb.env.tc, s->pb.env.space, lp)) {
            c->tcache_hits++;
            c->host_cycles += k->tcache_hit;
            continue;
        }
        c->tcache_misses++;
        c->walks++;
        c->page_refs += s->levels;
        c->memslot_lookups += s->levels + 1;
        c->host_cycles += s->levels * (k->memslot_lookup + k->mem_ref) + k->memslot_lookup;
    }
}

static int remap(scheme *sch, uint32_t slot, uint32_t page, scheme_cost *c)
{
    linear *s = (linear *)sch;
    int rc = paged_scheme_remap(sch, slot, page, c);
    tcache_invalidate(s->pb.env.tc, s->pb.env.space, paged_linear_page(&s->pb, slot, page));
    return rc;
}

const scheme_ops scheme_linear = {
    .name = "linear",
    .needs = SCHEME_NEEDS(VMM_COST_mem_ref) | SCHEME_NEEDS(VMM_COST_cache_ref) |
             SCHEME_NEEDS(VMM_COST_memslot_lookup) | SCHEME_NEEDS(VMM_COST_tcache_hit),
    .kick = -1,
    .create = create, .setup = paged_scheme_setup, .describe = describe, .resolve = resolve,
    .complete = paged_scheme_complete, .remap = remap, .destroy = paged_scheme_destroy,
};
