/*
 * fabric.h -- the notification and interrupt paths between guests and the
 * host, and what each costs (docs/fabric.md has the table).
 *
 * A kick is a guest write to a doorbell: a PIO, MMIO or hypercall exit,
 * handled in the kernel (ioeventfd: signal an eventfd and resume) or sent
 * out to the userspace device model, which costs a userspace exit and, for
 * MMIO, instruction emulation. A polled ring takes no exit at all.
 *
 * An interrupt reaches a vCPU thread through irqfd. How it is injected
 * depends on what the vCPU is doing (cores.h):
 *   - running on a core: a posted interrupt (no exit) when the CPU has
 *     them, otherwise an IPI to that core and an external-interrupt exit;
 *   - runnable, or halted (the interrupt wakes it): injected at the next
 *     VM entry, with no exit of its own;
 * and the guest's EOI write exits unless EOI is virtualised.
 *
 * The functions here only compute; the models that own the vCPUs and
 * doorbells (guest.c, ivshmem.c) queue the work.
 */
#ifndef PVSIM_MODELS_FABRIC_H
#define PVSIM_MODELS_FABRIC_H

#include <stdbool.h>
#include <stdint.h>

#include "models/cores.h"
#include "models/vmm.h"
#include "sim/scenario.h"

typedef enum fabric_kick {
    FABRIC_KICK_PIO, FABRIC_KICK_MMIO, FABRIC_KICK_HYPERCALL, FABRIC_KICK_POLL
} fabric_kick;
typedef enum fabric_handler { FABRIC_KERNEL, FABRIC_USERSPACE } fabric_handler;
typedef enum fabric_idle { FABRIC_HALT, FABRIC_POLL } fabric_idle;
typedef enum fabric_eoi { FABRIC_EOI_EXIT, FABRIC_EOI_VIRTUALISED } fabric_eoi;
typedef enum fabric_irq_kind { FABRIC_MSI, FABRIC_INTX } fabric_irq_kind;

typedef struct fabric_config {
    int kick;                       /* fabric_kick */
    int handler;                    /* fabric_handler: who handles kicks */
    int backend;                    /* fabric_idle: device backend threads */
    int vcpu_idle;                  /* fabric_idle: an idle vCPU halts or polls */
    bool posted_interrupts;
    int eoi;                        /* fabric_eoi */
    int interrupts;                 /* fabric_irq_kind: ivshmem's vectors */
    bool mask;                      /* ivshmem: the driver masks and unmasks
                                       its interrupt around each handler */
} fabric_config;

extern const scn_schema fabric_schema;

/* What one exit or delivery costs the vCPU, and the events it counts. */
typedef struct fabric_cost {
    uint64_t cycles;                /* on the vCPU */
    uint32_t exits;                 /* exits taken (EOI included) */
    uint32_t irq_exits;             /* external-interrupt exits after an IPI */
    uint32_t eoi_exits;
    uint32_t posted;                /* posted interrupts (no exit) */
} fabric_cost;

/* A kick of kind `kick` (fabric_kick) through the configured handler. */
fabric_cost fabric_kick_cost(const fabric_config *f, const vmm_costs *c, int kick);

/* A guest access to a register that only the userspace device model
 * implements (ivshmem's IntrStatus, IntrMask, IVLiveList): an MMIO exit,
 * decoding, and the userspace round trip. */
fabric_cost fabric_register_access(const vmm_costs *c);

/* Injecting one interrupt into `vcpu` in its present state, and the EOI
 * the guest writes after handling it. */
fabric_cost fabric_interrupt_cost(const fabric_config *f, const vmm_costs *c,
                                  const core_thread *vcpu);

#endif
