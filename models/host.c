/*
 * host.c -- simulates each variant of a system_config on a freshly built
 * host (kernel, cores, device, translation cache, guests, ivshmem peers, a
 * microbenchmark loop) and reports it.
 *
 * Variants run one after another over the same workload: every guest's
 * memory is aged once, before the first variant, and each variant's guest
 * starts from a copy of it; the streams are the same, so only the scheme
 * and the fabric differ. With replications, all of that runs once per
 * replication from the replication's seed (memory aged anew), and the
 * variants' results are merged (sim/replicate.h).
 *
 * Each (replication, variant) pair is a job that runs by itself
 * (system_run_job) from nothing but the config, so jobs can run in other
 * processes (`pvsim run -j`) and still give the bytes of a run in one: a
 * runner ages a replication's memory when it first needs it and keeps it
 * for the next job of the same replication.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/system.h"
#include "models/tlm_device.h"
#include "sim/replicate.h"
#include "sim/report.h"
#include "sim/wallclock.h"

typedef struct guest_class {
    const guest_config *cfg;
    guest_stats stats;
    scheme_cost setup;              /* go-live costs of all instances */
    guest **instances;
} guest_class;

typedef struct host {
    const system_config *cfg;
    guestmem *const *aged;          /* one per instance, in class order */
    const variant_config *variant;
    scheme_costs scheme_costs;
    sim_kernel *k;
    cores *cores;
    loopback *dev;
    tlm_device *tlm;                /* device.model tlm: its target */
    ivshmem *iv;                    /* NULL without ivshmem peers */
    microbench *mb;                 /* NULL without a microbench loop */
    int eoi;                        /* vmm_eoi of the variant */
    tcache *tc;
    void *transport_host[TRANSPORT_COUNT];  /* each transport's host-wide
                                               state, if it keeps one */
    guest_class *classes;
    sim_time window_start, window_end;
    uint64_t measured;              /* completions since warm-up */
    int warm;
} host;

/* ---- building ------------------------------------------------------------ */

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
    if (s->dev)
        loopback_reset_stats(s->dev);
    cores_reset_stats(s->cores);
    if (s->iv)
        ivshmem_reset_stats(s->iv);
    for (size_t c = 0; c < s->cfg->nguests; c++)
        guest_stats_reset(&s->classes[c].stats);
}

/* The schemes see one cost per walk reference: the expectation over the
 * variant's cache-hit share, which keeps the run free of extra draws. */
static scheme_costs to_scheme_costs(const vmm_costs *c, const variant_config *v)
{
    double ref = v->walk_cache_hit * (double)c->cache_ref +
                 (1.0 - v->walk_cache_hit) * (double)c->mem_ref;
    return (scheme_costs){.mem_ref = (uint64_t)(ref + 0.5),
                          .memslot_lookup = c->memslot_lookup,
                          .tcache_hit = c->tcache_hit,
                          .copy_per_byte = (double)c->copy_per_kib / 1024.0,
                          .pin_per_page = c->pin_per_page};
}

/* The instance's name, which also names its random streams. */
static void instance_name(char *buf, size_t len, const guest_config *g, uint64_t i)
{
    snprintf(buf, len, "guest/%s/%llu", g->name, (unsigned long long)i);
}

static int build_class(host *s, size_t c, uint32_t *space, char *err, size_t errlen)
{
    guest_class *gc = &s->classes[c];
    gc->cfg = &s->cfg->guests[c];
    if (guest_stats_init(&gc->stats))
        return SIM_ENOMEM;
    gc->instances = calloc(gc->cfg->count, sizeof *gc->instances);
    if (!gc->instances)
        return SIM_ENOMEM;
    for (uint64_t i = 0; i < gc->cfg->count; i++) {
        char name[96];
        instance_name(name, sizeof name, gc->cfg, i);
        guest_env env = {.k = s->k, .cfg = gc->cfg, .costs = &s->cfg->costs,
                         .fabric = &s->variant->fabric, .eoi = s->eoi,
                         .pio_in_emulated = vmm_presets[s->cfg->preset].pio_in_emulated,
                         .host = s->cores,
                         .dev = s->dev ? loopback_device(s->dev) : (pv_device){0},
                         .transport_host = s->transport_host[gc->cfg->transport],
                         .stats = &gc->stats,
                         .hooks = {on_completed, s}, .seed = s->cfg->seed, .instance = name,
                         .scheme = scheme_find(system_scheme_names[s->variant->scheme]),
                         .scheme_cfg = &s->variant->opts, .scheme_costs = &s->scheme_costs,
                         .memory = s->aged[*space], .tc = s->tc, .space = *space,
                         .retry = s->cfg->run.retry, .warmup = s->cfg->run.warmup,
                         .clock_hz = s->cfg->clock_hz, .index = i,
                         .trace = s->cfg->trace};
        int rc;
        (*space)++;
        gc->instances[i] = guest_new(&env, &gc->setup, &rc);
        if (!gc->instances[i]) {
            snprintf(err, errlen, "variant %s: guest %s: %s", system_variant_name(s->variant),
                     name, sim_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static void start_all(host *s)
{
    for (size_t c = 0; c < s->cfg->nguests; c++) {
        guest_class *gc = &s->classes[c];
        for (uint64_t i = 0; i < gc->cfg->count; i++)
            guest_start(gc->instances[i]);
    }
    if (s->iv)
        ivshmem_start(s->iv);
    if (s->mb)
        microbench_start(s->mb);
}

static int build_microbench(host *s)
{
    microbench_env env = {.k = s->k, .cfg = &s->cfg->microbench, .costs = &s->cfg->costs,
                          .host = s->cores, .posted = s->variant->fabric.posted_interrupts,
                          .eoi = s->eoi,
                          .pio_in_emulated = vmm_presets[s->cfg->preset].pio_in_emulated};
    s->mb = microbench_new(&env);
    return s->mb ? 0 : SIM_ENOMEM;
}

/* The host-wide state of each transport some class uses. */
static int build_transport_hosts(host *s)
{
    for (size_t c = 0; c < s->cfg->nguests; c++) {
        int kind = s->cfg->guests[c].transport;
        const transport_ops *t = transport_of(kind);
        if (!t->host_new || s->transport_host[kind])
            continue;
        s->transport_host[kind] = t->host_new(s->k, s->cfg);
        if (!s->transport_host[kind])
            return SIM_ENOMEM;
    }
    return 0;
}

/* The variant's kernel, on the scenario's backend. */
static int open_kernel(host *s, char *err, size_t errlen)
{
    sim_kernel_config kc = {.backend = (sim_backend_kind)s->cfg->backend};
    int rc = sim_kernel_open(&s->k, &kc);
    if (rc)
        snprintf(err, errlen, "variant %s: its event kernel: %s",
                 system_variant_name(s->variant), sim_strerror(rc));
    return rc;
}

/* The device's TLM-2.0 target, made while SystemC still elaborates. */
static int build_tlm(host *s, char *err, size_t errlen)
{
    int rc;
    s->tlm = tlm_device_new(s->dev, &s->cfg->device, s->cfg->clock_hz, &rc);
    if (!s->tlm)
        snprintf(err, errlen, "variant %s: device target %s: %s",
                 system_variant_name(s->variant), s->cfg->device.target, sim_strerror(rc));
    return s->tlm ? 0 : rc;
}

static int build(host *s, char *err, size_t errlen)
{
    s->scheme_costs = to_scheme_costs(&s->cfg->costs, s->variant);
    s->eoi = fabric_eoi_mode(&s->variant->fabric, s->cfg->preset);
    int rc = open_kernel(s, err, errlen);
    if (rc)
        return rc;
    const vmm_costs *vc = &s->cfg->costs;
    cores_costs cc = {.context_switch = vc->context_switch, .wakeup = vc->wakeup};
    s->cores = cores_new(s->k, (uint32_t)s->cfg->host.cores,
                         system_threads(s->cfg, s->variant, NULL), &cc);
    if (!s->cores)
        return SIM_ENOMEM;
    cores_set_trace(s->cores, s->cfg->trace);
    /* The device serves the doorbell guests; the other transports and
     * ivshmem peers need none. */
    int device = system_uses_device(s->cfg);
    if (device)
        s->dev = loopback_new(s->k, &s->cfg->device, s->cores,
                              s->variant->fabric.backend == FABRIC_POLL);
    s->tc = tcache_new((uint32_t)s->variant->tcache_entries);
    s->classes = calloc(s->cfg->nguests, sizeof *s->classes);
    if ((device && !s->dev) || !s->tc || !s->classes || build_transport_hosts(s))
        return SIM_ENOMEM;
    if (device && s->cfg->device.model == LOOPBACK_MODEL_TLM) {
        rc = build_tlm(s, err, errlen);
        if (rc)
            return rc;
    }
    uint32_t space = 0;
    for (size_t c = 0; c < s->cfg->nguests; c++) {
        rc = build_class(s, c, &space, err, errlen);
        if (rc)
            return rc;
    }
    if (s->cfg->ivshmem.peers > 0) {
        s->iv = ivshmem_new(s->k, &s->cfg->ivshmem, &s->variant->fabric, &s->cfg->costs,
                            s->eoi, s->cores, (ivshmem_hooks){on_completed, s});
        if (!s->iv)
            return SIM_ENOMEM;
        ivshmem_trace(s->iv, s->cfg->trace);
    }
    if (s->cfg->microbench.op != MB_NONE && build_microbench(s))
        return SIM_ENOMEM;
    rc = cores_start(s->cores);
    if (rc) {
        snprintf(err, errlen, "variant %s: the host's cores cannot run its polling threads: "
                 "%s", system_variant_name(s->variant), sim_strerror(rc));
        return rc;
    }
    start_all(s);
    return sim_schedule_at(s->k, s->cfg->run.warmup, SIM_BAND_FIRST, warmup_over, s, 0,
                           NULL);
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
    for (int t = 0; t < TRANSPORT_COUNT; t++)
        if (s->transport_host[t])
            transport_of(t)->host_free(s->transport_host[t]);
    tcache_free(s->tc);
    loopback_free(s->dev);
    tlm_device_free(s->tlm);        /* after the device that calls it */
    ivshmem_free(s->iv);
    microbench_free(s->mb);
    cores_free(s->cores);
    sim_kernel_free(s->k);
}

/* ---- results ------------------------------------------------------------- */

/* The builders below use json_pack, which returns NULL when anything in
 * the object fails, a nested NULL included: a results document is complete
 * or not made at all. */

static double per(uint64_t n, uint64_t requests)
{
    return (double)n / (double)(requests ? requests : 1);
}

static json_t *breakdown_json(const guest_stats *st)
{
    uint64_t n = st->requests;
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
                     "notify", per(st->sum_notify, n), "exit", per(st->sum_exit, n),
                     "translate", per(st->sum_translate, n), "copy", per(st->sum_copy, n),
                     "device", per(st->sum_device, n),
                     "interrupt", per(st->sum_interrupt, n),
                     "scheduling", per(st->sum_scheduling, n),
                     "queueing", per(st->sum_queueing, n));
}

/* What the scheme did, per completed request, and the allocator's luck. */
static json_t *scheme_json(const guest_stats *st)
{
    const scheme_cost *c = &st->scheme;
    uint64_t n = st->requests;
    uint64_t lookups = (uint64_t)c->tcache_hits + c->tcache_misses;
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "kicks_per_request", per(c->kicks, n),
                     "walks_per_request", per(c->walks, n),
                     "page_refs_per_request", per(c->page_refs, n),
                     "memslot_lookups_per_request", per(c->memslot_lookups, n),
                     "tcache_hit_ratio", lookups ? (double)c->tcache_hits / (double)lookups : 0.0,
                     "copy_bytes", (json_int_t)c->copy_bytes,
                     "bounce_bytes", (json_int_t)c->bounce_bytes,
                     "registrations", (json_int_t)c->registrations,
                     "alloc_failures", (json_int_t)st->alloc_failures,
                     "failed_requests", (json_int_t)st->failed,
                     "remaps", (json_int_t)st->remaps);
}

/* The metrics every class and the totals report, over the window. */
static json_t *metrics_json(const host *s, const guest_stats *st)
{
    uint64_t hz = s->cfg->clock_hz;
    double seconds = (double)(s->window_end - s->window_start) / (double)hz;
    double rate = seconds > 0 ? 1.0 / seconds : 0.0;
    uint64_t exits = vcpu_counts_exits(&st->vcpu);
    return json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:f, s:f, s:o, s:o, s:o, s:f, s:f, s:o, "
                     "s:o, s:o}",
                     "requests", (json_int_t)st->requests,
                     "refused_requests", (json_int_t)st->refused,
                     "arrivals", (json_int_t)st->arrivals,
                     "offered_rps", (double)st->arrivals * rate,
                     "dropped_arrivals", (json_int_t)st->dropped,
                     "bytes", (json_int_t)st->bytes,
                     "throughput_rps", (double)st->requests * rate,
                     "throughput_bytes_per_s", (double)st->bytes * rate,
                     "latency_cycles", rep_quantiles(&st->latency, 0),
                     "latency_ns", rep_quantiles(&st->latency, hz),
                     "breakdown_cycles", breakdown_json(st),
                     "exits_per_request", per(exits, st->requests),
                     "interrupts_per_request", per(st->vcpu.interrupts, st->requests),
                     "vcpus", vcpu_counts_json(&st->vcpu),
                     "scheme", scheme_json(st),
                     "by_size", workload_stats_json(&st->mix, hz));
}

/* The aged memory of a class: its instances' free share, unusable index
 * at the pageblock order (averaged) and free blocks by order (summed). */
static json_t *memory_json(const guest_class *gc)
{
    uint64_t blocks[GM_MAX_ORDER + 1] = {0};
    double free_share = 0, unusable = 0;
    for (uint64_t i = 0; i < gc->cfg->count; i++) {
        guestmem_stats ms;
        double u;
        guest_get_memory_stats(gc->instances[i], &ms, &u);
        free_share += (double)ms.free_frames / (double)ms.frames;
        unusable += u;
        for (int o = 0; o <= GM_MAX_ORDER; o++)
            blocks[o] += ms.free_blocks[o];
    }
    json_t *by_order = json_array();
    for (int o = 0; by_order && o <= GM_MAX_ORDER; o++)
        if (json_array_append_new(by_order, json_integer((json_int_t)blocks[o]))) {
            json_decref(by_order);
            by_order = NULL;
        }
    double n = (double)gc->cfg->count;
    return json_pack("{s:f, s:f, s:o}", "free_share", free_share / n,
                     "unusable_index", unusable / n, "free_blocks_by_order", by_order);
}

static json_t *setup_json(const scheme_cost *c)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "registrations", (json_int_t)c->registrations,
                     "exits", (json_int_t)c->extra_exits, "pinned_pages", (json_int_t)c->pins,
                     "host_cycles", (json_int_t)(c->host_cycles + c->register_cycles));
}

/* The class's vCPU threads: busy share, halts, and waits for a core. */
static json_t *vcpu_json(const host *s, const guest_class *gc)
{
    thread_stats sum = {0};
    for (uint64_t i = 0; i < gc->cfg->count; i++) {
        thread_stats ts;
        guest_get_vcpu_stats(gc->instances[i], &ts);
        sum.busy_cycles += ts.busy_cycles;
        sum.wakeups += ts.wakeups;
        sum.switches += ts.switches;
        sum.ready_wait_cycles += ts.ready_wait_cycles;
    }
    double span = (double)(s->window_end - s->window_start) *
                  (double)(gc->cfg->count * gc->cfg->vcpus);
    return json_pack("{s:f, s:I, s:I, s:f}",
                     "utilisation", span > 0 ? (double)sum.busy_cycles / span : 0.0,
                     "halts", (json_int_t)sum.wakeups,
                     "context_switches", (json_int_t)sum.switches,
                     "ready_wait_share", span > 0 ? (double)sum.ready_wait_cycles / span : 0.0);
}

static json_t *class_json(const host *s, const guest_class *gc)
{
    const transport_ops *t = transport_of(gc->cfg->transport);
    return json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o}",
                     "name", gc->cfg->name,
                     "instances", (json_int_t)gc->cfg->count,
                     "metrics", metrics_json(s, &gc->stats),
                     "vcpu", vcpu_json(s, gc),
                     "memory", memory_json(gc),
                     "setup", setup_json(&gc->setup),
                     "transport", t->json(&gc->stats.transport, gc->cfg, s->cfg->clock_hz));
}

/* The run ended: every guest flushes its time integrals. */
static void finish_all(host *s)
{
    for (size_t c = 0; c < s->cfg->nguests; c++) {
        guest_class *gc = &s->classes[c];
        for (uint64_t i = 0; i < gc->cfg->count; i++)
            guest_finish(gc->instances[i], s->window_end);
    }
}

static json_t *device_json(const host *s)
{
    loopback_stats ls = {0};
    if (s->dev)
        loopback_get_stats(s->dev, &ls);
    tcache_stats ts;
    tcache_get_stats(s->tc, &ts);
    return json_pack("{s:I, s:f, s:f, s:I, s:I, s:I, s:I}",
                     "workers", (json_int_t)s->cfg->device.workers,
                     "utilisation", ls.utilisation,
                     "mean_queue_len", ls.mean_queue_len,
                     "peak_queue_len", (json_int_t)ls.peak_queue_len,
                     "worker_wakeups", (json_int_t)ls.wakeups,
                     "tcache_entries", (json_int_t)ts.entries,
                     "tcache_evictions", (json_int_t)ts.evictions);
}

/* The host's cores: a summary and each core's busy share. */
static json_t *cores_json(const host *s)
{
    cores_summary sum;
    cores_get_summary(s->cores, &sum);
    json_t *util = json_array();
    double mean = 0, max = 0;
    for (uint32_t i = 0; util && i < sum.count; i++) {
        core_stats cs;
        cores_get_core_stats(s->cores, i, &cs);
        mean += cs.utilisation / sum.count;
        max = cs.utilisation > max ? cs.utilisation : max;
        if (json_array_append_new(util, json_real(cs.utilisation))) {
            json_decref(util);
            util = NULL;
        }
    }
    return json_pack("{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:f, s:I, s:o}",
                     "count", (json_int_t)sum.count, "polling", (json_int_t)sum.polling,
                     "threads", (json_int_t)sum.threads, "utilisation_mean", mean,
                     "utilisation_max", max, "context_switches", (json_int_t)sum.switches,
                     "wakeups", (json_int_t)sum.wakeups,
                     "mean_runqueue", sum.mean_runqueue,
                     "peak_runqueue", (json_int_t)sum.peak_runqueue,
                     "utilisation", util);
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
        if (guest_stats_add(total, &s->classes[c].stats) ||
            json_array_append_new(classes, class_json(s, &s->classes[c]))) {
            json_decref(classes);
            classes = NULL;
        }
    }
    return classes;
}

/* Each transport's host-wide results (vpio's shared device) into the
 * variant's object `v`; non-zero when short of memory. */
static int transport_hosts_json(const host *s, json_t *v)
{
    for (int t = 0; t < TRANSPORT_COUNT; t++) {
        const transport_ops *ops = transport_of(t);
        if (!s->transport_host[t] || !ops->host_json)
            continue;
        if (rep_set(v, ops->host_results,
                    ops->host_json(s->transport_host[t], s->cfg->clock_hz, s->window_start,
                                   s->window_end)))
            return SIM_ENOMEM;
    }
    return 0;
}

static json_t *variant_json(const host *s)
{
    sim_kernel_stats ks;
    sim_kernel_get_stats(s->k, &ks);
    guest_stats total;
    if (guest_stats_init(&total))
        return NULL;
    json_t *classes = classes_json(s, &total);
    json_t *v = json_pack("{s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o}",
                          "name", system_variant_name(s->variant),
                          "scheme", system_scheme_names[s->variant->scheme],
                          "window", window_json(s),
                          "events", (json_int_t)ks.executed,
                          "totals", metrics_json(s, &total),
                          "classes", classes,
                          "device", device_json(s),
                          "cores", cores_json(s));
    if (v && transport_hosts_json(s, v)) {
        json_decref(v);
        v = NULL;
    }
    if (v && s->iv && rep_set(v, "ivshmem", ivshmem_json(s->iv, s->cfg->clock_hz))) {
        json_decref(v);
        v = NULL;
    }
    if (v && s->mb && rep_set(v, "microbench", microbench_json(s->mb, s->cfg->clock_hz))) {
        json_decref(v);
        v = NULL;
    }
    guest_stats_fini(&total);
    return v;
}

/* Every primitive in cycles; null for one without a figure. */
static json_t *costs_json(const vmm_costs *c)
{
    json_t *o = json_object();
    for (int i = 0; o && i < VMM_COST_COUNT; i++) {
        vmm_cost_id id = (vmm_cost_id)i;
        json_t *v = vmm_cost_known(c, id) ? json_integer((json_int_t)vmm_cost_get(c, id))
                                          : json_null();
        if (rep_set(o, vmm_cost_key(id), v)) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* ---- running --------------------------------------------------------------- */

typedef struct progress_share {
    system_progress_fn fn;
    void *ctx;
    size_t index, count;            /* this variant of all */
    size_t replication, replications; /* this replication of all */
    system_timing *timing;          /* where the wall time goes; not NULL */
} progress_share;

/* The seconds since `*since`, which moves to now: consecutive laps split
 * a stretch of wall time without gaps. */
static double lap(double *since)
{
    double now = sim_wall_seconds();
    double d = now - *since;
    *since = now;
    return d;
}

/* Tells the caller how far the run is; non-zero when it asks to stop. */
static int report_progress(const host *s, const progress_share *p)
{
    if (!p->fn)
        return 0;
    double hz = (double)s->cfg->clock_hz, end = (double)s->cfg->run.duration;
    double now = (double)sim_now(s->k);
    double runs_done = (double)(p->replication * p->count + p->index);
    system_progress sp = {.fraction = (runs_done + now / end) /
                                      (double)(p->count * p->replications),
                          .simulated_s = now / hz, .duration_s = end / hz,
                          .variant = p->index, .variants = p->count,
                          .replication = p->replication, .replications = p->replications};
    return p->fn(p->ctx, &sp);
}

/* Runs to the end of the scenario in chunks of events, reporting after
 * each, so a run whose events are dense in time still shows progress and
 * can be stopped; stops early if a handler stopped the kernel
 * (max_requests, the end of a microbench loop). The chunks do not change
 * the order of events. Returns 0, SIM_EINTR when the caller asked to stop,
 * or the status of a model's failure; `err` says which. */
static int run_chunks(host *s, const progress_share *p, char *err, size_t errlen)
{
    for (;;) {
        sim_stop_reason why = sim_run(s->k, s->cfg->run.duration, SYSTEM_PROGRESS_EVENTS);
        if (why == SIM_STOP_FAILED) {
            int rc = sim_failure(s->k);
            snprintf(err, errlen, "variant %s: the run stopped at cycle %llu: %s",
                     system_variant_name(s->variant), (unsigned long long)sim_now(s->k),
                     sim_strerror(rc));
            return rc;
        }
        int stop = report_progress(s, p);
        if (stop) {
            snprintf(err, errlen, "variant %s: interrupted at cycle %llu",
                     system_variant_name(s->variant), (unsigned long long)sim_now(s->k));
            return SIM_EINTR;
        }
        if (why != SIM_STOP_EVENT_LIMIT)
            return 0;
    }
}

static int run_variant(const system_config *cfg, guestmem *const *aged,
                       const variant_config *v, const progress_share *p, json_t **out,
                       char *err, size_t errlen)
{
    host s = {.cfg = cfg, .aged = aged, .variant = v};
    double t = sim_wall_seconds();
    /* What the models record from here on belongs to this variant. */
    int rc = cfg->trace ? trc_variant(cfg->trace, system_variant_name(v), cfg->clock_hz) : 0;
    if (rc == 0)
        rc = build(&s, err, errlen);
    p->timing->setup_s += lap(&t);
    if (rc == 0)
        rc = run_chunks(&s, p, err, errlen);
    p->timing->loop_s += lap(&t);
    if (rc == 0 && cfg->trace && trc_status(cfg->trace)) {
        rc = trc_status(cfg->trace);
        snprintf(err, errlen, "variant %s: recording the trace: %s", system_variant_name(v),
                 sim_strerror(rc));
    }
    if (rc == 0) {
        s.window_end = sim_now(s.k);
        finish_all(&s);
        *out = variant_json(&s);
        if (!*out)
            rc = SIM_ENOMEM;
    }
    if (s.k) {
        sim_kernel_stats ks;
        sim_kernel_get_stats(s.k, &ks);
        p->timing->events += ks.executed;
    }
    teardown(&s);
    p->timing->report_s += lap(&t);
    return rc;
}

/* Ages every instance's memory once into `*out` (one per instance, in
 * class order); each variant starts from copies. Returns 0 or a status,
 * with `err` naming the guest. */
static int age_all(const system_config *cfg, guestmem ***out, size_t *n, char *err,
                   size_t errlen)
{
    *n = 0;
    for (size_t c = 0; c < cfg->nguests; c++)
        *n += cfg->guests[c].count;
    guestmem **aged = *out = calloc(*n ? *n : 1, sizeof *aged);
    if (!aged)
        return SIM_ENOMEM;
    size_t k = 0;
    for (size_t c = 0; c < cfg->nguests; c++) {
        for (uint64_t i = 0; i < cfg->guests[c].count; i++, k++) {
            char name[96];
            int rc;
            instance_name(name, sizeof name, &cfg->guests[c], i);
            aged[k] = guest_age_memory(&cfg->guests[c], cfg->seed, name, &rc);
            if (!aged[k]) {
                snprintf(err, errlen, "guest %s: aging its memory: %s", name, sim_strerror(rc));
                return rc;
            }
        }
    }
    return 0;
}

static void free_aged(guestmem **aged, size_t n)
{
    for (size_t i = 0; aged && i < n; i++)
        guestmem_free_all(aged[i]);
    free(aged);
}

/* The keys whose numbers get 95% intervals: every latency (in ns; the
 * cycles are the same numbers at the clock's scale) and throughput. */
static const char *const interval_keys[] = {"latency_ns", "*_latency_ns", "throughput_rps",
                                            "throughput_bytes_per_s"};

/* {"count": n, "seeds": [...]}: what the results were merged from. */
static json_t *replications_json(const system_config *cfg, size_t n)
{
    json_t *seeds = json_array();
    for (size_t r = 0; seeds && r < n; r++)
        if (json_array_append_new(seeds, json_integer((json_int_t)rpl_seed(cfg->seed, r)))) {
            json_decref(seeds);
            seeds = NULL;
        }
    return json_pack("{s:I, s:o}", "count", (json_int_t)n, "seeds", seeds);
}

/* The results document around the (merged) variants; NULL when memory is
 * short. Keys in the order docs/results.md gives; "replications" only
 * when there are several, so one replication is the plain run's bytes. */
static json_t *results_json(const system_config *cfg, size_t n, json_t *variants)
{
    json_t *r = json_pack("{s:s, s:s, s:s, s:I}", "schema", REP_SCHEMA,
                          "pvsim_version", PVSIM_VERSION, "scenario", cfg->name,
                          "seed", (json_int_t)cfg->seed);
    int bad = !r || (n > 1 && rep_set(r, "replications", replications_json(cfg, n)));
    bad = bad || rep_set(r, "clock_hz", json_integer((json_int_t)cfg->clock_hz)) ||
          rep_set(r, "preset", json_string(vmm_presets[cfg->preset].name)) ||
          rep_set(r, "costs_cycles", costs_json(&cfg->costs)) ||
          rep_set(r, "variants", json_incref(variants));
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* ---- jobs --------------------------------------------------------------------- */

struct system_runner {
    const system_config *cfg;
    size_t replication;             /* whose memory `aged` holds */
    guestmem **aged;                /* NULL: none aged yet */
    size_t naged;
    system_timing *timing;          /* where the wall time goes: `own`, or
                                       system_run_timed()'s */
    system_timing own;
};

static size_t replications_of(const system_config *cfg)
{
    return cfg->run.replications > 1 ? (size_t)cfg->run.replications : 1;
}

size_t system_jobs(const system_config *cfg)
{
    return replications_of(cfg) * cfg->nvariants;
}

system_runner *system_runner_new(const system_config *cfg)
{
    system_runner *r = calloc(1, sizeof *r);
    if (r) {
        r->cfg = cfg;
        r->timing = &r->own;
    }
    return r;
}

void system_runner_free(system_runner *r)
{
    if (!r)
        return;
    free_aged(r->aged, r->naged);
    free(r);
}

/* Replication `rep` of the run: the config with its seed and, for
 * replication 0 (the scenario's seed's run) only, the recorder. Shares
 * every pointer of r->cfg. */
static system_config replication_config(const system_runner *r, size_t rep)
{
    system_config one = *r->cfg;
    one.seed = rpl_seed(r->cfg->seed, rep);
    one.trace = rep == 0 ? r->cfg->trace : NULL;
    return one;
}

/* Puts replication `rep`'s aged memory in r, dropping another's first, so
 * a runner holds one replication's at a time. */
int system_runner_age(system_runner *r, size_t rep, char *err, size_t errlen)
{
    if (r->aged && r->replication == rep)
        return 0;
    double t = sim_wall_seconds();
    free_aged(r->aged, r->naged);
    r->aged = NULL;
    system_config one = replication_config(r, rep);
    guestmem **aged = NULL;
    size_t n = 0;
    int rc = age_all(&one, &aged, &n, err, errlen);
    r->timing->setup_s += lap(&t);
    if (rc) {
        free_aged(aged, n);
        return rc;
    }
    r->aged = aged;
    r->naged = n;
    r->replication = rep;
    return 0;
}

const system_timing *system_runner_timing(const system_runner *r)
{
    return r->timing;
}

/* Says which replication failed when there are several, before `why`. */
static void name_replication(const system_runner *r, size_t rep, const char *why, char *err,
                             size_t errlen)
{
    if (replications_of(r->cfg) > 1)
        snprintf(err, errlen, "replication %zu (seed %llu): %s", rep,
                 (unsigned long long)rpl_seed(r->cfg->seed, rep), why);
    else
        snprintf(err, errlen, "%s", why);
}

int system_run_job(system_runner *r, size_t job, system_progress_fn progress, void *ctx,
                   json_t **variant, char *err, size_t errlen)
{
    const system_config *cfg = r->cfg;
    size_t rep = job / cfg->nvariants, v = job % cfg->nvariants;
    progress_share p = {progress, ctx, v, cfg->nvariants, rep, replications_of(cfg),
                        r->timing};
    system_config one = replication_config(r, rep);
    char why[512];
    snprintf(why, sizeof why, "out of memory");
    int rc = system_runner_age(r, rep, why, sizeof why);
    if (rc == 0)
        rc = run_variant(&one, r->aged, &cfg->variants[v], &p, variant, why, sizeof why);
    if (rc)
        name_replication(r, rep, why, err, errlen);
    return rc;
}

void system_job_name(const system_config *cfg, size_t job, char *buf, size_t len)
{
    size_t rep = job / cfg->nvariants;
    const char *name = system_variant_name(&cfg->variants[job % cfg->nvariants]);
    if (replications_of(cfg) > 1)
        snprintf(buf, len, "variant %s, replication %zu (seed %llu)", name, rep,
                 (unsigned long long)rpl_seed(cfg->seed, rep));
    else
        snprintf(buf, len, "variant %s", name);
}

/* The variants of replication `rep`, as an array, from the jobs'. */
static json_t *replication_variants(const system_config *cfg, json_t *const *jobs, size_t rep)
{
    json_t *a = json_array();
    for (size_t v = 0; a && v < cfg->nvariants; v++) {
        if (json_array_append(a, jobs[rep * cfg->nvariants + v])) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* The variants of the results: replication 0's, or every replication's
 * merged. NULL when memory is short. */
static json_t *merged_variants(const system_config *cfg, json_t *const *jobs)
{
    size_t n = replications_of(cfg);
    json_t **runs = calloc(n, sizeof *runs);
    int ok = runs != NULL;
    for (size_t r = 0; ok && r < n; r++)
        ok = (runs[r] = replication_variants(cfg, jobs, r)) != NULL;
    json_t *variants = !ok       ? NULL
                       : n == 1 ? json_incref(runs[0])
                                : rpl_merge(runs, n, interval_keys,
                                            sizeof interval_keys / sizeof interval_keys[0]);
    for (size_t r = 0; runs && r < n; r++)
        json_decref(runs[r]);
    free(runs);
    return variants;
}

int system_assemble(const system_config *cfg, json_t *const *jobs, json_t **results,
                    char *err, size_t errlen)
{
    json_t *variants = merged_variants(cfg, jobs);
    *results = variants ? results_json(cfg, replications_of(cfg), variants) : NULL;
    json_decref(variants);
    if (!*results) {
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    return 0;
}

int system_run(const system_config *cfg, system_progress_fn progress, void *ctx,
               json_t **results, char *err, size_t errlen)
{
    return system_run_timed(cfg, progress, ctx, results, NULL, err, errlen);
}

int system_run_timed(const system_config *cfg, system_progress_fn progress, void *ctx,
                     json_t **results, system_timing *timing, char *err, size_t errlen)
{
    if (cfg->backend != SIM_BACKEND_NATIVE && system_jobs(cfg) > 1) {
        snprintf(err, errlen, "backend systemc runs one simulation per process and this "
                 "run has %zu: system_run_on_backend() runs each in a process of its own",
                 system_jobs(cfg));
        return SIM_EONCE;
    }
    system_timing ignored;
    timing = timing ? timing : &ignored;
    *timing = (system_timing){0};
    snprintf(err, errlen, "out of memory");
    size_t n = system_jobs(cfg);
    json_t **jobs = calloc(n, sizeof *jobs);
    system_runner *r = system_runner_new(cfg);
    int rc = jobs && r ? 0 : SIM_ENOMEM;
    if (r)
        r->timing = timing;
    for (size_t j = 0; rc == 0 && j < n; j++)
        rc = system_run_job(r, j, progress, ctx, &jobs[j], err, errlen);
    double t = sim_wall_seconds();
    system_runner_free(r);
    if (rc == 0)
        rc = system_assemble(cfg, jobs, results, err, errlen);
    for (size_t j = 0; jobs && j < n; j++)
        json_decref(jobs[j]);
    free(jobs);
    timing->report_s += lap(&t);
    return rc;
}
