/*
 * virtio.h -- virtio-pci (seed 003): a split virtqueue in the guest's
 * memory, kicked by port I/O, MMIO, or a hypervisor-specific call that the
 * device offers as a feature bit, with notification suppression, on PCI
 * functions the driver probes through their configuration space.
 *
 * The ring is bytes (little-endian), in the legacy layout for queue size N:
 *   descriptor table  N x 16: u64 addr, u32 len, u16 flags, u16 next
 *                     (flags: NEXT 1, WRITE 2)
 *   available ring    u16 flags (NO_INTERRUPT 1), u16 idx, u16 ring[N],
 *                     u16 used_event
 *   used ring         from the next 4 KiB boundary: u16 flags
 *                     (NO_NOTIFY 1), u16 idx, {u32 id, u32 len}[N],
 *                     u16 avail_event
 * A request is a chain of descriptors, one per page of its buffer (the sg
 * scheme's page list), by guest-physical address. The driver writes the
 * chain, puts its head in the available ring and bumps avail idx; it kicks
 * unless the device said it need not: without VIRTIO_RING_F_EVENT_IDX,
 * while used.flags has NO_NOTIFY; with it, unless avail idx passed the
 * device's avail_event (vring_need_event). The device (a backend thread
 * per device, vhost-style) serves chains in order, puts each in the used
 * ring and interrupts likewise: without the feature unless avail.flags has
 * NO_INTERRUPT, with it only past the driver's used_event. A backend with
 * a poll budget keeps polling the ring that long, notifications off,
 * before it enables them and sleeps.
 *
 * Features are negotiated as the driver starts: the device offers, the
 * driver accepts, the effective set is both. A hypercall kick needs its
 * feature effective; otherwise the driver falls back to port I/O.
 *
 * Each device is a PCI function (one per slot, or up to 8 with
 * multifunction); bus 0's slot 0 is the host bridge; 32 slots a bus, 256
 * buses. Probing costs each configuration-space access (two port I/O
 * exits through 0xcf8/0xcfc, or one MMIO exit with ECAM) and each legacy
 * virtio register access (port I/O to the device model), at start and
 * when a device is hotplugged at a scenario time.
 */
#ifndef PVSIM_MODELS_VIRTIO_H
#define PVSIM_MODELS_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/scenario.h"

#define VIRTQ_DESC_SIZE 16u
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u
#define VIRTQ_MAX_SIZE 32768u

#define VIRTIO_F_EVENT_IDX 29u          /* VIRTIO_RING_F_EVENT_IDX */
#define VIRTIO_F_HYPERCALL_KICK 24u     /* the seed's hypervisor-specific kick:
                                           a device-specific bit pvsim gives it */

#define PCI_SLOTS 32u
#define PCI_FUNCTIONS 8u
#define PCI_BUSES 256u

typedef enum virtio_kick { VIRTIO_KICK_PIO, VIRTIO_KICK_MMIO, VIRTIO_KICK_HYPERCALL } virtio_kick;
typedef enum virtio_call { VIRTIO_CALL_INLINE, VIRTIO_CALL_INDIRECT } virtio_call;
typedef enum virtio_config_access { VIRTIO_CONFIG_CF8, VIRTIO_CONFIG_ECAM } virtio_config_access;

typedef struct virtio_features {
    bool event_idx;
    bool hypercall_kick;
} virtio_features;

typedef struct virtio_hotplug {
    uint64_t at;                    /* cycles from the start */
    uint64_t devices;               /* devices that appear then */
} virtio_hotplug;

typedef struct virtio_config {
    uint64_t queue_size;            /* descriptors, a power of two */
    uint64_t devices;               /* present at start */
    uint64_t functions;             /* per PCI slot: 1, or up to 8 */
    int config_access;              /* virtio_config_access */
    int kick;                       /* virtio_kick */
    int call;                       /* virtio_call: the hypercall kick's
                                       paravirt_ops call */
    virtio_features offer, accept;
    uint64_t fixed;                 /* the device's service per request */
    double per_byte;
    uint64_t poll_budget;           /* the backend polls this long before
                                       it sleeps (0: it sleeps at once) */
    virtio_hotplug hotplug;
} virtio_config;

extern const scn_schema virtio_schema;

/* vring_need_event: whether an index moving from `old` to `now` passed
 * `event` (all mod 2^16). */
static inline int virtq_need_event(uint16_t event, uint16_t now, uint16_t old)
{
    return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

#endif
