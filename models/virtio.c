/*
 * virtio.c -- the virtio-pci transport of virtio.h, the guest's side: the
 * scenario block, building an instance (its devices' rings in the guest's
 * memory, their backend threads), probing devices at start and at
 * hotplug, and the driver: it adds a request's chain to the available
 * ring, kicks unless the device said it need not, and reclaims used
 * entries from its interrupt handler (or its polls), turning interrupts
 * off while it works as Linux's virtqueue callbacks do. virtio_dev.c is
 * the device's backend, virtio_check.c what a scenario must give.
 */
#include <stdlib.h>
#include <string.h>

#include "models/virtio_int.h"

/* ---- schema --------------------------------------------------------------- */

static const scn_field offer_fields[] = {
    {.key = "event_idx", .type = SCN_BOOL, .offset = SCN_AT(virtio_features, event_idx, bool),
     .def = "true", .doc = "VIRTIO_RING_F_EVENT_IDX: suppression by ring indices"},
    {.key = "hypercall_kick", .type = SCN_BOOL,
     .offset = SCN_AT(virtio_features, hypercall_kick, bool), .def = "false",
     .doc = "the hypervisor-specific kick (feature bit 24 here)"},
};

static const scn_schema offer_schema = {
    .name = "offer", .size = sizeof(virtio_features), .fields = offer_fields,
    .nfields = sizeof offer_fields / sizeof offer_fields[0],
};

static const scn_field accept_fields[] = {
    {.key = "event_idx", .type = SCN_BOOL, .offset = SCN_AT(virtio_features, event_idx, bool),
     .def = "true", .doc = "the driver takes EVENT_IDX when offered"},
    {.key = "hypercall_kick", .type = SCN_BOOL,
     .offset = SCN_AT(virtio_features, hypercall_kick, bool), .def = "true",
     .doc = "the driver takes the hypercall kick when offered"},
};

static const scn_schema accept_schema = {
    .name = "accept", .size = sizeof(virtio_features), .fields = accept_fields,
    .nfields = sizeof accept_fields / sizeof accept_fields[0],
};

static const scn_field hotplug_fields[] = {
    {.key = "at", .type = SCN_DURATION, .offset = SCN_AT(virtio_hotplug, at, uint64_t),
     .max = 1e16, .def = "0", .doc = "when the devices appear"},
    {.key = "devices", .type = SCN_U64, .offset = SCN_AT(virtio_hotplug, devices, uint64_t),
     .max = 65535, .def = "0", .doc = "devices hotplugged then"},
};

static const scn_schema hotplug_schema = {
    .name = "hotplug", .size = sizeof(virtio_hotplug), .fields = hotplug_fields,
    .nfields = sizeof hotplug_fields / sizeof hotplug_fields[0],
};

static const char *const kick_names[] = {"pio", "mmio", "hypercall", NULL};
static const char *const call_names[] = {"inline", "indirect", NULL};
static const char *const config_names[] = {"cf8", "ecam", NULL};

static const scn_field virtio_fields[] = {
    {.key = "queue_size", .type = SCN_U64, .offset = SCN_AT(virtio_config, queue_size, uint64_t),
     .min = 2, .max = VIRTQ_MAX_SIZE, .def = "256",
     .doc = "descriptors in each device's virtqueue: a power of two"},
    {.key = "devices", .type = SCN_U64, .offset = SCN_AT(virtio_config, devices, uint64_t),
     .min = 1, .max = 65535, .def = "1",
     .doc = "virtio devices at start; request slot i uses device i mod all devices"},
    {.key = "functions", .type = SCN_U64, .offset = SCN_AT(virtio_config, functions, uint64_t),
     .min = 1, .max = PCI_FUNCTIONS, .def = "1",
     .doc = "devices per PCI slot (more than 1: multifunction)"},
    {.key = "config", .type = SCN_ENUM, .offset = SCN_AT(virtio_config, config_access, int),
     .def = "cf8", .enum_names = config_names,
     .doc = "configuration-space accesses: cf8 (two port I/O exits each) or ecam (one "
            "MMIO exit)"},
    {.key = "kick", .type = SCN_ENUM, .offset = SCN_AT(virtio_config, kick, int),
     .def = "pio", .enum_names = kick_names,
     .doc = "how the driver kicks; hypercall needs the feature effective, else pio"},
    {.key = "call", .type = SCN_ENUM, .offset = SCN_AT(virtio_config, call, int),
     .def = "inline", .enum_names = call_names,
     .doc = "the hypercall kick patched inline by paravirt_ops, or an indirect call "
            "(costs.indirect_call)"},
    {.key = "offer", .type = SCN_STRUCT, .offset = offsetof(virtio_config, offer),
     .sub = &offer_schema, .doc = "features the device offers"},
    {.key = "accept", .type = SCN_STRUCT, .offset = offsetof(virtio_config, accept),
     .sub = &accept_schema, .doc = "features the driver accepts when offered"},
    {.key = "fixed", .type = SCN_DURATION, .offset = SCN_AT(virtio_config, fixed, uint64_t),
     .max = 1e12, .def = "0", .doc = "the device's service per request, on its backend"},
    {.key = "per_byte", .type = SCN_DOUBLE, .offset = SCN_AT(virtio_config, per_byte, double),
     .min = 0, .max = 1e6, .def = "0", .doc = "and per byte of the request"},
    {.key = "poll_budget", .type = SCN_DURATION,
     .offset = SCN_AT(virtio_config, poll_budget, uint64_t), .max = 1e12, .def = "0",
     .doc = "the backend polls the ring this long, notifications off, before it sleeps "
            "(vhost's busy-poll; 0: it sleeps at once)"},
    {.key = "hotplug", .type = SCN_STRUCT, .offset = offsetof(virtio_config, hotplug),
     .sub = &hotplug_schema, .doc = "devices that appear during the run"},
};

const scn_schema virtio_schema = {
    .name = "virtio", .size = sizeof(virtio_config), .fields = virtio_fields,
    .nfields = sizeof virtio_fields / sizeof virtio_fields[0],
};

/* ---- shared rules --------------------------------------------------------- */

json_t *vio_feature_names(const virtio_features *f)
{
    json_t *a = json_array();
    if (a && f->event_idx && json_array_append_new(a, json_string("event_idx")))
        goto fail;
    if (a && f->hypercall_kick && json_array_append_new(a, json_string("hypercall_kick")))
        goto fail;
    return a;
fail:
    json_decref(a);
    return NULL;
}

int vio_effective_kick(const virtio_config *c)
{
    if (c->kick == VIRTIO_KICK_HYPERCALL &&
        !(c->offer.hypercall_kick && c->accept.hypercall_kick))
        return VIRTIO_KICK_PIO;
    return c->kick;
}

int vio_kick_path(int kick, const fabric_config *f)
{
    static const int kinds[] = {FABRIC_KICK_PIO, FABRIC_KICK_MMIO, FABRIC_KICK_HYPERCALL};
    return fabric_kick_path(kinds[kick], f->handler);
}

uint32_t vio_devices(const virtio_config *c)
{
    return (uint32_t)(c->devices + c->hotplug.devices);
}

/* ---- probing ---------------------------------------------------------------- */

/* The accesses a driver makes to start one device: Linux's PCI core
 * reading the function's configuration space (pci_setup_device, BAR
 * sizing in __pci_read_base, pci_enable_device), then the legacy
 * virtio_pci driver's registers in BAR0 (reset, ACKNOWLEDGE, DRIVER, the
 * features, the queue, DRIVER_OK). */
enum { CFG, REG };
static const struct {
    int space, write;
} probe_seq[] = {
    {CFG, 0}, /* vendor and device id */
    {CFG, 0}, /* class and revision */
    {CFG, 0}, /* header type */
    {CFG, 0}, /* subsystem ids */
    {CFG, 0}, /* BAR0 */
    {CFG, 1}, /* BAR0: all ones, to size it */
    {CFG, 0}, /* BAR0: its size */
    {CFG, 1}, /* BAR0 restored */
    {CFG, 0}, /* interrupt pin and line */
    {CFG, 1}, /* command: I/O space and bus master on */
    {REG, 1}, /* status: reset */
    {REG, 1}, /* status: ACKNOWLEDGE */
    {REG, 1}, /* status: DRIVER */
    {REG, 0}, /* host features */
    {REG, 1}, /* guest features */
    {REG, 1}, /* queue select */
    {REG, 0}, /* queue size */
    {REG, 1}, /* queue pfn */
    {REG, 1}, /* status: DRIVER_OK */
};

#define PROBE_STEPS (sizeof probe_seq / sizeof probe_seq[0])

/* The exit paths of probe step `i`, at most two: *n of them. */
static void probe_paths(const virtio_config *c, size_t i, int paths[2], int *n)
{
    int rw = probe_seq[i].write ? FABRIC_PATH_PIO_WRITE_USER : FABRIC_PATH_PIO_READ_USER;
    *n = 1;
    if (probe_seq[i].space == REG) {
        paths[0] = rw;
    } else if (c->config_access == VIRTIO_CONFIG_ECAM) {
        paths[0] = FABRIC_PATH_MMIO_USER;
    } else {
        paths[0] = FABRIC_PATH_PIO_WRITE_USER;      /* the address, to 0xcf8 */
        paths[1] = rw;                              /* the data, at 0xcfc */
        *n = 2;
    }
}

uint32_t vio_probe_exits(const virtio_config *c)
{
    uint32_t n = 0;
    for (size_t i = 0; i < PROBE_STEPS; i++) {
        int paths[2], k;
        probe_paths(c, i, paths, &k);
        n += (uint32_t)k;
    }
    return n;
}

uint64_t vio_probe_cycles(const virtio_config *c, const vmm_costs *costs, int pio_in_emulated)
{
    uint64_t cycles = 0;
    for (size_t i = 0; i < PROBE_STEPS; i++) {
        int paths[2], k;
        probe_paths(c, i, paths, &k);
        for (int j = 0; j < k; j++)
            cycles += fabric_whole(costs, paths[j], pio_in_emulated);
    }
    return cycles;
}

static void admit(vio *v, vdev *d);

/* The probe's last access returned: the device serves. The probe counts
 * in the window it ends in. */
static void device_up(sim_kernel *k, void *ctx, uint64_t dev)
{
    (void)k;
    vio *v = ctx;
    v->env.stats->probe_exits += vio_probe_exits(v->cfg);
    v->env.stats->probe_cycles += vio_probe_cycles(v->cfg, v->env.costs,
                                                   v->env.pio_in_emulated);
    v->devs[dev].up = 1;
    admit(v, &v->devs[dev]);
}

/* The driver probes device `dev` from vCPU 0; it serves once probed. */
static void probe(vio *v, uint32_t dev)
{
    vcpu *cpu = v->env.vcpus[0];
    const vcpu_call none = {0};
    for (size_t i = 0; i < PROBE_STEPS; i++) {
        int paths[2], n;
        probe_paths(v->cfg, i, paths, &n);
        for (int j = 0; j < n; j++) {
            int last = i + 1 == PROBE_STEPS && j + 1 == n;
            vcpu_exit(cpu, paths[j], none, last ? (vcpu_call){device_up, v, dev} : none, NULL,
                      NULL);
        }
    }
}

static void hotplug(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vio *v = ctx;
    for (uint32_t d = (uint32_t)v->cfg->devices; d < v->ndev; d++)
        probe(v, d);
}

/* ---- building ------------------------------------------------------------------ */

static void destroy(transport *t)
{
    vio *v = (vio *)t;
    if (!v)
        return;
    for (uint32_t i = 0; v->devs && i < v->ndev; i++) {
        free(v->devs[i].free_next);
        free(v->devs[i].head_slot);
        sim_ring_fini(&v->devs[i].waiting);
    }
    free(v->devs);
    free(v->slots);
    free(v->chain);
    free(v);
}

/* The ring's bytes: the descriptor table and the available ring, then
 * the used ring from the next 4 KiB boundary, in one contiguous block of
 * the guest's memory (the legacy queue PFN names its start). */
static int place_ring(vio *v, vdev *d)
{
    uint64_t n = v->cfg->queue_size;
    uint64_t first = n * VIRTQ_DESC_SIZE + 6 + 2 * n;
    uint64_t used_at = (first + 4095) / 4096 * 4096;
    uint64_t bytes = used_at + 6 + 8 * n;
    unsigned order = 0;
    while ((4096ull << order) < bytes)
        order++;
    uint64_t frame;
    int rc = guestmem_alloc(v->env.mem, order, &frame);
    if (rc)
        return rc;
    d->desc = frame << GM_FRAME_SHIFT;
    d->avail = d->desc + n * VIRTQ_DESC_SIZE;
    d->used = d->desc + used_at;
    return 0;
}

static int build_device(vio *v, uint32_t i)
{
    vdev *d = &v->devs[i];
    uint64_t n = v->cfg->queue_size;
    d->owner = v;
    d->index = i;
    d->free_next = calloc(n, sizeof *d->free_next);
    d->head_slot = calloc(n, sizeof *d->head_slot);
    if (!d->free_next || !d->head_slot || sim_ring_init(&d->waiting, sizeof(uint32_t)))
        return SIM_ENOMEM;
    for (uint64_t k = 0; k < n; k++)
        d->free_next[k] = (uint16_t)(k + 1);
    d->num_free = (uint16_t)n;
    d->thread = cores_add_thread(v->env.cores, "virtio", v->polling_backend);
    if (!d->thread)
        return SIM_ENOMEM;
    int rc = place_ring(v, d);
    return rc ? rc : vdev_start(d);
}

static transport *create(const transport_env *env, int *rc)
{
    vio *v = calloc(1, sizeof *v);
    *rc = SIM_ENOMEM;
    if (!v)
        return NULL;
    v->env = *env;
    v->cfg = &env->cfg->virtio;
    v->event_idx = v->cfg->offer.event_idx && v->cfg->accept.event_idx;
    v->kick = vio_effective_kick(v->cfg);
    v->kick_path = vio_kick_path(v->kick, env->fabric);
    v->kick_to_signal = fabric_exit_of(env->costs, v->kick_path, env->pio_in_emulated).to_signal;
    v->polling_backend = env->fabric->backend == FABRIC_POLL;
    v->poll_completion = env->fabric->completion == FABRIC_COMPLETE_POLL;
    v->ndev = vio_devices(v->cfg);
    v->devs = calloc(v->ndev, sizeof *v->devs);
    v->slots = calloc(env->cfg->workload.depth, sizeof *v->slots);
    v->chain = calloc(v->cfg->queue_size, sizeof *v->chain);
    if (!v->devs || !v->slots || !v->chain) {
        destroy((transport *)v);
        return NULL;
    }
    for (uint64_t s = 0; s < env->cfg->workload.depth; s++)
        v->slots[s].dev = (uint32_t)(s % v->ndev);
    for (uint32_t i = 0; i < v->ndev; i++) {
        *rc = build_device(v, i);
        if (*rc) {
            destroy((transport *)v);
            return NULL;
        }
    }
    *rc = 0;
    return (transport *)v;
}

/* ---- the driver: adding requests ------------------------------------------------- */

/* Descriptors a request of `bytes` takes: one per guest page. */
static uint16_t chain_length(const vio *v, uint64_t bytes)
{
    uint64_t page = 4096ull << guestmem_page_order(v->env.mem);
    return (uint16_t)((bytes + page - 1) / page);
}

/* Takes `n` free descriptors, linked as a chain; the head's index. */
static uint16_t take_chain(vdev *d, uint16_t n, uint16_t *idx)
{
    for (uint16_t i = 0; i < n; i++) {
        idx[i] = d->free_head;
        d->free_head = d->free_next[d->free_head];
    }
    d->num_free = (uint16_t)(d->num_free - n);
    return idx[0];
}

/* Writes the chain over the buffer's pages: one descriptor a page, by
 * guest-physical address, the device reading them. */
static void write_chain(vio *v, vdev *d, const uint64_t *frames, uint16_t n, uint64_t bytes,
                        uint64_t page, const uint16_t *idx)
{
    for (uint16_t i = 0; i < n; i++) {
        uint64_t at = d->desc + (uint64_t)idx[i] * VIRTQ_DESC_SIZE;
        uint64_t len = bytes < page ? bytes : page;
        vring_write64(v, at, frames[i] << GM_FRAME_SHIFT);
        vring_write32(v, at + 8, (uint32_t)len);
        vring_write16(v, at + 12, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
        vring_write16(v, at + 14, i + 1 < n ? idx[i + 1] : 0);
        bytes -= len;
    }
}

/* Whether the driver must kick after adding (virtqueue_kick_prepare). */
static int must_kick(vio *v, vdev *d)
{
    uint16_t old = (uint16_t)(d->avail_idx - d->added);
    d->added = 0;
    if (v->event_idx)
        return virtq_need_event(vring_read16(v, vring_avail_event(d)), d->avail_idx, old);
    return !(vring_read16(v, vring_used_flags(d)) & VIRTQ_USED_F_NO_NOTIFY);
}

/* The kick reached the backend. It is the request's notification only
 * if the backend had not taken the request already: a busy backend may
 * have seen the new entry before the kick's exit ran. */
static void kick_signalled(sim_kernel *k, void *ctx, uint64_t slot)
{
    vio *v = ctx;
    vio_slot *s = &v->slots[slot];
    if (!s->served) {
        io_request *r = &v->env.requests[slot];
        r->parts.notify += s->kick_cycles;
        r->parts.scheduling += s->kick_sched;
    }
    vdev_kicked(k, v, s->dev);
}

static void kick(vio *v, io_request *r)
{
    const vcpu_call none = {0};
    vio_slot *s = &v->slots[r->slot];
    v->env.stats->kicks++;
    s->kick_cycles = v->kick_to_signal;
    s->kick_sched = 0;
    if (v->kick == VIRTIO_KICK_HYPERCALL && v->cfg->call == VIRTIO_CALL_INDIRECT) {
        s->kick_cycles += v->env.costs->indirect_call;
        vcpu_guest(r->cpu, v->env.costs->indirect_call, none, &s->kick_sched);
    }
    vcpu_exit(r->cpu, v->kick_path, (vcpu_call){kick_signalled, v, r->slot}, none, NULL,
              &s->kick_sched);
}

/* The request's chain into the available ring, then the kick if due. */
static void add(vio *v, vdev *d, io_request *r)
{
    if (transport_describe(&v->env, r))
        return;
    uint32_t n;
    const uint64_t *frames = v->env.scheme->page_list(v->env.buffers, r->slot, &n);
    if (chain_length(v, r->bytes) < n)
        n = chain_length(v, r->bytes);
    vio_slot *s = &v->slots[r->slot];
    s->head = take_chain(d, (uint16_t)n, v->chain);
    s->ndesc = (uint16_t)n;
    s->interrupted = 0;
    s->served = 0;
    uint64_t page = 4096ull << guestmem_page_order(v->env.mem);
    write_chain(v, d, frames, (uint16_t)n, r->bytes, page, v->chain);
    d->head_slot[s->head] = r->slot;
    vring_write16(v, vring_avail_ring(d, d->avail_idx), s->head);
    d->avail_idx++;
    d->added++;
    vring_write16(v, vring_avail_idx(d), d->avail_idx);
    vdev_added(d);
    if (must_kick(v, d))
        kick(v, r);
    else
        v->env.stats->kicks_suppressed++;
}

/* Counts, once each, the requests left waiting on an up device: they
 * wait for descriptors. */
static void note_ring_waits(vio *v, vdev *d)
{
    if (!d->up)
        return;
    for (uint32_t i = 0; i < sim_ring_len(&d->waiting); i++) {
        vio_slot *s = &v->slots[*(const uint32_t *)sim_ring_at(&d->waiting, i)];
        if (!s->ring_wait) {
            s->ring_wait = 1;
            v->env.stats->ring_waits++;
        }
    }
}

/* Sends what waited, in order, while the device is up and has room. */
static void admit(vio *v, vdev *d)
{
    while (d->up && sim_ring_len(&d->waiting)) {
        uint32_t slot = *(const uint32_t *)sim_ring_at(&d->waiting, 0);
        if (d->num_free < chain_length(v, v->env.requests[slot].bytes))
            break;
        sim_ring_pop(&d->waiting, &slot);
        add(v, d, &v->env.requests[slot]);
    }
    note_ring_waits(v, d);
}

static void send(transport *t, io_request *r)
{
    vio *v = (vio *)t;
    vdev *d = &v->devs[v->slots[r->slot].dev];
    v->slots[r->slot].ring_wait = 0;
    if (d->up && !sim_ring_len(&d->waiting) && d->num_free >= chain_length(v, r->bytes)) {
        add(v, d, r);
        return;
    }
    uint32_t slot = r->slot;
    if (sim_ring_push(&d->waiting, &slot))
        sim_fail(v->env.k, SIM_ENOMEM);
    note_ring_waits(v, d);
}

/* ---- the driver: used entries ------------------------------------------------------ */

/* Gives a served chain's descriptors back. */
static void free_chain(vio *v, vdev *d, uint16_t head)
{
    uint16_t i = head;
    for (;;) {
        uint64_t at = d->desc + (uint64_t)i * VIRTQ_DESC_SIZE;
        uint16_t flags = vring_read16(v, at + 12), next = vring_read16(v, at + 14);
        d->free_next[i] = d->free_head;
        d->free_head = i;
        d->num_free++;
        if (!(flags & VIRTQ_DESC_F_NEXT))
            return;
        i = next;
    }
}

/* Interrupts off while the driver works (virtqueue_disable_cb: the flag,
 * or, with EVENT_IDX, used_event pushed far ahead as Linux does), and on
 * again after (virtqueue_enable_cb: used_event = the next entry). */
static void disable_cb(vio *v, vdev *d)
{
    if (v->event_idx)
        vring_write16(v, vring_used_event(d), (uint16_t)(d->last_used + 0x7fff));
    else
        vring_write16(v, vring_avail_flags(d), VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static void enable_cb(vio *v, vdev *d)
{
    if (v->event_idx)
        vring_write16(v, vring_used_event(d), d->last_used);
    else
        vring_write16(v, vring_avail_flags(d), 0);
}

/* Completes every used entry; `cost` and `sched` are the path of the
 * interrupt that brought the driver here, the request's whose completion
 * raised it. */
static void reclaim(sim_kernel *k, vio *v, vdev *d, uint64_t cost, uint64_t sched)
{
    while (d->last_used != vring_read16(v, vring_used_idx(d))) {
        uint16_t head = (uint16_t)vring_read32(v, vring_used_elem(d, d->last_used));
        d->last_used++;
        uint32_t slot = d->head_slot[head];
        free_chain(v, d, head);
        io_request *r = &v->env.requests[slot];
        int raised = v->slots[slot].interrupted;
        r->parts.interrupt += raised ? cost : 0;
        r->parts.scheduling += r->io.sched_cycles + (raised ? sched : 0);
        v->env.stats->served++;
        v->env.guest.done(k, v->env.guest.ctx, r);
    }
}

void vio_driver_used(sim_kernel *k, void *ctx, uint64_t dev)
{
    vio *v = ctx;
    vdev *d = &v->devs[dev];
    uint64_t cost = d->irq_cost, sched = d->irq_sched;
    d->irq_pending = 0;
    disable_cb(v, d);
    do {
        reclaim(k, v, d, cost, sched);
        cost = sched = 0;
        enable_cb(v, d);
    } while (d->last_used != vring_read16(v, vring_used_idx(d)));
    admit(v, d);
}

static void poll_found(sim_kernel *k, void *ctx, uint64_t dev)
{
    vio *v = ctx;
    vdev *d = &v->devs[dev];
    d->poll_queued = 0;
    reclaim(k, v, d, 0, 0);
    admit(v, d);
}

void vio_poll_used(vio *v, vdev *d)
{
    if (d->poll_queued)
        return;
    d->poll_queued = 1;
    vcpu *cpu = v->env.vcpus[d->index % v->env.nvcpus];
    vcpu_guest(cpu, 0, (vcpu_call){poll_found, v, d->index}, NULL);
}

/* ---- lifecycle ------------------------------------------------------------------ */

/* The driver probes its devices; hotplugged ones come later. A driver
 * that polls for completions keeps interrupts off for good. */
static void start(transport *t)
{
    vio *v = (vio *)t;
    for (uint32_t d = 0; d < v->ndev; d++)
        if (v->poll_completion)
            disable_cb(v, &v->devs[d]);
    for (uint32_t d = 0; d < v->cfg->devices; d++)
        probe(v, d);
    if (v->cfg->hotplug.devices > 0 &&
        sim_schedule_at(v->env.k, v->cfg->hotplug.at, SIM_BAND_NORMAL, hotplug, v, 0, NULL))
        sim_fail(v->env.k, SIM_ENOMEM);
}

static void finish(transport *t, sim_time now)
{
    (void)t, (void)now;
}

const transport_ops transport_virtio = {
    .name = "virtio-pci",
    .create = create, .start = start, .send = send, .finish = finish, .destroy = destroy,
    .needs = vio_needs, .check = vio_check, .least = vio_least, .threads = vio_threads,
    .json = vio_stats_json,
};
