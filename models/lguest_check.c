/*
 * lguest_check.c -- what an lguest class asks of a scenario: the
 * primitives its paths need, the least time a request takes, the rules
 * its block must follow, and its results object.
 */
#include <stdio.h>
#include <string.h>

#include "models/lguest_int.h"

/* ---- needs and least times ------------------------------------------------- */

#define BIT(id) SCHEME_NEEDS(VMM_COST_##id)

/* Where the class's vCPU can be when an interrupt is raised for it: in
 * the host (a block completion lands during its exit), running guest
 * work, or halted. */
static fabric_receiver receiver(const guest_config *g, const fabric_config *f)
{
    const lguest_config *lc = &g->lguest;
    int busy = g->workload.compute > 0 || g->workload.depth > 1 || lc->process > 0;
    int net = lc->device == LG_NET;
    return (fabric_receiver){
        .may_run = f->vcpu_idle == FABRIC_POLL || ((net || lc->remove_at > 0) && busy),
        .may_halt = f->vcpu_idle == FABRIC_HALT && (net || lc->remove_at > 0)};
}

uint64_t lg_needs(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const lguest_config *lc = &g->lguest;
    const fabric_config *f = &v->fabric;
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t m = scheme_find(system_scheme_names[v->scheme])->needs | BIT(memslot_lookup);
    uint64_t delivery = fabric_delivery_needs(f, receiver(g, f), fabric_eoi_mode(f, cfg->preset));
    if (lc->device == LG_NET)
        return m | fabric_path_needs(FABRIC_PATH_HYPERCALL, pio_in) | BIT(cache_ref) |
               BIT(pin_per_page) | BIT(copy_per_kib) | delivery;
    m |= fabric_path_needs(FABRIC_PATH_KICK_HYPERCALL_USER, pio_in);
    if (lc->device == LG_BLOCK)
        m |= BIT(cache_ref) | BIT(copy_per_kib) | delivery;
    else if (lc->remove_at > 0)
        m |= delivery;
    return m;
}

uint64_t lg_least(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const vmm_costs *c = &cfg->costs;
    const lguest_config *lc = &g->lguest;
    const fabric_config *f = &v->fabric;
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t after = g->workload.compute + g->workload.think;
    if (lc->device == LG_NET) {
        uint64_t send = fabric_whole(c, FABRIC_PATH_HYPERCALL, pio_in);
        if (lc->role == LG_ECHO)
            return lc->process + send + after;
        return send + fabric_least_delivery(c, f, receiver(g, f),
                                            fabric_eoi_mode(f, cfg->preset)) + after;
    }
    uint64_t out = fabric_whole(c, FABRIC_PATH_KICK_HYPERCALL_USER, pio_in);
    if (lc->device == LG_CONSOLE)
        return out + lc->console.fixed + after;
    const lg_block_config *b = &lc->block;
    uint64_t disk = b->read.latency < b->write.latency ? b->read.latency : b->write.latency;
    return out + disk + after;
}

/* lguest guests were i386 uniprocessors with 4 KiB pages and 32-bit
 * physical addresses, and a struct lguest_dma holds 16 sections of at
 * most a page. */
static void check_guest(const guest_config *g, size_t i, const scn_doc *doc, scn_errors *errs)
{
    char path[96];
    if (g->vcpus != 1) {
        snprintf(path, sizeof path, "guests.%zu.vcpus", i);
        scn_errors_at(errs, doc, path,
                      "expected 1, as lguest guests ran on one vCPU, found %llu",
                      (unsigned long long)g->vcpus);
    }
    if (g->memory.page_size != GUEST_PAGE_4K || g->memory.size >= (1ull << 32)) {
        snprintf(path, sizeof path, "guests.%zu.memory", i);
        scn_errors_at(errs, doc, path,
                      "expected 4KiB pages and less than 4GiB, as lguest's i386 guests had: an "
                      "lguest_dma's addresses are 32-bit, and the Launcher's device pages lie "
                      "above the guest's memory; found %llu bytes%s",
                      (unsigned long long)g->memory.size,
                      g->memory.page_size != GUEST_PAGE_4K ? " in 2MiB pages" : "");
    }
    if (g->workload.size > (uint64_t)LG_MAX_SECTIONS * LG_PAGE) {
        snprintf(path, sizeof path, "guests.%zu.workload.size", i);
        scn_errors_at(errs, doc, path,
                      "expected at most 64KiB: a struct lguest_dma holds 16 sections of one page "
                      "(LGUEST_MAX_DMA_SECTIONS), found %llu bytes",
                      (unsigned long long)g->workload.size);
    }
}

static void check_variants(const system_config *cfg, size_t index, const scn_doc *doc,
                           scn_errors *errs)
{
    for (size_t v = 0; v < cfg->nvariants; v++) {
        const variant_config *var = &cfg->variants[v];
        char path[64];
        if (var->scheme != SYSTEM_SG) {
            snprintf(path, sizeof path, "variants.%zu.scheme", v);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected sg, as guests.%zu (%s) uses transport lguest, whose "
                           "lguest_dma is a list of sections; found %s", path, index,
                           cfg->guests[index].name, system_scheme_names[var->scheme]);
            return;
        }
        if (var->opts.max_sections != LG_MAX_SECTIONS) {
            snprintf(path, sizeof path, "variants.%zu.max_sections", v);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected 16, the sections of a struct lguest_dma, as "
                           "guests.%zu (%s) uses transport lguest; found %llu", path, index,
                           cfg->guests[index].name,
                           (unsigned long long)var->opts.max_sections);
            return;
        }
    }
}

/* A network pairs instance i of two classes, a sender and its echo,
 * each naming the other. */
static void check_peer(const system_config *cfg, size_t i, const scn_doc *doc,
                       scn_errors *errs)
{
    const guest_config *g = &cfg->guests[i];
    const lguest_config *lc = &g->lguest;
    char path[96];
    snprintf(path, sizeof path, "guests.%zu.lguest.peer", i);
    size_t p;
    const guest_config *peer = lg_class_named(cfg, lc->peer, &p);
    if (!peer || p == i || peer->transport != TRANSPORT_LGUEST ||
        peer->lguest.device != LG_NET || !peer->lguest.peer ||
        strcmp(peer->lguest.peer, g->name) != 0 || peer->lguest.role == lc->role ||
        peer->count != g->count) {
        scn_errors_at(errs, doc, path,
                      "expected another lguest net class whose peer is '%s', with the other "
                      "role and as many instances (%llu); found none that is", g->name,
                      (unsigned long long)g->count);
        return;
    }
    if (workload_size_min(&g->workload) < 4) {
        snprintf(path, sizeof path, "guests.%zu.workload.size", i);
        scn_errors_at(errs, doc, path,
                      "expected at least 4 bytes a message for device net: a message's first 4 "
                      "bytes carry the tag that matches an echo to its request, found %llu",
                      (unsigned long long)workload_size_min(&g->workload));
    }
    if (lc->role == LG_SEND && lc->receive_buffers < g->workload.depth) {
        snprintf(path, sizeof path, "guests.%zu.lguest.receive_buffers", i);
        scn_errors_at(errs, doc, path,
                      "expected at least workload.depth (%llu) buffers, so every echo finds "
                      "one free, found %llu", (unsigned long long)g->workload.depth,
                      (unsigned long long)lc->receive_buffers);
    }
}

static void check_device(const system_config *cfg, size_t i, const scn_doc *doc,
                         scn_errors *errs)
{
    const guest_config *g = &cfg->guests[i];
    const lguest_config *lc = &g->lguest;
    char path[96];
    if (lc->device != LG_BLOCK && g->workload.read_share > 0) {
        snprintf(path, sizeof path, "guests.%zu.workload.read_share", i);
        scn_errors_at(errs, doc, path,
                      "expected 0 for device %s, which only sends (a block device reads); "
                      "found %g", lg_device_names[lc->device], g->workload.read_share);
    }
    if (lc->device == LG_NET) {
        if (lc->remove_at > 0) {
            snprintf(path, sizeof path, "guests.%zu.lguest.remove_at", i);
            scn_errors_at(errs, doc, path,
                          "expected 0 for device net: the Launcher removes the devices it "
                          "serves (block, console), not a network between guests; found %llu "
                          "cycles", (unsigned long long)lc->remove_at);
        }
        check_peer(cfg, i, doc, errs);
        return;
    }
    if (lc->peer) {
        snprintf(path, sizeof path, "guests.%zu.lguest.peer", i);
        scn_errors_at(errs, doc, path,
                      "expected no peer for device %s (it talks to the Launcher), "
                      "found '%s'", lg_device_names[lc->device], lc->peer);
    }
    if (lc->device == LG_BLOCK && lc->block.sectors * 512 < g->workload.size) {
        snprintf(path, sizeof path, "guests.%zu.lguest.block.sectors", i);
        scn_errors_at(errs, doc, path,
                      "expected room for one request of workload.size, found "
                      "%llu sectors", (unsigned long long)lc->block.sectors);
    }
}

void lg_check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs)
{
    const guest_config *g = &cfg->guests[index];
    check_guest(g, index, doc, errs);
    check_variants(cfg, index, doc, errs);
    check_device(cfg, index, doc, errs);
    const lg_misbehave_config *m = &g->lguest.misbehave;
    if (m->page_crossing + m->outside_section + m->unbound_key > 1.0) {
        char path[96];
        snprintf(path, sizeof path, "guests.%zu.lguest.misbehave", index);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected shares that add up to at most 1 (each lguest_dma is "
                       "wrong in one way at most), found %g", path,
                       m->page_crossing + m->outside_section + m->unbound_key);
    }
}

/* ---- results --------------------------------------------------------------------- */

#define REFUSED(name) (1u << TRANSPORT_REFUSED_##name)

json_t *lg_stats_json(const transport_stats *s, const guest_config *g, uint64_t hz)
{
    (void)hz;
    unsigned which = REFUSED(bad_section) | REFUSED(outside_guest) | REFUSED(unbound_key) |
                     REFUSED(no_buffer) | REFUSED(removed);
    return json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}",
                     "kind", "lguest", "device", lg_device_names[g->lguest.device],
                     "refused", transport_refusals_json(s, which),
                     "sends", (json_int_t)s->sent, "received", (json_int_t)s->received,
                     "waits", (json_int_t)s->waits);
}

