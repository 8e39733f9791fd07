/*
 * nearest.c -- the edit distance of nearest.h.
 */
#include "sim/nearest.h"

#include <stdint.h>

/* Three rows of the dynamic programme: two back for transpositions. */
size_t near_distance(const char *a, size_t n, const char *b, size_t m)
{
    if (n > NEAR_MAX_LEN || m > NEAR_MAX_LEN)
        return SIZE_MAX;
    size_t rows[3][NEAR_MAX_LEN + 1];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = prev[j - 1] + cost;
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}
