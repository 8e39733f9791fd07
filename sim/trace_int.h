/*
 * trace_int.h -- what the recorder (trace.c) and its writers
 * (trace_write.c) share: the records as they are kept.
 *
 * Everything lives in arrays that double (`vec`), indexed by the ids the
 * recorder hands out; id 0 is never handed out, so a model can keep 0 for
 * "none" and a failed call costs nothing later. Slices are kept in the
 * order they were recorded (when they end); the viewers sort them.
 */
#ifndef PVSIM_SIM_TRACE_INT_H
#define PVSIM_SIM_TRACE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/trace.h"

/* The three kinds of record, each bounded on its own. */
enum { KIND_SLICE, KIND_CHANGE, KIND_ROW, KINDS };

/* A growing array of `size`-byte items. */
typedef struct vec {
    void *items;
    size_t size;
    uint32_t len, cap;
} vec;

#define VEC_AT(v, type, i) (&((type *)(v).items)[i])

/* A flow's role sits in the top bits of a slice's `flow`. */
#define FLOW_ROLE_SHIFT 62
#define FLOW_ID_MASK ((UINT64_C(1) << FLOW_ROLE_SHIFT) - 1)

typedef struct slice_rec {              /* 40 bytes */
    sim_time start, end;
    uint64_t arg;
    uint64_t flow;                  /* id | role << FLOW_ROLE_SHIFT */
    trc_id track, label;
} slice_rec;

typedef struct change_rec {             /* 24 bytes */
    sim_time at;
    uint64_t value;
    trc_id signal;
} change_rec;

typedef struct label_rec {
    char *name;
    const char *cat, *arg;
} label_rec;

typedef struct process_rec {
    uint32_t variant;
    char *name;
} process_rec;

typedef struct track_rec {
    uint32_t process;
    char *name;
} track_rec;

typedef struct signal_rec {
    uint32_t variant;
    char *group, *unit, *name;
    unsigned width;                 /* 0: an event */
    const char *const *states;
    uint64_t current;               /* its value now */
    uint64_t at_from;               /* its value when the window opened */
} signal_rec;

typedef struct variant_rec {
    char *name;
    uint64_t clock_hz;
    uint32_t first_change;          /* its changes are [first_change, next's) */
    uint64_t kept[KINDS];
    int cut[KINDS];
    sim_time cut_at[KINDS];         /* the first record left out */
} variant_rec;

struct trc_recorder {
    unsigned what;
    uint64_t max_events;
    sim_time from, to;              /* to: SIM_TIME_MAX for no end */
    int status;
    uint64_t next_flow;
    vec variants, labels, processes, tracks, signals, slices, changes;
    uint32_t *label_hash;           /* open addressing: label id, 0 empty */
    uint32_t hash_cap;
    const char *const *text_cols, *const *num_cols;
    unsigned ntext, nnum;
    vec rows;                       /* of uint64_t: variant, texts, numbers */
};

/* The variant in force (the last one begun); NULL before any. */
const variant_rec *trc_current(const trc_recorder *t);

#endif
