/*
 * vmm.h -- the primitive costs of virtualisation, and the named presets
 * that give them values from published measurements.
 *
 * A VM exit is never one number here. It is phases: the exit transition
 * (hardware exit plus the hypervisor's exit path, up to the handler), a
 * handler for its reason, and the entry transition (the hypervisor's entry
 * path plus hardware entry). Each is a primitive; models/fabric.c composes
 * them into the exit, kick, interrupt and IPI paths. Host primitives (a
 * host IPI's flight time, a wake-up, a context switch), memory
 * primitives (page-walk references, copies, pinning) and the IOMMU's
 * context switch complete the set.
 *
 * A preset gives each primitive a value in host TSC cycles (or ns,
 * converted with the scenario's clock) and the public source it comes
 * from; docs/costs.md shows the arithmetic of every figure that a source
 * gives only as a composite. A primitive with no published figure stays
 * unset: a scenario that needs it must give it under `costs:`, and results
 * show it as null, never as 0.
 */
#ifndef PVSIM_MODELS_VMM_H
#define PVSIM_MODELS_VMM_H

#include <stddef.h>
#include <stdint.h>

/* The primitives, as an X-macro so the struct, the scenario schema and the
 * preset tables cannot drift apart: X(key, description). */
#define VMM_COST_MAP(X)                                                        \
    X(exit, "exit transition: hardware VM exit and the hypervisor's exit path, " \
            "up to the handler")                                               \
    X(entry, "entry transition: the hypervisor's entry path and hardware VM entry") \
    X(hypercall, "handler: dispatching a hypercall that does no work")         \
    X(pio_decode, "handler: decoding a PIO exit and dispatching it on the in-kernel " \
                  "I/O bus")                                                   \
    X(mmio_decode, "handler: decoding an MMIO exit (x86: the EPT-misconfiguration " \
                   "fast path; ARM: the data-abort syndrome) and dispatching it") \
    X(emulation, "handler: fetching, decoding and executing the trapping "     \
                 "instruction in the instruction emulator")                    \
    X(kernel_device, "handler: an in-kernel device model serving one register access") \
    X(eventfd_signal, "signalling an eventfd: ioeventfd in an exit handler, or irqfd " \
                      "from a backend thread")                                 \
    X(userspace, "handler: the userspace round trip: KVM_RUN returns, the device "   \
                 "model runs, the ioctl re-enters")                            \
    X(inject, "injecting one interrupt on the way into the guest")             \
    X(extint, "handler: the host's handling of an external interrupt that forced an exit") \
    X(eoi_handler, "handler: emulating a trapped EOI write")                   \
    X(eoi_write, "the guest's EOI write when it does not exit (virtualised, or GIC)") \
    X(ipi_send, "handler: emulating an IPI-send write (x86 ICR, ARM SGI register) " \
                "and kicking the target vCPU")                                 \
    X(hlt, "handler: a HLT (WFI) exit up to the vCPU thread blocking")         \
    X(host_ipi, "flight time of an IPI between two host cores (latency, not busy time)") \
    X(wakeup, "scheduler latency from waking a blocked host thread to its running") \
    X(context_switch, "a core switching from one host thread to another")     \
    X(mem_ref, "one page-table entry read from memory during a software walk") \
    X(cache_ref, "one page-table entry read that hits the CPU caches (L3)")  \
    X(memslot_lookup, "guest-physical to host-virtual lookup (memslot search)") \
    X(tcache_hit, "a hit in the host's translation cache")                   \
    X(copy_per_kib, "copying one KiB on the guest's vCPU")                   \
    X(pin_per_page, "validating and pinning one guest page for DMA")         \
    X(indirect_call, "the guest's indirect call through paravirt_ops to its "   \
                     "hypercall (not patched inline)")                          \
    X(iommu_switch, "the IOMMU switching a passthrough device's DMA context to " \
                    "another guest (context entry, invalidations)")

typedef enum vmm_cost_id {
#define X(key, doc) VMM_COST_##key,
    VMM_COST_MAP(X)
#undef X
    VMM_COST_COUNT
} vmm_cost_id;

/* Values in cycles, and which of them are known: a bit per vmm_cost_id,
 * set when the preset has a figure or the scenario gave one. Only a known
 * value may enter a path; the scenario loader refuses a scenario whose
 * paths need an unknown one. */
typedef struct vmm_costs {
#define X(key, doc) uint64_t key;
    VMM_COST_MAP(X)
#undef X
    uint64_t known;
} vmm_costs;

/* How the guest's end-of-interrupt write reaches the interrupt controller. */
typedef enum vmm_eoi {
    VMM_EOI_EXIT,                   /* it traps: an exit with eoi_handler */
    VMM_EOI_VIRTUALISED,            /* x86 APICv handles it: eoi_write */
    VMM_EOI_NONE                    /* the architecture's EOI does not exit
                                       (GICv3 system registers): eoi_write */
} vmm_eoi;

/* One primitive of a preset: its value and where the number comes from.
 * source NULL: the preset has no published figure for it (unset). */
typedef struct vmm_cost_source {
    uint64_t cycles;
    double ns;                      /* when > 0: measured in time, converted
                                       with the scenario's clock */
    const char *source;
} vmm_cost_source;

typedef struct vmm_preset {
    const char *name;
    const char *description;
    int eoi;                        /* vmm_eoi: the platform's default */
    const char *eoi_source;         /* why */
    int pio_in_emulated;            /* a PIO read goes through the
                                       instruction emulator (KVM of 2012) */
    vmm_cost_source costs[VMM_COST_COUNT];
} vmm_preset;

/* The presets, NULL-name terminated; vmm_preset_names lists the names in
 * the same order, NULL-terminated, for the scenario enum (a test checks
 * that the two agree). */
extern const vmm_preset vmm_presets[];
extern const char *const vmm_preset_names[];

/* The key and description of a primitive. */
const char *vmm_cost_key(vmm_cost_id id);
const char *vmm_cost_doc(vmm_cost_id id);

/* Pointer to one primitive inside a cost struct. */
uint64_t *vmm_cost_ref(vmm_costs *c, vmm_cost_id id);
uint64_t vmm_cost_get(const vmm_costs *c, vmm_cost_id id);

/* Whether primitive `id` has a value. */
int vmm_cost_known(const vmm_costs *c, vmm_cost_id id);
/* Sets primitive `id` to `cycles` and marks it known. */
void vmm_cost_set(vmm_costs *c, vmm_cost_id id, uint64_t cycles);

/* Primitive `id` of preset `index` in cycles at `clock_hz` (0 when the
 * preset has no figure). */
uint64_t vmm_preset_cycles(int index, vmm_cost_id id, uint64_t clock_hz);

/* Fills `out` with preset number `index` at `clock_hz`: its figures,
 * marked known, and nothing else. */
void vmm_costs_from_preset(vmm_costs *out, int index, uint64_t clock_hz);

#endif
