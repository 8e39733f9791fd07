/*
 * ivshmem.h -- the inter-VM shared-memory device of seed 002, and the
 * guest-to-guest workloads that run over it.
 *
 * Registers (BAR0), per peer:
 *   IntrMask    interrupts are delivered only while it is non-zero
 *   IntrStatus  the value of the last doorbell message; reading it clears it
 *   Doorbell    write (dest << 8) | value (16-bit layout) or
 *               (dest << 16) | value (32-bit layout); dest 255 (0xffff)
 *               broadcasts to every other live peer
 *   IVPosition  this peer's id (read only)
 *   IVLiveList  a bit per peer id that is attached (read only)
 * The 16-bit layout has one 16-bit IVLiveList, so at most 16 peers. The
 * 32-bit layout keeps the 16 bytes of registers and gives IVLiveList the
 * rest of the 256-byte BAR0, 60 words of 32 bits: 1,920 peers
 * (docs/fabric.md, "Design decisions").
 *
 * Each peer has one eventfd; a doorbell signals the destination's. With
 * MSI vectors and the in-kernel handler, irqfd injects the interrupt
 * directly. With INTx (or MSI without irqfd, `handler: userspace`), the
 * destination's device-model thread wakes, sets IntrStatus to the value
 * (a value not read yet is lost, and counted) and raises the interrupt.
 * The guest's handler reads IntrStatus (an exit, INTx only), optionally
 * masks and unmasks around the handler (two more exits), drains the
 * messages waiting in shared memory, and writes the EOI. An interrupt
 * raised while one is pending is coalesced (counted); its messages are
 * drained by the pending one, so no message is ever stranded.
 *
 * Peers attach and detach at scheduled times. Each change updates
 * IVLiveList and interrupts every other live peer, whose handler reads
 * IVLiveList (an exit per word). A doorbell to a peer that is not live is
 * dropped (counted).
 */
#ifndef PVSIM_MODELS_IVSHMEM_H
#define PVSIM_MODELS_IVSHMEM_H

#include <jansson.h>
#include <stdint.h>

#include "models/cores.h"
#include "models/fabric.h"
#include "models/vcpu.h"
#include "models/vmm.h"
#include "sim/scenario.h"

typedef enum ivshmem_layout { IVSHMEM_16BIT, IVSHMEM_32BIT } ivshmem_layout;
typedef enum ivshmem_pattern {
    IVSHMEM_PINGPONG, IVSHMEM_FANOUT, IVSHMEM_BROADCAST, IVSHMEM_ALL_TO_ALL
} ivshmem_pattern;
typedef enum ivshmem_action { IVSHMEM_DETACH, IVSHMEM_ATTACH } ivshmem_action;

typedef struct ivshmem_event {
    uint64_t at;                    /* cycles from the start of the run */
    uint64_t peer;
    int action;                     /* ivshmem_action */
} ivshmem_event;

typedef struct ivshmem_config {
    uint64_t peers;                 /* 0: no ivshmem device */
    int layout;                     /* ivshmem_layout */
    uint64_t shared_memory;         /* BAR1 bytes, a power of two */
    int pattern;                    /* ivshmem_pattern */
    uint64_t size;                  /* bytes per message */
    uint64_t think;                 /* guest work between an initiator's rounds */
    ivshmem_event *events;
    size_t nevents;
} ivshmem_config;

extern const scn_schema ivshmem_schema;

/* The most peers a layout's IVLiveList can describe: 16 or 1,920. */
uint32_t ivshmem_max_peers(int layout);

/* The most peers a scenario may give (the 32-bit layout's). */
#define IVSHMEM_MAX_PEERS 1920u
/* The destination id that broadcasts: 255 or 65535. */
uint32_t ivshmem_broadcast_id(int layout);
/* A Doorbell register value, and its decoding. */
uint32_t ivshmem_doorbell(int layout, uint32_t dest, uint32_t value);
void ivshmem_decode(int layout, uint32_t doorbell, uint32_t *dest, uint32_t *value);
/* IVLiveList words a guest reads to learn who is live. */
uint32_t ivshmem_livelist_words(int layout, uint32_t peers);

/* Host threads the device needs: a vCPU per peer, and a device-model
 * thread per peer on the INTx or userspace path. */
uint32_t ivshmem_threads(const ivshmem_config *cfg, const fabric_config *f);

typedef struct ivshmem ivshmem;

/* Called after each round an initiator completes, for run control. */
typedef struct ivshmem_hooks {
    void (*round)(sim_kernel *k, void *ctx);
    void *ctx;
} ivshmem_hooks;

/* Builds the device and its peers' vCPUs and threads on `host` (before
 * cores_start); `eoi` is the EOI mode (vmm_eoi). `costs` outlives the
 * device. NULL when memory is short. */
ivshmem *ivshmem_new(sim_kernel *k, const ivshmem_config *cfg, const fabric_config *f,
                     const vmm_costs *costs, int eoi, cores *host, ivshmem_hooks hooks);
void ivshmem_free(ivshmem *d);

/* Starts every initiator's first round and schedules the attach and
 * detach events. A failure stops the run through sim_fail(). */
void ivshmem_start(ivshmem *d);

/* Records in `t` (not owned; it outlives `d`; NULL: nothing), from here
 * on: each peer's vCPU (vcpu_trace) and a track per peer ("ivshmem
 * peers") with a slice per message sent (copy in and doorbell) and
 * received (copy out), joined by a flow; per peer the signals doorbell
 * (an event per write), IntrStatus and the interrupt line; and a row per
 * message acted on after the warm-up. Call before ivshmem_start(). */
void ivshmem_trace(ivshmem *d, trc_recorder *t);

/* Also marks the end of the warm-up for the rows. */
void ivshmem_reset_stats(ivshmem *d);

/* Peer `id` is attached now. */
int ivshmem_live(const ivshmem *d, uint32_t id);

/* The counters the results report, as an X-macro: messages (deliveries
 * to a live peer), doorbells written, broadcasts, dropped (to a peer that
 * is not live), coalesced (raised while one was pending), status_lost,
 * the register accesses that exited (doorbell, status, mask, livelist),
 * rounds, rounds_cut (ended early by a detach), attach and detach events.
 * Exits by reason and interrupts delivered come from the peers' vCPUs. */
#define IVSHMEM_COUNTERS(X)                                                   \
    X(messages) X(doorbells) X(broadcasts) X(dropped) X(coalesced)           \
    X(status_lost) X(exits_doorbell) X(exits_status) X(exits_mask)           \
    X(exits_livelist) X(rounds) X(rounds_cut) X(attaches) X(detaches)

/* The results object of the window, NULL when memory is short. */
json_t *ivshmem_json(const ivshmem *d, uint64_t clock_hz);

#endif
