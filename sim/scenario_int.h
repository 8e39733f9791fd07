/*
 * scenario_int.h -- what the files of the scenario loader share. Private:
 * included by sim/scenario*.c only, never by another module, which sees
 * scenario.h alone.
 *
 * The loader of scenario.h is four files:
 *   scenario.c        loading and binding: scn_load(), the errors, the
 *                     document and its marks, scn_free();
 *   scenario_units.c  numbers, units, quantities and ranges:
 *                     scn_parse_number(), scn_format_value();
 *   scenario_set.c    dotted paths: the --set overrides applied to the
 *                     parsed tree, scn_field_at(), scn_lookup();
 *   scenario_ref.c    text written from a schema: scn_write_reference(),
 *                     scn_write_canonical().
 * Everything here carries the scni_ prefix and is defined in the file its
 * section names. None of it holds state, and none of it reports errors
 * itself unless its contract says so.
 */
#ifndef PVSIM_SIM_SCENARIO_INT_H
#define PVSIM_SIM_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"
#include "sim/yamltree.h"

/* ---- scenario.c: nodes, schemas and bound lists ------------------------- */

#define SCNI_SHOWN_TEXT 68      /* bytes of a scalar or an override quoted
                                   in a message */

/* True for a plain scalar YAML reads as null: empty, "~", "null", "Null"
 * or "NULL"; false for a quoted scalar, a mapping or a list. */
bool scni_is_null(const ytree_node *n);

/* What a message says was found where a mapping or list was expected:
 * "a mapping", "a list" or "a scalar 'x'" (the text shortened to
 * SCNI_SHOWN_TEXT bytes). Truncates to `len`. */
void scni_found_kind(const ytree_node *n, char *buf, size_t len);

/* The row of `s` whose key is the `len` bytes at `key`, or NULL. */
const scn_field *scni_schema_find(const scn_schema *s, const char *key,
                                  size_t len);

/* *items and *count of list field `f` of the struct at `base`, as the
 * binder stored them: NULL and 0 when the list has no items. */
void scni_list_of(const scn_field *f, const char *base, char **items,
                  size_t *count);

/* ---- scenario_units.c: numbers and units -------------------------------- */

/* A decimal number exactly as written. */
typedef struct scni_decimal {
    uint64_t mant;              /* the digits, point removed */
    int frac;                   /* digits after the point */
    bool overflow;
} scni_decimal;

/* Reads `[0-9]+(\.[0-9]*)?` or `\.[0-9]+` at the start of the `len` bytes
 * at `s` into *d; returns the bytes read, 0 when there is no number.
 * d->overflow is set when the digits do not fit in 64 bits or more than 19
 * follow the point. */
size_t scni_read_decimal(const char *s, size_t len, scni_decimal *d);

/* What scni_scale() returns. */
enum { SCNI_SCALE_OK, SCNI_SCALE_FRACTION, SCNI_SCALE_OVERFLOW };

/* *out = d * num / den, exact (SCNI_SCALE_FRACTION when it is not whole)
 * or, with `round`, rounded to nearest; SCNI_SCALE_OVERFLOW when d
 * overflowed or the result does not fit in 64 bits. *out is written on
 * SCNI_SCALE_OK only. */
int scni_scale(const scni_decimal *d, uint64_t num, uint64_t den, bool round,
               uint64_t *out);

typedef struct scni_unit {
    const char *name;           /* exact spelling; "" for a plain number */
    uint64_t num, den;          /* base units per unit = num / den */
    bool timed;                 /* num is the clock: round to nearest */
} scni_unit;

typedef struct scni_unit_alias {
    const char *alias;          /* compared ignoring case */
    const char *canon;
} scni_unit_alias;

typedef struct scni_quantity {
    const char *what;           /* "a size in B, KiB, ..." */
    const char *noun;           /* "a size", for ranges */
    const char *base;           /* "bytes", for fractions */
    const scni_unit *units;     /* ends with a NULL name */
    const scni_unit_alias *aliases; /* ends with a NULL alias */
} scni_quantity;

/* The quantities, indexed by SCN_SIZE, SCN_DURATION and SCN_FREQ only. */
extern const scni_quantity scni_quantities[];

/* The unit an alias of `al` stands for ("kb" -> "KiB"), matching the `len`
 * bytes at `s` ignoring ASCII case; NULL when none does. */
const char *scni_find_alias(const scni_unit_alias *al, const char *s,
                            size_t len);

/* Splits "64 KiB" (the `len` bytes at `text`) into its number (*d,
 * *numlen bytes of text) and its unit, one of q's spelt exactly; NULL when
 * there is no number or no such unit. */
const scni_unit *scni_quantity_unit(const scni_quantity *q, const char *text,
                                    size_t len, scni_decimal *d,
                                    size_t *numlen);

/* True when the `len` bytes at `s` are YAML 1.2's float syntax without
 * .inf/.nan: [-+]? (\.[0-9]+ | [0-9]+(\.[0-9]*)?) ([eE][-+]?[0-9]+)? */
bool scni_is_float_text(const char *s, size_t len);

/* True for "inf", ".inf", "-Infinity", "NaN", ...: numbers, but not
 * finite ones. */
bool scni_looks_infinite(const char *s, size_t len);

/* ---- scenario_units.c: ranges ------------------------------------------- */

/* A field's range in base units, as scn_field's min and max mean it. */
typedef struct scni_bounds {
    bool has_min, has_max;
    double min, max;
} scni_bounds;

/* The range of `f`: its min and max where not 0; a bounded SCN_DOUBLE
 * keeps 0 as its lower bound; an SCN_LIST without a maximum gets the
 * loader's cap on items. */
scni_bounds scni_field_bounds(const scn_field *f);

/* `v` as a uint64_t: 0 for v <= 0, UINT64_MAX from 2^64 up. */
uint64_t scni_u64_of(double v);

/* Writes the range of `f` with its unit into buf: "1 to 64", "at least 1",
 * "at most 64" (with `sentence`: "from 1 to 64", "of at least 1", "of at
 * most 64"); "" when unbounded. Truncates to `len`. */
void scni_fmt_range(const scn_field *f, bool sentence, char *buf, size_t len);

/* True when `v` lies in the range of `f`: an integer-valued field's
 * value, a string's length in characters or a list's item count. */
bool scni_in_range_u64(const scn_field *f, uint64_t v);

/* True when `v` lies in the range of `f`, an SCN_DOUBLE. */
bool scni_in_range_double(const scn_field *f, double v);

/* ---- scenario_set.c: paths and overrides -------------------------------- */

/* One segment of a dotted path, pointing into the path's text. */
typedef struct scni_seg {
    const char *s;
    size_t len;
} scni_seg;

/* Splits "a.b.0.c" or "a.b[0].c" (the `len` bytes at `p`) into at most
 * `max` segments. Returns the count, or -1 when the path is malformed
 * (empty, an empty segment, bad brackets, more than `max` segments). */
int scni_split_path(const char *p, size_t len, scni_seg *segs, int max);

/* The list index a segment spells (at most 9 digits), or -1. */
long scni_seg_index(const scni_seg *sg);

/* Applies override `i` of `src` ("path=value") to the tree at `root`,
 * creating the mappings and lists on its path. Returns 0, with any error in
 * the override added to `errs` at its mark, or SIM_ENOMEM. */
int scni_apply_set(ytree_node *root, const scn_source *src, size_t i,
                   ytree_errs *errs);

#endif
