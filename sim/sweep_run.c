/*
 * sweep_run.c -- points to configurations, hashes, point files and the
 * sweep's CSV (sweep_run.h).
 */
#include "sim/sweep_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/report.h"

#define MAX_PATH_TEXT 4096

/* ---- points to configurations ------------------------------------------- */

/* Frees the point's own overrides (the command line's are borrowed). */
static void free_sets(const swp_sweep *s, const char **sets)
{
    for (size_t k = s->nsets; sets && k < s->nsets + s->plan->nparams; k++)
        free((char *)sets[k]);
    free(sets);
}

/* The overrides of point `i`, "path=value": the command line's (borrowed),
 * then the point's values. Free with free_sets(). NULL when memory is
 * short. */
static const char **point_sets(const swp_sweep *s, size_t i)
{
    const swp_plan *p = s->plan;
    size_t index[SWP_MAX_PARAMS];
    const char **sets = calloc(s->nsets + p->nparams, sizeof *sets);
    if (!sets)
        return NULL;
    swp_point_values(p, i, index);
    for (size_t k = 0; k < s->nsets; k++)
        sets[k] = s->sets[k];
    int short_of_memory = 0;
    for (size_t k = 0; k < p->nparams; k++) {
        const swp_param *pr = &p->params[k];
        size_t n = strlen(pr->path) + strlen(pr->values[index[k]]) + 2;
        char *set = malloc(n);
        if (set)
            snprintf(set, n, "%s=%s", pr->path, pr->values[index[k]]);
        short_of_memory |= !set;
        sets[s->nsets + k] = set;
    }
    if (short_of_memory) {
        free_sets(s, sets);
        return NULL;
    }
    return sets;
}

/* Loads point `i`: the scenario, the command line's overrides, then the
 * point's values, whose errors point into the sweep block. */
static int load_point(const swp_sweep *s, size_t i, void **cfg, scn_errors *errs)
{
    const swp_plan *p = s->plan;
    size_t n = s->nsets + p->nparams, index[SWP_MAX_PARAMS];
    const char **sets = point_sets(s, i);
    scn_mark *marks = calloc(n, sizeof *marks);
    int rc = SIM_ENOMEM;
    *cfg = NULL;
    if (sets && marks) {
        swp_point_values(p, i, index);
        for (size_t k = 0; k < s->nsets; k++)
            marks[k] = (scn_mark){"--set", 0, (int)k + 1};
        for (size_t k = 0; k < p->nparams; k++)
            marks[s->nsets + k] = p->params[k].marks[index[k]];
        scn_source src = {.path = s->file, .sets = sets,
                          .nsets = n, .set_marks = marks};
        rc = s->model->load(&src, cfg, errs);
    }
    free(marks);
    free_sets(s, sets);
    return rc;
}

/* ---- hashing -------------------------------------------------------------- */

/* splitmix64's finaliser: spreads every input bit over the word. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Two FNV-1a lanes from different bases, each finalised: 128 bits, the
 * same on every machine. A key for files, not a defence against forgery. */
static void hash_text(const char *text, size_t len, char out[SWP_HASH_HEX + 1])
{
    uint64_t a = 0xcbf29ce484222325ull, b = mix64(0xcbf29ce484222325ull ^ len);
    for (size_t i = 0; i < len; i++) {
        a = (a ^ (unsigned char)text[i]) * 0x100000001b3ull;
        b = (b ^ (unsigned char)text[i]) * 0x100000001b3ull;
    }
    snprintf(out, SWP_HASH_HEX + 1, "%016" PRIx64 "%016" PRIx64, mix64(a), mix64(b ^ a));
}

/* The hash of a configuration: its canonical text, the point schema and
 * the pvsim version (a new pvsim may simulate the same config otherwise). */
static int config_hash(const swp_sweep *s, const void *cfg, char out[SWP_HASH_HEX + 1])
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return SIM_ENOMEM;
    fprintf(f, "%s\npvsim %s\n", SWP_POINT_SCHEMA, PVSIM_VERSION);
    int rc = scn_write_canonical(s->model->schema, cfg, f);
    if (fclose(f) != 0 || !text)
        rc = SIM_ENOMEM;
    if (rc == 0)
        hash_text(text, len, out);
    free(text);
    return rc;
}

/* ---- preparing ------------------------------------------------------------ */

typedef struct keyed {
    const char *hash;
    size_t i;
} keyed;

/* By hash, then by point index. */
static int by_hash(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->hash, y->hash);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Points with equal hashes share the first one's run and file. Sorting by
 * hash keeps this O(n log n) for a million points. */
static int find_firsts(swp_sweep *s)
{
    keyed *order = malloc((s->npoints ? s->npoints : 1) * sizeof *order);
    if (!order)
        return SIM_ENOMEM;
    for (size_t i = 0; i < s->npoints; i++)
        order[i] = (keyed){s->points[i].hash, i};
    qsort(order, s->npoints, sizeof *order, by_hash);
    for (size_t k = 0; k < s->npoints; k++) {
        int same = k > 0 && !strcmp(order[k].hash, order[k - 1].hash);
        s->points[order[k].i].first = same ? s->points[order[k - 1].i].first : order[k].i;
    }
    free(order);
    return 0;
}

int swp_prepare(swp_sweep *s, swp_progress_fn progress, void *ctx, scn_errors *errs,
                size_t *bad)
{
    s->npoints = s->plan->npoints;
    s->points = calloc(s->npoints ? s->npoints : 1, sizeof *s->points);
    if (!s->points)
        return SIM_ENOMEM;
    for (size_t i = 0; i < s->npoints; i++) {
        void *cfg;
        int rc = load_point(s, i, &cfg, errs);
        if (rc == 0)
            rc = config_hash(s, cfg, s->points[i].hash);
        s->model->free(cfg);
        if (rc) {
            *bad = i;
            return rc;
        }
        if (progress)
            progress(ctx, i + 1, s->npoints);
    }
    return find_firsts(s);
}

void swp_sweep_free(swp_sweep *s)
{
    if (!s)
        return;
    free(s->points);
    s->points = NULL;
    s->npoints = 0;
}

/* ---- point files ------------------------------------------------------------ */

static void point_path(const swp_sweep *s, size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "%s/points/%s.json", s->dir, s->points[i].hash);
}

/* The value of one parameter as JSON, in base units. */
static json_t *param_value(const swp_sweep *s, const void *cfg, const char *path)
{
    const scn_field *f;
    const void *v;
    char text[512];
    uint64_t u;
    double d;
    if (scn_lookup(s->model->schema, cfg, path, &f, &v) != 0)
        return json_null();
    switch (f->type) {
    case SCN_U64:
    case SCN_SIZE:
    case SCN_DURATION:
    case SCN_FREQ:
        memcpy(&u, v, sizeof u);
        return u <= INT64_MAX ? json_integer((json_int_t)u) : json_real((double)u);
    case SCN_DOUBLE:
        memcpy(&d, v, sizeof d);
        return json_real(d);
    case SCN_BOOL:
        scn_format_value(f, v, text, sizeof text);
        return json_boolean(!strcmp(text, "true"));
    default:
        scn_format_value(f, v, text, sizeof text);
        return json_string(text);
    }
}

static json_t *point_doc(const swp_sweep *s, size_t i, const void *cfg, json_t *results)
{
    json_t *doc = json_object(), *params = json_object();
    int bad = !doc || !params;
    for (size_t k = 0; !bad && k < s->plan->nparams; k++)
        bad |= rep_set(params, s->plan->params[k].path,
                       param_value(s, cfg, s->plan->params[k].path));
    if (!bad)
        bad |= rep_set(doc, "schema", json_string(SWP_POINT_SCHEMA)) |
               rep_set(doc, "config_hash", json_string(s->points[i].hash)) |
               rep_set(doc, "parameters", json_incref(params)) |
               rep_set(doc, "results", json_incref(results));
    json_decref(params);
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int swp_run_point(const swp_sweep *s, size_t i, char **text, char *err, size_t errlen)
{
    void *cfg;
    scn_errors errs = {0};
    json_t *results = NULL, *doc = NULL;
    *text = NULL;
    int rc = load_point(s, i, &cfg, &errs);
    if (rc) {
        /* swp_prepare() loaded it already: only memory can fail here. */
        snprintf(err, errlen, "point %zu: cannot load: %s", i, sim_strerror(rc));
        return rc;
    }
    rc = s->model->run(cfg, &results, err, errlen);
    if (rc == 0 && !(doc = point_doc(s, i, cfg, results)))
        rc = SIM_ENOMEM;
    if (rc == 0 && !(*text = rep_dump(doc)))
        rc = SIM_ENOMEM;
    if (rc == SIM_ENOMEM)
        snprintf(err, errlen, "point %zu: out of memory", i);
    json_decref(doc);
    json_decref(results);
    s->model->free(cfg);
    return rc;
}

int swp_store_point(const swp_sweep *s, size_t i, const char *text, char *err,
                    size_t errlen)
{
    char dir[MAX_PATH_TEXT], path[MAX_PATH_TEXT];
    snprintf(dir, sizeof dir, "%s/points", s->dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return SIM_EIO;
    }
    point_path(s, i, path, sizeof path);
    return rep_write_text(path, text, "\n", err, errlen);
}

/* The point file of `i` if it is whole and for this configuration. */
static json_t *load_point_file(const swp_sweep *s, size_t i)
{
    char path[MAX_PATH_TEXT];
    point_path(s, i, path, sizeof path);
    json_t *doc = json_load_file(path, 0, NULL);
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    const char *hash = json_string_value(json_object_get(doc, "config_hash"));
    if (!schema || strcmp(schema, SWP_POINT_SCHEMA) || !hash ||
        strcmp(hash, s->points[i].hash) ||
        !json_is_array(json_object_get(json_object_get(doc, "results"), "variants"))) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

size_t swp_to_run(const swp_sweep *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->npoints; i++)
        n += s->points[i].first == i && !s->points[i].done;
    return n;
}

size_t swp_find_done(swp_sweep *s)
{
    size_t found = 0;
    for (size_t i = 0; i < s->npoints; i++) {
        if (s->points[i].first != i)
            continue;
        json_t *doc = load_point_file(s, i);
        s->points[i].done = doc != NULL;
        found += doc != NULL;
        json_decref(doc);
    }
    return found;
}

/* ---- the CSV ---------------------------------------------------------------- */

/* RFC 4180: quoted only when it must be. */
static void csv_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A JSON scalar as a cell; nothing for NULL (the metric is absent). */
static void csv_cell(FILE *f, const json_t *v)
{
    if (!v)
        return;
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fprintf(f, "%.12g", json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("true", f);
        break;
    case JSON_FALSE:
        fputs("false", f);
        break;
    case JSON_STRING:
        csv_text(f, json_string_value(v));
        break;
    default:
        break;
    }
}

/* The variants of point i's results, or NULL when it is not done. */
static json_t *done_doc(const swp_sweep *s, size_t i)
{
    size_t first = s->points[i].first;
    return s->points[first].done ? load_point_file(s, first) : NULL;
}

/* Adds the metric columns of `flat` that `cols` lacks, at its end. */
static int add_columns(json_t *cols, const json_t *flat)
{
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)flat, key, v)
        if (strcmp(key, "name") && !json_object_get(cols, key))
            rc |= json_object_set_new(cols, key, json_true());
    return rc ? SIM_ENOMEM : 0;
}

static int is_param(const swp_sweep *s, const char *key)
{
    for (size_t k = 0; k < s->plan->nparams; k++)
        if (!strcmp(key, s->plan->params[k].path))
            return 1;
    return 0;
}

/* Parameters are named by their scenario paths and metrics by their
 * results paths; a metric whose path is also a parameter's (the results
 * echo `device.workers`) becomes "result.<path>", so names stay unique. */
static void write_header(const swp_sweep *s, const json_t *cols, FILE *f)
{
    const char *key;
    json_t *v;
    fputs("point,variant,config_hash", f);
    for (size_t k = 0; k < s->plan->nparams; k++) {
        fputc(',', f);
        csv_text(f, s->plan->params[k].path);
    }
    json_object_foreach((json_t *)cols, key, v) {
        fputs(is_param(s, key) ? ",result." : ",", f);
        csv_text(f, key);
    }
    fputc('\n', f);
}

/* The rows in one pass over the point files. A row is written with the
 * metric columns known at the time; columns only ever join at the end, so
 * once all are known each row is completed with trailing empty cells. */
typedef struct csv_rows {
    FILE *f;                         /* memstream of the rows' text */
    size_t *ends;                    /* per row: offset of its end */
    size_t *covered;                 /* per row: metric columns it holds */
    size_t n, cap;
} csv_rows;

static int end_row(csv_rows *r, size_t covered)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        size_t *ends = realloc(r->ends, cap * sizeof *ends);
        if (ends)
            r->ends = ends;
        size_t *cov = ends ? realloc(r->covered, cap * sizeof *cov) : NULL;
        if (!cov)
            return SIM_ENOMEM;
        r->covered = cov;
        r->cap = cap;
    }
    long at = ftell(r->f);
    if (at < 0)
        return SIM_ENOMEM;
    r->ends[r->n] = (size_t)at;
    r->covered[r->n++] = covered;
    return 0;
}

static int write_row(const swp_sweep *s, size_t i, const json_t *params,
                     const json_t *variant, json_t *cols, csv_rows *r)
{
    json_t *flat = rep_flatten(variant);
    int rc = flat ? add_columns(cols, flat) : SIM_ENOMEM;
    const char *key;
    json_t *v;
    if (rc == 0) {
        fprintf(r->f, "%zu,", i);
        csv_cell(r->f, json_object_get(variant, "name"));
        fprintf(r->f, ",%s", s->points[i].hash);
        for (size_t k = 0; k < s->plan->nparams; k++) {
            fputc(',', r->f);
            csv_cell(r->f, json_object_get(params, s->plan->params[k].path));
        }
        json_object_foreach(cols, key, v) {
            fputc(',', r->f);
            csv_cell(r->f, json_object_get(flat, key));
        }
        rc = end_row(r, json_object_size(cols));
    }
    json_decref(flat);
    return rc;
}

static int write_rows(const swp_sweep *s, size_t i, const json_t *doc, json_t *cols,
                      csv_rows *r)
{
    size_t j;
    json_t *variant;
    int rc = 0;
    const json_t *params = json_object_get(doc, "parameters");
    json_array_foreach(json_object_get(json_object_get(doc, "results"), "variants"), j,
                       variant) {
        if (rc == 0)
            rc = write_row(s, i, params, variant, cols, r);
    }
    return rc;
}

/* The header, then every row padded to all the columns. */
static void assemble(const swp_sweep *s, const json_t *cols, const csv_rows *r,
                     const char *text, FILE *out)
{
    size_t ncols = json_object_size(cols), from = 0;
    write_header(s, cols, out);
    for (size_t k = 0; k < r->n; k++) {
        fwrite(text + from, 1, r->ends[k] - from, out);
        for (size_t c = r->covered[k]; c < ncols; c++)
            fputc(',', out);
        fputc('\n', out);
        from = r->ends[k];
    }
}

/* Reads every done point's file once, in point order, into the rows. */
static int read_rows(const swp_sweep *s, json_t *cols, csv_rows *r, size_t *missing)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->npoints; i++) {
        json_t *doc = done_doc(s, i);
        if (doc)
            rc = write_rows(s, i, doc, cols, r);
        else
            ++*missing;
        json_decref(doc);
    }
    return rc;
}

int swp_write_csv(const swp_sweep *s, size_t *missing, char *err, size_t errlen)
{
    char *rows_text = NULL, *text = NULL, path[MAX_PATH_TEXT];
    size_t rows_len = 0, len = 0;
    csv_rows r = {0};
    json_t *cols = json_object();
    FILE *out = NULL;
    int rc = SIM_ENOMEM;
    *missing = 0;
    if (cols && (r.f = open_memstream(&rows_text, &rows_len)))
        rc = read_rows(s, cols, &r, missing);
    if (r.f && fclose(r.f) != 0)
        rc = SIM_ENOMEM;
    if (rc == 0 && !(out = open_memstream(&text, &len)))
        rc = SIM_ENOMEM;
    if (out) {
        assemble(s, cols, &r, rows_text ? rows_text : "", out);
        if (fclose(out) != 0)
            rc = SIM_ENOMEM;
    }
    snprintf(path, sizeof path, "%s/sweep.csv", s->dir);
    if (rc == 0)
        rc = rep_write_text(path, text, "", err, errlen);
    else
        snprintf(err, errlen, "out of memory writing %s", path);
    free(text);
    free(rows_text);
    free(r.ends);
    free(r.covered);
    json_decref(cols);
    return rc;
}
