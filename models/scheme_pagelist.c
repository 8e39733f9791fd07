/*
 * scheme_pagelist.c -- buffers registered once, then named by (id, offset,
 * length).
 *
 * At go-live the driver registers up to max_registered buffers: one exit
 * carries the list of a buffer's physical pages, and the host looks up,
 * validates and pins every page. A request then costs the host an index
 * into its registry, which this model counts as free (a few instructions
 * beside exits and walks). The costs lie elsewhere: registration, pinned
 * memory, slots beyond the registry, data that is not already in a
 * registered buffer (the guest copies it in), and re-registration of a
 * buffer after the guest remapped one of its pages.
 */
#include "models/scheme.h"

#include <stdlib.h>

enum { UNREGISTERED, REGISTERED, STALE };

typedef struct pagelist {
    paged_buffers pb;           /* first: the paged_scheme_* helpers */
    unsigned char *state;       /* per slot */
} pagelist;

static scheme *create(const scheme_env *env)
{
    pagelist *s = (pagelist *)paged_scheme_create(env, sizeof(pagelist));
    if (!s)
        return NULL;
    s->state = calloc(env->slots ? env->slots : 1, 1);
    if (!s->state) {
        paged_scheme_destroy((scheme *)s);
        return NULL;
    }
    return (scheme *)s;
}

/* One exit with the page list; the host looks up and pins every page. */
static void register_buffer(pagelist *s, uint32_t slot, scheme_cost *c)
{
    const scheme_costs *k = s->pb.env.costs;
    uint32_t n = s->pb.npages;
    c->registrations++;
    c->extra_exits++;
    c->memslot_lookups += n;
    c->pins += n;
    c->register_cycles += (uint64_t)n * (k->memslot_lookup + k->pin_per_page);
    s->state[slot] = REGISTERED;
}

static int setup(scheme *sch, scheme_cost *c)
{
    pagelist *s = (pagelist *)sch;
    int rc = paged_scheme_setup(sch, c);
    uint32_t n = s->pb.env.slots < s->pb.env.cfg->max_registered
                     ? s->pb.env.slots : s->pb.env.cfg->max_registered;
    for (uint32_t slot = 0; rc == 0 && slot < n; slot++)
        register_buffer(s, slot, c);
    return rc;
}

static int describe(scheme *sch, uint32_t slot, uint64_t bytes, scheme_cost *c)
{
    pagelist *s = (pagelist *)sch;
    paged_use(&s->pb, slot, bytes);
    if (s->state[slot] == STALE)
        register_buffer(s, slot, c);
    /* Draw for every request, registered or not, so the stream advances
     * the same way whatever the registry holds. */
    int in_place = sim_rng_unit(s->pb.env.rng) < s->pb.env.cfg->in_registered;
    if (s->state[slot] == UNREGISTERED || !in_place) {
        c->copy_bytes += bytes;
        c->copy_cycles += (uint64_t)((double)bytes * s->pb.env.costs->copy_per_byte + 0.5);
    }
    c->kicks += 1;
    return 0;
}

static void resolve(scheme *s, uint32_t slot, scheme_cost *c)
{
    (void)s, (void)slot, (void)c;
}

static int remap(scheme *sch, uint32_t slot, uint32_t page, scheme_cost *c)
{
    pagelist *s = (pagelist *)sch;
    int rc = paged_scheme_remap(sch, slot, page, c);
    if (s->state[slot] == REGISTERED)
        s->state[slot] = STALE;
    return rc;
}

static void destroy(scheme *sch)
{
    pagelist *s = (pagelist *)sch;
    if (s)
        free(s->state);
    paged_scheme_destroy(sch);
}

const scheme_ops scheme_pagelist = {
    .name = "page-list",
    .needs = SCHEME_NEEDS(VMM_COST_memslot_lookup) | SCHEME_NEEDS(VMM_COST_pin_per_page) |
             SCHEME_NEEDS(VMM_COST_copy_per_kib),
    .hypercalls = 1,
    .kick = -1,
    .create = create, .setup = setup, .describe = describe, .resolve = resolve,
    .complete = paged_scheme_complete, .remap = remap, .destroy = destroy,
    .page_list = paged_scheme_page_list,
};
