/*
 * validate.c -- reading and judging validation cases (validate.h).
 */
#include "sim/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/error.h"
#include "sim/nearest.h"
#include "sim/report.h"
#include "sim/yamltree.h"

static const char *const kind_names[] = {"consistency", "prediction", NULL};
static const char *const unit_names[] = {"cycles", "ns", "count", NULL};
static const char *const keys[] = {"figure", "source", "kind", "published", "unit", "metric",
                                   "primitives", "tolerance", "recorded_error", NULL};

const char *val_unit_name(int unit)
{
    return unit_names[unit];
}

const char *val_status_name(int status)
{
    static const char *const names[] = {"ok", "FAILED", "hit", "missed", "WORSE",
                                        "unrecorded"};
    return names[status];
}

int val_status_fails(int status)
{
    return status == VAL_FAILED || status == VAL_WORSE || status == VAL_UNRECORDED;
}

void val_case_free(val_case *c)
{
    free(c->figure);
    free(c->source);
    free(c->metric);
    for (size_t i = 0; i < c->nprimitives; i++)
        free(c->primitives[i]);
    memset(c, 0, sizeof *c);
}

/* ---- reading ----------------------------------------------------------------- */

static const char *what(const ytree_node *n)
{
    return n->kind == YTREE_MAP ? "a mapping" : n->kind == YTREE_SEQ ? "a list" : "a scalar";
}

static int bad(scn_errors *errs, const ytree_node *n, const char *key, const char *expected)
{
    char shown[64];
    if (n->kind == YTREE_SCALAR)
        ytree_print_text(shown, sizeof shown, n->text, n->len);
    scn_errors_add(errs, n->mark, "validate.%s: expected %s, found %s%s%s", key, expected,
                   n->kind == YTREE_SCALAR ? "'" : "",
                   n->kind == YTREE_SCALAR ? shown : what(n),
                   n->kind == YTREE_SCALAR ? "'" : "");
    return SIM_ESCENARIO;
}

static int read_text(const ytree_node *n, const char *key, char **out, scn_errors *errs)
{
    if (n->kind != YTREE_SCALAR || n->len == 0 || strlen(n->text) != n->len)
        return bad(errs, n, key, "some text");
    *out = strdup(n->text);
    return *out ? 0 : SIM_ENOMEM;
}

static int read_number(const ytree_node *n, const char *key, double *out, scn_errors *errs)
{
    char *end;
    if (n->kind == YTREE_SCALAR && !n->quoted && n->len > 0) {
        *out = strtod(n->text, &end);
        if (*end == '\0' && isfinite(*out))
            return 0;
    }
    return bad(errs, n, key, "a number");
}

static int read_name(const ytree_node *n, const char *key, const char *const *names, int *out,
                     scn_errors *errs)
{
    for (int i = 0; n->kind == YTREE_SCALAR && names[i]; i++) {
        if (!strcmp(n->text, names[i])) {
            *out = i;
            return 0;
        }
    }
    return bad(errs, n, key, names == kind_names ? "consistency or prediction"
                                                 : "cycles, ns or count");
}

static int read_primitives(const ytree_node *n, val_case *c, scn_errors *errs)
{
    if (n->kind != YTREE_SEQ || n->nkids == 0 || n->nkids > VAL_MAX_PRIMITIVES)
        return bad(errs, n, "primitives", "a list of 1 to 16 primitive names");
    for (size_t i = 0; i < n->nkids; i++) {
        int rc = read_text(n->kids[i], "primitives", &c->primitives[c->nprimitives], errs);
        if (rc)
            return rc;
        c->nprimitives++;
    }
    return 0;
}

/* "did you mean" for an unknown key. */
static const char *nearest_key(const char *key, size_t len)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (int i = 0; keys[i]; i++) {
        size_t d = near_distance(key, len, keys[i], strlen(keys[i]));
        if (d < best_d) {
            best_d = d;
            best = keys[i];
        }
    }
    return best;
}

static int read_field(val_case *c, const ytree_node *k, const ytree_node *v, scn_errors *errs)
{
    const char *key = k->text;
    if (!strcmp(key, "figure"))
        return read_text(v, key, &c->figure, errs);
    if (!strcmp(key, "source"))
        return read_text(v, key, &c->source, errs);
    if (!strcmp(key, "metric"))
        return read_text(v, key, &c->metric, errs);
    if (!strcmp(key, "kind"))
        return read_name(v, key, kind_names, &c->kind, errs);
    if (!strcmp(key, "unit"))
        return read_name(v, key, unit_names, &c->unit, errs);
    if (!strcmp(key, "published"))
        return read_number(v, key, &c->published, errs);
    if (!strcmp(key, "tolerance"))
        return read_number(v, key, &c->tolerance, errs);
    if (!strcmp(key, "recorded_error")) {
        c->has_recorded = 1;
        return read_number(v, key, &c->recorded_error, errs);
    }
    if (!strcmp(key, "primitives"))
        return read_primitives(v, c, errs);
    const char *near = nearest_key(key, k->len);
    char shown[64];
    ytree_print_text(shown, sizeof shown, key, k->len);
    scn_errors_add(errs, k->mark, "validate.%s: unknown key%s%s%s", shown,
                   near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    return SIM_ESCENARIO;
}

/* The rules between fields, once each was read. */
static int check_case(const val_case *c, const ytree_node *blk, scn_errors *errs)
{
    static const char *const required[] = {"figure", "source", "kind", "published", "unit",
                                           "metric", "primitives", "tolerance", NULL};
    int rc = 0;
    for (int i = 0; required[i]; i++) {
        if (ytree_get(blk, required[i], strlen(required[i]), NULL))
            continue;
        scn_errors_add(errs, blk->mark, "validate.%s: expected a value, found none",
                       required[i]);
        rc = SIM_ESCENARIO;
    }
    const ytree_node *n;
    if ((n = ytree_get(blk, "published", 9, NULL)) && c->published <= 0)
        rc = bad(errs, n, "published", "a positive number");
    if ((n = ytree_get(blk, "tolerance", 9, NULL)) && c->tolerance < 0)
        rc = bad(errs, n, "tolerance", "a relative error of 0 or more");
    if ((n = ytree_get(blk, "recorded_error", 14, NULL)) && c->kind != VAL_PREDICTION)
        rc = bad(errs, n, "recorded_error", "none in a consistency check (only a "
                 "prediction records its error)");
    return rc;
}

int val_case_read(val_case *c, const scn_doc *doc, scn_errors *errs)
{
    memset(c, 0, sizeof *c);
    const ytree_node *blk = scn_doc_block(doc, "validate");
    if (!blk) {
        scn_errors_add(errs, scn_mark_of(doc, "name"),
                       "validate: expected a validation block in a case, found none");
        return SIM_ESCENARIO;
    }
    int rc = 0;
    for (size_t i = 0; i + 1 < blk->nkids && rc != SIM_ENOMEM; i += 2) {
        int r = read_field(c, blk->kids[i], blk->kids[i + 1], errs);
        rc = rc ? rc : r;
    }
    if (rc == 0)
        rc = check_case(c, blk, errs);
    return rc;
}

/* ---- judging ------------------------------------------------------------------- */

static int predicted_sum(const val_case *c, const json_t *results, double *out, char *err,
                         size_t errlen)
{
    const json_t *costs = json_object_get(results, "costs_cycles");
    double sum = 0;
    for (size_t i = 0; i < c->nprimitives; i++) {
        const json_t *v = json_object_get(costs, c->primitives[i]);
        if (!json_is_integer(v)) {
            snprintf(err, errlen, "primitive %s has no figure in the results",
                     c->primitives[i]);
            return SIM_ENOTFOUND;
        }
        sum += (double)json_integer_value(v);
    }
    if (c->unit == VAL_NS)
        sum *= 1e9 / json_number_value(json_object_get(results, "clock_hz"));
    *out = sum;
    return 0;
}

static int predicted(const val_case *c, const json_t *results, double *out, char *err,
                     size_t errlen)
{
    if (!strcmp(c->metric, "sum"))
        return predicted_sum(c, results, out, err, errlen);
    const json_t *v = rep_get(json_array_get(json_object_get(results, "variants"), 0), c->metric);
    if (!json_is_number(v)) {
        snprintf(err, errlen, "metric %s is not a number in the results", c->metric);
        return SIM_ENOTFOUND;
    }
    *out = json_number_value(v);
    return 0;
}

/* Errors within 10 parts in a million of each other are taken as equal,
 * so a recorded error written with 6 significant figures (as `pvsim
 * validate` prints it) compares as itself. */
static int worse(double error, double recorded)
{
    return fabs(error) > fabs(recorded) * (1 + 1e-5) + 1e-9;
}

int val_judge(const val_case *c, const json_t *results, val_outcome *out, char *err,
              size_t errlen)
{
    int rc = predicted(c, results, &out->predicted, err, errlen);
    if (rc)
        return rc;
    out->error = (out->predicted - c->published) / c->published;
    int within = fabs(out->error) <= c->tolerance;
    if (c->kind == VAL_CONSISTENCY)
        out->status = within ? VAL_OK : VAL_FAILED;
    else if (!c->has_recorded)
        out->status = VAL_UNRECORDED;
    else if (worse(out->error, c->recorded_error))
        out->status = VAL_WORSE;
    else
        out->status = within ? VAL_HIT : VAL_MISSED;
    return 0;
}
