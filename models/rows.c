/*
 * rows.c -- the columns and rows of rows.h.
 */
#include "models/rows.h"

static const char *const text_columns[] = {"source", "what"};

/* After the times and bytes, the parts in rows_part order. */
static const char *const num_columns[] = {
    "issue_cycle", "completion_cycle", "latency_cycles", "bytes",
    "notify_cycles", "exit_cycles", "translate_cycles", "copy_cycles", "device_cycles",
    "interrupt_cycles", "scheduling_cycles", "queueing_cycles"};

enum { NUM_FIXED = 4 };
_Static_assert(sizeof num_columns / sizeof num_columns[0] == NUM_FIXED + ROWS_PARTS,
               "a column per part");

int rows_declare(trc_recorder *t)
{
    return trc_columns(t, text_columns, 2, num_columns, NUM_FIXED + ROWS_PARTS);
}

void rows_add(trc_recorder *t, const rows_entry *e)
{
    trc_id text[2] = {e->source, e->what};
    uint64_t num[NUM_FIXED + ROWS_PARTS] = {e->issued, e->completed, e->completed - e->issued,
                                            e->bytes};
    for (int i = 0; i < ROWS_PARTS; i++)
        num[NUM_FIXED + i] = e->parts[i];
    trc_row(t, e->completed, text, num);
}
