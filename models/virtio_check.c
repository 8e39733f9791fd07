/*
 * virtio_check.c -- what a virtio-pci class asks of a scenario: the
 * primitives its paths need, the least time a request takes, its backend
 * threads, the rules its block must follow (the ring, the scheme, PCI's
 * room), and its results object.
 */
#include <stdio.h>

#include "models/virtio_int.h"
#include "sim/report.h"

#define BIT(id) SCHEME_NEEDS(VMM_COST_##id)

/* ---- needs and least times ------------------------------------------------ */

/* The completion interrupt can find the driver's vCPU running guest work
 * when it polls or has other work (more requests than vCPUs, compute). */
static fabric_receiver receiver(const guest_config *g, const fabric_config *f)
{
    return (fabric_receiver){
        .may_run = f->vcpu_idle == FABRIC_POLL || g->workload.depth > g->vcpus ||
                   g->workload.compute > 0,
        .may_halt = f->vcpu_idle == FABRIC_HALT};
}

static uint64_t probe_needs(const virtio_config *c, int pio_in)
{
    uint64_t m = fabric_path_needs(FABRIC_PATH_PIO_WRITE_USER, pio_in) |
                 fabric_path_needs(FABRIC_PATH_PIO_READ_USER, pio_in);
    if (c->config_access == VIRTIO_CONFIG_ECAM)
        m |= fabric_path_needs(FABRIC_PATH_MMIO_USER, pio_in);
    return m;
}

uint64_t vio_needs(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const virtio_config *c = &g->virtio;
    const fabric_config *f = &v->fabric;
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    int kick = vio_effective_kick(c);
    uint64_t m = scheme_find(system_scheme_names[v->scheme])->needs | probe_needs(c, pio_in) |
                 fabric_path_needs(vio_kick_path(kick, f), pio_in);
    if (kick == VIRTIO_KICK_HYPERCALL && c->call == VIRTIO_CALL_INDIRECT)
        m |= BIT(indirect_call);
    if (f->completion == FABRIC_COMPLETE_INTERRUPT)
        m |= BIT(eventfd_signal) |
             fabric_delivery_needs(f, receiver(g, f), fabric_eoi_mode(f, cfg->preset));
    if (f->backend == FABRIC_HALT)
        m |= BIT(wakeup);
    return m;
}

/* The kick up to its signal, the device's service, the completion's
 * delivery, then compute and think. */
uint64_t vio_least(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const vmm_costs *c = &cfg->costs;
    const virtio_config *vc = &g->virtio;
    const fabric_config *f = &v->fabric;
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t kick = fabric_exit_of(c, vio_kick_path(vio_effective_kick(vc), f), pio_in).to_signal;
    uint64_t service =
        vc->fixed + (uint64_t)((double)workload_size_min(&g->workload) * vc->per_byte + 0.5);
    uint64_t done = f->completion == FABRIC_COMPLETE_POLL
                        ? 0
                        : c->eventfd_signal +
                              fabric_least_delivery(c, f, receiver(g, f),
                                                    fabric_eoi_mode(f, cfg->preset));
    return kick + service + done + g->workload.compute + g->workload.think;
}

uint32_t vio_threads(const guest_config *g, const variant_config *v, uint32_t *polling)
{
    uint32_t n = vio_devices(&g->virtio);
    *polling = v->fabric.backend == FABRIC_POLL ? n : 0;
    return n;
}

/* ---- checks ----------------------------------------------------------------------- */

/* A power-of-two ring that holds at least one request's chain. */
static void check_ring(const guest_config *g, size_t i, const scn_doc *doc, scn_errors *errs)
{
    const virtio_config *c = &g->virtio;
    char path[96];
    snprintf(path, sizeof path, "guests.%zu.virtio.queue_size", i);
    uint64_t page = 4096ull << guest_page_order(&g->memory);
    uint64_t chain = (g->workload.size + page - 1) / page;
    if (c->queue_size & (c->queue_size - 1))
        scn_errors_at(errs, doc, path,
                      "expected a power of two (the ring's indices wrap at it), "
                      "found %llu", (unsigned long long)c->queue_size);
    else if (chain > c->queue_size)
        scn_errors_at(errs, doc, path,
                      "expected at least %llu descriptors: a request of workload.size takes one "
                      "a page; found %llu", (unsigned long long)chain,
                      (unsigned long long)c->queue_size);
}

/* PCI: 256 buses of 32 slots of `functions` functions, less slot 00:00,
 * the host bridge's. */
static void check_pci(const guest_config *g, size_t i, const scn_doc *doc, scn_errors *errs)
{
    const virtio_config *c = &g->virtio;
    uint64_t room = ((uint64_t)PCI_BUSES * PCI_SLOTS - 1) * c->functions;
    if (vio_devices(c) <= room)
        return;
    char path[96];
    snprintf(path, sizeof path, "guests.%zu.virtio.devices", i);
    scn_errors_at(errs, doc, path,
                  "expected at most %llu devices with %llu function(s) a slot: PCI has 256 buses "
                  "of 32 slots, and slot 00:00 holds the host bridge; found %llu with hotplug",
                  (unsigned long long)room, (unsigned long long)c->functions,
                  (unsigned long long)vio_devices(c));
}

/* A chain is the buffer's page list: the sg scheme's. */
static void check_schemes(const system_config *cfg, size_t index, const scn_doc *doc,
                          scn_errors *errs)
{
    for (size_t v = 0; v < cfg->nvariants; v++) {
        if (cfg->variants[v].scheme == SYSTEM_SG)
            continue;
        char path[64];
        snprintf(path, sizeof path, "variants.%zu.scheme", v);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected sg, as guests.%zu (%s) uses transport virtio-pci, whose "
                       "descriptor chain lists the buffer's pages by guest-physical address; "
                       "found %s", path, index, cfg->guests[index].name,
                       system_scheme_names[cfg->variants[v].scheme]);
        return;
    }
}

void vio_check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs)
{
    const guest_config *g = &cfg->guests[index];
    check_ring(g, index, doc, errs);
    check_pci(g, index, doc, errs);
    check_schemes(cfg, index, doc, errs);
}

/* ---- results ------------------------------------------------------------------------ */

/* Where device `d` of an instance sits: bus, slot and function, counting
 * from 00:01.0 (slot 00:00 is the host bridge's). */
static void pci_location(const virtio_config *c, uint32_t d, char *buf, size_t len)
{
    uint64_t at = (uint64_t)d + c->functions;   /* slot 0 of bus 0 taken */
    uint64_t fn = at % c->functions, slot = at / c->functions % PCI_SLOTS;
    uint64_t bus = at / c->functions / PCI_SLOTS;
    snprintf(buf, len, "%02llx:%02llx.%llx", (unsigned long long)bus, (unsigned long long)slot,
             (unsigned long long)fn);
}

static json_t *pci_json(const virtio_config *c)
{
    char first[64], last[64];
    uint32_t n = vio_devices(c);
    pci_location(c, 0, first, sizeof first);
    pci_location(c, n - 1, last, sizeof last);
    uint64_t per_bus = (uint64_t)PCI_SLOTS * c->functions;
    uint64_t buses = ((uint64_t)n + c->functions + per_bus - 1) / per_bus;
    return json_pack("{s:I, s:I, s:I, s:s, s:s}", "devices", (json_int_t)n,
                     "functions_per_slot", (json_int_t)c->functions, "buses", (json_int_t)buses,
                     "first", first, "last", last);
}

static json_t *features_json(const virtio_config *c)
{
    virtio_features eff = {c->offer.event_idx && c->accept.event_idx,
                           c->offer.hypercall_kick && c->accept.hypercall_kick};
    return json_pack("{s:o, s:o, s:o}", "offered", vio_feature_names(&c->offer),
                     "accepted", vio_feature_names(&c->accept), "effective",
                     vio_feature_names(&eff));
}

static double per(uint64_t n, uint64_t d)
{
    return d ? (double)n / (double)d : 0.0;
}

json_t *vio_stats_json(const transport_stats *s, const guest_config *g, uint64_t hz)
{
    (void)hz;
    static const char *const kicks[] = {"pio", "mmio", "hypercall"};
    const virtio_config *c = &g->virtio;
    return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:f, s:I, s:I, s:I, s:f, s:I, s:{s:I, s:I, "
                     "s:I}}",
                     "kind", "virtio-pci", "kick", kicks[vio_effective_kick(c)],
                     "features", features_json(c), "pci", pci_json(c),
                     "kicks", (json_int_t)s->kicks,
                     "kicks_suppressed", (json_int_t)s->kicks_suppressed,
                     "kicks_per_request", per(s->kicks, s->served),
                     "interrupts", (json_int_t)s->irqs,
                     "interrupts_suppressed", (json_int_t)s->irqs_suppressed,
                     "interrupts_coalesced", (json_int_t)s->irqs_coalesced,
                     "interrupts_per_request", per(s->irqs, s->served),
                     "ring_full_waits", (json_int_t)s->ring_waits,
                     "probe", "exits_per_device", (json_int_t)vio_probe_exits(c),
                     "exits", (json_int_t)s->probe_exits,
                     "cycles", (json_int_t)s->probe_cycles);
}
