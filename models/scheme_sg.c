/*
 * scheme_sg.c -- lguest's shape: a descriptor of up to max_sections
 * (guest-physical address, length) sections, each within one page.
 *
 * The guest writes one section per page of the buffer (pages are
 * scattered, and lguest sections may not cross a page), and a longer list
 * is split into several descriptors, each sent with its own hypercall. The
 * host converts each section's guest-physical address with a memslot
 * lookup; there is no page walk and nothing to cache.
 */
#include "models/fabric.h"
#include "models/scheme.h"

static scheme *create(const scheme_env *env)
{
    return paged_scheme_create(env, sizeof(paged_buffers));
}

static int describe(scheme *s, uint32_t slot, uint64_t bytes, scheme_cost *c)
{
    paged_buffers *pb = (paged_buffers *)s;
    uint32_t per = pb->env.cfg->max_sections;
    c->kicks += (paged_use(pb, slot, bytes) + per - 1) / per;
    return 0;
}

static void resolve(scheme *s, uint32_t slot, scheme_cost *c)
{
    const paged_buffers *pb = (const paged_buffers *)s;
    c->memslot_lookups += pb->used[slot];
    c->host_cycles += (uint64_t)pb->used[slot] * pb->env.costs->memslot_lookup;
}

const scheme_ops scheme_sg = {
    .name = "sg",
    .needs = SCHEME_NEEDS(VMM_COST_memslot_lookup),
    .kick = FABRIC_KICK_HYPERCALL,
    .create = create, .setup = paged_scheme_setup, .describe = describe, .resolve = resolve,
    .complete = paged_scheme_complete, .remap = paged_scheme_remap,
    .destroy = paged_scheme_destroy, .page_list = paged_scheme_page_list,
};
