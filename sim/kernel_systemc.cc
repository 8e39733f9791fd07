/*
 * kernel_systemc.cc -- the SystemC backend of the event kernel: kernel.h's
 * functions on the SystemC (IEEE 1666) kernel, so the models run unchanged.
 *
 * Mapping (docs/systemc.md):
 *   - Each distinct pending time is one timed notification of an
 *     sc_event_queue, given when the first event for that time is
 *     scheduled; SystemC's scheduler decides when time advances, and one
 *     SC_METHOD, sensitive to the queue, runs each time it fires.
 *   - IEEE 1666 leaves the order of processes at one time unspecified, so
 *     the adapter keeps, per pending time, a FIFO per band: the method runs
 *     them in (band, sequence) order, as the native kernel does. Events
 *     scheduled for the current time by a handler join that time's FIFOs.
 *   - Records come from a pool shaped like the native one (index order,
 *     doubling up to max_pending, a generation per reuse), so ids, limits
 *     and stats are the same on both backends.
 *   - sim_run() is sc_start() up to `until`, then delta cycles at `until`
 *     (sc_start(t) stops before evaluating the processes due at t); event
 *     limits, sim_stop() and quiescence call sc_pause() after the handler,
 *     and a time left half run is notified again at zero delay.
 *
 * Invariants:
 *   - A time has a FIFO entry in `due` exactly while one notification for
 *     it is pending in `wake` or the method is running it.
 *   - A pending record has fn != NULL; cancelling clears fn and the record
 *     stays queued until reached, as in kernel.c (time still moves to it).
 *   - One backend per process: SystemC cannot restart time or build a
 *     second design after the first sc_start().
 */
#include <systemc>

#include <deque>
#include <new>
#include <unordered_map>
#include <vector>

#include "sim/kernel_backend.h"

namespace {

constexpr uint32_t NIL = UINT32_MAX;
constexpr uint32_t SENTINEL = 0;        /* pool[0] is never handed out */
constexpr uint32_t GEN_LIMIT = 1u << 30;
constexpr uint32_t DEFAULT_MAX_PENDING = 1u << 24;
constexpr uint32_t DEFAULT_INITIAL_POOL = 1024;

struct record {
    sim_handler fn;             /* NULL when free or cancelled */
    void *ctx;
    uint64_t arg;
    uint32_t next;              /* free list */
    uint32_t gen;
};

/* The events due at one time, a FIFO per band. */
struct fifo {
    std::deque<uint32_t> band[SIM_BAND_COUNT];

    /* The first record in (band, sequence) order, or NIL. */
    uint32_t pop()
    {
        for (auto &q : band) {
            if (!q.empty()) {
                uint32_t i = q.front();
                q.pop_front();
                return i;
            }
        }
        return NIL;
    }

    bool empty() const
    {
        for (auto &q : band)
            if (!q.empty())
                return false;
        return true;
    }
};

sc_core::sc_time cycles(sim_time t)
{
    /* One cycle is one unit of SystemC's default resolution (1 ps), so
     * times keep their 64 bits exactly. */
    return sc_core::sc_time::from_value(t);
}

/* Whether this process already made a backend (SystemC's one context). */
bool created;

}  // namespace

struct sim_backend : sc_core::sc_module {
    sim_kernel *k;
    sc_core::sc_event_queue wake;
    std::unordered_map<sim_time, fifo> due;
    std::vector<record> pool;
    uint32_t max_pending, free_head = NIL;
    sim_kernel_stats st = {};
    /* The sim_run() in progress. */
    uint64_t ran = 0, max_events = 0;
    sim_stop_reason reason = SIM_STOP_QUIESCENT;
    bool paused = false;
    bool stop_requested = false;
    int failure = 0;

    SC_HAS_PROCESS(sim_backend);

    sim_backend(sc_core::sc_module_name name, sim_kernel *kernel, const sim_kernel_config *cfg)
        : sc_core::sc_module(name), k(kernel), wake("wake")
    {
        max_pending = cfg->max_pending ? cfg->max_pending : DEFAULT_MAX_PENDING;
        if (max_pending > UINT32_MAX - 2)
            max_pending = UINT32_MAX - 2;
        max_pending++;
        uint32_t initial = cfg->initial_pool ? cfg->initial_pool : DEFAULT_INITIAL_POOL;
        initial = initial >= max_pending ? max_pending : initial + 1;
        if (initial < 2)
            initial = 2;
        pool.resize(initial);
        link_free(1, initial);
        SC_METHOD(dispatch);
        sensitive << wake;
        dont_initialize();
    }

    sim_time now() const
    {
        return sc_core::sc_time_stamp().value();
    }

    /* Links records [from, to) into the free list in index order, so the
     * pool is handed out front to back as kernel.c does. */
    void link_free(uint32_t from, uint32_t to)
    {
        for (uint32_t i = from; i < to; i++)
            pool[i] = record{nullptr, nullptr, 0, i + 1 < to ? i + 1 : free_head, 1};
        free_head = from;
    }

    int grow()
    {
        uint32_t size = (uint32_t)pool.size();
        if (size >= max_pending)
            return SIM_ELIMIT;
        uint32_t bigger = size * 2;
        if (bigger > max_pending || bigger < size)
            bigger = max_pending;
        try {
            pool.resize(bigger);
        } catch (const std::bad_alloc &) {
            return SIM_ENOMEM;
        }
        link_free(size, bigger);
        return 0;
    }

    void free_record(uint32_t i)
    {
        record &r = pool[i];
        r.gen = r.gen + 1 < GEN_LIMIT ? r.gen + 1 : 1;
        r.fn = nullptr;
        r.next = free_head;
        free_head = i;
    }

    /* Queues record `i` at `when`; a new time gets its notification. May
     * throw std::bad_alloc, and then changes nothing. */
    void enqueue(uint32_t i, sim_time when, sim_band band)
    {
        auto slot = due.try_emplace(when);
        try {
            slot.first->second.band[band].push_back(i);
        } catch (const std::bad_alloc &) {
            if (slot.second)
                due.erase(slot.first);
            throw;
        }
        if (slot.second)
            wake.notify(cycles(when - now()));
    }

    int schedule_at(sim_time when, sim_band band, sim_handler fn, void *ctx, uint64_t arg,
                    sim_event_id *id)
    {
        if (when < now())
            return SIM_EPAST;
        if (!fn || (unsigned)band >= SIM_BAND_COUNT)
            return SIM_EINVAL;
        if (free_head == NIL) {
            int rc = grow();
            if (rc)
                return rc;
        }
        uint32_t i = free_head;
        try {
            enqueue(i, when, band);
        } catch (const std::bad_alloc &) {
            return SIM_ENOMEM;
        }
        free_head = pool[i].next;
        pool[i].fn = fn;
        pool[i].ctx = ctx;
        pool[i].arg = arg;
        st.scheduled++;
        if (++st.pending > st.peak_pending)
            st.peak_pending = st.pending;
        if (id)
            *id = sim_event_id{i, pool[i].gen};
        return 0;
    }

    int cancel(sim_event_id id)
    {
        if (id.slot == SENTINEL || id.slot >= pool.size())
            return SIM_ENOTPENDING;
        record &r = pool[id.slot];
        if (r.gen != id.gen || !r.fn)
            return SIM_ENOTPENDING;
        r.fn = nullptr;
        st.pending--;
        st.cancelled++;
        return 0;
    }

    /* Whether sim_run() must return after the handler that just ran, in
     * kernel.c's order of checks; sets `reason`. */
    bool must_return()
    {
        if (stop_requested)
            reason = failure ? SIM_STOP_FAILED : SIM_STOP_REQUESTED;
        else if (max_events && ran >= max_events)
            reason = SIM_STOP_EVENT_LIMIT;
        else if (st.pending == 0)
            reason = SIM_STOP_QUIESCENT;
        else
            return false;
        return true;
    }

    /* The method: runs the events due now in (band, sequence) order. A
     * handler may add to this time's FIFOs (the reference stays valid:
     * unordered_map never moves its elements). When sim_run() must return
     * first, the rest waits for a zero-delay notification. */
    void dispatch()
    {
        const sim_time t = now();
        fifo &f = due.at(t);
        for (uint32_t i = f.pop(); i != NIL; i = f.pop()) {
            record r = pool[i];
            free_record(i);
            if (!r.fn)
                continue;
            st.pending--;
            st.executed++;
            ran++;
            r.fn(k, r.ctx, r.arg);
            if (must_return()) {
                paused = true;
                sc_core::sc_pause();
                if (!f.empty()) {
                    wake.notify(sc_core::SC_ZERO_TIME);
                    return;
                }
                break;
            }
        }
        due.erase(t);
    }

    sim_stop_reason run(sim_time until, uint64_t limit)
    {
        if (failure)
            return SIM_STOP_FAILED;
        stop_requested = false;
        if (st.pending == 0)
            return SIM_STOP_QUIESCENT;
        if (until < now())
            return SIM_STOP_TIME_LIMIT;
        ran = 0;
        max_events = limit;
        paused = false;
        reason = SIM_STOP_TIME_LIMIT;   /* unless the method pauses */
        /* sc_start(d) advances time to now + d but leaves the processes due
         * then for the next call: run them in delta cycles. */
        sc_core::sc_start(cycles(until - now()), sc_core::SC_RUN_TO_TIME);
        while (!paused && sc_core::sc_pending_activity_at_current_time())
            sc_core::sc_start(sc_core::SC_ZERO_TIME);
        return reason;
    }

    void release()
    {
        due.clear();
        std::vector<record>().swap(pool);
        free_head = NIL;
    }
};

namespace {

void destroy(sim_backend *b)
{
    /* SystemC forbids removing a module once simulation started; the
     * process ends with its context, so only the queues are freed here. */
    b->release();
}

sim_time now(const sim_backend *b)
{
    return b->now();
}

int schedule_at(sim_backend *b, sim_time when, sim_band band, sim_handler fn, void *ctx,
                uint64_t arg, sim_event_id *id)
{
    return b->schedule_at(when, band, fn, ctx, arg, id);
}

int schedule(sim_backend *b, sim_time delay, sim_band band, sim_handler fn, void *ctx,
             uint64_t arg, sim_event_id *id)
{
    if (delay > SIM_TIME_MAX - b->now())
        return SIM_EINVAL;
    return b->schedule_at(b->now() + delay, band, fn, ctx, arg, id);
}

int cancel(sim_backend *b, sim_event_id id)
{
    return b->cancel(id);
}

sim_stop_reason run(sim_backend *b, sim_time until, uint64_t max_events)
{
    return b->run(until, max_events);
}

void stop(sim_backend *b)
{
    b->stop_requested = true;
}

void fail(sim_backend *b, int status)
{
    if (b->failure == 0)
        b->failure = status < 0 ? status : SIM_EINVAL;
    b->stop_requested = true;
}

int failure(const sim_backend *b)
{
    return b->failure;
}

void get_stats(const sim_backend *b, sim_kernel_stats *out)
{
    *out = b->st;
    out->pool_size = b->pool.empty() ? 0 : (uint32_t)b->pool.size() - 1;
}

/* The module outlives sim_kernel_free() (see destroy); keeping it here
 * keeps it reachable, so leak checkers do not report it. */
sim_backend *the_backend;

}  // namespace

extern "C" {

const sim_kernel_ops sim_systemc_ops = {destroy, now, schedule, schedule_at, cancel,
                                        run, stop, fail, failure, get_stats};

int sim_systemc_new(sim_kernel *k, const sim_kernel_config *cfg, sim_backend **out)
{
    if (created)
        return SIM_EONCE;
    try {
        the_backend = new sim_backend("pvsim_kernel", k, cfg);
    } catch (const std::bad_alloc &) {
        return SIM_ENOMEM;
    }
    created = true;
    *out = the_backend;
    return 0;
}

/* libsystemc's own main() calls sc_main(); pvsim has its own main(), which
 * the linker prefers, so this is never called. It must exist because the
 * library refers to it. */
int sc_main(int argc, char *argv[])
{
    (void)argc;
    (void)argv;
    return 1;
}

}
