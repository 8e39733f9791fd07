/*
 * cli_regress.c -- `pvsim regress`: rerun every scenario that has a
 * baseline, compare its results with the baseline's (sim/regress.h), and
 * print what moved; --bless rewrites the baselines, --add makes a new one.
 *
 * Baselines are visited in byte order of their file names, so the output
 * is the same on every machine. The exit status is the worst outcome:
 * 0 all passed, 1 a metric moved or a rerun failed, 2 bad usage or a
 * baseline that cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sim/regress.h"
#include "sim/report.h"

#define DEFAULT_DIR "results/baselines"
#define MAX_ROWS 25                     /* diff rows shown per baseline */

static const char regress_usage[] =
    "usage: pvsim regress [DIR] [--bless] [--quiet]\n"
    "       pvsim regress [DIR] --add SCENARIO [--set PATH=VALUE]...\n"
    "\n"
    "Reruns the scenario of every baseline DIR/*.json (default: " DEFAULT_DIR ")\n"
    "and compares every metric of its results with the baseline's: counts,\n"
    "strings and booleans exactly, reals exactly unless one of the baseline's\n"
    "tolerances matches. Prints one line per baseline and a table of what\n"
    "moved; exit status 1 if anything did (docs/regress.md).\n"
    "\n"
    "options:\n"
    "  -b, --bless           rewrite each baseline's results with the current\n"
    "                        run (after results moved on purpose)\n"
    "  -a, --add SCENARIO    make DIR/<scenario name>.json from a run of the\n"
    "                        scenario file SCENARIO, then exit\n"
    "  -S, --set PATH=VALUE  with --add: an override the baseline keeps and\n"
    "                        every rerun applies; repeatable\n"
    "  -q, --quiet           print only what moved or failed\n"
    "  -h, --help            show this help\n"
    "\n"
    "examples:\n"
    "  pvsim regress\n"
    "  pvsim regress results/baselines --bless\n"
    "  pvsim regress --add scenarios/loopback.yaml --set run.duration=10ms\n";

typedef struct regress_opts {
    const char *dir;
    const char *add;                /* --add SCENARIO, or NULL */
    scenario_opts scn;              /* the --set overrides of --add */
    int bless, quiet;
} regress_opts;

/* Fills `o`; 0 to go on, -1 after --help, else the exit status. */
static int parse_args(int argc, char **argv, regress_opts *o)
{
    static const struct option longopts[] = {
        {"bless", no_argument, NULL, 'b'},
        {"add", required_argument, NULL, 'a'},
        {"set", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "ba:S:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->bless = 1;
            break;
        case 'a':
            o->add = optarg;
            break;
        case 'S':
            if (cli_add_set(&o->scn, optarg))
                return EXIT_USAGE;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            fputs(regress_usage, stdout);
            return -1;
        default:
            fputs(regress_usage, stderr);
            return EXIT_USAGE;
        }
    }
    o->dir = optind < argc ? argv[optind++] : DEFAULT_DIR;
    if (cli_dir_arg("DIR", o->dir))
        return EXIT_USAGE;
    if (optind < argc) {
        fprintf(stderr, "pvsim regress: unexpected argument '%s'\n%s", argv[optind],
                regress_usage);
        return EXIT_USAGE;
    }
    const char *why = (o->bless && o->add) ? "--bless and --add do not go together"
                      : (o->scn.nsets && !o->add) ? "--set only goes with --add" : NULL;
    if (why) {
        fprintf(stderr, "pvsim regress: %s\n%s", why, regress_usage);
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- the baselines ------------------------------------------------------ */

/* ---- the diff table ----------------------------------------------------- */

/* A leaf as the table shows it; "-" for an absent one. */
static void format_value(char *buf, size_t len, const json_t *v)
{
    if (!v)
        snprintf(buf, len, "-");
    else if (json_is_integer(v))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.12g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(buf, len, "\"%s\"", json_string_value(v));
    else
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
}

static void format_change(char *buf, size_t len, const reg_diff *d)
{
    if (d->kind != REG_CHANGED)
        snprintf(buf, len, "%s", d->kind == REG_MISSING ? "missing" : "new");
    else if (!json_is_number(d->base) || !json_is_number(d->cur))
        snprintf(buf, len, "changed");
    else if (json_number_value(d->base) == 0)
        snprintf(buf, len, "from 0");
    else
        snprintf(buf, len, "%+.3g%%", 100 * (json_number_value(d->cur) -
                                            json_number_value(d->base)) /
                                          fabs(json_number_value(d->base)));
}

static void print_diffs(const reg_result *r)
{
    if (r->ndiffs == 0)
        return;
    size_t shown = r->ndiffs < MAX_ROWS ? r->ndiffs : MAX_ROWS;
    int width = (int)strlen("metric");
    for (size_t i = 0; i < shown; i++)
        if ((int)strlen(r->diffs[i].path) > width)
            width = (int)strlen(r->diffs[i].path);
    printf("    %-*s  %16s  %16s  %9s  %9s\n", width, "metric", "baseline", "current",
           "change", "tolerance");
    for (size_t i = 0; i < shown; i++) {
        const reg_diff *d = &r->diffs[i];
        char base[64], cur[64], change[32], tol[32];
        format_value(base, sizeof base, d->base);
        format_value(cur, sizeof cur, d->cur);
        format_change(change, sizeof change, d);
        if (d->tolerance < 0)
            snprintf(tol, sizeof tol, "exact");
        else
            snprintf(tol, sizeof tol, "%g%%", d->tolerance * 100);
        printf("    %-*s  %16s  %16s  %9s  %9s\n", width, d->path, base, cur, change, tol);
    }
    if (r->ndiffs > shown)
        printf("    ... and %zu more\n", r->ndiffs - shown);
}

/* ---- one baseline ------------------------------------------------------- */

/* "schemes" for "results/baselines/schemes.json". */
static void display_name(char *buf, size_t len, const char *file_name)
{
    snprintf(buf, len, "%.*s", (int)(strlen(file_name) - 5), file_name);
}

/* Rewrites the results of `b` (read from `path`) with `cur`. */
static int bless(reg_baseline *b, const char *path, json_t *cur, const reg_result *r)
{
    char err[512];
    if (reg_baseline_bless(b, cur) != 0 || reg_baseline_write(path, b, err, sizeof err) != 0) {
        fprintf(stderr, "pvsim: cannot rewrite %s: %s\n", path, err);
        return EXIT_RUN_FAILED;
    }
    printf("blessed  %s: %zu of %zu metrics moved\n", path, r->ndiffs, r->metrics);
    print_diffs(r);
    return 0;
}

/* Prints the outcome of comparing `name`; returns its exit status. */
static int report(const regress_opts *o, const char *name, const reg_result *r)
{
    if (r->ndiffs == 0) {
        if (!o->quiet)
            printf("ok  %s (%zu metrics)\n", name, r->metrics);
        return 0;
    }
    printf("REGRESSED  %s: %zu of %zu metrics moved\n", name, r->ndiffs, r->metrics);
    print_diffs(r);
    return EXIT_RUN_FAILED;
}

/* Reruns, compares and (with --bless) rewrites the baseline DIR/file_name. */
static int check_one(const regress_opts *o, const char *file_name)
{
    char path[4096], name[256], err[1024];
    snprintf(path, sizeof path, "%s/%s", o->dir, file_name);
    display_name(name, sizeof name, file_name);
    reg_baseline b;
    if (reg_baseline_read(path, &b, err, sizeof err) != 0) {
        fprintf(stderr, "pvsim: invalid baseline %s\n", err);
        return EXIT_USAGE;
    }
    json_t *cur = NULL;
    reg_result r = {0};
    int rc = EXIT_RUN_FAILED;
    if (cli_simulate_file(b.scenario_path, b.sets, b.nsets, &cur) != 0)
        printf("FAILED  %s: %s did not run\n", name, b.scenario_path);
    else if (reg_compare(b.results, cur, b.tolerances, &r) != 0)
        printf("FAILED  %s: out of memory comparing the results\n", name);
    else if (o->bless)
        rc = bless(&b, path, cur, &r);
    else
        rc = report(o, name, &r);
    reg_result_free(&r);
    json_decref(cur);
    reg_baseline_free(&b);
    return rc;
}

static int check_all(const regress_opts *o)
{
    char **names;
    size_t n;
    if (cli_list_files(o->dir, ".json", &names, &n) != 0) {
        fprintf(stderr, "pvsim regress: cannot read %s: %s\n", o->dir, strerror(errno));
        return EXIT_USAGE;
    }
    if (n == 0) {
        fprintf(stderr, "pvsim regress: no baselines (*.json) in %s\n", o->dir);
        cli_free_names(names, n);
        return EXIT_USAGE;
    }
    int worst = 0;
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = check_one(o, names[i]);
        failed += rc != 0;
        worst = rc > worst ? rc : worst;
    }
    if (!o->bless && (!o->quiet || failed))
        printf("%zu baseline%s, %zu passed, %zu did not\n", n, n == 1 ? "" : "s",
               n - failed, failed);
    cli_free_names(names, n);
    return worst;
}

/* ---- --add -------------------------------------------------------------- */

/* Runs o->add and writes its new baseline; never overwrites one. */
static int add(const regress_opts *o)
{
    char path[4096], err[1024];
    system_config cfg;
    const scenario_opts *so = &o->scn;
    int rc = cli_load_file(o->add, so->sets, so->nsets, &cfg) ? EXIT_USAGE : 0;
    if (rc == 0)
        cli_json_path(path, sizeof path, o->dir, cfg.name);
    if (rc == 0 && access(path, F_OK) == 0) {
        fprintf(stderr, "pvsim regress: %s exists; rerun with --bless to rewrite its "
                "results, or delete it first\n", path);
        rc = EXIT_USAGE;
    }
    if (rc == 0 && cli_make_dirs(o->dir) != 0) {
        fprintf(stderr, "pvsim regress: cannot create %s: %s\n", o->dir, strerror(errno));
        rc = EXIT_RUN_FAILED;
    }
    json_t *results = NULL;
    if (rc == 0 && cli_simulate(&cfg, o->add, &results) != 0)
        rc = EXIT_RUN_FAILED;
    system_config_free(&cfg);
    reg_baseline b = {0};
    if (rc == 0 && (reg_baseline_init(&b, o->dir, o->add, so->sets, so->nsets, results, err,
                                      sizeof err) != 0 ||
                    reg_baseline_write(path, &b, err, sizeof err) != 0)) {
        fprintf(stderr, "pvsim regress: %s: %s\n", path, err);
        rc = EXIT_RUN_FAILED;
    }
    if (rc == 0)
        printf("added  %s (scenario %s)\n", path, b.scenario);
    reg_baseline_free(&b);
    json_decref(results);
    return rc;
}

int cli_regress(int argc, char **argv)
{
    regress_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    return o.add ? add(&o) : check_all(&o);
}
