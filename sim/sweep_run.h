/*
 * sweep_run.h -- running a sweep's points and collecting their results.
 *
 * The points of a plan (sweep.h) become configurations through the model's
 * loader (swp_model: sim/ knows no guests), each keyed by a 128-bit hash of
 * its canonical configuration text (scn_write_canonical), the pvsim
 * version and the SHA-256 of the simulator's sources (the .c/.h files
 * under sim/ and models/, computed by the build: swp_sources_hash()), so
 * a changed model never reuses a point simulated by the old one. Results
 * land in DIR:
 *   DIR/points/<hash>.json  one per distinct configuration, written
 *                           atomically as soon as it is done:
 *                           {"schema": "pvsim-point/1", "config_hash",
 *                            "sources": the source hash in its key,
 *                            "parameters": {path: value in base units},
 *                            "results": the run's results document}
 *   DIR/sweep.csv           one row per point and variant, written only
 *                           when every point is done: point, variant,
 *                           config_hash, the parameters, then every metric
 *                           of the variant (rep_flatten paths), in the
 *                           order they first appear; an empty cell is a
 *                           metric that variant lacks. A metric named like
 *                           a parameter is "result.<path>".
 *   DIR/sweep.partial.csv   the same, in its place, when points are
 *                           missing (failed or interrupted): never a
 *                           sweep.csv that lacks rows.
 *   DIR/sweep.lock          held (flock) by the sweep writing DIR, so a
 *                           second one is refused; the kernel drops the
 *                           lock when its holder dies.
 * A resumed sweep takes a point whose file exists, parses and carries the
 * same hash as done, so an interrupted sweep loses nothing and repeats
 * nothing; points with equal configurations run once.
 *
 * Points are handed to workers through a pool (sweep_pool.h): in process,
 * forked processes, or MPI ranks. The master writes every file, in the
 * order answers arrive, but the CSV is built from the files in point
 * order, so its bytes never depend on the pool or its size.
 */
#ifndef PVSIM_SIM_SWEEP_RUN_H
#define PVSIM_SIM_SWEEP_RUN_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/sweep.h"

#define SWP_POINT_SCHEMA "pvsim-point/1"
#define SWP_HASH_HEX 32
#define SWP_CSV_NAME "sweep.csv"
#define SWP_PARTIAL_CSV_NAME "sweep.partial.csv"
#define SWP_LOCK_NAME "sweep.lock"

/* What a sweep needs from the models. */
typedef struct swp_model {
    const scn_schema *schema;        /* the root the configs are bound from */
    /* Loads `src`: 0 with a new config in *cfg, else a status with errs
     * filled (*cfg NULL). */
    int (*load)(const scn_source *src, void **cfg, scn_errors *errs);
    /* Simulates `cfg`: 0 with a new results document, else a status with
     * a sentence in err. */
    int (*run)(const void *cfg, json_t **results, char *err, size_t errlen);
    void (*free)(void *cfg);         /* accepts NULL */
    /* Writes, after the schema's canonical text, what the schema's fields
     * leave out but results depend on (pvsim: which costs are known, so a
     * cost given as 0 and one left unset, which results write as 0 and
     * null, never share a point); NULL: nothing. */
    void (*canonical_extra)(const void *cfg, FILE *f);
} swp_model;

typedef struct swp_point {
    char hash[SWP_HASH_HEX + 1];
    size_t first;                    /* the first point with this hash */
    int done;                        /* its file holds its results */
} swp_point;

typedef struct swp_sweep {
    const swp_model *model;
    const swp_plan *plan;
    const char *file;                /* the scenario */
    const char *const *sets;         /* the command line's overrides */
    size_t nsets;
    const char *dir;                 /* where results go */
    swp_point *points;               /* owned, plan->npoints */
    size_t npoints;
    /* Optional, zero by default: */
    const char *sources;             /* the source hash keyed on; NULL: this
                                        build's (swp_sources_hash()) */
    const volatile sig_atomic_t *stop; /* once non-zero (a signal handler
                                          sets it), swp_execute hands out no
                                          more points */
    /* Set by swp_claim(): */
    int claimed;
    int lock_fd;                     /* DIR/sweep.lock, while claimed */
} swp_sweep;

/* Progress of long work: `done` of `total` steps (points loaded, points
 * answered). */
typedef void (*swp_progress_fn)(void *ctx, size_t done, size_t total);

/*
 * Loads every point's configuration (so a bad value stops the sweep
 * before it starts) and hashes it, calling `progress` (may be NULL) after
 * each point. `s` must have model, plan, file, sets and dir set; points
 * are allocated here. On SIM_ESCENARIO `errs` holds the errors of the
 * first bad point and *bad its index. 0, SIM_ESCENARIO or SIM_ENOMEM.
 * Free with swp_sweep_free().
 */
int swp_prepare(swp_sweep *s, swp_progress_fn progress, void *ctx, scn_errors *errs,
                size_t *bad);
void swp_sweep_free(swp_sweep *s);

/* The SHA-256 (64 hex digits) of the .c/.h files under sim/ and models/
 * this pvsim was built from: what keys a point besides its configuration
 * and the pvsim version. */
const char *swp_sources_hash(void);

/*
 * Claims DIR for this sweep before it writes anything there: takes the
 * lock DIR/sweep.lock (flock, held until swp_release() or this process
 * and its workers die), then removes DIR/sweep.csv and
 * DIR/sweep.partial.csv, which this sweep supersedes, so an interrupted
 * sweep never leaves another sweep's CSV looking like its own. DIR must
 * exist. Returns 0; SIM_EIO with `err` naming the holder's pid when
 * another sweep holds DIR, or why DIR cannot be claimed.
 */
int swp_claim(swp_sweep *s, char *err, size_t errlen);

/* Drops the claim of swp_claim(), removing the lock file. Accepts an
 * unclaimed sweep. */
void swp_release(swp_sweep *s);

/* Whether point `i` has results: its configuration's file was found or
 * written. */
int swp_point_done(const swp_sweep *s, size_t i);

/* Distinct configurations not done yet: what a run has left to do. */
size_t swp_to_run(const swp_sweep *s);

/* Marks as done the points whose results are already in DIR (--resume).
 * Returns how many distinct configurations were found. */
size_t swp_find_done(swp_sweep *s);

/* Worker side: loads and runs point `i`, and gives the text of its point
 * file in *text (caller frees). 0, or a status with a sentence in err. */
int swp_run_point(const swp_sweep *s, size_t i, char **text, char *err, size_t errlen);

/* Master side: writes the text of point `i`'s file atomically. */
int swp_store_point(const swp_sweep *s, size_t i, const char *text, char *err,
                    size_t errlen);

/* Writes the CSV from the points' files, in point order: DIR/sweep.csv
 * when every point is done (removing any DIR/sweep.partial.csv), else
 * DIR/sweep.partial.csv without the points not done, counted in *missing
 * (removing any DIR/sweep.csv, which would claim to be whole). 0, or
 * SIM_EIO/SIM_ENOMEM with err filled. */
int swp_write_csv(const swp_sweep *s, size_t *missing, char *err, size_t errlen);

#endif
