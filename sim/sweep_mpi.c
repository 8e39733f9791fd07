/*
 * sweep_mpi.c -- the MPI pool of sweep_mpi.h, or, built without MPI, the
 * refusal to run under a launcher.
 *
 * Messages on MPI_COMM_WORLD: rank 0 sends a worker TAG_WORK with the point
 * number (one uint64_t) or an empty TAG_STOP; a worker answers TAG_DONE
 * with the point file's text or TAG_FAILED with why the point failed.
 * MPI keeps state of its own for the process, so this file keeps two
 * flags beside it: whether MPI was started, and which workers were told
 * to stop.
 *
 * Ranks cannot be killed like forked workers: when the sweep's stop flag
 * ends the loop, closing the pool waits for the points still running and
 * drops their answers, so no rank is left blocked sending one.
 */
#include "sim/sweep_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A launcher's mark in the environment: Open MPI, then PMI/PMIx. */
static int launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

#ifndef PVSIM_HAVE_MPI

int swp_mpi_start(int *rank, int *ranks, char *err, size_t errlen)
{
    *rank = 0;
    *ranks = 1;
    if (!launched())
        return 0;
    snprintf(err, errlen, "this pvsim was built without MPI, so every rank would run "
             "the whole sweep: rebuild with -DPVSIM_MPI=ON (Debian: libopenmpi-dev)");
    return -1;
}

int swp_mpi_active(void)
{
    return 0;
}

swp_pool *swp_pool_mpi(const swp_sweep *s, int ranks, char *err, size_t errlen)
{
    (void)s;
    (void)ranks;
    snprintf(err, errlen, "this pvsim was built without MPI");
    return NULL;
}

int swp_mpi_serve(const swp_sweep *s)
{
    (void)s;
    return -1;
}

void swp_mpi_stop(int release)
{
    (void)release;
}

#else

#include <mpi.h>

enum { TAG_WORK = 1, TAG_STOP, TAG_DONE, TAG_FAILED };

static int mpi_started;
static int stopped_by_pool;

int swp_mpi_start(int *rank, int *ranks, char *err, size_t errlen)
{
    *rank = 0;
    *ranks = 1;
    if (!launched())
        return 0;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Init failed");
        return -1;
    }
    mpi_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, ranks);
    return 0;
}

int swp_mpi_active(void)
{
    return mpi_started;
}

typedef struct mpi_pool {
    swp_pool base;
    const swp_sweep *s;
    int ranks;
    int busy;                        /* points handed out, not answered */
} mpi_pool;

static int mpi_assign(swp_pool *p, int worker, size_t point)
{
    uint64_t v = point;
    if (MPI_Send(&v, 1, MPI_UINT64_T, worker + 1, TAG_WORK, MPI_COMM_WORLD) != MPI_SUCCESS)
        return SIM_EIO;
    ((mpi_pool *)p)->busy++;
    return 0;
}

static int stopping(const swp_sweep *s)
{
    return s->stop && *s->stop;
}

/* MPI_Probe, but giving up (1) once the sweep is stopped; 0 when a
 * message is there, -1 when MPI failed. */
static int probe(const swp_sweep *s, MPI_Status *st)
{
    if (!s->stop) {
        int rc = MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, st);
        return rc == MPI_SUCCESS ? 0 : -1;
    }
    for (;;) {
        int there = 0;
        if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &there, st) != MPI_SUCCESS)
            return -1;
        if (there)
            return 0;
        if (stopping(s))
            return 1;
    }
}

static int mpi_collect(swp_pool *p, int *worker, char **text, int *lost, char *err,
                       size_t errlen)
{
    mpi_pool *mp = (mpi_pool *)p;
    MPI_Status st;
    int n = 0;
    *text = NULL;
    *lost = 0;
    *worker = -1;
    int got = probe(mp->s, &st);
    if (got == 1)
        return 0;
    if (got != 0 || MPI_Get_count(&st, MPI_CHAR, &n) != MPI_SUCCESS || n < 0) {
        snprintf(err, errlen, "MPI failed while waiting for an answer");
        return SIM_EIO;
    }
    char *body = malloc((size_t)n + 1);
    if (!body) {
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    MPI_Recv(body, n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    body[n] = '\0';
    mp->busy--;
    *worker = st.MPI_SOURCE - 1;
    if (st.MPI_TAG == TAG_DONE) {
        *text = body;
        return 0;
    }
    snprintf(err, errlen, "rank %d: %s", st.MPI_SOURCE, body);
    free(body);
    return 0;
}

static void stop_workers(int ranks)
{
    for (int r = 1; r < ranks; r++)
        MPI_Send(NULL, 0, MPI_CHAR, r, TAG_STOP, MPI_COMM_WORLD);
}

/* Receives and drops the answers of the points still running. */
static void drain(mpi_pool *mp)
{
    for (; mp->busy > 0; mp->busy--) {
        MPI_Status st;
        int n = 0;
        if (MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st) != MPI_SUCCESS ||
            MPI_Get_count(&st, MPI_CHAR, &n) != MPI_SUCCESS || n < 0)
            return;
        char *body = malloc((size_t)n + 1);
        if (!body)
            return;
        MPI_Recv(body, n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        free(body);
    }
}

static void mpi_close(swp_pool *p)
{
    mpi_pool *mp = (mpi_pool *)p;
    stop_workers(mp->ranks);
    if (stopping(mp->s))
        drain(mp);
    stopped_by_pool = 1;
    free(p);
}

swp_pool *swp_pool_mpi(const swp_sweep *s, int ranks, char *err, size_t errlen)
{
    mpi_pool *mp = calloc(1, sizeof *mp);
    if (!mp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mp->base = (swp_pool){ranks - 1, mpi_assign, mpi_collect, mpi_close};
    mp->s = s;
    mp->ranks = ranks;
    return &mp->base;
}

int swp_mpi_serve(const swp_sweep *s)
{
    for (;;) {
        uint64_t point = 0;
        MPI_Status st;
        if (MPI_Recv(&point, 1, MPI_UINT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st) !=
            MPI_SUCCESS)
            return -1;
        if (st.MPI_TAG == TAG_STOP)
            return 0;
        char err[512], *text = NULL;
        int rc = point < s->npoints ? swp_run_point(s, (size_t)point, &text, err, sizeof err)
                                    : SIM_EINVAL;
        if (rc && point >= s->npoints)
            snprintf(err, sizeof err, "no point %llu", (unsigned long long)point);
        const char *body = rc == 0 ? text : err;
        int sent = MPI_Send(body, (int)strlen(body), MPI_CHAR, 0, rc == 0 ? TAG_DONE : TAG_FAILED,
                            MPI_COMM_WORLD);
        free(text);
        if (sent != MPI_SUCCESS)
            return -1;
    }
}

void swp_mpi_stop(int release)
{
    if (!mpi_started)
        return;
    int rank = 0, ranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    if (rank == 0 && release && !stopped_by_pool)
        stop_workers(ranks);
    MPI_Finalize();
    mpi_started = 0;
}

#endif
