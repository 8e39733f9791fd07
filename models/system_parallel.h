/*
 * system_parallel.h -- a run's jobs (system_run_job: one variant of one
 * replication) on local workers, through the sweep's pool
 * (sim/sweep_pool.h): `pvsim run -j N`.
 *
 * Each worker answers a job with the variant's object as JSON text, every
 * real at full precision, so it parses back to the same numbers; the
 * master keeps the answers by job number and assembles the document
 * (system_assemble) only when all are in, so its bytes are system_run()'s
 * whatever the number of workers or the order the answers arrive in.
 *
 * The master ages replication 0's memory before forking, so the workers
 * share it copy-on-write instead of each aging it again; a worker ages a
 * later replication's when it first runs one of its jobs, and keeps it for
 * its next job of that replication. A worker is handed the jobs of the
 * replication it holds while there are some, then those of a replication
 * no other worker is on, so a replication is aged about once, not once
 * per worker.
 *
 * With `fresh`, every job runs in a process of its own, forked when the
 * job is handed out, that exits after answering: for a model that cannot
 * run twice in one process (a SystemC kernel cannot restart time). Fresh
 * processes still inherit replication 0's aged memory.
 */
#ifndef PVSIM_MODELS_SYSTEM_PARALLEL_H
#define PVSIM_MODELS_SYSTEM_PARALLEL_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#include "models/system.h"

typedef struct system_parallel {
    int workers;                    /* 1 (in this process) to SWP_MAX_WORKERS;
                                       no more are forked than there are jobs */
    int fresh;                      /* a process per job, even with 1 worker */
    const volatile sig_atomic_t *stop; /* once set (by a signal handler), the
                                          run ends; may be NULL */
    /* Called after each job's answer with the jobs answered and all of
     * them; may be NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *ctx;
    /* Where the wall time went, or NULL: the master's aging and
     * assembling, plus each job's set-up, loop and results as its worker
     * measured them (they travel back beside the job's answer). Wall time
     * spent forking and passing answers is in none of them. */
    system_timing *timing;
} system_parallel;

/*
 * system_run() with its jobs on `o->workers` workers: a new results
 * document in *results, the same bytes once dumped. A config that records
 * (cfg->trace) takes one worker (SIM_EINVAL otherwise): jobs in fresh
 * processes send their recordings back one after another, and the
 * recorder ends as one process's would. Returns 0;
 * SIM_EINTR when o->stop ended the run (the workers are stopped; `err`
 * says how far it got); SIM_EINVAL when a job failed or its worker died:
 * the first to do so ends the run, and `err` names its variant and
 * replication as system_run() does; or SIM_EIO when workers cannot be
 * started or none is left. No results but on 0. With one worker and no `fresh`, the jobs
 * run in this process and the stop flag is seen between jobs.
 */
int system_run_parallel(const system_config *cfg, const system_parallel *o, json_t **results,
                        char *err, size_t errlen);

/*
 * system_run_timed() on cfg's backend. The native one runs in this
 * process. A SystemC kernel cannot restart time, so there each job runs in
 * a process of its own, one at a time (system_run_parallel with `fresh`):
 * `progress` then hears of each job as it ends, a non-zero answer stops
 * the run before the next job (system_run_parallel's `stop` flag can
 * stop it sooner), and `timing` sums what the job processes measured.
 * Recording (cfg->trace) works on either: on SystemC each job's process
 * sends its recording back.
 */
int system_run_on_backend(const system_config *cfg, system_progress_fn progress, void *ctx,
                          json_t **results, system_timing *timing, char *err, size_t errlen);

#endif
