/*
 * scheme.c -- what the buffer schemes share: lookup by name, cost sums,
 * and buffers of scattered pages.
 */
#include "models/scheme.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

#define NO_FRAME UINT64_MAX

const scheme_ops *scheme_find(const char *name)
{
    static const scheme_ops *const all[] = {&scheme_linear, &scheme_pagelist,
                                            &scheme_physical, &scheme_sg};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

void scheme_cost_add(scheme_cost *sum, const scheme_cost *add)
{
    sum->copy_cycles += add->copy_cycles;
    sum->host_cycles += add->host_cycles;
    sum->register_cycles += add->register_cycles;
    sum->kicks += add->kicks;
    sum->extra_exits += add->extra_exits;
    sum->copy_bytes += add->copy_bytes;
    sum->bounce_bytes += add->bounce_bytes;
    sum->walks += add->walks;
    sum->page_refs += add->page_refs;
    sum->memslot_lookups += add->memslot_lookups;
    sum->tcache_hits += add->tcache_hits;
    sum->tcache_misses += add->tcache_misses;
    sum->pins += add->pins;
    sum->registrations += add->registrations;
    sum->alloc_failures += add->alloc_failures;
}

int paged_init(paged_buffers *p, const scheme_env *env)
{
    memset(p, 0, sizeof *p);
    p->env = *env;
    p->page_order = guestmem_page_order(env->mem);
    uint64_t page_bytes = 1ull << (GM_FRAME_SHIFT + p->page_order);
    p->npages = (uint32_t)((env->bytes + page_bytes - 1) / page_bytes);
    size_t n = (size_t)env->slots * p->npages;
    p->frames = malloc((n ? n : 1) * sizeof *p->frames);
    p->used = calloc(env->slots ? env->slots : 1, sizeof *p->used);
    if (!p->frames || !p->used) {
        free(p->frames);
        free(p->used);
        p->frames = NULL;
        p->used = NULL;
        return SIM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        p->frames[i] = NO_FRAME;
    return 0;
}

int paged_allocate(paged_buffers *p)
{
    size_t n = (size_t)p->env.slots * p->npages;
    for (size_t i = 0; i < n; i++) {
        int rc = guestmem_alloc(p->env.mem, p->page_order, &p->frames[i]);
        if (rc) {
            p->frames[i] = NO_FRAME;
            return rc;
        }
    }
    return 0;
}

int paged_remap(paged_buffers *p, uint32_t slot, uint32_t page)
{
    uint64_t *f = &p->frames[(size_t)slot * p->npages + page];
    uint64_t fresh;
    /* Take the new frame before giving the old one back, so the page
     * really moves. */
    int rc = guestmem_alloc(p->env.mem, p->page_order, &fresh);
    if (rc)
        return rc;
    uint64_t old = *f;
    *f = fresh;
    return old == NO_FRAME ? 0 : guestmem_release(p->env.mem, old, p->page_order);
}

uint32_t paged_use(paged_buffers *p, uint32_t slot, uint64_t bytes)
{
    uint64_t page_bytes = 1ull << (GM_FRAME_SHIFT + p->page_order);
    uint32_t n = (uint32_t)((bytes + page_bytes - 1) / page_bytes);
    p->used[slot] = n < p->npages ? n : p->npages;
    return p->used[slot];
}

uint64_t paged_linear_page(const paged_buffers *p, uint32_t slot, uint32_t page)
{
    return (uint64_t)slot * p->npages + page;
}

void paged_fini(paged_buffers *p)
{
    /* A release that fails for want of memory loses nothing: the guest
     * frees its whole memory right after its scheme. */
    size_t n = (size_t)p->env.slots * p->npages;
    for (size_t i = 0; p->frames && i < n; i++)
        if (p->frames[i] != NO_FRAME)
            guestmem_release(p->env.mem, p->frames[i], p->page_order);
    free(p->frames);
    free(p->used);
    p->frames = NULL;
    p->used = NULL;
}

scheme *paged_scheme_create(const scheme_env *env, size_t size)
{
    paged_buffers *p = calloc(1, size);
    if (!p || paged_init(p, env)) {
        free(p);
        return NULL;
    }
    return (scheme *)p;
}

int paged_scheme_setup(scheme *s, scheme_cost *c)
{
    (void)c;
    return paged_allocate((paged_buffers *)s);
}

int paged_scheme_complete(scheme *s, uint32_t slot)
{
    (void)s, (void)slot;
    return 0;
}

int paged_scheme_remap(scheme *s, uint32_t slot, uint32_t page, scheme_cost *c)
{
    int rc = paged_remap((paged_buffers *)s, slot, page);
    if (rc == SIM_ENOSPACE) {
        c->alloc_failures++;
        return 0;
    }
    return rc;
}

void paged_scheme_destroy(scheme *s)
{
    if (!s)
        return;
    paged_fini((paged_buffers *)s);
    free(s);
}

const uint64_t *paged_scheme_page_list(const scheme *s, uint32_t slot, uint32_t *n)
{
    const paged_buffers *p = (const paged_buffers *)s;
    *n = p->npages;
    return p->frames + (size_t)slot * p->npages;
}
