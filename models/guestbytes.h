/*
 * guestbytes.h -- the bytes of a guest's physical memory that a model
 * reads back: control structures such as packet headers, lguest_dma
 * arrays and device pages.
 *
 * A guest writes them and the host's checks read what is there, so a
 * misbehaving guest is one that wrote wrong bytes, not one with a flag
 * set. The store is sparse: a 4 KiB page is kept once something is
 * written to it, and a byte never written reads 0, as the zeroed memory
 * the guest booted with. Bulk data is never stored; its cost is modelled
 * by its length alone.
 *
 * Multi-byte fields are little-endian, as on the x86 guests of the seeds;
 * the guestbytes_put and guestbytes_get helpers lay them out in a buffer.
 */
#ifndef PVSIM_MODELS_GUESTBYTES_H
#define PVSIM_MODELS_GUESTBYTES_H

#include <stddef.h>
#include <stdint.h>

#define GUESTBYTES_PAGE 4096u

typedef struct guestbytes guestbytes;

/* A store for a guest of `size` bytes of physical memory, nothing
 * written. NULL when memory is short or size is 0. */
guestbytes *guestbytes_new(uint64_t size);
void guestbytes_free(guestbytes *b);

/* The guest's physical size. */
uint64_t guestbytes_size(const guestbytes *b);

/* Whether [gpa, gpa + len) lies inside the guest's memory (len 0: gpa
 * itself must). Safe for any values: sums that would wrap are outside. */
int guestbytes_inside(const guestbytes *b, uint64_t gpa, uint64_t len);

/* Copies `len` bytes into the guest at `gpa`. SIM_EINVAL, writing
 * nothing, when the range is not inside the guest; SIM_ENOMEM when a page
 * cannot be stored (the bytes before it may be written). */
int guestbytes_write(guestbytes *b, uint64_t gpa, const void *src, size_t len);

/* Copies `len` bytes out of the guest at `gpa` (0 where never written).
 * SIM_EINVAL, reading nothing, when the range is not inside the guest. */
int guestbytes_read(const guestbytes *b, uint64_t gpa, void *dst, size_t len);

/* Pages stored (the store's memory is this many 4 KiB pages). */
uint64_t guestbytes_pages(const guestbytes *b);

/* Little-endian fields in a buffer. */
void guestbytes_put16(unsigned char *p, uint16_t v);
void guestbytes_put32(unsigned char *p, uint32_t v);
void guestbytes_put64(unsigned char *p, uint64_t v);
uint16_t guestbytes_get16(const unsigned char *p);
uint32_t guestbytes_get32(const unsigned char *p);
uint64_t guestbytes_get64(const unsigned char *p);

#endif
