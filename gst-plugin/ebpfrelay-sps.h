/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* H.264 sequence parameter sets for a viewer whose priority limit removes
 * every reordered picture (issue 12 item 2): the SPS is rewritten to
 * declare no reordering (VUI bitstream_restriction_flag=1,
 * max_num_reorder_frames=0, max_dec_frame_buffering=max_num_ref_frames),
 * so that a decoder outputs each picture as soon as it is decoded instead
 * of waiting for pictures the viewer will never get. Everything else in
 * the SPS is copied bit for bit (the parser copies each syntax element as
 * it reads it; ITU-T H.264 7.3.2.1.1 and E.1.1, all profiles, scaling
 * lists, VUI with HRD parameters); a VUI or a bitstream restriction that
 * is absent is added.
 *
 * Pure functions of their input (GLib only): no state, no allocation
 * visible outside what they return. Malformed or truncated input is left
 * unchanged (EBPF_RELAY_SPS_INVALID), never read past its end.
 *
 * Also here: what an RTP payload (RFC 6184: single NAL unit, STAP-A,
 * FU-A) carries (an SPS, a B slice), the per-SSRC rule that says when
 * rewriting is safe (EbpfRelaySpsGuard), and a viewer's table of those
 * guards with the decision per datagram (EbpfRelaySpsGuards: the one
 * stateful object here, owned by ebpfprioritysrc). */
#ifndef __EBPF_RELAY_SPS_H__
#define __EBPF_RELAY_SPS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  EBPF_RELAY_SPS_REWRITTEN,     /* *out holds the new NAL unit */
  EBPF_RELAY_SPS_UNCHANGED,     /* already declares no reordering */
  EBPF_RELAY_SPS_INVALID,       /* not an SPS, malformed, truncated */
} EbpfRelaySpsResult;

/* @nal: one NAL unit, its header byte first, emulation prevention bytes
 * in place (as in an RTP payload). On EBPF_RELAY_SPS_REWRITTEN, *@out is
 * the rewritten NAL unit (g_free it), *@out_len its size (may be a few
 * bytes longer or shorter than @len). */
EbpfRelaySpsResult ebpf_relay_sps_rewrite (const guint8 * nal, gsize len,
    guint8 ** out, gsize * out_len);

/* What ebpf_relay_sps_parse finds (tests, logs). */
typedef struct
{
  guint profile_idc, level_idc, sps_id;
  guint max_num_ref_frames;
  gboolean vui, bitstream_restriction;
  guint max_num_reorder_frames, max_dec_frame_buffering;  /* if restricted */
  guint width_mbs, height_map_units;
} EbpfRelaySpsInfo;

gboolean ebpf_relay_sps_parse (const guint8 * nal, gsize len,
    EbpfRelaySpsInfo * info);

/* The slice_type (0..9) of a slice NAL unit (types 1 and 5; header byte
 * first), -1 if it is not one or too short. B slices: 1 and 6. */
gint ebpf_relay_h264_slice_type (const guint8 * nal, gsize len);

/* An RTP H.264 payload (RFC 6184): TRUE if it carries the start of a B
 * slice (single NAL unit, in a STAP-A, or the first fragment of a FU-A). */
gboolean ebpf_relay_h264_payload_has_b_slice (const guint8 * payload,
    gsize len);

/* TRUE if the payload is or contains an SPS (single NAL unit type 7 or a
 * STAP-A holding one). An SPS fragmented in FU-A is not looked at. */
gboolean ebpf_relay_h264_payload_has_sps (const guint8 * payload,
    gsize len);

/* Rewrites every SPS of a single-NAL or STAP-A payload
 * (ebpf_relay_sps_rewrite); the other NAL units are copied. TRUE and a
 * new payload in *@out (g_free) when one was rewritten; FALSE (nothing
 * allocated) otherwise, also for a malformed STAP-A. */
gboolean ebpf_relay_h264_payload_rewrite_sps (const guint8 * payload,
    gsize len, guint8 ** out, gsize * out_len);

/* An RTP packet @rtp of @len bytes whose H.264 payload starts at
 * @payload_off: TRUE and the packet with its SPS rewritten
 * (ebpf_relay_h264_payload_rewrite_sps) in *@out (g_free), the RTP header
 * as it was (padding, if any, dropped: P cleared). */
gboolean ebpf_relay_sps_rtp_rewrite (const guint8 * rtp, gsize len,
    gsize payload_off, guint8 ** out, gsize * out_len);

/* When rewriting is safe, per SSRC (docs/architecture.md, "No added delay
 * at a limit"). A picture that is reordered is a B slice (an encoder
 * reorders to code B pictures); the guard learns the highest priority of
 * a B slice that reached the viewer (b_max), and the lowest limit in force
 * it has watched the stream at (watched). An SPS is rewritten when the
 * limit in force is at least the lowest watched one (what passes at it
 * has been seen) and above b_max (no B slice passed at it). Limit 7 counts
 * as watched from the start: the pictures of priority 7 (IDR pictures, NRI
 * 3, for x264; I=1 with frame marking) are assumed not reordered among
 * themselves, until a B slice of priority 7 shows otherwise. A lower
 * limit gets the original SPS at its first key frame, and rewritten ones
 * from the next key frame on if no B slice passed in between. */
typedef struct
{
  gint b_max;                   /* -1: no B slice seen */
  guint watched;                /* lowest limit watched */
  gboolean have_sps;            /* the last SPS's timestamp and decision */
  guint32 sps_ts;
  gboolean sps_rewrite;
} EbpfRelaySpsGuard;

void ebpf_relay_sps_guard_init (EbpfRelaySpsGuard * g);
/* An SPS of the SSRC (RTP timestamp @ts) passed the filter at @limit (in
 * force): TRUE if it is to be rewritten. @limit counts as watched from the
 * next access unit on: the SPSs of one access unit (one timestamp; x264's
 * own and the payloader's copy) are decided alike. */
gboolean ebpf_relay_sps_guard_sps (EbpfRelaySpsGuard * g, guint limit,
    guint32 ts);
/* A B slice of @priority passed the filter. */
void ebpf_relay_sps_guard_b_slice (EbpfRelaySpsGuard * g, guint priority);

/* The guards of one viewer, per SSRC (at most @max_ssrcs of them: one
 * more and the table starts over), and what each H.264 RTP packet that
 * passed the viewer's filter does to them (ebpfprioritysrc rewrite-sps).
 * No lock: the caller serialises. */
typedef struct _EbpfRelaySpsGuards EbpfRelaySpsGuards;

EbpfRelaySpsGuards *ebpf_relay_sps_guards_new (guint max_ssrcs);
void ebpf_relay_sps_guards_free (EbpfRelaySpsGuards * gs);
/* Forgets every SSRC. */
void ebpf_relay_sps_guards_reset (EbpfRelaySpsGuards * gs);

/* The limit in force for @ssrc (the viewer's filter's), asked only for a
 * packet that carries an SPS. */
typedef guint (*EbpfRelaySpsLimitFunc) (guint32 ssrc, gpointer user_data);

typedef enum
{
  EBPF_RELAY_SPS_PACKET_OTHER,  /* no SPS (a B slice is noted) */
  EBPF_RELAY_SPS_PACKET_KEPT,   /* an SPS, to be pushed as received */
  EBPF_RELAY_SPS_PACKET_REWRITTEN,      /* an SPS, rewritten: *out */
} EbpfRelaySpsPacket;

/* A datagram @data of @n bytes: @skip bytes, then an RTP packet with an
 * H.264 payload at @payload_off (from the RTP header) of SSRC @ssrc,
 * timestamp @ts and priority @priority (bpf/priority.h), that passed the
 * viewer's filter. A B slice is noted in the SSRC's guard; an SPS is
 * decided by it (ebpf_relay_sps_guard_sps) at the limit @limit_func gives
 * (into *@limit_used) and, to be rewritten, rewritten
 * (ebpf_relay_sps_rtp_rewrite): the datagram with it, the @skip bytes
 * first, in *@out (g_free), its size in *@out_len. An SPS the rewrite
 * refuses (malformed) is KEPT. */
EbpfRelaySpsPacket ebpf_relay_sps_guards_datagram (EbpfRelaySpsGuards * gs,
    const guint8 * data, gsize n, gsize skip, guint32 ssrc, guint32 ts,
    guint priority, gsize payload_off, EbpfRelaySpsLimitFunc limit_func,
    gpointer user_data, guint * limit_used, guint8 ** out, gsize * out_len);

G_END_DECLS
#endif
