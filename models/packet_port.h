/*
 * packet_port.h -- plex86's packet port (seed 000): a guest driver hands
 * the host a packet with one dword write of the packet's physical address
 * to a special I/O port.
 *
 * The packet lives in the guest's memory, as bytes (little-endian):
 *   0  u32 magic            PP_MAGIC: "this is meant for our interface"
 *   4  u32 length           bytes of data after the 32-byte header
 *   8  u32 channel          0: the port's own control messages; else the
 *                           channel whose callback serves the packet
 *  12  u32 return size      bytes of the return buffer
 *  16  u64 return address   guest-physical
 *  24  u64 reserved
 *  32  data                 a request: u32 slot, u32 part, u32 bytes;
 *                           a control message: u32 type, then for a page
 *                           list u32 buffer, u32 first, u32 count and
 *                           count u64 guest-physical page addresses
 * The callback answers in the return buffer: u32 status (1: done), u32
 * reply length, then the reply (its bytes are not stored).
 *
 * The host's device model (in the kernel or in userspace, as the variant's
 * fabric.handler says) serves the write inside the exit, as plex86's
 * monitor passed port I/O to the host's user space and resumed the guest
 * once it was handled: the OUT returns when the reply is written. It finds
 * the header through the guest's translation (a memslot lookup; an
 * address outside the guest is refused there), checks the magic, that the
 * packet and the return buffer lie inside the guest (a second lookup for
 * the return buffer), that the channel is registered, and that the return
 * buffer holds the channel's reply. A refusal costs what the host spent
 * before it; nothing is written then, and the driver, finding no status
 * in its return buffer, counts the request refused and goes on. An
 * accepted request: the buffer scheme's host side resolves the data, the
 * channel's callback works fixed + per_byte x bytes, and the reply is
 * copied into the return buffer (copy_per_kib).
 *
 * Lifecycle (the seed's init sequences, on the same port, channel 0):
 * before "I'm here and going live", and after "I'm shutting down", the
 * device runs on its emulated slow path: each request is `emulated.exits`
 * register accesses, the last one served by the callback, as VGA
 * emulation serves until an accelerated driver takes over. Going live
 * sends the live message, then "here is the list of physical pages of my
 * data buffer #X" for every registered buffer (page-list: up to
 * PP_LIST_MAX pages a message); shutting down sends one message. The
 * driver quiesces first (it waits for its requests in flight), requests
 * issued during a switch wait for it, and results show each phase's
 * latency and throughput and each switch's cost.
 *
 * A misbehaving guest (`misbehave:`) writes wrong bytes into a share of
 * its packets: a bad magic, a packet or return address outside its memory,
 * a channel nobody registered, a return buffer too small. The host refuses
 * each, counts it for the guest by reason, and never writes outside the
 * guest.
 */
#ifndef PVSIM_MODELS_PACKET_PORT_H
#define PVSIM_MODELS_PACKET_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

#define PP_MAGIC 0x54504b50u            /* "PKPT" as little-endian bytes */
#define PP_HEADER 32u
#define PP_REQUEST_DATA 12u
#define PP_REPLY_HEAD 8u                /* status and length */
#define PP_MAX_REPLY 2048u
#define PP_CONTROL_CHANNEL 0u
#define PP_LIST_HEAD 16u                /* type, buffer, first, count */
/* Page addresses a page-list message holds: it fills one 4 KiB page. */
#define PP_LIST_MAX ((4096u - PP_HEADER - PP_LIST_HEAD) / 8u)

enum pp_message { PP_MSG_LIVE = 1, PP_MSG_PAGE_LIST = 2, PP_MSG_SHUTDOWN = 3 };
enum pp_status { PP_STATUS_NONE = 0, PP_STATUS_DONE = 1 };

typedef enum pp_access { PP_ACCESS_PIO_WRITE, PP_ACCESS_PIO_READ, PP_ACCESS_MMIO } pp_access;

typedef struct pp_channel_config {
    uint64_t id;                    /* 1..65535 */
    double share;                   /* of the class's requests */
    uint64_t fixed;                 /* the callback's cycles per packet */
    double per_byte;                /* and per byte of the request */
    uint64_t reply;                 /* bytes it writes back */
} pp_channel_config;

typedef struct pp_emulated_config {
    uint64_t exits;                 /* register accesses per request */
    int access;                     /* pp_access */
    int handler;                    /* fabric_handler */
} pp_emulated_config;

typedef struct pp_lifecycle_config {
    uint64_t live;                  /* "going live", cycles from the start */
    uint64_t shutdown;              /* "shutting down"; 0: never */
    uint64_t every;                 /* both repeat with this period; 0: once */
} pp_lifecycle_config;

/* Shares of the class's accelerated requests whose packet is wrong. */
typedef struct pp_misbehave_config {
    double bad_magic, outside_packet, outside_return, unknown_channel, small_return;
} pp_misbehave_config;

typedef struct packet_port_config {
    pp_channel_config *channels;
    size_t nchannels;
    pp_emulated_config emulated;
    pp_lifecycle_config lifecycle;
    pp_misbehave_config misbehave;
} packet_port_config;

extern const scn_schema packet_port_schema;

#endif
