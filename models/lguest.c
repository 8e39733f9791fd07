/*
 * lguest.c -- the lguest transport of lguest.h, the guests' side: the
 * scenario block, building an instance (its device page, bound buffers
 * and send lguest_dmas in the guest's memory), and the drivers: a network
 * sender and its echo, a block driver that keeps one request in flight, a
 * console writer, and the interrupt handler that serves them all.
 * lguest_host.c is the host's side, lguest_check.c what a scenario must
 * give.
 *
 * lguest's Switcher was not KVM: its exits are priced on the scenario's
 * preset (the hypercall path, and the userspace round trip for the
 * Launcher), and its interrupts are delivered as the preset's vCPU
 * delivers them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/lguest_int.h"

/* ---- schema --------------------------------------------------------------- */

const char *const lg_device_names[] = {"net", "block", "console", NULL};
static const char *const role_names[] = {"send", "echo", NULL};
static const char *const on_full_names[] = {"drop", "wait", NULL};

static const scn_field disk_fields[] = {
    {.key = "latency", .type = SCN_DURATION, .offset = SCN_AT(lg_disk_config, latency, uint64_t),
     .max = 1e12, .def = "0", .doc = "the disk's time to start the transfer"},
    {.key = "per_byte", .type = SCN_DOUBLE, .offset = SCN_AT(lg_disk_config, per_byte, double),
     .min = 0, .max = 1e6, .def = "0", .doc = "and its cycles per byte transferred"},
};

static const scn_schema disk_schema = {
    .name = "disk", .size = sizeof(lg_disk_config), .fields = disk_fields,
    .nfields = sizeof disk_fields / sizeof disk_fields[0],
};

static const scn_field block_fields[] = {
    {.key = "read", .type = SCN_STRUCT, .offset = offsetof(lg_block_config, read),
     .sub = &disk_schema, .doc = "a read: the disk fills the guest's reply buffer"},
    {.key = "write", .type = SCN_STRUCT, .offset = offsetof(lg_block_config, write),
     .sub = &disk_schema, .doc = "a write: the disk takes the sections sent"},
    {.key = "sectors", .type = SCN_U64, .offset = SCN_AT(lg_block_config, sectors, uint64_t),
     .min = 1, .max = 1e12, .def = "2097152",
     .doc = "the disk's size in 512-byte sectors (default 1 GiB)"},
};

static const scn_schema block_schema = {
    .name = "block", .size = sizeof(lg_block_config), .fields = block_fields,
    .nfields = sizeof block_fields / sizeof block_fields[0],
};

static const scn_field console_fields[] = {
    {.key = "fixed", .type = SCN_DURATION, .offset = SCN_AT(lg_console_config, fixed, uint64_t),
     .max = 1e12, .def = "0", .doc = "the Launcher's work per write to its terminal"},
    {.key = "per_byte", .type = SCN_DOUBLE,
     .offset = SCN_AT(lg_console_config, per_byte, double), .min = 0, .max = 1e6, .def = "0",
     .doc = "and per byte written"},
};

static const scn_schema console_schema = {
    .name = "console", .size = sizeof(lg_console_config), .fields = console_fields,
    .nfields = sizeof console_fields / sizeof console_fields[0],
};

#define SHARE(field, text)                                                    \
    {.key = #field, .type = SCN_DOUBLE,                                       \
     .offset = SCN_AT(lg_misbehave_config, field, double), .min = 0, .max = 1, \
     .def = "0", .doc = text}

static const scn_field misbehave_fields[] = {
    SHARE(page_crossing, "share of lguest_dmas with a section that crosses a page"),
    SHARE(outside_section, "share with a section beyond the guest's memory"),
    SHARE(unbound_key, "share sent to a key nobody bound"),
};

#undef SHARE

static const scn_schema misbehave_schema = {
    .name = "misbehave", .size = sizeof(lg_misbehave_config), .fields = misbehave_fields,
    .nfields = sizeof misbehave_fields / sizeof misbehave_fields[0],
};

static const scn_field lguest_fields[] = {
    {.key = "device", .type = SCN_ENUM, .offset = SCN_AT(lguest_config, device, int),
     .def = "net", .enum_names = lg_device_names,
     .doc = "where requests go: net (another guest), block or console (the Launcher)"},
    {.key = "peer", .type = SCN_STRING, .offset = SCN_AT(lguest_config, peer, char *),
     .min = 1, .max = 64,
     .doc = "net: the guest class whose instance i this class's instance i talks to"},
    {.key = "role", .type = SCN_ENUM, .offset = SCN_AT(lguest_config, role, int),
     .def = "send", .enum_names = role_names,
     .doc = "net: send (requests wait for their echo) or echo (send back what arrives)"},
    {.key = "receive_buffers", .type = SCN_U64,
     .offset = SCN_AT(lguest_config, receive_buffers, uint64_t), .min = 1, .max = 40,
     .def = "8", .doc = "net: lguest_dmas bound for input (one page of them at most)"},
    {.key = "process", .type = SCN_DURATION, .offset = SCN_AT(lguest_config, process, uint64_t),
     .max = 1e12, .def = "0", .doc = "net echo: guest work on a message before echoing it"},
    {.key = "on_full", .type = SCN_ENUM, .offset = SCN_AT(lguest_config, on_full, int),
     .def = "drop", .enum_names = on_full_names,
     .doc = "net: a send that finds no free buffer is dropped (lguest's way) or sent "
            "again after run.retry"},
    {.key = "block", .type = SCN_STRUCT, .offset = offsetof(lguest_config, block),
     .sub = &block_schema, .doc = "device block: the disk behind the Launcher"},
    {.key = "console", .type = SCN_STRUCT, .offset = offsetof(lguest_config, console),
     .sub = &console_schema, .doc = "device console: the Launcher's terminal"},
    {.key = "remove_at", .type = SCN_DURATION,
     .offset = SCN_AT(lguest_config, remove_at, uint64_t), .max = 1e16, .def = "0",
     .doc = "block, console: when the host sets REMOVED on the device (0: never)"},
    {.key = "misbehave", .type = SCN_STRUCT, .offset = offsetof(lguest_config, misbehave),
     .sub = &misbehave_schema, .doc = "wrong lguest_dmas this guest sends"},
};

const scn_schema lguest_schema = {
    .name = "lguest", .size = sizeof(lguest_config), .fields = lguest_fields,
    .nfields = sizeof lguest_fields / sizeof lguest_fields[0],
};

/* ---- building ----------------------------------------------------------------- */

const guest_config *lg_class_named(const system_config *cfg, const char *name,
                                   size_t *index)
{
    for (size_t i = 0; name && i < cfg->nguests; i++)
        if (strcmp(cfg->guests[i].name, name) == 0) {
            *index = i;
            return &cfg->guests[i];
        }
    return NULL;
}

/* Bytes a net buffer holds: a sender's own messages, an echo's peer's. */
static uint64_t message_bytes(const lg *l)
{
    const system_config *cfg = l->host->cfg;
    size_t peer;
    if (l->cfg->role == LG_ECHO && lg_class_named(cfg, l->cfg->peer, &peer))
        return cfg->guests[peer].workload.size;
    return l->env.cfg->workload.size;
}

static void destroy(transport *t)
{
    lg *l = (lg *)t;
    if (!l)
        return;
    if (l->bound)
        lg_unbind(l->host, &l->binding);
    sim_ring_fini(&l->waiting);
    free(l->recv_gpa);
    free(l->taken);
    free(l->filled_at);
    free(l->send_gpa);
    free(l->slots);
    free(l);
}

/* One page of the guest's own memory. */
static int page(lg *l, uint64_t *gpa)
{
    uint64_t frame;
    int rc = guestmem_alloc(l->env.mem, 0, &frame);
    *gpa = frame << GM_FRAME_SHIFT;
    return rc;
}

/* The device page the Launcher writes (descriptor, block page), the bound
 * array, each slot's send lguest_dma and the receive buffers. */
static int place(lg *l)
{
    uint64_t first = 0, array = 0, sends = 0;
    int rc = page(l, &first);
    if (rc == 0)
        rc = page(l, &array);
    l->desc = first;
    l->page = first + 64;
    l->recv = array;
    const uint32_t per_page = LG_PAGE / LG_DMA_SIZE;
    for (uint64_t s = 0; rc == 0 && s < l->env.cfg->workload.depth; s++) {
        if (s % per_page == 0)
            rc = page(l, &sends);
        l->send_gpa[s] = sends + (s % per_page) * LG_DMA_SIZE;
    }
    for (uint32_t i = 0; rc == 0 && i < l->nrecv * l->recv_pages; i++)
        rc = page(l, &l->recv_gpa[i]);
    return rc;
}

/* What the Launcher writes before the guest boots: the descriptor and,
 * for a block device, the disk's size. */
static int write_device(lg *l)
{
    static const uint16_t types[] = {LG_DEV_NET, LG_DEV_BLOCK, LG_DEV_CONSOLE};
    unsigned char d[LG_DESC_SIZE] = {0};
    guestbytes_put16(d, types[l->cfg->device]);
    guestbytes_put16(d + 6, l->cfg->device == LG_BLOCK ? 1 : 0);
    guestbytes_put32(d + 8, (uint32_t)(l->desc >> GM_FRAME_SHIFT));
    int rc = lg_write_bytes(l, l->desc, d, sizeof d);
    if (rc == 0 && l->cfg->device == LG_BLOCK)
        rc = lg_write32(l, l->page + 16, (uint32_t)l->cfg->block.sectors);
    return rc;
}

/* The key the class's device is found by: a slot of the network's shared
 * page (the sender 0, its echo 1: lguest's peer_offset), the block page,
 * or the console's key 0. */
static lg_key device_key(const lg *l)
{
    const system_config *cfg = l->host->cfg;
    if (l->cfg->device == LG_NET) {
        size_t peer = l->cls;
        lg_class_named(cfg, l->cfg->peer, &peer);
        size_t low = peer < l->cls ? peer : l->cls;
        return (lg_key){SHARED_SPACE | (uint64_t)low << 32 | l->env.index,
                        l->cfg->role == LG_SEND ? 0u : 4u};
    }
    uint64_t space = ((uint64_t)l->cls << 32 | l->env.index) + 1;
    return (lg_key){space, l->cfg->device == LG_BLOCK ? l->page : 0};
}

/* BIND_DMA as the driver starts: net binds its receive buffers, block its
 * reply buffer (its sections are set per read). */
static int bind_buffers(lg *l)
{
    if (l->cfg->device == LG_CONSOLE)
        return 0;
    uint64_t bytes = message_bytes(l);
    for (uint32_t b = 0; b < l->nrecv; b++) {
        lg_dma d = {0};
        if (l->cfg->device == LG_NET)
            lg_fill_sections(&d, &l->recv_gpa[b * l->recv_pages], l->recv_pages, bytes);
        int rc = lg_write_dma(l, l->recv + (uint64_t)b * LG_DMA_SIZE, &d);
        if (rc)
            return rc;
    }
    l->binding = (lg_binding){.key = l->key, .owner = l, .dmas = l->recv, .num = l->nrecv};
    lg_bind(l->host, &l->binding);
    l->bound = 1;
    return 0;
}

static transport *create(const transport_env *env, int *rc)
{
    lg *l = calloc(1, sizeof *l);
    *rc = SIM_ENOMEM;
    if (!l)
        return NULL;
    l->env = *env;
    l->cfg = &env->cfg->lguest;
    l->host = env->host;
    l->cls = (size_t)(env->cfg - l->host->cfg->guests);
    char name[192];
    snprintf(name, sizeof name, "%s/lguest", env->instance);
    sim_rng_seed(&l->rng, env->seed, name);
    l->hypercall_whole = fabric_whole(env->costs, FABRIC_PATH_HYPERCALL, env->pio_in_emulated);
    fabric_exit out = fabric_exit_of(env->costs, FABRIC_PATH_KICK_HYPERCALL_USER,
                                     env->pio_in_emulated);
    l->launcher_to_signal = out.to_signal;
    l->launcher_tail = out.after_signal + out.entry;
    l->nrecv = l->cfg->device == LG_NET ? (uint32_t)l->cfg->receive_buffers
                                        : l->cfg->device == LG_BLOCK;
    l->recv_pages = l->cfg->device == LG_NET
                        ? (uint32_t)((message_bytes(l) + LG_PAGE - 1) / LG_PAGE) : 0;
    uint64_t depth = env->cfg->workload.depth;
    l->slots = calloc(depth, sizeof *l->slots);
    l->send_gpa = calloc(depth, sizeof *l->send_gpa);
    l->taken = calloc(l->nrecv ? l->nrecv : 1, 1);
    l->filled_at = calloc(l->nrecv ? l->nrecv : 1, sizeof *l->filled_at);
    l->recv_gpa = calloc((size_t)l->nrecv * l->recv_pages + 1, sizeof *l->recv_gpa);
    if (!l->slots || !l->send_gpa || !l->taken || !l->filled_at || !l->recv_gpa ||
        sim_ring_init(&l->waiting, sizeof(uint32_t))) {
        destroy((transport *)l);
        return NULL;
    }
    *rc = place(l);
    l->key = device_key(l);
    if (*rc == 0)
        *rc = write_device(l);
    if (*rc == 0)
        *rc = bind_buffers(l);
    if (*rc) {
        destroy((transport *)l);
        return NULL;
    }
    l->host->by_class[l->cls][env->index] = l;
    return (transport *)l;
}

/* ---- the network: a sender and its echo ---------------------------------- */

static void send_returned(sim_kernel *k, void *ctx, uint64_t arg);

/* SEND_DMA of slot r's lguest_dma to its peer, served in the host. */
static void queue_send(lg *l, io_request *r)
{
    l->slots[r->slot].state = SENDING;
    r->parts.notify += l->hypercall_whole;
    vcpu_exit_device(r->cpu, FABRIC_PATH_HYPERCALL, (vcpu_device){lg_host_send, l, r->slot},
                     (vcpu_call){lg_send_signal, l, r->slot},
                     (vcpu_call){send_returned, l, r->slot}, NULL, &r->io.sched_cycles);
}

static void resend(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    queue_send(l, &l->env.requests[arg]);
}

static void give_back(lg *l, uint32_t b);
static void echo_next(lg *l, io_request *r);

/* The hypercall returned: the driver reads its lguest_dma's used_len. A
 * sender then awaits the echo; an echo is done and gives its buffer back.
 * Nothing moved: the send is dropped, or tried again after run.retry. */
static void send_returned(sim_kernel *k, void *ctx, uint64_t arg)
{
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    io_request *r = &l->env.requests[arg];
    int moved = lg_read32(l, l->send_gpa[arg]) > 0;
    if (!moved && slot->why == TRANSPORT_REFUSED_no_buffer && l->cfg->on_full == LG_WAIT) {
        l->env.stats->waits++;
        if (sim_schedule(k, l->env.retry, SIM_BAND_NORMAL, resend, l, arg, NULL))
            sim_fail(k, SIM_ENOMEM);
        return;
    }
    int echo = l->cfg->role == LG_ECHO;
    if (echo)
        give_back(l, slot->buffer);
    if (!moved) {
        slot->state = IDLE;
        l->env.guest.refused(k, l->env.guest.ctx, r);
        return;
    }
    if (!echo) {
        slot->state = AWAITING;
        return;
    }
    slot->state = IDLE;
    r->parts.scheduling = r->io.sched_cycles;
    l->env.guest.done(k, l->env.guest.ctx, r);
}

/* Which wrong bytes, if any, this request's lguest_dma gets. */
static int draw_wrong(lg *l)
{
    const lg_misbehave_config *m = &l->cfg->misbehave;
    const double shares[] = {m->page_crossing, m->outside_section, m->unbound_key};
    double u = sim_rng_unit(&l->rng), sum = 0;
    for (int i = 0; i < 3; i++) {
        sum += shares[i];
        if (u < sum)
            return PAGE_CROSSING + i;
    }
    return WELL;
}

/* Writes slot `slot`'s send lguest_dma over `bytes` of `pages`, wrong as
 * the driver misbehaves. */
static int write_send(lg *l, uint32_t slot, const uint64_t *pages, uint32_t npages,
                      uint64_t bytes)
{
    lg_dma d;
    lg_fill_sections(&d, pages, npages, bytes);
    if (l->slots[slot].wrong == PAGE_CROSSING) {
        d.addr[0] += LG_PAGE / 2;
        d.len[0] = LG_PAGE;
    } else if (l->slots[slot].wrong == OUTSIDE_SECTION) {
        d.addr[0] = (uint32_t)guestbytes_size(l->env.bytes);
    }
    return lg_write_dma(l, l->send_gpa[slot], &d);
}

/* The guest's frames of slot `slot`'s buffer as page addresses. */
static uint32_t buffer_pages(lg *l, uint32_t slot, uint64_t *pages)
{
    uint32_t n;
    const uint64_t *frames = l->env.scheme->page_list(l->env.buffers, slot, &n);
    for (uint32_t i = 0; i < n && i < LG_MAX_SECTIONS; i++)
        pages[i] = frames[i] << GM_FRAME_SHIFT;
    return n < LG_MAX_SECTIONS ? n : LG_MAX_SECTIONS;
}

/* A sender's request: its data tagged with its slot, the lguest_dma over
 * its buffer's pages, SEND_DMA to its peer's key. */
static void net_send(lg *l, io_request *r)
{
    if (transport_describe(&l->env, r))
        return;
    uint64_t pages[LG_MAX_SECTIONS];
    uint32_t n = buffer_pages(l, r->slot, pages);
    l->slots[r->slot].wrong = draw_wrong(l);
    if (lg_write32(l, pages[0], r->slot) || write_send(l, r->slot, pages, n, r->bytes))
        return;
    queue_send(l, r);
}

/* ---- receiving ------------------------------------------------------------------ */

static void give_back(lg *l, uint32_t b)
{
    l->taken[b] = 0;
    lg_write32(l, l->recv + (uint64_t)b * LG_DMA_SIZE, 0);
}

/* An echo slot takes a filled buffer: it processes the message, then
 * sends it back from the buffer itself. */
static void echo_process(sim_kernel *k, void *ctx, uint64_t arg);

static void echo_take(lg *l, io_request *r, uint32_t b)
{
    l->taken[b] = 1;
    l->slots[r->slot].buffer = b;
    r->issued = sim_now(l->env.k);
    vcpu_guest(r->cpu, l->cfg->process, (vcpu_call){echo_process, l, r->slot},
               &r->io.sched_cycles);
}

static void echo_process(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    io_request *r = &l->env.requests[arg];
    uint32_t b = l->slots[arg].buffer;
    l->slots[arg].wrong = draw_wrong(l);
    if (write_send(l, (uint32_t)arg, &l->recv_gpa[b * l->recv_pages], l->recv_pages,
                   lg_used_len(l, b)))
        return;
    queue_send(l, r);
}

/* A filled buffer nobody holds, or -1. */
static int filled(const lg *l)
{
    for (uint32_t b = 0; b < l->nrecv; b++)
        if (!l->taken[b] && lg_used_len(l, b) > 0)
            return (int)b;
    return -1;
}

/* An echo slot is free: it takes the next message, or waits for one. */
static void echo_next(lg *l, io_request *r)
{
    int b = filled(l);
    if (b >= 0) {
        echo_take(l, r, (uint32_t)b);
        return;
    }
    uint32_t slot = r->slot;
    if (sim_ring_push(&l->waiting, &slot))
        sim_fail(l->env.k, SIM_ENOMEM);
}

/* A sender's echo arrived in buffer `b`: its tag names the request. The
 * interrupt's path is the request's if the echo was there when it was
 * raised; one that arrived while the handler was on its way only waited
 * for it (queueing). */
static void sender_receives(sim_kernel *k, lg *l, uint32_t b, uint64_t cost, uint64_t sched)
{
    uint32_t tag = lg_read32(l, l->recv_gpa[b * l->recv_pages]);
    int caused = l->filled_at[b] <= l->irq_raised;
    give_back(l, b);
    if (tag >= l->env.cfg->workload.depth || l->slots[tag].state != AWAITING)
        return;
    io_request *r = &l->env.requests[tag];
    l->slots[tag].state = IDLE;
    r->parts.interrupt = caused ? cost : 0;
    r->parts.scheduling = r->io.sched_cycles + (caused ? sched : 0);
    l->env.guest.done(k, l->env.guest.ctx, r);
}

/* ---- guest to Launcher: console and block ------------------------------------ */

static void block_start(lg *l, io_request *r);

/* The block driver's one request is over: the next waiting one starts. */
static void block_idle(lg *l)
{
    l->busy = 0;
    uint32_t slot;
    if (l->gone || !sim_ring_len(&l->waiting))
        return;
    sim_ring_pop(&l->waiting, &slot);
    block_start(l, &l->env.requests[slot]);
}

/* The hypercall returned to the guest. A console write is done; a request
 * the Launcher refused is over; a block request waits for its interrupt. */
static void launcher_returned(sim_kernel *k, void *ctx, uint64_t arg)
{
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    io_request *r = &l->env.requests[arg];
    if (slot->state == SERVED)
        return;
    slot->state = IDLE;
    if (l->cfg->device == LG_BLOCK)
        block_idle(l);
    if (slot->why >= 0) {
        l->env.guest.refused(k, l->env.guest.ctx, r);
        return;
    }
    r->parts.notify += l->launcher_tail;
    r->parts.scheduling = r->io.sched_cycles;
    l->env.guest.done(k, l->env.guest.ctx, r);
}

/* SEND_DMA of slot r's lguest_dma to a private key: out to the Launcher,
 * which serves it before the guest runs again. */
static void send_to_launcher(lg *l, io_request *r)
{
    r->parts.notify += l->launcher_to_signal;
    vcpu_exit_device(r->cpu, FABRIC_PATH_KICK_HYPERCALL_USER,
                     (vcpu_device){lg_launcher_send, l, r->slot},
                     (vcpu_call){lg_launcher_signal, l, r->slot},
                     (vcpu_call){launcher_returned, l, r->slot}, NULL, &r->io.sched_cycles);
}

/* Writes the block page and the lguest_dmas of slot r's request and sends
 * it: a write sends its data's sections, a read sends an empty lguest_dma
 * and points the bound reply buffer at its pages. */
static void block_start(lg *l, io_request *r)
{
    lg_slot *slot = &l->slots[r->slot];
    l->busy = 1;
    l->current = r->slot;
    if (transport_describe(&l->env, r)) {
        block_idle(l);
        return;
    }
    const lg_block_config *bc = &l->cfg->block;
    slot->write = !r->read;  /* the workload's read_share draws it */
    uint64_t span = bc->sectors - (r->bytes + 511) / 512 + 1;
    uint32_t sector = (uint32_t)sim_rng_below(&l->rng, span);
    slot->wrong = draw_wrong(l);
    slot->state = SENDING;
    uint64_t pages[LG_MAX_SECTIONS];
    uint32_t n = buffer_pages(l, r->slot, pages);
    unsigned char bp[16];
    guestbytes_put32(bp, slot->write ? 1u : 0u);
    guestbytes_put32(bp + 4, sector);
    guestbytes_put32(bp + 8, (uint32_t)r->bytes);
    guestbytes_put32(bp + 12, 0);
    lg_dma reply = {0};
    if (!slot->write)
        lg_fill_sections(&reply, pages, n, r->bytes);
    if (lg_write_bytes(l, l->page, bp, sizeof bp) || lg_write_dma(l, l->recv, &reply) ||
        write_send(l, r->slot, pages, slot->write ? n : 0, slot->write ? r->bytes : 0))
        return;
    send_to_launcher(l, r);
}

/* A console write: the lguest_dma over the buffer's pages, to key 0. */
static void console_write(lg *l, io_request *r)
{
    if (transport_describe(&l->env, r))
        return;
    uint64_t pages[LG_MAX_SECTIONS];
    uint32_t n = buffer_pages(l, r->slot, pages);
    l->slots[r->slot].wrong = draw_wrong(l);
    l->slots[r->slot].state = SENDING;
    if (write_send(l, r->slot, pages, n, r->bytes))
        return;
    send_to_launcher(l, r);
}

/* The block request's interrupt was handled: the driver reads the result
 * and gives the reply buffer back. */
static void block_completed(sim_kernel *k, lg *l, uint64_t cost, uint64_t sched)
{
    if (!l->busy || l->slots[l->current].state != SERVED)
        return;
    io_request *r = &l->env.requests[l->current];
    uint32_t result = lg_read32(l, l->page + 12);
    lg_write32(l, l->recv, 0);
    l->slots[l->current].state = IDLE;
    block_idle(l);
    if (result != 1) {
        l->env.guest.refused(k, l->env.guest.ctx, r);
        return;
    }
    r->parts.interrupt = cost;
    r->parts.scheduling = r->io.sched_cycles + sched;
    l->env.guest.done(k, l->env.guest.ctx, r);
}

/* The driver looks at its descriptor's status: a device the host removed
 * is acknowledged and used no more. */
static void check_removed(lg *l)
{
    uint16_t status = lg_read16(l, l->desc + 4);
    if (!(status & LG_S_REMOVED) || (status & LG_S_REMOVED_ACK))
        return;
    lg_write16(l, l->desc + 4, (uint16_t)(status | LG_S_REMOVED_ACK));
    l->gone = 1;
}

/* The guest's interrupt handler: removal, then what its device filled. */
void lg_handle_interrupt(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    lg *l = ctx;
    uint64_t cost = l->irq_cost, sched = l->irq_sched;
    l->irq_pending = 0;
    check_removed(l);
    if (l->cfg->device == LG_BLOCK) {
        block_completed(k, l, cost, sched);
        return;
    }
    if (l->cfg->device != LG_NET)
        return;
    if (l->cfg->role == LG_SEND) {
        for (uint32_t b = 0; b < l->nrecv; b++)
            if (lg_used_len(l, b) > 0)
                sender_receives(k, l, b, cost, sched);
        return;
    }
    int b;
    while (sim_ring_len(&l->waiting) && (b = filled(l)) >= 0) {
        uint32_t slot;
        sim_ring_pop(&l->waiting, &slot);
        echo_take(l, &l->env.requests[slot], (uint32_t)b);
    }
}

/* The host removes the device: REMOVED in its descriptor, and its
 * interrupt, so the driver notices. */
static void remove_device(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    lg *l = ctx;
    l->removed = 1;
    if (lg_write16(l, l->desc + 4, (uint16_t)(lg_read16(l, l->desc + 4) | LG_S_REMOVED)))
        return;
    lg_raise_irq(l);
}

static void send(transport *t, io_request *r)
{
    lg *l = (lg *)t;
    if (l->gone)
        return;                     /* the driver is gone: the slot stays idle */
    switch (l->cfg->device) {
    case LG_NET:
        if (l->cfg->role == LG_SEND)
            net_send(l, r);
        else
            echo_next(l, r);
        return;
    case LG_BLOCK:
        if (!l->busy) {
            block_start(l, r);
            return;
        }
        uint32_t slot = r->slot;
        if (sim_ring_push(&l->waiting, &slot))
            sim_fail(l->env.k, SIM_ENOMEM);
        return;
    default:
        console_write(l, r);
    }
}

/* The driver starts: it finds its peer, walks its device's status bits,
 * and the host's removal, if any, is scheduled. */
static void start(transport *t)
{
    lg *l = (lg *)t;
    if (l->cfg->device == LG_NET) {
        size_t peer;
        if (lg_class_named(l->host->cfg, l->cfg->peer, &peer))
            l->peer = l->host->by_class[peer][l->env.index];
        if (!l->peer) {
            sim_fail(l->env.k, SIM_EINVAL);
            return;
        }
    }
    uint16_t status = lg_read16(l, l->desc + 4);
    if (lg_write16(l, l->desc + 4,
                (uint16_t)(status | LG_S_ACKNOWLEDGE | LG_S_DRIVER | LG_S_DRIVER_OK)))
        return;
    if (l->cfg->remove_at > 0 &&
        sim_schedule_at(l->env.k, l->cfg->remove_at, SIM_BAND_NORMAL, remove_device, l, 0,
                        NULL))
        sim_fail(l->env.k, SIM_ENOMEM);
}

static void finish(transport *t, sim_time now)
{
    (void)t, (void)now;
}

const transport_ops transport_lguest = {
    .name = "lguest",
    .host_new = lg_host_new, .host_free = lg_host_free,
    .create = create, .start = start, .send = send, .finish = finish, .destroy = destroy,
    .needs = lg_needs, .check = lg_check, .least = lg_least, .json = lg_stats_json,
};

