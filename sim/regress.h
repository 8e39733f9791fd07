/*
 * regress.h -- baselines of results documents and their comparison.
 *
 * A baseline file (schema "pvsim-baseline/1", docs/regress.md) names a
 * scenario, the --set overrides to rerun it with, relative tolerances by
 * metric pattern, and the results document that run gave. reg_compare()
 * flattens two results documents (rep_flatten) and lists every metric that
 * differs; the caller reruns the scenario and decides what to print.
 *
 * This module compares documents and nothing more: it knows no guest, runs
 * nothing, prints nothing. Integers and strings must match exactly; reals
 * too, unless a tolerance pattern matches their path. The top-level
 * "pvsim_version" is never compared.
 */
#ifndef PVSIM_SIM_REGRESS_H
#define PVSIM_SIM_REGRESS_H

#include <jansson.h>
#include <stddef.h>

#define REG_SCHEMA "pvsim-baseline/1"

/* A baseline as read from its file. Every pointer but `scenario_path` and
 * the `sets` array itself points into `doc`. */
typedef struct reg_baseline {
    json_t *doc;                    /* the whole file */
    const char *scenario;           /* as written: relative to the file's
                                       directory, or absolute */
    char *scenario_path;            /* `scenario` resolved against the
                                       baseline's directory */
    const char **sets;              /* "path=value" overrides, in order */
    size_t nsets;
    const json_t *tolerances;       /* {fnmatch pattern: relative tolerance} */
    const json_t *results;          /* the results document of the run */
} reg_baseline;

/* How a metric differs. */
typedef enum reg_diff_kind {
    REG_CHANGED,                    /* on both sides, values differ */
    REG_MISSING,                    /* in the baseline only */
    REG_NEW                         /* in the current results only */
} reg_diff_kind;

typedef struct reg_diff {
    reg_diff_kind kind;
    char *path;                     /* dotted, as rep_flatten writes it */
    json_t *base;                   /* NULL when REG_NEW */
    json_t *cur;                    /* NULL when REG_MISSING */
    double tolerance;               /* relative; < 0 when exact */
} reg_diff;

/* The outcome of one comparison. */
typedef struct reg_result {
    size_t metrics;                 /* distinct metric paths on either side */
    reg_diff *diffs;                /* in baseline order, new metrics last */
    size_t ndiffs;
    size_t cap;
} reg_result;

/* Reads and validates the baseline at `file` into `b`. The scenario file
 * it names must be readable. Returns 0, or SIM_EIO (unreadable file or
 * scenario), SIM_EINVAL (not valid JSON, not a baseline) or SIM_ENOMEM
 * with a sentence in `err` that starts with `file`; `b` is then zeroed.
 * Free `b` with reg_baseline_free() on success. */
int reg_baseline_read(const char *file, reg_baseline *b, char *err, size_t errlen);

/* Makes a new baseline for the scenario file `scenario`, to be written into
 * the directory `dir`: its "scenario" is the path from realpath(dir) to
 * realpath(scenario), `sets` (copied) are the overrides, tolerances are
 * empty and `results` is referenced, not copied. Both paths must exist.
 * Returns 0, or SIM_EIO / SIM_ENOMEM with a sentence in `err`. */
int reg_baseline_init(reg_baseline *b, const char *dir, const char *scenario,
                      const char *const *sets, size_t nsets, json_t *results,
                      char *err, size_t errlen);

/* Replaces the baseline's results by `results` (referenced, not copied),
 * keeping scenario, sets and tolerances. Returns 0 or SIM_ENOMEM. */
int reg_baseline_bless(reg_baseline *b, json_t *results);

/* Writes the baseline to `file` atomically (rep_write_json). Returns 0, or
 * a SIM_* status with a sentence in `err`. */
int reg_baseline_write(const char *file, const reg_baseline *b, char *err, size_t errlen);

/* Frees what `b` holds and zeroes it. Accepts a zeroed baseline. */
void reg_baseline_free(reg_baseline *b);

/* The relative tolerance of the first pattern in `tolerances` (an object of
 * fnmatch(3) patterns, in order) that matches `path`; -1 when none does or
 * `tolerances` is NULL. */
double reg_tolerance_of(const json_t *tolerances, const char *path);

/* Compares the results documents `base` and `cur` as rep_write_json writes
 * them (reals to 12 significant digits, so a fresh run equals the file it
 * was written to) and fills `out` (zeroed first) with every metric that
 * differs. `tolerances` may be NULL. Returns 0, or SIM_ENOMEM (also when a
 * path is too long to flatten), with `out` empty. Free `out` with
 * reg_result_free() either way. */
int reg_compare(const json_t *base, const json_t *cur, const json_t *tolerances,
                reg_result *out);

/* Frees the differences and zeroes `r`. Accepts a zeroed result. */
void reg_result_free(reg_result *r);

#endif
