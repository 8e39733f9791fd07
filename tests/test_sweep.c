/*
 * test_sweep.c -- sweep plans (sim/sweep.h) and the canonical config text
 * they hash (scn_write_canonical, scn_lookup), against a small schema;
 * then whole sweeps of that schema through a tiny model (sweep_run.h,
 * sweep_pool.h): the directory's lock, the CSV that is written only when
 * every point is there, the stop flag, keys that follow the sources,
 * forked workers that die, and places that cannot be written; last, pools
 * of plain jobs (swp_run_jobs), fresh or not.
 *
 * Each plan test loads in-memory YAML with a `sweep:` block, builds the
 * plan and checks the values, the points' order, or the exact error lines.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/sweep.h"
#include "sim/sweep_pool.h"

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

/* The rest of the block's rules, each mistake at its place. */
Test(sweep, every_part_of_the_block_is_checked)
{
    static const struct { const char *params, *want; } cases[] = {
        {"size: {from: 1, to: 2, stride: 1}",
         "t.yaml:3:28: error: sweep.parameters.size: unknown key 'stride' (a range has from, "
         "to, and step or factor)"},
        {"size: {from: [1], to: 2, step: 1}",
         "t.yaml:3:18: error: sweep.parameters.size.from: expected a number as the parameter "
         "takes it, found ''"},
        {"size: {to: 2, step: 1}", "t.yaml:3:11: error: sweep.parameters.size: a range needs "
                                   "from and to"},
        {"size: {from: 1, to: 2, step: 1, factor: 2}",
         "t.yaml:3:11: error: sweep.parameters.size: a range needs either step or factor"},
        {"size: {from: 1, to: 2, step: 0}",
         "t.yaml:3:11: error: sweep.parameters.size: step must be above 0"},
        {"size: {from: 0, to: 2, factor: 2}",
         "t.yaml:3:11: error: sweep.parameters.size: factor must be above 1, and from above 0"},
        {"size: []", "t.yaml:3:11: error: sweep.parameters.size: expected 1 to 100000 values, "
                     "found 0"},
        {"size: [1, [2]]", "t.yaml:3:15: error: sweep.parameters.size: expected a value, "
                           "found a list"},
        {"size: [1, {a: 2}]", "t.yaml:3:15: error: sweep.parameters.size: expected a value, "
                              "found a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "sweep:\n  parameters:\n    %s\n", cases[i].params);
        expect_error(yaml, NULL, cases[i].want);
    }
    expect_error("sweep:\n  parameters: [size]\n", NULL,
                 "t.yaml:2:15: error: sweep.parameters: expected a mapping of scenario paths "
                 "to values, found a list");
    expect_error("sweep:\n  parameters: size\n", NULL,
                 "t.yaml:2:15: error: sweep.parameters: expected a mapping of scenario paths "
                 "to values, found a scalar");
    expect_error("sweep:\n  mode: [grid]\n  parameters: {size: [1]}\n", NULL,
                 "t.yaml:2:9: error: sweep.mode: expected one of 'grid', 'zip', found a "
                 "container");
    expect_error("name: x\n", (const char *const[]){"sise=1,2", NULL},
                 "--sweep:1: error: sweep: 'sise' is not a scenario key that holds a value "
                 "(see pvsim reference)");
}

/* A single value is a list of one; control characters and backslashes in
 * a quoted one are escaped as --set reads them back. */
Test(sweep, a_scalar_is_one_value_and_quotes_escape)
{
    swp_plan p = {0};
    scn_errors errs = {0};
    cr_assert_eq(plan_of("sweep:\n  parameters:\n    size: 2KiB\n    name: \"a\\tb\\\\\"\n",
                         NULL, &p, &errs),
                 0, "%s", errs.count ? errs.items[0].message : "");
    expect_values(&p.params[0], (const char *const[]){"2KiB", NULL});
    expect_values(&p.params[1], (const char *const[]){"\"a\\x09b\\\\\"", NULL});
    cr_assert_eq(p.npoints, 1);
    swp_plan_free(&p);
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

/* Two options for one path are a mistake, not "the last one wins". */
Test(sweep, an_option_repeating_a_path_is_an_error)
{
    expect_error("sweep:\n  parameters:\n    size: [1KiB]\n",
                 (const char *const[]){"frac=0.1", "size=1,2", "size=3", NULL},
                 "--sweep:3: error: sweep: 'size' is given by both --sweep:2 and --sweep:3: "
                 "give each path once");
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

/* ---- whole sweeps through a tiny model -------------------------------------- */

/* The model: its results echo `size`; a point whose frac is 0.5 fails
 * while fail_half is set; running the point whose size is stop_at sets
 * the stop flag, as a Ctrl-C during that point would; the process running
 * the point whose size is kill_at is killed (only a forked worker may run
 * it), and the one whose size is quit_at leaves without answering. */
static int fail_half;
static uint64_t stop_at, kill_at, quit_at;
static volatile sig_atomic_t stop_flag;

static int t_load(const scn_source *src, void **cfg, scn_errors *errs)
{
    t_root *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    int rc = scn_load(&root_schema, src, c, NULL, errs);
    if (rc) {
        scn_free(&root_schema, c);
        free(c);
        c = NULL;
    }
    *cfg = c;
    return rc;
}

static int t_run(const void *cfg, json_t **results, char *err, size_t errlen)
{
    const t_root *c = cfg;
    if (c->size == stop_at)
        stop_flag = 1;
    if (c->size == kill_at)
        raise(SIGKILL);
    if (c->size == quit_at)
        _exit(3);
    if (fail_half && c->frac == 0.5) {
        snprintf(err, errlen, "told to fail");
        return SIM_EINVAL;
    }
    *results = json_pack("{s:[{s:s, s:{s:I}}]}", "variants", "name", "v", "totals", "size",
                         (json_int_t)c->size);
    return *results ? 0 : SIM_ENOMEM;
}

static void t_free(void *cfg)
{
    if (cfg)
        scn_free(&root_schema, cfg);
    free(cfg);
}

static const swp_model t_model = {&root_schema, t_load, t_run, t_free};

/* A sweep of size x frac (3 x 2 points) over a scenario file in a new
 * directory: its plan and the sweep, prepared, writing into that
 * directory. */
typedef struct t_sweep {
    char dir[64];
    char file[96];
    swp_plan plan;
    swp_sweep s;
} t_sweep;

static void t_sweep_start(t_sweep *t, const char *sources)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/pvsim-test-sweep-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->file, sizeof t->file, "%s/t.yaml", t->dir);
    FILE *f = fopen(t->file, "w");
    cr_assert_not_null(f);
    fputs("sweep:\n  parameters:\n    size: [1, 2, 3]\n    frac: [0, 0.5]\n", f);
    fclose(f);
    scn_errors errs = {0};
    size_t bad = 0;
    t->plan = (swp_plan){0};
    cr_assert_eq(plan_of("sweep:\n  parameters:\n    size: [1, 2, 3]\n    frac: [0, 0.5]\n",
                         NULL, &t->plan, &errs), 0);
    t->s = (swp_sweep){&t_model, &t->plan, t->file, NULL, 0, t->dir, NULL, 0};
    t->s.sources = sources;
    cr_assert_eq(swp_prepare(&t->s, NULL, NULL, &errs, &bad), 0);
}

/* Removes `dir` and what it holds, one level of subdirectories deep. */
static void remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[512];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0 && depth > 0)
            remove_tree(path, depth - 1);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void t_sweep_end(t_sweep *t)
{
    swp_release(&t->s);
    swp_sweep_free(&t->s);
    swp_plan_free(&t->plan);
    remove_tree(t->dir, 1);
}

/* Runs what is left in the master itself. */
static swp_outcome t_execute(t_sweep *t)
{
    swp_pool *pool = swp_pool_inline(&t->s);
    swp_outcome out;
    char err[256];
    cr_assert_not_null(pool);
    cr_assert_eq(swp_execute(&t->s, pool, NULL, NULL, &out, err, sizeof err), 0, "%s", err);
    pool->close(pool);
    return out;
}

static int exists(const char *dir, const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static size_t lines_of(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    size_t n = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* A CSV missing rows is never named sweep.csv: a failed point leaves
 * sweep.partial.csv (and no sweep.csv, not even an old one); once resumed
 * to the end, sweep.csv replaces it. */
Test(sweep_files, missing_points_give_only_a_partial_csv)
{
    t_sweep t;
    size_t missing = 0;
    char err[256];
    t_sweep_start(&t, NULL);
    put_file(t.dir, "sweep.csv", "an older sweep's CSV\n");
    fail_half = 1;
    swp_outcome out = t_execute(&t);
    cr_assert_eq(out.ran, 3);
    cr_assert_eq(out.failed, 3);
    cr_assert_eq(swp_write_csv(&t.s, &missing, err, sizeof err), 0, "%s", err);
    cr_assert_eq(missing, 3);
    cr_assert(!exists(t.dir, "sweep.csv"), "a CSV without every point is named sweep.csv");
    cr_assert_eq(lines_of(t.dir, "sweep.partial.csv"), 1 + 3);
    fail_half = 0;
    cr_assert_eq(swp_find_done(&t.s), 3);
    out = t_execute(&t);
    cr_assert_eq(out.ran, 3);
    cr_assert_eq(swp_write_csv(&t.s, &missing, err, sizeof err), 0, "%s", err);
    cr_assert_eq(missing, 0);
    cr_assert_eq(lines_of(t.dir, "sweep.csv"), 1 + 6);
    cr_assert(!exists(t.dir, "sweep.partial.csv"), "a stale partial CSV was left");
    t_sweep_end(&t);
}

/* One sweep per directory at a time; the lock dies with its holder; a
 * claim removes the CSVs of the sweep before, and a release the lock. */
Test(sweep_files, a_directory_takes_one_sweep_at_a_time)
{
    t_sweep a, b;
    char err[256], want[256];
    t_sweep_start(&a, NULL);
    b = a;                           /* the same directory */
    put_file(a.dir, "sweep.csv", "old\n");
    put_file(a.dir, "sweep.partial.csv", "old\n");
    cr_assert_eq(swp_claim(&a.s, err, sizeof err), 0, "%s", err);
    cr_assert(!exists(a.dir, "sweep.csv") && !exists(a.dir, "sweep.partial.csv"),
              "a claim left the CSVs of the sweep before");
    cr_assert_eq(swp_claim(&b.s, err, sizeof err), SIM_EIO);
    snprintf(want, sizeof want, "%s is in use by another sweep (pid %ld holds %s/sweep.lock)",
             a.dir, (long)getpid(), a.dir);
    cr_assert_str_eq(err, want);
    swp_release(&a.s);
    cr_assert(!exists(a.dir, "sweep.lock"));
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0)
        _exit(swp_claim(&b.s, err, sizeof err) == 0 ? 0 : 1);   /* dies holding it */
    int status = 0;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert(exists(a.dir, "sweep.lock"));
    cr_assert_eq(swp_claim(&a.s, err, sizeof err), 0, "a dead sweep's lock blocks: %s", err);
    t_sweep_end(&a);
}

/* Once the stop flag is set no point is handed out; the point in hand
 * (inline) is kept. */
Test(sweep_files, the_stop_flag_ends_the_sweep)
{
    t_sweep t;
    t_sweep_start(&t, NULL);
    t.s.stop = &stop_flag;
    stop_at = 2;                     /* points 2 and 3 have size 2 */
    swp_outcome out = t_execute(&t);
    cr_assert(out.interrupted);
    cr_assert_eq(out.ran, 3, "ran %zu", out.ran);
    cr_assert_eq(out.failed, 0);
    cr_assert_eq(swp_to_run(&t.s), 3);
    /* Resumed without a stop, it finishes and is not interrupted. */
    stop_flag = 0;
    stop_at = 0;
    out = t_execute(&t);
    cr_assert(!out.interrupted);
    cr_assert_eq(out.ran, 3);
    t_sweep_end(&t);
}

/* A point simulated by other sources has another key, so resuming never
 * takes it as done; the point file says which sources it came from. */
Test(sweep_files, keys_follow_the_sources)
{
    static const char a_src[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const char b_src[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    t_sweep a, b, c;
    t_sweep_start(&a, a_src);
    t_sweep_start(&b, b_src);
    t_sweep_start(&c, NULL);
    for (size_t i = 0; i < a.s.npoints; i++) {
        cr_assert_str_neq(a.s.points[i].hash, b.s.points[i].hash, "point %zu", i);
        cr_assert_str_neq(a.s.points[i].hash, c.s.points[i].hash, "point %zu", i);
    }
    t_execute(&a);
    b.s.dir = a.dir;
    cr_assert_eq(swp_find_done(&b.s), 0, "points of other sources taken as done");
    char path[256];
    snprintf(path, sizeof path, "%s/points/%s.json", a.dir, a.s.points[0].hash);
    json_t *doc = json_load_file(path, 0, NULL);
    cr_assert_not_null(doc);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "sources")), a_src);
    json_decref(doc);
    /* This build's: 64 hex digits, the key's default. */
    const char *own = swp_sources_hash();
    cr_assert_eq(strlen(own), 64);
    cr_assert_eq(strspn(own, "0123456789abcdef"), 64);
    t_sweep_end(&a);
    t_sweep_end(&b);
    t_sweep_end(&c);
}

/* Runs what is left through `n` forked workers. */
static swp_outcome t_execute_forked(t_sweep *t, int n)
{
    char err[256];
    swp_pool *pool = swp_pool_fork(&t->s, n, err, sizeof err);
    cr_assert_not_null(pool, "%s", err);
    swp_outcome out;
    cr_assert_eq(swp_execute(&t->s, pool, NULL, NULL, &out, err, sizeof err), 0, "%s", err);
    pool->close(pool);
    return out;
}

/* A worker that dies takes only its point with it; the others finish the
 * sweep, and the CSV says which points are missing. */
Test(sweep_files, a_worker_that_dies_loses_only_its_point)
{
    t_sweep t;
    t_sweep_start(&t, NULL);
    kill_at = 2;                     /* points 2 and 3 */
    swp_outcome out = t_execute_forked(&t, 2);
    cr_assert_eq(out.workers_lost, 2, "lost %d", out.workers_lost);
    cr_assert_eq(out.failed, 2);
    cr_assert_eq(out.ran, 2);
    cr_assert_eq(out.nshown, 2);
    cr_assert(strstr(out.shown[0].why, "was killed by signal 9"), "%s", out.shown[0].why);
    cr_assert_eq(out.shown[0].point + out.shown[1].point, 2 + 3);
    cr_assert_eq(swp_to_run(&t.s), 4, "the failed points are still to run");
    kill_at = 0;
    quit_at = 3;                     /* points 4 and 5 */
    out = t_execute_forked(&t, 1);
    cr_assert_eq(out.ran, 2);
    cr_assert_eq(out.failed, 1);
    cr_assert_eq(out.workers_lost, 1);
    cr_assert_eq(out.shown[0].point, 4);
    cr_assert(strstr(out.shown[0].why, "stopped without answering"), "%s", out.shown[0].why);
    quit_at = 0;
    out = t_execute_forked(&t, 3);
    cr_assert_eq(out.ran, 2);
    cr_assert_eq(out.failed, 0);
    t_sweep_end(&t);
}

/* The stop flag ends a forked sweep as soon as the pool notices, and the
 * points in hand stay to be run. */
Test(sweep_files, the_stop_flag_ends_a_forked_sweep)
{
    t_sweep t;
    t_sweep_start(&t, NULL);
    t.s.stop = &stop_flag;
    stop_flag = 1;
    swp_outcome out = t_execute_forked(&t, 2);
    cr_assert(out.interrupted);
    cr_assert_eq(out.ran + out.failed, 0);
    cr_assert_eq(swp_to_run(&t.s), 6);
    stop_flag = 0;
    t_sweep_end(&t);
}

/* Where results cannot be written the sweep stops and says where; a point
 * file that is damaged or of another configuration is run again. */
Test(sweep_files, unwritable_places_and_damaged_files)
{
    t_sweep t;
    char err[256], path[256];
    t_sweep_start(&t, NULL);
    put_file(t.dir, "points", "not a directory\n");
    swp_pool *pool = swp_pool_inline(&t.s);
    swp_outcome out;
    cr_assert_eq(swp_execute(&t.s, pool, NULL, NULL, &out, err, sizeof err), SIM_EIO);
    pool->close(pool);
    cr_assert(strstr(err, "cannot create") && strstr(err, "Not a directory"), "%s", err);
    snprintf(path, sizeof path, "%s/points", t.dir);
    cr_assert_eq(unlink(path), 0);
    t_execute(&t);
    snprintf(path, sizeof path, "%s/points/%s.json", t.dir, t.s.points[0].hash);
    put_file(t.dir, strstr(path, "points/"), "{\"schema\": \"pvsim-point/1\", \"config_hash\"");
    snprintf(path, sizeof path, "points/%s.json", t.s.points[1].hash);
    put_file(t.dir, path, "{\"schema\": \"pvsim-point/1\", \"config_hash\": \"0\", "
                          "\"results\": {\"variants\": []}}");
    for (size_t i = 0; i < t.s.npoints; i++)
        t.s.points[i].done = 0;
    cr_assert_eq(swp_find_done(&t.s), 4);
    cr_assert(!swp_point_done(&t.s, 0) && !swp_point_done(&t.s, 1));
    t_sweep_end(&t);
    swp_sweep gone = {.dir = "/nonexistent-pvsim-dir"};
    cr_assert_eq(swp_claim(&gone, err, sizeof err), SIM_EIO);
    cr_assert_str_eq(err, "cannot create /nonexistent-pvsim-dir/sweep.lock: No such file or "
                          "directory");
}

/* ---- pools of plain jobs ------------------------------------------------------ */

/* A job's answer names the job and the process that ran it; job 3 fails. */
static int t_pid_job(const void *ctx, size_t job, char **text, char *err, size_t errlen)
{
    (void)ctx;
    if (job == 3) {
        snprintf(err, errlen, "job 3 fails");
        return SIM_EINVAL;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%zu %ld", job, (long)getpid());
    *text = strdup(buf);
    return *text ? 0 : SIM_ENOMEM;
}

typedef struct t_answers {
    long pid[8];
    size_t taken;
} t_answers;

static int t_take_pid(void *ctx, size_t job, const char *text, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    t_answers *a = ctx;
    size_t got;
    cr_assert_eq(sscanf(text, "%zu %ld", &got, &a->pid[job]), 2);
    cr_assert_eq(got, job);
    a->taken++;
    return 0;
}

/* Runs jobs 0..n-1 but 3 (or with 3, which fails) through `pool`. */
static swp_outcome t_run_pids(swp_pool *pool, size_t n, int first_failure_ends, t_answers *a)
{
    static const size_t todo[] = {0, 1, 2, 4, 5, 6, 7, 3};
    swp_master m = {.pool = pool, .todo = todo, .ntodo = n,
                    .first_failure_ends = first_failure_ends, .take = t_take_pid, .ctx = a};
    swp_outcome out;
    char err[256];
    cr_assert_eq(swp_run_jobs(&m, &out, err, sizeof err), 0, "%s", err);
    pool->close(pool);
    return out;
}

/* A fresh pool runs every job in a process of its own; a plain fork pool
 * reuses its workers; both answer every job. */
Test(sweep_pool, a_fresh_pool_forks_a_process_per_job)
{
    swp_jobs j = {.njobs = 8, .run = t_pid_job, .master_fd = -1};
    char err[256];
    for (int fresh = 0; fresh <= 1; fresh++) {
        j.fresh = fresh;
        t_answers a = {0};
        swp_pool *pool = swp_pool_fork_jobs(&j, 2, err, sizeof err);
        cr_assert_not_null(pool, "%s", err);
        swp_outcome out = t_run_pids(pool, 7, 0, &a);
        cr_assert_eq(out.ran, 7);
        cr_assert_eq(out.workers_lost, 0);
        size_t distinct = 0;
        for (size_t i = 0; i < 8; i++) {
            int seen = a.pid[i] == 0 || a.pid[i] == getpid();
            for (size_t k = 0; k < i; k++)
                seen |= a.pid[k] == a.pid[i];
            distinct += !seen;
        }
        cr_assert_eq(distinct, fresh ? 7u : 2u, "fresh %d: %zu processes", fresh, distinct);
    }
}

/* A failed job is counted with its reason; with first_failure_ends the
 * loop stops there. */
Test(sweep_pool, a_failed_job_is_counted_and_can_end_the_run)
{
    swp_jobs j = {.njobs = 8, .run = t_pid_job, .master_fd = -1};
    t_answers a = {0};
    swp_outcome out = t_run_pids(swp_pool_inline_jobs(&j), 8, 0, &a);
    cr_assert_eq(out.ran, 7);
    cr_assert_eq(out.failed, 1);
    cr_assert_eq(out.shown[0].point, 3);
    cr_assert_str_eq(out.shown[0].why, "job 3 fails");
    static const size_t failing_first[] = {3, 0, 1};
    t_answers b = {0};
    swp_pool *pool = swp_pool_inline_jobs(&j);
    swp_master m = {.pool = pool, .todo = failing_first, .ntodo = 3,
                    .first_failure_ends = 1, .take = t_take_pid, .ctx = &b};
    char err[256];
    cr_assert_eq(swp_run_jobs(&m, &out, err, sizeof err), 0, "%s", err);
    pool->close(pool);
    cr_assert_eq(out.failed, 1);
    cr_assert_eq(b.taken, 0, "jobs ran after the first failure");
}

static size_t t_half(void *ctx, size_t job)
{
    (void)ctx;
    return job / 4;
}

/* Group 1's jobs (4 to 7) take 200 ms each, group 0's none: the worker on
 * group 0 is done with it long before the other could run out of group 1
 * and, finding no group of its own, help with group 0 (which the loop
 * rightly does: no worker idles while jobs wait). Without the margin the
 * test would depend on how the machine schedules the two workers. */
static int t_slow_group_job(const void *ctx, size_t job, char **text, char *err,
                            size_t errlen)
{
    if (job >= 4)
        nanosleep(&(struct timespec){.tv_nsec = 200000000}, NULL);
    return t_pid_job(ctx, job, text, err, errlen);
}

/* With groups, a worker keeps to the group it started, and the second
 * worker starts on another group rather than sharing the first. */
Test(sweep_pool, workers_keep_to_their_group)
{
    swp_jobs j = {.njobs = 8, .run = t_slow_group_job, .master_fd = -1};
    char err[256];
    swp_pool *pool = swp_pool_fork_jobs(&j, 2, err, sizeof err);
    cr_assert_not_null(pool, "%s", err);
    static const size_t todo[] = {0, 1, 2, 4, 5, 6, 7};
    t_answers a = {0};
    swp_master m = {.pool = pool, .todo = todo, .ntodo = 7, .take = t_take_pid, .ctx = &a,
                    .group = t_half};
    swp_outcome out;
    cr_assert_eq(swp_run_jobs(&m, &out, err, sizeof err), 0, "%s", err);
    pool->close(pool);
    cr_assert_eq(out.ran, 7);
    cr_assert(a.pid[0] == a.pid[1] && a.pid[1] == a.pid[2], "group 0 was shared");
    cr_assert_neq(a.pid[4], a.pid[0], "the second worker did not start group 1");
}
