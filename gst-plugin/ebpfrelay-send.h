/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-send: what ebpfrelaysink sends from userspace. No GStreamer
 * code: GLib only, with the kernel helper's event types
 * (ebpfrelay-kernel.h) and the subscriber table (ebpfrelay-clients.h).
 *
 * Owns: the sendmmsg batch (one datagram to many subscribers, each copy
 * with its own RTP sequence number); userspace mode's forwarding
 * (relay_sender_forward: the same classifier and decisions as the kernel,
 * and the VP8 state per SSRC it needs); kernel mode's events (the slots
 * the kernel left to userspace for a packet) and the fragmented datagrams
 * they announced, kept until the datagram comes up whole.
 *
 * Lock: none of its own. Every call holds the same lock as the
 * subscriber table it reads the slots of (ebpfrelaysink:
 * GST_EBPF_RELAY_SINK_LOCK), held across the whole send: a slot handed
 * from userspace to the kernel must not be served twice or not at all.
 */
#ifndef __EBPF_RELAY_SEND_H__
#define __EBPF_RELAY_SEND_H__

#include <glib.h>

#include "ebpfrelay-clients.h"
#include "ebpfrelay-kernel.h"
#include "ebpfrelay-rtcp.h"

G_BEGIN_DECLS

/* A fragmented datagram's event waits this long, and at most this many
 * of them, for the datagram to come up whole. */
#define RELAY_SEND_FRAG_PENDING_MAX 64
#define RELAY_SEND_FRAG_PENDING_US (2 * G_TIME_SPAN_SECOND)

typedef struct _RelaySender RelaySender;

/* Sends to the slots of @clients (borrowed, outlives the sender). */
RelaySender *relay_sender_new (RelayClients * clients, RelayLogFunc log,
    gpointer log_data);
void relay_sender_free (RelaySender * s);

/* Starting: no fragment unsent so far, no VP8 state. */
void relay_sender_start (RelaySender * s);
/* Stopping: forgets the pending fragments (their slots are gone). */
void relay_sender_stop (RelaySender * s);
/* Who holds back joiners' copies for their key-frame burst (NULL: none;
 * ebpfrelay-kfburst.h). */
struct _RelayKfBurst;
void relay_sender_set_kfburst (RelaySender * s,
    struct _RelayKfBurst *kfburst);
/* The socket copies leave from (-1: none yet). */
void relay_sender_set_fd (RelaySender * s, int fd);
/* Copies to subscribers of @family (AF_INET, AF_INET6) leave from @fd
 * (borrowed; -1: from the stream's socket as above). */
void relay_sender_set_family_fd (RelaySender * s, int family, int fd);
/* The socket copies to @family leave from now (-1: none yet). */
int relay_sender_family_fd (RelaySender * s, int family);
/* Told of every socket copies leave from (@opened) and of the sender's
 * own that it closes (!@opened): where the multiudpsink options go
 * (ebpfrelay-udpopts). */
typedef void (*RelaySenderSocketFunc) (int fd, gboolean opened,
    gpointer user_data);
void relay_sender_set_socket_func (RelaySender * s,
    RelaySenderSocketFunc func, gpointer user_data);

/* How packets are classified in userspace mode (bpf/priority.h): the
 * codec of each payload type, the frame marking id (0: none) and whether
 * sequence numbers are rewritten. */
void relay_sender_set_priority (RelaySender * s,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id, gboolean rewrite_seq);
/* Kernel mode with @kernel (borrowed), the smallest @mtu of the
 * interfaces it is attached to (0: unknown); NULL: userspace mode. */
void relay_sender_set_kernel (RelaySender * s, RelayKernel * kernel,
    guint mtu);

/* Whether a datagram of @len bytes that reached the stream's socket may
 * have anything to send (relay_sender_send needs its bytes). */
gboolean relay_sender_wants (RelaySender * s, gsize len);
/* A datagram reached the stream's socket. Userspace mode: sends it to
 * every slot whose limit lets it through. Kernel mode: the kernel has
 * sent it already, except a datagram that came as fragments, whose event
 * named the slots userspace serves (the event may still be waiting:
 * looks). */
void relay_sender_send (RelaySender * s, const guint8 * data, gsize len);
/* Userspace mode's forwarding of @data to every slot, in either mode (a
 * buffer the kernel could not take: ebpfrelay-local). */
void relay_sender_forward (RelaySender * s, const guint8 * data, gsize len);
/* Kernel mode, a buffer that did not come through the TC hook: @data to
 * every subscriber as it is (no priority drop, no sequence rewrite). */
void relay_sender_send_all (RelaySender * s, const guint8 * data, gsize len);

/* Kernel mode: loads the kernel program for the stream's @port and
 * attaches it to every interface of @ifnames; its events (the slots the
 * kernel leaves to userspace for a packet) come to this sender, with the
 * lock held by relay_kernel_poll's caller. The caller owns the result
 * and hands it over with relay_sender_set_kernel. */
RelayKernel *relay_sender_open_kernel (RelaySender * s, guint16 port,
    gchar ** ifnames, GError ** error);
/* Forgets fragmented datagrams that did not come up whole in time (a
 * fragment was lost). */
void relay_sender_expire_fragments (RelaySender * s, gint64 now);
/* How many fragmented datagrams were never sent (expired or dropped). */
guint64 relay_sender_fragments_unsent (RelaySender * s);
/* The packets the userspace path classified, per priority (0-7). */
void relay_sender_priority_counts (RelaySender * s,
    guint64 out[PRIO_MAX + 1]);

/* What @c was sent of @ssrc (RTCP SR counts, RFC 3550 6.4.1: packets and
 * RTP payload octets, modulo 2^32). FALSE: nothing known, the sender's
 * counts stay. Kernel mode: the kernel's per-(slot, SSRC) counts, which
 * include the copies it left to userspace; userspace mode: its own; both
 * plus what key-frame bursts sent it (RelayClient.kf_sent). */
gboolean relay_sender_ssrc_counts (RelaySender * s, RelayClient * c,
    guint32 ssrc, guint32 * packets, guint32 * octets);

/* What @c was sent of @ssrc, for its NACKs (bpf/seqlog.h): its log, its
 * dropped count and whether its numbers are rewritten. FALSE: nothing
 * known (it never got that SSRC, or no room for it). Kernel mode: the
 * kernel's record of the slot; userspace mode: its own. */
gboolean relay_sender_ssrc_log (RelaySender * s, RelayClient * c,
    guint32 ssrc, struct seqlog *log, guint32 * dropped, gboolean * rewrite);
/* Sends @data to @c from the socket copies leave from, as one more copy
 * (a retransmission: not counted in @c's packets). FALSE, errno set: not
 * sent. */
gboolean relay_sender_send_one (RelaySender * s, RelayClient * c,
    const guint8 * data, gsize len);
/* Kernel mode: hands @rtcp the kernel's receiver statistics of every
 * upstream SSRC (relay_kernel_upstream_stats, counted once per packet at
 * ingress, also the packets the kernel consumes), with @clock_rate (0:
 * unknown) for the jitter from now on; TRUE. Userspace mode: does nothing
 * (its statistics come from render); FALSE. */
gboolean relay_sender_upstream_stats (RelaySender * s, EbrRtcp * rtcp,
    guint32 clock_rate);

G_END_DECLS
#endif
