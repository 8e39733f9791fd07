/*
 * yamltree.h -- a small YAML document tree, internal to the scenario loader.
 *
 * ytree_parse() reads one YAML document with libyaml's event API into a tree
 * of mappings, sequences and scalars. Every node keeps the mark where it
 * starts; scalars keep their text and whether they were quoted (a quoted
 * scalar is always a string, never a number or a boolean).
 *
 * The tree refuses what could make a hostile file expensive: anchors and
 * aliases (exponential expansion), more than one document, more than
 * YTREE_MAX_BYTES of text, nesting deeper than YTREE_MAX_DEPTH and more than
 * YTREE_MAX_NODES nodes. Each is an error with a position, found before the
 * allocation it would cause.
 *
 * Errors go to a ytree_errs list, which the loader sorts into document order
 * before handing the first SCN_MAX_ERRORS to its caller.
 *
 * Invariants of a tree returned by ytree_parse():
 *   - a mapping has an even number of kids: key, value, key, value, ...;
 *     every key is a scalar and no two keys are equal (byte for byte);
 *   - every scalar's text is NUL-terminated (it may hold NUL bytes too,
 *     from "\0" escapes; `len` counts them);
 *   - depth <= YTREE_MAX_DEPTH, so recursive walks are bounded.
 */
#ifndef PVSIM_SIM_YAMLTREE_H
#define PVSIM_SIM_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/scenario.h"

#define YTREE_MAX_BYTES ((size_t)4 << 20)   /* 4 MiB of YAML text */
#define YTREE_MAX_DEPTH 32                  /* nested mappings/sequences */
#define YTREE_MAX_NODES 200000              /* keys, values and items */
#define YTREE_MAX_ERRS 1024                 /* errors kept before sorting */

typedef enum ytree_kind {
    YTREE_MAP,
    YTREE_SEQ,
    YTREE_SCALAR
} ytree_kind;

typedef struct ytree_node ytree_node;

struct ytree_node {
    ytree_kind kind;
    scn_mark mark;              /* where the node starts */
    char *text;                 /* YTREE_SCALAR: owned, NUL-terminated */
    size_t len;                 /* YTREE_SCALAR: bytes in text */
    bool quoted;                /* YTREE_SCALAR: not plain (quoted, block) */
    ytree_node **kids;          /* owned; map: key, value pairs */
    size_t nkids, cap;
};

/* A growable list of errors; zero-initialise it. At most YTREE_MAX_ERRS are
 * kept, the rest (and any that could not be stored) are counted in
 * `dropped`. */
typedef struct ytree_errs {
    scn_error *v;               /* owned */
    size_t n, cap;
    int dropped;
    bool lost;                  /* one was dropped for want of memory */
} ytree_errs;

/*
 * Parses `len` bytes of `text` as one YAML document. Marks name `file`,
 * which must outlive the tree and every error (it is not copied).
 * Returns 0 with *out = the root (NULL for a stream with no document), or
 * SIM_ESCENARIO with *out = NULL after a fatal error (syntax, alias or anchor,
 * a limit, a second document), or SIM_ENOMEM. Duplicate and non-scalar keys
 * are not fatal: they are reported, dropped from the tree, and the parse
 * goes on, so a return of 0 may still come with errors in `errs`.
 * The caller owns *out; free it with ytree_free().
 */
int ytree_parse(const char *file, const char *text, size_t len,
                ytree_node **out, ytree_errs *errs);

/* A new childless node of `kind`, or NULL when out of memory. */
ytree_node *ytree_new(ytree_kind kind, scn_mark mark);

/* A new scalar holding a copy of `len` bytes of `text`, or NULL when out of
 * memory. */
ytree_node *ytree_new_scalar(scn_mark mark, const char *text, size_t len,
                             bool quoted);

/* Appends `kid` to `parent`, which takes ownership. Returns 0 or SIM_ENOMEM
 * (then `kid` still belongs to the caller). */
int ytree_append(ytree_node *parent, ytree_node *kid);

/* The value under the key equal to the `len` bytes of `key` in mapping
 * `map`, or NULL. With `index` not NULL, stores the value's slot in kids. */
ytree_node *ytree_get(const ytree_node *map, const char *key, size_t len,
                      size_t *index);

/* Gives `node` and everything below it the mark `mark`. */
void ytree_set_mark(ytree_node *node, scn_mark mark);

/* Frees `node` and everything below it. Accepts NULL. */
void ytree_free(ytree_node *node);

/* Adds an error at `mark` to `errs` (printf-style). Never fails: an error
 * that cannot be stored is counted in errs->dropped. */
void ytree_err(ytree_errs *errs, scn_mark mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies `len` bytes of `text` into `dst` (`n` bytes) for a message:
 * control bytes become '?', and text that does not fit is cut at a character
 * boundary and ends in "...". Always NUL-terminates when n > 0. */
void ytree_print_text(char *dst, size_t n, const char *text, size_t len);

/* Frees the storage of `errs` and empties it. */
void ytree_errs_free(ytree_errs *errs);

#endif
