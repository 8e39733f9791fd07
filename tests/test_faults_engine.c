/*
 * test_faults_engine.c -- allocation failures in the engine's work after a
 * run: writing results, comparing them with a baseline, judging a
 * validation case, plotting a CSV, sweeping. Each piece of work is done
 * with allocation N refused, for every N it makes (or a spread sample of a
 * long one), and must end in 0 with the very outcome of the clean run, or
 * in SIM_ENOMEM with a sentence saying so; never a crash, a leak, another
 * status, or a half outcome passed off as whole. The allocator that fails
 * is tests/faults.h's.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/system.h"
#include "sim/plot.h"
#include "sim/regress.h"
#include "sim/report.h"
#include "sim/sweep.h"
#include "sim/sweep_pool.h"
#include "sim/validate.h"
#include "tests/faults.h"

#define SCENARIO(name) PVSIM_SOURCE_DIR "/scenarios/" name

TestSuite(engine_faults, .init = faults_setup, .timeout = 60);

/* ---- the loop ---------------------------------------------------------------- */

/*
 * One piece of work: `step` does it with the allocator armed, calls
 * disarm() before it checks what it made against the clean outcome in
 * `ctx` (the clean run records it there), frees everything, and returns 0
 * or the status the work ended in, with a sentence in `err`.
 */
typedef int (*step_fn)(void *ctx, char *err, size_t errlen);

/* Does the work once with allocation `n` refused (-1: none; every one
 * from n on if `onwards`) and checks how it ended; `keeps` for the first
 * clean run, whose outcome stays in the context. How many allocations it
 * asked for. */
static long try_step(const char *what, step_fn step, void *ctx, long n, bool onwards,
                     bool keeps)
{
    const char *how = onwards ? " onwards" : "";
    char err[512] = "";
    long live = fault.live;
    arm(n, onwards);
    int rc = step(ctx, err, sizeof err);
    disarm();
    long leaked = fault.live - live;
    cr_assert(keeps || leaked == 0, "%s: failing allocation %ld%s leaks %ld blocks", what, n,
              how, leaked);
    /* With n >= 0 something may have been refused even if this process
     * refused nothing: a forked worker counts on from where it started. */
    if (n < 0) {
        cr_assert_eq(rc, 0, "%s: %s", what, err);
        return fault.made;
    }
    cr_assert(rc == 0 || rc == SIM_ENOMEM, "%s: failing allocation %ld%s: %s: %s", what, n,
              how, sim_strerror(rc), err);
    cr_assert(rc == 0 || strstr(err, "out of memory"),
              "%s: failing allocation %ld%s: the error says '%s'", what, n, how, err);
    return fault.made;
}

static const fault_sample engine_sample = {.dense = 400, .stride = 1, .spread = 100,
                                           .onwards = 3};

static void engine_loop(const char *what, step_fn step, void *ctx)
{
    const fault_sample *s = &engine_sample;
    try_step(what, step, ctx, -1, false, true);
    long total = try_step(what, step, ctx, -1, false, false);
    cr_assert_gt(total, 3, "%s: too few allocations (%ld) to be a real test", what, total);
    for (long n = 0; n < total; n = fault_next(n, total, s))
        try_step(what, step, ctx, n, false, false);
    for (long i = 0; i < s->onwards; i++)
        try_step(what, step, ctx, total * i / s->onwards + 1, true, false);
    cr_log_info("%s: %ld allocations", what, total);
}

/* ---- what the work starts from ------------------------------------------------- */

/* The results of a short run of `path` with `extra` (NULL or one more
 * override). */
static json_t *results_of(const char *path, const char *extra)
{
    const char *sets[] = {"run.duration=100us", "run.warmup=20us", "guests.0.memory.size=16MiB",
                          "guests.1.memory.size=16MiB", extra};
    scn_source src = {.path = path, .sets = sets, .nsets = extra ? 5 : 4};
    system_config cfg;
    scn_errors errs = {0};
    cr_assert_eq(system_load(&src, &cfg, &errs), 0, "%s: %s", path,
                 errs.count ? errs.items[0].message : "");
    json_t *r = NULL;
    char err[256];
    cr_assert_eq(system_run(&cfg, NULL, NULL, &r, err, sizeof err), 0, "%s", err);
    system_config_free(&cfg);
    return r;
}

/* A new empty directory under /tmp. */
static void make_dir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/pvsim-faults-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

/* Removes `dir` and the files in it and in its subdirectories. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[512];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            remove_tree(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* The whole of a file, or NULL when there is none. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    cr_assert_not_null(m);
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;)
        fwrite(buf, 1, n, m);
    fclose(f);
    fclose(m);
    return text;
}

/* ---- results files ------------------------------------------------------------ */

typedef struct report_ctx {
    json_t *doc;                /* a run's results */
    char dir[64], path[96];
    char *text;                 /* the file the clean run wrote */
    json_t *flat;               /* its leaves, flattened */
} report_ctx;

static int report_step(void *p, char *err, size_t errlen)
{
    report_ctx *c = p;
    int rc = rep_write_json(c->path, c->doc, err, errlen);
    json_t *flat = rep_flatten(c->doc);
    disarm();
    if (rc == 0 && !flat) {
        rc = SIM_ENOMEM;
        snprintf(err, errlen, "rep_flatten: out of memory");
    }
    char *text = slurp(c->path);
    if (!c->text) {
        c->text = text;
        c->flat = json_incref(flat);
        text = NULL;
    } else if (rc == 0) {
        cr_assert(text && !strcmp(text, c->text), "failing allocation %ld: another file",
                  fault.fail_at);
        cr_assert(json_equal(flat, c->flat), "failing allocation %ld: other leaves",
                  fault.fail_at);
    }
    /* Written whole or not at all: never a part, never a temporary. */
    cr_assert(!text || !strcmp(text, c->text), "a partial %s", c->path);
    free(text);
    json_decref(flat);
    unlink(c->path);
    cr_assert_eq(rmdir(c->dir), 0, "%s is not empty", c->dir);
    cr_assert_eq(mkdir(c->dir, 0700), 0);
    return rc;
}

Test(engine_faults, writing_and_flattening_results)
{
    report_ctx c = {.doc = results_of(SCENARIO("loopback.yaml"), NULL)};
    make_dir(c.dir, sizeof c.dir);
    snprintf(c.path, sizeof c.path, "%s/r.json", c.dir);
    engine_loop("results", report_step, &c);
    free(c.text);
    json_decref(c.flat);
    json_decref(c.doc);
    rmdir(c.dir);
}

/* ---- regression ------------------------------------------------------------------ */

typedef struct regress_ctx {
    json_t *base, *cur;         /* results that differ in many metrics */
    json_t *tols;
    char dir[64], file[96];
    size_t ndiffs;              /* what the clean comparison found */
} regress_ctx;

/* Compares, makes a baseline, writes it and reads it back. */
static int regress_step(void *p, char *err, size_t errlen)
{
    regress_ctx *c = p;
    const char *sets[] = {"run.duration=100us"};
    reg_result r;
    reg_baseline b, back = {0};
    int rc = reg_compare(c->base, c->cur, c->tols, &r);
    if (rc)
        snprintf(err, errlen, "comparing: %s", sim_strerror(rc));
    if (rc == 0)
        rc = reg_baseline_init(&b, c->dir, SCENARIO("loopback.yaml"), sets, 1, c->base, err,
                               errlen);
    if (rc == 0) {
        rc = reg_baseline_write(c->file, &b, err, errlen);
        reg_baseline_free(&b);
    }
    if (rc == 0)
        rc = reg_baseline_read(c->file, &back, err, errlen);
    disarm();
    if (rc == 0) {
        if (!c->ndiffs)
            c->ndiffs = r.ndiffs;
        cr_assert_eq(r.ndiffs, c->ndiffs, "failing allocation %ld: %zu differences, not %zu",
                     fault.fail_at, r.ndiffs, c->ndiffs);
        reg_result same;
        cr_assert_eq(reg_compare(back.results, c->base, NULL, &same), 0);
        cr_assert_eq(same.ndiffs, 0, "the baseline read back differs");
        reg_result_free(&same);
        cr_assert_str_eq(back.sets[0], sets[0]);
    }
    reg_baseline_free(&back);
    reg_result_free(&r);
    unlink(c->file);
    return rc;
}

Test(engine_faults, comparing_with_a_baseline)
{
    regress_ctx c = {.base = results_of(SCENARIO("loopback.yaml"), NULL),
                     .cur = results_of(SCENARIO("loopback.yaml"), "seed=2"),
                     .tols = json_pack("{s:f}", "*.latency_ns.*", 0.5)};
    make_dir(c.dir, sizeof c.dir);
    snprintf(c.file, sizeof c.file, "%s/b.json", c.dir);
    engine_loop("regress", regress_step, &c);
    cr_assert_gt(c.ndiffs, 16, "too few differences to grow the list");
    json_decref(c.base);
    json_decref(c.cur);
    json_decref(c.tols);
    remove_tree(c.dir);
}

/* ---- validation ---------------------------------------------------------------- */

typedef struct validate_ctx {
    const char *path;
    json_t *results;
    val_outcome ok;             /* the clean judgement */
    int judged;
} validate_ctx;

static int validate_step(void *p, char *err, size_t errlen)
{
    validate_ctx *c = p;
    system_config cfg = {0};
    scn_doc *doc = NULL;
    scn_errors errs = {0};
    val_case vc = {0};
    val_outcome out;
    scn_source src = {.path = c->path};
    int rc = scn_load(&system_schema, &src, &cfg, &doc, &errs);
    if (rc == 0)
        rc = val_case_read(&vc, doc, &errs);
    if (rc)
        snprintf(err, errlen, "%s: %s", c->path, sim_strerror(rc));
    if (rc == 0)
        rc = val_judge(&vc, c->results, &out, err, errlen);
    disarm();
    if (rc == 0 && !c->judged) {
        c->ok = out;
        c->judged = 1;
    } else if (rc == 0) {
        cr_assert_eq(out.status, c->ok.status);
        cr_assert_eq(out.predicted, c->ok.predicted);
    }
    val_case_free(&vc);
    scn_doc_free(doc);
    scn_free(&system_schema, &cfg);
    return rc;
}

Test(engine_faults, judging_a_validation_case)
{
    validate_ctx c = {.path = SCENARIO("validation/kut2012-vmcall.yaml")};
    scn_source src = {.path = c.path};
    system_config cfg;
    scn_errors errs = {0};
    cr_assert_eq(system_load(&src, &cfg, &errs), 0);
    char err[256];
    cr_assert_eq(system_run(&cfg, NULL, NULL, &c.results, err, sizeof err), 0, "%s", err);
    system_config_free(&cfg);
    engine_loop("validate", validate_step, &c);
    cr_assert_eq(c.ok.status, VAL_OK);
    json_decref(c.results);
}

/* ---- plotting ------------------------------------------------------------------- */

typedef struct plot_ctx {
    char dir[64], csv[96];
    char *script;               /* the clean run's */
} plot_ctx;

static const char plot_csv[] =
    "point,variant,size,lat\n"
    "0,linear,4096,10\n0,sg,4096,12\n1,linear,1024,5\n1,sg,1024,6\n"
    "2,linear,16384,40\n2,sg,16384,41\n";

static int plot_step(void *p, char *err, size_t errlen)
{
    plot_ctx *c = p;
    plot_table t;
    plot_data d = {0};
    plot_where where[] = {{"point", "1"}};
    plot_spec s = {.x = "size", .y = {"lat"}, .ny = 1, .output = "o.svg", .where = where, .nwhere = 0};
    char *script = NULL;
    int rc = plot_table_read(c->csv, &t, err, errlen);
    if (rc == 0)
        rc = plot_select(&t, &s, &d, err, errlen);
    if (rc == 0 && !(script = plot_script(&s, &d, "o.svg.tmp"))) {
        rc = SIM_ENOMEM;
        snprintf(err, errlen, "plot_script: out of memory");
    }
    s.nwhere = 1;               /* and a selection that keeps a row per group */
    plot_data_free(&d);
    if (rc == 0)
        rc = plot_select(&t, &s, &d, err, errlen);
    disarm();
    if (rc == 0 && !c->script) {
        c->script = script;
        script = NULL;
    } else if (rc == 0) {
        cr_assert(!strcmp(script, c->script), "failing allocation %ld: another script",
                  fault.fail_at);
        cr_assert_eq(d.nseries, 2);
    }
    free(script);
    plot_data_free(&d);
    plot_table_free(&t);
    return rc;
}

Test(engine_faults, reading_and_selecting_a_csv)
{
    plot_ctx c = {0};
    make_dir(c.dir, sizeof c.dir);
    snprintf(c.csv, sizeof c.csv, "%s/s.csv", c.dir);
    FILE *f = fopen(c.csv, "w");
    cr_assert_not_null(f);
    fputs(plot_csv, f);
    fclose(f);
    engine_loop("plot", plot_step, &c);
    free(c.script);
    remove_tree(c.dir);
}

/* ---- sweeping ------------------------------------------------------------------ */

/* A model that only echoes its config: the sweep's own work is what is
 * under test. */
typedef struct echo_cfg {
    char *name;
    uint64_t size;
} echo_cfg;

static const scn_field echo_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(echo_cfg, name, char *), .def = "e"},
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(echo_cfg, size, uint64_t), .def = "1"},
    {.key = "sweep", .type = SCN_BLOCK},
};

static const scn_schema echo_schema = {"echo", sizeof(echo_cfg), echo_fields, 3};

static int echo_load(const scn_source *src, void **cfg, scn_errors *errs)
{
    echo_cfg *c = calloc(1, sizeof *c);
    *cfg = NULL;
    if (!c)
        return SIM_ENOMEM;
    int rc = scn_load(&echo_schema, src, c, NULL, errs);
    if (rc) {
        scn_free(&echo_schema, c);
        free(c);
        return rc;
    }
    *cfg = c;
    return 0;
}

static int echo_run(const void *cfg, json_t **results, char *err, size_t errlen)
{
    const echo_cfg *c = cfg;
    *results = json_pack("{s:s, s:[{s:s, s:{s:I, s:f}}, {s:s, s:{s:I}}]}", "scenario", c->name,
                         "variants", "name", "a,\"quoted\"", "totals", "size",
                         (json_int_t)c->size, "half", c->size / 2.0, "name", "b", "totals",
                         "bytes", (json_int_t)c->size);
    if (!*results)
        snprintf(err, errlen, "out of memory");
    return *results ? 0 : SIM_ENOMEM;
}

static void echo_free(void *cfg)
{
    if (cfg)
        scn_free(&echo_schema, cfg);
    free(cfg);
}

static const swp_model echo_model = {&echo_schema, echo_load, echo_run, echo_free};

typedef struct sweep_ctx {
    char dir[64], file[96], csv[128];
    int workers;                /* forked; 0: the points run inline */
    char *text;                 /* the clean run's CSV */
} sweep_ctx;

static swp_pool *make_pool(const swp_sweep *s, int workers, char *err, size_t errlen)
{
    swp_pool *pool = workers ? swp_pool_fork(s, workers, err, errlen) : swp_pool_inline(s);
    if (!pool && !workers)
        snprintf(err, errlen, "pool: out of memory");
    return pool;
}

/* Reads the plan, loads the points, claims the directory, runs them and
 * writes the CSV; 0, or the first failure's status. A point that fails is
 * a counted failure, so the CSV is then partial. */
static int sweep_work(swp_sweep *s, swp_plan *plan, int workers, size_t *missing, char *err,
                      size_t errlen)
{
    scn_errors errs = {0};
    size_t bad = 0;
    swp_outcome out = {0};
    echo_cfg cfg = {0};
    scn_doc *doc = NULL;
    scn_source src = {.path = s->file};
    int rc = scn_load(&echo_schema, &src, &cfg, &doc, &errs);
    if (rc == 0)
        rc = swp_plan_read(plan, &echo_schema, doc, &errs);
    scn_doc_free(doc);
    scn_free(&echo_schema, &cfg);
    if (rc == 0)
        rc = swp_plan_add_option(plan, &echo_schema, "size=1KiB,2KiB,1KiB", 1, &errs);
    if (rc == 0)
        rc = swp_plan_finish(plan, (scn_mark){s->file, 0, 0}, &errs);
    if (rc == 0)
        rc = swp_prepare(s, NULL, NULL, &errs, &bad);
    if (rc)
        snprintf(err, errlen, "%s", sim_strerror(rc));
    if (rc == 0)
        rc = swp_claim(s, err, errlen);
    swp_pool *pool = rc == 0 ? make_pool(s, workers, err, errlen) : NULL;
    if (rc == 0 && !pool)
        rc = SIM_ENOMEM;
    if (rc == 0)
        rc = swp_execute(s, pool, NULL, NULL, &out, err, errlen);
    if (pool)
        pool->close(pool);
    if (rc == 0)
        rc = swp_write_csv(s, missing, err, errlen);
    swp_release(s);
    if (rc == 0 && out.failed) {
        /* Points with equal configurations share one run. */
        cr_assert_geq(*missing, out.failed, "%zu failed, %zu missing", out.failed, *missing);
        snprintf(err, errlen, "%s", out.shown[0].why);
        rc = SIM_ENOMEM;
    }
    return rc;
}

static int sweep_step(void *p, char *err, size_t errlen)
{
    sweep_ctx *c = p;
    swp_plan plan = {0};
    swp_sweep s = {&echo_model, &plan, c->file, NULL, 0, c->dir};
    size_t missing = 0;
    int rc = sweep_work(&s, &plan, c->workers, &missing, err, errlen);
    disarm();
    char *text = slurp(c->csv);
    if (rc == 0 && !c->text) {
        c->text = text;
        text = NULL;
    } else if (rc == 0) {
        cr_assert(text && !strcmp(text, c->text), "failing allocation %ld: %s", fault.fail_at,
                  text ? "another CSV" : "no CSV");
    } else {
        cr_assert_null(text, "a failed sweep wrote %s", c->csv);
    }
    free(text);
    swp_sweep_free(&s);
    swp_plan_free(&plan);
    /* The next attempt starts afresh, as a sweep without --resume does. */
    char path[128];
    snprintf(path, sizeof path, "%s/points", c->dir);
    remove_tree(path);
    unlink(c->csv);
    snprintf(path, sizeof path, "%s/sweep.partial.csv", c->dir);
    unlink(path);
    return rc;
}

static void sweep_loop(int workers)
{
    sweep_ctx c = {.workers = workers};
    make_dir(c.dir, sizeof c.dir);
    snprintf(c.file, sizeof c.file, "%s/e.yaml", c.dir);
    snprintf(c.csv, sizeof c.csv, "%s/sweep.csv", c.dir);
    FILE *f = fopen(c.file, "w");
    cr_assert_not_null(f);
    fputs("name: e\nsweep:\n  parameters:\n    name: [x, 'y,z']\n", f);
    fclose(f);
    engine_loop(workers ? "sweep, forked" : "sweep", sweep_step, &c);
    cr_assert_not_null(strstr(c.text, "\"a,\"\"quoted\"\"\""), "%s", c.text);
    free(c.text);
    remove_tree(c.dir);
}

Test(engine_faults, sweeping)
{
    sweep_loop(0);
}

/* The master's allocations fail, and the workers' (forked after the
 * count began, they count on from there). */
Test(engine_faults, sweeping_with_workers)
{
    sweep_loop(2);
}
