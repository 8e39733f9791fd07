/*
 * guest.c -- the closed-loop guest of guest.h.
 *
 * Each outstanding request owns one slot of a preallocated array for the
 * guest's lifetime, so the steady state allocates nothing.
 */
#include "models/guest.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/rng.h"

static const char *const think_dist_names[] = {"fixed", "exponential", NULL};
static const char *const page_size_names[] = {"4KiB", "2MiB", NULL};

static const scn_field workload_fields[] = {
    {.key = "depth", .type = SCN_U64, .offset = SCN_AT(guest_workload_config, depth, uint64_t),
     .min = 1, .max = 65536, .def = "1", .doc = "requests kept outstanding (closed loop)"},
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(guest_workload_config, size, uint64_t),
     .min = 1, .max = 1073741824.0, .def = "4KiB", .doc = "payload bytes per request"},
    {.key = "compute", .type = SCN_DURATION,
     .offset = SCN_AT(guest_workload_config, compute, uint64_t), .max = 1e12, .def = "0",
     .doc = "guest work on the vCPU after each completion (it needs a host core)"},
    {.key = "think", .type = SCN_DURATION, .offset = SCN_AT(guest_workload_config, think, uint64_t),
     .max = 1e12, .def = "0",
     .doc = "mean idle time after the compute before the slot's next request "
            "(the vCPU may halt)"},
    {.key = "think_dist", .type = SCN_ENUM, .offset = SCN_AT(guest_workload_config, think_dist, int),
     .def = "fixed", .enum_names = think_dist_names,
     .doc = "distribution of the think time"},
};

static const scn_schema workload_schema = {
    .name = "workload",
    .size = sizeof(guest_workload_config),
    .fields = workload_fields,
    .nfields = sizeof workload_fields / sizeof workload_fields[0],
};

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
    {.key = "workload", .type = SCN_STRUCT, .offset = offsetof(guest_config, workload),
     .sub = &workload_schema, .doc = "the I/O each instance issues"},
    {.key = "memory", .type = SCN_STRUCT, .offset = offsetof(guest_config, memory),
     .sub = &memory_schema, .doc = "each instance's guest-physical memory"},
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

int guest_kick(const scheme_ops *s, const fabric_config *f)
{
    return s->kick >= 0 ? s->kick : f->kick;
}

typedef struct request {
    pv_io io;                       /* first: the device hands back &io */
    guest *g;
    vcpu *cpu;                      /* the vCPU its slot runs on */
    sim_time issued;
    scheme_cost cost;
    uint64_t irq_cycles;            /* the interrupt's path, EOI included */
} request;

struct guest {
    guest_env env;
    guest_stats *stats;
    vcpu **vcpus;                   /* cfg->vcpus of them */
    sim_rng rng;                    /* the workload's */
    sim_rng scheme_rng, remap_rng;
    guestmem *mem;
    scheme *scheme;
    uint32_t pages_per_buffer;
    int kick_path;                  /* fabric_path_id; -1: polled ring */
    uint64_t kick_whole, kick_to_signal, registration;
    request *slots;
};

/* ---- statistics ---------------------------------------------------------- */

int guest_stats_init(guest_stats *s)
{
    memset(s, 0, sizeof *s);
    return sim_hist_init(&s->latency);
}

void guest_stats_fini(guest_stats *s)
{
    sim_hist_fini(&s->latency);
}

void guest_stats_reset(guest_stats *s)
{
    sim_hist hist = s->latency;
    sim_hist_clear(&hist);
    memset(s, 0, sizeof *s);
    s->latency = hist;
}

void guest_stats_add(guest_stats *sum, const guest_stats *st)
{
#define X(name) sum->name += st->name;
    GUEST_COUNTERS(X)
#undef X
    vcpu_counts_add(&sum->vcpu, &st->vcpu);
    scheme_cost_add(&sum->scheme, &st->scheme);
    sum->alloc_failures += st->alloc_failures;
    sim_hist_merge(&sum->latency, &st->latency);
}

/* ---- building ------------------------------------------------------------ */

static void issue(sim_kernel *k, void *ctx, uint64_t arg);
static void remap_event(sim_kernel *k, void *ctx, uint64_t arg);
static void device_done(sim_kernel *k, pv_io *io);

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

/* Copies the aged memory and sets the scheme up over it. */
static int build_memory(guest *g, scheme_cost *setup)
{
    g->mem = guestmem_clone(g->env.memory);
    if (!g->mem)
        return SIM_ENOMEM;
    scheme_env se = {.mem = g->mem, .tc = g->env.tc, .space = g->env.space,
                     .costs = g->env.scheme_costs, .cfg = g->env.scheme_cfg,
                     .rng = &g->scheme_rng, .slots = (uint32_t)g->env.cfg->workload.depth,
                     .bytes = g->env.cfg->workload.size};
    g->scheme = g->env.scheme->create(&se);
    if (!g->scheme)
        return SIM_ENOMEM;
    return g->env.scheme->setup(g->scheme, setup);
}

static uint64_t whole(const fabric_exit *e)
{
    return e->to_signal + e->after_signal + e->entry;
}

/* The kick path and what its exits cost. */
static void plan_exits(guest *g)
{
    const guest_env *env = &g->env;
    g->kick_path = fabric_kick_path(guest_kick(env->scheme, env->fabric), env->fabric->handler);
    if (g->kick_path >= 0) {
        fabric_exit e = fabric_exit_of(env->costs, g->kick_path, env->pio_in_emulated);
        g->kick_whole = whole(&e);
        g->kick_to_signal = e.to_signal;
    }
    fabric_exit reg = fabric_exit_of(env->costs, FABRIC_PATH_HYPERCALL, env->pio_in_emulated);
    g->registration = whole(&reg);
}

static vcpu *make_vcpu(const guest_env *env, guest_stats *stats)
{
    vcpu_env ve = {.k = env->k, .host = env->host, .kind = "vcpu", .costs = env->costs,
                   .polling = env->fabric->vcpu_idle == FABRIC_POLL,
                   .posted = env->fabric->posted_interrupts, .eoi = env->eoi,
                   .pio_in_emulated = env->pio_in_emulated, .counts = &stats->vcpu};
    return vcpu_new(&ve);
}

guest *guest_new(const guest_env *env, scheme_cost *setup, int *rc)
{
    guest *g = calloc(1, sizeof *g);
    *rc = SIM_ENOMEM;
    if (!g)
        return NULL;
    g->env = *env;
    g->stats = env->stats;
    const guest_config *cfg = env->cfg;
    uint64_t page_bytes = 4096ull << guest_page_order(&cfg->memory);
    g->pages_per_buffer = (uint32_t)((cfg->workload.size + page_bytes - 1) / page_bytes);
    plan_exits(g);
    seed_stream(&g->rng, env->seed, env->instance, "");
    seed_stream(&g->scheme_rng, env->seed, env->instance, "/scheme");
    seed_stream(&g->remap_rng, env->seed, env->instance, "/remap");
    g->vcpus = calloc(cfg->vcpus, sizeof *g->vcpus);
    g->slots = calloc(cfg->workload.depth, sizeof *g->slots);
    int built = g->vcpus && g->slots;
    for (uint64_t i = 0; built && i < cfg->vcpus; i++)
        built = (g->vcpus[i] = make_vcpu(env, env->stats)) != NULL;
    if (built)
        *rc = build_memory(g, setup);
    if (*rc) {
        guest_free(g);
        return NULL;
    }
    int interrupts = env->fabric->completion == FABRIC_COMPLETE_INTERRUPT;
    for (uint64_t i = 0; i < cfg->workload.depth; i++) {
        g->slots[i].g = g;
        g->slots[i].cpu = g->vcpus[i % cfg->vcpus];
        g->slots[i].io.bytes = cfg->workload.size;
        g->slots[i].io.notify_cycles = interrupts ? env->costs->eventfd_signal : 0;
        g->slots[i].io.complete = device_done;
    }
    return g;
}

void guest_free(guest *g)
{
    if (!g)
        return;
    if (g->scheme)
        g->env.scheme->destroy(g->scheme);
    guestmem_free_all(g->mem);
    for (uint64_t i = 0; g->vcpus && i < g->env.cfg->vcpus; i++)
        vcpu_free(g->vcpus[i]);
    free(g->vcpus);
    free(g->slots);
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

void guest_start(guest *g)
{
    for (uint64_t i = 0; i < g->env.cfg->workload.depth; i++)
        later(g, 0, issue, i);
    if (g->env.cfg->memory.remap_rate > 0)
        later(g, remap_gap(g), remap_event, 0);
}

/* ---- a request's life ------------------------------------------------------ */

static void kicked(sim_kernel *k, void *ctx, uint64_t arg);
static void handled(sim_kernel *k, void *ctx, uint64_t arg);

/* Starts request slot `arg`: the driver describes the buffer, then the
 * vCPU copies what must be copied, registers, and kicks once per part;
 * the last kick's signal hands the request to the device. */
static void issue(sim_kernel *k, void *ctx, uint64_t arg)
{
    guest *g = ctx;
    request *r = &g->slots[arg];
    memset(&r->cost, 0, sizeof r->cost);
    r->io.sched_cycles = 0;
    r->irq_cycles = 0;
    r->issued = sim_now(k);
    int rc = g->env.scheme->describe(g->scheme, (uint32_t)arg, &r->cost);
    if (rc == SIM_ENOSPACE) {
        g->stats->failed++;
        g->stats->alloc_failures += r->cost.alloc_failures;
        later(g, g->env.retry, issue, arg);
        return;
    }
    if (rc) {
        sim_fail(k, rc);
        return;
    }
    const vcpu_call none = {0}, submit = {kicked, r, 0};
    uint32_t kicks = g->kick_path < 0 ? 0 : r->cost.kicks;
    uint64_t *sched = &r->io.sched_cycles;
    if (r->cost.copy_cycles)
        vcpu_guest(r->cpu, r->cost.copy_cycles, none, sched);
    for (uint32_t i = 0; i < r->cost.extra_exits; i++)
        vcpu_exit(r->cpu, FABRIC_PATH_HYPERCALL, none, none, NULL, sched);
    for (uint32_t i = 0; i < kicks; i++)
        vcpu_exit(r->cpu, g->kick_path, i + 1 == kicks ? submit : none, none, NULL, sched);
    if (kicks == 0)                 /* a polled ring: the backend sees it now */
        vcpu_guest(r->cpu, 0, submit, sched);
}

/* The kick reached the host: the device's worker resolves the buffer,
 * then serves the request. */
static void kicked(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    request *r = ctx;
    guest *g = r->g;
    g->env.scheme->resolve(g->scheme, (uint32_t)(r - g->slots), &r->cost);
    r->io.parts = r->cost.kicks;
    r->io.host_cycles = r->cost.host_cycles;
    int rc = g->env.dev.submit(g->env.dev.self, &r->io);
    if (rc)
        sim_fail(k, rc);
}

/* The worker signalled the completion: an interrupt for the vCPU, or,
 * when the driver polls, the completion is seen by its next poll. */
static void device_done(sim_kernel *k, pv_io *io)
{
    (void)k;
    request *r = (request *)io;
    guest *g = r->g;
    vcpu_call done = {handled, r, 0};
    if (g->env.fabric->completion == FABRIC_COMPLETE_POLL)
        vcpu_guest(r->cpu, 0, done, &r->io.sched_cycles);
    else
        vcpu_interrupt(r->cpu, done, &r->irq_cycles, &r->io.sched_cycles);
}

static uint64_t draw_think(guest *g)
{
    const guest_workload_config *w = &g->env.cfg->workload;
    if (w->think == 0 || w->think_dist == GUEST_THINK_FIXED)
        return w->think;
    return (uint64_t)(sim_rng_exp(&g->rng, (double)w->think) + 0.5);
}

/* Splits the latency into where its cycles went; queueing is the rest.
 * Every part is time the request could not do without, so the parts
 * never exceed the latency; if they did, a cost was counted twice, and
 * the run stops rather than report it. */
static void record(guest *g, const request *r, sim_time now)
{
    guest_stats *s = g->stats;
    const scheme_cost *c = &r->cost;
    uint64_t latency = now - r->issued;
    uint64_t notify = c->kicks && g->kick_path >= 0
                          ? (uint64_t)(c->kicks - 1) * g->kick_whole + g->kick_to_signal
                          : 0;
    uint64_t exits = (uint64_t)c->extra_exits * g->registration;
    uint64_t interrupt = r->io.notify_cycles + r->irq_cycles;
    uint64_t device = r->io.device_cycles - c->host_cycles;
    uint64_t sched = r->io.sched_cycles;
    uint64_t parts = notify + exits + c->host_cycles + c->copy_cycles + device + interrupt +
                     sched;
    if (parts > latency) {
        sim_fail(g->env.k, SIM_EINVAL);
        return;
    }
    s->requests++;
    s->bytes += r->io.bytes;
    s->sum_notify += notify;
    s->sum_exit += exits;
    s->sum_translate += c->host_cycles;
    s->sum_copy += c->copy_cycles;
    s->sum_device += device;
    s->sum_interrupt += interrupt;
    s->sum_scheduling += sched;
    s->sum_queueing += latency - parts;
    scheme_cost_add(&s->scheme, c);
    s->alloc_failures += c->alloc_failures;
    sim_hist_record(&s->latency, latency);
}

/* The guest's work after a completion is done: it idles, then issues.
 * Without think time it issues at once. */
static void computed(sim_kernel *k, void *ctx, uint64_t slot)
{
    guest *g = ctx;
    uint64_t think = draw_think(g);
    if (think == 0)
        issue(k, g, slot);
    else
        later(g, think, issue, slot);
}

/* The guest saw the completion (its interrupt handler and EOI are done,
 * or its poll found it). */
static void handled(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    request *r = ctx;
    guest *g = r->g;
    uint32_t slot = (uint32_t)(r - g->slots);
    record(g, r, sim_now(k));
    int rc = g->env.scheme->complete(g->scheme, slot);
    if (rc) {
        sim_fail(k, rc);
        return;
    }
    vcpu_guest(r->cpu, g->env.cfg->workload.compute, (vcpu_call){computed, g, slot}, NULL);
    if (g->env.hooks.completed)
        g->env.hooks.completed(k, g->env.hooks.ctx);
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
