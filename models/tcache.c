/*
 * tcache.c -- the LRU translation cache of tcache.h.
 *
 * Entries live in one array. A doubly linked list through them keeps
 * recency (head = most recent); an open-addressing index (twice the
 * entries, linear probing, backward-shift deletion) finds an entry by key.
 * Free entries are the tail of the array until it is full; after that every
 * insertion reuses the least recently used entry.
 */
#include "models/tcache.h"

#include <stdlib.h>

#define NIL UINT32_MAX

typedef struct entry {
    uint64_t page;
    uint32_t space;
    uint32_t prev, next;        /* recency list */
} entry;

struct tcache {
    entry *e;
    uint32_t entries, used;
    uint32_t head, tail;
    uint32_t *index;            /* entry numbers, NIL when empty */
    uint32_t index_mask;
    tcache_stats st;
};

static uint32_t slot_of(const tcache *c, uint32_t space, uint64_t page)
{
    uint64_t x = (page ^ ((uint64_t)space << 48)) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 32) & c->index_mask;
}

/* The index slot holding (space, page), or the empty slot where it would
 * go; `*found` says which. */
static uint32_t probe(const tcache *c, uint32_t space, uint64_t page, int *found)
{
    uint32_t i = slot_of(c, space, page);
    for (;; i = (i + 1) & c->index_mask) {
        uint32_t n = c->index[i];
        if (n == NIL) {
            *found = 0;
            return i;
        }
        if (c->e[n].page == page && c->e[n].space == space) {
            *found = 1;
            return i;
        }
    }
}

static void index_delete(tcache *c, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & c->index_mask;
        uint32_t n = c->index[j];
        if (n == NIL)
            break;
        uint32_t home = slot_of(c, c->e[n].space, c->e[n].page);
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            c->index[i] = n;
            i = j;
        }
    }
    c->index[i] = NIL;
}

static void unlink_entry(tcache *c, uint32_t n)
{
    entry *x = &c->e[n];
    if (x->prev != NIL)
        c->e[x->prev].next = x->next;
    else
        c->head = x->next;
    if (x->next != NIL)
        c->e[x->next].prev = x->prev;
    else
        c->tail = x->prev;
}

static void push_front(tcache *c, uint32_t n)
{
    c->e[n].prev = NIL;
    c->e[n].next = c->head;
    if (c->head != NIL)
        c->e[c->head].prev = n;
    c->head = n;
    if (c->tail == NIL)
        c->tail = n;
}

tcache *tcache_new(uint32_t entries)
{
    if (entries == 0 || entries > (1u << 30))
        return NULL;
    tcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    uint32_t cap = 2;
    while (cap < 2 * entries)
        cap *= 2;
    c->e = malloc((size_t)entries * sizeof *c->e);
    c->index = malloc((size_t)cap * sizeof *c->index);
    if (!c->e || !c->index) {
        tcache_free(c);
        return NULL;
    }
    for (uint32_t i = 0; i < cap; i++)
        c->index[i] = NIL;
    c->entries = entries;
    c->index_mask = cap - 1;
    c->head = c->tail = NIL;
    return c;
}

void tcache_free(tcache *c)
{
    if (!c)
        return;
    free(c->e);
    free(c->index);
    free(c);
}

/* Drops entry `n` from the index and the recency list. */
static void drop(tcache *c, uint32_t n)
{
    int found;
    uint32_t i = probe(c, c->e[n].space, c->e[n].page, &found);
    index_delete(c, i);
    unlink_entry(c, n);
}

int tcache_access(tcache *c, uint32_t space, uint64_t page)
{
    int found;
    uint32_t i = probe(c, space, page, &found);
    if (found) {
        uint32_t n = c->index[i];
        unlink_entry(c, n);
        push_front(c, n);
        c->st.hits++;
        return 1;
    }
    c->st.misses++;
    uint32_t n;
    if (c->used < c->entries) {
        n = c->used++;
    } else {
        n = c->tail;                    /* evict the least recently used */
        drop(c, n);
        c->st.evictions++;
        i = probe(c, space, page, &found);  /* the deletion may move slots */
    }
    c->e[n].page = page;
    c->e[n].space = space;
    c->index[i] = n;
    push_front(c, n);
    return 0;
}

/* Moves entry `n` to the free end of the array, keeping [0, used) live. */
static void compact(tcache *c, uint32_t n)
{
    uint32_t last = --c->used;
    if (n == last)
        return;
    int found;
    uint32_t i = probe(c, c->e[last].space, c->e[last].page, &found);
    c->e[n] = c->e[last];
    c->index[i] = n;
    if (c->e[n].prev != NIL)
        c->e[c->e[n].prev].next = n;
    else
        c->head = n;
    if (c->e[n].next != NIL)
        c->e[c->e[n].next].prev = n;
    else
        c->tail = n;
}

int tcache_invalidate(tcache *c, uint32_t space, uint64_t page)
{
    int found;
    uint32_t i = probe(c, space, page, &found);
    if (!found)
        return 0;
    uint32_t n = c->index[i];
    index_delete(c, i);
    unlink_entry(c, n);
    compact(c, n);
    c->st.invalidations++;
    return 1;
}

uint32_t tcache_invalidate_space(tcache *c, uint32_t space)
{
    uint32_t dropped = 0;
    /* Walk from the end so compaction only moves entries already seen. */
    for (uint32_t n = c->used; n-- > 0;) {
        if (c->e[n].space != space)
            continue;
        dropped += (uint32_t)tcache_invalidate(c, space, c->e[n].page);
    }
    return dropped;
}

void tcache_get_stats(const tcache *c, tcache_stats *out)
{
    *out = c->st;
    out->entries = c->entries;
    out->used = c->used;
}
