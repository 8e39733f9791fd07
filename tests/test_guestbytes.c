/*
 * test_guestbytes.c -- the sparse store of a guest's control bytes: what
 * is written reads back, what was never written reads 0, and nothing
 * outside the guest is read or written.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "models/guestbytes.h"
#include "sim/error.h"

Test(guestbytes, written_bytes_read_back_across_pages_and_the_rest_is_zero)
{
    guestbytes *b = guestbytes_new(1ull << 30);
    cr_assert_not_null(b);
    unsigned char src[100], dst[120];
    for (int i = 0; i < 100; i++)
        src[i] = (unsigned char)(i + 1);
    /* 100 bytes straddling the boundary of pages 4 and 5. */
    cr_assert_eq(guestbytes_write(b, 5 * 4096 - 40, src, sizeof src), 0);
    cr_assert_eq(guestbytes_pages(b), 2);
    cr_assert_eq(guestbytes_read(b, 5 * 4096 - 50, dst, sizeof dst), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(dst[i], 0);
    cr_assert_eq(memcmp(dst + 10, src, 100), 0);
    for (int i = 110; i < 120; i++)
        cr_assert_eq(dst[i], 0);
    guestbytes_free(b);
}

Test(guestbytes, nothing_outside_the_guest_is_read_or_written)
{
    guestbytes *b = guestbytes_new(8192);
    unsigned char buf[16] = {1, 2, 3};
    cr_assert(guestbytes_inside(b, 8192 - 16, 16));
    cr_assert_not(guestbytes_inside(b, 8192 - 15, 16));
    cr_assert_not(guestbytes_inside(b, 8192, 0));
    cr_assert_not(guestbytes_inside(b, UINT64_MAX - 4, 16));   /* would wrap */
    cr_assert_eq(guestbytes_write(b, 8190, buf, 16), SIM_EINVAL);
    cr_assert_eq(guestbytes_write(b, UINT64_MAX - 4, buf, 16), SIM_EINVAL);
    cr_assert_eq(guestbytes_read(b, 8190, buf, 16), SIM_EINVAL);
    cr_assert_eq(guestbytes_pages(b), 0, "a refused write stores nothing");
    cr_assert_eq(buf[0], 1, "a refused read leaves the buffer alone");
    guestbytes_free(b);
}

Test(guestbytes, many_pages_survive_the_table_growing)
{
    guestbytes *b = guestbytes_new(1ull << 32);
    for (uint32_t p = 0; p < 1000; p++) {
        unsigned char v[4];
        guestbytes_put32(v, p * 7919u);
        cr_assert_eq(guestbytes_write(b, (uint64_t)p * 3 * 4096 + 8, v, 4), 0);
    }
    cr_assert_eq(guestbytes_pages(b), 1000);
    for (uint32_t p = 0; p < 1000; p++) {
        unsigned char v[4];
        cr_assert_eq(guestbytes_read(b, (uint64_t)p * 3 * 4096 + 8, v, 4), 0);
        cr_assert_eq(guestbytes_get32(v), p * 7919u);
    }
    guestbytes_free(b);
}

Test(guestbytes, fields_are_little_endian)
{
    unsigned char p[8];
    guestbytes_put64(p, 0x0102030405060708ull);
    cr_assert_eq(p[0], 0x08);
    cr_assert_eq(p[7], 0x01);
    cr_assert_eq(guestbytes_get64(p), 0x0102030405060708ull);
    guestbytes_put16(p, 0xbeef);
    cr_assert_eq(p[0], 0xef);
    cr_assert_eq(guestbytes_get16(p), 0xbeef);
    cr_assert_eq(guestbytes_get32((const unsigned char[]){0x78, 0x56, 0x34, 0x12}), 0x12345678u);
}
