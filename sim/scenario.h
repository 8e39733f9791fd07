/*
 * scenario.h -- YAML scenario files to validated config structs.
 *
 * The loader is generic: it knows nothing of guests. A caller describes the
 * config struct it wants with a schema (a table of scn_field rows: key, type,
 * offset, range, default, doc), and scn_load() parses the YAML with libyaml,
 * applies `--set path=value` overrides, and binds the tree onto the struct.
 * Models declare the schema of their own config next to it; models/ assembles
 * the top-level schema.
 *
 * Errors never print: they are collected in an scn_errors list, each with
 * file, line, column (1-based) and a message of the form
 *     <key>: expected <what>, found <what>[ (did you mean '<key>'?)]
 * which scn_error_format() renders as
 *     file:line:col: error: <message>
 * Unknown keys, wrong types, out-of-range values and missing required keys
 * are all errors. Nothing in the input may crash the loader or make it
 * allocate without bound (file size, nesting depth, node and list counts are
 * capped).
 *
 * Units (values are stored in base units):
 *   SCN_SIZE      bytes:   4096, 4KiB, 2 MiB, 1GiB, 1TiB, 512B
 *   SCN_DURATION  cycles:  1200 (plain = cycles), 1200cycles, 250ns, 1.5us,
 *                          2ms, 1s -- converted with the schema's clock field
 *   SCN_FREQ      Hz:      3.0GHz, 2500MHz, 100kHz, 50Hz
 *   SCN_U64, SCN_DOUBLE, SCN_BOOL (true/false), SCN_STRING, SCN_ENUM
 */
#ifndef PVSIM_SIM_SCENARIO_H
#define PVSIM_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/error.h"

typedef enum scn_type {
    SCN_U64,        /* uint64_t */
    SCN_DOUBLE,     /* double */
    SCN_BOOL,       /* bool */
    SCN_STRING,     /* char * (owned by the config; freed by scn_free) */
    SCN_ENUM,       /* int: index into enum_names */
    SCN_SIZE,       /* uint64_t bytes */
    SCN_DURATION,   /* uint64_t cycles */
    SCN_FREQ,       /* uint64_t Hz */
    SCN_STRUCT,     /* nested struct at offset, described by `sub` */
    SCN_LIST,       /* list of `sub` structs: pointer at offset, count at
                       count_offset (size_t) */
    SCN_BLOCK       /* a mapping read by another module (the `sweep:` block):
                       the binder checks that it is a mapping and stores
                       nothing; scn_doc_block() hands it over */
} scn_type;

enum scn_flags {
    SCN_REQUIRED = 1u << 0,  /* missing key is an error */
    SCN_CLOCK = 1u << 1,     /* SCN_FREQ field that converts durations; must
                                be a top-level field of the root schema */
};

typedef struct scn_schema scn_schema;

/* offsetof(type, member) that refuses to compile unless the member has
 * the C type the binder writes for the field: uint64_t for SCN_U64,
 * SCN_SIZE, SCN_DURATION and SCN_FREQ; double, bool, char * and int for
 * SCN_DOUBLE, SCN_BOOL, SCN_STRING and SCN_ENUM. A mismatch would make the
 * binder write past the member. */
#define SCN_AT(type, member, ctype)                                           \
    (offsetof(type, member) +                                                 \
     0 * sizeof(char[_Generic(((type *)0)->member, ctype: 1, default: -1)]))

typedef struct scn_field {
    const char *key;
    scn_type type;
    size_t offset;              /* offset of the member in the parent struct */
    unsigned flags;             /* enum scn_flags */
    double min, max;            /* inclusive range in base units for numeric
                                   types; min == max == 0 means unbounded.
                                   For SCN_LIST: item count range. For
                                   SCN_STRING: length range. */
    const char *def;            /* default as YAML text parsed like input
                                   ("4KiB", "1.5us"); NULL = zero/empty. For
                                   SCN_STRUCT, missing means all sub-defaults */
    const char *doc;            /* one line for the reference and errors */
    const scn_schema *sub;      /* SCN_STRUCT, SCN_LIST */
    const char *const *enum_names; /* SCN_ENUM: NULL-terminated */
    size_t count_offset;        /* SCN_LIST: offset of the size_t count */
} scn_field;

struct scn_schema {
    const char *name;           /* for the reference: "guest", "workload" */
    size_t size;                /* sizeof the struct */
    const scn_field *fields;
    size_t nfields;
};

/* Position of a node in its source. `file` is the scenario path, or
 * "<built-in>" / "--set" for values that came from elsewhere. */
typedef struct scn_mark {
    const char *file;           /* static or owned by the scn_doc */
    int line, col;              /* 1-based; 0 when unknown */
} scn_mark;

#define SCN_MAX_ERRORS 20

typedef struct scn_error {
    scn_mark mark;
    char message[512];          /* "<key>: expected ..., found ..." */
} scn_error;

typedef struct scn_errors {
    int count;                  /* errors stored (<= SCN_MAX_ERRORS) */
    int dropped;                /* errors beyond SCN_MAX_ERRORS */
    scn_error items[SCN_MAX_ERRORS];
} scn_errors;

/* The parsed document and its marks; kept for semantic checks after
 * binding. Opaque. */
typedef struct scn_doc scn_doc;

typedef struct scn_source {
    const char *path;           /* for messages and reading; NULL with text */
    const char *text;           /* if not NULL: parse this instead of path */
    size_t text_len;
    const char *const *sets;    /* "path=value" overrides, applied in order */
    size_t nsets;
    const scn_mark *set_marks;  /* if not NULL: the mark of each override's
                                   value (a sweep's values point into the
                                   sweep block); else {"--set", 0, i} */
} scn_source;

/*
 * Loads `src` and binds it onto `out`, a zeroed struct of `root->size`
 * bytes. Returns 0, or SIM_ESCENARIO with `errs` filled (SIM_EIO when the
 * file cannot be read, with an error naming the path; SIM_ENOMEM). On
 * success `*doc_out` (if not NULL) receives the document for scn_mark_of();
 * free it with scn_doc_free(). Whatever the outcome, free `out` with
 * scn_free() once done.
 */
int scn_load(const scn_schema *root, const scn_source *src, void *out,
             scn_doc **doc_out, scn_errors *errs);

/* Frees what scn_load() allocated inside `cfg` (strings, lists), not `cfg`
 * itself. Accepts NULL. */
void scn_free(const scn_schema *root, void *cfg);

/* The source mark of the node at a dotted path ("guests.1.workload.depth"),
 * for semantic errors; {file, 0, 0} if the path is absent. */
scn_mark scn_mark_of(const scn_doc *doc, const char *path);

void scn_doc_free(scn_doc *doc);

/* The node under top-level key `key` of the document, for a module that
 * reads an SCN_BLOCK field itself; NULL when absent or null. Valid until
 * scn_doc_free(). The node type is the loader's tree (sim/yamltree.h). */
const struct ytree_node *scn_doc_block(const scn_doc *doc, const char *key);

/* The schema row a dotted path names ("guests.3.workload.size": list
 * segments must be indices, of any value), or NULL when it names no
 * scalar field of `root`. */
const scn_field *scn_field_at(const scn_schema *root, const char *path);

/* The value bound at a dotted path of `cfg`, a struct bound by scn_load()
 * from `root`: *field gets its row and *value its address. SIM_ENOTFOUND
 * when the path names no scalar field, or a list item `cfg` lacks. */
int scn_lookup(const scn_schema *root, const void *cfg, const char *path,
               const scn_field **field, const void **value);

/* Writes the bound scalar at `value` as text in base units: an integer for
 * SCN_U64, SIZE (bytes), DURATION (cycles) and FREQ (Hz); "%.17g" for a
 * double; true/false; an enum's name; a string as it is ("" for NULL). */
void scn_format_value(const scn_field *field, const void *value, char *buf,
                      size_t len);

/* Writes every field of `cfg` as "path=value\n", in schema order and list
 * items in order: a canonical text of the configuration, equal for equal
 * configurations however they were written (sweeps hash it). */
int scn_write_canonical(const scn_schema *root, const void *cfg, FILE *f);

/* A number written as `field` takes it, in base units: bytes for sizes, Hz
 * for frequencies, and for durations cycles (a plain number) or, with a
 * time unit, nanoseconds (*timed set: the clock converts them later).
 * Doubles and integers as written. 0, or SIM_EINVAL for text the field
 * would refuse or a field that is not a number. */
int scn_parse_number(const scn_field *field, const char *text, double *value,
                     int *timed);
/* Adds an error; printf-style message without the "file:line:col: error: "
 * prefix. For semantic checks done by callers after scn_load(). */
void scn_errors_add(scn_errors *errs, scn_mark mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds an error "<path>: <message>" at the mark of dotted `path` in `doc`
 * (the key the user should change). */
void scn_errors_at(scn_errors *errs, const scn_doc *doc, const char *path, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* Renders one error as "file:line:col: error: message" into buf. */
void scn_error_format(const scn_error *e, char *buf, size_t len);

/* Writes the Markdown reference of every key of `root` (nested tables,
 * types, units, ranges, defaults, docs) to `f`. docs/scenarios.md is this
 * output; a test keeps them equal. */
int scn_write_reference(const scn_schema *root, FILE *f);

#endif
