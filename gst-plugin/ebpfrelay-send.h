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
/* The socket copies leave from (-1: none yet). */
void relay_sender_set_fd (RelaySender * s, int fd);

/* Userspace mode: sends @data to every slot whose limit lets it through,
 * classified with @codec_by_pt and frame marking id @fm_id (0: none);
 * with @rewrite_seq, sequence numbers stay contiguous per subscriber. */
void relay_sender_forward (RelaySender * s, const guint8 * data, gsize len,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id, gboolean rewrite_seq);

/* Kernel mode: the RelayKernelEventFunc, @user_data the sender. Sends the
 * packet to the slots the kernel named, or keeps a fragment's event for
 * relay_sender_send_fragment. */
void relay_sender_on_kernel_event (const struct relay_event *ev,
    const struct relay_event_entry *entries, const guint8 * payload,
    gpointer user_data);
/* @data came up whole: if the kernel left it to userspace as fragments,
 * sends it to the slots named then. FALSE when no event matches. */
gboolean relay_sender_send_fragment (RelaySender * s, const guint8 * data,
    gsize len);
/* Forgets fragmented datagrams that did not come up whole in time (a
 * fragment was lost). */
void relay_sender_expire_fragments (RelaySender * s, gint64 now);
/* How many fragmented datagrams were never sent (expired or dropped). */
guint64 relay_sender_fragments_unsent (RelaySender * s);

G_END_DECLS
#endif
