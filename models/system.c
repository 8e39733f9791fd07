/*
 * system.c -- builds the simulated host from a system_config, runs it, and
 * reports. The schema of the whole scenario file is assembled here from the
 * schemas the models declare.
 */
#include "models/system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/report.h"
#include "sim/resource.h"

/* ---- schema ---------------------------------------------------------- */

/* Upper bounds that keep every sum of times far from overflowing uint64:
 * no single cost above 10^12 cycles (over 5 minutes at 3 GHz), no run
 * longer than 10^16 cycles (about 40 days at 3 GHz). */
#define MAX_COST 1e12
#define MAX_RUN 1e16

static const scn_field cost_fields[] = {
#define X(name, text)                                                         \
    {.key = #name, .type = SCN_DURATION, .offset = offsetof(vmm_costs, name), \
     .min = 0, .max = MAX_COST, .doc = text " (default: the preset's value)"},
    VMM_COST_MAP(X)
#undef X
};

static const scn_schema costs_schema = {
    .name = "costs",
    .size = sizeof(vmm_costs),
    .fields = cost_fields,
    .nfields = sizeof cost_fields / sizeof cost_fields[0],
};

static const scn_field run_fields[] = {
    {.key = "duration", .type = SCN_DURATION, .offset = offsetof(run_config, duration),
     .min = 1, .max = MAX_RUN, .def = "10ms",
     .doc = "simulated time to run, warm-up included"},
    {.key = "warmup", .type = SCN_DURATION, .offset = offsetof(run_config, warmup),
     .max = MAX_RUN, .def = "1ms",
     .doc = "time before statistics start; must be less than duration"},
    {.key = "max_requests", .type = SCN_U64, .offset = offsetof(run_config, max_requests),
     .def = "0", .doc = "stop after this many measured completions (0: no limit)"},
};

static const scn_schema run_schema = {
    .name = "run",
    .size = sizeof(run_config),
    .fields = run_fields,
    .nfields = sizeof run_fields / sizeof run_fields[0],
};

static const scn_field system_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = offsetof(system_config, name),
     .flags = SCN_REQUIRED, .min = 1, .max = 128,
     .doc = "scenario name, copied into the results"},
    {.key = "seed", .type = SCN_U64, .offset = offsetof(system_config, seed),
     .def = "1", .doc = "seed of every random stream (each entity draws its own)"},
    {.key = "clock", .type = SCN_FREQ, .offset = offsetof(system_config, clock_hz),
     .flags = SCN_CLOCK, .min = 1e6, .max = 1e11, .def = "3GHz",
     .doc = "host clock; durations in ns/us/ms/s convert to cycles with it"},
    {.key = "preset", .type = SCN_ENUM, .offset = offsetof(system_config, preset),
     .def = "x86-kvm-2012", .enum_names = vmm_preset_names,
     .doc = "named table of primitive costs (see docs/costs.md)"},
    {.key = "costs", .type = SCN_STRUCT, .offset = offsetof(system_config, costs),
     .sub = &costs_schema, .doc = "overrides of the preset's primitive costs"},
    {.key = "run", .type = SCN_STRUCT, .offset = offsetof(system_config, run),
     .sub = &run_schema, .doc = "how long to simulate and what to measure"},
    {.key = "guests", .type = SCN_LIST, .offset = offsetof(system_config, guests),
     .count_offset = offsetof(system_config, nguests), .flags = SCN_REQUIRED,
     .min = 1, .max = 64, .sub = &guest_schema, .doc = "guest classes"},
    {.key = "device", .type = SCN_STRUCT, .offset = offsetof(system_config, device),
     .sub = &loopback_schema, .doc = "the loopback device every guest uses"},
};

const scn_schema system_schema = {
    .name = "scenario",
    .size = sizeof(system_config),
    .fields = system_fields,
    .nfields = sizeof system_fields / sizeof system_fields[0],
};

const char system_default_scenario[] =
    "# pvsim's built-in scenario: two guest classes on one loopback device.\n"
    "name: default\n"
    "seed: 1\n"
    "clock: 3GHz\n"
    "preset: x86-kvm-2012\n"
    "run:\n"
    "  duration: 20ms\n"
    "  warmup: 2ms\n"
    "guests:\n"
    "  - name: small\n"
    "    count: 2\n"
    "    workload: {depth: 4, size: 4KiB, think: 2us, think_dist: exponential}\n"
    "  - name: large\n"
    "    count: 1\n"
    "    workload: {depth: 2, size: 64KiB, think: 10us, think_dist: exponential}\n"
    "device:\n"
    "  workers: 2\n"
    "  fixed: 1us\n"
    "  per_byte: 0.1\n";

/* ---- loading ----------------------------------------------------------- */

/* True when the scenario (or a --set) gave `path` explicitly. */
static int given(const scn_doc *doc, const char *path)
{
    scn_mark m = scn_mark_of(doc, path);
    return m.line != 0 || m.col != 0;
}

/* Costs the scenario did not override come from the chosen preset. */
static void resolve_costs(system_config *cfg, const scn_doc *doc)
{
    vmm_costs preset;
    vmm_costs_from_preset(&preset, cfg->preset);
    for (int i = 0; i < VMM_COST_COUNT; i++) {
        char path[64];
        snprintf(path, sizeof path, "costs.%s", vmm_cost_key((vmm_cost_id)i));
        if (!given(doc, path))
            *vmm_cost_ref(&cfg->costs, (vmm_cost_id)i) =
                *vmm_cost_ref(&preset, (vmm_cost_id)i);
    }
}

/* Memory grows with guest instances and outstanding requests; these caps
 * keep any scenario within a few hundred MiB. */
#define MAX_INSTANCES 4096
#define MAX_OUTSTANDING (1u << 22)

/* Limits on the sum over guest classes. */
static void check_totals(const system_config *cfg, const scn_doc *doc,
                         scn_errors *errs)
{
    uint64_t instances = 0, outstanding = 0;
    for (size_t i = 0; i < cfg->nguests; i++) {
        instances += cfg->guests[i].count;
        outstanding += cfg->guests[i].count * cfg->guests[i].workload.depth;
    }
    if (instances > MAX_INSTANCES)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most %u guest instances in all, "
                       "found %llu", MAX_INSTANCES, (unsigned long long)instances);
    if (outstanding > MAX_OUTSTANDING)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most %u outstanding requests in all "
                       "(count x workload.depth), found %llu", MAX_OUTSTANDING,
                       (unsigned long long)outstanding);
}

/* A closed loop whose request takes no time would run forever without
 * time advancing. */
static void check_progress(const system_config *cfg, const scn_doc *doc,
                           scn_errors *errs)
{
    const vmm_costs *c = &cfg->costs;
    for (size_t i = 0; i < cfg->nguests; i++) {
        const guest_workload_config *w = &cfg->guests[i].workload;
        uint64_t cycle = c->pio_write_exit + c->irq_exit + c->eoi_exit + w->think +
                         loopback_service(&cfg->device, w->size);
        if (cycle > 0)
            continue;
        char path[64];
        snprintf(path, sizeof path, "guests.%zu.workload", i);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected a request cycle of at least one cycle (exits, "
                       "device service and think time), found 0 cycles", path);
    }
}

/* Rules that span several keys, pointing at the key to change. */
static void check_semantics(const system_config *cfg, const scn_doc *doc,
                            scn_errors *errs)
{
    check_totals(cfg, doc, errs);
    check_progress(cfg, doc, errs);
    if (cfg->run.warmup >= cfg->run.duration)
        scn_errors_add(errs, scn_mark_of(doc, "run.warmup"),
                       "run.warmup: expected less than run.duration (%llu cycles), "
                       "found %llu cycles",
                       (unsigned long long)cfg->run.duration,
                       (unsigned long long)cfg->run.warmup);
    for (size_t i = 0; i < cfg->nguests; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->guests[i].name, cfg->guests[j].name) != 0)
                continue;
            char path[64];
            snprintf(path, sizeof path, "guests.%zu.name", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected a name not used by another guest class, "
                           "found '%s' (also guests.%zu.name)",
                           path, cfg->guests[i].name, j);
        }
    }
}

int system_load(const scn_source *src, system_config *cfg, scn_errors *errs)
{
    scn_source s = *src;
    if (!s.path && !s.text) {
        s.path = "<built-in>";
        s.text = system_default_scenario;
        s.text_len = sizeof system_default_scenario - 1;
    }
    memset(cfg, 0, sizeof *cfg);
    scn_doc *doc = NULL;
    int rc = scn_load(&system_schema, &s, cfg, &doc, errs);
    if (rc == 0) {
        resolve_costs(cfg, doc);
        check_semantics(cfg, doc, errs);
        if (errs->count > 0)
            rc = SIM_ESCENARIO;
    }
    scn_doc_free(doc);
    return rc;
}

void system_config_free(system_config *cfg)
{
    scn_free(&system_schema, cfg);
}

/* ---- running ----------------------------------------------------------- */

typedef struct guest_class {
    const guest_config *cfg;
    guest_stats stats;
    guest **instances;
} guest_class;

typedef struct system {
    const system_config *cfg;
    sim_kernel *k;
    loopback *dev;
    guest_class *classes;
    sim_time window_start, window_end;
    uint64_t measured;              /* completions since warm-up */
    int warm;
} host;

static void on_completed(sim_kernel *k, void *ctx)
{
    host *s = ctx;
    if (!s->warm)
        return;
    s->measured++;
    if (s->cfg->run.max_requests && s->measured >= s->cfg->run.max_requests)
        sim_stop(k);
}

/* End of warm-up: forget everything measured so far. */
static void warmup_over(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    host *s = ctx;
    s->warm = 1;
    s->window_start = sim_now(k);
    loopback_reset_stats(s->dev);
    for (size_t c = 0; c < s->cfg->nguests; c++) {
        guest_stats_reset(&s->classes[c].stats);
        for (uint64_t i = 0; i < s->cfg->guests[c].count; i++)
            guest_reset_stats(s->classes[c].instances[i]);
    }
}

static int build_class(host *s, size_t c)
{
    guest_class *gc = &s->classes[c];
    gc->cfg = &s->cfg->guests[c];
    if (guest_stats_init(&gc->stats))
        return SIM_ENOMEM;
    gc->instances = calloc(gc->cfg->count, sizeof *gc->instances);
    if (!gc->instances)
        return SIM_ENOMEM;
    guest_hooks hooks = {on_completed, s};
    for (uint64_t i = 0; i < gc->cfg->count; i++) {
        char name[96];
        snprintf(name, sizeof name, "guest/%s/%llu", gc->cfg->name,
                 (unsigned long long)i);
        gc->instances[i] = guest_new(s->k, gc->cfg, &s->cfg->costs,
                                     loopback_device(s->dev), &gc->stats, hooks,
                                     s->cfg->seed, name);
        if (!gc->instances[i])
            return SIM_ENOMEM;
        int rc = guest_start(gc->instances[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int build(host *s)
{
    s->k = sim_kernel_new(NULL);
    if (!s->k)
        return SIM_ENOMEM;
    s->dev = loopback_new(s->k, &s->cfg->device);
    s->classes = calloc(s->cfg->nguests, sizeof *s->classes);
    if (!s->dev || !s->classes)
        return SIM_ENOMEM;
    for (size_t c = 0; c < s->cfg->nguests; c++) {
        int rc = build_class(s, c);
        if (rc)
            return rc;
    }
    return sim_schedule_at(s->k, s->cfg->run.warmup, SIM_BAND_FIRST,
                           warmup_over, s, 0, NULL);
}

static void teardown(host *s)
{
    for (size_t c = 0; s->classes && c < s->cfg->nguests; c++) {
        guest_class *gc = &s->classes[c];
        for (uint64_t i = 0; gc->instances && i < gc->cfg->count; i++)
            guest_free(gc->instances[i]);
        free(gc->instances);
        guest_stats_fini(&gc->stats);
    }
    free(s->classes);
    loopback_free(s->dev);
    sim_kernel_free(s->k);
}

/* ---- results ----------------------------------------------------------- */

/* The builders below use json_pack, which returns NULL when anything in
 * the object fails, a nested NULL included: a results document is complete
 * or not made at all. */

static json_t *breakdown_json(const guest_stats *st)
{
    double n = st->requests ? (double)st->requests : 1.0;
    return json_pack("{s:f, s:f, s:f, s:f}",
                     "exit", (double)st->sum_exit / n,
                     "device", (double)st->sum_device / n,
                     "interrupt", (double)st->sum_interrupt / n,
                     "queueing", (double)st->sum_queueing / n);
}

static json_t *exits_json(const guest_stats *st)
{
    return json_pack("{s:I, s:I, s:I}",
                     "pio_write", (json_int_t)st->exits_pio_write,
                     "external_interrupt", (json_int_t)st->exits_irq,
                     "eoi", (json_int_t)st->exits_eoi);
}

/* The metrics every class and the totals report, over the window. */
static json_t *metrics_json(const host *s, const guest_stats *st)
{
    uint64_t hz = s->cfg->clock_hz;
    double seconds = (double)(s->window_end - s->window_start) / (double)hz;
    double per_s = seconds > 0 ? 1.0 / seconds : 0.0;
    uint64_t exits = st->exits_pio_write + st->exits_irq + st->exits_eoi;
    double n = st->requests ? (double)st->requests : 1.0;
    return json_pack("{s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:o, s:f, s:o, s:I}",
                     "requests", (json_int_t)st->requests,
                     "bytes", (json_int_t)st->bytes,
                     "submit_failures", (json_int_t)st->submit_failures,
                     "throughput_rps", (double)st->requests * per_s,
                     "throughput_bytes_per_s", (double)st->bytes * per_s,
                     "latency_cycles", rep_quantiles(&st->latency, 0),
                     "latency_ns", rep_quantiles(&st->latency, hz),
                     "breakdown_cycles", breakdown_json(st),
                     "exits_per_request", st->requests ? (double)exits / n : 0.0,
                     "exits", exits_json(st),
                     "interrupts", (json_int_t)st->interrupts);
}

static void add_stats(guest_stats *sum, const guest_stats *st)
{
    sum->requests += st->requests;
    sum->bytes += st->bytes;
    sum->submit_failures += st->submit_failures;
    sum->exits_pio_write += st->exits_pio_write;
    sum->exits_irq += st->exits_irq;
    sum->exits_eoi += st->exits_eoi;
    sum->interrupts += st->interrupts;
    sum->sum_exit += st->sum_exit;
    sum->sum_device += st->sum_device;
    sum->sum_interrupt += st->sum_interrupt;
    sum->sum_queueing += st->sum_queueing;
    sim_hist_merge(&sum->latency, &st->latency);
}

static json_t *class_json(const host *s, const guest_class *gc)
{
    double util = 0;
    for (uint64_t i = 0; i < gc->cfg->count; i++) {
        sim_resource_stats rs;
        guest_get_vcpu_stats(gc->instances[i], &rs);
        util += rs.utilisation;
    }
    return json_pack("{s:s, s:I, s:o, s:f}",
                     "name", gc->cfg->name,
                     "instances", (json_int_t)gc->cfg->count,
                     "metrics", metrics_json(s, &gc->stats),
                     "vcpu_utilisation", util / (double)gc->cfg->count);
}

static json_t *device_json(const host *s)
{
    sim_resource_stats rs;
    loopback_get_stats(s->dev, &rs);
    return json_pack("{s:I, s:f, s:f, s:I}",
                     "workers", (json_int_t)s->cfg->device.workers,
                     "utilisation", rs.utilisation,
                     "mean_queue_len", rs.mean_queue_len,
                     "peak_queue_len", (json_int_t)rs.peak_queue_len);
}

static json_t *costs_json(const vmm_costs *c)
{
    vmm_costs copy = *c;
    json_t *o = json_object();
    for (int i = 0; o && i < VMM_COST_COUNT; i++) {
        uint64_t v = *vmm_cost_ref(&copy, (vmm_cost_id)i);
        if (rep_set(o, vmm_cost_key((vmm_cost_id)i), json_integer((json_int_t)v))) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

static json_t *window_json(const host *s)
{
    return json_pack("{s:I, s:I, s:f}",
                     "start_cycles", (json_int_t)s->window_start,
                     "end_cycles", (json_int_t)s->window_end,
                     "seconds", (double)(s->window_end - s->window_start) /
                                    (double)s->cfg->clock_hz);
}

/* Per-class results, and their sum in `total`. NULL on failure. */
static json_t *classes_json(const host *s, guest_stats *total)
{
    json_t *classes = json_array();
    for (size_t c = 0; classes && c < s->cfg->nguests; c++) {
        add_stats(total, &s->classes[c].stats);
        if (json_array_append_new(classes, class_json(s, &s->classes[c]))) {
            json_decref(classes);
            classes = NULL;
        }
    }
    return classes;
}

static json_t *results_json(const host *s)
{
    const system_config *cfg = s->cfg;
    sim_kernel_stats ks;
    sim_kernel_get_stats(s->k, &ks);
    guest_stats total;
    if (guest_stats_init(&total))
        return NULL;
    json_t *classes = classes_json(s, &total);
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:I, s:o, s:o, s:o}",
        "schema", REP_SCHEMA,
        "pvsim_version", PVSIM_VERSION,
        "scenario", cfg->name,
        "seed", (json_int_t)cfg->seed,
        "clock_hz", (json_int_t)cfg->clock_hz,
        "preset", vmm_presets[cfg->preset].name,
        "costs_cycles", costs_json(&cfg->costs),
        "window", window_json(s),
        "events", (json_int_t)ks.executed,
        "totals", metrics_json(s, &total),
        "classes", classes,
        "device", device_json(s));
    guest_stats_fini(&total);
    return root;
}

/* Runs to the end of the scenario in slices of simulated time, reporting
 * the fraction done after each; stops early if a handler stopped the
 * kernel (max_requests). */
static void run_sliced(host *s, system_progress_fn progress, void *ctx)
{
    enum { SLICES = 200 };
    sim_time end = s->cfg->run.duration;
    for (int i = 1; i <= SLICES; i++) {
        sim_time until = i == SLICES ? end : end / SLICES * (sim_time)i;
        if (sim_run(s->k, until, 0) != SIM_STOP_TIME_LIMIT)
            break;
        if (progress)
            progress(ctx, (double)sim_now(s->k) / (double)end);
    }
}

int system_run(const system_config *cfg, system_progress_fn progress, void *ctx,
               json_t **results)
{
    host s = {.cfg = cfg};
    int rc = build(&s);
    if (rc == 0) {
        run_sliced(&s, progress, ctx);
        s.window_end = sim_now(s.k);
        *results = results_json(&s);
        if (!*results)
            rc = SIM_ENOMEM;
    }
    teardown(&s);
    return rc;
}
