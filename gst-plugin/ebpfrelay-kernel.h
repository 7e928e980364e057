/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libbpf glue of ebpfrelaysink: load relay.bpf.c for one stream port,
 * attach it to interfaces, edit subscriber slots, read counters and events.
 * Kept apart from GStreamer code; errors come back as GError. */
#ifndef __EBPF_RELAY_KERNEL_H__
#define __EBPF_RELAY_KERNEL_H__

#include <glib.h>
#include "ebpfrelay-addr.h"
#include "ebpfrelay-bpf-error.h"
#include "relay.h"

G_BEGIN_DECLS

typedef struct _RelayKernel RelayKernel;

/* Called for each packet the kernel left to userspace: send @payload
 * (@ev->payload_len bytes) to the @ev->n_entries slots in @entries, each
 * with its own RTP sequence number when @ev->flags has RELAY_EVENT_SEQ.
 * With RELAY_EVENT_FRAGMENT, @payload holds only the first
 * @ev->frag_avail bytes: the datagram comes up whole to the socket. */
typedef void (*RelayKernelEventFunc) (const struct relay_event * ev,
    const struct relay_event_entry * entries, const guint8 * payload,
    gpointer user_data);

RelayKernel *relay_kernel_new (guint16 port, RelayKernelEventFunc func,
    gpointer user_data, GError ** error);
gboolean relay_kernel_attach (RelayKernel * k, const gchar * ifname,
    GError ** error);
/* Detaches from every interface and frees all kernel objects. */
void relay_kernel_free (RelayKernel * k);

/* Writes @sub (state, addresses and limit; seq_flag and gen are kept
 * here) into @slot without a reader ever seeing a half-written slot in a
 * forwarding state. When the slot was empty it starts clean: counters
 * zeroed, no per-SSRC state (sequence offsets, switch state, SR counts). */
gboolean relay_kernel_set_slot (RelayKernel * k, guint slot,
    const struct relay_sub *sub);
/* Changes the priority limit of a non-empty slot: applies from the next
 * packet, in either state. */
gboolean relay_kernel_set_limit (RelayKernel * k, guint slot, guint8 limit);
/* The slot's burst flag (bpf/relay.h, keyframe-cache): SSRCs it starts
 * from now on start RUNNING (@burst) or as switch.h says. */
gboolean relay_kernel_set_burst (RelayKernel * k, guint slot, gboolean burst);
gboolean relay_kernel_clear_slot (RelayKernel * k, guint slot);
gboolean relay_kernel_set_n_slots (RelayKernel * k, guint n_slots);
/* The codec of each payload type (enum prio_codec), the frame marking
 * extension id (0: none) and whether sequence numbers are rewritten. */
gboolean relay_kernel_set_priority_config (RelayKernel * k,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id, gboolean rewrite_seq);

void relay_kernel_slot_counters (RelayKernel * k, guint slot,
    guint64 * packets, guint64 * bytes, guint64 * prio_dropped);
/* Packets of @slot held back while it waited for a key frame (switch.h
 * SW_HOLD; not in prio_dropped), summed over the CPUs. */
void relay_kernel_slot_held (RelayKernel * k, guint slot, guint64 * held);
/* The switch states (bpf/switch.h) of @slot's current assignment, one
 * per SSRC it has seen, into @out (at most @max); returns how many. */
guint relay_kernel_slot_switch (RelayKernel * k, guint slot,
    struct sw_sub * out, guint max);
/* What the kernel decided for RTP SSRC @ssrc and @slot's current
 * assignment (struct relay_ssrc_state): packets and RTP payload octets sent
 * (by the kernel or named in events for userspace to send; modulo 2^32,
 * as an SR's counts), packets dropped for the limit (the sequence offset:
 * a copy's seq is the packet's minus this) and the switch state (enum
 * sw_state). Any pointer may be NULL. FALSE when the slot is empty or has
 * no state for @ssrc (it saw no packet of it, or its table was full). A
 * snapshot: the kernel adds to it meanwhile. */
gboolean relay_kernel_ssrc_counts (RelayKernel * k, guint slot,
    guint32 ssrc, guint32 * packets, guint32 * octets, guint32 * dropped,
    guint8 * state);
/* What @slot was sent of @ssrc, for its NACKs (bpf/seqlog.h): a
 * consistent copy of its log and its dropped count. FALSE: no state. */
gboolean relay_kernel_ssrc_log (RelayKernel * k, guint slot, guint32 ssrc,
    struct seqlog *log, guint32 * dropped);
/* The SSRCs @slot's current assignment has state for, into @ssrcs;
 * returns how many. */
guint relay_kernel_slot_ssrcs (RelayKernel * k, guint slot,
    guint32 ssrcs[RELAY_SSRCS_PER_SUB]);
void relay_kernel_global_stats (RelayKernel * k, guint64 out[RELAY_STAT_MAX]);
/* One of the global counters (enum relay_stat), summed over the CPUs. */
guint64 relay_kernel_stat (RelayKernel * k, guint idx);

/* consume: the program uses up the packets it forwards (the last kernel
 * copy is the packet itself); none goes up to the stream's socket. */
gboolean relay_kernel_set_consume (RelayKernel * k, gboolean consume);
/* @sport not 0: the program sits on lo for the element's own buffers
 * (ebpfrelay-local.h), sent from UDP port @sport (host order): it takes
 * only packets from that port and always consumes them; it clones those
 * of at most @mtu bytes (IP; 0: any) and leaves larger ones to userspace
 * for every slot. */
gboolean relay_kernel_set_local (RelayKernel * k, guint16 sport, guint mtu);
/* The IP header of the kernel's copies (bpf/relay.h RELAY_IP_*), as
 * multiudpsink's qos-dscp, ttl and ttl-mc give it to its datagrams:
 * @dscp (0..63; -1: the TOS / traffic class as the packet came) in the
 * upper 6 bits, the ECN bits kept; TTL / hop limit @ttl to a unicast
 * subscriber, @ttl_mc to a group (0: that copy is sent by userspace). */
gboolean relay_kernel_set_ip_opts (RelayKernel * k, gint dscp, guint ttl,
    guint ttl_mc);
/* The stream's RTP clock rate (from the caps; 0: unknown), for the
 * upstream jitter the kernel keeps. */
gboolean relay_kernel_set_clock_rate (RelayKernel * k, guint32 clock_rate);

/* The relay's own addresses (host order): only datagrams to one are
 * forwarded (local_addrs). Replaces the set; TRUE when it is in place. */
gboolean relay_kernel_set_local_addrs (RelayKernel * k, const guint32 * addrs,
    guint n);
/* The same for IPv6 (local_addrs6): @n addresses of 16 bytes each,
 * network order. */
gboolean relay_kernel_set_local_addrs6 (RelayKernel * k, const void *addrs,
    guint n);
/* The publisher lock (relay.h RELAY_SRC_*, ebpfrelay-sources.h): @n
 * allowed senders, IPv4 or IPv6 (port 0: any), the latch and its
 * timeout; forgets the latched sender. */
gboolean relay_kernel_set_sources (RelayKernel * k, const RelayAddr * addrs,
    guint n, gboolean latch, guint timeout_ms);
/* The sender the kernel latched onto into @out (IPv4 or IPv6): FALSE
 * when none. */
gboolean relay_kernel_latched (RelayKernel * k, RelayAddr * out);

/* What the relay received of upstream SSRC @ssrc, counted by the kernel
 * once per packet (struct relay_stream; RFC 3550 A.1, A.3, A.8), also
 * with pass-original=false, when userspace sees none of it. */
typedef struct
{
  guint32 received;             /* packets counted (duplicates too) */
  guint32 base_seq;             /* the first counted sequence number */
  guint32 cycles;               /* wraps x 65536 */
  guint32 ext_highest_seq;      /* cycles + highest sequence number */
  guint32 jitter;               /* A.8, RTP timestamp units (0 without a
                                 * clock rate) */
  guint32 bad;                  /* packets of a jump not counted */
} RelayKernelUpstream;

/* FALSE (and @out zero) when the kernel counted no packet of @ssrc (or
 * forgot it: the map is an LRU of RELAY_MAX_FRAME_SSRCS SSRCs). A
 * snapshot: the kernel counts on meanwhile. */
gboolean relay_kernel_upstream_stats (RelayKernel * k, guint32 ssrc,
    RelayKernelUpstream * out);
/* Up to @max of the upstream SSRCs the kernel keeps statistics of, into
 * @ssrcs; returns how many. */
guint relay_kernel_upstream_ssrcs (RelayKernel * k, guint32 * ssrcs,
    guint max);

/* Readable when events wait; relay_kernel_poll() then handles them (the
 * callback runs in the caller's thread). */
int relay_kernel_event_fd (RelayKernel * k);
/* Hands every pending event to the event function. Never blocks. Returns
 * 0, or a negative error (not a count: libbpf's perf_buffer__consume). */
gint relay_kernel_poll (RelayKernel * k);
guint64 relay_kernel_lost_events (RelayKernel * k);

/* Names of the interfaces attached to, and how (tcx or tc). */
gchar *relay_kernel_describe (RelayKernel * k);
/* The smallest MTU of the interfaces attached to (0: unknown). */
guint relay_kernel_min_mtu (RelayKernel * k);

G_END_DECLS
#endif
