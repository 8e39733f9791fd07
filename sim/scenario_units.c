/*
 * scenario_units.c -- numbers, units, quantities and ranges for the
 * scenario loader (scenario_int.h): reading "4KiB", "1.5us" or "3GHz"
 * exactly, the unit tables and their misspellings, a field's range and how
 * messages and the reference write it, and scn_parse_number() and
 * scn_format_value() of scenario.h.
 *
 * The binder reads quantities as exact decimals scaled with 128-bit
 * integers, never through a double, so "1.5us" at 3GHz is 4500 cycles on
 * every machine; durations in time units are scaled by the clock it passes
 * in. scn_parse_number(), whose result is a double, is the one reader of
 * quantities that goes through strtod(). Nothing here reports errors:
 * callers say what failed.
 */
#include "sim/scenario.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_int.h"

#define LIST_CAP_DEFAULT 4096   /* items of an SCN_LIST without a maximum */

typedef unsigned __int128 u128;

/* ---- numbers and units ---------------------------------------------------- */

/* Reads `[0-9]+(\.[0-9]*)?` or `\.[0-9]+` at the start of s; returns the
 * bytes read, 0 when there is no number. */
size_t scni_read_decimal(const char *s, size_t len, scni_decimal *d)
{
    size_t i = 0, digits = 0;
    bool point = false;
    *d = (scni_decimal){0};
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

/* *out = d * num / den, exact or rounded to nearest. 128-bit arithmetic
 * cannot overflow here: mant * num < 2^128 and 10^19 * den < 2^128. */
int scni_scale(const scni_decimal *d, uint64_t num, uint64_t den, bool round,
               uint64_t *out)
{
    if (d->overflow)
        return SCNI_SCALE_OVERFLOW;
    u128 p10 = 1;
    for (int i = 0; i < d->frac; i++)
        p10 *= 10;
    u128 n = (u128)d->mant * num, q = p10 * den;
    u128 v = n / q, r = n % q;
    if (r && !round)
        return SCNI_SCALE_FRACTION;
    if (2 * r >= q && r)
        v++;
    if (v > UINT64_MAX)
        return SCNI_SCALE_OVERFLOW;
    *out = (uint64_t)v;
    return SCNI_SCALE_OK;
}

static const scni_unit size_units[] = {
    {"", 1, 1, false}, {"B", 1, 1, false}, {"KiB", 1ull << 10, 1, false},
    {"MiB", 1ull << 20, 1, false}, {"GiB", 1ull << 30, 1, false},
    {"TiB", 1ull << 40, 1, false}, {NULL, 0, 0, false}};

static const scni_unit_alias size_aliases[] = {
    {"b", "B"}, {"k", "KiB"}, {"kb", "KiB"}, {"kib", "KiB"},
    {"m", "MiB"}, {"mb", "MiB"}, {"mib", "MiB"}, {"g", "GiB"},
    {"gb", "GiB"}, {"gib", "GiB"}, {"t", "TiB"}, {"tb", "TiB"},
    {"tib", "TiB"}, {NULL, NULL}};

static const scni_unit duration_units[] = {
    {"", 1, 1, false}, {"cycles", 1, 1, false}, {"ns", 0, 1000000000, true},
    {"us", 0, 1000000, true}, {"ms", 0, 1000, true}, {"s", 0, 1, true},
    {NULL, 0, 0, false}};

static const scni_unit_alias duration_aliases[] = {
    {"cycle", "cycles"}, {"cycles", "cycles"}, {"ns", "ns"}, {"nsec", "ns"},
    {"us", "us"}, {"usec", "us"}, {"\xc2\xb5s", "us"}, {"\xce\xbcs", "us"},
    {"ms", "ms"}, {"msec", "ms"}, {"s", "s"}, {"sec", "s"}, {NULL, NULL}};

static const scni_unit freq_units[] = {
    {"", 1, 1, false}, {"Hz", 1, 1, false}, {"kHz", 1000, 1, false},
    {"MHz", 1000000, 1, false}, {"GHz", 1000000000, 1, false},
    {NULL, 0, 0, false}};

static const scni_unit_alias freq_aliases[] = {
    {"hz", "Hz"}, {"khz", "kHz"}, {"mhz", "MHz"}, {"ghz", "GHz"},
    {NULL, NULL}};

const scni_quantity scni_quantities[] = {
    [SCN_SIZE] = {"a size in B, KiB, MiB, GiB or TiB", "a size", "bytes",
                  size_units, size_aliases},
    [SCN_DURATION] = {"a duration in cycles, ns, us, ms or s", "a duration",
                      "cycles", duration_units, duration_aliases},
    [SCN_FREQ] = {"a frequency in Hz, kHz, MHz or GHz", "a frequency", "Hz",
                  freq_units, freq_aliases},
};

static const scni_unit *find_unit(const scni_unit *units, const char *s,
                                  size_t len)
{
    for (const scni_unit *u = units; u->name; u++)
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

const char *scni_find_alias(const scni_unit_alias *al, const char *s,
                            size_t len)
{
    for (; al->alias; al++)
        if (equal_nocase(s, len, al->alias))
            return al->canon;
    return NULL;
}

/* Splits "64 KiB" into its number (*d, *numlen bytes of text) and its
 * unit; NULL when there is no number or the unit is not one of q's. */
const scni_unit *scni_quantity_unit(const scni_quantity *q, const char *text,
                                    size_t len, scni_decimal *d,
                                    size_t *numlen)
{
    *numlen = scni_read_decimal(text, len, d);
    const char *u = text + *numlen;
    while (*numlen && *u == ' ')
        u++;
    return *numlen ? find_unit(q->units, u, len - (size_t)(u - text)) : NULL;
}

/* Largest unit that divides v exactly: 1GiB, 3GHz; plain bytes/Hz else. */
static void fmt_units(uint64_t v, const scni_unit *units, char *buf, size_t len)
{
    const scni_unit *best = NULL;
    for (const scni_unit *u = units + 1; u->name; u++)
        if (u->num && v && v % u->num == 0)
            best = u;
    if (best)
        snprintf(buf, len, "%llu%s", (unsigned long long)(v / best->num),
                 best->name);
    else
        snprintf(buf, len, "%llu%s", (unsigned long long)v, units[1].name);
}

/* ---- ranges --------------------------------------------------------------- */

scni_bounds scni_field_bounds(const scn_field *f)
{
    scni_bounds r = {f->min != 0, f->max != 0, f->min, f->max};
    /* A signed number keeps its lower bound 0 when there is an upper one. */
    if (f->type == SCN_DOUBLE && r.has_max)
        r.has_min = true;
    if (f->type == SCN_LIST && !r.has_max) {
        r.has_max = true;
        r.max = LIST_CAP_DEFAULT;
    }
    return r;
}

uint64_t scni_u64_of(double v)
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
        fmt_units(scni_u64_of(v), scni_quantities[f->type].units, buf, len);
        break;
    case SCN_DOUBLE:
        /* Whole numbers in full ("1000000", not "1e+06"). */
        if (v == floor(v) && fabs(v) < 1e15)
            snprintf(buf, len, "%.0f", v);
        else
            snprintf(buf, len, "%g", v);
        break;
    default:
        snprintf(buf, len, "%llu", (unsigned long long)scni_u64_of(v));
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
void scni_fmt_range(const scn_field *f, bool sentence, char *buf, size_t len)
{
    scni_bounds r = scni_field_bounds(f);
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

bool scni_in_range_u64(const scn_field *f, uint64_t v)
{
    scni_bounds r = scni_field_bounds(f);
    if (r.has_min && v < scni_u64_of(ceil(r.min)))
        return false;
    return !r.has_max || v <= scni_u64_of(floor(r.max));
}

bool scni_in_range_double(const scn_field *f, double v)
{
    scni_bounds r = scni_field_bounds(f);
    return (!r.has_min || v >= r.min) && (!r.has_max || v <= r.max);
}

/* ---- number text -------------------------------------------------------- */

/* YAML 1.2's float syntax without .inf/.nan:
 * [-+]? (\.[0-9]+ | [0-9]+(\.[0-9]*)?) ([eE][-+]?[0-9]+)? */
bool scni_is_float_text(const char *s, size_t len)
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
bool scni_looks_infinite(const char *s, size_t len)
{
    while (len && (*s == '-' || *s == '+' || *s == '.')) {
        s++;
        len--;
    }
    return equal_nocase(s, len, "inf") || equal_nocase(s, len, "infinity") ||
           equal_nocase(s, len, "nan");
}

/* ---- parsing and formatting values -------------------------------------- */

int scn_parse_number(const scn_field *f, const char *text, double *value,
                     int *timed)
{
    size_t len = strlen(text);
    *timed = 0;
    if (f->type == SCN_DOUBLE || f->type == SCN_U64) {
        if (!scni_is_float_text(text, len))
            return SIM_EINVAL;
        *value = strtod(text, NULL);
        return isfinite(*value) && (f->type == SCN_DOUBLE || *value >= 0) ? 0 : SIM_EINVAL;
    }
    if (f->type != SCN_SIZE && f->type != SCN_DURATION && f->type != SCN_FREQ)
        return SIM_EINVAL;
    scni_decimal d;
    size_t numlen;
    const scni_unit *un = scni_quantity_unit(&scni_quantities[f->type], text,
                                             len, &d, &numlen);
    if (!un || d.overflow)
        return SIM_EINVAL;
    double x = strtod(text, NULL);
    *timed = un->timed;
    *value = un->timed ? x * (1e9 / (double)un->den) : x * (double)un->num / (double)un->den;
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

