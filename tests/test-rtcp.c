/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-rtcp: the relay's RTCP logic (gst-plugin/ebpfrelay-rtcp.c) on
 * crafted packets, without privilege or network: RFC 5761 demux, the SR
 * rewrite (only the counts change), RTT from LSR/DLSR, the upstream
 * receiver statistics (RFC 3550 A.1, A.3, A.8) and the RR built from them,
 * the key-frame throttle, PLI/FIR builders, NACK expansion, and who a
 * viewer's RTCP is attributed to. Compounds are built with GstRTCPBuffer
 * and what the module builds is checked byte by byte against hand-written
 * bytes.
 */
#include <string.h>
#include <arpa/inet.h>

#include "ebpfrelay-rtcp.h"

#define SSRC_A 0x11223344
#define SSRC_B 0x55667788
#define RELAY 0xaabbccdd
#define VIEWER 0x01020304

/* --- helpers ------------------------------------------------------------------- */

static void
assert_buffer (GstBuffer * buf, const guint8 * expected, gsize len)
{
  GstMapInfo map;

  g_assert_nonnull (buf);
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  g_assert_cmpmem (map.data, map.size, expected, len);
  gst_buffer_unmap (buf, &map);
}

static GstBuffer *
rtp_packet (guint32 ssrc, guint16 seq, guint32 ts, guint8 pt)
{
  GstBuffer *buf = gst_rtp_buffer_new_allocate (20, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  g_assert_true (gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_ssrc (&rtp, ssrc);
  gst_rtp_buffer_set_seq (&rtp, seq);
  gst_rtp_buffer_set_timestamp (&rtp, ts);
  gst_rtp_buffer_set_payload_type (&rtp, pt);
  gst_rtp_buffer_unmap (&rtp);
  return buf;
}

static void
add_sr (GstRTCPBuffer * rtcp, guint32 ssrc, guint64 ntp, guint32 rtptime,
    guint32 packets, guint32 octets)
{
  GstRTCPPacket p;

  g_assert_true (gst_rtcp_buffer_add_packet (rtcp, GST_RTCP_TYPE_SR, &p));
  gst_rtcp_packet_sr_set_sender_info (&p, ssrc, ntp, rtptime, packets,
      octets);
}

/* A sender's compound: SR of SSRC_A. */
static GstBuffer *
sender_sr (guint64 ntp)
{
  GstBuffer *buf = gst_rtcp_buffer_new (1400);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;

  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  add_sr (&rtcp, SSRC_A, ntp, 1234, 1000, 100000);
  gst_rtcp_buffer_unmap (&rtcp);
  return buf;
}

/* A viewer's RR about @media. */
static GstBuffer *
viewer_rr (guint32 ssrc, guint32 media, guint32 lsr, guint32 dlsr)
{
  GstBuffer *buf = gst_rtcp_buffer_new (1400);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;

  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_RR, &p));
  gst_rtcp_packet_rr_set_ssrc (&p, ssrc);
  g_assert_true (gst_rtcp_packet_add_rb (&p, media, 25, -3, 0x00010005, 77,
          lsr, dlsr));
  gst_rtcp_buffer_unmap (&rtcp);
  return buf;
}

static gint
handle (EbrRtcp * r, GstBuffer * buf, const gchar * addr, guint16 port,
    GstClockTime now, EbrRtcpFeedback * fb)
{
  GstMapInfo map;
  gint id;

  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  id = ebr_rtcp_viewer_handle (r, map.data, map.size, inet_addr (addr), port,
      now, fb);
  gst_buffer_unmap (buf, &map);
  return id;
}

/* --- RFC 5761 demux ------------------------------------------------------------ */

static void
test_demux (void)
{
  guint8 p[12] = { 0x80, 200, 0, 1, 1, 2, 3, 4, 0, 0, 0, 0 };
  guint pt;

  for (pt = 0; pt < 256; pt++) {
    p[1] = pt;
    g_assert_cmpint (ebr_rtcp_is_rtcp (p, sizeof (p)), ==,
        pt >= 192 && pt <= 223);
  }
  p[1] = 200;
  g_assert_true (ebr_rtcp_is_rtcp (p, 8));
  g_assert_false (ebr_rtcp_is_rtcp (p, 7));     /* shorter than header + SSRC */
  g_assert_false (ebr_rtcp_is_rtcp (p, 0));
  p[0] = 0x40;                  /* version 1 */
  g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
  p[0] = 0xc0;                  /* version 3 */
  g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
  p[0] = 0xa1;                  /* padding and a count: still RTCP */
  g_assert_true (ebr_rtcp_is_rtcp (p, sizeof (p)));

  /* RTP: PT 96 with and without marker, PT 0, PT 127 with marker (255) */
  p[0] = 0x80;
  p[1] = 96;
  g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
  p[1] = 0x80 | 96;
  g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
  p[1] = 0;
  g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
  p[1] = 0x80 | 127;
  g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
  /* RTP PT 72..76 with the marker set reads as SR, RR, SDES, BYE, APP:
   * forbidden on a multiplexed port (RFC 5761 4), taken for RTCP */
  for (pt = 72; pt <= 76; pt++) {
    p[1] = 0x80 | pt;
    g_assert_cmpuint (p[1], ==, 200 + pt - 72);
    g_assert_true (ebr_rtcp_is_rtcp (p, sizeof (p)));
    p[1] = pt;                  /* without the marker: RTP */
    g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
  }
  /* the edges of 64..95 with marker: 192 and 223 */
  p[1] = 0x80 | 64;
  g_assert_true (ebr_rtcp_is_rtcp (p, sizeof (p)));
  p[1] = 0x80 | 95;
  g_assert_true (ebr_rtcp_is_rtcp (p, sizeof (p)));
  p[1] = 0x80 | 63;
  g_assert_false (ebr_rtcp_is_rtcp (p, sizeof (p)));
}

/* --- SR rewrite ------------------------------------------------------------------ */

static gboolean
sent_cb (guint32 ssrc, guint32 * packets, guint32 * octets, gpointer user_data)
{
  guint *calls = user_data;

  (*calls)++;
  if (ssrc != SSRC_A)
    return FALSE;               /* SSRC_B: nothing known, counts kept */
  g_assert_cmpuint (*packets, ==, 1000);        /* the sender's, offered */
  *packets = 0x01020304;
  *octets = 0x05060708;
  return TRUE;
}

static void
test_rewrite_sr (void)
{
  GstBuffer *buf = gst_rtcp_buffer_new (1400), *out;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  GstMapInfo in, o;
  guint calls = 0;
  gsize i;

  /* SR(A, one report block) SDES(CNAME) SR(B) BYE(A) */
  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  add_sr (&rtcp, SSRC_A, G_GUINT64_CONSTANT (0xe1e2e3e4f1f2f3f4),
      0x31323334, 1000, 0x41424344);
  g_assert_true (gst_rtcp_buffer_get_first_packet (&rtcp, &p));
  g_assert_true (gst_rtcp_packet_add_rb (&p, 0x99999999, 7, 8, 9, 10, 11,
          12));
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SDES, &p));
  g_assert_true (gst_rtcp_packet_sdes_add_item (&p, SSRC_A));
  g_assert_true (gst_rtcp_packet_sdes_add_entry (&p, GST_RTCP_SDES_CNAME, 9,
          (const guint8 *) "user@host"));
  add_sr (&rtcp, SSRC_B, G_GUINT64_CONSTANT (0x0102030405060708), 5, 6, 7);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_BYE, &p));
  g_assert_true (gst_rtcp_packet_bye_add_ssrc (&p, SSRC_A));
  gst_rtcp_buffer_unmap (&rtcp);

  out = ebr_rtcp_rewrite_sr (buf, sent_cb, &calls);
  g_assert_nonnull (out);
  g_assert_true (out != buf);
  g_assert_cmpuint (calls, ==, 2);
  gst_buffer_map (buf, &in, GST_MAP_READ);
  gst_buffer_map (out, &o, GST_MAP_READ);
  /* 28 + 24 (SR A), 20 (SDES), 28 (SR B), 8 (BYE) */
  g_assert_cmpuint (in.size, ==, 108);
  g_assert_cmpuint (o.size, ==, in.size);
  for (i = 0; i < in.size; i++) {
    if (i >= 20 && i < 28)
      continue;
    if (in.data[i] != o.data[i])
      g_error ("byte %" G_GSIZE_FORMAT " changed: %02x -> %02x", i,
          in.data[i], o.data[i]);
  }
  /* SR A's packet and octet counts: what this viewer was sent */
  g_assert_cmpmem (o.data + 20, 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  /* ...and the original is untouched */
  g_assert_cmpuint (GST_READ_UINT32_BE (in.data + 20), ==, 1000);
  g_assert_cmpuint (GST_READ_UINT32_BE (in.data + 24), ==, 0x41424344);
  gst_buffer_unmap (out, &o);
  gst_buffer_unmap (buf, &in);
  gst_buffer_unref (out);
  gst_buffer_unref (buf);

  /* not RTCP: nothing */
  buf = gst_buffer_new_memdup ("\x80\x60\x00\x01\x00\x00\x00\x00", 8);
  calls = 0;
  g_assert_null (ebr_rtcp_rewrite_sr (buf, sent_cb, &calls));
  g_assert_cmpuint (calls, ==, 0);
  gst_buffer_unref (buf);
  /* a length field longer than the datagram */
  buf = gst_buffer_new_memdup ("\x80\xc8\x00\x06\x00\x00\x00\x00", 8);
  g_assert_null (ebr_rtcp_rewrite_sr (buf, sent_cb, &calls));
  gst_buffer_unref (buf);
}

/* --- RTT ------------------------------------------------------------------------ */

static void
test_rtt (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, EBR_RTCP_DEFAULT_KEYFRAME_INTERVAL);
  GstBuffer *sr = sender_sr (G_GUINT64_CONSTANT (0x0001234567890000));
  GstClockTime rtt = 42, t0 = 10 * GST_SECOND;
  EbrRtcpFeedback fb;
  EbrRtcpViewerReport rep;
  GstBuffer *rr;
  guint i;

  g_assert_cmpuint (ebr_rtcp_sender_rtcp (r, sr, t0), ==, 1);
  /* forwarded at 10 s; the viewer held it 0.25 s (0x4000 / 65536); its RR
   * arrives at 10.4 s: 150 ms */
  g_assert_true (ebr_rtcp_rtt (r, SSRC_A, 0x23456789, 0x4000,
          t0 + 400 * GST_MSECOND, &rtt));
  g_assert_cmpuint (rtt, ==, 150 * GST_MSECOND);
  g_assert_true (ebr_rtcp_rtt (r, SSRC_A, 0x23456789, 0,
          t0 + 400 * GST_MSECOND, &rtt));
  g_assert_cmpuint (rtt, ==, 400 * GST_MSECOND);
  /* DLSR larger than the time since forwarding: 0, not a wrap */
  g_assert_true (ebr_rtcp_rtt (r, SSRC_A, 0x23456789, 0x10000,
          t0 + 400 * GST_MSECOND, &rtt));
  g_assert_cmpuint (rtt, ==, 0);
  /* no LSR, an LSR never forwarded, the LSR of another SSRC */
  rtt = 42;
  g_assert_false (ebr_rtcp_rtt (r, SSRC_A, 0, 0x4000, t0, &rtt));
  g_assert_false (ebr_rtcp_rtt (r, SSRC_A, 0x2345678a, 0, t0, &rtt));
  g_assert_false (ebr_rtcp_rtt (r, SSRC_B, 0x23456789, 0, t0, &rtt));
  g_assert_cmpuint (rtt, ==, 42);

  /* an older SR is still found once newer ones were forwarded... */
  gst_buffer_unref (sr);
  sr = sender_sr (G_GUINT64_CONSTANT (0x0001234600000000));
  ebr_rtcp_sender_rtcp (r, sr, t0 + GST_SECOND);
  g_assert_true (ebr_rtcp_rtt (r, SSRC_A, 0x23456789, 0x8000,
          t0 + 2 * GST_SECOND, &rtt));
  g_assert_cmpuint (rtt, ==, 1500 * GST_MSECOND);
  g_assert_true (ebr_rtcp_rtt (r, SSRC_A, 0x23460000, 0x8000,
          t0 + 2 * GST_SECOND, &rtt));
  g_assert_cmpuint (rtt, ==, 500 * GST_MSECOND);
  /* ...until EBR_RTCP_SR_HISTORY newer ones pushed it out */
  for (i = 0; i < EBR_RTCP_SR_HISTORY - 1; i++) {
    gst_buffer_unref (sr);
    sr = sender_sr (G_GUINT64_CONSTANT (0x0002000000000000) +
        ((guint64) i << 16));
    ebr_rtcp_sender_rtcp (r, sr, t0 + 3 * GST_SECOND);
  }
  g_assert_true (ebr_rtcp_rtt (r, SSRC_A, 0x23460000, 0, t0 + 4 * GST_SECOND,
          &rtt));
  g_assert_false (ebr_rtcp_rtt (r, SSRC_A, 0x23456789, 0,
          t0 + 4 * GST_SECOND, &rtt));

  /* through a viewer's RR: the report and its RTT in the viewer's stats */
  ebr_rtcp_viewer_add (r, 7, inet_addr ("10.1.0.1"), 5000);
  rr = viewer_rr (VIEWER, SSRC_A, 0x23460000, 0x4000);
  ebr_rtcp_feedback_init (&fb);
  g_assert_cmpint (handle (r, rr, "10.1.0.1", 40000, t0 + 2 * GST_SECOND,
          &fb), ==, 7);
  g_assert_true (ebr_rtcp_viewer_get_report (r, 7, SSRC_A, &rep));
  g_assert_cmpuint (rep.rtt, ==, 750 * GST_MSECOND);
  g_assert_cmpuint (rep.received, ==, t0 + 2 * GST_SECOND);
  g_assert_cmphex (rep.block.ssrc, ==, SSRC_A);
  g_assert_cmpuint (rep.block.fraction_lost, ==, 25);
  g_assert_cmpint (rep.block.cumulative_lost, ==, -3);
  g_assert_cmphex (rep.block.ext_highest_seq, ==, 0x00010005);
  g_assert_cmpuint (rep.block.jitter, ==, 77);
  g_assert_cmphex (rep.block.lsr, ==, 0x23460000);
  g_assert_cmphex (rep.block.dlsr, ==, 0x4000);
  g_assert_false (ebr_rtcp_viewer_get_report (r, 7, SSRC_B, &rep));
  gst_buffer_unref (rr);
  /* an RR without LSR keeps the last RTT, updates the rest */
  rr = viewer_rr (VIEWER, SSRC_A, 0, 0);
  g_assert_cmpint (handle (r, rr, "10.1.0.1", 40000, t0 + 3 * GST_SECOND,
          &fb), ==, 7);
  g_assert_true (ebr_rtcp_viewer_get_report (r, 7, SSRC_A, &rep));
  g_assert_cmpuint (rep.rtt, ==, 750 * GST_MSECOND);
  g_assert_cmpuint (rep.received, ==, t0 + 3 * GST_SECOND);
  g_assert_cmphex (rep.block.lsr, ==, 0);
  gst_buffer_unref (rr);

  ebr_rtcp_feedback_clear (&fb);
  gst_buffer_unref (sr);
  ebr_rtcp_free (r);
}

/* --- upstream receiver statistics and the relay's RR ---------------------------- */

static gboolean
update (EbrRtcp * r, guint16 seq)
{
  GstBuffer *b = rtp_packet (SSRC_A, seq, 0, 96);
  gboolean ok = ebr_rtcp_source_update (r, b, 0, GST_CLOCK_TIME_NONE);

  gst_buffer_unref (b);
  return ok;
}

static void
test_receiver_stats (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, "relay", 0);
  /* loss (65532, 2), reordering (65535 before 65534, 4 before 3) and the
   * wrap after 65535 */
  const guint16 seqs[] = { 65530, 65531, 65533, 65535, 65534, 0, 1, 4, 3 };
  EbrRtcpSourceStats st;
  GstBuffer *sr, *rr;
  guint i;
  /* RR: relay SSRC, one block; SDES CNAME "relay" (2 + 5 bytes, a null
   * terminator, padded to 4) */
  guint8 expected[] = {
    0x81, 201, 0x00, 0x07, 0xaa, 0xbb, 0xcc, 0xdd,
    0x11, 0x22, 0x33, 0x44,     /* about SSRC_A */
    46, 0x00, 0x00, 0x02,       /* fraction 2 * 256 / 11, cumulative 2 */
    0x00, 0x01, 0x00, 0x04,     /* ext highest 65536 + 4 */
    0x00, 0x00, 0x00, 0x00,     /* jitter */
    0x34, 0x56, 0x78, 0x9a,     /* LSR */
    0x00, 0x00, 0x80, 0x00,     /* DLSR 0.5 s */
    0x81, 202, 0x00, 0x03, 0xaa, 0xbb, 0xcc, 0xdd,
    0x01, 0x05, 'r', 'e', 'l', 'a', 'y', 0x00,
  };

  g_assert_false (ebr_rtcp_source_get_stats (r, SSRC_A, &st));
  g_assert_null (ebr_rtcp_build_rr (r, 0));
  for (i = 0; i < G_N_ELEMENTS (seqs); i++)
    g_assert_true (update (r, seqs[i]));
  g_assert_true (ebr_rtcp_source_get_stats (r, SSRC_A, &st));
  g_assert_cmpuint (st.base_seq, ==, 65530);
  g_assert_cmpuint (st.cycles, ==, 65536);
  g_assert_cmpuint (st.ext_highest_seq, ==, 65540);
  g_assert_cmpuint (st.received, ==, 9);
  g_assert_cmpuint (st.expected, ==, 11);
  g_assert_cmpint (st.lost, ==, 2);
  g_assert_false (st.has_sr);

  /* NTP 0x00003456 789a0000: middle 32 bits 0x3456789a */
  sr = sender_sr (G_GUINT64_CONSTANT (0x00003456789a0000));
  ebr_rtcp_sender_rtcp (r, sr, 5 * GST_SECOND);
  g_assert_true (ebr_rtcp_source_get_stats (r, SSRC_A, &st));
  g_assert_true (st.has_sr);
  g_assert_cmphex (st.lsr, ==, 0x3456789a);

  rr = ebr_rtcp_build_rr (r, 5 * GST_SECOND + 500 * GST_MSECOND);
  assert_buffer (rr, expected, sizeof (expected));
  gst_buffer_unref (rr);

  /* the next interval: two more packets, none lost: fraction 0, the
   * cumulative loss stays */
  g_assert_true (update (r, 5));
  g_assert_true (update (r, 6));
  rr = ebr_rtcp_build_rr (r, 6 * GST_SECOND);
  expected[12] = 0;
  expected[19] = 6;
  expected[30] = 0x00;          /* DLSR 1 s */
  expected[29] = 0x01;
  assert_buffer (rr, expected, sizeof (expected));
  gst_buffer_unref (rr);
  /* a duplicate is counted as received (A.1): the loss shrinks */
  g_assert_true (update (r, 6));
  g_assert_true (ebr_rtcp_source_get_stats (r, SSRC_A, &st));
  g_assert_cmpint (st.lost, ==, 1);
  g_assert_cmpuint (st.ext_highest_seq, ==, 65542);

  /* a large jump is not counted; the next in sequence re-syncs */
  g_assert_false (update (r, 30000));
  g_assert_true (ebr_rtcp_source_get_stats (r, SSRC_A, &st));
  g_assert_cmpuint (st.bad, ==, 1);
  g_assert_cmpuint (st.received, ==, 12);
  g_assert_cmpuint (st.ext_highest_seq, ==, 65542);
  g_assert_true (update (r, 30001));
  g_assert_true (ebr_rtcp_source_get_stats (r, SSRC_A, &st));
  g_assert_cmpuint (st.base_seq, ==, 30001);
  g_assert_cmpuint (st.cycles, ==, 0);
  g_assert_cmpuint (st.ext_highest_seq, ==, 30001);
  g_assert_cmpuint (st.received, ==, 1);
  g_assert_cmpuint (st.expected, ==, 1);
  g_assert_cmpint (st.lost, ==, 0);
  /* a jump that is not followed in sequence stays uncounted */
  g_assert_false (update (r, 10000));
  g_assert_false (update (r, 20000));
  g_assert_true (update (r, 30002));
  g_assert_true (ebr_rtcp_source_get_stats (r, SSRC_A, &st));
  g_assert_cmpuint (st.ext_highest_seq, ==, 30002);
  g_assert_cmpuint (st.bad, ==, 3);

  /* not RTP */
  rr = gst_buffer_new_memdup ("\x40\x60\x00\x01", 4);
  g_assert_false (ebr_rtcp_source_update (r, rr, 90000, 0));
  gst_buffer_unref (rr);
  gst_buffer_unref (sr);
  ebr_rtcp_free (r);
}

static void
test_jitter (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, 0);
  /* 90 kHz, one packet per 100 ms (9000 units); the second is 10 ms (900
   * units) late, the sixth 898 units (9977778 ns), the others on time.
   * A.8: J += |D| - (J + 8) / 16 (J scaled by 16): 0, 900 (56),
   * 900 + 900 - 56 = 1744 (109), 1744 - 109 = 1635 (102), 1635 - 102 =
   * 1533 (95), 1533 + 898 - 96 = 2335 (145; 146 without the rounding) */
  const GstClockTime arrival[] = { 0, 110 * GST_MSECOND, 200 * GST_MSECOND,
    300 * GST_MSECOND, 400 * GST_MSECOND, 500 * GST_MSECOND + 9977778
  };
  const guint32 jitter[] = { 0, 56, 109, 102, 95, 145 };
  EbrRtcpSourceStats st;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (arrival); i++) {
    GstBuffer *b = rtp_packet (SSRC_B, 100 + i, 0xfffff000 + 9000 * i, 96);

    g_assert_true (ebr_rtcp_source_update (r, b, 90000,
            GST_SECOND + arrival[i]));
    gst_buffer_unref (b);
    g_assert_true (ebr_rtcp_source_get_stats (r, SSRC_B, &st));
    g_assert_cmpuint (st.jitter, ==, jitter[i]);
  }
  ebr_rtcp_free (r);
}

/* --- key-frame requests ---------------------------------------------------------- */

static void
test_throttle (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, 500 * GST_MSECOND);
  EbrRtcpStats st;

  g_assert_true (ebr_rtcp_keyframe_should_send (r, SSRC_A, GST_SECOND));
  /* a second viewer within the interval: no second request */
  g_assert_false (ebr_rtcp_keyframe_should_send (r, SSRC_A,
          GST_SECOND + 100 * GST_MSECOND));
  /* another media SSRC has its own throttle */
  g_assert_true (ebr_rtcp_keyframe_should_send (r, SSRC_B,
          GST_SECOND + 100 * GST_MSECOND));
  g_assert_false (ebr_rtcp_keyframe_should_send (r, SSRC_A,
          GST_SECOND + 500 * GST_MSECOND - 1));
  /* after the interval: another; the interval counts from the last sent */
  g_assert_true (ebr_rtcp_keyframe_should_send (r, SSRC_A,
          GST_SECOND + 500 * GST_MSECOND));
  g_assert_false (ebr_rtcp_keyframe_should_send (r, SSRC_A,
          GST_SECOND + 999 * GST_MSECOND));
  g_assert_true (ebr_rtcp_keyframe_should_send (r, SSRC_A, 2 * GST_SECOND));
  ebr_rtcp_get_stats (r, &st);
  g_assert_cmpuint (st.keyframe_sent, ==, 4);
  g_assert_cmpuint (st.keyframe_suppressed, ==, 3);
  ebr_rtcp_free (r);

  /* a zero interval lets everything through */
  r = ebr_rtcp_new (RELAY, NULL, 0);
  g_assert_true (ebr_rtcp_keyframe_should_send (r, SSRC_A, 0));
  g_assert_true (ebr_rtcp_keyframe_should_send (r, SSRC_A, 0));
  ebr_rtcp_free (r);
}

static void
test_pli_fir (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, 0);
  const guint8 pli[] = {
    0x80, 201, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd,      /* RR, no block */
    0x81, 206, 0x00, 0x02, 0xaa, 0xbb, 0xcc, 0xdd,      /* PSFB FMT 1 */
    0x11, 0x22, 0x33, 0x44,
  };
  guint8 fir[] = {
    0x80, 201, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd,
    0x84, 206, 0x00, 0x04, 0xaa, 0xbb, 0xcc, 0xdd,      /* PSFB FMT 4 */
    0x00, 0x00, 0x00, 0x00,     /* media SSRC unused */
    0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,     /* FCI: SSRC, seq nr */
  };
  GstBuffer *b;
  guint i;

  b = ebr_rtcp_build_pli (r, SSRC_A);
  assert_buffer (b, pli, sizeof (pli));
  gst_buffer_unref (b);
  /* FIR command sequence numbers: 0, 1, 2 ... per media SSRC, mod 256 */
  for (i = 0; i < 258; i++) {
    b = ebr_rtcp_build_fir (r, SSRC_A);
    fir[24] = i & 0xff;
    assert_buffer (b, fir, sizeof (fir));
    gst_buffer_unref (b);
  }
  b = ebr_rtcp_build_fir (r, SSRC_B);
  fir[20] = 0x55;
  fir[21] = 0x66;
  fir[22] = 0x77;
  fir[23] = 0x88;
  fir[24] = 0;
  assert_buffer (b, fir, sizeof (fir));
  gst_buffer_unref (b);
  /* a PLI does not advance the FIR number */
  gst_buffer_unref (ebr_rtcp_build_pli (r, SSRC_B));
  b = ebr_rtcp_build_fir (r, SSRC_B);
  fir[24] = 1;
  assert_buffer (b, fir, sizeof (fir));
  gst_buffer_unref (b);
  ebr_rtcp_free (r);
}

/* --- a viewer's feedback -------------------------------------------------------- */

static void
test_parse_feedback (void)
{
  GstBuffer *buf = gst_rtcp_buffer_new (1400);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  GstMapInfo map;
  EbrRtcpFeedback fb;
  EbrRtcpKeyframeRequest *k;
  EbrRtcpReportBlock *blk;
  guint8 *fci;
  /* PID 65534 with BLP bits 0, 2 and 15; PID 100 with no bit */
  const guint16 nacks[] = { 65534, 65535, 1, 14, 100 };
  guint i;

  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_RR, &p));
  gst_rtcp_packet_rr_set_ssrc (&p, VIEWER);
  g_assert_true (gst_rtcp_packet_add_rb (&p, SSRC_A, 1, 2, 3, 4, 5, 6));
  g_assert_true (gst_rtcp_packet_add_rb (&p, SSRC_B, 255, -8388608, 7, 8, 9,
          10));
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SDES, &p));
  g_assert_true (gst_rtcp_packet_sdes_add_item (&p, VIEWER));
  g_assert_true (gst_rtcp_packet_sdes_add_entry (&p, GST_RTCP_SDES_CNAME, 1,
          (const guint8 *) "v"));
  /* PLI */
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_PSFB_TYPE_PLI);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, VIEWER);
  gst_rtcp_packet_fb_set_media_ssrc (&p, SSRC_A);
  /* FIR with two entries */
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_PSFB_TYPE_FIR);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, VIEWER);
  gst_rtcp_packet_fb_set_media_ssrc (&p, 0);
  g_assert_true (gst_rtcp_packet_fb_set_fci_length (&p, 4));
  fci = gst_rtcp_packet_fb_get_fci (&p);
  GST_WRITE_UINT32_BE (fci, SSRC_B);
  GST_WRITE_UINT32_BE (fci + 4, 0x2a000000);
  GST_WRITE_UINT32_BE (fci + 8, SSRC_A);
  GST_WRITE_UINT32_BE (fci + 12, 0x07000000);
  /* generic NACK */
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_RTPFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_RTPFB_TYPE_NACK);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, VIEWER);
  gst_rtcp_packet_fb_set_media_ssrc (&p, SSRC_B);
  g_assert_true (gst_rtcp_packet_fb_set_fci_length (&p, 2));
  fci = gst_rtcp_packet_fb_get_fci (&p);
  GST_WRITE_UINT32_BE (fci, (65534u << 16) | 0x8005);
  GST_WRITE_UINT32_BE (fci + 4, (100u << 16) | 0);
  /* ignored: an SLI, a TMMBR, an APP */
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_PSFB_TYPE_SLI);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_RTPFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_RTPFB_TYPE_TMMBR);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_APP, &p));
  gst_rtcp_packet_app_set_name (&p, "TEST");
  gst_rtcp_buffer_unmap (&rtcp);

  ebr_rtcp_feedback_init (&fb);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_assert_true (ebr_rtcp_parse_feedback (map.data, map.size, &fb));
  g_assert_true (fb.has_sender_ssrc);
  g_assert_cmphex (fb.sender_ssrc, ==, VIEWER);
  g_assert_cmpuint (fb.ignored, ==, 4);         /* SDES, SLI, TMMBR, APP */

  g_assert_cmpuint (fb.blocks->len, ==, 2);
  blk = &g_array_index (fb.blocks, EbrRtcpReportBlock, 0);
  g_assert_cmphex (blk->ssrc, ==, SSRC_A);
  g_assert_cmpuint (blk->fraction_lost, ==, 1);
  g_assert_cmpint (blk->cumulative_lost, ==, 2);
  g_assert_cmpuint (blk->ext_highest_seq, ==, 3);
  g_assert_cmpuint (blk->jitter, ==, 4);
  g_assert_cmpuint (blk->lsr, ==, 5);
  g_assert_cmpuint (blk->dlsr, ==, 6);
  blk = &g_array_index (fb.blocks, EbrRtcpReportBlock, 1);
  g_assert_cmphex (blk->ssrc, ==, SSRC_B);
  g_assert_cmpuint (blk->fraction_lost, ==, 255);
  g_assert_cmpint (blk->cumulative_lost, ==, -8388608);
  g_assert_cmpuint (blk->dlsr, ==, 10);

  g_assert_cmpuint (fb.keyframes->len, ==, 3);
  k = &g_array_index (fb.keyframes, EbrRtcpKeyframeRequest, 0);
  g_assert_cmpint (k->kind, ==, EBR_RTCP_KEYFRAME_PLI);
  g_assert_cmphex (k->media_ssrc, ==, SSRC_A);
  k = &g_array_index (fb.keyframes, EbrRtcpKeyframeRequest, 1);
  g_assert_cmpint (k->kind, ==, EBR_RTCP_KEYFRAME_FIR);
  g_assert_cmphex (k->media_ssrc, ==, SSRC_B);
  g_assert_cmpuint (k->fir_seq, ==, 0x2a);
  k = &g_array_index (fb.keyframes, EbrRtcpKeyframeRequest, 2);
  g_assert_cmpint (k->kind, ==, EBR_RTCP_KEYFRAME_FIR);
  g_assert_cmphex (k->media_ssrc, ==, SSRC_A);
  g_assert_cmpuint (k->fir_seq, ==, 7);

  g_assert_cmpuint (fb.nacks->len, ==, G_N_ELEMENTS (nacks));
  for (i = 0; i < G_N_ELEMENTS (nacks); i++) {
    EbrRtcpNack *n = &g_array_index (fb.nacks, EbrRtcpNack, i);

    g_assert_cmphex (n->media_ssrc, ==, SSRC_B);
    g_assert_cmpuint (n->seq, ==, nacks[i]);
  }

  /* invalid: truncated, a length beyond the datagram, RTP, too short */
  g_assert_false (ebr_rtcp_parse_feedback (map.data, map.size - 4, &fb));
  g_assert_false (fb.has_sender_ssrc);
  g_assert_cmpuint (fb.blocks->len + fb.keyframes->len + fb.nacks->len, ==,
      0);
  g_assert_false (ebr_rtcp_parse_feedback ((const guint8 *)
          "\x80\xc9\x00\x02\x01\x02\x03\x04", 8, &fb));
  g_assert_false (ebr_rtcp_parse_feedback ((const guint8 *)
          "\x80\x60\x00\x01\x01\x02\x03\x04", 8, &fb));
  g_assert_false (ebr_rtcp_parse_feedback ((const guint8 *) "\x80\xc9", 2,
          &fb));
  /* reduced size (RFC 5506): a lone PLI; its sender SSRC is the sender */
  g_assert_true (ebr_rtcp_parse_feedback ((const guint8 *)
          "\x81\xce\x00\x02\x01\x02\x03\x04\x11\x22\x33\x44", 12, &fb));
  g_assert_cmphex (fb.sender_ssrc, ==, VIEWER);
  g_assert_cmpuint (fb.keyframes->len, ==, 1);
  g_assert_cmpuint (fb.blocks->len, ==, 0);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  ebr_rtcp_feedback_clear (&fb);
}

/* --- who sent it ------------------------------------------------------------------ */

static void
test_attribution (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, 0);
  EbrRtcpFeedback fb;
  EbrRtcpViewerStats vs;
  EbrRtcpStats st;
  GstBuffer *x = viewer_rr (0x0000000a, SSRC_A, 0, 0);
  GstBuffer *y = viewer_rr (0x0000000b, SSRC_A, 0, 0);
  GstBuffer *z = viewer_rr (0x0000000c, SSRC_A, 0, 0);
  GstBuffer *w = viewer_rr (0x0000000d, SSRC_A, 0, 0);

  ebr_rtcp_feedback_init (&fb);
  ebr_rtcp_viewer_add (r, 1, inet_addr ("10.0.0.1"), 5000);
  ebr_rtcp_viewer_add (r, 2, inet_addr ("10.0.0.2"), 5000);
  ebr_rtcp_viewer_add (r, 3, inet_addr ("10.0.0.2"), 6000);

  /* rule 3: the only viewer at 10.0.0.1, from an ephemeral port */
  g_assert_cmpint (handle (r, x, "10.0.0.1", 40000, 0, &fb), ==, 1);
  g_assert_true (ebr_rtcp_viewer_get_stats (r, 1, &vs));
  g_assert_true (vs.bound);
  g_assert_cmphex (vs.ssrc, ==, 0x0a);
  g_assert_cmpuint (vs.rtcp_packets, ==, 1);
  g_assert_cmpuint (vs.report_blocks, ==, 1);
  g_assert_cmpuint (vs.n_reports, ==, 1);
  /* two unbound viewers at 10.0.0.2, an ephemeral port: nobody */
  g_assert_cmpint (handle (r, y, "10.0.0.2", 41000, 0, &fb), ==, -1);
  g_assert_true (ebr_rtcp_viewer_get_stats (r, 2, &vs));
  g_assert_false (vs.bound);
  g_assert_cmpuint (vs.rtcp_packets, ==, 0);
  /* rule 2: media port + 1; then rule 1: the binding, from any port */
  g_assert_cmpint (handle (r, y, "10.0.0.2", 5001, 0, &fb), ==, 2);
  g_assert_cmpint (handle (r, y, "10.0.0.2", 41000, 0, &fb), ==, 2);
  /* rule 2: the media port itself (rtcp-mux), when that is its RTCP port */
  g_assert_true (ebr_rtcp_viewer_set_rtcp_port (r, 3, 6000));
  g_assert_false (ebr_rtcp_viewer_set_rtcp_port (r, 99, 6000));
  g_assert_cmpint (handle (r, z, "10.0.0.2", 6000, 0, &fb), ==, 3);
  ebr_rtcp_viewer_remove (r, 3);
  ebr_rtcp_viewer_add (r, 3, inet_addr ("10.0.0.2"), 6000);
  /* rule 4: the only unbound viewer at 10.0.0.2 */
  g_assert_cmpint (handle (r, z, "10.0.0.2", 42000, 0, &fb), ==, 3);
  g_assert_cmpint (handle (r, y, "10.0.0.2", 42000, 0, &fb), ==, 2);
  /* all bound: an unknown SSRC at 10.0.0.2 is nobody's */
  g_assert_cmpint (handle (r, w, "10.0.0.2", 42000, 0, &fb), ==, -1);
  /* unknown address, and the same SSRC from another address */
  g_assert_cmpint (handle (r, x, "10.0.0.3", 40000, 0, &fb), ==, -1);
  /* a lone viewer restarts with a new SSRC: relearned */
  g_assert_cmpint (handle (r, w, "10.0.0.1", 40001, 0, &fb), ==, 1);
  g_assert_true (ebr_rtcp_viewer_get_stats (r, 1, &vs));
  g_assert_cmphex (vs.ssrc, ==, 0x0d);
  g_assert_cmpuint (vs.rtcp_packets, ==, 2);
  /* explicit binding (e.g. from the subscription channel) */
  g_assert_true (ebr_rtcp_viewer_bind (r, 3, 0x0e));
  g_assert_false (ebr_rtcp_viewer_bind (r, 99, 0x0e));
  g_assert_cmpint (handle (r, z, "10.0.0.2", 42000, 0, &fb), ==, -1);
  /* not RTCP */
  g_assert_cmpint (ebr_rtcp_viewer_handle (r, (const guint8 *)
          "\x80\x60\x00\x01\x01\x02\x03\x04", 8, inet_addr ("10.0.0.1"),
          40000, 0, &fb), ==, -1);
  ebr_rtcp_get_stats (r, &st);
  g_assert_cmpuint (st.unattributed, ==, 4);
  g_assert_cmpuint (st.invalid, ==, 1);
  g_assert_false (ebr_rtcp_viewer_get_stats (r, 99, &vs));

  gst_buffer_unref (x);
  gst_buffer_unref (y);
  gst_buffer_unref (z);
  gst_buffer_unref (w);
  ebr_rtcp_feedback_clear (&fb);
  ebr_rtcp_free (r);
}

/* Rule 2 by the viewer's RTCP port (issue 9): its given port, its media
 * port only for rtcp-mux, media port + 1 only by default; a port two
 * viewers name is nobody's by port. */
static void
test_attribution_rtcp_port (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, 0);
  EbrRtcpFeedback fb;
  GstBuffer *a = viewer_rr (0x000000a1, SSRC_A, 0, 0);
  GstBuffer *b = viewer_rr (0x000000b1, SSRC_A, 0, 0);
  GstBuffer *c = viewer_rr (0x000000c1, SSRC_A, 0, 0);
  GstBuffer *d = viewer_rr (0x000000d1, SSRC_A, 0, 0);

  ebr_rtcp_feedback_init (&fb);
  ebr_rtcp_viewer_add (r, 1, inet_addr ("10.0.0.5"), 5000);
  ebr_rtcp_viewer_set_rtcp_port (r, 1, 7000);
  ebr_rtcp_viewer_add (r, 2, inet_addr ("10.0.0.5"), 5002);     /* 5003 */
  ebr_rtcp_viewer_add (r, 3, inet_addr ("10.0.0.5"), 5004);
  ebr_rtcp_viewer_set_rtcp_port (r, 3, 5004);   /* mux */
  /* viewer 1's media port + 1 is not its RTCP port: three unbound, nobody */
  g_assert_cmpint (handle (r, a, "10.0.0.5", 5001, 0, &fb), ==, -1);
  /* nor viewer 1's media port */
  g_assert_cmpint (handle (r, a, "10.0.0.5", 5000, 0, &fb), ==, -1);
  g_assert_cmpint (handle (r, a, "10.0.0.5", 7000, 0, &fb), ==, 1);
  /* viewer 2's media port is not its RTCP port (two unbound left) */
  g_assert_cmpint (handle (r, b, "10.0.0.5", 5002, 0, &fb), ==, -1);
  g_assert_cmpint (handle (r, b, "10.0.0.5", 5003, 0, &fb), ==, 2);
  g_assert_cmpint (handle (r, c, "10.0.0.5", 5004, 0, &fb), ==, 3);
  /* bound: from any port */
  g_assert_cmpint (handle (r, a, "10.0.0.5", 40000, 0, &fb), ==, 1);
  /* two viewers naming one RTCP port: not by port */
  ebr_rtcp_viewer_add (r, 4, inet_addr ("10.0.0.6"), 5000);
  ebr_rtcp_viewer_set_rtcp_port (r, 4, 9000);
  ebr_rtcp_viewer_add (r, 5, inet_addr ("10.0.0.6"), 5002);
  ebr_rtcp_viewer_set_rtcp_port (r, 5, 9000);
  g_assert_cmpint (handle (r, d, "10.0.0.6", 9000, 0, &fb), ==, -1);
  /* changed: the new port counts */
  ebr_rtcp_viewer_set_rtcp_port (r, 5, 9002);
  g_assert_cmpint (handle (r, d, "10.0.0.6", 9002, 0, &fb), ==, 5);
  /* no RTCP port (0): never by port */
  ebr_rtcp_viewer_add (r, 6, inet_addr ("10.0.0.7"), 65535);
  ebr_rtcp_viewer_add (r, 7, inet_addr ("10.0.0.7"), 6000);
  ebr_rtcp_viewer_set_rtcp_port (r, 6, 0);
  g_assert_cmpint (handle (r, d, "10.0.0.7", 0, 0, &fb), ==, -1);

  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
  gst_buffer_unref (d);
  ebr_rtcp_feedback_clear (&fb);
  ebr_rtcp_free (r);
}

/* The counts of key-frame requests and NACKs reach the viewer's stats. */
static void
test_viewer_counts (void)
{
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, 0);
  EbrRtcpFeedback fb;
  EbrRtcpViewerStats vs;
  /* RR (no block), PLI, NACK of 3 seqs, BYE */
  const guint8 pkt[] = {
    0x80, 201, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a,
    0x81, 206, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0a, 0x11, 0x22, 0x33, 0x44,
    0x81, 205, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0a, 0x11, 0x22, 0x33, 0x44,
    0x00, 0x10, 0x00, 0x03,
    0x81, 203, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a,
  };

  ebr_rtcp_feedback_init (&fb);
  ebr_rtcp_viewer_add (r, 4, inet_addr ("10.0.0.9"), 5000);
  g_assert_cmpint (ebr_rtcp_viewer_handle (r, pkt, sizeof (pkt),
          inet_addr ("10.0.0.9"), 33333, 0, &fb), ==, 4);
  g_assert_true (ebr_rtcp_viewer_get_stats (r, 4, &vs));
  g_assert_cmpuint (vs.plis, ==, 1);
  g_assert_cmpuint (vs.firs, ==, 0);
  g_assert_cmpuint (vs.nacks, ==, 3);
  g_assert_cmpuint (vs.ignored, ==, 1);
  g_assert_cmpuint (vs.report_blocks, ==, 0);
  g_assert_cmpuint (g_array_index (fb.nacks, EbrRtcpNack, 2).seq, ==, 0x12);
  ebr_rtcp_feedback_clear (&fb);
  ebr_rtcp_free (r);
}

/* Compounds gst_rtcp_buffer_validate_data_reduced accepts but GstRTCPBuffer
 * cannot read whole (tests/fuzz/fuzz-rtcp-sender's findings, also in its
 * corpus as crash-short-sr and crash-short-app): not valid RTCP for the
 * rewrite, the sender's SRs or a viewer's feedback. */
static void
test_short_packets (void)
{
  /* SR of 2 words (no room for its sender info) SR(0 words) SR BYE: the
   * rewrite wrote the first SR's counts over the third SR's SSRC/NTP */
  static const guint8 short_sr[] = {
    0x80, 0xc8, 0x00, 0x02, 0x11, 0x22, 0x33, 0x45, 0xe9, 0xc8, 0x00, 0x00,
    0x80, 0xc8, 0x00, 0x00,
    0x80, 0xc8, 0x00, 0x06, 0x11, 0x22, 0x33, 0x47, 0xe9, 0x00, 0x00, 0x01,
    0x12, 0x00, 0x48, 0x0a, 0x00, 0x00, 0x10, 0x00,
    0x81, 0xcb, 0x00, 0x01, 0x11, 0x22, 0x33, 0x47
  };
  /* SR, APP of 1 word (shorter than its name), SR: the iteration stopped
   * at the APP, the second SR kept the sender's counts */
  static const guint8 short_app[] = {
    0x80, 0xc8, 0x00, 0x06, 0x11, 0x22, 0x33, 0x47, 0xe9, 0x00, 0x00, 0x01,
    0x12, 0x34, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x0a,
    0x00, 0x00, 0x10, 0x00,
    0x81, 0xcc, 0x00, 0x01, 0x11, 0x22, 0x33, 0x47,
    0x80, 0xc8, 0x00, 0x06, 0x11, 0x22, 0x33, 0x47, 0xe9, 0x00, 0x00, 0x01,
    0x12, 0x34, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x0a,
    0x00, 0x00, 0x10, 0x00
  };
  /* RR with a count of 1 and no report block; a PLI of 1 word (no media
   * SSRC) last; RR APP(1 word) PLI */
  static const guint8 short_rr[] = {
    0x81, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04
  };
  static const guint8 short_pli[] = {
    0x80, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
    0x81, 0xce, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04
  };
  static const guint8 app_pli[] = {
    0x80, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
    0x81, 0xcc, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
    0x81, 0xce, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44
  };
  const struct { const guint8 *d; gsize len; } cases[] = {
    {short_sr, sizeof (short_sr)}, {short_app, sizeof (short_app)},
    {short_rr, sizeof (short_rr)}, {short_pli, sizeof (short_pli)},
    {app_pli, sizeof (app_pli)},
  };
  EbrRtcp *r = ebr_rtcp_new (RELAY, NULL, GST_SECOND);
  EbrRtcpFeedback fb;
  guint calls = 0, i;

  ebr_rtcp_feedback_init (&fb);
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstBuffer *buf = gst_buffer_new_memdup (cases[i].d, cases[i].len);

    /* what ebpfrelay-feedback checks first still passes */
    g_assert_true (gst_rtcp_buffer_validate_data_reduced ((guint8 *)
            cases[i].d, cases[i].len));
    g_assert_null (ebr_rtcp_rewrite_sr (buf, sent_cb, &calls));
    g_assert_cmpuint (ebr_rtcp_sender_rtcp (r, buf, GST_SECOND), ==, 0);
    g_assert_false (ebr_rtcp_parse_feedback (cases[i].d, cases[i].len, &fb));
    g_assert_cmpuint (fb.keyframes->len, ==, 0);
    gst_buffer_unref (buf);
  }
  g_assert_cmpuint (calls, ==, 0);
  ebr_rtcp_feedback_clear (&fb);
  ebr_rtcp_free (r);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtcp/demux", test_demux);
  g_test_add_func ("/rtcp/rewrite-sr", test_rewrite_sr);
  g_test_add_func ("/rtcp/rtt", test_rtt);
  g_test_add_func ("/rtcp/receiver-stats", test_receiver_stats);
  g_test_add_func ("/rtcp/jitter", test_jitter);
  g_test_add_func ("/rtcp/throttle", test_throttle);
  g_test_add_func ("/rtcp/pli-fir", test_pli_fir);
  g_test_add_func ("/rtcp/parse-feedback", test_parse_feedback);
  g_test_add_func ("/rtcp/attribution", test_attribution);
  g_test_add_func ("/rtcp/attribution-rtcp-port", test_attribution_rtcp_port);
  g_test_add_func ("/rtcp/viewer-counts", test_viewer_counts);
  g_test_add_func ("/rtcp/short-packets", test_short_packets);
  return g_test_run ();
}
