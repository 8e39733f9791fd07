/*
 * fabric.c -- the cost chains of fabric.h, and the schema of a variant's
 * `fabric:` block.
 */
#include "models/fabric.h"

#include <stddef.h>

static const char *const kick_names[] = {"pio", "mmio", "hypercall", "poll", NULL};
static const char *const handler_names[] = {"kernel", "userspace", NULL};
static const char *const idle_names[] = {"halt", "poll", NULL};
static const char *const eoi_names[] = {"exit", "virtualised", NULL};
static const char *const irq_names[] = {"msi", "intx", NULL};

static const scn_field fabric_fields[] = {
    {.key = "kick", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, kick, int),
     .def = "pio", .enum_names = kick_names,
     .doc = "how a driver notifies the host: an exit by PIO write, MMIO write "
            "or hypercall, or none (poll: the backend polls the ring)"},
    {.key = "handler", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, handler, int),
     .def = "kernel", .enum_names = handler_names,
     .doc = "who handles a kick: the kernel (ioeventfd) or the userspace device "
            "model (a userspace exit, plus decoding for MMIO)"},
    {.key = "backend", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, backend, int),
     .def = "halt", .enum_names = idle_names,
     .doc = "device backend threads sleep when idle (a wake-up per request) or "
            "poll (a core each, burned)"},
    {.key = "vcpu_idle", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, vcpu_idle, int),
     .def = "halt", .enum_names = idle_names,
     .doc = "an idle vCPU halts (woken by its interrupt) or polls (a core each)"},
    {.key = "posted_interrupts", .type = SCN_BOOL,
     .offset = SCN_AT(fabric_config, posted_interrupts, bool), .def = "false",
     .doc = "interrupts reach a running vCPU without an exit (APICv, GICv4)"},
    {.key = "eoi", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, eoi, int),
     .def = "exit", .enum_names = eoi_names,
     .doc = "the guest's end-of-interrupt write exits, or is virtualised"},
    {.key = "interrupts", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, interrupts, int),
     .def = "msi", .enum_names = irq_names,
     .doc = "ivshmem: MSI vectors (irqfd, in the kernel) or INTx (through the "
            "device model, with IntrStatus to read)"},
    {.key = "mask", .type = SCN_BOOL, .offset = SCN_AT(fabric_config, mask, bool),
     .def = "false",
     .doc = "ivshmem: the driver masks its interrupt before handling and "
            "unmasks it after (two more register writes)"},
};

const scn_schema fabric_schema = {
    .name = "fabric",
    .size = sizeof(fabric_config),
    .fields = fabric_fields,
    .nfields = sizeof fabric_fields / sizeof fabric_fields[0],
};

fabric_cost fabric_kick_cost(const fabric_config *f, const vmm_costs *c, int kick)
{
    fabric_cost out = {0};
    switch (kick) {
    case FABRIC_KICK_PIO:
        out.cycles = c->pio_write_exit;
        break;
    case FABRIC_KICK_MMIO:
        out.cycles = c->mmio_exit;
        /* Only the in-kernel fast path skips decoding the instruction. */
        if (f->handler == FABRIC_USERSPACE)
            out.cycles += c->emulation;
        break;
    case FABRIC_KICK_HYPERCALL:
        out.cycles = c->hypercall_exit;
        break;
    default:
        return out;                 /* polled: no exit */
    }
    if (f->handler == FABRIC_USERSPACE)
        out.cycles += c->userspace_exit;
    out.exits = 1;
    return out;
}

fabric_cost fabric_register_access(const vmm_costs *c)
{
    return (fabric_cost){.cycles = c->mmio_exit + c->emulation + c->userspace_exit,
                         .exits = 1};
}

fabric_cost fabric_interrupt_cost(const fabric_config *f, const vmm_costs *c,
                                  const core_thread *vcpu)
{
    fabric_cost out = {0};
    if (thread_state_of(vcpu) == THREAD_RUNNING) {
        if (f->posted_interrupts) {
            out.posted = 1;
        } else {
            out.cycles = c->ipi + c->irq_exit;
            out.irq_exits = 1;
        }
    }
    if (f->eoi == FABRIC_EOI_EXIT) {
        out.cycles += c->eoi_exit;
        out.eoi_exits = 1;
    }
    out.exits = out.irq_exits + out.eoi_exits;
    return out;
}
