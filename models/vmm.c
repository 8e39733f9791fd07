/*
 * vmm.c -- the cost presets, each number with its public source.
 *
 * docs/costs.md gives the same table with fuller references; `pvsim presets`
 * prints it from here, so the two are checked against each other by the CLI
 * tests. Add a preset only with a source for every number; where a source
 * does not measure a primitive, say which measured primitive stands in for
 * it and why, as irq_exit and eoi_exit do below.
 */
#include "models/vmm.h"

#define KUT2012 "kvm-unit-tests x86/vmexit.c, commit 00bfecaa (2012), -smp 1"

const vmm_preset vmm_presets[] = {
    {
        .name = "x86-kvm-2012",
        .description = "KVM on x86 as measured by kvm-unit-tests in 2012 "
                       "(TSC cycles per iteration)",
        .costs = {
            [VMM_COST_hypercall_exit] = {3898, KUT2012 ", test vmcall"},
            [VMM_COST_pio_write_exit] = {4451, KUT2012 ", test outl_to_kernel"},
            [VMM_COST_pio_read_exit] = {7237, KUT2012 ", test inl_from_kernel"},
            [VMM_COST_userspace_exit] = {13000, KUT2012 ", commit message: "
                                         "exit to userspace about 13,000 cycles"},
            [VMM_COST_emulation] = {3300, KUT2012 ", commit message: "
                                    "instruction emulation about 3,300 cycles"},
            [VMM_COST_irq_exit] = {3898, "stand-in: the source does not time an "
                                   "external-interrupt exit; taken as its "
                                   "cheapest measured exit round trip (vmcall, "
                                   KUT2012 ")"},
            [VMM_COST_eoi_exit] = {3898, "stand-in: an EOI write without APIC "
                                   "virtualisation is an in-kernel exit; taken "
                                   "as the cheapest measured exit round trip "
                                   "(vmcall, " KUT2012 ")"},
        },
    },
    {0},
};

const char *const vmm_preset_names[] = {"x86-kvm-2012", NULL};

static const char *const cost_keys[] = {
#define X(key, doc) #key,
    VMM_COST_MAP(X)
#undef X
};

static const char *const cost_docs[] = {
#define X(key, doc) doc,
    VMM_COST_MAP(X)
#undef X
};

const char *vmm_cost_key(vmm_cost_id id)
{
    return cost_keys[id];
}

const char *vmm_cost_doc(vmm_cost_id id)
{
    return cost_docs[id];
}

uint64_t *vmm_cost_ref(vmm_costs *c, vmm_cost_id id)
{
    switch (id) {
#define X(key, doc)       \
    case VMM_COST_##key: \
        return &c->key;
        VMM_COST_MAP(X)
#undef X
    default:
        return NULL;
    }
}

void vmm_costs_from_preset(vmm_costs *out, int index)
{
    for (int i = 0; i < VMM_COST_COUNT; i++)
        *vmm_cost_ref(out, (vmm_cost_id)i) = vmm_presets[index].costs[i].cycles;
}
