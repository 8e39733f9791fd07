/*
 * resource.c -- FIFO multi-server resources.
 *
 * Waiting jobs live in a ring buffer that doubles up to max_queue; running
 * jobs sit in one slot per server, and the completion event's argument is
 * the server index, so no allocation happens per job once the ring has grown
 * to its peak.
 */
#include "sim/resource.h"

#include <stdlib.h>
#include <string.h>

typedef struct job {
    sim_time service;
    sim_handler fn;
    void *ctx;
    uint64_t arg;
} job;

struct sim_resource {
    sim_kernel *k;
    uint32_t servers;
    uint32_t busy;
    job *running;                 /* one per server; fn == NULL when idle */
    job *ring;                    /* waiting jobs, FIFO */
    uint32_t ring_cap, head, len; /* ring_cap is a power of two */
    uint32_t max_queue;
    sim_util busy_level, queue_level;
    sim_resource_stats st;
};

sim_resource *sim_resource_new(sim_kernel *k, uint32_t servers,
                               uint32_t max_queue)
{
    if (!k || servers == 0)
        return NULL;
    sim_resource *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->k = k;
    r->servers = servers;
    r->max_queue = max_queue ? max_queue : 1u << 20;
    r->ring_cap = 16;
    r->running = calloc(servers, sizeof *r->running);
    r->ring = calloc(r->ring_cap, sizeof *r->ring);
    if (!r->running || !r->ring) {
        sim_resource_free(r);
        return NULL;
    }
    sim_util_init(&r->busy_level, sim_now(k));
    sim_util_init(&r->queue_level, sim_now(k));
    return r;
}

void sim_resource_free(sim_resource *r)
{
    if (!r)
        return;
    free(r->running);
    free(r->ring);
    free(r);
}

/* Doubles the ring, unwrapping it so the queue starts at index 0. */
static int grow_ring(sim_resource *r)
{
    uint32_t cap = r->ring_cap * 2;
    job *ring = malloc((size_t)cap * sizeof *ring);
    if (!ring)
        return SIM_ENOMEM;
    for (uint32_t i = 0; i < r->len; i++)
        ring[i] = r->ring[(r->head + i) & (r->ring_cap - 1)];
    free(r->ring);
    r->ring = ring;
    r->ring_cap = cap;
    r->head = 0;
    return 0;
}

static void job_done(sim_kernel *k, void *ctx, uint64_t server);

/* Puts `j` on the idle server `s` and schedules its completion. Fails only
 * when the kernel refuses the event (its max_pending); the server stays
 * idle and the failure is counted. */
static int start_job(sim_resource *r, uint32_t s, job j)
{
    sim_time now = sim_now(r->k);
    int rc = sim_schedule(r->k, j.service, SIM_BAND_NORMAL, job_done, r, s,
                          NULL);
    if (rc) {
        r->st.schedule_failures++;
        return rc;
    }
    r->running[s] = j;
    r->busy++;
    r->st.jobs_started++;
    r->st.busy_cycles += j.service;
    sim_util_set(&r->busy_level, now, r->busy);
    return 0;
}

static void job_done(sim_kernel *k, void *ctx, uint64_t server)
{
    sim_resource *r = ctx;
    uint32_t s = (uint32_t)server;
    job finished = r->running[s];
    sim_time now = sim_now(k);

    r->running[s].fn = NULL;
    r->busy--;
    r->st.jobs_done++;
    sim_util_set(&r->busy_level, now, r->busy);
    if (r->len > 0) {
        job next = r->ring[r->head];
        r->head = (r->head + 1) & (r->ring_cap - 1);
        r->len--;
        sim_util_set(&r->queue_level, now, r->len);
        /* No caller to tell: a job that cannot start stops the run. */
        int rc = start_job(r, s, next);
        if (rc)
            sim_fail(k, rc);
    }
    finished.fn(k, finished.ctx, finished.arg);
}

int sim_resource_submit(sim_resource *r, sim_time service, sim_handler fn,
                        void *ctx, uint64_t arg)
{
    if (!fn)
        return SIM_EINVAL;
    job j = {service, fn, ctx, arg};
    if (r->busy < r->servers) {
        for (uint32_t s = 0; s < r->servers; s++) {
            if (!r->running[s].fn)
                return start_job(r, s, j);
        }
    }
    if (r->len >= r->max_queue)
        return SIM_ELIMIT;
    if (r->len == r->ring_cap && grow_ring(r))
        return SIM_ENOMEM;
    r->ring[(r->head + r->len) & (r->ring_cap - 1)] = j;
    r->len++;
    r->st.jobs_queued++;
    if (r->len > r->st.peak_queue_len)
        r->st.peak_queue_len = r->len;
    sim_util_set(&r->queue_level, sim_now(r->k), r->len);
    return 0;
}

uint32_t sim_resource_load(const sim_resource *r)
{
    return r->len + r->busy;
}

void sim_resource_reset_stats(sim_resource *r)
{
    sim_util_reset(&r->busy_level, sim_now(r->k));
    sim_util_reset(&r->queue_level, sim_now(r->k));
}

void sim_resource_get_stats(const sim_resource *r, sim_resource_stats *out)
{
    sim_time now = sim_now(r->k);
    *out = r->st;
    out->queue_len = r->len;
    out->utilisation = sim_util_mean(&r->busy_level, now) / r->servers;
    out->mean_queue_len = sim_util_mean(&r->queue_level, now);
}
