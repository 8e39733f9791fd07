/*
 * guestmem.c -- the sparse buddy allocator of guestmem.h.
 *
 * Free blocks are kept twice: in one array per order (so allocation pops
 * the most recently freed block of an order in O(1)), and in an
 * open-addressing hash from first frame to (order, index in that array) (so
 * freeing finds its buddy in O(1)). Linear probing with backward-shift
 * deletion keeps the table free of tombstones. Nothing is stored per
 * allocated frame.
 *
 * A shared copy (guestmem_share) reads an immutable base's table and keeps
 * only its changes in a table of its own: an entry there overrides the
 * base's entry for the same frame, and a TOMB entry says the base's block
 * is gone. Each own entry also says whether the base has an entry for its
 * frame (`shadows`), so taking a free block never looks in the base again
 * to choose between a TOMB and a plain delete: with a thousand guests,
 * that second look at a cold table was a tenth of a run.
 *
 * A run of a variant touches a few hundred blocks of an aged memory that
 * holds tens of thousands, so copying the base's table for every variant
 * cost more than simulating it (docs/performance.md). The per-order
 * arrays are copied: their order decides which block an allocation
 * takes, and they are an eighth of the table's size.
 */
#include "models/guestmem.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

#define EMPTY UINT32_MAX         /* a frame: the slot is unused */
#define TOMB 31u                /* an order: the base's block is not free here */
#define MIXED_FREE_RUN 4        /* mean free run in a mixed pageblock, pages */

/* 8 bytes, so that a fully fragmented GiB's 65,700 free blocks fill a
 * table of 1 MiB, not 2: filling and copying it was most of the set-up.
 * GM_MAX_FRAMES keeps frames below 2^32 and an order's blocks below 2^26
 * (no two free buddies: at most half the frames are free blocks). */
typedef struct slot_entry {
    uint32_t frame;             /* EMPTY when unused */
    uint32_t order : 5;         /* or TOMB */
    uint32_t shadows : 1;       /* own table: the base has this frame too */
    uint32_t index : 26;        /* in the order's array */
} slot_entry;

typedef struct order_list {
    uint32_t *frames;
    size_t len, cap;
} order_list;

struct guestmem {
    uint64_t frames;
    unsigned min_order;
    uint64_t free_frames;
    order_list lists[GM_MAX_ORDER + 1];
    slot_entry *table;                  /* with a base: the changes to it */
    size_t table_cap, table_len;        /* cap is a power of two */
    const guestmem *base;               /* NULL, or the memory shared */
};

/* ---- the hash from first frame to free block -------------------------- */

/* Whether `len` entries overfill a table of `cap` slots.
 *
 * A memory of its own (the aged base) holds at most two entries for every
 * three slots; linear probing then needs about 2 probes to find a block
 * and 5 to miss. At one half, a fully fragmented GiB's 65,700 blocks (just
 * over 2^16) took a table of 2^18 slots, a quarter full: 2 MiB to fault
 * in, fill and miss the cache in, where 2^17 slots (1 MiB) do.
 *
 * A shared copy's table of changes stays at most half full: it is small,
 * and nearly every lookup misses in it before it reads the base. */
static int over_full(const guestmem *m, size_t len, size_t cap)
{
    return m->base ? len * 2 > cap : len * 3 > cap * 2;
}

static size_t hash_frame(uint64_t frame, size_t mask)
{
    uint64_t x = frame * 0x9e3779b97f4a7c15ull;
    return (size_t)(x ^ (x >> 29)) & mask;
}

/* The table slot holding `frame`, or SIZE_MAX. */
static size_t find_slot(const guestmem *m, uint64_t frame)
{
    size_t mask = m->table_cap - 1;
    for (size_t i = hash_frame(frame, mask);; i = (i + 1) & mask) {
        if (m->table[i].frame == frame)
            return i;
        if (m->table[i].frame == EMPTY)
            return SIZE_MAX;
    }
}

static void place(slot_entry *table, size_t cap, slot_entry e)
{
    size_t i = hash_frame(e.frame, cap - 1);
    while (table[i].frame != EMPTY)
        i = (i + 1) & (cap - 1);
    table[i] = e;
}

/* Moves the table into `cap` slots (a power of two, more than it holds). */
static int resize_table(guestmem *m, size_t cap)
{
    slot_entry *table = malloc(cap * sizeof *table);
    if (!table)
        return SIM_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        table[i].frame = EMPTY;
    for (size_t i = 0; i < m->table_cap; i++)
        if (m->table[i].frame != EMPTY)
            place(table, cap, m->table[i]);
    free(m->table);
    m->table = table;
    m->table_cap = cap;
    return 0;
}

/* Doubles the table; it is then at most a third full. */
static int grow_table(guestmem *m)
{
    return resize_table(m, m->table_cap ? m->table_cap * 2 : 64);
}

/* Deletes slot `i`, shifting later members of its probe run back so that
 * lookups never stop early at the hole. */
static void delete_slot(guestmem *m, size_t i)
{
    size_t mask = m->table_cap - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->table[j].frame == EMPTY)
            break;
        size_t home = hash_frame(m->table[j].frame, mask);
        /* Move j back into i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->table[i] = m->table[j];
            i = j;
        }
    }
    m->table[i].frame = EMPTY;
    m->table_len--;
}

/* The free block starting at `frame`, from this memory's table or else
 * its base's: 1 with `*out` filled, or 0 when no free block starts there. */
static int lookup(const guestmem *m, uint64_t frame, slot_entry *out)
{
    size_t i = find_slot(m, frame);
    if (i != SIZE_MAX) {
        *out = m->table[i];
        return out->order != TOMB;
    }
    if (!m->base || (i = find_slot(m->base, frame)) == SIZE_MAX)
        return 0;
    *out = m->base->table[i];
    return 1;
}

/* Writes `e` into this memory's own table, over any entry for its frame,
 * whose `shadows` it keeps; a new entry takes e.shadows, which the caller
 * knows (below). The room was reserved. */
static void put(guestmem *m, slot_entry e)
{
    size_t i = find_slot(m, e.frame);
    if (i != SIZE_MAX) {
        e.shadows = m->table[i].shadows;
        m->table[i] = e;
        return;
    }
    place(m->table, m->table_cap, e);
    m->table_len++;
}

/* The free block at `frame` is no longer free: drop its own entry, or hide
 * the base's behind a TOMB. A free block without an own entry is the
 * base's; an own entry says whether the base also has the frame. */
static void forget(guestmem *m, uint64_t frame)
{
    size_t own = find_slot(m, frame);
    if (own == SIZE_MAX || m->table[own].shadows)
        put(m, (slot_entry){frame, TOMB, 1, 0});
    else
        delete_slot(m, own);
}

/* ---- free blocks -------------------------------------------------------- */

/* Makes room for one more block in `l`. */
static int room_in_list(order_list *l)
{
    if (l->len < l->cap)
        return 0;
    size_t cap = l->cap ? l->cap * 2 : 16;
    uint32_t *frames = realloc(l->frames, cap * sizeof *frames);
    if (!frames)
        return SIM_ENOMEM;
    l->frames = frames;
    l->cap = cap;
    return 0;
}

/* Makes room for `adds` more entries in the own table and for one more
 * block in each list of orders [lo, hi), before the add_free() and
 * remove_free() calls that follow, which then cannot fail: an allocation
 * or a release that runs out of memory changes nothing. A removal may add
 * two entries (a TOMB, and the moved block's new index). */
static int reserve(guestmem *m, size_t adds, unsigned lo, unsigned hi)
{
    while (over_full(m, m->table_len + adds, m->table_cap))
        if (grow_table(m))
            return SIM_ENOMEM;
    for (unsigned o = lo; o < hi; o++)
        if (room_in_list(&m->lists[o]))
            return SIM_ENOMEM;
    return 0;
}

static int add_free(guestmem *m, uint64_t frame, unsigned order)
{
    order_list *l = &m->lists[order];
    if (over_full(m, m->table_len + 1, m->table_cap) && grow_table(m))
        return SIM_ENOMEM;
    if (room_in_list(l))
        return SIM_ENOMEM;
    l->frames[l->len] = frame;
    /* New to the own table means new to the base too: had the base this
     * frame, the own table would hold its TOMB (taken) or its entry (free,
     * and then not freed again). */
    slot_entry e = {frame, order, 0, (uint32_t)l->len};
    if (m->base) {
        put(m, e);                  /* over a TOMB, if the base had it */
    } else {
        place(m->table, m->table_cap, e);   /* a new block: not in the table */
        m->table_len++;
    }
    l->len++;
    m->free_frames += 1ull << order;
    return 0;
}

/* Removes the free block `e`: the last block of its order takes its place
 * in the array, so that block's entry gets the new index. */
static void remove_free(guestmem *m, slot_entry e)
{
    order_list *l = &m->lists[e.order];
    uint64_t last = l->frames[l->len - 1];
    l->frames[e.index] = last;
    /* The moved block is free: without an own entry it is the base's. */
    if (last != e.frame)
        put(m, (slot_entry){last, e.order, 1, e.index});
    l->len--;
    forget(m, e.frame);
    m->free_frames -= 1ull << e.order;
}

static void drop_all_free(guestmem *m)
{
    for (unsigned o = 0; o <= GM_MAX_ORDER; o++)
        m->lists[o].len = 0;
    for (size_t i = 0; i < m->table_cap; i++)
        m->table[i].frame = EMPTY;
    m->table_len = 0;
    m->free_frames = 0;
    m->base = NULL;                 /* nothing of it is free any more */
}

/* The order the block (frame, order) reaches once merged with its free
 * buddies, which go into `buddies` (one per order climbed) and their
 * count into `*merges`. */
static unsigned merged_order(const guestmem *m, uint64_t frame, unsigned order,
                             slot_entry *buddies, size_t *merges)
{
    *merges = 0;
    while (order < GM_MAX_ORDER) {
        if (!lookup(m, frame ^ (1ull << order), &buddies[*merges]) ||
            buddies[*merges].order != order)
            break;
        frame &= ~(1ull << order);
        order++;
        (*merges)++;
    }
    return order;
}

/* Frees the allocated block (frame, order), merging it with its free
 * buddies. Removing one buddy moves only a block of that buddy's order in
 * its array, so the buddies found first stay valid. 0 or SIM_ENOMEM, and
 * then nothing changed. */
static int free_block(guestmem *m, uint64_t frame, unsigned order)
{
    slot_entry buddies[GM_MAX_ORDER];
    size_t merges;
    unsigned top = merged_order(m, frame, order, buddies, &merges);
    if (reserve(m, 2 * merges + 1, top, top + 1))
        return SIM_ENOMEM;
    for (size_t i = 0; i < merges; i++)
        remove_free(m, buddies[i]);
    return add_free(m, frame & ~((1ull << top) - 1), top);
}

/* Frees the aligned run [first, end), all of it allocated, as the largest
 * aligned blocks. */
static int release_run(guestmem *m, uint64_t first, uint64_t end)
{
    while (first < end) {
        unsigned o = m->min_order;
        while (o < GM_MAX_ORDER && (first & ((2ull << o) - 1)) == 0 &&
               first + (2ull << o) <= end)
            o++;
        int rc = free_block(m, first, o);
        if (rc)
            return rc;
        first += 1ull << o;
    }
    return 0;
}

/* ---- public API ----------------------------------------------------------- */

guestmem *guestmem_new(uint64_t bytes, unsigned min_order)
{
    uint64_t frames = bytes >> GM_FRAME_SHIFT;
    if (min_order > GM_MAX_ORDER || frames == 0 || frames > GM_MAX_FRAMES ||
        bytes != frames << GM_FRAME_SHIFT || frames % (1ull << min_order))
        return NULL;
    guestmem *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->frames = frames;
    m->min_order = min_order;
    if (grow_table(m) || release_run(m, 0, frames)) {
        guestmem_free_all(m);
        return NULL;
    }
    return m;
}

void guestmem_free_all(guestmem *m)
{
    if (!m)
        return;
    for (unsigned o = 0; o <= GM_MAX_ORDER; o++)
        free(m->lists[o].frames);
    free(m->table);
    free(m);
}

/* A copy of `m`'s scalars and per-order arrays, with no table yet; NULL
 * when memory is short. */
static guestmem *copy_lists(const guestmem *m)
{
    guestmem *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *m;
    memset(c->lists, 0, sizeof c->lists);
    c->table = NULL;
    c->table_cap = c->table_len = 0;
    for (unsigned o = 0; o <= GM_MAX_ORDER; o++) {
        const order_list *l = &m->lists[o];
        if (l->cap == 0)
            continue;
        c->lists[o].frames = malloc(l->cap * sizeof *l->frames);
        if (!c->lists[o].frames) {
            guestmem_free_all(c);
            return NULL;
        }
        memcpy(c->lists[o].frames, l->frames, l->len * sizeof *l->frames);
        c->lists[o].len = l->len;
        c->lists[o].cap = l->cap;
    }
    return c;
}

guestmem *guestmem_clone(const guestmem *m)
{
    guestmem *c = copy_lists(m);
    if (!c)
        return NULL;
    c->table = malloc(m->table_cap * sizeof *c->table);
    if (!c->table) {
        guestmem_free_all(c);
        return NULL;
    }
    memcpy(c->table, m->table, m->table_cap * sizeof *c->table);
    c->table_cap = m->table_cap;
    c->table_len = m->table_len;
    return c;
}

guestmem *guestmem_share(const guestmem *base)
{
    if (base->base)                 /* one level: copy the changes instead */
        return guestmem_clone(base);
    guestmem *c = copy_lists(base);
    if (!c)
        return NULL;
    c->base = base;
    if (grow_table(c)) {
        guestmem_free_all(c);
        return NULL;
    }
    return c;
}

int guestmem_alloc(guestmem *m, unsigned order, uint64_t *frame)
{
    if (order < m->min_order || order > GM_MAX_ORDER)
        return SIM_EINVAL;
    unsigned o = order;
    while (o <= GM_MAX_ORDER && m->lists[o].len == 0)
        o++;
    if (o > GM_MAX_ORDER)
        return SIM_ENOSPACE;
    /* The split takes one block and frees one at each order below o. */
    if (reserve(m, 2 + (o - order), order, o))
        return SIM_ENOMEM;
    uint64_t first = m->lists[o].frames[m->lists[o].len - 1];
    slot_entry e;
    lookup(m, first, &e);               /* it is free: it is in a list */
    remove_free(m, e);
    /* Keep the lower half, free the upper, down to the order asked for. */
    while (o > order) {
        o--;
        add_free(m, first + (1ull << o), o);
    }
    *frame = first;
    return 0;
}

int guestmem_release(guestmem *m, uint64_t frame, unsigned order)
{
    if (order < m->min_order || order > GM_MAX_ORDER ||
        (frame & ((1ull << order) - 1)) || frame >= m->frames ||
        (1ull << order) > m->frames - frame || lookup(m, frame, &(slot_entry){0}))
        return SIM_EINVAL;
    return free_block(m, frame, order);
}

unsigned guestmem_pageblock_order(const guestmem *m)
{
    return m->min_order == 0 ? GM_PAGEBLOCK_ORDER : m->min_order + 4;
}

unsigned guestmem_page_order(const guestmem *m)
{
    return m->min_order;
}

unsigned guestmem_order_for(const guestmem *m, uint64_t bytes)
{
    unsigned o = m->min_order;
    while (o < GM_MAX_ORDER && (1ull << (o + GM_FRAME_SHIFT)) < bytes)
        o++;
    return o;
}

double guestmem_unusable_index(const guestmem *m, unsigned order)
{
    if (m->free_frames == 0)
        return 0.0;
    uint64_t below = 0;
    for (unsigned o = 0; o < order && o <= GM_MAX_ORDER; o++)
        below += (uint64_t)m->lists[o].len << o;
    return (double)below / (double)m->free_frames;
}

void guestmem_get_stats(const guestmem *m, guestmem_stats *out)
{
    memset(out, 0, sizeof *out);
    out->frames = m->frames;
    out->free_frames = m->free_frames;
    out->largest_free_order = -1;
    for (unsigned o = 0; o <= GM_MAX_ORDER; o++) {
        out->free_blocks[o] = m->lists[o].len;
        out->stored_blocks += m->lists[o].len;
        if (m->lists[o].len)
            out->largest_free_order = (int)o;
    }
}

/* ---- aging ------------------------------------------------------------------ */

enum { PB_USED, PB_FREE, PB_MIXED };

/* A geometric run length with the given mean (>= 1), in integer draws only,
 * so aging is identical on every machine. */
static uint64_t geometric(sim_rng *rng, uint64_t mean)
{
    uint64_t n = 1;
    while (sim_rng_below(rng, mean) != 0)
        n++;
    return n;
}

/* Frees about half of a pageblock, in runs averaging MIXED_FREE_RUN pages
 * between used runs of the same mean, starting and ending used so that the
 * pageblock can never merge whole. */
static int age_mixed(guestmem *m, uint64_t first, uint64_t end, sim_rng *rng)
{
    uint64_t page = 1ull << m->min_order;
    uint64_t at = first + geometric(rng, MIXED_FREE_RUN) * page;
    while (at < end) {
        uint64_t run = geometric(rng, MIXED_FREE_RUN) * page;
        uint64_t stop = at + run < end - page ? at + run : end - page;
        if (stop > at) {
            int rc = release_run(m, at, stop);
            if (rc)
                return rc;
        }
        at = stop + geometric(rng, MIXED_FREE_RUN) * page;
    }
    return 0;
}

/* Sizes the empty table once for the blocks aging will free, instead of
 * doubling it a dozen times with a rehash each (which took a third of
 * aging). A mixed pageblock holds about one free run per 2 *
 * MIXED_FREE_RUN pages and a run about two blocks; more blocks only make
 * the table grow as usual, and its size never changes what is allocated. */
static int presize(guestmem *m, const unsigned char *kind, uint64_t n)
{
    uint64_t pages = 1ull << (guestmem_pageblock_order(m) - m->min_order);
    uint64_t blocks = 64;
    for (uint64_t i = 0; i < n; i++)
        blocks += kind[i] == PB_FREE ? 1 : kind[i] == PB_MIXED ? pages / MIXED_FREE_RUN : 0;
    size_t cap = 64;
    while (over_full(m, blocks, cap))
        cap *= 2;
    return cap > m->table_cap ? resize_table(m, cap) : 0;
}

/* Deals out exact numbers of free and mixed pageblocks in random places
 * (a Fisher-Yates shuffle), so the target is met to within rounding. */
static unsigned char *deal_pageblocks(uint64_t n, double used, double frag, sim_rng *rng)
{
    unsigned char *kind = calloc(n ? n : 1, 1);
    if (!kind)
        return NULL;
    double free_share = 1.0 - used;
    /* A mixed pageblock is about half free, so it takes two mixed
     * pageblocks to hold one pageblock's worth of unusable free memory. */
    uint64_t n_free = (uint64_t)(free_share * (1.0 - frag) * (double)n + 0.5);
    uint64_t n_mixed = (uint64_t)(2.0 * free_share * frag * (double)n + 0.5);
    if (n_free > n)
        n_free = n;
    if (n_mixed > n - n_free)
        n_mixed = n - n_free;
    for (uint64_t i = 0; i < n; i++)
        kind[i] = i < n_free ? PB_FREE : i < n_free + n_mixed ? PB_MIXED : PB_USED;
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = sim_rng_below(rng, i);
        unsigned char t = kind[i - 1];
        kind[i - 1] = kind[j];
        kind[j] = t;
    }
    return kind;
}

int guestmem_age(guestmem *m, double used, double fragmentation, sim_rng *rng)
{
    if (!(used >= 0 && used <= 1 && fragmentation >= 0 && fragmentation <= 1) ||
        m->free_frames != m->frames)
        return SIM_EINVAL;
    uint64_t pb = 1ull << guestmem_pageblock_order(m);
    uint64_t n = (m->frames + pb - 1) / pb;
    unsigned char *kind = deal_pageblocks(n, used, fragmentation, rng);
    if (!kind)
        return SIM_ENOMEM;
    drop_all_free(m);                   /* start from everything in use */
    int rc = presize(m, kind, n);
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        uint64_t first = i * pb;
        uint64_t end = first + pb < m->frames ? first + pb : m->frames;
        if (kind[i] == PB_FREE)
            rc = release_run(m, first, end);
        else if (kind[i] == PB_MIXED)
            rc = age_mixed(m, first, end, rng);
    }
    free(kind);
    return rc;
}
