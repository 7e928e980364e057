/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * relay-bpf-harness.h: what the BPF program tests (test-relay-bpf.c,
 * test-priority.c) share: relay.bpf.c loaded and run with
 * BPF_PROG_TEST_RUN on crafted frames, in a private network namespace
 * whose lo receives the copies (read back through an AF_PACKET socket),
 * the events read from the perf buffer, maps, counters and checksums.
 * Built once (relay-bpf-harness.c, a static library); a case is
 * begin_case (), build () and run (), the check_* () calls, end_case ().
 */
#ifndef __RELAY_BPF_HARNESS_H__
#define __RELAY_BPF_HARNESS_H__

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "relay.h"
#include "relay.skel.h"
#include "tool-util.h"

#define SKIP 77

#define PORT 5004
#define ORIG_SPORT 6000
#define ORIG_SADDR 0x0a010001   /* 10.1.0.1, the server */
#define ORIG_DADDR 0x0a010002   /* 10.1.0.2, the relay */
/* IPv6: fd00::1 the server, fd00::2 the relay (K_IPV6 frames) */
extern const __u8 orig_saddr6[16], orig_daddr6[16];
#define MAX_PKT 2048
#define MAX_FRAMES 1100
#define MAX_EVENTS 8

/* An event read from the perf buffer. */
struct ev_rec
{
  struct relay_event hdr;
  struct relay_event_entry entries[RELAY_MAX_SUBS];
  __u8 pkt[MAX_PKT + 8];
  size_t pkt_len;
};

/* A copy the program sent through lo. */
struct frame
{
  __u8 data[MAX_PKT];
  size_t len;
};

enum kind
{ K_IPV4 = 0, K_IPV6, K_VLAN, K_ARP };

/* A crafted frame (build): the server's packet to the relay's PORT. */
struct spec
{
  enum kind kind;
  int ihl;                      /* 0: 5 */
  int ihl_field;                /* if set: written to the IHL nibble afterwards */
  __u8 proto;                   /* 0: UDP */
  __u16 frag;                   /* flags and offset, host order */
  __u16 dport;                  /* 0: PORT */
  int payload;
  int no_udp_csum;
  int udp_len_delta;
  int cut;                      /* bytes taken off the end */
  int len;                      /* > 0: frame cut to this length */
  const __u8 *data;             /* the payload's bytes (NULL: a pattern) */
  /* K_IPV6 only */
  int ext6;                     /* destination options headers (8 bytes
                                 * each) before UDP */
  int frag6;                    /* set: a Fragment header before UDP, with
                                 * this offset-and-M field (host order) */
  const __u8 *daddr6;           /* NULL: orig_daddr6 */
  /* both kinds */
  __u8 tos;                     /* IPv4 TOS / IPv6 traffic class */
  __u8 ttl;                     /* TTL / hop limit; 0: 64 */
};

extern struct relay_bpf *skel;
extern int prog_fd, sub_ssrcs_fd;
extern struct perf_buffer *pb;

extern int n_passed, n_failed, n_not_run;
extern int case_failed;
/* BPF_PROG_TEST_RUN (6.x) refuses IPv4 frames shorter than an IP header
 * with EINVAL; such a case cannot run here. */
extern int may_refuse, refused;

/* The slots and the configuration as the current case set them. */
extern struct relay_sub slots[RELAY_MAX_SUBS];
extern __u32 n_slots;
extern struct relay_config config;

/* What the current case saw: events (n_evs may exceed MAX_EVENTS) and
 * copies on lo (n_frames may exceed MAX_FRAMES). */
extern struct ev_rec evs[MAX_EVENTS];
extern int n_evs;
extern struct frame *frames;
extern int n_frames;

/* Marks the current case failed, with a message. */
void fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* checksums */
__u32 sum_bytes (__u32 sum, const __u8 * p, size_t n);
__u16 fold (__u32 sum);
/* Sum of the UDP pseudo header and segment (check field included). */
__u16 udp_sum (const __u8 * ip, const __u8 * udp, size_t udp_len);
int ip_csum_ok (const __u8 * ip, size_t ihl_len);
/* The same over the IPv6 pseudo header of @ip6 (addresses at 8-39). */
__u16 udp6_sum (const __u8 * ip6, const __u8 * udp, size_t udp_len);

/* Writes the frame @s describes into @p; returns its length. */
size_t build (__u8 * p, const struct spec *s);

/* maps */
void write_config (void);
void set_n_slots (__u32 n);
/* Payload type 96 is H.264, 97 VP8, the others "other". */
void set_prio_config (__u8 fm_id, int rewrite_seq);
void set_slot (__u32 i, const struct relay_sub *s);
/* local_addrs (begin_case puts ORIG_DADDR in), sources and the latch;
 * addresses and ports in host order. */
void set_local_addr (__u32 addr, int on);
/* local_addrs6 (begin_case puts orig_daddr6 in) */
void set_local_addr6 (const __u8 addr[16], int on);
void add_source (__u32 addr, __u16 port);
/* The same for an IPv6 sender (16 bytes, network order) */
void add_source6 (const __u8 addr[16], __u16 port);
void reset_latch (void);
struct relay_latch read_latch (void);
/* Whether @l holds IPv4 sender @addr (host order; v4-mapped, relay.h) */
int latch_is4 (const struct relay_latch *l, __u32 addr);
/* Whether @l holds IPv6 sender @addr */
int latch_is6 (const struct relay_latch *l, const __u8 addr[16]);
struct relay_counters read_counters (__u32 i);
__u64 read_stat (__u32 idx);
/* Slot @i's sub_ssrcs entry of assignment @gen and @ssrc: 1 and *@out when
 * there is one, else 0. */
int read_ssrc_state (__u32 i, __u16 gen, __u32 ssrc,
    struct relay_ssrc_state *out);

/* frame_state's value for upstream SSRC @ssrc: 1 and *@out when there is
 * one, else 0. */
int read_stream (__u32 ssrc, struct relay_stream *out);

/* cases: begin_case resets the maps and what was seen */
void read_frames (void);
void begin_case (const char *name);
void end_case (void);
/* One test run: TC_ACT_UNSPEC and the packet back unchanged, always. */
void run (const __u8 * pkt, size_t len);
/* The same, returning @verdict (the packet still unchanged). */
void run_expect (const __u8 * pkt, size_t len, int verdict);
/* One run that may end in another verdict than TC_ACT_UNSPEC; the packet
 * as the program left it goes to @out. Returns the verdict, or -2. */
int run_verdict (const __u8 * pkt, size_t len, struct frame *out);

/* Starts every slot on H.264 SSRC @ssrc (switch.h: a video SSRC's slot
 * waits for a key frame): runs a key frame start (NRI 3) with timestamp
 * @ts, whatever the verdict, then forgets what it did (copies, events,
 * per-slot and global counters); sequence offsets stay 0 (nobody drops
 * priority 7). For cases about something else than the gate. */
void prime_key_frame (__u32 ssrc, __u32 ts);

/* checks */
void check_stats (__u64 matched, __u64 passed, __u64 events,
    __u64 clone_errors);
/* Whether slot @i is a KERNEL slot sending to lo. */
int served (__u32 i);
void check_sub_stats (__u64 payload);
/* The TOS / traffic class and TTL / hop limit a copy to @s of a packet
 * that came with @tos and @ttl must carry, as config's RELAY_IP_* say. */
void expect_ip (const struct relay_sub *s, __u8 * tos, __u8 * ttl);
/* The copy carries the packet unchanged but for @s's headers (and the
 * TOS and TTL expect_ip says) and, with @seq >= 0, the RTP sequence
 * number @seq. */
void check_frame_seq (const struct frame *f, const struct relay_sub *s,
    const __u8 * pkt, size_t len, int seq);
void check_frame (const struct frame *f, const struct relay_sub *s,
    const __u8 * pkt, size_t len);
/* The same for an IPv6 packet without extension headers: the copy's
 * UDP checksum must verify over its pseudo header, and not be 0. */
void check_frame6 (const struct frame *f, const struct relay_sub *s,
    const __u8 * pkt, size_t len, int seq);
/* The copies seen on lo are exactly one per served slot, each right. */
void check_frames (const __u8 * pkt, size_t len);
/* @entries: the @n slots the event must name, in slot order, and their
 * sequence numbers (looked at only with RELAY_EVENT_SEQ). */
void check_event (const struct ev_rec *e, __u32 flags,
    const struct relay_event_entry *entries, __u32 n,
    __u16 payload_off, __u16 payload_len, const __u8 * pkt, size_t len);
/* The event naming the USERSPACE slots, if there are any (packets that
 * are not RTP: no sequence numbers). */
void check_user_event (const __u8 * pkt, size_t len);

/* slots and sockets */
/* A KERNEL slot sending to lo: @deliver, to the local UDP socket at
 * 127.0.0.1:(20000 + @i). */
struct relay_sub lo_slot (__u32 i, int deliver);
/* The same in IPv6: to [::1]:(20000 + @i), from ::1 or ::2 */
struct relay_sub lo_slot6 (__u32 i, int deliver);
int udp_socket (__u16 port);
int udp6_socket (__u16 port);
void check_udp_rx (int fd, __u16 port, const __u8 * payload, size_t len);

/* Loads relay.bpf.c, moves into a private network namespace with lo up,
 * opens the packet socket and the perf buffer. Returns 0, SKIP or 1; prints
 * why. */
int harness_setup (const char *name);
/* Frees it all; returns the exit code (1 when a case failed). */
int harness_teardown (void);

#endif
