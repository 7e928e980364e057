/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * relay.h: the contract between the relay's TC program (relay.bpf.c) and
 * userspace (gst-plugin/ebpfrelay-kernel.c). Plain __u types only, so both
 * sides compile it unchanged.
 *
 * Maps (all owned by one element instance, never pinned):
 *   subs       ARRAY  [RELAY_MAX_SUBS] struct relay_sub   subscriber slots
 *   sub_stats  PERCPU_ARRAY [RELAY_MAX_SUBS] struct relay_counters
 *   config     ARRAY  [1] struct relay_config
 *   stats      PERCPU_ARRAY [RELAY_STAT_MAX] __u64         global counters
 *   scratch    PERCPU_ARRAY [1] struct relay_event         event under construction
 *   events     PERF_EVENT_ARRAY                             packets userspace must send
 *
 * Per packet the kernel decides, for every slot, who sends it: the kernel
 * (state KERNEL: rewrite + bpf_clone_redirect) or userspace (state
 * USERSPACE: the slot's bit is set in an event that carries the whole
 * packet up through "events"). Userspace never guesses which packets the
 * kernel served, so a slot moving from USERSPACE to KERNEL loses no packet
 * and sends none twice.
 */
#ifndef __EBPF_RELAY_H__
#define __EBPF_RELAY_H__

#include <linux/types.h>

#define RELAY_MAX_SUBS 1024
#define RELAY_BITMAP_WORDS (RELAY_MAX_SUBS / 64)

/* Slot states. The values differ in one byte only, so a concurrent reader
 * never sees a torn state while userspace rewrites a slot. */
enum relay_sub_state
{
  RELAY_SUB_EMPTY = 0,
  RELAY_SUB_USERSPACE = 1,      /* the kernel leaves this slot to userspace */
  RELAY_SUB_KERNEL = 2,         /* the kernel rewrites and clones */
};

/* One subscriber slot. Addresses and ports in network byte order, ready to
 * be written into the copy as they are. */
struct relay_sub
{
  __u8 dmac[6];                 /* next hop's MAC */
  __u8 smac[6];                 /* MAC of the egress interface */
  __u32 ifindex;                /* egress interface */
  __u32 saddr;                  /* relay's address on that interface (be) */
  __u32 daddr;                  /* subscriber's address (be) */
  __u16 sport;                  /* source port of copies (be): the stream's port */
  __u16 dport;                  /* subscriber's port (be) */
  __u8 state;                   /* enum relay_sub_state */
  __u8 pad[7];
};

/* Per slot and per CPU: what the kernel sent to this subscriber. */
struct relay_counters
{
  __u64 packets;
  __u64 bytes;                  /* UDP payload bytes */
};

struct relay_config
{
  __u32 n_slots;                /* slots [0, n_slots) are scanned per packet */
  __u32 pad;
};

/* Global per-CPU counters ("stats" map index). */
enum relay_stat
{
  RELAY_STAT_MATCHED = 0,       /* UDP/IPv4 packets to the stream's port */
  RELAY_STAT_PASSED,            /* to the port but not forwardable by the kernel
                                 * (IP options, fragments, truncated); passed up */
  RELAY_STAT_CLONE_ERRORS,      /* bpf_clone_redirect or header rewrite failed */
  RELAY_STAT_EVENTS,            /* events sent to userspace */
  RELAY_STAT_EVENT_ERRORS,      /* bpf_perf_event_output failed: userspace loses it */
  RELAY_STAT_MAX
};

/* Event flags. */
#define RELAY_EVENT_ALL 0x1     /* userspace sends this packet to every slot
                                 * (the kernel could not parse it for
                                 * forwarding, e.g. IP options) */

/* Header of each record on "events"; the whole packet (from the Ethernet
 * header, skb->len bytes) follows it. */
struct relay_event
{
  __u32 flags;
  __u16 payload_off;            /* UDP payload offset in the packet */
  __u16 payload_len;            /* UDP payload length */
  __u64 bitmap[RELAY_BITMAP_WORDS];     /* slot i: bit (i % 64) of word i / 64 */
};

#endif /* __EBPF_RELAY_H__ */
