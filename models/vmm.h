/*
 * vmm.h -- vmexit and interrupt cost tables (named presets).
 *
 * A preset is a set of primitive costs in host TSC cycles, each with the
 * public source it was taken from. A scenario names a preset and may
 * override any cost under `costs:`. Models compose these primitives into
 * the cost chain of each path (a kick is one PIO exit; a completion is an
 * external-interrupt exit plus an EOI exit); composite figures are never
 * stored in a preset.
 */
#ifndef PVSIM_MODELS_VMM_H
#define PVSIM_MODELS_VMM_H

#include <stddef.h>
#include <stdint.h>

/* The primitives, as an X-macro so the struct, the scenario schema and the
 * preset tables cannot drift apart: X(key, description). */
#define VMM_COST_MAP(X)                                                        \
    X(hypercall_exit, "hypercall (vmcall) exit round trip, handled in the kernel") \
    X(pio_write_exit, "PIO write exit round trip, handled in the kernel (ioeventfd)") \
    X(pio_read_exit, "PIO read exit round trip, handled in the kernel")       \
    X(userspace_exit, "extra cost of taking an exit out to the userspace device model") \
    X(emulation, "instruction emulation on an exit that needs decoding")      \
    X(irq_exit, "external-interrupt exit that delivers an injected interrupt") \
    X(eoi_exit, "EOI write exit after the guest handled the interrupt")      \
    X(mmio_exit, "MMIO access exit round trip, handled in the kernel (ioeventfd fast path, no decoding)") \
    X(ipi, "IPI from the host to the core running a vCPU, before its exit")  \
    X(wakeup, "scheduler latency from waking a blocked host thread to its running") \
    X(context_switch, "a core switching from one host thread to another")   \
    X(mem_ref, "one page-table entry read from memory during a software walk") \
    X(cache_ref, "one page-table entry read that hits the CPU caches (L3)")  \
    X(memslot_lookup, "guest-physical to host-virtual lookup (memslot search)") \
    X(tcache_hit, "a hit in the host's translation cache")                   \
    X(copy_per_kib, "copying one KiB on the guest's vCPU")                   \
    X(pin_per_page, "validating and pinning one guest page for DMA")

typedef struct vmm_costs {
#define X(key, doc) uint64_t key;
    VMM_COST_MAP(X)
#undef X
} vmm_costs;

typedef enum vmm_cost_id {
#define X(key, doc) VMM_COST_##key,
    VMM_COST_MAP(X)
#undef X
    VMM_COST_COUNT
} vmm_cost_id;

/* One primitive of a preset: its value and where the number comes from.
 * source NULL: the preset has no published figure for it, and a scenario
 * that needs it must give it under `costs:`. */
typedef struct vmm_cost_source {
    uint64_t cycles;
    double ns;                      /* when > 0: measured in time, converted
                                       with the scenario's clock */
    const char *source;
} vmm_cost_source;

typedef struct vmm_preset {
    const char *name;
    const char *description;
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

/* Primitive `id` of preset `index` in cycles at `clock_hz`. */
uint64_t vmm_preset_cycles(int index, vmm_cost_id id, uint64_t clock_hz);

/* Fills `out` with preset number `index` at `clock_hz`. */
void vmm_costs_from_preset(vmm_costs *out, int index, uint64_t clock_hz);

#endif
