/*
 * stats.h -- histograms and time-weighted utilisation.
 *
 * sim_hist is a log-linear histogram (the HDR layout): values below 128 have
 * a bucket each; above, every power of two is split into 128 equal buckets.
 * A bucket's width is at most 1/128 of its lower bound, and quantiles report
 * the bucket midpoint, so any quantile is within 1/256 (0.4%) of a value
 * actually recorded at that rank. Count, sum, min and max are exact.
 * Recording is O(1): a count-leading-zeros and an add.
 *
 * sim_util integrates a level (busy servers, queue length) over simulated
 * time, for utilisation and mean occupancy.
 */
#ifndef PVSIM_SIM_STATS_H
#define PVSIM_SIM_STATS_H

#include <stdint.h>

#include "sim/kernel.h"

#define SIM_HIST_SUB_BITS 7
#define SIM_HIST_SUB (1u << SIM_HIST_SUB_BITS)
#define SIM_HIST_BUCKETS ((64 - SIM_HIST_SUB_BITS + 1) * SIM_HIST_SUB)

typedef struct sim_hist {
    uint64_t count;
    uint64_t min, max;
    unsigned __int128 sum;        /* exact: results must not depend on the
                                     machine's floating-point widths */
    uint64_t *buckets;            /* SIM_HIST_BUCKETS counts, lazily zeroed */
} sim_hist;

/* Prepares an empty histogram. Returns 0 or SIM_ENOMEM. Free with
 * sim_hist_fini(). */
int sim_hist_init(sim_hist *h);
void sim_hist_fini(sim_hist *h);

/* Forgets every value recorded; keeps the storage. */
void sim_hist_clear(sim_hist *h);

/* Records one value. Never fails. */
void sim_hist_record(sim_hist *h, uint64_t value);

/* Adds every value recorded in `src` into `dst`. */
void sim_hist_merge(sim_hist *dst, const sim_hist *src);

/* The value at quantile q in [0, 1] (0.5 = median, 1 = max): the midpoint of
 * the bucket holding the ceil(q * count)-th smallest value, clamped to
 * [min, max]. 0 for an empty histogram. */
uint64_t sim_hist_quantile(const sim_hist *h, double q);

/* The arithmetic mean; 0 for an empty histogram. */
double sim_hist_mean(const sim_hist *h);

/* Bucket index of a value and the [lo, hi] range of a bucket; exposed for
 * tests of the layout. */
uint32_t sim_hist_bucket_of(uint64_t value);
void sim_hist_bucket_range(uint32_t bucket, uint64_t *lo, uint64_t *hi);

/* A level integrated over simulated time. */
typedef struct sim_util {
    sim_time start;               /* when integration began */
    sim_time last;                /* time of the last change */
    uint64_t level;               /* current level */
    unsigned __int128 area;       /* integral of level dt up to `last`, exact */
} sim_util;

/* Starts integrating at `now` with level 0. */
void sim_util_init(sim_util *u, sim_time now);

/* Sets the level from `now` on (now >= the previous call's time). */
void sim_util_set(sim_util *u, sim_time now, uint64_t level);

/* Mean level over [start, now]; divide by the number of servers for
 * utilisation. 0 when no time has passed. */
double sim_util_mean(const sim_util *u, sim_time now);

/* Restarts integration at `now`, keeping the current level (end of warm-up). */
void sim_util_reset(sim_util *u, sim_time now);

#endif
