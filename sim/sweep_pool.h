/*
 * sweep_pool.h -- the workers that run a sweep's points, and the master
 * loop that hands points to them.
 *
 * A pool has `nworkers` workers, each running at most one point at a time.
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

#include <stddef.h>

#include "sim/sweep_run.h"

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

/* The master runs the points itself. NULL when memory is short. */
swp_pool *swp_pool_inline(const swp_sweep *s);

/* Forks `n` workers (1..SWP_MAX_WORKERS). Ignores SIGPIPE in the master,
 * so a dead worker's pipe is an error, not a signal. NULL with `err`. */
#define SWP_MAX_WORKERS 1024
swp_pool *swp_pool_fork(const swp_sweep *s, int n, char *err, size_t errlen);

#define SWP_SHOWN_FAILURES 8

typedef struct swp_failure {
    size_t point;
    char why[256];
} swp_failure;

typedef struct swp_outcome {
    size_t to_run;                   /* distinct configurations not done */
    size_t ran;                      /* of those, now done */
    size_t failed;                   /* of those, failed */
    int workers_lost;
    int interrupted;                 /* the stop flag ended the loop early */
    swp_failure shown[SWP_SHOWN_FAILURES];
    size_t nshown;
} swp_outcome;

/* Runs every distinct point not done through `pool`, storing each answer
 * (swp_store_point) and marking it done, until all are answered or the
 * sweep's stop flag is set (out->interrupted; a point whose worker died
 * after that is not counted as failed). Returns 0 (failures are in
 * `out`), or a status with `err` when the pool or the disk broke. */
int swp_execute(swp_sweep *s, swp_pool *pool, swp_progress_fn progress, void *ctx,
                swp_outcome *out, char *err, size_t errlen);

#endif
