/*
 * hold.c -- the hold model of hold.h, timed with CLOCK_MONOTONIC.
 */
#include "bench/hold.h"

#include "sim/kernel.h"
#include "sim/rng.h"
#include "sim/wallclock.h"

typedef struct hold {
    sim_rng rng;
    int failed;                 /* a reschedule was refused */
} hold;

static void hold_event(sim_kernel *k, void *ctx, uint64_t arg)
{
    hold *h = ctx;
    if (sim_schedule(k, sim_rng_range(&h->rng, 1, 1000), SIM_BAND_NORMAL,
                     hold_event, h, arg, NULL) != 0)
        h->failed = 1;
}

int bench_hold(sim_backend_kind backend, uint32_t pending, uint64_t events, uint64_t seed,
               bench_hold_result *out)
{
    if (pending == 0 || events == 0)
        return SIM_EINVAL;
    sim_kernel_config cfg = {.initial_pool = pending + 1, .backend = backend};
    sim_kernel *k;
    int opened = sim_kernel_open(&k, &cfg);
    if (opened != 0)
        return opened;
    hold h = {0};
    sim_rng_seed(&h.rng, seed, "bench/hold");
    int rc = 0;
    for (uint32_t i = 0; i < pending && rc == 0; i++)
        rc = sim_schedule(k, sim_rng_range(&h.rng, 1, 1000), SIM_BAND_NORMAL,
                          hold_event, &h, i, NULL);
    if (rc == 0) {
        double t0 = sim_wall_seconds();
        sim_run(k, SIM_TIME_MAX, events);
        double t1 = sim_wall_seconds();
        sim_kernel_stats st;
        sim_kernel_get_stats(k, &st);
        out->events = st.executed;
        out->pending = pending;
        out->seconds = t1 - t0;
        out->ns_per_event = (t1 - t0) * 1e9 / (double)st.executed;
        out->events_per_sec = (double)st.executed / (t1 - t0);
        out->pool_size = st.pool_size;
        rc = h.failed ? SIM_ELIMIT : 0;
    }
    sim_kernel_free(k);
    return rc;
}
