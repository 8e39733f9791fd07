/*
 * guest.h -- a guest with one or more vCPUs running a closed-loop I/O
 * workload through a transport and a buffer scheme.
 *
 * The guest keeps `depth` requests outstanding, each in a slot that owns
 * one buffer of the scheme's making. A request's life:
 *   issue -> the transport (transport.h) runs it: it asks the scheme to
 *     describe the buffer (guest side: copies, allocation, registration)
 *     when its path hands one over, queues the exits on the slot's vCPU,
 *     has the host resolve the buffer and serve the request, and tells
 *     the guest how it ended
 *   -> done: record -> compute (guest work on the vCPU) -> think (idle)
 *      -> the slot's next request
 *   -> failed (the scheme could not describe the buffer: no contiguous
 *      memory, on_fragmented = fail): counted; the slot retries after
 *      run.retry
 *   -> refused (the host rejected it, or the device is gone): counted by
 *      reason; the slot goes on with think time and its next request.
 * The doorbell transport is the path of docs/fabric.md: a kick, a backend
 * worker of the shared device, an interrupt; packet-port, lguest,
 * virtio-pci and vpio are the transports of seeds 000, 001, 003 and 004
 * (docs/transports.md).
 *
 * Slot i runs on vCPU i mod `vcpus`: its copies, exits, interrupt and
 * compute all go there, as a multi-queue driver binds a queue to a vCPU.
 * With nothing to do, the vCPU halts (a HLT exit) or polls, as the fabric
 * says.
 *
 * Guest memory is a copy of a guestmem aged once for all variants
 * (guest_age_memory). When remap_rate > 0, the
 * guest moves random buffer pages to new frames at that rate (a Poisson
 * process), which invalidates cached translations and stale registrations.
 *
 * Every random stream is named after the instance (guest/<class>/<i>/...),
 * and the workload's own stream is separate from the scheme's, the
 * remaps' and the transport's, so all variants of a scenario see the same
 * workload.
 */
#ifndef PVSIM_MODELS_GUEST_H
#define PVSIM_MODELS_GUEST_H

#include <stdint.h>

#include "models/cores.h"
#include "models/device.h"
#include "models/fabric.h"
#include "models/lguest.h"
#include "models/packet_port.h"
#include "models/scheme.h"
#include "models/transport.h"
#include "models/virtio.h"
#include "models/workload.h"
#include "models/vcpu.h"
#include "models/vmm.h"
#include "models/vpio.h"
#include "sim/scenario.h"
#include "sim/stats.h"

typedef enum guest_page_size { GUEST_PAGE_4K, GUEST_PAGE_2M } guest_page_size;

typedef struct guest_memory_config {
    uint64_t size;                  /* guest-physical bytes */
    int page_size;                  /* guest_page_size */
    double used;                    /* share in use before the run */
    double fragmentation;           /* unusable free space index at 2 MiB */
    double remap_rate;              /* buffer pages moved per second */
} guest_memory_config;

typedef struct guest_config {
    char *name;                     /* class name; instances are name/0.. */
    uint64_t count;                 /* instances of this class */
    uint64_t vcpus;                 /* per instance; request slot i runs on
                                       vCPU i mod vcpus */
    int transport;                  /* transport_kind */
    guest_workload_config workload;
    guest_memory_config memory;
    packet_port_config packet_port; /* transport: packet-port */
    lguest_config lguest;           /* transport: lguest */
    virtio_config virtio;           /* transport: virtio-pci */
    vpio_config vpio;               /* transport: vpio */
} guest_config;

extern const scn_schema guest_schema;

/* The allocator order of a memory config's page size. */
unsigned guest_page_order(const guest_memory_config *m);

/* The counters of guest_stats, as an X-macro so that summing them cannot
 * miss one. failed: requests the scheme could not send; refused: requests
 * the host rejected; arrivals and dropped: open-loop arrivals, and those
 * dropped for want of a slot or backlog; sum_*: cycles of the breakdown
 * (scheduling: wake-ups and context switches on the way). */
#define GUEST_COUNTERS(X)                                                     \
    X(requests) X(bytes) X(failed) X(refused) X(remaps) X(arrivals) X(dropped) \
    X(sum_notify) X(sum_exit) X(sum_translate) X(sum_copy) X(sum_device)     \
    X(sum_interrupt) X(sum_scheduling) X(sum_queueing)

/* Per-class results; sums in cycles. */
typedef struct guest_stats {
#define X(name) uint64_t name;
    GUEST_COUNTERS(X)
#undef X
    vcpu_counts vcpu;               /* exits by reason, interrupts */
    scheme_cost scheme;             /* counters of completed requests */
    uint64_t alloc_failures;        /* every failed contiguous allocation */
    sim_hist latency;               /* issue to interrupt handled */
    transport_stats transport;      /* what the class's transport counts */
    workload_stats mix;             /* latency by size class and direction */
} guest_stats;

int guest_stats_init(guest_stats *s);
void guest_stats_fini(guest_stats *s);
/* Forgets everything recorded (end of warm-up). */
void guest_stats_reset(guest_stats *s);
/* Adds `st` into `sum` (histograms merged). 0, or SIM_ENOMEM. */
int guest_stats_add(guest_stats *sum, const guest_stats *st);

/* Called after each completed request, for run control. */
typedef struct guest_hooks {
    void (*completed)(sim_kernel *k, void *ctx);
    void *ctx;
} guest_hooks;

/* What a guest instance is built from; everything outlives the guest but
 * `instance`, which the guest copies. */
typedef struct guest_env {
    sim_kernel *k;
    const guest_config *cfg;
    const vmm_costs *costs;
    const fabric_config *fabric;
    int eoi;                        /* vmm_eoi: the fabric's, resolved */
    int pio_in_emulated;            /* the preset's platform */
    cores *host;                    /* the vCPU becomes one of its threads */
    pv_device dev;                  /* doorbell: the shared device */
    void *transport_host;           /* the transport's host-wide state */
    guest_stats *stats;
    guest_hooks hooks;
    uint64_t seed;
    const char *instance;           /* names the streams and tracks; read
                                       only while guest_new() runs (the
                                       guest keeps a copy) */
    const scheme_ops *scheme;
    const scheme_config *scheme_cfg;
    const scheme_costs *scheme_costs;
    const guestmem *memory;         /* aged memory to start from (shared:
                                       unchanged until guest_free) */
    tcache *tc;                     /* the host's, shared */
    uint32_t space;                 /* this guest's address space in tc */
    uint64_t retry;                 /* cycles before a failed slot retries */
    uint64_t warmup;                /* cycles before statistics count */
    uint64_t clock_hz;
    uint64_t index;                 /* the instance within its class */
    trc_recorder *trace;            /* NULL: nothing recorded; not owned */
} guest_env;

typedef struct guest guest;

/* Ages fresh memory for an instance as its config says, from the
 * instance's own stream. NULL with `*rc` set. */
guestmem *guest_age_memory(const guest_config *cfg, uint64_t seed, const char *instance,
                           int *rc);

/* Creates one guest instance over a copy of env->memory and sets its
 * scheme up (registration at go-live; its cost lands in `setup`); its vCPU
 * is added to env->host, so call before cores_start(). NULL with `*rc` set
 * (SIM_ENOSPACE when the buffers do not fit, SIM_ENOMEM). */
guest *guest_new(const guest_env *env, scheme_cost *setup, int *rc);
void guest_free(guest *g);

/* Starts the transport (its lifecycle, its bindings), issues the first
 * `depth` requests at the current time and starts the remap process. A
 * failure stops the run through sim_fail(). */
void guest_start(guest *g);

/* The run ends at `now`: time integrals go into the stats. */
void guest_finish(guest *g, sim_time now);

/* The vCPU threads' statistics, summed over the guest's vCPUs (halts are
 * their wake-ups). */
void guest_get_vcpu_stats(const guest *g, thread_stats *out);

/* The guest memory's state (after aging, and as the run leaves it). */
void guest_get_memory_stats(const guest *g, guestmem_stats *out, double *unusable);

#endif
