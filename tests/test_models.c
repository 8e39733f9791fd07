/*
 * test_models.c -- the loopback system driven through the real kernel and
 * the real scenario loader: exact cost chains, queueing, determinism, cost
 * overrides and the semantic checks.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "models/vmm.h"
#include "run.h"

/* One guest, one request at a time, no think time, a device with a fixed
 * 1000-cycle service: every request costs exactly the chain. */
static const char one_guest[] =
    "name: exact\n"
    "clock: 1GHz\n"
    "costs: {mem_ref: 100, memslot_lookup: 10, tcache_hit: 5, copy_per_kib: 64, wakeup: 0,\n"
    "        pin_per_page: 50, exit: 1000, entry: 800, pio_decode: 300, eventfd_signal: 100,\n"
    "        hlt: 200, inject: 50, eoi_handler: 400, host_ipi: 0, extint: 0}\n"
    "run: {duration: 1000000, warmup: 100000}\n"
    "guests:\n"
    "  - name: g\n"
    "    workload: {depth: 1, size: 4KiB}\n"
    "    memory: {size: 64MiB}\n"
    "device: {workers: 1, fixed: 1000, per_byte: 0}\n"
    "variants: [{scheme: physical}]\n";

Test(models, closed_loop_latency_is_the_cost_chain)
{
    json_t *r = run_text(one_guest, NULL, 0);
    /* The kick's exit and handler (1000 + 300 + 100) signal the worker at
     * 1400, which resolves (10), serves (1000) and writes the irqfd (100):
     * the interrupt is raised at 2510. The vCPU re-entered at 2200 and,
     * idle, took a HLT exit (1000 + 200) that ends at 3400: the interrupt
     * found it in the host, so that HLT re-enters with it (800 + 50), and
     * the guest's EOI exits (1000 + 400 + 800): done at 6450. */
    double chain = 6450;
    cr_assert_float_eq(result_num(r, 0, "totals.latency_cycles.mean"), chain, 1e-9);
    cr_assert_float_eq(result_num(r, 0, "totals.latency_cycles.max"), chain, 1e-9);
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.notify"), 1400.0, 1e-9);
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.interrupt"), 100 + 850 + 2200.0,
                       1e-9);
    /* The HLT exit still running when the interrupt came. */
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.queueing"), 3400 - 2510.0, 1e-9);
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.device"), 1000.0, 1e-9);
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.translate"), 10.0, 1e-9);
    /* The kick, the HLT and the EOI (the request in flight at the window's
     * edges may have some of its exits on the other side). */
    double n = result_num(r, 0, "totals.requests");
    cr_assert(fabs(result_num(r, 0, "totals.exits_per_request") - 3.0) <= 3.0 / n);
    cr_assert_float_eq(result_num(r, 0, "totals.vcpus.exits.pio"), result_num(r, 0, "totals.requests"), 1e-12);
    /* The window is 900,000 cycles; each request takes `chain` cycles back
     * to back, so completions in it differ from 900000/chain by at most 1. */
    double expect = 900000.0 / chain;
    cr_assert(fabs(result_num(r, 0, "totals.requests") - expect) <= 1.0, "requests %f",
              result_num(r, 0, "totals.requests"));
    cr_assert_float_eq(result_num(r, 0, "totals.latency_ns.mean"), chain, 1e-6); /* 1 GHz */
    json_decref(r);
}

Test(models, cost_override_replaces_the_preset_value)
{
    const char *sets[] = {"costs.pio_decode=30"};
    json_t *r = run_text(one_guest, sets, 1);
    vmm_costs c;
    vmm_costs_from_preset(&c, 0, 1000000000);
    cr_assert_eq(json_integer_value(result_at(r, -1, "costs_cycles.pio_decode")), 30);
    cr_assert_eq(json_integer_value(result_at(r, -1, "costs_cycles.emulation")), (json_int_t)c.emulation);
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.notify"), 1000 + 30 + 100.0, 1e-9);
    json_decref(r);
}

Test(models, durations_with_units_use_the_clock)
{
    const char *sets[] = {"device.fixed=2us"};
    json_t *r = run_text(one_guest, sets, 1);
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.device"), 2000.0, 1e-9);
    json_decref(r);
}

/* Two requests in flight on one worker: the second waits for the device,
 * and their kicks and interrupts wait for the single vCPU. */
Test(models, depth_beyond_workers_queues)
{
    const char *sets[] = {"guests.0.workload.depth=2", "device.fixed=20000"};
    json_t *r = run_text(one_guest, sets, 2);
    cr_assert_gt(result_num(r, 0, "totals.breakdown_cycles.queueing"), 1000.0);
    cr_assert_gt(result_num(r, 0, "device.utilisation"), 0.9);
    json_decref(r);
}

Test(models, per_byte_cost_scales_with_size)
{
    const char *sets[] = {"device.per_byte=0.5", "guests.0.workload.size=8KiB"};
    json_t *r = run_text(one_guest, sets, 2);
    cr_assert_float_eq(result_num(r, 0, "totals.breakdown_cycles.device"), 1000.0 + 4096.0, 1e-9);
    json_decref(r);
}

static char *dump_run(const char *text, const char *const *sets, size_t n)
{
    json_t *r = run_text(text, sets, n);
    char *s = rep_dump(r);
    json_decref(r);
    return s;
}

Test(models, same_seed_same_bytes_other_seed_other_bytes)
{
    char *a = dump_run(system_default_scenario, NULL, 0);
    char *b = dump_run(system_default_scenario, NULL, 0);
    const char *seed[] = {"seed=2"};
    char *c = dump_run(system_default_scenario, seed, 1);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    free(a);
    free(b);
    free(c);
}

/* Adding a guest class must not change another class's random stream:
 * with think times drawn per instance, class `small` keeps its numbers
 * when the device is not shared-contended (many workers). */
Test(models, adding_a_guest_leaves_other_streams_alone)
{
    const char *base[] = {"device.workers=64"};
    const char *more[] = {"device.workers=64", "guests.2.name=extra"};
    json_t *a = run_text(system_default_scenario, base, 1);
    json_t *b = run_text(system_default_scenario, more, 2);
    json_t *ca = json_array_get(result_at(a, 0, "classes"), 0);
    json_t *cb = json_array_get(result_at(b, 0, "classes"), 0);
    cr_assert(json_equal(result_at(ca, -1, "metrics"), result_at(cb, -1, "metrics")));
    json_decref(a);
    json_decref(b);
}

Test(models, results_carry_schema_and_identity)
{
    json_t *r = run_text(one_guest, NULL, 0);
    cr_assert_str_eq(json_string_value(result_at(r, -1, "schema")), REP_SCHEMA);
    cr_assert_str_eq(json_string_value(result_at(r, -1, "scenario")), "exact");
    cr_assert_str_eq(json_string_value(result_at(r, -1, "preset")), "x86-kvm-2012");
    cr_assert_eq(json_integer_value(result_at(r, -1, "seed")), 1);
    json_decref(r);
}

Test(models, warmup_not_before_duration_is_an_error)
{
    system_config cfg;
    scn_errors errs;
    const char *sets[] = {"run.warmup=2000000"};
    cr_assert_eq(load_text(one_guest, sets, 1, &cfg, &errs), SIM_ESCENARIO);
    cr_assert_eq(errs.count, 1);
    cr_assert(strstr(errs.items[0].message, "run.warmup: expected less than run.duration"),
              "%s", errs.items[0].message);
    system_config_free(&cfg);
}

Test(models, duplicate_class_names_are_an_error)
{
    system_config cfg;
    scn_errors errs;
    const char *sets[] = {"guests.1.name=g"};
    cr_assert_eq(load_text(one_guest, sets, 1, &cfg, &errs), SIM_ESCENARIO);
    char line[1024];
    scn_error_format(&errs.items[0], line, sizeof line);
    cr_assert(strstr(line, "guests.1.name: expected a name not used by another guest class"),
              "%s", line);
    system_config_free(&cfg);
}

Test(models, preset_names_match_presets)
{
    size_t n = 0;
    for (; vmm_presets[n].name; n++) {
        cr_assert_not_null(vmm_preset_names[n]);
        cr_assert_str_eq(vmm_presets[n].name, vmm_preset_names[n]);
        /* A figure has a source; a primitive without one has no value, so
         * nothing can use it by accident. */
        for (int i = 0; i < VMM_COST_COUNT; i++) {
            const vmm_cost_source *c = &vmm_presets[n].costs[i];
            if (!c->source)
                cr_assert(c->cycles == 0 && c->ns == 0, "%s: %s has a value but no source",
                          vmm_presets[n].name, vmm_cost_key((vmm_cost_id)i));
        }
    }
    cr_assert_null(vmm_preset_names[n]);
}

/* A variant's results do not depend on which other variants run beside it:
 * each starts from the same aged memory and the same streams. */
Test(models, variants_are_independent)
{
    /* Variants added here halt, which takes wake-ups, HLTs and IPIs. */
    const char *alone[] = {"costs.wakeup=0", "costs.host_ipi=0", "costs.hlt=0",
                           "costs.inject=0", "costs.extint=0", "variants.0.scheme=linear"};
    const char *with[] = {"costs.wakeup=0", "costs.host_ipi=0", "costs.hlt=0",
                          "costs.inject=0", "costs.extint=0", "variants.0.scheme=linear",
                          "variants.1.scheme=physical", "variants.2.scheme=sg"};
    json_t *a = run_text(system_default_scenario, alone, 6);
    json_t *b = run_text(system_default_scenario, with, 8);
    cr_assert_eq(json_array_size(result_at(b, -1, "variants")), 3);
    char *da = rep_dump(json_array_get(result_at(a, -1, "variants"), 0));
    char *db = rep_dump(json_array_get(result_at(b, -1, "variants"), 0));
    cr_assert_str_eq(da, db);
    free(da);
    free(db);
    json_decref(a);
    json_decref(b);
}

/* A primitive with no figure is null in the results, never 0; one given
 * as 0 stays 0. */
Test(models, unknown_costs_are_null_and_a_given_zero_stays_zero)
{
    json_t *r = run_text(one_guest, NULL, 0);
    cr_assert(json_is_null(result_at(r, -1, "costs_cycles.ipi_send")));
    cr_assert(json_is_null(result_at(r, -1, "costs_cycles.context_switch")));
    cr_assert(json_is_integer(result_at(r, -1, "costs_cycles.host_ipi")));
    cr_assert_eq(json_integer_value(result_at(r, -1, "costs_cycles.host_ipi")), 0);
    cr_assert_eq(json_integer_value(result_at(r, -1, "costs_cycles.exit")), 1000);
    json_decref(r);
}

/* What a variant needs comes from its own paths: an MMIO kick does not
 * care that the PIO decode is 0, and a primitive no path uses need not be
 * given. */
Test(models, a_kick_needs_only_what_its_path_uses)
{
    const char *sets[] = {"costs.pio_decode=0", "variants.0.fabric.kick=mmio",
                          "costs.mmio_decode=400"};
    system_config cfg;
    scn_errors errs;
    cr_assert_eq(load_text(one_guest, sets, 3, &cfg, &errs), 0,
                 "%s", errs.count ? errs.items[0].message : "");
    uint64_t needs = system_needs(&cfg, &cfg.variants[0]);
    cr_assert(needs & (1ull << VMM_COST_mmio_decode));
    cr_assert_not(needs & (1ull << VMM_COST_pio_decode));
    cr_assert_not(needs & (1ull << VMM_COST_ipi_send));
    system_config_free(&cfg);
}

/* The timed run counts every variant's events, splits its wall time into
 * set-up, loop and report, and leaves the results byte for byte as the
 * untimed run makes them. No speed is asserted: benchmarks live in bench/. */
Test(models, timed_run_counts_events_and_keeps_the_results)
{
    system_config cfg;
    scn_errors errs;
    cr_assert_eq(load_text(system_default_scenario, NULL, 0, &cfg, &errs), 0);
    json_t *r = NULL;
    system_timing t;
    char err[256];
    cr_assert_eq(system_run_timed(&cfg, NULL, NULL, &r, &t, err, sizeof err), 0, "%s", err);
    system_config_free(&cfg);
    cr_assert_eq(t.events, (uint64_t)json_integer_value(result_at(r, 0, "events")));
    cr_assert(t.setup_s >= 0 && t.loop_s > 0 && t.report_s >= 0);
    char *timed = rep_dump(r);
    char *plain = dump_run(system_default_scenario, NULL, 0);
    cr_assert_str_eq(timed, plain);
    free(timed);
    free(plain);
    json_decref(r);
}
