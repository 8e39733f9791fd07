/*
 * trace_text.h -- what the recorder's tests share: a writer's output as a
 * string, through a memory stream, and all three one after another.
 * Header-only: each test is its own executable.
 */
#ifndef PVSIM_TESTS_TRACE_TEXT_H
#define PVSIM_TESTS_TRACE_TEXT_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "sim/trace.h"

/* What writer `write` puts out for `t`; the caller frees it. */
static inline char *written(const trc_recorder *t, int (*write)(const trc_recorder *, FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(write(t, f), 0);
    fclose(f);
    return buf;
}

/* The three files of `t`, one after another; the caller frees it. */
static inline char *all_written(const trc_recorder *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(trc_write_json(t, f), 0);
    cr_assert_eq(trc_write_vcd(t, f), 0);
    cr_assert_eq(trc_write_csv(t, f), 0);
    fclose(f);
    return buf;
}

#endif
