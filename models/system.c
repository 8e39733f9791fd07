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
    {.key = #name, .type = SCN_DURATION, .offset = SCN_AT(vmm_costs, name, uint64_t), \
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
    {.key = "duration", .type = SCN_DURATION, .offset = SCN_AT(run_config, duration, uint64_t),
     .min = 1, .max = MAX_RUN, .def = "10ms",
     .doc = "simulated time to run, warm-up included"},
    {.key = "warmup", .type = SCN_DURATION, .offset = SCN_AT(run_config, warmup, uint64_t),
     .max = MAX_RUN, .def = "1ms",
     .doc = "time before statistics start; must be less than duration"},
    {.key = "max_requests", .type = SCN_U64, .offset = SCN_AT(run_config, max_requests, uint64_t),
     .def = "0", .doc = "stop after this many measured completions (0: no limit)"},
    {.key = "retry", .type = SCN_DURATION, .offset = SCN_AT(run_config, retry, uint64_t),
     .min = 1, .max = MAX_COST, .def = "10us",
     .doc = "wait before a slot whose request could not be sent tries again"},
};

static const scn_schema run_schema = {
    .name = "run",
    .size = sizeof(run_config),
    .fields = run_fields,
    .nfields = sizeof run_fields / sizeof run_fields[0],
};

const char *const system_scheme_names[] = {"linear", "page-list", "physical", "sg", NULL};
static const char *const on_fragmented_names[] = {"bounce", "split", "fail", NULL};

static const scn_field variant_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(variant_config, name, char *),
     .min = 1, .max = 64, .doc = "name in the results (default: the scheme's)"},
    {.key = "scheme", .type = SCN_ENUM, .offset = SCN_AT(variant_config, scheme, int),
     .def = "linear", .enum_names = system_scheme_names,
     .doc = "how the driver hands buffers to the host (docs/schemes.md)"},
    {.key = "tcache_entries", .type = SCN_U64, .offset = SCN_AT(variant_config, tcache_entries, uint64_t), .min = 1, .max = 1 << 24,
     .def = "512", .doc = "linear: entries of the host's translation cache (LRU)"},
    {.key = "walk_cache_hit", .type = SCN_DOUBLE, .offset = SCN_AT(variant_config, walk_cache_hit, double), .min = 0, .max = 1, .def = "0",
     .doc = "linear: share of page-walk references that hit the CPU caches "
            "(costs.cache_ref) instead of memory (costs.mem_ref)"},
    {.key = "guest_levels", .type = SCN_U64, .offset = SCN_AT(variant_config, opts.guest_levels, uint64_t), .min = 2, .max = 5, .def = "4",
     .doc = "linear: levels of the guest page tables the host walks"},
    {.key = "max_registered", .type = SCN_U64, .offset = SCN_AT(variant_config, opts.max_registered, uint64_t), .min = 0, .max = 1 << 20,
     .def = "64", .doc = "page-list: buffers the host's registry holds, per guest"},
    {.key = "in_registered", .type = SCN_DOUBLE, .offset = SCN_AT(variant_config, opts.in_registered, double), .min = 0, .max = 1, .def = "1",
     .doc = "page-list: share of requests whose data already lies in a registered buffer"},
    {.key = "on_fragmented", .type = SCN_ENUM, .offset = SCN_AT(variant_config, opts.on_fragmented, int), .def = "bounce",
     .enum_names = on_fragmented_names,
     .doc = "physical: what happens when no contiguous run is free"},
    {.key = "max_sections", .type = SCN_U64, .offset = SCN_AT(variant_config, opts.max_sections, uint64_t), .min = 1, .max = 4096, .def = "16",
     .doc = "sg: sections per descriptor (lguest: 16)"},
    {.key = "fabric", .type = SCN_STRUCT, .offset = offsetof(variant_config, fabric),
     .sub = &fabric_schema,
     .doc = "notification and interrupt paths (docs/fabric.md)"},
};

static const scn_schema variant_schema = {
    .name = "variant",
    .size = sizeof(variant_config),
    .fields = variant_fields,
    .nfields = sizeof variant_fields / sizeof variant_fields[0],
};

static const scn_field host_fields[] = {
    {.key = "cores", .type = SCN_U64, .offset = SCN_AT(host_config, cores, uint64_t),
     .max = 65536, .def = "0",
     .doc = "physical cores that vCPUs and backend threads share (0: one per "
            "thread, so none waits for a core)"},
};

static const scn_schema host_schema = {
    .name = "host",
    .size = sizeof(host_config),
    .fields = host_fields,
    .nfields = sizeof host_fields / sizeof host_fields[0],
};

static const scn_field system_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(system_config, name, char *),
     .flags = SCN_REQUIRED, .min = 1, .max = 128,
     .doc = "scenario name, copied into the results"},
    {.key = "seed", .type = SCN_U64, .offset = SCN_AT(system_config, seed, uint64_t),
     .def = "1", .doc = "seed of every random stream (each entity draws its own)"},
    {.key = "clock", .type = SCN_FREQ, .offset = SCN_AT(system_config, clock_hz, uint64_t),
     .flags = SCN_CLOCK, .min = 1e6, .max = 1e11, .def = "3GHz",
     .doc = "host clock; durations in ns/us/ms/s convert to cycles with it"},
    {.key = "preset", .type = SCN_ENUM, .offset = SCN_AT(system_config, preset, int),
     .def = "x86-kvm-2012", .enum_names = vmm_preset_names,
     .doc = "named table of primitive costs (see docs/costs.md)"},
    {.key = "costs", .type = SCN_STRUCT, .offset = offsetof(system_config, costs),
     .sub = &costs_schema, .doc = "overrides of the preset's primitive costs"},
    {.key = "run", .type = SCN_STRUCT, .offset = offsetof(system_config, run),
     .sub = &run_schema, .doc = "how long to simulate and what to measure"},
    {.key = "host", .type = SCN_STRUCT, .offset = offsetof(system_config, host),
     .sub = &host_schema, .doc = "the host machine"},
    {.key = "guests", .type = SCN_LIST, .offset = offsetof(system_config, guests),
     .count_offset = offsetof(system_config, nguests), .min = 0, .max = 64,
     .sub = &guest_schema,
     .doc = "classes of guests doing I/O through the device (a scenario needs "
            "guests, ivshmem peers, or both)"},
    {.key = "device", .type = SCN_STRUCT, .offset = offsetof(system_config, device),
     .sub = &loopback_schema, .doc = "the loopback device every guest uses"},
    {.key = "ivshmem", .type = SCN_STRUCT, .offset = offsetof(system_config, ivshmem),
     .sub = &ivshmem_schema,
     .doc = "guests talking to each other through shared memory and doorbells "
            "(docs/fabric.md)"},
    {.key = "variants", .type = SCN_LIST, .offset = offsetof(system_config, variants),
     .count_offset = offsetof(system_config, nvariants), .min = 0, .max = 16,
     .sub = &variant_schema,
     .doc = "buffer schemes to compare over the same workload (default: one linear)"},
    {.key = "sweep", .type = SCN_BLOCK,
     .doc = "parameters `pvsim sweep` varies, point by point (docs/sweeps.md); "
            "`pvsim run` ignores it"},
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
    "  per_byte: 0.1\n"
    "# vCPUs and device workers poll and interrupts are posted: the preset has\n"
    "# no published wake-up or IPI figure, and this way needs none.\n"
    "variants:\n"
    "  - {scheme: linear, fabric: {vcpu_idle: poll, backend: poll, posted_interrupts: true}}\n";

/* ---- loading ----------------------------------------------------------- */

/* True when the scenario (or a --set) gave `path` explicitly. */
static int given(const scn_doc *doc, const char *path)
{
    scn_mark m = scn_mark_of(doc, path);
    return m.line != 0 || m.col != 0;
}

/* The primitives each scheme's cost chain uses beyond exits and
 * interrupts (models/scheme_*.c). */
static int scheme_needs(int which, vmm_cost_id id)
{
    /* Rows in enum system_scheme order. */
    static const vmm_cost_id needs[][4] = {
        {VMM_COST_mem_ref, VMM_COST_memslot_lookup, VMM_COST_tcache_hit, VMM_COST_cache_ref},
        {VMM_COST_memslot_lookup, VMM_COST_pin_per_page, VMM_COST_copy_per_kib,
         VMM_COST_hypercall_exit},
        {VMM_COST_memslot_lookup, VMM_COST_copy_per_kib, VMM_COST_COUNT, VMM_COST_COUNT},
        {VMM_COST_memslot_lookup, VMM_COST_hypercall_exit, VMM_COST_COUNT, VMM_COST_COUNT},
    };
    for (int i = 0; i < 4; i++)
        if (needs[which][i] == id)
            return 1;
    return 0;
}

/* An interrupt can find its vCPU running (so, without posted interrupts,
 * it takes an IPI and an exit) when the vCPU polls, has other requests in
 * flight, or is an ivshmem peer that others may message at any time. */
static int may_interrupt_running(const system_config *cfg, const fabric_config *f)
{
    if (f->vcpu_idle == FABRIC_POLL || cfg->ivshmem.peers > 0)
        return 1;
    for (size_t i = 0; i < cfg->nguests; i++)
        if (cfg->guests[i].workload.depth > 1)
            return 1;
    return 0;
}

/* The primitives the kicks and doorbells of a variant use. */
static int notify_needs(const system_config *cfg, const variant_config *v, vmm_cost_id id)
{
    const fabric_config *f = &v->fabric;
    int io = cfg->nguests > 0, peers = cfg->ivshmem.peers > 0;
    int kick = io && v->scheme == SYSTEM_SG ? FABRIC_KICK_HYPERCALL : f->kick;
    int exits = peers || (io && kick != FABRIC_KICK_POLL);
    switch (id) {
    case VMM_COST_pio_write_exit:
        return io && kick == FABRIC_KICK_PIO;
    case VMM_COST_hypercall_exit:
        return io && kick == FABRIC_KICK_HYPERCALL;
    case VMM_COST_mmio_exit:
        return peers || (io && kick == FABRIC_KICK_MMIO);
    case VMM_COST_emulation:
        return peers ? f->interrupts == FABRIC_INTX || f->mask ||
                             f->handler == FABRIC_USERSPACE
                       : io && kick == FABRIC_KICK_MMIO && f->handler == FABRIC_USERSPACE;
    case VMM_COST_userspace_exit:
        return (exits && f->handler == FABRIC_USERSPACE) ||
               (peers && (f->interrupts == FABRIC_INTX || f->mask));
    case VMM_COST_copy_per_kib:
        return peers;
    default:
        return 0;
    }
}

/* The primitives the interrupts and host threads of a variant use. */
static int delivery_needs(const system_config *cfg, const variant_config *v, vmm_cost_id id)
{
    const fabric_config *f = &v->fabric;
    switch (id) {
    case VMM_COST_eoi_exit:
        return f->eoi == FABRIC_EOI_EXIT;
    case VMM_COST_ipi:
    case VMM_COST_irq_exit:
        return !f->posted_interrupts && may_interrupt_running(cfg, f);
    case VMM_COST_wakeup:
        return f->vcpu_idle == FABRIC_HALT || f->backend == FABRIC_HALT;
    case VMM_COST_context_switch:
        return cfg->host.cores > 0;
    default:
        return 0;
    }
}

static int variant_needs(const system_config *cfg, const variant_config *v, vmm_cost_id id)
{
    return (cfg->nguests > 0 && scheme_needs(v->scheme, id)) || notify_needs(cfg, v, id) ||
           delivery_needs(cfg, v, id);
}

/* Costs the scenario did not override come from the chosen preset. */
static void resolve_costs(system_config *cfg, const scn_doc *doc)
{
    for (int i = 0; i < VMM_COST_COUNT; i++) {
        char path[64];
        snprintf(path, sizeof path, "costs.%s", vmm_cost_key((vmm_cost_id)i));
        if (!given(doc, path))
            *vmm_cost_ref(&cfg->costs, (vmm_cost_id)i) =
                vmm_preset_cycles(cfg->preset, (vmm_cost_id)i, cfg->clock_hz);
    }
}

/* A cost the preset has no published figure for must be given if a
 * variant needs it. Checked once the other rules pass, as what a variant
 * needs depends on the rest being valid. */
static void check_needed_costs(const system_config *cfg, const scn_doc *doc,
                               scn_errors *errs)
{
    const vmm_preset *p = &vmm_presets[cfg->preset];
    for (int i = 0; i < VMM_COST_COUNT; i++) {
        char path[64];
        snprintf(path, sizeof path, "costs.%s", vmm_cost_key((vmm_cost_id)i));
        if (p->costs[i].source || given(doc, path))
            continue;
        for (size_t v = 0; v < cfg->nvariants; v++) {
            if (!variant_needs(cfg, &cfg->variants[v], (vmm_cost_id)i))
                continue;
            scn_errors_add(errs, scn_mark_of(doc, "preset"),
                           "%s: expected a value, as variant '%s' needs it: preset %s "
                           "has no published figure for it (docs/costs.md)",
                           path, system_variant_name(&cfg->variants[v]), p->name);
            break;
        }
    }
}

const char *system_variant_name(const variant_config *v)
{
    return v->name ? v->name : system_scheme_names[v->scheme];
}

/* A scenario without variants compares one: linear, with the defaults of
 * the variant schema (bound from an empty mapping, so they cannot drift). */
static int default_variant(system_config *cfg, scn_errors *errs)
{
    if (cfg->nvariants > 0)
        return 0;
    cfg->variants = calloc(1, sizeof *cfg->variants);
    if (!cfg->variants)
        return SIM_ENOMEM;
    cfg->nvariants = 1;
    scn_source src = {.path = "<default variant>", .text = "{}", .text_len = 2};
    return scn_load(&variant_schema, &src, cfg->variants, NULL, errs);
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
        uint64_t kick = c->pio_write_exit < c->hypercall_exit ? c->pio_write_exit
                                                               : c->hypercall_exit;
        uint64_t cycle = kick + c->irq_exit + c->eoi_exit + w->think +
                         loopback_service(&cfg->device, w->size, 1);
        if (cycle > 0)
            continue;
        char path[64];
        snprintf(path, sizeof path, "guests.%zu.workload", i);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected a request cycle of at least one cycle (exits, "
                       "device service and think time), found 0 cycles", path);
    }
}

#define MAX_TOTAL_MEMORY (256ull << 30)

/* Guest memory: whole pages, a bounded total (aged memory costs host
 * memory in proportion), and room for the buffers of schemes that hold
 * them for the whole run (all but physical). */
static void check_memory(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    int holds_buffers = 0;
    for (size_t v = 0; v < cfg->nvariants; v++)
        holds_buffers |= cfg->variants[v].scheme != SYSTEM_PHYSICAL;
    uint64_t total = 0;
    for (size_t i = 0; i < cfg->nguests; i++) {
        const guest_config *g = &cfg->guests[i];
        uint64_t page = 4096ull << guest_page_order(&g->memory);
        char path[64];
        total += g->count * g->memory.size;
        if (g->memory.size % page) {
            snprintf(path, sizeof path, "guests.%zu.memory.size", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected a whole number of %llu-byte pages, found %llu bytes",
                           path, (unsigned long long)page,
                           (unsigned long long)g->memory.size);
            continue;
        }
        uint64_t buffers = g->workload.depth * ((g->workload.size + page - 1) / page) * page;
        double room = (double)g->memory.size * (1.0 - g->memory.used);
        if (holds_buffers && (double)buffers > room) {
            snprintf(path, sizeof path, "guests.%zu.workload.depth", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected buffers (depth x size, %llu bytes) to fit in the "
                           "guest's free memory (%.0f bytes)", path,
                           (unsigned long long)buffers, room);
        }
    }
    if (total > MAX_TOTAL_MEMORY)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most 256 GiB of guest memory in all "
                       "(count x memory.size), found %llu bytes", (unsigned long long)total);
}

static void check_variant_names(const system_config *cfg, const scn_doc *doc,
                                scn_errors *errs)
{
    for (size_t i = 0; i < cfg->nvariants; i++) {
        for (size_t j = 0; j < i; j++) {
            const char *a = system_variant_name(&cfg->variants[i]);
            if (strcmp(a, system_variant_name(&cfg->variants[j])) != 0)
                continue;
            char path[64];
            snprintf(path, sizeof path, "variants.%zu", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected a name not used by another variant, found '%s' "
                           "(also variants.%zu; give one a name)", path, a, j);
        }
    }
}

/* A polled ring needs a backend that polls: nothing else would notice. */
static void check_fabric(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    for (size_t v = 0; v < cfg->nvariants; v++) {
        const fabric_config *f = &cfg->variants[v].fabric;
        if (f->kick != FABRIC_KICK_POLL || f->backend == FABRIC_POLL)
            continue;
        char where[32], path[64];
        snprintf(where, sizeof where, "variants.%zu", v);
        snprintf(path, sizeof path, "%s.fabric.backend", where);
        scn_errors_add(errs, scn_mark_of(doc, where),
                       "%s: expected poll, as fabric.kick is poll (a ring no exit "
                       "announces needs a polling backend), found halt", path);
    }
}

/* Attach and detach must alternate per peer, starting with a detach (every
 * peer is attached at the start), and happen within the run. */
static void check_ivshmem_events(const system_config *cfg, const scn_doc *doc,
                                 scn_errors *errs)
{
    const ivshmem_config *iv = &cfg->ivshmem;
    uint8_t *live = malloc(iv->peers ? iv->peers : 1);
    if (!live)
        return;
    memset(live, 1, iv->peers ? iv->peers : 1);
    for (size_t i = 0; i < iv->nevents; i++) {
        const ivshmem_event *e = &iv->events[i];
        char path[64];
        snprintf(path, sizeof path, "ivshmem.events.%zu", i);
        if (e->peer >= iv->peers) {
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.peer: expected a peer id below ivshmem.peers (%llu), found %llu",
                           path, (unsigned long long)iv->peers, (unsigned long long)e->peer);
            continue;
        }
        if (e->at >= cfg->run.duration)
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.at: expected a time within run.duration, found %llu cycles",
                           path, (unsigned long long)e->at);
        if (i > 0 && e->at < iv->events[i - 1].at)
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.at: expected events in time order", path);
        int attach = e->action == IVSHMEM_ATTACH;
        if (attach == live[e->peer])
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.action: expected %s, as peer %llu is %s then", path,
                           attach ? "detach" : "attach", (unsigned long long)e->peer,
                           attach ? "attached" : "detached");
        live[e->peer] = (uint8_t)attach;
    }
    free(live);
}

static void check_ivshmem(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    const ivshmem_config *iv = &cfg->ivshmem;
    if (cfg->nguests == 0 && iv->peers == 0)
        scn_errors_add(errs, scn_mark_of(doc, given(doc, "guests") ? "guests" : "name"),
                       "guests: expected at least one guest class, or ivshmem peers, "
                       "found neither");
    if (iv->peers == 0)
        return;
    uint32_t cap = ivshmem_max_peers(iv->layout);
    if (iv->peers > cap)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.peers"),
                       "ivshmem.peers: expected at most %u peers with layout %s (its "
                       "IVLiveList has %u bits%s), found %llu", cap,
                       iv->layout == IVSHMEM_16BIT ? "16bit" : "32bit", cap,
                       iv->layout == IVSHMEM_16BIT ? "; layout: 32bit lifts the cap" : "",
                       (unsigned long long)iv->peers);
    if (iv->pattern == IVSHMEM_PINGPONG && iv->peers % 2)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.peers"),
                       "ivshmem.peers: expected an even number for pattern pingpong "
                       "(peers pair up), found %llu", (unsigned long long)iv->peers);
    if (iv->peers < 2)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.peers"),
                       "ivshmem.peers: expected at least 2 peers, found %llu",
                       (unsigned long long)iv->peers);
    if (iv->shared_memory & (iv->shared_memory - 1))
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.shared_memory"),
                       "ivshmem.shared_memory: expected a power of two, found %llu bytes",
                       (unsigned long long)iv->shared_memory);
    if (iv->size > iv->shared_memory / iv->peers)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.size"),
                       "ivshmem.size: expected a message to fit in a peer's share of "
                       "shared memory (%llu bytes), found %llu bytes",
                       (unsigned long long)(iv->shared_memory / iv->peers),
                       (unsigned long long)iv->size);
    const vmm_costs *c = &cfg->costs;
    if (iv->think + c->mmio_exit + c->copy_per_kib == 0)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem"),
                       "ivshmem: expected a round of at least one cycle (doorbell exit, "
                       "copy and think time), found 0 cycles");
    check_ivshmem_events(cfg, doc, errs);
}

/* Rules that span several keys, pointing at the key to change. */
static void check_semantics(const system_config *cfg, const scn_doc *doc,
                            scn_errors *errs)
{
    check_fabric(cfg, doc, errs);
    check_ivshmem(cfg, doc, errs);
    check_totals(cfg, doc, errs);
    check_progress(cfg, doc, errs);
    check_memory(cfg, doc, errs);
    check_variant_names(cfg, doc, errs);
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
    if (rc == 0)
        rc = default_variant(cfg, errs);
    if (rc == 0) {
        resolve_costs(cfg, doc);
        check_semantics(cfg, doc, errs);
        if (errs->count == 0)
            check_needed_costs(cfg, doc, errs);
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

