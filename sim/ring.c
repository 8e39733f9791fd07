/*
 * ring.c -- the doubling FIFO of ring.h.
 */
#include "sim/ring.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

enum { FIRST_CAP = 4 };

int sim_ring_init(sim_ring *r, size_t item_size)
{
    memset(r, 0, sizeof *r);
    r->items = malloc(FIRST_CAP * item_size);
    if (!r->items)
        return SIM_ENOMEM;
    r->item_size = item_size;
    r->cap = FIRST_CAP;
    return 0;
}

void sim_ring_fini(sim_ring *r)
{
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* Doubles the storage, moving the items to its start in order. */
int sim_ring_grow(sim_ring *r)
{
    unsigned char *items = malloc((size_t)r->cap * 2 * r->item_size);
    if (!items)
        return SIM_ENOMEM;
    for (uint32_t i = 0; i < r->len; i++)
        memcpy(items + (size_t)i * r->item_size, sim_ring_at(r, i), r->item_size);
    free(r->items);
    r->items = items;
    r->cap *= 2;
    r->head = 0;
    return 0;
}

int sim_ring_push(sim_ring *r, const void *item)
{
    void *slot = sim_ring_push_slot(r);
    if (!slot)
        return SIM_ENOMEM;
    memcpy(slot, item, r->item_size);
    return 0;
}

void sim_ring_pop(sim_ring *r, void *out)
{
    if (out)
        memcpy(out, sim_ring_front(r), r->item_size);
    sim_ring_drop(r);
}

void sim_ring_clear(sim_ring *r)
{
    r->head = r->len = 0;
}
