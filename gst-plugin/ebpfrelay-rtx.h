/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-rtx: RFC 4588 retransmissions in SSRC-multiplexed mode, for
 * subscribers whose media payload type has an RTX payload type.
 *
 * Owns the map media PT -> RTX PT (rtx-payload-type-map, the format and
 * direction of rtprtxsend's and rtprtxreceive's payload-type-map,
 * "application/x-rtp-pt-map, 96=(uint)97") and, per (subscriber, media
 * SSRC), the RTX stream: an SSRC drawn at random when the subscriber's
 * first retransmission of that SSRC is built, never one of the media SSRCs
 * the caller knows nor another RTX SSRC of that subscriber, kept for as long
 * as the subscriber is (redrawn only if a media SSRC later turns out to be
 * the same), and its own sequence numbers, contiguous from a random start.
 * An RTX packet is the packet the subscriber would have received (as
 * ebpfrelay-nack rebuilt it, its own sequence number included) with PT,
 * sequence number and SSRC of the RTX stream, its padding removed, and the
 * payload prefixed by the OSN, that sequence number (RFC 4588 section 4):
 * same timestamp, marker, CSRCs and header extensions. Parsed and written
 * with GstRTPBuffer.
 *
 * GLib and GStreamer's RTP library; no lock: the caller serialises
 * (ebpfrelay-repair, under its owner's lock).
 */
#ifndef __EBPF_RELAY_RTX_H__
#define __EBPF_RELAY_RTX_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _EbrRtx EbrRtx;

/* What an RTX packet adds to the packet it carries: the OSN. */
#define EBR_RTX_OVERHEAD 2

EbrRtx *ebr_rtx_new (void);
void ebr_rtx_free (EbrRtx * x);

/* Checks and takes @map (NULL: none; RTX off). Field names are media
 * payload types ("96"), values the RTX payload types ((uint) or (int)), all
 * 0..127, every RTX PT distinct and none of them a media PT of the map.
 * FALSE and @error naming the property otherwise (the map is unchanged). */
gboolean ebr_rtx_set_map (EbrRtx * x, const GstStructure * map,
    GError ** error);
/* Whether any media PT has an RTX PT. */
gboolean ebr_rtx_enabled (EbrRtx * x);
/* The RTX PT of media PT @pt, -1 for none. */
gint ebr_rtx_pt_of (EbrRtx * x, guint pt);

/* Tells whether @ssrc is a media SSRC of the stream. */
typedef gboolean (*EbrRtxIsMedia) (guint32 ssrc, gpointer user_data);

/* Builds into @out (room for @len + EBR_RTX_OVERHEAD) the RTX packet that
 * carries @pkt (@len bytes, a valid RTP packet as @viewer would have
 * received it) to @viewer and advances that RTX stream's numbering. 0 if
 * @pkt is no valid RTP packet or its PT has no RTX PT (nothing counted),
 * else the length. @is_media may be NULL. */
gsize ebr_rtx_build (EbrRtx * x, gconstpointer viewer, const guint8 * pkt,
    gsize len, EbrRtxIsMedia is_media, gpointer user_data, guint8 * out);

/* @viewer's RTX stream for media SSRC @ssrc: FALSE if it has none yet;
 * else its SSRC, the next sequence number and the packets sent on it. */
gboolean ebr_rtx_stream (EbrRtx * x, gconstpointer viewer, guint32 ssrc,
    guint32 * rtx_ssrc, guint16 * next_seq, guint64 * sent);
/* RTX packets built for @viewer, all SSRCs. */
guint64 ebr_rtx_sent (EbrRtx * x, gconstpointer viewer);
/* The subscriber went: its RTX streams go. */
void ebr_rtx_forget (EbrRtx * x, gconstpointer viewer);

G_END_DECLS
#endif
