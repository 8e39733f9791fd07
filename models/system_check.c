/*
 * system_check.c -- the rules of a scenario that span several keys, and
 * what each variant's paths need.
 *
 * The needs and the least time of a request both come from the path lists
 * of models/fabric.c, the same lists the vCPUs run, so a scenario that
 * `pvsim check` passes cannot fail in `pvsim run` for a reason the check
 * could have seen: a primitive with no figure, a loop that takes no time,
 * polling threads without cores, buffers without room.
 */
#include "models/system_check.h"

#include <stdio.h>
#include <string.h>

#include "models/tlm_bridge.h"

int system_given(const scn_doc *doc, const char *path)
{
    scn_mark m = scn_mark_of(doc, path);
    return m.line != 0 || m.col != 0;
}

/* Memory grows with guest instances and outstanding requests; these caps
 * keep any scenario within a few hundred MiB. */
#define MAX_INSTANCES 4096
#define MAX_VCPUS 65536
#define MAX_OUTSTANDING (1u << 22)
#define MAX_WAITING (1u << 24)

/* Limits on the sum over guest classes. */
static void check_totals(const system_config *cfg, const scn_doc *doc,
                         scn_errors *errs)
{
    uint64_t instances = 0, outstanding = 0, vcpus = 0, waiting = 0;
    for (size_t i = 0; i < cfg->nguests; i++) {
        const guest_workload_config *w = &cfg->guests[i].workload;
        instances += cfg->guests[i].count;
        vcpus += cfg->guests[i].count * cfg->guests[i].vcpus;
        outstanding += cfg->guests[i].count * w->depth;
        if (workload_open(w) && w->on_full == WORKLOAD_QUEUE)
            waiting += cfg->guests[i].count * w->backlog;
    }
    if (waiting > MAX_WAITING)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most %u arrivals waiting in all (count x "
                       "workload.backlog of open-loop classes that queue), found %llu",
                       MAX_WAITING, (unsigned long long)waiting);
    if (instances > MAX_INSTANCES)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most %u guest instances in all, "
                       "found %llu", MAX_INSTANCES, (unsigned long long)instances);
    if (vcpus > MAX_VCPUS)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most %u vCPUs in all (count x vcpus), found %llu",
                       MAX_VCPUS, (unsigned long long)vcpus);
    if (outstanding > MAX_OUTSTANDING)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most %u outstanding requests in all "
                       "(count x workload.depth), found %llu", MAX_OUTSTANDING,
                       (unsigned long long)outstanding);
}

#define MAX_TOTAL_MEMORY (256ull << 30)

/* Guest memory: whole pages, a bounded total (aged memory costs host
 * memory in proportion), and room for the buffers: schemes other than
 * physical hold them for the whole run, and physical without a bounce
 * pool needs them free at once for its requests to go anywhere. */
static void check_memory(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    int holds_buffers = 0;
    for (size_t v = 0; v < cfg->nvariants; v++)
        holds_buffers |= cfg->variants[v].scheme != SYSTEM_PHYSICAL ||
                         cfg->variants[v].opts.on_fragmented != SCHEME_BOUNCE;
    uint64_t total = 0;
    for (size_t i = 0; i < cfg->nguests; i++) {
        const guest_config *g = &cfg->guests[i];
        uint64_t page = 4096ull << guest_page_order(&g->memory);
        char path[64];
        total += g->count * g->memory.size;
        if (g->memory.size % page) {
            snprintf(path, sizeof path, "guests.%zu.memory.size", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected a whole number of %llu-byte pages, found %llu bytes",
                           path, (unsigned long long)page,
                           (unsigned long long)g->memory.size);
            continue;
        }
        uint64_t buffers = g->workload.depth * ((g->workload.size + page - 1) / page) * page;
        double room = (double)g->memory.size * (1.0 - g->memory.used);
        if (holds_buffers && (double)buffers > room) {
            snprintf(path, sizeof path, "guests.%zu.workload.depth", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected buffers (depth x size, %llu bytes) to fit in the "
                           "guest's free memory (%.0f bytes)", path,
                           (unsigned long long)buffers, room);
        }
    }
    if (total > MAX_TOTAL_MEMORY)
        scn_errors_add(errs, scn_mark_of(doc, "guests"),
                       "guests: expected at most 256 GiB of guest memory in all "
                       "(count x memory.size), found %llu bytes", (unsigned long long)total);
}

static void check_variant_names(const system_config *cfg, const scn_doc *doc,
                                scn_errors *errs)
{
    for (size_t i = 0; i < cfg->nvariants; i++) {
        for (size_t j = 0; j < i; j++) {
            const char *a = system_variant_name(&cfg->variants[i]);
            if (strcmp(a, system_variant_name(&cfg->variants[j])) != 0)
                continue;
            char path[64];
            snprintf(path, sizeof path, "variants.%zu", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected a name not used by another variant, found '%s' "
                           "(also variants.%zu; give one a name)", path, a, j);
        }
    }
}

/* A polled ring needs a backend that polls, and a polled used ring a
 * vCPU that polls: nothing else would notice. */
static void check_fabric(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    for (size_t v = 0; v < cfg->nvariants; v++) {
        const fabric_config *f = &cfg->variants[v].fabric;
        char where[32], path[64];
        snprintf(where, sizeof where, "variants.%zu", v);
        if (f->kick == FABRIC_KICK_POLL && f->backend != FABRIC_POLL) {
            snprintf(path, sizeof path, "%s.fabric.backend", where);
            scn_errors_add(errs, scn_mark_of(doc, where),
                           "%s: expected poll, as fabric.kick is poll (a ring no exit "
                           "announces needs a polling backend), found halt", path);
        }
        if (f->completion == FABRIC_COMPLETE_POLL && f->vcpu_idle != FABRIC_POLL) {
            snprintf(path, sizeof path, "%s.fabric.vcpu_idle", where);
            scn_errors_add(errs, scn_mark_of(doc, where),
                           "%s: expected poll, as fabric.completion is poll (a halted "
                           "vCPU cannot poll its used ring), found halt", path);
        }
    }
}

/* Attach and detach must alternate per peer, starting with a detach (every
 * peer is attached at the start), and happen within the run. */
static void check_ivshmem_events(const system_config *cfg, const scn_doc *doc,
                                 scn_errors *errs)
{
    const ivshmem_config *iv = &cfg->ivshmem;
    /* On the stack: a check that could fail for want of memory would let
     * a bad scenario through. The schema caps peers. */
    uint8_t live[IVSHMEM_MAX_PEERS];
    memset(live, 1, sizeof live);
    for (size_t i = 0; i < iv->nevents; i++) {
        const ivshmem_event *e = &iv->events[i];
        char path[64];
        snprintf(path, sizeof path, "ivshmem.events.%zu", i);
        if (e->peer >= iv->peers) {
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.peer: expected a peer id below ivshmem.peers (%llu), found %llu",
                           path, (unsigned long long)iv->peers, (unsigned long long)e->peer);
            continue;
        }
        if (e->at >= cfg->run.duration)
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.at: expected a time within run.duration, found %llu cycles",
                           path, (unsigned long long)e->at);
        if (i > 0 && e->at < iv->events[i - 1].at)
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.at: expected events in time order", path);
        int attach = e->action == IVSHMEM_ATTACH;
        if (attach == live[e->peer])
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s.action: expected %s, as peer %llu is %s then", path,
                           attach ? "detach" : "attach", (unsigned long long)e->peer,
                           attach ? "attached" : "detached");
        live[e->peer] = (uint8_t)attach;
    }
}

static void check_ivshmem(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    const ivshmem_config *iv = &cfg->ivshmem;
    if (cfg->nguests == 0 && iv->peers == 0 && cfg->microbench.op == MB_NONE)
        scn_errors_add(errs, scn_mark_of(doc, system_given(doc, "guests") ? "guests" : "name"),
                       "guests: expected at least one guest class, ivshmem peers or a "
                       "microbench loop, found none");
    if (iv->peers == 0)
        return;
    uint32_t cap = ivshmem_max_peers(iv->layout);
    if (iv->peers > cap)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.peers"),
                       "ivshmem.peers: expected at most %u peers with layout %s (its "
                       "IVLiveList has %u bits%s), found %llu", cap,
                       iv->layout == IVSHMEM_16BIT ? "16bit" : "32bit", cap,
                       iv->layout == IVSHMEM_16BIT ? "; layout: 32bit lifts the cap" : "",
                       (unsigned long long)iv->peers);
    if (iv->pattern == IVSHMEM_PINGPONG && iv->peers % 2)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.peers"),
                       "ivshmem.peers: expected an even number for pattern pingpong "
                       "(peers pair up), found %llu", (unsigned long long)iv->peers);
    if (iv->peers < 2)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.peers"),
                       "ivshmem.peers: expected at least 2 peers, found %llu",
                       (unsigned long long)iv->peers);
    if (iv->shared_memory & (iv->shared_memory - 1))
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.shared_memory"),
                       "ivshmem.shared_memory: expected a power of two, found %llu bytes",
                       (unsigned long long)iv->shared_memory);
    if (iv->size > iv->shared_memory / iv->peers)
        scn_errors_add(errs, scn_mark_of(doc, "ivshmem.size"),
                       "ivshmem.size: expected a message to fit in a peer's share of "
                       "shared memory (%llu bytes), found %llu bytes",
                       (unsigned long long)(iv->shared_memory / iv->peers),
                       (unsigned long long)iv->size);
    check_ivshmem_events(cfg, doc, errs);
}

/* ---- what the paths of a variant use ------------------------------------ */

static uint64_t bit(vmm_cost_id id)
{
    return 1ull << id;
}

/* Each class needs what its transport's paths and scheme charge, and
 * its vCPUs' idling. */
static uint64_t guests_need(const system_config *cfg, const variant_config *v)
{
    uint64_t m = fabric_idle_needs(v->fabric.vcpu_idle == FABRIC_POLL);
    for (size_t i = 0; i < cfg->nguests; i++) {
        const guest_config *g = &cfg->guests[i];
        m |= transport_of(g->transport)->needs(cfg, g, v);
    }
    return m;
}

/* Peers may be messaged at any time, so they may be running the guest. */
static uint64_t ivshmem_needs(const system_config *cfg, const fabric_config *f, int eoi)
{
    const ivshmem_config *iv = &cfg->ivshmem;
    fabric_receiver r = {.may_run = 1, .may_halt = f->vcpu_idle == FABRIC_HALT};
    uint64_t m = bit(VMM_COST_copy_per_kib) |
                 fabric_path_needs(fabric_kick_path(FABRIC_KICK_MMIO, f->handler), 0) |
                 fabric_delivery_needs(f, r, eoi) | fabric_idle_needs(f->vcpu_idle == FABRIC_POLL);
    if (f->interrupts == FABRIC_INTX || f->mask || iv->nevents > 0)
        m |= fabric_path_needs(FABRIC_PATH_MMIO_USER, 0);
    if (f->interrupts == FABRIC_INTX || f->handler == FABRIC_USERSPACE)
        m |= bit(VMM_COST_eventfd_signal) |
             (f->backend == FABRIC_HALT ? bit(VMM_COST_wakeup) : 0);
    return m;
}

static uint64_t microbench_needs(const microbench_config *mb, const fabric_config *f, int eoi,
                                 int pio_in)
{
    const fabric_receiver self = {0};      /* in the host when its own IPI leaves */
    switch (mb->op) {
    case MB_HYPERCALL:
        return fabric_path_needs(FABRIC_PATH_HYPERCALL, 0);
    case MB_IPI: {
        fabric_receiver target = {.may_run = mb->target == MB_RUNNING,
                           .may_halt = mb->target == MB_HALTED};
        return fabric_path_needs(FABRIC_PATH_IPI_SEND, 0) | fabric_delivery_needs(f, target, eoi) |
               fabric_idle_needs(mb->target == MB_RUNNING);
    }
    case MB_SELF_IPI:
        return fabric_path_needs(FABRIC_PATH_IPI_SEND, 0) | fabric_delivery_needs(f, self, eoi);
    case MB_HLT_PENDING:
        return fabric_path_needs(FABRIC_PATH_IPI_SEND, 0) | fabric_path_needs(FABRIC_PATH_HLT, 0) |
               fabric_delivery_needs(f, self, eoi);
    case MB_EOI:
        return eoi == VMM_EOI_EXIT ? fabric_path_needs(FABRIC_PATH_EOI, 0) : bit(VMM_COST_eoi_write);
    default:
        return fabric_path_needs(microbench_io_path(mb), pio_in);
    }
}

uint64_t system_needs(const system_config *cfg, const variant_config *v)
{
    int eoi = fabric_eoi_mode(&v->fabric, cfg->preset);
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t m = 0;
    if (cfg->nguests > 0)
        m |= guests_need(cfg, v);
    if (cfg->ivshmem.peers > 0)
        m |= ivshmem_needs(cfg, &v->fabric, eoi);
    if (cfg->microbench.op != MB_NONE)
        m |= microbench_needs(&cfg->microbench, &v->fabric, eoi, pio_in);
    if (cfg->host.cores > 0)
        m |= bit(VMM_COST_context_switch);
    return m;
}

/* A cost with no figure (the preset has none, the scenario gave none)
 * must be given if a variant's paths use it. */
static void check_needed_costs(const system_config *cfg, const scn_doc *doc,
                               scn_errors *errs)
{
    const vmm_preset *p = &vmm_presets[cfg->preset];
    for (int i = 0; i < VMM_COST_COUNT; i++) {
        if (vmm_cost_known(&cfg->costs, (vmm_cost_id)i))
            continue;
        for (size_t v = 0; v < cfg->nvariants; v++) {
            if (!(system_needs(cfg, &cfg->variants[v]) & bit((vmm_cost_id)i)))
                continue;
            scn_errors_add(errs, scn_mark_of(doc, "preset"),
                           "costs.%s: expected a value, as variant '%s' needs it: preset %s "
                           "has no published figure for it (docs/costs.md)",
                           vmm_cost_key((vmm_cost_id)i),
                           system_variant_name(&cfg->variants[v]), p->name);
            break;
        }
    }
}

/* ---- threads and cores ------------------------------------------------------ */

uint32_t system_threads(const system_config *cfg, const variant_config *v, uint32_t *polling)
{
    const fabric_config *f = &v->fabric;
    uint64_t vcpus = 0, workers = system_uses_device(cfg) ? cfg->device.workers : 0;
    uint64_t backends = 0, backends_polling = 0;
    for (size_t c = 0; c < cfg->nguests; c++) {
        const guest_config *g = &cfg->guests[c];
        vcpus += g->count * g->vcpus;
        const transport_ops *t = transport_of(g->transport);
        uint32_t poll = 0;
        if (t->threads) {
            backends += g->count * t->threads(g, v, &poll);
            backends_polling += g->count * poll;
        }
    }
    uint64_t peers = cfg->ivshmem.peers;
    uint64_t models = ivshmem_threads(&cfg->ivshmem, f) - peers;
    uint32_t mb = microbench_vcpus(&cfg->microbench);
    if (polling)
        *polling = (uint32_t)((f->vcpu_idle == FABRIC_POLL ? vcpus + peers : 0) +
                              (f->backend == FABRIC_POLL ? workers + models : 0) +
                              backends_polling + (mb > 0) +
                              (mb > 1 && cfg->microbench.target == MB_RUNNING));
    return (uint32_t)(vcpus + workers + peers + models + backends + mb);
}

/* A polling thread owns a core for the whole run. */
static void check_cores(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    if (cfg->host.cores == 0)
        return;
    for (size_t v = 0; v < cfg->nvariants; v++) {
        uint32_t polling;
        system_threads(cfg, &cfg->variants[v], &polling);
        if (polling <= cfg->host.cores)
            continue;
        scn_errors_add(errs, scn_mark_of(doc, "host.cores"),
                       "host.cores: expected at least %u cores, as variant '%s' has %u "
                       "polling threads and each owns a core, found %llu",
                       polling, system_variant_name(&cfg->variants[v]), polling,
                       (unsigned long long)cfg->host.cores);
        return;
    }
}

/* ---- the least time a loop can take ------------------------------------------- */

static void zero_loop(scn_errors *errs, const scn_doc *doc, const char *path, const char *what,
                      const variant_config *v)
{
    scn_errors_add(errs, scn_mark_of(doc, path),
                   "%s: expected %s of at least one cycle under variant '%s' (its paths "
                   "and times are all 0), found 0 cycles; give a cost or a think time",
                   path, what, system_variant_name(v));
}

/* The least cycles of one request of guest class `i`, by its transport. */
static uint64_t guest_least(const system_config *cfg, const variant_config *v, size_t i)
{
    const guest_config *g = &cfg->guests[i];
    return transport_of(g->transport)->least(cfg, g, v);
}

/* The least cycles of one ivshmem message: copy in, the doorbell up to
 * its signal, delivery and EOI; a round adds the think time. */
static uint64_t ivshmem_least(const system_config *cfg, const variant_config *v)
{
    const vmm_costs *c = &cfg->costs;
    const fabric_config *f = &v->fabric;
    fabric_receiver r = {.may_run = 1, .may_halt = f->vcpu_idle == FABRIC_HALT};
    int doorbell = fabric_kick_path(FABRIC_KICK_MMIO, f->handler);
    return c->copy_per_kib + fabric_exit_of(c, doorbell, 0).to_signal +
           fabric_least_delivery(c, f, r, fabric_eoi_mode(f, cfg->preset)) + cfg->ivshmem.think;
}

static uint64_t microbench_least(const system_config *cfg, const variant_config *v)
{
    const vmm_costs *c = &cfg->costs;
    const microbench_config *mb = &cfg->microbench;
    int eoi = fabric_eoi_mode(&v->fabric, cfg->preset);
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t eoi_cost = eoi == VMM_EOI_EXIT ? fabric_whole(c, FABRIC_PATH_EOI, 0) : c->eoi_write;
    switch (mb->op) {
    case MB_HYPERCALL:
        return fabric_whole(c, FABRIC_PATH_HYPERCALL, 0);
    case MB_IPI: case MB_SELF_IPI: case MB_HLT_PENDING:
        return fabric_whole(c, FABRIC_PATH_IPI_SEND, 0);
    case MB_EOI:
        return eoi_cost;
    default:
        return fabric_whole(c, microbench_io_path(mb), pio_in);
    }
}

static void check_microbench(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    const microbench_config *mb = &cfg->microbench;
    if (mb->op == MB_NONE)
        return;
    int io = mb->op >= MB_PIO_READ && mb->op <= MB_MMIO_WRITE;
    if (io && microbench_io_path(mb) < 0) {
        scn_errors_add(errs, scn_mark_of(doc, "microbench.handler"),
                       "microbench.handler: expected kernel or userspace for a read (an "
                       "ioeventfd takes writes only), found ioeventfd");
        return;
    }
}

/* Loops that take no time would run forever at time 0. */
static void check_progress(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    for (size_t v = 0; v < cfg->nvariants; v++) {
        const variant_config *var = &cfg->variants[v];
        for (size_t i = 0; i < cfg->nguests; i++) {
            if (guest_least(cfg, var, i) > 0)
                continue;
            char path[64];
            snprintf(path, sizeof path, "guests.%zu.workload", i);
            zero_loop(errs, doc, path, "a request cycle", var);
            break;
        }
        if (cfg->ivshmem.peers > 0 && ivshmem_least(cfg, var) == 0)
            zero_loop(errs, doc, "ivshmem", "a round", var);
        if (cfg->microbench.op != MB_NONE &&
            microbench_least(cfg, var) + cfg->microbench.gap == 0)
            zero_loop(errs, doc, "microbench", "an iteration", var);
    }
}

/* A loop of `loops` in parallel, each at least `least` cycles long and
 * some `events` kernel events each, over `duration`: at most this many
 * events. */
static double loop_events(double duration, double loops, uint64_t least, double events)
{
    return duration / (double)(least ? least : 1) * loops * events;
}

/* About the most events guest class `i` takes: its slots' loops, and in
 * an open loop no more requests than arrive, plus an event an arrival (a
 * burst's arrive at once). */
static double guest_events(const system_config *cfg, const variant_config *v, size_t i)
{
    const guest_config *g = &cfg->guests[i];
    const guest_workload_config *w = &g->workload;
    double duration = (double)cfg->run.duration;
    double loops = loop_events(duration, (double)(g->count * w->depth), guest_least(cfg, v, i), 8);
    if (!workload_open(w))
        return loops;
    double arrivals = duration / (double)cfg->clock_hz * w->rate * (double)g->count;
    double requests = arrivals * 8 < loops ? arrivals * 8 : loops;
    return requests + arrivals / (w->arrival == WORKLOAD_BURST ? (double)w->burst : 1.0);
}

/* About the most events the fastest of each loop allows; the CLI warns
 * before a run that could take very long. Each request or message takes
 * some 8 events (items on the vCPU and the worker, the interrupt). */
double system_event_bound(const system_config *cfg)
{
    double total = 0, duration = (double)cfg->run.duration;
    for (size_t v = 0; v < cfg->nvariants; v++) {
        const variant_config *var = &cfg->variants[v];
        for (size_t i = 0; i < cfg->nguests; i++)
            total += guest_events(cfg, var, i);
        if (cfg->ivshmem.peers > 0)
            total += loop_events(duration, (double)cfg->ivshmem.peers,
                                 ivshmem_least(cfg, var), 8);
        if (cfg->microbench.op != MB_NONE)
            total += (double)cfg->microbench.iterations * 8;
    }
    return (total + vpio_event_bound(cfg)) * (double)cfg->run.replications;
}

/* A transport's block belongs to classes using that transport; each
 * transport checks its own. */
static void check_transports(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    static const struct {
        const char *key;
        int transport;
    } blocks[] = {{"packet_port", TRANSPORT_PACKET_PORT}, {"lguest", TRANSPORT_LGUEST},
                  {"virtio", TRANSPORT_VIRTIO}, {"vpio", TRANSPORT_VPIO}};
    for (size_t i = 0; i < cfg->nguests; i++) {
        const guest_config *g = &cfg->guests[i];
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            char path[64];
            snprintf(path, sizeof path, "guests.%zu.%s", i, blocks[b].key);
            if (g->transport == blocks[b].transport || !system_given(doc, path))
                continue;
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected no %s block, as guests.%zu.transport is %s (the "
                           "block configures transport %s)", path, blocks[b].key, i,
                           transport_names[g->transport], transport_names[blocks[b].transport]);
        }
        const transport_ops *t = transport_of(g->transport);
        if (t->check)
            t->check(cfg, i, doc, errs);
    }
}

static void check_guest_names(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    for (size_t i = 0; i < cfg->nguests; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->guests[i].name, cfg->guests[j].name) != 0)
                continue;
            char path[64];
            snprintf(path, sizeof path, "guests.%zu.name", i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected a name not used by another guest class, "
                           "found '%s' (also guests.%zu.name)",
                           path, cfg->guests[i].name, j);
        }
    }
}

/* A backend this pvsim was built without is an error at its key. */
static void check_backend(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    if (!sim_kernel_backend_built((sim_backend_kind)cfg->backend))
        scn_errors_add(errs, scn_mark_of(doc, "backend"),
                       "backend: expected native (this pvsim was built without SystemC: "
                       "install libsystemc-dev and configure with -DPVSIM_SYSTEMC=ON), "
                       "found systemc");
}

/* A TLM device needs the bridge, the SystemC kernel to call it from, and
 * a target by that name; each is an error at the key that asks. */
static void check_device(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    if (cfg->device.model != LOOPBACK_MODEL_TLM || !system_uses_device(cfg))
        return;
    if (!tlm_bridge_built())
        scn_errors_add(errs, scn_mark_of(doc, "device.model"),
                       "device.model: expected loopback (this pvsim was built without "
                       "SystemC: install libsystemc-dev and configure with "
                       "-DPVSIM_SYSTEMC=ON), found tlm");
    else if (cfg->backend != SIM_BACKEND_SYSTEMC)
        scn_errors_add(errs, scn_mark_of(doc, "device.model"),
                       "device.model: expected loopback with backend native (a TLM-2.0 "
                       "target runs inside the SystemC kernel: set backend: systemc), "
                       "found tlm");
    else if (!tlm_bridge_has_target(cfg->device.target))
        scn_errors_add(errs, scn_mark_of(doc, "device.target"),
                       "device.target: expected a registered TLM-2.0 target such as "
                       "dma-block (docs/systemc.md), found '%s'", cfg->device.target);
}

/* Results write the seed as a JSON integer, which is signed 64-bit: a
 * larger seed would come back negative and could not be fed in again. */
static void check_seed(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    if (cfg->seed > INT64_MAX)
        scn_errors_add(errs, scn_mark_of(doc, "seed"),
                       "seed: expected at most %lld (results write it as a JSON integer), "
                       "found %llu", (long long)INT64_MAX, (unsigned long long)cfg->seed);
}

/* The scenario's name names its results file (NAME.json): letters,
 * digits, '.', '_' and '-', not starting with '.', so two names never
 * become one file and none leaves the directory. */
static void check_name(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    for (const char *p = cfg->name; p && *p; p++) {
        unsigned char ch = (unsigned char)*p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
                 (ch == '.' && p != cfg->name);
        if (ok)
            continue;
        char shown[16];
        if (ch > 0x20 && ch < 0x7f)
            snprintf(shown, sizeof shown, "'%c'", ch);
        else
            snprintf(shown, sizeof shown, "byte 0x%02x", ch);
        scn_errors_add(errs, scn_mark_of(doc, "name"),
                       "name: expected letters, digits, '.', '_' or '-' (it names the results "
                       "file, and may not start with '.'), found %s at character %zu",
                       shown, (size_t)(p - cfg->name) + 1);
        return;
    }
}

void system_check(const system_config *cfg, const scn_doc *doc, scn_errors *errs)
{
    for (size_t i = 0; i < cfg->nguests; i++)
        workload_check(&cfg->guests[i].workload, i, doc, errs);
    check_name(cfg, doc, errs);
    check_seed(cfg, doc, errs);
    check_backend(cfg, doc, errs);
    check_device(cfg, doc, errs);
    check_fabric(cfg, doc, errs);
    check_ivshmem(cfg, doc, errs);
    check_totals(cfg, doc, errs);
    check_memory(cfg, doc, errs);
    check_variant_names(cfg, doc, errs);
    check_guest_names(cfg, doc, errs);
    check_transports(cfg, doc, errs);
    vpio_check_device(cfg, doc, errs);
    check_cores(cfg, doc, errs);
    if (cfg->run.warmup >= cfg->run.duration)
        scn_errors_add(errs, scn_mark_of(doc, "run.warmup"),
                       "run.warmup: expected less than run.duration (%llu cycles), "
                       "found %llu cycles",
                       (unsigned long long)cfg->run.duration,
                       (unsigned long long)cfg->run.warmup);
    /* What the paths need, and the time they take, assume the rest holds. */
    if (errs->count == 0)
        check_microbench(cfg, doc, errs);
    if (errs->count == 0)
        check_needed_costs(cfg, doc, errs);
    if (errs->count == 0)
        check_progress(cfg, doc, errs);
}
