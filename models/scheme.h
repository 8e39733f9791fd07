/*
 * scheme.h -- how a guest driver hands a buffer to the host: the interface
 * every buffer scheme implements (one file each: scheme_linear.c,
 * scheme_pagelist.c, scheme_physical.c, scheme_sg.c).
 *
 * A scheme owns one buffer per outstanding request slot of its guest, and
 * answers, for each request, what handing that buffer over costs:
 *   setup     once at go-live: allocate buffers, register them
 *   describe  guest side, before the kick: copies, allocation, how many
 *             kicks (a split request kicks once per part; 0 = it failed)
 *   resolve   host side, after the kick: page walks, translation-cache
 *             lookups, memslot lookups
 *   complete  after the device is done: release what describe took
 *   remap     the guest moved one page of a buffer to another frame
 * Each step adds to a scheme_cost; the caller charges the cycles to the
 * right place (guest vCPU or host worker) and keeps the counters. Schemes
 * print nothing and schedule nothing: they are cost planners the guest
 * model drives.
 */
#ifndef PVSIM_MODELS_SCHEME_H
#define PVSIM_MODELS_SCHEME_H

#include <stddef.h>
#include <stdint.h>

#include "models/guestmem.h"
#include "models/tcache.h"
#include "models/vmm.h"
#include "sim/rng.h"

/* Primitive costs the schemes compose, in cycles (copy: per byte). */
typedef struct scheme_costs {
    uint64_t mem_ref;           /* one page-table entry read from memory */
    uint64_t memslot_lookup;    /* guest-physical to host-virtual address */
    uint64_t tcache_hit;        /* one translation-cache hit */
    double copy_per_byte;       /* guest copy into a bounce/registered buffer */
    uint64_t pin_per_page;      /* validating and pinning one page */
} scheme_costs;

typedef enum scheme_on_fragmented {
    SCHEME_BOUNCE,              /* copy through a contiguous bounce pool */
    SCHEME_SPLIT,               /* several smaller runs, one kick each */
    SCHEME_FAIL                 /* count the request as failed */
} scheme_on_fragmented;

/* Bound from the scenario: SCN_U64 fields must be uint64_t. */
typedef struct scheme_config {
    uint64_t guest_levels;      /* guest page-table levels walked (4) */
    uint64_t max_registered;    /* page-list: registry size in buffers */
    double in_registered;       /* page-list: share of requests whose data
                                   already lies in a registered buffer */
    int on_fragmented;          /* physical: scheme_on_fragmented */
    uint64_t max_sections;      /* sg: sections per descriptor (16) */
} scheme_config;

/* What a step costs, by where and on what the cycles are spent. */
typedef struct scheme_cost {
    uint64_t copy_cycles;       /* guest vCPU: copying the data */
    uint64_t host_cycles;       /* host: resolving the buffer */
    uint64_t register_cycles;   /* host: looking up and pinning the pages
                                   of registered buffers (page-list), in
                                   the registration exits' handlers */
    uint32_t kicks;             /* notifications (exits) needed */
    uint32_t extra_exits;       /* hypercall exits besides the kicks
                                   (registrations), which the guest takes */
    uint64_t copy_bytes, bounce_bytes;
    uint32_t walks, page_refs, memslot_lookups, tcache_hits, tcache_misses;
    uint32_t pins, registrations, alloc_failures;
} scheme_cost;

/* Everything a scheme instance may use; all of it outlives the instance. */
typedef struct scheme_env {
    guestmem *mem;              /* the guest's physical memory */
    tcache *tc;                 /* the host's translation cache (shared) */
    uint32_t space;             /* this guest's address space in tc */
    const scheme_costs *costs;
    const scheme_config *cfg;
    sim_rng *rng;               /* a stream for the scheme alone, so the
                                   workload draws the same numbers under
                                   every scheme */
    uint32_t slots;             /* buffers: one per outstanding request */
    uint64_t bytes;             /* bytes a buffer holds: the largest request */
} scheme_env;

typedef struct scheme scheme;

/* The bit of primitive `id` in scheme_ops.needs. */
#define SCHEME_NEEDS(id) (1ull << (id))

typedef struct scheme_ops {
    const char *name;
    /* The primitives its steps charge (SCHEME_NEEDS bits of vmm_cost_id);
     * the scenario loader asks for every one a variant's scheme needs. */
    uint64_t needs;
    /* It asks the guest for hypercall exits besides the kicks
     * (`extra_exits`: page-list's registrations). */
    int hypercalls;
    /* The kick its requests always take (a fabric_kick), or -1 for the
     * fabric's: lguest's descriptors go by hypercall (SEND_DMA). */
    int kick;
    /* NULL when memory is short. */
    scheme *(*create)(const scheme_env *env);
    /* Returns 0, or SIM_ENOSPACE when the guest's memory cannot hold the
     * buffers, or SIM_ENOMEM. */
    int (*setup)(scheme *s, scheme_cost *c);
    /* Describes a request of `bytes` (at most env.bytes) in slot `slot`'s
     * buffer; resolve then covers the same bytes. Returns 0, SIM_ENOSPACE
     * when the request cannot be described (it counts as failed and
     * retries), or SIM_ENOMEM. */
    int (*describe)(scheme *s, uint32_t slot, uint64_t bytes, scheme_cost *c);
    void (*resolve)(scheme *s, uint32_t slot, scheme_cost *c);
    /* complete and remap return 0, or SIM_ENOMEM when the host has no
     * memory to keep the guest's allocator in (the run cannot go on); a
     * remap that finds no free frame leaves the page where it was and
     * counts an allocation failure. */
    int (*complete)(scheme *s, uint32_t slot);
    int (*remap)(scheme *s, uint32_t slot, uint32_t page, scheme_cost *c);
    void (*destroy)(scheme *s);
    /* The guest frames of slot `slot`'s buffer, in order, and their number
     * in *n: the page list a registration sends, the sections of an
     * lguest_dma. NULL for a scheme whose buffers are not lists of pages
     * (linear has no frames a transport needs, physical's are runs). */
    const uint64_t *(*page_list)(const scheme *s, uint32_t slot, uint32_t *n);
} scheme_ops;

extern const scheme_ops scheme_linear, scheme_pagelist, scheme_physical, scheme_sg;

/* The schemes by name ("linear", "page-list", "physical", "sg"), NULL for
 * another name. */
const scheme_ops *scheme_find(const char *name);

/* Adds every field of `add` into `sum`. */
void scheme_cost_add(scheme_cost *sum, const scheme_cost *add);

/* ---- for the scheme files: buffers of scattered pages --------------- */

/* One buffer per slot, each page its own frame wherever the allocator
 * finds one (as a guest's linear buffers are). Used by linear, page-list
 * and sg. */
typedef struct paged_buffers {
    scheme_env env;
    uint32_t npages;            /* guest pages per buffer */
    unsigned page_order;        /* guest page size as an allocator order */
    uint64_t *frames;           /* slots * npages; UINT64_MAX: none */
    uint32_t *used;             /* per slot: pages its request covers */
} paged_buffers;

int paged_init(paged_buffers *p, const scheme_env *env);
/* Allocates every page of every buffer; SIM_ENOSPACE if memory is short. */
int paged_allocate(paged_buffers *p);
/* Moves page `page` of buffer `slot` to a new frame; 0, SIM_ENOSPACE (the
 * page stays) or SIM_ENOMEM. */
int paged_remap(paged_buffers *p, uint32_t slot, uint32_t page);
/* The request of `bytes` in slot `slot` covers its buffer's first pages:
 * how many, remembered for resolve. */
uint32_t paged_use(paged_buffers *p, uint32_t slot, uint64_t bytes);

/* The page's number in the guest's linear address space (tcache key). */
uint64_t paged_linear_page(const paged_buffers *p, uint32_t slot, uint32_t page);
/* Returns the frames to the allocator and frees the table. */
void paged_fini(paged_buffers *p);

/* Lifecycle for schemes whose state is a struct starting with a
 * paged_buffers: create allocates `size` bytes and initialises that first
 * member; setup allocates the buffers' pages; destroy releases both. */
scheme *paged_scheme_create(const scheme_env *env, size_t size);
int paged_scheme_setup(scheme *s, scheme_cost *c);
int paged_scheme_complete(scheme *s, uint32_t slot);
int paged_scheme_remap(scheme *s, uint32_t slot, uint32_t page, scheme_cost *c);
void paged_scheme_destroy(scheme *s);
const uint64_t *paged_scheme_page_list(const scheme *s, uint32_t slot, uint32_t *n);

#endif
