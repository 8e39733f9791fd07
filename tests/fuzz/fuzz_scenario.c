/*
 * fuzz_scenario.c -- the scenario loader under a fuzzer.
 *
 * One entry point, LLVMFuzzerTestOneInput, loads the input as a scenario
 * with the real schema (and a couple of --set overrides), reads its
 * `sweep:` block into a plan as `pvsim sweep` does and its `validate:`
 * block as `pvsim validate` does, and frees everything. Built with libFuzzer when PVSIM_FUZZ is on (clang only):
 *     cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DPVSIM_FUZZ=ON
 *     build/fuzz/tests/fuzz_scenario tests/fuzz/corpus
 * Inputs that ever crashed belong in tests/fuzz/corpus/: the replay test
 * (replay.c) runs every file there through this same function in every
 * build, so they stay fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "models/system.h"
#include "sim/sweep.h"
#include "sim/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sweep block of a document that loads: read, then checked whole. */
static void fuzz_sweep(const scn_source *src)
{
    system_config cfg = {0};
    scn_doc *doc = NULL;
    scn_errors errs = {0};
    swp_plan plan = {0};
    val_case vc = {0};
    int rc = scn_load(&system_schema, src, &cfg, &doc, &errs);
    if (rc == 0) {
        scn_errors verrs = {0};
        int vrc = val_case_read(&vc, doc, &verrs);
        if (vrc == SIM_ESCENARIO && verrs.count == 0)
            __builtin_trap();           /* a failure must say why */
        rc = swp_plan_read(&plan, &system_schema, doc, &errs);
    }
    if (rc == 0)
        rc = swp_plan_finish(&plan, (scn_mark){"fuzz.yaml", 0, 0}, &errs);
    if (rc == SIM_ESCENARIO && errs.count == 0)
        __builtin_trap();               /* a failure must say why */
    val_case_free(&vc);
    swp_plan_free(&plan);
    scn_doc_free(doc);
    scn_free(&system_schema, &cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const sets[] = {"guests.0.workload.depth=2", "run.duration=1ms"};
    system_config cfg;
    scn_errors errs = {0};
    /* Half the inputs also get overrides, so --set paths meet odd trees. */
    size_t nsets = size > 0 && (data[0] & 1) ? 2 : 0;
    scn_source src = {.path = "fuzz.yaml", .text = (const char *)data, .text_len = size,
                      .sets = sets, .nsets = nsets};
    int rc = system_load(&src, &cfg, &errs);
    if (rc != 0 && rc != SIM_ESCENARIO && rc != SIM_ENOMEM)
        __builtin_trap();               /* an undocumented outcome */
    if (rc == SIM_ESCENARIO && errs.count == 0)
        __builtin_trap();               /* a failure must say why */
    system_config_free(&cfg);
    fuzz_sweep(&src);
    return 0;
}
