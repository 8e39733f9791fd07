/*
 * test_resource.c -- FIFO servers driven through the real kernel.
 */
#include <criterion/criterion.h>

#include "sim/resource.h"

typedef struct log {
    sim_time at[16];
    uint64_t id[16];
    int n;
} log;

static void done(sim_kernel *k, void *ctx, uint64_t arg)
{
    log *l = ctx;
    l->at[l->n] = sim_now(k);
    l->id[l->n++] = arg;
}

Test(resource, one_server_serves_in_fifo_order)
{
    sim_kernel *k = sim_kernel_new(NULL);
    sim_resource *r = sim_resource_new(k, 1, 0);
    log l = {0};
    cr_assert_eq(sim_resource_submit(r, 10, done, &l, 1), 0);
    cr_assert_eq(sim_resource_submit(r, 20, done, &l, 2), 0);
    cr_assert_eq(sim_resource_submit(r, 30, done, &l, 3), 0);
    cr_assert_eq(sim_resource_load(r), 3);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(l.n, 3);
    cr_assert_eq(l.at[0], 10);
    cr_assert_eq(l.at[1], 30);
    cr_assert_eq(l.at[2], 60);
    cr_assert_eq(l.id[0] * 100 + l.id[1] * 10 + l.id[2], 123);
    sim_resource_stats st;
    sim_resource_get_stats(r, &st);
    cr_assert_eq(st.jobs_done, 3);
    cr_assert_eq(st.jobs_queued, 2);
    cr_assert_eq(st.peak_queue_len, 2);
    cr_assert_float_eq(st.utilisation, 1.0, 1e-12);
    sim_resource_free(r);
    sim_kernel_free(k);
}

static void noop(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)ctx, (void)arg;
}

Test(resource, servers_work_in_parallel)
{
    sim_kernel *k = sim_kernel_new(NULL);
    sim_resource *r = sim_resource_new(k, 2, 0);
    log l = {0};
    for (uint64_t i = 0; i < 4; i++)
        cr_assert_eq(sim_resource_submit(r, 10, done, &l, i), 0);
    /* Something else keeps the simulation going until 40. */
    cr_assert_eq(sim_schedule_at(k, 40, SIM_BAND_NORMAL, noop, NULL, 0, NULL), 0);
    sim_run(k, 40, 0);
    cr_assert_eq(sim_now(k), 40);
    cr_assert_eq(l.n, 4);
    cr_assert_eq(l.at[1], 10);
    cr_assert_eq(l.at[3], 20);
    sim_resource_stats st;
    sim_resource_get_stats(r, &st);
    /* Two servers busy for 20 of 40 cycles. */
    cr_assert_float_eq(st.utilisation, 0.5, 1e-12);
    sim_resource_free(r);
    sim_kernel_free(k);
}

typedef struct resubmit {
    sim_resource *r;
    log l;
} resubmit;

static void again(sim_kernel *k, void *ctx, uint64_t arg)
{
    resubmit *s = ctx;
    done(k, &s->l, arg);
    if (arg == 1)
        cr_assert_eq(sim_resource_submit(s->r, 5, again, s, 9), 0);
}

/* A job submitted from a completion handler queues behind jobs that were
 * already waiting: the freed server went to the queue first. */
Test(resource, resubmission_queues_behind_waiting_jobs)
{
    sim_kernel *k = sim_kernel_new(NULL);
    resubmit s = {.r = sim_resource_new(k, 1, 0)};
    cr_assert_eq(sim_resource_submit(s.r, 5, again, &s, 1), 0);
    cr_assert_eq(sim_resource_submit(s.r, 5, again, &s, 2), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(s.l.n, 3);
    cr_assert_eq(s.l.id[1], 2);
    cr_assert_eq(s.l.id[2], 9);
    cr_assert_eq(s.l.at[2], 15);
    sim_resource_free(s.r);
    sim_kernel_free(k);
}

Test(resource, bounded_queue_refuses_and_changes_nothing)
{
    sim_kernel *k = sim_kernel_new(NULL);
    sim_resource *r = sim_resource_new(k, 1, 2);
    log l = {0};
    cr_assert_eq(sim_resource_submit(r, 10, done, &l, 0), 0); /* runs */
    cr_assert_eq(sim_resource_submit(r, 10, done, &l, 1), 0); /* waits */
    cr_assert_eq(sim_resource_submit(r, 10, done, &l, 2), 0); /* waits */
    cr_assert_eq(sim_resource_submit(r, 10, done, &l, 3), SIM_ELIMIT);
    cr_assert_eq(sim_resource_load(r), 3);
    cr_assert_eq(sim_resource_submit(r, 10, NULL, &l, 3), SIM_EINVAL);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(l.n, 3);
    cr_assert_null(sim_resource_new(k, 0, 0));
    sim_resource_free(r);
    sim_kernel_free(k);
}

typedef struct order {
    uint64_t ids[64];
    int n;
} order;

static void note(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    order *o = ctx;
    o->ids[o->n++] = arg;
}

/* FIFO order survives the ring wrapping around and then doubling. */
Test(resource, ring_wraps_and_grows_keeping_fifo)
{
    sim_kernel *k = sim_kernel_new(NULL);
    sim_resource *r = sim_resource_new(k, 1, 0);
    order o = {0};
    for (uint64_t i = 0; i < 16; i++)
        cr_assert_eq(sim_resource_submit(r, 1, note, &o, i), 0);
    sim_run(k, 8, 0);
    for (uint64_t i = 16; i < 40; i++)
        cr_assert_eq(sim_resource_submit(r, 1, note, &o, i), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(o.n, 40);
    for (int i = 0; i < 40; i++)
        cr_assert_eq(o.ids[i], (uint64_t)i);
    sim_resource_free(r);
    sim_kernel_free(k);
}
