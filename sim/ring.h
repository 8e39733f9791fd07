/*
 * ring.h -- a FIFO of fixed-size items in a ring that doubles when full.
 *
 * Models keep their queues of pending work in these, so the steady state
 * allocates nothing: the ring only grows, to the peak length it has seen.
 * Items are copied in and out by value (push, pop), or written and read
 * in place (push_slot, front, drop): the in-place calls are inline and
 * let the caller copy an item of a size the compiler knows, where push
 * and pop call memcpy with the size stored in the ring. Models use them
 * for the queues they touch on every event.
 */
#ifndef PVSIM_SIM_RING_H
#define PVSIM_SIM_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_ring {
    unsigned char *items;
    size_t item_size;
    uint32_t cap, head, len;        /* cap is a power of two */
} sim_ring;

/* An empty ring of items of `item_size` bytes. 0 or SIM_ENOMEM. */
int sim_ring_init(sim_ring *r, size_t item_size);
/* Frees the storage; the ring is empty and must be initialised again
 * before use. Accepts a ring that was never initialised if zeroed. */
void sim_ring_fini(sim_ring *r);

/* Appends a copy of `item`. 0, or SIM_ENOMEM (nothing changes). */
int sim_ring_push(sim_ring *r, const void *item);
/* Copies the oldest item into `out` (if not NULL) and removes it. The
 * ring must not be empty. */
void sim_ring_pop(sim_ring *r, void *out);
/* The item `i` places from the oldest (0 is the oldest); i < len. */
static inline void *sim_ring_at(const sim_ring *r, uint32_t i)
{
    return r->items + (size_t)((r->head + i) & (r->cap - 1)) * r->item_size;
}

/* Doubles the storage; push_slot's slow path. 0 or SIM_ENOMEM. */
int sim_ring_grow(sim_ring *r);

/* Appends an item left for the caller to write, and returns where it is;
 * NULL when memory is short (nothing changes). The pointer is valid until
 * the ring next grows. */
static inline void *sim_ring_push_slot(sim_ring *r)
{
    if (r->len == r->cap && sim_ring_grow(r))
        return NULL;
    return sim_ring_at(r, r->len++);
}

/* The oldest item, in place; the ring must not be empty. Valid until the
 * ring next changes. */
static inline void *sim_ring_front(const sim_ring *r)
{
    return r->items + (size_t)r->head * r->item_size;
}

/* Removes the oldest item; the ring must not be empty. */
static inline void sim_ring_drop(sim_ring *r)
{
    r->head = (r->head + 1) & (r->cap - 1);
    r->len--;
}
/* Removes every item; keeps the storage. */
void sim_ring_clear(sim_ring *r);

static inline uint32_t sim_ring_len(const sim_ring *r)
{
    return r->len;
}

#endif
