/*
 * lguest_int.h -- what the files of the lguest transport share (private
 * to them): lguest.c has the scenario block and the guests' drivers,
 * lguest_host.c the host's side (the key hash, SEND_DMA between guests,
 * the Launcher's devices), lguest_check.c what a class needs, its checks
 * and its results. lguest.h describes the model.
 */
#ifndef PVSIM_MODELS_LGUEST_INT_H
#define PVSIM_MODELS_LGUEST_INT_H

#include "models/system.h"
#include "sim/ring.h"

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

/* A struct lguest_dma in bytes. */
typedef struct lg_dma {
    uint32_t used_len;
    uint32_t addr[LG_MAX_SECTIONS];
    uint16_t len[LG_MAX_SECTIONS];
} lg_dma;

/* ---- lguest_host.c ---------------------------------------------------- */

/* The host-wide state (transport_ops.host_new / host_free). */
void *lg_host_new(sim_kernel *k, const system_config *cfg);
void lg_host_free(void *ctx);

/* The first binding of `key` whose owner is not `skip`, walking its hash
 * chain; *examined gets the entries looked at. */
lg_binding *lg_find_binding(const lguest_host *h, lg_key key, const lg *skip,
                            uint32_t *examined);
void lg_bind(lguest_host *h, lg_binding *b);
void lg_unbind(lguest_host *h, lg_binding *b);

/* The guest's bytes. Writes stop the run (sim_fail) when they fail and
 * return the status; reads of a range outside the guest give 0. */
int lg_write_bytes(lg *l, uint64_t gpa, const void *src, size_t len);
uint32_t lg_read32(const lg *l, uint64_t gpa);
int lg_write32(lg *l, uint64_t gpa, uint32_t v);
uint16_t lg_read16(const lg *l, uint64_t gpa);
int lg_write16(lg *l, uint64_t gpa, uint16_t v);
int lg_write_dma(lg *l, uint64_t gpa, const lg_dma *d);
/* -1 when the lguest_dma at `gpa` is not inside the guest. */
int lg_read_dma(const lg *l, uint64_t gpa, lg_dma *d);
/* A dma's sections over `bytes` of `pages`, one section a page. */
void lg_fill_sections(lg_dma *d, const uint64_t *pages, uint32_t npages, uint64_t bytes);
/* The used_len of the guest's bound buffer `b`. */
uint32_t lg_used_len(const lg *l, uint32_t b);

/* Sets the guest's interrupt pending (lguest's irqs_pending bit). */
void lg_raise_irq(lg *l);

/* SEND_DMA of a slot to its peer's shared key, in the hypercall (a
 * vcpu_device), and its effects at the device step's end. */
vcpu_work lg_host_send(sim_kernel *k, void *ctx, uint64_t slot);
void lg_send_signal(sim_kernel *k, void *ctx, uint64_t slot);
/* SEND_DMA of a slot to a private key: the Launcher serves it. */
vcpu_work lg_launcher_send(sim_kernel *k, void *ctx, uint64_t slot);
void lg_launcher_signal(sim_kernel *k, void *ctx, uint64_t slot);

/* ---- lguest.c ---------------------------------------------------------- */

/* The guest's interrupt handler (a vcpu_call). */
void lg_handle_interrupt(sim_kernel *k, void *ctx, uint64_t arg);
/* The guest class named `name`, its index in *index; NULL if none. */
const guest_config *lg_class_named(const system_config *cfg, const char *name, size_t *index);

/* ---- lguest_check.c ---------------------------------------------------- */

uint64_t lg_needs(const system_config *cfg, const guest_config *g, const variant_config *v);
uint64_t lg_least(const system_config *cfg, const guest_config *g, const variant_config *v);
void lg_check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs);
json_t *lg_stats_json(const transport_stats *s, const guest_config *g, uint64_t hz);

#endif
