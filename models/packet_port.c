/*
 * packet_port.c -- the packet-port transport of packet_port.h: the guest
 * driver (packets, lifecycle, misbehaviour) and the host's port device
 * (checks, channels, control messages), one instance per guest, as each
 * plex86 VM had its own monitor and port.
 *
 * The driver's memory: one area per request slot (the 32-byte header, the
 * request's data, then the return buffer) packed into guest pages, and
 * one page per vCPU for the control messages that vCPU sends. They are
 * frames of the guest's own allocator, so they are inside the guest.
 */
#include <stdlib.h>
#include <string.h>

#include "models/system.h"
#include "sim/report.h"
#include "sim/ring.h"

/* ---- schema --------------------------------------------------------------- */

static const scn_field channel_fields[] = {
    {.key = "id", .type = SCN_U64, .offset = SCN_AT(pp_channel_config, id, uint64_t),
     .flags = SCN_REQUIRED, .min = 1, .max = 65535,
     .doc = "the channel's id in the packet header (0 is the port's own control channel)"},
    {.key = "share", .type = SCN_DOUBLE, .offset = SCN_AT(pp_channel_config, share, double),
     .min = 0, .max = 1, .def = "1", .doc = "share of the class's requests sent to it"},
    {.key = "fixed", .type = SCN_DURATION, .offset = SCN_AT(pp_channel_config, fixed, uint64_t),
     .max = 1e12, .def = "0", .doc = "the callback's work per packet, on the vCPU's thread"},
    {.key = "per_byte", .type = SCN_DOUBLE,
     .offset = SCN_AT(pp_channel_config, per_byte, double), .min = 0, .max = 1e6, .def = "0",
     .doc = "and per byte of the request, in cycles"},
    {.key = "reply", .type = SCN_SIZE, .offset = SCN_AT(pp_channel_config, reply, uint64_t),
     .max = PP_MAX_REPLY, .def = "0",
     .doc = "bytes the callback writes back after the status, copied into the return "
            "buffer"},
};

static const scn_schema channel_schema = {
    .name = "channel", .size = sizeof(pp_channel_config), .fields = channel_fields,
    .nfields = sizeof channel_fields / sizeof channel_fields[0],
};

static const char *const access_names[] = {"pio_write", "pio_read", "mmio", NULL};
static const char *const handler_names[] = {"kernel", "userspace", NULL};

static const scn_field emulated_fields[] = {
    {.key = "exits", .type = SCN_U64, .offset = SCN_AT(pp_emulated_config, exits, uint64_t),
     .min = 1, .max = 65536, .def = "8",
     .doc = "register accesses (exits) per request on the emulated path"},
    {.key = "access", .type = SCN_ENUM, .offset = SCN_AT(pp_emulated_config, access, int),
     .def = "pio_write", .enum_names = access_names, .doc = "what each access is"},
    {.key = "handler", .type = SCN_ENUM, .offset = SCN_AT(pp_emulated_config, handler, int),
     .def = "userspace", .enum_names = handler_names,
     .doc = "where the emulated device lives"},
};

static const scn_schema emulated_schema = {
    .name = "emulated", .size = sizeof(pp_emulated_config), .fields = emulated_fields,
    .nfields = sizeof emulated_fields / sizeof emulated_fields[0],
};

static const scn_field lifecycle_fields[] = {
    {.key = "live", .type = SCN_DURATION, .offset = SCN_AT(pp_lifecycle_config, live, uint64_t),
     .max = 1e16, .def = "0", .doc = "when the driver says \"I'm here and going live\""},
    {.key = "shutdown", .type = SCN_DURATION,
     .offset = SCN_AT(pp_lifecycle_config, shutdown, uint64_t), .max = 1e16, .def = "0",
     .doc = "when it says \"I'm shutting down\" (0: never); after live"},
    {.key = "every", .type = SCN_DURATION, .offset = SCN_AT(pp_lifecycle_config, every, uint64_t),
     .max = 1e16, .def = "0",
     .doc = "both repeat with this period (0: once); longer than shutdown - live"},
};

static const scn_schema lifecycle_schema = {
    .name = "lifecycle", .size = sizeof(pp_lifecycle_config), .fields = lifecycle_fields,
    .nfields = sizeof lifecycle_fields / sizeof lifecycle_fields[0],
};

#define SHARE(field, text)                                                    \
    {.key = #field, .type = SCN_DOUBLE,                                       \
     .offset = SCN_AT(pp_misbehave_config, field, double), .min = 0, .max = 1, \
     .def = "0", .doc = text}

static const scn_field misbehave_fields[] = {
    SHARE(bad_magic, "share of packets written with a wrong magic number"),
    SHARE(outside_packet, "share whose port write names an address outside the guest"),
    SHARE(outside_return, "share whose return buffer lies outside the guest"),
    SHARE(unknown_channel, "share sent to a channel nobody registered"),
    SHARE(small_return, "share whose return buffer is one byte too small for the reply"),
};

#undef SHARE

static const scn_schema misbehave_schema = {
    .name = "misbehave", .size = sizeof(pp_misbehave_config), .fields = misbehave_fields,
    .nfields = sizeof misbehave_fields / sizeof misbehave_fields[0],
};

static const scn_field packet_port_fields[] = {
    {.key = "channels", .type = SCN_LIST, .offset = offsetof(packet_port_config, channels),
     .count_offset = offsetof(packet_port_config, nchannels), .min = 0, .max = 64,
     .sub = &channel_schema,
     .doc = "the callbacks registered on the port (at least one with packet-port)"},
    {.key = "emulated", .type = SCN_STRUCT, .offset = offsetof(packet_port_config, emulated),
     .sub = &emulated_schema, .doc = "the slow path before going live and after shutting down"},
    {.key = "lifecycle", .type = SCN_STRUCT, .offset = offsetof(packet_port_config, lifecycle),
     .sub = &lifecycle_schema, .doc = "when the driver goes live and shuts down"},
    {.key = "misbehave", .type = SCN_STRUCT, .offset = offsetof(packet_port_config, misbehave),
     .sub = &misbehave_schema,
     .doc = "wrong packets this guest writes (each share of its accelerated requests)"},
};

const scn_schema packet_port_schema = {
    .name = "packet_port", .size = sizeof(packet_port_config), .fields = packet_port_fields,
    .nfields = sizeof packet_port_fields / sizeof packet_port_fields[0],
};

/* ---- the instance ------------------------------------------------------------ */

/* The driver's mode. */
enum { EMULATED, SWITCHING, FAST };

/* What the driver writes wrong into a request's packets. */
enum { WELL, BAD_MAGIC, OUTSIDE_PACKET, OUTSIDE_RETURN, UNKNOWN_CHANNEL, SMALL_RETURN };

/* Where a request slot's chain of exits is. */
typedef struct pp_slot {
    uint64_t area;                  /* gpa of its packet; return buffer at
                                       area + PP_AREA_HEAD */
    int channel;                    /* index into cfg->channels */
    int wrong;                      /* what the driver writes wrong */
    uint32_t regs, parts;           /* list messages to send, then packets */
    uint32_t next;                  /* messages sent so far */
    uint32_t list_first;            /* the page-list message in progress */
} pp_slot;

typedef struct port {
    transport_env env;
    const packet_port_config *cfg;
    sim_rng rng;                    /* channels and misbehaviour */
    int port_path, reg_path;        /* fabric_path_id */
    uint64_t port_whole, reg_whole;
    uint64_t port_tail;             /* the port path after its device step:
                                       the rest of the handler, the entry */
    uint64_t depth, stride;
    pp_slot *slots;
    uint64_t *control;              /* gpa of each vCPU's message page */
    uint32_t registered;            /* buffers going live registers */
    uint32_t unknown_id;            /* a channel id nobody registered */
    /* the driver */
    int mode, want_live;
    int kind;                       /* transport_switch in progress */
    sim_time since, switch_start;
    uint32_t inflight;
    sim_ring waiting;               /* slots issued during a switch */
    uint32_t msg_buffer, msg_first; /* the go-live sequence's next message */
    uint64_t msg_exits, msg_work;
} port;

#define PP_AREA_HEAD 64u            /* header and data, before the return
                                       buffer */

static uint64_t max_reply(const packet_port_config *c)
{
    uint64_t m = 0;
    for (size_t i = 0; i < c->nchannels; i++)
        m = c->channels[i].reply > m ? c->channels[i].reply : m;
    return m;
}

/* A channel id no channel of the class has: what a misbehaving driver
 * sends to. */
static uint32_t unused_channel(const packet_port_config *c)
{
    for (uint32_t id = 65535; id > 0; id--) {
        size_t i = 0;
        while (i < c->nchannels && c->channels[i].id != id)
            i++;
        if (i == c->nchannels)
            return id;
    }
    return 65535;
}

/* Lays out the slots' areas and the message pages in frames of the
 * guest's allocator. */
static int place(port *p)
{
    guestmem *m = p->env.mem;
    unsigned order = guestmem_page_order(m);
    uint64_t page = 4096ull << order;
    uint64_t ret = PP_REPLY_HEAD + max_reply(p->cfg);
    p->stride = PP_AREA_HEAD + (ret + 63) / 64 * 64;
    uint64_t per_page = page / p->stride, frame = 0;
    for (uint64_t s = 0; s < p->depth; s++) {
        if (s % per_page == 0) {
            int rc = guestmem_alloc(m, order, &frame);
            if (rc)
                return rc;
        }
        p->slots[s].area = (frame << GM_FRAME_SHIFT) + (s % per_page) * p->stride;
    }
    for (uint32_t v = 0; v < p->env.nvcpus; v++) {
        int rc = guestmem_alloc(m, order, &frame);
        if (rc)
            return rc;
        p->control[v] = frame << GM_FRAME_SHIFT;
    }
    return 0;
}

static int register_path(const pp_emulated_config *e)
{
    static const int kernel[] = {FABRIC_PATH_PIO_WRITE_KERNEL, FABRIC_PATH_PIO_READ_KERNEL,
                                 FABRIC_PATH_MMIO_KERNEL};
    static const int user[] = {FABRIC_PATH_PIO_WRITE_USER, FABRIC_PATH_PIO_READ_USER,
                               FABRIC_PATH_MMIO_USER};
    return e->handler == FABRIC_USERSPACE ? user[e->access] : kernel[e->access];
}

static int port_path(const fabric_config *f)
{
    return f->handler == FABRIC_USERSPACE ? FABRIC_PATH_PIO_WRITE_USER
                                          : FABRIC_PATH_PIO_WRITE_KERNEL;
}

static void destroy(transport *t)
{
    port *p = (port *)t;
    if (!p)
        return;
    sim_ring_fini(&p->waiting);
    free(p->slots);
    free(p->control);
    free(p);
}

static transport *create(const transport_env *env, int *rc)
{
    port *p = calloc(1, sizeof *p);
    *rc = SIM_ENOMEM;
    if (!p)
        return NULL;
    p->env = *env;
    p->cfg = &env->cfg->packet_port;
    p->depth = env->cfg->workload.depth;
    char name[192];
    snprintf(name, sizeof name, "%s/port", env->instance);
    sim_rng_seed(&p->rng, env->seed, name);
    p->port_path = port_path(env->fabric);
    p->reg_path = register_path(&p->cfg->emulated);
    p->port_whole = fabric_whole(env->costs, p->port_path, env->pio_in_emulated);
    fabric_exit e = fabric_exit_of(env->costs, p->port_path, env->pio_in_emulated);
    p->port_tail = e.after_signal + e.entry;
    p->reg_whole = fabric_whole(env->costs, p->reg_path, env->pio_in_emulated);
    p->registered = (uint32_t)env->setup->registrations;
    p->unknown_id = unused_channel(p->cfg);
    p->slots = calloc(p->depth, sizeof *p->slots);
    p->control = calloc(env->nvcpus, sizeof *p->control);
    if (!p->slots || !p->control || sim_ring_init(&p->waiting, sizeof(uint32_t))) {
        destroy((transport *)p);
        return NULL;
    }
    *rc = place(p);
    if (*rc) {
        destroy((transport *)p);
        return NULL;
    }
    return (transport *)p;
}

/* ---- the host's port ------------------------------------------------------------ */

static uint64_t copy_cycles(const vmm_costs *c, uint64_t bytes)
{
    return (bytes * c->copy_per_kib + 512) / 1024;
}

static vcpu_work refuse(port *p, int why, uint64_t spent)
{
    p->env.stats->refused[why]++;
    return (vcpu_work){.busy = spent};
}

/* A control message on channel 0: going live, a page list, shutting
 * down. The header was found and checked (`spent`). Going live and
 * shutting down cost the port only their header: the driver quiesced
 * before sending them, so no packet meets the port between modes. */
static vcpu_work serve_control(port *p, uint64_t gpa, uint32_t len, uint64_t spent)
{
    const vmm_costs *c = p->env.costs;
    unsigned char d[PP_LIST_HEAD];
    if (len < 4 || guestbytes_read(p->env.bytes, gpa + PP_HEADER, d, len < sizeof d ? 4 : sizeof d))
        return refuse(p, TRANSPORT_REFUSED_outside_guest, spent);
    switch (guestbytes_get32(d)) {
    case PP_MSG_LIVE:
    case PP_MSG_SHUTDOWN:
        return (vcpu_work){.busy = spent};
    case PP_MSG_PAGE_LIST:
        break;
    default:
        return refuse(p, TRANSPORT_REFUSED_bad_buffer, spent);
    }
    uint32_t count = len >= PP_LIST_HEAD ? guestbytes_get32(d + 12) : 0;
    if (len < PP_LIST_HEAD + (uint64_t)count * 8)
        return refuse(p, TRANSPORT_REFUSED_outside_guest, spent);
    /* Each page: found (a memslot lookup), checked inside the guest, and
     * pinned. */
    for (uint32_t i = 0; i < count; i++) {
        unsigned char a[8];
        spent += c->memslot_lookup;
        guestbytes_read(p->env.bytes, gpa + PP_HEADER + PP_LIST_HEAD + 8ull * i, a, 8);
        if (!guestbytes_inside(p->env.bytes, guestbytes_get64(a), 1))
            return refuse(p, TRANSPORT_REFUSED_outside_guest, spent);
        spent += c->pin_per_page;
    }
    return (vcpu_work){.busy = spent};
}

static const pp_channel_config *find_channel(const port *p, uint32_t id)
{
    for (size_t i = 0; i < p->cfg->nchannels; i++)
        if (p->cfg->channels[i].id == id)
            return &p->cfg->channels[i];
    return NULL;
}

/* The request packet passed every check: the scheme's host side resolves
 * its buffer (with the first part), the callback serves it, and its reply
 * goes into the return buffer. */
static vcpu_work serve_request(port *p, const pp_channel_config *ch, uint64_t ret,
                               const unsigned char *data, uint64_t spent)
{
    const vmm_costs *c = p->env.costs;
    uint32_t slot = guestbytes_get32(data), part = guestbytes_get32(data + 4);
    uint64_t bytes = guestbytes_get32(data + 8);
    if (slot >= p->depth)
        return refuse(p, TRANSPORT_REFUSED_bad_buffer, spent);
    io_request *r = &p->env.requests[slot];
    uint64_t resolve = 0;
    if (part == 0) {
        p->env.guest.resolve(p->env.guest.ctx, r);
        resolve = r->cost.host_cycles;
    }
    uint64_t service = ch->fixed + (uint64_t)((double)bytes * ch->per_byte + 0.5);
    uint64_t reply = copy_cycles(c, ch->reply);
    unsigned char head[PP_REPLY_HEAD];
    guestbytes_put32(head, PP_STATUS_DONE);
    guestbytes_put32(head + 4, (uint32_t)ch->reply);
    int rc = guestbytes_write(p->env.bytes, ret, head, sizeof head);
    if (rc) {                       /* checked inside: only memory can fail */
        sim_fail(p->env.k, rc);
        return (vcpu_work){0};
    }
    r->parts.translate += spent + resolve;
    r->parts.device += service + reply;
    return (vcpu_work){.busy = spent + resolve + service + reply};
}

/* The port's device model, when the exit's handler hands it the dword
 * written: the packet's guest-physical address. */
static vcpu_work serve(sim_kernel *k, void *ctx, uint64_t gpa)
{
    (void)k;
    port *p = ctx;
    const vmm_costs *c = p->env.costs;
    uint64_t spent = c->memslot_lookup;            /* find the header */
    unsigned char h[PP_HEADER];
    if (guestbytes_read(p->env.bytes, gpa, h, sizeof h))
        return refuse(p, TRANSPORT_REFUSED_outside_guest, spent);
    if (guestbytes_get32(h) != PP_MAGIC)
        return refuse(p, TRANSPORT_REFUSED_bad_magic, spent);
    uint32_t len = guestbytes_get32(h + 4);
    if (!guestbytes_inside(p->env.bytes, gpa, (uint64_t)PP_HEADER + len))
        return refuse(p, TRANSPORT_REFUSED_outside_guest, spent);
    uint32_t channel = guestbytes_get32(h + 8);
    if (channel == PP_CONTROL_CHANNEL)
        return serve_control(p, gpa, len, spent);
    uint32_t ret_size = guestbytes_get32(h + 12);
    uint64_t ret = guestbytes_get64(h + 16);
    spent += c->memslot_lookup;                     /* find the return buffer */
    if (!guestbytes_inside(p->env.bytes, ret, ret_size))
        return refuse(p, TRANSPORT_REFUSED_outside_guest, spent);
    const pp_channel_config *ch = find_channel(p, channel);
    if (!ch)
        return refuse(p, TRANSPORT_REFUSED_unknown_channel, spent);
    if (ret_size < PP_REPLY_HEAD + ch->reply)
        return refuse(p, TRANSPORT_REFUSED_small_return, spent);
    unsigned char data[PP_REQUEST_DATA];
    if (len < PP_REQUEST_DATA)
        return refuse(p, TRANSPORT_REFUSED_bad_buffer, spent);
    guestbytes_read(p->env.bytes, gpa + PP_HEADER, data, sizeof data);
    return serve_request(p, ch, ret, data, spent);
}

/* The emulated device's last register access: the callback serves the
 * request it was handed through the registers. */
static vcpu_work serve_emulated(sim_kernel *k, void *ctx, uint64_t slot)
{
    (void)k;
    port *p = ctx;
    const pp_channel_config *ch = &p->cfg->channels[p->slots[slot].channel];
    io_request *r = &p->env.requests[slot];
    uint64_t service = ch->fixed + (uint64_t)((double)r->bytes * ch->per_byte + 0.5);
    r->parts.device += service;
    return (vcpu_work){.busy = service};
}

/* ---- the driver: writing packets ------------------------------------------------- */

static int write_bytes(port *p, uint64_t gpa, const void *src, size_t len)
{
    int rc = guestbytes_write(p->env.bytes, gpa, src, len);
    if (rc)
        sim_fail(p->env.k, rc);
    return rc;
}

static void put_header(unsigned char *h, uint32_t len, uint32_t channel, uint32_t ret_size,
                       uint64_t ret)
{
    memset(h, 0, PP_HEADER);
    guestbytes_put32(h, PP_MAGIC);
    guestbytes_put32(h + 4, len);
    guestbytes_put32(h + 8, channel);
    guestbytes_put32(h + 12, ret_size);
    guestbytes_put64(h + 16, ret);
}

/* Writes part `part` of slot `slot`'s request, wrong where the driver
 * misbehaves, and clears the status word of its return buffer. Returns
 * the address the driver will write to the port. */
static uint64_t write_request(port *p, uint32_t slot, uint32_t part, uint64_t bytes,
                              int *rc)
{
    const pp_slot *s = &p->slots[slot];
    const pp_channel_config *ch = &p->cfg->channels[s->channel];
    uint64_t ret = s->area + PP_AREA_HEAD, size = guestbytes_size(p->env.bytes);
    uint32_t ret_size = (uint32_t)(p->stride - PP_AREA_HEAD);
    uint32_t channel = (uint32_t)ch->id;
    if (s->wrong == OUTSIDE_RETURN)
        ret = size;
    if (s->wrong == UNKNOWN_CHANNEL)
        channel = p->unknown_id;
    if (s->wrong == SMALL_RETURN)
        ret_size = PP_REPLY_HEAD + (uint32_t)ch->reply - 1;
    unsigned char pkt[PP_HEADER + PP_REQUEST_DATA], zero[4] = {0};
    put_header(pkt, PP_REQUEST_DATA, channel, ret_size, ret);
    if (s->wrong == BAD_MAGIC)
        guestbytes_put32(pkt, ~PP_MAGIC);
    guestbytes_put32(pkt + PP_HEADER, slot);
    guestbytes_put32(pkt + PP_HEADER + 4, part);
    guestbytes_put32(pkt + PP_HEADER + 8, (uint32_t)bytes);
    *rc = write_bytes(p, s->area, pkt, sizeof pkt);
    if (*rc == 0)
        *rc = write_bytes(p, s->area + PP_AREA_HEAD, zero, sizeof zero);
    return s->wrong == OUTSIDE_PACKET ? size + s->area : s->area;
}

/* Writes a control message into the page at `gpa`: going live, shutting
 * down, or up to PP_LIST_MAX page addresses of buffer `slot` from page
 * `first`. Returns the messages's page count (0 for the others). */
static uint32_t write_message(port *p, uint64_t gpa, int type, uint32_t slot, uint32_t first,
                              int *rc)
{
    unsigned char msg[PP_HEADER + PP_LIST_HEAD + 8 * PP_LIST_MAX];
    uint32_t count = 0, len = 4;
    memset(msg, 0, PP_HEADER + PP_LIST_HEAD);
    guestbytes_put32(msg + PP_HEADER, (uint32_t)type);
    if (type == PP_MSG_PAGE_LIST) {
        uint32_t n;
        const uint64_t *frames = p->env.scheme->page_list(p->env.buffers, slot, &n);
        count = n - first < PP_LIST_MAX ? n - first : PP_LIST_MAX;
        guestbytes_put32(msg + PP_HEADER + 4, slot);
        guestbytes_put32(msg + PP_HEADER + 8, first);
        guestbytes_put32(msg + PP_HEADER + 12, count);
        for (uint32_t i = 0; i < count; i++)
            guestbytes_put64(msg + PP_HEADER + PP_LIST_HEAD + 8 * i,
                             frames[first + i] << GM_FRAME_SHIFT);
        len = PP_LIST_HEAD + 8 * count;
    }
    put_header(msg, len, PP_CONTROL_CHANNEL, 0, 0);
    *rc = write_bytes(p, gpa, msg, PP_HEADER + len);
    return count;
}

/* Page-list messages one buffer's registration takes. */
static uint32_t list_messages(const port *p, uint32_t slot)
{
    uint32_t n;
    p->env.scheme->page_list(p->env.buffers, slot, &n);
    return (n + PP_LIST_MAX - 1) / PP_LIST_MAX;
}

/* ---- the driver: a request's chain of exits ---------------------------------- */

static void request_step(sim_kernel *k, void *ctx, uint64_t slot);
static void maybe_switch(port *p);

/* The request is over, one way or the other: the driver may quiesce. */
static void settle(port *p)
{
    p->inflight--;
    if (p->mode == SWITCHING && p->inflight == 0)
        maybe_switch(p);
}

/* Reads the status word the callback would have written. */
static uint32_t read_status(port *p, uint32_t slot)
{
    unsigned char st[4];
    if (guestbytes_read(p->env.bytes, p->slots[slot].area + PP_AREA_HEAD, st, sizeof st))
        return PP_STATUS_NONE;
    return guestbytes_get32(st);
}

/* Queues the slot's next exit: a page-list message of its buffer's
 * re-registration, or the next part's packet. */
static void queue_next(port *p, uint32_t slot)
{
    pp_slot *s = &p->slots[slot];
    io_request *r = &p->env.requests[slot];
    vcpu_call done = {request_step, p, slot};
    int rc;
    if (s->next < s->regs) {
        uint64_t gpa = p->control[slot % p->env.nvcpus];
        uint32_t count = write_message(p, gpa, PP_MSG_PAGE_LIST, slot, s->list_first, &rc);
        if (rc)
            return;
        s->list_first += count;
        r->parts.exit += p->port_tail;
        vcpu_exit_device(r->cpu, p->port_path, (vcpu_device){serve, p, gpa}, (vcpu_call){0},
                         done, &r->parts.exit, &r->io.sched_cycles);
        return;
    }
    uint32_t part = s->next - s->regs;
    uint64_t share = r->bytes / s->parts;
    uint64_t bytes = part + 1 == s->parts ? r->bytes - share * (s->parts - 1) : share;
    uint64_t gpa = write_request(p, slot, part, bytes, &rc);
    if (rc)
        return;
    r->parts.notify += p->port_whole;
    vcpu_exit_device(r->cpu, p->port_path, (vcpu_device){serve, p, gpa}, (vcpu_call){0}, done,
                     NULL, &r->io.sched_cycles);
}

/* An exit of the chain returned to the guest. */
static void request_step(sim_kernel *k, void *ctx, uint64_t slot)
{
    port *p = ctx;
    pp_slot *s = &p->slots[slot];
    io_request *r = &p->env.requests[slot];
    int packet = s->next >= s->regs;
    s->next++;
    if (packet && read_status(p, (uint32_t)slot) != PP_STATUS_DONE) {
        settle(p);
        p->env.guest.refused(k, p->env.guest.ctx, r);
        return;
    }
    if (s->next < s->regs + s->parts) {
        queue_next(p, (uint32_t)slot);
        return;
    }
    r->parts.scheduling = r->io.sched_cycles;
    settle(p);
    p->env.guest.done(k, p->env.guest.ctx, r);
}

/* The emulated request's last register access returned. */
static void emulated_done(sim_kernel *k, void *ctx, uint64_t slot)
{
    port *p = ctx;
    io_request *r = &p->env.requests[slot];
    r->parts.scheduling = r->io.sched_cycles;
    settle(p);
    p->env.guest.done(k, p->env.guest.ctx, r);
}

static void send_emulated(port *p, io_request *r)
{
    r->phase = TRANSPORT_EMULATED;
    uint64_t n = p->cfg->emulated.exits;
    for (uint64_t i = 0; i + 1 < n; i++)
        vcpu_exit(r->cpu, p->reg_path, (vcpu_call){0}, (vcpu_call){0}, NULL,
                  &r->io.sched_cycles);
    vcpu_exit_device(r->cpu, p->reg_path, (vcpu_device){serve_emulated, p, r->slot},
                     (vcpu_call){0}, (vcpu_call){emulated_done, p, r->slot}, NULL,
                     &r->io.sched_cycles);
    r->parts.notify = n * p->reg_whole;
}

/* Which wrong bytes, if any, this request's packets get. */
static int draw_wrong(port *p)
{
    const pp_misbehave_config *m = &p->cfg->misbehave;
    const double shares[] = {m->bad_magic, m->outside_packet, m->outside_return,
                             m->unknown_channel, m->small_return};
    double u = sim_rng_unit(&p->rng), sum = 0;
    for (int i = 0; i < 5; i++) {
        sum += shares[i];
        if (u < sum)
            return BAD_MAGIC + i;
    }
    return WELL;
}

static int draw_channel(port *p)
{
    const packet_port_config *c = p->cfg;
    double total = 0, sum = 0;
    for (size_t i = 0; i < c->nchannels; i++)
        total += c->channels[i].share;
    double u = sim_rng_unit(&p->rng) * total;
    for (size_t i = 0; i + 1 < c->nchannels; i++) {
        sum += c->channels[i].share;
        if (u < sum)
            return (int)i;
    }
    return (int)c->nchannels - 1;
}

static void send_fast(port *p, io_request *r)
{
    const transport_guest *gc = &p->env.guest;
    int rc = gc->describe(gc->ctx, r);
    if (rc == SIM_ENOSPACE) {
        settle(p);
        gc->failed(p->env.k, gc->ctx, r);
        return;
    }
    if (rc) {
        sim_fail(p->env.k, rc);
        return;
    }
    pp_slot *s = &p->slots[r->slot];
    s->regs = r->cost.extra_exits ? list_messages(p, r->slot) * r->cost.extra_exits : 0;
    s->parts = r->cost.kicks ? r->cost.kicks : 1;
    s->next = 0;
    s->list_first = 0;
    r->parts.copy = r->cost.copy_cycles;
    if (r->cost.copy_cycles)
        vcpu_guest_named(r->cpu, "copy", r->cost.copy_cycles, (vcpu_call){0},
                         &r->io.sched_cycles);
    queue_next(p, r->slot);
}

static void send(transport *t, io_request *r)
{
    port *p = (port *)t;
    pp_slot *s = &p->slots[r->slot];
    /* Both draws for every request, so the stream advances the same way
     * whatever the mode. */
    s->channel = draw_channel(p);
    s->wrong = draw_wrong(p);
    if (p->mode == SWITCHING) {
        uint32_t slot = r->slot;
        if (sim_ring_push(&p->waiting, &slot))
            sim_fail(p->env.k, SIM_ENOMEM);
        return;
    }
    p->inflight++;
    if (p->mode == EMULATED)
        send_emulated(p, r);
    else
        send_fast(p, r);
}

/* ---- the lifecycle ------------------------------------------------------------ */

/* Adds the time spent in the mode left at `now` to its phase. */
static void account_mode(port *p, sim_time now)
{
    if (p->mode == SWITCHING)
        return;
    sim_time from = p->since > p->env.warmup ? p->since : p->env.warmup;
    int phase = p->mode == FAST ? TRANSPORT_FAST : TRANSPORT_EMULATED;
    if (now > from)
        p->env.stats->phase_cycles[phase] += now - from;
}

static void set_mode(port *p, int mode)
{
    sim_time now = sim_now(p->env.k);
    account_mode(p, now);
    p->mode = mode;
    p->since = now;
}

static void message_done(sim_kernel *k, void *ctx, uint64_t arg);

/* Sends the switch's next control message from vCPU 0. */
static void next_message(port *p)
{
    uint64_t gpa = p->control[0];
    int rc, type = p->kind == TRANSPORT_SHUT_DOWN ? PP_MSG_SHUTDOWN : PP_MSG_LIVE;
    int list = p->kind == TRANSPORT_GO_LIVE && p->msg_buffer > 0;
    if (list) {
        type = PP_MSG_PAGE_LIST;
        p->msg_first += write_message(p, gpa, type, p->msg_buffer - 1, p->msg_first, &rc);
    } else {
        write_message(p, gpa, type, 0, 0, &rc);
    }
    if (rc)
        return;
    p->msg_exits++;
    p->msg_work += p->port_tail;
    vcpu_exit_device(p->env.vcpus[0], p->port_path, (vcpu_device){serve, p, gpa},
                     (vcpu_call){0}, (vcpu_call){message_done, p, 0}, &p->msg_work, NULL);
}

/* Whether going live has a page list left to send, moving to it. */
static int more_lists(port *p)
{
    if (p->kind != TRANSPORT_GO_LIVE || p->registered == 0)
        return 0;
    if (p->msg_buffer > 0) {
        uint32_t n;
        p->env.scheme->page_list(p->env.buffers, p->msg_buffer - 1, &n);
        if (p->msg_first < n)
            return 1;
    }
    if (p->msg_buffer == p->registered)
        return 0;
    p->msg_buffer++;
    p->msg_first = 0;
    return 1;
}

static void finish_switch(port *p);

static void message_done(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    port *p = ctx;
    if (more_lists(p))
        next_message(p);
    else
        finish_switch(p);
}

/* Starts the switch the driver wants, once nothing is in flight. */
static void maybe_switch(port *p)
{
    if (p->inflight > 0 || p->msg_exits > 0)
        return;
    p->msg_buffer = 0;
    p->msg_first = 0;
    next_message(p);
}

/* The driver is told to go live (1) or to shut down (0). */
static void want(port *p, int live)
{
    p->want_live = live;
    if (p->mode == SWITCHING)
        return;                     /* finish_switch looks again */
    if ((p->mode == FAST) == live)
        return;
    p->kind = live ? TRANSPORT_GO_LIVE : TRANSPORT_SHUT_DOWN;
    p->switch_start = sim_now(p->env.k);
    p->msg_exits = p->msg_work = 0;
    set_mode(p, SWITCHING);
    maybe_switch(p);
}

/* A lifecycle event of the scenario (arg: going live); it schedules its
 * next occurrence when they repeat. */
static void lifecycle_event(sim_kernel *k, void *ctx, uint64_t arg)
{
    port *p = ctx;
    uint64_t every = p->cfg->lifecycle.every;
    if (every > 0 && sim_schedule(k, every, SIM_BAND_NORMAL, lifecycle_event, p, arg, NULL))
        sim_fail(k, SIM_ENOMEM);
    want(p, (int)arg);
}

/* The last message returned: the driver takes its new mode, then sends
 * what waited, or starts the switch asked for meanwhile. */
static void finish_switch(port *p)
{
    transport_stats *st = p->env.stats;
    st->switches[p->kind]++;
    st->switch_cycles[p->kind] += sim_now(p->env.k) - p->switch_start;
    st->switch_exits[p->kind] += p->msg_exits;
    st->switch_work[p->kind] += p->msg_work;
    p->msg_exits = 0;
    set_mode(p, p->kind == TRANSPORT_GO_LIVE ? FAST : EMULATED);
    if ((p->mode == FAST) != p->want_live) {
        want(p, p->want_live);
        return;
    }
    while (sim_ring_len(&p->waiting) && p->mode != SWITCHING) {
        uint32_t slot;
        sim_ring_pop(&p->waiting, &slot);
        p->inflight++;
        io_request *r = &p->env.requests[slot];
        if (p->mode == EMULATED)
            send_emulated(p, r);
        else
            send_fast(p, r);
    }
}

static void start(transport *t)
{
    port *p = (port *)t;
    const pp_lifecycle_config *lc = &p->cfg->lifecycle;
    p->mode = EMULATED;
    p->since = 0;
    if (sim_schedule_at(p->env.k, lc->live, SIM_BAND_NORMAL, lifecycle_event, p, 1, NULL) ||
        (lc->shutdown > 0 &&
         sim_schedule_at(p->env.k, lc->shutdown, SIM_BAND_NORMAL, lifecycle_event, p, 0, NULL)))
        sim_fail(p->env.k, SIM_ENOMEM);
}

static void finish(transport *t, sim_time now)
{
    account_mode((port *)t, now);
}

/* ---- what the scenario's checks ask --------------------------------------- */

#define BIT(id) SCHEME_NEEDS(VMM_COST_##id)

/* The emulated path serves requests before going live or after shutting
 * down. */
static int uses_emulated(const packet_port_config *pc)
{
    return pc->lifecycle.live > 0 || pc->lifecycle.shutdown > 0;
}

static const scheme_ops *variant_scheme(const variant_config *v)
{
    return scheme_find(system_scheme_names[v->scheme]);
}

static uint64_t needs(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const packet_port_config *pc = &g->packet_port;
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t m = variant_scheme(v)->needs | fabric_path_needs(port_path(&v->fabric), pio_in) |
                 BIT(memslot_lookup);
    if (max_reply(pc) > 0)
        m |= BIT(copy_per_kib);
    if (uses_emulated(pc))
        m |= fabric_path_needs(register_path(&pc->emulated), pio_in);
    return m;
}

/* The cheapest channel's service of a request of `bytes`. */
static uint64_t least_service(const packet_port_config *pc, uint64_t bytes)
{
    uint64_t least = UINT64_MAX;
    for (size_t i = 0; i < pc->nchannels; i++) {
        const pp_channel_config *ch = &pc->channels[i];
        uint64_t s = ch->fixed + (uint64_t)((double)bytes * ch->per_byte + 0.5);
        least = s < least ? s : least;
    }
    return least == UINT64_MAX ? 0 : least;
}

/* A packet's exit, both lookups and the cheapest callback; or, on the
 * emulated path, its register exits and the callback. */
static uint64_t least(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const vmm_costs *c = &cfg->costs;
    const packet_port_config *pc = &g->packet_port;
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t service = least_service(pc, workload_size_min(&g->workload));
    uint64_t fast = fabric_whole(c, port_path(&v->fabric), pio_in) + 2 * c->memslot_lookup +
                    service;
    uint64_t slow = pc->emulated.exits * fabric_whole(c, register_path(&pc->emulated), pio_in) +
                    service;
    uint64_t one = uses_emulated(pc) && slow < fast ? slow : fast;
    return one + g->workload.compute + g->workload.think;
}

static void check_channels(const packet_port_config *pc, const char *at, const scn_doc *doc,
                           scn_errors *errs)
{
    char path[96];
    snprintf(path, sizeof path, "%s.channels", at);
    double shares = 0;
    for (size_t i = 0; i < pc->nchannels; i++) {
        shares += pc->channels[i].share;
        for (size_t j = 0; j < i; j++) {
            if (pc->channels[i].id != pc->channels[j].id)
                continue;
            snprintf(path, sizeof path, "%s.channels.%zu.id", at, i);
            scn_errors_add(errs, scn_mark_of(doc, path),
                           "%s: expected an id no other channel has, found %llu (channel %zu "
                           "has it)", path, (unsigned long long)pc->channels[i].id, j);
            return;
        }
    }
    if (pc->nchannels == 0 || shares <= 0)
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected at least one channel with a share above 0 (the "
                       "callbacks packets are sent to), found %s", path,
                       pc->nchannels == 0 ? "none" : "every share 0");
}

static void check_lifecycle(const pp_lifecycle_config *lc, const char *at, const scn_doc *doc,
                            scn_errors *errs)
{
    char path[96];
    if (lc->shutdown > 0 && lc->shutdown <= lc->live) {
        snprintf(path, sizeof path, "%s.lifecycle.shutdown", at);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected a time after lifecycle.live (%llu cycles), found %llu "
                       "cycles", path, (unsigned long long)lc->live,
                       (unsigned long long)lc->shutdown);
        return;
    }
    if (lc->every > 0 && (lc->shutdown == 0 || lc->every <= lc->shutdown - lc->live)) {
        snprintf(path, sizeof path, "%s.lifecycle.every", at);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected a period longer than shutdown - live (%llu cycles), with "
                       "a shutdown to repeat, found %llu cycles", path,
                       (unsigned long long)(lc->shutdown > lc->live ? lc->shutdown - lc->live
                                                                    : 0),
                       (unsigned long long)lc->every);
    }
}

static void check_misbehave(const pp_misbehave_config *m, const char *at, const scn_doc *doc,
                            scn_errors *errs)
{
    double sum = m->bad_magic + m->outside_packet + m->outside_return + m->unknown_channel +
                 m->small_return;
    if (sum <= 1.0)
        return;
    char path[96];
    snprintf(path, sizeof path, "%s.misbehave", at);
    scn_errors_add(errs, scn_mark_of(doc, path),
                   "%s: expected shares that add up to at most 1 (each packet is wrong in "
                   "one way at most), found %g", path, sum);
}

/* A packet names its data by one address: linear, a registered buffer,
 * or physical. lguest's scatter-gather sections are another transport's. */
static void check_schemes(const system_config *cfg, size_t index, const scn_doc *doc,
                          scn_errors *errs)
{
    for (size_t v = 0; v < cfg->nvariants; v++) {
        if (cfg->variants[v].scheme != SYSTEM_SG)
            continue;
        char path[64];
        snprintf(path, sizeof path, "variants.%zu.scheme", v);
        scn_errors_add(errs, scn_mark_of(doc, path),
                       "%s: expected linear, page-list or physical, as guests.%zu (%s) uses "
                       "transport packet-port, whose packet names its data by one address; "
                       "found sg (lguest's sections: transport lguest)",
                       path, index, cfg->guests[index].name);
        return;
    }
}

static void check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs)
{
    const packet_port_config *pc = &cfg->guests[index].packet_port;
    char at[64];
    snprintf(at, sizeof at, "guests.%zu.packet_port", index);
    check_channels(pc, at, doc, errs);
    check_lifecycle(&pc->lifecycle, at, doc, errs);
    check_misbehave(&pc->misbehave, at, doc, errs);
    check_schemes(cfg, index, doc, errs);
}

/* ---- results --------------------------------------------------------------------- */

static json_t *phase_json(const transport_stats *s, int phase, const guest_config *g,
                          uint64_t hz)
{
    double seconds = (double)s->phase_cycles[phase] / (double)g->count / (double)hz;
    uint64_t n = s->phase_requests[phase];
    return json_pack("{s:I, s:I, s:f, s:f, s:o, s:o}",
                     "requests", (json_int_t)n, "bytes", (json_int_t)s->phase_bytes[phase],
                     "seconds", seconds,
                     "throughput_rps", seconds > 0 ? (double)n / seconds : 0.0,
                     "latency_cycles", rep_quantiles(&s->phase_latency[phase], 0),
                     "latency_ns", rep_quantiles(&s->phase_latency[phase], hz));
}

static json_t *switch_json(const transport_stats *s, int w, uint64_t hz)
{
    uint64_t n = s->switches[w];
    double each = n ? 1.0 / (double)n : 0.0;
    double cycles = (double)s->switch_cycles[w] * each;
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "count", (json_int_t)n,
                     "mean_cycles", cycles, "mean_ns", cycles * 1e9 / (double)hz,
                     "exits_per_switch", (double)s->switch_exits[w] * each,
                     "work_cycles_per_switch", (double)s->switch_work[w] * each);
}

#define REFUSED(name) (1u << TRANSPORT_REFUSED_##name)

static json_t *stats_json(const transport_stats *s, const guest_config *g, uint64_t hz)
{
    unsigned which = REFUSED(bad_magic) | REFUSED(outside_guest) | REFUSED(unknown_channel) |
                     REFUSED(small_return) | REFUSED(bad_buffer);
    return json_pack("{s:s, s:o, s:{s:o, s:o}, s:{s:o, s:o}}",
                     "kind", "packet-port",
                     "refused", transport_refusals_json(s, which),
                     "phases", "fast", phase_json(s, TRANSPORT_FAST, g, hz),
                     "emulated", phase_json(s, TRANSPORT_EMULATED, g, hz),
                     "switches", "go_live", switch_json(s, TRANSPORT_GO_LIVE, hz),
                     "shut_down", switch_json(s, TRANSPORT_SHUT_DOWN, hz));
}

const transport_ops transport_packet_port = {
    .name = "packet-port",
    .phases = 1,
    .create = create, .start = start, .send = send, .finish = finish, .destroy = destroy,
    .needs = needs, .check = check, .least = least, .json = stats_json,
};
