/*
 * microbench.h -- a kvm-unit-tests style loop: one vCPU repeats one
 * operation N times, and the results give cycles per iteration.
 *
 * It replays published exit microbenchmark tables (x86/vmexit.c,
 * arm/micro-bench.c) line by line, so each line can be compared with what
 * pvsim composes from its primitives (scenarios/validation/). vCPU 0 runs
 * the loop and never idles; the IPI cases add vCPU 1, which spins in the
 * guest (`target: running`) or halts when idle (`target: halted`).
 *
 * Operations, and the path each iteration takes (fabric.h):
 *   hypercall    a hypercall that does no work (vmcall; ARM hvc)
 *   pio_read     IN from a port: handler kernel (an in-kernel device) or
 *   pio_write    userspace (the device model); OUT may also go to an
 *                ioeventfd (handler ioeventfd)
 *   mmio_read    the same for a memory-mapped register
 *   mmio_write
 *   ipi          vCPU 0 sends an IPI to vCPU 1 and waits until vCPU 1's
 *                handler ran (x86 ipi / ipi_halt; ARM ipi)
 *   self_ipi     vCPU 0 sends itself an IPI; its entry injects it, the
 *                handler runs and writes the EOI (self_ipi_sti_nop)
 *   eoi          an EOI write with nothing in service (ARM eoi)
 *   hlt_pending  with interrupts disabled, a self-IPI, then sti; hlt: the
 *                HLT finds the interrupt pending (self_ipi_sti_hlt)
 * After each iteration vCPU 0 may spin `gap` cycles (ipi_halt's 2000).
 */
#ifndef PVSIM_MODELS_MICROBENCH_H
#define PVSIM_MODELS_MICROBENCH_H

#include <jansson.h>
#include <stdint.h>

#include "models/cores.h"
#include "models/vcpu.h"
#include "sim/scenario.h"

typedef enum microbench_op {
    MB_NONE, MB_HYPERCALL, MB_PIO_READ, MB_PIO_WRITE, MB_MMIO_READ, MB_MMIO_WRITE, MB_IPI,
    MB_SELF_IPI, MB_EOI, MB_HLT_PENDING
} microbench_op;
typedef enum microbench_handler { MB_KERNEL, MB_USERSPACE, MB_IOEVENTFD } microbench_handler;
typedef enum microbench_target { MB_RUNNING, MB_HALTED } microbench_target;

typedef struct microbench_config {
    int op;                         /* microbench_op; none: no loop */
    int handler;                    /* microbench_handler */
    int target;                     /* microbench_target */
    uint64_t iterations;
    uint64_t gap;                   /* guest cycles after each iteration */
} microbench_config;

extern const scn_schema microbench_schema;

/* The path an I/O operation takes (fabric_path_id), or -1 when the op
 * is not a register access or the handler does not fit it (an ioeventfd
 * takes writes only). */
int microbench_io_path(const microbench_config *cfg);

/* The vCPUs the loop needs: 2 for ipi, else 1 (0 without a loop). */
uint32_t microbench_vcpus(const microbench_config *cfg);

typedef struct microbench microbench;

typedef struct microbench_env {
    sim_kernel *k;
    const microbench_config *cfg;
    const vmm_costs *costs;         /* outlive the loop */
    cores *host;
    int posted, eoi, pio_in_emulated;
} microbench_env;

/* Builds the loop's vCPUs on env->host (before cores_start). NULL when
 * memory is short. */
microbench *microbench_new(const microbench_env *env);
void microbench_free(microbench *m);

/* Starts the first iteration now; the last one stops the kernel
 * (sim_stop). A failure stops the run through sim_fail(). */
void microbench_start(microbench *m);

/* The results: iterations done, cycles and ns per iteration, and the
 * exits and interrupts per iteration. NULL when memory is short. */
json_t *microbench_json(const microbench *m, uint64_t clock_hz);

#endif
