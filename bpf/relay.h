/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * relay.h: the contract between the relay's TC program (relay.bpf.c) and
 * userspace (gst-plugin/ebpfrelay-kernel.c). Plain __u types only, so both
 * sides compile it unchanged.
 *
 * Maps (all owned by one element instance, never pinned):
 *   subs       ARRAY  [RELAY_MAX_SUBS] struct relay_sub   subscriber slots
 *   sub_stats  PERCPU_ARRAY [RELAY_MAX_SUBS] struct relay_counters
 *                                                          (also what was sent
 *                                                          per slot and SSRC)
 *   config     ARRAY  [1] struct relay_config
 *   stats      PERCPU_ARRAY [RELAY_STAT_MAX] __u64         global counters
 *   sub_ssrcs  ARRAY  [RELAY_MAX_SUBS] struct relay_sub_ssrcs
 *                                                          per slot and SSRC:
 *                                                          switch state, drops,
 *                                                          the SR counts' bases
 *   frame_state LRU_HASH SSRC -> struct relay_stream      previous timestamp,
 *                                                          what the relay
 *                                                          received (RR)
 *   vp8_state  LRU_HASH SSRC -> struct prio_vp8_state     VP8 frame in progress
 *   frags      LRU_HASH struct relay_frag_key -> struct relay_frag
 *                                                          fragmented datagram in
 *                                                          progress: who got its
 *                                                          first fragment
 *   scratch    PERCPU_ARRAY [1] struct relay_event_buf     event under construction
 *   events     PERF_EVENT_ARRAY                             packets userspace must send
 *   local_addrs HASH   __u32 (be) -> __u8                    the relay's own IPv4
 *                                                          addresses: only packets
 *                                                          to one are forwarded
 *   local_addrs6 HASH  struct relay_addr6 -> __u8           the same for IPv6
 *   sources    HASH   struct relay_src_key -> __u8         allowed senders, IPv4
 *                                                          and IPv6
 *                                                          (config.src_flags)
 *   latch      ARRAY  [1] struct relay_latch                the latched sender
 *
 * Per packet the kernel classifies the packet once (bpf/priority.h), finds
 * whether it starts a frame (bpf/switch.h) and decides, for every slot,
 * whether it gets the packet (the switch state of the slot and SSRC, then
 * priority >= the slot's limit), with which RTP sequence number, and who
 * sends it: the
 * kernel (state KERNEL: rewrite + bpf_clone_redirect) or userspace (state
 * USERSPACE: an entry in an event that carries the whole packet up through
 * "events"). Userspace never guesses what the kernel did, so a slot moving
 * from USERSPACE to KERNEL loses no packet, sends none twice, and its
 * sequence numbers stay contiguous.
 */
#ifndef __EBPF_RELAY_H__
#define __EBPF_RELAY_H__

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */
#include "priority.h"
#include "switch.h"
#include "seqlog.h"

#define RELAY_MAX_SUBS        1024 /* power of two */
#define RELAY_SSRCS_PER_SUB   4 /* SSRCs per slot: audio, video, rtx, spare */
#define RELAY_MAX_FRAME_SSRCS 1024 /* SSRCs whose frames are followed */
#define RELAY_MAX_VP8_SSRCS   256
#define RELAY_MAX_FRAGS       256  /* fragmented datagrams in flight */
#define RELAY_MAX_CPUS        4096 /* bound of the loops over the CPUs */
#define RELAY_MAX_LOCAL_ADDRS 256  /* local_addrs entries */
#define RELAY_MAX_SOURCES     64   /* sources entries */
#define RELAY_V6_MAX_EXT      4    /* IPv6 extension headers looked through */
#define RELAY_V6_MAX_HDR      512  /* longest IPv6 header chain (with the
                                    * extension headers) looked through */

/* Slot states. The values differ in one byte only, so a concurrent reader
 * never sees a torn state while userspace rewrites a slot. */
enum relay_sub_state {
	RELAY_SUB_EMPTY = 0,
	RELAY_SUB_USERSPACE = 1, /* the kernel decides, userspace sends */
	RELAY_SUB_KERNEL = 2,    /* the kernel rewrites and clones */
};

/* A slot's address family (struct relay_sub.family). The kernel never
 * translates: a packet of the other family than a KERNEL slot's is named
 * in the event for that slot, as for a USERSPACE slot (userspace sends it
 * from its socket of the slot's family). */
enum relay_family {
	RELAY_FAMILY_V4 = 0, /* saddr, daddr */
	RELAY_FAMILY_V6 = 1, /* saddr6, daddr6 */
};

/* An IPv6 address as in the packet (local_addrs6's key). */
struct relay_addr6 {
	__u32 a[4];
};

/* One subscriber slot. Addresses and ports in network byte order, ready to
 * be written into the copy as they are. An IPv4 slot (family V4) has
 * saddr and daddr, an IPv6 one saddr6 and daddr6 (the other pair zero).
 *
 * Who reads what: the family, addresses, ports, MACs and ifindex only in state
 * KERNEL; limit, seq_flag and burst in USERSPACE and KERNEL; gen whenever the slot
 * is not EMPTY. Userspace changes these groups one write at a time (see
 * relay_kernel_set_slot), and each of limit, seq_flag and state is one
 * byte, so a reader sees each either old or new, never torn. */
struct relay_sub {
	__u8 dmac[6];  /* next hop's MAC */
	__u8 smac[6];  /* MAC of the egress interface */
	__u32 ifindex; /* egress interface */
	__u32 saddr;   /* relay's address on that interface (be) */
	__u32 daddr;   /* subscriber's address (be) */
	__u16 sport;   /* source port of copies (be): the stream's port */
	__u16 dport;   /* subscriber's port (be) */
	__u8 state;    /* enum relay_sub_state */
	__u8 limit;    /* priority limit 0..PRIO_MAX: gets priority >= limit */
	__u8 seq_flag; /* it had a limit > 0 since it was assigned
                                 * (kept by userspace; the kernel no longer
                                 * needs it: sub_ssrcs is read for every slot) */
	__u8 burst;    /* SSRC entries claimed while set start RUNNING
                        * (switch.h sw_sub_start_burst): userspace sends
                        * a key-frame burst first (keyframe-cache) */
	__u16 gen;     /* assignment of the slot: owns its sub_ssrcs
                                 * entries */
	__u8 family;   /* enum relay_family */
	__u8 pad;
	__u32 saddr6[4]; /* IPv6: relay's address on the interface */
	__u32 daddr6[4]; /* IPv6: subscriber's address */
};

/* What was sent to a slot of one of its SSRCs (the sub_ssrcs entry of the
 * same index), on one CPU: see struct relay_ssrc_state. */
struct relay_ssrc_count {
	__u64 packets; /* RTP packets sent to the slot (by the kernel or
	                * named in events for userspace to send) */
	__u64 octets;  /* their RTP payload octets (sw_payload_octets) */
};

/* Per slot and per CPU. All __u64, so that userspace sums them field by
 * field (ebr_bpf_percpu_sum). */
struct relay_counters {
	__u64 packets;      /* sent by the kernel */
	__u64 bytes;        /* their UDP payload bytes */
	__u64 prio_dropped; /* not sent (by anyone): priority below the limit */
	__u64 held;         /* not sent (by anyone): waiting for a key frame
                                 * (switch.h, SW_HOLD); not dropped */
	struct relay_ssrc_count ssrc[RELAY_SSRCS_PER_SUB];
	/* per sub_ssrcs entry index, plain adds on the CPU's own copy */
};

struct relay_config {
	__u32 n_slots;    /* slots [0, n_slots) are scanned per packet */
	__u8 fm_id;       /* RFC 9626 frame marking extension id, 0: none */
	__u8 rewrite_seq; /* rewrite RTP sequence numbers after drops */
	__u8 consume;     /* the program consumes the packets it forwards:
                                 * the last kernel copy is the packet itself
                                 * (bpf_redirect), none goes up to the socket */
	__u8 pad;
	__u8 codec_by_pt[PRIO_N_PT]; /* enum prio_codec of each payload type */
	__u32 clock_rate; /* the stream's RTP clock rate (caps), for the
	                   * upstream jitter (struct relay_stream); 0:
	                   * unknown, no jitter */
	__u16 local_sport; /* (be) not 0: the program is on lo for buffers
	                    * of the element's own (gst-plugin/ebpfrelay-local):
	                    * only packets from this source port are taken,
	                    * and always consumed */
	__u16 local_mtu;   /* with local_sport: the largest IP datagram
	                    * the kernel clones (the smallest egress MTU);
	                    * larger ones go to userspace for every slot */
	__u8 src_flags;   /* RELAY_SRC_*: which senders may publish */
	__u8 pad1[3];
	__u32 src_timeout_ms; /* RELAY_SRC_LATCH: silence of the latched
	                       * sender after which another may take over;
	                       * 0: never */
	/* The IP header of every copy the kernel sends, beside its
	 * addresses (multiudpsink's qos-dscp, ttl, ttl-mc; see
	 * RELAY_IP_*). Without the flags, as the packet came (a zeroed
	 * config changes nothing). */
	__u8 ip_flags; /* RELAY_IP_* */
	__u8 dscp;     /* RELAY_IP_DSCP: the DSCP (0..63) */
	__u8 ttl;      /* RELAY_IP_TTL: TTL / hop limit to a unicast
	                * address */
	__u8 ttl_mc;   /* RELAY_IP_TTL: the same to a multicast group */
};

/*
 * RELAY_IP_DSCP: the DSCP is written into the upper 6 bits of the IPv4
 *   TOS / IPv6 traffic class, the 2 ECN bits stay as they came.
 * RELAY_IP_TTL: the IPv4 TTL / IPv6 hop limit is ttl, or ttl_mc for a
 *   slot whose address is a multicast group (224.0.0.0/4, ff00::/8).
 * The IPv4 header checksum is updated; IPv6 has none, and the UDP pseudo
 * header covers neither field. A copy that would leave with TTL 0 is
 * not the kernel's: the slot is named in the event and userspace sends
 * it (its socket refuses an IPv4 TTL of 0; a group's TTL 0 keeps the
 * datagram on this host, which a copy put on an interface would not).
 */
#define RELAY_IP_DSCP 0x1
#define RELAY_IP_TTL  0x2

/*
 * The publisher lock (docs/security.md). Checked in relay_ingress after
 * the destination (local_addrs) and the IPv4 header checksum, for every
 * datagram to the port but RTCP (which goes up to the socket and is
 * filtered by userspace): a datagram from a sender that may not publish
 * is dropped (TC_ACT_SHOT, RELAY_STAT_REJECTED_SOURCE), so neither a
 * subscriber nor the socket sees it.
 * RELAY_SRC_LIST: the sender (address, port) or (address, port 0) is in
 *   "sources".
 * RELAY_SRC_LATCH: the sender is the latched one; with none latched yet,
 *   or after src_timeout_ms without a datagram from it, the sender of the
 *   datagram takes the latch (RELAY_STAT_SOURCE_LATCHED). With both, only
 *   an allowed sender can take the latch.
 * One key for both families: a sender's address is 16 bytes, an IPv6 one
 * as in its header, an IPv4 one v4-mapped (::ffff:a.b.c.d, RELAY_V4MAPPED
 * in word 2), as userspace folds a v4-mapped peer into IPv4
 * (gst-plugin/ebpfrelay-addr.h).
 */
#define RELAY_SRC_LIST  0x1
#define RELAY_SRC_LATCH 0x2
/* word 2 of a v4-mapped address (host order: bpf_htonl / htonl it) */
#define RELAY_V4MAPPED  0x0000ffff

struct relay_src_key {
	__u32 addr[4]; /* be: IPv6, or IPv4 v4-mapped */
	__u16 port;    /* be; 0: any port of addr */
	__u16 pad;
};

struct relay_latch {
	struct bpf_spin_lock lock;
	__u32 addr[4]; /* be, as relay_src_key's; all 0 (::): none latched */
	__u16 port;    /* be */
	__u16 pad;
	__u64 last_ns; /* bpf_ktime_get_ns of its last datagram */
};

/*
 * frame_state's value: per upstream SSRC, updated once per RTP packet
 * (not per copy) by the CPU that handles it, without atomic operations
 * (one sender's packets of one SSRC come in order, one at a time). Beside
 * the frame state (switch.h), the receiver statistics the relay's own RR
 * about that SSRC needs (RFC 3550 A.1, A.3, A.8), also when the kernel
 * consumes the packets (pass-original=false) and userspace sees none:
 * relay_kernel_upstream_stats reads them. A.1's update_seq without
 * probation, as ebpfrelay-rtcp's: a jump of more than RELAY_MAX_DROPOUT
 * ahead (and not a reordering within RELAY_MAX_MISORDER behind) is not
 * counted, unless the next packet follows it (the sender restarted: the
 * statistics start again there); duplicates and reordered packets are
 * counted. Jitter (A.8): arrival (bpf_ktime_get_ns, in units of
 * config.clock_rate) minus RTP timestamp, smoothed by 1/16; kept x16.
 */
#define RELAY_MAX_DROPOUT  3000
#define RELAY_MAX_MISORDER 100

struct relay_stream {
	struct sw_ssrc f; /* frames (switch.h) */
	__u32 received;   /* RTP packets counted (duplicates too) */
	__u32 cycles;     /* sequence number wraps x 65536 */
	__u16 base_seq;   /* the first counted sequence number */
	__u16 max_seq;    /* the highest */
	__u16 bad_seq;    /* after a jump: the number that would confirm it */
	__u8 has_transit; /* @transit holds a packet's */
	__u8 pad;
	__u32 transit; /* the previous packet's arrival - RTP timestamp */
	__u32 jitter;  /* A.8's estimate x 16 (RTP timestamp units) */
	__u32 bad;     /* packets of a jump not counted */
	__u32 pad2;
};

/*
 * sub_ssrcs: per slot, the state of up to RELAY_SSRCS_PER_SUB SSRCs. An
 * entry belongs to the slot's assignment gen and one SSRC: @id is
 * RELAY_SSRC_ID (gen, ssrc) with RELAY_SSRC_VALID. An entry whose id has
 * another gen (or neither flag) is free. The kernel claims a free entry
 * with a compare-and-swap of @id to RELAY_SSRC_BUSY | (gen, ssrc), sets the
 * other fields, then swaps @id to RELAY_SSRC_VALID | (gen, ssrc): two CPUs
 * never claim two entries for one SSRC, and nobody counts into an entry
 * before it is clean (a CPU that finds the entry BUSY for its own SSRC
 * handles that packet as if the table were full: RELAY_STAT_SEQ_FULL).
 * @dropped is added to with atomic adds (the sequence numbers of every
 * CPU's copies depend on it; it changes only on a drop). What is sent is
 * counted per CPU, once per copy, with no atomic operation: in the slot's
 * sub_stats value (struct relay_counters), ssrc[i] for entry i. An entry's
 * @packets and @octets are that count's sums over the CPUs when the entry
 * was claimed (its base: a claimed index may have counted for an earlier
 * assignment), so what was sent to the slot of the SSRC since is the sums
 * now minus the base (relay_kernel_ssrc_counts). The base is written before
 * the entry is VALID, and no CPU counts into ssrc[i] before it sees it
 * VALID, so the count is exact (but for a packet of the slot's previous
 * assignment still in flight while the slot is reassigned, as for every
 * per-slot counter). All are modulo 2^32, as RTCP's.
 * With every entry in use by other SSRCs, the slot gets the packets of a
 * further SSRC unswitched and unrewritten (sent, not dropped, whatever its
 * limit, when sequence numbers are rewritten), each counted in
 * RELAY_STAT_SEQ_FULL, and none counted in packets/octets.
 */
#define RELAY_SSRC_VALID         (1ULL << 63)
#define RELAY_SSRC_BUSY          (1ULL << 62)
#define RELAY_SSRC_ID(gen, ssrc) (((__u64)(__u16)(gen) << 32) | (__u32)(ssrc))
#define RELAY_SSRC_ID_GEN(id)    ((__u16)((id) >> 32))

struct relay_ssrc_state {
	__u64 id;          /* RELAY_SSRC_VALID | RELAY_SSRC_ID (gen, ssrc) */
	struct sw_sub sw;  /* switch state (switch.h) */
	__u32 dropped;     /* RTP packets dropped for the limit while
                                 * RUNNING: a copy's seq is the packet's minus
                                 * this (prio_out_seq) */
	__u32 packets;     /* the base of the entry's sent packets: the sum
	                   * over the CPUs of sub_stats' ssrc[i].packets when
	                   * it was claimed (see above) */
	__u32 octets;      /* the same for ssrc[i].octets */
	struct seqlog log; /* the runs it dropped: NACKed numbers map back
                            * to originals (seqlog.h) */
};

struct relay_sub_ssrcs {
	struct relay_ssrc_state e[RELAY_SSRCS_PER_SUB];
};

/* Global per-CPU counters ("stats" map index). */
enum relay_stat {
	RELAY_STAT_MATCHED = 0, /* UDP/IPv4 and UDP/IPv6 packets to the
	                         * stream's port */
	RELAY_STAT_PASSED,      /* to the port but not forwardable by the kernel
                                 * (IP options, IPv6 extension headers,
                                 * fragments, truncated); passed up */
	RELAY_STAT_CLONE_ERRORS, /* bpf_clone_redirect or header rewrite failed */
	RELAY_STAT_EVENTS,       /* events sent to userspace */
	RELAY_STAT_EVENT_ERRORS, /* bpf_perf_event_output failed: userspace loses it */
	RELAY_STAT_SEQ_FULL,   /* no sub_ssrcs entry for a (slot, SSRC): a copy
                                 * sent unswitched, unrewritten (not dropped) */
	RELAY_STAT_CONSUMED,   /* with consume: packets not passed up */
	RELAY_STAT_FRAGMENTED, /* datagrams to the port that came fragmented
                                 * (counted at their first fragment) */
	RELAY_STAT_FRAG_USER,  /* of those, datagrams handed to userspace for
                                 * the subscribers it serves (RELAY_EVENT_FRAGMENT) */
	RELAY_STAT_RTCP,       /* RTCP multiplexed on the port (sw_is_rtcp):
                                 * never fanned out, always passed up */
	RELAY_STAT_LOCAL,      /* with local_sport: the element's own buffers
                                 * taken on lo */
	RELAY_STAT_LOCAL_MTU,  /* of those, left to userspace for every slot:
                                 * larger than local_mtu */
	RELAY_STAT_NOT_LOCAL,  /* to the port but not to a local_addrs address:
	                        * passed on untouched (transit) */
	RELAY_STAT_BAD_CSUM,   /* bad IPv4 header checksum, or an IPv6 UDP
	                        * checksum of 0 (RFC 8200: invalid): passed
	                        * on untouched (the stack drops it) */
	RELAY_STAT_REJECTED_SOURCE, /* from a sender that may not publish:
	                             * dropped */
	RELAY_STAT_SOURCE_LATCHED,  /* times a sender took the latch */
	RELAY_STAT_IPV6,   /* of MATCHED, the UDP/IPv6 ones */
	/* Packets classified, by the rule that gave their priority ... */
	RELAY_STAT_RULE_0, /* + enum prio_rule */
	/* ... and by priority. */
	RELAY_STAT_PRIO_0 = RELAY_STAT_RULE_0 + PRIO_N_RULES, /* + priority */
	RELAY_STAT_MAX = RELAY_STAT_PRIO_0 + PRIO_MAX + 1
};

/* A fragmented datagram: its first fragment (the one with the UDP header)
 * is handled as a packet, and the slots that got a kernel copy of it are
 * remembered; its other fragments go to exactly those slots, with the
 * Ethernet and IP headers rewritten (the UDP checksum, in the first
 * fragment, was updated for the whole datagram). */
struct relay_frag_key {
	__u32 saddr; /* be */
	__u32 daddr; /* be */
	__u16 id;    /* IP identification, be */
	__u16 pad;
};

struct relay_frag {
	__u64 slots[RELAY_MAX_SUBS / 64]; /* bit per slot */
	__u32 pass_up; /* userspace serves some of them: every
                                 * fragment goes up (even with consume), for
                                 * the socket to reassemble the datagram */
	__u32 pad;
};

/* Event flags. */
#define RELAY_EVENT_SEQ \
	0x1 /* the packet is RTP and sequence numbers are
                                 * rewritten: write each entry's seq at
                                 * payload bytes 2-3 */
#define RELAY_EVENT_FRAGMENT \
	0x2 /* the packet is a datagram's first
                                         * fragment: the record holds its first
                                         * frag_avail payload bytes; the
                                         * datagram itself comes up whole to
                                         * the stream's socket, to be sent to
                                         * the entries then */

/* One slot userspace sends the packet to. */
struct relay_event_entry {
	__u16 slot;
	__u16 seq; /* host order; with RELAY_EVENT_SEQ only */
};

/* A record on "events": this header, n_entries entries, then the whole
 * packet (from the Ethernet header). */
struct relay_event {
	__u32 flags;
	__u16 payload_off; /* UDP payload offset in the packet */
	__u16 payload_len; /* UDP payload length */
	__u16 n_entries;
	__u16 frag_avail; /* RELAY_EVENT_FRAGMENT: payload bytes present */
	__u16 pad[2];
};

/* The scratch map's value: an event under construction. */
struct relay_event_buf {
	struct relay_event hdr;
	struct relay_event_entry entries[RELAY_MAX_SUBS];
};

#endif /* __EBPF_RELAY_H__ */
