/*
 * isolate.h -- runs one job in a child process of its own and hands back
 * the text it made.
 *
 * The SystemC backend needs this: SystemC has one simulation context per
 * process and cannot restart time, so every simulation on it (each variant
 * of each replication) runs in a forked child (docs/systemc.md). The child
 * shares the parent's memory as it was at the fork, so only the job's text
 * (or its error) crosses back, through a pipe. Kept in one place so that
 * it can move onto the sweep's worker pool.
 */
#ifndef PVSIM_SIM_ISOLATE_H
#define PVSIM_SIM_ISOLATE_H

#include <stddef.h>

/* A job: 0 with `*text` (malloc'd), or a negative status with `err`. */
typedef int (*sim_job_fn)(void *ctx, char **text, char *err, size_t errlen);

/* Runs `job(ctx, ...)` in a forked child and waits for it. Returns the
 * job's status: 0 with `*text` (the caller frees it), or its status and its
 * `err`; SIM_EIO or SIM_ENOMEM with `err` when the child could not be
 * started, died, or its answer could not be read. */
int sim_isolate(sim_job_fn job, void *ctx, char **text, char *err, size_t errlen);

#endif
