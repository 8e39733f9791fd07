/*
 * guest.c -- the closed-loop guest of guest.h.
 *
 * Each outstanding request owns one slot of a preallocated array for the
 * guest's lifetime, so the steady state allocates nothing. A request's life:
 *   issue -> vCPU: PIO-write exit -> device -> vCPU: irq exit + EOI exit
 *         -> record -> think -> issue.
 */
#include "models/guest.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim/resource.h"
#include "sim/rng.h"

static const char *const think_dist_names[] = {"fixed", "exponential", NULL};

static const scn_field workload_fields[] = {
    {.key = "depth", .type = SCN_U64, .offset = offsetof(guest_workload_config, depth),
     .min = 1, .max = 65536, .def = "1", .doc = "requests kept outstanding (closed loop)"},
    {.key = "size", .type = SCN_SIZE, .offset = offsetof(guest_workload_config, size),
     .min = 1, .max = 1073741824.0, .def = "4KiB", .doc = "payload bytes per request"},
    {.key = "think", .type = SCN_DURATION, .offset = offsetof(guest_workload_config, think),
     .max = 1e12, .def = "0",
     .doc = "mean time between a completion and the slot's next request"},
    {.key = "think_dist", .type = SCN_ENUM, .offset = offsetof(guest_workload_config, think_dist),
     .def = "fixed", .enum_names = think_dist_names,
     .doc = "distribution of the think time"},
};

static const scn_schema workload_schema = {
    .name = "workload",
    .size = sizeof(guest_workload_config),
    .fields = workload_fields,
    .nfields = sizeof workload_fields / sizeof workload_fields[0],
};

static const scn_field guest_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = offsetof(guest_config, name),
     .flags = SCN_REQUIRED, .min = 1, .max = 64,
     .doc = "guest class name; instances are named <name>/0, <name>/1, ..."},
    {.key = "count", .type = SCN_U64, .offset = offsetof(guest_config, count),
     .min = 1, .max = 1024, .def = "1", .doc = "instances of this guest class"},
    {.key = "workload", .type = SCN_STRUCT, .offset = offsetof(guest_config, workload),
     .sub = &workload_schema, .doc = "the I/O each instance issues"},
};

const scn_schema guest_schema = {
    .name = "guest",
    .size = sizeof(guest_config),
    .fields = guest_fields,
    .nfields = sizeof guest_fields / sizeof guest_fields[0],
};

typedef struct request {
    pv_io io;                       /* first: the device hands back &io */
    guest *g;
    sim_time issued;
} request;

struct guest {
    sim_kernel *k;
    const guest_config *cfg;
    const vmm_costs *costs;
    pv_device dev;
    guest_stats *stats;
    guest_hooks hooks;
    sim_resource *vcpu;
    sim_rng rng;
    request *slots;
};

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

static void issue(sim_kernel *k, void *ctx, uint64_t arg);
static void kicked(sim_kernel *k, void *ctx, uint64_t arg);
static void device_done(sim_kernel *k, pv_io *io);
static void interrupt_handled(sim_kernel *k, void *ctx, uint64_t arg);

guest *guest_new(sim_kernel *k, const guest_config *cfg, const vmm_costs *costs,
                 pv_device dev, guest_stats *stats, guest_hooks hooks,
                 uint64_t seed, const char *instance)
{
    guest *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    *g = (guest){.k = k, .cfg = cfg, .costs = costs, .dev = dev,
                 .stats = stats, .hooks = hooks};
    g->vcpu = sim_resource_new(k, 1, 0);
    g->slots = calloc(cfg->workload.depth, sizeof *g->slots);
    if (!g->vcpu || !g->slots) {
        guest_free(g);
        return NULL;
    }
    sim_rng_seed(&g->rng, seed, instance);
    for (uint64_t i = 0; i < cfg->workload.depth; i++) {
        g->slots[i].g = g;
        g->slots[i].io.bytes = cfg->workload.size;
        g->slots[i].io.complete = device_done;
    }
    return g;
}

void guest_free(guest *g)
{
    if (!g)
        return;
    sim_resource_free(g->vcpu);
    free(g->slots);
    free(g);
}

int guest_start(guest *g)
{
    for (uint64_t i = 0; i < g->cfg->workload.depth; i++) {
        int rc = sim_schedule(g->k, 0, SIM_BAND_NORMAL, issue, g, i, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* Starts request slot `arg`: the driver writes the doorbell port, which
 * exits to the hypervisor on the guest's vCPU. */
static void issue(sim_kernel *k, void *ctx, uint64_t arg)
{
    guest *g = ctx;
    request *r = &g->slots[arg];
    r->issued = sim_now(k);
    if (sim_resource_submit(g->vcpu, g->costs->pio_write_exit, kicked, r, 0))
        g->stats->submit_failures++;
}

/* The exit was handled: the request reaches the device. */
static void kicked(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    request *r = ctx;
    if (r->g->dev.submit(r->g->dev.self, &r->io))
        r->g->stats->submit_failures++;
}

/* The device completed: the interrupt is injected into the vCPU, which
 * takes the external-interrupt exit and, after the handler, the EOI exit. */
static void device_done(sim_kernel *k, pv_io *io)
{
    (void)k;
    request *r = (request *)io;
    guest *g = r->g;
    uint64_t cost = g->costs->irq_exit + g->costs->eoi_exit;
    if (sim_resource_submit(g->vcpu, cost, interrupt_handled, r, 0))
        g->stats->submit_failures++;
}

static uint64_t draw_think(guest *g)
{
    const guest_workload_config *w = &g->cfg->workload;
    if (w->think == 0 || w->think_dist == GUEST_THINK_FIXED)
        return w->think;
    return (uint64_t)(sim_rng_exp(&g->rng, (double)w->think) + 0.5);
}

static void record(guest *g, const request *r, sim_time now)
{
    guest_stats *s = g->stats;
    uint64_t latency = now - r->issued;
    uint64_t exit = g->costs->pio_write_exit;
    uint64_t interrupt = g->costs->irq_exit + g->costs->eoi_exit;
    s->requests++;
    s->bytes += r->io.bytes;
    s->exits_pio_write++;
    s->exits_irq++;
    s->exits_eoi++;
    s->interrupts++;
    s->sum_exit += exit;
    s->sum_device += r->io.device_cycles;
    s->sum_interrupt += interrupt;
    s->sum_queueing += latency - exit - r->io.device_cycles - interrupt;
    sim_hist_record(&s->latency, latency);
}

static void interrupt_handled(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    request *r = ctx;
    guest *g = r->g;
    record(g, r, sim_now(k));
    uint64_t slot = (uint64_t)(r - g->slots);
    if (sim_schedule(k, draw_think(g), SIM_BAND_NORMAL, issue, g, slot, NULL))
        g->stats->submit_failures++;
    if (g->hooks.completed)
        g->hooks.completed(k, g->hooks.ctx);
}

void guest_reset_stats(guest *g)
{
    sim_resource_reset_stats(g->vcpu);
}

void guest_get_vcpu_stats(const guest *g, sim_resource_stats *out)
{
    sim_resource_get_stats(g->vcpu, out);
}
