/*
 * vpio_int.h -- what the files of the vpio transport share (private to
 * them): vpio.c has the scenario blocks and the guests' drivers,
 * vpio_host.c the hypervisor (owner, wait queue, slices, forced stops)
 * and the device (transmits, arrivals), vpio_check.c what a class needs,
 * its checks and its results. vpio.h describes the model.
 */
#ifndef PVSIM_MODELS_VPIO_INT_H
#define PVSIM_MODELS_VPIO_INT_H

#include "models/system.h"
#include "sim/ring.h"

typedef struct vp vp;

/* The hypervisor's side of the one shared device, host-wide
 * (transport_ops.host_new). Only the owner's transmits are ever on the
 * device: an owner gives the device up with nothing on it (a release
 * waits for its transmits) or loses what is on it (a forced stop). */
typedef struct vpio_host {
    const system_config *cfg;
    const shared_device_config *dc;
    sim_kernel *k;
    vp **all;                       /* every vpio instance, in instance order
                                       (classes in scenario order) */
    size_t n;
    size_t *first;                  /* [class]: position of its instance 0 */
    vp *owner;                      /* granted, or being switched to */
    int switching;                  /* the handover to owner is under way */
    int published;                  /* the state the shared pages show */
    const vp *context;              /* whose DMA context the IOMMU holds */
    size_t last;                    /* the last owner's position (round
                                       robin starts after it) */
    uint64_t tickets;               /* failed grabs so far (fifo order) */
    uint64_t waiting;               /* guests in the wait queue */
    sim_time slice_start;           /* the owner's current slice */
    sim_event_id slice_end, stop;
    sim_ring tx;                    /* the owner's transmits, slots in order */
    int serving;                    /* the device works on tx's head */
    sim_event_id tx_done;
} vpio_host;

/* What the hypervisor counts for one instance over the measured window,
 * for the variant's `shared_device` results. */
typedef struct vp_counts {
    uint64_t device_cycles;         /* owned, the handover excluded */
    uint64_t grants, handover_cycles;
    uint64_t forced_stops, lost;
    uint64_t stop_min, stop_max;    /* forced stops: cycles from the slice's
                                       start */
} vp_counts;

/* The grab's answer. */
enum { VP_QUEUED, VP_GRANTED };

/* One guest instance: its driver, and the hypervisor's record of it. */
struct vp {
    transport_env env;
    const vpio_config *cfg;
    vpio_host *host;
    size_t pos;                     /* in host->all */
    sim_rng rx_rng;                 /* its arrivals */
    uint64_t page;                  /* gpa of its shared info page */
    uint64_t hypercall_whole;       /* a hypercall's exit, handler, entry */
    /* the driver */
    int owns;                       /* it holds the device */
    int stopping;                   /* told to stop: it drains, then
                                       releases; set until the release
                                       returns */
    int acquiring;                  /* a state and grab under way */
    int queued;                     /* its grab failed: it awaits the grant */
    int saw;                        /* what state said before the grab, or
                                       -1 when it did not ask */
    int answer;                     /* the last grab's: VP_QUEUED or
                                       VP_GRANTED */
    uint32_t inflight;              /* posted, completion not yet handled */
    uint32_t starter;               /* the request the acquisition is for */
    sim_ring pending;               /* slots waiting for the device */
    sim_ring lost;                  /* slots lost at a forced stop, until
                                       the driver learns of it */
    /* the hypervisor's record */
    int waits;                      /* in the wait queue */
    uint64_t ticket;                /* its place there (fifo) */
    sim_time decided;               /* when it was given the device */
    sim_time since;                 /* when it began to own it */
    uint64_t held;                  /* packets the host holds for it */
    uint64_t host_next;             /* its release's next owner: position
                                       + 1, 0 for none */
    vp_counts counts;
};

/* ---- vpio_host.c ------------------------------------------------------- */

void *vp_host_new(sim_kernel *k, const system_config *cfg);
void vp_host_free(void *ctx);

/* The hypercalls, as device steps of a hypercall exit on the calling
 * guest's vCPU 0, and what lands at each one's signal. */
vcpu_work vp_host_state(sim_kernel *k, void *ctx, uint64_t arg);
vcpu_work vp_host_grab(sim_kernel *k, void *ctx, uint64_t arg);
void vp_grab_signal(sim_kernel *k, void *ctx, uint64_t arg);
vcpu_work vp_host_release(sim_kernel *k, void *ctx, uint64_t arg);
void vp_release_signal(sim_kernel *k, void *ctx, uint64_t arg);

/* The driver posts slot `slot`'s transmit to the device (no exit). One
 * posted by a guest that no longer owns the device is lost: the IOMMU
 * refuses its DMA. */
void vp_post(vp *v, uint32_t slot);

/* The instance's arrivals begin, and its shared page shows the state. */
void vp_host_start(vp *v);

/* The run ends at `now`: the owner's time so far counts. */
void vp_host_finish(vp *v, sim_time now);

/* Whether `now` lies in the measured window. */
int vp_in_window(const vp *v);

/* The variant's `shared_device` results; NULL when short of memory. */
json_t *vp_host_json(const void *ctx, uint64_t hz, sim_time start, sim_time end);

/* ---- vpio.c ------------------------------------------------------------- */

/* The driver's interrupt handlers (vcpu_call): its grant, the slice-end
 * upcall, the revocation, a transmit's completion (arg: the slot) and a
 * packet received. */
void vp_on_grant(sim_kernel *k, void *ctx, uint64_t arg);
void vp_on_upcall(sim_kernel *k, void *ctx, uint64_t arg);
void vp_on_revoke(sim_kernel *k, void *ctx, uint64_t arg);
void vp_on_transmitted(sim_kernel *k, void *ctx, uint64_t arg);
void vp_on_receive(sim_kernel *k, void *ctx, uint64_t arg);

/* ---- vpio_check.c ------------------------------------------------------- */

uint64_t vp_needs(const system_config *cfg, const guest_config *g, const variant_config *v);
uint64_t vp_least(const system_config *cfg, const guest_config *g, const variant_config *v);
void vp_check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs);
json_t *vp_stats_json(const transport_stats *s, const guest_config *g, uint64_t hz);

#endif
