/*
 * trace.c -- the recorder of trace.h: names, tracks, signals, and the
 * bounded stores of slices, value changes and rows.
 *
 * Labels are interned in a hash table (models ask for them while they are
 * built, and the guests' request markers by name during the run), so equal
 * names cost one string. Every store grows by doubling up to the limit and
 * never beyond, which is what bounds the memory of a long traced run.
 */
#include "sim/trace.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"
#include "sim/trace_int.h"

/* ---- growing arrays -------------------------------------------------- */

static void vec_init(vec *v, size_t size)
{
    *v = (vec){.size = size};
}

/* A new zeroed item at the end; NULL when memory is short. */
static void *vec_push(vec *v)
{
    if (v->len == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 64;
        if (cap <= v->cap)
            return NULL;
        void *items = realloc(v->items, (size_t)cap * v->size);
        if (!items)
            return NULL;
        v->items = items;
        v->cap = cap;
    }
    void *item = (char *)v->items + (size_t)v->len++ * v->size;
    memset(item, 0, v->size);
    return item;
}

static char *copy(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    return c ? memcpy(c, s, n) : NULL;
}

/* ---- the recorder ------------------------------------------------------ */

enum { STORES = 8 };
_Static_assert(sizeof(trc_mark) == STORES * sizeof(uint32_t), "a mark holds every store");

/* Every store in a fixed order: for freeing, and for marks (trc_mark). */
static void stores(const trc_recorder *t, const vec *out[STORES])
{
    const vec *all[STORES] = {&t->variants, &t->labels, &t->processes, &t->tracks,
                              &t->signals, &t->slices, &t->changes, &t->rows};
    memcpy(out, all, sizeof all);
}

trc_recorder *trc_new(unsigned what, const trc_limit *limit)
{
    trc_recorder *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->what = what;
    t->max_events = limit && limit->max_events ? limit->max_events : TRC_DEFAULT_LIMIT;
    t->from = limit ? limit->from : 0;
    t->to = limit && limit->to ? limit->to : SIM_TIME_MAX;
    t->next_flow = 1;
    vec_init(&t->variants, sizeof(variant_rec));
    vec_init(&t->labels, sizeof(label_rec));
    vec_init(&t->processes, sizeof(process_rec));
    vec_init(&t->tracks, sizeof(track_rec));
    vec_init(&t->signals, sizeof(signal_rec));
    vec_init(&t->slices, sizeof(slice_rec));
    vec_init(&t->changes, sizeof(change_rec));
    vec_init(&t->rows, sizeof(uint64_t));
    /* Id 0 of labels, processes, tracks and signals is "none". */
    if (!vec_push(&t->labels) || !vec_push(&t->processes) || !vec_push(&t->tracks) ||
        !vec_push(&t->signals)) {
        trc_free(t);
        return NULL;
    }
    return t;
}

void trc_free(trc_recorder *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->variants.len; i++)
        free(VEC_AT(t->variants, variant_rec, i)->name);
    for (uint32_t i = 0; i < t->labels.len; i++)
        free(VEC_AT(t->labels, label_rec, i)->name);
    for (uint32_t i = 0; i < t->processes.len; i++)
        free(VEC_AT(t->processes, process_rec, i)->name);
    for (uint32_t i = 0; i < t->tracks.len; i++)
        free(VEC_AT(t->tracks, track_rec, i)->name);
    for (uint32_t i = 0; i < t->signals.len; i++) {
        signal_rec *s = VEC_AT(t->signals, signal_rec, i);
        free(s->group);
        free(s->unit);
        free(s->name);
    }
    const vec *all[STORES];
    stores(t, all);
    for (int i = 0; i < STORES; i++)
        free(all[i]->items);
    free(t->label_hash);
    free(t);
}

int trc_wants(const trc_recorder *t, unsigned kind)
{
    return t && (t->what & kind) && t->status == 0;
}

int trc_status(const trc_recorder *t)
{
    return t->status;
}

static void out_of_memory(trc_recorder *t)
{
    t->status = SIM_ENOMEM;
}

const variant_rec *trc_current(const trc_recorder *t)
{
    return t->variants.len ? VEC_AT(t->variants, variant_rec, t->variants.len - 1) : NULL;
}

int trc_variant(trc_recorder *t, const char *name, uint64_t clock_hz)
{
    char *c = copy(name);
    variant_rec *v = c ? vec_push(&t->variants) : NULL;
    if (!v) {
        free(c);
        out_of_memory(t);
        return SIM_ENOMEM;
    }
    v->name = c;
    v->clock_hz = clock_hz;
    v->first_change = t->changes.len;
    return 0;
}

/* Whether a record of `kind` at `at` is kept: inside the window and under
 * the variant's count; the first one over the count marks the cut. */
static int keep(trc_recorder *t, int kind, sim_time at)
{
    if (t->status || !t->variants.len || at < t->from || at >= t->to)
        return 0;
    variant_rec *v = VEC_AT(t->variants, variant_rec, t->variants.len - 1);
    if (v->kept[kind] < t->max_events) {
        v->kept[kind]++;
        return 1;
    }
    if (!v->cut[kind]) {
        v->cut[kind] = 1;
        v->cut_at[kind] = at;
    }
    return 0;
}

/* ---- labels ------------------------------------------------------------ */

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static uint32_t hash_label(const char *name, const char *cat, const char *arg)
{
    uint32_t h = 2166136261u;       /* FNV-1a over the three strings */
    const char *parts[3] = {name, cat ? cat : "", arg ? arg : ""};
    for (int p = 0; p < 3; p++) {
        for (const char *s = parts[p]; *s; s++)
            h = (h ^ (unsigned char)*s) * 16777619u;
        h = (h ^ 0xffu) * 16777619u;
    }
    return h;
}

/* The slot of the table where the triple is, or the empty one where it
 * would go. */
static uint32_t *hash_slot(const trc_recorder *t, const char *name, const char *cat,
                           const char *arg)
{
    uint32_t mask = t->hash_cap - 1, i = hash_label(name, cat, arg) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t id = t->label_hash[i];
        const label_rec *l = VEC_AT(t->labels, label_rec, id);
        if (id == 0 || (same(l->name, name) && same(l->cat, cat) && same(l->arg, arg)))
            return &t->label_hash[i];
    }
}

/* Keeps the table at most half full. */
static int grow_hash(trc_recorder *t)
{
    if (t->labels.len * 2 < t->hash_cap)
        return 0;
    uint32_t cap = t->hash_cap ? t->hash_cap * 2 : 256;
    uint32_t *table = calloc(cap, sizeof *table);
    if (!table)
        return SIM_ENOMEM;
    free(t->label_hash);
    t->label_hash = table;
    t->hash_cap = cap;
    for (uint32_t id = 1; id < t->labels.len; id++) {
        const label_rec *l = VEC_AT(t->labels, label_rec, id);
        *hash_slot(t, l->name, l->cat, l->arg) = id;
    }
    return 0;
}

trc_id trc_label(trc_recorder *t, const char *name, const char *cat, const char *arg)
{
    if (t->status || grow_hash(t)) {
        out_of_memory(t);
        return 0;
    }
    uint32_t *slot = hash_slot(t, name, cat, arg);
    if (*slot)
        return *slot;
    char *c = copy(name);
    label_rec *l = c ? vec_push(&t->labels) : NULL;
    if (!l) {
        free(c);
        out_of_memory(t);
        return 0;
    }
    *l = (label_rec){.name = c, .cat = cat, .arg = arg};
    *slot = t->labels.len - 1;
    return *slot;
}

/* ---- tracks ------------------------------------------------------------ */

/* The variant's process `group`, made at its first use. */
static uint32_t process_of(trc_recorder *t, const char *group)
{
    uint32_t v = t->variants.len - 1;
    for (uint32_t p = 1; p < t->processes.len; p++) {
        const process_rec *pr = VEC_AT(t->processes, process_rec, p);
        if (pr->variant == v && strcmp(pr->name, group) == 0)
            return p;
    }
    char *c = copy(group);
    process_rec *pr = c ? vec_push(&t->processes) : NULL;
    if (!pr) {
        free(c);
        return 0;
    }
    *pr = (process_rec){.variant = v, .name = c};
    return t->processes.len - 1;
}

trc_id trc_track(trc_recorder *t, const char *group, const char *name)
{
    if (t->status || !t->variants.len)
        return 0;
    uint32_t p = process_of(t, group);
    char *c = p ? copy(name) : NULL;
    track_rec *tr = c ? vec_push(&t->tracks) : NULL;
    if (!tr) {
        free(c);
        out_of_memory(t);
        return 0;
    }
    *tr = (track_rec){.process = p, .name = c};
    return t->tracks.len - 1;
}

/* ---- slices ------------------------------------------------------------ */

uint64_t trc_flow_new(trc_recorder *t)
{
    return t->next_flow++ & FLOW_ID_MASK;
}

void trc_slice_flow(trc_recorder *t, trc_id track, sim_time start, sim_time end, trc_id label,
                    uint64_t arg, uint64_t flow, trc_flow_role role)
{
    if (!(t->what & TRC_SPANS) || !track || !label || !keep(t, KIND_SLICE, start))
        return;
    slice_rec *s = vec_push(&t->slices);
    if (!s) {
        out_of_memory(t);
        return;
    }
    uint64_t f = role == TRC_FLOW_NONE ? 0 : (flow & FLOW_ID_MASK) | (uint64_t)role << FLOW_ROLE_SHIFT;
    *s = (slice_rec){.start = start, .end = end, .arg = arg, .flow = f, .track = track,
                 .label = label};
}

void trc_slice(trc_recorder *t, trc_id track, sim_time start, sim_time end, trc_id label,
               uint64_t arg)
{
    trc_slice_flow(t, track, start, end, label, arg, 0, TRC_FLOW_NONE);
}

/* ---- signals ----------------------------------------------------------- */

trc_id trc_signal(trc_recorder *t, const char *group, const char *unit, const char *name,
                  unsigned width, const char *const *states, uint64_t initial)
{
    if (t->status || !t->variants.len || width > 64)
        return 0;
    char *g = copy(group), *u = copy(unit), *n = copy(name);
    signal_rec *s = g && u && n ? vec_push(&t->signals) : NULL;
    if (!s) {
        free(g);
        free(u);
        free(n);
        out_of_memory(t);
        return 0;
    }
    *s = (signal_rec){.variant = t->variants.len - 1, .group = g, .unit = u, .name = n,
                  .width = width, .states = states, .current = initial, .at_from = initial};
    return t->signals.len - 1;
}

void trc_set(trc_recorder *t, trc_id id, sim_time at, uint64_t value)
{
    if (!(t->what & TRC_SIGNALS) || !id || t->status)
        return;
    signal_rec *s = VEC_AT(t->signals, signal_rec, id);
    if (s->width && s->current == value)
        return;
    s->current = value;
    if (at < t->from) {
        s->at_from = value;
        return;
    }
    if (!keep(t, KIND_CHANGE, at))
        return;
    change_rec *c = vec_push(&t->changes);
    if (!c) {
        out_of_memory(t);
        return;
    }
    *c = (change_rec){.at = at, .value = value, .signal = id};
}

/* ---- rows -------------------------------------------------------------- */

int trc_columns(trc_recorder *t, const char *const *text, unsigned ntext,
                const char *const *num, unsigned nnum)
{
    /* Every model that adds rows declares the same columns; only other
     * columns after the first row are refused. */
    if (t->text_cols == text && t->num_cols == num && t->ntext == ntext && t->nnum == nnum)
        return 0;
    if (t->rows.len)
        return SIM_EINVAL;
    t->text_cols = text;
    t->ntext = ntext;
    t->num_cols = num;
    t->nnum = nnum;
    vec_init(&t->rows, sizeof(uint64_t) * (1 + ntext + nnum));
    return 0;
}

void trc_row(trc_recorder *t, sim_time at, const trc_id *text, const uint64_t *num)
{
    if (!(t->what & TRC_ROWS) || !keep(t, KIND_ROW, at))
        return;
    uint64_t *row = vec_push(&t->rows);
    if (!row) {
        out_of_memory(t);
        return;
    }
    row[0] = t->variants.len - 1;
    for (unsigned i = 0; i < t->ntext; i++)
        row[1 + i] = text[i];
    for (unsigned i = 0; i < t->nnum; i++)
        row[1 + t->ntext + i] = num[i];
}

void trc_get_counts(const trc_recorder *t, trc_counts *out)
{
    *out = (trc_counts){.slices = t->slices.len, .changes = t->changes.len,
                        .rows = t->rows.len};
    for (uint32_t i = 0; i < t->variants.len; i++) {
        const variant_rec *v = VEC_AT(t->variants, variant_rec, i);
        out->cut_variants += (unsigned)(v->cut[KIND_SLICE] || v->cut[KIND_CHANGE] ||
                                        v->cut[KIND_ROW]);
    }
}

/* ---- recording in a forked process ----------------------------------------- */

#define DELTA_MAGIC "pvsim-trace-delta/1"

void trc_mark_now(const trc_recorder *t, trc_mark *out)
{
    const vec *all[STORES];
    stores(t, all);
    for (int i = 0; i < STORES; i++)
        out->len[i] = all[i]->len;
}

static void put_bytes(FILE *f, const void *p, size_t n)
{
    if (n)                          /* an empty store has no items at all */
        fwrite(p, 1, n, f);
}

#define PUT(f, x) put_bytes((f), &(x), sizeof(x))

static void put_string(FILE *f, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    PUT(f, n);
    put_bytes(f, s, n);
}

static void put_pointer(FILE *f, const void *p)
{
    uintptr_t v = (uintptr_t)p;
    PUT(f, v);
}

/* Items [from, to) of `v`, whose records hold no pointers, as bytes. */
static void put_plain(FILE *f, const vec *v, uint32_t from)
{
    put_bytes(f, (const char *)v->items + (size_t)from * v->size,
              (size_t)(v->len - from) * v->size);
}

int trc_delta_write(const trc_recorder *t, const trc_mark *since, FILE *f)
{
    trc_mark now;
    trc_mark_now(t, &now);
    put_bytes(f, DELTA_MAGIC, sizeof DELTA_MAGIC);
    PUT(f, *since);
    PUT(f, now);
    PUT(f, t->status);
    PUT(f, t->next_flow);
    put_pointer(f, t->text_cols);
    put_pointer(f, t->num_cols);
    PUT(f, t->ntext);
    PUT(f, t->nnum);
    for (uint32_t i = since->len[0]; i < now.len[0]; i++) {
        const variant_rec *v = VEC_AT(t->variants, variant_rec, i);
        put_string(f, v->name);
        PUT(f, v->clock_hz);
        PUT(f, v->first_change);
        PUT(f, v->kept);
        PUT(f, v->cut);
        PUT(f, v->cut_at);
    }
    for (uint32_t i = since->len[1]; i < now.len[1]; i++) {
        const label_rec *l = VEC_AT(t->labels, label_rec, i);
        put_string(f, l->name);
        put_pointer(f, l->cat);
        put_pointer(f, l->arg);
    }
    for (uint32_t i = since->len[2]; i < now.len[2]; i++) {
        const process_rec *p = VEC_AT(t->processes, process_rec, i);
        PUT(f, p->variant);
        put_string(f, p->name);
    }
    for (uint32_t i = since->len[3]; i < now.len[3]; i++) {
        const track_rec *r = VEC_AT(t->tracks, track_rec, i);
        PUT(f, r->process);
        put_string(f, r->name);
    }
    for (uint32_t i = since->len[4]; i < now.len[4]; i++) {
        const signal_rec *s = VEC_AT(t->signals, signal_rec, i);
        PUT(f, s->variant);
        put_string(f, s->group);
        put_string(f, s->unit);
        put_string(f, s->name);
        PUT(f, s->width);
        put_pointer(f, s->states);
        PUT(f, s->current);
        PUT(f, s->at_from);
    }
    put_plain(f, &t->slices, since->len[5]);
    put_plain(f, &t->changes, since->len[6]);
    put_plain(f, &t->rows, since->len[7]);
    return fflush(f) == 0 && !ferror(f) ? 0 : SIM_EIO;
}

/* Reading: every get sets `*ok` to 0 on a short read and leaves its
 * target zeroed, so one check at the end says whether the file was
 * whole. */
static void get_bytes(FILE *f, void *p, size_t n, int *ok)
{
    if (fread(p, 1, n, f) != n) {
        memset(p, 0, n);
        *ok = 0;
    }
}

#define GET(f, x, ok) get_bytes((f), &(x), sizeof(x), (ok))

/* A string of at most 1 MiB, or NULL: with `*ok` cleared when the file
 * is short or the length absurd, with `*ok` kept when memory is short. */
static char *get_string(FILE *f, int *ok)
{
    uint32_t n = 0;
    GET(f, n, ok);
    if (!*ok || n >= (1u << 20)) {
        *ok = 0;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    get_bytes(f, s, n, ok);
    s[n] = '\0';
    return s;
}

static const void *get_pointer(FILE *f, int *ok)
{
    uintptr_t v = 0;
    GET(f, v, ok);
    return (const void *)v;
}

/* Appends `n` plain records read from `f` to `v`. */
static int get_plain(FILE *f, vec *v, uint32_t n, int *ok)
{
    for (uint32_t i = 0; i < n && *ok; i++) {
        void *item = vec_push(v);
        if (!item)
            return SIM_ENOMEM;
        get_bytes(f, item, v->size, ok);
    }
    return 0;
}

/* The named records of a delta, appended. A record that cannot be made
 * returns SIM_ENOMEM while the file still reads whole (`*ok`), and 0 after
 * a short read, which trc_delta_read reports as SIM_EIO. */
static int get_named(trc_recorder *t, FILE *f, const trc_mark *since, const trc_mark *now,
                     int *ok)
{
    for (uint32_t i = since->len[0]; i < now->len[0] && *ok; i++) {
        char *name = get_string(f, ok);
        variant_rec *v = name ? vec_push(&t->variants) : NULL;
        if (!v) {
            free(name);
            return *ok ? SIM_ENOMEM : 0;
        }
        v->name = name;
        GET(f, v->clock_hz, ok);
        GET(f, v->first_change, ok);
        GET(f, v->kept, ok);
        GET(f, v->cut, ok);
        GET(f, v->cut_at, ok);
    }
    for (uint32_t i = since->len[1]; i < now->len[1] && *ok; i++) {
        char *name = get_string(f, ok);
        label_rec *l = name && grow_hash(t) == 0 ? vec_push(&t->labels) : NULL;
        if (!l) {
            free(name);
            return *ok ? SIM_ENOMEM : 0;
        }
        const char *cat = get_pointer(f, ok), *arg = get_pointer(f, ok);
        *l = (label_rec){.name = name, .cat = cat, .arg = arg};
        *hash_slot(t, name, cat, arg) = t->labels.len - 1;
    }
    for (uint32_t i = since->len[2]; i < now->len[2] && *ok; i++) {
        uint32_t variant = 0;
        GET(f, variant, ok);
        char *name = get_string(f, ok);
        process_rec *p = name ? vec_push(&t->processes) : NULL;
        if (!p) {
            free(name);
            return *ok ? SIM_ENOMEM : 0;
        }
        *p = (process_rec){.variant = variant, .name = name};
    }
    for (uint32_t i = since->len[3]; i < now->len[3] && *ok; i++) {
        uint32_t process = 0;
        GET(f, process, ok);
        char *name = get_string(f, ok);
        track_rec *r = name ? vec_push(&t->tracks) : NULL;
        if (!r) {
            free(name);
            return *ok ? SIM_ENOMEM : 0;
        }
        *r = (track_rec){.process = process, .name = name};
    }
    for (uint32_t i = since->len[4]; i < now->len[4] && *ok; i++) {
        uint32_t variant = 0;
        GET(f, variant, ok);
        char *g = get_string(f, ok), *u = get_string(f, ok), *n = get_string(f, ok);
        signal_rec *s = g && u && n ? vec_push(&t->signals) : NULL;
        if (!s) {
            free(g);
            free(u);
            free(n);
            return *ok ? SIM_ENOMEM : 0;
        }
        *s = (signal_rec){.variant = variant, .group = g, .unit = u, .name = n};
        GET(f, s->width, ok);
        s->states = get_pointer(f, ok);
        GET(f, s->current, ok);
        GET(f, s->at_from, ok);
    }
    return 0;
}

int trc_delta_read(trc_recorder *t, FILE *f)
{
    char magic[sizeof DELTA_MAGIC];
    trc_mark since, now, here;
    int ok = 1, status = 0;
    uint64_t next_flow = 0;
    unsigned ntext = 0, nnum = 0;
    get_bytes(f, magic, sizeof magic, &ok);
    GET(f, since, &ok);
    GET(f, now, &ok);
    GET(f, status, &ok);
    GET(f, next_flow, &ok);
    const char *const *text = get_pointer(f, &ok), *const *num = get_pointer(f, &ok);
    GET(f, ntext, &ok);
    GET(f, nnum, &ok);
    trc_mark_now(t, &here);
    if (!ok || memcmp(magic, DELTA_MAGIC, sizeof magic) != 0 ||
        memcmp(&since, &here, sizeof here) != 0)
        return SIM_EIO;
    for (int i = 0; i < STORES; i++)
        if (now.len[i] < since.len[i])
            return SIM_EIO;
    int rc = (text || num) ? trc_columns(t, text, ntext, num, nnum) : 0;
    if (rc == 0)
        rc = get_named(t, f, &since, &now, &ok);
    if (rc == 0)
        rc = get_plain(f, &t->slices, now.len[5] - since.len[5], &ok);
    if (rc == 0)
        rc = get_plain(f, &t->changes, now.len[6] - since.len[6], &ok);
    if (rc == 0)
        rc = get_plain(f, &t->rows, now.len[7] - since.len[7], &ok);
    if (rc == 0 && !ok)
        rc = SIM_EIO;
    t->next_flow = next_flow;
    if (rc == 0 && status)
        rc = status;
    if (rc)
        t->status = rc;
    return rc;
}
