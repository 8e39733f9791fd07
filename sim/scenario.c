/*
 * scenario.c -- the generic scenario loader of scenario.h.
 *
 * scn_load() runs in four steps, each feeding one list of errors:
 *   1. read the file (or take the caller's text) and build a yamltree;
 *   2. apply the --set overrides to the tree, creating nodes as needed;
 *   3. bind the tree onto the caller's struct by schema: the root's clock
 *      first (durations in time units need it), then every field in schema
 *      order, then the keys the schema does not know;
 *   4. sort the errors into document order and hand the first
 *      SCN_MAX_ERRORS to the caller.
 * Binding goes on after an error, so one run reports every mistake it can,
 * and everything it allocated stays reachable from the caller's struct, so
 * scn_free() releases it whatever the outcome.
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
#include "sim/yamltree.h"

#define LIST_CAP_DEFAULT 4096   /* items of an SCN_LIST without a maximum */
#define SHOWN_TEXT 68           /* bytes of a scalar quoted in a message */
#define SET_FILE "--set"
#define DEFAULT_FILE "<default>"
#define TEXT_FILE "<text>"

typedef unsigned __int128 u128;

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

static bool is_null(const ytree_node *n)
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
    char text[SHOWN_TEXT];
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
static void found_kind(const ytree_node *n, char *buf, size_t len)
{
    char text[SHOWN_TEXT];
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

/* ---- numbers and units ---------------------------------------------------- */

typedef struct decimal {
    uint64_t mant;              /* the digits, point removed */
    int frac;                   /* digits after the point */
    bool overflow;
} decimal;

/* Reads `[0-9]+(\.[0-9]*)?` or `\.[0-9]+` at the start of s; returns the
 * bytes read, 0 when there is no number. */
static size_t read_decimal(const char *s, size_t len, decimal *d)
{
    size_t i = 0, digits = 0;
    bool point = false;
    *d = (decimal){0};
    for (; i < len; i++) {
        if (s[i] == '.' && !point) {
            point = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            break;
        unsigned dig = (unsigned)(s[i] - '0');
        digits++;
        if (d->mant > (UINT64_MAX - dig) / 10)
            d->overflow = true;
        else
            d->mant = d->mant * 10 + dig;
        d->frac += point;
    }
    /* 10^19 is the largest power of ten a uint64_t holds. */
    if (d->frac > 19)
        d->overflow = true;
    return digits ? i : 0;
}

enum { SCALE_OK, SCALE_FRACTION, SCALE_OVERFLOW };

/* *out = d * num / den, exact or rounded to nearest. 128-bit arithmetic
 * cannot overflow here: mant * num < 2^128 and 10^19 * den < 2^128. */
static int scale(const decimal *d, uint64_t num, uint64_t den, bool round,
                 uint64_t *out)
{
    if (d->overflow)
        return SCALE_OVERFLOW;
    u128 p10 = 1;
    for (int i = 0; i < d->frac; i++)
        p10 *= 10;
    u128 n = (u128)d->mant * num, q = p10 * den;
    u128 v = n / q, r = n % q;
    if (r && !round)
        return SCALE_FRACTION;
    if (2 * r >= q && r)
        v++;
    if (v > UINT64_MAX)
        return SCALE_OVERFLOW;
    *out = (uint64_t)v;
    return SCALE_OK;
}

typedef struct unit {
    const char *name;           /* exact spelling; "" for a plain number */
    uint64_t num, den;          /* base units per unit = num / den */
    bool timed;                 /* num is the clock: round to nearest */
} unit;

typedef struct unit_alias {
    const char *alias;          /* compared ignoring case */
    const char *canon;
} unit_alias;

typedef struct quantity {
    const char *what;           /* "a size in B, KiB, ..." */
    const char *noun;           /* "a size", for ranges */
    const char *base;           /* "bytes", for fractions */
    const unit *units;
    const unit_alias *aliases;
} quantity;

static const unit size_units[] = {
    {"", 1, 1, false}, {"B", 1, 1, false}, {"KiB", 1ull << 10, 1, false},
    {"MiB", 1ull << 20, 1, false}, {"GiB", 1ull << 30, 1, false},
    {"TiB", 1ull << 40, 1, false}, {NULL, 0, 0, false}};

static const unit_alias size_aliases[] = {
    {"b", "B"}, {"k", "KiB"}, {"kb", "KiB"}, {"kib", "KiB"},
    {"m", "MiB"}, {"mb", "MiB"}, {"mib", "MiB"}, {"g", "GiB"},
    {"gb", "GiB"}, {"gib", "GiB"}, {"t", "TiB"}, {"tb", "TiB"},
    {"tib", "TiB"}, {NULL, NULL}};

static const unit duration_units[] = {
    {"", 1, 1, false}, {"cycles", 1, 1, false}, {"ns", 0, 1000000000, true},
    {"us", 0, 1000000, true}, {"ms", 0, 1000, true}, {"s", 0, 1, true},
    {NULL, 0, 0, false}};

static const unit_alias duration_aliases[] = {
    {"cycle", "cycles"}, {"cycles", "cycles"}, {"ns", "ns"}, {"nsec", "ns"},
    {"us", "us"}, {"usec", "us"}, {"\xc2\xb5s", "us"}, {"\xce\xbcs", "us"},
    {"ms", "ms"}, {"msec", "ms"}, {"s", "s"}, {"sec", "s"}, {NULL, NULL}};

static const unit freq_units[] = {
    {"", 1, 1, false}, {"Hz", 1, 1, false}, {"kHz", 1000, 1, false},
    {"MHz", 1000000, 1, false}, {"GHz", 1000000000, 1, false},
    {NULL, 0, 0, false}};

static const unit_alias freq_aliases[] = {
    {"hz", "Hz"}, {"khz", "kHz"}, {"mhz", "MHz"}, {"ghz", "GHz"},
    {NULL, NULL}};

static const quantity quantities[] = {
    [SCN_SIZE] = {"a size in B, KiB, MiB, GiB or TiB", "a size", "bytes",
                  size_units, size_aliases},
    [SCN_DURATION] = {"a duration in cycles, ns, us, ms or s", "a duration",
                      "cycles", duration_units, duration_aliases},
    [SCN_FREQ] = {"a frequency in Hz, kHz, MHz or GHz", "a frequency", "Hz",
                  freq_units, freq_aliases},
};

static const unit *find_unit(const unit *units, const char *s, size_t len)
{
    for (const unit *u = units; u->name; u++)
        if (strlen(u->name) == len && memcmp(u->name, s, len) == 0)
            return u;
    return NULL;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Equal ignoring ASCII case; `lower` is already lower case. */
static bool equal_nocase(const char *s, size_t len, const char *lower)
{
    size_t n = strlen(lower);
    if (n != len)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(s[i]) != lower[i])
            return false;
    return true;
}

static const char *find_alias(const unit_alias *al, const char *s, size_t len)
{
    for (; al->alias; al++)
        if (equal_nocase(s, len, al->alias))
            return al->canon;
    return NULL;
}

/* Largest unit that divides v exactly: 1GiB, 3GHz; plain bytes/Hz else. */
static void fmt_units(uint64_t v, const unit *units, char *buf, size_t len)
{
    const unit *best = NULL;
    for (const unit *u = units + 1; u->name; u++)
        if (u->num && v && v % u->num == 0)
            best = u;
    if (best)
        snprintf(buf, len, "%llu%s", (unsigned long long)(v / best->num),
                 best->name);
    else
        snprintf(buf, len, "%llu%s", (unsigned long long)v, units[1].name);
}

/* ---- ranges --------------------------------------------------------------- */

typedef struct bounds {
    bool has_min, has_max;
    double min, max;
} bounds;

static bounds field_bounds(const scn_field *f)
{
    bounds r = {f->min != 0, f->max != 0, f->min, f->max};
    /* A signed number keeps its lower bound 0 when there is an upper one. */
    if (f->type == SCN_DOUBLE && r.has_max)
        r.has_min = true;
    if (f->type == SCN_LIST && !r.has_max) {
        r.has_max = true;
        r.max = LIST_CAP_DEFAULT;
    }
    return r;
}

static uint64_t u64_of(double v)
{
    if (v <= 0)
        return 0;
    return v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v;
}

static void fmt_bound(const scn_field *f, double v, char *buf, size_t len)
{
    switch (f->type) {
    case SCN_SIZE:
    case SCN_FREQ:
        fmt_units(u64_of(v), quantities[f->type].units, buf, len);
        break;
    case SCN_DOUBLE:
        /* Whole numbers in full ("1000000", not "1e+06"). */
        if (v == floor(v) && fabs(v) < 1e15)
            snprintf(buf, len, "%.0f", v);
        else
            snprintf(buf, len, "%g", v);
        break;
    default:
        snprintf(buf, len, "%llu", (unsigned long long)u64_of(v));
        break;
    }
}

/* The unit after a range, singular after a last bound of 1 ("at least
 * 1 cycle"). */
static const char *bound_suffix(scn_type t, const char *last)
{
    bool one = !strcmp(last, "1");
    switch (t) {
    case SCN_DURATION:
        return one ? " cycle" : " cycles";
    case SCN_LIST:
        return one ? " item" : " items";
    case SCN_STRING:
        return one ? " character" : " characters";
    default:
        return "";
    }
}

/* "1 to 64", "at least 1", "at most 64" (with `sentence`: "from 1 to 64",
 * "of at least 1", "of at most 64"), with the unit; "" when unbounded. */
static void fmt_range(const scn_field *f, bool sentence, char *buf, size_t len)
{
    bounds r = field_bounds(f);
    char lo[48], hi[48];
    fmt_bound(f, r.min, lo, sizeof lo);
    fmt_bound(f, r.max, hi, sizeof hi);
    const char *sfx = bound_suffix(f->type, r.has_max ? hi : lo);
    if (r.has_min && r.has_max)
        snprintf(buf, len, "%s%s to %s%s", sentence ? "from " : "", lo, hi, sfx);
    else if (r.has_min)
        snprintf(buf, len, "%sat least %s%s", sentence ? "of " : "", lo, sfx);
    else if (r.has_max)
        snprintf(buf, len, "%sat most %s%s", sentence ? "of " : "", hi, sfx);
    else if (len)
        buf[0] = '\0';
}

static bool in_range_u64(const scn_field *f, uint64_t v)
{
    bounds r = field_bounds(f);
    if (r.has_min && v < u64_of(ceil(r.min)))
        return false;
    return !r.has_max || v <= u64_of(floor(r.max));
}

static bool in_range_double(const scn_field *f, double v)
{
    bounds r = field_bounds(f);
    return (!r.has_min || v >= r.min) && (!r.has_max || v <= r.max);
}

/* "<path>: expected <noun> <range>, found <what>[ (N cycles)]". */
static void range_error(binder *b, const scn_field *f, const ytree_node *n,
                        const char *noun, const char *note)
{
    char range[128], found[96];
    fmt_range(f, true, range, sizeof range);
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
    decimal d;
    uint64_t v;
    read_decimal(n->text, n->len, &d);
    if (scale(&d, 1, 1, false, &v) != SCALE_OK) {
        bind_error(b, n->mark, "expected an integer of at most %llu, found %s",
                   (unsigned long long)UINT64_MAX, found);
        return;
    }
    if (!in_range_u64(f, v)) {
        range_error(b, f, n, "an integer", "");
        return;
    }
    *dst = v;
}

/* YAML 1.2's float syntax without .inf/.nan:
 * [-+]? (\.[0-9]+ | [0-9]+(\.[0-9]*)?) ([eE][-+]?[0-9]+)? */
static bool is_float_text(const char *s, size_t len)
{
    size_t i = 0, mant = 0, exp = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        mant++;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            mant++;
    if (mant == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            exp++;
        if (exp == 0)
            return false;
    }
    return i == len;
}

/* "inf", ".inf", "-Infinity", "NaN", ...: numbers, but not finite ones. */
static bool looks_infinite(const char *s, size_t len)
{
    while (len && (*s == '-' || *s == '+' || *s == '.')) {
        s++;
        len--;
    }
    return equal_nocase(s, len, "inf") || equal_nocase(s, len, "infinity") ||
           equal_nocase(s, len, "nan");
}

static void bind_double(binder *b, const scn_field *f, const ytree_node *n,
                        double *dst)
{
    char found[96];
    found_value(n, true, found, sizeof found);
    double v = 0;
    bool ok = !n->quoted && is_float_text(n->text, n->len);
    if (ok)
        v = strtod(n->text, NULL);  /* the text is NUL-terminated and valid */
    if (!ok || !isfinite(v)) {
        bool inf = !ok && !n->quoted && looks_infinite(n->text, n->len);
        bind_error(b, n->mark, "expected %s, found %s",
                   ok || inf ? "a finite number" : "a number", found);
        return;
    }
    if (!in_range_double(f, v)) {
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
    if (is_null(n) || memchr(n->text, '\0', n->len)) {
        bind_error(b, n->mark, "expected a string%s, found %s",
                   is_null(n) ? "" : " without NUL characters", found);
        return;
    }
    size_t chars = utf8_length(n->text, n->len);
    if (!in_range_u64(f, chars)) {
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
static void quantity_error(binder *b, const quantity *q, const ytree_node *n,
                           size_t numlen)
{
    char found[96], hint[128] = "";
    found_value(n, true, found, sizeof found);
    if (numlen && !n->quoted) {
        const char *u = n->text + numlen;
        while (*u == ' ')
            u++;
        const char *canon = find_alias(q->aliases, u, n->len - (size_t)(u - n->text));
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

/* Splits "64 KiB" into its number (*d, *numlen bytes of text) and its
 * unit; NULL when there is no number or the unit is not one of q's. */
static const unit *quantity_unit(const quantity *q, const char *text, size_t len,
                                 decimal *d, size_t *numlen)
{
    *numlen = read_decimal(text, len, d);
    const char *u = text + *numlen;
    while (*numlen && *u == ' ')
        u++;
    return *numlen ? find_unit(q->units, u, len - (size_t)(u - text)) : NULL;
}

static void bind_quantity(binder *b, const scn_field *f, const ytree_node *n,
                          uint64_t *dst)
{
    const quantity *q = &quantities[f->type];
    decimal d;
    size_t numlen = 0;
    const unit *un = n->quoted ? NULL : quantity_unit(q, n->text, n->len, &d, &numlen);
    if (!un) {
        quantity_error(b, q, n, numlen);
        return;
    }
    if (un->timed && !have_clock(b, n))
        return;
    uint64_t v = 0;
    int rc = scale(&d, un->timed ? b->clock_hz : un->num, un->den, un->timed, &v);
    char found[96];
    found_value(n, false, found, sizeof found);
    if (rc != SCALE_OK) {
        if (rc == SCALE_FRACTION)
            bind_error(b, n->mark, "expected a whole number of %s, found %s",
                       q->base, found);
        else
            bind_error(b, n->mark, "expected %s that fits in 64 bits, found %s",
                       q->noun, found);
        return;
    }
    if (!in_range_u64(f, v)) {
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
        return quantities[f->type].what;
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
    if (n->kind != YTREE_SEQ && !is_null(n)) {
        char found[96];
        found_kind(n, found, sizeof found);
        bind_error(b, n->mark, "expected a list, found %s", found);
        return;
    }
    bool too_many = count > u64_of(field_bounds(f).max);
    if (!in_range_u64(f, count)) {
        char range[128];
        fmt_range(f, true, range, sizeof range);
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
        if (n && !is_null(n) && n->kind != YTREE_MAP)
            bind_error(b, n->mark, "expected a mapping, found %s",
                       n->kind == YTREE_SEQ ? "a list" : "a scalar");
    } else if (n) {
        bind_value(b, f, n, base + f->offset);
    } else if (f->def) {
        bind_default(b, f, base + f->offset);
    }
    path_pop(b, old);
}

static const scn_field *schema_find(const scn_schema *s, const char *key,
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
        if (schema_find(s, key->text, key->len))
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
    if (map && is_null(map)) {
        map = NULL;         /* "key:" with nothing: all defaults */
    } else if (map && map->kind != YTREE_MAP) {
        char found[96];
        found_kind(map, found, sizeof found);
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

/* ---- --set overrides -------------------------------------------------------- */

typedef struct seg {
    const char *s;
    size_t len;
} seg;

/* Splits "a.b.0.c" or "a.b[0].c" into at most `max` segments. Returns the
 * count, or -1 when the path is malformed (empty segment, bad brackets). */
static int split_path(const char *p, size_t len, seg *segs, int max)
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
            segs[n++] = (seg){p + i + 1, j - i - 1};
            i = j + 1;
        } else {
            while (j < len && p[j] != '.' && p[j] != '[')
                j++;
            if (j == i)
                return -1;
            segs[n++] = (seg){p + i, j - i};
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
static long seg_index(const seg *sg)
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
static void join_path(const seg *segs, int n, char *buf, size_t len)
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
    const seg *segs;
    int nsegs;
} setter;

/* Finds the slot of segment k under `cur`: *slot = the child's place, or
 * NULL when it is to be appended. Returns false after reporting why it
 * cannot be there (a scalar in the way, a bad index). */
static bool find_slot(const setter *st, ytree_node *cur, int k,
                      ytree_node ***slot)
{
    char path[256], found[96];
    const seg *sg = &st->segs[k];
    size_t at;
    join_path(st->segs, k, path, sizeof path);
    *slot = NULL;
    if (cur->kind == YTREE_MAP) {
        if (ytree_get(cur, sg->s, sg->len, &at))
            *slot = &cur->kids[at];
        return true;
    }
    if (cur->kind == YTREE_SCALAR) {
        found_kind(cur, found, sizeof found);
        ytree_err(st->errs, st->mark, "%s: expected a mapping or a list, found %s",
                  path, found);
        return false;
    }
    long i = seg_index(sg);
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
static int add_child(const setter *st, ytree_node *cur, const seg *sg,
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
static void promote_null(ytree_node *n, const seg *next)
{
    if (!is_null(n))
        return;
    free(n->text);
    n->text = NULL;
    n->len = 0;
    n->kind = seg_index(next) >= 0 ? YTREE_SEQ : YTREE_MAP;
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
            : ytree_new(seg_index(&st->segs[k + 1]) >= 0 ? YTREE_SEQ : YTREE_MAP,
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
static int apply_set(ytree_node *root, const scn_source *src, size_t i,
                     ytree_errs *errs)
{
    seg segs[YTREE_MAX_DEPTH];
    const char *set = src->sets[i];
    scn_mark mark = src->set_marks ? src->set_marks[i]
                                   : (scn_mark){SET_FILE, 0, (int)i + 1};
    setter st = {errs, mark, segs, 0};
    const char *eq = strchr(set, '=');
    char shown[SHOWN_TEXT];
    ytree_print_text(shown, sizeof shown, set, strlen(set));
    if (!eq || eq == set) {
        ytree_err(errs, st.mark, "expected path=value, found '%s'", shown);
        return 0;
    }
    st.nsegs = split_path(set, (size_t)(eq - set), segs, YTREE_MAX_DEPTH);
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

/* ---- loading ---------------------------------------------------------------- */

static int io_error(ytree_errs *errs, const char *path, int err)
{
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
    if (*tree && !is_null(*tree))
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
        rc = apply_set(*tree, src, i, ye);
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
    seg segs[YTREE_MAX_DEPTH * 2];
    if (!doc)
        return (scn_mark){NULL, 0, 0};
    scn_mark none = {doc->file, 0, 0};
    if (!path)
        path = "";
    int n = *path ? split_path(path, strlen(path), segs, YTREE_MAX_DEPTH * 2) : 0;
    if (n < 0)
        return none;
    const ytree_node *cur = doc->root;
    for (int k = 0; cur && k < n; k++) {
        long i = seg_index(&segs[k]);
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
    return n && !is_null(n) ? n : NULL;
}

/* ---- paths into a bound config ---------------------------------------------- */

/* The items and count of list field `f` of the struct at `base`. */
static void list_of(const scn_field *f, const char *base, char **items, size_t *count)
{
    memcpy(items, base + f->offset, sizeof *items);
    memcpy(count, base + f->count_offset, sizeof *count);
}

/* Walks `path` down `root`; with `cfg` (may be NULL) also down the bound
 * struct, checking list indices against the bound counts. Returns the
 * scalar field reached, with its address in *value when cfg is given. */
static const scn_field *walk_path(const scn_schema *root, const char *cfg,
                                  const char *path, const void **value)
{
    seg segs[YTREE_MAX_DEPTH * 2];
    int n = split_path(path, strlen(path), segs, YTREE_MAX_DEPTH * 2);
    const scn_schema *s = root;
    const char *base = cfg;
    for (int k = 0; k < n; k++) {
        const scn_field *f = schema_find(s, segs[k].s, segs[k].len);
        if (!f || f->type == SCN_BLOCK)
            return NULL;
        if (f->type == SCN_LIST) {
            long i = ++k < n ? seg_index(&segs[k]) : -1;
            if (i < 0)
                return NULL;
            if (base) {
                char *items;
                size_t count;
                list_of(f, base, &items, &count);
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

void scn_format_value(const scn_field *f, const void *value, char *buf,
                      size_t len)
{
    const char *p = value;
    uint64_t u;
    double d;
    bool b;
    int e;
    const char *str;
    switch (f->type) {
    case SCN_DOUBLE:
        memcpy(&d, p, sizeof d);
        snprintf(buf, len, "%.17g", d);
        break;
    case SCN_BOOL:
        memcpy(&b, p, sizeof b);
        snprintf(buf, len, "%s", b ? "true" : "false");
        break;
    case SCN_ENUM:
        memcpy(&e, p, sizeof e);
        snprintf(buf, len, "%s", f->enum_names ? f->enum_names[e] : "");
        break;
    case SCN_STRING:
        memcpy(&str, p, sizeof str);
        snprintf(buf, len, "%s", str ? str : "");
        break;
    default:
        memcpy(&u, p, sizeof u);
        snprintf(buf, len, "%llu", (unsigned long long)u);
        break;
    }
}

/* Writes the fields of the struct at `base` under `prefix`. */
static void write_canonical(const scn_schema *s, const char *base,
                            const char *prefix, FILE *f)
{
    char path[512], text[512];
    for (size_t i = 0; i < s->nfields; i++) {
        const scn_field *fl = &s->fields[i];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", fl->key);
        if (fl->type == SCN_STRUCT) {
            write_canonical(fl->sub, base + fl->offset, path, f);
        } else if (fl->type == SCN_LIST) {
            char *items;
            size_t count;
            list_of(fl, base, &items, &count);
            fprintf(f, "%s=%zu items\n", path, count);
            for (size_t j = 0; items && j < count; j++) {
                char item[544];
                snprintf(item, sizeof item, "%s.%zu", path, j);
                write_canonical(fl->sub, items + j * fl->sub->size, item, f);
            }
        } else if (fl->type != SCN_BLOCK) {
            scn_format_value(fl, base + fl->offset, text, sizeof text);
            fprintf(f, "%s=%s\n", path, text);
        }
    }
}

int scn_write_canonical(const scn_schema *root, const void *cfg, FILE *f)
{
    write_canonical(root, cfg, "", f);
    return ferror(f) ? SIM_EIO : 0;
}

int scn_parse_number(const scn_field *f, const char *text, double *value,
                     int *timed)
{
    size_t len = strlen(text);
    *timed = 0;
    if (f->type == SCN_DOUBLE || f->type == SCN_U64) {
        if (!is_float_text(text, len))
            return SIM_EINVAL;
        *value = strtod(text, NULL);
        return isfinite(*value) && (f->type == SCN_DOUBLE || *value >= 0) ? 0 : SIM_EINVAL;
    }
    if (f->type != SCN_SIZE && f->type != SCN_DURATION && f->type != SCN_FREQ)
        return SIM_EINVAL;
    decimal d;
    size_t numlen;
    const unit *un = quantity_unit(&quantities[f->type], text, len, &d, &numlen);
    if (!un || d.overflow)
        return SIM_EINVAL;
    double x = strtod(text, NULL);
    *timed = un->timed;
    *value = un->timed ? x * (1e9 / (double)un->den) : x * (double)un->num / (double)un->den;
    return 0;
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
            list_of(f, base, &items, &count);
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

/* ---- the reference ------------------------------------------------------------ */

#define REF_MAX_SCHEMAS 64

typedef struct ref_entry {
    const scn_schema *s;
    char path[128];             /* where its keys live: "guests.<i>.workload" */
} ref_entry;

/* GitHub's heading anchor: lower case, other than [a-z0-9_-] dropped,
 * spaces to dashes. */
static void anchor_of(const char *name, char *buf, size_t len)
{
    size_t o = 0;
    for (; *name && o + 1 < len; name++) {
        char c = *name;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == ' ')
            c = '-';
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_')
            buf[o++] = c;
    }
    buf[o] = '\0';
}

static void write_type(const scn_field *f, FILE *out)
{
    static const char *const names[] = {
        [SCN_U64] = "integer", [SCN_DOUBLE] = "number",
        [SCN_BOOL] = "bool (`true`, `false`)", [SCN_STRING] = "string",
        [SCN_SIZE] = "size (B, KiB, MiB, GiB, TiB)",
        [SCN_DURATION] = "duration (cycles, ns, us, ms, s)",
        [SCN_FREQ] = "frequency (Hz, kHz, MHz, GHz)"};
    char anchor[64];
    if (f->type == SCN_STRUCT || f->type == SCN_LIST) {
        anchor_of(f->sub->name, anchor, sizeof anchor);
        fprintf(out, "%s[%s](#%s)", f->type == SCN_LIST ? "list of " : "",
                f->sub->name, anchor);
    } else if (f->type == SCN_BLOCK) {
        fputs("mapping", out);
    } else if (f->type == SCN_ENUM) {
        fputs("one of ", out);
        for (int i = 0; f->enum_names && f->enum_names[i]; i++)
            fprintf(out, "%s`%s`", i ? ", " : "", f->enum_names[i]);
    } else {
        fputs(names[f->type], out);
    }
}

/* Table cells may not hold a raw '|' or a line break, and "<name>" would
 * be taken for an HTML tag. */
static void write_cell(const char *text, FILE *out)
{
    for (; text && *text; text++) {
        if (*text == '|' || *text == '<')
            fputc('\\', out);
        fputc(*text == '\n' ? ' ' : *text, out);
    }
}

static void write_row(const scn_field *f, FILE *out)
{
    char range[128];
    fprintf(out, "| `%s` | ", f->key);
    write_type(f, out);
    if (f->flags & SCN_REQUIRED)
        fputs(" | required | ", out);
    else if (f->def && f->type != SCN_STRUCT && f->type != SCN_LIST &&
             f->type != SCN_BLOCK)
        fprintf(out, " | `%s` | ", f->def);
    else
        fputs(" | - | ", out);
    fmt_range(f, false, range, sizeof range);
    fputs(range, out);
    fputs(" | ", out);
    write_cell(f->doc, out);
    fputs(" |\n", out);
}

static void write_section(const ref_entry *e, FILE *out)
{
    fprintf(out, "## %s\n\n", e->s->name);
    if (e->path[0])
        fprintf(out, "Keys under `%s`.\n\n", e->path);
    else
        fputs("Keys at the top level.\n\n", out);
    fputs("| key | type | default | range | description |\n", out);
    fputs("|-----|------|---------|-------|-------------|\n", out);
    for (size_t i = 0; i < e->s->nfields; i++)
        write_row(&e->s->fields[i], out);
}

/* Queues the sub-schemas of `e` not seen yet; returns the new queue length. */
static size_t queue_subs(const ref_entry *e, ref_entry *q, size_t n)
{
    for (size_t i = 0; i < e->s->nfields; i++) {
        const scn_field *f = &e->s->fields[i];
        bool seen = !f->sub;
        for (size_t j = 0; j < n && !seen; j++)
            seen = q[j].s == f->sub;
        if (seen || n == REF_MAX_SCHEMAS)
            continue;
        q[n].s = f->sub;
        char *path = q[n].path;
        size_t len = sizeof q[n].path;
        int w = snprintf(path, len, "%s%s%s%s", e->path, e->path[0] ? "." : "",
                         f->key, f->type == SCN_LIST ? ".<i>" : "");
        if (w < 0 || (size_t)w >= len)
            memcpy(path + len - 4, "...", 4);   /* only a heading's note */
        n++;
    }
    return n;
}

/* One "## name" section per schema, reached breadth first from `root`;
 * returns 0, SIM_EIO when `f` reports an error, or SIM_ENOMEM. */
int scn_write_reference(const scn_schema *root, FILE *f)
{
    /* Breadth first, in field order: each schema once, in a fixed order. */
    ref_entry *q = calloc(REF_MAX_SCHEMAS, sizeof *q);
    if (!q)
        return SIM_ENOMEM;
    q[0].s = root;
    size_t n = 1;
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc('\n', f);
        write_section(&q[i], f);
        n = queue_subs(&q[i], q, n);
    }
    free(q);
    return ferror(f) ? SIM_EIO : 0;
}
