/*
 * vpio.h -- VPIO (seed 004): one physical device passed through to
 * several guests, owned by one guest at a time. The transport `vpio`
 * (vpio.c: the guests' drivers, vpio_host.c: the hypervisor and the
 * device, vpio_check.c: what a scenario must give, and the results).
 *
 * The protocol (docs/transports.md works it by hand):
 *   state    the driver learns whether the device is idle or busy: a
 *            hypercall, or a read of the guest's shared info page, which
 *            the hypervisor keeps up to date (no exit);
 *   grab     a hypercall: it succeeds when the device is idle (nobody
 *            owns it, no handover under way), and the hypervisor switches
 *            the IOMMU's DMA context to the guest before it returns; when
 *            the device is busy it fails and the hypervisor puts the guest
 *            in its wait queue. A grab that fails after `state` said idle
 *            is a race (another guest grabbed in between): counted;
 *   grant    when the device frees and guests wait, the hypervisor picks
 *            one (`policy`: fifo, the order of their failed grabs; or
 *            round_robin, the first waiting instance after the last
 *            owner in instance order), switches the IOMMU to it and tells
 *            it by an upcall (a virtual interrupt);
 *   slice    the owner's time; at its end, if a guest waits, an upcall
 *            tells the owner to stop (nobody waits: the slice is renewed);
 *            a well-behaved driver stops posting, waits for its transmits
 *            in flight, and calls `release` (a hypercall that hands the
 *            device to the next guest);
 *   stop     `grace` after the slice's end, an owner that has not
 *            released is stopped: what it had on the device is lost (its
 *            requests refused, reason forced_stop), its DMA context is
 *            revoked (a virtual interrupt tells it), and the device goes
 *            to the next guest.
 * The owner transmits by posting to the device directly (passthrough: no
 * exit); the device serves one transmit at a time, `service.fixed +
 * service.per_byte x bytes` of device time, and its completion interrupt
 * reaches the guest as the variant's fabric delivers interrupts. Packets
 * arrive for every guest (Poisson, `receive.rate` per guest instance):
 * the owner's are delivered at once (DMA and an interrupt); the others'
 * wait in a host buffer of `host_buffer` packets per guest until the
 * guest next owns the device (copied in with the grant), or are dropped.
 *
 * A guest class may misbehave (`vpio.misbehave`): ignore the slice-end
 * upcall (it keeps posting), hold the device (it honours the upcall but
 * never releases), or grab without checking the state.
 */
#ifndef PVSIM_MODELS_VPIO_H
#define PVSIM_MODELS_VPIO_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/scenario.h"

/* The values of the state word of a guest's shared info page (u32 at
 * offset 0, little-endian) and of the `state` hypercall. */
enum vpio_device_state { VPIO_IDLE = 0, VPIO_BUSY = 1 };

typedef enum vpio_policy { VPIO_FIFO, VPIO_ROUND_ROBIN } vpio_policy;
typedef enum vpio_state_source { VPIO_STATE_HYPERCALL, VPIO_STATE_SHARED_PAGE } vpio_state_source;

/* The device's transmit time: device time, the vCPU is free meanwhile. */
typedef struct vpio_service_config {
    uint64_t fixed;
    double per_byte;
} vpio_service_config;

/* Packets arriving for each guest instance. */
typedef struct vpio_receive_config {
    double rate;                    /* per second, Poisson; 0: none */
    uint64_t size;                  /* bytes each */
} vpio_receive_config;

/* The host's one shared device (the scenario's `shared_device:`). */
typedef struct shared_device_config {
    int policy;                     /* vpio_policy */
    uint64_t slice;                 /* an owner's time before its upcall */
    uint64_t grace;                 /* from the upcall to the forced stop */
    uint64_t host_buffer;           /* packets held per non-owner guest */
    vpio_service_config service;
    vpio_receive_config receive;
} shared_device_config;

typedef struct vpio_misbehave_config {
    bool ignore_upcall;             /* keeps posting after the upcall */
    bool skip_state;                /* grabs without asking the state */
    bool hold;                      /* never releases the device */
} vpio_misbehave_config;

/* A guest class's driver (`vpio:` in a guest class). */
typedef struct vpio_config {
    int state;                      /* vpio_state_source */
    vpio_misbehave_config misbehave;
} vpio_config;

struct system_config;

/* The rules of the `shared_device:` block (vpio_check.c): given exactly
 * when a guest class uses vpio, with a slice above 0. Adds an error at
 * the key to change for each one broken. */
void vpio_check_device(const struct system_config *cfg, const scn_doc *doc, scn_errors *errs);

/* About the most kernel events the arrivals and slices of a run of every
 * variant make (system_event_bound's share of vpio). */
double vpio_event_bound(const struct system_config *cfg);

extern const scn_schema shared_device_schema;
extern const scn_schema vpio_schema;

/* "fifo", "round_robin"; "hypercall", "shared_page" (NULL-terminated). */
extern const char *const vpio_policy_names[];
extern const char *const vpio_state_names[];

#endif
