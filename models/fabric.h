/*
 * fabric.h -- the paths a notification or an interrupt takes between
 * guests and the host, as phases (docs/fabric.md works them by hand).
 *
 * An exit path is a list of primitives (models/vmm.h) run on the vCPU: the
 * exit transition, the handler's steps, and the entry transition. A path
 * may raise a signal (an ioeventfd, a doorbell, an IPI) at the end of the
 * handler step that raises it, so whoever waits on the signal can start
 * while the vCPU is still re-entering. The paths are data: the vCPU model
 * (vcpu.c) runs them, and the scenario loader reads the same lists to find
 * the primitives a scenario needs and the least time a request can take,
 * so the check and the run cannot disagree.
 *
 * Kicks: a PIO, MMIO or hypercall exit handled in the kernel (ioeventfd:
 * decode, signal an eventfd, re-enter) or taken out to the userspace
 * device model (decode, emulate an MMIO instruction, the userspace round
 * trip, which signals the backend); a polled ring takes no exit.
 *
 * Interrupts reach a vCPU as its state allows (vcpu.h): posted, or a host
 * IPI and an external-interrupt exit, when it runs the guest; injected on
 * its next entry when it is in the host; woken and entered with the
 * injection when it halted. The guest's EOI then exits, or not, as the
 * platform (or `fabric.eoi`) says.
 */
#ifndef PVSIM_MODELS_FABRIC_H
#define PVSIM_MODELS_FABRIC_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vmm.h"
#include "sim/scenario.h"

typedef enum fabric_kick {
    FABRIC_KICK_PIO, FABRIC_KICK_MMIO, FABRIC_KICK_HYPERCALL, FABRIC_KICK_POLL
} fabric_kick;
typedef enum fabric_handler { FABRIC_KERNEL, FABRIC_USERSPACE } fabric_handler;
typedef enum fabric_idle { FABRIC_HALT, FABRIC_POLL } fabric_idle;
typedef enum fabric_irq_kind { FABRIC_MSI, FABRIC_INTX } fabric_irq_kind;
typedef enum fabric_completion {
    FABRIC_COMPLETE_INTERRUPT, FABRIC_COMPLETE_POLL
} fabric_completion;

typedef struct fabric_config {
    int kick;                       /* fabric_kick */
    int handler;                    /* fabric_handler: who handles kicks */
    int backend;                    /* fabric_idle: device backend threads */
    int vcpu_idle;                  /* fabric_idle: an idle vCPU halts or polls */
    int completion;                 /* fabric_completion: how the driver
                                       learns a request is done */
    bool posted_interrupts;
    int eoi;                        /* index into the schema's names:
                                       platform, exit, virtualised, none;
                                       fabric_eoi_mode() resolves it */
    int interrupts;                 /* fabric_irq_kind: ivshmem's vectors */
    bool mask;                      /* ivshmem: the driver masks and unmasks
                                       its interrupt around each handler */
} fabric_config;

extern const scn_schema fabric_schema;

/* The EOI mode (vmm_eoi) a variant runs with on `preset`. */
int fabric_eoi_mode(const fabric_config *f, int preset);

/* Why a vCPU left the guest: exits are counted by reason. */
#define FABRIC_REASONS(X)                                                     \
    X(hypercall) X(pio) X(mmio) X(external_interrupt) X(eoi) X(ipi) X(hlt)

typedef enum fabric_reason {
#define X(name) FABRIC_REASON_##name,
    FABRIC_REASONS(X)
#undef X
    FABRIC_REASON_COUNT
} fabric_reason;

/* The reason's name in results ("external_interrupt"). */
const char *fabric_reason_name(int reason);

/* The exit paths. */
typedef enum fabric_path_id {
    FABRIC_PATH_HYPERCALL,          /* a hypercall that does no work */
    FABRIC_PATH_KICK_PIO,           /* ioeventfd kicks: signal at the eventfd */
    FABRIC_PATH_KICK_MMIO,
    FABRIC_PATH_KICK_HYPERCALL,
    FABRIC_PATH_KICK_PIO_USER,      /* kicks the device model handles: signal
                                       at the end of the userspace round trip */
    FABRIC_PATH_KICK_MMIO_USER,
    FABRIC_PATH_KICK_HYPERCALL_USER,
    FABRIC_PATH_PIO_WRITE_KERNEL,   /* register accesses, no signal */
    FABRIC_PATH_PIO_WRITE_USER,
    FABRIC_PATH_PIO_READ_KERNEL,    /* + emulation where the platform sends
                                       IN through the emulator */
    FABRIC_PATH_PIO_READ_USER,
    FABRIC_PATH_MMIO_KERNEL,        /* read or write of an in-kernel device */
    FABRIC_PATH_MMIO_USER,          /* read or write in the device model */
    FABRIC_PATH_EXTINT,             /* an external interrupt forced the exit;
                                       its entry injects (every entry adds
                                       `inject` per interrupt it delivers) */
    FABRIC_PATH_EOI,                /* a trapped EOI */
    FABRIC_PATH_IPI_SEND,           /* signal: the IPI leaves for its target */
    FABRIC_PATH_HLT,                /* exit and handler only: the vCPU then
                                       blocks, or re-enters if an interrupt
                                       is pending */
    FABRIC_PATH_COUNT
} fabric_path_id;

/* Where a path's primitives fall, in cycles. */
typedef struct fabric_exit {
    int reason;                     /* fabric_reason */
    uint64_t to_signal;             /* exit transition and handler steps up
                                       to the signal (the whole handler when
                                       the path raises none) */
    uint64_t after_signal;          /* handler steps after the signal */
    uint64_t entry;                 /* the entry transition (0 for HLT) */
    int signals;                    /* the path raises a signal */
} fabric_exit;

/* Composes path `id` from `c` on a platform whose PIO reads go through
 * the emulator when `pio_in_emulated`; all zero for an id that names no
 * path. */
fabric_exit fabric_exit_of(const vmm_costs *c, int id, int pio_in_emulated);

/* Whether path `id` uses primitive `cost` (0 for an id that names no
 * path). */
int fabric_path_uses(int id, vmm_cost_id cost, int pio_in_emulated);

/* The kick path of a kick kind and handler; -1 for a polled ring. */
int fabric_kick_path(int kick, int handler);

/* ---- what paths need, and the least they take (for the scenario's
 * checks, which must agree with the run) ----------------------------- */

/* The primitives path `id` uses, a bit per vmm_cost_id. */
uint64_t fabric_path_needs(int id, int pio_in_emulated);

/* A path's cycles: exit, handler and entry. */
uint64_t fabric_whole(const vmm_costs *c, int id, int pio_in_emulated);

/* Where a vCPU can be when an interrupt is raised for it: running the
 * guest, halted, or (always possible) in the host. */
typedef struct fabric_receiver {
    int may_run, may_halt;
} fabric_receiver;

/* The primitives of an interrupt's delivery in any state the receiver
 * may be in, then the guest's EOI under `eoi` (vmm_eoi). */
uint64_t fabric_delivery_needs(const fabric_config *f, fabric_receiver r, int eoi);

/* The least cycles of that delivery and EOI: the cheapest state the
 * receiver may be in. */
uint64_t fabric_least_delivery(const vmm_costs *c, const fabric_config *f,
                               fabric_receiver r, int eoi);

/* The primitives of a vCPU idling: none when it polls; a HLT exit, a
 * wake-up and an entry when it halts. */
uint64_t fabric_idle_needs(int polling);

#endif
