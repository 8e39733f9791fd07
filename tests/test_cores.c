/*
 * test_cores.c -- host cores and threads: wake-up and context-switch
 * accounting to the cycle, run-queue order, polling threads, and the
 * one-core-per-thread default.
 */
#include <criterion/criterion.h>

#include "models/cores.h"

typedef struct log {
    sim_time at[8];
    uint64_t arg[8];
    int n;
} log;

static void note(sim_kernel *k, void *ctx, uint64_t arg)
{
    log *l = ctx;
    l->at[l->n] = sim_now(k);
    l->arg[l->n++] = arg;
}

static const cores_costs costs = {.context_switch = 5, .wakeup = 10};

Test(cores, one_core_two_threads_wake_queue_and_switch)
{
    sim_kernel *k = sim_kernel_new(NULL);
    cores *c = cores_new(k, 1, 2, &costs);
    core_thread *a = cores_add_thread(c, "a", 0), *b = cores_add_thread(c, "b", 0);
    cr_assert_eq(cores_start(c), 0);
    log l = {0};
    uint64_t sched_a = 0, sched_b = 0;
    cr_assert_eq(thread_work(a, 100, note, &l, 1, &sched_a), 0);
    cr_assert_eq(thread_work(b, 100, note, &l, 2, &sched_b), 0);
    cr_assert_eq(thread_state_of(a), THREAD_WAKING);
    sim_run(k, SIM_TIME_MAX, 0);
    /* a wakes at 10 and runs to 110; b, woken at 10, waits for the core,
     * then pays a switch: 110 + 5 + 100. */
    cr_assert_eq(l.n, 2);
    cr_assert_eq(l.at[0], 110);
    cr_assert_eq(l.arg[0], 1);
    cr_assert_eq(l.at[1], 215);
    cr_assert_eq(sched_a, 10);
    cr_assert_eq(sched_b, 15);
    thread_stats ts;
    thread_get_stats(b, &ts);
    cr_assert_eq(ts.switches, 1);
    cr_assert_eq(ts.wakeups, 1);
    cr_assert_eq(ts.ready_wait_cycles, 100);
    cr_assert_eq(thread_state_of(a), THREAD_BLOCKED);
    cores_free(c);
    sim_kernel_free(k);
}

Test(cores, enough_cores_means_no_switches)
{
    sim_kernel *k = sim_kernel_new(NULL);
    cores *c = cores_new(k, 0, 3, &costs);
    core_thread *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = cores_add_thread(c, "t", 0);
    cr_assert_eq(cores_start(c), 0);
    cr_assert_eq(cores_count(c), 3);
    log l = {0};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++)
            cr_assert_eq(thread_work(t[i], 50, note, &l, (uint64_t)i, NULL), 0);
        sim_run(k, SIM_TIME_MAX, 0);
    }
    cores_summary s;
    cores_get_summary(c, &s);
    cr_assert_eq(s.switches, 0);
    cr_assert_eq(s.wakeups, 6);
    cr_assert_eq(l.at[2], 60);   /* all three in parallel: 10 + 50 */
    cores_free(c);
    sim_kernel_free(k);
}

Test(cores, a_polling_thread_owns_a_core_and_never_wakes)
{
    sim_kernel *k = sim_kernel_new(NULL);
    cores *c = cores_new(k, 2, 2, &costs);
    core_thread *p = cores_add_thread(c, "poll", 1), *b = cores_add_thread(c, "b", 0);
    cr_assert_eq(cores_start(c), 0);
    cr_assert_eq(thread_state_of(p), THREAD_RUNNING);
    log l = {0};
    cr_assert_eq(thread_work(p, 100, note, &l, 0, NULL), 0);
    cr_assert_eq(thread_work(b, 100, note, &l, 1, NULL), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(l.at[0], 100);  /* no wake-up */
    cr_assert_eq(l.at[1], 110);  /* its own core, after the wake-up */
    core_stats cs;
    cores_get_core_stats(c, 0, &cs);
    cr_assert(cs.polling);
    cr_assert_float_eq(cs.utilisation, 1.0, 1e-12);
    cores_free(c);
    sim_kernel_free(k);
}

Test(cores, more_polling_threads_than_cores_is_refused)
{
    sim_kernel *k = sim_kernel_new(NULL);
    cores *c = cores_new(k, 1, 2, &costs);
    cores_add_thread(c, "p", 1);
    cores_add_thread(c, "q", 1);
    cr_assert_eq(cores_start(c), SIM_EINVAL);
    cores_free(c);
    sim_kernel_free(k);
}

/* At the end of an item, a thread with more work yields to a waiting
 * thread: round robin at item granularity. */
Test(cores, items_round_robin_when_threads_wait)
{
    sim_kernel *k = sim_kernel_new(NULL);
    cores_costs free_costs = {0, 0};
    cores *c = cores_new(k, 1, 2, &free_costs);
    core_thread *a = cores_add_thread(c, "a", 0), *b = cores_add_thread(c, "b", 0);
    cr_assert_eq(cores_start(c), 0);
    log l = {0};
    thread_work(a, 10, note, &l, 1, NULL);
    thread_work(a, 10, note, &l, 2, NULL);
    thread_work(b, 10, note, &l, 3, NULL);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(l.n, 3);
    cr_assert_eq(l.arg[0], 1);
    cr_assert_eq(l.arg[1], 3);
    cr_assert_eq(l.arg[2], 2);
    cr_assert_eq(l.at[2], 30);
    cores_free(c);
    sim_kernel_free(k);
}

/* Ends a thread's spin from an event at `arg` cycles. */
typedef struct ender {
    core_thread *t;
    int ended;
} ender;

static void end_spin(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    ender *e = ctx;
    e->ended = thread_spin_end(e->t);
}

Test(cores, a_spin_holds_its_core_until_it_ends_or_runs_out)
{
    sim_kernel *k = sim_kernel_new(NULL);
    cores *c = cores_new(k, 1, 2, &costs);
    core_thread *a = cores_add_thread(c, "a", 0), *b = cores_add_thread(c, "b", 0);
    cr_assert_eq(cores_start(c), 0);
    log l = {0};
    /* a wakes at 10 and spins for up to 1000; b's work waits for the core
     * until a's spin is ended at 300, then pays a switch (5). */
    cr_assert_eq(thread_spin(a, 1000, note, &l, 1, NULL), 0);
    cr_assert_eq(thread_work(b, 50, note, &l, 2, NULL), 0);
    ender e = {a, 0};
    cr_assert_eq(sim_schedule(k, 300, SIM_BAND_NORMAL, end_spin, &e, 0, NULL), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(e.ended, 1);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(l.at[0], 300);
    cr_assert_eq(l.at[1], 355);
    thread_stats ts;
    thread_get_stats(a, &ts);
    cr_assert_eq(ts.busy_cycles, 290, "the spin counts the cycles it spun");
    /* Nothing to end now: the spin is over. */
    cr_assert_eq(thread_spin_end(a), 0);
    /* A spin nobody ends runs out: 355 + 10 (wake) + 5 (switch) + 400. */
    cr_assert_eq(thread_spin(a, 400, note, &l, 3, NULL), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    cr_assert_eq(l.at[2], 770);
    cores_free(c);
    sim_kernel_free(k);
}
