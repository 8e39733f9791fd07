/*
 * ring.h -- a FIFO of fixed-size items in a ring that doubles when full.
 *
 * Models keep their queues of pending work in these, so the steady state
 * allocates nothing: the ring only grows, to the peak length it has seen.
 * Items are copied in and out by value.
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
void *sim_ring_at(const sim_ring *r, uint32_t i);
/* Removes every item; keeps the storage. */
void sim_ring_clear(sim_ring *r);

static inline uint32_t sim_ring_len(const sim_ring *r)
{
    return r->len;
}

#endif
