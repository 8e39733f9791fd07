/*
 * regress.c -- baseline files and the comparison of results documents
 * (regress.h).
 *
 * Invariant: a reg_baseline that reg_baseline_read() or reg_baseline_init()
 * returned holds a document that passed validate(), and its borrowed
 * pointers point into that document.
 */
/* realpath() is XSI in glibc's headers: _POSIX_C_SOURCE alone hides it. */
#define _XOPEN_SOURCE 700

#include "sim/regress.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/error.h"
#include "sim/report.h"

/* ---- reading and validating -------------------------------------------- */

/* Writes "file: <message>" into err and returns SIM_EINVAL. */
static int invalid(char *err, size_t errlen, const char *file, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return SIM_EINVAL;
}

static int check_keys(const json_t *doc, const char *file, char *err, size_t errlen)
{
    static const char *const known[] = {"schema", "scenario", "sets", "tolerances",
                                        "results"};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)doc, key, v) {
        size_t i = 0;
        while (i < sizeof known / sizeof known[0] && strcmp(key, known[i]))
            i++;
        if (i == sizeof known / sizeof known[0])
            return invalid(err, errlen, file, "unknown key '%s' (expected schema, scenario, "
                           "sets, tolerances, results)", key);
    }
    return 0;
}

/* `sets` is absent or an array of "path=value" strings. */
static int check_sets(const json_t *sets, const char *file, char *err, size_t errlen)
{
    size_t i;
    json_t *s;
    if (!sets)
        return 0;
    if (!json_is_array(sets))
        return invalid(err, errlen, file, "'sets' must be an array of \"PATH=VALUE\" strings");
    json_array_foreach(sets, i, s) {
        if (!json_is_string(s) || !strchr(json_string_value(s), '='))
            return invalid(err, errlen, file, "sets[%zu] must be a \"PATH=VALUE\" string", i);
    }
    return 0;
}

/* `tolerances` is absent or maps non-empty patterns to finite numbers >= 0. */
static int check_tolerances(const json_t *tols, const char *file, char *err, size_t errlen)
{
    const char *pat;
    json_t *v;
    if (!tols)
        return 0;
    if (!json_is_object(tols))
        return invalid(err, errlen, file, "'tolerances' must be an object of "
                       "\"pattern\": relative tolerance");
    json_object_foreach((json_t *)tols, pat, v) {
        double t = json_number_value(v);
        if (!*pat)
            return invalid(err, errlen, file, "tolerances: empty pattern");
        if (!json_is_number(v) || !isfinite(t) || t < 0)
            return invalid(err, errlen, file, "tolerances['%s'] must be a number >= 0 "
                           "(0.01 is 1%%)", pat);
    }
    return 0;
}

static int validate(const json_t *doc, const char *file, char *err, size_t errlen)
{
    if (!json_is_object(doc))
        return invalid(err, errlen, file, "not a JSON object");
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    if (!schema || strcmp(schema, REG_SCHEMA))
        return invalid(err, errlen, file, "'schema' must be \"%s\", found %s%s%s",
                       REG_SCHEMA, schema ? "\"" : "", schema ? schema : "none",
                       schema ? "\"" : "");
    const char *scenario = json_string_value(json_object_get(doc, "scenario"));
    if (!scenario || !*scenario)
        return invalid(err, errlen, file, "'scenario' must be the path of a scenario file");
    const json_t *results = json_object_get(doc, "results");
    if (!json_is_object(results) || json_object_size(results) == 0)
        return invalid(err, errlen, file, "'results' must be a results document (an object)");
    int rc = check_keys(doc, file, err, errlen);
    if (rc == 0)
        rc = check_sets(json_object_get(doc, "sets"), file, err, errlen);
    if (rc == 0)
        rc = check_tolerances(json_object_get(doc, "tolerances"), file, err, errlen);
    return rc;
}

/* `scenario` as seen from the current directory: joined to the directory
 * of `file` unless it is absolute. NULL when memory is short. */
static char *resolve_scenario(const char *file, const char *scenario)
{
    const char *slash = strrchr(file, '/');
    size_t dirlen = (scenario[0] == '/' || !slash) ? 0 : (size_t)(slash - file) + 1;
    size_t n = dirlen + strlen(scenario) + 1;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%.*s%s", (int)dirlen, file, scenario);
    return path;
}

/* Points the fields of `b` into `b->doc`, which passed validate(), and
 * takes `scenario_path` (may be NULL when memory was short). */
static int bind(reg_baseline *b, char *scenario_path)
{
    const json_t *sets = json_object_get(b->doc, "sets");
    b->scenario = json_string_value(json_object_get(b->doc, "scenario"));
    b->tolerances = json_object_get(b->doc, "tolerances");
    b->results = json_object_get(b->doc, "results");
    b->nsets = json_array_size(sets);
    b->sets = calloc(b->nsets + 1, sizeof *b->sets);
    b->scenario_path = scenario_path;
    if (!b->sets || !b->scenario_path)
        return SIM_ENOMEM;
    for (size_t i = 0; i < b->nsets; i++)
        b->sets[i] = json_string_value(json_array_get(sets, i));
    return 0;
}

int reg_baseline_read(const char *file, reg_baseline *b, char *err, size_t errlen)
{
    json_error_t jerr;
    memset(b, 0, sizeof *b);
    b->doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
    if (!b->doc) {
        if (json_error_code(&jerr) == json_error_cannot_open_file) {
            snprintf(err, errlen, "%s: cannot read: %s", file, strerror(errno));
            return SIM_EIO;
        }
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            snprintf(err, errlen, "%s: %s", file, sim_strerror(SIM_ENOMEM));
            return SIM_ENOMEM;
        }
        snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", file, jerr.line, jerr.column,
                 jerr.text);
        return SIM_EINVAL;
    }
    int rc = validate(b->doc, file, err, errlen);
    const char *scenario = json_string_value(json_object_get(b->doc, "scenario"));
    if (rc == 0 && (rc = bind(b, resolve_scenario(file, scenario))) != 0)
        snprintf(err, errlen, "%s: %s", file, sim_strerror(rc));
    if (rc == 0 && access(b->scenario_path, R_OK) != 0) {
        snprintf(err, errlen, "%s: scenario '%s' (%s): %s", file, b->scenario,
                 b->scenario_path, strerror(errno));
        rc = SIM_EIO;
    }
    if (rc != 0)
        reg_baseline_free(b);
    return rc;
}

/* ---- making and writing ------------------------------------------------ */

/* Number of path components in `p` ("/a/b" and "a/b/" have two). */
static size_t components(const char *p)
{
    size_t n = 0;
    while (*p) {
        p += strspn(p, "/");
        if (*p)
            n++;
        p += strcspn(p, "/");
    }
    return n;
}

/* The relative path from the directory `from` to `to`, both canonical
 * absolute paths; caller frees. NULL when memory is short. */
static char *relative_path(const char *from, const char *to)
{
    /* Skip the leading components both share. */
    for (;;) {
        from += strspn(from, "/");
        to += strspn(to, "/");
        size_t n = strcspn(from, "/");
        if (n == 0 || n != strcspn(to, "/") || strncmp(from, to, n))
            break;
        from += n;
        to += n;
    }
    size_t ups = components(from);
    char *rel = malloc(3 * ups + strlen(to) + 1);
    if (!rel)
        return NULL;
    char *p = rel;
    for (size_t i = 0; i < ups; i++, p += 3)
        memcpy(p, "../", 3);
    strcpy(p, to);
    return rel;
}

/* realpath() of `path` into *out; 0, or a status with a sentence in err
 * (realpath fails with ENOMEM when it cannot allocate the result). */
static int real_path(const char *path, char **out, char *err, size_t errlen)
{
    *out = realpath(path, NULL);
    if (*out)
        return 0;
    int e = errno;
    snprintf(err, errlen, "%s: %s", path, e == ENOMEM ? sim_strerror(SIM_ENOMEM) : strerror(e));
    return e == ENOMEM ? SIM_ENOMEM : SIM_EIO;
}

/* realpath() of dir and scenario, then the path between them into *rel
 * (caller frees). 0, or a status with a sentence in err. */
static int scenario_from_dir(const char *dir, const char *scenario, char **rel, char *err,
                             size_t errlen)
{
    char *d = NULL, *s = NULL;
    struct stat st;
    *rel = NULL;
    int rc = real_path(dir, &d, err, errlen);
    if (rc == 0)
        rc = real_path(scenario, &s, err, errlen);
    if (rc == 0 && (stat(s, &st) != 0 || !S_ISREG(st.st_mode))) {
        snprintf(err, errlen, "%s: not a regular file", scenario);
        rc = SIM_EIO;
    }
    if (rc == 0 && !(*rel = relative_path(d, s))) {
        snprintf(err, errlen, "%s", sim_strerror(SIM_ENOMEM));
        rc = SIM_ENOMEM;
    }
    free(d);
    free(s);
    return rc;
}

static json_t *string_array(const char *const *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_string(items[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int reg_baseline_init(reg_baseline *b, const char *dir, const char *scenario,
                      const char *const *sets, size_t nsets, json_t *results,
                      char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    char *rel;
    int rc = scenario_from_dir(dir, scenario, &rel, err, errlen);
    if (rc)
        return rc;
    json_t *doc = json_object();
    int bad = !doc || rep_set(doc, "schema", json_string(REG_SCHEMA)) ||
              rep_set(doc, "scenario", json_string(rel)) ||
              rep_set(doc, "sets", string_array(sets, nsets)) ||
              rep_set(doc, "tolerances", json_object()) ||
              rep_set(doc, "results", json_incref(results));
    /* The file will live in dir, so its scenario resolves against dir. */
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *path = bad ? NULL : malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", dir, rel);
    free(rel);
    b->doc = doc;
    /* bind() owns `path` from here on, whatever it returns. */
    if (bad || bind(b, path) != 0) {
        snprintf(err, errlen, "%s", sim_strerror(SIM_ENOMEM));
        reg_baseline_free(b);
        return SIM_ENOMEM;
    }
    return 0;
}

int reg_baseline_bless(reg_baseline *b, json_t *results)
{
    /* Setting an existing key keeps its place, so the file keeps its order. */
    if (json_object_set(b->doc, "results", results) != 0)
        return SIM_ENOMEM;
    b->results = results;
    return 0;
}

int reg_baseline_write(const char *file, const reg_baseline *b, char *err, size_t errlen)
{
    return rep_write_json(file, b->doc, err, errlen);
}

void reg_baseline_free(reg_baseline *b)
{
    json_decref(b->doc);
    free(b->sets);
    free(b->scenario_path);
    memset(b, 0, sizeof *b);
}

/* ---- comparing ---------------------------------------------------------- */

double reg_tolerance_of(const json_t *tolerances, const char *path)
{
    const char *pat;
    json_t *v;
    json_object_foreach((json_t *)tolerances, pat, v) {
        if (fnmatch(pat, path, 0) == 0)
            return json_number_value(v);
    }
    return -1;
}

/* The leaves of `doc` as rep_write_json would write them, without
 * "pvsim_version". New reference; NULL when memory is short. */
static json_t *flat_as_written(const json_t *doc)
{
    char *text = rep_dump(doc);
    json_t *copy = text ? json_loads(text, 0, NULL) : NULL;
    /* Jansson 2.14's parser drops a byte of a token it has no memory to
     * keep, and goes on: the copy must give back the very text it was
     * read from, or memory was short. */
    char *again = copy ? rep_dump(copy) : NULL;
    json_t *flat = again && !strcmp(again, text) ? rep_flatten(copy) : NULL;
    free(again);
    free(text);
    json_decref(copy);
    if (flat)
        json_object_del(flat, "pvsim_version");
    return flat;
}

/* Reals may move within `tol` (>= 0); everything else must be equal. */
static int same(const json_t *b, const json_t *c, double tol)
{
    if (!json_is_real(b) || !json_is_real(c) || tol < 0)
        return json_equal(b, c);
    double x = json_real_value(b), y = json_real_value(c);
    return fabs(y - x) <= tol * fabs(x);
}

static int add_diff(reg_result *r, reg_diff_kind kind, const char *path, json_t *base,
                    json_t *cur, double tol)
{
    if (r->ndiffs == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        reg_diff *d = realloc(r->diffs, cap * sizeof *d);
        if (!d)
            return SIM_ENOMEM;
        r->diffs = d;
        r->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return SIM_ENOMEM;
    r->diffs[r->ndiffs++] = (reg_diff){kind, copy, json_incref(base), json_incref(cur), tol};
    return 0;
}

/* Only reals have a tolerance; counts, strings and booleans are exact. */
static double tolerance_for(const json_t *tols, const char *path, const json_t *b,
                            const json_t *c)
{
    return (json_is_real(b) || json_is_real(c)) ? reg_tolerance_of(tols, path) : -1;
}

static int compare_flat(json_t *fb, json_t *fc, const json_t *tols, reg_result *out)
{
    const char *path;
    json_t *bv, *cv;
    int rc = 0;
    json_object_foreach(fb, path, bv) {
        cv = json_object_get(fc, path);
        double tol = tolerance_for(tols, path, bv, cv);
        if (!cv)
            rc = add_diff(out, REG_MISSING, path, bv, NULL, tol);
        else if (!same(bv, cv, tol))
            rc = add_diff(out, REG_CHANGED, path, bv, cv, tol);
        if (rc)
            return rc;
    }
    out->metrics = json_object_size(fb);
    json_object_foreach(fc, path, cv) {
        if (json_object_get(fb, path))
            continue;
        out->metrics++;
        if ((rc = add_diff(out, REG_NEW, path, NULL, cv, tolerance_for(tols, path, NULL, cv))))
            return rc;
    }
    return 0;
}

int reg_compare(const json_t *base, const json_t *cur, const json_t *tolerances,
                reg_result *out)
{
    memset(out, 0, sizeof *out);
    json_t *fb = flat_as_written(base), *fc = flat_as_written(cur);
    int rc = (fb && fc) ? compare_flat(fb, fc, tolerances, out) : SIM_ENOMEM;
    json_decref(fb);
    json_decref(fc);
    if (rc)
        reg_result_free(out);
    return rc;
}

void reg_result_free(reg_result *r)
{
    for (size_t i = 0; i < r->ndiffs; i++) {
        free(r->diffs[i].path);
        json_decref(r->diffs[i].base);
        json_decref(r->diffs[i].cur);
    }
    free(r->diffs);
    memset(r, 0, sizeof *r);
}
