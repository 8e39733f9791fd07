/*
 * system.c -- the scenario file's schema, assembled here from the schemas
 * the models declare, the built-in scenario, and system_load(): binding,
 * resolving the preset's costs, then the checks of system_check.c.
 * host.c builds, runs and reports a loaded config.
 */
#include "models/system.h"
#include "models/system_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/report.h"

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
     .def = "0",
     .doc = "stop after this many measured completions: I/O requests and ivshmem "
            "rounds together (0: no limit)"},
    {.key = "retry", .type = SCN_DURATION, .offset = SCN_AT(run_config, retry, uint64_t),
     .min = 1, .max = MAX_COST, .def = "10us",
     .doc = "wait before a slot whose request could not be sent tries again"},
    {.key = "replications", .type = SCN_U64,
     .offset = SCN_AT(run_config, replications, uint64_t), .min = 1,
     .max = SYSTEM_MAX_REPLICATIONS, .def = "1",
     .doc = "independent runs of every variant, replication 0 from `seed` and the others "
            "from seeds derived from it; results hold their means and 95% confidence "
            "intervals (docs/results.md)"},
};

static const scn_schema run_schema = {
    .name = "run",
    .size = sizeof(run_config),
    .fields = run_fields,
    .nfields = sizeof run_fields / sizeof run_fields[0],
};

const char *const system_scheme_names[] = {"linear", "page-list", "physical", "sg", NULL};
/* In sim_backend_kind's order. */
static const char *const backend_names[] = {"native", "systemc", NULL};
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
     .doc = "scenario name: letters, digits, '.', '_' and '-', not starting with '.'; "
            "it names the results file (NAME.json)"},
    {.key = "seed", .type = SCN_U64, .offset = SCN_AT(system_config, seed, uint64_t),
     .def = "1",
     .doc = "seed of every random stream (each entity draws its own); at most 2^63 - 1, "
            "so the results' JSON integer gives it back"},
    {.key = "clock", .type = SCN_FREQ, .offset = SCN_AT(system_config, clock_hz, uint64_t),
     .flags = SCN_CLOCK, .min = 1e6, .max = 1e11, .def = "3GHz",
     .doc = "host clock; durations in ns/us/ms/s convert to cycles with it"},
    {.key = "preset", .type = SCN_ENUM, .offset = SCN_AT(system_config, preset, int),
     .def = "x86-kvm-2012", .enum_names = vmm_preset_names,
     .doc = "named table of primitive costs (see docs/costs.md)"},
    {.key = "backend", .type = SCN_ENUM, .offset = SCN_AT(system_config, backend, int),
     .def = "native", .enum_names = backend_names,
     .doc = "the event kernel's queue: native (pvsim's own) or systemc (SystemC's "
            "scheduler, when built with it; each variant then runs in a child "
            "process); results are the same bytes (docs/systemc.md)"},
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
    {.key = "microbench", .type = SCN_STRUCT, .offset = offsetof(system_config, microbench),
     .sub = &microbench_schema,
     .doc = "a kvm-unit-tests style loop of one operation, reported per iteration "
            "(docs/validation.md)"},
    {.key = "shared_device", .type = SCN_STRUCT,
     .offset = offsetof(system_config, shared_device), .sub = &shared_device_schema,
     .doc = "the passthrough device the vpio guest classes share, one owner at a time "
            "(docs/transports.md); given exactly when a class uses transport vpio"},
    {.key = "variants", .type = SCN_LIST, .offset = offsetof(system_config, variants),
     .count_offset = offsetof(system_config, nvariants), .min = 0, .max = 16,
     .sub = &variant_schema,
     .doc = "buffer schemes to compare over the same workload (default: one linear)"},
    {.key = "sweep", .type = SCN_BLOCK,
     .doc = "parameters `pvsim sweep` varies, point by point (docs/sweeps.md); "
            "`pvsim run` ignores it"},
    {.key = "validate", .type = SCN_BLOCK,
     .doc = "the published figure a validation case checks (docs/validation.md); "
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
    "# vCPUs and device workers poll, and the drivers poll their used rings:\n"
    "# the preset has no published wake-up or host IPI figure, and this way\n"
    "# needs none.\n"
    "variants:\n"
    "  - {scheme: linear, fabric: {vcpu_idle: poll, backend: poll, completion: poll}}\n";

/* ---- loading ----------------------------------------------------------- */

/* Costs the scenario gave are known; the others come from the chosen
 * preset, known where it has a figure. */
static void resolve_costs(system_config *cfg, const scn_doc *doc)
{
    vmm_costs given = cfg->costs;
    vmm_costs_from_preset(&cfg->costs, cfg->preset, cfg->clock_hz);
    for (int i = 0; i < VMM_COST_COUNT; i++) {
        vmm_cost_id id = (vmm_cost_id)i;
        char path[64];
        snprintf(path, sizeof path, "costs.%s", vmm_cost_key(id));
        if (system_given(doc, path))
            vmm_cost_set(&cfg->costs, id, vmm_cost_get(&given, id));
    }
}

void system_write_canonical_extra(const void *cfg, FILE *f)
{
    const system_config *c = cfg;
    fprintf(f, "costs.known=%#llx\n", (unsigned long long)c->costs.known);
}

int system_uses_device(const system_config *cfg)
{
    for (size_t i = 0; i < cfg->nguests; i++)
        if (cfg->guests[i].transport == TRANSPORT_DOORBELL)
            return 1;
    return 0;
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
    for (size_t i = 0; rc == 0 && i < cfg->nguests; i++)
        workload_resolve(&cfg->guests[i].workload);
    if (rc == 0) {
        resolve_costs(cfg, doc);
        system_check(cfg, doc, errs);
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

