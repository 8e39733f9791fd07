/*
 * test_fabric.c -- the fabric through the real loader and kernel: each
 * path's cycles worked out by hand (a kick that signals before the entry,
 * interrupts by the receiver's state, the EOI), exits and interrupts per
 * message counted apart, lost IntrStatus values, broadcasts and live
 * peers, the peer cap of each layout, core contention, and determinism
 * with many guests.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/fabric.h"
#include "models/ivshmem.h"
#include "run.h"

static json_t *run(const char *text)
{
    return run_text(text, NULL, 0);
}

/* The number at `path` in variant `v`. */
static double num(json_t *r, size_t v, const char *path)
{
    return result_num(r, (long)v, path);
}

/* Round figures so the cost chains can be checked by hand. */
#define COSTS                                                                   \
    "clock: 1GHz\n"                                                             \
    "costs: {exit: 1000, entry: 800, hypercall: 100, pio_decode: 300, mmio_decode: 400,\n" \
    "        emulation: 600, kernel_device: 50, eventfd_signal: 100, userspace: 5000,\n" \
    "        inject: 50, extint: 150, eoi_handler: 200, eoi_write: 20, ipi_send: 250,\n" \
    "        hlt: 200, host_ipi: 700, wakeup: 2000, context_switch: 1500,\n"  \
    "        copy_per_kib: 1024, memslot_lookup: 10}\n"

/* Peers poll and the backend (INTx's device model) polls, so each one-way
 * is the chain alone. */
static const char pingpong[] =
    "name: pp\n" COSTS
    "run: {duration: 2000000, warmup: 100000}\n"
    "ivshmem: {peers: 2, pattern: pingpong, size: 64B}\n"
    "variants:\n"
    "  - {name: msi, fabric: {interrupts: msi, vcpu_idle: poll, eoi: virtualised}}\n"
    "  - {name: msi-mask, fabric: {interrupts: msi, vcpu_idle: poll, eoi: virtualised,\n"
    "                              mask: true}}\n"
    "  - {name: intx, fabric: {interrupts: intx, vcpu_idle: poll, backend: poll,\n"
    "                          eoi: virtualised}}\n"
    "  - {name: msi-posted, fabric: {interrupts: msi, vcpu_idle: poll, eoi: virtualised,\n"
    "                                posted_interrupts: true}}\n"
    "  - {name: msi-eoi, fabric: {interrupts: msi, vcpu_idle: poll, eoi: exit}}\n";

/* A count per message, within what the window's edges can cut: a
 * message in flight when the window opens or closes has some of its
 * exits on the other side. */
static void per_message(json_t *r, size_t v, const char *what, double expect)
{
    char path[64];
    snprintf(path, sizeof path, "ivshmem.%s_per_message", what);
    double got = num(r, v, path), msgs = num(r, v, "ivshmem.counts.messages");
    cr_assert(fabs(got - expect) <= 4.0 / msgs, "variant %zu: %s per message %f, want %f",
              v, what, got, expect);
}

/* Seed 002's "two intercepts": the sender's doorbell write and the
 * receiver's interrupt exit (not posted); the interrupt itself is counted
 * apart, once. */
Test(fabric, a_message_costs_two_intercepts_and_one_interrupt)
{
    json_t *r = run(pingpong);
    per_message(r, 0, "intercepts", 2);
    per_message(r, 0, "interrupts", 1);
    double msgs = num(r, 0, "ivshmem.counts.messages");
    cr_assert_float_eq(num(r, 0, "ivshmem.vcpus.exits.external_interrupt"), msgs, 2);
    cr_assert_float_eq(num(r, 0, "ivshmem.vcpus.exits.mmio"), msgs, 2);
    /* Mask and unmask: two more register writes; INTx: the status read. */
    per_message(r, 1, "intercepts", 4);
    per_message(r, 2, "intercepts", 3);
    /* Posted: the doorbell alone; a trapped EOI: one more. */
    per_message(r, 3, "intercepts", 1);
    cr_assert_float_eq(num(r, 3, "ivshmem.vcpus.posted_interrupts"),
                       num(r, 3, "ivshmem.vcpus.interrupts"), 1e-12);
    per_message(r, 4, "intercepts", 3);
    cr_assert_gt(msgs, 100);
    json_decref(r);
}

/* One way, S to R: S copies in (64 cycles), its doorbell exit and handler
 * signal R's eventfd (1000 + 400 + 100) while S still has its entry to do;
 * the host IPI lands on R at +700; then, by variant, R takes: */
Test(fabric, a_one_way_message_is_the_cost_chain)
{
    json_t *r = run(pingpong);
    const double signal = 64 + 1000 + 400 + 100, copy_out = 64;
    /* not posted: an external-interrupt exit (1000 + 150), the entry with
     * the injection (800 + 50), the EOI write (20); */
    double msi = signal + 700 + 1150 + 850 + 20 + copy_out;
    cr_assert_float_eq(num(r, 0, "ivshmem.one_way_latency_cycles.mean"), msi, 1e-9);
    cr_assert_float_eq(num(r, 0, "ivshmem.round_latency_cycles.mean"), 2 * msi, 1e-9);
    /* posted: nothing but the EOI write; */
    cr_assert_float_eq(num(r, 3, "ivshmem.one_way_latency_cycles.mean"),
                       signal + 700 + 20 + copy_out, 1e-9);
    /* INTx: the device model's thread writes the irqfd first (100), and
     * the handler reads IntrStatus from the device model: exit, decode,
     * emulation, the userspace round trip, entry (1000 + 400 + 600 + 5000
     * + 800). */
    cr_assert_float_eq(num(r, 2, "ivshmem.one_way_latency_cycles.mean"),
                       msi + 100 + 7800, 1e-9);
    /* A trapped EOI: exit + handler + entry (1000 + 200 + 800), not 20. */
    cr_assert_float_eq(num(r, 4, "ivshmem.one_way_latency_cycles.mean"),
                       msi - 20 + 2000, 1e-9);
    json_decref(r);
}

/* Halted peers: R wakes (2000) and enters with the injection (800 + 50)
 * instead of the IPI and the exit. */
Test(fabric, a_halted_receiver_pays_its_wakeup_and_its_entry)
{
    const char *text =
        "name: pp\n" COSTS
        "run: {duration: 2000000, warmup: 100000}\n"
        "ivshmem: {peers: 2, pattern: pingpong, size: 64B}\n"
        "variants: [{fabric: {interrupts: msi, eoi: virtualised}}]\n";
    json_t *r = run(text);
    double one_way = 64 + 1500 + 2000 + 850 + 20 + 64;
    cr_assert_float_eq(num(r, 0, "ivshmem.one_way_latency_cycles.mean"), one_way, 1e-9);
    /* Each side: the doorbell exit, and a HLT exit while it waits. */
    per_message(r, 0, "intercepts", 2);
    cr_assert_float_eq(num(r, 0, "ivshmem.vcpus.exits.hlt"),
                       num(r, 0, "ivshmem.counts.messages"), 2);
    json_decref(r);
}

/* Three peers all send to each other at once: messages land back to back,
 * so IntrStatus is overwritten before it is read. With INTx each lost
 * status goes with a coalesced interrupt; MSI has no status to lose. */
static const char fan_in[] =
    "name: fanin\n" COSTS
    "run: {duration: 2000000, warmup: 100000}\n"
    "ivshmem: {peers: 3, pattern: all-to-all, size: 64B}\n"
    "variants:\n"
    "  - {name: intx, fabric: {interrupts: intx}}\n"
    "  - {name: msi, fabric: {interrupts: msi}}\n";

Test(fabric, back_to_back_messages_lose_the_status_and_are_counted)
{
    json_t *r = run(fan_in);
    double lost = num(r, 0, "ivshmem.counts.status_lost");
    cr_assert_gt(lost, 0);
    cr_assert_float_eq(lost, num(r, 0, "ivshmem.counts.coalesced"), 1e-12);
    cr_assert_float_eq(num(r, 1, "ivshmem.counts.status_lost"), 0.0, 1e-12);
    cr_assert_gt(num(r, 1, "ivshmem.counts.coalesced"), 0);
    /* Every message raises an interrupt or joins a pending one; those in
     * flight at the window's edges may be counted on one side only. */
    for (size_t v = 0; v < 2; v++) {
        double msgs = num(r, v, "ivshmem.counts.messages");
        double raised = num(r, v, "ivshmem.vcpus.interrupts") +
                        num(r, v, "ivshmem.counts.coalesced");
        cr_assert_leq(msgs - raised, 6, "%f vs %f", msgs, raised);
        cr_assert_geq(msgs - raised, -6, "%f vs %f", msgs, raised);
    }
    json_decref(r);
}

/* Peer 3 of 6 detaches before the window opens: each broadcast then
 * reaches the 4 other live peers, and each replies. */
static const char broadcast[] =
    "name: bc\n" COSTS
    "run: {duration: 2000000, warmup: 200000}\n"
    "ivshmem:\n"
    "  peers: 6\n"
    "  pattern: broadcast\n"
    "  events: [{at: 100000, peer: 3, action: detach}]\n"
    "variants: [{fabric: {interrupts: msi}}]\n";

Test(fabric, broadcast_reaches_exactly_the_live_peers)
{
    json_t *r = run(broadcast);
    double rounds = num(r, 0, "ivshmem.counts.broadcasts");
    cr_assert_gt(rounds, 10);
    double msgs = num(r, 0, "ivshmem.counts.messages");
    /* The round in flight at the window's edges may be partial. */
    cr_assert_geq(msgs, 2 * 4 * (rounds - 1));
    cr_assert_leq(msgs, 2 * 4 * (rounds + 1));
    cr_assert_float_eq(num(r, 0, "ivshmem.counts.dropped"), 0.0, 1e-12);
    cr_assert_float_eq(num(r, 0, "ivshmem.live_at_end"), 5.0, 1e-12);
    json_decref(r);
}

Test(fabric, detach_and_attach_interrupt_the_others_and_cut_rounds)
{
    const char *text =
        "name: churn\n" COSTS
        "run: {duration: 3000000, warmup: 10}\n"
        "ivshmem:\n"
        "  peers: 4\n"
        "  pattern: fanout\n"
        "  events: [{at: 1000000, peer: 2, action: detach},\n"
        "           {at: 2000000, peer: 2, action: attach}]\n"
        "variants: [{fabric: {interrupts: msi}}]\n";
    json_t *r = run(text);
    cr_assert_float_eq(num(r, 0, "ivshmem.counts.detaches"), 1.0, 1e-12);
    cr_assert_float_eq(num(r, 0, "ivshmem.counts.attaches"), 1.0, 1e-12);
    /* 3 live others at the detach, 3 at the attach: an IVLiveList read each. */
    cr_assert_float_eq(num(r, 0, "ivshmem.counts.exits_livelist"), 6.0, 1e-12);
    cr_assert_float_eq(num(r, 0, "ivshmem.live_at_end"), 4.0, 1e-12);
    json_decref(r);
}

static int load_error(const char *text, char *line, size_t len)
{
    system_config cfg;
    scn_errors errs;
    int rc = load_text(text, NULL, 0, &cfg, &errs);
    if (rc)
        scn_error_format(&errs.items[0], line, len);
    system_config_free(&cfg);
    return rc;
}

Test(fabric, the_16bit_layout_caps_peers_at_16_and_32bit_lifts_it)
{
    char text[512], line[512];
    snprintf(text, sizeof text, "name: cap\n" COSTS "ivshmem: {peers: 18, layout: 16bit}\n");
    cr_assert_neq(load_error(text, line, sizeof line), 0);
    cr_assert(strstr(line, "ivshmem.peers: expected at most 16 peers with layout 16bit"),
              "%s", line);
    snprintf(text, sizeof text, "name: cap\n" COSTS "ivshmem: {peers: 18, layout: 32bit}\n");
    cr_assert_eq(load_error(text, line, sizeof line), 0, "%s", line);
    cr_assert_eq(ivshmem_max_peers(IVSHMEM_32BIT), 1920);
}

Test(fabric, doorbell_register_encoding)
{
    cr_assert_eq(ivshmem_doorbell(IVSHMEM_16BIT, 3, 7), 0x0307);
    cr_assert_eq(ivshmem_doorbell(IVSHMEM_32BIT, 300, 7), (300u << 16) | 7u);
    uint32_t dest, value;
    ivshmem_decode(IVSHMEM_16BIT, 0xff01, &dest, &value);
    cr_assert_eq(dest, ivshmem_broadcast_id(IVSHMEM_16BIT));
    cr_assert_eq(value, 1);
    cr_assert_eq(ivshmem_livelist_words(IVSHMEM_32BIT, 100), 4);
}

/* Eight guests whose vCPUs compute between requests: on two cores they
 * wait for each other, so latency grows and cores switch threads. */
static const char contention[] =
    "name: contention\n" COSTS
    "run: {duration: 5000000, warmup: 500000}\n"
    "host: {cores: %d}\n"
    "guests:\n"
    "  - {name: g, count: 8, workload: {depth: 1, size: 4KiB, compute: 20us},\n"
    "     memory: {size: 64MiB}}\n"
    "device: {workers: 8, fixed: 1us, per_byte: 0}\n"
    "variants: [{scheme: physical}]\n";

Test(fabric, core_contention_makes_latency_grow)
{
    char text[1024];
    snprintf(text, sizeof text, contention, 0);
    json_t *free_cores = run(text);
    snprintf(text, sizeof text, contention, 2);
    json_t *two = run(text);
    double alone = num(free_cores, 0, "totals.latency_cycles.mean");
    double shared = num(two, 0, "totals.latency_cycles.mean");
    cr_assert_gt(shared, 1.2 * alone, "%f vs %f", shared, alone);
    cr_assert_float_eq(num(free_cores, 0, "cores.context_switches"), 0.0, 1e-12);
    cr_assert_gt(num(two, 0, "cores.context_switches"), 0);
    cr_assert_gt(num(two, 0, "cores.utilisation_mean"), 0.9);
    cr_assert_gt(num(two, 0, "totals.breakdown_cycles.queueing"), 0);
    json_decref(free_cores);
    json_decref(two);
}

/* The exact chain of one I/O request to a halted vCPU and a sleeping
 * worker (the device is slow enough that both have blocked): the kick's
 * exit and handler (1000 + 300 + 100) signal the worker at 1400, which
 * wakes (2000), resolves (10), serves (5000) and writes the irqfd (100);
 * the vCPU re-entered (800) and halted (1000 + 200) at 3400, so the
 * interrupt wakes it (2000) and it enters with the injection (800 + 50);
 * the EOI traps (1000 + 200 + 800). */
Test(fabric, io_request_pays_both_wakeups_and_the_entry)
{
    const char *text =
        "name: io\n" COSTS
        "run: {duration: 1000000, warmup: 100000}\n"
        "guests: [{name: g, workload: {depth: 1, size: 4KiB}, memory: {size: 64MiB}}]\n"
        "device: {workers: 1, fixed: 5000, per_byte: 0}\n"
        "variants: [{scheme: physical, fabric: {eoi: exit}}]\n";
    json_t *r = run(text);
    double latency = 1400 + 2000 + 10 + 5000 + 100 + 2000 + 850 + 2000;
    cr_assert_float_eq(num(r, 0, "totals.latency_cycles.mean"), latency, 1e-9);
    cr_assert_float_eq(num(r, 0, "totals.breakdown_cycles.scheduling"), 4000.0, 1e-9);
    cr_assert_float_eq(num(r, 0, "totals.breakdown_cycles.interrupt"), 100 + 850 + 2000.0,
                       1e-9);
    cr_assert_float_eq(num(r, 0, "totals.breakdown_cycles.queueing"), 0.0, 1e-9);
    /* Kick, HLT, EOI; one interrupt, not posted. */
    cr_assert_float_eq(num(r, 0, "totals.exits_per_request"), 3.0, 1e-9);
    cr_assert_float_eq(num(r, 0, "totals.interrupts_per_request"), 1.0, 1e-9);
    json_decref(r);
}

/* The backend starts while the vCPU is still re-entering: with a polling
 * backend and a driver that polls for completions, a request is the kick
 * up to its signal (1400), the lookup (10) and the service (1000): less
 * than the kick's whole round trip (2200) plus the service. */
Test(fabric, the_ioeventfd_signals_the_backend_before_the_vcpu_reenters)
{
    const char *text =
        "name: signal\n" COSTS
        "run: {duration: 1000000, warmup: 100000}\n"
        "guests: [{name: g, workload: {depth: 1, size: 4KiB}, memory: {size: 64MiB}}]\n"
        "device: {workers: 1, fixed: 1000, per_byte: 0}\n"
        "variants:\n"
        "  - {name: kernel, scheme: physical,\n"
        "     fabric: {vcpu_idle: poll, backend: poll, completion: poll}}\n"
        "  - {name: userspace, scheme: physical,\n"
        "     fabric: {vcpu_idle: poll, backend: poll, completion: poll, handler: userspace}}\n";
    json_t *r = run(text);
    cr_assert_float_eq(num(r, 0, "totals.latency_cycles.mean"), 1400 + 10 + 1000.0, 1e-9);
    cr_assert_float_eq(num(r, 0, "totals.breakdown_cycles.notify"), 1400.0, 1e-9);
    cr_assert_lt(num(r, 0, "totals.latency_cycles.mean"), 2200 + 1010.0);
    /* In userspace the device model signals after its round trip. */
    cr_assert_float_eq(num(r, 1, "totals.latency_cycles.mean"), 1000 + 300 + 5000 + 10 + 1000.0,
                       1e-9);
    cr_assert_float_eq(num(r, 0, "totals.interrupts_per_request"), 0.0, 1e-12);
    json_decref(r);
}

static char *dump_many(int ncores)
{
    char text[1024];
    snprintf(text, sizeof text,
             "name: many\n" COSTS
             "run: {duration: 400000, warmup: 50000}\n"
             "host: {cores: %d}\n"
             "guests:\n"
             "  - {name: a, count: 300, workload: {depth: 2, size: 4KiB, think: 5us,\n"
             "     think_dist: exponential}, memory: {size: 16MiB}}\n"
             "device: {workers: 16, fixed: 1us}\n"
             "ivshmem: {peers: 64, layout: 32bit, pattern: all-to-all, think: 10us}\n"
             "variants: [{scheme: linear}, {scheme: physical}]\n", ncores);
    json_t *r = run(text);
    char *s = json_dumps(r, JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    json_decref(r);
    return s;
}

Test(fabric, many_guests_are_deterministic)
{
    char *a = dump_many(16), *b = dump_many(16);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
}

/* Two requests in flight: on one vCPU the second kick waits for the
 * first's whole exit (2200); with a vCPU per slot each request is the
 * single-request chain, 1400 + 10 + 1000. */
Test(fabric, a_slot_per_vcpu_takes_its_exits_in_parallel)
{
    const char *text =
        "name: vcpus\n" COSTS
        "run: {duration: 1000000, warmup: 100000}\n"
        "guests: [{name: g, vcpus: %d, workload: {depth: 2, size: 4KiB}, memory: {size: 64MiB}}]\n"
        "device: {workers: 2, fixed: 1000, per_byte: 0}\n"
        "variants: [{scheme: physical, fabric: {vcpu_idle: poll, backend: poll,\n"
        "                                       completion: poll}}]\n";
    char buf[1024];
    snprintf(buf, sizeof buf, text, 2);
    json_t *two = run(buf);
    cr_assert_float_eq(num(two, 0, "totals.latency_cycles.mean"), 2410.0, 1e-9);
    cr_assert_float_eq(num(two, 0, "totals.breakdown_cycles.queueing"), 0.0, 1e-9);
    snprintf(buf, sizeof buf, text, 1);
    json_t *one = run(buf);
    cr_assert_gt(num(one, 0, "totals.latency_cycles.mean"), 2410.0);
    cr_assert_gt(num(one, 0, "totals.breakdown_cycles.queueing"), 0.0);
    cr_assert_float_eq(num(two, 0, "cores.threads"), 2 + 2, 1e-12);
    json_decref(two);
    json_decref(one);
}

/* A page-list registration is a hypercall whose handler looks up and pins
 * every page, in the vCPU's thread as KVM runs it: the request's `exit`
 * part holds each registration's whole exit (1000 + 100 + 800) plus 16
 * pages x (10 + 20), and the device's worker translates nothing. */
Test(fabric, registration_pins_in_the_hypercall_on_the_vcpu)
{
    const char *text =
        "name: pins\n" COSTS
        "run: {duration: 4000000, warmup: 100000}\n"
        "guests: [{name: g, workload: {depth: 1, size: 64KiB},\n"
        "          memory: {size: 64MiB, remap_rate: 200000}}]\n"
        "device: {workers: 1, fixed: 1000, per_byte: 0}\n"
        "variants:\n"
        "  - {scheme: page-list, max_registered: 64, in_registered: 1.0,\n"
        "     fabric: {vcpu_idle: poll, backend: poll, completion: poll}}\n";
    const char *sets[] = {"costs.pin_per_page=20"};
    json_t *r = run_text(text, sets, 1);
    double requests = num(r, 0, "classes.0.metrics.requests");
    double registrations = num(r, 0, "classes.0.metrics.scheme.registrations");
    cr_assert_gt(registrations, 0, "the remaps forced no re-registration");
    cr_assert_float_eq(num(r, 0, "classes.0.metrics.breakdown_cycles.exit") * requests,
                       registrations * (1900 + 16 * (10 + 20)), 1e-6);
    cr_assert_float_eq(num(r, 0, "classes.0.metrics.breakdown_cycles.translate"), 0.0, 1e-12);
    json_decref(r);
}
