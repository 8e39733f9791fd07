/*
 * lguest.c -- the lguest transport of lguest.h: the host's key hash and
 * SEND_DMA (guest to guest, in the hypercall), the Launcher's console and
 * block devices (guest to Launcher, out to userspace), and the guests'
 * drivers: a network sender and its echo, a block driver that keeps one
 * request in flight, a console writer.
 *
 * Prices: lguest's Switcher was not KVM; its exits are priced on the
 * scenario's preset (the hypercall path, and the userspace round trip for
 * the Launcher), and its interrupts are delivered as the preset's vCPU
 * delivers them. Inside the hypercall: a futex key is found by searching
 * the process's mappings (memslot_lookup, a stand-in: both search an
 * address among a process's regions), each hash-chain entry examined is
 * a cache_ref, reading or writing another guest's memory maps one page
 * (pin_per_page) and copies (copy_per_kib), as access_process_vm and
 * get_user_pages do. docs/transports.md lists these choices.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/system.h"
#include "sim/report.h"
#include "sim/ring.h"

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
    {.key = "read_share", .type = SCN_DOUBLE,
     .offset = SCN_AT(lg_block_config, read_share, double), .min = 0, .max = 1, .def = "0.5",
     .doc = "share of requests that read; the rest write"},
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

/* ---- the host: keys and bindings -------------------------------------------- */

/* A futex-style key: the same for two guests that share the page (the
 * space of their network), private to a guest otherwise. */
typedef struct lg_key {
    uint64_t space, offset;
} lg_key;

typedef struct lg lg;

/* A BIND_DMA: an array of lguest_dmas bound to a key, in a hash chain. */
typedef struct lg_binding {
    lg_key key;
    lg *owner;
    uint64_t dmas;                  /* gpa of the array */
    uint32_t num, next;             /* its size; where the next scan starts */
    struct lg_binding *chain;
} lg_binding;

typedef struct lguest_host {
    const system_config *cfg;
    lg_binding *buckets[LG_HASH_BUCKETS];
    lg ***by_class;                 /* [class][instance], for pairing */
} lguest_host;

#define SHARED_SPACE (1ull << 63)

static uint32_t bucket_of(lg_key key)
{
    uint64_t h = key.space * 0x9e3779b97f4a7c15ull ^ (key.offset + 1) * 0xc2b2ae3d27d4eb4full;
    return (uint32_t)((h >> 32) % LG_HASH_BUCKETS);
}

static int key_eq(lg_key a, lg_key b)
{
    return a.space == b.space && a.offset == b.offset;
}

/* The first binding of `key` whose owner is not `skip`, walking its hash
 * chain; *examined gets the entries looked at. */
static lg_binding *find_binding(const lguest_host *h, lg_key key, const lg *skip,
                                uint32_t *examined)
{
    *examined = 0;
    for (lg_binding *b = h->buckets[bucket_of(key)]; b; b = b->chain) {
        (*examined)++;
        if (b->owner != skip && key_eq(b->key, key))
            return b;
    }
    return NULL;
}

static void bind(lguest_host *h, lg_binding *b)
{
    uint32_t i = bucket_of(b->key);
    b->chain = h->buckets[i];
    h->buckets[i] = b;
}

static void unbind(lguest_host *h, lg_binding *b)
{
    for (lg_binding **p = &h->buckets[bucket_of(b->key)]; *p; p = &(*p)->chain)
        if (*p == b) {
            *p = b->chain;
            return;
        }
}

static void host_free(void *ctx)
{
    lguest_host *h = ctx;
    if (!h)
        return;
    for (size_t c = 0; h->by_class && c < h->cfg->nguests; c++)
        free(h->by_class[c]);
    free(h->by_class);
    free(h);
}

static void *host_new(sim_kernel *k, const system_config *cfg)
{
    (void)k;
    lguest_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = cfg;
    h->by_class = calloc(cfg->nguests, sizeof *h->by_class);
    if (!h->by_class) {
        host_free(h);
        return NULL;
    }
    for (size_t c = 0; c < cfg->nguests; c++) {
        if (cfg->guests[c].transport != TRANSPORT_LGUEST)
            continue;
        h->by_class[c] = calloc(cfg->guests[c].count, sizeof *h->by_class[c]);
        if (!h->by_class[c]) {
            host_free(h);
            return NULL;
        }
    }
    return h;
}

/* ---- the instance ------------------------------------------------------------ */

/* What the driver writes wrong into a request's lguest_dma. */
enum { WELL, PAGE_CROSSING, OUTSIDE_SECTION, UNBOUND_KEY };

/* Where a slot's request is. */
enum { IDLE, SENDING, AWAITING, SERVED };

typedef struct lg_slot {
    int state;
    int wrong;
    int write;                      /* block: a write */
    int why;                        /* the host's refusal, or -1 */
    uint32_t buffer;                /* echo: the receive buffer it holds */
    lg *raise;                      /* an interrupt to raise at the signal */
    uint64_t moved;                 /* bytes the transfer moved */
} lg_slot;

struct lg {
    transport_env env;
    const lguest_config *cfg;
    lguest_host *host;
    sim_rng rng;                    /* misbehaviour, block directions */
    size_t cls;
    lg *peer;                       /* net */
    lg_key key;                     /* what it binds: its net slot, or its
                                       block page */
    lg_binding binding;
    int bound;
    uint64_t desc;                  /* gpa of its device descriptor */
    uint64_t page;                  /* gpa of its device's page (block) */
    uint64_t recv;                  /* gpa of its bound lguest_dma array */
    uint32_t nrecv, recv_pages;     /* buffers, pages each */
    uint64_t *recv_gpa;             /* nrecv x recv_pages page addresses */
    unsigned char *taken;           /* echo: buffer held by a slot */
    sim_time *filled_at;            /* when the host filled each buffer */
    uint64_t *send_gpa;             /* each slot's send lguest_dma */
    lg_slot *slots;
    int removed, gone;              /* REMOVED set by the host; acknowledged */
    int irq_pending;
    sim_time irq_raised;            /* when the pending interrupt was raised */
    uint64_t irq_cost, irq_sched;   /* and its path */
    int busy;                       /* block: a request in flight */
    sim_ring waiting;               /* block: slots waiting; echo: idle slots */
    uint32_t current;               /* block: the slot in flight */
    uint64_t hypercall_whole;       /* a hypercall served in the kernel */
    uint64_t launcher_to_signal;    /* one that goes out to the Launcher: */
    uint64_t launcher_tail;         /* up to its device, and the rest */
};

static int write_bytes(lg *l, uint64_t gpa, const void *src, size_t len)
{
    int rc = guestbytes_write(l->env.bytes, gpa, src, len);
    if (rc)
        sim_fail(l->env.k, rc);
    return rc;
}

static uint32_t read32(const lg *l, uint64_t gpa)
{
    unsigned char b[4];
    if (guestbytes_read(l->env.bytes, gpa, b, 4))
        return 0;
    return guestbytes_get32(b);
}

static int write32(lg *l, uint64_t gpa, uint32_t v)
{
    unsigned char b[4];
    guestbytes_put32(b, v);
    return write_bytes(l, gpa, b, 4);
}

static uint16_t read16(const lg *l, uint64_t gpa)
{
    unsigned char b[2];
    if (guestbytes_read(l->env.bytes, gpa, b, 2))
        return 0;
    return guestbytes_get16(b);
}

static int write16(lg *l, uint64_t gpa, uint16_t v)
{
    unsigned char b[2];
    guestbytes_put16(b, v);
    return write_bytes(l, gpa, b, 2);
}

/* A struct lguest_dma in bytes. */
typedef struct lg_dma {
    uint32_t used_len;
    uint32_t addr[LG_MAX_SECTIONS];
    uint16_t len[LG_MAX_SECTIONS];
} lg_dma;

static int write_dma(lg *l, uint64_t gpa, const lg_dma *d)
{
    unsigned char b[LG_DMA_SIZE];
    guestbytes_put32(b, d->used_len);
    for (uint32_t i = 0; i < LG_MAX_SECTIONS; i++) {
        guestbytes_put32(b + 4 + 4 * i, d->addr[i]);
        guestbytes_put16(b + 4 + 4 * LG_MAX_SECTIONS + 2 * i, d->len[i]);
    }
    return write_bytes(l, gpa, b, sizeof b);
}

/* Reads the lguest_dma at `gpa`; -1 when it is not inside the guest. */
static int read_dma(const lg *l, uint64_t gpa, lg_dma *d)
{
    unsigned char b[LG_DMA_SIZE];
    if (guestbytes_read(l->env.bytes, gpa, b, sizeof b))
        return -1;
    d->used_len = guestbytes_get32(b);
    for (uint32_t i = 0; i < LG_MAX_SECTIONS; i++) {
        d->addr[i] = guestbytes_get32(b + 4 + 4 * i);
        d->len[i] = guestbytes_get16(b + 4 + 4 * LG_MAX_SECTIONS + 2 * i);
    }
    return 0;
}

/* A dma's sections over `bytes` of the pages at `pages`, one a page. */
static void fill_sections(lg_dma *d, const uint64_t *pages, uint32_t npages, uint64_t bytes)
{
    memset(d, 0, sizeof *d);
    for (uint32_t i = 0; i < npages && i < LG_MAX_SECTIONS && bytes > 0; i++) {
        uint64_t n = bytes < LG_PAGE ? bytes : LG_PAGE;
        d->addr[i] = (uint32_t)pages[i];
        d->len[i] = (uint16_t)n;
        bytes -= n;
    }
}

/* ---- building ----------------------------------------------------------------- */

static const guest_config *class_named(const system_config *cfg, const char *name,
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
    if (l->cfg->role == LG_ECHO && class_named(cfg, l->cfg->peer, &peer))
        return cfg->guests[peer].workload.size;
    return l->env.cfg->workload.size;
}

static void destroy(transport *t)
{
    lg *l = (lg *)t;
    if (!l)
        return;
    if (l->bound)
        unbind(l->host, &l->binding);
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
    int rc = write_bytes(l, l->desc, d, sizeof d);
    if (rc == 0 && l->cfg->device == LG_BLOCK)
        rc = write32(l, l->page + 16, (uint32_t)l->cfg->block.sectors);
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
        class_named(cfg, l->cfg->peer, &peer);
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
            fill_sections(&d, &l->recv_gpa[b * l->recv_pages], l->recv_pages, bytes);
        int rc = write_dma(l, l->recv + (uint64_t)b * LG_DMA_SIZE, &d);
        if (rc)
            return rc;
    }
    l->binding = (lg_binding){.key = l->key, .owner = l, .dmas = l->recv, .num = l->nrecv};
    bind(l->host, &l->binding);
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

/* ---- interrupts ----------------------------------------------------------------- */

static void handle_interrupt(sim_kernel *k, void *ctx, uint64_t arg);

/* Sets the guest's interrupt pending, as lguest's set_bit on irqs_pending:
 * one that is pending already is not raised again; its handler sees
 * everything that arrived meanwhile. */
static void raise_irq(lg *l)
{
    if (l->irq_pending)
        return;
    l->irq_pending = 1;
    l->irq_raised = sim_now(l->env.k);
    l->irq_cost = l->irq_sched = 0;
    vcpu_interrupt(l->env.vcpus[0], (vcpu_call){handle_interrupt, l, 0}, &l->irq_cost,
                   &l->irq_sched);
}

/* ---- guest to guest: SEND_DMA inside the hypercall --------------------------- */

static uint64_t copy_cost(const vmm_costs *c, uint64_t bytes)
{
    return (bytes * c->copy_per_kib + 512) / 1024;
}

/* lguest's check_dma_list: each section inside the guest and within one
 * page; the refusal's reason, or -1. */
static int check_sections(const lg *l, const lg_dma *d)
{
    for (uint32_t i = 0; i < LG_MAX_SECTIONS && d->len[i]; i++) {
        if (!guestbytes_inside(l->env.bytes, d->addr[i], d->len[i]))
            return TRANSPORT_REFUSED_outside_guest;
        if (d->len[i] > LG_PAGE || d->addr[i] % LG_PAGE + d->len[i] > LG_PAGE)
            return TRANSPORT_REFUSED_bad_section;
    }
    return -1;
}

static uint64_t total_len(const lg_dma *d)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < LG_MAX_SECTIONS && d->len[i]; i++)
        n += d->len[i];
    return n;
}

/* Copies the first word of the source's data (the sender's tag) to the
 * destination's: the only bytes of a message that are stored. */
static void copy_tag(lg *src, const lg_dma *s, lg *dst, const lg_dma *d)
{
    if (s->len[0] < 4 || d->len[0] < 4)
        return;
    write32(dst, d->addr[0], read32(src, s->addr[0]));
}

/* Scans the destination's array from its cursor for a free buffer (each
 * read maps a page of the other guest and copies the struct); its index,
 * or -1. */
static int scan_free(lg *l, lg_binding *b, uint64_t *spent)
{
    const vmm_costs *c = l->env.costs;
    for (uint32_t i = 0; i < b->num; i++) {
        uint32_t idx = (b->next + i) % b->num;
        lg_dma d;
        *spent += c->pin_per_page + copy_cost(c, LG_DMA_SIZE);
        if (read_dma(b->owner, b->dmas + (uint64_t)idx * LG_DMA_SIZE, &d) == 0 &&
            d.used_len == 0)
            return (int)idx;
    }
    return -1;
}

/* The transfer into buffer `idx` of `b`: both lists checked, the
 * destination's pages mapped, the data copied, both used_lens written.
 * Returns the bytes moved, or 0 with slot->why set. */
static uint64_t transfer(lg *l, lg_slot *slot, const lg_dma *src, uint64_t src_gpa,
                         lg_binding *b, int idx, uint64_t *spent)
{
    const vmm_costs *c = l->env.costs;
    lg *dst = b->owner;
    uint64_t dst_gpa = b->dmas + (uint64_t)idx * LG_DMA_SIZE;
    lg_dma d;
    read_dma(dst, dst_gpa, &d);
    int why = check_sections(dst, &d);
    if (why < 0)
        why = check_sections(l, src);
    if (why >= 0) {
        slot->why = why;
        return 0;
    }
    uint64_t moved = total_len(src) < total_len(&d) ? total_len(src) : total_len(&d);
    for (uint32_t i = 0; i < LG_MAX_SECTIONS && d.len[i]; i++)
        *spent += c->pin_per_page;
    *spent += copy_cost(c, moved) + c->pin_per_page + copy_cost(c, 4);
    copy_tag(l, src, dst, &d);
    if (write32(l, src_gpa, (uint32_t)moved) || write32(dst, dst_gpa, (uint32_t)moved))
        return 0;
    dst->filled_at[idx] = sim_now(l->env.k);
    b->next++;
    dst->env.stats->received++;
    return moved;
}

/* One look for the key's binding and a free buffer: the futex key, the
 * hash chain, the sender's own lguest_dma, the scan. */
static int attempt(lg *l, lg_slot *slot, lg_key key, uint64_t src_gpa, uint64_t *spent,
                   uint64_t *translate)
{
    const vmm_costs *c = l->env.costs;
    uint32_t examined;
    lg_binding *b = find_binding(l->host, key, l, &examined);
    uint64_t lookup = c->memslot_lookup + (uint64_t)examined * c->cache_ref;
    *spent += lookup;
    *translate += lookup;
    if (!b) {
        slot->why = TRANSPORT_REFUSED_unbound_key;
        return 0;
    }
    lg_dma src;
    *spent += copy_cost(c, LG_DMA_SIZE);
    read_dma(l, src_gpa, &src);
    int idx = scan_free(l, b, spent);
    if (idx < 0) {
        slot->why = TRANSPORT_REFUSED_no_buffer;
        slot->raise = b->owner;     /* raised though nothing moved: to refill */
        return 0;
    }
    slot->why = -1;
    slot->moved = transfer(l, slot, &src, src_gpa, b, idx, spent);
    if (slot->moved > 0)
        slot->raise = b->owner;
    return slot->moved > 0;
}

/* SEND_DMA of slot `arg` to a shared key, when the hypercall's handler
 * reaches it. A destination with no free buffer gets its interrupt (to
 * refill) and one more try, as lguest's send_dma gives it. */
static vcpu_work host_send(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    io_request *r = &l->env.requests[arg];
    uint64_t spent = 0, translate = 0;
    lg_key key = slot->wrong == UNBOUND_KEY ? (lg_key){l->peer->key.space, 400}
                                            : l->peer->key;
    slot->raise = NULL;
    slot->moved = 0;
    l->env.stats->sent++;
    int ok = attempt(l, slot, key, l->send_gpa[arg], &spent, &translate);
    if (!ok && slot->why == TRANSPORT_REFUSED_no_buffer)
        ok = attempt(l, slot, key, l->send_gpa[arg], &spent, &translate);
    if (!ok)
        l->env.stats->refused[slot->why]++;
    r->parts.translate += translate;
    r->parts.device += spent - translate;
    return (vcpu_work){.busy = spent};
}

/* The transfer's effects land: the destination's interrupt. */
static void send_signal(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    if (slot->raise)
        raise_irq(slot->raise);
}

static void send_returned(sim_kernel *k, void *ctx, uint64_t arg);

static void queue_send(lg *l, io_request *r)
{
    l->slots[r->slot].state = SENDING;
    r->parts.notify += l->hypercall_whole;
    vcpu_exit_device(r->cpu, FABRIC_PATH_HYPERCALL, (vcpu_device){host_send, l, r->slot},
                     (vcpu_call){send_signal, l, r->slot}, (vcpu_call){send_returned, l, r->slot},
                     NULL, &r->io.sched_cycles);
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
    int moved = read32(l, l->send_gpa[arg]) > 0;
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
    fill_sections(&d, pages, npages, bytes);
    if (l->slots[slot].wrong == PAGE_CROSSING) {
        d.addr[0] += LG_PAGE / 2;
        d.len[0] = LG_PAGE;
    } else if (l->slots[slot].wrong == OUTSIDE_SECTION) {
        d.addr[0] = (uint32_t)guestbytes_size(l->env.bytes);
    }
    return write_dma(l, l->send_gpa[slot], &d);
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

/* Describes the buffer through the scheme; 0, or the request has ended
 * (failed, or the run stops). */
static int describe(lg *l, io_request *r)
{
    const transport_guest *gc = &l->env.guest;
    int rc = gc->describe(gc->ctx, r);
    if (rc == SIM_ENOSPACE)
        gc->failed(l->env.k, gc->ctx, r);
    else if (rc)
        sim_fail(l->env.k, rc);
    return rc;
}

/* A sender's request: its data tagged with its slot, the lguest_dma over
 * its buffer's pages, SEND_DMA to its peer's key. */
static void net_send(lg *l, io_request *r)
{
    if (describe(l, r))
        return;
    uint64_t pages[LG_MAX_SECTIONS];
    uint32_t n = buffer_pages(l, r->slot, pages);
    l->slots[r->slot].wrong = draw_wrong(l);
    if (write32(l, pages[0], r->slot) || write_send(l, r->slot, pages, n, r->bytes))
        return;
    queue_send(l, r);
}

/* ---- receiving ------------------------------------------------------------------ */

static void give_back(lg *l, uint32_t b)
{
    l->taken[b] = 0;
    write32(l, l->recv + (uint64_t)b * LG_DMA_SIZE, 0);
}

static uint32_t used_len(const lg *l, uint32_t b)
{
    return read32(l, l->recv + (uint64_t)b * LG_DMA_SIZE);
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
                   used_len(l, b)))
        return;
    queue_send(l, r);
}

/* A filled buffer nobody holds, or -1. */
static int filled(const lg *l)
{
    for (uint32_t b = 0; b < l->nrecv; b++)
        if (!l->taken[b] && used_len(l, b) > 0)
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
    uint32_t tag = read32(l, l->recv_gpa[b * l->recv_pages]);
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

/* The Launcher's dma2iov: each section below the top of the guest's
 * memory (check_pointer); it does not look for page crossings. */
static int launcher_sections_ok(const lg *l, const lg_dma *d)
{
    for (uint32_t i = 0; i < LG_MAX_SECTIONS && d->len[i]; i++)
        if (!guestbytes_inside(l->env.bytes, d->addr[i], d->len[i]))
            return 0;
    return 1;
}

/* The block device: the reply buffer the guest bound at the block page
 * (get_dma_buffer: the key, its chain, each lguest_dma read until a free
 * one), then the disk, blocked. */
static vcpu_work serve_block(lg *l, lg_slot *slot, io_request *r, uint64_t spent)
{
    const vmm_costs *c = l->env.costs;
    uint32_t examined;
    lg_binding *b = find_binding(l->host, l->key, NULL, &examined);
    uint64_t lookup = c->memslot_lookup + (uint64_t)examined * c->cache_ref;
    r->parts.translate += lookup;
    spent += lookup;
    int idx = -1;
    for (uint32_t i = 0; b && i < b->num && idx < 0; i++) {
        spent += copy_cost(c, LG_DMA_SIZE);
        if (used_len(l, i) == 0)
            idx = (int)i;
    }
    if (idx < 0) {
        slot->why = TRANSPORT_REFUSED_no_buffer;
        l->env.stats->refused[slot->why]++;
        return (vcpu_work){.busy = spent};
    }
    const lg_disk_config *disk = slot->write ? &l->cfg->block.write : &l->cfg->block.read;
    uint64_t wait = disk->latency + (uint64_t)((double)r->bytes * disk->per_byte + 0.5);
    slot->raise = l;
    r->parts.device += spent - r->parts.translate + wait;
    return (vcpu_work){.busy = spent, .wait = wait};
}

/* A SEND_DMA to a private key, once the Launcher's read() has returned
 * with it: the host found the futex key (it is private: no hash walk),
 * the Launcher converts the lguest_dma, finds the device watching the
 * key, and serves it. */
static vcpu_work launcher_send(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    io_request *r = &l->env.requests[arg];
    const vmm_costs *c = l->env.costs;
    uint64_t spent = c->memslot_lookup;
    r->parts.translate += spent;
    slot->raise = NULL;
    slot->why = -1;
    l->env.stats->sent++;
    lg_dma d;
    if (read_dma(l, l->send_gpa[arg], &d) || !launcher_sections_ok(l, &d))
        slot->why = TRANSPORT_REFUSED_outside_guest;
    else if (slot->wrong == UNBOUND_KEY)
        slot->why = TRANSPORT_REFUSED_unbound_key;
    else if (l->removed)
        slot->why = TRANSPORT_REFUSED_removed;
    if (slot->why >= 0) {
        l->env.stats->refused[slot->why]++;
        return (vcpu_work){.busy = spent};
    }
    if (l->cfg->device == LG_BLOCK)
        return serve_block(l, slot, r, spent);
    const lg_console_config *con = &l->cfg->console;
    uint64_t work = con->fixed + (uint64_t)((double)r->bytes * con->per_byte + 0.5);
    r->parts.device += work;
    return (vcpu_work){.busy = spent + work};
}

/* The Launcher's effects land: the block page's result and the reply's
 * used_len, then trigger_irq; or the console's used_len. A device removed
 * while the disk worked fails the request. */
static void launcher_signal(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    io_request *r = &l->env.requests[arg];
    if (slot->why >= 0)
        return;
    if (l->cfg->device == LG_CONSOLE) {
        write32(l, l->send_gpa[arg], (uint32_t)r->bytes);
        return;
    }
    int failed = l->removed;
    if (failed)
        l->env.stats->refused[TRANSPORT_REFUSED_removed]++;
    if (write32(l, l->page + 12, failed ? 2 : 1) ||
        write32(l, l->recv, slot->write || failed ? 0 : (uint32_t)r->bytes))
        return;
    slot->state = SERVED;
    raise_irq(l);
}

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

/* Writes the block page and the lguest_dmas of slot r's request and sends
 * it: a write sends its data's sections, a read sends an empty lguest_dma
 * and points the bound reply buffer at its pages. */
static void block_start(lg *l, io_request *r)
{
    lg_slot *slot = &l->slots[r->slot];
    l->busy = 1;
    l->current = r->slot;
    if (describe(l, r)) {
        block_idle(l);
        return;
    }
    const lg_block_config *bc = &l->cfg->block;
    slot->write = sim_rng_unit(&l->rng) >= bc->read_share;
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
        fill_sections(&reply, pages, n, r->bytes);
    if (write_bytes(l, l->page, bp, sizeof bp) || write_dma(l, l->recv, &reply) ||
        write_send(l, r->slot, pages, slot->write ? n : 0, slot->write ? r->bytes : 0))
        return;
    r->parts.notify += l->launcher_to_signal;
    vcpu_exit_device(r->cpu, FABRIC_PATH_KICK_HYPERCALL_USER,
                     (vcpu_device){launcher_send, l, r->slot},
                     (vcpu_call){launcher_signal, l, r->slot},
                     (vcpu_call){launcher_returned, l, r->slot}, NULL, &r->io.sched_cycles);
}

/* A console write: the lguest_dma over the buffer's pages, to key 0. */
static void console_write(lg *l, io_request *r)
{
    if (describe(l, r))
        return;
    uint64_t pages[LG_MAX_SECTIONS];
    uint32_t n = buffer_pages(l, r->slot, pages);
    l->slots[r->slot].wrong = draw_wrong(l);
    l->slots[r->slot].state = SENDING;
    if (write_send(l, r->slot, pages, n, r->bytes))
        return;
    r->parts.notify += l->launcher_to_signal;
    vcpu_exit_device(r->cpu, FABRIC_PATH_KICK_HYPERCALL_USER,
                     (vcpu_device){launcher_send, l, r->slot},
                     (vcpu_call){launcher_signal, l, r->slot},
                     (vcpu_call){launcher_returned, l, r->slot}, NULL, &r->io.sched_cycles);
}

/* The block request's interrupt was handled: the driver reads the result
 * and gives the reply buffer back. */
static void block_completed(sim_kernel *k, lg *l, uint64_t cost, uint64_t sched)
{
    if (!l->busy || l->slots[l->current].state != SERVED)
        return;
    io_request *r = &l->env.requests[l->current];
    uint32_t result = read32(l, l->page + 12);
    write32(l, l->recv, 0);
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
    uint16_t status = read16(l, l->desc + 4);
    if (!(status & LG_S_REMOVED) || (status & LG_S_REMOVED_ACK))
        return;
    write16(l, l->desc + 4, (uint16_t)(status | LG_S_REMOVED_ACK));
    l->gone = 1;
}

/* The guest's interrupt handler: removal, then what its device filled. */
static void handle_interrupt(sim_kernel *k, void *ctx, uint64_t arg)
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
            if (used_len(l, b) > 0)
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
    if (write16(l, l->desc + 4, (uint16_t)(read16(l, l->desc + 4) | LG_S_REMOVED)))
        return;
    raise_irq(l);
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
        if (class_named(l->host->cfg, l->cfg->peer, &peer))
            l->peer = l->host->by_class[peer][l->env.index];
        if (!l->peer) {
            sim_fail(l->env.k, SIM_EINVAL);
            return;
        }
    }
    uint16_t status = read16(l, l->desc + 4);
    if (write16(l, l->desc + 4,
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

/* ---- what the scenario's checks ask --------------------------------------- */

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

static uint64_t needs(const system_config *cfg, const guest_config *g, const variant_config *v)
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

static uint64_t least(const system_config *cfg, const guest_config *g, const variant_config *v)
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

static void error_at(scn_errors *errs, const scn_doc *doc, const char *path, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void error_at(scn_errors *errs, const scn_doc *doc, const char *path, const char *fmt,
                     ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scn_errors_add(errs, scn_mark_of(doc, path), "%s: %s", path, msg);
}

/* lguest guests were i386 uniprocessors with 4 KiB pages and 32-bit
 * physical addresses, and a struct lguest_dma holds 16 sections of at
 * most a page. */
static void check_guest(const guest_config *g, size_t i, const scn_doc *doc, scn_errors *errs)
{
    char path[96];
    if (g->vcpus != 1) {
        snprintf(path, sizeof path, "guests.%zu.vcpus", i);
        error_at(errs, doc, path, "expected 1, as lguest guests ran on one vCPU, found %llu",
                 (unsigned long long)g->vcpus);
    }
    if (g->memory.page_size != GUEST_PAGE_4K || g->memory.size >= (1ull << 32)) {
        snprintf(path, sizeof path, "guests.%zu.memory", i);
        error_at(errs, doc, path,
                 "expected 4KiB pages and less than 4GiB, as lguest's i386 guests had: an "
                 "lguest_dma's addresses are 32-bit, and the Launcher's device pages lie "
                 "above the guest's memory; found %llu bytes%s",
                 (unsigned long long)g->memory.size,
                 g->memory.page_size != GUEST_PAGE_4K ? " in 2MiB pages" : "");
    }
    if (g->workload.size > (uint64_t)LG_MAX_SECTIONS * LG_PAGE) {
        snprintf(path, sizeof path, "guests.%zu.workload.size", i);
        error_at(errs, doc, path,
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
    const guest_config *peer = class_named(cfg, lc->peer, &p);
    if (!peer || p == i || peer->transport != TRANSPORT_LGUEST ||
        peer->lguest.device != LG_NET || !peer->lguest.peer ||
        strcmp(peer->lguest.peer, g->name) != 0 || peer->lguest.role == lc->role ||
        peer->count != g->count) {
        error_at(errs, doc, path,
                 "expected another lguest net class whose peer is '%s', with the other "
                 "role and as many instances (%llu); found none that is", g->name,
                 (unsigned long long)g->count);
        return;
    }
    if (lc->role == LG_SEND && lc->receive_buffers < g->workload.depth) {
        snprintf(path, sizeof path, "guests.%zu.lguest.receive_buffers", i);
        error_at(errs, doc, path,
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
    if (lc->device == LG_NET) {
        if (lc->remove_at > 0) {
            snprintf(path, sizeof path, "guests.%zu.lguest.remove_at", i);
            error_at(errs, doc, path,
                     "expected 0 for device net: the Launcher removes the devices it "
                     "serves (block, console), not a network between guests; found %llu "
                     "cycles", (unsigned long long)lc->remove_at);
        }
        check_peer(cfg, i, doc, errs);
        return;
    }
    if (lc->peer) {
        snprintf(path, sizeof path, "guests.%zu.lguest.peer", i);
        error_at(errs, doc, path, "expected no peer for device %s (it talks to the Launcher), "
                 "found '%s'", lg_device_names[lc->device], lc->peer);
    }
    if (lc->device == LG_BLOCK && lc->block.sectors * 512 < g->workload.size) {
        snprintf(path, sizeof path, "guests.%zu.lguest.block.sectors", i);
        error_at(errs, doc, path, "expected room for one request of workload.size, found "
                 "%llu sectors", (unsigned long long)lc->block.sectors);
    }
}

static void check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs)
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

static json_t *stats_json(const transport_stats *s, const guest_config *g, uint64_t hz)
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

const transport_ops transport_lguest = {
    .name = "lguest",
    .host_new = host_new, .host_free = host_free,
    .create = create, .start = start, .send = send, .finish = finish, .destroy = destroy,
    .needs = needs, .check = check, .least = least, .json = stats_json,
};
