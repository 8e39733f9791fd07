/*
 * resource.h -- FIFO multi-server resources (cores, vCPUs, device workers).
 *
 * A job asks for `service` cycles of one server. When a server is free the
 * job starts at once; otherwise it waits in FIFO order. When the job's
 * service ends, its handler runs. The resource knows nothing of what the job
 * means: models wrap their own requests around it.
 *
 * Ties are deterministic: completions are kernel events, and a server freed
 * by a completion takes the next queued job before the job's handler runs,
 * so a handler that submits again queues behind jobs that were waiting.
 */
#ifndef PVSIM_SIM_RESOURCE_H
#define PVSIM_SIM_RESOURCE_H

#include <stdint.h>

#include "sim/kernel.h"
#include "sim/stats.h"

typedef struct sim_resource sim_resource;

typedef struct sim_resource_stats {
    uint64_t jobs_started;
    uint64_t jobs_done;
    uint64_t jobs_queued;         /* jobs that had to wait at all */
    uint64_t busy_cycles;         /* service time of started jobs */
    uint64_t schedule_failures;   /* completions the kernel refused (its
                                     max_pending); such jobs are lost */
    uint32_t queue_len;           /* waiting now */
    uint32_t peak_queue_len;
    double utilisation;           /* mean busy servers / servers since reset */
    double mean_queue_len;        /* time-weighted, since reset */
} sim_resource_stats;

/* Creates a resource with `servers` (>= 1) identical servers whose queue may
 * hold at most `max_queue` jobs (0 = 1 << 20). Returns NULL on bad arguments
 * or when memory is short. The kernel must outlive it. */
sim_resource *sim_resource_new(sim_kernel *k, uint32_t servers,
                               uint32_t max_queue);

/* Frees the resource; queued jobs are dropped (their handlers never run).
 * Running jobs' completion events stay in the kernel: free the resource
 * only after the kernel has stopped running, then free the kernel.
 * Accepts NULL. */
void sim_resource_free(sim_resource *r);

/* Queues a job of `service` cycles; `fn(k, ctx, arg)` runs when it ends.
 * Returns 0, or SIM_ELIMIT when the queue is full (nothing queued). */
int sim_resource_submit(sim_resource *r, sim_time service, sim_handler fn,
                        void *ctx, uint64_t arg);

/* Jobs waiting plus jobs in service. */
uint32_t sim_resource_load(const sim_resource *r);

/* Restarts the time integrals at now (end of warm-up); counters keep going. */
void sim_resource_reset_stats(sim_resource *r);

void sim_resource_get_stats(const sim_resource *r, sim_resource_stats *out);

#endif
