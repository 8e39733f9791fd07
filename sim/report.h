/*
 * report.h -- results as JSON documents (Jansson), written atomically.
 *
 * A run's results are one JSON object (schema "pvsim-results/1"); models
 * build it with these helpers, the CLI prints a table from it, and later
 * tools (sweeps, regress) read it back. Reals are written with 12
 * significant digits and keys in insertion order, so the same run gives the
 * same bytes on every machine.
 */
#ifndef PVSIM_SIM_REPORT_H
#define PVSIM_SIM_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/stats.h"

#define REP_SCHEMA "pvsim-results/1"

/* Nanoseconds for `cycles` at `clock_hz`. */
double rep_ns(double cycles, uint64_t clock_hz);

/* {"mean", "p50", "p90", "p99", "p999", "max"} of `h`, in cycles (integers,
 * mean real) when clock_hz is 0, else in nanoseconds (reals). New reference;
 * NULL when memory is short. */
json_t *rep_quantiles(const sim_hist *h, uint64_t clock_hz);

/* obj[key] = value, taking the reference; returns -1 if value is NULL or
 * the set fails (so callers can chain checks), else 0. */
int rep_set(json_t *obj, const char *key, json_t *value);

/* The value at a dotted path below `o` ("totals.latency_ns.mean"): each
 * step an object's key, or an array's index in decimal ("classes.0");
 * NULL when a step is absent, names into a scalar, or passes 127 bytes.
 * Borrowed reference. */
json_t *rep_get(const json_t *o, const char *path);

/* Writes `doc` to `path` through a temporary file in the same directory and
 * rename(), so readers never see a partial file. Creates no directories.
 * Returns 0, or SIM_EIO or SIM_ENOMEM with a reason in `err`. */
int rep_write_json(const char *path, const json_t *doc, char *err, size_t errlen);

/* Writes `text` then `tail` to `path` the same atomic way. */
int rep_write_text(const char *path, const char *text, const char *tail, char *err,
                   size_t errlen);

/* Writes `path` the same atomic way with what `write(f, ctx)` puts into
 * the temporary file (it returns 0, SIM_EIO or SIM_ENOMEM): for texts too
 * large to build in memory first. */
int rep_write_with(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                   size_t errlen);

/* `s` as one CSV field (RFC 4180): quoted only when it holds a comma, a
 * quote or a line break, with quotes doubled. */
void rep_csv_text(FILE *f, const char *s);

/* The JSON text exactly as rep_write_json writes it (less the final
 * newline); caller frees. NULL when memory is short. */
char *rep_dump(const json_t *doc);

/* Flattens `doc` into a new object of its scalar leaves (numbers, strings,
 * booleans) keyed by dotted path, in document order:
 * {"totals": {"latency_ns": {"mean": 3}}} gives {"totals.latency_ns.mean": 3}.
 * An array whose items are all objects with distinct string "name"s is
 * keyed by those names ("classes.small.metrics.requests"; the "name" leaf
 * itself is left out), any other array by index ("free_blocks_by_order.3"). Nulls and empty containers vanish.
 * Sweeps make CSV columns of these paths and regress compares them. New
 * reference; NULL when memory is short or a path passes 1,023 bytes. */
json_t *rep_flatten(const json_t *doc);

#endif
