/*
 * validate.h -- validation cases: a published figure, and how to read
 * pvsim's prediction of it from a results document.
 *
 * A case is a scenario with a `validate:` block (`pvsim run` ignores it):
 *
 *   validate:
 *     figure: vmcall round trip           what the number is
 *     source: kvm-unit-tests 00bfecaa      where it was published
 *     kind: consistency | prediction
 *     published: 3898                     the number, in `unit`
 *     unit: cycles | ns | count
 *     metric: microbench.cycles_per_iteration
 *                                         a path in the first variant's
 *                                         results, or `sum`: the sum of
 *                                         `primitives` in costs_cycles
 *     primitives: [exit, hypercall, entry] the primitives it uses
 *     tolerance: 0.005                    relative error allowed
 *     recorded_error: -0.134              predictions: the signed relative
 *                                         error of the first run
 *
 * A consistency check rebuilds a figure that went into the presets; it
 * fails when its error exceeds its tolerance. A prediction computes a
 * figure no primitive was derived from; it is a hit within its tolerance
 * and a miss beyond it, and it fails only when its error grows beyond the
 * one recorded at its first run (a prediction with no recorded error
 * fails until one is recorded: the first run is a decision, not a pass).
 * The module knows nothing of models: it reads blocks and JSON.
 */
#ifndef PVSIM_SIM_VALIDATE_H
#define PVSIM_SIM_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

#include "sim/scenario.h"

typedef enum val_kind { VAL_CONSISTENCY, VAL_PREDICTION } val_kind;
typedef enum val_unit { VAL_CYCLES, VAL_NS, VAL_COUNT } val_unit;

#define VAL_MAX_PRIMITIVES 16

typedef struct val_case {
    char *figure, *source, *metric;
    int kind;                       /* val_kind */
    int unit;                       /* val_unit */
    double published, tolerance, recorded_error;
    int has_recorded;
    char *primitives[VAL_MAX_PRIMITIVES];
    size_t nprimitives;
} val_case;

/* Reads the `validate:` block of `doc` into `c` (zeroed first). 0, or
 * SIM_ESCENARIO with an error at the place in the block for each mistake
 * (a missing block, a missing or wrong field), or SIM_ENOMEM. Free `c`
 * with val_case_free() whatever the outcome. */
int val_case_read(val_case *c, const scn_doc *doc, scn_errors *errs);
void val_case_free(val_case *c);

/* How a case came out. */
typedef enum val_status {
    VAL_OK,                         /* consistency within tolerance */
    VAL_FAILED,                     /* consistency beyond it */
    VAL_HIT,                        /* prediction within tolerance */
    VAL_MISSED,                     /* prediction beyond it, no worse than
                                       recorded */
    VAL_WORSE,                      /* prediction worse than recorded */
    VAL_UNRECORDED                  /* prediction with no recorded error */
} val_status;

typedef struct val_outcome {
    double predicted;               /* in the case's unit */
    double error;                   /* (predicted - published) / published */
    int status;                     /* val_status */
} val_outcome;

/* Reads the case's prediction from `results` (a pvsim-results document)
 * and judges it. 0, or SIM_ENOTFOUND with a sentence in `err` when the
 * metric or a primitive is missing (or null) in the results. */
int val_judge(const val_case *c, const json_t *results, val_outcome *out, char *err,
              size_t errlen);

/* Whether a status fails the validation run. */
int val_status_fails(int status);

/* "ok", "FAILED", "hit", "missed", "WORSE", "unrecorded". */
const char *val_status_name(int status);
const char *val_unit_name(int unit);

#endif
