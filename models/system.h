/*
 * system.h -- one simulated host: its guests, its device, the run control,
 * and the results document.
 *
 * This is the root of the scenario schema: system_load() (system.c) turns a
 * YAML file (or the built-in default scenario) into a validated
 * system_config, with the preset's costs filled in wherever the scenario
 * did not override them, and system_run() (host.c) simulates each variant
 * and returns the results as a JSON object.
 */
#ifndef PVSIM_MODELS_SYSTEM_H
#define PVSIM_MODELS_SYSTEM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/fabric.h"
#include "models/guest.h"
#include "models/ivshmem.h"
#include "models/loopback.h"
#include "models/microbench.h"
#include "models/vmm.h"
#include "models/vpio.h"
#include "sim/scenario.h"
#include "sim/trace.h"

typedef struct run_config {
    uint64_t duration;              /* simulated cycles, warm-up included */
    uint64_t warmup;                /* cycles before statistics start */
    uint64_t max_requests;          /* stop after this many measured
                                       completions; 0 = no limit */
    uint64_t retry;                 /* cycles before a failed request's slot
                                       tries again */
    uint64_t replications;          /* independent runs from derived seeds,
                                       merged into means and intervals */
} run_config;

/* The most replications a run may ask for. */
#define SYSTEM_MAX_REPLICATIONS 1000

/* One way of handing buffers to the host, simulated over the same
 * workload as every other variant of the scenario. */
typedef struct variant_config {
    char *name;                     /* NULL: the scheme's name */
    int scheme;                     /* index into system_scheme_names */
    uint64_t tcache_entries;        /* the host's translation cache */
    double walk_cache_hit;          /* share of walk references that hit
                                       the CPU caches */
    scheme_config opts;
    fabric_config fabric;
} variant_config;

/* The host machine. */
typedef struct host_config {
    uint64_t cores;                 /* physical cores; 0 = one per thread */
} host_config;

typedef struct system_config {
    char *name;
    uint64_t seed;
    uint64_t clock_hz;
    int preset;                     /* index into vmm_presets */
    int backend;                    /* sim_backend_kind: the event queue */
    vmm_costs costs;                /* resolved: preset, then overrides */
    run_config run;
    host_config host;
    guest_config *guests;
    size_t nguests;
    loopback_config device;
    ivshmem_config ivshmem;
    microbench_config microbench;
    shared_device_config shared_device; /* the passthrough device vpio
                                           guests share */
    variant_config *variants;       /* at least one after system_load */
    size_t nvariants;
    trc_recorder *trace;            /* NULL: no recording; set by the CLI,
                                       not a scenario key; not owned */
} system_config;

/* Indices into system_scheme_names. */
enum system_scheme { SYSTEM_LINEAR, SYSTEM_PAGELIST, SYSTEM_PHYSICAL, SYSTEM_SG };

/* "linear", "page-list", "physical", "sg", NULL; scheme_find() takes them. */
extern const char *const system_scheme_names[];

/* The name a variant reports under. */
const char *system_variant_name(const variant_config *v);

/* The host threads a variant runs (vCPUs, device workers, ivshmem device
 * models, microbench vCPUs); `*polling` (if not NULL) gets how many of them
 * poll, each on a core of its own. */
uint32_t system_threads(const system_config *cfg, const variant_config *v, uint32_t *polling);

/* Whether a guest class uses the shared device (the doorbell transport). */
int system_uses_device(const system_config *cfg);

/* The primitives a variant's paths use: a bit per vmm_cost_id. */
uint64_t system_needs(const system_config *cfg, const variant_config *v);

/* An upper bound on the kernel events a run of every variant takes, in
 * every replication, from the least time each loop (request, message,
 * iteration) can take: the CLI warns when it is huge. */
double system_event_bound(const system_config *cfg);

extern const scn_schema system_schema;

/* The scenario run when the user names no file. */
extern const char system_default_scenario[];

/* Loads and validates a scenario (src->path NULL and src->text NULL means
 * the built-in default). Returns 0 or a SIM_* status with `errs` filled.
 * Free `cfg` with system_config_free() whatever the outcome. */
int system_load(const scn_source *src, system_config *cfg, scn_errors *errs);
void system_config_free(system_config *cfg);

/* What a system_config's canonical text (scn_write_canonical, which sweep
 * keys hash) leaves out but its results depend on: which costs are known
 * (a cost given as 0 is written 0 in the results, one left unset null).
 * `cfg` is a system_config; for swp_model.canonical_extra. */
void system_write_canonical_extra(const void *cfg, FILE *f);

/* How far a run is. */
typedef struct system_progress {
    double fraction;                /* of all variants' simulated time, in
                                       every replication, [0, 1] */
    double simulated_s, duration_s; /* the current variant's time reached, and
                                       its run.duration, in seconds */
    size_t variant, variants;       /* the current one (from 0), and how many */
    size_t replication, replications; /* likewise */
} system_progress;

/* Called during a run every SYSTEM_PROGRESS_EVENTS events or so, however
 * little simulated time they cover, and when a variant ends. Non-zero
 * stops the run: system_run() then returns SIM_EINTR and no results. */
typedef int (*system_progress_fn)(void *ctx, const system_progress *p);

#define SYSTEM_PROGRESS_EVENTS (1u << 16)

/* Simulates every variant of `cfg` in turn and stores a new results object
 * in `*results` (caller owns it). With run.replications N > 1 it does so N
 * times, replication r from seed rpl_seed(cfg->seed, r) (sim/replicate.h),
 * and the variants hold the means over the replications with 95%
 * intervals beside every latency and throughput (docs/results.md).
 * `progress` (may be NULL) is called as system_progress_fn says. Returns 0
 * or a SIM_* status, with a sentence in `err` naming what failed.
 * Deterministic: the same config gives the same document, byte for byte
 * once dumped. */
int system_run(const system_config *cfg, system_progress_fn progress, void *ctx,
               json_t **results, char *err, size_t errlen);

/* Where a run's wall time went, for `pvsim bench`: measured with
 * CLOCK_MONOTONIC and kept out of the results, which stay deterministic. */
typedef struct system_timing {
    double setup_s;                 /* aging memory, building every variant */
    double loop_s;                  /* the event loops */
    double report_s;                /* results, teardown and merging */
    uint64_t events;                /* handlers run, every variant and
                                       replication */
} system_timing;

/* system_run(), also filling `timing` (may be NULL).
 *
 * Both run every job in this process, so off the native backend (a
 * SystemC kernel cannot restart time) they take a run of one job only and
 * refuse more with SIM_EONCE: system_run_on_backend() (system_parallel.h)
 * runs each job of such a run in a process of its own. */
int system_run_timed(const system_config *cfg, system_progress_fn progress, void *ctx,
                     json_t **results, system_timing *timing, char *err, size_t errlen);

/*
 * The same run in jobs, for running them apart (system_parallel.h): job j
 * is variant j % nvariants of replication j / nvariants, and there are
 * system_jobs() of them. Each runs by itself, in any order and in any
 * process, and gives the variant's object that system_run() builds on;
 * system_assemble() builds system_run()'s document from all of them.
 * system_run() is these, in order, in one process.
 */
size_t system_jobs(const system_config *cfg);

/* Runs jobs of `cfg` (which it borrows): it keeps the aged memory of the
 * replication it last ran a job of (or system_runner_age() prepared), so
 * jobs of one replication in a row age it once. NULL when memory is
 * short; free with system_runner_free() (accepts NULL). */
typedef struct system_runner system_runner;
system_runner *system_runner_new(const system_config *cfg);
void system_runner_free(system_runner *r);

/* Ages replication `replication`'s memory now, as its first job would:
 * a master does so before forking workers, which then share it. 0 or a
 * status with `err`. */
int system_runner_age(system_runner *r, size_t replication, char *err, size_t errlen);

/* Where this runner's wall time has gone so far: its aging and its jobs'
 * set-up, loops and results (system_run_timed() passes its own). */
const system_timing *system_runner_timing(const system_runner *r);

/* Runs job `job` (< system_jobs()) into a new object in *variant;
 * `progress` as for system_run(), for this job's part of the run. 0 or a
 * status with `err` naming the variant and, with several, the
 * replication. Records into cfg->trace only in replication 0. */
int system_run_job(system_runner *r, size_t job, system_progress_fn progress, void *ctx,
                   json_t **variant, char *err, size_t errlen);

/* "variant <name>", then ", replication <r> (seed <seed>)" when there
 * are several: which part of the run job `job` is. */
void system_job_name(const system_config *cfg, size_t job, char *buf, size_t len);

/* The results document of system_run() from every job's object, in job
 * order (borrowed); 0 or SIM_ENOMEM with `err`. */
int system_assemble(const system_config *cfg, json_t *const *jobs, json_t **results,
                    char *err, size_t errlen);

#endif
