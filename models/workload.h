/*
 * workload.h -- what a guest class asks of its device, and when: request
 * sizes from a distribution, a read/write mix, and arrivals either closed
 * loop (a fixed number in flight, think time between) or open loop (at a
 * rate, whatever the completions: Poisson, a fixed interval, or bursts).
 *
 * Sizes: `fixed` (every request `size` bytes), `uniform` (any byte count
 * in [size_min, size]) or `weighted` (a list of sizes with weights; `size`
 * is then the largest listed). A buffer holds the largest request.
 *
 * Direction: a share of the requests are reads, whose data flows host to
 * guest: where a scheme copies (page-list outside its registered buffers,
 * physical through its bounce pool), a write copies into the buffer before
 * the kick and a read copies out of it after the completion.
 *
 * Open loop: arrivals are spread over the class's `depth` slots; one that
 * finds every slot busy waits in the guest's backlog (its wait is part of
 * its latency) or, with `on_full: drop` or a full backlog, is dropped and
 * counted.
 *
 * Results break latency down by size class (the size itself for fixed and
 * weighted sizes; the power of two at or above it for uniform ones) and
 * direction.
 */
#ifndef PVSIM_MODELS_WORKLOAD_H
#define PVSIM_MODELS_WORKLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/stats.h"

typedef enum guest_think_dist { GUEST_THINK_FIXED, GUEST_THINK_EXPONENTIAL } guest_think_dist;
typedef enum workload_size_dist {
    WORKLOAD_SIZE_FIXED, WORKLOAD_SIZE_UNIFORM, WORKLOAD_SIZE_WEIGHTED
} workload_size_dist;
typedef enum workload_arrival {
    WORKLOAD_CLOSED, WORKLOAD_POISSON, WORKLOAD_INTERVAL, WORKLOAD_BURST
} workload_arrival;
typedef enum workload_on_full { WORKLOAD_QUEUE, WORKLOAD_DROP } workload_on_full;

typedef struct workload_size_weight {
    uint64_t size;
    double weight;
} workload_size_weight;

typedef struct guest_workload_config {
    uint64_t depth;                 /* closed loop: requests in flight;
                                       open loop: at most in flight */
    uint64_t size;                  /* bytes per request: fixed; the
                                       largest otherwise */
    int size_dist;                  /* workload_size_dist */
    uint64_t size_min;              /* uniform: the smallest */
    workload_size_weight *sizes;    /* weighted */
    size_t nsizes;
    double read_share;              /* of requests that read */
    uint64_t compute;               /* guest work on the vCPU after each
                                       completion */
    uint64_t think;                 /* closed loop: mean cycles between
                                       completion and the slot's next request
                                       (idle: the vCPU may halt) */
    int think_dist;                 /* guest_think_dist */
    int arrival;                    /* workload_arrival */
    double rate;                    /* open loop: requests per second */
    uint64_t burst;                 /* arrival: burst: requests a burst */
    int on_full;                    /* workload_on_full */
    uint64_t backlog;               /* arrivals that may wait for a slot */
} guest_workload_config;

extern const scn_schema workload_schema;

/* Whether arrivals come at a rate (open loop). */
int workload_open(const guest_workload_config *w);
/* The smallest and largest request. */
uint64_t workload_size_min(const guest_workload_config *w);
uint64_t workload_size_max(const guest_workload_config *w);

/* After binding: `size` of a weighted list becomes its largest entry. */
void workload_resolve(guest_workload_config *w);
/* Adds an error for each rule of the workload block of guest class
 * `index` that `w` breaks. */
void workload_check(const guest_workload_config *w, size_t index, const scn_doc *doc,
                    scn_errors *errs);

/* A request's size and direction, drawn from `rng`. */
uint64_t workload_draw_size(const guest_workload_config *w, sim_rng *rng);
int workload_draw_read(const guest_workload_config *w, sim_rng *rng);
/* The cycles until the next arrival (the first when `first`), and in
 * *count how many arrive then. */
uint64_t workload_next_arrival(const guest_workload_config *w, sim_rng *rng, uint64_t clock_hz,
                               uint32_t *count);

/* ---- latency by size class and direction ------------------------------ */

typedef struct workload_class_stats {
    uint64_t size;                  /* the class's size */
    int read;
    uint64_t requests;
    uint64_t sums[8];               /* breakdown: notify, exit, translate,
                                       copy, device, interrupt, scheduling,
                                       queueing */
    sim_hist latency;
} workload_class_stats;

/* A class's sizes are at most 32 listed, or 31 powers of two, in two
 * directions, so the table stays small; it grows as classes first appear
 * and keeps its storage across resets. */
typedef struct workload_stats {
    workload_class_stats *classes;
    uint32_t n, cap;
} workload_stats;

void workload_stats_fini(workload_stats *s);
void workload_stats_reset(workload_stats *s);
/* 0, or SIM_ENOMEM (a histogram). */
int workload_stats_add(workload_stats *sum, const workload_stats *add);
/* Records a request of `bytes` (class by `w`) and direction `read`:
 * its latency and breakdown sums. 0 or SIM_ENOMEM. */
int workload_stats_record(workload_stats *s, const guest_workload_config *w, uint64_t bytes,
                          int read, uint64_t latency, const uint64_t sums[8]);
/* The classes as results, sorted by size then direction (write first);
 * NULL when short of memory. */
json_t *workload_stats_json(const workload_stats *s, uint64_t clock_hz);

#endif
