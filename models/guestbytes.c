/*
 * guestbytes.c -- the sparse byte store of guestbytes.h: an open-addressed
 * hash from page number to a 4 KiB page, grown at half load.
 */
#include "models/guestbytes.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

typedef struct slot {
    uint64_t page;                  /* page number + 1; 0: empty */
    unsigned char *bytes;
} slot;

struct guestbytes {
    uint64_t size;
    slot *slots;
    uint64_t cap;                   /* a power of two */
    uint64_t used;
};

guestbytes *guestbytes_new(uint64_t size)
{
    if (size == 0)
        return NULL;
    guestbytes *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->size = size;
    b->cap = 16;
    b->slots = calloc(b->cap, sizeof *b->slots);
    if (!b->slots) {
        free(b);
        return NULL;
    }
    return b;
}

void guestbytes_free(guestbytes *b)
{
    if (!b)
        return;
    for (uint64_t i = 0; i < b->cap; i++)
        free(b->slots[i].bytes);
    free(b->slots);
    free(b);
}

uint64_t guestbytes_size(const guestbytes *b)
{
    return b->size;
}

uint64_t guestbytes_pages(const guestbytes *b)
{
    return b->used;
}

int guestbytes_inside(const guestbytes *b, uint64_t gpa, uint64_t len)
{
    if (gpa >= b->size)
        return 0;
    return len <= b->size - gpa;
}

/* Fibonacci hashing of a page number into the table. */
static uint64_t home(const guestbytes *b, uint64_t page)
{
    return (page * 0x9e3779b97f4a7c15ull) & (b->cap - 1);
}

static slot *find(const guestbytes *b, uint64_t page)
{
    for (uint64_t i = home(b, page);; i = (i + 1) & (b->cap - 1)) {
        slot *s = &b->slots[i];
        if (s->page == 0 || s->page == page + 1)
            return s;
    }
}

/* Doubles the table, rehashing every page. */
static int grow(guestbytes *b)
{
    guestbytes bigger = {.size = b->size, .cap = b->cap * 2, .used = b->used};
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return SIM_ENOMEM;
    for (uint64_t i = 0; i < b->cap; i++)
        if (b->slots[i].page)
            *find(&bigger, b->slots[i].page - 1) = b->slots[i];
    free(b->slots);
    *b = bigger;
    return 0;
}

/* The stored page `page`, created zeroed if absent; NULL when memory is
 * short. */
static unsigned char *page_for_write(guestbytes *b, uint64_t page)
{
    slot *s = find(b, page);
    if (s->page)
        return s->bytes;
    if ((b->used + 1) * 2 > b->cap) {
        if (grow(b))
            return NULL;
        s = find(b, page);
    }
    s->bytes = calloc(1, GUESTBYTES_PAGE);
    if (!s->bytes)
        return NULL;
    s->page = page + 1;
    b->used++;
    return s->bytes;
}

int guestbytes_write(guestbytes *b, uint64_t gpa, const void *src, size_t len)
{
    if (!guestbytes_inside(b, gpa, len))
        return SIM_EINVAL;
    const unsigned char *from = src;
    while (len > 0) {
        uint64_t off = gpa % GUESTBYTES_PAGE;
        size_t n = GUESTBYTES_PAGE - off < len ? (size_t)(GUESTBYTES_PAGE - off) : len;
        unsigned char *page = page_for_write(b, gpa / GUESTBYTES_PAGE);
        if (!page)
            return SIM_ENOMEM;
        memcpy(page + off, from, n);
        from += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int guestbytes_read(const guestbytes *b, uint64_t gpa, void *dst, size_t len)
{
    if (!guestbytes_inside(b, gpa, len))
        return SIM_EINVAL;
    unsigned char *to = dst;
    while (len > 0) {
        uint64_t off = gpa % GUESTBYTES_PAGE;
        size_t n = GUESTBYTES_PAGE - off < len ? (size_t)(GUESTBYTES_PAGE - off) : len;
        const slot *s = find(b, gpa / GUESTBYTES_PAGE);
        if (s->page)
            memcpy(to, s->bytes + off, n);
        else
            memset(to, 0, n);
        to += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

void guestbytes_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

void guestbytes_put32(unsigned char *p, uint32_t v)
{
    guestbytes_put16(p, (uint16_t)v);
    guestbytes_put16(p + 2, (uint16_t)(v >> 16));
}

void guestbytes_put64(unsigned char *p, uint64_t v)
{
    guestbytes_put32(p, (uint32_t)v);
    guestbytes_put32(p + 4, (uint32_t)(v >> 32));
}

uint16_t guestbytes_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

uint32_t guestbytes_get32(const unsigned char *p)
{
    return guestbytes_get16(p) | (uint32_t)guestbytes_get16(p + 2) << 16;
}

uint64_t guestbytes_get64(const unsigned char *p)
{
    return guestbytes_get32(p) | (uint64_t)guestbytes_get32(p + 4) << 32;
}
