/*
 * scenario_ref.c -- text written from a schema: the Markdown key reference
 * (scn_write_reference(), which docs/scenarios.md is) and the canonical
 * text of a bound config (scn_write_canonical(), which sweeps hash).
 *
 * Both walk the schema in a fixed order and depend on nothing but the
 * schema and the config, so equal inputs give equal bytes.
 */
#include "sim/scenario.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_int.h"

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
    scni_fmt_range(f, false, range, sizeof range);
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

/* ---- the canonical text ------------------------------------------------- */

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
            scni_list_of(fl, base, &items, &count);
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
