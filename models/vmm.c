/*
 * vmm.c -- the cost presets, each number with its public source.
 *
 * docs/costs.md gives the same table with the full arithmetic; `pvsim
 * presets` prints it from here, so the two are checked against each other
 * by the CLI tests. Rules for a preset:
 *   - a primitive comes from a source that isolates it, or from measured
 *     round trips by documented arithmetic (each subtraction names both of
 *     its terms); a composite is never stored as a primitive;
 *   - where no source splits a pair (exit and entry), the split is a
 *     stand-in and says so, as does any other stand-in;
 *   - a primitive with no source stays unset (source NULL).
 * scenarios/validation/ rebuilds every measured round trip from these
 * phases (`pvsim validate`).
 */
#include "models/vmm.h"

#define KUT2012 "kvm-unit-tests x86/vmexit.c, commit 00bfecaa (2012), -smp 1"
#define SPLITX "SplitX (Landau, Ben-Yehuda, Gordon, WIOV 2011), Xeon X5570, KVM of " \
               "Linux 2.6.34: \"The direct cost on its own is high: 2,000 cycles\", " \
               "the world switch both ways"
#define HALF_STANDIN "; split evenly between exit and entry (stand-in: no source " \
                     "splits the pair)"
#define WESTMERE "7-cpu.com, Intel Westmere: Xeon X5650 (Westmere-EP) at 2.66 GHz"
#define MEMSLOT "KVM patch \"kvm: search_memslots: add simple LRU memslot caching\" " \
                "(Igor Mammedov, 2014)"
#define SKX_VMCALL "kvm list, 12 Mar 2020 (Wanpeng Li, \"KVM: VMX: Micro-optimize vmexit " \
                   "time when not exposing PMU\"), SKX server: vmcall 1559"
#define BONZINI2020 "Paolo Bonzini, kvm list, 21 Aug 2020: \"KVM's vmentry+vmexit cost " \
                    "is around 1000 cycles\""
#define ROTH2020 "Michael Roth, LKML, 16 Dec 2020 (KVM: SVM: use vmsave/vmload ...), " \
                 "EPYC, a guest looping on hlt, rdtscp across KVM_RUN: +576 to pre-vmrun, " \
                 "+1360 to post-vmrun, +592 to ioctl exit = 2528"
#define MICROBENCH "kvm-unit-tests arm/micro-bench, kvm list, 1 Nov 2023 (heqiong), " \
                   "results after the timing fix (commit 8074c5c2)"

/* The ARM presets share one shape: micro-bench's hvc, mmio_read_vgic,
 * mmio_read_user and eoi, in ns. The hvc round trip is taken as the pair
 * of transitions (its handler only returns NOT_SUPPORTED), split evenly;
 * the in-kernel MMIO read adds the syndrome decode and the vGIC's handler
 * (not separable: kernel_device is 0 inside it); the userspace read
 * replaces that handler by the userspace round trip. */
#define ARM_COSTS(hvc, vgic, user, eoi)                                            \
    {                                                                              \
        [VMM_COST_exit] = {0, (hvc) / 2.0, MICROBENCH ": hvc / 2" HALF_STANDIN},   \
        [VMM_COST_entry] = {0, (hvc) / 2.0, MICROBENCH ": hvc / 2" HALF_STANDIN},  \
        [VMM_COST_hypercall] = {0, 0, "stand-in: hvc with an unknown function ID "  \
                                "only returns SMCCC_RET_NOT_SUPPORTED; the round "  \
                                "trip is taken as the transitions alone"},          \
        [VMM_COST_mmio_decode] = {0, (vgic) - (hvc), MICROBENCH                     \
                                  ": mmio_read_vgic - hvc: the syndrome decode, "   \
                                  "dispatch and the vGIC's GICD_IIDR read"},       \
        [VMM_COST_kernel_device] = {0, 0, "stand-in: the vGIC's read handler is "   \
                                    "inside mmio_decode (mmio_read_vgic cannot "    \
                                    "separate it)"},                                \
        [VMM_COST_emulation] = {0, 0, "none: the data-abort syndrome describes the " \
                                "access, so KVM decodes no instruction"},          \
        [VMM_COST_userspace] = {0, (user) - (vgic), MICROBENCH                      \
                                ": mmio_read_user - mmio_read_vgic"},              \
        [VMM_COST_eoi_write] = {0, eoi, MICROBENCH ": eoi, a GICv3 ICC_EOIR1 "      \
                                "write, which does not trap"},                     \
    }

#define ARM_EOI_SOURCE "GICv3: the guest's ICC_EOIR1 write goes to the virtual CPU " \
                       "interface; KVM traps group-1 registers only for Cavium " \
                       "erratum 30115 and Apple's broken SEIS (arm/micro-bench's eoi)"

const vmm_preset vmm_presets[] = {
    {
        .name = "x86-kvm-2012",
        .description = "KVM on x86: exits as kvm-unit-tests measured them in 2012 "
                       "(TSC cycles), split into phases with SplitX's world-switch "
                       "cost; memory costs from Westmere-EP, KVM memslot and pinning "
                       "measurements (each line says which)",
        .eoi = VMM_EOI_EXIT,
        .eoi_source = "KVM of 2012 without APIC virtualisation: the guest's EOI write "
                      "traps",
        .pio_in_emulated = 1,
        .costs = {
            [VMM_COST_exit] = {1000, 0, SPLITX HALF_STANDIN},
            [VMM_COST_entry] = {1000, 0, SPLITX HALF_STANDIN},
            [VMM_COST_hypercall] = {1898, 0, KUT2012 ": vmcall 3898 - exit - entry"},
            [VMM_COST_pio_decode] = {2451, 0, KUT2012 ": outl_to_kernel 4451 - exit - "
                                     "entry; includes the ELCR write's handler, which "
                                     "the source does not separate"},
            [VMM_COST_mmio_decode] = {2451, 0, "stand-in: pio_decode, as Linux commit "
                                      "68c3b4d1 (2014) found an ioeventfd MMIO write on "
                                      "EPT \"essentially as fast as PIO\""},
            [VMM_COST_emulation] = {2786, 0, KUT2012 ": inl_from_kernel 7237 - "
                                    "outl_to_kernel 4451, the difference the commit "
                                    "names the cost of emulation"},
            [VMM_COST_kernel_device] = {0, 0, "stand-in: inside pio_decode (the ELCR "
                                        "write cannot be separated from decoding)"},
            [VMM_COST_eventfd_signal] = {0, 0, "stand-in: an ioeventfd is the device on "
                                         "the bus whose handler signals; as for the "
                                         "ELCR write it replaces, inside pio_decode"},
            [VMM_COST_userspace] = {13337, 0, KUT2012 ": inl_from_qemu 20574 - "
                                    "inl_from_kernel 7237 (the commit: \"roughly the "
                                    "cost of a userspace exit\")"},
            [VMM_COST_eoi_handler] = {2786, 0, "stand-in: an xAPIC EOI write traps as an "
                                      "APIC access, which KVM of 2012 sends through the "
                                      "instruction emulator: emulation (2786), the APIC's "
                                      "own handler inside as for kernel_device"},
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
        .description = "KVM on Intel Skylake-SP (TSC cycles): the hypercall round trip "
                       "of 2020, split with KVM's stated world-switch cost; give the "
                       "other costs under costs",
        .eoi = VMM_EOI_VIRTUALISED,
        .eoi_source = "APICv: Wanpeng Li's SKX server runs (kvm list, 21 Apr 2020) "
                      "compare \"w/ APICv\" and \"w/o APICv\", and KVM enables it "
                      "by default",
        .costs = {
            [VMM_COST_exit] = {500, 0, BONZINI2020 HALF_STANDIN},
            [VMM_COST_entry] = {500, 0, BONZINI2020 HALF_STANDIN},
            [VMM_COST_hypercall] = {559, 0, SKX_VMCALL " - exit - entry"},
        },
    },
    {
        .name = "amd-svm-kvm",
        .description = "KVM on AMD SVM (EPYC, 2020, TSC cycles): one traced KVM_RUN of "
                       "a HLT exit; give the other costs under costs",
        .eoi = VMM_EOI_EXIT,
        .eoi_source = "KVM's AVIC was off by default in 2020: the EOI write traps",
        .costs = {
            [VMM_COST_exit] = {1272, 0, ROTH2020 ": 592 (KVM's exit path; in this test "
                               "also the return to userspace and vcpu_put) + 1360 / 2 "
                               "(VMRUN to #VMEXIT, split evenly: stand-in)"},
            [VMM_COST_entry] = {1256, 0, ROTH2020 ": 576 (the entry path, with this "
                                "test's vcpu_load) + 1360 / 2 (stand-in split)"},
            [VMM_COST_hlt] = {0, 0, "stand-in: the HLT handler runs inside the +592 "
                              "segment, counted in exit (" ROTH2020 ")"},
        },
    },
    {
        .name = "kunpeng920-kvm",
        .description = "KVM on ARM, HiSilicon Kunpeng 920, kvm-unit-tests arm/micro-bench "
                       "(kvm list, November 2023), nanoseconds",
        .eoi = VMM_EOI_NONE,
        .eoi_source = ARM_EOI_SOURCE,
        .costs = ARM_COSTS(407, 638, 2301, 16),
    },
    {
        .name = "phytium-s2500-kvm",
        .description = "KVM on ARM, Phytium S2500, kvm-unit-tests arm/micro-bench "
                       "(kvm list, November 2023), nanoseconds",
        .eoi = VMM_EOI_NONE,
        .eoi_source = ARM_EOI_SOURCE,
        .costs = ARM_COSTS(1518, 2143, 7244, 25),
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

uint64_t vmm_cost_get(const vmm_costs *c, vmm_cost_id id)
{
    return *vmm_cost_ref((vmm_costs *)c, id);
}

int vmm_cost_known(const vmm_costs *c, vmm_cost_id id)
{
    return (int)((c->known >> id) & 1u);
}

void vmm_cost_set(vmm_costs *c, vmm_cost_id id, uint64_t cycles)
{
    *vmm_cost_ref(c, id) = cycles;
    c->known |= 1ull << id;
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
    *out = (vmm_costs){0};
    for (int i = 0; i < VMM_COST_COUNT; i++)
        if (vmm_presets[index].costs[i].source)
            vmm_cost_set(out, (vmm_cost_id)i, vmm_preset_cycles(index, (vmm_cost_id)i, clock_hz));
}
