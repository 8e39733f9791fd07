/*
 * test_sweep.c -- sweep plans (sim/sweep.h) and the canonical config text
 * they hash (scn_write_canonical, scn_lookup), against a small schema.
 *
 * Each test loads in-memory YAML with a `sweep:` block, builds the plan
 * and checks the values, the points' order, or the exact error lines.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sweep.h"

typedef struct t_item {
    uint64_t n;
} t_item;

typedef struct t_root {
    char *name;
    uint64_t clock;
    uint64_t size;
    uint64_t think;
    double frac;
    int mode;
    t_item *items;
    size_t nitems;
} t_root;

static const char *const mode_names[] = {"fast", "slow", NULL};

static const scn_field item_fields[] = {
    {.key = "n", .type = SCN_U64, .offset = SCN_AT(t_item, n, uint64_t), .def = "1",
     .doc = "a count"},
};
static const scn_schema item_schema = {"item", sizeof(t_item), item_fields, 1};

static const scn_field root_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(t_root, name, char *), .def = "t",
     .doc = "name"},
    {.key = "clock", .type = SCN_FREQ, .offset = SCN_AT(t_root, clock, uint64_t),
     .flags = SCN_CLOCK, .def = "1GHz", .doc = "clock"},
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(t_root, size, uint64_t), .def = "4KiB",
     .doc = "size"},
    {.key = "think", .type = SCN_DURATION, .offset = SCN_AT(t_root, think, uint64_t),
     .def = "0", .doc = "think"},
    {.key = "frac", .type = SCN_DOUBLE, .offset = SCN_AT(t_root, frac, double), .max = 1,
     .def = "0", .doc = "fraction"},
    {.key = "mode", .type = SCN_ENUM, .offset = SCN_AT(t_root, mode, int), .def = "fast",
     .enum_names = mode_names, .doc = "mode"},
    {.key = "items", .type = SCN_LIST, .offset = SCN_AT(t_root, items, t_item *),
     .count_offset = offsetof(t_root, nitems), .max = 8, .sub = &item_schema,
     .doc = "items"},
    {.key = "sweep", .type = SCN_BLOCK, .doc = "the sweep"},
};
static const scn_schema root_schema = {"root", sizeof(t_root), root_fields,
                                       sizeof root_fields / sizeof root_fields[0]};

/* Loads `yaml`, reads its sweep block, adds the --sweep options and
 * finishes the plan. Returns the status; `errs` has the errors. */
static int plan_of(const char *yaml, const char *const *opts, swp_plan *p, scn_errors *errs)
{
    t_root cfg = {0};
    scn_doc *doc = NULL;
    scn_source src = {.path = "t.yaml", .text = yaml, .text_len = strlen(yaml)};
    int rc = scn_load(&root_schema, &src, &cfg, &doc, errs);
    if (rc == 0)
        rc = swp_plan_read(p, &root_schema, doc, errs);
    for (int i = 0; rc == 0 && opts && opts[i]; i++)
        rc = swp_plan_add_option(p, &root_schema, opts[i], i + 1, errs);
    if (rc == 0)
        rc = swp_plan_finish(p, (scn_mark){"t.yaml", 0, 0}, errs);
    scn_doc_free(doc);
    scn_free(&root_schema, &cfg);
    return rc;
}

static void expect_values(const swp_param *pr, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    cr_assert_eq(pr->nvalues, n, "%s: %zu values, want %zu", pr->path, pr->nvalues, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(pr->values[i], want[i], "%s[%zu]", pr->path, i);
}

static void expect_error(const char *yaml, const char *const *opts, const char *want)
{
    swp_plan p = {0};
    scn_errors errs = {0};
    char line[1024];
    cr_assert_neq(plan_of(yaml, opts, &p, &errs), 0, "no error for:\n%s", yaml);
    cr_assert_geq(errs.count, 1);
    scn_error_format(&errs.items[0], line, sizeof line);
    cr_assert_str_eq(line, want);
    swp_plan_free(&p);
}

Test(sweep, grid_varies_the_last_parameter_fastest)
{
    swp_plan p = {0};
    scn_errors errs = {0};
    cr_assert_eq(plan_of("sweep:\n"
                         "  parameters:\n"
                         "    size: [4KiB, 64KiB]\n"
                         "    mode: [fast, slow, fast]\n",
                         NULL, &p, &errs),
                 0);
    cr_assert_eq(p.mode, SWP_GRID);
    cr_assert_eq(p.npoints, 6);
    static const size_t want[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}};
    for (size_t i = 0; i < 6; i++) {
        size_t idx[2];
        swp_point_values(&p, i, idx);
        cr_assert_eq(idx[0], want[i][0], "point %zu", i);
        cr_assert_eq(idx[1], want[i][1], "point %zu", i);
    }
    swp_plan_free(&p);
}

Test(sweep, zip_pairs_the_ith_values)
{
    swp_plan p = {0};
    scn_errors errs = {0};
    cr_assert_eq(plan_of("sweep:\n"
                         "  mode: zip\n"
                         "  parameters:\n"
                         "    size: [4KiB, 64KiB, 1MiB]\n"
                         "    items.0.n: [1, 2, 3]\n",
                         NULL, &p, &errs),
                 0);
    cr_assert_eq(p.npoints, 3);
    for (size_t i = 0; i < 3; i++) {
        size_t idx[2];
        swp_point_values(&p, i, idx);
        cr_assert_eq(idx[0], i);
        cr_assert_eq(idx[1], i);
    }
    swp_plan_free(&p);
}

Test(sweep, zip_needs_equal_lengths)
{
    expect_error("sweep:\n"
                 "  mode: zip\n"
                 "  parameters:\n"
                 "    size: [4KiB, 64KiB]\n"
                 "    frac: [0.1, 0.2, 0.3]\n",
                 NULL,
                 "t.yaml:5:5: error: sweep: zip mode needs as many values for every "
                 "parameter: size has 2, frac has 3");
}

Test(sweep, ranges_bind_in_base_units)
{
    swp_plan p = {0};
    scn_errors errs = {0};
    cr_assert_eq(plan_of("sweep:\n"
                         "  parameters:\n"
                         "    size: {from: 512B, to: 4KiB, factor: 2}\n"
                         "    frac: {from: 0, to: 0.9, step: 0.1}\n"
                         "    think: {from: 500ns, to: 2us, step: 500ns}\n"
                         "    items.0.n: {from: 10, to: 40, step: 15}\n",
                         NULL, &p, &errs),
                 0);
    expect_values(&p.params[0], (const char *const[]){"512", "1024", "2048", "4096", NULL});
    /* from + i * step: 0.1 steps reach 0.9, with no float noise in the text. */
    expect_values(&p.params[1], (const char *const[]){"0", "0.1", "0.2", "0.3", "0.4", "0.5",
                                                      "0.6", "0.7", "0.8", "0.9", NULL});
    expect_values(&p.params[2],
                  (const char *const[]){"500ns", "1000ns", "1500ns", "2000ns", NULL});
    expect_values(&p.params[3], (const char *const[]){"10", "25", "40", NULL});
    cr_assert_eq(p.npoints, 4 * 10 * 4 * 3);
    swp_plan_free(&p);
}

Test(sweep, range_mistakes_are_reported_where_they_are)
{
    expect_error("sweep:\n  parameters:\n    size: {from: 4KiB, to: 1KiB, factor: 2}\n", NULL,
                 "t.yaml:3:11: error: sweep.parameters.size: to must not be below from");
    expect_error("sweep:\n  parameters:\n    size: {from: 1KiB, to: 4KiB}\n", NULL,
                 "t.yaml:3:11: error: sweep.parameters.size: a range needs either step or "
                 "factor");
    expect_error("sweep:\n  parameters:\n    size: {from: 1KB, to: 4KiB, step: 1KiB}\n", NULL,
                 "t.yaml:3:18: error: sweep.parameters.size.from: expected a number as the "
                 "parameter takes it, found '1KB'");
    expect_error("sweep:\n  parameters:\n    think: {from: 100, to: 1us, step: 100}\n", NULL,
                 "t.yaml:3:12: error: sweep.parameters.think: the bounds and step of a "
                 "duration range must all be cycles or all time units");
    expect_error("sweep:\n  parameters:\n    size: {from: 1, to: 2, step: 0.5}\n", NULL,
                 "t.yaml:3:11: error: sweep.parameters.size: value 1.5 is not a whole "
                 "number in the parameter's base unit");
    expect_error("sweep:\n  parameters:\n    size: {from: 1, to: 1000000, step: 1}\n", NULL,
                 "t.yaml:3:11: error: sweep.parameters.size: expected at most 100000 values, "
                 "found more");
}

Test(sweep, paths_must_name_values)
{
    expect_error("sweep:\n  parameters:\n    sise: [1, 2]\n", NULL,
                 "t.yaml:3:5: error: sweep: 'sise' is not a scenario key that holds a value "
                 "(see pvsim reference)");
    expect_error("sweep:\n  parameters:\n    items: [1, 2]\n", NULL,
                 "t.yaml:3:5: error: sweep: 'items' is not a scenario key that holds a value "
                 "(see pvsim reference)");
    expect_error("sweep:\n  mode: spiral\n  parameters: {size: [1]}\n", NULL,
                 "t.yaml:2:9: error: sweep.mode: expected one of 'grid', 'zip', found spiral");
    expect_error("sweep:\n  params: {size: [1]}\n", NULL,
                 "t.yaml:2:3: error: sweep.params: unknown key (a sweep has mode and "
                 "parameters)");
    expect_error("sweep: [1, 2]\n", NULL,
                 "t.yaml:1:8: error: sweep: expected a mapping, found a list");
}

/* A quoted value goes to --set still quoted: a string stays a string and
 * a '#' is no comment. */
Test(sweep, quoted_values_stay_quoted)
{
    swp_plan p = {0};
    scn_errors errs = {0};
    cr_assert_eq(plan_of("sweep:\n  parameters:\n    name: [plain, \"a # b\", 'say \"hi\"\\', \"5\"]\n",
                         NULL, &p, &errs),
                 0);
    expect_values(&p.params[0], (const char *const[]){"plain", "\"a # b\"",
                                                      "\"say \\\"hi\\\"\\\\\"", "\"5\"",
                                                      NULL});
    /* Each binds back to the text the file wrote. */
    static const char *const want[] = {"plain", "a # b", "say \"hi\"\\", "5"};
    for (size_t i = 0; i < 4; i++) {
        char set[64];
        snprintf(set, sizeof set, "name=%s", p.params[0].values[i]);
        const char *sets[] = {set};
        t_root cfg = {0};
        scn_source src = {.path = "t.yaml", .text = "{}", .text_len = 2, .sets = sets,
                          .nsets = 1};
        cr_assert_eq(scn_load(&root_schema, &src, &cfg, NULL, &errs), 0, "%s", set);
        cr_assert_str_eq(cfg.name, want[i]);
        scn_free(&root_schema, &cfg);
    }
    swp_plan_free(&p);
}

Test(sweep, options_replace_or_add_parameters)
{
    swp_plan p = {0};
    scn_errors errs = {0};
    const char *const opts[] = {"size=1KiB,2KiB", "frac=0.5", NULL};
    cr_assert_eq(plan_of("sweep:\n  parameters:\n    mode: [fast, slow]\n"
                         "    size: [4KiB, 64KiB, 1MiB]\n",
                         opts, &p, &errs),
                 0);
    cr_assert_eq(p.nparams, 3);
    cr_assert_str_eq(p.params[1].path, "size");
    expect_values(&p.params[1], (const char *const[]){"1KiB", "2KiB", NULL});
    cr_assert_str_eq(p.params[2].path, "frac");
    cr_assert_eq(p.npoints, 2 * 2 * 1);
    swp_plan_free(&p);
    expect_error("name: x\n", (const char *const[]){"size=1,,2", NULL},
                 "--sweep:1: error: size: expected a value between commas, found none");
    expect_error("name: x\n", (const char *const[]){"size", NULL},
                 "--sweep:1: error: expected PATH=V1,V2,..., found 'size'");
    expect_error("name: x\n", NULL,
                 "t.yaml: error: a sweep needs at least one parameter: give a sweep: block "
                 "or --sweep PATH=V1,V2,...");
}

Test(sweep, grid_size_is_capped)
{
    expect_error("sweep:\n  parameters:\n"
                 "    size: {from: 1, to: 1000, step: 1}\n"
                 "    items.0.n: {from: 1, to: 1000, step: 1}\n"
                 "    frac: [0, 0.5]\n",
                 NULL, "t.yaml: error: sweep: expected at most 1000000 points, found more");
}

/* ---- what sweeps hash ------------------------------------------------------ */

static char *canonical_of(const char *yaml)
{
    t_root cfg = {0};
    scn_errors errs = {0};
    scn_source src = {.path = "t.yaml", .text = yaml, .text_len = strlen(yaml)};
    cr_assert_eq(scn_load(&root_schema, &src, &cfg, NULL, &errs), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(scn_write_canonical(&root_schema, &cfg, f), 0);
    fclose(f);
    scn_free(&root_schema, &cfg);
    return text;
}

Test(sweep, canonical_text_is_the_bound_config)
{
    char *a = canonical_of("size: 4KiB\nthink: 1us\nitems: [{n: 3}]\n");
    char *b = canonical_of("think: 1000\nsize: 4096\nitems:\n  - n: 3\nsweep: {mode: zip}\n");
    cr_assert_str_eq(a, b, "equal configs written differently:\n%s\nvs\n%s", a, b);
    cr_assert_str_eq(a, "name=t\nclock=1000000000\nsize=4096\nthink=1000\nfrac=0\n"
                        "mode=fast\nitems=1 items\nitems.0.n=3\n");
    char *c = canonical_of("size: 4KiB\nthink: 1us\nitems: [{n: 4}]\n");
    cr_assert_str_neq(a, c);
    free(a);
    free(b);
    free(c);
}

Test(sweep, lookup_finds_bound_values)
{
    t_root cfg = {0};
    scn_errors errs = {0};
    const char *yaml = "size: 64KiB\nmode: slow\nitems: [{n: 3}, {n: 5}]\n";
    scn_source src = {.path = "t.yaml", .text = yaml, .text_len = strlen(yaml)};
    cr_assert_eq(scn_load(&root_schema, &src, &cfg, NULL, &errs), 0);
    const scn_field *f;
    const void *v;
    char text[64];
    cr_assert_eq(scn_lookup(&root_schema, &cfg, "items.1.n", &f, &v), 0);
    scn_format_value(f, v, text, sizeof text);
    cr_assert_str_eq(text, "5");
    cr_assert_eq(scn_lookup(&root_schema, &cfg, "size", &f, &v), 0);
    scn_format_value(f, v, text, sizeof text);
    cr_assert_str_eq(text, "65536");
    cr_assert_eq(scn_lookup(&root_schema, &cfg, "mode", &f, &v), 0);
    scn_format_value(f, v, text, sizeof text);
    cr_assert_str_eq(text, "slow");
    cr_assert_eq(scn_lookup(&root_schema, &cfg, "items.2.n", &f, &v), SIM_ENOTFOUND);
    cr_assert_eq(scn_lookup(&root_schema, &cfg, "items.n", &f, &v), SIM_ENOTFOUND);
    cr_assert_eq(scn_lookup(&root_schema, &cfg, "size.x", &f, &v), SIM_ENOTFOUND);
    cr_assert_eq(scn_lookup(&root_schema, &cfg, "sweep", &f, &v), SIM_ENOTFOUND);
    scn_free(&root_schema, &cfg);
}
