/*
 * run.h -- what the model tests share: load a scenario from text, run it
 * through the real loader and kernel, and read its results by path.
 * Header-only, static: each test file is its own program.
 */
#ifndef PVSIM_TESTS_RUN_H
#define PVSIM_TESTS_RUN_H

#include <criterion/criterion.h>
#include <string.h>

#include "models/system.h"
#include "sim/report.h"

/* Loads `text` (as "test.yaml") with `nsets` overrides into `cfg`. */
static inline int load_text(const char *text, const char *const *sets, size_t nsets,
                            system_config *cfg, scn_errors *errs)
{
    scn_source src = {.path = "test.yaml", .text = text, .text_len = strlen(text),
                      .sets = sets, .nsets = nsets};
    memset(errs, 0, sizeof *errs);
    return system_load(&src, cfg, errs);
}

/* Runs `text`; the test fails with the first error if it does not load
 * or run. The caller owns the results. */
static inline json_t *run_text(const char *text, const char *const *sets, size_t nsets)
{
    system_config cfg;
    scn_errors errs;
    if (load_text(text, sets, nsets, &cfg, &errs) != 0) {
        char line[1024];
        scn_error_format(&errs.items[0], line, sizeof line);
        cr_assert_fail("scenario rejected: %s", line);
    }
    json_t *r = NULL;
    char err[256];
    cr_assert_eq(system_run(&cfg, NULL, NULL, &r, err, sizeof err), 0, "%s", err);
    system_config_free(&cfg);
    return r;
}

/* The value at `path` in the document (`v` < 0) or in variant `v`; the
 * test fails when it is absent. */
static inline json_t *result_at(json_t *r, long v, const char *path)
{
    json_t *o = v < 0 ? r : json_array_get(json_object_get(r, "variants"), (size_t)v);
    json_t *x = rep_get(o, path);
    cr_assert_not_null(x, "missing %s", path);
    return x;
}

static inline double result_num(json_t *r, long v, const char *path)
{
    return json_number_value(result_at(r, v, path));
}

#endif
