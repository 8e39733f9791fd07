/*
 * stats.c -- the log-linear histogram and the time integral of stats.h.
 */
#include "sim/stats.h"

#include <stdlib.h>
#include <string.h>

int sim_hist_init(sim_hist *h)
{
    h->count = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
    h->buckets = calloc(SIM_HIST_BUCKETS, sizeof *h->buckets);
    return h->buckets ? 0 : SIM_ENOMEM;
}

void sim_hist_fini(sim_hist *h)
{
    free(h->buckets);
    h->buckets = NULL;
}

void sim_hist_clear(sim_hist *h)
{
    memset(h->buckets, 0, SIM_HIST_BUCKETS * sizeof *h->buckets);
    h->count = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
}

uint32_t sim_hist_bucket_of(uint64_t value)
{
    if (value < SIM_HIST_SUB)
        return (uint32_t)value;
    /* e >= SUB_BITS is the position of the leading one; the SUB_BITS bits
     * below it choose the sub-bucket inside [2^e, 2^(e+1)). */
    unsigned e = 63u - (unsigned)__builtin_clzll(value);
    unsigned shift = e - SIM_HIST_SUB_BITS;
    uint64_t sub = (value >> shift) - SIM_HIST_SUB;
    return (uint32_t)((shift + 1) * SIM_HIST_SUB + sub);
}

void sim_hist_bucket_range(uint32_t bucket, uint64_t *lo, uint64_t *hi)
{
    if (bucket < SIM_HIST_SUB) {
        *lo = *hi = bucket;
        return;
    }
    unsigned shift = bucket / SIM_HIST_SUB - 1;
    uint64_t sub = bucket % SIM_HIST_SUB + SIM_HIST_SUB;
    *lo = sub << shift;
    *hi = *lo + ((1ull << shift) - 1);
}

void sim_hist_record(sim_hist *h, uint64_t value)
{
    h->buckets[sim_hist_bucket_of(value)]++;
    h->count++;
    h->sum += value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void sim_hist_merge(sim_hist *dst, const sim_hist *src)
{
    if (src->count == 0)
        return;
    for (uint32_t i = 0; i < SIM_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t sim_hist_quantile(const sim_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    /* Rank of the wanted value, 1-based: the smallest r with r >= q*count. */
    double want = q * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < SIM_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            sim_hist_bucket_range(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            if (mid < h->min)
                return h->min;
            return mid > h->max ? h->max : mid;
        }
    }
    return h->max;
}

double sim_hist_mean(const sim_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

void sim_util_init(sim_util *u, sim_time now)
{
    u->start = u->last = now;
    u->level = 0;
    u->area = 0;
}

void sim_util_set(sim_util *u, sim_time now, uint64_t level)
{
    u->area += (unsigned __int128)u->level * (now - u->last);
    u->last = now;
    u->level = level;
}

double sim_util_mean(const sim_util *u, sim_time now)
{
    if (now <= u->start)
        return 0.0;
    unsigned __int128 area = u->area + (unsigned __int128)u->level * (now - u->last);
    return (double)area / (double)(now - u->start);
}

void sim_util_reset(sim_util *u, sim_time now)
{
    u->start = u->last = now;
    u->area = 0;
}
