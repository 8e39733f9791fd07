/*
 * test_tlm.c -- the TLM-2.0 bridge (models/tlm_bridge.h) on the example
 * target: what b_transport annotates, what unknown targets and oversized
 * payloads give, that a target which waits or answers an error stops with
 * its own status instead of taking the process down, and, without
 * SystemC, that nothing is built.
 *
 * Transactions run from an event handler inside sim_run, as the device's
 * workers call them: SystemC binds the sockets when it starts. Criterion
 * runs each test in its own process, as SystemC's one simulation per
 * process needs.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "models/tlm_bridge.h"
#include "sim/error.h"
#include "sim/kernel.h"

typedef struct call {
    tlm_bridge *b;
    int write;
    uint64_t len;
    int rc;
    uint64_t delay;
} call;

static void transport(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    call *c = ctx;
    c->rc = tlm_bridge_transport(c->b, c->write, 4096, c->len, &c->delay);
}

#ifdef PVSIM_TEST_BAD_TARGETS
void tlm_register_bad_targets(void);    /* tlm_bad_targets.cc */
#endif

/* Runs one transaction of `len` bytes on a fresh target of that name. */
static call run_on(const char *target, int write, uint64_t len)
{
    sim_kernel *k;
    sim_kernel_config kc = {.backend = SIM_BACKEND_SYSTEMC};
    cr_assert_eq(sim_kernel_open(&k, &kc), 0);
    tlm_bridge_params p = {.fixed = 3000, .per_byte = 0.1, .clock_hz = 3000000000u};
    int rc;
    call c = {.b = tlm_bridge_new(target, &p, &rc), .write = write, .len = len};
    cr_assert_not_null(c.b);
    cr_assert_eq(sim_schedule_at(k, 10, SIM_BAND_FIRST, transport, &c, 0, NULL), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    tlm_bridge_free(c.b);
    sim_kernel_free(k);
    return c;
}

static call run_one(int write, uint64_t len)
{
    return run_on("dma-block", write, len);
}

Test(tlm, write_annotates_fixed_plus_per_byte)
{
    if (!tlm_bridge_built())
        cr_skip_test("built without SystemC");
    call c = run_one(1, 4096);
    cr_assert_eq(c.rc, 0);
    cr_assert_eq(c.delay, 3000 + 410);     /* 409.6 rounds as the loopback's */
}

Test(tlm, read_annotates_the_same)
{
    if (!tlm_bridge_built())
        cr_skip_test("built without SystemC");
    call c = run_one(0, 65536);
    cr_assert_eq(c.rc, 0);
    cr_assert_eq(c.delay, 3000 + 6554);
}

Test(tlm, oversized_payload_is_refused)
{
    if (!tlm_bridge_built())
        cr_skip_test("built without SystemC");
    call c = run_one(1, (uint64_t)UINT32_MAX + 1);
    cr_assert_eq(c.rc, SIM_EINVAL);
}

Test(tlm, unknown_target)
{
    tlm_bridge_params p = {.fixed = 1};
    int rc = 0;
    cr_assert_null(tlm_bridge_new("nope", &p, &rc));
    cr_assert_eq(rc, tlm_bridge_built() ? SIM_EINVAL : SIM_ENOTBUILT);
    cr_assert_eq(tlm_bridge_has_target("dma-block"), tlm_bridge_built());
    cr_assert_not(tlm_bridge_has_target("nope"));
}

#ifdef PVSIM_TEST_BAD_TARGETS
/* wait() from b_transport is a SystemC error inside the adapter's method:
 * the bridge catches it and answers SIM_ETARGET, whose text says why. */
Test(tlm, a_target_that_waits_fails_with_its_own_status)
{
    tlm_register_bad_targets();
    call c = run_on("waits", 1, 4096);
    cr_assert_eq(c.rc, SIM_ETARGET);
    cr_assert(strstr(sim_strerror(SIM_ETARGET), "wait()"));
}

Test(tlm, an_error_response_has_its_own_status)
{
    tlm_register_bad_targets();
    call c = run_on("refuses", 0, 4096);
    cr_assert_eq(c.rc, SIM_ERESPONSE);
}
#endif
