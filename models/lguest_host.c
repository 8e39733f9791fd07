/*
 * lguest_host.c -- the host's side of lguest's I/O (lguest.h): the key
 * hash of 61 buckets, SEND_DMA between guests inside the hypercall
 * (drivers/lguest/io.c of Linux 2.6.23), and the Launcher's console and
 * block devices (Documentation/lguest/lguest.c).
 *
 * Prices: a futex key is found by searching the process's mappings
 * (memslot_lookup, a stand-in: both search an address among a process's
 * regions), each hash-chain entry examined is a cache_ref, reading or
 * writing another guest's memory maps one page (pin_per_page) and copies
 * (copy_per_kib), as access_process_vm and get_user_pages do
 * (docs/costs.md).
 */
#include <stdlib.h>
#include <string.h>

#include "models/lguest_int.h"

/* ---- keys and bindings -------------------------------------------------- */

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
lg_binding *lg_find_binding(const lguest_host *h, lg_key key, const lg *skip,
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

void lg_bind(lguest_host *h, lg_binding *b)
{
    uint32_t i = bucket_of(b->key);
    b->chain = h->buckets[i];
    h->buckets[i] = b;
}

void lg_unbind(lguest_host *h, lg_binding *b)
{
    for (lg_binding **p = &h->buckets[bucket_of(b->key)]; *p; p = &(*p)->chain)
        if (*p == b) {
            *p = b->chain;
            return;
        }
}

void lg_host_free(void *ctx)
{
    lguest_host *h = ctx;
    if (!h)
        return;
    for (size_t c = 0; h->by_class && c < h->cfg->nguests; c++)
        free(h->by_class[c]);
    free(h->by_class);
    free(h);
}

void *lg_host_new(sim_kernel *k, const system_config *cfg)
{
    (void)k;
    lguest_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = cfg;
    h->by_class = calloc(cfg->nguests, sizeof *h->by_class);
    if (!h->by_class) {
        lg_host_free(h);
        return NULL;
    }
    for (size_t c = 0; c < cfg->nguests; c++) {
        if (cfg->guests[c].transport != TRANSPORT_LGUEST)
            continue;
        h->by_class[c] = calloc(cfg->guests[c].count, sizeof *h->by_class[c]);
        if (!h->by_class[c]) {
            lg_host_free(h);
            return NULL;
        }
    }
    return h;
}

/* ---- the guest's bytes -------------------------------------------------- */

int lg_write_bytes(lg *l, uint64_t gpa, const void *src, size_t len)
{
    int rc = guestbytes_write(l->env.bytes, gpa, src, len);
    if (rc)
        sim_fail(l->env.k, rc);
    return rc;
}

uint32_t lg_read32(const lg *l, uint64_t gpa)
{
    unsigned char b[4];
    if (guestbytes_read(l->env.bytes, gpa, b, 4))
        return 0;
    return guestbytes_get32(b);
}

int lg_write32(lg *l, uint64_t gpa, uint32_t v)
{
    unsigned char b[4];
    guestbytes_put32(b, v);
    return lg_write_bytes(l, gpa, b, 4);
}

uint16_t lg_read16(const lg *l, uint64_t gpa)
{
    unsigned char b[2];
    if (guestbytes_read(l->env.bytes, gpa, b, 2))
        return 0;
    return guestbytes_get16(b);
}

int lg_write16(lg *l, uint64_t gpa, uint16_t v)
{
    unsigned char b[2];
    guestbytes_put16(b, v);
    return lg_write_bytes(l, gpa, b, 2);
}

int lg_write_dma(lg *l, uint64_t gpa, const lg_dma *d)
{
    unsigned char b[LG_DMA_SIZE];
    guestbytes_put32(b, d->used_len);
    for (uint32_t i = 0; i < LG_MAX_SECTIONS; i++) {
        guestbytes_put32(b + 4 + 4 * i, d->addr[i]);
        guestbytes_put16(b + 4 + 4 * LG_MAX_SECTIONS + 2 * i, d->len[i]);
    }
    return lg_write_bytes(l, gpa, b, sizeof b);
}

/* Reads the lguest_dma at `gpa`; -1 when it is not inside the guest. */
int lg_read_dma(const lg *l, uint64_t gpa, lg_dma *d)
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
void lg_fill_sections(lg_dma *d, const uint64_t *pages, uint32_t npages, uint64_t bytes)
{
    memset(d, 0, sizeof *d);
    for (uint32_t i = 0; i < npages && i < LG_MAX_SECTIONS && bytes > 0; i++) {
        uint64_t n = bytes < LG_PAGE ? bytes : LG_PAGE;
        d->addr[i] = (uint32_t)pages[i];
        d->len[i] = (uint16_t)n;
        bytes -= n;
    }
}

uint32_t lg_used_len(const lg *l, uint32_t b)
{
    return lg_read32(l, l->recv + (uint64_t)b * LG_DMA_SIZE);
}

/* ---- interrupts ---------------------------------------------------------- */

/* Sets the guest's interrupt pending, as lguest's set_bit on irqs_pending:
 * one that is pending already is not raised again; its handler sees
 * everything that arrived meanwhile. */
void lg_raise_irq(lg *l)
{
    if (l->irq_pending)
        return;
    l->irq_pending = 1;
    l->irq_raised = sim_now(l->env.k);
    l->irq_cost = l->irq_sched = 0;
    vcpu_interrupt(l->env.vcpus[0], (vcpu_call){lg_handle_interrupt, l, 0}, &l->irq_cost,
                   &l->irq_sched);
}

/* ---- guest to guest: SEND_DMA inside the hypercall ------------------------ */

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
    lg_write32(dst, d->addr[0], lg_read32(src, s->addr[0]));
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
        if (lg_read_dma(b->owner, b->dmas + (uint64_t)idx * LG_DMA_SIZE, &d) == 0 &&
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
    lg_read_dma(dst, dst_gpa, &d);
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
    if (lg_write32(l, src_gpa, (uint32_t)moved) || lg_write32(dst, dst_gpa, (uint32_t)moved))
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
    lg_binding *b = lg_find_binding(l->host, key, l, &examined);
    uint64_t lookup = c->memslot_lookup + (uint64_t)examined * c->cache_ref;
    *spent += lookup;
    *translate += lookup;
    if (!b) {
        slot->why = TRANSPORT_REFUSED_unbound_key;
        return 0;
    }
    lg_dma src;
    *spent += copy_cost(c, LG_DMA_SIZE);
    lg_read_dma(l, src_gpa, &src);
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
vcpu_work lg_host_send(sim_kernel *k, void *ctx, uint64_t arg)
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
void lg_send_signal(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    if (slot->raise)
        lg_raise_irq(slot->raise);
}

/* ---- guest to Launcher: console and block ---------------------------------- */

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
    lg_binding *b = lg_find_binding(l->host, l->key, NULL, &examined);
    uint64_t lookup = c->memslot_lookup + (uint64_t)examined * c->cache_ref;
    r->parts.translate += lookup;
    spent += lookup;
    int idx = -1;
    for (uint32_t i = 0; b && i < b->num && idx < 0; i++) {
        spent += copy_cost(c, LG_DMA_SIZE);
        if (lg_used_len(l, i) == 0)
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
vcpu_work lg_launcher_send(sim_kernel *k, void *ctx, uint64_t arg)
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
    if (lg_read_dma(l, l->send_gpa[arg], &d) || !launcher_sections_ok(l, &d))
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
 * lg_used_len, then trigger_irq; or the console's used_len. A device removed
 * while the disk worked fails the request. */
void lg_launcher_signal(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    lg *l = ctx;
    lg_slot *slot = &l->slots[arg];
    io_request *r = &l->env.requests[arg];
    if (slot->why >= 0)
        return;
    if (l->cfg->device == LG_CONSOLE) {
        lg_write32(l, l->send_gpa[arg], (uint32_t)r->bytes);
        return;
    }
    int failed = l->removed;
    if (failed)
        l->env.stats->refused[TRANSPORT_REFUSED_removed]++;
    if (lg_write32(l, l->page + 12, failed ? 2 : 1) ||
        lg_write32(l, l->recv, slot->write || failed ? 0 : (uint32_t)r->bytes))
        return;
    slot->state = SERVED;
    lg_raise_irq(l);
}

