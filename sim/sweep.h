/*
 * sweep.h -- design-space sweeps: the points a sweep runs.
 *
 * A plan is a list of parameters, each a scenario path ("guests.0.workload
 * .size") with the values it takes, as the YAML text `--set` would take
 * ("64KiB"), and a mode that combines them into points:
 *   grid  every combination; the first parameter varies slowest, like
 *         nested loops written in the parameters' order;
 *   zip   the i-th values of every parameter together; every parameter
 *         must have as many values as the others.
 * Point i is then a list of overrides applied on top of the scenario.
 *
 * Parameters come from the scenario's `sweep:` block and from
 * `--sweep PATH=V1,V2,...` options, which replace the block's parameter of
 * the same path or add one after the block's:
 *
 *   sweep:
 *     mode: grid                                   # or zip (default grid)
 *     parameters:
 *       guests.0.workload.size: [4KiB, 64KiB, 1MiB]         # a list
 *       guests.0.memory.fragmentation: {from: 0, to: 0.9, step: 0.3}
 *       device.fixed: {from: 500ns, to: 8us, factor: 2}     # geometric
 *
 * A range's bounds and step are read as the parameter's field reads them
 * (sizes, durations, frequencies with their units) and its values are
 * written back in base units, so they bind exactly; the bounds are
 * inclusive (to within a relative 1e-9, so 0.1 steps reach 0.9).
 * Range values are computed as from + i * step or from * factor^i by
 * repeated multiplication: IEEE arithmetic, the same on every machine.
 *
 * Nothing here runs a simulation or prints: errors go to an scn_errors
 * list with the place in the scenario (or "--sweep:N" for the Nth option).
 */
#ifndef PVSIM_SIM_SWEEP_H
#define PVSIM_SIM_SWEEP_H

#include <stddef.h>

#include "sim/scenario.h"

#define SWP_MAX_PARAMS 32            /* parameters of one sweep */
#define SWP_MAX_VALUES 100000        /* values of one parameter */
#define SWP_MAX_POINTS 1000000       /* points of one sweep */

typedef struct swp_param {
    char *path;                      /* owned: "guests.0.workload.size" */
    scn_mark mark;                   /* of the path, for errors */
    char **values;                   /* owned: YAML scalar texts */
    scn_mark *marks;                 /* owned: where each value came from */
    size_t nvalues;
} swp_param;

typedef enum swp_mode { SWP_GRID, SWP_ZIP } swp_mode;

typedef struct swp_plan {
    swp_mode mode;
    swp_param params[SWP_MAX_PARAMS];
    size_t nparams;
    size_t npoints;                  /* set by swp_plan_finish() */
} swp_plan;

/* "grid", "zip", NULL. */
extern const char *const swp_mode_names[];

/*
 * Reads the `sweep:` block of a loaded scenario (scn_doc_block(doc,
 * "sweep")) into the zeroed plan `p`. Every path must name a value of
 * `root` (scn_field_at); ranges are expanded with the field's units.
 * Absent block: nothing to read, 0. Returns 0, SIM_ESCENARIO with `errs`
 * filled, or SIM_ENOMEM. Free `p` with swp_plan_free() whatever happens.
 */
int swp_plan_read(swp_plan *p, const scn_schema *root, const scn_doc *doc,
                  scn_errors *errs);

/* Adds "PATH=V1,V2,..." (the `index`th --sweep option, 1-based, for
 * messages), replacing the block's parameter with the same path; a path
 * an earlier option gave is an error naming both options. Values are
 * split at commas and taken as written. Returns 0, SIM_ESCENARIO or
 * SIM_ENOMEM. */
int swp_plan_add_option(swp_plan *p, const scn_schema *root, const char *opt,
                        int index, scn_errors *errs);

/* Checks the plan once every parameter is in (at least one parameter; zip
 * lists of equal length; at most SWP_MAX_POINTS points) and sets npoints.
 * `where` marks errors about the plan as a whole. 0 or SIM_ESCENARIO. */
int swp_plan_finish(swp_plan *p, scn_mark where, scn_errors *errs);

/* The value index of each parameter at point `point` < npoints, into
 * `index` (nparams entries). */
void swp_point_values(const swp_plan *p, size_t point, size_t *index);

/* Frees what the plan owns and zeroes it. Accepts NULL. */
void swp_plan_free(swp_plan *p);

#endif
