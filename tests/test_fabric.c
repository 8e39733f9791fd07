/*
 * test_fabric.c -- the fabric through the real loader and kernel: exits
 * and intercepts per message, lost IntrStatus values, broadcasts and live
 * peers, the peer cap of each layout, core contention, and determinism
 * with many guests.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/fabric.h"
#include "models/ivshmem.h"
#include "models/system.h"

static int load_text(const char *text, system_config *cfg, scn_errors *errs)
{
    scn_source src = {.path = "test.yaml", .text = text, .text_len = strlen(text)};
    memset(errs, 0, sizeof *errs);
    return system_load(&src, cfg, errs);
}

static json_t *run_text(const char *text)
{
    system_config cfg;
    scn_errors errs;
    if (load_text(text, &cfg, &errs) != 0) {
        char line[1024];
        scn_error_format(&errs.items[0], line, sizeof line);
        cr_assert_fail("scenario rejected: %s", line);
    }
    json_t *r = NULL;
    char err[256];
    cr_assert_eq(system_run(&cfg, NULL, NULL, &r, err, sizeof err), 0, "%s", err);
    system_config_free(&cfg);
    return r;
}

/* The value at a dotted path inside variant `v`. */
static double num(json_t *r, size_t v, const char *path)
{
    json_t *o = json_array_get(json_object_get(r, "variants"), v);
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    cr_assert_not_null(o, "missing %s", path);
    return json_number_value(o);
}

/* Round figures so the cost chains can be checked by hand. */
#define COSTS                                                                   \
    "clock: 1GHz\n"                                                             \
    "costs: {hypercall_exit: 1000, pio_write_exit: 1000, mmio_exit: 1000,\n"   \
    "        emulation: 300, userspace_exit: 5000, irq_exit: 700, eoi_exit: 400,\n" \
    "        ipi: 200, wakeup: 2000, context_switch: 1500, copy_per_kib: 1024}\n"

static const char pingpong[] =
    "name: pp\n" COSTS
    "run: {duration: 2000000, warmup: 100000}\n"
    "ivshmem: {peers: 2, pattern: pingpong, size: 64B}\n"
    "variants:\n"
    "  - {name: msi, fabric: {interrupts: msi, eoi: virtualised}}\n"
    "  - {name: msi-mask, fabric: {interrupts: msi, eoi: virtualised, mask: true}}\n"
    "  - {name: intx, fabric: {interrupts: intx, eoi: virtualised}}\n"
    "  - {name: msi-eoi, fabric: {interrupts: msi}}\n";

Test(fabric, a_message_costs_doorbell_plus_interrupt_two_intercepts)
{
    json_t *r = run_text(pingpong);
    cr_assert_float_eq(num(r, 0, "ivshmem.intercepts_per_message"), 2.0, 1e-12);
    cr_assert_float_eq(num(r, 1, "ivshmem.intercepts_per_message"), 4.0, 1e-12);
    /* INTx adds the IntrStatus read; an EOI that exits adds one more. */
    cr_assert_float_eq(num(r, 2, "ivshmem.intercepts_per_message"), 3.0, 1e-12);
    cr_assert_float_eq(num(r, 3, "ivshmem.intercepts_per_message"), 3.0, 1e-12);
    cr_assert_gt(num(r, 0, "ivshmem.counts.messages"), 100);
    json_decref(r);
}

/* One way, MSI through irqfd to a halted peer: copy in (64 cycles), the
 * doorbell exit (1000), the receiver's wake-up (2000), copy out (64). */
Test(fabric, pingpong_round_trip_is_the_cost_chain)
{
    json_t *r = run_text(pingpong);
    cr_assert_float_eq(num(r, 0, "ivshmem.one_way_latency_cycles.mean"), 3128.0, 1e-9);
    cr_assert_float_eq(num(r, 0, "ivshmem.round_latency_cycles.mean"), 6256.0, 1e-9);
    /* INTx: the device model's thread wakes too (2000), and the handler
     * reads IntrStatus in userspace: 1000 + 300 + 5000. */
    cr_assert_float_eq(num(r, 2, "ivshmem.one_way_latency_cycles.mean"),
                       3128.0 + 2000.0 + 6300.0, 1e-9);
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
    json_t *r = run_text(fan_in);
    double lost = num(r, 0, "ivshmem.counts.status_lost");
    cr_assert_gt(lost, 0);
    cr_assert_float_eq(lost, num(r, 0, "ivshmem.counts.coalesced"), 1e-12);
    cr_assert_float_eq(num(r, 1, "ivshmem.counts.status_lost"), 0.0, 1e-12);
    cr_assert_gt(num(r, 1, "ivshmem.counts.coalesced"), 0);
    /* Every message raises an interrupt or joins a pending one; those in
     * flight at the window's edges may be counted on one side only. */
    for (size_t v = 0; v < 2; v++) {
        double msgs = num(r, v, "ivshmem.counts.messages");
        double raised = num(r, v, "ivshmem.counts.interrupts") +
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
    json_t *r = run_text(broadcast);
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
    json_t *r = run_text(text);
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
    int rc = load_text(text, &cfg, &errs);
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
    json_t *free_cores = run_text(text);
    snprintf(text, sizeof text, contention, 2);
    json_t *two = run_text(text);
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
 * worker: kick 1000, worker wake-up 2000, device 1000, vCPU wake-up 2000,
 * EOI 400. */
Test(fabric, io_request_pays_both_wakeups)
{
    const char *text =
        "name: io\n" COSTS
        "run: {duration: 1000000, warmup: 100000}\n"
        "guests: [{name: g, workload: {depth: 1, size: 4KiB}, memory: {size: 64MiB}}]\n"
        "device: {workers: 1, fixed: 1000, per_byte: 0}\n"
        "variants: [{scheme: physical}]\n";
    json_t *r = run_text(text);
    cr_assert_float_eq(num(r, 0, "totals.latency_cycles.mean"),
                       1000.0 + 2000 + 1000 + 28 + 2000 + 400, 1e-9);
    cr_assert_float_eq(num(r, 0, "totals.breakdown_cycles.scheduling"), 4000.0, 1e-9);
    cr_assert_float_eq(num(r, 0, "totals.breakdown_cycles.queueing"), 0.0, 1e-9);
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
    json_t *r = run_text(text);
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

/* CALIBRATION.md's validation case: a PIO read that goes out to the
 * userspace device model, composed from the x86-kvm-2012 primitives,
 * against kvm-unit-tests' measured inl_from_qemu (20,574 cycles). */
Test(fabric, userspace_register_access_matches_inl_from_qemu)
{
    vmm_costs c;
    vmm_costs_from_preset(&c, 0, 3000000000ull);
    fabric_cost access = fabric_register_access(&c);
    double err = ((double)access.cycles - 20574.0) / 20574.0;
    cr_assert_lt(err < 0 ? -err : err, 0.03, "%llu cycles",
                 (unsigned long long)access.cycles);
}
