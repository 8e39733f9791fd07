/*
 * test_kernel.c -- the event kernel's contract: (time, band, sequence)
 * order, FIFO ties, the wheel/heap boundary, cancellation, limits and pool
 * reuse, plus a randomized comparison against a plain sort.
 *
 * Built twice: test_kernel runs the native backend, and test_kernel_systemc
 * (TEST_BACKEND=SIM_BACKEND_SYSTEMC) the same assertions on SystemC's. Each
 * Criterion test runs in its own process, which SystemC's one simulation
 * per process needs; no test makes two kernels.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "sim/kernel.h"
#include "sim/rng.h"

#ifndef TEST_BACKEND
#define TEST_BACKEND SIM_BACKEND_NATIVE
#endif

/* Far enough to go through the overflow heap whatever the wheel's size. */
#define FAR (1ull << 24)

typedef struct trace {
    sim_kernel *k;
    uint64_t ids[4096];
    sim_time at[4096];
    int n;
} trace;

static void record(sim_kernel *k, void *ctx, uint64_t arg)
{
    trace *t = ctx;
    cr_assert_lt(t->n, 4096);
    t->at[t->n] = sim_now(k);
    t->ids[t->n++] = arg;
}

static void expect_ids(const trace *t, const uint64_t *want, int n)
{
    cr_assert_eq(t->n, n, "ran %d events, want %d", t->n, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(t->ids[i], want[i], "event %d is %llu, want %llu", i,
                     (unsigned long long)t->ids[i], (unsigned long long)want[i]);
}

/* A kernel of the backend under test, configured like `cfg` (NULL for
 * defaults). */
static sim_kernel *open_kernel(const sim_kernel_config *cfg)
{
    sim_kernel_config c = cfg ? *cfg : (sim_kernel_config){0};
    c.backend = TEST_BACKEND;
    sim_kernel *k = NULL;
    cr_assert_eq(sim_kernel_open(&k, &c), 0);
    return k;
}

static sim_kernel *new_kernel(void)
{
    return open_kernel(NULL);
}

Test(kernel, runs_in_time_order)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    const sim_time when[] = {50, 10, 40, 20, 30};
    for (uint64_t i = 0; i < 5; i++)
        cr_assert_eq(sim_schedule(k, when[i], SIM_BAND_NORMAL, record, &t, i, NULL), 0);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_STOP_QUIESCENT);
    const uint64_t want[] = {1, 3, 4, 2, 0};
    expect_ids(&t, want, 5);
    cr_assert_eq(t.at[4], 50);
    cr_assert_eq(sim_now(k), 50);
    sim_kernel_free(k);
}

Test(kernel, ties_run_in_scheduling_order)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    for (uint64_t i = 0; i < 100; i++)
        cr_assert_eq(sim_schedule(k, 7, SIM_BAND_NORMAL, record, &t, i, NULL), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(t.ids[i], (uint64_t)i);
    sim_kernel_free(k);
}

Test(kernel, bands_order_ties_before_sequence)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    sim_schedule(k, 5, SIM_BAND_LAST, record, &t, 0, NULL);
    sim_schedule(k, 5, SIM_BAND_NORMAL, record, &t, 1, NULL);
    sim_schedule(k, 5, SIM_BAND_FIRST, record, &t, 2, NULL);
    sim_schedule(k, 5, SIM_BAND_NORMAL, record, &t, 3, NULL);
    sim_schedule(k, 5, SIM_BAND_FIRST, record, &t, 4, NULL);
    sim_schedule(k, 4, SIM_BAND_LAST, record, &t, 5, NULL);
    sim_run(k, SIM_TIME_MAX, 0);
    const uint64_t want[] = {5, 2, 4, 1, 3, 0};
    expect_ids(&t, want, 6);
    sim_kernel_free(k);
}

/* Events that waited in the overflow heap keep their place among events
 * scheduled later, straight into the wheel, for the same time. */
typedef struct far_ctx {
    trace t;
} far_ctx;

static void schedule_near_twin(sim_kernel *k, void *ctx, uint64_t arg)
{
    far_ctx *f = ctx;
    /* Now FAR - 10: the target time is near, so this goes into the wheel. */
    cr_assert_eq(sim_schedule_at(k, FAR + 5, SIM_BAND_NORMAL, record, &f->t, arg, NULL), 0);
    cr_assert_eq(sim_schedule_at(k, FAR + 5, SIM_BAND_FIRST, record, &f->t, arg + 1, NULL), 0);
}

Test(kernel, far_events_keep_fifo_with_near_ones)
{
    sim_kernel *k = new_kernel();
    far_ctx f = {0};
    cr_assert_eq(sim_schedule_at(k, FAR + 5, SIM_BAND_NORMAL, record, &f.t, 1, NULL), 0);
    cr_assert_eq(sim_schedule_at(k, FAR + 5, SIM_BAND_NORMAL, record, &f.t, 2, NULL), 0);
    cr_assert_eq(sim_schedule_at(k, FAR - 10, SIM_BAND_NORMAL, schedule_near_twin, &f, 3, NULL), 0);
    cr_assert_eq(sim_schedule_at(k, FAR + 5, SIM_BAND_LAST, record, &f.t, 9, NULL), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    /* FIRST (4), then NORMAL in scheduling order (1, 2, 3), then LAST (9). */
    const uint64_t want[] = {4, 1, 2, 3, 9};
    expect_ids(&f.t, want, 5);
    cr_assert_eq(f.t.at[0], FAR + 5);
    sim_kernel_free(k);
}

Test(kernel, empty_wheel_jumps_to_far_events)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    for (uint64_t i = 0; i < 10; i++)
        sim_schedule(k, FAR * (10 - i), SIM_BAND_NORMAL, record, &t, i, NULL);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(t.n, 10);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(t.ids[i], (uint64_t)(9 - i));
        cr_assert_eq(t.at[i], FAR * (uint64_t)(i + 1));
    }
    sim_kernel_free(k);
}

Test(kernel, cancel_before_run)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    sim_event_id a, b, far;
    sim_schedule(k, 10, SIM_BAND_NORMAL, record, &t, 1, &a);
    sim_schedule(k, 20, SIM_BAND_NORMAL, record, &t, 2, &b);
    sim_schedule(k, FAR, SIM_BAND_NORMAL, record, &t, 3, &far);
    cr_assert_eq(sim_cancel(k, a), 0);
    cr_assert_eq(sim_cancel(k, far), 0);
    cr_assert_eq(sim_cancel(k, a), SIM_ENOTPENDING);
    sim_run(k, SIM_TIME_MAX, 0);
    const uint64_t want[] = {2};
    expect_ids(&t, want, 1);
    sim_kernel_stats st;
    sim_kernel_get_stats(k, &st);
    cr_assert_eq(st.cancelled, 2);
    cr_assert_eq(st.executed, 1);
    cr_assert_eq(st.pending, 0);
    sim_kernel_free(k);
}

typedef struct canceller {
    trace t;
    sim_event_id victims[2];
} canceller;

static void cancel_victims(sim_kernel *k, void *ctx, uint64_t arg)
{
    canceller *c = ctx;
    record(k, &c->t, arg);
    cr_assert_eq(sim_cancel(k, c->victims[0]), 0);
    cr_assert_eq(sim_cancel(k, c->victims[1]), 0);
}

static void record_c(sim_kernel *k, void *ctx, uint64_t arg)
{
    record(k, &((canceller *)ctx)->t, arg);
}

/* A handler cancels an event at its own time (queued behind it) and a
 * later one. */
Test(kernel, cancel_inside_a_handler)
{
    sim_kernel *k = new_kernel();
    canceller c = {0};
    sim_schedule(k, 5, SIM_BAND_NORMAL, cancel_victims, &c, 1, NULL);
    sim_schedule(k, 5, SIM_BAND_NORMAL, record_c, &c, 2, &c.victims[0]);
    sim_schedule(k, 5, SIM_BAND_NORMAL, record_c, &c, 3, NULL);
    sim_schedule(k, 50, SIM_BAND_NORMAL, record_c, &c, 4, &c.victims[1]);
    sim_run(k, SIM_TIME_MAX, 0);
    const uint64_t want[] = {1, 3};
    expect_ids(&c.t, want, 2);
    sim_kernel_free(k);
}

Test(kernel, stale_ids_are_refused)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    sim_event_id id;
    sim_schedule(k, 1, SIM_BAND_NORMAL, record, &t, 1, &id);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(sim_cancel(k, id), SIM_ENOTPENDING);
    /* The record is reused by the next event; the old id must not match. */
    sim_event_id id2;
    sim_schedule(k, 1, SIM_BAND_NORMAL, record, &t, 2, &id2);
    cr_assert_eq(sim_cancel(k, id), SIM_ENOTPENDING);
    cr_assert_eq(sim_cancel(k, (sim_event_id){0, 0}), SIM_ENOTPENDING);
    cr_assert_eq(sim_cancel(k, (sim_event_id){UINT32_MAX, 1}), SIM_ENOTPENDING);
    cr_assert_eq(sim_cancel(k, id2), 0);
    sim_kernel_free(k);
}

Test(kernel, scheduling_into_the_past_is_refused)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    sim_schedule(k, 100, SIM_BAND_NORMAL, record, &t, 1, NULL);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(sim_now(k), 100);
    sim_event_id id = {7, 7};
    cr_assert_eq(sim_schedule_at(k, 99, SIM_BAND_NORMAL, record, &t, 2, &id), SIM_EPAST);
    cr_assert_eq(id.slot, 7);           /* unchanged on failure */
    sim_kernel_stats st;
    sim_kernel_get_stats(k, &st);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(st.scheduled, 1);
    cr_assert_eq(sim_schedule_at(k, 100, SIM_BAND_NORMAL, record, &t, 3, NULL), 0);
    sim_kernel_free(k);
}

Test(kernel, bad_arguments_are_refused)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    cr_assert_eq(sim_schedule(k, 1, SIM_BAND_NORMAL, NULL, &t, 0, NULL), SIM_EINVAL);
    cr_assert_eq(sim_schedule(k, 1, SIM_BAND_COUNT, record, &t, 0, NULL), SIM_EINVAL);
    sim_schedule(k, 10, SIM_BAND_NORMAL, record, &t, 0, NULL);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(sim_schedule(k, SIM_TIME_MAX, SIM_BAND_NORMAL, record, &t, 0, NULL),
                 SIM_EINVAL);
    sim_kernel_free(k);
}

Test(kernel, time_limit_advances_and_resumes)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    sim_schedule(k, 10, SIM_BAND_NORMAL, record, &t, 1, NULL);
    sim_schedule(k, 30, SIM_BAND_NORMAL, record, &t, 2, NULL);
    sim_schedule(k, FAR, SIM_BAND_NORMAL, record, &t, 3, NULL);
    cr_assert_eq(sim_run(k, 20, 0), SIM_STOP_TIME_LIMIT);
    cr_assert_eq(sim_now(k), 20);
    cr_assert_eq(t.n, 1);
    /* An event exactly at `until` runs. */
    cr_assert_eq(sim_run(k, 30, 0), SIM_STOP_TIME_LIMIT);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(sim_run(k, FAR - 1, 0), SIM_STOP_TIME_LIMIT);
    cr_assert_eq(sim_now(k), FAR - 1);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_STOP_QUIESCENT);
    cr_assert_eq(t.n, 3);
    cr_assert_eq(t.at[2], FAR);
    sim_kernel_free(k);
}

static void forever(sim_kernel *k, void *ctx, uint64_t arg)
{
    trace *t = ctx;
    t->n++;
    sim_schedule(k, 3, SIM_BAND_NORMAL, forever, t, arg, NULL);
}

static void stopper(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)ctx, (void)arg;
    sim_stop(k);
}

Test(kernel, event_limit_and_stop)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    sim_schedule(k, 1, SIM_BAND_NORMAL, forever, &t, 0, NULL);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 10), SIM_STOP_EVENT_LIMIT);
    cr_assert_eq(t.n, 10);
    sim_schedule(k, 5, SIM_BAND_NORMAL, stopper, NULL, 0, NULL);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_STOP_REQUESTED);
    sim_kernel_stats st;
    sim_kernel_get_stats(k, &st);
    cr_assert_eq(st.pending, 1);        /* `forever` is still queued */
    sim_kernel_free(k);                 /* and is freed unrun */
}

Test(kernel, max_pending_is_a_hard_limit)
{
    sim_kernel_config cfg = {.max_pending = 100, .initial_pool = 8};
    sim_kernel *k = open_kernel(&cfg);
    trace t = {0};
    for (uint64_t i = 0; i < 100; i++)
        cr_assert_eq(sim_schedule(k, i % 7 ? i : FAR + i, SIM_BAND_NORMAL, record,
                                  &t, i, NULL), 0);
    cr_assert_eq(sim_schedule(k, 1, SIM_BAND_NORMAL, record, &t, 100, NULL), SIM_ELIMIT);
    sim_kernel_stats st;
    sim_kernel_get_stats(k, &st);
    cr_assert_eq(st.pool_size, 100);
    cr_assert_eq(st.pending, 100);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(t.n, 100);
    sim_kernel_free(k);
}

typedef struct hold {
    sim_rng rng;
    uint64_t runs;
} hold;

static void hold_step(sim_kernel *k, void *ctx, uint64_t arg)
{
    hold *h = ctx;
    h->runs++;
    uint64_t d = sim_rng_range(&h->rng, 1, 100000);  /* wheel and heap */
    cr_assert_eq(sim_schedule(k, d, SIM_BAND_NORMAL, hold_step, h, arg, NULL), 0);
}

/* A long hold loop needs no more records than its peak pending count. */
Test(kernel, pool_is_reused)
{
    sim_kernel *k = new_kernel();
    hold h = {0};
    sim_rng_seed(&h.rng, 1, "pool");
    for (uint64_t i = 0; i < 500; i++)
        sim_schedule(k, i, SIM_BAND_NORMAL, hold_step, &h, i, NULL);
    sim_run(k, SIM_TIME_MAX, 200000);
    sim_kernel_stats st;
    sim_kernel_get_stats(k, &st);
    cr_assert_eq(h.runs, 200000);
    cr_assert_eq(st.peak_pending, 500);
    cr_assert_leq(st.pool_size, 1024);
    sim_kernel_free(k);
}

/* ---- randomized comparison with a reference queue ------------------------ */

typedef struct planned {
    sim_time when;
    int band;
    uint64_t seq;               /* scheduling order */
    int cancelled, ran;
    sim_event_id id;
} planned;

enum { MODEL_EVENTS = 2000 };

typedef struct model {
    sim_kernel *k;
    sim_rng rng;
    planned ev[MODEL_EVENTS];
    int n;                      /* events scheduled */
    int ran;
} model;

static void model_handler(sim_kernel *k, void *ctx, uint64_t arg);

static void model_schedule(model *m)
{
    if (m->n == MODEL_EVENTS)
        return;
    planned *p = &m->ev[m->n];
    uint64_t r = sim_rng_below(&m->rng, 10);
    /* At the current time, near, anywhere up to past the wheel's edge
     * (so direct inserts meet events migrated from the heap), and far. */
    sim_time delay = r < 2   ? 0
                     : r < 5 ? sim_rng_below(&m->rng, 64)
                     : r < 8 ? sim_rng_range(&m->rng, 1, 1 << 17)
                             : sim_rng_range(&m->rng, 1 << 16, 1 << 19);
    p->when = sim_now(m->k) + delay;
    p->band = (int)sim_rng_below(&m->rng, SIM_BAND_COUNT);
    p->seq = (uint64_t)m->n;
    cr_assert_eq(sim_schedule_at(m->k, p->when, (sim_band)p->band, model_handler, m,
                                 (uint64_t)m->n, &p->id), 0);
    m->n++;
}

static int before(const planned *x, const planned *y)
{
    if (x->when != y->when)
        return x->when < y->when;
    if (x->band != y->band)
        return x->band < y->band;
    return x->seq < y->seq;
}

/* The reference: the least (time, band, seq) among events neither run nor
 * cancelled. */
static const planned *reference_next(const model *m)
{
    const planned *best = NULL;
    for (int i = 0; i < m->n; i++) {
        const planned *p = &m->ev[i];
        if (!p->ran && !p->cancelled && (!best || before(p, best)))
            best = p;
    }
    return best;
}

static void model_handler(sim_kernel *k, void *ctx, uint64_t arg)
{
    model *m = ctx;
    const planned *want = reference_next(m);
    cr_assert_not_null(want);
    cr_assert_eq(arg, want->seq, "ran event %llu, the reference says %llu",
                 (unsigned long long)arg, (unsigned long long)want->seq);
    cr_assert_eq(sim_now(k), m->ev[arg].when);
    m->ev[arg].ran = 1;
    m->ran++;
    int children = (int)sim_rng_below(&m->rng, 4);    /* mean 1.5: grows */
    for (int i = 0; i < children; i++)
        model_schedule(m);
    if (sim_rng_below(&m->rng, 4) == 0) {
        planned *victim = &m->ev[sim_rng_below(&m->rng, (uint64_t)m->n)];
        int rc = sim_cancel(k, victim->id);
        cr_assert_eq(rc == 0, !victim->ran && !victim->cancelled,
                     "cancel of event %llu returned %d",
                     (unsigned long long)victim->seq, rc);
        if (rc == 0)
            victim->cancelled = 1;
    }
}

/* Whatever handlers schedule (at the current time too, in any band) or
 * cancel, each handler that runs is the least pending (time, band, seq),
 * cancels succeed exactly for pending events, and every pending event
 * eventually runs. */
/* One seed per process: a Criterion parameter each. */
ParameterizedTestParameters(kernel, random_schedules_follow_a_reference_queue)
{
    static uint64_t seeds[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    return cr_make_param_array(uint64_t, seeds, sizeof seeds / sizeof seeds[0]);
}

ParameterizedTest(uint64_t *seed, kernel, random_schedules_follow_a_reference_queue)
{
    static model m;
    memset(&m, 0, sizeof m);
    m.k = new_kernel();
    sim_rng_seed(&m.rng, *seed, "kernel-model");
    for (int i = 0; i < 50; i++)
        model_schedule(&m);
    cr_assert_eq(sim_run(m.k, SIM_TIME_MAX, 0), SIM_STOP_QUIESCENT);
    cr_assert_null(reference_next(&m), "seed %llu: events left unrun",
                   (unsigned long long)*seed);
    cr_assert_gt(m.ran, 500);
    sim_kernel_free(m.k);
}

static void fail_nomem(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)ctx;
    (void)arg;
    sim_fail(k, SIM_ENOMEM);
    sim_fail(k, SIM_ELIMIT);            /* the first failure wins */
}

static void count_runs(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    (*(int *)ctx)++;
}

Test(kernel, a_failure_stops_the_run_for_good_and_keeps_its_status)
{
    sim_kernel *k = new_kernel();
    int later = 0;
    cr_assert_eq(sim_schedule(k, 10, SIM_BAND_NORMAL, fail_nomem, NULL, 0, NULL), 0);
    cr_assert_eq(sim_schedule(k, 20, SIM_BAND_NORMAL, count_runs, &later, 0, NULL), 0);
    cr_assert_eq(sim_failure(k), 0);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_STOP_FAILED);
    cr_assert_eq(sim_now(k), 10);
    cr_assert_eq(sim_failure(k), SIM_ENOMEM);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_STOP_FAILED);
    cr_assert_eq(later, 0);
    sim_kernel_free(k);
}

/* A backend this build lacks, or SystemC's second simulation in one
 * process, is a status, not a crash. */
Test(kernel, open_refuses_what_it_cannot_give)
{
    sim_kernel_config c = {.backend = SIM_BACKEND_SYSTEMC};
    sim_kernel *k = NULL;
    if (!sim_kernel_backend_built(SIM_BACKEND_SYSTEMC)) {
        cr_assert_eq(sim_kernel_open(&k, &c), SIM_ENOTBUILT);
        cr_assert_null(k);
        return;
    }
    cr_assert_eq(sim_kernel_open(&k, &c), 0);
    sim_kernel_free(k);
    cr_assert_eq(sim_kernel_open(&k, &c), SIM_EONCE);
    cr_assert_null(k);
}

/* Chunked runs (the host's progress chunks) stop inside a time's events
 * and go on with the rest of that time first. */
Test(kernel, event_limit_splits_a_time)
{
    sim_kernel *k = new_kernel();
    trace t = {0};
    for (uint64_t i = 0; i < 6; i++)
        sim_schedule(k, 10 + i / 3, (sim_band)(2 - i % 3), record, &t, i, NULL);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 2), SIM_STOP_EVENT_LIMIT);
    cr_assert_eq(sim_now(k), 10);
    cr_assert_eq(sim_run(k, 10, 0), SIM_STOP_TIME_LIMIT);
    cr_assert_eq(sim_now(k), 10);
    cr_assert_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_STOP_QUIESCENT);
    const uint64_t want[] = {2, 1, 0, 5, 4, 3};
    expect_ids(&t, want, 6);
    cr_assert_eq(t.at[2], 10);
    cr_assert_eq(t.at[3], 11);
    sim_kernel_free(k);
}
