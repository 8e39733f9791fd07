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
#define WESTMERE "7-cpu.com, Intel Westmere: Xeon X5650 (Westmere-EP) at 2.66 GHz"
#define MEMSLOT "KVM patch \"kvm: search_memslots: add simple LRU memslot caching\" " \
                "(Igor Mammedov, 2014)"

#define KVMLIST_MAR2020 "kvm mailing list, March 2020 (Wanpeng Li), Skylake-SP"
#define KVMLIST_APR2020 "kvm mailing list, April 2020, Skylake-SP"
#define KVMLIST_JUN2019 "kvm mailing list, June 2019 (Wanpeng Li), Skylake"
#define MICROBENCH "kvm-unit-tests arm/micro-bench, kvm mailing list, November 2023"

/* The ARM presets share one shape: micro-bench's hvc, mmio_read_vgic,
 * mmio_read_user, eoi and ipi, in ns. The userspace exit is what a
 * userspace MMIO read costs beyond an in-kernel one, so the composite
 * (MMIO exit + userspace exit) reproduces mmio_read_user exactly. */
#define ARM_COSTS(hvc, vgic, user, eoi, ipi_ns)                                    \
    {                                                                              \
        [VMM_COST_hypercall_exit] = {0, hvc, MICROBENCH ": hvc"},                  \
        [VMM_COST_mmio_exit] = {0, vgic, MICROBENCH ": mmio_read_vgic, an MMIO "   \
                                "exit handled in the kernel"},                     \
        [VMM_COST_userspace_exit] = {0, (user) - (vgic), MICROBENCH               \
                                     ": mmio_read_user - mmio_read_vgic"},         \
        [VMM_COST_emulation] = {0, 0, "none: on ARM the data-abort syndrome "      \
                                "describes the access, so KVM does not decode the " \
                                "instruction (the measured MMIO exits include it)"}, \
        [VMM_COST_eoi_exit] = {0, eoi, MICROBENCH ": eoi (GICv3 EOI, which does "  \
                               "not exit)"},                                       \
        [VMM_COST_ipi] = {0, ipi_ns, MICROBENCH ": ipi, guest send to receipt; "   \
                          "stand-in for the host's IPI"},                          \
    }

const vmm_preset vmm_presets[] = {
    {
        .name = "x86-kvm-2012",
        .description = "KVM on x86: exits as kvm-unit-tests measured them in 2012 "
                       "(TSC cycles); memory costs from Westmere-EP, KVM memslot "
                       "and pinning measurements (each line says which)",
        .costs = {
            [VMM_COST_hypercall_exit] = {3898, 0, KUT2012 ", test vmcall"},
            [VMM_COST_pio_write_exit] = {4451, 0, KUT2012 ", test outl_to_kernel"},
            [VMM_COST_pio_read_exit] = {7237, 0, KUT2012 ", test inl_from_kernel"},
            [VMM_COST_userspace_exit] = {13000, 0, KUT2012 ", commit message: "
                                         "exit to userspace about 13,000 cycles"},
            [VMM_COST_emulation] = {3300, 0, KUT2012 ", commit message: "
                                    "instruction emulation about 3,300 cycles"},
            [VMM_COST_irq_exit] = {3898, 0, "stand-in: the source does not time an "
                                   "external-interrupt exit; taken as its "
                                   "cheapest measured exit round trip (vmcall, "
                                   KUT2012 ")"},
            [VMM_COST_eoi_exit] = {3898, 0, "stand-in: an EOI write without APIC "
                                   "virtualisation is an in-kernel exit; taken "
                                   "as the cheapest measured exit round trip "
                                   "(vmcall, " KUT2012 ")"},
            [VMM_COST_mmio_exit] = {4451, 0, "stand-in: taken as the PIO write exit "
                                     "(outl_to_kernel, " KUT2012 "), as Linux commit "
                                     "68c3b4d1 (2014) measured an ioeventfd MMIO write "
                                     "on the EPT-misconfiguration fast path to be "
                                     "\"essentially as fast as PIO\""},
            [VMM_COST_mem_ref] = {218, 0, WESTMERE ": RAM latency 40 cycles + 67 ns "
                                  "(local memory); 67 ns at 2.66 GHz is 178 cycles"},
            [VMM_COST_cache_ref] = {42, 0, WESTMERE ": L3 cache latency 40-42 cycles "
                                    "(42 on most cores)"},
            [VMM_COST_memslot_lookup] = {28, 0, MEMSLOT ": average search_memslots() "
                                         "lookup 28 cycles with the LRU slot cache (46 "
                                         "without), guest boot workload"},
            [VMM_COST_tcache_hit] = {28, 0, "stand-in: a hit in a small software cache "
                                     "of recent translations, taken as the measured "
                                     "LRU-cached memslot lookup (" MEMSLOT ")"},
            [VMM_COST_copy_per_kib] = {166, 0, WESTMERE ": 16 cache lines x (L2->L1 "
                                       "read 3.8 + L2 write 6.6 cycles per line); "
                                       "buffers beyond L2 copy slower"},
            [VMM_COST_pin_per_page] = {0, 61.9, "LKML \"[PATCH v2] gup: optimize "
                                       "longterm pin_user_pages() for large folio\" "
                                       "(Li Zhe, June 2025): gup_test -LT -m 8192, "
                                       "4 KiB pages: 129,733 us for 2,097,152 pages"},
        },
    },
    {
        .name = "skylake-sp-kvm",
        .description = "KVM on Intel Skylake(-SP), from kvm mailing-list measurements "
                       "of 2019-2020 (TSC cycles); no memory, copy or userspace "
                       "figures: give those under costs",
        .costs = {
            [VMM_COST_hypercall_exit] = {1559, 0, KVMLIST_MAR2020 ": vmcall 1559 cycles"},
            [VMM_COST_irq_exit] = {0, 710, KVMLIST_JUN2019 ": EXTERNAL_INTERRUPT exit, "
                                   "average 0.71 us"},
            [VMM_COST_eoi_exit] = {1559, 0, "stand-in: an EOI write without APIC "
                                   "virtualisation is an in-kernel exit; taken as the "
                                   "cheapest measured exit round trip (vmcall, "
                                   KVMLIST_MAR2020 ")"},
            [VMM_COST_ipi] = {4238, 0, KVMLIST_APR2020 ": IPI send to ack 4238 cycles "
                              "(3543 with the fastpath); stand-in for the host's IPI, "
                              "which the guest-to-guest figure contains"},
        },
    },
    {
        .name = "amd-svm-kvm",
        .description = "KVM on AMD SVM (2020, TSC cycles): one measured exit round "
                       "trip; give the other costs under costs",
        .costs = {
            [VMM_COST_hypercall_exit] = {2528, 0, "LKML, December 2020, KVM_RUN with "
                                         "VMRUN on AMD: 576 entry path + ~1360 VMRUN + "
                                         "~590 exit path = 2528 cycles; stand-in for a "
                                         "vmmcall round trip, which adds its handler"},
            [VMM_COST_eoi_exit] = {2528, 0, "stand-in: the measured exit round trip "
                                   "(LKML, December 2020), as for the other presets"},
        },
    },
    {
        .name = "kunpeng920-kvm",
        .description = "KVM on ARM, HiSilicon Kunpeng 920, kvm-unit-tests arm/micro-bench "
                       "(kvm list, November 2023), nanoseconds",
        .costs = ARM_COSTS(408, 638, 2306, 26, 1697),
    },
    {
        .name = "phytium-s2500-kvm",
        .description = "KVM on ARM, Phytium S2500, kvm-unit-tests arm/micro-bench "
                       "(kvm list, November 2023), nanoseconds",
        .costs = ARM_COSTS(1536, 2150, 7214, 45, 4979),
    },
    {0},
};

const char *const vmm_preset_names[] = {"x86-kvm-2012", "skylake-sp-kvm", "amd-svm-kvm",
                                        "kunpeng920-kvm", "phytium-s2500-kvm", NULL};

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

uint64_t vmm_preset_cycles(int index, vmm_cost_id id, uint64_t clock_hz)
{
    const vmm_cost_source *c = &vmm_presets[index].costs[id];
    if (c->ns > 0)
        return (uint64_t)(c->ns * (double)clock_hz / 1e9 + 0.5);
    return c->cycles;
}

void vmm_costs_from_preset(vmm_costs *out, int index, uint64_t clock_hz)
{
    for (int i = 0; i < VMM_COST_COUNT; i++)
        *vmm_cost_ref(out, (vmm_cost_id)i) = vmm_preset_cycles(index, (vmm_cost_id)i, clock_hz);
}
