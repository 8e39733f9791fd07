/*
 * sweep_pool.h -- the workers that run a sweep's points (or any numbered
 * jobs), and the master loop that hands them out.
 *
 * A pool runs jobs numbered 0..njobs-1, each answered with a text: a
 * sweep's jobs are its points (answered with their point files), `pvsim
 * run -j`'s are (replication, variant) pairs (answered with the variant's
 * results). swp_jobs says how a worker runs one; the sweep's own pools
 * (swp_pool_inline, swp_pool_fork) are the same pools over its points.
 *
 * A pool has `nworkers` workers, each running at most one job at a time.
 * Three kinds share one interface:
 *   inline  the master runs each point itself (-j 1);
 *   fork    N worker processes forked from the master, each with a pipe
 *           for point numbers and one for answers; they share the
 *           master's prepared sweep, so only numbers and results cross;
 *   mpi     the other MPI ranks (sweep_mpi.h), when built with Open MPI.
 * The master loop (swp_execute) hands the next point to whichever worker
 * answers first, so a slow point never holds up the others, and writes
 * each point's file as its answer arrives.
 *
 * A point that fails, or a worker that dies while running one, is a
 * counted failure: the point stays not done (--resume runs it again), the
 * others go on, and the loop stops only when no worker is left.
 *
 * Once the sweep's stop flag (swp_sweep.stop) is set, the loop hands out
 * no more points and returns as soon as the pool notices (at once for
 * forked workers and MPI ranks, after the point in hand inline); closing
 * the pool then ends the points still running, which stay not done.
 */
#ifndef PVSIM_SIM_SWEEP_POOL_H
#define PVSIM_SIM_SWEEP_POOL_H

#include <signal.h>
#include <stddef.h>

#include "sim/sweep_run.h"

/* The jobs a pool runs. Pools keep a copy of this struct, not of what it
 * points to. */
typedef struct swp_jobs {
    size_t njobs;
    /* Worker side: runs job `job` (< njobs) and gives its answer in *text
     * (caller frees). 0, or a status with a sentence in err. */
    int (*run)(const void *ctx, size_t job, char **text, char *err, size_t errlen);
    const void *ctx;
    /* Optional, zero or -1 by default: */
    const volatile sig_atomic_t *stop; /* as swp_sweep.stop */
    int master_fd;                   /* a descriptor only the master keeps
                                        (a lock): workers close it; -1 none */
    int fresh;                       /* fork pool: every job in a worker
                                        process of its own, forked when the
                                        job is handed out, that runs it and
                                        exits (a model that cannot run twice
                                        in one process) */
} swp_jobs;

typedef struct swp_pool swp_pool;

struct swp_pool {
    int nworkers;
    /* Gives point `point` to idle worker `worker`. 0, or a status when the
     * worker cannot take it (it is then treated as lost). */
    int (*assign)(swp_pool *p, int worker, size_t point);
    /* Waits for the answer of any busy worker: *worker, and *text (the
     * point's file text, caller frees) or *text NULL with `err` saying why
     * the point failed; *lost is set when the worker is gone for good.
     * Once the sweep's stop flag is set it may return early with *worker
     * -1 and no answer. Returns 0, or a status when the pool itself
     * broke. */
    int (*collect)(swp_pool *p, int *worker, char **text, int *lost, char *err,
                   size_t errlen);
    /* Stops the workers (ending any point still running) and frees p. */
    void (*close)(swp_pool *p);
};

/* The master runs the jobs itself. NULL when memory is short. */
swp_pool *swp_pool_inline_jobs(const swp_jobs *j);

/* Forks `n` workers (1..SWP_MAX_WORKERS), or with j->fresh one per job
 * handed out. Ignores SIGPIPE in the master, so a dead worker's pipe is an
 * error, not a signal. NULL with `err`. */
#define SWP_MAX_WORKERS 1024
swp_pool *swp_pool_fork_jobs(const swp_jobs *j, int n, char *err, size_t errlen);

/* The same pools over a sweep's points (swp_run_point), with its stop
 * flag; the workers close the sweep's lock. */
swp_pool *swp_pool_inline(const swp_sweep *s);
swp_pool *swp_pool_fork(const swp_sweep *s, int n, char *err, size_t errlen);

#define SWP_SHOWN_FAILURES 8

typedef struct swp_failure {
    size_t point;                    /* the job: a sweep's point */
    char why[256];
} swp_failure;

typedef struct swp_outcome {
    size_t to_run;                   /* jobs to run: a sweep's distinct
                                        configurations not done */
    size_t ran;                      /* of those, now done */
    size_t failed;                   /* of those, failed */
    int workers_lost;
    int interrupted;                 /* the stop flag ended the loop early */
    swp_failure shown[SWP_SHOWN_FAILURES];
    size_t nshown;
} swp_outcome;

/* The master's side of a run of jobs (swp_run_jobs). */
typedef struct swp_master {
    swp_pool *pool;
    const size_t *todo;              /* the jobs to run, handed out in this
                                        order */
    size_t ntodo;
    const volatile sig_atomic_t *stop; /* once set, no more jobs go out */
    int first_failure_ends;          /* stop at the first failed job */
    /* Files job `job`'s answer: 0, or a status (with err) that ends the
     * loop. */
    int (*take)(void *ctx, size_t job, const char *text, char *err, size_t errlen);
    void *ctx;                       /* of take and group */
    /* Optional: the group of job `job`. Jobs of a group share work a
     * worker does once and keeps (a replication's aged memory), so a
     * worker is given the next job of the group it last ran, else of a
     * group no other worker is on, else the next in order. NULL: in
     * order. */
    size_t (*group)(void *ctx, size_t job);
    swp_progress_fn progress;        /* may be NULL */
    void *progress_ctx;
} swp_master;

/* Hands m->todo out to the pool's workers, whichever answers first getting
 * the next (or, with m->group, the next of its group), and gives each answer to m->take (a failed job is counted in
 * `out`, not taken), until every job is answered, the stop flag is set
 * (out->interrupted; a job whose worker died after that is not counted as
 * failed) or, with first_failure_ends, a job fails. Calls m->progress
 * after each answer. Returns 0 (failures are in `out`), or a status with
 * `err` when the pool or m->take broke. The caller closes the pool, which
 * ends the jobs still running. */
int swp_run_jobs(const swp_master *m, swp_outcome *out, char *err, size_t errlen);

/* Runs every distinct point not done through `pool`, storing each answer
 * (swp_store_point) and marking it done, until all are answered or the
 * sweep's stop flag is set (out->interrupted; a point whose worker died
 * after that is not counted as failed). Returns 0 (failures are in
 * `out`), or a status with `err` when the pool or the disk broke. */
int swp_execute(swp_sweep *s, swp_pool *pool, swp_progress_fn progress, void *ctx,
                swp_outcome *out, char *err, size_t errlen);

#endif
