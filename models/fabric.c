/*
 * fabric.c -- the exit paths of fabric.h as lists of phases, and the
 * schema of a variant's `fabric:` block.
 */
#include "models/fabric.h"

#include <stddef.h>

static const char *const kick_names[] = {"pio", "mmio", "hypercall", "poll", NULL};
static const char *const handler_names[] = {"kernel", "userspace", NULL};
static const char *const idle_names[] = {"halt", "poll", NULL};
/* Bound as an index: platform is 0, then the vmm_eoi values plus one. */
static const char *const eoi_names[] = {"platform", "exit", "virtualised", "none", NULL};
static const char *const irq_names[] = {"msi", "intx", NULL};
static const char *const completion_names[] = {"interrupt", "poll", NULL};

static const scn_field fabric_fields[] = {
    {.key = "kick", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, kick, int),
     .def = "pio", .enum_names = kick_names,
     .doc = "how a driver notifies the host: an exit by PIO write, MMIO write "
            "or hypercall, or none (poll: the backend polls the ring)"},
    {.key = "handler", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, handler, int),
     .def = "kernel", .enum_names = handler_names,
     .doc = "who handles a kick: the kernel (ioeventfd: the backend is signalled "
            "inside the exit handler) or the userspace device model (the "
            "userspace round trip, plus decoding for MMIO)"},
    {.key = "backend", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, backend, int),
     .def = "halt", .enum_names = idle_names,
     .doc = "device backend threads sleep when idle (a wake-up per request) or "
            "poll (a core each, burned)"},
    {.key = "vcpu_idle", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, vcpu_idle, int),
     .def = "halt", .enum_names = idle_names,
     .doc = "an idle vCPU halts (a HLT exit; an interrupt wakes it and it "
            "re-enters) or polls in the guest (a core each)"},
    {.key = "completion", .type = SCN_ENUM,
     .offset = SCN_AT(fabric_config, completion, int), .def = "interrupt",
     .enum_names = completion_names,
     .doc = "how a driver learns its request is done: an interrupt (the "
            "backend's irqfd, delivered as the vCPU's state allows, and an EOI) "
            "or poll (it polls the used ring: no interrupt; needs vcpu_idle: poll)"},
    {.key = "posted_interrupts", .type = SCN_BOOL,
     .offset = SCN_AT(fabric_config, posted_interrupts, bool), .def = "false",
     .doc = "interrupts reach a vCPU running the guest without an exit, and "
            "need no injection on entry (APICv, GICv4)"},
    {.key = "eoi", .type = SCN_ENUM, .offset = SCN_AT(fabric_config, eoi, int),
     .def = "platform", .enum_names = eoi_names,
     .doc = "the guest's end-of-interrupt write: exits (a trap), is virtualised "
            "(APICv), or does not exit by the architecture (none: GICv3); "
            "platform takes the preset's"},
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

int fabric_eoi_mode(const fabric_config *f, int preset)
{
    return f->eoi == 0 ? vmm_presets[preset].eoi : f->eoi - 1;
}

static const char *const reason_names[] = {
#define X(name) #name,
    FABRIC_REASONS(X)
#undef X
};

const char *fabric_reason_name(int reason)
{
    return reason_names[reason];
}

/* ---- the paths ------------------------------------------------------------ */

/* Markers inside a phase list, beyond the primitives. */
enum {
    SIGNAL = VMM_COST_COUNT,        /* the signal fires here */
    IN_EMULATED,                    /* emulation, where PIO reads need it */
    END
};

#define E VMM_COST_exit
#define N VMM_COST_entry

typedef struct path {
    int reason;
    int phases[8];
} path;

static const path paths[FABRIC_PATH_COUNT] = {
    [FABRIC_PATH_HYPERCALL] = {FABRIC_REASON_hypercall,
                               {E, VMM_COST_hypercall, N, END}},
    [FABRIC_PATH_KICK_PIO] = {FABRIC_REASON_pio,
                              {E, VMM_COST_pio_decode, VMM_COST_eventfd_signal, SIGNAL, N,
                               END}},
    [FABRIC_PATH_KICK_MMIO] = {FABRIC_REASON_mmio,
                               {E, VMM_COST_mmio_decode, VMM_COST_eventfd_signal, SIGNAL,
                                N, END}},
    [FABRIC_PATH_KICK_HYPERCALL] = {FABRIC_REASON_hypercall,
                                    {E, VMM_COST_hypercall, VMM_COST_eventfd_signal,
                                     SIGNAL, N, END}},
    [FABRIC_PATH_KICK_PIO_USER] = {FABRIC_REASON_pio,
                                   {E, VMM_COST_pio_decode, VMM_COST_userspace, SIGNAL, N,
                                    END}},
    [FABRIC_PATH_KICK_MMIO_USER] = {FABRIC_REASON_mmio,
                                    {E, VMM_COST_mmio_decode, VMM_COST_emulation,
                                     VMM_COST_userspace, SIGNAL, N, END}},
    [FABRIC_PATH_KICK_HYPERCALL_USER] = {FABRIC_REASON_hypercall,
                                         {E, VMM_COST_hypercall, VMM_COST_userspace,
                                          SIGNAL, N, END}},
    [FABRIC_PATH_PIO_WRITE_KERNEL] = {FABRIC_REASON_pio,
                                      {E, VMM_COST_pio_decode, VMM_COST_kernel_device, N,
                                       END}},
    [FABRIC_PATH_PIO_WRITE_USER] = {FABRIC_REASON_pio,
                                    {E, VMM_COST_pio_decode, VMM_COST_userspace, N, END}},
    [FABRIC_PATH_PIO_READ_KERNEL] = {FABRIC_REASON_pio,
                                     {E, VMM_COST_pio_decode, IN_EMULATED,
                                      VMM_COST_kernel_device, N, END}},
    [FABRIC_PATH_PIO_READ_USER] = {FABRIC_REASON_pio,
                                   {E, VMM_COST_pio_decode, IN_EMULATED,
                                    VMM_COST_userspace, N, END}},
    /* x86 decodes an MMIO access to anything but an ioeventfd in the
     * emulator; ARM's presets set emulation to 0, as the syndrome
     * describes the access. */
    [FABRIC_PATH_MMIO_KERNEL] = {FABRIC_REASON_mmio,
                                 {E, VMM_COST_mmio_decode, VMM_COST_emulation,
                                  VMM_COST_kernel_device, N, END}},
    [FABRIC_PATH_MMIO_USER] = {FABRIC_REASON_mmio,
                               {E, VMM_COST_mmio_decode, VMM_COST_emulation,
                                VMM_COST_userspace, N, END}},
    [FABRIC_PATH_EXTINT] = {FABRIC_REASON_external_interrupt,
                            {E, VMM_COST_extint, N, END}},
    [FABRIC_PATH_EOI] = {FABRIC_REASON_eoi, {E, VMM_COST_eoi_handler, N, END}},
    [FABRIC_PATH_IPI_SEND] = {FABRIC_REASON_ipi,
                              {E, VMM_COST_ipi_send, SIGNAL, N, END}},
    [FABRIC_PATH_HLT] = {FABRIC_REASON_hlt, {E, VMM_COST_hlt, END}},
};

#undef E
#undef N

/* The primitive a phase stands for, or -1 for none. */
static int phase_cost(int phase, int pio_in_emulated)
{
    if (phase == IN_EMULATED)
        return pio_in_emulated ? VMM_COST_emulation : -1;
    return phase < VMM_COST_COUNT ? phase : -1;
}

fabric_exit fabric_exit_of(const vmm_costs *c, int id, int pio_in_emulated)
{
    if (id < 0 || id >= FABRIC_PATH_COUNT)
        return (fabric_exit){0};
    const path *p = &paths[id];
    fabric_exit out = {.reason = p->reason};
    uint64_t *part = &out.to_signal;
    for (const int *ph = p->phases; *ph != END; ph++) {
        if (*ph == SIGNAL) {
            out.signals = 1;
            part = &out.after_signal;
            continue;
        }
        int cost = phase_cost(*ph, pio_in_emulated);
        if (cost == VMM_COST_entry)
            out.entry = c->entry;
        else if (cost >= 0)
            *part += vmm_cost_get(c, (vmm_cost_id)cost);
    }
    return out;
}

int fabric_path_uses(int id, vmm_cost_id cost, int pio_in_emulated)
{
    if (id < 0 || id >= FABRIC_PATH_COUNT)
        return 0;
    for (const int *ph = paths[id].phases; *ph != END; ph++)
        if (phase_cost(*ph, pio_in_emulated) == (int)cost)
            return 1;
    return 0;
}

int fabric_kick_path(int kick, int handler)
{
    static const int kernel[] = {FABRIC_PATH_KICK_PIO, FABRIC_PATH_KICK_MMIO,
                                 FABRIC_PATH_KICK_HYPERCALL};
    static const int user[] = {FABRIC_PATH_KICK_PIO_USER, FABRIC_PATH_KICK_MMIO_USER,
                               FABRIC_PATH_KICK_HYPERCALL_USER};
    if (kick < 0 || kick >= FABRIC_KICK_POLL)
        return -1;
    return handler == FABRIC_USERSPACE ? user[kick] : kernel[kick];
}

/* ---- needs and least times ------------------------------------------------ */

static uint64_t bit(vmm_cost_id id)
{
    return 1ull << id;
}

uint64_t fabric_path_needs(int id, int pio_in_emulated)
{
    uint64_t m = 0;
    for (int i = 0; i < VMM_COST_COUNT; i++)
        if (fabric_path_uses(id, (vmm_cost_id)i, pio_in_emulated))
            m |= bit((vmm_cost_id)i);
    return m;
}

uint64_t fabric_whole(const vmm_costs *c, int id, int pio_in_emulated)
{
    fabric_exit e = fabric_exit_of(c, id, pio_in_emulated);
    return e.to_signal + e.after_signal + e.entry;
}

uint64_t fabric_delivery_needs(const fabric_config *f, fabric_receiver r, int eoi)
{
    uint64_t m = bit(VMM_COST_entry);
    if (!f->posted_interrupts)
        m |= bit(VMM_COST_inject);
    if (r.may_run)
        m |= bit(VMM_COST_host_ipi) |
             (f->posted_interrupts ? 0 : fabric_path_needs(FABRIC_PATH_EXTINT, 0));
    if (r.may_halt)
        m |= bit(VMM_COST_wakeup);
    return m | (eoi == VMM_EOI_EXIT ? fabric_path_needs(FABRIC_PATH_EOI, 0)
                                    : bit(VMM_COST_eoi_write));
}

static uint64_t min2(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t fabric_least_delivery(const vmm_costs *c, const fabric_config *f,
                               fabric_receiver r, int eoi)
{
    uint64_t inject = f->posted_interrupts ? 0 : c->inject;
    uint64_t least = c->entry + inject;                 /* in the host */
    if (r.may_run)
        least = min2(least, c->host_ipi + (f->posted_interrupts
                                               ? 0
                                               : fabric_whole(c, FABRIC_PATH_EXTINT, 0) +
                                                     inject));
    uint64_t eoi_cost = eoi == VMM_EOI_EXIT ? fabric_whole(c, FABRIC_PATH_EOI, 0) : c->eoi_write;
    return least + eoi_cost;
}

uint64_t fabric_idle_needs(int polling)
{
    return polling ? 0
                   : fabric_path_needs(FABRIC_PATH_HLT, 0) | bit(VMM_COST_wakeup) |
                         bit(VMM_COST_entry);
}
