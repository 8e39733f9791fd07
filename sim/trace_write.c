/*
 * trace_write.c -- the writers of trace.h: Chrome / Perfetto trace events
 * JSON, Value Change Dump, CSV.
 *
 * They stream with printf rather than build a Jansson tree: a trace of a
 * million slices would take a tree of several hundred megabytes, and the
 * text is simple enough that one escaping function covers every string
 * (the tests read the output back with Jansson and Python's json).
 *
 * Times: the JSON's `ts` and `dur` are microseconds with exactly three
 * decimals (whole nanoseconds, what Perfetto keeps); the VCD counts
 * picoseconds, so two cycles apart stay apart at any clock up to 1 THz.
 * Both convert from cycles by integer arithmetic (rounded to nearest), so
 * the files are the same on every machine. A slice's duration is the
 * difference of its two converted ends, so nested slices stay nested
 * after rounding.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim/error.h"
#include "sim/report.h"
#include "sim/trace_int.h"

/* `cycles` at `hz` in units of 1/`per_second` s, rounded to nearest. */
static uint64_t convert(sim_time cycles, uint64_t hz, uint64_t per_second)
{
    unsigned __int128 x = (unsigned __int128)cycles * per_second + hz / 2;
    return (uint64_t)(x / hz);
}

static const variant_rec *variant_at(const trc_recorder *t, uint32_t i)
{
    return VEC_AT(t->variants, variant_rec, i);
}

static const char *const kind_names[KINDS] = {"slices", "value changes", "rows"};

/* ---- JSON -------------------------------------------------------------- */

/* `s` as a JSON string: quotes, backslashes and control bytes escaped;
 * other bytes (UTF-8 from the scenario) as they are. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_micros(FILE *f, uint64_t ns)
{
    fprintf(f, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

/* Process and thread names, and sort indices so the legacy viewer keeps
 * the order they were made in. */
static void json_names(const trc_recorder *t, FILE *f)
{
    for (uint32_t p = 1; p < t->processes.len; p++) {
        const process_rec *pr = VEC_AT(t->processes, process_rec, p);
        char name[512];
        snprintf(name, sizeof name, "%s: %s", variant_at(t, pr->variant)->name, pr->name);
        fprintf(f, "{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"name\":\"process_name\",\"args\":"
                   "{\"name\":", p);
        put_string(f, name);
        fprintf(f, "}},\n{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"name\":\"process_sort_index\","
                   "\"args\":{\"sort_index\":%" PRIu32 "}},\n", p, p);
    }
    for (uint32_t i = 1; i < t->tracks.len; i++) {
        const track_rec *tr = VEC_AT(t->tracks, track_rec, i);
        fprintf(f, "{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"name\":"
                   "\"thread_name\",\"args\":{\"name\":", tr->process, i);
        put_string(f, tr->name);
        fprintf(f, "}},\n{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"name\":"
                   "\"thread_sort_index\",\"args\":{\"sort_index\":%" PRIu32 "}},\n",
                tr->process, i, i);
    }
}

/* Which flows have both ends kept: the ids of the kept first and last
 * slices, each sorted, so the memory is that of the slices kept (the ids
 * handed out may be many more, in a long run with a window). */
typedef struct flow_ends {
    uint64_t *out, *in;
    uint32_t nout, nin;
} flow_ends;

static int compare_ids(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int flow_ends_find(const trc_recorder *t, flow_ends *fe)
{
    size_t n = t->slices.len ? t->slices.len : 1;
    *fe = (flow_ends){.out = malloc(n * sizeof *fe->out), .in = malloc(n * sizeof *fe->in)};
    if (!fe->out || !fe->in) {
        free(fe->out);
        free(fe->in);
        return SIM_ENOMEM;
    }
    for (uint32_t i = 0; i < t->slices.len; i++) {
        const slice_rec *s = VEC_AT(t->slices, slice_rec, i);
        uint64_t id = s->flow & FLOW_ID_MASK, role = s->flow >> FLOW_ROLE_SHIFT;
        if (role == TRC_FLOW_OUT)
            fe->out[fe->nout++] = id;
        else if (role == TRC_FLOW_IN)
            fe->in[fe->nin++] = id;
    }
    qsort(fe->out, fe->nout, sizeof *fe->out, compare_ids);
    qsort(fe->in, fe->nin, sizeof *fe->in, compare_ids);
    return 0;
}

static int flow_complete(const flow_ends *fe, uint64_t id)
{
    return bsearch(&id, fe->out, fe->nout, sizeof id, compare_ids) &&
           bsearch(&id, fe->in, fe->nin, sizeof id, compare_ids);
}

/* A slice's flow binding: version 2 of the format (bind_id with flow_out,
 * flow_in or both on the slice itself), which ties the arrow to this very
 * slice; a version-1 "s"/"f" event binds to whatever slice is open at its
 * time, which is ambiguous when slices start at the same nanosecond. */
static void json_flow(FILE *f, const slice_rec *s, const flow_ends *fe)
{
    uint64_t id = s->flow & FLOW_ID_MASK, role = s->flow >> FLOW_ROLE_SHIFT;
    if (role == TRC_FLOW_NONE || !flow_complete(fe, id))
        return;
    fprintf(f, ",\"bind_id\":%" PRIu64, id);
    if (role != TRC_FLOW_IN)
        fputs(",\"flow_out\":true", f);
    if (role != TRC_FLOW_OUT)
        fputs(",\"flow_in\":true", f);
}

static void json_slice(const trc_recorder *t, FILE *f, const slice_rec *s, const flow_ends *fe)
{
    const track_rec *tr = VEC_AT(t->tracks, track_rec, s->track);
    const process_rec *pr = VEC_AT(t->processes, process_rec, tr->process);
    const label_rec *l = VEC_AT(t->labels, label_rec, s->label);
    uint64_t hz = variant_at(t, pr->variant)->clock_hz;
    uint64_t start = convert(s->start, hz, 1000000000u), end = convert(s->end, hz, 1000000000u);
    fprintf(f, "{\"ph\":\"X\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"ts\":", tr->process,
            s->track);
    json_micros(f, start);
    fputs(",\"dur\":", f);
    json_micros(f, end - start);
    fputs(",\"name\":", f);
    put_string(f, l->name);
    fputs(",\"cat\":", f);
    put_string(f, l->cat ? l->cat : "pvsim");
    fprintf(f, ",\"args\":{\"cycle\":%" PRIu64 ",\"cycles\":%" PRIu64, s->start,
            s->end - s->start);
    if (l->arg) {
        fputc(',', f);
        put_string(f, l->arg);
        fprintf(f, ":%" PRIu64, s->arg);
    }
    fputc('}', f);
    json_flow(f, s, fe);
    fputs("},\n", f);
}

/* A sentence saying where variant `v` was cut, or "" when it was not. */
static void cut_note(const trc_recorder *t, const variant_rec *v, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < KINDS; k++)
        if (v->cut[k] && n < len)
            n += (size_t)snprintf(buf + n, len - n,
                                  "%svariant %s: %s cut at cycle %" PRIu64
                                  " (the limit of %" PRIu64 " per variant)",
                                  n ? "; " : "", v->name, kind_names[k], v->cut_at[k],
                                  t->max_events);
}

/* A global instant where each variant's slices were cut, so the viewer
 * shows the cut on the timeline too. */
static void json_cut_marks(const trc_recorder *t, FILE *f)
{
    for (uint32_t i = 0; i < t->variants.len; i++) {
        const variant_rec *v = variant_at(t, i);
        if (!v->cut[KIND_SLICE])
            continue;
        char note[256];
        snprintf(note, sizeof note, "trace cut: %s (limit %" PRIu64 ")", v->name,
                 t->max_events);
        fputs("{\"ph\":\"i\",\"s\":\"g\",\"pid\":0,\"tid\":0,\"ts\":", f);
        json_micros(f, convert(v->cut_at[KIND_SLICE], v->clock_hz, 1000000000u));
        fputs(",\"name\":", f);
        put_string(f, note);
        fputs(",\"cat\":\"pvsim\"},\n", f);
    }
}

/* The top-level "otherData" object: the limit, the window and the cuts.
 * Viewers show it as the trace's metadata and ignore it otherwise. */
static void json_other(const trc_recorder *t, FILE *f)
{
    fprintf(f, "\"otherData\":{\"producer\":\"pvsim\",\"limit_per_variant\":%" PRIu64
               ",\"window_cycles\":[%" PRIu64 ",", t->max_events, t->from);
    if (t->to == SIM_TIME_MAX)
        fputs("null]", f);
    else
        fprintf(f, "%" PRIu64 "]", t->to);
    fputs(",\"cut\":[", f);
    int any = 0;
    for (uint32_t i = 0; i < t->variants.len; i++) {
        const variant_rec *v = variant_at(t, i);
        if (!v->cut[KIND_SLICE])
            continue;
        char note[512];
        cut_note(t, v, note, sizeof note);
        fputs(any++ ? "," : "", f);
        put_string(f, note);
    }
    fputs("]}", f);
}

int trc_write_json(const trc_recorder *t, FILE *f)
{
    flow_ends fe;
    if (flow_ends_find(t, &fe))
        return SIM_ENOMEM;
    fputs("{\"traceEvents\":[\n", f);
    json_names(t, f);
    for (uint32_t i = 0; i < t->slices.len; i++)
        json_slice(t, f, VEC_AT(t->slices, slice_rec, i), &fe);
    json_cut_marks(t, f);
    /* A last event, so that every event above ends with a comma. */
    fputs("{\"ph\":\"M\",\"pid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"pvsim\"}}\n"
          "],\n\"displayTimeUnit\":\"ns\",\n", f);
    json_other(t, f);
    fputs("}\n", f);
    free(fe.out);
    free(fe.in);
    return ferror(f) ? SIM_EIO : 0;
}

/* ---- VCD --------------------------------------------------------------- */

/* A name as VCD and GTKWave take it: letters, digits and '_' ('.' and
 * '/' would read as hierarchy, spaces would end the name). */
static void vcd_name(FILE *f, const char *s)
{
    if (!*s)
        fputc('_', f);
    for (; *s; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        fputc(ok ? c : '_', f);
    }
}

/* The identifier code of signal `id`: base 94 in the printable range. */
static void vcd_code(FILE *f, uint32_t id)
{
    do {
        fputc('!' + (int)(id % 94), f);
        id /= 94;
    } while (id);
}

static void vcd_value(FILE *f, const signal_rec *s, uint32_t id, uint64_t value)
{
    if (s->width <= 1) {
        fputc(s->width == 0 || value ? '1' : '0', f);
    } else {
        fputc('b', f);
        int top = 63;
        while (top > 0 && !(value >> top & 1))
            top--;
        for (int b = top; b >= 0; b--)
            fputc('0' + (int)(value >> b & 1), f);
        fputc(' ', f);
    }
    vcd_code(f, id);
    fputc('\n', f);
}

static void vcd_var(FILE *f, const signal_rec *s, uint32_t id)
{
    fprintf(f, "$var %s %u ", s->width ? "wire" : "event", s->width ? s->width : 1);
    vcd_code(f, id);
    fputc(' ', f);
    vcd_name(f, s->name);
    fputs(" $end\n", f);
}

/* Whether signal `i` is the first of its variant with this group (or, with
 * `unit`, this group and unit). */
static int first_of(const trc_recorder *t, uint32_t i, int unit)
{
    const signal_rec *s = VEC_AT(t->signals, signal_rec, i);
    for (uint32_t j = 1; j < i; j++) {
        const signal_rec *o = VEC_AT(t->signals, signal_rec, j);
        if (o->variant == s->variant && !strcmp(o->group, s->group) &&
            (!unit || !strcmp(o->unit, s->unit)))
            return 0;
    }
    return 1;
}

/* The scopes of one group of variant `v`: a scope per unit, in the order
 * they were declared. */
static void vcd_group(const trc_recorder *t, FILE *f, const signal_rec *g)
{
    fputs("$scope module ", f);
    vcd_name(f, g->group);
    fputs(" $end\n", f);
    for (uint32_t i = 1; i < t->signals.len; i++) {
        const signal_rec *u = VEC_AT(t->signals, signal_rec, i);
        if (u->variant != g->variant || strcmp(u->group, g->group) || !first_of(t, i, 1))
            continue;
        fputs("$scope module ", f);
        vcd_name(f, u->unit);
        fputs(" $end\n", f);
        for (uint32_t j = i; j < t->signals.len; j++) {
            const signal_rec *s = VEC_AT(t->signals, signal_rec, j);
            if (s->variant == u->variant && !strcmp(s->group, u->group) &&
                !strcmp(s->unit, u->unit))
                vcd_var(f, s, j);
        }
        fputs("$upscope $end\n", f);
    }
    fputs("$upscope $end\n", f);
}

/* A comment naming the states of each named signal, once per name. */
static void vcd_states(const trc_recorder *t, FILE *f)
{
    for (uint32_t i = 1; i < t->signals.len; i++) {
        const signal_rec *s = VEC_AT(t->signals, signal_rec, i);
        int seen = !s->states;
        for (uint32_t j = 1; j < i && !seen; j++) {
            const signal_rec *o = VEC_AT(t->signals, signal_rec, j);
            seen = o->states == s->states && !strcmp(o->name, s->name);
        }
        if (seen)
            continue;
        fputs("$comment ", f);
        vcd_name(f, s->name);
        fputs(":", f);
        for (unsigned k = 0; s->states[k]; k++)
            fprintf(f, " %u = %s%s", k, s->states[k], s->states[k + 1] ? "," : "");
        fputs(" $end\n", f);
    }
}

static void vcd_header(const trc_recorder *t, FILE *f)
{
    fputs("$version pvsim " PVSIM_VERSION " $end\n", f);
    fputs("$comment one module per variant, each from its own time 0 $end\n", f);
    for (uint32_t i = 0; i < t->variants.len; i++) {
        char note[512];
        cut_note(t, variant_at(t, i), note, sizeof note);
        if (variant_at(t, i)->cut[KIND_CHANGE])
            fprintf(f, "$comment %s $end\n", note);
    }
    vcd_states(t, f);
    fputs("$timescale 1 ps $end\n", f);
    for (uint32_t v = 0; v < t->variants.len; v++) {
        fputs("$scope module ", f);
        vcd_name(f, variant_at(t, v)->name);
        fputs(" $end\n", f);
        for (uint32_t i = 1; i < t->signals.len; i++) {
            const signal_rec *s = VEC_AT(t->signals, signal_rec, i);
            if (s->variant == v && first_of(t, i, 0))
                vcd_group(t, f, s);
        }
        fputs("$upscope $end\n", f);
    }
    fputs("$enddefinitions $end\n", f);
}

/* Every signal's value when the window opens (events have none). */
static void vcd_dumpvars(const trc_recorder *t, FILE *f)
{
    uint64_t hz = t->variants.len ? variant_at(t, 0)->clock_hz : 1;
    fprintf(f, "#%" PRIu64 "\n$dumpvars\n", convert(t->from, hz, 1000000000000u));
    for (uint32_t i = 1; i < t->signals.len; i++) {
        const signal_rec *s = VEC_AT(t->signals, signal_rec, i);
        if (s->width)
            vcd_value(f, s, i, s->at_from);
    }
    fputs("$end\n", f);
}

/* The changes of all variants merged by time (each variant's are in time
 * order already; ties go to the earlier variant, then record order).
 * `next` holds a cursor per variant. */
static void vcd_changes(const trc_recorder *t, FILE *f, uint32_t *next)
{
    uint32_t nv = t->variants.len;
    for (uint32_t v = 0; v < nv; v++)
        next[v] = variant_at(t, v)->first_change;
    uint64_t last = UINT64_MAX;
    for (;;) {
        uint32_t best = nv;
        for (uint32_t v = 0; v < nv; v++) {
            uint32_t end = v + 1 < nv ? variant_at(t, v + 1)->first_change : t->changes.len;
            if (next[v] < end &&
                (best == nv || VEC_AT(t->changes, change_rec, next[v])->at <
                                   VEC_AT(t->changes, change_rec, next[best])->at))
                best = v;
        }
        if (best == nv)
            break;
        const change_rec *c = VEC_AT(t->changes, change_rec, next[best]++);
        uint64_t ps = convert(c->at, variant_at(t, best)->clock_hz, 1000000000000u);
        if (ps != last)
            fprintf(f, "#%" PRIu64 "\n", ps);
        last = ps;
        vcd_value(f, VEC_AT(t->signals, signal_rec, c->signal), c->signal, c->value);
    }
}

int trc_write_vcd(const trc_recorder *t, FILE *f)
{
    uint32_t *next = calloc(t->variants.len ? t->variants.len : 1, sizeof *next);
    if (!next)
        return SIM_ENOMEM;
    vcd_header(t, f);
    vcd_dumpvars(t, f);
    vcd_changes(t, f, next);
    free(next);
    return ferror(f) ? SIM_EIO : 0;
}

/* ---- CSV --------------------------------------------------------------- */

int trc_write_csv(const trc_recorder *t, FILE *f)
{
    fputs("variant", f);
    for (unsigned i = 0; i < t->ntext; i++)
        fprintf(f, ",%s", t->text_cols[i]);
    for (unsigned i = 0; i < t->nnum; i++)
        fprintf(f, ",%s", t->num_cols[i]);
    fputs("\n", f);
    for (uint32_t r = 0; r < t->rows.len; r++) {
        const uint64_t *row = (const uint64_t *)((const char *)t->rows.items + r * t->rows.size);
        rep_csv_text(f, variant_at(t, (uint32_t)row[0])->name);
        for (unsigned i = 0; i < t->ntext; i++) {
            fputc(',', f);
            rep_csv_text(f, VEC_AT(t->labels, label_rec, (uint32_t)row[1 + i])->name);
        }
        for (unsigned i = 0; i < t->nnum; i++)
            fprintf(f, ",%" PRIu64, row[1 + t->ntext + i]);
        fputs("\n", f);
    }
    return ferror(f) ? SIM_EIO : 0;
}
