/*
 * virtio_int.h -- what the files of the virtio-pci transport share
 * (private to them): virtio.c has the scenario block, building and the
 * guest's driver, virtio_dev.c the device's backend, virtio_check.c what
 * a class needs, its checks and its results. virtio.h describes the
 * model.
 */
#ifndef PVSIM_MODELS_VIRTIO_INT_H
#define PVSIM_MODELS_VIRTIO_INT_H

#include "models/system.h"
#include "sim/ring.h"

typedef struct vio vio;

/* What the backend is doing. */
typedef enum vdev_state {
    DEV_SLEEP,                      /* notifications on, thread blocked */
    DEV_BUSY,                       /* serving the ring */
    DEV_SPIN,                       /* polling the ring for its budget */
    DEV_POLL_IDLE                   /* a polling thread with nothing to do */
} vdev_state;

/* One virtio device: its ring in the guest's memory, the driver's
 * bookkeeping and the backend's. */
typedef struct vdev {
    vio *owner;
    uint32_t index;                 /* within the instance */
    int up;                         /* probed: it serves requests */
    core_thread *thread;            /* its backend */
    uint64_t desc, avail, used;     /* gpa of the three parts */
    /* the driver */
    uint16_t *free_next;            /* the free descriptors' links */
    uint16_t free_head, num_free;
    uint16_t avail_idx;             /* what it wrote to avail idx */
    uint16_t added;                 /* added since its last kick decision */
    uint16_t last_used;             /* used entries it has seen */
    uint32_t *head_slot;            /* a chain's head: its request slot */
    sim_ring waiting;               /* slots waiting for descriptors, or
                                       for the device to come up */
    int irq_pending;                /* an interrupt raised, not handled */
    uint32_t irq_owner;             /* the slot whose completion raised it */
    uint64_t irq_cost, irq_sched;   /* its path */
    int poll_queued;                /* completion: poll: a poll is queued */
    /* the backend */
    int state;                      /* vdev_state */
    uint16_t last_avail;            /* the next entry it serves */
    uint16_t used_idx;              /* what it wrote to used idx */
    uint16_t signalled_used;        /* used idx at its last interrupt */
    int signalled_valid;
} vdev;

/* Where a slot's request is. */
typedef struct vio_slot {
    uint32_t dev;                   /* its device */
    uint16_t head, ndesc;           /* its chain */
    int interrupted;                /* its completion raised the interrupt */
    int ring_wait;                  /* it waited for descriptors */
    int served;                     /* the backend has taken it */
    uint64_t kick_cycles;           /* its kick's cycles up to the signal */
    uint64_t kick_sched;            /* and the wake-ups the kick paid */
} vio_slot;

struct vio {
    transport_env env;
    const virtio_config *cfg;
    int event_idx;                  /* the feature is effective */
    int kick;                       /* virtio_kick, after negotiation */
    int kick_path;                  /* fabric_path_id */
    uint64_t kick_to_signal;
    uint32_t ndev;
    vdev *devs;
    vio_slot *slots;
    uint16_t *chain;                /* scratch: the descriptors of a chain */
    int polling_backend;            /* fabric.backend: poll */
    int poll_completion;            /* fabric.completion: poll */
};

/* ---- virtio.c ---------------------------------------------------------- */

/* The features as names, for results. */
json_t *vio_feature_names(const virtio_features *f);
/* The kick a class ends up with: its choice, or port I/O when the
 * hypercall kick's feature is not effective. */
int vio_effective_kick(const virtio_config *c);
/* The kick path of a kick under a fabric. */
int vio_kick_path(int kick, const fabric_config *f);
/* The devices of an instance, hotplugged ones included. */
uint32_t vio_devices(const virtio_config *c);
/* Descriptors a request of `bytes` takes: one per 4 KiB page. */
uint32_t vio_descriptors(uint64_t bytes);
/* The guest's driver learns of used entries: its interrupt handler (a
 * vcpu_call handler), or, when it polls for completions, its next poll. */
void vio_driver_used(sim_kernel *k, void *ctx, uint64_t dev);
void vio_poll_used(vio *v, vdev *d);
/* The probe's exits of one device, and their cycles. */
uint32_t vio_probe_exits(const virtio_config *c);
uint64_t vio_probe_cycles(const virtio_config *c, const vmm_costs *costs, int pio_in_emulated);

/* ---- virtio_dev.c ------------------------------------------------------- */

/* The device's backend: a kick reached it (a vcpu_call handler; arg: the
 * device index), or the driver added a chain it may see by polling. */
void vdev_kicked(sim_kernel *k, void *ctx, uint64_t dev);
void vdev_added(vdev *d);
/* The backend's state at device start: notifications on, or, for a
 * polling thread, off for good. */
int vdev_start(vdev *d);

/* Ring fields in the guest's bytes. A write that fails stops the run. */
uint16_t vring_read16(const vio *v, uint64_t gpa);
uint32_t vring_read32(const vio *v, uint64_t gpa);
void vring_write16(vio *v, uint64_t gpa, uint16_t x);
void vring_write32(vio *v, uint64_t gpa, uint32_t x);
void vring_write64(vio *v, uint64_t gpa, uint64_t x);

/* Where each field of a device's ring lies. */
uint64_t vring_avail_flags(const vdev *d);
uint64_t vring_avail_idx(const vdev *d);
uint64_t vring_avail_ring(const vdev *d, uint16_t i);
uint64_t vring_used_event(const vdev *d);
uint64_t vring_used_flags(const vdev *d);
uint64_t vring_used_idx(const vdev *d);
uint64_t vring_used_elem(const vdev *d, uint16_t i);
uint64_t vring_avail_event(const vdev *d);

/* ---- virtio_check.c ------------------------------------------------------ */

uint64_t vio_needs(const system_config *cfg, const guest_config *g, const variant_config *v);
uint64_t vio_least(const system_config *cfg, const guest_config *g, const variant_config *v);
uint32_t vio_threads(const guest_config *g, const variant_config *v, uint32_t *polling);
void vio_check(const system_config *cfg, size_t index, const scn_doc *doc, scn_errors *errs);
json_t *vio_stats_json(const transport_stats *s, const guest_config *g, uint64_t hz);

#endif
