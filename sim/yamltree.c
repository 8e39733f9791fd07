/*
 * yamltree.c -- libyaml events to the tree of yamltree.h.
 *
 * The builder keeps a stack of the containers still open (at most
 * YTREE_MAX_DEPTH). Each new node is attached to the top of the stack as
 * soon as it is created, so on any error freeing the root frees everything.
 * Limits are checked before the allocation they guard. Keys are checked when
 * their mapping ends: a sort by key text finds duplicates in O(n log n), so
 * a mapping with 100,000 keys costs no more than a list of them.
 */
#include "sim/yamltree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct builder {
    const char *file;
    ytree_errs *errs;
    ytree_node *root;
    ytree_node *stack[YTREE_MAX_DEPTH];
    int depth;                  /* containers open */
    size_t nodes;               /* nodes created so far */
    int docs;                   /* documents started */
} builder;

/* ---- nodes ------------------------------------------------------------- */

/* A childless node; NULL when out of memory. */
ytree_node *ytree_new(ytree_kind kind, scn_mark mark)
{
    ytree_node *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->mark = mark;
    }
    return n;
}

/* A scalar owning a NUL-terminated copy of the text; NULL when out of
 * memory. */
ytree_node *ytree_new_scalar(scn_mark mark, const char *text, size_t len,
                             bool quoted)
{
    ytree_node *n = ytree_new(YTREE_SCALAR, mark);
    char *copy = malloc(len + 1);
    if (!n || !copy) {
        free(n);
        free(copy);
        return NULL;
    }
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    n->text = copy;
    n->len = len;
    n->quoted = quoted;
    return n;
}

/* Takes `kid` on success; on SIM_ENOMEM the caller still owns it. */
int ytree_append(ytree_node *parent, ytree_node *kid)
{
    if (parent->nkids == parent->cap) {
        /* Doubling keeps appends amortised O(1); the node limit bounds it. */
        size_t cap = parent->cap ? parent->cap * 2 : 4;
        ytree_node **kids = realloc(parent->kids, cap * sizeof *kids);
        if (!kids)
            return SIM_ENOMEM;
        parent->kids = kids;
        parent->cap = cap;
    }
    parent->kids[parent->nkids++] = kid;
    return 0;
}

/* Linear scan: schemas look up a handful of keys per mapping. */
ytree_node *ytree_get(const ytree_node *map, const char *key, size_t len,
                      size_t *index)
{
    if (!map || map->kind != YTREE_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->nkids; i += 2) {
        const ytree_node *k = map->kids[i];
        if (k->len == len && memcmp(k->text, key, len) == 0) {
            if (index)
                *index = i + 1;
            return map->kids[i + 1];
        }
    }
    return NULL;
}

/* Relabels a whole subtree (the value of an override). */
void ytree_set_mark(ytree_node *node, scn_mark mark)
{
    node->mark = mark;
    for (size_t i = 0; i < node->nkids; i++)
        ytree_set_mark(node->kids[i], mark);
}

/* Recursive; depth is bounded by the parse limits. Accepts NULL. */
void ytree_free(ytree_node *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->nkids; i++)
        ytree_free(node->kids[i]);
    free(node->kids);
    free(node->text);
    free(node);
}

/* ---- errors ------------------------------------------------------------ */

/* Never fails: what cannot be stored is counted in `dropped`. */
void ytree_err(ytree_errs *errs, scn_mark mark, const char *fmt, ...)
{
    if (errs->n == YTREE_MAX_ERRS) {
        errs->dropped++;
        return;
    }
    if (errs->n == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 8;
        scn_error *v = realloc(errs->v, cap * sizeof *v);
        if (!v) {
            errs->dropped++;
            errs->lost = true;
            return;
        }
        errs->v = v;
        errs->cap = cap;
    }
    scn_error *e = &errs->v[errs->n++];
    e->mark = mark;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* Leaves `errs` empty and reusable. */
void ytree_errs_free(ytree_errs *errs)
{
    free(errs->v);
    *errs = (ytree_errs){0};
}

/* Safe for messages: no control bytes, bounded, NUL-terminated. */
void ytree_print_text(char *dst, size_t n, const char *text, size_t len)
{
    if (n == 0)
        return;
    size_t room = n - 1, out = 0;
    bool cut = len > room;
    if (cut) {
        /* Keep whole UTF-8 characters and leave room for "...". */
        len = room >= 3 ? room - 3 : 0;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        /* Control bytes would garble the terminal the message ends up on. */
        dst[out++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (cut && room >= 3) {
        memcpy(dst + out, "...", 3);
        out += 3;
    }
    dst[out] = '\0';
}

/* ---- key paths for messages --------------------------------------------- */

/* Appends the segment for kid `k` of container `c` ("name", "3") to `buf`.
 * Returns false when the kid is a key slot, which has no segment. */
static bool append_segment(char *buf, size_t n, const ytree_node *c, size_t k)
{
    if (c->kind == YTREE_MAP && k % 2 == 0)
        return false;
    size_t used = strlen(buf);
    if (used + 2 >= n)
        return true;        /* full: the path is cut short, still a string */
    char *p = buf + used;
    size_t room = n - used;
    if (used) {
        *p++ = '.';
        *p = '\0';
        room--;
    }
    if (c->kind == YTREE_SEQ) {
        snprintf(p, room, "%zu", k);
        return true;
    }
    const ytree_node *key = c->kids[k - 1];
    if (key->kind == YTREE_SCALAR)
        ytree_print_text(p, room, key->text, key->len);
    else
        snprintf(p, room, "?");
    return true;
}

/* The dotted path of the innermost open container, or with `pending` of the
 * node about to be attached to it ("" for the root). */
static void stack_path(const builder *b, bool pending, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int i = 0; i < b->depth; i++) {
        const ytree_node *c = b->stack[i];
        bool last = i == b->depth - 1;
        if (last && !pending)
            break;
        /* The open child of c is its last kid; a pending one comes next. */
        size_t k = last ? c->nkids : c->nkids - 1;
        if (!append_segment(buf, n, c, k))
            break;
    }
}

/* "path: " or "" for the root, so messages read well at either level. */
static void path_prefix(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", path, *path ? ": " : "");
}

/* ---- building ---------------------------------------------------------- */

static scn_mark event_mark(const builder *b, const yaml_event_t *ev)
{
    return (scn_mark){b->file, (int)ev->start_mark.line + 1,
                      (int)ev->start_mark.column + 1};
}

/* Counts a node against the limit before it is allocated. */
static int count_node(builder *b, scn_mark m)
{
    if (++b->nodes <= YTREE_MAX_NODES)
        return 0;
    ytree_err(b->errs, m, "expected at most %d nodes, found more",
              YTREE_MAX_NODES);
    return SIM_ESCENARIO;
}

/* Attaches `node` (owned) as the next kid of the open container or as the
 * root. */
static int attach(builder *b, ytree_node *node)
{
    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    if (ytree_append(b->stack[b->depth - 1], node) != 0) {
        ytree_free(node);
        return SIM_ENOMEM;
    }
    return 0;
}

/* Reports an anchor ('&') or alias ('*') named `name` at `ev`. */
static int refuse_reference(builder *b, const yaml_event_t *ev, const char *kind,
                            char sigil, const yaml_char_t *name)
{
    char path[256], prefix[260];
    stack_path(b, true, path, sizeof path);
    path_prefix(path, prefix, sizeof prefix);
    ytree_err(b->errs, event_mark(b, ev),
              "%sexpected a value, found %s '%c%.64s' "
              "(anchors and aliases are not allowed)",
              prefix, kind, sigil, (const char *)name);
    return SIM_ESCENARIO;
}

/* Anchors are refused outright: without them no alias can refer back, and
 * the tree is never larger than the text. */
static int refuse_anchor(builder *b, const yaml_event_t *ev,
                         const yaml_char_t *anchor)
{
    return anchor ? refuse_reference(b, ev, "an anchor", '&', anchor) : 0;
}

/* Tags (!!binary, !!str, !custom) are refused too: the loader types every
 * value by its schema, so a tag could only be ignored, silently. */
static int refuse_tag(builder *b, const yaml_event_t *ev, const yaml_char_t *tag)
{
    if (!tag)
        return 0;
    char path[256], prefix[260];
    stack_path(b, true, path, sizeof path);
    path_prefix(path, prefix, sizeof prefix);
    ytree_err(b->errs, event_mark(b, ev),
              "%sexpected a value, found the tag '%.64s' (tags are not allowed: "
              "the schema gives every value its type)", prefix, (const char *)tag);
    return SIM_ESCENARIO;
}

static int on_alias(builder *b, const yaml_event_t *ev)
{
    return refuse_reference(b, ev, "an alias", '*', ev->data.alias.anchor);
}

static int on_scalar(builder *b, const yaml_event_t *ev)
{
    scn_mark m = event_mark(b, ev);
    int rc = refuse_anchor(b, ev, ev->data.scalar.anchor);
    if (rc == 0)
        rc = refuse_tag(b, ev, ev->data.scalar.tag);
    if (rc == 0)
        rc = count_node(b, m);
    if (rc)
        return rc;
    bool quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    ytree_node *n = ytree_new_scalar(m, (const char *)ev->data.scalar.value,
                                     ev->data.scalar.length, quoted);
    return n ? attach(b, n) : SIM_ENOMEM;
}

static int on_start(builder *b, const yaml_event_t *ev, ytree_kind kind,
                    const yaml_char_t *anchor, const yaml_char_t *tag)
{
    scn_mark m = event_mark(b, ev);
    int rc = refuse_anchor(b, ev, anchor);
    if (rc == 0)
        rc = refuse_tag(b, ev, tag);
    if (rc == 0 && b->depth == YTREE_MAX_DEPTH) {
        char path[256], prefix[260];
        stack_path(b, true, path, sizeof path);
        path_prefix(path, prefix, sizeof prefix);
        ytree_err(b->errs, m, "%sexpected at most %d levels of nesting, "
                  "found more", prefix, YTREE_MAX_DEPTH);
        rc = SIM_ESCENARIO;
    }
    if (rc == 0)
        rc = count_node(b, m);
    if (rc)
        return rc;
    ytree_node *n = ytree_new(kind, m);
    if (!n)
        return SIM_ENOMEM;
    rc = attach(b, n);
    if (rc == 0)
        b->stack[b->depth++] = n;
    return rc;
}

typedef struct key_ref {
    const ytree_node *key;
    size_t pair;                /* index of the pair in its mapping */
} key_ref;

/* Orders by key bytes, then by position, so the first of equal keys leads. */
static int cmp_key_ref(const void *pa, const void *pb)
{
    const key_ref *a = pa, *b = pb;
    size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
    int c = memcmp(a->key->text, b->key->text, n);
    if (c == 0 && a->key->len != b->key->len)
        c = a->key->len < b->key->len ? -1 : 1;
    if (c == 0)
        c = a->pair < b->pair ? -1 : (a->pair > b->pair);
    return c;
}

/* Reports the duplicate keys of `refs` (sorted) and marks them in `drop`. */
static void find_duplicates(builder *b, const key_ref *refs, size_t n,
                            bool *drop)
{
    char path[256];
    stack_path(b, false, path, sizeof path);
    size_t first = 0;
    for (size_t j = 1; j < n; j++) {
        if (cmp_key_ref(&(key_ref){refs[j].key, 0},
                        &(key_ref){refs[first].key, 0}) != 0) {
            first = j;
            continue;
        }
        char key[128];
        ytree_print_text(key, sizeof key, refs[j].key->text, refs[j].key->len);
        ytree_err(b->errs, refs[j].key->mark,
                  "%s%s%s: duplicate key, first at line %d", path,
                  *path ? "." : "", key, refs[first].key->mark.line);
        drop[refs[j].pair] = true;
    }
}

/* Removes the pairs marked in `drop`, keeping the order of the others. */
static void drop_pairs(ytree_node *map, const bool *drop)
{
    size_t out = 0;
    for (size_t i = 0; i < map->nkids / 2; i++) {
        if (drop[i]) {
            ytree_free(map->kids[2 * i]);
            ytree_free(map->kids[2 * i + 1]);
            continue;
        }
        map->kids[out++] = map->kids[2 * i];
        map->kids[out++] = map->kids[2 * i + 1];
    }
    map->nkids = out;
}

/* Keys must be scalars and unique; offenders are reported and dropped so
 * that every later lookup is unambiguous. */
static int check_keys(builder *b, ytree_node *map)
{
    size_t npairs = map->nkids / 2, n = 0;
    if (npairs == 0)
        return 0;
    key_ref *refs = malloc(npairs * sizeof *refs);
    bool *drop = calloc(npairs, sizeof *drop);
    if (!refs || !drop) {
        free(refs);
        free(drop);
        return SIM_ENOMEM;
    }
    for (size_t i = 0; i < npairs; i++) {
        const ytree_node *key = map->kids[2 * i];
        if (key->kind == YTREE_SCALAR) {
            refs[n++] = (key_ref){key, i};
            continue;
        }
        ytree_err(b->errs, key->mark, "expected a scalar key, found %s",
                  key->kind == YTREE_MAP ? "a mapping" : "a list");
        drop[i] = true;
    }
    qsort(refs, n, sizeof *refs, cmp_key_ref);
    find_duplicates(b, refs, n, drop);
    drop_pairs(map, drop);
    free(refs);
    free(drop);
    return 0;
}

static int on_end(builder *b)
{
    ytree_node *top = b->stack[b->depth - 1];
    int rc = top->kind == YTREE_MAP ? check_keys(b, top) : 0;
    b->depth--;
    return rc;
}

static int on_document(builder *b, const yaml_event_t *ev)
{
    if (b->docs++ == 0)
        return 0;
    ytree_err(b->errs, event_mark(b, ev),
              "expected one document, found a second one");
    return SIM_ESCENARIO;
}

static int on_event(builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        return on_document(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, YTREE_SEQ, ev->data.sequence_start.anchor,
                        ev->data.sequence_start.tag);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, YTREE_MAP, ev->data.mapping_start.anchor,
                        ev->data.mapping_start.tag);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    default:
        return 0;   /* stream start/end, document end: nothing to build */
    }
}

/* libyaml's reader reports a byte offset, not a line: count it out. */
static scn_mark mark_at_offset(const char *file, const char *text, size_t len,
                               size_t off)
{
    int line = 1;
    size_t bol = 0;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            bol = i + 1;
        }
    }
    return (scn_mark){file, line, (int)(off - bol) + 1};
}

static int parser_error(builder *b, const yaml_parser_t *p, const char *text,
                        size_t len)
{
    if (p->error == YAML_MEMORY_ERROR)
        return SIM_ENOMEM;
    scn_mark m = {b->file, (int)p->problem_mark.line + 1,
                  (int)p->problem_mark.column + 1};
    if (p->error == YAML_READER_ERROR)
        m = mark_at_offset(b->file, text, len, p->problem_offset);
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->context)
        ytree_err(b->errs, m, "syntax error: %s (%s at line %d)", problem,
                  p->context, (int)p->context_mark.line + 1);
    else
        ytree_err(b->errs, m, "syntax error: %s", problem);
    return SIM_ESCENARIO;
}

/* Pulls events until the stream ends or an error is fatal; the tree is
 * the caller's on success only. */
int ytree_parse(const char *file, const char *text, size_t len,
                ytree_node **out, ytree_errs *errs)
{
    *out = NULL;
    if (len > YTREE_MAX_BYTES) {
        ytree_err(errs, (scn_mark){file, 0, 0},
                  "expected at most 4 MiB of YAML, found %zu bytes", len);
        return SIM_ESCENARIO;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return SIM_ENOMEM;
    /* libyaml asserts a non-NULL input even when it is empty. */
    yaml_parser_set_input_string(&p, (const unsigned char *)(text ? text : ""),
                                 text ? len : 0);
    builder b = {.file = file, .errs = errs};
    int rc = 0;
    bool done = false;
    while (rc == 0 && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_error(&b, &p, text, len);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (rc) {
        ytree_free(b.root);
        return rc;
    }
    *out = b.root;
    return 0;
}
