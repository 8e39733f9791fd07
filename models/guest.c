/*
 * guest.c -- the guest of guest.h: its workload's requests (closed or
 * open loop, models/workload.h) through its scheme and transport.
 *
 * Each outstanding request owns one slot of a preallocated array for the
 * guest's lifetime, and open-loop arrivals that find every slot busy wait
 * in a ring that only grows to its peak, so the steady state allocates
 * nothing.
 */
#include "models/guest.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/rows.h"
#include "sim/ring.h"
#include "sim/rng.h"

static const char *const page_size_names[] = {"4KiB", "2MiB", NULL};

static const scn_field memory_fields[] = {
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(guest_memory_config, size, uint64_t),
     .min = 4194304.0, .max = 68719476736.0, .def = "4GiB",
     .doc = "guest-physical memory; a whole number of pages"},
    {.key = "page_size", .type = SCN_ENUM, .offset = SCN_AT(guest_memory_config, page_size, int),
     .def = "4KiB", .enum_names = page_size_names, .doc = "the guest's page size"},
    {.key = "used", .type = SCN_DOUBLE, .offset = SCN_AT(guest_memory_config, used, double),
     .min = 0, .max = 0.99, .def = "0",
     .doc = "share of memory in use by the rest of the guest before the run"},
    {.key = "fragmentation", .type = SCN_DOUBLE, .offset = SCN_AT(guest_memory_config, fragmentation, double), .min = 0, .max = 1, .def = "0",
     .doc = "share of free memory in runs shorter than a pageblock after aging "
            "(Linux's unusable free space index; a pageblock is 2 MiB, or 32 MiB "
            "with 2 MiB pages)"},
    {.key = "remap_rate", .type = SCN_DOUBLE, .offset = SCN_AT(guest_memory_config, remap_rate, double),
     .min = 0, .max = 1e9, .def = "0",
     .doc = "buffer pages the guest moves to other frames, per second"},
};

static const scn_schema memory_schema = {
    .name = "memory",
    .size = sizeof(guest_memory_config),
    .fields = memory_fields,
    .nfields = sizeof memory_fields / sizeof memory_fields[0],
};

static const scn_field guest_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(guest_config, name, char *),
     .flags = SCN_REQUIRED, .min = 1, .max = 64,
     .doc = "guest class name; instances are named <name>/0, <name>/1, ..."},
    {.key = "count", .type = SCN_U64, .offset = SCN_AT(guest_config, count, uint64_t),
     .min = 1, .max = 1024, .def = "1", .doc = "instances of this guest class"},
    {.key = "vcpus", .type = SCN_U64, .offset = SCN_AT(guest_config, vcpus, uint64_t),
     .min = 1, .max = 256, .def = "1",
     .doc = "vCPUs of each instance; request slot i runs on vCPU i mod vcpus"},
    {.key = "transport", .type = SCN_ENUM, .offset = SCN_AT(guest_config, transport, int),
     .def = "doorbell", .enum_names = transport_names,
     .doc = "how requests reach the device: doorbell (a kick, the shared device's "
            "worker, an interrupt), packet-port, lguest, virtio-pci or vpio "
            "(docs/transports.md)"},
    {.key = "workload", .type = SCN_STRUCT, .offset = offsetof(guest_config, workload),
     .sub = &workload_schema, .doc = "the I/O each instance issues"},
    {.key = "memory", .type = SCN_STRUCT, .offset = offsetof(guest_config, memory),
     .sub = &memory_schema, .doc = "each instance's guest-physical memory"},
    {.key = "packet_port", .type = SCN_STRUCT, .offset = offsetof(guest_config, packet_port),
     .sub = &packet_port_schema,
     .doc = "transport packet-port: its channels, emulated path, lifecycle and "
            "misbehaviour (docs/transports.md)"},
    {.key = "lguest", .type = SCN_STRUCT, .offset = offsetof(guest_config, lguest),
     .sub = &lguest_schema,
     .doc = "transport lguest: its device, peer, buffers, removal and misbehaviour "
            "(docs/transports.md)"},
    {.key = "virtio", .type = SCN_STRUCT, .offset = offsetof(guest_config, virtio),
     .sub = &virtio_schema,
     .doc = "transport virtio-pci: its ring, kick, features, devices and backend "
            "(docs/transports.md)"},
    {.key = "vpio", .type = SCN_STRUCT, .offset = offsetof(guest_config, vpio),
     .sub = &vpio_schema,
     .doc = "transport vpio: how the driver learns the shared device's state, and its "
            "misbehaviour (docs/transports.md)"},
};

const scn_schema guest_schema = {
    .name = "guest",
    .size = sizeof(guest_config),
    .fields = guest_fields,
    .nfields = sizeof guest_fields / sizeof guest_fields[0],
};

unsigned guest_page_order(const guest_memory_config *m)
{
    return m->page_size == GUEST_PAGE_2M ? 9 : 0;
}

struct guest {
    guest_env env;                  /* env.instance: `name` */
    char *name;                     /* the instance's, owned: it outlives
                                       the transport that keeps a pointer */
    guest_stats *stats;
    vcpu **vcpus;                   /* cfg->vcpus of them */
    sim_rng rng;                    /* the workload's think times */
    sim_rng mix_rng;                /* sizes and directions */
    sim_rng arrival_rng;            /* open-loop arrivals */
    sim_rng scheme_rng, remap_rng;
    guestmem *mem;
    guestbytes *bytes;              /* what its control structures hold */
    scheme *scheme;
    scheme_cost setup;              /* what the scheme's go-live did */
    const transport_ops *tops;
    transport *transport;
    uint32_t pages_per_buffer;
    io_request *slots;
    uint32_t *idle, nidle;          /* open loop: slots with no request */
    sim_ring backlog;               /* open loop: arrival times waiting */
    trc_id row_source;              /* label of its rows; 0: no rows */
    trc_id row_read, row_write;     /* their `what`: the direction */
};

/* ---- statistics ---------------------------------------------------------- */

int guest_stats_init(guest_stats *s)
{
    memset(s, 0, sizeof *s);
    int rc = sim_hist_init(&s->latency);
    if (rc == 0)
        rc = transport_stats_init(&s->transport);
    if (rc)
        guest_stats_fini(s);
    return rc;
}

void guest_stats_fini(guest_stats *s)
{
    sim_hist_fini(&s->latency);
    transport_stats_fini(&s->transport);
    workload_stats_fini(&s->mix);
}

void guest_stats_reset(guest_stats *s)
{
    sim_hist hist = s->latency;
    transport_stats tp = s->transport;
    workload_stats mix = s->mix;
    sim_hist_clear(&hist);
    transport_stats_reset(&tp);
    workload_stats_reset(&mix);
    memset(s, 0, sizeof *s);
    s->latency = hist;
    s->transport = tp;
    s->mix = mix;
}

int guest_stats_add(guest_stats *sum, const guest_stats *st)
{
#define X(name) sum->name += st->name;
    GUEST_COUNTERS(X)
#undef X
    vcpu_counts_add(&sum->vcpu, &st->vcpu);
    scheme_cost_add(&sum->scheme, &st->scheme);
    sum->alloc_failures += st->alloc_failures;
    sim_hist_merge(&sum->latency, &st->latency);
    transport_stats_add(&sum->transport, &st->transport);
    return workload_stats_add(&sum->mix, &st->mix);
}

/* ---- building ------------------------------------------------------------ */

static void issue(sim_kernel *k, void *ctx, uint64_t arg);
static void remap_event(sim_kernel *k, void *ctx, uint64_t arg);
static transport_guest callbacks(guest *g);

static void seed_stream(sim_rng *r, uint64_t seed, const char *instance, const char *what)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s", instance, what);
    sim_rng_seed(r, seed, name);
}

guestmem *guest_age_memory(const guest_config *cfg, uint64_t seed, const char *instance,
                           int *rc)
{
    const guest_memory_config *mc = &cfg->memory;
    sim_rng age_rng;
    seed_stream(&age_rng, seed, instance, "/memory");
    guestmem *m = guestmem_new(mc->size, guest_page_order(mc));
    *rc = m ? guestmem_age(m, mc->used, mc->fragmentation, &age_rng) : SIM_ENOMEM;
    if (*rc) {
        guestmem_free_all(m);
        return NULL;
    }
    return m;
}

/* Shares the aged memory (guestmem_share) and sets the scheme up over it. */
static int build_memory(guest *g, scheme_cost *setup)
{
    g->mem = guestmem_share(g->env.memory);
    g->bytes = guestbytes_new(g->env.cfg->memory.size);
    if (!g->mem || !g->bytes)
        return SIM_ENOMEM;
    scheme_env se = {.mem = g->mem, .tc = g->env.tc, .space = g->env.space,
                     .costs = g->env.scheme_costs, .cfg = g->env.scheme_cfg,
                     .rng = &g->scheme_rng, .slots = (uint32_t)g->env.cfg->workload.depth,
                     .bytes = workload_size_max(&g->env.cfg->workload)};
    g->scheme = g->env.scheme->create(&se);
    if (!g->scheme)
        return SIM_ENOMEM;
    int rc = g->env.scheme->setup(g->scheme, &g->setup);
    scheme_cost_add(setup, &g->setup);
    return rc;
}

/* The transport instance, over the guest's vCPUs, memory and slots. */
static int build_transport(guest *g)
{
    const guest_env *env = &g->env;
    transport_env te = {.k = env->k, .cfg = env->cfg, .index = env->index,
                        .costs = env->costs, .fabric = env->fabric,
                        .pio_in_emulated = env->pio_in_emulated, .scheme = env->scheme,
                        .buffers = g->scheme, .setup = &g->setup,
                        .scheme_cfg = env->scheme_cfg, .scheme_costs = env->scheme_costs,
                        .cores = env->host, .vcpus = g->vcpus,
                        .nvcpus = (uint32_t)env->cfg->vcpus,
                        .requests = g->slots, .mem = g->mem, .bytes = g->bytes,
                        .dev = env->dev, .host = env->transport_host,
                        .stats = &g->stats->transport, .guest = callbacks(g),
                        .seed = env->seed, .instance = env->instance,
                        .warmup = env->warmup, .retry = env->retry};
    int rc;
    g->transport = g->tops->create(&te, &rc);
    return g->transport ? 0 : rc;
}

static vcpu *make_vcpu(const guest_env *env, guest_stats *stats)
{
    vcpu_env ve = {.k = env->k, .host = env->host, .kind = "vcpu", .costs = env->costs,
                   .polling = env->fabric->vcpu_idle == FABRIC_POLL,
                   .posted = env->fabric->posted_interrupts, .eoi = env->eoi,
                   .pio_in_emulated = env->pio_in_emulated, .counts = &stats->vcpu};
    return vcpu_new(&ve);
}

/* ---- recording (pvsim run --trace, --requests) ------------------------- */

/* Names the vCPUs' tracks after the instance and labels its rows. */
static void trace_guest(guest *g, const guest_env *env)
{
    trc_recorder *t = env->trace;
    for (uint64_t i = 0; t && i < env->cfg->vcpus; i++) {
        char name[160];
        snprintf(name, sizeof name, "%s vcpu %llu", env->instance, (unsigned long long)i);
        vcpu_trace(g->vcpus[i], t, name);
    }
    if (trc_wants(t, TRC_ROWS) && rows_declare(t) == 0) {
        g->row_source = trc_label(t, env->instance, NULL, NULL);
        g->row_read = trc_label(t, "read", NULL, NULL);
        g->row_write = trc_label(t, "write", NULL, NULL);
    }
}

/* A flow starts at the request's first work on its vCPU (the kick's way
 * in) and ends at the first after its completion. */
static void trace_issue(guest *g, io_request *r)
{
    r->flow = 0;
    if (!trc_wants(g->env.trace, TRC_SPANS))
        return;
    r->flow = trc_flow_new(g->env.trace);
    vcpu_flow(r->cpu, r->flow, TRC_FLOW_OUT);
}

/* The end of the request's flow, and its row if it completed after the
 * warm-up (the requests the results count), with the breakdown record()
 * made and checked. */
static void trace_done(guest *g, const io_request *r, sim_time now,
                       const uint64_t sums[ROWS_PARTS])
{
    if (r->flow)
        vcpu_flow(r->cpu, r->flow, TRC_FLOW_IN);
    if (!g->row_source || now < g->env.warmup)
        return;
    rows_entry e = {.source = g->row_source, .what = r->read ? g->row_read : g->row_write,
                    .issued = r->issued, .completed = now, .bytes = r->bytes};
    memcpy(e.parts, sums, sizeof e.parts);
    rows_add(g->env.trace, &e);
}

guest *guest_new(const guest_env *env, scheme_cost *setup, int *rc)
{
    guest *g = calloc(1, sizeof *g);
    *rc = SIM_ENOMEM;
    if (!g)
        return NULL;
    g->env = *env;
    g->name = strdup(env->instance);
    if (!g->name) {
        free(g);
        return NULL;
    }
    g->env.instance = g->name;
    env = &g->env;
    g->stats = env->stats;
    g->tops = transport_of(env->cfg->transport);
    const guest_config *cfg = env->cfg;
    uint64_t page_bytes = 4096ull << guest_page_order(&cfg->memory);
    uint64_t largest = workload_size_max(&cfg->workload);
    g->pages_per_buffer = (uint32_t)((largest + page_bytes - 1) / page_bytes);
    seed_stream(&g->rng, env->seed, env->instance, "");
    seed_stream(&g->mix_rng, env->seed, env->instance, "/mix");
    seed_stream(&g->arrival_rng, env->seed, env->instance, "/arrivals");
    seed_stream(&g->scheme_rng, env->seed, env->instance, "/scheme");
    seed_stream(&g->remap_rng, env->seed, env->instance, "/remap");
    g->vcpus = calloc(cfg->vcpus, sizeof *g->vcpus);
    g->slots = calloc(cfg->workload.depth, sizeof *g->slots);
    g->idle = calloc(cfg->workload.depth, sizeof *g->idle);
    int built = g->vcpus && g->slots && g->idle &&
                sim_ring_init(&g->backlog, sizeof(sim_time)) == 0;
    for (uint64_t i = 0; built && i < cfg->vcpus; i++)
        built = (g->vcpus[i] = make_vcpu(env, env->stats)) != NULL;
    if (built)
        *rc = build_memory(g, setup);
    if (*rc == 0)
        *rc = build_transport(g);
    if (*rc) {
        guest_free(g);
        return NULL;
    }
    for (uint64_t i = 0; i < cfg->workload.depth; i++) {
        g->slots[i].slot = (uint32_t)i;
        g->slots[i].cpu = g->vcpus[i % cfg->vcpus];
        g->slots[i].bytes = largest;
        g->slots[i].io.bytes = largest;
        g->slots[i].transport = g->transport;
    }
    trace_guest(g, env);
    return g;
}

void guest_free(guest *g)
{
    if (!g)
        return;
    if (g->transport)
        g->tops->destroy(g->transport);
    if (g->scheme)
        g->env.scheme->destroy(g->scheme);
    guestmem_free_all(g->mem);
    guestbytes_free(g->bytes);
    for (uint64_t i = 0; g->vcpus && i < g->env.cfg->vcpus; i++)
        vcpu_free(g->vcpus[i]);
    free(g->vcpus);
    free(g->slots);
    free(g->idle);
    sim_ring_fini(&g->backlog);
    free(g->name);
    free(g);
}

static uint64_t remap_gap(guest *g)
{
    double mean = (double)g->env.clock_hz / g->env.cfg->memory.remap_rate;
    return (uint64_t)(sim_rng_exp(&g->remap_rng, mean) + 0.5) + 1;
}

/* Schedules `fn` after `delay`; a kernel that refuses stops the run. */
static void later(guest *g, uint64_t delay, sim_handler fn, uint64_t arg)
{
    int rc = sim_schedule(g->env.k, delay, SIM_BAND_NORMAL, fn, g, arg, NULL);
    if (rc)
        sim_fail(g->env.k, rc);
}

static void arrive(sim_kernel *k, void *ctx, uint64_t arg);

/* Open loop: draws when the next arrival comes, and how many then. */
static void schedule_arrival(guest *g)
{
    uint32_t count;
    uint64_t delay = workload_next_arrival(&g->env.cfg->workload, &g->arrival_rng,
                                           g->env.clock_hz, &count);
    later(g, delay, arrive, count);
}

/* The transport starts; a closed loop issues its `depth` requests at
 * once, an open loop waits for its first arrival with every slot idle. */
void guest_start(guest *g)
{
    const guest_workload_config *w = &g->env.cfg->workload;
    g->tops->start(g->transport);
    if (workload_open(w)) {
        for (uint64_t i = w->depth; i-- > 0;)
            g->idle[g->nidle++] = (uint32_t)i;
        schedule_arrival(g);
    } else {
        for (uint64_t i = 0; i < w->depth; i++)
            later(g, 0, issue, i);
    }
    if (g->env.cfg->memory.remap_rate > 0)
        later(g, remap_gap(g), remap_event, 0);
}

void guest_finish(guest *g, sim_time now)
{
    g->tops->finish(g->transport, now);
}

/* ---- a request's life ------------------------------------------------------ */

/* Hands slot `slot`'s request to the transport, which runs it to its
 * outcome; its latency counts from its arrival. */
static void send_request(guest *g, uint32_t slot)
{
    io_request *r = &g->slots[slot];
    memset(&r->cost, 0, sizeof r->cost);
    memset(&r->parts, 0, sizeof r->parts);
    r->io.sched_cycles = 0;
    r->io.device_cycles = 0;
    r->phase = TRANSPORT_FAST;
    r->described = 0;
    r->copy_out = 0;
    r->issued = r->arrived;
    trace_issue(g, r);
    g->tops->send(g->transport, r);
}

/* A new request in slot `slot`, wanted since `arrived`: its size and
 * direction drawn from the mix. */
static void begin(guest *g, uint32_t slot, sim_time arrived)
{
    const guest_workload_config *w = &g->env.cfg->workload;
    io_request *r = &g->slots[slot];
    r->arrived = arrived;
    r->bytes = r->io.bytes = workload_draw_size(w, &g->mix_rng);
    r->read = workload_draw_read(w, &g->mix_rng);
    send_request(g, slot);
}

/* Closed loop: slot `arg` issues its next request now. */
static void issue(sim_kernel *k, void *ctx, uint64_t arg)
{
    guest *g = ctx;
    g->stats->arrivals++;
    begin(g, (uint32_t)arg, sim_now(k));
}

/* Open loop: the request a failed attempt left in slot `arg` tries again,
 * its arrival unchanged. */
static void retry(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    send_request(ctx, (uint32_t)arg);
}

/* Open loop: `count` requests arrive now; each takes an idle slot, waits
 * in the backlog, or is dropped. The next arrival is drawn. */
static void arrive(sim_kernel *k, void *ctx, uint64_t count)
{
    guest *g = ctx;
    const guest_workload_config *w = &g->env.cfg->workload;
    sim_time now = sim_now(k);
    for (uint64_t i = 0; i < count; i++) {
        g->stats->arrivals++;
        if (g->nidle > 0) {
            begin(g, g->idle[--g->nidle], now);
            continue;
        }
        if (w->on_full == WORKLOAD_QUEUE && (uint64_t)sim_ring_len(&g->backlog) < w->backlog) {
            if (sim_ring_push(&g->backlog, &now))
                sim_fail(k, SIM_ENOMEM);
            continue;
        }
        g->stats->dropped++;
    }
    schedule_arrival(g);
}

/* Open loop: slot `slot` is free: it takes the oldest waiting arrival,
 * or idles. */
static void next_arrival(guest *g, uint32_t slot)
{
    if (sim_ring_len(&g->backlog) == 0) {
        g->idle[g->nidle++] = slot;
        return;
    }
    sim_time arrived;
    sim_ring_pop(&g->backlog, &arrived);
    begin(g, slot, arrived);
}

/* The scheme describes the request. A read's copy (a registered or a
 * bounce buffer's) waits for the completion: the transport sees none. */
static int describe(void *ctx, io_request *r)
{
    guest *g = ctx;
    int rc = g->env.scheme->describe(g->scheme, r->slot, r->bytes, &r->cost);
    r->described = rc == 0;
    if (rc == 0 && r->read) {
        r->copy_out = r->cost.copy_cycles;
        r->cost.copy_cycles = 0;
    }
    return rc;
}

static void resolve(void *ctx, io_request *r)
{
    guest *g = ctx;
    g->env.scheme->resolve(g->scheme, r->slot, &r->cost);
}

static uint64_t draw_think(guest *g)
{
    const guest_workload_config *w = &g->env.cfg->workload;
    if (w->think == 0 || w->think_dist == GUEST_THINK_FIXED)
        return w->think;
    return (uint64_t)(sim_rng_exp(&g->rng, (double)w->think) + 0.5);
}

/* Splits the latency into where its cycles went, into `sums` in the
 * order of rows.h's columns (workload_stats takes the same); queueing is
 * the rest. Every part is time the request could not do without, so the
 * parts never exceed the latency; if they did, a cost was counted twice,
 * and the run stops rather than report it. */
static int record(guest *g, const io_request *r, sim_time now, uint64_t sums[ROWS_PARTS])
{
    guest_stats *s = g->stats;
    const io_parts *p = &r->parts;
    uint64_t latency = now - r->issued;
    uint64_t parts = p->notify + p->exit + p->translate + p->copy + p->device +
                     p->interrupt + p->scheduling;
    if (parts > latency) {
        sim_fail(g->env.k, SIM_EINVAL);
        return SIM_EINVAL;
    }
    s->requests++;
    s->bytes += r->bytes;
    s->sum_notify += p->notify;
    s->sum_exit += p->exit;
    s->sum_translate += p->translate;
    s->sum_copy += p->copy;
    s->sum_device += p->device;
    s->sum_interrupt += p->interrupt;
    s->sum_scheduling += p->scheduling;
    s->sum_queueing += latency - parts;
    scheme_cost_add(&s->scheme, &r->cost);
    s->alloc_failures += r->cost.alloc_failures;
    sim_hist_record(&s->latency, latency);
    const uint64_t made[ROWS_PARTS] = {p->notify, p->exit, p->translate, p->copy,
                                       p->device, p->interrupt, p->scheduling, latency - parts};
    memcpy(sums, made, sizeof made);
    int rc = workload_stats_record(&s->mix, &g->env.cfg->workload, r->bytes, r->read, latency,
                                   sums);
    if (rc) {
        sim_fail(g->env.k, rc);
        return rc;
    }
    if (g->tops->phases) {
        transport_stats *t = &s->transport;
        t->phase_requests[r->phase]++;
        t->phase_bytes[r->phase] += r->bytes;
        sim_hist_record(&t->phase_latency[r->phase], latency);
    }
    return 0;
}

/* The guest's work after a completion is done: a closed loop idles, then
 * issues (at once without think time); an open loop's slot takes the next
 * waiting arrival. */
static void computed(sim_kernel *k, void *ctx, uint64_t slot)
{
    guest *g = ctx;
    if (workload_open(&g->env.cfg->workload)) {
        next_arrival(g, (uint32_t)slot);
        return;
    }
    uint64_t think = draw_think(g);
    if (think == 0)
        issue(k, g, slot);
    else
        later(g, think, issue, slot);
}

/* The scheme lets go of the request's buffer. */
static int release(guest *g, io_request *r)
{
    if (!r->described)
        return 0;
    r->described = 0;
    return g->env.scheme->complete(g->scheme, r->slot);
}

static void finish(sim_kernel *k, guest *g, io_request *r);

/* A read's data, copied out of the scheme's buffer: the request is done. */
static void copied_out(sim_kernel *k, void *ctx, uint64_t slot)
{
    guest *g = ctx;
    io_request *r = &g->slots[slot];
    r->cost.copy_cycles = r->copy_out;
    r->parts.copy += r->copy_out;
    r->copy_out = 0;
    finish(k, g, r);
}

/* The guest saw the completion (its interrupt handler and EOI are done,
 * its poll found it, or the synchronous exit returned); a read still
 * copies its data out where its scheme copies. */
static void done(sim_kernel *k, void *ctx, io_request *r)
{
    guest *g = ctx;
    if (r->copy_out) {
        vcpu_guest_named(r->cpu, "copy out", r->copy_out, (vcpu_call){copied_out, g, r->slot},
                         &r->parts.scheduling);
        return;
    }
    finish(k, g, r);
}

static void finish(sim_kernel *k, guest *g, io_request *r)
{
    uint64_t sums[ROWS_PARTS];
    if (record(g, r, sim_now(k), sums))
        return;
    trace_done(g, r, sim_now(k), sums);
    int rc = release(g, r);
    if (rc) {
        sim_fail(k, rc);
        return;
    }
    vcpu_guest(r->cpu, g->env.cfg->workload.compute, (vcpu_call){computed, g, r->slot}, NULL);
    if (g->env.hooks.completed)
        g->env.hooks.completed(k, g->env.hooks.ctx);
}

/* The scheme could not describe the buffer: the slot tries again later. */
static void failed(sim_kernel *k, void *ctx, io_request *r)
{
    (void)k;
    guest *g = ctx;
    g->stats->failed++;
    g->stats->alloc_failures += r->cost.alloc_failures;
    /* A closed loop's slot issues a new request; an open loop's arrival
     * is still wanted and tries again. */
    int open = workload_open(&g->env.cfg->workload);
    later(g, g->env.retry, open ? retry : issue, r->slot);
}

/* The host refused the request: the driver gives up on it and goes on
 * with its next one, after the usual compute and think. */
static void refused(sim_kernel *k, void *ctx, io_request *r)
{
    guest *g = ctx;
    g->stats->refused++;
    int rc = release(g, r);
    if (rc) {
        sim_fail(k, rc);
        return;
    }
    vcpu_guest(r->cpu, g->env.cfg->workload.compute, (vcpu_call){computed, g, r->slot}, NULL);
}

static transport_guest callbacks(guest *g)
{
    return (transport_guest){.ctx = g, .describe = describe, .resolve = resolve,
                             .done = done, .failed = failed, .refused = refused};
}

/* The guest moves one page of one buffer to another frame. */
static void remap_event(sim_kernel *k, void *ctx, uint64_t arg)
{
    guest *g = ctx;
    uint32_t slot = (uint32_t)sim_rng_below(&g->remap_rng, g->env.cfg->workload.depth);
    uint32_t page = (uint32_t)sim_rng_below(&g->remap_rng, g->pages_per_buffer);
    scheme_cost c = {0};
    int rc = g->env.scheme->remap(g->scheme, slot, page, &c);
    if (rc) {
        sim_fail(k, rc);
        return;
    }
    g->stats->remaps++;
    g->stats->alloc_failures += c.alloc_failures;
    later(g, remap_gap(g), remap_event, arg);
}

void guest_get_vcpu_stats(const guest *g, thread_stats *out)
{
    *out = (thread_stats){0};
    for (uint64_t i = 0; i < g->env.cfg->vcpus; i++) {
        thread_stats ts;
        vcpu_get_thread_stats(g->vcpus[i], &ts);
        out->items += ts.items;
        out->busy_cycles += ts.busy_cycles;
        out->wakeups += ts.wakeups;
        out->switches += ts.switches;
        out->ready_wait_cycles += ts.ready_wait_cycles;
    }
}

void guest_get_memory_stats(const guest *g, guestmem_stats *out, double *unusable)
{
    guestmem_get_stats(g->mem, out);
    *unusable = guestmem_unusable_index(g->mem, guestmem_pageblock_order(g->mem));
}
