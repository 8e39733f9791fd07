/*
 * kernel.c -- the native backend of the event kernel: a timing wheel with
 * an overflow heap.
 *
 * Structure:
 *   - Event records live in one pooled array and are named by index; a free
 *     list recycles them, so the steady state never allocates. A record is
 *     24 bytes (handler, context, argument); its link and its generation
 *     and band live apart, 8 bytes per record in a parallel `nodes` array,
 *     so walking a slot's list touches 8 bytes per event and the records
 *     themselves can be prefetched two events ahead (with 65,536 pending
 *     the records fill 1.5 MiB, beyond L2, and one event ahead is too
 *     late). Its time is not stored: a wheel slot implies it, and heap
 *     entries carry their own.
 *   - The wheel has WHEEL_SLOTS slots of one cycle each and holds every
 *     event due in [now, now + WHEEL_SLOTS). A slot therefore holds events
 *     of a single time, in a singly linked list ordered by (band, seq).
 *     A three-level bitmap finds the next non-empty slot in a few
 *     count-trailing-zeros steps, whether the wheel is dense or sparse.
 *   - Events due later wait in a binary min-heap of (time, key, record)
 *     entries, ordered by (time, key), so sifting never touches records.
 *
 * Invariants:
 *   - Every heap event is due at or after now + WHEEL_SLOTS. Whenever now
 *     advances, due heap events move into the wheel *before* any handler
 *     runs at the new time. So an event that waited in the heap always
 *     enters its slot before any event scheduled directly into that slot,
 *     and every slot list stays in (band, seq) order with inserts that
 *     only compare bands: an insert's seq is the largest so far, and the
 *     heap hands out equal times in (band, seq) order.
 *   - A heap entry's `key` is (band << 62) | seq, so comparing keys
 *     compares (band, seq). seq is global and strictly increasing.
 *   - A pending event has fn != NULL. Cancelling clears fn; the record stays
 *     queued until it is reached, then returns to the pool unrun.
 *   - A record's generation changes each time it is freed, so an id held
 *     after its event ran or was dropped no longer matches.
 */
#include "sim/kernel.h"
#include "sim/kernel_backend.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define WHEEL_BITS 16
#define WHEEL_SLOTS (1u << WHEEL_BITS)
#define WHEEL_MASK (WHEEL_SLOTS - 1)
#define L0_WORDS (WHEEL_SLOTS / 64)      /* a bit per slot */
#define L1_WORDS (L0_WORDS / 64)         /* a bit per L0 word */
#define NIL UINT32_MAX
#define SENTINEL 0u      /* pool[0]: never allocated, key 0 */
#define SEQ_BITS 62
#define DEFAULT_MAX_PENDING (1u << 24)
#define DEFAULT_INITIAL_POOL 1024u

/* The per-event paths (schedule, pop, find) are inlined into their callers
 * and their rare branches kept out of line: a call and its saved registers
 * cost as many instructions as the work itself. */
#define HOT static inline __attribute__((always_inline))
#define RARE static __attribute__((noinline, cold))

typedef struct event {
    sim_handler fn;             /* NULL once cancelled */
    void *ctx;
    uint64_t arg;
} event;

/* A record's place in the lists, kept apart from the record (see above). */
typedef struct node {
    uint32_t next;              /* slot list or free list */
    uint32_t meta;              /* generation << BAND_BITS | band */
} node;

typedef struct heap_entry {
    sim_time when;
    uint64_t key;               /* (band << SEQ_BITS) | seq */
    uint32_t index;             /* the record */
} heap_entry;

#define BAND_BITS 2
#define BAND_OF(meta) ((meta) & ((1u << BAND_BITS) - 1))
#define GEN_ONE (1u << BAND_BITS)

typedef struct slot {
    uint32_t head, tail;
} slot;

struct sim_kernel {
    /* NULL for the native backend; otherwise every public function hands
     * the kernel to these (kernel_backend.h) and the fields below are
     * unused. */
    const sim_kernel_ops *ops;
    sim_backend *backend;

    sim_time now;
    uint64_t seq;
    int stop_requested;
    int failure;                /* first sim_fail() status, or 0 */

    event *pool;
    node *nodes;                        /* pool_size, beside pool */
    uint32_t pool_size, max_pending;
    uint32_t free_head;

    slot *slots;                        /* WHEEL_SLOTS */
    uint64_t l0[L0_WORDS];
    uint64_t l1[L1_WORDS];
    uint64_t l2;
    uint32_t in_wheel;                  /* records in slots, cancelled too */

    heap_entry *heap;
    uint32_t heap_len, heap_cap;

    sim_kernel_stats st;
};

/* ---- the pool ------------------------------------------------------- */

HOT uint32_t gen_of(const node *n)
{
    return n->meta >> BAND_BITS;
}

/* Links records [from, to) into the free list, keeping index order so the
 * pool is handed out front to back. */
static void link_free(sim_kernel *k, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        k->nodes[i].next = i + 1 < to ? i + 1 : k->free_head;
        k->nodes[i].meta = GEN_ONE;
        k->pool[i].fn = NULL;
    }
    k->free_head = from;
}

RARE int grow_pool(sim_kernel *k)
{
    if (k->pool_size >= k->max_pending)
        return SIM_ELIMIT;
    uint32_t size = k->pool_size * 2;
    if (size > k->max_pending || size < k->pool_size)
        size = k->max_pending;
    /* nodes first: if the pool cannot follow, a larger nodes array under
     * the old pool_size is harmless, and the next growth reallocates it. */
    node *nodes = realloc(k->nodes, (size_t)size * sizeof *nodes);
    if (!nodes)
        return SIM_ENOMEM;
    k->nodes = nodes;
    event *pool = realloc(k->pool, (size_t)size * sizeof *pool);
    if (!pool)
        return SIM_ENOMEM;
    k->pool = pool;
    link_free(k, k->pool_size, size);
    k->pool_size = size;
    return 0;
}

HOT uint32_t alloc_event(sim_kernel *k)
{
    uint32_t i = k->free_head;
    k->free_head = k->nodes[i].next;
    return i;
}

/* Returns record `i` to the pool with a new generation, so ids naming its
 * previous use stop matching. Generation 0 is skipped: {slot, 0} is never
 * a valid id. */
HOT void free_event(sim_kernel *k, uint32_t i)
{
    node *n = &k->nodes[i];
    uint32_t gen = gen_of(n) + 1;
    if (gen >= (1u << (32 - BAND_BITS)))
        gen = 1;
    n->meta = gen << BAND_BITS;
    n->next = k->free_head;
    k->pool[i].fn = NULL;
    k->free_head = i;
}

/* ---- the wheel ------------------------------------------------------- */

/* Sets slot `s`'s bit; idempotent. The upper levels change only when an
 * L0 word goes from empty to non-empty, which is rare when slots are busy
 * and predictable when they are not. */
HOT void mark_slot(sim_kernel *k, uint32_t s)
{
    k->l0[s >> 6] |= 1ull << (s & 63);
    k->l1[s >> 12] |= 1ull << ((s >> 6) & 63);
    k->l2 |= 1ull << (s >> 12);
}

/* Lowest L0 word at or after `w` whose L1 bit is set, via L1 then L2, or
 * NIL. The bit may be stale (see find_from). */
static uint32_t next_word(const sim_kernel *k, uint32_t w)
{
    if (w >= L0_WORDS)
        return NIL;
    uint32_t i1 = w >> 6;
    uint64_t m = k->l1[i1] & (~0ull << (w & 63));
    if (!m) {
        uint32_t i2 = i1 + 1;
        if (i2 >= L1_WORDS)
            return NIL;
        uint64_t m2 = k->l2 & (~0ull << i2);
        if (!m2)
            return NIL;
        i1 = (uint32_t)__builtin_ctzll(m2);
        m = k->l1[i1];
    }
    return (i1 << 6) | (uint32_t)__builtin_ctzll(m);
}

/* Lowest non-empty slot after L0 word `w`, climbing the levels, or NIL.
 *
 * L0 is exact. L1 and L2 are lazy: popping clears only the slot's L0 bit,
 * because "did this word just become empty?" is another coin flip in a
 * sparse wheel. So an L1 bit may name an empty word; the search clears such
 * stale bits when it meets them. Each emptied word costs at most one such
 * step, and only when it lies between now and the next event. */
RARE uint32_t find_after_word(sim_kernel *k, uint32_t w)
{
    for (w = next_word(k, w + 1); w != NIL; w = next_word(k, w + 1)) {
        if (k->l0[w])
            return (w << 6) | (uint32_t)__builtin_ctzll(k->l0[w]);
        k->l1[w >> 6] &= ~(1ull << (w & 63));
        if (!k->l1[w >> 6])
            k->l2 &= ~(1ull << (w >> 6));
    }
    return NIL;
}

/* Lowest non-empty slot at or after `pos`, or NIL. */
HOT uint32_t find_from(sim_kernel *k, uint32_t pos)
{
    uint32_t w = pos >> 6;
    uint64_t m = k->l0[w] & (~0ull << (pos & 63));
    /* A sparse wheel's next event is often just past this word: look at the
     * next word too before climbing the levels, which turns a coin-flip
     * branch into a mostly-taken one. */
    uint32_t w1 = w + 1 < L0_WORDS ? w + 1 : w;
    uint64_t m1 = w + 1 < L0_WORDS ? k->l0[w1] : 0;
    if (m | m1) {
        uint32_t base = m ? w : w1;
        return (base << 6) | (uint32_t)__builtin_ctzll(m ? m : m1);
    }
    return find_after_word(k, w);
}

/* The slot of the earliest event in the wheel; the wheel is not empty. The
 * window [now, now + WHEEL_SLOTS) may wrap past the end of the array. */
HOT uint32_t next_slot(sim_kernel *k)
{
    uint32_t s = find_from(k, (uint32_t)k->now & WHEEL_MASK);
    return s != NIL ? s : find_from(k, 0);
}

/* The time of the events in wheel slot `s`: the window holds one time per
 * slot, so it follows from the index. */
HOT sim_time slot_time(const sim_kernel *k, uint32_t s)
{
    return k->now + ((s - (uint32_t)k->now) & WHEEL_MASK);
}

/* Inserts record `i` into the non-empty list of `sl` after the last event
 * of its band, whose tail is of a later band (a FIRST event at a time that
 * already has NORMAL ones). */
RARE void insert_before_later_band(sim_kernel *k, slot *sl, uint32_t i)
{
    uint32_t band = BAND_OF(k->nodes[i].meta);
    uint32_t *link = &sl->head;
    while (BAND_OF(k->nodes[*link].meta) <= band)
        link = &k->nodes[*link].next;
    k->nodes[i].next = *link;
    *link = i;
}

/* Appends record `i`, due at `when`, to its slot, or inserts it after the
 * last event of its band when the tail's band is later (a FIRST event at a
 * time that already has NORMAL ones).
 *
 * Near one event per slot, "is this slot empty?" is a coin flip that the
 * branch predictor loses about half the time, at ~15 cycles a miss, so the
 * append selects with masks instead of branching: an empty slot's tail
 * reads as the SENTINEL record (band 0), the link to write is chosen
 * arithmetically, and marking the bitmap is idempotent. */
HOT void wheel_insert(sim_kernel *k, uint32_t i, sim_time when)
{
    node *n = &k->nodes[i];
    uint32_t s = (uint32_t)(when & WHEEL_MASK);
    slot *sl = &k->slots[s];
    uint32_t tail = sl->tail;
    uintptr_t empty = -(uintptr_t)(tail == NIL);          /* all ones if empty */
    uint32_t tail_or_sentinel = tail & ~(uint32_t)empty;  /* SENTINEL is 0 */
    n->next = NIL;
    k->in_wheel++;
    if (BAND_OF(k->nodes[tail_or_sentinel].meta) > BAND_OF(n->meta)) {
        insert_before_later_band(k, sl, i);
        return;
    }
    uintptr_t link = ((uintptr_t)&sl->head & empty) |
                     ((uintptr_t)&k->nodes[tail_or_sentinel].next & ~empty);
    *(uint32_t *)link = i;
    sl->tail = i;
    mark_slot(k, s);
}

/* Dequeues the head of slot `s`, branch-free like wheel_insert. */
HOT uint32_t wheel_pop(sim_kernel *k, uint32_t s)
{
    slot *sl = &k->slots[s];
    uint32_t i = sl->head;
    uint32_t next = k->nodes[i].next;
    uint32_t emptied = next == NIL;
    /* With many events per slot the next records are the next to run; with
     * a large pool they are far from L1, so start loading the next two now
     * (SENTINEL stands for a missing one; its node links to itself). */
    uint32_t next_or_sentinel = next & (emptied - 1);
    uint32_t after = k->nodes[next_or_sentinel].next;
    uint32_t after_or_sentinel = after & ~(uint32_t)-(uint32_t)(after == NIL);
    __builtin_prefetch(&k->pool[next_or_sentinel]);
    __builtin_prefetch(&k->pool[after_or_sentinel]);
    __builtin_prefetch(&k->nodes[after_or_sentinel]);
    sl->head = next;
    sl->tail |= -emptied;                                 /* NIL is all ones */
    k->l0[s >> 6] &= ~((uint64_t)emptied << (s & 63));   /* L1, L2: lazy */
    k->in_wheel--;
    return i;
}

/* ---- the overflow heap ------------------------------------------------ */

static int entry_less(const heap_entry *x, const heap_entry *y)
{
    return x->when < y->when || (x->when == y->when && x->key < y->key);
}

static int heap_push(sim_kernel *k, heap_entry in)
{
    if (k->heap_len == k->heap_cap) {
        uint32_t cap = k->heap_cap ? k->heap_cap * 2 : 64;
        heap_entry *heap = realloc(k->heap, (size_t)cap * sizeof *heap);
        if (!heap)
            return SIM_ENOMEM;
        k->heap = heap;
        k->heap_cap = cap;
    }
    uint32_t pos = k->heap_len++;
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!entry_less(&in, &k->heap[parent]))
            break;
        k->heap[pos] = k->heap[parent];
        pos = parent;
    }
    k->heap[pos] = in;
    return 0;
}

static heap_entry heap_pop(sim_kernel *k)
{
    heap_entry top = k->heap[0];
    heap_entry last = k->heap[--k->heap_len];
    uint32_t pos = 0, n = k->heap_len;
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= n)
            break;
        if (child + 1 < n && entry_less(&k->heap[child + 1], &k->heap[child]))
            child++;
        if (!entry_less(&k->heap[child], &last))
            break;
        k->heap[pos] = k->heap[child];
        pos = child;
    }
    if (n > 0)
        k->heap[pos] = last;
    return top;
}

/* Moves every heap event now inside the wheel's window into the wheel, in
 * (time, band, seq) order. */
static void migrate(sim_kernel *k)
{
    while (k->heap_len > 0 && k->heap[0].when - k->now < WHEEL_SLOTS) {
        heap_entry e = heap_pop(k);
        wheel_insert(k, e.index, e.when);
    }
}

static void advance(sim_kernel *k, sim_time t)
{
    k->now = t;
    migrate(k);
}

/* ---- public API ------------------------------------------------------- */

sim_kernel *sim_kernel_new(const sim_kernel_config *cfg)
{
    sim_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->max_pending = cfg && cfg->max_pending ? cfg->max_pending : DEFAULT_MAX_PENDING;
    /* One record more than max_pending: pool[SENTINEL] is never handed out. */
    if (k->max_pending > UINT32_MAX - 2)
        k->max_pending = UINT32_MAX - 2;
    k->max_pending++;
    uint32_t initial = cfg && cfg->initial_pool ? cfg->initial_pool : DEFAULT_INITIAL_POOL;
    initial = initial >= k->max_pending ? k->max_pending : initial + 1;
    if (initial < 2)
        initial = 2;
    k->pool = malloc((size_t)initial * sizeof *k->pool);
    k->nodes = malloc((size_t)initial * sizeof *k->nodes);
    k->slots = malloc(WHEEL_SLOTS * sizeof *k->slots);
    if (!k->pool || !k->nodes || !k->slots) {
        sim_kernel_free(k);
        return NULL;
    }
    memset(k->slots, 0xff, WHEEL_SLOTS * sizeof *k->slots);     /* all NIL */
    memset(&k->pool[SENTINEL], 0, sizeof k->pool[SENTINEL]);
    k->nodes[SENTINEL] = (node){SENTINEL, 0};      /* band 0, links to itself */
    k->pool_size = initial;
    k->free_head = NIL;
    link_free(k, 1, initial);
    return k;
}

/* Another backend's kernel: the native fields stay empty. */
static int open_other(sim_kernel **out, const sim_kernel_config *cfg)
{
#ifdef PVSIM_HAVE_SYSTEMC
    if (cfg->backend == SIM_BACKEND_SYSTEMC) {
        sim_kernel *k = calloc(1, sizeof *k);
        if (!k)
            return SIM_ENOMEM;
        int rc = sim_systemc_new(k, cfg, &k->backend);
        if (rc) {
            free(k);
            return rc;
        }
        k->ops = &sim_systemc_ops;
        *out = k;
        return 0;
    }
#endif
    (void)out;
    return (unsigned)cfg->backend < SIM_BACKEND_COUNT ? SIM_ENOTBUILT : SIM_EINVAL;
}

int sim_kernel_open(sim_kernel **out, const sim_kernel_config *cfg)
{
    *out = NULL;
    if (cfg && cfg->backend != SIM_BACKEND_NATIVE)
        return open_other(out, cfg);
    *out = sim_kernel_new(cfg);
    return *out ? 0 : SIM_ENOMEM;
}

int sim_kernel_backend_built(sim_backend_kind b)
{
#ifdef PVSIM_HAVE_SYSTEMC
    if (b == SIM_BACKEND_SYSTEMC)
        return 1;
#endif
    return b == SIM_BACKEND_NATIVE;
}

void sim_kernel_free(sim_kernel *k)
{
    if (!k)
        return;
    if (k->ops)
        k->ops->destroy(k->backend);
    free(k->pool);
    free(k->nodes);
    free(k->slots);
    free(k->heap);
    free(k);
}

sim_time sim_now(const sim_kernel *k)
{
    if (k->ops)
        return k->ops->now(k->backend);
    return k->now;
}

/* Takes a free record for `fn(ctx, arg)` in `band`. The pool has one. */
HOT uint32_t fill_event(sim_kernel *k, sim_band band, sim_handler fn,
                        void *ctx, uint64_t arg)
{
    uint32_t i = alloc_event(k);
    event *e = &k->pool[i];
    node *n = &k->nodes[i];
    n->meta = (n->meta & ~((1u << BAND_BITS) - 1)) | (uint32_t)band;
    e->fn = fn;
    e->ctx = ctx;
    e->arg = arg;
    return i;
}

/* The bookkeeping of a successful schedule of record `i`. */
HOT int scheduled(sim_kernel *k, uint32_t i, sim_event_id *id)
{
    k->seq++;
    assert(k->seq < (1ull << SEQ_BITS));
    k->st.scheduled++;
    if (++k->st.pending > k->st.peak_pending)
        k->st.peak_pending = k->st.pending;
    if (id)
        *id = (sim_event_id){i, gen_of(&k->nodes[i])};
    return 0;
}

/* Every schedule the fast path below does not take: bad arguments, a pool
 * to grow, an event beyond the wheel's window (the heap). `when` >= now. */
RARE int schedule_slow(sim_kernel *k, sim_time when, sim_band band,
                       sim_handler fn, void *ctx, uint64_t arg, sim_event_id *id)
{
    if (!fn || (unsigned)band >= SIM_BAND_COUNT)
        return SIM_EINVAL;
    if (k->free_head == NIL) {
        int rc = grow_pool(k);
        if (rc)
            return rc;
    }
    uint32_t i = fill_event(k, band, fn, ctx, arg);
    if (when - k->now < WHEEL_SLOTS) {
        wheel_insert(k, i, when);
        return scheduled(k, i, id);
    }
    heap_entry h = {when, ((uint64_t)band << SEQ_BITS) | k->seq, i};
    if (heap_push(k, h) != 0) {
        k->free_head = i;               /* undo alloc_event: i was the head */
        k->pool[i].fn = NULL;
        return SIM_ENOMEM;
    }
    return scheduled(k, i, id);
}

/* The native schedule: `when` >= now. The usual case (valid arguments, a
 * free record, due inside the wheel's window) calls nothing, so the public
 * functions save few registers. */
HOT int schedule_native(sim_kernel *k, sim_time when, sim_band band,
                        sim_handler fn, void *ctx, uint64_t arg, sim_event_id *id)
{
    if (__builtin_expect(!fn || (unsigned)band >= SIM_BAND_COUNT ||
                         k->free_head == NIL || when - k->now >= WHEEL_SLOTS, 0))
        return schedule_slow(k, when, band, fn, ctx, arg, id);
    uint32_t i = fill_event(k, band, fn, ctx, arg);
    wheel_insert(k, i, when);
    return scheduled(k, i, id);
}

int sim_schedule_at(sim_kernel *k, sim_time when, sim_band band,
                    sim_handler fn, void *ctx, uint64_t arg, sim_event_id *id)
{
    if (k->ops)
        return k->ops->schedule_at(k->backend, when, band, fn, ctx, arg, id);
    if (when < k->now)
        return SIM_EPAST;
    return schedule_native(k, when, band, fn, ctx, arg, id);
}

int sim_schedule(sim_kernel *k, sim_time delay, sim_band band,
                 sim_handler fn, void *ctx, uint64_t arg, sim_event_id *id)
{
    if (k->ops)
        return k->ops->schedule(k->backend, delay, band, fn, ctx, arg, id);
    if (delay > SIM_TIME_MAX - k->now)
        return SIM_EINVAL;
    return schedule_native(k, k->now + delay, band, fn, ctx, arg, id);
}

int sim_cancel(sim_kernel *k, sim_event_id id)
{
    if (k->ops)
        return k->ops->cancel(k->backend, id);
    if (id.slot == SENTINEL || id.slot >= k->pool_size)
        return SIM_ENOTPENDING;
    event *e = &k->pool[id.slot];
    if (gen_of(&k->nodes[id.slot]) != id.gen || !e->fn)
        return SIM_ENOTPENDING;
    e->fn = NULL;
    k->st.pending--;
    k->st.cancelled++;
    return 0;
}

void sim_stop(sim_kernel *k)
{
    if (k->ops) {
        k->ops->stop(k->backend);
        return;
    }
    k->stop_requested = 1;
}

void sim_fail(sim_kernel *k, int status)
{
    if (k->ops) {
        k->ops->fail(k->backend, status);
        return;
    }
    if (k->failure == 0)
        k->failure = status < 0 ? status : SIM_EINVAL;
    k->stop_requested = 1;
}

int sim_failure(const sim_kernel *k)
{
    if (k->ops)
        return k->ops->failure(k->backend);
    return k->failure;
}

/* The wheel slot holding the earliest queued event (cancelled or not),
 * moving time to the heap's earliest event first when the wheel is empty;
 * NIL when that event lies beyond `until` or nothing is queued. */
HOT uint32_t peek_slot(sim_kernel *k, sim_time until)
{
    if (k->in_wheel == 0) {
        if (k->heap_len == 0 || k->heap[0].when > until)
            return NIL;
        advance(k, k->heap[0].when);
    }
    return next_slot(k);
}

/*
 * The dispatch loop. Each turn takes the earliest queued record; a
 * cancelled one is recycled without counting; otherwise time moves to the
 * event's time (pulling due heap events into the wheel first), the record
 * goes back to the pool, and the handler runs -- after the recycling, so a
 * handler that schedules can reuse the very record it came from.
 */
sim_stop_reason sim_run(sim_kernel *k, sim_time until, uint64_t max_events)
{
    if (k->ops)
        return k->ops->run(k->backend, until, max_events);
    uint64_t ran = 0;
    if (k->failure)
        return SIM_STOP_FAILED;
    k->stop_requested = 0;
    for (;;) {
        if (max_events && ran >= max_events)
            return SIM_STOP_EVENT_LIMIT;
        if (k->st.pending == 0)         /* only cancelled records remain */
            return SIM_STOP_QUIESCENT;
        uint32_t s = peek_slot(k, until);
        if (s == NIL || slot_time(k, s) > until) {
            if (until > k->now)
                advance(k, until);
            return SIM_STOP_TIME_LIMIT;
        }
        sim_time t = slot_time(k, s);
        uint32_t i = wheel_pop(k, s);
        event *e = &k->pool[i];
        sim_handler fn = e->fn;
        void *ctx = e->ctx;
        uint64_t arg = e->arg;
        free_event(k, i);
        k->now = t;                     /* t >= now: it is the earliest */
        if (k->heap_len)
            migrate(k);
        if (!fn)
            continue;
        k->st.pending--;
        k->st.executed++;
        ran++;
        fn(k, ctx, arg);
        if (k->stop_requested)
            return k->failure ? SIM_STOP_FAILED : SIM_STOP_REQUESTED;
    }
}

void sim_kernel_get_stats(const sim_kernel *k, sim_kernel_stats *out)
{
    if (k->ops) {
        k->ops->get_stats(k->backend, out);
        return;
    }
    *out = k->st;
    out->pool_size = k->pool_size - 1;  /* the sentinel is not an event */
}
