/*
 * test_microbench.c -- the kvm-unit-tests style loop through the real
 * loader and kernel: every operation's cycles per iteration, worked out by
 * hand from the round costs below, and what each one exits for.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

/* exit 1000, entry 800; handlers: hypercall 100, pio 300, mmio 400,
 * emulation 600, in-kernel device 50, eventfd 100, userspace 5000,
 * inject 50, extint 150, EOI 200 (trapped) or 20 (not), IPI send 250,
 * hlt 200; host IPI 700 in flight; wake-up 2000. x86-kvm-2012 sends PIO
 * reads through the emulator, and its EOI traps. */
#define HEAD                                                                    \
    "name: mb\n"                                                                \
    "clock: 1GHz\n"                                                             \
    "costs: {exit: 1000, entry: 800, hypercall: 100, pio_decode: 300, mmio_decode: 400,\n" \
    "        emulation: 600, kernel_device: 50, eventfd_signal: 100, userspace: 5000,\n" \
    "        inject: 50, extint: 150, eoi_handler: 200, eoi_write: 20, ipi_send: 250,\n" \
    "        hlt: 200, host_ipi: 700, wakeup: 2000}\n"

/* Runs HEAD + `rest` and returns its only variant's microbench object;
 * `*doc` gets the results, which the caller frees. */
static json_t *bench(const char *rest, json_t **doc)
{
    char text[2048];
    snprintf(text, sizeof text, HEAD "%s", rest);
    *doc = run_text(text, NULL, 0);
    json_t *mb = result_at(*doc, 0, "microbench");
    cr_assert(json_is_true(json_object_get(mb, "complete")));
    return mb;
}

static double field(json_t *mb, const char *key)
{
    return json_number_value(json_object_get(mb, key));
}

static double exits_of(json_t *mb, const char *reason)
{
    return json_number_value(
        json_object_get(json_object_get(mb, "exits_by_reason_per_iteration"), reason));
}

/* The cycles per iteration of `op` with `extra` keys in its block. */
static double per_iteration(const char *op, const char *extra, const char *variant)
{
    char rest[512];
    snprintf(rest, sizeof rest, "microbench: {op: %s, iterations: 100%s}\n%s", op, extra,
             variant);
    json_t *doc;
    double c = field(bench(rest, &doc), "cycles_per_iteration");
    json_decref(doc);
    return c;
}

Test(microbench, register_accesses_are_exit_handler_and_entry)
{
    /* hypercall: 1000 + 100 + 800. */
    cr_assert_float_eq(per_iteration("hypercall", "", ""), 1900, 1e-9);
    /* OUT to an in-kernel device, to the device model, to an ioeventfd. */
    cr_assert_float_eq(per_iteration("pio_write", "", ""), 1000 + 300 + 50 + 800, 1e-9);
    cr_assert_float_eq(per_iteration("pio_write", ", handler: userspace", ""),
                       1000 + 300 + 5000 + 800, 1e-9);
    cr_assert_float_eq(per_iteration("pio_write", ", handler: ioeventfd", ""),
                       1000 + 300 + 100 + 800, 1e-9);
    /* IN goes through the emulator on this platform. */
    cr_assert_float_eq(per_iteration("pio_read", "", ""), 1000 + 300 + 600 + 50 + 800, 1e-9);
    cr_assert_float_eq(per_iteration("pio_read", ", handler: userspace", ""),
                       1000 + 300 + 600 + 5000 + 800, 1e-9);
    /* MMIO is decoded in the emulator unless an ioeventfd's fast path
     * takes it. */
    cr_assert_float_eq(per_iteration("mmio_read", "", ""), 1000 + 400 + 600 + 50 + 800, 1e-9);
    cr_assert_float_eq(per_iteration("mmio_write", ", handler: userspace", ""),
                       1000 + 400 + 600 + 5000 + 800, 1e-9);
    cr_assert_float_eq(per_iteration("mmio_write", ", handler: ioeventfd", ""),
                       1000 + 400 + 100 + 800, 1e-9);
}

/* An MMIO trap is dearer than a hypercall on every preset that prices
 * both: decoding and a device's handler, not a hypercall's dispatch. */
Test(microbench, without_stand_ins_an_mmio_trap_costs_more_than_a_hypercall)
{
    const char *presets[] = {"x86-kvm-2012", "kunpeng920-kvm", "phytium-s2500-kvm"};
    for (size_t i = 0; i < 3; i++) {
        char preset[64];
        snprintf(preset, sizeof preset, "preset: %s\n", presets[i]);
        json_t *a, *b;
        char rest[256];
        snprintf(rest, sizeof rest, "%smicrobench: {op: hypercall, iterations: 10}\n", preset);
        double hypercall = field(bench(rest, &a), "cycles_per_iteration");
        snprintf(rest, sizeof rest, "%smicrobench: {op: mmio_read, iterations: 10}\n", preset);
        double mmio = field(bench(rest, &b), "cycles_per_iteration");
        cr_assert_gt(mmio, hypercall, "%s", presets[i]);
        json_decref(a);
        json_decref(b);
    }
}

Test(microbench, eoi_traps_or_not_by_mode)
{
    cr_assert_float_eq(per_iteration("eoi", "", ""), 1000 + 200 + 800, 1e-9);
    cr_assert_float_eq(
        per_iteration("eoi", "", "variants: [{fabric: {eoi: virtualised}}]\n"), 20, 1e-9);
}

/* A self-IPI: the ICR write exits (1000 + 250); the IPI finds its own
 * vCPU in the host, so the entry injects (800 + 50); the EOI traps
 * (2000). Posted and virtualised: no injection, an EOI write. */
Test(microbench, a_self_ipi_is_injected_by_its_own_entry)
{
    json_t *doc;
    json_t *mb = bench("microbench: {op: self_ipi, iterations: 100}\n", &doc);
    cr_assert_float_eq(field(mb, "cycles_per_iteration"), 1250 + 850 + 2000, 1e-9);
    cr_assert_float_eq(exits_of(mb, "ipi"), 1, 1e-12);
    cr_assert_float_eq(exits_of(mb, "eoi"), 1, 1e-12);
    cr_assert_float_eq(exits_of(mb, "external_interrupt"), 0, 1e-12);
    cr_assert_float_eq(field(mb, "interrupts_per_iteration"), 1, 1e-12);
    json_decref(doc);
    cr_assert_float_eq(
        per_iteration("self_ipi", "",
                      "variants: [{fabric: {posted_interrupts: true, eoi: virtualised}}]\n"),
        1250 + 800 + 20, 1e-9);
}

/* cli; self-IPI; sti; hlt: the ICR exit's entry cannot inject (2050),
 * the HLT (1000 + 200) finds the interrupt pending and re-enters with it
 * (850), then the EOI (2000). */
Test(microbench, a_hlt_with_an_interrupt_pending_reenters_at_once)
{
    json_t *doc;
    json_t *mb = bench("microbench: {op: hlt_pending, iterations: 100}\n", &doc);
    cr_assert_float_eq(field(mb, "cycles_per_iteration"), 2050 + 1200 + 850 + 2000, 1e-9);
    cr_assert_float_eq(exits_of(mb, "hlt"), 1, 1e-12);
    json_decref(doc);
}

/* vCPU 0's ICR write exits and its handler sends the IPI at 1250; vCPU 1
 * runs the guest, so the IPI flies (700) and forces an external-interrupt
 * exit (1000 + 150), whose entry injects (850), and the EOI traps (2000):
 * 5950. vCPU 0 re-entered at 2050 and waited. */
Test(microbench, an_ipi_to_a_running_vcpu_flies_then_exits)
{
    json_t *doc;
    json_t *mb = bench("microbench: {op: ipi, iterations: 100}\n", &doc);
    cr_assert_float_eq(field(mb, "cycles_per_iteration"), 5950, 1e-9);
    cr_assert_float_eq(exits_of(mb, "ipi"), 1, 1e-12);
    cr_assert_float_eq(exits_of(mb, "external_interrupt"), 1, 1e-12);
    cr_assert_float_eq(exits_of(mb, "eoi"), 1, 1e-12);
    json_decref(doc);
    /* Posted, with a virtualised EOI: the sender's entry is the longer
     * half (2050 against 1250 + 700 + 20). */
    cr_assert_float_eq(
        per_iteration("ipi", "",
                      "variants: [{fabric: {posted_interrupts: true, eoi: virtualised}}]\n"),
        2050, 1e-9);
}

/* vCPU 1 halts when idle: the IPI wakes it (2000) and it enters with the
 * injection (850), then the EOI (2000): 6100; vCPU 0 spins 5000 more, by
 * which time vCPU 1 has halted again (its HLT ends at 7300). */
Test(microbench, an_ipi_to_a_halted_vcpu_wakes_it_and_enters)
{
    json_t *doc;
    json_t *mb = bench("microbench: {op: ipi, target: halted, gap: 5000, iterations: 100}\n",
                       &doc);
    cr_assert_float_eq(field(mb, "cycles_per_iteration"), 6100 + 5000, 1e-9);
    cr_assert_float_eq(exits_of(mb, "hlt"), 1, 1e-12);
    cr_assert_float_eq(exits_of(mb, "external_interrupt"), 0, 1e-12);
    json_decref(doc);
}

Test(microbench, results_name_the_loop_and_count_iterations)
{
    json_t *doc;
    json_t *mb = bench("microbench: {op: pio_read, handler: userspace, iterations: 7}\n", &doc);
    cr_assert_str_eq(json_string_value(json_object_get(mb, "op")), "pio_read");
    cr_assert_str_eq(json_string_value(json_object_get(mb, "handler")), "userspace");
    cr_assert_float_eq(field(mb, "iterations"), 7, 1e-12);
    cr_assert_float_eq(field(mb, "ns_per_iteration"), 7700, 1e-9);  /* 1 GHz */
    cr_assert_float_eq(field(mb, "exits_per_iteration"), 1, 1e-12);
    json_decref(doc);
}
