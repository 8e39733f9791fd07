/*
 * scenario.c -- the generic scenario loader of scenario.h: loading and
 * binding.
 *
 * scn_load() runs in four steps, each feeding one list of errors:
 *   1. read the file (or take the caller's text) and build a yamltree;
 *   2. apply the --set overrides to the tree, creating nodes as needed
 *      (scenario_set.c);
 *   3. bind the tree onto the caller's struct by schema: the root's clock
 *      first (durations in time units need it), then every field in schema
 *      order, then the keys the schema does not know;
 *   4. sort the errors into document order and hand the first
 *      SCN_MAX_ERRORS to the caller.
 * Binding goes on after an error, so one run reports every mistake it can,
 * and everything it allocated stays reachable from the caller's struct, so
 * scn_free() releases it whatever the outcome. Numbers, units and ranges
 * are read and written by scenario_units.c; the reference and the
 * canonical text are written by scenario_ref.c (scenario_int.h).
 *
 * Marks: file nodes carry {path, line, col}; --set nodes carry
 * {"--set", 0, i} with i the 1-based index of the override; defaults carry
 * {"<default>", 0, 0}. scn_error_format() renders them as
 *     path:line:col: error: msg     --set:i: error: msg     <default>: error: msg
 * Mark file names are never owned by the doc: they point at the caller's
 * src->path or at static strings, so errors outlive scn_doc_free().
 *
 * No global mutable state: everything lives in the binder of one call.
 */
#include "sim/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/nearest.h"
#include "sim/scenario_int.h"
#include "sim/yamltree.h"

#define DEFAULT_FILE "<default>"
#define TEXT_FILE "<text>"

struct scn_doc {
    ytree_node *root;           /* owned */
    const char *file;           /* the caller's src->path, or static */
};

typedef enum clock_state {
    CLOCK_NONE,                 /* no clock field, or a zero clock */
    CLOCK_BAD,                  /* the clock itself was in error */
    CLOCK_OK
} clock_state;

typedef struct binder {
    ytree_errs *errs;
    clock_state clock;
    uint64_t clock_hz;
    int rc;                     /* SIM_ENOMEM once an allocation failed */
    size_t plen;
    char path[256];             /* dotted key path of the field in hand */
} binder;

/* ---- errors ------------------------------------------------------------- */

/* Stores the error, or counts it in `dropped` once SCN_MAX_ERRORS are kept.
 * Never fails. */
void scn_errors_add(scn_errors *errs, scn_mark mark, const char *fmt, ...)
{
    if (errs->count == SCN_MAX_ERRORS) {
        errs->dropped++;
        return;
    }
    scn_error *e = &errs->items[errs->count++];
    e->mark = mark;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void scn_errors_at(scn_errors *errs, const scn_doc *doc, const char *path, const char *fmt,
                   ...)
{
    char msg[sizeof errs->items[0].message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scn_errors_add(errs, scn_mark_of(doc, path), "%s: %s", path, msg);
}

/* "file:line:col: error: msg"; a mark with line 0 but a column (an
 * override's index) gives "file:col: error: msg", one with neither gives
 * "file: error: msg". Truncates to `len`. */
void scn_error_format(const scn_error *e, char *buf, size_t len)
{
    const char *file = e->mark.file ? e->mark.file : "<unknown>";
    if (e->mark.line > 0)
        snprintf(buf, len, "%s:%d:%d: error: %s", file, e->mark.line,
                 e->mark.col, e->message);
    else if (e->mark.col > 0)
        snprintf(buf, len, "%s:%d: error: %s", file, e->mark.col, e->message);
    else
        snprintf(buf, len, "%s: error: %s", file, e->message);
}

/* Sort key groups: whole-file and default errors, then the file in order,
 * then the overrides in order. */
static int mark_group(const scn_mark *m)
{
    if (m->line > 0)
        return 1;
    return m->col > 0 ? 2 : 0;
}

static int cmp_error_ref(const void *pa, const void *pb)
{
    const scn_error *a = *(const scn_error *const *)pa;
    const scn_error *b = *(const scn_error *const *)pb;
    int ka[3] = {mark_group(&a->mark), a->mark.line, a->mark.col};
    int kb[3] = {mark_group(&b->mark), b->mark.line, b->mark.col};
    for (int i = 0; i < 3; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    /* Equal marks keep the order they were found in: stable by address. */
    return a < b ? -1 : (a > b);
}

/* Moves the errors of `ye`, in document order, to the caller's list. */
static void flush_errors(const ytree_errs *ye, scn_errors *errs)
{
    const scn_error **refs = malloc((ye->n ? ye->n : 1) * sizeof *refs);
    for (size_t i = 0; refs && i < ye->n; i++)
        refs[i] = &ye->v[i];
    if (refs)
        qsort(refs, ye->n, sizeof *refs, cmp_error_ref);
    for (size_t i = 0; i < ye->n; i++) {
        const scn_error *e = refs ? refs[i] : &ye->v[i];
        scn_errors_add(errs, e->mark, "%s", e->message);
    }
    errs->dropped += ye->dropped;
    free(refs);
}

/* ---- describing nodes ---------------------------------------------------- */

bool scni_is_null(const ytree_node *n)
{
    if (n->kind != YTREE_SCALAR || n->quoted)
        return false;
    return n->len == 0 || !strcmp(n->text, "~") || !strcmp(n->text, "null") ||
           !strcmp(n->text, "Null") || !strcmp(n->text, "NULL");
}

/* What a message says was found where a scalar value was expected:
 * "'4KB'", "a string '5'" (quoted where a number belongs), "an empty value",
 * "a mapping", "a list". */
static void found_value(const ytree_node *n, bool want_plain, char *buf,
                        size_t len)
{
    char text[SCNI_SHOWN_TEXT];
    if (n->kind != YTREE_SCALAR) {
        snprintf(buf, len, "%s", n->kind == YTREE_MAP ? "a mapping" : "a list");
        return;
    }
    if (n->len == 0 && !n->quoted) {
        snprintf(buf, len, "an empty value");
        return;
    }
    ytree_print_text(text, sizeof text, n->text, n->len);
    snprintf(buf, len, "%s'%s'", want_plain && n->quoted ? "a string " : "",
             text);
}

/* What was found where a mapping or list was expected: "a scalar 'x'". */
void scni_found_kind(const ytree_node *n, char *buf, size_t len)
{
    char text[SCNI_SHOWN_TEXT];
    if (n->kind != YTREE_SCALAR) {
        snprintf(buf, len, "%s", n->kind == YTREE_MAP ? "a mapping" : "a list");
        return;
    }
    ytree_print_text(text, sizeof text, n->text, n->len);
    snprintf(buf, len, "a scalar '%s'", text);
}

/* ---- key paths ------------------------------------------------------------ */

/* Appends a segment to the binder's path; returns the length to restore. */
static size_t path_push(binder *b, const char *seg, size_t len)
{
    size_t old = b->plen;
    size_t room = sizeof b->path - b->plen;
    if (room < 2)
        return old;
    if (b->plen) {
        b->path[b->plen++] = '.';
        room--;
    }
    ytree_print_text(b->path + b->plen, room, seg, len);
    b->plen += strlen(b->path + b->plen);
    return old;
}

static size_t path_push_index(binder *b, size_t i)
{
    char seg[24];
    snprintf(seg, sizeof seg, "%zu", i);
    return path_push(b, seg, strlen(seg));
}

static void path_pop(binder *b, size_t old)
{
    b->plen = old;
    b->path[old] = '\0';
}

/* Adds "<path>: <message>" at `m`. */
static void bind_error(binder *b, scn_mark m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bind_error(binder *b, scn_mark m, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ytree_err(b->errs, m, "%s: %s", b->plen ? b->path : "top level", msg);
}

/* True once no more errors can be stored: callers skip costly messages. */
static bool errs_full(const binder *b)
{
    return b->errs->n >= YTREE_MAX_ERRS;
}

static int errs_seen(const binder *b)
{
    return (int)b->errs->n + b->errs->dropped;
}

/* ---- did you mean ------------------------------------------------------- */

typedef struct nearest {
    const char *word;
    size_t len;
    const char *best;
    size_t dist;
} nearest;

/* Keeps `cand` if it is the closest so far within distance 2 and under half
 * the word's length (so "ab" never suggests "xy"). */
static void consider(nearest *nr, const char *cand)
{
    size_t d = near_distance(nr->word, nr->len, cand, strlen(cand));
    if (d <= 2 && 2 * d < nr->len && (!nr->best || d < nr->dist)) {
        nr->best = cand;
        nr->dist = d;
    }
}

/* " (did you mean 'x'?)" or "" into buf. */
static void hint_text(const nearest *nr, char *buf, size_t len)
{
    if (nr->best)
        snprintf(buf, len, " (did you mean '%s'?)", nr->best);
    else if (len)
        buf[0] = '\0';
}

/* ---- ranges ------------------------------------------------------------- */

/* "<path>: expected <noun> <range>, found <what>[ (N cycles)]". */
static void range_error(binder *b, const scn_field *f, const ytree_node *n,
                        const char *noun, const char *note)
{
    char range[128], found[96];
    scni_fmt_range(f, true, range, sizeof range);
    found_value(n, false, found, sizeof found);
    bind_error(b, n->mark, "expected %s %s, found %s%s", noun, range, found,
               note);
}

/* ---- scalar binders ------------------------------------------------------- */

static void bind_u64(binder *b, const scn_field *f, const ytree_node *n,
                     uint64_t *dst)
{
    char found[96];
    found_value(n, true, found, sizeof found);
    bool digits = !n->quoted && n->len > 0;
    for (size_t i = 0; digits && i < n->len; i++)
        digits = n->text[i] >= '0' && n->text[i] <= '9';
    if (!digits) {
        bool minus = !n->quoted && n->text[0] == '-';
        bind_error(b, n->mark, "expected %s, found %s",
                   minus ? "a non-negative integer" : "an integer", found);
        return;
    }
    scni_decimal d;
    uint64_t v;
    scni_read_decimal(n->text, n->len, &d);
    if (scni_scale(&d, 1, 1, false, &v) != SCNI_SCALE_OK) {
        bind_error(b, n->mark, "expected an integer of at most %llu, found %s",
                   (unsigned long long)UINT64_MAX, found);
        return;
    }
    if (!scni_in_range_u64(f, v)) {
        range_error(b, f, n, "an integer", "");
        return;
    }
    *dst = v;
}

static void bind_double(binder *b, const scn_field *f, const ytree_node *n,
                        double *dst)
{
    char found[96];
    found_value(n, true, found, sizeof found);
    double v = 0;
    bool ok = !n->quoted && scni_is_float_text(n->text, n->len);
    if (ok)
        v = strtod(n->text, NULL);  /* the text is NUL-terminated and valid */
    if (!ok || !isfinite(v)) {
        bool inf = !ok && !n->quoted && scni_looks_infinite(n->text, n->len);
        bind_error(b, n->mark, "expected %s, found %s",
                   ok || inf ? "a finite number" : "a number", found);
        return;
    }
    if (!scni_in_range_double(f, v)) {
        range_error(b, f, n, "a number", "");
        return;
    }
    *dst = v;
}

static void bind_bool(binder *b, const ytree_node *n, bool *dst)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    for (int i = 0; !n->quoted && i < 3; i++) {
        if (!strcmp(n->text, yes[i]) || !strcmp(n->text, no[i])) {
            *dst = !strcmp(n->text, yes[i]);
            return;
        }
    }
    char found[96];
    found_value(n, true, found, sizeof found);
    bind_error(b, n->mark, "expected true or false, found %s", found);
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static void bind_string(binder *b, const scn_field *f, const ytree_node *n,
                        char **dst)
{
    char found[96];
    found_value(n, false, found, sizeof found);
    if (scni_is_null(n) || memchr(n->text, '\0', n->len)) {
        bind_error(b, n->mark, "expected a string%s, found %s",
                   scni_is_null(n) ? "" : " without NUL characters", found);
        return;
    }
    size_t chars = utf8_length(n->text, n->len);
    if (!scni_in_range_u64(f, chars)) {
        range_error(b, f, n, "a string", "");
        return;
    }
    char *copy = malloc(n->len + 1);
    if (!copy) {
        b->rc = SIM_ENOMEM;
        return;
    }
    memcpy(copy, n->text, n->len + 1);
    free(*dst);
    *dst = copy;
}

static void bind_enum(binder *b, const scn_field *f, const ytree_node *n,
                      int *dst)
{
    const char *const *names = f->enum_names;
    for (int i = 0; names && names[i]; i++) {
        if (strlen(names[i]) == n->len && !memcmp(names[i], n->text, n->len)) {
            *dst = i;
            return;
        }
    }
    char list[256] = "", found[96], hint[96];
    size_t used = 0;
    nearest nr = {n->text, n->len, NULL, 0};
    for (int i = 0; names && names[i] && used < sizeof list; i++) {
        used += (size_t)snprintf(list + used, sizeof list - used, "%s'%s'",
                                 i ? ", " : "", names[i]);
        consider(&nr, names[i]);
    }
    found_value(n, false, found, sizeof found);
    hint_text(&nr, hint, sizeof hint);
    bind_error(b, n->mark, "expected one of %s, found %s%s", list, found, hint);
}

/* Reports a quantity that did not parse, with a unit hint when the unit is
 * only misspelt ("4KB" -> "4KiB"). `numlen` bytes of text were a number. */
static void quantity_error(binder *b, const scni_quantity *q,
                           const ytree_node *n, size_t numlen)
{
    char found[96], hint[128] = "";
    found_value(n, true, found, sizeof found);
    if (numlen && !n->quoted) {
        const char *u = n->text + numlen;
        while (*u == ' ')
            u++;
        const char *canon = scni_find_alias(q->aliases, u,
                                            n->len - (size_t)(u - n->text));
        if (canon && n->len < 48)
            snprintf(hint, sizeof hint, " (did you mean '%.*s%s'?)",
                     (int)(u - n->text), n->text, canon);
    }
    bind_error(b, n->mark, "expected %s, found %s%s", q->what, found, hint);
}

/* The clock for a duration in time units: false (reported when useful) if
 * there is none to use. */
static bool have_clock(binder *b, const ytree_node *n)
{
    if (b->clock == CLOCK_OK)
        return true;
    if (b->clock == CLOCK_NONE) {
        char found[96];
        found_value(n, false, found, sizeof found);
        bind_error(b, n->mark, "expected a duration in cycles (there is no "
                   "clock to convert time units with), found %s", found);
    }
    /* CLOCK_BAD: the clock's own error says it all. */
    return false;
}

static void bind_quantity(binder *b, const scn_field *f, const ytree_node *n,
                          uint64_t *dst)
{
    const scni_quantity *q = &scni_quantities[f->type];
    scni_decimal d;
    size_t numlen = 0;
    const scni_unit *un = n->quoted ? NULL
        : scni_quantity_unit(q, n->text, n->len, &d, &numlen);
    if (!un) {
        quantity_error(b, q, n, numlen);
        return;
    }
    if (un->timed && !have_clock(b, n))
        return;
    uint64_t v = 0;
    int rc = scni_scale(&d, un->timed ? b->clock_hz : un->num, un->den,
                        un->timed, &v);
    char found[96];
    found_value(n, false, found, sizeof found);
    if (rc != SCNI_SCALE_OK) {
        if (rc == SCNI_SCALE_FRACTION)
            bind_error(b, n->mark, "expected a whole number of %s, found %s",
                       q->base, found);
        else
            bind_error(b, n->mark, "expected %s that fits in 64 bits, found %s",
                       q->noun, found);
        return;
    }
    if (!scni_in_range_u64(f, v)) {
        char note[48] = "";
        if (un->timed)
            snprintf(note, sizeof note, " (%llu cycles)", (unsigned long long)v);
        range_error(b, f, n, q->noun, note);
        return;
    }
    *dst = v;
}

/* What a field expects, for "expected X, found a mapping". */
static const char *expected_text(const scn_field *f)
{
    switch (f->type) {
    case SCN_U64:
        return "an integer";
    case SCN_DOUBLE:
        return "a number";
    case SCN_BOOL:
        return "true or false";
    case SCN_STRING:
        return "a string";
    case SCN_ENUM:
        return "a name";
    case SCN_SIZE:
    case SCN_DURATION:
    case SCN_FREQ:
        return scni_quantities[f->type].what;
    case SCN_STRUCT:
    case SCN_BLOCK:
        return "a mapping";
    default:
        return "a list";
    }
}

/* Binds one scalar field at `dst` from scalar or container `n`. */
static void bind_value(binder *b, const scn_field *f, const ytree_node *n,
                       char *dst)
{
    if (n->kind != YTREE_SCALAR) {
        bind_error(b, n->mark, "expected %s, found %s", expected_text(f),
                   n->kind == YTREE_MAP ? "a mapping" : "a list");
        return;
    }
    switch (f->type) {
    case SCN_U64:
        bind_u64(b, f, n, (uint64_t *)(void *)dst);
        break;
    case SCN_DOUBLE:
        bind_double(b, f, n, (double *)(void *)dst);
        break;
    case SCN_BOOL:
        bind_bool(b, n, (bool *)(void *)dst);
        break;
    case SCN_STRING:
        bind_string(b, f, n, (char **)(void *)dst);
        break;
    case SCN_ENUM:
        bind_enum(b, f, n, (int *)(void *)dst);
        break;
    default:
        bind_quantity(b, f, n, (uint64_t *)(void *)dst);
        break;
    }
}

/* A default is parsed like input: the same binders see a scalar marked
 * <default>. A string default is taken as written (as if quoted). */
static void bind_default(binder *b, const scn_field *f, char *dst)
{
    scn_mark m = {DEFAULT_FILE, 0, 0};
    ytree_node *n = ytree_new_scalar(m, f->def, strlen(f->def),
                                     f->type == SCN_STRING);
    if (!n) {
        b->rc = SIM_ENOMEM;
        return;
    }
    bind_value(b, f, n, dst);
    ytree_free(n);
}

/* ---- structs and lists ------------------------------------------------------ */

static void bind_struct(binder *b, const scn_schema *s, const ytree_node *map,
                        scn_mark near, char *base, bool root, bool quiet);

/* Binds list field `f` of the struct at `base` from node `n`: checks the
 * item count, then allocates the array (stored at once, so scn_free() finds
 * it) and binds each item as a struct. */
static void bind_list(binder *b, const scn_field *f, const ytree_node *n,
                      char *base, bool quiet)
{
    size_t count = n->kind == YTREE_SEQ ? n->nkids : 0;
    if (n->kind != YTREE_SEQ && !scni_is_null(n)) {
        char found[96];
        scni_found_kind(n, found, sizeof found);
        bind_error(b, n->mark, "expected a list, found %s", found);
        return;
    }
    bool too_many = count > scni_u64_of(scni_field_bounds(f).max);
    if (!scni_in_range_u64(f, count)) {
        char range[128];
        scni_fmt_range(f, true, range, sizeof range);
        bind_error(b, n->mark, "expected a list %s, found %zu item%s", range,
                   count, count == 1 ? "" : "s");
    }
    /* Never allocate past the maximum: the count was reported above. */
    if (too_many || count == 0 || f->sub->size == 0)
        return;
    char *items = calloc(count, f->sub->size);
    if (!items) {
        b->rc = SIM_ENOMEM;
        return;
    }
    memcpy(base + f->offset, &items, sizeof items);
    memcpy(base + f->count_offset, &count, sizeof count);
    for (size_t i = 0; i < count; i++) {
        size_t old = path_push_index(b, i);
        const ytree_node *item = n->kids[i];
        bind_struct(b, f->sub, item, item->mark, items + i * f->sub->size,
                    false, quiet);
        path_pop(b, old);
    }
}

/* The items and count of list field `f` of the struct at `base`. */
void scni_list_of(const scn_field *f, const char *base, char **items,
                  size_t *count)
{
    memcpy(items, base + f->offset, sizeof *items);
    memcpy(count, base + f->count_offset, sizeof *count);
}

/* Binds field `f` of the struct at `base` from `n` (NULL when absent; then
 * the default, or "missing required key" at `near`, the closest mapping). */
static void bind_field(binder *b, const scn_field *f, const ytree_node *n,
                       scn_mark near, char *base, bool quiet)
{
    if (b->rc)
        return;
    size_t old = path_push(b, f->key, strlen(f->key));
    if (!n && (f->flags & SCN_REQUIRED)) {
        if (!quiet)
            bind_error(b, near, "missing required key");
    } else if (f->type == SCN_STRUCT) {
        bind_struct(b, f->sub, n, n ? n->mark : near, base + f->offset, false,
                    quiet);
    } else if (f->type == SCN_LIST) {
        if (n)
            bind_list(b, f, n, base, quiet);
    } else if (f->type == SCN_BLOCK) {
        if (n && !scni_is_null(n) && n->kind != YTREE_MAP)
            bind_error(b, n->mark, "expected a mapping, found %s",
                       n->kind == YTREE_SEQ ? "a list" : "a scalar");
    } else if (n) {
        bind_value(b, f, n, base + f->offset);
    } else if (f->def) {
        bind_default(b, f, base + f->offset);
    }
    path_pop(b, old);
}

const scn_field *scni_schema_find(const scn_schema *s, const char *key,
                                  size_t len)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (strlen(s->fields[i].key) == len &&
            !memcmp(s->fields[i].key, key, len))
            return &s->fields[i];
    return NULL;
}

/* Reports the keys of `map` that `s` does not declare, in document order. */
static void report_unknown(binder *b, const scn_schema *s, const ytree_node *map)
{
    for (size_t i = 0; i < map->nkids; i += 2) {
        const ytree_node *key = map->kids[i];
        if (scni_schema_find(s, key->text, key->len))
            continue;
        if (errs_full(b)) {
            b->errs->dropped++;
            continue;
        }
        nearest nr = {key->text, key->len, NULL, 0};
        for (size_t j = 0; j < s->nfields; j++)
            consider(&nr, s->fields[j].key);
        char hint[96];
        hint_text(&nr, hint, sizeof hint);
        size_t old = path_push(b, key->text, key->len);
        bind_error(b, key->mark, "unknown key%s", hint);
        path_pop(b, old);
    }
}

/* The root's clock is bound before anything else so that every duration,
 * wherever it is, can be converted with it. */
static const scn_field *bind_clock(binder *b, const scn_schema *s,
                                   const ytree_node *map, scn_mark near,
                                   char *base, bool quiet)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const scn_field *f = &s->fields[i];
        if (!(f->flags & SCN_CLOCK) || f->type != SCN_FREQ)
            continue;
        int before = errs_seen(b);
        bind_field(b, f, ytree_get(map, f->key, strlen(f->key), NULL), near,
                   base, quiet);
        memcpy(&b->clock_hz, base + f->offset, sizeof b->clock_hz);
        if (errs_seen(b) != before)
            b->clock = CLOCK_BAD;
        else
            b->clock = b->clock_hz ? CLOCK_OK : CLOCK_NONE;
        return f;
    }
    return NULL;
}

/* Binds `map` (NULL when absent: all defaults) onto the struct at `base`.
 * `near` is the closest mark for "missing required key"; `quiet` drops
 * those after a wrong-kind error already said the same. */
static void bind_struct(binder *b, const scn_schema *s, const ytree_node *map,
                        scn_mark near, char *base, bool root, bool quiet)
{
    if (map && scni_is_null(map)) {
        map = NULL;         /* "key:" with nothing: all defaults */
    } else if (map && map->kind != YTREE_MAP) {
        char found[96];
        scni_found_kind(map, found, sizeof found);
        bind_error(b, map->mark, "expected a mapping, found %s", found);
        map = NULL;
        quiet = true;       /* one error, not one per required key */
    }
    const scn_field *clock = root ? bind_clock(b, s, map, near, base, quiet)
                                  : NULL;
    for (size_t i = 0; i < s->nfields; i++) {
        const scn_field *f = &s->fields[i];
        if (f != clock)
            bind_field(b, f, ytree_get(map, f->key, strlen(f->key), NULL),
                       near, base, quiet);
    }
    if (map)
        report_unknown(b, s, map);
}

/* ---- loading ---------------------------------------------------------------- */

/* fopen() fails with ENOMEM when it cannot allocate its FILE: that is the
 * host's memory, not the file. */
static int io_error(ytree_errs *errs, const char *path, int err)
{
    if (err == ENOMEM)
        return SIM_ENOMEM;
    char why[128] = "unknown error";
    strerror_r(err, why, sizeof why);
    ytree_err(errs, (scn_mark){path, 0, 0}, "cannot read the file: %s", why);
    return SIM_EIO;
}

/* Reads at most YTREE_MAX_BYTES of `path` into *out (owned by the caller). */
static int read_file(const char *path, char **out, size_t *len, ytree_errs *errs)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_error(errs, path, errno);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    /* One byte past the limit is enough to know the file is too big. */
    while (rc == 0 && n <= YTREE_MAX_BYTES && !feof(f) && !ferror(f)) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            ncap = ncap > YTREE_MAX_BYTES + 1 ? YTREE_MAX_BYTES + 1 : ncap;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf)
                rc = SIM_ENOMEM;
            else {
                buf = nbuf;
                cap = ncap;
            }
        }
        if (rc == 0)
            n += fread(buf + n, 1, cap - n, f);
    }
    if (rc == 0 && ferror(f))
        rc = io_error(errs, path, errno ? errno : EIO);
    else if (rc == 0 && n > YTREE_MAX_BYTES) {
        ytree_err(errs, (scn_mark){path, 0, 0},
                  "expected at most 4 MiB of YAML, found more");
        rc = SIM_ESCENARIO;
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Reads and parses the source into *tree, an empty mapping at least. */
static int parse_source(const scn_source *src, const char *file,
                        ytree_node **tree, ytree_errs *ye)
{
    char *buf = NULL;
    const char *text = src->text;
    size_t len = src->text_len;
    int rc = text ? 0 : read_file(file, &buf, &len, ye);
    if (rc == 0)
        rc = ytree_parse(file, buf ? buf : text, len, tree, ye);
    free(buf);
    if (rc)
        return rc;
    /* An empty file, or a document that is only "---", is an empty mapping. */
    if (*tree && !scni_is_null(*tree))
        return 0;
    scn_mark m = *tree ? (*tree)->mark : (scn_mark){file, 1, 1};
    ytree_free(*tree);
    *tree = ytree_new(YTREE_MAP, m);
    return *tree ? 0 : SIM_ENOMEM;
}

static int load_tree(const scn_schema *root, const scn_source *src,
                     const char *file, void *out, ytree_node **tree,
                     ytree_errs *ye)
{
    int rc = parse_source(src, file, tree, ye);
    for (size_t i = 0; rc == 0 && src->sets && i < src->nsets; i++)
        rc = scni_apply_set(*tree, src, i, ye);
    if (rc)
        return rc;
    binder b = {.errs = ye, .clock = CLOCK_NONE};
    bind_struct(&b, root, *tree, (*tree)->mark, out, true, false);
    if (b.rc)
        return b.rc;
    return (ye->n || ye->dropped) ? SIM_ESCENARIO : 0;
}

/* The four steps of the banner. The tree becomes the doc on success and is
 * freed otherwise; `out` holds whatever was bound either way. */
int scn_load(const scn_schema *root, const scn_source *src, void *out,
             scn_doc **doc_out, scn_errors *errs)
{
    const char *file = src->path ? src->path : TEXT_FILE;
    ytree_errs ye = {0};
    ytree_node *tree = NULL;
    scn_doc *doc = NULL;
    if (doc_out)
        *doc_out = NULL;
    int rc = load_tree(root, src, file, out, &tree, &ye);
    if (rc == 0 && doc_out) {
        doc = malloc(sizeof *doc);
        rc = doc ? 0 : SIM_ENOMEM;
    }
    /* An error lost for want of memory would leave the report short (a
     * file that cannot be opened would say nothing at all). */
    if (rc && ye.lost)
        rc = SIM_ENOMEM;
    /* Out of memory says nothing about the scenario: no half a report. */
    if (rc != SIM_ENOMEM)
        flush_errors(&ye, errs);
    ytree_errs_free(&ye);
    if (rc) {
        ytree_free(tree);
        return rc;
    }
    if (doc_out) {
        *doc = (scn_doc){tree, file};
        *doc_out = doc;
    } else {
        ytree_free(tree);
    }
    return 0;
}

/* Frees the tree; marks already copied out stay valid (see the banner). */
void scn_doc_free(scn_doc *doc)
{
    if (!doc)
        return;
    ytree_free(doc->root);
    free(doc);
}

/* Accepts "a.0.b" and "a[0].b"; "" is the root. A NULL doc gives
 * {NULL, 0, 0}. */
scn_mark scn_mark_of(const scn_doc *doc, const char *path)
{
    scni_seg segs[YTREE_MAX_DEPTH * 2];
    if (!doc)
        return (scn_mark){NULL, 0, 0};
    scn_mark none = {doc->file, 0, 0};
    if (!path)
        path = "";
    int n = *path ? scni_split_path(path, strlen(path), segs,
                                    YTREE_MAX_DEPTH * 2)
                  : 0;
    if (n < 0)
        return none;
    const ytree_node *cur = doc->root;
    for (int k = 0; cur && k < n; k++) {
        long i = scni_seg_index(&segs[k]);
        if (cur->kind == YTREE_MAP)
            cur = ytree_get(cur, segs[k].s, segs[k].len, NULL);
        else if (cur->kind == YTREE_SEQ && i >= 0 && (size_t)i < cur->nkids)
            cur = cur->kids[i];
        else
            cur = NULL;
    }
    return cur ? cur->mark : none;
}

const ytree_node *scn_doc_block(const scn_doc *doc, const char *key)
{
    if (!doc || !doc->root || doc->root->kind != YTREE_MAP)
        return NULL;
    const ytree_node *n = ytree_get(doc->root, key, strlen(key), NULL);
    return n && !scni_is_null(n) ? n : NULL;
}

/* ---- freeing ------------------------------------------------------------------ */

/* Frees strings and lists, depth first, and zeroes their pointers and
 * counts, so a second call is harmless. */
void scn_free(const scn_schema *root, void *cfg)
{
    if (!root || !cfg)
        return;
    char *base = cfg;
    for (size_t i = 0; i < root->nfields; i++) {
        const scn_field *f = &root->fields[i];
        if (f->type == SCN_STRING) {
            char **s = (char **)(void *)(base + f->offset);
            free(*s);
            *s = NULL;
        } else if (f->type == SCN_STRUCT) {
            scn_free(f->sub, base + f->offset);
        } else if (f->type == SCN_LIST) {
            char *items;
            size_t count;
            scni_list_of(f, base, &items, &count);
            for (size_t j = 0; items && j < count; j++)
                scn_free(f->sub, items + j * f->sub->size);
            free(items);
            items = NULL;
            count = 0;
            memcpy(base + f->offset, &items, sizeof items);
            memcpy(base + f->count_offset, &count, sizeof count);
        }
    }
}
