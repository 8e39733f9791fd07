/*
 * scenario_set.c -- dotted paths for the scenario loader: the `--set
 * PATH=VALUE` overrides applied to the parsed tree (step 2 of scn_load()),
 * and scn_field_at() and scn_lookup() of scenario.h, which follow a path
 * down a schema and a bound config.
 *
 * A path is "a.b.0.c" or "a.b[0].c"; scni_split_path() cuts it into
 * segments, here and for scn_mark_of() (scenario_int.h). An override's
 * value is parsed as YAML and put into the tree before binding, creating
 * the mappings and lists on its way, so the binder checks it exactly like
 * the file's own values; the override's own errors (a malformed path, a
 * scalar in the way, an index past the end) carry its mark.
 */
#include "sim/scenario.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_int.h"
#include "sim/yamltree.h"

#define SET_FILE "--set"

/* ---- --set overrides -------------------------------------------------------- */

/* Splits "a.b.0.c" or "a.b[0].c" into at most `max` segments. Returns the
 * count, or -1 when the path is malformed (empty segment, bad brackets). */
int scni_split_path(const char *p, size_t len, scni_seg *segs, int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        if (n == max)
            return -1;
        if (p[i] == '[') {
            for (j = i + 1; j < len && p[j] >= '0' && p[j] <= '9'; j++)
                ;
            if (j == i + 1 || j == len || p[j] != ']')
                return -1;
            segs[n++] = (scni_seg){p + i + 1, j - i - 1};
            i = j + 1;
        } else {
            while (j < len && p[j] != '.' && p[j] != '[')
                j++;
            if (j == i)
                return -1;
            segs[n++] = (scni_seg){p + i, j - i};
            i = j;
        }
        if (i == len)
            break;
        if (p[i] == '.' && ++i == len)
            return -1;      /* a trailing dot */
        else if (p[i - 1] != '.' && p[i] != '[')
            return -1;      /* "a[0]b" */
    }
    return len ? n : -1;
}

/* A list index of at most 9 digits, or -1. */
long scni_seg_index(const scni_seg *sg)
{
    if (sg->len == 0 || sg->len > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < sg->len; i++) {
        if (sg->s[i] < '0' || sg->s[i] > '9')
            return -1;
        v = v * 10 + (sg->s[i] - '0');
    }
    return v;
}

/* "a.b.0" from the first `n` segments, for messages ("top level" if none). */
static void join_path(const scni_seg *segs, int n, char *buf, size_t len)
{
    size_t used = 0;
    snprintf(buf, len, "%s", n ? "" : "top level");
    for (int i = 0; i < n && used + 2 < len; i++) {
        if (i)
            buf[used++] = '.';
        ytree_print_text(buf + used, len - used, segs[i].s, segs[i].len);
        used += strlen(buf + used);
    }
}

typedef struct setter {
    ytree_errs *errs;
    scn_mark mark;              /* {"--set", 0, index} */
    const scni_seg *segs;
    int nsegs;
} setter;

/* Finds the slot of segment k under `cur`: *slot = the child's place, or
 * NULL when it is to be appended. Returns false after reporting why it
 * cannot be there (a scalar in the way, a bad index). */
static bool find_slot(const setter *st, ytree_node *cur, int k,
                      ytree_node ***slot)
{
    char path[256], found[96];
    const scni_seg *sg = &st->segs[k];
    size_t at;
    join_path(st->segs, k, path, sizeof path);
    *slot = NULL;
    if (cur->kind == YTREE_MAP) {
        if (ytree_get(cur, sg->s, sg->len, &at))
            *slot = &cur->kids[at];
        return true;
    }
    if (cur->kind == YTREE_SCALAR) {
        scni_found_kind(cur, found, sizeof found);
        ytree_err(st->errs, st->mark, "%s: expected a mapping or a list, found %s",
                  path, found);
        return false;
    }
    long i = scni_seg_index(sg);
    if (i < 0 || (size_t)i > cur->nkids) {
        ytree_print_text(found, sizeof found, sg->s, sg->len);
        ytree_err(st->errs, st->mark,
                  "%s: expected a list index from 0 to %zu, found '%s'", path,
                  cur->nkids, found);
        return false;
    }
    if ((size_t)i < cur->nkids)
        *slot = &cur->kids[i];
    return true;
}

/* Appends `node` (owned on success) to `cur` under segment `sg`. */
static int add_child(const setter *st, ytree_node *cur, const scni_seg *sg,
                     ytree_node *node)
{
    if (cur->kind == YTREE_SEQ)
        return ytree_append(cur, node);
    ytree_node *key = ytree_new_scalar(st->mark, sg->s, sg->len, false);
    if (!key || ytree_append(cur, key) != 0) {
        ytree_free(key);
        return SIM_ENOMEM;
    }
    if (ytree_append(cur, node) != 0) {
        cur->nkids--;       /* keep the mapping's pairs whole */
        ytree_free(key);
        return SIM_ENOMEM;
    }
    return 0;
}

/* A null scalar on the way ("costs:" with nothing) becomes the container
 * the next segment needs, so overrides can fill in an empty section. */
static void promote_null(ytree_node *n, const scni_seg *next)
{
    if (!scni_is_null(n))
        return;
    free(n->text);
    n->text = NULL;
    n->len = 0;
    n->kind = scni_seg_index(next) >= 0 ? YTREE_SEQ : YTREE_MAP;
}

/* Puts `value` (owned) at the setter's path under `root`, creating the
 * containers on the way. Returns 0 (possibly after reporting an error, then
 * `value` is freed) or SIM_ENOMEM. */
static int place(const setter *st, ytree_node *root, ytree_node *value)
{
    ytree_node *cur = root;
    for (int k = 0; k < st->nsegs; k++) {
        ytree_node **slot;
        bool last = k == st->nsegs - 1;
        promote_null(cur, &st->segs[k]);
        if (!find_slot(st, cur, k, &slot)) {
            ytree_free(value);
            return 0;
        }
        if (last && slot) {
            ytree_free(*slot);
            *slot = value;
            return 0;
        }
        if (slot) {
            cur = *slot;
            continue;
        }
        ytree_node *child = last ? value
            : ytree_new(scni_seg_index(&st->segs[k + 1]) >= 0 ? YTREE_SEQ
                                                              : YTREE_MAP,
                        st->mark);
        if (!child || add_child(st, cur, &st->segs[k], child) != 0) {
            if (child != value)
                ytree_free(child);
            ytree_free(value);
            return SIM_ENOMEM;
        }
        cur = child;
    }
    return 0;
}

/* Parses the value text of an override as YAML; *out gets the node (an empty
 * scalar for empty text), marked with the override's mark. Returns 0,
 * SIM_ESCENARIO (reported) or SIM_ENOMEM. */
static int parse_set_value(const setter *st, const char *text, ytree_node **out)
{
    ytree_errs local = {0};
    char path[256];
    int rc = ytree_parse(SET_FILE, text, strlen(text), out, &local);
    join_path(st->segs, st->nsegs, path, sizeof path);
    for (size_t i = 0; i < local.n; i++)
        ytree_err(st->errs, st->mark, "%s: %s", path, local.v[i].message);
    ytree_errs_free(&local);
    if (rc == 0 && !*out)
        *out = ytree_new_scalar(st->mark, "", 0, false);
    if (rc == 0 && !*out)
        rc = SIM_ENOMEM;
    if (rc == 0)
        ytree_set_mark(*out, st->mark);
    return rc;
}

/* Applies override `i` ("path=value") to the tree. Returns 0 (errors
 * reported) or SIM_ENOMEM. */
int scni_apply_set(ytree_node *root, const scn_source *src, size_t i,
                   ytree_errs *errs)
{
    scni_seg segs[YTREE_MAX_DEPTH];
    const char *set = src->sets[i];
    scn_mark mark = src->set_marks ? src->set_marks[i]
                                   : (scn_mark){SET_FILE, 0, (int)i + 1};
    setter st = {errs, mark, segs, 0};
    const char *eq = strchr(set, '=');
    char shown[SCNI_SHOWN_TEXT];
    ytree_print_text(shown, sizeof shown, set, strlen(set));
    if (!eq || eq == set) {
        ytree_err(errs, st.mark, "expected path=value, found '%s'", shown);
        return 0;
    }
    st.nsegs = scni_split_path(set, (size_t)(eq - set), segs, YTREE_MAX_DEPTH);
    if (st.nsegs < 0) {
        ytree_err(errs, st.mark, "expected a path such as a.b.0.c or a.b[0].c "
                  "(at most %d parts), found '%s'", YTREE_MAX_DEPTH, shown);
        return 0;
    }
    ytree_node *value = NULL;
    int rc = parse_set_value(&st, eq + 1, &value);
    if (rc)
        return rc == SIM_ENOMEM ? rc : 0;
    return place(&st, root, value);
}

/* ---- paths into a bound config ---------------------------------------------- */

/* Walks `path` down `root`; with `cfg` (may be NULL) also down the bound
 * struct, checking list indices against the bound counts. Returns the
 * scalar field reached, with its address in *value when cfg is given. */
static const scn_field *walk_path(const scn_schema *root, const char *cfg,
                                  const char *path, const void **value)
{
    scni_seg segs[YTREE_MAX_DEPTH * 2];
    int n = scni_split_path(path, strlen(path), segs, YTREE_MAX_DEPTH * 2);
    const scn_schema *s = root;
    const char *base = cfg;
    for (int k = 0; k < n; k++) {
        const scn_field *f = scni_schema_find(s, segs[k].s, segs[k].len);
        if (!f || f->type == SCN_BLOCK)
            return NULL;
        if (f->type == SCN_LIST) {
            long i = ++k < n ? scni_seg_index(&segs[k]) : -1;
            if (i < 0)
                return NULL;
            if (base) {
                char *items;
                size_t count;
                scni_list_of(f, base, &items, &count);
                if ((size_t)i >= count)
                    return NULL;
                base = items + (size_t)i * f->sub->size;
            }
            s = f->sub;
        } else if (f->type == SCN_STRUCT) {
            base = base ? base + f->offset : NULL;
            s = f->sub;
        } else {
            if (k != n - 1)
                return NULL;
            if (value)
                *value = base ? base + f->offset : NULL;
            return f;
        }
    }
    return NULL;
}

const scn_field *scn_field_at(const scn_schema *root, const char *path)
{
    return walk_path(root, NULL, path, NULL);
}

int scn_lookup(const scn_schema *root, const void *cfg, const char *path,
               const scn_field **field, const void **value)
{
    const scn_field *f = walk_path(root, cfg, path, value);
    if (!f || !cfg)
        return SIM_ENOTFOUND;
    *field = f;
    return 0;
}
