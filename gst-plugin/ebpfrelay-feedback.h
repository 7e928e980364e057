/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-feedback: ebpfrelaysink's feedback plane (RTCP) as mechanism:
 * the RTCP socket, the RTCP receive path, dispatch to the logic of
 * ebpfrelay-rtcp.h, and the sends: the sender's SRs down to every
 * subscriber (counts rewritten per subscriber), the relay's own RRs and
 * the throttled key-frame requests up to the sender. Each subscriber's SRs
 * go to its RTCP port (RelayClient.rtcp_port: media port + 1 by default,
 * what its clients entry, add-full or subscription named, its media port
 * for rtcp-mux). GLib, GIO and
 * GStreamer's RTP library; no pads.
 *
 * Owns: the EbrRtcp of a running relay, the RTCP socket on rtcp-port (or
 * the subscription channel's, when control-port is the same port: the
 * channel's RTCP APP "EBRS" packets stay the channel's, every other
 * datagram comes here), a thread of its own (its socket, the RR timer),
 * the map from subscribers to ebpfrelay-rtcp viewer ids, the upstream
 * SSRCs seen, and the three properties rtcp-port, upstream-rtcp and
 * keyframe-request-interval (installed on the element's class).
 *
 * Who is the sender (the attribution rule, see also ebpfrelay-rtcp.h for
 * the viewers'): a valid compound whose source IPv4 address is the
 * sender's (the source address of the media the relay receives, from
 * udpsrc's GstNetAddressMeta, or the host of upstream-rtcp) that starts
 * with an SR or an RR (RFC 3550 6.1) is the sender's when no subscriber
 * has that address, or, when one has, when it starts with an SR (viewers
 * send RRs first). Everything else is a
 * viewer's (ebr_rtcp_viewer_handle: by address and SSRC); what no viewer
 * is found for is dropped and counted (rtcp-unknown). The relay's RTCP to
 * the sender goes to upstream-rtcp when set, else to the address the
 * sender's RTCP last came from (nothing before either is known).
 *
 * Lock: its owner's one lock (ebpfrelaysink: GST_EBPF_RELAY_SINK_LOCK),
 * given at relay_feedback_new, the same that protects the subscriber
 * table and the sender it reads. Functions marked "takes the lock" are
 * called without it; every other one with it. Its thread and the
 * subscription channel's thread (shared port) take it for each datagram.
 */
#ifndef __EBPF_RELAY_FEEDBACK_H__
#define __EBPF_RELAY_FEEDBACK_H__

#include <gst/gst.h>

#include "ebpfrelay-clients.h"
#include "ebpfrelay-control-server.h"
#include "ebpfrelay-send.h"
#include "ebpfrelay-kfburst.h"
#include "ebpfrelay-sources.h"

G_BEGIN_DECLS

#define RELAY_FEEDBACK_DEFAULT_RTCP_PORT -1
#define RELAY_FEEDBACK_DEFAULT_KEYFRAME_MS 500
/* The relay's RR to the sender: RFC 3550 6.2's deterministic interval
 * (the relay is the sender's one receiver), randomised by [0.5, 1.5]. */
#define RELAY_FEEDBACK_RR_INTERVAL_MS 1000

/* Property ids, from the element's first id given to install. */
enum
{
  RELAY_FEEDBACK_PROP_RTCP_PORT,
  RELAY_FEEDBACK_PROP_UPSTREAM_RTCP,
  RELAY_FEEDBACK_PROP_KEYFRAME_INTERVAL,
  RELAY_FEEDBACK_PROP_NACK_CACHE,       /* ebpfrelay-repair.h */
  RELAY_FEEDBACK_PROP_RTX_MAP,  /* ebpfrelay-repair.h */
  RELAY_FEEDBACK_PROP_KFBURST,  /* RELAY_KFBURST_N_PROPS of ebpfrelay-kfburst.h */
  RELAY_FEEDBACK_N_PROPS = RELAY_FEEDBACK_PROP_KFBURST + RELAY_KFBURST_N_PROPS
};

typedef struct _RelayFeedback RelayFeedback;

RelayFeedback *relay_feedback_new (GMutex * lock, RelayClients * clients,
    RelaySender * sender, RelayLogFunc log, gpointer log_data);
void relay_feedback_free (RelayFeedback * f);

void relay_feedback_install_properties (GObjectClass * klass, guint first_id);
void relay_feedback_set_property (RelayFeedback * f, guint id,
    const GValue * value);
void relay_feedback_get_property (RelayFeedback * f, guint id, GValue * value);

/* Takes the lock. Starting, after the subscription channel (@control on
 * @control_port, NULL: none): opens the RTCP port of the stream on
 * @stream_port (or shares @control's) and starts the thread; @originals:
 * every packet of the stream reaches relay_feedback_render (the packet
 * cache of loss repair needs them, ebpfrelay-repair.h). Off
 * (rtcp-port=0): TRUE, nothing opened. The error names the property. */
gboolean relay_feedback_start (RelayFeedback * f, guint16 stream_port,
    RelayControlServer * control, guint control_port, gboolean originals,
    GError ** error);
/* Takes the lock (its thread's work does): before the channel goes. */
void relay_feedback_stop (RelayFeedback * f);

/* The clock rate and the codecs of the stream, from its caps. */
void relay_feedback_set_caps (RelayFeedback * f, const GstCaps * caps);
/* A buffer that reached the sink. RTCP (RFC 5761 on the media port): handled
 * as if it came to the RTCP port, TRUE: it is no media, not to be sent. RTP:
 * counted in the receiver statistics of its SSRC, FALSE. */
gboolean relay_feedback_render (RelayFeedback * f, GstBuffer * buffer);

/* Takes the lock. A subscriber came (the relay asks the sender for a key
 * frame of each video SSRC, throttled) or went. */
void relay_feedback_client_added (RelayFeedback * f, RelayClient * c);
void relay_feedback_client_removed (RelayFeedback * f, RelayClient * c);
/* With the lock (the table's limit_lowered callback): @c's priority limit
 * was lowered, it gets more; the relay asks for a key frame of each video
 * SSRC as on a join (the same throttle), counted as keyframe-requests-limit. */
void relay_feedback_limit_lowered (RelayFeedback * f, RelayClient * c);
/* With the lock (the table's RTCP listener, set by relay_feedback_new):
 * @c's RTCP port changed; its RTCP is attributed by the new one from now
 * on. */
void relay_feedback_rtcp_port_changed_cb (RelayClient * c, gpointer f);

/* An adaptive subscriber's limit was moved (ebpfrelay-adapt.h) from
 * @from to @to for @reason ("loss", "nack", "jitter", "probe-failed",
 * "probe"); called without the lock, from the feedback thread or the
 * subscription channel's (shared port). */
typedef void (*RelayFeedbackSwitchFunc) (const gchar * host, gint port,
    guint from, guint to, const gchar * reason, gpointer user_data);
void relay_feedback_set_switch_notify (RelayFeedback * f,
    RelayFeedbackSwitchFunc func, gpointer user_data);

/* rtcp-* fields of a subscriber's structure, of the element's. */
void relay_feedback_add_client_stats (RelayFeedback * f, GstStructure * s,
    RelayClient * c);
void relay_feedback_add_stats (RelayFeedback * f, GstStructure * s);

/* The publisher lock (borrowed, NULL: none): an SR or RR compound from a
 * host it does not allow (relay_sources_allows_host) is not the sender's
 * (counted in rtcp-rejected-source, never sent on), and the relay's RTCP
 * goes to the sender only while its host is allowed (or to
 * upstream-rtcp). */
void relay_feedback_set_sources (RelayFeedback * f, RelaySources * sources);
/* The publisher changed (the latch; IPv4 or IPv6): its media's source
 * address from now on; a sender RTCP address of another host is
 * forgotten. */
void relay_feedback_set_publisher (RelayFeedback * f, const RelayAddr * addr);

G_END_DECLS
#endif
