/*
 * transport.h -- how a guest's request travels from its driver to a
 * device and back: the interface every transport implements (one file
 * each: transport_doorbell.c, packet_port.c, lguest.c, vpio.c).
 *
 * The guest (guest.h) owns the workload: it decides when a slot issues,
 * records what the request cost, and gives the slot its next request.
 * Between the two, the transport runs the request: it asks the guest's
 * buffer scheme to describe the buffer when its path hands one over,
 * queues the exits and guest work on the slot's vCPU, serves the request
 * on the host, and tells the guest the outcome through its callbacks:
 *   done     the guest saw the completion; the request's `parts` say
 *            where its cycles went
 *   failed   the scheme could not describe the buffer (no contiguous
 *            memory): the slot retries after run.retry
 *   refused  the host rejected the request, or the device was gone: the
 *            guest counts it and goes on with its next request
 * Transports print nothing. A failure inside an event handler (memory to
 * queue work) stops the run through sim_fail().
 */
#ifndef PVSIM_MODELS_TRANSPORT_H
#define PVSIM_MODELS_TRANSPORT_H

#include <jansson.h>
#include <stdint.h>

#include "models/device.h"
#include "models/fabric.h"
#include "models/guestbytes.h"
#include "models/scheme.h"
#include "models/vcpu.h"
#include "models/vmm.h"
#include "sim/scenario.h"
#include "sim/stats.h"

struct guest_config;
struct variant_config;
struct system_config;

typedef enum transport_kind {
    TRANSPORT_DOORBELL,             /* a kick, a backend worker, an interrupt */
    TRANSPORT_PACKET_PORT,          /* seed 000: plex86's packet port */
    TRANSPORT_LGUEST,               /* seed 001: lguest's DMA hypercalls */
    TRANSPORT_VIRTIO,               /* seed 003: virtio-pci rings and kicks */
    TRANSPORT_VPIO,                 /* seed 004: a passthrough device shared
                                       between guests */
    TRANSPORT_COUNT
} transport_kind;

/* "doorbell", "packet-port", "lguest", "virtio-pci", "vpio", NULL: the
 * scenario's names. */
extern const char *const transport_names[];

/* Where a request's cycles went, by the results' breakdown. Each is time
 * the request could not do without; the guest adds the rest as queueing. */
typedef struct io_parts {
    uint64_t notify;                /* the notification's exit path */
    uint64_t exit;                  /* other exits: registrations */
    uint64_t translate;             /* the host finding the buffer */
    uint64_t copy;                  /* the guest copying data */
    uint64_t device;                /* the device's service */
    uint64_t interrupt;             /* signalling and delivering completion */
    uint64_t scheduling;            /* wake-ups and context switches */
} io_parts;

/* The lifecycle phase a request was served in (packet-port; the other
 * transports serve everything in TRANSPORT_FAST). */
typedef enum transport_phase {
    TRANSPORT_FAST,                 /* the accelerated path */
    TRANSPORT_EMULATED,             /* the emulated slow path */
    TRANSPORT_PHASES
} transport_phase;

/* Why the host refused a request. */
#define TRANSPORT_REFUSALS(X)                                                 \
    X(bad_magic) X(outside_guest) X(unknown_channel) X(small_return)         \
    X(bad_buffer) X(bad_section) X(unbound_key) X(no_buffer) X(removed)      \
    X(forced_stop)

typedef enum transport_refusal {
#define X(name) TRANSPORT_REFUSED_##name,
    TRANSPORT_REFUSALS(X)
#undef X
    TRANSPORT_REFUSAL_COUNT
} transport_refusal;

const char *transport_refusal_name(int why);

/* One outstanding request, from issue to the guest seeing it done. The
 * guest owns it; the transport fills `parts`, `phase` and `io`. */
typedef struct io_request {
    pv_io io;                       /* first: the doorbell device hands
                                       back &io */
    uint32_t slot;
    vcpu *cpu;                      /* the vCPU its slot runs on */
    uint64_t bytes;                 /* payload */
    sim_time issued;
    scheme_cost cost;               /* the scheme's describe and resolve */
    io_parts parts;
    int phase;                      /* transport_phase */
    int read;                       /* its data flows host to guest */
    sim_time arrived;               /* when the guest wanted it: latency
                                       counts from here */
    uint64_t copy_out;              /* a read's copy after the completion */
    int described;                  /* the scheme holds a buffer for it */
    void *transport;                /* the instance serving it */
    uint64_t scratch;               /* for the transport's own use */
    uint64_t flow;                  /* its trace flow, kick to completion */
} io_request;

/* The lifecycle's switches (packet-port). */
typedef enum transport_switch {
    TRANSPORT_GO_LIVE, TRANSPORT_SHUT_DOWN, TRANSPORT_SWITCHES
} transport_switch;

/* What a vpio class counts (summed over its instances), as an X-macro so
 * that summing them cannot miss one: the device time it owned and the
 * window it was measured over (cycles, summed over instances), the
 * protocol's calls and outcomes, the handovers' latency, what the
 * hypervisor did to it, its transmits, and the packets that arrived for
 * it (docs/transports.md). */
#define TRANSPORT_VPIO_COUNTERS(X)                                            \
    X(device_cycles) X(window_cycles) X(state_checks) X(grabs)                \
    X(grab_failures) X(races) X(grants) X(handover_cycles) X(upcalls)         \
    X(renewals) X(releases) X(forced_stops) X(lost) X(transmits)              \
    X(rx_arrived) X(rx_delivered) X(rx_buffered) X(rx_dropped)

typedef struct transport_vpio_stats {
#define X(name) uint64_t name;
    TRANSPORT_VPIO_COUNTERS(X)
#undef X
} transport_vpio_stats;

/* What a class's transports count (summed over its instances). */
typedef struct transport_stats {
    uint64_t refused[TRANSPORT_REFUSAL_COUNT];
    uint64_t phase_requests[TRANSPORT_PHASES];
    uint64_t phase_bytes[TRANSPORT_PHASES];
    uint64_t phase_cycles[TRANSPORT_PHASES];   /* time spent in each phase
                                                   (summed over instances) */
    sim_hist phase_latency[TRANSPORT_PHASES];
    uint64_t switches[TRANSPORT_SWITCHES];
    uint64_t switch_cycles[TRANSPORT_SWITCHES];      /* from the event to the
                                                         driver's new mode */
    uint64_t switch_exits[TRANSPORT_SWITCHES];       /* its messages' exits */
    uint64_t switch_work[TRANSPORT_SWITCHES];        /* and their cycles on
                                                         the vCPU */
    uint64_t sent;                  /* lguest: SEND_DMAs, received: buffers */
    uint64_t received;              /* filled for this guest */
    uint64_t waits;                 /* sends retried for want of a buffer */
    /* virtio-pci */
    uint64_t served;                /* requests completed */
    uint64_t kicks, kicks_suppressed;
    uint64_t irqs, irqs_suppressed, irqs_coalesced;
    uint64_t ring_waits;            /* requests that waited for descriptors */
    uint64_t probe_exits, probe_cycles;
    transport_vpio_stats vpio;
} transport_stats;

int transport_stats_init(transport_stats *s);
void transport_stats_fini(transport_stats *s);
void transport_stats_reset(transport_stats *s);
void transport_stats_add(transport_stats *sum, const transport_stats *add);

/* The guest's side of the conversation. */
typedef struct transport_guest {
    void *ctx;
    /* Asks the scheme to describe slot r->slot's buffer into r->cost:
     * 0, SIM_ENOSPACE (no memory run: call failed), or SIM_ENOMEM. */
    int (*describe)(void *ctx, io_request *r);
    /* Adds the host side of the scheme (resolve) into r->cost. */
    void (*resolve)(void *ctx, io_request *r);
    void (*done)(sim_kernel *k, void *ctx, io_request *r);
    void (*failed)(sim_kernel *k, void *ctx, io_request *r);
    void (*refused)(sim_kernel *k, void *ctx, io_request *r);
} transport_guest;

/* What a transport instance is built from; everything outlives it. */
typedef struct transport_env {
    sim_kernel *k;
    const struct guest_config *cfg; /* the guest's class */
    uint64_t index;                 /* the instance within its class */
    const vmm_costs *costs;
    const fabric_config *fabric;
    int pio_in_emulated;
    const scheme_ops *scheme;
    scheme *buffers;                /* the scheme's instance */
    const scheme_cost *setup;       /* what its go-live registered */
    const scheme_config *scheme_cfg;
    const scheme_costs *scheme_costs;
    cores *cores;                   /* the host's: for backend threads */
    vcpu *const *vcpus;             /* the guest's */
    uint32_t nvcpus;
    io_request *requests;           /* the guest's slots, workload.depth */
    guestmem *mem;                  /* the guest's physical memory */
    guestbytes *bytes;              /* and the bytes its structures hold */
    pv_device dev;                  /* doorbell: the shared device */
    void *host;                     /* a host-wide state the transport
                                       created (transport_ops.host_new) */
    transport_stats *stats;         /* the class's */
    transport_guest guest;
    uint64_t seed;
    const char *instance;           /* names the transport's streams; the
                                       guest's copy, which outlives the
                                       transport */
    uint64_t warmup;                /* cycles before statistics count */
    uint64_t retry;                 /* run.retry: a driver's wait before it
                                       tries again */
} transport_env;

typedef struct transport transport;

typedef struct transport_ops {
    const char *name;
    /* Its requests are served in lifecycle phases, and results show each
     * (transport_stats.phase_*): the guest records them then only. */
    int phases;
    /* Host-wide state shared by every instance (lguest's key hash), or
     * NULL ops when the transport has none. */
    void *(*host_new)(sim_kernel *k, const struct system_config *cfg);
    void (*host_free)(void *host);
    /* NULL with *rc set (SIM_ENOMEM, SIM_ENOSPACE when the guest's
     * memory cannot hold its structures). */
    transport *(*create)(const transport_env *env, int *rc);
    /* At time 0, before the guest issues: lifecycle events, bindings. */
    void (*start)(transport *t);
    /* Runs request r to its outcome. */
    void (*send)(transport *t, io_request *r);
    /* At the end of the run: flushes time integrals into the stats. */
    void (*finish)(transport *t, sim_time now);
    void (*destroy)(transport *t);
    /* The primitives a class using this transport needs under variant v
     * (SCHEME_NEEDS bits), besides its scheme's. */
    uint64_t (*needs)(const struct system_config *cfg, const struct guest_config *g,
                      const struct variant_config *v);
    /* Adds an error for each rule class `index` breaks that spans
     * several keys (its block, the variants' schemes); NULL for none. */
    void (*check)(const struct system_config *cfg, size_t index, const scn_doc *doc,
                  scn_errors *errs);
    /* Host threads an instance adds besides its vCPUs (device backends),
     * and how many of them poll under variant v (each owns a core); NULL
     * for none. */
    uint32_t (*threads)(const struct guest_config *g, const struct variant_config *v,
                        uint32_t *polling);
    /* The least cycles one request can take under variant v. */
    uint64_t (*least)(const struct system_config *cfg, const struct guest_config *g,
                      const struct variant_config *v);
    /* The class's own results ("transport" object); NULL when short of
     * memory. */
    json_t *(*json)(const transport_stats *s, const struct guest_config *g,
                    uint64_t clock_hz);
    /* The host-wide state's results, set in each variant's results under
     * `host_results` (vpio: "shared_device"), over the measured window;
     * NULL ops when the transport has none, NULL when short of memory. */
    const char *host_results;
    json_t *(*host_json)(const void *host, uint64_t clock_hz, sim_time window_start,
                         sim_time window_end);
} transport_ops;

extern const transport_ops transport_doorbell, transport_packet_port, transport_lguest,
    transport_virtio, transport_vpio;

/* The kick (fabric_kick) a doorbell request takes with scheme `s`: the
 * scheme's own when it has one (sg's SEND_DMA hypercall), else the
 * fabric's. */
int transport_doorbell_kick(const scheme_ops *s, const fabric_config *f);

/* Asks the guest's scheme to describe r's buffer for a transport's path:
 * 0, or the request has ended (no memory run: the guest's failed
 * callback, and the slot retries after run.retry; out of memory: the run
 * stops through sim_fail()). */
int transport_describe(const transport_env *env, io_request *r);

/* The ops of a transport_kind. */
const transport_ops *transport_of(int kind);

/* The refusal counters as a results object, only those of `which`
 * (TRANSPORT_REFUSED_ bits). NULL when short of memory. */
json_t *transport_refusals_json(const transport_stats *s, unsigned which);

#endif
