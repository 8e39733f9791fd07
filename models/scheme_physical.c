/*
 * scheme_physical.c -- the request carries one guest-physical address of a
 * contiguous buffer.
 *
 * The host needs one memslot lookup per run. The guest must find a
 * contiguous run for each request (its buffer is allocated when the
 * request is issued and freed when it completes); when the aged allocator
 * has none, on_fragmented decides: bounce (copy through a contiguous bounce
 * pool reserved at boot, outside the aged memory), split (the largest runs
 * that can be had, one kick each), or fail (the request is not sent).
 */
#include "models/scheme.h"

#include <stdlib.h>

#include "sim/error.h"

typedef struct run {
    uint64_t frame;
    unsigned order;
} run;

typedef struct physical {
    scheme_env env;
    uint32_t max_runs;          /* per slot: one per guest page at worst */
    run *runs;                  /* slots * max_runs */
    uint32_t *nruns;            /* per slot */
} physical;

static scheme *create(const scheme_env *env)
{
    physical *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = *env;
    unsigned page = guestmem_page_order(env->mem);
    uint64_t page_bytes = 1ull << (GM_FRAME_SHIFT + page);
    s->max_runs = (uint32_t)((env->bytes + page_bytes - 1) / page_bytes);
    s->runs = malloc(((size_t)env->slots * s->max_runs + 1) * sizeof *s->runs);
    s->nruns = calloc(env->slots ? env->slots : 1, sizeof *s->nruns);
    if (!s->runs || !s->nruns) {
        free(s->runs);
        free(s->nruns);
        free(s);
        return NULL;
    }
    return (scheme *)s;
}

static int setup(scheme *s, scheme_cost *c)
{
    (void)s, (void)c;
    return 0;
}

static run *slot_runs(physical *s, uint32_t slot)
{
    return &s->runs[(size_t)slot * s->max_runs];
}

/* 0, or the first release's failure (SIM_ENOMEM). */
static int release_runs(physical *s, uint32_t slot)
{
    run *r = slot_runs(s, slot);
    int rc = 0;
    for (uint32_t i = 0; i < s->nruns[slot]; i++) {
        int one = guestmem_release(s->env.mem, r[i].frame, r[i].order);
        rc = rc ? rc : one;
    }
    s->nruns[slot] = 0;
    return rc;
}

/* Covers `bytes` with the largest runs available, each smaller than the
 * whole; 0, or SIM_ENOSPACE (nothing taken) when the guest's memory runs
 * out, or SIM_ENOMEM when the host's does. */
static int split(physical *s, uint32_t slot, uint64_t bytes, unsigned whole)
{
    guestmem *m = s->env.mem;
    unsigned page = guestmem_page_order(m);
    uint64_t left = bytes;
    unsigned o = whole > page ? whole - 1 : page;
    run *r = slot_runs(s, slot);
    while (left > 0) {
        unsigned want = guestmem_order_for(m, left);
        unsigned try = want < o ? want : o;
        int rc = guestmem_alloc(m, try, &r[s->nruns[slot]].frame);
        if (rc == 0) {
            r[s->nruns[slot]++].order = try;
            uint64_t got = 1ull << (GM_FRAME_SHIFT + try);
            left = got < left ? left - got : 0;
        } else if (rc == SIM_ENOSPACE && try > page) {
            o = try - 1;
        } else {
            int released = release_runs(s, slot);
            return released ? released : rc;
        }
    }
    return 0;
}

static int describe(scheme *sch, uint32_t slot, uint64_t bytes, scheme_cost *c)
{
    physical *s = (physical *)sch;
    unsigned order = guestmem_order_for(s->env.mem, bytes);
    run *r = slot_runs(s, slot);
    int rc = guestmem_alloc(s->env.mem, order, &r[0].frame);
    if (rc == 0) {
        r[0].order = order;
        s->nruns[slot] = 1;
        c->kicks += 1;
        return 0;
    }
    if (rc != SIM_ENOSPACE)         /* the host's memory ran out, not the guest's */
        return rc;
    c->alloc_failures++;
    switch (s->env.cfg->on_fragmented) {
    case SCHEME_BOUNCE:
        c->copy_bytes += bytes;
        c->bounce_bytes += bytes;
        c->copy_cycles += (uint64_t)((double)bytes * s->env.costs->copy_per_byte + 0.5);
        c->kicks += 1;
        return 0;
    case SCHEME_SPLIT:
        rc = split(s, slot, bytes, order);
        if (rc == 0)
            c->kicks += s->nruns[slot];
        return rc;
    default:
        return SIM_ENOSPACE;
    }
}

static void resolve(scheme *sch, uint32_t slot, scheme_cost *c)
{
    physical *s = (physical *)sch;
    /* A bounced request names one run too: the bounce buffer's. */
    uint32_t runs = s->nruns[slot] ? s->nruns[slot] : 1;
    c->memslot_lookups += runs;
    c->host_cycles += (uint64_t)runs * s->env.costs->memslot_lookup;
}

static int complete(scheme *s, uint32_t slot)
{
    return release_runs((physical *)s, slot);
}

static int remap(scheme *s, uint32_t slot, uint32_t page, scheme_cost *c)
{
    (void)s, (void)slot, (void)page, (void)c;   /* its buffers are not remapped */
    return 0;
}

static void destroy(scheme *sch)
{
    physical *s = (physical *)sch;
    if (!s)
        return;
    /* As in paged_fini: the guest frees its memory right after. */
    for (uint32_t slot = 0; slot < s->env.slots; slot++)
        release_runs(s, slot);
    free(s->runs);
    free(s->nruns);
    free(s);
}

const scheme_ops scheme_physical = {
    .name = "physical",
    .needs = SCHEME_NEEDS(VMM_COST_memslot_lookup) | SCHEME_NEEDS(VMM_COST_copy_per_kib),
    .kick = -1,
    .create = create, .setup = setup, .describe = describe, .resolve = resolve,
    .complete = complete, .remap = remap, .destroy = destroy,
};
