/*
 * vpio_check.c -- what the vpio transport asks of a scenario: the
 * primitives its paths need, the least time a request takes, the rules
 * of the `shared_device:` block and of a vpio class, the events its
 * arrivals and slices add, and a class's results object.
 */
#include <stdio.h>

#include "models/system_check.h"
#include "models/vpio_int.h"
#include "sim/report.h"

#define BIT(id) SCHEME_NEEDS(VMM_COST_##id)

/* The device and the hypervisor raise interrupts for a vpio guest at any
 * time (packets arrive whatever it does), so its vCPU may be running the
 * guest, or halted if it halts. */
static fabric_receiver receiver(const fabric_config *f)
{
    return (fabric_receiver){.may_run = 1, .may_halt = f->vcpu_idle == FABRIC_HALT};
}

/* The hypercalls (state, grab, release), the IOMMU's switch at every
 * handover, the interrupts (completions, grants, upcalls, revocations,
 * arrivals), the copy of held packets, and a bounce copy of the physical
 * scheme. The host never resolves a buffer: the IOMMU translates the
 * device's DMA. */
uint64_t vp_needs(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    (void)g;
    const shared_device_config *dc = &cfg->shared_device;
    const fabric_config *f = &v->fabric;
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t m = fabric_path_needs(FABRIC_PATH_HYPERCALL, pio_in) | BIT(iommu_switch) |
                 fabric_delivery_needs(f, receiver(f), fabric_eoi_mode(f, cfg->preset));
    if (dc->host_buffer > 0 && dc->receive.rate > 0)
        m |= BIT(copy_per_kib);
    if (v->scheme == SYSTEM_PHYSICAL)
        m |= BIT(copy_per_kib);
    return m;
}

static uint64_t service(const shared_device_config *dc, uint64_t bytes)
{
    return dc->service.fixed + (uint64_t)((double)bytes * dc->service.per_byte + 0.5);
}

/* An owner's request: the device's transmit and the completion's
 * delivery, then the guest's compute and think. */
uint64_t vp_least(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const fabric_config *f = &v->fabric;
    return service(&cfg->shared_device, workload_size_min(&g->workload)) +
           fabric_least_delivery(&cfg->costs, f, receiver(f), fabric_eoi_mode(f, cfg->preset)) +
           g->workload.compute + g->workload.think;
}

/* The device DMAs through the IOMMU at guest-physical addresses: one
 * contiguous run (physical) or sections (sg). */
void vp_check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs)
{
    for (size_t v = 0; v < cfg->nvariants; v++) {
        int s = cfg->variants[v].scheme;
        if (s == SYSTEM_PHYSICAL || s == SYSTEM_SG)
            continue;
        char path[64];
        snprintf(path, sizeof path, "variants.%zu.scheme", v);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected physical or sg, as guests.%zu (%s) uses transport vpio, "
                       "whose device reads guest-physical addresses through the IOMMU; "
                       "found %s", path, index, cfg->guests[index].name,
                       system_scheme_names[s]);
        return;
    }
}

/* The first class using vpio, or cfg->nguests. */
static size_t first_vpio(const system_config *cfg)
{
    size_t i = 0;
    while (i < cfg->nguests && cfg->guests[i].transport != TRANSPORT_VPIO)
        i++;
    return i;
}

void vpio_check_device(const struct system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    int given = system_given(doc, "shared_device");
    size_t first = first_vpio(cfg);
    if (given && first == cfg->nguests) {
        scn_errors_add(errs, scn_mark_of(doc, "shared_device"),
                       "shared_device: expected no shared_device block, as no guest class "
                       "uses transport vpio (the block is the device vpio guests share); "
                       "found one");
        return;
    }
    char path[64];
    if (!given && first < cfg->nguests) {
        snprintf(path, sizeof path, "guests.%zu.transport", first);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected a shared_device block beside transport vpio (the one "
                       "device its guests share: policy, slice, grace, host buffer, service, "
                       "arrivals), found none", path);
        return;
    }
    if (given && cfg->shared_device.slice == 0) {
        int slice = system_given(doc, "shared_device.slice");
        scn_errors_add(errs, scn_mark_of(doc, slice ? "shared_device.slice" : "shared_device"),
                       "shared_device.slice: expected a time above 0 (an owner's slice "
                       "before its upcall), found %s", slice ? "0 cycles" : "none");
    }
}

double vpio_event_bound(const struct system_config *cfg)
{
    const shared_device_config *dc = &cfg->shared_device;
    double instances = 0, duration = (double)cfg->run.duration;
    for (size_t i = 0; i < cfg->nguests; i++)
        if (cfg->guests[i].transport == TRANSPORT_VPIO)
            instances += (double)cfg->guests[i].count;
    if (instances == 0 || dc->slice == 0)
        return 0;
    double seconds = duration / (double)cfg->clock_hz;
    double arrivals = dc->receive.rate * seconds * instances * 4;
    double slices = duration / (double)dc->slice * 4;
    return (arrivals + slices) * (double)cfg->nvariants;
}

/* ---- results ------------------------------------------------------------------ */

static json_t *receive_json(const transport_vpio_stats *p)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "arrived", (json_int_t)p->rx_arrived,
                     "delivered", (json_int_t)p->rx_delivered, "buffered",
                     (json_int_t)p->rx_buffered, "dropped", (json_int_t)p->rx_dropped);
}

static json_t *calls_json(const transport_vpio_stats *p)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "state_checks", (json_int_t)p->state_checks, "grabs",
                     (json_int_t)p->grabs, "grab_failures", (json_int_t)p->grab_failures,
                     "races", (json_int_t)p->races, "grants", (json_int_t)p->grants,
                     "upcalls", (json_int_t)p->upcalls, "renewals",
                     (json_int_t)p->renewals, "releases", (json_int_t)p->releases);
}

json_t *vp_stats_json(const transport_stats *s, const guest_config *g, uint64_t hz)
{
    const transport_vpio_stats *p = &s->vpio;
    const vpio_misbehave_config *m = &g->vpio.misbehave;
    double window = (double)p->window_cycles / (double)g->count;
    double handover = p->grants ? (double)p->handover_cycles / (double)p->grants : 0.0;
    return json_pack("{s:s, s:s, s:{s:b, s:b, s:b}, s:f, s:o, s:f, s:f, s:I, s:I, s:o, "
                     "s:I, s:o}",
                     "kind", "vpio", "state", vpio_state_names[g->vpio.state], "misbehave",
                     "ignore_upcall", m->ignore_upcall, "skip_state", m->skip_state, "hold",
                     m->hold, "device_share",
                     window > 0 ? (double)p->device_cycles / window : 0.0, "calls",
                     calls_json(p), "handover_latency_cycles", handover,
                     "handover_latency_ns", rep_ns(handover, hz), "forced_stops",
                     (json_int_t)p->forced_stops, "lost_requests", (json_int_t)p->lost,
                     "refused", transport_refusals_json(s, 1u << TRANSPORT_REFUSED_forced_stop),
                     "transmits", (json_int_t)p->transmits, "receive", receive_json(p));
}
