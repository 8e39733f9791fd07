/*
 * microbench.c -- the loop of microbench.h.
 *
 * An iteration is a short chain of vCPU work whose last callback starts
 * the next one. The IPI case ends when both halves are done: the sender
 * re-entered and the target's handler ran (the sender spins in the guest
 * until it sees that, as on_cpu() and micro-bench's ipi do).
 */
#include "models/microbench.h"

#include <stdlib.h>

static const char *const op_names[] = {"none", "hypercall", "pio_read", "pio_write",
                                       "mmio_read", "mmio_write", "ipi", "self_ipi", "eoi",
                                       "hlt_pending", NULL};
static const char *const handler_names[] = {"kernel", "userspace", "ioeventfd", NULL};
static const char *const target_names[] = {"running", "halted", NULL};

static const scn_field microbench_fields[] = {
    {.key = "op", .type = SCN_ENUM, .offset = SCN_AT(microbench_config, op, int),
     .def = "none", .enum_names = op_names,
     .doc = "the operation vCPU 0 repeats (none: no loop); docs/validation.md lists "
            "what each one exits through"},
    {.key = "handler", .type = SCN_ENUM, .offset = SCN_AT(microbench_config, handler, int),
     .def = "kernel", .enum_names = handler_names,
     .doc = "pio_* and mmio_*: an in-kernel device, the userspace device model, or "
            "(writes only) an ioeventfd"},
    {.key = "target", .type = SCN_ENUM, .offset = SCN_AT(microbench_config, target, int),
     .def = "running", .enum_names = target_names,
     .doc = "ipi: vCPU 1 spins in the guest, or halts when idle"},
    {.key = "iterations", .type = SCN_U64,
     .offset = SCN_AT(microbench_config, iterations, uint64_t), .min = 1, .max = 1e9,
     .def = "65536", .doc = "times the operation runs"},
    {.key = "gap", .type = SCN_DURATION, .offset = SCN_AT(microbench_config, gap, uint64_t),
     .max = 1e12, .def = "0",
     .doc = "guest work vCPU 0 does after each iteration (x86 ipi_halt spins 2000 "
            "cycles so the target can halt again)"},
};

const scn_schema microbench_schema = {
    .name = "microbench",
    .size = sizeof(microbench_config),
    .fields = microbench_fields,
    .nfields = sizeof microbench_fields / sizeof microbench_fields[0],
};

int microbench_io_path(const microbench_config *cfg)
{
    /* Rows in op order from MB_PIO_READ; columns by handler. */
    static const int paths[4][3] = {
        {FABRIC_PATH_PIO_READ_KERNEL, FABRIC_PATH_PIO_READ_USER, -1},
        {FABRIC_PATH_PIO_WRITE_KERNEL, FABRIC_PATH_PIO_WRITE_USER, FABRIC_PATH_KICK_PIO},
        {FABRIC_PATH_MMIO_KERNEL, FABRIC_PATH_MMIO_USER, -1},
        {FABRIC_PATH_MMIO_KERNEL, FABRIC_PATH_MMIO_USER, FABRIC_PATH_KICK_MMIO},
    };
    if (cfg->op < MB_PIO_READ || cfg->op > MB_MMIO_WRITE)
        return -1;
    return paths[cfg->op - MB_PIO_READ][cfg->handler];
}

uint32_t microbench_vcpus(const microbench_config *cfg)
{
    return cfg->op == MB_NONE ? 0 : cfg->op == MB_IPI ? 2 : 1;
}

struct microbench {
    microbench_env env;
    vcpu *v[2];
    vcpu_counts counts;
    uint64_t done;                  /* iterations completed */
    int halves;                     /* ipi: halves of this iteration left */
    sim_time start, end;
};

microbench *microbench_new(const microbench_env *env)
{
    microbench *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->env = *env;
    for (uint32_t i = 0; i < microbench_vcpus(env->cfg); i++) {
        /* vCPU 0 runs the loop and never idles; vCPU 1 is the target. */
        int polling = i == 0 || env->cfg->target == MB_RUNNING;
        vcpu_env ve = {.k = env->k, .host = env->host, .kind = "microbench-vcpu",
                       .costs = env->costs, .polling = polling, .posted = env->posted,
                       .eoi = env->eoi, .pio_in_emulated = env->pio_in_emulated,
                       .counts = &m->counts};
        m->v[i] = vcpu_new(&ve);
        if (!m->v[i]) {
            microbench_free(m);
            return NULL;
        }
    }
    return m;
}

void microbench_free(microbench *m)
{
    if (!m)
        return;
    vcpu_free(m->v[0]);
    vcpu_free(m->v[1]);
    free(m);
}

static void iterate(sim_kernel *k, void *ctx, uint64_t arg);

static const vcpu_call none = {0};

/* One iteration is over, its gap included: the next, or the end. */
static void iteration_done(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    microbench *m = ctx;
    m->done++;
    m->end = sim_now(k);
    if (m->done == m->env.cfg->iterations)
        sim_stop(k);
    else
        iterate(k, m, 0);
}

/* The operation is over: vCPU 0 spins the gap, which the iteration
 * includes (as x86 ipi_halt's spin is inside its timed function). */
static void op_done(sim_kernel *k, void *ctx, uint64_t arg)
{
    microbench *m = ctx;
    if (m->env.cfg->gap)
        vcpu_guest(m->v[0], m->env.cfg->gap, (vcpu_call){iteration_done, m, 0}, NULL);
    else
        iteration_done(k, m, arg);
}

/* ipi: the sender re-entered, or the target's handler ran. */
static void half_done(sim_kernel *k, void *ctx, uint64_t arg)
{
    microbench *m = ctx;
    if (--m->halves == 0)
        op_done(k, m, arg);
}

/* The IPI leaves vCPU 0's handler for `arg`'s vCPU. */
static void ipi_sent(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    microbench *m = ctx;
    sim_handler then = arg == 0 ? op_done : half_done;
    vcpu_interrupt(m->v[arg], (vcpu_call){then, m, 0}, NULL, NULL);
}

static void iterate(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    microbench *m = ctx;
    const vcpu_call next = {op_done, m, 0};
    vcpu *v = m->v[0];
    switch (m->env.cfg->op) {
    case MB_HYPERCALL:
        vcpu_exit(v, FABRIC_PATH_HYPERCALL, none, next, NULL, NULL);
        break;
    case MB_IPI:
        m->halves = 2;
        vcpu_exit(v, FABRIC_PATH_IPI_SEND, (vcpu_call){ipi_sent, m, 1},
                  (vcpu_call){half_done, m, 0}, NULL, NULL);
        break;
    case MB_SELF_IPI:
        vcpu_exit(v, FABRIC_PATH_IPI_SEND, (vcpu_call){ipi_sent, m, 0}, none, NULL, NULL);
        break;
    case MB_HLT_PENDING:
        vcpu_set_masked(v, 1);
        vcpu_exit(v, FABRIC_PATH_IPI_SEND, (vcpu_call){ipi_sent, m, 0}, none, NULL, NULL);
        vcpu_halt(v, none, NULL);
        break;
    case MB_EOI:
        if (m->env.eoi == VMM_EOI_EXIT)
            vcpu_exit(v, FABRIC_PATH_EOI, none, next, NULL, NULL);
        else
            vcpu_guest(v, m->env.costs->eoi_write, next, NULL);
        break;
    default:                        /* the register accesses */
        vcpu_exit(v, microbench_io_path(m->env.cfg), none, next, NULL, NULL);
    }
}

void microbench_start(microbench *m)
{
    m->start = m->end = sim_now(m->env.k);
    iterate(m->env.k, m, 0);
}

json_t *microbench_json(const microbench *m, uint64_t clock_hz)
{
    const microbench_config *c = m->env.cfg;
    double n = (double)(m->done ? m->done : 1);
    double cycles = (double)(m->end - m->start) / n;
    json_t *per = json_object();
    for (int r = 0; per && r < FABRIC_REASON_COUNT; r++)
        if (json_object_set_new(per, fabric_reason_name(r),
                                json_real((double)m->counts.exits[r] / n))) {
            json_decref(per);
            per = NULL;
        }
    return json_pack("{s:s, s:s, s:s, s:I, s:b, s:f, s:f, s:f, s:o, s:f, s:f}",
                     "op", op_names[c->op], "handler", handler_names[c->handler],
                     "target", target_names[c->target], "iterations", (json_int_t)m->done,
                     "complete", m->done == c->iterations, "cycles_per_iteration", cycles,
                     "ns_per_iteration", cycles * 1e9 / (double)clock_hz,
                     "exits_per_iteration", (double)vcpu_counts_exits(&m->counts) / n,
                     "exits_by_reason_per_iteration", per,
                     "interrupts_per_iteration", (double)m->counts.interrupts / n,
                     "posted_per_iteration", (double)m->counts.posted / n);
}
