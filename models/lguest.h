/*
 * lguest.h -- lguest's DMA I/O (seed 001, Linux 2.6.23): SEND_DMA and
 * BIND_DMA hypercalls, keys, `struct lguest_dma`, and the devices of the
 * lguest bus (console, network, block).
 *
 * The structures are bytes in the guest's memory, laid out as on the i386
 * guests lguest ran (little-endian, 4-byte longs):
 *   struct lguest_dma (100 bytes): u32 used_len, u32 addr[16], u16 len[16]
 *       used_len is 0 while the buffer is free; the host writes the bytes
 *       it transferred; the guest zeroes it to give the buffer back. A
 *       zero len ends the sections; each section lies within one page.
 *   struct lguest_device_desc (12 bytes): u16 type (1 console, 2 net,
 *       3 block), u16 features, u16 status, u16 num_pages, u32 pfn
 *       status bits: ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, REMOVED 8,
 *       REMOVED_ACK 16, FAILED 128
 *   struct lguest_block_page (20 bytes): i32 type (0 read, 1 write),
 *       u32 sector, u32 bytes, i32 result (0 pending, 1 done, 2 error),
 *       u32 num_sectors
 *
 * I/O is organised by keys: BIND_DMA attaches an array of receive
 * lguest_dmas (and an interrupt) to a key, SEND_DMA transfers to the
 * buffers bound to a key. Keys are physical addresses in a device's page;
 * the host turns each into a futex-style key (the same for two guests
 * sharing the page, as the guests of one network do) and finds bindings
 * in a hash of 61 buckets. A send to a shared key goes guest to guest,
 * inside the hypercall: the host reads the sender's lguest_dma, scans the
 * receiver's array from where it last stopped for a buffer whose used_len
 * is 0, checks both lists (a section beyond the guest or across a page is
 * refused: lguest itself killed the guest), maps the receiver's pages,
 * copies, writes both used_lens and raises the receiver's interrupt (even
 * when no buffer was free, to let it refill; it then tries once more). A
 * send to the guest's own private key goes out to its Launcher, whose
 * device (console, block) serves it before the guest runs again.
 *
 * Binding happens as each guest's driver starts, before the run.
 */
#ifndef PVSIM_MODELS_LGUEST_H
#define PVSIM_MODELS_LGUEST_H

#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

#define LG_MAX_SECTIONS 16u             /* LGUEST_MAX_DMA_SECTIONS */
#define LG_MAX_DMA 32u                  /* bindings a guest may hold */
#define LG_DMA_SIZE 100u                /* sizeof(struct lguest_dma), i386 */
#define LG_DESC_SIZE 12u
#define LG_BLOCK_PAGE_SIZE 20u
#define LG_HASH_BUCKETS 61u
#define LG_PAGE 4096u

enum lg_device_type { LG_DEV_CONSOLE = 1, LG_DEV_NET = 2, LG_DEV_BLOCK = 3 };
enum lg_status {
    LG_S_ACKNOWLEDGE = 1, LG_S_DRIVER = 2, LG_S_DRIVER_OK = 4, LG_S_REMOVED = 8,
    LG_S_REMOVED_ACK = 16, LG_S_FAILED = 128
};

/* The device a class's requests go to (the scenario's names). */
typedef enum lg_device { LG_NET, LG_BLOCK, LG_CONSOLE } lg_device;
typedef enum lg_role { LG_SEND, LG_ECHO } lg_role;
typedef enum lg_on_full { LG_DROP, LG_WAIT } lg_on_full;

/* A block device's cost of one direction: the disk's latency and its
 * transfer time per byte; the Launcher's thread is blocked meanwhile
 * (O_DIRECT: the disk moves the data, no CPU copies it). */
typedef struct lg_disk_config {
    uint64_t latency;
    double per_byte;
} lg_disk_config;

typedef struct lg_block_config {
    lg_disk_config read, write;
    uint64_t sectors;               /* the disk's size in 512-byte sectors */
} lg_block_config;

/* The Launcher writing console output to its terminal: CPU work. */
typedef struct lg_console_config {
    uint64_t fixed;
    double per_byte;
} lg_console_config;

/* Shares of a class's requests whose lguest_dma or key is wrong. */
typedef struct lg_misbehave_config {
    double page_crossing;           /* a section that crosses a page */
    double outside_section;         /* a section beyond the guest's memory */
    double unbound_key;             /* a key nobody bound */
} lg_misbehave_config;

typedef struct lguest_config {
    int device;                     /* lg_device */
    char *peer;                     /* net: the class instance i talks to */
    int role;                       /* net: lg_role */
    uint64_t receive_buffers;       /* net: lguest_dmas bound for input */
    uint64_t process;               /* net echo: guest work per message */
    int on_full;                    /* net: lg_on_full */
    lg_block_config block;
    lg_console_config console;
    uint64_t remove_at;             /* block, console: the host sets REMOVED
                                       then; 0: never */
    lg_misbehave_config misbehave;
} lguest_config;

extern const scn_schema lguest_schema;

/* "net", "block", "console", NULL. */
extern const char *const lg_device_names[];

#endif
