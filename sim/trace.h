/*
 * trace.h -- a recorder of what a run did, for timelines and per-request
 * tables: slices on tracks (Chrome / Perfetto trace events), signals that
 * change value at times (Value Change Dump), and rows of numbers (CSV).
 *
 * The recorder knows nothing of guests. A model names its tracks ("vCPUs"
 * / "guest/small/0 vcpu 0"), its slices (a label: name, category and the
 * name of one integer argument), its signals (a width, or a few named
 * states) and the columns of its rows, then records events at simulated
 * times; the CLI writes the files with trc_write_json/_vcd/_csv.
 *
 * Runs simulate several variants one after another, each from time 0:
 * trc_variant() opens a section of its own, so tracks, processes and
 * signals belong to the variant in force when they were made, and every
 * variant is bounded separately.
 *
 * Bounds: each of the three kinds (slices and markers; value changes;
 * rows) holds at most `max_events` records per variant (TRC_DEFAULT_LIMIT
 * unless given), and only events inside the window [from, to) of simulated
 * time: a slice by its start, a value change by its time, a row by its
 * time (a request's completion). Past the count the recorder stops
 * recording that kind for the variant and remembers where it was cut; the
 * writers say so in the file. Memory is therefore bounded by the limit:
 * 40 bytes a slice, 24 a value change, 8 a number of a row.
 *
 * Failures: the record calls run inside event handlers and return
 * nothing; when memory is short the recorder stops and trc_status()
 * reports SIM_ENOMEM, which the run turns into its own failure.
 *
 * Determinism: the writers format integers only (times are converted
 * from cycles with the variant's clock by exact integer arithmetic), and
 * slices are written in a fixed order, so a run gives the same bytes.
 */
#ifndef PVSIM_SIM_TRACE_H
#define PVSIM_SIM_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "sim/kernel.h"

typedef struct trc_recorder trc_recorder;

/* Names a track, a label or a signal of a recorder. */
typedef uint32_t trc_id;

/* What a recorder records (bits). */
enum { TRC_SPANS = 1u, TRC_SIGNALS = 2u, TRC_ROWS = 4u };

#define TRC_DEFAULT_LIMIT 1000000u

typedef struct trc_limit {
    uint64_t max_events;            /* per kind and variant; 0: the default */
    sim_time from, to;              /* the window; to == 0: no end */
} trc_limit;

/* A new recorder of `what` (TRC_* bits) within `limit` (NULL: defaults).
 * NULL when memory is short. */
trc_recorder *trc_new(unsigned what, const trc_limit *limit);
void trc_free(trc_recorder *t);

/* Whether `t` records `kind` (a TRC_* bit); 0 for a NULL recorder. */
int trc_wants(const trc_recorder *t, unsigned kind);

/* 0, or SIM_ENOMEM once a record could not be kept. */
int trc_status(const trc_recorder *t);

/* Starts the section of variant `name` (copied), whose cycles run at
 * `clock_hz`; what follows belongs to it. 0 or SIM_ENOMEM. */
int trc_variant(trc_recorder *t, const char *name, uint64_t clock_hz);

/* A label for slices: its name (copied), a category and the key of its
 * integer argument (static strings; `arg` NULL: none). Equal triples give
 * the same id. 0 when memory is short (the status says so). */
trc_id trc_label(trc_recorder *t, const char *name, const char *cat, const char *arg);

/* A track named `name` (copied) in the variant's process `group` ("vCPUs",
 * "host cores"). 0 when memory is short. */
trc_id trc_track(trc_recorder *t, const char *group, const char *name);

/* How a slice takes part in a flow (an arrow between slices). */
typedef enum trc_flow_role { TRC_FLOW_NONE, TRC_FLOW_OUT, TRC_FLOW_STEP, TRC_FLOW_IN } trc_flow_role;

/* A new flow id, unique in the recorder (never 0). */
uint64_t trc_flow_new(trc_recorder *t);

/* A slice [start, end] on `track` with `label` and its argument `arg`.
 * Slices of one track must nest (the viewers need it). */
void trc_slice(trc_recorder *t, trc_id track, sim_time start, sim_time end, trc_id label,
               uint64_t arg);

/* The same, as the `role` of flow `flow` (its first slice, a step, its
 * last). A flow is written only when its first and last slices both are. */
void trc_slice_flow(trc_recorder *t, trc_id track, sim_time start, sim_time end, trc_id label,
                    uint64_t arg, uint64_t flow, trc_flow_role role);

/* A signal of the variant, in scope `group`/`unit` (copied: "vcpus",
 * "guest/small/0 vcpu 0"), named `name` (copied). `width` bits (1-64),
 * or 0 for an event (a moment, no value). `states` (NULL, or a NULL-ended
 * static list) names the values 0, 1, ...; `initial` is the value at the
 * variant's start. 0 when memory is short. */
trc_id trc_signal(trc_recorder *t, const char *group, const char *unit, const char *name,
                  unsigned width, const char *const *states, uint64_t initial);

/* Signal `s` takes `value` at `at` (an event: happens). Times of one
 * signal never decrease; a value equal to the current one records
 * nothing. */
void trc_set(trc_recorder *t, trc_id s, sim_time at, uint64_t value);

/* The rows' columns: `ntext` text columns then `nnum` numbers (names are
 * static strings); a first column `variant` is added. Declaring the same
 * columns again does nothing; other columns once a row was added are
 * refused (SIM_EINVAL). 0 or a status. */
int trc_columns(trc_recorder *t, const char *const *text, unsigned ntext,
                const char *const *num, unsigned nnum);

/* A row at time `at`: the text columns as labels' names, the numbers. */
void trc_row(trc_recorder *t, sim_time at, const trc_id *text, const uint64_t *num);

/* Writers, to an open file: 0, or SIM_EIO when a write failed. */

/* Chrome / Perfetto trace events JSON: {"traceEvents": [...], ...}. */
int trc_write_json(const trc_recorder *t, FILE *f);
/* Value Change Dump, timescale 1 ps. */
int trc_write_vcd(const trc_recorder *t, FILE *f);
/* CSV with a header row (RFC 4180). */
int trc_write_csv(const trc_recorder *t, FILE *f);

/* What was kept and cut, for a summary. */
typedef struct trc_counts {
    uint64_t slices, changes, rows;
    unsigned cut_variants;          /* variants where some kind was cut */
} trc_counts;

void trc_get_counts(const trc_recorder *t, trc_counts *out);

/*
 * Recording in a forked process (a SystemC job runs in a process of its
 * own). The child, forked while the parent's recorder stood still, takes
 * a mark, records on, and writes what it added since the mark to a file;
 * the parent appends that to its own recorder, which then holds what it
 * would hold had the child's recording happened in it: the ids the child
 * handed out are the parent's next ones. Jobs recorded this way must run
 * one after another, each forked after the one before was appended.
 * Static strings (label categories, signal states, column names) travel
 * as addresses, valid in a child forked from the same program.
 */
typedef struct trc_mark {
    uint32_t len[8];                /* each store's length at the mark */
} trc_mark;

void trc_mark_now(const trc_recorder *t, trc_mark *out);
/* 0, or SIM_EIO when a write failed. */
int trc_delta_write(const trc_recorder *t, const trc_mark *since, FILE *f);
/* 0; SIM_EIO when the file is unreadable or was marked on another state
 * than `t`'s (a job out of order); SIM_ENOMEM. On failure `t` may hold
 * part of it and its status says so. */
int trc_delta_read(trc_recorder *t, FILE *f);

#endif
