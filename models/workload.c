/*
 * workload.c -- the workload of workload.h: its scenario block, its draws
 * (sizes, directions, arrivals), its checks, and latency by size class
 * and direction.
 */
#include "models/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/report.h"

/* ---- schema --------------------------------------------------------------- */

static const char *const think_dist_names[] = {"fixed", "exponential", NULL};
static const char *const size_dist_names[] = {"fixed", "uniform", "weighted", NULL};
static const char *const arrival_names[] = {"closed", "poisson", "interval", "burst", NULL};
static const char *const on_full_names[] = {"queue", "drop", NULL};

static const scn_field weight_fields[] = {
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(workload_size_weight, size, uint64_t),
     .flags = SCN_REQUIRED, .min = 1, .max = 1073741824.0, .doc = "a request size"},
    {.key = "weight", .type = SCN_DOUBLE,
     .offset = SCN_AT(workload_size_weight, weight, double), .min = 0, .max = 1e9,
     .def = "1", .doc = "its relative weight"},
};

static const scn_schema weight_schema = {
    .name = "size weight", .size = sizeof(workload_size_weight), .fields = weight_fields,
    .nfields = sizeof weight_fields / sizeof weight_fields[0],
};

static const scn_field workload_fields[] = {
    {.key = "depth", .type = SCN_U64, .offset = SCN_AT(guest_workload_config, depth, uint64_t),
     .min = 1, .max = 65536, .def = "1",
     .doc = "requests kept outstanding (closed loop), or the most in flight (open loop)"},
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(guest_workload_config, size, uint64_t),
     .min = 1, .max = 1073741824.0, .def = "4KiB",
     .doc = "payload bytes per request (fixed), or the largest (uniform); weighted: "
            "leave unset, it becomes the largest listed"},
    {.key = "size_dist", .type = SCN_ENUM,
     .offset = SCN_AT(guest_workload_config, size_dist, int), .def = "fixed",
     .enum_names = size_dist_names,
     .doc = "request sizes: fixed, uniform in [size_min, size], or weighted (sizes)"},
    {.key = "size_min", .type = SCN_SIZE,
     .offset = SCN_AT(guest_workload_config, size_min, uint64_t), .min = 1,
     .max = 1073741824.0, .def = "1B", .doc = "uniform: the smallest request"},
    {.key = "sizes", .type = SCN_LIST, .offset = offsetof(guest_workload_config, sizes),
     .count_offset = offsetof(guest_workload_config, nsizes), .max = 32,
     .sub = &weight_schema, .doc = "weighted: the sizes and their weights"},
    {.key = "read_share", .type = SCN_DOUBLE,
     .offset = SCN_AT(guest_workload_config, read_share, double), .min = 0, .max = 1,
     .def = "0",
     .doc = "share of requests that read: their data flows host to guest, and a "
            "scheme's copy comes after the completion"},
    {.key = "compute", .type = SCN_DURATION,
     .offset = SCN_AT(guest_workload_config, compute, uint64_t), .max = 1e12, .def = "0",
     .doc = "guest work on the vCPU after each completion (it needs a host core)"},
    {.key = "think", .type = SCN_DURATION, .offset = SCN_AT(guest_workload_config, think, uint64_t),
     .max = 1e12, .def = "0",
     .doc = "closed loop: mean idle time after the compute before the slot's next "
            "request (the vCPU may halt)"},
    {.key = "think_dist", .type = SCN_ENUM, .offset = SCN_AT(guest_workload_config, think_dist, int),
     .def = "fixed", .enum_names = think_dist_names,
     .doc = "distribution of the think time"},
    {.key = "arrival", .type = SCN_ENUM, .offset = SCN_AT(guest_workload_config, arrival, int),
     .def = "closed", .enum_names = arrival_names,
     .doc = "closed loop, or open loop at `rate`: poisson, a fixed interval, or bursts "
            "of `burst`"},
    {.key = "rate", .type = SCN_DOUBLE, .offset = SCN_AT(guest_workload_config, rate, double),
     .min = 0, .max = 1e9, .def = "0", .doc = "open loop: requests per second per instance"},
    {.key = "burst", .type = SCN_U64, .offset = SCN_AT(guest_workload_config, burst, uint64_t),
     .min = 1, .max = 65536, .def = "8",
     .doc = "arrival burst: requests a burst (bursts come burst/rate seconds apart)"},
    {.key = "on_full", .type = SCN_ENUM, .offset = SCN_AT(guest_workload_config, on_full, int),
     .def = "queue", .enum_names = on_full_names,
     .doc = "open loop: an arrival that finds depth requests in flight waits in the "
            "backlog (queue) or is dropped (drop)"},
    {.key = "backlog", .type = SCN_U64, .offset = SCN_AT(guest_workload_config, backlog, uint64_t),
     .max = 1048576, .def = "4096",
     .doc = "open loop, queue: arrivals that may wait; beyond them, arrivals are dropped"},
};

const scn_schema workload_schema = {
    .name = "workload",
    .size = sizeof(guest_workload_config),
    .fields = workload_fields,
    .nfields = sizeof workload_fields / sizeof workload_fields[0],
};

/* ---- the distribution --------------------------------------------------------- */

int workload_open(const guest_workload_config *w)
{
    return w->arrival != WORKLOAD_CLOSED;
}

uint64_t workload_size_max(const guest_workload_config *w)
{
    return w->size;
}

uint64_t workload_size_min(const guest_workload_config *w)
{
    if (w->size_dist == WORKLOAD_SIZE_UNIFORM)
        return w->size_min < w->size ? w->size_min : w->size;
    if (w->size_dist != WORKLOAD_SIZE_WEIGHTED || w->nsizes == 0)
        return w->size;
    uint64_t least = UINT64_MAX;
    for (size_t i = 0; i < w->nsizes; i++)
        least = w->sizes[i].size < least ? w->sizes[i].size : least;
    return least;
}

void workload_resolve(guest_workload_config *w)
{
    if (w->size_dist != WORKLOAD_SIZE_WEIGHTED || w->nsizes == 0)
        return;
    uint64_t most = 0;
    for (size_t i = 0; i < w->nsizes; i++)
        most = w->sizes[i].size > most ? w->sizes[i].size : most;
    w->size = most;
}

uint64_t workload_draw_size(const guest_workload_config *w, sim_rng *rng)
{
    switch (w->size_dist) {
    case WORKLOAD_SIZE_UNIFORM:
        return sim_rng_range(rng, workload_size_min(w), w->size);
    case WORKLOAD_SIZE_WEIGHTED: {
        double total = 0, sum = 0;
        for (size_t i = 0; i < w->nsizes; i++)
            total += w->sizes[i].weight;
        double u = sim_rng_unit(rng) * total;
        for (size_t i = 0; i + 1 < w->nsizes; i++) {
            sum += w->sizes[i].weight;
            if (u < sum)
                return w->sizes[i].size;
        }
        return w->sizes[w->nsizes - 1].size;
    }
    default:
        return w->size;
    }
}

int workload_draw_read(const guest_workload_config *w, sim_rng *rng)
{
    return sim_rng_unit(rng) < w->read_share;
}

uint64_t workload_next_arrival(const guest_workload_config *w, sim_rng *rng, uint64_t clock_hz,
                               uint32_t *count)
{
    double mean = (double)clock_hz / w->rate, gap;
    *count = 1;
    switch (w->arrival) {
    case WORKLOAD_POISSON:
        gap = sim_rng_exp(rng, mean);
        break;
    case WORKLOAD_BURST:
        *count = (uint32_t)w->burst;
        gap = mean * (double)w->burst;
        break;
    default:
        gap = mean;
        break;
    }
    /* Rounded to the cycle; at least one, so that a rate beyond the clock
     * cannot stop time (arrivals then come once a cycle). */
    uint64_t cycles = (uint64_t)(gap + 0.5);
    return cycles ? cycles : 1;
}

/* ---- checks ----------------------------------------------------------------------- */

static void check_sizes(const guest_workload_config *w, size_t i, const scn_doc *doc,
                        scn_errors *errs)
{
    char path[96];
    if (w->size_dist == WORKLOAD_SIZE_UNIFORM && w->size_min > w->size) {
        snprintf(path, sizeof path, "guests.%zu.workload.size_min", i);
        scn_errors_at(errs, doc, path, "expected at most workload.size (%llu bytes), found %llu bytes",
                      (unsigned long long)w->size, (unsigned long long)w->size_min);
    }
    if (w->size_dist != WORKLOAD_SIZE_WEIGHTED)
        return;
    snprintf(path, sizeof path, "guests.%zu.workload.size", i);
    scn_mark given = scn_mark_of(doc, path);
    if (given.line || given.col)
        scn_errors_at(errs, doc, path,
                      "expected no size with size_dist weighted (the largest of `sizes`, "
                      "%llu bytes, sizes the buffers), found one", (unsigned long long)w->size);
    snprintf(path, sizeof path, "guests.%zu.workload.sizes", i);
    double total = 0;
    for (size_t k = 0; k < w->nsizes; k++)
        total += w->sizes[k].weight;
    if (w->nsizes == 0 || total <= 0)
        scn_errors_at(errs, doc, path,
                      "expected at least one size with a weight above 0 for size_dist "
                      "weighted, found %s", w->nsizes ? "every weight 0" : "none");
}

static void check_arrivals(const guest_workload_config *w, size_t i, const scn_doc *doc,
                           scn_errors *errs)
{
    char path[96];
    if (!workload_open(w))
        return;
    if (w->rate <= 0) {
        snprintf(path, sizeof path, "guests.%zu.workload.rate", i);
        scn_errors_at(errs, doc, path,
                      "expected a rate above 0 requests per second for open-loop arrivals, "
                      "found %g", w->rate);
    }
    if (w->think > 0) {
        snprintf(path, sizeof path, "guests.%zu.workload.think", i);
        scn_errors_at(errs, doc, path,
                      "expected 0: think time paces a closed loop, and arrival %s comes at "
                      "its rate; found %llu cycles", arrival_names[w->arrival],
                      (unsigned long long)w->think);
    }
}

void workload_check(const guest_workload_config *w, size_t index, const scn_doc *doc,
                    scn_errors *errs)
{
    check_sizes(w, index, doc, errs);
    check_arrivals(w, index, doc, errs);
}

/* ---- latency by size class ---------------------------------------------------------- */

/* The class of a request: its size, or for uniform sizes the power of two
 * at or above it. */
static uint64_t class_of(const guest_workload_config *w, uint64_t bytes)
{
    if (w->size_dist != WORKLOAD_SIZE_UNIFORM)
        return bytes;
    uint64_t c = 1;
    while (c < bytes)
        c <<= 1;
    return c;
}

/* The entry of (size, read), made when absent; NULL when memory is
 * short. */
static workload_class_stats *entry(workload_stats *s, uint64_t size, int read)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->classes[i].size == size && s->classes[i].read == read)
            return &s->classes[i];
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? 2 * s->cap : 8;
        workload_class_stats *grown = realloc(s->classes, cap * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + s->cap, 0, (cap - s->cap) * sizeof *grown);
        s->classes = grown;
        s->cap = cap;
    }
    workload_class_stats *e = &s->classes[s->n];
    if (!e->latency.buckets && sim_hist_init(&e->latency))
        return NULL;
    s->n++;
    e->size = size;
    e->read = read;
    return e;
}

void workload_stats_fini(workload_stats *s)
{
    for (uint32_t i = 0; i < s->cap; i++)
        sim_hist_fini(&s->classes[i].latency);
    free(s->classes);
    *s = (workload_stats){0};
}

void workload_stats_reset(workload_stats *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        workload_class_stats *e = &s->classes[i];
        sim_hist_clear(&e->latency);
        e->requests = 0;
        memset(e->sums, 0, sizeof e->sums);
    }
}

int workload_stats_add(workload_stats *sum, const workload_stats *add)
{
    for (uint32_t i = 0; i < add->n; i++) {
        const workload_class_stats *a = &add->classes[i];
        workload_class_stats *e = entry(sum, a->size, a->read);
        if (!e)
            return SIM_ENOMEM;
        e->requests += a->requests;
        for (int k = 0; k < 8; k++)
            e->sums[k] += a->sums[k];
        sim_hist_merge(&e->latency, &a->latency);
    }
    return 0;
}

int workload_stats_record(workload_stats *s, const guest_workload_config *w, uint64_t bytes,
                          int read, uint64_t latency, const uint64_t sums[8])
{
    workload_class_stats *e = entry(s, class_of(w, bytes), read);
    if (!e)
        return SIM_ENOMEM;
    e->requests++;
    for (int k = 0; k < 8; k++)
        e->sums[k] += sums[k];
    sim_hist_record(&e->latency, latency);
    return 0;
}

static int by_size(const void *a, const void *b)
{
    const workload_class_stats *x = *(const workload_class_stats *const *)a;
    const workload_class_stats *y = *(const workload_class_stats *const *)b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return x->read - y->read;
}

static json_t *class_json(const workload_class_stats *e, uint64_t hz)
{
    static const char *const parts[] = {"notify", "exit", "translate", "copy", "device",
                                        "interrupt", "scheduling", "queueing"};
    json_t *b = json_object();
    double n = e->requests ? (double)e->requests : 1.0;
    for (int k = 0; b && k < 8; k++)
        if (rep_set(b, parts[k], json_real((double)e->sums[k] / n))) {
            json_decref(b);
            b = NULL;
        }
    return json_pack("{s:I, s:s, s:I, s:o, s:o, s:o}", "size_bytes", (json_int_t)e->size,
                     "direction", e->read ? "read" : "write", "requests",
                     (json_int_t)e->requests, "latency_cycles", rep_quantiles(&e->latency, 0),
                     "latency_ns", rep_quantiles(&e->latency, hz), "breakdown_cycles", b);
}

json_t *workload_stats_json(const workload_stats *s, uint64_t clock_hz)
{
    const workload_class_stats **order = malloc((s->n ? s->n : 1) * sizeof *order);
    if (!order)
        return NULL;
    for (uint32_t i = 0; i < s->n; i++)
        order[i] = &s->classes[i];
    qsort(order, s->n, sizeof order[0], by_size);
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < s->n; i++)
        if (json_array_append_new(a, class_json(order[i], clock_hz))) {
            json_decref(a);
            a = NULL;
        }
    free(order);
    return a;
}
