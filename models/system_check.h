/*
 * system_check.h -- the semantic checks of a loaded scenario, for
 * system.c (models/system_check.c).
 */
#ifndef PVSIM_MODELS_SYSTEM_CHECK_H
#define PVSIM_MODELS_SYSTEM_CHECK_H

#include "models/system.h"

/* True when the scenario (or a --set) gave `path` explicitly. */
int system_given(const scn_doc *doc, const char *path);

/* Adds an error, with the mark of the key to change, for every rule that
 * spans several keys and that `cfg` breaks; costs must be resolved. */
void system_check(const system_config *cfg, const scn_doc *doc, scn_errors *errs);

#endif
