/*
 * test_ring.c -- the doubling FIFO: order kept across wrap-around and
 * growth, positions from the oldest, clearing, and the in-place calls.
 */
#include <criterion/criterion.h>

#include "sim/error.h"
#include "sim/ring.h"

typedef struct item {
    uint64_t a;
    uint32_t b;
} item;

Test(ring, wraps_and_grows_keeping_fifo)
{
    sim_ring r;
    cr_assert_eq(sim_ring_init(&r, sizeof(item)), 0);
    uint64_t next_in = 0, next_out = 0;
    /* Push 3, pop 2, repeatedly: the head walks around the ring while it
     * grows from 4 items to hold the backlog. */
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 3; i++, next_in++)
            cr_assert_eq(sim_ring_push(&r, &(item){next_in, (uint32_t)next_in * 7}), 0);
        for (int i = 0; i < 2; i++, next_out++) {
            item it;
            sim_ring_pop(&r, &it);
            cr_assert_eq(it.a, next_out);
            cr_assert_eq(it.b, (uint32_t)next_out * 7);
        }
    }
    cr_assert_eq(sim_ring_len(&r), next_in - next_out);
    cr_assert_geq(r.cap, sim_ring_len(&r));
    cr_assert_eq(r.cap & (r.cap - 1), 0);       /* a power of two */
    for (uint32_t i = 0; i < sim_ring_len(&r); i++)
        cr_assert_eq(((item *)sim_ring_at(&r, i))->a, next_out + i);
    sim_ring_pop(&r, NULL);                     /* dropping the oldest */
    cr_assert_eq(((item *)sim_ring_at(&r, 0))->a, next_out + 1);
    sim_ring_clear(&r);
    cr_assert_eq(sim_ring_len(&r), 0);
    cr_assert_eq(sim_ring_push(&r, &(item){99, 0}), 0);
    cr_assert_eq(((item *)sim_ring_at(&r, 0))->a, 99);
    sim_ring_fini(&r);
    cr_assert_null(r.items);
    sim_ring_fini(&r);                          /* twice is harmless */
}

/* The in-place calls keep the same FIFO as push and pop, mixed with them,
 * across wrap-around and growth. */
Test(ring, in_place_calls_share_the_fifo)
{
    sim_ring r;
    cr_assert_eq(sim_ring_init(&r, sizeof(item)), 0);
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 3; i++, next_in++) {
            if (i == 1) {
                cr_assert_eq(sim_ring_push(&r, &(item){next_in, 1}), 0);
                continue;
            }
            item *slot = sim_ring_push_slot(&r);
            cr_assert_not_null(slot);
            *slot = (item){next_in, 2};
        }
        for (int i = 0; i < 2; i++, next_out++) {
            const item *front = sim_ring_front(&r);
            cr_assert_eq(front, sim_ring_at(&r, 0));
            cr_assert_eq(front->a, next_out);
            cr_assert_eq(front->b, next_out % 3 == 1 ? 1u : 2u);
            sim_ring_drop(&r);
        }
    }
    cr_assert_eq(sim_ring_len(&r), next_in - next_out);
    sim_ring_fini(&r);
}
