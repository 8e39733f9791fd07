/*
 * sweep.c -- the plan of sweep.h: reading the `sweep:` block and --sweep
 * options, expanding ranges, and numbering the points.
 */
#include "sim/sweep.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/yamltree.h"

#define REL_EPS 1e-9                 /* bounds are inclusive to this */

const char *const swp_mode_names[] = {"grid", "zip", NULL};

static char *copy_text(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

static void param_free(swp_param *pr)
{
    for (size_t i = 0; pr->values && i < pr->nvalues; i++)
        free(pr->values[i]);
    free(pr->values);
    free(pr->marks);
    free(pr->path);
    *pr = (swp_param){0};
}

void swp_plan_free(swp_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nparams; i++)
        param_free(&p->params[i]);
    *p = (swp_plan){0};
}

/* Appends one value; `cap` is the room in values/marks. */
static int push_value(swp_param *pr, size_t *cap, const char *text, size_t len,
                      scn_mark mark)
{
    if (pr->nvalues == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **v = realloc(pr->values, ncap * sizeof *v);
        if (!v)
            return SIM_ENOMEM;
        pr->values = v;
        scn_mark *m = realloc(pr->marks, ncap * sizeof *m);
        if (!m)
            return SIM_ENOMEM;
        pr->marks = m;
        *cap = ncap;
    }
    char *c = copy_text(text, len);
    if (!c)
        return SIM_ENOMEM;
    pr->values[pr->nvalues] = c;
    pr->marks[pr->nvalues++] = mark;
    return 0;
}

/* Appends scalar `n` as the text a --set override parses back to the same
 * node: plain text as written, a quoted scalar double-quoted again (with
 * \\, \" and \xNN escapes), so "5" stays a string and "a # b" keeps its
 * hash. */
static int push_scalar(swp_param *pr, size_t *cap, const ytree_node *n)
{
    if (!n->quoted)
        return push_value(pr, cap, n->text, n->len, n->mark);
    char *q = malloc(4 * n->len + 3), *o = q;
    if (!q)
        return SIM_ENOMEM;
    *o++ = '"';
    for (size_t i = 0; i < n->len; i++) {
        unsigned char c = (unsigned char)n->text[i];
        if (c == '"' || c == '\\')
            o += sprintf(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            o += sprintf(o, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o++ = '"';
    int rc = push_value(pr, cap, q, (size_t)(o - q), n->mark);
    free(q);
    return rc;
}

/* ---- ranges --------------------------------------------------------------- */

typedef struct range {
    double from, to, step, factor;   /* one of step, factor is 0 */
    int timed;                       /* durations in ns rather than cycles */
} range;

/* Writes value `v` of the range as text the field binds exactly. */
static int format_range_value(const scn_field *f, const range *r, double v,
                              char *buf, size_t len)
{
    if (f->type == SCN_DOUBLE || r->timed) {
        snprintf(buf, len, "%.12g%s", v, r->timed ? "ns" : "");
        return 0;
    }
    double whole = nearbyint(v);
    if (fabs(v - whole) > REL_EPS * fmax(1.0, fabs(v)) || whole < 0 || whole > 9007199254740992.0)
        return -1;
    snprintf(buf, len, "%.0f", whole);
    return 0;
}

/* Reads bound `key` of range mapping `n` with the field's units. */
static bool range_number(const ytree_node *n, const char *key, const scn_field *f,
                         double *v, int *timed, const char *path, scn_errors *errs)
{
    const ytree_node *x = ytree_get(n, key, strlen(key), NULL);
    if (!x) {
        *v = 0;
        return true;
    }
    const scn_field plain = {.type = SCN_DOUBLE};
    const scn_field *as = strcmp(key, "factor") ? f : &plain;
    if (x->kind != YTREE_SCALAR || scn_parse_number(as, x->text, v, timed) != 0) {
        char shown[80];
        ytree_print_text(shown, sizeof shown, x->kind == YTREE_SCALAR ? x->text : "", x->kind == YTREE_SCALAR ? x->len : 0);
        scn_errors_add(errs, x->mark, "sweep.parameters.%s.%s: expected a number as the "
                       "parameter takes it, found '%s'", path, key, shown);
        return false;
    }
    return true;
}

/* Reads {from, to, step | factor}; false after reporting a mistake. */
static bool read_range(const ytree_node *n, const scn_field *f, const char *path,
                       range *r, scn_errors *errs)
{
    static const char *const keys[] = {"from", "to", "step", "factor"};
    for (size_t i = 0; i < n->nkids; i += 2) {
        const ytree_node *k = n->kids[i];
        bool known = false;
        for (size_t j = 0; j < 4; j++)
            known |= !strcmp(k->text, keys[j]);
        if (!known) {
            scn_errors_add(errs, k->mark, "sweep.parameters.%s: unknown key '%.40s' "
                           "(a range has from, to, and step or factor)", path, k->text);
            return false;
        }
    }
    int t_from = 0, t_to = 0, t_step = 0, t_factor = 0;
    if (!range_number(n, "from", f, &r->from, &t_from, path, errs) ||
        !range_number(n, "to", f, &r->to, &t_to, path, errs) ||
        !range_number(n, "step", f, &r->step, &t_step, path, errs) ||
        !range_number(n, "factor", f, &r->factor, &t_factor, path, errs))
        return false;
    bool has_step = ytree_get(n, "step", 4, NULL), has_factor = ytree_get(n, "factor", 6, NULL);
    const char *why = NULL;
    if (!ytree_get(n, "from", 4, NULL) || !ytree_get(n, "to", 2, NULL))
        why = "a range needs from and to";
    else if (has_step == has_factor)
        why = "a range needs either step or factor";
    else if (t_from != t_to || (has_step && t_step != t_from))
        why = "the bounds and step of a duration range must all be cycles or all time units";
    else if (r->to < r->from)
        why = "to must not be below from";
    else if (has_step && !(r->step > 0))
        why = "step must be above 0";
    else if (has_factor && (!(r->factor > 1) || !(r->from > 0)))
        why = "factor must be above 1, and from above 0";
    if (why) {
        scn_errors_add(errs, n->mark, "sweep.parameters.%s: %s", path, why);
        return false;
    }
    r->timed = t_from;
    return true;
}

/* Expands range node `n` into values of `pr`. */
static int expand_range(swp_param *pr, const ytree_node *n, const scn_field *f,
                        scn_errors *errs)
{
    range r = {0};
    size_t cap = 0;
    if (!read_range(n, f, pr->path, &r, errs))
        return SIM_ESCENARIO;
    double top = r.to + REL_EPS * fmax(fabs(r.to), fabs(r.step));
    double v = r.from;
    for (size_t i = 0; v <= top; i++) {
        char text[64];
        if (pr->nvalues == SWP_MAX_VALUES) {
            scn_errors_add(errs, n->mark, "sweep.parameters.%s: expected at most %d "
                           "values, found more", pr->path, SWP_MAX_VALUES);
            return SIM_ESCENARIO;
        }
        if (format_range_value(f, &r, v, text, sizeof text) != 0) {
            scn_errors_add(errs, n->mark, "sweep.parameters.%s: value %.12g is not a "
                           "whole number in the parameter's base unit", pr->path, v);
            return SIM_ESCENARIO;
        }
        int rc = push_value(pr, &cap, text, strlen(text), n->mark);
        if (rc)
            return rc;
        v = r.step > 0 ? r.from + (double)(i + 1) * r.step : v * r.factor;
    }
    return 0;
}

/* ---- parameters ------------------------------------------------------------ */

/* The path must name a value of the schema. */
static const scn_field *check_path(const scn_schema *root, const char *path,
                                   scn_mark mark, scn_errors *errs)
{
    const scn_field *f = scn_field_at(root, path);
    if (!f)
        scn_errors_add(errs, mark, "sweep: '%.200s' is not a scenario key that holds a "
                       "value (see pvsim reference)", path);
    return f;
}

/* A slot for `path`: the parameter with that path (emptied), or a new one. */
static swp_param *slot_for(swp_plan *p, const char *path, scn_mark mark, scn_errors *errs)
{
    for (size_t i = 0; i < p->nparams; i++) {
        if (!strcmp(p->params[i].path, path)) {
            param_free(&p->params[i]);
            return &p->params[i];
        }
    }
    if (p->nparams == SWP_MAX_PARAMS) {
        scn_errors_add(errs, mark, "sweep: expected at most %d parameters, found more",
                       SWP_MAX_PARAMS);
        return NULL;
    }
    return &p->params[p->nparams++];
}

static int read_values(swp_param *pr, const ytree_node *n, const scn_field *f,
                       scn_errors *errs)
{
    size_t cap = 0;
    if (n->kind == YTREE_MAP)
        return expand_range(pr, n, f, errs);
    if (n->kind == YTREE_SCALAR)
        return push_scalar(pr, &cap, n);
    if (n->nkids == 0 || n->nkids > SWP_MAX_VALUES) {
        scn_errors_add(errs, n->mark, "sweep.parameters.%s: expected 1 to %d values, "
                       "found %zu", pr->path, SWP_MAX_VALUES, n->nkids);
        return SIM_ESCENARIO;
    }
    for (size_t i = 0; i < n->nkids; i++) {
        const ytree_node *v = n->kids[i];
        if (v->kind != YTREE_SCALAR) {
            scn_errors_add(errs, v->mark, "sweep.parameters.%s: expected a value, found %s",
                           pr->path, v->kind == YTREE_MAP ? "a mapping" : "a list");
            return SIM_ESCENARIO;
        }
        int rc = push_scalar(pr, &cap, v);
        if (rc)
            return rc;
    }
    return 0;
}

/* One `path: values` entry of the parameters mapping. */
static int read_param(swp_plan *p, const scn_schema *root, const ytree_node *key,
                      const ytree_node *val, scn_errors *errs)
{
    const scn_field *f = check_path(root, key->text, key->mark, errs);
    if (!f)
        return SIM_ESCENARIO;
    swp_param *pr = slot_for(p, key->text, key->mark, errs);
    if (!pr)
        return SIM_ESCENARIO;
    pr->path = copy_text(key->text, key->len);
    pr->mark = key->mark;
    if (!pr->path)
        return SIM_ENOMEM;
    return read_values(pr, val, f, errs);
}

static int read_mode(swp_plan *p, const ytree_node *n, scn_errors *errs)
{
    for (int i = 0; n->kind == YTREE_SCALAR && swp_mode_names[i]; i++) {
        if (!strcmp(n->text, swp_mode_names[i])) {
            p->mode = (swp_mode)i;
            return 0;
        }
    }
    scn_errors_add(errs, n->mark, "sweep.mode: expected one of 'grid', 'zip', found %s",
                   n->kind == YTREE_SCALAR ? n->text : "a container");
    return SIM_ESCENARIO;
}

static int read_parameters(swp_plan *p, const scn_schema *root, const ytree_node *n,
                           scn_errors *errs)
{
    if (n->kind != YTREE_MAP) {
        scn_errors_add(errs, n->mark, "sweep.parameters: expected a mapping of scenario "
                       "paths to values, found %s", n->kind == YTREE_SEQ ? "a list" : "a scalar");
        return SIM_ESCENARIO;
    }
    int rc = 0;
    for (size_t i = 0; i + 1 < n->nkids && rc != SIM_ENOMEM; i += 2) {
        int r = read_param(p, root, n->kids[i], n->kids[i + 1], errs);
        rc = rc ? rc : r;
    }
    return rc;
}

int swp_plan_read(swp_plan *p, const scn_schema *root, const scn_doc *doc,
                  scn_errors *errs)
{
    const ytree_node *blk = scn_doc_block(doc, "sweep");
    int rc = 0;
    if (!blk)
        return 0;
    for (size_t i = 0; i + 1 < blk->nkids && rc != SIM_ENOMEM; i += 2) {
        const ytree_node *k = blk->kids[i], *v = blk->kids[i + 1];
        int r;
        if (!strcmp(k->text, "mode"))
            r = read_mode(p, v, errs);
        else if (!strcmp(k->text, "parameters"))
            r = read_parameters(p, root, v, errs);
        else {
            scn_errors_add(errs, k->mark, "sweep.%.40s: unknown key (a sweep has mode "
                           "and parameters)", k->text);
            r = SIM_ESCENARIO;
        }
        rc = rc ? rc : r;
    }
    return rc;
}

/* Whether an earlier --sweep option already gave `path`: two options for
 * one path are a mistake, where an option replacing the block's is not. */
static bool given_twice(const swp_plan *p, const char *path, scn_mark mark,
                        scn_errors *errs)
{
    for (size_t i = 0; i < p->nparams; i++) {
        const swp_param *pr = &p->params[i];
        if (strcmp(pr->path, path) || !pr->mark.file || strcmp(pr->mark.file, "--sweep"))
            continue;
        scn_errors_add(errs, mark, "sweep: '%.200s' is given by both --sweep:%d and "
                       "--sweep:%d: give each path once", path, pr->mark.col, mark.col);
        return true;
    }
    return false;
}

int swp_plan_add_option(swp_plan *p, const scn_schema *root, const char *opt,
                        int index, scn_errors *errs)
{
    scn_mark mark = {"--sweep", 0, index};
    const char *eq = strchr(opt, '=');
    if (!eq || eq == opt || !eq[1]) {
        scn_errors_add(errs, mark, "expected PATH=V1,V2,..., found '%.200s'", opt);
        return SIM_ESCENARIO;
    }
    char *path = copy_text(opt, (size_t)(eq - opt));
    if (!path)
        return SIM_ENOMEM;
    swp_param *pr = check_path(root, path, mark, errs) && !given_twice(p, path, mark, errs)
                        ? slot_for(p, path, mark, errs)
                        : NULL;
    if (!pr) {
        free(path);
        return SIM_ESCENARIO;
    }
    *pr = (swp_param){.path = path, .mark = mark};
    size_t cap = 0;
    for (const char *v = eq + 1;; v++) {
        size_t len = strcspn(v, ",");
        if (len == 0) {
            scn_errors_add(errs, mark, "%s: expected a value between commas, found none",
                           path);
            return SIM_ESCENARIO;
        }
        if (pr->nvalues == SWP_MAX_VALUES) {
            scn_errors_add(errs, mark, "%s: expected at most %d values", path,
                           SWP_MAX_VALUES);
            return SIM_ESCENARIO;
        }
        int rc = push_value(pr, &cap, v, len, mark);
        if (rc)
            return rc;
        v += len;
        if (!*v)
            return 0;
    }
}

int swp_plan_finish(swp_plan *p, scn_mark where, scn_errors *errs)
{
    if (p->nparams == 0) {
        scn_errors_add(errs, where, "a sweep needs at least one parameter: give a sweep: "
                       "block or --sweep PATH=V1,V2,...");
        return SIM_ESCENARIO;
    }
    size_t n = p->mode == SWP_ZIP ? p->params[0].nvalues : 1;
    for (size_t i = 0; i < p->nparams; i++) {
        const swp_param *pr = &p->params[i];
        if (p->mode == SWP_ZIP && pr->nvalues != n) {
            scn_errors_add(errs, pr->mark, "sweep: zip mode needs as many values for every "
                           "parameter: %s has %zu, %s has %zu", p->params[0].path, n,
                           pr->path, pr->nvalues);
            return SIM_ESCENARIO;
        }
        if (p->mode == SWP_GRID && n > SWP_MAX_POINTS / pr->nvalues) {
            scn_errors_add(errs, where, "sweep: expected at most %d points, found more",
                           SWP_MAX_POINTS);
            return SIM_ESCENARIO;
        }
        if (p->mode == SWP_GRID)
            n *= pr->nvalues;
    }
    p->npoints = n;
    return 0;
}

void swp_point_values(const swp_plan *p, size_t point, size_t *index)
{
    for (size_t k = p->nparams; k-- > 0;) {
        size_t n = p->params[k].nvalues;
        index[k] = p->mode == SWP_ZIP ? point : point % n;
        if (p->mode == SWP_GRID)
            point /= n;
    }
}
