/*
 * rows.h -- the table of `pvsim run --requests`: one row per completed
 * request of a guest and per message an ivshmem peer acted on, with the
 * same columns for both, so one CSV holds a whole run.
 *
 * Times are cycles of the scenario's clock from the variant's start. The
 * breakdown columns are the parts of the latency that results.md
 * describes for requests (queueing is the rest); a message has no
 * breakdown, and its columns are 0.
 */
#ifndef PVSIM_MODELS_ROWS_H
#define PVSIM_MODELS_ROWS_H

#include <stdint.h>

#include "sim/trace.h"

/* Where a request's latency went, in the order of the columns. */
enum rows_part {
    ROWS_NOTIFY, ROWS_EXIT, ROWS_TRANSLATE, ROWS_COPY, ROWS_DEVICE, ROWS_INTERRUPT,
    ROWS_SCHEDULING, ROWS_QUEUEING, ROWS_PARTS
};

typedef struct rows_entry {
    trc_id source;                  /* a label: "guest/small/0", "ivshmem peer 1" */
    trc_id what;                    /* a label: "request" or "message" */
    uint64_t issued, completed, bytes;
    uint64_t parts[ROWS_PARTS];
} rows_entry;

/* Declares the columns in `t` (again: nothing). 0 or a status. */
int rows_declare(trc_recorder *t);

/* One row, at its completion. */
void rows_add(trc_recorder *t, const rows_entry *e);

#endif
