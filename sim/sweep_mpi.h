/*
 * sweep_mpi.h -- sweeps spread over MPI ranks (Open MPI).
 *
 * Under `mpirun -np R pvsim sweep ...` every rank builds the same plan;
 * rank 0 is the master (it hands out points, one at a time to whichever
 * rank answers, and writes every file) and ranks 1..R-1 are the workers.
 * With R = 1 the sweep runs as without MPI.
 *
 * pvsim starts MPI only when a launcher started it (Open MPI's
 * OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_RANK), so a plain `pvsim sweep`
 * never touches MPI. A pvsim built without MPI refuses to run under a
 * launcher rather than letting every rank run the whole sweep.
 */
#ifndef PVSIM_SIM_SWEEP_MPI_H
#define PVSIM_SIM_SWEEP_MPI_H

#include "sim/sweep_pool.h"

/* Starts MPI if a launcher asked for it: *rank and *ranks, else 0 and 1.
 * Returns 0, or -1 with a sentence in `err` when MPI cannot start or is
 * not built in. */
int swp_mpi_start(int *rank, int *ranks, char *err, size_t errlen);

/* Whether MPI was started: then even a single rank must not fork. */
int swp_mpi_active(void);

/* Rank 0: the pool of ranks 1..ranks-1. NULL with `err`. */
swp_pool *swp_pool_mpi(const swp_sweep *s, int ranks, char *err, size_t errlen);

/* Ranks > 0: run the points rank 0 sends until it says stop. 0, or -1
 * when MPI failed. */
int swp_mpi_serve(const swp_sweep *s);

/* Ends MPI, if it was started. On rank 0 with `release` set (the workers
 * prepared the sweep too, so they serve), first tells every worker that no
 * pool stopped to stop, so no rank waits for ever. */
void swp_mpi_stop(int release);

#endif
