/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-rtcp: the relay's feedback plane (RTCP) as logic only, no pads
 * and no element (the split of gst-plugins-good gst/rtpmanager: rtpsession.c
 * and rtpsource.c hold the logic, the element is separate). GLib and
 * GStreamer's RTP library (GstRTPBuffer, GstRTCPBuffer); every RTCP packet
 * is parsed and built with GstRTCPBuffer. Needs gst_init.
 *
 * What it owns (an EbrRtcp, one per relay element):
 * - receiver statistics of the upstream stream, per SSRC (RFC 3550 A.1,
 *   A.3, A.8), from which the relay's own RR to the sender is built;
 * - the SRs the relay forwarded (SSRC, NTP middle 32 bits, when), so that a
 *   viewer's LSR/DLSR gives its RTT, and the sender's last SR per SSRC for
 *   the LSR/DLSR of the relay's own RR;
 * - the viewers' RTCP: who sent it (the rule below), their report blocks,
 *   RTT and key-frame requests, per viewer;
 * - the key-frame request throttle and the FIR sequence numbers, per media
 *   SSRC.
 * It owns no socket: the caller reads and sends datagrams.
 *
 * Locking: an EbrRtcp is not thread-safe. The caller serialises every call
 * on one EbrRtcp (the element holds its own lock around them). Functions
 * that take no EbrRtcp (ebr_rtcp_is_rtcp, ebr_rtcp_parse_feedback,
 * ebr_rtcp_rewrite_sr) keep no state and may be called from any thread.
 *
 * Times are GstClockTime (ns) of one monotonic clock chosen by the caller.
 *
 * Who sent a viewer's RTCP. A stock viewer (gst-launch udpsrc + udpsink)
 * sends RTCP from an ephemeral port, so neither its media port nor media
 * port + 1 can be relied on. A compound's sender SSRC is the SSRC of its
 * first SR/RR, else the sender SSRC of its first feedback packet. It is
 * attributed, in this order, to:
 *  1. the viewer already bound to (source address, sender SSRC);
 *  2. the one viewer whose media address is the source address and whose
 *     RTCP port is the source port: by default its media port + 1 (RFC
 *     3550's convention), else what its clients entry, add-full or its
 *     subscription named (ebr_rtcp_viewer_set_rtcp_port), which is its
 *     media port for RTCP multiplexed on it (RFC 5761). So a viewer that
 *     sends its RTCP from the port where it receives RTCP (symmetric RTCP,
 *     RFC 4961) is told apart from others at its address before its SSRC
 *     is known; a source port that is no viewer's RTCP port (two viewers
 *     naming the same one, or an ephemeral port) goes on to rule 3;
 *  3. the only viewer at the source address;
 *  4. the only viewer at the source address not bound to an SSRC yet;
 * and the SSRC is then bound to that viewer (learned from its first RTCP,
 * relearned when a lone viewer at an address restarts with a new SSRC).
 * Otherwise (several viewers at one address, none bound to that SSRC) the
 * packet is not attributed and only counted; ebr_rtcp_viewer_bind lets the
 * caller bind an SSRC it learned otherwise (e.g. the subscription channel
 * carries the viewer's SSRC).
 */
#ifndef __EBPF_RELAY_RTCP_H__
#define __EBPF_RELAY_RTCP_H__

#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/rtp/gstrtcpbuffer.h>

#include "ebpfrelay-addr.h"

G_BEGIN_DECLS

/* LiveKit's default; JVB uses 200 ms per receiver, Janus 1 s. */
#define EBR_RTCP_DEFAULT_KEYFRAME_INTERVAL (500 * GST_MSECOND)
/* Forwarded SRs remembered for RTT (per relay, all SSRCs together). */
#define EBR_RTCP_SR_HISTORY 64
/* Largest compound the relay builds. */
#define EBR_RTCP_MTU 1200

/* RFC 5761 4: a datagram on a multiplexed port is RTCP when it has version
 * 2, at least the 8 bytes of an RTCP header and SSRC, and its second byte
 * (RTCP packet type; for RTP the marker bit and the payload type) is in
 * 192..223. Such datagrams are never media. An RTP packet with payload
 * type 64..95 and the marker bit set has the same second byte (e.g. PT 72
 * with M=1 looks like an SR, 200; 72..76 like SR, RR, SDES, BYE, APP): RFC
 * 5761 forbids those payload types on a multiplexed port, and this rule
 * takes them for RTCP. */
gboolean ebr_rtcp_is_rtcp (const guint8 * data, gsize len);

/* --- a viewer's compound, parsed ------------------------------------------- */

/* One report block (RFC 3550 6.4.1), about media SSRC @ssrc. */
typedef struct
{
  guint32 ssrc;
  guint8 fraction_lost;         /* /256 */
  gint32 cumulative_lost;       /* 24-bit signed, sign-extended */
  guint32 ext_highest_seq;
  guint32 jitter;               /* RTP timestamp units */
  guint32 lsr;                  /* NTP middle 32 bits of the last SR, 0: none */
  guint32 dlsr;                 /* 1/65536 s since that SR */
} EbrRtcpReportBlock;

typedef enum
{
  EBR_RTCP_KEYFRAME_PLI = 1,    /* RFC 4585 6.3.1: PSFB FMT 1 */
  EBR_RTCP_KEYFRAME_FIR = 4,    /* RFC 5104 4.3.1: PSFB FMT 4 */
} EbrRtcpKeyframeKind;

typedef struct
{
  guint32 media_ssrc;
  EbrRtcpKeyframeKind kind;
  guint8 fir_seq;               /* FIR only: the requester's command number */
} EbrRtcpKeyframeRequest;

/* One sequence number a generic NACK (RFC 4585 6.2.1) names: its PID, or
 * PID + i + 1 for bit i of its BLP. In the viewer's own numbering. */
typedef struct
{
  guint32 media_ssrc;
  guint16 seq;
} EbrRtcpNack;

typedef struct
{
  gboolean has_sender_ssrc;
  guint32 sender_ssrc;          /* see "Who sent a viewer's RTCP" */
  GArray *blocks;               /* EbrRtcpReportBlock, from RRs and SRs */
  GArray *keyframes;            /* EbrRtcpKeyframeRequest */
  GArray *nacks;                /* EbrRtcpNack */
  guint ignored;                /* packets of any other kind (SDES, BYE,
                                 * APP, XR, other feedback) */
} EbrRtcpFeedback;

void ebr_rtcp_feedback_init (EbrRtcpFeedback * fb);
void ebr_rtcp_feedback_clear (EbrRtcpFeedback * fb);
/* Parses one datagram of a viewer into @fb (initialised; its arrays are
 * emptied first). Compound and reduced-size (RFC 5506) RTCP are accepted.
 * FALSE, @fb empty, when it is not valid RTCP. Valid RTCP, here and in
 * ebr_rtcp_rewrite_sr and ebr_rtcp_sender_rtcp: what
 * gst_rtcp_buffer_validate_data_reduced accepts, whose every packet
 * GstRTCPBuffer's iteration reaches, and whose SRs and RRs hold their
 * sender info and the report blocks their count says and whose RTPFB/PSFB
 * hold both SSRCs. */
gboolean ebr_rtcp_parse_feedback (const guint8 * data, gsize len,
    EbrRtcpFeedback * fb);

/* --- sender reports, down ------------------------------------------------------ */

/* What one viewer was sent of @ssrc: packets and RTP payload octets (RFC
 * 3550 6.4.1 sender's packet and octet count, modulo 2^32). FALSE: nothing
 * known about that SSRC for this viewer, the SR keeps the sender's counts. */
typedef gboolean (*EbrRtcpSentFunc) (guint32 ssrc, guint32 * packets,
    guint32 * octets, gpointer user_data);

/* A copy of @compound (the sender's RTCP, as received) for one viewer: the
 * packet and octet counts of each SR replaced by @sent's answer, every
 * other byte identical (SSRC, NTP and RTP timestamps, report blocks, SDES,
 * BYE, any other packet). NULL when @compound is not valid RTCP (see
 * ebr_rtcp_parse_feedback). */
GstBuffer *ebr_rtcp_rewrite_sr (GstBuffer * compound, EbrRtcpSentFunc sent,
    gpointer user_data);

/* --- the relay's state ---------------------------------------------------------- */

typedef struct _EbrRtcp EbrRtcp;

/* @relay_ssrc: the SSRC of the relay's own RTCP (RRs and key-frame
 * requests to the sender). @cname: the SDES CNAME those compounds carry
 * (RFC 3550 6.1), NULL for none. @keyframe_interval: at most one key-frame
 * request per media SSRC within it. */
EbrRtcp *ebr_rtcp_new (guint32 relay_ssrc, const gchar * cname,
    GstClockTime keyframe_interval);
void ebr_rtcp_free (EbrRtcp * r);

/* Upstream receiver statistics of one SSRC (RFC 3550 A.3). */
typedef struct
{
  guint32 ssrc;
  guint32 base_seq;
  guint32 cycles;               /* count of wraps, shifted: multiple of 65536 */
  guint32 ext_highest_seq;      /* cycles + highest seq */
  guint64 received;             /* packets counted (duplicates too, per A.1) */
  guint64 expected;             /* ext_highest_seq - base_seq + 1 */
  gint64 lost;                  /* expected - received (negative: duplicates) */
  guint32 jitter;               /* A.8, RTP timestamp units */
  guint64 bad;                  /* packets of a large jump not (yet) accepted */
  gboolean has_sr;
  guint32 lsr;                  /* NTP middle 32 bits of its last SR */
} EbrRtcpSourceStats;

/* One RTP packet the relay received from the sender at @arrival. @clock_rate
 * (from the caps; 0: unknown, no jitter) is the RTP clock of its payload
 * type. FALSE when it is not an RTP packet or was not counted (the first
 * packet of a large sequence jump, RFC 3550 A.1; the second in sequence
 * re-syncs). No probation: the sender is the one the relay listens to. */
gboolean ebr_rtcp_source_update (EbrRtcp * r, GstBuffer * rtp,
    guint32 clock_rate, GstClockTime arrival);
gboolean ebr_rtcp_source_get_stats (EbrRtcp * r, guint32 ssrc,
    EbrRtcpSourceStats * stats);
/* The statistics of @ssrc as counted elsewhere (the kernel, when it
 * consumes the packets: relay_kernel_upstream_stats), replacing what
 * ebr_rtcp_source_update counted; the RR's fraction lost still comes from
 * the difference to the previous RR (a new @base_seq: the sender
 * restarted, the difference starts again). @jitter in RTP units. */
void ebr_rtcp_source_set (EbrRtcp * r, guint32 ssrc, guint16 base_seq,
    guint32 cycles, guint16 max_seq, guint64 received, guint32 jitter);

/* The sender's compound @compound arrived at @now and is forwarded to the
 * viewers at once: each SR in it is remembered (for the relay's RR and for
 * the viewers' RTT). Returns how many SRs it held; 0, nothing remembered,
 * when it is not valid RTCP (see ebr_rtcp_parse_feedback). */
guint ebr_rtcp_sender_rtcp (EbrRtcp * r, GstBuffer * compound,
    GstClockTime now);

/* The relay's RR to the sender at @now: one report block per upstream SSRC
 * that sent RTP (at most 31), fraction lost since the previous RR, LSR/DLSR
 * from that SSRC's last SR; then SDES CNAME when configured. NULL when
 * there is nothing to report. */
GstBuffer *ebr_rtcp_build_rr (EbrRtcp * r, GstClockTime now);

/* RTT from a report block about @ssrc received at @now: now - (when the SR
 * named by @lsr was forwarded) - @dlsr. FALSE when @lsr is 0 or names no SR
 * the relay remembers forwarding. Clamped at 0 (DLSR rounding). */
gboolean ebr_rtcp_rtt (EbrRtcp * r, guint32 ssrc, guint32 lsr, guint32 dlsr,
    GstClockTime now, GstClockTime * rtt);

/* --- key-frame requests, up --------------------------------------------------- */

/* TRUE (and the request is accounted as sent at @now) when no key-frame
 * request for @media_ssrc went to the sender within the interval: many
 * viewers asking, and the relay asking for a late joiner, make one
 * request. FALSE: suppressed. */
gboolean ebr_rtcp_keyframe_should_send (EbrRtcp * r, guint32 media_ssrc,
    GstClockTime now);
/* Compounds to the sender: RR (relay SSRC, no report block), SDES CNAME when
 * configured, then a PLI, or a FIR whose command sequence number is one
 * more than the previous FIR for @media_ssrc (starting at 0, RFC 5104
 * 4.3.1.1). */
GstBuffer *ebr_rtcp_build_pli (EbrRtcp * r, guint32 media_ssrc);
GstBuffer *ebr_rtcp_build_fir (EbrRtcp * r, guint32 media_ssrc);

/* --- viewers ----------------------------------------------------------------- */

/* What the relay knows of one viewer's reception of one media SSRC. */
typedef struct
{
  EbrRtcpReportBlock block;     /* the last one received */
  GstClockTime received;        /* when */
  GstClockTime rtt;             /* GST_CLOCK_TIME_NONE: not known */
} EbrRtcpViewerReport;

typedef struct
{
  gboolean bound;
  guint32 ssrc;                 /* the viewer's RTCP SSRC, when bound */
  guint64 rtcp_packets;         /* datagrams attributed to it */
  guint64 report_blocks;
  guint64 plis;
  guint64 firs;
  guint64 nacks;                /* sequence numbers named */
  guint64 ignored;              /* packets of any other kind */
  guint n_reports;              /* media SSRCs reported on */
} EbrRtcpViewerStats;

/* Viewers are the caller's subscribers, named by @id (e.g. the slot);
 * @addr in network order, @port in host order (its media address); its
 * RTCP port is @port + 1 until set. Adding an existing id replaces it
 * (and forgets its binding and reports). */
void ebr_rtcp_viewer_add (EbrRtcp * r, guint id, guint32 addr, guint16 port);
/* The same for either family: @addr's host (its port is ignored). */
void ebr_rtcp_viewer_add_addr (EbrRtcp * r, guint id, const RelayAddr * addr,
    guint16 port);
/* Viewer @id's RTCP port (rule 2; host order, 0: none, @port: multiplexed).
 * FALSE: no such viewer. */
gboolean ebr_rtcp_viewer_set_rtcp_port (EbrRtcp * r, guint id,
    guint16 rtcp_port);
void ebr_rtcp_viewer_remove (EbrRtcp * r, guint id);
/* Binds @ssrc to viewer @id (rule 1). FALSE: no such viewer. */
gboolean ebr_rtcp_viewer_bind (EbrRtcp * r, guint id, guint32 ssrc);

/* One datagram from @addr:@port (network order, host order) read from the
 * relay's RTCP port (or the media port, ebr_rtcp_is_rtcp) at @now. Parses
 * it into @fb (initialised), attributes it, and accounts it to the viewer:
 * report blocks and their RTT, key-frame requests, NACKs. Returns the
 * viewer's id, or -1 (not valid RTCP, or not attributed; @fb is filled in
 * either case when valid). The caller then sends, for each key-frame
 * request in @fb that ebr_rtcp_keyframe_should_send allows, a PLI/FIR to
 * the sender; RRs are consumed, never forwarded. */
gint ebr_rtcp_viewer_handle (EbrRtcp * r, const guint8 * data, gsize len,
    guint32 addr, guint16 port, GstClockTime now, EbrRtcpFeedback * fb);
/* The same from @from, IPv4 or IPv6: a viewer's RTCP is attributed by its
 * address in its own family (a v6 viewer's by the whole v6 address). */
gint ebr_rtcp_viewer_handle_addr (EbrRtcp * r, const guint8 * data,
    gsize len, const RelayAddr * from, GstClockTime now,
    EbrRtcpFeedback * fb);
gboolean ebr_rtcp_viewer_get_stats (EbrRtcp * r, guint id,
    EbrRtcpViewerStats * stats);
gboolean ebr_rtcp_viewer_get_report (EbrRtcp * r, guint id,
    guint32 media_ssrc, EbrRtcpViewerReport * report);

typedef struct
{
  guint64 unattributed;         /* valid RTCP no viewer was found for */
  guint64 invalid;              /* datagrams that were not valid RTCP */
  guint64 keyframe_sent;        /* requests ebr_rtcp_keyframe_should_send let through */
  guint64 keyframe_suppressed;  /* ... and those it held back */
  guint64 srs_forwarded;
} EbrRtcpStats;

void ebr_rtcp_get_stats (EbrRtcp * r, EbrRtcpStats * stats);

G_END_DECLS
#endif
