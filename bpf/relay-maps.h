/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * relay-maps.h: relay.bpf.c's maps (the contract with userspace is
 * relay.h) and the per-CPU scratch state the program's parts share
 * (struct scratch: the headers as received, the copy being written,
 * the event under construction). Part of relay.bpf.c (one object;
 * included by it only, before its other relay-*.h).
 *
 * The maps are initialized ("= {}", all zero as before) so that the
 * compiler emits them in this order, which is the skeleton's
 * (relay.skel.h) map order; a tentative definition would be placed
 * where the code first uses it, and moving a function between the
 * headers would reorder the skeleton.
 */
#ifndef __RELAY_MAPS_H__
#define __RELAY_MAPS_H__

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "relay.h"
#include "relay-pkt.h"
#include "priority-bpf.h"


/* The state of the copies being written into the skb: scalars only, in
 * the scratch map (relay_stage_copy, a global function, gets it through
 * a map value pointer, which keeps loop_ctx's pointers pointers). */
struct copy_state {
	__u64 port_flags;
	__u32 payload_len;
	__s32 pending; /* slot whose copy is in the skb, unsent; -1 */
	__u32 pending_ifindex;
	__u16 cur_seq;     /* RTP sequence number now in the skb */
	__u16 orig_seq;    /* the packet's (info.seq) */
	__u8 seq_on;       /* RTP, and sequence numbers are rewritten */
	__u8 seq_touched;  /* the skb's sequence number was changed */
	__u8 rewritten;
	__u8 broken;
	__u8 l4;           /* the packet has the UDP header (not a later
	                    * fragment): rewrite ports, UDP checksum */
	__u8 v6;           /* IPv6 (fixed header): the *6 offsets */
	__u8 has_frag;     /* first fragment: record who gets it
	                    * (scratch.frag) */
	__u8 later_frag;   /* a later fragment (frag_to): counted at the
	                    * first */
	__u32 n_users;     /* entries in the event (in a map, not on the
	                    * stack: the verifier would follow each value
	                    * through the slot loop's iterations) */
	/* The IPv4 TOS / IPv6 traffic class and TTL / hop limit (relay.h,
	 * RELAY_IP_*): as received, now in the skb, and what the copies get
	 * (ttl_mc: to a group; a TTL of 0: userspace sends the copy). */
	__u8 tos_orig;
	__u8 tos_cur;
	__u8 tos_want;
	__u8 ttl_orig;
	__u8 ttl_cur;
	__u8 ttl_uc;
	__u8 ttl_mc;
	__u8 pad;
};

/* Per CPU: the event under construction, the copy of the payload's first
 * bytes the classifier reads (kept off the 512-byte stack), and its
 * result. */
struct scratch {
	struct relay_event_buf ev;
	struct prio_info info;
	struct relay_frag frag; /* first fragment: slots that got it */
	__u32 avail;            /* UDP payload bytes in this packet */
	__u8 all_user;          /* userspace sends to every slot */
	__u8 payload[PRIO_BUF_LEN];
	/* The header fields (struct loop_ctx): here rather than on the
	 * stack, which they would fill, and where the verifier would track
	 * each of their words through the slot loop. */
	struct hdrs orig_h;      /* the headers as received */
	struct relay_sub orig_f; /* as received */
	struct relay_sub cur;    /* now in the skb */
	struct relay_sub sub;    /* the slot at hand, one copy of it */
	struct copy_state cs;
};

/* The slot loop's context (forward(); forward_frag(), relay-frag.h):
 * on the stack, its pointers into scratch. */
struct loop_ctx {
	struct __sk_buff *skb;
	struct relay_event_buf *ev;
	struct relay_sub *orig_f; /* their fields (in scratch) */
	struct relay_sub *cur;    /* fields now in the skb (in scratch) */
	struct relay_sub *sub;    /* the slot at hand (in scratch) */
	struct copy_state *cs;    /* in scratch */
	struct prio_info info;   /* the packet's classification */
	__u32 octets;            /* RTP payload octets (sw_payload_octets) */
	__u8 rtp;                /* RTP: switched, counted per slot and SSRC */
	__u8 frame;              /* sw_frame: SW_FRAME_START, SW_KEY_START */
	__u8 all_user; /* userspace sends to every slot (IP options) */
	__u8 family;             /* enum relay_family of the packet */
	__u8 frag_user;          /* an IPv6 first fragment: userspace sends
	                          * it to every slot, from the datagram the
	                          * socket reassembles (RELAY_EVENT_FRAGMENT) */
	__u8 pass_up;               /* not consumed: userspace needs it */
	struct relay_frag *frag_to; /* later fragment: who gets it */
};

PRIO_SCRATCH_MAP(scratch, struct scratch) = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RELAY_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct relay_sub_ssrcs);
} sub_ssrcs SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct relay_config);
} config SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RELAY_MAX_VP8_SSRCS);
	__type(key, __u32);
	__type(value, struct prio_vp8_state);
} vp8_state SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RELAY_MAX_LOCAL_ADDRS);
	__type(key, __u32);
	__type(value, __u8);
} local_addrs SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RELAY_MAX_SOURCES);
	__type(key, struct relay_src_key);
	__type(value, __u8);
} sources SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct relay_latch);
} latch SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RELAY_MAX_LOCAL_ADDRS);
	__type(key, struct relay_addr6);
	__type(value, __u8);
} local_addrs6 SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RELAY_MAX_FRAGS);
	__type(key, struct relay_frag_key);
	__type(value, struct relay_frag);
} frags SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RELAY_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct relay_sub);
} subs SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RELAY_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct relay_counters);
} sub_stats SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RELAY_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RELAY_MAX_FRAME_SSRCS);
	__type(key, __u32);
	__type(value, struct relay_stream);
} frame_state SEC(".maps") = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps") = {};

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

#endif /* __RELAY_MAPS_H__ */
