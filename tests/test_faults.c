/*
 * test_faults.c -- allocation failures over every shipped scenario, the
 * way SQLite's fault loops do it: count the allocations a clean load and
 * run of a scenario makes, then make the Nth fail (or every one from the
 * Nth on) and check that loading and running end cleanly: 0 with the very
 * results of the clean run, or SIM_ENOMEM (with a sentence, for a run),
 * never a crash, a hang, a leak or a made-up error in a good scenario.
 * The allocator that fails is tests/faults.h's.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/system.h"
#include "sim/report.h"
#include "tests/faults.h"

/* ---- one scenario -------------------------------------------------------- */

#define MAX_SETS 80

/* A scenario made quick: a short run, and guest memory of at most 16 MiB
 * (aging a GiB takes longer than the whole run). */
typedef struct quick {
    const char *path;
    char sets[MAX_SETS][64];
    const char *set_ptrs[MAX_SETS];
    size_t nsets;
} quick;

static void add_set(quick *q, const char *fmt, unsigned long long a, const char *b)
{
    cr_assert_lt(q->nsets, MAX_SETS);
    char *s = q->sets[q->nsets];
    if (b)
        snprintf(s, sizeof q->sets[0], fmt, a, b);
    else
        snprintf(s, sizeof q->sets[0], fmt, a);
    q->set_ptrs[q->nsets] = s;
    q->nsets++;
}

typedef struct outcome {
    int load_rc, run_rc;
    scn_errors errs;
    char err[512];
    char *canonical;            /* the loaded config, canonical text */
    char *results;              /* the results, dumped */
} outcome;

/* The canonical text of `cfg`. */
static char *canonical(const system_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    cr_assert_eq(scn_write_canonical(&system_schema, cfg, f), 0);
    fclose(f);
    return text;
}

/*
 * Loads and runs `q` with allocation `fail_at` refused (every one from
 * there on if `onwards`; none if -1), then frees everything. Fills `o`;
 * fails the test if a block is left behind. Returns how many allocations
 * the load and run asked for.
 */
static long attempt(const quick *q, long fail_at, bool onwards, outcome *o)
{
    memset(o, 0, sizeof *o);
    scn_source src = {.path = q->path, .sets = q->set_ptrs, .nsets = q->nsets};
    system_config cfg;
    json_t *r = NULL;
    long live = fault.live;
    arm(fail_at, onwards);
    o->load_rc = system_load(&src, &cfg, &o->errs);
    disarm();
    if (o->load_rc == 0)
        o->canonical = canonical(&cfg);
    rearm();
    if (o->load_rc == 0)
        o->run_rc = system_run(&cfg, NULL, NULL, &r, o->err, sizeof o->err);
    disarm();
    long made = fault.made;
    if (o->load_rc == 0 && o->run_rc == 0)
        cr_assert_not_null(o->results = rep_dump(r));
    json_decref(r);
    system_config_free(&cfg);
    long leaked = fault.live - live - (o->canonical != NULL) - (o->results != NULL);
    cr_assert_eq(leaked, 0, "%s: failing allocation %ld%s leaks %ld blocks", q->path,
                 fail_at, onwards ? " onwards" : "", leaked);
    return made;
}

static void outcome_free(outcome *o)
{
    free(o->canonical);
    free(o->results);
}

/* What a failed attempt must look like; the clean one is `ok`. */
static void check(const quick *q, long n, bool onwards, const outcome *o, const outcome *ok)
{
    const char *how = onwards ? " onwards" : "";
    if (o->load_rc) {
        /* The scenario is good: any error in it would be made up. */
        cr_assert_eq(o->load_rc, SIM_ENOMEM, "%s: failing allocation %ld%s: load returned "
                     "%d (%s): %s", q->path, n, how, o->load_rc, sim_strerror(o->load_rc),
                     o->errs.count ? o->errs.items[0].message : "no error");
        return;
    }
    cr_assert(!strcmp(o->canonical, ok->canonical),
              "%s: failing allocation %ld%s loads another config", q->path, n, how);
    if (o->run_rc) {
        cr_assert_eq(o->run_rc, SIM_ENOMEM, "%s: failing allocation %ld%s: run returned %d (%s)",
                     q->path, n, how, o->run_rc, sim_strerror(o->run_rc));
        cr_assert(strstr(o->err, "out of memory"),
                  "%s: failing allocation %ld%s: the run says '%s'", q->path, n, how, o->err);
        return;
    }
    cr_assert(!strcmp(o->results, ok->results),
              "%s: failing allocation %ld%s went unreported: the results differ", q->path, n,
              how);
}

/* The scenario at `path` (from the source tree), with its overrides. */
static void make_quick(quick *q, const char *path)
{
    memset(q, 0, sizeof *q);
    q->path = path;
    scn_source src = {.path = path};
    system_config cfg;
    scn_errors errs = {0};
    cr_assert_eq(system_load(&src, &cfg, &errs), 0, "%s does not load", path);
    double us = (double)cfg.clock_hz / 1e6;
    if ((double)cfg.run.duration > 200 * us)
        add_set(q, "run.duration=%lluus", 200, NULL);
    if ((double)cfg.run.warmup > 50 * us)
        add_set(q, "run.warmup=%lluus", 50, NULL);
    for (size_t i = 0; i < cfg.nguests; i++)
        if (cfg.guests[i].memory.size > (16u << 20))
            add_set(q, "guests.%llu.memory.size=%s", i, "16MiB");
    system_config_free(&cfg);
}

/* The shipped scenarios: all of the first 200 failure points (loading
 * and building), 100 over the rest. */
static const fault_sample shipped_sample = {.dense = 200, .stride = 1, .spread = 100,
                                            .onwards = 4};

/* The validation cases share the loader and most models with the shipped
 * scenarios: a sparser sample of each, for the microbench loops. */
static const fault_sample case_sample = {.dense = 200, .stride = 7, .spread = 20,
                                         .onwards = 2};

static void try_point(const quick *q, long n, bool onwards, const outcome *ok)
{
    outcome o;
    attempt(q, n, onwards, &o);
    check(q, n, onwards, &o, ok);
    outcome_free(&o);
}

static void fault_loop(const char *path, const fault_sample *s)
{
    quick q;
    make_quick(&q, path);
    outcome ok;
    long total = attempt(&q, -1, false, &ok);
    cr_assert_eq(ok.load_rc, 0, "%s: %s", path, ok.errs.count ? ok.errs.items[0].message : "");
    cr_assert_eq(ok.run_rc, 0, "%s: %s", path, ok.err);
    cr_assert_gt(total, s->dense, "%s: too few allocations (%ld) for the sample", path,
                 total);
    long tried = 0;
    for (long n = 0; n < total; n = fault_next(n, total, s), tried++)
        try_point(&q, n, false, &ok);
    try_point(&q, total - 1, false, &ok);
    for (long i = 0; i < s->onwards; i++)
        try_point(&q, total * i / s->onwards + 3, true, &ok);
    cr_log_info("%s: %ld allocations, %ld failure points", path, total, tried);
    outcome_free(&ok);
}

#define SCENARIO(name) PVSIM_SOURCE_DIR "/scenarios/" name

TestSuite(faults, .init = faults_setup, .timeout = 60);

static const char *const shipped[] = {
    "schemes.yaml", "schemes-sweep.yaml", "loopback.yaml", "ivshmem-pingpong.yaml",
    "many-guests.yaml", "packet-port.yaml", "lguest.yaml", "virtio-kicks.yaml",
    "shared-device.yaml", "load-latency.yaml",
};

Test(faults, every_shipped_scenario_has_its_loop)
{
    glob_t g;
    cr_assert_eq(glob(SCENARIO("*.yaml"), 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *name = strrchr(g.gl_pathv[i], '/') + 1;
        size_t k = 0;
        while (k < sizeof shipped / sizeof shipped[0] && strcmp(shipped[k], name))
            k++;
        cr_expect_lt(k, sizeof shipped / sizeof shipped[0],
                     "scenarios/%s has no fault loop below", name);
    }
    globfree(&g);
}

Test(faults, schemes)
{
    fault_loop(SCENARIO("schemes.yaml"), &shipped_sample);
}

Test(faults, schemes_sweep)
{
    fault_loop(SCENARIO("schemes-sweep.yaml"), &shipped_sample);
}

Test(faults, loopback)
{
    fault_loop(SCENARIO("loopback.yaml"), &shipped_sample);
}

Test(faults, ivshmem_pingpong)
{
    fault_loop(SCENARIO("ivshmem-pingpong.yaml"), &shipped_sample);
}

Test(faults, many_guests)
{
    fault_loop(SCENARIO("many-guests.yaml"), &shipped_sample);
}

Test(faults, packet_port)
{
    fault_loop(SCENARIO("packet-port.yaml"), &shipped_sample);
}

Test(faults, lguest)
{
    fault_loop(SCENARIO("lguest.yaml"), &shipped_sample);
}

Test(faults, virtio_kicks)
{
    fault_loop(SCENARIO("virtio-kicks.yaml"), &shipped_sample);
}

Test(faults, shared_device)
{
    fault_loop(SCENARIO("shared-device.yaml"), &shipped_sample);
}

Test(faults, load_latency)
{
    fault_loop(SCENARIO("load-latency.yaml"), &shipped_sample);
}

Test(faults, validation_cases)
{
    glob_t g;
    cr_assert_eq(glob(SCENARIO("validation/*.yaml"), 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        fault_loop(g.gl_pathv[i], &case_sample);
    globfree(&g);
}
