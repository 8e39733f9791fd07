/*
 * test_regress.c -- sim/regress.c: comparing results documents (exact
 * counts, reals within tolerance, missing and new metrics, pattern
 * precedence) and reading, making and blessing baseline files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/error.h"
#include "sim/regress.h"
#include "sim/report.h"

/* A small results document; `requests` and `mean` vary per test. */
static json_t *doc(long long requests, double mean)
{
    json_t *d = json_pack("{s:s, s:s, s:[{s:s, s:{s:I, s:{s:f, s:f}, s:b}}]}",
                          "schema", "pvsim-results/1", "pvsim_version", "0.1.0",
                          "variants", "name", "linear", "totals", "requests",
                          (json_int_t)requests, "latency_ns", "mean", mean, "p99", 2000.0,
                          "ok", 1);
    cr_assert_not_null(d);
    return d;
}

static json_t *tols(const char *json)
{
    json_t *t = json_loads(json, 0, NULL);
    cr_assert_not_null(t, "bad test JSON: %s", json);
    return t;
}

/* The number of metrics rep_flatten() finds in `d`, less pvsim_version. */
static size_t leaves(json_t *d)
{
    json_t *flat = rep_flatten(d);
    cr_assert_not_null(flat);
    size_t n = json_object_size(flat) - (json_object_get(flat, "pvsim_version") != NULL);
    json_decref(flat);
    return n;
}

/* Compares, drops the arguments and returns the number of differences. */
static size_t compare(json_t *base, json_t *cur, json_t *t, reg_result *r)
{
    cr_assert_eq(reg_compare(base, cur, t, r), 0);
    json_decref(base);
    json_decref(cur);
    json_decref(t);
    return r->ndiffs;
}

Test(regress, equal_documents_pass)
{
    json_t *d = doc(100, 1234.5);
    size_t n = leaves(d);
    reg_result r;
    cr_assert_eq(compare(d, doc(100, 1234.5), NULL, &r), 0);
    cr_assert_eq(r.metrics, n);
    cr_assert_geq(n, 5);
    reg_result_free(&r);
}

Test(regress, version_is_ignored)
{
    json_t *cur = doc(100, 1234.5);
    json_object_set_new(cur, "pvsim_version", json_string("9.9.9"));
    reg_result r;
    cr_assert_eq(compare(doc(100, 1234.5), cur, NULL, &r), 0);
    reg_result_free(&r);
}

Test(regress, changed_count_is_caught_even_with_a_tolerance)
{
    reg_result r;
    cr_assert_eq(compare(doc(100, 1234.5), doc(101, 1234.5), tols("{\"*\": 0.5}"), &r), 1);
    cr_assert_eq(r.diffs[0].kind, REG_CHANGED);
    cr_assert_str_eq(r.diffs[0].path, "variants.linear.totals.requests");
    cr_assert_eq(json_integer_value(r.diffs[0].base), 100);
    cr_assert_eq(json_integer_value(r.diffs[0].cur), 101);
    cr_assert_lt(r.diffs[0].tolerance, 0, "counts are always exact");
    reg_result_free(&r);
}

Test(regress, reals_are_exact_without_a_tolerance)
{
    reg_result r;
    cr_assert_eq(compare(doc(100, 1000.0), doc(100, 1000.001), NULL, &r), 1);
    cr_assert_str_eq(r.diffs[0].path, "variants.linear.totals.latency_ns.mean");
    reg_result_free(&r);
}

Test(regress, reals_move_within_their_tolerance)
{
    reg_result r;
    const char *t = "{\"*.latency_ns.*\": 0.01}";
    cr_assert_eq(compare(doc(100, 1000.0), doc(100, 1010.0), tols(t), &r), 0);
    cr_assert_eq(compare(doc(100, 1000.0), doc(100, 990.0), tols(t), &r), 0);
    cr_assert_eq(compare(doc(100, 1000.0), doc(100, 1010.5), tols(t), &r), 1);
    cr_assert_float_eq(r.diffs[0].tolerance, 0.01, 1e-15);
    reg_result_free(&r);
    cr_assert_eq(compare(doc(100, 1000.0), doc(100, 989.0), tols(t), &r), 1);
    reg_result_free(&r);
}

/* Reals are compared as written (12 significant digits), so a document
 * equals the file it was written to. */
Test(regress, reals_compare_as_written)
{
    reg_result r;
    cr_assert_eq(compare(doc(100, 1.0 / 3.0), doc(100, 0.333333333333), NULL, &r), 0);
    reg_result_free(&r);
}

Test(regress, missing_and_new_metrics_are_caught)
{
    json_t *base = doc(100, 1000.0), *cur = doc(100, 1000.0);
    json_t *totals = json_object_get(json_array_get(json_object_get(cur, "variants"), 0),
                                     "totals");
    json_object_del(totals, "ok");
    json_object_set_new(totals, "interrupts", json_integer(7));
    size_t n = leaves(base);
    reg_result r;
    cr_assert_eq(compare(base, cur, NULL, &r), 2);
    cr_assert_eq(r.metrics, n + 1);
    cr_assert_eq(r.diffs[0].kind, REG_MISSING);
    cr_assert_str_eq(r.diffs[0].path, "variants.linear.totals.ok");
    cr_assert_null(r.diffs[0].cur);
    cr_assert_eq(r.diffs[1].kind, REG_NEW);
    cr_assert_str_eq(r.diffs[1].path, "variants.linear.totals.interrupts");
    cr_assert_null(r.diffs[1].base);
    reg_result_free(&r);
}

Test(regress, strings_and_booleans_are_exact)
{
    json_t *cur = doc(100, 1000.0);
    json_object_set_new(cur, "schema", json_string("pvsim-results/2"));
    json_object_set_new(json_object_get(json_array_get(json_object_get(cur, "variants"), 0),
                                        "totals"),
                        "ok", json_false());
    reg_result r;
    cr_assert_eq(compare(doc(100, 1000.0), cur, tols("{\"*\": 1}"), &r), 2);
    cr_assert_str_eq(r.diffs[0].path, "schema");
    cr_assert_str_eq(r.diffs[1].path, "variants.linear.totals.ok");
    reg_result_free(&r);
}

Test(regress, first_matching_pattern_wins)
{
    json_t *t = tols("{\"*.latency_ns.mean\": 0, \"*.latency_ns.*\": 0.5, \"*\": 0.1}");
    cr_assert_float_eq(reg_tolerance_of(t, "variants.linear.totals.latency_ns.mean"), 0, 0);
    cr_assert_float_eq(reg_tolerance_of(t, "variants.linear.totals.latency_ns.p99"), 0.5, 0);
    cr_assert_float_eq(reg_tolerance_of(t, "seed"), 0.1, 0);
    cr_assert_float_eq(reg_tolerance_of(NULL, "seed"), -1, 0);
    reg_result r;
    /* mean moved 1%: the exact pattern comes first, so it fails ... */
    cr_assert_eq(compare(doc(100, 1000.0), doc(100, 1010.0), json_incref(t), &r), 1);
    cr_assert_float_eq(r.diffs[0].tolerance, 0, 0);
    reg_result_free(&r);
    /* ... while the 0.5 pattern would have let it through. */
    json_t *loose = tols("{\"*.latency_ns.*\": 0.5, \"*.latency_ns.mean\": 0}");
    cr_assert_eq(compare(doc(100, 1000.0), doc(100, 1010.0), loose, &r), 0);
    reg_result_free(&r);
    json_decref(t);
}

/* ---- baseline files ----------------------------------------------------- */

static char dir[] = "/tmp/pvsim-regress-XXXXXX";

static void make_dir(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* reg_baseline_read of dir/name; its status, with the message in err. */
static int read_baseline(const char *name, reg_baseline *b, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return reg_baseline_read(path, b, err, errlen);
}

TestSuite(baseline, .init = make_dir, .fini = remove_dir);

Test(baseline, add_then_read_resolves_the_scenario)
{
    char sub[128], err[256], scenario[128], file[160];
    const char *const dirs[] = {"scenarios", "results", "results/baselines"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, dirs[i]);
        cr_assert_eq(mkdir(sub, 0777), 0);
    }
    write_file("scenarios/s.yaml", "name: s\n");
    snprintf(scenario, sizeof scenario, "%s/scenarios/s.yaml", dir);
    const char *sets[] = {"run.duration=1ms"};
    json_t *results = doc(5, 1.5);
    reg_baseline b;
    cr_assert_eq(reg_baseline_init(&b, sub, scenario, sets, 1, results, err, sizeof err), 0,
                 "%s", err);
    cr_assert_str_eq(b.scenario, "../../scenarios/s.yaml");
    snprintf(file, sizeof file, "%s/s.json", sub);
    cr_assert_eq(reg_baseline_write(file, &b, err, sizeof err), 0, "%s", err);
    reg_baseline_free(&b);

    cr_assert_eq(read_baseline("results/baselines/s.json", &b, err, sizeof err), 0, "%s", err);
    cr_assert_eq(access(b.scenario_path, R_OK), 0, "%s", b.scenario_path);
    cr_assert_eq(b.nsets, 1);
    cr_assert_str_eq(b.sets[0], "run.duration=1ms");
    cr_assert_eq(json_object_size(b.tolerances), 0);
    cr_assert(json_equal(b.results, results));

    /* Blessing swaps the results and keeps the rest. */
    json_t *next = doc(6, 1.5);
    cr_assert_eq(reg_baseline_bless(&b, next), 0);
    cr_assert_eq(reg_baseline_write(file, &b, err, sizeof err), 0, "%s", err);
    reg_baseline_free(&b);
    cr_assert_eq(read_baseline("results/baselines/s.json", &b, err, sizeof err), 0, "%s", err);
    cr_assert(json_equal(b.results, next));
    cr_assert_str_eq(b.sets[0], "run.duration=1ms");
    reg_baseline_free(&b);
    json_decref(results);
    json_decref(next);
}

Test(baseline, a_scenario_beside_the_baseline_needs_no_dots)
{
    char err[256], scenario[128];
    write_file("s.yaml", "name: s\n");
    snprintf(scenario, sizeof scenario, "%s/s.yaml", dir);
    json_t *results = doc(5, 1.5);
    reg_baseline b;
    cr_assert_eq(reg_baseline_init(&b, dir, scenario, NULL, 0, results, err, sizeof err), 0);
    cr_assert_str_eq(b.scenario, "s.yaml");
    reg_baseline_free(&b);
    json_decref(results);
}

/* Each bad file gives SIM_EINVAL (or SIM_EIO) and a message naming the
 * file and the fault. */
Test(baseline, invalid_files_say_what_is_wrong)
{
    static const struct { const char *text, *want; int rc; } cases[] = {
        {"{\"schema\": ", "invalid JSON", SIM_EINVAL},
        {"[]", "not a JSON object", SIM_EINVAL},
        {"{\"schema\": \"x\"}", "'schema' must be \"pvsim-baseline/1\", found \"x\"",
         SIM_EINVAL},
        {"{\"schema\": \"pvsim-baseline/1\", \"results\": {\"a\": 1}}", "'scenario'",
         SIM_EINVAL},
        {"{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"s.yaml\"}", "'results'",
         SIM_EINVAL},
        {"{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"s.yaml\", \"results\": {\"a\": 1},"
         " \"sets\": [\"run.duration\"]}", "sets[0]", SIM_EINVAL},
        {"{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"s.yaml\", \"results\": {\"a\": 1},"
         " \"tolerances\": {\"*\": -1}}", "tolerances['*']", SIM_EINVAL},
        {"{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"s.yaml\", \"results\": {\"a\": 1},"
         " \"tolerance\": {}}", "unknown key 'tolerance'", SIM_EINVAL},
        {"{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"gone.yaml\", \"results\": {\"a\": 1}}",
         "scenario 'gone.yaml'", SIM_EIO},
    };
    write_file("s.yaml", "name: s\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512];
        reg_baseline b;
        write_file("b.json", cases[i].text);
        cr_assert_eq(read_baseline("b.json", &b, err, sizeof err), cases[i].rc, "case %zu", i);
        cr_assert(strstr(err, "b.json") && strstr(err, cases[i].want), "case %zu: %s", i, err);
        cr_assert_null(b.doc);
    }
    char err[512];
    reg_baseline b;
    cr_assert_eq(read_baseline("absent.json", &b, err, sizeof err), SIM_EIO);
    cr_assert(strstr(err, "absent.json"), "%s", err);
}

/* The rest of the format, one mistake per file, each named in the message. */
Test(baseline, every_rule_of_the_format_is_checked)
{
    static const char head[] = "{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"s.yaml\", "
                               "\"results\": {\"a\": 1}";
    static const struct { const char *tail, *want; } cases[] = {
        {", \"sets\": \"run.seed=2\"}", "'sets' must be an array"},
        {", \"sets\": [\"a=1\", 2]}", "sets[1] must be a \"PATH=VALUE\" string"},
        {", \"tolerances\": [0.1]}", "'tolerances' must be an object"},
        {", \"tolerances\": {\"\": 0.1}}", "tolerances: empty pattern"},
        {", \"tolerances\": {\"*.mean\": \"1%\"}}", "tolerances['*.mean'] must be a number"},
    };
    write_file("s.yaml", "name: s\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256], err[512];
        reg_baseline b;
        snprintf(text, sizeof text, "%s%s", head, cases[i].tail);
        write_file("b.json", text);
        cr_assert_eq(read_baseline("b.json", &b, err, sizeof err), SIM_EINVAL, "case %zu", i);
        cr_assert(strstr(err, cases[i].want), "case %zu: %s", i, err);
    }
    static const struct { const char *text, *want; } whole[] = {
        {"{\"scenario\": \"s.yaml\", \"results\": {\"a\": 1}}", "found none"},
        {"{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"\", \"results\": {\"a\": 1}}",
         "'scenario' must be the path"},
        {"{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"s.yaml\", \"results\": {}}",
         "'results' must be a results document"},
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        char err[512];
        reg_baseline b;
        write_file("b.json", whole[i].text);
        cr_assert_eq(read_baseline("b.json", &b, err, sizeof err), SIM_EINVAL, "whole %zu", i);
        cr_assert(strstr(err, whole[i].want), "whole %zu: %s", i, err);
    }
}

Test(baseline, an_absolute_scenario_path_is_taken_as_it_is)
{
    char text[512], err[512];
    write_file("s.yaml", "name: s\n");
    snprintf(text, sizeof text, "{\"schema\": \"pvsim-baseline/1\", \"scenario\": \"%s/s.yaml\", "
             "\"results\": {\"a\": 1}}", dir);
    write_file("b.json", text);
    reg_baseline b;
    cr_assert_eq(read_baseline("b.json", &b, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(b.scenario_path, b.scenario);
    reg_baseline_free(&b);
}

/* A baseline needs a directory to live in and a scenario file to name. */
Test(baseline, making_one_needs_a_directory_and_a_scenario_file)
{
    char err[512], missing_dir[128], scenario[128];
    json_t *results = doc(5, 1.5);
    reg_baseline b;
    write_file("s.yaml", "name: s\n");
    snprintf(scenario, sizeof scenario, "%s/s.yaml", dir);
    snprintf(missing_dir, sizeof missing_dir, "%s/none", dir);
    cr_assert_eq(reg_baseline_init(&b, missing_dir, scenario, NULL, 0, results, err, sizeof err),
                 SIM_EIO);
    cr_assert(strstr(err, "none: No such file or directory"), "%s", err);
    cr_assert_eq(reg_baseline_init(&b, dir, missing_dir, NULL, 0, results, err, sizeof err),
                 SIM_EIO);
    cr_assert(strstr(err, "none: No such file or directory"), "%s", err);
    cr_assert_eq(reg_baseline_init(&b, dir, dir, NULL, 0, results, err, sizeof err), SIM_EIO);
    cr_assert(strstr(err, "not a regular file"), "%s", err);
    cr_assert_null(b.doc);
    json_decref(results);
}
