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
    SCN_LIST        /* list of `sub` structs: pointer at offset, count at
                       count_offset (size_t) */
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

/* Adds an error; printf-style message without the "file:line:col: error: "
 * prefix. For semantic checks done by callers after scn_load(). */
void scn_errors_add(scn_errors *errs, scn_mark mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Renders one error as "file:line:col: error: message" into buf. */
void scn_error_format(const scn_error *e, char *buf, size_t len);

/* Writes the Markdown reference of every key of `root` (nested tables,
 * types, units, ranges, defaults, docs) to `f`. docs/scenarios.md is this
 * output; a test keeps them equal. */
int scn_write_reference(const scn_schema *root, FILE *f);

#endif
