/*
 * nearest.h -- how far apart two words are, for "did you mean" hints in
 * the scenario loader and the plot command.
 */
#ifndef PVSIM_SIM_NEAREST_H
#define PVSIM_SIM_NEAREST_H

#include <stddef.h>

#define NEAR_MAX_LEN 255            /* longer words are not compared */

/* The optimal-string-alignment distance (Damerau-Levenshtein with adjacent
 * transpositions) between the `n` bytes of `a` and the `m` bytes of `b`,
 * or SIZE_MAX when either is longer than NEAR_MAX_LEN. */
size_t near_distance(const char *a, size_t n, const char *b, size_t m);

#endif
