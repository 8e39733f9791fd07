/*
 * cli_validate.c -- `pvsim validate`: runs every validation case and
 * prints published against predicted, consistency checks and predictions
 * apart (docs/validation.md explains the method and lists every case).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "sim/validate.h"

static const char validate_usage[] =
    "usage: pvsim validate [PATH]... [--verbose]\n"
    "\n"
    "Runs every validation case: each is a scenario with a `validate:` block\n"
    "naming a published figure (scenarios/validation/*.yaml, or the files and\n"
    "directories given). Prints published, predicted and error for each,\n"
    "consistency checks (a measured figure rebuilt from the phases the presets\n"
    "split it into) apart from predictions (published figures that no\n"
    "primitive was derived from).\n"
    "\n"
    "Exit status 1 when a consistency check misses its tolerance, or a\n"
    "prediction's error grows beyond the one recorded at its first run (or\n"
    "has none recorded); a prediction that misses its tolerance by no more\n"
    "than before is listed as missed and passes.\n"
    "\n"
    "options:\n"
    "  -v, --verbose   also print each case's figure, source and primitives\n"
    "  -h, --help      show this help\n"
    "\n"
    "examples:\n"
    "  pvsim validate\n"
    "  pvsim validate scenarios/validation/kut2012-vmcall.yaml -v\n";

#define DEFAULT_DIR "scenarios/validation"

/* One case and how it came out. */
typedef struct row {
    char *file;
    char *preset;
    val_case c;
    val_outcome out;
    int broken;                     /* could not be loaded, run or judged */
} row;

typedef struct rows {
    row *v;
    size_t n, cap;
} rows;

static int add_file(rows *r, const char *file)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        row *grown = realloc(r->v, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->v = grown;
        r->cap = cap;
    }
    row *w = &r->v[r->n];
    memset(w, 0, sizeof *w);
    w->file = strdup(file);
    if (!w->file)
        return -1;
    r->n++;
    return 0;
}

/* A directory's *.yaml cases in name order, or the file itself. */
static int add_path(rows *r, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "pvsim validate: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return add_file(r, path);
    char **names;
    size_t n;
    if (cli_list_files(path, ".yaml", &names, &n) != 0) {
        fprintf(stderr, "pvsim validate: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i]);
        rc = add_file(r, file);
    }
    cli_free_names(names, n);
    if (rc)
        fprintf(stderr, "pvsim validate: out of memory\n");
    return rc;
}

static void free_rows(rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].file);
        free(r->v[i].preset);
        val_case_free(&r->v[i].c);
    }
    free(r->v);
}

/* ---- one case ------------------------------------------------------------------- */

/* Reads the file's validate block; -1 after printing why. */
static int read_case(row *w)
{
    system_config cfg = {0};
    scn_doc *doc = NULL;
    scn_errors errs = {0};
    scn_source src = {.path = w->file};
    int rc = scn_load(&system_schema, &src, &cfg, &doc, &errs);
    if (rc == 0)
        rc = val_case_read(&w->c, doc, &errs);
    scn_doc_free(doc);
    scn_free(&system_schema, &cfg);
    if (rc == 0)
        return 0;
    if (errs.count)
        cli_print_errors(&errs);
    else
        fprintf(stderr, "pvsim: %s: %s\n", w->file, sim_strerror(rc));
    return -1;
}

static void run_case(row *w)
{
    json_t *results = NULL;
    w->broken = read_case(w) != 0 || cli_simulate_file(w->file, NULL, 0, &results) != 0;
    if (w->broken)
        return;
    char err[256];
    if (val_judge(&w->c, results, &w->out, err, sizeof err) != 0) {
        fprintf(stderr, "pvsim validate: %s: %s\n", w->file, err);
        w->broken = 1;
    }
    const char *preset = json_string_value(json_object_get(results, "preset"));
    w->preset = strdup(preset ? preset : "?");
    json_decref(results);
}

/* ---- the tables ------------------------------------------------------------------ */

/* The file's name without directory and .yaml. */
static void case_name(const char *file, char *buf, size_t len)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strcspn(base, ".");
    snprintf(buf, len, "%.*s", (int)n, base);
}

static void format_number(char *buf, size_t len, double v, int unit)
{
    snprintf(buf, len, unit == VAL_COUNT ? "%.3f" : "%.1f", v);
}

static void print_row(const row *w, int verbose)
{
    char name[64], published[32], predicted[32], recorded[16] = "";
    case_name(w->file, name, sizeof name);
    if (w->broken) {
        printf("%-34.34s %-18.18s %s\n", name, w->preset ? w->preset : "?",
               "could not be run (above)");
        return;
    }
    const val_case *c = &w->c;
    format_number(published, sizeof published, c->published, c->unit);
    format_number(predicted, sizeof predicted, w->out.predicted, c->unit);
    if (c->kind == VAL_PREDICTION && c->has_recorded)
        snprintf(recorded, sizeof recorded, "%+.1f%%", 100 * c->recorded_error);
    printf("%-34.34s %-18.18s %11s %11s %-6s %+8.2f%% %6.1f%% %8s  %s\n", name, w->preset,
           published, predicted, val_unit_name(c->unit), 100 * w->out.error,
           100 * c->tolerance, recorded, val_status_name(w->out.status));
    if (c->kind == VAL_PREDICTION && !c->has_recorded)
        printf("    first run: record it in %s as `recorded_error: %.6g`\n", w->file,
               w->out.error);
    if (!verbose)
        return;
    printf("    figure: %s\n    source: %s\n    primitives:", c->figure, c->source);
    for (size_t i = 0; i < c->nprimitives; i++)
        printf(" %s", c->primitives[i]);
    printf("\n");
}

static void print_kind(const rows *r, int kind, const char *title, int verbose)
{
    printf("\n%s\n%-34s %-18s %11s %11s %-6s %9s %7s %8s  %s\n", title, "case", "preset",
           "published", "predicted", "unit", "error", "tol", "recorded", "status");
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].broken ? kind == VAL_CONSISTENCY : r->v[i].c.kind == kind)
            print_row(&r->v[i], verbose);
}

/* ---- the command ------------------------------------------------------------------- */

static int parse(int argc, char **argv, int *verbose)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        if (c == 'v') {
            *verbose = 1;
        } else if (c == 'h') {
            fputs(validate_usage, stdout);
            return -1;
        } else {
            fputs(validate_usage, stderr);
            return EXIT_USAGE;
        }
    }
    return 0;
}

int cli_validate(int argc, char **argv)
{
    int verbose = 0;
    int rc = parse(argc, argv, &verbose);
    if (rc)
        return rc < 0 ? 0 : rc;
    rows r = {0};
    for (int i = optind; rc == 0 && i < argc; i++)
        rc = add_path(&r, argv[i]);
    if (rc == 0 && optind == argc)
        rc = add_path(&r, DEFAULT_DIR);
    if (rc) {
        free_rows(&r);
        return EXIT_USAGE;
    }
    size_t failed = 0;
    for (size_t i = 0; i < r.n; i++) {
        run_case(&r.v[i]);
        failed += r.v[i].broken || val_status_fails(r.v[i].out.status);
    }
    print_kind(&r, VAL_CONSISTENCY,
               "consistency checks: a figure that went into the presets, rebuilt from "
               "their phases", verbose);
    print_kind(&r, VAL_PREDICTION,
               "predictions: published figures that no primitive was derived from",
               verbose);
    printf("\n%zu cases, %zu failed\n", r.n, failed);
    free_rows(&r);
    return failed ? EXIT_RUN_FAILED : 0;
}
