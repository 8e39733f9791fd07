/*
 * replicate.c -- replication seeds, Student t intervals and the merge of
 * replicated results documents (replicate.h).
 *
 * Every reported number is computed with IEEE 754 +, -, *, / and sqrt,
 * which are correctly rounded, in a fixed order (C11 mode keeps the
 * compiler from contracting them into FMAs), so intervals are the same
 * bits on every machine; no libm function whose last digit may differ
 * between libraries is used.
 */
#include "sim/replicate.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/report.h"
#include "sim/rng.h"

/* ---- seeds ---------------------------------------------------------------- */

uint64_t rpl_seed(uint64_t seed, uint64_t r)
{
    if (r == 0)
        return seed;
    char name[48];
    snprintf(name, sizeof name, "replication/%llu", (unsigned long long)r);
    sim_rng g;
    sim_rng_seed(&g, seed, name);
    return sim_rng_next(&g) >> 1;
}

/* ---- Student t ------------------------------------------------------------ */

/* t(0.975, df) for df = 1 .. 30: NIST/SEMATECH e-Handbook of Statistical
 * Methods, 1.3.6.7.2 "Critical Values of the Student's t Distribution",
 * column 0.975 (the same digits as Biometrika Tables for Statisticians,
 * vol. 1, table 12). */
static const double t975_small[30] = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
};

/* The table's rows beyond 30 used here, from the same column; df 0 stands
 * for infinity (the normal quantile). */
static const struct {
    uint64_t df;
    double t;
} t975_far[] = {{30, 2.042}, {40, 2.021}, {60, 2.000}, {100, 1.984}, {0, 1.960}};

double rpl_t975(uint64_t df)
{
    if (df == 0)
        return 0.0;
    if (df <= 30)
        return t975_small[df - 1];
    /* Between rows a < df < b the quantile is nearly linear in 1/df (the
     * interpolation the tables themselves recommend); with b infinite,
     * 1/b is 0. Worst error against the exact quantile, df 31 to 1000:
     * 0.03%, the table's own rounding. */
    size_t i = 0;
    while (t975_far[i + 1].df && t975_far[i + 1].df < df)
        i++;
    double a = (double)t975_far[i].df, ta = t975_far[i].t, tb = t975_far[i + 1].t;
    double inv_b = t975_far[i + 1].df ? 1.0 / (double)t975_far[i + 1].df : 0.0;
    double d = (double)df;
    return tb + (ta - tb) * (1.0 / d - inv_b) / (1.0 / a - inv_b);
}

/* ---- intervals -------------------------------------------------------------- */

rpl_interval rpl_interval_of(const double *x, size_t n)
{
    rpl_interval ci = {x[0], x[0], x[0]};
    size_t equal = 1;
    while (equal < n && x[equal] == x[0])
        equal++;
    if (n < 2 || equal == n)
        return ci;
    double sum = 0.0, squares = 0.0, dn = (double)n;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    ci.mean = sum / dn;
    /* Two passes: the deviations from the mean, not sum(x^2) - n mean^2,
     * which cancels badly when the spread is small against the mean. */
    for (size_t i = 0; i < n; i++)
        squares += (x[i] - ci.mean) * (x[i] - ci.mean);
    double half = rpl_t975(n - 1) * sqrt(squares / ((dn - 1.0) * dn));
    ci.lower = ci.mean - half;
    ci.upper = ci.mean + half;
    return ci;
}

/* ---- merging ------------------------------------------------------------------ */

typedef struct merger {
    size_t n;
    const char *const *ci_keys;
    size_t nkeys;
} merger;

static int all_of_type(json_t *const *v, size_t n, json_type type)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i] || json_typeof(v[i]) != type)
            return 0;
    return 1;
}

static int all_numbers(json_t *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!json_is_number(v[i]))
            return 0;
    return 1;
}

static int has_ci(const merger *m, const char *key)
{
    for (size_t i = 0; i < m->nkeys; i++)
        if (fnmatch(m->ci_keys[i], key, 0) == 0)
            return 1;
    return 0;
}

/* The numbers v[0..n) as doubles into `x`. */
static void numbers(json_t *const *v, size_t n, double *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = json_number_value(v[i]);
}

/* The children at `key` (objects) or index `at` (arrays) of every v[i],
 * into kids; NULL where one lacks it. */
static void children(json_t *const *v, size_t n, const char *key, size_t at, json_t **kids)
{
    for (size_t i = 0; i < n; i++)
        kids[i] = key ? json_object_get(v[i], key) : json_array_get(v[i], at);
}

static json_t *merge_value(const merger *m, json_t *const *v);

/* v[0] when every v[i] equals it, else the mean as a real. */
static json_t *merge_number(const merger *m, json_t *const *v)
{
    size_t i = 1;
    while (i < m->n && json_equal(v[0], v[i]))
        i++;
    if (i == m->n)
        return json_deep_copy(v[0]);
    double *x = malloc(m->n * sizeof *x);
    if (!x)
        return NULL;
    numbers(v, m->n, x);
    json_t *mean = json_real(rpl_interval_of(x, m->n).mean);
    free(x);
    return mean;
}

/* {"lower", "upper"} of numbers, or an object of the bounds of each key
 * below objects; *out NULL when nothing below has a number everywhere.
 * -1 when memory is short. */
static int interval_json(const merger *m, json_t *const *v, json_t **out);

static int number_interval(const merger *m, json_t *const *v, json_t **out)
{
    double *x = malloc(m->n * sizeof *x);
    if (!x)
        return -1;
    numbers(v, m->n, x);
    rpl_interval ci = rpl_interval_of(x, m->n);
    free(x);
    *out = json_pack("{s:f, s:f}", "lower", ci.lower, "upper", ci.upper);
    return *out ? 0 : -1;
}

static int object_interval(const merger *m, json_t *const *v, json_t **out)
{
    json_t **kids = malloc(m->n * sizeof *kids), *o = json_object(), *kid0;
    const char *key;
    int rc = kids && o ? 0 : -1;
    if (rc == 0) {
        json_object_foreach(v[0], key, kid0) {
            json_t *ci = NULL;
            children(v, m->n, key, 0, kids);
            rc = interval_json(m, kids, &ci);
            if (rc == 0 && ci && json_object_set_new(o, key, ci))
                rc = -1;
            if (rc)
                break;
        }
    }
    free(kids);
    if (rc || json_object_size(o) == 0) {
        json_decref(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

static int interval_json(const merger *m, json_t *const *v, json_t **out)
{
    *out = NULL;
    if (all_numbers(v, m->n))
        return number_interval(m, v, out);
    if (all_of_type(v, m->n, JSON_OBJECT))
        return object_interval(m, v, out);
    return 0;
}

/* out["<key>_ci95"] = ci, taking the reference; -1 when memory is short. */
static int set_interval(json_t *out, const char *key, json_t *ci)
{
    size_t len = strlen(key) + sizeof RPL_CI_SUFFIX;
    char *name = malloc(len);
    if (!name) {
        json_decref(ci);
        return -1;
    }
    snprintf(name, len, "%s%s", key, RPL_CI_SUFFIX);
    int rc = rep_set(out, name, ci);
    free(name);
    return rc;
}

/* Merges the values at `key` into `out`, then its interval if `key` is
 * one of the merger's; -1 when memory is short. */
static int merge_member(const merger *m, json_t *const *v, const char *key, json_t *kid0,
                        json_t **kids, json_t *out)
{
    children(v, m->n, key, 0, kids);
    size_t i = 0;
    while (i < m->n && kids[i])
        i++;
    int everywhere = i == m->n;
    if (rep_set(out, key, everywhere ? merge_value(m, kids) : json_deep_copy(kid0)))
        return -1;
    if (!everywhere || m->n < 2 || !has_ci(m, key))
        return 0;
    json_t *ci = NULL;
    if (interval_json(m, kids, &ci))
        return -1;
    return ci ? set_interval(out, key, ci) : 0;
}

static json_t *merge_object(const merger *m, json_t *const *v)
{
    json_t **kids = malloc(m->n * sizeof *kids), *out = json_object(), *kid0;
    const char *key;
    int rc = kids && out ? 0 : -1;
    if (rc == 0) {
        json_object_foreach(v[0], key, kid0) {
            rc = merge_member(m, v, key, kid0, kids, out);
            if (rc)
                break;
        }
    }
    free(kids);
    if (rc) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *merge_array(const merger *m, json_t *const *v)
{
    size_t len = json_array_size(v[0]);
    for (size_t i = 1; i < m->n; i++)
        if (json_array_size(v[i]) != len)
            return json_deep_copy(v[0]);
    json_t **kids = malloc(m->n * sizeof *kids), *out = json_array();
    int rc = kids && out ? 0 : -1;
    for (size_t at = 0; rc == 0 && at < len; at++) {
        children(v, m->n, NULL, at, kids);
        json_t *merged = merge_value(m, kids);
        rc = merged ? json_array_append_new(out, merged) : -1;
    }
    free(kids);
    if (rc) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *merge_value(const merger *m, json_t *const *v)
{
    if (all_numbers(v, m->n))
        return merge_number(m, v);
    if (all_of_type(v, m->n, JSON_OBJECT))
        return merge_object(m, v);
    if (all_of_type(v, m->n, JSON_ARRAY))
        return merge_array(m, v);
    return json_deep_copy(v[0]);
}

json_t *rpl_merge(json_t *const *docs, size_t n, const char *const *ci_keys, size_t nkeys)
{
    merger m = {n, ci_keys, nkeys};
    return merge_value(&m, docs);
}

/* ---- bounds as columns ----------------------------------------------------------- */

/* For a flattened key ending in ".lower" or ".upper" below a segment
 * ending in "_ci95": the key without that suffix into `out` and 1; else
 * 0. "a.lat_ci95.p99.lower" -> "a.lat.p99.lower". */
static int bound_name(const char *key, char *out, size_t len)
{
    const char *last = strrchr(key, '.');
    if (!last || (strcmp(last, ".lower") && strcmp(last, ".upper")))
        return 0;
    size_t suffix = sizeof RPL_CI_SUFFIX - 1;
    for (const char *p = key; p + suffix <= last; p++) {
        if (memcmp(p, RPL_CI_SUFFIX, suffix) || (p[suffix] != '.'))
            continue;
        int n = snprintf(out, len, "%.*s%s", (int)(p - key), key, p + suffix);
        return n >= 0 && (size_t)n < len;
    }
    return 0;
}

/* Whether bound `name` ("m.lower") has its metric ("m") in `flat`. */
static int metric_present(const json_t *flat, const char *name)
{
    char metric[1024];
    size_t n = (size_t)(strrchr(name, '.') - name);
    if (n >= sizeof metric)
        return 0;
    memcpy(metric, name, n);
    metric[n] = '\0';
    return json_object_get(flat, metric) != NULL;
}

/* `key`'s bounds from `bounds` into `out`, after it. */
static int add_bounds(json_t *out, const json_t *bounds, const char *key)
{
    static const char *const sides[] = {".lower", ".upper"};
    char name[1100];
    int rc = 0;
    for (size_t s = 0; s < 2; s++) {
        snprintf(name, sizeof name, "%s%s", key, sides[s]);
        json_t *v = json_object_get(bounds, name);
        if (v)
            rc |= json_object_set(out, name, v);
    }
    return rc;
}

json_t *rpl_bounds_beside(const json_t *flat)
{
    json_t *bounds = json_object(), *out = json_object(), *v;
    const char *key;
    char name[1024];
    int rc = bounds && out ? 0 : -1;
    if (rc == 0) {
        json_object_foreach((json_t *)flat, key, v)
            if (bound_name(key, name, sizeof name))
                rc |= json_object_set(bounds, name, v);
    }
    if (rc == 0) {
        json_object_foreach((json_t *)flat, key, v) {
            if (!bound_name(key, name, sizeof name))
                rc |= json_object_set(out, key, v) | add_bounds(out, bounds, key);
            else if (!metric_present(flat, name))
                rc |= json_object_set(out, name, v);
        }
    }
    json_decref(bounds);
    if (rc) {
        json_decref(out);
        return NULL;
    }
    return out;
}
