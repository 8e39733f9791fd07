/*
 * transport.c -- what every transport shares: the names, the statistics
 * a class's transports keep, and the refusal counters in results.
 */
#include "models/transport.h"

#include <string.h>

#include "sim/report.h"

const char *const transport_names[] = {"doorbell", "packet-port", "lguest", "virtio-pci",
                                       "vpio", NULL};

const transport_ops *transport_of(int kind)
{
    static const transport_ops *const ops[] = {&transport_doorbell, &transport_packet_port,
                                               &transport_lguest, &transport_virtio,
                                               &transport_vpio};
    return kind >= 0 && kind < (int)(sizeof ops / sizeof ops[0]) ? ops[kind] : NULL;
}

int transport_describe(const transport_env *env, io_request *r)
{
    const transport_guest *gc = &env->guest;
    int rc = gc->describe(gc->ctx, r);
    if (rc == SIM_ENOSPACE)
        gc->failed(env->k, gc->ctx, r);
    else if (rc)
        sim_fail(env->k, rc);
    return rc;
}

const char *transport_refusal_name(int why)
{
    static const char *const names[] = {
#define X(name) #name,
        TRANSPORT_REFUSALS(X)
#undef X
    };
    return why >= 0 && why < TRANSPORT_REFUSAL_COUNT ? names[why] : "unknown";
}

int transport_stats_init(transport_stats *s)
{
    memset(s, 0, sizeof *s);
    for (int p = 0; p < TRANSPORT_PHASES; p++) {
        int rc = sim_hist_init(&s->phase_latency[p]);
        if (rc) {
            transport_stats_fini(s);
            return rc;
        }
    }
    return 0;
}

void transport_stats_fini(transport_stats *s)
{
    for (int p = 0; p < TRANSPORT_PHASES; p++)
        sim_hist_fini(&s->phase_latency[p]);
}

void transport_stats_reset(transport_stats *s)
{
    sim_hist hists[TRANSPORT_PHASES];
    for (int p = 0; p < TRANSPORT_PHASES; p++) {
        hists[p] = s->phase_latency[p];
        sim_hist_clear(&hists[p]);
    }
    memset(s, 0, sizeof *s);
    for (int p = 0; p < TRANSPORT_PHASES; p++)
        s->phase_latency[p] = hists[p];
}

void transport_stats_add(transport_stats *sum, const transport_stats *add)
{
    for (int i = 0; i < TRANSPORT_REFUSAL_COUNT; i++)
        sum->refused[i] += add->refused[i];
    for (int p = 0; p < TRANSPORT_PHASES; p++) {
        sum->phase_requests[p] += add->phase_requests[p];
        sum->phase_bytes[p] += add->phase_bytes[p];
        sum->phase_cycles[p] += add->phase_cycles[p];
        sim_hist_merge(&sum->phase_latency[p], &add->phase_latency[p]);
    }
    for (int w = 0; w < TRANSPORT_SWITCHES; w++) {
        sum->switches[w] += add->switches[w];
        sum->switch_cycles[w] += add->switch_cycles[w];
        sum->switch_exits[w] += add->switch_exits[w];
        sum->switch_work[w] += add->switch_work[w];
    }
    sum->sent += add->sent;
    sum->received += add->received;
    sum->waits += add->waits;
    sum->served += add->served;
    sum->kicks += add->kicks;
    sum->kicks_suppressed += add->kicks_suppressed;
    sum->irqs += add->irqs;
    sum->irqs_suppressed += add->irqs_suppressed;
    sum->irqs_coalesced += add->irqs_coalesced;
    sum->ring_waits += add->ring_waits;
    sum->probe_exits += add->probe_exits;
    sum->probe_cycles += add->probe_cycles;
#define X(name) sum->vpio.name += add->vpio.name;
    TRANSPORT_VPIO_COUNTERS(X)
#undef X
}

json_t *transport_refusals_json(const transport_stats *s, unsigned which)
{
    json_t *o = json_object();
    for (int i = 0; o && i < TRANSPORT_REFUSAL_COUNT; i++) {
        if (!(which & (1u << i)))
            continue;
        if (rep_set(o, transport_refusal_name(i), json_integer((json_int_t)s->refused[i]))) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}
