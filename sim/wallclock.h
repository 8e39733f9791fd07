/*
 * wallclock.h -- the host's monotonic clock in seconds, for timing runs
 * (pvsim bench, system_run_timed). Nothing simulated ever reads it: a
 * result that depended on it would not be deterministic.
 */
#ifndef PVSIM_SIM_WALLCLOCK_H
#define PVSIM_SIM_WALLCLOCK_H

#include <time.h>

static inline double sim_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
